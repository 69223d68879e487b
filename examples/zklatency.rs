//! Sequential round-trip latency of the Rust client against a running server.
//!
//! ```text
//! cargo run --release --example zklatency -- 127.0.0.1:2181 [OPS]
//! ```
//! Creates `/zklatency-<session id>` (ephemeral), warms up with 1000 `getData` calls,
//! then times OPS (default 20000) sequential `getData` calls and the time from
//! `connect` to SyncConnected of a second session.

use std::time::{Duration, Instant};

use zksession::client::ZooKeeper;
use zksession::wire::{Acl, CreateMode, KeeperState};

fn wait_connected(zk: &ZooKeeper) {
    loop {
        match zk.events().recv_timeout(Duration::from_secs(30)) {
            Ok(e) if e.state == KeeperState::SyncConnected => return,
            Ok(_) => {}
            Err(_) => {
                eprintln!("no connection within 30 s");
                std::process::exit(1);
            }
        }
    }
}

fn main() -> Result<(), zksession::client::Error> {
    let mut args = std::env::args().skip(1);
    let server = args.next().unwrap_or_else(|| "127.0.0.1:2181".into());
    let ops: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let zk = ZooKeeper::connect(&server, Duration::from_secs(10))?;
    wait_connected(&zk);
    let path = format!("/zklatency-{:x}", zk.session_id());
    zk.create(&path, b"x", &[Acl::world_anyone()], CreateMode::Ephemeral)?;
    for _ in 0..1000 {
        zk.get_data(&path, false)?;
    }
    let start = Instant::now();
    for _ in 0..ops {
        zk.get_data(&path, false)?;
    }
    let took = start.elapsed();
    println!(
        "getData: {ops} sequential calls in {took:?} = {:.1} us/call",
        took.as_secs_f64() * 1e6 / ops as f64
    );
    let start = Instant::now();
    let second = ZooKeeper::connect(&server, Duration::from_secs(10))?;
    wait_connected(&second);
    println!("connect to SyncConnected: {:?}", start.elapsed());
    Ok(())
}
