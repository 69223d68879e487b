//! create, delete, setData, setACL and the reads.

use super::*;
use crate::wire::ErrorCode;

#[test]
fn create_sets_the_full_stat_and_parent_stat() {
    let mut ns = Namespace::new();
    let done = ns
        .create(
            S1,
            "/a",
            b"hello".to_vec(),
            &open(),
            CreateMode::Persistent,
            1234,
        )
        .unwrap();
    assert_eq!(done.zxid, 1);
    assert_eq!(done.value.0, "/a");
    let s = done.value.1;
    assert_eq!(
        s,
        Stat {
            czxid: 1,
            mzxid: 1,
            ctime: 1234,
            mtime: 1234,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: 0,
            data_length: 5,
            num_children: 0,
            pzxid: 1,
        }
    );
    assert_eq!(stat(&mut ns, "/a"), s);
    let root = stat(&mut ns, "/");
    // 1 create and 2 children (with /zookeeper): 2 * 1 - 2.
    assert_eq!((root.cversion, root.pzxid, root.num_children), (0, 1, 2));
    assert_eq!(ns.get_data("/a", None).unwrap().0, b"hello");
}

#[test]
fn create_ephemeral_records_the_owner() {
    let mut ns = Namespace::new();
    let s = mk(&mut ns, "/e", CreateMode::Ephemeral);
    assert_eq!(s.ephemeral_owner, S1 as i64);
    assert_eq!(ns.get_ephemerals(S1, "/"), ["/e"]);
    assert_eq!(ns.ephemeral_count(), 1);
}

#[test]
fn create_sequential_appends_parent_cversion() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/q");
    let a = ns
        .create(
            S1,
            "/q/n-",
            vec![],
            &open(),
            CreateMode::PersistentSequential,
            1,
        )
        .unwrap();
    assert_eq!(a.value.0, "/q/n-0000000000");
    persistent(&mut ns, "/q/other");
    ns.delete("/q/other", -1).unwrap();
    let b = ns
        .create(
            S1,
            "/q/n-",
            vec![],
            &open(),
            CreateMode::EphemeralSequential,
            1,
        )
        .unwrap();
    assert_eq!(b.value.0, "/q/n-0000000002");
    assert_eq!(b.value.1.ephemeral_owner, S1 as i64);
}

#[test]
fn cversion_counts_creates_and_deletes_but_sequence_counts_creates() {
    // Observed on ZooKeeper 3.8: create /p/a, /p/b, delete /p/a -> cversion 3, and the
    // next sequential child is numbered by creates only.
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    persistent(&mut ns, "/p/a");
    persistent(&mut ns, "/p/b");
    ns.delete("/p/a", -1).unwrap();
    let s = stat(&mut ns, "/p");
    assert_eq!((s.cversion, s.num_children), (3, 1));
    let n = ns
        .create(
            S1,
            "/p/n-",
            vec![],
            &open(),
            CreateMode::PersistentSequential,
            1,
        )
        .unwrap();
    assert_eq!(n.value.0, "/p/n-0000000002");
    assert_eq!(stat(&mut ns, "/p").cversion, 4);
}

#[test]
fn create_sequential_accepts_a_trailing_slash() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/q");
    let a = ns
        .create(
            S1,
            "/q/",
            vec![],
            &open(),
            CreateMode::PersistentSequential,
            1,
        )
        .unwrap();
    assert_eq!(a.value.0, "/q/0000000000");
}

#[test]
fn create_container_is_persistent_like_with_container_owner() {
    let mut ns = Namespace::new();
    let s = mk(&mut ns, "/c", CreateMode::Container);
    // Stored with the container marker, shown to clients as 0.
    assert_eq!(s.ephemeral_owner, 0);
    assert_eq!(ns.nodes["/c"].stat.ephemeral_owner, i64::MIN);
    persistent(&mut ns, "/c/child");
    assert_eq!(ns.ephemeral_count(), 0);
}

