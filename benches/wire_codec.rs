//! Decode and encode cost of the hot wire messages, next to a copy of the same bytes.
//!
//! `cargo bench --bench wire_codec`. Each group holds the codec and its floor (copying the
//! frame's bytes into a reused buffer, the least any decoder must do), so the ratio is read
//! off one report:
//! - `request/ping`, `request/get_data`, `request/create`: frame split + header + body;
//! - `reply/get_data`, `reply/notification`: encoding into a reused output buffer.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use zksession::wire::{
    decode_request, write_notification, write_reply, write_request, Acl, CreateRequest, EventType,
    FrameDecoder, KeeperState, PathWatchRequest, ReplyHeader, Request, Response, Stat,
    WatcherEvent, DEFAULT_MAX_BUFFER,
};

fn frame(req: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    write_request(&mut out, 7, req);
    out
}

fn requests(c: &mut Criterion) {
    let cases = [
        ("ping", frame(&Request::Ping)),
        (
            "get_data",
            frame(&Request::GetData(PathWatchRequest {
                path: "/app/config/service-a".into(),
                watch: true,
            })),
        ),
        (
            "create",
            frame(&Request::Create(CreateRequest {
                path: "/app/locks/lock-".into(),
                data: Some(vec![7; 64]),
                acl: vec![Acl::world_anyone()],
                flags: 3,
            })),
        ),
    ];
    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Elements(1));
    for (name, bytes) in &cases {
        let mut decoder = FrameDecoder::default();
        g.bench_function(format!("{name}/decode"), |b| {
            b.iter(|| {
                decoder.push(black_box(bytes));
                let payload = decoder.next_frame().unwrap().unwrap();
                black_box(decode_request(payload, DEFAULT_MAX_BUFFER).unwrap());
            })
        });
        let mut copy = Vec::with_capacity(bytes.len());
        g.bench_function(format!("{name}/floor_copy"), |b| {
            b.iter(|| {
                copy.clear();
                copy.extend_from_slice(black_box(bytes));
                black_box(&copy);
            })
        });
    }
    g.finish();
}

fn replies(c: &mut Criterion) {
    let mut g = c.benchmark_group("reply");
    g.throughput(Throughput::Elements(1));
    let header = ReplyHeader {
        xid: 7,
        zxid: 0x1_0000_0005,
        err: 0,
    };
    let body = Response::GetData {
        data: Some(vec![1; 64]),
        stat: Stat::default(),
    };
    let mut out = Vec::with_capacity(4096);
    g.bench_function("get_data/encode", |b| {
        b.iter(|| {
            out.clear();
            write_reply(&mut out, black_box(header), black_box(&body));
            black_box(&out);
        })
    });
    let event = WatcherEvent {
        event_type: EventType::NodeDeleted,
        state: KeeperState::SyncConnected,
        path: "/app/locks/lock-0000000001".into(),
    };
    g.bench_function("notification/encode", |b| {
        b.iter(|| {
            out.clear();
            write_notification(&mut out, 5, black_box(&event));
            black_box(&out);
        })
    });
    let mut encoded = Vec::new();
    write_reply(&mut encoded, header, &body);
    g.bench_function("get_data/floor_copy", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&encoded));
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, requests, replies);
criterion_main!(benches);
