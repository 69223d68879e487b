//! Introspection from C: time to live, counts, totals, expiry lag and the expiry map.
//!
//! Owns: [`zks_session_counts`], [`zks_ensemble_session_counts`], [`zks_session_totals`],
//! [`zks_lag_summary`], [`zks_expiry_entry`] and the exports that fill them.
//!
//! Must never: change engine state; write past the caller's capacity.

use super::guard::{buffer, fill, out};
use super::handle::zks_engine;
use super::result::zks_result;
use super::session::{kind_from_c, zks_session_kind};
use crate::engine::{lag_bucket_upper_ms, LAG_BUCKETS};

/// Number of buckets of the expiry-lag histogram (`zks_lag_summary.buckets`).
pub const ZKS_LAG_BUCKETS: usize = 24;

const _: () = assert!(ZKS_LAG_BUCKETS == LAG_BUCKETS);

/// Live-session counts.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zks_session_counts {
    /// Global sessions not closing.
    pub global: u64,
    /// Local sessions not closing.
    pub local: u64,
    /// Sessions closing (expired or being closed) and not yet removed.
    pub closing: u64,
    /// Every session tracked: `global + local + closing`, plus the remote entries of
    /// `zks_ensemble_counts` (there are none unless `zks_add_remote` or
    /// `zks_upgrade_to_remote` made some).
    pub total: u64,
}

/// The counts an ensemble adds to `zks_session_counts`.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zks_ensemble_session_counts {
    /// Remote entries not closing (global sessions tracked here, decided by another
    /// server).
    pub remote: u64,
    /// Closing sessions that were local.
    pub closing_local: u64,
    /// Closing sessions that were global (remote entries included).
    /// `closing_local + closing_global` is `zks_session_counts.closing`.
    pub closing_global: u64,
    /// Touches recorded for `zks_drain_touched` and not yet handed out.
    pub touch_table: u64,
}

/// Running totals since the engine started.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zks_session_totals {
    /// Sessions created by `zks_create` (not `zks_add` or `zks_restore`).
    pub creates: u64,
    /// Successful touches.
    pub touches: u64,
    /// Expiry decisions (each session at most once).
    pub expirations: u64,
}

/// The expiry-lag histogram: how late (decision time minus deadline, ms) expirations
/// were decided. Bucket 0 holds lag 0; bucket `i > 0` holds `2^(i-1) ..= 2^i - 1` ms;
/// the last bucket takes everything larger.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zks_lag_summary {
    /// Expirations counted.
    pub count: u64,
    /// Upper bound (ms) of the bucket holding the median.
    pub p50_ms: u64,
    /// Upper bound (ms) of the bucket holding the 99th percentile.
    pub p99_ms: u64,
    /// Largest lag seen (ms).
    pub max_ms: u64,
    /// Sum of all lags (ms), for a mean.
    pub sum_ms: u64,
    /// Raw bucket counts.
    pub buckets: [u64; ZKS_LAG_BUCKETS],
}

/// One live session and the time (engine clock, ms) it is due.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zks_expiry_entry {
    /// When the session is due (a tick boundary on the engine clock, see `zks_now_ms`).
    pub deadline_ms: u64,
    /// The session id.
    pub id: u64,
}

/// Writes the milliseconds until the session is due (0 if due now) to `*out_ms`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`, `ZKS_SESSION_EXPIRED` (closing).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_ms` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_time_to_live(
    engine: *const zks_engine,
    id: u64,
    out_ms: *mut u64,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_ms = unsafe { out(out_ms) }?;
        out_ms.set(e.engine().time_to_live(id)?);
        Ok(())
    })
}

/// Writes the session counts by kind, and closing, to `*out_counts`.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently (counted shard by shard).
///
/// # Safety
/// `engine` must be NULL or live; `out_counts` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_counts(
    engine: *const zks_engine,
    out_counts: *mut zks_session_counts,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_counts = unsafe { out(out_counts) }?;
        let c = e.engine().counts();
        out_counts.set(zks_session_counts {
            global: c.global,
            local: c.local,
            closing: c.closing,
            total: c.total(),
        });
        Ok(())
    })
}

/// Writes the ensemble's counts (remote entries, closing sessions by kind, pending
/// touches) to `*out_counts`.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently (counted shard by shard).
///
/// # Safety
/// `engine` must be NULL or live; `out_counts` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_ensemble_counts(
    engine: *const zks_engine,
    out_counts: *mut zks_ensemble_session_counts,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_counts = unsafe { out(out_counts) }?;
        let c = e.engine().counts();
        out_counts.set(zks_ensemble_session_counts {
            remote: c.remote,
            closing_local: c.closing_local,
            closing_global: c.closing_global,
            touch_table: c.touch_table + e.carried_touches() as u64,
        });
        Ok(())
    })
}

