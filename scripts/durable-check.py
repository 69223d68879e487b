#!/usr/bin/python3
"""zksessiond with a dataDir, driven by kazoo (scripts/test-durable.sh runs it).

  durable-check.py restart BIN WORKDIR
      nodes of every kind, ACLs, sequentials, an ephemeral; SIGTERM; restart; the same
      client (session id + password) reconnects, keeps its session and its ephemeral,
      the tree and sequence counters are as before and zxids continue.
  durable-check.py kill9 BIN WORKDIR ROUNDS
      several client processes create nodes as fast as they are acknowledged; the
      server is killed with SIGKILL mid-load; after a restart every acknowledged create
      is there and no node appears that was never requested. ROUNDS times.
  durable-check.py from-zk BIN WORKDIR
      WORKDIR holds a dataDir written by Apache ZooKeeper 3.8 through kazoo and the tree
      its client saw (scripts/persist-zk-fixture.py); zksessiond opens a copy, finds
      every digest ZooKeeper recorded matching, and every node is compared (data, stat,
      ACL).
  durable-check.py to-zk BIN WORKDIR
      zksessiond writes a dataDir through kazoo; Apache ZooKeeper 3.8 opens it, logs no
      digest mismatch (it checks the tree digests zksessiond recorded), and every node
      is compared with what zksessiond served.
  durable-check.py resume-from-zk BIN WORKDIR
      a kazoo client holds a session with an ephemeral on Apache ZooKeeper 3.8; ZooKeeper
      is stopped and zksessiond (zksession.passwordMode=zookeeper) starts on its dataDir;
      the same client object reconnects with its id + password, keeps its session (never
      told it expired) and its ephemeral, and goes on writing.

Every server runs on a free loopback port and is stopped by its pid.
"""
import importlib.util
import logging
import multiprocessing
import os
import shutil
import signal
import subprocess
import struct
import sys
import time
import zlib

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fixture", os.path.join(HERE, "persist-zk-fixture.py"))
fixture = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixture)


def start_ours(binary, workdir, data, extra="", port=None):
    port = port or fixture.free_port()
    cfg = os.path.join(workdir, "zks.cfg")
    with open(cfg, "w") as f:
        f.write(f"tickTime=2000\ndataDir={data}\nclientPort={port}\n"
                f"clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n{extra}")
    log = open(os.path.join(workdir, "zksessiond.log"), "a")
    proc = subprocess.Popen([binary, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    return proc, port


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def close(zk):
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass


def dump(zk):
    """Like the fixture's dump_tree, but a node it may not read shows data as '?'."""
    nodes = {}

    def walk(path):
        try:
            data, stat = zk.get(path)
            shown = data.hex() if data else "-"
        except NoAuthError:
            stat = zk.exists(path)
            shown = "?"
        try:
            acls, _ = zk.get_acls(path)
            acl_text = ";".join(f"{a.perms},{a.id.scheme},{a.id.id}" for a in acls)
        except NoAuthError:
            acl_text = "?"
        fields = [shown] + [str(v) for v in (
            stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime, stat.version,
            stat.cversion, stat.aversion, stat.ephemeralOwner, stat.numChildren)]
        fields.append(acl_text)
        nodes[path] = " ".join(fields)
        try:
            kids = zk.get_children(path)
        except NoAuthError:
            kids = []
        for child in sorted(kids):
            walk(path.rstrip("/") + "/" + child)

    walk("/")
    return nodes


def compare(want, got, what):
    bad = 0
    for path in sorted(set(want) | set(got)):
        w, g = want.get(path), got.get(path)
        if w == g:
            continue
        if w and g:
            ws, gs = w.split(), g.split()
            # What one side may not read (no authentication here) matches anything.
            same = len(ws) == len(gs) and all(
                a == b or "?" in (a, b) for i, (a, b) in enumerate(zip(ws, gs)))
            if same:
                print(f"  {path}: data or ACL unreadable without authentication; stat equal")
                continue
        print(f"{what}: {path}\n  want {w}\n  got  {g}", file=sys.stderr)
        bad += 1
    print(f"{what}: {len(want)} nodes compared, {bad} differ")
    return bad


def restart(binary, workdir):
    data = os.path.join(workdir, "data")
    proc, port = start_ours(binary, workdir, data)
    zk = fixture.connect(port)
    try:
        zk.create("/app", b"hello")
        for _ in range(3):
            zk.create("/app/job-", b"seq", sequence=True)
        zk.create("/eph", b"")
        zk.create("/eph/live", b"mine", ephemeral=True)
        zk.set("/app", b"v2")
        zk.set_acls("/app/job-0000000000", [ACL(3, Id("world", "anyone"))])
        tx = zk.transaction()
        tx.create("/multi", b"m")
        tx.create("/multi/a", b"a")
        tx.commit()
        zk.delete("/app/job-0000000001")
        before = dump(zk)
        last = zk.exists("/app/job-0000000002").czxid
        session = (zk._session_id, zk._session_passwd)
        zk.stop()  # no closeSession: a stop keeps the session alive on the server side
    finally:
        stop(proc)
    # kazoo's stop() closes the session; reconnect from a saved id + password instead.
    proc, port = start_ours(binary, workdir, data)
    zk = None
    try:
        bad = 0
        zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=20)
        zk.start(timeout=30)
        after = dump(zk)
        close(zk)
        # The client closed its session on stop, so its ephemeral is gone; everything else
        # must be identical.
        before.pop("/eph/live")
        before.pop("/eph")
        after.pop("/eph")
        after_live = after.pop("/eph/live", None)
        if after_live is not None:
            print("the closed session's ephemeral came back", file=sys.stderr)
            bad += 1
        bad += compare(before, after, "restart")
        zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=20)
        zk.start(timeout=30)
        seq = zk.create("/app/job-", b"", sequence=True)
        if seq != "/app/job-0000000003":
            print(f"sequence counter did not continue: {seq}", file=sys.stderr)
            bad += 1
        if zk.exists(seq).czxid <= last:
            print("zxids did not continue", file=sys.stderr)
            bad += 1
        close(zk)
        return bad, session
    finally:
        stop(proc)


