//! Who may do what to a node: the [`Access`] a caller brings to each operation.
//!
//! Owns: the [`Access`] trait (the permission test, the validation of a new ACL list and
//! what getACL shows a caller without ADMIN), [`Anyone`] (a caller with no identity but
//! `world:anyone`, who may store only `world:anyone` lists), and [`AclInterner`], which
//! keeps one shared copy of each distinct ACL list the tree stores (ZooKeeper's ACL cache).
//!
//! Must never: invent identities; the caller's identities come with its [`Access`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use crate::wire::{perms, Acl, ErrorCode};

/// A node's stored ACL list (shared: almost every node carries the same one).
pub type AclList = Arc<[Acl]>;

/// `world:anyone` with all permissions, shared by every node that asks for it.
pub fn open() -> AclList {
    static OPEN: OnceLock<AclList> = OnceLock::new();
    OPEN.get_or_init(|| Arc::from(vec![Acl::world_anyone()]))
        .clone()
}

/// `world:anyone` with READ only (ZooKeeper's `READ_ACL_UNSAFE`).
pub fn read_only() -> AclList {
    Arc::from(vec![Acl {
        perms: perms::READ,
        ..Acl::world_anyone()
    }])
}

/// ZooKeeper's `fixupACL` for an unauthenticated caller: drops duplicates, refuses an empty
/// list and any entry other than `world:anyone` (`InvalidAcl`).
pub fn fixup(acl: &[Acl]) -> Result<AclList, ErrorCode> {
    let mut unique: Vec<Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if a.id.scheme != "world" || a.id.id != "anyone" {
            return Err(ErrorCode::InvalidAcl);
        }
        if !unique.contains(a) {
            unique.push(a.clone());
        }
    }
    if unique.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let shared = open();
    if unique[..] == shared[..] {
        return Ok(shared);
    }
    Ok(Arc::from(unique))
}

/// Whether `acl` grants any of `perm` to `world:anyone` (an empty list grants everything,
/// as in ZooKeeper), else `NoAuth`.
pub fn check(acl: &[Acl], perm: i32) -> Result<(), ErrorCode> {
    if acl.is_empty()
        || acl
            .iter()
            .any(|a| a.perms & perm != 0 && a.id.scheme == "world" && a.id.id == "anyone")
    {
        Ok(())
    } else {
        Err(ErrorCode::NoAuth)
    }
}

/// A caller's rights: the namespace asks it before every checked operation.
///
/// The server implements it over a connection's identities and the configured
/// [`security`](crate::security) policy; [`Anyone`] is the caller without identities.
pub trait Access {
    /// Whether the caller holds one of the bits of `perm` on a node whose ACL is `acl`
    /// (`NoAuth` otherwise).
    fn check(&self, acl: &[Acl], perm: i32) -> Result<(), ErrorCode>;
    /// The list a create or setACL by this caller stores for `acl` (duplicates removed,
    /// `auth` expanded), or `InvalidAcl`.
    fn fixup(&self, acl: &[Acl]) -> Result<Vec<Acl>, ErrorCode>;
    /// What getACL shows a caller with READ but not ADMIN.
    fn redact(&self, acl: &[Acl]) -> Vec<Acl>;
}

/// The caller with no identity: `world:anyone` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anyone;

impl Access for Anyone {
    fn check(&self, acl: &[Acl], perm: i32) -> Result<(), ErrorCode> {
        check(acl, perm)
    }

    fn fixup(&self, acl: &[Acl]) -> Result<Vec<Acl>, ErrorCode> {
        fixup(acl).map(|l| l.to_vec())
    }

    fn redact(&self, acl: &[Acl]) -> Vec<Acl> {
        acl.to_vec()
    }
}

