"""A kazoo client process for end-to-end tests.

Usage: kazoo_victim.py HOST:PORT PATH TIMEOUT_MS
Creates the ephemeral node PATH, prints "created <session id hex> <negotiated timeout>",
then serves commands read from stdin, one per line:
  touch  -> setData on PATH (touches the session), then prints "ok"
The test kills the process with SIGKILL to drop its session without a close.
"""
import sys

from kazoo.client import KazooClient


def main():
    hosts, path, timeout_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
    zk = KazooClient(hosts=hosts, timeout=timeout_ms / 1000.0)
    zk.start(timeout=15)
    zk.create(path, b"x", ephemeral=True)
    print("created %x %d" % (zk.client_id[0], zk._session_timeout), flush=True)
    for line in sys.stdin:
        if line.strip() == "touch":
            zk.set(path, b"y")
            print("ok", flush=True)


if __name__ == "__main__":
    main()
