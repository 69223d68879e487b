//! The engine handle: making, freeing and driving an engine from C.
//!
//! Owns: [`zks_engine_new`],
//! [`zks_engine_new_manual`], [`zks_engine_free`], [`zks_engine_config`], the clock
//! functions ([`zks_now_ms`], [`zks_advance_clock`]) and [`zks_negotiate_timeout`].
//!
//! Must never: hand C a pointer it did not get from `Box::into_raw`, or free a handle
//! twice on its own (the C caller owns the handle and frees it once).

use super::callback::CallbackSink;
use super::config::zks_config;
use super::guard::{arg, out};
use super::handle::zks_engine;
use super::result::zks_result;
use crate::engine::{Engine, ManualClock};
use crate::sync::Mutex;
use std::sync::Arc;

/// Builds the handle for `config`, on `clock` if given (then without workers).
///
/// # Safety
/// `config` must be NULL or a readable `zks_config` whose `secret` covers `secret_len`.
unsafe fn build(
    config: *const zks_config,
    clock: Option<Arc<ManualClock>>,
    out_engine: *mut *mut zks_engine,
) -> Result<(), zks_result> {
    // SAFETY: per this function's contract.
    let (c, out_engine) = unsafe { (arg(config)?, out(out_engine)?) };
    // SAFETY: `c.secret` covers `c.secret_len` bytes (caller's contract).
    let cfg = unsafe { c.to_engine() }?;
    let mut b = Engine::builder(cfg);
    if let Some(f) = c.on_expired {
        b = b.expirer(CallbackSink::new(f, c.userdata));
    }
    if let Some(clock) = &clock {
        b = b.clock(clock.clone()).workers(false);
    }
    let engine = b.build()?;
    let config = zks_config {
        on_expired: c.on_expired,
        userdata: c.userdata,
        ..zks_config::from_engine(engine.config())
    };
    out_engine.set(Box::into_raw(Box::new(zks_engine {
        engine,
        clock,
        config,
        touches: Mutex::new(Vec::new()),
    })));
    Ok(())
}

/// Makes an engine on the real monotonic clock, with its expiry workers running, and
/// stores it in `*out_engine`. Expirations go to `config->on_expired` if set, otherwise
/// to the queue read by `zks_poll_expired`.
///
/// Errors: `ZKS_NULL_PARAMETER` (`config` or `out_engine` NULL, or `secret` NULL with a
/// non-zero `secret_len`), a `ZKS_CONFIG_*` code naming the refused setting.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `config` must be NULL or a readable `zks_config` whose `secret` (if `secret_len > 0`)
/// points to `secret_len` readable bytes; `out_engine` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_engine_new(
    config: *const zks_config,
    out_engine: *mut *mut zks_engine,
) -> zks_result {
    ffi_fn!(|| {
        // SAFETY: the contracts are the same.
        unsafe { build(config, None, out_engine) }
    })
}

/// Makes an engine on a manual clock reading `start_ms`, with no expiry workers: time
/// moves only by `zks_advance_clock`, and expiry happens only in `zks_expire_due`. For
/// deterministic tests and simulations.
///
/// Errors: as `zks_engine_new`.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// As `zks_engine_new`.
#[no_mangle]
pub unsafe extern "C" fn zks_engine_new_manual(
    config: *const zks_config,
    start_ms: u64,
    out_engine: *mut *mut zks_engine,
) -> zks_result {
    ffi_fn!(|| {
        let clock = Arc::new(ManualClock::new(start_ms));
        // SAFETY: the contracts are the same.
        unsafe { build(config, Some(clock), out_engine) }
    })
}

/// Stops the engine's expiry workers (each finishes its current batch, including a
/// running callback) and frees the engine. `NULL` is a no-op.
///
/// Thread safety: must not race any other call on this engine, and must not be called
/// from its expiry callback.
///
/// # Safety
/// `engine` must be NULL or a handle from `zks_engine_new*` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn zks_engine_free(engine: *mut zks_engine) {
    ffi_fn!(on_panic = (), || {
        if !engine.is_null() {
            // SAFETY: a live handle made by `Box::into_raw`, freed once (caller's contract).
            drop(unsafe { Box::from_raw(engine) });
        }
    })
}

/// Writes the configuration the engine runs with to `*out_config`: the validated
/// values, `secret` NULL and `secret_len` 0 (the secret is never handed out), and the
/// `on_expired`/`userdata` it was made with.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `engine` must be NULL or live; `out_config` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_engine_config(
    engine: *const zks_engine,
    out_config: *mut zks_config,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_config = unsafe { out(out_config) }?;
        out_config.set(e.config);
        Ok(())
    })
}

/// Writes the engine clock's reading (ms; monotonic, arbitrary origin) to `*out_ms`.
/// Session deadlines in `zks_expiry_map` are on this clock.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `engine` must be NULL or live; `out_ms` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_now_ms(engine: *const zks_engine, out_ms: *mut u64) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_ms = unsafe { out(out_ms) }?;
        out_ms.set(e.engine.now_ms());
        Ok(())
    })
}

/// Moves a manual engine's clock forward by `ms`. Nothing expires until
/// `zks_expire_due` is called.
///
/// Errors: `ZKS_NULL_PARAMETER`; `ZKS_NOT_MANUAL_CLOCK` (engine made by
/// `zks_engine_new`); `ZKS_INVALID_PARAMETER` (the clock would pass 2^63 ms).
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_advance_clock(engine: *const zks_engine, ms: u64) -> zks_result {
    ffi_fn!(engine => |e| {
        let clock = e.clock.as_ref().ok_or(zks_result::ZKS_NOT_MANUAL_CLOCK)?;
        match e.engine.now_ms().checked_add(ms) {
            Some(t) if t <= 1 << 63 => {
                clock.advance(ms);
                Ok(())
            }
            _ => Err(zks_result::ZKS_INVALID_PARAMETER),
        }
    })
}

/// Writes the timeout (ms) a session requesting `requested_ms` would get: ZooKeeper's
/// negotiation, clamped to `[min_session_timeout_ms, max_session_timeout_ms]`; negative
/// requests get the minimum.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `engine` must be NULL or live; `out_timeout_ms` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_negotiate_timeout(
    engine: *const zks_engine,
    requested_ms: i64,
    out_timeout_ms: *mut u32,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_timeout_ms = unsafe { out(out_timeout_ms) }?;
        out_timeout_ms.set(e.engine.negotiate_timeout(requested_ms));
        Ok(())
    })
}
