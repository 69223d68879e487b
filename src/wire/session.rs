//! The records that frame a conversation: handshake, headers, notifications, auth.
//!
//! Owns: [`ConnectRequest`], [`ConnectResponse`] (both with ZooKeeper's legacy form that
//! lacks the trailing `readOnly` byte), [`RequestHeader`], [`ReplyHeader`],
//! [`WatcherEvent`], [`AuthPacket`] and the special xids ([`xid`]).
//!
//! Must never: do I/O or panic on any input.

use super::jute::{DecodeError, Reader, Record, Writer};
use super::{EventType, KeeperState};

/// Special xids.
pub mod xid {
    /// A watch notification (server to client).
    pub const NOTIFICATION: i32 = -1;
    /// A ping.
    pub const PING: i32 = -2;
    /// An auth packet.
    pub const AUTH: i32 = -4;
    /// The SetWatches constant some clients send.
    pub const SET_WATCHES: i32 = -8;
}

/// The first frame a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectRequest {
    /// Always 0; ignored.
    pub protocol_version: i32,
    /// The last zxid the client saw.
    pub last_zxid_seen: i64,
    /// The timeout the client asks for, in ms.
    pub timeout_ms: i32,
    /// 0 for a new session, otherwise the session to re-attach.
    pub session_id: i64,
    /// The session's password (16 bytes; zeros for a new session).
    pub password: Vec<u8>,
    /// Whether the client accepts a read-only server.
    pub read_only: bool,
    /// The client sent no `readOnly` byte (a pre-3.3 client): its response must not
    /// carry one either.
    pub legacy: bool,
}

impl ConnectRequest {
    /// A request for a new session.
    pub fn new_session(timeout_ms: i32) -> Self {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms,
            session_id: 0,
            password: vec![0; 16],
            read_only: false,
            legacy: false,
        }
    }
}

impl Record for ConnectRequest {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.protocol_version);
        w.long(self.last_zxid_seen);
        w.int(self.timeout_ms);
        w.long(self.session_id);
        w.buffer(&self.password);
        if !self.legacy {
            w.boolean(self.read_only);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol_version = r.int()?;
        let last_zxid_seen = r.long()?;
        let timeout_ms = r.int()?;
        let session_id = r.long()?;
        let password = r.buffer()?;
        let legacy = r.remaining() == 0;
        let read_only = if legacy { false } else { r.boolean()? };
        Ok(ConnectRequest {
            protocol_version,
            last_zxid_seen,
            timeout_ms,
            session_id,
            password,
            read_only,
            legacy,
        })
    }
}

/// The server's answer to a [`ConnectRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// The negotiated timeout in ms; 0 means the session is expired.
    pub timeout_ms: i32,
    /// The session id (0 when expired).
    pub session_id: i64,
    /// The session's password (16 zero bytes when expired).
    pub password: Vec<u8>,
    /// Whether the server is read-only.
    pub read_only: bool,
    /// Omit the `readOnly` byte (answering a legacy client).
    pub legacy: bool,
}

impl ConnectResponse {
    /// The answer to a reconnect with a bad password, or for an unknown, expired or
    /// closing session: timeout 0, id 0, 16 zero bytes.
    pub fn expired(legacy: bool) -> Self {
        ConnectResponse {
            protocol_version: 0,
            timeout_ms: 0,
            session_id: 0,
            password: vec![0; 16],
            read_only: false,
            legacy,
        }
    }

    /// Whether this response tells the client its session is expired (`timeOut <= 0`).
    pub fn is_expired(&self) -> bool {
        self.timeout_ms <= 0
    }
}

impl Record for ConnectResponse {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.protocol_version);
        w.int(self.timeout_ms);
        w.long(self.session_id);
        w.buffer(&self.password);
        if !self.legacy {
            w.boolean(self.read_only);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol_version = r.int()?;
        let timeout_ms = r.int()?;
        let session_id = r.long()?;
        let password = r.buffer()?;
        let legacy = r.remaining() == 0;
        let read_only = if legacy { false } else { r.boolean()? };
        Ok(ConnectResponse {
            protocol_version,
            timeout_ms,
            session_id,
            password,
            read_only,
            legacy,
        })
    }
}

/// Precedes every request after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestHeader {
    /// The client's request number (see [`xid`] for the special values).
    pub xid: i32,
    /// The raw opcode (kept raw so an unknown one can still be answered).
    pub op: i32,
}

impl Record for RequestHeader {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.xid);
        w.int(self.op);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(RequestHeader {
            xid: r.int()?,
            op: r.int()?,
        })
    }
}

/// Precedes every reply and notification after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyHeader {
    /// The xid of the request answered, or a special xid.
    pub xid: i32,
    /// The server's last processed zxid.
    pub zxid: i64,
    /// 0 or an [`ErrorCode`](super::ErrorCode) value; a reply with a nonzero error has
    /// no body.
    pub err: i32,
}

impl Record for ReplyHeader {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.xid);
        w.long(self.zxid);
        w.int(self.err);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ReplyHeader {
            xid: r.int()?,
            zxid: r.long()?,
            err: r.int()?,
        })
    }
}

/// A watch notification's body (after a `ReplyHeader` with xid −1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WatcherEvent {
    /// What happened.
    pub event_type: EventType,
    /// The connection state (SyncConnected for server-sent events).
    pub state: KeeperState,
    /// The node's path (server-side, without any client chroot).
    pub path: String,
}

impl Record for WatcherEvent {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.event_type as i32);
        w.int(self.state as i32);
        w.ustring(&self.path);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.int()?;
        let event_type = EventType::from_code(t).ok_or(DecodeError::BadEnumValue(t))?;
        let s = r.int()?;
        let state = KeeperState::from_code(s).ok_or(DecodeError::BadEnumValue(s))?;
        Ok(WatcherEvent {
            event_type,
            state,
            path: r.ustring()?,
        })
    }
}

/// Adds credentials to the connection (xid −4, op 100).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthPacket {
    /// Always 0.
    pub auth_type: i32,
    /// The scheme, e.g. `digest`.
    pub scheme: String,
    /// The scheme's credential bytes.
    pub auth: Vec<u8>,
}

impl Record for AuthPacket {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.auth_type);
        w.ustring(&self.scheme);
        w.buffer(&self.auth);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AuthPacket {
            auth_type: r.int()?,
            scheme: r.ustring()?,
            auth: r.buffer()?,
        })
    }
}
