//! The Rust client against a real Apache ZooKeeper 3.8 server (Debian's jars).
//!
//! Ignored by default (they need Java and start servers); `scripts/test-client.sh` runs
//! them with `cargo test --test client_zookeeper -- --ignored`.

mod client_support;

use client_support::scenarios;
use client_support::Kind::ZooKeeper;

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn three_address_string_with_two_dead_connects_and_runs_every_operation() {
    scenarios::three_address_string_with_two_dead_connects_and_runs_every_operation(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn chroot_isolates_paths_and_watch_events() {
    scenarios::chroot_isolates_paths_and_watch_events(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn server_restart_within_the_timeout_keeps_the_session_and_rearms_watches() {
    scenarios::server_restart_within_the_timeout_keeps_the_session_and_rearms_watches(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn outage_longer_than_the_timeout_gives_expired_on_reconnect() {
    scenarios::outage_longer_than_the_timeout_gives_expired_on_reconnect(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn all_servers_down_expires_the_session_client_side() {
    scenarios::all_servers_down_expires_the_session_client_side(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn close_deletes_ephemerals_and_later_calls_fail_with_session_expired() {
    scenarios::close_deletes_ephemerals_and_later_calls_fail_with_session_expired(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn dropped_connection_reconnects_to_the_same_session() {
    scenarios::dropped_connection_reconnects_to_the_same_session(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn second_handle_resuming_the_session_takes_it_over() {
    scenarios::second_handle_resuming_the_session_takes_it_over(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn idle_session_outlives_its_timeout_through_pings() {
    scenarios::idle_session_outlives_its_timeout_through_pings(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn silent_servers_are_abandoned_after_the_connect_timeout() {
    scenarios::silent_servers_are_abandoned_after_the_connect_timeout(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn every_create_mode_makes_the_right_kind_of_node() {
    scenarios::every_create_mode_makes_the_right_kind_of_node(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn changes_during_a_disconnection_fire_rearmed_watches_on_reconnect() {
    scenarios::changes_during_a_disconnection_fire_rearmed_watches_on_reconnect(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn concurrent_callers_share_one_session() {
    scenarios::concurrent_callers_share_one_session(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn credentials_survive_a_reconnect_and_guard_nodes() {
    scenarios::credentials_survive_a_reconnect_and_guard_nodes(ZooKeeper);
}

#[test]
#[ignore = "needs Java and Debian's ZooKeeper jars; run by scripts/test-client.sh"]
fn unknown_auth_scheme_fails_the_session() {
    scenarios::unknown_auth_scheme_fails_the_session(ZooKeeper);
}
