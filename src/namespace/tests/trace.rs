//! Replays a trace recorded from Apache ZooKeeper 3.8 (Debian's server, driven by kazoo;
//! see `scripts/gen-namespace-trace.py`) and checks every answer: results, error codes,
//! zxids (failed writes, multis, session creates and closes each take one), versions,
//! cversions, ephemeral owners, lengths and child counts. Times are not compared.

use super::*;
use crate::namespace::{Op, OpResult};
use crate::wire::{ErrorCode, Id};

const TRACE: &str = include_str!("zk38_trace.txt");

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

fn multi_op(spec: &str) -> Op {
    let f: Vec<&str> = spec.split(':').collect();
    match f[0] {
        "create" => Op::Create {
            path: f[1].into(),
            data: data(f[2]),
            acl: open(),
            mode: CreateMode::from_flags(num(f[3])).expect("flags"),
        },
        "delete" => Op::Delete {
            path: f[1].into(),
            version: num(f[2]),
        },
        "set" => Op::SetData {
            path: f[1].into(),
            data: data(f[2]),
            version: num(f[3]),
        },
        "check" => Op::Check {
            path: f[1].into(),
            version: num(f[2]),
        },
        other => panic!("unknown multi op {other}"),
    }
}

fn multi_result(r: &OpResult) -> String {
    match r {
        OpResult::Create { path, .. } => format!("create:{path}"),
        OpResult::Delete | OpResult::Check => "done".into(),
        OpResult::SetData { stat } => format!("set:{}", fmt_stat(stat)),
        OpResult::Error(e) => format!("err:{}", e.code()),
    }
}

#[test]
fn namespace_answers_like_zookeeper_3_8_on_the_recorded_trace() {
    let mut ns = Namespace::new();
    let mut checked = 0;
    for (no, line) in TRACE.lines().enumerate() {
        let (call, expected) = match line.split_once(" => ") {
            Some((c, e)) => (c, Some(e)),
            None => (line, None),
        };
        let t: Vec<&str> = call.split_whitespace().collect();
        let sid = session_id(t[0]);
        let got = match t[1] {
            "session" => {
                ns.allocate_zxid();
                continue;
            }
            "close" => {
                ns.kill_session(sid);
                continue;
            }
            "create" => {
                let mode = CreateMode::from_flags(num(t[4])).expect("flags");
                match ns.create(sid, t[2], data(t[3]), &open(), mode, 0) {
                    Ok(a) => format!("ok {} {}", a.value.0, fmt_stat(&a.value.1)),
                    Err(e) => err(e),
                }
            }
            "delete" => match ns.delete(t[2], num(t[3])) {
                Ok(_) => "ok".into(),
                Err(e) => err(e),
            },
            "set" => match ns.set_data(t[2], data(t[3]), num(t[4]), 0) {
                Ok(a) => format!("ok {}", fmt_stat(&a.value)),
                Err(e) => err(e),
            },
            "exists" => match ns.exists(t[2], None) {
                Ok(s) => format!("ok {}", fmt_stat(&s)),
                Err(e) => err(e),
            },
            "children" => match ns.get_children(t[2], None) {
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
                let parts: Vec<String> = done.value.iter().map(multi_result).collect();
                parts.join("|")
            }
            other => panic!("line {}: unknown op {other}", no + 1),
        };
        assert_eq!(Some(got.as_str()), expected, "line {}: {call}", no + 1);
        checked += 1;
    }
    assert!(checked > 300, "trace too short: {checked} answers");
}
