//! Unit tests mirroring `StaticHostProviderTest`.

use super::*;

const SPIN: Duration = Duration::from_millis(1000);

fn servers(ports: impl IntoIterator<Item = u16>) -> Vec<HostAddr> {
    ports
        .into_iter()
        .map(|p| HostAddr::new("10.10.10.1", 1235 + p))
        .collect()
}

fn provider(n: u16, seed: u64) -> HostProvider {
    HostProvider::new(servers(0..n), Rng::with_seed(seed)).unwrap()
}

#[test]
fn empty_server_list_is_refused() {
    assert_eq!(
        HostProvider::new(vec![], Rng::with_seed(1)).unwrap_err(),
        EmptyServerList
    );
    let mut hp = provider(2, 1);
    assert_eq!(hp.update_server_list(vec![], None), Err(EmptyServerList));
}

#[test]
fn next_goes_round() {
    let mut hp = provider(2, 1);
    let first = hp.next(Duration::ZERO).addr;
    let second = hp.next(Duration::ZERO).addr;
    assert_ne!(first, second);
    assert_eq!(hp.next(Duration::ZERO).addr, first);
}

#[test]
fn first_pass_does_not_pause_then_a_full_pass_pauses() {
    let mut hp = provider(3, 2);
    for _ in 0..3 {
        assert_eq!(hp.next(SPIN).pause, Duration::ZERO);
    }
    assert_eq!(hp.next(SPIN).pause, SPIN);
    assert_eq!(hp.next(SPIN).pause, Duration::ZERO);
}

#[test]
fn zero_spin_never_pauses() {
    let mut hp = provider(2, 2);
    for _ in 0..10 {
        assert_eq!(hp.next(Duration::ZERO).pause, Duration::ZERO);
    }
}

#[test]
fn pause_comes_round_to_the_last_connected_host() {
    let mut hp = provider(3, 4);
    hp.next(SPIN);
    let connected = hp.next(SPIN).addr;
    hp.on_connected();
    // Lost: the next pass tries the two others, then pauses on the connected one.
    assert_eq!(hp.next(SPIN).pause, Duration::ZERO);
    assert_eq!(hp.next(SPIN).pause, Duration::ZERO);
    let back = hp.next(SPIN);
    assert_eq!(back.addr, connected);
    assert_eq!(back.pause, SPIN);
}

#[test]
fn consecutive_calls_differ_and_on_connected_does_not_reset() {
    let mut hp = provider(3, 5);
    let a = hp.next(Duration::ZERO).addr;
    hp.on_connected();
    let b = hp.next(Duration::ZERO).addr;
    assert_ne!(a, b);
    let c = hp.next(Duration::ZERO).addr;
    assert_ne!(b, c);
    assert_ne!(a, c);
}

#[test]
fn shuffle_is_seeded() {
    assert_eq!(provider(9, 42).servers(), provider(9, 42).servers());
}

#[test]
fn update_migrate_or_not() {
    // 4 -> 3, my server kept: stay.
    let mut hp = provider(4, 6);
    let me = hp.servers()[0].clone();
    let mut kept: Vec<_> = hp
        .servers()
        .iter()
        .filter(|a| **a != hp.servers()[1])
        .cloned()
        .collect();
    kept.retain(|a| *a != hp.servers()[3]);
    kept.push(hp.servers()[3].clone());
    assert!(!hp.update_server_list(kept, Some(&me)).unwrap());
    // 3 -> 3, same list: stay.
    let mut hp = provider(3, 6);
    let me = hp.servers()[0].clone();
    assert!(!hp.update_server_list(servers(0..3), Some(&me)).unwrap());
    // 3 -> 2, mine gone: move.
    let me = HostAddr::new("10.10.10.1", 1235 + 2);
    let mut hp = provider(3, 6);
    assert!(hp.update_server_list(servers(0..2), Some(&me)).unwrap());
    // Same size, mine gone: move.
    let mut hp = provider(3, 6);
    assert!(hp.update_server_list(servers(3..6), Some(&me)).unwrap());
    // Grow, mine gone: move.
    let mut hp = provider(3, 6);
    assert!(hp.update_server_list(servers(3..10), Some(&me)).unwrap());
}

