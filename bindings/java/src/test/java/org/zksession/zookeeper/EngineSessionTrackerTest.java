package org.zksession.zookeeper;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.server.SessionTracker;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.zksession.SessionEngine;

/**
 * The {@link SessionTracker} contract of the engine-backed tracker, on a manual clock: the
 * scenarios of ZooKeeper's SessionTrackerTest and the interface's documented behaviour.
 */
public class EngineSessionTrackerTest {
    private static final int TICK = 1000;

    /** Records every session handed to it, as ZooKeeperServer.expire would submit a close. */
    static final class RecordingExpirer implements SessionTracker.SessionExpirer {
        final LinkedBlockingQueue<SessionTracker.Session> expired = new LinkedBlockingQueue<>();

        @Override
        public void expire(SessionTracker.Session session) {
            expired.add(session);
        }

        @Override
        public long getServerId() {
            return 1;
        }

        /** Waits (bounded) for the expiry thread to deliver the next session. */
        SessionTracker.Session next() throws InterruptedException {
            return expired.poll(10, TimeUnit.SECONDS);
        }
    }

    private SessionEngine engine;
    private RecordingExpirer expirer;
    private ConcurrentHashMap<Long, Integer> committed;
    private EngineSessionTracker tracker;

    private static SessionEngine.Options options() {
        return new SessionEngine.Options().tickMs(TICK).minSessionTimeoutMs(TICK)
            .maxSessionTimeoutMs(Integer.MAX_VALUE).manualClock(1_000_000);
    }

    @Before
    public void setUp() {
        engine = SessionEngine.open(options());
        expirer = new RecordingExpirer();
        committed = new ConcurrentHashMap<>();
        tracker = new EngineSessionTracker(engine, expirer, committed, false);
        tracker.start();
    }

    @After
    public void tearDown() {
        tracker.shutdown();
        engine.close();
    }

    @Test
    public void addSessionAfterSessionExpiryDoesNotExpireItTwice() throws Exception {
        // SessionTrackerTest.testAddSessionAfterSessionExpiry.
        long id = tracker.createSession(3000);
        engine.advanceClock(4000);
        assertEquals(1, engine.expireDue());
        SessionTracker.Session s = expirer.next();
        assertEquals(id, s.getSessionId());
        assertEquals(3000, s.getTimeout());
        assertTrue(s.isClosing());
        assertFalse(tracker.trackSession(id, 3000));
        assertThrows(KeeperException.SessionExpiredException.class, () -> tracker.checkSession(id, null));
        assertFalse(tracker.touchSession(id, 3000));
        engine.advanceClock(10_000);
        assertEquals(0, engine.expireDue());
        assertTrue(expirer.expired.isEmpty());
    }

    @Test
    public void removeSessionAfterExpiryForgetsIt() throws Exception {
        // SessionTrackerTest.testCloseSessionRequestAfterSessionExpiry.
        long id = tracker.createSession(3000);
        tracker.commitSession(id, 3000);
        engine.advanceClock(4000);
        engine.expireDue();
        assertEquals(id, expirer.next().getSessionId());
        assertTrue(tracker.isTrackingSession(id));
        tracker.removeSession(id);
        assertFalse(tracker.isTrackingSession(id));
        assertFalse(committed.containsKey(id));
    }

    @Test
    public void touchKeepsASessionAliveAndUsesTheGivenTimeout() {
        long id = tracker.createSession(2000);
        engine.advanceClock(1500);
        assertTrue(tracker.touchSession(id, 6000));
        engine.advanceClock(5000);
        assertEquals(0, engine.expireDue());
        engine.advanceClock(2000);
        assertEquals(1, engine.expireDue());
        assertFalse(tracker.touchSession(id, 6000));
        assertFalse(tracker.touchSession(12345, 6000));
    }

