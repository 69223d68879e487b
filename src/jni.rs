//! JNI exports for `bindings/java` (class `org.zksession.SessionEngine`).
//!
//! Owns: the translation between the Java class's `private static native` methods and the
//! [`Engine`] API: the `long` handle, the integer result codes, and the array layouts of
//! bulk calls. Nothing else: every behaviour lives in the engine.
//!
//! # Ground rules
//! - **One macro per export.** Every export is written with `jni_fn!`, which makes the
//!   `extern "system"` function, runs its body inside the panic boundary, and (for the
//!   methods on an engine) checks the handle and turns it into a reference before the
//!   body runs. A unit test calls every `native` method `SessionEngine.java` declares with
//!   a panic injected into its body, and with handle 0.
//! - **Handles.** A handle is a `Box<Native>` turned into a `jlong` by `nativeOpen` and
//!   freed once by `nativeFree`. Java never passes a freed handle: the Java class swaps
//!   its handle to 0 with a CAS before freeing, and keeps itself reachable until every
//!   native call returns. Handle 0 gets the export's failure value.
//! - **Codes, not exceptions, on the hot path.** Calls that can fail return an `int`: 0
//!   or a negative ZooKeeper error code, the engine's own
//!   ([`Error::zookeeper_code`]), `BADARGUMENTS` (-8) for an argument Java should not
//!   have passed, `UNIMPLEMENTED` (-6) for what the engine lacks, or `SYSTEMERROR` (-1)
//!   for a panic. Java throws the matching exception. Only `nativeOpen` (a configuration
//!   error) raises a Java exception from native code.
//! - **No upcalls.** Expiry is pulled by Java with `nativePollExpired`; native code never
//!   attaches threads to the JVM or calls Java methods.
//! - Passwords are ZooKeeper's (`PasswordMode::ZooKeeperCompatible`): inside a ZooKeeper
//!   server, ZooKeeper itself makes and checks them.
//!
//! Array layouts: `nativePollExpired` fills `(id, timeout_ms)` pairs and
//! `nativePollExpiredKinds` `(id, timeout_ms, kind)` triples; `nativeExpiryMap` and
//! `nativeExpiryMapByKind` return `(deadline_ms, id)` pairs sorted by deadline then id;
//! `nativeSnapshot` returns `(id, timeout_ms, kind)` triples (kind 0 = global, 1 = local);
//! `nativeDrainTouched` returns `(id, timeout_ms)` pairs.
//!
//! Must never: hold a JNI critical section or local reference across an engine call that
//! can block, call back into Java, or let a panic cross the FFI boundary.

use crate::engine::{
    Config, ConfigError, Engine, Error, Expired, LearnerTouch, ManualClock, PasswordMode,
    SessionEntry, SessionKind,
};
use jni::objects::{JByteArray, JClass, JIntArray, JLongArray};
use jni::sys::{jboolean, jint, jlong, jlongArray, JNI_FALSE, JNI_TRUE};
use jni::JNIEnv;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

/// Success.
const OK: jint = 0;
/// ZooKeeper's `SYSTEMERROR`: a panic or a JNI failure inside the call.
const CODE_SYSTEM_ERROR: jint = -1;
/// ZooKeeper's `UNIMPLEMENTED`: the engine lacks what the call needs (a manual clock).
const CODE_UNIMPLEMENTED: jint = -6;
/// ZooKeeper's `BADARGUMENTS`, for an argument out of range (timeout 0, short array).
const CODE_BAD_ARGUMENTS: jint = Error::BadArguments.zookeeper_code();

/// `nativeKindAny`: a remote entry (the Java class's `KIND_REMOTE`).
const KIND_REMOTE: jint = 2;
/// `nativeKindAny`: the flag of a closing session (`KIND_CLOSING`).
const KIND_CLOSING: jint = 4;
/// `nativeLearnerTouch`: refreshed here (`TOUCH_LOCAL`).
const TOUCH_LOCAL: jint = 0;
/// `nativeLearnerTouch`: recorded for the leader (`TOUCH_FORWARDED`).
const TOUCH_FORWARDED: jint = 1;

