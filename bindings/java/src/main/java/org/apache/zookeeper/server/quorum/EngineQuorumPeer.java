package org.apache.zookeeper.server.quorum;

import java.io.IOException;
import javax.security.sasl.SaslException;
import org.apache.zookeeper.common.X509Exception;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.zksession.zookeeper.EngineLeaderZooKeeperServer;

/**
 * A quorum peer whose every role (leader, follower, observer) runs a ZooKeeper server that
 * tracks sessions on the zksession engine. ZooKeeper calls the factories below at each role
 * change; everything else (election, ZAB, the database) is ZooKeeper's own.
 *
 * <p>It lives in ZooKeeper's package because the {@code Follower}, {@code Observer},
 * {@code FollowerZooKeeperServer} and {@code ObserverZooKeeperServer} constructors are
 * package-private. Read-only mode cannot be served: ZooKeeper builds its read-only server
 * directly, with its own tracker, so the launcher refuses it.
 */
public class EngineQuorumPeer extends QuorumPeer {
    /**
     * @throws SaslException as ZooKeeper's constructor
     */
    public EngineQuorumPeer() throws SaslException {
        super();
    }

    @Override
    protected Follower makeFollower(FileTxnSnapLog logFactory) throws IOException {
        return new Follower(this, new EngineFollowerZooKeeperServer(logFactory, this, getZkDb()));
    }

    @Override
    protected Leader makeLeader(FileTxnSnapLog logFactory) throws IOException, X509Exception {
        return new Leader(this, new EngineLeaderZooKeeperServer(logFactory, this, getZkDb()));
    }

    @Override
    protected Observer makeObserver(FileTxnSnapLog logFactory) throws IOException {
        return new Observer(this, new EngineObserverZooKeeperServer(logFactory, this, getZkDb()));
    }
}
