//! Dumps ZooKeeper 3.8 transaction logs and snapshots (Apache ZooKeeper's or
//! zksession's) with the `persist` module, and says where and why a log stops.
//!
//! Usage: `cargo run --example zkdump -- FILE...` where each FILE is a `log.<zxid>` or
//! `snapshot.<zxid>`, or a `version-2` directory (every file in zxid order). Exits 1 if
//! a file does not decode or a log does not end cleanly.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zksession::persist::{
    list_files, parse_file_name, FileKind, LogEnd, LogScan, Snapshot, SubTxn, Txn,
};

fn show_txn(txn: &Txn) -> String {
    match txn {
        Txn::CreateSession { timeout } => format!("createSession timeout={timeout}"),
        Txn::CloseSession { paths_to_delete } => format!("closeSession {paths_to_delete:?}"),
        Txn::Create(c) | Txn::Create2(c) => format!(
            "create {} {} bytes ephemeral={} acl={:?}",
            c.path,
            c.data.as_ref().map_or(0, Vec::len),
            c.ephemeral,
            c.acl
        ),
        Txn::CreateContainer(c) => format!("createContainer {}", c.path),
        Txn::CreateTtl(c) => format!("createTTL {} ttl={}", c.path, c.ttl),
        Txn::Delete { path } => format!("delete {path}"),
        Txn::DeleteContainer { path } => format!("deleteContainer {path}"),
        Txn::SetData(s) => format!(
            "setData {} {} bytes version={}",
            s.path,
            s.data.as_ref().map_or(0, Vec::len),
            s.version
        ),
        Txn::SetAcl(s) => format!("setACL {} {:?} version={}", s.path, s.acl, s.version),
        Txn::Error { err } => format!("error {err}"),
        Txn::Multi(subs) => {
            let items: Vec<String> = subs
                .iter()
                .map(|s| match s {
                    SubTxn::Create(c) => format!("create {}", c.path),
                    SubTxn::CreateContainer(c) => format!("createContainer {}", c.path),
                    SubTxn::CreateTtl(c) => format!("createTTL {}", c.path),
                    SubTxn::Delete { path } => format!("delete {path}"),
                    SubTxn::DeleteContainer { path } => format!("deleteContainer {path}"),
                    SubTxn::SetData(s) => format!("setData {}", s.path),
                    SubTxn::Check(c) => format!("check {} v{}", c.path, c.version),
                    SubTxn::Error { err } => format!("error {err}"),
                })
                .collect();
            format!("multi [{}]", items.join("; "))
        }
    }
}

fn dump_log(path: &Path, bytes: &[u8]) -> bool {
    let scan = match LogScan::read(bytes) {
        Ok(s) => s,
        Err(e) => {
            println!("{}: not a log: {e}", path.display());
            return false;
        }
    };
    println!("{}: log, dbid {}", path.display(), scan.header.dbid);
    for r in &scan.records {
        let h = &r.entry.header;
        let digest = r
            .entry
            .digest
            .map_or("-".to_owned(), |d| format!("{:#x}", d.tree_digest));
        println!(
            "  @{} zxid {:#x} session {:#x} cxid {} time {} digest {} {}",
            r.offset,
            h.zxid,
            h.client_id,
            h.cxid,
            h.time,
            digest,
            show_txn(&r.entry.txn)
        );
    }
    match &scan.end {
        LogEnd::EndOfFile { offset } => println!("  end of file at {offset}"),
        LogEnd::Zeros { offset, nonzero_at } => {
            println!("  zero padding from {offset}");
            if let Some(at) = nonzero_at {
                println!("  WARNING: nonzero bytes at {at} past the padding");
            }
        }
        LogEnd::Damaged { offset, damage } => {
            println!("  DAMAGED at {offset}: {damage}; whole records end there")
        }
    }
    scan.end.is_clean()
}

fn dump_snapshot(path: &Path, bytes: &[u8]) -> bool {
    let s = match Snapshot::decode(bytes) {
        Ok(s) => s,
        Err(e) => {
            println!("{}: not a valid snapshot: {e}", path.display());
            return false;
        }
    };
    println!("{}: snapshot, dbid {}", path.display(), s.dbid);
    for (id, timeout) in &s.sessions {
        println!("  session {id:#x} timeout {timeout}");
    }
    for (key, acl) in &s.acls {
        println!("  acl {key}: {acl:?}");
    }
    for (p, n) in &s.nodes {
        let st = &n.stat;
        println!(
            "  {} {} bytes acl {} czxid {:#x} mzxid {:#x} pzxid {:#x} v{} cv{} av{} owner {:#x}",
            if p.is_empty() { "/" } else { p },
            n.data.as_ref().map_or(0, Vec::len),
            n.acl,
            st.czxid,
            st.mzxid,
            st.pzxid,
            st.version,
            st.cversion,
            st.aversion,
            st.ephemeral_owner
        );
    }
    if let Some(d) = s.digest {
        println!(
            "  digest zxid {:#x} version {} value {:#x} (tree as stored: {:#x})",
            d.zxid,
            d.version,
            d.digest,
            s.tree_digest()
        );
    }
    true
}

fn dump(path: &Path) -> bool {
    if path.is_dir() {
        let mut files: Vec<(i64, PathBuf)> = Vec::new();
        for kind in [FileKind::Snapshot, FileKind::Log] {
            match list_files(path, kind) {
                Ok(f) => files.extend(f),
                Err(e) => {
                    println!("{}: {e}", path.display());
                    return false;
                }
            }
        }
        files.sort();
        // Every file is dumped, even after one that fails.
        let failed = files.iter().filter(|(_, f)| !dump(f)).count();
        return failed == 0;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            println!("{}: {e}", path.display());
            return false;
        }
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match parse_file_name(name) {
        Some((FileKind::Snapshot, _)) => dump_snapshot(path, &bytes),
        Some((FileKind::Log, _)) => dump_log(path, &bytes),
        None if bytes.starts_with(b"ZKSN") => dump_snapshot(path, &bytes),
        None => dump_log(path, &bytes),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: zkdump FILE_OR_VERSION2_DIR...");
        return ExitCode::from(2);
    }
    let failed = args.iter().filter(|a| !dump(Path::new(a))).count();
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
