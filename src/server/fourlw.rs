//! Four-letter words: text commands recognised from the first 4 bytes of a new connection.
//!
//! Owns: recognising a command ([`recognise`]) and producing its output ([`run`]) in
//! ZooKeeper 3.8's format (same lines, keys and layout; values are zksessiond's): `conf`,
//! `cons`, `crst`, `dump`, `envi`, `ruok`, `srst`, `srvr`, `stat`, `wchs`, `wchc`,
//! `wchp`, `dirs`, `mntr`, `isro`, `hash`, `gtmk`, each gated by `4lw.commands.whitelist`;
//! the version zksessiond reports ([`VERSION`], [`version_line`]).
//!
//! `run` is called on the four-letter-word thread (`answers`), never on an event loop.
//! The figures come from `figures`, which the AdminServer reads too: this module only
//! writes them in ZooKeeper's text layout.
//!
//! Must never: hold a lock the request path needs for work proportional to the data (the
//! figures are gathered a connection, a session or a page of watches at a time).

use super::config::ALL_FOUR_LETTER_WORDS;
use super::figures::{self, ConnFigures};
use super::mntr_names;
use super::shared::{wall_ms, Shared};
use super::stats::Stats;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The ZooKeeper version whose protocol zksessiond speaks.
pub const PROTOCOL_VERSION: &str = "3.8.0";

/// The version zksessiond reports as `zookeeper.version` (before `, built on ...`): the
/// ZooKeeper version it speaks, then its own name and version where ZooKeeper puts its
/// git hash, e.g. `3.8.0-zksessiond-0.1.0`. Clients read the leading `x.y.z`.
pub const VERSION: &str = concat!("3.8.0-zksessiond-", env!("CARGO_PKG_VERSION"));

/// `VERSION, built on YYYY-MM-DD HH:MM UTC`, ZooKeeper 3.8's full version line. The date
/// is `SOURCE_DATE_EPOCH` at build time when set (reproducible builds), else the epoch.
pub fn version_line() -> String {
    let secs: i64 = option_env!("SOURCE_DATE_EPOCH")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let t = format_ms(secs * 1000);
    format!("{VERSION}, built on {} UTC", &t[..16])
}

/// The command spelled by the first 4 bytes of a connection, if they spell one.
pub(crate) fn recognise(first: [u8; 4]) -> Option<&'static str> {
    ALL_FOUR_LETTER_WORDS
        .iter()
        .copied()
        .find(|w| w.as_bytes() == first)
}

/// Held by a test to stall every word's work, wherever it runs.
#[cfg(test)]
pub(crate) static HOLD: crate::sync::Mutex<()> = parking_lot::const_mutex(());

/// The output of `cmd` (already recognised).
/// The digest history `hash` answers: none with `zookeeper.digest.enabled=false` (as
/// ZooKeeper, which then computes no digest).
pub(crate) fn digest_history(shared: &Shared) -> Vec<(i64, i64)> {
    if !shared.config.digest_enabled() {
        return Vec::new();
    }
    shared.ns.lock().digest_history()
}

pub(crate) fn run(shared: &Shared, cmd: &str) -> String {
    #[cfg(test)]
    let _held = HOLD.lock();
    if !shared.config.four_letter_words.allows(cmd) {
        return format!("{cmd} is not executed because it is not in the whitelist.\n");
    }
    match cmd {
        "ruok" => "imok".to_owned(),
        "isro" => "rw".to_owned(),
        "gtmk" => "0".to_owned(),
        // ZooKeeper's digest history: `<hex zxid>:<digest>` a line.
        "hash" => digest_history(shared)
            .into_iter()
            .map(|(zxid, digest)| format!("{zxid:x}:{digest}\n"))
            .collect(),
        "srvr" => server_stats(shared, false),
        "stat" => server_stats(shared, true),
        "conf" => conf(shared),
        "envi" => envi(),
        "dirs" => {
            let (data, log) = figures::dir_sizes(shared);
            format!("datadir_size: {data}\nlogdir_size: {log}\n")
        }
        "crst" => {
            figures::reset_connection_figures(shared);
            "Connection stats reset.\n".to_owned()
        }
        "srst" => {
            shared.stats.reset();
            "Server stats reset.\n".to_owned()
        }
        "cons" => {
            let mut out = String::new();
            for c in figures::all_conn_figures(shared) {
                connection_line(&mut out, &c, true);
            }
            out.push('\n');
            out
        }
        "dump" => dump(shared),
        "wchs" => {
            let w = shared.ns.lock().watch_summary();
            format!(
                "{} connections watching {} paths\nTotal watches:{}\n",
                w.watchers, w.paths, w.total
            )
        }
        "wchc" => {
            let mut out = String::new();
            for (sid, paths) in figures::watches_by_connection(shared) {
                let _ = writeln!(out, "0x{sid:x}");
                for p in paths {
                    let _ = writeln!(out, "\t{p}");
                }
            }
            out.push('\n');
            out
        }
        "wchp" => {
            let mut out = String::new();
            for (p, sids) in figures::watches_by_path(shared) {
                let _ = writeln!(out, "{p}");
                for sid in sids {
                    let _ = writeln!(out, "\t0x{sid:x}");
                }
            }
            out.push('\n');
            out
        }
        "mntr" => mntr(shared),
        _ => String::new(),
    }
}

