package org.zksession.zookeeper;

import java.io.PrintWriter;
import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.server.SessionTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zksession.Code;
import org.zksession.SessionEngine;
import org.zksession.SessionEntry;
import org.zksession.SessionException;

/**
 * Apache ZooKeeper's {@link SessionTracker} (3.8 interface) backed by the zksession engine:
 * a drop-in replacement for {@code SessionTrackerImpl}.
 *
 * <h2>Who keeps what</h2>
 * <ul>
 * <li>The engine keeps every tracked session: deadline, timeout, closing flag, kind (local
 *     or global) and owner. Liveness checks and owner comparisons happen natively, under
 *     the session's shard lock, so {@code checkSession} is atomic as in ZooKeeper.</li>
 * <li>Owners are Java objects compared by identity; {@link OwnerTokens} maps each to a
 *     small number the engine stores. A null owner means "no owner", as in
 *     SessionTrackerImpl: ZooKeeper sets it when it prepares a createSession, and the first
 *     check by a real owner then claims the session. The engine stores null as token 0 and
 *     a check that finds 0 claims the session under a lock (this rare path, an owner reset
 *     to null, is the only one not decided inside the engine).</li>
 * <li>The committed-session map ({@code sessionsWithTimeout}, ZooKeeper's persisted session
 *     table from {@code ZKDatabase}) stays a Java map, maintained as SessionTrackerImpl does:
 *     {@link #commitSession} adds, {@link #removeSession} removes. Sessions found in it at
 *     construction (loaded from a snapshot) are tracked with a fresh timeout.</li>
 * </ul>
 *
 * <h2>Expiry</h2>
 * The engine's workers decide expiry at tick boundaries and mark the session closing in
 * the same step. A Java thread started by {@link #start()} pulls expired sessions with
 * {@link SessionEngine#pollExpired} and hands each to ZooKeeper's {@link SessionExpirer}, which
 * submits the closeSession request; applying it calls {@link #removeSession}.
 *
 * <h2>Differences from SessionTrackerImpl</h2>
 * <ul>
 * <li>{@link #trackSession} of a closing session fails (returns false) instead of re-queuing
 *     it, so an expired session is never expired twice (spec 12.1 point 2).</li>
 * <li>Touching at the moment of expiry is decided atomically: a touch either lands before the
 *     expiry decision (and the session lives on) or fails.</li>
 * <li>Timeouts below one tick are raised to one tick (ZooKeeper's own negotiation never
 *     produces them).</li>
 * </ul>
 *
 * <h2>Local sessions</h2>
 * With {@code localSessionsEnabled} new sessions are local; {@link #commitSession} and
 * {@link #trackSession} make a session global, {@link #upgradeSession} upgrades one (as
 * ZooKeeper's {@code UpgradeableSessionTracker} does) when upgrading is enabled. The
 * standalone server never enables them.
 */
public class EngineSessionTracker implements SessionTracker {
    private static final Logger LOG = LoggerFactory.getLogger(EngineSessionTracker.class);

    private final EngineCore core;
    private final SessionEngine engine;
    private final boolean ownsEngine;
    private final ConcurrentMap<Long, Integer> sessionsWithTimeout;
    private final boolean localSessionsEnabled;

    /**
     * A tracker on a new engine, as {@code SessionTrackerImpl(expirer, sessionsWithTimeout,
     * tickTime, serverId, listener)} builds one.
     *
     * @param expirer ZooKeeper's expirer (the server)
     * @param sessionsWithTimeout ZooKeeper's committed-session table; every entry is tracked
     * @param tickTime ZooKeeper's tickTime (ms)
     * @param serverId server id for new session ids (0..254)
     * @param localSessionsEnabled whether new sessions are local
     * @param localSessionsUpgradingEnabled whether local sessions may be upgraded
     */
    public EngineSessionTracker(SessionExpirer expirer, ConcurrentMap<Long, Integer> sessionsWithTimeout,
        int tickTime, long serverId, boolean localSessionsEnabled, boolean localSessionsUpgradingEnabled) {
        this(EngineCore.open(tickTime, serverId, localSessionsEnabled, localSessionsUpgradingEnabled, false),
            true, expirer, sessionsWithTimeout, localSessionsEnabled);
    }

    /**
     * A tracker on an engine the caller opened (for example on a manual clock). The engine
     * must not clamp timeouts (minimum = tick, maximum = {@code Integer.MAX_VALUE}): ZooKeeper
     * negotiates them itself. The caller closes the engine, after {@link #shutdown()}.
     *
     * @param engine the engine
     * @param expirer ZooKeeper's expirer
     * @param sessionsWithTimeout ZooKeeper's committed-session table; every entry is tracked
     * @param localSessionsEnabled whether new sessions are local (the engine must agree)
     */
    public EngineSessionTracker(SessionEngine engine, SessionExpirer expirer,
        ConcurrentMap<Long, Integer> sessionsWithTimeout, boolean localSessionsEnabled) {
        this(engine, false, expirer, sessionsWithTimeout, localSessionsEnabled);
    }

