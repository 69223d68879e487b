//! A Rust ZooKeeper client: connection strings, host provider, session state machine,
//! and a blocking API over a background I/O thread.
//!
//! Owns: everything a client process needs to hold a ZooKeeper session, with the
//! behaviour of ZooKeeper's Java client (`ClientCnxn`, `StaticHostProvider`,
//! `ConnectStringParser`) as the contract.
//!
//! Layers, each testable alone:
//! - [`connect_string`], [`path`], [`chroot`]: parsing and validation;
//! - [`host_provider`]: server rotation and rebalancing (no sleeping, seeded RNG);
//! - [`session`]: the sans-I/O state machine (time is passed in);
//! - [`conn`]: the mio I/O thread executing the session's outputs;
//! - [`zookeeper`]: the blocking [`ZooKeeper`] handle.
//!
//! ```no_run
//! use std::time::Duration;
//! use zksession::client::ZooKeeper;
//! use zksession::wire::{Acl, CreateMode};
//!
//! let zk = ZooKeeper::connect("127.0.0.1:2181,127.0.0.1:2182/app", Duration::from_secs(10))?;
//! let path = zk.create("/lock-", b"", &[Acl::world_anyone()], CreateMode::EphemeralSequential)?;
//! let children = zk.get_children("/", true)?;
//! # Ok::<(), zksession::client::Error>(())
//! ```
//!
//! Must never: depend on the server side (`engine`, `namespace`, `server`).

pub mod chroot;
mod codec;
pub mod conn;
pub mod connect_string;
pub mod host_provider;
pub mod ops;
pub mod path;
pub mod rng;
pub mod session;
pub mod state;
pub mod watches;
pub mod zookeeper;

pub use connect_string::{ConnectString, ConnectStringError, HostAddr};
pub use ops::{MultiOp, MultiResult};
pub use path::PathError;
pub use state::{States, WatchedEvent};
pub use zookeeper::{ClientConfig, Error, ZooKeeper};
