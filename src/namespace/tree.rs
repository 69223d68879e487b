//! The [`Namespace`] value: node storage, reads, watch registration and introspection.
//!
//! Owns: the node map (path → node, with each node's child names), the per-session
//! ephemeral index, the two watch tables and the zxid counter. Writes live in `write`.
//!
//! Invariants: every node but the root has its parent in the map and its name in the
//! parent's child set; `stat.num_children` is the child set's size and `stat.data_length`
//! the data's length; the stored `stat.cversion` counts the creates of children ever made
//! (ZooKeeper's persisted form, which also numbers sequential children), and clients see
//! it as `2 * creates - live children`, i.e. creates plus deletes, via
//! [`Node::client_stat`]; a node with a session owner is in that session's ephemeral set and
//! nowhere else; a container or TTL node (see `kind`) is in `reapable` and nothing else
//! is; `data_size` is the sum over nodes of path length plus data length; `digest` is
//! the wrapping sum over nodes of their ZooKeeper 3.8 digest ([`crate::persist::node_digest`]),
//! kept by the storage primitives ([`Namespace::insert_node`], [`Namespace::remove_node`],
//! [`Namespace::set_data_raw`], [`Namespace::change_stat`]), so every write, rollback,
//! replay and restore keeps it right. A node's stat is changed only through them.
//!
//! Must never: fire watches from a read; reads only register watches.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::acl::{self, Access, AclInterner, AclList, Anyone};
use super::budget::{node_cost, MemoryBudget};
use super::path::{self, ROOT};
use super::quota::Quotas;
use super::watch::{Matching, Table, WatchMode, WatcherId};
use super::{Notification, SessionId, WatchSummary};
use crate::wire::{
    perms, Acl, ErrorCode, EventType, KeeperState, MultiOp, MultiResult, Stat, WatcherEvent,
    WatcherType,
};

use super::kind::NodeKind;
pub(crate) use super::kind::CONTAINER_OWNER;

/// Paths that can never be deleted (ZooKeeper's `isSpecialPath`).
pub(crate) const SPECIAL_PATHS: [&str; 4] =
    [ROOT, "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

/// One znode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// `None` is null data (created or set with a null buffer), kept apart from empty.
    pub(crate) data: Option<Vec<u8>>,
    pub(crate) acl: AclList,
    pub(crate) stat: Stat,
    pub(crate) children: BTreeSet<String>,
}

impl Node {
    pub(crate) fn new(data: Option<Vec<u8>>, acl: AclList, stat: Stat) -> Node {
        Node {
            data,
            acl,
            stat,
            children: BTreeSet::new(),
        }
    }

    /// The stat as clients see it (ZooKeeper's `DataNode.copyStat`): cversion is
    /// `2 * creates - live children`, and containers and TTL nodes show ephemeralOwner 0.
    pub(crate) fn client_stat(&self) -> Stat {
        let mut s = self.stat;
        s.cversion = s.cversion.wrapping_mul(2).wrapping_sub(s.num_children);
        s.ephemeral_owner = self.kind().client_owner();
        s
    }

    /// What the node is, from its stored owner.
    pub(crate) fn kind(&self) -> NodeKind {
        NodeKind::of_owner(self.stat.ephemeral_owner)
    }

    /// The session owning this node, if it is a session ephemeral.
    pub(crate) fn session_owner(&self) -> Option<SessionId> {
        match self.kind() {
            NodeKind::Ephemeral(s) => Some(s),
            _ => None,
        }
    }
}

/// The znode tree with its ephemerals and watches. See the module docs of
/// [`crate::namespace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub(crate) nodes: HashMap<String, Node>,
    pub(crate) ephemerals: HashMap<SessionId, BTreeSet<String>>,
    pub(crate) data_watches: Table,
    pub(crate) child_watches: Table,
    pub(crate) last_zxid: i64,
    pub(crate) data_size: u64,
    pub(crate) acls: AclInterner,
    /// Sum over nodes of [`node_cost`]: the tree's share of the memory budget.
    pub(crate) tree_bytes: u64,
    pub(crate) budget: MemoryBudget,
    pub(crate) quotas: Quotas,
    /// Paths of the container and TTL nodes, for the reaper's paged scan.
    pub(crate) reapable: BTreeSet<String>,
    /// Whether TTL creates are allowed and TTL nodes reaped (`extendedTypesEnabled`).
    pub(crate) extended_types: bool,
    /// Wrapping sum of every node's digest: ZooKeeper's tree digest.
    pub(crate) digest: i64,
    /// The digest after every 128th txn (the `hash` command's history).
    pub(crate) digest_log: super::digest_log::DigestLog,
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace::new()
    }
}

