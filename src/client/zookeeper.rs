//! The blocking client handle ([`ZooKeeper`]) and its typed [`Error`].
//!
//! Owns: argument checking (paths, connection string), the background I/O thread's
//! lifetime, and turning replies into typed results.
//!
//! Must never: touch the socket or the session directly; it talks to the I/O thread
//! through a channel and a waker.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::Waker;

use fastrand::Rng;

use crate::sync::thread::{self, JoinHandle};
use crate::sync::{Arc, Mutex};
use crate::wire::path::{self, PathError};
use crate::wire::{
    Acl, CreateMode, CreateTtlRequest, DeleteRequest, ErrorCode, KeeperState, MultiOp, MultiResult,
    PathRequest, PathWatchRequest, Request, Response, SetDataRequest, Stat,
};

use super::chroot::Chroot;
use super::conn::{Command, Driver, Snapshot};
use super::connect_string::{parse, ConnectStringError, HostAddr};
use super::host_provider::HostProvider;
use super::session::{Session, SessionConfig};
use super::state::{States, WatchedEvent};

/// Why a client call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// ZooKeeper's error code (from the server, or generated locally: ConnectionLoss,
    /// SessionExpired, AuthFailed).
    Zk(ErrorCode),
    /// A `multi` failed: the first error, and every operation's result.
    Multi {
        /// The first non-OK code.
        code: ErrorCode,
        /// One result per operation (`RuntimeInconsistency` for rolled-back ones).
        results: Vec<MultiResult>,
    },
    /// A path argument is invalid (nothing was sent).
    InvalidPath(PathError),
    /// The connection string is invalid.
    ConnectString(ConnectStringError),
    /// The I/O thread could not be started.
    Io(std::io::ErrorKind),
    /// The server answered with a body of the wrong kind.
    UnexpectedResponse,
}

impl Error {
    /// The ZooKeeper code this error carries, if any.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Zk(c) | Error::Multi { code: c, .. } => Some(*c),
            _ => None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Zk(c) => write!(f, "{c}"),
            Error::Multi { code, .. } => write!(f, "multi failed: {code}"),
            Error::InvalidPath(e) => write!(f, "invalid path: {e}"),
            Error::ConnectString(e) => write!(f, "invalid connect string: {e}"),
            Error::Io(k) => write!(f, "I/O error: {k:?}"),
            Error::UnexpectedResponse => write!(f, "unexpected response"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ErrorCode> for Error {
    fn from(c: ErrorCode) -> Error {
        Error::Zk(c)
    }
}

/// Client settings beyond the connection string.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Requested session timeout.
    pub session_timeout: Duration,
    /// Accept read-only servers.
    pub can_be_read_only: bool,
    /// Expire locally after `4T/3` without any server (ZooKeeper 3.9.3+ behaviour).
    pub client_side_expiry: bool,
    /// Resume this session (id, password) instead of creating one.
    pub resume: Option<(i64, Vec<u8>)>,
    /// Seed for host shuffling and back-off jitter (`None` = from the OS).
    pub seed: Option<u64>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            session_timeout: Duration::from_secs(30),
            can_be_read_only: false,
            client_side_expiry: true,
            resume: None,
            seed: None,
        }
    }
}

/// A ZooKeeper session with blocking calls; a background thread does the I/O.
///
/// Every state change and every triggered watch arrives, in order, on the receiver
/// returned by [`ZooKeeper::events`]. Watches are one-shot and set with `watch = true`.
pub struct ZooKeeper {
    commands: Sender<Command>,
    waker: Arc<Waker>,
    snapshot: Arc<Mutex<Snapshot>>,
    events: Receiver<WatchedEvent>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ZooKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZooKeeper")
            .field("snapshot", &*self.snapshot.lock())
            .finish()
    }
}

impl ZooKeeper {
    /// Connects (in the background) with the default settings and this timeout.
    pub fn connect(connect_string: &str, session_timeout: Duration) -> Result<ZooKeeper, Error> {
        ZooKeeper::connect_with(
            connect_string,
            ClientConfig {
                session_timeout,
                ..Default::default()
            },
        )
    }

