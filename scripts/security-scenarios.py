#!/usr/bin/python3
"""ACL and authentication scenarios driven with kazoo against one server.

Usage: security-scenarios.py HOST:PORT SUPER_PASSWORD [sasl]

With `sasl`, the server must know the SASL DIGEST-MD5 user `bob` (password `bobpw`) and
the `sasl` scheme; the SASL scenarios then run too.

Prints one line per step, `<step> <result>`, where a result is `ok ...` or the kazoo
exception's name. The same scenarios run against Apache ZooKeeper and zksessiond must
print the same lines; the caller compares them. Every node lives under /sec; every
client is stopped before exit.
"""
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, ZookeeperError
from kazoo.security import ACL, Id, make_digest_acl_credential

READ, WRITE, CREATE, DELETE, ADMIN, ALL = 1, 2, 4, 8, 16, 31
BITS = {"r": READ, "w": WRITE, "c": CREATE, "d": DELETE, "a": ADMIN}

hosts, super_password = sys.argv[1], sys.argv[2]
with_sasl = sys.argv[3:] == ["sasl"]
clients = []


def client(*auth):
    zk = KazooClient(hosts=hosts, timeout=10, auth_data=list(auth) or None)
    zk.start(timeout=15)
    clients.append(zk)
    return zk


def digest(user, password, perms=ALL):
    return ACL(perms, Id("digest", make_digest_acl_credential(user, password)))


def world(perms):
    return ACL(perms, Id("world", "anyone"))


def out(step, fn):
    try:
        r = fn()
        res = "ok" if r is None else f"ok {r}"
    except (ZookeeperError, KazooException) as e:
        res = type(e).__name__
    print(f"{step} {res}", flush=True)


def acl_text(acls):
    return ";".join(f"{a.perms}:{a.id.scheme}:{a.id.id}" for a in acls)


