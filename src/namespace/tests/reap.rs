//! Container and TTL nodes: ZooKeeper 3.8's create rules for TTLs and the reaper's
//! candidate rule, with wall time passed in by hand.

use super::*;
use crate::namespace::{ttl_owner, NodeKind, ReapRules};
use crate::wire::{CreateTtlRequest, ErrorCode, MultiOp, MultiResult};
use std::sync::Arc;

const NONE: ReapRules = ReapRules {
    max_never_used_ms: 0,
};

fn ttl_node(ns: &mut Namespace, path: &str, ttl: i64, now: i64) -> Result<String, ErrorCode> {
    ns.create_ttl_as(
        &crate::namespace::Anyone,
        S1,
        path,
        b"t".to_vec(),
        &open(),
        CreateMode::PersistentWithTtl,
        ttl,
        now,
    )
    .map(|a| a.value.0)
}

fn due(ns: &Namespace, now: i64, rules: &ReapRules) -> Vec<String> {
    ns.reap_candidates(None, 1000, now, rules).due
}

#[test]
fn a_container_is_due_once_it_had_children_and_has_none() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/c", CreateMode::Container);
    // Never had a child: left alone, however old.
    assert!(due(&ns, i64::MAX / 2, &NONE).is_empty());
    persistent(&mut ns, "/c/x");
    // Has a child: not due.
    assert!(due(&ns, 5000, &NONE).is_empty());
    ns.delete("/c/x", -1).unwrap();
    assert_eq!(due(&ns, 5000, &NONE), ["/c"]);
}

#[test]
fn reaping_deletes_like_a_delete_with_one_zxid_and_its_watches() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/c", CreateMode::Container);
    persistent(&mut ns, "/c/x");
    ns.delete("/c/x", -1).unwrap();
    let root_before = stat(&mut ns, "/");
    ns.exists("/c", Some(7)).unwrap();
    ns.get_children("/", Some(8)).unwrap();
    let before = ns.last_zxid();
    let done = ns.reap("/c", 5000, &NONE).expect("due");
    assert_eq!(done.zxid, before + 1);
    assert_eq!(ns.last_zxid(), before + 1);
    assert!(ns.exists("/c", None).is_err());
    assert_eq!(
        done.notifications,
        [
            ev(7, EventType::NodeDeleted, "/c", before + 1),
            ev(8, EventType::NodeChildrenChanged, "/", before + 1)
        ]
    );
    let root = stat(&mut ns, "/");
    assert_eq!(root.pzxid, before + 1);
    assert_eq!(root.cversion, root_before.cversion + 1);
    assert_eq!(ns.reapable_count(), 0);
}

#[test]
fn reap_of_a_node_no_longer_due_changes_nothing_and_takes_no_zxid() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/c", CreateMode::Container);
    persistent(&mut ns, "/c/x");
    ns.delete("/c/x", -1).unwrap();
    // A child came back between the scan and the deletion.
    persistent(&mut ns, "/c/y");
    let before = ns.last_zxid();
    assert!(ns.reap("/c", 5000, &NONE).is_none());
    assert!(ns.reap("/missing", 5000, &NONE).is_none());
    // A persistent node is never reaped, even when asked.
    persistent(&mut ns, "/p");
    let before_p = ns.last_zxid();
    assert!(ns.reap("/p", 5000, &NONE).is_none());
    assert_eq!(ns.last_zxid(), before_p);
    assert_eq!(before + 1, before_p);
}

#[test]
fn a_never_used_container_is_due_after_max_never_used_interval() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/c", CreateMode::Container); // mtime 1000
    let rules = ReapRules {
        max_never_used_ms: 500,
    };
    assert!(due(&ns, 1500, &rules).is_empty());
    assert_eq!(due(&ns, 1501, &rules), ["/c"]);
}

#[test]
fn an_emptied_parent_container_is_due_at_the_next_pass() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/p", CreateMode::Container);
    mk(&mut ns, "/p/c", CreateMode::Container);
    persistent(&mut ns, "/p/c/x");
    ns.delete("/p/c/x", -1).unwrap();
    assert_eq!(due(&ns, 5000, &NONE), ["/p/c"]);
    ns.reap("/p/c", 5000, &NONE).unwrap();
    assert_eq!(due(&ns, 5000, &NONE), ["/p"]);
}

#[test]
fn ttl_creates_need_extended_types_and_a_ttl_in_range() {
    let mut ns = Namespace::new();
    assert_eq!(
        ttl_node(&mut ns, "/t", 1000, 1000),
        Err(ErrorCode::Unimplemented)
    );
    ns.set_extended_types(true);
    for bad in [0, -1, (1 << 40)] {
        assert_eq!(
            ttl_node(&mut ns, "/t", bad, 1000),
            Err(ErrorCode::BadArguments)
        );
    }
    // A plain create of a TTL mode carries no TTL.
    assert_eq!(
        ns.create(S1, "/t", vec![], &open(), CreateMode::PersistentWithTtl, 1)
            .unwrap_err(),
        ErrorCode::BadArguments
    );
    // createTTL of another mode must not send a TTL; with −1 it creates that mode.
    let who = &crate::namespace::Anyone;
    assert_eq!(
        ns.create_ttl_as(who, S1, "/p", vec![], &open(), CreateMode::Persistent, 5, 1)
            .unwrap_err(),
        ErrorCode::BadArguments
    );
    ns.create_ttl_as(
        who,
        S1,
        "/p",
        vec![],
        &open(),
        CreateMode::Persistent,
        -1,
        1,
    )
    .unwrap();
    assert_eq!(ns.nodes["/p"].kind(), NodeKind::Persistent);
}

