//! The `ip` ACL scheme: matching a peer address against `addr` or `addr/bits`.
//!
//! Owns: the parsing of `ip` ACL ids and peer identities into bytes, the CIDR mask, and
//! [`matches()`] / [`is_valid`] with ZooKeeper's `IPAuthenticationProvider` rules:
//! - IPv4 is four dot-separated decimal parts, each parsed as Java's `Integer.parseInt`
//!   does (an optional sign, leading zeros allowed) and in 0..=255;
//! - IPv6 follows ZooKeeper's IPv6 support (ZOOKEEPER-4240): eight colon-separated hex
//!   groups of at most four characters, or one `::` with fewer than eight explicit groups;
//!   no embedded IPv4 part, no zone;
//! - a string with a `:` is read as IPv6, else one with a `.` as IPv4, else it is invalid;
//! - the prefix length is a Java `int` in `0..=8 * address length`;
//! - an IPv4 rule never matches an IPv6 peer and the other way round.
//!
//! ZooKeeper 3.8 releases read IPv4 only (an IPv6 `ip` ACL is `InvalidACL` there); this
//! module accepts both, as the issue asks and as ZooKeeper's later IPv6 support does.
//! Java's `parseInt` also accepts non-ASCII Unicode digits; here only ASCII digits count.
//!
//! Must never: resolve names or touch the network; panic on any input.

/// An address as bytes: 4 for IPv4, 16 for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Addr {
    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Addr::V4(b) => b,
            Addr::V6(b) => b,
        }
    }

    fn bits(&self) -> i32 {
        match self {
            Addr::V4(_) => 32,
            Addr::V6(_) => 128,
        }
    }
}

/// Java's `Integer.parseInt(s, radix)` over ASCII: an optional `+` or `-`, then at least
/// one digit of the radix, the value within `i32`.
pub(crate) fn java_parse_int(s: &str, radix: u32) -> Option<i32> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars() {
        value = value * i64::from(radix) + i64::from(c.to_digit(radix)?);
        if value > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    let value = if negative { -value } else { value };
    i32::try_from(value).ok()
}

