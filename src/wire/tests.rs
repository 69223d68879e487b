//! Codec tests: the spec's byte-exact vectors (generated with ZooKeeper 3.8.0's jar),
//! round trips of every message, and random bytes into every decoder.

use super::jute::{DecodeError, Reader, Record, Writer};
use super::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn passwd_01869f5b2c3d0000() -> Vec<u8> {
    hex("99544121b2ac73529f3f81404b3967b4")
}

// ---- spec 9.10 vectors -------------------------------------------------------------

const CONNECT_REQUEST: &str = "00000000 0000000000000000 00007530 0000000000000000 00000010 \
                               00000000000000000000000000000000 00";

#[test]
fn vector_connect_request_encodes_to_45_bytes() {
    let req = ConnectRequest::new_session(30000);
    let bytes = req.to_bytes();
    assert_eq!(bytes.len(), 45);
    assert_eq!(bytes, hex(CONNECT_REQUEST));
    assert_eq!(ConnectRequest::from_bytes(&bytes).unwrap(), req);
}

#[test]
fn vector_legacy_connect_request_without_read_only_is_44_bytes() {
    let bytes = hex(CONNECT_REQUEST);
    let legacy = ConnectRequest::from_bytes(&bytes[..44]).unwrap();
    assert!(legacy.legacy);
    assert!(!legacy.read_only);
    assert_eq!(legacy.timeout_ms, 30000);
    assert_eq!(legacy.to_bytes(), &bytes[..44]);
}

#[test]
fn vector_connect_response() {
    let resp = ConnectResponse {
        protocol_version: 0,
        timeout_ms: 30000,
        session_id: 0x01869f5b2c3d0000,
        password: passwd_01869f5b2c3d0000(),
        read_only: false,
        legacy: false,
    };
    let want =
        hex("00000000 00007530 01869f5b2c3d0000 00000010 99544121b2ac73529f3f81404b3967b4 00");
    assert_eq!(resp.to_bytes(), want);
    assert_eq!(want.len(), 37);
    assert_eq!(ConnectResponse::from_bytes(&want).unwrap(), resp);
    assert_eq!(
        passwd_01869f5b2c3d0000(),
        crate::engine::zookeeper_password(0x01869f5b2c3d0000).to_vec()
    );
}

#[test]
fn vector_expired_connect_response() {
    let want =
        hex("00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000 00");
    assert_eq!(ConnectResponse::expired(false).to_bytes(), want);
    assert!(ConnectResponse::from_bytes(&want).unwrap().is_expired());
}

#[test]
fn legacy_connect_response_omits_the_read_only_byte() {
    let bytes = ConnectResponse::expired(true).to_bytes();
    assert_eq!(bytes.len(), 36);
    assert!(ConnectResponse::from_bytes(&bytes).unwrap().legacy);
}

#[test]
fn vector_ping_request_header() {
    let h = RequestHeader {
        xid: xid::PING,
        op: OpCode::Ping as i32,
    };
    assert_eq!(h.to_bytes(), hex("fffffffe 0000000b"));
    let (hh, req) = decode_request_default(&hex("fffffffe 0000000b")).unwrap();
    assert_eq!((hh, req), (h, Request::Ping));
}

#[test]
fn vector_ping_reply_header() {
    let h = ReplyHeader {
        xid: -2,
        zxid: 0x100000005,
        err: 0,
    };
    assert_eq!(h.to_bytes(), hex("fffffffe 0000000100000005 00000000"));
    assert_eq!(ReplyHeader::from_bytes(&h.to_bytes()).unwrap(), h);
}

#[test]
fn vector_close_session_header() {
    let mut out = Vec::new();
    write_request(&mut out, 7, &Request::CloseSession);
    assert_eq!(out, hex("00000008 00000007 fffffff5"));
    let (h, req) = decode_request_default(&out[4..]).unwrap();
    assert_eq!((h.xid, req), (7, Request::CloseSession));
}

const CREATE: &str = "00000004 2f666f6f 00000003 626172 00000001 0000001f 00000005 776f726c64 \
                      00000006 616e796f6e65 00000001";

