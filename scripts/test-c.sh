#!/usr/bin/env bash
# Tests the C ABI: builds the library, checks include/zksession.h is what the sources
# generate, compiles every C test against the static and the shared library
# (-std=c11 -Wall -Wextra -Werror), runs them natively and under valgrind memcheck,
# checks the pkg-config file, and builds the example. Prints "N passed, M failed".
# The library is built as C users get it: --no-default-features (the engine and the C ABI
# only, no server or client).
#
# Usage: scripts/test-c.sh [--update-header]
#   --update-header  copy the freshly generated header over include/zksession.h first.
# Environment: CC (default cc), VALGRIND=0 to skip the valgrind runs.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CC=${CC:-cc}
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pthread -I"$ROOT/include" -I"$ROOT/bindings/c/tests")
STATIC_LIBS=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
LIB="$ROOT/target/release"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

echo "== building the library (cargo build --release --lib --no-default-features)"
cargo build --release --lib --no-default-features --message-format=json-render-diagnostics \
    >"$WORK/build.json"
OUT_DIR=$(jq -r 'select(.reason == "build-script-executed" and (.package_id | test("zksession"))) | .out_dir' \
    "$WORK/build.json" | tail -1)
GENERATED="$OUT_DIR/zksession.h"

if [[ "${1:-}" == "--update-header" ]]; then
    cp "$GENERATED" include/zksession.h
    echo "updated include/zksession.h"
fi

echo "== header"
check "header is generated" test -s "$GENERATED"
check "committed header matches the sources" diff -u include/zksession.h "$GENERATED"
check "header compiles alone as C99 (pedantic)" \
    "$CC" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -x c include/zksession.h
if command -v c++ >/dev/null; then
    check "header compiles as C++" c++ -std=c++11 -Wall -Wextra -Werror -fsyntax-only -x c++ include/zksession.h
fi

echo "== C tests"
for src in bindings/c/tests/test_*.c; do
    name=$(basename "$src" .c)
    check "$name builds (static)" "$CC" "${CFLAGS[@]}" "$src" "$LIB/libzksession.a" "${STATIC_LIBS[@]}" -o "$WORK/$name.static"
    check "$name builds (shared)" "$CC" "${CFLAGS[@]}" "$src" -L"$LIB" -lzksession -Wl,-rpath,"$LIB" -o "$WORK/$name.shared"
    for kind in static shared; do
        [[ -x "$WORK/$name.$kind" ]] || continue
        check "$name runs ($kind)" "$WORK/$name.$kind"
        if [[ "${VALGRIND:-1}" != 0 ]]; then
            check "$name under valgrind ($kind)" valgrind -q --error-exitcode=1 --leak-check=full \
                --errors-for-leak-kinds=definite,indirect "$WORK/$name.$kind"
        fi
    done
done

echo "== pkg-config"
mkdir -p "$WORK/pc"
sed -e "s|@PREFIX@|$ROOT|" -e "s|@LIBDIR@|$LIB|" -e "s|@INCLUDEDIR@|$ROOT/include|" \
    -e "s|@VERSION@|$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)|" zksession.pc.in >"$WORK/pc/zksession.pc"
if PKG_CONFIG_PATH="$WORK/pc" pkg-config --exists zksession; then
    read -r -a PC_FLAGS <<<"$(PKG_CONFIG_PATH="$WORK/pc" pkg-config --cflags --libs zksession)"
    check "test_api builds and runs via pkg-config" bash -c \
        "\"$CC\" ${CFLAGS[*]} bindings/c/tests/test_api.c ${PC_FLAGS[*]} -Wl,-rpath,$LIB -o $WORK/pc/test_api && $WORK/pc/test_api"
else
    fail "pkg-config reads zksession.pc"
fi

echo "== example"
check "event_loop example builds (static)" "$CC" -std=c11 -Wall -Wextra -Werror -I"$ROOT/include" \
    bindings/c/examples/event_loop.c "$LIB/libzksession.a" "${STATIC_LIBS[@]}" -o "$WORK/event_loop"
check "bench_touch builds (static)" "$CC" -std=c11 -O2 -Wall -Wextra -Werror -I"$ROOT/include" \
    bindings/c/bench/bench_touch.c "$LIB/libzksession.a" "${STATIC_LIBS[@]}" -o "$WORK/bench_touch"

echo "== the library carries no server or client"
check "libzksession.a has no server, client or mio symbols" \
    bash -c "! nm -C '$LIB/libzksession.a' 2>/dev/null | grep -qE 'zksession::(server|client|namespace|wire)|mio::'"

suite_end
