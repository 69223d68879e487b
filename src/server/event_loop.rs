//! One mio event loop: a `Poll`, the connections it owns, its inbox and waker; loop 0
//! also owns the listening socket and spreads accepted connections over all loops.
//!
//! Owns: accepting (with the per-IP and global connection limits), registering,
//! servicing and tearing down connections, draining the inbox (adopted connections,
//! queued watch events, close orders, expired sessions, shutdown), and closing connections
//! that never complete their handshake.
//!
//! Must never: block anywhere but in `poll`, or let a failing connection end the loop.

use super::conn::{Conn, Status};
use super::shared::{ConnShared, LoopMsg, Shared, CURRENT_LOOP};
use super::stats::Stats;
use crate::sync::Ordering;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The waker's token.
pub(crate) const WAKER: Token = Token(0);
/// The listener's token (loop 0 only).
const LISTENER: Token = Token(1);
/// How long a connection may take to send its ConnectRequest (ZooKeeper's
/// `sessionlessCnxnTimeout`).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often idle handshakes are swept.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// An event loop's state, run on its own thread by [`EventLoop::run`].
pub(crate) struct EventLoop {
    index: usize,
    poll: Poll,
    shared: Arc<Shared>,
    listener: Option<TcpListener>,
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
    ) -> EventLoop {
        EventLoop {
            index,
            poll,
            shared,
            listener,
            conns: HashMap::new(),
            next_token: 2,
            next_loop: 0,
            buf: vec![0; 64 * 1024],
        }
    }

    /// Runs until a `Shutdown` message arrives.
    pub(crate) fn run(mut self) {
        CURRENT_LOOP.with(|c| c.set(self.index));
        if let Some(l) = self.listener.as_mut() {
            if let Err(e) = self
                .poll
                .registry()
                .register(l, LISTENER, Interest::READABLE)
            {
                tracing::error!(error = %e, "cannot register the listener");
                return;
            }
        }
        let mut events = Events::with_capacity(1024);
        let mut last_sweep = Instant::now();
        loop {
            match self.poll.poll(&mut events, Some(SWEEP_EVERY)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::error!(error = %e, "poll failed; loop stops");
                    break;
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    LISTENER => self.accept(),
                    t => self.service(t),
                }
            }
            if !self.drain_inbox() {
                break;
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

    fn accept(&mut self) {
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => self.admit(stream, peer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors and the like: keep serving the others.
                    tracing::warn!(error = %e, "accept failed");
                    return;
                }
            }
        }
    }

    /// Applies the connection limits and hands the connection to a loop.
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr) {
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
            self.adopt(stream, peer, id);
        } else {
            self.shared.loops[target].send(LoopMsg::Accept(stream, peer, id));
        }
    }

    fn adopt(&mut self, mut stream: TcpStream, peer: SocketAddr, id: u64) {
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
        let cs = Arc::new(ConnShared::new(id, self.index, token, peer));
        self.shared.conns.lock().insert(id, cs.clone());
        tracing::debug!(peer = %peer, conn = id, loop_index = self.index, "connection accepted");
        self.conns
            .insert(token, Conn::new(stream, cs, self.shared.config.max_buffer));
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
                    LoopMsg::Accept(stream, peer, id) => self.adopt(stream, peer, id),
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
