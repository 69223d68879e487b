# The processes a test script starts and the scratch directory they share (sourced, not
# run). Every process a script starts is registered in `pids` and stopped by its pid when
# the script ends, however it ends.
#
#   procs_begin          makes "$work" (a fresh temporary directory), empties `pids` and
#                        traps EXIT, INT and TERM to stop every registered pid and remove
#                        "$work" (INT and TERM exit with 130, which runs the same stop).
#                        A script that has more to undo defines `procs_cleanup`
#                        (called after the stops, before "$work" goes).
#   pids+=("$pid")       registers a started process.
#   stop_pids PID...     stops processes: SIGCONT (a stopped process must run to act on
#                        SIGTERM), SIGTERM, up to $STOP_GRACE tenths of a second of grace
#                        each (default 50), then SIGKILL.
#   free_port            prints a loopback port nothing listens on now.
#   four PORT WORD       sends a four-letter word to 127.0.0.1:PORT, prints the answer.
#   wait_ruok PORT       returns 0 once the server at PORT answers `imok` (30 s at most).
#
# Uses $PYTHON (default /usr/bin/python3).

PYTHON="${PYTHON:-/usr/bin/python3}"

stop_pids() {
    local p
    for p in "$@"; do
        kill -CONT "$p" 2>/dev/null || true
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "$@"; do
        for _ in $(seq "${STOP_GRACE:-50}"); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
}

procs_end() {
    if ((${#pids[@]})); then stop_pids "${pids[@]}"; fi
    if declare -F procs_cleanup >/dev/null; then procs_cleanup || true; fi
    rm -rf "$work"
}

procs_begin() {
    work=$(mktemp -d)
    pids=()
    trap procs_end EXIT
    trap 'exit 130' INT TERM
}

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

wait_ruok() { # PORT → 0 once the server there answers imok
    "$PYTHON" - "$1" <<'PY'
import socket, sys, time
end = time.time() + 30
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        s.sendall(b"ruok")
        if s.recv(16) == b"imok":
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}