#[test]
fn vector_create_request() {
    let c = CreateRequest {
        path: "/foo".into(),
        data: b"bar".to_vec(),
        acl: vec![Acl::world_anyone()],
        flags: 1,
    };
    assert_eq!(c.to_bytes(), hex(CREATE));
    let mut payload = hex("00000001 00000001");
    payload.extend(hex(CREATE));
    let (h, req) = decode_request_default(&payload).unwrap();
    assert_eq!(h, RequestHeader { xid: 1, op: 1 });
    assert_eq!(req, Request::Create(c));
}

#[test]
fn vector_get_data_request() {
    let g = PathWatchRequest {
        path: "/foo".into(),
        watch: true,
    };
    assert_eq!(g.to_bytes(), hex("00000004 2f666f6f 01"));
    assert_eq!(
        PathWatchRequest::from_bytes(&hex("00000004 2f666f6f 01")).unwrap(),
        g
    );
}

#[test]
fn vector_notification_header_of_3_8() {
    let h = ReplyHeader {
        xid: -1,
        zxid: -1,
        err: 0,
    };
    assert_eq!(h.to_bytes(), hex("ffffffff ffffffffffffffff 00000000"));
}

#[test]
fn vector_watcher_event() {
    let e = WatcherEvent {
        event_type: EventType::NodeDeleted,
        state: KeeperState::SyncConnected,
        path: "/foo".into(),
    };
    assert_eq!(e.to_bytes(), hex("00000002 00000003 00000004 2f666f6f"));
    assert_eq!(WatcherEvent::from_bytes(&e.to_bytes()).unwrap(), e);
    let mut out = Vec::new();
    write_notification(&mut out, -1, &e);
    assert_eq!(
        out,
        hex("00000020 ffffffff ffffffffffffffff 00000000 00000002 00000003 00000004 2f666f6f")
    );
}

#[test]
fn vector_set_watches() {
    let s = SetWatches {
        relative_zxid: 5,
        data: vec!["/a".into()],
        exist: vec![],
        child: vec!["/b".into()],
    };
    let want = hex("0000000000000005 00000001 00000002 2f61 00000000 00000001 00000002 2f62");
    assert_eq!(s.to_bytes(), want);
    assert_eq!(SetWatches::from_bytes(&want).unwrap(), s);
}

#[test]
fn vector_stat_is_68_bytes() {
    let s = Stat {
        czxid: 1,
        mzxid: 2,
        ctime: 3,
        mtime: 4,
        version: 5,
        cversion: 6,
        aversion: 7,
        ephemeral_owner: 8,
        data_length: 9,
        num_children: 10,
        pzxid: 11,
    };
    let want = hex(
        "0000000000000001 0000000000000002 0000000000000003 0000000000000004 00000005 \
         00000006 00000007 0000000000000008 00000009 0000000a 000000000000000b",
    );
    assert_eq!(want.len(), 68);
    assert_eq!(s.to_bytes(), want);
    assert_eq!(Stat::from_bytes(&want).unwrap(), s);
}

// ---- behaviours ----------------------------------------------------------------------

#[test]
fn unknown_opcode_keeps_the_header_for_the_reply() {
    let err = decode_request_default(&hex("00000009 000003e7")).unwrap_err();
    assert_eq!(err.header, Some(RequestHeader { xid: 9, op: 999 }));
    assert_eq!(err.error, DecodeError::UnknownOpCode(999));
    assert_eq!(err.error.error_code(), ErrorCode::Unimplemented);
}

#[test]
fn short_header_is_an_error_without_a_header() {
    let err = decode_request_default(&[0, 0, 0]).unwrap_err();
    assert_eq!(err.header, None);
}

#[test]
fn multi_request_layout_matches_zookeeper() {
    let ops = vec![
        MultiOp::Check(CheckVersionRequest {
            path: "/a".into(),
            version: 3,
        }),
        MultiOp::Delete(DeleteRequest {
            path: "/b".into(),
            version: -1,
        }),
    ];
    let mut out = Vec::new();
    Request::Multi(ops.clone()).write(&mut Writer::new(&mut out));
    let want = hex("0000000d 00 ffffffff 00000002 2f61 00000003 \
         00000002 00 ffffffff 00000002 2f62 ffffffff \
         ffffffff 01 ffffffff");
    assert_eq!(out, want);
    assert_eq!(
        Request::read(14, &mut Reader::new(&want)).unwrap(),
        Request::Multi(ops)
    );
}

