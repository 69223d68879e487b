//! The AdminServer's commands: ZooKeeper 3.8's `/commands/<name>` answers as JSON.
//!
//! Owns: the command table ([`COMMANDS`]: each command's name and the four-letter word
//! that names it too) and each answer's JSON, with ZooKeeper's keys and nesting and its
//! trailing `command` (the command's primary name) and `error` fields (`null`, or why the
//! command failed). The figures come from `figures` (and `fourlw::mntr_lines` for
//! `monitor`), the same data the four-letter words print.
//!
//! Deliberate differences from ZooKeeper: `monitor` carries zksessiond's own `zks_*` keys
//! after ZooKeeper's; commands of a quorum or of the JVM (`leader`, `system_properties`,
//! `initial_configuration`, `set_trace_mask`, `observer_connection_stat_reset`) are not
//! offered and answer as unknown commands (`initial_configuration` would also show the
//! file's secrets, such as a super digest, to anyone reaching the port).
//!
//! Must never: run on an event loop (it runs on the AdminServer's thread), or take a lock
//! for work proportional to the data (the figures are gathered piecewise).

use super::figures::{self, ConnFigures};
use super::fourlw;
use super::shared::Shared;
use serde_json::{json, Map, Value};

/// The commands offered: `(name, other names)`, in ZooKeeper's listing order.
pub(crate) const COMMANDS: &[(&str, &[&str])] = &[
    ("configuration", &["conf", "config"]),
    ("connection_stat_reset", &["crst"]),
    ("connections", &["cons"]),
    ("dirs", &[]),
    ("dump", &[]),
    ("environment", &["envi", "env"]),
    ("get_trace_mask", &["gtmk"]),
    ("hash", &[]),
    ("is_read_only", &["isro"]),
    ("last_snapshot", &["lsnp"]),
    ("monitor", &["mntr"]),
    ("observers", &["obsr"]),
    ("ruok", &[]),
    ("server_stats", &["srvr"]),
    ("stat_reset", &["srst"]),
    ("stats", &["stat"]),
    ("voting_view", &[]),
    ("watch_summary", &["wchs"]),
    ("watches", &["wchc"]),
    ("watches_by_path", &["wchp"]),
    ("zabstate", &[]),
];

/// The primary name of the command `name` names, if any.
pub(crate) fn primary(name: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(n, aliases)| *n == name || aliases.contains(&name))
        .map(|(n, _)| *n)
}

/// The JSON answer to `name` (a primary name or an alias): the command's fields, then
/// `command` and `error`; an unknown command's answer has only those two.
pub(crate) fn answer(shared: &Shared, name: &str) -> Value {
    #[cfg(test)]
    let _held = fourlw::HOLD.lock();
    let mut out = Map::new();
    let command = match primary(name) {
        Some(cmd) => {
            fields(shared, cmd, &mut out);
            cmd.to_owned()
        }
        None => {
            out.insert("command".into(), name.into());
            out.insert("error".into(), format!("Unknown command: {name}").into());
            return Value::Object(out);
        }
    };
    out.insert("command".into(), command.into());
    out.insert("error".into(), Value::Null);
    Value::Object(out)
}

