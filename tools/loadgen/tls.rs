//! Pings and handshakes over TLS or plaintext, from blocking client threads, so one
//! generator measures a server's plain and secure ports (and other servers') alike.
//!
//! Owns: `loadgen pings` (N threads, each with one session and one ping in flight, the
//! next sent on the reply: the saturated ping rate, p50/p99 latency and the server's CPU
//! per ping) and `loadgen handshakes` (N threads each repeating TCP connect, TLS
//! handshake when asked, ConnectRequest, closeSession, close: sessions opened per second
//! and server CPU per handshake). With `--tls-ca` the connections use rustls (TLS 1.2
//! and 1.3, the server's certificate checked against that CA for the name `localhost`;
//! `--tls-cert`/`--tls-key` add a client certificate; no session resumption, so every
//! handshake is a full one); without it they are plaintext.
//!
//! Must never: run unbounded (every read has a timeout, each phase a deadline).

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::hist::{self, Hist};
use super::procfs;
use super::proto;

const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The options of `pings` and `handshakes`.
#[derive(Args, Debug, Clone)]
pub struct TlsLoad {
    /// The server's client (or secure client) address.
    pub addr: SocketAddrV4,
    /// Client threads (one session and one request in flight each).
    #[arg(long, default_value_t = 16)]
    pub threads: usize,
    /// Seconds of the measured phase.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// The server's pid, for its CPU time (from /proc).
    #[arg(long)]
    pub pid: Option<u32>,
    /// The label of the RESULT line.
    #[arg(long, default_value = "server")]
    pub label: String,
    /// PEM file of the CA the server's certificate must chain to: connect over TLS.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate chain (with `--tls-key`), for servers that want one.
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e:?}", path.display()))
}

/// The rustls client configuration the options ask for (`None`: plaintext).
fn client_config(o: &TlsLoad) -> Result<Option<Arc<ClientConfig>>, String> {
    let Some(ca) = &o.tls_ca else {
        return Ok(None);
    };
    let mut roots = RootCertStore::empty();
    for c in read_pem_certs(ca)? {
        roots.add(c).map_err(|e| format!("CA: {e}"))?;
    }
    let b = ClientConfig::builder().with_root_certificates(roots);
    let mut config = match (&o.tls_cert, &o.tls_key) {
        (Some(cert), Some(key)) => {
            let chain = read_pem_certs(cert)?;
            let bytes = std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?;
            let key = PrivateKeyDer::from_pem_slice(&bytes)
                .map_err(|e| format!("{}: {e:?}", key.display()))?;
            b.with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
        _ => b.with_no_client_auth(),
    };
    // Every handshake a full one: no session resumption.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Some(Arc::new(config)))
}

/// A plaintext or TLS connection.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(buf),
            Stream::Tls(s) => s.write_all(buf),
        }
    }
}

/// One session on its own connection.
struct Session {
    stream: Stream,
    buf: Vec<u8>,
    have: usize,
}

impl Session {
    /// Connects (TLS handshake included) and opens a session.
    fn open(addr: SocketAddrV4, tls: Option<&Arc<ClientConfig>>) -> Result<Session, String> {
        let tcp = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let stream = match tls {
            None => Stream::Plain(tcp),
            Some(config) => {
                let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
                let conn =
                    ClientConnection::new(config.clone(), name).map_err(|e| format!("TLS: {e}"))?;
                Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
            }
        };
        let mut s = Session {
            stream,
            buf: vec![0; 16 * 1024],
            have: 0,
        };
        s.stream
            .write_all(&proto::connect_request(30_000))
            .map_err(|e| format!("write: {e}"))?;
        let payload = s.frame()?;
        proto::parse_connect_response(&payload)
            .filter(|(id, _)| *id != 0)
            .ok_or("no session")?;
        Ok(s)
    }

