//! The bodies of individual operations: request records and the small records inside
//! responses.
//!
//! Owns: the byte layout of [`Stat`], [`Id`], [`Acl`], [`ClientInfo`] and every
//! per-operation request record ([`CreateRequest`], [`DeleteRequest`], …,
//! [`SetWatches2`], [`AddWatchRequest`]).
//!
//! Must never: do I/O or panic on any input.

use super::jute::{DecodeError, Reader, Record, Writer};
use super::{Acl, Id, Stat};

impl Record for Stat {
    fn write(&self, w: &mut Writer<'_>) {
        w.long(self.czxid);
        w.long(self.mzxid);
        w.long(self.ctime);
        w.long(self.mtime);
        w.int(self.version);
        w.int(self.cversion);
        w.int(self.aversion);
        w.long(self.ephemeral_owner);
        w.int(self.data_length);
        w.int(self.num_children);
        w.long(self.pzxid);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Stat {
            czxid: r.long()?,
            mzxid: r.long()?,
            ctime: r.long()?,
            mtime: r.long()?,
            version: r.int()?,
            cversion: r.int()?,
            aversion: r.int()?,
            ephemeral_owner: r.long()?,
            data_length: r.int()?,
            num_children: r.int()?,
            pzxid: r.long()?,
        })
    }
}

impl Record for Id {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.scheme);
        w.ustring(&self.id);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Id {
            scheme: r.ustring()?,
            id: r.ustring()?,
        })
    }
}

impl Record for Acl {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.perms);
        w.record(&self.id);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Acl {
            perms: r.int()?,
            id: r.record()?,
        })
    }
}

/// Smallest encoding of an ACL entry (perms + two empty strings).
const ACL_MIN: usize = 12;

fn read_acls(r: &mut Reader<'_>) -> Result<Vec<Acl>, DecodeError> {
    r.vector(ACL_MIN, |r| r.record())
}

fn write_acls(w: &mut Writer<'_>, acl: &[Acl]) {
    w.vector(acl, |w, a| w.record(a));
}

/// `CreateRequest`: create, create2 and createContainer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateRequest {
    /// The node's path (a sequential node gets a suffix).
    pub path: String,
    /// Initial data.
    pub data: Vec<u8>,
    /// Initial ACL.
    pub acl: Vec<Acl>,
    /// The raw [`CreateMode`](super::CreateMode) flags (validated by the server).
    pub flags: i32,
}

impl CreateRequest {
    /// A create of `path` with `mode`.
    pub fn new(
        path: impl Into<String>,
        data: impl Into<Vec<u8>>,
        acl: Vec<Acl>,
        mode: super::CreateMode,
    ) -> CreateRequest {
        CreateRequest {
            path: path.into(),
            data: data.into(),
            acl,
            flags: mode as i32,
        }
    }
}

impl Record for CreateRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.buffer(&self.data);
        write_acls(w, &self.acl);
        w.int(self.flags);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CreateRequest {
            path: r.ustring()?,
            data: r.buffer()?,
            acl: read_acls(r)?,
            flags: r.int()?,
        })
    }
}

/// `CreateTTLRequest`: a create with a time-to-live.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateTtlRequest {
    /// The node's path.
    pub path: String,
    /// Initial data.
    pub data: Vec<u8>,
    /// Initial ACL.
    pub acl: Vec<Acl>,
    /// The raw creation flags.
    pub flags: i32,
    /// Time to live in ms.
    pub ttl: i64,
}

impl Record for CreateTtlRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.buffer(&self.data);
        write_acls(w, &self.acl);
        w.int(self.flags);
        w.long(self.ttl);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CreateTtlRequest {
            path: r.ustring()?,
            data: r.buffer()?,
            acl: read_acls(r)?,
            flags: r.int()?,
            ttl: r.long()?,
        })
    }
}

/// `DeleteRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeleteRequest {
    /// The node's path.
    pub path: String,
    /// The expected data version, −1 for any.
    pub version: i32,
}

impl Record for DeleteRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.int(self.version);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DeleteRequest {
            path: r.ustring()?,
            version: r.int()?,
        })
    }
}

/// `CheckVersionRequest` (only inside a multi): same layout as a delete.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckVersionRequest {
    /// The node's path.
    pub path: String,
    /// The expected data version, −1 for any.
    pub version: i32,
}

impl Record for CheckVersionRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.int(self.version);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CheckVersionRequest {
            path: r.ustring()?,
            version: r.int()?,
        })
    }
}

/// A path and a watch flag: `ExistsRequest`, `GetDataRequest`, `GetChildrenRequest`,
/// `GetChildren2Request`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathWatchRequest {
    /// The node's path.
    pub path: String,
    /// Whether to leave a watch.
    pub watch: bool,
}

