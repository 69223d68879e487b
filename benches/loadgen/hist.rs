//! A mergeable log-linear latency histogram (32 sub-buckets per power of two, ~3 %).
//!
//! Owns: recording nanosecond values, merging, percentiles, and a one-line text form so
//! worker processes can hand their histograms to the coordinator.
//!
//! Must never: allocate while recording.

const SUB: u64 = 32;
const BUCKETS: usize = 32 + 59 * 32;

/// Counts of values per bucket.
pub struct Hist {
    counts: Vec<u64>,
}

/// The bucket of value `v`.
pub(crate) fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as u64;
    let shift = e - 5;
    let m = (v >> shift) & (SUB - 1);
    (SUB + shift * SUB + m) as usize
}

/// The smallest value of bucket `i`.
pub(crate) fn lower_bound(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let shift = (i - SUB) / SUB;
    let m = (i - SUB) % SUB;
    (SUB + m) << shift
}

impl Hist {
    /// An empty histogram.
    pub fn new() -> Hist {
        Hist {
            counts: vec![0; BUCKETS],
        }
    }

    /// Records one value.
    pub fn record(&mut self, v: u64) {
        self.counts[index(v)] += 1;
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// The value at quantile `q` (0..=1): the middle of the bucket holding it.
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = lower_bound(i);
                let hi = lower_bound(i + 1);
                return lo + (hi - lo) / 2;
            }
        }
        0
    }

    /// `index:count` pairs of the non-empty buckets, comma-separated (`-` when empty).
    pub fn encode(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| format!("{i}:{c}"))
            .collect();
        if parts.is_empty() {
            "-".into()
        } else {
            parts.join(",")
        }
    }

    /// Parses [`Hist::encode`]'s output.
    pub fn decode(s: &str) -> Option<Hist> {
        let mut h = Hist::new();
        if s == "-" {
            return Some(h);
        }
        for part in s.split(',') {
            let (i, c) = part.split_once(':')?;
            let i: usize = i.parse().ok()?;
            *h.counts.get_mut(i)? += c.parse::<u64>().ok()?;
        }
        Some(h)
    }
}
