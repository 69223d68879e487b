//! The persist module against real Apache ZooKeeper 3.8 files (run by
//! scripts/test-persist.sh, which makes the files; `--ignored` without it fails).
//!
//! - `decodes_a_zookeeper_data_dir`: every log and snapshot ZooKeeper wrote decodes in
//!   full (checksums, markers, padding), re-encodes to the same bytes, and replaying the
//!   logs from the first snapshot reproduces each transaction's stored tree digest and,
//!   at the end, exactly the tree and sessions the client saw (`ZKS_PERSIST_ZK_DIR`, a
//!   fresh one; the `committed_` tests check a dataDir recorded the same way, in
//!   tests/data/zk38, and run without ZooKeeper; to record it again:
//!   `scripts/persist-zk-fixture.py DIR`, then copy `DIR/data` and `DIR/expected.txt`).
//! - `writes_a_data_dir`: writes a dataDir (log and snapshots) for ZooKeeper's tools and
//!   server to read (`ZKS_PERSIST_OUT_DIR`), and reads it back byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use zksession::persist::*;

/// A minimal data tree applying transactions as ZooKeeper's `DataTree` does, to check
/// the digests ZooKeeper stored and what its client saw.
#[derive(Default)]
struct Tree {
    nodes: BTreeMap<String, Node>,
    sessions: BTreeMap<i64, i32>,
}

#[derive(Clone)]
struct Node {
    data: Option<Vec<u8>>,
    acl: Vec<Acl>,
    stat: StatPersisted,
    children: BTreeSet<String>,
}

fn split(path: &str) -> (&str, &str) {
    let i = path.rfind('/').expect("absolute path");
    (&path[..i], &path[i + 1..])
}

fn ttl_owner(ttl: i64) -> i64 {
    (0xff00_0000_0000_0000u64 as i64) | ttl
}

impl Tree {
    fn from_snapshot(s: &Snapshot) -> Tree {
        let mut t = Tree::default();
        for (path, n) in &s.nodes {
            let acl = if n.acl == OPEN_UNSAFE_ACL {
                vec![Acl::new(31, "world", "anyone")]
            } else {
                s.acl(n.acl).expect("acl key in the cache").to_vec()
            };
            if !path.is_empty() {
                let (parent, child) = split(path);
                t.nodes
                    .get_mut(parent)
                    .unwrap()
                    .children
                    .insert(child.into());
            }
            t.nodes.insert(
                path.clone(),
                Node {
                    data: n.data.clone(),
                    acl,
                    stat: n.stat,
                    children: BTreeSet::new(),
                },
            );
        }
        t.sessions = s.sessions.iter().copied().collect();
        t
    }

