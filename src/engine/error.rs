//! Typed errors of the session engine.
//!
//! Owns: [`Error`] (what a session operation can fail with, mapped onto ZooKeeper's
//! `KeeperException.Code` values where ZooKeeper has one) and [`ConfigError`] (why a
//! [`Config`](super::Config) was refused, naming the offending setting).
//!
//! Must never: carry strings built at run time, or depend on any layer above the engine.

use std::fmt;

/// Why a session operation failed.
///
/// [`zookeeper_code`](Error::zookeeper_code) is the one table from these errors to
/// ZooKeeper's `KeeperException.Code` values; the C ABI and the JNI bindings both use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The engine does not track this id (never created, or already removed)
    /// (`UNKNOWNSESSION`, −12: ZooKeeper keeps it inside the servers, a client never sees
    /// it).
    UnknownSession,
    /// The session is closing: its expiry was decided or it was closed (`SESSIONEXPIRED`,
    /// −112).
    SessionExpired,
    /// The session is owned by another owner (`SESSIONMOVED`, −118).
    SessionMoved,
    /// The session is local and upgrading local sessions is disabled
    /// (`EPHEMERALONLOCALSESSION`, −120).
    EphemeralOnLocalSession,
    /// An argument is out of range, e.g. a timeout of 0 ms (`BADARGUMENTS`, −8).
    BadArguments,
    /// `poll_expired` was called on an engine whose expirations go to a callback sink
    /// (`UNIMPLEMENTED`, −6).
    NotPollable,
}

impl Error {
    /// ZooKeeper's `KeeperException.Code` value for this error: the one mapping every
    /// binding uses.
    ///
    /// | Error | ZooKeeper |
    /// |---|---|
    /// | `UnknownSession` | −12 `UNKNOWNSESSION` |
    /// | `SessionExpired` | −112 `SESSIONEXPIRED` |
    /// | `SessionMoved` | −118 `SESSIONMOVED` |
    /// | `EphemeralOnLocalSession` | −120 `EPHEMERALONLOCALSESSION` |
    /// | `BadArguments` | −8 `BADARGUMENTS` |
    /// | `NotPollable` | −6 `UNIMPLEMENTED` |
    pub const fn zookeeper_code(self) -> i32 {
        match self {
            Error::UnknownSession => -12,
            Error::SessionExpired => -112,
            Error::SessionMoved => -118,
            Error::EphemeralOnLocalSession => -120,
            Error::BadArguments => -8,
            Error::NotPollable => -6,
        }
    }

    /// A short, static description.
    pub const fn as_str(self) -> &'static str {
        match self {
            Error::UnknownSession => "unknown session",
            Error::SessionExpired => "session expired or closing",
            Error::SessionMoved => "session moved to another owner",
            Error::EphemeralOnLocalSession => {
                "ephemeral nodes need a global session and upgrading local sessions is disabled"
            }
            Error::BadArguments => "argument out of range",
            Error::NotPollable => "expirations go to a callback; there is no queue to poll",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for Error {}

/// Why a configuration was refused. Each variant names the setting at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `tick_ms` must be at least 1.
    TickZero,
    /// `min_session_timeout_ms` is below `tick_ms`.
    MinTimeoutBelowTick {
        /// The configured minimum.
        min_ms: u32,
        /// The configured tick.
        tick_ms: u32,
    },
    /// `min_session_timeout_ms` is greater than `max_session_timeout_ms`.
    MinAboveMax {
        /// The configured minimum.
        min_ms: u32,
        /// The configured maximum.
        max_ms: u32,
    },
    /// `server_id` is above 254 (255 would make ids collide with ZooKeeper's markers).
    ServerIdTooLarge(u32),
    /// `shards` must be a power of two between 1 and 65536.
    ShardsNotPowerOfTwo(usize),
    /// `expiry_workers` must be between 1 and the shard count.
    BadWorkerCount(usize),
    /// `expiry_batch` must be at least 1.
    BatchZero,
    /// An HMAC password secret must be at least 16 bytes.
    SecretTooShort(usize),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::TickZero => write!(f, "tick_ms must be at least 1"),
            ConfigError::MinTimeoutBelowTick { min_ms, tick_ms } => write!(
                f,
                "min_session_timeout_ms ({min_ms}) must be at least tick_ms ({tick_ms})"
            ),
            ConfigError::MinAboveMax { min_ms, max_ms } => write!(
                f,
                "min_session_timeout_ms ({min_ms}) must not exceed max_session_timeout_ms ({max_ms})"
            ),
            ConfigError::ServerIdTooLarge(id) => {
                write!(f, "server_id ({id}) must be in 0..=254")
            }
            ConfigError::ShardsNotPowerOfTwo(n) => {
                write!(f, "shards ({n}) must be a power of two in 1..=65536")
            }
            ConfigError::BadWorkerCount(n) => {
                write!(f, "expiry_workers ({n}) must be in 1..=shards")
            }
            ConfigError::BatchZero => write!(f, "expiry_batch must be at least 1"),
            ConfigError::SecretTooShort(n) => {
                write!(f, "password secret ({n} bytes) must be at least 16 bytes")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn every_error_has_its_zookeeper_code() {
        // The values of org.apache.zookeeper.KeeperException.Code.
        let table = [
            (Error::UnknownSession, -12),
            (Error::SessionExpired, -112),
            (Error::SessionMoved, -118),
            (Error::EphemeralOnLocalSession, -120),
            (Error::BadArguments, -8),
            (Error::NotPollable, -6),
        ];
        for (e, code) in table {
            assert_eq!(e.zookeeper_code(), code, "{e:?}");
        }
    }
}
