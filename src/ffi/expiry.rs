//! How expired sessions reach C through a queue: a blocking poll, and the manual drive
//! of expiry.
//!
//! Owns: [`zks_poll_expired`], [`zks_poll_expired_records`] (with [`zks_expired`]),
//! [`zks_expire_due`], and stopping the expiry workers ([`zks_stop_workers`],
//! [`zks_workers_stopped`]). The callback form lives in `callback`.
//!
//! Must never: drop an expired id between the engine's decision and C, or write more
//! than `cap` records.

use super::guard::{buffer, fill, out};
use super::handle::zks_engine;
use super::result::zks_result;
use super::session::{kind_to_c, zks_session_kind};
use std::time::Duration;

/// Pops up to `cap` expired session ids into `ids`, waiting up to `wait_ms` for the first
/// one (0: do not wait). On success `*out_n` is how many were written (0 on timeout).
/// Each expired session is returned exactly once; it is closing, and the caller removes
/// it with `zks_remove` once its cleanup is done.
///
/// Errors: `ZKS_NULL_PARAMETER` (`engine`, `ids` or `out_n` NULL),
/// `ZKS_INVALID_PARAMETER` (`cap` is 0), `ZKS_NOT_POLLABLE` (the engine was given a
/// callback).
///
/// Thread safety: callable from any thread, concurrently; each id goes to one caller.
/// Do not free the engine while a poll may be waiting: bound the wait and check your own
/// stop flag between polls.
///
/// # Safety
/// `engine` must be NULL or a live engine; `ids` must be NULL or hold `cap` writable
/// `uint64_t`s; `out_n` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_poll_expired(
    engine: *const zks_engine,
    ids: *mut u64,
    cap: usize,
    wait_ms: u32,
    out_n: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |engine| {
        // SAFETY: per this function's contract.
        let out_n = unsafe { out(out_n) }?;
        if ids.is_null() {
            return Err(zks_result::ZKS_NULL_PARAMETER);
        }
        if cap == 0 {
            return Err(zks_result::ZKS_INVALID_PARAMETER);
        }
        // SAFETY: `ids` is non-NULL and holds `cap` writable u64s.
        let buf = unsafe { buffer(ids, cap) }?;
        let got = engine
            .engine()
            .poll_expired(cap, Duration::from_millis(wait_ms as u64))?;
        fill(buf, got.iter().map(|e| e.id));
        out_n.set(got.len());
        Ok(())
    })
}

/// Decides every expiry due by the engine's clock now, delivering them (to the queue or
/// the callback, on this thread) before returning; `*out_n` is how many expired. The
/// workers do this on their own; engines made by `zks_engine_new_manual` have none, so
/// tests advance the clock with `zks_advance_clock` and then call this.
///
/// Errors: `ZKS_NULL_PARAMETER` (`engine` or `out_n` NULL).
///
/// Thread safety: callable from any thread, concurrently with every other call.
///
/// # Safety
/// `engine` must be NULL or a live engine; `out_n` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_expire_due(
    engine: *const zks_engine,
    out_n: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |engine| {
        // SAFETY: per this function's contract.
        let out_n = unsafe { out(out_n) }?;
        out_n.set(engine.engine().expire_due());
        Ok(())
    })
}

/// One expired session, as `zks_poll_expired_records` hands it out.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct zks_expired {
    /// The session id.
    pub id: u64,
    /// Its timeout in ms at its last touch.
    pub timeout_ms: u32,
    /// `ZKS_SESSION_GLOBAL` or `ZKS_SESSION_LOCAL`.
    pub kind: zks_session_kind,
    /// The tick boundary (engine clock, ms) at which it was due.
    pub deadline_ms: u64,
}

/// [`zks_poll_expired`] with a record per session: its id, timeout, kind and deadline.
/// Pops up to `cap` expired sessions into `records`, waiting up to `wait_ms` for the first
/// one (0: do not wait); `*out_n` is how many were written.
///
/// Errors: `ZKS_NULL_PARAMETER` (`engine`, `records` or `out_n` NULL),
/// `ZKS_INVALID_PARAMETER` (`cap` is 0), `ZKS_NOT_POLLABLE` (the engine was given a
/// callback).
///
/// Thread safety: as `zks_poll_expired`.
///
/// # Safety
/// `engine` must be NULL or a live engine; `records` must be NULL or hold `cap` writable
/// `zks_expired`s; `out_n` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_poll_expired_records(
    engine: *const zks_engine,
    records: *mut zks_expired,
    cap: usize,
    wait_ms: u32,
    out_n: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |engine| {
        // SAFETY: per this function's contract.
        let out_n = unsafe { out(out_n) }?;
        if records.is_null() {
            return Err(zks_result::ZKS_NULL_PARAMETER);
        }
        if cap == 0 {
            return Err(zks_result::ZKS_INVALID_PARAMETER);
        }
        // SAFETY: `records` is non-NULL and holds `cap` writable records.
        let buf = unsafe { buffer(records, cap) }?;
        let got = engine
            .engine()
            .poll_expired(cap, Duration::from_millis(wait_ms as u64))?;
        fill(
            buf,
            got.iter().map(|x| zks_expired {
                id: x.id,
                timeout_ms: x.timeout_ms,
                kind: kind_to_c(x.kind),
                deadline_ms: x.deadline_ms,
            }),
        );
        out_n.set(got.len());
        Ok(())
    })
}

/// Stops the engine's expiry workers and joins them (each finishes its current batch),
/// and wakes every `zks_poll_expired*` waiter: polls return at once from then on, with
/// what is queued. Idempotent; every other call stays valid, and expiry then happens only
/// through `zks_expire_due`. `zks_engine_free` does this itself.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, including the engine's expiry callback (that
/// worker is then not joined; it exits after its batch).
///
/// # Safety
/// `engine` must be NULL or a live engine.
#[no_mangle]
pub unsafe extern "C" fn zks_stop_workers(engine: *const zks_engine) -> zks_result {
    ffi_fn!(engine => |engine| {
        engine.engine().stop_workers();
        Ok(())
    })
}

/// Writes whether `zks_stop_workers` has run on this engine to `*out_stopped` (so a
/// polling thread can tell an empty poll from a stopped engine).
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread.
///
/// # Safety
/// `engine` must be NULL or a live engine; `out_stopped` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_workers_stopped(
    engine: *const zks_engine,
    out_stopped: *mut bool,
) -> zks_result {
    ffi_fn!(engine => |engine| {
        // SAFETY: per this function's contract.
        let out_stopped = unsafe { out(out_stopped) }?;
        out_stopped.set(engine.engine().workers_stopped());
        Ok(())
    })
}