#[test]
fn create_ttl_modes_are_unimplemented_without_extended_types() {
    let mut ns = Namespace::new();
    for m in [
        CreateMode::PersistentWithTtl,
        CreateMode::PersistentSequentialWithTtl,
    ] {
        assert_eq!(
            ns.create(S1, "/t", vec![], &open(), m, 1).unwrap_err(),
            ErrorCode::Unimplemented
        );
    }
}

#[test]
fn create_bad_paths_are_bad_arguments() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    for p in ["", "a", "/a/", "/a\0", "/.", "/a/../b"] {
        let r = ns.create(S1, p, vec![], &open(), CreateMode::Persistent, 1);
        // "/a/../b" has a missing parent "/a/..", which is looked up before the syntax check.
        let want = if p == "/a/../b" {
            ErrorCode::NoNode
        } else {
            ErrorCode::BadArguments
        };
        assert_eq!(r.unwrap_err(), want, "{p:?}");
    }
    assert_eq!(
        ns.create(S1, "/..", vec![], &open(), CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::BadArguments
    );
}

#[test]
fn create_missing_parent_is_no_node() {
    let mut ns = Namespace::new();
    assert_eq!(
        ns.create(S1, "/x/y", vec![], &open(), CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::NoNode
    );
}

#[test]
fn create_existing_is_node_exists() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    assert_eq!(
        ns.create(S1, "/a", vec![], &open(), CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::NodeExists
    );
    assert_eq!(
        ns.create(S1, "/", vec![], &open(), CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::NodeExists
    );
}

#[test]
fn create_under_ephemeral_is_no_children_for_ephemerals() {
    let mut ns = Namespace::new();
    mk(&mut ns, "/e", CreateMode::Ephemeral);
    assert_eq!(
        ns.create(S1, "/e/c", vec![], &open(), CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::NoChildrenForEphemerals
    );
    // NodeExists is checked before the ephemeral parent.
    assert_eq!(
        ns.create(S1, "/e", vec![], &open(), CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::NodeExists
    );
}

#[test]
fn create_with_non_world_acl_is_invalid_acl() {
    let mut ns = Namespace::new();
    let mut digest = open();
    digest[0].id.scheme = "digest".into();
    assert_eq!(
        ns.create(S1, "/a", vec![], &digest, CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::InvalidAcl
    );
    assert_eq!(
        ns.create(S1, "/a", vec![], &[], CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::InvalidAcl
    );
    // The ACL is checked before the parent is looked up.
    assert_eq!(
        ns.create(S1, "/x/a", vec![], &[], CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::InvalidAcl
    );
}

#[test]
fn create_without_create_permission_is_no_auth() {
    let mut ns = Namespace::new();
    ns.create(
        S1,
        "/ro",
        vec![],
        &acl_with(perms::READ),
        CreateMode::Persistent,
        1,
    )
    .unwrap();
    assert_eq!(
        ns.create(S1, "/ro/c", vec![], &open(), CreateMode::Persistent, 1)
            .unwrap_err(),
        ErrorCode::NoAuth
    );
}

#[test]
fn failed_writes_take_a_zxid_but_change_nothing() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let before = ns.clone();
    assert!(ns
        .create(S1, "/a", vec![], &open(), CreateMode::Persistent, 1)
        .is_err());
    assert_eq!(ns.last_zxid(), before.last_zxid() + 1);
    assert_eq!(ns.nodes, before.nodes);
}

#[test]
fn zxids_strictly_increase() {
    let mut ns = Namespace::new();
    let a = ns
        .create(S1, "/a", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap()
        .zxid;
    let b = ns.set_data("/a", vec![1], -1, 2).unwrap().zxid;
    let c = ns.allocate_zxid();
    let d = ns.delete("/a", -1).unwrap().zxid;
    assert!(a < b && b < c && c < d);
    assert_eq!(ns.last_zxid(), d);
}

#[test]
fn delete_removes_and_moves_parent_pzxid_and_cversion() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    persistent(&mut ns, "/p/c");
    let before = stat(&mut ns, "/p");
    let z = ns.delete("/p/c", 0).unwrap().zxid;
    let after = stat(&mut ns, "/p");
    assert_eq!(after.pzxid, z);
    assert_eq!(after.cversion, before.cversion + 1);
    assert_eq!(after.num_children, 0);
    assert_eq!(ns.exists("/p/c", None), Err(ErrorCode::NoNode));
}

#[test]
fn delete_errors_follow_zookeeper_order() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    persistent(&mut ns, "/p/c");
    assert_eq!(ns.delete("p", -1).unwrap_err(), ErrorCode::BadArguments);
    assert_eq!(ns.delete("/x/y", -1).unwrap_err(), ErrorCode::NoNode);
    assert_eq!(ns.delete("/p/x", -1).unwrap_err(), ErrorCode::NoNode);
    assert_eq!(ns.delete("/p", 5).unwrap_err(), ErrorCode::BadVersion);
    assert_eq!(ns.delete("/p", 0).unwrap_err(), ErrorCode::NotEmpty);
    assert_eq!(ns.delete("/p", -1).unwrap_err(), ErrorCode::NotEmpty);
}

#[test]
fn delete_special_paths_is_bad_arguments() {
    let mut ns = Namespace::new();
    for p in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        assert_eq!(
            ns.delete(p, -1).unwrap_err(),
            ErrorCode::BadArguments,
            "{p}"
        );
    }
}

#[test]
fn delete_without_delete_permission_on_parent_is_no_auth() {
    let mut ns = Namespace::new();
    ns.create(
        S1,
        "/p",
        vec![],
        &acl_with(perms::ALL & !perms::DELETE),
        CreateMode::Persistent,
        1,
    )
    .unwrap();
    persistent(&mut ns, "/p/c");
    assert_eq!(ns.delete("/p/c", -1).unwrap_err(), ErrorCode::NoAuth);
}

#[test]
fn set_data_updates_version_mtime_mzxid_and_length() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let done = ns.set_data("/a", b"xyz".to_vec(), 0, 5000).unwrap();
    let s = done.value;
    assert_eq!(
        (s.version, s.mtime, s.mzxid, s.data_length),
        (1, 5000, done.zxid, 3)
    );
    assert_eq!(s.ctime, 1000);
    assert_eq!(ns.get_data("/a", None).unwrap(), (b"xyz".to_vec(), s));
    assert_eq!(
        ns.set_data("/a", vec![], -1, 6000).unwrap().value.version,
        2
    );
}

#[test]
fn set_data_errors() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    assert_eq!(
        ns.set_data("a", vec![], -1, 1).unwrap_err(),
        ErrorCode::BadArguments
    );
    assert_eq!(
        ns.set_data("/b", vec![], -1, 1).unwrap_err(),
        ErrorCode::NoNode
    );
    assert_eq!(
        ns.set_data("/a", vec![], 3, 1).unwrap_err(),
        ErrorCode::BadVersion
    );
    assert_eq!(
        ns.set_data("/zookeeper/config", vec![], -1, 1).unwrap_err(),
        ErrorCode::NoAuth
    );
}

#[test]
fn set_data_version_overflow_skips_minus_one() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    ns.nodes.get_mut("/a").unwrap().stat.version = i32::MAX;
    let v = ns
        .set_data("/a", vec![], i32::MAX, 1)
        .unwrap()
        .value
        .version;
    assert_eq!(v, i32::MIN);
    ns.nodes.get_mut("/a").unwrap().stat.version = -2;
    let v = ns.set_data("/a", vec![], -2, 1).unwrap().value.version;
    assert_eq!(v, 0);
}

#[test]
fn set_acl_bumps_aversion_and_checks_version() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let s = ns
        .set_acl("/a", &acl_with(perms::READ | perms::ADMIN), 0)
        .unwrap()
        .value;
    assert_eq!(s.aversion, 1);
    assert_eq!(s.version, 0);
    assert_eq!(
        ns.get_acl("/a").unwrap(),
        (acl_with(perms::READ | perms::ADMIN), s)
    );
    assert_eq!(
        ns.set_acl("/a", &open(), 0).unwrap_err(),
        ErrorCode::BadVersion
    );
    assert_eq!(
        ns.set_acl("/b", &open(), -1).unwrap_err(),
        ErrorCode::NoNode
    );
    assert_eq!(
        ns.set_acl("/a", &[], -1).unwrap_err(),
        ErrorCode::InvalidAcl
    );
    assert_eq!(
        ns.set_acl("a", &open(), -1).unwrap_err(),
        ErrorCode::BadArguments
    );
    // READ|ADMIN allows no writes.
    assert_eq!(
        ns.set_data("/a", vec![], -1, 1).unwrap_err(),
        ErrorCode::NoAuth
    );
    ns.set_acl("/a", &acl_with(perms::READ), 1).unwrap();
    assert_eq!(
        ns.set_acl("/a", &open(), -1).unwrap_err(),
        ErrorCode::NoAuth
    );
}

