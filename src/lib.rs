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
//! - `wire` (feature `wire`): the ZooKeeper client wire protocol (jute), bytes to structs
//!   and back.
//! - `persist` (feature `persist`): ZooKeeper 3.8's transaction logs and snapshots, read
//!   and written byte for byte.
//! - `namespace` (feature `namespace`): the znode tree, ephemeral ownership and watches.
//! - `security` (feature `security`): ACLs, authentication (digest, SASL DIGEST-MD5,
//!   x509) and TLS as ZooKeeper 3.8 does them, without I/O.
//! - `server` (feature `server`): a mio event-loop server for unmodified ZooKeeper
//!   clients, run by the `zksessiond` binary (feature `zksessiond`).
//! - `client` (feature `client`): a Rust ZooKeeper client (connection strings, host
//!   provider, session state machine).
//!
//! # Features
//!
//! | feature | brings | default |
//! |---|---|---|
//! | (none) | `engine` and the C ABI (`ffi`): what `libzksession.a`/`.so` need | always |
//! | `jni` | the JNI exports for `bindings/java` | no |
//! | `wire` | the wire codec | via `server`/`client` |
//! | `namespace` | the znode tree | via `server` |
//! | `persist` | ZooKeeper's on-disk format (adler2, crc32fast) | yes |
//! | `security` | ACLs, authentication and TLS (sha1, base64, md-5, rustls, x509-parser) | yes |
//! | `server` | the event-loop server (mio, tracing), with `security` | yes |
//! | `client` | the Rust client (mio) | yes |
//! | `zksessiond` | the `zksessiond` binary (log output, signal handling) | yes |
//! | `loadgen` | the `loadgen` tool (clap, hdrhistogram, socket2) | no |
//!
//! The C library is built with `--no-default-features`, the Java one with
//! `--no-default-features --features jni`; neither carries the server or the client.
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

#[cfg(all(feature = "wire", not(loom)))]
pub mod wire;

#[cfg(all(feature = "persist", not(loom)))]
pub mod persist;

#[cfg(all(feature = "namespace", not(loom)))]
pub mod namespace;

#[cfg(all(feature = "security", not(loom)))]
pub mod security;

#[cfg(all(feature = "server", not(loom)))]
pub mod server;

#[cfg(all(feature = "client", not(loom)))]
pub mod client;
