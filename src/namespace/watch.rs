//! Watch tables: who watches which path, in which mode, and who an event reaches.
//!
//! Owns: the data table (data and exist watches) and the child table, each indexed both by
//! path and by watcher, ZooKeeper's trigger rules (one-shot standard watches, persistent
//! watches that stay, recursive watches that see every descendant except
//! `NodeChildrenChanged`), and per-watcher removal.
//!
//! Invariants: `by_path[p]` holds `w` exactly when `by_watcher[w]` holds `p`; no empty set
//! is kept in either index; `recursive` counts the recursive entries of the table and
//! `entries` all of them, so every figure the four-letter words ask for is O(1).
//!
//! Must never: deliver anything itself; triggers return the watcher ids to notify.

use std::collections::{BTreeSet, HashMap};

use super::path;
use crate::wire::EventType;

/// The opaque id the server gives a watcher (one per connection).
pub type WatcherId = u64;

/// How a watch behaves when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchMode {
    /// One-shot: removed when it fires (getData, exists, getChildren watches).
    Standard,
    /// Stays after firing, for the path itself (`addWatch` mode 0).
    Persistent,
    /// Stays after firing, for the path and all descendants (`addWatch` mode 1).
    PersistentRecursive,
}

impl WatchMode {
    /// The mode of an `addWatch` request's `mode` field (0 persistent, 1 recursive).
    pub fn from_add_watch_mode(mode: i32) -> Option<WatchMode> {
        match mode {
            0 => Some(WatchMode::Persistent),
            1 => Some(WatchMode::PersistentRecursive),
            _ => None,
        }
    }
}

/// Which entries a removal or a check matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Matching {
    /// Any entry.
    Any,
    /// Only entries of this mode.
    Mode(WatchMode),
}

impl Matching {
    fn matches(self, mode: WatchMode) -> bool {
        match self {
            Matching::Any => true,
            Matching::Mode(m) => m == mode,
        }
    }
}

/// One watch table (data or child).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    by_path: HashMap<String, HashMap<WatcherId, WatchMode>>,
    /// Sorted per watcher, so a four-letter word can copy one watcher's paths a page at a
    /// time (resuming after the last path it saw) instead of in one lock hold.
    by_watcher: HashMap<WatcherId, BTreeSet<String>>,
    recursive: usize,
    entries: usize,
}

impl Table {
    /// Registers `w` on `path`. A standard watch never downgrades a persistent entry.
    pub(crate) fn add(&mut self, path: &str, w: WatcherId, mode: WatchMode) {
        let entries = self.by_path.entry(path.to_owned()).or_default();
        match entries.get(&w).copied() {
            Some(_) if mode == WatchMode::Standard => return,
            Some(WatchMode::PersistentRecursive) => self.recursive -= 1,
            _ => {}
        }
        if mode == WatchMode::PersistentRecursive {
            self.recursive += 1;
        }
        if entries.insert(w, mode).is_none() {
            self.entries += 1;
        }
        self.by_watcher
            .entry(w)
            .or_default()
            .insert(path.to_owned());
    }

    /// Fires `event` for `path`: returns the watchers to notify (sorted, each once, minus
    /// `suppress`) and removes the one-shot entries that fired.
    pub(crate) fn trigger(
        &mut self,
        path: &str,
        event: EventType,
        suppress: &BTreeSet<WatcherId>,
    ) -> BTreeSet<WatcherId> {
        let mut out = BTreeSet::new();
        if let Some(entries) = self.by_path.get_mut(path) {
            let mut fired_once = Vec::new();
            for (&w, &mode) in entries.iter() {
                match mode {
                    WatchMode::PersistentRecursive => {
                        if event != EventType::NodeChildrenChanged {
                            out.insert(w);
                        }
                    }
                    WatchMode::Persistent => {
                        out.insert(w);
                    }
                    WatchMode::Standard => {
                        out.insert(w);
                        fired_once.push(w);
                    }
                }
            }
            for w in &fired_once {
                entries.remove(w);
            }
            self.entries -= fired_once.len();
            if entries.is_empty() {
                self.by_path.remove(path);
            }
            for w in fired_once {
                self.unindex_watcher(w, path);
            }
        }
        if self.recursive > 0 && event != EventType::NodeChildrenChanged {
            for ancestor in path::ancestors(path) {
                if let Some(entries) = self.by_path.get(ancestor) {
                    out.extend(
                        entries
                            .iter()
                            .filter(|(_, m)| **m == WatchMode::PersistentRecursive)
                            .map(|(w, _)| *w),
                    );
                }
            }
        }
        out.retain(|w| !suppress.contains(w));
        out
    }

    fn unindex_watcher(&mut self, w: WatcherId, path: &str) {
        if let Some(paths) = self.by_watcher.get_mut(&w) {
            paths.remove(path);
            if paths.is_empty() {
                self.by_watcher.remove(&w);
            }
        }
    }

    /// Whether `w` has a matching entry on `path`.
    pub(crate) fn contains(&self, path: &str, w: WatcherId, matching: Matching) -> bool {
        self.by_path
            .get(path)
            .and_then(|e| e.get(&w))
            .is_some_and(|m| matching.matches(*m))
    }

    /// Removes `w`'s matching entry on `path`; whether there was one.
    pub(crate) fn remove(&mut self, path: &str, w: WatcherId, matching: Matching) -> bool {
        let Some(entries) = self.by_path.get_mut(path) else {
            return false;
        };
        match entries.get(&w) {
            Some(m) if matching.matches(*m) => {
                if *m == WatchMode::PersistentRecursive {
                    self.recursive -= 1;
                }
                entries.remove(&w);
                self.entries -= 1;
                if entries.is_empty() {
                    self.by_path.remove(path);
                }
                self.unindex_watcher(w, path);
                true
            }
            _ => false,
        }
    }

