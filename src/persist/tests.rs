//! Unit tests of the on-disk format: round trips of every transaction type, torn and
//! damaged logs at every byte offset, snapshots' seals, file names and padding.

use super::*;

fn open() -> Vec<Acl> {
    vec![Acl::new(31, "world", "anyone")]
}

fn create(path: &str, data: &[u8], ephemeral: bool) -> CreateTxn {
    CreateTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: open(),
        ephemeral,
        parent_cversion: 1,
    }
}

fn entry(zxid: i64, txn: Txn) -> LogEntry {
    LogEntry {
        header: TxnHeader {
            client_id: 0x100_0000_0000_0001,
            cxid: zxid as i32,
            zxid,
            time: 1_700_000_000_000 + zxid,
            txn_type: txn.op_code(),
        },
        txn,
        digest: Some(TxnDigest {
            version: DIGEST_VERSION,
            tree_digest: zxid * 7919,
        }),
    }
}

/// One entry of every transaction type, multi items of every type included.
fn every_kind() -> Vec<LogEntry> {
    let txns = vec![
        Txn::CreateSession { timeout: 30000 },
        Txn::Create(create("/a", b"hello", false)),
        Txn::Create2(create("/a/e", b"", true)),
        Txn::CreateContainer(CreateContainerTxn {
            path: "/c".into(),
            data: None,
            acl: vec![Acl::new(1, "ip", "127.0.0.1")],
            parent_cversion: 3,
        }),
        Txn::CreateTtl(CreateTtlTxn {
            path: "/t".into(),
            data: Some(b"t".to_vec()),
            acl: open(),
            parent_cversion: 4,
            ttl: 60000,
        }),
        Txn::SetData(SetDataTxn {
            path: "/a".into(),
            data: Some(vec![0; 300]),
            version: 1,
        }),
        Txn::SetAcl(SetAclTxn {
            path: "/a".into(),
            acl: vec![Acl::new(31, "digest", "u:abc=")],
            version: 1,
        }),
        Txn::Multi(vec![
            SubTxn::Create(create("/m", b"m", false)),
            SubTxn::CreateContainer(CreateContainerTxn {
                path: "/m/c".into(),
                data: Some(vec![]),
                acl: open(),
                parent_cversion: 1,
            }),
            SubTxn::CreateTtl(CreateTtlTxn {
                path: "/m/t".into(),
                data: None,
                acl: open(),
                parent_cversion: 2,
                ttl: 5,
            }),
            SubTxn::SetData(SetDataTxn {
                path: "/m".into(),
                data: Some(b"n".to_vec()),
                version: 1,
            }),
            SubTxn::Check(CheckVersionTxn {
                path: "/m".into(),
                version: 1,
            }),
            SubTxn::Delete {
                path: "/m/t".into(),
            },
            SubTxn::DeleteContainer {
                path: "/m/c".into(),
            },
        ]),
        Txn::Multi(vec![
            SubTxn::Error { err: 0 },
            SubTxn::Error { err: -103 },
            SubTxn::Error { err: -2 },
        ]),
        Txn::Error { err: -110 },
        Txn::Delete {
            path: "/a/e".into(),
        },
        Txn::DeleteContainer { path: "/c".into() },
        Txn::CloseSession {
            paths_to_delete: Some(vec!["/a/e".into()]),
        },
    ];
    txns.into_iter()
        .enumerate()
        .map(|(i, t)| entry(i as i64 + 1, t))
        .collect()
}

#[test]
fn every_txn_kind_round_trips_byte_for_byte() {
    let entries = every_kind();
    let bytes = log_bytes(0, &entries);
    let scan = LogScan::read(&bytes).unwrap();
    assert_eq!(scan.header.dbid, 0);
    assert_eq!(
        scan.end,
        LogEnd::EndOfFile {
            offset: bytes.len() as u64
        }
    );
    let read: Vec<LogEntry> = scan.records.iter().map(|r| r.entry.clone()).collect();
    assert_eq!(read, entries);
    assert_eq!(log_bytes(0, &read), bytes);
}

#[test]
fn entries_without_digest_or_close_body_round_trip() {
    let mut e = entry(
        9,
        Txn::CloseSession {
            paths_to_delete: None,
        },
    );
    e.digest = None;
    let bytes = log_bytes(0, std::slice::from_ref(&e));
    let scan = LogScan::read(&bytes).unwrap();
    assert_eq!(scan.records[0].entry, e);
}

