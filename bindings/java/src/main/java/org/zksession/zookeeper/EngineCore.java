package org.zksession.zookeeper;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.zookeeper.common.Time;
import org.apache.zookeeper.server.SessionTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zksession.Code;
import org.zksession.SessionEngine;
import org.zksession.SessionException;

/**
 * What every engine-backed tracker shares: the engine, the owner tokens, the thread that hands
 * expired sessions to ZooKeeper's expirer, the import of ZooKeeper's committed-session table,
 * owner checks, and printing expiry buckets in ZooKeeper's format.
 *
 * <p>Invariants: the core never frees the engine on its own; {@link #retire()} stops the
 * engine's workers and the delivery thread, after which later calls from ZooKeeper's
 * processors still work and no thread of this engine runs. Whoever
 * opened the engine closes it, and only when nothing can call it any more.
 */
final class EngineCore {
    private static final Logger LOG = LoggerFactory.getLogger(EngineCore.class);

    /** How long one native poll waits before the delivery thread re-checks its run flag. */
    static final int POLL_WAIT_MS = 100;

    final SessionEngine engine;
    private final SessionTracker.SessionExpirer expirer;
    private final OwnerTokens owners = new OwnerTokens();
    private volatile boolean running;
    private Thread expiryThread;

    /** A session handed to ZooKeeper's expirer. It is already closing. */
    record ExpiredSession(long sessionId, int timeout) implements SessionTracker.Session {
        @Override
        public long getSessionId() {
            return sessionId;
        }

        @Override
        public int getTimeout() {
            return timeout;
        }

        @Override
        public boolean isClosing() {
            return true;
        }

        @Override
        public String toString() {
            return "0x" + Long.toHexString(sessionId);
        }
    }

    EngineCore(SessionEngine engine, SessionTracker.SessionExpirer expirer) {
        this.engine = engine;
        this.expirer = expirer;
    }

    /**
     * Opens an engine as ZooKeeper's trackers need it: ZooKeeper negotiates timeouts itself
     * (minimum one tick, no maximum). A quorum server's engine gets few shards and one
     * expiry worker: each role change opens a new one, and the server shares its cores with the
     * rest of ZooKeeper.
     */
    static SessionEngine open(int tickTime, long serverId, boolean localSessions, boolean upgrade,
        boolean quorum) {
        SessionEngine.Options o = new SessionEngine.Options()
            .tickMs(tickTime)
            .minSessionTimeoutMs(tickTime)
            .maxSessionTimeoutMs(Integer.MAX_VALUE)
            .serverId((int) serverId)
            .localSessions(localSessions)
            .localSessionUpgrade(upgrade);
        if (quorum) {
            o.shards(4).expiryWorkers(1);
        }
        return SessionEngine.open(o);
    }

    /**
     * Tracks every entry of ZooKeeper's committed-session table as a global session due one
     * timeout from now (what {@code SessionTrackerImpl}'s constructor does).
     *
     * @return how many were newly tracked
     */
    int restore(ConcurrentMap<Long, Integer> sessionsWithTimeout) {
        List<Map.Entry<Long, Integer>> entries = new ArrayList<>(sessionsWithTimeout.entrySet());
        long[] ids = new long[entries.size()];
        int[] timeouts = new int[entries.size()];
        int n = 0;
        for (Map.Entry<Long, Integer> e : entries) {
            if (e.getKey() != 0 && e.getValue() > 0) {
                ids[n] = e.getKey();
                timeouts[n] = e.getValue();
                n++;
            } else {
                LOG.warn("Skipping session 0x{} with timeout {} from the snapshot",
                    Long.toHexString(e.getKey()), e.getValue());
            }
        }
        try {
            return engine.restore(ids, timeouts, n);
        } catch (SessionException e) {
            throw new IllegalStateException("restoring sessions failed", e);
        }
    }

    /** Starts the delivery thread. Idempotent. */
    synchronized void start(String threadName) {
        if (expiryThread != null) {
            return;
        }
        running = true;
        expiryThread = new Thread(this::deliverExpired, threadName);
        expiryThread.setDaemon(true);
        expiryThread.start();
    }

