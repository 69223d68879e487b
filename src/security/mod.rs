//! Access control and authentication as ZooKeeper 3.8 does them, without I/O.
//!
//! - `acl`: permission checks and the validation of new ACL lists ([`check`],
//!   [`fixup_acl`], [`AclPolicy`], [`AclError`]), getACL redaction and whoAmI;
//! - `acl_cache`: one copy of each distinct ACL list, with snapshot-compatible keys
//!   ([`AclCache`]);
//! - `auth_info`: the identities of one connection ([`AuthInfo`]);
//! - `auth_packet`: what `addauth` does ([`handle_auth_packet`]) and `enforce.auth`
//!   ([`AuthEnforcement`]);
//! - `ip`: the `ip` scheme's address and CIDR matching;
//! - `digest`: the `digest` scheme and the super digest;
//! - `x509_name`: the `x509` identity of a client certificate;
//! - `jaas`: the users of a JAAS `Server` section;
//! - `sasl`: the server side of SASL DIGEST-MD5 ([`DigestMd5Server`]), with
//!   `sasl_fields` parsing its directive lists;
//! - `tls`: a rustls server configuration from ZooKeeper's `ssl.*` keys ([`TlsSettings`]);
//! - `tls_conn`: a non-blocking TLS connection over byte buffers ([`TlsConn`]).
//!
//! Invariants: everything here is a pure function of its inputs or a state machine fed
//! bytes; the server decides when to call it.
//!
//! Must never: read a socket, a clock or the environment (the one file access is
//! [`TlsSettings::server_config`] reading the key and trust stores); log secrets
//! (passwords, digests, SASL responses).

mod acl;
mod acl_cache;
mod auth_info;
mod auth_packet;
pub mod digest;
pub mod ip;
mod jaas;
mod sasl;
mod sasl_fields;
mod tls;
mod tls_conn;
mod x509_name;

pub use acl::{check, fixup_acl, perms, redact_digests, who_am_i, AclError, AclPolicy};
pub use acl_cache::{AclCache, AclList};
pub use auth_info::{java_host_address, AuthInfo, SUPER_SCHEME};
pub use auth_packet::{
    add_x509, handle_auth_packet, AuthEnforcement, AuthFailed, EnforceConfigError, EnforceError,
};
pub use jaas::{JaasConfig, JaasError, JaasModule, SaslUsers, DEFAULT_SERVER_SECTION};
pub use sasl::{
    DigestMd5Server, SaslError, SaslServerName, SaslStep, NONCE_LEN, PROTOCOL as SASL_PROTOCOL,
    SERVER_NAME as SASL_SERVER_NAME,
};
pub use tls::{ClientAuth, TlsConfigError, TlsSettings};
pub use tls_conn::{Received, TlsConn, TlsError};
pub use x509_name::{is_valid_dn, rfc2253, subject_name, SubjectError};
