//! Watch registration, triggering, setWatches, removal and introspection.

use super::*;
use crate::namespace::{WatchMode, WatchSummary};
use crate::wire::{ErrorCode, WatcherType};

#[test]
fn exists_watch_on_missing_node_fires_on_create() {
    let mut ns = Namespace::new();
    assert_eq!(ns.exists("/a", Some(1)).unwrap_err(), ErrorCode::NoNode);
    let done = ns
        .create(S1, "/a", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        done.notifications,
        vec![ev(1, EventType::NodeCreated, "/a", done.zxid)]
    );
    assert_eq!(ns.watch_count(), 0);
}

#[test]
fn data_watch_fires_once_on_set_data() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.exists("/a", Some(2)).unwrap();
    let done = ns.set_data("/a", vec![1], -1, 2).unwrap();
    assert_eq!(
        done.notifications,
        vec![
            ev(1, EventType::NodeDataChanged, "/a", done.zxid),
            ev(2, EventType::NodeDataChanged, "/a", done.zxid),
        ]
    );
    assert!(ns
        .set_data("/a", vec![2], -1, 3)
        .unwrap()
        .notifications
        .is_empty());
}

#[test]
fn missing_node_reads_leave_no_data_or_child_watch() {
    let mut ns = Namespace::new();
    assert!(ns.get_data("/a", Some(1)).is_err());
    assert!(ns.get_children("/a", Some(1)).is_err());
    assert_eq!(ns.watch_count(), 0);
}

#[test]
fn child_watch_fires_on_create_and_delete_of_children() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    ns.get_children("/p", Some(3)).unwrap();
    let done = ns
        .create(S1, "/p/c", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        done.notifications,
        vec![ev(3, EventType::NodeChildrenChanged, "/p", done.zxid)]
    );
    ns.get_children("/p", Some(3)).unwrap();
    let done = ns.delete("/p/c", -1).unwrap();
    assert_eq!(
        done.notifications,
        vec![ev(3, EventType::NodeChildrenChanged, "/p", done.zxid)]
    );
}

#[test]
fn child_watches_on_the_root_fire() {
    let mut ns = Namespace::new();
    ns.get_children("/", Some(4)).unwrap();
    let done = ns
        .create(S1, "/a", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        done.notifications,
        vec![ev(4, EventType::NodeChildrenChanged, "/", done.zxid)]
    );
}

#[test]
fn delete_sends_one_node_deleted_per_watcher() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.get_children("/a", Some(1)).unwrap();
    ns.get_children("/a", Some(2)).unwrap();
    let done = ns.delete("/a", -1).unwrap();
    assert_eq!(
        done.notifications,
        vec![
            ev(1, EventType::NodeDeleted, "/a", done.zxid),
            ev(2, EventType::NodeDeleted, "/a", done.zxid),
        ]
    );
    assert_eq!(ns.watch_count(), 0);
}

#[test]
fn set_acl_fires_no_watch() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    assert!(ns
        .set_acl("/a", &open(), -1)
        .unwrap()
        .notifications
        .is_empty());
    assert_eq!(ns.watch_count(), 1);
}

#[test]
fn failed_write_fires_no_watch() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    assert!(ns.set_data("/a", vec![], 9, 1).is_err());
    assert_eq!(ns.watch_count(), 1);
}

#[test]
fn set_watches_fires_for_changes_after_relative_zxid() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/old"); // zxid 1
    persistent(&mut ns, "/parent"); // zxid 2
    let rel = ns.last_zxid();
    persistent(&mut ns, "/new"); // zxid 3
    ns.set_data("/old", vec![9], -1, 5).unwrap(); // zxid 4
    persistent(&mut ns, "/parent/c"); // zxid 5
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let fired = ns.set_watches(
        rel,
        &s(&["/old", "/gone", "/parent"]),
        &s(&["/new", "/absent"]),
        &s(&["/parent", "/gone2", "/"]),
        &[],
        &[],
        9,
    );
    assert_eq!(
        fired,
        vec![
            ev(9, EventType::NodeDataChanged, "/old", -1),
            ev(9, EventType::NodeDeleted, "/gone", -1),
            ev(9, EventType::NodeCreated, "/new", -1),
            ev(9, EventType::NodeChildrenChanged, "/parent", -1),
            ev(9, EventType::NodeDeleted, "/gone2", -1),
            ev(9, EventType::NodeChildrenChanged, "/", -1),
        ]
    );
    // Registered: data watch on /parent, exist watch on /absent.
    assert_eq!(ns.watch_count(), 2);
    assert!(ns.check_watches("/parent", WatcherType::Data, 9).is_ok());
    assert!(ns.check_watches("/absent", WatcherType::Data, 9).is_ok());
    let done = ns
        .create(S1, "/absent", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        done.notifications[0].event.event_type,
        EventType::NodeCreated
    );
}

