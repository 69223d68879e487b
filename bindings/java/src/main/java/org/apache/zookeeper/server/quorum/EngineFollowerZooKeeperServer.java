package org.apache.zookeeper.server.quorum;

import java.io.IOException;
import java.util.Collections;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.zookeeper.server.ZKDatabase;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.zksession.zookeeper.EngineLearnerSessionTracker;

/**
 * A follower's ZooKeeper server whose sessions are tracked by the zksession engine
 * ({@link EngineLearnerSessionTracker}); its PING replies carry the engine tracker's touch
 * table.
 *
 * <p>It lives in ZooKeeper's package because {@code FollowerZooKeeperServer}'s constructor is
 * package-private (ZooKeeper 3.8 offers no other way to make one; reflection on private
 * constructors would be worse). Nothing else here uses package access.
 */
public class EngineFollowerZooKeeperServer extends FollowerZooKeeperServer {
    EngineFollowerZooKeeperServer(FileTxnSnapLog logFactory, QuorumPeer self, ZKDatabase zkDb) throws IOException {
        super(logFactory, self, zkDb);
    }

    @Override
    public void createSessionTracker() {
        sessionTracker = new EngineLearnerSessionTracker(this, getZKDatabase().getSessionWithTimeOuts(),
            tickTime, self.getId(), self.areLocalSessionsEnabled());
    }

    @Override
    protected Map<Long, Integer> getTouchSnapshot() {
        if (sessionTracker instanceof EngineLearnerSessionTracker t) {
            return t.getTouchSnapshot();
        }
        return Collections.emptyMap();
    }

    /** ZooKeeper's monitor values, then the engine's ({@code zks_} keys). */
    @Override
    public void dumpMonitorValues(BiConsumer<String, Object> response) {
        super.dumpMonitorValues(response);
        if (sessionTracker instanceof EngineLearnerSessionTracker t) {
            t.dumpMonitorValues(response);
        }
    }
}
