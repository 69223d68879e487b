"""A kazoo client process for end-to-end tests.

Usage: kazoo_victim.py HOST:PORT PATH TIMEOUT_MS
Creates the ephemeral node PATH, prints "created <session id hex> <negotiated timeout ms>",
then serves commands read from stdin, one per line:
  touch  -> a read (exists on PATH) that touches the session, then prints "ok"; a read,
            so it fires no watch the test has on PATH
The test kills the process with SIGKILL to drop its session without a close.
"""
import sys

from kazoo_common import client


def main():
    hosts, path, timeout_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
    zk, rec = client(hosts, timeout_ms / 1000.0)
    zk.create(path, b"x", ephemeral=True)
    print("created %x %d" % (zk.client_id[0], rec.negotiated), flush=True)
    for line in sys.stdin:
        if line.strip() == "touch":
            zk.exists(path)
            print("ok", flush=True)


if __name__ == "__main__":
    main()
