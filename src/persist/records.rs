//! The jute records that logs and snapshots share.
//!
//! Owns: [`FileHeader`] and its magics, [`StatPersisted`], [`TxnHeader`] and [`TxnDigest`],
//! each with its exact field order (`zookeeper.jute`). ACLs are `wire`'s [`Acl`] and [`Id`]
//! (the same jute records), with the list helpers [`read_acl_list`] and [`write_acl_list`].
//!
//! Invariants: `read` then `write` gives back the same bytes.
//!
//! Must never: do I/O or panic on any input.

pub use crate::wire::{Acl, Id};
use crate::wire::{DecodeError, Reader, Record, Writer};

/// `"ZKLG"` as a big-endian int: the magic of transaction log files.
pub const LOG_MAGIC: i32 = i32::from_be_bytes(*b"ZKLG");
/// `"ZKSN"` as a big-endian int: the magic of snapshot files.
pub const SNAP_MAGIC: i32 = i32::from_be_bytes(*b"ZKSN");
/// The one format version ZooKeeper writes (the `version-2` directory).
pub const FORMAT_VERSION: i32 = 2;

/// The 16 bytes every log and snapshot file starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileHeader {
    /// [`LOG_MAGIC`] or [`SNAP_MAGIC`].
    pub magic: i32,
    /// [`FORMAT_VERSION`].
    pub version: i32,
    /// The database id: ZooKeeper writes 0 in logs and −1 in snapshots.
    pub dbid: i64,
}

impl FileHeader {
    /// Encoded size in bytes.
    pub const LEN: usize = 16;

    /// Reads a header.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FileHeader {
            magic: r.int()?,
            version: r.int()?,
            dbid: r.long()?,
        })
    }

    /// Writes the header.
    pub fn write(&self, w: &mut Writer<'_>) {
        w.int(self.magic);
        w.int(self.version);
        w.long(self.dbid);
    }
}

/// Reads a `vector<ACL>` as logs and snapshots store it (a null vector reads as empty).
pub fn read_acl_list(r: &mut Reader<'_>) -> Result<Vec<Acl>, DecodeError> {
    r.vector(12, |r| r.record::<Acl>())
}

/// Writes a `vector<ACL>`.
pub fn write_acl_list(w: &mut Writer<'_>, acl: &[Acl]) {
    w.vector(acl, |w, a| a.write(w));
}

/// The stat a server keeps for a znode (the client's `Stat` without the derived
/// `dataLength` and `numChildren`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StatPersisted {
    /// zxid of the create.
    pub czxid: i64,
    /// zxid of the last data change.
    pub mzxid: i64,
    /// Creation time, ms since the epoch.
    pub ctime: i64,
    /// Last data change time, ms since the epoch.
    pub mtime: i64,
    /// Data version.
    pub version: i32,
    /// Child version.
    pub cversion: i32,
    /// ACL version.
    pub aversion: i32,
    /// Owning session of an ephemeral, `i64::MIN` for a container, a TTL marker for TTL
    /// nodes, 0 otherwise.
    pub ephemeral_owner: i64,
    /// zxid of the last change of the children.
    pub pzxid: i64,
}

impl StatPersisted {
    /// Encoded size in bytes.
    pub const LEN: usize = 68;

    /// Reads a stat.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(StatPersisted {
            czxid: r.long()?,
            mzxid: r.long()?,
            ctime: r.long()?,
            mtime: r.long()?,
            version: r.int()?,
            cversion: r.int()?,
            aversion: r.int()?,
            ephemeral_owner: r.long()?,
            pzxid: r.long()?,
        })
    }

    /// Writes the stat.
    pub fn write(&self, w: &mut Writer<'_>) {
        w.long(self.czxid);
        w.long(self.mzxid);
        w.long(self.ctime);
        w.long(self.mtime);
        w.int(self.version);
        w.int(self.cversion);
        w.int(self.aversion);
        w.long(self.ephemeral_owner);
        w.long(self.pzxid);
    }
}

/// The header of every logged transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxnHeader {
    /// The session that issued the request (0 for server-made transactions).
    pub client_id: i64,
    /// The request's xid.
    pub cxid: i32,
    /// The transaction's zxid.
    pub zxid: i64,
    /// Wall-clock time of the transaction, ms since the epoch.
    pub time: i64,
    /// The opcode (see [`super::op`]); decides the body that follows.
    pub txn_type: i32,
}

impl TxnHeader {
    /// Encoded size in bytes.
    pub const LEN: usize = 32;

    /// Reads a header.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxnHeader {
            client_id: r.long()?,
            cxid: r.int()?,
            zxid: r.long()?,
            time: r.long()?,
            txn_type: r.int()?,
        })
    }

    /// Writes the header.
    pub fn write(&self, w: &mut Writer<'_>) {
        w.long(self.client_id);
        w.int(self.cxid);
        w.long(self.zxid);
        w.long(self.time);
        w.int(self.txn_type);
    }
}

/// The data-tree digest ZooKeeper 3.8 appends to each logged transaction: the digest of
/// the whole tree after the transaction (see [`super::tree_digest`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxnDigest {
    /// The digest method's version ([`super::DIGEST_VERSION`]).
    pub version: i32,
    /// The tree digest.
    pub tree_digest: i64,
}

impl TxnDigest {
    /// Encoded size in bytes.
    pub const LEN: usize = 12;

    /// Reads a digest.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TxnDigest {
            version: r.int()?,
            tree_digest: r.long()?,
        })
    }

    /// Writes the digest.
    pub fn write(&self, w: &mut Writer<'_>) {
        w.int(self.version);
        w.long(self.tree_digest);
    }
}
