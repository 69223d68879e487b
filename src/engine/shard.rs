//! One shard: a slice of the session table and the timing wheel its sessions are filed in.
//!
//! Owns: the session records of the ids that hash to it, their wheel entries, their owners,
//! the shard's counters, and the state of an expiry pass in progress.
//!
//! # Ground rules
//! - Everything here is guarded by the shard's one mutex (held by the caller); the shard
//!   itself has no synchronisation.
//! - **Lazy re-filing.** A record's `deadline` is the tick it is due; `filed` is the tick
//!   of its live wheel entry, and `filed <= deadline` always. A touch that moves the
//!   deadline later only stores the new `deadline` (no wheel work). When the entry comes
//!   due, the expiry pass re-files it at `deadline` if that is later, or expires it. Only a
//!   touch that moves the deadline *earlier* files a new entry.
//! - **Stale entries.** A wheel entry is live only if its record exists, is not closing and
//!   has `filed` equal to the entry's tick. Anything else (removed sessions, superseded
//!   entries) is dropped when met. Each non-closing record has at least one live entry.
//! - **Exactly once.** Expiry marks the record closing in the same critical section that
//!   decides it; closing records are never expired again, and touches of them fail.
//! - An expiry pass decides at most `budget` entries per call so the lock is never held for
//!   a whole storm; the pass's position lives in `pending` between calls.
//!
//! Must never: call out of the engine (sinks, callbacks) or read a clock: callers pass
//! ticks in and deliver the expired batch after unlocking.

use super::error::Error;
use super::session::{Counts, Expired, SessionEntry, SessionKind, Totals};
use super::wheel::Wheel;
use hashbrown::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const CLOSING: u8 = 1;
const LOCAL: u8 = 2;
const HAS_OWNER: u8 = 4;

/// One session's state: 16 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// Tick at which the session is due.
    deadline: u32,
    /// Tick of its live wheel entry (`<= deadline`).
    filed: u32,
    /// Timeout (ms) used for touches without an explicit timeout.
    timeout_ms: u32,
    flags: u8,
}

impl Record {
    fn kind(&self) -> SessionKind {
        if self.flags & LOCAL != 0 {
            SessionKind::Local
        } else {
            SessionKind::Global
        }
    }

    fn closing(&self) -> bool {
        self.flags & CLOSING != 0
    }
}

/// A hasher for session ids: murmur3's 64-bit finaliser. Ids are sequential, so they need
/// real mixing; the shard index uses an unrelated multiplicative hash so the two never
/// correlate.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = fmix64(self.0 ^ b as u64);
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = fmix64(x);
    }
}

/// murmur3's `fmix64`.
pub(crate) const fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// What a pending expiry pass is doing with the ids it took from the wheel.
#[derive(Debug, Default)]
struct Pending {
    ids: Vec<u64>,
    pos: usize,
    level: usize,
    tick: u64,
    span: u64,
}

/// A shard's state, guarded by the shard mutex.
#[derive(Debug)]
pub(crate) struct ShardState {
    table: IdMap<Record>,
    owners: IdMap<u64>,
    wheel: Wheel,
    pending: Pending,
    counts: Counts,
    totals: Totals,
}

/// Outcome of an expiry step.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing more is due at this tick.
    Idle,
    /// The budget ran out with more due; call again (after releasing the lock).
    More,
}

impl ShardState {
    pub(crate) fn new(base_tick: u64) -> Self {
        ShardState {
            table: IdMap::default(),
            owners: IdMap::default(),
            wheel: Wheel::new(base_tick),
            pending: Pending::default(),
            counts: Counts::default(),
            totals: Totals::default(),
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        self.counts
    }

    pub(crate) fn totals(&self) -> Totals {
        self.totals
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    fn count_mut(&mut self, flags: u8) -> &mut u64 {
        if flags & CLOSING != 0 {
            &mut self.counts.closing
        } else if flags & LOCAL != 0 {
            &mut self.counts.local
        } else {
            &mut self.counts.global
        }
    }

    /// Inserts a new session due at `deadline`. Returns false (and changes nothing) if the
    /// id is already tracked.
    pub(crate) fn insert(
        &mut self,
        id: u64,
        timeout_ms: u32,
        kind: SessionKind,
        deadline: u32,
    ) -> bool {
        // One probe: the vacant entry is filled in place.
        let hashbrown::hash_map::Entry::Vacant(slot) = self.table.entry(id) else {
            return false;
        };
        let filed = self.wheel.insert(id, deadline as u64) as u32;
        let flags = if kind == SessionKind::Local { LOCAL } else { 0 };
        slot.insert(Record {
            deadline: filed.max(deadline),
            filed,
            timeout_ms,
            flags,
        });
        *self.count_mut(flags) += 1;
        true
    }

    pub(crate) fn note_create(&mut self) {
        self.totals.creates += 1;
    }

    /// Moves the session's deadline to `deadline_for(timeout)`, where `timeout` is
    /// `timeout_ms` if given (it then becomes the timeout for later touches) or the
    /// session's current timeout. One table lookup: this is the hot path.
    #[inline]
    pub(crate) fn touch(
        &mut self,
        id: u64,
        timeout_ms: Option<u32>,
        deadline_for: impl FnOnce(u32) -> u32,
    ) -> Result<(), Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        if let Some(t) = timeout_ms {
            r.timeout_ms = t;
        }
        let deadline = deadline_for(r.timeout_ms);
        r.deadline = deadline;
        if deadline < r.filed {
            // Rare: a shorter timeout moved the deadline before the live entry.
            r.filed = self.wheel.insert(id, deadline as u64) as u32;
            r.deadline = r.deadline.max(r.filed);
        }
        self.totals.touches += 1;
        Ok(())
    }

    /// Marks `id` closing (no expiry will be decided for it any more).
    pub(crate) fn set_closing(&mut self, id: u64) -> Result<(), Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        let old = r.flags;
        if old & CLOSING == 0 {
            r.flags |= CLOSING;
            *self.count_mut(old) -= 1;
            self.counts.closing += 1;
        }
        Ok(())
    }

