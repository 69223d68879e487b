//! Engine configuration and its validation.
//!
//! Owns: [`Config`] with ZooKeeper's defaults, [`PasswordMode`], timeout negotiation
//! ([`Config::negotiate_timeout`]) and [`Config::validate`].
//!
//! Must never: read files or the environment (the server's `zoo.cfg` parser lives in
//! `server::config` and builds one of these).

use super::error::ConfigError;

/// How session passwords are made and checked.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordMode {
    /// SipHash-2-4 with its 128-bit output (a pseudorandom function made for short
    /// inputs, used here as a MAC) of the big-endian id, keyed by 128 bits derived from a
    /// per-ensemble secret with HMAC-SHA256, verified in constant time: about 20 ns per
    /// password. Every server configured with the same secret can verify a password from
    /// the id alone; nobody without the secret can forge one. The default.
    SipHash {
        /// The shared secret (at least 16 bytes). Embedders that restore sessions across
        /// restarts must configure a stable secret, or reconnects after restart fail.
        secret: Vec<u8>,
    },
    /// HMAC-SHA256 of the big-endian id under a per-ensemble secret, truncated to 16
    /// bytes and verified in constant time (about 150 ns per password). The same
    /// guarantees as [`PasswordMode::SipHash`] with a different function: kept for
    /// ensembles whose other servers make or check HMAC passwords.
    Hmac {
        /// The shared secret (at least 16 bytes). Embedders that restore sessions across
        /// restarts must configure a stable secret, or reconnects after restart fail.
        secret: Vec<u8>,
    },
    /// ZooKeeper's own scheme: 16 bytes of `java.util.Random(id ^ 0xB3415C00)`.
    ///
    /// **Forgeable**: anyone who knows a session id can compute its password. Use it only
    /// in mixed ensembles where Java ZooKeeper servers issue or check passwords.
    ZooKeeperCompatible,
}

impl std::fmt::Debug for PasswordMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordMode::SipHash { secret } => f
                .debug_struct("SipHash")
                .field("secret", &format_args!("<{} bytes>", secret.len()))
                .finish(),
            PasswordMode::Hmac { secret } => f
                .debug_struct("Hmac")
                .field("secret", &format_args!("<{} bytes>", secret.len()))
                .finish(),
            PasswordMode::ZooKeeperCompatible => f.write_str("ZooKeeperCompatible"),
        }
    }
}

/// Engine settings. [`Config::default`] gives ZooKeeper's defaults for a 2000 ms tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Width of an expiry bucket in ms (ZooKeeper's `tickTime`). Default 2000.
    pub tick_ms: u32,
    /// Lower clamp for negotiated timeouts. Default `2 * tick_ms`.
    pub min_session_timeout_ms: u32,
    /// Upper clamp for negotiated timeouts. Default `20 * tick_ms`.
    pub max_session_timeout_ms: u32,
    /// Server id placed in the top byte of every session id (0..=254). Default 1, as in
    /// standalone ZooKeeper.
    pub server_id: u8,
    /// Number of shards (a power of two). Default `4 * cores` rounded up to a power of two.
    pub shards: usize,
    /// Number of expiry worker threads. Default: the number of cores (at most `shards`).
    pub expiry_workers: usize,
    /// Most sessions an expiry worker decides per shard-lock hold, so touches of other
    /// sessions of that shard are not stalled by an expiry storm. Default 1024.
    pub expiry_batch: usize,
    /// Whether new sessions may be local. When false every session is global.
    pub local_sessions: bool,
    /// Whether a local session may be upgraded to a global one.
    pub local_session_upgrade: bool,
    /// How passwords are made.
    pub password_mode: PasswordMode,
    /// How much later (ms) than it asked an expiry worker may wake before the engine takes
    /// it as a stall of its own process (SIGSTOP, a paused VM, swapping) and credits the
    /// time since it last saw itself running to every session's deadline, so the clients
    /// are not expired for the server's absence. 0 disables the credit (ZooKeeper's
    /// behaviour). Default: `tick_ms`, at least 1000. A stall shorter than a tick is
    /// inside the protocol's slack anyway: timeouts are at least two ticks and clients
    /// send a ping every third of one.
    pub stall_threshold_ms: u32,
}

impl Config {
    /// Defaults for the given tick, with a fresh random HMAC secret.
    pub fn with_tick(tick_ms: u32) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let shards = (4 * cores).next_power_of_two().min(65536);
        Config {
            tick_ms,
            min_session_timeout_ms: tick_ms.saturating_mul(2),
            max_session_timeout_ms: tick_ms.saturating_mul(20),
            server_id: 1,
            shards,
            expiry_workers: cores.min(shards),
            expiry_batch: 1024,
            local_sessions: false,
            local_session_upgrade: false,
            password_mode: PasswordMode::SipHash {
                secret: random_secret(),
            },
            stall_threshold_ms: Config::default_stall_threshold_ms(tick_ms),
        }
    }

    /// The default [`Config::stall_threshold_ms`] for a tick: the tick, at least 1000 ms.
    pub const fn default_stall_threshold_ms(tick_ms: u32) -> u32 {
        if tick_ms > 1000 {
            tick_ms
        } else {
            1000
        }
    }

    /// Checks every rule; the error names the first setting at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tick_ms == 0 {
            return Err(ConfigError::TickZero);
        }
        if self.min_session_timeout_ms < self.tick_ms {
            return Err(ConfigError::MinTimeoutBelowTick {
                min_ms: self.min_session_timeout_ms,
                tick_ms: self.tick_ms,
            });
        }
        if self.min_session_timeout_ms > self.max_session_timeout_ms {
            return Err(ConfigError::MinAboveMax {
                min_ms: self.min_session_timeout_ms,
                max_ms: self.max_session_timeout_ms,
            });
        }
        if self.server_id == 255 {
            return Err(ConfigError::ServerIdTooLarge(255));
        }
        if !self.shards.is_power_of_two() || self.shards > 65536 {
            return Err(ConfigError::ShardsNotPowerOfTwo(self.shards));
        }
        if self.expiry_workers == 0 || self.expiry_workers > self.shards {
            return Err(ConfigError::BadWorkerCount(self.expiry_workers));
        }
        if self.expiry_batch == 0 {
            return Err(ConfigError::BatchZero);
        }
        if let PasswordMode::SipHash { secret } | PasswordMode::Hmac { secret } =
            &self.password_mode
        {
            if secret.len() < 16 {
                return Err(ConfigError::SecretTooShort(secret.len()));
            }
        }
        Ok(())
    }

    /// ZooKeeper's negotiation: raise to the minimum first, then lower to the maximum.
    /// Negative requests (a signed wire value) count as 0 and so get the minimum.
    pub fn negotiate_timeout(&self, requested_ms: i64) -> u32 {
        let r = requested_ms.clamp(0, u32::MAX as i64) as u32;
        r.max(self.min_session_timeout_ms)
            .min(self.max_session_timeout_ms)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::with_tick(2000)
    }
}

