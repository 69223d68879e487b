package org.zksession.zookeeper;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiConsumer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.server.quorum.UpgradeableSessionTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zksession.Code;
import org.zksession.SessionEngine;
import org.zksession.SessionEntry;
import org.zksession.SessionException;
import org.zksession.Stats;

/**
 * The session tracker of a ZooKeeper follower or observer, on the zksession engine:
 * ZooKeeper's {@code LearnerSessionTracker} semantics.
 *
 * <h2>What it owns</h2>
 * <ul>
 * <li>This server's local sessions (when {@code localSessionsEnabled}), in the engine: they
 *     expire here and close without a transaction.</li>
 * <li>A remote entry in the engine for every global session this learner knows (and for
 *     sessions being upgraded): tracked with its timeout, never expired here. A touch is
 *     therefore one native call ({@link SessionEngine#learnerTouch}) that either refreshes a
 *     local session or records the touch for the leader.</li>
 * <li>The touch table (native): the global sessions touched since the last PING, with their
 *     timeouts, drained by {@link #getTouchSnapshot()} for the PING reply. It loses no touch:
 *     a touch racing a drain lands in this drain or the next (ZooKeeper's map swap can drop
 *     one).</li>
 * <li>The set of sessions being upgraded, until their createSession commits.</li>
 * </ul>
 * The committed global sessions are the database's table ({@code ZKDatabase}), held by
 * reference because a snapshot sync refills that same map; it stays the authority on which
 * sessions are global (the remote entries mirror it for the touch path; a touch of a global
 * session the mirror lacks is still recorded).
 *
 * <h2>Never</h2>
 * A learner never expires a global session: only the leader does, and a learner that
 * expired one would close it ensemble-wide. Global sessions are therefore only remote
 * entries here, which the engine never expires. Like the leader's tracker, it never frees
 * its engine while ZooKeeper may call it.
 */
public class EngineLearnerSessionTracker extends UpgradeableSessionTracker {
    private static final Logger LOG = LoggerFactory.getLogger(EngineLearnerSessionTracker.class);

    private final EngineCore core;
    private final SessionEngine engine;
    private final boolean ownsEngine;
    private final ConcurrentMap<Long, Integer> globalSessions;
    private final ConcurrentMap<Long, Integer> upgrading = new ConcurrentHashMap<>();
    private final int fallbackTimeout;

    /**
     * A learner tracker on a new engine.
     *
     * @param expirer ZooKeeper's expirer (the learner's server)
     * @param globalSessions the database's committed-session table, by reference
     * @param tickTime ZooKeeper's tickTime (ms)
     * @param serverId this server's id (myid, 0..254)
     * @param localSessionsEnabled whether new sessions are local
     */
    public EngineLearnerSessionTracker(SessionExpirer expirer, ConcurrentMap<Long, Integer> globalSessions,
        int tickTime, long serverId, boolean localSessionsEnabled) {
        this(EngineCore.open(tickTime, serverId, localSessionsEnabled, true, true), true, expirer,
            globalSessions, serverId, localSessionsEnabled);
    }

    /**
     * A learner tracker on an engine the caller opened and closes after {@link #shutdown()}.
     * The engine must allow local sessions and upgrades if {@code localSessionsEnabled}.
     *
     * @param engine the engine
     * @param expirer ZooKeeper's expirer
     * @param globalSessions the committed-session table, by reference
     * @param serverId this server's id
     * @param localSessionsEnabled whether new sessions are local
     */
    public EngineLearnerSessionTracker(SessionEngine engine, SessionExpirer expirer,
        ConcurrentMap<Long, Integer> globalSessions, long serverId, boolean localSessionsEnabled) {
        this(engine, false, expirer, globalSessions, serverId, localSessionsEnabled);
    }

    private EngineLearnerSessionTracker(SessionEngine engine, boolean ownsEngine, SessionExpirer expirer,
        ConcurrentMap<Long, Integer> globalSessions, long serverId, boolean localSessionsEnabled) {
        this.core = new EngineCore(engine, expirer);
        this.engine = engine;
        this.ownsEngine = ownsEngine;
        this.globalSessions = globalSessions;
        this.localSessionsEnabled = localSessionsEnabled;
        this.fallbackTimeout = 2 * engine.tickMs();
        int known = 0;
        for (Map.Entry<Long, Integer> e : globalSessions.entrySet()) {
            if (addRemote(e.getKey(), e.getValue())) {
                known++;
            }
        }
        LOG.info("zksession engine tracks the sessions of learner {}: {} global sessions known, "
            + "local sessions {}", serverId, known, localSessionsEnabled ? "on" : "off");
    }

