// Apache Curator's recipes against one ZooKeeper-compatible server: the same program runs
// against zksessiond and against Apache ZooKeeper 3.8, and the two result lists must match.
//
// Usage: java CuratorSuite CONNECT_STRING
//        java CuratorSuite hold CONNECT_STRING LOCK_PATH   (a lock holder to be killed)
//        java CuratorSuite seed CONNECT_STRING     (leaves an emptied container, a TTL node,
//                                                   a never-used container and a plain node)
//        java CuratorSuite reaped CONNECT_STRING   (checks a server loaded with the seed
//                                                   reaps the first two and keeps the others)
// Prints "PASS name" or "FAIL name: why" per check and "N passed, M failed" last. Every
// wait is bounded. The server must have extended types on and a short
// znode.container.checkIntervalMs (the script sets 500 ms).

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public final class CuratorSuite {
    /** Session timeout asked by every client (the server's tick is 200 ms). */
    static final int SESSION_MS = 2000;
    /** Longest wait for anything the server does on a timer (reaping, expiry). */
    static final long WAIT_MS = 15_000;

    static int passed;
    static int failed;
    static String connect;

    interface Check {
        void run() throws Exception;
    }

    static void check(String name, Check c) {
        try {
            c.run();
            passed++;
            System.out.println("PASS " + name);
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL " + name + ": " + t);
        }
        System.out.flush();
    }

    static void expect(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static CuratorFramework client() throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(SESSION_MS)
            .connectionTimeoutMs(5000)
            .retryPolicy(new ExponentialBackoffRetry(100, 5))
            .build();
        c.start();
        expect(c.blockUntilConnected(10, TimeUnit.SECONDS), "connected");
        return c;
    }

    /** Waits until path is gone (reaped); false on timeout. */
    static boolean goneWithin(CuratorFramework c, String path, long ms) throws Exception {
        long end = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < end) {
            if (c.checkExists().forPath(path) == null) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("hold")) {
            hold(args[1], args[2]);
            return;
        }
        if (args.length == 2 && args[0].equals("seed")) {
            connect = args[1];
            CuratorFramework c = client();
            c.create().creatingParentContainersIfNeeded().forPath("/seeded/box/x");
            c.delete().forPath("/seeded/box/x");
            c.create().withTtl(1500).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath("/seeded-ttl");
            c.create().withMode(CreateMode.CONTAINER).forPath("/seeded-keep");
            c.create().forPath("/seeded-plain", "p".getBytes(StandardCharsets.UTF_8));
            c.close();
            System.out.println("seeded");
            return;
        }
        if (args.length == 2 && args[0].equals("reaped")) {
            connect = args[1];
            CuratorFramework c = client();
            check("recovered:plain-node-loaded", () ->
                expect(c.checkExists().forPath("/seeded-plain") != null, "/seeded-plain missing"));
            check("recovered:emptied-container-reaped", () ->
                expect(goneWithin(c, "/seeded/box", WAIT_MS), "/seeded/box still there"));
            check("recovered:ttl-node-reaped", () ->
                expect(goneWithin(c, "/seeded-ttl", WAIT_MS), "/seeded-ttl still there"));
            check("recovered:never-used-container-kept", () -> {
                Stat s = c.checkExists().forPath("/seeded-keep");
                expect(s != null && s.getEphemeralOwner() == 0, "/seeded-keep " + s);
            });
            c.close();
            System.out.println(passed + " passed, " + failed + " failed");
            System.exit(failed == 0 ? 0 : 1);
        }
        connect = args[0];
        CuratorFramework c = client();
        try {
            check("mutex:holder-killed-releases", () -> mutex(c));
            check("mutex:parent-container-reaped", () ->
                expect(goneWithin(c, "/curator/lock", WAIT_MS), "/curator/lock still there"));
            check("leader-latch:one-leader-then-failover", () -> leader());
            check("leader-latch:parent-container-reaped", () ->
                expect(goneWithin(c, "/curator/leader", WAIT_MS), "/curator/leader still there"));
            check("curator-cache:created-changed-deleted", () -> cache(c));
            check("atomic-long:concurrent-increments", () -> atomicLong());
            check("persistent-node:recreated-after-session-loss", () -> persistentNode());
            check("service-discovery:register-query-unregister", () -> discovery(c));
            check("containers:emptied-container-reaped", () -> container(c));
            check("containers:never-used-container-kept", () -> {
                c.create().creatingParentContainersIfNeeded().forPath("/curator/unused/x");
                c.delete().forPath("/curator/unused/x");
                c.create().withMode(CreateMode.CONTAINER).forPath("/curator/fresh");
                Thread.sleep(1500);
                expect(c.checkExists().forPath("/curator/fresh") != null, "fresh container reaped");
                expect(goneWithin(c, "/curator/unused", WAIT_MS), "/curator/unused still there");
            });
            check("ttl:node-reaped-after-ttl", () -> ttl(c));
        } finally {
            c.close();
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    /** The lock holder run in its own JVM: takes the lock, says so, and waits to be killed
     *  (or for the suite's end of its stdin to close). */
    static void hold(String connectString, String path) throws Exception {
        connect = connectString;
        CuratorFramework c = client();
        InterProcessMutex m = new InterProcessMutex(c, path);
        m.acquire();
        System.out.println("HELD");
        System.out.flush();
        // Held until killed; if the suite itself dies, its end of stdin closes and this exits.
        while (System.in.read() >= 0) {
            // discard
        }
        System.exit(0);
    }

    static void mutex(CuratorFramework c) throws Exception {
        String java = System.getProperty("java.home") + "/bin/java";
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "CuratorSuite", "hold", connect, "/curator/lock")
            .redirectErrorStream(true)
            .start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                new java.io.InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            String line;
            boolean held = false;
            while ((line = out.readLine()) != null) {
                if (line.equals("HELD")) {
                    held = true;
                    break;
                }
            }
            expect(held, "holder did not take the lock");
            InterProcessMutex m = new InterProcessMutex(c, "/curator/lock");
            expect(!m.acquire(300, TimeUnit.MILLISECONDS), "lock taken while held");
            // Kill the holder: its session expires and its lock node goes with it.
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
            long start = System.currentTimeMillis();
            expect(m.acquire(WAIT_MS, TimeUnit.MILLISECONDS), "lock not released by expiry");
            long waited = System.currentTimeMillis() - start;
            expect(waited >= SESSION_MS / 2, "lock released before the holder's session expired");
            m.release();
        } finally {
            holder.destroyForcibly();
        }
    }

    static void leader() throws Exception {
        CuratorFramework a = client();
        CuratorFramework b = client();
        try {
            LeaderLatch la = new LeaderLatch(a, "/curator/leader", "a");
            LeaderLatch lb = new LeaderLatch(b, "/curator/leader", "b");
            la.start();
            lb.start();
            long end = System.currentTimeMillis() + WAIT_MS;
            while (!la.hasLeadership() && !lb.hasLeadership() && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            expect(la.hasLeadership() ^ lb.hasLeadership(), "exactly one leader");
            LeaderLatch leader = la.hasLeadership() ? la : lb;
            LeaderLatch other = leader == la ? lb : la;
            expect(other.getLeader().getId().equals(leader.getId()), "both agree on the leader");
            leader.close();
            expect(other.await(WAIT_MS, TimeUnit.MILLISECONDS), "no failover");
            other.close();
        } finally {
            a.close();
            b.close();
        }
    }

    static void cache(CuratorFramework c) throws Exception {
        c.create().creatingParentContainersIfNeeded().forPath("/curator/cache");
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch initialized = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(c, "/curator/cache");
        cache.listenable().addListener(CuratorCacheListener.builder()
            .forCreates(n -> events.add("created " + n.getPath()))
            .forChanges((o, n) -> events.add("changed " + n.getPath() + " "
                + new String(n.getData(), StandardCharsets.UTF_8)))
            .forDeletes(o -> events.add("deleted " + o.getPath()))
            .forInitialized(initialized::countDown)
            .build());
        cache.start();
        try {
            expect(initialized.await(10, TimeUnit.SECONDS), "cache initialized");
            expect("created /curator/cache".equals(events.poll(5, TimeUnit.SECONDS)), "root created");
            // One change at a time: the cache reads data after each event, so changes made
            // before it read would be seen as one.
            List<String> got = new ArrayList<>();
            c.create().forPath("/curator/cache/x", "1".getBytes(StandardCharsets.UTF_8));
            got.add(events.poll(5, TimeUnit.SECONDS));
            c.setData().forPath("/curator/cache/x", "2".getBytes(StandardCharsets.UTF_8));
            got.add(events.poll(5, TimeUnit.SECONDS));
            c.delete().forPath("/curator/cache/x");
            got.add(events.poll(5, TimeUnit.SECONDS));
            List<String> want = List.of("created /curator/cache/x", "changed /curator/cache/x 2",
                "deleted /curator/cache/x");
            expect(got.equals(want), "events " + got);
        } finally {
            cache.close();
            c.delete().forPath("/curator/cache");
        }
    }

    static void atomicLong() throws Exception {
        CuratorFramework a = client();
        CuratorFramework b = client();
        try {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (CuratorFramework f : List.of(a, b)) {
                Thread t = new Thread(() -> {
                    DistributedAtomicLong n =
                        new DistributedAtomicLong(f, "/curator/counter", new RetryNTimes(200, 5));
                    try {
                        for (int i = 0; i < 20; i++) {
                            if (!n.increment().succeeded()) {
                                errors.add(new AssertionError("increment gave up"));
                            }
                        }
                    } catch (Exception e) {
                        errors.add(e);
                    }
                });
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join(60_000);
            }
            expect(errors.isEmpty(), "errors " + errors);
            DistributedAtomicLong n = new DistributedAtomicLong(a, "/curator/counter", new RetryNTimes(3, 10));
            AtomicValue<Long> v = n.get();
            expect(v.succeeded() && v.postValue() == 40L, "value " + v.postValue());
            expect(n.compareAndSet(40L, 100L).succeeded(), "compareAndSet 40 -> 100");
            expect(!n.compareAndSet(40L, 7L).succeeded(), "stale compareAndSet succeeded");
            expect(n.get().postValue() == 100L, "value after compareAndSet");
        } finally {
            a.close();
            b.close();
        }
    }

    static void persistentNode() throws Exception {
        CuratorFramework c = client();
        PersistentNode node = new PersistentNode(c, CreateMode.EPHEMERAL, false, "/curator/pn",
            "here".getBytes(StandardCharsets.UTF_8));
        try {
            node.start();
            expect(node.waitForInitialCreate(10, TimeUnit.SECONDS), "initial create");
            ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
            long first = zk.getSessionId();
            Stat s = c.checkExists().forPath("/curator/pn");
            expect(s != null && s.getEphemeralOwner() == first, "owned by the first session");
            // End the session from outside: a second handle on it closes it.
            ZooKeeper killer = new ZooKeeper(connect, SESSION_MS, e -> { }, first, zk.getSessionPasswd());
            long end = System.currentTimeMillis() + 10_000;
            while (!killer.getState().isConnected() && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            killer.close();
            end = System.currentTimeMillis() + WAIT_MS;
            long owner = 0;
            while (System.currentTimeMillis() < end) {
                try {
                    Stat now = c.checkExists().forPath("/curator/pn");
                    if (now != null && now.getEphemeralOwner() != first) {
                        owner = now.getEphemeralOwner();
                        break;
                    }
                } catch (Exception e) {
                    // reconnecting
                }
                Thread.sleep(50);
            }
            expect(owner != 0, "ephemeral not re-created under a new session");
            expect(owner == c.getZookeeperClient().getZooKeeper().getSessionId(), "owned by the new session");
        } finally {
            node.close();
            c.close();
        }
    }

    static void discovery(CuratorFramework c) throws Exception {
        ServiceDiscovery<Void> sd = ServiceDiscoveryBuilder.builder(Void.class)
            .client(c).basePath("/curator/services").build();
        sd.start();
        try {
            ServiceInstance<Void> api = ServiceInstance.<Void>builder()
                .name("api").id("api-1").address("127.0.0.1").port(8080).build();
            sd.registerService(api);
            Collection<ServiceInstance<Void>> found = sd.queryForInstances("api");
            long end = System.currentTimeMillis() + 5000;
            while (found.size() != 1 && System.currentTimeMillis() < end) {
                Thread.sleep(50);
                found = sd.queryForInstances("api");
            }
            expect(found.size() == 1, "found " + found.size() + "; node "
                + c.checkExists().forPath("/curator/services/api/api-1") + "; parent "
                + c.checkExists().forPath("/curator/services/api"));
            ServiceInstance<Void> one = found.iterator().next();
            expect(one.getId().equals("api-1") && one.getPort() == 8080, "instance " + one);
            expect(sd.queryForNames().contains("api"), "names");
            sd.unregisterService(api);
            expect(sd.queryForInstances("api").isEmpty(), "still registered");
        } finally {
            sd.close();
        }
    }

    static void container(CuratorFramework c) throws Exception {
        c.create().creatingParentContainersIfNeeded().forPath("/curator/box/a/b");
        Stat s = c.checkExists().forPath("/curator/box");
        expect(s != null && s.getEphemeralOwner() == 0, "container shows owner 0");
        c.delete().forPath("/curator/box/a/b");
        // /curator/box/a goes first; /curator/box is emptied by that and goes at a later pass.
        expect(goneWithin(c, "/curator/box", WAIT_MS), "/curator/box still there");
        expect(c.checkExists().forPath("/curator") != null, "/curator itself has children");
    }

    static void ttl(CuratorFramework c) throws Exception {
        c.create().withTtl(500).withMode(CreateMode.PERSISTENT_WITH_TTL)
            .forPath("/curator/ttl", "x".getBytes(StandardCharsets.UTF_8));
        Stat s = c.checkExists().forPath("/curator/ttl");
        expect(s != null && s.getEphemeralOwner() == 0, "TTL node shows owner 0");
        expect(goneWithin(c, "/curator/ttl", WAIT_MS), "TTL node still there");
    }
}
