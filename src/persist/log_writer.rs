//! Writing a transaction log file as ZooKeeper does.
//!
//! Owns: [`LogWriter`] (create a `log.<zxid>` file, append entries, flush, fsync),
//! ZooKeeper's preallocation rule ([`padded_size`]) and [`log_bytes`] for a whole log
//! in memory.
//!
//! Invariants: the file starts with the `ZKLG` header; entries are appended whole, in
//! the order given; before bytes are written past the file's preallocated size, the
//! file is extended with zeros to the next multiple of the preallocation size (as
//! ZooKeeper's `FilePadding`), so a reader stops at the first zero length after the
//! last record. Nothing is durable before [`LogWriter::sync`] returns.
//!
//! Must never: reorder entries, write an entry partially on purpose, or hide an I/O
//! error (every error is returned to the caller, who must not acknowledge the entries
//! since the last successful sync).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::entry::LogEntry;
use super::records::{FileHeader, FORMAT_VERSION, LOG_MAGIC};
use crate::wire::Writer;

/// ZooKeeper's default preallocation (`zookeeper.preAllocSize`, 64 MiB).
pub const DEFAULT_PREALLOC: u64 = 64 * 1024 * 1024;

/// ZooKeeper's padding rule: the file size after writing up to `position` in a file
/// of `size` bytes. Within 4 KiB of the end, the file grows by `prealloc` (or to the
/// next multiple of it past `position`); `prealloc == 0` disables padding.
pub fn padded_size(position: u64, size: u64, prealloc: u64) -> u64 {
    if prealloc == 0 || position + 4096 < size {
        return size;
    }
    if position > size {
        let grown = position + prealloc;
        grown - grown % prealloc
    } else {
        size + prealloc
    }
}

/// A whole log without padding: the header, then each entry framed.
pub fn log_bytes(dbid: i64, entries: &[LogEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    log_header(dbid).write(&mut Writer::new(&mut out));
    for e in entries {
        e.write_framed(&mut out);
    }
    out
}

fn log_header(dbid: i64) -> FileHeader {
    FileHeader {
        magic: LOG_MAGIC,
        version: FORMAT_VERSION,
        dbid,
    }
}

/// Appends entries to one log file.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    /// Bytes written to the file so far (where the next flush writes).
    written: u64,
    /// The file's size, padding included.
    size: u64,
    prealloc: u64,
    pending: Vec<u8>,
}

impl LogWriter {
    /// Creates a new log file at `path` (which must not exist) and writes its header.
    /// ZooKeeper names it `log.<hex zxid of its first entry>` ([`super::file_name`]).
    pub fn create(path: &Path, dbid: i64, prealloc: u64) -> io::Result<LogWriter> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        let mut pending = Vec::new();
        log_header(dbid).write(&mut Writer::new(&mut pending));
        let mut w = LogWriter {
            file,
            written: 0,
            size: 0,
            prealloc,
            pending,
        };
        w.flush()?;
        Ok(w)
    }

    /// Reopens a log to append after its whole records: cuts the file to `valid_len`
    /// (the [`LogEnd::offset`](super::LogEnd::offset) of a scan of it), which drops a
    /// torn or damaged tail and the old padding, makes the cut durable, and continues
    /// there.
    pub fn resume(path: &Path, valid_len: u64, prealloc: u64) -> io::Result<LogWriter> {
        if valid_len < FileHeader::LEN as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a log is at least its header long",
            ));
        }
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        file.set_len(valid_len)?;
        file.sync_all()?;
        Ok(LogWriter {
            file,
            written: valid_len,
            size: valid_len,
            prealloc,
            pending: Vec::new(),
        })
    }

    /// Buffers one entry; it reaches the file on the next [`flush`](Self::flush) or
    /// [`sync`](Self::sync).
    pub fn append(&mut self, entry: &LogEntry) {
        entry.write_framed(&mut self.pending);
    }

    /// Bytes appended so far, buffered ones included: the offset of the next entry.
    pub fn position(&self) -> u64 {
        self.written + self.pending.len() as u64
    }

    /// Writes the buffered entries to the file (extending its preallocation first).
    pub fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let end = self.position();
        // Header first, then padding, as ZooKeeper does: the padding rule sees the
        // position the new bytes will reach.
        if self.written > 0 {
            let size = padded_size(end, self.size, self.prealloc);
            if size != self.size {
                self.file.set_len(size)?;
                self.size = size;
            }
        }
        self.file.write_all_at(&self.pending, self.written)?;
        self.written = end;
        self.size = self.size.max(end);
        self.pending.clear();
        Ok(())
    }

    /// Flushes and then makes everything written durable (`fdatasync`).
    pub fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        self.file.sync_data()
    }
}
