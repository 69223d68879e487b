//! The durable-write phases: closed-loop creates of persistent znodes, and session
//! establishment, from N client threads with one request in flight each (N in flight in
//! all), for servers that persist every write before replying.
//!
//! Owns: `loadgen creates` and `loadgen sessions`. Each thread opens its own session on a
//! blocking socket; `creates` sends `create /<prefix>-<thread>-<i>` (persistent,
//! `--size` bytes of data) and sends the next on the reply; `sessions` opens a session
//! (handshake), closes it (closeSession) and repeats. Prints one `RESULT` line with the
//! rate and the p50/p99 latency of a create, or of an open+close pair.
//!
//! Must never: run unbounded (every read has a timeout, the phase a deadline).

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

use zksession::wire::{
    write_frame, write_request, Acl, ConnectRequest, CreateRequest, FrameDecoder, Reader, Record,
    ReplyHeader, Request,
};

use super::hist::{self, Hist};

const READ_TIMEOUT: Duration = Duration::from_secs(30);

struct Conn {
    stream: TcpStream,
    frames: FrameDecoder,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddrV4) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let mut c = Conn {
            stream,
            frames: FrameDecoder::default(),
            buf: vec![0; 16 * 1024],
        };
        let mut out = Vec::new();
        write_frame(&mut out, |w| w.record(&ConnectRequest::new_session(30_000)));
        c.stream.write_all(&out).map_err(|e| e.to_string())?;
        c.frame()?;
        Ok(c)
    }

    fn frame(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(f) = self.frames.next_frame().map_err(|e| e.to_string())? {
                return Ok(f.to_vec());
            }
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Err("server closed the connection".into()),
                Ok(n) => self.frames.push(&self.buf[..n]),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// Sends `req` and waits for its reply; returns the reply's error code.
    fn call(&mut self, xid: i32, req: &Request) -> Result<i32, String> {
        let mut out = Vec::new();
        write_request(&mut out, xid, req);
        self.stream.write_all(&out).map_err(|e| e.to_string())?;
        loop {
            let f = self.frame()?;
            let h = ReplyHeader::read(&mut Reader::new(&f)).map_err(|e| e.to_string())?;
            if h.xid == xid {
                return Ok(h.err);
            }
        }
    }
}

/// What a phase measured.
pub struct Figures {
    /// Operations completed.
    pub ops: u64,
    /// Operations that failed.
    pub errors: u64,
    /// Latency of each, ns.
    pub hist: Hist,
    /// Wall time of the phase.
    pub elapsed: Duration,
}

fn run_threads(
    threads: usize,
    secs: f64,
    body: impl Fn(usize, Instant, &mut Hist) -> Result<(u64, u64), String> + Sync,
) -> Result<Figures, String> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let results: Vec<Result<(u64, u64, Hist), String>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let body = &body;
                s.spawn(move || {
                    let mut h = hist::new();
                    body(t, deadline, &mut h).map(|(ok, err)| (ok, err, h))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let elapsed = start.elapsed();
    let mut f = Figures {
        ops: 0,
        errors: 0,
        hist: hist::new(),
        elapsed,
    };
    for r in results {
        let (ok, err, h) = r?;
        f.ops += ok;
        f.errors += err;
        f.hist.add(&h).map_err(|e| e.to_string())?;
    }
    Ok(f)
}

/// Closed-loop creates of `size`-byte persistent znodes from `threads` sessions.
pub fn creates(
    addr: SocketAddrV4,
    threads: usize,
    secs: f64,
    size: usize,
    prefix: &str,
) -> Result<Figures, String> {
    let data = vec![b'x'; size];
    run_threads(threads, secs, |t, deadline, h| {
        let mut c = Conn::open(addr)?;
        let (mut ok, mut err) = (0, 0);
        let mut i: i32 = 0;
        while Instant::now() < deadline {
            let req = Request::Create(CreateRequest {
                path: format!("/{prefix}-{t}-{i}"),
                data: data.clone(),
                acl: vec![Acl::world_anyone()],
                flags: 0,
            });
            let sent = Instant::now();
            let code = c.call(i + 1, &req)?;
            h.saturating_record(sent.elapsed().as_nanos() as u64);
            if code == 0 {
                ok += 1;
            } else {
                err += 1;
            }
            i += 1;
        }
        Ok((ok, err))
    })
}

/// Session open (handshake) + close (closeSession), repeated, from `threads` threads.
pub fn sessions(addr: SocketAddrV4, threads: usize, secs: f64) -> Result<Figures, String> {
    run_threads(threads, secs, |_, deadline, h| {
        let (mut ok, mut err) = (0, 0);
        while Instant::now() < deadline {
            let sent = Instant::now();
            let mut c = Conn::open(addr)?;
            let code = c.call(1, &Request::CloseSession)?;
            h.saturating_record(sent.elapsed().as_nanos() as u64);
            if code == 0 {
                ok += 1;
            } else {
                err += 1;
            }
        }
        Ok((ok, err))
    })
}

/// Prints a phase's `RESULT` line.
pub fn report(label: &str, what: &str, inflight: usize, f: &Figures) {
    let rate = f.ops as f64 / f.elapsed.as_secs_f64();
    println!(
        "RESULT label={label} phase={what} inflight={inflight} ops={} errors={} per_s={rate:.0} p50_us={} p99_us={}",
        f.ops,
        f.errors,
        f.hist.value_at_quantile(0.5) / 1000,
        f.hist.value_at_quantile(0.99) / 1000,
    );
}
