//! The server's settings and the `zoo.cfg` reader.
//!
//! Owns: [`ServerConfig`] (with ZooKeeper's defaults), [`FourLetterWords`] (the
//! `4lw.commands.whitelist`), [`ConfigError`] and [`ServerConfig::parse`], which reads the
//! standard `key=value` format: unknown keys are reported back as warnings, invalid values
//! are refused with an error naming the key.
//!
//! Must never: open sockets or start threads.

use crate::engine::{self, Config as EngineConfig};
use crate::security::digest::{SuperDigest, SUPER_DIGEST_KEY};
use crate::security::{
    AclPolicy, AuthEnforcement, JaasConfig, SaslUsers, TlsConfigError, TlsSettings,
    DEFAULT_SERVER_SECTION,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// The `metricsProvider.className` of ZooKeeper's Prometheus provider, which switches on
/// the `/metrics` endpoint.
pub const PROMETHEUS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

/// Every four-letter word the server knows (ZooKeeper 3.8's, less `stmk`).
pub const ALL_FOUR_LETTER_WORDS: [&str; 17] = [
    "conf", "cons", "crst", "dump", "envi", "ruok", "srst", "srvr", "stat", "wchs", "wchc", "wchp",
    "dirs", "mntr", "isro", "hash", "gtmk",
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

    /// Parses a whitelist value: `*` or a comma/space separated list of commands. Words
    /// the server does not know are left out (as ZooKeeper does); [`FourLetterWords::unknown`]
    /// lists them so the caller can warn.
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
            if ALL_FOUR_LETTER_WORDS.contains(&word) {
                set.insert(word.to_owned());
            }
        }
        Ok(FourLetterWords::Only(set))
    }

    /// The words of a whitelist value the server does not know.
    pub fn unknown(value: &str) -> Vec<String> {
        value
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(str::trim)
            .filter(|w| !w.is_empty() && *w != "*" && !ALL_FOUR_LETTER_WORDS.contains(w))
            .map(str::to_owned)
            .collect()
    }
}

impl Default for FourLetterWords {
    /// ZooKeeper's default: `srvr` only.
    fn default() -> Self {
        FourLetterWords::Only(["srvr".to_owned()].into_iter().collect())
    }
}

