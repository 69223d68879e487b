//! A minimal blocking client for the server's in-crate tests, speaking `wire`.
//!
//! Owns: opening a session and sending one request at a time over a `TcpStream`, for unit
//! tests that need a real connection to a started [`super::Server`].
//! Must never: be compiled outside tests, or model the protocol itself (frames and records
//! come from `crate::wire`).

use crate::wire::{write_frame, write_request, ConnectRequest, Request};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The session timeout the tests ask for (ms).
pub(crate) const TIMEOUT_MS: i32 = 30_000;

/// Reads one whole frame's payload.
pub(crate) fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    body
}

/// Connects and opens a new session of [`TIMEOUT_MS`]; returns the socket and the
/// ConnectResponse payload.
pub(crate) fn open_session(addr: SocketAddr) -> (TcpStream, Vec<u8>) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = Vec::new();
    write_frame(&mut out, |w| {
        w.record(&ConnectRequest::new_session(TIMEOUT_MS))
    });
    c.write_all(&out).unwrap();
    let reply = read_frame(&mut c);
    (c, reply)
}

/// Sends `req` with `xid` and returns the reply payload (header first).
pub(crate) fn call(c: &mut TcpStream, xid: i32, req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    write_request(&mut out, xid, req);
    c.write_all(&out).unwrap();
    read_frame(c)
}
