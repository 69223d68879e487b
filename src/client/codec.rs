//! Adapter between the session's typed frames and the wire codec's records.
//!
//! Owns: mapping [`Outgoing`] to request bytes and reply bytes to [`Incoming`], using
//! only the records of [`crate::wire`].
//!
//! Must never: define byte layouts of its own (the wire codec owns them) or keep state.

use crate::wire::{
    self, write_frame, write_request, AuthPacket, CheckVersionRequest, CreateMode, CreateRequest,
    CreateTtlRequest, DecodeError, DeleteRequest, ErrorCode, OpCode, PathRequest, PathWatchRequest,
    Reader, ReplyHeader, SetDataRequest, WatcherEvent,
};

use super::ops::{ConnectResponse, Incoming, MultiOp, MultiResult, Outgoing, Request, Response};

/// A frame that could not be decoded; the connection is then dropped.
pub type CodecError = DecodeError;

/// The bytes of one frame (length prefix included).
pub fn encode_frame(frame: &Outgoing) -> Vec<u8> {
    let mut out = Vec::new();
    match frame {
        Outgoing::Connect(c) => {
            let req = wire::ConnectRequest {
                protocol_version: c.protocol_version,
                last_zxid_seen: c.last_zxid_seen,
                timeout_ms: c.timeout,
                session_id: c.session_id,
                password: c.passwd.clone(),
                read_only: c.read_only,
                legacy: false,
            };
            write_frame(&mut out, |w| w.record(&req));
        }
        Outgoing::Request { xid, request } => write_request(&mut out, *xid, &to_wire(request)),
    }
    out
}

fn create(path: &str, data: &[u8], acl: &[wire::Acl], mode: wire::CreateMode) -> CreateRequest {
    CreateRequest {
        path: path.to_string(),
        data: data.to_vec(),
        acl: acl.to_vec(),
        flags: mode as i32,
    }
}

fn to_wire(req: &Request) -> wire::Request {
    let pw = |path: &str, watch: bool| PathWatchRequest {
        path: path.to_string(),
        watch,
    };
    match req {
        Request::Create {
            path,
            data,
            acl,
            mode: mode @ CreateMode::Container,
        } => wire::Request::CreateContainer(create(path, data, acl, *mode)),
        Request::Create {
            path,
            data,
            acl,
            mode,
        } => wire::Request::Create(create(path, data, acl, *mode)),
        Request::CreateTtl {
            path,
            data,
            acl,
            mode,
            ttl,
        } => wire::Request::CreateTtl(CreateTtlRequest {
            path: path.clone(),
            data: data.clone(),
            acl: acl.clone(),
            flags: *mode as i32,
            ttl: *ttl,
        }),
        Request::Delete { path, version } => wire::Request::Delete(DeleteRequest {
            path: path.clone(),
            version: *version,
        }),
        Request::Exists { path, watch } => wire::Request::Exists(pw(path, *watch)),
        Request::GetData { path, watch } => wire::Request::GetData(pw(path, *watch)),
        Request::GetChildren { path, watch } => wire::Request::GetChildren(pw(path, *watch)),
        Request::SetData {
            path,
            data,
            version,
        } => wire::Request::SetData(SetDataRequest {
            path: path.clone(),
            data: data.clone(),
            version: *version,
        }),
        Request::Sync { path } => wire::Request::Sync(PathRequest { path: path.clone() }),
        Request::Multi(ops) => wire::Request::Multi(
            ops.iter()
                .map(|op| match op {
                    MultiOp::Create {
                        path,
                        data,
                        acl,
                        mode: mode @ CreateMode::Container,
                    } => wire::MultiOp::CreateContainer(create(path, data, acl, *mode)),
                    MultiOp::Create {
                        path,
                        data,
                        acl,
                        mode,
                    } => wire::MultiOp::Create(create(path, data, acl, *mode)),
                    MultiOp::Delete { path, version } => wire::MultiOp::Delete(DeleteRequest {
                        path: path.clone(),
                        version: *version,
                    }),
                    MultiOp::SetData {
                        path,
                        data,
                        version,
                    } => wire::MultiOp::SetData(SetDataRequest {
                        path: path.clone(),
                        data: data.clone(),
                        version: *version,
                    }),
                    MultiOp::Check { path, version } => wire::MultiOp::Check(CheckVersionRequest {
                        path: path.clone(),
                        version: *version,
                    }),
                })
                .collect(),
        ),
        Request::CloseSession => wire::Request::CloseSession,
        Request::Ping => wire::Request::Ping,
        Request::SetWatches {
            relative_zxid,
            data,
            exist,
            child,
        } => wire::Request::SetWatches(wire::SetWatches {
            relative_zxid: *relative_zxid,
            data: data.clone(),
            exist: exist.clone(),
            child: child.clone(),
        }),
        Request::Auth { scheme, auth } => wire::Request::Auth(AuthPacket {
            auth_type: 0,
            scheme: scheme.clone(),
            auth: auth.clone(),
        }),
    }
}

/// Decodes one frame's payload. `handshake` is true for the reply to the ConnectRequest;
/// `expected` gives the opcode a reply xid answers, to pick the body's record.
pub fn decode_frame(
    payload: &[u8],
    handshake: bool,
    expected: &dyn Fn(i32) -> Option<OpCode>,
) -> Result<Incoming, CodecError> {
    let mut r = Reader::with_max(payload, super::conn::MAX_FRAME);
    if handshake {
        let c: wire::ConnectResponse = r.record()?;
        return Ok(Incoming::Connect(ConnectResponse {
            protocol_version: c.protocol_version,
            timeout: c.timeout_ms,
            session_id: c.session_id,
            passwd: c.password,
            read_only: c.read_only,
        }));
    }
    let h: ReplyHeader = r.record()?;
    if h.xid == wire::xid::NOTIFICATION {
        let e: WatcherEvent = r.record()?;
        return Ok(Incoming::Notification {
            zxid: h.zxid,
            event_type: e.event_type,
            state: e.state,
            path: e.path,
        });
    }
    let body = match (h.err, expected(h.xid)) {
        (0, Some(op)) => Some(from_wire(wire::Response::read(op, &mut r)?)),
        _ => None,
    };
    Ok(Incoming::Reply {
        xid: h.xid,
        zxid: h.zxid,
        err: h.err,
        body,
    })
}

