package org.zksession.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import org.apache.zookeeper.server.SessionTracker;
import org.apache.zookeeper.server.SessionTrackerImpl;
import org.zksession.SessionEngine;
import org.zksession.zookeeper.EngineSessionTracker;

/**
 * Compares ZooKeeper's own {@link SessionTrackerImpl} with the engine-backed
 * {@link EngineSessionTracker} in one JVM: touchSession throughput at N sessions with 1 and
 * 2 threads, the engine's batch call, and bytes per session.
 *
 * <p>Method: each tracker gets N sessions (timeout 60 s, tick 2 s). Each thread touches the
 * ids in its own random order. One warm-up run, then R timed runs; the median is reported,
 * by wall-clock time and by on-CPU time (see {@link Rate}).
 * Memory: Java heap used after full GCs before and after creating the sessions, and the
 * process RSS (/proc/self/status VmRSS) for native memory; run with a pre-touched fixed heap
 * (-Xms = -Xmx, -XX:+AlwaysPreTouch) so heap growth does not show up as RSS.
 *
 * <p>Usage: {@code TrackerBench [sessions] [touchesPerThread] [repetitions]}.
 */
public final class TrackerBench {
    private static final int TICK = 2000;
    private static final int TIMEOUT = 60_000;
    private static final int BATCH = 1024;

    private TrackerBench() {
    }

    private static final class NoExpirer implements SessionTracker.SessionExpirer {
        @Override
        public void expire(SessionTracker.Session session) {
        }

        @Override
        public long getServerId() {
            return 1;
        }
    }

    /** One thread's work: touch ops ids from its own order. */
    private interface Work {
        void run(long[] order, int ops);
    }

