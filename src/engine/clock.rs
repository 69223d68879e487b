//! Injected time.
//!
//! Owns: the [`Clock`] trait every time-dependent engine decision reads, the real
//! [`SystemClock`] (with the kernel's coarse clock as its cheap reading), and
//! [`ManualClock`] for deterministic tests (exact: its cheap reading is its reading).
//!
//! Must never: be read by anything above the engine for protocol timing decisions that
//! the engine makes (deadlines, expiry); those go through the engine's clock so tests can
//! drive them.

use crate::sync::{AtomicU64, Ordering};
#[cfg(not(target_os = "linux"))]
use std::time::Instant;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of time for the engine.
///
/// `now_ms` must be monotonic (never decrease). `id_seed_ms` seeds session ids (ZooKeeper
/// uses its monotonic clock; the default here is wall-clock time, so ids stay unique
/// across restarts of the process).
pub trait Clock: Send + Sync + 'static {
    /// Monotonic milliseconds; the origin is arbitrary but fixed for the clock's life.
    fn now_ms(&self) -> u64;

    /// A cheap reading of the same clock for the touch path: at any instant
    /// `coarse_now_ms() <= now_ms() <= coarse_now_ms() + coarse_granularity_ms()`, and
    /// monotonic too. The default is the precise reading.
    #[inline]
    fn coarse_now_ms(&self) -> u64 {
        self.now_ms()
    }

    /// How far [`Clock::coarse_now_ms`] may trail [`Clock::now_ms`] (ms); 0 when it is
    /// exact.
    fn coarse_granularity_ms(&self) -> u64 {
        0
    }

    /// Milliseconds used to seed the session-id generator.
    fn id_seed_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The real monotonic clock: milliseconds since the clock was made, offset so that
/// `now_ms` starts well above zero (tick arithmetic never underflows).
///
/// # Implementation notes
/// On Linux the precise reading is `CLOCK_MONOTONIC` and the cheap one
/// `CLOCK_MONOTONIC_COARSE`: the same clock as the kernel last stored it at its tick, read
/// from the vDSO without touching the time-stamp counter (about a third of the cost). The
/// kernel keeps it within one tick of the precise clock (its `clock_getres`, 4 ms at
/// `HZ=250`); the granularity reported adds 1 ms for the truncation to milliseconds and
/// 1 ms of margin for a late timer interrupt. Elsewhere both readings are `Instant`'s.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    #[cfg(not(target_os = "linux"))]
    origin: Instant,
    #[cfg(target_os = "linux")]
    origin_ns: u64,
    #[cfg(target_os = "linux")]
    granularity_ms: u64,
}

#[cfg(target_os = "linux")]
fn clock_ns(id: libc::clockid_t) -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; both clock ids exist on every Linux
    // this crate supports (2.6.32+), so the call cannot fail.
    unsafe { libc::clock_gettime(id, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// The value [`SystemClock::now_ms`] returns at the clock's creation.
const SYSTEM_CLOCK_OFFSET_MS: u64 = 1 << 20;

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        #[cfg(target_os = "linux")]
        let granularity_ms = {
            let mut r = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `r` is a valid, writable timespec.
            let ok = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut r) } == 0;
            let res_ns = if ok {
                r.tv_sec as u64 * 1_000_000_000 + r.tv_nsec as u64
            } else {
                // Unknown resolution: assume the slowest kernel tick (HZ=100).
                10_000_000
            };
            res_ns.div_ceil(1_000_000) + 2
        };
        SystemClock {
            #[cfg(not(target_os = "linux"))]
            origin: Instant::now(),
            #[cfg(target_os = "linux")]
            origin_ns: clock_ns(libc::CLOCK_MONOTONIC),
            #[cfg(target_os = "linux")]
            granularity_ms,
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    #[cfg(not(target_os = "linux"))]
    fn now_ms(&self) -> u64 {
        SYSTEM_CLOCK_OFFSET_MS + self.origin.elapsed().as_millis() as u64
    }

    #[cfg(target_os = "linux")]
    #[inline]
    fn now_ms(&self) -> u64 {
        let ns = clock_ns(libc::CLOCK_MONOTONIC).saturating_sub(self.origin_ns);
        SYSTEM_CLOCK_OFFSET_MS + ns / 1_000_000
    }

    #[cfg(target_os = "linux")]
    #[inline]
    fn coarse_now_ms(&self) -> u64 {
        // The coarse clock may trail the origin (read precisely) just after creation.
        let ns = clock_ns(libc::CLOCK_MONOTONIC_COARSE).saturating_sub(self.origin_ns);
        SYSTEM_CLOCK_OFFSET_MS + ns / 1_000_000
    }

    #[cfg(target_os = "linux")]
    fn coarse_granularity_ms(&self) -> u64 {
        self.granularity_ms
    }
}

/// A clock that moves only when told to; for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicU64,
    seed: u64,
}

impl ManualClock {
    /// A clock reading `start_ms`, seeding ids with `start_ms` too.
    pub fn new(start_ms: u64) -> Self {
        ManualClock {
            now: AtomicU64::new(start_ms),
            seed: start_ms,
        }
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to `ms`; it must not go backwards.
    ///
    /// # Panics
    /// Panics if `ms` is earlier than the current reading.
    pub fn set(&self, ms: u64) {
        let prev = self.now.swap(ms, Ordering::SeqCst);
        assert!(
            ms >= prev,
            "ManualClock must not go backwards ({prev} -> {ms})"
        );
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn id_seed_ms(&self) -> u64 {
        self.seed
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1000);
        assert_eq!(c.now_ms(), 1000);
        c.advance(5);
        assert_eq!(c.now_ms(), 1005);
        c.set(2000);
        assert_eq!(c.now_ms(), 2000);
        assert_eq!(c.id_seed_ms(), 1000);
    }

    #[test]
    #[should_panic(expected = "must not go backwards")]
    fn manual_clock_refuses_to_go_back() {
        let c = ManualClock::new(1000);
        c.set(999);
    }

    #[test]
    fn system_clock_is_monotonic_and_offset() {
        let c = SystemClock::new();
        let a = c.now_ms();
        let b = c.now_ms();
        assert!(a >= SYSTEM_CLOCK_OFFSET_MS);
        assert!(b >= a);
    }

    #[test]
    fn coarse_reading_brackets_the_precise_one() {
        let c = SystemClock::new();
        let g = c.coarse_granularity_ms();
        assert!(g <= 12, "granularity {g} ms");
        for _ in 0..2000 {
            let lo = c.coarse_now_ms();
            let p = c.now_ms();
            let hi = c.coarse_now_ms();
            // lo was read before p, hi after: lo <= p, and p <= hi + g.
            assert!(lo <= p, "coarse {lo} after precise {p}");
            assert!(p <= hi + g, "precise {p} beyond coarse {hi} + {g}");
        }
    }

    #[test]
    fn manual_clock_is_exact_in_both_readings() {
        let c = ManualClock::new(1000);
        c.advance(7);
        assert_eq!(c.coarse_now_ms(), c.now_ms());
        assert_eq!(c.coarse_granularity_ms(), 0);
    }
}
