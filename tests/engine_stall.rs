//! A stall of the engine's own process is not the clients' silence: an expiry pass that
//! wakes far later than it asked credits the time the process could not run to every
//! session's deadline. On a manual clock, so every bound below is exact.

use std::sync::Arc;
use std::time::{Duration, Instant};
use zksession::engine::{Clock, Config, Engine, ManualClock, SessionKind};

const TICK: u64 = 1000;
/// On a tick boundary so the arithmetic reads plainly.
const T0: u64 = 1_000_000;

fn config() -> Config {
    let c = Config::with_tick(TICK as u32);
    assert_eq!(
        c.stall_threshold_ms, 1000,
        "the default threshold these tests assume"
    );
    c
}

fn engine_with(config: Config) -> (Engine, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::builder(config)
        .clock(clock.clone())
        .workers(false)
        .build()
        .unwrap();
    (e, clock)
}

fn expired_ids(e: &Engine) -> Vec<u64> {
    let mut v: Vec<u64> = e
        .poll_expired(usize::MAX, Duration::ZERO)
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    v.sort_unstable();
    v
}

/// An on-time pass: asked for exactly now.
fn pass_on_time(e: &Engine) -> usize {
    e.expire_due_after(e.now_ms())
}

/// Moves the clock to `T0 + at` and runs an on-time pass; returns the ids expired.
fn at(e: &Engine, clock: &ManualClock, at: u64) -> Vec<u64> {
    clock.set(T0 + at);
    pass_on_time(e);
    expired_ids(e)
}

#[test]
fn no_session_expires_for_the_stalled_span() {
    let (e, clock) = engine_with(config());
    // Due at the first tick boundary strictly after t + T: T0+5000 and T0+7000.
    let short = e.create(4000, SessionKind::Global).id;
    let long = e.create(6000, SessionKind::Global).id;
    assert!(at(&e, &clock, 1000).is_empty());
    // The process stops for 9 s; the next pass asked for T0+2000 runs at T0+10_000.
    clock.set(T0 + 10_000);
    assert_eq!(e.expire_due_after(T0 + 2000), 0);
    assert!(
        expired_ids(&e).is_empty(),
        "both deadlines fell in the stall"
    );
    let t = e.totals();
    // Credited from the last sighting (T0+1000), so engine time resumes where it stopped.
    assert_eq!((t.stalls, t.stalled_ms), (1, 9000));
    assert_eq!(e.now_ms(), T0 + 1000);
    assert_eq!(e.time_to_live(short), Ok(4000));
    assert_eq!(e.time_to_live(long), Ok(6000));
}

#[test]
fn a_session_silent_for_its_timeout_excluding_the_stall_still_expires() {
    let (e, clock) = engine_with(config());
    let short = e.create(4000, SessionKind::Global).id;
    let long = e.create(6000, SessionKind::Global).id;
    assert!(at(&e, &clock, 1000).is_empty());
    clock.set(T0 + 10_000);
    e.expire_due_after(T0 + 2000);
    // Each is due its deadline plus the 9000 ms credited, to the millisecond.
    assert!(at(&e, &clock, 13_999).is_empty());
    assert_eq!(at(&e, &clock, 14_000), vec![short]);
    assert!(at(&e, &clock, 15_999).is_empty());
    assert_eq!(at(&e, &clock, 16_000), vec![long]);
    let exp = e.totals();
    assert_eq!((exp.expirations, exp.stalls), (2, 1));
}

#[test]
fn a_heartbeat_read_between_the_resume_and_the_detection_keeps_its_session() {
    let (e, clock) = engine_with(config());
    let s = e.create(6000, SessionKind::Global).id;
    assert!(at(&e, &clock, 1000).is_empty());
    clock.set(T0 + 10_000);
    // The event loop runs first after the resume and delivers the waiting heartbeat.
    e.touch(s).unwrap();
    e.expire_due_after(T0 + 2000);
    assert_eq!(e.totals().stalls, 1);
    // Touched at engine time T0+10_000 (before the credit): due T0+17_000 engine, which is
    // T0+26_000 on the clock; never earlier than its touch plus the timeout.
    assert!(at(&e, &clock, 25_999).is_empty());
    assert_eq!(at(&e, &clock, 26_000), vec![s]);
}

