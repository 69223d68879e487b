//! Durability: every state change goes to a ZooKeeper 3.8 transaction log, fsynced
//! before anything that depends on it is sent, with group commit on one persist thread;
//! snapshots in the background; recovery on start.
//!
//! Owns: [`Durable`] (the queue between the request path and the persist thread, the
//! durable zxid, the failure flag, the snapshot trigger), the persist thread, the
//! snapshot writer (a fuzzy, paged copy of the live tree) and the purge of old files. Submodules: `txns` (transactions built from
//! what a request did to the namespace), `image` (the namespace to and from a snapshot,
//! and applying logged transactions to it) and `recover` (the start-up load).
//!
//! Invariants:
//! - every zxid the namespace hands out is appended here, under the namespace lock, in
//!   zxid order, before the zxid is published; so "durable up to zxid Z" means every txn
//!   up to Z is on disk;
//! - [`Durable::durable_zxid`] only grows, and only after the log holding those txns was
//!   written and (with `forceSync`) fsynced;
//! - the event loops never touch the disk: they hold every reply and event produced at a
//!   zxid above the durable one, and release them when the persist thread reports
//!   progress ([`LoopMsg::Durable`]);
//! - after a failed write or fsync nothing more becomes durable: the server stops (as
//!   ZooKeeper exits), so held replies are never sent and no write is falsely
//!   acknowledged;
//! - a snapshot is fuzzy, as ZooKeeper's: named by the zxid Z it was asked at (the log is
//!   rolled there), it copies the live tree [`SNAPSHOT_PAGE`] nodes per namespace-lock
//!   hold while writes go on, so it shows every txn up to Z and some after; recovery
//!   replays the log from Z + 1, which converges because every logged change is
//!   idempotent on replay (see `crate::namespace` restore). The file is written only
//!   once every txn its copy may show is durable, so it never holds a change the log
//!   could lose; while one is being written no other is asked for (the next comes with
//!   the first txn after it).
//!
//! Must never: block an event loop on the disk, acknowledge a txn before it is durable,
//! or copy more than a page of the tree per namespace-lock hold for a snapshot.

mod image;
mod recover;
mod txns;

#[cfg(test)]
mod tests;

pub(crate) use image::snapshot_of;
pub(crate) use image::snapshot_paged;
pub use recover::RecoverError;
pub(crate) use recover::{recover, Recovered};
pub(crate) use txns::TxnBuilder;

use super::shared::{LoopMsg, Loops};
use crate::namespace::Namespace;
use crate::persist::{self, FileKind, LogEntry, LogWriter, Snapshot, DEFAULT_PREALLOC};
use crate::sync::{thread, AtomicBool, AtomicI64, AtomicU64, Condvar, Mutex, Ordering};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where writes can be made to fail, for tests of a full or failing disk. The persist
/// thread asks before every write of a batch and before every fsync.
pub trait WriteFaults: Send + Sync + 'static {
    /// Called before `bytes` are written to a log; an error fails the write.
    fn before_write(&self, bytes: usize) -> io::Result<()>;
    /// Called before each fsync; an error fails it.
    fn before_sync(&self) -> io::Result<()> {
        Ok(())
    }
}

/// No injected faults.
struct NoFaults;

impl WriteFaults for NoFaults {
    fn before_write(&self, _bytes: usize) -> io::Result<()> {
        Ok(())
    }
}

/// What the persist settings are.
#[derive(Clone)]
pub(crate) struct Settings {
    /// `<dataDir>/version-2`.
    pub(crate) snap_dir: PathBuf,
    /// `<dataLogDir>/version-2`.
    pub(crate) log_dir: PathBuf,
    pub(crate) force_sync: bool,
    pub(crate) snap_count: u64,
    pub(crate) retain: usize,
    pub(crate) purge_every_hours: u32,
    /// `zookeeper.digest.enabled`: logs and snapshots carry the tree digest, and it is
    /// checked at load.
    pub(crate) digest: bool,
}

