#!/usr/bin/env bash
# Session load benchmark: zksessiond (release build) against Apache ZooKeeper 3.8 from
# Debian's packages, one after the other in the same run, with the same load generator
# (tools/loadgen), the same tickTime and the same session counts. Each (server, session
# count) pair gets a freshly started server, so memory kept from an earlier load does not
# hide the per-session cost. Prints one table with the ratios. Every server is stopped at
# the end, whatever happens.
#
# Environment knobs (defaults in brackets):
#   SESSIONS     session counts, comma-separated            [1000,10000]
#   SECS         seconds of the ping phase per count        [5]
#   PACED_MS     interval of the paced ping phase, 0 = none [1000]
#   TICK         tickTime of both servers in ms             [2000]
#   SESSION_MS   session timeout the clients ask for        [30000]
#   WINDOW       handshakes in flight per load process      [100]
#   ONLY         run only "zksessiond" or "zookeeper"       [both]
#   WARMUP       1 = an unrecorded 100-session, 2 s run on each fresh server [1]
#   ZKSESSIOND   a prebuilt zksessiond binary (else built here)
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS="${SESSIONS:-1000,10000}"
SECS="${SECS:-5}"
PACED_MS="${PACED_MS:-1000}"
TICK="${TICK:-2000}"
SESSION_MS="${SESSION_MS:-30000}"
WINDOW="${WINDOW:-100}"
ONLY="${ONLY:-}"
WARMUP="${WARMUP:-1}"
ZKSESSIOND="${ZKSESSIOND:-}"

# shellcheck source=lib/procs.sh
source scripts/lib/procs.sh
procs_begin
WORK=$work
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        stop_pids "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
procs_cleanup() { stop_server; }

# Each server may hold 10k+ sockets.
ulimit -n 20000 2>/dev/null || true

# Waits until the server hands out sessions on 127.0.0.1:$1 (at most 60 s).
wait_serving() {
    local port="$1"
    for _ in $(seq 1 120); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited during startup" >&2
            return 1
        fi
        if "$LOADGEN" probe "127.0.0.1:$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    echo "server gave no session on port $port within 60 s" >&2
    return 1
}

write_cfg() { # file port datadir
    cat >"$1" <<CFG
tickTime=$TICK
dataDir=$3
clientPort=$2
clientPortAddress=127.0.0.1
admin.enableServer=false
maxClientCnxns=0
4lw.commands.whitelist=*
CFG
}

echo "== building the load generator" >&2
# The release profile; only the wire codec of the library (feature `loadgen`).
cargo build --release --bin loadgen >&2
LOADGEN=target/release/loadgen

RESULTS="$WORK/results"
: >"$RESULTS"

start_zksessiond() { # port
    mkdir -p "$WORK/zks-data"
    write_cfg "$WORK/zks.cfg" "$1" "$WORK/zks-data"
    RUST_LOG=warn "$ZKSESSIOND" --config "$WORK/zks.cfg" >>"$WORK/zksessiond.log" 2>&1 &
    SERVER_PID=$!
}

start_zookeeper() { # port
    local cp=/usr/share/java/zookeeper.jar
    [[ -f /usr/share/java/slf4j-simple.jar ]] && cp="$cp:/usr/share/java/slf4j-simple.jar"
    rm -rf "$WORK/zk-data"
    mkdir -p "$WORK/zk-data"
    write_cfg "$WORK/zk.cfg" "$1" "$WORK/zk-data"
    echo "admin.enableServer=false" >>"$WORK/zk.cfg"
    java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dzookeeper.admin.enableServer=false \
        -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zk.cfg" \
        >>"$WORK/zookeeper.log" 2>&1 &
    SERVER_PID=$!
}

bench_server() { # label
    local label="$1" port
    for n in ${SESSIONS//,/ }; do
        port="$(free_port)"
        "start_$label" "$port"
        wait_serving "$port"
        echo "== $label (pid $SERVER_PID, port $port): $n sessions" >&2
        if [[ "$WARMUP" != 0 ]]; then
            # Unrecorded warm-up of the connect and ping paths (JIT, allocator).
            timeout 300 "$LOADGEN" --addr "127.0.0.1:$port" --label warmup \
                --sessions 100 --secs 2 --window "$WINDOW" >/dev/null
        fi
        timeout 600 "$LOADGEN" --addr "127.0.0.1:$port" --pid "$SERVER_PID" \
            --label "$label" --sessions "$n" --secs "$SECS" --window "$WINDOW" \
            --timeout-ms "$SESSION_MS" --paced-ms "$PACED_MS" | tee -a "$RESULTS"
        stop_server
    done
}

if [[ -z "$ONLY" || "$ONLY" == zksessiond ]]; then
    if [[ -z "$ZKSESSIOND" ]]; then
        echo "== building zksessiond (release)" >&2
        cargo build --release --bin zksessiond >&2
        ZKSESSIOND=target/release/zksessiond
    fi
    bench_server zksessiond
fi

if [[ -z "$ONLY" || "$ONLY" == zookeeper ]]; then
    bench_server zookeeper
fi

# --- table ---
python3 - "$RESULTS" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "):
        continue
    kv = dict(p.split("=", 1) for p in line.split()[1:])
    rows[(kv["label"], kv["sessions"])] = kv
metrics = [
    ("connect_per_s", "sessions established /s", "higher"),
    ("rss_per_session_bytes", "server RSS per idle session (B)", "lower"),
    ("pings_per_s", "closed loop: pings /s", "higher"),
    ("p50_us", "closed loop: ping p50 (us)", "lower"),
    ("p99_us", "closed loop: ping p99 (us)", "lower"),
    ("cpu_us_per_ping", "closed loop: server CPU/ping (us)", "lower"),
    ("paced_pings_per_s", "paced: pings /s", "higher"),
    ("paced_p50_us", "paced: ping p50 (us)", "lower"),
    ("paced_p99_us", "paced: ping p99 (us)", "lower"),
    ("paced_cpu_us_per_ping", "paced: server CPU per ping (us)", "lower"),
    ("close_per_s", "sessions closed /s", "higher"),
]
counts = sorted({s for (_, s) in rows}, key=int)
print()
print(f"{'sessions':>8}  {'metric':<36} {'zksessiond':>12} {'zookeeper':>12} {'zks/zk':>8}  better")
for s in counts:
    a = rows.get(("zksessiond", s), {})
    b = rows.get(("zookeeper", s), {})
    for key, name, better in metrics:
        va, vb = a.get(key, "na"), b.get(key, "na")
        try:
            ratio = f"{float(va) / float(vb):.2f}"
        except (ValueError, ZeroDivisionError):
            ratio = "na"
        print(f"{s:>8}  {name:<36} {va:>12} {vb:>12} {ratio:>8}  {better}")
    fails = [f"{lbl}: {r.get('failed')} failed, {r.get('ping_errors')} ping errors"
             for lbl, r in (("zksessiond", a), ("zookeeper", b)) if r and (r.get("failed") != "0" or r.get("ping_errors") != "0")]
    for f in fails:
        print(f"{s:>8}  note: {f}")
PY