/// One shared copy of each distinct ACL list stored in the tree.
///
/// Invariant: every list a node holds came from [`AclInterner::intern`]; a list no node
/// holds any more is dropped when the write that let it go ends ([`AclInterner::release`]).
#[derive(Debug, Default, Clone)]
pub(crate) struct AclInterner {
    lists: HashSet<AclList>,
    /// Sum of [`acl_list_cost`](super::budget::acl_list_cost) over `lists`.
    bytes: u64,
    /// The ACLs of the nodes the last committed write deleted (their events are checked
    /// against them), released at the next commit.
    deleted: HashMap<String, AclList>,
}

impl PartialEq for AclInterner {
    /// Always equal: the table only shares what the nodes hold, so two trees with the
    /// same nodes are equal whatever their tables.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AclInterner {}

impl AclInterner {
    /// The shared copy of `list` (the common `world:anyone` list is shared process-wide).
    pub(crate) fn intern(&mut self, list: Vec<Acl>) -> AclList {
        let shared = open();
        if list[..] == shared[..] {
            return shared;
        }
        if let Some(l) = self.lists.get(&list[..]) {
            return l.clone();
        }
        let l: AclList = Arc::from(list);
        self.bytes += super::budget::acl_list_cost(&l);
        self.lists.insert(l.clone());
        l
    }

    /// Drops each of `lists` (lists nodes held until now) that no node holds any more.
    pub(crate) fn release(&mut self, mut lists: Vec<AclList>) {
        lists.sort_unstable_by_key(|l| Arc::as_ptr(l).cast::<u8>() as usize);
        lists.dedup_by(|a, b| Arc::ptr_eq(a, b));
        for l in lists {
            // The table's copy and `l` itself: nothing else holds it.
            let ours = self.lists.get(&l).is_some_and(|t| Arc::ptr_eq(t, &l));
            if ours && Arc::strong_count(&l) == 2 {
                self.lists.remove(&l);
                self.bytes -= super::budget::acl_list_cost(&l);
            }
        }
    }

    /// Records the ACLs of the nodes a commit deleted, and returns those of the previous
    /// commit (to be [`released`](Self::release)).
    pub(crate) fn replace_deleted(&mut self, now: HashMap<String, AclList>) -> Vec<AclList> {
        std::mem::replace(&mut self.deleted, now)
            .into_values()
            .collect()
    }

    /// The ACL a node deleted by the last committed write had.
    pub(crate) fn deleted(&self, path: &str) -> Option<&AclList> {
        self.deleted.get(path)
    }

    /// The estimated heap bytes of the lists held.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Distinct lists held (besides the shared open list).
    pub(crate) fn len(&self) -> usize {
        self.lists.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Id;

    fn entry(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }
    }

    #[test]
    fn fixup_accepts_world_anyone_and_shares_the_open_list() {
        let got = fixup(&[Acl::world_anyone(), Acl::world_anyone()]).unwrap();
        assert!(Arc::ptr_eq(&got, &open()));
        let read = fixup(&[entry(perms::READ, "world", "anyone")]).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].perms, perms::READ);
    }

    #[test]
    fn fixup_refuses_empty_and_other_schemes() {
        assert_eq!(fixup(&[]), Err(ErrorCode::InvalidAcl));
        for (s, i) in [
            ("world", "someone"),
            ("digest", "u:p"),
            ("ip", "127.0.0.1"),
            ("auth", ""),
        ] {
            assert_eq!(
                fixup(&[Acl::world_anyone(), entry(perms::ALL, s, i)]),
                Err(ErrorCode::InvalidAcl)
            );
        }
    }

    #[test]
    fn check_needs_a_matching_bit() {
        let acl = [entry(perms::READ | perms::WRITE, "world", "anyone")];
        assert_eq!(check(&acl, perms::READ), Ok(()));
        assert_eq!(check(&acl, perms::WRITE), Ok(()));
        assert_eq!(check(&acl, perms::CREATE), Err(ErrorCode::NoAuth));
        assert_eq!(check(&[], perms::ADMIN), Ok(()));
    }
}
