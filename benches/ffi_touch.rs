//! Touch throughput at 1M sessions: the Rust API (`Engine::touch`) against the C ABI
//! (`zks_touch`, called through its `extern "C"` symbol) on the same engine, in one run.
//!
//! Run: `cargo bench --bench ffi_touch`. Besides criterion's figures it prints the
//! ratio C / Rust from interleaved timed rounds (the target is at most 1.2).

use criterion::{black_box, Criterion};
use std::ptr::null_mut;
use std::time::Instant;
use zksession::ffi::{
    zks_config_default, zks_create, zks_created, zks_engine, zks_engine_free,
    zks_engine_new_manual, zks_result, zks_touch, zks_touch_many, ZKS_SESSION_GLOBAL,
};

const SESSIONS: usize = 1_000_000;

/// A manual-clock engine (no expiry workers) holding `SESSIONS` sessions, and their ids
/// in a shuffled order.
struct Fixture {
    engine: *mut zks_engine,
    ids: Vec<u64>,
}

impl Fixture {
    fn new() -> Fixture {
        let mut engine = null_mut();
        // SAFETY: valid out-pointers; the config holds no secret pointer.
        unsafe {
            let mut c = std::mem::MaybeUninit::uninit();
            assert_eq!(zks_config_default(c.as_mut_ptr()), zks_result::ZKS_OK);
            let mut c = c.assume_init();
            c.max_session_timeout_ms = 3_600_000;
            assert_eq!(
                zks_engine_new_manual(&c, 1_000_000, &mut engine),
                zks_result::ZKS_OK
            );
        }
        let mut ids: Vec<u64> = (0..SESSIONS)
            .map(|_| {
                let mut s = std::mem::MaybeUninit::<zks_created>::uninit();
                // SAFETY: a live engine and a writable output.
                unsafe {
                    assert_eq!(
                        zks_create(engine, 600_000, ZKS_SESSION_GLOBAL, s.as_mut_ptr()),
                        zks_result::ZKS_OK
                    );
                    s.assume_init().id
                }
            })
            .collect();
        // A fixed xorshift shuffle, so every run touches in the same order.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in (1..ids.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ids.swap(i, (x % (i as u64 + 1)) as usize);
        }
        Fixture { engine, ids }
    }

    fn rust(&self) -> &zksession::engine::Engine {
        // SAFETY: the handle is live for the fixture's life.
        unsafe { &*self.engine }.engine()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: made by zks_engine_new_manual, freed once.
        unsafe { zks_engine_free(self.engine) }
    }
}

fn touch_rust(f: &Fixture, start: usize, n: usize) {
    let e = f.rust();
    for i in start..start + n {
        black_box(e.touch(f.ids[i % SESSIONS]).is_ok());
    }
}

fn touch_c(f: &Fixture, start: usize, n: usize) {
    for i in start..start + n {
        // SAFETY: a live engine.
        black_box(unsafe { zks_touch(f.engine, f.ids[i % SESSIONS]) } == zks_result::ZKS_OK);
    }
}

fn benches(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("touch_1M_sessions");
    let mut i = 0usize;
    g.bench_function("rust Engine::touch", |b| {
        b.iter(|| {
            touch_rust(f, i, 1);
            i += 1;
        })
    });
    let mut i = 0usize;
    g.bench_function("c_abi zks_touch", |b| {
        b.iter(|| {
            touch_c(f, i, 1);
            i += 1;
        })
    });
    let batch = 1024;
    let mut i = 0usize;
    g.bench_function("rust Engine::touch_many/1024", |b| {
        b.iter(|| {
            let off = (i * batch) % (SESSIONS - batch);
            black_box(f.rust().touch_many(&f.ids[off..off + batch]));
            i += 1;
        })
    });
    let mut i = 0usize;
    g.bench_function("c_abi zks_touch_many/1024", |b| {
        b.iter(|| {
            let off = (i * batch) % (SESSIONS - batch);
            let mut n = 0usize;
            // SAFETY: a live engine; `batch` ids from `off`; a writable count.
            black_box(unsafe { zks_touch_many(f.engine, f.ids[off..].as_ptr(), batch, &mut n) });
            i += 1;
        })
    });
    g.finish();
}

/// Interleaved rounds of 2M touches per path; the fastest round of each is compared.
fn ratio(f: &Fixture) {
    let n = 2_000_000;
    let (mut best_rust, mut best_c) = (f64::MAX, f64::MAX);
    for round in 0..7 {
        let start = round * n;
        let t = Instant::now();
        touch_rust(f, start, n);
        best_rust = best_rust.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        touch_c(f, start, n);
        best_c = best_c.min(t.elapsed().as_secs_f64());
    }
    println!(
        "touch at 1M sessions: rust {:.1} ns/op, c_abi {:.1} ns/op, ratio c/rust = {:.3}",
        best_rust * 1e9 / n as f64,
        best_c * 1e9 / n as f64,
        best_c / best_rust
    );
}

fn main() {
    let f = Fixture::new();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &f);
    c.final_summary();
    ratio(&f);
}
