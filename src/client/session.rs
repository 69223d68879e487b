//! The session state machine (`ClientCnxn.SendThread`), sans I/O.
//!
//! Owns: the connection phase, the client state and its event sequence, xids, the
//! outgoing and pending queues, pings, read/connect timeouts, client-side expiry,
//! reconnect with the session id and password, the herd back-off, SetWatches on
//! reconnect, chroot mapping and closing.
//!
//! Ground rules:
//! - Every input carries `now` (monotonic ms); the session never reads a clock, sleeps or
//!   touches a socket. It emits [`Output`]s the driver executes in order, and
//!   [`Session::next_deadline`] says when to call [`Session::on_timeout`].
//! - State events follow ZooKeeper's dedup rule: a state event equal to the last one
//!   queued is dropped, and the initial last state is Disconnected.
//! - The handshake is written alone; nothing else is written until its reply arrives.
//! - Once Closed or AuthFailed the session is dead: no dial, every request fails.
//!
//! Must never: encode bytes, resolve names or block.

use std::collections::VecDeque;
use std::time::Duration;

use fastrand::Rng;

use crate::wire::{
    AuthPacket, ConnectRequest, ConnectResponse, ErrorCode, EventType, KeeperState, MultiResult,
    OpCode, Reply, ReplyHeader, Request, Response,
};

use super::chroot::Chroot;
use super::connect_string::HostAddr;
use super::host_provider::{EmptyServerList, HostProvider};
use super::state::{States, Timing, WatchedEvent};
use super::watches::{WatchKind, WatchTable};

/// A frame the session hands to the transport, as the wire records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// The handshake (no request header).
    Connect(ConnectRequest),
    /// A request with its header.
    Request {
        /// Transaction id (−2 ping, −4 auth, > 0 otherwise).
        xid: i32,
        /// The request (server paths).
        request: Request,
    },
}

/// A frame the transport hands to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The handshake's reply.
    Connect(ConnectResponse),
    /// Any later frame: a notification or an answer.
    Reply(Reply),
}

/// Identifies a caller's request; the session hands it back with the result.
pub type Ticket = u64;

/// The pause after a full pass over the servers (`next(1000)`).
pub const SPIN_DELAY: Duration = Duration::from_millis(1000);

/// The upper bound of the random pause before each reconnect attempt.
pub const MAX_BACKOFF_MS: u64 = 1000;

/// Session settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Requested session timeout (ms).
    pub session_timeout_ms: u32,
    /// Accept read-only servers.
    pub can_be_read_only: bool,
    /// Expire the session locally after `4T/3` without hearing from any server
    /// (ZooKeeper 3.9.3+). When false, the client waits for a server to say so (3.8).
    pub client_side_expiry: bool,
    /// Resume an existing session: its id and password.
    pub resume: Option<(i64, Vec<u8>)>,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            session_timeout_ms: 30_000,
            can_be_read_only: false,
            client_side_expiry: true,
            resume: None,
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a TCP connection to this server (after closing any current one).
    Dial(HostAddr),
    /// Write this frame on the current connection.
    Send(Outgoing),
    /// Close the current connection.
    Drop,
    /// Deliver this event to the watcher.
    Event(WatchedEvent),
    /// A request finished.
    Complete {
        /// The caller's ticket.
        ticket: Ticket,
        /// The body or the error code.
        result: Result<Response, ErrorCode>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting until `until` to dial the chosen host.
    Waiting { until: u64 },
    /// Dial emitted; waiting for the TCP connection.
    Dialing,
    /// Handshake written; waiting for its reply.
    Handshaking,
    /// Session established on this connection.
    Established,
    /// Closed, expired or auth failed.
    Dead,
}

#[derive(Debug)]
struct Queued {
    request: Request,
    ticket: Option<Ticket>,
}

#[derive(Debug)]
struct InFlight {
    xid: i32,
    op: OpCode,
    ticket: Option<Ticket>,
    watch: Option<(WatchKind, String)>,
}

/// The client side of one ZooKeeper session.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    hosts: HostProvider,
    chroot: Chroot,
    rng: Rng,
    state: States,
    phase: Phase,
    target: Option<HostAddr>,
    connected_to: Option<HostAddr>,
    timeout_ms: u64,
    timing: Timing,
    session_id: i64,
    passwd: Vec<u8>,
    last_zxid: i64,
    seen_rw: bool,
    first_connect: bool,
    closing: bool,
    close_ticket: Option<Ticket>,
    last_heard: u64,
    last_send: u64,
    xid: i32,
    outgoing: VecDeque<Queued>,
    pending: VecDeque<InFlight>,
    auth: Vec<(String, Vec<u8>)>,
    watches: WatchTable,
    last_state_event: KeeperState,
    out: VecDeque<Output>,
}

