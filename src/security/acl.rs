//! ACL evaluation and validation as ZooKeeper 3.8 does them.
//!
//! Owns: [`AclPolicy`] (which schemes the server knows, as ZooKeeper's `ProviderRegistry`
//! and its system properties decide), [`check`] (`ZooKeeperServer.checkACL`),
//! [`fixup_acl`] (`PrepRequestProcessor.fixupACL`: validation of an ACL list on create and
//! setACL, with `auth` expanded to the caller's identities), [`redact_digests`] (what
//! getACL returns to a caller with READ but not ADMIN) and [`who_am_i`].
//!
//! The rules, from ZooKeeper 3.8:
//! - `skipACL` or an empty list allows everything; then a `super` identity allows
//!   everything;
//! - an entry applies when it has one of the requested bits; `world:anyone` then allows;
//!   otherwise an identity of the entry's scheme must match it by that scheme's rule
//!   (`ip`: address or CIDR range; `digest`: equal; `sasl`: equal, or the identity is
//!   `super`, or the entry names `zookeeper.letAnySaslUserDoX`; `x509`: equal, or the
//!   identity is the x509 super user); entries of a scheme the server does not know are
//!   skipped;
//! - a new list is refused (`InvalidACL`) when empty after removing duplicates, when an
//!   entry's scheme is unknown or its id invalid for it, when `world` has an id other than
//!   `anyone`, and when `auth` finds no authenticated identity (only `digest`, `sasl` and
//!   `x509` identities are authenticated; `ip` and `super` are not).
//!
//! Must never: hold state; it decides from the list, the identities and the policy.

use super::auth_info::AuthInfo;
use super::{digest, ip, x509_name};
pub use crate::wire::perms;
use crate::wire::{Acl, Id};

/// Why an ACL operation is refused, with ZooKeeper's code as the discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum AclError {
    /// No identity of the caller is granted the permission (`NoAuth`).
    NoAuth = -102,
    /// The ACL list given to create or setACL is refused (`InvalidACL`).
    InvalidAcl = -114,
}

impl AclError {
    /// ZooKeeper's error code.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl std::fmt::Display for AclError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AclError::NoAuth => f.write_str("not authorized"),
            AclError::InvalidAcl => f.write_str("invalid ACL"),
        }
    }
}

impl std::error::Error for AclError {}

/// The schemes a server knows and the settings that change how they match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclPolicy {
    /// `zookeeper.skipACL=yes`: no check ever fails.
    pub skip_acl: bool,
    /// The `digest` scheme (`zookeeper.DigestAuthenticationProvider.enabled`, default on).
    pub digest: bool,
    /// The `sasl` scheme (`authProvider.N=...SASLAuthenticationProvider`).
    pub sasl: bool,
    /// The `x509` scheme (`authProvider.x509=...X509AuthenticationProvider`).
    pub x509: bool,
    /// `zookeeper.letAnySaslUserDoX`: an ACL entry `sasl:<this>` matches any SASL user.
    pub sasl_any_user: Option<String>,
    /// `zookeeper.X509AuthenticationProvider.superUser`.
    pub x509_super_user: Option<String>,
}

impl Default for AclPolicy {
    /// ZooKeeper's defaults: `ip` and `digest` known, nothing skipped.
    fn default() -> Self {
        AclPolicy {
            skip_acl: false,
            digest: true,
            sasl: false,
            x509: false,
            sasl_any_user: None,
            x509_super_user: None,
        }
    }
}

/// A scheme with a provider (ZooKeeper's `AuthenticationProvider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Ip,
    Digest,
    Sasl,
    X509,
}

impl AclPolicy {
    fn provider(&self, scheme: &str) -> Option<Provider> {
        match scheme {
            "ip" => Some(Provider::Ip),
            "digest" if self.digest => Some(Provider::Digest),
            "sasl" if self.sasl => Some(Provider::Sasl),
            "x509" if self.x509 => Some(Provider::X509),
            _ => None,
        }
    }

    /// Whether the server knows `scheme` (for `enforce.auth.schemes` and `addauth`).
    pub fn knows_scheme(&self, scheme: &str) -> bool {
        self.provider(scheme).is_some()
    }

    fn matches(&self, p: Provider, identity: &str, acl_id: &str) -> bool {
        match p {
            Provider::Ip => ip::matches(identity, acl_id),
            Provider::Digest => identity == acl_id,
            Provider::Sasl => {
                identity == "super"
                    || identity == acl_id
                    || self.sasl_any_user.as_deref() == Some(acl_id)
            }
            Provider::X509 => {
                self.x509_super_user.as_deref() == Some(identity) || identity == acl_id
            }
        }
    }

