//! The users a JAAS configuration gives the SASL DIGEST-MD5 server.
//!
//! Owns: the parsing of the JAAS file format ([`JaasConfig`]: `Name { module flag
//! key=value ...; ... };`, quoted strings with `\` escapes, `//` and `/* */` comments)
//! and [`JaasConfig::sasl_users`], which collects, as ZooKeeper's
//! `SaslServerCallbackHandler` does, every option named `user_<name>` of every module of
//! a section (`Server` unless `zookeeper.sasl.serverconfig` names another) into
//! name -> password.
//!
//! Java's `${property}` expansion inside values is not done.
//!
//! Must never: log or print a password (the `Debug` of [`SaslUsers`] shows names only).

use std::collections::HashMap;

/// The section ZooKeeper's server reads by default.
pub const DEFAULT_SERVER_SECTION: &str = "Server";

/// Why a JAAS file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JaasError {
    /// A quoted string or comment runs to the end of the file (from the given line).
    Unterminated {
        /// 1-based line where it starts.
        line: usize,
    },
    /// Something else stands where the grammar needs `expected`.
    Expected {
        /// What the grammar needs.
        expected: &'static str,
        /// 1-based line.
        line: usize,
    },
    /// A module's flag is not required, requisite, sufficient or optional.
    BadFlag {
        /// 1-based line.
        line: usize,
    },
    /// The section is absent ("Server cannot start" in ZooKeeper).
    MissingSection(String),
}

impl std::fmt::Display for JaasError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JaasError::Unterminated { line } => {
                write!(f, "line {line}: unterminated string or comment")
            }
            JaasError::Expected { expected, line } => write!(f, "line {line}: expected {expected}"),
            JaasError::BadFlag { line } => write!(
                f,
                "line {line}: flag must be required, requisite, sufficient or optional"
            ),
            JaasError::MissingSection(s) => write!(f, "no '{s}' section in the JAAS configuration"),
        }
    }
}

impl std::error::Error for JaasError {}

/// One login module line.
#[derive(Clone, PartialEq, Eq)]
pub struct JaasModule {
    /// The module's class name.
    pub class: String,
    /// Its flag, lowercase.
    pub flag: String,
    /// Its options in file order.
    pub options: Vec<(String, String)>,
}

/// A parsed JAAS configuration: sections in file order.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct JaasConfig {
    /// (section name, modules).
    pub sections: Vec<(String, Vec<JaasModule>)>,
}

impl std::fmt::Debug for JaasConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.sections.iter().map(|(n, _)| n))
            .finish()
    }
}

/// DIGEST-MD5 users: name -> password.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SaslUsers(HashMap<String, String>);

impl std::fmt::Debug for SaslUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("SaslUsers").field(&names).finish()
    }
}

impl SaslUsers {
    /// Users from (name, password) pairs.
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        SaslUsers(pairs.into_iter().collect())
    }

    /// The password of `user`.
    pub fn password(&self, user: &str) -> Option<&str> {
        self.0.get(user).map(String::as_str)
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, JaasError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let start = line;
                chars.next();
                let mut prev = ' ';
                loop {
                    let Some(c) = chars.next() else {
                        return Err(JaasError::Unterminated { line: start });
                    };
                    if c == '\n' {
                        line += 1;
                    }
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' | '\'' => {
                let start = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(JaasError::Unterminated { line: start }),
                        Some(q) if q == c => break,
                        Some('\\') => match chars.next() {
                            None => return Err(JaasError::Unterminated { line: start }),
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(e) => s.push(e),
                        },
                        Some('\n') => {
                            line += 1;
                            s.push('\n');
                        }
                        Some(o) => s.push(o),
                    }
                }
                out.push((Tok::Quoted(s), start));
            }
            '{' | '}' | ';' | '=' => out.push((Tok::Punct(c), line)),
            _ => {
                let mut s = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "{};=\"'".contains(n) {
                        break;
                    }
                    s.push(n);
                    chars.next();
                }
                out.push((Tok::Word(s), line));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser {
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.1)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.0.clone());
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn word(&mut self, expected: &'static str) -> Result<String, JaasError> {
        let line = self.line();
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            _ => Err(JaasError::Expected { expected, line }),
        }
    }

    fn punct(&mut self, p: char, expected: &'static str) -> Result<(), JaasError> {
        let line = self.line();
        match self.next() {
            Some(Tok::Punct(c)) if c == p => Ok(()),
            _ => Err(JaasError::Expected { expected, line }),
        }
    }

    fn module(&mut self) -> Result<JaasModule, JaasError> {
        let class = self.word("a login module class")?;
        let line = self.line();
        let flag = self.word("a flag")?.to_ascii_lowercase();
        if !["required", "requisite", "sufficient", "optional"].contains(&flag.as_str()) {
            return Err(JaasError::BadFlag { line });
        }
        let mut options = Vec::new();
        while self.peek() != Some(&Tok::Punct(';')) {
            let key = self.word("an option name or ';'")?;
            self.punct('=', "'=' after an option name")?;
            let line = self.line();
            let value = match self.next() {
                Some(Tok::Quoted(v)) | Some(Tok::Word(v)) => v,
                _ => {
                    return Err(JaasError::Expected {
                        expected: "an option value",
                        line,
                    })
                }
            };
            options.push((key, value));
        }
        self.punct(';', "';'")?;
        Ok(JaasModule {
            class,
            flag,
            options,
        })
    }
}

