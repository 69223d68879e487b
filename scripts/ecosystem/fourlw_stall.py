"""Measures whether four-letter words stall other clients (issue: a word's work on the
event loop). Not a pass/fail test: it prints figures.

Usage: fourlw_stall.py PORT [WATCHES] [SECONDS]

Registers WATCHES data watches (exists with watch on missing paths, pipelined over one raw
connection), then for SECONDS measures another client's `exists` round trip alone, and
again while a third thread repeats `wchs`, `wchc`, `wchp`, `dump` and `mntr`. Prints the
latency percentiles of both runs and each word's answer time.
"""

import socket
import struct
import sys
import threading
import time


def frame(body):
    return struct.pack(">i", len(body)) + body


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError
        buf += d
    return buf


def read_frame(s):
    (n,) = struct.unpack(">i", read_exact(s, 4))
    return read_exact(s, n)


def session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(frame(struct.pack(">iqiqi", 0, 0, 30000, 0, 16) + b"\0" * 16))
    read_frame(s)
    return s


def exists(xid, path, watch):
    p = path.encode()
    return frame(struct.pack(">ii", xid, 3) + struct.pack(">i", len(p)) + p + bytes([watch]))


def four(port, word):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(word.encode())
    out = b""
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        out += d
    return out


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0.0


def main():
    port = int(sys.argv[1])
    watches = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    w = session(port)
    batch = 5000
    for start in range(0, watches, batch):
        n = min(batch, watches - start)
        w.sendall(b"".join(exists(start + i + 1, f"/stall/{start + i}", 1) for i in range(n)))
        for _ in range(n):
            read_frame(w)
    print(four(port, "wchs").decode().strip().replace("\n", "; "))
    c = session(port)

    def probe(seconds):
        lat, xid, end = [], 1, time.time() + seconds
        while time.time() < end:
            t = time.perf_counter()
            c.sendall(exists(xid, "/", 0))
            read_frame(c)
            lat.append((time.perf_counter() - t) * 1000)
            xid += 1
        return lat

    quiet = probe(secs)
    stop = threading.Event()
    word_ms = {}

    def words():
        while not stop.is_set():
            for word in ("wchs", "wchc", "wchp", "dump", "mntr"):
                t = time.perf_counter()
                four(port, word)
                word_ms.setdefault(word, []).append((time.perf_counter() - t) * 1000)

    t = threading.Thread(target=words)
    t.start()
    busy = probe(secs)
    stop.set()
    t.join()
    for name, v in (("exists alone", quiet), ("exists while words run", busy)):
        print(f"{name}: n={len(v)} p50={pct(v, .5):.3f} ms p99={pct(v, .99):.3f} ms "
              f"max={max(v):.3f} ms")
    for word, v in word_ms.items():
        print(f"{word}: n={len(v)} p50={pct(v, .5):.1f} ms max={max(v):.1f} ms")


if __name__ == "__main__":
    main()
