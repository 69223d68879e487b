//! Writes: create, delete, setData, setACL, multi and session kills, as txns.
//!
//! Owns: ZooKeeper's order of checks for each write, Stat maintenance, version
//! arithmetic, and atomicity. A txn takes one zxid, applies its ops one after another
//! while logging how to undo each change and which events it implies; on the first error
//! the log is replayed backwards (the tree is exactly as before) and no watch fires; on
//! success the events fire in op order.
//!
//! Must never: fire a watch before the whole txn has succeeded.

use std::collections::{BTreeSet, HashMap};

use super::acl::{self, Access, AclList, Anyone};
use super::budget::{acl_list_cost, node_cost};
use super::kind::create_owner_rule;
use super::path;
use super::tree::{Node, CONTAINER_OWNER, SPECIAL_PATHS};
use super::{error_results, Applied, Notification, SessionId};
use crate::wire::{
    self, perms, Acl, CreateMode, ErrorCode, EventType, KeeperState, MultiOp, MultiResult, OpCode,
    Stat, WatcherEvent,
};

use super::Namespace;

/// How to take back one change.
enum Undo {
    /// A node was inserted at this path.
    Inserted(String),
    /// This node was removed from this path.
    Removed(String, Node),
    /// The node's stat was this.
    Stat(String, Stat),
    /// The node's data and stat were these.
    Data(String, Option<Vec<u8>>, Stat),
    /// The node's ACL and stat were these.
    Acl(String, AclList, Stat),
}

/// A change watches care about.
enum Effect {
    Created(String),
    Deleted(String),
    DataChanged(String),
}

/// A txn in progress.
pub(super) struct Txn {
    zxid: i64,
    time: i64,
    undo: Vec<Undo>,
    effects: Vec<Effect>,
}

/// The version after `current` (i32 overflow wraps; −1 is skipped, so −2 → 0).
pub(crate) fn next_version(current: i32) -> i32 {
    match current.wrapping_add(1) {
        -1 => 0,
        n => n,
    }
}

/// `BadVersion` unless `expected` is −1 or equals `current`.
fn check_version(current: i32, expected: i32) -> Result<(), ErrorCode> {
    if expected != -1 && expected != current {
        Err(ErrorCode::BadVersion)
    } else {
        Ok(())
    }
}

impl Namespace {
    fn begin(&mut self, now_ms: i64) -> Txn {
        Txn {
            zxid: self.allocate_zxid(),
            time: now_ms,
            undo: Vec::new(),
            effects: Vec::new(),
        }
    }

    fn rollback(&mut self, txn: Txn) {
        let mut released = Vec::new();
        for u in txn.undo.into_iter().rev() {
            match u {
                Undo::Inserted(p) => {
                    if let Some(n) = self.remove_node(&p) {
                        released.push(n.acl);
                    }
                }
                Undo::Removed(p, node) => self.insert_node(p, node),
                Undo::Stat(p, stat) => {
                    self.change_stat(&p, |s| *s = stat);
                }
                Undo::Data(p, data, stat) => {
                    self.replace_data(&p, data);
                    self.change_stat(&p, |s| *s = stat);
                }
                Undo::Acl(p, acl, stat) => {
                    let n = self.nodes.get_mut(&p).expect("undo target");
                    released.push(std::mem::replace(&mut n.acl, acl));
                    self.change_stat(&p, |s| *s = stat);
                }
            }
        }
        self.acls.release(released);
    }

