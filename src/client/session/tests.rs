//! The session state machine under a scripted transport with injected time.

use super::*;
use crate::wire::{CreateMode, PathWatchRequest, SetWatches, Stat, WatcherEvent};

const T: u32 = 30_000;

struct Harness {
    s: Session,
    now: u64,
}

fn hosts(n: u16) -> Vec<HostAddr> {
    (0..n)
        .map(|i| HostAddr::new("127.0.0.1", 2000 + i))
        .collect()
}

fn harness_with(n: u16, cfg: SessionConfig, chroot: Option<&str>) -> Harness {
    let hp = HostProvider::new(hosts(n), Rng::with_seed(11)).unwrap();
    let s = Session::new(
        cfg,
        hp,
        Chroot::new(chroot.map(String::from)),
        Rng::with_seed(12),
        1_000,
    );
    Harness { s, now: 1_000 }
}

fn harness(n: u16) -> Harness {
    harness_with(
        n,
        SessionConfig {
            session_timeout_ms: T,
            ..Default::default()
        },
        None,
    )
}

fn resp(timeout: i32, sid: i64) -> Incoming {
    Incoming::Connect(ConnectResponse {
        protocol_version: 0,
        timeout_ms: timeout,
        session_id: sid,
        password: vec![7; 16],
        read_only: false,
        legacy: false,
    })
}

fn reply(xid: i32, zxid: i64, err: ErrorCode, body: Option<Response>) -> Incoming {
    Incoming::Reply(Reply::Answer {
        header: ReplyHeader {
            xid,
            zxid,
            err: err.code(),
        },
        body,
    })
}

impl Harness {
    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.s.poll_output()).collect()
    }

    /// Jumps to the next deadline and fires it.
    fn tick(&mut self) -> Vec<Output> {
        let d = self.s.next_deadline().expect("a deadline");
        assert!(d >= self.now, "deadline in the past");
        self.now = d;
        self.s.on_timeout(self.now);
        self.drain()
    }

    fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.s.on_timeout(self.now);
    }

    fn dial(&mut self) -> HostAddr {
        let out = self.tick();
        match out.as_slice() {
            [Output::Dial(a)] => a.clone(),
            other => panic!("expected a dial, got {other:?}"),
        }
    }

    /// Dials, connects and completes the handshake; returns the ConnectRequest.
    fn connect(&mut self, timeout: i32) -> ConnectRequest {
        self.dial();
        self.s.on_tcp_connected(self.now);
        let req = match self.drain().as_slice() {
            [Output::Send(Outgoing::Connect(r))] => r.clone(),
            other => panic!("expected the handshake, got {other:?}"),
        };
        self.s.on_incoming(self.now, resp(timeout, 0x55));
        req
    }

    fn events(out: &[Output]) -> Vec<KeeperState> {
        out.iter()
            .filter_map(|o| match o {
                Output::Event(e) if e.event_type == EventType::None => Some(e.state),
                _ => None,
            })
            .collect()
    }

    fn sent(out: &[Output]) -> Vec<(i32, Request)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send(Outgoing::Request { xid, request }) => Some((*xid, request.clone())),
                _ => None,
            })
            .collect()
    }

    fn completions(out: &[Output]) -> Vec<(Ticket, Result<Response, ErrorCode>)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Complete { ticket, result } => Some((*ticket, result.clone())),
                _ => None,
            })
            .collect()
    }
}

fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData(PathWatchRequest {
        path: path.into(),
        watch,
    })
}

#[test]
fn first_attempt_dials_at_once() {
    let mut h = harness(3);
    assert_eq!(h.s.next_deadline(), Some(1_000));
    h.dial();
    assert_eq!(h.s.state(), States::Connecting);
}

#[test]
fn handshake_sends_a_new_session_request_and_reports_sync_connected() {
    let mut h = harness(1);
    let req = h.connect(T as i32);
    assert_eq!(
        req,
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: T as i32,
            session_id: 0,
            password: vec![0; 16],
            read_only: false,
            legacy: false,
        }
    );
    let out = h.drain();
    assert_eq!(Harness::events(&out), vec![KeeperState::SyncConnected]);
    assert_eq!(h.s.state(), States::Connected);
    assert_eq!(h.s.session_id(), 0x55);
    assert_eq!(h.s.password(), &[7; 16]);
}

