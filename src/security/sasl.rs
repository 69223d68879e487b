//! The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper's server runs it.
//!
//! Owns: [`DigestMd5Server`], a state machine fed the tokens of the client's SASL packets
//! (opcode 102, `GetSASLRequest{token}`), answering the token of each
//! `SetSASLResponse{token}`:
//! 1. the client's first token is empty; the answer is the challenge
//!    `realm="zk-sasl-md5",nonce="<40 base64 chars>",qop="auth",charset=utf-8,algorithm=md5-sess`;
//! 2. the client's digest response is checked (nonce, `nc=00000001`, qop `auth`,
//!    `digest-uri` `zookeeper/zk-sasl-md5`, realm, the user's password from the JAAS
//!    `Server` section, or the super password for `super`) and the answer is
//!    `rspauth=<hex>`; the exchange is then complete and the connection's identity is
//!    `sasl:<user name>` (ZooKeeper authorizes the authentication id, not an `authzid`).
//!
//! Any failure is final: the server answers `AuthFailed` (or
//! `SessionClosedRequireSaslAuth` when SASL is required) and closes the connection.
//! Only `qop=auth` is offered, as ZooKeeper's server does; no integrity or privacy layer.
//!
//! Must never: draw randomness or read a clock (the nonce is given); log a password or a
//! response hash; panic on any token.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq as _;

use super::jaas::SaslUsers;
use super::sasl_fields::{self, quote, FieldsError};

/// The service name ZooKeeper's SASL server registers.
pub const PROTOCOL: &str = "zookeeper";
/// The server name, and the one realm offered, of ZooKeeper's DIGEST-MD5 server.
pub const SERVER_NAME: &str = "zk-sasl-md5";
/// Raw nonce bytes (base64: 40 characters), as the JDK's server uses.
pub const NONCE_LEN: usize = 30;

/// Why a SASL exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslError {
    /// The first token was not empty (DIGEST-MD5 has no initial response).
    InitialResponse,
    /// The response is not a directive list.
    Syntax,
    /// A directive appears twice.
    DuplicateDirective,
    /// A required directive is missing (`username`, `nonce`, `cnonce`, `nc`,
    /// `digest-uri` or `response`).
    MissingDirective(&'static str),
    /// The nonce is not the one sent.
    NonceMismatch,
    /// `nc` is not `00000001`.
    NonceCount,
    /// A qop other than `auth`.
    Qop,
    /// A charset other than `utf-8`.
    Charset,
    /// `digest-uri` is not `zookeeper/<server name>`.
    DigestUri,
    /// A realm that was not offered.
    Realm,
    /// No such user (or no password for it).
    UnknownUser,
    /// The response hash is wrong: bad password.
    BadResponse,
    /// A token arrived after the exchange had ended.
    Finished,
}

impl std::fmt::Display for SaslError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaslError::InitialResponse => f.write_str("DIGEST-MD5 takes no initial response"),
            SaslError::Syntax => f.write_str("malformed digest response"),
            SaslError::DuplicateDirective => f.write_str("repeated directive"),
            SaslError::MissingDirective(d) => write!(f, "missing directive {d}"),
            SaslError::NonceMismatch => f.write_str("nonce mismatch"),
            SaslError::NonceCount => f.write_str("nonce count must be 00000001"),
            SaslError::Qop => f.write_str("unsupported qop"),
            SaslError::Charset => f.write_str("unsupported charset"),
            SaslError::DigestUri => f.write_str("mismatched digest-uri"),
            SaslError::Realm => f.write_str("unknown realm"),
            SaslError::UnknownUser => f.write_str("unknown user"),
            SaslError::BadResponse => f.write_str("wrong credentials"),
            SaslError::Finished => f.write_str("exchange already finished"),
        }
    }
}

impl std::error::Error for SaslError {}

impl From<FieldsError> for SaslError {
    fn from(e: FieldsError) -> Self {
        match e {
            FieldsError::Duplicate => SaslError::DuplicateDirective,
            FieldsError::Syntax | FieldsError::Encoding => SaslError::Syntax,
        }
    }
}

/// What the server answers to one client token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// Send this token; the exchange goes on.
    Challenge(Vec<u8>),
    /// Send this token (`rspauth=...`); the client is authenticated as `user`.
    Success {
        /// The final token.
        token: Vec<u8>,
        /// The identity to add: `sasl:<user>`.
        user: String,
    },
}

/// The protocol and server name a DIGEST-MD5 server checks the `digest-uri` against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslServerName {
    /// `zookeeper`.
    pub protocol: String,
    /// `zk-sasl-md5`, also the realm offered.
    pub server_name: String,
}

