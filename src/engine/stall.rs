//! Stall accounting: time the engine's own process could not run is not the clients'
//! silence.
//!
//! Owns: the *stall credit* (milliseconds of clock time, summed over every detected stall,
//! that the engine's time does not count), the last clock time at which an expiry pass was
//! seen running, and the stall figures.
//!
//! # Ground rules
//! - **Engine time** is the clock's reading minus the credit. Every deadline and every
//!   expiry decision is in engine time, so crediting a stall of `X` ms adds `X` ms to every
//!   session's deadline at once (O(1): nothing per session is written).
//! - **Detection.** A pass that asked to run at clock time `asked` and runs at `now` with
//!   `now - asked > threshold` woke late: the process (or at least every expiry pass) could
//!   not run. The span credited is `now - last_seen`, where `last_seen` is the latest clock
//!   time any pass was seen running (at a wake-up or just before going to sleep). The true
//!   stall lies inside that span, so the credit is never less than the stall and exceeds it
//!   by at most the time between the last sighting and the stall's start (under one tick
//!   for the engine's workers, which sight themselves before every sleep).
//! - **Once per stall.** Detection, the credit and `last_seen` change together under one
//!   lock, and a pass computes its engine time under that lock after its own detection, so
//!   two workers waking late from the same stall credit it once: the second finds
//!   `last_seen` already at the first one's wake-up.
//! - **Monotonic for passes.** The credit only grows, and by at most `now - last_seen`, so
//!   the engine time of successive passes never decreases. A reader outside the passes (a
//!   touch on the event loop between the resume and the detection) may read an engine time
//!   up to the stall's length later than the one after the credit; that only makes the
//!   deadline it computes later, never earlier.
//!
//! Must never: be written by a touch (the credit is read-mostly: one relaxed load on the
//! hot path), or credit time during which a pass was seen running.

use crate::sync::{AtomicU64, Mutex, Ordering};
use crossbeam_utils::CachePadded;

/// The stall figures since the engine started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StallFigures {
    /// Stalls detected.
    pub stalls: u64,
    /// Milliseconds credited for them in total.
    pub credited_ms: u64,
}

#[derive(Debug)]
struct Sighting {
    /// The latest clock time (ms) at which a pass was seen running.
    last_seen: u64,
    figures: StallFigures,
}

/// The engine's stall credit and the state that detects stalls.
#[derive(Debug)]
pub(crate) struct StallClock {
    /// Total milliseconds credited: engine time = clock time - credit. Written only under
    /// `sighting`'s lock, read by every touch (on its own cache line, so the lock word's
    /// writes never evict it from the touching cores).
    credit: CachePadded<AtomicU64>,
    sighting: Mutex<Sighting>,
    /// Lateness (ms) above which a wake-up is a stall; 0 disables detection.
    threshold_ms: u64,
}

impl StallClock {
    /// A stall clock that last saw the process running at clock time `start_ms`.
    pub(crate) fn new(start_ms: u64, threshold_ms: u32) -> Self {
        StallClock {
            credit: CachePadded::new(AtomicU64::new(0)),
            sighting: Mutex::new(Sighting {
                last_seen: start_ms,
                figures: StallFigures::default(),
            }),
            threshold_ms: threshold_ms as u64,
        }
    }

    /// The engine time of clock time `clock_ms`.
    #[inline]
    pub(crate) fn engine_ms(&self, clock_ms: u64) -> u64 {
        // Relaxed: a stale (smaller) credit only makes the engine time, and so any
        // deadline computed from it, later; no other memory is published through it.
        clock_ms.saturating_sub(self.credit.load(Ordering::Relaxed))
    }

    /// The credit in force (ms).
    #[inline]
    pub(crate) fn credit_ms(&self) -> u64 {
        self.credit.load(Ordering::Relaxed)
    }

    /// A pass that asked to run at clock time `asked_ms` runs at clock time `now_ms`:
    /// detects and credits a stall, records the sighting, and returns the engine time the
    /// pass must decide with.
    pub(crate) fn woke(&self, asked_ms: u64, now_ms: u64) -> u64 {
        let mut s = self.sighting.lock();
        let late = now_ms.saturating_sub(asked_ms);
        let span = now_ms.saturating_sub(s.last_seen);
        if self.threshold_ms > 0 && late > self.threshold_ms && span > self.threshold_ms {
            let before = self.credit.load(Ordering::Relaxed);
            debug_assert!(before <= s.last_seen, "credit never exceeds the clock");
            self.credit.store(before + span, Ordering::Relaxed);
            s.figures.stalls += 1;
            s.figures.credited_ms += span;
        }
        s.last_seen = s.last_seen.max(now_ms);
        // Under the lock: a pass never decides with a credit older than its own detection.
        let engine = now_ms.saturating_sub(self.credit.load(Ordering::Relaxed));
        debug_assert!(engine <= now_ms);
        engine
    }

    /// Records that a pass was seen running at clock time `now_ms` (just before a sleep).
    pub(crate) fn seen(&self, now_ms: u64) {
        let mut s = self.sighting.lock();
        s.last_seen = s.last_seen.max(now_ms);
    }

    /// The figures so far.
    pub(crate) fn figures(&self) -> StallFigures {
        self.sighting.lock().figures
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_on_time_credits_nothing() {
        let s = StallClock::new(1000, 500);
        assert_eq!(s.woke(2000, 2400), 2400);
        assert_eq!(s.figures(), StallFigures::default());
        assert_eq!(s.engine_ms(5000), 5000);
    }

    #[test]
    fn a_late_wake_up_credits_the_span_since_the_last_sighting() {
        let s = StallClock::new(1000, 500);
        s.seen(1900);
        // Asked for 2000, woke at 11_000: the process was last seen at 1900.
        assert_eq!(s.woke(2000, 11_000), 1900);
        assert_eq!(
            s.figures(),
            StallFigures {
                stalls: 1,
                credited_ms: 9100
            }
        );
        assert_eq!(s.engine_ms(11_500), 2400);
        assert_eq!(s.credit_ms(), 9100);
    }

    #[test]
    fn a_second_late_pass_from_the_same_stall_credits_nothing_more() {
        let s = StallClock::new(1000, 500);
        assert_eq!(s.woke(2000, 11_000), 1000);
        assert_eq!(s.woke(2000, 11_003), 1003);
        assert_eq!(s.figures().stalls, 1);
        assert_eq!(s.figures().credited_ms, 10_000);
    }

    #[test]
    fn lateness_at_or_below_the_threshold_is_not_a_stall() {
        let s = StallClock::new(1000, 500);
        assert_eq!(s.woke(2000, 2500), 2500);
        assert_eq!(s.figures().stalls, 0);
    }

    #[test]
    fn a_zero_threshold_disables_detection() {
        let s = StallClock::new(1000, 0);
        assert_eq!(s.woke(2000, 60_000), 60_000);
        assert_eq!(s.figures().stalls, 0);
    }

    #[test]
    fn pass_engine_times_never_decrease() {
        let s = StallClock::new(0, 100);
        let mut last = 0;
        let mut now = 0;
        for (i, gap) in [50u64, 300, 20, 5000, 90, 101, 102, 7].iter().enumerate() {
            let asked = now + 10 * (i as u64 % 3);
            now += gap;
            let e = s.woke(asked, now);
            assert!(e >= last, "{e} < {last}");
            last = e;
        }
    }
}
