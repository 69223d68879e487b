//! The C ABI: `include/zksession.h`.
//!
//! Owns: every `extern "C"` symbol of the library, and the C forms of the engine's types.
//! A thin, mechanical translation of [`crate::engine`]: no session logic lives here.
//!
//! Must never: let a panic unwind into C (every export's body is an `ffi_fn!`, which
//! runs it inside the panic boundary and checks the engine handle first), write an output on failure (the one exception, documented on
//! each function, is the count written with `ZKS_INSUFFICIENT_SIZE`), keep a pointer the
//! caller passed in after the call returns, or renumber a [`zks_result`].
//!
//! # Conventions
//! - Every symbol and type starts with `zks_` (`ZKS_` for constants and macros).
//! - Handles are opaque (`zks_engine`), made by `_new` and freed by `_free`;
//!   `_free(NULL)` does nothing.
//! - Fallible functions return [`zks_result`]; `ZKS_OK` is 0. Outputs come last, are
//!   named `out_*`, and are written only on success. A buffer is always followed by
//!   its length.
//! - Every type's documentation says which threads may use it.
//! - `ZKS_VERSION_MAJOR`, `ZKS_VERSION_MINOR`, `ZKS_VERSION_PATCH` and
//!   `ZKS_VERSION_STRING` in the header match [`zks_version`] and `Cargo.toml`.
//!
//! The header is generated from this module by `build.rs` (cbindgen, configured by
//! `cbindgen.toml`) and committed; `scripts/test-c.sh` fails when it is stale.

// Module dependencies form a DAG (an arrow points at what a module uses):
//   guard -> result;  callback -> guard;  config -> callback, guard, result;
//   handle -> config, guard, result;  info -> result;
//   engine -> callback, config, guard, handle, result;
//   expiry, session -> guard, handle, result;
//   ensemble, snapshot, stats -> guard, handle, result, session.
// `export` holds only the `ffi_fn!` macro (its expansion uses guard and handle); it is
// declared first so every later module can use it.
#[macro_use]
mod export;
mod callback;
mod config;
mod engine;
mod ensemble;
mod expiry;
mod guard;
mod handle;
mod info;
mod result;
mod session;
mod snapshot;
mod stats;

#[cfg(test)]
mod tests;

pub use callback::zks_expired_cb;
pub use config::{
    zks_config, zks_config_default, zks_config_default_for_tick, zks_password_mode,
    ZKS_PASSWORD_HMAC, ZKS_PASSWORD_ZOOKEEPER,
};
pub use engine::{
    zks_advance_clock, zks_engine_config, zks_engine_free, zks_engine_new, zks_engine_new_manual,
    zks_negotiate_timeout, zks_now_ms,
};
pub use ensemble::{
    zks_add_remote, zks_drain_touched, zks_kind_any, zks_learner_touch, zks_make_global,
    zks_next_id, zks_record_touch, zks_session_state, zks_touch_record, zks_touch_route,
    zks_upgrade_to_remote, ZKS_TOUCH_FORWARDED, ZKS_TOUCH_LOCAL,
};
pub use expiry::{
    zks_expire_due, zks_expired, zks_poll_expired, zks_poll_expired_records, zks_stop_workers,
    zks_workers_stopped,
};
pub use handle::zks_engine;
pub use info::{zks_result_str, zks_result_zookeeper_code};
pub use result::zks_result;
pub use session::{
    zks_add, zks_check_global_session, zks_check_session, zks_close, zks_create, zks_created,
    zks_is_global, zks_is_tracking, zks_owner, zks_password, zks_remove, zks_session_kind,
    zks_set_closing, zks_set_owner, zks_touch, zks_touch_many, zks_touch_with_timeout, zks_upgrade,
    zks_verify_password, ZKS_PASSWORD_LEN, ZKS_SESSION_GLOBAL, ZKS_SESSION_LOCAL,
};
pub use snapshot::{zks_restore, zks_session_entry, zks_snapshot};
pub use stats::{
    zks_counts, zks_ensemble_counts, zks_ensemble_session_counts, zks_expiry_entry, zks_expiry_lag,
    zks_expiry_map, zks_expiry_map_by_kind, zks_lag_bucket_upper_ms, zks_lag_summary, zks_len,
    zks_session_counts, zks_session_totals, zks_time_to_live, zks_totals, ZKS_LAG_BUCKETS,
};

use std::os::raw::c_char;

/// The library version, NUL-terminated.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version as a static NUL-terminated string ("MAJOR.MINOR.PATCH"), equal
/// to the header's `ZKS_VERSION_STRING` when header and library match. Never NULL; must
/// not be freed.
///
/// Thread safety: callable from any thread.
#[no_mangle]
pub extern "C" fn zks_version() -> *const c_char {
    ffi_fn!(on_panic = VERSION.as_ptr().cast(), || VERSION
        .as_ptr()
        .cast())
}
