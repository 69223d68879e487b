"""kazoo over TLS against a server's secure client port, for scripts/test-tls.sh.

Usage:
  tls_kazoo.py scenarios PLAIN_PORT SECURE_PORT CERT_DIR
      the scenarios below; prints "PASS name" / "FAIL name: why" lines
  tls_kazoo.py child SECURE_PORT CERT_DIR PATH
      connects over TLS with the client certificate, creates the ephemeral PATH, prints
      "ready 0x<session>" and sleeps until killed (its session must then expire)
  tls_kazoo.py gone SECURE_PORT CERT_DIR PATH SECONDS
      waits until PATH is gone; prints "gone after N s" (exit 0) or "still there" (exit 1)

CERT_DIR holds ca.pem, client.crt/client.key (subject C=US,O=zk\\, inc,CN=client) and
other.crt/other.key (another client of the same CA). The server wants client certificates
(ssl.clientAuth=need) and has the x509 scheme on. Loopback only.
"""

import os
import socket
import ssl
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id, Permissions

HOST = "127.0.0.1"
# The identity ZooKeeper's X509AuthenticationProvider gives the client certificate.
SUBJECT = "CN=client,O=zk\\, inc,C=US"


def tls_client(port, certs, who="client", **kw):
    extra = {}
    if who:
        extra = dict(certfile=os.path.join(certs, who + ".crt"),
                     keyfile=os.path.join(certs, who + ".key"))
    return KazooClient(hosts="%s:%d" % (HOST, port), timeout=2.0, use_ssl=True,
                       ca=os.path.join(certs, "ca.pem"), **extra, **kw)


def fails_to_start(client, seconds=4):
    """True when the client never gets a session within `seconds`."""
    try:
        client.start(timeout=seconds)
    except Exception:
        return True
    finally:
        try:
            client.stop()
            client.close()
        except Exception:
            pass
    return False


def closed_by_server(sock, seconds=5.0):
    """Reads until the server closes the connection (True) or `seconds` pass (False)."""
    sock.settimeout(seconds)
    deadline = time.time() + seconds
    try:
        while time.time() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def garbage_before_handshake(port):
    results = []
    for junk in (b"\x00\x01garbage, not a client hello" * 8,
                 b"\x16\x03\x01\x00\x30" + b"\xff" * 0x30):
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall(junk)
        results.append(closed_by_server(s))
        s.close()
    return all(results)


def garbage_during_handshake(port, certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(outgoing.read())  # the ClientHello
    hello = s.recv(65536)  # the server's first flight: the handshake is under way
    if not hello:
        return False
    s.sendall(b"\x16\x03\x03\x00\x40" + os.urandom(0x40))
    s.sendall(os.urandom(300))
    ok = closed_by_server(s)
    s.close()
    return ok


def scenarios(plain_port, secure_port, certs):
    out = []

    def check(name, ok, why=""):
        out.append(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
        print(out[-1], flush=True)

    live = tls_client(secure_port, certs)
    live.start(timeout=15)
    check("kazoo:tls-connects", live.connected)
    live.create("/kz-live", b"x", ephemeral=True)
    time.sleep(3)  # several ping intervals over TLS
    check("kazoo:tls-holds-session", live.connected and live.exists("/kz-live") is not None)

    # x509 identity: an ACL for this certificate's subject admits it and nobody else.
    acl = [ACL(Permissions.ALL, Id("x509", SUBJECT))]
    live.create("/kz-x509", b"secret", acl=acl)
    data, _ = live.get("/kz-x509")
    check("kazoo:x509-acl-admits-owner", data == b"secret")
    got_acl, _ = live.get_acls("/kz-x509")
    check("kazoo:x509-acl-stored", got_acl == acl, repr(got_acl))
    other = tls_client(secure_port, certs, who="other")
    other.start(timeout=15)
    try:
        other.get("/kz-x509")
        check("kazoo:x509-acl-denies-other-certificate", False, "read allowed")
    except NoAuthError:
        check("kazoo:x509-acl-denies-other-certificate", True)
    other.stop()
    other.close()
    plain_reader = KazooClient(hosts="%s:%d" % (HOST, plain_port), timeout=2.0)
    plain_reader.start(timeout=15)
    try:
        plain_reader.get("/kz-x509")
        check("kazoo:x509-acl-denies-plain-client", False, "read allowed")
    except NoAuthError:
        check("kazoo:x509-acl-denies-plain-client", True)
    plain_reader.stop()
    plain_reader.close()

    # clientAuth=need: no certificate, no session.
    check("kazoo:no-certificate-refused", fails_to_start(tls_client(secure_port, certs, who=None)))
    # Wrong transport on each port.
    check("kazoo:plain-client-on-secure-port-fails",
          fails_to_start(KazooClient(hosts="%s:%d" % (HOST, secure_port), timeout=2.0)))
    check("kazoo:tls-client-on-plain-port-fails", fails_to_start(tls_client(plain_port, certs)))
    check("raw:garbage-before-handshake-closed", garbage_before_handshake(secure_port))
    check("raw:garbage-during-handshake-closed", garbage_during_handshake(secure_port, certs))

    # None of that disturbed the live session.
    check("kazoo:live-session-undisturbed",
          live.connected and live.exists("/kz-live") is not None
          and live.get("/kz-x509")[0] == b"secret")
    live.delete("/kz-x509")
    live.stop()
    live.close()
    return all(line.startswith("PASS") for line in out)


def child(secure_port, certs, path):
    c = tls_client(secure_port, certs)
    c.start(timeout=15)
    c.create(path, b"child", ephemeral=True)
    print("ready 0x%x" % c.client_id[0], flush=True)
    while True:
        time.sleep(1)


def gone(secure_port, certs, path, seconds):
    c = tls_client(secure_port, certs)
    c.start(timeout=15)
    start = time.time()
    while time.time() - start < seconds:
        if c.exists(path) is None:
            print("gone after %.1f s" % (time.time() - start))
            c.stop()
            return True
        time.sleep(0.2)
    print("still there")
    c.stop()
    return False


def main():
    mode = sys.argv[1]
    if mode == "scenarios":
        ok = scenarios(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif mode == "child":
        child(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        ok = True
    elif mode == "gone":
        ok = gone(int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        print("unknown mode", mode)
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
