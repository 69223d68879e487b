"""Compares zksessiond with Apache ZooKeeper 3.8 as the tools that watch ZooKeeper see them.

Usage: compare_4lw.py ZKSESSIOND_PORT ZOOKEEPER_PORT

Both servers get the same client state (kazoo: nodes, an ephemeral, data and child
watches), then every four-letter word is asked of both and compared line by line in
shape: numbers, hex ids, addresses, paths and dates are placeholders, runs of lines of
the same shape, or repeated two-line groups, count once (the number of entries may differ), keys and layout must be
equal. kazoo's own uses of `envi` (server_version, transactions, create with a stat, the
locking queue) and null data (create/set with None) run against both. Prints one "PASS name" or "FAIL name: why" per check.
"""

import re
import socket
import sys

from kazoo.client import KazooClient
from kazoo.recipe.queue import LockingQueue

WORDS = "conf cons crst dump envi ruok srst srvr stat wchs wchc wchp dirs isro hash gtmk".split()
EXPECTED_VERSION = (3, 8, 0)
failed = 0


def report(name, ok, why=""):
    global failed
    if ok:
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


def four(port, word):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(word.encode())
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out.decode()


DATE = r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [A-Z]+ \d{4}"


def shape(line):
    line = re.sub(DATE, "DATE", line)
    # The build id after the version: ZooKeeper's git hash, zksessiond's name and version.
    line = re.sub(r"(\d+\.\d+\.\d+)-[^,]*,", "VERSION-BUILD,", line)
    line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "BUILT", line)
    line = re.sub(r"/?\d+\.\d+\.\d+\.\d+:\d+", "ADDR", line)
    line = re.sub(r"0x[0-9a-f]+", "HEX", line)
    line = re.sub(r"^(\t)/\S*$", r"\1PATH", line)
    line = re.sub(r"^/\S*$", "PATH", line)
    line = re.sub(r"-?\d+(\.\d+)?(E-?\d+)?", "N", line)
    return line


def shapes(text, keys_only=False):
    out = []
    for line in text.split("\n"):
        s = line.split("=", 1)[0] if keys_only and "=" in line else shape(line)
        if out and out[-1] == s:
            continue
        out.append(s)
        # A repeated two-line group (a set header and its member) also counts once.
        if len(out) >= 4 and out[-2:] == out[-4:-2]:
            del out[-2:]
    return out


def compare_word(word, ours, theirs):
    keys_only = word in ("conf", "envi")
    a, b = shapes(ours, keys_only), shapes(theirs, keys_only)
    if word == "cons":
        # One line per connection, in no particular order.
        a, b = sorted(set(a)), sorted(set(b))
    if a == b:
        report(f"4lw:{word}", True)
        return
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            report(f"4lw:{word}", False, f"line {i}: ours {x!r}, ZooKeeper {y!r}")
            return
    report(f"4lw:{word}", False, f"{len(a)} line shapes, ZooKeeper {len(b)}")


def compare_mntr(ours, theirs):
    def keys(t):
        return [l.split("\t", 1)[0] for l in t.splitlines() if l]

    # Per-namespace summaries are named after the top-level znodes touched.
    mine = set(keys(ours))
    zk = {k for k in keys(theirs) if not k.endswith("_per_namespace")}
    missing = sorted(zk - mine)
    extra = sorted(k for k in mine - zk if not k.startswith("zks_"))
    layout = all(l.count("\t") == 1 for l in ours.splitlines() if l)
    report("4lw:mntr keys", not missing and not extra and layout,
           f"missing {missing[:5]}, extra {extra[:5]}")


def populate(port):
    zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10)
    zk.start(timeout=15)
    if zk.exists("/eco"):
        zk.delete("/eco", recursive=True)
    zk.create("/eco", b"x")
    zk.create("/eco/e", b"", ephemeral=True)
    zk.exists("/eco", watch=lambda e: None)
    zk.get("/eco/e", watch=lambda e: None)
    zk.get_children("/eco", watch=lambda e: None)
    return zk


def kazoo_checks(label, zk):
    try:
        v = zk.server_version()
        report(f"{label}:server_version", v[:2] == EXPECTED_VERSION[:2], f"{v}")
    except Exception as e:  # noqa: BLE001 - the failure is the report
        report(f"{label}:server_version", False, repr(e))
        return
    try:
        t = zk.transaction()
        t.create("/eco/t1", b"1")
        t.set_data("/eco", b"y")
        res = t.commit()
        report(f"{label}:transaction", res[0] == "/eco/t1" and res[1] is not None, f"{res}")
    except Exception as e:  # noqa: BLE001
        report(f"{label}:transaction", False, repr(e))
    try:
        path, stat = zk.create("/eco/withstat", b"abc", include_data=True)
        report(f"{label}:create include_data", path == "/eco/withstat" and stat.dataLength == 3,
               f"{path} {stat}")
    except Exception as e:  # noqa: BLE001
        report(f"{label}:create include_data", False, repr(e))
    try:
        q = LockingQueue(zk, "/eco/lq")
        q.put(b"one")
        q.put(b"two", priority=10)
        got = q.get(timeout=5)
        done = q.consume()
        # A lower priority value comes out first.
        report(f"{label}:LockingQueue", got == b"two" and done and len(q) == 1, f"{got} {len(q)}")
    except Exception as e:  # noqa: BLE001
        report(f"{label}:LockingQueue", False, repr(e))


def null_data_checks(label, zk):
    """create/set with None read back None with dataLength 0; empty stays empty."""
    try:
        zk.create("/eco/null", None)
        zk.create("/eco/empty", b"")
        (nd, ns), (ed, es) = zk.get("/eco/null"), zk.get("/eco/empty")
        report(f"{label}:create None reads None", nd is None and ns.dataLength == 0, f"{nd!r} {ns}")
        report(f"{label}:create b'' reads b''", ed == b"" and es.dataLength == 0, f"{ed!r}")
        zk.set("/eco/empty", None)
        d, st = zk.get("/eco/empty")
        report(f"{label}:set None reads None", d is None and st.dataLength == 0, f"{d!r} {st}")
        zk.set("/eco/null", b"v")
        d, _ = zk.get("/eco/null")
        report(f"{label}:set after None", d == b"v", f"{d!r}")
    except Exception as e:  # noqa: BLE001
        report(f"{label}:null data", False, repr(e))


def main():
    ours_port, zk_port = int(sys.argv[1]), int(sys.argv[2])
    ours_zk, their_zk = populate(ours_port), populate(zk_port)
    for word in WORDS:
        compare_word(word, four(ours_port, word), four(zk_port, word))
    compare_mntr(four(ours_port, "mntr"), four(zk_port, "mntr"))
    kazoo_checks("zookeeper", their_zk)
    kazoo_checks("zksessiond", ours_zk)
    null_data_checks("zookeeper", their_zk)
    null_data_checks("zksessiond", ours_zk)
    ours_zk.stop()
    their_zk.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
