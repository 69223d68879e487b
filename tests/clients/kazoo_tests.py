#!/usr/bin/python3
"""Behaviour tests of zksessiond with the real kazoo client (python3-kazoo).

Usage: kazoo_tests.py HOST:PORT TICK_MS
The server must run with tickTime=TICK_MS and default min/max session timeouts
(2*tick, 20*tick). Prints one 'PASS name' or 'FAIL name: reason' line per test and exits
non-zero if any failed. Every wait is bounded.
"""
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadVersionError,
    NoNodeError,
    NodeExistsError,
    NotEmptyError,
    SessionExpiredError,
)

HOSTS = sys.argv[1]
TICK = int(sys.argv[2]) / 1000.0
HOST, PORT = HOSTS.rsplit(":", 1)
PORT = int(PORT)
HERE = os.path.dirname(os.path.abspath(__file__))
WAIT = 15.0
CHILDREN = []

logging.basicConfig(level=logging.CRITICAL)


def client(timeout=10.0, **kw):
    zk = KazooClient(hosts=HOSTS, timeout=timeout, **kw)
    zk.start(timeout=WAIT)
    return zk


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Negotiated(logging.Handler):
    """Captures the negotiated timeout kazoo logs at its BLATHER level."""

    def __init__(self):
        super().__init__(level=1)
        self.value = None

    def emit(self, record):
        m = re.search(r"negotiated session timeout: (\d+)", record.getMessage())
        if m:
            self.value = int(m.group(1))


def negotiated_timeout(asked_s):
    log = logging.getLogger("negotiation-%s" % asked_s)
    log.setLevel(1)
    h = Negotiated()
    log.addHandler(h)
    zk = KazooClient(hosts=HOSTS, timeout=asked_s, logger=log)
    zk.start(timeout=WAIT)
    zk.stop()
    zk.close()
    return h.value


def spawn(mode, path, timeout_s):
    p = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "kazoo_child.py"), HOSTS, str(timeout_s), mode, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    CHILDREN.append(p)
    line = p.stdout.readline().split()
    check(line[:1] == ["ready"], "child did not get ready: %r" % line)
    return p, int(line[1], 16), bytes.fromhex(line[2])


def touch_and_kill(p):
    """Makes the child touch its session, then SIGKILLs it; returns the kill time."""
    p.stdin.write("touch\n")
    p.stdin.flush()
    check(p.stdout.readline().strip() == "done", "child did not touch")
    t = time.monotonic()
    p.send_signal(signal.SIGKILL)
    p.wait(WAIT)
    return t


def wait_event(ev, what):
    check(ev.wait(WAIT), "no %s within %ss" % (what, WAIT))


# ---- tests --------------------------------------------------------------------------


def test_connect_and_negotiated_timeouts():
    tick_ms = int(TICK * 1000)
    check(negotiated_timeout(10 * TICK) == 10 * tick_ms, "in-range timeout kept")
    check(negotiated_timeout(TICK / 2) == 2 * tick_ms, "raised to 2*tick")
    check(negotiated_timeout(100 * TICK) == 20 * tick_ms, "lowered to 20*tick")


def test_crud_with_versions_and_errors():
    zk = client()
    try:
        zk.create("/crud", b"v0")
        data, stat = zk.get("/crud")
        check((data, stat.version) == (b"v0", 0), "created data")
        try:
            zk.create("/crud", b"again")
            check(False, "NodeExists expected")
        except NodeExistsError:
            pass
        st = zk.set("/crud", b"v1", version=0)
        check(st.version == 1, "version bumped")
        try:
            zk.set("/crud", b"v2", version=0)
            check(False, "BadVersion expected")
        except BadVersionError:
            pass
        zk.create("/crud/child")
        try:
            zk.delete("/crud")
            check(False, "NotEmpty expected")
        except NotEmptyError:
            pass
        try:
            zk.get("/nope")
            check(False, "NoNode expected")
        except NoNodeError:
            pass
        zk.delete("/crud/child")
        try:
            zk.delete("/crud", version=0)
            check(False, "BadVersion expected on delete")
        except BadVersionError:
            pass
        zk.delete("/crud", version=1)
        check(zk.exists("/crud") is None, "deleted")
    finally:
        zk.stop()


def test_sequential_nodes():
    zk = client()
    try:
        zk.create("/seq")
        a = zk.create("/seq/n-", sequence=True)
        b = zk.create("/seq/n-", sequence=True, ephemeral=True)
        check(a == "/seq/n-0000000000" and b == "/seq/n-0000000001", "suffixes %s %s" % (a, b))
    finally:
        zk.stop()


