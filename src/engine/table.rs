//! A shard's session records: an open-addressed table a touch reads and updates without any
//! lock, while everything else changes it under the shard lock.
//!
//! Owns: the slots (id, state word, timeout, filed tick), the probe sequence, the table's
//! growth and the reclamation of the tables it replaces.
//!
//! # Why this shape
//! The touch is the engine's hot path. Under a shard mutex every touch writes the lock word,
//! so two cores touching different sessions of one shard move that cache line between them
//! on almost every touch. Here a touch finds its slot with plain atomic loads and moves the
//! deadline with one CAS on the slot's own state word: touches of different sessions write
//! no common line (the pin writes only its thread's epoch record).
//!
//! Candidates, judged by what a touch writes and what a session costs (measured against
//! the mutex-over-`hashbrown` table this replaced, in `benches/engine_figures.rs`; the
//! others were ruled out on their design, not benchmarked): `dashmap`'s read lock is an
//! atomic add on the shard's lock word, the very line to keep still; a seqlock over
//! `hashbrown` would have touches read memory a concurrent growth frees, and a touch still
//! needs to write the record; `papaya` and `scc::HashIndex` read lock-free but update a
//! value by replacing it (allocation and reclamation per touch) unless the value is itself
//! an atomic record, and then their per-entry overhead is above the 24-byte slot within a
//! budget of 61 bytes per session that also pays for the wheel. A seqlock or a per-record
//! lock would add a write per touch. An own table keeps the slot at 24 bytes and the touch
//! at one probe run plus one CAS; `crossbeam-epoch` only frees replaced tables.
//!
//! Measured since (`cargo bench --bench table_candidates`, 1M records, random ids, the
//! touch's shape: find by id, raise an atomic deadline by CAS; one run on a loaded 2-core
//! machine, so single figures are noisy): touches per CPU-second at 1 | 2 threads, engine
//! 4.76 | 10.3 M, `papaya` 3.96 | 8.43 M, `scc::HashIndex` 3.55 | 10.8 M, `dashmap` 5.07 |
//! 12.4 M (its read lock writes the shard's lock word, the shared write this table exists
//! to avoid), a bare CAS on a random record 44.7 | 139 M; bytes per entry 61.4 (engine, with
//! its wheel), 61.8, 54.5, 52.4; inserts per CPU-second at 1 thread 2.93 M (engine `add`),
//! 2.25, 3.30, 6.66 M. No candidate that meets the no-shared-write rule touches faster, so
//! the own table stays.
//!
//! At a million sessions a touch is one memory miss on its slot (the tables outgrow the
//! last-level cache); the pin and the counter around it were measured not to matter there
//! (see the README's benchmark section), while overlapping misses does: batches prefetch
//! ([`Table::prefetch`]), and a create prefetches the slot of the next id of its shard.
//!
//! # Ground rules
//! - **Slots.** `id` 0 is an empty slot (ids are never 0). A slot's `id` is written once,
//!   under the lock, with `Release`, after its other fields; it never changes for the life
//!   of the table, so a reader that matched an id at a slot keeps reading that session's
//!   slot. A removed session leaves a *tombstone* (`REMOVED`, id kept); only the same id
//!   may bring the slot back to life, never another id.
//! - **State word.** `deadline: u32 | flags: u8 | version: u24` in one `AtomicU64`. A
//!   lock-free touch only ever raises the deadline of a live slot (neither closing, remote,
//!   removed nor moved) by a CAS from the word it read, keeping flags and version. Every
//!   change made under the lock (flags, an exact deadline, the timeout) is a CAS that also
//!   bumps the version, so a touch that read the word before such a change fails its CAS
//!   and re-reads: the timeout it used is always the one in force when its CAS lands.
//! - **Expiry decides by CAS.** Marking a slot closing is a CAS from the word whose
//!   deadline was found due; a touch that landed in between makes it fail, and the pass
//!   re-files instead. A touch that reads a closing word fails. Hence a touch that returns
//!   success is never followed by expiry before its deadline, and a touch after the
//!   decision fails.
//! - **Growth freezes.** A growth (under the lock) sets `MOVED` in every old slot with one
//!   `fetch_or` and copies the word it returned; a touch that meets `MOVED` takes the lock
//!   (and so waits for the new table). No touch lands in an old slot after its copy.
//! - **Reclamation.** Replaced tables are freed through `crossbeam-epoch` once no touch
//!   that pinned before the replacement is still running. Under loom they are kept until
//!   the table is dropped (loom cannot see crossbeam-epoch's atomics).
//! - `filed` is read and written only under the lock; `timeout_ms` is written only under
//!   the lock and read by touches.
//! - At most 4/5 of the slots are used (live or tombstone), so every probe run ends at an
//!   empty slot.
//!
//! Must never: let a touch write anything but its own slot's state word, reuse a slot for
//! another id, or free a table a touch may still be reading.