def main():
    alice = client(("digest", "alice:pw"))
    anon = client()
    wrong = client(("digest", "alice:wrong"))
    root = client(("digest", "super:" + super_password))
    alice.create("/sec", b"top", acl=[world(ALL)])

    # Each permission bit on each operation, granted to anyone, the rest to alice only.
    for name, bit in BITS.items():
        p = f"/sec/{name}"
        alice.create(p, b"d", acl=[digest("alice", "pw"), world(bit)])
        alice.create(p + "/victim", b"", acl=[world(ALL)])
    for who, zk in (("anon", anon), ("wrong", wrong), ("alice", alice)):
        for name in BITS:
            p = f"/sec/{name}"
            out(f"{who}:{name}:get", lambda: zk.get(p)[0].decode())
            out(f"{who}:{name}:children", lambda: ",".join(sorted(zk.get_children(p))))
            out(f"{who}:{name}:exists", lambda: zk.exists(p) is not None)
            out(f"{who}:{name}:getacl", lambda: acl_text(zk.get_acls(p)[0]))
            out(f"{who}:{name}:set", lambda: zk.set(p, b"x").version > 0)
            out(f"{who}:{name}:create", lambda: zk.create(p + "/child-" + who, b""))
            out(f"{who}:{name}:delete-child", lambda: zk.delete(p + "/child-" + who))
            out(f"{who}:{name}:delete-victim", lambda: zk.delete(p + "/victim"))
            out(f"{who}:{name}:setacl", lambda: zk.set_acls(p, [digest("alice", "pw"),
                                                                 world(BITS[name])]).aversion)

    # `auth` ACLs: expanded to the caller's digest identities; refused without one.
    out("auth:create", lambda: alice.create("/sec/auth", b"", acl=[ACL(ALL, Id("auth", ""))]))
    out("auth:getacl", lambda: acl_text(alice.get_acls("/sec/auth")[0]))
    out("auth:anon-create", lambda: anon.create("/sec/auth2", b"", acl=[ACL(ALL, Id("auth", ""))]))
    out("auth:anon-create-missing-parent",
        lambda: anon.create("/sec/none/x", b"", acl=[ACL(ALL, Id("auth", ""))]))
    out("auth:anon-read", lambda: anon.get("/sec/auth")[0])
    out("acl:empty", lambda: alice.create("/sec/empty", b"", acl=[]))
    out("acl:bad-scheme", lambda: alice.create("/sec/bad", b"", acl=[ACL(ALL, Id("nope", "x"))]))
    out("acl:bad-world", lambda: alice.create("/sec/bad", b"", acl=[ACL(ALL, Id("world", "x"))]))
    out("acl:bad-digest", lambda: alice.create("/sec/bad", b"", acl=[ACL(ALL, Id("digest", "x"))]))
    out("acl:bad-ip", lambda: alice.create("/sec/bad", b"", acl=[ACL(ALL, Id("ip", "1.2.3.400"))]))

    # Super user.
    out("super:get", lambda: root.get("/sec/auth")[0])
    out("super:setacl", lambda: root.set_acls("/sec/auth", [world(READ)]).aversion)
    out("super:getacl", lambda: acl_text(anon.get_acls("/sec/auth")[0]))

    # setACL with versions.
    alice.create("/sec/av", b"", acl=[digest("alice", "pw")])
    out("aversion:set-0", lambda: alice.set_acls("/sec/av", [digest("alice", "pw")], 0).aversion)
    out("aversion:set-0-again", lambda: alice.set_acls("/sec/av", [digest("alice", "pw")], 0))
    out("aversion:anon-bad-version", lambda: anon.set_acls("/sec/av", [world(ALL)], 7))
    out("aversion:set-1", lambda: alice.set_acls("/sec/av", [digest("alice", "pw")], 1).aversion)

    # getACL redaction: READ without ADMIN hides digests.
    alice.create("/sec/red", b"", acl=[world(READ), digest("alice", "pw", ADMIN)])
    out("redact:anon", lambda: acl_text(anon.get_acls("/sec/red")[0]))
    out("redact:alice", lambda: acl_text(alice.get_acls("/sec/red")[0]))

    # ip scheme.
    out("ip:create-local", lambda: alice.create("/sec/ip1", b"v", acl=[ACL(ALL, Id("ip", "127.0.0.1"))]))
    out("ip:read-local", lambda: anon.get("/sec/ip1")[0].decode())
    out("ip:create-range", lambda: alice.create("/sec/ip2", b"v", acl=[ACL(ALL, Id("ip", "127.0.0.0/8"))]))
    out("ip:read-range", lambda: anon.get("/sec/ip2")[0].decode())
    out("ip:create-other", lambda: alice.create("/sec/ip3", b"v", acl=[ACL(ALL, Id("ip", "10.0.0.0/8"))]))
    out("ip:read-other", lambda: anon.get("/sec/ip3")[0].decode())

    # Watches: a client without READ is told nothing about the node.
    events = []
    seen = threading.Event()

    def watcher(ev):
        events.append(f"{ev.type}:{ev.path}")
        seen.set()

    out("watch:exists-missing", lambda: anon.exists("/sec/w1", watch=watcher))
    alice.create("/sec/w1", b"", acl=[digest("alice", "pw")])
    seen.wait(3)
    out("watch:created-without-read", lambda: ",".join(events) or "none")
    events.clear()
    seen.clear()
    alice.create("/sec/w2", b"", acl=[world(ALL)])
    out("watch:data-watch", lambda: anon.get("/sec/w2", watch=watcher)[0])
    alice.set_acls("/sec/w2", [digest("alice", "pw")])
    alice.set("/sec/w2", b"changed")
    seen.wait(3)
    out("watch:changed-after-read-revoked", lambda: ",".join(events) or "none")
    out("watch:no-read-no-watch", lambda: anon.get("/sec/w1", watch=watcher))
    events.clear()
    seen.clear()
    out("watch:exists-unreadable", lambda: anon.exists("/sec/w1", watch=watcher) is not None)
    alice.set("/sec/w1", b"changed")
    seen.wait(3)
    out("watch:unreadable-changed", lambda: ",".join(events) or "none")
    out("watch:exists-unreadable-again", lambda: anon.exists("/sec/w1", watch=watcher) is not None)
    alice.delete("/sec/w1")
    seen.wait(3)
    out("watch:unreadable-deleted", lambda: ",".join(events) or "none")
    events.clear()
    seen.clear()
    alice.create("/sec/w3", b"", acl=[digest("alice", "pw"), world(READ)])
    out("watch:children-readable", lambda: anon.get_children("/sec/w3", watch=watcher))
    alice.set_acls("/sec/w3", [digest("alice", "pw")])
    alice.create("/sec/w3/c", b"", acl=[world(ALL)])
    seen.wait(3)
    out("watch:children-unreadable", lambda: ",".join(events) or "none")

    # multi: per-op checks, and a rollback keeps the node and its ACL.
    alice.create("/sec/m", b"m", acl=[digest("alice", "pw"), world(READ)])
    t = alice.transaction()
    t.delete("/sec/m")
    t.create("/sec/none/x", b"")
    out("multi:rollback", lambda: [type(r).__name__ for r in t.commit()])
    out("multi:acl-kept", lambda: acl_text(alice.get_acls("/sec/m")[0]))
    t = anon.transaction()
    t.check("/sec/m", 0)
    t.set_data("/sec/m", b"x")
    out("multi:anon-write", lambda: [type(r).__name__ for r in t.commit()])
    t = anon.transaction()
    t.create("/sec/mm", b"")
    t.create("/sec/auth/child", b"")
    out("multi:anon-create", lambda: [type(r).__name__ for r in t.commit()])
    out("multi:first-rolled-back", lambda: anon.exists("/sec/mm") is not None)

    # Several identities on one connection.
    # (one add_auth at a time: kazoo keeps auth_data in a set, in no fixed order)
    both = client()
    both.add_auth("digest", "alice:pw")
    both.add_auth("digest", "bob:pw2")
    alice.create("/sec/bob", b"b", acl=[digest("bob", "pw2")])
    out("multi-id:read-alice", lambda: both.get("/sec/av")[0])
    out("multi-id:read-bob", lambda: both.get("/sec/bob")[0])
    out("multi-id:auth-acl", lambda: both.create("/sec/both", b"", acl=[ACL(READ, Id("auth", ""))]))
    out("multi-id:getacl", lambda: acl_text(both.get_acls("/sec/both")[0]))

    # A later addauth on a live connection.
    late = client()
    out("addauth:before", lambda: late.get("/sec/bob")[0])
    out("addauth:add", lambda: late.add_auth("digest", "bob:pw2"))
    out("addauth:after", lambda: late.get("/sec/bob")[0])

    # An unknown scheme: AuthFailed, and the connection is closed.
    bad = client()
    out("badscheme:add_auth", lambda: bad.add_auth("nope", "x"))
    out("badscheme:after", lambda: bad.exists("/sec") is not None)

    if with_sasl:
        sasl_scenarios(anon)

    # Clean up with the super user.
    def rm(path):
        for c in root.get_children(path):
            rm(path + "/" + c)
        root.delete(path)

    rm("/sec")


