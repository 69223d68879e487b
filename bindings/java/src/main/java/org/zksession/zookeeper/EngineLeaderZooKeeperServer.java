package org.zksession.zookeeper;

import java.io.IOException;
import java.util.function.BiConsumer;
import org.apache.zookeeper.server.ZKDatabase;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.apache.zookeeper.server.quorum.LeaderZooKeeperServer;
import org.apache.zookeeper.server.quorum.QuorumPeer;

/**
 * A quorum leader's ZooKeeper server whose sessions are tracked by the zksession engine
 * ({@link EngineLeaderSessionTracker}). Each term of leadership builds a new server, and so
 * a new tracker that restores the database's sessions with fresh deadlines. Everything else
 * is ZooKeeper's own.
 */
public class EngineLeaderZooKeeperServer extends LeaderZooKeeperServer {
    /**
     * @param logFactory the peer's snapshot and transaction log
     * @param self the quorum peer
     * @param zkDb the peer's database
     * @throws IOException as ZooKeeper's constructor
     */
    public EngineLeaderZooKeeperServer(FileTxnSnapLog logFactory, QuorumPeer self, ZKDatabase zkDb)
        throws IOException {
        super(logFactory, self, zkDb);
    }

    @Override
    public void createSessionTracker() {
        sessionTracker = new EngineLeaderSessionTracker(this, getZKDatabase().getSessionWithTimeOuts(),
            tickTime, self.getId(), self.areLocalSessionsEnabled());
    }

    /** ZooKeeper's monitor values, then the engine's ({@code zks_} keys). */
    @Override
    public void dumpMonitorValues(BiConsumer<String, Object> response) {
        super.dumpMonitorValues(response);
        if (sessionTracker instanceof EngineLeaderSessionTracker t) {
            t.dumpMonitorValues(response);
        }
    }
}
