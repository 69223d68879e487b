//! The Prometheus endpoint: `GET /metrics` on `metricsProvider.httpHost`:`httpPort` when
//! `metricsProvider.className` names ZooKeeper's Prometheus provider.
//!
//! Owns: the HTTP thread `zksessiond-metrics` (an `http::HttpThread`) and the encoding of
//! a scrape with `prometheus-client`: every numeric `mntr` figure under ZooKeeper's metric
//! name and type (the `mntr` key without `zk_`, so ZooKeeper's dashboards find them):
//! ZooKeeper's counters ([`ZK_COUNTERS`]) as counters, its summaries (`mntr`'s
//! `avg_/min_/max_/cnt_/sum_<name>` and percentiles) as one summary `<name>` each, the
//! rest as gauges; and the engine's session figures: `zks_sessions{kind=...}` (global, local, closing),
//! `zks_sessions_created`, `zks_session_touches` and `zks_session_expirations` (counters),
//! and `zks_expiry_lag_ms` (a histogram of how late expiries ran, from the engine's
//! buckets).
//!
//! ZooKeeper's own counters and summaries are written after `prometheus-client`'s output,
//! before its closing `# EOF`, in the same text format: `prometheus-client` has no
//! summary type, and it names a counter's sample `<name>_total` where ZooKeeper's
//! provider (simpleclient 0.9) names it `<name>`, the series ZooKeeper's dashboards and
//! alerts query.
//!
//! Deliberate differences from ZooKeeper's provider: no `jvm_*`/`process_*` figures (there
//! is no JVM), no per-namespace summary sets (`read_per_namespace`, `write_per_namespace`,
//! `ack_latency`, `learner_handler_qp_*`: quorum or per-key figures zksessiond does not
//! keep). zksessiond's own counters (`zks_*`) are `prometheus-client`'s: OpenMetrics
//! naming, a `<name>_total` sample under `# TYPE <name> counter`, which Prometheus
//! ingests under the sample's name.
//!
//! Must never: run on an event loop or hold a lock the request path needs for work
//! proportional to the data (it reads the same figures as `mntr`); outlive the server
//! ([`MetricsServer::stop`] unblocks and joins its thread).

use super::fourlw;
use super::http::{HttpThread, Reply};
use super::mntr_names;
use super::shared::Shared;
use crate::engine::lag_bucket_upper_ms;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The running endpoint.
pub(crate) struct MetricsServer {
    http: HttpThread,
}

