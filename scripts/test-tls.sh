#!/usr/bin/env bash
# TLS client connections with real clients against zksessiond on loopback. The test makes
# its certificates with openssl (a CA, the server's PEM key store with 127.0.0.1 and
# localhost as names, two client certificates) and starts zksessiond with a plain
# clientPort and a secureClientPort, ssl.clientAuth=need and the x509 scheme. Then:
# - the ZooKeeper Java client (Netty socket, zookeeper.client.secure=true, PEM key and
#   trust stores) connects to the secure port, holds its session over several pings,
#   creates an ephemeral, reports its x509 identity with whoAmI, and goes away without
#   closing: the ephemeral must go when the session expires; it also creates a node with
#   an x509 ACL for itself and reads it; without a client certificate it is refused;
# - kazoo (use_ssl=True with ca/certfile/keyfile, tests/clients/tls_kazoo.py) does the
#   same: session held, x509 ACL admitting its certificate and denying another one and a
#   plain client, a client without a certificate refused, a plain client on the secure
#   port and a TLS client on the plain port failing, garbage before and during a TLS
#   handshake closing only that connection, and its live session undisturbed by all of
#   it; a killed kazoo child's ephemeral expires;
# - a bad key store is refused at start with a message naming the setting.
# ZKSESSIOND=path runs a given binary instead of the release build. Every process started
# is stopped by its pid. Prints "N passed, M failed" last; exits non-zero on any failure.
# Run from the repository root.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh
# shellcheck source=../bindings/java/classpath.sh
source bindings/java/classpath.sh

PYTHON=/usr/bin/python3
work=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # PORT: until it accepts TCP connections (30 s at most)
    for _ in $(seq 300); do
        "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),timeout=1)" \
            2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

if [[ -z "${ZKSESSIOND:-}" ]]; then
    echo "== building zksessiond"
    cargo build --release --bin zksessiond || exit 1
    ZKSESSIOND=./target/release/zksessiond
fi

echo "== certificates (openssl)"
certs=$work/certs
mkdir -p "$certs"
(
    cd "$certs" || exit 1
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    key ca.key
    openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=zksession test ca" \
        2>/dev/null
    sign() { # NAME SUBJECT EXTENSIONS
        key "$1.key"
        openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
        printf '%b' "$3" >"$1.ext"
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -out "$1.crt" -extfile "$1.ext" 2>/dev/null
        cat "$1.key" "$1.crt" >"$1.pem"
    }
    sign server "/CN=localhost" \
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    sign client "/C=US/O=zk, inc/CN=client" "extendedKeyUsage=clientAuth\n"
    sign other "/CN=other client" "extendedKeyUsage=clientAuth\n"
) || { fail "certificates"; suite_end; exit; }
[[ -s $certs/server.pem && -s $certs/client.pem && -s $certs/other.pem ]] &&
    pass "certificates" || { fail "certificates"; suite_end; exit; }

plain_port=$(free_port)
secure_port=$(free_port)
cat >"$work/zks.cfg" <<CFG
tickTime=500
clientPort=$plain_port
admin.enableServer=false
secureClientPort=$secure_port
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
ssl.keyStore.location=$certs/server.pem
ssl.keyStore.type=PEM
ssl.trustStore.location=$certs/ca.pem
ssl.trustStore.type=PEM
ssl.clientAuth=need
ssl.enabledProtocols=TLSv1.2,TLSv1.3
CFG

echo "== a bad key store is refused at start"
sed "s#^ssl.keyStore.location=.*#ssl.keyStore.location=$work/missing.pem#" "$work/zks.cfg" \
    >"$work/bad.cfg"
if timeout 20 "$ZKSESSIOND" --config "$work/bad.cfg" >"$work/bad.out" 2>&1; then
    fail "config:missing-key-store-refused" "started"
elif grep -q "ssl.keyStore.location" "$work/bad.out"; then
    pass "config:missing-key-store-refused"
else
    fail "config:missing-key-store-refused" "$(tail -n 2 "$work/bad.out")"
fi

echo "== zksessiond on 127.0.0.1:$plain_port (plain) and :$secure_port (TLS)"
RUST_LOG=info "$ZKSESSIOND" --config "$work/zks.cfg" 2>"$work/zks.log" &
zks_pid=$!
pids+=("$zks_pid")
wait_port "$plain_port" && wait_port "$secure_port" ||
    { fail "start:zksessiond"; cat "$work/zks.log"; suite_end; exit; }

echo "== the ZooKeeper Java client (Netty, TLS)"
mkdir -p "$work/java"
if javac -nowarn -d "$work/java" -cp "$ZK_CP" tests/clients/TlsJavaClient.java 2>"$work/javac.err"; then
    pass "java:compiled"
else
    fail "java:compiled"; sed 's/^/    /' "$work/javac.err"
