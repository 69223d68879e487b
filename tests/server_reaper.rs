//! zksessiond's reaper: containers emptied by their children and TTL nodes left
//! unmodified are deleted by the server, with the watches a delete fires, and the same
//! holds for such nodes recovered from a data directory. Every server binds 127.0.0.1:0
//! with a short `znode.container.checkIntervalMs`; every wait is bounded.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use zksession::client::ZooKeeper;
use zksession::server::{Server, ServerConfig};
use zksession::wire::{Acl, CreateMode, ErrorCode, EventType};

/// Longest wait for a reap: many check intervals.
const WAIT: Duration = Duration::from_secs(10);

fn config(edit: impl FnOnce(&mut ServerConfig)) -> ServerConfig {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut c = ServerConfig {
        client_addr: "127.0.0.1:0".parse().unwrap(),
        tick_ms: 100,
        event_loops: 2,
        container_check_interval_ms: 100,
        ..ServerConfig::default()
    };
    edit(&mut c);
    c
}

fn connect(server: &Server) -> ZooKeeper {
    ZooKeeper::connect(&server.local_addr().to_string(), Duration::from_secs(5)).expect("connects")
}

fn open() -> Vec<Acl> {
    vec![Acl::world_anyone()]
}

/// Waits until `path` is gone; false on timeout.
fn gone_within(zk: &ZooKeeper, path: &str, wait: Duration) -> bool {
    let end = Instant::now() + wait;
    while Instant::now() < end {
        if zk.exists(path, false).unwrap().is_none() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "zks-reaper-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn an_emptied_container_is_reaped_and_its_watchers_told() {
    let server = Server::start(config(|_| {})).unwrap();
    let zk = connect(&server);
    zk.create("/c", b"", &open(), CreateMode::Container)
        .unwrap();
    zk.create("/never", b"", &open(), CreateMode::Container)
        .unwrap();
    zk.create("/c/x", b"", &open(), CreateMode::Persistent)
        .unwrap();
    // With a child it stays, pass after pass.
    std::thread::sleep(Duration::from_millis(400));
    assert!(zk.exists("/c", false).unwrap().is_some());
    zk.exists("/c", true).unwrap();
    zk.delete("/c/x", -1).unwrap();
    let end = Instant::now() + WAIT;
    let event = loop {
        let left = end.saturating_duration_since(Instant::now());
        let e = zk.events().recv_timeout(left).expect("NodeDeleted in time");
        if e.path.as_deref() == Some("/c") {
            break e;
        }
    };
    assert_eq!(event.event_type, EventType::NodeDeleted);
    assert!(zk.exists("/c", false).unwrap().is_none());
    // A container that never had a child is left alone.
    assert!(zk.exists("/never", false).unwrap().is_some());
}

#[test]
fn a_ttl_node_is_reaped_once_unmodified_for_its_ttl_and_childless() {
    let server = Server::start(config(|c| c.extended_types = true)).unwrap();
    let zk = connect(&server);
    let t = zk
        .create_ttl("/t", b"x", &open(), CreateMode::PersistentWithTtl, 300)
        .unwrap();
    assert_eq!(t, "/t");
    assert_eq!(zk.exists("/t", false).unwrap().unwrap().ephemeral_owner, 0);
    zk.create_ttl("/parent", b"x", &open(), CreateMode::PersistentWithTtl, 100)
        .unwrap();
    zk.create("/parent/kid", b"", &open(), CreateMode::Persistent)
        .unwrap();
    let seq = zk
        .create_ttl(
            "/s-",
            b"",
            &open(),
            CreateMode::PersistentSequentialWithTtl,
            200,
        )
        .unwrap();
    assert!(gone_within(&zk, "/t", WAIT));
    assert!(gone_within(&zk, &seq, WAIT));
    // A TTL node with a child stays.
    assert!(zk.exists("/parent", false).unwrap().is_some());
    zk.delete("/parent/kid", -1).unwrap();
    assert!(gone_within(&zk, "/parent", WAIT));
}

#[test]
fn deletions_are_paced_to_max_per_minute() {
    // 120 a minute: one every 500 ms, so three take at least a second after the first.
    let server = Server::start(config(|c| c.container_max_per_minute = 120)).unwrap();
    let zk = connect(&server);
    let boxes = ["/b0", "/b1", "/b2"];
    for b in boxes {
        zk.create(b, b"", &open(), CreateMode::Container).unwrap();
        let child = format!("{b}/x");
        zk.create(&child, b"", &open(), CreateMode::Persistent)
            .unwrap();
        zk.delete(&child, -1).unwrap();
    }
    let left = |zk: &ZooKeeper| {
        boxes
            .iter()
            .filter(|b| zk.exists(b, false).unwrap().is_some())
            .count()
    };
    let end = Instant::now() + WAIT;
    while left(&zk) == 3 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    let first = Instant::now();
    assert!(left(&zk) < 3, "no container reaped");
    while left(&zk) > 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(left(&zk), 0, "containers left");
    // Lower bound only: the pacer never deletes faster than the rate.
    assert!(
        first.elapsed() >= Duration::from_millis(900),
        "{:?}",
        first.elapsed()
    );
}

#[test]
fn ttl_creates_are_unimplemented_without_extended_types() {
    let server = Server::start(config(|_| {})).unwrap();
    let zk = connect(&server);
    let e = zk
        .create_ttl("/t", b"x", &open(), CreateMode::PersistentWithTtl, 300)
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::Unimplemented));
}

#[test]
fn recovered_containers_and_ttl_nodes_keep_their_kind_and_are_reaped() {
    let dir = TempDir::new("recover");
    let slow = |c: &mut ServerConfig| {
        c.data_dir = Some(dir.path().to_owned());
        c.extended_types = true;
        c.container_check_interval_ms = 3_600_000;
    };
    {
        let server = Server::start(config(slow)).unwrap();
        let zk = connect(&server);
        zk.create("/c", b"", &open(), CreateMode::Container)
            .unwrap();
        zk.create("/c/x", b"", &open(), CreateMode::Persistent)
            .unwrap();
        zk.delete("/c/x", -1).unwrap();
        zk.create_ttl("/t", b"x", &open(), CreateMode::PersistentWithTtl, 200)
            .unwrap();
        zk.create("/keep", b"", &open(), CreateMode::Container)
            .unwrap();
        drop(zk);
        server.shutdown();
    }
    {
        // Loaded from the log: both are still there, and reaped by the restarted server.
        let server = Server::start(config(|c| {
            c.data_dir = Some(dir.path().to_owned());
            c.extended_types = true;
        }))
        .unwrap();
        let zk = connect(&server);
        assert!(gone_within(&zk, "/c", WAIT));
        assert!(gone_within(&zk, "/t", WAIT));
        assert!(zk.exists("/keep", false).unwrap().is_some());
        drop(zk);
        server.shutdown();
    }
    {
        // The deletions were logged: they stay deleted after another restart.
        let server = Server::start(config(slow)).unwrap();
        let zk = connect(&server);
        assert!(zk.exists("/c", false).unwrap().is_none());
        assert!(zk.exists("/t", false).unwrap().is_none());
        assert!(zk.exists("/keep", false).unwrap().is_some());
    }
}
