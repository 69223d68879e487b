//! The Rust client against this crate's `zksessiond`.
//!
//! Ignored by default; `scripts/test-client.sh` runs it when `cargo build --bin
//! zksessiond` succeeds. The scenarios are the ones run against Apache ZooKeeper, with
//! the same expectations: zksessiond keeps its data in `dataDir` (a restart within the
//! timeout resumes the session) and enforces ACLs.

mod client_support;

use client_support::scenarios;
use client_support::Kind::Zksessiond;

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn three_address_string_with_two_dead_connects_and_runs_every_operation() {
    scenarios::three_address_string_with_two_dead_connects_and_runs_every_operation(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn chroot_isolates_paths_and_watch_events() {
    scenarios::chroot_isolates_paths_and_watch_events(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn server_restart_within_the_timeout_keeps_the_session_and_rearms_watches() {
    scenarios::server_restart_within_the_timeout_keeps_the_session_and_rearms_watches(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn outage_longer_than_the_timeout_gives_expired_on_reconnect() {
    scenarios::outage_longer_than_the_timeout_gives_expired_on_reconnect(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn all_servers_down_expires_the_session_client_side() {
    scenarios::all_servers_down_expires_the_session_client_side(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn close_deletes_ephemerals_and_later_calls_fail_with_session_expired() {
    scenarios::close_deletes_ephemerals_and_later_calls_fail_with_session_expired(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn dropped_connection_reconnects_to_the_same_session() {
    scenarios::dropped_connection_reconnects_to_the_same_session(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn second_handle_resuming_the_session_takes_it_over() {
    scenarios::second_handle_resuming_the_session_takes_it_over(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn idle_session_outlives_its_timeout_through_pings() {
    scenarios::idle_session_outlives_its_timeout_through_pings(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn silent_servers_are_abandoned_after_the_connect_timeout() {
    scenarios::silent_servers_are_abandoned_after_the_connect_timeout(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn every_create_mode_makes_the_right_kind_of_node() {
    scenarios::every_create_mode_makes_the_right_kind_of_node(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn changes_during_a_disconnection_fire_rearmed_watches_on_reconnect() {
    scenarios::changes_during_a_disconnection_fire_rearmed_watches_on_reconnect(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn concurrent_callers_share_one_session() {
    scenarios::concurrent_callers_share_one_session(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn credentials_survive_a_reconnect_and_guard_nodes() {
    scenarios::credentials_survive_a_reconnect_and_guard_nodes(Zksessiond);
}

#[test]
#[ignore = "needs the zksessiond binary; run by scripts/test-client.sh"]
fn unknown_auth_scheme_fails_the_session() {
    scenarios::unknown_auth_scheme_fails_the_session(Zksessiond);
}