    /// Forgets `id`. Returns whether it was tracked.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        match self.table.remove(&id) {
            Some(r) => {
                if r.flags & HAS_OWNER != 0 {
                    self.owners.remove(&id);
                }
                *self.count_mut(r.flags) -= 1;
                true
            }
            None => false,
        }
    }

    pub(crate) fn set_owner(&mut self, id: u64, owner: u64) -> Result<(), Error> {
        let r = self.table.get_mut(&id).ok_or(Error::SessionExpired)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        r.flags |= HAS_OWNER;
        self.owners.insert(id, owner);
        Ok(())
    }

    pub(crate) fn check(&mut self, id: u64, owner: u64) -> Result<(), Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        if r.flags & HAS_OWNER == 0 {
            r.flags |= HAS_OWNER;
            self.owners.insert(id, owner);
            return Ok(());
        }
        match self.owners.get(&id) {
            Some(&o) if o == owner => Ok(()),
            _ => Err(Error::SessionMoved),
        }
    }

    pub(crate) fn owner_of(&self, id: u64) -> Result<Option<u64>, Error> {
        let r = self.table.get(&id).ok_or(Error::UnknownSession)?;
        Ok(if r.flags & HAS_OWNER != 0 {
            self.owners.get(&id).copied()
        } else {
            None
        })
    }

    pub(crate) fn kind_of(&self, id: u64) -> Result<SessionKind, Error> {
        let r = self.table.get(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        Ok(r.kind())
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        self.table.contains_key(&id)
    }

    /// Makes a local session global. Idempotent on global sessions.
    pub(crate) fn upgrade(&mut self, id: u64, allowed: bool) -> Result<u32, Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        if r.flags & LOCAL == 0 {
            return Ok(r.timeout_ms);
        }
        if !allowed {
            return Err(Error::EphemeralOnLocalSession);
        }
        r.flags &= !LOCAL;
        let t = r.timeout_ms;
        self.counts.local -= 1;
        self.counts.global += 1;
        Ok(t)
    }

    /// The deadline tick of a live session.
    pub(crate) fn deadline_of(&self, id: u64) -> Result<u32, Error> {
        let r = self.table.get(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        Ok(r.deadline)
    }

    /// Appends every non-closing session to `out`.
    pub(crate) fn export(&self, out: &mut Vec<SessionEntry>) {
        out.extend(
            self.table
                .iter()
                .filter(|(_, r)| !r.closing())
                .map(|(&id, r)| SessionEntry {
                    id,
                    timeout_ms: r.timeout_ms,
                    kind: r.kind(),
                }),
        );
    }

    /// Calls `f(deadline_tick, id)` for every non-closing session.
    pub(crate) fn for_each_deadline(&self, mut f: impl FnMut(u32, u64)) {
        for (&id, r) in &self.table {
            if !r.closing() {
                f(r.deadline, id);
            }
        }
    }

    /// Advances the expiry pass towards `now` (a tick), deciding at most `budget`
    /// entries. Expired sessions are marked closing and appended to `out`, each with
    /// `deadline_ms = deadline tick * tick_ms` computed by `to_ms`.
    pub(crate) fn expire_step(
        &mut self,
        now: u64,
        budget: usize,
        to_ms: impl Fn(u64) -> u64,
        out: &mut Vec<Expired>,
    ) -> Step {
        let mut left = budget;
        loop {
            if self.pending.pos == self.pending.ids.len() {
                self.pending.ids = Vec::new();
                self.pending.pos = 0;
                match self.wheel.poll(now) {
                    None => return Step::Idle,
                    Some(due) => {
                        self.pending.ids = due.ids;
                        self.pending.level = due.level;
                        self.pending.tick = due.tick;
                        self.pending.span = due.span;
                    }
                }
            }
            while self.pending.pos < self.pending.ids.len() {
                if left == 0 {
                    return Step::More;
                }
                left -= 1;
                let id = self.pending.ids[self.pending.pos];
                self.pending.pos += 1;
                self.decide(id, &to_ms, out);
            }
        }
    }

    /// Handles one wheel entry of the pending slot.
    fn decide(&mut self, id: u64, to_ms: &impl Fn(u64) -> u64, out: &mut Vec<Expired>) {
        let Some(r) = self.table.get_mut(&id) else {
            return; // removed: stale entry
        };
        if r.closing() {
            return;
        }
        let p = &self.pending;
        let filed = r.filed as u64;
        if p.level > 0 {
            // Cascade: re-file live entries at their tick, drop superseded ones.
            if filed >= p.tick && filed < p.tick + p.span {
                let at = self.wheel.insert(id, filed) as u32;
                r.filed = at;
                r.deadline = r.deadline.max(at);
            }
            return;
        }
        if filed != p.tick {
            return; // superseded by an entry at another tick
        }
        if r.deadline as u64 > p.tick {
            // Touched since filing: lazy re-file at the new deadline.
            let at = self.wheel.insert(id, r.deadline as u64) as u32;
            r.filed = at;
            r.deadline = r.deadline.max(at);
            return;
        }
        r.flags |= CLOSING;
        let kind = r.kind();
        let timeout_ms = r.timeout_ms;
        let deadline = r.deadline as u64;
        *self.count_mut(kind_flags(kind)) -= 1;
        self.counts.closing += 1;
        self.totals.expirations += 1;
        out.push(Expired {
            id,
            timeout_ms,
            kind,
            deadline_ms: to_ms(deadline),
        });
    }

    /// Entries filed in the wheel, stale ones included (for memory accounting tests).
    #[cfg(test)]
    pub(crate) fn wheel_len(&self) -> usize {
        self.wheel.len()
    }
}

