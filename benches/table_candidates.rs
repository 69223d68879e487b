//! The session-table candidates of issue 14, measured on the touch's shape: find a record
//! by id, then raise the atomic deadline in it by CAS (failing on a closing flag), at
//! `ZKS_CAND_SESSIONS` (default 1,000,000) records with random ids touched in random order.
//!
//! Candidates: the engine itself (`Engine::touch_at`, the real path: epoch pin, shard
//! table probe, CAS, striped touch count), `papaya::HashMap` (pinned `get`),
//! `scc::HashIndex` (`peek_with`), `dashmap::DashMap` (`get`, which holds the shard's read
//! lock), and a floor: the CAS alone on a random record of a plain array. Every map holds
//! the same 16-byte record (state word, timeout, filed tick) under a `u64` key, hashed
//! with the same murmur3 finaliser the engine uses (their default SipHash would measure
//! the hasher, not the table).
//!
//! For each: touches at 1 and 2 threads, both per CPU-second (summed over threads: robust
//! on a shared machine) and wall-clock (total operations over elapsed time: shows waiting
//! and cache lines moving between cores, but also other processes' load), the 2t/1t ratio
//! of each, measured consecutively in one process; bytes per entry (allocator-counted live
//! bytes after the inserts, over the entry count); and inserts per second at 1 and 2
//! threads into an empty map (for the engine: `add` with the same random ids, and `create`,
//! which also makes the id and the default keyed password).
//!
//! `cargo bench --bench table_candidates`
//! (`ZKS_CAND_OPS` sets the touches per thread; default 4,194,304).

mod common;
#[path = "common/measure.rs"]
mod measure;

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::Instant;
use zksession::engine::{Config, Engine, SessionKind};

#[global_allocator]
static ALLOC: measure::Counting = measure::Counting;

/// The closing flag in a record's state word (`deadline: u32 | flags: u8 | ...`).
const CLOSING: u64 = 1 << 32;

/// A session record as a map value: what the engine's slot holds besides the id.
struct Rec {
    state: AtomicU64,
    timeout_ms: AtomicU32,
    filed: AtomicU32,
}

impl Rec {
    fn new(timeout_ms: u32) -> Rec {
        Rec {
            state: AtomicU64::new(0),
            timeout_ms: AtomicU32::new(timeout_ms),
            filed: AtomicU32::new(0),
        }
    }

    /// The touch: raises the deadline to `now + timeout` unless closing. Returns whether
    /// the session is live.
    #[inline]
    fn touch(&self, now: u32) -> bool {
        let d = now + self.timeout_ms.load(Ordering::Relaxed);
        let mut w = self.state.load(Ordering::Acquire);
        loop {
            if w & CLOSING != 0 {
                return false;
            }
            if (w as u32) >= d {
                return true;
            }
            let to = (w & !(u32::MAX as u64)) | d as u64;
            match self
                .state
                .compare_exchange(w, to, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(x) => w = x,
            }
        }
    }
}

// `scc::HashIndex` needs values it can clone (it copies entries when it rebuilds a bucket).
impl Clone for Rec {
    fn clone(&self) -> Rec {
        Rec {
            state: AtomicU64::new(self.state.load(Ordering::Relaxed)),
            timeout_ms: AtomicU32::new(self.timeout_ms.load(Ordering::Relaxed)),
            filed: AtomicU32::new(self.filed.load(Ordering::Relaxed)),
        }
    }
}

/// murmur3's 64-bit finaliser as a hasher of `u64` keys (the engine's own hash).
#[derive(Default, Clone, Copy)]
struct Fmix(u64);

impl Hasher for Fmix {
    fn finish(&self) -> u64 {
        let mut k = self.0;
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ *b as u64;
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 ^= i;
    }
}

#[derive(Default, Clone, Copy)]
struct FmixBuild;

impl BuildHasher for FmixBuild {
    type Hasher = Fmix;
    fn build_hasher(&self) -> Fmix {
        Fmix(0)
    }
}

/// Rates of one run, in millions of operations per second.
#[derive(Clone, Copy, Default)]
struct Rate {
    /// Summed over the threads, per CPU-second of each.
    cpu: f64,
    /// Total operations over the wall-clock time from the common start to the last end.
    wall: f64,
}

