//! The C form of the engine configuration.
//!
//! Owns: [`zks_config`], the password-mode constants, [`zks_config_default`],
//! [`zks_config_default_for_tick`], and the translation of a `zks_config` into the
//! engine's [`Config`] (copying the secret, so the caller's buffer is not kept).
//!
//! Must never: keep a pointer into the caller's config after the call returns, or accept
//! a value the engine's own validation would refuse.

use super::callback::zks_expired_cb;
use super::guard::{out, slice};
use super::result::zks_result;
use crate::engine::{Config, PasswordMode};
use std::os::raw::c_void;

/// How session passwords are made: one of `ZKS_PASSWORD_HMAC` or
/// `ZKS_PASSWORD_ZOOKEEPER`. A plain integer, so an out-of-range value is reported as
/// `ZKS_CONFIG_BAD_PASSWORD_MODE`.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
pub type zks_password_mode = u32;

/// Passwords are HMAC-SHA256 of the id under a secret (at least 16 bytes), verified in
/// constant time. The default. Unforgeable without the secret.
pub const ZKS_PASSWORD_HMAC: zks_password_mode = 0;

/// ZooKeeper's own scheme (`java.util.Random(id ^ 0xB3415C00)`). Forgeable by anyone who
/// knows an id: use only in mixed ensembles with Java ZooKeeper servers.
pub const ZKS_PASSWORD_ZOOKEEPER: zks_password_mode = 1;

/// Engine settings. Fill it with [`zks_config_default`] first, then change fields.
///
/// The secret is copied by `zks_engine_new`; the caller may free it afterwards.
///
/// Thread safety: a plain value; the library never keeps a pointer to it.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zks_config {
    /// Width of an expiry bucket in ms (ZooKeeper's `tickTime`). Default 2000.
    pub tick_ms: u32,
    /// Lower clamp for negotiated timeouts (at least `tick_ms`). Default `2 * tick_ms`.
    pub min_session_timeout_ms: u32,
    /// Upper clamp for negotiated timeouts. Default `20 * tick_ms`.
    pub max_session_timeout_ms: u32,
    /// Server id placed in the top byte of every session id, 0..=254. Default 1.
    pub server_id: u32,
    /// Number of shards, a power of two in 1..=65536. Default `4 * cores`, rounded up.
    pub shards: usize,
    /// Number of expiry worker threads, 1..=shards. Default: the number of cores.
    /// Engines made by `zks_engine_new_manual` start none.
    pub expiry_workers: usize,
    /// Most sessions a worker decides per shard-lock hold. Default 1024.
    pub expiry_batch: usize,
    /// Whether new sessions may be local. Default false (every session is global).
    pub local_sessions: bool,
    /// Whether a local session may be upgraded to global. Default false.
    pub local_session_upgrade: bool,
    /// `ZKS_PASSWORD_HMAC` (default) or `ZKS_PASSWORD_ZOOKEEPER`.
    pub password_mode: zks_password_mode,
    /// The HMAC secret (copied), or NULL with `secret_len` 0 for a fresh random secret.
    /// Embedders that restore sessions across restarts need a stable secret, or
    /// reconnects after a restart fail. Ignored in ZooKeeper mode.
    pub secret: *const u8,
    /// Length of `secret` in bytes: 0, or at least 16.
    pub secret_len: usize,
    /// Called with each batch of expired session ids, or NULL (the default) to queue
    /// them for `zks_poll_expired`. See `zks_expired_cb` for the threading rules.
    pub on_expired: zks_expired_cb,
    /// Passed as the first argument of every `on_expired` call. Default NULL.
    pub userdata: *mut c_void,
}

impl zks_config {
    /// The C form of `config` (no secret, no callback).
    pub(crate) fn from_engine(config: &Config) -> Self {
        zks_config {
            tick_ms: config.tick_ms,
            min_session_timeout_ms: config.min_session_timeout_ms,
            max_session_timeout_ms: config.max_session_timeout_ms,
            server_id: config.server_id as u32,
            shards: config.shards,
            expiry_workers: config.expiry_workers,
            expiry_batch: config.expiry_batch,
            local_sessions: config.local_sessions,
            local_session_upgrade: config.local_session_upgrade,
            password_mode: match config.password_mode {
                // Keyed passwords; without a secret the engine's default keyed MAC.
                PasswordMode::SipHash { .. } | PasswordMode::Hmac { .. } => ZKS_PASSWORD_HMAC,
                PasswordMode::ZooKeeperCompatible => ZKS_PASSWORD_ZOOKEEPER,
            },
            secret: std::ptr::null(),
            secret_len: 0,
            on_expired: None,
            userdata: std::ptr::null_mut(),
        }
    }

