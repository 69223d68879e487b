//! Requests as a typed enum: decoded by opcode on the server, encoded by a client.
//!
//! Owns: [`Request`], [`MultiOp`], [`MultiHeader`], [`decode_request`] and
//! [`write_request`].
//!
//! Must never: do I/O, judge a request's meaning (paths, versions, modes are the
//! server's business), or panic on any input.

use super::jute::{DecodeError, Reader, Record, Writer, DEFAULT_MAX_BUFFER};
use super::records::{
    AddWatchRequest, CheckVersionRequest, CreateRequest, CreateTtlRequest, DeleteRequest,
    PathRequest, PathWatchRequest, SetAclRequest, SetDataRequest, SetWatches, SetWatches2,
    WatchesRequest,
};
use super::session::{AuthPacket, RequestHeader};
use super::{frame::write_frame, Acl, CreateMode, OpCode};

/// Precedes each operation and each result inside a multi; `done = true` ends the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MultiHeader {
    /// The operation's opcode (−1 for an error result or the end marker).
    pub op: i32,
    /// Whether this is the end marker.
    pub done: bool,
    /// The result's error code (−1 in requests).
    pub err: i32,
}

impl MultiHeader {
    /// The end marker `{-1, true, -1}`.
    pub const END: MultiHeader = MultiHeader {
        op: -1,
        done: true,
        err: -1,
    };
}

impl Record for MultiHeader {
    fn write(&self, w: &mut Writer<'_>) {
        w.int(self.op);
        w.boolean(self.done);
        w.int(self.err);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MultiHeader {
            op: r.int()?,
            done: r.boolean()?,
            err: r.int()?,
        })
    }
}

/// One operation of a multi (or multiRead).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum MultiOp {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    GetChildren(PathWatchRequest),
    GetData(PathWatchRequest),
}

impl MultiOp {
    /// A create with `mode`: createContainer for [`CreateMode::Container`], plain create
    /// (answered with the path only) otherwise, as [`Request::create`].
    pub fn create(
        path: impl Into<String>,
        data: impl Into<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    ) -> MultiOp {
        match Request::create(path, data, acl, mode) {
            Request::CreateContainer(c) => MultiOp::CreateContainer(c),
            Request::Create(c) => MultiOp::Create(c),
            other => unreachable!("Request::create made {:?}", other.op()),
        }
    }

    /// A delete with an expected version (−1 = any).
    pub fn delete(path: impl Into<String>, version: i32) -> MultiOp {
        MultiOp::Delete(DeleteRequest {
            path: path.into(),
            version,
        })
    }

    /// A setData with an expected version (−1 = any).
    pub fn set_data(path: impl Into<String>, data: impl Into<Vec<u8>>, version: i32) -> MultiOp {
        MultiOp::SetData(SetDataRequest {
            path: path.into(),
            data: data.into(),
            version,
        })
    }

    /// A version check (−1 = the node exists).
    pub fn check(path: impl Into<String>, version: i32) -> MultiOp {
        MultiOp::Check(CheckVersionRequest {
            path: path.into(),
            version,
        })
    }

    /// The operation's opcode.
    pub fn op(&self) -> OpCode {
        match self {
            MultiOp::Create(_) => OpCode::Create,
            MultiOp::Create2(_) => OpCode::Create2,
            MultiOp::CreateContainer(_) => OpCode::CreateContainer,
            MultiOp::CreateTtl(_) => OpCode::CreateTtl,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
            MultiOp::GetData(_) => OpCode::GetData,
        }
    }

