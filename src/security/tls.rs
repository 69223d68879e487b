//! A rustls server configuration from ZooKeeper's `ssl.*` settings.
//!
//! Owns: [`TlsSettings`] (the settings, parsed from their text), [`ClientAuth`],
//! [`TlsConfigError`] and the building of a rustls [`ServerConfig`] from PEM.
//!
//! The settings, as ZooKeeper 3.8 names them (zoo.cfg `ssl.X`, system property
//! `zookeeper.ssl.X`) and what is kept of their meaning:
//! - `ssl.keyStore.location`: the server's PEM file holding its private key (PKCS#1,
//!   PKCS#8 or SEC1, unencrypted) and its certificate chain, leaf first;
//!   `ssl.keyStore.type`: `PEM`, or from the file's extension (`.pem`); `PKCS12`, `JKS`
//!   and `BCFKS` are refused with a typed error (no PKCS#12 reader is used);
//! - `ssl.trustStore.location` / `ssl.trustStore.type`: PEM certificates the client
//!   certificates must chain to;
//! - `ssl.clientAuth`: `none`, `want` or `need` (any case; unset or empty is `need`, as in
//!   ZooKeeper); `want` and `need` require a trust store;
//! - `ssl.protocol` (default `TLSv1.2`) and `ssl.enabledProtocols` (comma list, default
//!   the protocol alone): `TLSv1.2` and `TLSv1.3` (`TLS` means both); older versions are
//!   refused;
//! - `ssl.ciphersuites`: comma list of IANA / Java names; names rustls does not implement
//!   (the CBC suites of ZooKeeper's default list) are skipped; none usable is an error.
//!   Unset, ZooKeeper's default list is used (its GCM suites, as rustls has no CBC), plus
//!   the TLS 1.3 suites when TLS 1.3 is enabled.
//!
//! Must never: read a socket; the only I/O is reading the two files in
//! [`TlsSettings::server_config`].

use std::sync::Arc;

use rustls::crypto::ring::{cipher_suite as cs, default_provider};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};

/// `ssl.clientAuth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    None,
    /// A certificate is asked for; clients without one are let in with no x509 identity.
    Want,
    /// A trusted certificate is required.
    Need,
}

/// Why no TLS configuration can be built.
#[derive(Debug)]
pub enum TlsConfigError {
    /// `ssl.keyStore.location` is not set.
    MissingKeyStore,
    /// `ssl.clientAuth` is want or need and `ssl.trustStore.location` is not set.
    MissingTrustStore,
    /// A file could not be read.
    Read {
        /// The setting that names it.
        setting: &'static str,
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A store type other than PEM (given or from the extension).
    UnsupportedStoreType {
        /// The setting.
        setting: &'static str,
        /// The type or file name.
        value: String,
    },
    /// The PEM text is damaged.
    BadPem {
        /// The setting.
        setting: &'static str,
        /// What the PEM reader found.
        error: rustls::pki_types::pem::Error,
    },
    /// The key store has no private key (encrypted keys are not read).
    NoPrivateKey,
    /// The key store's private key is encrypted (no password-based decryption here).
    EncryptedKey,
    /// The key store has no certificate.
    NoCertificate,
    /// The trust store has no usable certificate.
    NoTrustAnchors,
    /// `ssl.clientAuth` is not none, want or need.
    BadClientAuth(String),
    /// A protocol rustls does not speak (`TLSv1.1`, `SSLv3`, ...).
    UnsupportedProtocol(String),
    /// No cipher suite of the list is implemented, or none fits the enabled protocols.
    NoUsableCipherSuite,
    /// rustls refused the key, the chain or the client verifier.
    Rustls(rustls::Error),
    /// The client certificate verifier could not be built.
    Verifier(rustls::server::VerifierBuilderError),
}

impl std::fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsConfigError::MissingKeyStore => f.write_str("ssl.keyStore.location is not set"),
            TlsConfigError::MissingTrustStore => {
                f.write_str("ssl.clientAuth needs ssl.trustStore.location")
            }
            TlsConfigError::Read {
                setting,
                path,
                source,
            } => write!(f, "{setting}: cannot read {path}: {source}"),
            TlsConfigError::UnsupportedStoreType { setting, value } => {
                write!(
                    f,
                    "{setting}: store type of {value:?} is not supported (PEM only)"
                )
            }
            TlsConfigError::BadPem { setting, error } => write!(f, "{setting}: bad PEM: {error:?}"),
            TlsConfigError::NoPrivateKey => f.write_str("ssl.keyStore.location: no private key"),
            TlsConfigError::EncryptedKey => {
                f.write_str("ssl.keyStore.location: encrypted private keys are not supported")
            }
            TlsConfigError::NoCertificate => f.write_str("ssl.keyStore.location: no certificate"),
            TlsConfigError::NoTrustAnchors => {
                f.write_str("ssl.trustStore.location: no usable certificate")
            }
            TlsConfigError::BadClientAuth(v) => {
                write!(f, "ssl.clientAuth: {v:?} is not none, want or need")
            }
            TlsConfigError::UnsupportedProtocol(p) => write!(f, "unsupported TLS protocol {p:?}"),
            TlsConfigError::NoUsableCipherSuite => {
                f.write_str("ssl.ciphersuites: no supported suite for the enabled protocols")
            }
            TlsConfigError::Rustls(e) => write!(f, "TLS configuration: {e}"),
            TlsConfigError::Verifier(e) => write!(f, "client certificate verifier: {e}"),
        }
    }
}

