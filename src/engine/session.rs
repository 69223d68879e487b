//! The plain values the engine's API hands in and out.
//!
//! Owns: [`SessionKind`], [`SessionState`], [`LearnerTouch`], [`Created`], [`Expired`],
//! [`SessionEntry`], [`Counts`] and [`Totals`].
//!
//! Must never: hold behaviour beyond trivial accessors.

use super::password::PASSWORD_LEN;

/// Whether a session is known to the whole ensemble or only to the server that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SessionKind {
    /// Committed to the ensemble; survives reconnects to other servers.
    Global = 0,
    /// Lives only on the server that created it (ZooKeeper's local sessions).
    Local = 1,
}

/// What the engine knows about a tracked session, closing ones included
/// (see `Engine::kind_any`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionState {
    /// Its kind. Remote entries are global sessions (another server's view decides them).
    pub kind: SessionKind,
    /// Whether it is a remote entry: a global session tracked by a learner, never filed for
    /// expiry here.
    pub remote: bool,
    /// Whether it is closing (expiry decided or closed, not yet removed).
    pub closing: bool,
}

/// Where a learner's touch went (see `Engine::learner_touch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LearnerTouch {
    /// The session expires on this server: its deadline was refreshed here.
    Local = 0,
    /// The session is a remote entry: the touch was recorded in the touch table for the
    /// leader.
    Forwarded = 1,
}

/// A newly created session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    /// The session id.
    pub id: u64,
    /// The negotiated timeout in ms.
    pub timeout_ms: u32,
    /// The session's password.
    pub password: [u8; PASSWORD_LEN],
    /// The kind it was created as (always global when local sessions are disabled).
    pub kind: SessionKind,
}

/// A session whose expiry the engine has decided. It is now closing; the embedder
/// cleans up (ephemerals, connections) and then calls `remove(id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    /// The session id.
    pub id: u64,
    /// Its timeout in ms at the time of its last touch.
    pub timeout_ms: u32,
    /// Its kind.
    pub kind: SessionKind,
    /// The tick boundary (engine clock, ms) at which it was due.
    pub deadline_ms: u64,
}

/// One session as exported by a snapshot and imported by a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionEntry {
    /// The session id.
    pub id: u64,
    /// Its timeout in ms.
    pub timeout_ms: u32,
    /// Its kind.
    pub kind: SessionKind,
}

/// Live-session counts. Every tracked session is in exactly one of `global`, `local`,
/// `remote`, `closing_local` and `closing_global`; `closing` is the sum of the last two.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Global sessions not closing, filed for expiry here (remote entries excluded).
    pub global: u64,
    /// Local sessions not closing.
    pub local: u64,
    /// Sessions marked closing (expired or being closed) and not yet removed:
    /// `closing_local + closing_global`.
    pub closing: u64,
    /// Remote entries not closing (global sessions a learner tracks but never expires).
    pub remote: u64,
    /// Closing sessions that were local.
    pub closing_local: u64,
    /// Closing sessions that were global (remote entries included).
    pub closing_global: u64,
    /// Touches recorded in the touch table and not yet drained (not sessions: an id may be
    /// recorded without being tracked).
    pub touch_table: u64,
}

impl Counts {
    /// Every session the engine tracks.
    pub fn total(&self) -> u64 {
        self.global + self.local + self.remote + self.closing
    }
}

/// Running totals since the engine started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Sessions created (`create`, not `add`/`restore`).
    pub creates: u64,
    /// Successful touches.
    pub touches: u64,
    /// Expiry decisions (each session at most once).
    pub expirations: u64,
    /// Stalls of the engine's own process detected (an expiry pass waking later than it
    /// asked by more than `Config::stall_threshold_ms`).
    pub stalls: u64,
    /// Milliseconds credited to every session's deadline for those stalls.
    pub stalled_ms: u64,
}
