//! Connection strings: `host[:port][,host[:port]...][/chroot]` (`ConnectStringParser`).
//!
//! Owns: parsing a connection string into unresolved [`HostAddr`]s and an optional
//! chroot, with a typed [`ConnectStringError`] for every form ZooKeeper refuses.
//!
//! Must never: resolve names or open sockets; addresses stay unresolved until the
//! connection layer dials them.

use crate::wire::path::{validate as validate_path, PathError};

/// ZooKeeper's default client port.
pub const DEFAULT_PORT: u16 = 2181;

/// An unresolved server address: a host name or IP literal (IPv6 without brackets) and a
/// port. Equality ignores the case of the host, as Java's unresolved addresses do.
#[derive(Debug, Clone, Eq)]
pub struct HostAddr {
    /// Host name or IP literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl HostAddr {
    /// An address from its parts.
    pub fn new(host: impl Into<String>, port: u16) -> HostAddr {
        HostAddr {
            host: host.into(),
            port,
        }
    }
}

impl PartialEq for HostAddr {
    fn eq(&self, other: &HostAddr) -> bool {
        self.port == other.port && self.host.eq_ignore_ascii_case(&other.host)
    }
}

impl std::fmt::Display for HostAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A parsed connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectString {
    /// The servers, in the order written (the host provider shuffles them).
    pub hosts: Vec<HostAddr>,
    /// The chroot, if any (never `/` itself: a bare `/` means no chroot).
    pub chroot: Option<String>,
}

/// Why a connection string is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectStringError {
    /// The string is empty or only whitespace.
    Blank,
    /// No host remains once empty entries are dropped.
    NoHosts,
    /// A `dns-srv://` string; SRV discovery is not supported.
    DnsSrvUnsupported,
    /// An entry has a port but no host (`:2181`).
    EmptyHost {
        /// The entry as written.
        entry: String,
    },
    /// An entry starts with `[` without a matching `]`.
    UnclosedBracket {
        /// The entry as written.
        entry: String,
    },
    /// `[]`: the bracketed IPv6 address is empty.
    EmptyIpv6 {
        /// The entry as written.
        entry: String,
    },
    /// Something other than `:port` follows `]`.
    ExpectedPortAfterBracket {
        /// The entry as written.
        entry: String,
    },
    /// An IPv6 literal without brackets (the port would be ambiguous).
    UnbracketedIpv6 {
        /// The entry as written.
        entry: String,
    },
    /// `[addr]:` with nothing after the colon.
    EmptyPort {
        /// The entry as written.
        entry: String,
    },
    /// The port is not a number in 1..=65535.
    BadPort {
        /// The entry as written.
        entry: String,
    },
    /// The chroot is not a valid ZooKeeper path.
    BadChroot {
        /// The chroot as written.
        chroot: String,
        /// Why it is refused.
        reason: PathError,
    },
}

impl std::fmt::Display for ConnectStringError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use ConnectStringError::*;
        match self {
            Blank => write!(f, "connect string cannot be null or empty"),
            NoHosts => write!(f, "a host provider may not be empty"),
            DnsSrvUnsupported => write!(f, "dns-srv:// connect strings are not supported"),
            EmptyHost { entry } => write!(f, "empty host in {entry:?}"),
            UnclosedBracket { entry } => write!(f, "IPv6 address not closed by ] in {entry:?}"),
            EmptyIpv6 { entry } => write!(f, "empty IPv6 address in {entry:?}"),
            ExpectedPortAfterBracket { entry } => {
                write!(f, "expected :port after ] in {entry:?}")
            }
            UnbracketedIpv6 { entry } => {
                write!(f, "IPv6 address must be in brackets in {entry:?}")
            }
            EmptyPort { entry } => write!(f, "empty port in {entry:?}"),
            BadPort { entry } => write!(f, "bad port in {entry:?}"),
            BadChroot { chroot, reason } => write!(f, "bad chroot {chroot:?}: {reason}"),
        }
    }
}

impl std::error::Error for ConnectStringError {}

impl std::str::FromStr for ConnectString {
    type Err = ConnectStringError;
    fn from_str(s: &str) -> Result<ConnectString, ConnectStringError> {
        parse(s)
    }
}

/// Parses a connection string.
pub fn parse(s: &str) -> Result<ConnectString, ConnectStringError> {
    if s.trim().is_empty() {
        return Err(ConnectStringError::Blank);
    }
    if s.trim_start().starts_with("dns-srv://") {
        return Err(ConnectStringError::DnsSrvUnsupported);
    }
    let (host_part, chroot) = match s.find('/') {
        None => (s, None),
        Some(i) => {
            let chroot = &s[i..];
            if chroot == "/" {
                (&s[..i], None)
            } else {
                validate_path(chroot).map_err(|reason| ConnectStringError::BadChroot {
                    chroot: chroot.to_string(),
                    reason,
                })?;
                (&s[..i], Some(chroot.to_string()))
            }
        }
    };
    let mut hosts = Vec::new();
    for entry in host_part.split(',') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        hosts.push(parse_host(entry)?);
    }
    if hosts.is_empty() {
        return Err(ConnectStringError::NoHosts);
    }
    Ok(ConnectString { hosts, chroot })
}

