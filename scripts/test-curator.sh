#!/usr/bin/env bash
# Apache Curator (Debian's libcurator-*-java) against zksessiond and against Apache
# ZooKeeper 3.8 in the same run: InterProcessMutex with its holder's JVM killed,
# LeaderLatch failover, CuratorCache events, DistributedAtomicLong, PersistentNode
# re-created after session loss, ServiceDiscovery, and the containers the recipes leave
# (and a TTL node) reaped. Both servers run with extended types on and
# znode.container.checkIntervalMs=500 (ZooKeeper reads it as a system property); the two
# result lists must be identical. Last, a data directory written by ZooKeeper (an emptied
# container, a TTL node) is loaded by zksessiond, which must reap both. (kazoo is not used: Debian's kazoo 2.8 cannot create
# TTL or container nodes; the Rust client's TTL tests are in tests/server_reaper.rs.)
# Starts both
# servers on free loopback ports, stops them by pid, prints "N passed, M failed" and
# exits non-zero on any failure. Run from the repository root.
#
# Env: ZKSESSIOND  a zksessiond binary to use instead of building the release one.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
J=/usr/share/java
CP="$J/curator-client.jar:$J/curator-framework.jar:$J/curator-recipes.jar:$J/curator-x-discovery.jar"
CP="$CP:$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/guava.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar"
CP="$CP:$J/jackson-databind.jar:$J/jackson-core.jar:$J/jackson-annotations.jar"
ZK_CLASSPATH="${ZK_CLASSPATH:-$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-nop.jar}"
TICK_MS=200
CHECK_MS=500

for jar in ${CP//:/ }; do
    [[ -f "$jar" ]] || { echo "missing $jar (run scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ruok() { # port → 0 once the server answers
    "$PYTHON" - "$1" <<'PY'
import socket, sys, time
end = time.time() + 30
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        s.sendall(b"ruok")
        if s.recv(16) == b"imok":
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

if [[ -z "${ZKSESSIOND:-}" ]]; then
    echo "== building zksessiond"
    cargo build --release --bin zksessiond
    ZKSESSIOND=./target/release/zksessiond
fi

echo "== compiling the Curator program"
mkdir -p "$work/classes"
javac -d "$work/classes" -cp "$CP" tests/clients/curator/CuratorSuite.java

ours=$(free_port)
mkdir -p "$work/ours"
cat >"$work/ours.cfg" <<CFG
tickTime=$TICK_MS
clientPort=$ours
clientPortAddress=127.0.0.1
admin.enableServer=false
dataDir=$work/ours
4lw.commands.whitelist=ruok
extendedTypesEnabled=true
znode.container.checkIntervalMs=$CHECK_MS
CFG
RUST_LOG=info "$ZKSESSIOND" --config "$work/ours.cfg" 2>"$work/ours.log" &
pids+=($!)

theirs=$(free_port)
mkdir -p "$work/zk"
cat >"$work/zk.cfg" <<CFG
tickTime=$TICK_MS
clientPort=$theirs
clientPortAddress=127.0.0.1
dataDir=$work/zk
4lw.commands.whitelist=ruok
admin.enableServer=false
extendedTypesEnabled=true
CFG
java -Dzookeeper.admin.enableServer=false -Dzookeeper.extendedTypesEnabled=true \
    -Dznode.container.checkIntervalMs=$CHECK_MS -cp "$ZK_CLASSPATH" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk.cfg" >"$work/zk.log" 2>&1 &
pids+=($!)

wait_ruok "$ours" && pass "zksessiond:started" || { fail "zksessiond:started"; cat "$work/ours.log" >&2; }
wait_ruok "$theirs" && pass "zookeeper:started" || { fail "zookeeper:started"; tail "$work/zk.log" >&2; }

run_curator() { # label port
    echo "== Curator against $1"
    timeout 180 java -cp "$work/classes:$CP" CuratorSuite "127.0.0.1:$2" \
        >"$work/curator-$1.out" 2>"$work/curator-$1.err" || true
    sed "s/^PASS /PASS $1:/; s/^FAIL /FAIL $1:/" "$work/curator-$1.out" \
        | grep -E '^(PASS|FAIL) ' | tee "$work/curator-$1.tally"
    tally "$work/curator-$1.tally"
    grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$work/curator-$1.out" \
        || { fail "curator:$1:finished" "no result line"; tail -20 "$work/curator-$1.err" >&2; }
}
# The two servers one after the other: the program's timings stay those of one server.
run_curator zookeeper "$theirs"
run_curator zksessiond "$ours"

if diff <(grep -E '^(PASS|FAIL) ' "$work/curator-zookeeper.out" | sed 's/:.*//' ) \
        <(grep -E '^(PASS|FAIL) ' "$work/curator-zksessiond.out" | sed 's/:.*//'); then
    pass "curator:same-results-on-both"
else
    fail "curator:same-results-on-both"
fi

echo "== a data directory written by Apache ZooKeeper, loaded by zksessiond"
# ZooKeeper writes the nodes with its reaper held off; zksessiond loads its files and reaps.
seed_port=$(free_port)
mkdir -p "$work/seed"
cat >"$work/seed.cfg" <<CFG
tickTime=$TICK_MS
clientPort=$seed_port
clientPortAddress=127.0.0.1
dataDir=$work/seed
4lw.commands.whitelist=ruok
admin.enableServer=false
CFG
java -Dzookeeper.admin.enableServer=false -Dzookeeper.extendedTypesEnabled=true \
    -Dznode.container.checkIntervalMs=3600000 -cp "$ZK_CLASSPATH" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$work/seed.cfg" >"$work/seed.log" 2>&1 &
seed_pid=$!
pids+=("$seed_pid")
if wait_ruok "$seed_port" \
    && timeout 60 java -cp "$work/classes:$CP" CuratorSuite seed "127.0.0.1:$seed_port" \
        >"$work/seed.out" 2>&1; then
    kill -TERM "$seed_pid"
    wait "$seed_pid" 2>/dev/null || true
    loaded_port=$(free_port)
    sed -e "s/^clientPort=.*/clientPort=$loaded_port/" -e '/^admin/d' "$work/seed.cfg" >"$work/loaded.cfg"
    printf 'extendedTypesEnabled=true\nznode.container.checkIntervalMs=%s\nadmin.enableServer=false\n' "$CHECK_MS" >>"$work/loaded.cfg"
    RUST_LOG=info "$ZKSESSIOND" --config "$work/loaded.cfg" 2>"$work/loaded.log" &
    pids+=($!)
    if wait_ruok "$loaded_port"; then
        timeout 60 java -cp "$work/classes:$CP" CuratorSuite reaped "127.0.0.1:$loaded_port" \
            >"$work/loaded.out" 2>&1 || true
        grep -E '^(PASS|FAIL) ' "$work/loaded.out" | sed 's/^\(PASS\|FAIL\) /\1 zksessiond:/' \
            | tee "$work/loaded.tally"
        tally "$work/loaded.tally"
        grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$work/loaded.out" \
            || { fail "recovered:finished" "no result line"; tail -20 "$work/loaded.out" >&2; }
    else
        fail "recovered:zksessiond-started"
        tail -20 "$work/loaded.log" >&2
    fi
else
    fail "recovered:seeded-by-zookeeper"
    tail -20 "$work/seed.out" "$work/seed.log" >&2
fi

suite_end
