#!/usr/bin/env bash
# ACLs and authentication with real clients, against zksessiond and Debian's Apache
# ZooKeeper 3.8 side by side on loopback: the kazoo scenarios of
# scripts/security-scenarios.py (digest with right and wrong passwords, each permission bit
# on each operation, `auth` ACLs, the super user, setACL versions, getACL redaction, the
# `ip` scheme, watches without READ, multi rollback, an unknown addauth scheme, SASL
# DIGEST-MD5 with right and wrong passwords and the `sasl` scheme) and zkCli (addauth,
# setAcl, getAcl, and SASL from a JAAS Client section) must give the same answers from
# both servers; so must `enforce.auth` (a second pair of servers requiring a digest
# identity). Then zksessiond
# alone: failed authentications logged with the peer address and counted in mntr, and no
# four-letter word shows a digest. ZKSESSIOND=path runs a given binary instead of the
# release build. Every process started is stopped by its pid. Prints
# "N passed, M failed" last; exits non-zero on any failure. Run from the repository root.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/suite.sh
source scripts/lib/suite.sh

PYTHON=/usr/bin/python3
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
SUPER_PASSWORD=super-secret-$RANDOM

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

four() { # PORT WORD → stdout
    "$PYTHON" - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode())
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
PY
}

wait_port() { # PORT: until it answers ruok-free TCP connects (30 s at most)
    for _ in $(seq 300); do
        "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),timeout=1)" \
            2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ZKSESSIOND names an already built binary; by default the release build is made and used.
if [[ -z "${ZKSESSIOND:-}" ]]; then
    echo "== building zksessiond"
    cargo build --release --bin zksessiond || exit 1
    ZKSESSIOND=./target/release/zksessiond
fi

super_digest=$("$PYTHON" -c "from kazoo.security import make_digest_acl_credential as m; print(m('super', '$SUPER_PASSWORD'))")
alice_digest=$("$PYTHON" -c "from kazoo.security import make_digest_acl_credential as m; print(m('alice', 'pw'))")

zk_port=$(free_port)
zks_port=$(free_port)
mkdir -p "$work/zkdata"
# SASL DIGEST-MD5: the user bob in a JAAS Server section, for both servers; the JAAS
# Client section is zkCli's.
cat >"$work/jaas-server.conf" <<'JAAS'
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_bob="bobpw";
};
JAAS
cat >"$work/jaas-client.conf" <<'JAAS'
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="bobpw";
};
JAAS
cat >"$work/zk.cfg" <<CFG
tickTime=2000
dataDir=$work/zkdata
clientPort=$zk_port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
CFG
cat >"$work/zks.cfg" <<CFG
tickTime=2000
clientPort=$zks_port
clientPortAddress=127.0.0.1
admin.enableServer=false
maxClientCnxns=0
4lw.commands.whitelist=*
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
CFG

cp=/usr/share/java/zookeeper.jar
[[ -e /usr/share/java/slf4j-nop.jar ]] && cp="$cp:/usr/share/java/slf4j-nop.jar"
echo "== starting Apache ZooKeeper on 127.0.0.1:$zk_port and zksessiond on 127.0.0.1:$zks_port"
java -Dzookeeper.admin.enableServer=false "-Djava.security.auth.login.config=$work/jaas-server.conf" \
    "-Dzookeeper.DigestAuthenticationProvider.superDigest=$super_digest" \
    -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk.cfg" \
    >"$work/zk.log" 2>&1 &
pids+=($!)
# The super digest and the JAAS file through the environment, under ZooKeeper's system
# property names.
env "zookeeper.DigestAuthenticationProvider.superDigest=$super_digest" \
    "java.security.auth.login.config=$work/jaas-server.conf" RUST_LOG=info \
    "$ZKSESSIOND" --config "$work/zks.cfg" 2>"$work/zks.log" &
zks_pid=$!
pids+=("$zks_pid")
wait_port "$zk_port" || { fail "start:zookeeper"; suite_end; exit; }
wait_port "$zks_port" || { fail "start:zksessiond"; suite_end; exit; }

echo "== kazoo scenarios on both servers"
timeout 300 "$PYTHON" scripts/security-scenarios.py "127.0.0.1:$zk_port" "$SUPER_PASSWORD" sasl \
    >"$work/zk.out" 2>"$work/zk.err" &
zk_client=$!
timeout 300 "$PYTHON" scripts/security-scenarios.py "127.0.0.1:$zks_port" "$SUPER_PASSWORD" sasl \
    >"$work/zks.out" 2>"$work/zks.err"
