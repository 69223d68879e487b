//! A counter split in cache-line stripes, one per thread (round robin), so that threads
//! counting at once write no common line.
//!
//! Owns: the stripes and each thread's choice of stripe.
//!
//! # Ground rules
//! - A thread takes the next stripe the first time it counts in any engine, and keeps it;
//!   threads collide on a stripe only when more than [`STRIPES`] threads count at once.
//! - Adds are `Relaxed`: the total is a figure, not a synchronisation point; a sum taken
//!   while others add sees some of their adds.
//!
//! Must never: be used for anything that needs an exact, ordered count.

use crate::sync::{AtomicU64, Ordering};
use crossbeam_utils::CachePadded;
use std::cell::Cell;

/// Stripes per counter (a power of two).
#[cfg(not(loom))]
pub(crate) const STRIPES: usize = 32;
/// Stripes per counter: few under loom, where every atomic is modelled.
#[cfg(loom)]
pub(crate) const STRIPES: usize = 2;

/// Hands out stripe numbers; only a distribution aid, so outside the modelled primitives.
static NEXT_STRIPE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's stripe number (below [`STRIPES`]).
#[inline]
fn stripe() -> usize {
    STRIPE.with(|s| {
        let mut i = s.get();
        if i == usize::MAX {
            i = NEXT_STRIPE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % STRIPES;
            s.set(i);
        }
        i
    })
}

/// A counter of [`STRIPES`] cache-padded stripes.
#[derive(Debug)]
pub(crate) struct Striped {
    cells: Box<[CachePadded<AtomicU64>]>,
}

impl Striped {
    pub(crate) fn new() -> Striped {
        Striped {
            cells: (0..STRIPES)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        }
    }

    /// Adds `n` to this thread's stripe.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.cells[stripe()].fetch_add(n, Ordering::Relaxed);
    }

    /// The sum of every stripe.
    pub(crate) fn sum(&self) -> u64 {
        self.cells.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn adds_from_many_threads_all_count() {
        let c = Striped::new();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        c.add(1);
                    }
                });
            }
        });
        assert_eq!(c.sum(), 8000);
    }

    #[test]
    fn two_threads_get_different_stripes() {
        let a = std::thread::spawn(stripe).join().unwrap();
        let b = std::thread::spawn(stripe).join().unwrap();
        assert_ne!(a, b);
    }
}
