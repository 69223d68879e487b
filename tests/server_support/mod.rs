//! A raw-frame test client and a server fixture for the server's integration tests.
//! Every server binds 127.0.0.1:0 and is stopped when its guard drops; every read is
//! bounded by a timeout so a broken server fails the test instead of hanging it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use zksession::server::{Server, ServerConfig};
use zksession::wire::{
    write_frame, write_request, Acl, ConnectRequest, ConnectResponse, CreateRequest, FrameDecoder,
    OpCode, Reader, Record, ReplyHeader, Request, Response, WatcherEvent,
};

/// Upper bound on any single wait for the server.
pub const WAIT: Duration = Duration::from_secs(15);

/// A running server, stopped on drop.
pub struct TestServer {
    server: Option<Server>,
    pub addr: SocketAddr,
    /// The secure (TLS) client port, when one is configured.
    pub secure_addr: Option<SocketAddr>,
}

impl TestServer {
    pub fn start(edit: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let mut c = ServerConfig {
            client_addr: "127.0.0.1:0".parse().unwrap(),
            tick_ms: 100,
            event_loops: 2,
            four_letter_words: zksession::server::FourLetterWords::All,
            ..ServerConfig::default()
        };
        edit(&mut c);
        let server = Server::start(c).expect("server starts");
        let addr = server.local_addr();
        let secure_addr = server.secure_addr();
        TestServer {
            server: Some(server),
            addr,
            secure_addr,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown();
        }
    }
}

/// What the server sent.
#[derive(Debug)]
pub enum Msg {
    /// A reply: header and raw body.
    Reply(ReplyHeader, Vec<u8>),
    /// A watch notification.
    Event(WatcherEvent),
}

/// A blocking raw-frame client.
pub struct Client {
    pub stream: TcpStream,
    frames: FrameDecoder,
    next_xid: i32,
}

impl Client {
    /// A TCP connection with no handshake.
    pub fn raw(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            frames: FrameDecoder::default(),
            next_xid: 1,
        }
    }

    /// Connects and completes a new-session handshake.
    pub fn session(addr: SocketAddr, timeout_ms: i32) -> (Client, ConnectResponse) {
        Client::attach(addr, &ConnectRequest::new_session(timeout_ms))
    }

    /// Connects and sends `req` as the handshake.
    pub fn attach(addr: SocketAddr, req: &ConnectRequest) -> (Client, ConnectResponse) {
        let mut c = Client::raw(addr);
        let mut out = Vec::new();
        write_frame(&mut out, |w| w.record(req));
        c.send_raw(&out);
        let frame = c.frame().expect("connect response");
        let resp = ConnectResponse::from_bytes(&frame).expect("decodes");
        (c, resp)
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a request with the next xid; returns the xid.
    pub fn send(&mut self, req: &Request) -> i32 {
        let xid = self.next_xid;
        self.next_xid += 1;
        self.send_xid(xid, req);
        xid
    }

    pub fn send_xid(&mut self, xid: i32, req: &Request) {
        let mut out = Vec::new();
        write_request(&mut out, xid, req);
        self.send_raw(&out);
    }

    /// The next frame's payload, or `None` when the server closed the connection.
    pub fn frame(&mut self) -> Option<Vec<u8>> {
        let mut buf = [0u8; 8192];
        loop {
            if let Some(f) = self.frames.next_frame().expect("valid framing") {
                return Some(f.to_vec());
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.frames.push(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("no frame within {WAIT:?}: {e}"),
            }
        }
    }

    /// Whether the server closed the connection (reading anything else fails the test).
    pub fn is_closed(&mut self) -> bool {
        self.frame().is_none()
    }

    /// The next message.
    pub fn msg(&mut self) -> Option<Msg> {
        let f = self.frame()?;
        let mut r = Reader::new(&f);
        let h = ReplyHeader::read(&mut r).expect("reply header");
        if h.xid == -1 {
            return Some(Msg::Event(WatcherEvent::read(&mut r).expect("event")));
        }
        Some(Msg::Reply(h, f[16..].to_vec()))
    }

    /// Sends `req` and returns `(err, body)` of its reply, collecting events on the way.
    pub fn call(&mut self, req: &Request) -> (i32, Option<Response>, Vec<WatcherEvent>) {
        let op = req.op();
        let xid = self.send(req);
        let mut events = Vec::new();
        loop {
            match self.msg().expect("reply before close") {
                Msg::Event(e) => events.push(e),
                Msg::Reply(h, body) => {
                    assert_eq!(h.xid, xid, "replies come in order");
                    if h.err != 0 {
                        return (h.err, None, events);
                    }
                    let resp = Response::read(op, &mut Reader::new(&body)).expect("body decodes");
                    return (0, Some(resp), events);
                }
            }
        }
    }

    /// The next watch event (fails on a reply or a close).
    pub fn event(&mut self) -> WatcherEvent {
        match self.msg() {
            Some(Msg::Event(e)) => e,
            other => panic!("expected an event, got {other:?}"),
        }
    }
}

pub fn create(path: &str, flags: i32) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(b"d".to_vec()),
        acl: vec![Acl::world_anyone()],
        flags,
    })
}

/// Sends a four-letter word on a fresh connection and returns the whole answer.
pub fn four_letter(addr: SocketAddr, word: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(word.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

pub fn op(o: OpCode) -> i32 {
    o as i32
}
