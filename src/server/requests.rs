//! Executes one decoded request of an attached session against the namespace.
//!
//! Owns: the mapping from wire [`Request`]s to namespace calls and back to [`Response`]s,
//! the session checks of writes (under the namespace lock), local-session upgrades on
//! ephemeral creates, and which requests close their connection.
//!
//! Must never: do I/O, touch the session (the caller did, before decoding), or hold the
//! namespace lock across anything but namespace calls and event routing.

use super::shared::{wall_ms, ConnShared, Shared};
use crate::engine::Error as EngineError;
use crate::namespace::{check_multi, create_mode, error_results, MultiRefusal, WatchMode};
use crate::sync::Ordering;
use crate::wire::{
    ClientInfo, CreateRequest, ErrorCode, MultiOp, OpCode, Request, Response, WatcherType,
};

/// The owner every session of this standalone server has.
const OWNER: u64 = 1;

/// What to send back for a request.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The reply's error code (`Ok` to send `body`).
    pub(crate) err: ErrorCode,
    /// The body, sent only when `err` is `Ok`.
    pub(crate) body: Response,
    /// The zxid for the reply header (the last processed zxid).
    pub(crate) zxid: i64,
    /// Close the connection once the reply is flushed.
    pub(crate) close: bool,
}

fn ok(body: Response, zxid: i64) -> Answer {
    Answer {
        err: ErrorCode::Ok,
        body,
        zxid,
        close: false,
    }
}

fn fail(err: ErrorCode, zxid: i64) -> Answer {
    Answer {
        err,
        body: Response::Empty,
        zxid,
        close: false,
    }
}

fn from_result(r: Result<Response, ErrorCode>, zxid: i64) -> Answer {
    match r {
        Ok(body) => ok(body, zxid),
        Err(e) => fail(e, zxid),
    }
}

/// Maps the engine's refusal of a session to what the client sees.
fn session_error(e: EngineError) -> ErrorCode {
    match e {
        EngineError::SessionMoved => ErrorCode::SessionMoved,
        EngineError::EphemeralOnLocalSession => ErrorCode::EphemeralOnLocalSession,
        _ => ErrorCode::SessionExpired,
    }
}

/// Upgrades a local session before its first ephemeral (ZooKeeper's
/// `checkUpgradeSession`), or refuses with `EphemeralOnLocalSession`.
fn prepare_ephemeral(shared: &Shared, session: u64) -> Result<(), ErrorCode> {
    match shared.engine.is_global(session) {
        Ok(true) => Ok(()),
        Ok(false) => shared
            .engine
            .upgrade(session)
            .map(|_| ())
            .map_err(session_error),
        Err(e) => Err(session_error(e)),
    }
}