#[test]
fn set_watches_registers_unchanged_child_watch() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    let rel = ns.last_zxid();
    let fired = ns.set_watches(rel, &[], &[], &["/p".to_string()], &[], &[], 5);
    assert!(fired.is_empty());
    assert!(ns.check_watches("/p", WatcherType::Children, 5).is_ok());
}

#[test]
fn set_watches_registers_persistent_kinds() {
    let mut ns = Namespace::new();
    let p = vec!["/a".to_string()];
    let r = vec!["/b".to_string()];
    assert!(ns.set_watches(0, &[], &[], &[], &p, &r, 5).is_empty());
    assert!(ns.check_watches("/a", WatcherType::Persistent, 5).is_ok());
    assert!(ns
        .check_watches("/b", WatcherType::PersistentRecursive, 5)
        .is_ok());
    assert_eq!(ns.watch_count(), 4);
}

#[test]
fn persistent_watch_sees_every_change_of_its_node() {
    let mut ns = Namespace::new();
    ns.add_watch("/a", WatchMode::Persistent, 1).unwrap();
    let c = ns
        .create(S1, "/a", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        c.notifications,
        vec![ev(1, EventType::NodeCreated, "/a", c.zxid)]
    );
    let k = ns
        .create(S1, "/a/k", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        k.notifications,
        vec![ev(1, EventType::NodeChildrenChanged, "/a", k.zxid)]
    );
    let s = ns.set_data("/a", vec![], -1, 1).unwrap();
    assert_eq!(
        s.notifications,
        vec![ev(1, EventType::NodeDataChanged, "/a", s.zxid)]
    );
    let s2 = ns.set_data("/a", vec![], -1, 1).unwrap();
    assert_eq!(s2.notifications.len(), 1);
    // Grandchildren are not its business.
    let g = ns
        .create(S1, "/a/k/g", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert!(g.notifications.is_empty());
}

#[test]
fn recursive_watch_sees_descendants_except_child_changes() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/r");
    ns.add_watch("/r", WatchMode::PersistentRecursive, 2)
        .unwrap();
    let c = ns
        .create(S1, "/r/a", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        c.notifications,
        vec![ev(2, EventType::NodeCreated, "/r/a", c.zxid)]
    );
    let g = ns
        .create(S1, "/r/a/b", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert_eq!(
        g.notifications,
        vec![ev(2, EventType::NodeCreated, "/r/a/b", g.zxid)]
    );
    let d = ns.delete("/r/a/b", -1).unwrap();
    assert_eq!(
        d.notifications,
        vec![ev(2, EventType::NodeDeleted, "/r/a/b", d.zxid)]
    );
    let other = ns
        .create(S1, "/x", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert!(other.notifications.is_empty());
}

#[test]
fn add_watch_refuses_standard_mode() {
    let mut ns = Namespace::new();
    assert_eq!(
        ns.add_watch("/a", WatchMode::Standard, 1).unwrap_err(),
        ErrorCode::BadArguments
    );
}

#[test]
fn check_watches_matches_the_watcher_type() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.get_children("/a", Some(2)).unwrap();
    assert!(ns.check_watches("/a", WatcherType::Data, 1).is_ok());
    assert!(ns.check_watches("/a", WatcherType::Any, 1).is_ok());
    assert_eq!(
        ns.check_watches("/a", WatcherType::Children, 1),
        Err(ErrorCode::NoWatcher)
    );
    assert!(ns.check_watches("/a", WatcherType::Children, 2).is_ok());
    assert_eq!(
        ns.check_watches("/a", WatcherType::Data, 2),
        Err(ErrorCode::NoWatcher)
    );
    assert_eq!(
        ns.check_watches("/a", WatcherType::Persistent, 1),
        Err(ErrorCode::NoWatcher)
    );
    assert_eq!(
        ns.check_watches("/b", WatcherType::Any, 1),
        Err(ErrorCode::NoWatcher)
    );
}

#[test]
fn remove_watches_removes_or_reports_no_watcher() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.get_children("/a", Some(1)).unwrap();
    assert_eq!(
        ns.remove_watches("/a", WatcherType::Children, 2),
        Err(ErrorCode::NoWatcher)
    );
    assert!(ns.remove_watches("/a", WatcherType::Children, 1).is_ok());
    assert_eq!(
        ns.remove_watches("/a", WatcherType::Children, 1),
        Err(ErrorCode::NoWatcher)
    );
    assert!(ns.remove_watches("/a", WatcherType::Any, 1).is_ok());
    assert_eq!(ns.watch_count(), 0);
    ns.add_watch("/a", WatchMode::PersistentRecursive, 1)
        .unwrap();
    assert_eq!(
        ns.remove_watches("/a", WatcherType::Persistent, 1),
        Err(ErrorCode::NoWatcher)
    );
    assert!(ns
        .remove_watches("/a", WatcherType::PersistentRecursive, 1)
        .is_ok());
    assert!(ns
        .set_data("/a", vec![], -1, 1)
        .unwrap()
        .notifications
        .is_empty());
}

