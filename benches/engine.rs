//! Touch and create throughput of the engine next to its baselines, in one run.
//!
//! `cargo bench --bench engine` (set `ZKS_BENCH_SIZES=100000,1000000` to choose live-session
//! counts; default 100k, 1M and 10M). Every group holds the engine and its baselines at the
//! same size, so the ratios are read off one report:
//! - `engine/touch` (the real API, one clock read per touch), `engine/touch_at` (clock read
//!   amortised by the caller), `engine/touch_many` (batches of 1024, one clock reading and
//!   one pin each);
//! - `floor/hashbrown`: a single-threaded `hashbrown::HashMap<u64, u64>` storing a deadline;
//! - `floor/atomic_store`: one relaxed store to a random record of an n-record array, at 1
//!   and 2 threads: what a touch costs with no lookup and no clock (the memory floor);
//! - `zk_shaped`: one mutex over a HashMap + BTreeMap bucket queue, moved on every touch;
//! - `eager_wheel`: the engine's sharding with eager bucket moves instead of lazy re-filing.
//!
//! The session timeout is 10 ms with a 1 ms tick, so touches really do cross buckets (with
//! ZooKeeper's 2 s tick most touches within a tick are free for every design).

mod common;

use common::{random_indices, EagerWheel, Ms, ZkShaped};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use zksession::engine::{Config, Engine, SessionKind};

const TICK: u32 = 1;
const TIMEOUT: i64 = 10;
const OPS: usize = 1 << 20;

fn sizes() -> Vec<usize> {
    std::env::var("ZKS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000, 10_000_000])
}

fn engine() -> Engine {
    let config = Config {
        min_session_timeout_ms: TICK,
        max_session_timeout_ms: u32::MAX,
        ..Config::with_tick(TICK)
    };
    // No expiry workers and no `expire_due`: nothing expires during the benchmark, so every
    // touch succeeds and does its full work (a failed touch would flatter the numbers).
    Engine::builder(config).workers(false).build().unwrap()
}

/// Runs `f(thread_index, iters)` on `threads` threads and returns the wall time.
fn parallel(threads: usize, iters: u64, f: &(dyn Fn(usize, u64) + Sync)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || f(t, iters));
        }
    });
    start.elapsed()
}

