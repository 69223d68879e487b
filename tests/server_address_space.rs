//! zksessiond under an address-space limit (`RLIMIT_AS`), as a user would run it: one
//! client stores 512 KiB nodes until the server refuses (the default memory budget is half
//! of the limit), the process never aborts on allocation, and another session goes on
//! reading and pinging.

mod server_support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use server_support::*;
use zksession::wire::{Acl, CreateRequest, ErrorCode, PathWatchRequest, Request, Response};

/// The address-space limit the server runs under, in bytes (1 GiB).
const LIMIT: u64 = 1 << 30;
/// The node size and count of the scenario that once aborted the server.
const NODE: usize = 512 << 10;
const NODES: usize = 1492;

/// The server process, killed by its pid when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn storing_512_kib_nodes_past_the_budget_is_refused_and_never_aborts() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit (util-linux) is not installed: skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("zks-as-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=500\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             4lw.commands.whitelist=ruok\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let daemon = Daemon(
        Command::new("prlimit")
            .arg(format!("--as={LIMIT}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_zksessiond"))
            .arg("--config")
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prlimit runs zksessiond"),
    );
    let mut daemon = daemon;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(started.elapsed() < WAIT, "zksessiond did not start");
        assert!(daemon.0.try_wait().unwrap().is_none(), "zksessiond exited");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (mut reader, _) = Client::session(addr, 10_000);
    let (mut writer, _) = Client::session(addr, 10_000);
    let payload = vec![0x5a; NODE];
    let mut stored = 0;
    let mut refused = None;
    while stored < NODES {
        let req = Request::Create(CreateRequest {
            path: format!("/n{stored}"),
            data: Some(payload.clone()),
            acl: vec![Acl::world_anyone()],
            flags: 0,
        });
        let (err, _, _) = writer.call(&req);
        if err != 0 {
            refused = Some(err);
            break;
        }
        stored += 1;
    }
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    assert_eq!(
        refused,
        Some(ErrorCode::QuotaExceeded.code()),
        "all {stored} nodes stored under a {LIMIT} address space; log:\n{log}"
    );
    // A budget of half of 1 GiB holds several hundred such nodes.
    assert!(stored > 300, "only {stored} nodes stored");
    eprintln!("{stored} nodes of {NODE} bytes stored under RLIMIT_AS {LIMIT} before the refusal");
    assert!(daemon.0.try_wait().unwrap().is_none(), "zksessiond exited");
    assert!(log.contains("memory budget exhausted"), "{log}");
    // Every session goes on: the writer pings, the reader reads a big node and pings.
    assert_eq!(writer.call(&Request::Ping).0, 0);
    match reader.call(&Request::GetData(PathWatchRequest {
        path: "/n0".into(),
        watch: false,
    })) {
        (0, Some(Response::GetData { data, .. }), _) => assert_eq!(data.unwrap().len(), NODE),
        other => panic!("{other:?}"),
    }
    assert_eq!(reader.call(&Request::Ping).0, 0);
    assert!(four_letter(addr, "ruok").contains("imok"));
    assert!(daemon.0.try_wait().unwrap().is_none(), "zksessiond exited");
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
}