#[test]
fn log_header_is_zklg_version_2() {
    let bytes = log_bytes(0, &[]);
    assert_eq!(&bytes[..8], b"ZKLG\0\0\0\x02");
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert!(matches!(
        LogScan::read(&bad),
        Err(FormatError::BadMagic { .. })
    ));
    let mut v3 = bytes;
    v3[7] = 3;
    assert_eq!(LogScan::read(&v3), Err(FormatError::UnsupportedVersion(3)));
}

#[test]
fn a_log_cut_at_any_offset_keeps_every_whole_record_before_it() {
    let entries = every_kind();
    let bytes = log_bytes(0, &entries);
    let full = LogScan::read(&bytes).unwrap();
    let starts: Vec<u64> = full.records.iter().map(|r| r.offset).collect();
    let from = starts[starts.len() - 4] as usize;
    for cut in from..=bytes.len() {
        let scan = LogScan::read(&bytes[..cut]).unwrap();
        let whole = full
            .records
            .iter()
            .filter(|r| r.end() <= cut as u64)
            .count();
        assert_eq!(scan.records.len(), whole, "cut at {cut}");
        assert_eq!(scan.records[..], full.records[..whole]);
        let boundary = full.records[..whole].last().map_or(16, |r| r.end());
        assert_eq!(scan.end.offset(), boundary, "cut at {cut}");
        if cut as u64 == boundary {
            assert_eq!(scan.end, LogEnd::EndOfFile { offset: boundary });
        } else {
            // A tail of only zero bytes cannot be told from padding; either way the
            // log is cut back to the same offset.
            assert!(
                matches!(
                    scan.end,
                    LogEnd::Damaged {
                        damage: Damage::Truncated { .. },
                        ..
                    } | LogEnd::Zeros { .. }
                ),
                "cut at {cut}: {:?}",
                scan.end
            );
        }
    }
}

#[test]
fn a_flipped_byte_is_reported_at_its_record_and_keeps_the_records_before() {
    let entries = every_kind();
    let bytes = log_bytes(0, &entries);
    let full = LogScan::read(&bytes).unwrap();
    let from = full.records[full.records.len() - 3].offset as usize;
    for at in from..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0xff;
        let scan = LogScan::read(&bad).unwrap();
        let hit = full
            .records
            .iter()
            .position(|r| r.offset <= at as u64 && (at as u64) < r.end())
            .unwrap();
        assert_eq!(scan.records[..], full.records[..hit], "flip at {at}");
        match &scan.end {
            LogEnd::Damaged { offset, damage } => {
                assert_eq!(*offset, full.records[hit].offset, "flip at {at}");
                let r = &full.records[hit];
                let rel = at as u64 - r.offset;
                if rel < 8 || (rel >= 12 && rel < r.len - 1) {
                    assert!(
                        matches!(
                            damage,
                            Damage::BadChecksum { .. } | Damage::Truncated { .. }
                        ),
                        "flip at {at}: {damage:?}"
                    );
                } else if rel == r.len - 1 {
                    assert_eq!(*damage, Damage::BadEndOfRecord(b'B' ^ 0xff));
                }
            }
            other => panic!("flip at {at}: {other:?}"),
        }
    }
}

#[test]
fn zero_padding_ends_the_log_and_bytes_past_it_are_reported() {
    let entries = every_kind();
    let mut bytes = log_bytes(0, &entries[..2]);
    let end = bytes.len() as u64;
    bytes.resize(bytes.len() + 5000, 0);
    let scan = LogScan::read(&bytes).unwrap();
    assert_eq!(scan.records.len(), 2);
    assert_eq!(
        scan.end,
        LogEnd::Zeros {
            offset: end,
            nonzero_at: None
        }
    );
    assert!(scan.end.is_clean());
    bytes[end as usize + 4000] = 1;
    let scan = LogScan::read(&bytes).unwrap();
    assert_eq!(
        scan.end,
        LogEnd::Zeros {
            offset: end,
            nonzero_at: Some(end + 4000)
        }
    );
    assert!(!scan.end.is_clean());
}

#[test]
fn a_zero_length_after_a_checksum_is_a_torn_write() {
    let mut bytes = log_bytes(0, &every_kind()[..1]);
    let end = bytes.len() as u64;
    bytes.extend_from_slice(&[0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0]);
    let scan = LogScan::read(&bytes).unwrap();
    assert_eq!(
        scan.end,
        LogEnd::Damaged {
            offset: end,
            damage: Damage::ZeroLength {
                stored: 0x0102_0304
            }
        }
    );
}

#[test]
fn a_record_with_a_good_checksum_but_an_unknown_type_is_undecodable() {
    let mut e = every_kind().remove(0);
    e.header.txn_type = 99;
    let mut bytes = log_bytes(0, &[]);
    e.write_framed(&mut bytes);
    let scan = LogScan::read(&bytes).unwrap();
    assert_eq!(
        scan.end,
        LogEnd::Damaged {
            offset: 16,
            damage: Damage::Undecodable(FormatError::UnknownTxnType(99))
        }
    );
}

