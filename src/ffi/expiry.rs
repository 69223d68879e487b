//! How expired sessions reach C: a blocking poll, or a callback from the expiry workers.
//!
//! Owns: [`zks_expired_cb`] and the sink that calls it ([`CallbackSink`]),
//! [`zks_poll_expired`] and [`zks_expire_due`].
//!
//! Must never: call the C callback with an engine lock held (the engine guarantees sinks
//! run unlocked), let a panic of the glue around the callback unwind, or drop an expired
//! id between the engine's decision and C.

use super::engine::{handle, zks_engine};
use super::guard::{boundary, buffer, fill, guard, out};
use super::result::zks_result;
use crate::engine::{Expired, Expirer};
use std::os::raw::c_void;
use std::time::Duration;

/// Receives a batch of expired session ids: `ids[0..n]`, each now closing.
///
/// `userdata` is the config's `userdata`. `ids` is valid only during the call.
///
/// Which thread: one of the engine's expiry worker threads (named `zks-expiry-N`), or the
/// thread calling `zks_expire_due` (always so for `zks_engine_new_manual` engines).
/// Different workers may call it concurrently for different sessions, so `userdata`
/// must be safe to use from several threads. Each expired session is reported exactly
/// once.
///
/// What it may call: any engine function on the same engine (`zks_remove`,
/// `zks_touch`, `zks_counts`, ...), since no engine lock is held during the call. It
/// must not call `zks_engine_free` on its engine (the free would wait for the very
/// worker running the callback), and it should return promptly: a slow callback delays
/// the next batch of its worker.
#[allow(non_camel_case_types)]
pub type zks_expired_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, ids: *const u64, n: usize)>;

/// The C callback and its userdata, delivered to by the engine's workers.
pub(crate) struct CallbackSink {
    f: unsafe extern "C" fn(*mut c_void, *const u64, usize),
    userdata: *mut c_void,
}

// SAFETY: the C caller is told (on `zks_expired_cb`) that the callback is invoked from
// worker threads, possibly concurrently, and must make `userdata` safe for that.
unsafe impl Send for CallbackSink {}
// SAFETY: as above; the sink itself is never mutated after construction.
unsafe impl Sync for CallbackSink {}

impl CallbackSink {
    /// A sink calling `f(userdata, ...)`.
    pub(crate) fn new(
        f: unsafe extern "C" fn(*mut c_void, *const u64, usize),
        userdata: *mut c_void,
    ) -> Self {
        CallbackSink { f, userdata }
    }
}

impl Expirer for CallbackSink {
    fn expired(&self, sessions: &[Expired]) {
        // The glue runs on an engine worker: guard it so no panic of ours ends the worker.
        boundary((), || {
            let ids: Vec<u64> = sessions.iter().map(|e| e.id).collect();
            // SAFETY: `ids` is a live buffer of `ids.len()` u64s for the whole call, and
            // the callback's contract (see `zks_expired_cb`) allows this thread.
            unsafe { (self.f)(self.userdata, ids.as_ptr(), ids.len()) }
        })
    }
}

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
    guard(|| {
        // SAFETY: per this function's contract.
        let (engine, out_n) = unsafe { (handle(engine)?, out(out_n)?) };
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
    guard(|| {
        // SAFETY: per this function's contract.
        let (engine, out_n) = unsafe { (handle(engine)?, out(out_n)?) };
        out_n.set(engine.engine().expire_due());
        Ok(())
    })
}
