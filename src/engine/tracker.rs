//! The session tracker: the engine's public face.
//!
//! Owns: the shards, the id generator, the password function, the expiry sink and the
//! expiry workers, and every public operation on sessions.
//!
//! # Ground rules
//! - A session lives in exactly one shard, chosen by a multiplicative hash of its id
//!   (ids are sequential; the hash spreads them). A touch of a live session takes no lock:
//!   under an epoch pin it raises the record's deadline with one CAS (see `table`) and
//!   counts itself in this thread's stripe of the touch total, so touches of different
//!   sessions by different threads write no common cache line. Every other operation on
//!   one session takes exactly one shard lock, once (a touch of a remote entry, or one that
//!   meets its shard's table being replaced, too). `touch_many` pins once per batch.
//! - Time comes only from the injected [`Clock`], as *engine time*: the clock's reading
//!   minus the stall credit (see `stall`). Deadlines follow ZooKeeper: touched at engine
//!   time `t` with timeout `T`, a session is due at the first tick boundary strictly after
//!   `t + T`, i.e. `E = (floor((t + T) / tick) + 1) * tick`.
//! - **Deadlines read the cheap clock.** Every deadline is computed from the clock's
//!   coarse reading plus its granularity `G` ([`Clock::coarse_granularity_ms`]), an upper
//!   bound of the precise reading at that instant; expiry decisions read the precise
//!   clock. So a session whose last successful touch was at precise engine time `t` is
//!   never expired before `t + T` (strictly after it, at a tick boundary) and is due no
//!   later than `t + T + G + tick`: ZooKeeper's bound plus `G`. With a clock whose coarse
//!   reading is exact (`G = 0`, as the [`ManualClock`](super::ManualClock)) it is exactly
//!   ZooKeeper's rule.
//! - **Stalls.** Each worker records the clock time it asked to wake at; a wake-up later
//!   than that by more than `stall_threshold_ms` credits the time since a pass was last
//!   seen running to every deadline before the pass decides anything (see `stall`).
//! - Expiry workers: `expiry_workers` threads, worker `w` owns shards `s` with
//!   `s % workers == w`; only the owner advances a shard's wheel in normal operation.
//!   Each wakes at tick boundaries, decides at most `expiry_batch` sessions per lock hold,
//!   and hands each batch to the sink after releasing the lock.
//! - Stopping: [`Engine::stop_workers`] sets the stop flag, wakes the workers and every
//!   `poll_expired` waiter, and joins the workers; their handles sit behind a lock taken
//!   only there, so it works through `&self` and any number of times, and a caller returns
//!   only once every worker is joined. A worker thread itself (an [`Expirer`] calling it)
//!   never takes that lock: it only sets the flag, so a caller joining that worker under
//!   the lock cannot deadlock with it. Session calls never look at the flag: they stay
//!   valid after a stop.
//! - Learners: remote entries and the touch table live in the shards (see `shard`), so a
//!   learner's touch is one shard-lock call and a drain takes each shard lock once.
//!
//! Must never: hold a shard lock while calling the sink, or hold two shard locks at once,
//! or join a worker from that worker's own thread.

use super::clock::{Clock, SystemClock};
use super::config::Config;
use super::error::{ConfigError, Error};
use super::expiry::{ExpiredQueue, Expirer, LagHistogram, LagSummary, Sink};
use super::id::IdGenerator;
use super::password::{Passwords, PASSWORD_LEN};
use super::session::{
    Counts, Created, Expired, LearnerTouch, SessionEntry, SessionKind, SessionState, Totals,
};
use super::shard::{Fast, Shard, Step};
use super::stall::StallClock;
use super::stripes::Striped;
use super::table::{self, Guard};
use crate::sync::{thread, AtomicBool, Condvar, Mutex, Ordering};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Builds an [`Engine`] with a chosen clock, sink and worker policy.
pub struct EngineBuilder {
    config: Config,
    clock: Option<Arc<dyn Clock>>,
    expirer: Option<Box<dyn Expirer>>,
    workers: bool,
}

impl EngineBuilder {
    /// Uses `clock` instead of the [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Delivers expirations to `expirer` instead of the built-in queue read by
    /// [`Engine::poll_expired`].
    pub fn expirer(mut self, expirer: impl Expirer) -> Self {
        self.expirer = Some(Box::new(expirer));
        self
    }

    /// Whether to start the expiry worker threads (default true). Without them the
    /// embedder drives expiry by calling [`Engine::expire_due`], which is how the tests
    /// run expiry deterministically.
    pub fn workers(mut self, start: bool) -> Self {
        self.workers = start;
        self
    }

