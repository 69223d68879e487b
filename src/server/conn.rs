//! One client connection on its event loop: buffered reads and writes, framing, and the
//! protocol state machine (four-letter word or handshake, then requests, then closing).
//!
//! Owns: [`Conn`]: the socket, its transport (plain, or TLS through a
//! [`TlsConn`](security::TlsConn)), the [`FrameDecoder`], the output buffer, back-pressure
//! (reading stops while too many replies are unsent) and per-request bookkeeping (touch,
//! decode, execute, reply).
//!
//! Plain and TLS connections share everything above the bytes: a TLS connection feeds
//! the plaintext it decrypts to the same frame decoder and hands the same output to
//! rustls instead of the socket. The TLS handshake advances with the reads and writes
//! the loop already does (never blocking); it counts as part of the ConnectRequest wait,
//! so the loop's deadline for connections without a session bounds it too. When it ends,
//! the client certificate's subject becomes the connection's `x509` identity (with the
//! `x509` scheme enabled). A TLS failure writes the alert rustls queued and closes this
//! connection only.
//!
//! Invariants: requests of a connection are executed in arrival order and answered in
//! that order; queued watch events are moved into the output before each reply; after a
//! close is decided no further frame is read or executed. With a data directory, output
//! produced after txn Z was appended is *held* until Z is durable ([`Durable`]): a client
//! never sees a reply or an event that a crash could take back, and output leaves in
//! order, so a read answered behind a held write waits for it too.
//!
//! Must never: block (the socket is non-blocking), or let one connection's bad input
//! reach any other connection: every protocol error closes only this one.

use super::durable::Durable;
use super::fourlw;
use super::handshake::{self, Handshake};
use super::requests;
use super::shared::{wall_ms, ConnShared, Shared};
use super::stats::Stats;
use crate::namespace::BufferCharge;
use crate::security;
use crate::sync::Ordering::Relaxed;
use crate::wire::{
    write_connect_response, write_reply, xid, DecodeError, ErrorCode, FrameDecoder, OpCode, Reader,
    Record, ReplyHeader, Request, RequestHeader, Response,
};
use mio::net::TcpStream;
use security::TlsConn;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a ConnectRequest (or a four-letter word).
    Handshake,
    /// Attached to a session.
    Active(u64),
    /// A four-letter word is being answered on the four-letter-word thread: read nothing
    /// more; its answer arrives with a `Close`.
    Answering,
    /// Closing: flush what is queued, read nothing more.
    Closing,
}

/// Whether the connection lives on after a service call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Keep it.
    Open,
    /// Deregister and drop it.
    Closed,
}

/// The protocol half of a connection (everything but the socket and the decoder, so a
/// frame borrowed from the decoder can be handled while this is mutated).
struct Proto {
    phase: Phase,
    out: Vec<u8>,
    /// Replies queued since the output was last empty.
    unsent_replies: usize,
    /// The nonce of a SASL DIGEST-MD5 exchange under way (after its challenge).
    sasl_nonce: Option<String>,
    /// The client certificate's subject, on a TLS connection that presented one (for
    /// `addauth x509`).
    peer_x509: Option<String>,
    /// The persist thread's progress, with a data directory.
    durable: Option<Arc<Durable>>,
    /// (offset in `out`, zxid): output from the offset on waits until the zxid is
    /// durable; offsets and zxids ascend.
    holds: VecDeque<(usize, i64)>,
}

impl Proto {
    /// Holds the output from `start` on until everything appended so far is durable.
    fn hold_from(&mut self, start: usize) {
        let Some(d) = &self.durable else {
            return;
        };
        let zxid = d.appended_zxid();
        if zxid <= d.durable_zxid() || self.holds.back().is_some_and(|&(_, z)| z >= zxid) {
            return;
        }
        self.holds.push_back((start, zxid));
    }

