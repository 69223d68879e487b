//! The client's one-shot watch tables (`ZKWatchManager`).
//!
//! Owns: which client paths have a data, exist or child watch; which watches an event
//! consumes; and the SetWatches batches that re-arm them after a reconnect.
//!
//! Must never: deliver events or talk to the server; the session does both.

use std::collections::BTreeSet;

use crate::wire::{EventType, Request, SetWatches};

use super::chroot::Chroot;

/// A SetWatches batch closes once its summed path length exceeds this (the crossing path
/// is still included), as in ZooKeeper.
pub const SET_WATCHES_MAX_LENGTH: usize = 128 * 1024;

/// Which table a watch lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// Fired by data changes and deletion (getData, exists on an existing node).
    Data,
    /// Fired by creation (exists on a missing node).
    Exist,
    /// Fired by child-list changes and deletion (getChildren).
    Child,
}

/// Registered one-shot watches, by client path.
#[derive(Debug, Default, Clone)]
pub struct WatchTable {
    data: BTreeSet<String>,
    exist: BTreeSet<String>,
    child: BTreeSet<String>,
}

impl WatchTable {
    /// Registers a watch.
    pub fn add(&mut self, kind: WatchKind, path: &str) {
        let table = match kind {
            WatchKind::Data => &mut self.data,
            WatchKind::Exist => &mut self.exist,
            WatchKind::Child => &mut self.child,
        };
        table.insert(path.to_string());
    }

    /// Whether a watch of this kind is registered on `path`.
    #[cfg(test)]
    pub fn contains(&self, kind: WatchKind, path: &str) -> bool {
        match kind {
            WatchKind::Data => self.data.contains(path),
            WatchKind::Exist => self.exist.contains(path),
            WatchKind::Child => self.child.contains(path),
        }
    }

    /// Whether no watch is registered.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.exist.is_empty() && self.child.is_empty()
    }

    /// Consumes the watches an event of `event_type` on `path` triggers; true if any was
    /// registered (the event is then delivered).
    pub fn materialize(&mut self, event_type: EventType, path: &str) -> bool {
        let mut hit = false;
        match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                hit |= self.data.remove(path);
                hit |= self.exist.remove(path);
            }
            EventType::NodeDeleted => {
                hit |= self.data.remove(path);
                hit |= self.exist.remove(path);
                hit |= self.child.remove(path);
            }
            EventType::NodeChildrenChanged => {
                hit |= self.child.remove(path);
            }
            _ => {}
        }
        hit
    }

    /// The SetWatches requests that re-arm every watch, with server paths.
    pub fn set_watches(&self, relative_zxid: i64, chroot: &Chroot) -> Vec<Request> {
        let mut out = Vec::new();
        let mut batch: [Vec<String>; 3] = Default::default();
        let mut len = 0usize;
        let all = [(0, &self.data), (1, &self.exist), (2, &self.child)];
        for (slot, table) in all {
            for path in table.iter() {
                let server_path = chroot.prepend(path);
                len += server_path.len();
                batch[slot].push(server_path);
                if len > SET_WATCHES_MAX_LENGTH {
                    out.push(make(relative_zxid, std::mem::take(&mut batch)));
                    len = 0;
                }
            }
        }
        if batch.iter().any(|b| !b.is_empty()) {
            out.push(make(relative_zxid, batch));
        }
        out
    }
}

fn make(relative_zxid: i64, [data, exist, child]: [Vec<String>; 3]) -> Request {
    Request::SetWatches(SetWatches {
        relative_zxid,
        data,
        exist,
        child,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_change_consumes_data_and_exist_watches() {
        let mut w = WatchTable::default();
        w.add(WatchKind::Data, "/a");
        w.add(WatchKind::Child, "/a");
        assert!(w.materialize(EventType::NodeDataChanged, "/a"));
        assert!(!w.contains(WatchKind::Data, "/a"));
        assert!(w.contains(WatchKind::Child, "/a"));
        assert!(!w.materialize(EventType::NodeDataChanged, "/a"));
    }

    #[test]
    fn delete_consumes_every_table() {
        let mut w = WatchTable::default();
        w.add(WatchKind::Data, "/a");
        w.add(WatchKind::Child, "/a");
        assert!(w.materialize(EventType::NodeDeleted, "/a"));
        assert!(w.is_empty());
    }

    #[test]
    fn creation_consumes_exist_watch() {
        let mut w = WatchTable::default();
        w.add(WatchKind::Exist, "/a");
        assert!(w.materialize(EventType::NodeCreated, "/a"));
        assert!(w.is_empty());
    }

    #[test]
    fn unwatched_event_is_not_delivered() {
        let mut w = WatchTable::default();
        w.add(WatchKind::Data, "/a");
        assert!(!w.materialize(EventType::NodeChildrenChanged, "/a"));
        assert!(!w.materialize(EventType::NodeDataChanged, "/b"));
    }

    #[test]
    fn set_watches_uses_server_paths() {
        let mut w = WatchTable::default();
        w.add(WatchKind::Data, "/a");
        w.add(WatchKind::Exist, "/");
        w.add(WatchKind::Child, "/c");
        let reqs = w.set_watches(7, &Chroot::new(Some("/app".into())));
        assert_eq!(
            reqs,
            vec![Request::SetWatches(SetWatches {
                relative_zxid: 7,
                data: vec!["/app/a".into()],
                exist: vec!["/app".into()],
                child: vec!["/app/c".into()],
            })]
        );
    }

    #[test]
    fn set_watches_batches_at_128_kib_including_the_crossing_path() {
        let mut w = WatchTable::default();
        let long = "x".repeat(1000);
        for i in 0..200 {
            w.add(WatchKind::Data, &format!("/{i:03}{long}"));
        }
        let reqs = w.set_watches(0, &Chroot::default());
        assert_eq!(reqs.len(), 2);
        let sizes: Vec<usize> = reqs
            .iter()
            .map(|r| match r {
                Request::SetWatches(s) => s.data.len(),
                _ => unreachable!(),
            })
            .collect();
        // Each path is 1004 bytes: the first batch closes on the 131st path.
        assert_eq!(sizes, vec![131, 69]);
    }

    #[test]
    fn no_watches_no_set_watches() {
        assert!(WatchTable::default()
            .set_watches(0, &Chroot::default())
            .is_empty());
    }
}
