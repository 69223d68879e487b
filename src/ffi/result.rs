//! The C API's result codes.
//!
//! Owns: [`zks_result`] (one code per engine error, per configuration error, plus the
//! codes of the C boundary itself), the conversions from the engine's typed errors, each
//! code's message and its ZooKeeper code (engine errors take theirs from
//! [`Error::zookeeper_code`], the one table). The exports reading them are in `info`.
//!
//! Must never: renumber or reuse a value. Codes are append-only: a new engine error gets
//! a new number in its group, and removed errors leave a hole.

use crate::engine::{ConfigError, Error};

/// The result of every fallible C API function. `ZKS_OK` (0) is success; every other value
/// is an error, and its number never changes between versions.
///
/// Groups: 1..=99 the C boundary itself, 100..=199 session operations (the engine's
/// errors), 200..=299 configuration errors. See `zks_result_zookeeper_code` for the
/// mapping onto ZooKeeper's `KeeperException.Code` values.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum zks_result {
    /// Success.
    ZKS_OK = 0,
    /// A required pointer (a handle, an input buffer with a non-zero length, or an
    /// output pointer) was NULL. Nothing was done.
    ZKS_NULL_PARAMETER = 1,
    /// A value is not valid for its C type (for example a session kind other than
    /// `ZKS_SESSION_GLOBAL` or `ZKS_SESSION_LOCAL`, or a zero capacity). Nothing was done.
    ZKS_INVALID_PARAMETER = 2,
    /// The caller's buffer is too small. Functions that fill a buffer then write the
    /// required element count to their count output (the one documented exception to
    /// "outputs are written only on success").
    ZKS_INSUFFICIENT_SIZE = 3,
    /// The library panicked (a bug). The panic did not cross into C; the engine is
    /// still usable, though the failed call may have been partly done.
    ZKS_PANIC = 4,
    /// `zks_advance_clock` was called on an engine not made by `zks_engine_new_manual`.
    ZKS_NOT_MANUAL_CLOCK = 5,
    /// The engine does not track this id (never created, or already removed).
    /// ZooKeeper's internal `UNKNOWNSESSION` (-12).
    ZKS_UNKNOWN_SESSION = 100,
    /// The session is closing: its expiry was decided, or it was closed.
    /// ZooKeeper's `SESSIONEXPIRED` (-112).
    ZKS_SESSION_EXPIRED = 101,
    /// The session belongs to another owner. ZooKeeper's `SESSIONMOVED` (-118).
    ZKS_SESSION_MOVED = 102,
    /// The session is local and upgrading local sessions is disabled.
    /// ZooKeeper's `EPHEMERALONLOCALSESSION` (-120).
    ZKS_EPHEMERAL_ON_LOCAL_SESSION = 103,
    /// The engine refused a value, e.g. a timeout or id of 0.
    /// ZooKeeper's `BADARGUMENTS` (-8).
    ZKS_BAD_ARGUMENTS = 104,
    /// `zks_poll_expired` on an engine whose expirations go to a callback.
    ZKS_NOT_POLLABLE = 105,
    /// Configuration: `tick_ms` is 0.
    ZKS_CONFIG_TICK_ZERO = 200,
    /// Configuration: `min_session_timeout_ms` is below `tick_ms`.
    ZKS_CONFIG_MIN_TIMEOUT_BELOW_TICK = 201,
    /// Configuration: `min_session_timeout_ms` exceeds `max_session_timeout_ms`.
    ZKS_CONFIG_MIN_ABOVE_MAX = 202,
    /// Configuration: `server_id` is above 254.
    ZKS_CONFIG_SERVER_ID_TOO_LARGE = 203,
    /// Configuration: `shards` is not a power of two in 1..=65536.
    ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO = 204,
    /// Configuration: `expiry_workers` is not in 1..=shards (or the threads could not
    /// be started).
    ZKS_CONFIG_BAD_WORKER_COUNT = 205,
    /// Configuration: `expiry_batch` is 0.
    ZKS_CONFIG_BATCH_ZERO = 206,
    /// Configuration: the HMAC secret is shorter than 16 bytes.
    ZKS_CONFIG_SECRET_TOO_SHORT = 207,
    /// Configuration: `password_mode` is neither `ZKS_PASSWORD_HMAC` nor
    /// `ZKS_PASSWORD_ZOOKEEPER`.
    ZKS_CONFIG_BAD_PASSWORD_MODE = 208,
}

use zks_result::*;

