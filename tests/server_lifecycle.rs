//! The server's lifecycle: dropping or stopping a `Server` ends every thread it started
//! (event loops and the engine's expiry workers) and closes its sockets, with clients
//! connected or not, and a failed start leaves no thread behind.

mod server_support;

use server_support::*;
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zksession::server::{Server, ServerConfig, StartError};
use zksession::wire::Request;

/// Tests here count the process's threads by name: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Names the server's threads get: event loops and the engine's expiry workers (the
/// kernel keeps the first 15 bytes).
fn server_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("zksessiond-loop") || name.starts_with("zks-expiry-"))
        .count()
}

/// The number of server threads once those that ended have left /proc (a joined thread
/// may stay listed for a moment after its join returned).
fn settled_server_threads() -> usize {
    let deadline = Instant::now() + WAIT;
    loop {
        let n = server_threads();
        if n == 0 || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn config() -> ServerConfig {
    ServerConfig {
        client_addr: "127.0.0.1:0".parse().unwrap(),
        tick_ms: 100,
        event_loops: 2,
        ..ServerConfig::default()
    }
}

fn refused(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, WAIT).is_err()
}

#[test]
fn dropping_a_server_joins_every_thread_and_closes_its_sockets() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(settled_server_threads(), 0);
    let server = Server::start(config()).expect("server starts");
    let addr = server.local_addr();
    let (mut a, _) = Client::session(addr, 2000);
    let (mut b, _) = Client::session(addr, 2000);
    assert_eq!(a.call(&create("/eph", 1)).0, 0);
    assert_eq!(b.call(&Request::Ping).0, 0);
    // Both loops served a client, so both run (and named themselves).
    assert!(server_threads() >= 2, "event loops run");

    let t = Instant::now();
    drop(server);
    eprintln!("drop took {:?}", t.elapsed());

    // Every connection was closed and the listener is gone by the time drop returned.
    assert!(a.is_closed());
    assert!(b.is_closed());
    assert!(refused(addr));
    assert_eq!(settled_server_threads(), 0);
}

#[test]
fn stop_with_clients_connected_closes_them_and_join_returns() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(config()).expect("server starts");
    let addr = server.local_addr();
    let mut clients: Vec<Client> = (0..6).map(|_| Client::session(addr, 2000).0).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.call(&create(&format!("/n{i}"), 1)).0, 0);
    }
    // A request in flight as the stop arrives.
    clients[0].send(&Request::Ping);
    server.stop();
    for c in &mut clients {
        // A reply to the ping may come first; then the close.
        while c.frame().is_some() {}
    }
    server.join();
    assert!(refused(addr));
    assert_eq!(settled_server_threads(), 0);
}

#[test]
fn a_stopper_stops_the_server_from_another_thread_and_outlives_it_harmlessly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(config()).expect("server starts");
    let (mut c, _) = Client::session(server.local_addr(), 2000);
    let stopper = server.stopper();
    let remote = stopper.clone();
    let stopping = std::thread::spawn(move || remote.stop());
    server.join();
    stopping.join().unwrap();
    assert!(c.is_closed());
    assert_eq!(settled_server_threads(), 0);
    // The server is gone: stopping again does nothing.
    stopper.stop();
}

#[test]
fn a_failed_start_leaves_no_thread_behind() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    match Server::start(ServerConfig {
        client_addr: addr,
        ..config()
    }) {
        Err(StartError::Bind { addr: a, .. }) => assert_eq!(a, addr),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("two listeners on one port"),
    }
    // The engine and its expiry workers were started before the bind failed.
    assert_eq!(settled_server_threads(), 0);
}

#[test]
fn sessions_expiring_while_the_server_stops_do_not_hold_it_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start(config()).expect("server starts");
    let addr = server.local_addr();
    // Sessions of the minimum timeout (2 ticks) that never ping: they expire around the
    // moment the server is dropped, so expired batches reach loops that are stopping.
    let mut clients: Vec<Client> = (0..20).map(|_| Client::session(addr, 200).0).collect();
    std::thread::sleep(Duration::from_millis(250));
    drop(server);
    for c in &mut clients {
        while c.frame().is_some() {}
    }
    assert_eq!(settled_server_threads(), 0);
}
