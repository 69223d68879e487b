//! Apache ZooKeeper 3.8's on-disk format, both ways: transaction logs and snapshots.
//!
//! Owns: the byte layout of `version-2/log.<zxid>` and `version-2/snapshot.<zxid>` files
//! as ZooKeeper 3.8 writes them (file headers, Adler32 checksums, end-of-record markers,
//! zero preallocation, jute-serialised transactions and data tree, the 3.8 digests), and
//! typed values for everything in them.
//!
//! - `records`: the jute records shared by logs and snapshots ([`FileHeader`], [`Acl`],
//!   [`StatPersisted`], [`TxnHeader`], [`TxnDigest`]);
//! - `txn`: the transaction bodies ([`Txn`], [`SubTxn`]) and their opcodes;
//! - `entry`: one log entry (header, body, digest) and its checksummed frame;
//! - `log_reader` / `log_writer`: whole log files, with damage detection and padding;
//! - `snapshot`: snapshot files ([`Snapshot`]);
//! - `digest`: ZooKeeper's data-tree digest (`DigestCalculator`);
//! - `files`: file names and the listing of a `version-2` directory.
//!
//! Invariants: every decoder refuses what it cannot read with a typed error and never
//! panics; whatever a decoder accepts, the matching encoder writes back byte for byte.
//!
//! Must never: know about the server, the namespace or sessions' timing; this module
//! only turns files into values and values into files.

mod digest;
mod entry;
mod error;
mod files;
mod log_reader;
mod log_writer;
mod records;
mod snapshot;
mod txn;

#[cfg(test)]
mod tests;

pub use digest::{node_digest, tree_digest, DIGEST_VERSION};
pub use entry::LogEntry;
pub use error::{Damage, FormatError};
pub use files::{file_name, list_files, parse_file_name, FileKind, VERSION_DIR};
pub use log_reader::{LogEnd, LogRecord, LogRecords, LogScan};
pub use log_writer::{log_bytes, padded_size, LogWriter, DEFAULT_PREALLOC};
pub use records::{
    read_acl_list, write_acl_list, Acl, FileHeader, Id, StatPersisted, TxnDigest, TxnHeader,
    FORMAT_VERSION, LOG_MAGIC, SNAP_MAGIC,
};
pub use snapshot::{DataNode, Snapshot, ZxidDigest, OPEN_UNSAFE_ACL};
pub use txn::{
    op, CheckVersionTxn, CreateContainerTxn, CreateTtlTxn, CreateTxn, SetAclTxn, SetDataTxn,
    SubTxn, Txn,
};
