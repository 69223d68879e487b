//! ACL validation and permission checks for a server without authentication.
//!
//! Owns: which ACL lists a create or setACL may store (only `world:anyone` entries, since
//! no client can authenticate yet), duplicate removal, and the permission test.
//!
//! Must never: invent identities; every caller is `world:anyone`.

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
