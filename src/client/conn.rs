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
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::sync::{Arc, Mutex};
use crate::wire::{
    decode_reply, write_frame, write_request, DecodeError, ErrorCode, FrameDecoder, KeeperState,
    OpCode, Reader, Request, Response,
};

use super::connect_string::HostAddr;
use super::session::{Incoming, Outgoing, Output, Session, Ticket};
use super::state::{States, WatchedEvent};

const WAKER: Token = Token(0);

/// Frames (and strings or buffers inside them) larger than this are treated as a broken
/// connection.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// Appends the bytes of one frame (length prefix included).
fn encode(frame: &Outgoing, out: &mut Vec<u8>) {
    match frame {
        Outgoing::Connect(c) => write_frame(out, |w| w.record(c)),
        Outgoing::Request { xid, request } => write_request(out, *xid, request),
    }
}

/// Decodes one frame's payload: the handshake's reply when `handshake`, else a
/// notification or an answer whose body `expected` (xid → opcode asked) selects.
fn decode(
    payload: &[u8],
    handshake: bool,
    expected: impl FnOnce(i32) -> Option<OpCode>,
) -> Result<Incoming, DecodeError> {
    if handshake {
        Ok(Incoming::Connect(
            Reader::with_max(payload, MAX_FRAME).record()?,
        ))
    } else {
        decode_reply(payload, MAX_FRAME, expected).map(Incoming::Reply)
    }
}

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
    frames: FrameDecoder,
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
            frames: FrameDecoder::new(MAX_FRAME),
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
        encode(frame, &mut c.wbuf);
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
                Ok(n) => c.frames.push(&buf[..n]),
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
            let Some(payload) = c.frames.next_frame().map_err(|_| ())? else {
                return Ok(());
            };
            debug_assert!(payload.len() <= MAX_FRAME, "the decoder bounds frames");
            let handshake = std::mem::replace(&mut c.handshake_pending, false);
            let session = &self.session;
            let frame =
                decode(payload, handshake, |xid| session.expected_reply(xid)).map_err(|_| ())?;
            let now = self.now();
            self.session.on_incoming(now, frame);
            self.execute_outputs();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{
        Acl, ConnectRequest, CreateMode, CreateTtlRequest, EventType, KeeperState, Reply,
        ReplyHeader, WatcherEvent,
    };

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn frame(f: Outgoing) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&f, &mut out);
        out
    }

    #[test]
    fn connect_request_matches_the_spec_vector() {
        let bytes = frame(Outgoing::Connect(ConnectRequest::new_session(30_000)));
        assert_eq!(
            &bytes[4..],
            hex("00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000 00")
        );
        assert_eq!(&bytes[..4], &45u32.to_be_bytes());
    }

    #[test]
    fn ping_and_create_match_the_spec_vectors() {
        let ping = frame(Outgoing::Request {
            xid: -2,
            request: Request::Ping,
        });
        assert_eq!(&ping[4..], hex("fffffffe 0000000b"));
        let create = frame(Outgoing::Request {
            xid: 1,
            request: Request::create(
                "/foo",
                b"bar",
                vec![Acl::world_anyone()],
                CreateMode::Ephemeral,
            ),
        });
        assert_eq!(
            &create[12..],
            hex("00000004 2f666f6f 00000003 626172 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000001")
        );
    }

    #[test]
    fn container_and_ttl_modes_use_their_opcodes() {
        let request = |request| frame(Outgoing::Request { xid: 1, request });
        let op = |bytes: &[u8]| i32::from_be_bytes(bytes[8..12].try_into().unwrap());
        let container = request(Request::create(
            "/c",
            vec![],
            vec![Acl::world_anyone()],
            CreateMode::Container,
        ));
        assert_eq!(op(&container), OpCode::CreateContainer as i32);
        let ttl = request(Request::CreateTtl(CreateTtlRequest {
            path: "/t".into(),
            data: vec![],
            acl: vec![Acl::world_anyone()],
            flags: CreateMode::PersistentWithTtl as i32,
            ttl: 5_000,
        }));
        assert_eq!(op(&ttl), OpCode::CreateTtl as i32);
        assert_eq!(&ttl[ttl.len() - 8..], &5_000i64.to_be_bytes());
    }

    #[test]
    fn connect_response_decodes_including_expired() {
        let ok =
            hex("00000000 00007530 01869f5b2c3d0000 00000010 99544121b2ac73529f3f81404b3967b4 00");
        match decode(&ok, true, |_| None).unwrap() {
            Incoming::Connect(c) => {
                assert_eq!(c.timeout_ms, 30_000);
                assert_eq!(c.session_id, 0x01869f5b2c3d0000);
                assert!(!c.read_only && !c.is_expired());
            }
            other => panic!("{other:?}"),
        }
        let expired =
            hex("00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000 00");
        match decode(&expired, true, |_| None).unwrap() {
            Incoming::Connect(c) => assert!(c.is_expired()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn notification_decodes() {
        let bytes = hex("ffffffff ffffffffffffffff 00000000 00000002 00000003 00000004 2f666f6f");
        assert_eq!(
            decode(&bytes, false, |_| None).unwrap(),
            Incoming::Reply(Reply::Notification {
                zxid: -1,
                event: WatcherEvent {
                    event_type: EventType::NodeDeleted,
                    state: KeeperState::SyncConnected,
                    path: "/foo".into(),
                },
            })
        );
    }

    #[test]
    fn error_reply_has_no_body() {
        let bytes = hex("00000001 0000000000000005 ffffff9b");
        assert_eq!(
            decode(&bytes, false, |_| Some(OpCode::GetData)).unwrap(),
            Incoming::Reply(Reply::Answer {
                header: ReplyHeader {
                    xid: 1,
                    zxid: 5,
                    err: -101
                },
                body: None
            })
        );
    }

    #[test]
    fn truncated_reply_is_an_error() {
        assert!(decode(&hex("00000001 00"), false, |_| None).is_err());
    }
}
