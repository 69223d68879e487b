//! A small ZooKeeper shell on the Rust client.
//!
//! ```text
//! cargo run --example zkcli -- 127.0.0.1:2181[/chroot] [--timeout MS] [COMMAND ...]
//! ```
//! With a command it runs it and exits; without, it reads one command per line from
//! stdin. Commands: `create [-e] [-s] PATH [DATA]`, `ls PATH`, `get PATH`, `stat PATH`,
//! `set PATH DATA`, `delete PATH`, `sync PATH`, `quit`. Session state changes and watch
//! events are printed as they happen (`ls`, `get` and `stat` leave watches).

use std::io::BufRead;
use std::time::Duration;

use zksession::client::{Error, ZooKeeper};
use zksession::wire::{Acl, CreateMode, Stat};

fn print_stat(s: &Stat) {
    println!("cZxid = {:#x}", s.czxid);
    println!("mZxid = {:#x}", s.mzxid);
    println!("pZxid = {:#x}", s.pzxid);
    println!("ctime = {}", s.ctime);
    println!("mtime = {}", s.mtime);
    println!("dataVersion = {}", s.version);
    println!("cversion = {}", s.cversion);
    println!("aclVersion = {}", s.aversion);
    println!("ephemeralOwner = {:#x}", s.ephemeral_owner);
    println!("dataLength = {}", s.data_length);
    println!("numChildren = {}", s.num_children);
}

fn run(zk: &ZooKeeper, words: &[String]) -> Result<bool, Error> {
    let arg = |i: usize| words.get(i).map(String::as_str).unwrap_or("/");
    match words.first().map(String::as_str) {
        None => {}
        Some("quit") | Some("exit") => return Ok(false),
        Some("create") => {
            let mut eph = false;
            let mut seq = false;
            let mut rest = Vec::new();
            for w in &words[1..] {
                match w.as_str() {
                    "-e" => eph = true,
                    "-s" => seq = true,
                    _ => rest.push(w.as_str()),
                }
            }
            let mode = match (eph, seq) {
                (false, false) => CreateMode::Persistent,
                (true, false) => CreateMode::Ephemeral,
                (false, true) => CreateMode::PersistentSequential,
                (true, true) => CreateMode::EphemeralSequential,
            };
            let path = rest.first().copied().unwrap_or("/");
            let data = rest.get(1).copied().unwrap_or("");
            let created = zk.create(path, data.as_bytes(), &[Acl::world_anyone()], mode)?;
            println!("Created {created}");
        }
        Some("ls") => println!("{:?}", zk.get_children(arg(1), true)?),
        Some("get") => {
            let (data, _) = zk.get_data(arg(1), true)?;
            println!("{}", String::from_utf8_lossy(&data));
        }
        Some("stat") => match zk.exists(arg(1), true)? {
            Some(s) => print_stat(&s),
            None => println!("Node does not exist: {}", arg(1)),
        },
        Some("set") => {
            zk.set_data(arg(1), words.get(2).map_or(&b""[..], |d| d.as_bytes()), -1)?;
        }
        Some("delete") => zk.delete(arg(1), -1)?,
        Some("sync") => println!("Sync is OK: {}", zk.sync(arg(1))?),
        Some(other) => println!("unknown command {other}"),
    }
    Ok(true)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: zkcli HOST:PORT[,HOST:PORT...][/chroot] [--timeout MS] [COMMAND ...]");
        std::process::exit(2);
    }
    let server = args.remove(0);
    let mut timeout = 10_000u64;
    if args.first().map(String::as_str) == Some("--timeout") && args.len() >= 2 {
        timeout = args[1].parse().unwrap_or(timeout);
        args.drain(..2);
    }
    let zk = match ZooKeeper::connect(&server, Duration::from_millis(timeout)) {
        Ok(zk) => zk,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let events = zk.events().clone();
    std::thread::spawn(move || {
        for e in events.iter() {
            match e.path {
                None => println!("WATCHER:: state:{:?} type:{:?}", e.state, e.event_type),
                Some(p) => println!(
                    "WATCHER:: state:{:?} type:{:?} path:{p}",
                    e.state, e.event_type
                ),
            }
        }
    });
    let mut status = 0;
    if !args.is_empty() {
        if let Err(e) = run(&zk, &args) {
            eprintln!("Error: {e}");
            status = 1;
        }
    } else {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let words: Vec<String> = line.split_whitespace().map(String::from).collect();
            match run(&zk, &words) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => eprintln!("Error: {e}"),
            }
        }
    }
    drop(zk);
    std::process::exit(status);
}