use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// The session was marked closing (expired or being closed); never cleared.
pub(crate) const CLOSING: u8 = 1;
/// A local session.
pub(crate) const LOCAL: u8 = 2;
/// The session has an owner in the shard's owner map.
pub(crate) const HAS_OWNER: u8 = 4;
/// A remote entry (a global session another server decides).
pub(crate) const REMOTE: u8 = 8;
/// A tombstone: the session was removed.
pub(crate) const REMOVED: u8 = 16;
/// The table is being replaced: this slot was copied to its successor.
pub(crate) const MOVED: u8 = 32;

/// Smallest capacity (a power of two).
#[cfg(not(loom))]
const MIN_CAP: usize = 16;
/// Smallest capacity: small under loom, so the models can make a table grow.
#[cfg(loom)]
const MIN_CAP: usize = 4;

const VERSION_MASK: u64 = (1 << 24) - 1;

/// A slot's state word: `deadline: u32 | flags: u8 | version: u24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    /// A word of the given parts.
    pub(crate) fn new(deadline: u32, flags: u8, version: u32) -> Word {
        Word(deadline as u64 | (flags as u64) << 32 | ((version as u64) & VERSION_MASK) << 40)
    }

    /// The tick at which the session is due.
    #[inline]
    pub(crate) fn deadline(self) -> u32 {
        self.0 as u32
    }

    /// The flag bits.
    #[inline]
    pub(crate) fn flags(self) -> u8 {
        (self.0 >> 32) as u8
    }

    fn version(self) -> u32 {
        (self.0 >> 40) as u32
    }

    /// The same word with another deadline (what a lock-free touch writes).
    #[inline]
    pub(crate) fn with_deadline(self, d: u32) -> Word {
        Word((self.0 & !(u32::MAX as u64)) | d as u64)
    }

    /// A word for a change made under the lock: new deadline and flags, version bumped.
    pub(crate) fn locked(self, deadline: u32, flags: u8) -> Word {
        Word::new(deadline, flags, self.version().wrapping_add(1))
    }
}

/// One session's record: 24 bytes.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    id: AtomicU64,
    state: AtomicU64,
    timeout_ms: AtomicU32,
    filed: AtomicU32,
}

impl Slot {
    /// The state word (`Acquire`: a touch then reads the timeout in force).
    #[inline]
    pub(crate) fn word(&self) -> Word {
        Word(self.state.load(Ordering::Acquire))
    }

    /// The timeout (ms) used by touches without one.
    #[inline]
    pub(crate) fn timeout_ms(&self) -> u32 {
        self.timeout_ms.load(Ordering::Relaxed)
    }

    /// Under the lock: sets the timeout (published by the next versioned CAS).
    pub(crate) fn set_timeout_ms(&self, t: u32) {
        self.timeout_ms.store(t, Ordering::Relaxed);
    }

    /// Under the lock: the tick of the live wheel entry.
    pub(crate) fn filed(&self) -> u32 {
        self.filed.load(Ordering::Relaxed)
    }

    /// Under the lock: records the tick of the live wheel entry.
    pub(crate) fn set_filed(&self, t: u32) {
        self.filed.store(t, Ordering::Relaxed);
    }

