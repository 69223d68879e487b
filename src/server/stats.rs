//! Server-wide counters for `srvr`, `stat` and `mntr`.
//!
//! Owns: [`Stats`]: packets, connections, latency, rejections, expirations handled.
//!
//! Must never: take a lock (everything is a relaxed atomic: figures, not invariants).

use crate::sync::{AtomicU64, Ordering::Relaxed};

/// Server-wide counters.
#[derive(Debug, Default)]
pub struct Stats {
    /// Request frames received (handshakes included).
    pub received: AtomicU64,
    /// Frames sent (replies and notifications).
    pub sent: AtomicU64,
    /// Connections currently open.
    pub alive_connections: AtomicU64,
    /// Connections refused by `maxClientCnxns` or `maxCnxns`.
    pub connections_rejected: AtomicU64,
    /// Handshakes for a new session.
    pub connection_requests: AtomicU64,
    /// Handshakes re-attaching an existing session.
    pub connection_revalidates: AtomicU64,
    /// Connections closed for breaking the protocol (bad frames, unknown opcodes).
    pub connections_dropped: AtomicU64,
    /// Sessions the engine expired and the server cleaned up.
    pub sessions_expired: AtomicU64,
    /// Sessionless connections closed for idleness.
    pub sessionless_expired: AtomicU64,
    /// Requests dropped because their session was dead.
    pub dropped_dead_session: AtomicU64,
    /// Watch events sent.
    pub watch_events: AtomicU64,
    /// Bytes read from clients.
    pub bytes_received: AtomicU64,
    /// `addauth` packets refused (unknown scheme or bad credentials).
    pub auth_failed: AtomicU64,
    /// Recorded tree digests the data directory's tree did not match at load
    /// (`zk_digest_mismatches_count`).
    pub digest_mismatches: AtomicU64,
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    latency_min_us: AtomicU64,
    latency_max_us: AtomicU64,
}

impl Stats {
    /// A fresh set of counters.
    pub fn new() -> Stats {
        let s = Stats::default();
        s.latency_min_us.store(u64::MAX, Relaxed);
        s
    }

    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Records a request's processing time.
    pub fn record_latency(&self, us: u64) {
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(us, Relaxed);
        self.latency_min_us.fetch_min(us, Relaxed);
        self.latency_max_us.fetch_max(us, Relaxed);
    }

    /// `(min, avg, max)` latency in ms, ZooKeeper's `Latency min/avg/max`.
    pub fn latency_ms(&self) -> (f64, f64, f64) {
        let n = self.latency_count.load(Relaxed);
        if n == 0 {
            return (0.0, 0.0, 0.0);
        }
        let min = self.latency_min_us.load(Relaxed) as f64 / 1000.0;
        let max = self.latency_max_us.load(Relaxed) as f64 / 1000.0;
        let avg = self.latency_sum_us.load(Relaxed) as f64 / n as f64 / 1000.0;
        (min, avg, max)
    }

    /// `srst`: zeroes the packet counts and the latency figures (as ZooKeeper's reset
    /// does; connection counts and session figures stay).
    pub fn reset(&self) {
        for c in [
            &self.received,
            &self.sent,
            &self.latency_count,
            &self.latency_sum_us,
        ] {
            c.store(0, Relaxed);
        }
        self.latency_max_us.store(0, Relaxed);
        self.latency_min_us.store(u64::MAX, Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }
}
