//! The few ZooKeeper frames the load generator speaks, built and parsed with the crate's
//! wire codec.
//!
//! Owns: the bytes of a ConnectRequest for a new session, a ping, a closeSession request,
//! and the parsing of a ConnectResponse and of a reply header.
//!
//! Must never: block or allocate per frame on the hot path (the ping and close frames are
//! encoded once).

use std::sync::LazyLock;
use zksession::wire::{
    write_frame, xid, ConnectRequest, ConnectResponse, OpCode, Reader, Record, ReplyHeader,
    RequestHeader,
};

/// xid of pings.
pub const PING_XID: i32 = xid::PING;
/// xid used for the closeSession request.
pub const CLOSE_XID: i32 = 1;

/// A framed ConnectRequest for a new session (protocol 0, lastZxid 0, timeout, session 0,
/// 16 zero password bytes, readOnly false): 4 + 45 bytes.
pub fn connect_request(timeout_ms: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(49);
    write_frame(&mut out, |w| {
        ConnectRequest::new_session(timeout_ms).write(w)
    });
    out
}

fn header_only(xid: i32, op: OpCode) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    write_frame(&mut out, |w| RequestHeader { xid, op: op as i32 }.write(w));
    out
}

/// A framed ping: RequestHeader{xid -2, type 11}.
pub static PING: LazyLock<Vec<u8>> = LazyLock::new(|| header_only(PING_XID, OpCode::Ping));

/// A framed closeSession: RequestHeader{xid 1, type -11}.
pub static CLOSE: LazyLock<Vec<u8>> =
    LazyLock::new(|| header_only(CLOSE_XID, OpCode::CloseSession));

/// The session id and timeout of a ConnectResponse payload (36 or 37 bytes), if well formed.
pub fn parse_connect_response(payload: &[u8]) -> Option<(i64, i32)> {
    let r = ConnectResponse::read(&mut Reader::new(payload)).ok()?;
    Some((r.session_id, r.timeout_ms))
}

/// The (xid, err) of a reply payload, if it holds a ReplyHeader.
pub fn parse_reply_header(payload: &[u8]) -> Option<(i32, i32)> {
    let h = ReplyHeader::read(&mut Reader::new(payload)).ok()?;
    Some((h.xid, h.err))
}

/// Splits complete frames off the front of `buf`, calling `f` with each payload; returns
/// how many bytes were consumed, or `None` on a negative or absurd length.
pub fn split_frames(buf: &[u8], mut f: impl FnMut(&[u8])) -> Option<usize> {
    let mut at = 0;
    while buf.len() - at >= 4 {
        let len = i32::from_be_bytes(buf[at..at + 4].try_into().ok()?);
        if !(0..=0x10_0000).contains(&len) {
            return None;
        }
        let end = at + 4 + len as usize;
        if buf.len() < end {
            break;
        }
        f(&buf[at + 4..end]);
        at = end;
    }
    Some(at)
}
