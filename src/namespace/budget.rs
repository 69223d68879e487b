//! The memory budget: how many bytes the tree may hold, and what each node costs.
//!
//! Owns: [`MemoryBudget`] (the limit and whether the last write was refused), the cost
//! model ([`node_cost`], [`acl_list_cost`]), [`BufferGauge`] and [`BufferCharge`] (the
//! bytes held by connection buffers, which count against the same limit) and
//! [`parse_size`] for the configured value.
//!
//! The cost of a node is its path (stored twice: as the map key and as its name in the
//! parent's child set), its data, and [`NODE_OVERHEAD`] for the map entry, the [`Stat`],
//! the child set and allocator slack; a distinct ACL list costs its ids and schemes plus a
//! fixed overhead per entry. The figures are estimates of heap use, kept exactly in step
//! with the tree (the tree adds and subtracts the same function of each node).
//!
//! Invariants: a write is refused before anything is allocated for it, when the tree's
//! cost after the write plus the connection buffers' bytes would exceed the limit; writes that free memory (deletes, smaller
//! data) are never refused.
//!
//! Must never: read the machine's memory or limits (the server computes the default), or
//! log more than one line per run of refusals.
//!
//! [`Stat`]: crate::wire::Stat

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::wire::{Acl, ErrorCode};

/// Bytes counted for each node beyond its path and data: the hash map entry, the node
/// record with its stat and child set, and allocator rounding.
pub const NODE_OVERHEAD: u64 = 192;

/// Bytes counted for each entry of a distinct ACL list beyond its scheme and id.
pub const ACL_ENTRY_OVERHEAD: u64 = 64;

/// The estimated heap bytes of a node at a path of `path_len` bytes holding `data_len`
/// bytes of data.
pub fn node_cost(path_len: usize, data_len: usize) -> u64 {
    NODE_OVERHEAD + 2 * path_len as u64 + data_len as u64
}

/// The estimated heap bytes of one distinct ACL list kept in the ACL cache.
pub fn acl_list_cost(list: &[Acl]) -> u64 {
    list.iter()
        .map(|a| ACL_ENTRY_OVERHEAD + (a.id.scheme.len() + a.id.id.len()) as u64)
        .sum::<u64>()
        + ACL_ENTRY_OVERHEAD
}

/// Why a size is not a valid budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSize;

/// Parses a byte count with an optional binary suffix: `k`, `m`, `g` or `t` (either
/// case, an optional trailing `b`), e.g. `512m`, `2G`, `1048576`.
pub fn parse_size(text: &str) -> Result<u64, BadSize> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (digits, shift) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 10),
        Some('m') => (&t[..t.len() - 1], 20),
        Some('g') => (&t[..t.len() - 1], 30),
        Some('t') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().map_err(|_| BadSize)?;
    n.checked_mul(1u64 << shift).ok_or(BadSize)
}

/// The bytes held by connection buffers, summed over their [`BufferCharge`]s. Shared
/// between the connections (which move it) and the tree's budget (which reads it).
#[derive(Debug, Default)]
pub struct BufferGauge(AtomicU64);

