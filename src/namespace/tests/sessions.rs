//! Ephemerals and session kills.

use super::*;

#[test]
fn kill_session_deletes_only_that_sessions_ephemerals() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    mk(&mut ns, "/p/e1", CreateMode::Ephemeral);
    mk(&mut ns, "/e2", CreateMode::EphemeralSequential);
    ns.create(S2, "/other", vec![], &open(), CreateMode::Ephemeral, 1)
        .unwrap();
    let done = ns.kill_session(S1);
    assert_eq!(done.value, ["/e20000000001", "/p/e1"]);
    assert_eq!(ns.get_ephemerals(S1, "/"), Vec::<String>::new());
    assert_eq!(ns.get_ephemerals(S2, ""), ["/other"]);
    assert!(ns.exists("/p", None).is_ok());
    assert_eq!(ns.ephemerals_by_session().len(), 1);
}

#[test]
fn kill_session_moves_parent_pzxid_and_counts_like_a_delete() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    mk(&mut ns, "/p/e", CreateMode::Ephemeral);
    let before = stat(&mut ns, "/p");
    let done = ns.kill_session(S1);
    let after = stat(&mut ns, "/p");
    assert_eq!(after.pzxid, done.zxid);
    assert_eq!(after.cversion, before.cversion + 1);
    assert_eq!(after.num_children, 0);
}

#[test]
fn kill_session_fires_watches_like_deletes() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    mk(&mut ns, "/p/e", CreateMode::Ephemeral);
    ns.get_data("/p/e", Some(10)).unwrap();
    ns.get_children("/p", Some(11)).unwrap();
    let done = ns.kill_session(S1);
    let z = done.zxid;
    assert_eq!(
        done.notifications,
        vec![
            ev(10, EventType::NodeDeleted, "/p/e", z),
            ev(11, EventType::NodeChildrenChanged, "/p", z),
        ]
    );
}

#[test]
fn kill_session_without_ephemerals_takes_a_zxid_and_does_nothing_else() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    let nodes = ns.nodes.clone();
    let done = ns.kill_session(S2);
    assert!(done.value.is_empty() && done.notifications.is_empty());
    assert_eq!(done.zxid, 2);
    assert_eq!(ns.nodes, nodes);
}

#[test]
fn get_ephemerals_filters_by_string_prefix() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    persistent(&mut ns, "/ab");
    mk(&mut ns, "/a/x", CreateMode::Ephemeral);
    mk(&mut ns, "/ab/y", CreateMode::Ephemeral);
    mk(&mut ns, "/z", CreateMode::Ephemeral);
    assert_eq!(ns.get_ephemerals(S1, "/a"), ["/a/x", "/ab/y"]);
    assert_eq!(ns.get_ephemerals(S1, "/a/"), ["/a/x"]);
    assert_eq!(ns.get_ephemerals(S1, " / ").len(), 3);
    assert_eq!(ns.get_ephemerals(S2, "/"), Vec::<String>::new());
}

#[test]
fn deleting_an_ephemeral_drops_it_from_the_session_index() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/e", CreateMode::Ephemeral);
    ns.delete("/e", -1).unwrap();
    assert_eq!(ns.ephemeral_count(), 0);
    assert!(ns.ephemerals_by_session().is_empty());
    assert!(ns.kill_session(S1).value.is_empty());
}