def sasl_client(password):
    zk = KazooClient(hosts=hosts, timeout=10, sasl_options={
        "mechanism": "DIGEST-MD5", "username": "bob", "password": password})
    clients.append(zk)
    return zk


def sasl_scenarios(anon):
    bob = sasl_client("bobpw")
    out("sasl:start", lambda: bob.start(timeout=15))
    out("sasl:create", lambda: bob.create("/sec/sasl", b"s", acl=[ACL(ALL, Id("sasl", "bob"))]))
    out("sasl:read", lambda: bob.get("/sec/sasl")[0].decode())
    out("sasl:anon-read", lambda: anon.get("/sec/sasl")[0].decode())
    out("sasl:auth-acl", lambda: bob.create("/sec/sasl2", b"", acl=[ACL(ALL, Id("auth", ""))]))
    out("sasl:getacl", lambda: acl_text(bob.get_acls("/sec/sasl2")[0]))
    out("sasl:set-acl-other", lambda: bob.set_acls("/sec/sasl", [ACL(READ, Id("sasl", "carol"))]).aversion)
    out("sasl:read-after", lambda: bob.get("/sec/sasl")[0].decode())
    wrong = sasl_client("not-the-password")

    def start_wrong():
        try:
            wrong.start(timeout=8)
        except Exception as e:
            return f"start {type(e).__name__}"
        return wrong.exists("/sec") is not None

    # Refused: kazoo sees AuthFailed and gives the session up.
    out("sasl:wrong-password", start_wrong)


try:
    main()
finally:
    for zk in clients:
        try:
            zk.stop()
            zk.close()
        except Exception:
            pass
