//! Four-letter words: text commands recognised from the first 4 bytes of a new connection.
//!
//! Owns: recognising a command ([`recognise`]) and producing its output ([`run`]):
//! `ruok`, `isro`, `srvr`, `stat`, `cons`, `dump`, `wchs`, `mntr`, each gated by the
//! `4lw.commands.whitelist` setting.
//!
//! Must never: do I/O or hold the namespace lock longer than one figure-gathering call.

use super::config::ALL_FOUR_LETTER_WORDS;
use super::shared::{wall_ms, ConnShared, Shared};
use super::stats::Stats;
use crate::sync::Ordering::Relaxed;
use std::fmt::Write;
use std::sync::Arc;

/// The version string reported by `srvr`, `stat` and `mntr`.
pub const VERSION: &str = concat!("3.8.0-zksession-", env!("CARGO_PKG_VERSION"));

/// The command spelled by the first 4 bytes of a connection, if they spell one.
pub(crate) fn recognise(first: [u8; 4]) -> Option<&'static str> {
    ALL_FOUR_LETTER_WORDS
        .iter()
        .copied()
        .find(|w| w.as_bytes() == first)
}

/// The output of `cmd` (already recognised).
pub(crate) fn run(shared: &Shared, cmd: &str) -> String {
    if !shared.config.four_letter_words.allows(cmd) {
        return format!("{cmd} is not executed because it is not in the whitelist.\n");
    }
    match cmd {
        "ruok" => "imok".to_owned(),
        "isro" => "rw".to_owned(),
        "srvr" => server_stats(shared, false),
        "stat" => server_stats(shared, true),
        "cons" => {
            let mut out = String::new();
            for c in connections(shared) {
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
        "mntr" => mntr(shared),
        _ => String::new(),
    }
}

fn connections(shared: &Shared) -> Vec<Arc<ConnShared>> {
    let mut v: Vec<_> = shared.conns.lock().values().cloned().collect();
    v.sort_by_key(|c| c.id);
    v
}

fn connection_line(out: &mut String, c: &ConnShared, full: bool) {
    let _ = write!(
        out,
        " /{}[1](queued={},recved={},sent={}",
        c.peer,
        c.queued.load(Relaxed),
        c.received.load(Relaxed),
        c.sent.load(Relaxed)
    );
    let sid = c.session.load(Relaxed);
    if full && sid != 0 {
        let i = c.info.lock().clone();
        let avg = if i.requests == 0 {
            0.0
        } else {
            i.latency_sum_us as f64 / i.requests as f64 / 1000.0
        };
        let min = if i.min_latency_us == u64::MAX {
            0
        } else {
            i.min_latency_us / 1000
        };
        let _ = write!(
            out,
            ",sid=0x{sid:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat={},avglat={avg:.0},maxlat={}",
            i.last_op,
            c.established_ms,
            c.timeout_ms.load(Relaxed),
            i.last_cxid,
            i.last_zxid,
            i.last_response_ms,
            i.last_latency_us / 1000,
            min,
            i.max_latency_us / 1000,
        );
    }
    out.push_str(")\n");
}

fn server_stats(shared: &Shared, with_clients: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Zookeeper version: {VERSION}, built on 01/01/1970 00:00 GMT"
    );
    if with_clients {
        out.push_str("Clients:\n");
        for c in connections(shared) {
            connection_line(&mut out, &c, false);
        }
        out.push('\n');
    }
    let s = &shared.stats;
    let (min, avg, max) = s.latency_ms();
    let _ = writeln!(out, "Latency min/avg/max: {min:.0}/{avg:.4}/{max:.0}");
    let _ = writeln!(out, "Received: {}", Stats::get(&s.received));
    let _ = writeln!(out, "Sent: {}", Stats::get(&s.sent));
    let _ = writeln!(out, "Connections: {}", Stats::get(&s.alive_connections));
    let _ = writeln!(out, "Outstanding: 0");
    let _ = writeln!(out, "Zxid: 0x{:x}", shared.last_zxid.load(Relaxed));
    let _ = writeln!(out, "Mode: standalone");
    let _ = writeln!(out, "Node count: {}", shared.ns.lock().node_count());
    out
}

fn dump(shared: &Shared) -> String {
    let mut out = String::from("SessionTracker dump:\nSession Sets (");
    let map = shared.engine.expiry_map();
    let total: usize = map.values().map(Vec::len).sum();
    let _ = writeln!(out, "{})/({}):", map.len(), total);
    let now_wall = wall_ms();
    let now_engine = shared.engine.now_ms();
    for (deadline, ids) in &map {
        let at = now_wall as i64 + (*deadline as i64 - now_engine as i64);
        let _ = writeln!(out, "{} expire at {}:", ids.len(), format_ms(at));
        for id in ids {
            let _ = writeln!(out, "\t0x{id:x}");
        }
    }
    let eph = shared.ns.lock().ephemerals_by_session();
    let _ = writeln!(
        out,
        "ephemeral nodes dump:\nSessions with Ephemerals ({}):",
        eph.len()
    );
    for (sid, paths) in &eph {
        let _ = writeln!(out, "0x{sid:x}:");
        for p in paths {
            let _ = writeln!(out, "\t{p}");
        }
    }
    out.push_str("Connections dump:\n");
    for c in connections(shared) {
        let _ = writeln!(out, "\t0x{:x}\t{}", c.session.load(Relaxed), c.peer);
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC) for a wall-clock ms value.
fn format_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{milli:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn mntr(shared: &Shared) -> String {
    let s = &shared.stats;
    let (min, avg, max) = s.latency_ms();
    let counts = shared.engine.counts();
    let totals = shared.engine.totals();
    let lag = shared.engine.expiry_lag();
    let (nodes, watches, ephemerals, data_size) = {
        let ns = shared.ns.lock();
        (
            ns.node_count(),
            ns.watch_count(),
            ns.ephemeral_count(),
            ns.approximate_data_size(),
        )
    };
    let lines: Vec<(&str, String)> = vec![
        (
            "zk_version",
            format!("{VERSION}, built on 01/01/1970 00:00 GMT"),
        ),
        ("zk_server_state", "standalone".into()),
        ("zk_avg_latency", format!("{avg:.4}")),
        ("zk_max_latency", format!("{max:.0}")),
        ("zk_min_latency", format!("{min:.0}")),
        ("zk_packets_received", Stats::get(&s.received).to_string()),
        ("zk_packets_sent", Stats::get(&s.sent).to_string()),
        (
            "zk_num_alive_connections",
            Stats::get(&s.alive_connections).to_string(),
        ),
        ("zk_outstanding_requests", "0".into()),
        ("zk_znode_count", nodes.to_string()),
        ("zk_watch_count", watches.to_string()),
        ("zk_ephemerals_count", ephemerals.to_string()),
        ("zk_approximate_data_size", data_size.to_string()),
        (
            "zk_uptime",
            shared.started.elapsed().as_millis().to_string(),
        ),
        ("zk_global_sessions", counts.global.to_string()),
        ("zk_local_sessions", counts.local.to_string()),
        ("zk_connection_drop_probability", "0.0".into()),
        (
            "zk_stale_sessions_expired",
            Stats::get(&s.sessions_expired).to_string(),
        ),
        (
            "zk_sessionless_connections_expired",
            Stats::get(&s.sessionless_expired).to_string(),
        ),
        (
            "zk_connection_request_count",
            Stats::get(&s.connection_requests).to_string(),
        ),
        (
            "zk_connection_revalidate_count",
            Stats::get(&s.connection_revalidates).to_string(),
        ),
        (
            "zk_connection_rejected",
            Stats::get(&s.connections_rejected).to_string(),
        ),
        (
            "zk_connection_drop_count",
            Stats::get(&s.connections_dropped).to_string(),
        ),
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
            Stats::get(&s.dropped_dead_session).to_string(),
        ),
        (
            "zks_watch_events_sent",
            Stats::get(&s.watch_events).to_string(),
        ),
        (
            "zks_auth_failed_count",
            Stats::get(&s.auth_failed).to_string(),
        ),
    ];
    let mut out = String::new();
    for (k, v) in lines {
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
        assert_eq!(recognise([0, 0, 0, 45]), None);
        assert_eq!(recognise(*b"kill"), None);
    }

    #[test]
    fn wall_times_format_as_utc() {
        assert_eq!(format_ms(0), "1970-01-01 00:00:00.000");
        assert_eq!(format_ms(1_700_000_000_123), "2023-11-14 22:13:20.123");
    }
}
