//! The reaper: deletes empty container nodes and expired TTL nodes on a timer, as
//! ZooKeeper 3.8's `ContainerManager` does.
//!
//! Owns: the thread `zksessiond-reaper`, its schedule (a pass every
//! `znode.container.checkIntervalMs`, the first one interval after start), its [`Pacer`]
//! (at most `znode.container.maxPerMinute` deletions a minute, spaced evenly), and
//! [`reap_one`], the write that deletes one node.
//!
//! A pass pages through the namespace's container and TTL index
//! ([`Namespace::reap_candidates`](crate::namespace::Namespace::reap_candidates)),
//! [`PAGE`] entries per namespace-lock hold, and deletes each node found due with a lock
//! hold of its own, in which the rule is checked again ([`crate::namespace`], module
//! `reap`). A deletion goes through the same path as any write: it takes a zxid, is logged
//! (as ZooKeeper's `deleteContainer` txn, client id 0) before its zxid is published, and
//! its watch events are routed under the lock, so the event loops hold them until the txn
//! is durable.
//!
//! Invariants: the thread holds an `Arc` of the shared state only until [`Reaper::stop`]
//! returns; the namespace lock is never held while waiting (for the next pass or for the
//! pacer).
//!
//! Must never: block an event loop, delete faster than the configured rate, or hold the
//! namespace lock across a whole pass.

use super::shared::{wall_ms, Shared};
use crate::engine::{Clock, SystemClock};
use crate::namespace::ReapRules;
use crate::persist::Txn;
use crate::sync::{thread, Condvar, Mutex, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Index entries looked at per namespace-lock hold.
pub(crate) const PAGE: usize = 256;

/// Spaces deletions evenly so that no more than `per_minute` happen in any minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pacer {
    /// Microseconds between two deletions.
    gap_us: u64,
    /// The earliest time (µs of the monotonic clock) the next deletion may run.
    next_us: u64,
}

impl Pacer {
    /// A pacer for `per_minute` deletions a minute (at least 1).
    pub(crate) fn new(per_minute: u64) -> Pacer {
        Pacer {
            gap_us: 60_000_000 / per_minute.max(1),
            next_us: 0,
        }
    }

    /// How long (ms, rounded up) to wait at `now_ms` before the next deletion.
    pub(crate) fn wait_ms(&self, now_ms: u64) -> u64 {
        self.next_us
            .saturating_sub(now_ms.saturating_mul(1000))
            .div_ceil(1000)
    }

    /// Records a deletion made at `now_ms`.
    pub(crate) fn took(&mut self, now_ms: u64) {
        self.next_us = self.next_us.max(now_ms.saturating_mul(1000)) + self.gap_us;
    }
}

/// When the pass after one due at `due_ms` is due, seen at `now_ms`: one interval later
/// (fixed rate), or `now_ms` if a slow pass overran it (missed passes are not run twice).
pub(crate) fn next_pass(due_ms: u64, interval_ms: u64, now_ms: u64) -> u64 {
    (due_ms + interval_ms).max(now_ms)
}

/// The stop flag and the condvar the thread waits on.
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Waits up to `ms`; true when asked to stop.
    fn wait(&self, ms: u64) -> bool {
        let mut g = Some(self.stopped.lock());
        if !**g.as_ref().expect("guard present") && ms > 0 {
            self.wake.wait_for(&mut g, Duration::from_millis(ms));
        }
        let stopped = **g.as_ref().expect("guard present");
        stopped
    }
}