/// The server's settings. With `data_dir` set, every change is logged there and
/// recovered on start (see [`crate::server`], "Durability"); without it, state lives in
/// memory only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `tickTime` in ms (default 2000).
    pub tick_ms: u32,
    /// `clientPortAddress`:`clientPort` (default 127.0.0.1:2181; port 0 picks a free one).
    pub client_addr: SocketAddr,
    /// Whether the plaintext client port is served (default true). A `zoo.cfg` with
    /// `secureClientPort` and no `clientPort` turns it off, as in ZooKeeper.
    pub plain_port: bool,
    /// `secureClientPortAddress` (default: `clientPortAddress`):`secureClientPort`: the
    /// TLS client port, `None` (the default) for none.
    pub secure_client_addr: Option<SocketAddr>,
    /// The `ssl.*` settings of the TLS client port (key and trust stores, client
    /// authentication, protocols, cipher suites); `None` when no `ssl.*` key is given.
    pub tls: Option<TlsSettings>,
    /// `dataDir`: where snapshots (and, without `dataLogDir`, transaction logs) are kept,
    /// in ZooKeeper 3.8's layout. `None`: state lives in memory only.
    pub data_dir: Option<PathBuf>,
    /// `dataLogDir`: where transaction logs are kept (default: `dataDir`).
    pub data_log_dir: Option<PathBuf>,
    /// `forceSync` (default yes): fsync the log before acknowledging a write. `no` is
    /// unsafe: a crash of the machine can lose acknowledged writes.
    pub force_sync: bool,
    /// `zksession.passwordMode` (zksessiond's own key; `secret`, the default, or
    /// `zookeeper`): with `zookeeper`, session passwords are Apache ZooKeeper's (derived
    /// from the session id and a constant every ZooKeeper server shares), so clients of
    /// sessions carried over in a dataDir written by ZooKeeper can resume them. Anyone
    /// who knows a session id can then compute its password and take the session over,
    /// as with ZooKeeper itself; the default keys passwords with a secret of the dataDir.
    pub zookeeper_passwords: bool,
    /// `snapCount` (default 100000): a snapshot is written after about this many txns
    /// (ZooKeeper's randomised rule: somewhere between half of it and all of it).
    pub snap_count: u64,
    /// `autopurge.snapRetainCount` (default 3, at least 3): snapshots kept by a purge.
    pub autopurge_snap_retain_count: u32,
    /// `autopurge.purgeInterval` in hours (default 0: never purge).
    pub autopurge_purge_interval_hours: u32,
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
    /// `stallThresholdMs` (zksessiond's own key): how much later than asked an expiry pass
    /// may wake before the engine takes it as a stall of the server's own process and
    /// credits it to every session's deadline (see the engine's
    /// `Config::stall_threshold_ms`); 0 turns the credit off (ZooKeeper's behaviour).
    /// `None` (the default): the tick, at least 1000 ms.
    pub stall_threshold_ms: Option<u32>,
    /// The Prometheus endpoint's address: set when `metricsProvider.className` names
    /// ZooKeeper's Prometheus provider, from `metricsProvider.httpHost` (default 0.0.0.0)
    /// and `metricsProvider.httpPort` (default 7000); `None` (the default) for none.
    pub metrics_addr: Option<SocketAddr>,
    /// The AdminServer's address (`GET <admin_command_url>/<command>`, ZooKeeper's JSON):
    /// from `admin.serverAddress` (default 127.0.0.1, as `clientPortAddress`) and
    /// `admin.serverPort` (default 8080) while `admin.enableServer` is true, which a
    /// `zoo.cfg` is unless it says otherwise (as ZooKeeper); `None` (no AdminServer) in
    /// [`ServerConfig::default`], for embedders, who opt in.
    pub admin_addr: Option<SocketAddr>,
    /// The AdminServer's command path, `admin.commandURL` (default `/commands`).
    pub admin_command_url: String,
    /// `zookeeper.DigestAuthenticationProvider.superDigest`: whoever proves this digest
    /// with `addauth digest` bypasses every ACL (default none).
    pub super_digest: Option<SuperDigest>,
    /// The ACL schemes known and how they match (`zookeeper.skipACL`,
    /// `zookeeper.DigestAuthenticationProvider.enabled`).
    pub acl_policy: AclPolicy,
    /// `java.security.auth.login.config`: the JAAS file whose `Server` section lists the
    /// SASL DIGEST-MD5 users (read by [`ServerConfig::load_sasl_users`]).
    pub jaas_config: Option<PathBuf>,
    /// `zookeeper.sasl.serverconfig`: the JAAS section to read (default `Server`).
    pub jaas_section: String,
    /// The SASL users, once loaded.
    pub sasl_users: Option<SaslUsers>,
    /// `zookeeper.SASLAuthenticationProvider.superPassword`: the password of the SASL
    /// user `super`.
    pub sasl_super_password: Option<Hidden>,
    /// `zookeeper.superUser`: the SASL user who bypasses every ACL.
    pub super_user: Option<String>,
    /// `enforce.auth.enabled` with `enforce.auth.schemes`, or
    /// `sessionRequireClientSASLAuth`: the schemes a connection must have proved before any
    /// request but `addauth` and SASL is served.
    pub enforcement: AuthEnforcement,
    /// `zksession.memoryBudget`: the bytes the data tree may hold (`None`: half of the
    /// machine's memory or address-space limit, whichever is lower; `Some(0)`: no limit).
    pub memory_budget: Option<u64>,
    /// `zookeeper.enforceQuota`: whether hard quota limits refuse writes.
    pub enforce_quota: bool,
    /// `zookeeper.digest.enabled` (`None`: not set, which means on, as ZooKeeper 3.8's
    /// default): logs and snapshots carry ZooKeeper's tree digests, checked at load. See
    /// [`ServerConfig::digest_enabled`].
    pub digest_enabled: Option<bool>,
    /// `extendedTypesEnabled` (or `zookeeper.extendedTypesEnabled`, the system property
    /// ZooKeeper reads it from; default false): TTL nodes may be created and are reaped.
    pub extended_types: bool,
    /// `znode.container.checkIntervalMs` (default 60000): how often the reaper looks for
    /// empty containers and expired TTL nodes.
    pub container_check_interval_ms: u64,
    /// `znode.container.maxPerMinute` (default 10000): most container and TTL nodes the
    /// reaper deletes in a minute.
    pub container_max_per_minute: u64,
    /// `znode.container.maxNeverUsedIntervalMs` (default 0: never): age after which a
    /// container that never had a child is reaped too.
    pub container_max_never_used_ms: i64,
}

/// The zoo.cfg key (and environment variable) of the memory budget.
pub const MEMORY_BUDGET_KEY: &str = "zksession.memoryBudget";

/// The zoo.cfg key and environment variable (ZooKeeper's system property) turning on the
/// enforcement of hard quota limits.
pub const ENFORCE_QUOTA_KEY: &str = "zookeeper.enforceQuota";
/// The key (and environment variable) switching the data-tree digests.
pub const DIGEST_ENABLED_KEY: &str = "zookeeper.digest.enabled";