wait "$zk_client"
steps=$(wc -l <"$work/zk.out")
if [[ $steps -lt 150 ]]; then
    fail "kazoo:zookeeper-ran" "only $steps steps"; tail -n 20 "$work/zk.err" | sed 's/^/    /'
fi
# Each step: the same answer as ZooKeeper's.
while IFS= read -r line; do
    step=${line%% *}
    mine=$(grep -m1 "^$step " "$work/zks.out" || true)
    if [[ "$mine" == "$line" ]]; then pass "kazoo:$step"; else
        fail "kazoo:$step" "zookeeper: '$line' zksessiond: '$mine'"; fi
done <"$work/zk.out"
# The answers are not vacuous: denials and successes both occur.
grep -q "^anon:w:get NoAuthError$" "$work/zks.out" && grep -q "^alice:w:set ok True$" "$work/zks.out" \
    && grep -q "^super:get ok" "$work/zks.out" && grep -q "^sasl:read ok s$" "$work/zks.out" \
    && grep -q "^sasl:anon-read NoAuthError$" "$work/zks.out" \
    && pass "kazoo:denials-and-grants-seen" || fail "kazoo:denials-and-grants-seen"

echo "== zkCli addauth / setAcl / getAcl, and SASL from a JAAS Client section, on both servers"
zkcli() { # PORT COMMANDS [JVM FLAGS] → the lines that carry answers
    printf '%s\nquit\n' "$2" | CLIENT_JVMFLAGS="${3:-}" timeout 120 "$ZKCLI" -server "127.0.0.1:$1" 2>&1 |
        grep -E "^'|^: |Insufficient permission|Created /|Authentication is not valid|KeeperErrorCode|InvalidACL|not valid|^data-|^s-1" || true
}
owner_cmds="addauth digest alice:pw
create /zkc data-1 digest:$alice_digest:cdrwa
getAcl /zkc
setAcl -v 0 /zkc digest:$alice_digest:cdrwa,world:anyone:r
setAcl -v 0 /zkc world:anyone:r
getAcl /zkc
get /zkc"
other_cmds="getAcl /zkc
get /zkc
set /zkc other
setAcl /zkc world:anyone:cdrwa
addauth digest alice:wrong
set /zkc other
addauth digest alice:pw
set /zkc data-2
get /zkc"
# The Java client authenticating with SASL DIGEST-MD5 from its JAAS Client section.
sasl_cmds="create /zkc-sasl s-1 sasl:bob:cdrwa
getAcl /zkc-sasl
get /zkc-sasl"
for port in "$zk_port" "$zks_port"; do
    { zkcli "$port" "$owner_cmds"; echo "--"; zkcli "$port" "$other_cmds"; echo "--"
      zkcli "$port" "$sasl_cmds" "-Djava.security.auth.login.config=$work/jaas-client.conf"
      echo "--"; zkcli "$port" "get /zkc-sasl"; } >"$work/zkcli-$port.out"
done
if diff "$work/zkcli-$zk_port.out" "$work/zkcli-$zks_port.out" >"$work/zkcli.diff" &&
    grep -q "Insufficient permission" "$work/zkcli-$zks_port.out" &&
    grep -q "^'digest,'alice:" "$work/zkcli-$zks_port.out" &&
    grep -qx "s-1" "$work/zkcli-$zks_port.out" && grep -q "^'sasl,'bob" "$work/zkcli-$zks_port.out"; then
    pass "zkcli:same-answers"
    sed 's/^/    /' "$work/zkcli-$zks_port.out"
else
    fail "zkcli:same-answers"
    sed 's/^/    /' "$work/zkcli.diff"
    sed 's/^/    zksessiond: /' "$work/zkcli-$zks_port.out"
fi

echo "== zksessiond: failed authentications and four-letter words"
# One more failed addauth, from a client whose local port we know.
timeout 60 "$PYTHON" - "$zks_port" >"$work/bad.out" 2>"$work/bad.err" <<'PY'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=f"127.0.0.1:{sys.argv[1]}", timeout=5)
zk.start(timeout=10)
try:
    zk.add_auth_async("nosuchscheme", "user:password-in-clear").get(timeout=10)
    print("accepted", flush=True)
except Exception as e:
    print(type(e).__name__, flush=True)
finally:
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass
PY
grep -qx AuthFailedError "$work/bad.out" && pass "addauth:unknown-scheme-fails" \
    || fail "addauth:unknown-scheme-fails" "$(cat "$work/bad.out" "$work/bad.err" | tail -n 5)"
