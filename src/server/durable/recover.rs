//! Start-up: the newest valid snapshot plus the logs after it.
//!
//! Owns: [`recover`] and [`RecoverError`]: picking the snapshot (a damaged one is
//! reported and an older one tried), choosing the logs (the newest starting at or before
//! the snapshot's zxid and every later one), replaying their records past the snapshot,
//! and cutting a torn or damaged tail of the last log back to its last whole record
//! (with a log line saying where, how many bytes and why). A fresh directory gets
//! `snapshot.0` of the initial tree, as ZooKeeper writes one.
//!
//! With digests enabled (`zookeeper.digest.enabled`), the tree is checked as ZooKeeper
//! 3.8 checks it at load: the snapshot's digest section names a zxid; when the tree
//! reaches it (at once, or replaying the log) its digest must be the recorded one; from
//! then on (that txn included), each logged txn's digest must be the tree's after it
//! (before that point the
//! fuzzy snapshot may hold later changes, so txn digests are not compared). A digest of
//! another version is not compared. A mismatch is logged and counted
//! ([`Recovered::digest_mismatches`]); it is not fatal, as in ZooKeeper.
//!
//! Invariants: every whole record before the damage is applied; nothing after it is;
//! after a cut the file ends at its last whole record, so new logs follow it cleanly.
//!
//! Must never: delete a snapshot or a log, or start over a damaged log that is not the
//! last one (its successors would apply after a gap): that is an error.

use super::image::{namespace_of, Replay};
use super::{write_snapshot, Settings};
use crate::namespace::Namespace;
use crate::persist::{self, FileKind, LogScan, Snapshot, TxnDigest, ZxidDigest};
use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

/// What a data directory held.
pub(crate) struct Recovered {
    /// The tree after the last whole txn.
    pub(crate) ns: Namespace,
    /// Global sessions (id, timeout ms) open at that point.
    pub(crate) sessions: Vec<(i64, i32)>,
    /// Recorded digests the loaded tree did not match (0 with digests disabled).
    pub(crate) digest_mismatches: u64,
}

/// ZooKeeper's load-time digest checks (`DataTree.compareSnapshotDigests` and
/// `compareDigest`).
pub(crate) struct DigestCheck {
    enabled: bool,
    /// The snapshot's digest, until the tree reaches its zxid (the fuzzy state).
    pending: Option<ZxidDigest>,
    /// Recorded digests compared with the tree.
    pub(crate) compared: u64,
    /// Mismatches found.
    pub(crate) mismatches: u64,
}

impl DigestCheck {
    /// Checks after loading a snapshot with the digest section `snap` (if any); call
    /// [`DigestCheck::after`] with the snapshot's zxid next.
    /// A digest at zxid 0 (no txn applied while the snapshot was written) leaves the
    /// tree exact at the snapshot's zxid, so txn digests are compared at once.
    pub(crate) fn new(enabled: bool, snap: Option<ZxidDigest>) -> DigestCheck {
        DigestCheck {
            enabled,
            pending: snap.filter(|d| enabled && d.zxid != 0),
            compared: 0,
            mismatches: 0,
        }
    }

    /// Compares the tree `ns`, now at zxid `zxid`, with what was recorded for it:
    /// `logged` is the digest logged with that zxid's txn, if any.
    pub(crate) fn after(&mut self, ns: &Namespace, zxid: i64, logged: Option<TxnDigest>) {
        if !self.enabled {
            return;
        }
        if let Some(p) = self.pending {
            if p.zxid == zxid {
                self.pending = None;
                if p.version == persist::DIGEST_VERSION {
                    self.compare(ns, zxid, p.digest, "snapshot");
                }
            } else if zxid > p.zxid {
                tracing::info!(
                    digest_zxid = format_args!("0x{:x}", p.zxid),
                    "the snapshot's digest names a txn that was not replayed; not compared"
                );
                self.pending = None;
            } else {
                // Still fuzzy: txn digests are not compared yet.
                return;
            }
        }
        if let Some(d) = logged.filter(|d| d.version == persist::DIGEST_VERSION) {
            self.compare(ns, zxid, d.tree_digest, "log");
        }
    }

    fn compare(&mut self, ns: &Namespace, zxid: i64, recorded: i64, source: &str) {
        let computed = ns.digest();
        self.compared += 1;
        if computed != recorded {
            self.mismatches += 1;
            tracing::warn!(
                zxid = format_args!("0x{zxid:x}"),
                recorded,
                computed,
                source,
                "digest mismatch: the loaded tree's digest is not the recorded one"
            );
        }
    }
}

/// Why a data directory could not be loaded.
#[derive(Debug)]
pub enum RecoverError {
    /// A file or directory could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// A log before the last one is damaged: the logs after it cannot be applied.
    DamagedLog {
        /// The log.
        path: PathBuf,
        /// Where its whole records end.
        offset: u64,
        /// What is wrong there.
        damage: String,
    },
}

impl std::fmt::Display for RecoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecoverError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            RecoverError::DamagedLog {
                path,
                offset,
                damage,
            } => write!(
                f,
                "{} is damaged at offset {offset} ({damage}) and later logs follow it",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RecoverError {}

fn io_err(path: &std::path::Path) -> impl FnOnce(io::Error) -> RecoverError + '_ {
    move |error| RecoverError::Io {
        path: path.to_owned(),
        error,
    }
}

