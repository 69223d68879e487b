//! Latency histograms of the load generator: `hdrhistogram` with 3 significant digits over
//! 1 ns to one hour (fixed size, so recording never allocates), and a one-line text form so worker processes can hand theirs to the coordinator.
//!
//! Owns: creating histograms, and their text encoding (`value:count` pairs of the
//! recorded buckets, comma-separated; `-` when empty).
//!
//! Must never: lose a recorded value in the round trip: every value decodes into the
//! bucket it was recorded in.

use hdrhistogram::Histogram;

/// A latency histogram of nanosecond values.
pub type Hist = Histogram<u64>;

/// The largest value tracked, in ns (one hour); larger values are recorded as this one.
pub const MAX_NS: u64 = 3_600 * 1_000_000_000;

/// An empty histogram of 1 ns ..= [`MAX_NS`] with 3 significant digits.
pub fn new() -> Hist {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("valid bounds")
}

/// The text form of `h`: `value:count` for every recorded bucket (`-` when empty).
pub fn encode(h: &Hist) -> String {
    let parts: Vec<String> = h
        .iter_recorded()
        .map(|v| format!("{}:{}", v.value_iterated_to(), v.count_at_value()))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(",")
    }
}

/// Parses [`encode`]'s output.
pub fn decode(s: &str) -> Option<Hist> {
    let mut h = new();
    if s == "-" {
        return Some(h);
    }
    for part in s.split(',') {
        let (v, c) = part.split_once(':')?;
        h.record_n(v.parse().ok()?, c.parse().ok()?).ok()?;
    }
    Some(h)
}