fn parse_v4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for slot in out.iter_mut() {
        let v = java_parse_int(parts.next()?, 10)?;
        *slot = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn parse_v6_groups(groups: &str, out: &mut [u8], start: usize) -> Option<()> {
    let mut i = start;
    for g in groups.split(':') {
        if g.is_empty() || g.len() > 4 {
            return None;
        }
        let v = java_parse_int(g, 16)?;
        out[i] = (v >> 8) as u8;
        out[i + 1] = v as u8;
        i += 2;
    }
    Some(())
}

fn parse_v6(s: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let parts: Vec<&str> = s.split("::").collect();
    match parts.as_slice() {
        [full] => {
            if full.split(':').count() != 8 {
                return None;
            }
            parse_v6_groups(full, &mut out, 0)?;
        }
        [head, tail] => {
            let count = |p: &str| {
                if p.is_empty() {
                    0
                } else {
                    p.split(':').count()
                }
            };
            let (h, t) = (count(head), count(tail));
            if h + t >= 8 {
                return None;
            }
            if h > 0 {
                parse_v6_groups(head, &mut out, 0)?;
            }
            if t > 0 {
                parse_v6_groups(tail, &mut out, 16 - 2 * t)?;
            }
        }
        _ => return None,
    }
    Some(out)
}

fn parse_addr(s: &str) -> Option<Addr> {
    if s.contains(':') {
        parse_v6(s).map(Addr::V6)
    } else if s.contains('.') {
        parse_v4(s).map(Addr::V4)
    } else {
        None
    }
}

/// Clears every bit of `b` after the first `bits` (`0 <= bits <= 8 * b.len()`).
fn mask(b: &mut [u8], bits: i32) {
    let bits = bits as usize;
    let first = bits / 8;
    if first < b.len() {
        b[first] &= !(0xffu8.checked_shr((bits % 8) as u32).unwrap_or(0));
        for x in &mut b[first + 1..] {
            *x = 0;
        }
    }
}

/// Splits an ACL id into its address and prefix length (the full length without `/`).
fn parse_rule(acl_id: &str) -> Option<(Addr, i32)> {
    let mut parts = acl_id.splitn(2, '/');
    let addr = parse_addr(parts.next().unwrap_or(""))?;
    let bits = match parts.next() {
        None => addr.bits(),
        Some(b) => java_parse_int(b, 10)?,
    };
    (0..=addr.bits()).contains(&bits).then_some((addr, bits))
}

/// Whether `acl_id` is a valid `ip` ACL id (`addr` or `addr/bits`).
pub fn is_valid(acl_id: &str) -> bool {
    parse_rule(acl_id).is_some()
}

/// Whether the peer identity `peer` (an address as [`super::AuthInfo`] formats it)
/// falls within the `ip` ACL id `acl_id`.
pub fn matches(peer: &str, acl_id: &str) -> bool {
    let Some((mut rule, bits)) = parse_rule(acl_id) else {
        return false;
    };
    let Some(mut addr) = parse_addr(peer) else {
        return false;
    };
    if std::mem::discriminant(&rule) != std::mem::discriminant(&addr) {
        return false;
    }
    mask(rule.bytes_mut(), bits);
    mask(addr.bytes_mut(), bits);
    rule == addr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_ipv4_matches_only_itself() {
        assert!(matches("10.1.2.3", "10.1.2.3"));
        assert!(!matches("10.1.2.4", "10.1.2.3"));
    }

    #[test]
    fn ipv4_cidr_matches_the_range() {
        assert!(matches("192.168.7.200", "192.168.0.0/16"));
        assert!(!matches("192.169.0.1", "192.168.0.0/16"));
        assert!(matches("10.0.0.129", "10.0.0.128/25"));
        assert!(!matches("10.0.0.127", "10.0.0.128/25"));
        assert!(matches("1.2.3.4", "9.9.9.9/0"));
        assert!(matches("1.2.3.4", "1.2.3.4/32"));
    }

    #[test]
    fn rule_host_bits_are_ignored_as_zookeeper_masks_both_sides() {
        assert!(matches("10.1.200.7", "10.1.2.3/16"));
    }

    #[test]
    fn ipv4_parts_read_like_java_parse_int() {
        assert!(matches("10.0.0.1", "010.+0.-0.001"));
        assert!(is_valid("+1.2.3.4/+8"));
    }

    #[test]
    fn bad_ipv4_ids_are_invalid() {
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.256",
            "1.2.3.-1",
            "1.2.3.x",
            "1.2.3.",
            "1..2.3",
            "localhost",
            "1.2.3.4/",
            "1.2.3.4/33",
            "1.2.3.4/-1",
            "1.2.3.4/8/8",
            "1.2.3.4/x",
            "1.2.3.4/99999999999",
            "1.2.3.4 ",
            "+",
            "1.2.3.+",
        ] {
            assert!(!is_valid(bad), "{bad:?} accepted");
            assert!(!matches("1.2.3.4", bad), "{bad:?} matched");
        }
    }

    #[test]
    fn ipv6_full_and_compressed_forms_match() {
        assert!(matches("0:0:0:0:0:0:0:1", "::1"));
        assert!(matches("::1", "0:0:0:0:0:0:0:1"));
        assert!(matches("fe80:0:0:0:1:2:3:4", "fe80::/10"));
        assert!(!matches("fec0:0:0:0:1:2:3:4", "fe80::/10"));
        assert!(matches("2001:db8:0:0:0:0:0:5", "2001:DB8::/32"));
        assert!(matches("1:0:0:0:0:0:0:0", "1::"));
        assert!(matches("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128"));
    }

    #[test]
    fn bad_ipv6_ids_are_invalid() {
        for bad in [
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "1:2:3:4::5:6:7:8",
            "12345::",
            ":::",
            "1:::2",
            "::g",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "::1/129",
            "::1/-1",
            ":",
            "1:2:3:4:5:6:7:",
        ] {
            assert!(!is_valid(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn ipv4_rules_never_match_ipv6_peers() {
        assert!(!matches("0:0:0:0:0:0:0:0", "0.0.0.0/0"));
        assert!(!matches("127.0.0.1", "::/0"));
    }

    #[test]
    fn unparsable_peer_never_matches() {
        assert!(!matches("", "0.0.0.0/0"));
        assert!(!matches("host", "0.0.0.0/0"));
    }

    #[test]
    fn java_parse_int_bounds() {
        assert_eq!(java_parse_int("2147483647", 10), Some(i32::MAX));
        assert_eq!(java_parse_int("-2147483648", 10), Some(i32::MIN));
        assert_eq!(java_parse_int("2147483648", 10), None);
        assert_eq!(java_parse_int("-", 10), None);
        assert_eq!(java_parse_int("ffff", 16), Some(0xffff));
        assert_eq!(java_parse_int("1 ", 10), None);
    }
}
