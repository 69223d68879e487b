//! Operations on one session (or a batch of them) from C.
//!
//! Owns: [`zks_session_kind`], [`zks_created`], and the exports that create, track,
//! touch, close, remove, own, check, upgrade sessions and make or verify their passwords.
//!
//! Must never: do any work before every pointer argument has been checked (a call that
//! fails with `ZKS_NULL_PARAMETER` changes nothing), or write an output on failure.

use super::guard::{buffer, fill, out, slice};
use super::handle::zks_engine;
use super::result::zks_result;
use crate::engine::{SessionKind, PASSWORD_LEN};

/// Whether a session is global or local: `ZKS_SESSION_GLOBAL` or `ZKS_SESSION_LOCAL`.
/// A plain integer, so an out-of-range value is reported as `ZKS_INVALID_PARAMETER`.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
pub type zks_session_kind = u32;

/// Known to the whole ensemble.
pub const ZKS_SESSION_GLOBAL: zks_session_kind = 0;

/// Known only to the server that made it (ZooKeeper's local sessions).
pub const ZKS_SESSION_LOCAL: zks_session_kind = 1;

/// Length of a session password in bytes.
pub const ZKS_PASSWORD_LEN: usize = 16;

const _: () = assert!(ZKS_PASSWORD_LEN == PASSWORD_LEN);

/// The engine's kind for a C kind, or `ZKS_INVALID_PARAMETER`.
pub(crate) fn kind_from_c(kind: zks_session_kind) -> Result<SessionKind, zks_result> {
    match kind {
        ZKS_SESSION_GLOBAL => Ok(SessionKind::Global),
        ZKS_SESSION_LOCAL => Ok(SessionKind::Local),
        _ => Err(zks_result::ZKS_INVALID_PARAMETER),
    }
}

/// The C kind of an engine kind.
pub(crate) fn kind_to_c(kind: SessionKind) -> zks_session_kind {
    match kind {
        SessionKind::Global => ZKS_SESSION_GLOBAL,
        SessionKind::Local => ZKS_SESSION_LOCAL,
    }
}

/// A newly created session.
///
/// Thread safety: a plain value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct zks_created {
    /// The session id.
    pub id: u64,
    /// The negotiated timeout in ms.
    pub timeout_ms: u32,
    /// The kind it was created as (always global when local sessions are disabled).
    pub kind: zks_session_kind,
    /// The session's password.
    pub password: [u8; ZKS_PASSWORD_LEN],
}

/// Creates a session with the negotiated timeout for `requested_timeout_ms` and writes
/// it to `*out_session`. `kind` is honoured only when `local_sessions` is enabled.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_INVALID_PARAMETER` (unknown `kind`).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_session` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_create(
    engine: *const zks_engine,
    requested_timeout_ms: i64,
    kind: zks_session_kind,
    out_session: *mut zks_created,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_session = unsafe { out(out_session) }?;
        let c = e.engine().create(requested_timeout_ms, kind_from_c(kind)?);
        out_session.set(zks_created {
            id: c.id,
            timeout_ms: c.timeout_ms,
            kind: kind_to_c(c.kind),
            password: c.password,
        });
        Ok(())
    })
}

/// Tracks a session created elsewhere (ZooKeeper's `trackSession` + `commitSession`),
/// due one timeout from now. `*out_added` is true if newly tracked, false if it was
/// already tracked (then its deadline and timeout are refreshed, and adding it as global
/// upgrades a local copy).
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_INVALID_PARAMETER` (unknown `kind`),
/// `ZKS_BAD_ARGUMENTS` (`id` or `timeout_ms` is 0), `ZKS_SESSION_EXPIRED` (tracked and
/// closing).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_added` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_add(
    engine: *const zks_engine,
    id: u64,
    timeout_ms: u32,
    kind: zks_session_kind,
    out_added: *mut bool,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_added = unsafe { out(out_added) }?;
        out_added.set(e.engine().add(id, timeout_ms, kind_from_c(kind)?)?);
        Ok(())
    })
}