#[test]
fn touches_after_the_detection_follow_zookeepers_rule_in_engine_time() {
    let (e, clock) = engine_with(config());
    let s = e.create(6000, SessionKind::Global).id;
    assert!(at(&e, &clock, 1000).is_empty());
    clock.set(T0 + 10_000);
    e.expire_due_after(T0 + 2000);
    clock.set(T0 + 10_500); // engine time T0+1500
    e.touch(s).unwrap();
    // Due at the first boundary strictly after 1500 + 6000 engine: T0+8000, clock T0+17_000.
    assert!(at(&e, &clock, 16_999).is_empty());
    assert_eq!(at(&e, &clock, 17_000), vec![s]);
}

#[test]
fn lateness_up_to_the_threshold_is_not_a_stall() {
    let (e, clock) = engine_with(config());
    let s = e.create(2000, SessionKind::Global).id; // due T0+3000
    assert!(at(&e, &clock, 2000).is_empty());
    // Asked for T0+3000 and run 1000 ms late: at the threshold, not past it.
    clock.set(T0 + 4000);
    assert_eq!(e.expire_due_after(T0 + 3000), 1);
    assert_eq!(expired_ids(&e), vec![s]);
    assert_eq!(e.totals().stalls, 0);
}

#[test]
fn a_zero_threshold_expires_like_zookeeper() {
    let (e, clock) = engine_with(Config {
        stall_threshold_ms: 0,
        ..config()
    });
    let s = e.create(4000, SessionKind::Global).id;
    assert!(at(&e, &clock, 1000).is_empty());
    clock.set(T0 + 10_000);
    assert_eq!(e.expire_due_after(T0 + 2000), 1);
    assert_eq!(expired_ids(&e), vec![s]);
    assert_eq!(e.totals().stalls, 0);
}

#[test]
fn two_late_passes_from_one_stall_credit_it_once() {
    let (e, clock) = engine_with(config());
    let s = e.create(4000, SessionKind::Global).id;
    assert!(at(&e, &clock, 1000).is_empty());
    clock.set(T0 + 10_000);
    e.expire_due_after(T0 + 2000);
    clock.set(T0 + 10_004);
    // A second pass that had asked for the same time: the process was seen at T0+10_000.
    e.expire_due_after(T0 + 2000);
    let t = e.totals();
    assert_eq!((t.stalls, t.stalled_ms), (1, 9000));
    assert_eq!(at(&e, &clock, 14_000), vec![s]);
}

#[test]
fn plain_expire_due_does_not_detect_stalls() {
    let (e, clock) = engine_with(config());
    let s = e.create(4000, SessionKind::Global).id;
    clock.set(T0 + 10_000);
    assert_eq!(e.expire_due(), 1);
    assert_eq!(expired_ids(&e), vec![s]);
    assert_eq!(e.totals().stalls, 0);
}

#[test]
fn expiry_records_carry_engine_time_deadlines() {
    let (e, clock) = engine_with(config());
    let s = e.create(4000, SessionKind::Global).id;
    assert!(at(&e, &clock, 1000).is_empty());
    clock.set(T0 + 10_000);
    e.expire_due_after(T0 + 2000);
    clock.set(T0 + 14_000);
    pass_on_time(&e);
    let got = e.poll_expired(8, Duration::ZERO).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].id, got[0].deadline_ms), (s, T0 + 5000));
    assert_eq!(e.expiry_lag().max_ms, 0);
}

/// The workers themselves: a manual clock that leaps while they sleep is a late wake-up.
#[test]
fn workers_credit_a_stall_of_the_whole_process() {
    let clock = Arc::new(ManualClock::new(T0));
    let config = Config {
        shards: 4,
        expiry_workers: 2,
        ..Config::with_tick(100)
    };
    let threshold = config.stall_threshold_ms as u64;
    let e = Engine::builder(config)
        .clock(clock.clone())
        .build()
        .unwrap();
    let s = e.create(600, SessionKind::Global).id; // due T0+700
    clock.advance(5000 + threshold);
    let deadline = Instant::now() + Duration::from_secs(30);
    while e.totals().stalls == 0 {
        assert!(Instant::now() < deadline, "no worker noticed the stall");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Give both workers a few wake-ups past the stall: nothing expires, one stall counted.
    std::thread::sleep(Duration::from_millis(300));
    assert!(e.is_tracking(s) && !e.kind_any(s).unwrap().closing);
    let t = e.totals();
    assert_eq!(t.stalls, 1);
    assert_eq!(t.stalled_ms, 5000 + threshold);
    assert_eq!(e.now_ms(), T0);
    // The session still expires after its own timeout of silence.
    clock.advance(700);
    while !e.kind_any(s).unwrap().closing {
        assert!(Instant::now() < deadline, "the session never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(clock.now_ms(), T0 + 5700 + threshold);
}
