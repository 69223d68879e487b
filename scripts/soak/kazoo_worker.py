#!/usr/bin/python3
"""One soak client process (kazoo): runs a random mix of operations and recipes against
the server and reports, one JSON object a line on stdout, what the soak checks:

  {"ev": "session", "sid": ..., "eph": PATH}   a new session and its ephemeral
  {"ev": "expired"}                             the session was lost (kazoo LOST)
  {"ev": "op", "op": NAME, "ms": F, "ok": B}    one operation and its latency
  {"ev": "ack", "path": P, "data": D}           an acknowledged write
  {"ev": "watch", "fired": N}                   a one-shot watch and how often it fired
                                                (only when the connection held throughout)

usage: kazoo_worker.py HOSTS NAME TIMEOUT_S SEED
"""
import json
import random
import sys
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, NodeExistsError
from kazoo.retry import KazooRetry

hosts, name, timeout_s, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
out_lock = threading.Lock()


def emit(**kw):
    with out_lock:
        sys.stdout.write(json.dumps(kw) + "\n")
        sys.stdout.flush()


state = {"epoch": 0, "need_session": True}


def listener(s):
    state["epoch"] += 1
    if s == KazooState.LOST:
        emit(ev="expired")
        state["need_session"] = True


zk = KazooClient(hosts=hosts, timeout=timeout_s,
                 connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5))
zk.add_listener(listener)
zk.start(timeout=60)
for p in ("/soak/eph", "/soak/data", "/soak/w", "/soak/lock", "/soak/election",
          "/soak/party", "/soak/queue"):
    try:
        zk.ensure_path(p)
    except KazooException:
        pass
eph = "/soak/eph/" + name
watch_path = "/soak/w/" + name
seq = 0


def new_session():
    zk.create(eph, b"alive", ephemeral=True)
    sid = zk.client_id[0] if zk.client_id else 0
    emit(ev="session", sid=sid, eph=eph)
    state["need_session"] = False


def op_crud():
    global seq
    seq += 1
    path = "/soak/data/%s-%d" % (name, seq)
    data = ("%s:%d" % (name, rng.randrange(1 << 30))).encode()
    zk.create(path, data)
    emit(ev="ack", path=path, data=data.decode())
    got, _ = zk.get(path)
    assert got == data


def op_watch():
    zk.ensure_path(watch_path)
    fired = []
    epoch = state["epoch"]
    zk.get(watch_path, watch=lambda e: fired.append(e.type))
    zk.set(watch_path, b"1")
    zk.set(watch_path, b"2")
    deadline = time.time() + 2.0
    while not fired and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    if state["epoch"] == epoch:
        emit(ev="watch", fired=len(fired))


def op_lock():
    lock = zk.Lock("/soak/lock", name)
    if lock.acquire(timeout=2):
        time.sleep(0.01)
        lock.release()


def op_election():
    e = zk.Election("/soak/election", name)
    if e.lock.acquire(timeout=2):
        e.contenders()
        e.lock.release()


def op_party():
    p = zk.Party("/soak/party", name)
    p.join()
    len(p)
    p.leave()


def op_queue():
    q = zk.Queue("/soak/queue")
    q.put(name.encode())
    q.get()


OPS = [("crud", op_crud, 4), ("watch", op_watch, 2), ("lock", op_lock, 1),
       ("election", op_election, 1), ("party", op_party, 1), ("queue", op_queue, 1)]
CHOICES = [o for o in OPS for _ in range(o[2])]

while True:
    if not zk.connected:
        time.sleep(0.05)
        continue
    if state["need_session"]:
        try:
            new_session()
        except NodeExistsError:
            # Our previous session's ephemeral is still there: wait for it to go.
            time.sleep(0.2)
        except KazooException:
            time.sleep(0.1)
        continue
    opname, fn, _ = rng.choice(CHOICES)
    t = time.monotonic()
    try:
        fn()
        ok = True
    except (KazooException, AssertionError):
        ok = False
    emit(ev="op", op=opname, ms=round((time.monotonic() - t) * 1000, 2), ok=ok)
    time.sleep(rng.uniform(0.02, 0.1))
