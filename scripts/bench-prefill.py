#!/usr/bin/python3
"""Fills a server with COUNT persistent znodes of SIZE bytes for the durable benchmark
(scripts/bench-durable.sh): /prefill/bJ/nI, a thousand per bucket, written as multis of
a thousand creates each (one txn, one fsync per multi) so that a large tree is built in
reasonable time on both servers.

Usage: scripts/bench-prefill.py PORT COUNT SIZE
"""
import logging
import sys
import time

from kazoo.client import KazooClient

BATCH = 1000


def main():
    logging.basicConfig(level=logging.CRITICAL)
    port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=30)
    zk.start(timeout=30)
    data = b"x" * size
    t0 = time.time()
    zk.create("/prefill", b"")
    made = 0
    bucket = 0
    while made < count:
        tx = zk.transaction()
        tx.create(f"/prefill/b{bucket}", b"")
        n = min(BATCH, count - made)
        for i in range(n):
            tx.create(f"/prefill/b{bucket}/n{i}", data)
        results = tx.commit()
        if any(isinstance(r, Exception) for r in results):
            sys.exit(f"prefill multi failed: {results[:3]}")
        made += n
        bucket += 1
    zk.stop()
    zk.close()
    print(f"prefilled {made} znodes in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