#[test]
fn get_acl_needs_read_or_admin() {
    let mut ns = Namespace::new();
    ns.create(
        S1,
        "/w",
        vec![],
        &acl_with(perms::WRITE),
        CreateMode::Persistent,
        1,
    )
    .unwrap();
    assert_eq!(ns.get_acl("/w").unwrap_err(), ErrorCode::NoAuth);
    assert_eq!(ns.get_acl("/nope").unwrap_err(), ErrorCode::NoNode);
}

#[test]
fn reads_without_read_permission_are_no_auth() {
    let mut ns = Namespace::new();
    ns.create(
        S1,
        "/w",
        vec![],
        &acl_with(perms::WRITE),
        CreateMode::Persistent,
        1,
    )
    .unwrap();
    assert_eq!(ns.get_data("/w", None).unwrap_err(), ErrorCode::NoAuth);
    assert_eq!(ns.get_children("/w", None).unwrap_err(), ErrorCode::NoAuth);
    assert_eq!(
        ns.get_all_children_number("/w").unwrap_err(),
        ErrorCode::NoAuth
    );
    // exists has no ACL check.
    assert!(ns.exists("/w", None).is_ok());
}

#[test]
fn reads_of_missing_nodes_are_no_node() {
    let mut ns = Namespace::new();
    assert_eq!(ns.exists("/x", None).unwrap_err(), ErrorCode::NoNode);
    assert_eq!(ns.get_data("/x", None).unwrap_err(), ErrorCode::NoNode);
    assert_eq!(ns.get_children("/x", None).unwrap_err(), ErrorCode::NoNode);
    assert_eq!(
        ns.get_all_children_number("/x").unwrap_err(),
        ErrorCode::NoNode
    );
    assert_eq!(
        ns.exists("/x\0", None).unwrap_err(),
        ErrorCode::BadArguments
    );
}