/// Every code, in numeric order (for tests and for tools that list them).
pub(crate) const ALL: &[zks_result] = &[
    ZKS_OK,
    ZKS_NULL_PARAMETER,
    ZKS_INVALID_PARAMETER,
    ZKS_INSUFFICIENT_SIZE,
    ZKS_PANIC,
    ZKS_NOT_MANUAL_CLOCK,
    ZKS_UNKNOWN_SESSION,
    ZKS_SESSION_EXPIRED,
    ZKS_SESSION_MOVED,
    ZKS_EPHEMERAL_ON_LOCAL_SESSION,
    ZKS_BAD_ARGUMENTS,
    ZKS_NOT_POLLABLE,
    ZKS_CONFIG_TICK_ZERO,
    ZKS_CONFIG_MIN_TIMEOUT_BELOW_TICK,
    ZKS_CONFIG_MIN_ABOVE_MAX,
    ZKS_CONFIG_SERVER_ID_TOO_LARGE,
    ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO,
    ZKS_CONFIG_BAD_WORKER_COUNT,
    ZKS_CONFIG_BATCH_ZERO,
    ZKS_CONFIG_SECRET_TOO_SHORT,
    ZKS_CONFIG_BAD_PASSWORD_MODE,
];

impl zks_result {
    /// The code whose number is `n`, if there is one.
    pub fn from_u32(n: u32) -> Option<zks_result> {
        ALL.iter().copied().find(|r| *r as u32 == n)
    }

    /// A static, NUL-terminated description.
    pub(crate) const fn message(self) -> &'static str {
        match self {
            ZKS_OK => "ok\0",
            ZKS_NULL_PARAMETER => "a required pointer was NULL\0",
            ZKS_INVALID_PARAMETER => "a parameter is not valid for its type\0",
            ZKS_INSUFFICIENT_SIZE => "the buffer is too small\0",
            ZKS_PANIC => "internal error: the library panicked\0",
            ZKS_NOT_MANUAL_CLOCK => "the engine does not run on a manual clock\0",
            ZKS_UNKNOWN_SESSION => "unknown session\0",
            ZKS_SESSION_EXPIRED => "session expired or closing\0",
            ZKS_SESSION_MOVED => "session moved to another owner\0",
            ZKS_EPHEMERAL_ON_LOCAL_SESSION => {
                "ephemeral nodes need a global session and upgrading local sessions is disabled\0"
            }
            ZKS_BAD_ARGUMENTS => "argument out of range\0",
            ZKS_NOT_POLLABLE => "expirations go to a callback; there is no queue to poll\0",
            ZKS_CONFIG_TICK_ZERO => "tick_ms must be at least 1\0",
            ZKS_CONFIG_MIN_TIMEOUT_BELOW_TICK => {
                "min_session_timeout_ms must be at least tick_ms\0"
            }
            ZKS_CONFIG_MIN_ABOVE_MAX => {
                "min_session_timeout_ms must not exceed max_session_timeout_ms\0"
            }
            ZKS_CONFIG_SERVER_ID_TOO_LARGE => "server_id must be in 0..=254\0",
            ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO => "shards must be a power of two in 1..=65536\0",
            ZKS_CONFIG_BAD_WORKER_COUNT => "expiry_workers must be in 1..=shards\0",
            ZKS_CONFIG_BATCH_ZERO => "expiry_batch must be at least 1\0",
            ZKS_CONFIG_SECRET_TOO_SHORT => "the HMAC password secret must be at least 16 bytes\0",
            ZKS_CONFIG_BAD_PASSWORD_MODE => {
                "password_mode must be ZKS_PASSWORD_HMAC or ZKS_PASSWORD_ZOOKEEPER\0"
            }
        }
    }

    /// The engine error this code stands for, if it stands for one.
    pub const fn engine_error(self) -> Option<Error> {
        match self {
            ZKS_UNKNOWN_SESSION => Some(Error::UnknownSession),
            ZKS_SESSION_EXPIRED => Some(Error::SessionExpired),
            ZKS_SESSION_MOVED => Some(Error::SessionMoved),
            ZKS_EPHEMERAL_ON_LOCAL_SESSION => Some(Error::EphemeralOnLocalSession),
            ZKS_BAD_ARGUMENTS => Some(Error::BadArguments),
            ZKS_NOT_POLLABLE => Some(Error::NotPollable),
            _ => None,
        }
    }

    /// ZooKeeper's `KeeperException.Code` value for this result (see
    /// `zks_result_zookeeper_code`): an engine error's own code
    /// ([`Error::zookeeper_code`]), and for the codes of the C boundary and the
    /// configuration the nearest ZooKeeper code.
    pub const fn zookeeper_code(self) -> i32 {
        if let Some(e) = self.engine_error() {
            return e.zookeeper_code();
        }
        match self {
            ZKS_OK => 0,
            ZKS_NOT_MANUAL_CLOCK => -6,
            ZKS_PANIC => -1,
            _ => -8,
        }
    }
}

impl From<Error> for zks_result {
    fn from(e: Error) -> Self {
        match e {
            Error::UnknownSession => ZKS_UNKNOWN_SESSION,
            Error::SessionExpired => ZKS_SESSION_EXPIRED,
            Error::SessionMoved => ZKS_SESSION_MOVED,
            Error::EphemeralOnLocalSession => ZKS_EPHEMERAL_ON_LOCAL_SESSION,
            Error::BadArguments => ZKS_BAD_ARGUMENTS,
            Error::NotPollable => ZKS_NOT_POLLABLE,
        }
    }
}

