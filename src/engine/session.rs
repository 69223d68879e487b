//! The plain values the engine's API hands in and out.
//!
//! Owns: [`SessionKind`], [`Created`], [`Expired`], [`SessionEntry`], [`Counts`] and
//! [`Totals`].
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

/// Live-session counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Global sessions not closing.
    pub global: u64,
    /// Local sessions not closing.
    pub local: u64,
    /// Sessions marked closing (expired or being closed) and not yet removed.
    pub closing: u64,
}

impl Counts {
    /// Every session the engine tracks.
    pub fn total(&self) -> u64 {
        self.global + self.local + self.closing
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
}