/// A secret setting: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Hidden(pub String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(hidden)")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        let cores = crate::sync::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        ServerConfig {
            tick_ms: 2000,
            client_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 2181),
            plain_port: true,
            secure_client_addr: None,
            tls: None,
            data_dir: None,
            data_log_dir: None,
            force_sync: true,
            zookeeper_passwords: false,
            snap_count: 100_000,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
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
            stall_threshold_ms: None,
            metrics_addr: None,
            admin_addr: None,
            admin_command_url: DEFAULT_ADMIN_COMMAND_URL.to_owned(),
            super_digest: None,
            acl_policy: AclPolicy::default(),
            jaas_config: None,
            jaas_section: DEFAULT_SERVER_SECTION.to_owned(),
            sasl_users: None,
            sasl_super_password: None,
            super_user: None,
            enforcement: AuthEnforcement::default(),
            memory_budget: None,
            enforce_quota: false,
            digest_enabled: None,
            extended_types: false,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            container_max_never_used_ms: 0,
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
    /// A setting another one needs is missing.
    Missing {
        /// The missing key.
        key: &'static str,
        /// The key that needs it.
        needed_by: &'static str,
    },
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
            ConfigError::Missing { key, needed_by } => write!(f, "{needed_by} needs {key}"),
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
const IGNORED_KEYS: [&str; 7] = [
    "initLimit",
    "syncLimit",
    "standaloneEnabled",
    // The TLS port is served by the event loops whatever connection factory is named.
    "serverCnxnFactory",
    // Client-side and quorum TLS settings, meaningless for a standalone server.
    "ssl.hostnameVerification",
    "ssl.authProvider",
    "sslQuorum",
];

/// The `ssl.*` keys of the client port that are read (also accepted as `zookeeper.ssl.*`).
const TLS_KEYS: [&str; 11] = [
    "ssl.keyStore.location",
    "ssl.keyStore.type",
    "ssl.keyStore.password",
    "ssl.trustStore.location",
    "ssl.trustStore.type",
    "ssl.trustStore.password",
    "ssl.clientAuth",
    "ssl.protocol",
    "ssl.enabledProtocols",
    "ssl.ciphersuites",
    "ssl.handshakeDetectionTimeoutMillis",
];

/// ZooKeeper's default `admin.commandURL`.
pub const DEFAULT_ADMIN_COMMAND_URL: &str = "/commands";

/// ZooKeeper's default `admin.serverPort`.
pub const DEFAULT_ADMIN_PORT: u16 = 8080;

