//! One shard: a slice of the session table and the timing wheel its sessions are filed in.
//!
//! Owns: the session records of the ids that hash to it, their wheel entries, their owners,
//! the shard's touch table (touches of remote entries waiting for the leader), the shard's
//! counters, and the state of an expiry pass in progress.
//!
//! # Ground rules
//! - Everything here is guarded by the shard's one mutex (held by the caller); the shard
//!   itself has no synchronisation.
//! - **Record states.** A record is *local* (`LOCAL`), *global* (no kind bit) or *remote*
//!   (`REMOTE`: a global session a learner tracks but never expires); `LOCAL` and `REMOTE`
//!   are never both set. Any of them may additionally be *closing* (`CLOSING`), which is
//!   only ever set, never cleared; a closing record keeps its kind bits. Allowed moves:
//!   local → global (`upgrade`, `make_global`), local → remote (`upgrade_to_remote`),
//!   remote → global (`make_global`), anything → closing, anything → removed.
//! - **Lazy re-filing.** A record's `deadline` is the tick it is due; `filed` is the tick
//!   of its live wheel entry, and `filed <= deadline` always. A touch that moves the
//!   deadline later only stores the new `deadline` (no wheel work). When the entry comes
//!   due, the expiry pass re-files it at `deadline` if that is later, or expires it. Only a
//!   touch that moves the deadline *earlier* files a new entry.
//! - **Remote records are never filed.** Their `filed` is 0 (no wheel tick is 0 for a live
//!   entry: deadlines are at least one tick after the base) and their `deadline` is the
//!   deadline of their last touch, or 0 if never touched here; `make_global` files them.
//! - **Stale entries.** A wheel entry is live only if its record exists, is neither closing
//!   nor remote, and has `filed` equal to the entry's tick. Anything else (removed sessions,
//!   superseded entries, the entry a session had before it turned remote) is dropped when
//!   met. Each local or global non-closing record has at least one live entry; an id may
//!   have two entries at its `filed` tick after remote → global, which is harmless because
//!   the first one met either expires it (closing) or re-files it (a new `filed`).
//! - **Exactly once.** Expiry marks the record closing in the same critical section that
//!   decides it; closing records are never expired again, and touches of them fail.
//! - **Touch table.** At most one entry per id (the last timeout recorded); written and
//!   drained only under the shard lock, so a touch lands in exactly one drain. `remove`
//!   drops the id's entry.
//! - **Counts.** Every record is counted in exactly one bucket of [`Counts`] chosen by its
//!   flags, so the buckets always sum to the table's length.
//! - An expiry pass decides at most `budget` entries per call so the lock is never held for
//!   a whole storm; the pass's position lives in `pending` between calls.
//!
//! Must never: call out of the engine (sinks, callbacks) or read a clock: callers pass
//! ticks in and deliver the expired batch after unlocking.

use super::error::Error;
use super::session::{
    Counts, Expired, LearnerTouch, SessionEntry, SessionKind, SessionState, Totals,
};
use super::wheel::Wheel;
use hashbrown::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const CLOSING: u8 = 1;
const LOCAL: u8 = 2;
const HAS_OWNER: u8 = 4;
const REMOTE: u8 = 8;

