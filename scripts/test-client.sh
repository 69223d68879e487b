#!/usr/bin/env bash
# Tests of the Rust ZooKeeper client: unit tests (parser, host provider, session state
# machine under a scripted transport) and integration tests against real Apache
# ZooKeeper 3.8 servers started from Debian's jars on free loopback ports, and against
# zksessiond. Prints "N passed, M failed" last; exits non-zero on any failure.
#
# Usage: scripts/test-client.sh            (from the repository root)
# Env:   ZK_CLASSPATH    override the server classpath
#        CLIENT_TEST_TIMEOUT  overall bound in seconds (default 900)
set -uo pipefail

cd "$(dirname "$0")/.."

BOUND="${CLIENT_TEST_TIMEOUT:-900}"
export ZK_CLASSPATH="${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar}"

for jar in ${ZK_CLASSPATH//:/ }; do
    [[ -f "$jar" ]] || { echo "missing $jar (install zookeeper and libslf4j-java)" >&2; exit 1; }
done
command -v java >/dev/null || { echo "java not found" >&2; exit 1; }

pgid=""
cleanup() {
    # The tests stop their servers through Drop guards; this catches an aborted run.
    if [[ -n "$pgid" ]]; then
        kill -TERM -- "-$pgid" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

run_bounded() {
    set -m
    "$@" &
    pgid=$!
    set +m
    local waited=0
    while kill -0 "$pgid" 2>/dev/null; do
        if (( waited >= BOUND * 10 )); then
            echo "test-client: timed out after ${BOUND}s" >&2
            cleanup
            return 124
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    local rc=0
    wait "$pgid" || rc=$?
    pgid=""
    return "$rc"
}

# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

suite "client unit tests" run_bounded cargo test --lib client::
suite "client examples build" run_bounded cargo build --example zkcli --example zklatency
suite "client integration tests against Apache ZooKeeper" \
    run_bounded cargo test --test client_zookeeper -- --ignored --test-threads=3
suite "zkcli against Apache ZooKeeper" run_bounded cargo test --test client_cli -- --ignored
suite "zksessiond builds" run_bounded cargo build --bin zksessiond
suite "client integration tests against zksessiond" \
    run_bounded cargo test --test client_zksessiond -- --ignored --test-threads=3

suite_end
