//! Snapshot files (`version-2/snapshot.<zxid>`), both ways.
//!
//! Owns: [`Snapshot`], [`DataNode`], [`ZxidDigest`] and the layout: the `ZKSN` file
//! header; the sessions (`int` count, then `long` id and `int` timeout each); the ACL
//! cache (`int` count, then `long` key and `vector<ACL>` each); the data tree as
//! (`ustring` path, node) pairs, parents before children, the root with the empty path;
//! the `"/"` end marker; the seal (`long` Adler32 of every byte before it, then the
//! `ustring` `"/"`); and, as ZooKeeper 3.8 writes by default, the digest section (`long`
//! zxid, `int` digest version, `long` digest) with a second seal over everything before
//! it.
//!
//! Invariants: a snapshot decodes only if both seals match and every node's parent came
//! before it; decoding then encoding gives back the same bytes (order is kept as read).
//!
//! Must never: do I/O or panic on any input; it holds values, not a live tree.

use std::collections::HashMap;

use super::digest;
use super::entry::adler32;
use super::error::FormatError;
use super::records::{
    read_acl_list, write_acl_list, Acl, FileHeader, StatPersisted, FORMAT_VERSION, SNAP_MAGIC,
};
use crate::wire::{Reader, Writer};

/// The ACL key ZooKeeper uses for a null ACL list (open to all, never in the cache).
pub const OPEN_UNSAFE_ACL: i64 = -1;

/// A znode as a snapshot stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataNode {
    /// The node's data (`None`: null).
    pub data: Option<Vec<u8>>,
    /// Key of the node's ACL list in [`Snapshot::acls`], or [`OPEN_UNSAFE_ACL`].
    pub acl: i64,
    /// The node's stat.
    pub stat: StatPersisted,
}

/// The digest section of a 3.8 snapshot: the tree digest after transaction `zxid`
/// (zxid 0 when the server had applied none since it started).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZxidDigest {
    /// The zxid the digest belongs to.
    pub zxid: i64,
    /// The digest method's version ([`digest::DIGEST_VERSION`]).
    pub version: i32,
    /// The tree digest. Versions below 2 store it as a hex string; it is kept parsed and
    /// written back in lowercase hex.
    pub digest: i64,
}

/// A decoded snapshot file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The header's database id (ZooKeeper writes −1).
    pub dbid: i64,
    /// (session id, timeout in ms) of every global session, in file order.
    pub sessions: Vec<(i64, i32)>,
    /// The ACL cache: key to ACL list, in file order.
    pub acls: Vec<(i64, Vec<Acl>)>,
    /// Every node as (path, node), parents first; the root's path is `""`.
    pub nodes: Vec<(String, DataNode)>,
    /// The digest section, absent in snapshots written with digests disabled.
    pub digest: Option<ZxidDigest>,
}

fn seal(out: &mut Vec<u8>) {
    let sum = adler32(out);
    let mut w = Writer::new(out);
    w.long(sum);
    w.ustring("/");
}

fn check_seal(bytes: &[u8], r: &mut Reader<'_>) -> Result<(), FormatError> {
    let offset = bytes.len() - r.remaining();
    let computed = adler32(&bytes[..offset]);
    let stored = r.long()?;
    if stored != computed {
        return Err(FormatError::SnapshotChecksum {
            offset: offset as u64,
            stored,
            computed,
        });
    }
    if r.ustring()? != "/" {
        return Err(FormatError::BadSeal {
            offset: offset as u64 + 8,
        });
    }
    Ok(())
}

fn parent_of(path: &str) -> Option<&str> {
    path.rfind('/').map(|i| &path[..i])
}

/// Every node's parent must come before it (ZooKeeper refuses the snapshot otherwise).
fn check_parents(nodes: &[(String, DataNode)]) -> Result<(), FormatError> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (i, (path, _)) in nodes.iter().enumerate() {
        index.entry(path.as_str()).or_insert(i);
    }
    for (i, (path, _)) in nodes.iter().enumerate() {
        if let Some(parent) = parent_of(path) {
            if !index.get(parent).is_some_and(|&p| p < i) {
                return Err(FormatError::OrphanNode { path: path.clone() });
            }
        }
    }
    Ok(())
}

impl Snapshot {
    /// Decodes a snapshot file's bytes, checking both seals.
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, FormatError> {
        let mut r = Reader::with_max(bytes, bytes.len());
        let header = FileHeader::read(&mut r)?;
        if header.magic != SNAP_MAGIC {
            return Err(FormatError::BadMagic {
                expected: SNAP_MAGIC,
                found: header.magic,
            });
        }
        if header.version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(header.version));
        }
        let sessions = r.vector(12, |r| Ok((r.long()?, r.int()?)))?;
        let acls = r.vector(12, |r| Ok((r.long()?, read_acl_list(r)?)))?;
        let mut nodes = Vec::new();
        loop {
            let path = r.ustring()?;
            if path == "/" {
                break;
            }
            let node = DataNode {
                data: r.buffer_opt()?,
                acl: r.long()?,
                stat: StatPersisted::read(&mut r)?,
            };
            nodes.push((path, node));
        }
        check_parents(&nodes)?;
        check_seal(bytes, &mut r)?;
        let digest = if r.remaining() == 0 {
            None
        } else {
            let zxid = r.long()?;
            let version = r.int()?;
            let digest = if version < 2 {
                let hex = r.ustring()?;
                u64::from_str_radix(&hex, 16).map_err(|_| FormatError::BadLegacyDigest)? as i64
            } else {
                r.long()?
            };
            check_seal(bytes, &mut r)?;
            Some(ZxidDigest {
                zxid,
                version,
                digest,
            })
        };
        r.finish()?;
        Ok(Snapshot {
            dbid: header.dbid,
            sessions,
            acls,
            nodes,
            digest,
        })
    }

    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        FileHeader {
            magic: SNAP_MAGIC,
            version: FORMAT_VERSION,
            dbid: self.dbid,
        }
        .write(&mut w);
        w.vector(&self.sessions, |w, (id, timeout)| {
            w.long(*id);
            w.int(*timeout);
        });
        w.vector(&self.acls, |w, (key, list)| {
            w.long(*key);
            write_acl_list(w, list);
        });
        for (path, node) in &self.nodes {
            w.ustring(path);
            w.buffer_opt(node.data.as_deref());
            w.long(node.acl);
            node.stat.write(&mut w);
        }
        w.ustring("/");
        seal(&mut out);
        if let Some(d) = &self.digest {
            let mut w = Writer::new(&mut out);
            w.long(d.zxid);
            w.int(d.version);
            if d.version < 2 {
                w.ustring(&format!("{:x}", d.digest as u64));
            } else {
                w.long(d.digest);
            }
            seal(&mut out);
        }
        out
    }

    /// The digest of the tree this snapshot holds, as ZooKeeper computes it.
    pub fn tree_digest(&self) -> i64 {
        digest::tree_digest(
            self.nodes
                .iter()
                .map(|(p, n)| (p.as_str(), n.data.as_deref(), &n.stat)),
        )
    }

    /// The ACL list a key refers to (`None` for an unknown key; [`OPEN_UNSAFE_ACL`]
    /// has no list).
    pub fn acl(&self, key: i64) -> Option<&[Acl]> {
        self.acls
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, l)| l.as_slice())
    }
}
