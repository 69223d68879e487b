#!/usr/bin/env bash
# Tests of a real Apache ZooKeeper 3.8 ensemble with the zksession engine as every server's
# session tracker: the JUnit tests of the quorum trackers (manual clock), then the same
# 3-server loopback scenarios (failover rounds, dead-client cleanup, reconnect elsewhere,
# local sessions and upgrade; local sessions on, off, and upgrading off) against Debian's
# plain ZooKeeper and against the engine launcher (bindings/java/run-zookeeper.sh), so a
# difference is the engine's. Clients: kazoo and zkCli.
# Prints a last line "N passed, M failed"; exits non-zero on any failure. Every server is
# started with its pid recorded and stopped by that pid on exit.
# Usage (from the repository root): scripts/test-ensemble.sh
#   ENSEMBLE_ROUNDS=N   failover rounds per ensemble (default 3)
#   ENSEMBLE_IMPLS=...  which to run, default "plain engine"
#   ENSEMBLE_PHASES=... a,b,c (default all; see ensemble_scenarios.py)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java_dir="$root/bindings/java"
# shellcheck source=../bindings/java/classpath.sh
source "$java_dir/classpath.sh"

work="$(mktemp -d -t zks-ensemble.XXXXXX)"
pidfile="$work/pids"
: >"$pidfile"
driver_pid=""
cleanup() {
    if [[ -n "$driver_pid" ]]; then
        kill -TERM "$driver_pid" 2>/dev/null || true
    fi
    # Every server the driver started, by its pid.
    local p
    while read -r p; do
        [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null || true
    done <"$pidfile"
    sleep 1
    while read -r p; do
        [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null || true
    done <"$pidfile"
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

passed=0
failed=0
# tally FILE: adds the "N passed, M failed" line of FILE to the totals (a missing line fails).
tally() {
    local line
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1 || true)"
    if [[ -z "$line" ]]; then
        echo "no result line (crashed or timed out)"
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + $(cut -d' ' -f1 <<<"$line")))
    failed=$((failed + $(cut -d' ' -f3 <<<"$line")))
}

"$java_dir/build.sh" all

echo "== junit: quorum session trackers on the engine"
out="$work/junit.out"
timeout --kill-after=10 300 java -Djava.library.path="$NATIVE_DIR" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$java_dir/build/zksession-tests.jar:$java_dir/build/zksession.jar:$ZK_CP:$LOG_CP:$JUNIT_CP" \
    org.zksession.RunTests org.zksession.zookeeper.EngineLeaderSessionTrackerTest \
    org.zksession.zookeeper.EngineLearnerSessionTrackerTest >"$out" 2>&1 || true
cat "$out"
tally "$out"

echo "== the launcher refuses read-only mode"
ro_out="$work/ro.out"
mkdir -p "$work/ro"
printf 'tickTime=1000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=24199\nserver.1=127.0.0.1:24197:24198\nserver.2=127.0.0.1:24195:24196\n' \
    "$work/ro" >"$work/ro.cfg"
echo 1 >"$work/ro/myid"
ro_code=0
ZKS_JAVA_OPTS="-Dreadonlymode.enabled=true -Xmx64m" timeout 60 "$java_dir/run-zookeeper.sh" "$work/ro.cfg" \
    >"$ro_out" 2>&1 || ro_code=$?
if [[ "$ro_code" -eq 2 ]] && grep -q "read-only mode" "$ro_out"; then
    echo "ok   read-only mode is refused with a message and exit code 2"
    passed=$((passed + 1))
else
    echo "FAIL read-only mode: exit $ro_code"
    tail -5 "$ro_out"
    failed=$((failed + 1))
fi

base=24100
for impl in ${ENSEMBLE_IMPLS:-plain engine}; do
    echo "== ensemble scenarios: $impl"
    out="$work/$impl.out"
    setsid timeout --kill-after=10 900 /usr/bin/python3 "$java_dir/src/test/python/ensemble_scenarios.py" \
        --impl "$impl" --workdir "$work" --base-port "$base" --rounds "${ENSEMBLE_ROUNDS:-3}" \
        --phases "${ENSEMBLE_PHASES:-a,b,c}" --launcher "$java_dir/run-zookeeper.sh" \
        --zk-cp "$ZK_CP:$LOG_CP" --pidfile "$pidfile" >"$out" 2>&1 &
    driver_pid=$!
    wait "$driver_pid" || true
    driver_pid=""
    cat "$out"
    tally "$out"
    base=$((base + 50))
done

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