    fn commit<T>(&mut self, txn: Txn, value: T) -> Applied<T> {
        let zxid = txn.zxid;
        let mut deleted = HashMap::new();
        let mut released = Vec::new();
        for u in txn.undo {
            match u {
                Undo::Removed(p, node) => {
                    released.push(node.acl.clone());
                    deleted.insert(p, node.acl);
                }
                Undo::Acl(_, acl, _) => released.push(acl),
                _ => {}
            }
        }
        released.extend(self.acls.replace_deleted(deleted));
        self.acls.release(released);
        let mut notifications = Vec::new();
        let mut emit = |ws: BTreeSet<u64>, event_type, path: &str| {
            notifications.extend(ws.into_iter().map(|watcher| Notification {
                watcher,
                zxid,
                event: WatcherEvent {
                    event_type,
                    state: KeeperState::SyncConnected,
                    path: path.to_owned(),
                },
            }))
        };
        let none = BTreeSet::new();
        for e in txn.effects {
            match e {
                Effect::Created(p) => {
                    let ws = self.data_watches.trigger(&p, EventType::NodeCreated, &none);
                    emit(ws, EventType::NodeCreated, &p);
                    let parent = path::split(&p).0;
                    let ws =
                        self.child_watches
                            .trigger(parent, EventType::NodeChildrenChanged, &none);
                    emit(ws, EventType::NodeChildrenChanged, parent);
                }
                Effect::Deleted(p) => {
                    let fired = self.data_watches.trigger(&p, EventType::NodeDeleted, &none);
                    let ws = self
                        .child_watches
                        .trigger(&p, EventType::NodeDeleted, &fired);
                    let mut all = fired;
                    all.extend(ws);
                    emit(all, EventType::NodeDeleted, &p);
                    let parent = path::split(&p).0;
                    let ws =
                        self.child_watches
                            .trigger(parent, EventType::NodeChildrenChanged, &none);
                    emit(ws, EventType::NodeChildrenChanged, parent);
                }
                Effect::DataChanged(p) => {
                    let ws = self
                        .data_watches
                        .trigger(&p, EventType::NodeDataChanged, &none);
                    emit(ws, EventType::NodeDataChanged, &p);
                }
            }
        }
        Applied {
            value,
            zxid,
            notifications,
        }
    }

    /// Runs `f` as one txn: commit on success, roll back on error.
    pub(super) fn run<T>(
        &mut self,
        now_ms: i64,
        f: impl FnOnce(&mut Namespace, &mut Txn) -> Result<T, ErrorCode>,
    ) -> Result<Applied<T>, ErrorCode> {
        let mut txn = self.begin(now_ms);
        match f(self, &mut txn) {
            Ok(v) => Ok(self.commit(txn, v)),
            Err(e) => {
                self.rollback(txn);
                Err(e)
            }
        }
    }

    // ----- ops inside a txn -----