/// Runs `f(thread, ops)` on `threads` threads started together.
fn run(threads: usize, ops: usize, f: &(dyn Fn(usize, usize) + Sync)) -> Rate {
    let start = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let c = measure::thread_cpu_s();
                    f(t, ops);
                    ops as f64 / (measure::thread_cpu_s() - c) / 1e6
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        let cpu = hs.into_iter().map(|h| h.join().unwrap()).sum();
        let wall = (threads * ops) as f64 / t0.elapsed().as_secs_f64() / 1e6;
        Rate { cpu, wall }
    })
}

/// One candidate's figures.
struct Row {
    name: &'static str,
    touch: [Rate; 2],
    insert: [Rate; 2],
    bytes: f64,
}

/// A candidate table: built empty, filled, touched.
trait Candidate: Sync {
    fn insert(&self, id: u64);
    fn touch(&self, id: u64, now: u32) -> bool;
}

struct Papaya(papaya::HashMap<u64, Rec, FmixBuild>);
impl Candidate for Papaya {
    fn insert(&self, id: u64) {
        self.0.pin().insert(id, Rec::new(10));
    }
    #[inline]
    fn touch(&self, id: u64, now: u32) -> bool {
        self.0.pin().get(&id).is_some_and(|r| r.touch(now))
    }
}

struct Scc(scc::HashIndex<u64, Rec, FmixBuild>);
impl Candidate for Scc {
    fn insert(&self, id: u64) {
        let _ = self.0.insert(id, Rec::new(10));
    }
    #[inline]
    fn touch(&self, id: u64, now: u32) -> bool {
        self.0.peek_with(&id, |_, r| r.touch(now)).unwrap_or(false)
    }
}

struct Dash(dashmap::DashMap<u64, Rec, FmixBuild>);
impl Candidate for Dash {
    fn insert(&self, id: u64) {
        self.0.insert(id, Rec::new(10));
    }
    #[inline]
    fn touch(&self, id: u64, now: u32) -> bool {
        self.0.get(&id).is_some_and(|r| r.touch(now))
    }
}

/// The engine through its public calls: `add` (table insert and wheel filing) and
/// `touch_at` (the whole lock-free touch).
struct Eng(Engine);
impl Candidate for Eng {
    fn insert(&self, id: u64) {
        self.0.add(id, 10, SessionKind::Global).unwrap();
    }
    #[inline]
    fn touch(&self, id: u64, now: u32) -> bool {
        self.0.touch_at(id, now as u64).is_ok()
    }
}

fn engine() -> Engine {
    Engine::builder(Config {
        min_session_timeout_ms: 1,
        max_session_timeout_ms: u32::MAX,
        ..Config::with_tick(1)
    })
    .workers(false)
    .build()
    .unwrap()
}

struct Bench {
    ids: Vec<u64>,
    idx: Vec<u32>,
    ops: usize,
    base: u32,
}

impl Bench {
    /// The `i`th id thread `t` touches.
    #[inline]
    fn at(&self, i: usize, t: usize) -> u64 {
        self.ids[self.idx[(i + t * 7919) & (self.idx.len() - 1)] as usize]
    }

    /// The touch's clock: rises by one every 1024 touches, so most touches move the
    /// deadline (a CAS that lands).
    #[inline]
    fn now(&self, i: usize) -> u32 {
        self.base + (i >> 10) as u32
    }

    fn measure<C: Candidate>(&self, name: &'static str, make: &dyn Fn() -> C) -> Row {
        let n = self.ids.len();
        let before = measure::live();
        let c = make();
        let one = run(1, n, &|_, n| {
            for &id in &self.ids[..n] {
                c.insert(id);
            }
        });
        let bytes = (measure::live() - before) as f64 / n as f64;
        let f = |t: usize, ops: usize| {
            for i in 0..ops {
                std::hint::black_box(c.touch(self.at(i, t), self.now(i)));
            }
        };
        let touch = [run(1, self.ops, &f), run(2, self.ops, &f)];
        assert!(
            c.touch(self.ids[0], self.now(self.ops)),
            "{name}: touch works"
        );
        drop(c);
        let c = make();
        let two = run(2, n / 2, &|t, half| {
            for &id in &self.ids[t * half..(t + 1) * half] {
                c.insert(id);
            }
        });
        drop(c);
        Row {
            name,
            touch,
            insert: [one, two],
            bytes,
        }
    }
}