    private static long usedHeap() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
            best = Math.min(best, rt.totalMemory() - rt.freeMemory());
        }
        return best;
    }

    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    private static long[] shuffled(long[] ids, long seed) {
        long[] a = ids.clone();
        Random r = new Random(seed);
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /**
     * Throughput two ways: by wall-clock time, and by on-CPU time (total ops over the
     * largest per-thread CPU time). The second ignores time a thread spends descheduled, so
     * it is steadier on a shared machine; it also ignores time blocked on a lock, which
     * flatters a contended tracker (SessionTrackerImpl), so ratios by it are conservative.
     */
    record Rate(double wall, double cpu) {
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Runs work on `threads` threads at once; returns total ops per second. */
    private static Rate timed(int threads, long[][] orders, int ops, Work work) throws Exception {
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        CyclicBarrier end = new CyclicBarrier(threads + 1);
        long[] cpu = new long[threads];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long[] order = orders[t];
            int slot = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    long c0 = THREADS.getCurrentThreadCpuTime();
                    work.run(order, ops);
                    cpu[slot] = THREADS.getCurrentThreadCpuTime() - c0;
                    end.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            th.start();
            ts.add(th);
        }
        start.await();
        long t0 = System.nanoTime();
        end.await();
        long t1 = System.nanoTime();
        for (Thread th : ts) {
            th.join();
        }
        long maxCpu = Arrays.stream(cpu).max().orElse(1);
        double total = (double) threads * ops;
        return new Rate(total / ((t1 - t0) / 1e9), total / (maxCpu / 1e9));
    }

    private static Rate median(int threads, long[][] orders, int ops, int reps, Work work) throws Exception {
        timed(threads, orders, ops, work); // warm-up
        double[] wall = new double[reps];
        double[] cpu = new double[reps];
        for (int i = 0; i < reps; i++) {
            Rate r = timed(threads, orders, ops, work);
            wall[i] = r.wall();
            cpu[i] = r.cpu();
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        return new Rate(wall[reps / 2], cpu[reps / 2]);
    }

    private static void touchLoop(SessionTracker t, long[] order, int ops) {
        int n = order.length;
        int misses = 0;
        for (int i = 0, k = 0; i < ops; i++) {
            if (!t.touchSession(order[k], TIMEOUT)) {
                misses++;
            }
            if (++k == n) {
                k = 0;
            }
        }
        if (misses != 0) {
            throw new IllegalStateException(misses + " touches failed");
        }
    }

    private static void batchLoop(SessionEngine e, long[] order, int ops) {
        int n = order.length - order.length % BATCH;
        int done = 0;
        int k = 0;
        while (done < ops) {
            int touched = e.touchMany(order, k, BATCH);
            if (touched != BATCH) {
                throw new IllegalStateException((BATCH - touched) + " batch touches failed");
            }
            done += BATCH;
            k += BATCH;
            if (k >= n) {
                k = 0;
            }
        }
    }

    private static String fmt(Rate r) {
        return String.format("%,11.0f/s (cpu %,11.0f/s)", r.wall(), r.cpu());
    }

    private static final class Figures {
        double heapPerSession;
        double nativePerSession;
        Rate one;
        Rate two;
    }

    private static Figures measure(String name, SessionTracker t, long[] ids, int ops, int reps,
        long heap0, long rss0) throws Exception {
        Figures f = new Figures();
        for (int i = 0; i < ids.length; i++) {
            ids[i] = t.createSession(TIMEOUT);
        }
        long heap1 = usedHeap();
        long rss1 = rssBytes();
        f.heapPerSession = (double) (heap1 - heap0) / ids.length;
        f.nativePerSession = Math.max(0, (double) (rss1 - rss0) / ids.length);
        long[][] orders = {shuffled(ids, 1), shuffled(ids, 2)};
        f.one = median(1, orders, ops, reps, (o, n) -> touchLoop(t, o, n));
        f.two = median(2, orders, ops, reps, (o, n) -> touchLoop(t, o, n));
        System.out.printf("%-28s heap %6.1f B/session, native %6.1f B/session%n", name, f.heapPerSession,
            f.nativePerSession);
        System.out.printf("%-28s touchSession          1 thread %s, 2 threads %s%n", name, fmt(f.one), fmt(f.two));
        return f;
    }

    /**
     * @param args [sessions] [touchesPerThread] [repetitions]
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        System.out.printf("sessions %,d; touches per thread per run %,d; warm-up 1 + %d timed runs,"
            + " median; %d cores%n", n, ops, reps, Runtime.getRuntime().availableProcessors());

        long[] zkIds = new long[n];
        long heap0 = usedHeap();
        long rss0 = rssBytes();
        SessionTrackerImpl zk = new SessionTrackerImpl(new NoExpirer(), new ConcurrentHashMap<>(), TICK, 1, null);
        Figures base = measure("ZooKeeper SessionTrackerImpl", zk, zkIds, ops, reps, heap0, rss0);
        zk.shutdown();
        zk = null;
        zkIds = null;

        long[] ids = new long[n];
        heap0 = usedHeap();
        rss0 = rssBytes();
        EngineSessionTracker eng = new EngineSessionTracker(new NoExpirer(), new ConcurrentHashMap<>(), TICK, 1,
            false, false);
        Figures e = measure("engine EngineSessionTracker", eng, ids, ops, reps, heap0, rss0);

        SessionEngine engine = eng.engine();
        long[][] orders = {shuffled(ids, 3), shuffled(ids, 4)};
        Rate b1 = median(1, orders, ops, reps, (o, k) -> batchLoop(engine, o, k));
        Rate b2 = median(2, orders, ops, reps, (o, k) -> batchLoop(engine, o, k));
        System.out.printf("%-28s touchMany(batch %d) 1 thread %s, 2 threads %s%n",
            "engine SessionEngine", BATCH, fmt(b1), fmt(b2));

        System.out.printf("ratio engine/ZooKeeper touchSession:       1 thread %.2fx (cpu %.2fx),"
            + " 2 threads %.2fx (cpu %.2fx)%n", e.one.wall() / base.one.wall(), e.one.cpu() / base.one.cpu(),
            e.two.wall() / base.two.wall(), e.two.cpu() / base.two.cpu());
        System.out.printf("ratio engine touchMany/ZooKeeper touchSession: 1 thread %.2fx (cpu %.2fx),"
            + " 2 threads %.2fx (cpu %.2fx)%n", b1.wall() / base.one.wall(), b1.cpu() / base.one.cpu(),
            b2.wall() / base.two.wall(), b2.cpu() / base.two.cpu());
        System.out.printf("bytes/session: ZooKeeper %.1f (heap) vs engine %.1f (heap %.1f + native %.1f)%n",
            base.heapPerSession + base.nativePerSession, e.heapPerSession + e.nativePerSession,
            e.heapPerSession, e.nativePerSession);
        // The JNI price: the same work on a cache-resident set of BATCH ids, one native call
        // per touch against one native call per BATCH touches.
        long[] hot = Arrays.copyOf(ids, BATCH);
        long[][] hotOrders = {hot, hot.clone()};
        Rate hotSingle = median(1, hotOrders, ops, reps, (o, k) -> {
            for (int i = 0, j = 0; i < k; i++) {
                if (engine.tryTouch(o[j], TIMEOUT) != 0) {
                    throw new IllegalStateException("touch failed");
                }
                if (++j == o.length) {
                    j = 0;
                }
            }
        });
        Rate hotBatch = median(1, hotOrders, ops, reps, (o, k) -> batchLoop(engine, o, k));
        System.out.printf("cache-resident %d ids, 1 thread, on-CPU: single touch %.1f ns/call, batched %.1f ns/id;"
            + " JNI round trip + per-call work = %.1f ns per call%n",
            BATCH, 1e9 / hotSingle.cpu(), 1e9 / hotBatch.cpu(), 1e9 / hotSingle.cpu() - 1e9 / hotBatch.cpu());
        System.out.printf("%,d random ids, 1 thread, on-CPU: single touch %.1f ns/call, batched %.1f ns/id%n",
            n, 1e9 / e.one.cpu(), 1e9 / b1.cpu());
        eng.close();
    }
}
