//! Misbehaving clients and limits: each bad input closes only its own connection and the
//! server keeps serving everyone else; four-letter words; back-pressure.

mod server_support;

use server_support::*;
use zksession::wire::{ErrorCode, PathWatchRequest, Request};

/// A healthy session that must survive every abuse of its neighbours.
fn bystander(srv: &TestServer) -> Client {
    let (mut c, _) = Client::session(srv.addr, 2000);
    assert_eq!(c.call(&create("/bystander", 1)).0, 0);
    c
}

fn still_fine(c: &mut Client) {
    let (err, _, _) = c.call(&Request::Exists(PathWatchRequest {
        path: "/bystander".into(),
        watch: false,
    }));
    assert_eq!(err, 0);
}

#[test]
fn unknown_opcode_gets_unimplemented_then_close() {
    let srv = TestServer::start(|_| {});
    let mut other = bystander(&srv);
    let (mut c, _) = Client::session(srv.addr, 1000);
    c.send_raw(&[0, 0, 0, 8, 0, 0, 0, 5, 0, 0, 0x03, 0xe7]);
    match c.msg() {
        Some(Msg::Reply(h, _)) => assert_eq!((h.xid, h.err), (5, ErrorCode::Unimplemented.code())),
        other => panic!("{other:?}"),
    }
    assert!(c.is_closed());
    still_fine(&mut other);
}

#[test]
fn top_level_check_gets_unimplemented_then_close() {
    let srv = TestServer::start(|_| {});
    let (mut c, _) = Client::session(srv.addr, 1000);
    let check = Request::Check(zksession::wire::CheckVersionRequest {
        path: "/".into(),
        version: 0,
    });
    assert_eq!(c.call(&check).0, ErrorCode::Unimplemented.code());
    assert!(c.is_closed());
}

#[test]
fn oversized_frame_length_closes_only_that_connection() {
    let srv = TestServer::start(|c| c.max_buffer = 4096);
    let mut other = bystander(&srv);
    let (mut c, _) = Client::session(srv.addr, 1000);
    c.send_raw(&4097i32.to_be_bytes());
    assert!(c.is_closed());
    let mut before = Client::raw(srv.addr);
    before.send_raw(&0x7fff_ffffi32.to_be_bytes());
    assert!(before.is_closed());
    still_fine(&mut other);
}

#[test]
fn negative_frame_length_closes_the_connection() {
    let srv = TestServer::start(|_| {});
    let mut c = Client::raw(srv.addr);
    c.send_raw(&(-1i32).to_be_bytes());
    assert!(c.is_closed());
}

#[test]
fn garbage_handshake_closes_without_a_response() {
    let srv = TestServer::start(|_| {});
    let mut other = bystander(&srv);
    let mut c = Client::raw(srv.addr);
    c.send_raw(&[0, 0, 0, 5, 1, 2, 3, 4, 5]);
    assert!(c.is_closed());
    still_fine(&mut other);
}

#[test]
fn garbage_after_the_handshake_leaves_others_untouched() {
    let srv = TestServer::start(|_| {});
    let mut other = bystander(&srv);
    let (mut c, _) = Client::session(srv.addr, 1000);
    // A create whose body is truncated: answered with MARSHALLINGERROR.
    c.send_raw(&[0, 0, 0, 10, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0]);
    match c.msg() {
        Some(Msg::Reply(h, _)) => assert_eq!(h.err, ErrorCode::MarshallingError.code()),
        other => panic!("{other:?}"),
    }
    // A header-less frame closes.
    c.send_raw(&[0, 0, 0, 2, 0xde, 0xad]);
    assert!(c.is_closed());
    still_fine(&mut other);
}

#[test]
fn per_ip_connection_limit_refuses_extra_connections() {
    let srv = TestServer::start(|c| c.max_client_cnxns = 2);
    let (mut a, _) = Client::session(srv.addr, 1000);
    let (_b, _) = Client::session(srv.addr, 1000);
    let mut c = Client::raw(srv.addr);
    assert!(c.is_closed());
    assert_eq!(a.call(&Request::Ping).0, 0);
}

