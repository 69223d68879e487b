//! Reading a transaction log file: whole records, and where and why they stop.
//!
//! Owns: [`LogRecords`] (an iterator over the records of a log's bytes), [`LogScan`]
//! (all of them at once), [`LogRecord`] and [`LogEnd`].
//!
//! Invariants: a record is yielded only when its frame is complete, its Adler32 matches,
//! its end-of-record marker is `'B'` and its entry decodes; the first record that fails
//! any of these ends the iteration, and [`LogEnd::offset`] is then where the whole
//! records end, so cutting the file there leaves exactly the records yielded. Like
//! ZooKeeper, a zero length ends the log (the preallocated zeros after the last record).
//!
//! Must never: do I/O, allocate more than the input's size, or panic on any input.

use super::entry::{adler32, LogEntry, END_OF_RECORD};
use super::error::{Damage, FormatError};
use super::records::{FileHeader, FORMAT_VERSION, LOG_MAGIC};
use crate::wire::Reader;

/// One whole record of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Offset of the record's first byte (its checksum) in the file.
    pub offset: u64,
    /// Length of the framed record in bytes (checksum to end-of-record marker).
    pub len: u64,
    /// The decoded entry.
    pub entry: LogEntry,
}

impl LogRecord {
    /// Offset just past the record.
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// Where and why the records of a log end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEnd {
    /// The file ends right after a whole record (or after the header).
    EndOfFile {
        /// The file's length.
        offset: u64,
    },
    /// Zeros follow the last record, as ZooKeeper's preallocation leaves them.
    Zeros {
        /// Where the zeros start.
        offset: u64,
        /// The first nonzero byte after them, if any: bytes there were written but
        /// cannot be reached (a record in between was lost).
        nonzero_at: Option<u64>,
    },
    /// The record at `offset` is damaged.
    Damaged {
        /// Offset of the damaged record: the log is whole up to here.
        offset: u64,
        /// What is wrong with it.
        damage: Damage,
    },
}

impl LogEnd {
    /// Where the whole records end: the length to cut the file back to.
    pub fn offset(&self) -> u64 {
        match self {
            LogEnd::EndOfFile { offset }
            | LogEnd::Zeros { offset, .. }
            | LogEnd::Damaged { offset, .. } => *offset,
        }
    }

    /// Whether the log ended as ZooKeeper leaves a log it wrote completely.
    pub fn is_clean(&self) -> bool {
        matches!(
            self,
            LogEnd::EndOfFile { .. }
                | LogEnd::Zeros {
                    nonzero_at: None,
                    ..
                }
        )
    }
}

/// The records of a log file's bytes, in order.
#[derive(Debug, Clone)]
pub struct LogRecords<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: Option<LogEnd>,
}

/// Bytes before a record's entry: the checksum (`long`) and the length (`int`).
const PREFIX: usize = 12;

impl<'a> LogRecords<'a> {
    /// Checks the file header and returns it with an iterator over the records.
    pub fn new(bytes: &'a [u8]) -> Result<(FileHeader, LogRecords<'a>), FormatError> {
        let header = FileHeader::read(&mut Reader::new(bytes))?;
        if header.magic != LOG_MAGIC {
            return Err(FormatError::BadMagic {
                expected: LOG_MAGIC,
                found: header.magic,
            });
        }
        if header.version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(header.version));
        }
        Ok((
            header,
            LogRecords {
                bytes,
                pos: FileHeader::LEN,
                end: None,
            },
        ))
    }

    /// Why the iteration stopped; `None` until it has.
    pub fn end(&self) -> Option<&LogEnd> {
        self.end.as_ref()
    }

    fn stop(&mut self, end: LogEnd) -> Option<LogRecord> {
        self.end = Some(end);
        None
    }

    fn damaged(&mut self, damage: Damage) -> Option<LogRecord> {
        let offset = self.pos as u64;
        self.stop(LogEnd::Damaged { offset, damage })
    }
}

impl Iterator for LogRecords<'_> {
    type Item = LogRecord;

    fn next(&mut self) -> Option<LogRecord> {
        if self.end.is_some() {
            return None;
        }
        let rest = &self.bytes[self.pos..];
        let offset = self.pos as u64;
        if rest.is_empty() {
            return self.stop(LogEnd::EndOfFile { offset });
        }
        let zeros = || LogEnd::Zeros {
            offset,
            nonzero_at: rest.iter().position(|&b| b != 0).map(|i| offset + i as u64),
        };
        if rest.len() < PREFIX {
            if rest.iter().all(|&b| b == 0) {
                return self.stop(zeros());
            }
            return self.damaged(Damage::Truncated {
                needed: PREFIX as u64,
                available: rest.len() as u64,
            });
        }
        let stored = i64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
        let len = i32::from_be_bytes(rest[8..PREFIX].try_into().expect("4 bytes"));
        if len == 0 {
            if stored == 0 {
                return self.stop(zeros());
            }
            return self.damaged(Damage::ZeroLength { stored });
        }
        if len < 0 {
            return self.damaged(Damage::BadLength(len));
        }
        let needed = PREFIX + len as usize + 1;
        if rest.len() < needed {
            return self.damaged(Damage::Truncated {
                needed: needed as u64,
                available: rest.len() as u64,
            });
        }
        let body = &rest[PREFIX..needed - 1];
        let computed = adler32(body);
        if computed != stored {
            return self.damaged(Damage::BadChecksum { stored, computed });
        }
        let eor = rest[needed - 1];
        if eor != END_OF_RECORD {
            return self.damaged(Damage::BadEndOfRecord(eor));
        }
        match LogEntry::decode(body) {
            Ok(entry) => {
                self.pos += needed;
                Some(LogRecord {
                    offset,
                    len: needed as u64,
                    entry,
                })
            }
            Err(e) => self.damaged(Damage::Undecodable(e)),
        }
    }
}

/// A whole log file read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogScan {
    /// The file header.
    pub header: FileHeader,
    /// Every whole record before [`LogScan::end`].
    pub records: Vec<LogRecord>,
    /// Where and why the records end.
    pub end: LogEnd,
}

impl LogScan {
    /// Reads every whole record of a log file's bytes.
    pub fn read(bytes: &[u8]) -> Result<LogScan, FormatError> {
        let (header, mut it) = LogRecords::new(bytes)?;
        let records: Vec<LogRecord> = it.by_ref().collect();
        let end = it.end.expect("the iteration ran to its end");
        Ok(LogScan {
            header,
            records,
            end,
        })
    }
}