    /// Drops holds whose zxid is durable; returns how far the output may be written.
    fn release_limit(&mut self) -> usize {
        if let Some(d) = &self.durable {
            let durable = d.durable_zxid();
            while self.holds.front().is_some_and(|&(_, z)| z <= durable) {
                self.holds.pop_front();
            }
        }
        self.holds.front().map_or(self.out.len(), |&(at, _)| at)
    }
}

/// How a connection's bytes travel.
enum Transport {
    /// As they are.
    Plain,
    /// Through TLS.
    Tls(Box<TlsLayer>),
}

/// The TLS state of a connection on the secure port.
struct TlsLayer {
    tls: TlsConn,
    /// Ciphertext taken from rustls, written from `cipher_pos` on.
    cipher: Vec<u8>,
    cipher_pos: usize,
    /// The plaintext of the last read, on its way to the frame decoder.
    plain: Vec<u8>,
    /// Whether the end of the handshake has been handled.
    established: bool,
    /// Whether close_notify was queued.
    close_sent: bool,
}

/// How far a write pass got.
enum Written {
    /// Everything handed over was written.
    Done,
    /// The socket would block (or rustls's buffer is full): wait for writable.
    Blocked,
    /// The socket failed.
    Closed,
}

/// Writes `out[*pos..]` to the socket, advancing `pos`.
fn write_plain(stream: &mut TcpStream, out: &[u8], pos: &mut usize) -> Written {
    while *pos < out.len() {
        match stream.write(&out[*pos..]) {
            Ok(0) => return Written::Closed,
            Ok(n) => *pos += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Written::Blocked,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Written::Closed,
        }
    }
    Written::Done
}

impl TlsLayer {
    fn new(tls: TlsConn) -> TlsLayer {
        TlsLayer {
            tls,
            cipher: Vec::new(),
            cipher_pos: 0,
            plain: Vec::new(),
            established: false,
            close_sent: false,
        }
    }

    /// Encrypts `out[*pos..]` (advancing `pos` as rustls takes it) and writes the
    /// ciphertext, handshake messages and alerts included, until done or blocked.
    fn write(&mut self, stream: &mut TcpStream, out: &[u8], pos: &mut usize) -> Written {
        loop {
            match write_plain(stream, &self.cipher, &mut self.cipher_pos) {
                Written::Done => {}
                other => return other,
            }
            self.cipher.clear();
            self.cipher_pos = 0;
            if self.cipher.capacity() > KEEP_CAPACITY {
                // A burst is over: an idle connection keeps no large buffer.
                self.cipher = Vec::new();
            }
            if self.tls.wants_write() {
                self.tls.take_outgoing(&mut self.cipher);
                continue;
            }
            if *pos == out.len() {
                return Written::Done;
            }
            match self.tls.send_some(&out[*pos..]) {
                Ok(0) if !self.tls.wants_write() => return Written::Blocked,
                Ok(n) => *pos += n,
                Err(_) => return Written::Closed,
            }
        }
    }

    /// Ciphertext not yet written.
    fn pending(&self) -> usize {
        self.cipher.len() - self.cipher_pos + usize::from(self.tls.wants_write())
    }
}

/// A client connection owned by one event loop.
pub(crate) struct Conn {
    stream: TcpStream,
    transport: Transport,
    /// The TLS peer sent close_notify: close once the frames read are handled.
    peer_closed: bool,
    pub(crate) shared: Arc<ConnShared>,
    frames: FrameDecoder,
    proto: Proto,
    out_pos: usize,
    /// When the connection was accepted (the handshake must come within a bound).
    pub(crate) accepted: Instant,
    /// The input and output buffers' bytes in the server's memory budget.
    charge: BufferCharge,
}

const READ_CHUNK: usize = 64 * 1024;
/// The largest TLS staging buffer a connection keeps between bursts.
const KEEP_CAPACITY: usize = 16 * 1024;

