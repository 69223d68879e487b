"""A kazoo client process that the ensemble tests kill with SIGKILL (no close request).

Usage: ensemble_victim.py HOSTS TIMEOUT_MS PATH
Starts a session on HOSTS; if PATH is not "-", creates the ephemeral node PATH (on a
server with local sessions this upgrades the session to a global one); otherwise makes
one read. Prints "session <id hex> <password hex>" and then waits until it is killed.
"""
import sys
import time

from kazoo_common import client


def main():
    hosts, timeout_ms, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    zk, _ = client(hosts, timeout_ms / 1000.0)
    if path != "-":
        zk.create(path, b"x", ephemeral=True)
    else:
        zk.exists("/")
    sid, pw = zk.client_id
    print("session %x %s" % (sid, pw.hex()), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
