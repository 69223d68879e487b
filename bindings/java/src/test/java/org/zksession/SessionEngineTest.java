package org.zksession;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The Java API of the engine, on a manual clock (tick 1000 ms, timeouts 2..20 ticks). */
public class SessionEngineTest {
    private static final int TICK = 1000;
    private SessionEngine engine;

    @Before
    public void open() {
        engine = SessionEngine.open(new SessionEngine.Options().tickMs(TICK).manualClock(1_000_000));
    }

    @After
    public void close() {
        engine.close();
    }

    private static byte[] zookeeperPassword(long id) {
        byte[] pw = new byte[16];
        new Random(id ^ 0xB3415C00L).nextBytes(pw);
        return pw;
    }

    private static SessionException expectCode(Code code, ThrowingRunnable r) {
        SessionException e = assertThrows(SessionException.class, r::run);
        assertEquals(code, e.code());
        return e;
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    public void createdSessionsHaveZooKeeperIdsAndPasswords() {
        Created s = engine.create(5000, false);
        assertEquals(1, s.id() >>> 56);
        assertEquals(5000, s.timeoutMs());
        assertArrayEquals(zookeeperPassword(s.id()), s.password());
        assertArrayEquals(zookeeperPassword(s.id()), engine.password(s.id()));
        assertTrue(engine.verifyPassword(s.id(), s.password()));
        assertEquals(s.id() + 1, engine.createId(5000, false));
    }

    @Test
    public void wrongOrMalformedPasswordsDoNotVerify() {
        long id = engine.createId(5000, false);
        byte[] pw = engine.password(id);
        pw[3] ^= 1;
        assertFalse(engine.verifyPassword(id, pw));
        assertFalse(engine.verifyPassword(id, new byte[15]));
        assertFalse(engine.verifyPassword(id, null));
        assertFalse(engine.verifyPassword(0, zookeeperPassword(0)));
    }

    @Test
    public void timeoutsAreNegotiatedToTwoAndTwentyTicks() {
        assertEquals(2 * TICK, engine.negotiateTimeout(10));
        assertEquals(2 * TICK, engine.negotiateTimeout(-5));
        assertEquals(7 * TICK, engine.negotiateTimeout(7 * TICK));
        assertEquals(20 * TICK, engine.negotiateTimeout(100 * TICK));
        assertEquals(2 * TICK, engine.create(1, false).timeoutMs());
    }

    @Test
    public void sessionExpiresAtTheFirstTickBoundaryAfterItsTimeout() {
        long id = engine.createId(2000, false);
        // Created at 1_000_000 (a boundary): due at 1_003_000.
        engine.advanceClock(2999);
        assertEquals(0, engine.expireDue());
        engine.advanceClock(1);
        assertEquals(1, engine.expireDue());
        long[] out = new long[4];
        assertEquals(1, engine.pollExpired(out, 0));
        assertEquals(id, out[0]);
        assertEquals(2000, out[1]);
    }

    @Test
    public void touchPostponesExpiry() throws Exception {
        long id = engine.createId(2000, false);
        engine.advanceClock(1500);
        engine.touch(id);
        engine.advanceClock(1500);
        assertEquals(0, engine.expireDue());
        assertEquals(1000, engine.timeToLive(id));
        engine.advanceClock(2000);
        assertEquals(1, engine.expireDue());
    }

    @Test
    public void touchWithTimeoutChangesTheTimeout() throws Exception {
        long id = engine.createId(2000, false);
        engine.touch(id, 8000);
        engine.advanceClock(5000);
        assertEquals(0, engine.expireDue());
        engine.touch(id);
        assertEquals(9000, engine.timeToLive(id));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.touch(id, 0));
    }

    @Test
    public void touchOfAnExpiredSessionFailsWithSessionExpired() {
        long id = engine.createId(2000, false);
        engine.advanceClock(3000);
        assertEquals(1, engine.expireDue());
        assertEquals(Code.SESSION_EXPIRED.intValue(), engine.tryTouch(id));
        expectCode(Code.SESSION_EXPIRED, () -> engine.touch(id));
        assertTrue(engine.isTracking(id));
        assertTrue(engine.remove(id));
        assertFalse(engine.isTracking(id));
        assertEquals(Code.UNKNOWN_SESSION.intValue(), engine.tryTouch(id));
    }

