//! What the event loops share: the engine, the namespace, the connection and session
//! registries, the loops' inboxes, and the routing of watch events and expiries.
//!
//! Owns: [`Shared`], [`ConnShared`] (the part of a connection other threads may touch:
//! its queue of frames written by other loops, its figures), [`LoopMsg`],
//! [`LoopHandle`] and [`Loops`].
//!
//! Invariants:
//! - lock order is `ns` → `conns`/`sessions` → a connection's `pending`, `info` or `auth` →
//!   `per_ip` or a loop's inbox; nothing takes `ns` while holding another of these locks
//!   (the full list is in the server's module doc, "Threads and locks");
//! - watch events are queued on the watcher's connection *while the namespace lock is
//!   held*, and a loop moves a connection's queued events into its output before writing
//!   any reply, so a client sees an event before any reply showing the change;
//! - a session's ephemerals are deleted under the namespace lock after the engine marked it
//!   closing, and every write re-checks its session under that lock, so no ephemeral
//!   outlives its session.
//!
//! Must never: do socket I/O (only loops do), or block while holding the namespace lock.

use super::access::Caller;
use super::config::ServerConfig;
use super::durable::{Durable, TxnBuilder};
use super::stats::Stats;
use crate::engine::SessionKind;
use crate::engine::{Engine, Expired};
use crate::namespace::Access;
use crate::namespace::{Namespace, Notification};
use crate::persist::{LogEntry, Txn, TxnDigest, TxnHeader, DIGEST_VERSION};
use crate::security::AuthInfo;
use crate::sync::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Mutex, Ordering};
use crate::wire::perms;
use crate::wire::write_notification;
use mio::net::TcpStream;
use mio::{Token, Waker};
use std::cell::Cell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

thread_local! {
    /// The index of the event loop running on this thread, `usize::MAX` elsewhere.
    pub(crate) static CURRENT_LOOP: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// A message to an event loop.
#[derive(Debug)]
pub(crate) enum LoopMsg {
    /// Adopt an accepted connection (with its id, and whether it came in on the secure
    /// port).
    Accept(TcpStream, SocketAddr, u64, bool),
    /// A connection has frames queued by another thread.
    Flush(Token),
    /// Close a connection once its output is flushed.
    Close(Token),
    /// Sessions the engine expired: delete their ephemerals, close their connections and
    /// remove them from the engine.
    Expired(Vec<Expired>),
    /// The log is durable further: write output that waited for it.
    Durable,
    /// Stop the loop.
    Shutdown,
}

/// Every loop's inbox, by loop index; shared by the loops, the engine's expirer and
/// [`Stopper`](super::Stopper)s.
pub(crate) type Loops = Arc<[LoopHandle]>;

/// A loop's inbox and the waker that interrupts its poll.
pub(crate) struct LoopHandle {
    pub(crate) inbox: Mutex<Vec<LoopMsg>>,
    pub(crate) waker: Waker,
    pub(crate) index: usize,
}

impl LoopHandle {
    /// Queues a message; wakes the loop unless it is the caller's own loop (which drains
    /// its inbox at the end of every iteration) or a wake is already pending.
    pub(crate) fn send(&self, msg: LoopMsg) {
        let was_empty = {
            let mut q = self.inbox.lock();
            let was_empty = q.is_empty();
            q.push(msg);
            was_empty
        };
        if was_empty && CURRENT_LOOP.with(|c| c.get()) != self.index {
            if let Err(e) = self.waker.wake() {
                tracing::error!(loop_index = self.index, error = %e, "waking event loop failed");
            }
        }
    }
}

/// Figures of a connection, for `cons` and `stat`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnInfo {
    pub(crate) last_op: &'static str,
    pub(crate) last_cxid: i32,
    pub(crate) last_zxid: i64,
    pub(crate) last_response_ms: u64,
    pub(crate) last_latency_us: u64,
    pub(crate) min_latency_us: u64,
    pub(crate) max_latency_us: u64,
    pub(crate) latency_sum_us: u64,
    pub(crate) requests: u64,
}

/// The part of a connection other threads may reach.
pub(crate) struct ConnShared {
    /// Unique id; also the connection's watcher id in the namespace.
    pub(crate) id: u64,
    pub(crate) loop_index: usize,
    pub(crate) token: Token,
    pub(crate) peer: SocketAddr,
    /// Wall-clock ms when accepted.
    pub(crate) established_ms: u64,
    /// The attached session, 0 before the handshake.
    pub(crate) session: AtomicU64,
    /// The negotiated timeout.
    pub(crate) timeout_ms: AtomicU32,
    pub(crate) received: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) info: Mutex<ConnInfo>,
    /// Frames (watch events) queued by any thread, moved into the output by the loop.
    pending: Mutex<Vec<u8>>,
    flush_scheduled: AtomicBool,
    /// Set once the queued events outgrew [`MAX_PENDING_FRAMES`]: the connection is closed.
    overflowed: AtomicBool,
    /// The identities the connection proved (replaced whole by `addauth`, on its loop).
    auth: Mutex<Arc<AuthInfo>>,
}

