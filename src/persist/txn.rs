//! Transaction bodies: what follows a [`TxnHeader`](super::TxnHeader) in a log entry.
//!
//! Owns: the opcodes of logged transactions ([`op`]), the txn records of
//! `zookeeper.jute` (`CreateTxn`, `CreateTTLTxn`, `CreateContainerTxn`, `DeleteTxn`,
//! `SetDataTxn`, `SetACLTxn`, `CheckVersionTxn`, `CreateSessionTxn`, `CloseSessionTxn`,
//! `ErrorTxn`, `MultiTxn` and its `Txn` items) as the typed [`Txn`] and [`SubTxn`].
//!
//! Invariants: the header's type alone decides the body (as in ZooKeeper's
//! `SerializeUtils.deserializeTxn`); a multi item's buffer holds exactly one record of
//! its type, so decoding then encoding gives back the same bytes.
//!
//! Must never: do I/O or panic on any input.

use super::error::FormatError;
use super::records::{read_acl_list, write_acl_list, Acl};
use crate::wire::{DecodeError, Reader, Writer};

/// Opcodes that appear as transaction types (`ZooDefs.OpCode`).
pub mod op {
    /// A failed request (`ErrorTxn`).
    pub const ERROR: i32 = -1;
    /// `create` (`CreateTxn`).
    pub const CREATE: i32 = 1;
    /// `delete` (`DeleteTxn`).
    pub const DELETE: i32 = 2;
    /// `setData` (`SetDataTxn`).
    pub const SET_DATA: i32 = 5;
    /// `setACL` (`SetACLTxn`).
    pub const SET_ACL: i32 = 7;
    /// `check`, only inside a multi (`CheckVersionTxn`).
    pub const CHECK: i32 = 13;
    /// `multi` (`MultiTxn`).
    pub const MULTI: i32 = 14;
    /// `create2` (`CreateTxn`).
    pub const CREATE2: i32 = 15;
    /// `createContainer` (`CreateContainerTxn`).
    pub const CREATE_CONTAINER: i32 = 19;
    /// `deleteContainer` (`DeleteTxn`).
    pub const DELETE_CONTAINER: i32 = 20;
    /// `createTTL` (`CreateTTLTxn`).
    pub const CREATE_TTL: i32 = 21;
    /// `createSession` (`CreateSessionTxn`).
    pub const CREATE_SESSION: i32 = -10;
    /// `closeSession` (`CloseSessionTxn`, or no body in logs older than 3.6).
    pub const CLOSE_SESSION: i32 = -11;
}

/// `CreateTxn`: a persistent or ephemeral (possibly sequential) node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTxn {
    /// The node's full path (with the sequence suffix already applied).
    pub path: String,
    /// The node's data (`None`: null).
    pub data: Option<Vec<u8>>,
    /// The node's ACL.
    pub acl: Vec<Acl>,
    /// Whether the node is ephemeral (owned by the header's session).
    pub ephemeral: bool,
    /// The parent's cversion after the create.
    pub parent_cversion: i32,
}

/// `CreateContainerTxn`: a container node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateContainerTxn {
    /// The node's full path.
    pub path: String,
    /// The node's data (`None`: null).
    pub data: Option<Vec<u8>>,
    /// The node's ACL.
    pub acl: Vec<Acl>,
    /// The parent's cversion after the create.
    pub parent_cversion: i32,
}

/// `CreateTTLTxn`: a persistent node with a time to live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTtlTxn {
    /// The node's full path.
    pub path: String,
    /// The node's data (`None`: null).
    pub data: Option<Vec<u8>>,
    /// The node's ACL.
    pub acl: Vec<Acl>,
    /// The parent's cversion after the create.
    pub parent_cversion: i32,
    /// The time to live in ms.
    pub ttl: i64,
}

/// `SetDataTxn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetDataTxn {
    /// The node's path.
    pub path: String,
    /// The new data (`None`: null).
    pub data: Option<Vec<u8>>,
    /// The node's data version after the change.
    pub version: i32,
}

/// `SetACLTxn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAclTxn {
    /// The node's path.
    pub path: String,
    /// The new ACL.
    pub acl: Vec<Acl>,
    /// The node's ACL version after the change.
    pub version: i32,
}

/// `CheckVersionTxn` (a multi's version check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckVersionTxn {
    /// The node's path.
    pub path: String,
    /// The version checked.
    pub version: i32,
}

