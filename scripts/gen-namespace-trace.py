#!/usr/bin/python3
"""Records a reference trace of znode operations from Debian's Apache ZooKeeper 3.8.

Starts ZooKeeperServerMain on a free loopback port with a temporary dataDir, drives it
with python3-kazoo through a seeded random sequence of creates, deletes, setData, exists,
getChildren, getACL/setACL, multi and session closes, and prints one line per operation
with the server's answer (errors as codes, stats without times, session ids as s1, s2, ...).
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
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.security import ACL, Id

PATHS = ["/a", "/a", "/e", "/e", "/a/b", "/a/b", "/a/c", "/a/b/d", "/e/f", "/s-", "/a/s-"]
DATA = ["-", "x", "yy", "zzz"]
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
            owners[zk.client_id[0]] = name
            print(f"{name} session")

        connect("s1")
        connect("s2")
        next_session = 3
        for _ in range(400):
            name = rng.choice(sorted(clients))
            zk = clients[name]
            r = rng.random()
            path = rng.choice(PATHS)
            if r < 0.40:
                d = rng.choice(DATA)
                flags = rng.choice([0, 0, 1, 2, 3])
                line = f"{name} create {path} {d} {flags}"
                try:
                    p, st = zk.create(path, data_of(d), ephemeral=bool(flags & 1),
                                      sequence=bool(flags & 2), include_data=True)
                    res = f"ok {p} {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.50:
                v = rng.choice([-1, -1, 0, 1])
                line = f"{name} delete {path} {v}"
                try:
                    zk.delete(path, version=v)
                    res = "ok"
                except KazooException as e:
                    res = err(e)
            elif r < 0.60:
                d = rng.choice(DATA)
                v = rng.choice([-1, -1, 0, 1, 2])
                line = f"{name} set {path} {d} {v}"
                try:
                    res = f"ok {fmt_stat(zk.set(path, data_of(d), version=v), owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.67:
                line = f"{name} exists {path}"
                st = zk.exists(path)
                res = "err -101" if st is None else f"ok {fmt_stat(st, owners)}"
            elif r < 0.74:
                line = f"{name} children {path}"
                try:
                    kids, st = zk.get_children(path, include_data=True)
                    res = f"ok {','.join(sorted(kids)) or '-'} {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.78:
                perms = rng.choice([31, 31, 1, 17])
                v = rng.choice([-1, 0, 1])
                line = f"{name} setacl {path} {perms} {v}"
                try:
                    st = zk.set_acls(path, [ACL(perms, Id("world", "anyone"))], version=v)
                    res = f"ok {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.80:
                line = f"{name} getacl {path}"
                try:
                    acls, st = zk.get_acls(path)
                    res = f"ok {','.join(str(a.perms) for a in acls)} {fmt_stat(st, owners)}"
                except KazooException as e:
                    res = err(e)
            elif r < 0.95:
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
                    print(f"{name} close")
                new = f"s{next_session}"
                next_session += 1
                connect(new)
                continue
            print(f"{line} => {res}")
        for name in sorted(clients):
            clients.pop(name).stop()
            print(f"{name} close")
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