#[test]
fn nothing_else_is_written_before_the_handshake_reply() {
    let mut h = harness(1);
    h.dial();
    h.s.on_tcp_connected(h.now);
    h.drain();
    h.s.submit(h.now, 1, get_data("/a", false));
    assert!(h.drain().is_empty());
    h.s.on_incoming(h.now, resp(T as i32, 1));
    let out = h.drain();
    assert_eq!(Harness::sent(&out), vec![(1, get_data("/a", false))]);
}

#[test]
fn xids_start_at_one_and_increase() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    for t in 0..3 {
        h.s.submit(h.now, t, get_data("/a", false));
    }
    let xids: Vec<i32> = Harness::sent(&h.drain())
        .into_iter()
        .map(|(x, _)| x)
        .collect();
    assert_eq!(xids, vec![1, 2, 3]);
}

#[test]
fn xid_wraps_from_max_to_one() {
    let mut h = harness(1);
    h.s.xid = i32::MAX;
    assert_eq!(h.s.next_xid(), i32::MAX);
    assert_eq!(h.s.next_xid(), 1);
}

#[test]
fn idle_connection_pings_after_a_third_of_the_timeout_less_a_second() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    let start = h.now;
    let out = h.tick();
    assert_eq!(Harness::sent(&out), vec![(-2, Request::Ping)]);
    assert_eq!(h.now - start, 9_000);
    assert_eq!(h.s.expected_reply(-2), Some(OpCode::Ping));
    // The ping reply is heard; the next ping comes as long after the last send.
    h.s.on_incoming(h.now, reply(-2, 0, ErrorCode::Ok, None));
    let out = h.tick();
    assert_eq!(Harness::sent(&out), vec![(-2, Request::Ping)]);
    assert_eq!(h.now - start, 18_000);
}

#[test]
fn silence_for_two_thirds_of_the_timeout_reconnects_with_id_and_password() {
    let mut h = harness(2);
    h.connect(T as i32);
    let first = h.s.connected_to().cloned().unwrap();
    h.drain();
    let lost_at = h.now + 20_000;
    // Pings go out but nothing comes back.
    let mut out = Vec::new();
    while h.now < lost_at {
        out.extend(h.tick());
    }
    assert_eq!(h.now, lost_at);
    assert!(out.contains(&Output::Drop));
    assert_eq!(Harness::events(&out), vec![KeeperState::Disconnected]);
    // The state still reads Connected during the back-off, as in ZooKeeper.
    assert_eq!(h.s.state(), States::Connected);
    let next = h.dial();
    assert!(
        h.now - lost_at < MAX_BACKOFF_MS,
        "herd back-off in [0, 1 s)"
    );
    assert_ne!(next, first);
    h.s.on_tcp_connected(h.now);
    match h.drain().as_slice() {
        [Output::Send(Outgoing::Connect(r))] => {
            assert_eq!(r.session_id, 0x55);
            assert_eq!(r.password, vec![7; 16]);
        }
        other => panic!("{other:?}"),
    }
    h.s.on_incoming(h.now, resp(T as i32, 0x55));
    assert_eq!(
        Harness::events(&h.drain()),
        vec![KeeperState::SyncConnected]
    );
}

#[test]
fn connect_attempt_is_abandoned_after_timeout_over_host_count() {
    let mut h = harness(3);
    h.dial();
    let start = h.now;
    let out = h.tick();
    assert_eq!(h.now - start, 10_000);
    assert_eq!(out, vec![Output::Drop]);
    h.dial();
}

