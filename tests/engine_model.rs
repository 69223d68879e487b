//! Property test: random sequences of create / touch / close / upgrade / remove / advance
//! against a plain reference model of ZooKeeper's expiry rule; the set of sessions expired
//! at each step must be identical.

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use zksession::engine::{Config, Engine, Error, ManualClock, SessionKind};

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
    ]
}

#[derive(Debug, Clone)]
struct ModelSession {
    due: u64,
    timeout: u32,
    closing: bool,
    local: bool,
}

/// The reference: a map and ZooKeeper's formula, nothing clever.
#[derive(Default)]
struct Model {
    sessions: BTreeMap<u64, ModelSession>,
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
        s.due = due(now, s.timeout);
        Ok(())
    }

    fn expire(&mut self, now: u64) -> BTreeSet<u64> {
        let mut out = BTreeSet::new();
        for (&id, s) in self.sessions.iter_mut() {
            if !s.closing && s.due <= now {
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
                    model.sessions.insert(c.id, ModelSession { due: due(now, timeout), timeout, closing: false, local });
                    ids.push(c.id);
                }
                Op::Touch(i) => if let Some(&id) = ids.get(i) {
                    prop_assert_eq!(engine.touch(id), model.touch(id, now, None));
                },
                Op::TouchWithTimeout(i, t) => if let Some(&id) = ids.get(i) {
                    prop_assert_eq!(engine.touch_with_timeout(id, t), model.touch(id, now, Some(t)));
                },
                Op::Close(i) => if let Some(&id) = ids.get(i) {
                    let want = model.sessions.remove(&id).map(|_| ()).ok_or(Error::UnknownSession);
                    prop_assert_eq!(engine.close(id), want);
                },
                Op::Remove(i) => if let Some(&id) = ids.get(i) {
                    prop_assert_eq!(engine.remove(id), model.sessions.remove(&id).is_some());
                },
                Op::Upgrade(i) => if let Some(&id) = ids.get(i) {
                    let want = match model.sessions.get_mut(&id) {
                        None => Err(Error::UnknownSession),
                        Some(s) if s.closing => Err(Error::SessionExpired),
                        Some(s) => { s.local = false; Ok(s.timeout) }
                    };
                    prop_assert_eq!(engine.upgrade(id), want);
                },
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
            prop_assert_eq!(counts.closing, closing);
            prop_assert_eq!(counts.local, local);
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