fn code(c: i32) -> ErrorCode {
    ErrorCode::from_code(c).unwrap_or(ErrorCode::SystemError)
}

fn from_wire(resp: wire::Response) -> Response {
    match resp {
        wire::Response::Create(path) | wire::Response::Create2 { path, .. } => {
            Response::Create { path }
        }
        wire::Response::Stat(s) => Response::Stat(s),
        wire::Response::GetData { data, stat } => Response::Data {
            data: Some(data),
            stat,
        },
        wire::Response::GetChildren(c) => Response::Children(c),
        wire::Response::GetChildren2 { children, .. } => Response::Children(children),
        wire::Response::Sync(path) => Response::Sync { path },
        wire::Response::Multi(results) => Response::Multi(
            results
                .into_iter()
                .map(|r| match r {
                    wire::MultiResult::Create(path) | wire::MultiResult::Create2 { path, .. } => {
                        MultiResult::Create { path }
                    }
                    wire::MultiResult::Delete => MultiResult::Delete,
                    wire::MultiResult::SetData(stat) => MultiResult::SetData { stat },
                    wire::MultiResult::Check => MultiResult::Check,
                    wire::MultiResult::Error(c) => MultiResult::Error(code(c)),
                    _ => MultiResult::Error(ErrorCode::Unimplemented),
                })
                .collect(),
        ),
        _ => Response::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ops::ConnectRequest;
    use super::*;
    use crate::wire::{Acl, EventType, KeeperState};

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn connect_request_matches_the_spec_vector() {
        let bytes = encode_frame(&Outgoing::Connect(ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout: 30_000,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: false,
        }));
        assert_eq!(
            &bytes[4..],
            hex("00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000 00")
        );
        assert_eq!(&bytes[..4], &45u32.to_be_bytes());
    }

    #[test]
    fn ping_and_create_match_the_spec_vectors() {
        let ping = encode_frame(&Outgoing::Request {
            xid: -2,
            request: Request::Ping,
        });
        assert_eq!(&ping[4..], hex("fffffffe 0000000b"));
        let create = encode_frame(&Outgoing::Request {
            xid: 1,
            request: Request::Create {
                path: "/foo".into(),
                data: b"bar".to_vec(),
                acl: vec![Acl::world_anyone()],
                mode: CreateMode::Ephemeral,
            },
        });
        assert_eq!(
            &create[12..],
            hex("00000004 2f666f6f 00000003 626172 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000001")
        );
    }

    #[test]
    fn container_and_ttl_modes_use_their_opcodes() {
        let frame = |request| encode_frame(&Outgoing::Request { xid: 1, request });
        let op = |bytes: &[u8]| i32::from_be_bytes(bytes[8..12].try_into().unwrap());
        let container = frame(Request::Create {
            path: "/c".into(),
            data: vec![],
            acl: vec![Acl::world_anyone()],
            mode: CreateMode::Container,
        });
        assert_eq!(op(&container), OpCode::CreateContainer as i32);
        let ttl = frame(Request::CreateTtl {
            path: "/t".into(),
            data: vec![],
            acl: vec![Acl::world_anyone()],
            mode: CreateMode::PersistentWithTtl,
            ttl: 5_000,
        });
        assert_eq!(op(&ttl), OpCode::CreateTtl as i32);
        assert_eq!(&ttl[ttl.len() - 8..], &5_000i64.to_be_bytes());
    }

    #[test]
    fn connect_response_decodes_including_expired() {
        let ok =
            hex("00000000 00007530 01869f5b2c3d0000 00000010 99544121b2ac73529f3f81404b3967b4 00");
        match decode_frame(&ok, true, &|_| None).unwrap() {
            Incoming::Connect(c) => {
                assert_eq!(c.timeout, 30_000);
                assert_eq!(c.session_id, 0x01869f5b2c3d0000);
                assert!(!c.read_only);
            }
            other => panic!("{other:?}"),
        }
        let expired =
            hex("00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000 00");
        match decode_frame(&expired, true, &|_| None).unwrap() {
            Incoming::Connect(c) => assert_eq!(c.timeout, 0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn notification_decodes() {
        let bytes = hex("ffffffff ffffffffffffffff 00000000 00000002 00000003 00000004 2f666f6f");
        assert_eq!(
            decode_frame(&bytes, false, &|_| None).unwrap(),
            Incoming::Notification {
                zxid: -1,
                event_type: EventType::NodeDeleted,
                state: KeeperState::SyncConnected,
                path: "/foo".into(),
            }
        );
    }

    #[test]
    fn error_reply_has_no_body() {
        let bytes = hex("00000001 0000000000000005 ffffff9b");
        assert_eq!(
            decode_frame(&bytes, false, &|_| Some(OpCode::GetData)).unwrap(),
            Incoming::Reply {
                xid: 1,
                zxid: 5,
                err: -101,
                body: None
            }
        );
    }

    #[test]
    fn truncated_reply_is_an_error() {
        assert!(decode_frame(&hex("00000001 00"), false, &|_| None).is_err());
    }
}
