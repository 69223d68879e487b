//! Load generator for ZooKeeper-protocol servers (zksessiond or Apache ZooKeeper).
//!
//! Owns: the benchmark's phases and figures. For each session count S it starts worker
//! processes (at most `--per-process` sessions each, each from its own 127.0.0.x source
//! address, so no process nears its open-file limit and no source address runs out of
//! ports), then measures:
//! 1. session establishment rate (S handshakes, `--window` in flight per worker);
//! 2. server RSS per idle session (VmRSS after minus before, over S);
//! 3. a closed-loop ping phase of `--secs` seconds (one ping outstanding per session, the
//!    next sent on the reply: the server's saturated ping throughput): pings/s, p50/p99
//!    latency, and server CPU per ping (utime+stime delta over pings);
//! 4. with `--paced-ms P`, a second, paced phase where each session pings P ms after its
//!    previous reply (S·1000/P pings/s offered): latency below saturation;
//! 5. closeSession for every session.
//!
//! Prints one `RESULT key=value ...` line per session count. `loadgen probe ADDR` only
//! checks that the server hands out a session (for start-up scripts). `loadgen creates`
//! and `loadgen sessions` measure durable writes instead (module `writes`). `loadgen
//! pings` and `loadgen handshakes` measure pings and session handshakes over plaintext or
//! TLS from client threads (module `tls`).
//!
//! Build and run: `cargo run --release --bin loadgen -- --help`.
//! A tool, not a bench: nothing runs it unless asked.
//!
//! Must never: run without a bound: every phase has a deadline.

mod hist;
mod procfs;
mod proto;
mod tls;
mod worker;
mod writes;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use hist::Hist;
use worker::Worker;

/// Load generator for ZooKeeper-protocol servers.
#[derive(Parser, Debug)]
#[command(name = "loadgen", about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    opts: Opts,
}

/// The helper modes (the benchmark itself runs without a subcommand).
#[derive(Subcommand, Debug)]
enum Cmd {
    /// Succeeds when ADDR hands out one session within 2 s (for start-up scripts).
    Probe {
        /// The server's client address.
        addr: SocketAddrV4,
    },
    /// Closed-loop creates of persistent znodes, INFLIGHT sessions with one create each
    /// in flight; prints one RESULT line per in-flight count.
    Creates {
        /// The server's client address.
        addr: SocketAddrV4,
        /// In-flight counts (one session per request in flight), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        inflight: Vec<usize>,
        /// Seconds per count.
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// Bytes of data per znode.
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// The label of the RESULT lines.
        #[arg(long, default_value = "server")]
        label: String,
    },
    /// Session open + close pairs from INFLIGHT threads; prints one RESULT line.
    Sessions {
        /// The server's client address.
        addr: SocketAddrV4,
        /// Threads (each with one handshake or close in flight).
        #[arg(long, default_value_t = 16)]
        inflight: usize,
        /// Seconds.
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// The label of the RESULT line.
        #[arg(long, default_value = "server")]
        label: String,
    },
    /// Closed-loop pings from THREADS sessions, over TLS with --tls-ca, plaintext
    /// otherwise; prints one RESULT line (rate, latency, server CPU per ping).
    Pings(tls::TlsLoad),
    /// Session open (TCP, TLS with --tls-ca, ConnectRequest) + closeSession from THREADS
    /// threads; prints one RESULT line (rate, server CPU per handshake).
    Handshakes(tls::TlsLoad),
    /// A worker process (started by the coordinator; commands on stdin).
    #[command(hide = true)]
    Worker {
        src: Ipv4Addr,
        dst: SocketAddrV4,
        sessions: usize,
        window: usize,
        timeout_ms: i32,
    },
}

/// The benchmark's options.
#[derive(Args, Debug)]
struct Opts {
    /// The server's client address.
    #[arg(long, default_value = "127.0.0.1:2181")]
    addr: SocketAddrV4,
    /// The server's pid, for its CPU time and memory (from /proc).
    #[arg(long)]
    pid: Option<u32>,
    /// The label of the RESULT lines.
    #[arg(long, default_value = "server")]
    label: String,
    /// Session counts to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sessions: Vec<usize>,
    /// Seconds of each ping phase.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Sessions per worker process (open-file limit).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u16).range(1..=15000))]
    per_process: u16,
    /// Handshakes in flight per worker process.
    #[arg(long, default_value_t = 100)]
    window: usize,
    /// The session timeout the clients ask for.
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: i32,
    /// The last byte of the first worker's 127.0.0.x source address.
    #[arg(long, default_value_t = 10)]
    first_source: u8,
    /// Interval of the paced ping phase in ms (0: no paced phase).
    #[arg(long, default_value_t = 0)]
    paced_ms: u64,
}

