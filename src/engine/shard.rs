//! One shard: a slice of the session table and the timing wheel its sessions are filed in.
//!
//! Owns: the shard's [`table`](super::table) of session records, their wheel entries, their
//! owners, the shard's touch table (touches of remote entries waiting for the leader), the
//! shard's counters, and the state of an expiry pass in progress.
//!
//! # Ground rules
//! - **Two ways in.** A plain touch of a live session takes no lock: [`Shard::touch_fast`]
//!   raises the record's deadline with one CAS on its state word (see `table` for the
//!   word's protocol). Everything else goes through [`Shard::lock`] and the shard's mutex:
//!   the wheel, the owners, the touch table, the counters, and every change of a record
//!   other than raising its deadline. A lock holder changes a state word only by CAS
//!   (touches may race it) and never assumes the deadline it read is still current.
//! - **Record states.** A record is *local* (`LOCAL`), *global* (no kind bit) or *remote*
//!   (`REMOTE`: a global session a learner tracks but never expires); `LOCAL` and `REMOTE`
//!   are never both set. Any of them may additionally be *closing* (`CLOSING`), which is
//!   only ever set, never cleared; a closing record keeps its kind bits. Allowed moves:
//!   local → global (`upgrade`, `make_global`), local → remote (`upgrade_to_remote`),
//!   remote → global (`make_global`), anything → closing, anything → removed (a tombstone
//!   in the table).
//! - **Lazy re-filing.** A record's deadline is the tick it is due; `filed` is the tick
//!   of its live wheel entry, and `filed <= deadline` always (deadlines only grow outside
//!   the lock, and a lock holder that lowers one files a new entry first). A touch only
//!   raises the deadline (no wheel work). When the entry comes due, the expiry pass
//!   re-files it at the deadline if that is later, or expires it.
//! - **Remote records are never filed.** Their `filed` is 0 (no wheel tick is 0 for a live
//!   entry: deadlines are at least one tick after the base) and their deadline is that of
//!   their last touch, or 0 if never touched here; `make_global` files them. Lock-free
//!   touches leave them to the locked path (they must reach the touch table).
//! - **Stale entries.** A wheel entry is live only if its record exists, is neither closing
//!   nor remote, and has `filed` equal to the entry's tick. Anything else (removed sessions,
//!   superseded entries, the entry a session had before it turned remote) is dropped when
//!   met. Each local or global non-closing record has at least one live entry; an id may
//!   have two entries at its `filed` tick after remote → global, which is harmless because
//!   the first one met either expires it (closing) or re-files it (a new `filed`).
//! - **Exactly once, by CAS.** Expiry marks the record closing by a CAS from the word whose
//!   deadline it found due; a touch landing first makes the CAS fail and the pass re-files.
//!   Closing records are never expired again, and touches of them fail.
//! - **Touch table.** At most one entry per id (the last timeout recorded); written and
//!   drained only under the shard lock, so a touch lands in exactly one drain. `remove`
//!   drops the id's entry.
//! - **Counts.** Every record is counted in exactly one bucket of [`Counts`] chosen by its
//!   flags (only lock holders change flags), so the buckets always sum to the number of
//!   records. Successful touches are counted by the tracker's striped counters, not here.
//! - An expiry pass decides at most `budget` entries per call so the lock is never held for
//!   a whole storm; the pass's position lives in `pending` between calls.
//!
//! Must never: call out of the engine (sinks, callbacks) or read a clock: callers pass
//! ticks in and deliver the expired batch after unlocking.

use super::error::Error;
use super::session::{
    Counts, Expired, LearnerTouch, SessionEntry, SessionKind, SessionState, Totals,
};
use super::table::{
    self, Current, Guard, Slot, Table, Usage, Word, CLOSING, HAS_OWNER, LOCAL, MOVED, REMOTE,
    REMOVED,
};
use super::wheel::Wheel;
use crate::sync::{Mutex, MutexGuard};
use crossbeam_utils::CachePadded;
use hashbrown::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

