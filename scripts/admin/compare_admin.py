"""Compares zksessiond's AdminServer and Prometheus endpoint with Apache ZooKeeper 3.8's.

Usage: compare_admin.py OURS_CLIENT OURS_ADMIN OURS_METRICS ZK_CLIENT ZK_ADMIN METRICS_LIST

Both servers get the same client state (kazoo: nodes, an ephemeral, data and child
watches); then every AdminServer command zksessiond offers is asked of both, by name and by
its four-letter alias, and the JSON compared in structure: the same keys at every level,
the same kinds of value (number, string, bool, null, list, object), the same `command`
and `error` fields. Values differ (they are each server's own), as do the keys of the
maps keyed by data (times, session ids, paths), whose values are compared in shape.
Deliberate difference: `monitor` carries zksessiond's `zks_*` keys too; ZooKeeper's
per-namespace summaries (`*_per_namespace`, named after the znodes touched) are left out.

The Prometheus endpoint is scraped and parsed (line by line, and with the Prometheus
project's Python parser): every metric of METRICS_LIST (ZooKeeper 3.8's names and types)
must be served with that type and ZooKeeper's sample names, and the engine's session
figures must move as kazoo sessions come and go and as one expires.

Prints one "PASS name" or "FAIL name: why" per check.
"""

import json
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

from kazoo.client import KazooClient
from prometheus_client.parser import text_string_to_metric_families

# (name, alias) of each command compared; alias None when it has none.
COMMANDS = [
    ("ruok", None), ("server_stats", "srvr"), ("stats", "stat"), ("monitor", "mntr"),
    ("configuration", "conf"), ("environment", "envi"), ("connections", "cons"),
    ("dump", None), ("watch_summary", "wchs"), ("watches", "wchc"),
    ("watches_by_path", "wchp"), ("is_read_only", "isro"), ("last_snapshot", "lsnp"), ("dirs", None), ("hash", None),
    ("get_trace_mask", "gtmk"), ("connection_stat_reset", "crst"), ("stat_reset", "srst"),
    ("observers", "obsr"), ("voting_view", None), ("zabstate", None),
]
# Objects whose keys are data (times, session ids, paths), not field names.
DATA_KEYED = {
    "dump.expiry_time_to_session_ids", "dump.session_id_to_ephemeral_paths",
    "watches.session_id_to_watched_paths", "watches_by_path.path_to_session_ids",
}
failed = 0


def report(name, ok, why=""):
    global failed
    if ok:
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


def http(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def command(port, name):
    status, ctype, body = http(port, f"/commands/{name}")
    assert status == 200 and "json" in ctype, (status, ctype)
    return json.loads(body)


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def diff(ours, theirs, path, out):
    """Appends to `out` each structural difference of `ours` from `theirs`."""
    if kind(ours) != kind(theirs):
        out.append(f"{path}: {kind(ours)} where ZooKeeper has {kind(theirs)}")
        return
    if isinstance(ours, dict):
        if path in DATA_KEYED:
            if ours and theirs:
                diff(next(iter(ours.values())), next(iter(theirs.values())), path + ".*", out)
            return
        a, b = set(ours), set(theirs)
        if path == "monitor":
            b = {k for k in b if not k.endswith("_per_namespace")}
            a = {k for k in a if not k.startswith("zks_")}
        for k in sorted(b - a):
            out.append(f"{path}.{k} missing")
        for k in sorted(a - b):
            out.append(f"{path}.{k} not in ZooKeeper's")
        for k in sorted(a & b):
            diff(ours[k], theirs[k], f"{path}.{k}", out)
    elif isinstance(ours, list) and ours and theirs:
        diff(ours[0], theirs[0], path + "[]", out)


def populate(port):
    zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10)
    zk.start(timeout=15)
    if zk.exists("/adm"):
        zk.delete("/adm", recursive=True)
    zk.create("/adm", b"x")
    zk.create("/adm/e", b"", ephemeral=True)
    zk.exists("/adm", watch=lambda e: None)
    zk.get("/adm/e", watch=lambda e: None)
    zk.get_children("/adm", watch=lambda e: None)
    return zk


def compare_commands(ours, theirs):
    for name, alias in COMMANDS:
        try:
            a, b = command(ours, name), command(theirs, name)
        except (OSError, ValueError, AssertionError) as e:
            report(f"admin:{name}", False, repr(e))
            continue
        out = []
        diff(a, b, name, out)
        if a.get("command") != name or a.get("error") is not None:
            out.append(f"command/error: {a.get('command')!r}/{a.get('error')!r}")
        report(f"admin:{name}", not out, "; ".join(out[:6]))
        if alias:
            via = command(ours, alias)
            keys_same = set(via) == set(a) and via.get("command") == name
            report(f"admin:{alias}-names-{name}", keys_same, f"{via.get('command')!r}")
    # An unknown command: the same two fields, the same message.
    a, b = command(ours, "no_such_command"), command(theirs, "no_such_command")
    report("admin:unknown-command", a == b, f"ours {a}, ZooKeeper {b}")
    # The listing: every command offered is one ZooKeeper lists too.
    _, _, mine = http(ours, "/commands")
    _, _, zks = http(theirs, "/commands")
    offered = [n for n, _ in COMMANDS]
    listed = all(f'href="/commands/{n}"' in mine and f'href="/commands/{n}"' in zks
                 for n in offered)
    report("admin:listing", listed, "a command missing from a /commands listing")
    try:
        http(ours, "/nothing")
        report("admin:other-paths-404", False, "answered")
    except urllib.error.HTTPError as e:
        report("admin:other-paths-404", e.code == 404, str(e.code))


