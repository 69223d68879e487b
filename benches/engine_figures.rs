//! Figures criterion does not measure well, printed as one table with ratios: touch rates
//! per CPU-second at 1 and 2 threads (robust on a shared machine; `ZKS_FIGURES_TOUCH_ONLY=1`
//! prints only these), bytes per live session (allocator-counted), create rate, and a
//! 1M-session expiry storm (total time, and touch latency on other sessions while it runs).
//!
//! `cargo bench --bench engine_figures` (`ZKS_FIGURES_SESSIONS` sets the storm and memory
//! size; default 1,000,000).

mod common;
#[path = "common/measure.rs"]
mod measure;

use common::{random_indices, ZkShaped};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zksession::engine::{Config, Engine, Expired, ManualClock, SessionKind};

#[global_allocator]
static ALLOC: measure::Counting = measure::Counting;

fn config(tick: u32) -> Config {
    Config {
        min_session_timeout_ms: tick,
        max_session_timeout_ms: u32::MAX,
        ..Config::with_tick(tick)
    }
}

fn bytes_per_session(n: usize) -> (f64, f64) {
    let before = measure::live();
    let e = Engine::builder(config(2000))
        .workers(false)
        .build()
        .unwrap();
    for _ in 0..n {
        e.create(30_000, SessionKind::Global);
    }
    let engine_bytes = (measure::live() - before) as f64 / n as f64;
    drop(e);
    let before = measure::live();
    let zk = ZkShaped::new(2000);
    for _ in 0..n {
        zk.create(30_000);
    }
    let zk_bytes = (measure::live() - before) as f64 / n as f64;
    drop(zk);
    (engine_bytes, zk_bytes)
}

fn create_rate(n: usize, mode: zksession::engine::PasswordMode) -> (f64, f64) {
    let c = Config {
        password_mode: mode,
        ..config(2000)
    };
    let e = Engine::builder(c).workers(false).build().unwrap();
    let t = Instant::now();
    for _ in 0..n {
        e.create(30_000, SessionKind::Global);
    }
    let engine = n as f64 / t.elapsed().as_secs_f64();
    let zk = ZkShaped::new(2000);
    let t = Instant::now();
    for _ in 0..n {
        zk.create(30_000);
    }
    let zk_rate = n as f64 / t.elapsed().as_secs_f64();
    (engine, zk_rate)
}

