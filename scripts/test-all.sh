#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every suite (Rust unit,
# integration, property and doc tests; loom models; C, Java and real-client suites).
# Prints one line per suite and a closing "N passed, M failed" line; exits non-zero if
# any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || { echo "setup failed"; exit 1; }

passed=0
failed=0
failures=()

suite() {
  local name=$1; shift
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

export CARGO_TERM_COLOR=never
# The namespace suite records a fresh trace from the real ZooKeeper; a fixed seed keeps the
# run reproducible (set TRACE_SEED yourself to explore other seeds).
export TRACE_SEED="${TRACE_SEED:-20261122}"

suite "rustfmt" cargo fmt --all -- --check
suite "clippy" cargo clippy --all-targets --all-features -- -D warnings
suite "rust tests" cargo test
# Loom models: a separate target dir (RUSTFLAGS differ); opt-level 1 compiles quickly and
# keeps loom's coroutine stacks from overflowing as unoptimised code does.
suite "loom models" env RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
  CARGO_PROFILE_DEV_OPT_LEVEL=1 LOOM_MAX_PREEMPTIONS=2 cargo test --test loom_engine
# One release build serves the C, server and client suites (the Java suite adds the JNI
# exports with --features jni, which rebuilds only this crate).
suite "release build" cargo build --release --bins --lib

suite "persist suite" scripts/test-persist.sh
for area in namespace c java server client; do
  if [ -x "scripts/test-$area.sh" ]; then
    suite "$area suite" "scripts/test-$area.sh"
  fi
done
suite "stall suite" scripts/test-stall.sh

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed suites: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
