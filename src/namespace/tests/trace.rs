//! Replays a trace recorded from Apache ZooKeeper 3.8 (Debian's server, driven by kazoo;
//! see `scripts/gen-namespace-trace.py`) and checks every answer: results, error codes,
//! zxids (failed writes, multis, session creates and closes each take one), versions,
//! cversions, ephemeral owners, lengths and child counts, and the watch events each
//! session received after each operation. Times are not compared. Each session has one
//! connection, so its watcher id is its session id.

use super::*;
use crate::wire::{ErrorCode, Id};
use crate::wire::{MultiOp, MultiResult};

const TRACE: &str = include_str!("zk38_trace.txt");

/// The committed trace, or a freshly recorded one named by `ZKS_NAMESPACE_TRACE`
/// (`scripts/test-namespace.sh` records one from the installed server with a new seed).
fn trace_text() -> String {
    match std::env::var("ZKS_NAMESPACE_TRACE") {
        Ok(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        Err(_) => TRACE.to_string(),
    }
}

fn session_id(name: &str) -> u64 {
    0x1000
        + name
            .trim_start_matches('s')
            .parse::<u64>()
            .expect("session name")
}

fn fmt_stat(s: &Stat) -> String {
    let owner = if s.ephemeral_owner == 0 {
        "0".to_string()
    } else {
        format!("s{}", s.ephemeral_owner - 0x1000)
    };
    format!(
        "{},{},{},{},{},{},{},{},{}",
        s.czxid,
        s.mzxid,
        s.pzxid,
        s.version,
        s.cversion,
        s.aversion,
        owner,
        s.data_length,
        s.num_children
    )
}

fn data(tok: &str) -> Vec<u8> {
    if tok == "-" {
        vec![]
    } else {
        tok.as_bytes().to_vec()
    }
}

fn num(tok: &str) -> i32 {
    tok.parse().expect("number in trace")
}

fn watch_flag(tok: &str, sid: u64) -> Option<u64> {
    (tok == "1").then_some(sid)
}

/// The notifications as trace lines: sessions in name order, each session's in firing
/// order; none for `closing` (its client no longer listens).
fn event_lines(notes: &[Notification], closing: Option<u64>) -> Vec<String> {
    let mut v: Vec<(String, String)> = notes
        .iter()
        .filter(|n| Some(n.watcher) != closing)
        .map(|n| {
            let name = format!("s{}", n.watcher - 0x1000);
            let line = format!(
                "{name} event {} {}",
                n.event.event_type as i32, n.event.path
            );
            (name, line)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter().map(|(_, l)| l).collect()
}

fn err(e: ErrorCode) -> String {
    format!("err {}", e.code())
}

fn world(perms: i32) -> Vec<Acl> {
    vec![Acl {
        perms,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn multi_op(spec: &str) -> MultiOp {
    let f: Vec<&str> = spec.split(':').collect();
    match f[0] {
        "create" => MultiOp::create(
            f[1],
            data(f[2]),
            open(),
            CreateMode::from_flags(num(f[3])).expect("flags"),
        ),
        "delete" => MultiOp::delete(f[1], num(f[2])),
        "set" => MultiOp::set_data(f[1], data(f[2]), num(f[3])),
        "check" => MultiOp::check(f[1], num(f[2])),
        other => panic!("unknown multi op {other}"),
    }
}

fn multi_result(r: &MultiResult) -> String {
    match r {
        MultiResult::Create(path) | MultiResult::Create2 { path, .. } => format!("create:{path}"),
        MultiResult::Delete | MultiResult::Check => "done".into(),
        MultiResult::SetData(stat) => format!("set:{}", fmt_stat(stat)),
        MultiResult::Error(e) => format!("err:{e}"),
        other => panic!("not a write result: {other:?}"),
    }
}

#[test]
fn namespace_answers_like_zookeeper_3_8_on_the_recorded_trace() {
    let mut ns = Namespace::new();
    let mut checked = 0;
    let mut events_checked = 0;
    // Events the last operation fired, and those the trace says arrived after it.
    let mut fired: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut last_call = String::new();
    let text = trace_text();
    let lines: Vec<&str> = text.lines().chain(std::iter::once("end")).collect();
    for (no, line) in lines.iter().enumerate() {
        if line.contains(" event ") {
            seen.push(line.to_string());
            events_checked += 1;
            continue;
        }
        if last_call.ends_with(" close") {
            // ZooKeeper deletes a closed session's ephemerals in hash-set order.
            fired.sort();
            seen.sort();
        }
        assert_eq!(fired, seen, "events after line {no}: {last_call}");
        fired.clear();
        seen.clear();
        last_call = line.to_string();
        if *line == "end" {
            break;
        }
        let (call, expected) = match line.split_once(" => ") {
            Some((c, e)) => (c, Some(e)),
            None => (*line, None),
        };
        let t: Vec<&str> = call.split_whitespace().collect();
        let sid = session_id(t[0]);
        let got = match t[1] {
            "session" => {
                ns.allocate_zxid();
                continue;
            }
            "close" => {
                let done = ns.kill_session(sid);
                fired = event_lines(&done.notifications, Some(sid));
                ns.remove_watcher(sid);
                continue;
            }
            "create" => {
                let mode = CreateMode::from_flags(num(t[4])).expect("flags");
                match ns.create(sid, t[2], data(t[3]), &open(), mode, 0) {
                    Ok(a) => {
                        fired = event_lines(&a.notifications, None);
                        format!("ok {} {}", a.value.0, fmt_stat(&a.value.1))
                    }
                    Err(e) => err(e),
                }
            }
            "delete" => match ns.delete(t[2], num(t[3])) {
                Ok(a) => {
                    fired = event_lines(&a.notifications, None);
                    "ok".into()
                }
                Err(e) => err(e),
            },
            "set" => match ns.set_data(t[2], data(t[3]), num(t[4]), 0) {
                Ok(a) => {
                    fired = event_lines(&a.notifications, None);
                    format!("ok {}", fmt_stat(&a.value))
                }
                Err(e) => err(e),
            },
            "exists" => match ns.exists(t[2], watch_flag(t[3], sid)) {
                Ok(s) => format!("ok {}", fmt_stat(&s)),
                Err(e) => err(e),
            },
            "get" => match ns.get_data(t[2], watch_flag(t[3], sid)) {
                Ok((d, s)) => {
                    let d = String::from_utf8(d).expect("ascii data");
                    let d = if d.is_empty() { "-".to_string() } else { d };
                    format!("ok {d} {}", fmt_stat(&s))
                }
                Err(e) => err(e),
            },
            "children" => match ns.get_children(t[2], watch_flag(t[3], sid)) {
                Ok((names, s)) => {
                    let names = if names.is_empty() {
                        "-".to_string()
                    } else {
                        names.join(",")
                    };
                    format!("ok {names} {}", fmt_stat(&s))
                }
                Err(e) => err(e),
            },
            "setacl" => match ns.set_acl(t[2], &world(num(t[3])), num(t[4])) {
                Ok(a) => format!("ok {}", fmt_stat(&a.value)),
                Err(e) => err(e),
            },
            "getacl" => match ns.get_acl(t[2]) {
                Ok((acl, s)) => {
                    let perms: Vec<String> = acl.iter().map(|a| a.perms.to_string()).collect();
                    format!("ok {} {}", perms.join(","), fmt_stat(&s))
                }
                Err(e) => err(e),
            },
            "multi" => {
                let ops = t[2].split('|').map(multi_op).collect();
                let done = ns.multi(sid, ops, 0);
                fired = event_lines(&done.notifications, None);
                let parts: Vec<String> = done.value.iter().map(multi_result).collect();
                parts.join("|")
            }
            other => panic!("line {}: unknown op {other}", no + 1),
        };
        assert_eq!(Some(got.as_str()), expected, "line {}: {call}", no + 1);
        checked += 1;
    }
    assert!(events_checked > 0, "trace has no watch events");
    assert!(checked > 400, "trace too short: {checked} answers");
}