    /// Validates the configuration and starts the engine.
    pub fn build(self) -> Result<Engine, ConfigError> {
        self.config.validate()?;
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock::new()));
        let tick = self.config.tick_ms as u64;
        let now = clock.now_ms();
        let base_tick = now / tick;
        let coarse_slack_ms = clock.coarse_granularity_ms();
        let shards = (0..self.config.shards).map(|_| Shard::new(0)).collect();
        let shard_bits = self.config.shards.trailing_zeros();
        let inner = Arc::new(Inner {
            ids: IdGenerator::new(self.config.server_id, clock.id_seed_ms()),
            passwords: Passwords::new(&self.config.password_mode),
            sink: match self.expirer {
                Some(e) => Sink::Callback(e),
                None => Sink::Queue(ExpiredQueue::default()),
            },
            lag: LagHistogram::new(),
            stall: StallClock::new(now, self.config.stall_threshold_ms),
            started_ms: now,
            coarse_slack_ms,
            stop: AtomicBool::new(false),
            sleep_lock: Mutex::new(()),
            sleep_cv: Condvar::new(),
            base_tick,
            touches: Striped::new(),
            shard_bits,
            shards,
            clock,
            config: self.config,
        });
        let mut workers = Vec::new();
        if self.workers {
            let n = inner.config.expiry_workers;
            for w in 0..n {
                let worker = inner.clone();
                let owned: Vec<usize> = (w..inner.config.shards).step_by(n).collect();
                let spawn = thread::Builder::new()
                    .name(format!("zks-expiry-{w}"))
                    .spawn(move || worker.worker_loop(&owned));
                match spawn {
                    Ok(h) => workers.push(h),
                    Err(_) => {
                        // Out of threads: stop those already started and report it as the
                        // worker count being unusable on this machine.
                        inner.stop();
                        for h in workers {
                            let _ = h.join();
                        }
                        return Err(ConfigError::BadWorkerCount(n));
                    }
                }
            }
        }
        Ok(Engine {
            inner,
            worker_ids: workers.iter().map(|h| h.thread().id()).collect(),
            workers: Mutex::new(workers),
        })
    }
}

struct Inner {
    config: Config,
    clock: Arc<dyn Clock>,
    shards: Box<[Shard]>,
    shard_bits: u32,
    /// Successful touches, striped per thread so touches share no counter line.
    touches: Striped,
    /// The clock's tick at engine start; wheel ticks count from here.
    base_tick: u64,
    ids: IdGenerator,
    passwords: Passwords,
    sink: Sink,
    lag: LagHistogram,
    /// The stall credit and its detection.
    stall: StallClock,
    /// The clock's reading when the engine was built: when the workers first ask to run.
    started_ms: u64,
    /// The clock's coarse granularity (ms), added to coarse readings for deadlines.
    coarse_slack_ms: u64,
    stop: AtomicBool,
    sleep_lock: Mutex<()>,
    sleep_cv: Condvar,
}

/// The session engine. Cheap to share: every method takes `&self` and is thread-safe.
///
/// Dropping it stops the expiry workers (after their current batch).
pub struct Engine {
    inner: Arc<Inner>,
    /// The expiry workers not yet joined (emptied by [`Engine::stop_workers`]).
    workers: Mutex<Vec<thread::JoinHandle<()>>>,
    /// The worker threads' ids, fixed at build: a worker never joins.
    worker_ids: Box<[thread::ThreadId]>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .field("workers", &self.worker_ids.len())
            .field("workers_stopped", &self.workers_stopped())
            .finish()
    }
}

/// How many slots [`Engine::touch_many`] prefetches ahead: about the misses a core keeps in
/// flight at once.
pub(crate) const PREFETCH_GROUP: usize = 16;

