//! The namespace as a snapshot and back, and logged transactions applied to it.
//!
//! Owns: [`snapshot_of`] (a consistent copy of the tree and the global sessions),
//! [`namespace_of`] (a tree loaded from a snapshot) and [`Replay`] (applies log entries
//! as ZooKeeper's `DataTree` does: parent cversion and pzxid on create, pzxid on delete,
//! containers and TTL owners, closeSession's ephemerals).
//!
//! Invariants: a node's persisted `cversion` is the namespace's stored one (creates of
//! children ever made); data is kept as read, null data becoming empty data (the
//! namespace stores no null); ACL lists are interned in order of first use with keys from
//! 1, as ZooKeeper's ACL cache numbers them.
//!
//! Must never: do I/O, or panic on a log that does not fit the tree (such an entry is
//! reported and skipped).

use crate::namespace::Namespace;
use crate::persist::{DataNode, LogEntry, Snapshot, StatPersisted, SubTxn, Txn, OPEN_UNSAFE_ACL};
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

/// A consistent copy of the tree (parents before children, the root as `""`) and of the
/// given global sessions, with the digest section left out.
pub(crate) fn snapshot_of(ns: &Namespace, sessions: &[(i64, i32)]) -> Snapshot {
    let mut keys: HashMap<*const [Acl], i64> = HashMap::new();
    let mut acls: Vec<(i64, Vec<Acl>)> = Vec::new();
    let mut nodes = Vec::with_capacity(ns.node_count());
    ns.for_each_node_parents_first(|path, n: NodeOf<'_>| {
        let ptr = Arc::as_ptr(n.acl);
        let key = match keys.get(&ptr) {
            Some(k) => *k,
            None => {
                let disk = n.acl.to_vec();
                let k = match acls.iter().find(|(_, l)| *l == disk) {
                    Some((k, _)) => *k,
                    None => {
                        acls.push((acls.len() as i64 + 1, disk));
                        acls.len() as i64
                    }
                };
                keys.insert(ptr, k);
                k
            }
        };
        let path = if path == "/" {
            String::new()
        } else {
            path.to_owned()
        };
        nodes.push((
            path,
            DataNode {
                data: Some(n.data.to_vec()),
                acl: key,
                stat: persisted(n.stat),
            },
        ));
    });
    Snapshot {
        dbid: -1,
        sessions: sessions.to_vec(),
        acls,
        nodes,
        digest: None,
    }
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
        let data = n.data.clone().unwrap_or_default();
        let stat = stat_of(&n.stat, data.len());
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
                self.ns.restore_set_data(
                    &t.path,
                    t.data.clone().unwrap_or_default(),
                    t.version,
                    h.zxid,
                    h.time,
                );
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
                self.ns.restore_set_data(
                    &t.path,
                    t.data.clone().unwrap_or_default(),
                    t.version,
                    h.zxid,
                    h.time,
                );
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
        let data = data.clone().unwrap_or_default();
        let stat = Stat {
            czxid: h.zxid,
            mzxid: h.zxid,
            ctime: h.time,
            mtime: h.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            data_length: data.len() as i32,
            num_children: 0,
            pzxid: h.zxid,
        };
        if !self
            .ns
            .restore_create(path, data, Arc::from(acl), stat, parent_cversion)
        {
            tracing::warn!(
                path,
                zxid = format_args!("0x{:x}", h.zxid),
                "logged create does not fit the tree (parent missing or node present); skipped"
            );
        }
    }

    fn delete(&mut self, path: &str, zxid: i64) {
        if !self.ns.restore_delete(path, zxid) {
            tracing::warn!(
                path,
                zxid = format_args!("0x{zxid:x}"),
                "logged delete of a missing node; skipped"
            );
        }
    }
}