impl From<ConfigError> for zks_result {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::TickZero => ZKS_CONFIG_TICK_ZERO,
            ConfigError::MinTimeoutBelowTick { .. } => ZKS_CONFIG_MIN_TIMEOUT_BELOW_TICK,
            ConfigError::MinAboveMax { .. } => ZKS_CONFIG_MIN_ABOVE_MAX,
            ConfigError::ServerIdTooLarge(_) => ZKS_CONFIG_SERVER_ID_TOO_LARGE,
            ConfigError::ShardsNotPowerOfTwo(_) => ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO,
            ConfigError::BadWorkerCount(_) => ZKS_CONFIG_BAD_WORKER_COUNT,
            ConfigError::BatchZero => ZKS_CONFIG_BATCH_ZERO,
            ConfigError::SecretTooShort(_) => ZKS_CONFIG_SECRET_TOO_SHORT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_numbers() {
        let pinned: &[(zks_result, u32)] = &[
            (ZKS_OK, 0),
            (ZKS_NULL_PARAMETER, 1),
            (ZKS_INVALID_PARAMETER, 2),
            (ZKS_INSUFFICIENT_SIZE, 3),
            (ZKS_PANIC, 4),
            (ZKS_NOT_MANUAL_CLOCK, 5),
            (ZKS_UNKNOWN_SESSION, 100),
            (ZKS_SESSION_EXPIRED, 101),
            (ZKS_SESSION_MOVED, 102),
            (ZKS_EPHEMERAL_ON_LOCAL_SESSION, 103),
            (ZKS_BAD_ARGUMENTS, 104),
            (ZKS_NOT_POLLABLE, 105),
            (ZKS_CONFIG_TICK_ZERO, 200),
            (ZKS_CONFIG_MIN_TIMEOUT_BELOW_TICK, 201),
            (ZKS_CONFIG_MIN_ABOVE_MAX, 202),
            (ZKS_CONFIG_SERVER_ID_TOO_LARGE, 203),
            (ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO, 204),
            (ZKS_CONFIG_BAD_WORKER_COUNT, 205),
            (ZKS_CONFIG_BATCH_ZERO, 206),
            (ZKS_CONFIG_SECRET_TOO_SHORT, 207),
            (ZKS_CONFIG_BAD_PASSWORD_MODE, 208),
        ];
        assert_eq!(pinned.len(), ALL.len());
        for &(r, n) in pinned {
            assert_eq!(r as u32, n);
            assert_eq!(zks_result::from_u32(n), Some(r));
        }
    }

    #[test]
    fn engine_errors_map_to_zookeeper_codes() {
        for e in [
            Error::UnknownSession,
            Error::SessionExpired,
            Error::SessionMoved,
            Error::EphemeralOnLocalSession,
            Error::BadArguments,
            Error::NotPollable,
        ] {
            let r = zks_result::from(e);
            assert_eq!(r.engine_error(), Some(e));
            assert_eq!(r.zookeeper_code(), e.zookeeper_code());
        }
        assert_eq!(zks_result::from(Error::NotPollable), ZKS_NOT_POLLABLE);
        assert_eq!(ZKS_UNKNOWN_SESSION.zookeeper_code(), -12);
        assert_eq!(ZKS_NOT_POLLABLE.zookeeper_code(), -6);
        assert_eq!(ZKS_OK.zookeeper_code(), 0);
        assert_eq!(ZKS_PANIC.zookeeper_code(), -1);
        assert_eq!(ZKS_NOT_MANUAL_CLOCK.zookeeper_code(), -6);
        assert_eq!(ZKS_NULL_PARAMETER.zookeeper_code(), -8);
        assert_eq!(ZKS_CONFIG_BATCH_ZERO.zookeeper_code(), -8);
    }

    #[test]
    fn config_errors_map_one_to_one() {
        let all = [
            ConfigError::TickZero,
            ConfigError::MinTimeoutBelowTick {
                min_ms: 1,
                tick_ms: 2,
            },
            ConfigError::MinAboveMax {
                min_ms: 2,
                max_ms: 1,
            },
            ConfigError::ServerIdTooLarge(255),
            ConfigError::ShardsNotPowerOfTwo(3),
            ConfigError::BadWorkerCount(0),
            ConfigError::BatchZero,
            ConfigError::SecretTooShort(1),
        ];
        let codes: std::collections::HashSet<u32> =
            all.iter().map(|&e| zks_result::from(e) as u32).collect();
        assert_eq!(codes.len(), all.len());
        assert!(codes.iter().all(|c| (200..300).contains(c)));
    }
}
