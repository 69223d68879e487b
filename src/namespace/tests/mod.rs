//! Behaviour tests of the namespace, one per rule, plus a property test of multi atomicity.

mod digest;
mod multi;
mod quota;
mod reap;
mod sessions;
mod trace;
mod tree;
mod watches;

use super::{Namespace, Notification};
use crate::wire::{perms, Acl, CreateMode, EventType, Stat};
use crate::wire::{KeeperState, WatcherEvent};

pub(super) const S1: u64 = 0x0100_0000_0000_0001;
pub(super) const S2: u64 = 0x0100_0000_0000_0002;

pub(super) fn open() -> Vec<Acl> {
    vec![Acl::world_anyone()]
}

pub(super) fn acl_with(bits: i32) -> Vec<Acl> {
    vec![Acl {
        perms: bits,
        ..Acl::world_anyone()
    }]
}

/// Creates a node with `mode` for session S1, panicking on error; returns its stat.
pub(super) fn mk(ns: &mut Namespace, path: &str, mode: CreateMode) -> Stat {
    ns.create(S1, path, b"d".to_vec(), &open(), mode, 1000)
        .unwrap_or_else(|e| panic!("create {path}: {e}"))
        .value
        .1
}

pub(super) fn persistent(ns: &mut Namespace, path: &str) -> Stat {
    mk(ns, path, CreateMode::Persistent)
}

pub(super) fn stat(ns: &mut Namespace, path: &str) -> Stat {
    ns.exists(path, None).unwrap()
}

pub(super) fn ev(watcher: u64, event_type: EventType, path: &str, zxid: i64) -> Notification {
    Notification {
        watcher,
        zxid,
        event: WatcherEvent {
            event_type,
            state: KeeperState::SyncConnected,
            path: path.into(),
        },
    }
}

#[test]
fn fresh_tree_has_the_zookeeper_nodes() {
    let mut ns = Namespace::new();
    assert_eq!(ns.last_zxid(), 0);
    assert_eq!(ns.node_count(), 4);
    assert_eq!(
        ns.get_children("/", None).unwrap().0,
        vec!["zookeeper".to_string()]
    );
    assert_eq!(
        ns.get_children("/zookeeper", None).unwrap().0,
        ["config", "quota"]
    );
    // As a fresh ZooKeeper 3.8 shows them: cversion is 2 * creates - children.
    assert_eq!(stat(&mut ns, "/").num_children, 1);
    assert_eq!(stat(&mut ns, "/").cversion, -1);
    assert_eq!(stat(&mut ns, "/zookeeper").cversion, -2);
    assert_eq!(stat(&mut ns, "/zookeeper/config").aversion, -1);
    assert_eq!(
        ns.get_acl("/zookeeper/config").unwrap().0,
        acl_with(perms::READ)
    );
}
