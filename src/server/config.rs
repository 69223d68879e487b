//! The server's settings and the `zoo.cfg` reader.
//!
//! Owns: [`ServerConfig`] (with ZooKeeper's defaults), [`FourLetterWords`] (the
//! `4lw.commands.whitelist`), [`ConfigError`] and [`ServerConfig::parse`], which reads the
//! standard `key=value` format: unknown keys are reported back as warnings, invalid values
//! are refused with an error naming the key.
//!
//! Must never: open sockets or start threads.

use crate::engine::{self, Config as EngineConfig};
use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// Every four-letter word the server knows.
pub const ALL_FOUR_LETTER_WORDS: [&str; 8] = [
    "ruok", "srvr", "stat", "cons", "dump", "wchs", "mntr", "isro",
];

/// Which four-letter words may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourLetterWords {
    /// `*`: every command.
    All,
    /// The listed commands only.
    Only(BTreeSet<String>),
}

impl FourLetterWords {
    /// Whether `cmd` may run.
    pub fn allows(&self, cmd: &str) -> bool {
        match self {
            FourLetterWords::All => true,
            FourLetterWords::Only(set) => set.contains(cmd),
        }
    }

    /// Parses a whitelist value: `*` or a comma/space separated list of known commands.
    pub fn parse(value: &str) -> Result<FourLetterWords, ConfigError> {
        let mut set = BTreeSet::new();
        for word in value.split(|c: char| c == ',' || c.is_whitespace()) {
            let word = word.trim();
            if word.is_empty() {
                continue;
            }
            if word == "*" {
                return Ok(FourLetterWords::All);
            }
            if !ALL_FOUR_LETTER_WORDS.contains(&word) {
                return Err(ConfigError::InvalidValue {
                    key: "4lw.commands.whitelist",
                    value: word.to_owned(),
                });
            }
            set.insert(word.to_owned());
        }
        Ok(FourLetterWords::Only(set))
    }
}

impl Default for FourLetterWords {
    /// ZooKeeper's default: `srvr` only.
    fn default() -> Self {
        FourLetterWords::Only(["srvr".to_owned()].into_iter().collect())
    }
}

/// The server's settings. All state lives in memory: `data_dir` is accepted for
/// compatibility with existing `zoo.cfg` files but nothing is written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `tickTime` in ms (default 2000).
    pub tick_ms: u32,
    /// `clientPortAddress`:`clientPort` (default 127.0.0.1:2181; port 0 picks a free one).
    pub client_addr: SocketAddr,
    /// `dataDir` (accepted, unused: state is in memory).
    pub data_dir: Option<PathBuf>,
    /// `minSessionTimeout` in ms (default `2 * tickTime`).
    pub min_session_timeout_ms: Option<u32>,
    /// `maxSessionTimeout` in ms (default `20 * tickTime`).
    pub max_session_timeout_ms: Option<u32>,
    /// `maxClientCnxns`: connections per client IP (default 60, 0 = unlimited).
    pub max_client_cnxns: u32,
    /// `maxCnxns`: connections in total (default 0 = unlimited).
    pub max_cnxns: u32,
    /// `localSessionsEnabled` (default false).
    pub local_sessions: bool,
    /// `localSessionsUpgradingEnabled` (default false).
    pub local_sessions_upgrading: bool,
    /// `4lw.commands.whitelist` (default `srvr`).
    pub four_letter_words: FourLetterWords,
    /// `jute.maxbuffer`: the largest frame in bytes (default 0xfffff).
    pub max_buffer: usize,
    /// `globalOutstandingLimit`: replies a connection may have unsent before the server
    /// stops reading its requests (default 1000).
    pub max_outstanding: usize,
    /// `eventLoops` (zksessiond's own key): event-loop threads (default: one per core).
    pub event_loops: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let cores = crate::sync::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        ServerConfig {
            tick_ms: 2000,
            client_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 2181),
            data_dir: None,
            min_session_timeout_ms: None,
            max_session_timeout_ms: None,
            max_client_cnxns: 60,
            max_cnxns: 0,
            local_sessions: false,
            local_sessions_upgrading: false,
            four_letter_words: FourLetterWords::default(),
            max_buffer: crate::wire::DEFAULT_MAX_BUFFER,
            max_outstanding: 1000,
            event_loops: cores,
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error's kind.
        kind: std::io::ErrorKind,
    },
    /// A line is neither blank, a comment, nor `key=value`.
    Syntax {
        /// 1-based line number.
        line: usize,
    },
    /// A key's value is not acceptable.
    InvalidValue {
        /// The key.
        key: &'static str,
        /// The value given.
        value: String,
    },
    /// The engine refused the resulting session settings (the variant names the setting).
    Engine(engine::ConfigError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, kind } => {
                write!(f, "cannot read {}: {kind}", path.display())
            }
            ConfigError::Syntax { line } => write!(f, "line {line}: expected key=value"),
            ConfigError::InvalidValue { key, value } => {
                write!(f, "invalid value for {key}: {value:?}")
            }
            ConfigError::Engine(e) => write!(f, "session settings refused: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A key the reader did not use, reported so the caller can warn about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// 1-based line number.
    pub line: usize,
    /// The key.
    pub key: String,
}