#[test]
fn multi_items_of_types_not_allowed_in_a_multi_are_refused() {
    assert_eq!(
        SubTxn::from_bytes(op::SET_ACL, &[]),
        Err(FormatError::BadSubTxnType(op::SET_ACL))
    );
    let mut bytes = SubTxn::Error { err: 0 }.to_bytes();
    bytes.push(0);
    assert!(SubTxn::from_bytes(op::ERROR, &bytes).is_err());
}

#[test]
fn padding_follows_zookeepers_rule() {
    let p = 64 * 1024;
    assert_eq!(padded_size(16, 0, p), p);
    assert_eq!(padded_size(1000, p, p), p);
    assert_eq!(padded_size(p - 100, p, p), 2 * p);
    assert_eq!(padded_size(3 * p + 5, p, p), 4 * p);
    assert_eq!(padded_size(3 * p + 5, p, 0), p);
}

#[test]
fn the_writer_pads_with_zeros_and_reads_back() {
    let dir = std::env::temp_dir().join(format!("zks-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file_name(FileKind::Log, 1));
    let _ = std::fs::remove_file(&path);
    let entries = every_kind();
    let mut w = LogWriter::create(&path, 0, 16 * 1024).unwrap();
    for e in &entries[..5] {
        w.append(e);
    }
    w.sync().unwrap();
    for e in &entries[5..] {
        w.append(e);
    }
    w.sync().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 16 * 1024);
    let unpadded = log_bytes(0, &entries);
    assert_eq!(&bytes[..unpadded.len()], &unpadded[..]);
    let scan = LogScan::read(&bytes).unwrap();
    assert_eq!(scan.records.len(), entries.len());
    assert!(matches!(
        scan.end,
        LogEnd::Zeros {
            nonzero_at: None,
            ..
        }
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_log_cut_back_after_a_torn_tail_takes_new_entries() {
    let dir = std::env::temp_dir().join(format!("zks-persist-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file_name(FileKind::Log, 1));
    let _ = std::fs::remove_file(&path);
    let entries = every_kind();
    let mut w = LogWriter::create(&path, 0, 4096).unwrap();
    for e in &entries[..5] {
        w.append(e);
    }
    w.sync().unwrap();
    let torn_at = w.position();
    drop(w);
    // Half of a sixth record reached the disk.
    let mut half = Vec::new();
    entries[5].write_framed(&mut half);
    half.truncate(half.len() / 2);
    std::os::unix::fs::FileExt::write_all_at(
        &std::fs::OpenOptions::new().write(true).open(&path).unwrap(),
        &half,
        torn_at,
    )
    .unwrap();
    let scan = LogScan::read(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(scan.records.len(), 5);
    // Inside the preallocated zeros the torn record is whole in length, so its
    // checksum gives it away.
    assert!(matches!(
        scan.end,
        LogEnd::Damaged { offset, damage: Damage::BadChecksum { .. } } if offset == torn_at
    ));
    let mut w = LogWriter::resume(&path, scan.end.offset(), 4096).unwrap();
    for e in &entries[5..] {
        w.append(e);
    }
    w.sync().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let scan = LogScan::read(&bytes).unwrap();
    let read: Vec<LogEntry> = scan.records.into_iter().map(|r| r.entry).collect();
    assert_eq!(read, entries);
    assert!(scan.end.is_clean());
    assert_eq!(bytes.len() % 4096, 0, "padded again");
    assert!(LogWriter::resume(&path, 3, 4096).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest::proptest! {
    #[test]
    fn any_bytes_after_a_log_header_decode_without_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let mut bytes = log_bytes(0, &[]);
        bytes.extend_from_slice(&tail);
        let scan = LogScan::read(&bytes).unwrap();
        proptest::prop_assert!(scan.end.offset() <= bytes.len() as u64);
        let kept: Vec<LogEntry> = scan.records.iter().map(|r| r.entry.clone()).collect();
        proptest::prop_assert_eq!(&log_bytes(0, &kept)[..], &bytes[..scan.end.offset() as usize]);
    }

    #[test]
    fn mutated_logs_yield_a_prefix_of_their_records(at in 16usize..2000, xor in 1u8..=255) {
        let entries = every_kind();
        let mut bytes = log_bytes(0, &entries);
        let at = 16 + at % (bytes.len() - 16);
        bytes[at] ^= xor;
        let scan = LogScan::read(&bytes).unwrap();
        let n = scan.records.len();
        let kept: Vec<LogEntry> = scan.records.into_iter().map(|r| r.entry).collect();
        proptest::prop_assert_eq!(&kept[..], &entries[..n]);
        proptest::prop_assert!(n < entries.len());
    }

    #[test]
    fn any_bytes_never_panic_the_snapshot_decoder(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let _ = Snapshot::decode(&bytes);
        let mut framed = b"ZKSN\0\0\0\x02".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = Snapshot::decode(&framed);
    }
}

fn stat(zxid: i64, owner: i64) -> StatPersisted {
    StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: 1000,
        mtime: 1000,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeral_owner: owner,
        pzxid: zxid,
    }
}

fn sample_snapshot() -> Snapshot {
    let node = |data: Option<&[u8]>, acl: i64, zxid: i64, owner: i64| DataNode {
        data: data.map(<[u8]>::to_vec),
        acl,
        stat: stat(zxid, owner),
    };
    let nodes = vec![
        (String::new(), node(Some(b""), OPEN_UNSAFE_ACL, 0, 0)),
        ("/zookeeper".into(), node(Some(b""), OPEN_UNSAFE_ACL, 0, 0)),
        ("/zookeeper/quota".into(), node(None, OPEN_UNSAFE_ACL, 0, 0)),
        ("/a".into(), node(Some(b"x"), 1, 2, 0)),
        ("/a/e".into(), node(None, 2, 3, 0x100_0000_0000_0001)),
    ];
    let mut s = Snapshot {
        dbid: -1,
        sessions: vec![(0x100_0000_0000_0001, 30000)],
        acls: vec![(1, open()), (2, vec![Acl::new(31, "digest", "u:h=")])],
        nodes,
        digest: None,
    };
    s.digest = Some(ZxidDigest {
        zxid: 3,
        version: DIGEST_VERSION,
        digest: s.tree_digest(),
    });
    s
}

#[test]
fn snapshots_round_trip_byte_for_byte_and_end_with_the_seal() {
    let s = sample_snapshot();
    let bytes = s.encode();
    assert_eq!(&bytes[..4], b"ZKSN");
    assert_eq!(&bytes[bytes.len() - 5..], b"\0\0\0\x01/");
    let back = Snapshot::decode(&bytes).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.encode(), bytes);
    let mut old = s;
    old.digest = None;
    assert_eq!(Snapshot::decode(&old.encode()).unwrap(), old);
}

#[test]
fn a_damaged_snapshot_fails_its_seal() {
    let bytes = sample_snapshot().encode();
    for at in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        assert!(Snapshot::decode(&bad).is_err(), "flip at {at}");
    }
    // Cut right after the first seal, it is a snapshot without the digest section
    // (as written with digests disabled); every other cut fails.
    let mut no_digest = sample_snapshot();
    no_digest.digest = None;
    let first_seal_end = no_digest.encode().len();
    for cut in 0..bytes.len() {
        let r = Snapshot::decode(&bytes[..cut]);
        if cut == first_seal_end {
            assert_eq!(r.unwrap(), no_digest);
        } else {
            assert!(r.is_err(), "cut at {cut}");
        }
    }
}

#[test]
fn a_snapshot_node_before_its_parent_is_refused() {
    let mut s = sample_snapshot();
    s.nodes.swap(3, 4);
    assert_eq!(
        Snapshot::decode(&s.encode()),
        Err(FormatError::OrphanNode {
            path: "/a/e".into()
        })
    );
}

#[test]
fn the_digest_skips_zookeeper_internals_and_aliases_the_root() {
    let st = stat(5, 0);
    assert_eq!(node_digest("/zookeeper/quota", Some(b"q"), &st), 0);
    assert_ne!(node_digest("/zookeeper", Some(b""), &st), 0);
    assert_eq!(node_digest("/", Some(b""), &st), node_digest("", None, &st));
    assert_ne!(
        node_digest("/a", Some(b"x"), &st),
        node_digest("/a", Some(b"y"), &st)
    );
}

#[test]
fn file_names_are_lowercase_hex_zxids() {
    assert_eq!(file_name(FileKind::Log, 0x1_0000_002a), "log.10000002a");
    assert_eq!(file_name(FileKind::Snapshot, 0), "snapshot.0");
    assert_eq!(
        parse_file_name("snapshot.1f"),
        Some((FileKind::Snapshot, 0x1f))
    );
    assert_eq!(
        parse_file_name("log.100000001"),
        Some((FileKind::Log, 0x1_0000_0001))
    );
    for bad in [
        "log.",
        "log.xyz",
        "snapshot.1f.snappy",
        "acceptedEpoch",
        "log",
    ] {
        assert_eq!(parse_file_name(bad), None, "{bad}");
    }
}
