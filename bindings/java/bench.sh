#!/usr/bin/env bash
# Benchmark: ZooKeeper's SessionTrackerImpl against the engine-backed tracker in one JVM
# (touchSession throughput at 1M sessions with 1 and 2 threads, the batch call, and bytes
# per session). Builds what it needs first.
# Usage: bench.sh [sessions] [touchesPerThread] [repetitions]   (defaults 1000000 2000000 5)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=classpath.sh
source "$here/classpath.sh"
"$here/build.sh" all
# A fixed, pre-touched heap keeps heap growth out of the RSS deltas that measure native memory.
exec java -Xms3g -Xmx3g -XX:+AlwaysPreTouch -XX:+UseParallelGC \
    -Djava.library.path="$NATIVE_DIR" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$here/build/zksession-bench.jar:$here/build/zksession.jar:$ZK_CP:$LOG_CP" \
    org.zksession.bench.TrackerBench "$@"