def scrape(port):
    _, _, body = http(port, "/metrics")
    types, values = {}, {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            name, t = line[7:].split(" ", 1)
            types[name] = t
        elif line and not line.startswith("#"):
            series, v = line.rsplit(" ", 1)
            values[series] = float(v)
    return types, values


def expiring_session(port, timeout_ms):
    """Opens a ZooKeeper session over a raw socket and drops the socket without closing
    the session, which then expires."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = struct.pack(">iqiqi", 0, 0, timeout_ms, 0, 16) + b"\0" * 16
    s.sendall(struct.pack(">i", len(body)) + body)
    s.recv(4096)
    s.close()


def wait_for(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.3)
    return pred()


def compare_metrics(ours_client, ours_metrics, list_file):
    want = {}
    for line in open(list_file):
        if line.strip() and not line.startswith("#"):
            name, t = line.split()
            want[name] = t
    types, values = scrape(ours_metrics)
    bad = {n: (types.get(n), t) for n, t in want.items() if types.get(n) != t}
    report("prometheus:zookeeper-names-and-types", not bad,
           f"{len(bad)} differ, e.g. {dict(list(bad.items())[:5])}")
    # The series ZooKeeper's provider (simpleclient 0.9) serves: a gauge's and a counter's
    # sample under the bare name, a summary's `_count` and `_sum`.
    def series(n, t):
        return [n + "_count", n + "_sum"] if t == "summary" else [n]
    missing = [s for n, t in want.items() for s in series(n, t) if s not in values]
    report("prometheus:zookeeper-series", not missing, f"missing {missing[:5]}")
    # The Prometheus project's own parser reads every ZooKeeper family with its type.
    _, _, body = http(ours_metrics, "/metrics")
    parsed = {f.name: f.type for f in text_string_to_metric_families(body)}
    bad = {n: parsed.get(n) for n, t in want.items() if parsed.get(n) != t}
    report("prometheus:parser-reads-zookeeper-families", not bad, f"{dict(list(bad.items())[:5])}")
    own = {"zks_sessions": "gauge", "zks_sessions_created": "counter",
           "zks_session_touches": "counter", "zks_session_expirations": "counter",
           "zks_expiry_lag_ms": "histogram"}
    bad = {n: types.get(n) for n, t in own.items() if types.get(n) != t}
    report("prometheus:session-figures-served", not bad, str(bad))

    g, created = 'zks_sessions{kind="global"}', "zks_sessions_created_total"
    touches, expired = "zks_session_touches_total", "zks_session_expirations_total"
    lag = "zks_expiry_lag_ms_count"
    _, before = scrape(ours_metrics)
    zk = KazooClient(hosts=f"127.0.0.1:{ours_client}", timeout=4)
    zk.start(timeout=15)
    _, during = scrape(ours_metrics)
    report("prometheus:session-counted", during[g] == before[g] + 1
           and during[created] == before[created] + 1
           and during["global_sessions"] == before["global_sessions"] + 1,
           f"global {before[g]} -> {during[g]}, created {before[created]} -> {during[created]}")
    # kazoo pings every third of the timeout: each ping touches the session.
    moved = wait_for(lambda: scrape(ours_metrics)[1][touches] >= during[touches] + 2, 10)
    report("prometheus:touches-move", moved, "no touches counted while kazoo pinged")
    zk.stop()
    zk.close()
    _, after = scrape(ours_metrics)
    report("prometheus:session-closed", after[g] == before[g], f"global {after[g]}")
    expiring_session(ours_client, 2000)
    ok = wait_for(lambda: scrape(ours_metrics)[1][expired] >= after[expired] + 1, 20)
    _, late = scrape(ours_metrics)
    report("prometheus:expiration-counted", ok and late[lag] >= after[lag] + 1,
           f"expirations {after[expired]} -> {late[expired]}, lag count {after[lag]} -> {late[lag]}")


def main():
    ours_client, ours_admin, ours_metrics, zk_client, zk_admin = map(int, sys.argv[1:6])
    ours_zk, their_zk = populate(ours_client), populate(zk_client)
    compare_commands(ours_admin, zk_admin)
    ours_zk.stop()
    their_zk.stop()
    compare_metrics(ours_client, ours_metrics, sys.argv[6])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