impl Settings {
    pub(crate) fn from_config(c: &super::ServerConfig) -> Option<Settings> {
        let data = c.data_dir.as_ref()?;
        let logs = c.data_log_dir.as_ref().unwrap_or(data);
        Some(Settings {
            snap_dir: data.join(persist::VERSION_DIR),
            log_dir: logs.join(persist::VERSION_DIR),
            force_sync: c.force_sync,
            snap_count: c.snap_count.max(2),
            retain: c.autopurge_snap_retain_count.max(3) as usize,
            purge_every_hours: c.autopurge_purge_interval_hours,
            digest: c.digest_enabled(),
        })
    }
}

/// A job for the persist thread, in zxid order.
enum Job {
    Entry(LogEntry),
    /// A snapshot asked at a zxid, with the global sessions then: roll the log, copy the
    /// tree and write it in the background.
    Snapshot(Vec<(i64, i32)>, i64),
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    stop: bool,
}

/// The request path's handle on the persist thread (one per server with a `dataDir`).
pub(crate) struct Durable {
    queue: Mutex<Queue>,
    wake: Condvar,
    durable_zxid: AtomicI64,
    /// The last zxid appended (changed under the namespace lock only).
    appended: AtomicI64,
    failed: AtomicBool,
    /// Txns appended since the last snapshot (changed under the namespace lock only).
    since_snapshot: AtomicU64,
    /// The randomised count that triggers the next snapshot.
    snap_at: AtomicU64,
    /// A snapshot is asked for and not yet written (set under the namespace lock, cleared
    /// by the snapshot writer when it ends): the next one is due only after it.
    snapshotting: AtomicBool,
    snap_count: u64,
}

/// ZooKeeper's rule: the next snapshot comes after `snapCount / 2 + rand(snapCount / 2)`.
fn next_snap_at(snap_count: u64) -> u64 {
    let half = (snap_count / 2).max(1);
    let mut b = [0u8; 8];
    let roll = match getrandom::getrandom(&mut b) {
        Ok(()) => u64::from_le_bytes(b) % half,
        Err(_) => 0,
    };
    half + roll
}

impl Durable {
    fn new(last_zxid: i64, snap_count: u64) -> Durable {
        Durable {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            durable_zxid: AtomicI64::new(last_zxid),
            appended: AtomicI64::new(last_zxid),
            failed: AtomicBool::new(false),
            since_snapshot: AtomicU64::new(0),
            snap_at: AtomicU64::new(next_snap_at(snap_count)),
            snapshotting: AtomicBool::new(false),
            snap_count,
        }
    }

    /// The highest zxid such that it and every txn before it are durable.
    pub(crate) fn durable_zxid(&self) -> i64 {
        self.durable_zxid.load(Ordering::Acquire)
    }

    /// The last zxid handed to the persist thread: output produced now may depend on
    /// every txn up to it.
    pub(crate) fn appended_zxid(&self) -> i64 {
        self.appended.load(Ordering::Acquire)
    }

    /// Whether a log write or fsync failed (the server is stopping).
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Queues one txn. Call under the namespace lock, in zxid order. Returns true when a
    /// snapshot is due: the caller then hands one over with [`Durable::snapshot`] while
    /// still holding the lock.
    pub(crate) fn append(&self, entry: LogEntry) -> bool {
        self.appended.fetch_max(entry.header.zxid, Ordering::AcqRel);
        {
            let mut q = self.queue.lock();
            q.jobs.push(Job::Entry(entry));
        }
        self.wake.notify_all();
        let n = self.since_snapshot.fetch_add(1, Ordering::Relaxed) + 1;
        // While one is being written the next waits (ZooKeeper skips it; here it comes
        // with the first txn after the writer is done).
        n >= self.snap_at.load(Ordering::Relaxed) && !self.snapshotting.load(Ordering::Acquire)
    }

    /// Queues a snapshot from `zxid` on (after every txn up to it), `sessions` being the
    /// global sessions at `zxid`. Call under the namespace lock.
    pub(crate) fn snapshot(&self, sessions: Vec<(i64, i32)>, zxid: i64) {
        self.snapshotting.store(true, Ordering::Release);
        self.since_snapshot.store(0, Ordering::Relaxed);
        self.snap_at
            .store(next_snap_at(self.snap_count), Ordering::Relaxed);
        self.queue.lock().jobs.push(Job::Snapshot(sessions, zxid));
        self.wake.notify_all();
    }

