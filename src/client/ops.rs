//! Requests and responses as typed values, independent of their byte encoding.
//!
//! Owns: [`Request`], [`Response`], the multi-op types, the handshake records as the
//! session sees them, and the frames exchanged with the transport ([`Outgoing`],
//! [`Incoming`]).
//!
//! Must never: encode bytes (the codec adapter does) or hold session state.

use crate::wire::{Acl, CreateMode, ErrorCode, EventType, KeeperState, OpCode, Stat};

/// One operation inside a `multi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// Create a node.
    Create {
        /// Path.
        path: String,
        /// Initial data.
        data: Vec<u8>,
        /// ACL.
        acl: Vec<Acl>,
        /// Mode.
        mode: CreateMode,
    },
    /// Delete a node (`version` -1 = any).
    Delete {
        /// Path.
        path: String,
        /// Expected version, or -1.
        version: i32,
    },
    /// Set a node's data (`version` -1 = any).
    SetData {
        /// Path.
        path: String,
        /// New data.
        data: Vec<u8>,
        /// Expected version, or -1.
        version: i32,
    },
    /// Check a node's version.
    Check {
        /// Path.
        path: String,
        /// Expected version.
        version: i32,
    },
}

/// The result of one operation inside a `multi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    /// The created path.
    Create {
        /// Path (chroot stripped).
        path: String,
    },
    /// Deleted.
    Delete,
    /// The node's new stat.
    SetData {
        /// Stat after the write.
        stat: Stat,
    },
    /// Version matched.
    Check,
    /// This operation failed (or was rolled back: `RuntimeInconsistency`).
    Error(ErrorCode),
}

/// A request to the server. Paths are server paths once the session has applied the
/// chroot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// create (op 1), or createContainer (op 19) for [`CreateMode::Container`].
    Create {
        /// Path.
        path: String,
        /// Data.
        data: Vec<u8>,
        /// ACL.
        acl: Vec<Acl>,
        /// Mode.
        mode: CreateMode,
    },
    /// createTTL (op 21), for the TTL modes.
    CreateTtl {
        /// Path.
        path: String,
        /// Data.
        data: Vec<u8>,
        /// ACL.
        acl: Vec<Acl>,
        /// Mode (a TTL mode).
        mode: CreateMode,
        /// Time to live in ms.
        ttl: i64,
    },
    /// delete (op 2).
    Delete {
        /// Path.
        path: String,
        /// Expected version, or -1.
        version: i32,
    },
    /// exists (op 3).
    Exists {
        /// Path.
        path: String,
        /// Leave a watch.
        watch: bool,
    },
    /// getData (op 4).
    GetData {
        /// Path.
        path: String,
        /// Leave a watch.
        watch: bool,
    },
    /// setData (op 5).
    SetData {
        /// Path.
        path: String,
        /// Data.
        data: Vec<u8>,
        /// Expected version, or -1.
        version: i32,
    },
    /// getChildren (op 8).
    GetChildren {
        /// Path.
        path: String,
        /// Leave a watch.
        watch: bool,
    },
    /// sync (op 9).
    Sync {
        /// Path.
        path: String,
    },
    /// multi (op 14).
    Multi(Vec<MultiOp>),
    /// closeSession (op -11).
    CloseSession,
    /// setWatches (op 101), sent on reconnect.
    SetWatches {
        /// Last zxid seen.
        relative_zxid: i64,
        /// Data watches.
        data: Vec<String>,
        /// Exist watches.
        exist: Vec<String>,
        /// Child watches.
        child: Vec<String>,
    },
    /// ping (op 11, xid -2).
    Ping,
    /// auth (op 100, xid -4).
    Auth {
        /// Scheme, e.g. `digest`.
        scheme: String,
        /// Credentials.
        auth: Vec<u8>,
    },
}

