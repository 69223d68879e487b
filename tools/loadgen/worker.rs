//! One load-generating process: a single-threaded mio loop driving many client sessions.
//!
//! Owns: opening connections from a chosen 127.0.0.x source address with at most
//! `window` handshakes in flight, a closed-loop ping phase (one ping outstanding per
//! session, latency recorded per ping), and closing every session with closeSession.
//!
//! Must never: keep more than one request outstanding per session, or wait without a
//! bound (every phase has a deadline).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Protocol, Socket, Type};

use crate::hist::{self, Hist};
use crate::proto;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// TCP connect in progress.
    Connecting,
    /// ConnectRequest sent, waiting for the ConnectResponse.
    Handshake,
    /// Session established, nothing outstanding.
    Idle,
    /// A ping is outstanding since this instant.
    Pinging(Instant),
    /// Between pings (paced mode), queued for its next one.
    Waiting,
    /// closeSession sent.
    Closing,
    /// Finished (closed, failed or refused); the socket is no longer polled.
    Dead,
}

struct Conn {
    stream: TcpStream,
    state: State,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
}

/// Results of the connect phase.
pub struct ConnectReport {
    /// Sessions established.
    pub ok: usize,
    /// Connections that failed or got no session.
    pub failed: usize,
    /// Wall time of the phase.
    pub elapsed: Duration,
}

/// Results of the ping phase.
pub struct PingReport {
    /// Ping replies received before the deadline.
    pub pings: u64,
    /// Sessions lost during the phase.
    pub errors: u64,
    /// Latency of every reply, in ns.
    pub hist: Hist,
}

/// The worker's sessions and event loop.
pub struct Worker {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    src: Ipv4Addr,
    dst: SocketAddrV4,
    connect_frame: Vec<u8>,
}

/// Opens a non-blocking TCP connection from `src` (any port) to `dst`.
fn connect_from(src: Ipv4Addr, dst: SocketAddrV4) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_nodelay(true)?;
    socket.bind(&SocketAddr::from(SocketAddrV4::new(src, 0)).into())?;
    match socket.connect(&SocketAddr::from(dst).into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(socket.into()))
}

impl Worker {
    /// A worker that will connect from `src` to `dst` asking for `timeout_ms` sessions.
    pub fn new(src: Ipv4Addr, dst: SocketAddrV4, timeout_ms: i32) -> io::Result<Worker> {
        Ok(Worker {
            poll: Poll::new()?,
            events: Events::with_capacity(4096),
            conns: Vec::new(),
            src,
            dst,
            connect_frame: proto::connect_request(timeout_ms),
        })
    }

    fn open_one(&mut self) -> bool {
        match connect_from(self.src, self.dst) {
            Ok(mut stream) => {
                let token = Token(self.conns.len());
                if self
                    .poll
                    .registry()
                    .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                    .is_err()
                {
                    return false;
                }
                self.conns.push(Conn {
                    stream,
                    state: State::Connecting,
                    rbuf: Vec::with_capacity(64),
                    wbuf: Vec::new(),
                });
                true
            }
            Err(_) => false,
        }
    }

    /// Writes `bytes` now, keeping what the socket would not take for the next writable
    /// event. `false` when the connection is broken.
    fn send(conn: &mut Conn, bytes: &[u8]) -> bool {
        if !conn.wbuf.is_empty() {
            conn.wbuf.extend_from_slice(bytes);
            return Self::flush(conn);
        }
        match conn.stream.write(bytes) {
            Ok(n) if n == bytes.len() => true,
            Ok(n) => {
                conn.wbuf.extend_from_slice(&bytes[n..]);
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.wbuf.extend_from_slice(bytes);
                true
            }
            Err(_) => false,
        }
    }

