//! One mio event loop: a `Poll`, the connections it owns, its inbox and waker; loop 0
//! also owns the listening sockets (the client port and, with TLS, the secure client
//! port) and spreads accepted connections over all loops; a connection from the secure
//! port gets a TLS transport on the loop that adopts it.
//!
//! Owns: accepting (with the per-IP and global connection limits), registering,
//! servicing and tearing down connections, draining the inbox (adopted connections,
//! queued watch events, close orders, expired sessions, log progress releasing held
//! output, shutdown), and closing connections
//! that never complete their handshake.
//!
//! # Descriptor exhaustion
//!
//! The listener is edge-triggered: once `accept` fails for want of descriptors (EMFILE,
//! ENFILE, ENOBUFS...) the queued connections raise no new edge, and a full listen queue
//! drops new SYNs, so waiting for readiness would wait forever. Loop 0 therefore:
//! - holds one **reserve descriptor** (`/dev/null`); on such a failure it releases it,
//!   accepts the excess connection and closes it at once (the client sees a clean close,
//!   not a hang), re-opens the reserve and repeats until the queue is empty;
//! - marks accepting as **starved** and retries `accept` every [`ACCEPT_RETRY`] (the poll
//!   timeout shrinks to it) and whenever one of its connections closes, until an accept
//!   succeeds or the queue is empty, so new sessions are accepted as soon as descriptors
//!   are free again.
//!
//! Must never: block anywhere but in `poll`, or let a failing connection end the loop.

use super::conn::{Conn, Status};
use super::shared::{ConnShared, LoopMsg, Shared, CURRENT_LOOP};
use super::stats::Stats;
use crate::security::TlsConn;
use crate::sync::Ordering;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

