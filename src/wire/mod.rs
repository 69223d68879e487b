//! The ZooKeeper client wire protocol (jute): framing, records, opcodes and error codes.
//!
//! Owns: the byte layout of every record the server and client exchange, and the shared
//! vocabulary of the protocol ([`ErrorCode`], [`OpCode`], [`CreateMode`], [`EventType`],
//! [`KeeperState`], [`Stat`], [`Acl`]).
//!
//! Must never: do I/O, know about mio or sessions' timing, or panic on any input.

mod codes;

pub use codes::{
    perms, Acl, CreateMode, ErrorCode, EventType, Id, KeeperState, OpCode, Stat, WatcherType,
};
