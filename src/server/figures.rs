//! The server's figures as data: what the four-letter words (`fourlw`, text) and the
//! AdminServer (`admin_json`, JSON) both report, gathered once here so the two never
//! disagree.
//!
//! Owns: gathering the server-wide figures ([`ServerFigures`]), each connection's
//! ([`ConnFigures`]), the configuration shown by `conf` ([`ConfFigures`]), the `envi`
//! entries ([`environment`]), the session and ephemeral tables of `dump` ([`DumpFigures`]),
//! the watch tables of `wchc`/`wchp`, and the sizes of the data directories.
//!
//! Invariants: every figure is O(1) (kept incrementally) or gathered one connection or one
//! session at a time, the namespace lock taken and released around each (or around a
//! page of watches), so a report over a large server never holds up requests for long.
//!
//! Must never: format output (callers do, each in its own syntax), or run on an event
//! loop (callers are the four-letter-word and AdminServer threads).

use super::fourlw::version_line;
use super::shared::{ConnShared, Shared};
use super::stats::Stats;
use crate::sync::Ordering::Relaxed;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Server-wide figures (`srvr`, `stat`, `server_stats`).
#[derive(Debug, Clone)]
pub(crate) struct ServerFigures {
    /// ZooKeeper's full version line.
    pub(crate) version: String,
    pub(crate) packets_received: u64,
    pub(crate) packets_sent: u64,
    /// `(min, avg, max)` request latency in ms.
    pub(crate) latency_ms: (f64, f64, f64),
    pub(crate) alive_connections: u64,
    pub(crate) last_zxid: i64,
    pub(crate) node_count: usize,
    /// Read by the AdminServer's `server_stats` (the `srvr` word has no such line).
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) uptime_ms: u64,
    /// Read by the AdminServer's `server_stats` (the `srvr` word has no such line).
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) auth_failed: u64,
}

/// The server state ZooKeeper reports for a server of no ensemble.
pub(crate) const SERVER_STATE: &str = "standalone";

/// Gathers [`ServerFigures`] (one short namespace lock for the node count).
pub(crate) fn server_figures(shared: &Shared) -> ServerFigures {
    let s = &shared.stats;
    ServerFigures {
        version: version_line(),
        packets_received: Stats::get(&s.received),
        packets_sent: Stats::get(&s.sent),
        latency_ms: s.latency_ms(),
        alive_connections: Stats::get(&s.alive_connections),
        last_zxid: shared.last_zxid.load(Relaxed),
        node_count: shared.ns.lock().node_count(),
        uptime_ms: shared.started.elapsed().as_millis() as u64,
        auth_failed: Stats::get(&s.auth_failed),
    }
}

/// Open connections, sorted by id (one short `conns` lock).
pub(crate) fn connections(shared: &Shared) -> Vec<Arc<ConnShared>> {
    let mut v: Vec<_> = shared.conns.lock().values().cloned().collect();
    v.sort_by_key(|c| c.id);
    v
}

/// A connection's figures (`cons`, `stat`, `connections`).
#[derive(Debug, Clone)]
pub(crate) struct ConnFigures {
    pub(crate) peer: SocketAddr,
    /// The attached session, 0 before the handshake.
    pub(crate) session: u64,
    /// Requests received and not yet answered.
    pub(crate) queued: u64,
    pub(crate) received: u64,
    pub(crate) sent: u64,
    /// The per-session figures, once a session is attached.
    pub(crate) session_figures: Option<SessionFigures>,
}

/// The figures of a connection with a session.
#[derive(Debug, Clone)]
pub(crate) struct SessionFigures {
    /// ZooKeeper's short name of the last operation (`PING`, `GETD`, ...).
    pub(crate) last_op: &'static str,
    /// Wall-clock ms when the connection was accepted.
    pub(crate) established_ms: u64,
    pub(crate) timeout_ms: u32,
    pub(crate) last_cxid: i32,
    pub(crate) last_zxid: i64,
    pub(crate) last_response_ms: u64,
    /// Latencies in whole ms, as ZooKeeper reports them.
    pub(crate) last_latency_ms: u64,
    pub(crate) min_latency_ms: u64,
    pub(crate) avg_latency_ms: u64,
    pub(crate) max_latency_ms: u64,
}

