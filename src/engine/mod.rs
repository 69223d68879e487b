//! The session engine: ZooKeeper's session tracking, sharded and wheel-timed.
//!
//! Owns: session ids, passwords, timeout negotiation, deadlines and expiry, closing,
//! owners, local and global sessions, snapshot and restore, and the figures about them.
//! See [`Engine`] for the API and `tracker`, `shard` and `wheel` for the design notes.
//!
//! Must never: know about sockets, znodes, C or Java; read the real clock except through
//! [`Clock`]; import atomics or locks except through `crate::sync`.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use zksession::engine::{Config, Engine, ManualClock, SessionKind};
//!
//! let clock = Arc::new(ManualClock::new(1_000_000));
//! let engine = Engine::builder(Config::with_tick(2000))
//!     .clock(clock.clone())
//!     .workers(false)
//!     .build()
//!     .unwrap();
//! let s = engine.create(10_000, SessionKind::Global);
//! assert!(engine.verify_password(s.id, &s.password));
//! clock.advance(10_000);
//! engine.touch(s.id).unwrap();
//! clock.advance(12_000);
//! assert_eq!(engine.expire_due(), 1);
//! let expired = engine.poll_expired(16, std::time::Duration::ZERO).unwrap();
//! assert_eq!(expired[0].id, s.id);
//! assert!(engine.remove(s.id));
//! ```

mod clock;
mod config;
mod error;
mod expiry;
mod id;
mod password;
mod session;
mod shard;
mod stall;
mod stripes;
mod table;
mod tracker;
mod wheel;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, PasswordMode};
pub use error::{ConfigError, Error};
pub use expiry::{lag_bucket_upper_ms, Expirer, LagSummary, LAG_BUCKETS};
pub use id::{initial_id, server_id_of};
pub use password::{zookeeper_password, PASSWORD_LEN};
pub use session::{
    Counts, Created, Expired, LearnerTouch, SessionEntry, SessionKind, SessionState, Totals,
};
pub use tracker::{Engine, EngineBuilder};