    /// The engine configuration this describes. Validation beyond what the C types need
    /// is left to the engine (so each refusal has its `ZKS_CONFIG_*` code).
    ///
    /// # Safety
    /// `secret` must be NULL or point to `secret_len` readable bytes.
    pub(crate) unsafe fn to_engine(self) -> Result<Config, zks_result> {
        let server_id = u8::try_from(self.server_id)
            .ok()
            .filter(|&id| id != 255)
            .ok_or(zks_result::ZKS_CONFIG_SERVER_ID_TOO_LARGE)?;
        let password_mode = match self.password_mode {
            ZKS_PASSWORD_HMAC => {
                // SAFETY: the caller guarantees `secret` covers `secret_len` bytes.
                let secret = unsafe { slice(self.secret, self.secret_len) }?;
                if secret.is_empty() {
                    // A fresh random secret, as the engine's defaults make one.
                    Config::with_tick(1).password_mode
                } else {
                    PasswordMode::Hmac {
                        secret: secret.to_vec(),
                    }
                }
            }
            ZKS_PASSWORD_ZOOKEEPER => PasswordMode::ZooKeeperCompatible,
            _ => return Err(zks_result::ZKS_CONFIG_BAD_PASSWORD_MODE),
        };
        let config = Config {
            tick_ms: self.tick_ms,
            min_session_timeout_ms: self.min_session_timeout_ms,
            max_session_timeout_ms: self.max_session_timeout_ms,
            server_id,
            shards: self.shards,
            expiry_workers: self.expiry_workers,
            expiry_batch: self.expiry_batch,
            local_sessions: self.local_sessions,
            local_session_upgrade: self.local_session_upgrade,
            password_mode,
            stall_threshold_ms: Config::default_stall_threshold_ms(self.tick_ms),
        };
        config.validate()?;
        Ok(config)
    }
}

/// Fills `*out_config` with ZooKeeper's defaults for a 2000 ms tick (see each field of
/// `zks_config`), HMAC passwords with a random secret, and no callback.
///
/// Errors: `ZKS_NULL_PARAMETER` if `out_config` is NULL.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `out_config` must be NULL or point to a writable `zks_config`.
#[no_mangle]
pub unsafe extern "C" fn zks_config_default(out_config: *mut zks_config) -> zks_result {
    ffi_fn!(|| {
        // SAFETY: the caller guarantees `out_config` is NULL or writable.
        let out_config = unsafe { out(out_config) }?;
        out_config.set(zks_config::from_engine(&Config::default()));
        Ok(())
    })
}

