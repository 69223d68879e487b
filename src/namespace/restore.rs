//! Loading a tree from stored state and reading it out whole: what a snapshot and a
//! transaction log replay need, and nothing a client request may call.
//!
//! Owns: [`Namespace::empty`], the `restore_*` primitives (each applies one logged
//! change exactly as recorded: no checks of versions or ACLs, no zxid taken, no watch
//! fired) and [`Namespace::for_each_node_parents_first`].
//!
//! Invariants: the tree's invariants (parent links, child counts, ephemeral index, data
//! size) hold after every call; a change that does not fit the tree (missing parent,
//! existing node, missing node) changes nothing and returns false.
//!
//! Must never: fire watches or allocate zxids.

use std::collections::VecDeque;

use super::acl::AclList;
use super::path::{self, ROOT};
use super::tree::{Namespace, Node};
use crate::wire::{Acl, Stat};

/// A node as [`Namespace::for_each_node_parents_first`] shows it.
#[derive(Debug, Clone, Copy)]
pub struct NodeParts<'a> {
    /// The data.
    pub data: &'a [u8],
    /// The ACL list (shared between nodes that carry the same one).
    pub acl: &'a std::sync::Arc<[Acl]>,
    /// The stored stat (`cversion` in ZooKeeper's persisted form: creates of children).
    pub stat: &'a Stat,
}

impl Namespace {
    /// A tree with no node at all and `last_zxid` as its zxid, to be filled by
    /// [`Namespace::restore_node`] (parents first).
    pub fn empty(last_zxid: i64) -> Namespace {
        let mut ns = Namespace::new();
        ns.nodes.clear();
        ns.ephemerals.clear();
        ns.reapable.clear();
        ns.data_size = 0;
        ns.last_zxid = last_zxid;
        ns
    }

    /// Inserts a node as stored; its parent must be present (the root excepted). Returns
    /// false (changing nothing) otherwise or when the path is taken.
    pub fn restore_node(
        &mut self,
        path: String,
        data: impl Into<Option<Vec<u8>>>,
        acl: AclList,
        stat: Stat,
    ) -> bool {
        let data = data.into();
        if self.nodes.contains_key(&path)
            || (path != ROOT && !self.nodes.contains_key(path::split(&path).0))
        {
            return false;
        }
        let mut stat = stat;
        stat.data_length = data.as_ref().map_or(0, Vec::len) as i32;
        stat.num_children = 0;
        let acl = self.acls.intern(acl.to_vec());
        self.insert_node(path, Node::new(data, acl, stat));
        true
    }

    /// A logged create: the node with `stat`, and its parent's cversion set to
    /// `parent_cversion` (its cversion + 1 when −1) and pzxid to the node's czxid when
    /// that raises the cversion, as ZooKeeper's `DataTree.createNode`.
    pub fn restore_create(
        &mut self,
        path: &str,
        data: Vec<u8>,
        acl: AclList,
        stat: Stat,
        parent_cversion: i32,
    ) -> bool {
        if path == ROOT || self.nodes.contains_key(path) {
            return false;
        }
        let parent = path::split(path).0;
        let Some(p) = self.nodes.get_mut(parent) else {
            return false;
        };
        let cv = if parent_cversion == -1 {
            p.stat.cversion.wrapping_add(1)
        } else {
            parent_cversion
        };
        if cv > p.stat.cversion {
            p.stat.cversion = cv;
            p.stat.pzxid = stat.czxid;
        }
        self.restore_node(path.to_owned(), data, acl, stat)
    }

    /// A logged delete: removes the node and raises its parent's pzxid to `zxid`.
    pub fn restore_delete(&mut self, path: &str, zxid: i64) -> bool {
        if path == ROOT || self.remove_node(path).is_none() {
            return false;
        }
        if let Some(p) = self.nodes.get_mut(path::split(path).0) {
            if zxid > p.stat.pzxid {
                p.stat.pzxid = zxid;
            }
        }
        true
    }

    /// A logged setData.
    pub fn restore_set_data(
        &mut self,
        path: &str,
        data: impl Into<Option<Vec<u8>>>,
        version: i32,
        zxid: i64,
        time: i64,
    ) -> bool {
        if !self.nodes.contains_key(path) {
            return false;
        }
        self.replace_data(path, data.into());
        let n = self.nodes.get_mut(path).expect("present");
        n.stat.version = version;
        n.stat.mzxid = zxid;
        n.stat.mtime = time;
        true
    }

    /// A logged setACL.
    pub fn restore_set_acl(&mut self, path: &str, acl: AclList, version: i32) -> bool {
        if !self.nodes.contains_key(path) {
            return false;
        }
        let acl = self.acls.intern(acl.to_vec());
        let n = self.nodes.get_mut(path).expect("checked above");
        let old = std::mem::replace(&mut n.acl, acl);
        self.acls.release(vec![old]);
        n.stat.aversion = version;
        true
    }

    /// Moves the zxid counter forward to `zxid` (never back).
    pub fn restore_zxid(&mut self, zxid: i64) {
        self.last_zxid = self.last_zxid.max(zxid);
    }

    /// Calls `f` with every node's path and parts, each parent before its children
    /// (breadth first from the root).
    pub fn for_each_node_parents_first(&self, mut f: impl FnMut(&str, NodeParts<'_>)) {
        let mut queue: VecDeque<String> = VecDeque::new();
        queue.push_back(ROOT.to_owned());
        while let Some(p) = queue.pop_front() {
            let Some(n) = self.nodes.get(&p) else {
                continue;
            };
            f(
                &p,
                NodeParts {
                    data: n.data.as_deref().unwrap_or(&[]),
                    acl: &n.acl,
                    stat: &n.stat,
                },
            );
            for c in &n.children {
                queue.push_back(if p == ROOT {
                    format!("/{c}")
                } else {
                    format!("{p}/{c}")
                });
            }
        }
    }
}

impl Namespace {
    /// The stored parts of the node at `path` (stored stat: persisted cversion, container
    /// owner as is), for logging what a write did.
    pub fn stored(&self, path: &str) -> Option<NodeParts<'_>> {
        self.nodes.get(path).map(|n| NodeParts {
            data: n.data.as_deref().unwrap_or(&[]),
            acl: &n.acl,
            stat: &n.stat,
        })
    }
}
