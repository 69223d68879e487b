//! Test support for the client's integration tests: a real Apache ZooKeeper server
//! (Debian's jars) on a free loopback port (ready once `srvr` reports its mode), a cuttable TCP proxy, and bounded event waits.
//! Every process and thread started here is stopped by a Drop guard.

#![allow(dead_code)]

pub mod scenarios;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use zksession::client::WatchedEvent;
use zksession::wire::{EventType, KeeperState};

/// A port nothing listens on (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn classpath() -> String {
    std::env::var("ZK_CLASSPATH").unwrap_or_else(|_| {
        "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar".to_string()
    })
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Which server implementation a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Apache ZooKeeper (`ZooKeeperServerMain` from Debian's jars); persists sessions.
    ZooKeeper,
    /// This crate's `zksessiond` (in memory: a restart forgets every session).
    Zksessiond,
}

/// The `zksessiond` binary next to the test executable (`cargo build --bin zksessiond`).
pub fn zksessiond_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("zksessiond")
}

/// A standalone server with its own data directory.
pub struct ZkServer {
    /// Client port on 127.0.0.1.
    pub port: u16,
    /// The implementation.
    pub kind: Kind,
    dir: PathBuf,
    child: Option<Child>,
}

impl ZkServer {
    /// Starts an Apache ZooKeeper server with this tick time; waits until it serves.
    pub fn start(tick_ms: u32) -> ZkServer {
        ZkServer::start_kind(Kind::ZooKeeper, tick_ms)
    }

    /// Starts a server of this kind with this tick time; waits until it serves.
    pub fn start_kind(kind: Kind, tick_ms: u32) -> ZkServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "zks-client-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(
            dir.join("zoo.cfg"),
            format!(
                "tickTime={tick_ms}\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
                 admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,stat,mntr\n\
                 extendedTypesEnabled=true\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let mut s = ZkServer {
            port,
            kind,
            dir,
            child: None,
        };
        s.resume();
        s
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server (its data stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and data, and waits until it is up.
    pub fn resume(&mut self) {
        assert!(self.child.is_none());
        let cfg = self.dir.join("zoo.cfg");
        let mut cmd = match self.kind {
            Kind::ZooKeeper => {
                let mut c = Command::new("java");
                c.arg("-cp")
                    .arg(classpath())
                    .arg("-Xmx128m")
                    .arg("-Dzookeeper.extendedTypesEnabled=true")
                    .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
                    .arg(&cfg);
                c
            }
            Kind::Zksessiond => {
                let mut c = Command::new(zksessiond_bin());
                c.arg("--config").arg(&cfg);
                c
            }
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary (java with Debian's jars, or zksessiond)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !serving(self.port) {
            assert!(Instant::now() < deadline, "ZooKeeper did not start");
            if let Some(c) = self.child.as_mut() {
                assert!(c.try_wait().unwrap().is_none(), "ZooKeeper exited");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the server serves requests: `ruok` answers before the data tree is loaded,
/// `srvr` reports the mode only once the server runs.
fn serving(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"srvr").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.contains("Mode: ")
}

/// A TCP forwarder that can be cut: while cut, connections are accepted and closed at
/// once and existing ones are shut down.
pub struct Proxy {
    /// Listening port on 127.0.0.1.
    pub port: u16,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Forwards a new port to `upstream`.
    pub fn new(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c, s, o) = (cut.clone(), stop.clone(), open.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(down) = conn else { continue };
                if c.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let mut guard = o.lock().unwrap();
                guard.push(down.try_clone().unwrap());
                guard.push(up.try_clone().unwrap());
                pipe(down.try_clone().unwrap(), up.try_clone().unwrap());
                pipe(up, down);
            }
        });
        Proxy {
            port,
            cut,
            stop,
            open,
            thread: Some(thread),
        }
    }

    /// Cuts every connection and refuses new ones until [`Proxy::heal`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Forwards again.
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cut();
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Collects session-state events until `want` arrives (panics after `within`).
pub fn wait_state(
    rx: &Receiver<WatchedEvent>,
    want: KeeperState,
    within: Duration,
) -> Vec<KeeperState> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(e) if e.event_type == EventType::None => {
                seen.push(e.state);
                if e.state == want {
                    return seen;
                }
            }
            Ok(_) => {}
            Err(_) => panic!("no {want:?} within {within:?}; saw {seen:?}"),
        }
    }
}

/// Waits for the next node event (panics after `within`).
pub fn wait_node_event(rx: &Receiver<WatchedEvent>, within: Duration) -> WatchedEvent {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(e) if e.event_type != EventType::None => return e,
            Ok(_) => {}
            Err(_) => panic!("no node event within {within:?}"),
        }
    }
}

/// Polls `cond` every 50 ms until it holds (panics after `within`).
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