    /// The path the operation names.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => &c.path,
            MultiOp::CreateTtl(c) => &c.path,
            MultiOp::Delete(d) => &d.path,
            MultiOp::SetData(s) => &s.path,
            MultiOp::Check(c) => &c.path,
            MultiOp::GetChildren(p) | MultiOp::GetData(p) => &p.path,
        }
    }

    /// The path the operation names, to rewrite it (a client's chroot).
    pub fn path_mut(&mut self) -> &mut String {
        match self {
            MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => &mut c.path,
            MultiOp::CreateTtl(c) => &mut c.path,
            MultiOp::Delete(d) => &mut d.path,
            MultiOp::SetData(s) => &mut s.path,
            MultiOp::Check(c) => &mut c.path,
            MultiOp::GetChildren(p) | MultiOp::GetData(p) => &mut p.path,
        }
    }

    fn write_body(&self, w: &mut Writer<'_>) {
        match self {
            MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => w.record(c),
            MultiOp::CreateTtl(c) => w.record(c),
            MultiOp::Delete(d) => w.record(d),
            MultiOp::SetData(s) => w.record(s),
            MultiOp::Check(c) => w.record(c),
            MultiOp::GetChildren(p) | MultiOp::GetData(p) => w.record(p),
        }
    }

    fn read_body(op: i32, r: &mut Reader<'_>) -> Result<MultiOp, DecodeError> {
        Ok(match OpCode::from_code(op) {
            Some(OpCode::Create) => MultiOp::Create(r.record()?),
            Some(OpCode::Create2) => MultiOp::Create2(r.record()?),
            Some(OpCode::CreateContainer) => MultiOp::CreateContainer(r.record()?),
            Some(OpCode::CreateTtl) => MultiOp::CreateTtl(r.record()?),
            Some(OpCode::Delete) => MultiOp::Delete(r.record()?),
            Some(OpCode::SetData) => MultiOp::SetData(r.record()?),
            Some(OpCode::Check) => MultiOp::Check(r.record()?),
            Some(OpCode::GetChildren) => MultiOp::GetChildren(r.record()?),
            Some(OpCode::GetData) => MultiOp::GetData(r.record()?),
            _ => return Err(DecodeError::BadMultiOp(op)),
        })
    }
}

/// Smallest encoding of a multi entry: its 9-byte header plus a 4-byte path length.
const MULTI_OP_MIN: usize = 13;

fn read_multi(r: &mut Reader<'_>) -> Result<Vec<MultiOp>, DecodeError> {
    let mut ops = Vec::new();
    loop {
        let h: MultiHeader = r.record()?;
        if h.done {
            return Ok(ops);
        }
        // Each op consumes at least MULTI_OP_MIN bytes, so the loop is bounded by input.
        if r.remaining() < MULTI_OP_MIN - 9 {
            return Err(DecodeError::UnexpectedEof {
                needed: MULTI_OP_MIN - 9,
                remaining: r.remaining(),
            });
        }
        ops.push(MultiOp::read_body(h.op, r)?);
    }
}

fn write_multi(w: &mut Writer<'_>, ops: &[MultiOp]) {
    for op in ops {
        w.record(&MultiHeader {
            op: op.op() as i32,
            done: false,
            err: -1,
        });
        op.write_body(w);
    }
    w.record(&MultiHeader::END);
}

/// A client request after its [`RequestHeader`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Request {
    /// A ping (xid −2), no body.
    Ping,
    /// closeSession, no body.
    CloseSession,
    /// create.
    Create(CreateRequest),
    /// create2 (the reply carries the Stat).
    Create2(CreateRequest),
    /// createContainer.
    CreateContainer(CreateRequest),
    /// createTTL.
    CreateTtl(CreateTtlRequest),
    /// delete.
    Delete(DeleteRequest),
    /// exists.
    Exists(PathWatchRequest),
    /// getData.
    GetData(PathWatchRequest),
    /// setData.
    SetData(SetDataRequest),
    /// getACL.
    GetAcl(PathRequest),
    /// setACL.
    SetAcl(SetAclRequest),
    /// getChildren.
    GetChildren(PathWatchRequest),
    /// getChildren2 (the reply carries the Stat).
    GetChildren2(PathWatchRequest),
    /// sync.
    Sync(PathRequest),
    /// check (valid only inside a multi; a top-level one is refused by the server).
    Check(CheckVersionRequest),
    /// multi (writes).
    Multi(Vec<MultiOp>),
    /// multiRead (getChildren/getData only).
    MultiRead(Vec<MultiOp>),
    /// setWatches.
    SetWatches(SetWatches),
    /// setWatches2.
    SetWatches2(SetWatches2),
    /// checkWatches.
    CheckWatches(WatchesRequest),
    /// removeWatches.
    RemoveWatches(WatchesRequest),
    /// addWatch.
    AddWatch(AddWatchRequest),
    /// getEphemerals (the path is a prefix).
    GetEphemerals(PathRequest),
    /// getAllChildrenNumber.
    GetAllChildrenNumber(PathRequest),
    /// auth (xid −4).
    Auth(AuthPacket),
    /// whoAmI, no body.
    WhoAmI,
    /// A known opcode this codec does not parse (reconfig, sasl, internal types); its
    /// body is ignored.
    Unsupported(OpCode),
}

