//! The ensemble's calls from C: what a learner and a leader need beyond a standalone
//! server's session tracking.
//!
//! Owns: [`zks_session_state`] and [`zks_kind_any`], [`zks_next_id`], remote entries
//! ([`zks_add_remote`], [`zks_upgrade_to_remote`]), the learner's touch table
//! ([`zks_learner_touch`], [`zks_record_touch`], [`zks_drain_touched`] with
//! [`zks_touch_record`]), and [`zks_make_global`].
//!
//! Must never: lose a drained touch (records that do not fit the caller's buffer are kept
//! in the handle for the next call), or write an output on failure.

use super::guard::{buffer, fill, out};
use super::handle::zks_engine;
use super::result::zks_result;
use super::session::{kind_to_c, zks_session_kind};
use crate::engine::LearnerTouch;

/// What the engine knows of a tracked session, closing ones included (`zks_kind_any`).
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct zks_session_state {
    /// `ZKS_SESSION_GLOBAL` or `ZKS_SESSION_LOCAL`; a remote entry is global.
    pub kind: zks_session_kind,
    /// Whether it is a remote entry: a global session tracked here but decided by another
    /// server, never expiring here.
    pub remote: bool,
    /// Whether it is closing (expiry decided or closed, not yet removed).
    pub closing: bool,
}

/// Where a learner's touch went: `ZKS_TOUCH_LOCAL` or `ZKS_TOUCH_FORWARDED`.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
pub type zks_touch_route = u32;

/// The session expires on this server: its deadline was refreshed here.
pub const ZKS_TOUCH_LOCAL: zks_touch_route = 0;

/// The session is a remote entry: the touch was recorded for `zks_drain_touched`.
pub const ZKS_TOUCH_FORWARDED: zks_touch_route = 1;

/// One recorded touch, as `zks_drain_touched` hands it out.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct zks_touch_record {
    /// The session id.
    pub id: u64,
    /// The timeout of its last recorded touch, in ms.
    pub timeout_ms: u32,
}

/// Writes what the engine knows of session `id`, closing or not, to `*out_state`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_state` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_kind_any(
    engine: *const zks_engine,
    id: u64,
    out_state: *mut zks_session_state,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_state = unsafe { out(out_state) }?;
        let s = e.engine().kind_any(id)?;
        out_state.set(zks_session_state {
            kind: kind_to_c(s.kind),
            remote: s.remote,
            closing: s.closing,
        });
        Ok(())
    })
}

/// Writes a fresh session id to `*out_id`: from the generator `zks_create` uses (the
/// server id in the top byte, never reused, tracked ids skipped), tracked nowhere. For an
/// embedder that tracks the session elsewhere.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently; each call gets another id.
///
/// # Safety
/// `engine` must be NULL or live; `out_id` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_next_id(engine: *const zks_engine, out_id: *mut u64) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_id = unsafe { out(out_id) }?;
        out_id.set(e.engine().next_id());
        Ok(())
    })
}

/// Tracks a remote entry: a global session another server decides. It is never filed for
/// expiry and never expires here; its touches go to the touch table
/// (`zks_learner_touch`). `*out_added` is true if newly tracked, false if the id was
/// already tracked (then nothing changed).
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_BAD_ARGUMENTS` (id or timeout 0).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_added` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_add_remote(
    engine: *const zks_engine,
    id: u64,
    timeout_ms: u32,
    out_added: *mut bool,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_added = unsafe { out(out_added) }?;
        out_added.set(e.engine().add_remote(id, timeout_ms)?);
        Ok(())
    })
}

/// Atomically turns a live local session into a remote entry (a learner's upgrade): it
/// never expires here from then on. Writes its timeout to `*out_timeout_ms`. Idempotent on
/// remote entries and global sessions. Not gated by `local_session_upgrade`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`, `ZKS_SESSION_EXPIRED` (closing:
/// an upgrade racing expiry loses cleanly).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_timeout_ms` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_upgrade_to_remote(
    engine: *const zks_engine,
    id: u64,
    out_timeout_ms: *mut u32,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_timeout_ms = unsafe { out(out_timeout_ms) }?;
        out_timeout_ms.set(e.engine().upgrade_to_remote(id)?);
        Ok(())
    })
}