    /// Compare-and-swap of the state word; returns the word found on failure.
    #[inline]
    pub(crate) fn cas(&self, from: Word, to: Word) -> Result<(), Word> {
        self.state
            .compare_exchange(from.0, to.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Word)
    }

    /// Under the lock: applies `f` to the word by CAS until it lands (touches may race);
    /// `f` gets the current word and returns `(deadline, flags)`; the version is bumped.
    /// Returns the word written.
    pub(crate) fn update(&self, mut f: impl FnMut(Word) -> (u32, u8)) -> Word {
        let mut w = self.word();
        loop {
            let (d, fl) = f(w);
            let to = w.locked(d, fl);
            match self.cas(w, to) {
                Ok(()) => return to,
                Err(x) => w = x,
            }
        }
    }

    /// Raises the deadline to at least `d` (a CAS loop that keeps flags and version, as a
    /// touch does). Returns the word in force afterwards.
    pub(crate) fn raise(&self, d: u32) -> Word {
        let mut w = self.word();
        while w.deadline() < d {
            match self.cas(w, w.with_deadline(d)) {
                Ok(()) => return w.with_deadline(d),
                Err(x) => w = x,
            }
        }
        w
    }

    /// Under the lock: the slot's id (0 if empty).
    pub(crate) fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }
}

/// An open-addressed table of slots with linear probing.
#[derive(Debug)]
pub(crate) struct Table {
    slots: Box<[Slot]>,
    shift: u32,
}

/// Where a slot's probe run starts: the top bits of murmur3's finaliser of the id (the
/// shard index uses an unrelated multiplicative hash, so the two never correlate).
#[inline]
fn home(id: u64, shift: u32) -> usize {
    (super::shard::fmix64(id) >> shift) as usize
}

impl Table {
    fn with_capacity(cap: usize) -> Table {
        debug_assert!(cap.is_power_of_two() && cap >= MIN_CAP);
        Table {
            slots: (0..cap).map(|_| Slot::default()).collect(),
            shift: 64 - cap.trailing_zeros(),
        }
    }