impl Request {
    /// A create with `mode`: createContainer for [`CreateMode::Container`], plain create
    /// (answered with the path only) otherwise.
    pub fn create(
        path: impl Into<String>,
        data: impl Into<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    ) -> Request {
        let req = CreateRequest::new(path, data, acl, mode);
        if mode == CreateMode::Container {
            Request::CreateContainer(req)
        } else {
            Request::Create(req)
        }
    }

    /// Calls `f` on every znode path the request names: its own, its multi ops', and
    /// those of its watch lists (a client's chroot is applied this way).
    pub fn for_each_path_mut(&mut self, mut f: impl FnMut(&mut String)) {
        use Request::*;
        match self {
            Ping | CloseSession | WhoAmI | Auth(_) | Unsupported(_) => {}
            Create(c) | Create2(c) | CreateContainer(c) => f(&mut c.path),
            CreateTtl(c) => f(&mut c.path),
            Delete(d) => f(&mut d.path),
            Exists(p) | GetData(p) | GetChildren(p) | GetChildren2(p) => f(&mut p.path),
            SetData(s) => f(&mut s.path),
            GetAcl(p) | Sync(p) | GetEphemerals(p) | GetAllChildrenNumber(p) => f(&mut p.path),
            SetAcl(s) => f(&mut s.path),
            Check(c) => f(&mut c.path),
            Multi(ops) | MultiRead(ops) => ops.iter_mut().for_each(|op| f(op.path_mut())),
            SetWatches(s) => s
                .data
                .iter_mut()
                .chain(&mut s.exist)
                .chain(&mut s.child)
                .for_each(f),
            SetWatches2(s) => s
                .data
                .iter_mut()
                .chain(&mut s.exist)
                .chain(&mut s.child)
                .chain(&mut s.persistent)
                .chain(&mut s.persistent_recursive)
                .for_each(f),
            CheckWatches(c) | RemoveWatches(c) => f(&mut c.path),
            AddWatch(a) => f(&mut a.path),
        }
    }

    /// The request's opcode.
    pub fn op(&self) -> OpCode {
        use Request::*;
        match self {
            Ping => OpCode::Ping,
            CloseSession => OpCode::CloseSession,
            Create(_) => OpCode::Create,
            Create2(_) => OpCode::Create2,
            CreateContainer(_) => OpCode::CreateContainer,
            CreateTtl(_) => OpCode::CreateTtl,
            Delete(_) => OpCode::Delete,
            Exists(_) => OpCode::Exists,
            GetData(_) => OpCode::GetData,
            SetData(_) => OpCode::SetData,
            GetAcl(_) => OpCode::GetAcl,
            SetAcl(_) => OpCode::SetAcl,
            GetChildren(_) => OpCode::GetChildren,
            GetChildren2(_) => OpCode::GetChildren2,
            Sync(_) => OpCode::Sync,
            Check(_) => OpCode::Check,
            Multi(_) => OpCode::Multi,
            MultiRead(_) => OpCode::MultiRead,
            SetWatches(_) => OpCode::SetWatches,
            SetWatches2(_) => OpCode::SetWatches2,
            CheckWatches(_) => OpCode::CheckWatches,
            RemoveWatches(_) => OpCode::RemoveWatches,
            AddWatch(_) => OpCode::AddWatch,
            GetEphemerals(_) => OpCode::GetEphemerals,
            GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber,
            Auth(_) => OpCode::Auth,
            WhoAmI => OpCode::WhoAmI,
            Unsupported(op) => *op,
        }
    }

    /// Whether the request changes the tree (create, delete, setData, setACL, multi).
    pub fn is_write(&self) -> bool {
        use Request::*;
        matches!(
            self,
            Create(_)
                | Create2(_)
                | CreateContainer(_)
                | CreateTtl(_)
                | Delete(_)
                | SetData(_)
                | SetAcl(_)
                | Multi(_)
        )
    }