    @Test
    public void touchOfAnUnknownSessionFailsWithUnknownSession() {
        SessionException e = expectCode(Code.UNKNOWN_SESSION, () -> engine.touch(42));
        assertEquals(42, e.sessionId());
    }

    @Test
    public void closeSessionForgetsItAndASecondCloseFails() throws Exception {
        long id = engine.createId(2000, false);
        engine.closeSession(id);
        assertFalse(engine.isTracking(id));
        expectCode(Code.UNKNOWN_SESSION, () -> engine.closeSession(id));
        engine.advanceClock(10_000);
        assertEquals(0, engine.expireDue());
    }

    @Test
    public void setClosingStopsTouchesAndExpiry() throws Exception {
        long id = engine.createId(2000, false);
        engine.setClosing(id);
        assertEquals(Code.SESSION_EXPIRED.intValue(), engine.tryTouch(id));
        engine.advanceClock(10_000);
        assertEquals(0, engine.expireDue());
        expectCode(Code.UNKNOWN_SESSION, () -> engine.setClosing(7));
    }

    @Test
    public void pollExpiredWaitsAtMostItsTimeoutAndRejectsBadArguments() {
        long[] out = new long[2];
        assertEquals(0, engine.pollExpired(out, 0));
        assertEquals(0, engine.pollExpired(out, 10));
        assertThrows(IllegalArgumentException.class, () -> engine.pollExpired(new long[1], 0));
        assertThrows(IllegalArgumentException.class, () -> engine.pollExpired(out, -1));
    }

    @Test
    public void pollExpiredTakesAtMostHalfTheArray() {
        for (int i = 0; i < 3; i++) {
            engine.createId(2000, false);
        }
        engine.advanceClock(3000);
        assertEquals(3, engine.expireDue());
        long[] out = new long[4];
        assertEquals(2, engine.pollExpired(out, 0));
        assertEquals(1, engine.pollExpired(out, 0));
        assertEquals(0, engine.pollExpired(out, 0));
    }

    @Test
    public void checkSessionSetsTheFirstOwnerAndRefusesAnother() throws Exception {
        long id = engine.createId(2000, false);
        assertFalse(engine.owner(id).isPresent());
        assertEquals(0, engine.checkSession(id, 5));
        assertEquals(5, engine.owner(id).getAsLong());
        assertEquals(0, engine.checkSession(id, 5));
        assertEquals(Code.SESSION_MOVED.intValue(), engine.checkSession(id, 6));
        engine.setOwner(id, 6);
        assertEquals(0, engine.checkSession(id, 6));
        assertEquals(Code.UNKNOWN_SESSION.intValue(), engine.checkSession(99, 6));
        expectCode(Code.SESSION_EXPIRED, () -> engine.setOwner(99, 1));
        engine.setClosing(id);
        assertEquals(Code.SESSION_EXPIRED.intValue(), engine.checkSession(id, 6));
    }

    @Test
    public void checkGlobalSessionTreatsUnknownAsExpired() {
        long id = engine.createId(2000, false);
        assertEquals(0, engine.checkGlobalSession(id, 1));
        assertEquals(Code.SESSION_EXPIRED.intValue(), engine.checkGlobalSession(99, 1));
    }

