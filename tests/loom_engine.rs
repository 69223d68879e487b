//! Loom models of the engine's concurrent protocols. Run with
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom CARGO_PROFILE_DEV_OPT_LEVEL=1
//! LOOM_MAX_PREEMPTIONS=2 cargo test --no-default-features --test loom_engine`.
//!
//! Each model drives a tiny engine (one or two shards, a manual clock, no worker threads
//! except in the stop model) from two loom threads so loom explores the interleavings of
//! the shard locks, the lock-free touch and its CAS protocol (expiry decision, removal,
//! table growth, re-filing, timeout changes), the id counter, the touch table and the
//! expiry queue.
//!
//! # Both orders for read-then-CAS races
//! Loom does not run every interleaving: it reorders only accesses it saw racing, and it
//! remembers one last access per atomic. A thread that loads the state word and then CASes
//! it (the touch; the expiry decision) hides, with its own load, the other thread's earlier
//! load of that word, so that load is never seen racing the CAS (tokio-rs/loom#392 is the
//! same blind spot). In these models loom puts one thread's CAS between the other's read
//! and its *write*, but between two *reads* of the other thread only when the reading thread
//! is the spawned one. With the pass on the model's own thread, a decision that re-read the
//! word just before its CAS (so a touch landing after the read it decided on was overwritten
//! and the session expired although the touch had succeeded) passed all 7 interleavings
//! explored, with 3 or 4 preemptions allowed as well; a touch that re-read the word before
//! its CAS is caught only in that order. Races where both sides read and then CAS the state
//! word are therefore modelled in both orders (see [`race`]). [`model`] prints how many
//! interleavings it explored (shown with `--nocapture`): one that explores a handful checks
//! little.
#![cfg(loom)]

use loom::thread;
use std::sync::Arc;
use std::time::Duration;
use zksession::engine::{Config, Engine, Error, ManualClock, SessionKind};

const TICK: u32 = 100;
const T0: u64 = 100_000;

/// Explores `f` under loom (at most 2 preemptions unless `LOOM_MAX_PREEMPTIONS` says
/// otherwise) and prints the number of interleavings explored.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "{}: {} interleavings",
        std::thread::current().name().unwrap_or("?"),
        runs.load(std::sync::atomic::Ordering::Relaxed)
    );
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

/// Runs `touch` and `pass` on two loom threads and returns their results. With
/// `touch_first` the touch runs on the model's own thread, which loom runs first until a race
/// moves it, and the pass on the spawned thread; otherwise the other way round. Each order
/// covers windows the other misses (see the module doc).
fn race<T, P>(
    touch_first: bool,
    touch: impl FnOnce() -> T + Send + 'static,
    pass: impl FnOnce() -> P + Send + 'static,
) -> (T, P)
where
    T: Send + 'static,
    P: Send + 'static,
{
    if touch_first {
        let p = thread::spawn(pass);
        let t = touch();
        (t, p.join().unwrap())
    } else {
        let t = thread::spawn(touch);
        let p = pass();
        (t.join().unwrap(), p)
    }
}

fn drain(e: &Engine) -> Vec<u64> {
    e.poll_expired(usize::MAX, Duration::ZERO)
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect()
}

/// A touch racing the expiry decision for a session exactly at its deadline: a touch that
/// succeeds is never followed by expiry before its new deadline; a touch after the decision
/// fails.
fn touch_vs_expiry_decision(touch_first: bool) {
    let (e, clock) = tiny_engine(1, false);
    let s = e.create(200, SessionKind::Global);
    clock.advance(300); // exactly at the session's deadline
    let (et, ep) = (e.clone(), e.clone());
    let (touched, expired_now) = race(touch_first, move || et.touch(s.id), move || ep.expire_due());
    match touched {
        Ok(()) => {
            // The touch won: nothing may expire until the new deadline.
            assert_eq!(expired_now, 0, "expired although the touch succeeded");
            assert_eq!(e.expire_due(), 0);
            assert!(drain(&e).is_empty());
        }
        Err(err) => {
            assert_eq!(err, Error::SessionExpired);
            assert_eq!(expired_now, 1);
            assert_eq!(drain(&e), vec![s.id]);
        }
    }
}