/// Reads one connection's figures (its `info` lock, briefly).
pub(crate) fn conn_figures(c: &ConnShared) -> ConnFigures {
    let session = c.session.load(Relaxed);
    let session_figures = (session != 0).then(|| {
        let i = c.info.lock().clone();
        SessionFigures {
            last_op: i.last_op,
            established_ms: c.established_ms,
            timeout_ms: c.timeout_ms.load(Relaxed),
            last_cxid: i.last_cxid,
            last_zxid: i.last_zxid,
            last_response_ms: i.last_response_ms,
            last_latency_ms: i.last_latency_us / 1000,
            min_latency_ms: if i.min_latency_us == u64::MAX {
                0
            } else {
                i.min_latency_us / 1000
            },
            avg_latency_ms: i.latency_sum_us.checked_div(i.requests).unwrap_or(0) / 1000,
            max_latency_ms: i.max_latency_us / 1000,
        }
    });
    ConnFigures {
        peer: c.peer,
        session,
        queued: c.queued.load(Relaxed),
        received: c.received.load(Relaxed),
        sent: c.sent.load(Relaxed),
        session_figures,
    }
}

/// Every open connection's figures, by connection id.
pub(crate) fn all_conn_figures(shared: &Shared) -> Vec<ConnFigures> {
    connections(shared)
        .iter()
        .map(|c| conn_figures(c))
        .collect()
}

/// `crst`: zeroes every connection's figures.
pub(crate) fn reset_connection_figures(shared: &Shared) {
    for c in connections(shared) {
        c.reset_figures();
    }
}

/// ZooKeeper keeps its snapshots under `<dataDir>/version-2`.
pub(crate) fn version_dir(shared: &Shared) -> Option<PathBuf> {
    shared.config.data_dir.as_ref().map(|d| d.join("version-2"))
}

/// And its logs under `<dataLogDir>/version-2` (`dataLogDir` defaults to `dataDir`).
pub(crate) fn log_version_dir(shared: &Shared) -> Option<PathBuf> {
    let c = &shared.config;
    c.data_log_dir
        .as_ref()
        .or(c.data_dir.as_ref())
        .map(|d| d.join("version-2"))
}

/// Total size of the regular files directly in `dir` (0 when unreadable).
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// `(data dir size, log dir size)` in bytes (`dirs`).
pub(crate) fn dir_sizes(shared: &Shared) -> (u64, u64) {
    let size = |d: Option<PathBuf>| d.map(|d| dir_size(&d)).unwrap_or(0);
    (size(version_dir(shared)), size(log_version_dir(shared)))
}

/// The newest snapshot in the data directory, for `last_snapshot`: its zxid and when it
/// was written (its file's modification time, in seconds since the epoch). Without one
/// (no `dataDir`, or none written yet): zxid 0 and the time the server started.
pub(crate) fn last_snapshot(shared: &Shared) -> (i64, u64) {
    let newest = version_dir(shared)
        .and_then(|d| crate::persist::list_files(&d, crate::persist::FileKind::Snapshot).ok())
        .and_then(|files| files.into_iter().max_by_key(|(zxid, _)| *zxid));
    let written = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    };
    let started = (super::shared::wall_ms() - shared.started.elapsed().as_millis() as u64) / 1000;
    match newest {
        Some((zxid, path)) => (zxid, written(&path).unwrap_or(started)),
        None => (0, started),
    }
}

/// The configuration `conf` shows.
#[derive(Debug, Clone)]
pub(crate) struct ConfFigures {
    pub(crate) client_port: u16,
    /// The TLS client port, -1 without one.
    pub(crate) secure_client_port: i32,
    /// `<dataDir>/version-2`, empty without a data directory.
    pub(crate) data_dir: String,
    pub(crate) data_dir_size: u64,
    /// `<dataLogDir>/version-2`, empty without a data directory.
    pub(crate) data_log_dir: String,
    pub(crate) data_log_size: u64,
    pub(crate) tick_ms: u32,
    pub(crate) max_client_cnxns: u32,
    pub(crate) min_session_timeout_ms: u32,
    pub(crate) max_session_timeout_ms: u32,
    /// ZooKeeper's `myid`; 0 for a server of no ensemble.
    pub(crate) server_id: u64,
    /// The listen backlog asked for; -1 for the system's default.
    pub(crate) client_port_listen_backlog: i32,
}

/// Gathers [`ConfFigures`].
pub(crate) fn conf_figures(shared: &Shared) -> ConfFigures {
    let c = &shared.config;
    let e = c.engine_config();
    let shown = |d: Option<PathBuf>| d.map(|d| d.display().to_string()).unwrap_or_default();
    let (data_dir_size, data_log_size) = dir_sizes(shared);
    ConfFigures {
        client_port: c.client_addr.port(),
        secure_client_port: c.secure_client_addr.map_or(-1, |a| i32::from(a.port())),
        data_dir: shown(version_dir(shared)),
        data_dir_size,
        data_log_dir: shown(log_version_dir(shared)),
        data_log_size,
        tick_ms: c.tick_ms,
        max_client_cnxns: c.max_client_cnxns,
        min_session_timeout_ms: e.min_session_timeout_ms,
        max_session_timeout_ms: e.max_session_timeout_ms,
        server_id: 0,
        client_port_listen_backlog: -1,
    }
}

