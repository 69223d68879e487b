package org.zksession.zookeeper;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.KeeperException;
import org.junit.After;
import org.junit.Test;
import org.zksession.SessionEngine;
import org.zksession.zookeeper.EngineSessionTrackerTest.RecordingExpirer;

/**
 * {@link EngineLearnerSessionTracker} on a manual clock: ZooKeeper's LearnerSessionTracker
 * behaviour (global sessions never expire on a learner, local ones do, touches of global
 * sessions go to the touch table for the leader, upgrade, ids without tracking) and a touch
 * table that loses no touch to a concurrent drain.
 */
public class EngineLearnerSessionTrackerTest {
    private static final int TICK = 1000;
    private static final long SID = 2;

    private SessionEngine engine;
    private final RecordingExpirer expirer = new RecordingExpirer();
    private final ConcurrentHashMap<Long, Integer> committed = new ConcurrentHashMap<>();
    private EngineLearnerSessionTracker tracker;

    private void open(boolean local) {
        engine = SessionEngine.open(new SessionEngine.Options().tickMs(TICK).minSessionTimeoutMs(TICK)
            .maxSessionTimeoutMs(Integer.MAX_VALUE).serverId((int) SID).localSessions(local)
            .localSessionUpgrade(true).manualClock(1_000_000));
        tracker = new EngineLearnerSessionTracker(engine, expirer, committed, SID, local);
        tracker.start();
    }