impl Conn {
    /// A connection; `tls` is set for one accepted on the secure port.
    pub(crate) fn new(
        stream: TcpStream,
        shared: Arc<ConnShared>,
        max_frame: usize,
        tls: Option<TlsConn>,
    ) -> Conn {
        Conn {
            stream,
            transport: match tls {
                Some(t) => Transport::Tls(Box::new(TlsLayer::new(t))),
                None => Transport::Plain,
            },
            peer_closed: false,
            shared,
            frames: FrameDecoder::new(max_frame),
            proto: Proto {
                phase: Phase::Handshake,
                out: Vec::new(),
                unsent_replies: 0,
                sasl_nonce: None,
                peer_x509: None,
                durable: None,
                holds: VecDeque::new(),
            },
            out_pos: 0,
            accepted: Instant::now(),
            charge: BufferCharge::default(),
        }
    }

    /// Makes the connection hold output until it is durable (servers with a data
    /// directory).
    pub(crate) fn with_durable(mut self, durable: Option<Arc<Durable>>) -> Conn {
        self.proto.durable = durable;
        self
    }

    /// Whether output waits for the log.
    pub(crate) fn has_held_output(&self) -> bool {
        !self.proto.holds.is_empty()
    }

    pub(crate) fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Whether the handshake has not completed.
    pub(crate) fn awaiting_handshake(&self) -> bool {
        self.proto.phase == Phase::Handshake
    }

    fn backlogged(&self, server: &Shared) -> bool {
        self.proto.unsent_replies >= server.config.max_outstanding
            || self.proto.out.len() - self.out_pos > 4 * server.config.max_buffer
    }

