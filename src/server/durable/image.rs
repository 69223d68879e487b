//! The namespace as a snapshot and back, and logged transactions applied to it.
//!
//! Owns: [`snapshot_of`] (a consistent copy of the tree and the global sessions, with
//! the digest section of its last zxid), [`zxid_digest`],
//! [`snapshot_paged`] (a fuzzy copy of a live tree, a page of nodes per lock hold),
//! [`namespace_of`] (a tree loaded from a snapshot) and [`Replay`] (applies log entries
//! as ZooKeeper's `DataTree` does: parent cversion and pzxid on create, pzxid on delete,
//! containers and TTL owners, closeSession's ephemerals).
//!
//! Invariants: a node's persisted `cversion` is the namespace's stored one (creates of
//! children ever made); data is kept as read, null data staying null (ZooKeeper's −1
//! length buffer) and apart from empty data; ACL lists are interned in order of first use with keys from
//! 1, as ZooKeeper's ACL cache numbers them.
//!
//! Must never: do I/O, or panic on a log that does not fit the tree (such an entry is
//! reported and skipped).

use crate::namespace::Namespace;
use crate::persist::{
    DataNode, LogEntry, Snapshot, StatPersisted, SubTxn, Txn, ZxidDigest, DIGEST_VERSION,
    OPEN_UNSAFE_ACL,
};
use crate::wire::{Acl, Stat};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type NodeOf<'a> = crate::namespace::NodeParts<'a>;

pub(crate) fn persisted(s: &Stat) -> StatPersisted {
    StatPersisted {
        czxid: s.czxid,
        mzxid: s.mzxid,
        ctime: s.ctime,
        mtime: s.mtime,
        version: s.version,
        cversion: s.cversion,
        aversion: s.aversion,
        ephemeral_owner: s.ephemeral_owner,
        pzxid: s.pzxid,
    }
}

fn stat_of(s: &StatPersisted, data_len: usize) -> Stat {
    Stat {
        czxid: s.czxid,
        mzxid: s.mzxid,
        ctime: s.ctime,
        mtime: s.mtime,
        version: s.version,
        cversion: s.cversion,
        aversion: s.aversion,
        ephemeral_owner: s.ephemeral_owner,
        data_length: data_len as i32,
        num_children: 0,
        pzxid: s.pzxid,
    }
}

/// Builds a [`Snapshot`] from nodes visited parents first, interning ACL lists as it
/// goes. It keeps every list it has keyed alive, so a list's address is never reused
/// for another while the copy lasts (the copy may span several namespace-lock holds).
pub(crate) struct SnapshotBuilder {
    keys: HashMap<*const [Acl], i64>,
    kept: Vec<Arc<[Acl]>>,
    acls: Vec<(i64, Vec<Acl>)>,
    nodes: Vec<(String, DataNode)>,
}

impl SnapshotBuilder {
    pub(crate) fn new(capacity: usize) -> SnapshotBuilder {
        SnapshotBuilder {
            keys: HashMap::new(),
            kept: Vec::new(),
            acls: Vec::new(),
            nodes: Vec::with_capacity(capacity),
        }
    }

    /// Adds one node (the root as `"/"`).
    pub(crate) fn add(&mut self, path: &str, n: NodeOf<'_>) {
        self.add_owned(
            path.to_owned(),
            n.data.map(<[u8]>::to_vec),
            n.acl,
            persisted(n.stat),
        );
    }

    /// Adds one node from parts already copied out of the tree.
    fn add_owned(
        &mut self,
        path: String,
        data: Option<Vec<u8>>,
        acl: &Arc<[Acl]>,
        stat: StatPersisted,
    ) {
        let ptr = Arc::as_ptr(acl);
        let key = match self.keys.get(&ptr) {
            Some(k) => *k,
            None => {
                let disk = acl.to_vec();
                let k = match self.acls.iter().find(|(_, l)| *l == disk) {
                    Some((k, _)) => *k,
                    None => {
                        self.acls.push((self.acls.len() as i64 + 1, disk));
                        self.acls.len() as i64
                    }
                };
                self.keys.insert(ptr, k);
                self.kept.push(acl.clone());
                k
            }
        };
        let path = if path == "/" { String::new() } else { path };
        self.nodes.push((
            path,
            DataNode {
                data,
                acl: key,
                stat,
            },
        ));
    }

    /// The snapshot with the given global sessions and digest section.
    pub(crate) fn finish(self, sessions: Vec<(i64, i32)>, digest: Option<ZxidDigest>) -> Snapshot {
        Snapshot {
            dbid: -1,
            sessions,
            acls: self.acls,
            nodes: self.nodes,
            digest,
        }
    }
}

