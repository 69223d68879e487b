//! The server over loopback with raw wire frames: handshake, sessions, requests, watches,
//! expiry and the protocol errors that must close only the offending connection.

mod server_support;

use server_support::*;
use zksession::wire::{
    write_frame, ConnectRequest, ConnectResponse, ErrorCode, EventType, MultiOp, MultiResult,
    PathWatchRequest, Record, Request, Response, SetDataRequest,
};

fn path_watch(path: &str, watch: bool) -> PathWatchRequest {
    PathWatchRequest {
        path: path.into(),
        watch,
    }
}

#[test]
fn new_session_gets_a_timeout_clamped_to_min_and_max() {
    let srv = TestServer::start(|_| {});
    // tick 100 ms: min 200, max 2000.
    for (asked, got) in [(1000, 1000), (10, 200), (100_000, 2000)] {
        let (_c, resp) = Client::session(srv.addr, asked);
        assert_eq!(resp.timeout_ms, got, "asked {asked}");
        assert_ne!(resp.session_id, 0);
        assert_eq!(resp.password.len(), 16);
        assert!(!resp.read_only && !resp.legacy);
    }
}

#[test]
fn legacy_handshake_without_read_only_gets_a_36_byte_response() {
    let srv = TestServer::start(|_| {});
    let mut c = Client::raw(srv.addr);
    let req = ConnectRequest::new_session(1000).to_bytes();
    let mut out = Vec::new();
    write_frame(&mut out, |w| w.raw(&req[..44]));
    c.send_raw(&out);
    let frame = c.frame().unwrap();
    assert_eq!(frame.len(), 36);
    assert_eq!(
        ConnectResponse::from_bytes(&frame).unwrap().timeout_ms,
        1000
    );
}

