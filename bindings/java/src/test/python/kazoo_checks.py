"""Session checks with kazoo against a running server; prints key=value lines.

Usage: kazoo_checks.py HOST:PORT
  timeout_low   negotiated timeout when asking for 100 ms
  timeout_high  negotiated timeout when asking for 1000 s
  same_session  whether reconnecting with (id, password) continues the session
  owner_ok      whether the session's ephemeral survives the reconnect
  bad_pw_lost   whether a wrong password makes the client see its session lost
  bad_pw_new_id whether the client then got a different session
  live_ok       whether the session whose id was misused still works
"""
import sys

from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState


def client(hosts, **kw):
    c = KazooClient(hosts=hosts, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.2}, **kw)
    c.start(timeout=15)
    return c


def main():
    hosts = sys.argv[1]
    out = {}

    c = client(hosts, timeout=0.1)
    out["timeout_low"] = c._session_timeout
    c.stop()
    c.close()
    c = client(hosts, timeout=1000)
    out["timeout_high"] = c._session_timeout
    c.stop()
    c.close()

    # Reconnect with id + password: a second handle takes the session over.
    c1 = client(hosts, timeout=5)
    c1.create("/kazoo-reconnect", b"x", ephemeral=True)
    sid, pw = c1.client_id
    c2 = client(hosts, timeout=5, client_id=(sid, pw))
    out["same_session"] = c2.client_id[0] == sid
    stat = c2.exists("/kazoo-reconnect")
    out["owner_ok"] = stat is not None and stat.ephemeralOwner == sid

    # A wrong password: the server answers "expired"; kazoo reports LOST, then starts over.
    states = []
    c3 = KazooClient(hosts=hosts, timeout=5, client_id=(sid, b"\x00" * 16))
    c3.add_listener(lambda s: states.append(s))
    c3.start(timeout=15)
    out["bad_pw_lost"] = KazooState.LOST in states
    out["bad_pw_new_id"] = c3.client_id[0] != sid
    c3.stop()
    c3.close()
    out["live_ok"] = c2.exists("/kazoo-reconnect") is not None
    c2.stop()
    c2.close()
    c1.stop()
    c1.close()

    for k, v in out.items():
        print("%s=%s" % (k, v))


if __name__ == "__main__":
    main()
