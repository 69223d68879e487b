//! `zksessiond`: a standalone ZooKeeper-compatible server for unmodified clients, built on
//! the session engine ([`crate::engine`]) and the namespace ([`crate::namespace`]).
//!
//! Owns: the event loops (one mio `Poll` per core, connections spread over them, a `Waker`
//! per loop for cross-loop messages), connections and their handshake, request execution,
//! expiry handling (the engine's [`Expirer`](crate::engine::Expirer) hands expired ids to
//! the server, which deletes their ephemerals, closes their connection and forgets them),
//! four-letter words, limits, TLS client connections on `secureClientPort` (see
//! `conn`), and the `zoo.cfg` reader ([`ServerConfig`]).
//!
//! # Durability
//!
//! Without `dataDir` all state lives in memory: a restart starts with an empty tree and
//! no sessions. With it ([`durable`]), every txn (create, delete, setData, setACL, multi,
//! createSession, closeSession and expiry, failed writes as ZooKeeper's error txns) goes
//! to `<dataLogDir>/version-2/log.<zxid>` in ZooKeeper 3.8's format; the persist thread
//! writes each batch with one fsync (group commit), and the event loops hold every reply
//! and watch event produced after a txn until that txn is durable. Snapshots
//! (`<dataDir>/version-2/snapshot.<zxid>`) are a consistent copy taken under the
//! namespace lock every `snapCount`-ish txns and written by a background thread; the log
//! rolls at each. On start the newest valid snapshot and the logs after it are loaded
//! (a torn log tail is cut back, a damaged snapshot skipped for an older one) and the
//! sessions come back with fresh deadlines. Session passwords are keyed by a secret kept
//! in `<dataDir>/zksessiond.secret`, so a client reconnecting after a restart keeps its
//! session. If a log write or fsync fails, nothing more is acknowledged and the server
//! stops (ZooKeeper exits): held replies are never sent, clients see the connection drop.
//!
//! Must never: let one connection's input affect another's, block an event loop, or reply
//! to a request of a dead session (such requests are dropped, as ZooKeeper does).
//!
//! # Threads and locks
//!
//! Threads:
//! - **event loops** `zksessiond-loop-{i}` (`event_loops` of them, one per core by
//!   default): each owns a mio `Poll`, the connections adopted on it and their sockets;
//!   loop 0 also owns the listening sockets (the client port and, with TLS, the secure
//!   client port) and deals accepted connections out to every loop; TLS is done on the
//!   loop that owns the connection (handshake included, never blocking). Each holds an
//!   `Arc` of the shared state. They are the only threads doing socket I/O and the only
//!   ones cleaning up after expired sessions.
//! - **the four-letter-word thread** `zksessiond-4lw` (module `answers`): loops hand it
//!   each four-letter word; it computes the answer, queues it on the connection and asks
//!   the connection's loop to write it and close. It holds an `Arc` of the shared state
//!   until its queue is closed, after the loops have stopped.
//! - **the metrics thread** `zksessiond-metrics` (module `metrics`, feature `metrics`),
//!   when `metricsProvider.className` asks for Prometheus: answers `GET /metrics` with
//!   the `mntr` figures; stopped and joined with the loops.
//! - **the reaper** `zksessiond-reaper` (module `reaper`): every
//!   `znode.container.checkIntervalMs` deletes empty containers and expired TTL nodes
//!   through the write path, paced to `znode.container.maxPerMinute`; stopped and joined
//!   with the loops.
//! - **the AdminServer thread** `zksessiond-admin` (module `admin`, feature `admin`),
//!   when `admin.enableServer` (on by default in a `zoo.cfg`, as ZooKeeper): answers
//!   ZooKeeper's `/commands/<name>` as JSON from the same figures as the four-letter
//!   words; stopped and joined with the loops. A port it cannot bind is logged and the
//!   server runs without it.
//! - **the engine's expiry workers** (owned by the [`Engine`], one per core): they decide
//!   expiries and hand each batch to the server's expirer, which only queues it as a
//!   message on one event loop's inbox (round robin) and wakes that loop. The expirer
//!   holds the loops' inboxes and wakers, never the shared state, so nothing the engine
//!   owns points back at its owner.
//!
//! [`Server`] owns the loop threads: [`Server::stop`] (or a [`Stopper`]) queues a stop
//! message on every loop; [`Server::join`] waits for them and then drops the shared state,
//! whose engine stops and joins its expiry workers on that same thread. Dropping a
//! `Server` does both, so no thread outlives it.
//!
//! Locks (all `parking_lot` mutexes, through `crate::sync`; none is held across socket
//! I/O or across a call into another loop), in the order they may nest:
//! 1. `Shared::ns`, the namespace;
//! 2. `Shared::conns` (connections by id) or `Shared::sessions` (session → connection);
//! 3. a connection's `pending` queue of watch events, its `info` figures, or its `auth`
//!    identities;
//! 4. `Shared::per_ip`, and a loop's inbox, both leaves (nothing is locked under them).
//!
//! The engine's own shard locks are leaves as seen from here: the server calls the engine
//! with `ns` held, and the engine never calls back while holding one (the expirer only
//! queues a message).
//!
//! # Example
//! ```no_run
//! use zksession::server::{Server, ServerConfig};
//!
//! let mut config = ServerConfig::default();
//! config.client_addr = "127.0.0.1:0".parse().unwrap();
//! let server = Server::start(config).unwrap();
//! println!("listening on {}", server.local_addr());
//! drop(server); // stops the event loops and the engine, and joins their threads
//! ```

