//! The znode tree, ephemeral ownership and watches, sans-IO.
//!
//! Owns: every znode (data, ACL, [`Stat`]), the zxid counter (strictly increasing; each
//! write request, including a failed one, a multi and a session kill takes exactly one,
//! as in ZooKeeper), the ephemerals of each session, and the watch tables. Callers pass the
//! wall time (`now_ms`) of each write; nothing here reads a clock or touches a socket.
//!
//! Write calls return an [`Applied`] value: the result, the txn's zxid, and the
//! [`Notification`]s the server must route to connections (a watcher id is the opaque
//! `u64` the server chose for a connection). Errors are ZooKeeper's [`ErrorCode`]s, found
//! in ZooKeeper's order of checks, and a failed write changes no node and fires no watch.
//!
//! Must never: do I/O, read the clock, check sessions (the server asks the engine whether a
//! session is live before calling in), or call back into the server.
//!
//! # Example
//! ```
//! use zksession::namespace::Namespace;
//! use zksession::wire::{Acl, CreateMode, EventType};
//!
//! let mut ns = Namespace::new();
//! let open = [Acl::world_anyone()];
//! let conn = 7; // the server's id for a connection
//! assert!(ns.exists("/app", Some(conn)).is_err()); // leaves an exist watch
//! let done = ns
//!     .create(0x1234, "/app", b"v1".to_vec(), &open, CreateMode::Ephemeral, 1_000)
//!     .unwrap();
//! assert_eq!(done.value.0, "/app");
//! assert_eq!(done.notifications[0].watcher, conn);
//! assert_eq!(done.notifications[0].event.event_type, EventType::NodeCreated);
//! let gone = ns.kill_session(0x1234);
//! assert_eq!(gone.value, ["/app"]);
//! ```

mod acl;
mod path;
mod tree;
mod watch;
mod write;

#[cfg(test)]
mod tests;

pub use path::validate as validate_path;
pub use tree::Namespace;
pub use watch::{WatchMode, WatcherId};

use crate::wire::{Acl, CreateMode, ErrorCode, EventType, Stat};

/// A session id, as the engine hands them out.
pub type SessionId = u64;

/// A watch event for one watcher (the `WatcherEvent` record plus the txn's zxid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherEvent {
    /// What happened.
    pub event_type: EventType,
    /// The node it happened to.
    pub path: String,
    /// The zxid of the txn that fired it; −1 for events fired by `set_watches`.
    pub zxid: i64,
}

/// An event and the watcher (connection) it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The watcher id the server registered the watch with.
    pub watcher: WatcherId,
    /// The event to send.
    pub event: WatcherEvent,
}

/// The outcome of a write: its value, its zxid, and the notifications it fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied<T> {
    /// The operation's result.
    pub value: T,
    /// The zxid given to the txn.
    pub zxid: i64,
    /// Notifications to route, in firing order.
    pub notifications: Vec<Notification>,
}

/// One write operation of a `multi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// create / create2 / createContainer.
    Create {
        /// Requested path (a sequential mode appends the suffix).
        path: String,
        /// Initial data.
        data: Vec<u8>,
        /// ACL list (only `world:anyone` entries are accepted).
        acl: Vec<Acl>,
        /// Creation mode.
        mode: CreateMode,
    },
    /// delete, with an expected version (−1 = any).
    Delete {
        /// Node to delete.
        path: String,
        /// Expected data version.
        version: i32,
    },
    /// setData, with an expected version (−1 = any).
    SetData {
        /// Node to change.
        path: String,
        /// New data.
        data: Vec<u8>,
        /// Expected data version.
        version: i32,
    },
    /// check: the node exists with this data version (−1 = any).
    Check {
        /// Node to check.
        path: String,
        /// Expected data version.
        version: i32,
    },
}

/// The result of one op of a `multi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// A node was created (the server answers create or create2 from this).
    Create {
        /// The created path, sequence suffix included.
        path: String,
        /// Its stat.
        stat: Stat,
    },
    /// A node was deleted.
    Delete,
    /// Data was set.
    SetData {
        /// The node's new stat.
        stat: Stat,
    },
    /// A version check passed.
    Check,
    /// The op did not apply: its own error, `Ok` for ops before the failing one, or
    /// `RuntimeInconsistency` for ops after it.
    Error(ErrorCode),
}

/// One operation of a `multiRead`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOp {
    /// getChildren.
    GetChildren {
        /// Node whose children to list.
        path: String,
    },
    /// getData.
    GetData {
        /// Node to read.
        path: String,
    },
}

/// The result of one op of a `multiRead` (each op succeeds or fails on its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadResult {
    /// The children's names, sorted.
    Children(Vec<String>),
    /// The data and stat.
    Data(Vec<u8>, Stat),
    /// The op's error.
    Error(ErrorCode),
}

/// Watch figures for `wchs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchSummary {
    /// Distinct watchers (connections) with at least one watch.
    pub watchers: usize,
    /// Distinct watched paths.
    pub paths: usize,
    /// Watch entries, data and child tables together.
    pub total: usize,
}
