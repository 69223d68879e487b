//! multi: atomicity, result shapes, visibility between ops, and a property test.

use proptest::prelude::*;

use super::*;
use crate::namespace::{Op, OpResult};
use crate::wire::ErrorCode;

fn create(path: &str) -> Op {
    Op::Create {
        path: path.into(),
        data: vec![],
        acl: open(),
        mode: CreateMode::Persistent,
    }
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
            Op::SetData {
                path: "/a".into(),
                data: b"x".to_vec(),
                version: 0,
            },
            Op::Check {
                path: "/b/c".into(),
                version: 0,
            },
            Op::Delete {
                path: "/b/c".into(),
                version: -1,
            },
        ],
        77,
    );
    let z = done.zxid;
    assert_eq!(z, 2);
    assert_eq!(ns.last_zxid(), 2);
    match &done.value[..] {
        [OpResult::Create { path: p1, stat: s1 }, OpResult::Create { path: p2, .. }, OpResult::SetData { stat }, OpResult::Check, OpResult::Delete] =>
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
            Op::Delete {
                path: "/a".into(),
                version: 0,
            },
            Op::Check {
                path: "/a".into(),
                version: 0,
            },
            create("/c"),
        ],
        1,
    );
    assert_eq!(
        done.value,
        vec![
            OpResult::Error(ErrorCode::Ok),
            OpResult::Error(ErrorCode::Ok),
            OpResult::Error(ErrorCode::NoNode),
            OpResult::Error(ErrorCode::RuntimeInconsistency),
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
        vec![
            Op::SetData {
                path: "/a".into(),
                data: vec![],
                version: -1,
            },
            create("/a"),
        ],
        1,
    );
    assert!(done.notifications.is_empty());
    assert_eq!(done.value[1], OpResult::Error(ErrorCode::NodeExists));
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
        vec![
            Op::SetData {
                path: "/a".into(),
                data: vec![],
                version: -1,
            },
            create("/b"),
        ],
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
    let done = ns.multi(
        S1,
        vec![Op::Check {
            path: "/a".into(),
            version: 3,
        }],
        1,
    );
    assert_eq!(done.value, vec![OpResult::Error(ErrorCode::BadVersion)]);
}

#[test]
fn multi_rollback_restores_ephemerals_and_sequence_numbers() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/e", CreateMode::Ephemeral);
    let before = ns.nodes.clone();
    let done = ns.multi(
        S1,
        vec![
            Op::Delete {
                path: "/e".into(),
                version: -1,
            },
            Op::Create {
                path: "/s-".into(),
                data: vec![],
                acl: open(),
                mode: CreateMode::EphemeralSequential,
            },
            create("/missing/x"),
        ],
        1,
    );
    assert_eq!(done.value[2], OpResult::Error(ErrorCode::NoNode));
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

fn arb_path() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["/a", "/b", "/a/x", "/a/y", "/b/x", "/c/z", "bad", "/"])
        .prop_map(str::to_owned)
}

fn arb_op() -> impl Strategy<Value = Op> {
    let version = prop_oneof![Just(-1), 0..3i32];
    prop_oneof![
        (arb_path(), 0..4i32).prop_map(|(path, m)| Op::Create {
            path,
            data: vec![1, 2],
            acl: open(),
            mode: CreateMode::from_flags(m).unwrap(),
        }),
        (arb_path(), version.clone()).prop_map(|(path, version)| Op::Delete { path, version }),
        (arb_path(), version.clone(), any::<u8>()).prop_map(|(path, version, b)| {
            Op::SetData {
                path,
                data: vec![b],
                version,
            }
        }),
        (arb_path(), version).prop_map(|(path, version)| Op::Check { path, version }),
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
        let failed = done.value.iter().any(|r| matches!(r, OpResult::Error(c) if *c != ErrorCode::Ok));
        if failed {
            let mut expected = before.clone();
            expected.last_zxid = ns.last_zxid;
            prop_assert_eq!(&ns, &expected);
            prop_assert!(done.notifications.is_empty());
            prop_assert_eq!(done.value.len(), ops.len());
            let first = done.value.iter().position(|r| *r != OpResult::Error(ErrorCode::Ok)).unwrap();
            for r in &done.value[first + 1..] {
                prop_assert_eq!(r, &OpResult::Error(ErrorCode::RuntimeInconsistency));
            }
        } else {
            // Replaying the same ops singly must give the same tree shape and data.
            let mut single = before.clone();
            for op in ops {
                match op {
                    Op::Create { path, data, acl, mode } => { single.create(S2, &path, data, &acl, mode, 9).unwrap(); }
                    Op::Delete { path, version } => { single.delete(&path, version).unwrap(); }
                    Op::SetData { path, data, version } => { single.set_data(&path, data, version, 9).unwrap(); }
                    Op::Check { .. } => {}
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
        }
    }
}
