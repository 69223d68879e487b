//! Tests of the C ABI called from Rust: the rules every export must follow, the header's
//! freshness, and the behaviour of each function (the C programs in `bindings/c/tests`
//! repeat these through a real C compiler and linker).

use super::*;
use std::mem::MaybeUninit;
use std::ptr::{null, null_mut};
use zks_result::*;

/// The functions `include/zksession.h` declares.
fn header_functions() -> std::collections::BTreeSet<String> {
    let h = include_str!("../../include/zksession.h");
    let code: String = h
        .lines()
        .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    let mut names = std::collections::BTreeSet::new();
    for (at, _) in code.match_indices('(') {
        let before = &code[..at];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |p| p + 1);
        let name = &before[start..];
        if name.starts_with("zks_") {
            names.insert(name.to_owned());
        }
    }
    names
}

/// Every function of the header runs its body behind the panic boundary: with a panic
/// injected at the start of the body, each returns its documented panic value instead of
/// unwinding. NULL arguments are fine, since the body never starts.
#[test]
fn every_export_returns_the_panic_code_when_its_body_panics() {
    use super::guard::panic_hook;
    let mut called = std::collections::BTreeSet::new();
    macro_rules! panics_to {
        ($f:ident($($arg:expr),*), $want:expr) => {{
            panic_hook::arm();
            // SAFETY: the injected panic stops the body before it reads any argument.
            #[allow(unused_unsafe)]
            let got = unsafe { $f($($arg),*) };
            assert!(!panic_hook::disarm(), "{} did not run its body in the boundary", stringify!($f));
            assert!(got == $want, "{} returned another value on panic", stringify!($f));
            called.insert(stringify!($f).to_owned());
        }};
    }
    let e: *const zks_engine = null();
    panics_to!(zks_config_default(null_mut()), ZKS_PANIC);
    panics_to!(zks_config_default_for_tick(100, null_mut()), ZKS_PANIC);
    panics_to!(zks_engine_new(null(), null_mut()), ZKS_PANIC);
    panics_to!(zks_engine_new_manual(null(), 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_engine_free(null_mut()), ());
    panics_to!(zks_engine_config(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_now_ms(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_advance_clock(e, 1), ZKS_PANIC);
    panics_to!(zks_negotiate_timeout(e, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_poll_expired(e, null_mut(), 1, 0, null_mut()), ZKS_PANIC);
    panics_to!(zks_expire_due(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_result_zookeeper_code(0), -1);
    panics_to!(zks_create(e, 1, ZKS_SESSION_GLOBAL, null_mut()), ZKS_PANIC);
    panics_to!(zks_add(e, 1, 1, ZKS_SESSION_GLOBAL, null_mut()), ZKS_PANIC);
    panics_to!(zks_touch(e, 1), ZKS_PANIC);
    panics_to!(zks_touch_with_timeout(e, 1, 1), ZKS_PANIC);
    panics_to!(zks_touch_many(e, null(), 0, null_mut()), ZKS_PANIC);
    panics_to!(zks_close(e, 1), ZKS_PANIC);
    panics_to!(zks_set_closing(e, 1), ZKS_PANIC);
    panics_to!(zks_remove(e, 1), ZKS_PANIC);
    panics_to!(zks_is_tracking(e, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_set_owner(e, 1, 1), ZKS_PANIC);
    panics_to!(zks_owner(e, 1, null_mut(), null_mut()), ZKS_PANIC);
    panics_to!(zks_check_session(e, 1, 1), ZKS_PANIC);
    panics_to!(zks_check_global_session(e, 1, 1), ZKS_PANIC);
    panics_to!(zks_upgrade(e, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_is_global(e, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_password(e, 1, null_mut(), 0), ZKS_PANIC);
    panics_to!(zks_verify_password(e, 1, null(), 0, null_mut()), ZKS_PANIC);
    panics_to!(zks_snapshot(e, null_mut(), 0, null_mut()), ZKS_PANIC);
    panics_to!(zks_restore(e, null(), 0, null_mut()), ZKS_PANIC);
    panics_to!(zks_time_to_live(e, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_counts(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_totals(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_len(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_expiry_lag(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_lag_bucket_upper_ms(0), u64::MAX);
    panics_to!(zks_expiry_map(e, null_mut(), 0, null_mut()), ZKS_PANIC);
    panics_to!(
        zks_expiry_map_by_kind(e, 0, null_mut(), 0, null_mut()),
        ZKS_PANIC
    );
    panics_to!(zks_ensemble_counts(e, null_mut()), ZKS_PANIC);
    panics_to!(
        zks_poll_expired_records(e, null_mut(), 1, 0, null_mut()),
        ZKS_PANIC
    );
    panics_to!(zks_stop_workers(e), ZKS_PANIC);
    panics_to!(zks_workers_stopped(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_kind_any(e, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_next_id(e, null_mut()), ZKS_PANIC);
    panics_to!(zks_add_remote(e, 1, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_upgrade_to_remote(e, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_learner_touch(e, 1, 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_record_touch(e, 1, 1), ZKS_PANIC);
    panics_to!(zks_drain_touched(e, null_mut(), 1, null_mut()), ZKS_PANIC);
    panics_to!(zks_make_global(e, 1, null_mut()), ZKS_PANIC);
    // The static strings: on panic, the fallback string.
    panics_to!(zks_version(), zks_version());
    let unknown = zks_result_str(u32::MAX);
    panics_to!(zks_result_str(0), unknown);
    assert_eq!(
        called,
        header_functions(),
        "a function of the header is not checked here"
    );
}

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/zksession.h"))
        .expect("build.rs did not generate zksession.h (see its cargo warning)");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/zksession.h"))
            .expect("include/zksession.h is missing");
    assert!(
        generated == committed,
        "include/zksession.h is stale: run scripts/test-c.sh --update-header"
    );
}

#[test]
fn header_version_macros_match_the_package() {
    let h = include_str!("../../include/zksession.h");
    let v = env!("CARGO_PKG_VERSION");
    assert!(h.contains(&format!("#define ZKS_VERSION_STRING \"{v}\"")));
    for (name, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert!(h.contains(&format!("#define ZKS_VERSION_{name} {value}\n")));
    }
    // SAFETY: zks_version returns a static NUL-terminated string.
    let s = unsafe { std::ffi::CStr::from_ptr(zks_version()) };
    assert_eq!(s.to_str().unwrap(), v);
}

/// A manual-clock engine with a 100 ms tick; freed on drop.
struct Manual(*mut zks_engine);

impl Manual {
    fn new(edit: impl FnOnce(&mut zks_config)) -> Manual {
        let mut c = MaybeUninit::uninit();
        // SAFETY: valid out-pointers; the config has no secret pointer.
        unsafe {
            assert_eq!(zks_config_default_for_tick(100, c.as_mut_ptr()), ZKS_OK);
            let mut c = c.assume_init();
            edit(&mut c);
            let mut e = null_mut();
            assert_eq!(zks_engine_new_manual(&c, 1_000_000, &mut e), ZKS_OK);
            Manual(e)
        }
    }

    fn create(&self, timeout: i64) -> zks_created {
        let mut s = MaybeUninit::uninit();
        // SAFETY: a live engine and a writable output.
        unsafe {
            assert_eq!(
                zks_create(self.0, timeout, ZKS_SESSION_GLOBAL, s.as_mut_ptr()),
                ZKS_OK
            );
            s.assume_init()
        }
    }
}

impl Drop for Manual {
    fn drop(&mut self) {
        // SAFETY: made by zks_engine_new_manual, freed once.
        unsafe { zks_engine_free(self.0) }
    }
}

#[test]
fn manual_engine_expires_only_when_driven() {
    let e = Manual::new(|_| {});
    let s = e.create(1000);
    assert_eq!(s.timeout_ms, 1000);
    let (mut n, mut ids) = (usize::MAX, [0u64; 4]);
    // SAFETY: live engine, valid buffers.
    unsafe {
        assert_eq!(zks_advance_clock(e.0, 1050), ZKS_OK);
        assert_eq!(zks_expire_due(e.0, &mut n), ZKS_OK);
        assert_eq!(n, 0);
        assert_eq!(zks_advance_clock(e.0, 100), ZKS_OK);
        assert_eq!(zks_expire_due(e.0, &mut n), ZKS_OK);
        assert_eq!(n, 1);
        assert_eq!(
            zks_poll_expired(e.0, ids.as_mut_ptr(), 4, 0, &mut n),
            ZKS_OK
        );
        assert_eq!((n, ids[0]), (1, s.id));
        assert_eq!(zks_touch(e.0, s.id), ZKS_SESSION_EXPIRED);
        assert_eq!(zks_remove(e.0, s.id), ZKS_OK);
        assert_eq!(zks_remove(e.0, s.id), ZKS_UNKNOWN_SESSION);
    }
}

#[test]
fn null_handle_and_outputs_change_nothing() {
    let e = Manual::new(|_| {});
    let mut n = 7usize;
    // SAFETY: NULL is an accepted value for every pointer here.
    unsafe {
        assert_eq!(
            zks_create(e.0, 1000, ZKS_SESSION_GLOBAL, null_mut()),
            ZKS_NULL_PARAMETER
        );
        assert_eq!(zks_len(e.0, &mut n), ZKS_OK);
        assert_eq!(n, 0, "a create with a NULL output must not create");
        assert_eq!(zks_touch(null(), 1), ZKS_NULL_PARAMETER);
        assert_eq!(zks_len(null(), &mut n), ZKS_NULL_PARAMETER);
        assert_eq!(n, 0);
        zks_engine_free(null_mut());
        zks_engine_free(null_mut());
    }
}

#[test]
fn callback_engine_reports_each_expiry_once() {
    unsafe extern "C" fn on_expired(
        userdata: *mut std::os::raw::c_void,
        ids: *const u64,
        n: usize,
    ) {
        // SAFETY: userdata is the Vec below; ids holds n ids for the call.
        let (seen, ids) = unsafe {
            (
                &mut *(userdata as *mut Vec<u64>),
                std::slice::from_raw_parts(ids, n),
            )
        };
        seen.extend_from_slice(ids);
    }
    let mut seen: Vec<u64> = Vec::new();
    let seen_ptr: *mut Vec<u64> = &mut seen;
    let e = Manual::new(|c| {
        c.on_expired = Some(on_expired);
        c.userdata = seen_ptr.cast();
    });
    let a = e.create(200);
    let b = e.create(200);
    let (mut n, mut ids) = (0usize, [0u64; 2]);
    // SAFETY: live engine, valid buffers; the callback runs on this thread.
    unsafe {
        assert_eq!(zks_advance_clock(e.0, 1000), ZKS_OK);
        assert_eq!(zks_expire_due(e.0, &mut n), ZKS_OK);
        assert_eq!(zks_expire_due(e.0, &mut n), ZKS_OK);
        assert_eq!(n, 0);
        assert_eq!(
            zks_poll_expired(e.0, ids.as_mut_ptr(), 2, 0, &mut n),
            ZKS_NOT_POLLABLE
        );
    }
    seen.sort_unstable();
    let mut want = vec![a.id, b.id];
    want.sort_unstable();
    assert_eq!(seen, want);
}

#[test]
fn snapshot_reports_the_size_it_needs() {
    let e = Manual::new(|_| {});
    let ids: Vec<u64> = (0..3).map(|_| e.create(1000).id).collect();
    let mut n = 0usize;
    let mut buf = [zks_session_entry {
        id: 0,
        timeout_ms: 0,
        kind: 0,
    }; 3];
    // SAFETY: live engine, valid buffers.
    unsafe {
        assert_eq!(
            zks_snapshot(e.0, null_mut(), 0, &mut n),
            ZKS_INSUFFICIENT_SIZE
        );
        assert_eq!(n, 3);
        assert_eq!(
            zks_snapshot(e.0, buf.as_mut_ptr(), 2, &mut n),
            ZKS_INSUFFICIENT_SIZE
        );
        assert_eq!(buf[0].id, 0, "nothing written on INSUFFICIENT_SIZE");
        assert_eq!(zks_snapshot(e.0, buf.as_mut_ptr(), 3, &mut n), ZKS_OK);
    }
    let mut got: Vec<u64> = buf.iter().map(|s| s.id).collect();
    got.sort_unstable();
    assert_eq!(got, ids);
    let other = Manual::new(|_| {});
    // SAFETY: live engine, valid buffers.
    unsafe {
        assert_eq!(zks_restore(other.0, buf.as_ptr(), 3, &mut n), ZKS_OK);
        assert_eq!(n, 3);
        let bad = [zks_session_entry {
            id: 5,
            timeout_ms: 10,
            kind: 9,
        }];
        assert_eq!(
            zks_restore(other.0, bad.as_ptr(), 1, &mut n),
            ZKS_INVALID_PARAMETER
        );
    }
}

#[test]
fn advance_clock_needs_a_manual_engine_and_refuses_overflow() {
    let mut c = MaybeUninit::uninit();
    let mut e = null_mut();
    // SAFETY: valid pointers throughout; the engine is freed once.
    unsafe {
        assert_eq!(zks_config_default_for_tick(50, c.as_mut_ptr()), ZKS_OK);
        let c = zks_config {
            expiry_workers: 1,
            ..c.assume_init()
        };
        assert_eq!(zks_engine_new(&c, &mut e), ZKS_OK);
        assert_eq!(zks_advance_clock(e, 1), ZKS_NOT_MANUAL_CLOCK);
        zks_engine_free(e);
    }
    let m = Manual::new(|_| {});
    // SAFETY: a live engine.
    unsafe {
        assert_eq!(zks_advance_clock(m.0, u64::MAX), ZKS_INVALID_PARAMETER);
        assert_eq!(zks_advance_clock(m.0, 0), ZKS_OK);
    }
}

#[test]
fn expiry_map_is_sorted_and_sized() {
    let e = Manual::new(|_| {});
    let a = e.create(1000);
    let b = e.create(2000);
    let mut n = 0usize;
    let mut buf = [zks_expiry_entry::default(); 2];
    // SAFETY: live engine, valid buffers.
    unsafe {
        assert_eq!(
            zks_expiry_map(e.0, buf.as_mut_ptr(), 1, &mut n),
            ZKS_INSUFFICIENT_SIZE
        );
        assert_eq!(n, 2);
        assert_eq!(zks_expiry_map(e.0, buf.as_mut_ptr(), 2, &mut n), ZKS_OK);
    }
    assert_eq!((buf[0].id, buf[1].id), (a.id, b.id));
    assert!(buf[0].deadline_ms < buf[1].deadline_ms);
    assert_eq!(zks_lag_bucket_upper_ms(10), 1023);
    assert_eq!(zks_lag_bucket_upper_ms(ZKS_LAG_BUCKETS), u64::MAX);
}

#[test]
fn drained_touches_that_do_not_fit_wait_in_the_handle() {
    let e = Manual::new(|_| {});
    let mut recs = [zks_touch_record {
        id: 0,
        timeout_ms: 0,
    }; 2];
    let mut n = 0usize;
    let mut seen = std::collections::BTreeMap::new();
    // SAFETY: a live engine, a buffer of two records and writable outputs.
    unsafe {
        for id in 1..=5u64 {
            assert_eq!(zks_record_touch(e.0, id, 100 * id as u32), ZKS_OK);
        }
        assert_eq!(zks_drain_touched(e.0, recs.as_mut_ptr(), 2, &mut n), ZKS_OK);
        assert_eq!(n, 2);
        seen.extend(recs[..n].iter().map(|r| (r.id, r.timeout_ms)));
        // Recorded again while carried: one record, the new timeout.
        let carried = (1..=5u64).find(|id| !seen.contains_key(id)).unwrap();
        assert_eq!(zks_record_touch(e.0, carried, 7), ZKS_OK);
        let mut c = MaybeUninit::uninit();
        assert_eq!(zks_ensemble_counts(e.0, c.as_mut_ptr()), ZKS_OK);
        assert_eq!(c.assume_init().touch_table, 4);
        loop {
            assert_eq!(zks_drain_touched(e.0, recs.as_mut_ptr(), 2, &mut n), ZKS_OK);
            for r in &recs[..n] {
                assert!(seen.insert(r.id, r.timeout_ms).is_none(), "{} twice", r.id);
            }
            if n < 2 {
                break;
            }
        }
        assert_eq!(seen.len(), 5);
        assert_eq!(seen[&carried], 7);
    }
}
