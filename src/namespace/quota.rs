//! ZooKeeper's quotas: `/zookeeper/quota/<path>/zookeeper_limits` and `zookeeper_stats`.
//!
//! Owns: the usage (node count and data bytes) of every subtree that has a limits node,
//! the text of the stats nodes, the parsing of limits, and the quota check that ZooKeeper
//! 3.8 makes on create and setData when `zookeeper.enforceQuota` is on.
//!
//! How ZooKeeper 3.8 behaves, and so this module: a path `P` is under quota while the node
//! `/zookeeper/quota/P/zookeeper_limits` exists (clients such as zkCli's `setquota` write
//! it; its data is `count=..,bytes=..` with 3.8's hard limits `countHardLimit=..` and
//! `byteHardLimit=..` after `;`, −1 meaning no limit). The server keeps the usage of `P`'s
//! subtree (`P` included; bytes are data lengths) and writes it as `count=N,bytes=M` into
//! `/zookeeper/quota/P/zookeeper_stats` whenever it changes, without a new version or
//! zxid for that node. A node counts only towards its deepest quota'd ancestor. Soft limits
//! (`count`, `bytes`) are only logged when passed; with enforcement on, a create or setData
//! that would take the usage past a hard limit fails with `QuotaExceeded` (after the
//! version check, before anything changes).
//!
//! Invariants: the usage is a function of the tree. It is updated by the storage
//! primitives ([`Namespace::insert_node`], [`Namespace::remove_node`],
//! [`Namespace::replace_data`]) so writes, rollbacks and the restore of a snapshot or a log
//! keep it, whatever the order nodes arrive in: a limits node arriving computes its subtree
//! afresh, later nodes adjust it. Nothing of it is persisted apart from the stats nodes'
//! data, which is rewritten from the usage.
//!
//! Must never: count nodes under `/zookeeper` (the quota nodes themselves), or change a
//! stats node's version, zxids or watches.

use std::collections::HashMap;

use super::path::{self, ROOT};
use super::tree::Namespace;
use crate::wire::ErrorCode;

/// The parent of every quota node.
pub const QUOTA_ROOT: &str = "/zookeeper/quota";
/// The name of the node holding a path's limits.
pub const LIMITS_NODE: &str = "zookeeper_limits";
/// The name of the node holding a path's usage.
pub const STATS_NODE: &str = "zookeeper_stats";

/// The figures of a limits or stats node (ZooKeeper's `StatsTrack` text): −1 where a
/// figure is absent or empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaFigures {
    /// `count`: the soft node-count limit (or, in a stats node, the node count).
    pub count: i64,
    /// `bytes`: the soft data-bytes limit (or, in a stats node, the data bytes).
    pub bytes: i64,
    /// `countHardLimit`.
    pub count_hard: i64,
    /// `byteHardLimit`.
    pub bytes_hard: i64,
}

impl QuotaFigures {
    /// Parses `key=value` items separated by `,` or `;`; unknown keys are ignored and a
    /// figure that is absent, empty or not a number reads −1 (no limit).
    pub fn parse(data: &[u8]) -> QuotaFigures {
        let mut f = QuotaFigures {
            count: -1,
            bytes: -1,
            count_hard: -1,
            bytes_hard: -1,
        };
        let text = String::from_utf8_lossy(data);
        for item in text.split([',', ';']) {
            let mut kv = item.split('=');
            let (Some(key), value) = (kv.next(), kv.next()) else {
                continue;
            };
            let value = value
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(-1);
            match key.trim() {
                "count" => f.count = value,
                "bytes" => f.bytes = value,
                "countHardLimit" => f.count_hard = value,
                "byteHardLimit" => f.bytes_hard = value,
                _ => {}
            }
        }
        f
    }
}

/// The usage of a quota'd subtree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) count: i64,
    pub(crate) bytes: i64,
}

impl Usage {
    /// The data of the subtree's stats node.
    pub(crate) fn text(self) -> Vec<u8> {
        format!("count={},bytes={}", self.count, self.bytes).into_bytes()
    }
}