impl JaasConfig {
    /// Parses a JAAS configuration file's text.
    pub fn parse(text: &str) -> Result<JaasConfig, JaasError> {
        let mut p = Parser {
            toks: tokenize(text)?,
            pos: 0,
        };
        let mut sections = Vec::new();
        while p.peek().is_some() {
            let name = p.word("a section name")?;
            p.punct('{', "'{'")?;
            let mut modules = Vec::new();
            while p.peek() != Some(&Tok::Punct('}')) {
                if p.peek().is_none() {
                    return Err(JaasError::Expected {
                        expected: "'}'",
                        line: p.line(),
                    });
                }
                modules.push(p.module()?);
            }
            p.punct('}', "'}'")?;
            p.punct(';', "';' after '}'")?;
            sections.push((name, modules));
        }
        Ok(JaasConfig { sections })
    }

    /// The DIGEST-MD5 users of `section`: every `user_<name>` option of every module in
    /// it (later entries win).
    pub fn sasl_users(&self, section: &str) -> Result<SaslUsers, JaasError> {
        let modules = self
            .sections
            .iter()
            .find(|(n, _)| n == section)
            .map(|(_, m)| m)
            .ok_or_else(|| JaasError::MissingSection(section.to_owned()))?;
        Ok(SaslUsers::from_pairs(modules.iter().flat_map(|m| {
            m.options.iter().filter_map(|(k, v)| {
                k.strip_prefix("user_")
                    .map(|name| (name.to_owned(), v.clone()))
            })
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZK_EXAMPLE: &str = r#"
// the server's users
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bob\"secret";
};
/* a client section
   over two lines */
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password=bobsecret;
};
"#;

    #[test]
    fn users_come_from_the_server_section() {
        let cfg = JaasConfig::parse(ZK_EXAMPLE).unwrap();
        let users = cfg.sasl_users(DEFAULT_SERVER_SECTION).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users.password("super"), Some("adminsecret"));
        assert_eq!(users.password("bob"), Some("bob\"secret"));
        assert_eq!(users.password("username"), None);
        assert!(cfg.sasl_users("Client").unwrap().is_empty());
    }

    #[test]
    fn missing_section_is_an_error() {
        let cfg = JaasConfig::parse(ZK_EXAMPLE).unwrap();
        assert_eq!(
            cfg.sasl_users("Other"),
            Err(JaasError::MissingSection("Other".into()))
        );
    }

    #[test]
    fn debug_never_shows_passwords() {
        let cfg = JaasConfig::parse(ZK_EXAMPLE).unwrap();
        let users = cfg.sasl_users("Server").unwrap();
        let shown = format!("{users:?} {cfg:?}");
        assert!(!shown.contains("adminsecret"), "{shown}");
        assert!(shown.contains("bob"));
    }

    #[test]
    fn several_modules_and_sections() {
        let cfg = JaasConfig::parse(
            "Server { a.B optional user_x=\"1\"; c.D Sufficient user_y=\"2\" other=3; };",
        )
        .unwrap();
        let users = cfg.sasl_users("Server").unwrap();
        assert_eq!(users.password("x"), Some("1"));
        assert_eq!(users.password("y"), Some("2"));
        assert_eq!(cfg.sections[0].1[1].flag, "sufficient");
    }

    #[test]
    fn malformed_files_are_refused() {
        for (bad, want) in [
            ("Server { m required user_a=\"x; };", "unterminated"),
            ("Server { m required user_a=\"x\" };", "expected"),
            ("Server { m mandatory; };", "flag"),
            ("Server { m required; }", "expected"),
            ("Server m required; };", "expected"),
            ("Server { m required user_a \"x\"; };", "expected"),
            ("/* open", "unterminated"),
            ("Server { m required user_a=; };", "expected"),
            ("Server {", "expected"),
        ] {
            let err = JaasConfig::parse(bad).unwrap_err().to_string();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }

    #[test]
    fn errors_carry_the_line() {
        let err = JaasConfig::parse("Server {\n m required\n user_a=\"x\"\n };").unwrap_err();
        assert_eq!(
            err,
            JaasError::Expected {
                expected: "an option name or ';'",
                line: 4
            }
        );
    }

    #[test]
    fn empty_file_has_no_sections() {
        assert!(JaasConfig::parse("  // nothing\n")
            .unwrap()
            .sections
            .is_empty());
    }
}