/// The key (and Java system property) naming the JAAS file.
pub const JAAS_KEY: &str = "java.security.auth.login.config";

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
        let mut port_given = false;
        let (mut secure_port, mut secure_ip): (Option<u16>, Option<IpAddr>) = (None, None);
        let mut ssl: BTreeMap<&'static str, String> = BTreeMap::new();
        let (mut enforce, mut enforce_schemes, mut require_sasl) = (false, None, false);
        let mut ip = c.client_addr.ip();
        let mut metrics = false;
        let mut metrics_port: u16 = 7000;
        let mut metrics_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let mut admin = true;
        let mut admin_port = DEFAULT_ADMIN_PORT;
        let mut admin_ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
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
                "clientPort" => {
                    port = number("clientPort", value)?;
                    port_given = true;
                }
                "secureClientPort" => secure_port = Some(number("secureClientPort", value)?),
                "secureClientPortAddress" => {
                    secure_ip = Some(value.parse().map_err(|_| ConfigError::InvalidValue {
                        key: "secureClientPortAddress",
                        value: value.to_owned(),
                    })?)
                }
                k if TLS_KEYS.contains(&k.strip_prefix("zookeeper.").unwrap_or(k)) => {
                    let k = k.strip_prefix("zookeeper.").unwrap_or(k);
                    if let Some(name) = TLS_KEYS.iter().find(|n| **n == k) {
                        ssl.insert(name, value.to_owned());
                    }
                }
                "zookeeper.X509AuthenticationProvider.superUser" => {
                    c.acl_policy.x509_super_user = Some(value.to_owned())
                }
                "clientPortAddress" => {
                    ip = value.parse().map_err(|_| ConfigError::InvalidValue {
                        key: "clientPortAddress",
                        value: value.to_owned(),
                    })?
                }
                "dataDir" => c.data_dir = Some(PathBuf::from(value)),
                "dataLogDir" => c.data_log_dir = Some(PathBuf::from(value)),
                "forceSync" => c.force_sync = boolean("forceSync", value)?,
                "zksession.passwordMode" => {
                    c.zookeeper_passwords = match value {
                        "zookeeper" => true,
                        "secret" => false,
                        _ => {
                            return Err(ConfigError::InvalidValue {
                                key: "zksession.passwordMode",
                                value: value.to_owned(),
                            })
                        }
                    }
                }
                "snapCount" => {
                    c.snap_count = number("snapCount", value)?;
                    if c.snap_count < 2 {
                        return Err(ConfigError::InvalidValue {
                            key: "snapCount",
                            value: value.to_owned(),
                        });
                    }
                }
                "autopurge.snapRetainCount" => {
                    // ZooKeeper raises values below 3 to 3.
                    c.autopurge_snap_retain_count =
                        number::<u32>("autopurge.snapRetainCount", value)?.max(3)
                }
                "autopurge.purgeInterval" => {
                    c.autopurge_purge_interval_hours = number("autopurge.purgeInterval", value)?
                }
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
                "4lw.commands.whitelist" => {
                    c.four_letter_words = FourLetterWords::parse(value)?;
                    // Reported like unknown keys: a warning, not a refusal.
                    unknown.extend(FourLetterWords::unknown(value).into_iter().map(|w| {
                        UnknownKey {
                            line: i + 1,
                            key: format!("4lw.commands.whitelist word {w}"),
                        }
                    }));
                }
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
                "stallThresholdMs" => {
                    c.stall_threshold_ms = Some(number("stallThresholdMs", value)?);
                }
                "metricsProvider.className" => {
                    metrics = value == PROMETHEUS_PROVIDER;
                    if !metrics {
                        unknown.push(UnknownKey {
                            line: i + 1,
                            key: format!("metricsProvider.className {value}"),
                        });
                    }
                }
                "metricsProvider.httpPort" => {
                    metrics_port = number("metricsProvider.httpPort", value)?
                }
                "metricsProvider.httpHost" => {
                    metrics_ip = value.parse().map_err(|_| ConfigError::InvalidValue {
                        key: "metricsProvider.httpHost",
                        value: value.to_owned(),
                    })?
                }
                "admin.enableServer" => admin = boolean("admin.enableServer", value)?,
                "admin.serverPort" => admin_port = number("admin.serverPort", value)?,
                "admin.serverAddress" => {
                    admin_ip = value.parse().map_err(|_| ConfigError::InvalidValue {
                        key: "admin.serverAddress",
                        value: value.to_owned(),
                    })?
                }
                "admin.commandURL" => {
                    if !value.starts_with('/') {
                        return Err(ConfigError::InvalidValue {
                            key: "admin.commandURL",
                            value: value.to_owned(),
                        });
                    }
                    c.admin_command_url = value.trim_end_matches('/').to_owned();
                    if c.admin_command_url.is_empty() {
                        c.admin_command_url.push('/');
                    }
                }
                // Jetty's settings, which have no meaning for zksessiond's HTTP server.
                "admin.idleTimeout"
                | "admin.portUnification"
                | "admin.forceHttps"
                | "admin.needClientAuth" => {}
                SUPER_DIGEST_KEY => {
                    c.super_digest = Some(SuperDigest::parse(value).map_err(|_| {
                        // The value is a password equivalent: never echoed.
                        ConfigError::InvalidValue {
                            key: SUPER_DIGEST_KEY,
                            value: "(hidden)".to_owned(),
                        }
                    })?)
                }
                k if k.starts_with("authProvider.") => {
                    if value.ends_with(".SASLAuthenticationProvider") {
                        c.acl_policy.sasl = true;
                    }
                    if value.ends_with(".X509AuthenticationProvider") {
                        c.acl_policy.x509 = true;
                    }
                }
                JAAS_KEY => c.jaas_config = Some(PathBuf::from(value)),
                "zookeeper.sasl.serverconfig" => c.jaas_section = value.to_owned(),
                "zookeeper.SASLAuthenticationProvider.superPassword" => {
                    c.sasl_super_password = Some(Hidden(value.to_owned()))
                }
                "zookeeper.superUser" => c.super_user = Some(value.to_owned()),
                "enforce.auth.enabled" | "zookeeper.enforce.auth.enabled" => {
                    enforce = boolean("enforce.auth.enabled", value)?
                }
                "enforce.auth.schemes" | "zookeeper.enforce.auth.schemes" => {
                    enforce_schemes = Some(value.to_owned())
                }
                "sessionRequireClientSASLAuth" | "zookeeper.sessionRequireClientSASLAuth" => {
                    require_sasl = boolean("sessionRequireClientSASLAuth", value)?
                }
                "zookeeper.skipACL" => c.acl_policy.skip_acl = boolean("zookeeper.skipACL", value)?,
                "zookeeper.DigestAuthenticationProvider.enabled" => {
                    c.acl_policy.digest =
                        boolean("zookeeper.DigestAuthenticationProvider.enabled", value)?
                }
                MEMORY_BUDGET_KEY => c.memory_budget = Some(memory_budget(value)?),
                ENFORCE_QUOTA_KEY => c.enforce_quota = boolean(ENFORCE_QUOTA_KEY, value)?,
                DIGEST_ENABLED_KEY => c.digest_enabled = Some(boolean(DIGEST_ENABLED_KEY, value)?),
                "extendedTypesEnabled" | "zookeeper.extendedTypesEnabled" => {
                    c.extended_types = boolean("extendedTypesEnabled", value)?
                }
                "znode.container.checkIntervalMs" => {
                    c.container_check_interval_ms =
                        positive("znode.container.checkIntervalMs", value)?
                }
                "znode.container.maxPerMinute" => {
                    c.container_max_per_minute = positive("znode.container.maxPerMinute", value)?
                }
                "znode.container.maxNeverUsedIntervalMs" => {
                    c.container_max_never_used_ms =
                        number("znode.container.maxNeverUsedIntervalMs", value)?;
                    if c.container_max_never_used_ms < 0 {
                        return Err(ConfigError::InvalidValue {
                            key: "znode.container.maxNeverUsedIntervalMs",
                            value: value.to_owned(),
                        });
                    }
                }
                k if IGNORED_KEYS.contains(&k.strip_prefix("zookeeper.").unwrap_or(k))
                    || k.starts_with("ssl.quorum.")
                    || k.starts_with("zookeeper.ssl.quorum.")
                    || k.starts_with("server.")
                    || k.starts_with("metricsProvider.") => {}
                k => unknown.push(UnknownKey {
                    line: i + 1,
                    key: k.to_owned(),
                }),
            }
        }
        c.client_addr = SocketAddr::new(ip, port);
        if let Some(sp) = secure_port {
            c.secure_client_addr = Some(SocketAddr::new(secure_ip.unwrap_or(ip), sp));
            // ZooKeeper: secureClientPort without clientPort serves TLS only.
            c.plain_port = port_given;
        }
        if secure_port.is_some() || !ssl.is_empty() {
            c.tls = Some(tls_settings(&ssl)?);
        }
        if secure_port.is_some() && c.tls.as_ref().is_some_and(|t| t.key_store.is_none()) {
            return Err(ConfigError::Missing {
                key: "ssl.keyStore.location",
                needed_by: "secureClientPort",
            });
        }
        c.metrics_addr = metrics.then(|| SocketAddr::new(metrics_ip, metrics_port));
        c.admin_addr = admin.then(|| SocketAddr::new(admin_ip, admin_port));
        c.enforcement = AuthEnforcement::new(
            require_sasl,
            enforce,
            enforce_schemes.as_deref(),
            &c.acl_policy,
        )
        .map_err(|_| ConfigError::InvalidValue {
            key: "enforce.auth.schemes",
            value: enforce_schemes.unwrap_or_default(),
        })?;
        c.engine_config().validate().map_err(ConfigError::Engine)?;
        Ok((c, unknown))
    }

    /// Takes the super digest from `env` (the environment variable named like ZooKeeper's
    /// system property) when the file set none.
    pub fn super_digest_from_env(&mut self, env: Option<&str>) -> Result<(), ConfigError> {
        if self.super_digest.is_none() {
            if let Some(v) = env {
                self.super_digest =
                    Some(
                        SuperDigest::parse(v).map_err(|_| ConfigError::InvalidValue {
                            key: SUPER_DIGEST_KEY,
                            value: "(hidden)".to_owned(),
                        })?,
                    );
            }
        }
        Ok(())
    }

    /// Takes `zookeeper.enforceQuota` and `zksession.memoryBudget` from the environment
    /// (`enforce` and `budget`, variables named like the keys) when the file set none.
    pub fn quota_settings_from_env(
        &mut self,
        enforce: Option<&str>,
        budget: Option<&str>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = enforce {
            if !self.enforce_quota {
                self.enforce_quota = boolean(ENFORCE_QUOTA_KEY, v)?;
            }
        }
        if let (Some(v), None) = (budget, self.memory_budget) {
            self.memory_budget = Some(memory_budget(v)?);
        }
        Ok(())
    }

    /// Whether the data-tree digests are written and checked (`zookeeper.digest.enabled`,
    /// on unless set false).
    pub fn digest_enabled(&self) -> bool {
        self.digest_enabled.unwrap_or(true)
    }

    /// Takes `zookeeper.digest.enabled` from `env` (the environment variable named like
    /// the key) when the file set none.
    pub fn digest_from_env(&mut self, env: Option<&str>) -> Result<(), ConfigError> {
        if let (Some(v), None) = (env, self.digest_enabled) {
            self.digest_enabled = Some(boolean(DIGEST_ENABLED_KEY, v)?);
        }
        Ok(())
    }

    /// The memory budget to run with: the configured one, else half of the lower of the
    /// machine's physical memory and its address-space limit (`None`: no limit).
    pub fn effective_memory_budget(&self) -> Option<u64> {
        match self.memory_budget {
            Some(0) => None,
            Some(n) => Some(n),
            None => super::memory::default_budget(),
        }
    }

    /// Reads the SASL users from the JAAS file (`java.security.auth.login.config`, else
    /// `env`, the environment variable of that name) when the SASL provider is on.
    pub fn load_sasl_users(&mut self, env: Option<&str>) -> Result<(), ConfigError> {
        if !self.acl_policy.sasl {
            return Ok(());
        }
        let Some(path) = self.jaas_config.clone().or_else(|| env.map(PathBuf::from)) else {
            return Ok(());
        };
        let bad = || ConfigError::InvalidValue {
            key: JAAS_KEY,
            value: path.display().to_string(),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
            path: path.clone(),
            kind: e.kind(),
        })?;
        let jaas = JaasConfig::parse(&text).map_err(|_| bad())?;
        self.sasl_users = Some(jaas.sasl_users(&self.jaas_section).map_err(|_| bad())?);
        Ok(())
    }

    /// Builds the TLS server configuration of the secure client port (reads the key and
    /// trust stores); `None` when no secure port is configured.
    pub fn tls_server_config(
        &self,
    ) -> Result<Option<std::sync::Arc<rustls::ServerConfig>>, TlsConfigError> {
        if self.secure_client_addr.is_none() {
            return Ok(None);
        }
        match &self.tls {
            Some(t) => t.server_config().map(Some),
            None => Err(TlsConfigError::MissingKeyStore),
        }
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
        if let Some(ms) = self.stall_threshold_ms {
            e.stall_threshold_ms = ms;
        }
        e
    }
}

