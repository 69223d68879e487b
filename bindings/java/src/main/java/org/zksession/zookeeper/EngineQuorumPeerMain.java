package org.zksession.zookeeper;

import java.io.IOException;
import javax.security.sasl.SaslException;
import org.apache.zookeeper.server.DatadirCleanupManager;
import org.apache.zookeeper.server.ExitCode;
import org.apache.zookeeper.server.admin.AdminServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.apache.zookeeper.server.quorum.EngineQuorumPeer;
import org.apache.zookeeper.server.quorum.QuorumPeer;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;
import org.apache.zookeeper.util.ServiceUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs what a standard {@code zoo.cfg} describes, as ZooKeeper's {@code QuorumPeerMain} does,
 * with the zksession engine as the session tracker of every server: a standalone server
 * ({@link EngineServerMain}) or a quorum peer ({@link EngineQuorumPeer}) whose leader,
 * follower and observer servers all track sessions on the engine.
 *
 * <p>It never runs ZooKeeper's own tracker: a configuration the engine cannot serve (read-only
 * mode) is refused with a message and exit code 2, and a standalone configuration goes to the
 * engine's standalone server, never to ZooKeeper's.
 */
public class EngineQuorumPeerMain extends QuorumPeerMain {
    private static final Logger LOG = LoggerFactory.getLogger(EngineQuorumPeerMain.class);

    /** Builds the launcher; {@link #main} is the usual entry point. */
    public EngineQuorumPeerMain() {
        super();
    }

    /**
     * @param args one argument: the path of a zoo.cfg
     */
    public static void main(String[] args) {
        int code = ExitCode.EXECUTION_FINISHED.getValue();
        try {
            new EngineQuorumPeerMain().initializeAndRun(args);
        } catch (IllegalArgumentException e) {
            LOG.error("Invalid arguments, exiting abnormally", e);
            System.err.println("usage: EngineQuorumPeerMain zoo.cfg (" + e.getMessage() + ")");
            code = ExitCode.INVALID_INVOCATION.getValue();
        } catch (QuorumPeerConfig.ConfigException e) {
            LOG.error("Invalid configuration, exiting abnormally", e);
            System.err.println("zksession: invalid configuration: " + e.getMessage());
            code = ExitCode.INVALID_INVOCATION.getValue();
        } catch (FileTxnSnapLog.DatadirException e) {
            LOG.error("Unable to access the data directory, exiting abnormally", e);
            System.err.println("zksession: unable to access the data directory: " + e.getMessage());
            code = ExitCode.UNABLE_TO_ACCESS_DATADIR.getValue();
        } catch (AdminServer.AdminServerException e) {
            LOG.error("Unable to start the admin server, exiting abnormally", e);
            System.err.println("zksession: unable to start the admin server: " + e.getMessage());
            code = ExitCode.ERROR_STARTING_ADMIN_SERVER.getValue();
        } catch (Exception e) {
            LOG.error("Unexpected exception, exiting abnormally", e);
            code = ExitCode.UNEXPECTED_ERROR.getValue();
        }
        LOG.info("Exiting with code {}", code);
        ServiceUtils.requestSystemExit(code);
    }

    /**
     * Why the engine cannot run a configuration, or null if it can. Read-only mode is
     * ZooKeeper's {@code readonlymode.enabled} system property (in a zoo.cfg the key becomes
     * {@code zookeeper.readonlymode.enabled}, which is refused too, being a clear intent).
     *
     * @param config a parsed configuration
     * @return the reason, or null
     */
    static String unsupported(QuorumPeerConfig config) {
        if (Boolean.getBoolean("readonlymode.enabled") || Boolean.getBoolean("zookeeper.readonlymode.enabled")) {
            return "read-only mode (readonlymode.enabled=true) is not supported: ZooKeeper builds its "
                + "read-only server with its own session tracker; remove the setting";
        }
        return null;
    }

    /**
     * Parses the configuration, refuses what the engine cannot serve, then runs a standalone
     * server or a quorum peer on the engine. Returns when the server stops.
     */
    @Override
    protected void initializeAndRun(String[] args)
        throws QuorumPeerConfig.ConfigException, IOException, AdminServer.AdminServerException {
        if (args.length != 1) {
            throw new IllegalArgumentException("expected one argument, the path of a zoo.cfg");
        }
        QuorumPeerConfig config = new QuorumPeerConfig();
        config.parse(args[0]);
        String reason = unsupported(config);
        if (reason != null) {
            throw new QuorumPeerConfig.ConfigException(reason);
        }
        if (!config.isDistributed()) {
            LOG.info("Standalone configuration: running the standalone server on the engine");
            try {
                EngineServerMain.main(args);
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("the standalone server failed", e);
            }
            return;
        }
        DatadirCleanupManager purge = new DatadirCleanupManager(config.getDataDir(), config.getDataLogDir(),
            config.getSnapRetainCount(), config.getPurgeInterval());
        purge.start();
        LOG.info("Quorum peer {} with the zksession engine as the session tracker of every role "
            + "(local sessions {}, upgrading {})", config.getServerId(),
            config.areLocalSessionsEnabled() ? "on" : "off",
            config.isLocalSessionsUpgradingEnabled() ? "on" : "off");
        System.out.println("zksession: quorum peer " + config.getServerId() + " starting on the engine");
        System.out.flush();
        runFromConfig(config);
    }

    /** @return a peer whose leader, follower and observer servers track sessions on the engine */
    @Override
    protected QuorumPeer getQuorumPeer() throws SaslException {
        return new EngineQuorumPeer();
    }
}