#[test]
fn growing_by_one_moves_about_one_in_m_clients() {
    // 9 -> 10 with my server kept: each client moves with probability 1 - 9/10.
    let clients = 10_000;
    let mut moved = 0;
    for c in 0..clients {
        let mut hp = provider(9, 1000 + c);
        let me = hp.next(Duration::ZERO).addr;
        hp.on_connected();
        if hp.update_server_list(servers(0..10), Some(&me)).unwrap() {
            moved += 1;
        }
    }
    assert!(moved < 1100, "{moved} disconnections");
    assert!(moved > 900, "{moved} disconnections");
}

#[test]
fn migration_goes_round_new_hosts_then_old_then_all() {
    // 4 hosts (0..4) -> 10 hosts (2..12): my host 0 is gone.
    let mut hp = provider(4, 7);
    let me = HostAddr::new("10.10.10.1", 1235);
    assert!(hp.update_server_list(servers(2..12), Some(&me)).unwrap());
    let mut seen = Vec::new();
    for _ in 0..8 {
        let a = hp.next(Duration::ZERO).addr;
        assert!(a.port >= 1235 + 4, "new host expected, got {a}");
        assert!(!seen.contains(&a));
        seen.push(a);
    }
    for _ in 0..2 {
        let a = hp.next(Duration::ZERO).addr;
        assert!((1237..1239).contains(&a.port), "old host expected, got {a}");
        assert!(!seen.contains(&a));
        seen.push(a);
    }
    assert!(hp.in_reconfig_mode());
    // Reconfig mode is exhausted: round-robin over all 10.
    let round: Vec<_> = (0..10).map(|_| hp.next(Duration::ZERO).addr).collect();
    assert!(!hp.in_reconfig_mode());
    for a in &seen {
        assert!(round.contains(a));
    }
}

/// 10000 clients connected across `hosts`; returns each client's provider and host.
fn connect_all(n: u16, clients: u64) -> (Vec<HostProvider>, Vec<HostAddr>) {
    let mut hps = Vec::new();
    let mut cur = Vec::new();
    for c in 0..clients {
        let mut hp = provider(n, 90_000 + c);
        cur.push(hp.next(Duration::ZERO).addr);
        hp.on_connected();
        hps.push(hp);
    }
    (hps, cur)
}

fn update_all(
    hps: &mut [HostProvider],
    cur: &mut [HostAddr],
    list: Vec<HostAddr>,
    pass_current: bool,
) {
    for (hp, c) in hps.iter_mut().zip(cur.iter_mut()) {
        let current = pass_current.then(|| c.clone());
        if hp
            .update_server_list(list.clone(), current.as_ref())
            .unwrap()
        {
            *c = hp.next(Duration::ZERO).addr;
        }
        hp.on_connected();
    }
}

fn assert_balanced(cur: &[HostAddr], live: &[u16], total_hosts: u16) {
    let mut counts = vec![0usize; total_hosts as usize];
    for c in cur {
        counts[(c.port - 1235) as usize] += 1;
    }
    let mean = cur.len() as f64 / live.len() as f64;
    for h in 0..total_hosts {
        if live.contains(&h) {
            let n = counts[h as usize] as f64;
            assert!(
                (n - mean).abs() <= 0.1 * mean,
                "host {h}: {n} vs mean {mean}: {counts:?}"
            );
        } else {
            assert_eq!(counts[h as usize], 0, "removed host {h}: {counts:?}");
        }
    }
}

fn update_load_balancing(pass_current: bool) {
    let (mut hps, mut cur) = connect_all(9, 10_000);
    assert_balanced(&cur, &(0..9).collect::<Vec<_>>(), 9);
    // Remove host 8.
    update_all(&mut hps, &mut cur, servers(0..8), pass_current);
    assert_balanced(&cur, &(0..8).collect::<Vec<_>>(), 9);
    // Remove hosts 6 and 7.
    update_all(&mut hps, &mut cur, servers(0..6), pass_current);
    assert_balanced(&cur, &(0..6).collect::<Vec<_>>(), 9);
    // Remove host 0, add 6, 7 and 8.
    update_all(&mut hps, &mut cur, servers(1..9), pass_current);
    assert_balanced(&cur, &(1..9).collect::<Vec<_>>(), 9);
    // Add host 0 back.
    update_all(&mut hps, &mut cur, servers(0..9), pass_current);
    assert_balanced(&cur, &(0..9).collect::<Vec<_>>(), 9);
}

