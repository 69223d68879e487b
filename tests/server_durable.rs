//! zksessiond with a data directory: what survives a restart, a torn log and a failing
//! disk. Every server binds 127.0.0.1:0 and every data directory is a fresh temporary
//! one, removed at the end.

mod server_support;

use server_support::{create, Client, Msg};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zksession::persist::{self, FileKind, LogScan};
use zksession::server::{Server, ServerConfig, WriteFaults};
use zksession::wire::{
    Acl, ConnectRequest, CreateMode, CreateRequest, MultiOp, PathRequest, PathWatchRequest,
    Request, Response, SetAclRequest, SetDataRequest,
};

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "zks-durable-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Path) -> ServerConfig {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    ServerConfig {
        client_addr: "127.0.0.1:0".parse().unwrap(),
        tick_ms: 100,
        event_loops: 2,
        data_dir: Some(dir.to_owned()),
        ..ServerConfig::default()
    }
}

fn start(dir: &Path) -> Server {
    Server::start(config(dir)).expect("server starts")
}

fn get_data(c: &mut Client, path: &str) -> Option<(Vec<u8>, zksession::wire::Stat)> {
    match c.call(&Request::GetData(PathWatchRequest {
        path: path.into(),
        watch: false,
    })) {
        (0, Some(Response::GetData { data, stat }), _) => Some((data.unwrap_or_default(), stat)),
        _ => None,
    }
}

fn children(c: &mut Client, path: &str) -> Vec<String> {
    match c.call(&Request::GetChildren(PathWatchRequest {
        path: path.into(),
        watch: false,
    })) {
        (0, Some(Response::GetChildren(mut v)), _) => {
            v.sort();
            v
        }
        other => panic!("getChildren {path}: {other:?}"),
    }
}

fn created(c: &mut Client, req: &Request) -> String {
    match c.call(req) {
        (0, Some(Response::Create(p)), _) => p,
        (0, Some(Response::Create2 { path, .. }), _) => path,
        other => panic!("create: {other:?}"),
    }
}

fn reattach(server: &Server, id: i64, password: &[u8], timeout_ms: i32) -> (Client, bool) {
    let req = ConnectRequest {
        session_id: id,
        password: password.to_vec(),
        ..ConnectRequest::new_session(timeout_ms)
    };
    let (c, resp) = Client::attach(server.local_addr(), &req);
    (c, resp.session_id == id && resp.timeout_ms > 0)
}

fn open_read_acl() -> Vec<Acl> {
    vec![Acl {
        perms: zksession::wire::perms::READ | zksession::wire::perms::WRITE,
        ..Acl::world_anyone()
    }]
}

#[test]
fn a_restart_keeps_znodes_acls_sequence_counters_zxids_sessions_and_ephemerals() {
    let dir = TempDir::new("restart");
    let server = start(&dir.0);
    let (mut c, resp) = Client::session(server.local_addr(), 6000);
    created(&mut c, &create("/app", 0));
    for _ in 0..3 {
        created(&mut c, &create("/app/job-", 2)); // persistent sequential
    }
    created(&mut c, &create("/app/live", 1)); // ephemeral
    let (err, _, _) = c.call(&Request::SetData(SetDataRequest {
        path: "/app".into(),
        data: Some(b"v2".to_vec()),
        version: 0,
    }));
    assert_eq!(err, 0);
    let (err, _, _) = c.call(&Request::SetAcl(SetAclRequest {
        path: "/app/job-0000000000".into(),
        acl: open_read_acl(),
        version: 0,
    }));
    assert_eq!(err, 0);
    let (err, body, _) = c.call(&Request::Multi(vec![
        MultiOp::Create(CreateRequest::new(
            "/m",
            b"x".to_vec(),
            vec![Acl::world_anyone()],
            CreateMode::Persistent,
        )),
        MultiOp::Create(CreateRequest::new(
            "/m/a",
            b"y".to_vec(),
            vec![Acl::world_anyone()],
            CreateMode::Persistent,
        )),
    ]));
    assert_eq!(err, 0, "{body:?}");
    // A failed write takes a zxid too; it must not come back as a node.
    let (err, _, _) = c.call(&create("/missing/child", 0));
    assert_ne!(err, 0);
    let (_, before) = get_data(&mut c, "/app").unwrap();
    let app_children = children(&mut c, "/app");
    let (_, m_stat) = get_data(&mut c, "/m").unwrap();
    let last_zxid = {
        let (_, s) = get_data(&mut c, "/m/a").unwrap();
        s.czxid
    };
    drop(c);
    drop(server);

    let server = start(&dir.0);
    let (mut c, kept) = reattach(&server, resp.session_id, &resp.password, 6000);
    assert!(kept, "the session survives the restart");
    let (data, after) = get_data(&mut c, "/app").expect("/app is back");
    assert_eq!(data, b"v2");
    assert_eq!(after, before, "stat identical, cversion included");
    assert_eq!(children(&mut c, "/app"), app_children);
    assert_eq!(get_data(&mut c, "/m").unwrap().1, m_stat);
    assert!(get_data(&mut c, "/missing").is_none());
    let (err, Some(Response::GetAcl { acl, .. }), _) = c.call(&Request::GetAcl(PathRequest {
        path: "/app/job-0000000000".into(),
    })) else {
        panic!("getACL")
    };
    assert_eq!(err, 0);
    assert_eq!(acl, open_read_acl());
    let live = get_data(&mut c, "/app/live").expect("the ephemeral is back");
    assert_eq!(live.1.ephemeral_owner, resp.session_id);
    // The sequence counter and the zxids continue.
    assert_eq!(
        created(&mut c, &create("/app/job-", 2)),
        "/app/job-0000000004"
    );
    let (_, s) = get_data(&mut c, "/app/job-0000000004").unwrap();
    assert!(
        s.czxid > last_zxid,
        "zxids continue: {} > {last_zxid}",
        s.czxid
    );
}