/// One session's state: 16 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// Tick at which the session is due.
    deadline: u32,
    /// Tick of its live wheel entry (`<= deadline`); 0 for remote records.
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

    fn remote(&self) -> bool {
        self.flags & REMOTE != 0
    }

    /// The record invariants that hold between operations (cheap; debug builds only).
    #[inline]
    fn debug_check(&self) {
        debug_assert!(
            self.flags & (LOCAL | REMOTE) != (LOCAL | REMOTE),
            "a record is never both local and remote"
        );
        debug_assert!(
            self.filed <= self.deadline || self.remote(),
            "filed {} after deadline {}",
            self.filed,
            self.deadline
        );
        debug_assert!(
            !self.remote() || self.filed == 0,
            "remote records are never filed"
        );
        debug_assert!(self.timeout_ms > 0, "a tracked session has a timeout");
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
    /// Touches of remote entries (and ids recorded by `record_touch`) not yet drained:
    /// id → the last timeout recorded.
    touched: IdMap<u32>,
    wheel: Wheel,
    pending: Pending,
    /// Per-bucket counts; `closing` and `touch_table` are filled in by [`ShardState::counts`].
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
            touched: IdMap::default(),
            wheel: Wheel::new(base_tick),
            pending: Pending::default(),
            counts: Counts::default(),
            totals: Totals::default(),
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        let mut c = self.counts;
        c.closing = c.closing_local + c.closing_global;
        c.touch_table = self.touched.len() as u64;
        c
    }

    pub(crate) fn totals(&self) -> Totals {
        self.totals
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The counter a record with `flags` is counted in.
    fn count_mut(&mut self, flags: u8) -> &mut u64 {
        let c = &mut self.counts;
        match (
            flags & CLOSING != 0,
            flags & LOCAL != 0,
            flags & REMOTE != 0,
        ) {
            (true, true, _) => &mut c.closing_local,
            (true, false, _) => &mut c.closing_global,
            (false, true, _) => &mut c.local,
            (false, false, true) => &mut c.remote,
            (false, false, false) => &mut c.global,
        }
    }

    /// Moves one record's count from the bucket of `old` flags to that of `new`.
    fn recount(&mut self, old: u8, new: u8) {
        debug_assert!(
            old & CLOSING == 0 || new & CLOSING != 0,
            "closing is never cleared"
        );
        let from = self.count_mut(old);
        debug_assert!(*from > 0, "count of flags {old:#x} underflows");
        *from -= 1;
        *self.count_mut(new) += 1;
        self.debug_check_counts();
    }

    /// The buckets sum to the number of records (O(1); debug builds only).
    #[inline]
    fn debug_check_counts(&self) {
        let c = &self.counts;
        debug_assert_eq!(
            c.global + c.local + c.remote + c.closing_local + c.closing_global,
            self.table.len() as u64,
            "counts out of step with the table"
        );
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
        let r = slot.insert(Record {
            deadline: filed.max(deadline),
            filed,
            timeout_ms,
            flags,
        });
        r.debug_check();
        *self.count_mut(flags) += 1;
        self.debug_check_counts();
        true
    }

    /// Inserts a remote entry (never filed, never expires). Returns false (and changes
    /// nothing) if the id is already tracked.
    pub(crate) fn insert_remote(&mut self, id: u64, timeout_ms: u32) -> bool {
        let hashbrown::hash_map::Entry::Vacant(slot) = self.table.entry(id) else {
            return false;
        };
        slot.insert(Record {
            deadline: 0,
            filed: 0,
            timeout_ms,
            flags: REMOTE,
        });
        self.counts.remote += 1;
        self.debug_check_counts();
        true
    }

    pub(crate) fn note_create(&mut self) {
        self.totals.creates += 1;
    }

    /// Moves the session's deadline to `deadline_for(timeout)`, where `timeout` is
    /// `timeout_ms` if given (it then becomes the timeout for later touches) or the
    /// session's current timeout. One table lookup: this is the hot path.
    ///
    /// A remote entry's touch stores the deadline (never filed) and records the touch in
    /// the touch table for the leader.
    #[inline]
    pub(crate) fn touch(
        &mut self,
        id: u64,
        timeout_ms: Option<u32>,
        deadline_for: impl FnOnce(u32) -> u32,
    ) -> Result<(), Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        if r.flags & (CLOSING | REMOTE) != 0 {
            if r.closing() {
                return Err(Error::SessionExpired);
            }
            if let Some(t) = timeout_ms {
                r.timeout_ms = t;
            }
            r.deadline = deadline_for(r.timeout_ms);
            let t = r.timeout_ms;
            self.touched.insert(id, t);
            self.totals.touches += 1;
            return Ok(());
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
        r.debug_check();
        self.totals.touches += 1;
        Ok(())
    }

    /// A learner's touch: a live local or global session is refreshed here with
    /// `timeout_ms`; a remote entry has the touch recorded for the leader.
    pub(crate) fn learner_touch(
        &mut self,
        id: u64,
        timeout_ms: u32,
        deadline_for: impl FnOnce(u32) -> u32,
    ) -> Result<LearnerTouch, Error> {
        let remote = self.table.get(&id).map(Record::remote);
        self.touch(id, Some(timeout_ms), deadline_for)?;
        Ok(if remote == Some(true) {
            LearnerTouch::Forwarded
        } else {
            LearnerTouch::Local
        })
    }

    /// Records a touch of `id` with `timeout_ms` in the touch table, tracked or not.
    pub(crate) fn record_touch(&mut self, id: u64, timeout_ms: u32) {
        self.touched.insert(id, timeout_ms);
    }

    /// Moves every recorded touch to `out` (one per id).
    pub(crate) fn drain_touched(&mut self, out: &mut Vec<(u64, u32)>) {
        out.extend(self.touched.drain());
    }

    /// Marks `id` closing (no expiry will be decided for it any more).
    pub(crate) fn set_closing(&mut self, id: u64) -> Result<(), Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        let old = r.flags;
        if old & CLOSING == 0 {
            r.flags |= CLOSING;
            self.recount(old, old | CLOSING);
        }
        Ok(())
    }

    /// Forgets `id` and its recorded touch. Returns whether it was tracked.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        if !self.touched.is_empty() {
            self.touched.remove(&id);
        }
        match self.table.remove(&id) {
            Some(r) => {
                if r.flags & HAS_OWNER != 0 {
                    self.owners.remove(&id);
                }
                let c = self.count_mut(r.flags);
                debug_assert!(*c > 0, "count underflow on remove");
                *c -= 1;
                self.debug_check_counts();
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

    /// The state of any tracked session, closing ones included.
    pub(crate) fn state_of(&self, id: u64) -> Result<SessionState, Error> {
        let r = self.table.get(&id).ok_or(Error::UnknownSession)?;
        Ok(SessionState {
            kind: r.kind(),
            remote: r.remote(),
            closing: r.closing(),
        })
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        self.table.contains_key(&id)
    }

    /// Makes a local session global. Idempotent on global sessions and remote entries.
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
        let old = r.flags;
        r.flags &= !LOCAL;
        let t = r.timeout_ms;
        self.recount(old, old & !LOCAL);
        Ok(t)
    }

    /// Turns a live local session into a remote entry (its wheel entry goes stale).
    /// Idempotent on global sessions and remote entries: returns the timeout.
    pub(crate) fn upgrade_to_remote(&mut self, id: u64) -> Result<u32, Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        let t = r.timeout_ms;
        if r.flags & LOCAL == 0 {
            return Ok(t);
        }
        let old = r.flags;
        r.flags = (old & !LOCAL) | REMOTE;
        r.filed = 0;
        r.debug_check();
        let new = r.flags;
        self.recount(old, new);
        Ok(t)
    }

    /// Makes a local or remote session global without refreshing its deadline. A remote
    /// entry is filed at its stored deadline, or at `fresh_deadline` if it has none.
    pub(crate) fn make_global(
        &mut self,
        id: u64,
        fresh_deadline: impl FnOnce(u32) -> u32,
    ) -> Result<u32, Error> {
        let r = self.table.get_mut(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        let old = r.flags;
        let t = r.timeout_ms;
        if old & (LOCAL | REMOTE) == 0 {
            return Ok(t);
        }
        if old & REMOTE != 0 {
            let deadline = if r.deadline == 0 {
                fresh_deadline(t)
            } else {
                r.deadline
            };
            let at = self.wheel.insert(id, deadline as u64) as u32;
            r.filed = at;
            r.deadline = deadline.max(at);
        }
        r.flags = old & !(LOCAL | REMOTE);
        r.debug_check();
        self.recount(old, old & !(LOCAL | REMOTE));
        Ok(t)
    }

    /// The deadline tick of a live session; `None` for a remote entry (never due here).
    pub(crate) fn deadline_of(&self, id: u64) -> Result<Option<u32>, Error> {
        let r = self.table.get(&id).ok_or(Error::UnknownSession)?;
        if r.closing() {
            return Err(Error::SessionExpired);
        }
        Ok((!r.remote()).then_some(r.deadline))
    }

    /// Appends every non-closing session (remote entries as global) to `out`.
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

    /// Calls `f(deadline_tick, id)` for every session that can expire here (non-closing,
    /// not remote) whose kind is `kind`, or of any kind if `kind` is `None`.
    pub(crate) fn for_each_deadline(&self, kind: Option<SessionKind>, mut f: impl FnMut(u32, u64)) {
        for (&id, r) in &self.table {
            if r.flags & (CLOSING | REMOTE) == 0 && (kind.is_none() || kind == Some(r.kind())) {
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
        if r.flags & (CLOSING | REMOTE) != 0 {
            return; // decided already, or remote (never expires here): stale entry
        }
        let p = &self.pending;
        let filed = r.filed as u64;
        if p.level > 0 {
            // Cascade: re-file live entries at their tick, drop superseded ones.
            if filed >= p.tick && filed < p.tick + p.span {
                let at = self.wheel.insert(id, filed) as u32;
                debug_assert_eq!(at as u64, filed, "a cascaded entry keeps its tick");
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
            debug_assert!(at as u64 > p.tick, "a lazy re-file moves the entry later");
            r.filed = at;
            r.deadline = r.deadline.max(at);
            return;
        }
        debug_assert!(r.filed <= r.deadline && r.deadline as u64 <= p.tick);
        let old = r.flags;
        r.flags |= CLOSING;
        let kind = r.kind();
        let timeout_ms = r.timeout_ms;
        let deadline = r.deadline as u64;
        self.recount(old, old | CLOSING);
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
    fn remote_records_are_never_filed_and_never_expire() {
        let mut s = ShardState::new(0);
        assert!(s.insert_remote(1, 100));
        assert!(!s.insert_remote(1, 200));
        assert_eq!(s.wheel_len(), 0);
        s.touch(1, None, |_| 9).unwrap();
        assert_eq!(s.wheel_len(), 0, "a remote touch files nothing");
        assert!(step_all(&mut s, 1 << 30).is_empty());
        assert_eq!(s.counts().remote, 1);
        assert_eq!(s.counts().touch_table, 1);
    }

    #[test]
    fn the_entry_of_a_session_turned_remote_goes_stale() {
        let mut s = ShardState::new(0);
        s.insert(1, 100, SessionKind::Local, 10);
        assert_eq!(s.upgrade_to_remote(1), Ok(100));
        assert!(step_all(&mut s, 10).is_empty());
        assert_eq!(s.wheel_len(), 0, "the stale entry was dropped when met");
        // Back to global at its stored deadline (10, now past): filed at the wheel's now.
        assert_eq!(s.make_global(1, |_| unreachable!()), Ok(100));
        assert_eq!(step_all(&mut s, 10), vec![1]);
    }

    #[test]
    fn make_global_of_a_remote_record_refiled_at_its_old_tick_expires_once() {
        let mut s = ShardState::new(0);
        s.insert(1, 100, SessionKind::Local, 10);
        s.upgrade_to_remote(1).unwrap();
        // Its old entry at tick 10 is still in the wheel; the new one lands on it too.
        s.make_global(1, |_| unreachable!()).unwrap();
        assert_eq!(s.wheel_len(), 2);
        assert_eq!(step_all(&mut s, 10), vec![1]);
        assert!(step_all(&mut s, 1000).is_empty());
        assert_eq!(s.wheel_len(), 0);
    }

    #[test]
    fn counts_follow_every_state_move() {
        let mut s = ShardState::new(0);
        s.insert(1, 100, SessionKind::Local, 10);
        s.insert(2, 100, SessionKind::Local, 10);
        s.insert_remote(3, 100);
        s.upgrade_to_remote(1).unwrap();
        s.make_global(3, |_| 20).unwrap();
        s.set_closing(2).unwrap();
        let c = s.counts();
        assert_eq!((c.local, c.remote, c.global, c.closing_local), (0, 1, 1, 1));
        assert_eq!(c.closing, 1);
        s.set_closing(1).unwrap();
        assert_eq!(s.counts().closing_global, 1);
        for id in 1..=3 {
            assert!(s.remove(id));
        }
        assert_eq!(s.counts(), Counts::default());
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
