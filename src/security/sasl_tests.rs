use super::*;

const NONCE: [u8; NONCE_LEN] = [7; NONCE_LEN];
const NONCE_TEXT: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";

fn users() -> SaslUsers {
    SaslUsers::from_pairs([
        ("bob".to_owned(), "bobsecret".to_owned()),
        ("jörg".to_owned(), "pässword".to_owned()),
    ])
}

/// A client response to ZooKeeper's challenge with `response` as given.
fn zk_response(user: &str, response: &str, extra: &str) -> Vec<u8> {
    format!(
        "charset=utf-8,username=\"{user}\",realm=\"zk-sasl-md5\",nonce=\"{NONCE_TEXT}\",\
         nc=00000001,cnonce=\"c1\",digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,\
         response={response},qop=auth{extra}"
    )
    .into_bytes()
}

fn challenged(users: &SaslUsers) -> DigestMd5Server<'_> {
    let mut s = DigestMd5Server::new(users, Some("supersecret"), NONCE);
    assert!(matches!(s.step(b""), Ok(SaslStep::Challenge(_))));
    s
}

#[test]
fn rfc2831_example_exchange() {
    let users = SaslUsers::from_pairs([("chris".to_owned(), "secret".to_owned())]);
    let name = SaslServerName {
        protocol: "imap".into(),
        server_name: "elwood.innosoft.com".into(),
    };
    let mut s = DigestMd5Server::with_name(&users, None, name, "OA6MG9tEQGm2hh".into());
    let SaslStep::Challenge(c) = s.step(b"").unwrap() else {
        panic!("no challenge")
    };
    assert_eq!(
        c,
        b"realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",charset=utf-8,algorithm=md5-sess"
    );
    let response = b"charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",\
        nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",\
        digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth";
    assert_eq!(
        s.step(response),
        Ok(SaslStep::Success {
            token: b"rspauth=ea40f60335c427b5527b84dbabcdfffd".to_vec(),
            user: "chris".into()
        })
    );
    assert!(s.is_finished());
}

#[test]
fn zookeeper_challenge_offers_its_realm_and_auth_only() {
    let users = users();
    let mut s = DigestMd5Server::new(&users, None, NONCE);
    let SaslStep::Challenge(c) = s.step(b"").unwrap() else {
        panic!("no challenge")
    };
    assert_eq!(
        String::from_utf8(c).unwrap(),
        format!("realm=\"zk-sasl-md5\",nonce=\"{NONCE_TEXT}\",qop=\"auth\",charset=utf-8,algorithm=md5-sess")
    );
}

// Expected hashes computed independently (Python hashlib) from RFC 2831's formulas.
#[test]
fn valid_password_authenticates_as_the_user() {
    let users = users();
    let mut s = challenged(&users);
    let out = s.step(&zk_response("bob", "51454485b584f404a3b46b8bdecc7bb9", ""));
    assert_eq!(
        out,
        Ok(SaslStep::Success {
            token: b"rspauth=ed32e2a5561ffc4f0953ef382f061142".to_vec(),
            user: "bob".into()
        })
    );
}

#[test]
fn authzid_enters_the_hash_but_the_identity_stays_the_user() {
    let users = users();
    let mut s = challenged(&users);
    let out = s.step(&zk_response(
        "bob",
        "af4dd1f5504c62be215bfce29f2e3815",
        ",authzid=\"alice\"",
    ));
    assert_eq!(
        out,
        Ok(SaslStep::Success {
            token: b"rspauth=6ee78c1c206fe4be43f7f97c1ecd69f6".to_vec(),
            user: "bob".into()
        })
    );
}

#[test]
fn latin1_names_are_hashed_in_latin1() {
    let users = users();
    let mut s = challenged(&users);
    let out = s
        .step(&zk_response("jörg", "baa5a4b6399720d2d12d21845c916f63", ""))
        .unwrap();
    assert!(matches!(out, SaslStep::Success { user, .. } if user == "jörg"));
}

#[test]
fn uppercase_response_hex_is_accepted() {
    let users = users();
    let mut s = challenged(&users);
    assert!(s
        .step(&zk_response("bob", "51454485B584F404A3B46B8BDECC7BB9", ""))
        .is_ok());
}