def test_watches_one_shot_child_and_exists():
    zk, other = client(), client()
    try:
        zk.create("/w", b"x")
        data_events, child_events, exist_events = [], [], []
        fired = threading.Event()
        zk.get("/w", watch=lambda e: (data_events.append(e), fired.set()))
        other.set("/w", b"y")
        wait_event(fired, "data watch")
        other.set("/w", b"z")  # one-shot: no second event
        child_fired = threading.Event()
        zk.get_children("/w", watch=lambda e: (child_events.append(e), child_fired.set()))
        other.create("/w/c")
        wait_event(child_fired, "child watch")
        exist_fired = threading.Event()
        check(zk.exists("/w/later", watch=lambda e: (exist_events.append(e), exist_fired.set())) is None,
              "absent")
        other.create("/w/later")
        wait_event(exist_fired, "exists watch")
        zk.sync("/")
        check([e.type for e in data_events] == ["CHANGED"], "one data event: %r" % data_events)
        check([e.type for e in child_events] == ["CHILD"], "child event %r" % child_events)
        check([(e.type, e.path) for e in exist_events] == [("CREATED", "/w/later")], "exists event")
    finally:
        zk.stop()
        other.stop()


def test_ephemeral_of_a_killed_owner_goes_after_its_timeout():
    timeout = 10 * TICK
    watcher = client()
    try:
        p, sid, _ = spawn("ephemeral", "/killed", timeout)
        stat = watcher.exists("/killed")
        check(stat is not None and stat.ephemeralOwner == sid, "ephemeral owned by the child")
        gone = threading.Event()
        when = []
        watcher.exists("/killed", watch=lambda e: (when.append((time.monotonic(), e.type)), gone.set()))
        t_kill = touch_and_kill(p)
        wait_event(gone, "deletion")
        elapsed = when[0][0] - t_kill
        check(when[0][1] == "DELETED", "deleted event")
        check(elapsed >= timeout - 0.05, "deleted too early: %.3fs < %.3fs" % (elapsed, timeout))
        check(elapsed <= timeout + TICK + 1.0, "deleted too late: %.3fs" % elapsed)
        print("  ephemeral deleted %.3fs after SIGKILL (timeout %.3fs, tick %.3fs)"
              % (elapsed, timeout, TICK), flush=True)
    finally:
        watcher.stop()


def test_graceful_close_removes_ephemerals_at_once():
    owner, watcher = client(), client()
    try:
        owner.create("/graceful", ephemeral=True)
        owner.stop()
        check(watcher.exists("/graceful") is None, "ephemeral still there after close")
    finally:
        watcher.stop()


def test_reconnect_with_session_id_and_password_continues():
    p, sid, pw = spawn("ephemeral", "/resumed", 20 * TICK)
    p.send_signal(signal.SIGKILL)
    p.wait(WAIT)
    zk = client(timeout=20 * TICK, client_id=(sid, pw))
    try:
        check(zk.client_id[0] == sid, "same session id")
        stat = zk.exists("/resumed")
        check(stat is not None and stat.ephemeralOwner == sid, "ephemeral kept")
    finally:
        zk.stop()
    probe = client()
    try:
        check(probe.exists("/resumed") is None, "closed with the resumed session")
    finally:
        probe.stop()


def test_wrong_password_expires():
    good = client()
    sid, pw = good.client_id
    try:
        # On the wire: the 'expired' ConnectResponse (timeout 0, id 0, zero password),
        # then the connection closes.
        s = socket.create_connection((HOST, PORT), timeout=WAIT)
        req = struct.pack(">iqiqi16sB", 0, 0, 4000, sid, 16, bytes(16), 0)
        s.sendall(struct.pack(">i", len(req)) + req)
        resp = b""
        while len(resp) < 41:
            d = s.recv(64)
            if not d:
                break
            resp += d
        check(resp == struct.pack(">iiiqi16sB", 37, 0, 0, 0, 16, bytes(16), 0),
              "expired response, got %r" % resp)
        check(closed(s), "connection closed after the expired response")
        # kazoo sees the session expire and starts a new one.
        zk = KazooClient(hosts=HOSTS, timeout=10 * TICK, client_id=(sid, b"\x01" * 16))
        zk.start(timeout=WAIT)
        try:
            check(zk.client_id[0] != sid, "wrong password must not resume the session")
        finally:
            zk.stop()
        check(good.client_id == (sid, pw) and good.exists("/") is not None,
              "the real owner is unaffected")
    finally:
        good.stop()


