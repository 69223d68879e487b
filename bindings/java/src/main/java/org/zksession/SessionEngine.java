package org.zksession;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * ZooKeeper's session tracking, done by the native zksession engine: a lock-sharded
 * session table with timing wheels and expiry worker threads.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * try (SessionEngine engine = SessionEngine.open(new SessionEngine.Options().tickMs(2000))) {
 *     Created s = engine.create(10_000, false);
 *     engine.touch(s.id());                  // on every request of the session
 *     long[] out = new long[2 * 1024];
 *     int n = engine.pollExpired(out, 1000); // (id, timeout) pairs of expired sessions
 *     for (int i = 0; i < n; i++) {
 *         long id = out[2 * i];
 *         // ... delete the session's ephemerals, close its connection ...
 *         engine.remove(id);
 *     }
 * }
 * }</pre>
 *
 * <h2>Semantics</h2>
 * ZooKeeper's: a session touched at {@code t} with timeout {@code T} is due at the first
 * tick boundary strictly after {@code t + T}. When it is due the engine marks it
 * <em>closing</em> (touches fail with {@link Code#SESSION_EXPIRED} from then on) and queues
 * it for {@link #pollExpired}; the caller cleans up and calls {@link #remove}. Ids follow
 * ZooKeeper's layout and passwords are ZooKeeper's, so a ZooKeeper server can hand them to
 * its clients.
 *
 * <h2>Threads and lifetime</h2>
 * Every method is thread-safe. Failing calls throw {@link SessionException}; the
 * {@code try...} variants return a {@link Code} number instead, for hot paths that expect
 * failures. {@link #close()} frees the native engine; it is idempotent, but it must not
 * run while other threads are still calling this engine (stop them first). Methods called
 * after {@code close()} throw {@link IllegalStateException}. An engine that is never
 * closed is freed when it becomes unreachable.
 *
 * <p>The native library {@code libzksession.so} (built with {@code cargo build --release
 * --features jni}) must be on {@code java.library.path}.
 */
public final class SessionEngine implements AutoCloseable {
    static {
        System.loadLibrary("zksession");
    }

    private static final Cleaner CLEANER = Cleaner.create();

    /** {@link #kindAny}, {@link #expiryMap(int)}: a global session expiring on this server. */
    public static final int KIND_GLOBAL = 0;
    /** {@link #kindAny}, {@link #expiryMap(int)}: a local session. */
    public static final int KIND_LOCAL = 1;
    /** {@link #kindAny}: a remote entry (a global session this server tracks but never expires). */
    public static final int KIND_REMOTE = 2;
    /** {@link #kindAny}: a flag OR-ed into the kind of a closing session. */
    public static final int KIND_CLOSING = 4;
    /** {@link #learnerTouch}: the session expires here and its deadline was refreshed. */
    public static final int TOUCH_LOCAL = 0;
    /** {@link #learnerTouch}: a remote entry; the touch was recorded for {@link #drainTouched}. */
    public static final int TOUCH_FORWARDED = 1;

    /** The native handle; swapped to 0 exactly once, by whoever frees it. */
    private static final class State implements Runnable {
        final AtomicLong handle;

        State(long handle) {
            this.handle = new AtomicLong(handle);
        }

        @Override
        public void run() {
            long h = handle.getAndSet(0);
            if (h != 0) {
                nativeFree(h);
            }
        }
    }

    /** Settings for {@link SessionEngine#open}. Defaults are ZooKeeper's for a 2000 ms tick. */
    public static final class Options {
        private int tickMs = 2000;
        private int minSessionTimeoutMs = -1;
        private int maxSessionTimeoutMs = -1;
        private int serverId = 1;
        private boolean localSessions;
        private boolean localSessionUpgrade;
        private int shards;
        private int expiryWorkers;
        private long manualClockStartMs;

        /** Creates options with ZooKeeper's defaults. */
        public Options() {
        }

        /**
         * @param ms width of an expiry bucket (ZooKeeper's {@code tickTime}), at least 1
         * @return these options
         */
        public Options tickMs(int ms) {
            this.tickMs = ms;
            return this;
        }

        /**
         * @param ms lower clamp for negotiated timeouts; at least the tick (default 2 ticks)
         * @return these options
         */
        public Options minSessionTimeoutMs(int ms) {
            this.minSessionTimeoutMs = ms;
            return this;
        }

        /**
         * @param ms upper clamp for negotiated timeouts (default 20 ticks)
         * @return these options
         */
        public Options maxSessionTimeoutMs(int ms) {
            this.maxSessionTimeoutMs = ms;
            return this;
        }

        /**
         * @param id server id placed in the top byte of session ids, 0..254 (default 1)
         * @return these options
         */
        public Options serverId(int id) {
            this.serverId = id;
            return this;
        }

        /**
         * @param enabled whether sessions may be created local (default false: all global)
         * @return these options
         */
        public Options localSessions(boolean enabled) {
            this.localSessions = enabled;
            return this;
        }

        /**
         * @param enabled whether local sessions may be upgraded to global (default false)
         * @return these options
         */
        public Options localSessionUpgrade(boolean enabled) {
            this.localSessionUpgrade = enabled;
            return this;
        }

        /**
         * @param n number of shards, a power of two; 0 keeps the default (4 per core)
         * @return these options
         */
        public Options shards(int n) {
            this.shards = n;
            return this;
        }

        /**
         * @param n number of expiry worker threads; 0 keeps the default (one per core)
         * @return these options
         */
        public Options expiryWorkers(int n) {
            this.expiryWorkers = n;
            return this;
        }

        /**
         * Runs the engine on a manual clock starting at {@code startMs} (greater than 0),
         * without expiry workers: time moves only with {@link SessionEngine#advanceClock}
         * and expiry is decided only by {@link SessionEngine#expireDue}. For deterministic
         * tests.
         *
         * @param startMs the clock's first reading in ms
         * @return these options
         */
        public Options manualClock(long startMs) {
            this.manualClockStartMs = startMs;
            return this;
        }
    }

    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final int tickMs;

    private SessionEngine(long handle, int tickMs) {
        this.state = new State(handle);
        this.cleanable = CLEANER.register(this, state);
        this.tickMs = tickMs;
    }

    /**
     * Starts an engine.
     *
     * @param o the settings
     * @return the engine
     * @throws IllegalArgumentException if a setting is out of range (the message names it)
     */
    public static SessionEngine open(Options o) {
        int min = o.minSessionTimeoutMs >= 0 ? o.minSessionTimeoutMs : 2 * o.tickMs;
        int max = o.maxSessionTimeoutMs >= 0 ? o.maxSessionTimeoutMs : 20 * o.tickMs;
        long h = nativeOpen(o.tickMs, min, max, o.serverId, o.localSessions,
            o.localSessionUpgrade, o.shards, o.expiryWorkers, o.manualClockStartMs);
        if (h == 0) {
            throw new IllegalStateException("engine did not start");
        }
        return new SessionEngine(h, o.tickMs);
    }

    private long h() {
        long h = state.handle.get();
        if (h == 0) {
            throw new IllegalStateException("SessionEngine is closed");
        }
        return h;
    }

    private void check(int code, long id) throws SessionException {
        if (code < 0) {
            throw new SessionException(Code.of(code), id);
        }
    }

    /** @return the tick (ms) the engine was opened with */
    public int tickMs() {
        return tickMs;
    }

    /**
     * Creates a session with the negotiated timeout for {@code requestedTimeoutMs}.
     *
     * @param requestedTimeoutMs the client's requested timeout
     * @param local create a local session (honoured only if local sessions are enabled)
     * @return the new session, with its password
     */
    public Created create(int requestedTimeoutMs, boolean local) {
        int[] to = new int[1];
        long h = h();
        long id = nativeCreate(h, requestedTimeoutMs, local, to);
        if (id == 0) {
            throw new IllegalStateException("native create failed");
        }
        byte[] pw = new byte[16];
        nativePassword(h, id, pw);
        boolean isLocal = local && nativeKind(h, id) == 1;
        Reference.reachabilityFence(this);
        return new Created(id, to[0], pw, isLocal);
    }

    /**
     * Creates a session and returns only its id (the hot path: no password, no objects).
     *
     * @param requestedTimeoutMs the client's requested timeout (negotiated by the engine)
     * @param local create a local session (honoured only if local sessions are enabled)
     * @return the new session's id
     */
    public long createId(int requestedTimeoutMs, boolean local) {
        long id = nativeCreate(h(), requestedTimeoutMs, local, null);
        Reference.reachabilityFence(this);
        if (id == 0) {
            throw new IllegalStateException("native create failed");
        }
        return id;
    }

    /**
     * Tracks a session created elsewhere (restored from disk, or created by another server),
     * due one timeout from now. If already tracked, refreshes its deadline and timeout; as
     * global, also upgrades a local copy.
     *
     * @param id the session id (not 0)
     * @param timeoutMs its timeout (greater than 0)
     * @param local track it as a local session (honoured only if local sessions are enabled)
     * @return true if newly tracked, false if it was already tracked
     * @throws SessionException {@link Code#SESSION_EXPIRED} if the session is closing (it is
     *     not revived), {@link Code#BAD_ARGUMENTS} for id or timeout 0
     */
    public boolean add(long id, int timeoutMs, boolean local) throws SessionException {
        int r = nativeAdd(h(), id, timeoutMs, local);
        Reference.reachabilityFence(this);
        check(r, id);
        return r == 1;
    }

    /**
     * Imports global sessions with fresh deadlines (one timeout from now), as ZooKeeper does
     * when it loads sessions from a snapshot.
     *
     * @param ids session ids
     * @param timeoutsMs their timeouts, same order
     * @param n how many entries of the arrays to import
     * @return how many were newly tracked
     * @throws SessionException {@link Code#BAD_ARGUMENTS} (and nothing imported) if an id or a
     *     timeout is 0 or the arrays are shorter than {@code n}
     */
    public int restore(long[] ids, int[] timeoutsMs, int n) throws SessionException {
        int r = nativeRestore(h(), ids, timeoutsMs, n);
        Reference.reachabilityFence(this);
        check(r, 0);
        return r;
    }

    /**
     * Refreshes a session with its current timeout.
     *
     * @param id the session
     * @throws SessionException {@link Code#UNKNOWN_SESSION} or {@link Code#SESSION_EXPIRED}
     */
    public void touch(long id) throws SessionException {
        check(tryTouch(id), id);
    }

    /**
     * Refreshes a session with its current timeout, without exceptions.
     *
     * @param id the session
     * @return {@link Code#OK}'s 0 or a negative {@link Code} number
     */
    public int tryTouch(long id) {
        int r = nativeTouch(h(), id);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Refreshes a session with a new timeout, which also becomes its timeout for later touches.
     *
     * @param id the session
     * @param timeoutMs the timeout (greater than 0)
     * @throws SessionException {@link Code#UNKNOWN_SESSION}, {@link Code#SESSION_EXPIRED} or
     *     {@link Code#BAD_ARGUMENTS}
     */
    public void touch(long id, int timeoutMs) throws SessionException {
        check(tryTouch(id, timeoutMs), id);
    }

    /**
     * {@link #touch(long, int)} without exceptions.
     *
     * @param id the session
     * @param timeoutMs the timeout (greater than 0)
     * @return 0 or a negative {@link Code} number
     */
    public int tryTouch(long id, int timeoutMs) {
        int r = nativeTouchWithTimeout(h(), id, timeoutMs);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Touches many sessions in one native call (one clock reading for the batch).
     * Unknown and closing ids are skipped.
     *
     * @param ids session ids
     * @param offset first index to touch
     * @param length how many to touch
     * @return how many were touched
     * @throws IndexOutOfBoundsException if the range is outside {@code ids}
     */
    public int touchMany(long[] ids, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > ids.length || offset + length < 0) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length);
        }
        int r = nativeTouchMany(h(), ids, offset, length);
        Reference.reachabilityFence(this);
        if (r < 0) {
            throw new IllegalStateException("touchMany failed: " + Code.of(r));
        }
        return r;
    }

    /**
     * Marks a session closing (touches fail from now on; no expiry is queued for it).
     *
     * @param id the session
     * @throws SessionException {@link Code#UNKNOWN_SESSION}
     */
    public void setClosing(long id) throws SessionException {
        int r = nativeSetClosing(h(), id);
        Reference.reachabilityFence(this);
        check(r, id);
    }

    /**
     * A client's close: marks the session closing and forgets it at once.
     *
     * @param id the session
     * @throws SessionException {@link Code#UNKNOWN_SESSION} (a second close fails)
     */
    public void closeSession(long id) throws SessionException {
        int r = nativeCloseSession(h(), id);
        Reference.reachabilityFence(this);
        check(r, id);
    }

    /**
     * Forgets a session (after its expiry or close has been handled).
     *
     * @param id the session
     * @return whether it was tracked
     */
    public boolean remove(long id) {
        boolean r = nativeRemove(h(), id);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * @param id the session
     * @return whether the engine tracks it (closing sessions included)
     */
    public boolean isTracking(long id) {
        boolean r = nativeIsTracking(h(), id);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Sets a session's owner, an opaque number chosen by the caller.
     *
     * @param id the session
     * @param owner the owner
     * @throws SessionException {@link Code#SESSION_EXPIRED} if unknown or closing
     */
    public void setOwner(long id, long owner) throws SessionException {
        int r = nativeSetOwner(h(), id, owner);
        Reference.reachabilityFence(this);
        check(r, id);
    }

    /**
     * @param id the session
     * @return its owner, or empty if none was set
     * @throws SessionException {@link Code#UNKNOWN_SESSION}
     */
    public OptionalLong owner(long id) throws SessionException {
        long[] out = new long[1];
        int r = nativeOwner(h(), id, out);
        Reference.reachabilityFence(this);
        check(r, id);
        return r == 1 ? OptionalLong.empty() : OptionalLong.of(out[0]);
    }

    /**
     * ZooKeeper's {@code checkSession}: the session must be tracked and not closing; if it
     * has no owner yet, {@code owner} becomes its owner; another owner fails.
     *
     * @param id the session
     * @param owner the caller's owner number
     * @return 0 or a negative {@link Code} number: {@link Code#UNKNOWN_SESSION},
     *     {@link Code#SESSION_EXPIRED}, {@link Code#SESSION_MOVED}
     */
    public int checkSession(long id, long owner) {
        int r = nativeCheck(h(), id, owner);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * ZooKeeper's {@code checkGlobalSession}: as {@link #checkSession}, but the session must
     * be global, and an unknown or local session is {@link Code#SESSION_EXPIRED}.
     *
     * @param id the session
     * @param owner the caller's owner number
     * @return 0 or a negative {@link Code} number
     */
    public int checkGlobalSession(long id, long owner) {
        int r = nativeCheckGlobal(h(), id, owner);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Makes a local session global (idempotent on global sessions).
     *
     * @param id the session
     * @return its timeout in ms
     * @throws SessionException {@link Code#UNKNOWN_SESSION}, {@link Code#SESSION_EXPIRED}, or
     *     {@link Code#EPHEMERAL_ON_LOCAL_SESSION} when upgrading is disabled
     */
    public int upgrade(long id) throws SessionException {
        int r = nativeUpgrade(h(), id);
        Reference.reachabilityFence(this);
        check(r, id);
        return r;
    }

    /**
     * @param id the session
     * @return true if it is a live global session, false if a live local one
     * @throws SessionException {@link Code#UNKNOWN_SESSION} or {@link Code#SESSION_EXPIRED}
     */
    public boolean isGlobal(long id) throws SessionException {
        int r = nativeKind(h(), id);
        Reference.reachabilityFence(this);
        check(r, id);
        return r == 0;
    }

    /**
     * @param id a session id
     * @return its 16-byte password (ZooKeeper's algorithm; a function of the id alone)
     */
    public byte[] password(long id) {
        byte[] pw = new byte[16];
        nativePassword(h(), id, pw);
        Reference.reachabilityFence(this);
        return pw;
    }

    /**
     * @param id a session id
     * @param password a candidate password
     * @return whether it is the session's password (constant-time; id 0 and lengths other
     *     than 16 never match)
     */
    public boolean verifyPassword(long id, byte[] password) {
        boolean r = nativeVerifyPassword(h(), id, password);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Waits up to {@code timeoutMs} for expired sessions and takes up to
     * {@code out.length / 2} of them. Each is written as a pair: {@code out[2i]} = id,
     * {@code out[2i+1]} = timeout in ms. Expired sessions are already closing; remove each
     * with {@link #remove} once handled.
     *
     * @param out receives the pairs (length at least 2)
     * @param timeoutMs how long to wait for the first one (0 = do not wait)
     * @return how many sessions were written
     * @throws IllegalArgumentException if {@code out} is shorter than 2 or the timeout negative
     */
    public int pollExpired(long[] out, int timeoutMs) {
        int r = nativePollExpired(h(), out, timeoutMs);
        Reference.reachabilityFence(this);
        if (r == Code.BAD_ARGUMENTS.intValue()) {
            throw new IllegalArgumentException("out needs room for a pair; timeout must be >= 0");
        }
        if (r < 0) {
            throw new IllegalStateException("pollExpired failed: " + Code.of(r));
        }
        return r;
    }

    /**
     * Decides every expiry due now. The expiry workers do this on their own; call it on an
     * engine with a {@linkplain Options#manualClock manual clock}.
     *
     * @return how many sessions expired
     */
    public int expireDue() {
        int r = nativeExpireDue(h());
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Moves a manual clock forward.
     *
     * @param ms how far (at least 0)
     * @throws UnsupportedOperationException if the engine runs on the system clock
     */
    public void advanceClock(long ms) {
        int r = nativeAdvanceClock(h(), ms);
        Reference.reachabilityFence(this);
        if (r == Code.UNIMPLEMENTED.intValue()) {
            throw new UnsupportedOperationException("the engine runs on the system clock");
        }
        if (r < 0) {
            throw new IllegalArgumentException("ms must be >= 0");
        }
    }

    /** @return the engine clock's reading in ms (the time base of {@link #expiryMap()}) */
    public long nowMs() {
        long r = nativeNowMs(h());
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * @param id the session
     * @return ms until it is due (0 if due now)
     * @throws SessionException {@link Code#UNKNOWN_SESSION} or {@link Code#SESSION_EXPIRED}
     */
    public long timeToLive(long id) throws SessionException {
        long r = nativeTimeToLive(h(), id);
        Reference.reachabilityFence(this);
        check((int) Math.max(r, Integer.MIN_VALUE), id);
        return r;
    }

    /**
     * @param requestedMs a client's requested timeout
     * @return the timeout it gets: raised to the minimum, then lowered to the maximum
     */
    public int negotiateTimeout(long requestedMs) {
        int r = nativeNegotiateTimeout(h(), requestedMs);
        Reference.reachabilityFence(this);
        return r;
    }

    /** @return every live (not closing) session */
    public List<SessionEntry> snapshot() {
        long[] flat = nativeSnapshot(h());
        Reference.reachabilityFence(this);
        List<SessionEntry> out = new ArrayList<>(flat.length / 3);
        for (int i = 0; i + 2 < flat.length; i += 3) {
            out.add(new SessionEntry(flat[i], (int) flat[i + 1], flat[i + 2] == 1));
        }
        return out;
    }

    /**
     * Live sessions grouped by the time they are due, like ZooKeeper's
     * {@code getSessionExpiryMap}. Times are on the engine clock ({@link #nowMs()}).
     *
     * @return a sorted map from due time (ms) to sorted session ids
     */
    public Map<Long, Set<Long>> expiryMap() {
        long[] flat = nativeExpiryMap(h());
        Reference.reachabilityFence(this);
        return groupByDeadline(flat);
    }

    /** (deadline, id) pairs as a sorted, unmodifiable map. */
    private static Map<Long, Set<Long>> groupByDeadline(long[] flat) {
        if (flat == null) {
            throw new IllegalStateException("expiry map failed");
        }
        TreeMap<Long, Set<Long>> m = new TreeMap<>();
        for (int i = 0; i + 1 < flat.length; i += 2) {
            m.computeIfAbsent(flat[i], k -> new TreeSet<>()).add(flat[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }

    /** @return session counts and running totals */
    public Stats stats() {
        long[] v = new long[10];
        int r = nativeStats(h(), v);
        Reference.reachabilityFence(this);
        if (r < 0) {
            throw new IllegalStateException("stats failed: " + Code.of(r));
        }
        return new Stats(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
    }

    // ---- the ensemble's calls (a learner's and a leader's view of sessions) ----

    /**
     * What the engine knows of any tracked session, closing ones included.
     *
     * @param id the session
     * @return {@link #KIND_GLOBAL}, {@link #KIND_LOCAL} or {@link #KIND_REMOTE}, OR-ed with
     *     {@link #KIND_CLOSING} if it is closing; or a negative {@link Code} number
     *     ({@link Code#UNKNOWN_SESSION})
     */
    public int kindAny(long id) {
        int r = nativeKindAny(h(), id);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * A fresh session id from the generator {@link #create} uses (never reused, tracked ids
     * skipped), tracked nowhere.
     *
     * @return the id
     */
    public long nextId() {
        long r = nativeNextId(h());
        Reference.reachabilityFence(this);
        if (r == 0) {
            throw new IllegalStateException("nextId failed");
        }
        return r;
    }

    /**
     * Tracks a remote entry: a global session another server decides. It never expires
     * here; its touches go to the touch table ({@link #learnerTouch}).
     *
     * @param id the session id (not 0)
     * @param timeoutMs its timeout (greater than 0)
     * @return true if newly tracked, false if the id was already tracked (nothing changed)
     * @throws SessionException {@link Code#BAD_ARGUMENTS} for id or timeout 0
     */
    public boolean addRemote(long id, int timeoutMs) throws SessionException {
        int r = nativeAddRemote(h(), id, timeoutMs);
        Reference.reachabilityFence(this);
        check(r, id);
        return r == 1;
    }

    /**
     * Atomically turns a live local session into a remote entry (a learner's upgrade): it
     * never expires here from then on. Idempotent on remote entries and global sessions.
     *
     * @param id the session
     * @return its timeout (at least 0), or a negative {@link Code} number:
     *     {@link Code#UNKNOWN_SESSION}, {@link Code#SESSION_EXPIRED} (closing)
     */
    public int upgradeToRemote(long id) {
        int r = nativeUpgradeToRemote(h(), id);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * A learner's touch, in one native call: a session expiring here has its deadline
     * refreshed ({@link #TOUCH_LOCAL}); a remote entry has {@code (id, timeoutMs)} recorded
     * for {@link #drainTouched} ({@link #TOUCH_FORWARDED}). Either way {@code timeoutMs}
     * becomes its timeout.
     *
     * @param id the session
     * @param timeoutMs the timeout (greater than 0)
     * @return {@link #TOUCH_LOCAL}, {@link #TOUCH_FORWARDED}, or a negative {@link Code}
     *     number: {@link Code#UNKNOWN_SESSION}, {@link Code#SESSION_EXPIRED},
     *     {@link Code#BAD_ARGUMENTS}
     */
    public int learnerTouch(long id, int timeoutMs) {
        int r = nativeLearnerTouch(h(), id, timeoutMs);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Records a touch for {@link #drainTouched} unconditionally (for ids known to be
     * global, tracked here or not). A later record of the same id replaces the timeout.
     *
     * @param id the session
     * @param timeoutMs its timeout
     */
    public void recordTouch(long id, int timeoutMs) {
        int r = nativeRecordTouch(h(), id, timeoutMs);
        Reference.reachabilityFence(this);
        if (r < 0) {
            throw new IllegalStateException("recordTouch failed: " + Code.of(r));
        }
    }

    /**
     * Takes every recorded touch: at most one per id, with the last timeout recorded. A
     * touch recorded concurrently lands in this drain or the next, never in none or both.
     *
     * @return pairs: {@code id0, timeout0, id1, timeout1, ...} (empty if none)
     */
    public long[] drainTouched() {
        long[] r = nativeDrainTouched(h());
        Reference.reachabilityFence(this);
        if (r == null) {
            throw new IllegalStateException("drainTouched failed");
        }
        return r;
    }

    /**
     * Makes a local session or a remote entry global without refreshing its deadline (the
     * leader's {@code commitSession}); a remote entry is filed for expiry at its stored
     * deadline. Idempotent on global sessions; not gated by local session upgrades.
     *
     * @param id the session
     * @return its timeout (at least 0), or a negative {@link Code} number:
     *     {@link Code#UNKNOWN_SESSION}, {@link Code#SESSION_EXPIRED} (closing)
     */
    public int makeGlobal(long id) {
        int r = nativeMakeGlobal(h(), id);
        Reference.reachabilityFence(this);
        return r;
    }

    /**
     * Stops and joins the expiry workers and wakes every {@link #pollExpired} waiter (polls
     * return at once from then on). Idempotent; every other call stays valid, and expiry
     * then happens only through {@link #expireDue}.
     */
    public void stopWorkers() {
        nativeStopWorkers(h());
        Reference.reachabilityFence(this);
    }

    /**
     * {@link #pollExpired(long[], int)}, optionally with each session's kind: with
     * {@code withKind} each session is a triple {@code (id, timeout, kind)} (kind
     * {@link #KIND_GLOBAL} or {@link #KIND_LOCAL}) and up to {@code out.length / 3} are
     * taken; without, pairs as {@link #pollExpired(long[], int)}.
     *
     * @param out receives the records (room for at least one)
     * @param timeoutMs how long to wait for the first one (0 = do not wait)
     * @param withKind whether to write triples with the kind
     * @return how many sessions were written
     * @throws IllegalArgumentException if {@code out} has no room for a record or the
     *     timeout is negative
     */
    public int pollExpired(long[] out, int timeoutMs, boolean withKind) {
        if (!withKind) {
            return pollExpired(out, timeoutMs);
        }
        int r = nativePollExpiredKinds(h(), out, timeoutMs);
        Reference.reachabilityFence(this);
        if (r == Code.BAD_ARGUMENTS.intValue()) {
            throw new IllegalArgumentException("out needs room for a triple; timeout must be >= 0");
        }
        if (r < 0) {
            throw new IllegalStateException("pollExpired failed: " + Code.of(r));
        }
        return r;
    }

    /**
     * {@link #expiryMap()} restricted to the sessions of one kind (ZooKeeper's dump lists
     * local and global sessions apart). Remote entries never expire here and are not listed.
     *
     * @param kind {@link #KIND_GLOBAL} or {@link #KIND_LOCAL}
     * @return a sorted map from due time (ms) to sorted session ids
     * @throws IllegalArgumentException for another kind
     */
    public Map<Long, Set<Long>> expiryMap(int kind) {
        if (kind != KIND_GLOBAL && kind != KIND_LOCAL) {
            throw new IllegalArgumentException("kind must be KIND_GLOBAL or KIND_LOCAL");
        }
        long[] flat = nativeExpiryMapByKind(h(), kind);
        Reference.reachabilityFence(this);
        return groupByDeadline(flat);
    }

    /**
     * Stops the expiry workers and frees the native engine. Idempotent. No other thread may
     * be calling this engine while it runs.
     */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return state.handle.get() == 0;
    }

    // ---- native methods (src/jni.rs); every one takes the handle explicitly ----

    private static native long nativeOpen(int tickMs, int minMs, int maxMs, int serverId,
        boolean localSessions, boolean localUpgrade, int shards, int workers, long manualClockStartMs);

    private static native void nativeFree(long h);

    private static native long nativeCreate(long h, int timeoutMs, boolean local, int[] timeoutOut);

    private static native int nativeAdd(long h, long id, int timeoutMs, boolean local);

    private static native int nativeRestore(long h, long[] ids, int[] timeouts, int n);

    private static native int nativeTouch(long h, long id);

    private static native int nativeTouchWithTimeout(long h, long id, int timeoutMs);

    private static native int nativeTouchMany(long h, long[] ids, int offset, int length);

    private static native int nativeSetClosing(long h, long id);

    private static native int nativeCloseSession(long h, long id);

    private static native boolean nativeRemove(long h, long id);

    private static native boolean nativeIsTracking(long h, long id);

    private static native int nativeSetOwner(long h, long id, long owner);

    private static native int nativeOwner(long h, long id, long[] out);

    private static native int nativeCheck(long h, long id, long owner);

    private static native int nativeCheckGlobal(long h, long id, long owner);

    private static native int nativeUpgrade(long h, long id);

    private static native int nativeKind(long h, long id);

    private static native int nativePassword(long h, long id, byte[] out);

    private static native boolean nativeVerifyPassword(long h, long id, byte[] password);

    private static native int nativePollExpired(long h, long[] out, int timeoutMs);

    private static native int nativeExpireDue(long h);

    private static native int nativeAdvanceClock(long h, long ms);

    private static native long[] nativeExpiryMap(long h);

    private static native long[] nativeSnapshot(long h);

    private static native int nativeStats(long h, long[] out);

    private static native long nativeNowMs(long h);

    private static native long nativeTimeToLive(long h, long id);

    private static native int nativeKindAny(long h, long id);

    private static native long nativeNextId(long h);

    private static native int nativeAddRemote(long h, long id, int timeoutMs);

    private static native int nativeUpgradeToRemote(long h, long id);

    private static native int nativeLearnerTouch(long h, long id, int timeoutMs);

    private static native int nativeRecordTouch(long h, long id, int timeoutMs);

    private static native long[] nativeDrainTouched(long h);

    private static native int nativeMakeGlobal(long h, long id);

    private static native void nativeStopWorkers(long h);

    private static native int nativePollExpiredKinds(long h, long[] out, int timeoutMs);

    private static native long[] nativeExpiryMapByKind(long h, int kind);

    private static native int nativeNegotiateTimeout(long h, long requestedMs);
}