#[test]
fn wrong_password_fails() {
    let users = SaslUsers::from_pairs([("bob".to_owned(), "other".to_owned())]);
    let mut s = challenged(&users);
    assert_eq!(
        s.step(&zk_response("bob", "51454485b584f404a3b46b8bdecc7bb9", "")),
        Err(SaslError::BadResponse)
    );
    assert_eq!(s.step(b""), Err(SaslError::Finished));
}

#[test]
fn unknown_user_fails() {
    let users = users();
    let mut s = challenged(&users);
    assert_eq!(
        s.step(&zk_response("eve", "51454485b584f404a3b46b8bdecc7bb9", "")),
        Err(SaslError::UnknownUser)
    );
}

#[test]
fn super_uses_the_super_password() {
    let users = users();
    let mut s = challenged(&users);
    // Without the right hash the super user fails like any other.
    assert_eq!(
        s.step(&zk_response(
            "super",
            "51454485b584f404a3b46b8bdecc7bb9",
            ""
        )),
        Err(SaslError::BadResponse)
    );
}

#[test]
fn initial_response_is_refused() {
    let users = users();
    let mut s = DigestMd5Server::new(&users, None, NONCE);
    assert_eq!(s.step(b"username=\"bob\""), Err(SaslError::InitialResponse));
    assert!(s.is_finished());
}

#[test]
fn tampered_fields_fail() {
    let users = users();
    let good =
        String::from_utf8(zk_response("bob", "51454485b584f404a3b46b8bdecc7bb9", "")).unwrap();
    for (from, to, err) in [
        (NONCE_TEXT, "AAAA", SaslError::NonceMismatch),
        ("nc=00000001", "nc=00000002", SaslError::NonceCount),
        ("qop=auth", "qop=auth-int", SaslError::Qop),
        ("charset=utf-8", "charset=latin1", SaslError::Charset),
        (
            "zookeeper/zk-sasl-md5",
            "ldap/zk-sasl-md5",
            SaslError::DigestUri,
        ),
        (
            "zookeeper/zk-sasl-md5",
            "zookeeper/other",
            SaslError::DigestUri,
        ),
        ("zookeeper/zk-sasl-md5", "zookeeper", SaslError::DigestUri),
        (
            "zookeeper/zk-sasl-md5",
            "zookeeper/zk-sasl-md5/a/b",
            SaslError::DigestUri,
        ),
        (
            "realm=\"zk-sasl-md5\"",
            "realm=\"elsewhere\"",
            SaslError::Realm,
        ),
        ("cnonce=\"c1\"", "cnonce=\"c2\"", SaslError::BadResponse),
        (
            "username=\"bob\",",
            "",
            SaslError::MissingDirective("username"),
        ),
        ("cnonce=\"c1\",", "", SaslError::MissingDirective("cnonce")),
        (
            "response=51454485b584f404a3b46b8bdecc7bb9,",
            "",
            SaslError::MissingDirective("response"),
        ),
        ("maxbuf=65536", "nc=00000001", SaslError::DuplicateDirective),
        ("username=\"bob\"", "username=\"bob", SaslError::Syntax),
    ] {
        let mut s = challenged(&users);
        let bad = good.replacen(from, to, 1);
        assert_eq!(s.step(bad.as_bytes()), Err(err), "{bad}");
    }
}

#[test]
fn garbage_and_truncated_tokens_fail_without_panic() {
    let users = users();
    let good = zk_response("bob", "51454485b584f404a3b46b8bdecc7bb9", "");
    // Without its last directive (`qop`, default `auth`), with or without the comma
    // before it, the response is still whole.
    let whole = good.len() - b",qop=auth".len();
    assert!(challenged(&users).step(&good[..whole]).is_ok());
    for cut in (0..whole).chain(whole + 2..good.len()) {
        let mut s = challenged(&users);
        assert!(
            s.step(&good[..cut]).is_err(),
            "prefix of {cut} bytes accepted"
        );
    }
    for junk in [&b"\xff\xfe"[..], b"====", b",,,", b"\"", b"a=\"\\"] {
        let mut s = challenged(&users);
        assert!(s.step(junk).is_err());
    }
}

#[test]
fn debug_shows_no_secrets() {
    let users = users();
    let s = DigestMd5Server::new(&users, Some("supersecret"), NONCE);
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("supersecret") && !shown.contains(NONCE_TEXT),
        "{shown}"
    );
}
