#!/usr/bin/env bash
# Benchmark of a 3-server ZooKeeper 3.8 ensemble on loopback: Debian's plain ZooKeeper
# against the engine launcher, same driver (bindings/java/src/bench/python/ensemble_bench.py):
# N global sessions spread over the followers pinging every timeout/3, held through a kill -9
# of the leader; CPU and RSS per server, the leader's CPU per forwarded touch, time to a new
# leader and until every session is back, expirations (must be 0), and session establishment
# per second (global and local, 16 in flight). Prints RESULT lines; asserts nothing on time.
# Not part of the test command. Every server is stopped by its pid on exit.
# Usage (from the repository root): scripts/bench-ensemble.sh [sessions] [hold_secs]
#   BENCH_IMPLS="plain engine"  BENCH_LOCAL_SESSIONS=5000  BENCH_TIMEOUT_MS=10000
#   BENCH_RECONNECT_WINDOW=512 (reconnects in flight after the leader kill)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java_dir="$root/bindings/java"
# shellcheck source=../bindings/java/classpath.sh
source "$java_dir/classpath.sh"
sessions="${1:-10000}"
hold="${2:-10}"

work="$(mktemp -d -t zks-ensemble-bench.XXXXXX)"
pidfile="$work/pids"
: >"$pidfile"
driver_pid=""
cleanup() {
    if [[ -n "$driver_pid" ]]; then
        kill -TERM "$driver_pid" 2>/dev/null || true
    fi
    local p
    while read -r p; do
        [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null || true
    done <"$pidfile"
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$java_dir/build.sh" main
base=24100
for impl in ${BENCH_IMPLS:-plain engine}; do
    echo "== $impl: $sessions sessions, hold ${hold} s"
    timeout --kill-after=10 1200 /usr/bin/python3 "$java_dir/src/bench/python/ensemble_bench.py" \
        --impl "$impl" --workdir "$work" --base-port "$base" --pidfile "$pidfile" \
        --sessions "$sessions" --hold-secs "$hold" --local-sessions "${BENCH_LOCAL_SESSIONS:-5000}" \
        --timeout-ms "${BENCH_TIMEOUT_MS:-10000}" --reconnect-window "${BENCH_RECONNECT_WINDOW:-512}" --launcher "$java_dir/run-zookeeper.sh" \
        --zk-cp "$ZK_CP:$LOG_CP" &
    driver_pid=$!
    wait "$driver_pid"
    driver_pid=""
    base=$((base + 50))
done