fn kind_of_flags(flags: u8) -> SessionKind {
    if flags & LOCAL != 0 {
        SessionKind::Local
    } else {
        SessionKind::Global
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

/// A shard's lock-guarded state.
#[derive(Debug)]
pub(crate) struct ShardState {
    usage: Usage,
    owners: IdMap<u64>,
    /// Touches of remote entries (and ids recorded by `record_touch`) not yet drained:
    /// id → the last timeout recorded.
    touched: IdMap<u32>,
    wheel: Wheel,
    pending: Pending,
    /// Per-bucket counts; `closing` and `touch_table` are filled in by [`Locked::counts`].
    counts: Counts,
    totals: Totals,
}

/// One shard: its table (read without the lock by touches) and its locked state, on
/// separate cache lines so lock holders do not disturb touches.
#[derive(Debug)]
pub(crate) struct Shard {
    table: CachePadded<Current>,
    state: CachePadded<Mutex<ShardState>>,
}

/// The outcome of a lock-free touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fast {
    /// The deadline is at least the one asked for.
    Touched,
    /// The session is closing.
    Closing,
    /// The session is not tracked.
    Unknown,
    /// The touch needs the lock (a remote entry, or the table is being replaced).
    Slow,
}

/// Outcome of an expiry step.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing more is due at this tick.
    Idle,
    /// The budget ran out with more due; call again (after releasing the lock).
    More,
}

/// The shard, locked.
pub(crate) struct Locked<'a> {
    cur: &'a Current,
    s: MutexGuard<'a, ShardState>,
}

impl Shard {
    pub(crate) fn new(base_tick: u64) -> Self {
        Shard {
            table: CachePadded::new(table::new_current()),
            state: CachePadded::new(Mutex::new(ShardState {
                usage: Usage::default(),
                owners: IdMap::default(),
                touched: IdMap::default(),
                wheel: Wheel::new(base_tick),
                pending: Pending::default(),
                counts: Counts::default(),
                totals: Totals::default(),
            })),
        }
    }

    /// Takes the shard lock.
    #[inline]
    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked {
            cur: &self.table,
            s: self.state.lock(),
        }
    }

    /// Starts loading the slot of `id` (a batch's first pass; see [`Table::prefetch`]).
    #[inline]
    pub(crate) fn prefetch(&self, id: u64, g: &Guard) {
        self.table.load(g).prefetch(id);
    }

    /// The lock-free touch: raises a live session's deadline to `deadline_for(timeout)`
    /// with one CAS on its own record, writing nothing else. `g` must be pinned for the
    /// call (it keeps the table alive).
    #[inline]
    pub(crate) fn touch_fast(&self, id: u64, g: &Guard, deadline_for: impl Fn(u32) -> u32) -> Fast {
        let Some(s) = self.table.load(g).find(id) else {
            return Fast::Unknown;
        };
        let mut w = s.word();
        loop {
            let f = w.flags();
            if f & (CLOSING | REMOTE | REMOVED | MOVED) != 0 {
                return if f & REMOVED != 0 {
                    Fast::Unknown
                } else if f & CLOSING != 0 {
                    Fast::Closing
                } else {
                    Fast::Slow
                };
            }
            let d = deadline_for(s.timeout_ms());
            if d <= w.deadline() {
                // Already due no earlier: nothing to write.
                return Fast::Touched;
            }
            match s.cas(w, w.with_deadline(d)) {
                Ok(()) => return Fast::Touched,
                Err(x) => w = x,
            }
        }
    }
}

