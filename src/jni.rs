//! JNI exports for `bindings/java` (class `org.zksession.SessionEngine`).
//!
//! Owns: the translation between the Java class's `private static native` methods and the
//! [`Engine`] API: the `long` handle, the integer result codes, and the array layouts of
//! bulk calls. Nothing else: every behaviour lives in the engine.
//!
//! # Ground rules
//! - **Handles.** A handle is a `Box<Native>` turned into a `jlong` by `nativeOpen` and
//!   freed once by `nativeFree`. Java never passes 0 or a freed handle: the Java class
//!   checks for 0, swaps its handle to 0 with a CAS before freeing, and keeps itself
//!   reachable until every native call returns.
//! - **Codes, not exceptions, on the hot path.** Calls that can fail return an `int`:
//!   [`OK`] or a negative ZooKeeper error code (see the `CODE_*` constants). Java throws
//!   the matching exception. Only `nativeOpen` (a configuration error) raises a Java
//!   exception from native code.
//! - **No crash.** Every export runs inside `catch_unwind`; a panic becomes
//!   [`CODE_SYSTEM_ERROR`] (or an empty result) instead of unwinding into the JVM.
//! - **No upcalls.** Expiry is pulled by Java with `nativePollExpired`; native code never
//!   attaches threads to the JVM or calls Java methods.
//! - Passwords are ZooKeeper's (`PasswordMode::ZooKeeperCompatible`): inside a ZooKeeper
//!   server, ZooKeeper itself makes and checks them.
//!
//! Array layouts: `nativePollExpired` fills `(id, timeout_ms)` pairs; `nativeExpiryMap`
//! returns `(deadline_ms, id)` pairs sorted by deadline then id; `nativeSnapshot` returns
//! `(id, timeout_ms, kind)` triples (kind 0 = global, 1 = local).
//!
//! Must never: hold a JNI critical section or local reference across an engine call that
//! can block, call back into Java, or let a panic cross the FFI boundary.

use crate::engine::{
    Config, ConfigError, Engine, Error, ManualClock, PasswordMode, SessionEntry, SessionKind,
};
use jni::objects::{JByteArray, JClass, JIntArray, JLongArray};
use jni::sys::{jboolean, jint, jlong, jlongArray, JNI_FALSE, JNI_TRUE};
use jni::JNIEnv;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

/// Success.
pub const OK: jint = 0;
/// ZooKeeper's `SYSTEMERROR`: a panic or a JNI failure inside the call.
pub const CODE_SYSTEM_ERROR: jint = -1;
/// ZooKeeper's `UNIMPLEMENTED`: the engine lacks what the call needs (an expiry queue, a
/// manual clock).
pub const CODE_UNIMPLEMENTED: jint = -6;
/// ZooKeeper's `BADARGUMENTS`: an argument out of range (timeout 0, id 0, short array).
pub const CODE_BAD_ARGUMENTS: jint = -8;
/// ZooKeeper's `UNKNOWNSESSION`: the engine does not track the id.
pub const CODE_UNKNOWN_SESSION: jint = -12;
/// ZooKeeper's `SESSIONEXPIRED`: the session is closing.
pub const CODE_SESSION_EXPIRED: jint = -112;
/// ZooKeeper's `SESSIONMOVED`: another owner holds the session.
pub const CODE_SESSION_MOVED: jint = -118;
/// ZooKeeper's `EPHEMERALONLOCALSESSION`: local session and upgrading is disabled.
pub const CODE_EPHEMERAL_ON_LOCAL_SESSION: jint = -120;

/// The result code Java sees for an engine error.
pub fn code_of(e: Error) -> jint {
    match e {
        Error::UnknownSession => CODE_UNKNOWN_SESSION,
        Error::SessionExpired => CODE_SESSION_EXPIRED,
        Error::SessionMoved => CODE_SESSION_MOVED,
        Error::EphemeralOnLocalSession => CODE_EPHEMERAL_ON_LOCAL_SESSION,
        Error::BadArguments => CODE_BAD_ARGUMENTS,
        Error::NotPollable => CODE_UNIMPLEMENTED,
    }
}

fn code(r: Result<(), Error>) -> jint {
    match r {
        Ok(()) => OK,
        Err(e) => code_of(e),
    }
}

fn kind_of(local: jboolean) -> SessionKind {
    if local == JNI_FALSE {
        SessionKind::Global
    } else {
        SessionKind::Local
    }
}