    /// Connects (in the background) with explicit settings. Returns at once; watch
    /// [`ZooKeeper::events`] for SyncConnected, or just call: requests wait for the
    /// connection.
    pub fn connect_with(connect_string: &str, cfg: ClientConfig) -> Result<ZooKeeper, Error> {
        let cs = parse(connect_string).map_err(Error::ConnectString)?;
        let mut rng = cfg.seed.map_or_else(Rng::new, Rng::with_seed);
        let hosts = HostProvider::new(cs.hosts, Rng::with_seed(rng.u64(..)))
            .map_err(|_| Error::ConnectString(ConnectStringError::NoHosts))?;
        let start = Instant::now();
        let session = Session::new(
            SessionConfig {
                session_timeout_ms: cfg.session_timeout.as_millis().min(i32::MAX as u128) as u32,
                can_be_read_only: cfg.can_be_read_only,
                client_side_expiry: cfg.client_side_expiry,
                resume: cfg.resume,
            },
            hosts,
            Chroot::new(cs.chroot),
            rng,
            0,
        );
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let (ev_tx, ev_rx) = crossbeam_channel::unbounded();
        let snapshot = Arc::new(Mutex::new(Snapshot {
            state: States::Connecting,
            last_event: KeeperState::Disconnected,
            session_id: 0,
            passwd: Vec::new(),
            timeout_ms: 0,
            server: None,
        }));
        let (driver, waker) = Driver::new(session, cmd_rx, ev_tx, snapshot.clone(), start)
            .map_err(|e| Error::Io(e.kind()))?;
        let thread = thread::Builder::new()
            .name("zk-client-io".into())
            .spawn(move || driver.run())
            .map_err(|e| Error::Io(e.kind()))?;
        Ok(ZooKeeper {
            commands: cmd_tx,
            waker,
            snapshot,
            events: ev_rx,
            thread: Some(thread),
        })
    }

    /// The receiver of session-state and watch events, in ZooKeeper's order.
    pub fn events(&self) -> &Receiver<WatchedEvent> {
        &self.events
    }

    /// The client state.
    pub fn state(&self) -> States {
        self.snapshot.lock().state
    }

    /// The last session-state event: tells
    /// Disconnected from connected, and Expired from Closed.
    ///
    pub fn last_state_event(&self) -> KeeperState {
        self.snapshot.lock().last_event
    }

    /// The session id (0 until the first connection).
    pub fn session_id(&self) -> i64 {
        self.snapshot.lock().session_id
    }

    /// The session password.
    pub fn session_password(&self) -> Vec<u8> {
        self.snapshot.lock().passwd.clone()
    }

    /// The negotiated session timeout.
    pub fn session_timeout(&self) -> Duration {
        Duration::from_millis(self.snapshot.lock().timeout_ms)
    }

    /// The server of the current connection.
    pub fn current_server(&self) -> Option<HostAddr> {
        self.snapshot.lock().server.clone()
    }

    fn send(&self, cmd: Command) -> bool {
        self.commands.send(cmd).is_ok() && self.waker.wake().is_ok()
    }

    /// The code for a call made once the I/O thread has stopped.
    fn dead_code(&self) -> Error {
        match self.state() {
            States::AuthFailed => Error::Zk(ErrorCode::AuthFailed),
            _ => Error::Zk(ErrorCode::SessionExpired),
        }
    }

