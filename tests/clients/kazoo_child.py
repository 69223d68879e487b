#!/usr/bin/python3
"""A kazoo client run as a separate process, so a test can SIGKILL it mid-hold.

Usage: kazoo_child.py HOST:PORT TIMEOUT_S MODE PATH
  ephemeral  create PATH as an ephemeral node
  lock       acquire the kazoo Lock at PATH
  election   run for leader at PATH
Prints 'ready <session-id-hex> <password-hex>' once it holds what it was asked for, then
answers each 'touch' line on stdin with 'done' after a round trip to the server (so the
parent knows when the session was last touched). Runs until killed.
"""
import sys
import threading

from kazoo.client import KazooClient


def main():
    hosts, timeout, mode, path = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    zk = KazooClient(hosts=hosts, timeout=timeout)
    zk.start(timeout=10)
    if mode == "ephemeral":
        zk.create(path, b"held", ephemeral=True, makepath=True)
    elif mode == "lock":
        zk.Lock(path, "child").acquire(timeout=10)
    elif mode == "election":
        elected = threading.Event()

        def lead():
            elected.set()
            threading.Event().wait()  # lead until killed

        threading.Thread(target=lambda: zk.Election(path, "child").run(lead), daemon=True).start()
        if not elected.wait(10):
            sys.exit(3)
    else:
        sys.exit(2)
    sid, pw = zk.client_id
    print("ready %x %s" % (sid, pw.hex()), flush=True)
    for line in sys.stdin:
        if line.strip() == "touch":
            zk.exists("/")
            print("done", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
