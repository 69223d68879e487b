//! A hierarchical timing wheel of session ids, keyed by tick.
//!
//! Owns: where each id is *filed* (the tick at which the wheel will hand it back), and the
//! order in which filed ids come due.
//!
//! # Ground rules
//! - Ticks are `u64` counts of `tick_ms` since the engine's base tick.
//! - Six levels of 64 slots: level `L` slot `s` covers ticks whose bits `6L..6L+6` are `s`.
//!   An id filed at `when` sits at the level of the highest bit in which `when` differs
//!   from `elapsed` (the tokio layout), so lower levels always come due first.
//! - `elapsed` only moves forward. An id filed in the past (`when < elapsed`) is filed at
//!   `elapsed` instead and [`Wheel::insert`] returns that tick: callers must record the
//!   returned tick, not the one they asked for.
//! - The wheel stores only ids. When a higher-level slot comes due its ids must be
//!   *cascaded*: the owner looks each id up and re-inserts it at its recorded tick. The
//!   wheel never sees session records, so staleness (an id whose record was removed or
//!   re-filed elsewhere) is the owner's decision.
//!
//! Must never: allocate per tick when nothing is filed, or hand back an id before its slot
//! is due.

/// Number of levels; 6 levels of 64 slots cover 2^36 ticks.
const LEVELS: usize = 6;
/// Slots per level.
const SLOTS: usize = 64;
/// Bits of tick per level.
const BITS: u32 = 6;
/// Ticks beyond this horizon are filed at the horizon (and re-filed when they come due).
pub(crate) const MAX_TICK_SPAN: u64 = 1 << (BITS as u64 * LEVELS as u64);

/// A due slot handed back by [`Wheel::poll`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Due {
    /// The level the slot was at; 0 means "fire", above 0 means "cascade".
    pub level: usize,
    /// The first tick the slot covers (for level 0, its only tick).
    pub tick: u64,
    /// The ticks the slot covers: `tick..tick + span`.
    pub span: u64,
    /// The ids filed in the slot.
    pub ids: Vec<u64>,
}

#[derive(Debug)]
struct Level {
    occupied: u64,
    slots: [Vec<u64>; SLOTS],
}

impl Level {
    fn new() -> Self {
        Level {
            occupied: 0,
            slots: std::array::from_fn(|_| Vec::new()),
        }
    }
}

/// The wheel. Not thread-safe by itself: a shard's mutex guards it.
#[derive(Debug)]
pub(crate) struct Wheel {
    elapsed: u64,
    levels: Box<[Level; LEVELS]>,
    len: usize,
}

const fn slot_span(level: usize) -> u64 {
    1 << (BITS as u64 * level as u64)
}

/// The level an id due at `when` belongs to, seen from `elapsed`.
fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let masked = masked.min(MAX_TICK_SPAN - 1);
    let significant = 63 - masked.leading_zeros() as usize;
    let level = significant / BITS as usize;
    debug_assert!(level < LEVELS);
    // Above its level, `when` agrees with `elapsed` (within the horizon): the slot is in
    // the level's current rotation or the next.
    debug_assert!(
        level == LEVELS - 1
            || when >> (BITS as usize * (level + 1)) == elapsed >> (BITS as usize * (level + 1))
    );
    level
}

fn slot_for(when: u64, level: usize) -> usize {
    debug_assert!(level < LEVELS);
    ((when >> (BITS as u64 * level as u64)) & (SLOTS as u64 - 1)) as usize
}

impl Wheel {
    /// An empty wheel whose clock reads `elapsed`.
    pub(crate) fn new(elapsed: u64) -> Self {
        Wheel {
            elapsed,
            levels: Box::new(std::array::from_fn(|_| Level::new())),
            len: 0,
        }
    }

    /// The tick up to which the wheel has advanced.
    #[cfg(test)]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of entries filed (stale ones included).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Files `id` at `when` (or at `elapsed` if `when` is in the past, or at the horizon
    /// if it is beyond it) and returns the tick it was filed at.
    pub(crate) fn insert(&mut self, id: u64, when: u64) -> u64 {
        let when = when.max(self.elapsed).min(self.elapsed + MAX_TICK_SPAN - 1);
        debug_assert!(when >= self.elapsed && when - self.elapsed < MAX_TICK_SPAN);
        let level = level_for(self.elapsed, when);
        let slot = slot_for(when, level);
        // Lower levels come due first: a level-L entry is at least a level-(L-1) span away.
        debug_assert!(
            level == 0 || when - (self.elapsed & !(slot_span(level) - 1)) >= slot_span(level)
        );
        let lvl = &mut self.levels[level];
        lvl.slots[slot].push(id);
        lvl.occupied |= 1 << slot;
        self.len += 1;
        when
    }