#[test]
fn update_load_balancing_keeps_every_host_within_ten_percent() {
    update_load_balancing(true);
}

#[test]
fn no_current_host_still_balances() {
    update_load_balancing(false);
}

#[test]
fn reconfig_during_reconfig_mode_still_balances() {
    let clients = 10_000u64;
    let mut hps = Vec::new();
    let mut cur = Vec::new();
    for c in 0..clients {
        let mut hp = provider(9, 50_000 + c);
        cur.push(hp.next(Duration::ZERO).addr);
        hps.push(hp);
    }
    // Remove hosts 7 and 8: moving clients enter reconfig mode and do not call next().
    for (hp, c) in hps.iter_mut().zip(cur.iter()) {
        hp.update_server_list(servers(0..7), Some(c)).unwrap();
    }
    // Add them back while still in reconfig mode; half the clients pass no current host.
    for (i, (hp, c)) in hps.iter_mut().zip(cur.iter_mut()).enumerate() {
        let mine = (i as u64 >= clients / 2).then(|| c.clone());
        if hp.update_server_list(servers(0..9), mine.as_ref()).unwrap() {
            *c = hp.next(Duration::ZERO).addr;
        } else {
            *c = hp.current_server().unwrap().clone();
        }
        hp.on_connected();
    }
    assert_balanced(&cur, &(0..9).collect::<Vec<_>>(), 9);
}

#[test]
fn hostnames_kept_do_not_disconnect() {
    let names = |v: &[&str]| {
        v.iter()
            .map(|h| HostAddr::new(*h, 2181))
            .collect::<Vec<_>>()
    };
    let mut hp = HostProvider::new(names(&["a", "b", "c"]), Rng::with_seed(1)).unwrap();
    let me = HostAddr::new("B", 2181);
    assert!(!hp
        .update_server_list(names(&["b", "c"]), Some(&me))
        .unwrap());
    assert!(!hp
        .update_server_list(names(&["c", "b"]), Some(&me))
        .unwrap());
}

#[test]
fn hostnames_removed_or_replaced_disconnect() {
    let names = |v: &[&str]| {
        v.iter()
            .map(|h| HostAddr::new(*h, 2181))
            .collect::<Vec<_>>()
    };
    let mut hp = HostProvider::new(names(&["a", "b", "c"]), Rng::with_seed(1)).unwrap();
    let me = HostAddr::new("b", 2181);
    assert!(hp
        .update_server_list(names(&["a", "c"]), Some(&me))
        .unwrap());
    let mut hp = HostProvider::new(names(&["a", "b", "c"]), Rng::with_seed(1)).unwrap();
    assert!(hp
        .update_server_list(names(&["a", "c", "d"]), Some(&me))
        .unwrap());
}

#[test]
fn same_host_on_another_port_is_another_server() {
    let mut hp = provider(2, 3);
    let me = HostAddr::new("10.10.10.1", 1235);
    let moved = vec![
        HostAddr::new("10.10.10.1", 9999),
        HostAddr::new("10.10.10.1", 1236),
    ];
    assert!(hp.update_server_list(moved, Some(&me)).unwrap());
}

#[test]
fn thousand_clients_growing_from_three_to_five_hosts_spread_evenly() {
    // ZooKeeper's documented example: each client moves with probability 1 - 3/5 = 0.4,
    // to one of the two new hosts, so every host ends with about 200 clients.
    let (mut hps, mut cur) = connect_all(3, 1_000);
    let before = cur.clone();
    update_all(&mut hps, &mut cur, servers(0..5), true);
    let moved = before.iter().zip(&cur).filter(|(a, b)| a != b).count();
    // Binomial(1000, 0.4): mean 400, sd 15.5; allow 4 sd.
    assert!((338..=462).contains(&moved), "{moved} moved");
    for c in before
        .iter()
        .zip(&cur)
        .filter(|(a, b)| a != b)
        .map(|(_, b)| b)
    {
        assert!(
            c.port >= 1235 + 3,
            "a moving client goes to a new host, not {c}"
        );
    }
    let mut counts = [0i32; 5];
    for c in &cur {
        counts[(c.port - 1235) as usize] += 1;
    }
    for n in counts {
        assert!((n - 200).abs() <= 50, "{counts:?}");
    }
}