/// Loads the data directory `settings` names (creating it when missing).
pub(crate) fn recover(settings: &Settings) -> Result<Recovered, RecoverError> {
    for d in [&settings.snap_dir, &settings.log_dir] {
        std::fs::create_dir_all(d).map_err(io_err(d))?;
    }
    let snaps = persist::list_files(&settings.snap_dir, FileKind::Snapshot)
        .map_err(io_err(&settings.snap_dir))?;
    let logs =
        persist::list_files(&settings.log_dir, FileKind::Log).map_err(io_err(&settings.log_dir))?;

    let mut loaded: Option<(i64, Snapshot)> = None;
    for (zxid, path) in snaps.iter().rev() {
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        match Snapshot::decode(&bytes) {
            Ok(s) => {
                tracing::info!(path = %path.display(), zxid = format_args!("0x{zxid:x}"),
                    nodes = s.nodes.len(), sessions = s.sessions.len(), "snapshot loaded");
                loaded = Some((*zxid, s));
                break;
            }
            Err(e) => tracing::warn!(path = %path.display(), error = %e,
                "snapshot damaged; trying an older one"),
        }
    }
    let (snap_zxid, mut ns, mut sessions) = match &loaded {
        Some((zxid, s)) => (
            *zxid,
            namespace_of(s, *zxid),
            s.sessions.iter().copied().collect::<BTreeMap<i64, i32>>(),
        ),
        None => (0, Namespace::new(), BTreeMap::new()),
    };
    let mut check = DigestCheck::new(settings.digest, loaded.as_ref().and_then(|(_, s)| s.digest));
    check.after(&ns, ns.last_zxid(), None);
    drop(loaded);

    // The newest log starting at or before the snapshot's next txn, and all after it.
    let start = logs
        .iter()
        .rposition(|(z, _)| *z <= snap_zxid + 1)
        .unwrap_or(0);
    let chosen = &logs[start.min(logs.len())..];
    let mut applied = 0u64;
    for (i, (_, path)) in chosen.iter().enumerate() {
        let last = i + 1 == chosen.len();
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        let scan = match LogScan::read(&bytes) {
            Ok(s) => s,
            Err(e) if last => {
                // Not even a whole header: a log created as the server died.
                tracing::warn!(path = %path.display(), bytes = bytes.len(), error = %e,
                    "last log has no readable header; it holds no txn and is set aside");
                let aside = path.with_extension("damaged");
                std::fs::rename(path, &aside).map_err(io_err(path))?;
                continue;
            }
            Err(e) => {
                return Err(RecoverError::DamagedLog {
                    path: path.clone(),
                    offset: 0,
                    damage: e.to_string(),
                })
            }
        };
        let mut replay = Replay {
            ns: &mut ns,
            sessions: &mut sessions,
        };
        for r in &scan.records {
            let z = r.entry.header.zxid;
            if z <= replay.ns.last_zxid() {
                continue;
            }
            if z != replay.ns.last_zxid() + 1 {
                tracing::warn!(path = %path.display(), expected = replay.ns.last_zxid() + 1,
                    found = z, "gap in the log's zxids");
            }
            replay.apply(&r.entry);
            check.after(replay.ns, z, r.entry.digest);
            applied += 1;
        }
        if !scan.end.is_clean() {
            let offset = scan.end.offset();
            let damage = match &scan.end {
                persist::LogEnd::Damaged { damage, .. } => damage.to_string(),
                persist::LogEnd::Zeros {
                    nonzero_at: Some(at),
                    ..
                } => format!("bytes at {at} after zero padding"),
                _ => "unknown".to_owned(),
            };
            if !last {
                return Err(RecoverError::DamagedLog {
                    path: path.clone(),
                    offset,
                    damage,
                });
            }
            let last_zxid = scan.records.last().map(|r| r.entry.header.zxid);
            tracing::warn!(
                path = %path.display(),
                offset,
                dropped_bytes = bytes.len() as u64 - offset,
                last_whole_zxid = format_args!("0x{:x}", last_zxid.unwrap_or(0)),
                reason = %damage,
                "log damaged after its last whole record; cut back to it (what follows was never acknowledged)"
            );
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io_err(path))?;
            f.set_len(offset).map_err(io_err(path))?;
            f.sync_all().map_err(io_err(path))?;
        }
    }
    if snaps.is_empty() && logs.is_empty() {
        let mut snap = super::snapshot_of(&ns, &[]);
        if !settings.digest {
            snap.digest = None;
        }
        write_snapshot(&settings.snap_dir, &snap, 0).map_err(io_err(&settings.snap_dir))?;
    }
    tracing::info!(
        last_zxid = format_args!("0x{:x}", ns.last_zxid()),
        txns = applied,
        nodes = ns.node_count(),
        sessions = sessions.len(),
        digest = ns.digest(),
        digest_mismatches = check.mismatches,
        "data directory loaded"
    );
    Ok(Recovered {
        ns,
        sessions: sessions.into_iter().collect(),
        digest_mismatches: check.mismatches,
    })
}
