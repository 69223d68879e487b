//! The four-letter-word thread: answers `ruok`, `mntr`, `dump` and the rest away from the
//! event loops.
//!
//! Owns: [`Answers`] (the queue event loops hand commands to) and the thread draining it,
//! `zksessiond-4lw`, which runs each command ([`fourlw::run`]), queues the answer on its
//! connection and asks the connection's loop to write it and close.
//!
//! Invariants: a command's work never runs on an event loop, so a costly command (`dump`,
//! `wchc` with many watches) delays only the connection that asked for it; commands are
//! answered one at a time, in arrival order.
//!
//! Must never: do socket I/O (the loop writes the answer), or keep the shared state alive
//! after the server stops: the thread ends when its queue is closed ([`Answers::close`]).

use super::fourlw;
use super::shared::{ConnShared, LoopMsg, Shared};
use crate::sync::{thread, Mutex};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

/// A command and the connection that asked for it.
struct Job {
    conn: Arc<ConnShared>,
    cmd: &'static str,
}

/// The queue of commands waiting for the four-letter-word thread.
pub(crate) struct Answers {
    queue: Mutex<Option<Sender<Job>>>,
}

impl Answers {
    /// A queue and its receiving end, for [`spawn`].
    pub(crate) fn new() -> (Answers, AnswerQueue) {
        let (tx, rx) = channel();
        (
            Answers {
                queue: Mutex::new(Some(tx)),
            },
            AnswerQueue(rx),
        )
    }

    /// Queues `cmd` for `conn`; false once the queue is closed (the server is stopping).
    pub(crate) fn ask(&self, conn: &Arc<ConnShared>, cmd: &'static str) -> bool {
        let queue = self.queue.lock();
        queue.as_ref().is_some_and(|q| {
            q.send(Job {
                conn: conn.clone(),
                cmd,
            })
            .is_ok()
        })
    }

    /// Closes the queue: the thread answers what is queued, then ends.
    pub(crate) fn close(&self) {
        self.queue.lock().take();
    }
}

/// The receiving end of [`Answers`].
pub(crate) struct AnswerQueue(Receiver<Job>);

/// Starts the thread answering queued commands until the queue closes.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    queue: AnswerQueue,
) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new()
        .name("zksessiond-4lw".into())
        .spawn(move || {
            for job in queue.0.iter() {
                let text = fourlw::run(&shared, job.cmd);
                job.conn.push_output(text.as_bytes());
                shared.loops[job.conn.loop_index].send(LoopMsg::Close(job.conn.token));
            }
        })
}

#[cfg(test)]
mod tests {
    use crate::server::fourlw::HOLD;
    use crate::server::test_client::{call, open_session, TIMEOUT_MS};
    use crate::server::{FourLetterWords, Server, ServerConfig};
    use crate::wire::{PathWatchRequest, Request};
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    /// A four-letter word still being computed holds up no other client: while every
    /// word's work is held (wherever it runs), a new session is made and served on the
    /// only event loop. Run on the loop, the word would block it and this would time out.
    #[test]
    fn a_pending_four_letter_word_does_not_stall_the_loop() {
        let config = ServerConfig {
            client_addr: "127.0.0.1:0".parse().unwrap(),
            event_loops: 1,
            four_letter_words: FourLetterWords::All,
            ..ServerConfig::default()
        };
        let server = Server::start(config).unwrap();
        let addr = server.local_addr();
        let held = HOLD.lock();
        let mut word = TcpStream::connect(addr).unwrap();
        word.write_all(b"dump").unwrap();

        let (mut c, reply) = open_session(addr);
        assert_eq!(
            &reply[4..8],
            &TIMEOUT_MS.to_be_bytes(),
            "negotiated timeout"
        );
        let exists = Request::Exists(PathWatchRequest {
            path: "/".into(),
            watch: false,
        });
        let reply = call(&mut c, 1, &exists);
        assert_eq!(&reply[..4], &1i32.to_be_bytes(), "xid");
        assert_eq!(&reply[12..16], &0i32.to_be_bytes(), "error code");

        drop(held);
        let mut answer = String::new();
        word.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        word.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("SessionTracker dump:\n"), "{answer}");
        assert!(answer.contains("Connections dump:\n"), "{answer}");
    }
}
