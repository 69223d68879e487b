//! The I/O thread: drives a [`Session`] over a real TCP socket with mio.
//!
//! Owns: the socket, framing (`i32` length + payload), the clock, the command channel
//! from the blocking API, and handing events and results back to callers.
//!
//! Must never: make protocol decisions; every decision is the session's. The thread
//! only executes the session's outputs and feeds it what the network and clock say.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;

use crate::wire::{ErrorCode, KeeperState};

use super::codec;
use super::connect_string::HostAddr;
use super::ops::{Outgoing, Request, Response};
use super::session::{Output, Session, Ticket};
use super::state::{States, WatchedEvent};

const WAKER: Token = Token(0);

/// Frames larger than this are treated as a broken connection.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// The reply channel of one request.
pub type ReplySender = Sender<Result<Response, ErrorCode>>;

/// A command from the API to the I/O thread.
#[derive(Debug)]
pub enum Command {
    /// Submit a request (client paths).
    Submit(Request, ReplySender),
    /// Add credentials.
    AddAuth(String, Vec<u8>),
    /// Close the session.
    Close(ReplySender),
    /// Replace the server list; the reply says whether the client moves.
    UpdateServerList(Vec<HostAddr>, Sender<bool>),
    /// Drop the current connection without closing the session (for tests of
    /// reconnection, like ZooKeeper's `testableConnloss`).
    DropConnection,
}

/// What the API can read without asking the thread.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Client state.
    pub state: States,
    /// The last session-state event reported.
    pub last_event: KeeperState,
    /// Session id.
    pub session_id: i64,
    /// Session password.
    pub passwd: Vec<u8>,
    /// Negotiated timeout (ms).
    pub timeout_ms: u64,
    /// The server of the current connection.
    pub server: Option<HostAddr>,
}

impl Snapshot {
    fn of(s: &Session) -> Snapshot {
        Snapshot {
            state: s.state(),
            last_event: s.last_state_event(),
            session_id: s.session_id(),
            passwd: s.password().to_vec(),
            timeout_ms: s.timeout_ms(),
            server: s.connected_to().cloned(),
        }
    }
}

struct Conn {
    /// A fresh token per connection, so a stale event of a dropped socket is never
    /// taken for the new one.
    token: Token,
    stream: TcpStream,
    connected: bool,
    handshake_pending: bool,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
}

/// The I/O loop. Runs until the session is closed or expired and every caller has its
/// answer, or until the API side is dropped.
pub struct Driver {
    session: Session,
    poll: Poll,
    commands: Receiver<Command>,
    events: Sender<WatchedEvent>,
    snapshot: Arc<Mutex<Snapshot>>,
    start: Instant,
    conn: Option<Conn>,
    waiting: HashMap<Ticket, ReplySender>,
    next_ticket: Ticket,
    next_token: usize,
}

