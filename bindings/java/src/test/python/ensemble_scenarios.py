"""Scenarios of a 3-server ZooKeeper 3.8 ensemble on loopback, driven with kazoo and zkCli.

Usage: ensemble_scenarios.py --impl plain|engine --workdir DIR --base-port N
       [--rounds R] [--phases a,b,c] [--launcher PATH] [--zk-cp CP] [--pidfile FILE]

The same scenarios run against Debian's plain ZooKeeper (QuorumPeerMain, its own session
trackers) and against the engine launcher (run-zookeeper.sh), so a difference is the
engine's. Three phases, each a fresh ensemble (tickTime 1 s, sessions of 4 s):
  a: local sessions on, upgrading on, plus an observer: engine in use, local session and
     upgrade, zkCli, a session upgraded through the observer, reconnect elsewhere (and the
     negatives), dead-client cleanup, failover rounds, a client killed with the leader;
  b: local sessions off: sessions global at once, reconnect, cleanup, failover rounds;
  c: local sessions on, upgrading off: an ephemeral on a local session fails with -120.
Prints "ok   NAME" or "FAIL NAME: why" per check, "figure NAME VALUE" lines, and last
"N passed, M failed". Every server it starts is recorded in --pidfile and stopped by its pid.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from kazoo.client import KazooState
from kazoo.exceptions import EXCEPTIONS, ZookeeperError

from kazoo_common import client as kazoo_client

T = 4.0  # session timeout asked by every client (s)
TICK = 1.0  # tickTime (s)
HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
JVM_OPTS = "-Xmx96m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1"


class EphemeralOnLocalSession(ZookeeperError):
    """ZooKeeper's -120, which kazoo does not know."""

    code = -120


EXCEPTIONS[-120] = EphemeralOnLocalSession


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   %s" % name, flush=True)
        else:
            self.failed += 1
            print("FAIL %s: %s" % (name, detail), flush=True)
        return cond

    @staticmethod
    def figure(name, value):
        print("figure %s %s" % (name, value), flush=True)


R = Results()


def four(port, cmd, timeout=3.0):
    """A four-letter word's answer, or '' if the server does not answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            return out.decode(errors="replace")
    except OSError:
        return ""


def wait_for(cond, timeout, step=0.05):
    """Polls cond() until it is truthy or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