fn kind_flags(kind: SessionKind) -> u8 {
    match kind {
        SessionKind::Local => LOCAL,
        SessionKind::Global => 0,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn step_all(s: &mut ShardState, now: u64) -> Vec<u64> {
        let mut out = Vec::new();
        while s.expire_step(now, 3, |t| t * 10, &mut out) == Step::More {}
        out.iter().map(|e| e.id).collect()
    }

    #[test]
    fn record_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Record>(), 16);
    }

    #[test]
    fn lazy_refile_does_not_touch_the_wheel() {
        let mut s = ShardState::new(0);
        assert!(s.insert(1, 100, SessionKind::Global, 10));
        for d in 11..50 {
            s.touch(1, None, |_| d).unwrap();
        }
        assert_eq!(s.wheel_len(), 1);
        assert!(step_all(&mut s, 48).is_empty());
        assert_eq!(step_all(&mut s, 49), vec![1]);
    }

    #[test]
    fn earlier_deadline_files_a_new_entry_and_old_one_goes_stale() {
        let mut s = ShardState::new(0);
        s.insert(1, 100, SessionKind::Global, 40);
        s.touch(1, Some(10), |_| 5).unwrap();
        assert_eq!(s.wheel_len(), 2);
        assert_eq!(step_all(&mut s, 5), vec![1]);
        s.remove(1);
        assert!(step_all(&mut s, 100).is_empty());
        assert_eq!(s.wheel_len(), 0);
    }

    #[test]
    fn expiry_is_exactly_once_and_counts_move() {
        let mut s = ShardState::new(0);
        for id in 0..10 {
            s.insert(id, 100, SessionKind::Global, 7);
        }
        assert_eq!(s.counts().global, 10);
        let got = step_all(&mut s, 7);
        assert_eq!(got.len(), 10);
        assert_eq!(s.counts().closing, 10);
        assert_eq!(s.counts().global, 0);
        assert!(step_all(&mut s, 1000).is_empty());
        assert_eq!(s.touch(3, None, |_| 100), Err(Error::SessionExpired));
    }

    #[test]
    fn budget_bounds_each_step() {
        let mut s = ShardState::new(0);
        for id in 0..10 {
            s.insert(id, 100, SessionKind::Global, 3);
        }
        let mut out = Vec::new();
        assert_eq!(s.expire_step(3, 4, |t| t, &mut out), Step::More);
        assert_eq!(out.len(), 4);
        assert_eq!(s.expire_step(3, 4, |t| t, &mut out), Step::More);
        assert_eq!(s.expire_step(3, 4, |t| t, &mut out), Step::Idle);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn far_deadlines_cascade_down() {
        let mut s = ShardState::new(0);
        s.insert(1, 100, SessionKind::Global, 5000);
        s.insert(2, 100, SessionKind::Global, 70);
        assert!(step_all(&mut s, 69).is_empty());
        assert_eq!(step_all(&mut s, 70), vec![2]);
        assert!(step_all(&mut s, 4999).is_empty());
        assert_eq!(step_all(&mut s, 5000), vec![1]);
    }

    #[test]
    fn id_hasher_mixes_sequential_ids() {
        let a = fmix64(1);
        let b = fmix64(2);
        assert_ne!(a >> 57, b >> 57);
        let mut h = IdHasher::default();
        h.write(&[1, 2]);
        assert_ne!(h.finish(), 0);
    }
}