    /// Reads, executes and writes as far as the socket and back-pressure allow.
    pub(crate) fn service(&mut self, server: &Shared, buf: &mut [u8]) -> Status {
        loop {
            let held = self.frames.capacity() + self.proto.out.capacity();
            self.charge.set(&server.buffers, held as u64);
            let stopped_early = match self.handle_frames(server) {
                Frames::Closed => return Status::Closed,
                Frames::Drained => false,
                Frames::Held => true,
            };
            if self.flush() == Status::Closed || self.peer_closed {
                return Status::Closed;
            }
            if self.proto.phase == Phase::Answering {
                return Status::Open;
            }
            if self.proto.phase == Phase::Closing {
                return self.finish_close();
            }
            if self.backlogged(server) {
                // Stop reading until the peer drains its replies (writable → service).
                return Status::Open;
            }
            if stopped_early {
                // Frames are still buffered: execute them before reading more.
                continue;
            }
            let chunk = READ_CHUNK.min(buf.len());
            match self.stream.read(&mut buf[..chunk]) {
                Ok(0) => return Status::Closed,
                Ok(n) => {
                    tracing::trace!(n, "read");
                    server.stats.bytes_received.fetch_add(n as u64, Relaxed);
                    if self.take_input(server, &buf[..n]) == Status::Closed {
                        return Status::Closed;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Status::Open,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Status::Closed,
            }
        }
    }

    /// Bytes queued but not yet written.
    pub(crate) fn pending_output(&self) -> usize {
        let tls = match &self.transport {
            Transport::Plain => 0,
            Transport::Tls(t) => t.pending(),
        };
        self.proto.out.len() - self.out_pos + tls
    }

    /// Feeds bytes read from the socket to the frame decoder, through TLS on the secure
    /// port; on a TLS failure writes the alert (best effort) and tells the caller to close.
    fn take_input(&mut self, server: &Shared, data: &[u8]) -> Status {
        let Transport::Tls(t) = &mut self.transport else {
            return push_or_close(&mut self.frames, data);
        };
        t.plain.clear();
        match t.tls.receive(data, &mut t.plain) {
            Ok(r) => {
                if push_or_close(&mut self.frames, &t.plain) == Status::Closed {
                    return Status::Closed;
                }
                self.peer_closed |= r.peer_closed;
                if t.plain.capacity() > KEEP_CAPACITY {
                    t.plain = Vec::new();
                }
            }
            Err(e) => {
                tracing::info!(peer = %self.shared.peer, error = %e, "TLS failed; closing");
                Stats::bump(&server.stats.connections_dropped);
                t.tls.take_outgoing(&mut t.cipher);
                let _ = write_plain(&mut self.stream, &t.cipher, &mut t.cipher_pos);
                return Status::Closed;
            }
        }
        if !t.established && !t.tls.is_handshaking() {
            t.established = true;
            let negotiated = t.tls.negotiated();
            tracing::debug!(peer = %self.shared.peer, ?negotiated, "TLS handshake done");
            match t.tls.peer_subject() {
                Some(Ok(subject)) => {
                    if server.config.acl_policy.x509 {
                        let mut auth = (*self.shared.auth()).clone();
                        security::add_x509(&mut auth, &subject, &server.config.acl_policy);
                        self.shared.set_auth(auth);
                        tracing::debug!(peer = %self.shared.peer, %subject, "x509 identity");
                    }
                    self.proto.peer_x509 = Some(subject);
                }
                Some(Err(e)) => {
                    tracing::warn!(peer = %self.shared.peer, error = ?e,
                        "client certificate subject unreadable; no x509 identity");
                }
                _ => {}
            }
        }
        Status::Open
    }

    /// A closing connection: on TLS, queues close_notify once the replies are out; closes
    /// when everything is written.
    fn finish_close(&mut self) -> Status {
        if self.proto.out.len() == self.out_pos {
            if let Transport::Tls(t) = &mut self.transport {
                if !t.close_sent {
                    t.close_sent = true;
                    t.tls.close();
                    if self.flush() == Status::Closed {
                        return Status::Closed;
                    }
                }
            }
        }
        if self.pending_output() == 0 {
            Status::Closed
        } else {
            Status::Open
        }
    }

    /// Moves watch events queued by other threads into the output and writes. A client
    /// that leaves more than 16 × `jute.maxbuffer` of output unread is disconnected.
    pub(crate) fn flush_events(&mut self) -> Status {
        let start = self.proto.out.len();
        self.shared.take_pending(&mut self.proto.out);
        self.proto.hold_from(start);
        if self.flush() == Status::Closed {
            return Status::Closed;
        }
        if self.pending_output() > 16 * self.frames.max_frame() {
            tracing::warn!(peer = %self.shared.peer, bytes = self.pending_output(),
                "client does not read its watch events; closing");
            return Status::Closed;
        }
        Status::Open
    }

    /// Marks the connection closing (it closes once its output is written).
    pub(crate) fn close_after_flush(&mut self) -> Status {
        self.proto.phase = Phase::Closing;
        let start = self.proto.out.len();
        self.shared.take_pending(&mut self.proto.out);
        self.proto.hold_from(start);
        if self.flush() == Status::Closed {
            return Status::Closed;
        }
        self.finish_close()
    }

    /// Writes queued output (through TLS on the secure port) until done or the socket
    /// would block.
    fn flush(&mut self) -> Status {
        let limit = self.proto.release_limit();
        let out = &self.proto.out[..limit];
        let written = match &mut self.transport {
            Transport::Plain => write_plain(&mut self.stream, out, &mut self.out_pos),
            Transport::Tls(t) => t.write(&mut self.stream, out, &mut self.out_pos),
        };
        match written {
            Written::Done => {}
            Written::Blocked => return Status::Open,
            Written::Closed => return Status::Closed,
        }
        if limit < self.proto.out.len() {
            return Status::Open;
        }
        self.proto.out.clear();
        // A large reply's room goes back to the allocator (and the memory budget).
        self.proto.out.shrink_to(READ_CHUNK);
        self.out_pos = 0;
        self.proto.unsent_replies = 0;
        Status::Open
    }

    /// Executes every complete frame buffered, unless back-pressure or closing stops it.
    fn handle_frames(&mut self, server: &Shared) -> Frames {
        loop {
            if matches!(self.proto.phase, Phase::Closing | Phase::Answering) {
                return Frames::Drained;
            }
            if self.backlogged(server) {
                return Frames::Held;
            }
            if self.proto.phase == Phase::Handshake {
                if let Some(cmd) = self.frames.peek4().and_then(fourlw::recognise) {
                    // Answered on the four-letter-word thread, never on this loop.
                    self.proto.phase = if server.answers.ask(&self.shared, cmd) {
                        Phase::Answering
                    } else {
                        Phase::Closing
                    };
                    return Frames::Drained;
                }
            }
            let frame = match self.frames.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return Frames::Drained,
                Err(e) => {
                    tracing::warn!(peer = %self.shared.peer, error = %e, "bad frame; closing");
                    Stats::bump(&server.stats.connections_dropped);
                    return Frames::Closed;
                }
            };
            Stats::bump(&server.stats.received);
            self.shared.received.fetch_add(1, Relaxed);
            let status = match self.proto.phase {
                Phase::Handshake => self.proto.handshake(server, &self.shared, frame),
                Phase::Active(session) => self.proto.request(server, &self.shared, session, frame),
                Phase::Closing | Phase::Answering => Status::Open,
            };
            if status == Status::Closed {
                return Frames::Closed;
            }
        }
    }
}

/// Appends input to the frame decoder, or closes the connection when the allocator
/// cannot grow its buffer (the process goes on).
fn push_or_close(frames: &mut FrameDecoder, data: &[u8]) -> Status {
    if frames.try_push(data).is_err() {
        tracing::warn!(
            buffered = frames.buffered(),
            "no memory for a connection's input; closing it"
        );
        return Status::Closed;
    }
    Status::Open
}

/// How a pass over the buffered frames ended.
enum Frames {
    /// No complete frame left (or the connection is closing).
    Drained,
    /// Stopped by back-pressure with frames possibly still buffered.
    Held,
    /// The connection must close now.
    Closed,
}

impl Proto {
    fn handshake(&mut self, server: &Shared, conn: &Arc<ConnShared>, frame: &[u8]) -> Status {
        match handshake::connect(server, conn, frame) {
            Handshake::Attached { session, response } => {
                let start = self.out.len();
                write_connect_response(&mut self.out, &response);
                self.hold_from(start);
                self.sent(server, conn);
                self.phase = Phase::Active(session);
                Status::Open
            }
            Handshake::Expired(response) => {
                write_connect_response(&mut self.out, &response);
                self.sent(server, conn);
                self.phase = Phase::Closing;
                Status::Open
            }
            Handshake::Refused(why) => {
                tracing::info!(peer = %conn.peer, reason = why, "handshake refused; closing");
                Status::Closed
            }
        }
    }