impl Default for SaslServerName {
    fn default() -> Self {
        SaslServerName {
            protocol: PROTOCOL.to_owned(),
            server_name: SERVER_NAME.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Start,
    Challenged,
    Done,
}

/// One connection's DIGEST-MD5 exchange.
pub struct DigestMd5Server<'u> {
    users: &'u SaslUsers,
    super_password: Option<&'u str>,
    name: SaslServerName,
    nonce: String,
    state: State,
}

impl std::fmt::Debug for DigestMd5Server<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestMd5Server")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 2831's rule for `charset=utf-8`: text that fits ISO 8859-1 is hashed in it,
/// other text in UTF-8.
fn latin1_or_utf8(s: &str) -> Vec<u8> {
    if s.chars().all(|c| (c as u32) < 0x100) {
        s.chars().map(|c| c as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

/// The fields of a digest response that enter the hashes.
struct Response<'a> {
    user: &'a str,
    realm: &'a str,
    nonce: &'a str,
    cnonce: &'a str,
    nc: &'a str,
    qop: &'a str,
    uri: &'a str,
    authzid: Option<&'a str>,
}

impl Response<'_> {
    /// `HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2))))` with `A2 = a2_prefix:uri`.
    fn digest(&self, password: &str, a2_prefix: &str) -> String {
        let secret = md5(&[
            &latin1_or_utf8(self.user),
            b":",
            &latin1_or_utf8(self.realm),
            b":",
            &latin1_or_utf8(password),
        ]);
        let mut a1 = vec![
            &secret[..],
            b":",
            self.nonce.as_bytes(),
            b":",
            self.cnonce.as_bytes(),
        ];
        if let Some(z) = self.authzid {
            a1.extend_from_slice(&[b":", z.as_bytes()]);
        }
        let ha1 = hex(&md5(&a1));
        let ha2 = hex(&md5(&[a2_prefix.as_bytes(), b":", self.uri.as_bytes()]));
        hex(&md5(&[
            ha1.as_bytes(),
            b":",
            self.nonce.as_bytes(),
            b":",
            self.nc.as_bytes(),
            b":",
            self.cnonce.as_bytes(),
            b":",
            self.qop.as_bytes(),
            b":",
            ha2.as_bytes(),
        ]))
    }
}

impl<'u> DigestMd5Server<'u> {
    /// A server for ZooKeeper's names, with `users` from the JAAS `Server` section, the
    /// optional super password (`zookeeper.SASLAuthenticationProvider.superPassword`,
    /// the password of the user `super`), and `nonce_bytes` drawn by the caller from a
    /// secure random source.
    pub fn new(
        users: &'u SaslUsers,
        super_password: Option<&'u str>,
        nonce_bytes: [u8; NONCE_LEN],
    ) -> Self {
        Self::with_name(
            users,
            super_password,
            SaslServerName::default(),
            STANDARD.encode(nonce_bytes),
        )
    }

    /// A server with any names and nonce text (RFC test vectors).
    pub fn with_name(
        users: &'u SaslUsers,
        super_password: Option<&'u str>,
        name: SaslServerName,
        nonce: String,
    ) -> Self {
        DigestMd5Server {
            users,
            super_password,
            name,
            nonce,
            state: State::Start,
        }
    }

    /// Whether the exchange has ended (successfully or not).
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    /// Handles one client token.
    pub fn step(&mut self, token: &[u8]) -> Result<SaslStep, SaslError> {
        let state = std::mem::replace(&mut self.state, State::Done);
        match state {
            State::Start if token.is_empty() => {
                self.state = State::Challenged;
                Ok(SaslStep::Challenge(self.challenge()))
            }
            State::Start => Err(SaslError::InitialResponse),
            State::Challenged => self.check_response(token),
            State::Done => Err(SaslError::Finished),
        }
    }

    fn challenge(&self) -> Vec<u8> {
        format!(
            "realm=\"{}\",nonce=\"{}\",qop=\"auth\",charset=utf-8,algorithm=md5-sess",
            quote(&self.name.server_name),
            quote(&self.nonce)
        )
        .into_bytes()
    }

    fn check_response(&self, token: &[u8]) -> Result<SaslStep, SaslError> {
        let fields = sasl_fields::parse(token)?;
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let need = |k: &'static str| get(k).ok_or(SaslError::MissingDirective(k));
        let r = Response {
            user: need("username")?,
            realm: get("realm").unwrap_or(""),
            nonce: need("nonce")?,
            cnonce: need("cnonce")?,
            nc: need("nc")?,
            qop: get("qop").unwrap_or("auth"),
            uri: need("digest-uri")?,
            authzid: get("authzid"),
        };
        let response = need("response")?;
        if r.nonce != self.nonce {
            return Err(SaslError::NonceMismatch);
        }
        if r.nc != "00000001" {
            return Err(SaslError::NonceCount);
        }
        if r.qop != "auth" {
            return Err(SaslError::Qop);
        }
        if get("charset").is_some_and(|c| !c.eq_ignore_ascii_case("utf-8")) {
            return Err(SaslError::Charset);
        }
        if !r.realm.is_empty() && r.realm != self.name.server_name {
            return Err(SaslError::Realm);
        }
        let mut uri = r.uri.split('/');
        let uri_ok = uri
            .next()
            .is_some_and(|p| p.eq_ignore_ascii_case(&self.name.protocol))
            && uri
                .next()
                .is_some_and(|h| h.eq_ignore_ascii_case(&self.name.server_name))
            && uri.nth(1).is_none();
        if !uri_ok {
            return Err(SaslError::DigestUri);
        }
        let password = match (r.user, self.super_password) {
            ("super", Some(p)) => p,
            _ => self.users.password(r.user).ok_or(SaslError::UnknownUser)?,
        };
        let expected = r.digest(password, "AUTHENTICATE");
        if !bool::from(
            expected
                .as_bytes()
                .ct_eq(response.to_ascii_lowercase().as_bytes()),
        ) {
            return Err(SaslError::BadResponse);
        }
        Ok(SaslStep::Success {
            token: format!("rspauth={}", r.digest(password, "")).into_bytes(),
            user: r.user.to_owned(),
        })
    }
}

#[cfg(test)]
#[path = "sasl_tests.rs"]
mod tests;
