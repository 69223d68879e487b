//! One TLS server connection over byte buffers, for a non-blocking event loop.
//!
//! Owns: [`TlsConn`], a rustls [`ServerConnection`] driven by the caller's bytes:
//! [`TlsConn::receive`] takes what the socket gave (any split, any size) and returns the
//! plaintext it decrypted; [`TlsConn::send`] queues plaintext; [`TlsConn::take_outgoing`]
//! hands back the ciphertext to write (handshake messages, records, alerts). A mio loop
//! reads into a buffer, calls `receive`, then writes whatever `take_outgoing` returns
//! while `wants_write` is true; no call ever blocks.
//!
//! Invariants: after an error the connection is dead: later calls fail with
//! [`TlsError::Closed`]; the alert rustls queued for the peer is still in
//! `take_outgoing`, so the caller writes it and then closes only this socket.
//!
//! Must never: touch a socket or block; panic on any bytes from the peer.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection};

use super::x509_name::{subject_name, SubjectError};

/// Why a TLS connection ended.
#[derive(Debug)]
pub enum TlsError {
    /// The peer broke the protocol (garbage, a plaintext client, a bad record, a refused
    /// or missing certificate ...).
    Protocol(rustls::Error),
    /// The connection had already failed or been closed.
    Closed,
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Protocol(e) => write!(f, "TLS: {e}"),
            TlsError::Closed => f.write_str("TLS connection closed"),
        }
    }
}

impl std::error::Error for TlsError {}

/// What one [`TlsConn::receive`] call produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Bytes of plaintext appended to the caller's buffer.
    pub plaintext: usize,
    /// The peer sent close_notify: no more plaintext will come.
    pub peer_closed: bool,
}

/// A server-side TLS connection.
pub struct TlsConn {
    conn: ServerConnection,
    failed: bool,
}

impl std::fmt::Debug for TlsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConn")
            .field("handshaking", &self.conn.is_handshaking())
            .field("failed", &self.failed)
            .finish()
    }
}

impl TlsConn {
    /// A new connection awaiting the client's hello.
    pub fn new(config: Arc<ServerConfig>) -> Result<Self, TlsError> {
        Ok(TlsConn {
            conn: ServerConnection::new(config).map_err(TlsError::Protocol)?,
            failed: false,
        })
    }

    fn fail(&mut self, e: rustls::Error) -> TlsError {
        self.failed = true;
        TlsError::Protocol(e)
    }

    /// Feeds bytes read from the socket; the decrypted plaintext is appended to
    /// `plaintext`.
    pub fn receive(
        &mut self,
        mut input: &[u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<Received, TlsError> {
        if self.failed {
            return Err(TlsError::Closed);
        }
        let mut out = Received::default();
        while !input.is_empty() {
            match self.conn.read_tls(&mut input) {
                Ok(_) => {}
                Err(_) => {
                    // Only "buffer full", which draining below prevents; treat as fatal.
                    let e = rustls::Error::General("TLS input buffer full".into());
                    return Err(self.fail(e));
                }
            }
            let state = match self.conn.process_new_packets() {
                Ok(s) => s,
                Err(e) => return Err(self.fail(e)),
            };
            let want = state.plaintext_bytes_to_read();
            if want > 0 {
                let start = plaintext.len();
                plaintext.resize(start + want, 0);
                match self.conn.reader().read_exact(&mut plaintext[start..]) {
                    Ok(()) => out.plaintext += want,
                    Err(_) => {
                        plaintext.truncate(start);
                        return Err(
                            self.fail(rustls::Error::General("short plaintext read".into()))
                        );
                    }
                }
            }
            if state.peer_has_closed() {
                out.peer_closed = true;
            }
        }
        Ok(out)
    }

    /// Queues plaintext to encrypt (buffered by rustls until the handshake ends).
    pub fn send(&mut self, plaintext: &[u8]) -> Result<(), TlsError> {
        if self.failed {
            return Err(TlsError::Closed);
        }
        self.conn
            .writer()
            .write_all(plaintext)
            .map_err(|_| TlsError::Closed)
    }

    /// Queues as much of `plaintext` as rustls's outgoing buffer limit takes; returns how
    /// many bytes it took (0 when the buffer is full: write the ciphertext out first).
    pub fn send_some(&mut self, plaintext: &[u8]) -> Result<usize, TlsError> {
        if self.failed {
            return Err(TlsError::Closed);
        }
        self.conn
            .writer()
            .write(plaintext)
            .map_err(|_| TlsError::Closed)
    }

    /// Whether ciphertext is waiting for [`take_outgoing`](Self::take_outgoing).
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Appends the pending ciphertext to `out`; returns how many bytes.
    pub fn take_outgoing(&mut self, out: &mut Vec<u8>) -> usize {
        let mut n = 0;
        while self.conn.wants_write() {
            match self.conn.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        n
    }

    /// Whether the handshake is still under way.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Sends close_notify (then [`take_outgoing`](Self::take_outgoing) and close).
    pub fn close(&mut self) {
        self.conn.send_close_notify();
    }

    /// The client's x509 identity (ZooKeeper's `X509AuthenticationProvider`: the
    /// subject of the first certificate of the verified chain): `None` before the
    /// handshake ends or when the client sent no certificate.
    pub fn peer_subject(&self) -> Option<Result<String, SubjectError>> {
        if self.conn.is_handshaking() {
            return None;
        }
        let leaf = self.conn.peer_certificates()?.first()?;
        Some(subject_name(leaf))
    }

    /// The negotiated protocol version and cipher suite (after the handshake).
    pub fn negotiated(&self) -> Option<(rustls::ProtocolVersion, rustls::CipherSuite)> {
        Some((
            self.conn.protocol_version()?,
            self.conn.negotiated_cipher_suite()?.suite(),
        ))
    }
}