impl Inner {
    /// The shard of `id`: the top bits of a multiplicative hash (ids are sequential).
    #[inline]
    fn shard_index(&self, id: u64) -> usize {
        if self.shard_bits == 0 {
            0
        } else {
            (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.shard_bits)) as usize
        }
    }

    /// The first id after `id` that maps to `id`'s shard, looked for up to 4 x shards
    /// ahead. The golden-ratio hash spreads consecutive ids evenly (the gaps between ids of
    /// one shard take at most three values, all below 3 x shards), so the search finds it;
    /// beyond 64 shards it is not tried (`None`): the walk would cost more than the miss
    /// it saves.
    #[inline]
    fn next_in_shard(&self, id: u64) -> Option<u64> {
        let shards = 1u64 << self.shard_bits;
        if shards > 64 {
            return None;
        }
        let i = self.shard_index(id);
        (1..=4 * shards)
            .map(|k| id.wrapping_add(k))
            .find(|&n| self.shard_index(n) == i)
    }

    #[inline]
    fn shard(&self, id: u64) -> &Shard {
        let i = self.shard_index(id);
        debug_assert!(i < self.shards.len());
        &self.shards[i]
    }

    /// A touch under the pin `g`, not counted: lock-free for a live session, through the
    /// shard lock for a remote entry or while the shard's table is being replaced.
    #[inline]
    fn touch_pinned(&self, id: u64, now_ms: u64, g: &Guard) -> Result<(), Error> {
        let shard = self.shard(id);
        match shard.touch_fast(id, g, |t| self.deadline(now_ms, t)) {
            Fast::Touched => Ok(()),
            Fast::Closing => Err(Error::SessionExpired),
            Fast::Unknown => Err(Error::UnknownSession),
            Fast::Slow => shard.lock().touch(id, None, |t| self.deadline(now_ms, t)),
        }
    }

    /// The engine time: the precise clock minus the stall credit.
    #[inline]
    fn now_ms(&self) -> u64 {
        self.stall.engine_ms(self.clock.now_ms())
    }

    /// An upper bound of the engine time, from the clock's cheap reading: never earlier
    /// than [`Inner::now_ms`] at the same instant, at most the coarse granularity later.
    /// Deadlines are computed from it.
    #[inline]
    fn deadline_base_ms(&self) -> u64 {
        self.stall
            .engine_ms(self.clock.coarse_now_ms() + self.coarse_slack_ms)
    }

    /// The wheel tick (relative to `base_tick`) of engine time `ms`.
    #[inline]
    fn tick_of(&self, ms: u64) -> u64 {
        (ms / self.config.tick_ms as u64).saturating_sub(self.base_tick)
    }

    /// The deadline tick of a session touched at `now_ms` with `timeout_ms`.
    #[inline]
    fn deadline(&self, now_ms: u64, timeout_ms: u32) -> u32 {
        let t = (now_ms + timeout_ms as u64) / self.config.tick_ms as u64 + 1;
        let d = t.saturating_sub(self.base_tick).min(u32::MAX as u64) as u32;
        debug_assert!(d == u32::MAX || d as u64 >= self.tick_of(now_ms));
        d
    }

    fn tick_to_ms(&self, tick: u64) -> u64 {
        (tick + self.base_tick) * self.config.tick_ms as u64
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _g = self.sleep_lock.lock();
        self.sleep_cv.notify_all();
        if let Sink::Queue(q) = &self.sink {
            q.stop();
        }
    }

    /// Runs the expiry pass of shard `i` up to engine time `now_ms`, delivering batches.
    fn expire_shard(&self, i: usize, now_ms: u64) -> usize {
        let now = self.tick_of(now_ms);
        let mut total = 0;
        let mut batch = Vec::new();
        loop {
            let step = self.shards[i].lock().expire_step(
                now,
                self.config.expiry_batch,
                |t| self.tick_to_ms(t),
                &mut batch,
            );
            if !batch.is_empty() {
                debug_assert!(batch.len() <= self.config.expiry_batch);
                debug_assert!(batch.iter().all(|e| e.deadline_ms <= now_ms));
                // Batches are mostly one deadline: record runs of equal lag at once.
                let mut run = (u64::MAX, 0u64);
                for e in &batch {
                    let lag = now_ms.saturating_sub(e.deadline_ms);
                    if lag != run.0 {
                        self.lag.record(run.0, run.1);
                        run = (lag, 0);
                    }
                    run.1 += 1;
                }
                self.lag.record(run.0, run.1);
                total += batch.len();
                self.sink.deliver(&batch);
                batch.clear();
            }
            if step == Step::Idle {
                return total;
            }
        }
    }

    /// A pass over shards `which` that asked to run at clock time `asked_ms`: detects a
    /// stall first, then decides with the engine time that follows from it.
    fn pass_after(&self, asked_ms: u64, which: impl Iterator<Item = usize>) -> usize {
        let now = self.stall.woke(asked_ms, self.clock.now_ms());
        which.map(|i| self.expire_shard(i, now)).sum()
    }

    fn worker_loop(&self, owned: &[usize]) {
        let tick = self.config.tick_ms as u64;
        // A worker first asks to run when the engine is built: a stall before its thread
        // first runs is a stall too.
        let mut asked = self.started_ms;
        while !self.stop.load(Ordering::SeqCst) {
            self.pass_after(asked, owned.iter().copied());
            // Sighted before sleeping, so a stall during the sleep is credited from here.
            let clock_now = self.clock.now_ms();
            self.stall.seen(clock_now);
            // Wake at the next tick boundary of engine time, asked for in clock time.
            let now = self.stall.engine_ms(clock_now);
            let next = (now / tick + 1) * tick;
            let sleep = next.saturating_sub(now).max(1);
            asked = clock_now + sleep;
            let mut g = Some(self.sleep_lock.lock());
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            self.sleep_cv.wait_for(&mut g, Duration::from_millis(sleep));
        }
    }
}

