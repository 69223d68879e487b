#!/usr/bin/env bash
# The fault-injection soak: zksessiond, then Apache ZooKeeper 3.8 for comparison, each for
# MINUTES with the same seed, many client processes (kazoo and the Rust client) and faults
# injected at random; prints both runs side by side. See docs/soak.md.
#
#   scripts/soak.sh MINUTES        (test-all.sh runs 1; a release runs 60 or more)
#
# Env: SOAK_SEED (default 20261201), SOAK_SERVERS (default "zksessiond zookeeper"),
#      SOAK_KAZOO / SOAK_RUST (client processes, default 6 / 2), SOAK_OUT (a directory to
#      keep the JSON figures and server logs in; default a temporary one, removed).
# Exit status: non-zero when an invariant failed on zksessiond (ZooKeeper's figures are
# for comparison only) or a run could not complete.
set -uo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-}
if ! [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "usage: scripts/soak.sh MINUTES" >&2
    exit 2
fi
seed=${SOAK_SEED:-20261201}
servers=${SOAK_SERVERS:-zksessiond zookeeper}
seconds=$(/usr/bin/python3 -c "print(int(float('$minutes') * 60))")

work=$(mktemp -d)
out=${SOAK_OUT:-$work}
mkdir -p "$out"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT INT TERM

echo "== building zksessiond and the Rust soak client"
cargo build --release --bin zksessiond --example soakworker || exit 1

status=0
files=()
for server in $servers; do
    echo "== soak: $server, $seconds s, seed $seed"
    mkdir -p "$out/$server"
    # The run stops every process it started (by pid); the outer timeout only bounds it.
    timeout $((seconds + 300)) /usr/bin/python3 scripts/soak/soak.py run --server "$server" \
        --seconds "$seconds" --seed "$seed" --work "$out/$server" --out "$out/$server.json" \
        --kazoo "${SOAK_KAZOO:-6}" --rust "${SOAK_RUST:-2}"
    rc=$?
    if [[ -f "$out/$server.json" ]]; then
        files+=("$out/$server.json")
    else
        echo "soak: the $server run did not complete" >&2
        tail -n 20 "$out/$server/server.log" >&2 2>/dev/null
        rc=1
    fi
    if [[ $rc -ne 0 && "$server" == zksessiond ]]; then
        status=1
        # What the server and the fault injector were doing: the first look at a failure.
        echo "soak: last faults and server log lines of the failed run" >&2
        tail -n 20 "$out/$server/faults.log" >&2 2>/dev/null
        tail -n 60 "$out/$server/server.log" >&2 2>/dev/null
    fi
done
echo
[[ ${#files[@]} -gt 0 ]] && /usr/bin/python3 scripts/soak/soak.py report "${files[@]}"
exit $status
