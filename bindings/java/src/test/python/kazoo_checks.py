"""Session checks with kazoo against a running server; prints key=value lines.

Usage: kazoo_checks.py HOST:PORT
  timeout_low    negotiated timeout when asking for 100 ms
  timeout_high   negotiated timeout when asking for 1000 s
  same_session   whether reconnecting with (id, password) continues the session
  owner_ok       whether the session's ephemeral is still its own after the reconnect
  bad_pw_expired whether a wrong password gets the client an expired session
  bad_pw_new_id  whether the client then started a different session
  live_ok        whether the session whose id was misused still works
"""
import sys

from kazoo_common import client


def stop(c):
    c.stop()
    c.close()


def main():
    hosts = sys.argv[1]
    out = {}

    c, rec = client(hosts, 0.1)
    out["timeout_low"] = rec.negotiated
    stop(c)
    c, rec = client(hosts, 1000)
    out["timeout_high"] = rec.negotiated
    stop(c)

    # Reconnect with id + password: a second handle takes the session over.
    c1, _ = client(hosts, 5)
    c1.create("/kazoo-reconnect", b"x", ephemeral=True)
    sid, pw = c1.client_id
    c2, _ = client(hosts, 5, client_id=(sid, pw))
    out["same_session"] = c2.client_id[0] == sid
    stat = c2.exists("/kazoo-reconnect")
    out["owner_ok"] = stat is not None and stat.ephemeralOwner == sid

    # A wrong password: the server answers "expired"; kazoo then starts a new session.
    c3, rec3 = client(hosts, 5, client_id=(sid, b"\x00" * 16))
    out["bad_pw_expired"] = rec3.expired > 0
    out["bad_pw_new_id"] = c3.client_id[0] != sid
    stop(c3)
    # ZooKeeper closes the session's current connection before checking a reconnect's
    # password, so c2 may need a moment to reconnect; its session must be intact.
    out["live_ok"] = c2.retry(c2.exists, "/kazoo-reconnect") is not None
    stop(c2)
    stop(c1)

    for k, v in out.items():
        print("%s=%s" % (k, v))


if __name__ == "__main__":
    main()