fn jbool(b: bool) -> jboolean {
    if b {
        JNI_TRUE
    } else {
        JNI_FALSE
    }
}

/// Clears the Java exception a failed array access left pending (an out-of-range region
/// raises `ArrayIndexOutOfBoundsException`), so the caller sees only the returned code.
fn bad_array(env: &JNIEnv<'_>) -> jint {
    let _ = env.exception_clear();
    CODE_BAD_ARGUMENTS
}

/// Runs `f`, turning a panic into `fallback`.
#[inline]
fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The engine behind a handle.
///
/// # Safety
/// `handle` must come from `nativeOpen` and not yet have been passed to `nativeFree`, and
/// no `nativeFree` of it may run until the returned reference is dropped. The Java class
/// guarantees both (see the module's ground rules).
#[inline]
unsafe fn engine<'a>(handle: jlong) -> &'a Engine {
    // SAFETY: the caller's guarantee is this function's precondition.
    unsafe { &native(handle).engine }
}

/// The state behind a handle.
///
/// # Safety
/// As for [`engine`].
#[inline]
unsafe fn native<'a>(handle: jlong) -> &'a Native {
    // SAFETY: the caller guarantees the pointer is a live `Box<Native>`.
    unsafe { &*(handle as usize as *const Native) }
}

/// What a handle points to: the engine, and its manual clock when it was opened with one.
struct Native {
    engine: Engine,
    manual: Option<Arc<ManualClock>>,
}

/// Builds the engine's configuration from `nativeOpen`'s arguments; 0 for `shards` or
/// `workers` keeps the default.
#[allow(clippy::too_many_arguments)]
pub fn config_from(
    tick_ms: jint,
    min_ms: jint,
    max_ms: jint,
    server_id: jint,
    local_sessions: bool,
    local_upgrade: bool,
    shards: jint,
    workers: jint,
) -> Result<Config, ConfigError> {
    if tick_ms <= 0 {
        return Err(ConfigError::TickZero);
    }
    if !(0..=254).contains(&server_id) {
        return Err(ConfigError::ServerIdTooLarge(server_id.max(0) as u32));
    }
    let mut c = Config::with_tick(tick_ms as u32);
    c.min_session_timeout_ms = min_ms.max(0) as u32;
    c.max_session_timeout_ms = max_ms.max(0) as u32;
    c.server_id = server_id as u8;
    c.local_sessions = local_sessions;
    c.local_session_upgrade = local_upgrade;
    c.password_mode = PasswordMode::ZooKeeperCompatible;
    if shards < 0 {
        return Err(ConfigError::ShardsNotPowerOfTwo(0));
    }
    if shards > 0 {
        c.shards = shards as usize;
        c.expiry_workers = c.expiry_workers.min(c.shards);
    }
    if workers < 0 {
        return Err(ConfigError::BadWorkerCount(0));
    }
    if workers > 0 {
        c.expiry_workers = workers as usize;
    }
    c.validate()?;
    Ok(c)
}

/// `long nativeOpen(int tickMs, int minMs, int maxMs, int serverId, boolean local,
/// boolean upgrade, int shards, int workers, long manualClockStartMs)`: a new engine's
/// handle, or 0 with an `IllegalArgumentException` pending.
///
/// `manualClockStartMs > 0` gives the engine a manual clock starting there and no expiry
/// workers: time moves only with `nativeAdvanceClock` and expiry is decided only by
/// `nativeExpireDue` (deterministic tests). Otherwise it runs on the system clock with
/// its workers.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeOpen<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    tick_ms: jint,
    min_ms: jint,
    max_ms: jint,
    server_id: jint,
    local_sessions: jboolean,
    local_upgrade: jboolean,
    shards: jint,
    workers: jint,
    manual_clock_start_ms: jlong,
) -> jlong {
    let built = guard(None, || {
        let cfg = config_from(
            tick_ms,
            min_ms,
            max_ms,
            server_id,
            local_sessions != JNI_FALSE,
            local_upgrade != JNI_FALSE,
            shards,
            workers,
        );
        let cfg = match cfg {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let native = if manual_clock_start_ms > 0 {
            let clock = Arc::new(ManualClock::new(manual_clock_start_ms as u64));
            Engine::builder(cfg)
                .clock(clock.clone())
                .workers(false)
                .build()
                .map(|engine| Native {
                    engine,
                    manual: Some(clock),
                })
        } else {
            Engine::new(cfg).map(|engine| Native {
                engine,
                manual: None,
            })
        };
        Some(native)
    });
    match built {
        Some(Ok(native)) => Box::into_raw(Box::new(native)) as usize as jlong,
        Some(Err(e)) => {
            let _ = env.throw_new("java/lang/IllegalArgumentException", e.to_string());
            0
        }
        None => {
            let _ = env.throw_new("java/lang/IllegalStateException", "engine start failed");
            0
        }
    }
}

/// `void nativeFree(long handle)`: stops the engine and frees it.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeFree<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    guard((), || {
        if handle != 0 {
            // SAFETY: Java passes each live handle here exactly once, after its CAS to 0,
            // and makes no further calls with it.
            drop(unsafe { Box::from_raw(handle as usize as *mut Native) });
        }
    })
}

