//! `zksessiond`: a standalone ZooKeeper-compatible server for unmodified clients, built on
//! the session engine ([`crate::engine`]) and the namespace ([`crate::namespace`]).
//!
//! Owns: the event loops (one mio `Poll` per core, connections spread over them, a `Waker`
//! per loop for cross-loop messages), connections and their handshake, request execution,
//! expiry handling (the engine's [`Expirer`](crate::engine::Expirer) hands expired ids to
//! the server, which deletes their ephemerals, closes their connection and forgets them),
//! four-letter words, limits, and the `zoo.cfg` reader ([`ServerConfig`]).
//!
//! All state lives in memory: a restart starts with an empty tree and no sessions.
//!
//! Must never: let one connection's input affect another's, block an event loop, or reply
//! to a request of a dead session (such requests are dropped, as ZooKeeper does).
//!
//! # Example
//! ```no_run
//! use zksession::server::{Server, ServerConfig};
//!
//! let mut config = ServerConfig::default();
//! config.client_addr = "127.0.0.1:0".parse().unwrap();
//! let server = Server::start(config).unwrap();
//! println!("listening on {}", server.local_addr());
//! server.shutdown();
//! ```

mod config;
mod conn;
mod event_loop;
mod fourlw;
mod handshake;
mod requests;
mod shared;
mod stats;

pub use config::{ConfigError, FourLetterWords, ServerConfig, UnknownKey, ALL_FOUR_LETTER_WORDS};
pub use fourlw::VERSION;

use crate::engine::{self, Engine, Expired};
use crate::namespace::Namespace;
use event_loop::{EventLoop, WAKER};
use mio::net::TcpListener;
use mio::{Poll, Waker};
use parking_lot::Mutex;
use shared::{LoopHandle, LoopMsg, Shared};
use stats::Stats;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Engine(e) => write!(f, "session settings refused: {e}"),
            StartError::Bind { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            StartError::Io(e) => write!(f, "cannot start event loops: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running server. Dropping it without [`Server::shutdown`] leaves the threads running.
pub struct Server {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    local_addr: SocketAddr,
}

/// Asks a running server to stop, from any thread (a signal handler thread, say).
#[derive(Clone)]
pub struct Stopper {
    shared: Weak<Shared>,
}

impl Stopper {
    /// Tells every event loop to stop; [`Server::wait`] then returns.
    pub fn stop(&self) {
        if let Some(s) = self.shared.upgrade() {
            for l in &s.loops {
                l.send(LoopMsg::Shutdown);
            }
        }
    }
}

impl Server {
    /// Binds the client port and starts the engine and the event loops.
    pub fn start(config: ServerConfig) -> Result<Server, StartError> {
        let slot: Arc<OnceLock<Weak<Shared>>> = Arc::new(OnceLock::new());
        let sink = slot.clone();
        let engine = Engine::builder(config.engine_config())
            .expirer(move |batch: &[Expired]| {
                if let Some(shared) = sink.get().and_then(Weak::upgrade) {
                    shared.expire(batch);
                }
            })
            .build()
            .map_err(StartError::Engine)?;
        let listener = TcpListener::bind(config.client_addr).map_err(|error| StartError::Bind {
            addr: config.client_addr,
            error,
        })?;
        let local_addr = listener.local_addr().map_err(StartError::Io)?;
        let n = config.event_loops.max(1);
        let mut polls = Vec::with_capacity(n);
        let mut loops = Vec::with_capacity(n);
        for index in 0..n {
            let poll = Poll::new().map_err(StartError::Io)?;
            let waker = Waker::new(poll.registry(), WAKER).map_err(StartError::Io)?;
            loops.push(LoopHandle {
                inbox: Mutex::new(Vec::new()),
                waker,
                index,
            });
            polls.push(poll);
        }
        let shared = Arc::new(Shared {
            config,
            engine,
            ns: Mutex::new(Namespace::new()),
            loops,
            conns: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            stats: Stats::new(),
            last_zxid: AtomicI64::new(0),
            next_conn_id: AtomicU64::new(1),
            started: Instant::now(),
        });
        let _ = slot.set(Arc::downgrade(&shared));
        let mut threads = Vec::with_capacity(n);
        let mut listener = Some(listener);
        for (index, poll) in polls.into_iter().enumerate() {
            let el = EventLoop::new(index, poll, shared.clone(), listener.take());
            let t = std::thread::Builder::new()
                .name(format!("zksessiond-loop-{index}"))
                .spawn(move || el.run())
                .map_err(StartError::Io)?;
            threads.push(t);
        }
        tracing::info!(addr = %local_addr, loops = n, tick_ms = shared.config.tick_ms,
            "zksessiond listening");
        Ok(Server {
            shared,
            threads,
            local_addr,
        })
    }

    /// The address the client port is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that can stop the server from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Stops the event loops and waits for them.
    pub fn shutdown(self) {
        self.stopper().stop();
        self.wait();
    }

    /// Waits until the event loops stop (after a [`Stopper::stop`]), then releases the
    /// engine.
    pub fn wait(self) {
        for t in self.threads {
            let _ = t.join();
        }
        // An expiry callback may hold the state briefly; let it finish so the engine (and
        // its expiry workers) is dropped here, not on one of its own workers.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&self.shared) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        tracing::info!("zksessiond stopped");
    }
}