fn connection_line(out: &mut String, c: &ConnFigures, full: bool) {
    let _ = write!(
        out,
        " /{}[{}](queued={},recved={},sent={}",
        c.peer,
        u8::from(c.session != 0),
        c.queued,
        c.received,
        c.sent
    );
    if let (true, Some(f)) = (full, &c.session_figures) {
        let _ = write!(
            out,
            ",sid=0x{:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
            c.session,
            f.last_op,
            f.established_ms,
            f.timeout_ms,
            f.last_cxid,
            f.last_zxid,
            f.last_response_ms,
            f.last_latency_ms,
            f.min_latency_ms,
            f.avg_latency_ms,
            f.max_latency_ms,
        );
    }
    out.push_str(")\n");
}

/// A latency average as ZooKeeper prints a double (`0.0`, `0.25`).
fn java_double(v: f64) -> String {
    format!("{v:?}")
}

fn server_stats(shared: &Shared, with_clients: bool) -> String {
    let mut out = String::new();
    let f = figures::server_figures(shared);
    let _ = writeln!(out, "Zookeeper version: {}", f.version);
    if with_clients {
        out.push_str("Clients:\n");
        for c in figures::all_conn_figures(shared) {
            connection_line(&mut out, &c, false);
        }
        out.push('\n');
    }
    let (min, avg, max) = f.latency_ms;
    let _ = writeln!(
        out,
        "Latency min/avg/max: {min:.0}/{}/{max:.0}",
        java_double(avg)
    );
    let _ = writeln!(out, "Received: {}", f.packets_received);
    let _ = writeln!(out, "Sent: {}", f.packets_sent);
    let _ = writeln!(out, "Connections: {}", f.alive_connections);
    let _ = writeln!(out, "Outstanding: 0");
    let _ = writeln!(out, "Zxid: 0x{:x}", f.last_zxid);
    let _ = writeln!(out, "Mode: {}", figures::SERVER_STATE);
    let _ = writeln!(out, "Node count: {}", f.node_count);
    out
}

fn conf(shared: &Shared) -> String {
    let f = figures::conf_figures(shared);
    let mut out = String::new();
    let _ = writeln!(out, "clientPort={}", f.client_port);
    let _ = writeln!(out, "secureClientPort={}", f.secure_client_port);
    let _ = writeln!(out, "dataDir={}", f.data_dir);
    let _ = writeln!(out, "dataDirSize={}", f.data_dir_size);
    let _ = writeln!(out, "dataLogDir={}", f.data_log_dir);
    let _ = writeln!(out, "dataLogSize={}", f.data_log_size);
    let _ = writeln!(out, "tickTime={}", f.tick_ms);
    let _ = writeln!(out, "maxClientCnxns={}", f.max_client_cnxns);
    let _ = writeln!(out, "minSessionTimeout={}", f.min_session_timeout_ms);
    let _ = writeln!(out, "maxSessionTimeout={}", f.max_session_timeout_ms);
    let _ = writeln!(
        out,
        "clientPortListenBacklog={}",
        f.client_port_listen_backlog
    );
    let _ = writeln!(out, "serverId={}", f.server_id);
    out
}