#[test]
fn four_letter_words_answer_and_close() {
    let srv = TestServer::start(|_| {});
    let _other = bystander(&srv);
    assert_eq!(four_letter(srv.addr, "ruok"), "imok");
    let srvr = four_letter(srv.addr, "srvr");
    assert!(srvr.contains("Mode: standalone"), "{srvr}");
    let mntr = four_letter(srv.addr, "mntr");
    for key in [
        "zk_num_alive_connections",
        "zk_global_sessions",
        "zk_ephemerals_count",
        "zks_expiry_lag_p99_ms",
        "zk_server_state\tstandalone",
    ] {
        assert!(mntr.contains(key), "{key} missing from {mntr}");
    }
    let dump = four_letter(srv.addr, "dump");
    assert!(dump.contains("\t/bystander"), "{dump}");
    let cons = four_letter(srv.addr, "cons");
    assert!(cons.contains("sid=0x"), "{cons}");
    assert!(four_letter(srv.addr, "wchs").contains("Total watches:"));
}

#[test]
fn four_letter_words_outside_the_whitelist_are_refused() {
    let srv = TestServer::start(|c| c.four_letter_words = Default::default());
    assert_eq!(
        four_letter(srv.addr, "ruok"),
        "ruok is not executed because it is not in the whitelist.\n"
    );
    assert!(four_letter(srv.addr, "srvr").contains("Zookeeper version"));
}

#[test]
fn a_client_that_never_reads_is_held_back_without_stalling_others() {
    let srv = TestServer::start(|c| c.max_outstanding = 16);
    let mut other = bystander(&srv);
    let (mut greedy, _) = Client::session(srv.addr, 5000);
    let n = 20_000;
    let get = Request::Exists(PathWatchRequest {
        path: "/bystander".into(),
        watch: false,
    });
    let mut burst = Vec::new();
    for xid in 1..=n {
        zksession::wire::write_request(&mut burst, xid, &get);
    }
    // Write the burst from another thread: the server stops reading it while its
    // replies are unread, so this write blocks until we drain below.
    let mut writer = greedy.stream.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        use std::io::Write;
        writer.write_all(&burst).unwrap();
    });
    still_fine(&mut other);
    for xid in 1..=n {
        match greedy.msg() {
            Some(Msg::Reply(h, _)) => assert_eq!((h.xid, h.err), (xid, 0)),
            other => panic!("{other:?}"),
        }
    }
    t.join().unwrap();
}

#[test]
fn global_connection_limit_refuses_extra_connections() {
    let srv = TestServer::start(|c| c.max_cnxns = 1);
    let (mut a, _) = Client::session(srv.addr, 1000);
    let mut b = Client::raw(srv.addr);
    assert!(b.is_closed());
    assert_eq!(a.call(&Request::Ping).0, 0);
}

#[test]
fn requests_other_than_pings_keep_a_session_alive() {
    let srv = TestServer::start(|_| {});
    let (mut c, resp) = Client::session(srv.addr, 2000);
    assert_eq!(resp.timeout_ms, 2000);
    c.call(&create("/kept", 1));
    // 3 s of reads and no ping: each read touches the session.
    for _ in 0..10 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let (err, _, _) = c.call(&Request::Exists(PathWatchRequest {
            path: "/kept".into(),
            watch: false,
        }));
        assert_eq!(err, 0);
    }
}

#[test]
fn a_watcher_that_never_reads_its_events_is_disconnected_alone() {
    let srv = TestServer::start(|c| c.max_buffer = 4096);
    let (mut writer, _) = Client::session(srv.addr, 2000);
    let (mut watcher, _) = Client::session(srv.addr, 2000);
    let path = format!("/{}", "n".repeat(1000));
    assert_eq!(writer.call(&create(&path, 0)).0, 0);
    let add = Request::AddWatch(zksession::wire::AddWatchRequest {
        path: "/".into(),
        mode: 1,
    });
    assert_eq!(watcher.call(&add).0, 0);
    // ~1 KiB per event; well past the kernel's socket buffers and 16 × 4 KiB.
    let set = Request::SetData(zksession::wire::SetDataRequest {
        path: path.clone(),
        data: Some(vec![]),
        version: -1,
    });
    for _ in 0..8000 {
        assert_eq!(writer.call(&set).0, 0);
    }
    let mut buf = vec![0u8; 1 << 16];
    loop {
        use std::io::Read;
        match watcher.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("watcher was not disconnected: {e}"),
        }
    }
    assert_eq!(writer.call(&Request::Ping).0, 0);
}
