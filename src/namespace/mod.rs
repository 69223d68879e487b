//! The znode tree, ephemeral ownership and watches, sans-IO.
//!
//! Owns: every znode (data, ACL, [`crate::wire::Stat`]), the zxid counter (strictly increasing; each
//! write request, including a failed one, a multi and a session kill takes exactly one,
//! as in ZooKeeper), the ephemerals of each session, and the watch tables. Callers pass the
//! wall time (`now_ms`) of each write; nothing here reads a clock or touches a socket.
//!
//! Operations come in and results go out as the wire's own types ([`crate::wire::MultiOp`],
//! [`MultiResult`], [`WatcherEvent`]), so the server hands decoded requests straight in.
//!
//! Write calls return an [`Applied`] value: the result, the txn's zxid, and the
//! [`Notification`]s the server must route to connections (a watcher id is the opaque
//! `u64` the server chose for a connection). Errors are ZooKeeper's [`ErrorCode`]s, found
//! in ZooKeeper's order of checks, and a failed write changes no node and fires no watch.
//!
//! Container and TTL nodes (module `kind`) are found and deleted by the server's reaper
//! through [`Namespace::reap_candidates`] and [`Namespace::reap`] (module `reap`).
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
mod budget;
mod digest_log;
mod kind;
mod path;
mod quota;
mod reap;
mod restore;
mod tree;
mod watch;
mod write;

#[cfg(test)]
mod tests;

pub use acl::{Access, Anyone};
pub use budget::{
    acl_list_cost, node_cost, parse_size, BadSize, BufferCharge, BufferGauge, MemoryBudget,
};
pub use kind::{create_owner_rule, ttl_owner, NodeKind, MAX_TTL_MS};
pub use quota::{QuotaFigures, LIMITS_NODE, QUOTA_ROOT, STATS_NODE};
pub use reap::{ReapPage, ReapRules};
pub use restore::{NodeParts, PagedWalk};
pub use tree::Namespace;
pub use watch::{WatchMode, WatcherId};
pub use write::{check_multi, create_mode, MultiRefusal};

use crate::wire::{ErrorCode, MultiResult, WatcherEvent};

/// A session id, as the engine hands them out.
pub type SessionId = u64;

/// An event and the watcher (connection) it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The watcher id the server registered the watch with.
    pub watcher: WatcherId,
    /// The zxid of the txn that fired it; −1 for events fired by `set_watches`.
    pub zxid: i64,
    /// The event to send (its state is always SyncConnected).
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

/// A multi's results when op `at` failed: `Ok` before it, its error, then
/// `RuntimeInconsistency` (the reply itself carries no error). With `at = 0` this is also
/// the answer when the session check refuses the whole multi.
pub fn error_results(total: usize, at: usize, e: ErrorCode) -> Vec<MultiResult> {
    debug_assert!(at < total, "failing op {at} outside a multi of {total}");
    (0..total)
        .map(|i| {
            MultiResult::error(match i.cmp(&at) {
                std::cmp::Ordering::Less => ErrorCode::Ok,
                std::cmp::Ordering::Equal => e,
                std::cmp::Ordering::Greater => ErrorCode::RuntimeInconsistency,
            })
        })
        .collect()
}
