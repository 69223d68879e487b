//! What an `addauth` packet (opcode 100, `AuthPacket{type, scheme, auth}`) does, and the
//! `enforce.auth` rule that gates every other request.
//!
//! Owns: [`handle_auth_packet`] (ZooKeeper's dispatch to `ProviderRegistry` providers:
//! `digest` adds `digest:user:hash` and maybe `super`, and always succeeds; `ip` re-adds
//! the peer address and succeeds; `x509` succeeds and adds the certificate's identity
//! only on a TLS connection with a client certificate; `sasl` and every unknown or
//! disabled scheme fail) and [`AuthEnforcement`] (`zookeeper.enforce.auth.enabled`,
//! `zookeeper.enforce.auth.schemes`, `zookeeper.sessionRequireClientSASLAuth`).
//!
//! On failure ZooKeeper answers `AuthFailed` (-115) with xid of the packet and zxid 0,
//! then closes the connection; for enforcement it answers `SessionClosedRequireSaslAuth`
//! (-124) and closes. Both are the caller's to send.
//!
//! Must never: log the auth data (it holds a password).

use super::acl::AclPolicy;
use super::auth_info::AuthInfo;
use super::digest::{self, SuperDigest};
use crate::wire::Id;

/// An `addauth` that fails; ZooKeeper's code is the discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum AuthFailed {
    /// `AuthFailed`.
    AuthFailed = -115,
}

/// A request refused because the connection lacks a required scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum EnforceError {
    /// `SessionClosedRequireSaslAuth`.
    SessionClosedRequireAuth = -124,
}

/// Handles `addauth <scheme> <data>` for a connection with identities `info`;
/// `peer_x509` is the client certificate's identity on a TLS connection that has one.
pub fn handle_auth_packet(
    scheme: &str,
    data: &[u8],
    info: &mut AuthInfo,
    policy: &AclPolicy,
    super_digest: Option<&SuperDigest>,
    peer_x509: Option<&str>,
) -> Result<(), AuthFailed> {
    if !policy.knows_scheme(scheme) {
        return Err(AuthFailed::AuthFailed);
    }
    match scheme {
        "digest" => {
            digest::add_auth(info, data, super_digest);
            Ok(())
        }
        "ip" => Ok(()),
        "x509" => {
            let subject = peer_x509.ok_or(AuthFailed::AuthFailed)?;
            add_x509(info, subject, policy);
            Ok(())
        }
        _ => Err(AuthFailed::AuthFailed),
    }
}

/// Adds the identity of a verified client certificate (and `super:<subject>` when it is
/// `zookeeper.X509AuthenticationProvider.superUser`), as ZooKeeper does after the TLS
/// handshake when the `x509` scheme is enabled.
pub fn add_x509(info: &mut AuthInfo, subject: &str, policy: &AclPolicy) {
    if policy.x509_super_user.as_deref() == Some(subject) {
        info.add_super(subject);
    }
    info.add(Id {
        scheme: "x509".to_owned(),
        id: subject.to_owned(),
    });
}

/// Why the enforcement settings are refused at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnforceConfigError {
    /// Enforcement is on and no scheme is named.
    NoSchemes,
    /// A named scheme has no provider.
    UnknownScheme(String),
}

impl std::fmt::Display for EnforceConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnforceConfigError::NoSchemes => f.write_str(
                "zookeeper.enforce.auth.enabled is true: zookeeper.enforce.auth.schemes must be configured",
            ),
            EnforceConfigError::UnknownScheme(s) => {
                write!(f, "authentication scheme {s} is not available")
            }
        }
    }
}

impl std::error::Error for EnforceConfigError {}

/// Which schemes a connection must have proved before any request but `addauth` and
/// SASL is served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEnforcement {
    schemes: Vec<String>,
}

