//! multi: atomicity, result shapes, visibility between ops, and a property test.

use proptest::prelude::*;

use super::*;
use crate::wire::{CreateRequest, ErrorCode, MultiOp, MultiResult};

/// A create2, so the result carries the new node's stat.
fn create(path: &str) -> MultiOp {
    MultiOp::Create2(CreateRequest {
        path: path.into(),
        data: Some(vec![]),
        acl: open(),
        flags: CreateMode::Persistent as i32,
    })
}

#[test]
fn multi_applies_all_ops_under_one_zxid() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let done = ns.multi(
        S1,
        vec![
            create("/b"),
            create("/b/c"),
            MultiOp::set_data("/a", b"x".to_vec(), 0),
            MultiOp::check("/b/c", 0),
            MultiOp::delete("/b/c", -1),
        ],
        77,
    );
    let z = done.zxid;
    assert_eq!(z, 2);
    assert_eq!(ns.last_zxid(), 2);
    match &done.value[..] {
        [MultiResult::Create2 { path: p1, stat: s1 }, MultiResult::Create2 { path: p2, .. }, MultiResult::SetData(stat), MultiResult::Check, MultiResult::Delete] =>
        {
            assert_eq!((p1.as_str(), p2.as_str()), ("/b", "/b/c"));
            assert_eq!((s1.czxid, s1.ctime), (z, 77));
            assert_eq!((stat.version, stat.mzxid), (1, z));
        }
        other => panic!("unexpected results {other:?}"),
    }
    let b = stat(&mut ns, "/b");
    // One create and one delete of a child.
    assert_eq!((b.num_children, b.cversion, b.pzxid), (0, 2, z));
}

#[test]
fn failed_multi_reports_ok_then_error_then_runtime_inconsistency() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let before = ns.nodes.clone();
    let done = ns.multi(
        S1,
        vec![
            create("/b"),
            MultiOp::delete("/a", 0),
            MultiOp::check("/a", 0),
            create("/c"),
        ],
        1,
    );
    assert_eq!(
        done.value,
        vec![
            MultiResult::error(ErrorCode::Ok),
            MultiResult::error(ErrorCode::Ok),
            MultiResult::error(ErrorCode::NoNode),
            MultiResult::error(ErrorCode::RuntimeInconsistency),
        ]
    );
    assert_eq!(ns.nodes, before);
    assert_eq!(ns.last_zxid(), done.zxid);
}

#[test]
fn failed_multi_fires_no_watch_and_keeps_watches() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.get_children("/", Some(1)).unwrap();
    let done = ns.multi(
        S1,
        vec![MultiOp::set_data("/a", vec![], -1), create("/a")],
        1,
    );
    assert!(done.notifications.is_empty());
    assert_eq!(done.value[1], MultiResult::error(ErrorCode::NodeExists));
    assert_eq!(ns.watch_count(), 2);
}

#[test]
fn successful_multi_fires_watches_in_op_order() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.get_children("/", Some(2)).unwrap();
    let done = ns.multi(
        S1,
        vec![MultiOp::set_data("/a", vec![], -1), create("/b")],
        1,
    );
    let z = done.zxid;
    assert_eq!(
        done.notifications,
        vec![
            ev(1, EventType::NodeDataChanged, "/a", z),
            ev(2, EventType::NodeChildrenChanged, "/", z),
        ]
    );
}

#[test]
fn multi_check_fails_with_bad_version() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let done = ns.multi(S1, vec![MultiOp::check("/a", 3)], 1);
    assert_eq!(done.value, vec![MultiResult::error(ErrorCode::BadVersion)]);
}

#[test]
fn multi_rollback_restores_ephemerals_and_sequence_numbers() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/e", CreateMode::Ephemeral);
    let before = ns.nodes.clone();
    let done = ns.multi(
        S1,
        vec![
            MultiOp::delete("/e", -1),
            MultiOp::create("/s-", vec![], open(), CreateMode::EphemeralSequential),
            create("/missing/x"),
        ],
        1,
    );
    assert_eq!(done.value[2], MultiResult::error(ErrorCode::NoNode));
    assert_eq!(ns.nodes, before);
    assert_eq!(ns.get_ephemerals(S1, "/"), ["/e"]);
    let s = ns
        .create(
            S1,
            "/s-",
            vec![],
            &open(),
            CreateMode::PersistentSequential,
            1,
        )
        .unwrap();
    // The rolled-back sequential create did not consume a number.
    assert_eq!(s.value.0, "/s-0000000001");
}

#[test]
fn empty_multi_succeeds_with_no_results() {
    let mut ns = Namespace::new();
    let done = ns.multi(S1, vec![], 1);
    assert!(done.value.is_empty());
    assert_eq!(done.zxid, 1);
}

