#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine (idempotent, quick when
# already installed): the real ZooKeeper server, its Java client and zkCli, the C client
# (cli_mt), kazoo, JUnit, Apache Curator (framework, recipes, discovery), valgrind and
# pkg-config, plus the Rust components CI checks with.
set -euo pipefail

packages=(
  zookeeper zookeeper-bin libzookeeper-java libzookeeper-mt-dev
  python3-kazoo junit4 valgrind pkg-config default-jdk-headless procps jq g++
  libcurator-framework-java libcurator-recipes-java libcurator-discovery-java
  zktop python3-pyte python3-prometheus-client
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! cargo fmt --version >/dev/null 2>&1; then rustup component add rustfmt; fi
if ! cargo clippy --version >/dev/null 2>&1; then rustup component add clippy; fi
echo "setup: ok"