    /** @return the engine behind this tracker */
    public SessionEngine engine() {
        return engine;
    }

    /** Starts delivering expired local sessions to the expirer. Idempotent. */
    @Override
    public void start() {
        core.start("EngineLearnerSessionTracker-expiry");
    }

    /** A new local session, or (local sessions off) a fresh id that is tracked nowhere. */
    @Override
    public long createSession(int sessionTimeout) {
        if (localSessionsEnabled) {
            return engine.createId(sessionTimeout, true);
        }
        return engine.nextId();
    }

    private boolean addRemote(long id, int timeout) {
        try {
            return engine.addRemote(id, timeout);
        } catch (SessionException e) {
            LOG.warn("Not tracking session 0x{} with timeout {}", Long.toHexString(id), timeout);
            return false;
        }
    }

    private int kindAny(long id) {
        int k = engine.kindAny(id);
        return k < 0 ? k : k & ~SessionEngine.KIND_CLOSING;
    }

    /** A learner never tracks a global session: it returns false, as ZooKeeper's does. */
    @Override
    public boolean trackSession(long id, int to) {
        return false;
    }

    /** A createSession committed: the session is global; its first touch goes to the leader. */
    @Override
    public synchronized boolean commitSession(long id, int to) {
        boolean added = globalSessions.put(id, to) == null;
        if (kindAny(id) == SessionEngine.KIND_LOCAL) {
            // Committed without an upgrade here: it is global from now on, never expired here.
            engine.upgradeToRemote(id);
        }
        addRemote(id, to);
        if (localSessionsEnabled) {
            finishedUpgrading(id);
        }
        engine.recordTouch(id, to);
        return added;
    }

    /**
     * A local session is refreshed here; a global or upgrading one is recorded for the next
     * PING. With local sessions enabled, an id that is none of these fails (the request is
     * dropped); with them disabled every id is taken as global, as in ZooKeeper.
     */
    @Override
    public boolean touchSession(long sessionId, int sessionTimeout) {
        int r = engine.learnerTouch(sessionId, sessionTimeout);
        if (r >= 0) {
            return true; // a local session refreshed, or a global one recorded
        }
        if (r == Code.UNKNOWN_SESSION.intValue() && (!localSessionsEnabled
            || globalSessions.containsKey(sessionId) || upgrading.containsKey(sessionId))) {
            engine.recordTouch(sessionId, sessionTimeout);
            return true;
        }
        return false; // a closing local session, or unknown with local sessions on
    }