impl Session {
    /// A new session that will dial its first host at `now`.
    pub fn new(
        cfg: SessionConfig,
        hosts: HostProvider,
        chroot: Chroot,
        rng: Rng,
        now: u64,
    ) -> Session {
        let timeout_ms = cfg.session_timeout_ms as u64;
        let timing = Timing::new(timeout_ms, hosts.size());
        let (session_id, passwd) = cfg.resume.clone().unwrap_or((0, vec![0; 16]));
        let mut s = Session {
            hosts,
            chroot,
            rng,
            state: States::Connecting,
            phase: Phase::Dead,
            target: None,
            connected_to: None,
            timeout_ms,
            timing,
            session_id,
            passwd,
            last_zxid: 0,
            seen_rw: session_id != 0,
            first_connect: true,
            closing: false,
            close_ticket: None,
            last_heard: now,
            last_send: now,
            xid: 1,
            outgoing: VecDeque::new(),
            pending: VecDeque::new(),
            auth: Vec::new(),
            watches: WatchTable::default(),
            last_state_event: KeeperState::Disconnected,
            out: VecDeque::new(),
            cfg,
        };
        s.schedule_connect(now);
        s
    }

    /// The client state.
    pub fn state(&self) -> States {
        self.state
    }

    /// The last session-state event reported: `Disconnected` before the first
    /// connection, then SyncConnected, ConnectedReadOnly, Disconnected, and finally
    /// Expired, Closed or AuthFailed. It tells an expired session from a closed one,
    /// which [`States::Closed`] does not.
    pub fn last_state_event(&self) -> KeeperState {
        self.last_state_event
    }

    /// The session id (0 before the first connection).
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// The session password.
    pub fn password(&self) -> &[u8] {
        &self.passwd
    }

    /// The negotiated timeout (ms), or the requested one before the first connection.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// The last zxid seen in a reply.
    #[cfg(test)]
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// The server of the current connection, once established.
    pub fn connected_to(&self) -> Option<&HostAddr> {
        self.connected_to.as_ref()
    }

    /// The registered one-shot watches.
    #[cfg(test)]
    pub fn watches(&self) -> &WatchTable {
        &self.watches
    }

    /// The next output to execute, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The opcode of the request a reply with this xid answers, for decoding its body.
    pub fn expected_reply(&self, xid: i32) -> Option<OpCode> {
        match xid {
            -2 => Some(OpCode::Ping),
            -4 => Some(OpCode::Auth),
            x if x > 0 => self.pending.front().map(|p| p.op),
            _ => None,
        }
    }

    /// When [`Session::on_timeout`] must next be called (`None` = never).
    pub fn next_deadline(&self) -> Option<u64> {
        let expiry = (self.session_id != 0 && self.cfg.client_side_expiry)
            .then(|| self.last_heard + self.timing.expiration_timeout);
        let phase = match self.phase {
            Phase::Dead => return None,
            Phase::Waiting { until } => Some(until),
            Phase::Dialing | Phase::Handshaking => {
                Some(self.last_send + self.timing.connect_timeout)
            }
            Phase::Established => Some(
                (self.last_heard + self.timing.read_timeout)
                    .min(self.last_send + self.timing.ping_delay()),
            ),
        };
        [expiry, phase].into_iter().flatten().min()
    }

    /// Fires whatever timers are due at `now`.
    pub fn on_timeout(&mut self, now: u64) {
        if self.phase == Phase::Dead {
            return;
        }
        let idle_recv = now.saturating_sub(self.last_heard);
        let idle_send = now.saturating_sub(self.last_send);
        if self.session_id != 0
            && self.cfg.client_side_expiry
            && idle_recv >= self.timing.expiration_timeout
        {
            self.expire();
            return;
        }
        match self.phase {
            Phase::Waiting { until } if now >= until => self.dial(now),
            Phase::Dialing | Phase::Handshaking if idle_send >= self.timing.connect_timeout => {
                self.connection_lost(now)
            }
            Phase::Established if idle_recv >= self.timing.read_timeout => {
                self.connection_lost(now)
            }
            Phase::Established if self.timing.ping_due(idle_send) => {
                self.last_send = now;
                self.out.push_back(Output::Send(Outgoing::Request {
                    xid: -2,
                    request: Request::Ping,
                }));
            }
            _ => {}
        }
    }