impl<'a> Locked<'a> {
    /// The current table; valid while the lock is held and until the next `insert`.
    #[inline]
    fn tab(&self) -> &'a Table {
        // SAFETY: `self` holds the shard lock; callers drop the reference before any call
        // that may replace the table (`table::insert`).
        unsafe { self.cur.load_locked() }
    }

    /// The slot of a tracked session (closing ones included).
    fn slot(&self, id: u64) -> Result<(&'a Slot, Word), Error> {
        let s = self.tab().find(id).ok_or(Error::UnknownSession)?;
        let w = s.word();
        if w.flags() & REMOVED != 0 {
            return Err(Error::UnknownSession);
        }
        Ok((s, w))
    }

    /// The slot of a live (non-closing) session; closing ones fail with `on_closing`.
    fn live(&self, id: u64) -> Result<(&'a Slot, Word), Error> {
        let (s, w) = self.slot(id)?;
        if w.flags() & CLOSING != 0 {
            return Err(Error::SessionExpired);
        }
        Ok((s, w))
    }

    /// Starts loading the slot where `id`'s probe run begins (a hint; see
    /// [`Table::prefetch`]).
    #[inline]
    pub(crate) fn prefetch(&self, id: u64) {
        self.tab().prefetch(id);
    }

    pub(crate) fn counts(&self) -> Counts {
        let mut c = self.s.counts;
        c.closing = c.closing_local + c.closing_global;
        c.touch_table = self.s.touched.len() as u64;
        c
    }

    pub(crate) fn totals(&self) -> Totals {
        self.s.totals
    }

    pub(crate) fn len(&self) -> usize {
        self.s.usage.records
    }

    /// The counter a record with `flags` is counted in.
    fn count_mut(&mut self, flags: u8) -> &mut u64 {
        let c = &mut self.s.counts;
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
        let c = &self.s.counts;
        debug_assert_eq!(
            c.global + c.local + c.remote + c.closing_local + c.closing_global,
            self.s.usage.records as u64,
            "counts out of step with the table"
        );
    }

    /// Inserts a new session due at `deadline`. Returns false (and changes nothing) if the
    /// id is already tracked or is 0.
    pub(crate) fn insert(
        &mut self,
        id: u64,
        timeout_ms: u32,
        kind: SessionKind,
        deadline: u32,
    ) -> bool {
        // Id 0 marks an empty slot: never tracked (`create` skips it like a taken id).
        if id == 0 || self.slot(id).is_ok() {
            return false;
        }
        let filed = self.s.wheel.insert(id, deadline as u64) as u32;
        let flags = if kind == SessionKind::Local { LOCAL } else { 0 };
        let w = Word::new(filed.max(deadline), flags, 0);
        let st = &mut *self.s;
        let done = table::insert(self.cur, &mut st.usage, id, w, timeout_ms, filed);
        debug_assert!(done.is_some());
        *self.count_mut(flags) += 1;
        self.debug_check_counts();
        true
    }

    /// Inserts a remote entry (never filed, never expires). Returns false (and changes
    /// nothing) if the id is already tracked.
    pub(crate) fn insert_remote(&mut self, id: u64, timeout_ms: u32) -> bool {
        if id == 0 || self.slot(id).is_ok() {
            return false;
        }
        let st = &mut *self.s;
        let w = Word::new(0, REMOTE, 0);
        let done = table::insert(self.cur, &mut st.usage, id, w, timeout_ms, 0);
        debug_assert!(done.is_some());
        self.s.counts.remote += 1;
        self.debug_check_counts();
        true
    }

    pub(crate) fn note_create(&mut self) {
        self.s.totals.creates += 1;
    }

    /// The locked touch: moves the session's deadline to `deadline_for(timeout)`, where
    /// `timeout` is `timeout_ms` if given (it then becomes the timeout for later touches,
    /// and the deadline is set exactly, possibly earlier) or the session's current timeout
    /// (the deadline is only raised, as a lock-free touch does).
    ///
    /// A remote entry's touch stores the deadline (never filed) and records the touch in
    /// the touch table for the leader.
    pub(crate) fn touch(
        &mut self,
        id: u64,
        timeout_ms: Option<u32>,
        deadline_for: impl FnOnce(u32) -> u32,
    ) -> Result<(), Error> {
        let (s, w) = self.live(id)?;
        if let Some(t) = timeout_ms {
            s.set_timeout_ms(t);
        }
        let d = deadline_for(s.timeout_ms());
        if w.flags() & REMOTE != 0 {
            s.update(|w| (d, w.flags()));
            self.s.touched.insert(id, s.timeout_ms());
            return Ok(());
        }
        if timeout_ms.is_none() {
            s.raise(d);
            return Ok(());
        }
        if d < s.filed() {
            // Rare: a shorter timeout moved the deadline before the live entry. File the
            // new entry first, so `filed <= deadline` holds throughout.
            let at = self.s.wheel.insert(id, d as u64) as u32;
            s.set_filed(at);
            s.update(|w| (d.max(at), w.flags()));
        } else {
            // The version bump makes touches that read the old timeout retry.
            s.update(|w| (d, w.flags()));
        }
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
        let remote = self.slot(id).map(|(_, w)| w.flags() & REMOTE != 0);
        self.touch(id, Some(timeout_ms), deadline_for)?;
        Ok(if remote == Ok(true) {
            LearnerTouch::Forwarded
        } else {
            LearnerTouch::Local
        })
    }

    /// Records a touch of `id` with `timeout_ms` in the touch table, tracked or not.
    pub(crate) fn record_touch(&mut self, id: u64, timeout_ms: u32) {
        self.s.touched.insert(id, timeout_ms);
    }

    /// Moves every recorded touch to `out` (one per id).
    pub(crate) fn drain_touched(&mut self, out: &mut Vec<(u64, u32)>) {
        out.extend(self.s.touched.drain());
    }

    /// Marks `id` closing (no expiry will be decided for it any more).
    pub(crate) fn set_closing(&mut self, id: u64) -> Result<(), Error> {
        let (s, w) = self.slot(id)?;
        if w.flags() & CLOSING == 0 {
            let new = s.update(|w| (w.deadline(), w.flags() | CLOSING));
            self.recount(w.flags(), new.flags());
        }
        Ok(())
    }

    /// Forgets `id` and its recorded touch. Returns whether it was tracked.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        if !self.s.touched.is_empty() {
            self.s.touched.remove(&id);
        }
        let Ok((s, _)) = self.slot(id) else {
            return false;
        };
        let old = table::remove(s, &mut self.s.usage);
        if old.flags() & HAS_OWNER != 0 {
            self.s.owners.remove(&id);
        }
        let c = self.count_mut(old.flags());
        debug_assert!(*c > 0, "count underflow on remove");
        *c -= 1;
        self.debug_check_counts();
        true
    }

    pub(crate) fn set_owner(&mut self, id: u64, owner: u64) -> Result<(), Error> {
        let (s, w) = self.live(id).map_err(|_| Error::SessionExpired)?;
        if w.flags() & HAS_OWNER == 0 {
            s.update(|w| (w.deadline(), w.flags() | HAS_OWNER));
        }
        self.s.owners.insert(id, owner);
        Ok(())
    }

    pub(crate) fn check(&mut self, id: u64, owner: u64) -> Result<(), Error> {
        let (s, w) = self.live(id)?;
        if w.flags() & HAS_OWNER == 0 {
            s.update(|w| (w.deadline(), w.flags() | HAS_OWNER));
            self.s.owners.insert(id, owner);
            return Ok(());
        }
        match self.s.owners.get(&id) {
            Some(&o) if o == owner => Ok(()),
            _ => Err(Error::SessionMoved),
        }
    }

    pub(crate) fn owner_of(&self, id: u64) -> Result<Option<u64>, Error> {
        let (_, w) = self.slot(id)?;
        Ok(if w.flags() & HAS_OWNER != 0 {
            self.s.owners.get(&id).copied()
        } else {
            None
        })
    }

    pub(crate) fn kind_of(&self, id: u64) -> Result<SessionKind, Error> {
        let (_, w) = self.live(id)?;
        Ok(kind_of_flags(w.flags()))
    }

    /// The state of any tracked session, closing ones included.
    pub(crate) fn state_of(&self, id: u64) -> Result<SessionState, Error> {
        let (_, w) = self.slot(id)?;
        Ok(SessionState {
            kind: kind_of_flags(w.flags()),
            remote: w.flags() & REMOTE != 0,
            closing: w.flags() & CLOSING != 0,
        })
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        self.slot(id).is_ok()
    }

    /// Makes a local session global. Idempotent on global sessions and remote entries.
    pub(crate) fn upgrade(&mut self, id: u64, allowed: bool) -> Result<u32, Error> {
        let (s, w) = self.live(id)?;
        if w.flags() & LOCAL == 0 {
            return Ok(s.timeout_ms());
        }
        if !allowed {
            return Err(Error::EphemeralOnLocalSession);
        }
        let new = s.update(|w| (w.deadline(), w.flags() & !LOCAL));
        self.recount(w.flags(), new.flags());
        Ok(s.timeout_ms())
    }

    /// Turns a live local session into a remote entry (its wheel entry goes stale).
    /// Idempotent on global sessions and remote entries: returns the timeout.
    pub(crate) fn upgrade_to_remote(&mut self, id: u64) -> Result<u32, Error> {
        let (s, w) = self.live(id)?;
        let t = s.timeout_ms();
        if w.flags() & LOCAL == 0 {
            return Ok(t);
        }
        let new = s.update(|w| (w.deadline(), (w.flags() & !LOCAL) | REMOTE));
        s.set_filed(0);
        self.recount(w.flags(), new.flags());
        Ok(t)
    }

    /// Makes a local or remote session global without refreshing its deadline. A remote
    /// entry is filed at its stored deadline, or at `fresh_deadline` if it has none.
    pub(crate) fn make_global(
        &mut self,
        id: u64,
        fresh_deadline: impl FnOnce(u32) -> u32,
    ) -> Result<u32, Error> {
        let (s, w) = self.live(id)?;
        let t = s.timeout_ms();
        let old = w.flags();
        if old & (LOCAL | REMOTE) == 0 {
            return Ok(t);
        }
        let new = if old & REMOTE != 0 {
            // Remote: no lock-free touch writes it, so `w` is current.
            let deadline = if w.deadline() == 0 {
                fresh_deadline(t)
            } else {
                w.deadline()
            };
            let at = self.s.wheel.insert(id, deadline as u64) as u32;
            s.set_filed(at);
            s.update(|w| (deadline.max(at), w.flags() & !(LOCAL | REMOTE)))
        } else {
            s.update(|w| (w.deadline(), w.flags() & !(LOCAL | REMOTE)))
        };
        self.recount(old, new.flags());
        Ok(t)
    }

    /// The deadline tick of a live session; `None` for a remote entry (never due here).
    pub(crate) fn deadline_of(&self, id: u64) -> Result<Option<u32>, Error> {
        let (_, w) = self.live(id)?;
        Ok((w.flags() & REMOTE == 0).then_some(w.deadline()))
    }

    /// Every tracked record's id and word (tombstones skipped).
    fn records(&self) -> impl Iterator<Item = (u64, &'a Slot, Word)> {
        self.tab().slots().iter().filter_map(|s| {
            let id = s.id();
            let w = s.word();
            (id != 0 && w.flags() & REMOVED == 0).then_some((id, s, w))
        })
    }

    /// Appends every non-closing session (remote entries as global) to `out`.
    pub(crate) fn export(&self, out: &mut Vec<SessionEntry>) {
        out.extend(
            self.records()
                .filter(|(_, _, w)| w.flags() & CLOSING == 0)
                .map(|(id, s, w)| SessionEntry {
                    id,
                    timeout_ms: s.timeout_ms(),
                    kind: kind_of_flags(w.flags()),
                }),
        );
    }

    /// Calls `f(deadline_tick, id)` for every session that can expire here (non-closing,
    /// not remote) whose kind is `kind`, or of any kind if `kind` is `None`.
    pub(crate) fn for_each_deadline(&self, kind: Option<SessionKind>, mut f: impl FnMut(u32, u64)) {
        for (id, _, w) in self.records() {
            let fl = w.flags();
            if fl & (CLOSING | REMOTE) == 0 && (kind.is_none() || kind == Some(kind_of_flags(fl))) {
                f(w.deadline(), id);
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
            if self.s.pending.pos == self.s.pending.ids.len() {
                let st = &mut *self.s;
                st.pending.ids = Vec::new();
                st.pending.pos = 0;
                match st.wheel.poll(now) {
                    None => return Step::Idle,
                    Some(due) => {
                        st.pending.ids = due.ids;
                        st.pending.level = due.level;
                        st.pending.tick = due.tick;
                        st.pending.span = due.span;
                    }
                }
            }
            while self.s.pending.pos < self.s.pending.ids.len() {
                if left == 0 {
                    return Step::More;
                }
                left -= 1;
                let id = self.s.pending.ids[self.s.pending.pos];
                self.s.pending.pos += 1;
                self.decide(id, &to_ms, out);
            }
        }
    }

    /// Handles one wheel entry of the pending slot.
    fn decide(&mut self, id: u64, to_ms: &impl Fn(u64) -> u64, out: &mut Vec<Expired>) {
        let Some(s) = self.tab().find(id) else {
            return; // never tracked in this table: stale entry
        };
        let (level, tick, span) = (
            self.s.pending.level,
            self.s.pending.tick,
            self.s.pending.span,
        );
        let mut w = s.word();
        let closed = loop {
            if w.flags() & (CLOSING | REMOTE | REMOVED) != 0 {
                return; // removed, decided already, or remote: stale entry
            }
            let filed = s.filed() as u64;
            if level > 0 {
                // Cascade: re-file live entries at their tick, drop superseded ones.
                if filed >= tick && filed < tick + span {
                    let at = self.s.wheel.insert(id, filed) as u32;
                    debug_assert_eq!(at as u64, filed, "a cascaded entry keeps its tick");
                    s.set_filed(at);
                    s.raise(at);
                }
                return;
            }
            if filed != tick {
                return; // superseded by an entry at another tick
            }
            if w.deadline() as u64 > tick {
                // Touched since filing: lazy re-file at the new deadline.
                let at = self.s.wheel.insert(id, w.deadline() as u64) as u32;
                debug_assert!(at as u64 > tick, "a lazy re-file moves the entry later");
                s.set_filed(at);
                s.raise(at);
                return;
            }
            debug_assert!(filed <= w.deadline() as u64 && w.deadline() as u64 <= tick);
            // The decision: from exactly the word found due. A touch landing first wins.
            let to = w.locked(w.deadline(), w.flags() | CLOSING);
            match s.cas(w, to) {
                Ok(()) => break w,
                Err(x) => w = x,
            }
        };
        self.recount(closed.flags(), closed.flags() | CLOSING);
        self.s.totals.expirations += 1;
        out.push(Expired {
            id,
            timeout_ms: s.timeout_ms(),
            kind: kind_of_flags(closed.flags()),
            deadline_ms: to_ms(closed.deadline() as u64),
        });
    }

    /// Entries filed in the wheel, stale ones included (for memory accounting tests).
    #[cfg(test)]
    pub(crate) fn wheel_len(&self) -> usize {
        self.s.wheel.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn step_all(s: &mut Locked<'_>, now: u64) -> Vec<u64> {
        let mut out = Vec::new();
        while s.expire_step(now, 3, |t| t * 10, &mut out) == Step::More {}
        out.iter().map(|e| e.id).collect()
    }

    #[test]
    fn lazy_refile_does_not_touch_the_wheel() {
        let sh = Shard::new(0);
        let mut s = sh.lock();
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
        let sh = Shard::new(0);
        let mut s = sh.lock();
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
        let sh = Shard::new(0);
        let mut s = sh.lock();
        for id in 1..=10 {
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
        let sh = Shard::new(0);
        let mut s = sh.lock();
        for id in 1..=10 {
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
        let sh = Shard::new(0);
        let mut s = sh.lock();
        s.insert(1, 100, SessionKind::Global, 5000);
        s.insert(2, 100, SessionKind::Global, 70);
        assert!(step_all(&mut s, 69).is_empty());
        assert_eq!(step_all(&mut s, 70), vec![2]);
        assert!(step_all(&mut s, 4999).is_empty());
        assert_eq!(step_all(&mut s, 5000), vec![1]);
    }

    #[test]
    fn remote_records_are_never_filed_and_never_expire() {
        let sh = Shard::new(0);
        let mut s = sh.lock();
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
        let sh = Shard::new(0);
        let mut s = sh.lock();
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
        let sh = Shard::new(0);
        let mut s = sh.lock();
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
        let sh = Shard::new(0);
        let mut s = sh.lock();
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