/// Fills `*out_config` with the defaults for a tick of `tick_ms` (minimum timeout `2 * tick_ms`,
/// maximum `20 * tick_ms`), like [`zks_config_default`].
///
/// Errors: `ZKS_NULL_PARAMETER` if `out_config` is NULL; `ZKS_CONFIG_TICK_ZERO` if `tick_ms`
/// is 0.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `out_config` must be NULL or point to a writable `zks_config`.
#[no_mangle]
pub unsafe extern "C" fn zks_config_default_for_tick(
    tick_ms: u32,
    out_config: *mut zks_config,
) -> zks_result {
    ffi_fn!(|| {
        // SAFETY: the caller guarantees `out_config` is NULL or writable.
        let out_config = unsafe { out(out_config) }?;
        if tick_ms == 0 {
            return Err(zks_result::ZKS_CONFIG_TICK_ZERO);
        }
        out_config.set(zks_config::from_engine(&Config::with_tick(tick_ms)));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::MaybeUninit;

    fn defaults() -> zks_config {
        let mut c = MaybeUninit::<zks_config>::uninit();
        // SAFETY: `c` is writable; on ZKS_OK it is initialised.
        unsafe {
            assert_eq!(zks_config_default(c.as_mut_ptr()), zks_result::ZKS_OK);
            c.assume_init()
        }
    }

    #[test]
    fn default_config_matches_the_engine_defaults() {
        let c = defaults();
        assert_eq!(
            (
                c.tick_ms,
                c.min_session_timeout_ms,
                c.max_session_timeout_ms
            ),
            (2000, 4000, 40000)
        );
        assert_eq!(c.server_id, 1);
        assert_eq!(c.password_mode, ZKS_PASSWORD_HMAC);
        assert!(c.secret.is_null() && c.secret_len == 0);
        assert!(c.on_expired.is_none() && c.userdata.is_null());
        // SAFETY: no secret pointer.
        let e = unsafe { c.to_engine() }.unwrap();
        assert!(
            matches!(e.password_mode, PasswordMode::SipHash { ref secret } if secret.len() == 32)
        );
    }

    #[test]
    fn default_for_tick_scales_the_clamps() {
        let mut c = MaybeUninit::<zks_config>::uninit();
        // SAFETY: `c` is writable.
        let c = unsafe {
            assert_eq!(
                zks_config_default_for_tick(50, c.as_mut_ptr()),
                zks_result::ZKS_OK
            );
            c.assume_init()
        };
        assert_eq!(
            (
                c.tick_ms,
                c.min_session_timeout_ms,
                c.max_session_timeout_ms
            ),
            (50, 100, 1000)
        );
    }

    #[test]
    fn default_refuses_null_and_zero_tick() {
        // SAFETY: NULL is an accepted input.
        unsafe {
            assert_eq!(
                zks_config_default(std::ptr::null_mut()),
                zks_result::ZKS_NULL_PARAMETER
            );
            assert_eq!(
                zks_config_default_for_tick(10, std::ptr::null_mut()),
                zks_result::ZKS_NULL_PARAMETER
            );
            let mut c = defaults();
            assert_eq!(
                zks_config_default_for_tick(0, &mut c),
                zks_result::ZKS_CONFIG_TICK_ZERO
            );
        }
    }

    #[test]
    fn bad_c_values_get_their_codes() {
        let base = defaults();
        let cases = [
            (
                zks_config {
                    server_id: 255,
                    ..base
                },
                zks_result::ZKS_CONFIG_SERVER_ID_TOO_LARGE,
            ),
            (
                zks_config {
                    server_id: 70000,
                    ..base
                },
                zks_result::ZKS_CONFIG_SERVER_ID_TOO_LARGE,
            ),
            (
                zks_config {
                    password_mode: 7,
                    ..base
                },
                zks_result::ZKS_CONFIG_BAD_PASSWORD_MODE,
            ),
            (
                zks_config {
                    secret_len: 16,
                    ..base
                },
                zks_result::ZKS_NULL_PARAMETER,
            ),
            (
                zks_config { shards: 3, ..base },
                zks_result::ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO,
            ),
            (
                zks_config { tick_ms: 0, ..base },
                zks_result::ZKS_CONFIG_TICK_ZERO,
            ),
        ];
        for (c, want) in cases {
            // SAFETY: the secret pointers are NULL.
            assert_eq!(unsafe { c.to_engine() }.err(), Some(want));
        }
        let short = [1u8; 8];
        let c = zks_config {
            secret: short.as_ptr(),
            secret_len: 8,
            ..base
        };
        // SAFETY: `secret` covers `secret_len` bytes.
        assert_eq!(
            unsafe { c.to_engine() }.err(),
            Some(zks_result::ZKS_CONFIG_SECRET_TOO_SHORT)
        );
    }

    #[test]
    fn secret_is_copied_and_zookeeper_mode_ignores_it() {
        let base = defaults();
        let secret = vec![9u8; 20];
        let c = zks_config {
            secret: secret.as_ptr(),
            secret_len: 20,
            ..base
        };
        // SAFETY: `secret` covers `secret_len` bytes.
        let e = unsafe { c.to_engine() }.unwrap();
        drop(secret);
        assert_eq!(
            e.password_mode,
            PasswordMode::Hmac {
                secret: vec![9; 20]
            }
        );
        let z = zks_config {
            password_mode: ZKS_PASSWORD_ZOOKEEPER,
            secret_len: 3,
            ..base
        };
        // SAFETY: ZooKeeper mode never reads the secret.
        assert_eq!(
            unsafe { z.to_engine() }.unwrap().password_mode,
            PasswordMode::ZooKeeperCompatible
        );
    }
}
