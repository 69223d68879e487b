//! Loom models of the engine's concurrent protocols. Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom_engine`.
//!
//! Each model drives a tiny engine (one or two shards, no worker threads, a manual clock)
//! from two loom threads so loom explores every interleaving of the shard locks, the id
//! counter and the expiry queue.
#![cfg(loom)]

use loom::thread;
use std::sync::Arc;
use std::time::Duration;
use zksession::engine::{Config, Engine, Error, ManualClock, SessionKind};

const TICK: u32 = 100;
const T0: u64 = 100_000;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

fn tiny_engine(shards: usize, local: bool) -> (Arc<Engine>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let config = Config {
        shards,
        expiry_workers: 1,
        expiry_batch: 1,
        local_sessions: local,
        local_session_upgrade: local,
        password_mode: zksession::engine::PasswordMode::ZooKeeperCompatible,
        ..Config::with_tick(TICK)
    };
    let e = Engine::builder(config)
        .clock(clock.clone())
        .workers(false)
        .build()
        .unwrap();
    (Arc::new(e), clock)
}

fn drain(e: &Engine) -> Vec<u64> {
    e.poll_expired(usize::MAX, Duration::ZERO)
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect()
}

/// A touch that succeeds is never followed by expiry before its new deadline; a touch
/// after the decision fails.
#[test]
fn touch_racing_the_expiry_decision() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let s = e.create(200, SessionKind::Global);
        clock.advance(300); // exactly at the session's deadline
        let e2 = e.clone();
        let toucher = thread::spawn(move || e2.touch(s.id));
        let expired_now = e.expire_due();
        let touched = toucher.join().unwrap();
        match touched {
            Ok(()) => {
                // The touch won: nothing may expire until the new deadline.
                assert_eq!(expired_now, 0);
                assert_eq!(e.expire_due(), 0);
                assert!(drain(&e).is_empty());
            }
            Err(err) => {
                assert_eq!(err, Error::SessionExpired);
                assert_eq!(expired_now, 1);
                assert_eq!(drain(&e), vec![s.id]);
            }
        }
    });
}

/// Close racing expiry: the expiry is delivered at most once, and after both the session
/// is gone.
#[test]
fn close_racing_expiry() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let s = e.create(200, SessionKind::Global);
        clock.advance(300);
        let e2 = e.clone();
        let closer = thread::spawn(move || e2.close(s.id));
        e.expire_due();
        assert_eq!(closer.join().unwrap(), Ok(()));
        e.expire_due();
        let delivered = drain(&e);
        assert!(delivered.len() <= 1);
        assert!(!e.is_tracking(s.id));
    });
}

/// Concurrent creates on two shards get distinct ids and both are tracked.
#[test]
fn concurrent_creates_get_unique_ids() {
    model(|| {
        let (e, _) = tiny_engine(2, false);
        let e2 = e.clone();
        let other = thread::spawn(move || e2.create(200, SessionKind::Global).id);
        let a = e.create(200, SessionKind::Global).id;
        let b = other.join().unwrap();
        assert_ne!(a, b);
        assert!(e.is_tracking(a) && e.is_tracking(b));
        assert_eq!(e.counts().global, 2);
    });
}

/// Upgrade racing expiry: either the upgrade wins (the session expires as global) or the
/// expiry wins (the upgrade fails with SessionExpired and it expires as local).
#[test]
fn upgrade_racing_expiry() {
    model(|| {
        let (e, clock) = tiny_engine(1, true);
        let s = e.create(200, SessionKind::Local);
        clock.advance(300);
        let e2 = e.clone();
        let upgrader = thread::spawn(move || e2.upgrade(s.id));
        e.expire_due();
        let up = upgrader.join().unwrap();
        let expired = e.poll_expired(8, Duration::ZERO).unwrap();
        assert_eq!(expired.len(), 1);
        match up {
            Ok(t) => {
                assert_eq!(t, 200);
                assert_eq!(expired[0].kind, SessionKind::Global);
            }
            Err(err) => {
                assert_eq!(err, Error::SessionExpired);
                assert_eq!(expired[0].kind, SessionKind::Local);
            }
        }
        let c = e.counts();
        assert_eq!((c.global, c.local, c.closing), (0, 0, 1));
    });
}

/// The expiry queue hands a delivered session to a waiting poller exactly once.
#[test]
fn poller_receives_a_concurrent_delivery() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let s = e.create(200, SessionKind::Global);
        clock.advance(300);
        let e2 = e.clone();
        let poller = thread::spawn(move || {
            e2.poll_expired(8, Duration::from_secs(1))
                .unwrap()
                .iter()
                .map(|x| x.id)
                .collect::<Vec<_>>()
        });
        assert_eq!(e.expire_due(), 1);
        let got = poller.join().unwrap();
        let rest = drain(&e);
        let mut all = got;
        all.extend(rest);
        assert_eq!(all, vec![s.id]);
    });
}
