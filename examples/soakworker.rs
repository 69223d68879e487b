//! One soak client process on the Rust client (see docs/soak.md): keeps an ephemeral for
//! its session, writes, reads and watches at random, and reports one JSON object a line
//! on stdout, in the same vocabulary as the kazoo worker:
//!
//! ```text
//! {"ev":"session","sid":N,"eph":"/soak/eph/NAME"}   a new session and its ephemeral
//! {"ev":"expired"}                                   the session expired
//! {"ev":"op","op":"crud","ms":F,"ok":true}           one operation and its latency
//! {"ev":"ack","path":P,"data":D}                     an acknowledged write
//! {"ev":"watch","fired":N}                           a one-shot watch and its firings
//! ```
//!
//! ```text
//! cargo run --release --example soakworker -- HOSTS NAME TIMEOUT_MS SEED
//! ```

use std::io::Write;
use std::time::{Duration, Instant};

use zksession::client::{Error, ZooKeeper};
use zksession::wire::{Acl, CreateMode, EventType, KeeperState};

fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A small xorshift generator: the worker's choices follow its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

struct Worker {
    hosts: String,
    name: String,
    timeout: Duration,
    rng: Rng,
    seq: u64,
}

/// What ended a session's run.
enum End {
    Expired,
}

impl Worker {
    fn ensure(zk: &ZooKeeper, path: &str) {
        let _ = zk.create(path, b"", &[Acl::world_anyone()], CreateMode::Persistent);
    }

    /// Whether the session is gone for good (an expiry was reported).
    fn expired(zk: &ZooKeeper) -> bool {
        zk.last_state_event() == KeeperState::Expired
    }

    fn run_session(&mut self) -> End {
        let zk = match ZooKeeper::connect(&self.hosts, self.timeout) {
            Ok(zk) => zk,
            Err(e) => {
                eprintln!("soakworker: connect: {e:?}");
                std::process::exit(1);
            }
        };
        for p in ["/soak", "/soak/eph", "/soak/data", "/soak/w"] {
            Self::ensure(&zk, p);
        }
        let eph = format!("/soak/eph/{}", self.name);
        loop {
            match zk.create(
                &eph,
                b"alive",
                &[Acl::world_anyone()],
                CreateMode::Ephemeral,
            ) {
                Ok(_) => break,
                Err(_) if Self::expired(&zk) => return End::Expired,
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        emit(&format!(
            r#"{{"ev":"session","sid":{},"eph":"{eph}"}}"#,
            zk.session_id()
        ));
        loop {
            let pick = self.rng.next() % 3;
            let t = Instant::now();
            let (op, ok) = if pick < 2 {
                ("crud", self.crud(&zk).is_ok())
            } else {
                ("watch", self.watch(&zk).is_ok())
            };
            emit(&format!(
                r#"{{"ev":"op","op":"{op}","ms":{:.2},"ok":{ok}}}"#,
                t.elapsed().as_secs_f64() * 1000.0
            ));
            if Self::expired(&zk) {
                return End::Expired;
            }
            std::thread::sleep(Duration::from_millis(20 + self.rng.next() % 80));
        }
    }

    fn crud(&mut self, zk: &ZooKeeper) -> Result<(), Error> {
        self.seq += 1;
        let path = format!("/soak/data/{}-{}", self.name, self.seq);
        let data = format!("{}:{}", self.name, self.rng.next() % (1 << 30));
        zk.create(
            &path,
            data.as_bytes(),
            &[Acl::world_anyone()],
            CreateMode::Persistent,
        )?;
        emit(&format!(
            r#"{{"ev":"ack","path":"{path}","data":"{data}"}}"#
        ));
        let (got, _) = zk.get_data(&path, false)?;
        if got != data.as_bytes() {
            eprintln!("soakworker: {path} reads back {got:?}");
        }
        Ok(())
    }

    /// Sets a data watch, changes the node twice, and counts the firings; reported only
    /// if no session-state event came in between.
    fn watch(&mut self, zk: &ZooKeeper) -> Result<(), Error> {
        let path = format!("/soak/w/{}", self.name);
        Self::ensure(zk, &path);
        while zk.events().try_recv().is_ok() {}
        zk.get_data(&path, true)?;
        zk.set_data(&path, b"1", -1)?;
        zk.set_data(&path, b"2", -1)?;
        let mut fired = 0;
        let mut clean = true;
        let deadline = Instant::now() + Duration::from_millis(500);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match zk.events().recv_timeout(left) {
                Ok(e) if e.event_type == EventType::NodeDataChanged => fired += 1,
                Ok(e) if e.event_type == EventType::None => clean = false,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if clean {
            emit(&format!(r#"{{"ev":"watch","fired":{fired}}}"#));
        }
        Ok(())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 4 {
        eprintln!("usage: soakworker HOSTS NAME TIMEOUT_MS SEED");
        std::process::exit(2);
    }
    let mut w = Worker {
        hosts: args[0].clone(),
        name: args[1].clone(),
        timeout: Duration::from_millis(args[2].parse().expect("TIMEOUT_MS")),
        rng: Rng(args[3].parse::<u64>().expect("SEED") | 1),
        seq: 0,
    };
    loop {
        match w.run_session() {
            End::Expired => emit(r#"{"ev":"expired"}"#),
        }
    }
}