    /// Decodes the body of a request whose header carried opcode `op`.
    pub fn read(op: i32, r: &mut Reader<'_>) -> Result<Request, DecodeError> {
        let code = OpCode::from_code(op).ok_or(DecodeError::UnknownOpCode(op))?;
        Ok(match code {
            OpCode::Ping => Request::Ping,
            OpCode::CloseSession => Request::CloseSession,
            OpCode::Create => Request::Create(r.record()?),
            OpCode::Create2 => Request::Create2(r.record()?),
            OpCode::CreateContainer => Request::CreateContainer(r.record()?),
            OpCode::CreateTtl => Request::CreateTtl(r.record()?),
            OpCode::Delete => Request::Delete(r.record()?),
            OpCode::Exists => Request::Exists(r.record()?),
            OpCode::GetData => Request::GetData(r.record()?),
            OpCode::SetData => Request::SetData(r.record()?),
            OpCode::GetAcl => Request::GetAcl(r.record()?),
            OpCode::SetAcl => Request::SetAcl(r.record()?),
            OpCode::GetChildren => Request::GetChildren(r.record()?),
            OpCode::GetChildren2 => Request::GetChildren2(r.record()?),
            OpCode::Sync => Request::Sync(r.record()?),
            OpCode::Check => Request::Check(r.record()?),
            OpCode::Multi => Request::Multi(read_multi(r)?),
            OpCode::MultiRead => Request::MultiRead(read_multi(r)?),
            OpCode::SetWatches => Request::SetWatches(r.record()?),
            OpCode::SetWatches2 => Request::SetWatches2(r.record()?),
            OpCode::CheckWatches => Request::CheckWatches(r.record()?),
            OpCode::RemoveWatches => Request::RemoveWatches(r.record()?),
            OpCode::AddWatch => Request::AddWatch(r.record()?),
            OpCode::GetEphemerals => Request::GetEphemerals(r.record()?),
            OpCode::GetAllChildrenNumber => Request::GetAllChildrenNumber(r.record()?),
            OpCode::Auth => Request::Auth(r.record()?),
            OpCode::WhoAmI => Request::WhoAmI,
            other @ (OpCode::Notification
            | OpCode::Reconfig
            | OpCode::DeleteContainer
            | OpCode::Sasl
            | OpCode::CreateSession
            | OpCode::Error) => Request::Unsupported(other),
        })
    }

    /// Appends the request's body (not its header).
    pub fn write(&self, w: &mut Writer<'_>) {
        use Request::*;
        match self {
            Ping | CloseSession | WhoAmI | Unsupported(_) => {}
            Create(c) | Create2(c) | CreateContainer(c) => w.record(c),
            CreateTtl(c) => w.record(c),
            Delete(d) => w.record(d),
            Exists(p) | GetData(p) | GetChildren(p) | GetChildren2(p) => w.record(p),
            SetData(s) => w.record(s),
            GetAcl(p) | Sync(p) | GetEphemerals(p) | GetAllChildrenNumber(p) => w.record(p),
            SetAcl(s) => w.record(s),
            Check(c) => w.record(c),
            Multi(ops) | MultiRead(ops) => write_multi(w, ops),
            SetWatches(s) => w.record(s),
            SetWatches2(s) => w.record(s),
            CheckWatches(c) | RemoveWatches(c) => w.record(c),
            AddWatch(a) => w.record(a),
            Auth(a) => w.record(a),
        }
    }
}

/// Why a request payload could not be decoded. When the header was read, it is kept so
/// the server can still answer the request's xid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestDecodeError {
    /// The header, if the payload was long enough to hold one.
    pub header: Option<RequestHeader>,
    /// What went wrong.
    pub error: DecodeError,
}

impl std::fmt::Display for RequestDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.header {
            Some(h) => write!(f, "request xid {} op {}: {}", h.xid, h.op, self.error),
            None => write!(f, "request header: {}", self.error),
        }
    }
}

impl std::error::Error for RequestDecodeError {}

/// Decodes a request frame's payload (header then body), with fields limited to
/// `max_len` bytes. Trailing bytes after the body are ignored, as ZooKeeper does.
pub fn decode_request(
    payload: &[u8],
    max_len: usize,
) -> Result<(RequestHeader, Request), RequestDecodeError> {
    let mut r = Reader::with_max(payload, max_len);
    let header: RequestHeader = r.record().map_err(|error| RequestDecodeError {
        header: None,
        error,
    })?;
    let req = Request::read(header.op, &mut r).map_err(|error| RequestDecodeError {
        header: Some(header),
        error,
    })?;
    Ok((header, req))
}

/// Appends a whole request frame (length, header with `xid`, body) to `out`.
pub fn write_request(out: &mut Vec<u8>, xid: i32, req: &Request) {
    write_frame(out, |w| {
        w.record(&RequestHeader {
            xid,
            op: req.op() as i32,
        });
        req.write(w);
    });
}

/// [`decode_request`] with the default limit.
pub fn decode_request_default(
    payload: &[u8],
) -> Result<(RequestHeader, Request), RequestDecodeError> {
    decode_request(payload, DEFAULT_MAX_BUFFER)
}
