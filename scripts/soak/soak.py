#!/usr/bin/python3
"""The soak run against one server (zksessiond or Apache ZooKeeper 3.8), or the side-by-side
report of two runs. See docs/soak.md.

  soak.py run --server zksessiond|zookeeper --seconds S --seed N --out FILE.json [...]
  soak.py report A.json B.json

`run` starts the server on a free loopback port under a descriptor limit, starts the client
processes (kazoo and the Rust client), and applies faults chosen at random from the seed
while it checks the invariants; it stops everything it started, by pid, and writes its
figures as JSON. Exit status 0 when every invariant held.
"""
import argparse
import json
import logging
import os
import random
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.retry import KazooRetry

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
ZK_CP = os.environ.get("ZK_CLASSPATH", "/usr/share/java/zookeeper.jar")

FAULTS = ["client_kill", "client_stop", "server_stop", "server_restart", "fd_flood",
          "slow_reader", "garbage", "oversized", "conn_drop"]


def now():
    return time.monotonic()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def connect_frame(timeout_ms=10000):
    body = struct.pack(">iqiq", 0, 0, timeout_ms, 0) + struct.pack(">i", 16) + b"\0" * 16
    return struct.pack(">i", len(body)) + body


def raw_session(port, timeout=2.0):
    """A raw connection with a completed handshake, or None."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(connect_frame())
        hdr = s.recv(4)
        if len(hdr) < 4:
            s.close()
            return None
        return s
    except OSError:
        return None


class Server:
    """The server process: started under a descriptor limit, killed by pid."""

    def __init__(self, kind, work, port, tick_ms, fd_limit):
        self.kind, self.work, self.port = kind, work, port
        self.tick_ms, self.fd_limit = tick_ms, fd_limit
        self.proc = None
        # Whether state survives kill -9: learnt at the first restart (None until then).
        self.durable = None
        self.data = os.path.join(work, "data")
        os.makedirs(self.data, exist_ok=True)
        self.cfg = os.path.join(work, "zoo.cfg")
        with open(self.cfg, "w") as f:
            f.write("tickTime=%d\nclientPort=%d\nclientPortAddress=127.0.0.1\ndataDir=%s\n"
                    "maxClientCnxns=0\n4lw.commands.whitelist=ruok,mntr,srvr\n"
                    "admin.enableServer=false\n" % (tick_ms, port, self.data))
        self.log = open(os.path.join(work, "server.log"), "ab")

    def start(self):
        if self.kind == "zksessiond":
            cmd = [os.path.join(ROOT, "target/release/zksessiond"), "--config", self.cfg]
            env = dict(os.environ, RUST_LOG="warn")
        else:
            cmd = ["java", "-Xmx512m", "-Dzookeeper.admin.enableServer=false",
                   "-Dzookeeper.4lw.commands.whitelist=*", "-cp", ZK_CP,
                   "org.apache.zookeeper.server.ZooKeeperServerMain", self.cfg]
            env = dict(os.environ)
        cmd = ["prlimit", "--nofile=%d:%d" % (self.fd_limit, self.fd_limit), "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env,
                                     stdin=subprocess.DEVNULL)
        deadline = now() + 60
        while now() < deadline:
            s = raw_session(self.port, 0.5)
            if s:
                s.close()
                break
            time.sleep(0.1)
        else:
            raise SystemExit("%s did not start" % self.kind)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill(self):
        if self.proc is not None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def rss(self):
        return rss_kb(self.proc.pid) if self.alive() else 0


class Worker:
    """One client process and what it reported."""

    def __init__(self, soak, kind, name, seed):
        self.soak, self.kind, self.name = soak, kind, name
        hosts = "127.0.0.1:%d" % soak.port
        if kind == "kazoo":
            cmd = [PY, os.path.join(HERE, "kazoo_worker.py"), hosts, name,
                   str(soak.timeout_ms / 1000.0), str(seed)]
        else:
            cmd = [os.path.join(ROOT, "target/release/examples/soakworker"), hosts, name,
                   str(soak.timeout_ms), str(seed)]
        err = open(os.path.join(soak.work, "client-%s.err" % name), "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err,
                                     stdin=subprocess.DEVNULL)
        self.eph = None
        self.excused_until = 0.0  # expiries before this are expected (a fault we applied)
        self.dead = False
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        log = open(os.path.join(self.soak.work, "client-%s.log" % self.name), "ab")
        for line in self.proc.stdout:
            log.write(b"%.3f " % now() + line)
            log.flush()
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            self.soak.on_event(self, ev)

    def kill(self):
        self.dead = True
        try:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


class Soak:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.port = free_port()
        self.timeout_ms = a.timeout_ms
        self.work = a.work
        self.server = Server(a.server, a.work, self.port, a.tick_ms, a.fd_limit)
        self.lock = threading.Lock()
        self.workers = []
        self.gen = 0
        self.faults = {f: 0 for f in FAULTS}
        # Invariants: name -> [checked, violated].
        self.inv = {k: [0, 0] for k in (
            "live_session_not_expired", "ephemeral_gone_in_bound", "watchers_told_once",
            "acked_write_readable", "one_shot_watch_fires_once", "server_never_exits",
            "rss_back_near_baseline", "new_session_after_flood")}
        self.expected_expiries = 0
        self.stall_expiries = 0
        self.lost_to_restart = 0
        self.acks = {}  # path -> (data, time acknowledged)
        self.restarts = []  # times of in-memory restarts
        self.latencies = []
        self.ops = {"ok": 0, "failed": 0}
        self.worst = {"cleanup_ms": 0.0, "flood_recovery_ms": 0.0, "op_ms": 0.0,
                      "server_restart_to_session_ms": 0.0}
        self.rss = {"baseline_kb": 0, "peak_kb": 0, "final_kb": 0}
        self.notes = []
        self.server_stall_until = 0.0

    # -- bookkeeping ---------------------------------------------------------------------
    def check(self, name, ok, note=None):
        with self.lock:
            self.inv[name][0] += 1
            if not ok:
                self.inv[name][1] += 1
                if note and len(self.notes) < 40:
                    self.notes.append("%s: %s" % (name, note))

    def on_event(self, w, ev):
        t = now()
        kind = ev.get("ev")
        if kind == "session":
            w.eph = ev["eph"]
        elif kind == "expired":
            if w.dead or t < w.excused_until:
                with self.lock:
                    self.expected_expiries += 1
            elif (self.restarts and self.server.durable is not True
                  and t - self.restarts[-1] < 3 * self.timeout_ms / 1000):
                with self.lock:
                    self.lost_to_restart += 1
            else:
                stalled = t - self.server_stall_until < self.timeout_ms / 1000
                if stalled:
                    with self.lock:
                        self.stall_expiries += 1
                with self.lock:
                    self.inv["live_session_not_expired"][1] += 1
                    if len(self.notes) < 40:
                        self.notes.append("live_session_not_expired: %s expired%s" % (
                            w.name, " after a server stall" if stalled else ""))
        elif kind == "op":
            with self.lock:
                self.ops["ok" if ev["ok"] else "failed"] += 1
                # A watch check waits on purpose (for a second firing): not a latency.
                if ev["ok"] and ev["op"] != "watch":
                    self.latencies.append(ev["ms"])
        elif kind == "ack":
            with self.lock:
                self.acks[ev["path"]] = (ev["data"], t)
        elif kind == "watch":
            self.check("one_shot_watch_fires_once", ev["fired"] == 1,
                       "%s: watch fired %d times" % (w.name, ev["fired"]))

    def spawn(self, kind):
        self.gen += 1
        name = "%s%d" % ("k" if kind == "kazoo" else "r", self.gen)
        w = Worker(self, kind, name, self.rng.randrange(1 << 31))
        self.workers.append(w)
        return w

    def observer(self):
        zk = KazooClient(hosts="127.0.0.1:%d" % self.port, timeout=30,
                         connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5),
                         command_retry=KazooRetry(max_tries=50, delay=0.1, max_delay=0.5))
        zk.start(timeout=60)
        return zk

    # -- faults --------------------------------------------------------------------------
    def live_workers(self):
        return [w for w in self.workers if not w.dead and w.eph]

    def watch_cleanup(self, w, t0, zk):
        """Watches the ephemeral of a client about to die; checks it goes within the bound
        and that the watcher is told once."""
        bound = (self.timeout_ms + self.a.tick_ms) / 1000.0 + self.a.slack
        fired = []
        try:
            if zk.exists(w.eph, watch=lambda e: fired.append(now())) is None:
                return None
        except KazooException:
            return None

        def judge():
            deadline = t0 + bound + 5
            while not fired and now() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            took = (fired[0] - t0) if fired else None
            if took is not None:
                with self.lock:
                    self.worst["cleanup_ms"] = max(self.worst["cleanup_ms"], took * 1000)
            self.check("ephemeral_gone_in_bound", took is not None and took <= bound,
                       "%s: ephemeral gone after %s s (bound %.1f s)" % (w.eph, took, bound))
            self.check("watchers_told_once", len(fired) == 1,
                       "%s: watcher told %d times" % (w.eph, len(fired)))
        th = threading.Thread(target=judge, daemon=True)
        th.start()
        return th

    def fault(self, name, zk):
        self.faults[name] += 1
        live = self.live_workers()
        if name == "client_kill" and live:
            w = self.rng.choice(live)
            t0 = now()
            th = self.watch_cleanup(w, t0, zk)
            w.kill()
            self.spawn(w.kind)
            return th
        if name == "client_stop" and live:
            w = self.rng.choice(live)
            pause = (self.timeout_ms + 2 * self.a.tick_ms) / 1000.0 + 1.0
            w.excused_until = now() + pause + self.timeout_ms / 1000.0 + 5
            t0 = now()
            th = self.watch_cleanup(w, t0, zk)
            os.kill(w.proc.pid, signal.SIGSTOP)
            time.sleep(pause)
            os.kill(w.proc.pid, signal.SIGCONT)
            return th
        if name == "server_stop":
            # Shorter than every timeout; clients touch their session every 100 ms at most.
            pause = self.rng.uniform(0.25, 0.75) * self.timeout_ms / 1000.0
            self.server.signal(signal.SIGSTOP)
            time.sleep(pause)
            self.server.signal(signal.SIGCONT)
            self.server_stall_until = now()
            return None
        if name == "server_restart":
            self.server.kill()
            t0 = now()
            self.restarts.append(t0)
            self.server.start()
            s = raw_session(self.port, 5)
            took = (now() - t0) * 1000
            if s:
                s.close()
            self.worst["server_restart_to_session_ms"] = max(
                self.worst["server_restart_to_session_ms"], took)
            # Durable state shows as the tree surviving the kill.
            probe = KazooClient(hosts="127.0.0.1:%d" % self.port, timeout=10)
            try:
                probe.start(timeout=30)
                self.server.durable = probe.exists("/soak") is not None
                probe.stop()
                probe.close()
            except Exception:  # noqa: BLE001 (a failed probe leaves it unknown)
                pass
            return None
        if name == "fd_flood":
            socks = []
            for _ in range(self.a.fd_limit + 100):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", self.port), timeout=0.2))
                except OSError:
                    break
            time.sleep(1.0)
            for s in socks:
                s.close()
            t0 = now()
            s = None
            while s is None and now() - t0 < 30:
                s = raw_session(self.port, 1.0)
            took = (now() - t0) * 1000
            self.worst["flood_recovery_ms"] = max(self.worst["flood_recovery_ms"], took)
            self.check("new_session_after_flood", s is not None,
                       "no new session within 30 s of a flood (%d connections)" % len(socks))
            if s:
                s.close()
            return None
        if name == "slow_reader":
            s = raw_session(self.port)
            if s:
                # getData("/soak") 5000 times without reading a reply.
                path = b"/soak"
                body = struct.pack(">ii", 0, 4) + struct.pack(">i", len(path)) + path + b"\0"
                try:
                    s.setblocking(False)
                    for i in range(5000):
                        b = struct.pack(">ii", i + 1, 4) + body[8:]
                        s.send(struct.pack(">i", len(b)) + b)
                except OSError:
                    pass
                time.sleep(self.rng.uniform(1, 3))
                s.close()
            return None
        if name == "garbage":
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                s.sendall(struct.pack(">i", 64) + bytes(self.rng.randrange(256) for _ in range(64)))
                s.recv(64)
                s.close()
            except OSError:
                pass
            return None
        if name == "oversized":
            s = raw_session(self.port)
            if s:
                try:
                    s.sendall(struct.pack(">i", 0x7fffffff) + b"\0" * 1024)
                    s.recv(64)
                except OSError:
                    pass
                s.close()
            return None
        if name == "conn_drop":
            s = raw_session(self.port)
            if s:
                s.sendall(struct.pack(">iii", 12, 1, 11))  # half a ping
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()  # RST
            return None
        return None

    # -- the run -------------------------------------------------------------------------
    def run(self):
        a = self.a
        self.server.start()
        zk = self.observer()
        zk.ensure_path("/soak")
        for i in range(a.kazoo):
            self.spawn("kazoo")
        for i in range(a.rust):
            self.spawn("rust")
        time.sleep(a.warmup)
        self.rss["baseline_kb"] = self.server.rss()
        end = now() + a.seconds
        judges = []
        deck = []
        while now() < end:
            time.sleep(self.rng.uniform(a.gap / 2, a.gap * 1.5))
            # Faults are dealt from a shuffled deck, so a short run still has each kind.
            if not deck:
                deck = list(FAULTS)
                self.rng.shuffle(deck)
            name = deck.pop()
            exposed = [w for w in self.live_workers() if now() > w.excused_until]
            with open(os.path.join(self.work, "faults.log"), "a") as f:
                f.write("%.3f %s\n" % (now(), name))
            th = self.fault(name, zk)
            # Each live client that lived through a fault is one check of the first invariant
            # (its expiries, if any, are counted as they are reported).
            with self.lock:
                self.inv["live_session_not_expired"][0] += sum(
                    1 for w in exposed if not w.dead and now() > w.excused_until)
            if th:
                judges.append(th)
            if not self.server.alive():
                self.check("server_never_exits", False, "server exited after %s" % name)
                self.server.start()
            else:
                self.check("server_never_exits", True)
            # Memory back near its baseline once the fault is over (a restart re-baselines).
            if name == "server_restart":
                time.sleep(a.warmup)
                self.rss["baseline_kb"] = max(self.rss["baseline_kb"], self.server.rss())
            back = False
            for _ in range(10):
                r = self.server.rss()
                self.rss["peak_kb"] = max(self.rss["peak_kb"], r)
                if r <= self.rss["baseline_kb"] * 1.5 + 32 * 1024:
                    back = True
                    break
                time.sleep(0.5)
            self.check("rss_back_near_baseline", back, "RSS %d kB after %s (baseline %d kB)"
                       % (self.server.rss(), name, self.rss["baseline_kb"]))
        for th in judges:
            th.join(timeout=60)
        # Every acknowledged write readable (writes before an in-memory restart excepted).
        last_restart = self.restarts[-1] if self.restarts and not self.server.durable else -1
        lost = 0
        with self.lock:
            acks = dict(self.acks)
        for path, (data, t) in acks.items():
            if t < last_restart:
                lost += 1
                continue
            try:
                got, _ = zk.get(path)
                ok = got.decode() == data
            except NoNodeError:
                ok = False
            except KazooException:
                continue
            self.check("acked_write_readable", ok, "%s unreadable or changed" % path)
        self.lost_writes_to_restart = lost
        self.rss["final_kb"] = self.server.rss()
        alive = self.server.alive()
        self.check("server_never_exits", alive, "server not running at the end")
        try:
            zk.stop()
            zk.close()
        except KazooException:
            pass
        for w in self.workers:
            if not w.dead:
                w.kill()
        self.server.kill()
        lat = sorted(self.latencies)
        p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0.0)
        self.worst["op_ms"] = lat[-1] if lat else 0.0
        return {
            "server": a.server, "seed": a.seed, "seconds": a.seconds,
            "durable": self.server.durable, "clients": {"kazoo": a.kazoo, "rust": a.rust},
            "timeout_ms": a.timeout_ms, "tick_ms": a.tick_ms, "fd_limit": a.fd_limit,
            "faults": self.faults, "invariants": self.inv, "ops": self.ops,
            "op_p50_ms": p(0.5), "op_p99_ms": p(0.99), "worst": self.worst, "rss": self.rss,
            "expected_expiries": self.expected_expiries, "stall_expiries": self.stall_expiries,
            "sessions_lost_to_restart": self.lost_to_restart,
            "writes_lost_to_restart": self.lost_writes_to_restart, "notes": self.notes,
        }


def report(files):
    runs = [json.load(open(f)) for f in files]
    names = [r["server"] for r in runs]
    rows = []
    rows.append(("run", ["%d s, seed %d, %d kazoo + %d Rust clients%s" % (
        r["seconds"], r["seed"], r["clients"]["kazoo"], r["clients"]["rust"],
        {True: ", durable", False: ", in memory", None: ""}[r["durable"]]) for r in runs]))
    for f in FAULTS:
        rows.append(("fault: " + f, [str(r["faults"].get(f, 0)) for r in runs]))
    for k in runs[0]["invariants"]:
        rows.append(("held: " + k, ["%d/%d" % (c - v, c) for c, v in
                                    (r["invariants"][k] for r in runs)]))
    rows.append(("sessions expired by a server stall", [str(r["stall_expiries"]) for r in runs]))
    rows.append(("sessions lost to kill -9 (in memory)",
                 [str(r["sessions_lost_to_restart"]) for r in runs]))
    rows.append(("acked writes lost to kill -9 (in memory)",
                 [str(r["writes_lost_to_restart"]) for r in runs]))
    rows.append(("client ops ok / failed", ["%d / %d" % (r["ops"]["ok"], r["ops"]["failed"])
                                            for r in runs]))
    rows.append(("client op latency p50 / p99 / max (ms)", ["%.1f / %.1f / %.0f" % (
        r["op_p50_ms"], r["op_p99_ms"], r["worst"]["op_ms"]) for r in runs]))
    rows.append(("worst ephemeral cleanup after a client died (ms)",
                 ["%.0f (bound %d + slack)" % (r["worst"]["cleanup_ms"], r["timeout_ms"] + r["tick_ms"])
                  for r in runs]))
    rows.append(("worst new session after a descriptor flood (ms)",
                 ["%.0f" % r["worst"]["flood_recovery_ms"] for r in runs]))
    rows.append(("worst kill -9 to new session (ms)",
                 ["%.0f" % r["worst"]["server_restart_to_session_ms"] for r in runs]))
    rows.append(("RSS baseline / peak / final (MB)", ["%.0f / %.0f / %.0f" % (
        r["rss"]["baseline_kb"] / 1024, r["rss"]["peak_kb"] / 1024, r["rss"]["final_kb"] / 1024)
        for r in runs]))
    w0 = max(len(k) for k, _ in rows)
    ws = [max(len(names[i]), max(len(v[i]) for _, v in rows)) for i in range(len(runs))]
    print("| " + "".ljust(w0) + " | " + " | ".join(n.ljust(w) for n, w in zip(names, ws)) + " |")
    print("|" + "-" * (w0 + 2) + "|" + "|".join("-" * (w + 2) for w in ws) + "|")
    for k, v in rows:
        print("| " + k.ljust(w0) + " | " + " | ".join(x.ljust(w) for x, w in zip(v, ws)) + " |")
    for r in runs:
        for n in r["notes"]:
            print("  %s: %s" % (r["server"], n))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--server", choices=["zksessiond", "zookeeper"], required=True)
    r.add_argument("--seconds", type=float, default=120)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--out", required=True)
    r.add_argument("--work", required=True)
    r.add_argument("--kazoo", type=int, default=6)
    r.add_argument("--rust", type=int, default=2)
    r.add_argument("--timeout-ms", type=int, default=4000)
    r.add_argument("--tick-ms", type=int, default=200)
    r.add_argument("--fd-limit", type=int, default=256)
    r.add_argument("--gap", type=float, default=4.0, help="mean seconds between faults")
    r.add_argument("--warmup", type=float, default=4.0)
    r.add_argument("--slack", type=float, default=2.0, help="seconds added to T + tick")
    p = sub.add_parser("report")
    p.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.cmd == "report":
        report(a.files)
        return 0
    logging.basicConfig(level=logging.CRITICAL)
    # A SIGTERM (the outer timeout) unwinds through `finally`, which stops every process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
    s = Soak(a)
    try:
        res = s.run()
    finally:
        for w in s.workers:
            if not w.dead:
                w.kill()
        s.server.kill()
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    bad = sum(v for _, v in res["invariants"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