/// Adds `cmd`'s own fields to `out`.
fn fields(shared: &Shared, cmd: &str, out: &mut Map<String, Value>) {
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    match cmd {
        "ruok" | "connection_stat_reset" | "stat_reset" => {
            if cmd == "connection_stat_reset" {
                figures::reset_connection_figures(shared);
            } else if cmd == "stat_reset" {
                shared.stats.reset();
            }
        }
        "server_stats" | "stats" => {
            for (k, v) in server_stats(shared) {
                put(&k, v);
            }
            if cmd == "stats" {
                let conns: Vec<Value> = figures::all_conn_figures(shared)
                    .iter()
                    .map(|c| connection(c, true))
                    .collect();
                put("connections", conns.into());
                put("secure_connections", json!([]));
            }
        }
        "connections" => {
            let conns: Vec<Value> = figures::all_conn_figures(shared)
                .iter()
                .map(|c| connection(c, false))
                .collect();
            put("connections", conns.into());
            put("secure_connections", json!([]));
        }
        "configuration" => {
            let f = figures::conf_figures(shared);
            put("client_port", f.client_port.into());
            put("data_dir", f.data_dir.into());
            put("data_log_dir", f.data_log_dir.into());
            put("tick_time", f.tick_ms.into());
            put("max_client_cnxns", f.max_client_cnxns.into());
            put("min_session_timeout", f.min_session_timeout_ms.into());
            put("max_session_timeout", f.max_session_timeout_ms.into());
            put("server_id", f.server_id.into());
            put(
                "client_port_listen_backlog",
                f.client_port_listen_backlog.into(),
            );
        }
        "environment" => {
            for (k, v) in figures::environment() {
                put(k, v.into());
            }
        }
        "dirs" => {
            let (data, log) = figures::dir_sizes(shared);
            put("datadir_size", data.into());
            put("logdir_size", log.into());
        }
        "dump" => {
            let d = figures::dump_figures(shared);
            let expiry: Map<String, Value> = d
                .expiry
                .into_iter()
                .map(|(at, ids)| (at.to_string(), ids.into()))
                .collect();
            let eph: Map<String, Value> = d
                .ephemerals
                .into_iter()
                .map(|(id, paths)| (id.to_string(), paths.into()))
                .collect();
            put("expiry_time_to_session_ids", expiry.into());
            put("session_id_to_ephemeral_paths", eph.into());
        }
        "watch_summary" => {
            let w = shared.ns.lock().watch_summary();
            put("num_connections", w.watchers.into());
            put("num_paths", w.paths.into());
            put("num_total_watches", w.total.into());
        }
        "watches" => {
            let by_conn: Map<String, Value> = figures::watches_by_connection(shared)
                .into_iter()
                .map(|(sid, paths)| (sid.to_string(), paths.into()))
                .collect();
            put("session_id_to_watched_paths", by_conn.into());
        }
        "watches_by_path" => {
            let by_path: Map<String, Value> = figures::watches_by_path(shared)
                .into_iter()
                .map(|(p, sids)| (p, sids.into_iter().collect::<Vec<_>>().into()))
                .collect();
            put("path_to_session_ids", by_path.into());
        }
        "is_read_only" => put("read_only", false.into()),
        "hash" => {
            let history: Vec<Value> = super::fourlw::digest_history(shared)
                .into_iter()
                .map(|(zxid, digest)| {
                    json!({
                        "zxid": zxid,
                        "digestVersion": crate::persist::DIGEST_VERSION,
                        "digest": digest,
                    })
                })
                .collect();
            put("digests", history.into());
        }
        "get_trace_mask" => put("tracemask", 0.into()),
        "last_snapshot" => {
            let (zxid, secs) = figures::last_snapshot(shared);
            // ZooKeeper writes the zxid in hex, as text.
            put("zxid", format!("{zxid:x}").into());
            put("timestamp", secs.into());
        }
        "monitor" => {
            for (k, v) in fourlw::mntr_lines(shared) {
                let k = k.strip_prefix("zk_").unwrap_or(&k).to_owned();
                put(&k, number_or_text(&v));
            }
        }
        // What a server of no ensemble reports.
        "observers" => {
            put("synced_observers", 0.into());
            put("observers", json!([]));
        }
        "voting_view" => put("current_config", json!({})),
        "zabstate" => {
            put("voting", false.into());
            put("zabstate", "".into());
        }
        _ => {}
    }
}

/// A `mntr` value as JSON: an integer, a float, or the text itself.
fn number_or_text(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        return i.into();
    }
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() => f.into(),
        _ => v.into(),
    }
}

