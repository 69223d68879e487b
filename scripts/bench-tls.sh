#!/usr/bin/env bash
# TLS cost benchmark: ping throughput, server CPU per ping and TLS handshakes per second,
# over plaintext and over TLS, for zksessiond (release build) and for Apache ZooKeeper 3.8
# from Debian's packages with its Netty connection factory and secureClientPort, one
# server after the other in the same run, with the same load generator (`loadgen pings`
# and `loadgen handshakes`, rustls on the client side) and the same certificates (made
# here with openssl: an EC P-256 CA and server key, PEM key and trust stores for both
# servers, ssl.clientAuth=none). Server CPU is utime+stime from /proc/<pid>/stat before
# and after each phase. Prints the RESULT lines and a table of ratios; asserts nothing.
# Every server is stopped by its pid at the end, whatever happens.
#
# Environment knobs (defaults in brackets):
#   THREADS      client threads (one session, one request in flight each)  [16]
#   HS_THREADS   client threads of the handshake phase                     [8]
#   SECS         seconds per phase                                         [5]
#   ONLY         run only "zksessiond" or "zookeeper"                      [both]
#   ZKSESSIOND   a prebuilt zksessiond binary (else built here)
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="${THREADS:-16}"
HS_THREADS="${HS_THREADS:-8}"
SECS="${SECS:-5}"
ONLY="${ONLY:-}"
ZKSESSIOND="${ZKSESSIOND:-}"

# shellcheck source=lib/procs.sh
source scripts/lib/procs.sh
procs_begin
WORK=$work
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        stop_pids "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
procs_cleanup() { stop_server; }

echo "== building the load generator" >&2
cargo build --release --bin loadgen >&2
LOADGEN=target/release/loadgen

echo "== certificates (openssl)" >&2
certs="$WORK/certs"
mkdir -p "$certs"
(
    cd "$certs"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=bench ca" 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
    openssl req -new -key server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -out server.crt -extfile server.ext 2>/dev/null
    cat server.key server.crt >server.pem
)

RESULTS="$WORK/results"
: >"$RESULTS"

# Waits until the server hands out sessions on both ports (at most 60 s).
wait_serving() { # plain-port secure-port
    for _ in $(seq 1 120); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited during startup" >&2
            return 1
        fi
        if "$LOADGEN" probe "127.0.0.1:$1" 2>/dev/null &&
            "$LOADGEN" handshakes "127.0.0.1:$2" --threads 1 --secs 0.2 \
                --tls-ca "$certs/ca.pem" 2>/dev/null | grep -qv " ops=0 "; then
            return 0
        fi
        sleep 0.5
    done
    echo "server gave no session within 60 s" >&2
    return 1
}

write_cfg() { # file plain-port secure-port datadir
    cat >"$1" <<CFG
tickTime=2000
dataDir=$4
clientPort=$2
secureClientPort=$3
clientPortAddress=127.0.0.1
maxClientCnxns=0
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
ssl.keyStore.location=$certs/server.pem
ssl.keyStore.type=PEM
ssl.trustStore.location=$certs/ca.pem
ssl.trustStore.type=PEM
ssl.clientAuth=none
CFG
}

start_zksessiond() { # plain secure
    mkdir -p "$WORK/zks-data"
    write_cfg "$WORK/zks.cfg" "$1" "$2" "$WORK/zks-data"
    RUST_LOG=warn "$ZKSESSIOND" --config "$WORK/zks.cfg" >>"$WORK/zksessiond.log" 2>&1 &
    SERVER_PID=$!
}

start_zookeeper() { # plain secure
    local cp=/usr/share/java/zookeeper.jar
    cp="$cp:$(printf '/usr/share/java/netty-%s.jar:' buffer codec common handler resolver \
        transport transport-native-epoll transport-native-unix-common)"
    cp="$cp/usr/share/java/slf4j-nop.jar"
    rm -rf "$WORK/zk-data"
    mkdir -p "$WORK/zk-data"
    write_cfg "$WORK/zk.cfg" "$1" "$2" "$WORK/zk-data"
    echo "admin.enableServer=false" >>"$WORK/zk.cfg"
    java -Dzookeeper.admin.enableServer=false \
        -Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory \
        -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$WORK/zk.cfg" \
        >>"$WORK/zookeeper.log" 2>&1 &
    SERVER_PID=$!
}