    @Test
    public void checkSessionDistinguishesUnknownExpiredAndMoved() throws Exception {
        Object cnxnA = new Object();
        Object cnxnB = new Object();
        assertThrows(KeeperException.UnknownSessionException.class, () -> tracker.checkSession(77, cnxnA));
        long id = tracker.createSession(2000);
        tracker.checkSession(id, cnxnA);
        tracker.checkSession(id, cnxnA);
        assertThrows(KeeperException.SessionMovedException.class, () -> tracker.checkSession(id, cnxnB));
        tracker.setOwner(id, cnxnB);
        tracker.checkSession(id, cnxnB);
        assertThrows(KeeperException.SessionMovedException.class, () -> tracker.checkGlobalSession(id, cnxnA));
        tracker.checkGlobalSession(id, cnxnB);
        tracker.setSessionClosing(id);
        assertThrows(KeeperException.SessionExpiredException.class, () -> tracker.checkSession(id, cnxnB));
        assertThrows(KeeperException.SessionExpiredException.class, () -> tracker.setOwner(id, cnxnB));
    }

    @Test
    public void aNullOwnerMeansNoOwnerAsInSessionTrackerImpl() throws Exception {
        // ZooKeeper's createSession prep calls setOwner(id, null); the first request's
        // owner (ServerCnxn.me) must then claim the session.
        Object a = new Object();
        Object b = new Object();
        long id = tracker.createSession(2000);
        tracker.setOwner(id, null);
        tracker.checkSession(id, a);
        assertThrows(KeeperException.SessionMovedException.class, () -> tracker.checkSession(id, b));
        assertThrows(KeeperException.SessionMovedException.class, () -> tracker.checkSession(id, null));
        tracker.setOwner(id, null);
        tracker.checkGlobalSession(id, b);
        assertThrows(KeeperException.SessionMovedException.class, () -> tracker.checkSession(id, a));
        assertThrows(KeeperException.SessionExpiredException.class, () -> tracker.setOwner(4242, null));
    }

    @Test
    public void ownersAreComparedByIdentityNotEquality() throws Exception {
        long id = tracker.createSession(2000);
        tracker.checkSession(id, new String("owner"));
        assertThrows(KeeperException.SessionMovedException.class,
            () -> tracker.checkSession(id, new String("owner")));
    }

    @Test
    public void setOwnerAndCheckGlobalOfUnknownSessionAreExpired() {
        assertThrows(KeeperException.SessionExpiredException.class, () -> tracker.setOwner(5, new Object()));
        assertThrows(KeeperException.SessionExpiredException.class,
            () -> tracker.checkGlobalSession(5, new Object()));
    }

    @Test
    public void setSessionClosingOfUnknownSessionIsANoOp() {
        tracker.setSessionClosing(5);
        assertFalse(tracker.isTrackingSession(5));
    }

    @Test
    public void trackSessionReturnsTrueOnlyWhenNew() {
        assertTrue(tracker.trackSession(0x0200_0000_0000_0001L, 4000));
        assertFalse(tracker.trackSession(0x0200_0000_0000_0001L, 4000));
        assertTrue(tracker.isTrackingSession(0x0200_0000_0000_0001L));
    }

    @Test
    public void commitSessionFillsTheCommittedTableOnce() {
        long id = tracker.createSession(3000);
        assertFalse(committed.containsKey(id));
        assertTrue(tracker.commitSession(id, 3000));
        assertFalse(tracker.commitSession(id, 3000));
        assertEquals(Integer.valueOf(3000), committed.get(id));
    }

    @Test
    public void sessionsFromTheSnapshotAreTrackedWithAFreshTimeout() throws Exception {
        ConcurrentHashMap<Long, Integer> loaded = new ConcurrentHashMap<>();
        loaded.put(0x0100_0000_0000_0010L, 4000);
        loaded.put(0x0100_0000_0000_0011L, 8000);
        try (SessionEngine e = SessionEngine.open(options())) {
            EngineSessionTracker t = new EngineSessionTracker(e, expirer, loaded, false);
            t.start();
            assertEquals(Set.of(0x0100_0000_0000_0010L, 0x0100_0000_0000_0011L), t.globalSessions());
            e.advanceClock(4999);
            assertEquals(0, e.expireDue());
            e.advanceClock(1);
            assertEquals(1, e.expireDue());
            assertEquals(0x0100_0000_0000_0010L, expirer.next().getSessionId());
            assertEquals(2, loaded.size());
            t.shutdown();
        }
    }