    fn digest(&self) -> i64 {
        tree_digest(
            self.nodes
                .iter()
                .map(|(p, n)| (p.as_str(), n.data.as_deref(), &n.stat)),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        path: &str,
        data: &Option<Vec<u8>>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        h: &TxnHeader,
    ) {
        let (parent, child) = split(path);
        let p = self.nodes.get_mut(parent).expect("parent exists");
        let cv = if parent_cversion == -1 {
            p.stat.cversion + 1
        } else {
            parent_cversion
        };
        if cv > p.stat.cversion {
            p.stat.cversion = cv;
            p.stat.pzxid = h.zxid;
        }
        p.children.insert(child.into());
        let stat = StatPersisted {
            czxid: h.zxid,
            mzxid: h.zxid,
            ctime: h.time,
            mtime: h.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: h.zxid,
        };
        let node = Node {
            data: data.clone(),
            acl: acl.to_vec(),
            stat,
            children: BTreeSet::new(),
        };
        assert!(
            self.nodes.insert(path.into(), node).is_none(),
            "{path} exists"
        );
    }

    fn delete(&mut self, path: &str, zxid: i64) {
        let (parent, child) = split(path);
        let p = self.nodes.get_mut(parent).expect("parent exists");
        p.children.remove(child);
        if zxid > p.stat.pzxid {
            p.stat.pzxid = zxid;
        }
        self.nodes.remove(path).expect("node exists");
    }

    fn set_data(&mut self, t: &SetDataTxn, h: &TxnHeader) {
        let n = self.nodes.get_mut(&t.path).expect("node exists");
        n.data = t.data.clone();
        n.stat.mtime = h.time;
        n.stat.mzxid = h.zxid;
        n.stat.version = t.version;
    }

    fn apply(&mut self, e: &LogEntry) {
        let h = &e.header;
        match &e.txn {
            Txn::CreateSession { timeout } => {
                self.sessions.insert(h.client_id, *timeout);
            }
            Txn::CloseSession { paths_to_delete } => {
                let owned: Vec<String> = match paths_to_delete {
                    Some(p) => p.clone(),
                    None => self
                        .nodes
                        .iter()
                        .filter(|(_, n)| n.stat.ephemeral_owner == h.client_id)
                        .map(|(p, _)| p.clone())
                        .collect(),
                };
                for p in owned {
                    self.delete(&p, h.zxid);
                }
                self.sessions.remove(&h.client_id);
            }
            Txn::Create(c) | Txn::Create2(c) => {
                let owner = if c.ephemeral { h.client_id } else { 0 };
                self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, h);
            }
            Txn::CreateContainer(c) => {
                self.create(&c.path, &c.data, &c.acl, i64::MIN, c.parent_cversion, h)
            }
            Txn::CreateTtl(c) => {
                let owner = ttl_owner(c.ttl);
                self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, h)
            }
            Txn::Delete { path } | Txn::DeleteContainer { path } => self.delete(path, h.zxid),
            Txn::SetData(t) => self.set_data(t, h),
            Txn::SetAcl(t) => {
                let n = self.nodes.get_mut(&t.path).expect("node exists");
                n.acl = t.acl.clone();
                n.stat.aversion = t.version;
            }
            Txn::Error { .. } => {}
            Txn::Multi(subs) => {
                if subs.iter().any(|s| matches!(s, SubTxn::Error { .. })) {
                    return;
                }
                for s in subs {
                    match s {
                        SubTxn::Create(c) => {
                            let owner = if c.ephemeral { h.client_id } else { 0 };
                            self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, h)
                        }
                        SubTxn::CreateContainer(c) => {
                            self.create(&c.path, &c.data, &c.acl, i64::MIN, c.parent_cversion, h)
                        }
                        SubTxn::CreateTtl(c) => {
                            let owner = ttl_owner(c.ttl);
                            self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, h)
                        }
                        SubTxn::Delete { path } | SubTxn::DeleteContainer { path } => {
                            self.delete(path, h.zxid)
                        }
                        SubTxn::SetData(t) => self.set_data(t, h),
                        SubTxn::Check(_) | SubTxn::Error { .. } => {}
                    }
                }
            }
        }
    }

    /// The tree as a snapshot (ACLs interned in order of first use).
    fn to_snapshot(&self, zxid: i64) -> Snapshot {
        let mut acls: Vec<(i64, Vec<Acl>)> = Vec::new();
        let mut nodes = Vec::new();
        for (path, n) in &self.nodes {
            let key = match acls.iter().find(|(_, l)| *l == n.acl) {
                Some((k, _)) => *k,
                None => {
                    acls.push((acls.len() as i64 + 1, n.acl.clone()));
                    acls.len() as i64
                }
            };
            nodes.push((
                path.clone(),
                DataNode {
                    data: n.data.clone(),
                    acl: key,
                    stat: n.stat,
                },
            ));
        }
        // BTreeMap order puts every parent before its children ("" first).
        Snapshot {
            dbid: -1,
            sessions: self.sessions.iter().map(|(k, v)| (*k, *v)).collect(),
            acls,
            nodes,
            digest: Some(ZxidDigest {
                zxid,
                version: DIGEST_VERSION,
                digest: self.digest(),
            }),
        }
    }
}

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zk38")
}

