//! The opaque engine handle C holds.
//!
//! Owns: [`zks_engine`] (the engine, its manual clock if any, and the configuration as C
//! gave it) and [`handle`], the one check every export on an engine runs (through
//! `ffi_fn!`) before its body.
//!
//! It also keeps the touches `zks_drain_touched` took from the engine but could not fit in
//! the caller's buffer, so none is lost between calls.
//!
//! Must never: turn a NULL pointer into a reference, or drop a carried touch.

use super::config::zks_config;
use super::guard::arg;
use super::result::zks_result;
use crate::engine::{Engine, ManualClock};
use crate::sync::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// An engine: the session table, its timing wheels and its expiry workers.
///
/// Made by `zks_engine_new` or `zks_engine_new_manual`; freed by `zks_engine_free`.
///
/// Thread safety: every function taking a `const zks_engine *` may be called from any
/// number of threads at once. `zks_engine_free` must not race any other call on the
/// same engine, and must not be called from the engine's own expiry callback.
#[allow(non_camel_case_types)]
pub struct zks_engine {
    pub(super) engine: Engine,
    /// The clock of a manual engine, which `zks_advance_clock` moves.
    pub(super) clock: Option<Arc<ManualClock>>,
    /// The configuration as C gave it (secret cleared), for `zks_engine_config`.
    pub(super) config: zks_config,
    /// Drained touches not yet handed to C (at most one per id).
    pub(super) touches: Mutex<Vec<(u64, u32)>>,
}

impl zks_engine {
    /// The Rust engine behind the handle (for Rust code mixing both APIs, and for
    /// benchmarks comparing them).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Takes up to `cap` recorded touches: the ones carried from an earlier call merged
    /// with every touch the engine recorded since (at most one per id, the latest timeout
    /// wins); what does not fit stays for the next call.
    pub(super) fn take_touches(&self, cap: usize) -> Vec<(u64, u32)> {
        let mut carried = self.touches.lock();
        let fresh = self.engine.drain_touched();
        if carried.is_empty() {
            *carried = fresh;
        } else if !fresh.is_empty() {
            let mut at: HashMap<u64, usize> = carried
                .iter()
                .enumerate()
                .map(|(i, &(id, _))| (id, i))
                .collect();
            for (id, timeout_ms) in fresh {
                match at.get(&id) {
                    Some(&i) => carried[i].1 = timeout_ms,
                    None => {
                        at.insert(id, carried.len());
                        carried.push((id, timeout_ms));
                    }
                }
            }
        }
        let keep = carried.len().saturating_sub(cap);
        carried.split_off(keep)
    }

    /// How many drained touches wait in the handle for the next `zks_drain_touched`.
    pub(super) fn carried_touches(&self) -> usize {
        self.touches.lock().len()
    }
}

/// The engine behind a handle, or `ZKS_NULL_PARAMETER`.
///
/// # Safety
/// `p` must be NULL or a live handle from `zks_engine_new*` for `'a`.
#[inline(always)]
pub(crate) unsafe fn handle<'a>(p: *const zks_engine) -> Result<&'a zks_engine, zks_result> {
    // SAFETY: per this function's contract.
    unsafe { arg(p) }
}
