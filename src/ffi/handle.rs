//! The opaque engine handle C holds.
//!
//! Owns: [`zks_engine`] (the engine, its manual clock if any, and the configuration as C
//! gave it) and [`handle`], the one check every export on an engine runs (through
//! `ffi_fn!`) before its body.
//!
//! Must never: turn a NULL pointer into a reference.

use super::config::zks_config;
use super::guard::arg;
use super::result::zks_result;
use crate::engine::{Engine, ManualClock};
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
}

impl zks_engine {
    /// The Rust engine behind the handle (for Rust code mixing both APIs, and for
    /// benchmarks comparing them).
    pub fn engine(&self) -> &Engine {
        &self.engine
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
