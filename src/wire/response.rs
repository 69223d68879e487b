//! Responses as a typed enum: encoded by the server, decoded by a client that knows which
//! opcode it asked.
//!
//! Owns: [`Response`], [`MultiResult`], [`Reply`] and [`decode_reply`] (a client's side),
//! [`write_reply`], [`write_notification`] and [`write_connect_response`] (a server's).
//!
//! Must never: do I/O or panic on any input.

use super::frame::write_frame;
use super::jute::{DecodeError, Reader, Writer};
use super::records::{read_acl_vec, write_acl_vec, ClientInfo};
use super::request::MultiHeader;
use super::session::{xid, ConnectResponse, ReplyHeader, WatcherEvent};
use super::{Acl, ErrorCode, OpCode, Stat};

/// One result of a multi (or multiRead).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MultiResult {
    /// A create: the created path.
    Create(String),
    /// A create2, createContainer or createTTL: the created path and its Stat.
    Create2 {
        /// The created path.
        path: String,
        /// Its Stat.
        stat: Stat,
    },
    /// A delete.
    Delete,
    /// A setData: the new Stat.
    SetData(Stat),
    /// A check.
    Check,
    /// A getChildren (multiRead).
    GetChildren(Vec<String>),
    /// A getData (multiRead).
    GetData {
        /// The data.
        data: Vec<u8>,
        /// Its Stat.
        stat: Stat,
    },
    /// A failed (or rolled back) operation with its error code.
    Error(i32),
}

impl MultiResult {
    /// The result for an error code.
    pub fn error(code: ErrorCode) -> MultiResult {
        MultiResult::Error(code.code())
    }

    /// The error this result carries, if it is an error result (`Ok` for ops before a
    /// failed one); a code this crate does not know reads as `SystemError`.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            MultiResult::Error(c) => {
                Some(ErrorCode::from_code(*c).unwrap_or(ErrorCode::SystemError))
            }
            _ => None,
        }
    }

    fn header(&self) -> MultiHeader {
        let (op, err) = match self {
            MultiResult::Create(_) => (OpCode::Create as i32, 0),
            MultiResult::Create2 { .. } => (OpCode::Create2 as i32, 0),
            MultiResult::Delete => (OpCode::Delete as i32, 0),
            MultiResult::SetData(_) => (OpCode::SetData as i32, 0),
            MultiResult::Check => (OpCode::Check as i32, 0),
            MultiResult::GetChildren(_) => (OpCode::GetChildren as i32, 0),
            MultiResult::GetData { .. } => (OpCode::GetData as i32, 0),
            MultiResult::Error(e) => (OpCode::Error as i32, *e),
        };
        MultiHeader {
            op,
            done: false,
            err,
        }
    }

    fn write_body(&self, w: &mut Writer<'_>) {
        match self {
            MultiResult::Create(p) => w.ustring(p),
            MultiResult::Create2 { path, stat } => {
                w.ustring(path);
                w.record(stat);
            }
            MultiResult::Delete | MultiResult::Check => {}
            MultiResult::SetData(s) => w.record(s),
            MultiResult::GetChildren(c) => w.strings(c),
            MultiResult::GetData { data, stat } => {
                w.buffer(data);
                w.record(stat);
            }
            MultiResult::Error(e) => w.int(*e),
        }
    }

    fn read_body(h: MultiHeader, r: &mut Reader<'_>) -> Result<MultiResult, DecodeError> {
        Ok(match OpCode::from_code(h.op) {
            Some(OpCode::Create) => MultiResult::Create(r.ustring()?),
            Some(OpCode::Create2) | Some(OpCode::CreateContainer) | Some(OpCode::CreateTtl) => {
                MultiResult::Create2 {
                    path: r.ustring()?,
                    stat: r.record()?,
                }
            }
            Some(OpCode::Delete) => MultiResult::Delete,
            Some(OpCode::SetData) => MultiResult::SetData(r.record()?),
            Some(OpCode::Check) => MultiResult::Check,
            Some(OpCode::GetChildren) => MultiResult::GetChildren(r.strings()?),
            Some(OpCode::GetData) => MultiResult::GetData {
                data: r.buffer()?,
                stat: r.record()?,
            },
            Some(OpCode::Error) => MultiResult::Error(r.int()?),
            _ => return Err(DecodeError::BadMultiOp(h.op)),
        })
    }
}

/// A reply body (after a [`ReplyHeader`] whose `err` is 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Response {
    /// No body: ping, closeSession, delete, setWatches(2), check/removeWatches, auth, and
    /// every reply whose header carries an error.
    Empty,
    /// create: the created path.
    Create(String),
    /// create2, createContainer, createTTL.
    Create2 {
        /// The created path.
        path: String,
        /// Its Stat.
        stat: Stat,
    },
    /// exists, setData, setACL: a Stat.
    Stat(Stat),
    /// getData.
    GetData {
        /// The data.
        data: Vec<u8>,
        /// Its Stat.
        stat: Stat,
    },
    /// getACL.
    GetAcl {
        /// The ACL.
        acl: Vec<Acl>,
        /// Its Stat.
        stat: Stat,
    },
    /// getChildren.
    GetChildren(Vec<String>),
    /// getChildren2.
    GetChildren2 {
        /// The children's names.
        children: Vec<String>,
        /// The parent's Stat.
        stat: Stat,
    },
    /// sync: the path.
    Sync(String),
    /// multi and multiRead.
    Multi(Vec<MultiResult>),
    /// addWatch: ZooKeeper answers with `ErrorResponse{0}`, a 4-byte body.
    AddWatch,
    /// getEphemerals.
    GetEphemerals(Vec<String>),
    /// getAllChildrenNumber.
    AllChildrenNumber(i32),
    /// whoAmI.
    WhoAmI(Vec<ClientInfo>),
}

