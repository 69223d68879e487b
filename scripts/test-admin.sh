#!/usr/bin/env bash
# zksessiond's operations surface next to Apache ZooKeeper 3.8's: the AdminServer's JSON
# commands compared in structure with ZooKeeper's own AdminServer (Debian's ZooKeeper with
# Debian's Jetty), the Prometheus endpoint scraped and checked against ZooKeeper 3.8's
# metric names and types (scripts/admin/zookeeper-3.8-metrics.txt) with the session
# figures moving, zktop drawing both servers, the INFO log lines of session create /
# close / expiry, the command line, and the sample configuration and unit in dist/.
# Starts zksessiond (release build) and ZooKeeper on free loopback ports, stops both by
# pid, prints "N passed, M failed" and exits non-zero on any failure. Run from the
# repository root.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
J=/usr/share/java
ZK_CLASSPATH="${ZK_CLASSPATH:-$J/zookeeper.jar:$J/slf4j-nop.jar}"
# ZooKeeper's AdminServer runs on Jetty and writes JSON with Jackson.
for jar in jetty9-server jetty9-servlet jetty9-http jetty9-io jetty9-util jetty9-security \
    servlet-api jackson-databind jackson-core jackson-annotations; do
    ZK_CLASSPATH="$ZK_CLASSPATH:$J/$jar.jar"
done

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

admin_ruok() { # port → 0 when the AdminServer there answers ruok
    "$PYTHON" - "$1" <<'PY'
import json, sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/commands/ruok", timeout=10).read()
sys.exit(0 if json.loads(body) == {"command": "ruok", "error": None} else 1)
PY
}

echo "== building zksessiond"
cargo build --release --bin zksessiond
ZKSESSIOND=./target/release/zksessiond

echo "== command line"
help=$("$ZKSESSIOND" --help)
for word in "--config FILE" --version admin.enableServer admin.serverPort metricsProvider; do
    grep -qF -- "$word" <<<"$help" && pass "cli:--help:$word" || fail "cli:--help:$word"
done
version=$("$ZKSESSIOND" --version)
grep -Eq "^zksessiond [0-9]+\.[0-9]+\.[0-9]+ .*3\.8\.0-zksessiond-" <<<"$version" \
    && pass "cli:--version" || fail "cli:--version" "$version"

echo "== dist/"
for key in admin.enableServer admin.serverAddress admin.serverPort admin.commandURL \
    metricsProvider.className metricsProvider.httpPort metricsProvider.httpHost; do
    grep -q "$key" dist/zoo.cfg && pass "dist:zoo.cfg:$key" || fail "dist:zoo.cfg:$key"
done
grep -q '^ExecStart=.*zksessiond --config ' dist/zksessiond.service \
    && pass "dist:unit-execstart" || fail "dist:unit-execstart"
if command -v systemd-analyze >/dev/null 2>&1; then
    # Only the unit's own syntax: the binary is not installed where ExecStart points.
    if systemd-analyze verify dist/zksessiond.service 2>&1 | grep -v "zksessiond: No such\|not executable\|Command .* is not executable" \
        | grep -qi "unknown\|invalid\|failed to parse"; then
        fail "dist:unit-verifies"
    else
        pass "dist:unit-verifies"
    fi
fi

echo "== starting zksessiond and ZooKeeper with their AdminServers"
ours=$(free_port)
ours_admin=$(free_port)
ours_metrics=$(free_port)
mkdir -p "$work/ours"
cat >"$work/ours.cfg" <<CFG
tickTime=1000
clientPort=$ours
clientPortAddress=127.0.0.1
dataDir=$work/ours
4lw.commands.whitelist=*
admin.enableServer=true
admin.serverAddress=127.0.0.1
admin.serverPort=$ours_admin
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpHost=127.0.0.1
metricsProvider.httpPort=$ours_metrics
CFG
RUST_LOG=info "$ZKSESSIOND" --config "$work/ours.cfg" 2>"$work/ours.log" &
pids+=($!)

theirs=$(free_port)
theirs_admin=$(free_port)
mkdir -p "$work/zk"
cat >"$work/zk.cfg" <<CFG
tickTime=2000
clientPort=$theirs
clientPortAddress=127.0.0.1
dataDir=$work/zk
4lw.commands.whitelist=*
admin.enableServer=true
admin.serverAddress=127.0.0.1
admin.serverPort=$theirs_admin
CFG
java -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk.cfg" \
    >"$work/zk.log" 2>&1 &