impl Namespace {
    /// A fresh tree as a new ZooKeeper server has it: `/`, `/zookeeper`,
    /// `/zookeeper/quota` and `/zookeeper/config` (read-only, aversion −1), with zeroed
    /// stats otherwise (so `/` shows cversion −1 and `/zookeeper` −2, as in ZooKeeper);
    /// the last zxid is 0.
    pub fn new() -> Namespace {
        let mut ns = Namespace {
            nodes: HashMap::new(),
            ephemerals: HashMap::new(),
            data_watches: Table::default(),
            child_watches: Table::default(),
            last_zxid: 0,
            data_size: 0,
            acls: AclInterner::default(),
            tree_bytes: 0,
            budget: MemoryBudget::default(),
            quotas: Quotas::default(),
            reapable: BTreeSet::new(),
            extended_types: false,
            digest: 0,
            digest_log: Default::default(),
        };
        ns.insert_node(
            ROOT.to_owned(),
            Node::new(Some(Vec::new()), acl::open(), Stat::default()),
        );
        for (p, a) in [
            ("/zookeeper", acl::open()),
            ("/zookeeper/quota", acl::open()),
            ("/zookeeper/config", acl::read_only()),
        ] {
            ns.insert_node(
                p.to_owned(),
                Node::new(Some(Vec::new()), a, Stat::default()),
            );
        }
        // ZooKeeper sets the config node's ACL with version -1, which becomes its aversion.
        ns.change_stat("/zookeeper/config", |s| s.aversion = -1);
        ns
    }

    /// The zxid of the last txn (0 before any).
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// Takes the next zxid for a txn that changes no node (createSession).
    pub fn allocate_zxid(&mut self) -> i64 {
        // The previous txn is complete: its digest is final.
        self.digest_log.note(self.last_zxid, self.digest);
        self.last_zxid += 1;
        self.last_zxid
    }

    /// ZooKeeper 3.8's digest of the whole tree (`DataTree.getTreeDigest`): the wrapping
    /// sum of every node's digest, nodes under `/zookeeper/` counting 0.
    pub fn digest(&self) -> i64 {
        self.digest
    }

    /// ZooKeeper's digest history (the `hash` command): (zxid, tree digest after it) for
    /// every txn whose zxid is a multiple of 128 since the process started (replayed ones
    /// included), the newest 1024, oldest first.
    pub fn digest_history(&self) -> Vec<(i64, i64)> {
        self.digest_log.history(self.last_zxid, self.digest)
    }

    /// Recomputes [`digest`](Self::digest) from every node (a check of the running sum).
    pub fn digest_recomputed(&self) -> i64 {
        self.nodes
            .iter()
            .fold(0i64, |acc, (p, n)| acc.wrapping_add(node_digest_of(p, n)))
    }

    // ----- storage primitives (keep the invariants) -----

    /// Changes the stat of the node at `path` (if any) through `f`, keeping the digest.
    /// Returns whether the node exists.
    pub(crate) fn change_stat(&mut self, path: &str, f: impl FnOnce(&mut Stat)) -> bool {
        let Some(node) = self.nodes.get_mut(path) else {
            return false;
        };
        let before = node_digest_of(path, node);
        f(&mut node.stat);
        let after = node_digest_of(path, node);
        self.digest = self.digest.wrapping_sub(before).wrapping_add(after);
        true
    }

    /// Inserts `node` at `path`, linking it into its parent's child set (the parent's stat
    /// is the caller's business, except `num_children`).
    pub(crate) fn insert_node(&mut self, path: String, node: Node) {
        if path != ROOT {
            let (parent, name) = path::split(&path);
            if let Some(p) = self.nodes.get_mut(parent) {
                p.children.insert(name.to_owned());
                p.stat.num_children = p.children.len() as i32;
            }
        }
        if let Some(owner) = node.session_owner() {
            self.ephemerals
                .entry(owner)
                .or_default()
                .insert(path.clone());
        } else if node.kind().is_reapable() {
            self.reapable.insert(path.clone());
        }
        let len = data_len(&node.data);
        self.data_size += (path.len() + len) as u64;
        self.tree_bytes += node_cost(path.len(), len);
        let quota_path = self.quotas.concerns(&path).then(|| path.clone());
        self.digest = self.digest.wrapping_add(node_digest_of(&path, &node));
        self.nodes.insert(path, node);
        if let Some(p) = quota_path {
            self.quota_inserted(&p, len);
        }
    }