    /// Waits until every txn up to `zxid` is durable; false when the log failed first or
    /// the server is stopping (the snapshot is then dropped: the log has every txn).
    fn wait_durable(&self, zxid: i64) -> bool {
        while self.durable_zxid() < zxid {
            if self.failed() || self.queue.lock().stop {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        true
    }

    fn stop(&self) {
        self.queue.lock().stop = true;
        self.wake.notify_all();
    }
}

/// The persist thread and its handle; dropping it writes what is queued, then joins.
pub(crate) struct Persister {
    pub(crate) durable: Arc<Durable>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Persister {
    /// Starts the persist thread for a recovered data directory; `ns` is the live tree
    /// snapshots copy.
    pub(crate) fn start(
        settings: Settings,
        last_zxid: i64,
        loops: Loops,
        faults: Option<Arc<dyn WriteFaults>>,
        ns: Arc<Mutex<Namespace>>,
    ) -> io::Result<Persister> {
        let durable = Arc::new(Durable::new(last_zxid, settings.snap_count));
        let worker = Worker {
            durable: durable.clone(),
            settings,
            loops,
            faults: faults.unwrap_or_else(|| Arc::new(NoFaults)),
            log: None,
            ns,
            snapshot_thread: None,
            last_purge: std::time::Instant::now(),
            figures: Figures::default(),
        };
        let thread = thread::Builder::new()
            .name("zksessiond-persist".into())
            .spawn(move || worker.run())?;
        Ok(Persister {
            durable,
            thread: Some(thread),
        })
    }
}

impl Drop for Persister {
    fn drop(&mut self) {
        self.durable.stop();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the persist thread panicked");
            }
        }
    }
}

/// Nodes a snapshot copies per namespace-lock hold (a few hundred microseconds of work).
pub(crate) const SNAPSHOT_PAGE: usize = 256;

/// Clears [`Durable`]'s snapshot flag when the snapshot writer ends, however it ends.
struct SnapshotDone<'a>(&'a Durable);

impl Drop for SnapshotDone<'_> {
    fn drop(&mut self) {
        self.0.snapshotting.store(false, Ordering::Release);
    }
}

/// How long the persist thread sleeps without work before checking the purge timer.
const IDLE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

struct Worker {
    durable: Arc<Durable>,
    settings: Settings,
    loops: Loops,
    faults: Arc<dyn WriteFaults>,
    log: Option<LogWriter>,
    ns: Arc<Mutex<Namespace>>,
    snapshot_thread: Option<thread::JoinHandle<()>>,
    last_purge: std::time::Instant,
    figures: Figures,
}

/// What the persist thread did, logged when it stops (where a durable write's time goes).
#[derive(Default)]
struct Figures {
    /// Batches written (each ends with one fsync, or a flush without `forceSync`).
    batches: u64,
    /// Txns written.
    txns: u64,
    /// The largest batch, in txns.
    largest: usize,
    /// Time spent in fsync (or flush).
    sync_time: std::time::Duration,
}

impl Worker {
    fn run(mut self) {
        loop {
            let (jobs, stop) = {
                let mut g = Some(self.durable.queue.lock());
                let q = g.as_mut().expect("guard present");
                if q.jobs.is_empty() && !q.stop {
                    self.durable.wake.wait_for(&mut g, IDLE_WAIT);
                }
                let q = g.as_mut().expect("guard present");
                (std::mem::take(&mut q.jobs), q.stop)
            };
            if !jobs.is_empty() && !self.durable.failed() {
                if let Err(e) = self.commit(jobs) {
                    self.fail(&e);
                }
            }
            if stop {
                break;
            }
            self.maybe_purge();
        }
        if let Some(t) = self.snapshot_thread.take() {
            let _ = t.join();
        }
        let f = &self.figures;
        tracing::info!(
            batches = f.batches,
            txns = f.txns,
            mean_batch = format_args!("{:.2}", f.txns as f64 / f.batches.max(1) as f64),
            largest_batch = f.largest,
            mean_sync_us = f.sync_time.as_micros() as u64 / f.batches.max(1),
            "persist thread stopped: group commit figures"
        );
    }