/// `long nativeCreate(long handle, int timeoutMs, boolean local, int[] timeoutOut)`: a new
/// session's id; its negotiated timeout goes to `timeoutOut[0]` when the array is not
/// null. Returns 0 on failure.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeCreate<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    timeout_ms: jint,
    local: jboolean,
    timeout_out: JIntArray<'l>,
) -> jlong {
    guard(0, || {
        // SAFETY: Java passes a live handle (module ground rules).
        let e = unsafe { engine(handle) };
        let c = e.create(timeout_ms as i64, kind_of(local));
        if !timeout_out.is_null()
            && env
                .set_int_array_region(&timeout_out, 0, &[c.timeout_ms as jint])
                .is_err()
        {
            bad_array(&env);
            return 0;
        }
        c.id as jlong
    })
}

/// `int nativeAdd(long handle, long id, int timeoutMs, boolean local)`: 1 if newly
/// tracked, 0 if refreshed, or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeAdd<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    timeout_ms: jint,
    local: jboolean,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        if timeout_ms <= 0 {
            return CODE_BAD_ARGUMENTS;
        }
        // SAFETY: Java passes a live handle (module ground rules).
        let e = unsafe { engine(handle) };
        match e.add(id as u64, timeout_ms as u32, kind_of(local)) {
            Ok(true) => 1,
            Ok(false) => 0,
            Err(err) => code_of(err),
        }
    })
}

/// `int nativeRestore(long handle, long[] ids, int[] timeouts, int n)`: imports `n`
/// global sessions with fresh deadlines; the number newly tracked, or a negative code
/// (nothing imported) for a bad entry or short arrays.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeRestore<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    ids: JLongArray<'l>,
    timeouts: JIntArray<'l>,
    n: jint,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        if n < 0 {
            return CODE_BAD_ARGUMENTS;
        }
        let n = n as usize;
        let mut id_buf = vec![0 as jlong; n];
        let mut to_buf = vec![0 as jint; n];
        if env.get_long_array_region(&ids, 0, &mut id_buf).is_err()
            || env.get_int_array_region(&timeouts, 0, &mut to_buf).is_err()
        {
            return bad_array(&env);
        }
        if to_buf.iter().any(|&t| t <= 0) {
            return CODE_BAD_ARGUMENTS;
        }
        let entries: Vec<SessionEntry> = id_buf
            .iter()
            .zip(&to_buf)
            .map(|(&id, &t)| SessionEntry {
                id: id as u64,
                timeout_ms: t as u32,
                kind: SessionKind::Global,
            })
            .collect();
        // SAFETY: Java passes a live handle (module ground rules).
        let e = unsafe { engine(handle) };
        match e.restore(&entries) {
            Ok(added) => added.min(jint::MAX as usize) as jint,
            Err(err) => code_of(err),
        }
    })
}

/// `int nativeTouch(long handle, long id)`: [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeTouch<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        code(unsafe { engine(handle) }.touch(id as u64))
    })
}

/// `int nativeTouchWithTimeout(long handle, long id, int timeoutMs)`: [`OK`] or a
/// negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeTouchWithTimeout<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    timeout_ms: jint,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        if timeout_ms <= 0 {
            return CODE_BAD_ARGUMENTS;
        }
        // SAFETY: Java passes a live handle (module ground rules).
        code(unsafe { engine(handle) }.touch_with_timeout(id as u64, timeout_ms as u32))
    })
}