#[test]
fn multi_with_a_forbidden_op_is_refused() {
    let bytes = hex("0000000b 00 ffffffff ffffffff 01 ffffffff");
    assert_eq!(
        Request::read(14, &mut Reader::new(&bytes)),
        Err(DecodeError::BadMultiOp(11))
    );
}

#[test]
fn failed_multi_response_layout_matches_zookeeper() {
    let results = vec![
        MultiResult::Error(0),
        MultiResult::error(ErrorCode::NoNode),
        MultiResult::error(ErrorCode::RuntimeInconsistency),
    ];
    let mut out = Vec::new();
    Response::Multi(results.clone()).write(&mut Writer::new(&mut out));
    let want = hex("ffffffff 00 00000000 00000000 \
         ffffffff 00 ffffff9b ffffff9b \
         ffffffff 00 fffffffe fffffffe \
         ffffffff 01 ffffffff");
    assert_eq!(out, want);
    assert_eq!(
        Response::read(OpCode::Multi, &mut Reader::new(&want)).unwrap(),
        Response::Multi(results)
    );
}

#[test]
fn add_watch_reply_has_a_four_byte_body() {
    let mut out = Vec::new();
    write_reply(
        &mut out,
        ReplyHeader {
            xid: 3,
            zxid: 1,
            err: 0,
        },
        &Response::AddWatch,
    );
    assert_eq!(out.len(), 4 + 16 + 4);
}

#[test]
fn error_replies_carry_no_body() {
    let mut out = Vec::new();
    let body = Response::Stat(Stat::default());
    write_reply(
        &mut out,
        ReplyHeader {
            xid: 3,
            zxid: 1,
            err: -101,
        },
        &body,
    );
    assert_eq!(out.len(), 4 + 16);
}

#[test]
fn bad_event_type_in_a_notification_is_refused() {
    let bytes = hex("00000063 00000003 00000000");
    assert_eq!(
        WatcherEvent::from_bytes(&bytes),
        Err(DecodeError::BadEnumValue(99))
    );
}

#[test]
fn trailing_bytes_after_a_whole_record_are_reported() {
    let mut b = Stat::default().to_bytes();
    b.push(0);
    assert_eq!(Stat::from_bytes(&b), Err(DecodeError::TrailingBytes(1)));
}

// ---- strategies ----------------------------------------------------------------------

fn path() -> impl Strategy<Value = String> {
    "(/[a-z0-9]{0,6}){1,3}"
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..24)
}

fn stat() -> impl Strategy<Value = Stat> {
    (
        any::<[i64; 4]>(),
        any::<[i32; 3]>(),
        any::<i64>(),
        any::<[i32; 2]>(),
        any::<i64>(),
    )
        .prop_map(|(l, i, e, n, p)| Stat {
            czxid: l[0],
            mzxid: l[1],
            ctime: l[2],
            mtime: l[3],
            version: i[0],
            cversion: i[1],
            aversion: i[2],
            ephemeral_owner: e,
            data_length: n[0],
            num_children: n[1],
            pzxid: p,
        })
}

fn acl() -> impl Strategy<Value = Vec<Acl>> {
    proptest::collection::vec(
        (any::<i32>(), "[a-z]{0,6}", "[a-z:0-9]{0,8}").prop_map(|(perms, scheme, id)| Acl {
            perms,
            id: Id { scheme, id },
        }),
        0..3,
    )
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(path(), 0..4)
}

fn create() -> impl Strategy<Value = CreateRequest> {
    (path(), data(), acl(), any::<i32>()).prop_map(|(path, data, acl, flags)| CreateRequest {
        path,
        data,
        acl,
        flags,
    })
}

fn create_ttl() -> impl Strategy<Value = CreateTtlRequest> {
    (create(), any::<i64>()).prop_map(|(c, ttl)| CreateTtlRequest {
        path: c.path,
        data: c.data,
        acl: c.acl,
        flags: c.flags,
        ttl,
    })
}