/// The running reaper thread.
pub(crate) struct Reaper {
    stop: Arc<Stop>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Reaper {
    /// Starts the thread; its first pass runs one check interval from now.
    pub(crate) fn start(shared: Arc<Shared>) -> std::io::Result<Reaper> {
        let stop = Arc::new(Stop {
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        let s = stop.clone();
        let thread = thread::Builder::new()
            .name("zksessiond-reaper".to_owned())
            .spawn(move || run(&shared, &s, &SystemClock::new()))?;
        Ok(Reaper {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread (a pass in progress ends after its current deletion) and joins it.
    pub(crate) fn stop(&mut self) {
        *self.stop.stopped.lock() = true;
        self.stop.wake.notify_all();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the reaper thread panicked");
            }
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.stop();
    }
}

fn rules(shared: &Shared) -> ReapRules {
    ReapRules {
        max_never_used_ms: shared.config.container_max_never_used_ms,
    }
}

fn run(shared: &Shared, stop: &Stop, clock: &dyn Clock) {
    let interval = shared.config.container_check_interval_ms.max(1);
    let mut pacer = Pacer::new(shared.config.container_max_per_minute);
    let mut due = clock.now_ms() + interval;
    loop {
        if stop.wait(due.saturating_sub(clock.now_ms())) {
            return;
        }
        if clock.now_ms() < due {
            continue; // woken early without a stop
        }
        if !pass(shared, stop, clock, &mut pacer) {
            return;
        }
        due = next_pass(due, interval, clock.now_ms());
    }
}

/// One pass over the index; false when asked to stop during it.
fn pass(shared: &Shared, stop: &Stop, clock: &dyn Clock, pacer: &mut Pacer) -> bool {
    let rules = rules(shared);
    let mut after: Option<String> = None;
    loop {
        let page =
            shared
                .ns
                .lock()
                .reap_candidates(after.as_deref(), PAGE, wall_ms() as i64, &rules);
        for path in &page.due {
            if stop.wait(pacer.wait_ms(clock.now_ms())) {
                return false;
            }
            if reap_one(shared, path, &rules) {
                pacer.took(clock.now_ms());
            }
        }
        match page.next {
            Some(p) => after = Some(p),
            None => return true,
        }
    }
}

/// Deletes the node at `path` if it is still due (one write, logged and routed like a
/// delete); whether it did.
pub(crate) fn reap_one(shared: &Shared, path: &str, rules: &ReapRules) -> bool {
    let mut ns = shared.ns.lock();
    let before = ns.last_zxid();
    let now = wall_ms() as i64;
    let Some(applied) = ns.reap(path, now, rules) else {
        return false;
    };
    shared.log_txn(&ns, before, 0, 0, now, |_| Txn::DeleteContainer {
        path: path.to_owned(),
    });
    shared.route(&ns, &applied.notifications);
    shared.last_zxid.store(ns.last_zxid(), Ordering::Release);
    drop(ns);
    tracing::info!(path, "empty container or expired TTL node deleted");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_spaces_deletions_by_a_minute_over_the_rate() {
        let mut p = Pacer::new(10_000); // ZooKeeper's default: one per 6 ms
        assert_eq!(p.wait_ms(1_000), 0);
        p.took(1_000);
        assert_eq!(p.wait_ms(1_000), 6);
        assert_eq!(p.wait_ms(1_004), 2);
        assert_eq!(p.wait_ms(1_006), 0);
        p.took(1_006);
        assert_eq!(p.wait_ms(1_006), 6);
    }

    #[test]
    fn pacer_never_allows_more_than_the_rate_in_a_minute() {
        // A manual clock moving 1 ms at a time, deleting whenever the pacer allows.
        for per_minute in [1u64, 7, 120, 10_000, 100_000] {
            let mut p = Pacer::new(per_minute);
            let mut deletions = Vec::new();
            for now in 0..120_000u64 {
                if p.wait_ms(now) == 0 {
                    p.took(now);
                    deletions.push(now);
                }
            }
            // Sliding window: deletions in [deletions[i], deletions[i] + 1 min).
            let mut end = 0;
            for (i, t) in deletions.iter().enumerate() {
                while end < deletions.len() && deletions[end] < t + 60_000 {
                    end += 1;
                }
                let in_minute = (end - i) as u64;
                assert!(in_minute <= per_minute, "{per_minute}/min: {in_minute}");
            }
            // And it does not fall far behind the rate either (at most 1 ms per wait lost).
            let per_min_done = deletions.len() as u64 / 2;
            assert!(
                per_min_done >= per_minute.min(60_000) * 9 / 10,
                "{per_minute}/min: {per_min_done}"
            );
        }
    }

    #[test]
    fn pacer_does_not_bank_idle_time() {
        let mut p = Pacer::new(60); // one a second
        p.took(0);
        // Idle for a minute: the next deletion runs at once, the one after waits a gap.
        assert_eq!(p.wait_ms(60_000), 0);
        p.took(60_000);
        assert_eq!(p.wait_ms(60_000), 1_000);
    }

    #[test]
    fn passes_run_at_a_fixed_rate_and_skip_missed_ones() {
        assert_eq!(next_pass(1_000, 500, 1_010), 1_500);
        // A pass that overran two intervals: the next runs at once, not three times.
        assert_eq!(next_pass(1_000, 500, 2_200), 2_200);
    }
}