#[test]
fn failed_attempts_before_the_first_connection_report_nothing_and_spin_after_a_pass() {
    let mut h = harness(3);
    let mut dialed = Vec::new();
    for _ in 0..3 {
        dialed.push(h.dial());
        h.s.on_transport_error(h.now);
        assert!(Harness::events(&h.drain()).is_empty());
    }
    dialed.sort_by_key(|a| a.port);
    dialed.dedup();
    assert_eq!(dialed.len(), 3, "every host tried once");
    let before = h.now;
    h.dial();
    assert_eq!(
        h.now - before,
        1_000,
        "the spin pause, no back-off before any connect"
    );
}

#[test]
fn outage_longer_than_the_timeout_reports_disconnected_then_expired() {
    let mut h = harness(2);
    h.connect(T as i32);
    let mut all = h.drain();
    let heard = h.now;
    h.s.submit(h.now, 9, get_data("/a", false));
    // Server gone: every connection fails at once.
    h.s.on_transport_error(h.now);
    while h.s.state().is_alive() {
        let out = h.tick();
        if out.iter().any(|o| matches!(o, Output::Dial(_))) {
            h.s.on_transport_error(h.now);
        }
        all.extend(out);
        all.extend(h.drain());
    }
    assert_eq!(
        Harness::events(&all),
        vec![
            KeeperState::SyncConnected,
            KeeperState::Disconnected,
            KeeperState::Expired
        ]
    );
    assert_eq!(h.now - heard, 40_000, "client-side expiry at 4T/3");
    assert_eq!(h.s.state(), States::Closed);
    assert_eq!(h.s.last_state_event(), KeeperState::Expired);
    assert_eq!(h.s.next_deadline(), None);
    h.s.submit(h.now, 10, get_data("/a", false));
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(10, Err(ErrorCode::SessionExpired))]
    );
}

#[test]
fn without_client_side_expiry_the_client_keeps_trying() {
    let mut h = harness_with(
        1,
        SessionConfig {
            session_timeout_ms: T,
            client_side_expiry: false,
            ..Default::default()
        },
        None,
    );
    h.connect(T as i32);
    h.drain();
    h.s.on_transport_error(h.now);
    let start = h.now;
    while h.now - start < 10 * T as u64 {
        if h.tick().iter().any(|o| matches!(o, Output::Dial(_))) {
            h.s.on_transport_error(h.now);
        }
    }
    assert_eq!(h.s.state(), States::Connecting);
    assert_eq!(Harness::events(&h.drain()), vec![]);
}

#[test]
fn server_answering_timeout_zero_expires_the_session() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.on_transport_error(h.now);
    h.drain();
    h.dial();
    h.s.on_tcp_connected(h.now);
    h.drain();
    h.s.submit(h.now, 4, get_data("/a", false));
    h.s.on_incoming(h.now, resp(0, 0));
    let out = h.drain();
    assert_eq!(Harness::events(&out), vec![KeeperState::Expired]);
    assert_eq!(
        Harness::completions(&out),
        vec![(4, Err(ErrorCode::SessionExpired))]
    );
    assert!(out.contains(&Output::Drop));
    assert_eq!(h.s.state(), States::Closed);
}

#[test]
fn loss_fails_in_flight_requests_with_connection_loss() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.submit(h.now, 1, get_data("/a", false));
    h.drain();
    h.s.on_transport_error(h.now);
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(1, Err(ErrorCode::ConnectionLoss))]
    );
}

#[test]
fn requests_made_while_disconnected_are_sent_after_reconnect() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.on_transport_error(h.now);
    h.drain();
    h.s.submit(h.now, 1, get_data("/a", false));
    h.connect(T as i32);
    let out = h.drain();
    assert_eq!(Harness::sent(&out), vec![(1, get_data("/a", false))]);
    h.s.on_incoming(
        h.now,
        reply(
            1,
            5,
            ErrorCode::Ok,
            Some(Response::GetData {
                data: b"x".to_vec(),
                stat: Stat::default(),
            }),
        ),
    );
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(
            1,
            Ok(Response::GetData {
                data: b"x".to_vec(),
                stat: Stat::default()
            })
        )]
    );
    assert_eq!(h.s.last_zxid(), 5);
}

