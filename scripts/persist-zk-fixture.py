#!/usr/bin/python3
"""Writes a ZooKeeper 3.8 dataDir for the persist tests, and what its client saw.

Starts Debian's Apache ZooKeeper 3.8 standalone (ZooKeeperServerMain) on a free loopback
port with WORKDIR/data as dataDir, a small snapCount (so several snapshots and logs are
written) and a small preAllocSize (so the logs are padded with zeros past their last
record, as ZooKeeper always does). Drives it with kazoo: persistent, ephemeral,
sequential, container and TTL nodes, setData, delete, a multi that succeeds and one that
fails, a failed create (an error txn), ACLs (digest, world, ip), setACL, sessions that
close and sessions still open at the end. Then it reads the whole tree back (data, stat,
ACL of every node) and writes it with the open sessions to WORKDIR/expected.txt, one
line each:

    node PATH DATA_HEX|- czxid mzxid pzxid ctime mtime version cversion aversion
         ephemeralOwner numChildren PERMS,SCHEME,ID;...
    session ID TIMEOUT

and stops the server by its pid.

With --check-ours, it instead starts ZooKeeper on the dataDir WORKDIR/data that the
persist tests wrote (tests/persist_zookeeper.rs, writes_a_data_dir) and checks through
kazoo that ZooKeeper loaded it: data, ACLs, the container, and the ephemeral of the
session still open in it.

Usage: scripts/persist-zk-fixture.py WORKDIR
       scripts/persist-zk-fixture.py --check-ours WORKDIR
"""
import logging
import os
import signal
import socket
import subprocess
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.serialization import Create2, long_struct
from kazoo.security import ACL, Id, make_digest_acl

OPEN = [ACL(31, Id("world", "anyone"))]


class CreateContainer(Create2):
    """createContainer (opcode 19): a Create2 body with the CONTAINER flag."""
    type = 19