    private void deliverExpired() {
        long[] buf = new long[2 * 1024];
        while (running) {
            int n;
            try {
                n = engine.pollExpired(buf, POLL_WAIT_MS);
            } catch (IllegalStateException e) {
                LOG.error("Polling expired sessions failed; expiry stops", e);
                return;
            }
            for (int i = 0; i < n && running; i++) {
                ExpiredSession s = new ExpiredSession(buf[2 * i], (int) buf[2 * i + 1]);
                try {
                    expirer.expire(s);
                } catch (RuntimeException e) {
                    LOG.warn("Expirer failed on session {}", s, e);
                }
            }
        }
    }

    /**
     * Retires the engine: stops its native expiry workers (which wakes the delivery thread's
     * poll) and the delivery thread. Idempotent. Every other call stays valid, so ZooKeeper's
     * processors, shut down after the tracker, may still call it; nothing frees the engine
     * while it is reachable.
     */
    void retire() {
        Thread t;
        synchronized (this) {
            running = false;
            t = expiryThread;
        }
        engine.stopWorkers();
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(5L * POLL_WAIT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * ZooKeeper's check with owners: 0, or the engine's negative code. A session whose owner
     * is null is claimed by the first real owner, as in SessionTrackerImpl.
     */
    int check(long sessionId, Object owner, boolean globalOnly) {
        long token = owners.tokenOf(owner);
        int r = globalOnly ? engine.checkGlobalSession(sessionId, token) : engine.checkSession(sessionId, token);
        if (r == Code.SESSION_MOVED.intValue() && claimFromNull(sessionId, token)) {
            return 0;
        }
        return r;
    }

    private boolean claimFromNull(long sessionId, long token) {
        if (token == OwnerTokens.NULL) {
            return false;
        }
        synchronized (owners) {
            try {
                OptionalLong cur = engine.owner(sessionId);
                if (cur.isPresent() && cur.getAsLong() == OwnerTokens.NULL) {
                    engine.setOwner(sessionId, token);
                    return true;
                }
            } catch (SessionException e) {
                return false;
            }
            return false;
        }
    }

    /**
     * Sets the owner of a live session.
     *
     * @throws SessionException if the session is unknown or closing
     */
    void setOwner(long id, Object owner) throws SessionException {
        long token = owners.tokenOf(owner);
        if (token == OwnerTokens.NULL) {
            // "No owner": only a session that has one needs the null marker.
            engine.isGlobal(id); // liveness: unknown or closing throws
            synchronized (owners) {
                if (engine.owner(id).isPresent()) {
                    engine.setOwner(id, OwnerTokens.NULL);
                }
            }
            return;
        }
        engine.setOwner(id, token);
    }

    /** @return how many distinct owners the core has seen */
    int ownerCount() {
        return owners.size();
    }

    /**
     * Converts an expiry map on the engine clock to ZooKeeper's time base
     * ({@code Time.currentElapsedTime()}), with mutable sets as SessionTrackerImpl returns.
     */
    Map<Long, Set<Long>> toZooKeeperTime(Map<Long, Set<Long>> m) {
        long offset = Time.currentElapsedTime() - engine.nowMs();
        Map<Long, Set<Long>> out = new TreeMap<>();
        for (Map.Entry<Long, Set<Long>> e : m.entrySet()) {
            out.put(e.getKey() + offset, new HashSet<>(e.getValue()));
        }
        return out;
    }

    /**
     * Prints expiry buckets in SessionTrackerImpl's format: {@code Session Sets
     * (buckets)/(sessions):}, then each bucket's size, wall-clock due time and ids.
     *
     * @param m buckets on the engine clock
     */
    void printBuckets(PrintWriter pwriter, Map<Long, Set<Long>> m) {
        long engineNow = engine.nowMs();
        long wallNow = Time.currentWallTime();
        int total = 0;
        for (Set<Long> ids : m.values()) {
            total += ids.size();
        }
        pwriter.print("Session Sets (");
        pwriter.print(m.size());
        pwriter.print(")/(");
        pwriter.print(total);
        pwriter.println("):");
        for (Map.Entry<Long, Set<Long>> e : m.entrySet()) {
            pwriter.print(e.getValue().size());
            pwriter.print(" expire at ");
            pwriter.print(new Date(wallNow + e.getKey() - engineNow));
            pwriter.println(":");
            for (long id : e.getValue()) {
                pwriter.print("\t0x");
                pwriter.println(Long.toHexString(id));
            }
        }
    }
}