fn env_dir(var: &str) -> PathBuf {
    PathBuf::from(std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set")))
}

fn version_dir(workdir: &Path) -> PathBuf {
    workdir.join("data").join(VERSION_DIR)
}

/// The client-visible ephemeralOwner: containers and TTL nodes show 0.
fn client_owner(owner: i64) -> i64 {
    if owner == i64::MIN || (owner as u64) >> 56 == 0xff {
        0
    } else {
        owner
    }
}

#[test]
#[ignore = "needs files from Apache ZooKeeper: scripts/test-persist.sh"]
fn decodes_a_zookeeper_data_dir() {
    check_zookeeper_dir(&env_dir("ZKS_PERSIST_ZK_DIR"));
}

#[test]
fn committed_zookeeper_data_dir_decodes_and_replays() {
    check_zookeeper_dir(&committed_dir());
}

fn check_zookeeper_dir(work: &Path) {
    let dir = version_dir(work);
    let snaps = list_files(&dir, FileKind::Snapshot).unwrap();
    let logs = list_files(&dir, FileKind::Log).unwrap();
    assert!(
        snaps.len() >= 3,
        "snapCount makes several snapshots: {snaps:?}"
    );
    assert!(logs.len() >= 3, "and several logs: {logs:?}");

    // Every snapshot decodes, passes both seals and re-encodes to the same bytes.
    let mut snapshots = Vec::new();
    for (zxid, path) in &snaps {
        let bytes = std::fs::read(path).unwrap();
        let s = Snapshot::decode(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(s.encode(), bytes, "{path:?} re-encodes byte for byte");
        assert_eq!(s.dbid, -1);
        let d = s.digest.expect("3.8 writes the digest section");
        assert_eq!(d.version, DIGEST_VERSION);
        assert!(d.zxid >= *zxid || d.zxid == 0, "{path:?}: {d:?}");
        snapshots.push((*zxid, s));
    }

    // Every log decodes to its padding, every record whole, and re-encodes the same.
    let mut entries = Vec::new();
    let mut kinds = BTreeSet::new();
    for (zxid, path) in &logs {
        let bytes = std::fs::read(path).unwrap();
        let scan = LogScan::read(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert!(scan.end.is_clean(), "{path:?}: {:?}", scan.end);
        assert!(
            matches!(scan.end, LogEnd::Zeros { .. }),
            "ZooKeeper pads its logs"
        );
        assert_eq!(scan.header.dbid, 0);
        assert_eq!(
            scan.records[0].entry.header.zxid, *zxid,
            "named after its first"
        );
        let es: Vec<LogEntry> = scan.records.into_iter().map(|r| r.entry).collect();
        let end = scan.end.offset() as usize;
        assert_eq!(log_bytes(0, &es), bytes[..end], "{path:?} re-encodes");
        for e in &es {
            assert_eq!(e.header.txn_type, e.txn.op_code());
            // ZooKeeper 3.8 logs a digest with every transaction but errors.
            let want = (e.header.txn_type != op::ERROR).then_some(DIGEST_VERSION);
            assert_eq!(e.digest.map(|d| d.version), want, "{:?}", e.header);
            kinds.insert(e.header.txn_type);
        }
        entries.extend(es);
    }
    for k in [
        op::CREATE_SESSION,
        op::CLOSE_SESSION,
        op::CREATE,
        op::CREATE_CONTAINER,
        op::CREATE_TTL,
        op::DELETE,
        op::SET_DATA,
        op::SET_ACL,
        op::MULTI,
        op::ERROR,
    ] {
        assert!(
            kinds.contains(&k),
            "the log has a txn of type {k}: {kinds:?}"
        );
    }
    let zxids: Vec<i64> = entries.iter().map(|e| e.header.zxid).collect();
    assert!(zxids.windows(2).all(|w| w[1] == w[0] + 1), "{zxids:?}");

    // Replaying from the first snapshot reproduces every stored digest...
    let (first_zxid, first) = &snapshots[0];
    let mut tree = Tree::from_snapshot(first);
    let mut digests = BTreeMap::new();
    for e in entries.iter().filter(|e| e.header.zxid > *first_zxid) {
        tree.apply(e);
        let zxid = e.header.zxid;
        if let Some(d) = e.digest {
            assert_eq!(tree.digest(), d.tree_digest, "digest after zxid {zxid:#x}");
        }
        // A snapshot may carry the digest at an error txn's zxid (the tree unchanged).
        digests.insert(zxid, tree.digest());
    }
    // ...and each snapshot's digest section agrees with the tree at its zxid.
    for (zxid, s) in &snapshots[1..] {
        let d = s.digest.unwrap();
        assert_eq!(Some(&d.digest), digests.get(&d.zxid), "snapshot.{zxid:x}");
    }

    // The replayed tree and sessions are what the client saw.
    let expected = std::fs::read_to_string(work.join("expected.txt")).unwrap();
    let mut seen = BTreeSet::new();
    let mut sessions = BTreeMap::new();
    for line in expected.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f[0] == "session" {
            sessions.insert(f[1].parse::<i64>().unwrap(), f[2].parse::<i32>().unwrap());
            continue;
        }
        let path = if f[1] == "/" { "" } else { f[1] };
        let n = tree
            .nodes
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing"));
        let data = n.data.as_deref().unwrap_or_default();
        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
        let s = &n.stat;
        let ours = [
            if hex.is_empty() { "-".into() } else { hex },
            s.czxid.to_string(),
            s.mzxid.to_string(),
            s.pzxid.to_string(),
            s.ctime.to_string(),
            s.mtime.to_string(),
            s.version.to_string(),
            // ZooKeeper persists the count of creates; clients see the count of
            // changes (DataNode.copyStat): creates plus deletes.
            (2 * s.cversion - n.children.len() as i32).to_string(),
            s.aversion.to_string(),
            client_owner(s.ephemeral_owner).to_string(),
            n.children.len().to_string(),
            n.acl
                .iter()
                .map(|a| format!("{},{},{}", a.perms, a.id.scheme, a.id.id))
                .collect::<Vec<_>>()
                .join(";"),
        ];
        assert_eq!(ours.join(" "), f[2..].join(" "), "node {}", f[1]);
        seen.insert(path.to_owned());
    }
    let ours: BTreeSet<String> = tree.nodes.keys().cloned().collect();
    assert_eq!(ours, seen, "no node more or less than the client saw");
    assert_eq!(tree.sessions, sessions, "open sessions and their timeouts");
}

/// The ZooKeeper log with the most records (where its snapshots cut the logs is
/// randomised), as bytes up to its padding, and its whole records.
fn longest_zookeeper_log(work: &Path) -> (Vec<u8>, Vec<LogRecord>) {
    let dir = version_dir(work);
    let mut best: Option<(Vec<u8>, Vec<LogRecord>)> = None;
    for (_, path) in list_files(&dir, FileKind::Log).unwrap() {
        let bytes = std::fs::read(&path).unwrap();
        let scan = LogScan::read(&bytes).unwrap();
        let longer = match &best {
            None => true,
            Some((_, r)) => scan.records.len() > r.len(),
        };
        if longer {
            best = Some((bytes, scan.records));
        }
    }
    let (bytes, records) = best.expect("a log");
    assert!(records.len() >= 3, "a log has a few records");
    (bytes, records)
}

#[test]
#[ignore = "needs files from Apache ZooKeeper: scripts/test-persist.sh"]
fn a_zookeeper_log_cut_at_every_offset_of_its_last_records_keeps_the_whole_ones() {
    cut_at_every_offset(&env_dir("ZKS_PERSIST_ZK_DIR"));
}

#[test]
fn committed_zookeeper_log_cut_at_every_offset_keeps_the_whole_records() {
    cut_at_every_offset(&committed_dir());
}

fn cut_at_every_offset(work: &Path) {
    let (bytes, records) = longest_zookeeper_log(work);
    let end = records.last().unwrap().end();
    let from = records[records.len() - 3].offset;
    for cut in from..=end {
        let scan = LogScan::read(&bytes[..cut as usize]).unwrap();
        let whole = records.iter().filter(|r| r.end() <= cut).count();
        assert_eq!(scan.records[..], records[..whole], "cut at {cut}");
        let boundary = records[whole - 1].end();
        assert_eq!(scan.end.offset(), boundary, "cut at {cut}");
        if cut > boundary {
            // Only a tail of zeros (the start of a checksum) can pass for padding.
            match &scan.end {
                LogEnd::Damaged {
                    damage: Damage::Truncated { .. },
                    ..
                } => {}
                LogEnd::Zeros { .. } => {
                    assert!(bytes[boundary as usize..cut as usize]
                        .iter()
                        .all(|&b| b == 0))
                }
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }
}

#[test]
#[ignore = "needs files from Apache ZooKeeper: scripts/test-persist.sh"]
fn a_flipped_byte_in_a_zookeeper_log_is_reported_at_its_record() {
    flip_every_byte(&env_dir("ZKS_PERSIST_ZK_DIR"));
}

#[test]
fn committed_zookeeper_log_with_a_flipped_byte_reports_its_record() {
    flip_every_byte(&committed_dir());
}

fn flip_every_byte(work: &Path) {
    let (bytes, records) = longest_zookeeper_log(work);
    let from = records[records.len() - 3].offset;
    for at in from..records.last().unwrap().end() {
        let mut bad = bytes.clone();
        bad[at as usize] ^= 0x20;
        let scan = LogScan::read(&bad).unwrap();
        let hit = records
            .iter()
            .position(|r| r.offset <= at && at < r.end())
            .unwrap();
        assert_eq!(scan.records[..], records[..hit], "flip at {at}");
        match &scan.end {
            LogEnd::Damaged { offset, .. } => assert_eq!(*offset, records[hit].offset),
            other => panic!("flip at {at}: {other:?}"),
        }
    }
}

/// The initial tree ZooKeeper 3.8 starts from (as in its first snapshot).
fn initial_tree() -> Tree {
    let open = vec![Acl::new(31, "world", "anyone")];
    let mut t = Tree::default();
    let mut add = |path: &str, acl: Vec<Acl>, cversion: i32, aversion: i32| {
        let stat = StatPersisted {
            cversion,
            aversion,
            ..StatPersisted::default()
        };
        if !path.is_empty() {
            let (parent, child) = split(path);
            t.nodes
                .get_mut(parent)
                .unwrap()
                .children
                .insert(child.into());
        }
        t.nodes.insert(
            path.into(),
            Node {
                data: Some(Vec::new()),
                acl,
                stat,
                children: BTreeSet::new(),
            },
        );
    };
    add("", open.clone(), 0, 0);
    add("/zookeeper", open.clone(), 0, 0);
    add(
        "/zookeeper/config",
        vec![Acl::new(1, "world", "anyone")],
        0,
        -1,
    );
    add("/zookeeper/quota", open, 0, 0);
    t
}

fn header(session: i64, zxid: i64, txn: &Txn) -> TxnHeader {
    TxnHeader {
        client_id: session,
        cxid: zxid as i32,
        zxid,
        time: 1_764_000_000_000 + zxid * 10,
        txn_type: txn.op_code(),
    }
}

#[test]
#[ignore = "writes files for Apache ZooKeeper to read: scripts/test-persist.sh"]
fn writes_a_data_dir() {
    let work = env_dir("ZKS_PERSIST_OUT_DIR");
    let dir = version_dir(&work);
    std::fs::create_dir_all(&dir).unwrap();
    let open = vec![Acl::new(31, "world", "anyone")];
    let digest_acl = vec![Acl::new(31, "digest", "admin:fvr2cB/fjGeAiX8g1aGhUm3ZICk=")];
    let s1 = 0x0100_0000_0000_0001;
    let s2 = 0x0100_0000_0000_0002;
    let create = |path: &str, data: &[u8], acl: &Vec<Acl>, eph: bool, pcv: i32| CreateTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: acl.clone(),
        ephemeral: eph,
        parent_cversion: pcv,
    };
    let txns: Vec<(i64, Txn)> = vec![
        (s1, Txn::CreateSession { timeout: 30000 }),
        (s2, Txn::CreateSession { timeout: 40000 }),
        (
            s1,
            Txn::Create2(create("/ours", b"written by zksession", &open, false, 1)),
        ),
        (
            s1,
            Txn::Create(create("/ours/locked", b"s3cret", &digest_acl, false, 1)),
        ),
        (
            s2,
            Txn::Create(create("/ours/ephemeral", b"e", &open, true, 2)),
        ),
        (
            s1,
            Txn::SetData(SetDataTxn {
                path: "/ours".into(),
                data: Some(b"changed".to_vec()),
                version: 1,
            }),
        ),
        (
            s1,
            Txn::CreateContainer(CreateContainerTxn {
                path: "/box".into(),
                data: Some(Vec::new()),
                acl: open.clone(),
                parent_cversion: 2,
            }),
        ),
        (
            s1,
            Txn::Multi(vec![
                SubTxn::Create(create("/box/item", b"i", &open, false, 1)),
                SubTxn::Check(CheckVersionTxn {
                    path: "/ours".into(),
                    version: 1,
                }),
            ]),
        ),
        (s1, Txn::Error { err: -110 }),
        (
            s1,
            Txn::SetAcl(SetAclTxn {
                path: "/box/item".into(),
                acl: vec![Acl::new(31, "ip", "127.0.0.1")],
                version: 1,
            }),
        ),
        (s1, Txn::Create(create("/gone", b"", &open, false, 3))),
        (
            s1,
            Txn::Delete {
                path: "/gone".into(),
            },
        ),
        (
            s1,
            Txn::CloseSession {
                paths_to_delete: Some(Vec::new()),
            },
        ),
    ];

    let mut tree = initial_tree();
    let snap0 = tree.to_snapshot(0);
    let snap0 = Snapshot {
        digest: Some(ZxidDigest {
            zxid: 0,
            version: DIGEST_VERSION,
            digest: 0,
        }),
        ..snap0
    };
    std::fs::write(dir.join(file_name(FileKind::Snapshot, 0)), snap0.encode()).unwrap();

    let log_path = dir.join(file_name(FileKind::Log, 1));
    let mut w = LogWriter::create(&log_path, 0, DEFAULT_PREALLOC).unwrap();
    let mut entries = Vec::new();
    for (i, (session, txn)) in txns.into_iter().enumerate() {
        let h = header(session, i as i64 + 1, &txn);
        let mut e = LogEntry {
            header: h,
            txn,
            digest: None,
        };
        tree.apply(&e);
        if e.header.txn_type != op::ERROR {
            e.digest = Some(TxnDigest {
                version: DIGEST_VERSION,
                tree_digest: tree.digest(),
            });
        }
        w.append(&e);
        entries.push(e);
    }
    w.sync().unwrap();
    let last = entries.len() as i64;
    let snap = tree.to_snapshot(last);
    let snap_path = dir.join(file_name(FileKind::Snapshot, last));
    std::fs::write(&snap_path, snap.encode()).unwrap();

    // Read back: the same values, and the same bytes when encoded again.
    let bytes = std::fs::read(&log_path).unwrap();
    assert_eq!(
        bytes.len() as u64,
        DEFAULT_PREALLOC,
        "preallocated as ZooKeeper"
    );
    let scan = LogScan::read(&bytes).unwrap();
    assert!(scan.end.is_clean());
    let read: Vec<LogEntry> = scan.records.iter().map(|r| r.entry.clone()).collect();
    assert_eq!(read, entries);
    assert_eq!(log_bytes(0, &read)[..], bytes[..scan.end.offset() as usize]);
    let sbytes = std::fs::read(&snap_path).unwrap();
    assert_eq!(Snapshot::decode(&sbytes).unwrap(), snap);
    assert_eq!(Snapshot::decode(&sbytes).unwrap().encode(), sbytes);
    assert_eq!(snap.tree_digest(), snap.digest.unwrap().digest);
}