    @After
    public void tearDown() {
        if (tracker != null) {
            tracker.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    private static long idOfServer(long sid, long n) {
        return (sid << 56) | n;
    }

    @Test
    public void aLearnerNeverExpiresAGlobalSession() throws Exception {
        long g = idOfServer(1, 4);
        committed.put(g, 4000);
        open(true);
        assertTrue(tracker.isGlobalSession(g));
        assertFalse(tracker.isLocalSession(g));
        assertTrue(tracker.isTrackingSession(g));
        assertEquals(1, engine.stats().remote());
        engine.advanceClock(100_000);
        assertEquals(0, engine.expireDue());
        assertNull(expirer.expired.poll(200, TimeUnit.MILLISECONDS));
        assertTrue(tracker.isGlobalSession(g));
        assertTrue(tracker.getSessionExpiryMap().isEmpty());
        // A learner does not close a global session itself.
        tracker.setSessionClosing(g);
        assertTrue(tracker.touchSession(g, 4000));
    }

    @Test
    public void aLocalSessionExpiresOnItsLearnerAndStaysLocalWhileClosing() throws Exception {
        open(true);
        long id = tracker.createSession(3000);
        assertEquals(SID, id >> 56);
        assertTrue(tracker.isLocalSession(id));
        assertFalse(tracker.isGlobalSession(id));
        assertEquals(1, tracker.getLocalSessionCount());
        engine.advanceClock(2000);
        assertTrue(tracker.touchSession(id, 3000));
        assertTrue(tracker.getTouchSnapshot().isEmpty()); // a local touch stays here
        engine.advanceClock(4000);
        assertEquals(1, engine.expireDue());
        assertEquals(id, expirer.next().getSessionId());
        assertTrue(tracker.isLocalSession(id));
        assertFalse(tracker.touchSession(id, 3000));
        tracker.removeSession(id);
        assertFalse(tracker.isLocalSession(id));
    }

    @Test
    public void touchesOfGlobalSessionsGoToTheTouchTableOncePerPing() {
        long g = idOfServer(1, 4);
        committed.put(g, 4000);
        open(true);
        assertTrue(tracker.touchSession(g, 4000));
        assertTrue(tracker.touchSession(g, 5000));
        assertEquals(1, tracker.touchTableSize());
        assertEquals(Map.of(g, 5000), tracker.getTouchSnapshot());
        assertTrue(tracker.getTouchSnapshot().isEmpty());
        // Unknown with local sessions on: the touch fails and the request is dropped.
        assertFalse(tracker.touchSession(idOfServer(1, 5), 4000));
        assertTrue(tracker.getTouchSnapshot().isEmpty());
    }

    @Test
    public void withLocalSessionsOffEveryTouchIsForwardedAndIdsAreNotTracked() {
        open(false);
        long a = tracker.createSession(4000);
        long b = tracker.createSession(4000);
        assertNotEquals(a, b);
        assertEquals(SID, a >> 56);
        assertFalse(tracker.isTrackingSession(a));
        assertFalse(tracker.trackSession(a, 4000));
        assertEquals(0, engine.stats().total());
        assertTrue(tracker.touchSession(a, 4000));
        assertEquals(Map.of(a, 4000), tracker.getTouchSnapshot());
        assertEquals(-1, tracker.upgradeSession(a));
        tracker.commitSession(b, 4000);
        assertTrue(tracker.isGlobalSession(b));
        assertEquals(Map.of(b, 4000), tracker.getTouchSnapshot());
    }

    @Test
    public void anUpgradingSessionLeavesLocalExpiryAndItsTouchesReachTheLeader() throws Exception {
        open(true);
        long id = tracker.createSession(4000);
        synchronized (tracker) {
            assertTrue(tracker.isLocalSession(id));
            assertEquals(4000, tracker.upgradeSession(id));
        }
        assertTrue(tracker.isUpgradingSession(id));
        assertFalse(tracker.isLocalSession(id));
        assertFalse(tracker.isGlobalSession(id));
        assertEquals(0, tracker.getLocalSessionCount());
        assertTrue(tracker.touchSession(id, 4000));
        assertEquals(Map.of(id, 4000), tracker.getTouchSnapshot());
        engine.advanceClock(10_000);
        assertEquals(0, engine.expireDue());
        assertTrue(tracker.commitSession(id, 4000));
        assertFalse(tracker.isUpgradingSession(id));
        assertTrue(tracker.isGlobalSession(id));
        assertEquals(Map.of(id, 4000), tracker.getTouchSnapshot());
    }

    @Test
    public void removeForgetsEverything() {
        long g = idOfServer(1, 4);
        committed.put(g, 4000);
        open(true);
        tracker.touchSession(g, 4000);
        tracker.removeSession(g);
        assertFalse(tracker.isGlobalSession(g));
        assertFalse(committed.containsKey(g));
        assertTrue(tracker.getTouchSnapshot().isEmpty());
    }

    @Test
    public void checksOnALearner() throws Exception {
        long g = idOfServer(1, 4);
        committed.put(g, 4000);
        open(true);
        Object cnxn = new Object();
        tracker.checkSession(g, cnxn);
        tracker.setOwner(g, cnxn);
        long local = tracker.createSession(4000);
        tracker.setOwner(local, cnxn);
        tracker.checkSession(local, cnxn);
        assertThrows(KeeperException.SessionMovedException.class, () -> tracker.checkSession(local, new Object()));
        assertThrows(KeeperException.SessionExpiredException.class,
            () -> tracker.checkSession(idOfServer(1, 99), cnxn));
        assertThrows(UnsupportedOperationException.class, () -> tracker.checkGlobalSession(g, cnxn));
    }

    @Test
    public void dumpListsLocalBucketsThenGlobalSessions() {
        long g = idOfServer(1, 0xab);
        committed.put(g, 4000);
        open(true);
        long local = tracker.createSession(4000);
        StringWriter sw = new StringWriter();
        tracker.dumpSessions(new PrintWriter(sw, true));
        String dump = sw.toString();
        assertTrue(dump, dump.startsWith("Local Session Sets (1)/(1):"));
        assertTrue(dump, dump.contains("0x" + Long.toHexString(local)));
        assertTrue(dump, dump.contains("Global Sessions(1):\n0x" + Long.toHexString(g) + "\t4000ms\n"));
        assertEquals(Set.of(g), new HashSet<>(tracker.globalSessions()));
        assertEquals(Set.of(local), tracker.localSessions());
    }

    @Test
    public void aTouchRacingADrainIsNeverLost() throws Exception {
        int n = 200_000;
        for (long i = 1; i <= 1000; i++) {
            committed.put(idOfServer(1, i), 4000);
        }
        open(true);
        AtomicBoolean done = new AtomicBoolean();
        Map<Long, Integer> seen = new HashMap<>();
        Thread drainer = new Thread(() -> {
            while (!done.get()) {
                merge(seen, tracker.getTouchSnapshot());
            }
        });
        drainer.start();
        Map<Long, Integer> last = new HashMap<>();
        for (int i = 0; i < n; i++) {
            long id = idOfServer(1, 1 + (i % 1000));
            int to = 4000 + i;
            assertTrue(tracker.touchSession(id, to));
            last.put(id, to);
        }
        done.set(true);
        drainer.join();
        merge(seen, tracker.getTouchSnapshot());
        // Every session's last touch reached some drain, with its last timeout.
        assertEquals(last, seen);
    }

    private static void merge(Map<Long, Integer> into, Map<Long, Integer> drained) {
        for (Map.Entry<Long, Integer> e : drained.entrySet()) {
            into.merge(e.getKey(), e.getValue(), Math::max);
        }
    }
}