/// A transaction body, typed by the header's opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Txn {
    /// `createSession`: the negotiated timeout in ms.
    CreateSession {
        /// Negotiated session timeout, ms.
        timeout: i32,
    },
    /// `closeSession`: the ephemerals the close deletes (`None`: no body, as logs of
    /// ZooKeeper before 3.6 or with `closeSessionTxn.enabled=false` have).
    CloseSession {
        /// Paths of the session's ephemerals.
        paths_to_delete: Option<Vec<String>>,
    },
    /// `create`.
    Create(CreateTxn),
    /// `create2` (same body as `create`).
    Create2(CreateTxn),
    /// `createContainer`.
    CreateContainer(CreateContainerTxn),
    /// `createTTL`.
    CreateTtl(CreateTtlTxn),
    /// `delete`.
    Delete {
        /// The node's path.
        path: String,
    },
    /// `deleteContainer` (a container removed by the server).
    DeleteContainer {
        /// The node's path.
        path: String,
    },
    /// `setData`.
    SetData(SetDataTxn),
    /// `setACL`.
    SetAcl(SetAclTxn),
    /// `multi`: its items, in order.
    Multi(Vec<SubTxn>),
    /// `error`: a request that failed, with ZooKeeper's error code.
    Error {
        /// The error code (`KeeperException.Code`).
        err: i32,
    },
}

/// One item of a multi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubTxn {
    /// `create`.
    Create(CreateTxn),
    /// `createContainer`.
    CreateContainer(CreateContainerTxn),
    /// `createTTL`.
    CreateTtl(CreateTtlTxn),
    /// `delete`.
    Delete {
        /// The node's path.
        path: String,
    },
    /// `deleteContainer`.
    DeleteContainer {
        /// The node's path.
        path: String,
    },
    /// `setData`.
    SetData(SetDataTxn),
    /// `check`.
    Check(CheckVersionTxn),
    /// `error`: the failed item's code, `RUNTIMEINCONSISTENCY` (−2) for items after it,
    /// or 0 for items before it once the multi is applied.
    Error {
        /// The error code.
        err: i32,
    },
}

fn read_create(r: &mut Reader<'_>) -> Result<CreateTxn, DecodeError> {
    Ok(CreateTxn {
        path: r.ustring()?,
        data: r.buffer_opt()?,
        acl: read_acl_list(r)?,
        ephemeral: r.boolean()?,
        parent_cversion: r.int()?,
    })
}

fn write_create(w: &mut Writer<'_>, t: &CreateTxn) {
    w.ustring(&t.path);
    w.buffer_opt(t.data.as_deref());
    write_acl_list(w, &t.acl);
    w.boolean(t.ephemeral);
    w.int(t.parent_cversion);
}

fn read_container(r: &mut Reader<'_>) -> Result<CreateContainerTxn, DecodeError> {
    Ok(CreateContainerTxn {
        path: r.ustring()?,
        data: r.buffer_opt()?,
        acl: read_acl_list(r)?,
        parent_cversion: r.int()?,
    })
}

fn write_container(w: &mut Writer<'_>, t: &CreateContainerTxn) {
    w.ustring(&t.path);
    w.buffer_opt(t.data.as_deref());
    write_acl_list(w, &t.acl);
    w.int(t.parent_cversion);
}

fn read_ttl(r: &mut Reader<'_>) -> Result<CreateTtlTxn, DecodeError> {
    Ok(CreateTtlTxn {
        path: r.ustring()?,
        data: r.buffer_opt()?,
        acl: read_acl_list(r)?,
        parent_cversion: r.int()?,
        ttl: r.long()?,
    })
}

fn write_ttl(w: &mut Writer<'_>, t: &CreateTtlTxn) {
    w.ustring(&t.path);
    w.buffer_opt(t.data.as_deref());
    write_acl_list(w, &t.acl);
    w.int(t.parent_cversion);
    w.long(t.ttl);
}

fn read_set_data(r: &mut Reader<'_>) -> Result<SetDataTxn, DecodeError> {
    Ok(SetDataTxn {
        path: r.ustring()?,
        data: r.buffer_opt()?,
        version: r.int()?,
    })
}

fn write_set_data(w: &mut Writer<'_>, t: &SetDataTxn) {
    w.ustring(&t.path);
    w.buffer_opt(t.data.as_deref());
    w.int(t.version);
}

impl Txn {
    /// The opcode the header must carry for this body.
    pub fn op_code(&self) -> i32 {
        match self {
            Txn::CreateSession { .. } => op::CREATE_SESSION,
            Txn::CloseSession { .. } => op::CLOSE_SESSION,
            Txn::Create(_) => op::CREATE,
            Txn::Create2(_) => op::CREATE2,
            Txn::CreateContainer(_) => op::CREATE_CONTAINER,
            Txn::CreateTtl(_) => op::CREATE_TTL,
            Txn::Delete { .. } => op::DELETE,
            Txn::DeleteContainer { .. } => op::DELETE_CONTAINER,
            Txn::SetData(_) => op::SET_DATA,
            Txn::SetAcl(_) => op::SET_ACL,
            Txn::Multi(_) => op::MULTI,
            Txn::Error { .. } => op::ERROR,
        }
    }