    @Test
    public void expiryMapAndDumpListSessionsByDueTime() {
        long a = tracker.createSession(2000);
        long b = tracker.createSession(2000);
        long c = tracker.createSession(5000);
        Map<Long, Set<Long>> m = tracker.getSessionExpiryMap();
        assertEquals(2, m.size());
        assertTrue(m.containsValue(Set.of(a, b)));
        assertTrue(m.containsValue(Set.of(c)));
        StringWriter sw = new StringWriter();
        tracker.dumpSessions(new PrintWriter(sw, true));
        String dump = sw.toString();
        assertTrue(dump, dump.startsWith("Session Sets (2)/(3):"));
        assertTrue(dump, dump.contains("2 expire at "));
        assertTrue(dump, dump.contains("\t0x" + Long.toHexString(c)));
    }

    @Test
    public void globalTrackerHasNoLocalSessions() {
        long id = tracker.createSession(2000);
        assertFalse(tracker.isLocalSessionsEnabled());
        assertEquals(0, tracker.getLocalSessionCount());
        assertEquals(Set.of(), tracker.localSessions());
        assertEquals(Set.of(id), tracker.globalSessions());
        assertTrue(tracker.isGlobalSession(id));
    }

    @Test
    public void localSessionsAreLocalUntilUpgradedOrCommitted() throws Exception {
        try (SessionEngine e = SessionEngine.open(options().localSessions(true).localSessionUpgrade(true))) {
            EngineSessionTracker t = new EngineSessionTracker(e, expirer, new ConcurrentHashMap<>(), true);
            long a = t.createSession(3000);
            long b = t.createSession(3000);
            assertTrue(t.isLocalSessionsEnabled());
            assertEquals(Set.of(a, b), t.localSessions());
            assertEquals(2, t.getLocalSessionCount());
            assertThrows(KeeperException.SessionExpiredException.class, () -> t.checkGlobalSession(a, null));
            t.checkSession(a, null);
            assertEquals(3000, t.upgradeSession(a));
            assertEquals(-1, t.upgradeSession(a));
            assertTrue(t.isGlobalSession(a));
            t.checkGlobalSession(a, null);
            assertTrue(t.commitSession(b, 3000));
            assertTrue(t.isGlobalSession(b));
            assertEquals(Set.of(a, b), t.globalSessions());
            assertEquals(0, t.getLocalSessionCount());
            assertEquals(-1, t.upgradeSession(999));
        }
    }

    @Test
    public void upgradeIsRefusedWhenUpgradingIsDisabled() {
        try (SessionEngine e = SessionEngine.open(options().localSessions(true))) {
            EngineSessionTracker t = new EngineSessionTracker(e, expirer, new ConcurrentHashMap<>(), true);
            long a = t.createSession(3000);
            assertTrue(t.isLocalSession(a));
            assertEquals(-1, t.upgradeSession(a));
            assertTrue(t.isLocalSession(a));
        }
    }

    @Test
    public void shutdownStopsDeliveringExpirations() throws Exception {
        tracker.createSession(2000);
        tracker.shutdown();
        engine.advanceClock(3000);
        assertEquals(1, engine.expireDue());
        assertNull(expirer.expired.poll(300, TimeUnit.MILLISECONDS));
    }

    @Test
    public void expirerFailureDoesNotStopDelivery() throws Exception {
        RecordingExpirer recorder = new RecordingExpirer();
        SessionTracker.SessionExpirer flaky = new SessionTracker.SessionExpirer() {
            private boolean failed;

            @Override
            public void expire(SessionTracker.Session s) {
                if (!failed) {
                    failed = true;
                    throw new IllegalStateException("boom");
                }
                recorder.expire(s);
            }

            @Override
            public long getServerId() {
                return 1;
            }
        };
        try (SessionEngine e = SessionEngine.open(options())) {
            EngineSessionTracker t = new EngineSessionTracker(e, flaky, new ConcurrentHashMap<>(), false);
            t.start();
            t.createSession(2000);
            e.advanceClock(3000);
            e.expireDue();
            long second = t.createSession(2000);
            e.advanceClock(3000);
            e.expireDue();
            assertEquals(second, recorder.next().getSessionId());
            t.shutdown();
        }
    }

    @Test
    public void ownEngineTrackerRunsOnTheSystemClockAndCloses() {
        EngineSessionTracker t = new EngineSessionTracker(expirer, new ConcurrentHashMap<>(), 50, 3, false, false);
        long id = t.createSession(100);
        assertEquals(3, id >>> 56);
        assertTrue(t.touchSession(id, 100));
        t.close();
        assertTrue(t.engine().isClosed());
    }
}