struct Storm {
    total: Duration,
    expired: usize,
    touches: usize,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

/// `n` sessions due at one tick expire while another thread touches 100k other sessions
/// (due much later) as fast as it can, timing each touch.
fn storm(n: usize) -> Storm {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let delivered = Arc::new(AtomicIsize::new(0));
    let d2 = delivered.clone();
    let e = Arc::new(
        Engine::builder(config(2000))
            .clock(clock.clone())
            .workers(false)
            .expirer(move |b: &[Expired]| {
                d2.fetch_add(b.len() as isize, Ordering::Relaxed);
            })
            .build()
            .unwrap(),
    );
    for _ in 0..n {
        e.create(4000, SessionKind::Global);
    }
    let others: Vec<u64> = (0..100_000)
        .map(|_| e.create(3_600_000, SessionKind::Global).id)
        .collect();
    clock.advance(6000);
    let idx = random_indices(1 << 20, others.len(), 7);
    let done = Arc::new(AtomicBool::new(false));
    let (e2, done2) = (e.clone(), done.clone());
    let toucher = std::thread::spawn(move || {
        let mut lat = Vec::with_capacity(1 << 22);
        let mut i = 0;
        while !done2.load(Ordering::Relaxed) {
            let id = others[idx[i & ((1 << 20) - 1)] as usize];
            let t = Instant::now();
            e2.touch(id).unwrap();
            lat.push(t.elapsed().as_nanos() as u64);
            i += 1;
        }
        lat
    });
    // Let the toucher get going before the storm starts.
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    let expired = e.expire_due();
    let total = t.elapsed();
    done.store(true, Ordering::Relaxed);
    let mut lat = toucher.join().unwrap();
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
    assert_eq!(delivered.load(Ordering::Relaxed) as usize, expired);
    Storm {
        total,
        expired,
        touches: lat.len(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        max_us: *lat.last().unwrap() as f64 / 1000.0,
    }
}

/// The password modes measured, with their labels.
fn password_modes() -> Vec<(&'static str, zksession::engine::PasswordMode)> {
    use zksession::engine::PasswordMode;
    vec![
        (
            "siphash",
            PasswordMode::SipHash {
                secret: vec![7; 32],
            },
        ),
        (
            "hmac",
            PasswordMode::Hmac {
                secret: vec![7; 32],
            },
        ),
        ("zk-pw", PasswordMode::ZooKeeperCompatible),
    ]
}

/// Nanoseconds per password in each mode of [`password_modes`].
fn password_cost() -> Vec<f64> {
    let n = 1_000_000u64;
    let mut out = Vec::new();
    for (_, mode) in password_modes() {
        let c = Config {
            password_mode: mode,
            ..config(2000)
        };
        let e = Engine::builder(c).workers(false).build().unwrap();
        let t = Instant::now();
        let mut acc = 0u8;
        for id in 0..n {
            acc ^= e.password(id)[0];
        }
        std::hint::black_box(acc);
        out.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    out
}

/// Nanoseconds per read of the engine's clock: the precise reading (expiry decisions) and
/// the coarse one (every deadline a touch computes).
fn clock_cost() -> (f64, f64) {
    use zksession::engine::{Clock, SystemClock};
    let c = SystemClock::new();
    let n = 10_000_000u64;
    let run = |read: &dyn Fn(&SystemClock) -> u64| {
        let t = Instant::now();
        let mut acc = 0u64;
        for _ in 0..n {
            acc = acc.wrapping_add(read(std::hint::black_box(&c)));
        }
        std::hint::black_box(acc);
        t.elapsed().as_nanos() as f64 / n as f64
    };
    (run(&|c| c.now_ms()), run(&|c| c.coarse_now_ms()))
}

/// Runs `f(thread, ops)` on `threads` threads started together and returns millions of
/// operations per CPU-second summed over the threads: what that many cores would do if the
/// machine were theirs.
fn per_cpu(threads: usize, ops: usize, f: &(dyn Fn(usize, usize) + Sync)) -> f64 {
    let start = std::sync::Barrier::new(threads);
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
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

/// Touch rates per CPU-second at 1 and 2 threads, `n` live sessions, random ids, the
/// `engine` bench's settings (1 ms tick, 10 ms timeout, nothing expires): `touch`,
/// `touch_at`, `touch_many`, the ZooKeeper-shaped baseline, and floors that add the
/// touch's parts one at a time to a bare access, so the table shows where the time goes:
/// a relaxed store to a random 24-byte record (stores overlap their misses); an atomic
/// read-modify-write of it; the id read from the bench's id array first (the touch's
/// dependent chain: two misses); the same on huge pages; with an epoch pin around it; with
/// a striped counter add after it; and one dependent miss per operation (a walk of a
/// random cycle as large as the engine's tables), the latency bound of a lone touch whose
/// miss cannot overlap the next one's.
///
/// Every row runs once per round, rounds interleave the rows (`ZKS_FIGURES_ROUNDS`,
/// default 5), and the table prints each row's median: a noisy neighbour then spoils one
/// round of every row rather than every round of one.
fn touch_rates(n: usize) {
    const OPS: usize = 1 << 20;
    let rounds: usize = std::env::var("ZKS_FIGURES_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let idx = random_indices(1 << 20, n, 0x5eed);
    let at = |i: usize, t: usize| idx[(i + t * 7919) & ((1 << 20) - 1)] as usize;
    let e = Engine::builder(Config {
        min_session_timeout_ms: 1,
        max_session_timeout_ms: u32::MAX,
        ..Config::with_tick(1)
    })
    .workers(false)
    .build()
    .unwrap();
    let ids: Vec<u64> = (0..n)
        .map(|_| e.create(10, SessionKind::Global).id)
        .collect();
    let zk = ZkShaped::new(1);
    let zk_ids: Vec<u64> = (0..n).map(|_| zk.create(10)).collect();
    let records: Vec<[std::sync::atomic::AtomicU64; 3]> = (0..n)
        .map(|_| std::array::from_fn(|_| std::sync::atomic::AtomicU64::new(0)))
        .collect();
    let huge = measure::HugeRecords::new(n);
    // A random cycle through 2n records of 24 bytes (about the engine's tables at n
    // sessions): following it is one dependent miss per step, the latency a lone touch
    // pays on its slot.
    let cycle: Vec<[u64; 3]> = {
        let mut order: Vec<u32> = (0..2 * n as u32).collect();
        let r = random_indices(order.len(), usize::MAX, 0xc1c1e);
        for i in (1..order.len()).rev() {
            order.swap(i, r[i] as usize % (i + 1));
        }
        let mut c = vec![[0u64; 3]; order.len()];
        for w in 0..order.len() {
            c[order[w] as usize][0] = order[(w + 1) % order.len()] as u64;
        }
        c
    };
    let stripes: Vec<crossbeam_utils::CachePadded<std::sync::atomic::AtomicU64>> =
        (0..64).map(|_| Default::default()).collect();
    // The floors' record of an id: the engine's shard hash, so the chain matches a touch.
    let rec = |id: u64| (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % n;
    type Row<'a> = (&'static str, Box<dyn Fn(usize, usize) + Sync + 'a>);
    let rows: Vec<Row> = vec![
        (
            "touch",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    let _ = std::hint::black_box(e.touch(ids[at(i, t)]));
                }
            }),
        ),
        (
            "touch_at",
            Box::new(|t: usize, ops: usize| {
                let mut now = e.now_ms();
                for i in 0..ops {
                    if i & 1023 == 0 {
                        now = e.now_ms();
                    }
                    let _ = std::hint::black_box(e.touch_at(ids[at(i, t)], now));
                }
            }),
        ),
        (
            "touch_many",
            Box::new(|t: usize, ops: usize| {
                let mut batch = Vec::with_capacity(1024);
                for i in (0..ops).step_by(1024) {
                    batch.clear();
                    batch.extend((i..i + 1024).map(|j| ids[at(j, t)]));
                    std::hint::black_box(e.touch_many(&batch));
                }
            }),
        ),
        (
            "zk_shaped",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    std::hint::black_box(zk.touch(zk_ids[at(i, t)]));
                }
            }),
        ),
        (
            "floor/atomic_store",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    records[at(i, t)][1].store(i as u64, Ordering::Relaxed);
                }
            }),
        ),
        (
            "floor/cas",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    std::hint::black_box(
                        records[at(i, t)][1].fetch_max(i as u64, Ordering::Relaxed),
                    );
                }
            }),
        ),
        (
            "floor/id+cas",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    let r = &records[rec(ids[at(i, t)])];
                    std::hint::black_box(r[1].fetch_max(i as u64, Ordering::Relaxed));
                }
            }),
        ),
        (
            "floor/dependent miss",
            Box::new(|t: usize, ops: usize| {
                let mut at = t * 7919;
                for _ in 0..ops {
                    at = cycle[at][0] as usize;
                }
                std::hint::black_box(at);
            }),
        ),
        (
            "floor/id+cas huge",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    let r = huge.get(rec(ids[at(i, t)]));
                    std::hint::black_box(r.fetch_max(i as u64, Ordering::Relaxed));
                }
            }),
        ),
        (
            "floor/id+pin+cas",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    let id = ids[at(i, t)];
                    let g = crossbeam_epoch::pin();
                    let r = &records[rec(id)];
                    std::hint::black_box(r[1].fetch_max(i as u64, Ordering::Relaxed));
                    drop(g);
                }
            }),
        ),
        (
            "floor/id+pin+cas+count",
            Box::new(|t: usize, ops: usize| {
                for i in 0..ops {
                    let id = ids[at(i, t)];
                    let g = crossbeam_epoch::pin();
                    let r = &records[rec(id)];
                    std::hint::black_box(r[1].fetch_max(i as u64, Ordering::Relaxed));
                    drop(g);
                    stripes[t * 8].fetch_add(1, Ordering::Relaxed);
                }
            }),
        ),
    ];
    let mut samples: Vec<[Vec<f64>; 2]> = rows.iter().map(|_| [vec![], vec![]]).collect();
    for _ in 0..rounds {
        for (k, (_, f)) in rows.iter().enumerate() {
            samples[k][0].push(per_cpu(1, OPS, &**f));
            samples[k][1].push(per_cpu(2, OPS, &**f));
        }
    }
    assert_eq!(e.counts().closing, 0, "nothing expired");
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let table: Vec<(&str, [f64; 2])> = rows
        .iter()
        .zip(samples.iter_mut())
        .map(|((name, _), [a, b])| (*name, [median(a), median(b)]))
        .collect();
    println!("touch/CPU-s: medians of {rounds} interleaved rounds");
    for (name, [one, two]) in &table {
        println!(
            "touch/CPU-s  @{n:>9}: {name:<22} 1t {one:6.2} M  2t {two:6.2} M  2t/1t {:.2}",
            two / one
        );
    }
    let get = |k: &str| table.iter().find(|r| r.0 == k).unwrap().1;
    let (t, ta, zk) = (get("touch"), get("touch_at"), get("zk_shaped"));
    println!(
        "touch/CPU-s ratios: touch/touch_at 1t {:.2} 2t {:.2}; touch/zk_shaped 1t {:.1} 2t {:.1}",
        t[0] / ta[0],
        t[1] / ta[1],
        t[0] / zk[0],
        t[1] / zk[1]
    );
}

