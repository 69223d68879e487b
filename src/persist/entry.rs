//! One log entry: a transaction header, its body and the optional 3.8 digest, and the
//! frame around it in a log file.
//!
//! Owns: [`LogEntry`], the frame layout (`long` Adler32 of the entry bytes, `int`
//! length, the entry bytes, the end-of-record byte `'B'`) and [`adler32`].
//!
//! Invariants: an entry decodes only if its bytes hold exactly a header, the body its
//! type calls for and, when bytes remain, one [`TxnDigest`].
//!
//! Must never: do I/O or panic on any input.

use super::error::FormatError;
use super::records::{TxnDigest, TxnHeader};
use super::txn::Txn;
use crate::wire::{Reader, Writer};

/// The end-of-record marker after each entry.
pub const END_OF_RECORD: u8 = b'B';

/// The Adler32 ZooKeeper stores, as the `long` it writes.
pub fn adler32(bytes: &[u8]) -> i64 {
    let mut a = adler2::Adler32::new();
    a.write_slice(bytes);
    i64::from(a.checksum())
}

/// A logged transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The header; its `txn_type` must be [`Txn::op_code`] of `txn`.
    pub header: TxnHeader,
    /// The body.
    pub txn: Txn,
    /// The tree digest after this transaction (ZooKeeper 3.8 writes one by default).
    pub digest: Option<TxnDigest>,
}

impl LogEntry {
    /// Decodes the entry bytes of one record (what the frame's length covers).
    pub fn decode(bytes: &[u8]) -> Result<LogEntry, FormatError> {
        let mut r = Reader::with_max(bytes, bytes.len());
        let header = TxnHeader::read(&mut r)?;
        let txn = Txn::read(header.txn_type, &mut r)?;
        let digest = if r.remaining() == 0 {
            None
        } else {
            Some(TxnDigest::read(&mut r)?)
        };
        r.finish()?;
        Ok(LogEntry {
            header,
            txn,
            digest,
        })
    }

    /// The entry bytes: header, body, digest.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        self.header.write(&mut w);
        self.txn.write(&mut w);
        if let Some(d) = &self.digest {
            d.write(&mut w);
        }
        out
    }

    /// Appends the framed record (checksum, length, entry bytes, `'B'`) to `out`.
    pub fn write_framed(&self, out: &mut Vec<u8>) {
        let body = self.encode();
        let mut w = Writer::new(out);
        w.long(adler32(&body));
        w.buffer(&body);
        w.raw(&[END_OF_RECORD]);
    }
}