/// Worker process entry: commands on stdin (`connect`, `ping SECS EVERY_MS`, `close`),
/// one answer line each on stdout.
fn worker_main(
    src: Ipv4Addr,
    dst: SocketAddrV4,
    n: usize,
    window: usize,
    timeout: i32,
) -> Result<(), String> {
    let mut w = Worker::new(src, dst, timeout).map_err(|e| format!("{e}"))?;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| format!("{e}"))?;
        let mut words = line.split_whitespace();
        let reply = match words.next() {
            Some("connect") => {
                let r = w.connect(n, window, Duration::from_secs(60));
                format!("connected {} {} {}", r.ok, r.failed, r.elapsed.as_micros())
            }
            Some("ping") => {
                let secs: f64 = words.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
                let every: u64 = words.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                let r = w.ping(Duration::from_secs_f64(secs), Duration::from_millis(every));
                format!("pinged {} {} {}", r.pings, r.errors, hist::encode(&r.hist))
            }
            Some("close") => {
                let (acked, took) = w.close(Duration::from_secs(20));
                format!("closed {} {}", acked, took.as_micros())
            }
            _ => break,
        };
        writeln!(out, "{reply}").map_err(|e| format!("{e}"))?;
        out.flush().map_err(|e| format!("{e}"))?;
    }
    Ok(())
}

/// Succeeds when one session can be established (and is closed again) within 2 s, i.e.
/// the server is serving.
fn probe_main(dst: SocketAddrV4) -> Result<(), String> {
    let mut w = Worker::new(Ipv4Addr::LOCALHOST, dst, 30_000).map_err(|e| format!("{e}"))?;
    let r = w.connect(1, 1, Duration::from_secs(2));
    w.close(Duration::from_secs(2));
    if r.ok == 1 {
        Ok(())
    } else {
        Err(format!("no session from {dst}"))
    }
}

/// A running worker process; killed on drop if it is still alive.
struct WorkerProc {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl WorkerProc {
    fn spawn(src: Ipv4Addr, o: &Opts, sessions: usize) -> Result<WorkerProc, String> {
        let exe = std::env::current_exe().map_err(|e| format!("{e}"))?;
        let mut child = Command::new(exe)
            .arg("worker")
            .arg(src.to_string())
            .arg(o.addr.to_string())
            .arg(sessions.to_string())
            .arg(o.window.to_string())
            .arg(o.timeout_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn worker: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(WorkerProc {
            child,
            stdin,
            stdout,
        })
    }

    fn send(&mut self, cmd: &str) -> Result<(), String> {
        writeln!(self.stdin, "{cmd}").map_err(|e| format!("worker stdin: {e}"))?;
        self.stdin.flush().map_err(|e| format!("worker stdin: {e}"))
    }

    fn answer(&mut self) -> Result<Vec<String>, String> {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("worker stdout: {e}"))?;
        if line.is_empty() {
            return Err("worker exited".into());
        }
        Ok(line.split_whitespace().map(str::to_owned).collect())
    }
}

impl Drop for WorkerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn num<T: std::str::FromStr>(words: &[String], i: usize) -> Result<T, String> {
    words
        .get(i)
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("bad worker answer {words:?}"))
}

/// What one ping phase measured, all workers together.
struct PhaseResult {
    pings: u64,
    errors: u64,
    hist: Hist,
    /// Server CPU seconds used during the phase, if the server pid is known.
    cpu_secs: Option<f64>,
    wall_secs: f64,
}

impl PhaseResult {
    fn cpu_per_ping_us(&self) -> Option<f64> {
        self.cpu_secs
            .filter(|_| self.pings > 0)
            .map(|c| c * 1e6 / self.pings as f64)
    }

    fn cpu_cores(&self) -> Option<f64> {
        self.cpu_secs.map(|c| c / self.wall_secs)
    }
}

/// Runs a ping phase of `secs` on every worker (`paced_ms` 0 = closed loop).
fn ping_phase(
    workers: &mut [WorkerProc],
    secs: f64,
    paced_ms: u64,
    pid: Option<u32>,
) -> Result<PhaseResult, String> {
    let cpu = || pid.and_then(procfs::cpu_seconds);
    let cpu_before = cpu();
    let t = Instant::now();
    for w in workers.iter_mut() {
        w.send(&format!("ping {secs} {paced_ms}"))?;
    }
    let mut r = PhaseResult {
        pings: 0,
        errors: 0,
        hist: hist::new(),
        cpu_secs: None,
        wall_secs: 0.0,
    };
    for w in workers.iter_mut() {
        let a = w.answer()?;
        r.pings += num::<u64>(&a, 1)?;
        r.errors += num::<u64>(&a, 2)?;
        let h = a
            .get(3)
            .and_then(|s| hist::decode(s))
            .ok_or("bad histogram")?;
        r.hist
            .add(&h)
            .map_err(|e| format!("merging histograms: {e}"))?;
    }
    r.wall_secs = t.elapsed().as_secs_f64();
    r.cpu_secs = match (cpu_before, cpu()) {
        (Some(b), Some(a)) => Some(a - b),
        _ => None,
    };
    Ok(r)
}

