#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every suite (Rust unit,
# integration, property and doc tests; loom models; C, Java and real-client suites).
# Prints one line per suite and a closing "N passed, M failed" line; exits non-zero if
# any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || { echo "setup failed"; exit 1; }

# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

export CARGO_TERM_COLOR=never
# The namespace suite records a fresh trace from the real ZooKeeper; a fixed seed keeps the
# run reproducible (set TRACE_SEED yourself to explore other seeds).
export TRACE_SEED="${TRACE_SEED:-20261122}"

suite "rustfmt" cargo fmt --all -- --check
suite "clippy" cargo clippy --all-targets --all-features -- -D warnings
suite "rust tests" cargo test
# Loom models: a separate target dir (RUSTFLAGS differ); opt-level 1 compiles quickly and
# keeps loom's coroutine stacks from overflowing as unoptimised code does. The models are
# the engine's, so the build is the engine alone (no server, client or tool binaries).
suite "loom models" env RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
  CARGO_PROFILE_DEV_OPT_LEVEL=1 LOOM_MAX_PREEMPTIONS=2 \
  cargo test --no-default-features --test loom_engine
# The full release build (zksessiond and the library with every default feature); the C
# and Java suites rebuild only this crate as their users get it (--no-default-features,
# plus --features jni for Java).
suite "release build" cargo build --release --bins --lib

suite "persist suite" scripts/test-persist.sh
suite "ecosystem suite" scripts/test-ecosystem.sh
suite "durable suite" scripts/test-durable.sh
for area in namespace c java ensemble server client; do
  suite "$area suite" "scripts/test-$area.sh"
done
# Faults injected at random (seeded) into zksessiond, then ZooKeeper 3.8 for comparison.
suite "soak (1 min a server)" scripts/soak.sh 1
suite "stall suite" scripts/test-stall.sh
suite "security suite" scripts/test-security.sh
suite "curator suite" scripts/test-curator.sh
suite "tls suite" scripts/test-tls.sh
suite "admin suite" scripts/test-admin.sh
suite "quota suite" scripts/test-quota.sh

suite_end