#[test]
fn get_children_lists_sorted_names_with_stat() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    for c in ["b", "a", "c"] {
        persistent(&mut ns, &format!("/p/{c}"));
    }
    let (names, s) = ns.get_children("/p", None).unwrap();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!((s.num_children, s.cversion), (3, 3));
}

#[test]
fn get_all_children_number_counts_descendants() {
    let mut ns = Namespace::new();
    persistent(&mut ns, "/p");
    persistent(&mut ns, "/p/a");
    persistent(&mut ns, "/p/a/b");
    persistent(&mut ns, "/p2");
    assert_eq!(ns.get_all_children_number("/p").unwrap(), 2);
    assert_eq!(ns.get_all_children_number("/p/a/b").unwrap(), 0);
    // Root: every node but itself, /zookeeper and its children included.
    assert_eq!(ns.get_all_children_number("/").unwrap(), 7);
}

#[test]
fn sync_returns_the_path() {
    let ns = Namespace::new();
    assert_eq!(ns.sync("/a"), "/a");
}

#[test]
fn multi_read_results_are_independent() {
    use crate::wire::{MultiOp, MultiResult, PathWatchRequest};
    let read = |path: &str| PathWatchRequest {
        path: path.into(),
        watch: false,
    };
    let mut ns = Namespace::new();
    persistent(&mut ns, "/a");
    let s = stat(&mut ns, "/a");
    let got = ns.multi_read(&[
        MultiOp::GetData(read("/a")),
        MultiOp::GetChildren(read("/x")),
        MultiOp::GetChildren(read("/")),
    ]);
    assert_eq!(
        got,
        Ok(vec![
            MultiResult::GetData {
                data: Some(b"d".to_vec()),
                stat: s
            },
            MultiResult::error(ErrorCode::NoNode),
            MultiResult::GetChildren(vec!["a".into(), "zookeeper".into()]),
        ])
    );
    assert_eq!(
        ns.multi_read(&[MultiOp::GetData(read("/a")), MultiOp::delete("/a", -1)]),
        Err(ErrorCode::MarshallingError)
    );
}

