#!/usr/bin/env bash
# Tests of the namespace (unit and property tests, the committed ZooKeeper 3.8 trace, and
# a trace freshly recorded from the installed ZooKeeper with a new seed; TRACE_SEED fixes
# it) and of the server load generator:
# its framing/histogram unit tests, then a short smoke run of benches/loadgen against
# Debian's Apache ZooKeeper (and zksessiond when this tree has it), checking that every
# session is established, pinged and closed without error. Bounded in time; the servers
# are stopped by scripts/bench-server.sh's own cleanup.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== namespace unit and property tests" >&2
timeout 900 cargo test --lib namespace
echo "== namespace against a fresh trace from the installed ZooKeeper" >&2
trace="$(mktemp)"
trap 'rm -f "$trace"' EXIT
seed="${TRACE_SEED:-$RANDOM}"
echo "trace seed $seed" >&2
timeout 600 scripts/gen-namespace-trace.py "$seed" >"$trace"
ZKS_NAMESPACE_TRACE="$trace" timeout 900 cargo test --lib namespace::tests::trace

echo "== load generator unit tests" >&2
timeout 900 cargo test --test loadgen_units

echo "== load generator smoke run" >&2
out="$(SESSIONS=50,200 SECS=1 WARMUP=0 timeout 900 scripts/bench-server.sh)"
echo "$out"
results="$(grep '^RESULT ' <<<"$out" || true)"
[[ -n "$results" ]] || { echo "no RESULT lines" >&2; exit 1; }
bad=0
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
exit "$bad"
