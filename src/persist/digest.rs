//! ZooKeeper 3.8's data-tree digest (`DigestCalculator`, digest version 2).
//!
//! Owns: [`node_digest`] and [`tree_digest`].
//!
//! Facts this follows: a node's digest is the CRC-32 (IEEE) of its path's bytes (`"/"`
//! counted as the empty path, the root's), then its data (nothing for null), then 60
//! bytes of stat: czxid, mzxid, pzxid, ctime, mtime (big-endian longs), version,
//! cversion, aversion (ints), ephemeralOwner (long). Nodes under `/zookeeper/` count as
//! 0 (`/zookeeper` itself counts). The tree's digest is the wrapping sum of its nodes'
//! digests. A 3.8 log entry carries the tree digest after its transaction; a snapshot
//! carries the digest of the last transaction applied when it was written.
//!
//! Must never: do I/O.

use super::records::StatPersisted;

/// The digest method's version ZooKeeper 3.8 writes.
pub const DIGEST_VERSION: i32 = 2;

/// The prefix under which nodes are left out of the digest.
const EXCLUDED: &str = "/zookeeper/";

/// One node's digest (0 for nodes under `/zookeeper/`).
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    if path.starts_with(EXCLUDED) {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut h = crc32fast::Hasher::new();
    h.update(path.as_bytes());
    if let Some(d) = data {
        h.update(d);
    }
    for v in [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime] {
        h.update(&v.to_be_bytes());
    }
    for v in [stat.version, stat.cversion, stat.aversion] {
        h.update(&v.to_be_bytes());
    }
    h.update(&stat.ephemeral_owner.to_be_bytes());
    i64::from(h.finalize())
}

/// The digest of a tree given as (path, data, stat) of each of its nodes.
pub fn tree_digest<'a>(
    nodes: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>, &'a StatPersisted)>,
) -> i64 {
    nodes.into_iter().fold(0i64, |acc, (p, d, s)| {
        acc.wrapping_add(node_digest(p, d, s))
    })
}
