//! # zksession
//!
//! A ZooKeeper-compatible session engine and the layers built on it.
//!
//! - [`engine`]: the session tracker: a lock-sharded session table with one hierarchical
//!   timing wheel per shard and per-core expiry workers, with ZooKeeper's exact session
//!   semantics (ids, passwords, timeout negotiation, tick-rounded expiry, closing, owners,
//!   local and global sessions, snapshot and restore).
//! - [`ffi`]: the C ABI (`include/zksession.h`).
//! - `jni` (feature `jni`): the JNI exports used by `bindings/java`.
//! - [`wire`]: the ZooKeeper client wire protocol (jute), bytes to structs and back.
//! - [`namespace`]: the znode tree, ephemeral ownership and watches.
//! - [`server`]: `zksessiond`, a mio event-loop server for unmodified ZooKeeper clients.
//! - [`client`]: a Rust ZooKeeper client (connection strings, host provider, session
//!   state machine).
//!
//! Data flows down: `server` and `namespace` use `engine`; `ffi` and `jni` translate the
//! engine's API; `engine` knows nothing of sockets, znodes, C or Java.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub(crate) mod sync;

pub mod engine;

#[cfg(not(loom))]
pub mod ffi;

#[cfg(all(feature = "jni", not(loom)))]
pub mod jni;

#[cfg(not(loom))]
pub mod wire;

#[cfg(not(loom))]
pub mod persist;

#[cfg(not(loom))]
pub mod namespace;

#[cfg(not(loom))]
pub mod server;

#[cfg(not(loom))]
pub mod client;