fn main() {
    // Ignore criterion-style arguments (`--bench`).
    let n: usize = std::env::var("ZKS_FIGURES_SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    println!("zksession engine figures ({n} sessions)");
    if std::env::var_os("ZKS_FIGURES_TOUCH_ONLY").is_some() {
        touch_rates(n);
        return;
    }
    touch_rates(n);
    for size in [100_000, n] {
        let (eb, zb) = bytes_per_session(size);
        println!(
            "bytes/session @{size:>9}: engine {eb:7.1}  zk_shaped {zb:7.1}  ratio {:.2}x fewer",
            zb / eb
        );
    }
    let (precise, coarse) = clock_cost();
    println!("clock         ns/read    : precise {precise:.1}  coarse {coarse:.1}");
    let cost = password_cost();
    println!(
        "password      ns/op      : siphash-2-4-128 {:.0}  hmac-sha256 {:.0}  zookeeper-random {:.0}",
        cost[0], cost[1], cost[2]
    );
    for (label, mode) in password_modes() {
        let (ec, zc) = create_rate(n, mode);
        println!(
            "creates/s {label:>5} @{n:>9}: engine {:7.0}k zk_shaped {:7.0}k ratio {:.2}x",
            ec / 1e3,
            zc / 1e3,
            ec / zc
        );
    }
    let s = storm(n);
    println!(
        "expiry storm  @{n:>9}: {} expired in {:.1} ms ({:.1} M/s); {} touches elsewhere meanwhile: p50 {:.2} us, p99 {:.2} us, max {:.0} us",
        s.expired,
        s.total.as_secs_f64() * 1e3,
        s.expired as f64 / s.total.as_secs_f64() / 1e6,
        s.touches,
        s.p50_us,
        s.p99_us,
        s.max_us
    );
}