/// Queued watch events a connection may hold, in multiples of `jute.maxbuffer`, before it
/// is closed as too slow (its client re-arms its watches on reconnect).
const MAX_PENDING_FRAMES: usize = 16;

impl ConnShared {
    pub(crate) fn new(id: u64, loop_index: usize, token: Token, peer: SocketAddr) -> ConnShared {
        ConnShared {
            id,
            loop_index,
            token,
            peer,
            established_ms: wall_ms(),
            session: AtomicU64::new(0),
            timeout_ms: AtomicU32::new(0),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            info: Mutex::new(ConnInfo {
                last_op: "NA",
                min_latency_us: u64::MAX,
                ..ConnInfo::default()
            }),
            pending: Mutex::new(Vec::new()),
            flush_scheduled: AtomicBool::new(false),
            overflowed: AtomicBool::new(false),
            auth: Mutex::new(Arc::new(AuthInfo::for_peer(peer.ip()))),
        }
    }

    /// Queues bytes for the loop to write (a four-letter word's answer); the caller then
    /// sends the loop a `Flush` or `Close` for this connection.
    pub(crate) fn push_output(&self, bytes: &[u8]) {
        self.pending.lock().extend_from_slice(bytes);
    }

    /// `crst`: zeroes this connection's packet counts and latency figures.
    pub(crate) fn reset_figures(&self) {
        self.received.store(0, Ordering::Relaxed);
        self.sent.store(0, Ordering::Relaxed);
        *self.info.lock() = ConnInfo {
            last_op: "NA",
            min_latency_us: u64::MAX,
            ..ConnInfo::default()
        };
    }

    /// The connection's identities now.
    pub(crate) fn auth(&self) -> Arc<AuthInfo> {
        self.auth.lock().clone()
    }

    /// Replaces the connection's identities (after an `addauth`).
    pub(crate) fn set_auth(&self, auth: AuthInfo) {
        *self.auth.lock() = Arc::new(auth);
    }

    /// Moves the frames queued by other threads onto the end of `out`.
    pub(crate) fn take_pending(&self, out: &mut Vec<u8>) {
        self.flush_scheduled.store(false, Ordering::Release);
        let mut p = self.pending.lock();
        if !p.is_empty() {
            out.append(&mut p);
        }
    }
}

/// Wall-clock milliseconds since the epoch (for Stat times and figures).
pub(crate) fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Everything the loops share.
pub(crate) struct Shared {
    /// Four-letter words waiting for the four-letter-word thread.
    pub(crate) answers: super::answers::Answers,
    pub(crate) config: ServerConfig,
    /// The secure client port's TLS configuration, when it is served.
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) engine: Engine,
    pub(crate) ns: Arc<Mutex<Namespace>>,
    pub(crate) loops: Loops,
    /// Every open connection by id (= watcher id).
    pub(crate) conns: Mutex<HashMap<u64, Arc<ConnShared>>>,
    /// The connection each attached session is on.
    pub(crate) sessions: Mutex<HashMap<u64, Arc<ConnShared>>>,
    /// Open connections per client IP.
    pub(crate) per_ip: Mutex<HashMap<IpAddr, u32>>,
    pub(crate) stats: Stats,
    /// The persist thread's handle, with a data directory.
    pub(crate) durable: Option<Arc<Durable>>,
    /// The namespace's last zxid, published after every write (replies carry it).
    pub(crate) last_zxid: AtomicI64,
    pub(crate) next_conn_id: AtomicU64,
    pub(crate) started: Instant,
    /// The bytes of every connection's buffers, counted in the memory budget.
    pub(crate) buffers: Arc<crate::namespace::BufferGauge>,
}