    fn flush(conn: &mut Conn) -> bool {
        while !conn.wbuf.is_empty() {
            match conn.stream.write(&conn.wbuf) {
                Ok(0) => return false,
                Ok(n) => {
                    conn.wbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
        true
    }

    /// Reads what is available; `false` on EOF or error.
    fn fill(conn: &mut Conn) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match conn.stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => conn.rbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Waits up to `wait` for readiness and returns (connection index, writable,
    /// readable-or-closed) for each event, or `None` if polling failed.
    fn wait_ready(&mut self, wait: Duration) -> Option<Vec<(usize, bool, bool)>> {
        self.poll.poll(&mut self.events, Some(wait)).ok()?;
        Some(
            self.events
                .iter()
                .map(|e| {
                    (
                        e.token().0,
                        e.is_writable(),
                        e.is_readable() || e.is_read_closed(),
                    )
                })
                .collect(),
        )
    }

    fn kill(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if c.state != State::Dead {
            let _ = self.poll.registry().deregister(&mut c.stream);
            c.state = State::Dead;
        }
    }

    /// Establishes `n` sessions with at most `window` handshakes in flight.
    pub fn connect(&mut self, n: usize, window: usize, limit: Duration) -> ConnectReport {
        let start = Instant::now();
        let (mut started, mut ok, mut failed, mut in_flight) = (0usize, 0usize, 0usize, 0usize);
        while ok + failed < n && start.elapsed() < limit {
            while in_flight < window && started < n {
                started += 1;
                if self.open_one() {
                    in_flight += 1;
                } else {
                    failed += 1;
                }
            }
            if in_flight == 0 {
                continue;
            }
            let Some(ready) = self.wait_ready(Duration::from_millis(100)) else {
                continue;
            };
            for (i, writable, readable) in ready {
                let before = self.conns[i].state;
                if !matches!(before, State::Connecting | State::Handshake) {
                    continue;
                }
                let alive = self.step_handshake(i, writable, readable);
                let after = self.conns[i].state;
                if !alive {
                    self.kill(i);
                }
                if after == State::Idle {
                    ok += 1;
                    in_flight -= 1;
                } else if !alive {
                    failed += 1;
                    in_flight -= 1;
                }
            }
        }
        // Whatever is still in flight when time runs out counts as failed.
        failed = n - ok;
        for i in 0..self.conns.len() {
            if matches!(self.conns[i].state, State::Connecting | State::Handshake) {
                self.kill(i);
            }
        }
        ConnectReport {
            ok,
            failed,
            elapsed: start.elapsed(),
        }
    }

    /// Advances connection `i` through TCP connect and the session handshake.
    fn step_handshake(&mut self, i: usize, writable: bool, readable: bool) -> bool {
        let frame = &self.connect_frame;
        let c = &mut self.conns[i];
        if c.state == State::Connecting && writable {
            if matches!(c.stream.take_error(), Ok(Some(_)) | Err(_)) {
                return false;
            }
            match c.stream.peer_addr() {
                Ok(_) => {
                    c.state = State::Handshake;
                    if !Self::send(c, frame) {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return true,
                Err(_) => return false,
            }
        } else if writable && !Self::flush(c) {
            return false;
        }
        if readable && c.state == State::Handshake {
            let alive = Self::fill(c);
            let mut session = None;
            let Some(used) = proto::split_frames(&c.rbuf, |p| {
                if session.is_none() {
                    session = Some(proto::parse_connect_response(p));
                }
            }) else {
                return false;
            };
            c.rbuf.drain(..used);
            match session {
                Some(Some((_, timeout))) if timeout > 0 => c.state = State::Idle,
                Some(_) => return false,
                None => return alive,
            }
        }
        true
    }

    /// Pings on every live session for `dur`: in a closed loop when `interval` is zero
    /// (the next ping leaves as soon as the reply arrives), otherwise each session pings
    /// `interval` after its previous reply (first pings spread over one interval).
    pub fn ping(&mut self, dur: Duration, interval: Duration) -> PingReport {
        let mut hist = hist::new();
        let (mut pings, mut errors) = (0u64, 0u64);
        let start = Instant::now();
        let deadline = start + dur;
        let mut outstanding = 0usize;
        // Sessions waiting to send their next ping, in due order (the interval is fixed).
        let mut due: VecDeque<(Instant, usize)> = VecDeque::new();
        let live: Vec<usize> = (0..self.conns.len())
            .filter(|&i| self.conns[i].state == State::Idle)
            .collect();
        let n = live.len().max(1) as u32;
        for (k, i) in live.into_iter().enumerate() {
            self.conns[i].state = State::Waiting;
            due.push_back((start + interval * k as u32 / n, i));
        }
        let drain_limit = deadline + Duration::from_secs(3);
        loop {
            let now = Instant::now();
            while let Some(&(at, i)) = due.front() {
                if at > now {
                    break;
                }
                due.pop_front();
                let c = &mut self.conns[i];
                if c.state != State::Waiting {
                    continue;
                }
                if now >= deadline {
                    c.state = State::Idle;
                    continue;
                }
                c.state = State::Pinging(now);
                if Self::send(c, &proto::PING) {
                    outstanding += 1;
                } else {
                    errors += 1;
                    self.kill(i);
                }
            }
            if (now >= deadline && outstanding == 0 && due.is_empty()) || now >= drain_limit {
                break;
            }
            let wait = due.front().map_or(Duration::from_millis(50), |&(at, _)| {
                at.saturating_duration_since(now)
                    .min(Duration::from_millis(50))
            });
            let Some(ready) = self.wait_ready(wait) else {
                continue;
            };
            for (i, writable, readable) in ready {
                let c = &mut self.conns[i];
                if c.state == State::Dead {
                    continue;
                }
                let mut alive = !writable || Self::flush(c);
                if alive && readable {
                    alive = Self::fill(c);
                    let mut replies = 0u32;
                    match proto::split_frames(&c.rbuf, |p| {
                        if let Some((proto::PING_XID, _)) = proto::parse_reply_header(p) {
                            replies += 1;
                        }
                    }) {
                        Some(used) => {
                            c.rbuf.drain(..used);
                        }
                        None => alive = false,
                    }
                    if replies > 0 {
                        if let State::Pinging(sent) = c.state {
                            let now = Instant::now();
                            outstanding -= 1;
                            if now <= deadline {
                                pings += 1;
                                hist.saturating_record((now - sent).as_nanos() as u64);
                            }
                            if now >= deadline {
                                c.state = State::Idle;
                            } else if interval.is_zero() {
                                c.state = State::Pinging(now);
                                outstanding += 1;
                                alive = alive && Self::send(c, &proto::PING);
                            } else {
                                c.state = State::Waiting;
                                due.push_back((now + interval, i));
                            }
                        }
                    }
                }
                if !alive {
                    if matches!(self.conns[i].state, State::Pinging(_)) {
                        outstanding -= 1;
                    }
                    errors += 1;
                    self.kill(i);
                }
            }
        }
        for c in &mut self.conns {
            if matches!(c.state, State::Pinging(_) | State::Waiting) {
                c.state = State::Idle;
            }
        }
        PingReport {
            pings,
            errors,
            hist,
        }
    }

    /// Closes every live session with closeSession and waits (bounded) for the replies or
    /// the server's close; returns how many sessions acknowledged and the wall time.
    pub fn close(&mut self, limit: Duration) -> (usize, Duration) {
        let start = Instant::now();
        let mut waiting = 0usize;
        for i in 0..self.conns.len() {
            if self.conns[i].state == State::Idle {
                let c = &mut self.conns[i];
                c.state = State::Closing;
                if Self::send(c, &proto::CLOSE) {
                    waiting += 1;
                } else {
                    self.kill(i);
                }
            }
        }
        let mut acked = 0usize;
        while waiting > 0 && start.elapsed() < limit {
            let Some(ready) = self.wait_ready(Duration::from_millis(100)) else {
                continue;
            };
            for (i, writable, readable) in ready {
                let c = &mut self.conns[i];
                if c.state != State::Closing {
                    continue;
                }
                let mut done = writable && !Self::flush(c);
                if readable {
                    let open = Self::fill(c);
                    let mut got = false;
                    let used = proto::split_frames(&c.rbuf, |p| {
                        got |= matches!(proto::parse_reply_header(p), Some((proto::CLOSE_XID, _)));
                    });
                    if let Some(used) = used {
                        c.rbuf.drain(..used);
                    }
                    if got {
                        acked += 1;
                    }
                    done |= got || !open || used.is_none();
                }
                if done {
                    waiting -= 1;
                    self.kill(i);
                }
            }
        }
        self.conns.clear();
        (acked, start.elapsed())
    }
}