/// The quota'd paths with their usage, and whether hard limits are enforced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Quotas {
    usage: HashMap<String, Usage>,
    enforce: bool,
}

/// What a quota node's path says: whose quota, and which of the two nodes it is.
enum QuotaNode<'a> {
    Limits(&'a str),
    Stats(&'a str),
}

/// `Some` for `/zookeeper/quota/P/zookeeper_limits` and `.../zookeeper_stats`, `P` ≠ `/`.
fn quota_node(path: &str) -> Option<QuotaNode<'_>> {
    let rest = path.strip_prefix(QUOTA_ROOT)?;
    let (target, name) = path::split(rest);
    if !target.starts_with('/') || target == ROOT {
        return None;
    }
    match name {
        LIMITS_NODE => Some(QuotaNode::Limits(target)),
        STATS_NODE => Some(QuotaNode::Stats(target)),
        _ => None,
    }
}

/// Whether `path` lies in `/zookeeper` (never counted towards a quota).
fn is_system(path: &str) -> bool {
    path == "/zookeeper" || path.starts_with("/zookeeper/")
}

impl Quotas {
    /// Whether a change at `path` may concern quotas (cheap; false for every path while
    /// no quota exists, except the quota nodes themselves).
    pub(crate) fn concerns(&self, path: &str) -> bool {
        if is_system(path) {
            path.starts_with(QUOTA_ROOT)
        } else {
            !self.usage.is_empty()
        }
    }

    /// The deepest quota'd path at or above `path`.
    fn deepest(&self, path: &str) -> Option<&str> {
        if self.usage.is_empty() || is_system(path) {
            return None;
        }
        let mut p = path;
        loop {
            if let Some((k, _)) = self.usage.get_key_value(p) {
                return Some(k);
            }
            if p == ROOT {
                return None;
            }
            p = path::split(p).0;
        }
    }
}

impl Namespace {
    /// Turns enforcement of hard quota limits on or off (`zookeeper.enforceQuota`).
    pub fn set_enforce_quota(&mut self, on: bool) {
        self.quotas.enforce = on;
    }

    /// The usage of the quota'd `path` as its stats node shows it (`count`, `bytes`), or
    /// `None` when `path` has no limits node.
    pub fn quota_usage(&self, path: &str) -> Option<(i64, i64)> {
        self.quotas.usage.get(path).map(|u| (u.count, u.bytes))
    }

    /// The usage of the subtree at `target` as it stands (zero when it is missing).
    fn subtree_usage(&self, target: &str) -> Usage {
        let mut u = Usage::default();
        let mut stack = vec![target.to_owned()];
        while let Some(p) = stack.pop() {
            if let Some(n) = self.nodes.get(&p) {
                u.count += 1;
                u.bytes += i64::from(n.stat.data_length);
                stack.extend(n.children.iter().map(|c| path::join(&p, c)));
            }
        }
        u
    }

    /// Rewrites the stats node of `target` from its usage (or from the tree when the
    /// path has no limits node), if the stats node exists.
    fn write_stats(&mut self, target: &str) {
        let stats = format!("{QUOTA_ROOT}{target}/{STATS_NODE}");
        if !self.nodes.contains_key(&stats) {
            return;
        }
        let usage = match self.quotas.usage.get(target) {
            Some(u) => *u,
            None => self.subtree_usage(target),
        };
        self.set_data_raw(&stats, Some(usage.text()));
    }

    /// Adds `(count, bytes)` to the usage of the deepest quota over `path`.
    fn adjust_usage(&mut self, path: &str, count: i64, bytes: i64) {
        let Some(target) = self.quotas.deepest(path).map(str::to_owned) else {
            return;
        };
        if let Some(u) = self.quotas.usage.get_mut(&target) {
            u.count += count;
            u.bytes += bytes;
        }
        self.write_stats(&target);
    }