/// The result code Java sees for an engine result.
fn code(r: Result<(), Error>) -> jint {
    match r {
        Ok(()) => OK,
        Err(e) => e.zookeeper_code(),
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

/// Runs `f`, turning a panic into `fallback`. Exports reach it only through `jni_fn!`.
#[inline(always)]
fn boundary<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    #[cfg(test)]
    let f = || {
        panic_hook::fire();
        f()
    };
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A test-only switch that makes the next body run by [`boundary`] on this thread panic
/// before it starts.
#[cfg(test)]
mod panic_hook {
    use std::cell::Cell;

    thread_local! {
        static ARMED: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes the next boundary on this thread panic.
    pub(super) fn arm() {
        ARMED.with(|a| a.set(true));
    }

    /// Whether the hook is still armed (no boundary ran since [`arm`]); clears it.
    pub(super) fn disarm() -> bool {
        ARMED.with(|a| a.replace(false))
    }

    /// Panics if armed (disarming first).
    pub(super) fn fire() {
        if disarm() {
            panic!("panic injected at the boundary");
        }
    }
}

/// What a handle points to: the engine, and its manual clock when it was opened with one.
struct Native {
    engine: Engine,
    manual: Option<Arc<ManualClock>>,
}

/// What an export on an engine may take its handle as: the [`Native`] state or just the
/// [`Engine`].
trait FromHandle {
    /// The value behind a non-zero handle.
    ///
    /// # Safety
    /// `handle` must come from `nativeOpen` and not yet have been passed to `nativeFree`,
    /// and no `nativeFree` of it may run until the returned reference is dropped. The
    /// Java class guarantees both (see the module's ground rules).
    unsafe fn from_handle<'a>(handle: jlong) -> &'a Self;
}

impl FromHandle for Native {
    unsafe fn from_handle<'a>(handle: jlong) -> &'a Native {
        // SAFETY: the caller guarantees the pointer is a live `Box<Native>`.
        unsafe { &*(handle as usize as *const Native) }
    }
}

impl FromHandle for Engine {
    unsafe fn from_handle<'a>(handle: jlong) -> &'a Engine {
        // SAFETY: the same contract.
        unsafe { &Native::from_handle(handle).engine }
    }
}

/// Makes one JNI export: `#[no_mangle] pub extern "system" fn NAME(env, class, ...)`,
/// its body inside the panic boundary.
///
/// ```text
/// jni_fn! {
///     /// docs
///     fn Java_org_zksession_SessionEngine_nativeX<'l>(env, e: &Engine, id: jlong) -> jint {
///         failure: CODE_SYSTEM_ERROR;
///         body...
///     }
/// }
/// ```
///
/// With a handle parameter (`name: &Engine` or `name: &Native`, second), the export takes
/// `jlong handle` there; handle 0 returns the failure value, any other is turned into the
/// reference before the body runs. A panic in the body returns the failure value too.
/// Without one, the parameters are passed as written.
macro_rules! jni_fn {
    (
        $(#[$meta:meta])*
        fn $name:ident<$l:lifetime>($env:pat, $h:ident: &$T:ident $(, $arg:ident: $ty:ty)* $(,)?)
            $(-> $ret:ty)? { failure: $failure:expr; $($body:tt)* }
    ) => {
        $(#[$meta])*
        #[no_mangle]
        #[allow(clippy::unused_unit)] // `return ();` for the exports returning nothing
        pub extern "system" fn $name<$l>(
            $env: JNIEnv<$l>,
            _class: JClass<$l>,
            handle: jlong,
            $($arg: $ty),*
        ) $(-> $ret)? {
            boundary($failure, || {
                if handle == 0 {
                    return $failure;
                }
                // SAFETY: a non-zero handle Java passes is live for the whole call (the
                // module's ground rules).
                let $h: &$T = unsafe { <$T as FromHandle>::from_handle(handle) };
                $($body)*
            })
        }
    };
    (
        $(#[$meta:meta])*
        fn $name:ident<$l:lifetime>($env:pat $(, $arg:ident: $ty:ty)* $(,)?)
            $(-> $ret:ty)? { failure: $failure:expr; $($body:tt)* }
    ) => {
        $(#[$meta])*
        #[no_mangle]
        pub extern "system" fn $name<$l>(
            $env: JNIEnv<$l>,
            _class: JClass<$l>,
            $($arg: $ty),*
        ) $(-> $ret)? {
            boundary($failure, || { $($body)* })
        }
    };
}

/// Builds the engine's configuration from `nativeOpen`'s arguments; 0 for `shards` or
/// `workers` keeps the default.
#[allow(clippy::too_many_arguments)]
fn config_from(
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

jni_fn! {
    /// `long nativeOpen(int tickMs, int minMs, int maxMs, int serverId, boolean local,
    /// boolean upgrade, int shards, int workers, long manualClockStartMs)`: a new engine's
    /// handle, or 0 with an `IllegalArgumentException` pending (a refused configuration)
    /// or with none (a panic; Java then throws `IllegalStateException`).
    ///
    /// `manualClockStartMs > 0` gives the engine a manual clock starting there and no
    /// expiry workers: time moves only with `nativeAdvanceClock` and expiry is decided
    /// only by `nativeExpireDue` (deterministic tests). Otherwise it runs on the system
    /// clock with its workers.
    #[allow(clippy::too_many_arguments)]
    fn Java_org_zksession_SessionEngine_nativeOpen<'l>(
        mut env,
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
        failure: 0;
        let built = config_from(
        tick_ms,
        min_ms,
        max_ms,
        server_id,
        local_sessions != JNI_FALSE,
        local_upgrade != JNI_FALSE,
        shards,
        workers,
        )
        .and_then(|cfg| {
        if manual_clock_start_ms > 0 {
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
        }
        });
        match built {
        Ok(native) => Box::into_raw(Box::new(native)) as usize as jlong,
        Err(e) => {
            let _ = env.throw_new("java/lang/IllegalArgumentException", e.to_string());
            0
        }
        }
    }
}

jni_fn! {
    /// `void nativeFree(long handle)`: stops the engine and frees it; 0 does nothing.
    fn Java_org_zksession_SessionEngine_nativeFree<'l>(_env, handle: jlong) {
        failure: ();
        if handle != 0 {
        // SAFETY: Java passes each live handle here exactly once, after its CAS to 0,
        // and makes no further calls with it.
        drop(unsafe { Box::from_raw(handle as usize as *mut Native) });
        }
    }
}

jni_fn! {
    /// `long nativeCreate(long handle, int timeoutMs, boolean local, int[] timeoutOut)`: a new
    /// session's id; its negotiated timeout goes to `timeoutOut[0]` when the array is not
    /// null. Returns 0 on failure.
    fn Java_org_zksession_SessionEngine_nativeCreate<'l>(
        env,
        e: &Engine,
        timeout_ms: jint,
        local: jboolean,
        timeout_out: JIntArray<'l>,
    ) -> jlong {
        failure: 0;
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
    }
}

jni_fn! {
    /// `int nativeAdd(long handle, long id, int timeoutMs, boolean local)`: 1 if newly
    /// tracked, 0 if refreshed, or a negative code.
    fn Java_org_zksession_SessionEngine_nativeAdd<'l>(
        _env,
        e: &Engine,
        id: jlong,
        timeout_ms: jint,
        local: jboolean,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        if timeout_ms <= 0 {
            return CODE_BAD_ARGUMENTS;
        }
        match e.add(id as u64, timeout_ms as u32, kind_of(local)) {
            Ok(true) => 1,
            Ok(false) => 0,
            Err(err) => err.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `int nativeRestore(long handle, long[] ids, int[] timeouts, int n)`: imports `n`
    /// global sessions with fresh deadlines; the number newly tracked, or a negative code
    /// (nothing imported) for a bad entry or short arrays.
    fn Java_org_zksession_SessionEngine_nativeRestore<'l>(
        env,
        e: &Engine,
        ids: JLongArray<'l>,
        timeouts: JIntArray<'l>,
        n: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
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
        match e.restore(&entries) {
            Ok(added) => added.min(jint::MAX as usize) as jint,
            Err(err) => err.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `int nativeTouch(long handle, long id)`: 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativeTouch<'l>(_env, e: &Engine, id: jlong) -> jint {
        failure: CODE_SYSTEM_ERROR;
        code(e.touch(id as u64))
    }
}

jni_fn! {
    /// `int nativeTouchWithTimeout(long handle, long id, int timeoutMs)`: 0 or a
    /// negative code.
    fn Java_org_zksession_SessionEngine_nativeTouchWithTimeout<'l>(
        _env,
        e: &Engine,
        id: jlong,
        timeout_ms: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        if timeout_ms <= 0 {
            return CODE_BAD_ARGUMENTS;
        }
        code(e.touch_with_timeout(id as u64, timeout_ms as u32))
    }
}

thread_local! {
    static TOUCH_BUF: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

jni_fn! {
    /// `int nativeTouchMany(long handle, long[] ids, int offset, int length)`: how many of
    /// `ids[offset..offset+length]` were touched, or a negative code for a bad range.
    fn Java_org_zksession_SessionEngine_nativeTouchMany<'l>(
        env,
        e: &Engine,
        ids: JLongArray<'l>,
        offset: jint,
        length: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
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
                let touched = e.touch_many(&buf);
            touched.min(jint::MAX as usize) as jint
        })
    }
}

jni_fn! {
    /// `int nativeSetClosing(long handle, long id)`: 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativeSetClosing<'l>(_env, e: &Engine, id: jlong) -> jint {
        failure: CODE_SYSTEM_ERROR;
        code(e.set_closing(id as u64))
    }
}

jni_fn! {
    /// `int nativeCloseSession(long handle, long id)`: 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativeCloseSession<'l>(
        _env,
        e: &Engine,
        id: jlong,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        code(e.close(id as u64))
    }
}

jni_fn! {
    /// `boolean nativeRemove(long handle, long id)`: whether the id was tracked.
    fn Java_org_zksession_SessionEngine_nativeRemove<'l>(_env, e: &Engine, id: jlong) -> jboolean {
        failure: JNI_FALSE;
        jbool(e.remove(id as u64))
    }
}