    @Test
    public void addTracksOnceAndRefusesToReviveAClosingSession() throws Exception {
        long id = 0x0500_0000_0000_0001L;
        assertTrue(engine.add(id, 4000, false));
        assertFalse(engine.add(id, 4000, false));
        engine.setClosing(id);
        expectCode(Code.SESSION_EXPIRED, () -> engine.add(id, 4000, false));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.add(0, 4000, false));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.add(8, 0, false));
    }

    @Test
    public void restoreImportsWithAFreshTimeoutOrNothingOnABadEntry() throws Exception {
        long[] ids = {11, 12, 13};
        int[] timeouts = {4000, 5000, 6000};
        expectCode(Code.BAD_ARGUMENTS, () -> engine.restore(new long[] {11, 0}, new int[] {1, 1}, 2));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.restore(new long[] {11}, new int[] {0}, 1));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.restore(ids, timeouts, 4));
        assertEquals(0, engine.snapshot().size());
        assertEquals(3, engine.restore(ids, timeouts, 3));
        assertEquals(0, engine.restore(ids, timeouts, 3));
        assertEquals(4000 + TICK, engine.timeToLive(11));
        List<SessionEntry> snap = new ArrayList<>(engine.snapshot());
        snap.sort((a, b) -> Long.compare(a.id(), b.id()));
        assertEquals(List.of(new SessionEntry(11, 4000, false), new SessionEntry(12, 5000, false),
            new SessionEntry(13, 6000, false)), snap);
    }

    @Test
    public void nullOrOutOfRangeArgumentsFailCleanly() {
        expectCode(Code.BAD_ARGUMENTS, () -> engine.restore(null, null, 1));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.restore(new long[1], new int[1], -1));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.restore(new long[] {5}, new int[0], 1));
        assertThrows(IllegalArgumentException.class, () -> engine.pollExpired(null, 0));
        long id = engine.createId(2000, false);
        expectCode(Code.BAD_ARGUMENTS, () -> engine.touch(id, -5));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.add(id, -1, false));
        assertThrows(NullPointerException.class, () -> engine.touchMany(null, 0, 0));
        // The engine is still fine afterwards.
        assertEquals(0, engine.tryTouch(id));
    }

    @Test
    public void touchManyTouchesKnownLiveSessionsOnly() throws Exception {
        long a = engine.createId(2000, false);
        long b = engine.createId(2000, false);
        long c = engine.createId(2000, false);
        engine.setClosing(c);
        long[] ids = {999, a, b, c, 12345};
        assertEquals(2, engine.touchMany(ids, 0, ids.length));
        assertEquals(1, engine.touchMany(ids, 1, 1));
        assertEquals(0, engine.touchMany(ids, 5, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> engine.touchMany(ids, 3, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> engine.touchMany(ids, -1, 1));
        assertEquals(3, engine.stats().touches());
    }

    @Test
    public void expiryMapGroupsSessionsByDueTime() {
        long a = engine.createId(2000, false);
        long b = engine.createId(2000, false);
        long c = engine.createId(5000, false);
        Map<Long, Set<Long>> m = engine.expiryMap();
        long now = engine.nowMs();
        assertEquals(Set.of(now + 3000, now + 6000), m.keySet());
        assertEquals(Set.of(a, b), m.get(now + 3000));
        assertEquals(Set.of(c), m.get(now + 6000));
    }

    @Test
    public void localSessionsUpgradeOnlyWhenEnabled() throws Exception {
        try (SessionEngine off = SessionEngine.open(new SessionEngine.Options().tickMs(TICK)
                .manualClock(1_000_000).localSessions(true));
            SessionEngine on = SessionEngine.open(new SessionEngine.Options().tickMs(TICK)
                .manualClock(1_000_000).localSessions(true).localSessionUpgrade(true))) {
            Created s = off.create(3000, true);
            assertTrue(s.local());
            assertFalse(off.isGlobal(s.id()));
            assertEquals(Code.SESSION_EXPIRED.intValue(), off.checkGlobalSession(s.id(), 1));
            expectCode(Code.EPHEMERAL_ON_LOCAL_SESSION, () -> off.upgrade(s.id()));
            assertEquals(1, off.stats().local());
            long id = on.createId(3000, true);
            assertEquals(3000, on.upgrade(id));
            assertTrue(on.isGlobal(id));
            assertEquals(3000, on.upgrade(id));
            assertEquals(0, on.checkGlobalSession(id, 1));
        }
    }

    @Test
    public void localRequestsAreGlobalWhenLocalSessionsAreDisabled() throws Exception {
        Created s = engine.create(3000, true);
        assertFalse(s.local());
        assertTrue(engine.isGlobal(s.id()));
    }

    @Test
    public void statsCountSessionsAndEvents() throws Exception {
        long a = engine.createId(2000, false);
        engine.createId(2000, false);
        engine.touch(a);
        engine.setClosing(a);
        Stats s = engine.stats();
        assertEquals(new Stats(1, 0, 1, 2, 1, 0, 0, 0, 0, 1), s);
        assertEquals(2, s.total());
    }

    @Test
    public void badOptionsAreRefusedNamingTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> SessionEngine.open(new SessionEngine.Options().tickMs(0)));
        assertTrue(e.getMessage(), e.getMessage().contains("tick_ms"));
        e = assertThrows(IllegalArgumentException.class,
            () -> SessionEngine.open(new SessionEngine.Options().shards(3)));
        assertTrue(e.getMessage(), e.getMessage().contains("shards"));
        e = assertThrows(IllegalArgumentException.class,
            () -> SessionEngine.open(new SessionEngine.Options().serverId(255)));
        assertTrue(e.getMessage(), e.getMessage().contains("server_id"));
        e = assertThrows(IllegalArgumentException.class,
            () -> SessionEngine.open(new SessionEngine.Options().tickMs(1000).minSessionTimeoutMs(10)));
        assertTrue(e.getMessage(), e.getMessage().contains("min_session_timeout_ms"));
    }

    @Test
    public void closeIsIdempotentAndLaterCallsThrow() {
        SessionEngine e = SessionEngine.open(new SessionEngine.Options().manualClock(5000));
        assertFalse(e.isClosed());
        e.close();
        e.close();
        assertTrue(e.isClosed());
        assertThrows(IllegalStateException.class, () -> e.createId(1000, false));
        assertThrows(IllegalStateException.class, () -> e.tryTouch(1));
    }

    @Test
    public void advanceClockNeedsAManualClock() {
        try (SessionEngine e = SessionEngine.open(new SessionEngine.Options().tickMs(50))) {
            assertThrows(UnsupportedOperationException.class, () -> e.advanceClock(1));
        }
        assertThrows(IllegalArgumentException.class, () -> engine.advanceClock(-1));
    }

    @Test
    public void workersExpireSessionsOnTheSystemClock() {
        try (SessionEngine e = SessionEngine.open(new SessionEngine.Options().tickMs(20))) {
            long id = e.createId(40, false);
            long[] out = new long[2];
            int n = 0;
            // Bounded: the session is due within 60 ms; allow 10 s for a loaded machine.
            for (int i = 0; i < 100 && n == 0; i++) {
                n = e.pollExpired(out, 100);
            }
            assertEquals(1, n);
            assertEquals(id, out[0]);
        }
    }

    @Test
    public void concurrentCallsFromManyThreadsAgree() throws Exception {
        int threads = 4;
        int perThread = 2000;
        AtomicInteger failures = new AtomicInteger();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    long id = engine.createId(4000, false);
                    if (engine.tryTouch(id) != 0 || engine.checkSession(id, 1) != 0 || !engine.remove(id)) {
                        failures.incrementAndGet();
                    }
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        assertEquals(0, failures.get());
        assertEquals(threads * perThread, engine.stats().creates());
        assertEquals(0, engine.stats().total());
    }

    // ---- the ensemble's calls ----

    /** A manual engine with local sessions (upgrades off: the ensemble calls ignore it). */
    private static SessionEngine withLocal() {
        return SessionEngine.open(new SessionEngine.Options().tickMs(TICK).manualClock(1_000_000)
            .localSessions(true));
    }

    @Test
    public void kindAnyReportsEveryTrackedSessionWithItsClosingFlag() throws Exception {
        try (SessionEngine e = withLocal()) {
            long g = e.createId(3000, false);
            long l = e.createId(3000, true);
            long r = (3L << 56) | 1;
            assertTrue(e.addRemote(r, 4000));
            assertEquals(SessionEngine.KIND_GLOBAL, e.kindAny(g));
            assertEquals(SessionEngine.KIND_LOCAL, e.kindAny(l));
            assertEquals(SessionEngine.KIND_REMOTE, e.kindAny(r));
            e.setClosing(l);
            assertEquals(SessionEngine.KIND_LOCAL | SessionEngine.KIND_CLOSING, e.kindAny(l));
            e.setClosing(r);
            assertEquals(SessionEngine.KIND_REMOTE | SessionEngine.KIND_CLOSING, e.kindAny(r));
            assertEquals(Code.UNKNOWN_SESSION.intValue(), e.kindAny(12345));
        }
    }

    @Test
    public void nextIdIsFreshAndUntracked() {
        long a = engine.nextId();
        long b = engine.nextId();
        assertTrue(a != b);
        assertEquals(1, a >>> 56);
        assertFalse(engine.isTracking(a));
        long c = engine.createId(3000, false);
        assertTrue(c != a && c != b);
    }

    @Test
    public void remoteEntriesNeverExpireHereAndAreCountedApart() throws Exception {
        long r = (2L << 56) | 9;
        assertTrue(engine.addRemote(r, 3000));
        assertFalse(engine.addRemote(r, 5000));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.addRemote(0, 3000));
        expectCode(Code.BAD_ARGUMENTS, () -> engine.addRemote(r + 1, 0));
        engine.advanceClock(100 * TICK);
        assertEquals(0, engine.expireDue());
        assertTrue(engine.isTracking(r));
        Stats s = engine.stats();
        assertEquals(1, s.remote());
        assertEquals(0, s.global());
        assertEquals(1, s.total());
        assertTrue(engine.expiryMap().isEmpty());
    }

    @Test
    public void upgradeToRemoteStopsExpiryAndLosesCleanlyToIt() throws Exception {
        try (SessionEngine e = withLocal()) {
            long l = e.createId(3000, true);
            long closing = e.createId(3000, true);
            long g = e.createId(4000, false);
            assertEquals(3000, e.upgradeToRemote(l));
            assertEquals(3000, e.upgradeToRemote(l));
            assertEquals(SessionEngine.KIND_REMOTE, e.kindAny(l));
            assertEquals(4000, e.upgradeToRemote(g));
            assertEquals(SessionEngine.KIND_GLOBAL, e.kindAny(g));
            e.setClosing(closing);
            assertEquals(Code.SESSION_EXPIRED.intValue(), e.upgradeToRemote(closing));
            assertEquals(Code.UNKNOWN_SESSION.intValue(), e.upgradeToRemote(777));
            e.advanceClock(100 * TICK);
            assertEquals(1, e.expireDue()); // g only
            assertEquals(SessionEngine.KIND_REMOTE, e.kindAny(l));
        }
    }

    @Test
    public void learnerTouchRefreshesLocalSessionsAndRecordsRemoteOnes() throws Exception {
        try (SessionEngine e = withLocal()) {
            long l = e.createId(3000, true);
            long r = (4L << 56) | 1;
            e.addRemote(r, 3000);
            e.advanceClock(2 * TICK);
            assertEquals(SessionEngine.TOUCH_LOCAL, e.learnerTouch(l, 5000));
            assertTrue(e.timeToLive(l) > 3000);
            assertEquals(SessionEngine.TOUCH_FORWARDED, e.learnerTouch(r, 6000));
            assertEquals(1, e.stats().touchTable());
            assertArrayEquals(new long[] {r, 6000}, e.drainTouched());
            assertArrayEquals(new long[0], e.drainTouched());
            e.setClosing(l);
            assertEquals(Code.SESSION_EXPIRED.intValue(), e.learnerTouch(l, 3000));
            assertEquals(Code.UNKNOWN_SESSION.intValue(), e.learnerTouch(999, 3000));
            assertEquals(Code.BAD_ARGUMENTS.intValue(), e.learnerTouch(r, 0));
        }
    }

    @Test
    public void drainTouchedHandsOutEachIdOnceWithItsLastTimeout() {
        for (long id = 1; id <= 50; id++) {
            engine.recordTouch(id, (int) (100 * id));
        }
        engine.recordTouch(7, 4242);
        long[] pairs = engine.drainTouched();
        assertEquals(100, pairs.length);
        Map<Long, Long> seen = new java.util.HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            assertEquals(null, seen.put(pairs[i], pairs[i + 1]));
        }
        assertEquals(50, seen.size());
        assertEquals(4242L, (long) seen.get(7L));
        assertEquals(2000L, (long) seen.get(20L));
        assertEquals(0, engine.drainTouched().length);
        assertEquals(0, engine.stats().touchTable());
    }

    @Test
    public void recordedTouchesRacingDrainsAreNeitherLostNorRepeated() throws Exception {
        int writers = 4;
        int perWriter = 5000;
        List<Thread> ts = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            long base = (long) w * perWriter;
            Thread th = new Thread(() -> {
                for (int i = 0; i < perWriter; i++) {
                    engine.recordTouch(base + i + 1, 3000);
                }
            });
            ts.add(th);
            th.start();
        }
        Set<Long> seen = new java.util.HashSet<>();
        boolean running = true;
        while (running) {
            running = ts.stream().anyMatch(Thread::isAlive);
            long[] pairs = engine.drainTouched();
            for (int i = 0; i < pairs.length; i += 2) {
                assertTrue("drained twice: " + pairs[i], seen.add(pairs[i]));
            }
        }
        for (Thread th : ts) {
            th.join();
        }
        long[] rest = engine.drainTouched();
        for (int i = 0; i < rest.length; i += 2) {
            assertTrue(seen.add(rest[i]));
        }
        assertEquals(writers * perWriter, seen.size());
    }

    @Test
    public void makeGlobalKeepsTheDeadline() throws Exception {
        try (SessionEngine e = withLocal()) {
            long l = e.createId(3000, true);
            long r = (5L << 56) | 1;
            long closing = e.createId(3000, true);
            e.addRemote(r, 6000);
            e.advanceClock(TICK);
            long ttl = e.timeToLive(l);
            assertEquals(3000, e.makeGlobal(l));
            assertEquals(ttl, e.timeToLive(l));
            assertEquals(SessionEngine.KIND_GLOBAL, e.kindAny(l));
            assertEquals(3000, e.makeGlobal(l));
            assertEquals(6000, e.makeGlobal(r));
            assertEquals(SessionEngine.KIND_GLOBAL, e.kindAny(r));
            e.setClosing(closing);
            assertEquals(Code.SESSION_EXPIRED.intValue(), e.makeGlobal(closing));
            assertEquals(Code.UNKNOWN_SESSION.intValue(), e.makeGlobal(4242));
            e.advanceClock(ttl);
            assertEquals(1, e.expireDue());
            assertEquals(SessionEngine.KIND_GLOBAL | SessionEngine.KIND_CLOSING, e.kindAny(l));
        }
    }

    @Test
    public void pollExpiredWithKindWritesTriples() throws Exception {
        try (SessionEngine e = withLocal()) {
            long g = e.createId(3000, false);
            long l = e.createId(3000, true);
            e.advanceClock(10 * TICK);
            assertEquals(2, e.expireDue());
            Stats s = e.stats();
            assertEquals(1, s.closingLocal());
            assertEquals(1, s.closingGlobal());
            assertEquals(2, s.closing());
            long[] out = new long[7];
            assertEquals(2, e.pollExpired(out, 0, true));
            for (int i = 0; i < 2; i++) {
                long id = out[3 * i];
                assertEquals(3000, out[3 * i + 1]);
                assertEquals(id == g ? SessionEngine.KIND_GLOBAL : SessionEngine.KIND_LOCAL, out[3 * i + 2]);
                assertTrue(id == g || id == l);
            }
            assertEquals(0, e.pollExpired(out, 0, true));
            assertThrows(IllegalArgumentException.class, () -> e.pollExpired(new long[2], 0, true));
            assertThrows(IllegalArgumentException.class, () -> e.pollExpired(out, -1, true));
        }
    }

    @Test
    public void expiryMapByKindListsOneKind() throws Exception {
        try (SessionEngine e = withLocal()) {
            long g = e.createId(3000, false);
            long l = e.createId(5000, true);
            e.addRemote((6L << 56) | 1, 3000);
            Map<Long, Set<Long>> local = e.expiryMap(SessionEngine.KIND_LOCAL);
            assertEquals(1, local.size());
            assertEquals(Set.of(l), local.values().iterator().next());
            Map<Long, Set<Long>> global = e.expiryMap(SessionEngine.KIND_GLOBAL);
            assertEquals(Set.of(g), global.values().iterator().next());
            assertEquals(1, global.size());
            assertThrows(IllegalArgumentException.class, () -> e.expiryMap(SessionEngine.KIND_REMOTE));
        }
    }

    @Test
    public void stopWorkersIsIdempotentAndLeavesTheEngineUsable() throws Exception {
        try (SessionEngine e = SessionEngine.open(new SessionEngine.Options().tickMs(50).expiryWorkers(1))) {
            long id = e.createId(10_000, false);
            e.stopWorkers();
            e.stopWorkers();
            // A poll no longer waits for workers that are gone (bounded anyway by its timeout).
            assertEquals(0, e.pollExpired(new long[2], 60_000));
            e.touch(id);
            assertEquals(0, e.expireDue());
            assertEquals(SessionEngine.KIND_GLOBAL, e.kindAny(id));
            assertTrue(e.remove(id));
        }
    }

    @Test
    public void stopWorkersWakesAWaitingPoller() throws Exception {
        try (SessionEngine e = SessionEngine.open(new SessionEngine.Options().tickMs(50).expiryWorkers(1))) {
            AtomicInteger got = new AtomicInteger(-1);
            Thread poller = new Thread(() -> got.set(e.pollExpired(new long[2], 60_000)));
            poller.start();
            e.stopWorkers();
            poller.join(30_000); // far below the poll's own 60 s bound
            assertFalse(poller.isAlive());
            assertEquals(0, got.get());
        }
    }
}