    fn sent(&mut self, server: &Shared, conn: &ConnShared) {
        self.unsent_replies += 1;
        Stats::bump(&server.stats.sent);
        conn.sent.fetch_add(1, Relaxed);
    }

    fn reply(&mut self, server: &Shared, conn: &ConnShared, header: ReplyHeader, body: &Response) {
        let start = self.out.len();
        conn.take_pending(&mut self.out);
        write_reply(&mut self.out, header, body);
        self.hold_from(start);
        self.sent(server, conn);
    }

    fn request(
        &mut self,
        server: &Shared,
        conn: &ConnShared,
        session: u64,
        frame: &[u8],
    ) -> Status {
        let started = Instant::now();
        let mut r = Reader::with_max(frame, server.config.max_buffer);
        let Ok(header) = RequestHeader::read(&mut r) else {
            tracing::warn!(peer = %conn.peer, "request shorter than its header; closing");
            Stats::bump(&server.stats.connections_dropped);
            return Status::Closed;
        };
        if header.op == OpCode::Auth as i32 {
            // Auth is answered inline and does not touch the session (spec 5.6).
            return self.auth(server, conn, &mut r);
        }
        if header.op == OpCode::Sasl as i32 {
            return self.sasl(server, conn, header.xid, &mut r);
        }
        if server.config.enforcement.check(&conn.auth()).is_err() {
            tracing::warn!(peer = %conn.peer, "request before the required authentication; closing");
            let header = ReplyHeader {
                xid: header.xid,
                zxid: 0,
                err: ErrorCode::SessionClosedRequireSaslAuth.code(),
            };
            self.reply(server, conn, header, &Response::Empty);
            self.phase = Phase::Closing;
            return Status::Open;
        }
        // The wake-up's clock reading: no clock read per request.
        let touched = match super::event_loop::wake_up_now_ms() {
            Some(now) => server.engine.touch_at(session, now),
            None => server.engine.touch(session),
        };
        if touched.is_err() {
            // A dead session's requests are dropped without a reply (spec 5.6).
            Stats::bump(&server.stats.dropped_dead_session);
            tracing::debug!(
                session = format_args!("0x{session:x}"),
                "request of a dead session dropped"
            );
            return Status::Open;
        }
        let req = match Request::read(header.op, &mut r) {
            Ok(req) => req,
            Err(e) => return self.undecodable(server, conn, header, e),
        };
        let op_name = op_name(&req);
        let answer = requests::execute(server, conn, session, header.xid, req);
        let zxid = answer.zxid;
        self.reply(
            server,
            conn,
            ReplyHeader {
                xid: header.xid,
                zxid,
                err: answer.err.code(),
            },
            &answer.body,
        );
        let us = started.elapsed().as_micros() as u64;
        server.stats.record_latency(us);
        {
            let mut i = conn.info.lock();
            i.last_op = op_name;
            i.last_cxid = header.xid;
            i.last_zxid = zxid;
            i.last_response_ms = wall_ms();
            i.last_latency_us = us;
            i.min_latency_us = i.min_latency_us.min(us);
            i.max_latency_us = i.max_latency_us.max(us);
            i.latency_sum_us += us;
            i.requests += 1;
        }
        if answer.close {
            self.phase = Phase::Closing;
        }
        Status::Open
    }