def test_lock_with_a_holder_killed_mid_hold():
    timeout = 10 * TICK
    p, _, _ = spawn("lock", "/locks/l", timeout)
    zk = client()
    try:
        lock = zk.Lock("/locks/l", "parent")
        check(not lock.acquire(blocking=False), "lock should be held by the child")
        t_kill = touch_and_kill(p)
        check(lock.acquire(timeout=timeout + TICK + 5), "lock never released")
        elapsed = time.monotonic() - t_kill
        check(elapsed >= timeout - 0.05, "lock freed too early: %.3f" % elapsed)
        lock.release()
    finally:
        zk.stop()


def test_election_moves_to_the_next_candidate():
    timeout = 10 * TICK
    p, _, _ = spawn("election", "/election", timeout)
    zk = client()
    try:
        elected = threading.Event()
        e = zk.Election("/election", "parent")
        threading.Thread(target=lambda: e.run(elected.set), daemon=True).start()
        check(sorted(e.contenders()) == ["child", "parent"] or "child" in e.contenders(),
              "contenders %r" % e.contenders())
        check(not elected.is_set(), "parent elected while the child leads")
        touch_and_kill(p)
        wait_event(elected, "election of the parent")
        e.cancel()
    finally:
        zk.stop()


def test_party_membership():
    a, b = client(), client()
    try:
        pa, pb = a.Party("/party", "a"), b.Party("/party", "b")
        pa.join()
        pb.join()
        check(sorted(pa) == ["a", "b"], "members %r" % list(pa))
        b.stop()
        check(sorted(pa) == ["a"], "b left with its session: %r" % list(pa))
        pa.leave()
        check(len(pa) == 0, "empty party")
    finally:
        a.stop()


def test_transactions_are_atomic():
    zk = client()
    try:
        zk.create("/tx", b"")
        t = zk.transaction()
        t.create("/tx/a")
        t.check("/tx", 0)
        t.set_data("/tx", b"changed")
        results = t.commit()
        check(results[0] == "/tx/a" and results[1] is True, "results %r" % results)
        t = zk.transaction()
        t.create("/tx/b")
        t.create("/tx/a")
        t.delete("/tx")
        results = t.commit()
        check(any(isinstance(r, NodeExistsError) for r in results), "failure reported %r" % results)
        check(zk.exists("/tx/b") is None, "no partial effect")
        check(zk.get("/tx")[0] == b"changed", "earlier commit kept")
    finally:
        zk.stop()


def raw_session():
    s = socket.create_connection((HOST, PORT), timeout=WAIT)
    req = struct.pack(">iqiqi16sB", 0, 0, 4000, 0, 16, b"\0" * 16, 0)
    s.sendall(struct.pack(">i", len(req)) + req)
    return s


def closed(s):
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except (ConnectionResetError, socket.timeout):
        return isinstance(sys.exc_info()[1], ConnectionResetError)


def test_garbage_oversized_and_unknown_opcodes_leave_others_untouched():
    zk = client(timeout=10 * TICK)
    states = []
    zk.add_listener(states.append)
    try:
        zk.create("/survivor", ephemeral=True)
        sid = zk.client_id[0]
        s = socket.create_connection((HOST, PORT), timeout=WAIT)
        s.sendall(os.urandom(64))
        check(closed(s), "garbage connection closed")
        s = socket.create_connection((HOST, PORT), timeout=WAIT)
        s.sendall(struct.pack(">i", 0x7FFFFFF0) + b"x" * 100)
        check(closed(s), "oversized frame closed")
        s = raw_session()
        s.sendall(struct.pack(">iii", 8, 1, 999))
        check(closed(s), "unknown opcode closed")
        check(zk.exists("/survivor").ephemeralOwner == sid, "neighbour session intact")
        check(states == [], "neighbour saw no state change: %r" % states)
    finally:
        zk.stop()


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for name, f in tests:
        try:
            f()
            print("PASS kazoo:%s" % name[5:], flush=True)
        except Exception as e:
            failed += 1
            print("FAIL kazoo:%s: %s" % (name[5:], e), flush=True)
            traceback.print_exc(file=sys.stderr)
        finally:
            for p in CHILDREN:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            CHILDREN.clear()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
