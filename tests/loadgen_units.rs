//! Unit tests of the load generator's framing (tools/loadgen, needs feature `wire`) and of
//! its histogram transfer between processes (needs feature `loadgen`).

#[cfg(feature = "loadgen")]
#[allow(dead_code)]
#[path = "../tools/loadgen/hist.rs"]
mod hist;
#[allow(dead_code)]
#[path = "../tools/loadgen/proto.rs"]
mod proto;

#[cfg(feature = "loadgen")]
mod hist_tests {
    use super::hist;

    #[test]
    fn histograms_survive_the_text_round_trip_bucket_for_bucket() {
        let mut h = hist::new();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        h.record(7_000_000_000).unwrap();
        let back = hist::decode(&hist::encode(&h)).unwrap();
        assert_eq!(back.len(), h.len());
        for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
            assert!(back.equivalent(back.value_at_quantile(q), h.value_at_quantile(q)));
        }
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn empty_and_malformed_histogram_lines() {
        let empty = hist::new();
        assert_eq!(hist::encode(&empty), "-");
        assert_eq!(hist::decode("-").unwrap().len(), 0);
        assert!(hist::decode("12").is_none());
        assert!(hist::decode("a:1").is_none());
        assert!(hist::decode("5:x").is_none());
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
