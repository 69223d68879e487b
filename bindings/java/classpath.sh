# Classpaths from Debian's jars (libzookeeper-java, junit4, slf4j); sourced by the scripts.
# zookeeper.jar's manifest lists its own dependencies (jute, netty, slf4j-api, ...).
# shellcheck disable=SC2034
ZK_CP="/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar"
# shellcheck disable=SC2034
LOG_CP="/usr/share/java/slf4j-simple.jar"
# shellcheck disable=SC2034
JUNIT_CP="/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar"
# shellcheck disable=SC2034
NATIVE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/release"