#[test]
fn approximate_data_size_tracks_paths_and_data() {
    let mut ns = Namespace::new();
    let base = ns.approximate_data_size();
    assert_eq!(base, (1 + 10 + 16 + 17) as u64);
    ns.create(
        S1,
        "/ab",
        b"1234".to_vec(),
        &open(),
        CreateMode::Persistent,
        1,
    )
    .unwrap();
    assert_eq!(ns.approximate_data_size(), base + 3 + 4);
    ns.set_data("/ab", b"1".to_vec(), -1, 1).unwrap();
    assert_eq!(ns.approximate_data_size(), base + 3 + 1);
    ns.delete("/ab", -1).unwrap();
    assert_eq!(ns.approximate_data_size(), base);
}

#[test]
fn null_data_stays_null_and_apart_from_empty() {
    let mut ns = Namespace::new();
    ns.create(
        S1,
        "/null",
        None::<Vec<u8>>,
        &open(),
        CreateMode::Persistent,
        1,
    )
    .unwrap();
    ns.create(S1, "/empty", vec![], &open(), CreateMode::Persistent, 1)
        .unwrap();
    let (data, stat) = ns.read_data("/null", None).unwrap();
    assert_eq!((data, stat.data_length), (None, 0));
    let (data, stat) = ns.read_data("/empty", None).unwrap();
    assert_eq!((data, stat.data_length), (Some(vec![]), 0));
    // The convenience read gives empty bytes for both.
    assert_eq!(ns.get_data("/null", None).unwrap().0, Vec::<u8>::new());
    // setData with null, then with data, then null again.
    ns.set_data("/empty", None::<Vec<u8>>, -1, 2).unwrap();
    assert_eq!(ns.read_data("/empty", None).unwrap().0, None);
    ns.set_data("/null", b"ab".to_vec(), -1, 2).unwrap();
    let (data, stat) = ns.read_data("/null", None).unwrap();
    assert_eq!((data.as_deref(), stat.data_length), (Some(&b"ab"[..]), 2));
    let size = ns.approximate_data_size();
    ns.set_data("/null", None::<Vec<u8>>, -1, 3).unwrap();
    assert_eq!(ns.approximate_data_size(), size - 2);
    // A multi that fails restores null data.
    let failed = ns.multi(
        S1,
        vec![
            crate::wire::MultiOp::set_data("/null", b"x".to_vec(), -1),
            crate::wire::MultiOp::check("/missing", -1),
        ],
        4,
    );
    assert!(failed.value.iter().any(|r| r.error_code().is_some()));
    assert_eq!(ns.read_data("/null", None).unwrap().0, None);
}
