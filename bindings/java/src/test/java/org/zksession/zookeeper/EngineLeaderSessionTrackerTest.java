package org.zksession.zookeeper;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.server.SessionTracker;
import org.junit.After;
import org.junit.Test;
import org.zksession.SessionEngine;
import org.zksession.zookeeper.EngineSessionTrackerTest.RecordingExpirer;

/**
 * {@link EngineLeaderSessionTracker} on a manual clock: ZooKeeper's LeaderSessionTracker
 * behaviour (restore with fresh deadlines, local and global expiry, the kind of closing
 * sessions, commit without refresh, the rule for other servers' ids, upgrade, dump).
 */
public class EngineLeaderSessionTrackerTest {
    private static final int TICK = 1000;
    private static final long SID = 1;

    private SessionEngine engine;
    private final RecordingExpirer expirer = new RecordingExpirer();
    private final ConcurrentHashMap<Long, Integer> committed = new ConcurrentHashMap<>();
    private EngineLeaderSessionTracker tracker;

    private EngineLeaderSessionTracker open(boolean local) {
        engine = SessionEngine.open(new SessionEngine.Options().tickMs(TICK).minSessionTimeoutMs(TICK)
            .maxSessionTimeoutMs(Integer.MAX_VALUE).serverId((int) SID).localSessions(local)
            .localSessionUpgrade(true).manualClock(1_000_000));
        tracker = new EngineLeaderSessionTracker(engine, expirer, committed, SID, local);
        tracker.start();
        return tracker;
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
    public void everyLeadershipRestoresTheDatabaseSessionsWithFreshDeadlines() throws Exception {
        long a = idOfServer(2, 7);
        committed.put(a, 4000);
        open(true);
        assertTrue(tracker.isGlobalSession(a));
        engine.advanceClock(3500);
        assertEquals(0, engine.expireDue());
        engine.advanceClock(1500);
        assertEquals(1, engine.expireDue());
        SessionTracker.Session s = expirer.next();
        assertEquals(a, s.getSessionId());
        // Closing, it is still global (ZooKeeper's isGlobalSession includes closing sessions).
        assertTrue(tracker.isGlobalSession(a));
        assertFalse(tracker.isLocalSession(a));
        tracker.removeSession(a);
        assertFalse(tracker.isGlobalSession(a));
        assertFalse(committed.containsKey(a));
    }

    @Test
    public void aLocalSessionExpiresOnTheLeaderAndStaysLocalWhileClosing() throws Exception {
        open(true);
        long id = tracker.createSession(3000);
        assertTrue(tracker.isLocalSession(id));
        assertFalse(tracker.isGlobalSession(id));
        assertEquals(1, tracker.getLocalSessionCount());
        assertEquals(SID, id >> 56);
        engine.advanceClock(4000);
        assertEquals(1, engine.expireDue());
        assertEquals(id, expirer.next().getSessionId());
        // Its close must be marked local, so no txn: isLocalSession holds until removal.
        assertTrue(tracker.isLocalSession(id));
        assertFalse(tracker.isGlobalSession(id));
        assertEquals(1, tracker.getLocalSessionCount()); // counted until removed, as ZooKeeper does
        tracker.removeSession(id);
        assertFalse(tracker.isLocalSession(id));
        assertFalse(tracker.isTrackingSession(id));
        assertEquals(0, tracker.getLocalSessionCount());
    }

    @Test
    public void withLocalSessionsOffNewSessionsAreGlobal() {
        open(false);
        long id = tracker.createSession(3000);
        assertTrue(tracker.isGlobalSession(id));
        assertFalse(tracker.isLocalSession(id));
        assertEquals(0, tracker.getLocalSessionCount());
        assertEquals(-1, tracker.upgradeSession(id));
    }

    @Test
    public void commitSessionDoesNotRefreshTheDeadline() throws Exception {
        open(true);
        long id = idOfServer(3, 1);
        assertTrue(tracker.trackSession(id, 4000));
        assertFalse(tracker.trackSession(id, 4000));
        engine.advanceClock(3000);
        assertTrue(tracker.commitSession(id, 4000));
        assertFalse(tracker.commitSession(id, 4000));
        assertEquals(Integer.valueOf(4000), committed.get(id));
        // Due at the first tick boundary after 4000 ms: a refresh at 3000 would move it past 7000.
        engine.advanceClock(2100);
        assertEquals(1, engine.expireDue());
        assertEquals(id, expirer.next().getSessionId());
    }

    @Test
    public void upgradeThenCommitMakesALocalSessionGlobal() throws Exception {
        open(true);
        long id = tracker.createSession(4000);
        synchronized (tracker) {
            assertTrue(tracker.isLocalSession(id));
            assertEquals(4000, tracker.upgradeSession(id));
        }
        assertTrue(tracker.isUpgradingSession(id));
        assertTrue(tracker.isGlobalSession(id));
        assertFalse(tracker.isLocalSession(id));
        assertEquals(0, tracker.getLocalSessionCount());
        tracker.commitSession(id, 4000);
        assertFalse(tracker.isUpgradingSession(id));
        assertTrue(committed.containsKey(id));
        assertTrue(tracker.globalSessions().contains(id));
        // A second upgrade is not one.
        assertEquals(-1, tracker.upgradeSession(id));
    }

    @Test
    public void aClosingGlobalSessionIsStillGlobalAndCannotBeTouchedOrTrackedAgain() {
        open(true);
        long id = idOfServer(2, 9);
        tracker.trackSession(id, 4000);
        tracker.commitSession(id, 4000);
        tracker.setSessionClosing(id);
        assertTrue(tracker.isGlobalSession(id));
        assertFalse(tracker.isLocalSession(id));
        assertFalse(tracker.touchSession(id, 4000));
        assertFalse(tracker.trackSession(id, 4000));
        tracker.setSessionClosing(idOfServer(2, 10)); // unknown: a no-op
    }

    @Test
    public void aPingTouchCarriesTheSessionTimeout() throws Exception {
        open(true);
        long id = idOfServer(2, 3);
        tracker.trackSession(id, 2000);
        tracker.commitSession(id, 2000);
        engine.advanceClock(1000);
        assertTrue(tracker.touchSession(id, 6000));
        engine.advanceClock(5500);
        assertEquals(0, engine.expireDue());
        engine.advanceClock(2000);
        assertEquals(1, engine.expireDue());
        assertFalse(tracker.touchSession(idOfServer(2, 4), 6000));
    }

    @Test
    public void unknownIdsOfOtherServersPassTheCheckOnlyWithLocalSessions() throws Exception {
        open(true);
        tracker.checkSession(idOfServer(2, 5), new Object());
        assertThrows(KeeperException.SessionExpiredException.class,
            () -> tracker.checkSession(idOfServer(SID, 5), new Object()));
        tearDown();
        tracker = null;
        engine = null;
        open(false);
        assertThrows(KeeperException.SessionExpiredException.class,
            () -> tracker.checkSession(idOfServer(2, 5), new Object()));
    }

    @Test
    public void checksAndOwnersOnTheLeader() throws Exception {
        open(true);
        Object cnxn = new Object();
        Object learnerHandler = new Object();
        long global = idOfServer(2, 1);
        tracker.trackSession(global, 4000);
        tracker.commitSession(global, 4000);
        tracker.setOwner(global, cnxn);
        tracker.checkSession(global, cnxn);
        tracker.checkGlobalSession(global, cnxn);
        assertThrows(KeeperException.SessionMovedException.class, () -> tracker.checkSession(global, learnerHandler));
        // Revalidation through another learner moves the session.
        tracker.setOwner(global, learnerHandler);
        tracker.checkGlobalSession(global, learnerHandler);
        long local = tracker.createSession(4000);
        tracker.checkSession(local, cnxn);
        assertThrows(KeeperException.SessionExpiredException.class, () -> tracker.checkGlobalSession(local, cnxn));
        assertThrows(KeeperException.SessionExpiredException.class,
            () -> tracker.setOwner(idOfServer(SID, 77), cnxn));
    }

    @Test
    public void dumpSplitsLocalAndGlobalSessions() {
        open(true);
        long local = tracker.createSession(4000);
        long global = idOfServer(2, 1);
        tracker.trackSession(global, 8000);
        tracker.commitSession(global, 8000);
        StringWriter sw = new StringWriter();
        tracker.dumpSessions(new PrintWriter(sw, true));
        String dump = sw.toString();
        int g = dump.indexOf("Global Session Sets (1)/(1):");
        assertTrue(dump, dump.startsWith("Local Session Sets (1)/(1):"));
        assertTrue(dump, g > 0);
        assertTrue(dump, dump.indexOf("0x" + Long.toHexString(local)) < g);
        assertTrue(dump, dump.indexOf("0x" + Long.toHexString(global)) > g);
        assertEquals(2, tracker.getSessionExpiryMap().size());
        assertTrue(tracker.localSessions().contains(local));
        assertFalse(tracker.globalSessions().contains(local));
    }

    @Test
    public void shutdownStopsExpiryDeliveryButKeepsCallsValid() throws Exception {
        open(true);
        long id = tracker.createSession(2000);
        tracker.shutdown();
        engine.advanceClock(3000);
        engine.expireDue();
        assertNull(expirer.expired.poll(300, java.util.concurrent.TimeUnit.MILLISECONDS));
        // Processors still running after shutdown may call it.
        assertTrue(tracker.isLocalSession(id));
        assertFalse(tracker.touchSession(id, 2000));
        tracker.removeSession(id);
    }
}