pids+=($!)

wait_ruok "$ours" && pass "zksessiond:started" || { fail "zksessiond:started"; cat "$work/ours.log" >&2; }
wait_ruok "$theirs" && pass "zookeeper:started" || { fail "zookeeper:started"; tail "$work/zk.log" >&2; }
for _ in $(seq 100); do admin_ruok "$theirs_admin" 2>/dev/null && break; sleep 0.2; done
admin_ruok "$ours_admin" && pass "zksessiond:admin-ruok" || fail "zksessiond:admin-ruok"
admin_ruok "$theirs_admin" && pass "zookeeper:admin-ruok" || fail "zookeeper:admin-ruok"

echo "== AdminServer JSON and Prometheus metrics"
timeout 180 "$PYTHON" scripts/admin/compare_admin.py "$ours" "$ours_admin" "$ours_metrics" \
    "$theirs" "$theirs_admin" scripts/admin/zookeeper-3.8-metrics.txt \
    2>"$work/compare.err" | tee "$work/compare.out" || true
tally "$work/compare.out"
grep -q "^PASS admin:ruok" "$work/compare.out" || { fail "compare" "did not run"; cat "$work/compare.err" >&2; }

echo "== zktop"
for target in "zksessiond $ours" "zookeeper $theirs"; do
    # shellcheck disable=SC2086
    timeout 60 "$PYTHON" scripts/admin/zktop_screen.py $target >"$work/zktop.out" 2>&1 || true
    cat "$work/zktop.out"
    tally "$work/zktop.out"
done

echo "== session log lines (INFO, 0x ids)"
for what in "session created" "session closed by client" "session expired"; do
    grep -Eq "INFO .*$what.*session=0x[0-9a-f]+" "$work/ours.log" \
        && pass "log:$what" || fail "log:$what" "no INFO line with a 0x id"
done

echo "== the AdminServer's defaults and switch"
off=$(free_port)
off_admin=$(free_port)
cat >"$work/off.cfg" <<CFG
clientPort=$off
clientPortAddress=127.0.0.1
4lw.commands.whitelist=ruok
admin.enableServer=false
admin.serverPort=$off_admin
CFG
"$ZKSESSIOND" --config "$work/off.cfg" 2>"$work/off.log" &
pids+=($!)
if wait_ruok "$off"; then
    if admin_ruok "$off_admin" 2>/dev/null; then fail "admin:enableServer=false"; else pass "admin:enableServer=false"; fi
else
    fail "admin:enableServer=false" "server did not start"
fi
# The sample configuration, moved to free ports: its AdminServer answers.
sample=$(free_port)
sample_admin=$(free_port)
sed -e "s/^clientPort=.*/clientPort=$sample/" -e "s/^clientPortAddress=.*/clientPortAddress=127.0.0.1/" \
    -e "s|^dataDir=.*|dataDir=$work/sample|" -e "s/^admin.serverPort=.*/admin.serverPort=$sample_admin/" \
    dist/zoo.cfg >"$work/sample.cfg"
"$ZKSESSIOND" --config "$work/sample.cfg" 2>"$work/sample.log" &
pids+=($!)
if wait_ruok "$sample" && admin_ruok "$sample_admin"; then
    pass "dist:zoo.cfg-admin-serves"
else
    fail "dist:zoo.cfg-admin-serves"
    cat "$work/sample.log" >&2
fi
# A port already taken: the server runs on without its AdminServer and says so.
busy=$(free_port)
cat >"$work/busy.cfg" <<CFG
clientPort=$busy
clientPortAddress=127.0.0.1
4lw.commands.whitelist=ruok
admin.serverAddress=127.0.0.1
admin.serverPort=$ours_admin
CFG
"$ZKSESSIOND" --config "$work/busy.cfg" 2>"$work/busy.log" &
pids+=($!)
if wait_ruok "$busy" && grep -q "AdminServer not started" "$work/busy.log"; then
    pass "admin:port-taken-warns"
else
    fail "admin:port-taken-warns"
    cat "$work/busy.log" >&2
fi

suite_end
exit