/// The `ssl.*` settings from the keys collected; a refused value names its key.
fn tls_settings(ssl: &BTreeMap<&'static str, String>) -> Result<TlsSettings, ConfigError> {
    TlsSettings::from_properties(|k| ssl.get(k).cloned()).map_err(|e| {
        let given = |key: &'static str| ConfigError::InvalidValue {
            key,
            value: ssl.get(key).cloned().unwrap_or_default(),
        };
        match e {
            TlsConfigError::UnsupportedStoreType { setting, value } => ConfigError::InvalidValue {
                key: setting,
                value,
            },
            TlsConfigError::BadClientAuth(_) => given("ssl.clientAuth"),
            _ if ssl.contains_key("ssl.enabledProtocols") => given("ssl.enabledProtocols"),
            _ => given("ssl.protocol"),
        }
    })
}

/// A count or interval that must be above 0.
fn positive(key: &'static str, value: &str) -> Result<u64, ConfigError> {
    match number::<u64>(key, value)? {
        0 => Err(ConfigError::InvalidValue {
            key,
            value: value.to_owned(),
        }),
        n => Ok(n),
    }
}

/// A session timeout: `-1` means "the default", as in ZooKeeper.
fn memory_budget(value: &str) -> Result<u64, ConfigError> {
    crate::namespace::parse_size(value).map_err(|_| ConfigError::InvalidValue {
        key: MEMORY_BUDGET_KEY,
        value: value.to_owned(),
    })
}

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
    fn password_mode_is_secret_by_default_and_zookeeper_on_request() {
        assert!(!ServerConfig::parse("").unwrap().0.zookeeper_passwords);
        let (c, _) = ServerConfig::parse("zksession.passwordMode=zookeeper\n").unwrap();
        assert!(c.zookeeper_passwords);
        let (c, _) = ServerConfig::parse("zksession.passwordMode=secret\n").unwrap();
        assert!(!c.zookeeper_passwords);
        assert!(matches!(
            ServerConfig::parse("zksession.passwordMode=java\n"),
            Err(ConfigError::InvalidValue {
                key: "zksession.passwordMode",
                ..
            })
        ));
    }

    #[test]
    fn container_and_ttl_keys_are_read_with_zookeepers_defaults() {
        let (d, _) = ServerConfig::parse("").unwrap();
        assert!(!d.extended_types);
        assert_eq!(d.container_check_interval_ms, 60_000);
        assert_eq!(d.container_max_per_minute, 10_000);
        assert_eq!(d.container_max_never_used_ms, 0);
        let text = "extendedTypesEnabled=true\nznode.container.checkIntervalMs=500\n\
                    znode.container.maxPerMinute=120\n\
                    znode.container.maxNeverUsedIntervalMs=9000\n";
        let (c, unknown) = ServerConfig::parse(text).unwrap();
        assert!(unknown.is_empty());
        assert!(c.extended_types);
        assert_eq!(c.container_check_interval_ms, 500);
        assert_eq!(c.container_max_per_minute, 120);
        assert_eq!(c.container_max_never_used_ms, 9000);
        let (c, _) = ServerConfig::parse("zookeeper.extendedTypesEnabled=true\n").unwrap();
        assert!(c.extended_types);
        for bad in [
            "znode.container.checkIntervalMs=0",
            "znode.container.maxPerMinute=0",
            "znode.container.maxNeverUsedIntervalMs=-5",
            "extendedTypesEnabled=maybe",
        ] {
            assert!(
                matches!(
                    ServerConfig::parse(bad),
                    Err(ConfigError::InvalidValue { .. })
                ),
                "{bad}"
            );
        }
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
                    jute.maxbuffer=0x1000\nglobalOutstandingLimit=5\neventLoops=2\n\
                    stallThresholdMs=4500\n";
        let (c, _) = ServerConfig::parse(text).unwrap();
        assert_eq!(c.stall_threshold_ms, Some(4500));
        assert_eq!(c.engine_config().stall_threshold_ms, 4500);
        assert_eq!(
            ServerConfig::default().engine_config().stall_threshold_ms,
            2000,
            "the engine's default for the default tick"
        );
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
    fn an_unknown_whitelist_word_is_a_warning() {
        let (c, unknown) =
            ServerConfig::parse("4lw.commands.whitelist=stat, ruok, conf, isro, boom\n").unwrap();
        for w in ["stat", "ruok", "conf", "isro"] {
            assert!(c.four_letter_words.allows(w), "{w}");
        }
        assert!(!c.four_letter_words.allows("boom"));
        assert_eq!(
            unknown,
            vec![UnknownKey {
                line: 1,
                key: "4lw.commands.whitelist word boom".into()
            }]
        );
    }

    #[test]
    fn the_prometheus_provider_switches_metrics_on() {
        let (c, unknown) = ServerConfig::parse(&format!(
            "metricsProvider.className={PROMETHEUS_PROVIDER}\nmetricsProvider.httpPort=0\n\
             metricsProvider.httpHost=127.0.0.1\nmetricsProvider.exportJvmInfo=false\n"
        ))
        .unwrap();
        assert_eq!(c.metrics_addr, Some("127.0.0.1:0".parse().unwrap()));
        assert!(unknown.is_empty(), "{unknown:?}");
        let (c, _) = ServerConfig::parse("metricsProvider.httpPort=9000\n").unwrap();
        assert_eq!(c.metrics_addr, None);
    }

    #[test]
    fn the_admin_server_is_on_by_default_in_a_zoo_cfg_and_its_keys_are_read() {
        let (c, unknown) = ServerConfig::parse("tickTime=2000\n").unwrap();
        assert_eq!(c.admin_addr, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(c.admin_command_url, "/commands");
        assert!(unknown.is_empty());
        assert_eq!(ServerConfig::default().admin_addr, None);

        let (c, unknown) = ServerConfig::parse(
            "admin.enableServer=true\nadmin.serverAddress=127.0.0.2\nadmin.serverPort=0\n\
             admin.commandURL=/zk/cmds/\nadmin.idleTimeout=30000\n",
        )
        .unwrap();
        assert_eq!(c.admin_addr, Some("127.0.0.2:0".parse().unwrap()));
        assert_eq!(c.admin_command_url, "/zk/cmds");
        assert!(unknown.is_empty());

        let (c, _) = ServerConfig::parse("admin.enableServer=false\nadmin.serverPort=1\n").unwrap();
        assert_eq!(c.admin_addr, None);
        for bad in [
            "admin.enableServer=maybe",
            "admin.serverPort=http",
            "admin.serverAddress=localhost",
            "admin.commandURL=commands",
        ] {
            assert!(
                matches!(
                    ServerConfig::parse(bad),
                    Err(ConfigError::InvalidValue { .. })
                ),
                "{bad}"
            );
        }
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
    fn security_keys_are_read_and_a_bad_digest_is_not_echoed() {
        let (c, unknown) = ServerConfig::parse(
            "zookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n\
             zookeeper.skipACL=yes\n",
        )
        .unwrap();
        assert!(unknown.is_empty());
        assert!(c.super_digest.is_some());
        assert!(c.acl_policy.skip_acl);
        let err = ServerConfig::parse(
            "zookeeper.DigestAuthenticationProvider.superDigest=super:not-a-hash\n",
        )
        .unwrap_err();
        assert!(!err.to_string().contains("not-a-hash"));
        let mut c = ServerConfig::default();
        c.super_digest_from_env(Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU="))
            .unwrap();
        assert!(c.super_digest.is_some());
        assert!(ServerConfig::default()
            .super_digest_from_env(Some("junk"))
            .is_err());
    }

    #[test]
    fn sasl_users_come_from_the_jaas_file_when_the_provider_is_on() {
        let dir = std::env::temp_dir().join(format!("zks-jaas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let jaas = dir.join("jaas.conf");
        std::fs::write(
            &jaas,
            "Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n              user_bob=\"pw\";\n};\n",
        )
        .unwrap();
        let (mut c, unknown) = ServerConfig::parse(
            "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n\
             zookeeper.superUser=bob\n",
        )
        .unwrap();
        assert!(unknown.is_empty());
        assert!(c.acl_policy.sasl);
        c.load_sasl_users(jaas.to_str()).unwrap();
        assert_eq!(c.sasl_users.as_ref().unwrap().password("bob"), Some("pw"));
        assert_eq!(c.super_user.as_deref(), Some("bob"));
        // Without the provider the file is not read.
        let mut off = ServerConfig::default();
        off.load_sasl_users(Some("/nonexistent")).unwrap();
        assert!(off.sasl_users.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn enforce_auth_needs_known_schemes() {
        let (c, _) =
            ServerConfig::parse("enforce.auth.enabled=true\nenforce.auth.schemes=digest\n")
                .unwrap();
        assert!(c.enforcement.is_enabled());
        assert!(ServerConfig::parse("enforce.auth.enabled=true\n").is_err());
        // sasl is unknown until its provider is configured.
        assert!(ServerConfig::parse("sessionRequireClientSASLAuth=true\n").is_err());
        let (c, _) = ServerConfig::parse(
            "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n\
             sessionRequireClientSASLAuth=true\n",
        )
        .unwrap();
        assert!(c.enforcement.requires_sasl());
    }

    #[test]
    fn memory_budget_and_quota_enforcement_are_read_from_the_file_or_the_environment() {
        let (c, unknown) =
            ServerConfig::parse("zksession.memoryBudget=64m\nzookeeper.enforceQuota=true\n")
                .unwrap();
        assert!(unknown.is_empty());
        assert_eq!(c.memory_budget, Some(64 << 20));
        assert_eq!(c.effective_memory_budget(), Some(64 << 20));
        assert!(c.enforce_quota);
        let (c, _) = ServerConfig::parse("zksession.memoryBudget=0\n").unwrap();
        assert_eq!(c.effective_memory_budget(), None);
        let e = ServerConfig::parse("zksession.memoryBudget=lots\n").unwrap_err();
        assert!(matches!(
            e,
            ConfigError::InvalidValue {
                key: MEMORY_BUDGET_KEY,
                ..
            }
        ));
        let (mut c, _) = ServerConfig::parse("").unwrap();
        assert!(!c.enforce_quota && c.memory_budget.is_none());
        assert!(c.effective_memory_budget().is_some_and(|b| b > 0));
        c.quota_settings_from_env(Some("true"), Some("1g")).unwrap();
        assert!(c.enforce_quota);
        assert_eq!(c.memory_budget, Some(1 << 30));
        let mut fresh = ServerConfig::default();
        assert!(fresh.quota_settings_from_env(Some("maybe"), None).is_err());
    }

    #[test]
    fn tls_keys_are_read_under_both_names() {
        let (c, unknown) = ServerConfig::parse(
            "clientPort=2181\nsecureClientPort=2281\n\
             serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n\
             authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n\
             zookeeper.X509AuthenticationProvider.superUser=CN=admin\n\
             ssl.keyStore.location=/k.pem\nssl.keyStore.type=PEM\nssl.keyStore.password=\n\
             zookeeper.ssl.trustStore.location=/t.pem\nssl.clientAuth=want\n\
             ssl.enabledProtocols=TLSv1.3\nssl.quorum.keyStore.location=/q.pem\n\
             ssl.hostnameVerification=false\n",
        )
        .unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert!(c.plain_port);
        assert_eq!(
            c.secure_client_addr,
            Some("127.0.0.1:2281".parse().unwrap())
        );
        let t = c.tls.unwrap();
        assert_eq!(t.key_store.as_deref(), Some("/k.pem"));
        assert_eq!(t.trust_store.as_deref(), Some("/t.pem"));
        assert_eq!(t.client_auth, crate::security::ClientAuth::Want);
        assert!(t.tls13 && !t.tls12);
        assert!(c.acl_policy.x509);
        assert_eq!(c.acl_policy.x509_super_user.as_deref(), Some("CN=admin"));
    }

    #[test]
    fn a_secure_port_without_client_port_serves_tls_only() {
        let (c, _) = ServerConfig::parse(
            "secureClientPort=2281\nsecureClientPortAddress=127.0.0.2\n\
             ssl.keyStore.location=/k.pem\nssl.clientAuth=none\n",
        )
        .unwrap();
        assert!(!c.plain_port);
        assert_eq!(
            c.secure_client_addr,
            Some("127.0.0.2:2281".parse().unwrap())
        );
        let (c, _) = ServerConfig::parse("clientPort=2181\n").unwrap();
        assert!(c.plain_port && c.secure_client_addr.is_none() && c.tls.is_none());
    }

    #[test]
    fn bad_tls_settings_name_their_key() {
        for (text, key) in [
            ("ssl.clientAuth=sometimes", "ssl.clientAuth"),
            ("ssl.protocol=TLSv1.1", "ssl.protocol"),
            ("ssl.enabledProtocols=SSLv3", "ssl.enabledProtocols"),
            (
                "ssl.keyStore.location=/k.p12\nssl.keyStore.type=PKCS12",
                "ssl.keyStore.type",
            ),
            ("secureClientPort=x", "secureClientPort"),
            ("secureClientPortAddress=nowhere", "secureClientPortAddress"),
        ] {
            match ServerConfig::parse(text) {
                Err(ConfigError::InvalidValue { key: k, .. }) => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            ServerConfig::parse("secureClientPort=2281\n"),
            Err(ConfigError::Missing {
                key: "ssl.keyStore.location",
                needed_by: "secureClientPort"
            })
        );
    }

    #[test]
    fn tls_server_config_reports_unreadable_stores() {
        let (c, _) = ServerConfig::parse(
            "secureClientPort=0\nssl.keyStore.location=/nonexistent/k.pem\nssl.clientAuth=none\n",
        )
        .unwrap();
        let e = c.tls_server_config().unwrap_err();
        assert!(
            matches!(
                e,
                TlsConfigError::Read {
                    setting: "ssl.keyStore.location",
                    ..
                }
            ),
            "{e}"
        );
        assert!(ServerConfig::default()
            .tls_server_config()
            .unwrap()
            .is_none());
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let err = ServerConfig::from_file(Path::new("/nonexistent/zoo.cfg")).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }

    #[test]
    fn digest_enabled_is_on_by_default_and_read_from_the_file_or_the_environment() {
        let (d, _) = ServerConfig::parse("").unwrap();
        assert!(d.digest_enabled());
        let (mut off, unknown) = ServerConfig::parse("zookeeper.digest.enabled=false\n").unwrap();
        assert!(unknown.is_empty());
        assert!(!off.digest_enabled());
        // The file wins over the environment.
        off.digest_from_env(Some("true")).unwrap();
        assert!(!off.digest_enabled());
        let (mut env, _) = ServerConfig::parse("").unwrap();
        env.digest_from_env(Some("false")).unwrap();
        assert!(!env.digest_enabled());
        assert!(env.clone().digest_from_env(Some("maybe")).is_ok());
        let (mut bad, _) = ServerConfig::parse("").unwrap();
        assert!(bad.digest_from_env(Some("maybe")).is_err());
        assert!(ServerConfig::parse("zookeeper.digest.enabled=maybe\n").is_err());
    }
}