impl Shared {
    /// Queues watch events on their connections. Call with the namespace lock held.
    /// A watcher whose connection lacks READ on the node (as it is after the change) gets
    /// no event for it.
    pub(crate) fn route(&self, ns: &Namespace, notes: &[Notification]) {
        if notes.is_empty() {
            return;
        }
        let conns = self.conns.lock();
        for n in notes {
            let Some(c) = conns.get(&n.watcher) else {
                continue;
            };
            if let Some(acl) = ns.acl_of(&n.event.path) {
                let auth = c.auth();
                let who = Caller {
                    auth: &auth,
                    policy: &self.config.acl_policy,
                };
                if who.check(acl, perms::READ).is_err() {
                    continue;
                }
            }
            let queued = {
                let mut p = c.pending.lock();
                write_notification(&mut p, n.zxid, &n.event);
                p.len()
            };
            Stats::bump(&self.stats.watch_events);
            if queued > MAX_PENDING_FRAMES * self.config.max_buffer
                && !c.overflowed.swap(true, Ordering::AcqRel)
            {
                tracing::warn!(peer = %c.peer, queued, "watch events not read; closing");
                Stats::bump(&self.stats.connections_dropped);
                self.loops[c.loop_index].send(LoopMsg::Close(c.token));
            }
            if !c.flush_scheduled.swap(true, Ordering::AcqRel) {
                self.loops[c.loop_index].send(LoopMsg::Flush(c.token));
            }
        }
    }

    /// Deletes a session's ephemerals (firing their watches). Returns how many.
    pub(crate) fn kill_ephemerals(&self, session: u64) -> usize {
        let mut ns = self.ns.lock();
        let before = ns.last_zxid();
        let applied = ns.kill_session(session);
        self.log_txn(&ns, before, session, 0, wall_ms() as i64, |_| {
            TxnBuilder::close_session(applied.value.clone())
        });
        self.route(&ns, &applied.notifications);
        self.last_zxid.store(ns.last_zxid(), Ordering::Release);
        applied.value.len()
    }

    /// Appends the txn of a write that took a zxid (nothing without a data directory or
    /// when `ns` is still at `before`), and hands over a snapshot when one is due. Call
    /// under the namespace lock, after the write and before routing its events.
    pub(crate) fn log_txn(
        &self,
        ns: &Namespace,
        before: i64,
        client_id: u64,
        cxid: i32,
        time: i64,
        txn: impl FnOnce(&Namespace) -> Txn,
    ) {
        let Some(d) = &self.durable else {
            return;
        };
        let zxid = ns.last_zxid();
        if zxid == before {
            return;
        }
        let txn = txn(ns);
        let header = TxnHeader {
            client_id: client_id as i64,
            cxid,
            zxid,
            time,
            txn_type: txn.op_code(),
        };
        // ZooKeeper 3.8 logs the tree digest after every txn but a failed write's.
        let digest =
            (self.config.digest_enabled() && !matches!(txn, Txn::Error { .. })).then(|| {
                TxnDigest {
                    version: DIGEST_VERSION,
                    tree_digest: ns.digest(),
                }
            });
        let due = d.append(LogEntry {
            header,
            txn,
            digest,
        });
        if due {
            let sessions: Vec<(i64, i32)> = self
                .engine
                .snapshot()
                .into_iter()
                .filter(|s| s.kind == SessionKind::Global)
                .map(|s| (s.id as i64, s.timeout_ms as i32))
                .collect();
            d.snapshot(sessions, zxid);
        }
    }

    /// Closes the connection a session is attached to, if any.
    pub(crate) fn close_session_connection(&self, session: u64) {
        let conn = self.sessions.lock().remove(&session);
        if let Some(c) = conn {
            self.loops[c.loop_index].send(LoopMsg::Close(c.token));
        }
    }

    /// Handles sessions the engine expired: ephemerals, connection, then forget.
    pub(crate) fn expire(&self, batch: &[Expired]) {
        for e in batch {
            let n = self.kill_ephemerals(e.id);
            self.close_session_connection(e.id);
            self.engine.remove(e.id);
            Stats::bump(&self.stats.sessions_expired);
            tracing::info!(
                session = format_args!("0x{:x}", e.id),
                timeout_ms = e.timeout_ms,
                ephemerals = n,
                "session expired"
            );
        }
    }

    /// Registers a session as attached to `conn`; returns the connection it was attached
    /// to before, if another.
    pub(crate) fn attach(&self, session: u64, conn: &Arc<ConnShared>) -> Option<Arc<ConnShared>> {
        let old = self.sessions.lock().insert(session, conn.clone());
        old.filter(|o| o.id != conn.id)
    }

    /// Forgets `conn` as the session's connection (only if it still is).
    pub(crate) fn detach(&self, session: u64, conn_id: u64) {
        let mut s = self.sessions.lock();
        if s.get(&session).is_some_and(|c| c.id == conn_id) {
            s.remove(&session);
        }
    }
}