jni_fn! {
    /// `boolean nativeIsTracking(long handle, long id)`: whether the id is tracked (closing
    /// sessions included).
    fn Java_org_zksession_SessionEngine_nativeIsTracking<'l>(
        _env,
        e: &Engine,
        id: jlong,
    ) -> jboolean {
        failure: JNI_FALSE;
        jbool(e.is_tracking(id as u64))
    }
}

jni_fn! {
    /// `int nativeSetOwner(long handle, long id, long owner)`: 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativeSetOwner<'l>(
        _env,
        e: &Engine,
        id: jlong,
        owner: jlong,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        code(e.set_owner(id as u64, owner as u64))
    }
}

jni_fn! {
    /// `int nativeOwner(long handle, long id, long[] out)`: 0 with the owner in `out[0]`,
    /// 1 if no owner was set, or a negative code.
    fn Java_org_zksession_SessionEngine_nativeOwner<'l>(
        env,
        e: &Engine,
        id: jlong,
        out: JLongArray<'l>,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        match e.owner(id as u64) {
            Ok(Some(o)) => match env.set_long_array_region(&out, 0, &[o as jlong]) {
                Ok(()) => OK,
                Err(_) => bad_array(&env),
            },
            Ok(None) => 1,
            Err(e) => e.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `int nativeCheck(long handle, long id, long owner)`: ZooKeeper's `checkSession`;
    /// 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativeCheck<'l>(
        _env,
        e: &Engine,
        id: jlong,
        owner: jlong,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        code(e.check_session(id as u64, owner as u64))
    }
}

