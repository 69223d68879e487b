//! Where expired sessions go, and how late they got there.
//!
//! Owns: the [`Expirer`] sink trait, the built-in pull queue behind `poll_expired`, and
//! the expiry-lag histogram.
//!
//! Must never: call back into the engine while holding a shard lock (sinks are always
//! invoked after the shard lock is released), or lose an expired session between the
//! decision and the sink.

use super::session::Expired;
use crate::sync::{AtomicU64, Condvar, Mutex, Ordering};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Receives expired sessions, in batches, from the engine's expiry workers (or from the
/// thread calling `expire_due`).
///
/// Called with no engine lock held, so it may call any engine method, including
/// `remove`. It should return promptly: a slow sink delays the next batch of its worker.
pub trait Expirer: Send + Sync + 'static {
    /// Handles a batch of sessions that have just been marked closing.
    fn expired(&self, sessions: &[Expired]);
}

impl<F> Expirer for F
where
    F: Fn(&[Expired]) + Send + Sync + 'static,
{
    fn expired(&self, sessions: &[Expired]) {
        self(sessions)
    }
}

/// The pull queue used when no [`Expirer`] is supplied.
///
/// Once stopped, `poll` never waits (the flag is set under the queue's lock, so a waiter
/// either sees it before waiting or is woken by the stop's notification).
#[derive(Debug, Default)]
pub(crate) struct ExpiredQueue {
    queue: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<Expired>,
    stopped: bool,
}

impl ExpiredQueue {
    pub(crate) fn push(&self, batch: &[Expired]) {
        if batch.is_empty() {
            return;
        }
        self.queue.lock().items.extend(batch.iter().copied());
        self.ready.notify_all();
    }

    /// Marks the queue stopped and wakes every waiter; later polls do not wait.
    pub(crate) fn stop(&self) {
        self.queue.lock().stopped = true;
        self.ready.notify_all();
    }

    /// Pops up to `max` sessions, waiting up to `wait` for the first one (not at all once
    /// stopped).
    pub(crate) fn poll(&self, max: usize, wait: Duration, out: &mut Vec<Expired>) {
        let deadline = Instant::now().checked_add(wait);
        let mut guard = Some(self.queue.lock());
        let before = out.len();
        loop {
            let st = guard.as_mut().expect("guard present");
            if !st.items.is_empty() || st.stopped || wait.is_zero() {
                let n = max.min(st.items.len());
                out.extend(st.items.drain(..n));
                debug_assert!(out.len() - before <= max);
                return;
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return;
            }
            self.ready.wait_for(&mut guard, left);
            if cfg!(loom) {
                // Loom has no time: one wait models "until woken or timed out".
                let st = guard.as_mut().expect("guard present");
                let n = max.min(st.items.len());
                out.extend(st.items.drain(..n));
                return;
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queue.lock().items.len()
    }
}

/// The sink an engine delivers to.
pub(crate) enum Sink {
    Queue(ExpiredQueue),
    Callback(Box<dyn Expirer>),
}

impl Sink {
    pub(crate) fn deliver(&self, batch: &[Expired]) {
        if batch.is_empty() {
            return;
        }
        match self {
            Sink::Queue(q) => q.push(batch),
            Sink::Callback(cb) => cb.expired(batch),
        }
    }
}

/// Number of histogram buckets: bucket 0 holds lag 0 ms, bucket `i > 0` holds
/// `2^(i-1) ..= 2^i - 1` ms; the last bucket takes everything larger.
pub const LAG_BUCKETS: usize = 24;

/// A log2 histogram of expiry lag (decision time minus deadline, in ms).
#[derive(Debug)]
pub(crate) struct LagHistogram {
    buckets: [AtomicU64; LAG_BUCKETS],
    max: AtomicU64,
    sum: AtomicU64,
}

/// A snapshot of the expiry-lag histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LagSummary {
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
    /// Raw bucket counts (see [`LAG_BUCKETS`] for the bucket bounds).
    pub buckets: [u64; LAG_BUCKETS],
}

/// The largest lag (ms) bucket `i` holds.
pub const fn lag_bucket_upper_ms(i: usize) -> u64 {
    if i == 0 {
        0
    } else {
        (1u64 << i) - 1
    }
}

impl LagHistogram {
    pub(crate) fn new() -> Self {
        LagHistogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            max: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }

    /// Records `n` expirations that were each `lag_ms` late.
    pub(crate) fn record(&self, lag_ms: u64, n: u64) {
        if n == 0 {
            return;
        }
        let i = if lag_ms == 0 {
            0
        } else {
            ((64 - lag_ms.leading_zeros()) as usize).min(LAG_BUCKETS - 1)
        };
        debug_assert!(i == LAG_BUCKETS - 1 || lag_ms <= lag_bucket_upper_ms(i));
        debug_assert!(i == 0 || lag_ms > lag_bucket_upper_ms(i - 1));
        // Relaxed: these are statistics; no other memory is published through them.
        self.buckets[i].fetch_add(n, Ordering::Relaxed);
        self.sum
            .fetch_add(lag_ms.saturating_mul(n), Ordering::Relaxed);
        self.max.fetch_max(lag_ms, Ordering::Relaxed);
    }

    pub(crate) fn summary(&self) -> LagSummary {
        let mut buckets = [0u64; LAG_BUCKETS];
        for (b, a) in buckets.iter_mut().zip(&self.buckets) {
            *b = a.load(Ordering::Relaxed);
        }
        let count: u64 = buckets.iter().sum();
        let pct = |p: u64| -> u64 {
            if count == 0 {
                return 0;
            }
            let rank = (count * p).div_ceil(100).max(1);
            let mut seen = 0;
            for (i, &b) in buckets.iter().enumerate() {
                seen += b;
                if seen >= rank {
                    return lag_bucket_upper_ms(i);
                }
            }
            lag_bucket_upper_ms(LAG_BUCKETS - 1)
        };
        LagSummary {
            count,
            p50_ms: pct(50),
            p99_ms: pct(99),
            max_ms: self.max.load(Ordering::Relaxed),
            sum_ms: self.sum.load(Ordering::Relaxed),
            buckets,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::engine::SessionKind;

    fn exp(id: u64) -> Expired {
        Expired {
            id,
            timeout_ms: 1,
            kind: SessionKind::Global,
            deadline_ms: 0,
        }
    }

    #[test]
    fn queue_pops_in_order_up_to_max() {
        let q = ExpiredQueue::default();
        q.push(&[exp(1), exp(2), exp(3)]);
        let mut out = Vec::new();
        q.poll(2, Duration::ZERO, &mut out);
        assert_eq!(out.iter().map(|e| e.id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(q.len(), 1);
        out.clear();
        q.poll(10, Duration::ZERO, &mut out);
        assert_eq!(out.iter().map(|e| e.id).collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn queue_poll_times_out_empty() {
        let q = ExpiredQueue::default();
        let mut out = Vec::new();
        q.poll(10, Duration::from_millis(5), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn queue_poll_wakes_on_push() {
        let q = std::sync::Arc::new(ExpiredQueue::default());
        let q2 = q.clone();
        let h = std::thread::spawn(move || {
            let mut out = Vec::new();
            q2.poll(10, Duration::from_secs(30), &mut out);
            out
        });
        std::thread::sleep(Duration::from_millis(20));
        q.push(&[exp(9)]);
        assert_eq!(h.join().unwrap()[0].id, 9);
    }

    #[test]
    fn histogram_buckets_and_percentiles() {
        let h = LagHistogram::new();
        h.record(0, 50);
        h.record(3, 49);
        h.record(1000, 1);
        let s = h.summary();
        assert_eq!(s.count, 100);
        assert_eq!(s.buckets[0], 50);
        assert_eq!(s.buckets[2], 49);
        assert_eq!(s.p50_ms, 0);
        assert_eq!(s.p99_ms, 3);
        assert_eq!(s.max_ms, 1000);
        assert_eq!(s.sum_ms, 147 + 1000);
        assert_eq!(lag_bucket_upper_ms(10), 1023);
    }
}
