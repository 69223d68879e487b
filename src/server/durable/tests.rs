//! The txns built from writes replay to the same tree: every kind of write (sequential,
//! ephemeral and container creates, deletes, setData, setACL, multis that succeed and
//! fail, failed writes, a session kill) is applied to a namespace, logged through
//! [`TxnBuilder`], and replayed on the tree as it was before; both trees must give the
//! same snapshot, byte for byte, and the replay must survive a snapshot round trip.

use super::image::{namespace_of, Replay};
use super::{snapshot_of, TxnBuilder};
use crate::namespace::Namespace;
use crate::persist::{LogEntry, Snapshot, Txn, TxnHeader};
use crate::wire::{
    Acl, CheckVersionRequest, CreateMode, DeleteRequest, ErrorCode, MultiOp, OpCode, SetDataRequest,
};
use std::collections::BTreeMap;

struct Log {
    entries: Vec<LogEntry>,
}

impl Log {
    fn push(&mut self, ns: &Namespace, before: i64, session: u64, time: i64, txn: Txn) {
        if ns.last_zxid() == before {
            return;
        }
        self.entries.push(LogEntry {
            header: TxnHeader {
                client_id: session as i64,
                cxid: self.entries.len() as i32,
                zxid: ns.last_zxid(),
                time,
                txn_type: txn.op_code(),
            },
            txn,
            digest: None,
        });
    }
}

fn open() -> Vec<Acl> {
    vec![Acl::world_anyone()]
}

fn create(ns: &mut Namespace, log: &mut Log, s: u64, path: &str, mode: CreateMode, t: i64) {
    let before = ns.last_zxid();
    let r = ns.create(s, path, path.as_bytes().to_vec(), &open(), mode, t);
    let txn = match &r {
        Ok(a) => TxnBuilder::create(ns, OpCode::Create2, &a.value.0),
        Err(e) => TxnBuilder::error(*e),
    };
    log.push(ns, before, s, t, txn);
}

fn cr(path: &str, mode: CreateMode) -> MultiOp {
    MultiOp::create(path, b"m".to_vec(), open(), mode)
}

