#!/usr/bin/env bash
# Tests of zksessiond's durability (a dataDir in ZooKeeper 3.8's format):
#  1. Rust integration tests (tests/server_durable.rs): restart keeps znodes, ACLs,
#     sequence counters, zxids, sessions and ephemerals; sessions that never return
#     expire after a restart; the log cut inside its last records or with a flipped byte;
#     an injected disk-full failure acknowledges nothing; group commit under concurrent
#     writers; snapshots, log rolls, fallback from a damaged snapshot, purge; fuzzy
#     snapshots taken while writers go on restore the tree node for node; null data
#     stays null across a snapshot; zksession.passwordMode=zookeeper sessions resume;
#  2. kazoo against the binary (scripts/durable-check.py): restart and session
#     resumption with id + password; kill -9 during a write load from several client
#     processes, three rounds: every acknowledged create present, nothing unrequested;
#  3. with Debian's Apache ZooKeeper 3.8, both ways: a dataDir ZooKeeper wrote through
#     kazoo opened by zksessiond (every digest ZooKeeper recorded matching) and compared
#     node by node; a dataDir zksessiond wrote opened by ZooKeeper (which logs no digest
#     mismatch, while a copy with one logged digest off by one is reported) and
#     compared node by node, and read by TxnLogToolkit and SnapshotFormatter; a kazoo client holding a session (and an ephemeral) on
#     ZooKeeper is carried over to zksessiond (zksession.passwordMode=zookeeper) on the
#     same dataDir and resumes it with its id + password.
# Bounded in time; every server is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."

export ZK_CLASSPATH="${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar}"
TOOLS_CP="$ZK_CLASSPATH:/usr/share/java/zookeeper-jute.jar:/usr/share/java/commons-cli.jar"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== durable integration tests" >&2
timeout 600 cargo test --test server_durable

echo "== building zksessiond" >&2
timeout 900 cargo build --bin zksessiond
bin=target/debug/zksessiond

echo "== restart and session resumption (kazoo)" >&2
mkdir "$work/restart"
timeout 300 scripts/durable-check.py restart "$bin" "$work/restart"

echo "== kill -9 under a write load from several clients" >&2
mkdir "$work/kill9"
timeout 300 scripts/durable-check.py kill9 "$bin" "$work/kill9" 3

echo "== a dataDir written by Apache ZooKeeper, opened by zksessiond" >&2
mkdir "$work/from-zk"
timeout 300 scripts/persist-zk-fixture.py "$work/from-zk"
timeout 300 scripts/durable-check.py from-zk "$bin" "$work/from-zk"

echo "== a session opened under Apache ZooKeeper, resumed by its client on zksessiond" >&2
mkdir "$work/resume"
timeout 300 scripts/durable-check.py resume-from-zk "$bin" "$work/resume"

echo "== a dataDir written by zksessiond, opened by Apache ZooKeeper and its tools" >&2
mkdir "$work/to-zk"
timeout 300 scripts/durable-check.py to-zk "$bin" "$work/to-zk"
v2="$work/to-zk/data/version-2"
for f in "$v2"/log.*; do
    out="$(timeout 120 java -cp "$TOOLS_CP" org.apache.zookeeper.server.persistence.TxnLogToolkit "$f")"
    grep -q "EOF reached after" <<<"$out" || { echo "TxnLogToolkit cannot read $f" >&2; echo "$out" >&2; exit 1; }
done
for f in "$v2"/snapshot.*; do
    out="$(timeout 120 java -cp "$TOOLS_CP" org.apache.zookeeper.server.SnapshotFormatter "$f")"
    grep -q "ZNode Details (count=" <<<"$out" || { echo "SnapshotFormatter cannot read $f" >&2; exit 1; }
done
echo "ZooKeeper's tools read $(ls "$v2" | wc -l) files written by zksessiond" >&2

echo "== no start-up above found a tree digest not matching" >&2
if grep -h "digest mismatch" "$work"/*/zksessiond.log; then
    echo "zksessiond found digests not matching at a start-up" >&2; exit 1
fi
