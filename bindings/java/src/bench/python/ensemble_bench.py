"""Benchmark of a 3-server ZooKeeper 3.8 ensemble: plain ZooKeeper against the engine.

Usage: ensemble_bench.py --impl plain|engine --workdir DIR --base-port N --pidfile FILE
       [--sessions 10000] [--timeout-ms 10000] [--hold-secs 10] [--local-sessions 5000]
       [--launcher PATH] [--zk-cp CP] [--jvm-opts OPTS]

One process drives every session over raw ZooKeeper protocol (non-blocking sockets and
one selector: a kazoo client per session would not fit 10k sessions on a small machine):
 1. an ensemble with local sessions off; the leader's idle CPU over --hold-secs;
 2. --sessions global sessions opened on the two followers, 16 handshakes in flight:
    sessions per second;
 3. every session pings every timeout/3 for --hold-secs: CPU and RSS per server, RSS per
    session, and the leader's CPU per forwarded touch ((CPU - idle CPU) / pings);
 4. kill -9 of the leader while the sessions keep pinging: time to a new leader, time until
    every session is back on a server with its own id, and expirations (must be 0); up to
    --reconnect-window reconnects in flight (each real client reconnects on its own);
 5. a second ensemble with local sessions on: --local-sessions local sessions opened, 16 in
    flight: sessions per second.
Prints "RESULT key=value ..." lines. Every server is stopped by its pid.
"""
import argparse
import heapq
import os
import random
import re
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "python"))
from ensemble_scenarios import Ensemble, wait_for  # noqa: E402

PING = struct.pack(">iii", 8, -2, 11)


def connect_request(sid, pw, timeout_ms):
    body = struct.pack(">iqiq", 0, 0, timeout_ms, sid) + struct.pack(">i", len(pw)) + pw + b"\x00"
    return struct.pack(">i", len(body)) + body


def cpu_s(pid):
    """On-CPU time of every thread of pid, in seconds (schedstat: nanoseconds)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total / 1e9


def heap_used_kb(pid):
    """Java heap in use after a full GC (jcmd GC.run, then GC.heap_info; Serial GC's format)."""
    subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, timeout=60)
    out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
    return sum(int(m) for m in re.findall(r"generation\s+total \d+K, used (\d+)K", out))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Session:
    __slots__ = ("idx", "homes", "attempt", "sock", "sid", "pw", "rbuf", "state", "wbuf")

    def __init__(self, idx, homes):
        self.idx = idx
        self.homes = homes
        self.attempt = 0
        self.sock = None
        self.sid = 0
        self.pw = b"\0" * 16
        self.rbuf = b""
        self.wbuf = b""
        self.state = "idle"  # idle | connecting | handshake | live