    /// Number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The slot of `id`, live or tombstone (`None` for 0, the empty mark).
    #[inline]
    pub(crate) fn find(&self, id: u64) -> Option<&Slot> {
        if id == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = home(id, self.shift);
        loop {
            let s = &self.slots[i];
            let x = s.id.load(Ordering::Acquire);
            if x == id {
                return Some(s);
            }
            if x == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Starts loading the cache line where the probe run of `id` begins, so a batch can
    /// overlap the memory latency of many lookups. A hint only: nothing is read or written.
    #[inline]
    pub(crate) fn prefetch(&self, id: u64) {
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        {
            let p = &self.slots[home(id, self.shift)] as *const Slot as *const i8;
            // SAFETY: `p` points into this table's live slots; a prefetch reads no data
            // into the program and cannot fault. SSE is part of the x86_64 baseline.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
        }
        #[cfg(not(all(target_arch = "x86_64", not(loom))))]
        let _ = id;
    }

    /// Under the lock: the slot of `id`, or the empty slot where it would go.
    fn find_or_empty(&self, id: u64) -> (&Slot, bool) {
        let mask = self.slots.len() - 1;
        let mut i = home(id, self.shift);
        loop {
            let s = &self.slots[i];
            let x = s.id.load(Ordering::Relaxed);
            if x == id {
                return (s, true);
            }
            if x == 0 {
                return (s, false);
            }
            i = (i + 1) & mask;
        }
    }

    /// Every slot (empty ones included), for passes under the lock.
    pub(crate) fn slots(&self) -> &[Slot] {
        &self.slots
    }
}

/// Writes a fresh slot: fields first, the id last with `Release`.
fn publish(s: &Slot, id: u64, word: Word, timeout_ms: u32, filed: u32) {
    s.timeout_ms.store(timeout_ms, Ordering::Relaxed);
    s.filed.store(filed, Ordering::Relaxed);
    s.state.store(word.0, Ordering::Release);
    s.id.store(id, Ordering::Release);
}

#[cfg(not(loom))]
mod reclaim {
    use super::Table;
    use crossbeam_epoch::{self as epoch, Atomic, Owned};
    use std::sync::atomic::Ordering;

    /// A pin that keeps every table loaded under it alive.
    pub(crate) type Guard = epoch::Guard;

    /// Pins the current thread (a thread-local write only).
    #[inline]
    pub(crate) fn pin() -> Guard {
        epoch::pin()
    }

    /// The current table of a shard.
    #[derive(Debug)]
    pub(crate) struct Current(Atomic<Table>);

    impl Current {
        pub(crate) fn new(t: Table) -> Current {
            Current(Atomic::new(t))
        }

        /// The current table, alive while `g` is.
        #[inline]
        pub(crate) fn load<'g>(&self, g: &'g Guard) -> &'g Table {
            // SAFETY: the pointer is never null (set at construction and only swapped for
            // another table), and a replaced table is freed only after every guard pinned
            // before the swap is dropped.
            unsafe { self.0.load(Ordering::Acquire, g).deref() }
        }

        /// The current table, for a caller holding the shard lock.
        ///
        /// # Safety
        /// The caller holds the shard lock for as long as it uses the reference: only lock
        /// holders replace the table.
        pub(crate) unsafe fn load_locked(&self) -> &Table {
            // SAFETY: per the contract no one replaces (and so retires) the table while the
            // caller holds the lock; the pointer is never null.
            unsafe { self.0.load(Ordering::Acquire, epoch::unprotected()).deref() }
        }

        /// Under the lock: installs `t`, retiring the table it replaces.
        #[allow(clippy::vec_box)] // the loom variant's list; see `Usage::retired`
        pub(crate) fn replace(&self, t: Table, _retired: &mut Vec<Box<Table>>) {
            let g = epoch::pin();
            let old = self.0.swap(Owned::new(t), Ordering::AcqRel, &g);
            // SAFETY: `old` is unreachable from now on (the only pointer to it was just
            // replaced); touches that loaded it pinned before the swap, so the deferred
            // free waits for them.
            unsafe { g.defer_destroy(old) };
            drop(g);
            // Growth is rare: push the old table towards its free now (a few epoch advances
            // when no touch holds a pin) rather than leaving it to later pins.
            for _ in 0..3 {
                epoch::pin().flush();
            }
        }
    }

    impl Drop for Current {
        fn drop(&mut self) {
            // SAFETY: `&mut self`: no guard can reach the table any more.
            unsafe {
                drop(
                    self.0
                        .load(Ordering::Relaxed, epoch::unprotected())
                        .into_owned(),
                )
            }
        }
    }
}

#[cfg(loom)]
mod reclaim {
    use super::Table;
    use loom::sync::atomic::{AtomicPtr, Ordering};

    /// Under loom a pin is nothing: replaced tables live until the shard is dropped.
    #[derive(Debug)]
    pub(crate) struct Guard;

    /// Pins nothing.
    #[inline]
    pub(crate) fn pin() -> Guard {
        Guard
    }

    /// The current table of a shard.
    #[derive(Debug)]
    pub(crate) struct Current(AtomicPtr<Table>);

    impl Current {
        pub(crate) fn new(t: Table) -> Current {
            Current(AtomicPtr::new(Box::into_raw(Box::new(t))))
        }

