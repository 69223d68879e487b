#!/usr/bin/env bash
# Tests of the namespace (unit and property tests, the committed ZooKeeper 3.8 trace, and
# a trace freshly recorded from the installed ZooKeeper with a new seed; TRACE_SEED fixes
# it) and of the server load generator (tools/loadgen): its framing and histogram unit
# tests, then a short smoke run against Debian's Apache ZooKeeper and zksessiond, checking
# that every session is established, pinged and closed without error. Bounded in time; the
# servers are stopped by scripts/bench-server.sh's own cleanup. Prints "N passed, M failed"
# last; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

trace="$(mktemp)"
trap 'rm -f "$trace"' EXIT

fresh_trace() {
    local seed="${TRACE_SEED:-$RANDOM}"
    echo "trace seed $seed"
    timeout 600 scripts/gen-namespace-trace.py "$seed" >"$trace" &&
        ZKS_NAMESPACE_TRACE="$trace" timeout 900 cargo test --lib namespace::tests::trace
}

# Every RESULT line of a short benchmark run: no failed handshake, no ping error, some
# pings answered, every session closed.
smoke_run() {
    local out results line bad=0 sessions closed
    out="$(SESSIONS=50,200 SECS=1 WARMUP=0 timeout 900 scripts/bench-server.sh)" || return 1
    echo "$out"
    results="$(grep '^RESULT ' <<<"$out" || true)"
    [[ -n "$results" ]] || { echo "no RESULT lines" >&2; return 1; }
    while read -r line; do
        for want in "failed=0" "ping_errors=0"; do
            if ! grep -q " $want " <<<"$line "; then
                echo "unexpected: $line" >&2
                bad=1
            fi
        done
        if grep -q ' pings_per_s=0.0 ' <<<"$line"; then
            echo "no pings answered: $line" >&2
            bad=1
        fi
        sessions="$(sed -E 's/.* sessions=([0-9]+) .*/\1/' <<<"$line")"
        closed="$(sed -E 's/.* closed=([0-9]+) .*/\1/' <<<"$line")"
        if [[ "$sessions" != "$closed" ]]; then
            echo "not every session closed: $line" >&2
            bad=1
        fi
    done <<<"$results"
    return "$bad"
}

suite "namespace unit and property tests" timeout 900 cargo test --lib namespace
suite "namespace against a fresh trace from the installed ZooKeeper" fresh_trace
suite "load generator unit tests" \
    timeout 900 cargo test --test loadgen_units
suite "load generator smoke run" smoke_run

suite_end