/// Refreshes a session's deadline with its current timeout (a heartbeat or request).
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`, `ZKS_SESSION_EXPIRED` (closing).
/// A touch that succeeds guarantees the session does not expire before its new deadline.
///
/// Thread safety: callable from any thread, concurrently. This is the hot path: no lock
/// and no allocation; a live session's touch writes only its own record.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_touch(engine: *const zks_engine, id: u64) -> zks_result {
    ffi_fn!(engine => |e| {
        Ok(e.engine().touch(id)?)
    })
}

/// Refreshes a session with a new timeout (a reconnect's renegotiated value), which
/// becomes its timeout for later touches.
///
/// Errors: as `zks_touch`, plus `ZKS_BAD_ARGUMENTS` (`timeout_ms` is 0).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_touch_with_timeout(
    engine: *const zks_engine,
    id: u64,
    timeout_ms: u32,
) -> zks_result {
    ffi_fn!(engine => |e| {
        Ok(e.engine().touch_with_timeout(id, timeout_ms)?)
    })
}

/// Touches `ids[0..n]` with one clock reading, lock-free for live sessions;
/// `*out_touched` is how many were touched (unknown and closing ids are skipped). `ids`
/// may be NULL when `n` is 0.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `ids` must be NULL or hold `n` readable `uint64_t`s;
/// `out_touched` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_touch_many(
    engine: *const zks_engine,
    ids: *const u64,
    n: usize,
    out_touched: *mut usize,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (ids, out_touched) = unsafe { (slice(ids, n)?, out(out_touched)?) };
        out_touched.set(e.engine().touch_many(ids));
        Ok(())
    })
}

/// A client's closeSession: marks the session closing and forgets it; no expiry is
/// reported for it afterwards.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION` (so a second close fails).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_close(engine: *const zks_engine, id: u64) -> zks_result {
    ffi_fn!(engine => |e| {
        Ok(e.engine().close(id)?)
    })
}

/// Marks a session closing without forgetting it (ZooKeeper's `setSessionClosing`):
/// touches fail from now on and no expiry will be reported for it.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_set_closing(engine: *const zks_engine, id: u64) -> zks_result {
    ffi_fn!(engine => |e| {
        Ok(e.engine().set_closing(id)?)
    })
}

/// Forgets a session once its expiry or close has been handled.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION` (not tracked).
///
/// Thread safety: callable from any thread, concurrently, and from the expiry callback.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_remove(engine: *const zks_engine, id: u64) -> zks_result {
    ffi_fn!(engine => |e| {
        if e.engine().remove(id) {
            Ok(())
        } else {
            Err(zks_result::ZKS_UNKNOWN_SESSION)
        }
    })
}

/// Writes whether the engine tracks `id` (closing sessions included) to `*out_tracked`.
///
/// Errors: `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_tracked` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_is_tracking(
    engine: *const zks_engine,
    id: u64,
    out_tracked: *mut bool,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_tracked = unsafe { out(out_tracked) }?;
        out_tracked.set(e.engine().is_tracking(id));
        Ok(())
    })
}