/// [`touch_vs_expiry_decision`] with the pass on the model's own thread: loom runs a touch
/// between the decision's read and its CAS, and a decision between the touch's reads.
#[test]
fn touch_racing_the_expiry_decision() {
    model(|| touch_vs_expiry_decision(false));
}

/// [`touch_vs_expiry_decision`] with the touch on the model's own thread: loom runs a touch
/// between two reads of the decision (one that decides, one that CASes from a fresher word
/// would lose that touch).
#[test]
fn touch_started_first_racing_the_expiry_decision() {
    model(|| touch_vs_expiry_decision(true));
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

/// learner_touch and record_touch racing drain_touched: every recorded touch lands in
/// exactly one of the two drains (none lost, none duplicated within a drain), with the last
/// timeout recorded for its id.
#[test]
fn touch_table_record_racing_drain() {
    model(|| {
        let (e, _) = tiny_engine(2, true);
        e.add_remote(11, 200).unwrap();
        let e2 = e.clone();
        let toucher = thread::spawn(move || {
            assert_eq!(
                e2.learner_touch(11, 300),
                Ok(zksession::engine::LearnerTouch::Forwarded)
            );
            e2.record_touch(12, 400);
        });
        let first = e.drain_touched();
        toucher.join().unwrap();
        let second = e.drain_touched();
        for d in [&first, &second] {
            let mut ids: Vec<u64> = d.iter().map(|x| x.0).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), d.len(), "an id twice in one drain");
        }
        let mut all: Vec<(u64, u32)> = first.into_iter().chain(second).collect();
        all.sort_unstable();
        assert_eq!(all, vec![(11, 300), (12, 400)]);
        assert_eq!(e.counts().touch_table, 0);
    });
}

/// Two touches of one id racing a drain: the id appears at most once per drain, and the
/// last recorded timeout is never lost.
#[test]
fn repeated_touches_of_one_id_racing_drain() {
    model(|| {
        let (e, _) = tiny_engine(1, true);
        let e2 = e.clone();
        let toucher = thread::spawn(move || {
            e2.record_touch(11, 300);
            e2.record_touch(11, 500);
        });
        let first = e.drain_touched();
        toucher.join().unwrap();
        let second = e.drain_touched();
        assert!(
            first.len() <= 1 && second.len() <= 1,
            "an id twice in one drain"
        );
        // The last touch lands in exactly one drain, and nothing recorded after it.
        let all: Vec<(u64, u32)> = first.iter().chain(&second).copied().collect();
        assert_eq!(all.last(), Some(&(11, 500)));
        assert_eq!(all.iter().filter(|x| x.1 == 500).count(), 1);
    });
}

/// upgrade_to_remote racing expiry of a learner's local session: either the upgrade wins
/// and the session never expires, or the expiry wins and the upgrade fails.
#[test]
fn upgrade_to_remote_racing_expiry() {
    model(|| {
        let (e, clock) = tiny_engine(1, true);
        let s = e.create(200, SessionKind::Local);
        clock.advance(300);
        let e2 = e.clone();
        let upgrader = thread::spawn(move || e2.upgrade_to_remote(s.id));
        let expired_now = e.expire_due();
        let up = upgrader.join().unwrap();
        clock.advance(1_000_000);
        let expired_later = e.expire_due();
        let delivered = drain(&e);
        let st = e.kind_any(s.id).unwrap();
        match up {
            Ok(t) => {
                assert_eq!(t, 200);
                assert_eq!(expired_now + expired_later, 0);
                assert!(delivered.is_empty());
                assert!(st.remote && !st.closing);
                assert_eq!(e.counts().remote, 1);
            }
            Err(err) => {
                assert_eq!(err, Error::SessionExpired);
                assert_eq!(expired_now, 1);
                assert_eq!(delivered, vec![s.id]);
                assert!(st.closing && !st.remote && st.kind == SessionKind::Local);
                assert_eq!(e.counts().closing_local, 1);
            }
        }
    });
}