#[test]
fn error_replies_complete_with_their_code_and_ignore_the_body() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.submit(h.now, 1, get_data("/a", true));
    h.drain();
    h.s.on_incoming(h.now, reply(1, 3, ErrorCode::NoNode, Some(Response::Empty)));
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(1, Err(ErrorCode::NoNode))]
    );
    assert!(h.s.watches().is_empty(), "a failed getData leaves no watch");
}

#[test]
fn pings_and_notifications_do_not_move_last_zxid() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.on_incoming(h.now, reply(-2, 99, ErrorCode::Ok, None));
    h.s.on_incoming(
        h.now,
        Incoming::Reply(Reply::Notification {
            zxid: 98,
            event: WatcherEvent {
                event_type: EventType::NodeDeleted,
                state: KeeperState::SyncConnected,
                path: "/x".into(),
            },
        }),
    );
    assert_eq!(h.s.last_zxid(), 0);
}

#[test]
fn out_of_order_xid_fails_the_head_and_reconnects() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.submit(h.now, 1, get_data("/a", false));
    h.s.submit(h.now, 2, get_data("/b", false));
    h.drain();
    h.s.on_incoming(h.now, reply(2, 1, ErrorCode::Ok, Some(Response::Empty)));
    let out = h.drain();
    assert!(out.contains(&Output::Drop));
    assert_eq!(
        Harness::completions(&out),
        vec![
            (1, Err(ErrorCode::ConnectionLoss)),
            (2, Err(ErrorCode::ConnectionLoss))
        ]
    );
    assert_eq!(Harness::events(&out), vec![KeeperState::Disconnected]);
}

#[test]
fn watch_fires_once_with_the_client_path() {
    let mut h = harness_with(
        1,
        SessionConfig {
            session_timeout_ms: T,
            ..Default::default()
        },
        Some("/app"),
    );
    h.connect(T as i32);
    h.drain();
    h.s.submit(h.now, 1, get_data("/a", true));
    assert_eq!(
        Harness::sent(&h.drain()),
        vec![(1, get_data("/app/a", true))]
    );
    h.s.on_incoming(
        h.now,
        reply(
            1,
            2,
            ErrorCode::Ok,
            Some(Response::GetData {
                data: vec![],
                stat: Stat::default(),
            }),
        ),
    );
    h.drain();
    let note = Incoming::Reply(Reply::Notification {
        zxid: -1,
        event: WatcherEvent {
            event_type: EventType::NodeDataChanged,
            state: KeeperState::SyncConnected,
            path: "/app/a".into(),
        },
    });
    h.s.on_incoming(h.now, note.clone());
    assert_eq!(
        h.drain(),
        vec![Output::Event(WatchedEvent {
            event_type: EventType::NodeDataChanged,
            state: KeeperState::SyncConnected,
            path: Some("/a".into()),
        })]
    );
    h.s.on_incoming(h.now, note);
    assert!(h.drain().is_empty(), "one-shot");
}

#[test]
fn exists_on_a_missing_node_leaves_an_exist_watch() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.submit(
        h.now,
        1,
        Request::Exists(PathWatchRequest {
            path: "/n".into(),
            watch: true,
        }),
    );
    h.drain();
    h.s.on_incoming(h.now, reply(1, 2, ErrorCode::NoNode, None));
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(1, Err(ErrorCode::NoNode))]
    );
    assert!(h.s.watches().contains(WatchKind::Exist, "/n"));
}

#[test]
fn reconnect_rearms_watches_before_queued_requests() {
    let mut h = harness_with(
        1,
        SessionConfig {
            session_timeout_ms: T,
            ..Default::default()
        },
        Some("/app"),
    );
    h.connect(T as i32);
    h.drain();
    h.s.submit(
        h.now,
        1,
        Request::GetChildren(PathWatchRequest {
            path: "/".into(),
            watch: true,
        }),
    );
    h.drain();
    h.s.on_incoming(
        h.now,
        reply(1, 8, ErrorCode::Ok, Some(Response::GetChildren(vec![]))),
    );
    h.drain();
    h.s.on_transport_error(h.now);
    h.drain();
    h.s.submit(h.now, 2, get_data("/b", false));
    h.connect(T as i32);
    let sent = Harness::sent(&h.drain());
    assert_eq!(
        sent,
        vec![
            (
                2,
                Request::SetWatches(SetWatches {
                    relative_zxid: 8,
                    data: vec![],
                    exist: vec![],
                    child: vec!["/app".into()],
                })
            ),
            (3, get_data("/app/b", false)),
        ]
    );
    assert_eq!(h.s.expected_reply(2), Some(OpCode::SetWatches));
    h.s.on_incoming(h.now, reply(2, 8, ErrorCode::Ok, None));
    assert!(Harness::completions(&h.drain()).is_empty());
}