/// A one-line file of `/proc`, trimmed.
fn proc_line(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// A `kB` field of a `/proc` status-like file, in MB.
fn proc_mb(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

/// ZooKeeper's `envi` entries: the same keys, in the same order. The `java.*` keys have no
/// meaning for zksessiond and read `<NA>`; `os.memory.*` are the machine's available and
/// total memory and the process's resident size.
pub(crate) fn environment() -> Vec<(&'static str, String)> {
    let na = || "<NA>".to_owned();
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        other => other,
    };
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Mac OS X",
        other => other,
    };
    vec![
        ("zookeeper.version", version_line()),
        (
            "host.name",
            proc_line("/proc/sys/kernel/hostname").unwrap_or_else(|| "localhost".into()),
        ),
        ("java.version", na()),
        ("java.vendor", na()),
        ("java.home", na()),
        ("java.class.path", na()),
        ("java.library.path", na()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", na()),
        ("os.name", os.to_owned()),
        ("os.arch", arch.to_owned()),
        (
            "os.version",
            proc_line("/proc/sys/kernel/osrelease").unwrap_or_default(),
        ),
        (
            "user.name",
            std::env::var("USER").unwrap_or_else(|_| "?".into()),
        ),
        (
            "user.home",
            std::env::var("HOME").unwrap_or_else(|_| "?".into()),
        ),
        (
            "user.dir",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        ),
        (
            "os.memory.free",
            format!("{}MB", proc_mb("/proc/meminfo", "MemAvailable:")),
        ),
        (
            "os.memory.max",
            format!("{}MB", proc_mb("/proc/meminfo", "MemTotal:")),
        ),
        (
            "os.memory.total",
            format!("{}MB", proc_mb("/proc/self/status", "VmRSS:")),
        ),
    ]
}

/// The tables of `dump`.
#[derive(Debug, Clone, Default)]
pub(crate) struct DumpFigures {
    /// Sessions by expiry deadline on the engine's clock (ms), earliest first.
    pub(crate) expiry: Vec<(u64, Vec<u64>)>,
    /// The engine clock's reading when the table was taken.
    pub(crate) engine_now_ms: u64,
    /// Sessions owning ephemerals, by id, with their paths sorted.
    pub(crate) ephemerals: Vec<(u64, Vec<String>)>,
}

/// Gathers [`DumpFigures`]: one short namespace lock per session, never one for the
/// whole table.
pub(crate) fn dump_figures(shared: &Shared) -> DumpFigures {
    let map = shared.engine.expiry_map();
    let engine_now_ms = shared.engine.now_ms();
    let expiry: Vec<(u64, Vec<u64>)> = map.into_iter().collect();
    let ids: BTreeSet<u64> = expiry
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    let mut ephemerals = Vec::new();
    for id in ids {
        let mut paths = shared.ns.lock().get_ephemerals(id, "/");
        if !paths.is_empty() {
            paths.sort_unstable();
            ephemerals.push((id, paths));
        }
    }
    DumpFigures {
        expiry,
        engine_now_ms,
        ephemerals,
    }
}

/// Paths copied per namespace-lock hold by `wchc`/`wchp`: bounds how long a request
/// waits behind them, whatever one connection watches.
const WATCH_PAGE: usize = 512;

/// Each watching connection's session id and its data watches, sorted. The namespace lock
/// is taken per page of [`WATCH_PAGE`] paths, never for a whole connection, so requests
/// interleave with the copy; like ZooKeeper's, the listing is not one atomic view.
pub(crate) fn watches_by_connection(shared: &Shared) -> Vec<(u64, Vec<String>)> {
    let mut out = Vec::new();
    for c in connections(shared) {
        let mut paths: Vec<String> = Vec::new();
        loop {
            let page = shared.ns.lock().data_watches_page(
                c.id,
                paths.last().map(String::as_str),
                WATCH_PAGE,
            );
            let last_page = page.len() < WATCH_PAGE;
            paths.extend(page);
            if last_page {
                break;
            }
        }
        if paths.is_empty() {
            continue;
        }
        out.push((c.session.load(Relaxed), paths));
    }
    out
}

/// The same watches by path: each watched path and the sessions watching it, sorted.
pub(crate) fn watches_by_path(shared: &Shared) -> BTreeMap<String, BTreeSet<u64>> {
    let mut by_path: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for (sid, paths) in watches_by_connection(shared) {
        for p in paths {
            by_path.entry(p).or_default().insert(sid);
        }
    }
    by_path
}

/// Descriptors open by this process and its limit (`/proc`; 0 where unreadable).
pub(crate) fn descriptors() -> (u64, u64) {
    let open = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    let max = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0);
    (open, max)
}