impl AuthEnforcement {
    /// From the three settings (`sessionRequireClientSASLAuth` wins and means `sasl`).
    pub fn new(
        require_sasl: bool,
        enabled: bool,
        schemes: Option<&str>,
        policy: &AclPolicy,
    ) -> Result<Self, EnforceConfigError> {
        let schemes: Vec<String> = if require_sasl {
            vec!["sasl".to_owned()]
        } else if enabled {
            schemes
                .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect())
                .unwrap_or_default()
        } else {
            return Ok(AuthEnforcement::default());
        };
        if schemes.is_empty() {
            return Err(EnforceConfigError::NoSchemes);
        }
        if let Some(s) = schemes.iter().find(|s| !policy.knows_scheme(s)) {
            return Err(EnforceConfigError::UnknownScheme(s.clone()));
        }
        Ok(AuthEnforcement { schemes })
    }

    /// Whether enforcement is on.
    pub fn is_enabled(&self) -> bool {
        !self.schemes.is_empty()
    }

    /// Whether a failed SASL exchange answers `SessionClosedRequireSaslAuth` (-124)
    /// rather than `AuthFailed` (-115).
    pub fn requires_sasl(&self) -> bool {
        self.schemes.iter().any(|s| s == "sasl")
    }

    /// Whether a request may be served on a connection with identities `info`.
    pub fn check(&self, info: &AuthInfo) -> Result<(), EnforceError> {
        if !self.is_enabled() || self.schemes.iter().any(|s| info.has_scheme(s)) {
            Ok(())
        } else {
            Err(EnforceError::SessionClosedRequireAuth)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sasl_policy() -> AclPolicy {
        AclPolicy {
            sasl: true,
            x509: true,
            ..AclPolicy::default()
        }
    }

    #[test]
    fn digest_auth_always_succeeds_and_adds_identities() {
        let mut info = AuthInfo::new();
        let p = AclPolicy::default();
        assert!(handle_auth_packet("digest", b"a:b", &mut info, &p, None, None).is_ok());
        assert!(handle_auth_packet("digest", b"c:d", &mut info, &p, None, None).is_ok());
        assert_eq!(info.ids().len(), 2);
    }

    #[test]
    fn unknown_disabled_and_sasl_schemes_fail() {
        let mut info = AuthInfo::new();
        let p = AclPolicy {
            digest: false,
            ..sasl_policy()
        };
        for scheme in ["nosuch", "digest", "sasl", "world", "auth", "super", ""] {
            assert_eq!(
                handle_auth_packet(scheme, b"a:b", &mut info, &p, None, None),
                Err(AuthFailed::AuthFailed),
                "{scheme}"
            );
        }
        assert!(info.ids().is_empty());
    }

    #[test]
    fn ip_auth_succeeds_without_change() {
        let mut info = AuthInfo::for_peer("127.0.0.1".parse().unwrap());
        let before = info.clone();
        assert!(
            handle_auth_packet("ip", b"", &mut info, &AclPolicy::default(), None, None).is_ok()
        );
        assert_eq!(info, before);
    }

    #[test]
    fn x509_auth_needs_a_client_certificate() {
        let p = AclPolicy {
            x509_super_user: Some("CN=admin".into()),
            ..sasl_policy()
        };
        let mut info = AuthInfo::new();
        assert!(handle_auth_packet("x509", b"", &mut info, &p, None, None).is_err());
        assert!(handle_auth_packet("x509", b"", &mut info, &p, None, Some("CN=admin")).is_ok());
        assert!(info.is_super());
        assert!(info.has_scheme("x509"));
    }

    #[test]
    fn enforcement_settings() {
        let p = sasl_policy();
        assert!(!AuthEnforcement::new(false, false, Some("sasl"), &p)
            .unwrap()
            .is_enabled());
        let e = AuthEnforcement::new(true, false, None, &p).unwrap();
        assert!(e.requires_sasl());
        assert_eq!(
            AuthEnforcement::new(false, true, None, &p),
            Err(EnforceConfigError::NoSchemes)
        );
        assert_eq!(
            AuthEnforcement::new(false, true, Some("digest, kerberos"), &p),
            Err(EnforceConfigError::UnknownScheme("kerberos".into()))
        );
    }

    #[test]
    fn enforcement_needs_one_of_the_schemes() {
        let e = AuthEnforcement::new(false, true, Some("sasl,digest"), &sasl_policy()).unwrap();
        let mut info = AuthInfo::for_peer("127.0.0.1".parse().unwrap());
        assert_eq!(e.check(&info), Err(EnforceError::SessionClosedRequireAuth));
        digest::add_auth(&mut info, b"a:b", None);
        assert_eq!(e.check(&info), Ok(()));
        assert!(e.requires_sasl());
    }
}