    /// Writes one batch with one fsync, then publishes its last zxid.
    fn commit(&mut self, jobs: Vec<Job>) -> io::Result<()> {
        let mut last = None;
        let mut txns = 0usize;
        for job in jobs {
            match job {
                Job::Entry(e) => {
                    let zxid = e.header.zxid;
                    if self.log.is_none() {
                        let path = self
                            .settings
                            .log_dir
                            .join(persist::file_name(FileKind::Log, zxid));
                        self.log = Some(LogWriter::create(&path, 0, DEFAULT_PREALLOC)?);
                    }
                    let log = self.log.as_mut().expect("just opened");
                    let before = log.position();
                    log.append(&e);
                    self.faults
                        .before_write((log.position() - before) as usize)?;
                    last = Some(zxid);
                    txns += 1;
                }
                Job::Snapshot(sessions, zxid) => {
                    // Everything before the snapshot goes to the current log; the next
                    // txn starts a new one (log.<its zxid>).
                    if let Some(mut log) = self.log.take() {
                        self.sync(&mut log)?;
                    }
                    self.write_snapshot_in_background(sessions, zxid);
                }
            }
        }
        if let Some(log) = self.log.as_mut() {
            let t0 = std::time::Instant::now();
            if self.settings.force_sync {
                self.faults.before_sync()?;
                log.sync()?;
            } else {
                log.flush()?;
            }
            self.figures.sync_time += t0.elapsed();
        }
        if txns > 0 {
            self.figures.batches += 1;
            self.figures.txns += txns as u64;
            self.figures.largest = self.figures.largest.max(txns);
        }
        if let Some(z) = last {
            self.durable.durable_zxid.fetch_max(z, Ordering::AcqRel);
            for l in self.loops.iter() {
                l.send(LoopMsg::Durable);
            }
        }
        Ok(())
    }

    fn sync(&self, log: &mut LogWriter) -> io::Result<()> {
        if self.settings.force_sync {
            self.faults.before_sync()?;
            log.sync()
        } else {
            log.flush()
        }
    }

    fn fail(&mut self, e: &io::Error) {
        self.durable.failed.store(true, Ordering::Release);
        self.log = None;
        tracing::error!(error = %e,
            "writing the transaction log failed; nothing more is acknowledged and the server stops");
        for l in self.loops.iter() {
            l.send(LoopMsg::Shutdown);
        }
    }

    fn write_snapshot_in_background(&mut self, sessions: Vec<(i64, i32)>, zxid: i64) {
        // No snapshot is asked for while one is written (`Durable::snapshotting`), so the
        // previous writer has ended or is ending: this join does not wait on it.
        if let Some(t) = self.snapshot_thread.take() {
            let _ = t.join();
        }
        let dir = self.settings.snap_dir.clone();
        let ns = self.ns.clone();
        let durable = self.durable.clone();
        let with_digest = self.settings.digest;
        let spawned = thread::Builder::new()
            .name("zksessiond-snapshot".into())
            .spawn(move || {
                let _done = SnapshotDone(&durable);
                let (mut snap, copy) = snapshot_paged(&ns, sessions, SNAPSHOT_PAGE);
                if !with_digest {
                    snap.digest = None;
                }
                if !durable.wait_durable(copy.last_zxid) {
                    return;
                }
                match write_snapshot(&dir, &snap, zxid) {
                    Ok(path) => tracing::info!(path = %path.display(),
                        zxid = format_args!("0x{zxid:x}"), nodes = snap.nodes.len(),
                        pages = copy.pages, longest_hold_us = copy.longest_hold.as_micros() as u64,
                        total_hold_us = copy.total_hold.as_micros() as u64,
                        "snapshot written"),
                    Err(e) => tracing::warn!(error = %e, zxid = format_args!("0x{zxid:x}"),
                        "writing a snapshot failed; the log still holds every txn"),
                }
            });
        match spawned {
            Ok(t) => self.snapshot_thread = Some(t),
            Err(e) => {
                self.durable.snapshotting.store(false, Ordering::Release);
                tracing::warn!(error = %e, "cannot start the snapshot writer")
            }
        }
    }

    fn maybe_purge(&mut self) {
        let hours = self.settings.purge_every_hours;
        if hours == 0 || self.last_purge.elapsed().as_secs() < u64::from(hours) * 3600 {
            return;
        }
        self.last_purge = std::time::Instant::now();
        if let Err(e) = purge(
            &self.settings.snap_dir,
            &self.settings.log_dir,
            self.settings.retain,
        ) {
            tracing::warn!(error = %e, "purging old snapshots and logs failed");
        }
    }
}

