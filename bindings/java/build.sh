#!/usr/bin/env bash
# Builds what the Java bindings need, skipping what is up to date:
#   the native library (cargo build --release --features jni),
#   build/zksession.jar (the API, the ZooKeeper adapter and the server main),
#   build/zksession-tests.jar and build/zksession-bench.jar (with `all`),
#   build/javadoc (with `docs`; fails on any doclint warning).
# Usage: build.sh [all|docs]. Prints nothing on success but cargo's and javac's own output.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=classpath.sh
source "$here/classpath.sh"
what="${1:-main}"

(cd "$root" && cargo build --release --lib --no-default-features --features jni --quiet)

# javac_jar NAME SRC_DIR CLASSPATH: compiles SRC_DIR into build/NAME.jar if any source is newer.
javac_jar() {
    local name="$1" src="$2" cp="$3"
    local jar="$here/build/$name.jar" out="$here/build/classes-$name"
    if [[ -f "$jar" ]] && [[ -z "$(find "$src" -newer "$jar" -type f -print -quit)" ]] \
        && [[ -z "$(find "$here/src/main" -newer "$jar" -type f -print -quit)" ]]; then
        return 0
    fi
    rm -rf "$out"
    mkdir -p "$out"
    find "$src" -name '*.java' > "$here/build/$name.sources"
    javac -Xlint:all,-serial,-options,-path -Werror --release 17 -d "$out" -cp "$cp" "@$here/build/$name.sources"
    jar --create --file "$jar" -C "$out" .
}

mkdir -p "$here/build"
javac_jar zksession "$here/src/main/java" "$ZK_CP"
if [[ "$what" == all ]]; then
    javac_jar zksession-tests "$here/src/test/java" "$here/build/zksession.jar:$ZK_CP:$JUNIT_CP"
    javac_jar zksession-bench "$here/src/bench/java" "$here/build/zksession.jar:$ZK_CP"
fi
if [[ "$what" == docs ]]; then
    javadoc -quiet -Xdoclint:all -Werror -d "$here/build/javadoc" -cp "$ZK_CP" \
        -sourcepath "$here/src/main/java" -subpackages org.zksession 2> >(grep -v 'bad path element' >&2)
fi
