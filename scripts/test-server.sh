#!/usr/bin/env bash
# Tests zksessiond with real ZooKeeper clients: kazoo (python3-kazoo), zkCli.sh (Java,
# Debian's zookeeper package) and cli_mt (the C client, zookeeper-bin).
# Builds the release binary, starts it on a free loopback port with a short tickTime,
# runs every client, stops everything it started, prints "N passed, M failed" and exits
# non-zero on any failure. Run from the repository root.
set -euo pipefail

cd "$(dirname "$0")/.."
TICK_MS=200
PYTHON=/usr/bin/python3
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
CLI_MT=/usr/lib/zookeeper/bin/cli_mt

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

echo "== building zksessiond"
cargo build --release --bin zksessiond

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/zoo.cfg" <<CFG
tickTime=$TICK_MS
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
dataDir=$work/data
4lw.commands.whitelist=*
CFG

four() { # four-letter word → stdout
    "$PYTHON" - "$port" "$1" <<'PY'
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

echo "== starting zksessiond on 127.0.0.1:$port (tickTime $TICK_MS ms)"
RUST_LOG=${RUST_LOG:-info} ./target/release/zksessiond --config "$work/zoo.cfg" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
    if [[ "$(four ruok 2>/dev/null)" == "imok" ]]; then break; fi
    sleep 0.1
done
if [[ "$(four ruok 2>/dev/null)" == "imok" ]]; then pass "server:ruok"; else
    fail "server:ruok" "server did not start"; cat "$work/server.log" >&2; exit 1; fi

echo "== kazoo"
timeout 600 "$PYTHON" tests/clients/kazoo_tests.py "127.0.0.1:$port" "$TICK_MS" 2>"$work/kazoo.err" \
    | tee "$work/kazoo.out" || true
tally "$work/kazoo.out"
grep -q "^PASS kazoo:" "$work/kazoo.out" || { fail "kazoo" "no kazoo test ran"; cat "$work/kazoo.err" >&2; }

echo "== zkCli.sh"
zk_out=$( (printf 'create -e /zkcli-eph hello\nls /\nget /zkcli-eph\nstat /zkcli-eph\nquit\n') \
    | timeout 120 "$ZKCLI" -server "127.0.0.1:$port" 2>&1 || true)
grep -q "Created /zkcli-eph" <<<"$zk_out" && pass "zkcli:create-ephemeral" || fail "zkcli:create-ephemeral"
grep -q "^\[.*zkcli-eph.*\]" <<<"$zk_out" && pass "zkcli:ls" || fail "zkcli:ls"
grep -qx "hello" <<<"$zk_out" && pass "zkcli:get" || fail "zkcli:get"
grep -q "ephemeralOwner = 0x[1-9a-f]" <<<"$zk_out" && pass "zkcli:stat" || fail "zkcli:stat"
# zkCli closed its session on quit: the ephemeral is gone.
gone=$(printf 'stat /zkcli-eph\nquit\n' | timeout 120 "$ZKCLI" -server "127.0.0.1:$port" 2>&1 || true)
grep -q "Node does not exist" <<<"$gone" && pass "zkcli:ephemeral-gone-after-quit" \
    || fail "zkcli:ephemeral-gone-after-quit"

echo "== cli_mt (C client)"
c_out=$( (printf 'create +e /cmt-eph\n'; sleep 1; printf 'ls /\n'; sleep 0.5; printf 'get /cmt-eph\n';
          sleep 0.5; printf 'exists /cmt-eph\n'; sleep 0.5; printf 'quit\n') \
    | timeout 60 "$CLI_MT" -h "127.0.0.1:$port" 2>&1 || true)
grep -q "CONNECTED_STATE" <<<"$c_out" && pass "cli_mt:connect" || fail "cli_mt:connect"
grep -q "^\[/cmt-eph\]: rc = 0" <<<"$c_out" && pass "cli_mt:create-ephemeral" || fail "cli_mt:create-ephemeral"
grep -q "	cmt-eph" <<<"$c_out" && pass "cli_mt:ls" || fail "cli_mt:ls"
grep -q "^/cmt-eph: rc = 0" <<<"$c_out" && pass "cli_mt:get" || fail "cli_mt:get"
grep -q "ephemeralOwner" <<<"$c_out" && pass "cli_mt:stat" || fail "cli_mt:stat"

echo "== four-letter words"
mntr=$(four mntr)
for key in zk_num_alive_connections zk_global_sessions zk_ephemerals_count zks_expiry_lag_p99_ms; do
    grep -q "^$key	" <<<"$mntr" && pass "4lw:mntr:$key" || fail "4lw:mntr:$key"
done
echo "$mntr" | grep -E '^zks_|^zk_(global|local)_sessions|^zk_stale' | sed 's/^/  /'
four srvr | grep -q "Mode: standalone" && pass "4lw:srvr" || fail "4lw:srvr"
four dump | grep -q "SessionTracker dump:" && pass "4lw:dump" || fail "4lw:dump"

if kill -0 "$server_pid" 2>/dev/null; then pass "server:still-running"; else fail "server:still-running"; fi

echo "== stopping zksessiond (SIGTERM)"
kill -TERM "$server_pid"
stopped=0
for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || { stopped=1; break; }; sleep 0.1; done
if [[ $stopped == 1 ]] && wait "$server_pid"; then pass "server:clean-sigterm-exit"; else
    fail "server:clean-sigterm-exit"; fi
server_pid=""

if [[ $SUITE_FAILED -gt 0 ]]; then
    echo "--- server log (tail)"; tail -n 40 "$work/server.log" | sed 's/^/  /'
fi
suite_end