impl MetricsServer {
    /// Binds `addr` and starts answering scrapes.
    pub(crate) fn start(addr: SocketAddr, shared: Arc<Shared>) -> std::io::Result<MetricsServer> {
        let http = HttpThread::start("zksessiond-metrics", addr, move |path| {
            if path == "/metrics" {
                Reply::ok(CONTENT_TYPE, scrape(&shared))
            } else {
                Reply::error(404, "not found")
            }
        })?;
        tracing::info!(addr = %http.addr(), "Prometheus metrics on /metrics");
        Ok(MetricsServer { http })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// Stops answering and joins the thread (which drops its reference to the state).
    pub(crate) fn stop(&mut self) {
        self.http.stop();
    }
}

/// The exposition format served.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// ZooKeeper 3.8's counters (its `ServerMetrics` counters, as Debian's ZooKeeper 3.8
/// registers them); every other plain `mntr` figure is a gauge there.
pub(crate) const ZK_COUNTERS: &[&str] = &[
    "add_dead_watcher_stall_time",
    "bytes_received_count",
    "cnxn_closed_without_zk_server_running",
    "commit_count",
    "connection_drop_count",
    "connection_rejected",
    "connection_request_count",
    "connection_revalidate_count",
    "dead_watchers_cleared",
    "dead_watchers_queued",
    "diff_count",
    "digest_mismatches_count",
    "ensemble_auth_fail",
    "ensemble_auth_skip",
    "ensemble_auth_success",
    "insecure_admin_count",
    "large_requests_rejected",
    "learner_commit_received_count",
    "learner_proposal_received_count",
    "looking_count",
    "outstanding_changes_queued",
    "outstanding_changes_removed",
    "prep_processor_request_queued",
    "proposal_count",
    "quit_leading_due_to_disloyal_voter",
    "request_commit_queued",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_bytes",
    "response_packet_cache_hits",
    "response_packet_cache_misses",
    "response_packet_get_children_cache_hits",
    "response_packet_get_children_cache_misses",
    "revalidate_count",
    "sessionless_connections_expired",
    "skip_learner_request_to_next_processor_count",
    "snap_count",
    "stale_replies",
    "stale_requests",
    "stale_requests_dropped",
    "stale_sessions_expired",
    "sync_processor_request_queued",
    "throttled_ops",
    "tls_handshake_exceeded",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "watch_bytes",
];

/// The `mntr` prefixes of a summary's figures.
const SUMMARY_PARTS: [&str; 9] = [
    "avg_", "min_", "max_", "cnt_", "sum_", "p50_", "p95_", "p99_", "p999_",
];

/// Whether `name` (an `mntr` key without `zk_`) is one figure of a summary.
fn is_summary_part(name: &str) -> bool {
    SUMMARY_PARTS.iter().any(|p| {
        name.strip_prefix(p).is_some_and(|rest| {
            mntr_names::SUMMARIES.contains(&rest) || mntr_names::QUANTILE_SUMMARIES.contains(&rest)
        })
    })
}

/// Writes ZooKeeper's counters and summaries from the `mntr` figures (`lines`, keys
/// without `zk_`), as ZooKeeper's provider names their samples: a counter's sample is
/// its bare name (no `_total`); a summary has `_sum` and `_count`, plus the quantiles 0.5,
/// 0.9 and 0.99 of the detailed ones (NaN while nothing was observed; 0.9 reads `mntr`'s
/// p95, the nearest percentile it keeps at or above 0.9).
fn write_zookeeper_families(out: &mut String, lines: &HashMap<&str, &str>) {
    use std::fmt::Write;
    for name in ZK_COUNTERS {
        let Some(v) = lines.get(name).and_then(|v| v.parse::<u64>().ok()) else {
            continue;
        };
        let _ = writeln!(out, "# HELP {name} ZooKeeper's {name}.");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {v}");
    }
    let get = |key: String| lines.get(key.as_str()).copied().unwrap_or("0");
    let summaries = mntr_names::SUMMARIES.iter().map(|n| (*n, false));
    for (name, quantiles) in
        summaries.chain(mntr_names::QUANTILE_SUMMARIES.iter().map(|n| (*n, true)))
    {
        let count: u64 = get(format!("cnt_{name}")).parse().unwrap_or(0);
        let sum: f64 = get(format!("sum_{name}")).parse().unwrap_or(0.0);
        let _ = writeln!(out, "# HELP {name} ZooKeeper's {name}.");
        let _ = writeln!(out, "# TYPE {name} summary");
        if quantiles {
            for (q, p) in [("0.5", "p50"), ("0.9", "p95"), ("0.99", "p99")] {
                let v = if count == 0 {
                    "NaN".to_owned()
                } else {
                    get(format!("{p}_{name}")).to_owned()
                };
                let _ = writeln!(out, "{name}{{quantile=\"{q}\"}} {v}");
            }
        }
        let _ = writeln!(out, "{name}_sum {sum:?}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// The engine's expiry-lag buckets as a Prometheus histogram.
#[derive(Debug)]
struct LagHistogram {
    sum: f64,
    count: u64,
    /// (upper bound in ms, count in that bucket), the last bound `f64::MAX` (`+Inf`).
    buckets: Vec<(f64, u64)>,
}

impl EncodeMetric for LagHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<()>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// One scrape in Prometheus' text format.
pub(crate) fn scrape(shared: &Shared) -> String {
    let mut registry = Registry::default();
    let mntr = fourlw::mntr_lines(shared);
    let zk: HashMap<&str, &str> = mntr
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("zk_")?, v.as_str())))
        .collect();
    for (key, value) in &mntr {
        let Some(name) = key.strip_prefix("zk_") else {
            continue;
        };
        if is_summary_part(name) {
            continue;
        }
        if ZK_COUNTERS.contains(&name) {
            // Written by `write_zookeeper_families`, under ZooKeeper's sample names.
            continue;
        }
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(v);
        registry.register(name, format!("ZooKeeper's {name}"), g);
    }
    let counts = shared.engine.counts();
    let sessions = Family::<Vec<(String, String)>, Gauge>::default();
    for (kind, n) in [
        ("global", counts.global),
        ("local", counts.local),
        ("closing", counts.closing),
    ] {
        sessions
            .get_or_create(&vec![("kind".to_owned(), kind.to_owned())])
            .set(n as i64);
    }
    registry.register("zks_sessions", "Sessions tracked, by kind", sessions);
    let totals = shared.engine.totals();
    for (name, help, v) in [
        ("zks_sessions_created", "Sessions created", totals.creates),
        ("zks_session_touches", "Session touches", totals.touches),
        (
            "zks_session_expirations",
            "Sessions expired",
            totals.expirations,
        ),
    ] {
        let c = Counter::<u64>::default();
        c.inc_by(v);
        registry.register(name, help, c);
    }
    let lag = shared.engine.expiry_lag();
    let mut buckets: Vec<(f64, u64)> = lag
        .buckets
        .iter()
        .enumerate()
        .map(|(i, n)| (lag_bucket_upper_ms(i) as f64, *n))
        .collect();
    if let Some(last) = buckets.last_mut() {
        // The last bucket holds everything above the previous bound.
        last.0 = f64::MAX;
    }
    registry.register(
        "zks_expiry_lag_ms",
        "How late expiries ran after their deadline (ms)",
        LagHistogram {
            sum: lag.sum_ms as f64,
            count: lag.count,
            buckets,
        },
    );
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
        tracing::error!("metrics encoding failed");
    }
    // The summaries go before the closing `# EOF`.
    let eof = out.rfind("# EOF").unwrap_or(out.len());
    let tail = out.split_off(eof);
    write_zookeeper_families(&mut out, &zk);
    out.push_str(&tail);
    out
}