    /// The TCP connection of the current attempt is up: write the handshake.
    pub fn on_tcp_connected(&mut self, now: u64) {
        if self.phase != Phase::Dialing {
            return;
        }
        self.first_connect = false;
        self.last_heard = now;
        self.last_send = now;
        self.phase = Phase::Handshaking;
        let session_id = if self.seen_rw { self.session_id } else { 0 };
        self.out
            .push_back(Output::Send(Outgoing::Connect(ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: self.last_zxid,
                // Always the requested timeout, as ZooKeeper's client sends.
                timeout_ms: self.cfg.session_timeout_ms as i32,
                session_id,
                password: self.passwd.clone(),
                read_only: self.cfg.can_be_read_only,
                legacy: false,
            })));
    }

    /// The connection failed or closed (dial error, EOF, I/O or decode error).
    pub fn on_transport_error(&mut self, now: u64) {
        match self.phase {
            Phase::Dialing | Phase::Handshaking | Phase::Established => self.connection_lost(now),
            Phase::Waiting { .. } | Phase::Dead => {}
        }
    }

    /// A frame arrived.
    pub fn on_incoming(&mut self, now: u64, frame: Incoming) {
        if !matches!(self.phase, Phase::Handshaking | Phase::Established) {
            return;
        }
        self.last_heard = now;
        match frame {
            Incoming::Connect(resp) if self.phase == Phase::Handshaking => {
                self.on_connected(now, resp)
            }
            Incoming::Connect(_) => self.connection_lost(now),
            _ if self.phase == Phase::Handshaking => self.connection_lost(now),
            Incoming::Reply(Reply::Notification { event, .. }) => {
                self.on_notification(event.event_type, &event.path)
            }
            Incoming::Reply(Reply::Answer { header, body }) => self.on_reply(now, header, body),
        }
    }

    /// Queues a request (paths are client paths; the chroot is applied here).
    pub fn submit(&mut self, now: u64, ticket: Ticket, mut request: Request) {
        if let Some(code) = self.refusal() {
            self.complete(ticket, Err(code));
            return;
        }
        request.for_each_path_mut(|p| *p = self.chroot.prepend(p));
        self.enqueue(now, request, Some(ticket));
    }

    /// Adds credentials, sent now if connected and on every reconnect.
    pub fn add_auth(&mut self, scheme: &str, auth: &[u8]) {
        self.auth.push((scheme.to_string(), auth.to_vec()));
        if self.phase == Phase::Established {
            self.send_auth(scheme.to_string(), auth.to_vec());
        }
    }

    /// Closes the session: sends closeSession (after the handshake, if one is under way)
    /// and completes `ticket` once the session is closed. With no TCP connection, the
    /// session is abandoned locally (it then expires on the server).
    pub fn close(&mut self, now: u64, ticket: Ticket) {
        if !self.state.is_alive() || self.closing {
            self.complete(ticket, Ok(Response::Empty));
            return;
        }
        self.closing = true;
        self.close_ticket = Some(ticket);
        if matches!(self.phase, Phase::Established | Phase::Handshaking) {
            // During the handshake the closeSession waits for it, as in ZooKeeper.
            self.enqueue(now, Request::CloseSession, None);
        } else {
            self.fail_all(ErrorCode::ConnectionLoss);
            self.finish(KeeperState::Closed);
        }
    }

    /// Replaces the server list (`updateServerList`). Returns whether the client moves:
    /// then the current connection is dropped (Disconnected) and the next server comes
    /// from the rebalancing choice.
    pub fn update_server_list(
        &mut self,
        now: u64,
        servers: Vec<HostAddr>,
    ) -> Result<bool, EmptyServerList> {
        let current = self.connected_to.clone();
        let moved = self.hosts.update_server_list(servers, current.as_ref())?;
        self.timing = Timing::new(self.timeout_ms, self.hosts.size());
        match self.phase {
            Phase::Waiting { .. } => {
                self.target = Some(self.hosts.next(Duration::ZERO).addr);
            }
            Phase::Dialing | Phase::Handshaking | Phase::Established if moved => {
                self.connection_lost(now);
            }
            _ => {}
        }
        Ok(moved)
    }

    fn refusal(&self) -> Option<ErrorCode> {
        match self.state {
            States::Closed => Some(ErrorCode::SessionExpired),
            States::AuthFailed => Some(ErrorCode::AuthFailed),
            _ if self.closing => Some(ErrorCode::ConnectionLoss),
            _ => None,
        }
    }

    fn loss_code(&self) -> ErrorCode {
        match self.state {
            States::Closed => ErrorCode::SessionExpired,
            States::AuthFailed => ErrorCode::AuthFailed,
            _ => ErrorCode::ConnectionLoss,
        }
    }

    fn next_xid(&mut self) -> i32 {
        let x = self.xid;
        self.xid = if x == i32::MAX { 1 } else { x + 1 };
        x
    }

    fn enqueue(&mut self, now: u64, request: Request, ticket: Option<Ticket>) {
        if self.phase == Phase::Established {
            self.send_now(now, request, ticket);
        } else {
            self.outgoing.push_back(Queued { request, ticket });
        }
    }

    fn send_now(&mut self, now: u64, request: Request, ticket: Option<Ticket>) {
        let xid = self.next_xid();
        let watch = match &request {
            Request::Exists(p) if p.watch => Some((WatchKind::Exist, p.path.clone())),
            Request::GetData(p) if p.watch => Some((WatchKind::Data, p.path.clone())),
            Request::GetChildren(p) if p.watch => Some((WatchKind::Child, p.path.clone())),
            _ => None,
        };
        self.pending.push_back(InFlight {
            xid,
            op: request.op(),
            ticket,
            watch,
        });
        self.last_send = now;
        self.out
            .push_back(Output::Send(Outgoing::Request { xid, request }));
    }

    fn send_auth(&mut self, scheme: String, auth: Vec<u8>) {
        self.out.push_back(Output::Send(Outgoing::Request {
            xid: -4,
            request: Request::Auth(AuthPacket {
                auth_type: 0,
                scheme,
                auth,
            }),
        }));
    }

    fn complete(&mut self, ticket: Ticket, result: Result<Response, ErrorCode>) {
        self.out.push_back(Output::Complete { ticket, result });
    }

    fn state_event(&mut self, state: KeeperState) {
        if state == self.last_state_event {
            return;
        }
        self.last_state_event = state;
        self.out
            .push_back(Output::Event(WatchedEvent::state(state)));
    }

    fn schedule_connect(&mut self, now: u64) {
        let next = self.hosts.next(SPIN_DELAY);
        let backoff = if self.first_connect {
            0
        } else {
            self.rng.u64(..MAX_BACKOFF_MS)
        };
        self.target = Some(next.addr);
        self.phase = Phase::Waiting {
            until: now + next.pause.as_millis() as u64 + backoff,
        };
    }

    fn dial(&mut self, now: u64) {
        let Some(addr) = self.target.take() else {
            return;
        };
        self.state = States::Connecting;
        self.last_send = now;
        self.phase = Phase::Dialing;
        self.out.push_back(Output::Dial(addr));
    }

    /// `cleanAndNotifyState`: drop the connection, fail what was queued, report
    /// Disconnected, and try the next server.
    fn connection_lost(&mut self, now: u64) {
        self.drop_conn();
        self.fail_all(self.loss_code());
        if self.closing {
            self.finish(KeeperState::Closed);
            return;
        }
        self.state_event(KeeperState::Disconnected);
        self.schedule_connect(now);
    }

    /// Emits Drop if a connection (or attempt) is open; the phase becomes Dead until the
    /// caller picks the next one.
    fn drop_conn(&mut self) {
        if matches!(
            self.phase,
            Phase::Dialing | Phase::Handshaking | Phase::Established
        ) {
            self.out.push_back(Output::Drop);
        }
        self.phase = Phase::Dead;
        self.connected_to = None;
    }

    fn fail_all(&mut self, code: ErrorCode) {
        let tickets: Vec<Ticket> = self
            .pending
            .drain(..)
            .filter_map(|p| p.ticket)
            .chain(self.outgoing.drain(..).filter_map(|q| q.ticket))
            .collect();
        for t in tickets {
            self.complete(t, Err(code));
        }
    }

    /// Terminal transition to Closed, reporting `last` (Closed or Expired).
    fn finish(&mut self, last: KeeperState) {
        self.drop_conn();
        let was_alive = self.state.is_alive();
        self.state = States::Closed;
        self.phase = Phase::Dead;
        self.connected_to = None;
        self.fail_all(ErrorCode::SessionExpired);
        if was_alive && last == KeeperState::Closed {
            self.state_event(KeeperState::Disconnected);
        }
        self.state_event(last);
        if let Some(t) = self.close_ticket.take() {
            self.complete(t, Ok(Response::Empty));
        }
    }

    fn expire(&mut self) {
        self.finish(KeeperState::Expired);
    }

    fn on_connected(&mut self, now: u64, resp: ConnectResponse) {
        if resp.is_expired() {
            self.expire();
            return;
        }
        self.timeout_ms = resp.timeout_ms as u64;
        self.timing = Timing::new(self.timeout_ms, self.hosts.size());
        self.hosts.on_connected();
        self.connected_to = self.hosts.current_server().cloned();
        self.session_id = resp.session_id;
        self.passwd = resp.password;
        self.seen_rw |= !resp.read_only;
        self.phase = Phase::Established;
        if resp.read_only {
            self.state = States::ConnectedReadOnly;
            self.state_event(KeeperState::ConnectedReadOnly);
        } else {
            self.state = States::Connected;
            self.state_event(KeeperState::SyncConnected);
        }
        for (scheme, auth) in self.auth.clone() {
            self.send_auth(scheme, auth);
        }
        for req in self.watches.set_watches(self.last_zxid, &self.chroot) {
            self.send_now(now, req, None);
        }
        while let Some(q) = self.outgoing.pop_front() {
            self.send_now(now, q.request, q.ticket);
        }
    }

    fn on_notification(&mut self, event_type: EventType, server_path: &str) {
        let Some(path) = self.chroot.strip(server_path) else {
            return;
        };
        if self.watches.materialize(event_type, &path) {
            self.out.push_back(Output::Event(WatchedEvent {
                event_type,
                state: KeeperState::SyncConnected,
                path: Some(path),
            }));
        }
    }

    fn on_reply(&mut self, now: u64, header: ReplyHeader, body: Option<Response>) {
        let ReplyHeader { xid, zxid, err } = header;
        match xid {
            -2 => return,
            -4 => {
                if err == ErrorCode::AuthFailed.code() {
                    self.fail_all(ErrorCode::AuthFailed);
                    self.drop_conn();
                    self.state = States::AuthFailed;
                    self.state_event(KeeperState::AuthFailed);
                    if let Some(t) = self.close_ticket.take() {
                        self.complete(t, Ok(Response::Empty));
                    }
                }
                return;
            }
            _ => {}
        }
        let Some(head) = self.pending.pop_front() else {
            self.connection_lost(now);
            return;
        };
        if head.xid != xid {
            if let Some(t) = head.ticket {
                self.complete(t, Err(ErrorCode::ConnectionLoss));
            }
            self.connection_lost(now);
            return;
        }
        if zxid > 0 {
            self.last_zxid = zxid;
        }
        let code = ErrorCode::from_code(err).unwrap_or(ErrorCode::SystemError);
        if let Some((kind, path)) = head.watch {
            let kind = match (kind, code) {
                (WatchKind::Exist, ErrorCode::Ok) => Some(WatchKind::Data),
                (WatchKind::Exist, ErrorCode::NoNode) => Some(WatchKind::Exist),
                (k, ErrorCode::Ok) => Some(k),
                _ => None,
            };
            if let (Some(kind), Some(p)) = (kind, self.chroot.strip(&path)) {
                self.watches.add(kind, &p);
            }
        }
        if head.op == OpCode::CloseSession {
            // Closed by request: no Disconnected before Closed.
            self.state = States::Closed;
            self.finish(KeeperState::Closed);
            return;
        }
        let Some(ticket) = head.ticket else {
            return;
        };
        let result = if code == ErrorCode::Ok {
            Ok(self.strip_response(body.unwrap_or(Response::Empty)))
        } else {
            Err(code)
        };
        self.complete(ticket, result);
    }

    fn strip_response(&self, resp: Response) -> Response {
        let strip = |p: String| self.chroot.strip(&p).unwrap_or(p);
        // Create, createContainer and createTTL all answer with the created path.
        match resp {
            Response::Create(path) => Response::Create(strip(path)),
            Response::Create2 { path, stat } => Response::Create2 {
                path: strip(path),
                stat,
            },
            Response::Sync(path) => Response::Sync(strip(path)),
            Response::Multi(results) => Response::Multi(
                results
                    .into_iter()
                    .map(|r| match r {
                        MultiResult::Create(path) => MultiResult::Create(strip(path)),
                        MultiResult::Create2 { path, stat } => MultiResult::Create2 {
                            path: strip(path),
                            stat,
                        },
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests;
