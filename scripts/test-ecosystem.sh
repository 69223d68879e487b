#!/usr/bin/env bash
# zksessiond next to Apache ZooKeeper 3.8 as the ecosystem sees them: every four-letter
# word compared line by line in shape with ZooKeeper's, kazoo's uses of `envi`
# (server_version, transactions, create with a stat, LockingQueue) and null data against
# both, a Prometheus scrape (names, types, session figures moving), the
# zksessiond command line (--help, --version) and a whitelist naming an unknown word.
# Starts zksessiond (release build) and Debian's ZooKeeper on free loopback ports, stops
# both by pid, prints "N passed, M failed" and exits non-zero on any failure. Run from the
# repository root.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
ZK_CLASSPATH="${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar}"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

four() { # port word → stdout
    "$PYTHON" - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode())
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
PY
}

wait_ruok() { # port → 0 once the server answers
    for _ in $(seq 300); do
        [[ "$(four "$1" ruok 2>/dev/null)" == "imok" ]] && return 0
        sleep 0.1
    done
    return 1
}

echo "== building zksessiond"
cargo build --release --bin zksessiond
ZKSESSIOND=./target/release/zksessiond

echo "== command line"
help=$("$ZKSESSIOND" --help)
grep -q -- "--config FILE" <<<"$help" && grep -q -- "--version" <<<"$help" \
    && pass "cli:--help" || fail "cli:--help"
version=$("$ZKSESSIOND" --version)
grep -Eq "^zksessiond [0-9]+\.[0-9]+\.[0-9]+ .*3\.8\.0-zksessiond-" <<<"$version" \
    && pass "cli:--version" || fail "cli:--version" "$version"
if "$ZKSESSIOND" --bogus 2>/dev/null; then fail "cli:unknown-option"; else pass "cli:unknown-option"; fi

ours=$(free_port)
metrics=$(free_port)
mkdir -p "$work/ours"
cat >"$work/ours.cfg" <<CFG
tickTime=2000
clientPort=$ours
clientPortAddress=127.0.0.1
admin.enableServer=false
dataDir=$work/ours
4lw.commands.whitelist=*
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpHost=127.0.0.1
metricsProvider.httpPort=$metrics
CFG
RUST_LOG=info "$ZKSESSIOND" --config "$work/ours.cfg" 2>"$work/ours.log" &
pids+=($!)

theirs=$(free_port)
mkdir -p "$work/zk"
cat >"$work/zk.cfg" <<CFG
tickTime=2000
clientPort=$theirs
clientPortAddress=127.0.0.1
dataDir=$work/zk
4lw.commands.whitelist=*
admin.enableServer=false
CFG
java -Dzookeeper.admin.enableServer=false -cp "$ZK_CLASSPATH" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk.cfg" >"$work/zk.log" 2>&1 &
pids+=($!)

wait_ruok "$ours" && pass "zksessiond:started" || { fail "zksessiond:started"; cat "$work/ours.log" >&2; }
wait_ruok "$theirs" && pass "zookeeper:started" || { fail "zookeeper:started"; tail "$work/zk.log" >&2; }

echo "== four-letter words and kazoo against both"
timeout 300 "$PYTHON" scripts/ecosystem/compare_4lw.py "$ours" "$theirs" 2>"$work/compare.err" \
    | tee "$work/compare.out" || true
tally "$work/compare.out"
grep -q "^PASS 4lw:ruok" "$work/compare.out" || { fail "compare" "did not run"; cat "$work/compare.err" >&2; }

echo "== Prometheus endpoint"
timeout 120 "$PYTHON" - "$metrics" "$ours" >"$work/prom.out" 2>&1 <<'PY' || true
import sys, urllib.request
from kazoo.client import KazooClient

def scrape():
    body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read().decode()
    types, values = {}, {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line[7:].split(" ", 1)
            types[name] = kind
        elif line and not line.startswith("#"):
            series, v = line.rsplit(" ", 1)
            values[series] = float(v)
    return types, values

types, before = scrape()
want = {"znode_count": "gauge", "num_alive_connections": "gauge", "global_sessions": "gauge",
        "watch_count": "gauge", "avg_latency": "gauge", "zks_sessions": "gauge",
        "zks_session_expirations": "counter", "zks_expiry_lag_ms": "histogram"}
bad = {k: types.get(k) for k, v in want.items() if types.get(k) != v}
print("PASS prometheus:names-and-types" if not bad else f"FAIL prometheus:names-and-types: {bad}")
g = 'zks_sessions{kind="global"}'
zk = KazooClient(hosts=f"127.0.0.1:{sys.argv[2]}"); zk.start(timeout=15)
_, during = scrape()
zk.stop(); zk.close()
_, after = scrape()
moved = during[g] == before[g] + 1 and after[g] == before[g] \
    and during["zks_sessions_created_total"] == before["zks_sessions_created_total"] + 1
print("PASS prometheus:sessions-move" if moved else
      f"FAIL prometheus:sessions-move: {before[g]} {during[g]} {after[g]}")
PY
cat "$work/prom.out"
tally "$work/prom.out"
grep -q "^PASS prometheus:names" "$work/prom.out" || fail "prometheus" "scrape failed"

echo "== session log lines"
grep -Eq "session created.*0x[0-9a-f]+|0x[0-9a-f]+.*session created" "$work/ours.log" \
    && pass "log:session-created" || fail "log:session-created"
grep -Eq "session closed by client" "$work/ours.log" \
    && pass "log:session-closed" || fail "log:session-closed"

echo "== a whitelist naming a word zksessiond does not know"
wl=$(free_port)
cat >"$work/wl.cfg" <<CFG
tickTime=2000
clientPort=$wl
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=stat, ruok, conf, isro, frob
CFG
"$ZKSESSIOND" --config "$work/wl.cfg" 2>"$work/wl.log" &
pids+=($!)
if wait_ruok "$wl"; then
    pass "whitelist:unknown-word-starts"
    grep -q "frob" "$work/wl.log" && pass "whitelist:unknown-word-warned" \
        || fail "whitelist:unknown-word-warned"
    grep -q "not in the whitelist" <<<"$(four "$wl" srvr)" && pass "whitelist:srvr-refused" \
        || fail "whitelist:srvr-refused"
    grep -q "^clientPort=$wl" <<<"$(four "$wl" conf)" && pass "whitelist:conf-served" \
        || fail "whitelist:conf-served"
else
    fail "whitelist:unknown-word-starts"
    cat "$work/wl.log" >&2
fi

echo "== the sample configuration in dist/"
sample=$(free_port)
sed -e "s/^clientPort=.*/clientPort=$sample/" -e "s/^clientPortAddress=.*/clientPortAddress=127.0.0.1/" \
    -e "s|^dataDir=.*|dataDir=$work/sample|" -e "s/^admin.enableServer=.*/admin.enableServer=false/" \
    dist/zoo.cfg >"$work/sample.cfg"
"$ZKSESSIOND" --config "$work/sample.cfg" 2>"$work/sample.log" &
pids+=($!)
if wait_ruok "$sample"; then
    pass "dist:zoo.cfg-serves"
    if grep -q "unknown configuration" "$work/sample.log"; then
        fail "dist:zoo.cfg-no-warnings" "$(grep unknown "$work/sample.log")"
    else
        pass "dist:zoo.cfg-no-warnings"
    fi
else
    fail "dist:zoo.cfg-serves"
    cat "$work/sample.log" >&2
fi
grep -q "^ExecStart=/usr/local/bin/zksessiond --config " dist/zksessiond.service \
    && pass "dist:unit" || fail "dist:unit"

suite_end