#[test]
fn remove_watcher_drops_all_of_a_connections_watches() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.get_children("/a", Some(1)).unwrap();
    let _ = ns.exists("/b", Some(1));
    ns.add_watch("/c", WatchMode::PersistentRecursive, 1)
        .unwrap();
    ns.get_data("/a", Some(2)).unwrap();
    assert_eq!(ns.remove_watcher(1), 5);
    assert_eq!(ns.remove_watcher(1), 0);
    assert_eq!(ns.watch_count(), 1);
    let done = ns.set_data("/a", vec![], -1, 1).unwrap();
    assert_eq!(
        done.notifications,
        vec![ev(2, EventType::NodeDataChanged, "/a", done.zxid)]
    );
    let c = ns
        .create(S1, "/c", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    assert!(c.notifications.is_empty());
}

#[test]
fn watch_introspection_reports_by_path_and_watcher() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.get_data("/a", Some(1)).unwrap();
    ns.get_children("/a", Some(1)).unwrap();
    ns.get_data("/a", Some(2)).unwrap();
    let _ = ns.exists("/b", Some(2));
    assert_eq!(ns.watch_count(), 4);
    // `wchs` covers the data table only, as ZooKeeper's does.
    assert_eq!(
        ns.watch_summary(),
        WatchSummary {
            watchers: 2,
            paths: 2,
            total: 3
        }
    );
    assert_eq!(ns.data_watches_page(2, None, usize::MAX), ["/a", "/b"]);
    assert!(ns.watch_counts_consistent());
    let by_w = ns.watches_by_watcher();
    assert_eq!(by_w[&1].iter().collect::<Vec<_>>(), ["/a"]);
    assert_eq!(by_w[&2].iter().collect::<Vec<_>>(), ["/a", "/b"]);
    let by_p = ns.watches_by_path();
    assert_eq!(by_p["/a"].iter().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(by_p["/b"].iter().copied().collect::<Vec<_>>(), [2]);
    ns.remove_watcher(2);
    assert_eq!(ns.watch_summary().total, 1);
    ns.set_data("/a", vec![1], -1, 2).unwrap();
    assert!(ns.watch_counts_consistent());
}

#[test]
fn data_watches_page_resumes_after_the_last_path_and_sees_changes_between_pages() {
    let mut ns = Namespace::new();
    for name in ["/p0", "/p1", "/p2", "/p3", "/p4"] {
        let _ = ns.exists(name, Some(7));
    }
    let first = ns.data_watches_page(7, None, 2);
    assert_eq!(first, ["/p0", "/p1"]);
    // A watch added before the cursor is not repeated; one after it is seen.
    let _ = ns.exists("/p00", Some(7));
    let _ = ns.exists("/p5", Some(7));
    let second = ns.data_watches_page(7, first.last().map(String::as_str), 2);
    assert_eq!(second, ["/p2", "/p3"]);
    let third = ns.data_watches_page(7, second.last().map(String::as_str), 2);
    assert_eq!(third, ["/p4", "/p5"]);
    let rest = ns.data_watches_page(7, third.last().map(String::as_str), 2);
    assert!(rest.is_empty());
    // Child watches are not in the data table; an unknown watcher has none.
    ns.get_children("/", Some(8)).unwrap();
    assert!(ns.data_watches_page(8, None, 10).is_empty());
    assert!(ns.data_watches_page(9, None, 10).is_empty());
}