/// Sets the session's owner (ZooKeeper's `setOwner`; an owner is an opaque number, e.g.
/// a server or connection id).
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_SESSION_EXPIRED` (unknown or closing).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_set_owner(
    engine: *const zks_engine,
    id: u64,
    owner: u64,
) -> zks_result {
    ffi_fn!(engine => |e| {
        Ok(e.engine().set_owner(id, owner)?)
    })
}

/// Writes the session's owner: `*out_has_owner` is false if none was set (then
/// `*out_owner` is 0).
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; both outputs must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_owner(
    engine: *const zks_engine,
    id: u64,
    out_has_owner: *mut bool,
    out_owner: *mut u64,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (out_has_owner, out_owner) = unsafe { (out(out_has_owner)?, out(out_owner)?) };
        let owner = e.engine().owner(id)?;
        out_has_owner.set(owner.is_some());
        out_owner.set(owner.unwrap_or(0));
        Ok(())
    })
}

/// ZooKeeper's `checkSession`: unknown → `ZKS_UNKNOWN_SESSION`, closing →
/// `ZKS_SESSION_EXPIRED`, no owner yet → `owner` becomes the owner, another owner →
/// `ZKS_SESSION_MOVED`.
///
/// Errors: those, and `ZKS_NULL_PARAMETER`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_check_session(
    engine: *const zks_engine,
    id: u64,
    owner: u64,
) -> zks_result {
    ffi_fn!(engine => |e| {
        Ok(e.engine().check_session(id, owner)?)
    })
}

/// ZooKeeper's `checkGlobalSession`: like `zks_check_session`, but the session must be
/// global; unknown and local sessions give `ZKS_SESSION_EXPIRED`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_SESSION_EXPIRED`, `ZKS_SESSION_MOVED`.
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live.
#[no_mangle]
pub unsafe extern "C" fn zks_check_global_session(
    engine: *const zks_engine,
    id: u64,
    owner: u64,
) -> zks_result {
    ffi_fn!(engine => |e| {
        Ok(e.engine().check_global_session(id, owner)?)
    })
}

/// Upgrades a local session to global and writes its timeout to `*out_timeout_ms`.
/// Upgrading a global session succeeds and changes nothing.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`, `ZKS_SESSION_EXPIRED` (closing),
/// `ZKS_EPHEMERAL_ON_LOCAL_SESSION` (`local_session_upgrade` is off).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_timeout_ms` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_upgrade(
    engine: *const zks_engine,
    id: u64,
    out_timeout_ms: *mut u32,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_timeout_ms = unsafe { out(out_timeout_ms) }?;
        out_timeout_ms.set(e.engine().upgrade(id)?);
        Ok(())
    })
}

/// Writes whether a live session is global to `*out_global`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_UNKNOWN_SESSION`, `ZKS_SESSION_EXPIRED` (closing).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_global` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_is_global(
    engine: *const zks_engine,
    id: u64,
    out_global: *mut bool,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let out_global = unsafe { out(out_global) }?;
        out_global.set(e.engine().is_global(id)?);
        Ok(())
    })
}

/// Writes the password of session `id` (a pure function of the id and the password
/// mode, tracked or not) to `out_password[0..ZKS_PASSWORD_LEN]`.
///
/// Errors: `ZKS_NULL_PARAMETER`, `ZKS_INSUFFICIENT_SIZE` (`out_len < ZKS_PASSWORD_LEN`).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `out_password` must be NULL or hold `out_len`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zks_password(
    engine: *const zks_engine,
    id: u64,
    out_password: *mut u8,
    out_len: usize,
) -> zks_result {
    ffi_fn!(engine => |e| {
        if out_password.is_null() {
            return Err(zks_result::ZKS_NULL_PARAMETER);
        }
        if out_len < ZKS_PASSWORD_LEN {
            return Err(zks_result::ZKS_INSUFFICIENT_SIZE);
        }
        // SAFETY: non-NULL with `out_len` writable bytes.
        let buf = unsafe { buffer(out_password, out_len) }?;
        fill(buf, e.engine().password(id));
        Ok(())
    })
}

/// Writes whether `password[0..len]` is the password of `id` to `*out_valid`, in
/// constant time. A wrong length is simply invalid.
///
/// Errors: `ZKS_NULL_PARAMETER` (`password` NULL with `len > 0`, or another NULL).
///
/// Thread safety: callable from any thread, concurrently.
///
/// # Safety
/// `engine` must be NULL or live; `password` must be NULL or hold `len` readable bytes;
/// `out_valid` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zks_verify_password(
    engine: *const zks_engine,
    id: u64,
    password: *const u8,
    len: usize,
    out_valid: *mut bool,
) -> zks_result {
    ffi_fn!(engine => |e| {
        // SAFETY: per this function's contract.
        let (pw, out_valid) = unsafe { (slice(password, len)?, out(out_valid)?) };
        out_valid.set(e.engine().verify_password(id, pw));
        Ok(())
    })
}
