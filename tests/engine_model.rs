//! Property test: random sequences of create / touch / close / upgrade / remove / advance,
//! and a learner's remote entries (add_remote, upgrade_to_remote, make_global,
//! learner_touch, drain_touched), against a plain reference model of ZooKeeper's expiry
//! rule; the set of sessions expired at each step, every result and the counts must be
//! identical.
//!
//! The engine's plain touch only ever raises a deadline (the lock-free touch is a CAS
//! towards the later deadline); the model sets it exactly. With a clock that never goes
//! back, a touch with the session's own timeout never asks for an earlier deadline than the
//! one in force, so the two rules agree and the test holds them to the same sets.

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use zksession::engine::{Config, Engine, Error, LearnerTouch, ManualClock, SessionKind};

const TICK: u64 = 100;

#[derive(Debug, Clone)]
enum Op {
    Create(u32, bool),
    Touch(usize),
    TouchWithTimeout(usize, u32),
    Close(usize),
    Upgrade(usize),
    Remove(usize),
    Advance(u64),
    AddRemote(u32),
    UpgradeToRemote(usize),
    MakeGlobal(usize),
    LearnerTouch(usize, u32),
    Drain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u32..3000, any::<bool>()).prop_map(|(t, l)| Op::Create(t, l)),
        4 => (0usize..64).prop_map(Op::Touch),
        1 => (0usize..64, 1u32..3000).prop_map(|(i, t)| Op::TouchWithTimeout(i, t)),
        1 => (0usize..64).prop_map(Op::Close),
        1 => (0usize..64).prop_map(Op::Upgrade),
        1 => (0usize..64).prop_map(Op::Remove),
        4 => (0u64..700).prop_map(Op::Advance),
        1 => (100u32..3000).prop_map(Op::AddRemote),
        1 => (0usize..64).prop_map(Op::UpgradeToRemote),
        1 => (0usize..64).prop_map(Op::MakeGlobal),
        2 => (0usize..64, 100u32..3000).prop_map(|(i, t)| Op::LearnerTouch(i, t)),
        1 => Just(Op::Drain),
    ]
}

#[derive(Debug, Clone)]
struct ModelSession {
    /// When it is due; for a remote entry, the deadline of its last touch (if any), used
    /// when it becomes global.
    due: Option<u64>,
    timeout: u32,
    closing: bool,
    local: bool,
    remote: bool,
}

/// The reference: a map and ZooKeeper's formula, nothing clever.
#[derive(Default)]
struct Model {
    sessions: BTreeMap<u64, ModelSession>,
    /// The touch table: id -> last timeout.
    touched: BTreeMap<u64, u32>,
}

fn due(now: u64, timeout: u32) -> u64 {
    ((now + timeout as u64) / TICK + 1) * TICK
}

impl Model {
    fn touch(&mut self, id: u64, now: u64, timeout: Option<u32>) -> Result<(), Error> {
        let s = self.sessions.get_mut(&id).ok_or(Error::UnknownSession)?;
        if s.closing {
            return Err(Error::SessionExpired);
        }
        if let Some(t) = timeout {
            s.timeout = t;
        }
        s.due = Some(due(now, s.timeout));
        if s.remote {
            self.touched.insert(id, s.timeout);
        }
        Ok(())
    }

    fn forget(&mut self, id: u64) -> Option<ModelSession> {
        self.touched.remove(&id);
        self.sessions.remove(&id)
    }