/// Keys of a standard ZooKeeper `zoo.cfg` that have no meaning for a standalone,
/// in-memory server; they are accepted silently.
const IGNORED_KEYS: [&str; 8] = [
    "initLimit",
    "syncLimit",
    "dataLogDir",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "admin.enableServer",
    "admin.serverPort",
    "standaloneEnabled",
];

fn number<T: std::str::FromStr>(key: &'static str, value: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError::InvalidValue {
        key,
        value: value.to_owned(),
    })
}

fn boolean(key: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(ConfigError::InvalidValue {
            key,
            value: value.to_owned(),
        }),
    }
}

impl ServerConfig {
    /// Reads a `zoo.cfg` file (see [`ServerConfig::parse`]).
    pub fn from_file(path: &Path) -> Result<(ServerConfig, Vec<UnknownKey>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            kind: e.kind(),
        })?;
        ServerConfig::parse(&text)
    }

    /// Parses `zoo.cfg` text over the defaults. Returns the config and the keys it did not
    /// recognise; the first invalid value is an error naming its key.
    pub fn parse(text: &str) -> Result<(ServerConfig, Vec<UnknownKey>), ConfigError> {
        let mut c = ServerConfig::default();
        let mut unknown = Vec::new();
        let mut port = c.client_addr.port();
        let mut ip = c.client_addr.ip();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(ConfigError::Syntax { line: i + 1 });
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "tickTime" => {
                    c.tick_ms = number("tickTime", value)?;
                    if c.tick_ms == 0 {
                        return Err(ConfigError::InvalidValue {
                            key: "tickTime",
                            value: value.to_owned(),
                        });
                    }
                }
                "clientPort" => port = number("clientPort", value)?,
                "clientPortAddress" => {
                    ip = value.parse().map_err(|_| ConfigError::InvalidValue {
                        key: "clientPortAddress",
                        value: value.to_owned(),
                    })?
                }
                "dataDir" => c.data_dir = Some(PathBuf::from(value)),
                "minSessionTimeout" => {
                    c.min_session_timeout_ms = timeout("minSessionTimeout", value)?
                }
                "maxSessionTimeout" => {
                    c.max_session_timeout_ms = timeout("maxSessionTimeout", value)?
                }
                "maxClientCnxns" => c.max_client_cnxns = number("maxClientCnxns", value)?,
                "maxCnxns" => c.max_cnxns = number("maxCnxns", value)?,
                "localSessionsEnabled" => {
                    c.local_sessions = boolean("localSessionsEnabled", value)?
                }
                "localSessionsUpgradingEnabled" => {
                    c.local_sessions_upgrading = boolean("localSessionsUpgradingEnabled", value)?
                }
                "4lw.commands.whitelist" => c.four_letter_words = FourLetterWords::parse(value)?,
                "jute.maxbuffer" => {
                    c.max_buffer = parse_int_maybe_hex("jute.maxbuffer", value)?;
                    if c.max_buffer < 1024 {
                        return Err(ConfigError::InvalidValue {
                            key: "jute.maxbuffer",
                            value: value.to_owned(),
                        });
                    }
                }
                "globalOutstandingLimit" => {
                    c.max_outstanding = number("globalOutstandingLimit", value)?;
                    if c.max_outstanding == 0 {
                        return Err(ConfigError::InvalidValue {
                            key: "globalOutstandingLimit",
                            value: value.to_owned(),
                        });
                    }
                }
                "eventLoops" => {
                    c.event_loops = number("eventLoops", value)?;
                    if c.event_loops == 0 || c.event_loops > 1024 {
                        return Err(ConfigError::InvalidValue {
                            key: "eventLoops",
                            value: value.to_owned(),
                        });
                    }
                }
                k if IGNORED_KEYS.contains(&k) || k.starts_with("server.") => {}
                k => unknown.push(UnknownKey {
                    line: i + 1,
                    key: k.to_owned(),
                }),
            }
        }
        c.client_addr = SocketAddr::new(ip, port);
        c.engine_config().validate().map_err(ConfigError::Engine)?;
        Ok((c, unknown))
    }

    /// The engine settings these server settings imply.
    pub fn engine_config(&self) -> EngineConfig {
        let mut e = EngineConfig::with_tick(self.tick_ms);
        if let Some(min) = self.min_session_timeout_ms {
            e.min_session_timeout_ms = min;
        }
        if let Some(max) = self.max_session_timeout_ms {
            e.max_session_timeout_ms = max;
        }
        e.local_sessions = self.local_sessions;
        e.local_session_upgrade = self.local_sessions_upgrading;
        e
    }
}