thread_local! {
    static TOUCH_BUF: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `int nativeTouchMany(long handle, long[] ids, int offset, int length)`: how many of
/// `ids[offset..offset+length]` were touched, or a negative code for a bad range.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeTouchMany<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    ids: JLongArray<'l>,
    offset: jint,
    length: jint,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        if offset < 0 || length < 0 {
            return CODE_BAD_ARGUMENTS;
        }
        TOUCH_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            buf.resize(length as usize, 0);
            // SAFETY: u64 and jlong (i64) have the same size and alignment, and every bit
            // pattern is valid for both.
            let as_jlong: &mut [jlong] = unsafe {
                std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut jlong, buf.len())
            };
            if env.get_long_array_region(&ids, offset, as_jlong).is_err() {
                return bad_array(&env);
            }
            // SAFETY: Java passes a live handle (module ground rules).
            let touched = unsafe { engine(handle) }.touch_many(&buf);
            touched.min(jint::MAX as usize) as jint
        })
    })
}

/// `int nativeSetClosing(long handle, long id)`: [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeSetClosing<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        code(unsafe { engine(handle) }.set_closing(id as u64))
    })
}

/// `int nativeCloseSession(long handle, long id)`: [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeCloseSession<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        code(unsafe { engine(handle) }.close(id as u64))
    })
}

/// `boolean nativeRemove(long handle, long id)`: whether the id was tracked.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeRemove<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jboolean {
    guard(JNI_FALSE, || {
        // SAFETY: Java passes a live handle (module ground rules).
        jbool(unsafe { engine(handle) }.remove(id as u64))
    })
}

/// `boolean nativeIsTracking(long handle, long id)`: whether the id is tracked (closing
/// sessions included).
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeIsTracking<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jboolean {
    guard(JNI_FALSE, || {
        // SAFETY: Java passes a live handle (module ground rules).
        jbool(unsafe { engine(handle) }.is_tracking(id as u64))
    })
}

/// `int nativeSetOwner(long handle, long id, long owner)`: [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeSetOwner<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    owner: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        code(unsafe { engine(handle) }.set_owner(id as u64, owner as u64))
    })
}

/// `int nativeOwner(long handle, long id, long[] out)`: [`OK`] with the owner in `out[0]`,
/// 1 if no owner was set, or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeOwner<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    out: JLongArray<'l>,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        match unsafe { engine(handle) }.owner(id as u64) {
            Ok(Some(o)) => match env.set_long_array_region(&out, 0, &[o as jlong]) {
                Ok(()) => OK,
                Err(_) => bad_array(&env),
            },
            Ok(None) => 1,
            Err(e) => code_of(e),
        }
    })
}

/// `int nativeCheck(long handle, long id, long owner)`: ZooKeeper's `checkSession`;
/// [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeCheck<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    owner: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        code(unsafe { engine(handle) }.check_session(id as u64, owner as u64))
    })
}

/// `int nativeCheckGlobal(long handle, long id, long owner)`: ZooKeeper's
/// `checkGlobalSession`; [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeCheckGlobal<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    owner: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        code(unsafe { engine(handle) }.check_global_session(id as u64, owner as u64))
    })
}

/// `int nativeUpgrade(long handle, long id)`: the session's timeout (> 0) after making it
/// global, or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeUpgrade<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        match unsafe { engine(handle) }.upgrade(id as u64) {
            Ok(t) => t.min(jint::MAX as u32) as jint,
            Err(e) => code_of(e),
        }
    })
}

/// `int nativeKind(long handle, long id)`: 0 (global), 1 (local), or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeKind<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        match unsafe { engine(handle) }.is_global(id as u64) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(e) => code_of(e),
        }
    })
}

/// `int nativePassword(long handle, long id, byte[] out)`: writes the session's 16-byte
/// password to `out`; [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativePassword<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    out: JByteArray<'l>,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        let pw = unsafe { engine(handle) }.password(id as u64);
        let signed: Vec<i8> = pw.iter().map(|&b| b as i8).collect();
        match env.set_byte_array_region(&out, 0, &signed) {
            Ok(()) => OK,
            Err(_) => bad_array(&env),
        }
    })
}

/// `boolean nativeVerifyPassword(long handle, long id, byte[] password)`: whether
/// `password` is the session's password (constant time).
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeVerifyPassword<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
    password: JByteArray<'l>,
) -> jboolean {
    guard(JNI_FALSE, || {
        if password.is_null() {
            return JNI_FALSE;
        }
        let Ok(bytes) = env.convert_byte_array(&password) else {
            bad_array(&env);
            return JNI_FALSE;
        };
        // SAFETY: Java passes a live handle (module ground rules).
        jbool(unsafe { engine(handle) }.verify_password(id as u64, &bytes))
    })
}

