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
//! checks that the server hands out a session (for start-up scripts).
//!
//! Usage: `loadgen --addr 127.0.0.1:PORT --pid SERVER_PID --label NAME
//! [--sessions 1000,10000] [--secs 5] [--per-process 5000] [--window 100]
//! [--timeout-ms 30000] [--first-source 10] [--paced-ms 0]`
//!
//! Must never: run without a bound: every phase has a deadline.

mod hist;
mod procfs;
mod proto;
mod worker;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use hist::Hist;
use worker::Worker;

/// Command-line options.
struct Opts {
    addr: SocketAddrV4,
    pid: Option<u32>,
    label: String,
    sessions: Vec<usize>,
    secs: f64,
    per_process: usize,
    window: usize,
    timeout_ms: i32,
    first_source: u8,
    paced_ms: u64,
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        addr: "127.0.0.1:2181".parse().expect("literal address"),
        pid: None,
        label: "server".into(),
        sessions: vec![1000, 10_000],
        secs: 5.0,
        per_process: 5000,
        window: 100,
        timeout_ms: 30_000,
        first_source: 10,
        paced_ms: 0,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--addr" => o.addr = val()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--pid" => o.pid = Some(val()?.parse().map_err(|e| format!("--pid: {e}"))?),
            "--label" => o.label = val()?,
            "--sessions" => {
                o.sessions = val()?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--sessions: {e}"))?
            }
            "--secs" => o.secs = val()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--per-process" => {
                o.per_process = val()?.parse().map_err(|e| format!("--per-process: {e}"))?
            }
            "--window" => o.window = val()?.parse().map_err(|e| format!("--window: {e}"))?,
            "--timeout-ms" => {
                o.timeout_ms = val()?.parse().map_err(|e| format!("--timeout-ms: {e}"))?
            }
            "--first-source" => {
                o.first_source = val()?.parse().map_err(|e| format!("--first-source: {e}"))?
            }
            "--paced-ms" => o.paced_ms = val()?.parse().map_err(|e| format!("--paced-ms: {e}"))?,
            // `cargo bench` passes this to every bench binary.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.per_process == 0 || o.per_process > 15_000 {
        return Err("--per-process must be in 1..=15000 (open-file limit)".into());
    }
    Ok(o)
}

/// Worker process entry: `loadgen worker SRC DST SESSIONS WINDOW TIMEOUT_MS`, then
/// commands on stdin (`connect`, `ping SECS`, `close`), one answer line each on stdout.
fn worker_main(args: &[String]) -> Result<(), String> {
    let [src, dst, n, window, timeout] = args else {
        return Err("worker needs SRC DST SESSIONS WINDOW TIMEOUT_MS".into());
    };
    let src: Ipv4Addr = src.parse().map_err(|e| format!("{e}"))?;
    let dst: SocketAddrV4 = dst.parse().map_err(|e| format!("{e}"))?;
    let n: usize = n.parse().map_err(|e| format!("{e}"))?;
    let window: usize = window.parse().map_err(|e| format!("{e}"))?;
    let timeout: i32 = timeout.parse().map_err(|e| format!("{e}"))?;
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
                format!("pinged {} {} {}", r.pings, r.errors, r.hist.encode())
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
    let _ = w.timeout_ms();
    Ok(())
}

/// `loadgen probe ADDR`: succeeds when one session can be established (and is closed
/// again) within 2 s, i.e. the server is serving.
fn probe_main(args: &[String]) -> Result<(), String> {
    let [dst] = args else {
        return Err("probe needs ADDR".into());
    };
    let dst: SocketAddrV4 = dst.parse().map_err(|e| format!("{e}"))?;
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
        hist: Hist::new(),
        cpu_secs: None,
        wall_secs: 0.0,
    };
    for w in workers.iter_mut() {
        let a = w.answer()?;
        r.pings += num::<u64>(&a, 1)?;
        r.errors += num::<u64>(&a, 2)?;
        let h = a
            .get(3)
            .and_then(|s| Hist::decode(s))
            .ok_or("bad histogram")?;
        r.hist.merge(&h);
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
    let procs = total.div_ceil(o.per_process).max(1);
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
            p.hist.quantile(0.50) as f64 / 1000.0,
            p.hist.quantile(0.99) as f64 / 1000.0,
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
        c.hist.quantile(0.50) as f64 / 1000.0,
        c.hist.quantile(0.99) as f64 / 1000.0,
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("worker") {
        worker_main(&args[1..])
    } else if args.first().map(String::as_str) == Some("probe") {
        probe_main(&args[1..])
    } else {
        parse_opts(&args).and_then(|o| {
            for (i, &s) in o.sessions.iter().enumerate() {
                if i > 0 {
                    // Let the server finish closing the sessions before the next size.
                    std::thread::sleep(Duration::from_millis(1500));
                }
                run(&o, s)?;
            }
            Ok(())
        })
    };
    if let Err(e) = result {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}
