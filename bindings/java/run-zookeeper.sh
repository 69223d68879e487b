#!/usr/bin/env bash
# Runs Apache ZooKeeper 3.8 (Debian's jars) from a standard zoo.cfg with the zksession engine
# as the session tracker, in the foreground, as zkServer.sh runs what the config says: a
# standalone server, or a quorum peer (server.N lines plus DATA_DIR/myid) whose leader,
# follower and observer servers all track sessions on the engine. A configuration the engine
# cannot serve (read-only mode) is refused with a message and exit code 2; nothing falls back
# to ZooKeeper's own tracker. SIGTERM or SIGINT stops it cleanly. Builds what it needs on
# first use.
# Usage: run-zookeeper.sh CONFIG   (extra JVM options may be passed in ZKS_JAVA_OPTS)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -ne 1 ]]; then
    echo "usage: $0 zoo.cfg" >&2
    exit 2
fi
# shellcheck source=classpath.sh
source "$here/classpath.sh"
"$here/build.sh" main
# exec: the JVM gets the signals directly and runs its shutdown hook.
# shellcheck disable=SC2086
exec java ${ZKS_JAVA_OPTS:-} -Djava.library.path="$NATIVE_DIR" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel="${ZKS_LOG_LEVEL:-info}" \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -cp "$here/build/zksession.jar:$ZK_CP:$LOG_CP" \
    org.zksession.zookeeper.EngineQuorumPeerMain "$1"