def reconnect(binary, workdir):
    """A session left open (client gone, no closeSession) is resumed after a restart."""
    data = os.path.join(workdir, "data-reconnect")
    proc, port = start_ours(binary, workdir, data)
    try:
        zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=30)
        zk.start(timeout=30)
        zk.create("/held", b"by my session", ephemeral=True)
        session = (zk._session_id, zk._session_passwd)
        owner = zk.exists("/held").ephemeralOwner
    finally:
        stop(proc, signal.SIGKILL)  # the client never says goodbye
    # The server is gone, so this stop cannot close the session.
    zk.stop()
    zk.close()
    proc, port = start_ours(binary, workdir, data)
    try:
        zk2 = KazooClient(hosts=f"127.0.0.1:{port}", timeout=30, client_id=session)
        zk2.start(timeout=30)
        bad = 0
        if zk2._session_id != session[0]:
            print("the session was not resumed", file=sys.stderr)
            bad += 1
        st = zk2.exists("/held")
        if st is None or st.ephemeralOwner != owner:
            print(f"the ephemeral did not survive: {st}", file=sys.stderr)
            bad += 1
        zk2.create("/held-2", b"", ephemeral=True)
        close(zk2)
        print(f"reconnect: session 0x{session[0]:x} resumed with its ephemeral" if not bad else "")
        return bad
    finally:
        stop(proc)


def writer(port, prefix, log_path, stop_at):
    logging.basicConfig(level=logging.CRITICAL)
    zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10, connection_retry=None,
                     command_retry=None)
    with open(log_path, "a", buffering=1) as log:
        try:
            zk.start(timeout=20)
            i = 0
            while time.time() < stop_at:
                path = f"{prefix}-{i}"
                log.write(f"req {path}\n")
                zk.create(path, b"x" * 100)
                log.write(f"ack {path}\n")
                i += 1
        except Exception:
            pass
    os._exit(0)


def kill9(binary, workdir, rounds):
    data = os.path.join(workdir, "data-kill9")
    bad = 0
    for r in range(rounds):
        proc, port = start_ours(binary, workdir, data)
        fixture.connect(port).stop()
        logs = []
        procs = []
        for w in range(4):
            log_path = os.path.join(workdir, f"writer-{r}-{w}.log")
            logs.append(log_path)
            p = multiprocessing.Process(target=writer,
                                        args=(port, f"/w{r}x{w}", log_path, time.time() + 30))
            p.start()
            procs.append(p)
        # Parents first: the writers create at the root.
        time.sleep(1.5)
        stop(proc, signal.SIGKILL)
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        requested, acked = set(), set()
        for lp in logs:
            with open(lp) as f:
                for line in f:
                    kind, path = line.split()
                    (acked if kind == "ack" else requested).add(path)
        proc, port = start_ours(binary, workdir, data)
        zk = fixture.connect(port)
        try:
            present = {"/" + c for c in zk.get_children("/") if c.startswith(f"w{r}x")}
        finally:
            close(zk)
            stop(proc)
        lost = acked - present
        invented = present - requested
        print(f"kill9 round {r}: {len(acked)} acknowledged, {len(present)} present, "
              f"{len(requested - acked)} in flight at the kill")
        if lost:
            print(f"  acknowledged but lost: {sorted(lost)[:10]}", file=sys.stderr)
        if invented:
            print(f"  never requested: {sorted(invented)[:10]}", file=sys.stderr)
        if not acked:
            print("  no write was acknowledged before the kill", file=sys.stderr)
        bad += len(lost) + len(invented) + (0 if acked else 1)
    return bad