#[test]
fn txns_built_from_writes_replay_to_the_same_tree() {
    let mut ns = Namespace::new();
    let start = snapshot_of(&ns, &[]);
    let mut log = Log {
        entries: Vec::new(),
    };
    let s1 = 0x100;
    let s2 = 0x200;
    create(&mut ns, &mut log, s1, "/a", CreateMode::Persistent, 10);
    for i in 0..3 {
        create(
            &mut ns,
            &mut log,
            s1,
            "/a/q-",
            CreateMode::PersistentSequential,
            11 + i,
        );
    }
    create(&mut ns, &mut log, s2, "/a/e", CreateMode::Ephemeral, 20);
    create(
        &mut ns,
        &mut log,
        s2,
        "/a/es-",
        CreateMode::EphemeralSequential,
        21,
    );
    create(&mut ns, &mut log, s1, "/box", CreateMode::Container, 22);
    create(&mut ns, &mut log, s1, "/box/x", CreateMode::Persistent, 23);
    // Failed writes take a zxid and log an error txn.
    create(
        &mut ns,
        &mut log,
        s1,
        "/nope/child",
        CreateMode::Persistent,
        24,
    );
    create(&mut ns, &mut log, s1, "/a", CreateMode::Persistent, 25);

    let before = ns.last_zxid();
    let r = ns.set_data("/a", b"v2".to_vec(), 0, 30);
    assert!(r.is_ok());
    log.push(&ns, before, s1, 30, TxnBuilder::set_data(&ns, "/a"));

    let before = ns.last_zxid();
    let acl = vec![Acl {
        perms: 1,
        ..Acl::world_anyone()
    }];
    assert!(ns.set_acl("/a/q-0000000001", &acl, 0).is_ok());
    log.push(
        &ns,
        before,
        s1,
        31,
        TxnBuilder::set_acl(&ns, "/a/q-0000000001"),
    );

    let before = ns.last_zxid();
    assert!(ns.delete("/a/q-0000000000", -1).is_ok());
    log.push(
        &ns,
        before,
        s1,
        32,
        Txn::Delete {
            path: "/a/q-0000000000".into(),
        },
    );

    // A multi: creates under one parent (each with its own parent cversion), a
    // sequential, a create then delete of the same node, setData and a check.
    let ops = vec![
        cr("/m", CreateMode::Persistent),
        cr("/m/a", CreateMode::Persistent),
        cr("/m/s-", CreateMode::PersistentSequential),
        cr("/a/q-", CreateMode::PersistentSequential),
        cr("/m/tmp", CreateMode::Persistent),
        MultiOp::Delete(DeleteRequest {
            path: "/m/tmp".into(),
            version: -1,
        }),
        MultiOp::SetData(SetDataRequest {
            path: "/a".into(),
            data: Some(b"v3".to_vec()),
            version: 1,
        }),
        MultiOp::Check(CheckVersionRequest {
            path: "/a".into(),
            version: 2,
        }),
        cr("/m/e", CreateMode::Ephemeral),
    ];
    let before = ns.last_zxid();
    let applied = ns.multi(s2, ops.clone(), 40);
    assert!(
        applied.value.iter().all(|r| r.error_code().is_none()),
        "{:?}",
        applied.value
    );
    let txn = TxnBuilder::multi(&ns, &ops, &applied.value);
    // Each create carries its parent's cversion right after it, as ZooKeeper logs it.
    let Txn::Multi(items) = &txn else {
        panic!("{txn:?}")
    };
    let under_m: Vec<i32> = items
        .iter()
        .filter_map(|i| match i {
            crate::persist::SubTxn::Create(c) if c.path.starts_with("/m/") => {
                Some(c.parent_cversion)
            }
            _ => None,
        })
        .collect();
    assert_eq!(under_m, [1, 2, 3, 4]);
    log.push(&ns, before, s2, 40, txn);

    // A multi that fails: nothing changes, the zxid is taken.
    let bad = vec![
        cr("/m/never", CreateMode::Persistent),
        MultiOp::Check(CheckVersionRequest {
            path: "/a".into(),
            version: 99,
        }),
    ];
    let before = ns.last_zxid();
    let applied = ns.multi(s1, bad.clone(), 41);
    assert_eq!(applied.value[1].error_code(), Some(ErrorCode::BadVersion));
    let txn = TxnBuilder::multi(&ns, &bad, &applied.value);
    assert!(matches!(&txn, Txn::Multi(items) if items.len() == 2));
    log.push(&ns, before, s1, 41, txn);

    // The second session dies: its ephemerals go in one closeSession.
    let before = ns.last_zxid();
    let killed = ns.kill_session(s2);
    assert_eq!(killed.value.len(), 3);
    log.push(
        &ns,
        before,
        s2,
        50,
        TxnBuilder::close_session(killed.value.clone()),
    );

    // Replay from the initial snapshot, through a snapshot round trip.
    let start = Snapshot::decode(&start.encode()).unwrap();
    let mut replayed = namespace_of(&start, 0);
    let mut sessions = BTreeMap::new();
    let mut replay = Replay {
        ns: &mut replayed,
        sessions: &mut sessions,
    };
    for e in &log.entries {
        let bytes = e.encode();
        replay.apply(&LogEntry::decode(&bytes).unwrap());
    }
    assert_eq!(replayed.last_zxid(), ns.last_zxid());
    assert_eq!(
        snapshot_of(&replayed, &[]).encode(),
        snapshot_of(&ns, &[]).encode(),
        "replayed tree differs"
    );
    // And the tree loads back from its own snapshot.
    let snap = snapshot_of(&ns, &[]);
    let loaded = namespace_of(&Snapshot::decode(&snap.encode()).unwrap(), ns.last_zxid());
    assert_eq!(snapshot_of(&loaded, &[]).encode(), snap.encode());
    assert_eq!(loaded.node_count(), ns.node_count());
}

