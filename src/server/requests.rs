//! Executes one decoded request of an attached session against the namespace.
//!
//! Owns: the mapping from wire [`Request`]s to namespace calls and back to [`Response`]s,
//! the session checks of writes (under the namespace lock), local-session upgrades on
//! ephemeral creates, and which requests close their connection.
//!
//! Must never: do I/O, touch the session (the caller did, before decoding), or hold the
//! namespace lock across anything but namespace calls and event routing.

use super::access::Caller;
use super::durable::TxnBuilder;
use super::shared::{wall_ms, ConnShared, Shared};
use crate::engine::Error as EngineError;
use crate::namespace::{
    check_multi, create_mode, error_results, MultiRefusal, Namespace, WatchMode,
};
use crate::persist::Txn;
use crate::security;
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

/// Executes `req` (with xid `xid`) for `session` on connection `conn`.
pub(crate) fn execute(
    shared: &Shared,
    conn: &ConnShared,
    session: u64,
    xid: i32,
    req: Request,
) -> Answer {
    let last = || shared.last_zxid.load(Ordering::Acquire);
    let watcher = conn.id;
    if let Request::Ping = req {
        return ok(Response::Empty, last());
    }
    let auth = conn.auth();
    let who = &Caller {
        auth: &auth,
        policy: &shared.config.acl_policy,
    };
    // One wall time per request: the namespace's and the logged txn's agree.
    let now = wall_ms() as i64;
    let w = Write {
        shared,
        session,
        xid,
        now,
    };
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
        Request::Create(c) => create(&w, who, OpCode::Create, c, -1),
        Request::Create2(c) => create(&w, who, OpCode::Create2, c, -1),
        Request::CreateContainer(c) => create(&w, who, OpCode::CreateContainer, c, -1),
        Request::CreateTtl(c) => {
            let ttl = c.ttl;
            let c = CreateRequest {
                path: c.path,
                data: c.data,
                acl: c.acl,
                flags: c.flags,
            };
            create(&w, who, OpCode::CreateTtl, c, ttl)
        }
        Request::Delete(d) => write(
            &w,
            |ns| {
                let a = ns.delete_as(who, &d.path, d.version)?;
                Ok((Response::Empty, a.notifications))
            },
            |_| Txn::Delete {
                path: d.path.clone(),
            },
        ),
        Request::SetData(s) => write(
            &w,
            |ns| {
                let a = ns.set_data_as(who, &s.path, s.data, s.version, now)?;
                Ok((Response::Stat(a.value), a.notifications))
            },
            |ns| TxnBuilder::set_data(ns, &s.path),
        ),
        Request::SetAcl(s) => write(
            &w,
            |ns| {
                let a = ns.set_acl_as(who, &s.path, &s.acl, s.version)?;
                Ok((Response::Stat(a.value), a.notifications))
            },
            |ns| TxnBuilder::set_acl(ns, &s.path),
        ),
        Request::Exists(p) => read(shared, |ns| {
            ns.exists(&p.path, p.watch.then_some(watcher))
                .map(Response::Stat)
        }),
        Request::GetData(p) => read(shared, |ns| {
            ns.read_data_as(who, &p.path, p.watch.then_some(watcher))
                .map(|(data, stat)| Response::GetData { data, stat })
        }),
        Request::GetChildren(p) => read(shared, |ns| {
            ns.get_children_as(who, &p.path, p.watch.then_some(watcher))
                .map(|(children, _)| Response::GetChildren(children))
        }),
        Request::GetChildren2(p) => read(shared, |ns| {
            ns.get_children_as(who, &p.path, p.watch.then_some(watcher))
                .map(|(children, stat)| Response::GetChildren2 { children, stat })
        }),
        Request::GetAcl(p) => read(shared, |ns| {
            ns.get_acl_as(who, &p.path)
                .map(|(acl, stat)| Response::GetAcl { acl, stat })
        }),
        Request::GetAllChildrenNumber(p) => read(shared, |ns| {
            ns.get_all_children_number_as(who, &p.path)
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
        Request::Multi(ops) => multi(&w, who, ops),
        Request::MultiRead(ops) => multi_read(shared, who, ops),
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
            shared.route(ns, &notes);
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
            shared.route(ns, &notes);
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
            Response::WhoAmI(
                security::who_am_i(&auth, &shared.config.acl_policy)
                    .into_iter()
                    .map(|(auth_scheme, user)| ClientInfo { auth_scheme, user })
                    .collect(),
            ),
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

/// Who asks for a write, and when.
struct Write<'a> {
    shared: &'a Shared,
    session: u64,
    xid: i32,
    now: i64,
}

impl Write<'_> {
    /// Logs the write's txn if it took a zxid (see [`Shared::log_txn`]): `txn` on
    /// success, an error txn on failure.
    fn log<T>(
        &self,
        ns: &Namespace,
        before: i64,
        r: &Result<T, ErrorCode>,
        txn: impl FnOnce(&Namespace) -> Txn,
    ) {
        self.shared
            .log_txn(ns, before, self.session, self.xid, self.now, |ns| match r {
                Ok(_) => txn(ns),
                Err(e) => TxnBuilder::error(*e),
            });
    }
}

/// Runs a write under the namespace lock after re-checking the session there.
fn write(
    w: &Write<'_>,
    f: impl FnOnce(&mut Namespace) -> Result<(Response, Notes), ErrorCode>,
    txn: impl FnOnce(&Namespace) -> Txn,
) -> Answer {
    let (shared, session) = (w.shared, w.session);
    let mut ns = shared.ns.lock();
    let before = ns.last_zxid();
    let result = shared
        .engine
        .check_session(session, OWNER)
        .map_err(session_error)
        .and_then(|_| f(&mut ns));
    w.log(&ns, before, &result, txn);
    let r = match result {
        Ok((body, notes)) => {
            shared.route(&ns, &notes);
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

/// A create of `op`; `ttl` is the createTTL request's TTL, −1 for the other opcodes.
fn create(w: &Write<'_>, who: &Caller<'_>, op: OpCode, c: CreateRequest, ttl: i64) -> Answer {
    let (shared, session) = (w.shared, w.session);
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
    let before = ns.last_zxid();
    let check = if mode.is_ephemeral() {
        shared.engine.check_global_session(session, OWNER)
    } else {
        shared.engine.check_session(session, OWNER)
    };
    let created = check
        .map_err(session_error)
        .and_then(|_| ns.create_ttl_as(who, session, &c.path, c.data, &c.acl, mode, ttl, w.now));
    let made = created.as_ref().map(|a| a.value.0.clone()).map_err(|e| *e);
    w.log(&ns, before, &made, |ns| {
        TxnBuilder::create(ns, op, made.as_deref().unwrap_or_default())
    });
    let r = created.map(|a| {
        shared.route(&ns, &a.notifications);
        let (path, stat) = a.value;
        if op == OpCode::Create {
            Response::Create(path)
        } else {
            Response::Create2 { path, stat }
        }
    });
    let zxid = ns.last_zxid();
    shared.last_zxid.store(zxid, Ordering::Release);
    from_result(r, zxid)
}

fn multi(w: &Write<'_>, who: &Caller<'_>, ops: Vec<MultiOp>) -> Answer {
    let (shared, session) = (w.shared, w.session);
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
    let before = ns.last_zxid();
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
            let logged = shared.durable.is_some().then(|| ops.clone());
            let applied = ns.multi_as(who, session, ops, w.now);
            if let Some(ops) = logged {
                let ok: Result<(), ErrorCode> = Ok(());
                w.log(&ns, before, &ok, |ns| {
                    TxnBuilder::multi(ns, &ops, &applied.value)
                });
            }
            shared.route(&ns, &applied.notifications);
            applied.value
        }
    };
    let zxid = ns.last_zxid();
    shared.last_zxid.store(zxid, Ordering::Release);
    ok(Response::Multi(results), zxid)
}

fn multi_read(shared: &Shared, who: &Caller<'_>, ops: Vec<MultiOp>) -> Answer {
    read(shared, |ns| {
        ns.multi_read_as(who, &ops).map(Response::Multi)
    })
}
