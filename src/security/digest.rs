//! The `digest` scheme: `user:base64(sha1(user:password))`.
//!
//! Owns: [`generate_digest`] (ZooKeeper's `DigestAuthenticationProvider.generateDigest`),
//! the rules for a `digest` ACL id ([`is_valid_id`]), the user part of an id
//! ([`user_name`]), the super digest setting ([`SuperDigest`],
//! `zookeeper.DigestAuthenticationProvider.superDigest`) and what an `addauth digest`
//! packet proves ([`authenticate`]).
//!
//! Facts kept from ZooKeeper 3.8: the hash covers the whole `user:password` string and
//! the id keeps the text before the first `:` (with no `:` at all the whole string is
//! the user and it is hashed as is); `addauth digest` never fails; an id is valid when
//! Java's `split(":")` (trailing empty parts dropped) gives exactly two parts.
//!
//! Must never: keep or log a password; the digest is the only thing that leaves here.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest as _, Sha1};

use super::AuthInfo;
use crate::wire::Id;

/// The scheme name.
pub const SCHEME: &str = "digest";

/// The setting that names the super digest.
pub const SUPER_DIGEST_KEY: &str = "zookeeper.DigestAuthenticationProvider.superDigest";

/// The digest id for `user:password` (`user:base64(sha1(user:password))`).
pub fn generate_digest(id_password: &str) -> String {
    let user = id_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(id_password.as_bytes());
    format!("{user}:{}", STANDARD.encode(hash))
}

/// The parts of Java's `s.split(":")`: trailing empty parts dropped, and a string with
/// no `:` is one part.
fn java_split_colon(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 1 {
        while parts.last() == Some(&"") {
            parts.pop();
        }
    }
    parts
}

/// Whether `id` is a valid `digest` ACL id (ZooKeeper's `isValid`: two parts around a
/// `:`; the hash part is not checked).
pub fn is_valid_id(id: &str) -> bool {
    java_split_colon(id).len() == 2
}

/// The user of a `digest` identity, as `whoAmI` reports it.
pub fn user_name(id: &str) -> &str {
    java_split_colon(id).first().copied().unwrap_or("")
}

/// Why a configured super digest is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuperDigestError {
    /// No `:` between the user and the hash.
    MissingColon,
    /// The hash part is not base64.
    BadBase64,
    /// The hash part does not decode to the 20 bytes of a SHA-1 hash.
    WrongLength(usize),
}

impl std::fmt::Display for SuperDigestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SuperDigestError::MissingColon => write!(f, "{SUPER_DIGEST_KEY}: expected user:hash"),
            SuperDigestError::BadBase64 => write!(f, "{SUPER_DIGEST_KEY}: the hash is not base64"),
            SuperDigestError::WrongLength(n) => {
                write!(
                    f,
                    "{SUPER_DIGEST_KEY}: the hash has {n} bytes, SHA-1 has 20"
                )
            }
        }
    }
}

impl std::error::Error for SuperDigestError {}

/// The configured super digest: whoever proves it bypasses every ACL.
///
/// ZooKeeper compares strings and so silently never matches a mistyped value; this type
/// refuses such a value when the configuration is read.
#[derive(Clone, PartialEq, Eq)]
pub struct SuperDigest(String);

impl std::fmt::Debug for SuperDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The digest is a password equivalent for offline guessing: never printed.
        f.write_str("SuperDigest(..)")
    }
}

impl SuperDigest {
    /// Parses `user:base64(sha1(user:password))`.
    pub fn parse(value: &str) -> Result<Self, SuperDigestError> {
        let (_, hash) = value
            .split_once(':')
            .ok_or(SuperDigestError::MissingColon)?;
        let bytes = STANDARD
            .decode(hash)
            .map_err(|_| SuperDigestError::BadBase64)?;
        if bytes.len() != 20 {
            return Err(SuperDigestError::WrongLength(bytes.len()));
        }
        Ok(SuperDigest(value.to_owned()))
    }

    /// Whether `digest` (a [`generate_digest`] result) is the super digest.
    pub fn is(&self, digest: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.len() == digest.len() && bool::from(self.0.as_bytes().ct_eq(digest.as_bytes()))
    }
}

