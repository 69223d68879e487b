//! Which container and TTL nodes are due for deletion, found a page at a time, and their
//! deletion as a txn (ZooKeeper's `ContainerManager` candidate rule and its
//! `deleteContainer` request).
//!
//! Owns: [`ReapRules`], [`ReapPage`], [`Namespace::reap_candidates`] (a bounded scan of
//! the `reapable` index, sorted by path, resumable after any path) and
//! [`Namespace::reap`] (re-checks one candidate and deletes it as a txn of its own).
//!
//! The rule, as ZooKeeper 3.8 has it: a childless **container** is due when its stored
//! cversion (the creates of children it ever had) is above 0, i.e. it had children and has
//! none left; one that never had a child is left alone, unless
//! `maxNeverUsedIntervalMs` is set and it is older (by mtime) than that. A childless
//! **TTL node** is due when `now − mtime > ttl`, and only with extended types on.
//!
//! Invariants: a scan never changes the tree and looks at no more than the page size of
//! index entries, so the caller holds the namespace lock for a bounded time; a deletion
//! takes exactly one zxid and fires the watches a delete fires (the node's data and child
//! watches, its parent's child watches); a node that is no longer due when
//! [`Namespace::reap`] runs is left alone and takes no zxid.
//!
//! Must never: read a clock (the caller passes wall time), or delete a node that is not
//! due under the rule at the moment of the deletion.

use std::ops::Bound;

use super::kind::NodeKind;
use super::tree::{Namespace, Node};
use super::Applied;

/// The reaper's settings that the rule depends on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReapRules {
    /// `znode.container.maxNeverUsedIntervalMs`: a container that never had a child is due
    /// once older than this (by mtime); 0 (the default) keeps such containers forever.
    pub max_never_used_ms: i64,
}

/// One page of a candidate scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReapPage {
    /// Paths due now, sorted.
    pub due: Vec<String>,
    /// Where the next page starts (exclusive); `None` when the scan reached the end.
    pub next: Option<String>,
}

impl Namespace {
    /// Turns extended types (`extendedTypesEnabled`: TTL creates, and the reaping of
    /// TTL nodes) on or off. Off by default, as in ZooKeeper.
    pub fn set_extended_types(&mut self, on: bool) {
        self.extended_types = on;
    }

    /// Whether extended types are on.
    pub fn extended_types(&self) -> bool {
        self.extended_types
    }

    /// Number of container and TTL nodes.
    pub fn reapable_count(&self) -> usize {
        self.reapable.len()
    }

    /// Whether `node` is due at wall time `now_ms` under `rules`.
    fn is_due(&self, node: &Node, now_ms: i64, rules: &ReapRules) -> bool {
        if !node.children.is_empty() {
            return false;
        }
        let age = now_ms.saturating_sub(node.stat.mtime);
        match node.kind() {
            NodeKind::Container => {
                node.stat.cversion > 0
                    || (rules.max_never_used_ms != 0 && age > rules.max_never_used_ms)
            }
            NodeKind::Ttl(ttl) => self.extended_types && ttl != 0 && age > ttl,
            _ => false,
        }
    }

    /// Looks at up to `page` container and TTL nodes whose paths sort after `after` (from
    /// the first with `None`) and returns those due at wall time `now_ms`, with where to
    /// resume. A parent sorts before its children, so a container emptied by the deletion
    /// of a child found later in the same pass is due at the next pass, as in ZooKeeper.
    pub fn reap_candidates(
        &self,
        after: Option<&str>,
        page: usize,
        now_ms: i64,
        rules: &ReapRules,
    ) -> ReapPage {
        let start = match after {
            Some(p) => Bound::Excluded(p),
            None => Bound::Unbounded,
        };
        let mut out = ReapPage::default();
        let mut seen = 0;
        for path in self
            .reapable
            .range::<str, _>((start, Bound::Unbounded))
            .take(page.max(1))
        {
            seen += 1;
            if self
                .nodes
                .get(path)
                .is_some_and(|n| self.is_due(n, now_ms, rules))
            {
                out.due.push(path.clone());
            }
            out.next = Some(path.clone());
        }
        if seen < page.max(1) {
            out.next = None;
        }
        out
    }

    /// Deletes the container or TTL node at `path` if it is due at wall time `now_ms`
    /// (checked again here, under the caller's lock): one txn, logged by the server as
    /// ZooKeeper's `deleteContainer`, firing the watches a delete fires. `None` (and no
    /// zxid taken) when the node is gone or no longer due.
    pub fn reap(&mut self, path: &str, now_ms: i64, rules: &ReapRules) -> Option<Applied<()>> {
        let node = self.nodes.get(path)?;
        if !self.is_due(node, now_ms, rules) {
            return None;
        }
        self.run(now_ms, |ns, txn| {
            ns.unlink(txn, path);
            Ok(())
        })
        .ok()
    }
}