    fn auth(&mut self, server: &Shared, conn: &ConnShared, r: &mut Reader<'_>) -> Status {
        let zxid = server.last_zxid.load(Relaxed);
        let accepted = match crate::wire::AuthPacket::read(r) {
            Ok(p) => {
                let mut auth = (*conn.auth()).clone();
                let done = security::handle_auth_packet(
                    &p.scheme,
                    &p.auth,
                    &mut auth,
                    &server.config.acl_policy,
                    server.config.super_digest.as_ref(),
                    self.peer_x509.as_deref(),
                );
                match done {
                    Ok(()) => {
                        conn.set_auth(auth);
                        true
                    }
                    Err(_) => {
                        // The scheme only: the auth data holds a password.
                        tracing::warn!(peer = %conn.peer, scheme = %p.scheme,
                            "authentication failed; closing");
                        false
                    }
                }
            }
            Err(_) => {
                tracing::warn!(peer = %conn.peer, "undecodable auth packet; closing");
                false
            }
        };
        if !accepted {
            Stats::bump(&server.stats.auth_failed);
        }
        let err = if accepted {
            ErrorCode::Ok
        } else {
            ErrorCode::AuthFailed
        };
        let header = ReplyHeader {
            xid: xid::AUTH,
            zxid,
            err: err.code(),
        };
        self.reply(server, conn, header, &Response::Empty);
        if !accepted {
            self.phase = Phase::Closing;
        }
        Status::Open
    }

