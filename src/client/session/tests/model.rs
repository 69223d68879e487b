//! Random input scripts: the session's observable invariants hold whatever happens.

use super::*;
use proptest::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Step {
    Tick,
    TcpConnected,
    TransportError,
    Handshake { expired: bool, read_only: bool },
    ReplyHead { err: bool },
    Submit { watch: bool },
    Notify,
    Close,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Tick),
        2 => Just(Step::TcpConnected),
        1 => Just(Step::TransportError),
        2 => (prop::bool::weighted(0.1), prop::bool::weighted(0.1))
            .prop_map(|(expired, read_only)| Step::Handshake { expired, read_only }),
        3 => any::<bool>().prop_map(|err| Step::ReplyHead { err }),
        3 => any::<bool>().prop_map(|watch| Step::Submit { watch }),
        1 => Just(Step::Notify),
        1 => Just(Step::Close),
    ]
}

proptest! {
    #[test]
    fn invariants_hold_for_any_script(steps in prop::collection::vec(step(), 1..80)) {
        let mut h = harness(3);
        let mut completed: HashMap<Ticket, usize> = HashMap::new();
        let mut submitted = 0u64;
        let mut closes: Vec<Ticket> = vec![];
        let mut last_state: Option<KeeperState> = None;
        let mut dead = false;
        let mut check = |out: Vec<Output>, dead_now: bool| -> Result<(), TestCaseError> {
            for o in out {
                match o {
                    Output::Event(e) if e.event_type == EventType::None => {
                        prop_assert_ne!(Some(e.state), last_state, "repeated state event");
                        prop_assert!(!dead, "state event after a terminal one");
                        last_state = Some(e.state);
                    }
                    Output::Complete { ticket, .. } => {
                        *completed.entry(ticket).or_default() += 1;
                    }
                    Output::Dial(_) | Output::Send(_) => {
                        prop_assert!(!dead, "I/O after a terminal state");
                    }
                    _ => {}
                }
            }
            dead |= dead_now;
            Ok(())
        };
        for st in steps {
            let now = h.now;
            match st {
                Step::Tick => {
                    if let Some(d) = h.s.next_deadline() {
                        h.now = d.max(h.now);
                        h.s.on_timeout(h.now);
                    }
                }
                Step::TcpConnected => h.s.on_tcp_connected(now),
                Step::TransportError => h.s.on_transport_error(now),
                Step::Handshake { expired, read_only } => h.s.on_incoming(
                    now,
                    Incoming::Connect(ConnectResponse {
                        protocol_version: 0,
                        timeout_ms: if expired { 0 } else { T as i32 },
                        session_id: 9,
                        password: vec![1; 16],
                        read_only,
                        legacy: false,
                    }),
                ),
                Step::ReplyHead { err } => {
                    if let Some(p) = h.s.pending.front() {
                        let (xid, op) = (p.xid, p.op);
                        let body = match op {
                            OpCode::GetData => Some(Response::GetData { data: vec![], stat: Stat::default() }),
                            _ => None,
                        };
                        let code = if err { ErrorCode::NoNode } else { ErrorCode::Ok };
                        h.s.on_incoming(now, reply(xid, 1, code, body));
                    }
                }
                Step::Submit { watch } => {
                    submitted += 1;
                    h.s.submit(now, submitted, get_data("/a", watch));
                }
                Step::Notify => h.s.on_incoming(
                    now,
                    Incoming::Reply(Reply::Notification {
                        zxid: -1,
                        event: WatcherEvent {
                            event_type: EventType::NodeDataChanged,
                            state: KeeperState::SyncConnected,
                            path: "/a".into(),
                        },
                    }),
                ),
                Step::Close => {
                    closes.push(1_000_000 + closes.len() as u64);
                    h.s.close(now, *closes.last().unwrap());
                }
            }
            let out = h.drain();
            let terminal = !h.s.state().is_alive();
            check(out, terminal)?;
            if terminal {
                prop_assert_eq!(h.s.next_deadline(), None);
            }
        }
        // Close, then let every timer run out: each request is answered exactly once.
        h.s.close(h.now, u64::MAX);
        let out = h.drain();
        check(out, !h.s.state().is_alive())?;
        let mut guard = 0;
        while let Some(d) = h.s.next_deadline() {
            h.now = d.max(h.now);
            h.s.on_timeout(h.now);
            let mut out = h.drain();
            if out.iter().any(|o| matches!(o, Output::Dial(_))) {
                h.s.on_transport_error(h.now);
                out.extend(h.drain());
            }
            check(out, !h.s.state().is_alive())?;
            guard += 1;
            prop_assert!(guard < 10_000);
        }
        closes.push(u64::MAX);
        for t in (1..=submitted).chain(closes) {
            prop_assert_eq!(completed.get(&t).copied(), Some(1), "ticket {} answered once", t);
        }
        prop_assert!(!h.s.state().is_alive());
    }
}