    fn call(&self, req: Request) -> Result<Response, Error> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if !self.send(Command::Submit(req, tx)) {
            return Err(self.dead_code());
        }
        match rx.recv() {
            Ok(r) => r.map_err(Error::Zk),
            Err(_) => Err(self.dead_code()),
        }
    }

    /// Creates a node; returns its path (with the sequence suffix for sequential modes).
    /// Containers use createContainer; the TTL modes need [`ZooKeeper::create_ttl`] and
    /// are refused here with `BadArguments`.
    pub fn create(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
    ) -> Result<String, Error> {
        check_create_path(path, mode)?;
        if is_ttl(mode) {
            return Err(Error::Zk(ErrorCode::BadArguments));
        }
        created(self.call(Request::create(path, data, acl.to_vec(), mode))?)
    }

    /// Creates a node that the server deletes once it has had no children for `ttl` ms
    /// (modes `PersistentWithTtl` and `PersistentSequentialWithTtl`; the server must
    /// have extended types enabled). Other modes, or a `ttl` outside 1..=2^40-1, give
    /// `BadArguments` without a request.
    pub fn create_ttl(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
        ttl: i64,
    ) -> Result<String, Error> {
        check_create_path(path, mode)?;
        if !is_ttl(mode) || !(1..(1i64 << 40)).contains(&ttl) {
            return Err(Error::Zk(ErrorCode::BadArguments));
        }
        created(self.call(Request::CreateTtl(CreateTtlRequest {
            path: path.into(),
            data: data.to_vec(),
            acl: acl.to_vec(),
            flags: mode as i32,
            ttl,
        }))?)
    }

    /// Deletes a node (`version` -1 = any version).
    pub fn delete(&self, path: &str, version: i32) -> Result<(), Error> {
        check(path)?;
        self.call(Request::Delete(DeleteRequest {
            path: path.into(),
            version,
        }))
        .map(|_| ())
    }

    /// The node's stat, or `None` if it does not exist. With `watch`, a watch fires on
    /// its creation, change or deletion.
    pub fn exists(&self, path: &str, watch: bool) -> Result<Option<Stat>, Error> {
        check(path)?;
        match self.call(Request::Exists(PathWatchRequest {
            path: path.into(),
            watch,
        })) {
            Ok(Response::Stat(s)) => Ok(Some(s)),
            Ok(_) => Err(Error::UnexpectedResponse),
            Err(Error::Zk(ErrorCode::NoNode)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The node's data and stat.
    pub fn get_data(&self, path: &str, watch: bool) -> Result<(Vec<u8>, Stat), Error> {
        check(path)?;
        match self.call(Request::GetData(PathWatchRequest {
            path: path.into(),
            watch,
        }))? {
            Response::GetData { data, stat } => Ok((data, stat)),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Sets the node's data (`version` -1 = any); returns the new stat.
    pub fn set_data(&self, path: &str, data: &[u8], version: i32) -> Result<Stat, Error> {
        check(path)?;
        match self.call(Request::SetData(SetDataRequest {
            path: path.into(),
            data: data.to_vec(),
            version,
        }))? {
            Response::Stat(s) => Ok(s),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// The names of the node's children.
    pub fn get_children(&self, path: &str, watch: bool) -> Result<Vec<String>, Error> {
        check(path)?;
        match self.call(Request::GetChildren(PathWatchRequest {
            path: path.into(),
            watch,
        }))? {
            Response::GetChildren(c) => Ok(c),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Waits until the server has caught up with the leader for `path`.
    pub fn sync(&self, path: &str) -> Result<String, Error> {
        check(path)?;
        match self.call(Request::Sync(PathRequest { path: path.into() }))? {
            Response::Sync(path) => Ok(path),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Runs the write operations atomically (build them with [`MultiOp::create`],
    /// [`MultiOp::delete`], [`MultiOp::set_data`] and [`MultiOp::check`]). On failure,
    /// [`Error::Multi`] carries the first error and every result. Reads, TTL creates and
    /// unknown creation flags give `BadArguments` without a request.
    pub fn multi(&self, ops: Vec<MultiOp>) -> Result<Vec<MultiResult>, Error> {
        for op in &ops {
            match op {
                MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => {
                    let mode = CreateMode::from_flags(c.flags).map_err(Error::Zk)?;
                    check_create_path(&c.path, mode)?;
                    if is_ttl(mode) {
                        return Err(Error::Zk(ErrorCode::BadArguments));
                    }
                }
                MultiOp::Delete(_) | MultiOp::SetData(_) | MultiOp::Check(_) => check(op.path())?,
                MultiOp::CreateTtl(_) | MultiOp::GetChildren(_) | MultiOp::GetData(_) => {
                    return Err(Error::Zk(ErrorCode::BadArguments))
                }
            }
        }
        match self.call(Request::Multi(ops))? {
            Response::Multi(results) => {
                let first = results
                    .iter()
                    .find_map(|r| r.error_code().filter(|c| *c != ErrorCode::Ok));
                match first {
                    Some(code) => Err(Error::Multi { code, results }),
                    None => Ok(results),
                }
            }
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Adds credentials (`addAuthInfo`); they are re-sent on every reconnect.
    pub fn add_auth(&self, scheme: &str, auth: &[u8]) {
        self.send(Command::AddAuth(scheme.into(), auth.to_vec()));
    }

    /// Replaces the server list (`updateServerList`); any chroot in the string is
    /// ignored. Returns whether this client moves to another server: ZooKeeper's
    /// probabilistic rebalancing makes clients spread evenly over the new list.
    pub fn update_server_list(&self, connect_string: &str) -> Result<bool, Error> {
        let cs = parse(connect_string).map_err(Error::ConnectString)?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        if !self.send(Command::UpdateServerList(cs.hosts, tx)) {
            return Err(self.dead_code());
        }
        rx.recv().map_err(|_| self.dead_code())
    }

    /// Drops the current connection without closing the session; the client reconnects
    /// with its session id and password (ZooKeeper's `testableConnloss`).
    pub fn drop_connection(&self) {
        self.send(Command::DropConnection);
    }

    /// Closes the session (closeSession) and stops the I/O thread. Later calls on any
    /// clone of the state fail with SessionExpired. Idempotent.
    pub fn close(&mut self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if self.send(Command::Close(tx)) {
            let _ = rx.recv();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        self.close();
    }
}

/// The created path from a create's answer (create, create2, createContainer, createTTL).
fn created(resp: Response) -> Result<String, Error> {
    match resp {
        Response::Create(path) | Response::Create2 { path, .. } => Ok(path),
        _ => Err(Error::UnexpectedResponse),
    }
}

fn check(path: &str) -> Result<(), Error> {
    path::validate(path).map_err(Error::InvalidPath)
}

fn check_create_path(path: &str, mode: CreateMode) -> Result<(), Error> {
    if mode.is_sequential() {
        path::validate_sequential(path).map_err(Error::InvalidPath)
    } else {
        check(path)
    }
}

fn is_ttl(mode: CreateMode) -> bool {
    matches!(
        mode,
        CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
    )
}