        pub(crate) fn load<'g>(&self, _g: &'g Guard) -> &'g Table {
            // SAFETY: tables are freed only when `Current` drops (see `replace`).
            unsafe { &*self.0.load(Ordering::Acquire) }
        }

        /// # Safety
        /// The caller holds the shard lock.
        pub(crate) unsafe fn load_locked(&self) -> &Table {
            // SAFETY: as in `load`.
            unsafe { &*self.0.load(Ordering::Acquire) }
        }

        #[allow(clippy::vec_box)] // see `Usage::retired`
        pub(crate) fn replace(&self, t: Table, retired: &mut Vec<Box<Table>>) {
            let old = self.0.swap(Box::into_raw(Box::new(t)), Ordering::AcqRel);
            // SAFETY: `old` came from `Box::into_raw` and is owned by no one else; it is
            // kept (not freed) so a touch still reading it stays valid.
            retired.push(unsafe { Box::from_raw(old) });
        }
    }

    impl Drop for Current {
        fn drop(&mut self) {
            // SAFETY: `&mut self`: no one reads the table any more.
            unsafe { drop(Box::from_raw(self.0.load(Ordering::Relaxed))) }
        }
    }
}

pub(crate) use reclaim::{pin, Current, Guard};

/// Under the lock: the bookkeeping of a shard's table (how many slots are used).
#[derive(Debug, Default)]
pub(crate) struct Usage {
    /// Slots holding a live or closing session.
    pub(crate) records: usize,
    /// Slots with an id (records and tombstones).
    pub(crate) used: usize,
    /// Tables replaced, kept alive under loom only. Boxed: a touch may still hold a
    /// reference to the `Table` itself, which must not move.
    #[allow(clippy::vec_box)]
    pub(crate) retired: Vec<Box<Table>>,
}

/// A new table for a shard.
pub(crate) fn new_current() -> Current {
    Current::new(Table::with_capacity(MIN_CAP))
}

/// Under the lock: inserts `id` with `word`, or brings its tombstone back to life. Returns
/// the slot, or `None` (nothing changed) if `id` is tracked (live or closing). May replace
/// the table: callers must not keep references to the old one.
pub(crate) fn insert<'a>(
    cur: &'a Current,
    usage: &mut Usage,
    id: u64,
    word: Word,
    timeout_ms: u32,
    filed: u32,
) -> Option<&'a Slot> {
    debug_assert!(id != 0, "id 0 marks an empty slot");
    // SAFETY: the caller holds the shard lock (every caller is a shard method).
    let t = unsafe { cur.load_locked() };
    let (s, found) = t.find_or_empty(id);
    if found {
        let w = s.word();
        if w.flags() & REMOVED == 0 {
            return None;
        }
        // The same id comes back: the slot is reused, with a version past the tombstone's.
        s.timeout_ms.store(timeout_ms, Ordering::Relaxed);
        s.filed.store(filed, Ordering::Relaxed);
        let to = w.locked(word.deadline(), word.flags());
        s.state.store(to.0, Ordering::Release);
        usage.records += 1;
        return Some(s);
    }
    if (usage.used + 1) * 5 > t.capacity() * 4 {
        grow(cur, usage);
        // SAFETY: as above.
        let t = unsafe { cur.load_locked() };
        let (s, found) = t.find_or_empty(id);
        debug_assert!(!found, "tombstones are not copied");
        publish(s, id, word, timeout_ms, filed);
        usage.used += 1;
        usage.records += 1;
        return Some(s);
    }
    publish(s, id, word, timeout_ms, filed);
    usage.used += 1;
    usage.records += 1;
    Some(s)
}

/// Under the lock: replaces the table by one sized for the records plus one more, without
/// tombstones, freezing every old slot as it is copied.
fn grow(cur: &Current, usage: &mut Usage) {
    // SAFETY: the caller holds the shard lock.
    let old = unsafe { cur.load_locked() };
    let need = (usage.records + 1) * 5 / 4 + 1;
    let new = Table::with_capacity(need.next_power_of_two().max(MIN_CAP));
    let mut copied = 0;
    for s in old.slots.iter() {
        let id = s.id.load(Ordering::Relaxed);
        if id == 0 {
            continue;
        }
        // The freeze: touches after this fail their CAS and take the lock.
        let w = Word(s.state.fetch_or((MOVED as u64) << 32, Ordering::AcqRel));
        debug_assert!(w.flags() & MOVED == 0, "a slot is frozen once");
        if w.flags() & REMOVED != 0 {
            continue;
        }
        let (n, found) = new.find_or_empty(id);
        debug_assert!(!found);
        publish(n, id, w, s.timeout_ms(), s.filed());
        copied += 1;
    }
    debug_assert_eq!(copied, usage.records);
    usage.used = copied;
    cur.replace(new, &mut usage.retired);
}