    /// One SASL DIGEST-MD5 packet (`GetSASLRequest{token}`), answered with
    /// `SetSASLResponse{token}`; a failure answers `AuthFailed` and closes.
    fn sasl(&mut self, server: &Shared, conn: &ConnShared, xid: i32, r: &mut Reader<'_>) -> Status {
        let zxid = server.last_zxid.load(Relaxed);
        let step = match (r.buffer(), server.config.sasl_users.as_ref()) {
            (Ok(token), Some(users)) if server.config.acl_policy.sasl => {
                let resumed = self.sasl_nonce.take();
                let nonce = match &resumed {
                    Some(n) => Some(n.clone()),
                    None => {
                        let mut bytes = [0u8; security::NONCE_LEN];
                        getrandom::getrandom(&mut bytes).ok().map(|_| {
                            use base64::Engine as _;
                            base64::engine::general_purpose::STANDARD.encode(bytes)
                        })
                    }
                };
                nonce.and_then(|nonce| {
                    let mut exchange = security::DigestMd5Server::with_name(
                        users,
                        server
                            .config
                            .sasl_super_password
                            .as_ref()
                            .map(|p| p.0.as_str()),
                        security::SaslServerName::default(),
                        nonce.clone(),
                    );
                    if resumed.is_some() {
                        // Replays the challenge already sent: the same nonce, same state.
                        exchange.step(&[]).ok()?;
                    }
                    let step = exchange.step(&token).ok()?;
                    if matches!(step, security::SaslStep::Challenge(_)) {
                        self.sasl_nonce = Some(nonce);
                    }
                    Some(step)
                })
            }
            _ => None,
        };
        let token = match step {
            Some(security::SaslStep::Challenge(token)) => token,
            Some(security::SaslStep::Success { token, user }) => {
                let mut auth = (*conn.auth()).clone();
                if server.config.super_user.as_deref() == Some(user.as_str()) {
                    auth.add_super(&user);
                }
                auth.add(crate::wire::Id {
                    scheme: "sasl".to_owned(),
                    id: user,
                });
                conn.set_auth(auth);
                token
            }
            None => {
                tracing::warn!(peer = %conn.peer, "SASL authentication failed; closing");
                Stats::bump(&server.stats.auth_failed);
                let err = if server.config.enforcement.requires_sasl() {
                    ErrorCode::SessionClosedRequireSaslAuth
                } else {
                    ErrorCode::AuthFailed
                };
                let header = ReplyHeader {
                    xid,
                    zxid,
                    err: err.code(),
                };
                self.reply(server, conn, header, &Response::Empty);
                self.phase = Phase::Closing;
                return Status::Open;
            }
        };
        conn.take_pending(&mut self.out);
        crate::wire::write_frame(&mut self.out, |w| {
            w.record(&ReplyHeader { xid, zxid, err: 0 });
            w.buffer(&token);
        });
        self.sent(server, conn);
        Status::Open
    }

    fn undecodable(
        &mut self,
        server: &Shared,
        conn: &ConnShared,
        header: RequestHeader,
        e: DecodeError,
    ) -> Status {
        let zxid = server.last_zxid.load(Relaxed);
        let code = e.error_code();
        tracing::warn!(peer = %conn.peer, xid = header.xid, op = header.op, error = %e,
            "undecodable request");
        self.reply(
            server,
            conn,
            ReplyHeader {
                xid: header.xid,
                zxid,
                err: code.code(),
            },
            &Response::Empty,
        );
        if code == ErrorCode::Unimplemented {
            // Unknown opcodes are answered, then the connection is closed (spec 5.6).
            Stats::bump(&server.stats.connections_dropped);
            self.phase = Phase::Closing;
        }
        Status::Open
    }
}

/// ZooKeeper's short names of operations for `cons` (`lop=`).
fn op_name(req: &Request) -> &'static str {
    match req.op() {
        OpCode::Ping => "PING",
        OpCode::CloseSession => "CLOS",
        OpCode::Create | OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => "CREA",
        OpCode::Delete => "DELE",
        OpCode::Exists => "EXIS",
        OpCode::GetData => "GETD",
        OpCode::SetData => "SETD",
        OpCode::GetAcl => "GETA",
        OpCode::SetAcl => "SETA",
        OpCode::GetChildren | OpCode::GetChildren2 => "GETC",
        OpCode::Sync => "SYNC",
        OpCode::Multi | OpCode::MultiRead => "MULT",
        OpCode::SetWatches | OpCode::SetWatches2 => "SETW",
        OpCode::CheckWatches => "CHKW",
        OpCode::RemoveWatches => "REMW",
        OpCode::AddWatch => "ADDW",
        OpCode::GetEphemerals => "GETE",
        OpCode::GetAllChildrenNumber => "GETN",
        OpCode::WhoAmI => "WHOA",
        _ => "UNKN",
    }
}
