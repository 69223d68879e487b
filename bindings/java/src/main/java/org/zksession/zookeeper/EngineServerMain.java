package org.zksession.zookeeper;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.metrics.MetricsProvider;
import org.apache.zookeeper.metrics.impl.MetricsProviderBootstrap;
import org.apache.zookeeper.server.ContainerManager;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ServerConfig;
import org.apache.zookeeper.server.ServerMetrics;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a standalone Apache ZooKeeper server from a standard {@code zoo.cfg} with the
 * zksession engine as its session tracker, in the foreground, until the process is told to
 * stop (SIGTERM or SIGINT), then shuts down cleanly.
 *
 * <p>Like {@code ZooKeeperServerMain}, without the admin (Jetty) server and the secure
 * client port. Usage: {@code EngineServerMain zoo.cfg}.
 */
public final class EngineServerMain {
    private static final Logger LOG = LoggerFactory.getLogger(EngineServerMain.class);

    private EngineServerMain() {
    }

    /**
     * @param args one argument: the path of a zoo.cfg
     * @throws Exception if the configuration is bad or the server cannot start
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: EngineServerMain zoo.cfg");
            System.exit(2);
        }
        ServerConfig config = new ServerConfig();
        config.parse(args[0]);
        if (config.getClientPortAddress() == null) {
            System.err.println("zoo.cfg must set clientPort (the secure client port is not supported)");
            System.exit(2);
        }
        MetricsProvider metrics = MetricsProviderBootstrap.startMetricsProvider(
            config.getMetricsProviderClassName(), config.getMetricsProviderConfiguration());
        ServerMetrics.metricsProviderInitialized(metrics);
        ProviderRegistry.initialize();

        FileTxnSnapLog txnLog = new FileTxnSnapLog(config.getDataLogDir(), config.getDataDir());
        EngineZooKeeperServer zk = new EngineZooKeeperServer(txnLog, config.getTickTime(),
            config.getMinSessionTimeout(), config.getMaxSessionTimeout(),
            config.getClientPortListenBacklog(), null, 1);
        txnLog.setServerStats(zk.serverStats());

        ServerCnxnFactory cnxn = ServerCnxnFactory.createFactory();
        cnxn.configure(config.getClientPortAddress(), config.getMaxClientCnxns(),
            config.getClientPortListenBacklog(), false);
        cnxn.startup(zk);
        ContainerManager containers = zk.newContainerManager(
            Integer.getInteger("znode.container.checkIntervalMs", (int) TimeUnit.MINUTES.toMillis(1)),
            Integer.getInteger("znode.container.maxPerMinute", 10000),
            Long.getLong("znode.container.maxNeverUsedIntervalMs", 0));
        containers.start();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("Stopping");
            containers.stop();
            cnxn.shutdown();
            zk.shutdown();
            try {
                txnLog.close();
            } catch (Exception e) {
                LOG.warn("Closing the transaction log failed", e);
            }
            metrics.stop();
            stopped.countDown();
        }, "EngineServerMain-stop"));

        LOG.info("Serving on {} with the zksession engine as session tracker (tickTime {} ms)",
            config.getClientPortAddress(), config.getTickTime());
        System.out.println("zksession: ZooKeeper serving on port " + cnxn.getLocalPort());
        System.out.flush();
        cnxn.join();
        stopped.await();
    }
}
