//! The memory budget and quotas through the wire: writes past them fail with
//! `QuotaExceeded` while the server, reads, pings and other sessions go on.

mod server_support;

use server_support::*;
use zksession::wire::{
    Acl, CreateRequest, ErrorCode, PathWatchRequest, Request, Response, SetDataRequest,
};

const BUDGET: u64 = 4 << 20;
const NODE: usize = 256 << 10;

fn put(path: &str, data: Vec<u8>) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(data),
        acl: vec![Acl::world_anyone()],
        flags: 0,
    })
}

fn get(path: &str) -> Request {
    Request::GetData(PathWatchRequest {
        path: path.into(),
        watch: false,
    })
}

fn set(path: &str, data: Vec<u8>) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(data),
        version: -1,
    })
}

#[test]
fn writes_past_the_memory_budget_fail_and_everyone_else_goes_on() {
    let srv = TestServer::start(|c| c.memory_budget = Some(BUDGET));
    let (mut reader, _) = Client::session(srv.addr, 4000);
    assert_eq!(reader.call(&put("/seen", b"hello".to_vec())).0, 0);
    let (mut writer, _) = Client::session(srv.addr, 4000);
    let mut stored = 0;
    let refused = loop {
        let (err, _, _) = writer.call(&put(&format!("/big{stored}"), vec![7; NODE]));
        if err != 0 {
            break err;
        }
        stored += 1;
        assert!(
            stored <= 16,
            "the budget of {BUDGET} bytes never refused a write"
        );
    };
    assert_eq!(refused, ErrorCode::QuotaExceeded.code());
    // The tree holds the nodes; the writer's input buffer (a frame of 256 KiB, grown by
    // doubling) counts too, so one to three nodes' worth less than the budget fits.
    let fit = (BUDGET as usize) / NODE;
    assert!(
        (fit - 4..fit).contains(&stored),
        "{stored} nodes of {NODE} bytes fit under {BUDGET}"
    );
    // The writer's session goes on: small writes that fit, reads, pings, and a growing
    // setData that does not fit.
    assert_eq!(writer.call(&Request::Ping).0, 0);
    assert_eq!(
        writer.call(&set("/big0", vec![1; 2 * NODE])).0,
        ErrorCode::QuotaExceeded.code()
    );
    assert_eq!(writer.call(&put("/small", b"s".to_vec())).0, 0);
    // Another session reads and pings as before.
    match reader.call(&get("/seen")) {
        (0, Some(Response::GetData { data, .. }), _) => {
            assert_eq!(data.as_deref(), Some(&b"hello"[..]))
        }
        other => panic!("{other:?}"),
    }
    match reader.call(&get("/big0")) {
        (0, Some(Response::GetData { data, .. }), _) => assert_eq!(data.unwrap().len(), NODE),
        other => panic!("{other:?}"),
    }
    assert_eq!(reader.call(&Request::Ping).0, 0);
    // A new session can connect, and deleting makes room again.
    let (mut late, _) = Client::session(srv.addr, 4000);
    assert_eq!(
        late.call(&Request::Delete(zksession::wire::DeleteRequest {
            path: "/big0".into(),
            version: -1,
        }))
        .0,
        0
    );
    assert_eq!(late.call(&put("/after", vec![0; NODE])).0, 0);
    assert!(four_letter(srv.addr, "ruok").contains("imok"));
    let mntr = four_letter(srv.addr, "mntr");
    let figure = |key: &str| -> i64 {
        mntr.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t')?.parse().ok())
            .unwrap_or_else(|| panic!("{key} in {mntr}"))
    };
    assert_eq!(figure("zks_memory_budget_bytes"), BUDGET as i64);
    assert!(figure("zks_memory_used_bytes") <= BUDGET as i64);
    assert!(figure("zks_memory_used_bytes") > (stored as i64 - 1) * NODE as i64);
    assert_eq!(figure("zks_memory_budget_refusals"), 2);
    // The last client's input buffer still holds the room of its 256 KiB frame (released
    // at its next read), and counts in the budget.
    assert!(figure("zks_memory_buffers_bytes") >= NODE as i64);
}

#[test]
fn hard_quota_limits_refuse_writes_only_when_enforced() {
    for enforce in [false, true] {
        let srv = TestServer::start(|c| c.enforce_quota = enforce);
        let (mut c, _) = Client::session(srv.addr, 4000);
        for (p, d) in [
            ("/q", ""),
            ("/zookeeper/quota/q", ""),
            (
                "/zookeeper/quota/q/zookeeper_limits",
                "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2",
            ),
            ("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0"),
            ("/q/a", ""),
        ] {
            assert_eq!(c.call(&put(p, d.as_bytes().to_vec())).0, 0, "{p}");
        }
        let third = c.call(&put("/q/b", Vec::new())).0;
        match c.call(&get("/zookeeper/quota/q/zookeeper_stats")) {
            (0, Some(Response::GetData { data, .. }), _) => {
                let want: &[u8] = if enforce {
                    b"count=2,bytes=0"
                } else {
                    b"count=3,bytes=0"
                };
                assert_eq!(data.as_deref(), Some(want));
            }
            other => panic!("{other:?}"),
        }
        if enforce {
            assert_eq!(third, ErrorCode::QuotaExceeded.code());
        } else {
            assert_eq!(third, 0);
        }
        assert_eq!(c.call(&Request::Ping).0, 0);
    }
}