fn touch(c: &mut Criterion) {
    for n in sizes() {
        let mut g = c.benchmark_group(format!("touch/{n}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        let idx = random_indices(OPS, n, 0x5eed);

        {
            let e = engine();
            let ids: Vec<u64> = (0..n)
                .map(|_| e.create(TIMEOUT, SessionKind::Global).id)
                .collect();
            for threads in [1usize, 2] {
                g.throughput(Throughput::Elements(threads as u64));
                g.bench_function(BenchmarkId::new("engine/touch", threads), |b| {
                    b.iter_custom(|iters| {
                        parallel(threads, iters, &|t, iters| {
                            for i in 0..iters as usize {
                                let id = ids[idx[(i + t * 7919) & (OPS - 1)] as usize];
                                let _ = black_box(e.touch(id));
                            }
                        })
                    })
                });
                g.bench_function(BenchmarkId::new("engine/touch_at", threads), |b| {
                    b.iter_custom(|iters| {
                        parallel(threads, iters, &|t, iters| {
                            let mut now = e.now_ms();
                            for i in 0..iters as usize {
                                if i & 1023 == 0 {
                                    now = e.now_ms();
                                }
                                let id = ids[idx[(i + t * 7919) & (OPS - 1)] as usize];
                                let _ = black_box(e.touch_at(id, now));
                            }
                        })
                    })
                });
                g.bench_function(BenchmarkId::new("engine/touch_many", threads), |b| {
                    b.iter_custom(|iters| {
                        parallel(threads, iters, &|t, iters| {
                            let mut batch = Vec::with_capacity(1024);
                            let mut i = 0usize;
                            while (i as u64) < iters {
                                batch.clear();
                                for _ in 0..1024.min(iters as usize - i) {
                                    batch.push(ids[idx[(i + t * 7919) & (OPS - 1)] as usize]);
                                    i += 1;
                                }
                                black_box(e.touch_many(&batch));
                            }
                        })
                    })
                });
            }
            assert_eq!(
                e.counts().closing,
                0,
                "no session expired during the benchmark"
            );
        }

        {
            let clock = Ms::new();
            let mut floor: hashbrown::HashMap<u64, u64> = hashbrown::HashMap::new();
            let base = 1u64 << 56;
            for i in 0..n as u64 {
                floor.insert(base + i, 0);
            }
            g.throughput(Throughput::Elements(1));
            g.bench_function(BenchmarkId::new("floor/hashbrown", 1), |b| {
                let mut i = 0usize;
                b.iter(|| {
                    let id = base + idx[i & (OPS - 1)] as u64;
                    i += 1;
                    if let Some(d) = floor.get_mut(&id) {
                        *d = clock.now() + TIMEOUT as u64;
                    }
                })
            });
        }

        {
            // The floor of a touch that writes only its record: one relaxed store to a
            // random 24-byte record of an n-record array (no lookup, no clock), per thread.
            let records: Vec<[std::sync::atomic::AtomicU64; 3]> = (0..n)
                .map(|_| std::array::from_fn(|_| std::sync::atomic::AtomicU64::new(0)))
                .collect();
            for threads in [1usize, 2] {
                g.throughput(Throughput::Elements(threads as u64));
                g.bench_function(BenchmarkId::new("floor/atomic_store", threads), |b| {
                    b.iter_custom(|iters| {
                        parallel(threads, iters, &|t, iters| {
                            for i in 0..iters as usize {
                                let r = &records[idx[(i + t * 7919) & (OPS - 1)] as usize];
                                r[1].store(i as u64, std::sync::atomic::Ordering::Relaxed);
                            }
                        })
                    })
                });
            }
        }

        {
            let zk = ZkShaped::new(TICK as u64);
            let ids: Vec<u64> = (0..n).map(|_| zk.create(TIMEOUT as u32)).collect();
            for threads in [1usize, 2] {
                g.throughput(Throughput::Elements(threads as u64));
                g.bench_function(BenchmarkId::new("zk_shaped", threads), |b| {
                    b.iter_custom(|iters| {
                        parallel(threads, iters, &|t, iters| {
                            for i in 0..iters as usize {
                                let id = ids[idx[(i + t * 7919) & (OPS - 1)] as usize];
                                black_box(zk.touch(id));
                            }
                        })
                    })
                });
            }
        }

        {
            let shards = Config::default().shards;
            let w = EagerWheel::new(TICK as u64, shards);
            let base = 1u64 << 56;
            for i in 0..n as u64 {
                w.insert(base + i, TIMEOUT as u32);
            }
            for threads in [1usize, 2] {
                g.throughput(Throughput::Elements(threads as u64));
                g.bench_function(BenchmarkId::new("eager_wheel", threads), |b| {
                    b.iter_custom(|iters| {
                        parallel(threads, iters, &|t, iters| {
                            for i in 0..iters as usize {
                                let id = base + idx[(i + t * 7919) & (OPS - 1)] as u64;
                                black_box(w.touch(id));
                            }
                        })
                    })
                });
            }
        }
        g.finish();
    }
}

fn create(c: &mut Criterion) {
    let mut g = c.benchmark_group("create");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));
    g.bench_function("engine", |b| {
        b.iter_custom(|iters| {
            let e = engine();
            let start = Instant::now();
            for _ in 0..iters {
                black_box(e.create(TIMEOUT, SessionKind::Global));
            }
            start.elapsed()
        })
    });
    g.bench_function("zk_shaped", |b| {
        b.iter_custom(|iters| {
            let zk = ZkShaped::new(TICK as u64);
            let start = Instant::now();
            for _ in 0..iters {
                black_box(zk.create(TIMEOUT as u32));
            }
            start.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, touch, create);
criterion_main!(benches);
