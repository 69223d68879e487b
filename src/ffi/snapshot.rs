//! Snapshot export and import from C.
//!
//! Owns: [`zks_session_entry`], [`zks_snapshot`] and [`zks_restore`].
//!
//! Must never: write past the caller's capacity, or import part of a batch that has an
//! invalid entry.

use super::guard::{buffer, fill, out, slice};
use super::handle::zks_engine;
use super::result::zks_result;
use super::session::{kind_from_c, kind_to_c, zks_session_kind};
use crate::engine::SessionEntry;

/// One session as exported by `zks_snapshot` and imported by `zks_restore`.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct zks_session_entry {
    /// The session id.
    pub id: u64,
    /// Its timeout in ms.
    pub timeout_ms: u32,
    /// `ZKS_SESSION_GLOBAL` or `ZKS_SESSION_LOCAL`.
    pub kind: zks_session_kind,
}

/// Exports every live (non-closing) session into `entries[0..cap]`; `*out_n` is how many
/// were written.
///
/// If `cap` is too small, returns `ZKS_INSUFFICIENT_SIZE`, writes nothing to `entries`,
/// and sets `*out_n` to the number needed (call with `entries` NULL and `cap` 0 to ask;
/// sessions made in between may need a retry with a larger buffer).
///
/// Errors: `ZKS_NULL_PARAMETER` (`engine` or `out_n` NULL, or `entries` NULL with
/// `cap > 0`), `ZKS_INSUFFICIENT_SIZE`.
///
/// Thread safety: callable from any thread, concurrently; the export is per shard
/// consistent, not a global atomic snapshot.
///
/// # Safety
/// `engine` must be NULL or live; `entries` must be NULL or hold `cap` writable entries;
/// `out_n` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_snapshot(
    engine: *const zks_engine,
    entries: *mut zks_session_entry,
    cap: usize,
    out_n: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (buf, out_n) = unsafe { (buffer(entries, cap)?, out(out_n)?) };
        let all = e.engine().snapshot();
        if all.len() > buf.len() {
            out_n.set(all.len());
            return Err(zks_result::ZKS_INSUFFICIENT_SIZE);
        }
        fill(
            buf,
            all.iter().map(|s| zks_session_entry {
                id: s.id,
                timeout_ms: s.timeout_ms,
                kind: kind_to_c(s.kind),
            }),
        );
        out_n.set(all.len());
        Ok(())
    })
}

/// Imports `entries[0..n]` with fresh deadlines (one timeout from now), as ZooKeeper
/// does on load; `*out_added` is how many were newly tracked (entries already tracked
/// are refreshed). `entries` may be NULL when `n` is 0.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_INVALID_PARAMETER` (an entry's kind is unknown),
/// `ZKS_BAD_ARGUMENTS` (an entry has id 0 or timeout 0). On error nothing is imported.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `entries` must be NULL or hold `n` readable entries;
/// `out_added` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_restore(
    engine: *const zks_engine,
    entries: *const zks_session_entry,
    n: usize,
    out_added: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (entries, out_added) = unsafe { (slice(entries, n)?, out(out_added)?) };
        let entries = entries
            .iter()
            .map(|c| {
                Ok(SessionEntry {
                    id: c.id,
                    timeout_ms: c.timeout_ms,
                    kind: kind_from_c(c.kind)?,
                })
            })
            .collect::<Result<Vec<_>, zks_result>>()?;
        out_added.set(e.engine().restore(&entries)?);
        Ok(())
    })
}
