//! The ZooKeeper client wire protocol (jute): framing, records, opcodes and error codes.
//!
//! Owns: the byte layout of every record the server and client exchange, and the shared
//! vocabulary of the protocol ([`ErrorCode`], [`OpCode`], [`CreateMode`], [`EventType`],
//! [`KeeperState`], [`Stat`], [`Acl`]).
//!
//! Both directions are provided for every message, so the server (decode requests,
//! encode responses) and a client (encode requests, decode responses) share one codec.
//!
//! - `jute`: primitives ([`Reader`], [`Writer`], [`Record`], [`DecodeError`]);
//! - [`path`]: znode path validation ([`path::validate`], [`path::PathError`]);
//! - `frame`: the 4-byte length prefix ([`FrameDecoder`], [`write_frame`]);
//! - `session`: handshake, headers, notifications, auth;
//! - `records`: per-operation records;
//! - `request` / `response`: the typed [`Request`] and [`Response`] enums.
//!
//! Must never: do I/O, know about mio or sessions' timing, or panic on any input.
//!
//! # Example
//! ```
//! use zksession::wire::{decode_request, write_request, FrameDecoder, PathWatchRequest, Request};
//!
//! let mut bytes = Vec::new();
//! let req = Request::GetData(PathWatchRequest { path: "/foo".into(), watch: true });
//! write_request(&mut bytes, 1, &req);
//!
//! let mut frames = FrameDecoder::default();
//! frames.push(&bytes);
//! let payload = frames.next_frame().unwrap().unwrap();
//! let (header, decoded) = decode_request(payload, 0xfffff).unwrap();
//! assert_eq!((header.xid, decoded), (1, req));
//! ```

mod codes;
mod frame;
mod jute;
pub mod path;
mod records;
mod request;
mod response;
mod session;

#[cfg(test)]
mod tests;

pub use codes::{
    perms, Acl, CreateMode, ErrorCode, EventType, Id, KeeperState, OpCode, Stat, WatcherType,
};
pub use frame::{write_frame, FrameDecoder, FrameError};
pub use jute::{DecodeError, Reader, Record, Writer, DEFAULT_MAX_BUFFER};
pub use records::{
    AddWatchRequest, CheckVersionRequest, ClientInfo, CreateRequest, CreateTtlRequest,
    DeleteRequest, PathRequest, PathWatchRequest, SetAclRequest, SetDataRequest, SetWatches,
    SetWatches2, WatchesRequest,
};
pub use request::{
    decode_request, decode_request_default, write_request, MultiHeader, MultiOp, Request,
    RequestDecodeError,
};
pub use response::{
    decode_reply, write_connect_response, write_notification, write_reply, MultiResult, Reply,
    Response,
};
pub use session::{
    xid, AuthPacket, ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent,
};