    /// The next frame's payload.
    fn frame(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if self.have >= 4 {
                let len = i32::from_be_bytes(self.buf[..4].try_into().unwrap_or_default());
                let len = usize::try_from(len).map_err(|_| "negative frame length")?;
                if len > 0x10_0000 {
                    return Err("frame too long".into());
                }
                if self.have >= 4 + len {
                    let payload = self.buf[4..4 + len].to_vec();
                    self.buf.copy_within(4 + len..self.have, 0);
                    self.have -= 4 + len;
                    return Ok(payload);
                }
                if self.buf.len() < 4 + len {
                    self.buf.resize(4 + len, 0);
                }
            }
            let have = self.have;
            match self.stream.read(&mut self.buf[have..]) {
                Ok(0) => return Err("server closed the connection".into()),
                Ok(n) => self.have += n,
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// Sends one request frame and waits for its reply; returns the reply's error code.
    fn call(&mut self, frame: &[u8]) -> Result<i32, String> {
        self.stream
            .write_all(frame)
            .map_err(|e| format!("write: {e}"))?;
        let payload = self.frame()?;
        let (_, err) = proto::parse_reply_header(&payload).ok_or("bad reply")?;
        Ok(err)
    }
}

/// What the threads measured together.
struct Figures {
    ops: u64,
    errors: u64,
    hist: Hist,
    wall_secs: f64,
    cpu_secs: Option<f64>,
}

/// Runs `work` on `threads` threads for `secs` (each returning its ops, errors and
/// latencies), measuring the server's CPU time over the phase.
fn measure(
    o: &TlsLoad,
    work: impl Fn(Instant) -> Result<(u64, u64, Hist), String> + Sync,
) -> Result<Figures, String> {
    let cpu = || o.pid.and_then(procfs::cpu_seconds);
    let before = cpu();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(o.secs);
    let results: Vec<Result<(u64, u64, Hist), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..o.threads).map(|_| s.spawn(|| work(deadline))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let wall_secs = start.elapsed().as_secs_f64();
    let after = cpu();
    let mut f = Figures {
        ops: 0,
        errors: 0,
        hist: hist::new(),
        wall_secs,
        cpu_secs: before.zip(after).map(|(b, a)| a - b),
    };
    for r in results {
        let (ops, errors, h) = r?;
        f.ops += ops;
        f.errors += errors;
        f.hist.add(&h).map_err(|e| format!("histograms: {e}"))?;
    }
    Ok(f)
}

fn report(o: &TlsLoad, mode: &str, f: &Figures) {
    let na = |v: Option<f64>| v.map_or("na".to_owned(), |x| format!("{x:.2}"));
    let per_op = f
        .cpu_secs
        .filter(|_| f.ops > 0)
        .map(|c| c * 1e6 / f.ops as f64);
    println!(
        "RESULT label={} mode={mode} transport={} threads={} ops={} errors={} ops_per_s={:.1} \
         p50_us={:.1} p99_us={:.1} server_cpu_us_per_op={} server_cpu_cores={}",
        o.label,
        if o.tls_ca.is_some() { "tls" } else { "plain" },
        o.threads,
        f.ops,
        f.errors,
        f.ops as f64 / f.wall_secs,
        f.hist.value_at_quantile(0.50) as f64 / 1000.0,
        f.hist.value_at_quantile(0.99) as f64 / 1000.0,
        na(per_op),
        na(f.cpu_secs.map(|c| c / f.wall_secs)),
    );
}

/// `loadgen pings`: closed-loop pings on one session per thread, sessions opened before
/// the measured phase.
pub fn pings(o: &TlsLoad) -> Result<(), String> {
    let tls = client_config(o)?;
    let sessions: Vec<std::sync::Mutex<Session>> = (0..o.threads)
        .map(|_| Session::open(o.addr, tls.as_ref()).map(std::sync::Mutex::new))
        .collect::<Result<_, _>>()?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let f = measure(o, |deadline| {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut s = sessions[i].lock().map_err(|_| "poisoned")?;
        let (mut ops, mut errors, mut h) = (0u64, 0u64, hist::new());
        while Instant::now() < deadline {
            let t = Instant::now();
            match s.call(&proto::PING) {
                Ok(0) => {
                    ops += 1;
                    let _ = h.record(t.elapsed().as_nanos() as u64);
                }
                Ok(_) => errors += 1,
                Err(_) => {
                    errors += 1;
                    break;
                }
            }
        }
        Ok((ops, errors, h))
    })?;
    for s in sessions {
        if let Ok(mut s) = s.into_inner() {
            let _ = s.call(&proto::CLOSE);
        }
    }
    report(o, "pings", &f);
    Ok(())
}

/// `loadgen handshakes`: each thread opens a session (TCP, TLS, ConnectRequest), closes
/// it with closeSession and repeats.
pub fn handshakes(o: &TlsLoad) -> Result<(), String> {
    let tls = client_config(o)?;
    let f = measure(o, |deadline| {
        let (mut ops, mut errors, mut h) = (0u64, 0u64, hist::new());
        while Instant::now() < deadline {
            let t = Instant::now();
            match Session::open(o.addr, tls.as_ref()) {
                Ok(mut s) => {
                    let _ = s.call(&proto::CLOSE);
                    ops += 1;
                    let _ = h.record(t.elapsed().as_nanos() as u64);
                }
                Err(_) => errors += 1,
            }
        }
        Ok((ops, errors, h))
    })?;
    report(o, "handshakes", &f);
    Ok(())
}