/// 32 random bytes from the operating system.
pub(crate) fn random_secret() -> Vec<u8> {
    let mut s = vec![0u8; 32];
    // A machine without an entropy source cannot run a secure server at all.
    getrandom::getrandom(&mut s).expect("operating system random source unavailable");
    s
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_zookeeper() {
        let c = Config::default();
        assert_eq!(c.tick_ms, 2000);
        assert_eq!(c.min_session_timeout_ms, 4000);
        assert_eq!(c.max_session_timeout_ms, 40000);
        assert_eq!(c.server_id, 1);
        assert!(c.shards.is_power_of_two());
        assert!(c.expiry_workers >= 1 && c.expiry_workers <= c.shards);
        assert!(!c.local_sessions);
        assert!(
            matches!(c.password_mode, PasswordMode::SipHash { ref secret } if secret.len() == 32)
        );
        assert_eq!(c.stall_threshold_ms, 2000);
        assert_eq!(Config::with_tick(100).stall_threshold_ms, 1000);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn negotiation_clamps_like_zookeeper_session_test() {
        // SessionTest.testSessionTimeoutAccess, tick 3000.
        let c = Config::with_tick(3000);
        assert_eq!(c.negotiate_timeout(12000), 12000);
        assert_eq!(c.negotiate_timeout(3000), 6000);
        assert_eq!(c.negotiate_timeout(90000), 60000);
        assert_eq!(c.negotiate_timeout(-5), 6000);
        // testMinMaxSessionTimeout.
        let c = Config {
            min_session_timeout_ms: 20000,
            max_session_timeout_ms: 240000,
            ..Config::with_tick(3000)
        };
        assert_eq!(c.negotiate_timeout(120000), 120000);
        assert_eq!(c.negotiate_timeout(10000), 20000);
        assert_eq!(c.negotiate_timeout(480000), 240000);
    }

    #[test]
    fn invalid_configs_name_the_setting() {
        let base = Config::default();
        let cases: Vec<(Config, ConfigError)> = vec![
            (
                Config {
                    tick_ms: 0,
                    ..base.clone()
                },
                ConfigError::TickZero,
            ),
            (
                Config {
                    min_session_timeout_ms: 1000,
                    ..base.clone()
                },
                ConfigError::MinTimeoutBelowTick {
                    min_ms: 1000,
                    tick_ms: 2000,
                },
            ),
            (
                Config {
                    min_session_timeout_ms: 50000,
                    ..base.clone()
                },
                ConfigError::MinAboveMax {
                    min_ms: 50000,
                    max_ms: 40000,
                },
            ),
            (
                Config {
                    server_id: 255,
                    ..base.clone()
                },
                ConfigError::ServerIdTooLarge(255),
            ),
            (
                Config {
                    shards: 3,
                    ..base.clone()
                },
                ConfigError::ShardsNotPowerOfTwo(3),
            ),
            (
                Config {
                    shards: 0,
                    ..base.clone()
                },
                ConfigError::ShardsNotPowerOfTwo(0),
            ),
            (
                Config {
                    shards: 2,
                    expiry_workers: 4,
                    ..base.clone()
                },
                ConfigError::BadWorkerCount(4),
            ),
            (
                Config {
                    expiry_workers: 0,
                    ..base.clone()
                },
                ConfigError::BadWorkerCount(0),
            ),
            (
                Config {
                    expiry_batch: 0,
                    ..base.clone()
                },
                ConfigError::BatchZero,
            ),
            (
                Config {
                    password_mode: PasswordMode::Hmac { secret: vec![1; 8] },
                    ..base.clone()
                },
                ConfigError::SecretTooShort(8),
            ),
            (
                Config {
                    password_mode: PasswordMode::SipHash {
                        secret: vec![1; 15],
                    },
                    ..base.clone()
                },
                ConfigError::SecretTooShort(15),
            ),
        ];
        for (cfg, want) in cases {
            assert_eq!(cfg.validate(), Err(want));
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let c = Config {
            password_mode: PasswordMode::Hmac {
                secret: vec![0xAB; 32],
            },
            ..Config::default()
        };
        let s = format!("{c:?}");
        assert!(s.contains("<32 bytes>"));
        assert!(!s.contains("171"));
    }
}