#[test]
fn a_session_whose_client_never_returns_expires_after_a_restart_and_its_ephemerals_go() {
    let dir = TempDir::new("expire");
    let server = start(&dir.0);
    let (mut c, _) = Client::session(server.local_addr(), 300);
    created(&mut c, &create("/gone", 1));
    drop(c);
    drop(server);

    let server = start(&dir.0);
    let (mut w, _) = Client::session(server.local_addr(), 6000);
    let (err, _, _) = w.call(&Request::Exists(PathWatchRequest {
        path: "/gone".into(),
        watch: true,
    }));
    assert_eq!(err, 0, "the ephemeral is back until its session expires");
    let ev = w.event();
    assert_eq!(ev.path, "/gone");
    assert!(get_data(&mut w, "/gone").is_none());
    drop(w);
    drop(server);
    // The expiry was logged: it stays gone.
    let server = start(&dir.0);
    let (mut w, _) = Client::session(server.local_addr(), 6000);
    assert!(get_data(&mut w, "/gone").is_none());
}

fn last_log(dir: &Path) -> PathBuf {
    let logs = persist::list_files(&dir.join("version-2"), FileKind::Log).unwrap();
    logs.last().expect("a log").1.clone()
}

#[test]
fn a_log_cut_inside_its_last_records_or_with_a_flipped_byte_keeps_every_whole_record() {
    let dir = TempDir::new("torn");
    let server = start(&dir.0);
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    for i in 0..5 {
        created(&mut c, &create(&format!("/n{i}"), 0));
    }
    drop(c);
    drop(server);
    let path = last_log(&dir.0);
    let bytes = std::fs::read(&path).unwrap();
    let scan = LogScan::read(&bytes).unwrap();
    let recs = &scan.records;
    // The last two creates: /n3 and /n4.
    let from = recs[recs.len() - 2].offset as usize;
    let end = recs[recs.len() - 1].end() as usize;
    let mut cuts: Vec<usize> = (from..end).step_by(5).collect();
    cuts.push(end - 1);
    for cut in cuts {
        let mut damaged = bytes[..cut].to_vec();
        // Half the time, a flipped byte instead of a short file.
        let flipped = cut % 2 == 1;
        if flipped {
            damaged = bytes.clone();
            damaged[cut] ^= 0x5a;
        }
        std::fs::write(&path, &damaged).unwrap();
        let server = start(&dir.0);
        let (mut c, _) = Client::session(server.local_addr(), 6000);
        for i in 0..3 {
            assert!(
                get_data(&mut c, &format!("/n{i}")).is_some(),
                "cut {cut}: /n{i}"
            );
        }
        let n3_whole = cut >= recs[recs.len() - 1].offset as usize;
        assert_eq!(get_data(&mut c, "/n3").is_some(), n3_whole, "cut {cut}");
        assert!(
            get_data(&mut c, "/n4").is_none(),
            "cut {cut}: /n4 was damaged"
        );
        drop(c);
        drop(server);
        // Restore the log for the next cut, and drop the logs this start wrote.
        for (_, p) in persist::list_files(&dir.0.join("version-2"), FileKind::Log).unwrap() {
            if p != path {
                std::fs::remove_file(p).unwrap();
            }
        }
        std::fs::write(&path, &bytes).unwrap();
    }
}

