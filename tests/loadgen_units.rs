//! Unit tests of the load generator's framing and histogram (benches/loadgen), which a
//! `harness = false` bench cannot run itself.

#[allow(dead_code)]
#[path = "../benches/loadgen/hist.rs"]
mod hist;
#[allow(dead_code)]
#[path = "../benches/loadgen/proto.rs"]
mod proto;

mod hist_tests {
    use super::hist::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        for v in [0u64, 1, 31, 32, 63, 64, 1000, 123_456, 10_000_000_000] {
            let i = index(v);
            assert!(lower_bound(i) <= v && v < lower_bound(i + 1), "{v}");
            assert!(lower_bound(i + 1) - lower_bound(i) <= v / 32 + 1);
        }
    }

    #[test]
    fn quantiles_and_round_trip() {
        let mut h = Hist::new();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.04);
        let back = Hist::decode(&h.encode()).unwrap();
        assert_eq!(back.count(), 1000);
        assert_eq!(back.quantile(0.99), h.quantile(0.99));
    }
}

mod proto_tests {
    use super::proto::*;

    #[test]
    fn connect_request_matches_the_spec_vector() {
        let hex: String = connect_request(30000)[4..]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let spec = [
            "00000000",
            "0000000000000000",
            "00007530",
            "0000000000000000",
            "00000010",
            "00000000000000000000000000000000",
            "00",
        ]
        .concat();
        assert_eq!(hex, spec);
    }

    #[test]
    fn ping_and_close_frames_are_bare_request_headers() {
        assert_eq!(
            PING.as_slice(),
            [0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]
        );
        assert_eq!(
            CLOSE.as_slice(),
            [0, 0, 0, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xf5]
        );
    }

    #[test]
    fn connect_responses_parse_with_and_without_read_only() {
        let mut p = vec![0, 0, 0, 0, 0, 0, 0x75, 0x30];
        p.extend_from_slice(&0x0186_9f5b_2c3d_0000i64.to_be_bytes());
        p.extend_from_slice(&16i32.to_be_bytes());
        p.extend_from_slice(&[7; 16]);
        assert_eq!(
            parse_connect_response(&p),
            Some((0x0186_9f5b_2c3d_0000, 30000))
        );
        p.push(0);
        assert_eq!(
            parse_connect_response(&p),
            Some((0x0186_9f5b_2c3d_0000, 30000))
        );
        assert_eq!(parse_connect_response(&p[..20]), None);
    }

    #[test]
    fn frames_split_and_headers_parse() {
        let mut buf = vec![0, 0, 0, 16];
        buf.extend_from_slice(&[0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0]);
        buf.extend_from_slice(&[0, 0, 0, 9, 1]);
        let mut got = Vec::new();
        let used = split_frames(&buf, |p| got.push(parse_reply_header(p))).unwrap();
        assert_eq!(used, 20);
        assert_eq!(got, vec![Some((PING_XID, 0))]);
        assert_eq!(split_frames(&[0xff, 0xff, 0xff, 0xff], |_| {}), None);
    }
}
