//! Client scenarios shared by the Apache ZooKeeper and zksessiond test files.

use std::time::Duration;

use super::{free_port, wait_node_event, wait_state, wait_until, Kind, Proxy, ZkServer};
use zksession::client::{ClientConfig, Error, MultiOp, MultiResult, States, ZooKeeper};
use zksession::wire::{perms, Acl, CreateMode, ErrorCode, EventType, Id, KeeperState};

pub const BOUND: Duration = Duration::from_secs(30);

fn open() -> Vec<Acl> {
    vec![Acl::world_anyone()]
}

fn client(connect: &str, timeout_ms: u64) -> ZooKeeper {
    ZooKeeper::connect(connect, Duration::from_millis(timeout_ms)).unwrap()
}

fn connected(connect: &str, timeout_ms: u64) -> ZooKeeper {
    let zk = client(connect, timeout_ms);
    wait_state(zk.events(), KeeperState::SyncConnected, BOUND);
    zk
}

/// Scenario run against each server kind.
pub fn three_address_string_with_two_dead_connects_and_runs_every_operation(kind: Kind) {
    let zk_server = ZkServer::start_kind(kind, 250);
    let connect = format!(
        "127.0.0.1:{},127.0.0.1:{},{}",
        free_port(),
        free_port(),
        zk_server.addr()
    );
    let zk = client(&connect, 4_000);
    assert_eq!(
        wait_state(zk.events(), KeeperState::SyncConnected, BOUND),
        vec![KeeperState::SyncConnected],
        "failed attempts before the first connection report nothing"
    );
    assert_eq!(zk.state(), States::Connected);
    assert_ne!(zk.session_id(), 0);
    assert_eq!(zk.session_timeout(), Duration::from_millis(4_000));
    assert_eq!(zk.current_server().unwrap().port, zk_server.port);

    assert_eq!(
        zk.create("/a", b"1", &open(), CreateMode::Persistent)
            .unwrap(),
        "/a"
    );
    let eph = zk
        .create("/a/e", b"", &open(), CreateMode::Ephemeral)
        .unwrap();
    assert_eq!(eph, "/a/e");
    let seq = zk
        .create("/a/s-", b"", &open(), CreateMode::PersistentSequential)
        .unwrap();
    assert_eq!(seq, "/a/s-0000000001");
    assert_eq!(
        zk.create("/a", b"", &open(), CreateMode::Persistent),
        Err(Error::Zk(ErrorCode::NodeExists))
    );
    let (data, stat) = zk.get_data("/a", false).unwrap();
    assert_eq!(data, b"1");
    assert_eq!(stat.num_children, 2);
    assert_eq!(
        zk.exists("/a/e", false).unwrap().unwrap().ephemeral_owner,
        zk.session_id()
    );
    assert_eq!(zk.exists("/nope", false).unwrap(), None);
    let mut kids = zk.get_children("/a", false).unwrap();
    kids.sort();
    assert_eq!(kids, vec!["e", "s-0000000001"]);
    assert_eq!(zk.set_data("/a", b"2", 0).unwrap().version, 1);
    assert_eq!(
        zk.set_data("/a", b"3", 0),
        Err(Error::Zk(ErrorCode::BadVersion))
    );
    assert_eq!(zk.sync("/a").unwrap(), "/a");
    assert_eq!(zk.delete("/a", -1), Err(Error::Zk(ErrorCode::NotEmpty)));
    assert_eq!(
        zk.get_data("/missing", false),
        Err(Error::Zk(ErrorCode::NoNode))
    );
    assert!(matches!(
        zk.get_data("bad", false),
        Err(Error::InvalidPath(_))
    ));

    let ok = zk
        .multi(vec![
            MultiOp::check("/a", 1),
            MultiOp::create("/a/m", vec![], open(), CreateMode::Persistent),
            MultiOp::set_data("/a/m", b"x".to_vec(), 0),
            MultiOp::delete("/a/m", 1),
        ])
        .unwrap();
    assert_eq!(ok[0], MultiResult::Check);
    assert_eq!(ok[1], MultiResult::Create("/a/m".into()));
    assert_eq!(ok[3], MultiResult::Delete);
    match zk.multi(vec![
        MultiOp::create("/a/n", vec![], open(), CreateMode::Persistent),
        MultiOp::delete("/nope", -1),
    ]) {
        Err(Error::Multi { code, results }) => {
            assert_eq!(code, ErrorCode::NoNode);
            assert_eq!(
                results,
                vec![
                    MultiResult::error(ErrorCode::Ok),
                    MultiResult::error(ErrorCode::NoNode)
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        zk.exists("/a/n", false).unwrap(),
        None,
        "a failed multi changes nothing"
    );
}

/// Scenario run against each server kind.
pub fn chroot_isolates_paths_and_watch_events(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let root = connected(&server.addr(), 4_000);
    root.create("/app", b"", &open(), CreateMode::Persistent)
        .unwrap();
    root.create("/app/a", b"", &open(), CreateMode::Persistent)
        .unwrap();
    root.create("/outside", b"", &open(), CreateMode::Persistent)
        .unwrap();

    let zk = connected(&format!("{}/app/a", server.addr()), 4_000);
    assert_eq!(
        zk.create("/x", b"v", &open(), CreateMode::Ephemeral)
            .unwrap(),
        "/x"
    );
    assert_eq!(zk.get_children("/", false).unwrap(), vec!["x"]);
    assert_eq!(zk.exists("/outside", false).unwrap(), None);
    assert!(root.exists("/app/a/x", false).unwrap().is_some());
    assert_eq!(zk.sync("/x").unwrap(), "/x");

    zk.get_data("/x", true).unwrap();
    zk.get_children("/", true).unwrap();
    root.set_data("/app/a/x", b"w", -1).unwrap();
    let e = wait_node_event(zk.events(), BOUND);
    assert_eq!(
        (e.event_type, e.path.as_deref()),
        (EventType::NodeDataChanged, Some("/x"))
    );
    root.create("/app/a/y", b"", &open(), CreateMode::Persistent)
        .unwrap();
    let e = wait_node_event(zk.events(), BOUND);
    assert_eq!(
        (e.event_type, e.path.as_deref()),
        (EventType::NodeChildrenChanged, Some("/"))
    );
}

/// Scenario run against each server kind.
pub fn server_restart_within_the_timeout_keeps_the_session_and_rearms_watches(kind: Kind) {
    let mut server = ZkServer::start_kind(kind, 500);
    let zk = connected(&server.addr(), 10_000);
    let sid = zk.session_id();
    zk.create("/e", b"", &open(), CreateMode::Ephemeral)
        .unwrap();
    zk.create("/w", b"0", &open(), CreateMode::Persistent)
        .unwrap();
    zk.get_data("/w", true).unwrap();
    zk.exists("/later", true).unwrap();

    server.stop();
    assert_eq!(
        wait_state(zk.events(), KeeperState::Disconnected, BOUND),
        vec![KeeperState::Disconnected]
    );
    // Both servers keep their data in `dataDir`: the session and its ephemeral come back.
    server.resume();
    assert_eq!(
        wait_state(zk.events(), KeeperState::SyncConnected, BOUND),
        vec![KeeperState::SyncConnected]
    );
    assert_eq!(zk.session_id(), sid);
    assert!(zk.exists("/e", false).unwrap().is_some(), "ephemeral kept");

    let other = connected(&server.addr(), 4_000);
    other.set_data("/w", b"1", -1).unwrap();
    let e = wait_node_event(zk.events(), BOUND);
    assert_eq!(
        (e.event_type, e.path.as_deref()),
        (EventType::NodeDataChanged, Some("/w"))
    );
    other
        .create("/later", b"", &open(), CreateMode::Persistent)
        .unwrap();
    let e = wait_node_event(zk.events(), BOUND);
    assert_eq!(
        (e.event_type, e.path.as_deref()),
        (EventType::NodeCreated, Some("/later"))
    );
}

/// Scenario run against each server kind.
pub fn outage_longer_than_the_timeout_gives_expired_on_reconnect(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let proxy = Proxy::new(server.port);
    let zk = ZooKeeper::connect_with(
        &format!("127.0.0.1:{}", proxy.port),
        ClientConfig {
            session_timeout: Duration::from_millis(1_000),
            client_side_expiry: false,
            ..Default::default()
        },
    )
    .unwrap();
    let mut states = wait_state(zk.events(), KeeperState::SyncConnected, BOUND);
    zk.create("/e", b"", &open(), CreateMode::Ephemeral)
        .unwrap();

    proxy.cut();
    states.extend(wait_state(zk.events(), KeeperState::Disconnected, BOUND));
    // The server expires the session: its ephemeral disappears.
    let observer = connected(&server.addr(), 4_000);
    wait_until(BOUND, || observer.exists("/e", false).unwrap().is_none());
    proxy.heal();
    states.extend(wait_state(zk.events(), KeeperState::Expired, BOUND));
    assert_eq!(
        states,
        vec![
            KeeperState::SyncConnected,
            KeeperState::Disconnected,
            KeeperState::Expired
        ]
    );
    assert_eq!(zk.state(), States::Closed);
    assert_eq!(
        zk.exists("/", false),
        Err(Error::Zk(ErrorCode::SessionExpired))
    );
}

/// Scenario run against each server kind.
pub fn all_servers_down_expires_the_session_client_side(kind: Kind) {
    let mut server = ZkServer::start_kind(kind, 250);
    let zk = client(&server.addr(), 1_500);
    let mut states = wait_state(zk.events(), KeeperState::SyncConnected, BOUND);
    server.stop();
    states.extend(wait_state(zk.events(), KeeperState::Expired, BOUND));
    assert_eq!(
        states,
        vec![
            KeeperState::SyncConnected,
            KeeperState::Disconnected,
            KeeperState::Expired
        ]
    );
    assert_eq!(
        zk.get_data("/", false),
        Err(Error::Zk(ErrorCode::SessionExpired))
    );
    assert_eq!(zk.last_state_event(), KeeperState::Expired);
}

/// Scenario run against each server kind.
pub fn close_deletes_ephemerals_and_later_calls_fail_with_session_expired(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let mut zk = connected(&server.addr(), 4_000);
    zk.create("/e", b"", &open(), CreateMode::Ephemeral)
        .unwrap();
    zk.close();
    assert_eq!(zk.state(), States::Closed);
    assert_eq!(zk.last_state_event(), KeeperState::Closed);
    assert_eq!(
        wait_state(zk.events(), KeeperState::Closed, BOUND),
        vec![KeeperState::Closed]
    );
    assert_eq!(
        zk.exists("/", false),
        Err(Error::Zk(ErrorCode::SessionExpired))
    );
    let other = connected(&server.addr(), 4_000);
    assert_eq!(other.exists("/e", false).unwrap(), None);
}

/// Scenario run against each server kind.
pub fn dropped_connection_reconnects_to_the_same_session(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let zk = connected(&server.addr(), 4_000);
    let sid = zk.session_id();
    zk.create("/e", b"", &open(), CreateMode::Ephemeral)
        .unwrap();
    zk.drop_connection();
    assert_eq!(
        wait_state(zk.events(), KeeperState::SyncConnected, BOUND),
        vec![KeeperState::Disconnected, KeeperState::SyncConnected]
    );
    assert_eq!(zk.session_id(), sid);
    assert!(zk.exists("/e", false).unwrap().is_some());
}

/// Scenario run against each server kind.
pub fn second_handle_resuming_the_session_takes_it_over(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let zk = connected(&server.addr(), 4_000);
    zk.create("/e", b"", &open(), CreateMode::Ephemeral)
        .unwrap();
    let twin = ZooKeeper::connect_with(
        &server.addr(),
        ClientConfig {
            session_timeout: Duration::from_millis(4_000),
            resume: Some((zk.session_id(), zk.session_password())),
            ..Default::default()
        },
    )
    .unwrap();
    wait_state(twin.events(), KeeperState::SyncConnected, BOUND);
    // The server closes the older connection of the session.
    assert_eq!(
        wait_state(zk.events(), KeeperState::Disconnected, BOUND),
        vec![KeeperState::Disconnected]
    );
    assert_eq!(twin.session_id(), zk.session_id());
    assert!(twin.exists("/e", false).unwrap().is_some());
}

/// Scenario run against each server kind.
pub fn idle_session_outlives_its_timeout_through_pings(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let zk = connected(&server.addr(), 1_000);
    let sid = zk.session_id();
    zk.create("/e", b"", &open(), CreateMode::Ephemeral)
        .unwrap();
    // Three timeouts of idleness: only pings keep the session.
    match zk.events().recv_timeout(Duration::from_millis(3_000)) {
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
        other => panic!("unexpected event while idle: {other:?}"),
    }
    assert_eq!(zk.state(), States::Connected);
    assert_eq!(zk.session_id(), sid);
    assert!(zk.exists("/e", false).unwrap().is_some());
}

/// Scenario run against each server kind.
pub fn silent_servers_are_abandoned_after_the_connect_timeout(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    // Listeners that never accept: TCP connects, the handshake never gets an answer.
    let silent: Vec<std::net::TcpListener> = (0..2)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut hosts: Vec<String> = silent
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect();
    hosts.push(server.addr());
    for seed in 0..3 {
        let zk = ZooKeeper::connect_with(
            &hosts.join(","),
            ClientConfig {
                session_timeout: Duration::from_millis(3_000),
                seed: Some(seed),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            wait_state(zk.events(), KeeperState::SyncConnected, BOUND),
            vec![KeeperState::SyncConnected]
        );
        assert_eq!(zk.current_server().unwrap().port, server.port);
    }
}

/// Scenario run against each server kind.
pub fn every_create_mode_makes_the_right_kind_of_node(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let zk = connected(&server.addr(), 4_000);
    let sid = zk.session_id();
    let owner = |p: &str| zk.exists(p, false).unwrap().unwrap().ephemeral_owner;

    assert_eq!(
        zk.create("/p", b"", &open(), CreateMode::Persistent)
            .unwrap(),
        "/p"
    );
    assert_eq!(owner("/p"), 0);
    assert_eq!(
        zk.create("/p/e", b"", &open(), CreateMode::Ephemeral)
            .unwrap(),
        "/p/e"
    );
    assert_eq!(owner("/p/e"), sid);
    let ps = zk
        .create("/p/ps-", b"", &open(), CreateMode::PersistentSequential)
        .unwrap();
    assert_eq!(ps, "/p/ps-0000000001");
    let es = zk
        .create("/p/es-", b"", &open(), CreateMode::EphemeralSequential)
        .unwrap();
    assert_eq!(es, "/p/es-0000000002");
    assert_eq!(owner(&es), sid);
    assert_eq!(
        zk.create("/c", b"", &open(), CreateMode::Container)
            .unwrap(),
        "/c"
    );
    // The server stores a marker owner for containers and TTL nodes but shows clients 0.
    assert_eq!(owner("/c"), 0);
    // Both servers run with extendedTypesEnabled=true.
    let t = zk
        .create_ttl("/t", b"", &open(), CreateMode::PersistentWithTtl, 60_000)
        .unwrap();
    assert_eq!(t, "/t");
    assert_eq!(owner("/t"), 0);
    let ts = zk
        .create_ttl(
            "/p/ts-",
            b"",
            &open(),
            CreateMode::PersistentSequentialWithTtl,
            60_000,
        )
        .unwrap();
    assert_eq!(ts, "/p/ts-0000000003");

    assert_eq!(
        zk.create("/x", b"", &open(), CreateMode::PersistentWithTtl),
        Err(Error::Zk(ErrorCode::BadArguments))
    );
    assert_eq!(
        zk.create_ttl("/x", b"", &open(), CreateMode::Persistent, 1_000),
        Err(Error::Zk(ErrorCode::BadArguments))
    );
    assert_eq!(zk.exists("/x", false).unwrap(), None);
}

/// Scenario run against each server kind.
pub fn changes_during_a_disconnection_fire_rearmed_watches_on_reconnect(kind: Kind) {
    let server = ZkServer::start_kind(kind, 500);
    let proxy = Proxy::new(server.port);
    let zk = connected(&format!("127.0.0.1:{}", proxy.port), 10_000);
    let direct = connected(&server.addr(), 4_000);
    direct
        .create("/w", b"0", &open(), CreateMode::Persistent)
        .unwrap();
    direct
        .create("/d", b"", &open(), CreateMode::Persistent)
        .unwrap();
    zk.get_data("/w", true).unwrap();
    zk.get_children("/d", true).unwrap();
    zk.exists("/n", true).unwrap();

    proxy.cut();
    wait_state(zk.events(), KeeperState::Disconnected, BOUND);
    direct.set_data("/w", b"1", -1).unwrap();
    direct
        .create("/d/k", b"", &open(), CreateMode::Persistent)
        .unwrap();
    direct
        .create("/n", b"", &open(), CreateMode::Persistent)
        .unwrap();
    proxy.heal();

    // SetWatches carries the last zxid seen: the server fires what changed meanwhile.
    assert_eq!(
        wait_state(zk.events(), KeeperState::SyncConnected, BOUND),
        vec![KeeperState::SyncConnected]
    );
    let mut fired: Vec<(EventType, String)> = (0..3)
        .map(|_| {
            let e = wait_node_event(zk.events(), BOUND);
            (e.event_type, e.path.unwrap())
        })
        .collect();
    fired.sort_by_key(|(_, p)| p.clone());
    assert_eq!(
        fired,
        vec![
            (EventType::NodeChildrenChanged, "/d".to_string()),
            (EventType::NodeCreated, "/n".to_string()),
            (EventType::NodeDataChanged, "/w".to_string()),
        ]
    );
}

/// Scenario run against each server kind.
pub fn concurrent_callers_share_one_session(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let zk = connected(&server.addr(), 4_000);
    zk.create("/q", b"", &open(), CreateMode::Persistent)
        .unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let zk = &zk;
            s.spawn(move || {
                for i in 0..100 {
                    let p = format!("/q/{t}-{i}");
                    assert_eq!(
                        zk.create(&p, p.as_bytes(), &open(), CreateMode::Ephemeral)
                            .unwrap(),
                        p
                    );
                    assert_eq!(zk.get_data(&p, false).unwrap().0, p.as_bytes());
                }
            });
        }
    });
    assert_eq!(zk.get_children("/q", false).unwrap().len(), 400);
}

/// Scenario run against each server kind.
pub fn credentials_survive_a_reconnect_and_guard_nodes(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let zk = connected(&server.addr(), 4_000);
    zk.add_auth("digest", b"user:secret");
    let mine = Acl {
        perms: perms::ALL,
        id: Id {
            scheme: "auth".into(),
            id: String::new(),
        },
    };
    zk.create("/private", b"s", &[mine], CreateMode::Persistent)
        .unwrap();
    let stranger = connected(&server.addr(), 4_000);
    assert_eq!(
        stranger.get_data("/private", false),
        Err(Error::Zk(ErrorCode::NoAuth))
    );
    zk.drop_connection();
    wait_state(zk.events(), KeeperState::SyncConnected, BOUND);
    assert_eq!(
        zk.get_data("/private", false).unwrap().0,
        b"s",
        "auth re-sent"
    );
}

/// Scenario run against each server kind.
pub fn unknown_auth_scheme_fails_the_session(kind: Kind) {
    let server = ZkServer::start_kind(kind, 250);
    let zk = connected(&server.addr(), 4_000);
    zk.add_auth("no-such-scheme", b"x");
    assert_eq!(
        wait_state(zk.events(), KeeperState::AuthFailed, BOUND),
        vec![KeeperState::AuthFailed]
    );
    assert_eq!(zk.state(), States::AuthFailed);
    assert_eq!(zk.exists("/", false), Err(Error::Zk(ErrorCode::AuthFailed)));
}