impl Response {
    /// Appends the body.
    pub fn write(&self, w: &mut Writer<'_>) {
        match self {
            Response::Empty => {}
            Response::Create(p) | Response::Sync(p) => w.ustring(p),
            Response::Create2 { path, stat } => {
                w.ustring(path);
                w.record(stat);
            }
            Response::Stat(s) => w.record(s),
            Response::GetData { data, stat } => {
                w.buffer(data);
                w.record(stat);
            }
            Response::GetAcl { acl, stat } => {
                write_acl_vec(w, acl);
                w.record(stat);
            }
            Response::GetChildren(c) | Response::GetEphemerals(c) => w.strings(c),
            Response::GetChildren2 { children, stat } => {
                w.strings(children);
                w.record(stat);
            }
            Response::Multi(results) => {
                for res in results {
                    w.record(&res.header());
                    res.write_body(w);
                }
                w.record(&MultiHeader::END);
            }
            Response::AddWatch => w.int(0),
            Response::AllChildrenNumber(n) => w.int(*n),
            Response::WhoAmI(infos) => w.vector(infos, |w, i| w.record(i)),
        }
    }

    /// Decodes the body of a successful reply to a request with opcode `op`.
    pub fn read(op: OpCode, r: &mut Reader<'_>) -> Result<Response, DecodeError> {
        use OpCode::*;
        Ok(match op {
            Create => Response::Create(r.ustring()?),
            Create2 | CreateContainer | CreateTtl => Response::Create2 {
                path: r.ustring()?,
                stat: r.record()?,
            },
            Exists | SetData | SetAcl => Response::Stat(r.record()?),
            GetData | Reconfig => Response::GetData {
                data: r.buffer()?,
                stat: r.record()?,
            },
            GetAcl => Response::GetAcl {
                acl: read_acl_vec(r)?,
                stat: r.record()?,
            },
            GetChildren => Response::GetChildren(r.strings()?),
            GetChildren2 => Response::GetChildren2 {
                children: r.strings()?,
                stat: r.record()?,
            },
            Sync => Response::Sync(r.ustring()?),
            Multi | MultiRead => {
                let mut results = Vec::new();
                loop {
                    let h: MultiHeader = r.record()?;
                    if h.done {
                        break;
                    }
                    results.push(MultiResult::read_body(h, r)?);
                }
                Response::Multi(results)
            }
            AddWatch => {
                r.int()?;
                Response::AddWatch
            }
            GetEphemerals => Response::GetEphemerals(r.strings()?),
            GetAllChildrenNumber => Response::AllChildrenNumber(r.int()?),
            WhoAmI => Response::WhoAmI(r.vector(8, |r| r.record())?),
            Notification | Delete | Ping | Check | CheckWatches | RemoveWatches
            | DeleteContainer | Auth | SetWatches | SetWatches2 | Sasl | CreateSession
            | CloseSession | Error => Response::Empty,
        })
    }
}

/// A frame from the server after the handshake, as a client reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reply {
    /// A watch notification (xid −1).
    Notification {
        /// The zxid of the txn that fired it (−1 for events of setWatches).
        zxid: i64,
        /// The event.
        event: WatcherEvent,
    },
    /// The answer to a request (or to a ping, xid −2, or an auth, xid −4).
    Answer {
        /// The header: xid, the server's last zxid, the error code.
        header: ReplyHeader,
        /// The body, when the header carries no error and the request's opcode is known.
        body: Option<Response>,
    },
}

/// Decodes a server frame's payload (not the handshake's): a notification, or an answer
/// whose body is read as the reply to the opcode `expected` gives for its xid. Strings
/// and buffers longer than `max_buffer` are refused.
pub fn decode_reply(
    payload: &[u8],
    max_buffer: usize,
    expected: impl FnOnce(i32) -> Option<OpCode>,
) -> Result<Reply, DecodeError> {
    let mut r = Reader::with_max(payload, max_buffer);
    let header: ReplyHeader = r.record()?;
    if header.xid == xid::NOTIFICATION {
        return Ok(Reply::Notification {
            zxid: header.zxid,
            event: r.record()?,
        });
    }
    let body = match (header.err, expected(header.xid)) {
        (0, Some(op)) => Some(Response::read(op, &mut r)?),
        _ => None,
    };
    Ok(Reply::Answer { header, body })
}

/// Appends a reply frame: the header, then `body` unless the header carries an error.
pub fn write_reply(out: &mut Vec<u8>, header: ReplyHeader, body: &Response) {
    write_frame(out, |w| {
        w.record(&header);
        if header.err == 0 {
            body.write(w);
        }
    });
}

/// Appends a watch notification frame (xid −1).
pub fn write_notification(out: &mut Vec<u8>, zxid: i64, event: &WatcherEvent) {
    write_frame(out, |w| {
        w.record(&ReplyHeader {
            xid: xid::NOTIFICATION,
            zxid,
            err: 0,
        });
        w.record(event);
    });
}

/// Appends a ConnectResponse frame.
pub fn write_connect_response(out: &mut Vec<u8>, resp: &ConnectResponse) {
    write_frame(out, |w| w.record(resp));
}
