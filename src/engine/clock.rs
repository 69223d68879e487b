//! Injected time.
//!
//! Owns: the [`Clock`] trait every time-dependent engine decision reads, the real
//! [`SystemClock`], and [`ManualClock`] for deterministic tests.
//!
//! Must never: be read by anything above the engine for protocol timing decisions that
//! the engine makes (deadlines, expiry); those go through the engine's clock so tests can
//! drive them.

use crate::sync::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of time for the engine.
///
/// `now_ms` must be monotonic (never decrease). `id_seed_ms` seeds session ids (ZooKeeper
/// uses its monotonic clock; the default here is wall-clock time, so ids stay unique
/// across restarts of the process).
pub trait Clock: Send + Sync + 'static {
    /// Monotonic milliseconds; the origin is arbitrary but fixed for the clock's life.
    fn now_ms(&self) -> u64;

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
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

/// The value [`SystemClock::now_ms`] returns at the clock's creation.
const SYSTEM_CLOCK_OFFSET_MS: u64 = 1 << 20;

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SYSTEM_CLOCK_OFFSET_MS + self.origin.elapsed().as_millis() as u64
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
}
