//! Loading a tree from stored state and reading it out whole: what a snapshot and a
//! transaction log replay need, and nothing a client request may call.
//!
//! Owns: [`Namespace::empty`], the `restore_*` primitives (each applies one logged
//! change exactly as recorded: no checks of versions or ACLs, no zxid taken, no watch
//! fired), [`Namespace::for_each_node_parents_first`] and the paged walk
//! ([`PagedWalk`], [`Namespace::walk_page`]) a fuzzy snapshot copies the tree with.
//!
//! Invariants: the tree's invariants (parent links, child counts, ephemeral index, data
//! size) hold after every call; a change that does not fit the tree (missing parent,
//! existing node, missing node) changes nothing else and returns false. Replaying a
//! logged change on a tree that already shows it (a fuzzy snapshot taken while writes
//! went on) converges: every primitive sets absolute values, a create of a node already
//! present still raises its parent's cversion and pzxid to the logged ones (as
//! ZooKeeper's replay does), a delete of a node already gone still raises its parent's
//! pzxid (the paged walk copies a node's stat and its children at different times), and
//! a delete of a node with children (which can only be later ones) takes them with it.
//!
//! Must never: fire watches or allocate zxids.

use std::collections::VecDeque;
use std::ops::Bound;

use super::acl::AclList;
use super::path::{self, ROOT};
use super::tree::{Namespace, Node};
use crate::wire::{Acl, Stat};

/// A node as [`Namespace::for_each_node_parents_first`] shows it.
#[derive(Debug, Clone, Copy)]
pub struct NodeParts<'a> {
    /// The data (`None`: null data, kept apart from empty).
    pub data: Option<&'a [u8]>,
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
        ns.tree_bytes = 0;
        ns.digest = 0;
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
    /// that raises the cversion, as ZooKeeper's `DataTree.createNode`. When the node is
    /// already there (a fuzzy snapshot holds it) the parent is still raised so, and
    /// false is returned.
    pub fn restore_create(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: AclList,
        stat: Stat,
        parent_cversion: i32,
    ) -> bool {
        if path == ROOT {
            return false;
        }
        let exists = self.nodes.contains_key(path);
        let parent = path::split(path).0;
        let Some(p) = self.nodes.get(parent) else {
            return false;
        };
        let cv = if parent_cversion == -1 {
            p.stat.cversion.wrapping_add(1)
        } else {
            parent_cversion
        };
        if cv > p.stat.cversion {
            let parent = parent.to_owned();
            self.change_stat(&parent, |s| {
                s.cversion = cv;
                s.pzxid = stat.czxid;
            });
        }
        !exists && self.restore_node(path.to_owned(), data, acl, stat)
    }

    /// A logged delete: removes the node and raises its parent's pzxid to `zxid`. When
    /// the node is already gone (a fuzzy snapshot copied its parent's stat before the
    /// delete and the parent's children after it) the parent's pzxid is still raised, and
    /// false is returned.
    pub fn restore_delete(&mut self, path: &str, zxid: i64) -> bool {
        if path == ROOT {
            return false;
        }
        // A node is deleted only once childless, so children here are from a fuzzy
        // snapshot, created after this delete (their creates come later in the log):
        // they go with it, deepest first, as a later incarnation of the node would.
        let mut subtree = vec![path.to_owned()];
        let mut i = 0;
        while i < subtree.len() {
            if let Some(n) = self.nodes.get(&subtree[i]) {
                let base = subtree[i].clone();
                subtree.extend(n.children.iter().map(|c| format!("{base}/{c}")));
            }
            i += 1;
        }
        for p in subtree[1..].iter().rev() {
            self.remove_node(p);
        }
        let removed = self.remove_node(path).is_some();
        self.change_stat(path::split(path).0, |s| {
            if zxid > s.pzxid {
                s.pzxid = zxid;
            }
        });
        removed
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
        self.change_stat(path, |s| {
            s.version = version;
            s.mzxid = zxid;
            s.mtime = time;
        })
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
        self.change_stat(path, |s| s.aversion = version)
    }

    /// Moves the zxid counter forward to `zxid` (never back).
    pub fn restore_zxid(&mut self, zxid: i64) {
        self.last_zxid = self.last_zxid.max(zxid);
        // A replayed txn is complete when its zxid is set.
        self.digest_log.note(self.last_zxid, self.digest);
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
            f(&p, n.parts());
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
        self.nodes.get(path).map(Node::parts)
    }
}

impl Node {
    fn parts(&self) -> NodeParts<'_> {
        NodeParts {
            data: self.data.as_deref(),
            acl: &self.acl,
            stat: &self.stat,
        }
    }
}

/// Where a paged walk of the tree stands: the nodes copied whose children are still to
/// be visited, in visiting order. Between pages the tree may change; the walk then shows
/// each node as it was when its page ran, never a node twice, and parents always before
/// their children.
#[derive(Debug, Default)]
pub struct PagedWalk {
    started: bool,
    pending: VecDeque<Pending>,
}

#[derive(Debug)]
struct Pending {
    path: String,
    /// The node's czxid when it was copied: a node deleted and created again since is
    /// another node, whose children (all created later) are not visited.
    czxid: i64,
    /// The last child name visited (children are visited in name order).
    after: Option<String>,
}

impl PagedWalk {
    /// A walk that starts at the root.
    pub fn new() -> PagedWalk {
        PagedWalk::default()
    }

    /// Whether every node has been visited.
    pub fn is_done(&self) -> bool {
        self.started && self.pending.is_empty()
    }
}

impl Namespace {
    /// Visits up to `budget` more nodes of `walk` (at least one while any is left),
    /// calling `f` with each one's path and parts, parents before children. Returns how
    /// many were visited; the caller may release the namespace lock between calls.
    pub fn walk_page(
        &self,
        walk: &mut PagedWalk,
        budget: usize,
        mut f: impl FnMut(&str, NodeParts<'_>),
    ) -> usize {
        let budget = budget.max(1);
        let mut visited = 0;
        if !walk.started {
            walk.started = true;
            if let Some(root) = self.nodes.get(ROOT) {
                f(ROOT, root.parts());
                visited += 1;
                if !root.children.is_empty() {
                    walk.pending.push_back(Pending {
                        path: ROOT.to_owned(),
                        czxid: root.stat.czxid,
                        after: None,
                    });
                }
            }
        }
        while visited < budget {
            let Some(mut p) = walk.pending.pop_front() else {
                break;
            };
            let Some(node) = self.nodes.get(&p.path) else {
                continue;
            };
            if node.stat.czxid != p.czxid {
                continue;
            }
            let from = match &p.after {
                Some(a) => Bound::Excluded(a.as_str()),
                None => Bound::Unbounded,
            };
            let mut last: Option<&String> = None;
            let mut more = false;
            for name in node.children.range::<str, _>((from, Bound::Unbounded)) {
                if visited >= budget {
                    more = true;
                    break;
                }
                last = Some(name);
                let child = if p.path == ROOT {
                    format!("/{name}")
                } else {
                    format!("{}/{name}", p.path)
                };
                let Some(c) = self.nodes.get(&child) else {
                    continue;
                };
                f(&child, c.parts());
                visited += 1;
                if !c.children.is_empty() {
                    walk.pending.push_back(Pending {
                        path: child,
                        czxid: c.stat.czxid,
                        after: None,
                    });
                }
            }
            if more {
                if let Some(l) = last {
                    p.after = Some(l.clone());
                }
                walk.pending.push_front(p);
            }
        }
        visited
    }
}
