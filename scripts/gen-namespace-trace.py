#!/usr/bin/python3
"""Records a reference trace of znode operations from Debian's Apache ZooKeeper 3.8.

Starts ZooKeeperServerMain on a free loopback port with a temporary dataDir, drives it
with python3-kazoo through a seeded random sequence of creates, deletes, setData, exists,
getData, getChildren (reads leave watches half of the time), getACL/setACL, multi and
session closes, and prints one line per operation with the server's answer (errors as
codes, stats without times, session ids as s1, s2, ...), followed by the watch events
each session received because of it (`sN event TYPE PATH`, sessions in name order).
src/namespace/tests/trace.rs replays the committed trace against the namespace.

Usage: scripts/gen-namespace-trace.py [SEED] > src/namespace/tests/zk38_trace.txt
"""
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.states import Callback
from kazoo.security import ACL, Id

PATHS = ["/a", "/a", "/e", "/e", "/a/b", "/a/b", "/a/c", "/a/b/d", "/e/f", "/s-", "/a/s-"]
DATA = ["-", "x", "yy", "zzz"]
EVENT_CODES = {"CREATED": 1, "DELETED": 2, "CHANGED": 3, "CHILD": 4}
OPEN = [ACL(31, Id("world", "anyone"))]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(workdir):
    port = free_port()
    data = os.path.join(workdir, "data")
    os.mkdir(data)
    cfg = os.path.join(workdir, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(f"tickTime=2000\ndataDir={data}\nclientPort={port}\n"
                "clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n")
    cp = "/usr/share/java/zookeeper.jar"
    if os.path.exists("/usr/share/java/slf4j-nop.jar"):
        cp += ":/usr/share/java/slf4j-nop.jar"
    proc = subprocess.Popen(
        ["java", "-Dzookeeper.admin.enableServer=false", "-cp", cp,
         "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port


def fmt_stat(st, owners):
    owner = owners.get(st.ephemeralOwner, str(st.ephemeralOwner))
    return ",".join(str(v) for v in (st.czxid, st.mzxid, st.pzxid, st.version, st.cversion,
                                     st.aversion, owner, st.dataLength, st.numChildren))


def data_of(tok):
    return b"" if tok == "-" else tok.encode()


def err(e):
    return f"err {e.code}" if hasattr(e, "code") else f"err {type(e).__name__}"


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 38
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp()
    proc, port = start_server(workdir)
    clients = {}
    owners = {0: "0"}
    watchers = {}
    events = {}
    lock = threading.Lock()

    seen = []

    def make_watcher(name):
        def watcher(event):
            with lock:
                # kazoo hands one server event to the data and the child watcher of a
                # path as the same object: record it once, as the server sent it once.
                if any(e is event for e in seen):
                    return
                seen.append(event)
                events.setdefault(name, []).append((EVENT_CODES[event.type], event.path))
        return watcher

    def flush_events():
        # Every notification an earlier write caused was queued on each connection before
        # that connection's next reply, so after a sync per session kazoo has queued its
        # callbacks; a marker callback queued behind them tells when they have all run.
        for name in sorted(clients):
            zk = clients[name]
            zk.sync("/")
            done = threading.Event()
            zk.handler.dispatch_callback(Callback("watch", done.set, ()))
            if not done.wait(10):
                raise RuntimeError(f"{name}: watch callbacks did not drain")
        with lock:
            seen.clear()
            for name in sorted(events):
                for code, path in events[name]:
                    print(f"{name} event {code} {path}")
            events.clear()

    try:
        def connect(name):
            deadline = time.time() + 30
            while True:
                zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10)
                try:
                    zk.start(timeout=5)
                    break
                except Exception:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.5)
            clients[name] = zk
            watchers[name] = make_watcher(name)
            owners[zk.client_id[0]] = name
            print(f"{name} session")

        connect("s1")
        connect("s2")
        next_session = 3
        for _ in range(600):
            name = rng.choice(sorted(clients))
            zk = clients[name]
            r = rng.random()
            path = rng.choice(PATHS)
            if r < 0.35:
                d = rng.choice(DATA)
                flags = rng.choice([0, 0, 1, 2, 3])
                line = f"{name} create {path} {d} {flags}"
                try:
                    p, st = zk.create(path, data_of(d), ephemeral=bool(flags & 1),
                                      sequence=bool(flags & 2), include_data=True)
                    res = f"ok {p} {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.45:
                v = rng.choice([-1, -1, 0, 1])
                line = f"{name} delete {path} {v}"
                try:
                    zk.delete(path, version=v)
                    res = "ok"
                except KazooException as e:
                    res = err(e)
            elif r < 0.55:
                d = rng.choice(DATA)
                v = rng.choice([-1, -1, 0, 1, 2])
                line = f"{name} set {path} {d} {v}"
                try:
                    res = f"ok {fmt_stat(zk.set(path, data_of(d), version=v), owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.63:
                w = rng.random() < 0.5
                line = f"{name} exists {path} {int(w)}"
                st = zk.exists(path, watch=watchers[name] if w else None)
                res = "err -101" if st is None else f"ok {fmt_stat(st, owners)}"
            elif r < 0.71:
                w = rng.random() < 0.5
                line = f"{name} get {path} {int(w)}"
                try:
                    value, st = zk.get(path, watch=watchers[name] if w else None)
                    res = f"ok {value.decode() or '-'} {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.79:
                w = rng.random() < 0.5
                line = f"{name} children {path} {int(w)}"
                try:
                    kids, st = zk.get_children(path, watch=watchers[name] if w else None,
                                               include_data=True)
                    res = f"ok {','.join(sorted(kids)) or '-'} {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.82:
                perms = rng.choice([31, 31, 1, 17])
                v = rng.choice([-1, 0, 1])
                line = f"{name} setacl {path} {perms} {v}"
                try:
                    st = zk.set_acls(path, [ACL(perms, Id("world", "anyone"))], version=v)
                    res = f"ok {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.84:
                line = f"{name} getacl {path}"
                try:
                    acls, st = zk.get_acls(path)
                    res = f"ok {','.join(str(a.perms) for a in acls)} {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.98:
                t = zk.transaction()
                ops = []
                for _ in range(rng.randint(1, 4)):
                    p = rng.choice(PATHS)
                    k = rng.random()
                    if k < 0.4:
                        d = rng.choice(DATA)
                        flags = rng.choice([0, 0, 2])
                        t.create(p, data_of(d), sequence=bool(flags & 2))
                        ops.append(f"create:{p}:{d}:{flags}")
                    elif k < 0.6:
                        v = rng.choice([-1, 0])
                        t.delete(p, version=v)
                        ops.append(f"delete:{p}:{v}")
                    elif k < 0.8:
                        d = rng.choice(DATA)
                        v = rng.choice([-1, 0, 1])
                        t.set_data(p, data_of(d), version=v)
                        ops.append(f"set:{p}:{d}:{v}")
                    else:
                        v = rng.choice([-1, 0, 1])
                        t.check(p, v)
                        ops.append(f"check:{p}:{v}")
                line = f"{name} multi {'|'.join(ops)}"
                out = []
                for x in t.commit():
                    if isinstance(x, KazooException):
                        out.append(f"err:{x.code}")
                    elif isinstance(x, str):
                        out.append(f"create:{x}")
                    elif x is True:
                        out.append("done")
                    else:
                        out.append(f"set:{fmt_stat(x, owners)}")
                res = "|".join(out)
            else:
                if len(clients) > 1 or rng.random() < 0.5:
                    clients.pop(name).stop()
                    with lock:
                        events.pop(name, None)
                    print(f"{name} close")
                    flush_events()
                new = f"s{next_session}"
                next_session += 1
                connect(new)
                continue
            print(f"{line} => {res}")
            flush_events()
        for name in sorted(clients):
            clients.pop(name).stop()
            with lock:
                events.pop(name, None)
            print(f"{name} close")
            flush_events()
    finally:
        for zk in clients.values():
            try:
                zk.stop()
            except Exception:
                pass
        proc.kill()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