/// `int nativePollExpired(long handle, long[] out, int timeoutMs)`: waits up to
/// `timeoutMs` for expired sessions and writes up to `out.length / 2` `(id, timeout_ms)`
/// pairs; the number of sessions written, or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativePollExpired<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    out: JLongArray<'l>,
    timeout_ms: jint,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        if out.is_null() || timeout_ms < 0 {
            return CODE_BAD_ARGUMENTS;
        }
        let Ok(len) = env.get_array_length(&out) else {
            return bad_array(&env);
        };
        let max = (len / 2) as usize;
        if max == 0 {
            return CODE_BAD_ARGUMENTS;
        }
        let wait = Duration::from_millis(timeout_ms as u64);
        // SAFETY: Java passes a live handle (module ground rules).
        let batch = match unsafe { engine(handle) }.poll_expired(max, wait) {
            Ok(b) => b,
            Err(e) => return code_of(e),
        };
        let mut flat = Vec::with_capacity(batch.len() * 2);
        for x in &batch {
            flat.push(x.id as jlong);
            flat.push(x.timeout_ms as jlong);
        }
        match env.set_long_array_region(&out, 0, &flat) {
            Ok(()) => batch.len() as jint,
            Err(_) => CODE_SYSTEM_ERROR,
        }
    })
}

/// `int nativeAdvanceClock(long handle, long ms)`: moves a manual clock forward; [`OK`],
/// or [`CODE_UNIMPLEMENTED`] if the engine runs on the system clock, or
/// [`CODE_BAD_ARGUMENTS`] for a negative `ms`.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeAdvanceClock<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    ms: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        if ms < 0 {
            return CODE_BAD_ARGUMENTS;
        }
        // SAFETY: Java passes a live handle (module ground rules).
        match &unsafe { native(handle) }.manual {
            Some(clock) => {
                clock.advance(ms as u64);
                OK
            }
            None => CODE_UNIMPLEMENTED,
        }
    })
}

/// `int nativeExpireDue(long handle)`: decides every expiry due now (normally the
/// engine's workers do this); the number of sessions expired.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeExpireDue<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        let n = unsafe { engine(handle) }.expire_due();
        n.min(jint::MAX as usize) as jint
    })
}

fn new_long_array(env: &mut JNIEnv<'_>, values: &[jlong]) -> jlongArray {
    let Ok(len) = jint::try_from(values.len()) else {
        return std::ptr::null_mut();
    };
    match env.new_long_array(len) {
        Ok(arr) => {
            if env.set_long_array_region(&arr, 0, values).is_err() {
                return std::ptr::null_mut();
            }
            arr.into_raw()
        }
        Err(_) => std::ptr::null_mut(),
    }
}

/// `long[] nativeExpiryMap(long handle)`: `(deadline_ms, id)` pairs of every live
/// session, deadlines on the engine clock ([`nativeNowMs`](Java_org_zksession_SessionEngine_nativeNowMs)).
/// Null (with an `OutOfMemoryError` pending) if the array cannot be made.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeExpiryMap<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jlongArray {
    guard(std::ptr::null_mut(), || {
        // SAFETY: Java passes a live handle (module ground rules).
        let map = unsafe { engine(handle) }.expiry_map();
        let mut flat = Vec::new();
        for (deadline, ids) in map {
            for id in ids {
                flat.push(deadline as jlong);
                flat.push(id as jlong);
            }
        }
        new_long_array(&mut env, &flat)
    })
}

/// `long[] nativeSnapshot(long handle)`: `(id, timeout_ms, kind)` triples of every live
/// session. Null (with an `OutOfMemoryError` pending) if the array cannot be made.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeSnapshot<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jlongArray {
    guard(std::ptr::null_mut(), || {
        // SAFETY: Java passes a live handle (module ground rules).
        let snap = unsafe { engine(handle) }.snapshot();
        let mut flat = Vec::with_capacity(snap.len() * 3);
        for s in snap {
            flat.push(s.id as jlong);
            flat.push(s.timeout_ms as jlong);
            flat.push(s.kind as u8 as jlong);
        }
        new_long_array(&mut env, &flat)
    })
}

