#!/usr/bin/env bash
# Durable-write benchmark: zksessiond (release) against Apache ZooKeeper 3.8 standalone
# from Debian, both with forceSync=yes and their dataDir on the same disk (one temporary
# directory), driven by the same load generator (tools/loadgen: `creates`, `sessions`).
# For each server, on a fresh dataDir:
#  1. PREFILL znodes of SIZE bytes (scripts/bench-prefill.py: multis of a thousand
#     creates), and the server's RSS growth over them, per znode;
#  2. on that tree (snapshots of it every SNAPCOUNT txns or so), closed-loop creates of
#     SIZE-byte persistent znodes with 1, 16 and 64 in flight (one session per request
#     in flight): creates/s, p50/p99 latency;
#  3. session open+close pairs with 16 in flight: pairs/s, p50/p99;
#  4. RSS growth over the znodes of step 2, per znode;
#  5. restart time: SIGTERM, start on the same dataDir, time until it hands out a
#     session (it loaded every znode made above);
#  6. zksessiond's group-commit figures (txns per fsync, fsync time) and the snapshots it
#     wrote (pages, the longest namespace-lock hold, all holds together).
# Figures only; nothing is asserted. Every server is stopped by its pid.
#
# Environment knobs (defaults in brackets):
#   SECS      seconds per create phase       [5]
#   SIZE      bytes per znode                [100]
#   INFLIGHT  in-flight counts               [1,16,64]
#   ONLY      "zksessiond" or "zookeeper"    [both]
#   PREFILL   znodes made first              [200000]
#   SNAPCOUNT snapCount of both servers      [20000]
set -euo pipefail
cd "$(dirname "$0")/.."

SECS="${SECS:-5}"
SIZE="${SIZE:-100}"
INFLIGHT="${INFLIGHT:-1,16,64}"
ONLY="${ONLY:-}"
PREFILL="${PREFILL:-200000}"
SNAPCOUNT="${SNAPCOUNT:-20000}"

# shellcheck source=lib/procs.sh
source scripts/lib/procs.sh
STOP_GRACE=100
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

echo "== building zksessiond and the load generator (release)" >&2
cargo build --release --bin loadgen --bin zksessiond >&2
LOADGEN=target/release/loadgen
ZKSESSIOND="${ZKSESSIOND:-target/release/zksessiond}"

wait_serving() { # port
    for _ in $(seq 1 1200); do
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited during startup" >&2; return 1; }
        "$LOADGEN" probe "127.0.0.1:$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server gave no session within 60 s" >&2
    return 1
}

write_cfg() { # file port datadir
    cat >"$1" <<CFG
tickTime=2000
dataDir=$3
clientPort=$2
clientPortAddress=127.0.0.1
maxClientCnxns=0
forceSync=yes
snapCount=$SNAPCOUNT
admin.enableServer=false
CFG
}

start_zksessiond() { # port datadir
    write_cfg "$WORK/zks.cfg" "$1" "$2"
    RUST_LOG=warn,zksession::server::durable=info "$ZKSESSIOND" --config "$WORK/zks.cfg" >>"$WORK/zksessiond.log" 2>&1 &
    SERVER_PID=$!
}

start_zookeeper() { # port datadir
    write_cfg "$WORK/zk.cfg" "$1" "$2"
    java -Dzookeeper.admin.enableServer=false -Dzookeeper.forceSync=yes \
        -Dzookeeper.snapCount="$SNAPCOUNT" \
        -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar \
        org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zk.cfg" \
        >>"$WORK/zookeeper.log" 2>&1 &
    SERVER_PID=$!
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }

bench() { # label
    local label="$1" port data results nodes=0
    data="$WORK/$label-data"
    mkdir -p "$data"
    port="$(free_port)"
    "start_$label" "$port" "$data"
    wait_serving "$port"
    # Unrecorded warm-up (JIT, allocator, first log file).
    "$LOADGEN" creates "127.0.0.1:$port" --inflight 4 --secs 1 --label warmup >/dev/null
    if (( PREFILL > 0 )); then
        local rss2 rss3 p0 p1
        rss2="$(rss_kb)"
        p0="$(date +%s%N)"
        timeout 1800 /usr/bin/python3 scripts/bench-prefill.py "$port" "$PREFILL" "$SIZE"
        p1="$(date +%s%N)"
        sleep 2
        rss3="$(rss_kb)"
        nodes=$PREFILL
        echo "RESULT label=$label prefill=$PREFILL prefill_ms=$(( (p1 - p0) / 1000000 )) rss_growth_kb=$((rss3 - rss2)) bytes_per_znode=$(( (rss3 - rss2) * 1024 / PREFILL ))"
    fi
    # The create phases run on the large tree, with snapshots of it every SNAPCOUNT txns
    # or so: their latencies include what a snapshot costs the writers.
    local rss0
    rss0="$(rss_kb)"
    results="$WORK/$label.results"
    timeout 600 "$LOADGEN" creates "127.0.0.1:$port" --inflight "$INFLIGHT" --secs "$SECS" \
        --size "$SIZE" --label "$label" | tee "$results"
    local rss1 created
    rss1="$(rss_kb)"
    timeout 600 "$LOADGEN" sessions "127.0.0.1:$port" --inflight 16 --secs "$SECS" \
        --label "$label" | tee -a "$results"
    created="$(awk '/phase=creates/ {for (i = 1; i <= NF; i++) if ($i ~ /^ops=/) {split($i, a, "="); s += a[2]}} END {print s + 0}' "$results")"
    nodes=$((nodes + created))
    echo "RESULT label=$label znodes=$created rss_growth_kb=$((rss1 - rss0)) bytes_per_znode=$(( (rss1 - rss0) * 1024 / (created > 0 ? created : 1) ))"
    stop_server
    local t0 t1
    t0="$(date +%s%N)"
    "start_$label" "$port" "$data"
    wait_serving "$port"
    t1="$(date +%s%N)"
    echo "RESULT label=$label restart_ms=$(( (t1 - t0) / 1000000 )) znodes=$nodes data_bytes=$(du -sb "$data" | cut -f1)"
    stop_server
}

[[ -z "$ONLY" || "$ONLY" == zksessiond ]] && bench zksessiond
if [[ -f "$WORK/zksessiond.log" ]]; then
    # Group commit: txns per fsync and the fsync time, over each run of the server.
    grep -h "group commit figures" "$WORK/zksessiond.log" | sed 's/^/GROUP-COMMIT /' || true
    grep -h "snapshot written" "$WORK/zksessiond.log" | sed 's/^/SNAPSHOT /' | tail -3 || true
fi
[[ -z "$ONLY" || "$ONLY" == zookeeper ]] && bench zookeeper
