//! Quotas (`/zookeeper/quota`) and the memory budget.

use super::{open, persistent, S1};
use crate::namespace::{node_cost, Namespace, QuotaFigures};
use crate::wire::{Acl, CreateMode, CreateRequest, ErrorCode, MultiOp, MultiResult};

const LIMITS: &str = "/zookeeper/quota/q/zookeeper_limits";
const STATS: &str = "/zookeeper/quota/q/zookeeper_stats";

fn put(ns: &mut Namespace, path: &str, data: &[u8]) -> Result<(), ErrorCode> {
    ns.create(
        S1,
        path,
        data.to_vec(),
        &open(),
        CreateMode::Persistent,
        1000,
    )
    .map(|_| ())
}

/// What zkCli's `setquota` writes: the quota node, the limits, then a zeroed stats node.
fn set_quota(ns: &mut Namespace, target: &str, limits: &str) {
    let base = format!("/zookeeper/quota{target}");
    put(ns, &base, b"").unwrap();
    put(ns, &format!("{base}/zookeeper_limits"), limits.as_bytes()).unwrap();
    put(ns, &format!("{base}/zookeeper_stats"), b"count=0,bytes=0").unwrap();
}

fn stats(ns: &mut Namespace) -> String {
    String::from_utf8(ns.get_data(STATS, None).unwrap().0).unwrap()
}

#[test]
fn stats_node_counts_the_subtree_when_the_quota_is_set_and_follows_writes() {
    let mut ns = Namespace::new();
    put(&mut ns, "/q", b"").unwrap();
    put(&mut ns, "/q/a", b"x").unwrap();
    put(&mut ns, "/other", b"not counted").unwrap();
    set_quota(
        &mut ns,
        "/q",
        "count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1",
    );
    assert_eq!(stats(&mut ns), "count=2,bytes=1");
    let version = ns.exists(STATS, None).unwrap();
    put(&mut ns, "/q/b", b"0123456789").unwrap();
    put(&mut ns, "/q/a/deep", b"12").unwrap();
    assert_eq!(stats(&mut ns), "count=4,bytes=13");
    ns.set_data("/q/b", b"0".to_vec(), -1, 2000).unwrap();
    assert_eq!(stats(&mut ns), "count=4,bytes=4");
    ns.delete("/q/a/deep", -1).unwrap();
    assert_eq!(stats(&mut ns), "count=3,bytes=2");
    assert_eq!(ns.quota_usage("/q"), Some((3, 2)));
    // The server's rewrites take no version and no zxid.
    let now = ns.exists(STATS, None).unwrap();
    assert_eq!((now.version, now.mzxid), (version.version, version.mzxid));
    // The soft limit (count=3) is passed: only logged, even with enforcement on.
    ns.set_enforce_quota(true);
    put(&mut ns, "/q/c", b"").unwrap();
    assert_eq!(stats(&mut ns), "count=4,bytes=2");
}

#[test]
fn deleting_the_quotaed_node_leaves_zero_usage_and_deleting_limits_stops_counting() {
    let mut ns = Namespace::new();
    put(&mut ns, "/q", b"abc").unwrap();
    set_quota(&mut ns, "/q", "count=7,bytes=-1");
    ns.delete("/q", -1).unwrap();
    assert_eq!(stats(&mut ns), "count=0,bytes=0");
    put(&mut ns, "/q", b"ab").unwrap();
    assert_eq!(stats(&mut ns), "count=1,bytes=2");
    ns.delete(LIMITS, -1).unwrap();
    assert_eq!(ns.quota_usage("/q"), None);
    put(&mut ns, "/q/x", b"").unwrap();
    assert_eq!(stats(&mut ns), "count=1,bytes=2");
}