/// `server_stats`' fields, in ZooKeeper's order.
fn server_stats(shared: &Shared) -> Vec<(String, Value)> {
    let f = figures::server_figures(shared);
    let (data, log) = figures::dir_sizes(shared);
    let (min, avg, max) = f.latency_ms;
    let client_response = json!({
        "last_buffer_size": -1,
        "min_buffer_size": -1,
        "max_buffer_size": -1,
    });
    let mut stats = Map::new();
    for (k, v) in [
        ("packets_sent", f.packets_sent.into()),
        ("packets_received", f.packets_received.into()),
        ("fsync_threshold_exceed_count", 0.into()),
        ("client_response_stats", client_response.clone()),
        ("data_dir_size", data.into()),
        ("log_dir_size", log.into()),
        ("provider_null", false.into()),
        ("server_state", figures::SERVER_STATE.into()),
        ("last_processed_zxid", f.last_zxid.into()),
        ("outstanding_requests", 0.into()),
        ("avg_latency", avg.into()),
        ("max_latency", (max.round() as i64).into()),
        ("min_latency", (min.round() as i64).into()),
        ("num_alive_client_connections", f.alive_connections.into()),
        ("uptime", f.uptime_ms.into()),
        ("auth_failed_count", f.auth_failed.into()),
        ("non_mtlsremote_conn_count", 0.into()),
        ("non_mtlslocal_conn_count", 0.into()),
    ] {
        stats.insert(k.to_owned(), v);
    }
    vec![
        ("version".into(), f.version.into()),
        ("read_only".into(), false.into()),
        ("server_stats".into(), stats.into()),
        ("client_response".into(), client_response),
        ("node_count".into(), f.node_count.into()),
    ]
}

/// A connection's JSON; `brief` (as in `stats`) leaves out the session's figures.
fn connection(c: &ConnFigures, brief: bool) -> Value {
    let mut m = Map::new();
    m.insert("remote_socket_address".into(), c.peer.to_string().into());
    // ZooKeeper's selector interest: 1 (read) for a connection waiting for requests.
    m.insert("interest_ops".into(), 1.into());
    m.insert("outstanding_requests".into(), c.queued.into());
    m.insert("packets_received".into(), c.received.into());
    m.insert("packets_sent".into(), c.sent.into());
    if let (false, Some(f)) = (brief, &c.session_figures) {
        for (k, v) in [
            ("session_id", Value::from(c.session)),
            ("last_operation", f.last_op.into()),
            ("established", f.established_ms.into()),
            ("session_timeout", f.timeout_ms.into()),
            ("last_cxid", f.last_cxid.into()),
            ("last_zxid", f.last_zxid.into()),
            ("last_response_time", f.last_response_ms.into()),
            ("last_latency", f.last_latency_ms.into()),
            ("min_latency", f.min_latency_ms.into()),
            ("avg_latency", f.avg_latency_ms.into()),
            ("max_latency", f.max_latency_ms.into()),
        ] {
            m.insert(k.to_owned(), v);
        }
    }
    m.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_finds_its_command() {
        assert_eq!(primary("srvr"), Some("server_stats"));
        assert_eq!(primary("stat"), Some("stats"));
        assert_eq!(primary("mntr"), Some("monitor"));
        assert_eq!(primary("wchs"), Some("watch_summary"));
        assert_eq!(primary("ruok"), Some("ruok"));
        assert_eq!(primary("leader"), None);
        assert_eq!(primary(""), None);
    }

    #[test]
    fn mntr_values_become_json_numbers_where_they_are_numbers() {
        assert_eq!(number_or_text("42"), json!(42));
        assert_eq!(number_or_text("-1"), json!(-1));
        assert_eq!(number_or_text("0.25"), json!(0.25));
        assert_eq!(number_or_text("standalone"), json!("standalone"));
        assert_eq!(number_or_text("NaN"), json!("NaN"));
    }
}
