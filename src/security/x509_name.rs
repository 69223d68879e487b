//! The `x509` identity: a certificate subject as Java's `X500Principal.getName()` writes
//! it (RFC 2253), and the check ZooKeeper makes on an `x509` ACL id
//! (`new X500Principal(id)` parses).
//!
//! Owns: [`subject_name`] (DER certificate to identity string) and [`is_valid_dn`].
//!
//! The format, from the JDK's RFC 2253 writer: RDNs from last to first joined by `,`,
//! values of one RDN joined by `+` in encoded order; the types CN, C, L, ST, O, OU,
//! STREET, DC and UID by name, every other type as a dotted OID whose value is `#` and
//! the lowercase hex of its DER encoding; string values (UTF8, Printable, IA5, T61,
//! General, BMP) with `,=+<>#;"\` escaped by `\`, NUL written `\00`, leading and trailing
//! spaces and carriage returns escaped; values of any other ASN.1 type as `#` hex too.
//!
//! Must never: verify a certificate (rustls does that in the handshake); panic on any
//! input.

use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

/// Why a certificate yields no identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectError {
    /// The bytes are not a DER X.509 certificate.
    BadCertificate,
}

impl std::fmt::Display for SubjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a DER X.509 certificate")
    }
}

impl std::error::Error for SubjectError {}

const RFC2253_KEYWORDS: [(&str, &str); 9] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

/// Types `new X500Principal(String)` knows by name.
const PARSE_KEYWORDS: [&str; 21] = [
    "CN",
    "C",
    "L",
    "S",
    "ST",
    "O",
    "OU",
    "T",
    "IP",
    "STREET",
    "DC",
    "DNQUALIFIER",
    "DNQ",
    "SURNAME",
    "GIVENNAME",
    "INITIALS",
    "GENERATION",
    "EMAIL",
    "EMAILADDRESS",
    "UID",
    "SERIALNUMBER",
];

/// The subject of a DER certificate as ZooKeeper's `X509AuthenticationProvider` names
/// the client.
pub fn subject_name(cert_der: &[u8]) -> Result<String, SubjectError> {
    let (_, cert) =
        X509Certificate::from_der(cert_der).map_err(|_| SubjectError::BadCertificate)?;
    Ok(rfc2253(cert.subject()))
}