fi
# The Netty socket needs Debian's netty jars (zookeeper.jar's manifest does not list them).
netty_cp=$(printf '/usr/share/java/netty-%s.jar:' buffer codec common handler resolver transport \
    transport-native-epoll transport-native-unix-common)
java_cp="$work/java:$ZK_CP:${netty_cp}/usr/share/java/slf4j-nop.jar"
java_tls=(-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty
    -Dzookeeper.client.secure=true
    "-Dzookeeper.ssl.trustStore.location=$certs/ca.pem" -Dzookeeper.ssl.trustStore.type=PEM)
java_cert=("-Dzookeeper.ssl.keyStore.location=$certs/client.pem" -Dzookeeper.ssl.keyStore.type=PEM)
jclient() { # MODE ARGS... (with the client certificate)
    timeout 60 java "${java_tls[@]}" "${java_cert[@]}" -cp "$java_cp" TlsJavaClient "$@"
}
jclient hold "127.0.0.1:$secure_port" /java-eph >"$work/java-hold.out" 2>&1
sed 's/^/    /' "$work/java-hold.out"
grep -q "^created /java-eph" "$work/java-hold.out" && grep -qx "held" "$work/java-hold.out" &&
    pass "java:tls-session-held" || fail "java:tls-session-held"
grep -qF "whoami ip=127.0.0.1 x509=CN=client,O=zk\\, inc,C=US" "$work/java-hold.out" &&
    pass "java:x509-identity" || fail "java:x509-identity"
# The Java client went away without closing: its session expires (timeout 2 s).
timeout 60 "$PYTHON" tests/clients/tls_kazoo.py gone "$secure_port" "$certs" /java-eph 20 \
    >"$work/java-gone.out" 2>&1
grep -qx "held" "$work/java-hold.out" && grep -q "^gone after" "$work/java-gone.out" &&
    pass "java:ephemeral-expires" ||
    { fail "java:ephemeral-expires"; sed 's/^/    /' "$work/java-gone.out"; }
jclient x509 "127.0.0.1:$secure_port" /java-x509 >"$work/java-x509.out" 2>&1
sed 's/^/    /' "$work/java-x509.out"
grep -qx "read mine" "$work/java-x509.out" && grep -q "^acl \[31,s{'x509,'CN=client" "$work/java-x509.out" &&
    pass "java:x509-acl" || fail "java:x509-acl"
timeout 60 java "${java_tls[@]}" -cp "$java_cp" TlsJavaClient refused "127.0.0.1:$secure_port" \
    >"$work/java-refused.out" 2>&1
grep -qx "refused" "$work/java-refused.out" && pass "java:no-certificate-refused" ||
    { fail "java:no-certificate-refused"; sed 's/^/    /' "$work/java-refused.out"; }

echo "== kazoo (use_ssl=True)"
timeout 120 "$PYTHON" tests/clients/tls_kazoo.py scenarios "$plain_port" "$secure_port" "$certs" \
    >"$work/kazoo.out" 2>"$work/kazoo.err"
cat "$work/kazoo.out"
tally "$work/kazoo.out"
grep -q "^PASS kazoo:live-session-undisturbed" "$work/kazoo.out" ||
    { fail "kazoo:ran-to-the-end"; tail -n 20 "$work/kazoo.err" | sed 's/^/    /'; }
# A kazoo client killed without closing: its ephemeral lives until the session expires.
"$PYTHON" tests/clients/tls_kazoo.py child "$secure_port" "$certs" /kz-child >"$work/child.out" 2>&1 &
child=$!
pids+=("$child")
for _ in $(seq 150); do grep -q "^ready" "$work/child.out" && break; sleep 0.1; done
kill -KILL "$child" 2>/dev/null
wait "$child" 2>/dev/null
timeout 60 "$PYTHON" tests/clients/tls_kazoo.py gone "$secure_port" "$certs" /kz-child 20 \
    >"$work/child-gone.out" 2>&1
grep -q "^ready" "$work/child.out" && grep -q "^gone after" "$work/child-gone.out" &&
    pass "kazoo:ephemeral-expires" ||
    { fail "kazoo:ephemeral-expires"; sed 's/^/    /' "$work/child.out" "$work/child-gone.out"; }

echo "== zksessiond after all of it"
kill -0 "$zks_pid" 2>/dev/null && pass "zksessiond:still-running" || fail "zksessiond:still-running"
conf=$("$PYTHON" - "$plain_port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"conf")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(out.decode())
PY
)
grep -qx "secureClientPort=$secure_port" <<<"$conf" && pass "4lw:conf-shows-secure-port" ||
    fail "4lw:conf-shows-secure-port"
grep -q "TLS failed; closing" "$work/zks.log" && pass "log:tls-failures-logged" ||
    fail "log:tls-failures-logged"

suite_end