    /// Removes every entry of `w`; how many there were.
    pub(crate) fn remove_watcher(&mut self, w: WatcherId) -> usize {
        let Some(paths) = self.by_watcher.remove(&w) else {
            return 0;
        };
        for p in &paths {
            if let Some(entries) = self.by_path.get_mut(p) {
                match entries.remove(&w) {
                    Some(WatchMode::PersistentRecursive) => {
                        self.recursive -= 1;
                        self.entries -= 1;
                    }
                    Some(_) => self.entries -= 1,
                    None => {}
                }
                if entries.is_empty() {
                    self.by_path.remove(p);
                }
            }
        }
        paths.len()
    }

    /// The number of (path, watcher) entries (kept as entries come and go: O(1)).
    pub(crate) fn len(&self) -> usize {
        self.entries
    }

    /// The number of watched paths.
    pub(crate) fn path_count(&self) -> usize {
        self.by_path.len()
    }

    /// The number of watchers with at least one entry.
    pub(crate) fn watcher_count(&self) -> usize {
        self.by_watcher.len()
    }

    /// At most `max` of the paths `w` watches, sorted, starting strictly after `after`
    /// (from the first with `None`): O(log n + max), so a caller holding a lock the
    /// request path needs can copy a large set a bounded page at a time.
    pub(crate) fn paths_of_page(
        &self,
        w: WatcherId,
        after: Option<&str>,
        max: usize,
    ) -> Vec<String> {
        use std::ops::Bound::{Excluded, Unbounded};
        let Some(paths) = self.by_watcher.get(&w) else {
            return Vec::new();
        };
        let start = match after {
            Some(a) => Excluded(a),
            None => Unbounded,
        };
        let page: Vec<String> = paths
            .range::<str, _>((start, Unbounded))
            .take(max)
            .cloned()
            .collect();
        debug_assert!(page.len() <= max);
        debug_assert!(page.windows(2).all(|p| p[0] < p[1]));
        page
    }

    /// Recounts the entries from the index (tests compare it with [`Table::len`]).
    #[cfg(test)]
    pub(crate) fn recount(&self) -> usize {
        self.by_watcher.values().map(BTreeSet::len).sum()
    }

    /// Iterates (path, watchers of it).
    pub(crate) fn paths(
        &self,
    ) -> impl Iterator<Item = (&String, impl Iterator<Item = &WatcherId>)> {
        self.by_path.iter().map(|(p, e)| (p, e.keys()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: &BTreeSet<WatcherId> = &BTreeSet::new();

    #[test]
    fn standard_watch_fires_once() {
        let mut t = Table::default();
        t.add("/a", 1, WatchMode::Standard);
        assert_eq!(
            t.trigger("/a", EventType::NodeDataChanged, NONE),
            BTreeSet::from([1])
        );
        assert!(t.trigger("/a", EventType::NodeDataChanged, NONE).is_empty());
        assert_eq!(t.len(), 0);
        assert!(t.by_watcher.is_empty() && t.by_path.is_empty());
    }

    #[test]
    fn persistent_watch_stays_and_standard_does_not_downgrade_it() {
        let mut t = Table::default();
        t.add("/a", 1, WatchMode::Persistent);
        t.add("/a", 1, WatchMode::Standard);
        for _ in 0..2 {
            assert_eq!(
                t.trigger("/a", EventType::NodeDataChanged, NONE),
                BTreeSet::from([1])
            );
        }
        assert!(t.contains("/a", 1, Matching::Mode(WatchMode::Persistent)));
    }

    #[test]
    fn recursive_watch_sees_descendants_but_not_child_changes() {
        let mut t = Table::default();
        t.add("/a", 7, WatchMode::PersistentRecursive);
        assert_eq!(
            t.trigger("/a/b/c", EventType::NodeCreated, NONE),
            BTreeSet::from([7])
        );
        assert!(t
            .trigger("/a", EventType::NodeChildrenChanged, NONE)
            .is_empty());
        assert!(t.trigger("/b", EventType::NodeCreated, NONE).is_empty());
        assert_eq!(t.remove_watcher(7), 1);
        assert_eq!(t.recursive, 0);
    }

    #[test]
    fn suppressed_watchers_are_not_returned() {
        let mut t = Table::default();
        t.add("/a", 1, WatchMode::Standard);
        t.add("/a", 2, WatchMode::Standard);
        let got = t.trigger("/a", EventType::NodeDeleted, &BTreeSet::from([1]));
        assert_eq!(got, BTreeSet::from([2]));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn remove_matches_mode() {
        let mut t = Table::default();
        t.add("/a", 1, WatchMode::PersistentRecursive);
        assert!(!t.remove("/a", 1, Matching::Mode(WatchMode::Persistent)));
        assert!(!t.remove("/a", 2, Matching::Any));
        assert!(!t.remove("/b", 1, Matching::Any));
        assert!(t.remove("/a", 1, Matching::Mode(WatchMode::PersistentRecursive)));
        assert_eq!(t.recursive, 0);
        assert_eq!(t, Table::default());
    }

    #[test]
    fn add_watch_modes_decode() {
        assert_eq!(
            WatchMode::from_add_watch_mode(0),
            Some(WatchMode::Persistent)
        );
        assert_eq!(
            WatchMode::from_add_watch_mode(1),
            Some(WatchMode::PersistentRecursive)
        );
        assert_eq!(WatchMode::from_add_watch_mode(2), None);
    }
}