#[test]
fn hard_limits_refuse_creates_and_set_data_only_when_enforced() {
    let mut ns = Namespace::new();
    put(&mut ns, "/h", b"").unwrap();
    set_quota(
        &mut ns,
        "/h",
        "count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=3",
    );
    put(&mut ns, "/h/a", b"12345").unwrap();
    put(&mut ns, "/h/b", b"").unwrap();
    // Not enforced: the hard limits pass like soft ones.
    put(&mut ns, "/h/c", b"").unwrap();
    ns.delete("/h/c", -1).unwrap();
    ns.set_enforce_quota(true);
    let zxid = ns.last_zxid();
    assert_eq!(put(&mut ns, "/h/c", b""), Err(ErrorCode::QuotaExceeded));
    assert_eq!(
        ns.last_zxid(),
        zxid + 1,
        "a refused write still takes its zxid"
    );
    assert!(ns.exists("/h/c", None).is_err());
    assert_eq!(ns.quota_usage("/h"), Some((3, 5)));
    assert_eq!(
        ns.set_data("/h/a", b"12345678901".to_vec(), -1, 1).err(),
        Some(ErrorCode::QuotaExceeded)
    );
    ns.set_data("/h/a", b"1234567890".to_vec(), -1, 1).unwrap();
    ns.set_data("/h/a", b"1".to_vec(), -1, 1).unwrap();
    assert_eq!(ns.quota_usage("/h"), Some((3, 1)));
    // The version check comes first, as in ZooKeeper.
    assert_eq!(
        ns.set_data("/h/a", vec![0; 100], 42, 1).err(),
        Some(ErrorCode::BadVersion)
    );
    // A multi whose create passes the limit rolls back whole, stats included.
    let create = |p: &str| {
        MultiOp::Create(CreateRequest {
            path: p.to_owned(),
            data: Some(Vec::new()),
            acl: vec![Acl::world_anyone()],
            flags: 0,
        })
    };
    ns.delete("/h/b", -1).unwrap();
    let done = ns.multi(S1, vec![create("/h/x"), create("/h/y")], 1);
    assert_eq!(done.value[1], MultiResult::error(ErrorCode::QuotaExceeded));
    assert!(ns.exists("/h/x", None).is_err());
    assert_eq!(ns.quota_usage("/h"), Some((2, 1)));
}

#[test]
fn usage_is_rebuilt_from_a_restored_tree_whatever_the_order() {
    let mut ns = Namespace::new();
    put(&mut ns, "/q", b"1").unwrap();
    set_quota(
        &mut ns,
        "/q",
        "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=9",
    );
    for i in 0..5 {
        put(&mut ns, &format!("/q/n{i}"), &vec![7; i]).unwrap();
    }
    // Parents first, breadth first: the limits node (depth 4) comes after /q's children.
    let mut copy = Namespace::empty(ns.last_zxid());
    ns.for_each_node_parents_first(|path, parts| {
        assert!(copy.restore_node(
            path.to_owned(),
            parts.data.map(<[u8]>::to_vec),
            parts.acl.clone(),
            *parts.stat
        ));
    });
    assert_eq!(copy.quota_usage("/q"), ns.quota_usage("/q"));
    assert_eq!(copy.quota_usage("/q"), Some((6, 11)));
    assert_eq!(
        copy.get_data(STATS, None).unwrap().0,
        ns.get_data(STATS, None).unwrap().0
    );
    assert_eq!(copy.tree_bytes, ns.tree_bytes);
    let limits = QuotaFigures::parse(&copy.get_data(LIMITS, None).unwrap().0);
    assert_eq!(limits.count_hard, 9);
}

#[test]
fn a_write_past_the_memory_budget_fails_and_leaves_the_tree_unchanged() {
    let mut ns = Namespace::new();
    let base = ns.memory_used();
    ns.set_memory_budget(Some(base + 2 * node_cost(4, 1000)));
    put(&mut ns, "/n1", &[1; 1000]).unwrap();
    put(&mut ns, "/n2", &[2; 1000]).unwrap();
    assert_eq!(ns.memory_used(), base + 2 * node_cost(3, 1000));
    let before = ns.clone();
    assert_eq!(
        put(&mut ns, "/n3", &[3; 1000]),
        Err(ErrorCode::QuotaExceeded)
    );
    assert_eq!(
        ns.set_data("/n1", vec![0; 1100], -1, 1).err(),
        Some(ErrorCode::QuotaExceeded)
    );
    // Only the zxid moved; reads go on.
    assert_eq!(ns.node_count(), before.node_count());
    assert_eq!(ns.memory_used(), before.memory_used());
    assert_eq!(ns.get_data("/n1", None).unwrap().0, vec![1; 1000]);
    // Shrinking and deleting always pass, and free room for new writes.
    ns.set_data("/n1", vec![0; 10], -1, 1).unwrap();
    ns.delete("/n2", -1).unwrap();
    put(&mut ns, "/n3", &[3; 1000]).unwrap();
    ns.delete("/n3", -1).unwrap();
    ns.delete("/n1", -1).unwrap();
    assert_eq!(ns.memory_used(), base);
}

#[test]
fn distinct_acl_lists_count_towards_the_budget_and_are_given_back() {
    let mut ns = Namespace::new();
    let base = ns.memory_used();
    persistent(&mut ns, "/open");
    assert_eq!(ns.memory_used(), base + node_cost(5, 1));
    let mut acl = open();
    acl[0].perms = crate::wire::perms::READ;
    ns.create(S1, "/ro", Vec::new(), &acl, CreateMode::Persistent, 1)
        .unwrap();
    let with_acl = ns.memory_used();
    assert!(with_acl > base + node_cost(5, 1) + node_cost(3, 0));
    ns.delete("/ro", -1).unwrap();
    // The list is released at the next commit.
    ns.delete("/open", -1).unwrap();
    assert_eq!(ns.memory_used(), base);
}
