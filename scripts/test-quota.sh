#!/usr/bin/env bash
# ZooKeeper 3.8's quotas and zksessiond's memory budget with a real client (zkCli, the
# Java client of Debian's zookeeper package). zksessiond and Apache ZooKeeper 3.8 run side
# by side on loopback, both enforcing hard limits (`zookeeper.enforceQuota`); the same
# zkCli session (setquota -n/-b/-N/-B, listquota, delquota, nested quotas refused, the
# limits and stats nodes read back, creates and setData past soft and hard limits) must
# print the same answers on both. Then zksessiond alone with a small
# `zksession.memoryBudget`: zkCli's writes past it fail with "Quota has exceeded" while
# reads and a second client go on, and the server stays up. ZKSESSIOND=path runs a given
# binary instead of the release build. Every process started is stopped by its pid.
# Prints "N passed, M failed" last; exits non-zero on any failure. Run from the
# repository root.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

PYTHON=/usr/bin/python3
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
ZK_CLASSPATH="${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar}"

work=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # PORT: until it accepts TCP connections (30 s at most)
    for _ in $(seq 300); do
        "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1)" \
            2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# The lines of a zkCli session that carry answers (no banners, times or zxids).
zkcli() { # PORT COMMANDS
    printf '%s\nquit\n' "$2" | timeout 120 "$ZKCLI" -server "127.0.0.1:$1" 2>&1 |
        grep -E "^Output |^Created |^Quota |^quota |quota$|has a child|has a parent|^count=|^/|does not exist|^absolute path|Exception|KeeperErrorCode|^dataVersion|^dataLength|^numChildren|^[0-9a-z]+$" || true
}

if [[ -z "${ZKSESSIOND:-}" ]]; then
    echo "== building zksessiond"
    cargo build --release --bin zksessiond || exit 1
    ZKSESSIOND=./target/release/zksessiond
fi

zk_port=$(free_port)
zks_port=$(free_port)
mkdir -p "$work/zkdata"
cat >"$work/zk.cfg" <<CFG
tickTime=2000
clientPort=$zk_port
clientPortAddress=127.0.0.1
dataDir=$work/zkdata
admin.enableServer=false
CFG
cat >"$work/zks.cfg" <<CFG
tickTime=2000
clientPort=$zks_port
clientPortAddress=127.0.0.1
zookeeper.enforceQuota=true
CFG

echo "== starting Apache ZooKeeper 3.8 (127.0.0.1:$zk_port) and zksessiond (127.0.0.1:$zks_port)"
java -Dzookeeper.admin.enableServer=false -Dzookeeper.enforceQuota=true -cp "$ZK_CLASSPATH" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk.cfg" >"$work/zk.log" 2>&1 &
pids+=($!)
RUST_LOG=info "$ZKSESSIOND" --config "$work/zks.cfg" 2>"$work/zks.log" &
zks_pid=$!
pids+=("$zks_pid")
wait_port "$zk_port" && pass "zookeeper:started" || { fail "zookeeper:started"; tail "$work/zk.log"; }
wait_port "$zks_port" && pass "zksessiond:started" || { fail "zksessiond:started"; tail "$work/zks.log"; }

echo "== zkCli setquota / listquota / delquota and enforcement, on both servers"
quota_cmds="setquota -n 2 /missing
listquota /missing
delquota /missing
create /q
create /q/a x
setquota -n 3 /q
listquota /q
get /zookeeper/quota/q/zookeeper_limits
get /zookeeper/quota/q/zookeeper_stats
ls -R /zookeeper
setquota -b 10 /q
listquota /q
create /q/b 0123456789
create /q/c 0123456789012345678901
set /q/a 0123456789012345678901234
create /q/d
listquota /q
stat /zookeeper/quota/q/zookeeper_stats
create /q/sub
setquota -n 5 /q/sub
delquota -n /q
listquota /q
delquota /q
listquota /q
ls -R /zookeeper
create /h
setquota -N 3 /h
listquota /h
create /h/a 12345
create /h/b
create /h/c
get /zookeeper/quota/h/zookeeper_stats
delete /h/b
create /h/c
ls /h
delquota -N /h
create /h/d
listquota /h
create /hb
setquota -B 10 /hb
get /zookeeper/quota/hb/zookeeper_limits
create /hb/a 12345
create /hb/b 123456
set /hb/a 123456789
set /hb/a 1234567890123
get /hb/a
set /hb/a 1
listquota /hb
create /hb/sub
setquota -n 5 /hb/sub
delete /hb/a
delete /hb/sub
delete /hb
listquota /hb
delquota /hb
listquota /hb"
for port in "$zk_port" "$zks_port"; do
    zkcli "$port" "$quota_cmds" >"$work/quota-$port.out"