#[test]
fn chroot_is_applied_to_requests_and_stripped_from_responses() {
    let mut h = harness_with(
        1,
        SessionConfig {
            session_timeout_ms: T,
            ..Default::default()
        },
        Some("/app/a"),
    );
    h.connect(T as i32);
    h.drain();
    h.s.submit(
        h.now,
        1,
        Request::create("/x", vec![], vec![], CreateMode::Ephemeral),
    );
    match Harness::sent(&h.drain()).as_slice() {
        [(1, Request::Create(c))] => assert_eq!(c.path, "/app/a/x"),
        other => panic!("{other:?}"),
    }
    h.s.on_incoming(
        h.now,
        reply(
            1,
            2,
            ErrorCode::Ok,
            Some(Response::Create("/app/a/x".into())),
        ),
    );
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(1, Ok(Response::Create("/x".into())))]
    );
}

#[test]
fn notifications_outside_the_chroot_are_dropped() {
    let mut h = harness_with(
        1,
        SessionConfig {
            session_timeout_ms: T,
            ..Default::default()
        },
        Some("/app"),
    );
    h.connect(T as i32);
    h.drain();
    h.s.on_incoming(
        h.now,
        Incoming::Reply(Reply::Notification {
            zxid: 1,
            event: WatcherEvent {
                event_type: EventType::NodeDeleted,
                state: KeeperState::SyncConnected,
                path: "/other".into(),
            },
        }),
    );
    assert!(h.drain().is_empty());
}

#[test]
fn close_sends_close_session_then_reports_closed() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.close(h.now, 7);
    assert_eq!(Harness::sent(&h.drain()), vec![(1, Request::CloseSession)]);
    h.s.submit(h.now, 8, get_data("/a", false));
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(8, Err(ErrorCode::ConnectionLoss))]
    );
    h.s.on_incoming(h.now, reply(1, 3, ErrorCode::Ok, None));
    let out = h.drain();
    assert_eq!(Harness::events(&out), vec![KeeperState::Closed]);
    assert_eq!(Harness::completions(&out), vec![(7, Ok(Response::Empty))]);
    assert!(out.contains(&Output::Drop));
    assert_eq!(h.s.state(), States::Closed);
    h.s.submit(h.now, 9, get_data("/a", false));
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(9, Err(ErrorCode::SessionExpired))]
    );
}

#[test]
fn close_while_disconnected_abandons_the_session_locally() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.on_transport_error(h.now);
    h.drain();
    h.s.submit(h.now, 1, get_data("/a", false));
    h.s.close(h.now, 2);
    let out = h.drain();
    assert!(Harness::sent(&out).is_empty());
    assert_eq!(
        Harness::completions(&out),
        vec![
            (1, Err(ErrorCode::ConnectionLoss)),
            (2, Ok(Response::Empty))
        ]
    );
    assert_eq!(Harness::events(&out), vec![KeeperState::Closed]);
    assert_eq!(h.s.next_deadline(), None);
}

#[test]
fn close_twice_is_harmless() {
    let mut h = harness(1);
    h.s.close(h.now, 1);
    h.s.close(h.now, 2);
    let c = Harness::completions(&h.drain());
    assert_eq!(c, vec![(1, Ok(Response::Empty)), (2, Ok(Response::Empty))]);
}