/// Executes `req` for `session` on connection `conn`.
pub(crate) fn execute(shared: &Shared, conn: &ConnShared, session: u64, req: Request) -> Answer {
    let last = || shared.last_zxid.load(Ordering::Acquire);
    let watcher = conn.id;
    match req {
        Request::Ping => ok(Response::Empty, last()),
        Request::CloseSession => {
            let _ = shared.engine.set_closing(session);
            shared.kill_ephemerals(session);
            shared.engine.remove(session);
            shared.detach(session, conn.id);
            tracing::info!(
                session = format_args!("0x{session:x}"),
                "session closed by client"
            );
            Answer {
                close: true,
                ..ok(Response::Empty, last())
            }
        }
        Request::Create(c) => create(shared, session, OpCode::Create, c),
        Request::Create2(c) => create(shared, session, OpCode::Create2, c),
        Request::CreateContainer(c) => create(shared, session, OpCode::CreateContainer, c),
        Request::CreateTtl(_) => fail(ErrorCode::Unimplemented, last()),
        Request::Delete(d) => write(shared, session, |ns| {
            let a = ns.delete(&d.path, d.version)?;
            Ok((Response::Empty, a.notifications))
        }),
        Request::SetData(s) => write(shared, session, |ns| {
            let a = ns.set_data(&s.path, s.data, s.version, wall_ms() as i64)?;
            Ok((Response::Stat(a.value), a.notifications))
        }),
        Request::SetAcl(s) => write(shared, session, |ns| {
            let a = ns.set_acl(&s.path, &s.acl, s.version)?;
            Ok((Response::Stat(a.value), a.notifications))
        }),
        Request::Exists(p) => read(shared, |ns| {
            ns.exists(&p.path, p.watch.then_some(watcher))
                .map(Response::Stat)
        }),
        Request::GetData(p) => read(shared, |ns| {
            ns.get_data(&p.path, p.watch.then_some(watcher))
                .map(|(data, stat)| Response::GetData { data, stat })
        }),
        Request::GetChildren(p) => read(shared, |ns| {
            ns.get_children(&p.path, p.watch.then_some(watcher))
                .map(|(children, _)| Response::GetChildren(children))
        }),
        Request::GetChildren2(p) => read(shared, |ns| {
            ns.get_children(&p.path, p.watch.then_some(watcher))
                .map(|(children, stat)| Response::GetChildren2 { children, stat })
        }),
        Request::GetAcl(p) => read(shared, |ns| {
            ns.get_acl(&p.path)
                .map(|(acl, stat)| Response::GetAcl { acl, stat })
        }),
        Request::GetAllChildrenNumber(p) => read(shared, |ns| {
            ns.get_all_children_number(&p.path)
                .map(Response::AllChildrenNumber)
        }),
        Request::GetEphemerals(p) => read(shared, |ns| {
            Ok(Response::GetEphemerals(ns.get_ephemerals(session, &p.path)))
        }),
        Request::Sync(p) => read(shared, |ns| Ok(Response::Sync(ns.sync(&p.path)))),
        Request::Check(_) => Answer {
            close: true,
            ..fail(ErrorCode::Unimplemented, last())
        },
        Request::Multi(ops) => multi(shared, session, ops),
        Request::MultiRead(ops) => multi_read(shared, ops),
        Request::SetWatches(s) => read(shared, |ns| {
            let notes = ns.set_watches(
                s.relative_zxid,
                &s.data,
                &s.exist,
                &s.child,
                &[],
                &[],
                watcher,
            );
            shared.route(&notes);
            Ok(Response::Empty)
        }),
        Request::SetWatches2(s) => read(shared, |ns| {
            let notes = ns.set_watches(
                s.relative_zxid,
                &s.data,
                &s.exist,
                &s.child,
                &s.persistent,
                &s.persistent_recursive,
                watcher,
            );
            shared.route(&notes);
            Ok(Response::Empty)
        }),
        Request::CheckWatches(w) => read(shared, |ns| {
            let kind = WatcherType::from_code(w.watcher_type).ok_or(ErrorCode::BadArguments)?;
            ns.check_watches(&w.path, kind, watcher)
                .map(|_| Response::Empty)
        }),
        Request::RemoveWatches(w) => read(shared, |ns| {
            let kind = WatcherType::from_code(w.watcher_type).ok_or(ErrorCode::BadArguments)?;
            ns.remove_watches(&w.path, kind, watcher)
                .map(|_| Response::Empty)
        }),
        Request::AddWatch(a) => read(shared, |ns| {
            let mode = WatchMode::from_add_watch_mode(a.mode).ok_or(ErrorCode::BadArguments)?;
            ns.add_watch(&a.path, mode, watcher)
                .map(|_| Response::AddWatch)
        }),
        Request::WhoAmI => ok(
            Response::WhoAmI(vec![ClientInfo {
                auth_scheme: "ip".into(),
                user: conn.peer.ip().to_string(),
            }]),
            last(),
        ),
        // Auth packets are answered by the connection before the session is touched.
        Request::Auth(_) => ok(Response::Empty, last()),
        Request::Unsupported(OpCode::Reconfig) => fail(ErrorCode::ReconfigDisabled, last()),
        Request::Unsupported(_) => Answer {
            close: true,
            ..fail(ErrorCode::Unimplemented, last())
        },
    }
}

