//! A small HTTP endpoint on a thread of its own, for the AdminServer and the Prometheus
//! endpoint (`tiny_http` does the HTTP).
//!
//! Owns: one thread per endpoint answering `GET` (and `HEAD`) requests one at a time with
//! what a handler returns; refusing other methods (405) and overlong targets (414).
//!
//! Invariants: requests are answered serially on the endpoint's own thread, so a report
//! however costly never runs on an event loop and at most one is computed at a time per
//! endpoint; the handler sees only the path (the query string is dropped).
//!
//! Must never: outlive its owner: [`HttpThread::stop`] (or dropping it) unblocks the
//! thread and joins it, which drops whatever state the handler holds.

use crate::sync::thread;
use std::net::SocketAddr;
use std::sync::Arc;

/// The longest request target answered; longer ones get 414.
const MAX_TARGET: usize = 1024;

/// What a handler answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// HTTP status code.
    pub(crate) status: u16,
    /// The `Content-Type` header's value.
    pub(crate) content_type: &'static str,
    /// The body.
    pub(crate) body: String,
}

impl Reply {
    /// A 200 reply.
    pub(crate) fn ok(content_type: &'static str, body: String) -> Reply {
        Reply {
            status: 200,
            content_type,
            body,
        }
    }

    /// A plain-text error reply.
    pub(crate) fn error(status: u16, body: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{body}\n"),
        }
    }
}

/// A running endpoint.
pub(crate) struct HttpThread {
    http: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
    addr: SocketAddr,
}

impl HttpThread {
    /// Binds `addr` and answers each request with `handler(path)` on a thread named `name`.
    pub(crate) fn start(
        name: &str,
        addr: SocketAddr,
        handler: impl Fn(&str) -> Reply + Send + 'static,
    ) -> std::io::Result<HttpThread> {
        let http = tiny_http::Server::http(addr).map_err(std::io::Error::other)?;
        let http = Arc::new(http);
        let bound = http.server_addr().to_ip().unwrap_or(addr);
        let server = http.clone();
        let thread = thread::Builder::new().name(name.into()).spawn(move || {
            for req in server.incoming_requests() {
                let reply = if !matches!(
                    req.method(),
                    tiny_http::Method::Get | tiny_http::Method::Head
                ) {
                    Reply::error(405, "method not allowed")
                } else if req.url().len() > MAX_TARGET {
                    Reply::error(414, "request target too long")
                } else {
                    handler(req.url().split('?').next().unwrap_or(""))
                };
                let header = tiny_http::Header::from_bytes("Content-Type", reply.content_type)
                    .expect("a valid header");
                let response = tiny_http::Response::from_string(reply.body)
                    .with_status_code(reply.status)
                    .with_header(header);
                if let Err(e) = req.respond(response) {
                    tracing::debug!(error = %e, "HTTP request not answered");
                }
            }
        })?;
        Ok(HttpThread {
            http,
            thread: Some(thread),
            addr: bound,
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and joins the thread (which drops the handler and its state).
    pub(crate) fn stop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("an HTTP endpoint's thread panicked");
            }
        }
    }
}

impl Drop for HttpThread {
    fn drop(&mut self) {
        self.stop();
    }
}