#[test]
fn auth_failure_is_terminal() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.s.add_auth("digest", b"u:p");
    assert_eq!(
        Harness::sent(&h.drain()),
        vec![(
            -4,
            Request::Auth(AuthPacket {
                auth_type: 0,
                scheme: "digest".into(),
                auth: b"u:p".to_vec(),
            })
        )]
    );
    h.s.submit(h.now, 1, get_data("/a", false));
    h.drain();
    h.s.on_incoming(h.now, reply(-4, 0, ErrorCode::AuthFailed, None));
    let out = h.drain();
    assert_eq!(Harness::events(&out), vec![KeeperState::AuthFailed]);
    assert_eq!(
        Harness::completions(&out),
        vec![(1, Err(ErrorCode::AuthFailed))]
    );
    assert_eq!(h.s.state(), States::AuthFailed);
    h.s.submit(h.now, 2, get_data("/a", false));
    assert_eq!(
        Harness::completions(&h.drain()),
        vec![(2, Err(ErrorCode::AuthFailed))]
    );
    assert_eq!(h.s.next_deadline(), None);
}

#[test]
fn credentials_are_resent_on_reconnect_before_requests() {
    let mut h = harness(1);
    h.s.add_auth("digest", b"u:p");
    h.connect(T as i32);
    let sent = Harness::sent(&h.drain());
    assert_eq!(
        sent,
        vec![(
            -4,
            Request::Auth(AuthPacket {
                auth_type: 0,
                scheme: "digest".into(),
                auth: b"u:p".to_vec(),
            })
        )]
    );
}

