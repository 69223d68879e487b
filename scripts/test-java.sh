#!/usr/bin/env bash
# Tests of the Java bindings: the JNI layer's Rust unit tests, a doclint-clean javadoc
# build, JUnit 4 tests of
# SessionEngine and of the ZooKeeper SessionTracker adapter (manual clock), and end-to-end
# tests of a real ZooKeeper 3.8 server running on the engine, driven by the ZooKeeper Java
# client, zkCli.sh and kazoo. Prints a last line "N passed, M failed"; exits non-zero on
# any failure. Every process it starts is stopped on exit.
# Usage (from the repository root): scripts/test-java.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java_dir="$root/bindings/java"
# shellcheck source=../bindings/java/classpath.sh
source "$java_dir/classpath.sh"
# shellcheck source=lib/suite.sh
source "$root/scripts/lib/suite.sh"

pids=()
cleanup() {
    for p in "${pids[@]}"; do
        # Each suite runs in its own process group (setsid): stop the group, then the leader.
        kill -TERM -- "-$p" 2>/dev/null || true
        kill -TERM "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

# run_suite NAME LIMIT_SECONDS COMMAND...: runs a command printing "N passed, M failed" last.
run_suite() {
    local name="$1" limit="$2"
    shift 2
    echo "== $name"
    local out
    out="$(mktemp)"
    setsid timeout --kill-after=10 "$limit" "$@" >"$out" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait "$pid" || true
    cat "$out"
    local line
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1 || true)"
    rm -f "$out"
    if [[ -z "$line" ]]; then
        fail "$name" "no result line (crashed or timed out)"
        return
    fi
    add_counts "$(cut -d' ' -f1 <<<"$line")" "$(cut -d' ' -f3 <<<"$line")"
}

rust_jni_tests() {
    local out
    if out="$(cd "$root" && cargo test --features jni --lib jni:: 2>&1)"; then :; fi
    echo "$out" | grep -E '^test |test result' || echo "$out" | tail -20
    local ok bad
    ok="$(grep -oE '[0-9]+ passed' <<<"$out" | awk '{s+=$1} END {print s+0}')"
    bad="$(grep -oE '[0-9]+ failed' <<<"$out" | awk '{s+=$1} END {print s+0}')"
    if ! grep -q 'test result' <<<"$out"; then bad=$((bad + 1)); fi
    echo "$ok passed, $bad failed"
}

javadoc_clean() {
    if "$java_dir/build.sh" docs; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
}

"$java_dir/build.sh" all

run_suite "javadoc of the Java API builds without doclint warnings" 300 \
    bash -c "$(declare -f javadoc_clean); java_dir='$java_dir'; javadoc_clean"

run_suite "rust jni unit tests" 1800 bash -c "$(declare -f rust_jni_tests); root='$root'; rust_jni_tests"

java_cmd=(java -Djava.library.path="$NATIVE_DIR"
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
    -Dzksession.launcher="$java_dir/run-zookeeper.sh"
    -Dzksession.python="$java_dir/src/test/python"
    -cp "$java_dir/build/zksession-tests.jar:$java_dir/build/zksession.jar:$ZK_CP:$LOG_CP:$JUNIT_CP")

run_suite "junit: SessionEngine and the tracker adapter" 300 "${java_cmd[@]}" org.zksession.RunTests \
    org.zksession.SessionEngineTest org.zksession.zookeeper.EngineSessionTrackerTest
run_suite "junit: end to end with ZooKeeper 3.8, zkCli and kazoo" 600 "${java_cmd[@]}" org.zksession.RunTests \
    org.zksession.zookeeper.EndToEndTest

suite_end