/// Fails every write once `budget` bytes were written.
struct DiskFull {
    budget: AtomicUsize,
}

impl WriteFaults for DiskFull {
    fn before_write(&self, bytes: usize) -> io::Result<()> {
        let left = self.budget.load(Ordering::SeqCst);
        if bytes > left {
            return Err(io::Error::from_raw_os_error(28) /* ENOSPC */);
        }
        self.budget.fetch_sub(bytes, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn a_full_disk_acknowledges_nothing_unwritten_and_stops_the_server() {
    let dir = TempDir::new("full");
    let faults = Arc::new(DiskFull {
        budget: AtomicUsize::new(usize::MAX),
    });
    let server = Server::start_with_faults(config(&dir.0), Some(faults.clone())).unwrap();
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    created(&mut c, &create("/before", 0));
    faults.budget.store(0, Ordering::SeqCst);
    // Pipelined writes: none may be acknowledged.
    let mut acked = Vec::new();
    for i in 0..10 {
        c.send(&create(&format!("/after{i}"), 0));
    }
    while let Some(m) = c.msg() {
        if let Msg::Reply(h, _) = m {
            acked.push(h.xid);
        }
    }
    assert!(
        acked.is_empty(),
        "no write acknowledged after the failure: {acked:?}"
    );
    assert!(server.persist_failed());
    server.join();

    let server = start(&dir.0);
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    assert!(get_data(&mut c, "/before").is_some());
    assert_eq!(children(&mut c, "/"), ["before", "zookeeper"]);
}

#[test]
fn concurrent_writers_share_fsyncs_and_every_acknowledged_write_survives() {
    let dir = TempDir::new("group");
    let server = start(&dir.0);
    let addr = server.local_addr();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let (mut c, _) = Client::session(addr, 6000);
                created(&mut c, &create(&format!("/t{t}"), 0));
                // 50 pipelined creates per client.
                for i in 0..50 {
                    c.send(&create(&format!("/t{t}/n{i}"), 0));
                }
                let mut ok = 0;
                for _ in 0..50 {
                    match c.msg() {
                        Some(Msg::Reply(h, _)) if h.err == 0 => ok += 1,
                        other => panic!("{other:?}"),
                    }
                }
                ok
            })
        })
        .collect();
    let acked: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(acked, 200);
    drop(server);
    let logs = persist::list_files(&dir.0.join("version-2"), FileKind::Log).unwrap();
    let records: usize = logs
        .iter()
        .map(|(_, p)| {
            LogScan::read(&std::fs::read(p).unwrap())
                .unwrap()
                .records
                .len()
        })
        .sum();
    // 4 sessions, 4 parents, 200 children.
    assert_eq!(records, 208);
    let server = start(&dir.0);
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    for t in 0..4 {
        assert_eq!(children(&mut c, &format!("/t{t}")).len(), 50);
    }
}

#[test]
fn snapshots_roll_the_log_and_a_damaged_snapshot_falls_back_to_an_older_one() {
    let dir = TempDir::new("snap");
    let mut cfg = config(&dir.0);
    cfg.snap_count = 10;
    let server = Server::start(cfg.clone()).unwrap();
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    let v2 = dir.0.join("version-2");
    // Snapshots every 5 to 10 txns, each once the previous one is written (a slow disk
    // makes them fewer): write until there are five.
    let mut made = 0;
    while made < 60 || persist::list_files(&v2, FileKind::Snapshot).unwrap().len() < 5 {
        assert!(made < 2000, "too few snapshots");
        created(&mut c, &create(&format!("/s{made}"), 0));
        made += 1;
    }
    drop(c);
    drop(server);
    let snaps = persist::list_files(&v2, FileKind::Snapshot).unwrap();
    assert!(snaps.len() >= 4, "{snaps:?}");
    assert!(persist::list_files(&v2, FileKind::Log).unwrap().len() >= 3);
    // Damage the newest snapshot: the older one plus the logs still give everything.
    let newest = &snaps.last().unwrap().1;
    let mut b = std::fs::read(newest).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(newest, &b).unwrap();
    let server = Server::start(cfg.clone()).unwrap();
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    assert_eq!(children(&mut c, "/").len(), made + 1);
    drop(c);
    drop(server);
    // Purge keeps the newest three snapshots and the logs they need.
    let removed = zksession::server::purge_data_dir(&dir.0, &dir.0, 3).unwrap();
    assert!(removed > 0);
    assert_eq!(
        persist::list_files(&v2, FileKind::Snapshot).unwrap().len(),
        3
    );
    let server = Server::start(cfg).unwrap();
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    assert_eq!(children(&mut c, "/").len(), made + 1);
}