fn main() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let n = env("ZKS_CAND_SESSIONS", 1_000_000);
    let ops = env("ZKS_CAND_OPS", 1 << 22);
    let mut r = 0x9E37_79B9_7F4A_7C15u64;
    let ids: Vec<u64> = (0..n)
        .map(|_| {
            // xorshift64*; ids are nonzero and below 2^63 (the engine's range).
            r ^= r >> 12;
            r ^= r << 25;
            r ^= r >> 27;
            (r.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 1) | 1
        })
        .collect();
    let b = Bench {
        idx: common::random_indices(1 << 20, n, 0x5eed),
        ids,
        ops,
        base: engine().now_ms() as u32 + 1_000,
    };
    println!("table candidates: {n} records, random ids, {ops} touches per thread");
    let mut rows = vec![
        b.measure("engine", &|| Eng(engine())),
        b.measure("papaya", &|| {
            Papaya(papaya::HashMap::with_hasher(FmixBuild))
        }),
        b.measure("scc::HashIndex", &|| {
            Scc(scc::HashIndex::with_hasher(FmixBuild))
        }),
        b.measure("dashmap", &|| {
            Dash(dashmap::DashMap::with_hasher(FmixBuild))
        }),
    ];
    // The floor: the record's CAS alone, at a random index of a plain array.
    let records: Vec<Rec> = (0..n).map(|_| Rec::new(10)).collect();
    let f = |t: usize, ops: usize| {
        for i in 0..ops {
            let k = b.idx[(i + t * 7919) & (b.idx.len() - 1)] as usize;
            std::hint::black_box(records[k].touch(b.now(i)));
        }
    };
    rows.push(Row {
        name: "floor/cas",
        touch: [run(1, ops, &f), run(2, ops, &f)],
        insert: [Rate::default(); 2],
        bytes: std::mem::size_of::<Rec>() as f64,
    });
    // The engine's create: id, table insert, wheel filing and the default keyed password.
    let e = engine();
    let create_one = run(1, n, &|_, n| {
        for _ in 0..n {
            std::hint::black_box(e.create(10, SessionKind::Global));
        }
    });
    drop(e);
    let e = engine();
    let create_two = run(2, n / 2, &|_, n| {
        for _ in 0..n {
            std::hint::black_box(e.create(10, SessionKind::Global));
        }
    });
    drop(e);
    // The password alone (default mode), on the same ids.
    let e = engine();
    let pw = run(1, n, &|_, n| {
        let mut acc = 0u8;
        for &id in &b.ids[..n] {
            acc ^= e.password(id)[0];
        }
        std::hint::black_box(acc);
    });

    let floor = rows.last().unwrap().touch;
    println!(
        "{:<15} {:>23} {:>23} {:>15} {:>23} {:>8}",
        "",
        "touch 1t M/s cpu|wall",
        "touch 2t M/s cpu|wall",
        "2t/1t cpu|wall",
        "insert 1t|2t M/cpu-s",
        "B/entry"
    );
    for row in &rows {
        let [a, z] = row.touch;
        println!(
            "{:<15} {:>11.2} {:>11.2} {:>11.2} {:>11.2} {:>7.2} {:>7.2} {:>11.2} {:>11.2} {:>8.1}",
            row.name,
            a.cpu,
            a.wall,
            z.cpu,
            z.wall,
            z.cpu / a.cpu,
            z.wall / a.wall,
            row.insert[0].cpu,
            row.insert[1].cpu,
            row.bytes
        );
    }
    println!("touch per CPU-second relative to the engine (1t | 2t):");
    let eng = rows[0].touch;
    for row in &rows[1..] {
        println!(
            "  {:<15} {:.2} | {:.2}",
            row.name,
            row.touch[0].cpu / eng[0].cpu,
            row.touch[1].cpu / eng[1].cpu
        );
    }
    println!(
        "  engine / floor  {:.2} | {:.2}",
        eng[0].cpu / floor[0].cpu,
        eng[1].cpu / floor[1].cpu
    );
    println!("inserts wall-clock M/s (1t | 2t):");
    for row in &rows[..rows.len() - 1] {
        println!(
            "  {:<15} {:.2} | {:.2}",
            row.name, row.insert[0].wall, row.insert[1].wall
        );
    }
    println!(
        "engine create (default keyed password): 1t {:.2} M/cpu-s ({:.2} wall), 2t {:.2} M/cpu-s ({:.2} wall); password alone {:.0} ns, add alone {:.0} ns, create {:.0} ns (per CPU)",
        create_one.cpu,
        create_one.wall,
        create_two.cpu,
        create_two.wall,
        1e3 / pw.cpu,
        1e3 / rows[0].insert[0].cpu,
        1e3 / create_one.cpu
    );
}