mod access;
#[cfg(feature = "admin")]
mod admin;
#[cfg(feature = "admin")]
mod admin_json;
mod answers;
mod config;
mod conn;
mod durable;
mod event_loop;
mod figures;
mod fourlw;
mod handshake;
#[cfg(any(feature = "metrics", feature = "admin"))]
mod http;
mod memory;
#[cfg(feature = "metrics")]
mod metrics;
mod mntr_names;
mod reaper;
mod requests;
mod shared;
mod stats;
#[cfg(test)]
mod test_client;

pub use config::{
    ConfigError, FourLetterWords, Hidden, ServerConfig, UnknownKey, ALL_FOUR_LETTER_WORDS,
    DEFAULT_ADMIN_COMMAND_URL, DEFAULT_ADMIN_PORT, DIGEST_ENABLED_KEY, ENFORCE_QUOTA_KEY, JAAS_KEY,
    MEMORY_BUDGET_KEY, PROMETHEUS_PROVIDER,
};
pub use durable::{RecoverError, WriteFaults};
pub use fourlw::{version_line, PROTOCOL_VERSION, VERSION};
pub use memory::prepare_allocator;

use crate::engine::{self, Engine, Expired};
use crate::namespace::Namespace;
use crate::sync::{thread, AtomicI64, AtomicU64, AtomicUsize, Mutex, Ordering};
use event_loop::{EventLoop, WAKER};
use mio::net::TcpListener;
use mio::{Poll, Waker};
use shared::{LoopHandle, LoopMsg, Loops, Shared};
use stats::Stats;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The session settings were refused.
    Engine(engine::ConfigError),
    /// The client port could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A poll, waker or thread could not be created.
    Io(std::io::Error),
    /// The data directory could not be loaded.
    Recover(RecoverError),
    /// The secure client port's TLS configuration could not be built (missing or bad
    /// key or trust store, ...).
    Tls(crate::security::TlsConfigError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Engine(e) => write!(f, "session settings refused: {e}"),
            StartError::Bind { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            StartError::Io(e) => write!(f, "cannot start event loops: {e}"),
            StartError::Recover(e) => write!(f, "cannot load the data directory: {e}"),
            StartError::Tls(e) => write!(f, "secure client port: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running server: its event loops, and through them the engine and the namespace.
///
/// Dropping it stops the event loops and joins them, then stops the engine's expiry
/// workers; [`Server::join`] waits for a stop asked elsewhere (a [`Stopper`]).
pub struct Server {
    shared: Arc<Shared>,
    loops: Loops,
    threads: Vec<thread::JoinHandle<()>>,
    /// The four-letter-word thread, joined after the loops.
    answerer: Option<thread::JoinHandle<()>>,
    /// The container and TTL reaper, stopped after the loops.
    reaper: Option<reaper::Reaper>,
    /// The Prometheus endpoint, when configured.
    #[cfg(feature = "metrics")]
    metrics: Option<metrics::MetricsServer>,
    /// The AdminServer, when configured and bound.
    #[cfg(feature = "admin")]
    admin: Option<admin::AdminServer>,
    local_addr: SocketAddr,
    secure_addr: Option<SocketAddr>,
    /// Dropped after the loops are joined, so every txn they queued is written.
    persister: Option<durable::Persister>,
}

/// Asks a running server to stop, from any thread (a signal handler thread, say). It holds
/// only the loops' inboxes: keeping one does not keep the server alive, and stopping a
/// server that is gone does nothing.
#[derive(Clone)]
pub struct Stopper {
    loops: Loops,
}

impl Stopper {
    /// Tells every event loop to stop; [`Server::join`] then returns.
    pub fn stop(&self) {
        for l in self.loops.iter() {
            l.send(LoopMsg::Shutdown);
        }
    }
}

impl std::fmt::Debug for Stopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stopper")
            .field("loops", &self.loops.len())
            .finish()
    }
}

impl Server {
    /// Binds the client port and starts the engine and the event loops.
    pub fn start(config: ServerConfig) -> Result<Server, StartError> {
        Server::start_with_faults(config, None)
    }

    /// [`Server::start`] with injected log write failures (tests of a full disk).
    pub fn start_with_faults(
        config: ServerConfig,
        faults: Option<Arc<dyn WriteFaults>>,
    ) -> Result<Server, StartError> {
        let n = config.event_loops.max(1);
        let tls = config.tls_server_config().map_err(StartError::Tls)?;
        let settings = durable::Settings::from_config(&config);
        let recovered = match &settings {
            Some(s) => Some(durable::recover(s).map_err(StartError::Recover)?),
            None => None,
        };
        let mut engine_config = config.engine_config();
        if config.zookeeper_passwords {
            tracing::warn!(
                "zksession.passwordMode=zookeeper: session passwords are ZooKeeper's, which \
                 anyone knowing a session id can compute"
            );
            engine_config.password_mode = engine::PasswordMode::ZooKeeperCompatible;
        } else if let Some(dir) = &config.data_dir {
            let secret = durable::load_secret(dir).map_err(StartError::Io)?;
            engine_config.password_mode = engine::PasswordMode::Hmac { secret };
        }
        let mut polls = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for index in 0..n {
            let poll = Poll::new().map_err(StartError::Io)?;
            let waker = Waker::new(poll.registry(), WAKER).map_err(StartError::Io)?;
            handles.push(LoopHandle {
                inbox: Mutex::new(Vec::new()),
                waker,
                index,
            });
            polls.push(poll);
        }
        let loops: Loops = handles.into();
        let engine = Engine::builder(engine_config)
            .expirer(expirer(loops.clone()))
            .build()
            .map_err(StartError::Engine)?;
        let bind = |addr: SocketAddr| {
            TcpListener::bind(addr).map_err(|error| StartError::Bind { addr, error })
        };
        let listener = match config.plain_port {
            true => Some(bind(config.client_addr)?),
            false => None,
        };
        let secure_listener = match (config.secure_client_addr, &tls) {
            (Some(addr), Some(_)) => Some(bind(addr)?),
            _ => None,
        };
        let secure_addr = match &secure_listener {
            Some(l) => Some(l.local_addr().map_err(StartError::Io)?),
            None => None,
        };
        let local_addr = match (&listener, secure_addr) {
            (Some(l), _) => l.local_addr().map_err(StartError::Io)?,
            (None, Some(a)) => a,
            (None, None) => config.client_addr,
        };
        let (answers, answer_queue) = answers::Answers::new();
        let mut digest_mismatches = 0;
        let (ns, settings) = match (recovered, settings) {
            (Some(r), Some(s)) => {
                durable::restore_sessions(&engine, &r, &config);
                digest_mismatches = r.digest_mismatches;
                (r.ns, Some(s))
            }
            _ => (Namespace::new(), None),
        };
        let mut ns = ns;
        let budget = config.effective_memory_budget();
        let buffers = Arc::new(crate::namespace::BufferGauge::default());
        ns.set_memory_budget_with_buffers(budget, buffers.clone());
        ns.set_enforce_quota(config.enforce_quota);
        tracing::info!(
            budget = budget.map_or_else(|| "unlimited".to_owned(), |b| b.to_string()),
            used = ns.memory_used(),
            enforce_quota = config.enforce_quota,
            "memory budget of the data tree"
        );
        ns.set_extended_types(config.extended_types);
        let last_zxid = ns.last_zxid();
        let ns = Arc::new(Mutex::new(ns));
        let persister = match settings {
            Some(s) => Some(
                durable::Persister::start(s, last_zxid, loops.clone(), faults, ns.clone())
                    .map_err(StartError::Io)?,
            ),
            None => None,
        };
        let shared = Arc::new(Shared {
            answers,
            config,
            tls,
            engine,
            durable: persister.as_ref().map(|p| p.durable.clone()),
            ns,
            loops: loops.clone(),
            conns: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            stats: {
                let s = Stats::new();
                s.digest_mismatches
                    .store(digest_mismatches, std::sync::atomic::Ordering::Relaxed);
                s
            },
            last_zxid: AtomicI64::new(last_zxid),
            next_conn_id: AtomicU64::new(1),
            started: Instant::now(),
            buffers,
        });
        // Built before the threads, so a failed spawn stops and joins those already running.
        let mut server = Server {
            shared,
            loops,
            threads: Vec::with_capacity(n),
            answerer: None,
            reaper: None,
            #[cfg(feature = "metrics")]
            metrics: None,
            #[cfg(feature = "admin")]
            admin: None,
            local_addr,
            secure_addr,
            persister,
        };
        server.answerer =
            Some(answers::spawn(server.shared.clone(), answer_queue).map_err(StartError::Io)?);
        #[cfg(feature = "metrics")]
        if let Some(addr) = server.shared.config.metrics_addr {
            server.metrics = Some(
                metrics::MetricsServer::start(addr, server.shared.clone())
                    .map_err(|error| StartError::Bind { addr, error })?,
            );
        }
        server.reaper = Some(reaper::Reaper::start(server.shared.clone()).map_err(StartError::Io)?);
        #[cfg(feature = "admin")]
        if let Some(addr) = server.shared.config.admin_addr {
            let url = server.shared.config.admin_command_url.clone();
            match admin::AdminServer::start(addr, &url, server.shared.clone()) {
                Ok(a) => server.admin = Some(a),
                // As ZooKeeper's quorum servers do: the client port matters more than the
                // AdminServer's, so the server runs on without it.
                Err(error) => {
                    tracing::warn!(addr = %addr, error = %error,
                        "AdminServer not started; set admin.enableServer=false or another admin.serverPort")
                }
            }
        }
        let (mut listener, mut secure_listener) = (listener, secure_listener);
        for (index, poll) in polls.into_iter().enumerate() {
            let el = EventLoop::new(
                index,
                poll,
                server.shared.clone(),
                listener.take(),
                secure_listener.take(),
            );
            let t = thread::Builder::new()
                .name(format!("zksessiond-loop-{index}"))
                .spawn(move || el.run())
                .map_err(StartError::Io)?;
            server.threads.push(t);
        }
        tracing::info!(addr = %local_addr, secure_addr = ?secure_addr, loops = n,
            tick_ms = server.shared.config.tick_ms, "zksessiond listening");
        Ok(server)
    }

    /// The address the client port is bound to (the secure client port's when only that
    /// one is served).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address the secure (TLS) client port is bound to, when one is served.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.secure_addr
    }

    /// The Prometheus endpoint's bound address, when one is configured.
    #[cfg(feature = "metrics")]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.addr())
    }

    /// The AdminServer's bound address, when one runs.
    #[cfg(feature = "admin")]
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|a| a.addr())
    }

    /// Whether the server stopped because its transaction log could not be written.
    pub fn persist_failed(&self) -> bool {
        self.persister.as_ref().is_some_and(|p| p.durable.failed())
    }

    /// A handle that can stop the server from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            loops: self.loops.clone(),
        }
    }

    /// Asks every event loop to stop (without waiting; see [`Server::join`]). Each loop
    /// closes its connections as it stops; their sessions are not closed.
    pub fn stop(&self) {
        self.stopper().stop();
    }

    /// Stops the server and waits until every thread it started has ended.
    pub fn shutdown(self) {
        // Drop stops and joins.
    }

    /// Waits until the event loops stop (after a [`Stopper::stop`] or [`Server::stop`]),
    /// then stops the engine and joins its expiry workers.
    pub fn join(mut self) {
        self.join_loops();
    }

    /// Waits until the event loops stop, like [`Server::join`], but hands the server back
    /// (to ask [`Server::persist_failed`] before dropping it).
    pub fn wait(mut self) -> Server {
        self.join_loops();
        self
    }

    fn join_loops(&mut self) {
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("an event loop panicked");
            }
        }
        #[cfg(feature = "metrics")]
        if let Some(mut m) = self.metrics.take() {
            m.stop();
        }
        if let Some(mut r) = self.reaper.take() {
            r.stop();
        }
        #[cfg(feature = "admin")]
        if let Some(mut a) = self.admin.take() {
            a.stop();
        }
        // The loops ask no more: close the queue and let the answerer finish.
        self.shared.answers.close();
        if let Some(t) = self.answerer.take() {
            if t.join().is_err() {
                tracing::error!("the four-letter-word thread panicked");
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        self.join_loops();
        // The loops are gone and the expirer holds no reference to the shared state, so
        // this is the last one: the engine stops and joins its workers right here.
        debug_assert_eq!(Arc::strong_count(&self.shared), 1);
        tracing::info!("zksessiond stopped");
    }
}

/// ZooKeeper's purge (`PurgeTxnLog`) of a data directory: keeps the newest `retain`
/// snapshots (at least 3) and the logs they need; deletes older snapshots and logs.
/// Returns how many files it deleted.
pub fn purge_data_dir(
    data_dir: &std::path::Path,
    data_log_dir: &std::path::Path,
    retain: usize,
) -> std::io::Result<usize> {
    durable::purge(
        &data_dir.join(crate::persist::VERSION_DIR),
        &data_log_dir.join(crate::persist::VERSION_DIR),
        retain.max(3),
    )
}

/// The engine's expirer: queues each batch of expired sessions on one event loop (round
/// robin), which deletes their ephemerals, closes their connections and removes them.
fn expirer(loops: Loops) -> impl Fn(&[Expired]) + Send + Sync + 'static {
    let next = AtomicUsize::new(0);
    move |batch: &[Expired]| {
        let i = next.fetch_add(1, Ordering::Relaxed) % loops.len();
        loops[i].send(LoopMsg::Expired(batch.to_vec()));
    }
}