    /// Removes the node at `path` and unlinks it from its parent; returns it.
    pub(crate) fn remove_node(&mut self, path: &str) -> Option<Node> {
        let node = self.nodes.remove(path)?;
        let (parent, name) = path::split(path);
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.remove(name);
            p.stat.num_children = p.children.len() as i32;
        }
        if let Some(owner) = node.session_owner() {
            if let Some(set) = self.ephemerals.get_mut(&owner) {
                set.remove(path);
                if set.is_empty() {
                    self.ephemerals.remove(&owner);
                }
            }
        } else if node.kind().is_reapable() {
            self.reapable.remove(path);
        }
        self.digest = self.digest.wrapping_sub(node_digest_of(path, &node));
        let len = data_len(&node.data);
        self.data_size -= (path.len() + len) as u64;
        self.tree_bytes -= node_cost(path.len(), len);
        if self.quotas.concerns(path) {
            self.quota_removed(path, len);
        }
        Some(node)
    }

    /// Replaces the data of an existing node, keeping `data_length`, `data_size` and the
    /// quotas.
    pub(crate) fn replace_data(&mut self, path: &str, data: Option<Vec<u8>>) -> Option<Vec<u8>> {
        let new = data_len(&data);
        let old = self.set_data_raw(path, data);
        if self.quotas.concerns(path) {
            self.quota_resized(path, data_len(&old), new);
        }
        old
    }

    /// [`replace_data`](Self::replace_data) without the quota bookkeeping (which uses it
    /// to rewrite stats nodes).
    pub(crate) fn set_data_raw(&mut self, path: &str, data: Option<Vec<u8>>) -> Option<Vec<u8>> {
        let node = self.nodes.get_mut(path).expect("node exists");
        let before = node_digest_of(path, node);
        let (old, new) = (data_len(&node.data) as u64, data_len(&data) as u64);
        self.data_size = self.data_size - old + new;
        self.tree_bytes = self.tree_bytes - old + new;
        node.stat.data_length = new as i32;
        let old_data = std::mem::replace(&mut node.data, data);
        let after = node_digest_of(path, node);
        self.digest = self.digest.wrapping_sub(before).wrapping_add(after);
        old_data
    }

    // ----- memory budget -----

    /// Limits the tree's estimated heap bytes ([`Namespace::memory_used`]) to `limit`
    /// (`None`: no limit). Creates and setData calls that would pass it fail with
    /// `QuotaExceeded`, before anything changes; deletes and shrinking writes always pass.
    pub fn set_memory_budget(&mut self, limit: Option<u64>) {
        self.budget = MemoryBudget::new(limit);
    }

    /// Like [`set_memory_budget`](Self::set_memory_budget), with the bytes of `buffers`
    /// (the connections' buffers) counted against the limit too.
    pub fn set_memory_budget_with_buffers(
        &mut self,
        limit: Option<u64>,
        buffers: std::sync::Arc<super::budget::BufferGauge>,
    ) {
        self.budget = MemoryBudget::new(limit).with_buffers(buffers);
    }

    /// The memory budget's limit, if any.
    pub fn memory_budget(&self) -> Option<u64> {
        self.budget.limit()
    }

    /// How many writes the memory budget has refused.
    pub fn memory_refusals(&self) -> u64 {
        self.budget.refusals()
    }

    /// The tree's estimated heap bytes: every node's path, data and overhead, and the
    /// distinct ACL lists.
    pub fn memory_used(&self) -> u64 {
        self.tree_bytes + self.acls.bytes()
    }

    /// The bytes the connection buffers hold, as the budget counts them.
    pub fn memory_buffers(&self) -> u64 {
        self.budget.buffer_bytes()
    }

    /// Admits a write at `path` that needs `extra` more bytes, or refuses it.
    pub(crate) fn admit(&mut self, path: &str, extra: u64) -> Result<(), ErrorCode> {
        let used = self.memory_used();
        self.budget.admit(used, extra, path)
    }

    pub(crate) fn node(&self, path: &str) -> Result<&Node, ErrorCode> {
        self.nodes.get(path).ok_or(ErrorCode::NoNode)
    }

    // ----- reads -----

    /// exists: the node's stat, else `NoNode`. With a watcher, an exist/data watch is left
    /// even when the node is missing (it then fires on creation). A path holding NUL is
    /// `BadArguments`.
    /// exists needs no permission (ZooKeeper 3.8 checks none): a watch it leaves is filtered
    /// when its event is delivered instead.
    pub fn exists(&mut self, path: &str, watch: Option<WatcherId>) -> Result<Stat, ErrorCode> {
        if path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        if let Some(w) = watch {
            self.data_watches.add(path, w, WatchMode::Standard);
        }
        Ok(self.node(path)?.client_stat())
    }

    /// getData: data and stat (`NoNode`, `NoAuth` without READ). The watch is only left
    /// when the node exists. Null data reads as empty here; [`Namespace::read_data`] keeps
    /// it apart, as the wire does.
    pub fn get_data(
        &mut self,
        path: &str,
        watch: Option<WatcherId>,
    ) -> Result<(Vec<u8>, Stat), ErrorCode> {
        self.read_data_as(&Anyone, path, watch)
            .map(|(data, stat)| (data.unwrap_or_default(), stat))
    }

    /// [`get_data`](Self::get_data) by caller `who` (null data reads as empty).
    pub fn get_data_as(
        &mut self,
        who: &dyn Access,
        path: &str,
        watch: Option<WatcherId>,
    ) -> Result<(Vec<u8>, Stat), ErrorCode> {
        self.read_data_as(who, path, watch)
            .map(|(data, stat)| (data.unwrap_or_default(), stat))
    }

    /// getData as the wire answers it: `None` for a node whose data is null (created or
    /// set with a null buffer), whose `dataLength` is 0, as in ZooKeeper.
    pub fn read_data(
        &mut self,
        path: &str,
        watch: Option<WatcherId>,
    ) -> Result<(Option<Vec<u8>>, Stat), ErrorCode> {
        self.read_data_as(&Anyone, path, watch)
    }

    /// [`read_data`](Self::read_data) by caller `who`.
    pub fn read_data_as(
        &mut self,
        who: &dyn Access,
        path: &str,
        watch: Option<WatcherId>,
    ) -> Result<(Option<Vec<u8>>, Stat), ErrorCode> {
        let node = self.node(path)?;
        who.check(&node.acl, perms::READ)?;
        let out = (node.data.clone(), node.client_stat());
        if let Some(w) = watch {
            self.data_watches.add(path, w, WatchMode::Standard);
        }
        Ok(out)
    }

    /// getChildren / getChildren2: the child names (sorted) and the node's stat
    /// (`NoNode`, `NoAuth` without READ). The watch is only left when the node exists.
    pub fn get_children(
        &mut self,
        path: &str,
        watch: Option<WatcherId>,
    ) -> Result<(Vec<String>, Stat), ErrorCode> {
        self.get_children_as(&Anyone, path, watch)
    }

    /// [`get_children`](Self::get_children) by caller `who`.
    pub fn get_children_as(
        &mut self,
        who: &dyn Access,
        path: &str,
        watch: Option<WatcherId>,
    ) -> Result<(Vec<String>, Stat), ErrorCode> {
        let node = self.node(path)?;
        who.check(&node.acl, perms::READ)?;
        let out = (node.children.iter().cloned().collect(), node.client_stat());
        if let Some(w) = watch {
            self.child_watches.add(path, w, WatchMode::Standard);
        }
        Ok(out)
    }

    /// getACL: the ACL list and stat (`NoNode`, `NoAuth` without READ or ADMIN).
    pub fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat), ErrorCode> {
        self.get_acl_as(&Anyone, path)
    }

    /// [`get_acl`](Self::get_acl) by caller `who`: a caller with READ but not ADMIN gets
    /// the list as [`Access::redact`] shows it (digests hidden), as ZooKeeper 3.8 does.
    pub fn get_acl_as(&self, who: &dyn Access, path: &str) -> Result<(Vec<Acl>, Stat), ErrorCode> {
        let node = self.node(path)?;
        who.check(&node.acl, perms::READ | perms::ADMIN)?;
        let acl = match who.check(&node.acl, perms::ADMIN) {
            Ok(()) => node.acl.to_vec(),
            Err(_) => who.redact(&node.acl),
        };
        Ok((acl, node.client_stat()))
    }

    /// getAllChildrenNumber: the number of descendants (`NoNode`, `NoAuth` without READ).
    pub fn get_all_children_number(&self, path: &str) -> Result<i32, ErrorCode> {
        self.get_all_children_number_as(&Anyone, path)
    }

    /// [`get_all_children_number`](Self::get_all_children_number) by caller `who`.
    pub fn get_all_children_number_as(
        &self,
        who: &dyn Access,
        path: &str,
    ) -> Result<i32, ErrorCode> {
        let node = self.node(path)?;
        who.check(&node.acl, perms::READ)?;
        if path == ROOT {
            return Ok(self.nodes.len() as i32 - 1);
        }
        let mut count = 0i32;
        let mut stack = vec![path.to_owned()];
        while let Some(p) = stack.pop() {
            if let Some(n) = self.nodes.get(&p) {
                for c in &n.children {
                    count += 1;
                    stack.push(path::join(&p, c));
                }
            }
        }
        Ok(count)
    }

    /// The ACL list of the node at `path`, or of the node there the last write deleted
    /// (for checks made outside the namespace: the delivery of that write's watch events).
    pub fn acl_of(&self, path: &str) -> Option<&[Acl]> {
        self.nodes
            .get(path)
            .map(|n| &n.acl[..])
            .or_else(|| self.acls.deleted(path).map(|l| &l[..]))
    }

    /// How many distinct ACL lists the tree stores (each kept once, shared by its nodes).
    pub fn distinct_acl_lists(&self) -> usize {
        self.acls.len() + 1
    }

    /// getEphemerals: the session's ephemeral paths (sorted) that start with `prefix`; an
    /// empty or `/` prefix (after trimming) lists them all.
    pub fn get_ephemerals(&self, session: SessionId, prefix: &str) -> Vec<String> {
        let all = self.ephemerals.get(&session);
        let trimmed = prefix.trim();
        let every = trimmed.is_empty() || trimmed == ROOT;
        all.into_iter()
            .flatten()
            .filter(|p| every || p.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// sync: on a single server every write is already applied; returns the path.
    pub fn sync(&self, path: &str) -> String {
        path.to_owned()
    }

    /// multiRead: each op runs on its own, failures do not affect the others, and no op
    /// leaves a watch. A write op among them refuses the whole request with
    /// `MarshallingError`, as ZooKeeper does.
    pub fn multi_read(&self, ops: &[MultiOp]) -> Result<Vec<MultiResult>, ErrorCode> {
        self.multi_read_as(&Anyone, ops)
    }

    /// [`multi_read`](Self::multi_read) by caller `who` (READ per op).
    pub fn multi_read_as(
        &self,
        who: &dyn Access,
        ops: &[MultiOp],
    ) -> Result<Vec<MultiResult>, ErrorCode> {
        if !ops
            .iter()
            .all(|op| matches!(op, MultiOp::GetChildren(_) | MultiOp::GetData(_)))
        {
            return Err(ErrorCode::MarshallingError);
        }
        Ok(ops
            .iter()
            .map(|op| {
                let got = self
                    .node(op.path())
                    .and_then(|n| who.check(&n.acl, perms::READ).map(|_| n));
                match (got, op) {
                    (Err(e), _) => MultiResult::error(e),
                    (Ok(n), MultiOp::GetChildren(_)) => {
                        MultiResult::GetChildren(n.children.iter().cloned().collect())
                    }
                    (Ok(n), _) => MultiResult::GetData {
                        data: n.data.clone(),
                        stat: n.client_stat(),
                    },
                }
            })
            .collect())
    }

    // ----- watches -----

    /// addWatch: a persistent or persistent-recursive watch on `path` (the node need not
    /// exist). `Standard` is refused with `BadArguments`.
    pub fn add_watch(
        &mut self,
        path: &str,
        mode: WatchMode,
        watcher: WatcherId,
    ) -> Result<(), ErrorCode> {
        if mode == WatchMode::Standard {
            return Err(ErrorCode::BadArguments);
        }
        self.data_watches.add(path, watcher, mode);
        self.child_watches.add(path, watcher, mode);
        Ok(())
    }

    /// setWatches / setWatches2 after a reconnect, relative to the client's last zxid:
    /// a data watch on a missing node fires NodeDeleted, on a node changed after
    /// `relative_zxid` NodeDataChanged; an exist watch on a present node fires
    /// NodeCreated; a child watch on a missing node fires NodeDeleted, on a node whose
    /// children changed after `relative_zxid` NodeChildrenChanged; every other watch is
    /// registered. Persistent ones are always registered. Events carry zxid −1.
    #[allow(clippy::too_many_arguments)]
    pub fn set_watches(
        &mut self,
        relative_zxid: i64,
        data: &[String],
        exist: &[String],
        child: &[String],
        persistent: &[String],
        persistent_recursive: &[String],
        watcher: WatcherId,
    ) -> Vec<Notification> {
        let mut out = Vec::new();
        let mut fire = |event_type, path: &str| {
            out.push(Notification {
                watcher,
                zxid: -1,
                event: WatcherEvent {
                    event_type,
                    state: KeeperState::SyncConnected,
                    path: path.to_owned(),
                },
            })
        };
        for p in data {
            match self.nodes.get(p) {
                None => fire(EventType::NodeDeleted, p),
                Some(n) if n.stat.mzxid > relative_zxid => fire(EventType::NodeDataChanged, p),
                Some(_) => self.data_watches.add(p, watcher, WatchMode::Standard),
            }
        }
        for p in exist {
            if self.nodes.contains_key(p) {
                fire(EventType::NodeCreated, p);
            } else {
                self.data_watches.add(p, watcher, WatchMode::Standard);
            }
        }
        for p in child {
            match self.nodes.get(p) {
                None => fire(EventType::NodeDeleted, p),
                Some(n) if n.stat.pzxid > relative_zxid => fire(EventType::NodeChildrenChanged, p),
                Some(_) => self.child_watches.add(p, watcher, WatchMode::Standard),
            }
        }
        for (paths, mode) in [
            (persistent, WatchMode::Persistent),
            (persistent_recursive, WatchMode::PersistentRecursive),
        ] {
            for p in paths {
                self.data_watches.add(p, watcher, mode);
                self.child_watches.add(p, watcher, mode);
            }
        }
        out
    }

    /// checkWatches: `Ok` when `watcher` has a watch of `kind` on `path`, else `NoWatcher`.
    /// `Children` is the child table, `Data` the data/exist table, `Any` either, and the
    /// persistent kinds match entries of that mode in either table.
    pub fn check_watches(
        &mut self,
        path: &str,
        kind: WatcherType,
        watcher: WatcherId,
    ) -> Result<(), ErrorCode> {
        let [(d, dm), (c, cm)] = tables_for(kind);
        let found = (d && self.data_watches.contains(path, watcher, dm))
            || (c && self.child_watches.contains(path, watcher, cm));
        if found {
            Ok(())
        } else {
            Err(ErrorCode::NoWatcher)
        }
    }

    /// removeWatches: removes `watcher`'s watches of `kind` on `path` (same matching as
    /// [`Namespace::check_watches`]); `NoWatcher` when there was none.
    pub fn remove_watches(
        &mut self,
        path: &str,
        kind: WatcherType,
        watcher: WatcherId,
    ) -> Result<(), ErrorCode> {
        let [(d, dm), (c, cm)] = tables_for(kind);
        let from_data = d && self.data_watches.remove(path, watcher, dm);
        let from_child = c && self.child_watches.remove(path, watcher, cm);
        if from_data || from_child {
            Ok(())
        } else {
            Err(ErrorCode::NoWatcher)
        }
    }

    /// Drops every watch of `watcher` (its connection closed); how many there were.
    pub fn remove_watcher(&mut self, watcher: WatcherId) -> usize {
        self.data_watches.remove_watcher(watcher) + self.child_watches.remove_watcher(watcher)
    }

    // ----- introspection (four-letter words) -----

    /// Number of znodes, the root included.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of ephemeral nodes of all sessions.
    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(BTreeSet::len).sum()
    }

    /// Ephemeral paths by owning session (for `dump`), sorted.
    pub fn ephemerals_by_session(&self) -> BTreeMap<SessionId, Vec<String>> {
        self.ephemerals
            .iter()
            .map(|(s, paths)| (*s, paths.iter().cloned().collect()))
            .collect()
    }

    /// Sum over nodes of path length plus data length (ZooKeeper's
    /// `approximateDataSize`).
    pub fn approximate_data_size(&self) -> u64 {
        self.data_size
    }

    /// Number of watch entries (data and child tables together, as `zk_watch_count`).
    pub fn watch_count(&self) -> usize {
        self.data_watches.len() + self.child_watches.len()
    }

    /// Watched paths by watcher (for `wchc`).
    pub fn watches_by_watcher(&self) -> BTreeMap<WatcherId, BTreeSet<String>> {
        let mut out: BTreeMap<WatcherId, BTreeSet<String>> = BTreeMap::new();
        for t in [&self.data_watches, &self.child_watches] {
            for (p, ws) in t.paths() {
                for w in ws {
                    out.entry(*w).or_default().insert(p.clone());
                }
            }
        }
        out
    }

    /// Watchers by watched path (for `wchp`).
    pub fn watches_by_path(&self) -> BTreeMap<String, BTreeSet<WatcherId>> {
        let mut out: BTreeMap<String, BTreeSet<WatcherId>> = BTreeMap::new();
        for t in [&self.data_watches, &self.child_watches] {
            for (p, ws) in t.paths() {
                out.entry(p.clone()).or_default().extend(ws.copied());
            }
        }
        out
    }

    /// The `wchs` figures, O(1). As in ZooKeeper, they cover the data table (data and
    /// exist watches, persistent ones included), not child watches.
    pub fn watch_summary(&self) -> WatchSummary {
        WatchSummary {
            watchers: self.data_watches.watcher_count(),
            paths: self.data_watches.path_count(),
            total: self.data_watches.len(),
        }
    }

    /// At most `max` of the paths `watcher` has a data watch on (for `wchc`/`wchp`, which,
    /// as in ZooKeeper, list the data table), sorted, strictly after `after`: O(log n +
    /// max), so the caller can copy a watcher's paths a page per lock hold.
    pub fn data_watches_page(
        &self,
        watcher: WatcherId,
        after: Option<&str>,
        max: usize,
    ) -> Vec<String> {
        self.data_watches.paths_of_page(watcher, after, max)
    }

    /// Whether the incremental watch counts match a recount (for tests).
    #[cfg(test)]
    pub(crate) fn watch_counts_consistent(&self) -> bool {
        self.data_watches.len() == self.data_watches.recount()
            && self.child_watches.len() == self.child_watches.recount()
    }
}

