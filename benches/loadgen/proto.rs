//! The few ZooKeeper frames the load generator speaks, hand-framed.
//!
//! Owns: the bytes of a ConnectRequest for a new session, a ping, a closeSession request,
//! and the parsing of a ConnectResponse and of a reply header.
//!
//! Must never: block or allocate per frame on the hot path (frames are constant bytes).

/// xid of pings.
pub const PING_XID: i32 = -2;
/// xid used for the closeSession request.
pub const CLOSE_XID: i32 = 1;

/// A framed ConnectRequest for a new session (protocol 0, lastZxid 0, timeout, session 0,
/// 16 zero password bytes, readOnly false): 4 + 45 bytes.
pub fn connect_request(timeout_ms: i32) -> Vec<u8> {
    let mut p = Vec::with_capacity(49);
    p.extend_from_slice(&45i32.to_be_bytes());
    p.extend_from_slice(&0i32.to_be_bytes());
    p.extend_from_slice(&0i64.to_be_bytes());
    p.extend_from_slice(&timeout_ms.to_be_bytes());
    p.extend_from_slice(&0i64.to_be_bytes());
    p.extend_from_slice(&16i32.to_be_bytes());
    p.extend_from_slice(&[0u8; 16]);
    p.push(0);
    p
}

/// A framed ping: RequestHeader{xid -2, type 11}.
pub const PING: [u8; 12] = [0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11];

/// A framed closeSession: RequestHeader{xid 1, type -11}.
pub const CLOSE: [u8; 12] = [0, 0, 0, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xf5];

/// The session id and timeout of a ConnectResponse payload (36 or 37 bytes), if well formed.
pub fn parse_connect_response(payload: &[u8]) -> Option<(i64, i32)> {
    if payload.len() < 36 {
        return None;
    }
    let timeout = i32::from_be_bytes(payload[4..8].try_into().ok()?);
    let session = i64::from_be_bytes(payload[8..16].try_into().ok()?);
    Some((session, timeout))
}

/// The (xid, err) of a reply payload, if it holds a ReplyHeader.
pub fn parse_reply_header(payload: &[u8]) -> Option<(i32, i32)> {
    if payload.len() < 16 {
        return None;
    }
    let xid = i32::from_be_bytes(payload[0..4].try_into().ok()?);
    let err = i32::from_be_bytes(payload[12..16].try_into().ok()?);
    Some((xid, err))
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
