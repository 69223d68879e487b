//! Client states, watch events and the timing formulas of `ClientCnxn`.
//!
//! Owns: [`States`] (`ZooKeeper.States`), [`WatchedEvent`], and the pure functions that
//! turn a session timeout into the read, connect, ping and expiry intervals.
//!
//! Must never: read a clock; every function takes the times it needs.

use crate::wire::{EventType, KeeperState};

/// The client's connection state (`ZooKeeper.States`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum States {
    /// Looking for a server (also reported while waiting between attempts before the
    /// first connection).
    Connecting,
    /// Connected to a read-write server.
    Connected,
    /// Connected to a read-only server.
    ConnectedReadOnly,
    /// Closed by `close()` or by session expiry; terminal.
    Closed,
    /// Authentication failed; terminal.
    AuthFailed,
}

impl States {
    /// Whether the session may still be used (not Closed or AuthFailed).
    pub fn is_alive(self) -> bool {
        !matches!(self, States::Closed | States::AuthFailed)
    }

    /// Whether a server connection is established.
    pub fn is_connected(self) -> bool {
        matches!(self, States::Connected | States::ConnectedReadOnly)
    }
}

/// An event delivered to the client's watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    /// `None` for session-state events.
    pub event_type: EventType,
    /// The session state the event reports.
    pub state: KeeperState,
    /// The client path (chroot stripped), for node events.
    pub path: Option<String>,
}

impl WatchedEvent {
    /// A session-state event.
    pub fn state(state: KeeperState) -> WatchedEvent {
        WatchedEvent {
            event_type: EventType::None,
            state,
            path: None,
        }
    }
}

/// Pings are sent at least this often (ms) while connected (`MAX_SEND_PING_INTERVAL`).
pub const MAX_SEND_PING_INTERVAL_MS: u64 = 10_000;

/// Timing derived from a session timeout `t` (ms) and the number of servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// `2t/3`: a connected client hearing nothing for this long reconnects.
    pub read_timeout: u64,
    /// `t/#hosts`: a connection attempt is abandoned after this long.
    pub connect_timeout: u64,
    /// `4t/3`: with no frame from any server for this long, the session is expired
    /// client-side.
    pub expiration_timeout: u64,
}

impl Timing {
    /// The timing for timeout `t` over `hosts` servers.
    pub fn new(t: u64, hosts: usize) -> Timing {
        Timing {
            read_timeout: t * 2 / 3,
            connect_timeout: t / hosts.max(1) as u64,
            expiration_timeout: t * 4 / 3,
        }
    }

    /// Whether a ping is due after `idle_send` ms without sending:
    /// `readTimeout/2 - idleSend - (idleSend > 1000 ? 1000 : 0) <= 0`, or more than
    /// 10 s idle.
    pub fn ping_due(&self, idle_send: u64) -> bool {
        let slack = if idle_send > 1000 { 1000 } else { 0 };
        (self.read_timeout / 2) as i64 - idle_send as i64 - slack <= 0
            || idle_send > MAX_SEND_PING_INTERVAL_MS
    }

    /// The smallest idle time for which [`Timing::ping_due`] holds.
    pub fn ping_delay(&self) -> u64 {
        let half = self.read_timeout / 2;
        let d = if half <= 1000 {
            half
        } else if half <= 2000 {
            1001
        } else {
            half - 1000
        };
        d.min(MAX_SEND_PING_INTERVAL_MS + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_follows_zookeeper_formulas() {
        let t = Timing::new(30_000, 3);
        assert_eq!(t.read_timeout, 20_000);
        assert_eq!(t.connect_timeout, 10_000);
        assert_eq!(t.expiration_timeout, 40_000);
    }

    #[test]
    fn ping_delay_is_the_first_idle_time_a_ping_is_due() {
        for t in [
            30, 300, 1000, 2999, 3000, 4500, 6000, 6001, 9000, 30_000, 40_000, 90_000,
        ] {
            let timing = Timing::new(t, 1);
            let d = timing.ping_delay();
            assert!(timing.ping_due(d), "t={t} d={d}");
            assert!(d == 0 || !timing.ping_due(d - 1), "t={t} d={d}");
        }
    }

    #[test]
    fn pings_at_least_every_ten_seconds() {
        assert_eq!(Timing::new(90_000, 1).ping_delay(), 10_001);
    }

    #[test]
    fn closed_and_auth_failed_are_not_alive() {
        assert!(!States::Closed.is_alive());
        assert!(!States::AuthFailed.is_alive());
        assert!(States::Connecting.is_alive());
        assert!(!States::Connecting.is_connected());
        assert!(States::ConnectedReadOnly.is_connected());
    }
}
