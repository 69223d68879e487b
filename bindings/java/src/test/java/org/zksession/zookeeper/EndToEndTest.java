package org.zksession.zookeeper;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestWatcher;
import org.junit.runner.Description;

/**
 * End to end: a real Apache ZooKeeper 3.8 server started with {@code run-zookeeper.sh}
 * (the engine as its session tracker) on a free loopback port with a 250 ms tick, driven
 * by real clients: the ZooKeeper Java client, Debian's {@code zkCli.sh} and kazoo.
 *
 * <p>System properties: {@code zksession.launcher} (path of run-zookeeper.sh) and
 * {@code zksession.python} (directory of the kazoo scripts).
 */
public class EndToEndTest {
    private static final int TICK = 250;
    private static final int MIN_TIMEOUT = 2 * TICK;
    private static final int MAX_TIMEOUT = 20 * TICK;
    private static final String ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh";
    private static final String PYTHON = "/usr/bin/python3";

    private static Path dir;
    private static Path cfg;
    private static Path log;
    private static int port;
    private static String hostPort;
    private static Process server;

    /** On failure, shows the end of the server's log. */
    @Rule
    public final TestWatcher showServerLog = new TestWatcher() {
        @Override
        protected void failed(Throwable e, Description d) {
            try {
                List<String> lines = Files.readAllLines(log);
                System.out.println("---- server log (last 80 lines) for " + d.getMethodName());
                lines.subList(Math.max(0, lines.size() - 80), lines.size()).forEach(System.out::println);
            } catch (IOException io) {
                System.out.println("no server log: " + io);
            }
        }
    };

    private final List<ZooKeeper> clients = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    @BeforeClass
    public static void startServer() throws Exception {
        dir = Files.createTempDirectory("zks-e2e");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        hostPort = "127.0.0.1:" + port;
        cfg = dir.resolve("zoo.cfg");
        log = dir.resolve("server.log");
        Files.writeString(cfg, String.join("\n",
            "tickTime=" + TICK,
            "dataDir=" + dir.resolve("data"),
            "clientPort=" + port,
            "clientPortAddress=127.0.0.1",
            "maxClientCnxns=100",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            // No fsync per transaction: on a busy machine an fsync can take longer than the
            // 1 s slack the expiry-timing test allows, and it is not what these tests measure.
            "forceSync=no",
            ""));
        launch();
    }

    private static void launch() throws Exception {
        String launcher = System.getProperty("zksession.launcher");
        assertNotNull("set -Dzksession.launcher", launcher);
        long before = Files.exists(log) ? Files.size(log) : 0;
        server = new ProcessBuilder(launcher, cfg.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            if (text.substring((int) Math.min(before, text.length())).contains("ZooKeeper serving on port")) {
                return;
            }
            if (!server.isAlive()) {
                fail("server exited: " + text);
            }
            Thread.sleep(50);
        }
        fail("server did not start in time: " + Files.readString(log));
    }

    private static void stop() throws InterruptedException {
        if (server == null) {
            return;
        }
        server.destroy(); // SIGTERM: the launcher execs the JVM, which shuts down cleanly.
        if (!server.waitFor(30, TimeUnit.SECONDS)) {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
            fail("server did not stop on SIGTERM");
        }
        server = null;
    }

