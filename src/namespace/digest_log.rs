//! The digest history ZooKeeper 3.8 keeps for its `hash` command (`DataTree.digestLog`).
//!
//! Owns: [`DigestLog`]: the tree digest after every txn whose zxid is a multiple of
//! [`INTERVAL`], the newest [`LIMIT`] of them, oldest first.
//!
//! Invariants: zxids are recorded at most once each, in increasing order; zxid 0 (no
//! txn) is never recorded.
//!
//! Must never: compute a digest (it is handed the tree's) or grow past [`LIMIT`].

use std::collections::VecDeque;

/// Every txn whose zxid is a multiple of this has its digest recorded.
pub const INTERVAL: i64 = 128;
/// How many records are kept.
pub const LIMIT: usize = 1024;

/// (zxid, tree digest after it) records, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DigestLog {
    records: VecDeque<(i64, i64)>,
}

impl DigestLog {
    /// Records `digest` as the tree's after txn `zxid` (when `zxid` is one to record and
    /// not recorded yet).
    pub(crate) fn note(&mut self, zxid: i64, digest: i64) {
        if !Self::wanted(zxid) || self.records.back().is_some_and(|(z, _)| *z >= zxid) {
            return;
        }
        self.records.push_back((zxid, digest));
        if self.records.len() > LIMIT {
            self.records.pop_front();
        }
    }

    fn wanted(zxid: i64) -> bool {
        zxid > 0 && zxid % INTERVAL == 0
    }

    /// The records, oldest first, with the tree's digest now (`last_zxid`, `digest`)
    /// when that is one to record and not recorded yet (its txn is complete whenever the
    /// tree can be read).
    pub(crate) fn history(&self, last_zxid: i64, digest: i64) -> Vec<(i64, i64)> {
        let mut copy = self.clone();
        copy.note(last_zxid, digest);
        copy.records.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_every_interval_once_and_keeps_the_newest() {
        let mut log = DigestLog::default();
        log.note(0, 5);
        log.note(127, 5);
        log.note(128, 7);
        log.note(128, 8);
        assert_eq!(log.history(130, 9), vec![(128, 7)]);
        assert_eq!(log.history(256, 9), vec![(128, 7), (256, 9)]);
        for i in 2..=(LIMIT as i64 + 5) {
            log.note(i * INTERVAL, i);
        }
        let h = log.history(0, 0);
        assert_eq!(h.len(), LIMIT);
        assert_eq!(h[0], (6 * INTERVAL, 6));
    }
}