def expected_nodes(workdir):
    nodes = {}
    with open(os.path.join(workdir, "expected.txt")) as f:
        for line in f:
            parts = line.split(" ", 2)
            if parts[0] == "node":
                nodes[parts[1]] = parts[2].rstrip("\n")
    return nodes


def from_zk(binary, workdir):
    data = os.path.join(workdir, "copy")
    shutil.copytree(os.path.join(workdir, "data"), data)
    proc, port = start_ours(binary, workdir, data)
    try:
        zk = fixture.connect(port, auth=("digest", "admin:secret"))
        got = dump(zk)
        close(zk)
    finally:
        stop(proc)
    # zksessiond computed, for the tree it loaded, the digests ZooKeeper recorded.
    with open(os.path.join(workdir, "zksessiond.log")) as f:
        loaded = [line for line in f if "data directory loaded" in line]
    bad = 0
    if not loaded or any("digest_mismatches=0" not in line for line in loaded):
        print("zksessiond found ZooKeeper's digests not matching:", loaded, file=sys.stderr)
        bad = 1
    return bad + compare(expected_nodes(workdir), got,
                         "ZooKeeper's dataDir opened by zksessiond")


def corrupt_a_logged_digest(data):
    """Adds one to the digest logged with the first txn after the newest snapshot of
    the dataDir `data` (re-sealing the record's Adler32), where ZooKeeper's load compares
    it. Returns that txn's zxid, or None when no such txn carries a digest."""
    v2 = os.path.join(data, "version-2")
    names = os.listdir(v2)
    snap = max(int(n.split(".")[1], 16) for n in names if n.startswith("snapshot."))
    for name in sorted((n for n in names if n.startswith("log.")),
                       key=lambda n: int(n.split(".")[1], 16)):
        path = os.path.join(v2, name)
        with open(path, "rb") as f:
            b = bytearray(f.read())
        pos = 16
        while pos + 12 <= len(b):
            length = struct.unpack(">i", b[pos + 8:pos + 12])[0]
            if length <= 0:
                break
            body = pos + 12
            zxid = struct.unpack(">q", b[body + 12:body + 20])[0]
            version = struct.unpack(">i", b[body + length - 12:body + length - 8])[0]
            if zxid > snap and version == 2:
                end = body + length
                digest = struct.unpack(">q", b[end - 8:end])[0]
                b[end - 8:end] = struct.pack(">q", digest + 1)
                b[pos:pos + 8] = struct.pack(">q", zlib.adler32(bytes(b[body:end])))
                with open(path, "wb") as f:
                    f.write(b)
                return zxid
            pos = body + length + 1
    return None


def zookeeper_digest_mismatches(workdir):
    """Starts ZooKeeper (logging through slf4j-simple) on WORKDIR/data, reads its tree,
    stops it, and returns the lines of its log reporting digests not matching, and the
    tree."""
    cp = os.environ.get("ZK_CLASSPATH",
                        "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar")
    os.environ["ZK_CLASSPATH"] = cp.replace("slf4j-nop", "slf4j-simple")
    try:
        proc, port = fixture.start_server(workdir)
    finally:
        os.environ["ZK_CLASSPATH"] = cp
    try:
        zk = fixture.connect(port)
        got = dump(zk)
        close(zk)
    finally:
        stop(proc)
    with open(os.path.join(workdir, "zookeeper.out")) as f:
        zk_log = f.read()
    if "zookeeper.digest.enabled = true" not in zk_log:
        raise RuntimeError("ZooKeeper's log does not show digests enabled")
    return [line for line in zk_log.splitlines()
            if "digest" in line.lower()
            and ("not matching" in line or "mismatch" in line.lower())], got