/// ZooKeeper's `envi`: `Environment:` then `key=value` lines.
fn envi() -> String {
    let mut out = String::from("Environment:\n");
    for (k, v) in figures::environment() {
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

fn dump(shared: &Shared) -> String {
    let d = figures::dump_figures(shared);
    let mut out = String::from("SessionTracker dump:\nSession Sets (");
    let total: usize = d.expiry.iter().map(|(_, ids)| ids.len()).sum();
    let _ = writeln!(out, "{})/({}):", d.expiry.len(), total);
    let now_wall = wall_ms() as i64;
    let wall_of = |deadline: u64| now_wall + (deadline as i64 - d.engine_now_ms as i64);
    let mut deadline_of: BTreeMap<u64, i64> = BTreeMap::new();
    for (deadline, ids) in &d.expiry {
        let _ = writeln!(
            out,
            "{} expire at {}:",
            ids.len(),
            java_date(wall_of(*deadline))
        );
        for id in ids {
            let _ = writeln!(out, "\t0x{id:x}");
            deadline_of.insert(*id, wall_of(*deadline));
        }
    }
    let _ = writeln!(
        out,
        "ephemeral nodes dump:\nSessions with Ephemerals ({}):",
        d.ephemerals.len()
    );
    for (sid, paths) in &d.ephemerals {
        let _ = writeln!(out, "0x{sid:x}:");
        for p in paths {
            let _ = writeln!(out, "\t{p}");
        }
    }
    // Connections by the time they would be dropped: their session's deadline, or the
    // handshake deadline for a connection without one.
    let mut sets: BTreeMap<i64, Vec<(u64, String)>> = BTreeMap::new();
    let conns = figures::connections(shared);
    for c in &conns {
        let sid = c.session.load(crate::sync::Ordering::Relaxed);
        let at = deadline_of
            .get(&sid)
            .copied()
            .unwrap_or(c.established_ms as i64 + 10_000);
        // Grouped to the second, as the printed times are.
        sets.entry(at / 1000 * 1000)
            .or_default()
            .push((sid, c.peer.to_string()));
    }
    let _ = writeln!(
        out,
        "Connections dump:\nConnections Sets ({})/({}):",
        sets.len(),
        conns.len()
    );
    for (at, members) in sets {
        let _ = writeln!(out, "{} expire at {}:", members.len(), java_date(at));
        for (sid, peer) in members {
            let _ = writeln!(out, "\tip: /{peer} sessionId: 0x{sid:x}");
        }
    }
    out
}

/// Days since the epoch → (year, month 1-12, day 1-31) (civil-from-days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC) for a wall-clock ms value.
fn format_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{milli:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `Tue Dec 01 04:26:23 UTC 2026`, the form ZooKeeper's `dump` prints times in (UTC).
fn java_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{} {} {d:02} {:02}:{:02}:{:02} UTC {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Every `mntr` line, in order: ZooKeeper's keys (zero where zksessiond has no such
/// figure), then zksessiond's own `zks_` keys.
pub(crate) fn mntr_lines(shared: &Shared) -> Vec<(String, String)> {
    let s = &shared.stats;
    let (min, avg, max) = s.latency_ms();
    let counts = shared.engine.counts();
    let totals = shared.engine.totals();
    let lag = shared.engine.expiry_lag();
    let (nodes, watches, ephemerals, data_size, memory) = {
        let ns = shared.ns.lock();
        (
            ns.node_count(),
            ns.watch_count(),
            ns.ephemeral_count(),
            ns.approximate_data_size(),
            (
                ns.memory_budget(),
                ns.memory_used(),
                ns.memory_refusals(),
                ns.memory_buffers(),
            ),
        )
    };
    let (open_fds, max_fds) = figures::descriptors();
    let get = |c: &crate::sync::AtomicU64| Stats::get(c).to_string();
    let mut lines: Vec<(String, String)> = [
        ("zk_version", version_line()),
        ("zk_server_state", "standalone".into()),
        ("zk_ephemerals_count", ephemerals.to_string()),
        ("zk_num_alive_connections", get(&s.alive_connections)),
        ("zk_avg_latency", java_double(avg)),
        ("zk_outstanding_requests", "0".into()),
        ("zk_znode_count", nodes.to_string()),
        ("zk_global_sessions", counts.global.to_string()),
        ("zk_last_client_response_size", "-1".into()),
        ("zk_packets_sent", get(&s.sent)),
        ("zk_packets_received", get(&s.received)),
        ("zk_max_client_response_size", "-1".into()),
        ("zk_connection_drop_probability", "0.0".into()),
        ("zk_watch_count", watches.to_string()),
        ("zk_min_latency", format!("{min:.0}")),
        ("zk_max_file_descriptor_count", max_fds.to_string()),
        ("zk_approximate_data_size", data_size.to_string()),
        ("zk_open_file_descriptor_count", open_fds.to_string()),
        ("zk_local_sessions", counts.local.to_string()),
        (
            "zk_uptime",
            shared.started.elapsed().as_millis().to_string(),
        ),
        ("zk_max_latency", format!("{max:.0}")),
        ("zk_min_client_response_size", "-1".into()),
        ("zk_connection_rejected", get(&s.connections_rejected)),
        (
            "zk_sessionless_connections_expired",
            get(&s.sessionless_expired),
        ),
        ("zk_connection_drop_count", get(&s.connections_dropped)),
        ("zk_bytes_received_count", get(&s.bytes_received)),
        ("zk_connection_request_count", get(&s.connection_requests)),
        (
            "zk_connection_revalidate_count",
            get(&s.connection_revalidates),
        ),
        ("zk_stale_sessions_expired", get(&s.sessions_expired)),
        ("zk_auth_failed_count", get(&s.auth_failed)),
        ("zk_digest_mismatches_count", get(&s.digest_mismatches)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for name in mntr_names::ZERO_COUNTERS {
        lines.push((format!("zk_{name}"), "0".into()));
    }
    let summary = |lines: &mut Vec<(String, String)>, name: &str, quantiles: bool| {
        lines.push((format!("zk_avg_{name}"), "0.0".into()));
        for p in ["min", "max", "cnt", "sum"] {
            lines.push((format!("zk_{p}_{name}"), "0".into()));
        }
        if quantiles {
            for p in ["p50", "p95", "p99", "p999"] {
                lines.push((format!("zk_{p}_{name}"), "0".into()));
            }
        }
    };
    for name in mntr_names::SUMMARIES {
        summary(&mut lines, name, false);
    }
    for name in mntr_names::QUANTILE_SUMMARIES {
        summary(&mut lines, name, true);
    }
    let own: [(&str, String); 17] = [
        ("zks_sessions_closing", counts.closing.to_string()),
        ("zks_sessions_total", counts.total().to_string()),
        ("zks_sessions_created", totals.creates.to_string()),
        ("zks_session_touches", totals.touches.to_string()),
        ("zks_session_expirations", totals.expirations.to_string()),
        ("zks_stalls", totals.stalls.to_string()),
        ("zks_stalled_ms", totals.stalled_ms.to_string()),
        ("zks_expiry_lag_count", lag.count.to_string()),
        // Percentiles are histogram bucket bounds; never report one above the maximum.
        (
            "zks_expiry_lag_p50_ms",
            lag.p50_ms.min(lag.max_ms).to_string(),
        ),
        (
            "zks_expiry_lag_p99_ms",
            lag.p99_ms.min(lag.max_ms).to_string(),
        ),
        ("zks_expiry_lag_max_ms", lag.max_ms.to_string()),
        (
            "zks_dead_session_requests_dropped",
            get(&s.dropped_dead_session),
        ),
        (
            "zks_auth_failed_count",
            Stats::get(&s.auth_failed).to_string(),
        ),
        (
            "zks_memory_budget_bytes",
            memory.0.map_or(-1, |b| b as i64).to_string(),
        ),
        ("zks_memory_used_bytes", memory.1.to_string()),
        ("zks_memory_buffers_bytes", memory.3.to_string()),
        ("zks_memory_budget_refusals", memory.2.to_string()),
    ];
    lines.extend(own.into_iter().map(|(k, v)| (k.to_owned(), v)));
    lines.push(("zks_watch_events_sent".into(), get(&s.watch_events)));
    lines
}

fn mntr(shared: &Shared) -> String {
    let mut out = String::new();
    for (k, v) in mntr_lines(shared) {
        let _ = writeln!(out, "{k}\t{v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_words_are_recognised_and_frames_are_not() {
        assert_eq!(recognise(*b"ruok"), Some("ruok"));
        assert_eq!(recognise(*b"mntr"), Some("mntr"));
        assert_eq!(recognise(*b"envi"), Some("envi"));
        assert_eq!(recognise([0, 0, 0, 45]), None);
        assert_eq!(recognise(*b"kill"), None);
    }

    #[test]
    fn wall_times_format_as_utc() {
        assert_eq!(format_ms(0), "1970-01-01 00:00:00.000");
        assert_eq!(format_ms(1_700_000_000_123), "2023-11-14 22:13:20.123");
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_796_099_183_000), "Tue Dec 01 04:26:23 UTC 2026");
    }

    #[test]
    fn the_version_line_parses_as_zookeeper_3_8_0() {
        let v = version_line();
        assert!(v.starts_with("3.8.0-zksessiond-"), "{v}");
        assert!(v.contains(", built on "), "{v}");
        let digits: Vec<u32> = v
            .split('-')
            .next()
            .unwrap()
            .split('.')
            .map(|d| d.parse().unwrap())
            .collect();
        assert_eq!(digits, [3, 8, 0]);
    }

    #[test]
    fn envi_has_zookeepers_keys_in_order() {
        let out = envi();
        let keys: Vec<&str> = out
            .lines()
            .skip(1)
            .map(|l| l.split_once('=').unwrap().0)
            .collect();
        assert_eq!(out.lines().next(), Some("Environment:"));
        assert_eq!(keys[0], "zookeeper.version");
        assert_eq!(keys.len(), 18);
        assert_eq!(keys[17], "os.memory.total");
    }
}