/// The length of a node's data; null counts 0, as ZooKeeper's `dataLength` does.
fn data_len(data: &Option<Vec<u8>>) -> usize {
    data.as_ref().map_or(0, Vec::len)
}

/// Which tables (data, child) a watcher type covers, with the matching rule for each.
fn tables_for(kind: WatcherType) -> [(bool, Matching); 2] {
    match kind {
        WatcherType::Children => [(false, Matching::Any), (true, Matching::Any)],
        WatcherType::Data => [(true, Matching::Any), (false, Matching::Any)],
        WatcherType::Any => [(true, Matching::Any), (true, Matching::Any)],
        WatcherType::Persistent => [
            (true, Matching::Mode(WatchMode::Persistent)),
            (true, Matching::Mode(WatchMode::Persistent)),
        ],
        WatcherType::PersistentRecursive => [
            (true, Matching::Mode(WatchMode::PersistentRecursive)),
            (true, Matching::Mode(WatchMode::PersistentRecursive)),
        ],
    }
}

/// A node's ZooKeeper 3.8 digest, from its stored (persisted) stat.
pub(crate) fn node_digest_of(path: &str, n: &Node) -> i64 {
    let s = &n.stat;
    let stat = crate::persist::StatPersisted {
        czxid: s.czxid,
        mzxid: s.mzxid,
        ctime: s.ctime,
        mtime: s.mtime,
        version: s.version,
        cversion: s.cversion,
        aversion: s.aversion,
        ephemeral_owner: s.ephemeral_owner,
        pzxid: s.pzxid,
    };
    crate::persist::node_digest(path, n.data.as_deref(), &stat)
}