#[test]
fn ttl_creates_and_reaper_deletions_replay_to_the_same_tree() {
    use crate::namespace::ReapRules;
    use crate::persist::SubTxn;
    use crate::wire::CreateTtlRequest;
    let mut ns = Namespace::new();
    ns.set_extended_types(true);
    let start = snapshot_of(&ns, &[]);
    let mut log = Log {
        entries: Vec::new(),
    };
    let s1 = 0x100;
    // A single createTTL, logged as ZooKeeper's CreateTTLTxn.
    let before = ns.last_zxid();
    let made = ns
        .create_ttl_as(
            &crate::namespace::Anyone,
            s1,
            "/t",
            b"t".to_vec(),
            &open(),
            CreateMode::PersistentWithTtl,
            700,
            10,
        )
        .unwrap();
    let txn = TxnBuilder::create(&ns, OpCode::CreateTtl, &made.value.0);
    assert!(matches!(&txn, Txn::CreateTtl(t) if t.ttl == 700 && t.path == "/t"));
    log.push(&ns, before, s1, 10, txn);
    // A TTL create inside a multi, and a createTTL op of a plain mode (logged as a create).
    let ops = vec![
        MultiOp::CreateTtl(CreateTtlRequest {
            path: "/t/s-".into(),
            data: Some(b"m".to_vec()),
            acl: open(),
            flags: CreateMode::PersistentSequentialWithTtl as i32,
            ttl: 300,
        }),
        MultiOp::CreateTtl(CreateTtlRequest {
            path: "/plain".into(),
            data: Some(b"m".to_vec()),
            acl: open(),
            flags: CreateMode::Persistent as i32,
            ttl: -1,
        }),
    ];
    let before = ns.last_zxid();
    let applied = ns.multi(s1, ops.clone(), 20);
    let txn = TxnBuilder::multi(&ns, &ops, &applied.value);
    let Txn::Multi(items) = &txn else {
        panic!("{txn:?}")
    };
    assert!(matches!(&items[0], SubTxn::CreateTtl(t) if t.ttl == 300 && t.parent_cversion == 1));
    assert!(matches!(&items[1], SubTxn::Create(c) if c.path == "/plain"));
    log.push(&ns, before, s1, 20, txn);
    // The reaper deletes the expired child, logged as deleteContainer by client 0.
    let before = ns.last_zxid();
    assert!(ns
        .reap("/t/s-0000000000", 1000, &ReapRules::default())
        .is_some());
    log.push(
        &ns,
        before,
        0,
        1000,
        Txn::DeleteContainer {
            path: "/t/s-0000000000".into(),
        },
    );

    let mut replayed = namespace_of(&Snapshot::decode(&start.encode()).unwrap(), 0);
    let mut sessions = BTreeMap::new();
    let mut replay = Replay {
        ns: &mut replayed,
        sessions: &mut sessions,
    };
    for e in &log.entries {
        replay.apply(&LogEntry::decode(&e.encode()).unwrap());
    }
    assert_eq!(
        snapshot_of(&replayed, &[]).encode(),
        snapshot_of(&ns, &[]).encode(),
        "replayed tree differs"
    );
    // Loaded back, the TTL node keeps its kind and is due once its TTL has passed.
    replayed.set_extended_types(true);
    assert_eq!(replayed.ephemeral_count(), 0);
    let page = replayed.reap_candidates(None, 10, 10 + 701, &ReapRules::default());
    assert_eq!(page.due, ["/t"]);
    let loaded = namespace_of(
        &Snapshot::decode(&snapshot_of(&ns, &[]).encode()).unwrap(),
        ns.last_zxid(),
    );
    assert_eq!(loaded.reapable_count(), 1);
}
