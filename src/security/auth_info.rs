//! The identities one client connection holds.
//!
//! Owns: [`AuthInfo`], the set of [`Id`]s a connection has proved (ZooKeeper's
//! `ServerCnxn.authInfo`): the `ip` identity of the peer, given when the connection is
//! accepted; every `digest` identity added by `addauth`; the `sasl` identity after a SASL
//! exchange; the `x509` identity of a TLS client certificate; and `super:` when one of
//! them is the configured super user.
//!
//! Invariants: no identity appears twice (ZooKeeper keeps a set); identities are kept in
//! the order they were added, so answers are deterministic (ZooKeeper's set has hash
//! order); identities are only ever added, never removed, for the connection's lifetime.
//!
//! Must never: check passwords or certificates itself; the `digest`, `sasl` and `tls`
//! modules decide what is proved and this type only records it.

use std::net::IpAddr;

use crate::wire::Id;

/// The scheme of the identity that bypasses every ACL check.
pub const SUPER_SCHEME: &str = "super";

/// The identities of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthInfo {
    ids: Vec<Id>,
}

/// An address as Java's `InetAddress.getHostAddress` writes it, which is the `ip`
/// identity ZooKeeper gives a connection: dotted decimal for IPv4 (an IPv4-mapped IPv6
/// peer counts as IPv4, as Java reports it), and for IPv6 eight lowercase hex groups
/// without leading zeros and without `::` compression.
pub fn java_host_address(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6
                .segments()
                .iter()
                .map(|g| format!("{g:x}"))
                .collect::<Vec<_>>()
                .join(":"),
        },
    }
}

/// Java's `String.hashCode` (over UTF-16 code units, wrapping).
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The bucket of `id` (jute's `Id.hashCode`) in a `ConcurrentHashMap` table of `cap`.
fn java_bucket(id: &Id, cap: usize) -> usize {
    let h = 17i32
        .wrapping_mul(37)
        .wrapping_add(java_string_hash(&id.scheme))
        .wrapping_mul(37)
        .wrapping_add(java_string_hash(&id.id));
    // ConcurrentHashMap.spread
    let spread = (h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff;
    spread as usize & (cap - 1)
}

impl AuthInfo {
    /// No identities at all (internal requests; tests).
    pub fn new() -> Self {
        AuthInfo::default()
    }

    /// The identities of a freshly accepted connection: only `ip:<peer address>`.
    pub fn for_peer(addr: IpAddr) -> Self {
        let mut info = AuthInfo::new();
        info.add(Id {
            scheme: "ip".to_owned(),
            id: java_host_address(addr),
        });
        info
    }

    /// Adds an identity; false when the connection already had it.
    pub fn add(&mut self, id: Id) -> bool {
        if self.ids.contains(&id) {
            return false;
        }
        self.ids.push(id);
        true
    }

    /// Marks the connection as a super user (ZooKeeper adds the id `super:<name>`).
    pub fn add_super(&mut self, name: &str) -> bool {
        self.add(Id {
            scheme: SUPER_SCHEME.to_owned(),
            id: name.to_owned(),
        })
    }

    /// Every identity, in the order added.
    pub fn ids(&self) -> &[Id] {
        &self.ids
    }

    /// The identities in the order ZooKeeper lists a connection's identities (where it
    /// expands an `auth` ACL entry and answers whoAmI): its set is a Java
    /// `ConcurrentHashMap` key set, iterated by hash bucket. Identities sharing a bucket
    /// keep the order they were added (Java's order too while the table never grew past a
    /// bucket's first split).
    pub fn java_order(&self) -> Vec<&Id> {
        let mut cap = 16usize;
        // ConcurrentHashMap doubles its table once it holds 3/4 of its capacity.
        while self.ids.len() >= cap - cap / 4 {
            cap *= 2;
        }
        let mut order: Vec<(usize, usize, &Id)> = self
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (java_bucket(id, cap), i, id))
            .collect();
        order.sort_unstable_by_key(|&(bucket, i, _)| (bucket, i));
        order.into_iter().map(|(_, _, id)| id).collect()
    }

    /// Whether one identity is of `scheme` (for `enforce.auth.schemes`).
    pub fn has_scheme(&self, scheme: &str) -> bool {
        self.ids.iter().any(|id| id.scheme == scheme)
    }

    /// Whether the connection bypasses ACL checks.
    pub fn is_super(&self) -> bool {
        self.has_scheme(SUPER_SCHEME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_identity_is_the_java_host_address() {
        let v4 = AuthInfo::for_peer("127.0.0.1".parse().unwrap());
        assert_eq!(
            v4.ids()[0],
            Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into()
            }
        );
        let v6 = AuthInfo::for_peer("::1".parse().unwrap());
        assert_eq!(v6.ids()[0].id, "0:0:0:0:0:0:0:1");
        let v6 = AuthInfo::for_peer("2001:db8::a:bcd".parse().unwrap());
        assert_eq!(v6.ids()[0].id, "2001:db8:0:0:0:0:a:bcd");
        let mapped = AuthInfo::for_peer("::ffff:10.0.0.7".parse().unwrap());
        assert_eq!(mapped.ids()[0].id, "10.0.0.7");
    }

    #[test]
    fn the_same_identity_is_kept_once() {
        let mut info = AuthInfo::new();
        let id = Id {
            scheme: "digest".into(),
            id: "a:b".into(),
        };
        assert!(info.add(id.clone()));
        assert!(!info.add(id));
        assert_eq!(info.ids().len(), 1);
    }

    #[test]
    fn java_hashes_and_order() {
        // Values Java computes: "digest".hashCode() and "ip".hashCode().
        assert_eq!(java_string_hash("digest"), -1331913276);
        assert_eq!(java_string_hash("ip"), 3367);
        let mut info = AuthInfo::for_peer("127.0.0.1".parse().unwrap());
        for id in [
            "alice:V55/p2T0OpjQ+low3NVAH4aLvm0=",
            "bob:DzYBVPYoUPHuiOrAcsz6mJwnG9k=",
        ] {
            info.add(Id {
                scheme: "digest".into(),
                id: id.into(),
            });
        }
        // The order Java's ConcurrentHashMap key set lists these identities in.
        let order: Vec<&str> = info.java_order().iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            order,
            [
                "bob:DzYBVPYoUPHuiOrAcsz6mJwnG9k=",
                "127.0.0.1",
                "alice:V55/p2T0OpjQ+low3NVAH4aLvm0="
            ]
        );
    }

    #[test]
    fn super_is_a_scheme() {
        let mut info = AuthInfo::new();
        assert!(!info.is_super());
        info.add_super("");
        assert!(info.is_super());
        assert!(info.has_scheme("super"));
    }
}
