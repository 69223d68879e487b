//! File names of a ZooKeeper data directory.
//!
//! Owns: [`VERSION_DIR`], [`FileKind`], [`file_name`], [`parse_file_name`] and
//! [`list_files`].
//!
//! Facts this follows: logs and snapshots live in `<dataLogDir>/version-2` and
//! `<dataDir>/version-2`, named `log.<zxid>` and `snapshot.<zxid>` with the zxid in
//! lowercase hex without leading zeros (Java's `Long.toHexString`); a log's zxid is its
//! first entry's, a snapshot's is the last transaction applied when it started.
//! Compressed snapshots (`.gz`, `.snappy` suffixes) are not handled here.
//!
//! Must never: create, change or delete files.

use std::io;
use std::path::{Path, PathBuf};

/// The subdirectory ZooKeeper keeps its files in.
pub const VERSION_DIR: &str = "version-2";

/// The two kinds of files in a `version-2` directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A transaction log, `log.<zxid>`.
    Log,
    /// A snapshot, `snapshot.<zxid>`.
    Snapshot,
}

impl FileKind {
    fn prefix(self) -> &'static str {
        match self {
            FileKind::Log => "log",
            FileKind::Snapshot => "snapshot",
        }
    }
}

/// The file name ZooKeeper gives a file of `kind` for `zxid`.
pub fn file_name(kind: FileKind, zxid: i64) -> String {
    format!("{}.{:x}", kind.prefix(), zxid as u64)
}

/// The kind and zxid of a file name, or `None` for any other name.
pub fn parse_file_name(name: &str) -> Option<(FileKind, i64)> {
    let (prefix, hex) = name.split_once('.')?;
    let kind = [FileKind::Log, FileKind::Snapshot]
        .into_iter()
        .find(|k| k.prefix() == prefix)?;
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((kind, u64::from_str_radix(hex, 16).ok()? as i64))
}

/// The files of `kind` in `dir` (a `version-2` directory), by ascending zxid.
pub fn list_files(dir: &Path, kind: FileKind) -> io::Result<Vec<(i64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some((k, zxid)) = entry.file_name().to_str().and_then(parse_file_name) {
            if k == kind {
                out.push((zxid, entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}