thread_local! {
    /// The engine time (`Engine::now_ms`) this loop read when `poll` last returned: the one
    /// clock reading per wake-up that every touch of the wake-up uses (see
    /// [`wake_up_now_ms`]).
    static WAKE_UP_NOW_MS: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// The engine time read when this event loop last woke up, for the touches of the requests
/// it reads in that wake-up (`None` off an event loop's thread). A request read in a
/// wake-up arrived before its `poll` returned or while the loop serviced it, so a
/// session touched with this reading is due no earlier than its timeout after the wake-up,
/// which is at most the wake-up's servicing time before the read.
pub(crate) fn wake_up_now_ms() -> Option<u64> {
    WAKE_UP_NOW_MS.with(|c| c.get())
}

/// The waker's token.
pub(crate) const WAKER: Token = Token(0);
/// The listener's token (loop 0 only).
const LISTENER: Token = Token(1);
/// The secure listener's token (loop 0 only).
const SECURE_LISTENER: Token = Token(2);
/// How long a connection may take to send its ConnectRequest (ZooKeeper's
/// `sessionlessCnxnTimeout`).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often idle handshakes are swept.
const SWEEP_EVERY: Duration = Duration::from_millis(500);
/// How often a listener starved of descriptors retries `accept`.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);
/// How often running out of descriptors is logged.
const STARVED_WARN_EVERY: Duration = Duration::from_secs(10);

/// An event loop's state, run on its own thread by [`EventLoop::run`].
pub(crate) struct EventLoop {
    index: usize,
    poll: Poll,
    shared: Arc<Shared>,
    listener: Option<TcpListener>,
    /// The secure client port's listening socket (loop 0 only, with TLS).
    secure_listener: Option<TcpListener>,
    /// A descriptor held back for shedding connections when the process has no other
    /// (loop 0 only; `None` while released or when it could not be opened).
    reserve: Option<std::fs::File>,
    /// Set when `accept` last failed for want of resources: retry on a timer.
    accept_starved: bool,
    /// When running out of descriptors was last logged (at most every
    /// [`STARVED_WARN_EVERY`]: a flood must not flood the log too).
    starved_warned: Option<Instant>,
    conns: HashMap<Token, Conn>,
    next_token: usize,
    next_loop: usize,
    buf: Vec<u8>,
}

impl EventLoop {
    pub(crate) fn new(
        index: usize,
        poll: Poll,
        shared: Arc<Shared>,
        listener: Option<TcpListener>,
        secure_listener: Option<TcpListener>,
    ) -> EventLoop {
        let reserve = (listener.is_some() || secure_listener.is_some())
            .then(open_reserve)
            .flatten();
        EventLoop {
            index,
            poll,
            shared,
            listener,
            secure_listener,
            reserve,
            accept_starved: false,
            starved_warned: None,
            conns: HashMap::new(),
            next_token: 3,
            next_loop: 0,
            buf: vec![0; 64 * 1024],
        }
    }

    /// Runs until a `Shutdown` message arrives.
    pub(crate) fn run(mut self) {
        CURRENT_LOOP.with(|c| c.set(self.index));
        for (l, token) in [
            (self.listener.as_mut(), LISTENER),
            (self.secure_listener.as_mut(), SECURE_LISTENER),
        ] {
            let Some(l) = l else { continue };
            if let Err(e) = self.poll.registry().register(l, token, Interest::READABLE) {
                tracing::error!(error = %e, "cannot register the listener");
                return;
            }
        }
        let mut events = Events::with_capacity(1024);
        let mut last_sweep = Instant::now();
        loop {
            let timeout = if self.accept_starved {
                ACCEPT_RETRY
            } else {
                SWEEP_EVERY
            };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::error!(error = %e, "poll failed; loop stops");
                    break;
                }
            }
            let now = self.shared.engine.now_ms();
            WAKE_UP_NOW_MS.with(|c| c.set(Some(now)));
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    LISTENER => self.accept(false),
                    SECURE_LISTENER => self.accept(true),
                    t => self.service(t),
                }
            }
            if !self.drain_inbox() {
                break;
            }
            if self.accept_starved {
                self.accept_all();
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = Instant::now();
                self.sweep();
            }
        }
        let tokens: Vec<Token> = self.conns.keys().copied().collect();
        for t in tokens {
            self.teardown(t);
        }
    }

    /// Retries accepting on both ports (after running out of descriptors).
    fn accept_all(&mut self) {
        self.accept(false);
        if !self.accept_starved {
            self.accept(true);
        }
    }

    fn listener(&self, secure: bool) -> Option<&TcpListener> {
        if secure {
            self.secure_listener.as_ref()
        } else {
            self.listener.as_ref()
        }
    }

    /// Accepts every queued connection of the client port (`secure`: the secure one).
    /// When descriptors run out, sheds the queue through the reserve descriptor and leaves
    /// accepting marked starved, to be retried.
    fn accept(&mut self, secure: bool) {
        loop {
            let Some(listener) = self.listener(secure) else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    self.accept_starved = false;
                    self.admit(stream, peer, secure);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.accept_starved = false;
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The peer gave up while queued: nothing to do for it.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => {
                    // Out of descriptors or kernel memory: keep serving the others.
                    let due = match self.starved_warned {
                        None => true,
                        Some(at) => at.elapsed() >= STARVED_WARN_EVERY,
                    };
                    if due {
                        self.starved_warned = Some(Instant::now());
                        tracing::warn!(error = %e, "accept failed; shedding queued connections");
                    }
                    self.accept_starved = true;
                    self.shed_queue(secure);
                    return;
                }
            }
        }
    }

    /// Releases the reserve descriptor to accept and close queued connections one by one,
    /// so their clients see a close instead of waiting in a queue nobody drains.
    fn shed_queue(&mut self, secure: bool) {
        let Some(listener) = (if secure {
            self.secure_listener.as_ref()
        } else {
            self.listener.as_ref()
        }) else {
            return;
        };
        if self.reserve.is_none() {
            self.reserve = open_reserve();
        }
        while self.reserve.take().is_some() {
            // The reserve is closed: its descriptor is the one accept gets.
            // The connection is closed before the reserve is re-opened, which needs its
            // descriptor.
            let shed = listener.accept().map(|(stream, peer)| {
                drop(stream);
                tracing::debug!(peer = %peer, "no descriptor for this connection; closed");
                Stats::bump(&self.shared.stats.connections_rejected);
            });
            self.reserve = open_reserve();
            match shed {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // The queue is empty: new connections raise a new edge.
                    self.accept_starved = false;
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                // Still nothing to accept with: the retry timer takes over.
                Err(_) => return,
            }
        }
    }

    /// Applies the connection limits and hands the connection to a loop.
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr, secure: bool) {
        let cfg = &self.shared.config;
        let alive = Stats::get(&self.shared.stats.alive_connections);
        if cfg.max_cnxns != 0 && alive >= cfg.max_cnxns as u64 {
            tracing::warn!(peer = %peer, limit = cfg.max_cnxns, "too many connections; refused");
            Stats::bump(&self.shared.stats.connections_rejected);
            return;
        }
        {
            let mut per_ip = self.shared.per_ip.lock();
            let n = per_ip.entry(peer.ip()).or_insert(0);
            if cfg.max_client_cnxns != 0 && *n >= cfg.max_client_cnxns {
                tracing::warn!(peer = %peer, limit = cfg.max_client_cnxns,
                    "too many connections from this address; refused");
                Stats::bump(&self.shared.stats.connections_rejected);
                return;
            }
            *n += 1;
        }
        self.shared
            .stats
            .alive_connections
            .fetch_add(1, Ordering::Relaxed);
        let id = self.shared.next_conn_id.fetch_add(1, Ordering::Relaxed);
        let target = self.next_loop % self.shared.loops.len();
        self.next_loop = self.next_loop.wrapping_add(1);
        if target == self.index {
            self.adopt(stream, peer, id, secure);
        } else {
            self.shared.loops[target].send(LoopMsg::Accept(stream, peer, id, secure));
        }
    }

    fn adopt(&mut self, mut stream: TcpStream, peer: SocketAddr, id: u64, secure: bool) {
        let token = Token(self.next_token);
        self.next_token += 1;
        let _ = stream.set_nodelay(true);
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            tracing::warn!(peer = %peer, error = %e, "cannot register connection");
            self.forget(&ConnShared::new(id, self.index, token, peer));
            return;
        }
        // A secure listener exists only with a TLS configuration.
        let config = self.shared.tls.as_ref().filter(|_| secure);
        let tls = match config.map(|c| TlsConn::new(c.clone())) {
            None => None,
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                tracing::warn!(peer = %peer, error = %e, "cannot start TLS; closed");
                let _ = self.poll.registry().deregister(&mut stream);
                self.forget(&ConnShared::new(id, self.index, token, peer));
                return;
            }
        };
        let cs = Arc::new(ConnShared::new(id, self.index, token, peer));
        self.shared.conns.lock().insert(id, cs.clone());
        tracing::debug!(peer = %peer, conn = id, loop_index = self.index, "connection accepted");
        self.conns.insert(
            token,
            Conn::new(stream, cs, self.shared.config.max_buffer, tls)
                .with_durable(self.shared.durable.clone()),
        );
        self.service(token);
    }

    fn service(&mut self, token: Token) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if conn.service(&self.shared, &mut self.buf) == Status::Closed {
            self.teardown(token);
        }
    }

    /// Handles queued messages until the inbox is empty (messages this loop sends itself
    /// while handling them included, as those do not wake it); false when the loop must
    /// stop.
    fn drain_inbox(&mut self) -> bool {
        loop {
            let msgs = std::mem::take(&mut *self.shared.loops[self.index].inbox.lock());
            if msgs.is_empty() {
                return true;
            }
            let mut running = true;
            for m in msgs {
                match m {
                    LoopMsg::Accept(stream, peer, id, secure) => {
                        self.adopt(stream, peer, id, secure)
                    }
                    LoopMsg::Flush(t) => {
                        if let Some(c) = self.conns.get_mut(&t) {
                            if c.flush_events() == Status::Closed {
                                self.teardown(t);
                            } else {
                                // Writing may have lifted back-pressure on held frames.
                                self.service(t);
                            }
                        }
                    }
                    LoopMsg::Close(t) => {
                        if let Some(c) = self.conns.get_mut(&t) {
                            if c.close_after_flush() == Status::Closed {
                                self.teardown(t);
                            }
                        }
                    }
                    LoopMsg::Expired(batch) => self.shared.expire(&batch),
                    LoopMsg::Durable => {
                        let held: Vec<Token> = self
                            .conns
                            .iter()
                            .filter(|(_, c)| c.has_held_output())
                            .map(|(t, _)| *t)
                            .collect();
                        for t in held {
                            self.service(t);
                        }
                    }
                    LoopMsg::Shutdown => running = false,
                }
            }
            if !running {
                return false;
            }
        }
    }

    /// Closes connections that never sent their ConnectRequest in time.
    fn sweep(&mut self) {
        let stale: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| c.awaiting_handshake() && c.accepted.elapsed() > HANDSHAKE_TIMEOUT)
            .map(|(t, _)| *t)
            .collect();
        for t in stale {
            Stats::bump(&self.shared.stats.sessionless_expired);
            self.teardown(t);
        }
    }

    /// Removes a connection everywhere; its session, if any, lives on.
    fn teardown(&mut self, token: Token) {
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        let _ = self.poll.registry().deregister(conn.stream_mut());
        let session = conn.shared.session.load(Ordering::Acquire);
        if session != 0 {
            self.shared.detach(session, conn.shared.id);
        }
        self.forget(&conn.shared);
        self.shared.ns.lock().remove_watcher(conn.shared.id);
        tracing::debug!(peer = %conn.shared.peer, conn = conn.shared.id, "connection closed");
        drop(conn);
        if self.accept_starved {
            // A descriptor was just freed: use it for a queued connection.
            self.accept_all();
        }
    }

    /// Releases a connection's slot in the registries and the limits.
    fn forget(&self, cs: &ConnShared) {
        self.shared.conns.lock().remove(&cs.id);
        let mut per_ip = self.shared.per_ip.lock();
        if let Some(n) = per_ip.get_mut(&cs.peer.ip()) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&cs.peer.ip());
            }
        }
        drop(per_ip);
        self.shared
            .stats
            .alive_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Opens the reserve descriptor (`None` if even that fails; accepting then relies on its
/// retry timer alone).
fn open_reserve() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}