jni_fn! {
    /// `int nativeCheckGlobal(long handle, long id, long owner)`: ZooKeeper's
    /// `checkGlobalSession`; 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativeCheckGlobal<'l>(
        _env,
        e: &Engine,
        id: jlong,
        owner: jlong,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        code(e.check_global_session(id as u64, owner as u64))
    }
}

jni_fn! {
    /// `int nativeUpgrade(long handle, long id)`: the session's timeout (> 0) after making it
    /// global, or a negative code.
    fn Java_org_zksession_SessionEngine_nativeUpgrade<'l>(_env, e: &Engine, id: jlong) -> jint {
        failure: CODE_SYSTEM_ERROR;
        match e.upgrade(id as u64) {
            Ok(t) => t.min(jint::MAX as u32) as jint,
            Err(e) => e.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `int nativeKind(long handle, long id)`: 0 (global), 1 (local), or a negative code.
    fn Java_org_zksession_SessionEngine_nativeKind<'l>(_env, e: &Engine, id: jlong) -> jint {
        failure: CODE_SYSTEM_ERROR;
        match e.is_global(id as u64) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(e) => e.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `int nativePassword(long handle, long id, byte[] out)`: writes the session's 16-byte
    /// password to `out`; 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativePassword<'l>(
        env,
        e: &Engine,
        id: jlong,
        out: JByteArray<'l>,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        let pw = e.password(id as u64);
        let signed: Vec<i8> = pw.iter().map(|&b| b as i8).collect();
        match env.set_byte_array_region(&out, 0, &signed) {
            Ok(()) => OK,
            Err(_) => bad_array(&env),
        }
    }
}

jni_fn! {
    /// `boolean nativeVerifyPassword(long handle, long id, byte[] password)`: whether
    /// `password` is the session's password (constant time).
    fn Java_org_zksession_SessionEngine_nativeVerifyPassword<'l>(
        env,
        e: &Engine,
        id: jlong,
        password: JByteArray<'l>,
    ) -> jboolean {
        failure: JNI_FALSE;
        if password.is_null() {
            return JNI_FALSE;
        }
        let Ok(bytes) = env.convert_byte_array(&password) else {
            bad_array(&env);
            return JNI_FALSE;
        };
        jbool(e.verify_password(id as u64, &bytes))
    }
}

jni_fn! {
    /// `int nativePollExpired(long handle, long[] out, int timeoutMs)`: waits up to
    /// `timeoutMs` for expired sessions and writes up to `out.length / 2` `(id, timeout_ms)`
    /// pairs; the number of sessions written, or a negative code.
    fn Java_org_zksession_SessionEngine_nativePollExpired<'l>(
        env,
        e: &Engine,
        out: JLongArray<'l>,
        timeout_ms: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        poll_into(&env, e, &out, timeout_ms, |x| [x.id as jlong, x.timeout_ms as jlong])
    }
}