    fn expire(&mut self, now: u64) -> BTreeSet<u64> {
        let mut out = BTreeSet::new();
        for (&id, s) in self.sessions.iter_mut() {
            if !s.closing && !s.remote && s.due.is_some_and(|d| d <= now) {
                s.closing = true;
                out.insert(id);
            }
        }
        out
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn engine_expires_exactly_what_the_model_expires(ops in proptest::collection::vec(op(), 1..200)) {
        let clock = Arc::new(ManualClock::new(10_000));
        let config = Config {
            min_session_timeout_ms: TICK as u32,
            max_session_timeout_ms: 2500,
            local_sessions: true,
            local_session_upgrade: true,
            shards: 4,
            expiry_workers: 1,
            expiry_batch: 3,
            ..Config::with_tick(TICK as u32)
        };
        let engine = Engine::builder(config.clone()).clock(clock.clone()).workers(false).build().unwrap();
        let mut model = Model::default();
        let mut ids: Vec<u64> = Vec::new();
        for op in ops {
            let now = clock.now_ms_for_test();
            match op {
                Op::Create(t, local) => {
                    let kind = if local { SessionKind::Local } else { SessionKind::Global };
                    let c = engine.create(t as i64, kind);
                    let timeout = config.negotiate_timeout(t as i64);
                    prop_assert_eq!(c.timeout_ms, timeout);
                    model.sessions.insert(c.id, ModelSession { due: Some(due(now, timeout)), timeout, closing: false, local, remote: false });
                    ids.push(c.id);
                }
                Op::Touch(i) => if let Some(&id) = ids.get(i) {
                    prop_assert_eq!(engine.touch(id), model.touch(id, now, None));
                },
                Op::TouchWithTimeout(i, t) => if let Some(&id) = ids.get(i) {
                    prop_assert_eq!(engine.touch_with_timeout(id, t), model.touch(id, now, Some(t)));
                },
                Op::Close(i) => if let Some(&id) = ids.get(i) {
                    let want = model.forget(id).map(|_| ()).ok_or(Error::UnknownSession);
                    prop_assert_eq!(engine.close(id), want);
                },
                Op::Remove(i) => if let Some(&id) = ids.get(i) {
                    prop_assert_eq!(engine.remove(id), model.forget(id).is_some());
                },
                Op::Upgrade(i) => if let Some(&id) = ids.get(i) {
                    let want = match model.sessions.get_mut(&id) {
                        None => Err(Error::UnknownSession),
                        Some(s) if s.closing => Err(Error::SessionExpired),
                        Some(s) => { s.local = false; Ok(s.timeout) }
                    };
                    prop_assert_eq!(engine.upgrade(id), want);
                },
                Op::AddRemote(t) => {
                    let id = engine.next_id();
                    prop_assert!(!model.sessions.contains_key(&id));
                    prop_assert_eq!(engine.add_remote(id, t), Ok(true));
                    model.sessions.insert(id, ModelSession { due: None, timeout: t, closing: false, local: false, remote: true });
                    ids.push(id);
                }
                Op::UpgradeToRemote(i) => if let Some(&id) = ids.get(i) {
                    let want = match model.sessions.get_mut(&id) {
                        None => Err(Error::UnknownSession),
                        Some(s) if s.closing => Err(Error::SessionExpired),
                        Some(s) => {
                            if s.local {
                                s.local = false;
                                s.remote = true;
                            }
                            Ok(s.timeout)
                        }
                    };
                    prop_assert_eq!(engine.upgrade_to_remote(id), want);
                },
                Op::MakeGlobal(i) => if let Some(&id) = ids.get(i) {
                    let want = match model.sessions.get_mut(&id) {
                        None => Err(Error::UnknownSession),
                        Some(s) if s.closing => Err(Error::SessionExpired),
                        Some(s) => {
                            if s.remote {
                                s.due = Some(s.due.unwrap_or_else(|| due(now, s.timeout)));
                            }
                            s.local = false;
                            s.remote = false;
                            Ok(s.timeout)
                        }
                    };
                    prop_assert_eq!(engine.make_global(id), want);
                },
                Op::LearnerTouch(i, t) => if let Some(&id) = ids.get(i) {
                    let remote = model.sessions.get(&id).is_some_and(|s| s.remote);
                    let want = model.touch(id, now, Some(t)).map(|()| {
                        if remote { LearnerTouch::Forwarded } else { LearnerTouch::Local }
                    });
                    prop_assert_eq!(engine.learner_touch(id, t), want);
                },
                Op::Drain => {
                    let mut got = engine.drain_touched();
                    got.sort_unstable();
                    let want: Vec<(u64, u32)> = std::mem::take(&mut model.touched).into_iter().collect();
                    prop_assert_eq!(got, want);
                }
                Op::Advance(ms) => {
                    clock.advance(ms);
                    let now = clock.now_ms_for_test();
                    engine.expire_due();
                    let got: BTreeSet<u64> = engine
                        .poll_expired(usize::MAX, Duration::ZERO)
                        .unwrap()
                        .iter()
                        .map(|e| e.id)
                        .collect();
                    prop_assert_eq!(got, model.expire(now), "at {}", now);
                }
            }
            let counts = engine.counts();
            let closing = model.sessions.values().filter(|s| s.closing).count() as u64;
            let local = model.sessions.values().filter(|s| !s.closing && s.local).count() as u64;
            let remote = model.sessions.values().filter(|s| !s.closing && s.remote).count() as u64;
            let closing_local = model.sessions.values().filter(|s| s.closing && s.local).count() as u64;
            prop_assert_eq!(counts.closing, closing);
            prop_assert_eq!(counts.closing_local, closing_local);
            prop_assert_eq!(counts.local, local);
            prop_assert_eq!(counts.remote, remote);
            prop_assert_eq!(counts.touch_table, model.touched.len() as u64);
            prop_assert_eq!(counts.total(), model.sessions.len() as u64);
        }
    }
}

trait NowForTest {
    fn now_ms_for_test(&self) -> u64;
}

impl NowForTest for ManualClock {
    fn now_ms_for_test(&self) -> u64 {
        use zksession::engine::Clock;
        self.now_ms()
    }
}

/// A clock whose cheap reading trails the precise one by up to `G` ms (the lag is set by
/// the test between operations), as the kernel's coarse clock does.
struct LaggingClock {
    now: std::sync::atomic::AtomicU64,
    lag: std::sync::atomic::AtomicU64,
}

const G: u64 = 7;

impl zksession::engine::Clock for LaggingClock {
    fn now_ms(&self) -> u64 {
        self.now.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn coarse_now_ms(&self) -> u64 {
        self.now_ms() - self.lag.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn coarse_granularity_ms(&self) -> u64 {
        G
    }
    fn id_seed_ms(&self) -> u64 {
        1
    }
}

#[derive(Debug, Clone)]
enum CoarseOp {
    Create(u32),
    Touch(usize),
    TouchWithTimeout(usize, u32),
    Lag(u64),
    Advance(u64),
}

fn coarse_op() -> impl Strategy<Value = CoarseOp> {
    prop_oneof![
        2 => (1u32..3000).prop_map(CoarseOp::Create),
        4 => (0usize..32).prop_map(CoarseOp::Touch),
        1 => (0usize..32, 1u32..3000).prop_map(|(i, t)| CoarseOp::TouchWithTimeout(i, t)),
        2 => (0..=G).prop_map(CoarseOp::Lag),
        4 => (0u64..400).prop_map(CoarseOp::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Touches read the clock's cheap reading, which trails the precise one by up to `G`:
    /// a session whose last successful touch was at precise time `t` with timeout `T` is
    /// never expired at or before `t + T`, and always by `t + T + G + tick`; exactly when
    /// is ZooKeeper's rule applied to the cheap reading plus `G`, or the deadline already in
    /// force if that is later (a plain touch only raises it; with-timeout touches set it).
    #[test]
    fn coarse_touches_keep_the_expiry_bounds(ops in proptest::collection::vec(coarse_op(), 1..200)) {
        use std::sync::atomic::Ordering::SeqCst;
        let clock = Arc::new(LaggingClock {
            now: std::sync::atomic::AtomicU64::new(10_000),
            lag: std::sync::atomic::AtomicU64::new(0),
        });
        let config = Config {
            min_session_timeout_ms: TICK as u32,
            max_session_timeout_ms: 2500,
            shards: 2,
            expiry_workers: 1,
            ..Config::with_tick(TICK as u32)
        };
        let engine = Engine::builder(config.clone()).clock(clock.clone()).workers(false).build().unwrap();
        // id -> (precise time of the last successful touch, its timeout, exact due time)
        let mut live: BTreeMap<u64, (u64, u32, u64)> = BTreeMap::new();
        let mut ids: Vec<u64> = Vec::new();
        for op in ops {
            let now = clock.now.load(SeqCst);
            let coarse = now - clock.lag.load(SeqCst);
            match op {
                CoarseOp::Create(t) => {
                    let c = engine.create(t as i64, SessionKind::Global);
                    let t = config.negotiate_timeout(t as i64);
                    live.insert(c.id, (now, t, due(coarse + G, t)));
                    ids.push(c.id);
                }
                CoarseOp::Touch(i) => if let Some(&id) = ids.get(i) {
                    let r = engine.touch(id);
                    if let Some(s) = live.get_mut(&id) {
                        prop_assert_eq!(r, Ok(()));
                        // A plain touch never lowers a deadline: a cheap reading that went
                        // back (a larger lag) leaves the later one in force.
                        *s = (now, s.1, s.2.max(due(coarse + G, s.1)));
                    } else {
                        prop_assert_eq!(r, Err(Error::SessionExpired));
                    }
                },
                CoarseOp::TouchWithTimeout(i, t) => if let Some(&id) = ids.get(i) {
                    let r = engine.touch_with_timeout(id, t);
                    if let Some(s) = live.get_mut(&id) {
                        prop_assert_eq!(r, Ok(()));
                        *s = (now, t, due(coarse + G, t));
                    } else {
                        prop_assert_eq!(r, Err(Error::SessionExpired));
                    }
                },
                CoarseOp::Lag(l) => clock.lag.store(l.min(now), SeqCst),
                CoarseOp::Advance(ms) => {
                    clock.now.fetch_add(ms, SeqCst);
                    let now = clock.now.load(SeqCst);
                    engine.expire_due();
                    let got: BTreeSet<u64> = engine
                        .poll_expired(usize::MAX, Duration::ZERO)
                        .unwrap()
                        .iter()
                        .map(|e| e.id)
                        .collect();
                    let mut want = BTreeSet::new();
                    for (&id, &(t, timeout, e)) in &live {
                        let bound_hi = t + timeout as u64 + G + TICK;
                        if got.contains(&id) {
                            // Never at or before t + T.
                            prop_assert!(now > t + timeout as u64, "{id:#x} expired at {now}, touched {t} + {timeout}");
                        } else {
                            // Always by t + T + G + tick.
                            prop_assert!(now < bound_hi, "{id:#x} alive at {now}, past {bound_hi}");
                        }
                        if e <= now {
                            want.insert(id);
                        }
                    }
                    prop_assert_eq!(&got, &want, "at {}", now);
                    for id in &got {
                        live.remove(id);
                    }
                }
            }
        }
    }
}
