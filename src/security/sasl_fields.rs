//! The `key=value,key="quoted"` lists of DIGEST-MD5 (RFC 2831 section 7.1).
//!
//! Owns: [`parse`], which splits a client response into directives, and [`quote`],
//! which writes a quoted value.
//!
//! Invariants: a directive name appears at most once (the server refuses repeats);
//! quoted values have their `\` escapes removed.
//!
//! Must never: interpret the values; `sasl` does.

/// Why a directive list is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsError {
    /// Not `name=value` pairs separated by commas, or an unterminated quote.
    Syntax,
    /// A directive appears twice.
    Duplicate,
    /// Not UTF-8.
    Encoding,
}

/// Splits `bytes` into (lowercased name, value) pairs.
pub fn parse(bytes: &[u8]) -> Result<Vec<(String, String)>, FieldsError> {
    let text = std::str::from_utf8(bytes).map_err(|_| FieldsError::Encoding)?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n', ',']);
        if rest.is_empty() {
            return Ok(out);
        }
        let eq = rest.find('=').ok_or(FieldsError::Syntax)?;
        let name = rest[..eq].trim().to_ascii_lowercase();
        if name.is_empty() || name.contains([',', '"', ' ']) {
            return Err(FieldsError::Syntax);
        }
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err(FieldsError::Syntax),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        None => return Err(FieldsError::Syntax),
                        Some((_, c)) => v.push(c),
                    },
                    Some((_, c)) => v.push(c),
                }
            };
            value = v;
            rest = q[end + 1..].trim_start();
            if !(rest.is_empty() || rest.starts_with(',')) {
                return Err(FieldsError::Syntax);
            }
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(FieldsError::Duplicate);
        }
        out.push((name, value));
    }
}

/// `value` with `"` and `\` escaped, for use inside quotes.
pub fn quote(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_bare_values() {
        let f = parse(br#"username="a\"b",nc=00000001, qop=auth , realm="x,y""#).unwrap();
        assert_eq!(
            f,
            vec![
                ("username".into(), "a\"b".into()),
                ("nc".into(), "00000001".into()),
                ("qop".into(), "auth".into()),
                ("realm".into(), "x,y".into()),
            ]
        );
    }

    #[test]
    fn bad_lists_are_refused() {
        assert_eq!(parse(b"username"), Err(FieldsError::Syntax));
        assert_eq!(parse(b"a=\"open"), Err(FieldsError::Syntax));
        assert_eq!(parse(b"a=\"x\"y"), Err(FieldsError::Syntax));
        assert_eq!(parse(b"=x"), Err(FieldsError::Syntax));
        assert_eq!(parse(b"a=1,A=2"), Err(FieldsError::Duplicate));
        assert_eq!(parse(b"a=\xff"), Err(FieldsError::Encoding));
    }

    #[test]
    fn quote_escapes() {
        assert_eq!(quote(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