/// Writes the running totals of creates, touches and expirations to `*out_totals`.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_totals` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_totals(
    engine: *const zks_engine,
    out_totals: *mut zks_session_totals,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_totals = unsafe { out(out_totals) }?;
        let t = e.engine().totals();
        out_totals.set(zks_session_totals {
            creates: t.creates,
            touches: t.touches,
            expirations: t.expirations,
        });
        Ok(())
    })
}

/// Writes the number of sessions tracked (closing ones included) to `*out_len`.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_len` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_len(engine: *const zks_engine, out_len: *mut usize) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_len = unsafe { out(out_len) }?;
        out_len.set(e.engine().len());
        Ok(())
    })
}

/// Writes the expiry-lag histogram to `*out_lag`.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_lag` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_expiry_lag(
    engine: *const zks_engine,
    out_lag: *mut zks_lag_summary,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_lag = unsafe { out(out_lag) }?;
        let s = e.engine().expiry_lag();
        out_lag.set(zks_lag_summary {
            count: s.count,
            p50_ms: s.p50_ms,
            p99_ms: s.p99_ms,
            max_ms: s.max_ms,
            sum_ms: s.sum_ms,
            buckets: s.buckets,
        });
        Ok(())
    })
}

/// The largest lag (ms) that histogram bucket `i` holds: 0 for bucket 0, `2^i - 1`
/// otherwise (the last bucket also counts every larger lag). `UINT64_MAX` for an `i`
/// outside `0..ZKS_LAG_BUCKETS`.
///
/// Thread safety: callable from any thread.
#[no_mangle]
pub extern "C" fn zks_lag_bucket_upper_ms(i: usize) -> u64 {
    ffi_fn!(on_panic = u64::MAX, || {
        if i < ZKS_LAG_BUCKETS {
            lag_bucket_upper_ms(i)
        } else {
            u64::MAX
        }
    })
}

/// Exports every live session with its due time, sorted by due time then id (like
/// ZooKeeper's `getSessionExpiryMap`), into `entries[0..cap]`; `*out_n` is how many were
/// written. A too-small `cap` works as in `zks_snapshot`: `ZKS_INSUFFICIENT_SIZE`,
/// nothing written to `entries`, `*out_n` set to the number needed.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_INSUFFICIENT_SIZE`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `entries` must be NULL or hold `cap` writable entries;
/// `out_n` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_expiry_map(
    engine: *const zks_engine,
    entries: *mut zks_expiry_entry,
    cap: usize,
    out_n: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (buf, out_n) = unsafe { (buffer(entries, cap)?, out(out_n)?) };
        write_map(&e.engine().expiry_map(), buf, out_n)
    })
}

/// [`zks_expiry_map`] restricted to the sessions of one kind (`ZKS_SESSION_GLOBAL` or
/// `ZKS_SESSION_LOCAL`), as ZooKeeper's dump lists them apart. Remote entries never expire
/// here and are not listed.
///
/// Errors: as `zks_expiry_map`, and `ZKS_INVALID_PARAMETER` for another `kind`.
///
/// Thread safety: as `zks_expiry_map`.
///
/// # Safety
/// As `zks_expiry_map`.
#[no_mangle]
pub unsafe extern "C" fn zks_expiry_map_by_kind(
    engine: *const zks_engine,
    kind: zks_session_kind,
    entries: *mut zks_expiry_entry,
    cap: usize,
    out_n: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (buf, out_n) = unsafe { (buffer(entries, cap)?, out(out_n)?) };
        let kind = kind_from_c(kind)?;
        write_map(&e.engine().expiry_map_by_kind(kind), buf, out_n)
    })
}

/// Writes an expiry map into `buf` as `(deadline, id)` entries, or its size with
/// `ZKS_INSUFFICIENT_SIZE`.
fn write_map(
    map: &std::collections::BTreeMap<u64, Vec<u64>>,
    buf: &mut [std::mem::MaybeUninit<zks_expiry_entry>],
    out_n: super::guard::Out<'_, usize>,
) -> Result<(), zks_result> {
    let n: usize = map.values().map(Vec::len).sum();
    if n > buf.len() {
        out_n.set(n);
        return Err(zks_result::ZKS_INSUFFICIENT_SIZE);
    }
    fill(
        buf,
        map.iter().flat_map(|(&d, ids)| {
            ids.iter()
                .map(move |&id| zks_expiry_entry { deadline_ms: d, id })
        }),
    );
    out_n.set(n);
    Ok(())
}
