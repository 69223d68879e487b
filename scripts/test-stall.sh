#!/usr/bin/env bash
# A stall of the server is not the clients' silence: 40 kazoo clients (session timeout 6 s,
# one ephemeral each) on zksessiond; the server is stopped with SIGSTOP for 9 s and resumed,
# then the same again with 40 new clients and 15 s.
# Every client kept trying to reach it the whole time, so every session must survive with
# its ephemeral, and the server must count the stall (mntr zks_stalls, when it reports it).
#
# Builds the release binary (or uses $ZKSESSIOND), runs on a free loopback port, stops
# every process it started by its pid, prints "N passed, M failed" and exits non-zero on
# any failure. Run from the repository root.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
CLIENTS=${CLIENTS:-40}
TIMEOUT_S=${TIMEOUT_S:-6}
# The issue's 9 s, and 15 s, where an engine without stall credit loses about half of them.
STOP_S=${STOP_S:-9 15}

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        # A stopped process must be continued before it can act on SIGTERM.
        kill -CONT "$server_pid" 2>/dev/null || true
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    # STALL_LOG=file keeps the server's log for a look afterwards.
    if [[ -n "${STALL_LOG:-}" && -f "$work/server.log" ]]; then cp "$work/server.log" "$STALL_LOG"; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

results="$work/results"
: >"$results"
pass() { echo "PASS $1" | tee -a "$results"; }
fail() { echo "FAIL $1${2:+: $2}" | tee -a "$results"; }

server=${ZKSESSIOND:-}
if [[ -z "$server" ]]; then
    echo "== building zksessiond"
    cargo build --release --bin zksessiond
    server=./target/release/zksessiond
fi

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/zoo.cfg" <<CFG
tickTime=2000
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
dataDir=$work/data
maxClientCnxns=0
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

echo "== starting zksessiond on 127.0.0.1:$port"
RUST_LOG=${RUST_LOG:-info} "$server" --config "$work/zoo.cfg" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
    if [[ "$(four ruok 2>/dev/null)" == "imok" ]]; then break; fi
    sleep 0.1
done
if [[ "$(four ruok 2>/dev/null)" == "imok" ]]; then pass "stall:server-up"; else
    fail "stall:server-up" "server did not start"; cat "$work/server.log" >&2; exit 1; fi

echo "== $CLIENTS kazoo clients (timeout ${TIMEOUT_S} s); SIGSTOP for each of: ${STOP_S} s; SIGCONT"
timeout 600 "$PYTHON" - "127.0.0.1:$port" "$server_pid" "$CLIENTS" "$TIMEOUT_S" $STOP_S \
    2>"$work/kazoo.err" <<'PY' | tee -a "$results" || true
import logging, os, signal, sys, time
from kazoo.client import KazooClient, KazooState

hosts, pid, n, timeout_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
stops = [float(x) for x in sys.argv[5:]]
logging.basicConfig(level=logging.CRITICAL)

def round_(r, stop_s):
    tag = "stall:%gs" % stop_s
    clients, lost = [], [False] * n
    for i in range(n):
        c = KazooClient(hosts=hosts, timeout=timeout_s)
        def listener(state, i=i):
            if state == KazooState.LOST:
                lost[i] = True
        c.add_listener(listener)
        c.start(timeout=30)
        clients.append(c)
    base = "/stall/r%d" % r
    clients[0].ensure_path(base)
    ids = []
    for i, c in enumerate(clients):
        c.create("%s/c%d" % (base, i), b"x", ephemeral=True)
        ids.append(c.client_id[0])
    print("PASS %s:%d-sessions-with-ephemerals" % (tag, n), flush=True)

    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(stop_s)
    finally:
        os.kill(pid, signal.SIGCONT)
    resumed = time.monotonic()

    # Every client reconnects to its session, or loses it (expired).
    deadline = resumed + 60
    def settled(i, c):
        return lost[i] or (c.connected and c.client_id[0] == ids[i])
    while time.monotonic() < deadline and not all(settled(i, c) for i, c in enumerate(clients)):
        time.sleep(0.1)
    expired = [i for i in range(n) if lost[i] or clients[i].client_id[0] != ids[i]]
    same = [i for i, c in enumerate(clients) if i not in expired and c.connected]
    print("  %gs stop: %d of %d sessions expired, %d reconnected to their session "
          "(%.1f s after SIGCONT)" % (stop_s, len(expired), n, len(same),
                                       time.monotonic() - resumed), flush=True)
    if not expired and len(same) == n:
        print("PASS %s:no-session-expired" % tag, flush=True)
    else:
        print("FAIL %s:no-session-expired: %d expired" % (tag, len(expired)), flush=True)

    # Every session still owns its ephemeral: a client that never saw the stall checks.
    check = KazooClient(hosts=hosts, timeout=10.0)
    check.start(timeout=30)
    children = set(check.get_children(base))
    kept = [i for i in range(n) if "c%d" % i in children
            and check.exists("%s/c%d" % (base, i)).ephemeralOwner == ids[i]]
    if len(kept) == n:
        print("PASS %s:ephemerals-kept" % tag, flush=True)
    else:
        print("FAIL %s:ephemerals-kept: %d of %d" % (tag, len(kept), n), flush=True)
    check.stop(); check.close()
    for c in clients:
        try:
            c.stop(); c.close()
        except Exception:
            pass

for r, stop_s in enumerate(stops):
    round_(r, stop_s)
PY
grep -q "^PASS stall:.*-sessions-with-ephemerals" "$results" || {
    fail "stall:clients" "the kazoo clients did not start"; tail -n 20 "$work/kazoo.err" >&2; }

mntr=$(four mntr 2>/dev/null || true)
stalls=$(awk -F'\t' '$1 == "zks_stalls" { print $2 }' <<<"$mntr")
if [[ -z "$stalls" ]]; then
    echo "  (mntr does not report zks_stalls)"
elif [[ "$stalls" -ge $(wc -w <<<"$STOP_S") ]]; then
    pass "stall:counted ($stalls stall(s), $(awk -F'\t' '$1 == "zks_stalled_ms" { print $2 }' <<<"$mntr") ms)"
else
    fail "stall:counted" "zks_stalls is $stalls for $(wc -w <<<"$STOP_S") stops"
fi

if kill -0 "$server_pid" 2>/dev/null; then pass "stall:server-still-running"; else
    fail "stall:server-still-running"; fi

passed=$(grep -c '^PASS' "$results" || true)
failed=$(grep -c '^FAIL' "$results" || true)
if [[ $failed -gt 0 ]]; then
    echo "--- server log (tail)"; tail -n 20 "$work/server.log" | sed 's/^/  /'
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
