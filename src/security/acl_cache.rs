//! One copy of each distinct ACL list, shared by every node that has it.
//!
//! Owns: [`AclCache`], ZooKeeper's `ReferenceCountedACLCache`: a list gets a `long` key
//! (1, 2, 3, ... in order of first use; `-1` stands for the open list and is never
//! stored), nodes hold the key, and a reference count per key drops the list when the
//! last node using it goes. The keys and lists are those a snapshot stores
//! ([`Snapshot::acls`](crate::persist::Snapshot), [`DataNode::acl`](crate::persist::DataNode)).
//!
//! Invariants: a key maps to exactly one list and (for lists added here) a list to one
//! key; the next key is above every key ever seen, including keys loaded from a snapshot;
//! a key with no user is dropped on [`AclCache::remove_usage`] and on
//! [`AclCache::purge_unused`]; counts never go below zero.
//!
//! Must never: check permissions or validate lists (see `acl`); it only stores.

use std::collections::HashMap;
use std::sync::Arc;

use crate::persist::{Acl, OPEN_UNSAFE_ACL};
use crate::wire::perms;

/// A shared ACL list.
pub type AclList = Arc<[Acl]>;

struct Entry {
    list: AclList,
    refs: u64,
}

/// Distinct ACL lists with reference counts.
pub struct AclCache {
    by_key: HashMap<i64, Entry>,
    by_list: HashMap<AclList, i64>,
    last_key: i64,
    open: AclList,
}

impl Default for AclCache {
    fn default() -> Self {
        AclCache {
            by_key: HashMap::new(),
            by_list: HashMap::new(),
            last_key: 0,
            open: Arc::from(vec![Acl::new(perms::ALL, "world", "anyone")]),
        }
    }
}

impl std::fmt::Debug for AclCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AclCache")
            .field("lists", &self.by_key.len())
            .field("last_key", &self.last_key)
            .finish()
    }
}

impl AclCache {
    /// An empty cache.
    pub fn new() -> Self {
        AclCache::default()
    }

    /// The cache a snapshot describes: every list with a count of zero, to be raised by
    /// [`add_usage`](Self::add_usage) for each node loaded, then
    /// [`purge_unused`](Self::purge_unused).
    pub fn from_snapshot(acls: &[(i64, Vec<Acl>)]) -> Self {
        let mut cache = AclCache::new();
        for (key, list) in acls {
            let list: AclList = Arc::from(list.clone());
            cache.last_key = cache.last_key.max(*key);
            cache.by_list.insert(list.clone(), *key);
            cache.by_key.insert(*key, Entry { list, refs: 0 });
        }
        cache
    }

    /// The lists as a snapshot stores them, by ascending key.
    pub fn to_snapshot(&self) -> Vec<(i64, Vec<Acl>)> {
        let mut out: Vec<(i64, Vec<Acl>)> = self
            .by_key
            .iter()
            .map(|(k, e)| (*k, e.list.to_vec()))
            .collect();
        out.sort_unstable_by_key(|(k, _)| *k);
        out
    }

    /// The key for `list`, counting one more user (a new key if the list is new).
    pub fn intern(&mut self, list: &[Acl]) -> i64 {
        let key = match self.by_list.get(list) {
            Some(&key) => key,
            None => {
                self.last_key += 1;
                let key = self.last_key;
                let list: AclList = Arc::from(list.to_vec());
                self.by_list.insert(list.clone(), key);
                self.by_key.insert(key, Entry { list, refs: 0 });
                key
            }
        };
        self.add_usage(key);
        key
    }

    /// The list of `key` ([`OPEN_UNSAFE_ACL`] is `world:anyone` with every permission);
    /// `None` for a key the cache does not hold.
    pub fn get(&self, key: i64) -> Option<&AclList> {
        if key == OPEN_UNSAFE_ACL {
            return Some(&self.open);
        }
        self.by_key.get(&key).map(|e| &e.list)
    }

    /// One more node uses `key` (unknown keys and the open key are ignored, as in
    /// ZooKeeper).
    pub fn add_usage(&mut self, key: i64) {
        if let Some(e) = self.by_key.get_mut(&key) {
            e.refs += 1;
        }
    }