/// stop_workers racing a caller and a blocked poller on an engine with a running worker:
/// nothing panics or deadlocks, the poller returns, and calls after the stop work.
#[test]
fn stop_workers_racing_callers() {
    model(|| {
        let clock = Arc::new(ManualClock::new(T0));
        let config = Config {
            shards: 1,
            expiry_workers: 1,
            password_mode: zksession::engine::PasswordMode::ZooKeeperCompatible,
            ..Config::with_tick(TICK)
        };
        let e = Arc::new(
            Engine::builder(config)
                .clock(clock.clone())
                .workers(true)
                .build()
                .unwrap(),
        );
        let s = e.create(200, SessionKind::Global);
        let e2 = e.clone();
        let caller = thread::spawn(move || {
            let polled = e2.poll_expired(8, Duration::from_secs(1)).unwrap();
            assert!(polled.is_empty());
            e2.touch(s.id)
        });
        e.stop_workers();
        assert_eq!(caller.join().unwrap(), Ok(()));
        e.stop_workers();
        assert_eq!(e.touch(s.id), Ok(()));
        assert!(e.remove(s.id));
    });
}

/// An Expirer on the worker calling stop_workers while another thread's stop_workers joins
/// that worker: neither deadlocks, and every call afterwards works.
#[test]
fn stop_workers_from_the_expirer_racing_stop_workers() {
    model(|| {
        let clock = Arc::new(ManualClock::new(T0));
        let config = Config {
            shards: 1,
            expiry_workers: 1,
            password_mode: zksession::engine::PasswordMode::ZooKeeperCompatible,
            ..Config::with_tick(TICK)
        };
        let slot: Arc<std::sync::OnceLock<std::sync::Weak<Engine>>> = Arc::default();
        let slot2 = slot.clone();
        let e = Arc::new(
            Engine::builder(config)
                .clock(clock.clone())
                .expirer(move |_: &[zksession::engine::Expired]| {
                    if let Some(engine) = slot2.get().and_then(|w| w.upgrade()) {
                        engine.stop_workers();
                    }
                })
                .build()
                .unwrap(),
        );
        slot.set(Arc::downgrade(&e)).unwrap();
        let s = e.create(200, SessionKind::Global);
        // Due now: the worker expires it if its pass runs after this advance.
        clock.advance(300);
        e.stop_workers();
        assert!(e.workers_stopped());
        e.expire_due();
        assert_eq!(e.kind_any(s.id).map(|k| k.closing), Ok(true));
        assert!(e.remove(s.id));
    });
}

/// Two passes waking late from one stall of the process: the stall is credited once (not
/// once per pass), and neither expires a session whose deadline fell in the stalled span.
#[test]
fn two_late_passes_credit_one_stall_once() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let s = e.create(200, SessionKind::Global); // due T0+300
        clock.advance(5000); // both passes asked for T0+100
        let e2 = e.clone();
        let other = thread::spawn(move || e2.expire_due_after(T0 + 100));
        let mine = e.expire_due_after(T0 + 100);
        assert_eq!(mine + other.join().unwrap(), 0);
        let t = e.totals();
        assert_eq!((t.stalls, t.stalled_ms), (1, 5000));
        assert!(!e.kind_any(s.id).unwrap().closing);
        assert_eq!(e.now_ms(), T0);
    });
}

/// A heartbeat delivered after the resume racing the late pass that detects the stall: the
/// touch succeeds whichever credit it read, and the session is not expired by that pass.
#[test]
fn touch_racing_the_stall_detection() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let s = e.create(200, SessionKind::Global); // due T0+300
        clock.advance(5000);
        let e2 = e.clone();
        let toucher = thread::spawn(move || e2.touch(s.id));
        assert_eq!(e.expire_due_after(T0 + 100), 0);
        assert_eq!(toucher.join().unwrap(), Ok(()));
        assert_eq!(e.totals().stalls, 1);
        // Due no earlier than one timeout after the touch's engine time (T0 at least).
        clock.advance(200);
        assert_eq!(e.expire_due(), 0);
        assert!(drain(&e).is_empty());
    });
}