impl Request {
    /// The request's opcode.
    pub fn op_code(&self) -> OpCode {
        match self {
            Request::Create {
                mode: CreateMode::Container,
                ..
            } => OpCode::CreateContainer,
            Request::Create { .. } => OpCode::Create,
            Request::CreateTtl { .. } => OpCode::CreateTtl,
            Request::Delete { .. } => OpCode::Delete,
            Request::Exists { .. } => OpCode::Exists,
            Request::GetData { .. } => OpCode::GetData,
            Request::SetData { .. } => OpCode::SetData,
            Request::GetChildren { .. } => OpCode::GetChildren,
            Request::Sync { .. } => OpCode::Sync,
            Request::Multi(_) => OpCode::Multi,
            Request::CloseSession => OpCode::CloseSession,
            Request::SetWatches { .. } => OpCode::SetWatches,
            Request::Ping => OpCode::Ping,
            Request::Auth { .. } => OpCode::Auth,
        }
    }

    /// Applies `f` to every path the request carries.
    pub fn map_paths(&mut self, f: &dyn Fn(&str) -> String) {
        match self {
            Request::Create { path, .. }
            | Request::CreateTtl { path, .. }
            | Request::Delete { path, .. }
            | Request::Exists { path, .. }
            | Request::GetData { path, .. }
            | Request::SetData { path, .. }
            | Request::GetChildren { path, .. }
            | Request::Sync { path } => *path = f(path),
            Request::Multi(ops) => {
                for op in ops {
                    match op {
                        MultiOp::Create { path, .. }
                        | MultiOp::Delete { path, .. }
                        | MultiOp::SetData { path, .. }
                        | MultiOp::Check { path, .. } => *path = f(path),
                    }
                }
            }
            Request::CloseSession
            | Request::SetWatches { .. }
            | Request::Ping
            | Request::Auth { .. } => {}
        }
    }
}

/// A successful reply's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// No body (delete, setWatches, closeSession).
    Empty,
    /// create: the created path.
    Create {
        /// Path (with the sequence suffix, chroot stripped).
        path: String,
    },
    /// exists / setData: the node's stat.
    Stat(Stat),
    /// getData.
    Data {
        /// The data (`None` when the node holds null).
        data: Option<Vec<u8>>,
        /// The stat.
        stat: Stat,
    },
    /// getChildren: the children's names.
    Children(Vec<String>),
    /// sync: the path.
    Sync {
        /// Path (chroot stripped).
        path: String,
    },
    /// multi: one result per operation.
    Multi(Vec<MultiResult>),
}

/// The handshake request (`ConnectRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Always 0.
    pub protocol_version: i32,
    /// The last zxid this client saw.
    pub last_zxid_seen: i64,
    /// Requested timeout in ms (the requested one on every reconnect too).
    pub timeout: i32,
    /// Session to resume, or 0 for a new one.
    pub session_id: i64,
    /// Session password (16 zero bytes for a new session).
    pub passwd: Vec<u8>,
    /// Whether a read-only server may accept this client.
    pub read_only: bool,
}

/// The handshake reply (`ConnectResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// Negotiated timeout in ms; `<= 0` means the session expired.
    pub timeout: i32,
    /// Session id.
    pub session_id: i64,
    /// Session password.
    pub passwd: Vec<u8>,
    /// Whether the server is read-only.
    pub read_only: bool,
}

/// A frame the session hands to the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// The handshake (no request header).
    Connect(ConnectRequest),
    /// A request with its header.
    Request {
        /// Transaction id (-2 ping, -4 auth, > 0 otherwise).
        xid: i32,
        /// The request (server paths).
        request: Request,
    },
}

/// A frame the transport hands to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The handshake reply.
    Connect(ConnectResponse),
    /// A reply to a request.
    Reply {
        /// Transaction id.
        xid: i32,
        /// The server's last processed zxid.
        zxid: i64,
        /// Error code (0 = OK).
        err: i32,
        /// The decoded body when `err == 0` (ignored otherwise).
        body: Option<Response>,
    },
    /// A watch notification (xid -1).
    Notification {
        /// Triggering zxid (or -1).
        zxid: i64,
        /// Event type.
        event_type: EventType,
        /// Always SyncConnected from a server.
        state: KeeperState,
        /// Server path.
        path: String,
    },
}
