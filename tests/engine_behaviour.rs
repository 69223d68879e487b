//! Behaviour of the session engine through its public API, one test per behaviour, on a
//! manual clock so every expiry is deterministic.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use zksession::engine::{
    zookeeper_password, Config, ConfigError, Engine, Error, Expired, LearnerTouch, ManualClock,
    PasswordMode, SessionEntry, SessionKind, SessionState,
};

const TICK: u64 = 2000;
/// Start on a tick boundary so the arithmetic below reads plainly.
const T0: u64 = 1_000_000;

fn engine_with(config: Config) -> (Engine, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::builder(config)
        .clock(clock.clone())
        .workers(false)
        .build()
        .unwrap();
    (e, clock)
}

fn engine() -> (Engine, Arc<ManualClock>) {
    engine_with(Config::with_tick(TICK as u32))
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

#[test]
fn invalid_config_is_refused_by_build() {
    let c = Config {
        min_session_timeout_ms: 100,
        ..Config::with_tick(2000)
    };
    let err = Engine::builder(c).workers(false).build().unwrap_err();
    assert_eq!(
        err,
        ConfigError::MinTimeoutBelowTick {
            min_ms: 100,
            tick_ms: 2000
        }
    );
}

#[test]
fn create_negotiates_the_timeout() {
    let (e, _) = engine();
    assert_eq!(e.create(1, SessionKind::Global).timeout_ms, 4000);
    assert_eq!(e.create(10_000, SessionKind::Global).timeout_ms, 10_000);
    assert_eq!(e.create(1_000_000, SessionKind::Global).timeout_ms, 40_000);
    assert_eq!(e.create(-1, SessionKind::Global).timeout_ms, 4000);
}

#[test]
fn ids_follow_zookeepers_layout_and_increment() {
    let c = Config {
        server_id: 7,
        ..Config::with_tick(TICK as u32)
    };
    let (e, _) = engine_with(c);
    let a = e.create(5000, SessionKind::Global).id;
    let b = e.create(5000, SessionKind::Global).id;
    assert_eq!(a, zksession::engine::initial_id(7, T0));
    assert_eq!(a >> 56, 7);
    assert_eq!(a & 0xffff, 0);
    assert_eq!(b, a + 1);
}

#[test]
fn create_skips_ids_already_tracked() {
    let (e, _) = engine();
    let next = zksession::engine::initial_id(1, T0);
    assert_eq!(e.add(next, 5000, SessionKind::Global), Ok(true));
    let c = e.create(5000, SessionKind::Global);
    assert_eq!(c.id, next + 1);
}

#[test]
fn passwords_verify_in_both_modes() {
    let (e, _) = engine();
    let s = e.create(5000, SessionKind::Global);
    assert_eq!(e.password(s.id), s.password);
    assert!(e.verify_password(s.id, &s.password));
    assert!(!e.verify_password(s.id, &zookeeper_password(s.id)));
    assert!(!e.verify_password(s.id + 1, &s.password));

    let c = Config {
        password_mode: PasswordMode::ZooKeeperCompatible,
        ..Config::with_tick(TICK as u32)
    };
    let (z, _) = engine_with(c);
    let s = z.create(5000, SessionKind::Global);
    assert_eq!(s.password, zookeeper_password(s.id));
}

#[test]
fn two_engines_with_one_secret_agree_on_passwords() {
    let mode = PasswordMode::Hmac {
        secret: b"an ensemble-wide secret value".to_vec(),
    };
    let mk = || Config {
        password_mode: mode.clone(),
        ..Config::with_tick(TICK as u32)
    };
    let (a, _) = engine_with(mk());
    let (b, _) = engine_with(mk());
    let s = a.create(5000, SessionKind::Global);
    assert!(b.verify_password(s.id, &s.password));
}

/// Spec 3.3: touched at t with timeout T, due at E = (floor((t+T)/I)+1)*I, so
/// t + T < E <= t + T + I.
#[test]
fn expiry_happens_at_the_first_tick_boundary_strictly_after_t_plus_timeout() {
    for offset in [0, 1, 999, 1999] {
        let (e, clock) = engine();
        clock.advance(offset);
        let t = e.now_ms();
        let s = e.create(6000, SessionKind::Global);
        let due = ((t + 6000) / TICK + 1) * TICK;
        assert!(due > t + 6000 && due <= t + 6000 + TICK);
        assert_eq!(e.time_to_live(s.id), Ok(due - t));
        clock.set(due - 1);
        assert_eq!(
            e.expire_due(),
            0,
            "offset {offset}: not before the boundary"
        );
        clock.set(due);
        assert_eq!(e.expire_due(), 1, "offset {offset}: at the boundary");
        assert_eq!(expired_ids(&e), vec![s.id]);
    }
}

#[test]
fn touch_moves_the_deadline() {
    let (e, clock) = engine();
    let s = e.create(4000, SessionKind::Global);
    for _ in 0..10 {
        clock.advance(3000);
        e.touch(s.id).unwrap();
        assert_eq!(e.expire_due(), 0);
    }
    let t = e.now_ms();
    let due = ((t + 4000) / TICK + 1) * TICK;
    clock.set(due - 1);
    assert_eq!(e.expire_due(), 0);
    clock.set(due);
    assert_eq!(e.expire_due(), 1);
    assert_eq!(e.totals().touches, 10);
}

#[test]
fn touch_with_timeout_changes_later_touches() {
    let (e, clock) = engine();
    let s = e.create(40_000, SessionKind::Global);
    e.touch_with_timeout(s.id, 4000).unwrap();
    // The shorter timeout applies now, before the original entry's tick.
    clock.advance(6000);
    assert_eq!(e.expire_due(), 1);
    assert_eq!(expired_ids(&e), vec![s.id]);
}

#[test]
fn touch_with_zero_timeout_is_bad_arguments() {
    let (e, _) = engine();
    let s = e.create(4000, SessionKind::Global);
    assert_eq!(e.touch_with_timeout(s.id, 0), Err(Error::BadArguments));
    assert_eq!(e.add(42, 0, SessionKind::Global), Err(Error::BadArguments));
    assert_eq!(
        e.add(0, 4000, SessionKind::Global),
        Err(Error::BadArguments)
    );
}

#[test]
fn touch_of_unknown_session_fails() {
    let (e, _) = engine();
    assert_eq!(e.touch(12345), Err(Error::UnknownSession));
    assert_eq!(
        e.touch_with_timeout(12345, 4000),
        Err(Error::UnknownSession)
    );
}

#[test]
fn touch_after_expiry_decision_fails() {
    let (e, clock) = engine();
    let s = e.create(4000, SessionKind::Global);
    clock.advance(6000);
    assert_eq!(e.expire_due(), 1);
    assert_eq!(e.touch(s.id), Err(Error::SessionExpired));
    assert_eq!(e.time_to_live(s.id), Err(Error::SessionExpired));
    assert!(e.remove(s.id));
    assert_eq!(e.touch(s.id), Err(Error::UnknownSession));
}

#[test]
fn expiry_is_delivered_exactly_once() {
    let (e, clock) = engine();
    let ids: Vec<u64> = (0..100)
        .map(|_| e.create(4000, SessionKind::Global).id)
        .collect();
    clock.advance(6000);
    assert_eq!(e.expire_due(), 100);
    clock.advance(100_000);
    assert_eq!(e.expire_due(), 0);
    assert_eq!(expired_ids(&e), ids);
    assert_eq!(e.totals().expirations, 100);
    assert_eq!(e.counts().closing, 100);
}

#[test]
fn close_removes_and_prevents_expiry() {
    let (e, clock) = engine();
    let s = e.create(4000, SessionKind::Global);
    assert_eq!(e.close(s.id), Ok(()));
    assert!(!e.is_tracking(s.id));
    clock.advance(100_000);
    assert_eq!(e.expire_due(), 0);
    assert!(expired_ids(&e).is_empty());
}

#[test]
fn double_close_fails_the_second_time() {
    let (e, _) = engine();
    let s = e.create(4000, SessionKind::Global);
    assert_eq!(e.close(s.id), Ok(()));
    assert_eq!(e.close(s.id), Err(Error::UnknownSession));
    assert!(!e.remove(s.id));
}

#[test]
fn set_closing_stops_touches_and_expiry() {
    let (e, clock) = engine();
    let s = e.create(4000, SessionKind::Global);
    e.set_closing(s.id).unwrap();
    assert_eq!(e.touch(s.id), Err(Error::SessionExpired));
    clock.advance(100_000);
    assert_eq!(e.expire_due(), 0);
    assert_eq!(e.set_closing(999), Err(Error::UnknownSession));
}

#[test]
fn add_tracks_refreshes_and_refuses_closing_sessions() {
    let (e, clock) = engine();
    let id = 0x0500_0000_0000_0001;
    assert_eq!(e.add(id, 4000, SessionKind::Global), Ok(true));
    clock.advance(3000);
    assert_eq!(e.add(id, 4000, SessionKind::Global), Ok(false));
    clock.advance(3000);
    assert_eq!(e.expire_due(), 0, "the second add refreshed the deadline");
    clock.advance(2000);
    assert_eq!(e.expire_due(), 1);
    // ZooKeeper re-queues a closing session here and closes it twice; the engine refuses.
    assert_eq!(
        e.add(id, 4000, SessionKind::Global),
        Err(Error::SessionExpired)
    );
    clock.advance(100_000);
    assert_eq!(e.expire_due(), 0);
    assert_eq!(expired_ids(&e), vec![id]);
}

#[test]
fn owners_check_and_move() {
    let (e, _) = engine();
    let s = e.create(4000, SessionKind::Global);
    assert_eq!(e.owner(s.id), Ok(None));
    // The first check adopts the owner.
    assert_eq!(e.check_session(s.id, 1), Ok(()));
    assert_eq!(e.check_session(s.id, 1), Ok(()));
    assert_eq!(e.check_session(s.id, 2), Err(Error::SessionMoved));
    e.set_owner(s.id, 2).unwrap();
    assert_eq!(e.owner(s.id), Ok(Some(2)));
    assert_eq!(e.check_session(s.id, 2), Ok(()));
    assert_eq!(e.check_session(s.id, 1), Err(Error::SessionMoved));
    assert_eq!(e.check_session(777, 1), Err(Error::UnknownSession));
    assert_eq!(e.set_owner(777, 1), Err(Error::SessionExpired));
    e.set_closing(s.id).unwrap();
    assert_eq!(e.check_session(s.id, 2), Err(Error::SessionExpired));
    assert_eq!(e.set_owner(s.id, 2), Err(Error::SessionExpired));
}

#[test]
fn check_global_session_maps_unknown_and_local_to_expired() {
    let c = Config {
        local_sessions: true,
        local_session_upgrade: true,
        ..Config::with_tick(TICK as u32)
    };
    let (e, _) = engine_with(c);
    let l = e.create(4000, SessionKind::Local);
    assert_eq!(e.check_global_session(l.id, 1), Err(Error::SessionExpired));
    assert_eq!(e.check_global_session(999, 1), Err(Error::SessionExpired));
    e.upgrade(l.id).unwrap();
    assert_eq!(e.check_global_session(l.id, 1), Ok(()));
}

#[test]
fn without_local_sessions_every_session_is_global() {
    let (e, _) = engine();
    let s = e.create(4000, SessionKind::Local);
    assert_eq!(s.kind, SessionKind::Global);
    assert_eq!(e.is_global(s.id), Ok(true));
    assert_eq!(e.counts().local, 0);
}

#[test]
fn local_sessions_upgrade_once_and_idempotently() {
    let c = Config {
        local_sessions: true,
        local_session_upgrade: true,
        ..Config::with_tick(TICK as u32)
    };
    let (e, _) = engine_with(c);
    let s = e.create(5000, SessionKind::Local);
    assert_eq!(s.kind, SessionKind::Local);
    assert_eq!(e.is_global(s.id), Ok(false));
    assert_eq!(e.counts().local, 1);
    assert_eq!(e.upgrade(s.id), Ok(5000));
    assert_eq!(e.is_global(s.id), Ok(true));
    assert_eq!(e.upgrade(s.id), Ok(5000));
    let c = e.counts();
    assert_eq!((c.global, c.local), (1, 0));
}

#[test]
fn upgrade_errors() {
    let c = Config {
        local_sessions: true,
        local_session_upgrade: false,
        ..Config::with_tick(TICK as u32)
    };
    let (e, clock) = engine_with(c);
    let s = e.create(4000, SessionKind::Local);
    assert_eq!(e.upgrade(s.id), Err(Error::EphemeralOnLocalSession));
    assert_eq!(e.upgrade(4242), Err(Error::UnknownSession));
    clock.advance(6000);
    e.expire_due();
    assert_eq!(e.upgrade(s.id), Err(Error::SessionExpired));
}

#[test]
fn snapshot_and_restore_give_fresh_deadlines() {
    let c = Config {
        local_sessions: true,
        ..Config::with_tick(TICK as u32)
    };
    let (a, clock_a) = engine_with(c.clone());
    let g = a.create(10_000, SessionKind::Global);
    let l = a.create(4000, SessionKind::Local);
    let dead = a.create(4000, SessionKind::Global);
    a.set_closing(dead.id).unwrap();
    clock_a.advance(8000);
    let mut snap = a.snapshot();
    snap.sort_by_key(|x| x.id);
    assert_eq!(
        snap,
        vec![
            SessionEntry {
                id: g.id,
                timeout_ms: 10_000,
                kind: SessionKind::Global
            },
            SessionEntry {
                id: l.id,
                timeout_ms: 4000,
                kind: SessionKind::Local
            },
        ]
    );
    let (b, clock_b) = engine_with(c);
    clock_b.advance(500_000);
    assert_eq!(b.restore(&snap), Ok(2));
    assert_eq!(b.restore(&snap), Ok(0), "restoring twice adds nothing");
    let t = b.now_ms();
    assert_eq!(
        b.time_to_live(g.id),
        Ok(((t + 10_000) / TICK + 1) * TICK - t)
    );
    assert_eq!(b.is_global(l.id), Ok(false));
    let bad = [SessionEntry {
        id: 9,
        timeout_ms: 0,
        kind: SessionKind::Global,
    }];
    assert_eq!(b.restore(&bad), Err(Error::BadArguments));
}

#[test]
fn introspection_reports_counts_totals_lag_and_expiry_map() {
    let c = Config {
        local_sessions: true,
        ..Config::with_tick(TICK as u32)
    };
    let (e, clock) = engine_with(c);
    let a = e.create(4000, SessionKind::Global);
    let b = e.create(4000, SessionKind::Local);
    let c2 = e.create(10_000, SessionKind::Global);
    e.touch(a.id).unwrap();
    let counts = e.counts();
    assert_eq!((counts.global, counts.local, counts.closing), (2, 1, 0));
    assert_eq!(e.len(), 3);
    let map = e.expiry_map();
    let t = e.now_ms();
    assert_eq!(map[&(((t + 4000) / TICK + 1) * TICK)], vec![a.id, b.id]);
    assert_eq!(map[&(((t + 10_000) / TICK + 1) * TICK)], vec![c2.id]);
    // Deliver 500 ms late.
    clock.advance(6000 + 500);
    assert_eq!(e.expire_due(), 2);
    let lag = e.expiry_lag();
    assert_eq!(lag.count, 2);
    assert_eq!(lag.max_ms, 500);
    assert_eq!(lag.p99_ms, 511);
    let totals = e.totals();
    assert_eq!(
        (totals.creates, totals.touches, totals.expirations),
        (3, 1, 2)
    );
    assert_eq!(e.counts().closing, 2);
}

#[test]
fn touch_many_touches_known_ids_and_skips_others() {
    let (e, clock) = engine();
    let ids: Vec<u64> = (0..1000)
        .map(|_| e.create(4000, SessionKind::Global).id)
        .collect();
    let mut batch = ids.clone();
    batch.push(1); // unknown
    clock.advance(3000);
    assert_eq!(e.touch_many(&batch), 1000);
    clock.advance(3000);
    assert_eq!(e.expire_due(), 0);
    clock.advance(2000);
    assert_eq!(e.expire_due(), 1000);
}

#[test]
fn expiry_storm_is_delivered_in_bounded_batches() {
    let c = Config {
        expiry_batch: 100,
        shards: 4,
        expiry_workers: 1,
        ..Config::with_tick(TICK as u32)
    };
    let batches = Arc::new(Mutex::new(Vec::new()));
    let sink = batches.clone();
    let clock = Arc::new(ManualClock::new(T0));
    let e = Engine::builder(c)
        .clock(clock.clone())
        .workers(false)
        .expirer(move |b: &[Expired]| sink.lock().unwrap().push(b.len()))
        .build()
        .unwrap();
    for _ in 0..10_000 {
        e.create(4000, SessionKind::Global);
    }
    clock.advance(6000);
    assert_eq!(e.expire_due(), 10_000);
    let b = batches.lock().unwrap();
    assert!(b.iter().all(|&n| n <= 100), "every batch within the budget");
    assert_eq!(b.iter().sum::<usize>(), 10_000);
    assert_eq!(e.poll_expired(1, Duration::ZERO), Err(Error::NotPollable));
}

#[test]
fn sink_may_call_back_into_the_engine() {
    let clock = Arc::new(ManualClock::new(T0));
    let slot: Arc<Mutex<Option<Arc<Engine>>>> = Arc::new(Mutex::new(None));
    let slot2 = slot.clone();
    let e = Arc::new(
        Engine::builder(Config::with_tick(TICK as u32))
            .clock(clock.clone())
            .workers(false)
            .expirer(move |b: &[Expired]| {
                let guard = slot2.lock().unwrap();
                let engine = guard.as_ref().unwrap();
                for x in b {
                    assert!(engine.remove(x.id));
                }
            })
            .build()
            .unwrap(),
    );
    *slot.lock().unwrap() = Some(e.clone());
    e.create(4000, SessionKind::Global);
    clock.advance(6000);
    assert_eq!(e.expire_due(), 1);
    assert!(e.is_empty());
    slot.lock().unwrap().take();
}

#[test]
fn long_timeouts_cascade_through_wheel_levels() {
    let c = Config {
        max_session_timeout_ms: u32::MAX,
        ..Config::with_tick(10)
    };
    let (e, clock) = engine_with(c);
    let timeouts = [20u32, 700, 5_000, 70_000, 3_000_000];
    let ids: Vec<(u64, u64)> = timeouts
        .iter()
        .map(|&t| {
            let now = e.now_ms();
            (
                e.create(t as i64, SessionKind::Global).id,
                ((now + t as u64) / 10 + 1) * 10,
            )
        })
        .collect();
    for (id, due) in ids {
        clock.set(due - 1);
        e.expire_due();
        assert_eq!(
            e.time_to_live(id).map(|_| ()),
            Ok(()),
            "not expired before {due}"
        );
        clock.set(due);
        assert_eq!(e.expire_due(), 1);
        assert_eq!(expired_ids(&e), vec![id]);
    }
}

#[test]
fn workers_deliver_expiry_to_the_queue() {
    let clock = Arc::new(ManualClock::new(T0));
    let c = Config {
        shards: 4,
        expiry_workers: 2,
        ..Config::with_tick(10)
    };
    let e = Engine::builder(c).clock(clock.clone()).build().unwrap();
    let s = e.create(20, SessionKind::Global);
    clock.advance(40);
    // Blocks until a worker has delivered (bounded by the wait).
    let got = e.poll_expired(10, Duration::from_secs(30)).unwrap();
    assert_eq!(got.iter().map(|x| x.id).collect::<Vec<_>>(), vec![s.id]);
}

// ---- Ensemble additions: kind_any, next_id, remote entries, the touch table, make_global,
// ---- stop_workers.

fn local_engine() -> (Engine, Arc<ManualClock>) {
    engine_with(Config {
        local_sessions: true,
        local_session_upgrade: true,
        ..Config::with_tick(TICK as u32)
    })
}

fn state(kind: SessionKind, remote: bool, closing: bool) -> SessionState {
    SessionState {
        kind,
        remote,
        closing,
    }
}

fn sorted(mut v: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    v.sort_unstable();
    v
}

#[test]
fn kind_any_reports_live_closing_and_remote_sessions() {
    let (e, clock) = local_engine();
    let g = e.create(4000, SessionKind::Global).id;
    let l = e.create(4000, SessionKind::Local).id;
    e.add_remote(77, 9000).unwrap();
    assert_eq!(e.kind_any(g), Ok(state(SessionKind::Global, false, false)));
    assert_eq!(e.kind_any(l), Ok(state(SessionKind::Local, false, false)));
    assert_eq!(e.kind_any(77), Ok(state(SessionKind::Global, true, false)));
    clock.advance(6000);
    assert_eq!(e.expire_due(), 2);
    assert_eq!(e.kind_any(g), Ok(state(SessionKind::Global, false, true)));
    assert_eq!(e.kind_any(l), Ok(state(SessionKind::Local, false, true)));
    e.set_closing(77).unwrap();
    assert_eq!(e.kind_any(77), Ok(state(SessionKind::Global, true, true)));
}

#[test]
fn kind_any_of_unknown_or_removed_session_fails() {
    let (e, _) = local_engine();
    assert_eq!(e.kind_any(12345), Err(Error::UnknownSession));
    let l = e.create(4000, SessionKind::Local).id;
    assert!(e.remove(l));
    assert_eq!(e.kind_any(l), Err(Error::UnknownSession));
}

#[test]
fn next_id_comes_from_the_create_generator_and_tracks_nothing() {
    let c = Config {
        server_id: 9,
        ..Config::with_tick(TICK as u32)
    };
    let (e, _) = engine_with(c);
    let a = e.next_id();
    assert_eq!(a, zksession::engine::initial_id(9, T0));
    assert!(!e.is_tracking(a));
    assert_eq!(e.len(), 0);
    let b = e.create(4000, SessionKind::Global).id;
    assert_eq!(b, a + 1, "create continues after next_id; no id is reused");
    assert_eq!(e.next_id(), b + 1);
}

#[test]
fn next_id_skips_ids_already_tracked() {
    let (e, _) = engine();
    let first = zksession::engine::initial_id(e.config().server_id, T0);
    e.add_remote(first, 4000).unwrap();
    e.add(first + 1, 4000, SessionKind::Global).unwrap();
    assert_eq!(e.next_id(), first + 2);
}

#[test]
fn add_remote_tracks_a_session_that_never_expires() {
    let (e, clock) = local_engine();
    assert_eq!(e.add_remote(42, 4000), Ok(true));
    assert!(e.is_tracking(42));
    assert_eq!(e.is_global(42), Ok(true));
    let c = e.counts();
    assert_eq!((c.remote, c.global, c.local, c.closing), (1, 0, 0, 0));
    assert_eq!(c.total(), 1);
    assert_eq!(e.time_to_live(42), Ok(u64::MAX));
    // A huge clock advance (far beyond every wheel level) expires nothing.
    clock.advance(1 << 40);
    assert_eq!(e.expire_due(), 0);
    assert!(expired_ids(&e).is_empty());
    assert_eq!(e.kind_any(42), Ok(state(SessionKind::Global, true, false)));
    assert_eq!(e.totals().expirations, 0);
}

#[test]
fn add_remote_of_a_tracked_id_changes_nothing() {
    let (e, _) = local_engine();
    let l = e.create(4000, SessionKind::Local).id;
    assert_eq!(e.add_remote(l, 9000), Ok(false));
    assert_eq!(e.kind_any(l), Ok(state(SessionKind::Local, false, false)));
    assert_eq!(e.add_remote(50, 4000), Ok(true));
    assert_eq!(e.add_remote(50, 8000), Ok(false));
    assert_eq!(e.upgrade_to_remote(50), Ok(4000));
    assert_eq!(e.counts().remote, 1);
}

#[test]
fn add_remote_refuses_id_zero_and_timeout_zero() {
    let (e, _) = local_engine();
    assert_eq!(e.add_remote(0, 4000), Err(Error::BadArguments));
    assert_eq!(e.add_remote(5, 0), Err(Error::BadArguments));
    assert!(e.is_empty());
}

#[test]
fn remote_entries_are_not_in_the_expiry_map_but_are_in_the_snapshot() {
    let (e, _) = local_engine();
    e.add_remote(42, 4000).unwrap();
    let g = e.create(4000, SessionKind::Global).id;
    let all: Vec<u64> = e.expiry_map().into_values().flatten().collect();
    assert_eq!(all, vec![g]);
    let mut snap: Vec<u64> = e.snapshot().iter().map(|s| s.id).collect();
    snap.sort_unstable();
    let mut want = vec![42, g];
    want.sort_unstable();
    assert_eq!(snap, want);
    assert!(e.snapshot().iter().all(|s| s.kind == SessionKind::Global));
}

#[test]
fn upgrade_to_remote_stops_expiry_of_a_local_session() {
    let (e, clock) = local_engine();
    let l = e.create(4000, SessionKind::Local);
    assert_eq!(e.upgrade_to_remote(l.id), Ok(4000));
    assert_eq!(
        e.kind_any(l.id),
        Ok(state(SessionKind::Global, true, false))
    );
    let c = e.counts();
    assert_eq!((c.local, c.remote), (0, 1));
    clock.advance(1 << 40);
    assert_eq!(e.expire_due(), 0);
    assert!(e.is_tracking(l.id));
}

#[test]
fn upgrade_to_remote_is_idempotent_on_remote_and_global_sessions() {
    let (e, _) = local_engine();
    let g = e.create(6000, SessionKind::Global).id;
    e.add_remote(42, 8000).unwrap();
    assert_eq!(e.upgrade_to_remote(g), Ok(6000));
    assert_eq!(e.kind_any(g), Ok(state(SessionKind::Global, false, false)));
    assert_eq!(e.upgrade_to_remote(42), Ok(8000));
    assert_eq!(e.upgrade_to_remote(42), Ok(8000));
    assert_eq!(e.counts().remote, 1);
}

#[test]
fn upgrade_to_remote_of_unknown_or_closing_session_fails() {
    let (e, clock) = local_engine();
    assert_eq!(e.upgrade_to_remote(999), Err(Error::UnknownSession));
    let l = e.create(4000, SessionKind::Local).id;
    clock.advance(6000);
    assert_eq!(e.expire_due(), 1);
    assert_eq!(e.upgrade_to_remote(l), Err(Error::SessionExpired));
    assert_eq!(e.kind_any(l), Ok(state(SessionKind::Local, false, true)));
}

#[test]
fn upgrade_to_remote_is_allowed_when_upgrading_is_disabled() {
    let (e, _) = engine_with(Config {
        local_sessions: true,
        local_session_upgrade: false,
        ..Config::with_tick(TICK as u32)
    });
    let l = e.create(4000, SessionKind::Local).id;
    assert_eq!(e.upgrade(l), Err(Error::EphemeralOnLocalSession));
    assert_eq!(e.upgrade_to_remote(l), Ok(4000));
}

#[test]
fn learner_touch_refreshes_a_local_session_with_the_given_timeout() {
    let (e, clock) = local_engine();
    let l = e.create(4000, SessionKind::Local).id;
    clock.advance(3000);
    assert_eq!(e.learner_touch(l, 10_000), Ok(LearnerTouch::Local));
    // Due at the first boundary after now + 10 s, not after the 4 s timeout.
    clock.advance(10_000);
    assert_eq!(e.expire_due(), 0);
    clock.advance(TICK);
    assert_eq!(e.expire_due(), 1);
    let x = e.poll_expired(8, Duration::ZERO).unwrap();
    assert_eq!(
        (x[0].id, x[0].timeout_ms, x[0].kind),
        (l, 10_000, SessionKind::Local)
    );
    assert_eq!(e.counts().touch_table, 0, "local touches are not forwarded");
}

#[test]
fn learner_touch_of_a_remote_session_is_recorded_not_refreshed() {
    let (e, clock) = local_engine();
    e.add_remote(42, 4000).unwrap();
    assert_eq!(e.learner_touch(42, 6000), Ok(LearnerTouch::Forwarded));
    assert_eq!(e.counts().touch_table, 1);
    clock.advance(1 << 30);
    assert_eq!(e.expire_due(), 0);
    assert_eq!(e.drain_touched(), vec![(42, 6000)]);
    assert_eq!(e.counts().touch_table, 0);
}

#[test]
fn learner_touch_of_unknown_closing_or_zero_timeout_fails() {
    let (e, _) = local_engine();
    assert_eq!(e.learner_touch(999, 4000), Err(Error::UnknownSession));
    e.add_remote(42, 4000).unwrap();
    e.set_closing(42).unwrap();
    assert_eq!(e.learner_touch(42, 4000), Err(Error::SessionExpired));
    let l = e.create(4000, SessionKind::Local).id;
    assert_eq!(e.learner_touch(l, 0), Err(Error::BadArguments));
    assert!(
        e.drain_touched().is_empty(),
        "failed touches record nothing"
    );
}

#[test]
fn plain_touches_of_a_remote_session_are_recorded_too() {
    let (e, _) = local_engine();
    e.add_remote(42, 4000).unwrap();
    e.add_remote(43, 4000).unwrap();
    e.touch(42).unwrap();
    e.touch_with_timeout(43, 7000).unwrap();
    assert_eq!(e.touch_many(&[42, 43]), 2);
    assert_eq!(sorted(e.drain_touched()), vec![(42, 4000), (43, 7000)]);
    assert_eq!(e.totals().touches, 4);
}

#[test]
fn record_touch_records_unconditionally() {
    let (e, _) = local_engine();
    let l = e.create(4000, SessionKind::Local).id;
    e.record_touch(777, 5000); // not tracked
    e.record_touch(l, 4000); // local
    assert_eq!(e.counts().touch_table, 2);
    assert!(!e.is_tracking(777), "recording tracks nothing");
    assert_eq!(
        sorted(e.drain_touched()),
        sorted(vec![(777, 5000), (l, 4000)])
    );
}

#[test]
fn drain_has_each_id_once_with_the_last_timeout() {
    let c = Config {
        shards: 8,
        expiry_workers: 1,
        ..Config::with_tick(TICK as u32)
    };
    let (e, _) = engine_with(c);
    for id in 1..=100u64 {
        e.add_remote(id, 4000).unwrap();
    }
    for round in 0..3u32 {
        for id in 1..=100u64 {
            e.learner_touch(id, 4000 + round * 1000 + id as u32)
                .unwrap();
        }
    }
    e.record_touch(5, 123_000);
    let got = sorted(e.drain_touched());
    assert_eq!(got.len(), 100);
    for (i, &(id, t)) in got.iter().enumerate() {
        assert_eq!(id, i as u64 + 1);
        let want = if id == 5 { 123_000 } else { 6000 + id as u32 };
        assert_eq!(t, want);
    }
    assert!(e.drain_touched().is_empty(), "a drain takes everything");
}

#[test]
fn remove_and_close_drop_the_recorded_touch() {
    let (e, _) = local_engine();
    e.add_remote(42, 4000).unwrap();
    e.add_remote(43, 4000).unwrap();
    e.learner_touch(42, 4000).unwrap();
    e.learner_touch(43, 4000).unwrap();
    e.record_touch(44, 4000);
    assert!(e.remove(42));
    e.close(43).unwrap();
    assert!(
        !e.remove(44),
        "an untracked id's touch is dropped all the same"
    );
    assert!(e.drain_touched().is_empty());
    assert_eq!(e.counts().total(), 0);
}

#[test]
fn make_global_keeps_the_deadline() {
    let (e, clock) = local_engine();
    let l = e.create(4000, SessionKind::Local);
    let due = ((T0 + 4000) / TICK + 1) * TICK;
    clock.advance(3000);
    assert_eq!(e.make_global(l.id), Ok(4000));
    assert_eq!(
        e.kind_any(l.id),
        Ok(state(SessionKind::Global, false, false))
    );
    assert_eq!(e.time_to_live(l.id), Ok(due - T0 - 3000));
    clock.set(due - 1);
    assert_eq!(e.expire_due(), 0);
    clock.set(due);
    assert_eq!(e.expire_due(), 1);
    let x = e.poll_expired(8, Duration::ZERO).unwrap();
    assert_eq!((x[0].id, x[0].kind), (l.id, SessionKind::Global));
}

#[test]
fn make_global_is_not_gated_by_local_session_upgrade() {
    let (e, _) = engine_with(Config {
        local_sessions: true,
        local_session_upgrade: false,
        ..Config::with_tick(TICK as u32)
    });
    let l = e.create(4000, SessionKind::Local).id;
    assert_eq!(e.make_global(l), Ok(4000));
    assert_eq!(e.is_global(l), Ok(true));
    let c = e.counts();
    assert_eq!((c.global, c.local), (1, 0));
}

#[test]
fn make_global_of_an_untouched_remote_session_files_it_one_timeout_from_now() {
    let (e, clock) = local_engine();
    e.add_remote(42, 4000).unwrap();
    clock.advance(100_000);
    let now = T0 + 100_000;
    assert_eq!(e.make_global(42), Ok(4000));
    let due = ((now + 4000) / TICK + 1) * TICK;
    assert_eq!(
        e.expiry_map_by_kind(SessionKind::Global)
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![due]
    );
    let c = e.counts();
    assert_eq!((c.global, c.remote), (1, 0));
    clock.set(due - 1);
    assert_eq!(e.expire_due(), 0);
    clock.set(due);
    assert_eq!(e.expire_due(), 1);
}

#[test]
fn make_global_of_a_touched_remote_session_files_it_at_its_last_touch_deadline() {
    let (e, clock) = local_engine();
    let l = e.create(4000, SessionKind::Local).id;
    e.upgrade_to_remote(l).unwrap();
    clock.advance(2000);
    e.learner_touch(l, 6000).unwrap();
    let due = ((T0 + 2000 + 6000) / TICK + 1) * TICK;
    clock.advance(1000);
    assert_eq!(e.make_global(l), Ok(6000));
    assert_eq!(e.time_to_live(l), Ok(due - T0 - 3000));
    // The entry it had as a local session is stale: it does not expire at the old deadline.
    clock.set(due - 1);
    assert_eq!(e.expire_due(), 0);
    clock.set(due);
    assert_eq!(e.expire_due(), 1);
    assert_eq!(expired_ids(&e), vec![l]);
    assert_eq!(e.expire_due(), 0, "exactly once");
}

#[test]
fn make_global_is_idempotent_on_global_sessions() {
    let (e, clock) = local_engine();
    let g = e.create(4000, SessionKind::Global).id;
    clock.advance(3000);
    let ttl = e.time_to_live(g).unwrap();
    assert_eq!(e.make_global(g), Ok(4000));
    assert_eq!(e.make_global(g), Ok(4000));
    assert_eq!(e.time_to_live(g), Ok(ttl), "no refresh");
}

#[test]
fn make_global_of_unknown_or_closing_session_fails() {
    let (e, clock) = local_engine();
    assert_eq!(e.make_global(999), Err(Error::UnknownSession));
    let l = e.create(4000, SessionKind::Local).id;
    clock.advance(6000);
    e.expire_due();
    assert_eq!(e.make_global(l), Err(Error::SessionExpired));
    e.add_remote(42, 4000).unwrap();
    e.set_closing(42).unwrap();
    assert_eq!(e.make_global(42), Err(Error::SessionExpired));
}

#[test]
fn counts_split_closing_by_kind() {
    let (e, clock) = local_engine();
    e.create(4000, SessionKind::Local);
    e.create(4000, SessionKind::Local);
    e.create(4000, SessionKind::Global);
    e.add_remote(42, 4000).unwrap();
    e.record_touch(42, 4000);
    clock.advance(6000);
    assert_eq!(e.expire_due(), 3);
    e.set_closing(42).unwrap();
    let c = e.counts();
    assert_eq!(c.closing_local, 2);
    assert_eq!(c.closing_global, 2);
    assert_eq!(c.closing, 4);
    assert_eq!((c.global, c.local, c.remote), (0, 0, 0));
    assert_eq!(c.touch_table, 1);
    assert_eq!(c.total(), 4);
}

#[test]
fn expiry_map_by_kind_splits_local_and_global() {
    let (e, _) = local_engine();
    let g = e.create(4000, SessionKind::Global).id;
    let l = e.create(8000, SessionKind::Local).id;
    let ids = |m: std::collections::BTreeMap<u64, Vec<u64>>| -> Vec<u64> {
        m.into_values().flatten().collect()
    };
    assert_eq!(ids(e.expiry_map_by_kind(SessionKind::Global)), vec![g]);
    assert_eq!(ids(e.expiry_map_by_kind(SessionKind::Local)), vec![l]);
    assert_eq!(e.expiry_map().len(), 2);
}

#[test]
fn expired_local_and_global_sessions_carry_their_kind() {
    let (e, clock) = local_engine();
    let g = e.create(4000, SessionKind::Global).id;
    let l = e.create(4000, SessionKind::Local).id;
    clock.advance(6000);
    e.expire_due();
    let mut x = e.poll_expired(8, Duration::ZERO).unwrap();
    x.sort_by_key(|x| x.id);
    let got: Vec<(u64, SessionKind)> = x.iter().map(|x| (x.id, x.kind)).collect();
    let mut want = vec![(g, SessionKind::Global), (l, SessionKind::Local)];
    want.sort_unstable_by_key(|w| w.0);
    assert_eq!(got, want);
}

#[test]
fn stop_workers_wakes_a_blocked_poller() {
    let e = Arc::new(
        Engine::builder(Config::with_tick(10))
            .clock(Arc::new(ManualClock::new(T0)))
            .build()
            .unwrap(),
    );
    let e2 = e.clone();
    let poller = std::thread::spawn(move || e2.poll_expired(8, Duration::from_secs(3600)));
    // Whether the poller is already waiting or not, it must return promptly.
    e.stop_workers();
    assert_eq!(poller.join().unwrap(), Ok(vec![]));
    assert!(e.workers_stopped());
}

#[test]
fn calls_stay_valid_after_stop_workers() {
    let clock = Arc::new(ManualClock::new(T0));
    let c = Config {
        local_sessions: true,
        local_session_upgrade: true,
        shards: 4,
        expiry_workers: 2,
        ..Config::with_tick(TICK as u32)
    };
    let mut e = Engine::builder(c).clock(clock.clone()).build().unwrap();
    e.stop_workers();
    e.stop_workers(); // idempotent
    let s = e.create(4000, SessionKind::Local).id;
    e.touch(s).unwrap();
    e.add_remote(42, 4000).unwrap();
    assert_eq!(e.learner_touch(42, 4000), Ok(LearnerTouch::Forwarded));
    assert_eq!(e.drain_touched(), vec![(42, 4000)]);
    // Pollers no longer wait once stopped.
    assert_eq!(e.poll_expired(8, Duration::from_secs(3600)), Ok(vec![]));
    // Expiry now happens only when driven, and is still delivered.
    clock.advance(6000);
    assert_eq!(e.expire_due(), 1);
    assert_eq!(expired_ids(&e), vec![s]);
    assert!(e.remove(s));
    assert_eq!(e.counts().remote, 1);
    e.shutdown();
    e.shutdown();
    assert!(e.is_tracking(42));
}

#[test]
fn stop_workers_from_an_expirer_on_a_worker_thread_does_not_deadlock() {
    let clock = Arc::new(ManualClock::new(T0));
    let slot: Arc<Mutex<Option<Arc<Engine>>>> = Arc::new(Mutex::new(None));
    let slot2 = slot.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let e = Arc::new(
        Engine::builder(Config::with_tick(10))
            .clock(clock.clone())
            .expirer(move |b: &[Expired]| {
                let engine = slot2.lock().unwrap().clone().unwrap();
                engine.stop_workers();
                let _ = tx.send(b.len());
            })
            .build()
            .unwrap(),
    );
    *slot.lock().unwrap() = Some(e.clone());
    e.create(20, SessionKind::Global);
    clock.advance(40);
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(1));
    assert!(e.workers_stopped());
    slot.lock().unwrap().take();
}
