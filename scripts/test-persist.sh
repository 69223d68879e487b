#!/usr/bin/env bash
# Tests of the persist module (ZooKeeper 3.8's on-disk format): unit tests (every txn
# type, torn and damaged logs at every byte offset, snapshot seals, names, padding);
# then, with Debian's Apache ZooKeeper 3.8:
#  1. ZooKeeper writes a dataDir driven by kazoo (scripts/persist-zk-fixture.py); the
#     Rust test decodes every log and snapshot, re-encodes them byte for byte, checks
#     every stored digest by replaying, and compares the tree with what kazoo read;
#     ZooKeeper's last log cut at every offset of its last records, and with a flipped
#     byte, keeps every whole record before the damage and reports its offset;
#  2. the Rust writer makes a dataDir; ZooKeeper's TxnLogToolkit and SnapshotFormatter
#     read it, and ZooKeeper itself starts on it and serves its nodes.
# Bounded in time; every server is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."

export ZK_CLASSPATH="${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar}"
TOOLS_CP="$ZK_CLASSPATH:/usr/share/java/zookeeper-jute.jar:/usr/share/java/commons-cli.jar"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== persist unit tests" >&2
timeout 900 cargo test --lib persist::

echo "== files written by Apache ZooKeeper, decoded" >&2
mkdir "$work/zk"
timeout 300 scripts/persist-zk-fixture.py "$work/zk"
ZKS_PERSIST_ZK_DIR="$work/zk" timeout 900 cargo test --test persist_zookeeper -- \
    --ignored zookeeper

echo "== files written by zksession, read by ZooKeeper's tools and server" >&2
mkdir "$work/ours"
ZKS_PERSIST_OUT_DIR="$work/ours" timeout 900 cargo test --test persist_zookeeper -- \
    --ignored writes_a_data_dir
v2="$work/ours/data/version-2"
log="$(timeout 120 java -cp "$TOOLS_CP" org.apache.zookeeper.server.persistence.TxnLogToolkit "$v2/log.1")"
echo "$log"
for want in "createSession 30000" "create2 /ours,written by zksession" "create /ours/locked,s3cret" \
    "createContainer /box" "multi create:" "error -110" "setACL '/box/item" "delete '/gone" \
    "closeSession v{}" "EOF reached after 13 txns."; do
    grep -qF -- "$want" <<<"$log" || { echo "TxnLogToolkit did not print: $want" >&2; exit 1; }
done
snap="$(timeout 120 java -cp "$TOOLS_CP" org.apache.zookeeper.server.SnapshotFormatter "$v2/snapshot.d")"
for want in "ZNode Details (count=10):" "/ours/ephemeral" "/box/item" "/ours/locked" \
    "ephemeralOwner = 0x100000000000002" "0x100000000000002, 40000, 1"; do
    grep -qF -- "$want" <<<"$snap" || { echo "SnapshotFormatter did not print: $want" >&2; echo "$snap" >&2; exit 1; }
done
timeout 300 scripts/persist-zk-fixture.py --check-ours "$work/ours"

echo "== zkdump over both dataDirs" >&2
timeout 900 cargo run -q --example zkdump -- "$work/zk/data/version-2" "$v2" >/dev/null
echo "test-persist: OK"