    fn is_valid(p: Provider, acl_id: &str) -> bool {
        match p {
            Provider::Ip => ip::is_valid(acl_id),
            Provider::Digest => digest::is_valid_id(acl_id),
            Provider::Sasl => is_valid_kerberos_name(acl_id),
            Provider::X509 => x509_name::is_valid_dn(acl_id),
        }
    }

    fn is_authenticated(p: Provider) -> bool {
        p != Provider::Ip
    }
}

/// `new KerberosName(id)` succeeds: either no `@`, or `service[/host]@realm` with no
/// other `/` or `@`.
fn is_valid_kerberos_name(id: &str) -> bool {
    let Some((name, realm)) = id.split_once('@') else {
        return true;
    };
    if realm.contains(['/', '@']) {
        return false;
    }
    match name.split_once('/') {
        None => true,
        Some((_, host)) => !host.contains('/'),
    }
}

fn is_world_anyone(id: &Id) -> bool {
    id.scheme == "world" && id.id == "anyone"
}

/// Whether the caller with identities `auth` holds one of the bits of `perm` on a node
/// whose ACL is `acl`.
pub fn check(acl: &[Acl], perm: i32, auth: &AuthInfo, policy: &AclPolicy) -> Result<(), AclError> {
    if policy.skip_acl || acl.is_empty() || auth.is_super() {
        return Ok(());
    }
    for entry in acl.iter().filter(|a| a.perms & perm != 0) {
        if is_world_anyone(&entry.id) {
            return Ok(());
        }
        let Some(p) = policy.provider(&entry.id.scheme) else {
            continue;
        };
        let granted = auth
            .ids()
            .iter()
            .filter(|who| who.scheme == entry.id.scheme)
            .any(|who| policy.matches(p, &who.id, &entry.id.id));
        if granted {
            return Ok(());
        }
    }
    Err(AclError::NoAuth)
}

/// Validates the ACL list of a create or setACL and returns the list to store: duplicates
/// removed (first kept), `auth` entries replaced by one entry per authenticated identity
/// of the caller, in the caller's order.
pub fn fixup_acl(acl: &[Acl], auth: &AuthInfo, policy: &AclPolicy) -> Result<Vec<Acl>, AclError> {
    let mut unique: Vec<&Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    if unique.is_empty() {
        return Err(AclError::InvalidAcl);
    }
    let mut out = Vec::with_capacity(unique.len());
    for a in unique {
        if is_world_anyone(&a.id) {
            out.push(a.clone());
        } else if a.id.scheme == "auth" {
            let before = out.len();
            for who in auth.java_order() {
                if policy
                    .provider(&who.scheme)
                    .is_some_and(AclPolicy::is_authenticated)
                {
                    out.push(Acl {
                        perms: a.perms,
                        id: who.clone(),
                    });
                }
            }
            if out.len() == before {
                return Err(AclError::InvalidAcl);
            }
        } else {
            match policy.provider(&a.id.scheme) {
                Some(p) if AclPolicy::is_valid(p, &a.id.id) => out.push(a.clone()),
                _ => return Err(AclError::InvalidAcl),
            }
        }
    }
    Ok(out)
}

/// Java's `s.replaceAll(":.*", ":x")`: from each `:` to the end of its line becomes `:x`.
fn redact(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut hiding = false;
    for c in id.chars() {
        let line_end = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if line_end {
            hiding = false;
        } else if c == ':' && !hiding {
            hiding = true;
            out.push_str(":x");
            continue;
        }
        if !hiding {
            out.push(c);
        }
    }
    out
}

/// The ACL getACL returns to a caller with READ but not ADMIN: every `digest` id's hash
/// replaced by `x` (`user:x`), other entries unchanged.
pub fn redact_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| {
            if a.id.scheme == digest::SCHEME {
                Acl {
                    perms: a.perms,
                    id: Id {
                        scheme: a.id.scheme.clone(),
                        id: redact(&a.id.id),
                    },
                }
            } else {
                a.clone()
            }
        })
        .collect()
}

/// The `whoAmI` answer: (scheme, user) per identity; the user is the id, the part
/// before `:` for `digest`, and empty for a scheme the server does not know (`super`).
pub fn who_am_i(auth: &AuthInfo, policy: &AclPolicy) -> Vec<(String, String)> {
    auth.java_order()
        .into_iter()
        .map(|id| {
            let user = match policy.provider(&id.scheme) {
                None => "",
                Some(Provider::Digest) => digest::user_name(&id.id),
                Some(_) => id.id.as_str(),
            };
            (id.scheme.clone(), user.to_owned())
        })
        .collect()
}

#[cfg(test)]
#[path = "acl_tests.rs"]
mod tests;