    #[allow(clippy::too_many_arguments)]
    fn apply_create(
        &mut self,
        who: &dyn Access,
        txn: &mut Txn,
        session: SessionId,
        path: &str,
        data: Option<Vec<u8>>,
        acl: &[Acl],
        mode: CreateMode,
        ttl: i64,
    ) -> Result<(String, Stat), ErrorCode> {
        let ttl_owner = create_owner_rule(mode, ttl, self.extended_types)?;
        let parent_path = path::parent_for_write(path)?;
        let acl = who.fixup(acl)?;
        let parent = self.node(parent_path)?;
        who.check(&parent.acl, perms::CREATE)?;
        let mut full = path.to_owned();
        if mode.is_sequential() {
            full.push_str(&path::sequence_suffix(parent.stat.cversion));
        }
        wire::path::validate(&full)?;
        if self.nodes.contains_key(&full) {
            return Err(ErrorCode::NodeExists);
        }
        if parent.session_owner().is_some() {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        let len = data.as_ref().map_or(0, Vec::len);
        self.check_quota(&full, 1, len as i64)?;
        let acl_cost = if acl[..] == acl::open()[..] {
            0
        } else {
            acl_list_cost(&acl)
        };
        self.admit(&full, node_cost(full.len(), len) + acl_cost)?;
        let parent_path = parent_path.to_owned();
        let parent = self.nodes.get(&parent_path).expect("checked above");
        txn.undo.push(Undo::Stat(parent_path.clone(), parent.stat));
        let zxid = txn.zxid;
        self.change_stat(&parent_path, |s| {
            s.cversion = s.cversion.wrapping_add(1);
            s.pzxid = zxid;
        });
        let owner = if let Some(owner) = ttl_owner {
            owner
        } else if mode == CreateMode::Container {
            CONTAINER_OWNER
        } else if mode.is_ephemeral() {
            session as i64
        } else {
            0
        };
        let stat = Stat {
            czxid: txn.zxid,
            mzxid: txn.zxid,
            ctime: txn.time,
            mtime: txn.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            data_length: data.as_ref().map_or(0, Vec::len) as i32,
            num_children: 0,
            pzxid: txn.zxid,
        };
        let node = Node::new(data, self.acls.intern(acl), stat);
        let shown = node.client_stat();
        self.insert_node(full.clone(), node);
        txn.undo.push(Undo::Inserted(full.clone()));
        txn.effects.push(Effect::Created(full.clone()));
        Ok((full, shown))
    }

    fn apply_delete(
        &mut self,
        who: &dyn Access,
        txn: &mut Txn,
        path: &str,
        version: i32,
    ) -> Result<(), ErrorCode> {
        let parent_path = path::parent_for_write(path)?;
        if SPECIAL_PATHS.contains(&path) {
            return Err(ErrorCode::BadArguments);
        }
        let parent = self.node(parent_path)?;
        who.check(&parent.acl, perms::DELETE)?;
        let node = self.node(path)?;
        check_version(node.stat.version, version)?;
        if !node.children.is_empty() {
            return Err(ErrorCode::NotEmpty);
        }
        self.unlink(txn, path);
        Ok(())
    }

    /// Removes a childless node: the parent's pzxid is raised to the txn's zxid and its
    /// stored create count is kept (so clients see its cversion grow by one, since one
    /// child fewer is live).
    pub(super) fn unlink(&mut self, txn: &mut Txn, path: &str) {
        let parent_path = path::split(path).0.to_owned();
        let parent = self.nodes.get(&parent_path).expect("parent of a node");
        txn.undo.push(Undo::Stat(parent_path.clone(), parent.stat));
        let zxid = txn.zxid;
        self.change_stat(&parent_path, |s| {
            if zxid > s.pzxid {
                s.pzxid = zxid;
            }
        });
        let node = self.remove_node(path).expect("node exists");
        txn.undo.push(Undo::Removed(path.to_owned(), node));
        txn.effects.push(Effect::Deleted(path.to_owned()));
    }

    fn apply_set_data(
        &mut self,
        who: &dyn Access,
        txn: &mut Txn,
        path: &str,
        data: Option<Vec<u8>>,
        version: i32,
    ) -> Result<Stat, ErrorCode> {
        wire::path::validate(path)?;
        let node = self.node(path)?;
        who.check(&node.acl, perms::WRITE)?;
        check_version(node.stat.version, version)?;
        let before = node.stat;
        let (old_len, new_len) = (
            node.data.as_ref().map_or(0, Vec::len),
            data.as_ref().map_or(0, Vec::len),
        );
        self.check_quota(path, 0, new_len as i64 - old_len as i64)?;
        self.admit(path, new_len.saturating_sub(old_len) as u64)?;
        let old = self.replace_data(path, data);
        txn.undo.push(Undo::Data(path.to_owned(), old, before));
        let (time, zxid) = (txn.time, txn.zxid);
        self.change_stat(path, |s| {
            s.version = next_version(before.version);
            s.mtime = time;
            s.mzxid = zxid;
        });
        txn.effects.push(Effect::DataChanged(path.to_owned()));
        Ok(self.nodes[path].client_stat())
    }

    fn apply_check(&self, who: &dyn Access, path: &str, version: i32) -> Result<(), ErrorCode> {
        wire::path::validate(path)?;
        let node = self.node(path)?;
        who.check(&node.acl, perms::READ)?;
        check_version(node.stat.version, version)
    }

    /// Applies one op of a multi that [`check_multi`] accepted.
    fn apply_op(
        &mut self,
        who: &dyn Access,
        txn: &mut Txn,
        session: SessionId,
        op: MultiOp,
    ) -> Result<MultiResult, ErrorCode> {
        let kind = op.op();
        Ok(match op {
            MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => {
                let mode = create_mode(kind, c.flags)?;
                let (path, stat) =
                    self.apply_create(who, txn, session, &c.path, c.data, &c.acl, mode, -1)?;
                if kind == OpCode::Create {
                    MultiResult::Create(path)
                } else {
                    MultiResult::Create2 { path, stat }
                }
            }
            MultiOp::Delete(d) => {
                self.apply_delete(who, txn, &d.path, d.version)?;
                MultiResult::Delete
            }
            MultiOp::SetData(s) => {
                MultiResult::SetData(self.apply_set_data(who, txn, &s.path, s.data, s.version)?)
            }
            MultiOp::Check(c) => {
                self.apply_check(who, &c.path, c.version)?;
                MultiResult::Check
            }
            MultiOp::CreateTtl(c) => {
                let mode = create_mode(kind, c.flags)?;
                let (path, stat) =
                    self.apply_create(who, txn, session, &c.path, c.data, &c.acl, mode, c.ttl)?;
                MultiResult::Create2 { path, stat }
            }
            MultiOp::GetChildren(_) | MultiOp::GetData(_) => {
                debug_assert!(false, "{kind:?} in a write multi passed check_multi");
                return Err(ErrorCode::Unimplemented);
            }
        })
    }

    // ----- public writes -----

    /// create / create2 / createContainer by `session` at wall time `now_ms`: returns the
    /// created path (with the `%010d` suffix of the parent's cversion for sequential
    /// modes) and the new node's stat.
    ///
    /// Checks, in ZooKeeper's order: a TTL mode → `Unimplemented` with extended types off
    /// (see [`Namespace::set_extended_types`]), else `BadArguments` (this call carries no
    /// TTL; [`create_ttl_as`](Self::create_ttl_as) does); a path without `/` or with NUL → `BadArguments`; ACL → `InvalidAcl`;
    /// missing parent → `NoNode`; parent without CREATE → `NoAuth`; the final path's
    /// syntax → `BadArguments`; `NodeExists`; an ephemeral parent →
    /// `NoChildrenForEphemerals`; then a hard quota limit under enforcement, or the
    /// memory budget → `QuotaExceeded`. Containers are stored like persistent nodes with
    /// ephemeralOwner `0x8000000000000000` (clients see 0); the server's reaper deletes
    /// them once emptied (see [`Namespace::reap`]).
    pub fn create(
        &mut self,
        session: SessionId,
        path: &str,
        data: impl Into<Option<Vec<u8>>>,
        acl: &[Acl],
        mode: CreateMode,
        now_ms: i64,
    ) -> Result<Applied<(String, Stat)>, ErrorCode> {
        self.create_as(&Anyone, session, path, data, acl, mode, now_ms)
    }

    /// [`create`](Self::create) by caller `who`: the ACL list is validated (and `auth`
    /// expanded) by `who`, which needs CREATE on the parent.
    #[allow(clippy::too_many_arguments)]
    pub fn create_as(
        &mut self,
        who: &dyn Access,
        session: SessionId,
        path: &str,
        data: impl Into<Option<Vec<u8>>>,
        acl: &[Acl],
        mode: CreateMode,
        now_ms: i64,
    ) -> Result<Applied<(String, Stat)>, ErrorCode> {
        let data = data.into();
        self.run(now_ms, |ns, txn| {
            ns.apply_create(who, txn, session, path, data, acl, mode, -1)
        })
    }

    /// createTTL by caller `who`: [`create_as`](Self::create_as) with the request's
    /// `ttl` (ms). With extended types on, TTL modes need a TTL in 1 ..= 2^40 − 1
    /// (`BadArguments` otherwise) and are stored with ephemeralOwner `0xff << 56 | ttl`
    /// (clients see 0); other modes must send a negative TTL and are created as their
    /// mode says. With extended types off, TTL modes are `Unimplemented`.
    #[allow(clippy::too_many_arguments)]
    pub fn create_ttl_as(
        &mut self,
        who: &dyn Access,
        session: SessionId,
        path: &str,
        data: impl Into<Option<Vec<u8>>>,
        acl: &[Acl],
        mode: CreateMode,
        ttl: i64,
        now_ms: i64,
    ) -> Result<Applied<(String, Stat)>, ErrorCode> {
        let data = data.into();
        self.run(now_ms, |ns, txn| {
            ns.apply_create(who, txn, session, path, data, acl, mode, ttl)
        })
    }

    /// delete with an expected version (−1 = any). Checks: no `/`, NUL or a special path
    /// (`/`, `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config`) → `BadArguments`;
    /// missing parent → `NoNode`; parent without DELETE → `NoAuth`; missing node →
    /// `NoNode`; `BadVersion`; `NotEmpty`. The parent's pzxid moves; its stored create
    /// count does not, so the cversion clients see grows by one (creates plus deletes).
    pub fn delete(&mut self, path: &str, version: i32) -> Result<Applied<()>, ErrorCode> {
        self.delete_as(&Anyone, path, version)
    }

    /// [`delete`](Self::delete) by caller `who` (DELETE on the parent).
    pub fn delete_as(
        &mut self,
        who: &dyn Access,
        path: &str,
        version: i32,
    ) -> Result<Applied<()>, ErrorCode> {
        self.run(0, |ns, txn| ns.apply_delete(who, txn, path, version))
    }

    /// setData with an expected version (−1 = any): the node's new stat. Checks:
    /// `BadArguments`, `NoNode`, `NoAuth` (WRITE), `BadVersion`, then `QuotaExceeded`
    /// (a hard quota limit under enforcement, or growth past the memory budget). The new version is the
    /// old plus one, wrapping at `i32::MAX` and skipping −1.
    pub fn set_data(
        &mut self,
        path: &str,
        data: impl Into<Option<Vec<u8>>>,
        version: i32,
        now_ms: i64,
    ) -> Result<Applied<Stat>, ErrorCode> {
        self.set_data_as(&Anyone, path, data, version, now_ms)
    }

    /// [`set_data`](Self::set_data) by caller `who` (WRITE on the node).
    pub fn set_data_as(
        &mut self,
        who: &dyn Access,
        path: &str,
        data: impl Into<Option<Vec<u8>>>,
        version: i32,
        now_ms: i64,
    ) -> Result<Applied<Stat>, ErrorCode> {
        let data = data.into();
        self.run(now_ms, |ns, txn| {
            ns.apply_set_data(who, txn, path, data, version)
        })
    }

    /// setACL with an expected ACL version (−1 = any): the node's new stat (aversion
    /// bumped like a data version). Checks: `BadArguments`, `InvalidAcl`, `NoNode`,
    /// `NoAuth` (ADMIN), `BadVersion`. Fires no watch.
    pub fn set_acl(
        &mut self,
        path: &str,
        acl: &[Acl],
        version: i32,
    ) -> Result<Applied<Stat>, ErrorCode> {
        self.set_acl_as(&Anyone, path, acl, version)
    }

    /// [`set_acl`](Self::set_acl) by caller `who`: the list is validated (and `auth`
    /// expanded) by `who`, which needs ADMIN on the node; then the aversion is checked.
    pub fn set_acl_as(
        &mut self,
        who: &dyn Access,
        path: &str,
        acl: &[Acl],
        version: i32,
    ) -> Result<Applied<Stat>, ErrorCode> {
        self.run(0, |ns, txn| {
            wire::path::validate(path)?;
            let acl = who.fixup(acl)?;
            let node = ns.node(path)?;
            who.check(&node.acl, perms::ADMIN)?;
            check_version(node.stat.aversion, version)?;
            let acl = ns.acls.intern(acl);
            let node = ns.nodes.get_mut(path).expect("checked above");
            txn.undo
                .push(Undo::Acl(path.to_owned(), node.acl.clone(), node.stat));
            node.acl = acl;
            ns.change_stat(path, |s| s.aversion = next_version(s.aversion));
            Ok(ns.nodes[path].client_stat())
        })
    }

    /// multi: all ops or none, under one zxid, for ops that [`check_multi`] accepted. On
    /// success every op's result (a create answers as create or create2, as asked); on
    /// failure (still a value: the reply's error is 0) every result is a
    /// [`MultiResult::Error`]: `Ok` for ops before the failing one, its code for the
    /// failing one, `RuntimeInconsistency` after it; the tree is unchanged and no watch
    /// fires. Later ops see the effects of earlier ones.
    pub fn multi(
        &mut self,
        session: SessionId,
        ops: Vec<MultiOp>,
        now_ms: i64,
    ) -> Applied<Vec<MultiResult>> {
        self.multi_as(&Anyone, session, ops, now_ms)
    }

    /// [`multi`](Self::multi) by caller `who`: each op is checked as its single form is;
    /// the first refusal rolls every earlier op back (ACLs included).
    pub fn multi_as(
        &mut self,
        who: &dyn Access,
        session: SessionId,
        ops: Vec<MultiOp>,
        now_ms: i64,
    ) -> Applied<Vec<MultiResult>> {
        let total = ops.len();
        let mut txn = self.begin(now_ms);
        let mut results = Vec::with_capacity(total);
        for op in ops {
            match self.apply_op(who, &mut txn, session, op) {
                Ok(r) => results.push(r),
                Err(e) => {
                    let failed_at = results.len();
                    let zxid = txn.zxid;
                    self.rollback(txn);
                    return Applied {
                        value: error_results(total, failed_at, e),
                        zxid,
                        notifications: Vec::new(),
                    };
                }
            }
        }
        self.commit(txn, results)
    }

    /// Deletes every ephemeral of `session` (its closeSession txn, which takes a zxid even
    /// when there is nothing to delete): each deletion is exactly a delete (watches fire,
    /// the parent's pzxid moves, its stored create count stays). Returns the deleted
    /// paths, sorted.
    pub fn kill_session(&mut self, session: SessionId) -> Applied<Vec<String>> {
        let mut txn = self.begin(0);
        let paths: Vec<String> = self
            .ephemerals
            .get(&session)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        for p in &paths {
            self.unlink(&mut txn, p);
        }
        self.commit(txn, paths)
    }
}

/// The creation mode a create's `flags` ask for: unknown flags → `BadArguments`, and the
/// container mode exactly with the createContainer opcode. TTL modes pass here; the
/// namespace checks them against its extended-types setting and the TTL when it runs
/// the create.
pub fn create_mode(op: OpCode, flags: i32) -> Result<CreateMode, ErrorCode> {
    let mode = CreateMode::from_flags(flags)?;
    match (op, mode) {
        (OpCode::CreateContainer, CreateMode::Container) => Ok(mode),
        (OpCode::CreateContainer, _) | (_, CreateMode::Container) => Err(ErrorCode::BadArguments),
        _ => Ok(mode),
    }
}

/// Why a write multi was refused before it could take a zxid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiRefusal {
    /// The whole request fails with this code (a read mixed into a write multi, as
    /// ZooKeeper refuses it).
    Request(ErrorCode),
    /// Op `at` can never apply (its creation mode); the reply is
    /// [`error_results`]`(total, at, code)`.
    Op {
        /// The refused op's index.
        at: usize,
        /// Its error.
        code: ErrorCode,
    },
}