impl BufferGauge {
    /// The bytes currently charged.
    pub fn bytes(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// One holder's share of a [`BufferGauge`]: [`set`](Self::set) moves the gauge by the
/// difference, and dropping the charge gives its bytes back.
#[derive(Debug, Default)]
pub struct BufferCharge {
    gauge: Option<Arc<BufferGauge>>,
    bytes: u64,
}

impl BufferCharge {
    /// Makes this holder's share `bytes` on `gauge`.
    pub fn set(&mut self, gauge: &Arc<BufferGauge>, bytes: u64) {
        if bytes == self.bytes {
            return;
        }
        let g = self.gauge.get_or_insert_with(|| gauge.clone());
        if bytes > self.bytes {
            g.0.fetch_add(bytes - self.bytes, Relaxed);
        } else {
            g.0.fetch_sub(self.bytes - bytes, Relaxed);
        }
        self.bytes = bytes;
    }
}

impl Drop for BufferCharge {
    fn drop(&mut self) {
        if let Some(g) = &self.gauge {
            g.0.fetch_sub(self.bytes, Relaxed);
        }
    }
}

/// The limit on the tree's estimated heap bytes plus the connection buffers, if any.
///
/// Two budgets always compare equal: the budget is a setting of the server, not part of
/// the tree's content.
#[derive(Debug, Clone, Default)]
pub struct MemoryBudget {
    limit: Option<u64>,
    refusing: bool,
    refusals: u64,
    buffers: Option<Arc<BufferGauge>>,
}

impl PartialEq for MemoryBudget {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for MemoryBudget {}

impl MemoryBudget {
    /// A budget of `limit` bytes (`None`: unlimited).
    pub fn new(limit: Option<u64>) -> MemoryBudget {
        MemoryBudget {
            limit,
            refusing: false,
            refusals: 0,
            buffers: None,
        }
    }

    /// Counts the bytes of `gauge` (the connection buffers) against the limit.
    pub fn with_buffers(mut self, gauge: Arc<BufferGauge>) -> MemoryBudget {
        self.buffers = Some(gauge);
        self
    }

    /// The bytes the connection buffers hold (0 without a gauge).
    pub fn buffer_bytes(&self) -> u64 {
        self.buffers.as_ref().map_or(0, |g| g.bytes())
    }

    /// The limit in bytes, if any.
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// How many writes this budget has refused.
    pub fn refusals(&self) -> u64 {
        self.refusals
    }

    /// Admits a write that takes the tree from `used` to `used + extra` bytes, or refuses
    /// it with `QuotaExceeded`. `path` names the write in the one log line a run of
    /// refusals gets.
    pub fn admit(&mut self, used: u64, extra: u64, path: &str) -> Result<(), ErrorCode> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let used = used.saturating_add(self.buffer_bytes());
        if extra == 0 || used.saturating_add(extra) <= limit {
            self.refusing = false;
            return Ok(());
        }
        self.refusals += 1;
        if !self.refusing {
            self.refusing = true;
            #[cfg(feature = "server")]
            tracing::warn!(
                path,
                used,
                extra,
                limit,
                "memory budget exhausted: writes that need more memory fail with QuotaExceeded \
                 until nodes are deleted"
            );
        }
        #[cfg(not(feature = "server"))]
        let _ = path;
        Err(ErrorCode::QuotaExceeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("2GB"), Ok(2 << 30));
        assert_eq!(parse_size(" 1t "), Ok(1 << 40));
        assert_eq!(parse_size(""), Err(BadSize));
        assert_eq!(parse_size("-1m"), Err(BadSize));
        assert_eq!(parse_size("12q"), Err(BadSize));
        assert_eq!(parse_size("99999999999999t"), Err(BadSize));
    }

    #[test]
    fn a_write_past_the_limit_is_refused_and_freeing_writes_are_not() {
        let mut b = MemoryBudget::new(Some(1000));
        assert_eq!(b.admit(0, 1000, "/a"), Ok(()));
        assert_eq!(b.admit(1000, 1, "/a"), Err(ErrorCode::QuotaExceeded));
        assert_eq!(b.admit(2000, 0, "/a"), Ok(()));
        assert_eq!(b.admit(u64::MAX, 1, "/a"), Err(ErrorCode::QuotaExceeded));
        assert_eq!(b.refusals(), 2);
        let mut none = MemoryBudget::new(None);
        assert_eq!(none.admit(u64::MAX, u64::MAX, "/a"), Ok(()));
    }

    #[test]
    fn connection_buffers_count_against_the_limit_until_dropped() {
        let gauge = Arc::new(BufferGauge::default());
        let mut b = MemoryBudget::new(Some(1000)).with_buffers(gauge.clone());
        let mut one = BufferCharge::default();
        one.set(&gauge, 600);
        let mut two = BufferCharge::default();
        two.set(&gauge, 300);
        assert_eq!(b.buffer_bytes(), 900);
        assert_eq!(b.admit(0, 101, "/a"), Err(ErrorCode::QuotaExceeded));
        one.set(&gauge, 100);
        assert_eq!(b.admit(0, 500, "/a"), Ok(()));
        drop(two);
        drop(one);
        assert_eq!(gauge.bytes(), 0);
    }

    #[test]
    fn a_node_costs_its_path_twice_its_data_and_the_overhead() {
        assert_eq!(node_cost(2, 10), NODE_OVERHEAD + 4 + 10);
        let list = [Acl::world_anyone()];
        assert_eq!(
            acl_list_cost(&list),
            2 * ACL_ENTRY_OVERHEAD + ("world".len() + "anyone".len()) as u64
        );
    }
}