#[test]
fn reconnect_with_id_and_password_continues_the_session() {
    let srv = TestServer::start(|_| {});
    let (mut a, resp) = Client::session(srv.addr, 1000);
    assert_eq!(a.call(&create("/e", 1)).0, 0);
    drop(a);
    let mut again = ConnectRequest::new_session(1500);
    again.session_id = resp.session_id;
    again.password = resp.password.clone();
    let (mut b, resp2) = Client::attach(srv.addr, &again);
    assert_eq!(resp2.session_id, resp.session_id);
    assert_eq!(resp2.timeout_ms, 1500);
    assert_eq!(resp2.password, resp.password);
    let (err, body, _) = b.call(&Request::Exists(path_watch("/e", false)));
    assert_eq!(err, 0);
    match body {
        Some(Response::Stat(s)) => assert_eq!(s.ephemeral_owner, resp.session_id),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_password_gets_the_expired_response_and_a_close() {
    let srv = TestServer::start(|_| {});
    let (_a, resp) = Client::session(srv.addr, 1000);
    let mut bad = ConnectRequest::new_session(1000);
    bad.session_id = resp.session_id;
    bad.password = vec![7; 16];
    let (mut b, r) = Client::attach(srv.addr, &bad);
    assert_eq!(r, ConnectResponse::expired(false));
    assert!(b.is_closed());
}

#[test]
fn unknown_session_gets_the_expired_response_and_a_close() {
    let srv = TestServer::start(|_| {});
    let mut req = ConnectRequest::new_session(1000);
    req.session_id = 0x0100_0000_0000_0042;
    let (mut c, r) = Client::attach(srv.addr, &req);
    assert!(r.is_expired());
    assert_eq!((r.session_id, r.password.clone()), (0, vec![0; 16]));
    assert!(c.is_closed());
}

/// What clients of a server restarted without its state send: a session it never saw and
/// a zxid it has not reached. They are told their session expired (and start a new one)
/// instead of being refused forever.
#[test]
fn client_ahead_with_an_unknown_session_is_told_it_expired() {
    let srv = TestServer::start(|_| {});
    let mut req = ConnectRequest::new_session(1000);
    req.session_id = 0x0100_0000_0000_0042;
    req.last_zxid_seen = 1 << 40;
    let (mut c, r) = Client::attach(srv.addr, &req);
    assert!(r.is_expired());
    assert!(c.is_closed());
    // The fresh session such a client asks for next is served.
    let (mut fresh, resp) = Client::session(srv.addr, 1000);
    assert_ne!(resp.session_id, 0);
    assert_eq!(fresh.call(&Request::Ping).0, 0);
}

/// A client ahead of the server on a session the server tracks must try another server:
/// closed without a response (nothing of this server's older state is shown to it).
#[test]
fn client_ahead_with_a_live_session_is_closed_without_a_response() {
    let srv = TestServer::start(|_| {});
    let (_a, resp) = Client::session(srv.addr, 1000);
    let mut req = ConnectRequest::new_session(1000);
    req.session_id = resp.session_id;
    req.password = resp.password;
    req.last_zxid_seen = 1 << 40;
    let mut c = Client::raw(srv.addr);
    let mut out = Vec::new();
    write_frame(&mut out, |w| w.record(&req));
    c.send_raw(&out);
    assert!(c.is_closed());
}

#[test]
fn reattaching_a_session_closes_its_previous_connection() {
    let srv = TestServer::start(|_| {});
    let (mut a, resp) = Client::session(srv.addr, 1000);
    let mut again = ConnectRequest::new_session(1000);
    again.session_id = resp.session_id;
    again.password = resp.password;
    let (mut b, _) = Client::attach(srv.addr, &again);
    assert!(a.is_closed());
    assert_eq!(b.call(&Request::Ping).0, 0);
}

#[test]
fn ping_is_answered_with_xid_minus_two() {
    let srv = TestServer::start(|_| {});
    let (mut c, _) = Client::session(srv.addr, 1000);
    c.send_xid(-2, &Request::Ping);
    match c.msg() {
        Some(Msg::Reply(h, body)) => {
            assert_eq!((h.xid, h.err), (-2, 0));
            assert!(body.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn crud_with_versions_and_errors() {
    let srv = TestServer::start(|_| {});
    let (mut c, _) = Client::session(srv.addr, 1000);
    assert_eq!(c.call(&create("/n", 0)).0, 0);
    assert_eq!(c.call(&create("/n", 0)).0, ErrorCode::NodeExists.code());
    assert_eq!(c.call(&create("/x/y", 0)).0, ErrorCode::NoNode.code());
    assert_eq!(c.call(&create("/n", 9)).0, ErrorCode::BadArguments.code());
    let set = |v| {
        Request::SetData(SetDataRequest {
            path: "/n".into(),
            data: b"v".to_vec(),
            version: v,
        })
    };
    assert_eq!(c.call(&set(5)).0, ErrorCode::BadVersion.code());
    match c.call(&set(0)).1 {
        Some(Response::Stat(s)) => assert_eq!(s.version, 1),
        other => panic!("{other:?}"),
    }
    match c.call(&Request::GetData(path_watch("/n", false))).1 {
        Some(Response::GetData { data, stat }) => {
            assert_eq!((data.as_slice(), stat.version), (&b"v"[..], 1))
        }
        other => panic!("{other:?}"),
    }
    let del = |v| {
        Request::Delete(zksession::wire::DeleteRequest {
            path: "/n".into(),
            version: v,
        })
    };
    assert_eq!(c.call(&del(0)).0, ErrorCode::BadVersion.code());
    assert_eq!(c.call(&del(1)).0, 0);
    assert_eq!(
        c.call(&Request::Exists(path_watch("/n", false))).0,
        ErrorCode::NoNode.code()
    );
}

#[test]
fn sequential_nodes_get_ten_digit_suffixes() {
    let srv = TestServer::start(|_| {});
    let (mut c, _) = Client::session(srv.addr, 1000);
    c.call(&create("/q", 0));
    for i in 0..3 {
        match c.call(&create("/q/item-", 2)).1 {
            Some(Response::Create(p)) => assert_eq!(p, format!("/q/item-{i:010}")),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_watch_event_reaches_its_connection_before_the_reply_to_the_change() {
    let srv = TestServer::start(|_| {});
    let (mut c, _) = Client::session(srv.addr, 1000);
    c.call(&create("/w", 0));
    c.call(&Request::GetData(path_watch("/w", true)));
    let (err, _, events) = c.call(&Request::SetData(SetDataRequest {
        path: "/w".into(),
        data: vec![],
        version: -1,
    }));
    assert_eq!(err, 0);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::NodeDataChanged);
    assert_eq!(events[0].path, "/w");
}

#[test]
fn watches_fire_across_connections_once() {
    let srv = TestServer::start(|_| {});
    let (mut a, _) = Client::session(srv.addr, 1000);
    let (mut b, _) = Client::session(srv.addr, 1000);
    a.call(&create("/p", 0));
    b.call(&Request::GetChildren(path_watch("/p", true)));
    b.call(&Request::Exists(path_watch("/p/c", true)));
    a.call(&create("/p/c", 0));
    let mut got: Vec<_> = (0..2).map(|_| b.event().event_type).collect();
    got.sort_by_key(|t| *t as i32);
    assert_eq!(
        got,
        [EventType::NodeCreated, EventType::NodeChildrenChanged]
    );
    // One-shot: a second change fires nothing; the ping reply comes next.
    a.call(&create("/p/d", 0));
    let (err, _, events) = b.call(&Request::Ping);
    assert_eq!((err, events.len()), (0, 0));
}

#[test]
fn close_session_replies_then_closes_and_deletes_ephemerals_at_once() {
    let srv = TestServer::start(|_| {});
    let (mut owner, _) = Client::session(srv.addr, 2000);
    let (mut watcher, _) = Client::session(srv.addr, 2000);
    assert_eq!(owner.call(&create("/eph", 1)).0, 0);
    watcher.call(&Request::Exists(path_watch("/eph", true)));
    assert_eq!(owner.call(&Request::CloseSession).0, 0);
    assert!(owner.is_closed());
    let e = watcher.event();
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDeleted, "/eph")
    );
}

#[test]
fn an_expired_session_loses_its_ephemerals_and_its_connection() {
    let srv = TestServer::start(|_| {});
    let (mut owner, _) = Client::session(srv.addr, 200);
    let (mut watcher, _) = Client::session(srv.addr, 2000);
    assert_eq!(owner.call(&create("/gone", 1)).0, 0);
    watcher.call(&Request::Exists(path_watch("/gone", true)));
    // The owner stops pinging: the engine expires it (200 ms + one tick) and the
    // server deletes the node, fires the watch and closes the owner's connection.
    let e = watcher.event();
    assert_eq!(
        (e.event_type, e.path.as_str()),
        (EventType::NodeDeleted, "/gone")
    );
    assert!(owner.is_closed());
}

#[test]
fn multi_is_atomic_and_reports_every_result() {
    let srv = TestServer::start(|_| {});
    let (mut c, _) = Client::session(srv.addr, 1000);
    let create_op = |p: &str| match create(p, 0) {
        Request::Create(r) => MultiOp::Create(r),
        _ => unreachable!(),
    };
    let ok = Request::Multi(vec![create_op("/m1"), create_op("/m2")]);
    match c.call(&ok).1 {
        Some(Response::Multi(r)) => assert_eq!(
            r,
            vec![
                MultiResult::Create("/m1".into()),
                MultiResult::Create("/m2".into())
            ]
        ),
        other => panic!("{other:?}"),
    }
    let bad = Request::Multi(vec![create_op("/m3"), create_op("/m1"), create_op("/m4")]);
    match c.call(&bad) {
        (0, Some(Response::Multi(r)), _) => assert_eq!(
            r,
            vec![
                MultiResult::Error(0),
                MultiResult::error(ErrorCode::NodeExists),
                MultiResult::error(ErrorCode::RuntimeInconsistency)
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.call(&Request::Exists(path_watch("/m3", false))).0,
        ErrorCode::NoNode.code()
    );
}

#[test]
fn ephemeral_on_a_local_session_fails_without_upgrading() {
    let srv = TestServer::start(|c| c.local_sessions = true);
    let (mut c, _) = Client::session(srv.addr, 1000);
    assert_eq!(c.call(&create("/p", 0)).0, 0);
    assert_eq!(
        c.call(&create("/e", 1)).0,
        ErrorCode::EphemeralOnLocalSession.code()
    );
}

#[test]
fn ephemeral_on_a_local_session_upgrades_it_when_enabled() {
    let srv = TestServer::start(|c| {
        c.local_sessions = true;
        c.local_sessions_upgrading = true;
    });
    let (mut c, _) = Client::session(srv.addr, 1000);
    let before = four_letter(srv.addr, "mntr");
    assert!(before.contains("zk_local_sessions\t1"), "{before}");
    assert_eq!(c.call(&create("/e", 1)).0, 0);
    let after = four_letter(srv.addr, "mntr");
    assert!(after.contains("zk_global_sessions\t1"), "{after}");
    assert!(after.contains("zk_local_sessions\t0"), "{after}");
}

#[test]
fn a_watcher_on_another_connection_sees_the_event_before_reading_the_change() {
    let srv = TestServer::start(|_| {});
    let (mut writer, _) = Client::session(srv.addr, 1000);
    let (mut reader, _) = Client::session(srv.addr, 1000);
    writer.call(&create("/o", 0));
    for round in 0..50 {
        reader.call(&Request::GetData(path_watch("/o", true)));
        writer.call(&Request::SetData(SetDataRequest {
            path: "/o".into(),
            data: vec![round as u8],
            version: -1,
        }));
        let (_, body, events) = reader.call(&Request::GetData(path_watch("/o", false)));
        match body {
            Some(Response::GetData { data, .. }) => assert_eq!(data, vec![round as u8]),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            events.len(),
            1,
            "round {round}: the event precedes the new data"
        );
    }
}

#[test]
fn a_bad_create_mode_inside_a_multi_fails_that_op_only() {
    let srv = TestServer::start(|_| {});
    let (mut c, _) = Client::session(srv.addr, 1000);
    let op = |p: &str, flags| match create(p, flags) {
        Request::Create(r) => MultiOp::Create(r),
        _ => unreachable!(),
    };
    match c.call(&Request::Multi(vec![
        op("/b1", 0),
        op("/b2", 42),
        op("/b3", 0),
    ])) {
        (0, Some(Response::Multi(r)), _) => assert_eq!(
            r,
            vec![
                MultiResult::Error(0),
                MultiResult::error(ErrorCode::BadArguments),
                MultiResult::error(ErrorCode::RuntimeInconsistency)
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.call(&Request::Exists(path_watch("/b1", false))).0,
        ErrorCode::NoNode.code()
    );
}
