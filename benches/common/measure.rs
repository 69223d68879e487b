//! Measuring aids for the figure benchmarks: an allocator that counts live bytes (install
//! it with `#[global_allocator] static ALLOC: measure::Counting = measure::Counting;`) and
//! the calling thread's CPU time.
//!
//! Must never: change what it forwards to the system allocator.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, counting live bytes.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Live bytes allocated through [`Counting`] (when it is the global allocator).
pub fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// CPU time of the calling thread, in seconds (immune to the time other processes of a
/// shared machine take from it; stalls on memory and on cache lines moving between cores
/// still count).
pub fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// `n` zeroed atomic records of 24 bytes in one 2 MiB-aligned allocation advised for
/// transparent huge pages (the floor benchmark's huge-page variant).
pub struct HugeRecords {
    ptr: *mut [std::sync::atomic::AtomicU64; 3],
    layout: Layout,
    n: usize,
}

// SAFETY: the records are atomics, shared only by `&`.
unsafe impl Sync for HugeRecords {}

impl HugeRecords {
    pub fn new(n: usize) -> HugeRecords {
        let layout = Layout::from_size_align(n * 24, 2 << 20).unwrap();
        // SAFETY: non-zero size; zero is a valid atomic.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        assert!(!ptr.is_null());
        // SAFETY: the allocation just made, page-aligned; advice only.
        unsafe { libc::madvise(ptr.cast(), n * 24, libc::MADV_HUGEPAGE) };
        HugeRecords {
            ptr: ptr.cast(),
            layout,
            n,
        }
    }

    /// The middle word of record `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &std::sync::atomic::AtomicU64 {
        assert!(i < self.n);
        // SAFETY: `i < n`, inside the allocation, which lives as long as `self`.
        unsafe { &(*self.ptr.add(i))[1] }
    }
}

impl Drop for HugeRecords {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.cast(), self.layout) }
    }
}