jni_fn! {
    /// `int nativeAdvanceClock(long handle, long ms)`: moves a manual clock forward; 0,
    /// or -6 (`UNIMPLEMENTED`) if the engine runs on the system clock, or
    /// -8 (`BADARGUMENTS`) for a negative `ms`.
    fn Java_org_zksession_SessionEngine_nativeAdvanceClock<'l>(
        _env,
        native: &Native,
        ms: jlong,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        if ms < 0 {
            return CODE_BAD_ARGUMENTS;
        }
        match &native.manual {
            Some(clock) => {
                clock.advance(ms as u64);
                OK
            }
            None => CODE_UNIMPLEMENTED,
        }
    }
}

jni_fn! {
    /// `int nativeExpireDue(long handle)`: decides every expiry due now (normally the
    /// engine's workers do this); the number of sessions expired.
    fn Java_org_zksession_SessionEngine_nativeExpireDue<'l>(_env, e: &Engine) -> jint {
        failure: CODE_SYSTEM_ERROR;
        let n = e.expire_due();
        n.min(jint::MAX as usize) as jint
    }
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

/// `(deadline_ms, id)` pairs of an expiry map as a new Java array (null with an
/// `OutOfMemoryError` pending if it cannot be made).
fn flat_expiry_map(
    env: &mut JNIEnv<'_>,
    map: std::collections::BTreeMap<u64, Vec<u64>>,
) -> jlongArray {
    let mut flat = Vec::new();
    for (deadline, ids) in map {
        for id in ids {
            flat.push(deadline as jlong);
            flat.push(id as jlong);
        }
    }
    new_long_array(env, &flat)
}

/// A timeout (>= 0) or the error's code.
fn timeout_or_code(r: Result<u32, Error>) -> jint {
    match r {
        Ok(t) => t.min(jint::MAX as u32) as jint,
        Err(e) => e.zookeeper_code(),
    }
}

/// Waits up to `timeout_ms` for expired sessions and writes up to `out.length / N` of them
/// into `out`, `N` longs each as `record` lays them out; the number of sessions written,
/// or a negative code.
fn poll_into<const N: usize>(
    env: &JNIEnv<'_>,
    e: &Engine,
    out: &JLongArray<'_>,
    timeout_ms: jint,
    record: impl Fn(&Expired) -> [jlong; N],
) -> jint {
    if out.is_null() || timeout_ms < 0 {
        return CODE_BAD_ARGUMENTS;
    }
    let Ok(len) = env.get_array_length(out) else {
        return bad_array(env);
    };
    let max = len as usize / N;
    if max == 0 {
        return CODE_BAD_ARGUMENTS;
    }
    let wait = Duration::from_millis(timeout_ms as u64);
    let batch = match e.poll_expired(max, wait) {
        Ok(b) => b,
        Err(err) => return err.zookeeper_code(),
    };
    let flat: Vec<jlong> = batch.iter().flat_map(&record).collect();
    match env.set_long_array_region(out, 0, &flat) {
        Ok(()) => batch.len() as jint,
        Err(_) => CODE_SYSTEM_ERROR,
    }
}

jni_fn! {
    /// `long[] nativeExpiryMap(long handle)`: `(deadline_ms, id)` pairs of every live
    /// session, deadlines on the engine clock (see `nativeNowMs`).
    /// Null (with an `OutOfMemoryError` pending) if the array cannot be made.
    fn Java_org_zksession_SessionEngine_nativeExpiryMap<'l>(mut env, e: &Engine) -> jlongArray {
        failure: std::ptr::null_mut();
        flat_expiry_map(&mut env, e.expiry_map())
    }
}

jni_fn! {
    /// `long[] nativeSnapshot(long handle)`: `(id, timeout_ms, kind)` triples of every live
    /// session. Null (with an `OutOfMemoryError` pending) if the array cannot be made.
    fn Java_org_zksession_SessionEngine_nativeSnapshot<'l>(mut env, e: &Engine) -> jlongArray {
        failure: std::ptr::null_mut();
        let snap = e.snapshot();
        let mut flat = Vec::with_capacity(snap.len() * 3);
        for s in snap {
            flat.push(s.id as jlong);
            flat.push(s.timeout_ms as jlong);
            flat.push(s.kind as u8 as jlong);
        }
        new_long_array(&mut env, &flat)
    }
}

