//! The first frame of a connection: a ConnectRequest (spec 5.2 and 9.4).
//!
//! Owns: timeout negotiation, new sessions, re-attaching a session with its id and
//! password (closing the session's previous connection), and the "expired" answer to a
//! bad password or an unknown, expired or closing session.
//!
//! Must never: do I/O; answer a client whose `lastZxidSeen` is ahead of the server (it must
//! try another server: the connection is closed without a response).

use super::shared::{ConnShared, LoopMsg, Shared};
use super::stats::Stats;
use crate::engine::SessionKind;
use crate::sync::Ordering;
use crate::wire::{ConnectRequest, ConnectResponse, Reader, Record};
use std::sync::Arc;

/// What the handshake decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Handshake {
    /// The session is attached: send the response and start reading requests.
    Attached {
        /// The session id.
        session: u64,
        /// The answer.
        response: ConnectResponse,
    },
    /// Send the (expired) response, then close.
    Expired(ConnectResponse),
    /// Close without a response.
    Refused(&'static str),
}

/// Runs the handshake for `payload`, the connection's first frame.
pub(crate) fn connect(shared: &Shared, conn: &Arc<ConnShared>, payload: &[u8]) -> Handshake {
    let mut r = Reader::with_max(payload, shared.config.max_buffer);
    let req = match ConnectRequest::read(&mut r) {
        Ok(req) => req,
        Err(_) => return Handshake::Refused("malformed ConnectRequest"),
    };
    let last_zxid = shared.last_zxid.load(Ordering::Acquire);
    if req.last_zxid_seen > last_zxid {
        return Handshake::Refused("client has seen a zxid this server has not");
    }
    let engine = &shared.engine;
    let timeout = engine.negotiate_timeout(req.timeout_ms as i64);
    if req.session_id == 0 {
        let kind = if shared.config.local_sessions {
            SessionKind::Local
        } else {
            SessionKind::Global
        };
        let created = engine.create(req.timeout_ms as i64, kind);
        Stats::bump(&shared.stats.connection_requests);
        conn.session.store(created.id, Ordering::Release);
        conn.timeout_ms.store(created.timeout_ms, Ordering::Release);
        shared.attach(created.id, conn);
        tracing::info!(
            session = format_args!("0x{:x}", created.id),
            timeout_ms = created.timeout_ms,
            peer = %conn.peer,
            "session created"
        );
        return Handshake::Attached {
            session: created.id,
            response: ConnectResponse {
                protocol_version: 0,
                timeout_ms: created.timeout_ms as i32,
                session_id: created.id as i64,
                password: created.password.to_vec(),
                read_only: false,
                legacy: req.legacy,
            },
        };
    }
    let id = req.session_id as u64;
    Stats::bump(&shared.stats.connection_revalidates);
    let valid =
        engine.verify_password(id, &req.password) && engine.touch_with_timeout(id, timeout).is_ok();
    if !valid {
        tracing::info!(session = format_args!("0x{id:x}"), peer = %conn.peer,
            "invalid session, probably expired; answering expired");
        return Handshake::Expired(ConnectResponse::expired(req.legacy));
    }
    conn.session.store(id, Ordering::Release);
    conn.timeout_ms.store(timeout, Ordering::Release);
    if let Some(old) = shared.attach(id, conn) {
        shared.loops[old.loop_index].send(LoopMsg::Close(old.token));
    }
    tracing::info!(session = format_args!("0x{id:x}"), timeout_ms = timeout, peer = %conn.peer,
        "session re-attached");
    Handshake::Attached {
        session: id,
        response: ConnectResponse {
            protocol_version: 0,
            timeout_ms: timeout as i32,
            session_id: id as i64,
            password: engine.password(id).to_vec(),
            read_only: false,
            legacy: req.legacy,
        },
    }
}