/// A learner's touch, under one shard lock: a session expiring here has its deadline
/// refreshed with `timeout_ms` (`ZKS_TOUCH_LOCAL`); a remote entry has `(id, timeout_ms)`
/// recorded for `zks_drain_touched` (`ZKS_TOUCH_FORWARDED`). Either way `timeout_ms`
/// becomes its timeout. Writes which to `*out_touch`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`, `ZKS_SESSION_EXPIRED` (closing),
/// `ZKS_BAD_ARGUMENTS` (timeout 0).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_touch` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_learner_touch(
    engine: *const zks_engine,
    id: u64,
    timeout_ms: u32,
    out_touch: *mut zks_touch_route,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_touch = unsafe { out(out_touch) }?;
        out_touch.set(match e.engine().learner_touch(id, timeout_ms)? {
            LearnerTouch::Local => ZKS_TOUCH_LOCAL,
            LearnerTouch::Forwarded => ZKS_TOUCH_FORWARDED,
        });
        Ok(())
    })
}

/// Records a touch of `id` with `timeout_ms` for `zks_drain_touched`, unconditionally
/// (for ids the embedder knows are global, tracked here or not). A later record of the
/// same id before a drain replaces the timeout.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_record_touch(
    engine: *const zks_engine,
    id: u64,
    timeout_ms: u32,
) -> zks_result {
    ffi_fn!(engine => |e| {
        e.engine().record_touch(id, timeout_ms);
        Ok(())
    })
}

/// Takes recorded touches into `records[0..cap]`; `*out_n` is how many were written. Each
/// call takes every touch recorded so far: at most one record per id, with the last
/// timeout recorded. Records that do not fit stay with the engine handle and come first in
/// the next call, so none is lost: while `*out_n == cap`, call again. A touch recorded
/// concurrently comes in this call or a later one, never in none.
///
/// Errors: `ZKS_NULL_PARAMETER` (`engine`, `records` or `out_n` NULL),
/// `ZKS_INVALID_PARAMETER` (`cap` is 0).
///
/// Thread safety: callable from any thread; concurrent drains each take different records.
///
/// # Safety
/// `engine` must be NULL or live; `records` must be NULL or hold `cap` writable
/// `zks_touch_record`s; `out_n` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_drain_touched(
    engine: *const zks_engine,
    records: *mut zks_touch_record,
    cap: usize,
    out_n: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (buf, out_n) = unsafe { (buffer(records, cap)?, out(out_n)?) };
        if records.is_null() {
            return Err(zks_result::ZKS_NULL_PARAMETER);
        }
        if cap == 0 {
            return Err(zks_result::ZKS_INVALID_PARAMETER);
        }
        let taken = e.take_touches(cap);
        fill(
            buf,
            taken
                .iter()
                .map(|&(id, timeout_ms)| zks_touch_record { id, timeout_ms }),
        );
        out_n.set(taken.len());
        Ok(())
    })
}

/// Makes a local session or a remote entry global without refreshing its deadline (the
/// leader's `commitSession`): a remote entry is filed for expiry at its stored deadline,
/// or one timeout from now if it has none. Writes its timeout to `*out_timeout_ms`.
/// Idempotent on global sessions; not gated by `local_session_upgrade`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`, `ZKS_SESSION_EXPIRED` (closing).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_timeout_ms` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_make_global(
    engine: *const zks_engine,
    id: u64,
    out_timeout_ms: *mut u32,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_timeout_ms = unsafe { out(out_timeout_ms) }?;
        out_timeout_ms.set(e.engine().make_global(id)?);
        Ok(())
    })
}
