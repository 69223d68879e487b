package org.zksession.zookeeper;

import org.apache.zookeeper.server.ContainerManager;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;

/**
 * A standalone Apache ZooKeeper server whose session tracking is done by the zksession
 * engine: {@link #createSessionTracker()} builds an {@link EngineSessionTracker} over the
 * sessions loaded from the snapshot and transaction log, and {@link #startSessionTracker()}
 * starts its expiry thread. Everything else is ZooKeeper's own.
 */
public class EngineZooKeeperServer extends ZooKeeperServer {
    private final int serverId;

    /**
     * @param txnLog the snapshot and transaction log of the data directory
     * @param tickTime ZooKeeper's tickTime (ms)
     * @param minSessionTimeout the minimum session timeout (-1 for 2 ticks)
     * @param maxSessionTimeout the maximum session timeout (-1 for 20 ticks)
     * @param clientPortListenBacklog the listen backlog (-1 for the default)
     * @param initialConfig the configuration text, or null
     * @param serverId server id for session ids (standalone ZooKeeper uses 1)
     */
    public EngineZooKeeperServer(FileTxnSnapLog txnLog, int tickTime, int minSessionTimeout,
        int maxSessionTimeout, int clientPortListenBacklog, String initialConfig, int serverId) {
        super(txnLog, tickTime, minSessionTimeout, maxSessionTimeout, clientPortListenBacklog, null,
            initialConfig);
        this.serverId = serverId;
    }

    @Override
    protected void createSessionTracker() {
        sessionTracker = new EngineSessionTracker(this, getZKDatabase().getSessionWithTimeOuts(),
            tickTime, serverId, false, false);
    }

    @Override
    protected void startSessionTracker() {
        ((EngineSessionTracker) sessionTracker).start();
    }

    /**
     * Makes the container-node manager ZooKeeperServerMain runs (call after startup).
     *
     * @param checkIntervalMs how often to look for empty containers
     * @param maxPerMinute most containers deleted per minute
     * @param maxNeverUsedIntervalMs how long a never-used container lives (0 = forever)
     * @return the manager, not yet started
     */
    public ContainerManager newContainerManager(int checkIntervalMs, int maxPerMinute,
        long maxNeverUsedIntervalMs) {
        return new ContainerManager(getZKDatabase(), firstProcessor, checkIntervalMs, maxPerMinute,
            maxNeverUsedIntervalMs);
    }
}
