//! A Rust ZooKeeper client: connection strings, host provider, session state machine,
//! and a blocking API over a background I/O thread.
//!
//! Owns: everything a client process needs to hold a ZooKeeper session, with the
//! behaviour of ZooKeeper's Java client (`ClientCnxn`, `StaticHostProvider`,
//! `ConnectStringParser`) as the contract.
//!
//! The public API is the blocking [`ZooKeeper`] handle, its [`ClientConfig`] and [`Error`],
//! the events it delivers ([`WatchedEvent`], [`States`]), the connection string
//! ([`ConnectString`]) and the multi vocabulary, which is the wire's own ([`MultiOp`],
//! [`MultiResult`]); requests, replies, records and path rules all come from
//! [`crate::wire`], the one model of the protocol.
//!
//! Internal layers, each testable alone:
//! - `connect_string`, `chroot`: parsing (paths are checked by [`crate::wire::path`]);
//! - `host_provider`: server rotation and rebalancing (no sleeping, seeded `fastrand`);
//! - `session`: the sans-I/O state machine (time is passed in);
//! - `conn`: the mio I/O thread executing the session's outputs, framing with
//!   [`crate::wire::FrameDecoder`];
//! - `zookeeper`: the blocking [`ZooKeeper`] handle.
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

mod chroot;
mod conn;
mod connect_string;
mod host_provider;
mod session;
mod state;
mod watches;
mod zookeeper;

pub use crate::wire::path::PathError;
pub use crate::wire::{MultiOp, MultiResult};
pub use connect_string::{ConnectString, ConnectStringError, HostAddr};
pub use state::{States, WatchedEvent};
pub use zookeeper::{ClientConfig, Error, ZooKeeper};
