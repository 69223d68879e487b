package org.zksession.zookeeper;

import java.io.PrintWriter;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
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
 * The session tracker of a ZooKeeper quorum leader, on the zksession engine: ZooKeeper's
 * {@code LeaderSessionTracker} semantics with one engine holding both kinds of session.
 *
 * <h2>What it owns</h2>
 * <ul>
 * <li>Every global session of the ensemble, restored from the database's committed-session
 *     table with a fresh deadline (now + timeout) each time this server starts leading, and
 *     every session created or tracked since. Only the leader expires global sessions.</li>
 * <li>The leader's own local sessions (when {@code localSessionsEnabled}); they expire here
 *     and are closed without a transaction.</li>
 * <li>The set of sessions being upgraded (between {@link #upgradeSession} and the commit of
 *     their createSession transaction).</li>
 * </ul>
 * The committed-session table itself is ZooKeeper's map ({@code ZKDatabase}); this tracker
 * adds on commit and removes on close, as {@code SessionTrackerImpl} does.
 *
 * <h2>Rules kept from ZooKeeper</h2>
 * <ul>
 * <li>{@link #checkSession}: an id this leader does not know is accepted when local sessions
 *     are enabled and the id was made by another server (its top byte is not this server's
 *     id): it is presumed to be that server's local session.</li>
 * <li>{@link #commitSession} makes a session global without refreshing its deadline.</li>
 * <li>{@link #isLocalSession} and {@link #isGlobalSession} answer for closing sessions too, so
 *     the close of an expired local session is marked local and needs no transaction.</li>
 * </ul>
 *
 * <h2>Never</h2>
 * It never frees its engine while ZooKeeper may call it: {@link #shutdown()} stops expiry
 * delivery and leaves every other call valid; the engine is freed by {@link #close()} (tests)
 * or when the tracker becomes unreachable.
 */
public class EngineLeaderSessionTracker extends UpgradeableSessionTracker {
    private static final Logger LOG = LoggerFactory.getLogger(EngineLeaderSessionTracker.class);

    private final EngineCore core;
    private final SessionEngine engine;
    private final boolean ownsEngine;
    private final ConcurrentMap<Long, Integer> sessionsWithTimeout;
    private final long serverId;
    private final int fallbackTimeout;
    private final ConcurrentMap<Long, Integer> upgrading = new ConcurrentHashMap<>();

    /**
     * A leader tracker on a new engine.
     *
     * @param expirer ZooKeeper's expirer (the leader's server)
     * @param sessionsWithTimeout the database's committed-session table; every entry is tracked
     * @param tickTime ZooKeeper's tickTime (ms)
     * @param serverId this server's id (myid, 0..254)
     * @param localSessionsEnabled whether new sessions are local
     */
    public EngineLeaderSessionTracker(SessionExpirer expirer, ConcurrentMap<Long, Integer> sessionsWithTimeout,
        int tickTime, long serverId, boolean localSessionsEnabled) {
        // Upgrades are gated by ZooKeeper itself (checkUpgradeSession), so the engine allows them.
        this(EngineCore.open(tickTime, serverId, localSessionsEnabled, true, true), true, expirer,
            sessionsWithTimeout, serverId, localSessionsEnabled);
    }

    /**
     * A leader tracker on an engine the caller opened (for example on a manual clock) and
     * closes after {@link #shutdown()}. The engine must allow local sessions and upgrades if
     * {@code localSessionsEnabled}, and must not clamp timeouts.
     *
     * @param engine the engine
     * @param expirer ZooKeeper's expirer
     * @param sessionsWithTimeout the committed-session table; every entry is tracked
     * @param serverId this server's id
     * @param localSessionsEnabled whether new sessions are local
     */
    public EngineLeaderSessionTracker(SessionEngine engine, SessionExpirer expirer,
        ConcurrentMap<Long, Integer> sessionsWithTimeout, long serverId, boolean localSessionsEnabled) {
        this(engine, false, expirer, sessionsWithTimeout, serverId, localSessionsEnabled);
    }

    private EngineLeaderSessionTracker(SessionEngine engine, boolean ownsEngine, SessionExpirer expirer,
        ConcurrentMap<Long, Integer> sessionsWithTimeout, long serverId, boolean localSessionsEnabled) {
        this.core = new EngineCore(engine, expirer);
        this.engine = engine;
        this.ownsEngine = ownsEngine;
        this.sessionsWithTimeout = sessionsWithTimeout;
        this.serverId = serverId;
        this.localSessionsEnabled = localSessionsEnabled;
        this.fallbackTimeout = 2 * engine.tickMs();
        int restored = core.restore(sessionsWithTimeout);
        LOG.info("zksession engine tracks the sessions of leader {}: {} global sessions restored, "
            + "local sessions {}", serverId, restored, localSessionsEnabled ? "on" : "off");
    }

    /** @return the engine behind this tracker */
    public SessionEngine engine() {
        return engine;
    }

    /** Starts delivering expired sessions to the expirer. Idempotent. */
    @Override
    public void start() {
        core.start("EngineLeaderSessionTracker-expiry");
    }

    @Override
    public long createSession(int sessionTimeout) {
        return engine.createId(sessionTimeout, localSessionsEnabled);
    }

    /** Tracks a global session (a createSession being prepared); a closing one is not revived. */
    @Override
    public boolean trackSession(long id, int to) {
        try {
            return engine.add(id, to, false);
        } catch (SessionException e) {
            return false;
        }
    }

    /**
     * The createSession transaction of {@code id} committed: it enters the committed table and
     * becomes global (a local copy is flipped in place, its deadline untouched).
     */
    @Override
    public synchronized boolean commitSession(long id, int to) {
        boolean added = sessionsWithTimeout.put(id, to) == null;
        if (added) {
            LOG.info("Committing global session 0x{}", Long.toHexString(id));
        }
        // Unknown (never tracked here) or closing: nothing to flip; its close removes it.
        engine.makeGlobal(id);
        if (localSessionsEnabled) {
            finishedUpgrading(id);
        }
        return added;
    }

    @Override
    public boolean touchSession(long sessionId, int sessionTimeout) {
        return engine.tryTouch(sessionId, sessionTimeout) == 0;
    }

    @Override
    public void setSessionClosing(long sessionId) {
        try {
            engine.setClosing(sessionId);
        } catch (SessionException e) {
            // Unknown: a no-op, as in ZooKeeper.
        }
    }

    @Override
    public void removeSession(long sessionId) {
        sessionsWithTimeout.remove(sessionId);
        engine.remove(sessionId);
        upgrading.remove(sessionId);
    }

    @Override
    public boolean isTrackingSession(long sessionId) {
        return engine.isTracking(sessionId);
    }

    /** The kind of a tracked session, closing ones included. */
    enum Kind { NONE, LOCAL, GLOBAL }

    Kind kindOf(long id) {
        int k = engine.kindAny(id);
        if (k < 0) {
            return Kind.NONE;
        }
        return (k & ~SessionEngine.KIND_CLOSING) == SessionEngine.KIND_LOCAL ? Kind.LOCAL : Kind.GLOBAL;
    }

    /** @return whether {@code sessionId} is a local session of this leader, closing included */
    @Override
    public boolean isLocalSession(long sessionId) {
        return localSessionsEnabled && kindOf(sessionId) == Kind.LOCAL;
    }

    /** @return whether {@code sessionId} is a tracked global session, closing included */
    @Override
    public boolean isGlobalSession(long sessionId) {
        return kindOf(sessionId) == Kind.GLOBAL;
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
     * Upgrades a live local session in place: it is global (and expires as one) from now on,
     * and is upgrading until its createSession commits. ZooKeeper calls this while holding
     * this tracker's lock, right after {@link #isLocalSession} said true.
     *
     * @return the session's timeout; -1 if it is not a local session
     */
    @Override
    public int upgradeSession(long sessionId) {
        if (!localSessionsEnabled || kindOf(sessionId) != Kind.LOCAL) {
            return -1;
        }
        int to;
        try {
            to = engine.upgrade(sessionId);
        } catch (SessionException e) {
            // It expired between the kind check and now: its close is already queued, and the
            // createSession this precedes will fail on it. Give that request a valid timeout.
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
        int r = core.check(sessionId, owner, false);
        if (r == 0) {
            return;
        }
        if (r == Code.UNKNOWN_SESSION.intValue()) {
            if (!localSessionsEnabled || (sessionId >> 56) == serverId) {
                throw new KeeperException.SessionExpiredException();
            }
            // Presumed a local session of the server that made the id.
            return;
        }
        if (r == Code.SESSION_MOVED.intValue()) {
            throw new KeeperException.SessionMovedException();
        }
        throw new KeeperException.SessionExpiredException();
    }

    @Override
    public void checkGlobalSession(long sessionId, Object owner)
        throws KeeperException.SessionExpiredException, KeeperException.SessionMovedException {
        int r = core.check(sessionId, owner, true);
        if (r == 0) {
            return;
        }
        if (r == Code.SESSION_MOVED.intValue()) {
            throw new KeeperException.SessionMovedException();
        }
        throw new KeeperException.SessionExpiredException();
    }

    @Override
    public void setOwner(long id, Object owner) throws KeeperException.SessionExpiredException {
        try {
            core.setOwner(id, owner);
        } catch (SessionException e) {
            throw new KeeperException.SessionExpiredException();
        }
    }

    /**
     * Prints the sessions by due time in ZooKeeper's format; with local sessions enabled,
     * {@code Local } buckets then {@code Global } buckets, as LeaderSessionTracker prints.
     */
    @Override
    public void dumpSessions(PrintWriter pwriter) {
        if (!localSessionsEnabled) {
            core.printBuckets(pwriter, engine.expiryMap());
            return;
        }
        pwriter.print("Local ");
        core.printBuckets(pwriter, engine.expiryMap(SessionEngine.KIND_LOCAL));
        pwriter.print("Global ");
        core.printBuckets(pwriter, engine.expiryMap(SessionEngine.KIND_GLOBAL));
    }

    @Override
    public Map<Long, Set<Long>> getSessionExpiryMap() {
        return core.toZooKeeperTime(engine.expiryMap());
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
        return sessionsOfKind(false);
    }

    @Override
    public Set<Long> localSessions() {
        return localSessionsEnabled ? sessionsOfKind(true) : new HashSet<>();
    }

    private Set<Long> sessionsOfKind(boolean local) {
        Set<Long> out = new HashSet<>();
        for (SessionEntry e : engine.snapshot()) {
            if (e.local() == local) {
                out.add(e.id());
            }
        }
        return out;
    }

    /**
     * Hands the engine's figures to {@code mntr} (ZooKeeper prefixes each key with {@code zk_}).
     *
     * @param out receives key and value pairs
     */
    public void dumpMonitorValues(BiConsumer<String, Object> out) {
        Stats s = engine.stats();
        out.accept("zks_engine_role", "leader");
        out.accept("zks_global_sessions", s.global());
        out.accept("zks_local_sessions", s.local());
        out.accept("zks_closing_sessions", s.closing());
        out.accept("zks_closing_local_sessions", s.closingLocal());
        out.accept("zks_upgrading_sessions", upgrading.size());
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