/// Runs every phase for `total` sessions and prints the RESULT line.
fn run(o: &Opts, total: usize) -> Result<(), String> {
    let procs = total.div_ceil(usize::from(o.per_process)).max(1);
    let mut workers = Vec::with_capacity(procs);
    for p in 0..procs {
        let share = total / procs + usize::from(p < total % procs);
        let src = Ipv4Addr::new(127, 0, 0, o.first_source.wrapping_add(p as u8));
        workers.push(WorkerProc::spawn(src, o, share)?);
    }
    let pid = o.pid;
    let rss = || pid.and_then(procfs::rss_bytes);

    // 1. Establishment.
    let rss_before = rss();
    let t0 = Instant::now();
    for w in &mut workers {
        w.send("connect")?;
    }
    let (mut ok, mut failed) = (0usize, 0usize);
    for w in &mut workers {
        let a = w.answer()?;
        ok += num::<usize>(&a, 1)?;
        failed += num::<usize>(&a, 2)?;
    }
    let connect_secs = t0.elapsed().as_secs_f64();

    // 2. Idle memory, after the server has settled.
    std::thread::sleep(Duration::from_millis(1000));
    let rss_after = rss();

    // 3. Closed-loop pings, then 4. paced pings.
    let closed_loop = ping_phase(&mut workers, o.secs, 0, pid)?;
    let paced = if o.paced_ms > 0 {
        Some(ping_phase(&mut workers, o.secs, o.paced_ms, pid)?)
    } else {
        None
    };

    // 5. Close.
    let t2 = Instant::now();
    for w in &mut workers {
        w.send("close")?;
    }
    let mut closed = 0usize;
    for w in &mut workers {
        closed += num::<usize>(&w.answer()?, 1)?;
    }
    let close_secs = t2.elapsed().as_secs_f64();
    drop(workers);

    let fmt_opt = |v: Option<f64>| v.map_or("na".to_string(), |x| format!("{x:.3}"));
    let rss_per = match (rss_before, rss_after) {
        (Some(b), Some(a)) if ok > 0 => Some((a as f64 - b as f64) / ok as f64),
        _ => None,
    };
    let paced_fields = paced.as_ref().map_or(String::new(), |p| {
        format!(
            " paced_pings_per_s={:.1} paced_p50_us={:.1} paced_p99_us={:.1} paced_cpu_us_per_ping={}",
            p.pings as f64 / o.secs,
            p.hist.value_at_quantile(0.50) as f64 / 1000.0,
            p.hist.value_at_quantile(0.99) as f64 / 1000.0,
            fmt_opt(p.cpu_per_ping_us()),
        )
    });
    let c = &closed_loop;
    println!(
        "RESULT label={} sessions={} established={} failed={} connect_per_s={:.1} \
         rss_per_session_bytes={} pings_per_s={:.1} p50_us={:.1} p99_us={:.1} \
         ping_errors={} cpu_us_per_ping={} server_cpu_cores={} closed={} close_per_s={:.1} \
         workers={} paced_ms={}{}",
        o.label,
        total,
        ok,
        failed,
        ok as f64 / connect_secs,
        fmt_opt(rss_per),
        c.pings as f64 / o.secs,
        c.hist.value_at_quantile(0.50) as f64 / 1000.0,
        c.hist.value_at_quantile(0.99) as f64 / 1000.0,
        c.errors + paced.as_ref().map_or(0, |p| p.errors),
        fmt_opt(c.cpu_per_ping_us()),
        fmt_opt(c.cpu_cores()),
        closed,
        closed as f64 / close_secs,
        procs,
        o.paced_ms,
        paced_fields,
    );
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Some(Cmd::Worker {
            src,
            dst,
            sessions,
            window,
            timeout_ms,
        }) => worker_main(src, dst, sessions, window, timeout_ms),
        Some(Cmd::Probe { addr }) => probe_main(addr),
        Some(Cmd::Pings(o)) => tls::pings(&o),
        Some(Cmd::Handshakes(o)) => tls::handshakes(&o),
        Some(Cmd::Creates {
            addr,
            inflight,
            secs,
            size,
            label,
        }) => inflight.iter().try_for_each(|&n| {
            let prefix = format!("bench{n}");
            let f = writes::creates(addr, n, secs, size, &prefix)?;
            writes::report(&label, "creates", n, &f);
            Ok(())
        }),
        Some(Cmd::Sessions {
            addr,
            inflight,
            secs,
            label,
        }) => writes::sessions(addr, inflight, secs).map(|f| {
            writes::report(&label, "sessions", inflight, &f);
        }),
        None => cli
            .opts
            .sessions
            .iter()
            .enumerate()
            .try_for_each(|(i, &s)| {
                if i > 0 {
                    // Let the server finish closing the sessions before the next size.
                    std::thread::sleep(Duration::from_millis(1500));
                }
                run(&cli.opts, s)
            }),
    };
    if let Err(e) = result {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}