    @AfterClass
    public static void stopServer() throws Exception {
        try {
            stop();
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @After
    public void closeClients() throws InterruptedException {
        for (ZooKeeper zk : clients) {
            zk.close();
        }
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A watcher that records connection states. */
    private static final class StateWatcher implements Watcher {
        final CountDownLatch connected = new CountDownLatch(1);
        final CountDownLatch expired = new CountDownLatch(1);

        @Override
        public void process(WatchedEvent e) {
            if (e.getState() == Event.KeeperState.SyncConnected) {
                connected.countDown();
            } else if (e.getState() == Event.KeeperState.Expired) {
                expired.countDown();
            }
        }
    }

    private ZooKeeper connect(int timeoutMs) throws Exception {
        StateWatcher w = new StateWatcher();
        ZooKeeper zk = new ZooKeeper(hostPort, timeoutMs, w);
        clients.add(zk);
        assertTrue("connected", w.connected.await(20, TimeUnit.SECONDS));
        return zk;
    }

    private ZooKeeper reconnect(long id, byte[] pw, StateWatcher w) throws IOException {
        ZooKeeper zk = new ZooKeeper(hostPort, 5000, w, id, pw);
        clients.add(zk);
        return zk;
    }

    /** A one-shot watch recording when the watched node was deleted. */
    private static final class DeleteWatch implements Watcher {
        final CountDownLatch deleted = new CountDownLatch(1);
        final AtomicLong atNanos = new AtomicLong();

        @Override
        public void process(WatchedEvent e) {
            if (e.getType() == Event.EventType.NodeDeleted) {
                atNanos.set(System.nanoTime());
                deleted.countDown();
            }
        }
    }

    private static byte[] zookeeperPassword(long id) {
        byte[] pw = new byte[16];
        new Random(id ^ 0xB3415C00L).nextBytes(pw);
        return pw;
    }

    private Process python(String script, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, System.getProperty("zksession.python") + "/" + script));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(p);
        return p;
    }

    private static String run(List<String> cmd, String stdin) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            w.write(stdin);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        return out;
    }

    @Test
    public void javaClientTimeoutsAreClampedToTwoAndTwentyTicks() throws Exception {
        assertEquals(MIN_TIMEOUT, connect(100).getSessionTimeout());
        assertEquals(1000, connect(1000).getSessionTimeout());
        assertEquals(MAX_TIMEOUT, connect(600_000).getSessionTimeout());
    }