/// Under the lock: turns a tracked session's slot into a tombstone. Returns the word it had.
pub(crate) fn remove(slot: &Slot, usage: &mut Usage) -> Word {
    let mut old = Word(0);
    slot.update(|w| {
        old = w;
        (w.deadline(), REMOVED)
    });
    usage.records -= 1;
    old
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn live(d: u32) -> Word {
        Word::new(d, 0, 0)
    }

    #[test]
    fn slot_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 24);
    }

    #[test]
    fn word_packs_its_parts() {
        let w = Word::new(0xdead_beef, LOCAL | HAS_OWNER, 0x12_3456);
        assert_eq!(w.deadline(), 0xdead_beef);
        assert_eq!(w.flags(), LOCAL | HAS_OWNER);
        assert_eq!(w.version(), 0x12_3456);
        let t = w.with_deadline(7);
        assert_eq!(
            (t.deadline(), t.flags(), t.version()),
            (7, LOCAL | HAS_OWNER, 0x12_3456)
        );
        let l = w.locked(9, CLOSING);
        assert_eq!(
            (l.deadline(), l.flags(), l.version()),
            (9, CLOSING, 0x12_3457)
        );
        assert_eq!(Word::new(1, 0, 0xff_ffff).locked(1, 0).version(), 0);
    }

    #[test]
    fn growth_keeps_every_record_and_drops_tombstones() {
        let cur = new_current();
        let mut u = Usage::default();
        for id in 1..=1000u64 {
            assert!(insert(&cur, &mut u, id, live(id as u32), 10, 1).is_some());
        }
        assert!(insert(&cur, &mut u, 5, live(1), 10, 1).is_none());
        let g = pin();
        let t = cur.load(&g);
        for id in (1..=1000u64).step_by(2) {
            remove(t.find(id).unwrap(), &mut u);
        }
        assert_eq!(u.records, 500);
        for id in 1001..=3000u64 {
            insert(&cur, &mut u, id, live(id as u32), 10, 1).unwrap();
        }
        let t = cur.load(&g);
        assert!(t.capacity() * 4 >= u.used * 5);
        for id in 1..=3000u64 {
            match t.find(id) {
                Some(s) if s.word().flags() & REMOVED == 0 => {
                    assert!(id % 2 == 0 || id > 1000);
                    assert_eq!(s.word().deadline(), id as u32);
                }
                _ => assert!(id % 2 == 1 && id <= 1000, "lost {id}"),
            }
        }
    }

    #[test]
    fn a_removed_id_comes_back_in_its_own_slot_with_a_new_version() {
        let cur = new_current();
        let mut u = Usage::default();
        let s = insert(&cur, &mut u, 42, live(5), 10, 1).unwrap();
        let before = s.word();
        remove(s, &mut u);
        let s2 = insert(&cur, &mut u, 42, live(6), 20, 2).unwrap();
        assert!(std::ptr::eq(s, s2));
        assert_eq!(s2.word().deadline(), 6);
        assert_ne!(s2.word(), before.with_deadline(6), "version moved on");
        assert_eq!(s2.timeout_ms(), 20);
    }

    #[test]
    fn a_touch_cas_from_a_word_read_before_a_locked_change_fails() {
        let cur = new_current();
        let mut u = Usage::default();
        let s = insert(&cur, &mut u, 3, live(5), 10, 1).unwrap();
        let seen = s.word();
        s.update(|w| (w.deadline(), w.flags() | HAS_OWNER));
        assert!(s.cas(seen, seen.with_deadline(9)).is_err());
        assert_eq!(s.raise(9).deadline(), 9);
        assert_eq!(s.raise(4).deadline(), 9, "raise never lowers");
    }
}