impl Engine {
    /// An engine on the system clock, with expiry workers, delivering to the built-in
    /// queue read by [`Engine::poll_expired`].
    pub fn new(config: Config) -> Result<Engine, ConfigError> {
        Engine::builder(config).build()
    }

    /// A builder to choose the clock, the sink and whether workers run.
    pub fn builder(config: Config) -> EngineBuilder {
        EngineBuilder {
            config,
            clock: None,
            expirer: None,
            workers: true,
        }
    }

    /// The configuration the engine runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The engine time (ms): the clock's reading minus the time credited for stalls of
    /// the engine's own process (see [`Config::stall_threshold_ms`]). Every deadline,
    /// `deadline_ms` and expiry decision is in engine time. It never decreases, except that
    /// a reading taken after a stall but before its detection may be up to the stall's
    /// length ahead of the readings after it.
    pub fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }

    /// Clamps a requested timeout to `[min, max]` (see [`Config::negotiate_timeout`]).
    pub fn negotiate_timeout(&self, requested_ms: i64) -> u32 {
        self.inner.config.negotiate_timeout(requested_ms)
    }

    /// Creates a session with the negotiated timeout for `requested_timeout_ms`.
    ///
    /// `kind` is honoured only when local sessions are enabled; otherwise every session is
    /// global. Never reuses an id: an id already tracked (say, `add`ed from elsewhere) is
    /// skipped.
    pub fn create(&self, requested_timeout_ms: i64, kind: SessionKind) -> Created {
        let inner = &*self.inner;
        let timeout_ms = inner.config.negotiate_timeout(requested_timeout_ms);
        let kind = if inner.config.local_sessions {
            kind
        } else {
            SessionKind::Global
        };
        let deadline = inner.deadline(inner.deadline_base_ms(), timeout_ms);
        loop {
            let id = inner.ids.next_id();
            let mut s = inner.shard(id).lock();
            if s.insert(id, timeout_ms, kind, deadline) {
                s.note_create();
                // Ids are handed out in order: the slot of the next id this shard will
                // get is where a create lands soon. Start loading it now (a hint, under
                // the lock that keeps the table alive), so that create's insert does not
                // wait for memory.
                if let Some(next) = inner.next_in_shard(id) {
                    s.prefetch(next);
                }
                drop(s);
                return Created {
                    id,
                    timeout_ms,
                    password: inner.passwords.password(id),
                    kind,
                };
            }
        }
    }

    /// Tracks a session created elsewhere (ensemble replay; ZooKeeper's `trackSession`
    /// plus `commitSession`), due one timeout from now.
    ///
    /// A remote entry stays remote: `add` of it only refreshes its timeout and records a
    /// touch, as any touch of it does (use [`Engine::make_global`] to file it).
    ///
    /// Returns `Ok(true)` if newly tracked. If already tracked it refreshes the deadline
    /// and returns `Ok(false)`; adding it as `Global` also upgrades a local copy (as
    /// `commitSession` does). Unlike ZooKeeper, adding a *closing* session fails with
    /// [`Error::SessionExpired`] instead of re-queuing it for a second expiry.
    pub fn add(&self, id: u64, timeout_ms: u32, kind: SessionKind) -> Result<bool, Error> {
        if timeout_ms == 0 || id == 0 {
            return Err(Error::BadArguments);
        }
        let inner = &*self.inner;
        let kind = if inner.config.local_sessions {
            kind
        } else {
            SessionKind::Global
        };
        let deadline = inner.deadline(inner.deadline_base_ms(), timeout_ms);
        let mut s = inner.shard(id).lock();
        if s.insert(id, timeout_ms, kind, deadline) {
            return Ok(true);
        }
        s.touch(id, Some(timeout_ms), |_| deadline)?;
        if kind == SessionKind::Global {
            s.upgrade(id, true)?;
        }
        Ok(false)
    }

    /// Refreshes a session with its current timeout. Fails with
    /// [`Error::UnknownSession`] or [`Error::SessionExpired`] (closing).
    #[inline]
    pub fn touch(&self, id: u64) -> Result<(), Error> {
        self.touch_at(id, self.inner.deadline_base_ms())
    }

    /// [`Engine::touch`] with the caller's reading of the engine clock (saves a clock read
    /// when the caller already has one; it must come from [`Engine::now_ms`]).
    ///
    /// A touch of a live session takes no lock and writes only its own record (and this
    /// thread's stripe of the touch total): touches of different sessions from different
    /// threads share no written cache line. It raises the deadline, never lowers it.
    #[inline]
    pub fn touch_at(&self, id: u64, now_ms: u64) -> Result<(), Error> {
        let inner = &*self.inner;
        let g = table::pin();
        inner.touch_pinned(id, now_ms, &g)?;
        inner.touches.add(1);
        Ok(())
    }

    /// Refreshes a session with a new timeout (a reconnect's renegotiated value), which
    /// also becomes its timeout for later touches.
    pub fn touch_with_timeout(&self, id: u64, timeout_ms: u32) -> Result<(), Error> {
        if timeout_ms == 0 {
            return Err(Error::BadArguments);
        }
        let inner = &*self.inner;
        let deadline = inner.deadline(inner.deadline_base_ms(), timeout_ms);
        inner
            .shard(id)
            .lock()
            .touch(id, Some(timeout_ms), |_| deadline)?;
        inner.touches.add(1);
        Ok(())
    }

    /// Touches many sessions with one clock reading and one epoch pin (a learner's touch
    /// table, a batch from the C or Java caller). Returns how many were touched; unknown
    /// and closing ids are skipped.
    ///
    /// The ids go in groups of 16: the slots of a group are prefetched
    /// before any of them is touched, so their memory latencies overlap instead of adding
    /// up (a single touch at a million sessions is one memory miss on its slot).
    pub fn touch_many(&self, ids: &[u64]) -> usize {
        let inner = &*self.inner;
        let now = inner.deadline_base_ms();
        let g = table::pin();
        let mut ok = 0;
        for group in ids.chunks(PREFETCH_GROUP) {
            for &id in group {
                inner.shard(id).prefetch(id, &g);
            }
            ok += group
                .iter()
                .filter(|&&id| inner.touch_pinned(id, now, &g).is_ok())
                .count();
        }
        inner.touches.add(ok as u64);
        ok
    }

    /// A client's closeSession: marks the session closing and forgets it. No expiry is
    /// delivered for it afterwards. Fails with [`Error::UnknownSession`] if not tracked
    /// (so a second close fails).
    pub fn close(&self, id: u64) -> Result<(), Error> {
        // `remove` also drops a recorded touch of the id.
        if self.inner.shard(id).lock().remove(id) {
            Ok(())
        } else {
            Err(Error::UnknownSession)
        }
    }

    /// Marks a session closing without forgetting it (ZooKeeper's `setSessionClosing`):
    /// touches fail from now on and no expiry will be delivered for it.
    pub fn set_closing(&self, id: u64) -> Result<(), Error> {
        self.inner.shard(id).lock().set_closing(id)
    }

    /// Forgets a session (after the embedder has handled its expiry or close). Returns
    /// whether it was tracked.
    pub fn remove(&self, id: u64) -> bool {
        self.inner.shard(id).lock().remove(id)
    }

    /// Whether the engine tracks `id` (closing sessions included).
    pub fn is_tracking(&self, id: u64) -> bool {
        self.inner.shard(id).lock().contains(id)
    }

    /// Sets the session's owner. Fails with [`Error::SessionExpired`] if the session is
    /// unknown or closing (ZooKeeper's `setOwner`).
    pub fn set_owner(&self, id: u64, owner: u64) -> Result<(), Error> {
        self.inner.shard(id).lock().set_owner(id, owner)
    }

    /// The session's owner, if one was set.
    pub fn owner(&self, id: u64) -> Result<Option<u64>, Error> {
        self.inner.shard(id).lock().owner_of(id)
    }

    /// ZooKeeper's `checkSession`: unknown → [`Error::UnknownSession`], closing →
    /// [`Error::SessionExpired`], no owner yet → `owner` becomes the owner, another owner
    /// → [`Error::SessionMoved`].
    pub fn check_session(&self, id: u64, owner: u64) -> Result<(), Error> {
        self.inner.shard(id).lock().check(id, owner)
    }

    /// ZooKeeper's `checkGlobalSession`: like [`Engine::check_session`] but the session
    /// must be global, and unknown maps to [`Error::SessionExpired`].
    pub fn check_global_session(&self, id: u64, owner: u64) -> Result<(), Error> {
        let mut s = self.inner.shard(id).lock();
        match s.kind_of(id) {
            Err(Error::UnknownSession) | Ok(SessionKind::Local) => Err(Error::SessionExpired),
            Err(e) => Err(e),
            Ok(SessionKind::Global) => s.check(id, owner),
        }
    }

    /// Upgrades a local session to global; returns its timeout. Idempotent: a global
    /// session returns `Ok` unchanged. Fails with [`Error::UnknownSession`],
    /// [`Error::SessionExpired`] (closing: an upgrade racing expiry loses cleanly) or
    /// [`Error::EphemeralOnLocalSession`] (upgrading disabled).
    pub fn upgrade(&self, id: u64) -> Result<u32, Error> {
        let allowed = self.inner.config.local_session_upgrade;
        self.inner.shard(id).lock().upgrade(id, allowed)
    }

    /// Whether a live session is global.
    pub fn is_global(&self, id: u64) -> Result<bool, Error> {
        Ok(self.inner.shard(id).lock().kind_of(id)? == SessionKind::Global)
    }

    /// The password of session `id` (a pure function of the id and the password mode).
    pub fn password(&self, id: u64) -> [u8; PASSWORD_LEN] {
        self.inner.passwords.password(id)
    }

    /// Whether `password` is the password of `id` (constant time).
    pub fn verify_password(&self, id: u64, password: &[u8]) -> bool {
        self.inner.passwords.verify(id, password)
    }

    /// Every live (non-closing) session, for a snapshot. Remote entries are exported as
    /// global sessions (a restore makes them ordinary global sessions).
    pub fn snapshot(&self) -> Vec<SessionEntry> {
        let mut out = Vec::new();
        for s in self.inner.shards.iter() {
            s.lock().export(&mut out);
        }
        out
    }

    /// Imports sessions with fresh deadlines (one timeout from now), as ZooKeeper does on
    /// load. Returns how many were newly tracked; entries already tracked are refreshed.
    /// Fails with [`Error::BadArguments`] (importing nothing) if any entry has id 0 or
    /// timeout 0.
    pub fn restore(&self, entries: &[SessionEntry]) -> Result<usize, Error> {
        if entries.iter().any(|e| e.id == 0 || e.timeout_ms == 0) {
            return Err(Error::BadArguments);
        }
        let mut added = 0;
        for e in entries {
            // A closing session keeps its decided fate; that is not an import failure.
            if let Ok(true) = self.add(e.id, e.timeout_ms, e.kind) {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Milliseconds until the session is due (0 if due now; `u64::MAX` for a remote
    /// entry, which never expires here).
    pub fn time_to_live(&self, id: u64) -> Result<u64, Error> {
        let inner = &*self.inner;
        let Some(deadline) = inner.shard(id).lock().deadline_of(id)? else {
            return Ok(u64::MAX);
        };
        Ok(inner
            .tick_to_ms(deadline as u64)
            .saturating_sub(inner.now_ms()))
    }

    /// Session counts by kind, remote and closing, and the touch table's size.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in self.inner.shards.iter() {
            let x = s.lock().counts();
            c.global += x.global;
            c.local += x.local;
            c.closing += x.closing;
            c.remote += x.remote;
            c.closing_local += x.closing_local;
            c.closing_global += x.closing_global;
            c.touch_table += x.touch_table;
        }
        debug_assert_eq!(c.closing, c.closing_local + c.closing_global);
        c
    }

    /// Running totals of creates, touches, expirations and stalls.
    pub fn totals(&self) -> Totals {
        let stalls = self.inner.stall.figures();
        let mut t = Totals {
            stalls: stalls.stalls,
            stalled_ms: stalls.credited_ms,
            ..Totals::default()
        };
        t.touches = self.inner.touches.sum();
        for s in self.inner.shards.iter() {
            let x = s.lock().totals();
            t.creates += x.creates;
            t.expirations += x.expirations;
        }
        t
    }

    /// Number of sessions tracked (closing ones included).
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Whether no session is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The expiry-lag histogram (decision time minus deadline).
    pub fn expiry_lag(&self) -> LagSummary {
        self.inner.lag.summary()
    }

    /// Live sessions grouped by the time (engine clock, ms) they are due, like
    /// ZooKeeper's `getSessionExpiryMap`. Ids within a group are sorted. Remote entries
    /// never expire here and are not listed.
    pub fn expiry_map(&self) -> BTreeMap<u64, Vec<u64>> {
        self.expiry_map_of(None)
    }

    /// [`Engine::expiry_map`] restricted to sessions of one kind (ZooKeeper's dump prints
    /// local and global sessions apart).
    pub fn expiry_map_by_kind(&self, kind: SessionKind) -> BTreeMap<u64, Vec<u64>> {
        self.expiry_map_of(Some(kind))
    }

    fn expiry_map_of(&self, kind: Option<SessionKind>) -> BTreeMap<u64, Vec<u64>> {
        let mut m: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for s in self.inner.shards.iter() {
            s.lock().for_each_deadline(kind, |d, id| {
                m.entry(self.inner.tick_to_ms(d as u64))
                    .or_default()
                    .push(id)
            });
        }
        for v in m.values_mut() {
            v.sort_unstable();
        }
        m
    }

    /// Decides every expiry due by now on every shard, delivering to the sink, and
    /// returns how many sessions expired. The workers do this on their own; call it when
    /// the engine was built with `workers(false)`, typically after advancing a
    /// [`ManualClock`](super::ManualClock).
    pub fn expire_due(&self) -> usize {
        let now = self.inner.now_ms();
        (0..self.inner.shards.len())
            .map(|i| self.inner.expire_shard(i, now))
            .sum()
    }

    /// [`Engine::expire_due`] for an embedder that drives expiry from its own timer
    /// (an engine built with `workers(false)`), with the workers' stall detection:
    /// `asked_ms` is the engine time ([`Engine::now_ms`]) its timer was set to fire at.
    /// If the clock now reads more than [`Config::stall_threshold_ms`] past it, the
    /// process could not run: the clock time since a pass was last seen running (the
    /// previous such call, a worker's sighting, or the engine's start) is credited to every
    /// session's deadline before anything is decided, and counted in
    /// [`Totals::stalls`] and [`Totals::stalled_ms`].
    pub fn expire_due_after(&self, asked_ms: u64) -> usize {
        let inner = &*self.inner;
        let asked = asked_ms.saturating_add(inner.stall.credit_ms());
        inner.pass_after(asked, 0..inner.shards.len())
    }

    /// Pops up to `max` expired sessions from the built-in queue, waiting up to `wait`
    /// for the first. Fails with [`Error::NotPollable`] if the engine delivers to an
    /// [`Expirer`] instead.
    ///
    /// After [`Engine::stop_workers`] (or a concurrent one) it never waits: it returns
    /// what is queued, possibly nothing, so a polling thread can tell the engine stopped
    /// from [`Engine::workers_stopped`].
    pub fn poll_expired(&self, max: usize, wait: Duration) -> Result<Vec<Expired>, Error> {
        let mut out = Vec::new();
        match &self.inner.sink {
            Sink::Queue(q) => {
                q.poll(max, wait, &mut out);
                Ok(out)
            }
            Sink::Callback(_) => Err(Error::NotPollable),
        }
    }

    /// Stops the expiry workers and wakes any `poll_expired` waiter. Idempotent; also
    /// done on drop. The same as [`Engine::stop_workers`].
    pub fn shutdown(&mut self) {
        self.stop_workers();
    }

    /// Stops the expiry workers and joins them (after their current batch), and wakes
    /// every `poll_expired` waiter, which returns at once from then on. Idempotent and
    /// callable from any thread: concurrent callers all return once the workers are
    /// joined. Called from an [`Expirer`] on a worker thread it only signals the stop (a
    /// worker cannot join itself); the workers exit after their batch and the next call
    /// from another thread, or `shutdown`/drop, joins them. Every other call stays valid
    /// afterwards; expiry then happens only through [`Engine::expire_due`].
    pub fn stop_workers(&self) {
        self.inner.stop();
        if self.worker_ids.contains(&thread::current().id()) {
            return;
        }
        // Joined under the lock, so a concurrent caller returns only once they are joined.
        let mut workers = self.workers.lock();
        for h in workers.drain(..) {
            let _ = h.join();
        }
    }

    /// Whether [`Engine::stop_workers`] (or `shutdown`) has run.
    pub fn workers_stopped(&self) -> bool {
        self.inner.stop.load(Ordering::SeqCst)
    }

    /// The state of any tracked session, closing ones included: its kind, whether it is a
    /// remote entry, whether it is closing. Fails with [`Error::UnknownSession`].
    pub fn kind_any(&self, id: u64) -> Result<SessionState, Error> {
        self.inner.shard(id).lock().state_of(id)
    }

    /// A fresh id from the generator `create` uses (never reused, ids already tracked
    /// skipped), tracked nowhere: for an embedder that tracks the session elsewhere (a
    /// learner without local sessions).
    pub fn next_id(&self) -> u64 {
        let inner = &*self.inner;
        loop {
            let id = inner.ids.next_id();
            if !inner.shard(id).lock().contains(id) {
                return id;
            }
        }
    }

    /// Tracks a remote entry: a global session another server decides (a learner's view
    /// of the ensemble's global sessions). It is never filed for expiry and never expires
    /// here; [`Counts::remote`] counts it. Its touches are recorded in the touch table
    /// (see [`Engine::learner_touch`]).
    ///
    /// Returns `Ok(false)` and changes nothing if the id is already tracked (in any state).
    /// Fails with [`Error::BadArguments`] for id 0 or timeout 0.
    pub fn add_remote(&self, id: u64, timeout_ms: u32) -> Result<bool, Error> {
        if timeout_ms == 0 || id == 0 {
            return Err(Error::BadArguments);
        }
        Ok(self.inner.shard(id).lock().insert_remote(id, timeout_ms))
    }

    /// Atomically turns a live local session into a remote entry (a learner's upgrade):
    /// from then on it never expires here. Returns its timeout. Idempotent on remote
    /// entries and global sessions (they stay as they are). Fails with
    /// [`Error::UnknownSession`], or [`Error::SessionExpired`] if closing (an upgrade
    /// racing expiry loses cleanly). Not gated by `local_session_upgrade`: the embedder
    /// applies that policy.
    pub fn upgrade_to_remote(&self, id: u64) -> Result<u32, Error> {
        self.inner.shard(id).lock().upgrade_to_remote(id)
    }

    /// A learner's touch, in one shard-lock call: a live local (or global) session has
    /// its deadline refreshed here with `timeout_ms` ([`LearnerTouch::Local`]); a remote
    /// entry has `(id, timeout_ms)` recorded in the touch table for the leader
    /// ([`LearnerTouch::Forwarded`]). In both cases `timeout_ms` becomes the session's
    /// timeout. Fails with [`Error::UnknownSession`], [`Error::SessionExpired`] (closing)
    /// or [`Error::BadArguments`] (timeout 0).
    pub fn learner_touch(&self, id: u64, timeout_ms: u32) -> Result<LearnerTouch, Error> {
        if timeout_ms == 0 {
            return Err(Error::BadArguments);
        }
        let inner = &*self.inner;
        let deadline = inner.deadline(inner.deadline_base_ms(), timeout_ms);
        inner
            .shard(id)
            .lock()
            .learner_touch(id, timeout_ms, |_| deadline)
    }

    /// Records a touch of `id` with `timeout_ms` in the touch table unconditionally (for
    /// ids the embedder knows are global, tracked here or not). A later record of the same
    /// id before a drain replaces the timeout.
    pub fn record_touch(&self, id: u64, timeout_ms: u32) {
        self.inner.shard(id).lock().record_touch(id, timeout_ms);
    }

    /// Takes every recorded touch: at most one `(id, timeout_ms)` per id, the last
    /// timeout recorded. A touch recorded concurrently lands in this drain or the next,
    /// never in none and never in both. Takes each shard lock once; the order is
    /// unspecified.
    pub fn drain_touched(&self) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        for s in self.inner.shards.iter() {
            s.lock().drain_touched(&mut out);
        }
        out
    }

    /// Makes a local or remote session global WITHOUT refreshing its deadline (the
    /// leader's `commitSession`). A remote entry is filed for expiry at its stored
    /// deadline (that of its last touch here), or one timeout from now if it has none.
    /// Returns its timeout; a global session returns `Ok` unchanged. Fails with
    /// [`Error::UnknownSession`] or [`Error::SessionExpired`] (closing). Not gated by
    /// `local_session_upgrade`.
    pub fn make_global(&self, id: u64) -> Result<u32, Error> {
        let inner = &*self.inner;
        let now = inner.deadline_base_ms();
        inner
            .shard(id)
            .lock()
            .make_global(id, |t| inner.deadline(now, t))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn engine(shards: usize) -> Engine {
        Engine::builder(Config {
            shards,
            expiry_workers: 1,
            ..Config::with_tick(100)
        })
        .workers(false)
        .build()
        .unwrap()
    }

    #[test]
    fn the_next_id_of_a_shard_is_found_up_to_64_shards() {
        for shards in [1, 2, 8, 64] {
            let e = engine(shards);
            let inner = &*e.inner;
            for id in (1u64 << 56..(1 << 56) + 5000).chain(u64::MAX - 300..u64::MAX - 200) {
                let next = inner
                    .next_in_shard(id)
                    .unwrap_or_else(|| panic!("{shards} shards: none after {id:#x}"));
                let i = inner.shard_index(id);
                assert_eq!(inner.shard_index(next), i);
                let gap = next.wrapping_sub(id);
                assert!(
                    gap >= 1 && gap <= 3 * shards as u64,
                    "{shards} shards: gap {gap}"
                );
                // The first one: no id in between maps to the shard.
                assert!((1..gap).all(|k| inner.shard_index(id.wrapping_add(k)) != i));
            }
        }
    }

    #[test]
    fn beyond_64_shards_the_next_id_is_not_looked_for() {
        let e = engine(128);
        assert_eq!(e.inner.next_in_shard(1 << 56), None);
    }
}