    /// Reads the body of a transaction of type `txn_type`.
    pub fn read(txn_type: i32, r: &mut Reader<'_>) -> Result<Txn, FormatError> {
        Ok(match txn_type {
            op::CREATE_SESSION => Txn::CreateSession { timeout: r.int()? },
            op::CLOSE_SESSION => Txn::CloseSession {
                paths_to_delete: if r.remaining() == 0 {
                    None
                } else {
                    Some(r.strings()?)
                },
            },
            op::CREATE => Txn::Create(read_create(r)?),
            op::CREATE2 => Txn::Create2(read_create(r)?),
            op::CREATE_CONTAINER => Txn::CreateContainer(read_container(r)?),
            op::CREATE_TTL => Txn::CreateTtl(read_ttl(r)?),
            op::DELETE => Txn::Delete { path: r.ustring()? },
            op::DELETE_CONTAINER => Txn::DeleteContainer { path: r.ustring()? },
            op::SET_DATA => Txn::SetData(read_set_data(r)?),
            op::SET_ACL => Txn::SetAcl(SetAclTxn {
                path: r.ustring()?,
                acl: read_acl_list(r)?,
                version: r.int()?,
            }),
            op::ERROR => Txn::Error { err: r.int()? },
            op::MULTI => {
                let items = r.vector(8, |r| Ok((r.int()?, r.buffer()?)))?;
                let mut subs = Vec::with_capacity(items.len());
                for (t, bytes) in items {
                    subs.push(SubTxn::from_bytes(t, &bytes)?);
                }
                Txn::Multi(subs)
            }
            other => return Err(FormatError::UnknownTxnType(other)),
        })
    }

    /// Writes the body.
    pub fn write(&self, w: &mut Writer<'_>) {
        match self {
            Txn::CreateSession { timeout } => w.int(*timeout),
            Txn::CloseSession { paths_to_delete } => {
                if let Some(paths) = paths_to_delete {
                    w.strings(paths);
                }
            }
            Txn::Create(t) | Txn::Create2(t) => write_create(w, t),
            Txn::CreateContainer(t) => write_container(w, t),
            Txn::CreateTtl(t) => write_ttl(w, t),
            Txn::Delete { path } | Txn::DeleteContainer { path } => w.ustring(path),
            Txn::SetData(t) => write_set_data(w, t),
            Txn::SetAcl(t) => {
                w.ustring(&t.path);
                write_acl_list(w, &t.acl);
                w.int(t.version);
            }
            Txn::Error { err } => w.int(*err),
            Txn::Multi(subs) => {
                w.vector(subs, |w, s| {
                    w.int(s.op_code());
                    w.buffer(&s.to_bytes());
                });
            }
        }
    }
}

impl SubTxn {
    /// The opcode of the item's `Txn` record.
    pub fn op_code(&self) -> i32 {
        match self {
            SubTxn::Create(_) => op::CREATE,
            SubTxn::CreateContainer(_) => op::CREATE_CONTAINER,
            SubTxn::CreateTtl(_) => op::CREATE_TTL,
            SubTxn::Delete { .. } => op::DELETE,
            SubTxn::DeleteContainer { .. } => op::DELETE_CONTAINER,
            SubTxn::SetData(_) => op::SET_DATA,
            SubTxn::Check(_) => op::CHECK,
            SubTxn::Error { .. } => op::ERROR,
        }
    }

    /// Decodes an item from its type and the bytes of its buffer, which it must fill.
    pub fn from_bytes(txn_type: i32, bytes: &[u8]) -> Result<SubTxn, FormatError> {
        let mut r = Reader::with_max(bytes, bytes.len());
        let sub = match txn_type {
            op::CREATE => SubTxn::Create(read_create(&mut r)?),
            op::CREATE_CONTAINER => SubTxn::CreateContainer(read_container(&mut r)?),
            op::CREATE_TTL => SubTxn::CreateTtl(read_ttl(&mut r)?),
            op::DELETE => SubTxn::Delete { path: r.ustring()? },
            op::DELETE_CONTAINER => SubTxn::DeleteContainer { path: r.ustring()? },
            op::SET_DATA => SubTxn::SetData(read_set_data(&mut r)?),
            op::CHECK => SubTxn::Check(CheckVersionTxn {
                path: r.ustring()?,
                version: r.int()?,
            }),
            op::ERROR => SubTxn::Error { err: r.int()? },
            other => return Err(FormatError::BadSubTxnType(other)),
        };
        r.finish()?;
        Ok(sub)
    }

    /// The bytes of the item's buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let w = &mut Writer::new(&mut out);
        match self {
            SubTxn::Create(t) => write_create(w, t),
            SubTxn::CreateContainer(t) => write_container(w, t),
            SubTxn::CreateTtl(t) => write_ttl(w, t),
            SubTxn::Delete { path } | SubTxn::DeleteContainer { path } => w.ustring(path),
            SubTxn::SetData(t) => write_set_data(w, t),
            SubTxn::Check(t) => {
                w.ustring(&t.path);
                w.int(t.version);
            }
            SubTxn::Error { err } => w.int(*err),
        }
        out
    }
}