#[cfg(test)]
mod tests {
    use crate::server::test_client::{call, open_session};
    use crate::server::{Server, ServerConfig};
    use crate::wire::Request;
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// `(types by name, sample values by series)` of a scrape.
    fn parse(body: &str) -> (HashMap<String, String>, HashMap<String, f64>) {
        let mut types = HashMap::new();
        let mut values = HashMap::new();
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') && !line.is_empty() {
                let (series, v) = line.rsplit_once(' ').unwrap();
                values.insert(series.to_owned(), v.parse().unwrap());
            }
        }
        (types, values)
    }

    #[test]
    fn a_scrape_has_zookeepers_names_and_the_session_figures_move() {
        let config = ServerConfig {
            client_addr: "127.0.0.1:0".parse().unwrap(),
            metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
            event_loops: 1,
            ..ServerConfig::default()
        };
        let server = Server::start(config).unwrap();
        let metrics = server.metrics_addr().unwrap();
        assert!(get(metrics, "/nothing").starts_with("HTTP/1.0 404"));

        let page = get(metrics, "/metrics");
        let body = page.split_once("\r\n\r\n").unwrap().1;
        let (types, values) = parse(body);
        for name in [
            "znode_count",
            "num_alive_connections",
            "global_sessions",
            "watch_count",
            "ephemerals_count",
            "packets_received",
            "avg_latency",
            "zks_sessions",
        ] {
            assert_eq!(types.get(name).map(String::as_str), Some("gauge"), "{name}");
        }
        assert_eq!(types["readlatency"], "summary");
        assert_eq!(types["fsynctime"], "summary");
        assert!(
            !types.contains_key("avg_readlatency"),
            "summaries are not gauges"
        );
        assert!(values.contains_key("readlatency_count"));
        // ZooKeeper's counters under its sample names (no `_total`).
        assert!(values.contains_key("connection_request_count"));
        assert!(!values.contains_key("connection_request_count_total"));
        assert!(values["readlatency{quantile=\"0.5\"}"].is_nan());
        for name in [
            "zks_sessions_created",
            "zks_session_touches",
            "zks_session_expirations",
            "connection_request_count",
            "stale_sessions_expired",
        ] {
            assert_eq!(
                types.get(name).map(String::as_str),
                Some("counter"),
                "{name}"
            );
        }
        assert_eq!(types["zks_expiry_lag_ms"], "histogram");
        assert!(values.contains_key("zks_expiry_lag_ms_bucket{le=\"+Inf\"}"));
        assert_eq!(values["zks_sessions{kind=\"global\"}"], 0.0);

        let (mut c, _) = open_session(server.local_addr());
        let (_, values) = parse(get(metrics, "/metrics").split_once("\r\n\r\n").unwrap().1);
        assert_eq!(values["zks_sessions{kind=\"global\"}"], 1.0);
        assert_eq!(values["zks_sessions_created_total"], 1.0);
        assert_eq!(values["global_sessions"], 1.0);

        // closeSession: the session is gone.
        call(&mut c, 1, &Request::CloseSession);
        let (_, values) = parse(get(metrics, "/metrics").split_once("\r\n\r\n").unwrap().1);
        assert_eq!(values["zks_sessions{kind=\"global\"}"], 0.0);
        assert_eq!(values["global_sessions"], 0.0);
        drop(server);
    }
}