phases() { # label port [TLS options...]: measured pings, then handshakes
    local label="$1" port="$2"
    shift 2
    timeout 300 "$LOADGEN" pings "127.0.0.1:$port" "$@" --threads "$THREADS" --secs "$SECS" \
        --pid "$SERVER_PID" --label "$label" | tee -a "$RESULTS"
    timeout 300 "$LOADGEN" handshakes "127.0.0.1:$port" "$@" --threads "$HS_THREADS" \
        --secs "$SECS" --pid "$SERVER_PID" --label "$label" | tee -a "$RESULTS"
}

bench_server() { # label
    local label="$1" plain secure tls
    plain="$(free_port)"
    secure="$(free_port)"
    "start_$label" "$plain" "$secure"
    wait_serving "$plain" "$secure" || { tail -n 20 "$WORK"/*.log >&2; return 1; }
    echo "== $label (pid $SERVER_PID): plain port $plain, TLS port $secure" >&2
    tls=(--tls-ca "$certs/ca.pem")
    # Unrecorded warm-up of both paths (JIT, allocator, session cache).
    timeout 120 "$LOADGEN" pings "127.0.0.1:$plain" --threads "$THREADS" --secs 2 >/dev/null
    timeout 120 "$LOADGEN" pings "127.0.0.1:$secure" --threads "$THREADS" --secs 2 "${tls[@]}" >/dev/null
    timeout 120 "$LOADGEN" handshakes "127.0.0.1:$secure" --threads "$HS_THREADS" --secs 2 \
        "${tls[@]}" >/dev/null
    phases "$label" "$plain"
    phases "$label" "$secure" "${tls[@]}"
    stop_server
}

if [[ -z "$ONLY" || "$ONLY" == zksessiond ]]; then
    if [[ -z "$ZKSESSIOND" ]]; then
        echo "== building zksessiond (release)" >&2
        cargo build --release --bin zksessiond >&2
        ZKSESSIOND=target/release/zksessiond
    fi
    bench_server zksessiond
fi
if [[ -z "$ONLY" || "$ONLY" == zookeeper ]]; then
    bench_server zookeeper
fi

echo
echo "== summary (server CPU in microseconds per operation; ratios TLS / plain)"
python3 - "$RESULTS" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "):
        continue
    kv = dict(p.split("=", 1) for p in line.split()[1:])
    rows[(kv["label"], kv["mode"], kv["transport"])] = kv
def f(v):
    try:
        return float(v)
    except ValueError:
        return None
print("%-11s %-10s %-6s %12s %10s %10s %14s" % ("server", "mode", "trans", "ops/s", "p50_us", "p99_us", "cpu_us/op"))
for (label, mode, trans), kv in sorted(rows.items()):
    print("%-11s %-10s %-6s %12s %10s %10s %14s" % (label, mode, trans, kv["ops_per_s"], kv["p50_us"], kv["p99_us"], kv["server_cpu_us_per_op"]))
print()
for label in sorted({k[0] for k in rows}):
    for mode in ("pings", "handshakes"):
        p, t = rows.get((label, mode, "plain")), rows.get((label, mode, "tls"))
        if p and t and f(p["server_cpu_us_per_op"]) and f(t["server_cpu_us_per_op"]):
            print("%-11s %-10s TLS/plain: throughput x%.2f, server CPU per op x%.2f (+%.1f us)" % (
                label, mode, f(t["ops_per_s"]) / f(p["ops_per_s"]),
                f(t["server_cpu_us_per_op"]) / f(p["server_cpu_us_per_op"]),
                f(t["server_cpu_us_per_op"]) - f(p["server_cpu_us_per_op"])))
for mode in ("pings", "handshakes"):
    z, k = rows.get(("zookeeper", mode, "tls")), rows.get(("zksessiond", mode, "tls"))
    if z and k and f(z["server_cpu_us_per_op"]) and f(k["server_cpu_us_per_op"]):
        print("TLS %-10s zksessiond / ZooKeeper: throughput x%.2f, server CPU per op x%.2f" % (
            mode, f(k["ops_per_s"]) / f(z["ops_per_s"]),
            f(k["server_cpu_us_per_op"]) / f(z["server_cpu_us_per_op"])))
PY