impl Driver {
    /// A driver; returns it with the waker the API uses to nudge it.
    pub fn new(
        session: Session,
        commands: Receiver<Command>,
        events: Sender<WatchedEvent>,
        snapshot: Arc<Mutex<Snapshot>>,
        start: Instant,
    ) -> io::Result<(Driver, Arc<Waker>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        *snapshot.lock() = Snapshot::of(&session);
        Ok((
            Driver {
                session,
                poll,
                commands,
                events,
                snapshot,
                start,
                conn: None,
                waiting: HashMap::new(),
                next_ticket: 1,
                next_token: 1,
            },
            waker,
        ))
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Runs the loop on the current thread.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(16);
        loop {
            self.execute_outputs();
            *self.snapshot.lock() = Snapshot::of(&self.session);
            if !self.session.state().is_alive() && self.waiting.is_empty() {
                // Answer late commands, then stop.
                self.drain_commands();
                self.execute_outputs();
                return;
            }
            let timeout = self
                .session
                .next_deadline()
                .map(|d| Duration::from_millis(d.saturating_sub(self.now())));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.fail_everything();
                    return;
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER if !self.drain_commands() => return,
                    t if self.conn.as_ref().is_some_and(|c| c.token == t) => {
                        self.on_socket(ev.is_writable(), ev.is_readable())
                    }
                    _ => {}
                }
            }
            let now = self.now();
            self.session.on_timeout(now);
        }
    }

    /// Applies queued commands; false when the API side is gone.
    fn drain_commands(&mut self) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(cmd) => self.command(cmd),
                Err(crossbeam_channel::TryRecvError::Empty) => return true,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    // The handle was dropped without close(): abandon the session.
                    let t = self.ticket_for(None);
                    let now = self.now();
                    self.session.close(now, t);
                    self.execute_outputs();
                    return false;
                }
            }
        }
    }

    fn ticket_for(&mut self, reply: Option<ReplySender>) -> Ticket {
        let t = self.next_ticket;
        self.next_ticket += 1;
        if let Some(r) = reply {
            self.waiting.insert(t, r);
        }
        t
    }

    fn command(&mut self, cmd: Command) {
        let now = self.now();
        match cmd {
            Command::Submit(req, reply) => {
                let t = self.ticket_for(Some(reply));
                self.session.submit(now, t, req);
            }
            Command::AddAuth(scheme, auth) => self.session.add_auth(&scheme, &auth),
            Command::Close(reply) => {
                let t = self.ticket_for(Some(reply));
                self.session.close(now, t);
            }
            Command::UpdateServerList(servers, reply) => {
                let moved = self
                    .session
                    .update_server_list(now, servers)
                    .unwrap_or(false);
                let _ = reply.send(moved);
            }
            Command::DropConnection => {
                if self.conn.is_some() {
                    self.session.on_transport_error(now);
                }
            }
        }
        self.execute_outputs();
    }

    fn fail_everything(&mut self) {
        for (_, r) in self.waiting.drain() {
            let _ = r.send(Err(ErrorCode::ConnectionLoss));
        }
    }

    fn execute_outputs(&mut self) {
        while let Some(out) = self.session.poll_output() {
            if matches!(out, Output::Event(_) | Output::Complete { .. }) {
                // Callers woken by an event or a result must see the state behind it.
                *self.snapshot.lock() = Snapshot::of(&self.session);
            }
            match out {
                Output::Dial(addr) => self.dial(&addr),
                Output::Send(frame) => self.send(&frame),
                Output::Drop => self.close_conn(),
                Output::Event(e) => {
                    let _ = self.events.send(e);
                }
                Output::Complete { ticket, result } => {
                    if let Some(r) = self.waiting.remove(&ticket) {
                        let _ = r.send(result);
                    }
                }
            }
        }
    }

    fn close_conn(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
    }

    fn dial(&mut self, addr: &HostAddr) {
        self.close_conn();
        let resolved: Option<SocketAddr> = (addr.host.as_str(), addr.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut it| it.next());
        let stream = resolved.and_then(|sa| TcpStream::connect(sa).ok());
        let Some(mut stream) = stream else {
            let now = self.now();
            self.session.on_transport_error(now);
            return;
        };
        self.next_token += 1;
        let token = Token(self.next_token);
        if self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            let now = self.now();
            self.session.on_transport_error(now);
            return;
        }
        self.conn = Some(Conn {
            token,
            stream,
            connected: false,
            handshake_pending: false,
            rbuf: Vec::new(),
            wbuf: Vec::new(),
        });
    }

    fn send(&mut self, frame: &Outgoing) {
        let Some(c) = self.conn.as_mut() else {
            return;
        };
        if matches!(frame, Outgoing::Connect(_)) {
            c.handshake_pending = true;
        }
        c.wbuf.extend_from_slice(&codec::encode_frame(frame));
        if c.connected && self.flush().is_err() {
            let now = self.now();
            self.session.on_transport_error(now);
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let Some(c) = self.conn.as_mut() else {
            return Ok(());
        };
        while !c.wbuf.is_empty() {
            match c.stream.write(&c.wbuf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    c.wbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn on_socket(&mut self, writable: bool, readable: bool) {
        let now = self.now();
        let Some(c) = self.conn.as_mut() else {
            return;
        };
        if !c.connected {
            if !writable && !readable {
                return;
            }
            match c.stream.take_error() {
                Ok(None) => {}
                _ => return self.session.on_transport_error(now),
            }
            if c.stream.peer_addr().is_err() {
                // Still connecting, or refused.
                if readable {
                    self.session.on_transport_error(now);
                }
                return;
            }
            c.connected = true;
            self.session.on_tcp_connected(now);
            self.execute_outputs();
        }
        if self.flush().is_err() {
            return self.session.on_transport_error(now);
        }
        if readable && self.read_frames().is_err() {
            let now = self.now();
            self.session.on_transport_error(now);
        }
    }

    fn read_frames(&mut self) -> Result<(), ()> {
        let mut buf = [0u8; 64 * 1024];
        let token = self.conn.as_ref().map(|c| c.token);
        loop {
            // Stop once the session has dropped (or replaced) this connection.
            let Some(c) = self.conn.as_mut().filter(|c| Some(c.token) == token) else {
                return Ok(());
            };
            match c.stream.read(&mut buf) {
                Ok(0) => return Err(()),
                Ok(n) => c.rbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(()),
            }
            self.dispatch_frames()?;
        }
    }

    fn dispatch_frames(&mut self) -> Result<(), ()> {
        loop {
            let Some(c) = self.conn.as_mut() else {
                return Ok(());
            };
            if c.rbuf.len() < 4 {
                return Ok(());
            }
            let len = i32::from_be_bytes([c.rbuf[0], c.rbuf[1], c.rbuf[2], c.rbuf[3]]);
            if len < 0 || len as usize > MAX_FRAME {
                return Err(());
            }
            let len = len as usize;
            if c.rbuf.len() < 4 + len {
                return Ok(());
            }
            let payload: Vec<u8> = c.rbuf.drain(..4 + len).skip(4).collect();
            let handshake = std::mem::replace(&mut c.handshake_pending, false);
            let session = &self.session;
            let frame =
                codec::decode_frame(&payload, handshake, &|xid| session.expected_reply(xid))
                    .map_err(|_| ())?;
            let now = self.now();
            self.session.on_incoming(now, frame);
            self.execute_outputs();
        }
    }
}