/// The name of the file holding the session password secret, in `dataDir`.
pub(crate) const SECRET_FILE: &str = "zksessiond.secret";

/// The secret session passwords are keyed with: read from `<dataDir>/zksessiond.secret`,
/// or made (32 random bytes, mode 0600) and stored there on first start, so passwords
/// survive a restart.
pub(crate) fn load_secret(data_dir: &Path) -> io::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read(&path) {
        Ok(s) if s.len() >= 16 => return Ok(s),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is shorter than 16 bytes", path.display()),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut secret = vec![0u8; 32];
    getrandom::getrandom(&mut secret)
        .map_err(|e| io::Error::other(format!("no random bytes for the secret: {e}")))?;
    let tmp = data_dir.join(format!("{SECRET_FILE}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&secret)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(data_dir)?.sync_all()?;
    Ok(secret)
}

/// Tracks the recovered sessions again with fresh deadlines (ZooKeeper's rule). An
/// ephemeral whose owner is in no session (an upgraded local session, which is not
/// logged) gets its owner back as a session with the longest timeout, so it expires
/// unless its client returns.
pub(crate) fn restore_sessions(
    engine: &crate::engine::Engine,
    r: &Recovered,
    _config: &super::ServerConfig,
) {
    use crate::engine::{SessionEntry, SessionKind};
    let max = engine.config().max_session_timeout_ms;
    let mut entries: Vec<SessionEntry> = r
        .sessions
        .iter()
        .filter(|(id, t)| *id != 0 && *t > 0)
        .map(|(id, t)| SessionEntry {
            id: *id as u64,
            timeout_ms: *t as u32,
            kind: SessionKind::Global,
        })
        .collect();
    for owner in r.ns.ephemerals_by_session().keys() {
        // TTL nodes carry a marker (top byte 0xff), not a session.
        if *owner >> 56 == 0xff {
            continue;
        }
        if !entries.iter().any(|e| e.id == *owner) {
            tracing::warn!(
                session = format_args!("0x{owner:x}"),
                "ephemerals of an unknown session; it is restored to expire"
            );
            entries.push(SessionEntry {
                id: *owner,
                timeout_ms: max,
                kind: SessionKind::Global,
            });
        }
    }
    match engine.restore(&entries) {
        Ok(n) => tracing::info!(sessions = n, "sessions restored with fresh deadlines"),
        Err(e) => tracing::error!(error = %e, "restoring sessions failed"),
    }
}

/// Writes `snapshot.<zxid>` and fsyncs it (and its directory). A torn snapshot fails its
/// seal on load and recovery falls back to an older one, as in ZooKeeper.
pub(crate) fn write_snapshot(dir: &Path, snap: &Snapshot, zxid: i64) -> io::Result<PathBuf> {
    use std::io::Write;
    let path = dir.join(persist::file_name(FileKind::Snapshot, zxid));
    let bytes = snap.encode();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(path)
}

/// ZooKeeper's purge: keeps the newest `retain` snapshots, the log holding the oldest
/// kept snapshot's next txn, and every later log; deletes older files.
pub(crate) fn purge(snap_dir: &Path, log_dir: &Path, retain: usize) -> io::Result<usize> {
    let snaps = persist::list_files(snap_dir, FileKind::Snapshot)?;
    if snaps.len() <= retain {
        return Ok(0);
    }
    let keep_from = snaps[snaps.len() - retain].0;
    let logs = persist::list_files(log_dir, FileKind::Log)?;
    // The newest log starting at or before the oldest kept snapshot may hold txns after it.
    let first_log = logs
        .iter()
        .filter(|(z, _)| *z <= keep_from)
        .map(|(z, _)| *z)
        .max()
        .unwrap_or(i64::MIN);
    let mut removed = 0;
    for (z, p) in &snaps {
        if *z < keep_from {
            std::fs::remove_file(p)?;
            removed += 1;
        }
    }
    for (z, p) in &logs {
        if *z < first_log {
            std::fs::remove_file(p)?;
            removed += 1;
        }
    }
    tracing::info!(removed, retain, "purged old snapshots and logs");
    Ok(removed)
}