/// A session timeout: `-1` means "the default", as in ZooKeeper.
fn timeout(key: &'static str, value: &str) -> Result<Option<u32>, ConfigError> {
    if value == "-1" {
        return Ok(None);
    }
    number(key, value).map(Some)
}

fn parse_int_maybe_hex(key: &'static str, value: &str) -> Result<usize, ConfigError> {
    let parsed = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => usize::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    };
    parsed.ok_or_else(|| ConfigError::InvalidValue {
        key,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_embedded_defaults() {
        let (c, unknown) = ServerConfig::parse("").unwrap();
        assert_eq!(c.client_addr, "127.0.0.1:2181".parse().unwrap());
        assert_eq!(c.tick_ms, 2000);
        assert_eq!(c.max_client_cnxns, 60);
        assert_eq!(c.max_buffer, 0xfffff);
        assert!(c.four_letter_words.allows("srvr"));
        assert!(!c.four_letter_words.allows("ruok"));
        assert!(unknown.is_empty());
    }

    #[test]
    fn debian_zoo_cfg_is_accepted() {
        let text = "# comment\ntickTime=2000\ninitLimit=10\nsyncLimit=5\n\
                    dataDir=/var/lib/zookeeper\nclientPort=2181\n";
        let (c, unknown) = ServerConfig::parse(text).unwrap();
        assert_eq!(c.data_dir, Some(PathBuf::from("/var/lib/zookeeper")));
        assert!(unknown.is_empty());
    }

    #[test]
    fn every_supported_key_is_read() {
        let text = "tickTime=300\nclientPort=0\nclientPortAddress=127.0.0.2\n\
                    minSessionTimeout=600\nmaxSessionTimeout=9000\nmaxClientCnxns=3\n\
                    maxCnxns=10\nlocalSessionsEnabled=true\n\
                    localSessionsUpgradingEnabled=true\n4lw.commands.whitelist=ruok, mntr\n\
                    jute.maxbuffer=0x1000\nglobalOutstandingLimit=5\neventLoops=2\n";
        let (c, _) = ServerConfig::parse(text).unwrap();
        assert_eq!(c.tick_ms, 300);
        assert_eq!(c.client_addr, "127.0.0.2:0".parse().unwrap());
        assert_eq!(c.min_session_timeout_ms, Some(600));
        assert_eq!(c.max_session_timeout_ms, Some(9000));
        assert_eq!((c.max_client_cnxns, c.max_cnxns), (3, 10));
        assert!(c.local_sessions && c.local_sessions_upgrading);
        assert!(c.four_letter_words.allows("mntr") && !c.four_letter_words.allows("srvr"));
        assert_eq!(c.max_buffer, 4096);
        assert_eq!((c.max_outstanding, c.event_loops), (5, 2));
        let e = c.engine_config();
        assert_eq!(
            (e.min_session_timeout_ms, e.max_session_timeout_ms),
            (600, 9000)
        );
    }

    #[test]
    fn star_whitelist_allows_everything() {
        let (c, _) = ServerConfig::parse("4lw.commands.whitelist=*").unwrap();
        assert!(ALL_FOUR_LETTER_WORDS
            .iter()
            .all(|w| c.four_letter_words.allows(w)));
    }

    #[test]
    fn unknown_keys_are_reported_not_refused() {
        let (_, unknown) = ServerConfig::parse("tickTime=2000\nfrobnicate=1\n").unwrap();
        assert_eq!(
            unknown,
            vec![UnknownKey {
                line: 2,
                key: "frobnicate".into()
            }]
        );
    }

    #[test]
    fn invalid_values_name_their_key() {
        for (text, key) in [
            ("tickTime=abc", "tickTime"),
            ("tickTime=0", "tickTime"),
            ("clientPort=70000", "clientPort"),
            ("clientPortAddress=nowhere", "clientPortAddress"),
            ("maxClientCnxns=-1", "maxClientCnxns"),
            ("localSessionsEnabled=maybe", "localSessionsEnabled"),
            ("4lw.commands.whitelist=ruok,boom", "4lw.commands.whitelist"),
            ("jute.maxbuffer=12", "jute.maxbuffer"),
            ("minSessionTimeout=x", "minSessionTimeout"),
        ] {
            match ServerConfig::parse(text) {
                Err(ConfigError::InvalidValue { key: k, .. }) => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn min_timeout_above_max_is_refused() {
        let err =
            ServerConfig::parse("minSessionTimeout=9000\nmaxSessionTimeout=5000").unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Engine(engine::ConfigError::MinAboveMax { .. })
        ));
    }

    #[test]
    fn a_line_without_equals_is_a_syntax_error() {
        assert_eq!(
            ServerConfig::parse("tickTime=1\njunk\n"),
            Err(ConfigError::Syntax { line: 2 })
        );
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let err = ServerConfig::from_file(Path::new("/nonexistent/zoo.cfg")).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }
}