    /**
     * Takes the touches recorded since the last call (at most one per session, the latest
     * timeout), for the PING reply to the leader. A touch recorded concurrently is either in
     * the result or kept for the next call.
     *
     * @return session id to timeout
     */
    public Map<Long, Integer> getTouchSnapshot() {
        long[] pairs = engine.drainTouched();
        Map<Long, Integer> out = new HashMap<>(pairs.length);
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            out.put(pairs[i], (int) pairs[i + 1]);
        }
        return out;
    }

    @Override
    public void setSessionClosing(long sessionId) {
        // Local sessions only, as in ZooKeeper: a learner never closes a global session itself.
        if (localSessionsEnabled && kindAny(sessionId) == SessionEngine.KIND_LOCAL) {
            try {
                engine.setClosing(sessionId);
            } catch (SessionException e) {
                // Not a local session: a no-op, as in ZooKeeper.
            }
        }
    }

    @Override
    public void removeSession(long sessionId) {
        engine.remove(sessionId); // drops its touch-table entry too
        globalSessions.remove(sessionId);
        upgrading.remove(sessionId);
    }

    @Override
    public boolean isTrackingSession(long sessionId) {
        return isLocalSession(sessionId) || isGlobalSession(sessionId);
    }

    /** @return whether it is one of this server's local sessions, closing included */
    @Override
    public boolean isLocalSession(long sessionId) {
        return localSessionsEnabled && kindAny(sessionId) == SessionEngine.KIND_LOCAL;
    }

    /** @return whether it is a committed global session */
    @Override
    public boolean isGlobalSession(long sessionId) {
        return globalSessions.containsKey(sessionId);
    }

    @Override
    public boolean isLocalSessionsEnabled() {
        return localSessionsEnabled;
    }

    @Override
    public boolean isUpgradingSession(long sessionId) {
        return upgrading.containsKey(sessionId);
    }

    @Override
    public void finishedUpgrading(long sessionId) {
        upgrading.remove(sessionId);
    }

    /**
     * Takes a live local session out of local expiry: it is upgrading until its createSession
     * commits, and its touches go to the leader meanwhile. ZooKeeper calls this holding this
     * tracker's lock, right after {@link #isLocalSession} said true.
     *
     * @return the session's timeout; -1 if it is not a local session
     */
    @Override
    public int upgradeSession(long sessionId) {
        if (!isLocalSession(sessionId)) {
            return -1;
        }
        // One atomic step: from now on it never expires here; its touches are recorded.
        int to = engine.upgradeToRemote(sessionId);
        if (to < 0) {
            LOG.info("Session 0x{} expired while being upgraded", Long.toHexString(sessionId));
            return fallbackTimeout;
        }
        upgrading.put(sessionId, to);
        LOG.info("Upgrading session 0x{}", Long.toHexString(sessionId));
        return to;
    }

    @Override
    public void checkSession(long sessionId, Object owner) throws KeeperException.SessionExpiredException,
        KeeperException.SessionMovedException {
        if (!localSessionsEnabled) {
            return;
        }
        int r = core.check(sessionId, owner, false);
        if (r == 0) {
            return;
        }
        if (r == Code.UNKNOWN_SESSION.intValue()) {
            if (globalSessions.containsKey(sessionId)) {
                return;
            }
            throw new KeeperException.SessionExpiredException();
        }
        if (r == Code.SESSION_MOVED.intValue()) {
            throw new KeeperException.SessionMovedException();
        }
        throw new KeeperException.SessionExpiredException();
    }

    @Override
    public void setOwner(long id, Object owner) throws KeeperException.SessionExpiredException {
        if (!localSessionsEnabled) {
            return;
        }
        try {
            core.setOwner(id, owner);
        } catch (SessionException e) {
            if (!globalSessions.containsKey(id)) {
                throw new KeeperException.SessionExpiredException();
            }
        }
    }

    /** {@code Local } buckets (local sessions on), then {@code Global Sessions(n):}, as ZooKeeper prints. */
    @Override
    public void dumpSessions(PrintWriter pwriter) {
        if (localSessionsEnabled) {
            pwriter.print("Local ");
            core.printBuckets(pwriter, engine.expiryMap(SessionEngine.KIND_LOCAL));
        }
        pwriter.print("Global Sessions(");
        pwriter.print(globalSessions.size());
        pwriter.println("):");
        for (long id : new TreeSet<>(globalSessions.keySet())) {
            pwriter.print("0x");
            pwriter.print(Long.toHexString(id));
            pwriter.print("\t");
            pwriter.print(globalSessions.get(id));
            pwriter.println("ms");
        }
    }

    /** A learner expires no global session: empty, as in ZooKeeper. */
    @Override
    public Map<Long, Set<Long>> getSessionExpiryMap() {
        return new HashMap<>();
    }

    /** @return local sessions until they are removed (closing ones included), as ZooKeeper counts */
    @Override
    public long getLocalSessionCount() {
        if (!localSessionsEnabled) {
            return 0;
        }
        Stats s = engine.stats();
        return s.local() + s.closingLocal();
    }

    @Override
    public Set<Long> globalSessions() {
        return globalSessions.keySet();
    }

    @Override
    public Set<Long> localSessions() {
        Set<Long> out = new HashSet<>();
        if (localSessionsEnabled) {
            for (SessionEntry e : engine.snapshot()) {
                if (e.local()) {
                    out.add(e.id());
                }
            }
        }
        return out;
    }

    /** @return how many touches wait for the next PING */
    public long touchTableSize() {
        return engine.stats().touchTable();
    }

    /**
     * Hands the engine's figures to {@code mntr} (ZooKeeper prefixes each key with {@code zk_}).
     *
     * @param out receives key and value pairs
     */
    public void dumpMonitorValues(BiConsumer<String, Object> out) {
        Stats s = engine.stats();
        out.accept("zks_engine_role", "learner");
        out.accept("zks_global_sessions", globalSessions.size());
        out.accept("zks_remote_sessions", s.remote());
        out.accept("zks_local_sessions", s.local());
        out.accept("zks_closing_sessions", s.closing());
        out.accept("zks_closing_local_sessions", s.closingLocal());
        out.accept("zks_upgrading_sessions", upgrading.size());
        out.accept("zks_touch_table", s.touchTable());
        out.accept("zks_creates", s.creates());
        out.accept("zks_touches", s.touches());
        out.accept("zks_expirations", s.expirations());
    }

    /** Stops the engine's workers and expiry delivery; every other call stays valid. Idempotent. */
    @Override
    public void shutdown() {
        core.retire();
    }

    /** {@link #shutdown()}, then frees an engine this tracker opened. Only when nothing calls it. */
    public void close() {
        shutdown();
        if (ownsEngine) {
            engine.close();
        }
    }
}