impl std::error::Error for TlsConfigError {}

/// ZooKeeper's `ssl.*` settings for the secure client port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `ssl.keyStore.location`.
    pub key_store: Option<String>,
    /// `ssl.trustStore.location`.
    pub trust_store: Option<String>,
    /// `ssl.clientAuth`.
    pub client_auth: ClientAuth,
    /// TLS 1.2 enabled.
    pub tls12: bool,
    /// TLS 1.3 enabled.
    pub tls13: bool,
    /// `ssl.ciphersuites` as given (`None`: ZooKeeper's default list).
    pub cipher_suites: Option<Vec<String>>,
}

/// Java names of the suites rustls implements.
const SUITES: [(&str, SupportedCipherSuite); 9] = [
    ("TLS_AES_128_GCM_SHA256", cs::TLS13_AES_128_GCM_SHA256),
    ("TLS_AES_256_GCM_SHA384", cs::TLS13_AES_256_GCM_SHA384),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        cs::TLS13_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// ZooKeeper's default list (Java 9+ order) restricted to what rustls implements.
const ZK_DEFAULT_SUITES: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

const TLS13_SUITES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

fn comma_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_pem(setting: &'static str, kind: Option<&str>, path: &str) -> Result<(), TlsConfigError> {
    let ok = match kind.filter(|k| !k.is_empty()) {
        Some(k) => k.eq_ignore_ascii_case("PEM"),
        None => path.ends_with(".pem"),
    };
    if ok {
        Ok(())
    } else {
        Err(TlsConfigError::UnsupportedStoreType {
            setting,
            value: kind.unwrap_or(path).to_owned(),
        })
    }
}

impl TlsSettings {
    /// Reads the settings through `get(name)`, which is asked for `ssl.X` names (the
    /// caller also looks up `zookeeper.ssl.X`). Checks the values that need no file.
    pub fn from_properties(get: impl Fn(&str) -> Option<String>) -> Result<Self, TlsConfigError> {
        let key_store = get("ssl.keyStore.location").filter(|s| !s.is_empty());
        let trust_store = get("ssl.trustStore.location").filter(|s| !s.is_empty());
        if let Some(p) = &key_store {
            is_pem("ssl.keyStore.type", get("ssl.keyStore.type").as_deref(), p)?;
        }
        if let Some(p) = &trust_store {
            is_pem(
                "ssl.trustStore.type",
                get("ssl.trustStore.type").as_deref(),
                p,
            )?;
        }
        let client_auth = match get("ssl.clientAuth")
            .unwrap_or_default()
            .to_ascii_uppercase()
            .as_str()
        {
            "" | "NEED" => ClientAuth::Need,
            "WANT" => ClientAuth::Want,
            "NONE" => ClientAuth::None,
            other => return Err(TlsConfigError::BadClientAuth(other.to_owned())),
        };
        let protocols = match get("ssl.enabledProtocols") {
            Some(list) => comma_list(&list),
            None => vec![get("ssl.protocol").unwrap_or_else(|| "TLSv1.2".to_owned())],
        };
        let (mut tls12, mut tls13) = (false, false);
        for p in &protocols {
            match p.as_str() {
                "TLSv1.2" => tls12 = true,
                "TLSv1.3" => tls13 = true,
                "TLS" => (tls12, tls13) = (true, true),
                other => return Err(TlsConfigError::UnsupportedProtocol(other.to_owned())),
            }
        }
        if !tls12 && !tls13 {
            return Err(TlsConfigError::UnsupportedProtocol(String::new()));
        }
        Ok(TlsSettings {
            key_store,
            trust_store,
            client_auth,
            tls12,
            tls13,
            cipher_suites: get("ssl.ciphersuites").map(|l| comma_list(&l)),
        })
    }

    fn provider(&self) -> Result<CryptoProvider, TlsConfigError> {
        let names: Vec<String> = match &self.cipher_suites {
            Some(list) => list.clone(),
            None => {
                let mut v: Vec<String> = Vec::new();
                if self.tls13 {
                    v.extend(TLS13_SUITES.iter().map(|s| s.to_string()));
                }
                v.extend(ZK_DEFAULT_SUITES.iter().map(|s| s.to_string()));
                v
            }
        };
        let suites: Vec<SupportedCipherSuite> = names
            .iter()
            .filter_map(|n| SUITES.iter().find(|(name, _)| name == n).map(|(_, s)| *s))
            .filter(|s| match s {
                SupportedCipherSuite::Tls12(_) => self.tls12,
                SupportedCipherSuite::Tls13(_) => self.tls13,
            })
            .collect();
        if suites.is_empty() {
            return Err(TlsConfigError::NoUsableCipherSuite);
        }
        Ok(CryptoProvider {
            cipher_suites: suites,
            ..default_provider()
        })
    }

    fn versions(&self, provider: &CryptoProvider) -> Vec<&'static SupportedProtocolVersion> {
        let has = |v13: bool| {
            provider
                .cipher_suites
                .iter()
                .any(|s| matches!(s, SupportedCipherSuite::Tls13(_)) == v13)
        };
        let mut v = Vec::new();
        if self.tls13 && has(true) {
            v.push(&rustls::version::TLS13);
        }
        if self.tls12 && has(false) {
            v.push(&rustls::version::TLS12);
        }
        v
    }

    /// Builds the server configuration from PEM text already in memory.
    pub fn server_config_from_pem(
        &self,
        key_store_pem: &[u8],
        trust_store_pem: Option<&[u8]>,
    ) -> Result<Arc<ServerConfig>, TlsConfigError> {
        let provider = Arc::new(self.provider()?);
        let versions = self.versions(&provider);
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(key_store_pem)
            .collect::<Result<_, _>>()
            .map_err(|error| TlsConfigError::BadPem {
                setting: "ssl.keyStore.location",
                error,
            })?;
        if chain.is_empty() {
            return Err(TlsConfigError::NoCertificate);
        }
        let key = match PrivateKeyDer::from_pem_slice(key_store_pem) {
            Ok(k) => k,
            Err(rustls::pki_types::pem::Error::NoItemsFound) => {
                let encrypted = key_store_pem
                    .windows(b"ENCRYPTED".len())
                    .any(|w| w == b"ENCRYPTED");
                return Err(if encrypted {
                    TlsConfigError::EncryptedKey
                } else {
                    TlsConfigError::NoPrivateKey
                });
            }
            Err(error) => {
                return Err(TlsConfigError::BadPem {
                    setting: "ssl.keyStore.location",
                    error,
                })
            }
        };
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(TlsConfigError::Rustls)?;
        let builder = match self.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            auth => {
                let pem = trust_store_pem.ok_or(TlsConfigError::MissingTrustStore)?;
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|error| TlsConfigError::BadPem {
                        setting: "ssl.trustStore.location",
                        error,
                    })?;
                    // A certificate webpki cannot use as an anchor is skipped.
                    let _ = roots.add(cert);
                }
                if roots.is_empty() {
                    return Err(TlsConfigError::NoTrustAnchors);
                }
                let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let v = if auth == ClientAuth::Want {
                    v.allow_unauthenticated()
                } else {
                    v
                };
                builder.with_client_cert_verifier(v.build().map_err(TlsConfigError::Verifier)?)
            }
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(TlsConfigError::Rustls)?;
        Ok(Arc::new(config))
    }

    /// Reads the key and trust stores and builds the server configuration.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsConfigError> {
        let read = |setting: &'static str, path: &str| {
            std::fs::read(path).map_err(|source| TlsConfigError::Read {
                setting,
                path: path.to_owned(),
                source,
            })
        };
        let key_path = self
            .key_store
            .as_deref()
            .ok_or(TlsConfigError::MissingKeyStore)?;
        let key = read("ssl.keyStore.location", key_path)?;
        let trust = match (&self.trust_store, self.client_auth) {
            (_, ClientAuth::None) => None,
            (Some(p), _) => Some(read("ssl.trustStore.location", p)?),
            (None, _) => return Err(TlsConfigError::MissingTrustStore),
        };
        self.server_config_from_pem(&key, trust.as_deref())
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