/// Holds every fsync while closed: a slow disk.
struct Gate {
    closed: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
}

impl WriteFaults for Gate {
    fn before_write(&self, _bytes: usize) -> io::Result<()> {
        Ok(())
    }
    fn before_sync(&self) -> io::Result<()> {
        let mut closed = self.closed.lock().unwrap();
        while *closed {
            closed = self.opened.wait(closed).unwrap();
        }
        Ok(())
    }
}

impl Gate {
    fn set(&self, closed: bool) {
        *self.closed.lock().unwrap() = closed;
        self.opened.notify_all();
    }
}

/// Opens the gate when dropped, so a failing test does not leave the server waiting.
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

#[test]
fn no_client_sees_a_write_before_it_is_durable() {
    let dir = TempDir::new("held");
    let gate = Arc::new(Gate {
        closed: std::sync::Mutex::new(false),
        opened: std::sync::Condvar::new(),
    });
    let server = Server::start_with_faults(config(&dir.0), Some(gate.clone())).unwrap();
    let _open_on_drop = OpenOnDrop(gate.clone());
    let addr = server.local_addr();
    let (mut writer, _) = Client::session(addr, 6000);
    let (mut reader, _) = Client::session(addr, 6000);
    created(&mut writer, &create("/before", 0));
    gate.set(true);
    let xid = writer.send(&create("/slow", 0));
    // Reads from another session: any answer that arrives while the fsync is held must
    // not show /slow; once one is held, opening the gate releases it with /slow in it.
    let (tx, rx) = std::sync::mpsc::channel();
    let reads = std::thread::spawn(move || loop {
        let kids = children(&mut reader, "/");
        let done = kids.iter().any(|k| k == "slow");
        tx.send(kids).unwrap();
        if done {
            return;
        }
    });
    let mut answered_while_closed = 0;
    // Until one read is held behind the write (no answer within 300 ms):
    while let Ok(kids) = rx.recv_timeout(std::time::Duration::from_millis(300)) {
        assert!(
            !kids.iter().any(|k| k == "slow"),
            "{kids:?} before the fsync"
        );
        answered_while_closed += 1;
    }
    gate.set(false);
    let kids = rx
        .recv_timeout(server_support::WAIT)
        .expect("the held read is released");
    assert!(kids.iter().any(|k| k == "slow"), "{kids:?}");
    reads.join().unwrap();
    match writer.msg() {
        Some(Msg::Reply(h, _)) => assert_eq!((h.xid, h.err), (xid, 0)),
        other => panic!("{other:?}"),
    }
    eprintln!("{answered_while_closed} reads answered before the write was applied");
}

fn raw_data(c: &mut Client, path: &str) -> Option<Vec<u8>> {
    match c.call(&Request::GetData(PathWatchRequest {
        path: path.into(),
        watch: false,
    })) {
        (0, Some(Response::GetData { data, .. }), _) => data,
        other => panic!("getData {path}: {other:?}"),
    }
}

#[test]
fn null_data_stays_null_across_a_snapshot_and_a_restart() {
    let dir = TempDir::new("null");
    let mut cfg = config(&dir.0);
    cfg.snap_count = 4;
    let server = Server::start(cfg.clone()).unwrap();
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    for (path, data) in [("/null", None), ("/empty", Some(Vec::new()))] {
        created(
            &mut c,
            &Request::Create(CreateRequest {
                path: path.into(),
                data,
                acl: vec![Acl::world_anyone()],
                flags: 0,
            }),
        );
    }
    // Enough writes after them for snapshots to hold both nodes.
    for i in 0..12 {
        created(&mut c, &create(&format!("/f{i}"), 0));
    }
    drop(c);
    drop(server);
    let v2 = dir.0.join("version-2");
    let (_, newest) = persist::list_files(&v2, FileKind::Snapshot)
        .unwrap()
        .pop()
        .expect("a snapshot");
    let snap = persist::Snapshot::decode(&std::fs::read(&newest).unwrap()).unwrap();
    let data_of = |p: &str| {
        snap.nodes
            .iter()
            .find(|(q, _)| q == p)
            .unwrap()
            .1
            .data
            .clone()
    };
    assert_eq!(data_of("/null"), None);
    assert_eq!(data_of("/empty"), Some(Vec::new()));
    let server = Server::start(cfg).unwrap();
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    assert_eq!(raw_data(&mut c, "/null"), None);
    assert_eq!(raw_data(&mut c, "/empty"), Some(Vec::new()));
}

