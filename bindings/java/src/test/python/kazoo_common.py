"""Shared by the kazoo test scripts: a logger that records what kazoo tells it.

kazoo keeps the negotiated session timeout only in a log record, so each client gets a
logger whose handler remembers the last negotiated timeout and counts session expiries.
"""
import logging
import re

from kazoo.client import KazooClient

_NEGOTIATED = re.compile(r"negotiated session timeout: (\d+)")


class Recorder(logging.Handler):
    """Remembers the negotiated timeout and how many times the session was expired."""

    def __init__(self):
        super().__init__(level=1)
        self.negotiated = None
        self.expired = 0

    def emit(self, record):
        msg = record.getMessage()
        m = _NEGOTIATED.search(msg)
        if m:
            self.negotiated = int(m.group(1))
        if "Session has expired" in msg:
            self.expired += 1


_count = 0


def client(hosts, timeout_s, **kw):
    """A started KazooClient and its Recorder."""
    global _count
    _count += 1
    logger = logging.getLogger("zks-kazoo-%d" % _count)
    logger.setLevel(1)
    logger.propagate = False
    rec = Recorder()
    logger.addHandler(rec)
    c = KazooClient(hosts=hosts, timeout=timeout_s, logger=logger,
                    connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.2}, **kw)
    c.start(timeout=15)
    return c, rec