/// Checks the shape of a write multi before it runs, in op order: every op is a write and
/// every create's mode is one this namespace supports. Returns whether any op creates an
/// ephemeral node (the server then needs a global session).
pub fn check_multi(ops: &[MultiOp]) -> Result<bool, MultiRefusal> {
    let mut ephemeral = false;
    for (at, op) in ops.iter().enumerate() {
        let refuse = |code| MultiRefusal::Op { at, code };
        match op {
            MultiOp::Create(c) | MultiOp::Create2(c) | MultiOp::CreateContainer(c) => {
                ephemeral |= create_mode(op.op(), c.flags)
                    .map_err(refuse)?
                    .is_ephemeral();
            }
            MultiOp::CreateTtl(c) => {
                ephemeral |= create_mode(op.op(), c.flags)
                    .map_err(refuse)?
                    .is_ephemeral();
            }
            MultiOp::Delete(_) | MultiOp::SetData(_) | MultiOp::Check(_) => {}
            MultiOp::GetChildren(_) | MultiOp::GetData(_) => {
                return Err(MultiRefusal::Request(ErrorCode::MarshallingError))
            }
        }
    }
    Ok(ephemeral)
}

#[cfg(test)]
mod tests {
    use super::next_version;

    #[test]
    fn next_version_wraps_and_skips_minus_one() {
        assert_eq!(next_version(0), 1);
        assert_eq!(next_version(i32::MAX), i32::MIN);
        assert_eq!(next_version(-3), -2);
        assert_eq!(next_version(-2), 0);
    }
}
