use super::*;
use crate::security::digest::generate_digest;

fn acl(perms: i32, scheme: &str, id: &str) -> Acl {
    Acl {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

fn digest_user(name: &str, password: &str) -> AuthInfo {
    let mut info = AuthInfo::for_peer("10.0.0.5".parse().unwrap());
    info.add(Id {
        scheme: "digest".into(),
        id: generate_digest(&format!("{name}:{password}")),
    });
    info
}

fn all_schemes() -> AclPolicy {
    AclPolicy {
        sasl: true,
        x509: true,
        ..AclPolicy::default()
    }
}

#[test]
fn world_anyone_grants_only_its_bits() {
    let list = [acl(perms::READ | perms::WRITE, "world", "anyone")];
    let who = AuthInfo::new();
    let p = AclPolicy::default();
    assert_eq!(check(&list, perms::READ, &who, &p), Ok(()));
    assert_eq!(check(&list, perms::WRITE, &who, &p), Ok(()));
    for bit in [perms::CREATE, perms::DELETE, perms::ADMIN] {
        assert_eq!(check(&list, bit, &who, &p), Err(AclError::NoAuth));
    }
}

#[test]
fn any_requested_bit_is_enough() {
    let list = [acl(perms::ADMIN, "world", "anyone")];
    let p = AclPolicy::default();
    assert!(check(&list, perms::READ | perms::ADMIN, &AuthInfo::new(), &p).is_ok());
}

#[test]
fn empty_acl_allows_everything() {
    assert!(check(&[], perms::ALL, &AuthInfo::new(), &AclPolicy::default()).is_ok());
}

#[test]
fn digest_acl_needs_the_matching_identity() {
    let list = [acl(perms::ALL, "digest", &generate_digest("alice:secret"))];
    let p = AclPolicy::default();
    assert!(check(&list, perms::READ, &digest_user("alice", "secret"), &p).is_ok());
    assert_eq!(
        check(&list, perms::READ, &digest_user("alice", "wrong"), &p),
        Err(AclError::NoAuth)
    );
    assert_eq!(
        check(&list, perms::READ, &AuthInfo::new(), &p),
        Err(AclError::NoAuth)
    );
}

#[test]
fn one_of_several_identities_is_enough() {
    let list = [acl(perms::READ, "digest", &generate_digest("bob:pw"))];
    let mut who = digest_user("alice", "secret");
    who.add(Id {
        scheme: "digest".into(),
        id: generate_digest("bob:pw"),
    });
    assert!(check(&list, perms::READ, &who, &AclPolicy::default()).is_ok());
}

#[test]
fn disabled_digest_scheme_never_matches() {
    let list = [acl(perms::ALL, "digest", &generate_digest("alice:secret"))];
    let p = AclPolicy {
        digest: false,
        ..AclPolicy::default()
    };
    assert_eq!(
        check(&list, perms::READ, &digest_user("alice", "secret"), &p),
        Err(AclError::NoAuth)
    );
}

#[test]
fn ip_acl_matches_the_peer_range() {
    let list = [acl(perms::READ, "ip", "10.0.0.0/24")];
    let p = AclPolicy::default();
    assert!(check(
        &list,
        perms::READ,
        &AuthInfo::for_peer("10.0.0.9".parse().unwrap()),
        &p
    )
    .is_ok());
    assert_eq!(
        check(
            &list,
            perms::READ,
            &AuthInfo::for_peer("10.0.1.9".parse().unwrap()),
            &p
        ),
        Err(AclError::NoAuth)
    );
    let v6 = [acl(perms::READ, "ip", "::1")];
    assert!(check(
        &v6,
        perms::READ,
        &AuthInfo::for_peer("::1".parse().unwrap()),
        &p
    )
    .is_ok());
}

#[test]
fn super_bypasses_every_check() {
    let list = [acl(0, "digest", "x:y")];
    let mut who = AuthInfo::new();
    who.add_super("");
    assert!(check(&list, perms::ADMIN, &who, &AclPolicy::default()).is_ok());
}

#[test]
fn skip_acl_allows_everything() {
    let list = [acl(0, "world", "anyone")];
    let p = AclPolicy {
        skip_acl: true,
        ..AclPolicy::default()
    };
    assert!(check(&list, perms::ALL, &AuthInfo::new(), &p).is_ok());
}

#[test]
fn sasl_acl_matches_user_super_and_any_user_setting() {
    let list = [acl(perms::READ, "sasl", "alice")];
    let mut p = all_schemes();
    let sasl = |user: &str| {
        let mut who = AuthInfo::new();
        who.add(Id {
            scheme: "sasl".into(),
            id: user.into(),
        });
        who
    };
    assert!(check(&list, perms::READ, &sasl("alice"), &p).is_ok());
    assert!(check(&list, perms::READ, &sasl("super"), &p).is_ok());
    assert_eq!(
        check(&list, perms::READ, &sasl("bob"), &p),
        Err(AclError::NoAuth)
    );
    p.sasl_any_user = Some("alice".into());
    assert!(check(&list, perms::READ, &sasl("bob"), &p).is_ok());
    p.sasl = false;
    assert_eq!(
        check(&list, perms::READ, &sasl("alice"), &p),
        Err(AclError::NoAuth)
    );
}

#[test]
fn x509_acl_matches_subject_and_super_user() {
    let list = [acl(perms::READ, "x509", "CN=client,O=zk")];
    let mut p = all_schemes();
    let cert = |dn: &str| {
        let mut who = AuthInfo::new();
        who.add(Id {
            scheme: "x509".into(),
            id: dn.into(),
        });
        who
    };
    assert!(check(&list, perms::READ, &cert("CN=client,O=zk"), &p).is_ok());
    assert!(check(&list, perms::READ, &cert("CN=other"), &p).is_err());
    p.x509_super_user = Some("CN=admin".into());
    assert!(check(&list, perms::READ, &cert("CN=admin"), &p).is_ok());
}

#[test]
fn identity_of_another_scheme_never_matches() {
    let list = [acl(perms::READ, "sasl", "alice")];
    let mut who = AuthInfo::new();
    who.add(Id {
        scheme: "digest".into(),
        id: "alice".into(),
    });
    assert!(check(&list, perms::READ, &who, &all_schemes()).is_err());
}

#[test]
fn fixup_removes_duplicates_keeping_order() {
    let w = acl(perms::ALL, "world", "anyone");
    let i = acl(perms::READ, "ip", "1.2.3.4");
    let out = fixup_acl(
        &[w.clone(), i.clone(), w.clone()],
        &AuthInfo::new(),
        &AclPolicy::default(),
    );
    assert_eq!(out, Ok(vec![w, i]));
}

#[test]
fn fixup_refuses_empty_list() {
    assert_eq!(
        fixup_acl(&[], &AuthInfo::new(), &AclPolicy::default()),
        Err(AclError::InvalidAcl)
    );
}

#[test]
fn fixup_expands_auth_to_authenticated_identities() {
    let mut who = digest_user("alice", "secret");
    who.add(Id {
        scheme: "sasl".into(),
        id: "bob".into(),
    });
    who.add_super("");
    let out = fixup_acl(
        &[acl(perms::READ | perms::WRITE, "auth", "")],
        &who,
        &all_schemes(),
    )
    .unwrap();
    assert_eq!(
        out,
        vec![
            acl(3, "digest", &generate_digest("alice:secret")),
            acl(3, "sasl", "bob")
        ]
    );
}

#[test]
fn fixup_auth_without_identities_is_invalid() {
    let only_ip = AuthInfo::for_peer("127.0.0.1".parse().unwrap());
    assert_eq!(
        fixup_acl(
            &[acl(perms::ALL, "auth", "")],
            &only_ip,
            &AclPolicy::default()
        ),
        Err(AclError::InvalidAcl)
    );
    let mut only_super = AuthInfo::new();
    only_super.add_super("");
    assert_eq!(
        fixup_acl(
            &[acl(perms::ALL, "auth", "")],
            &only_super,
            &AclPolicy::default()
        ),
        Err(AclError::InvalidAcl)
    );
}

#[test]
fn fixup_refuses_malformed_ids_and_unknown_schemes() {
    let p = AclPolicy::default();
    let who = digest_user("a", "b");
    for bad in [
        acl(perms::ALL, "world", "someone"),
        acl(perms::ALL, "digest", "nohash"),
        acl(perms::ALL, "digest", "a:b:c"),
        acl(perms::ALL, "ip", "1.2.3.4/33"),
        acl(perms::ALL, "ip", "not-an-ip"),
        acl(perms::ALL, "nosuch", "x"),
        acl(perms::ALL, "sasl", "alice"),
        acl(perms::ALL, "x509", "CN=a"),
        acl(perms::ALL, "super", ""),
        acl(perms::ALL, "", ""),
    ] {
        assert_eq!(
            fixup_acl(std::slice::from_ref(&bad), &who, &p),
            Err(AclError::InvalidAcl),
            "{bad:?}"
        );
    }
}

#[test]
fn fixup_validates_sasl_and_x509_ids_when_enabled() {
    let p = all_schemes();
    let who = AuthInfo::new();
    for good in ["alice", "zk/host@REALM", "alice@REALM", "@"] {
        assert!(
            fixup_acl(&[acl(1, "sasl", good)], &who, &p).is_ok(),
            "{good}"
        );
    }
    for bad in ["a@b@c", "a/b/c@R", "a@R/x"] {
        assert!(
            fixup_acl(&[acl(1, "sasl", bad)], &who, &p).is_err(),
            "{bad}"
        );
    }
    assert!(fixup_acl(&[acl(1, "x509", "CN=client,O=zk")], &who, &p).is_ok());
    assert!(fixup_acl(&[acl(1, "x509", "CN")], &who, &p).is_err());
}

#[test]
fn fixup_keeps_perms_as_given() {
    let out = fixup_acl(
        &[acl(0, "world", "anyone")],
        &AuthInfo::new(),
        &AclPolicy::default(),
    );
    assert_eq!(out, Ok(vec![acl(0, "world", "anyone")]));
}

#[test]
fn redaction_hides_digest_hashes_only() {
    let list = [
        acl(31, "digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="),
        acl(1, "ip", "::1"),
        acl(1, "digest", "odd:a\nb:c"),
    ];
    let out = redact_digests(&list);
    assert_eq!(out[0].id.id, "alice:x");
    assert_eq!(out[1], list[1]);
    assert_eq!(out[2].id.id, "odd:x\nb:x");
}

#[test]
fn who_am_i_reports_users() {
    // In the order Java's ConcurrentHashMap key set gives for these three identities.
    let mut who = digest_user("alice", "secret");
    who.add_super("");
    let out = who_am_i(&who, &AclPolicy::default());
    assert_eq!(
        out,
        vec![
            ("digest".to_owned(), "alice".to_owned()),
            ("super".to_owned(), String::new()),
            ("ip".to_owned(), "10.0.0.5".to_owned()),
        ]
    );
}

#[test]
fn error_codes_are_zookeepers() {
    assert_eq!(AclError::NoAuth.code(), -102);
    assert_eq!(AclError::InvalidAcl.code(), -114);
}