#[test]
fn read_only_server_gives_connected_read_only_and_its_session_is_not_reused() {
    let mut h = harness_with(
        1,
        SessionConfig {
            session_timeout_ms: T,
            can_be_read_only: true,
            ..Default::default()
        },
        None,
    );
    h.dial();
    h.s.on_tcp_connected(h.now);
    match h.drain().as_slice() {
        [Output::Send(Outgoing::Connect(r))] => assert!(r.read_only),
        other => panic!("{other:?}"),
    }
    h.s.on_incoming(
        h.now,
        Incoming::Connect(ConnectResponse {
            protocol_version: 0,
            timeout_ms: T as i32,
            session_id: 0x77,
            password: vec![1; 16],
            read_only: true,
            legacy: false,
        }),
    );
    assert_eq!(
        Harness::events(&h.drain()),
        vec![KeeperState::ConnectedReadOnly]
    );
    assert_eq!(h.s.state(), States::ConnectedReadOnly);
    h.s.on_transport_error(h.now);
    h.drain();
    h.dial();
    h.s.on_tcp_connected(h.now);
    match h.drain().as_slice() {
        [Output::Send(Outgoing::Connect(r))] => assert_eq!(r.session_id, 0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn reconnect_asks_for_the_requested_timeout_again() {
    let mut h = harness(1);
    h.connect(6_000);
    h.drain();
    h.s.on_transport_error(h.now);
    h.drain();
    assert_eq!(h.connect(6_000).timeout_ms, T as i32);
}

#[test]
fn negotiated_timeout_rescales_the_timers() {
    let mut h = harness(1);
    h.connect(6_000);
    h.drain();
    assert_eq!(h.s.timeout_ms(), 6_000);
    let start = h.now;
    h.tick();
    // readTimeout/2 = 2000: the 1 s slack applies once idle > 1 s.
    assert_eq!(h.now - start, 1_001);
}

#[test]
fn resumed_session_sends_its_id_and_password() {
    let mut h = harness_with(
        1,
        SessionConfig {
            session_timeout_ms: T,
            resume: Some((0x99, vec![3; 16])),
            ..Default::default()
        },
        None,
    );
    let req = h.connect(T as i32);
    assert_eq!((req.session_id, req.password), (0x99, vec![3; 16]));
}

#[test]
fn advancing_past_nothing_due_does_nothing() {
    let mut h = harness(1);
    h.connect(T as i32);
    h.drain();
    h.advance(1);
    assert!(h.drain().is_empty());
}

#[test]
fn server_list_update_that_removes_the_current_server_moves_the_client() {
    let mut h = harness(2);
    h.connect(T as i32);
    h.drain();
    let current = h.s.connected_to().cloned().unwrap();
    let fresh = vec![
        HostAddr::new("127.0.0.1", 3000),
        HostAddr::new("127.0.0.1", 3001),
    ];
    assert_eq!(h.s.update_server_list(h.now, fresh.clone()), Ok(true));
    let out = h.drain();
    assert!(out.contains(&Output::Drop));
    assert_eq!(Harness::events(&out), vec![KeeperState::Disconnected]);
    let next = h.dial();
    assert!(fresh.contains(&next));
    assert_ne!(next, current);
}

#[test]
fn server_list_update_that_keeps_the_current_server_stays() {
    let mut h = harness(2);
    h.connect(T as i32);
    h.drain();
    let current = h.s.connected_to().cloned().unwrap();
    assert_eq!(h.s.update_server_list(h.now, vec![current]), Ok(false));
    assert!(h.drain().is_empty());
    assert_eq!(h.s.state(), States::Connected);
}

#[test]
fn empty_server_list_update_is_refused() {
    let mut h = harness(2);
    assert_eq!(h.s.update_server_list(h.now, vec![]), Err(EmptyServerList));
}

#[test]
fn never_connected_session_retries_forever_and_requests_fail_with_connection_loss() {
    let mut h = harness(2);
    h.s.submit(h.now, 1, get_data("/a", false));
    let mut completions = Vec::new();
    let mut events = Vec::new();
    while h.now < 1_000 + 10 * T as u64 {
        let out = h.tick();
        if out.iter().any(|o| matches!(o, Output::Dial(_))) {
            h.s.on_transport_error(h.now);
        }
        let more = h.drain();
        completions.extend(Harness::completions(&out));
        completions.extend(Harness::completions(&more));
        events.extend(Harness::events(&out));
        events.extend(Harness::events(&more));
    }
    assert_eq!(
        events,
        vec![],
        "no Expired for a session that never existed"
    );
    assert_eq!(completions, vec![(1, Err(ErrorCode::ConnectionLoss))]);
    assert_eq!(h.s.state(), States::Connecting);
}

#[test]
fn recovers_after_multiple_failed_attempts_without_expiry() {
    // Five silent hosts (TCP connects, no handshake reply) and one real one.
    let mut h = harness(6);
    h.connect(T as i32);
    let real = h.s.connected_to().cloned().unwrap();
    let mut all = h.drain();
    h.s.on_transport_error(h.now);
    let lost = h.now;
    loop {
        let out = h.tick();
        all.extend(out.iter().cloned());
        let Some(Output::Dial(addr)) = out.iter().find(|o| matches!(o, Output::Dial(_))) else {
            continue;
        };
        h.s.on_tcp_connected(h.now);
        h.drain();
        if *addr == real {
            h.s.on_incoming(h.now, resp(T as i32, 0x55));
            all.extend(h.drain());
            break;
        }
    }
    assert!(
        h.now - lost >= 5 * (T as u64 / 6),
        "every silent host got its connect timeout"
    );
    assert_eq!(
        Harness::events(&all),
        vec![
            KeeperState::SyncConnected,
            KeeperState::Disconnected,
            KeeperState::SyncConnected
        ]
    );
}

#[test]
fn close_during_the_handshake_is_sent_once_it_completes() {
    let mut h = harness(1);
    h.dial();
    h.s.on_tcp_connected(h.now);
    h.drain();
    h.s.close(h.now, 5);
    assert!(
        h.drain().is_empty(),
        "nothing written before the handshake reply"
    );
    h.s.on_incoming(h.now, resp(T as i32, 0x55));
    let out = h.drain();
    assert_eq!(Harness::sent(&out), vec![(1, Request::CloseSession)]);
    h.s.on_incoming(h.now, reply(1, 1, ErrorCode::Ok, None));
    let out = h.drain();
    assert_eq!(Harness::events(&out), vec![KeeperState::Closed]);
    assert_eq!(Harness::completions(&out), vec![(5, Ok(Response::Empty))]);
}

mod model;