/// The digest section for the tree as it is now: the digest after its last txn, as
/// ZooKeeper 3.8 records its last processed txn's. A tree at zxid 0 gets ZooKeeper's
/// empty record (zxid 0, digest 0), which no load compares.
pub(crate) fn zxid_digest(ns: &Namespace) -> ZxidDigest {
    let zxid = ns.last_zxid();
    ZxidDigest {
        zxid,
        version: DIGEST_VERSION,
        digest: if zxid == 0 { 0 } else { ns.digest() },
    }
}

/// A consistent copy of the tree (parents before children, the root as `""`) and of the
/// given global sessions, with the digest section of the tree's last zxid.
pub(crate) fn snapshot_of(ns: &Namespace, sessions: &[(i64, i32)]) -> Snapshot {
    let mut b = SnapshotBuilder::new(ns.node_count());
    ns.for_each_node_parents_first(|path, n: NodeOf<'_>| b.add(path, n));
    b.finish(sessions.to_vec(), Some(zxid_digest(ns)))
}

/// What a paged copy of a live tree took.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PagedCopy {
    /// The tree's last zxid when the last page was copied: every change the copy may
    /// show is at or below it.
    pub(crate) last_zxid: i64,
    /// Namespace-lock holds taken.
    pub(crate) pages: usize,
    /// The longest of them.
    pub(crate) longest_hold: std::time::Duration,
    /// All of them together: about what one hold copying the whole tree would take.
    pub(crate) total_hold: std::time::Duration,
}

/// A node copied out of the tree: path, data, ACL list, stat.
type CopiedNode = (String, Option<Vec<u8>>, Arc<[Acl]>, StatPersisted);

/// A fuzzy copy of a live tree: `page` nodes per namespace-lock hold, so writes go on
/// between pages. Each node is as it was when its page ran; replaying the log from the
/// zxid the copy started at makes it exact (see [`Replay`]).
pub(crate) fn snapshot_paged(
    ns: &crate::sync::Mutex<Namespace>,
    sessions: Vec<(i64, i32)>,
    page: usize,
) -> (Snapshot, PagedCopy) {
    let mut walk = crate::namespace::PagedWalk::new();
    let mut b = SnapshotBuilder::new(ns.lock().node_count());
    let mut copy = PagedCopy {
        last_zxid: 0,
        pages: 0,
        longest_hold: std::time::Duration::ZERO,
        total_hold: std::time::Duration::ZERO,
    };
    // A page is copied into this buffer under the lock and moved into the builder after
    // it (the builder's growth, a copy of everything so far, stays out of the hold).
    let mut buf: Vec<CopiedNode> = Vec::with_capacity(page);
    // As ZooKeeper's, the digest section is the tree's when the copy ends: the log from
    // the snapshot's zxid replays to it exactly at this zxid.
    let mut digest = zxid_digest(&ns.lock());
    while !walk.is_done() {
        let g = ns.lock();
        let t0 = std::time::Instant::now();
        g.walk_page(&mut walk, page, |path, n| {
            buf.push((
                path.to_owned(),
                n.data.map(<[u8]>::to_vec),
                n.acl.clone(),
                persisted(n.stat),
            ))
        });
        copy.last_zxid = g.last_zxid();
        digest = zxid_digest(&g);
        drop(g);
        for (path, data, acl, stat) in buf.drain(..) {
            b.add_owned(path, data, &acl, stat);
        }
        let held = t0.elapsed();
        copy.longest_hold = copy.longest_hold.max(held);
        copy.total_hold += held;
        copy.pages += 1;
    }
    (b.finish(sessions, Some(digest)), copy)
}

/// The tree a snapshot holds, its last zxid being the snapshot's.
pub(crate) fn namespace_of(s: &Snapshot, zxid: i64) -> Namespace {
    let acls: BTreeMap<i64, Arc<[Acl]>> = s
        .acls
        .iter()
        .map(|(k, l)| (*k, Arc::from(l.as_slice())))
        .collect();
    let open: Arc<[Acl]> = Arc::from(vec![Acl::world_anyone()]);
    let mut ns = Namespace::empty(zxid);
    for (path, n) in &s.nodes {
        let acl = if n.acl == OPEN_UNSAFE_ACL {
            open.clone()
        } else {
            acls.get(&n.acl).cloned().unwrap_or_else(|| {
                tracing::warn!(path = %path, key = n.acl, "ACL key missing from the snapshot; open ACL used");
                open.clone()
            })
        };
        let data = n.data.clone();
        let stat = stat_of(&n.stat, data.as_ref().map_or(0, Vec::len));
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path.clone()
        };
        ns.restore_node(path, data, acl, stat);
    }
    ns
}

