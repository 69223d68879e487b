//! The C expiry callback and the engine sink that calls it.
//!
//! Owns: [`zks_expired_cb`] (the callback's C type) and [`CallbackSink`], the engine
//! [`Expirer`] that hands each batch of expired ids to it.
//!
//! Must never: call the C callback with an engine lock held (the engine guarantees sinks
//! run unlocked), let a panic of the glue around the callback unwind into an engine
//! worker, or drop an expired id between the engine's decision and C.

use super::guard::boundary;
use crate::engine::{Expired, Expirer};
use std::os::raw::c_void;

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