def to_zk(binary, workdir):
    data = os.path.join(workdir, "data")
    proc, port = start_ours(binary, workdir, data, "snapCount=20\n")
    holder = None
    try:
        zk = fixture.connect(port)
        zk.create("/ours", b"written by zksessiond")
        for i in range(30):
            zk.create("/ours/seq-", str(i).encode(), sequence=True)
        zk.set("/ours", b"changed")
        zk.set_acls("/ours/seq-0000000001", [ACL(1, Id("world", "anyone"))])
        tx = zk.transaction()
        tx.create("/m", b"m")
        tx.create("/m/a", b"a")
        tx.set_data("/ours", b"multi")
        tx.commit()
        zk.delete("/ours/seq-0000000002")
        holder = fixture.connect(port)
        holder.create("/ours/ephemeral", b"e", ephemeral=True)
        want = dump(zk)
        close(zk)
    finally:
        stop(proc, signal.SIGKILL)
    # ZooKeeper compares the digests zksessiond recorded as it loads the tree: none may
    # differ. A copy with one logged digest off by one shows that its check is seen.
    control = os.path.join(workdir, "control")
    shutil.copytree(data, os.path.join(control, "data"))
    bad = 0
    mismatch, got = zookeeper_digest_mismatches(workdir)
    if mismatch:
        print("ZooKeeper found digests not matching in zksessiond's dataDir:", file=sys.stderr)
        print("\n".join(mismatch), file=sys.stderr)
        bad += 1
    else:
        print("ZooKeeper loaded zksessiond's dataDir with every digest matching")
    zxid = corrupt_a_logged_digest(os.path.join(control, "data"))
    if zxid is None:
        print("control skipped: no digest logged after the newest snapshot")
    elif not zookeeper_digest_mismatches(control)[0]:
        print(f"control: a wrong digest at zxid {zxid:#x} went unreported", file=sys.stderr)
        bad += 1
    else:
        print(f"control: ZooKeeper reports the wrong digest at zxid {zxid:#x}")
    return bad + compare(want, got, "zksessiond's dataDir opened by ZooKeeper")


def resume_from_zk(binary, workdir):
    """A session opened under ZooKeeper, resumed by its own client after the migration."""
    ours_port = fixture.free_port()
    proc, zk_port = fixture.start_server(workdir)
    states = []
    zk = None
    try:
        zk = KazooClient(hosts=f"127.0.0.1:{zk_port},127.0.0.1:{ours_port}", timeout=30,
                         randomize_hosts=False)
        zk.add_listener(states.append)
        zk.start(timeout=60)
        zk.create("/held", b"under ZooKeeper", ephemeral=True)
        session = zk._session_id
    finally:
        stop(proc)
    if zk is None:
        return 1
    proc, _ = start_ours(binary, workdir, os.path.join(workdir, "data"),
                         "zksession.passwordMode=zookeeper\n", port=ours_port)
    try:
        bad = 0
        deadline = time.time() + 25
        while time.time() < deadline:
            try:
                st = zk.exists("/held")
                break
            except Exception:
                time.sleep(0.3)
        else:
            print("the client did not get back in", file=sys.stderr)
            return 1
        if zk._session_id != session:
            print(f"a new session 0x{zk._session_id:x}, not 0x{session:x}", file=sys.stderr)
            bad += 1
        if "LOST" in [str(s) for s in states]:
            print(f"the client was told its session expired: {states}", file=sys.stderr)
            bad += 1
        if st is None or st.ephemeralOwner != session:
            print(f"the ephemeral did not survive: {st}", file=sys.stderr)
            bad += 1
        zk.create("/held-after", b"by zksessiond", ephemeral=True)
        if not bad:
            print(f"resume-from-zk: session 0x{session:x} opened under ZooKeeper resumed by "
                  f"its client on zksessiond, ephemeral kept (states {[str(s) for s in states]})")
        return bad
    finally:
        close(zk)
        stop(proc)


def main():
    logging.basicConfig(level=logging.CRITICAL)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    what, binary, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    if what == "restart":
        bad, _ = restart(binary, workdir)
        bad += reconnect(binary, workdir)
    elif what == "kill9":
        bad = kill9(binary, workdir, int(sys.argv[4]))
    elif what == "from-zk":
        bad = from_zk(binary, workdir)
    elif what == "to-zk":
        bad = to_zk(binary, workdir)
    elif what == "resume-from-zk":
        bad = resume_from_zk(binary, workdir)
    else:
        sys.exit(f"unknown check {what}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