    private EngineSessionTracker(SessionEngine engine, boolean ownsEngine, SessionExpirer expirer,
        ConcurrentMap<Long, Integer> sessionsWithTimeout, boolean localSessionsEnabled) {
        this.core = new EngineCore(engine, expirer);
        this.engine = engine;
        this.ownsEngine = ownsEngine;
        this.sessionsWithTimeout = sessionsWithTimeout;
        this.localSessionsEnabled = localSessionsEnabled;
        LOG.info("Tracking {} sessions loaded from the snapshot", core.restore(sessionsWithTimeout));
    }

    /** @return the engine behind this tracker */
    public SessionEngine engine() {
        return engine;
    }

    /** Starts the thread that delivers expired sessions to the expirer. Idempotent. */
    public void start() {
        core.start("EngineSessionTracker-expiry");
    }

    @Override
    public long createSession(int sessionTimeout) {
        return engine.createId(sessionTimeout, localSessionsEnabled);
    }

    @Override
    public boolean trackSession(long id, int to) {
        try {
            return engine.add(id, to, false);
        } catch (SessionException e) {
            // Closing: its expiry was already delivered; do not revive it for a second one.
            return false;
        }
    }

    @Override
    public boolean commitSession(long id, int to) {
        boolean added = sessionsWithTimeout.put(id, to) == null;
        if (localSessionsEnabled && engine.isTracking(id)) {
            // A committed session is global: clear any local copy (LeaderSessionTracker).
            trackSession(id, to);
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
            // Unknown: a no-op, as in SessionTrackerImpl.
        }
    }

    @Override
    public void removeSession(long sessionId) {
        sessionsWithTimeout.remove(sessionId);
        engine.remove(sessionId);
    }

    @Override
    public boolean isTrackingSession(long sessionId) {
        return engine.isTracking(sessionId);
    }

    @Override
    public void checkSession(long sessionId, Object owner) throws KeeperException.SessionExpiredException,
        KeeperException.SessionMovedException, KeeperException.UnknownSessionException {
        int r = core.check(sessionId, owner, false);
        if (r == 0) {
            return;
        }
        if (r == Code.UNKNOWN_SESSION.intValue()) {
            throw new KeeperException.UnknownSessionException();
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
     * Prints the sessions by due time, in SessionTrackerImpl's format
     * ({@code Session Sets (buckets)/(sessions):}, then each bucket's size, wall-clock time
     * and ids).
     */
    @Override
    public void dumpSessions(PrintWriter pwriter) {
        core.printBuckets(pwriter, engine.expiryMap());
    }

    /**
     * Sessions by the time they are due, in ZooKeeper's time base
     * ({@code Time.currentElapsedTime()}), as SessionTrackerImpl returns them.
     */
    @Override
    public Map<Long, Set<Long>> getSessionExpiryMap() {
        return core.toZooKeeperTime(engine.expiryMap());
    }

    @Override
    public long getLocalSessionCount() {
        return localSessionsEnabled ? engine.stats().local() : 0;
    }

    @Override
    public boolean isLocalSessionsEnabled() {
        return localSessionsEnabled;
    }

    @Override
    public Set<Long> globalSessions() {
        return sessionsOfKind(false);
    }

    @Override
    public Set<Long> localSessions() {
        return localSessionsEnabled ? sessionsOfKind(true) : Collections.emptySet();
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
     * @param sessionId a session
     * @return whether it is a live local session
     */
    public boolean isLocalSession(long sessionId) {
        try {
            return !engine.isGlobal(sessionId);
        } catch (SessionException e) {
            return false;
        }
    }

    /**
     * @param sessionId a session
     * @return whether it is a live global session
     */
    public boolean isGlobalSession(long sessionId) {
        try {
            return engine.isGlobal(sessionId);
        } catch (SessionException e) {
            return false;
        }
    }

    /**
     * Upgrades a local session to global, as {@code UpgradeableSessionTracker.upgradeSession}:
     * the caller then submits the createSession request that commits it.
     *
     * @param sessionId the session
     * @return its timeout, or -1 if it is not a live local session or upgrading is disabled
     */
    public int upgradeSession(long sessionId) {
        if (!isLocalSession(sessionId)) {
            return -1;
        }
        try {
            return engine.upgrade(sessionId);
        } catch (SessionException e) {
            return -1;
        }
    }

    /**
     * Stops the expiry thread (within one poll wait). Later calls from ZooKeeper still work;
     * the engine is freed by {@link #close()} or, for an engine this tracker opened, when the
     * tracker becomes unreachable.
     */
    @Override
    public void shutdown() {
        core.retire();
    }

    /**
     * Stops the expiry thread and frees an engine this tracker opened. Call only when
     * nothing will call the tracker any more.
     */
    public void close() {
        shutdown();
        if (ownsEngine) {
            engine.close();
        }
    }

    @Override
    public String toString() {
        StringWriterPrinter p = new StringWriterPrinter();
        dumpSessions(p.writer);
        return p.toString();
    }

    private static final class StringWriterPrinter {
        final java.io.StringWriter sw = new java.io.StringWriter();
        final PrintWriter writer = new PrintWriter(sw);

        @Override
        public String toString() {
            writer.flush();
            return sw.toString();
        }
    }
}