#[test]
fn check_multi_refuses_bad_modes_at_their_index_and_reads_as_a_whole() {
    use crate::namespace::{check_multi, MultiRefusal};
    use crate::wire::{CreateTtlRequest, PathWatchRequest};
    let ephemeral = MultiOp::create("/e", vec![], open(), CreateMode::Ephemeral);
    assert_eq!(
        check_multi(&[create("/a"), MultiOp::delete("/b", -1)]),
        Ok(false)
    );
    assert_eq!(check_multi(&[create("/a"), ephemeral.clone()]), Ok(true));
    // A container mode needs the createContainer opcode.
    let container_as_create = MultiOp::Create(CreateRequest {
        path: "/c".into(),
        data: Some(vec![]),
        acl: open(),
        flags: CreateMode::Container as i32,
    });
    assert_eq!(
        check_multi(&[ephemeral.clone(), container_as_create]),
        Err(MultiRefusal::Op {
            at: 1,
            code: ErrorCode::BadArguments
        })
    );
    let ttl = MultiOp::CreateTtl(CreateTtlRequest {
        path: "/t".into(),
        data: Some(vec![]),
        acl: open(),
        flags: CreateMode::PersistentWithTtl as i32,
        ttl: 1_000,
    });
    // TTL creates pass the shape check; the namespace refuses them inside the txn when
    // extended types are off (see the reap tests).
    assert_eq!(check_multi(&[ttl]), Ok(false));
    let read = MultiOp::GetData(PathWatchRequest {
        path: "/a".into(),
        watch: false,
    });
    assert_eq!(
        check_multi(&[ephemeral, read]),
        Err(MultiRefusal::Request(ErrorCode::MarshallingError))
    );
}

#[test]
fn create_answers_as_create_or_create2_as_asked() {
    let mut ns = Namespace::new();
    let done = ns.multi(
        S1,
        vec![
            MultiOp::create("/plain", vec![], open(), CreateMode::Persistent),
            create("/two"),
        ],
        5,
    );
    match &done.value[..] {
        [MultiResult::Create(p1), MultiResult::Create2 { path: p2, stat }] => {
            assert_eq!((p1.as_str(), p2.as_str()), ("/plain", "/two"));
            assert_eq!(stat.czxid, done.zxid);
        }
        other => panic!("unexpected results {other:?}"),
    }
}

fn arb_path() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["/a", "/b", "/a/x", "/a/y", "/b/x", "/c/z", "bad", "/"])
        .prop_map(str::to_owned)
}

fn arb_op() -> impl Strategy<Value = MultiOp> {
    let version = prop_oneof![Just(-1), 0..3i32];
    prop_oneof![
        (arb_path(), 0..4i32).prop_map(|(path, m)| MultiOp::create(
            path,
            vec![1, 2],
            open(),
            CreateMode::from_flags(m).unwrap()
        )),
        (arb_path(), version.clone()).prop_map(|(path, version)| MultiOp::delete(path, version)),
        (arb_path(), version.clone(), any::<u8>())
            .prop_map(|(path, version, b)| { MultiOp::set_data(path, vec![b], version) }),
        (arb_path(), version).prop_map(|(path, version)| MultiOp::check(path, version)),
    ]
}

proptest! {
    /// A failed multi leaves nodes, ephemerals, watches and data size exactly as they were;
    /// a successful one equals applying its ops one by one (apart from zxids).
    #[test]
    fn multi_is_all_or_nothing(
        setup in prop::collection::vec(arb_op(), 0..8),
        ops in prop::collection::vec(arb_op(), 0..6),
    ) {
        let mut ns = Namespace::new();
        ns.multi(S1, setup, 5);
        let _ = ns.exists("/a", Some(1));
        let _ = ns.get_children("/a", Some(2));
        let _ = ns.get_data("/b", Some(3));
        let before = ns.clone();
        let done = ns.multi(S2, ops.clone(), 9);
        prop_assert_eq!(ns.last_zxid(), before.last_zxid() + 1);
        let failed = done.value.iter().any(|r| r.error_code().is_some_and(|c| c != ErrorCode::Ok));
        if failed {
            let mut expected = before.clone();
            expected.last_zxid = ns.last_zxid;
            prop_assert_eq!(&ns, &expected);
            prop_assert!(done.notifications.is_empty());
            prop_assert_eq!(done.value.len(), ops.len());
            let first = done.value.iter().position(|r| *r != MultiResult::error(ErrorCode::Ok)).unwrap();
            for r in &done.value[first + 1..] {
                prop_assert_eq!(r, &MultiResult::error(ErrorCode::RuntimeInconsistency));
            }
        } else {
            // Replaying the same ops singly must give the same tree shape and data.
            let mut single = before.clone();
            for op in ops {
                match op {
                    MultiOp::Create(c) => { single.create(S2, &c.path, c.data, &c.acl, CreateMode::from_flags(c.flags).unwrap(), 9).unwrap(); }
                    MultiOp::Delete(d) => { single.delete(&d.path, d.version).unwrap(); }
                    MultiOp::SetData(s) => { single.set_data(&s.path, s.data, s.version, 9).unwrap(); }
                    MultiOp::Check(_) => {}
                    other => panic!("not generated: {other:?}"),
                }
            }
            let shape = |n: &Namespace| {
                let mut v: Vec<_> = n.nodes.iter().map(|(p, x)| (p.clone(), x.data.clone(), x.stat.version, x.stat.cversion, x.stat.num_children, x.stat.ephemeral_owner)).collect();
                v.sort();
                v
            };
            prop_assert_eq!(shape(&ns), shape(&single));
            prop_assert_eq!(ns.ephemerals_by_session(), single.ephemerals_by_session());
            prop_assert_eq!(ns.approximate_data_size(), single.approximate_data_size());
            prop_assert!(ns.watch_counts_consistent());
        }
    }
}