/// A name in Java's RFC 2253 form.
pub fn rfc2253(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|ava| {
                    let oid = ava.attr_type().to_id_string();
                    let value = ava.attr_value();
                    let keyword = RFC2253_KEYWORDS
                        .iter()
                        .find(|(o, _)| *o == oid)
                        .map(|(_, k)| *k);
                    let text = keyword.and_then(|_| der_string(value.tag().0, value.data));
                    match (keyword, text) {
                        (Some(k), Some(t)) => format!("{k}={}", escape(&t)),
                        (k, _) => {
                            let der = der_encode(value);
                            format!("{}=#{}", k.map_or(oid.clone(), str::to_owned), hex(&der))
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// The text of a string-typed value, as the JDK decodes it (`None`: not a string type
/// the RFC 2253 writer prints as text).
fn der_string(tag: u32, data: &[u8]) -> Option<String> {
    let ascii = |b: &[u8]| {
        b.iter()
            .map(|&c| if c < 0x80 { c as char } else { '\u{fffd}' })
            .collect::<String>()
    };
    match tag {
        12 => Some(String::from_utf8_lossy(data).into_owned()),
        19 | 22 | 27 => Some(ascii(data)),
        20 => Some(data.iter().map(|&c| c as char).collect()),
        30 => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

fn escape(value: &str) -> String {
    const SPECIAL: &str = ",=+<>#;\"\\";
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        if SPECIAL.contains(c) {
            s.push('\\');
            s.push(c);
        } else if c == '\0' {
            s.push_str("\\00");
        } else {
            s.push(c);
        }
    }
    let chars: Vec<char> = s.chars().collect();
    let blank = |c: &char| *c == ' ' || *c == '\r';
    let lead = chars.iter().take_while(|c| blank(c)).count();
    let trail = chars.len() - chars.iter().rev().take_while(|c| blank(c)).count();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in chars.into_iter().enumerate() {
        if i < lead || i >= trail.max(lead) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn der_encode(value: &x509_parser::der_parser::asn1_rs::Any<'_>) -> Vec<u8> {
    let class = value.class() as u8;
    let constructed = u8::from(value.header.is_constructed());
    let tag = value.tag().0;
    let mut out = Vec::with_capacity(value.data.len() + 6);
    let first = (class << 6) | (constructed << 5);
    if tag < 31 {
        out.push(first | tag as u8);
    } else {
        out.push(first | 31);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7f) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().enumerate().rev() {
            out.push(if i > 0 { g | 0x80 } else { *g });
        }
    }
    let len = value.data.len();
    if len < 128 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value.data);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits at unescaped, unquoted separators.
fn split_unquoted<'a>(s: &'a str, seps: &[char]) -> Option<Vec<&'a str>> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted && seps.contains(&c) {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    if quoted || escaped {
        return None;
    }
    parts.push(&s[start..]);
    Some(parts)
}

fn valid_type(t: &str) -> bool {
    let t = t.trim();
    let oid = t
        .strip_prefix("OID.")
        .or_else(|| t.strip_prefix("oid."))
        .unwrap_or(t);
    let is_oid = oid.split('.').count() >= 2
        && oid
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    is_oid || PARSE_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(t))
}

fn valid_value(v: &str) -> bool {
    let v = v.trim_start();
    if let Some(h) = v.strip_prefix('#') {
        let h = h.trim_end();
        return !h.is_empty() && h.len() % 2 == 0 && h.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(q) = v.strip_prefix('"') {
        let q = q.trim_end();
        return q.ends_with('"') && !q.ends_with("\\\"");
    }
    true
}

/// Whether `id` parses as a distinguished name (RFC 2253 or RFC 1779 syntax: `,` or `;`
/// between RDNs, `+` inside one, known type names or dotted OIDs, quoted, hex or escaped
/// values). The empty name is valid.
pub fn is_valid_dn(id: &str) -> bool {
    if id.trim().is_empty() {
        return true;
    }
    let Some(avas) = split_unquoted(id, &[',', ';', '+']) else {
        return false;
    };
    avas.iter().all(|ava| match split_unquoted(ava, &['=']) {
        Some(parts) if parts.len() >= 2 => {
            let (t, rest) = ava.split_once('=').unwrap_or_default();
            valid_type(t) && valid_value(rest)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_jdk() {
        assert_eq!(escape("a,b"), "a\\,b");
        assert_eq!(escape("#x+y=z"), "\\#x\\+y\\=z");
        assert_eq!(escape(" lead"), "\\ lead");
        assert_eq!(escape("trail "), "trail\\ ");
        assert_eq!(escape("  "), "\\ \\ ");
        assert_eq!(escape("nul\0"), "nul\\00");
        assert_eq!(escape("é ok"), "é ok");
    }

    #[test]
    fn valid_dns() {
        for ok in [
            "",
            "CN=client",
            "CN=client,O=zk,C=US",
            "cn=a; o=b",
            "CN=a+UID=7,DC=example",
            "OID.2.5.4.3=x",
            "2.5.4.3=#0c0161",
            "CN=\"quoted, with comma\"",
            "CN=esc\\,aped",
            "EMAILADDRESS=a@b.c",
            "CN=",
        ] {
            assert!(is_valid_dn(ok), "{ok:?} refused");
        }
    }

    #[test]
    fn invalid_dns() {
        for bad in [
            "CN",
            "=x",
            "NOSUCH=x",
            "CN=a,,O=b",
            "CN=\"open",
            "CN=a\\",
            "2.5.4.3=#0",
            "2.5.4.3=#zz",
            "1=x",
            "CN=a,",
        ] {
            assert!(!is_valid_dn(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert_eq!(subject_name(b"not der"), Err(SubjectError::BadCertificate));
        assert_eq!(subject_name(&[]), Err(SubjectError::BadCertificate));
    }

    #[test]
    fn long_tag_and_length_encode_like_der() {
        use x509_parser::der_parser::asn1_rs::{Any, Class, Header, Length, Tag};
        let data = vec![7u8; 200];
        let any = Any::new(
            Header::new(
                Class::ContextSpecific,
                false,
                Tag(40),
                Length::Definite(200),
            ),
            &data,
        );
        let der = der_encode(&any);
        assert_eq!(&der[..5], &[0x9f, 40, 0x81, 200, 7]);
        assert_eq!(der.len(), 4 + 200);
    }
}