class Ensemble:
    """Three servers on 127.0.0.1; started, killed and stopped by pid."""

    def __init__(self, args, name, local, upgrading, observer=False):
        self.args = args
        self.name = name
        self.dir = os.path.join(args.workdir, "%s-%s" % (args.impl, name))
        self.procs = {}
        base = args.base_port
        # Servers 1-3 vote; server 4, if any, is an observer.
        self.all = (1, 2, 3, 4) if observer else (1, 2, 3)
        self.observer = 4 if observer else None
        self.client_port = {n: base + n for n in self.all}
        servers = "".join("server.%d=127.0.0.1:%d:%d%s\n" % (n, base + 10 + n, base + 20 + n,
                                                              ":observer" if n == self.observer else "")
                          for n in self.all)
        for n in self.all:
            data = os.path.join(self.dir, "data%d" % n)
            os.makedirs(data, exist_ok=True)
            with open(os.path.join(data, "myid"), "w") as f:
                f.write("%d\n" % n)
            cfg = ("tickTime=1000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\n"
                   "clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n"
                   "4lw.commands.whitelist=*\nforceSync=no\n" % (data, base + n))
            if n == self.observer:
                cfg += "peerType=observer\n"
            if local:
                cfg += "localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=%s\n" % (
                    "true" if upgrading else "false")
            with open(self.cfg(n), "w") as f:
                f.write(cfg + servers)

    def cfg(self, n):
        return os.path.join(self.dir, "zoo%d.cfg" % n)

    def log(self, n):
        return os.path.join(self.dir, "server%d.log" % n)

    def host(self, n):
        return "127.0.0.1:%d" % self.client_port[n]

    def hosts(self, first):
        """All three servers, `first` first (clients keep this order: randomize_hosts=False)."""
        return ",".join(self.host(n) for n in [first] + [m for m in (1, 2, 3) if m != first])

    def start(self, n):
        env = dict(os.environ)
        jvm = getattr(self.args, "jvm_opts", None) or JVM_OPTS
        if self.args.impl == "engine":
            env["ZKS_JAVA_OPTS"] = jvm
            cmd = [self.args.launcher, self.cfg(n)]
        else:
            cmd = ["java"] + jvm.split() + [
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-cp", self.args.zk_cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.cfg(n)]
        logf = open(self.log(n), "a")
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, start_new_session=True)
        logf.close()
        self.procs[n] = p
        with open(self.args.pidfile, "a") as f:
            f.write("%d\n" % p.pid)

    def kill9(self, n):
        p = self.procs.pop(n)
        p.send_signal(signal.SIGKILL)
        p.wait()

    def stop(self, n):
        p = self.procs.pop(n, None)
        if p is None:
            return
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def stop_all(self):
        for n in list(self.procs):
            self.stop(n)

    def mode(self, n):
        m = re.search(r"Mode: (\w+)", four(self.client_port[n], "srvr", 1.0))
        return m.group(1) if m else None

    def zxid(self, n):
        m = re.search(r"Zxid: 0x([0-9a-f]+)", four(self.client_port[n], "srvr"))
        return int(m.group(1), 16) if m else None

    def mntr(self, n):
        out = {}
        for line in four(self.client_port[n], "mntr").splitlines():
            k, _, v = line.partition("\t")
            out[k] = v
        return out

    def roles(self, among=(1, 2, 3)):
        """{n: mode} if the servers in `among` serve as one leader and followers, else None."""
        modes = {n: self.mode(n) for n in among}
        if list(modes.values()).count("leader") == 1 and all(m in ("leader", "follower") for m in modes.values()):
            return modes
        return None

    def leader(self):
        r = self.roles()
        return next(n for n, m in r.items() if m == "leader")

    def followers(self):
        r = self.roles()
        return [n for n, m in sorted(r.items()) if m == "follower"]

    def start_all(self):
        for n in self.all:
            self.start(n)
            time.sleep(1.0)
        formed = wait_for(self.roles, 60, 0.2)
        if formed and self.observer:
            return wait_for(lambda: self.mode(self.observer) == "observer", 30, 0.2)
        return formed

    def logs(self):
        text = ""
        for n in self.all:
            try:
                with open(self.log(n), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text


def victim(hosts, path):
    """A killable client process; returns (process, session id, password)."""
    p = subprocess.Popen([PYTHON, os.path.join(HERE, "ensemble_victim.py"), hosts, str(int(T * 1000)), path],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    line = p.stdout.readline().split()
    if len(line) != 3 or line[0] != "session":
        p.kill()
        p.wait()
        raise RuntimeError("victim did not start: %r" % line)
    return p, int(line[1], 16), bytes.fromhex(line[2])


def kill_victim(p):
    p.send_signal(signal.SIGKILL)
    p.wait()


class Watched:
    """A kazoo client that records every LOST state and session expiry it sees."""

    def __init__(self, hosts, path=None, client_id=None):
        kw = {"randomize_hosts": False}
        if client_id is not None:
            kw["client_id"] = client_id
        self.zk, self.rec = kazoo_client(hosts, T, **kw)
        self.lost = 0
        self.path = path
        self.zk.add_listener(self._state)
        self.sid = self.zk.client_id[0]
        self.born = time.monotonic()

    def _state(self, state):
        if state == KazooState.LOST:
            self.lost += 1

    def healthy(self):
        cid = self.zk.client_id
        return self.lost == 0 and self.rec.expired == 0 and cid is not None and cid[0] == self.sid

    def owns_path(self):
        st = self.zk.retry(self.zk.exists, self.path)
        return st is not None and st.ephemeralOwner == self.sid

    def close(self):
        try:
            self.zk.stop()
            self.zk.close()
        except Exception:  # noqa: BLE001 - best effort at teardown
            pass


def expired_on_reconnect(hosts, sid, pw):
    """Whether reconnecting with (sid, pw) is told the session expired."""
    zk, rec = kazoo_client(hosts, T, client_id=(sid, pw), randomize_hosts=False)
    expired = rec.expired > 0 or zk.client_id[0] != sid
    zk.stop()
    zk.close()
    return expired


def test(name):
    """Runs a scenario; an exception is a failure of that scenario."""
    def wrap(fn):
        def run(*a, **kw):
            try:
                return fn(*a, **kw)
            except Exception as e:  # noqa: BLE001 - reported as a failure
                R.check(name, False, "%s: %s" % (type(e).__name__, e))
                return None
        return run
    return wrap


def p(ens, name):
    return "%s/%s/%s" % (ens.args.impl, ens.name, name)


@test("engine-in-use")
def engine_in_use(ens):
    roles = ens.roles()
    for n in ens.all:
        m = ens.mntr(n)
        if ens.args.impl == "engine":
            want = "leader" if roles.get(n) == "leader" else "learner"
            R.check(p(ens, "mntr %d shows the engine as %s" % (n, want)), m.get("zk_zks_engine_role") == want,
                    "zk_zks_engine_role=%r" % m.get("zk_zks_engine_role"))
        else:
            R.check(p(ens, "mntr %d has no engine keys" % n), not any("zks_" in k for k in m), "")
    trackers = len(re.findall(r"zksession engine tracks the sessions of", ens.logs()))
    if ens.args.impl == "engine":
        R.check(p(ens, "every server built an engine tracker"), trackers >= len(ens.all),
                "%d in the logs" % trackers)


def global_counts(ens):
    return [ens.mntr(n).get("zk_global_sessions") for n in ens.all]


@test("local-session-and-upgrade")
def local_session_and_upgrade(ens):
    lead = ens.leader()
    f1, f2 = ens.followers()
    c = Watched(ens.host(f1))
    sid = c.sid
    R.check(p(ens, "a new session on a follower is local there"),
            wait_for(lambda: ens.mntr(f1).get("zk_local_sessions") == "1", 3), ens.mntr(f1).get("zk_local_sessions"))
    R.check(p(ens, "the leader does not track a follower's local session"),
            "%x" % sid not in four(ens.client_port[lead], "dump"), "")
    c.zk.create("/local-persistent", b"x")
    R.check(p(ens, "a persistent create on a local session succeeds"), c.zk.exists("/local-persistent") is not None)
    g0 = int(ens.mntr(lead).get("zk_global_sessions", "0"))
    z0 = ens.zxid(lead)
    c.zk.create("/local-upgraded", b"x", ephemeral=True)
    st = c.zk.exists("/local-upgraded")
    R.check(p(ens, "an ephemeral create upgrades the session in one txn (czxid = zxid + 2)"),
            st is not None and st.czxid == z0 + 2 and st.ephemeralOwner == sid,
            "czxid %s, zxid before %s" % (st and hex(st.czxid), hex(z0)))
    R.check(p(ens, "the upgraded session is global on every server"),
            wait_for(lambda: global_counts(ens) == [str(g0 + 1)] * len(ens.all), 5), global_counts(ens))
    dump = four(ens.client_port[lead], "dump")
    gi = dump.find("Global")
    R.check(p(ens, "the leader's dump lists it under Global"), gi >= 0 and ("0x%x" % sid) in dump[gi:], dump)
    R.check(p(ens, "the follower logged the upgrade"), ("Upgrading session 0x%x" % sid) in ens.logs(), "")
    c.close()
    R.check(p(ens, "closing the upgraded session deletes its ephemeral"),
            wait_for(lambda: global_counts(ens) == [str(g0)] * len(ens.all), 5), global_counts(ens))

    # A local session killed without a close: expired by its follower, with no txn.
    v, vsid, vpw = victim(ens.host(f1), "-")
    local0 = int(ens.mntr(f1).get("zk_local_sessions", "0"))
    z1 = ens.zxid(lead)
    kill_victim(v)
    R.check(p(ens, "a local session reconnecting to another server is expired"),
            expired_on_reconnect(ens.host(f2), vsid, vpw), "")
    t0 = time.monotonic()
    gone = wait_for(lambda: int(ens.mntr(f1).get("zk_local_sessions", "99")) < local0, T + 1.5 * TICK + 4)
    R.check(p(ens, "a dead client's local session is expired by its follower"), gone,
            ens.mntr(f1).get("zk_local_sessions"))
    R.figure(p(ens, "local_expiry_s"), "%.2f" % (time.monotonic() - t0))
    R.check(p(ens, "expiring a local session writes no txn (leader zxid unchanged)"), ens.zxid(lead) == z1,
            "%s -> %s" % (hex(z1), hex(ens.zxid(lead) or 0)))
    R.check(p(ens, "the follower logged the local expiry"), ("Expiring session 0x%x" % vsid) in ens.logs(), "")


@test("zkcli")
def zkcli(ens):
    f = ens.followers()[-1]
    env = dict(os.environ, CLIENT_JVMFLAGS="-Xmx64m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    out = subprocess.run([ZKCLI, "-server", ens.host(f)], input="create -e /zkcli-eph hello\nget /zkcli-eph\nquit\n",
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60, env=env).stdout
    R.check(p(ens, "zkCli creates an ephemeral through a follower"), "Created /zkcli-eph" in out and "hello" in out,
            out[-500:])
    obs = Watched(ens.hosts(ens.leader()))
    R.check(p(ens, "zkCli's quit removes its ephemeral"), wait_for(lambda: obs.zk.exists("/zkcli-eph") is None, 5))
    obs.close()


@test("reconnect")
def reconnect(ens, survivors):
    lead = ens.leader()
    f1, f2 = ens.followers()
    for target, label in ((f2, "another follower"), (lead, "the leader")):
        path = "/moved-to-%d" % target
        v, sid, pw = victim(ens.host(f1), path)
        kill_victim(v)
        w = Watched(ens.hosts(target), path, client_id=(sid, pw))
        R.check(p(ens, "reconnect with id and password to %s keeps the session" % label),
                w.sid == sid and w.rec.expired == 0 and w.owns_path(), "got 0x%x" % w.zk.client_id[0])
        w.sid = sid
        survivors.append(w)
    live = survivors[0]
    R.check(p(ens, "a wrong password is expired"), expired_on_reconnect(ens.host(f1), live.sid, b"\0" * 16), "")


@test("observer")
def observer(ens, survivors):
    o = ens.observer
    w = Watched(ens.hosts(o), "/on-observer")
    R.check(p(ens, "an observer's new session is local there"),
            wait_for(lambda: ens.mntr(o).get("zk_local_sessions") == "1", 3), ens.mntr(o).get("zk_local_sessions"))
    w.zk.create(w.path, b"x", ephemeral=True)
    R.check(p(ens, "an ephemeral through the observer upgrades the session"), w.owns_path(), "")
    # Its touches reach the leader through the observer's PING replies: checked with the
    # other moved sessions at the end (3T, through every failover round).
    survivors.append(w)


def check_survivors(ens, survivors):
    wait_for(lambda: all(time.monotonic() - w.born >= 3 * T for w in survivors), 3 * T + 1, 0.2)
    for w in survivors:
        R.check(p(ens, "session 0x%x (%s) lives on for 3T and keeps its ephemeral" % (w.sid, w.path)),
                w.healthy() and w.owns_path(),
                "lost %d expired %d" % (w.lost, w.rec.expired))
        w.close()


@test("dead-client-cleanup")
def dead_client_cleanup(ens):
    f1, f2 = ens.followers()
    obs = Watched(ens.hosts(f2))
    v, sid, pw = victim(ens.host(f1), "/dead-client")
    time.sleep(0.3)
    kill_victim(v)
    t0 = time.monotonic()
    gone = wait_for(lambda: obs.zk.exists("/dead-client") is None, T + 1.5 * TICK + 5, 0.02)
    dt = time.monotonic() - t0
    R.figure(p(ens, "dead_client_cleanup_s"), "%.2f" % dt)
    lo, hi = 2 * T / 3 - 0.5, T + 1.5 * TICK + 1
    R.check(p(ens, "a killed client's ephemeral is deleted within (2T/3 - 0.5 s, T + 1.5 tick + 1 s]"),
            gone and lo < dt <= hi, "%.2f s, bounds (%.2f, %.2f]" % (dt, lo, hi))
    R.check(p(ens, "a reconnect after the timeout is expired"), expired_on_reconnect(ens.host(f2), sid, pw), "")
    obs.close()


def engine_threads(pid):
    """(native expiry workers, Java expiry-delivery threads) of a server process."""
    workers = delivery = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("zks-expiry"):
            workers += 1
        elif comm.startswith(("EngineLeaderSes", "EngineLearnerSe")):
            delivery += 1
    return workers, delivery


def wait_new_leader(ens, among, timeout=30):
    return wait_for(lambda: ens.roles(among), timeout, 0.02)


@test("failover")
def failover(ens, rounds, per_follower=6, on_leader=3):
    lead = ens.leader()
    f1, f2 = ens.followers()
    homes = [f1] * per_follower + [f2] * per_follower + [lead] * on_leader
    clients = []
    for i, home in enumerate(homes):
        w = Watched(ens.hosts(home), "/failover-%d" % i)
        w.zk.create(w.path, b"x", ephemeral=True)
        clients.append(w)
    g = wait_for(lambda: (lambda c: c if len(set(c)) == 1 else None)(global_counts(ens)), 5) or global_counts(ens)
    for r in range(1, rounds + 1):
        lead = ens.leader()
        rest = tuple(n for n in (1, 2, 3) if n != lead)
        t0 = time.monotonic()
        ens.kill9(lead)
        ok = wait_new_leader(ens, rest)
        t_leader = time.monotonic() - t0
        back = wait_for(lambda: all(w.zk.state == KazooState.CONNECTED for w in clients), 30, 0.01)
        t_back = time.monotonic() - t0
        R.check(p(ens, "round %d: a new leader and every client back" % r), ok and back,
                "leader %s clients %s" % (ok, back))
        R.figure(p(ens, "round%d_new_leader_s" % r), "%.2f" % t_leader)
        R.figure(p(ens, "round%d_all_clients_back_s" % r), "%.2f" % t_back)
        ens.start(lead)
        R.check(p(ens, "round %d: the killed server rejoins as follower" % r),
                wait_for(lambda: ens.mode(lead) == "follower", 60, 0.2), ens.mode(lead))
    bad = [w for w in clients if not (w.healthy() and w.owns_path())]
    R.check(p(ens, "zero spurious expirations over %d rounds (%d clients)" % (rounds, len(clients))), not bad,
            ["0x%x lost=%d expired=%d" % (w.sid, w.lost, w.rec.expired) for w in bad])
    logs = ens.logs()
    expired_live = [w for w in clients if ("Expiring session 0x%x" % w.sid) in logs]
    R.check(p(ens, "no server logged the expiry of a live session"), not expired_live,
            ["0x%x" % w.sid for w in expired_live])
    if ens.args.impl == "engine":
        # Every role change opened a new engine; each retired one stopped its threads.
        R.check(p(ens, "one engine's threads per server after %d role changes" % rounds),
                wait_for(lambda: all(engine_threads(ens.procs[n].pid) == (1, 1) for n in ens.procs), 10, 0.2),
                {n: engine_threads(ens.procs[n].pid) for n in ens.procs})
    R.check(p(ens, "equal global session counts on all servers"),
            wait_for(lambda: len(set(global_counts(ens))) == 1 and global_counts(ens)[0] == g[0], 10),
            "%s (before: %s)" % (global_counts(ens), g))
    for w in clients:
        w.close()


@test("client-and-leader-killed")
def client_and_leader_killed(ens):
    lead = ens.leader()
    f1, f2 = ens.followers()
    obs = Watched(ens.hosts(f2))
    v, sid, _ = victim(ens.host(f1), "/dies-with-leader")
    time.sleep(0.3)
    t0 = time.monotonic()
    kill_victim(v)
    ens.kill9(lead)
    wait_new_leader(ens, (f1, f2))
    tf = time.monotonic() - t0
    gone = wait_for(lambda: obs.zk.retry(obs.zk.exists, "/dies-with-leader") is None, tf + T + TICK + 6, 0.02)
    dt = time.monotonic() - t0
    R.figure(p(ens, "client_and_leader_killed_cleanup_s"), "%.2f" % dt)
    R.check(p(ens, "killed with the leader: deleted within failover + T + tick + 1 s"),
            gone and dt <= tf + T + TICK + 1, "%.2f s, failover %.2f s" % (dt, tf))
    obs.close()
    ens.start(lead)
    wait_for(lambda: ens.mode(lead) == "follower", 60, 0.2)


@test("global-at-once")
def global_at_once(ens):
    f1 = ens.followers()[0]
    g0 = int(ens.mntr(ens.leader()).get("zk_global_sessions", "0"))
    w = Watched(ens.host(f1))
    R.check(p(ens, "with local sessions off a new session is global on all servers"),
            wait_for(lambda: global_counts(ens) == [str(g0 + 1)] * len(ens.all), 5), global_counts(ens))
    w.close()


@test("no-upgrade")
def no_upgrade(ens):
    f1 = ens.followers()[0]
    w = Watched(ens.host(f1))
    try:
        w.zk.create("/no-upgrade", b"x", ephemeral=True)
        got = "created"
    except EphemeralOnLocalSession:
        got = "-120"
    R.check(p(ens, "with upgrading off an ephemeral on a local session fails with -120"), got == "-120", got)
    w.close()


def run_phase(args, name, local, upgrading, body, observer=False):
    ens = Ensemble(args, name, local, upgrading, observer)
    t0 = time.monotonic()
    try:
        if not R.check("%s/%s/ensemble forms (one leader, two followers%s)" % (
            args.impl, name, ", an observer" if observer else ""), ens.start_all(), ""):
            return
        R.figure("%s/%s/ensemble_start_s" % (args.impl, name), "%.1f" % (time.monotonic() - t0))
        engine_in_use(ens)
        body(ens)
    finally:
        ens.stop_all()
        R.figure("%s/%s/phase_s" % (args.impl, name), "%.1f" % (time.monotonic() - t0))


def phase_a(args):
    def body(ens):
        local_session_and_upgrade(ens)
        zkcli(ens)
        survivors = []
        observer(ens, survivors)
        reconnect(ens, survivors)
        dead_client_cleanup(ens)
        failover(ens, args.rounds)
        client_and_leader_killed(ens)
        check_survivors(ens, survivors)
    run_phase(args, "local-on", True, True, body, observer=True)


def phase_b(args):
    def body(ens):
        global_at_once(ens)
        survivors = []
        reconnect(ens, survivors)
        dead_client_cleanup(ens)
        failover(ens, args.rounds)
        check_survivors(ens, survivors)
    run_phase(args, "local-off", False, False, body)


def phase_c(args):
    run_phase(args, "no-upgrade", True, False, no_upgrade)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=("plain", "engine"), required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--base-port", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--phases", default="a,b,c")
    ap.add_argument("--launcher")
    ap.add_argument("--zk-cp")
    ap.add_argument("--pidfile", required=True)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    phases = {"a": phase_a, "b": phase_b, "c": phase_c}
    for ph in args.phases.split(","):
        phases[ph](args)
    print("%d passed, %d failed" % (R.passed, R.failed), flush=True)
    # kazoo's threads must not keep the process alive.
    os._exit(0 if R.failed == 0 else 1)


if __name__ == "__main__":
    threading.current_thread().name = "ensemble-scenarios"
    main()