jni_fn! {
    /// `int nativeStats(long handle, long[] out)`: writes, in order, the global, local and
    /// closing counts, the create, touch and expiration totals, then the remote entries,
    /// the touch table, and the closing local and closing global counts: as many of these
    /// 10 as `out` holds (at least 6); 0 or a negative code.
    fn Java_org_zksession_SessionEngine_nativeStats<'l>(
        env,
        e: &Engine,
        out: JLongArray<'l>,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        let Ok(len) = env.get_array_length(&out) else {
            return bad_array(&env);
        };
        if len < 6 {
            return CODE_BAD_ARGUMENTS;
        }
        let c = e.counts();
        let t = e.totals();
        let v = [
            c.global,
            c.local,
            c.closing,
            t.creates,
            t.touches,
            t.expirations,
            c.remote,
            c.touch_table,
            c.closing_local,
            c.closing_global,
        ]
        .map(|x| x.min(i64::MAX as u64) as jlong);
        let n = v.len().min(len as usize);
        match env.set_long_array_region(&out, 0, &v[..n]) {
            Ok(()) => OK,
            Err(_) => bad_array(&env),
        }
    }
}

jni_fn! {
    /// `long nativeNowMs(long handle)`: the engine clock's reading (ms), or -1 on failure.
    fn Java_org_zksession_SessionEngine_nativeNowMs<'l>(_env, e: &Engine) -> jlong {
        failure: -1;
        e.now_ms().min(i64::MAX as u64) as jlong
    }
}

jni_fn! {
    /// `long nativeTimeToLive(long handle, long id)`: ms until the session is due, or a
    /// negative code.
    fn Java_org_zksession_SessionEngine_nativeTimeToLive<'l>(_env, e: &Engine, id: jlong) -> jlong {
        failure: CODE_SYSTEM_ERROR as jlong;
        match e.time_to_live(id as u64) {
            Ok(ms) => ms.min(i64::MAX as u64) as jlong,
            Err(e) => e.zookeeper_code() as jlong,
        }
    }
}

jni_fn! {
    /// `int nativeNegotiateTimeout(long handle, long requestedMs)`: the timeout a session
    /// asking for `requestedMs` gets.
    fn Java_org_zksession_SessionEngine_nativeNegotiateTimeout<'l>(
        _env,
        e: &Engine,
        requested_ms: jlong,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        let t = e.negotiate_timeout(requested_ms);
        t.min(jint::MAX as u32) as jint
    }
}

jni_fn! {
    /// `int nativeKindAny(long handle, long id)`: the kind of any tracked session, closing
    /// ones included: 0 (global), 1 (local) or 2 (remote entry), OR-ed with 4 if closing;
    /// or a negative code.
    fn Java_org_zksession_SessionEngine_nativeKindAny<'l>(_env, e: &Engine, id: jlong) -> jint {
        failure: CODE_SYSTEM_ERROR;
        match e.kind_any(id as u64) {
            Ok(s) => {
                let kind = if s.remote {
                    KIND_REMOTE
                } else {
                    s.kind as u8 as jint
                };
                kind | if s.closing { KIND_CLOSING } else { 0 }
            }
            Err(err) => err.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `long nativeNextId(long handle)`: a fresh id from the engine's generator, tracked
    /// nowhere; 0 on failure.
    fn Java_org_zksession_SessionEngine_nativeNextId<'l>(_env, e: &Engine) -> jlong {
        failure: 0;
        e.next_id() as jlong
    }
}

jni_fn! {
    /// `int nativeAddRemote(long handle, long id, int timeoutMs)`: 1 if newly tracked as a
    /// remote entry, 0 if the id was already tracked, or a negative code.
    fn Java_org_zksession_SessionEngine_nativeAddRemote<'l>(
        _env,
        e: &Engine,
        id: jlong,
        timeout_ms: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        if timeout_ms <= 0 {
            return CODE_BAD_ARGUMENTS;
        }
        match e.add_remote(id as u64, timeout_ms as u32) {
            Ok(added) => added as jint,
            Err(err) => err.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `int nativeUpgradeToRemote(long handle, long id)`: the session's timeout (>= 0) once
    /// it is a remote entry, or a negative code.
    fn Java_org_zksession_SessionEngine_nativeUpgradeToRemote<'l>(
        _env,
        e: &Engine,
        id: jlong,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        timeout_or_code(e.upgrade_to_remote(id as u64))
    }
}

jni_fn! {
    /// `int nativeLearnerTouch(long handle, long id, int timeoutMs)`: 0 (refreshed here),
    /// 1 (recorded for the leader), or a negative code.
    fn Java_org_zksession_SessionEngine_nativeLearnerTouch<'l>(
        _env,
        e: &Engine,
        id: jlong,
        timeout_ms: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        if timeout_ms <= 0 {
            return CODE_BAD_ARGUMENTS;
        }
        match e.learner_touch(id as u64, timeout_ms as u32) {
            Ok(LearnerTouch::Local) => TOUCH_LOCAL,
            Ok(LearnerTouch::Forwarded) => TOUCH_FORWARDED,
            Err(err) => err.zookeeper_code(),
        }
    }
}