/// `int nativeStats(long handle, long[] out)`: writes, in order, the global, local and
/// closing counts, then the create, touch and expiration totals (`out` needs 6 slots);
/// [`OK`] or a negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeStats<'l>(
    env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    out: JLongArray<'l>,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        let e = unsafe { engine(handle) };
        let c = e.counts();
        let t = e.totals();
        let v = [
            c.global,
            c.local,
            c.closing,
            t.creates,
            t.touches,
            t.expirations,
        ]
        .map(|x| x.min(i64::MAX as u64) as jlong);
        match env.set_long_array_region(&out, 0, &v) {
            Ok(()) => OK,
            Err(_) => bad_array(&env),
        }
    })
}

/// `long nativeNowMs(long handle)`: the engine clock's reading (ms), or -1 on failure.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeNowMs<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jlong {
    guard(-1, || {
        // SAFETY: Java passes a live handle (module ground rules).
        unsafe { engine(handle) }.now_ms().min(i64::MAX as u64) as jlong
    })
}

/// `long nativeTimeToLive(long handle, long id)`: ms until the session is due, or a
/// negative code.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeTimeToLive<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    id: jlong,
) -> jlong {
    guard(CODE_SYSTEM_ERROR as jlong, || {
        // SAFETY: Java passes a live handle (module ground rules).
        match unsafe { engine(handle) }.time_to_live(id as u64) {
            Ok(ms) => ms.min(i64::MAX as u64) as jlong,
            Err(e) => code_of(e) as jlong,
        }
    })
}

/// `int nativeNegotiateTimeout(long handle, long requestedMs)`: the timeout a session
/// asking for `requestedMs` gets.
#[no_mangle]
pub extern "system" fn Java_org_zksession_SessionEngine_nativeNegotiateTimeout<'l>(
    _env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    requested_ms: jlong,
) -> jint {
    guard(CODE_SYSTEM_ERROR, || {
        // SAFETY: Java passes a live handle (module ground rules).
        let t = unsafe { engine(handle) }.negotiate_timeout(requested_ms);
        t.min(jint::MAX as u32) as jint
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_error_maps_to_its_zookeeper_code() {
        assert_eq!(code_of(Error::UnknownSession), -12);
        assert_eq!(code_of(Error::SessionExpired), -112);
        assert_eq!(code_of(Error::SessionMoved), -118);
        assert_eq!(code_of(Error::EphemeralOnLocalSession), -120);
        assert_eq!(code_of(Error::BadArguments), -8);
        assert_eq!(code_of(Error::NotPollable), -6);
        assert_eq!(code(Ok(())), OK);
    }

    #[test]
    fn config_uses_zookeeper_passwords_and_given_limits() {
        let c = config_from(200, 400, 4000, 1, false, false, 0, 0).unwrap();
        assert_eq!(c.password_mode, PasswordMode::ZooKeeperCompatible);
        assert_eq!(c.tick_ms, 200);
        assert_eq!(c.min_session_timeout_ms, 400);
        assert_eq!(c.max_session_timeout_ms, 4000);
        let c = config_from(200, 200, 4000, 3, true, true, 4, 2).unwrap();
        assert_eq!((c.server_id, c.shards, c.expiry_workers), (3, 4, 2));
        assert!(c.local_sessions && c.local_session_upgrade);
    }

    #[test]
    fn bad_config_values_are_refused() {
        assert_eq!(
            config_from(0, 0, 0, 1, false, false, 0, 0),
            Err(ConfigError::TickZero)
        );
        assert_eq!(
            config_from(200, 400, 4000, 255, false, false, 0, 0),
            Err(ConfigError::ServerIdTooLarge(255))
        );
        assert_eq!(
            config_from(200, 400, 4000, -1, false, false, 0, 0),
            Err(ConfigError::ServerIdTooLarge(0))
        );
        assert_eq!(
            config_from(200, 100, 4000, 1, false, false, 0, 0),
            Err(ConfigError::MinTimeoutBelowTick {
                min_ms: 100,
                tick_ms: 200
            })
        );
        assert_eq!(
            config_from(200, 400, 4000, 1, false, false, 3, 0),
            Err(ConfigError::ShardsNotPowerOfTwo(3))
        );
        assert_eq!(
            config_from(200, 400, 4000, 1, false, false, -2, 0),
            Err(ConfigError::ShardsNotPowerOfTwo(0))
        );
        assert_eq!(
            config_from(200, 400, 4000, 1, false, false, 2, 4),
            Err(ConfigError::BadWorkerCount(4))
        );
    }
}
