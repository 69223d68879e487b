//! A connection's rights as the namespace sees them.
//!
//! Owns: [`Caller`], the [`Access`] of one request: the connection's identities
//! ([`AuthInfo`]) judged by the configured [`AclPolicy`], with the security module's
//! answers mapped to ZooKeeper's codes (`NoAuth`, `InvalidACL`).
//!
//! Must never: change identities (only `addauth` on the connection does) or log them.

use crate::namespace::Access;
use crate::security::{self, AclPolicy, AuthInfo};
use crate::wire::{Acl, ErrorCode};

/// The identities of the connection a request came on, and the policy judging them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller<'a> {
    pub(crate) auth: &'a AuthInfo,
    pub(crate) policy: &'a AclPolicy,
}

impl Access for Caller<'_> {
    fn check(&self, acl: &[Acl], perm: i32) -> Result<(), ErrorCode> {
        security::check(acl, perm, self.auth, self.policy).map_err(|_| ErrorCode::NoAuth)
    }

    fn fixup(&self, acl: &[Acl]) -> Result<Vec<Acl>, ErrorCode> {
        security::fixup_acl(acl, self.auth, self.policy).map_err(|_| ErrorCode::InvalidAcl)
    }

    fn redact(&self, acl: &[Acl]) -> Vec<Acl> {
        security::redact_digests(acl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::Namespace;
    use crate::security::digest::generate_digest;
    use crate::wire::{perms, CreateMode, Id};

    fn entry(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }
    }

    fn digest_user(cred: &str) -> AuthInfo {
        let mut a = AuthInfo::for_peer("127.0.0.1".parse().unwrap());
        a.add(Id {
            scheme: "digest".into(),
            id: generate_digest(cred),
        });
        a
    }

    #[test]
    fn auth_acl_is_expanded_and_enforced_per_operation() {
        let policy = AclPolicy::default();
        let alice = digest_user("alice:secret");
        let bob = digest_user("bob:other");
        let anon = AuthInfo::for_peer("127.0.0.1".parse().unwrap());
        let (a, b, n) = (
            Caller {
                auth: &alice,
                policy: &policy,
            },
            Caller {
                auth: &bob,
                policy: &policy,
            },
            Caller {
                auth: &anon,
                policy: &policy,
            },
        );
        let mut ns = Namespace::new();
        // `auth` without an authenticated identity is InvalidACL, before NoNode.
        assert_eq!(
            ns.create_as(
                &n,
                1,
                "/missing/x",
                vec![],
                &[entry(perms::ALL, "auth", "")],
                CreateMode::Persistent,
                0
            )
            .unwrap_err(),
            ErrorCode::InvalidAcl
        );
        ns.create_as(
            &a,
            1,
            "/p",
            b"d".to_vec(),
            &[entry(perms::ALL, "auth", "")],
            CreateMode::Persistent,
            0,
        )
        .unwrap();
        let (acl, _) = ns.get_acl_as(&a, "/p").unwrap();
        assert_eq!(
            acl,
            [entry(
                perms::ALL,
                "digest",
                &generate_digest("alice:secret")
            )]
        );
        for who in [&b, &n] {
            assert_eq!(
                ns.get_data_as(who, "/p", None).unwrap_err(),
                ErrorCode::NoAuth
            );
            // exists checks no permission, as in ZooKeeper 3.8.
            assert!(ns.exists("/p", None).is_ok());
            assert_eq!(
                ns.set_data_as(who, "/p", vec![], -1, 0).unwrap_err(),
                ErrorCode::NoAuth
            );
            assert_eq!(
                ns.create_as(
                    who,
                    1,
                    "/p/c",
                    vec![],
                    &[Acl::world_anyone()],
                    CreateMode::Persistent,
                    0
                )
                .unwrap_err(),
                ErrorCode::NoAuth
            );
            assert_eq!(ns.get_acl_as(who, "/p").unwrap_err(), ErrorCode::NoAuth);
        }
        // READ without ADMIN: digests are hidden.
        let read_only = entry(perms::READ, "world", "anyone");
        let admin = entry(perms::ADMIN, "digest", &generate_digest("alice:secret"));
        ns.set_acl_as(&a, "/p", &[read_only.clone(), admin], 0)
            .unwrap();
        let (shown, _) = ns.get_acl_as(&b, "/p").unwrap();
        assert_eq!(shown[1].id.id, "alice:x");
        // aversion is checked after ADMIN.
        assert_eq!(
            ns.set_acl_as(&b, "/p", std::slice::from_ref(&read_only), 1)
                .unwrap_err(),
            ErrorCode::NoAuth
        );
        assert_eq!(
            ns.set_acl_as(&a, "/p", &[read_only], 0).unwrap_err(),
            ErrorCode::BadVersion
        );
    }

    #[test]
    fn a_failed_multi_keeps_the_deleted_nodes_acl() {
        use crate::wire::{CreateRequest, DeleteRequest, MultiOp};
        let policy = AclPolicy::default();
        let alice = digest_user("alice:secret");
        let a = Caller {
            auth: &alice,
            policy: &policy,
        };
        let mut ns = Namespace::new();
        let mine = [entry(perms::ALL, "auth", "")];
        ns.create_as(&a, 1, "/m", vec![], &mine, CreateMode::Persistent, 0)
            .unwrap();
        let before = ns.get_acl_as(&a, "/m").unwrap();
        let done = ns.multi_as(
            &a,
            1,
            vec![
                MultiOp::Delete(DeleteRequest {
                    path: "/m".into(),
                    version: -1,
                }),
                MultiOp::Create(CreateRequest {
                    path: "/none/x".into(),
                    data: Some(vec![]),
                    acl: vec![Acl::world_anyone()],
                    flags: 0,
                }),
            ],
            0,
        );
        assert_eq!(done.value[1].error_code(), Some(ErrorCode::NoNode));
        assert_eq!(ns.get_acl_as(&a, "/m").unwrap(), before);
        assert_eq!(ns.distinct_acl_lists(), 2);
        ns.delete_as(&a, "/m", -1).unwrap();
        // Kept for the delete's watch events, then dropped at the next write.
        assert!(ns.acl_of("/m").is_some());
        ns.create_as(
            &a,
            1,
            "/n",
            vec![],
            &[Acl::world_anyone()],
            CreateMode::Persistent,
            0,
        )
        .unwrap();
        assert!(ns.acl_of("/m").is_none());
        assert_eq!(ns.distinct_acl_lists(), 1);
    }

    #[test]
    fn super_user_and_ip_scheme() {
        let policy = AclPolicy::default();
        let mut root = AuthInfo::for_peer("10.1.2.3".parse().unwrap());
        root.add_super("");
        let peer = AuthInfo::for_peer("10.1.2.3".parse().unwrap());
        let other = AuthInfo::for_peer("10.9.9.9".parse().unwrap());
        let mut ns = Namespace::new();
        let only_net = [entry(perms::ALL, "ip", "10.1.0.0/16")];
        let p = Caller {
            auth: &peer,
            policy: &policy,
        };
        ns.create_as(&p, 1, "/n", vec![], &only_net, CreateMode::Persistent, 0)
            .unwrap();
        let o = Caller {
            auth: &other,
            policy: &policy,
        };
        assert_eq!(
            ns.get_data_as(&o, "/n", None).unwrap_err(),
            ErrorCode::NoAuth
        );
        let s = Caller {
            auth: &root,
            policy: &policy,
        };
        ns.set_data_as(&s, "/n", b"x".to_vec(), -1, 0).unwrap();
        assert_eq!(ns.get_data_as(&p, "/n", None).unwrap().0, b"x");
    }
}