/// What an `addauth digest <data>` packet proves: the `digest` identity, and whether it
/// is the super user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestAuth {
    /// `digest:user:hash`.
    pub id: Id,
    /// The password was the super digest's.
    pub is_super: bool,
}

/// Handles the auth data of `addauth digest` (the bytes `user:password`, decoded as
/// UTF-8 with invalid sequences replaced, as Java's `new String(bytes)` does).
/// It never fails: ZooKeeper answers OK to any digest data.
pub fn authenticate(auth_data: &[u8], super_digest: Option<&SuperDigest>) -> DigestAuth {
    let text = String::from_utf8_lossy(auth_data);
    let digest = generate_digest(&text);
    DigestAuth {
        is_super: super_digest.is_some_and(|s| s.is(&digest)),
        id: Id {
            scheme: SCHEME.to_owned(),
            id: digest,
        },
    }
}

/// Applies an `addauth digest` to a connection's identities (the super identity first,
/// as ZooKeeper adds it).
pub fn add_auth(info: &mut AuthInfo, auth_data: &[u8], super_digest: Option<&SuperDigest>) {
    let auth = authenticate(auth_data, super_digest);
    if auth.is_super {
        info.add_super("");
    }
    info.add(auth.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by ZooKeeper 3.8's DigestAuthenticationProvider main.
    #[test]
    fn digests_match_zookeeper() {
        assert_eq!(
            generate_digest("super:admin"),
            "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="
        );
        assert_eq!(
            generate_digest("alice:secret"),
            "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
        );
        assert_eq!(generate_digest("u:p:q"), "u:VIgTKUjc2iscZoJn2UUrdGNNgW4=");
        assert_eq!(generate_digest("ü:pä"), "ü:YaU0sS5YxKHLhFsvFFTao+h/xQ8=");
    }

    #[test]
    fn data_without_colon_hashes_the_whole_string_as_user() {
        assert_eq!(generate_digest("bob"), "bob:SBgazSKz7a68ikR4aKfffOYpkgo=");
    }

    #[test]
    fn id_validity_follows_java_split() {
        assert!(is_valid_id("alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="));
        assert!(is_valid_id(":hash"));
        assert!(is_valid_id("a:b:"));
        assert!(is_valid_id("a:b::"));
        for bad in ["", "alice", "alice:", ":", "::", "a::b", "a:b:c"] {
            assert!(!is_valid_id(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn user_name_is_the_text_before_the_first_colon() {
        assert_eq!(user_name("alice:xyz"), "alice");
        assert_eq!(user_name(":xyz"), "");
        assert_eq!(user_name("plain"), "plain");
    }

    #[test]
    fn super_digest_grants_super() {
        let sd = SuperDigest::parse("super:xQJmxLMiHGwaqBvst5y6rkB6HQs=").unwrap();
        let mut info = AuthInfo::new();
        add_auth(&mut info, b"super:admin", Some(&sd));
        assert!(info.is_super());
        assert_eq!(info.ids()[1].id, "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=");
        let mut other = AuthInfo::new();
        add_auth(&mut other, b"super:wrong", Some(&sd));
        assert!(!other.is_super());
        assert_eq!(other.ids().len(), 1);
    }

    #[test]
    fn bad_super_digests_are_refused() {
        assert_eq!(
            SuperDigest::parse("nocolon"),
            Err(SuperDigestError::MissingColon)
        );
        assert_eq!(
            SuperDigest::parse("s:not base64!"),
            Err(SuperDigestError::BadBase64)
        );
        assert_eq!(
            SuperDigest::parse("s:YWJj"),
            Err(SuperDigestError::WrongLength(3))
        );
    }

    #[test]
    fn super_digest_debug_hides_the_hash() {
        let sd = SuperDigest::parse("super:xQJmxLMiHGwaqBvst5y6rkB6HQs=").unwrap();
        assert!(!format!("{sd:?}").contains("xQJ"));
    }

    #[test]
    fn invalid_utf8_auth_data_is_replaced_not_refused() {
        let auth = authenticate(b"a\xff:b", None);
        assert_eq!(auth.id.id, generate_digest("a\u{fffd}:b"));
    }
}