class Load:
    """Sessions over raw protocol: handshakes (bounded in flight), pings, reconnects."""

    def __init__(self, ports, timeout_ms, window):
        self.ports = ports
        self.timeout_ms = timeout_ms
        self.window = window
        self.sel = selectors.DefaultSelector()
        self.sessions = []
        self.timers = []  # (when, seq, session idx, generation)
        self.seq = 0
        self.pending = []  # sessions waiting for a handshake slot
        self.in_flight = 0
        self.live = 0
        self.low = 0  # fewest live sessions since reset_low()
        self.pings = 0
        self.expired = 0
        self.reconnects = 0
        self.lock = threading.Lock()

    def add(self, n):
        for i in range(n):
            s = Session(len(self.sessions), [self.ports[i % len(self.ports)]] +
                        [p for p in self.ports if p != self.ports[i % len(self.ports)]])
            self.sessions.append(s)
            self.pending.append(s)

    def _timer(self, delay, s):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, s.idx, id(s.sock)))

    def _start_handshake(self, s):
        port = s.homes[s.attempt % len(s.homes)]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect_ex(("127.0.0.1", port))
        s.sock = sock
        s.rbuf = b""
        s.wbuf = connect_request(s.sid, s.pw, self.timeout_ms)
        s.state = "connecting"
        self.in_flight += 1
        self.sel.register(sock, selectors.EVENT_WRITE, s)

    def _drop(self, s, retry):
        if s.sock is not None:
            try:
                self.sel.unregister(s.sock)
            except (KeyError, ValueError):
                pass
            s.sock.close()
            s.sock = None
        if s.state in ("connecting", "handshake"):
            self.in_flight -= 1
        elif s.state == "live":
            self.live -= 1
            self.low = min(self.low, self.live)
        s.state = "idle"
        if retry:
            s.attempt += 1
            self.reconnects += 1
            self.seq += 1
            heapq.heappush(self.timers, (time.monotonic() + random.uniform(0.05, 0.25), self.seq, s.idx, -1))

    def _frame(self, s, body):
        if s.state == "handshake":
            _, to, sid = struct.unpack(">iiq", body[:16])
            self.in_flight -= 1
            if to <= 0 or sid == 0 or (s.sid and sid != s.sid):
                self.expired += 1
                s.state = "expired"
                self.sel.unregister(s.sock)
                s.sock.close()
                s.sock = None
                return
            n = struct.unpack(">i", body[16:20])[0]
            s.sid, s.pw = sid, body[20:20 + n]
            s.state = "live"
            self.live += 1
            self._timer(random.uniform(0, self.timeout_ms / 3000.0), s)

    def _readable(self, s):
        try:
            d = s.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            d = b""
        if not d:
            self._drop(s, True)
            return
        s.rbuf += d
        while len(s.rbuf) >= 4:
            n = struct.unpack(">i", s.rbuf[:4])[0]
            if len(s.rbuf) < 4 + n:
                break
            body, s.rbuf = s.rbuf[4:4 + n], s.rbuf[4 + n:]
            self._frame(s, body)
            if s.sock is None:
                return

    def _writable(self, s):
        if s.state == "connecting":
            err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._drop(s, True)
                return
            s.state = "handshake"
        try:
            k = s.sock.send(s.wbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(s, True)
            return
        s.wbuf = s.wbuf[k:]
        if not s.wbuf:
            self.sel.modify(s.sock, selectors.EVENT_READ, s)

    def step(self, max_wait=0.02):
        while self.pending and self.in_flight < self.window:
            self._start_handshake(self.pending.pop())
        now = time.monotonic()
        wait = max_wait
        if self.timers:
            wait = max(0.0, min(wait, self.timers[0][0] - now))
        for key, ev in self.sel.select(wait):
            s = key.data
            if s.sock is None:
                continue
            if ev & selectors.EVENT_WRITE:
                self._writable(s)
            elif ev & selectors.EVENT_READ:
                self._readable(s)
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, idx, gen = heapq.heappop(self.timers)
            s = self.sessions[idx]
            if gen == -1:  # reconnect
                if s.state == "idle":
                    self.pending.insert(0, s)
                continue
            if s.state != "live" or id(s.sock) != gen:
                continue
            try:
                s.sock.send(PING)
                self.pings += 1
            except OSError:
                self._drop(s, True)
                continue
            self._timer(self.timeout_ms / 3000.0, s)
            # Ping replies are read and discarded by _readable (16-byte frames).

    def run_until(self, cond, limit):
        deadline = time.monotonic() + limit
        while not cond() and time.monotonic() < deadline:
            self.step()
        return cond()

    def run_for(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            self.step()


def result(**kv):
    print("RESULT " + " ".join("%s=%s" % (k, v) for k, v in kv.items()), flush=True)


def bench_global(args):
    ens = Ensemble(args, "bench-global", False, False)
    try:
        if not ens.start_all():
            print("ensemble did not form", flush=True)
            return
        lead = ens.leader()
        followers = ens.followers()
        pids = {n: ens.procs[n].pid for n in (1, 2, 3)}
        time.sleep(2)
        c0 = cpu_s(pids[lead])
        time.sleep(args.hold_secs)
        idle_cpu = (cpu_s(pids[lead]) - c0) / args.hold_secs
        heap0 = {n: heap_used_kb(pids[n]) for n in pids}
        rss0 = {n: rss_kb(pids[n]) for n in pids}

        load = Load([ens.client_port[f] for f in followers], args.timeout_ms, 16)
        load.add(args.sessions)
        t0 = time.monotonic()
        ok = load.run_until(lambda: load.live + load.expired >= args.sessions, 300)
        est = time.monotonic() - t0
        result(impl=args.impl, phase="establish-global", sessions=load.live, seconds="%.2f" % est,
               per_second="%.0f" % (load.live / est if est else 0), complete=ok)

        load.run_for(2)  # settle: every session is on its ping cycle
        heap1 = {}
        for n in pids:
            heap1[n] = heap_used_kb(pids[n])
            load.run_for(0.5)
        load.run_for(1)
        touches0 = ens.mntr(lead).get("zk_zks_touches")
        cpu_a = {n: cpu_s(pids[n]) for n in pids}
        p0, t1 = load.pings, time.monotonic()
        load.run_for(args.hold_secs)
        dt = time.monotonic() - t1
        pings = load.pings - p0
        touches1 = ens.mntr(lead).get("zk_zks_touches")
        cpu = {n: (cpu_s(pids[n]) - cpu_a[n]) / dt for n in pids}
        rss = {n: rss_kb(pids[n]) for n in pids}
        for n in sorted(pids):
            result(impl=args.impl, phase="hold", server=n, role="leader" if n == lead else "follower",
                   cpu_pct="%.2f" % (100 * cpu[n]), rss_mb="%.1f" % (rss[n] / 1024.0),
                   rss_bytes_per_session="%.0f" % ((rss[n] - rss0[n]) * 1024.0 / max(1, load.live)),
                   heap_bytes_per_session="%.0f" % ((heap1[n] - heap0[n]) * 1024.0 / max(1, load.live)))
        per_touch_us = (cpu[lead] - idle_cpu) * dt / max(1, pings) * 1e6
        result(impl=args.impl, phase="hold", pings_per_s="%.0f" % (pings / dt),
               leader_idle_cpu_pct="%.2f" % (100 * idle_cpu),
               leader_engine_touches_per_s=("%.0f" % ((int(touches1) - int(touches0)) / dt)
                                            if touches0 and touches1 else "n/a"),
               leader_cpu_us_per_forwarded_touch="%.2f" % per_touch_us)

        # Failover under load.
        rest = tuple(n for n in (1, 2, 3) if n != lead)
        marks = {}

        def watch():
            wait_for(lambda: ens.roles(rest), 60, 0.02)
            marks["leader"] = time.monotonic()

        # Real clients reconnect each on its own: the 16-in-flight bound is for measuring
        # establishment only; reconnects are bounded by --reconnect-window.
        load.window = args.reconnect_window
        t_kill = time.monotonic()
        ens.kill9(lead)
        th = threading.Thread(target=watch, daemon=True)
        th.start()
        load.low = load.live
        wait_for_drop(load, 10)
        back = load.run_until(lambda: load.live + load.expired >= args.sessions and "leader" in marks, 120)
        t_back = time.monotonic() - t_kill
        th.join(1)
        load.run_for(max(3, args.timeout_ms / 1000.0))
        result(impl=args.impl, phase="failover", sessions=args.sessions, most_disconnected=args.sessions - load.low,
               new_leader_s="%.2f" % (marks.get("leader", float("nan")) - t_kill),
               all_back_s="%.2f" % t_back, all_back=back, expirations=load.expired,
               live_after="%d" % load.live, reconnect_attempts=load.reconnects,
               reconnect_window=args.reconnect_window)
    finally:
        ens.stop_all()


def wait_for_drop(load, secs):
    """Steps the load until connections start dropping (followers lose their leader)."""
    live0 = load.live
    load.run_until(lambda: load.live < live0, secs)


def bench_local(args):
    ens = Ensemble(args, "bench-local", True, True)
    try:
        if not ens.start_all():
            print("ensemble did not form", flush=True)
            return
        load = Load([ens.client_port[f] for f in ens.followers()], args.timeout_ms, 16)
        load.add(args.local_sessions)
        t0 = time.monotonic()
        ok = load.run_until(lambda: load.live + load.expired >= args.local_sessions, 300)
        est = time.monotonic() - t0
        result(impl=args.impl, phase="establish-local", sessions=load.live, seconds="%.2f" % est,
               per_second="%.0f" % (load.live / est if est else 0), complete=ok)
    finally:
        ens.stop_all()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=("plain", "engine"), required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--base-port", type=int, required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--local-sessions", type=int, default=5000)
    ap.add_argument("--timeout-ms", type=int, default=10000)
    ap.add_argument("--hold-secs", type=float, default=10)
    ap.add_argument("--reconnect-window", type=int, default=512)
    ap.add_argument("--launcher")
    ap.add_argument("--zk-cp")
    ap.add_argument("--jvm-opts", default="-Xmx256m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
                    "-XX:CICompilerCount=1")
    args = ap.parse_args()
    bench_global(args)
    bench_local(args)
    os._exit(0)


if __name__ == "__main__":
    main()
