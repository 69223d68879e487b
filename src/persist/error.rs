//! Typed errors of the on-disk format.
//!
//! Owns: [`FormatError`] (a file or record that does not decode) and [`Damage`] (why a
//! transaction log stops before its end).
//!
//! Invariants: every error carries the values needed to act on it (byte offsets where
//! the caller may cut a file, stored and computed checksums); none holds a string.
//!
//! Must never: do I/O.

use std::fmt;

use crate::wire::DecodeError;

/// A file or record that is not in ZooKeeper's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// A jute field did not decode (short input, bad length, trailing bytes).
    Jute(DecodeError),
    /// The file header's magic is not the expected one (`ZKLG` or `ZKSN`).
    BadMagic {
        /// The magic this kind of file must start with.
        expected: i32,
        /// The magic found.
        found: i32,
    },
    /// The file header's version is not 2.
    UnsupportedVersion(i32),
    /// A transaction header carries a type this format has no body for.
    UnknownTxnType(i32),
    /// A multi carries a sub-transaction of a type not allowed in a multi.
    BadSubTxnType(i32),
    /// A snapshot's stored Adler32 differs from the one computed over the bytes before it.
    SnapshotChecksum {
        /// Offset of the stored checksum in the file.
        offset: u64,
        /// The stored value.
        stored: i64,
        /// The value computed over the bytes before `offset`.
        computed: i64,
    },
    /// A snapshot's checksum is not followed by the `"/"` seal.
    BadSeal {
        /// Offset of the seal's path in the file.
        offset: u64,
    },
    /// A snapshot digest of version 1 whose hex string does not parse.
    BadLegacyDigest,
    /// A snapshot node whose parent did not come before it.
    OrphanNode {
        /// The node's path.
        path: String,
    },
}

impl From<DecodeError> for FormatError {
    fn from(e: DecodeError) -> Self {
        FormatError::Jute(e)
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Jute(e) => write!(f, "{e}"),
            FormatError::BadMagic { expected, found } => {
                write!(f, "bad magic {found:#010x}, expected {expected:#010x}")
            }
            FormatError::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            FormatError::UnknownTxnType(t) => write!(f, "unknown transaction type {t}"),
            FormatError::BadSubTxnType(t) => write!(f, "type {t} is not allowed in a multi"),
            FormatError::SnapshotChecksum {
                offset,
                stored,
                computed,
            } => write!(
                f,
                "snapshot checksum at offset {offset}: stored {stored:#x}, computed {computed:#x}"
            ),
            FormatError::BadSeal { offset } => write!(f, "no \"/\" seal at offset {offset}"),
            FormatError::BadLegacyDigest => write!(f, "unparsable hex digest"),
            FormatError::OrphanNode { path } => write!(f, "node {path:?} has no parent"),
        }
    }
}

impl std::error::Error for FormatError {}

/// Why a transaction log stops before its end; the record that starts at the reported
/// offset, and everything after it, is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The file ends inside a record (a torn tail).
    Truncated {
        /// Bytes the record needed from its start.
        needed: u64,
        /// Bytes the file had from the record's start.
        available: u64,
    },
    /// A length below zero.
    BadLength(i32),
    /// A zero length after a nonzero checksum: ZooKeeper would take it for the end of
    /// the log, but zero padding has a zero checksum too, so a write was torn here.
    ZeroLength {
        /// The nonzero stored checksum.
        stored: i64,
    },
    /// The stored Adler32 differs from the one computed over the record.
    BadChecksum {
        /// The stored value.
        stored: i64,
        /// The value computed over the record's bytes.
        computed: i64,
    },
    /// The byte after the record is not the end-of-record marker `'B'`.
    BadEndOfRecord(u8),
    /// The checksum matched but the record does not decode.
    Undecodable(FormatError),
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::Truncated { needed, available } => {
                write!(f, "torn record: needs {needed} bytes, {available} left")
            }
            Damage::BadLength(n) => write!(f, "negative record length {n}"),
            Damage::ZeroLength { stored } => {
                write!(f, "zero length after checksum {stored:#x} (torn write)")
            }
            Damage::BadChecksum { stored, computed } => {
                write!(
                    f,
                    "checksum mismatch: stored {stored:#x}, computed {computed:#x}"
                )
            }
            Damage::BadEndOfRecord(b) => write!(f, "end-of-record marker {b:#04x}, expected 'B'"),
            Damage::Undecodable(e) => write!(f, "record does not decode: {e}"),
        }
    }
}