failed=$(four "$zks_port" mntr | awk -F'\t' '$1=="zks_auth_failed_count"{print $2}')
if [[ -n "$failed" && "$failed" -ge 2 ]]; then pass "mntr:auth-failed-counted"; else
    fail "mntr:auth-failed-counted" "zks_auth_failed_count=$failed"; fi
grep -E "authentication failed.*peer=127\.0\.0\.1:[0-9]+" "$work/zks.log" >/dev/null \
    && pass "log:auth-failure-with-peer" || fail "log:auth-failure-with-peer"
grep -E "SASL authentication failed.*peer=127\.0\.0\.1:[0-9]+" "$work/zks.log" >/dev/null \
    && pass "log:sasl-failure-with-peer" || fail "log:sasl-failure-with-peer"
secrets=("$SUPER_PASSWORD" "${super_digest#super:}" "${alice_digest#alice:}" "password-in-clear"
    "bobpw" "not-the-password")
leak=0
for w in mntr srvr stat cons dump wchs conf envi; do
    out=$(four "$zks_port" "$w" 2>/dev/null || true)
    for s in "${secrets[@]}"; do
        if grep -qF -- "$s" <<<"$out"; then leak=1; echo "    $w shows a secret"; fi
    done
done
for s in "${secrets[@]}"; do
    if grep -qF -- "$s" "$work/zks.log"; then leak=1; echo "    the log shows a secret"; fi
done
[[ $leak == 0 ]] && pass "4lw-and-log:no-secrets" || fail "4lw-and-log:no-secrets"
kill -0 "$zks_pid" 2>/dev/null && pass "zksessiond:still-running" || fail "zksessiond:still-running"

echo "== enforce.auth: both servers again, requiring a digest identity"
zk2_port=$(free_port)
zks2_port=$(free_port)
mkdir -p "$work/zkdata2"
cat >"$work/zk2.cfg" <<CFG
tickTime=2000
dataDir=$work/zkdata2
clientPort=$zk2_port
clientPortAddress=127.0.0.1
admin.enableServer=false
CFG
cat >"$work/zks2.cfg" <<CFG
tickTime=2000
clientPort=$zks2_port
clientPortAddress=127.0.0.1
admin.enableServer=false
enforce.auth.enabled=true
enforce.auth.schemes=digest
CFG
java -Dzookeeper.admin.enableServer=false -Dzookeeper.enforce.auth.enabled=true \
    -Dzookeeper.enforce.auth.schemes=digest \
    -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk2.cfg" \
    >"$work/zk2.log" 2>&1 &
pids+=($!)
RUST_LOG=info "$ZKSESSIOND" --config "$work/zks2.cfg" 2>"$work/zks2.log" &
pids+=($!)
enforce_run() { # PORT → one line per step
    timeout 120 "$PYTHON" - "127.0.0.1:$1" 2>/dev/null <<'PY'
import sys
from kazoo.client import KazooClient
def run(step, fn):
    try:
        print(step, "ok", fn(), flush=True)
    except Exception as e:
        print(step, type(e).__name__, flush=True)
for name, auth in (("anon", None), ("digest", [("digest", "a:b")])):
    zk = KazooClient(hosts=sys.argv[1], timeout=5, auth_data=auth)
    run(name + ":start", lambda: zk.start(timeout=8))
    run(name + ":exists", lambda: zk.exists_async("/").get(timeout=5) is not None)
    run(name + ":create", lambda: zk.create_async("/e-" + name, b"").get(timeout=5))
    zk.stop()
    zk.close()
PY
}
if wait_port "$zk2_port" && wait_port "$zks2_port"; then
    enforce_run "$zk2_port" >"$work/enf-zk.out"
    enforce_run "$zks2_port" >"$work/enf-zks.out"
    if diff "$work/enf-zk.out" "$work/enf-zks.out" >/dev/null &&
        grep -q "^digest:create ok /e-digest$" "$work/enf-zks.out" &&
        ! grep -q "^anon:create ok" "$work/enf-zks.out" &&
        grep -q "before the required authentication" "$work/zks2.log"; then
        pass "enforce-auth:same-answers"
    else
        fail "enforce-auth:same-answers"
        paste "$work/enf-zk.out" "$work/enf-zks.out" | sed 's/^/    /'
    fi
else
    fail "enforce-auth:servers-started"
fi

if [[ $SUITE_FAILED -gt 0 ]]; then
    echo "--- zksessiond log (tail)"; tail -n 30 "$work/zks.log" | sed 's/^/  /'
fi
suite_end
