//! The running tree digest: kept by every write, rollback and restore, equal to the sum
//! recomputed from the nodes, and unchanged by what changes nothing.

use super::{open, persistent, S1, S2};
use crate::namespace::Namespace;
use crate::wire::{CreateMode, MultiOp};

fn check(ns: &Namespace) -> i64 {
    assert_eq!(ns.digest(), ns.digest_recomputed());
    ns.digest()
}

#[test]
fn a_fresh_tree_counts_the_root_and_zookeeper_only() {
    let ns = Namespace::new();
    let d = check(&ns);
    assert_ne!(d, 0);
    // `/zookeeper/quota` and `/zookeeper/config` count 0: the fresh digest is the
    // root's (as the empty path) plus `/zookeeper`'s.
    let zero = crate::persist::StatPersisted {
        czxid: 0,
        mzxid: 0,
        ctime: 0,
        mtime: 0,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeral_owner: 0,
        pzxid: 0,
    };
    let root = crate::persist::node_digest("", Some(b""), &zero);
    let zk = crate::persist::node_digest("/zookeeper", Some(b""), &zero);
    assert_eq!(d, root.wrapping_add(zk));
}

#[test]
fn writes_keep_the_running_digest() {
    let mut ns = Namespace::new();
    let fresh = check(&ns);
    persistent(&mut ns, "/a");
    let after_a = check(&ns);
    assert_ne!(after_a, fresh);
    ns.create(S1, "/a/e", b"x".to_vec(), &open(), CreateMode::Ephemeral, 5)
        .unwrap();
    ns.create(
        S2,
        "/a/s",
        None,
        &open(),
        CreateMode::PersistentSequential,
        6,
    )
    .unwrap();
    ns.create(S1, "/box", b"".to_vec(), &open(), CreateMode::Container, 7)
        .unwrap();
    check(&ns);
    ns.set_data("/a", b"new data".to_vec(), -1, 20).unwrap();
    check(&ns);
    ns.set_acl("/a", &super::acl_with(crate::wire::perms::ALL), -1)
        .unwrap();
    check(&ns);
    ns.delete("/a/s0000000001", -1).unwrap();
    check(&ns);
    ns.kill_session(S1);
    check(&ns);
    // Quota bookkeeping rewrites stats nodes under `/zookeeper/quota` (counted 0).
    for (p, d) in [
        ("/zookeeper/quota/a", &b""[..]),
        ("/zookeeper/quota/a/zookeeper_limits", b"count=10,bytes=-1"),
        ("/zookeeper/quota/a/zookeeper_stats", b"count=1,bytes=0"),
    ] {
        ns.create(S2, p, d.to_vec(), &open(), CreateMode::Persistent, 8)
            .unwrap();
    }
    persistent(&mut ns, "/a/q");
    ns.set_data("/a/q", b"more".to_vec(), -1, 21).unwrap();
    check(&ns);
}

#[test]
fn a_failed_multi_leaves_the_digest_as_it_was() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let before = check(&ns);
    let applied = ns.multi(
        S1,
        vec![
            MultiOp::create("/a/b", b"1".to_vec(), open(), CreateMode::Persistent),
            MultiOp::create("/a/c", b"2".to_vec(), open(), CreateMode::Persistent),
            MultiOp::create("/missing/x", b"3".to_vec(), open(), CreateMode::Persistent),
        ],
        9,
    );
    assert!(applied
        .value
        .iter()
        .any(|r| matches!(r, crate::wire::MultiResult::Error(_))));
    assert_eq!(check(&ns), before);
}

#[test]
fn restores_keep_the_running_digest() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    persistent(&mut ns, "/a/b");
    ns.set_data("/a/b", b"v".to_vec(), -1, 22).unwrap();
    let want = check(&ns);
    let mut copy = Namespace::empty(ns.last_zxid());
    let mut nodes = Vec::new();
    ns.for_each_node_parents_first(|p, n| {
        nodes.push((p.to_owned(), n.data.map(<[u8]>::to_vec), *n.stat))
    });
    for (p, d, s) in nodes {
        assert!(copy.restore_node(p, d, open().into_iter().collect(), s));
    }
    assert_eq!(check(&copy), want);
    assert!(copy.restore_set_data("/a/b", b"w".to_vec(), 2, 10, 11));
    assert!(copy.restore_delete("/a/b", 12));
    check(&copy);
}

#[test]
fn the_history_holds_the_digest_after_every_128th_txn() {
    let mut ns = Namespace::new();
    assert!(ns.digest_history().is_empty());
    let mut want = Vec::new();
    for i in 0..300 {
        persistent(&mut ns, &format!("/n{i}"));
        if ns.last_zxid() % 128 == 0 {
            want.push((ns.last_zxid(), ns.digest()));
        }
    }
    assert_eq!(ns.last_zxid(), 300);
    assert_eq!(ns.digest_history(), want);
    assert_eq!(want.iter().map(|w| w.0).collect::<Vec<_>>(), [128, 256]);
    // Replayed txns are recorded too, and a txn ending at a multiple is seen at once.
    let mut replayed = Namespace::empty(0);
    replayed.restore_node(
        "/".into(),
        Vec::new(),
        open().into_iter().collect(),
        Default::default(),
    );
    replayed.restore_zxid(128);
    assert_eq!(replayed.digest_history(), vec![(128, replayed.digest())]);
}
