//! A Rust ZooKeeper client: connection strings, host provider, session state machine.
//!
//! Owns: everything a client process needs to hold a ZooKeeper session.
//!
//! Must never: depend on the server side (`engine`, `namespace`, `server`).

pub mod chroot;
pub mod connect_string;
pub mod host_provider;
pub mod ops;
pub mod path;
pub mod rng;
pub mod session;
pub mod state;
pub mod watches;
