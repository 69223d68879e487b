//! The Prometheus endpoint: `GET /metrics` on `metricsProvider.httpHost`:`httpPort` when
//! `metricsProvider.className` names ZooKeeper's Prometheus provider.
//!
//! Owns: the HTTP thread `zksessiond-metrics` (a `tiny_http` server) and the encoding of a
//! scrape with `prometheus-client`: every numeric `mntr` figure under ZooKeeper's metric
//! name (the `mntr` key without `zk_`, so ZooKeeper's dashboards find them), and the
//! engine's session figures: `zks_sessions{kind=...}` (global, local, closing),
//! `zks_sessions_created`, `zks_session_touches` and `zks_session_expirations` (counters),
//! and `zks_expiry_lag_ms` (a histogram of how late expiries ran, from the engine's
//! buckets).
//!
//! Must never: run on an event loop or hold a lock the request path needs for work
//! proportional to the data (it reads the same figures as `mntr`); outlive the server
//! ([`MetricsServer::stop`] unblocks and joins its thread).

use super::fourlw;
use super::shared::Shared;
use crate::engine::lag_bucket_upper_ms;
use crate::sync::thread;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The running endpoint.
pub(crate) struct MetricsServer {
    http: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
    addr: SocketAddr,
}

impl MetricsServer {
    /// Binds `addr` and starts answering scrapes.
    pub(crate) fn start(addr: SocketAddr, shared: Arc<Shared>) -> std::io::Result<MetricsServer> {
        let http = tiny_http::Server::http(addr).map_err(std::io::Error::other)?;
        let http = Arc::new(http);
        let bound = http.server_addr().to_ip().unwrap_or(addr);
        let server = http.clone();
        let thread = thread::Builder::new()
            .name("zksessiond-metrics".into())
            .spawn(move || {
                for req in server.incoming_requests() {
                    let path = req.url().split('?').next().unwrap_or("");
                    let response = if path == "/metrics" {
                        tiny_http::Response::from_string(scrape(&shared)).with_header(
                            tiny_http::Header::from_bytes(
                                "Content-Type",
                                "text/plain; version=0.0.4; charset=utf-8",
                            )
                            .expect("a valid header"),
                        )
                    } else {
                        tiny_http::Response::from_string("not found\n").with_status_code(404)
                    };
                    if let Err(e) = req.respond(response) {
                        tracing::debug!(error = %e, "metrics scrape not answered");
                    }
                }
            })?;
        tracing::info!(addr = %bound, "Prometheus metrics on /metrics");
        Ok(MetricsServer {
            http,
            thread: Some(thread),
            addr: bound,
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and joins the thread (which drops its reference to the state).
    pub(crate) fn stop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the metrics thread panicked");
            }
        }
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
    for (key, value) in fourlw::mntr_lines(shared) {
        let Some(name) = key.strip_prefix("zk_") else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(v);
        registry.register(name, format!("ZooKeeper's {key}"), g);
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
    out
}

#[cfg(test)]
mod tests {
    use crate::server::{Server, ServerConfig};
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

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut f = (body.len() as i32).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        f
    }

    fn read_frame(s: &mut TcpStream) -> Vec<u8> {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).unwrap();
        let mut body = vec![0; i32::from_be_bytes(len) as usize];
        s.read_exact(&mut body).unwrap();
        body
    }

    fn open_session(addr: SocketAddr) -> TcpStream {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut connect = Vec::new();
        connect.extend_from_slice(&0i32.to_be_bytes());
        connect.extend_from_slice(&0i64.to_be_bytes());
        connect.extend_from_slice(&30_000i32.to_be_bytes());
        connect.extend_from_slice(&0i64.to_be_bytes());
        connect.extend_from_slice(&16i32.to_be_bytes());
        connect.extend_from_slice(&[0; 16]);
        c.write_all(&frame(&connect)).unwrap();
        read_frame(&mut c);
        c
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
        for name in [
            "zks_sessions_created",
            "zks_session_touches",
            "zks_session_expirations",
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

        let mut c = open_session(server.local_addr());
        let (_, values) = parse(get(metrics, "/metrics").split_once("\r\n\r\n").unwrap().1);
        assert_eq!(values["zks_sessions{kind=\"global\"}"], 1.0);
        assert_eq!(values["zks_sessions_created_total"], 1.0);
        assert_eq!(values["global_sessions"], 1.0);

        // closeSession (xid 1, opcode -11): the session is gone.
        let mut close = 1i32.to_be_bytes().to_vec();
        close.extend_from_slice(&(-11i32).to_be_bytes());
        c.write_all(&frame(&close)).unwrap();
        read_frame(&mut c);
        let (_, values) = parse(get(metrics, "/metrics").split_once("\r\n\r\n").unwrap().1);
        assert_eq!(values["zks_sessions{kind=\"global\"}"], 0.0);
        assert_eq!(values["global_sessions"], 0.0);
        drop(server);
    }
}