done
if diff "$work/quota-$zk_port.out" "$work/quota-$zks_port.out" >"$work/quota.diff" &&
    grep -q "^Output stat for /q count=6,bytes=57$" "$work/quota-$zks_port.out" &&
    grep -q "^Quota has exceeded : /h/c$" "$work/quota-$zks_port.out" &&
    grep -q "^Quota has exceeded : /hb/b$" "$work/quota-$zks_port.out" &&
    grep -q "has a child /q/sub which has a quota\|has a parent" "$work/quota-$zks_port.out"; then
    pass "zkcli:quota-same-answers"
    sed 's/^/    /' "$work/quota-$zks_port.out"
else
    fail "zkcli:quota-same-answers"
    echo "    diff (ZooKeeper 3.8 < > zksessiond):"
    sed 's/^/    /' "$work/quota.diff"
fi
grep -q "quota exceeded (hard limit)" "$work/zks.log" && pass "zksessiond:hard-limit-logged" \
    || fail "zksessiond:hard-limit-logged"
grep -q "quota exceeded (soft limit)" "$work/zks.log" && pass "zksessiond:soft-limit-logged" \
    || fail "zksessiond:soft-limit-logged"

echo "== zksessiond with a small memory budget"
budget_port=$(free_port)
cat >"$work/budget.cfg" <<CFG
tickTime=2000
clientPort=$budget_port
clientPortAddress=127.0.0.1
zksession.memoryBudget=160k
CFG
RUST_LOG=info "$ZKSESSIOND" --config "$work/budget.cfg" 2>"$work/budget.log" &
budget_pid=$!
pids+=("$budget_pid")
wait_port "$budget_port" || fail "zksessiond(budget):started"
chunk=$(head -c 16384 /dev/zero | tr '\0' 'z')
budget_cmds="create /keep small"
for i in $(seq 12); do
    budget_cmds+=$'\n'"create /big$i $chunk"
done
budget_cmds+=$'\n'"set /keep $chunk$chunk"$'\n'"get /keep"$'\n'"ls /"
zkcli "$budget_port" "$budget_cmds" | cut -c1-80 >"$work/budget.out"
sed 's/^/    /' "$work/budget.out"
created=$(grep -c "^Created /big" "$work/budget.out")
if grep -q "^Quota has exceeded : /big" "$work/budget.out" && [[ $created -ge 5 && $created -lt 12 ]] &&
    grep -q "^Quota has exceeded : /keep$" "$work/budget.out" && grep -qx "small" "$work/budget.out"; then
    pass "budget:writes-refused-reads-go-on ($created of 12 nodes of 16 KiB under 160 KiB)"
else
    fail "budget:writes-refused-reads-go-on"
fi
# Another client, after the refusals: reads, and a write that fits once room is made.
zkcli "$budget_port" "get /keep
delete /big1
create /after fits
ls /" >"$work/budget2.out"
grep -qx "small" "$work/budget2.out" && grep -q "^Created /after$" "$work/budget2.out" \
    && pass "budget:other-client-goes-on" || { fail "budget:other-client-goes-on"; cat "$work/budget2.out"; }
[[ $(grep -c "memory budget exhausted" "$work/budget.log") -ge 1 ]] && pass "budget:refusal-logged" \
    || fail "budget:refusal-logged"
echo "== quotas across a restart of a durable zksessiond (usage rebuilt from the tree)"
durable_port=$(free_port)
mkdir -p "$work/durable"
cat >"$work/durable.cfg" <<CFG
tickTime=2000
clientPort=$durable_port
clientPortAddress=127.0.0.1
dataDir=$work/durable
zookeeper.enforceQuota=true
CFG
start_durable() {
    RUST_LOG=info "$ZKSESSIOND" --config "$work/durable.cfg" 2>>"$work/durable.log" &
    durable_pid=$!
    pids+=("$durable_pid")
    wait_port "$durable_port"
}
start_durable || fail "zksessiond(durable):started"
zkcli "$durable_port" "create /d
setquota -N 4 /d
create /d/a 123
create /d/b 45
set /d/a 1234567
create /d/c
create /d/e
listquota /d" >"$work/durable-1.out"
kill -TERM "$durable_pid"
for _ in $(seq 100); do kill -0 "$durable_pid" 2>/dev/null || break; sleep 0.1; done
start_durable || fail "zksessiond(durable):restarted"
zkcli "$durable_port" "listquota /d
create /d/f
delete /d/c
listquota /d" >"$work/durable-2.out"
sed 's/^/    /' "$work/durable-1.out" "$work/durable-2.out"
if grep -q "^Quota has exceeded : /d/e$" "$work/durable-1.out" &&
    [[ $(grep -c "^Output stat for /d count=4,bytes=9$" "$work/durable-2.out") == 1 ]] &&
    grep -q "^Quota has exceeded : /d/f$" "$work/durable-2.out" &&
    grep -q "^Output stat for /d count=3,bytes=9$" "$work/durable-2.out"; then
    pass "durable:quota-usage-after-restart"
else
    fail "durable:quota-usage-after-restart"
fi

kill -0 "$budget_pid" 2>/dev/null && kill -0 "$zks_pid" 2>/dev/null && pass "zksessiond:still-running" \
    || fail "zksessiond:still-running"

suite_end
exit