    /// The first tick of the next slot to come due, with its level and slot index.
    fn next_due(&self) -> Option<(usize, usize, u64)> {
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let span = slot_span(level);
            let now_slot = slot_for(self.elapsed, level);
            let rotated = lvl.occupied.rotate_right(now_slot as u32);
            let slot = (rotated.trailing_zeros() as usize + now_slot) % SLOTS;
            let level_range = span * SLOTS as u64;
            let level_start = self.elapsed & !(level_range - 1);
            let mut tick = level_start + slot as u64 * span;
            if tick + span <= self.elapsed {
                // The slot lies in the next rotation of this level.
                tick += level_range;
            }
            debug_assert!(
                tick + span > self.elapsed,
                "a due slot is never wholly past"
            );
            debug_assert_eq!(slot_for(tick, level), slot);
            debug_assert!(tick % span == 0, "slots start on their span");
            return Some((level, slot, tick));
        }
        None
    }

    /// Takes the next slot due at or before `now`, advancing `elapsed` to its first tick.
    /// Returns `None` (and advances `elapsed` to `now`) when nothing is due.
    pub(crate) fn poll(&mut self, now: u64) -> Option<Due> {
        match self.next_due() {
            Some((level, slot, tick)) if tick <= now => {
                let lvl = &mut self.levels[level];
                let ids = std::mem::take(&mut lvl.slots[slot]);
                debug_assert!(!ids.is_empty(), "an occupied slot holds ids");
                lvl.occupied &= !(1 << slot);
                debug_assert!(self.len >= ids.len());
                self.len -= ids.len();
                self.elapsed = self.elapsed.max(tick);
                Some(Due {
                    level,
                    tick,
                    span: slot_span(level),
                    ids,
                })
            }
            _ => {
                self.elapsed = self.elapsed.max(now);
                None
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Polls until `now`, cascading with the given tick lookup, and returns fired
    /// (tick, id) pairs.
    fn drain(w: &mut Wheel, now: u64, when_of: &dyn Fn(u64) -> u64) -> Vec<(u64, u64)> {
        let mut fired = Vec::new();
        while let Some(due) = w.poll(now) {
            if due.level == 0 {
                fired.extend(due.ids.iter().map(|&id| (due.tick, id)));
            } else {
                for id in due.ids {
                    let when = when_of(id);
                    assert!(when >= due.tick && when < due.tick + due.span);
                    w.insert(id, when);
                }
            }
        }
        fired
    }

    #[test]
    fn level_math() {
        assert_eq!(level_for(0, 0), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(0, 4095), 1);
        assert_eq!(level_for(0, 4096), 2);
        assert_eq!(level_for(100, 127), 0);
        assert_eq!(level_for(100, 128), 1);
        assert_eq!(level_for(0, MAX_TICK_SPAN - 1), LEVELS - 1);
        assert_eq!(slot_for(130, 1), 2);
        assert_eq!(slot_for(130, 0), 2);
    }

    #[test]
    fn fires_each_id_at_its_tick_in_order() {
        let ticks: Vec<u64> = vec![1, 5, 63, 64, 65, 200, 4095, 4096, 5000, 300_000];
        let mut w = Wheel::new(0);
        for (i, &t) in ticks.iter().enumerate() {
            assert_eq!(w.insert(i as u64, t), t);
        }
        assert_eq!(w.len(), ticks.len());
        let lookup = |id: u64| ticks[id as usize];
        let mut fired = Vec::new();
        // Advance one tick at a time near the front, then in leaps.
        for now in 0..70 {
            fired.extend(drain(&mut w, now, &lookup));
        }
        fired.extend(drain(&mut w, 1_000_000, &lookup));
        let got: Vec<u64> = fired.iter().map(|&(t, _)| t).collect();
        assert_eq!(got, ticks);
        for (t, id) in fired {
            assert_eq!(ticks[id as usize], t);
        }
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn nothing_fires_early() {
        let mut w = Wheel::new(10);
        w.insert(7, 20);
        assert!(drain(&mut w, 19, &|_| 20).is_empty());
        assert_eq!(drain(&mut w, 20, &|_| 20), vec![(20, 7)]);
    }

    #[test]
    fn past_ticks_are_filed_at_elapsed() {
        let mut w = Wheel::new(0);
        assert!(w.poll(50).is_none());
        assert_eq!(w.elapsed(), 50);
        assert_eq!(w.insert(1, 10), 50);
        assert_eq!(drain(&mut w, 50, &|_| 50), vec![(50, 1)]);
    }

    #[test]
    fn ticks_beyond_the_horizon_are_clamped() {
        let mut w = Wheel::new(0);
        assert_eq!(w.insert(1, u64::MAX), MAX_TICK_SPAN - 1);
    }

    #[test]
    fn wraps_around_levels_after_long_runs() {
        let mut w = Wheel::new(0);
        let mut expected = Vec::new();
        let mut now = 0;
        for round in 0..50u64 {
            let when = now + 1 + (round * 37) % 5000;
            w.insert(round, when);
            expected.push(when);
            let fired = drain(&mut w, when, &|id| expected[id as usize]);
            assert_eq!(fired, vec![(when, round)], "round {round}");
            now = when;
        }
    }
}