type Notes = Vec<crate::namespace::Notification>;

/// Runs a write under the namespace lock after re-checking the session there.
fn write(
    shared: &Shared,
    session: u64,
    f: impl FnOnce(&mut crate::namespace::Namespace) -> Result<(Response, Notes), ErrorCode>,
) -> Answer {
    let mut ns = shared.ns.lock();
    let result = shared
        .engine
        .check_session(session, OWNER)
        .map_err(session_error)
        .and_then(|_| f(&mut ns));
    let r = match result {
        Ok((body, notes)) => {
            shared.route(&notes);
            Ok(body)
        }
        Err(e) => Err(e),
    };
    let zxid = ns.last_zxid();
    shared.last_zxid.store(zxid, Ordering::Release);
    from_result(r, zxid)
}

/// Runs a read (or a watch registration) under the namespace lock.
fn read(
    shared: &Shared,
    f: impl FnOnce(&mut crate::namespace::Namespace) -> Result<Response, ErrorCode>,
) -> Answer {
    let mut ns = shared.ns.lock();
    let r = f(&mut ns);
    from_result(r, ns.last_zxid())
}

fn create(shared: &Shared, session: u64, op: OpCode, c: CreateRequest) -> Answer {
    let zxid = shared.last_zxid.load(Ordering::Acquire);
    let mode = match create_mode(op, c.flags) {
        Ok(m) => m,
        Err(e) => return fail(e, zxid),
    };
    if mode.is_ephemeral() {
        if let Err(e) = prepare_ephemeral(shared, session) {
            return fail(e, zxid);
        }
    }
    let mut ns = shared.ns.lock();
    let check = if mode.is_ephemeral() {
        shared.engine.check_global_session(session, OWNER)
    } else {
        shared.engine.check_session(session, OWNER)
    };
    let r = check.map_err(session_error).and_then(|_| {
        let a = ns.create(session, &c.path, c.data, &c.acl, mode, wall_ms() as i64)?;
        shared.route(&a.notifications);
        let (path, stat) = a.value;
        Ok(if op == OpCode::Create {
            Response::Create(path)
        } else {
            Response::Create2 { path, stat }
        })
    });
    let zxid = ns.last_zxid();
    shared.last_zxid.store(zxid, Ordering::Release);
    from_result(r, zxid)
}

fn multi(shared: &Shared, session: u64, ops: Vec<MultiOp>) -> Answer {
    let zxid = shared.last_zxid.load(Ordering::Acquire);
    let has_ephemeral = match check_multi(&ops) {
        Ok(has_ephemeral) => has_ephemeral,
        Err(MultiRefusal::Request(e)) => return fail(e, zxid),
        Err(MultiRefusal::Op { at, code }) => {
            return ok(Response::Multi(error_results(ops.len(), at, code)), zxid)
        }
    };
    let upgrade = if has_ephemeral {
        prepare_ephemeral(shared, session)
    } else {
        Ok(())
    };
    let mut ns = shared.ns.lock();
    let check = upgrade.and_then(|_| {
        if has_ephemeral {
            shared.engine.check_global_session(session, OWNER)
        } else {
            shared.engine.check_session(session, OWNER)
        }
        .map_err(session_error)
    });
    let results = match check {
        Err(e) => error_results(ops.len(), 0, e),
        Ok(()) => {
            let applied = ns.multi(session, ops, wall_ms() as i64);
            shared.route(&applied.notifications);
            applied.value
        }
    };
    let zxid = ns.last_zxid();
    shared.last_zxid.store(zxid, Ordering::Release);
    ok(Response::Multi(results), zxid)
}

fn multi_read(shared: &Shared, ops: Vec<MultiOp>) -> Answer {
    read(shared, |ns| ns.multi_read(&ops).map(Response::Multi))
}