fn parse_port(entry: &str, port: &str) -> Result<u16, ConnectStringError> {
    let bad = || ConnectStringError::BadPort {
        entry: entry.to_string(),
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(p) => Ok(p),
    }
}

fn parse_host(entry: &str) -> Result<HostAddr, ConnectStringError> {
    let owned = || entry.to_string();
    if let Some(rest) = entry.strip_prefix('[') {
        let close = rest
            .find(']')
            .ok_or_else(|| ConnectStringError::UnclosedBracket { entry: owned() })?;
        let host = &rest[..close];
        if host.is_empty() {
            return Err(ConnectStringError::EmptyIpv6 { entry: owned() });
        }
        let after = &rest[close + 1..];
        let port = if after.is_empty() {
            DEFAULT_PORT
        } else if let Some(p) = after.strip_prefix(':') {
            if p.is_empty() {
                return Err(ConnectStringError::EmptyPort { entry: owned() });
            }
            parse_port(entry, p)?
        } else {
            return Err(ConnectStringError::ExpectedPortAfterBracket { entry: owned() });
        };
        return Ok(HostAddr::new(host, port));
    }
    let (host, port) = match entry.rfind(':') {
        None => (entry, DEFAULT_PORT),
        Some(i) => {
            let p = &entry[i + 1..];
            let port = if p.is_empty() {
                DEFAULT_PORT
            } else {
                parse_port(entry, p)?
            };
            (&entry[..i], port)
        }
    };
    if host.contains(':') {
        return Err(ConnectStringError::UnbracketedIpv6 { entry: owned() });
    }
    if host.is_empty() {
        return Err(ConnectStringError::EmptyHost { entry: owned() });
    }
    Ok(HostAddr::new(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectStringError as E;

    fn hosts(s: &str) -> Vec<(String, u16)> {
        parse(s)
            .unwrap()
            .hosts
            .into_iter()
            .map(|h| (h.host, h.port))
            .collect()
    }

    #[test]
    fn single_host_gets_default_port() {
        assert_eq!(hosts("zk1"), vec![("zk1".into(), 2181)]);
    }

    #[test]
    fn trailing_colon_means_default_port() {
        assert_eq!(hosts("zk1:"), vec![("zk1".into(), 2181)]);
    }

    #[test]
    fn host_list_with_ports_keeps_order() {
        assert_eq!(
            hosts("a:1,b:2,c"),
            vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 2181)]
        );
    }

    #[test]
    fn entries_are_trimmed_and_empty_entries_dropped() {
        assert_eq!(
            hosts(" a:1 ,, b:2 ,"),
            vec![("a".into(), 1), ("b".into(), 2)]
        );
    }

    #[test]
    fn chroot_is_everything_from_the_first_slash() {
        let cs = parse("10.10.10.1/hallo/welt").unwrap();
        assert_eq!(cs.chroot.as_deref(), Some("/hallo/welt"));
        assert_eq!(cs.hosts, vec![HostAddr::new("10.10.10.1", 2181)]);
        let cs = parse("h1:2181,h2:2182/app/a").unwrap();
        assert_eq!(cs.chroot.as_deref(), Some("/app/a"));
        assert_eq!(cs.hosts.len(), 2);
    }

    #[test]
    fn bare_slash_means_no_chroot() {
        assert_eq!(parse("h:1/").unwrap().chroot, None);
    }

    #[test]
    fn bracketed_ipv6_with_and_without_port() {
        assert_eq!(
            hosts("[2001:db8:1::242:ac11:2]:2181,[2001:db8:85a3:8d3:1319:8a2e:370:7348]:5678/hallo/welt"),
            vec![
                ("2001:db8:1::242:ac11:2".into(), 2181),
                ("2001:db8:85a3:8d3:1319:8a2e:370:7348".into(), 5678)
            ]
        );
        assert_eq!(
            hosts("[127::1],127.0.10.2"),
            vec![("127::1".into(), 2181), ("127.0.10.2".into(), 2181)]
        );
    }

    #[test]
    fn display_brackets_ipv6() {
        assert_eq!(HostAddr::new("::1", 5).to_string(), "[::1]:5");
        assert_eq!(HostAddr::new("h", 5).to_string(), "h:5");
    }

    #[test]
    fn host_comparison_ignores_case() {
        assert_eq!(
            HostAddr::new("ZK.example", 1),
            HostAddr::new("zk.EXAMPLE", 1)
        );
        assert_ne!(HostAddr::new("zk", 1), HostAddr::new("zk", 2));
    }

    #[test]
    fn blank_string_is_refused() {
        assert_eq!(parse(""), Err(E::Blank));
        assert_eq!(parse("  \t"), Err(E::Blank));
    }

    #[test]
    fn string_without_hosts_is_refused() {
        assert_eq!(parse(",,"), Err(E::NoHosts));
        assert_eq!(parse("/app"), Err(E::NoHosts));
    }

    #[test]
    fn dns_srv_is_refused() {
        assert_eq!(parse("dns-srv://zk.myapp.com/"), Err(E::DnsSrvUnsupported));
    }

    #[test]
    fn empty_host_is_refused() {
        assert_eq!(
            parse(":2181"),
            Err(E::EmptyHost {
                entry: ":2181".into()
            })
        );
        assert!(matches!(parse("a:1,:2"), Err(E::EmptyHost { .. })));
    }

    #[test]
    fn unclosed_bracket_is_refused() {
        assert!(matches!(parse("[::1:2181"), Err(E::UnclosedBracket { .. })));
    }

    #[test]
    fn empty_brackets_are_refused() {
        assert!(matches!(parse("[]:2181"), Err(E::EmptyIpv6 { .. })));
    }

    #[test]
    fn junk_after_bracket_is_refused() {
        assert!(matches!(
            parse("[::1]2181"),
            Err(E::ExpectedPortAfterBracket { .. })
        ));
    }

    #[test]
    fn bracket_colon_without_port_is_refused() {
        assert!(matches!(parse("[::1]:"), Err(E::EmptyPort { .. })));
    }

    #[test]
    fn unbracketed_ipv6_is_refused() {
        assert!(matches!(parse("::1"), Err(E::UnbracketedIpv6 { .. })));
        assert!(matches!(
            parse("fe80::1:2181"),
            Err(E::UnbracketedIpv6 { .. })
        ));
    }

    #[test]
    fn bad_ports_are_refused() {
        for s in [
            "h:x",
            "h:-1",
            "h:+1",
            "h:65536",
            "h:0",
            "h:99999999999",
            "[::1]:abc",
            "h: 1",
        ] {
            assert!(matches!(parse(s), Err(E::BadPort { .. })), "{s}");
        }
        assert_eq!(hosts("h:65535"), vec![("h".into(), 65535)]);
    }

    #[test]
    fn bad_chroots_are_refused_with_the_reason() {
        let cases = [
            ("h/a/", PathError::TrailingSlash),
            ("h/a//b", PathError::EmptySegment { index: 3 }),
            ("h/a/..", PathError::RelativeSegment { index: 4 }),
            ("h/./a", PathError::RelativeSegment { index: 1 }),
            (
                "h/a\u{1}",
                PathError::InvalidChar {
                    index: 2,
                    ch: '\u{1}',
                },
            ),
            ("h/a\0", PathError::NulChar { index: 2 }),
        ];
        for (s, reason) in cases {
            match parse(s) {
                Err(E::BadChroot { reason: r, .. }) => assert_eq!(r, reason, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn from_str_parses() {
        let cs: ConnectString = "a:1/x".parse().unwrap();
        assert_eq!(cs.chroot.as_deref(), Some("/x"));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn host() -> impl Strategy<Value = (String, bool)> {
            prop_oneof![
                "[a-z][a-z0-9.-]{0,20}".prop_map(|h| (h, false)),
                (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
                    .prop_map(|(a, b, c, d)| (format!("{a}.{b}.{c}.{d}"), false)),
                "[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7}".prop_map(|h| (h, true)),
            ]
        }

        proptest! {
            #[test]
            fn written_strings_parse_back(
                hosts in prop::collection::vec((host(), prop::option::of(1u16..=65535)), 1..6),
                chroot in prop::option::of("(/[a-z0-9_]{1,8}){1,3}"),
            ) {
                let mut s = String::new();
                let mut want = Vec::new();
                for (i, ((h, v6), port)) in hosts.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    if *v6 {
                        s.push_str(&format!("[{h}]"));
                    } else {
                        s.push_str(h);
                    }
                    if let Some(p) = port {
                        s.push_str(&format!(":{p}"));
                    }
                    want.push(HostAddr::new(h.clone(), port.unwrap_or(DEFAULT_PORT)));
                }
                if let Some(c) = &chroot {
                    s.push_str(c);
                }
                let cs = parse(&s).unwrap();
                prop_assert_eq!(cs.hosts, want);
                prop_assert_eq!(cs.chroot, chroot);
            }

            #[test]
            fn arbitrary_input_parses_to_hosts_or_a_typed_error(s in ".{0,64}") {
                // Never panics; a success always has a host and a valid chroot.
                if let Ok(cs) = parse(&s) {
                    prop_assert!(!cs.hosts.is_empty());
                    if let Some(c) = &cs.chroot {
                        prop_assert_eq!(validate_path(c), Ok(()));
                    }
                }
            }

            #[test]
            fn display_round_trips(h in host(), port in 1u16..=65535) {
                let addr = HostAddr::new(h.0, port);
                let cs = parse(&addr.to_string()).unwrap();
                prop_assert_eq!(cs.hosts, vec![addr]);
            }
        }
    }
}