jni_fn! {
    /// `int nativeRecordTouch(long handle, long id, int timeoutMs)`: records the touch
    /// unconditionally; 0, or a negative code for a negative timeout.
    fn Java_org_zksession_SessionEngine_nativeRecordTouch<'l>(
        _env,
        e: &Engine,
        id: jlong,
        timeout_ms: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        if timeout_ms < 0 {
            return CODE_BAD_ARGUMENTS;
        }
        e.record_touch(id as u64, timeout_ms as u32);
        OK
    }
}

jni_fn! {
    /// `long[] nativeDrainTouched(long handle)`: every recorded touch as `(id, timeout_ms)`
    /// pairs. Null (with an `OutOfMemoryError` pending) if the array cannot be made; the
    /// drained touches are then put back, so none is lost.
    fn Java_org_zksession_SessionEngine_nativeDrainTouched<'l>(mut env, e: &Engine) -> jlongArray {
        failure: std::ptr::null_mut();
        let touched = e.drain_touched();
        let mut flat = Vec::with_capacity(touched.len() * 2);
        for &(id, timeout_ms) in &touched {
            flat.push(id as jlong);
            flat.push(timeout_ms as jlong);
        }
        let arr = new_long_array(&mut env, &flat);
        if arr.is_null() {
            for (id, timeout_ms) in touched {
                e.record_touch(id, timeout_ms);
            }
        }
        arr
    }
}

jni_fn! {
    /// `int nativeMakeGlobal(long handle, long id)`: the session's timeout (>= 0) once it
    /// is global, or a negative code.
    fn Java_org_zksession_SessionEngine_nativeMakeGlobal<'l>(_env, e: &Engine, id: jlong) -> jint {
        failure: CODE_SYSTEM_ERROR;
        timeout_or_code(e.make_global(id as u64))
    }
}

jni_fn! {
    /// `void nativeStopWorkers(long handle)`: stops and joins the expiry workers and wakes
    /// every poller; idempotent.
    fn Java_org_zksession_SessionEngine_nativeStopWorkers<'l>(_env, e: &Engine) {
        failure: ();
        e.stop_workers();
    }
}

jni_fn! {
    /// `int nativePollExpiredKinds(long handle, long[] out, int timeoutMs)`: as
    /// `nativePollExpired`, with `(id, timeout_ms, kind)` triples (kind 0 = global,
    /// 1 = local), up to `out.length / 3` of them.
    fn Java_org_zksession_SessionEngine_nativePollExpiredKinds<'l>(
        env,
        e: &Engine,
        out: JLongArray<'l>,
        timeout_ms: jint,
    ) -> jint {
        failure: CODE_SYSTEM_ERROR;
        poll_into(&env, e, &out, timeout_ms, |x| {
            [x.id as jlong, x.timeout_ms as jlong, x.kind as u8 as jlong]
        })
    }
}