fn path_watch() -> impl Strategy<Value = PathWatchRequest> {
    (path(), any::<bool>()).prop_map(|(path, watch)| PathWatchRequest { path, watch })
}

fn path_req() -> impl Strategy<Value = PathRequest> {
    path().prop_map(|path| PathRequest { path })
}

fn multi_op() -> impl Strategy<Value = MultiOp> {
    prop_oneof![
        create().prop_map(MultiOp::Create),
        create().prop_map(MultiOp::Create2),
        create().prop_map(MultiOp::CreateContainer),
        create_ttl().prop_map(MultiOp::CreateTtl),
        (path(), any::<i32>())
            .prop_map(|(path, version)| MultiOp::Delete(DeleteRequest { path, version })),
        (path(), data(), any::<i32>()).prop_map(|(path, data, version)| MultiOp::SetData(
            SetDataRequest {
                path,
                data,
                version
            }
        )),
        (path(), any::<i32>())
            .prop_map(|(path, version)| MultiOp::Check(CheckVersionRequest { path, version })),
        path_watch().prop_map(MultiOp::GetChildren),
        path_watch().prop_map(MultiOp::GetData),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    let set_watches = (any::<i64>(), strings(), strings(), strings()).prop_map(
        |(relative_zxid, data, exist, child)| SetWatches {
            relative_zxid,
            data,
            exist,
            child,
        },
    );
    let set_watches2 = (
        any::<i64>(),
        strings(),
        strings(),
        strings(),
        strings(),
        strings(),
    )
        .prop_map(|(z, d, e, c, p, r)| SetWatches2 {
            relative_zxid: z,
            data: d,
            exist: e,
            child: c,
            persistent: p,
            persistent_recursive: r,
        });
    prop_oneof![
        Just(Request::Ping),
        Just(Request::CloseSession),
        Just(Request::WhoAmI),
        create().prop_map(Request::Create),
        create().prop_map(Request::Create2),
        create().prop_map(Request::CreateContainer),
        create_ttl().prop_map(Request::CreateTtl),
        (path(), any::<i32>())
            .prop_map(|(path, version)| Request::Delete(DeleteRequest { path, version })),
        path_watch().prop_map(Request::Exists),
        path_watch().prop_map(Request::GetData),
        (path(), data(), any::<i32>()).prop_map(|(path, data, version)| Request::SetData(
            SetDataRequest {
                path,
                data,
                version
            }
        )),
        path_req().prop_map(Request::GetAcl),
        (path(), acl(), any::<i32>())
            .prop_map(|(path, acl, version)| Request::SetAcl(SetAclRequest { path, acl, version })),
        path_watch().prop_map(Request::GetChildren),
        path_watch().prop_map(Request::GetChildren2),
        path_req().prop_map(Request::Sync),
        (path(), any::<i32>())
            .prop_map(|(path, version)| Request::Check(CheckVersionRequest { path, version })),
        proptest::collection::vec(multi_op(), 0..4).prop_map(Request::Multi),
        proptest::collection::vec(multi_op(), 0..4).prop_map(Request::MultiRead),
        set_watches.prop_map(Request::SetWatches),
        set_watches2.prop_map(Request::SetWatches2),
        (path(), any::<i32>()).prop_map(|(path, watcher_type)| Request::CheckWatches(
            WatchesRequest { path, watcher_type }
        )),
        (path(), any::<i32>()).prop_map(|(path, watcher_type)| Request::RemoveWatches(
            WatchesRequest { path, watcher_type }
        )),
        (path(), any::<i32>())
            .prop_map(|(path, mode)| Request::AddWatch(AddWatchRequest { path, mode })),
        path_req().prop_map(Request::GetEphemerals),
        path_req().prop_map(Request::GetAllChildrenNumber),
        ("[a-z]{0,8}", data()).prop_map(|(scheme, auth)| Request::Auth(AuthPacket {
            auth_type: 0,
            scheme,
            auth
        })),
    ]
}

fn multi_result() -> impl Strategy<Value = MultiResult> {
    prop_oneof![
        path().prop_map(MultiResult::Create),
        (path(), stat()).prop_map(|(path, stat)| MultiResult::Create2 { path, stat }),
        Just(MultiResult::Delete),
        stat().prop_map(MultiResult::SetData),
        Just(MultiResult::Check),
        strings().prop_map(MultiResult::GetChildren),
        (data(), stat()).prop_map(|(data, stat)| MultiResult::GetData { data, stat }),
        any::<i32>().prop_map(MultiResult::Error),
    ]
}

/// A response together with an opcode whose reply has that shape.
fn response() -> impl Strategy<Value = (OpCode, Response)> {
    prop_oneof![
        Just((OpCode::Delete, Response::Empty)),
        path().prop_map(|p| (OpCode::Create, Response::Create(p))),
        (path(), stat())
            .prop_map(|(path, stat)| (OpCode::Create2, Response::Create2 { path, stat })),
        stat().prop_map(|s| (OpCode::Exists, Response::Stat(s))),
        (data(), stat())
            .prop_map(|(data, stat)| (OpCode::GetData, Response::GetData { data, stat })),
        (acl(), stat()).prop_map(|(acl, stat)| (OpCode::GetAcl, Response::GetAcl { acl, stat })),
        strings().prop_map(|c| (OpCode::GetChildren, Response::GetChildren(c))),
        (strings(), stat()).prop_map(|(children, stat)| (
            OpCode::GetChildren2,
            Response::GetChildren2 { children, stat }
        )),
        path().prop_map(|p| (OpCode::Sync, Response::Sync(p))),
        proptest::collection::vec(multi_result(), 0..4)
            .prop_map(|r| (OpCode::Multi, Response::Multi(r))),
        Just((OpCode::AddWatch, Response::AddWatch)),
        strings().prop_map(|c| (OpCode::GetEphemerals, Response::GetEphemerals(c))),
        any::<i32>().prop_map(|n| (OpCode::GetAllChildrenNumber, Response::AllChildrenNumber(n))),
        proptest::collection::vec(
            ("[a-z]{0,4}", "[a-z]{0,4}")
                .prop_map(|(auth_scheme, user)| ClientInfo { auth_scheme, user }),
            0..3
        )
        .prop_map(|v| (OpCode::WhoAmI, Response::WhoAmI(v))),
    ]
}

proptest! {
    #[test]
    fn every_request_round_trips_through_a_frame(req in request(), xid in any::<i32>()) {
        let mut out = Vec::new();
        write_request(&mut out, xid, &req);
        let mut d = FrameDecoder::default();
        d.push(&out);
        let payload = d.next_frame().unwrap().unwrap();
        let (h, back) = decode_request_default(payload).unwrap();
        prop_assert_eq!(h.xid, xid);
        prop_assert_eq!(h.op, req.op() as i32);
        prop_assert_eq!(back, req);
        prop_assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn every_response_round_trips_through_a_frame((op, resp) in response(), zxid in any::<i64>()) {
        let mut out = Vec::new();
        let header = ReplyHeader { xid: 5, zxid, err: 0 };
        write_reply(&mut out, header, &resp);
        let mut d = FrameDecoder::default();
        d.push(&out);
        let payload = d.next_frame().unwrap().unwrap();
        let mut r = Reader::new(payload);
        prop_assert_eq!(r.record::<ReplyHeader>().unwrap(), header);
        prop_assert_eq!(Response::read(op, &mut r).unwrap(), resp);
        prop_assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn every_response_decodes_as_the_reply_to_its_opcode((op, resp) in response(), zxid in any::<i64>()) {
        let mut out = Vec::new();
        let header = ReplyHeader { xid: 5, zxid, err: 0 };
        write_reply(&mut out, header, &resp);
        let reply = decode_reply(&out[4..], DEFAULT_MAX_BUFFER, |xid| (xid == 5).then_some(op));
        prop_assert_eq!(reply, Ok(Reply::Answer { header, body: Some(resp) }));
    }

    #[test]
    fn connect_records_round_trip(
        to in any::<i32>(), sid in any::<i64>(), z in any::<i64>(),
        pw in proptest::collection::vec(any::<u8>(), 0..20), ro in any::<bool>(), legacy in any::<bool>()
    ) {
        let req = ConnectRequest {
            protocol_version: 0, last_zxid_seen: z, timeout_ms: to, session_id: sid,
            password: pw.clone(), read_only: ro && !legacy, legacy,
        };
        prop_assert_eq!(ConnectRequest::from_bytes(&req.to_bytes()).unwrap(), req);
        let resp = ConnectResponse {
            protocol_version: 0, timeout_ms: to, session_id: sid, password: pw,
            read_only: ro && !legacy, legacy,
        };
        prop_assert_eq!(ConnectResponse::from_bytes(&resp.to_bytes()).unwrap(), resp);
    }

    #[test]
    fn random_bytes_never_panic_any_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256), op in -12i32..110) {
        let _ = decode_request(&bytes, 64);
        let _ = Request::read(op, &mut Reader::with_max(&bytes, 64));
        let _ = ConnectRequest::from_bytes(&bytes);
        let _ = ConnectResponse::from_bytes(&bytes);
        let _ = WatcherEvent::from_bytes(&bytes);
        let _ = ReplyHeader::from_bytes(&bytes);
        let _ = decode_reply(&bytes, 64, |_| OpCode::from_code(op));
        if let Some(code) = OpCode::from_code(op) {
            let _ = Response::read(code, &mut Reader::new(&bytes));
        }
        let mut d = FrameDecoder::new(64);
        d.push(&bytes);
        while let Ok(Some(frame)) = d.next_frame() {
            prop_assert!(frame.len() <= 64);
        }
    }

    #[test]
    fn mutated_requests_never_panic(req in request(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut out = Vec::new();
        write_request(&mut out, 1, &req);
        let mut payload = out[4..].to_vec();
        for (at, b) in flips {
            if !payload.is_empty() {
                let i = at % payload.len();
                payload[i] = b;
            }
        }
        let _ = decode_request_default(&payload);
    }
}

#[test]
fn for_each_path_mut_reaches_every_path_of_a_request() {
    let mut multi = Request::Multi(vec![
        MultiOp::create(
            "/a",
            vec![],
            vec![Acl::world_anyone()],
            CreateMode::Container,
        ),
        MultiOp::check("/b", 1),
    ]);
    multi.for_each_path_mut(|p| p.insert_str(0, "/root"));
    let paths: Vec<&str> = match &multi {
        Request::Multi(ops) => ops.iter().map(MultiOp::path).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(paths, ["/root/a", "/root/b"]);
    let mut watches = Request::SetWatches(SetWatches {
        relative_zxid: 3,
        data: vec!["/d".into()],
        exist: vec!["/e".into()],
        child: vec!["/c".into()],
    });
    let mut seen = Vec::new();
    watches.for_each_path_mut(|p| seen.push(p.clone()));
    assert_eq!(seen, ["/d", "/e", "/c"]);
}

#[test]
fn decode_reply_reads_notifications_answers_and_error_answers() {
    let mut bytes = Vec::new();
    let event = WatcherEvent {
        event_type: EventType::NodeCreated,
        state: KeeperState::SyncConnected,
        path: "/n".into(),
    };
    write_notification(&mut bytes, 9, &event);
    assert_eq!(
        decode_reply(&bytes[4..], DEFAULT_MAX_BUFFER, |_| unreachable!()),
        Ok(Reply::Notification { zxid: 9, event })
    );
    let header = |err| ReplyHeader {
        xid: 5,
        zxid: 2,
        err,
    };
    let mut bytes = Vec::new();
    write_reply(&mut bytes, header(0), &Response::Sync("/s".into()));
    assert_eq!(
        decode_reply(&bytes[4..], DEFAULT_MAX_BUFFER, |xid| {
            assert_eq!(xid, 5);
            Some(OpCode::Sync)
        }),
        Ok(Reply::Answer {
            header: header(0),
            body: Some(Response::Sync("/s".into()))
        })
    );
    let mut bytes = Vec::new();
    let no_node = ErrorCode::NoNode.code();
    write_reply(&mut bytes, header(no_node), &Response::Empty);
    assert_eq!(
        decode_reply(&bytes[4..], DEFAULT_MAX_BUFFER, |_| Some(OpCode::Sync)),
        Ok(Reply::Answer {
            header: header(no_node),
            body: None
        })
    );
}