    @Test
    public void killedKazooClientsEphemeralGoesBetweenTimeoutAndTimeoutPlusTick() throws Exception {
        ZooKeeper observer = connect(5000);
        Process victim = python("kazoo_victim.py", hostPort, "/victim", "1000");
        BufferedReader out = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8));
        String[] created = out.readLine().split(" ");
        assertEquals("created", created[0]);
        int timeout = Integer.parseInt(created[2]);
        assertEquals(1000, timeout);
        DeleteWatch watch = new DeleteWatch();
        Stat stat = observer.exists("/victim", watch);
        assertEquals(Long.parseUnsignedLong(created[1], 16), stat.getEphemeralOwner());

        long go = System.nanoTime();
        victim.getOutputStream().write("touch\n".getBytes(StandardCharsets.UTF_8));
        victim.getOutputStream().flush();
        assertEquals("ok", out.readLine());
        victim.destroyForcibly(); // SIGKILL: no closeSession reaches the server.
        long killed = System.nanoTime();
        assertTrue(victim.waitFor(10, TimeUnit.SECONDS));

        assertTrue("watch fired", watch.deleted.await(30, TimeUnit.SECONDS));
        long afterGoMs = TimeUnit.NANOSECONDS.toMillis(watch.atNanos.get() - go);
        long afterKillMs = TimeUnit.NANOSECONDS.toMillis(watch.atNanos.get() - killed);
        System.out.printf("kill-to-delete: %d ms after the last touch began, %d ms after the kill"
            + " (timeout %d ms, tick %d ms)%n", afterGoMs, afterKillMs, timeout, TICK);
        // The last touch happened after `go`, so expiry cannot come before go + timeout.
        assertTrue("deleted " + afterGoMs + " ms after the last touch began", afterGoMs >= timeout);
        assertTrue("deleted " + afterKillMs + " ms after the kill", afterKillMs <= timeout + TICK + 1000);
        assertNull(observer.exists("/victim", false));
    }

    @Test
    public void gracefulCloseRemovesTheEphemeralAtOnce() throws Exception {
        ZooKeeper observer = connect(5000);
        ZooKeeper owner = connect(5000);
        owner.create("/graceful", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        DeleteWatch watch = new DeleteWatch();
        assertNotNull(observer.exists("/graceful", watch));
        owner.close();
        assertNull(observer.exists("/graceful", false));
        assertTrue(watch.deleted.await(10, TimeUnit.SECONDS));
    }

    @Test
    public void zkCliConnectsAndItsQuitRemovesItsEphemeral() throws Exception {
        ZooKeeper observer = connect(5000);
        String out = run(List.of(ZKCLI, "-server", hostPort),
            "create -e /zkcli-eph hello\nget /zkcli-eph\nls /\nquit\n");
        assertTrue(out, out.contains("Created /zkcli-eph"));
        assertTrue(out, out.contains("hello"));
        assertTrue(out, out.contains("zookeeper"));
        assertNull(observer.exists("/zkcli-eph", false));
    }

    @Test
    public void reconnectWithIdAndPasswordContinuesTheSession() throws Exception {
        ZooKeeper first = connect(5000);
        first.create("/reconnect", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        long id = first.getSessionId();
        assertArrayEquals(zookeeperPassword(id), first.getSessionPasswd());
        StateWatcher w = new StateWatcher();
        ZooKeeper second = reconnect(id, first.getSessionPasswd(), w);
        assertTrue(w.connected.await(20, TimeUnit.SECONDS));
        assertEquals(id, second.getSessionId());
        assertEquals(id, second.exists("/reconnect", false).getEphemeralOwner());
        second.close();
        ZooKeeper observer = connect(5000);
        assertNull(observer.exists("/reconnect", false));
    }

    @Test
    public void wrongPasswordGetsAnExpiredSession() throws Exception {
        ZooKeeper live = connect(5000);
        byte[] wrong = live.getSessionPasswd().clone();
        wrong[0] ^= 1;
        StateWatcher w = new StateWatcher();
        reconnect(live.getSessionId(), wrong, w);
        assertTrue("expired", w.expired.await(20, TimeUnit.SECONDS));
        // ZooKeeper closes the session's current connection before it checks a reconnect's
        // password, so the live handle reconnects; its session must be intact.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                assertNotNull(live.exists("/", false));
                break;
            } catch (KeeperException.ConnectionLossException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
        assertEquals(ZooKeeper.States.CONNECTED, live.getState());
    }

    @Test
    public void kazooSessionsBehave() throws Exception {
        Process p = python("kazoo_checks.py", hostPort);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(out, 0, p.exitValue());
        Map<String, String> kv = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        assertEquals(out, String.valueOf(MIN_TIMEOUT), kv.get("timeout_low"));
        assertEquals(out, String.valueOf(MAX_TIMEOUT), kv.get("timeout_high"));
        for (String k : List.of("same_session", "owner_ok", "bad_pw_expired", "bad_pw_new_id", "live_ok")) {
            assertEquals(out + " " + k, "True", kv.get(k));
        }
    }

    @Test
    public void fourLetterDumpListsTheEnginesSessions() throws Exception {
        ZooKeeper zk = connect(5000);
        String out;
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("dump".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            out = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(out, out.contains("Session Sets ("));
        assertTrue(out, out.contains("0x" + Long.toHexString(zk.getSessionId())));
    }

    @Test
    public void restartedServerKeepsItsGlobalSessions() throws Exception {
        Process victim = python("kazoo_victim.py", hostPort, "/survivor", String.valueOf(MAX_TIMEOUT));
        BufferedReader out = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8));
        String[] created = out.readLine().split(" ");
        assertEquals("created", created[0]);
        long id = Long.parseUnsignedLong(created[1], 16);
        victim.destroyForcibly();
        assertTrue(victim.waitFor(10, TimeUnit.SECONDS));

        stop();
        launch();

        // The restored session has a fresh full timeout from the restart.
        StateWatcher w = new StateWatcher();
        ZooKeeper zk = reconnect(id, zookeeperPassword(id), w);
        assertTrue("reconnected", w.connected.await(20, TimeUnit.SECONDS));
        assertEquals(id, zk.getSessionId());
        assertEquals(id, zk.exists("/survivor", false).getEphemeralOwner());
        zk.close();
        assertNull(connect(5000).exists("/survivor", false));
    }
}