#[test]
fn a_ttl_node_is_stored_with_the_ttl_marker_and_shown_with_owner_zero() {
    let mut ns = Namespace::new();
    ns.set_extended_types(true);
    assert_eq!(ttl_node(&mut ns, "/t", 5000, 1000).unwrap(), "/t");
    assert_eq!(
        ns.nodes["/t"].stat.ephemeral_owner,
        0xff00_0000_0000_1388u64 as i64
    );
    assert_eq!(stat(&mut ns, "/t").ephemeral_owner, 0);
    assert_eq!(ns.ephemeral_count(), 0);
    // Unlike an ephemeral, a TTL node may have children.
    persistent(&mut ns, "/t/child");
    // The sequential TTL mode numbers like any sequential create.
    let seq = ns
        .create_ttl_as(
            &crate::namespace::Anyone,
            S1,
            "/t/s-",
            vec![],
            &open(),
            CreateMode::PersistentSequentialWithTtl,
            10,
            1000,
        )
        .unwrap()
        .value
        .0;
    assert_eq!(seq, "/t/s-0000000001");
}

#[test]
fn a_ttl_node_is_due_when_unmodified_for_longer_than_its_ttl_and_childless() {
    let mut ns = Namespace::new();
    ns.set_extended_types(true);
    ttl_node(&mut ns, "/t", 500, 1000).unwrap();
    assert!(due(&ns, 1500, &NONE).is_empty());
    assert_eq!(due(&ns, 1501, &NONE), ["/t"]);
    // A write moves mtime and so the deadline.
    ns.set_data("/t", b"again".to_vec(), -1, 1400).unwrap();
    assert!(due(&ns, 1600, &NONE).is_empty());
    assert_eq!(due(&ns, 1901, &NONE), ["/t"]);
    // A child keeps it.
    persistent(&mut ns, "/t/c");
    assert!(due(&ns, 9000, &NONE).is_empty());
    ns.delete("/t/c", -1).unwrap();
    assert_eq!(due(&ns, 9000, &NONE), ["/t"]);
    // With extended types off, TTL nodes are kept (ZooKeeper only tracks them when on).
    ns.set_extended_types(false);
    assert!(due(&ns, 9000, &NONE).is_empty());
    assert!(ns.reap("/t", 9000, &NONE).is_none());
    ns.set_extended_types(true);
    assert!(ns.reap("/t", 9000, &NONE).is_some());
    assert!(ns.exists("/t", None).is_err());
}

#[test]
fn multi_creates_ttl_nodes_only_with_extended_types() {
    let ttl_op = || {
        MultiOp::CreateTtl(CreateTtlRequest {
            path: "/t".into(),
            data: Some(vec![]),
            acl: open(),
            flags: CreateMode::PersistentWithTtl as i32,
            ttl: 1000,
        })
    };
    let mut ns = Namespace::new();
    let before = ns.last_zxid();
    let refused = ns.multi(S1, vec![ttl_op()], 1000);
    assert_eq!(
        refused.value,
        [MultiResult::error(ErrorCode::Unimplemented)]
    );
    assert_eq!(ns.last_zxid(), before + 1);
    ns.set_extended_types(true);
    let done = ns.multi(S1, vec![ttl_op()], 1000);
    assert!(matches!(&done.value[0], MultiResult::Create2 { path, .. } if path == "/t"));
    assert_eq!(ns.nodes["/t"].kind(), NodeKind::Ttl(1000));
}

#[test]
fn candidates_come_a_page_at_a_time_in_path_order() {
    let mut ns = Namespace::new();
    for i in 0..10 {
        let p = format!("/c{i}");
        mk(&mut ns, &p, CreateMode::Container);
        persistent(&mut ns, &format!("{p}/x"));
        if i % 2 == 0 {
            ns.delete(&format!("{p}/x"), -1).unwrap();
        }
    }
    let mut after: Option<String> = None;
    let mut found = Vec::new();
    let mut pages = 0;
    loop {
        let page = ns.reap_candidates(after.as_deref(), 3, 5000, &NONE);
        pages += 1;
        found.extend(page.due);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(found, ["/c0", "/c2", "/c4", "/c6", "/c8"]);
    assert_eq!(pages, 4);
}

#[test]
fn restored_container_and_ttl_nodes_keep_their_kind_and_are_due() {
    let mut ns = Namespace::empty(100);
    let acl: Arc<[crate::wire::Acl]> = Arc::from(open());
    assert!(ns.restore_node("/".into(), vec![], acl.clone(), Stat::default()));
    let container = Stat {
        ephemeral_owner: i64::MIN,
        cversion: 3,
        mtime: 1000,
        ..Stat::default()
    };
    let ttl = Stat {
        ephemeral_owner: ttl_owner(200).unwrap(),
        mtime: 1000,
        ..Stat::default()
    };
    assert!(ns.restore_node("/c".into(), vec![], acl.clone(), container));
    assert!(ns.restore_node("/t".into(), vec![], acl, ttl));
    ns.set_extended_types(true);
    assert_eq!(ns.reapable_count(), 2);
    assert_eq!(due(&ns, 1100, &NONE), ["/c"]);
    assert_eq!(due(&ns, 1201, &NONE), ["/c", "/t"]);
    assert_eq!(ns.ephemeral_count(), 0);
    assert_eq!(stat(&mut ns, "/t").ephemeral_owner, 0);
}
