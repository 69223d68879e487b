//! Baselines the engine is measured against, shared by the engine benchmarks.
//!
//! - [`ZkShaped`]: what ZooKeeper's `SessionTrackerImpl` + `ExpiryQueue` do, behind one
//!   global mutex: a `HashMap<id, deadline>` plus a `BTreeMap<deadline, HashSet<id>>`
//!   bucket queue, moving the session between buckets on every touch that changes its
//!   bucket.
//! - [`EagerWheel`]: the engine's own shape (one mutex per shard, tick buckets) but with
//!   eager moves: every touch that changes the bucket removes the id from its old bucket
//!   and pushes it to the new one (swap-remove with a stored position). This isolates
//!   what lazy re-filing saves.
#![allow(dead_code)]

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// Milliseconds since a fixed origin.
pub struct Ms(Instant);

impl Ms {
    pub fn new() -> Self {
        Ms(Instant::now())
    }
    #[inline]
    pub fn now(&self) -> u64 {
        self.0.elapsed().as_millis() as u64 + 1_000_000
    }
}

pub struct ZkShaped {
    tick: u64,
    inner: Mutex<ZkInner>,
    clock: Ms,
}

struct ZkInner {
    next_id: u64,
    sessions: HashMap<u64, (u32, u64)>,
    buckets: BTreeMap<u64, HashSet<u64>>,
}

impl ZkShaped {
    pub fn new(tick: u64) -> Self {
        ZkShaped {
            tick,
            inner: Mutex::new(ZkInner {
                next_id: 1 << 56,
                sessions: HashMap::new(),
                buckets: BTreeMap::new(),
            }),
            clock: Ms::new(),
        }
    }

    pub fn create(&self, timeout: u32) -> u64 {
        let now = self.clock.now();
        let mut g = self.inner.lock();
        let id = g.next_id;
        g.next_id += 1;
        let due = ((now + timeout as u64) / self.tick + 1) * self.tick;
        g.sessions.insert(id, (timeout, due));
        g.buckets.entry(due).or_default().insert(id);
        id
    }

    pub fn touch(&self, id: u64) -> bool {
        let now = self.clock.now();
        let mut g = self.inner.lock();
        let g = &mut *g;
        let Some(s) = g.sessions.get_mut(&id) else {
            return false;
        };
        let due = ((now + s.0 as u64) / self.tick + 1) * self.tick;
        if due != s.1 {
            if let Some(b) = g.buckets.get_mut(&s.1) {
                b.remove(&id);
            }
            g.buckets.entry(due).or_default().insert(id);
            s.1 = due;
        }
        true
    }

    /// Expires everything due at or before now.
    pub fn expire(&self) -> usize {
        let now = self.clock.now();
        let mut g = self.inner.lock();
        let mut n = 0;
        while let Some((&due, _)) = g.buckets.first_key_value() {
            if due > now {
                break;
            }
            let ids = g.buckets.remove(&due).unwrap();
            n += ids.len();
        }
        n
    }
}

/// Eagerly moved per-tick buckets, one mutex per shard.
pub struct EagerWheel {
    tick: u64,
    shards: Vec<Mutex<EagerShard>>,
    bits: u32,
    clock: Ms,
}

#[derive(Default)]
struct EagerShard {
    sessions: hashbrown::HashMap<u64, (u32, u64, u32)>,
    slots: Vec<Vec<u64>>,
}

const RING: usize = 64;

impl EagerWheel {
    pub fn new(tick: u64, shards: usize) -> Self {
        EagerWheel {
            tick,
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(EagerShard {
                        sessions: Default::default(),
                        slots: vec![Vec::new(); RING],
                    })
                })
                .collect(),
            bits: shards.trailing_zeros(),
            clock: Ms::new(),
        }
    }

    fn shard(&self, id: u64) -> &Mutex<EagerShard> {
        let i = if self.bits == 0 {
            0
        } else {
            (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize
        };
        &self.shards[i]
    }

    pub fn insert(&self, id: u64, timeout: u32) {
        let now = self.clock.now();
        let due = (now + timeout as u64) / self.tick + 1;
        let mut g = self.shard(id).lock();
        let slot = &mut g.slots[due as usize % RING];
        slot.push(id);
        let pos = (slot.len() - 1) as u32;
        g.sessions.insert(id, (timeout, due, pos));
    }

    pub fn touch(&self, id: u64) -> bool {
        let now = self.clock.now();
        let mut g = self.shard(id).lock();
        let g = &mut *g;
        let Some(s) = g.sessions.get_mut(&id) else {
            return false;
        };
        let due = (now + s.0 as u64) / self.tick + 1;
        if due != s.1 {
            let old = &mut g.slots[s.1 as usize % RING];
            let pos = s.2 as usize;
            old.swap_remove(pos);
            let moved = old.get(pos).copied();
            let new = &mut g.slots[due as usize % RING];
            new.push(id);
            s.1 = due;
            s.2 = (new.len() - 1) as u32;
            if let Some(m) = moved {
                g.sessions.get_mut(&m).unwrap().2 = pos as u32;
            }
        }
        true
    }
}

/// A deterministic xorshift generator, so every benchmark touches the same ids.
pub struct XorShift(pub u64);

impl XorShift {
    #[inline]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// `n` indices in `0..len`, uniformly random.
pub fn random_indices(n: usize, len: usize, seed: u64) -> Vec<u32> {
    let mut r = XorShift(seed | 1);
    (0..n).map(|_| (r.next() % len as u64) as u32).collect()
}