#[test]
fn in_zookeeper_password_mode_a_session_resumes_after_a_restart_with_zookeepers_password() {
    let dir = TempDir::new("zkpw");
    let mut cfg = config(&dir.0);
    cfg.zookeeper_passwords = true;
    let server = Server::start(cfg.clone()).unwrap();
    let (mut c, resp) = Client::session(server.local_addr(), 6000);
    let id = resp.session_id;
    assert_eq!(
        resp.password,
        zksession::engine::zookeeper_password(id as u64).to_vec(),
        "the password is ZooKeeper's for this id"
    );
    created(&mut c, &create("/mine", 1)); // ephemeral
    drop(c);
    drop(server);
    let server = Server::start(cfg).unwrap();
    // A client holding only ZooKeeper's derivation (as after a migration) gets back in.
    let (mut c, ok) = reattach(
        &server,
        id,
        &zksession::engine::zookeeper_password(id as u64),
        6000,
    );
    assert!(ok, "session resumed");
    let (_, stat) = get_data(&mut c, "/mine").expect("the ephemeral stayed");
    assert_eq!(stat.ephemeral_owner, id);
}

/// Every node's path, data and stat, walking from the root.
fn dump(c: &mut Client) -> Vec<(String, Option<Vec<u8>>, zksession::wire::Stat)> {
    let mut out = Vec::new();
    let mut todo = vec!["/".to_owned()];
    while let Some(p) = todo.pop() {
        let (data, stat) = match c.call(&Request::GetData(PathWatchRequest {
            path: p.clone(),
            watch: false,
        })) {
            (0, Some(Response::GetData { data, stat }), _) => (data, stat),
            other => panic!("getData {p}: {other:?}"),
        };
        for child in children(c, &p) {
            todo.push(if p == "/" {
                format!("/{child}")
            } else {
                format!("{p}/{child}")
            });
        }
        out.push((p, data, stat));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn snapshots_taken_while_writers_go_on_restore_the_tree_exactly() {
    let dir = TempDir::new("fuzzy");
    let mut cfg = config(&dir.0);
    cfg.snap_count = 40;
    let server = Server::start(cfg.clone()).unwrap();
    let addr = server.local_addr();
    // A tree of several snapshot pages, made in one multi.
    let (mut c, _) = Client::session(addr, 6000);
    let mut ops = vec![MultiOp::Create(CreateRequest::new(
        "/big",
        b"b".to_vec(),
        vec![Acl::world_anyone()],
        CreateMode::Persistent,
    ))];
    for i in 0..700 {
        ops.push(MultiOp::Create(CreateRequest::new(
            format!("/big/n{i:03}"),
            vec![1; 20],
            vec![Acl::world_anyone()],
            CreateMode::Persistent,
        )));
    }
    assert_eq!(c.call(&Request::Multi(ops)).0, 0);
    // Writers create, set, delete and re-create under the big node and their own while
    // snapshots copy the tree.
    let threads: Vec<_> = (0..3)
        .map(|t| {
            std::thread::spawn(move || {
                let (mut c, _) = Client::session(addr, 6000);
                created(&mut c, &create(&format!("/w{t}"), 0));
                for i in 0..120 {
                    let n = format!("/big/n{:03}", (i * 7 + t * 101) % 700);
                    match i % 4 {
                        0 => {
                            c.call(&Request::Delete(zksession::wire::DeleteRequest {
                                path: n,
                                version: -1,
                            }));
                        }
                        1 => {
                            c.call(&create(&n, 0));
                        }
                        2 => {
                            c.call(&Request::SetData(SetDataRequest {
                                path: n,
                                data: (i % 8 == 2).then(|| vec![i as u8]),
                                version: -1,
                            }));
                        }
                        _ => {
                            created(&mut c, &create(&format!("/w{t}/s-"), 2));
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let want = dump(&mut c);
    drop(c);
    drop(server);
    let v2 = dir.0.join("version-2");
    assert!(persist::list_files(&v2, FileKind::Snapshot).unwrap().len() >= 3);
    let server = Server::start(cfg).unwrap();
    let (mut c, _) = Client::session(server.local_addr(), 6000);
    let got = dump(&mut c);
    assert_eq!(got.len(), want.len());
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w, g, "node differs after the restart");
    }
}