/// The owner of a logged TTL node; a TTL out of range (ZooKeeper refuses to load such a
/// log) keeps the TTL marker with the TTL's low 40 bits.
fn ttl_owner(ttl: i64) -> i64 {
    crate::namespace::ttl_owner(ttl)
        .unwrap_or((0xff00_0000_0000_0000u64 as i64) | (ttl & crate::namespace::MAX_TTL_MS))
}

/// Applies logged transactions to a tree and a session table.
pub(crate) struct Replay<'a> {
    pub(crate) ns: &'a mut Namespace,
    pub(crate) sessions: &'a mut BTreeMap<i64, i32>,
}

impl Replay<'_> {
    /// Applies one entry and moves the tree's zxid to it.
    pub(crate) fn apply(&mut self, e: &LogEntry) {
        let h = &e.header;
        match &e.txn {
            Txn::CreateSession { timeout } => {
                self.sessions.insert(h.client_id, *timeout);
            }
            Txn::CloseSession { paths_to_delete } => {
                let paths: Vec<String> = match paths_to_delete {
                    Some(p) => p.clone(),
                    None => self
                        .ns
                        .ephemerals_by_session()
                        .remove(&(h.client_id as u64))
                        .unwrap_or_default(),
                };
                for p in paths {
                    self.delete(&p, h.zxid);
                }
                self.sessions.remove(&h.client_id);
            }
            Txn::Create(c) | Txn::Create2(c) => {
                let owner = if c.ephemeral { h.client_id } else { 0 };
                self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, e);
            }
            Txn::CreateContainer(c) => {
                self.create(&c.path, &c.data, &c.acl, i64::MIN, c.parent_cversion, e)
            }
            Txn::CreateTtl(c) => {
                let owner = ttl_owner(c.ttl);
                self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, e)
            }
            Txn::Delete { path } | Txn::DeleteContainer { path } => self.delete(path, h.zxid),
            Txn::SetData(t) => {
                self.ns
                    .restore_set_data(&t.path, t.data.clone(), t.version, h.zxid, h.time);
            }
            Txn::SetAcl(t) => {
                self.ns
                    .restore_set_acl(&t.path, Arc::from(t.acl.as_slice()), t.version);
            }
            Txn::Error { .. } => {}
            Txn::Multi(subs) => {
                if !subs.iter().any(|s| matches!(s, SubTxn::Error { .. })) {
                    for s in subs {
                        self.apply_sub(s, e);
                    }
                }
            }
        }
        self.ns.restore_zxid(h.zxid);
    }

    fn apply_sub(&mut self, s: &SubTxn, e: &LogEntry) {
        let h = &e.header;
        match s {
            SubTxn::Create(c) => {
                let owner = if c.ephemeral { h.client_id } else { 0 };
                self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, e)
            }
            SubTxn::CreateContainer(c) => {
                self.create(&c.path, &c.data, &c.acl, i64::MIN, c.parent_cversion, e)
            }
            SubTxn::CreateTtl(c) => {
                let owner = ttl_owner(c.ttl);
                self.create(&c.path, &c.data, &c.acl, owner, c.parent_cversion, e)
            }
            SubTxn::Delete { path } | SubTxn::DeleteContainer { path } => self.delete(path, h.zxid),
            SubTxn::SetData(t) => {
                self.ns
                    .restore_set_data(&t.path, t.data.clone(), t.version, h.zxid, h.time);
            }
            SubTxn::Check(_) | SubTxn::Error { .. } => {}
        }
    }

    fn create(
        &mut self,
        path: &str,
        data: &Option<Vec<u8>>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        e: &LogEntry,
    ) {
        let h = &e.header;
        let data = data.clone();
        let stat = Stat {
            czxid: h.zxid,
            mzxid: h.zxid,
            ctime: h.time,
            mtime: h.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            data_length: data.as_ref().map_or(0, Vec::len) as i32,
            num_children: 0,
            pzxid: h.zxid,
        };
        if !self
            .ns
            .restore_create(path, data, Arc::from(acl), stat, parent_cversion)
        {
            // Expected after a fuzzy snapshot (the node is already there), as in
            // ZooKeeper, which logs it at debug level too.
            tracing::debug!(
                path,
                zxid = format_args!("0x{:x}", h.zxid),
                "logged create does not fit the tree (parent missing or node present); skipped"
            );
        }
    }

    fn delete(&mut self, path: &str, zxid: i64) {
        if !self.ns.restore_delete(path, zxid) {
            tracing::debug!(
                path,
                zxid = format_args!("0x{zxid:x}"),
                "logged delete of a missing node (fuzzy snapshot); skipped"
            );
        }
    }
}