impl Record for PathWatchRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.boolean(self.watch);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PathWatchRequest {
            path: r.ustring()?,
            watch: r.boolean()?,
        })
    }
}

/// A lone path: `GetACLRequest`, `SyncRequest`, `GetEphemeralsRequest` (a prefix),
/// `GetAllChildrenNumberRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathRequest {
    /// The path (or prefix).
    pub path: String,
}

impl Record for PathRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PathRequest { path: r.ustring()? })
    }
}

/// `SetDataRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetDataRequest {
    /// The node's path.
    pub path: String,
    /// New data.
    pub data: Vec<u8>,
    /// The expected data version, −1 for any.
    pub version: i32,
}

impl Record for SetDataRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.buffer(&self.data);
        w.int(self.version);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SetDataRequest {
            path: r.ustring()?,
            data: r.buffer()?,
            version: r.int()?,
        })
    }
}

/// `SetACLRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetAclRequest {
    /// The node's path.
    pub path: String,
    /// The new ACL.
    pub acl: Vec<Acl>,
    /// The expected ACL version, −1 for any.
    pub version: i32,
}

impl Record for SetAclRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        write_acls(w, &self.acl);
        w.int(self.version);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SetAclRequest {
            path: r.ustring()?,
            acl: read_acls(r)?,
            version: r.int()?,
        })
    }
}

/// `SetWatches`: re-arms a reconnecting client's watches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SetWatches {
    /// The last zxid the client saw; changes after it fire at once.
    pub relative_zxid: i64,
    /// Data watches.
    pub data: Vec<String>,
    /// Exist watches.
    pub exist: Vec<String>,
    /// Child watches.
    pub child: Vec<String>,
}

impl Record for SetWatches {
    fn write(&self, w: &mut Writer<'_>) {
        w.long(self.relative_zxid);
        w.strings(&self.data);
        w.strings(&self.exist);
        w.strings(&self.child);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SetWatches {
            relative_zxid: r.long()?,
            data: r.strings()?,
            exist: r.strings()?,
            child: r.strings()?,
        })
    }
}

/// `SetWatches2`: [`SetWatches`] plus persistent watches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SetWatches2 {
    /// The last zxid the client saw.
    pub relative_zxid: i64,
    /// Data watches.
    pub data: Vec<String>,
    /// Exist watches.
    pub exist: Vec<String>,
    /// Child watches.
    pub child: Vec<String>,
    /// Persistent watches.
    pub persistent: Vec<String>,
    /// Persistent recursive watches.
    pub persistent_recursive: Vec<String>,
}

impl Record for SetWatches2 {
    fn write(&self, w: &mut Writer<'_>) {
        w.long(self.relative_zxid);
        w.strings(&self.data);
        w.strings(&self.exist);
        w.strings(&self.child);
        w.strings(&self.persistent);
        w.strings(&self.persistent_recursive);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SetWatches2 {
            relative_zxid: r.long()?,
            data: r.strings()?,
            exist: r.strings()?,
            child: r.strings()?,
            persistent: r.strings()?,
            persistent_recursive: r.strings()?,
        })
    }
}

/// `CheckWatchesRequest` and `RemoveWatchesRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WatchesRequest {
    /// The node's path.
    pub path: String,
    /// The raw [`WatcherType`](super::WatcherType) value.
    pub watcher_type: i32,
}

impl Record for WatchesRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.int(self.watcher_type);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(WatchesRequest {
            path: r.ustring()?,
            watcher_type: r.int()?,
        })
    }
}

/// `AddWatchRequest`: a persistent (mode 0) or persistent recursive (mode 1) watch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddWatchRequest {
    /// The node's path.
    pub path: String,
    /// 0 persistent, 1 persistent recursive.
    pub mode: i32,
}

impl Record for AddWatchRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.path);
        w.int(self.mode);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AddWatchRequest {
            path: r.ustring()?,
            mode: r.int()?,
        })
    }
}

/// One identity of a `whoAmI` answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientInfo {
    /// The auth scheme, e.g. `ip`.
    pub auth_scheme: String,
    /// The user within that scheme.
    pub user: String,
}

impl Record for ClientInfo {
    fn write(&self, w: &mut Writer<'_>) {
        w.ustring(&self.auth_scheme);
        w.ustring(&self.user);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ClientInfo {
            auth_scheme: r.ustring()?,
            user: r.ustring()?,
        })
    }
}

pub(crate) fn write_acl_vec(w: &mut Writer<'_>, acl: &[Acl]) {
    write_acls(w, acl);
}

pub(crate) fn read_acl_vec(r: &mut Reader<'_>) -> Result<Vec<Acl>, DecodeError> {
    read_acls(r)
}