class CreateTTL(Create2):
    """createTTL (opcode 21): a Create2 body followed by the ttl."""
    type = 21
    ttl = 60000

    def serialize(self):
        b = super().serialize()
        b.extend(long_struct.pack(self.ttl))
        return b


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(workdir):
    port = free_port()
    data = os.path.join(workdir, "data")
    os.makedirs(data, exist_ok=True)
    cfg = os.path.join(workdir, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(f"tickTime=2000\ndataDir={data}\nclientPort={port}\n"
                "clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n")
    cp = os.environ.get("ZK_CLASSPATH",
                        "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar")
    log = open(os.path.join(workdir, "zookeeper.out"), "w")
    proc = subprocess.Popen(
        ["java", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.snapCount=8",
         "-Dzookeeper.preAllocSize=16", "-Dzookeeper.extendedTypesEnabled=true",
         "-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
        stdout=log, stderr=subprocess.STDOUT)
    return proc, port


def connect(port, auth=None):
    deadline = time.time() + 60
    while True:
        zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=20,
                         auth_data=[auth] if auth else None)
        try:
            zk.start(timeout=5)
            return zk
        except Exception:
            zk.close()
            if time.time() > deadline:
                raise
            time.sleep(0.3)


def call(zk, request):
    result = zk.handler.async_result()
    zk._call(request, result)
    return result.get(timeout=20)


def dump_tree(zk):
    nodes = {}

    def walk(path):
        data, stat = zk.get(path)
        acls, _ = zk.get_acls(path)
        fields = [data.hex() if data else "-"] + [str(v) for v in (
            stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime, stat.version,
            stat.cversion, stat.aversion, stat.ephemeralOwner, stat.numChildren)]
        fields.append(";".join(f"{a.perms},{a.id.scheme},{a.id.id}" for a in acls))
        nodes[path] = " ".join(fields)
        for child in sorted(zk.get_children(path)):
            walk(path.rstrip("/") + "/" + child)

    walk("/")
    return nodes


def check_ours(workdir):
    # The session the files leave open has a 40 s timeout, fresh from the load: read its
    # ephemeral well before that.
    proc, port = start_server(workdir)
    zk = None
    try:
        zk = connect(port, auth=("digest", "admin:secret"))
        checks = [
            (zk.get("/ours")[0], b"changed"),
            (zk.get("/ours/locked")[0], b"s3cret"),
            (zk.get("/box/item")[0], b"i"),
            ([(a.perms, a.id.scheme, a.id.id) for a in zk.get_acls("/box/item")[0]],
             [(31, "ip", "127.0.0.1")]),
            (zk.get("/ours/ephemeral")[1].ephemeralOwner, 0x0100000000000002),
            (zk.exists("/gone"), None),
            (sorted(zk.get_children("/")), ["box", "ours", "zookeeper"]),
            (zk.get("/ours")[1].version, 1),
        ]
        bad = [(got, want) for got, want in checks if got != want]
        for got, want in bad:
            print(f"ZooKeeper read {got!r}, expected {want!r}", file=sys.stderr)
        zk.create("/after", b"ZooKeeper continues the log")
        if zk.get("/after")[1].czxid <= 0xd:
            print("zxids did not continue after the log", file=sys.stderr)
            bad.append("zxid")
        return 1 if bad else 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if zk is not None:
            zk.stop()
            zk.close()


def main():
    logging.basicConfig(level=logging.CRITICAL)
    # A timeout's SIGTERM unwinds through the finally blocks, which stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if sys.argv[1] == "--check-ours":
        sys.exit(check_ours(sys.argv[2]))
    workdir = sys.argv[1]
    proc, port = start_server(workdir)
    clients = []
    try:
        admin = connect(port, auth=("digest", "admin:secret"))
        clients.append(admin)
        admin.create("/app", b"hello")
        admin.create("/app/config", b"v1")
        for _ in range(3):
            admin.create("/app/job-", b"seq", sequence=True)
        admin.create("/app/empty", b"")
        admin.set("/app/config", b"v2")
        admin.set("/app/config", b"v3" * 50)
        admin.delete("/app/job-0000000001")
        call(admin, CreateContainer("/locks", b"", OPEN, 4))
        call(admin, CreateContainer("/locks/held", b"x", OPEN, 4))
        call(admin, CreateTTL("/ttl", b"t", OPEN, 5))
        try:
            admin.create("/app", b"again")
        except KazooException:
            pass
        tx = admin.transaction()
        tx.create("/multi", b"m")
        tx.create("/multi/a", b"a")
        tx.set_data("/app", b"from-multi")
        tx.check("/app/config", 2)
        tx.delete("/app/job-0000000002")
        tx.commit()
        tx = admin.transaction()
        tx.create("/multi/b", b"never")
        tx.check("/app", 999)
        tx.delete("/app/config")
        tx.commit()
        admin.create("/secret", b"digest only",
                     acl=[make_digest_acl("admin", "secret", all=True)])
        admin.create("/readonly", b"r", acl=[ACL(1, Id("world", "anyone"))])
        admin.create("/byip", b"ip", acl=[ACL(31, Id("ip", "127.0.0.1"))])
        admin.set_acls("/app/empty", [ACL(1, Id("world", "anyone")),
                                       make_digest_acl("admin", "secret", all=True)])
        # A session that goes away cleanly, taking its ephemeral with it.
        brief = connect(port)
        brief.create("/brief", b"", ephemeral=True)
        brief.stop()
        brief.close()
        # Sessions still open at the end, with ephemerals (one sequential).
        for i in range(2):
            holder = connect(port)
            clients.append(holder)
            holder.create(f"/app/member-{i}", f"m{i}".encode(), ephemeral=True)
            holder.create("/app/eseq-", b"", ephemeral=True, sequence=True)
        # Enough writes for further snapshots and log files.
        for i in range(20):
            admin.set("/app", f"tick {i}".encode())
        admin.sync("/")
        tree = dump_tree(admin)
        with open(os.path.join(workdir, "expected.txt"), "w") as f:
            for path in sorted(tree):
                f.write(f"node {path} {tree[path]}\n")
            for c in clients:
                f.write(f"session {c._session_id} {c._session_timeout}\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:
                pass


if __name__ == "__main__":
    main()
