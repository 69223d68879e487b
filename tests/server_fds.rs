//! Descriptor exhaustion: a zksessiond process limited to a few descriptors (RLIMIT_NOFILE,
//! set with util-linux `prlimit` on the child) is flooded with more connections than it
//! can hold. The excess must be shed with a clean close, not left in a queue nobody
//! drains, and once the flood is gone a new client must get a session promptly.
//!
//! Loopback only; the child is stopped by its pid when the test ends, pass or fail.
#![cfg(target_os = "linux")]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zksession::wire::{write_frame, ConnectRequest, ConnectResponse, FrameDecoder, Record};

/// The descriptor limit of the child (its listener, poll, wakers and logs take about ten).
const NOFILE: u32 = 64;
/// Connections opened by the flood.
const FLOOD: usize = 300;
/// How long a new session may take once the flood is closed. Generous: the server retries
/// within milliseconds; this only bounds a broken server.
const RECOVERY_BOUND: Duration = Duration::from_secs(30);

/// The child server, killed (SIGKILL, by pid) and reaped on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_limited(nofile: u32) -> (Daemon, SocketAddr) {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("zks-fds-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=200\nclientPort={port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n\
             admin.enableServer=false\n"
        ),
    )
    .unwrap();
    let child = Command::new("prlimit")
        .arg(format!("--nofile={nofile}:{nofile}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_zksessiond"))
        .arg("--config")
        .arg(&cfg)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("prlimit (util-linux) runs zksessiond");
    let daemon = Daemon { child, dir };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while new_session(addr).is_none() {
        assert!(Instant::now() < deadline, "zksessiond did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (daemon, addr)
}

/// Connects and completes a new-session handshake; the session id, or `None` if the
/// server did not answer within a couple of seconds.
fn new_session(addr: SocketAddr) -> Option<i64> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut out = Vec::new();
    write_frame(&mut out, |w| w.record(&ConnectRequest::new_session(10_000)));
    s.write_all(&out).ok()?;
    let mut frames = FrameDecoder::default();
    let mut buf = [0u8; 512];
    loop {
        if let Ok(Some(f)) = frames.next_frame() {
            let resp = ConnectResponse::from_bytes(f).ok()?;
            return (resp.session_id != 0).then_some(resp.session_id);
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => frames.push(&buf[..n]),
        }
    }
}

/// Whether the server closed this connection (a read sees EOF or a reset).
fn closed_by_server(mut s: &TcpStream) -> bool {
    let mut b = [0u8; 16];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    }
}

#[test]
fn descriptor_exhaustion_sheds_the_excess_and_accepts_again_once_freed() {
    let (mut daemon, addr) = start_limited(NOFILE);

    let mut flood: Vec<TcpStream> = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        // A listen queue nobody drains drops SYNs: bound each attempt.
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            s.set_nonblocking(true).unwrap();
            flood.push(s);
        }
    }
    // Give the server a moment to accept, and shed, what it received.
    std::thread::sleep(Duration::from_secs(1));
    let shed = flood.iter().filter(|s| closed_by_server(s)).count();
    eprintln!(
        "flood: {} of {FLOOD} connected, {shed} closed by the server",
        flood.len()
    );
    assert!(
        shed > 0,
        "connections beyond the descriptor limit are closed, not left queued"
    );
    drop(flood);

    let t = Instant::now();
    let mut session = None;
    while session.is_none() && t.elapsed() < RECOVERY_BOUND {
        session = new_session(addr);
    }
    eprintln!(
        "new session after the flood: {:?} in {:?}",
        session,
        t.elapsed()
    );
    assert!(
        session.is_some(),
        "no new session within {RECOVERY_BOUND:?} of the flood ending"
    );
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "the server kept running"
    );
}