    /// Keeps quotas after the node at `path` (holding `data_len` bytes) was inserted.
    pub(crate) fn quota_inserted(&mut self, path: &str, data_len: usize) {
        match quota_node(path) {
            Some(QuotaNode::Limits(target)) => {
                let usage = self.subtree_usage(target);
                self.quotas.usage.insert(target.to_owned(), usage);
                self.write_stats(target);
            }
            Some(QuotaNode::Stats(target)) => self.write_stats(target),
            None => self.adjust_usage(path, 1, data_len as i64),
        }
    }

    /// Keeps quotas after the node at `path` (which held `data_len` bytes) was removed.
    pub(crate) fn quota_removed(&mut self, path: &str, data_len: usize) {
        match quota_node(path) {
            Some(QuotaNode::Limits(target)) => {
                self.quotas.usage.remove(target);
            }
            Some(QuotaNode::Stats(_)) => {}
            None => self.adjust_usage(path, -1, -(data_len as i64)),
        }
    }

    /// Keeps quotas after the data at `path` went from `old` to `new` bytes.
    pub(crate) fn quota_resized(&mut self, path: &str, old: usize, new: usize) {
        if quota_node(path).is_none() && old != new {
            self.adjust_usage(path, 0, new as i64 - old as i64);
        }
    }

    /// ZooKeeper's quota check for a write at `path` adding `count` nodes and `bytes`
    /// bytes: passing a soft limit is logged; passing a hard limit is `QuotaExceeded`
    /// when enforcement is on.
    pub(crate) fn check_quota(&self, path: &str, count: i64, bytes: i64) -> Result<(), ErrorCode> {
        let Some(target) = self.quotas.deepest(path) else {
            return Ok(());
        };
        let limits_path = format!("{QUOTA_ROOT}{target}/{LIMITS_NODE}");
        let Some(limits) = self.nodes.get(&limits_path) else {
            return Ok(());
        };
        let limits = QuotaFigures::parse(limits.data.as_deref().unwrap_or_default());
        let usage = self.quotas.usage.get(target).copied().unwrap_or_default();
        let (new_count, new_bytes) = (usage.count + count, usage.bytes + bytes);
        let over = |limit: i64, value: i64| limit > -1 && value > limit;
        if over(limits.count, new_count) || over(limits.bytes, new_bytes) {
            #[cfg(feature = "server")]
            tracing::warn!(
                quota = target,
                path,
                count = new_count,
                bytes = new_bytes,
                count_limit = limits.count,
                bytes_limit = limits.bytes,
                "quota exceeded (soft limit)"
            );
        }
        if self.quotas.enforce
            && (over(limits.count_hard, new_count) || over(limits.bytes_hard, new_bytes))
        {
            #[cfg(feature = "server")]
            tracing::warn!(
                quota = target,
                path,
                count = new_count,
                bytes = new_bytes,
                count_hard_limit = limits.count_hard,
                bytes_hard_limit = limits.bytes_hard,
                "quota exceeded (hard limit): write refused"
            );
            return Err(ErrorCode::QuotaExceeded);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_text_of_zookeeper_3_8_parses() {
        let f = QuotaFigures::parse(b"count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=4");
        assert_eq!(
            f,
            QuotaFigures {
                count: 3,
                bytes: -1,
                count_hard: 4,
                bytes_hard: -1
            }
        );
        let f = QuotaFigures::parse(b"count=-1,bytes=10");
        assert_eq!(
            (f.count, f.bytes, f.count_hard, f.bytes_hard),
            (-1, 10, -1, -1)
        );
        let f = QuotaFigures::parse(b"junk;count=x,bytes=");
        assert_eq!((f.count, f.bytes), (-1, -1));
    }

    #[test]
    fn quota_nodes_are_recognised_by_path() {
        assert!(matches!(
            quota_node("/zookeeper/quota/a/b/zookeeper_limits"),
            Some(QuotaNode::Limits("/a/b"))
        ));
        assert!(matches!(
            quota_node("/zookeeper/quota/a/zookeeper_stats"),
            Some(QuotaNode::Stats("/a"))
        ));
        assert!(quota_node("/zookeeper/quota/zookeeper_limits").is_none());
        assert!(quota_node("/zookeeper/quota/a/other").is_none());
        assert!(quota_node("/a/zookeeper_limits").is_none());
    }
}