    /// One node fewer uses `key`; the list goes when none is left.
    pub fn remove_usage(&mut self, key: i64) {
        let Some(e) = self.by_key.get_mut(&key) else {
            return;
        };
        e.refs = e.refs.saturating_sub(1);
        if e.refs == 0 {
            self.drop_key(key);
        }
    }

    /// Drops every list no node uses (after loading a snapshot).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self
            .by_key
            .iter()
            .filter(|(_, e)| e.refs == 0)
            .map(|(k, _)| *k)
            .collect();
        for key in unused {
            self.drop_key(key);
        }
    }

    fn drop_key(&mut self, key: i64) {
        if let Some(e) = self.by_key.remove(&key) {
            if self.by_list.get(&e.list) == Some(&key) {
                self.by_list.remove(&e.list);
            }
        }
    }

    /// How many nodes use `key` (0 for an unknown key).
    pub fn usage(&self, key: i64) -> u64 {
        self.by_key.get(&key).map_or(0, |e| e.refs)
    }

    /// How many distinct lists are held.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no list is held.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Bytes held by the lists' strings and entries (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.by_key
            .values()
            .map(|e| {
                e.list
                    .iter()
                    .map(|a| std::mem::size_of::<Acl>() + a.id.scheme.len() + a.id.id.len())
                    .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::Snapshot;

    fn digest(n: &str) -> Vec<Acl> {
        vec![Acl::new(31, "digest", n)]
    }

    #[test]
    fn identical_lists_share_one_key() {
        let mut c = AclCache::new();
        let a = c.intern(&digest("a:x"));
        let b = c.intern(&digest("a:x"));
        assert_eq!(a, b);
        assert_eq!(c.len(), 1);
        assert_eq!(c.usage(a), 2);
        assert!(Arc::ptr_eq(c.get(a).unwrap(), c.get(b).unwrap()));
    }

    #[test]
    fn keys_count_up_from_one() {
        let mut c = AclCache::new();
        assert_eq!(c.intern(&digest("a:x")), 1);
        assert_eq!(c.intern(&digest("b:x")), 2);
    }

    #[test]
    fn last_user_gone_drops_the_list_and_keys_are_not_reused() {
        let mut c = AclCache::new();
        let a = c.intern(&digest("a:x"));
        c.intern(&digest("a:x"));
        c.remove_usage(a);
        assert!(c.get(a).is_some());
        c.remove_usage(a);
        assert!(c.get(a).is_none());
        assert!(c.is_empty());
        assert_eq!(c.intern(&digest("a:x")), 2);
    }

    #[test]
    fn open_key_is_world_anyone_and_never_counted() {
        let mut c = AclCache::new();
        assert_eq!(
            &**c.get(OPEN_UNSAFE_ACL).unwrap(),
            &[Acl::new(31, "world", "anyone")]
        );
        c.add_usage(OPEN_UNSAFE_ACL);
        c.remove_usage(OPEN_UNSAFE_ACL);
        assert!(c.is_empty());
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let mut c = AclCache::new();
        c.add_usage(42);
        c.remove_usage(42);
        assert_eq!(c.usage(42), 0);
        assert!(c.get(42).is_none());
    }

    #[test]
    fn snapshot_round_trip_keeps_keys_and_continues_above_them() {
        let snap = vec![(7, digest("a:x")), (3, digest("b:x"))];
        let mut c = AclCache::from_snapshot(&snap);
        c.add_usage(7);
        c.add_usage(3);
        c.purge_unused();
        assert_eq!(
            c.to_snapshot(),
            vec![(3, digest("b:x")), (7, digest("a:x"))]
        );
        assert_eq!(c.intern(&digest("b:x")), 3);
        assert_eq!(c.intern(&digest("c:x")), 8);
    }

    #[test]
    fn purge_drops_lists_no_node_uses() {
        let mut c = AclCache::from_snapshot(&[(1, digest("a:x")), (2, digest("b:x"))]);
        c.add_usage(2);
        c.purge_unused();
        assert!(c.get(1).is_none());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn works_with_a_snapshot_value() {
        let snap = Snapshot {
            dbid: -1,
            sessions: vec![],
            acls: vec![(1, digest("a:x"))],
            nodes: vec![],
            digest: None,
        };
        let c = AclCache::from_snapshot(&snap.acls);
        assert_eq!(
            c.get(1).map(|l| l.to_vec()),
            snap.acl(1).map(<[Acl]>::to_vec)
        );
    }
}