jni_fn! {
    /// `long[] nativeExpiryMapByKind(long handle, int kind)`: as `nativeExpiryMap`, for the
    /// sessions of one kind (0 = global, 1 = local). Null for another kind, or (with an
    /// `OutOfMemoryError` pending) if the array cannot be made.
    fn Java_org_zksession_SessionEngine_nativeExpiryMapByKind<'l>(
        mut env,
        e: &Engine,
        kind: jint,
    ) -> jlongArray {
        failure: std::ptr::null_mut();
        let kind = match kind {
            0 => SessionKind::Global,
            1 => SessionKind::Local,
            _ => return std::ptr::null_mut(),
        };
        flat_expiry_map(&mut env, e.expiry_map_by_kind(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The `native` methods `SessionEngine.java` declares.
    fn java_natives() -> BTreeSet<String> {
        let src = include_str!("../bindings/java/src/main/java/org/zksession/SessionEngine.java");
        src.split("static native ")
            .skip(1)
            .filter_map(|decl| {
                let head = decl.split('(').next()?;
                head.split_whitespace().last().map(str::to_owned)
            })
            .collect()
    }

    /// A `JNIEnv` that must never be used: the bodies it is passed to never start.
    fn unusable_env<'a>() -> JNIEnv<'a> {
        // SAFETY: only a NULL check; every call below returns before touching the env
        // (an injected panic at the start of the body, or handle 0).
        unsafe { JNIEnv::from_raw(std::ptr::NonNull::dangling().as_ptr()) }.unwrap()
    }

    /// Every `native` method runs its body in the panic boundary (a panic injected at its
    /// start gives the failure value), and every one taking a handle returns the failure
    /// value for handle 0 without running its body.
    #[test]
    #[allow(clippy::cmp_null)] // the failure value of the array exports is NULL
    fn every_export_fails_cleanly_on_panic_and_on_handle_zero() {
        const PREFIX: &str = "Java_org_zksession_SessionEngine_";
        let mut checked = BTreeSet::new();
        macro_rules! check {
            ($f:ident($($arg:expr),*) => $want:expr) => {{
                panic_hook::arm();
                let got = $f(unusable_env(), JClass::default() $(, $arg)*);
                assert!(!panic_hook::disarm(), "{} did not run in the boundary", stringify!($f));
                assert!(got == $want, "{}: not the failure value on panic", stringify!($f));
                checked.insert(stringify!($f).trim_start_matches(PREFIX).to_owned());
            }};
        }
        macro_rules! check_handle {
            ($f:ident($($arg:expr),*) => $want:expr) => {{
                check!($f(1 $(, $arg)*) => $want);
                let got = $f(unusable_env(), JClass::default(), 0 $(, $arg)*);
                assert!(got == $want, "{}: not the failure value for handle 0", stringify!($f));
            }};
        }
        let no_longs = JLongArray::default;
        let no_ints = JIntArray::default;
        let no_bytes = JByteArray::default;
        let err = CODE_SYSTEM_ERROR;
        check!(Java_org_zksession_SessionEngine_nativeOpen(200, 400, 4000, 1, 0, 0, 0, 0, 0) => 0);
        check!(Java_org_zksession_SessionEngine_nativeFree(0) => ());
        check_handle!(Java_org_zksession_SessionEngine_nativeCreate(1000, 0, no_ints()) => 0);
        check_handle!(Java_org_zksession_SessionEngine_nativeAdd(1, 1000, 0) => err);
        check_handle!(
            Java_org_zksession_SessionEngine_nativeRestore(no_longs(), no_ints(), 0) => err
        );
        check_handle!(Java_org_zksession_SessionEngine_nativeTouch(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeTouchWithTimeout(1, 1000) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeTouchMany(no_longs(), 0, 0) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeSetClosing(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeCloseSession(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeRemove(1) => JNI_FALSE);
        check_handle!(Java_org_zksession_SessionEngine_nativeIsTracking(1) => JNI_FALSE);
        check_handle!(Java_org_zksession_SessionEngine_nativeSetOwner(1, 2) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeOwner(1, no_longs()) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeCheck(1, 2) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeCheckGlobal(1, 2) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeUpgrade(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeKind(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativePassword(1, no_bytes()) => err);
        check_handle!(
            Java_org_zksession_SessionEngine_nativeVerifyPassword(1, no_bytes()) => JNI_FALSE
        );
        check_handle!(Java_org_zksession_SessionEngine_nativePollExpired(no_longs(), 0) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeExpireDue() => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeAdvanceClock(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeExpiryMap() => std::ptr::null_mut());
        check_handle!(Java_org_zksession_SessionEngine_nativeSnapshot() => std::ptr::null_mut());
        check_handle!(Java_org_zksession_SessionEngine_nativeStats(no_longs()) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeNowMs() => -1);
        check_handle!(Java_org_zksession_SessionEngine_nativeTimeToLive(1) => err as jlong);
        check_handle!(Java_org_zksession_SessionEngine_nativeNegotiateTimeout(1000) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeKindAny(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeNextId() => 0);
        check_handle!(Java_org_zksession_SessionEngine_nativeAddRemote(1, 1000) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeUpgradeToRemote(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeLearnerTouch(1, 1000) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeRecordTouch(1, 1000) => err);
        check_handle!(
            Java_org_zksession_SessionEngine_nativeDrainTouched() => std::ptr::null_mut()
        );
        check_handle!(Java_org_zksession_SessionEngine_nativeMakeGlobal(1) => err);
        check_handle!(Java_org_zksession_SessionEngine_nativeStopWorkers() => ());
        check_handle!(
            Java_org_zksession_SessionEngine_nativePollExpiredKinds(no_longs(), 0) => err
        );
        check_handle!(
            Java_org_zksession_SessionEngine_nativeExpiryMapByKind(0) => std::ptr::null_mut()
        );
        assert_eq!(
            checked,
            java_natives(),
            "a native method is not checked here"
        );
    }

    #[test]
    fn engine_results_use_the_engine_table() {
        assert_eq!(code(Ok(())), OK);
        assert_eq!(code(Err(Error::UnknownSession)), -12);
        assert_eq!(code(Err(Error::NotPollable)), -6);
        assert_eq!(CODE_BAD_ARGUMENTS, -8);
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