/// A lock-free touch racing a close (remove): the touch either lands before the removal
/// (and the removed session is never expired) or fails as unknown; either way nothing is
/// ever delivered and the id is gone.
#[test]
fn touch_racing_remove() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let s = e.create(200, SessionKind::Global);
        clock.advance(100);
        let e2 = e.clone();
        let toucher = thread::spawn(move || e2.touch(s.id));
        assert_eq!(e.close(s.id), Ok(()));
        let touched = toucher.join().unwrap();
        assert!(
            matches!(touched, Ok(()) | Err(Error::UnknownSession)),
            "{touched:?}"
        );
        assert!(!e.is_tracking(s.id));
        assert_eq!(e.touch(s.id), Err(Error::UnknownSession));
        clock.advance(10_000);
        assert_eq!(e.expire_due(), 0);
        assert_eq!(e.counts().total(), 0);
    });
}

/// A lock-free touch racing the growth of its shard's table (the fourth create outgrows the
/// smallest table): the touch is never lost, whichever table it lands in.
#[test]
fn touch_racing_table_growth() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let a = e.create(200, SessionKind::Global); // due T0+300
        e.create(200, SessionKind::Global);
        e.create(200, SessionKind::Global);
        clock.advance(200);
        let e2 = e.clone();
        let toucher = thread::spawn(move || e2.touch(a.id)); // due T0+500
        let d = e.create(200, SessionKind::Global); // grows the table
        assert_eq!(toucher.join().unwrap(), Ok(()));
        assert!(e.is_tracking(d.id));
        clock.advance(100); // T0+300: the three others are due, `a` is not
        assert_eq!(e.expire_due(), 2);
        assert!(!drain(&e).contains(&a.id));
        clock.advance(200); // T0+500
        assert_eq!(e.expire_due(), 2);
        assert!(drain(&e).contains(&a.id));
    });
}

/// A lock-free touch racing the expiry pass that re-files the session's entry (its deadline
/// moved since it was filed): the session is re-filed or touched in either order, and is
/// never expired before the later deadline.
fn touch_vs_refiling(touch_first: bool) {
    let (e, clock) = tiny_engine(1, false);
    let s = e.create(200, SessionKind::Global); // filed at T0+300
    clock.advance(100);
    e.touch(s.id).unwrap(); // due T0+400, still filed at T0+300
    clock.advance(200); // T0+300: the entry comes due and must be re-filed
    let (et, ep) = (e.clone(), e.clone());
    // The touch moves the deadline to T0+600.
    let (touched, expired_now) = race(touch_first, move || et.touch(s.id), move || ep.expire_due());
    assert_eq!(expired_now, 0);
    assert_eq!(touched, Ok(()));
    clock.advance(200); // T0+500
    assert_eq!(e.expire_due(), 0, "not before the second touch's deadline");
    clock.advance(100); // T0+600
    assert_eq!(e.expire_due(), 1);
    assert_eq!(drain(&e), vec![s.id]);
}

/// [`touch_vs_refiling`] with the pass on the model's own thread. Loom sees no race in this
/// order (the re-filing pass only reads the word, and the touch's own load hides that read
/// from its CAS), so it runs the one interleaving; the other order is the one that checks.
#[test]
fn touch_racing_refiling() {
    model(|| touch_vs_refiling(false));
}

/// [`touch_vs_refiling`] with the touch on the model's own thread (a touch between two
/// reads of the re-filing pass).
#[test]
fn touch_started_first_racing_refiling() {
    model(|| touch_vs_refiling(true));
}

/// A lock-free touch racing a reconnect's new, shorter timeout that happens to leave the
/// deadline where it was: whichever lands first, the session ends up due by the new timeout
/// (a touch never writes a deadline computed from a timeout no longer in force, even when
/// the state word it read looks unchanged: the version tells them apart).
#[test]
fn touch_racing_a_timeout_change() {
    model(|| {
        let (e, clock) = tiny_engine(1, false);
        let s = e.create(300, SessionKind::Global); // due T0+400
        clock.advance(100);
        let e2 = e.clone();
        let toucher = thread::spawn(move || e2.touch(s.id));
        e.touch_with_timeout(s.id, 200).unwrap(); // due T0+400 again
        assert_eq!(toucher.join().unwrap(), Ok(()));
        clock.advance(300); // T0+400
        assert_eq!(e.expire_due(), 1);
        assert_eq!(drain(&e), vec![s.id]);
    });
}
