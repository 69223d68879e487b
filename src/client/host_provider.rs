//! The static host provider (`StaticHostProvider` / `HostConnectionManager`).
//!
//! Owns: the shuffled server list, the round-robin cursor with its spin pause after a
//! full pass, and ZooKeeper's probabilistic rebalancing when the list changes
//! (ZOOKEEPER-1355), so that after a change the clients spread evenly.
//!
//! Invariants: the list is never empty; `current` and `last` are -1 or valid indices.
//!
//! Must never: sleep or resolve names. [`HostProvider::next`] returns the pause the
//! caller must take before dialing, so tests drive it without waiting.

use std::time::Duration;

use super::connect_string::HostAddr;
use fastrand::Rng;

/// The provider was given an empty server list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmptyServerList;

impl std::fmt::Display for EmptyServerList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a host provider may not be empty")
    }
}

impl std::error::Error for EmptyServerList {}

/// The next server to try and how long to pause before dialing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHost {
    /// The server.
    pub addr: HostAddr,
    /// The spin pause (non-zero only after a full pass without success).
    pub pause: Duration,
}

/// A rotation over a fixed, shuffled server list.
#[derive(Debug)]
pub struct HostProvider {
    addrs: Vec<HostAddr>,
    current: isize,
    last: isize,
    reconfig: bool,
    old: Vec<HostAddr>,
    new: Vec<HostAddr>,
    cur_old: isize,
    cur_new: isize,
    p_old: f32,
    p_new: f32,
    rng: Rng,
}

impl HostProvider {
    /// A provider over `addrs`, shuffled with `rng`.
    pub fn new(addrs: Vec<HostAddr>, mut rng: Rng) -> Result<HostProvider, EmptyServerList> {
        if addrs.is_empty() {
            return Err(EmptyServerList);
        }
        let mut addrs = addrs;
        rng.shuffle(&mut addrs);
        Ok(HostProvider {
            addrs,
            current: -1,
            last: -1,
            reconfig: false,
            old: Vec::new(),
            new: Vec::new(),
            cur_old: -1,
            cur_new: -1,
            p_old: 0.0,
            p_new: 1.0,
            rng,
        })
    }

    /// The number of servers.
    pub fn size(&self) -> usize {
        self.addrs.len()
    }

    /// The servers in rotation order.
    #[cfg(test)]
    pub fn servers(&self) -> &[HostAddr] {
        &self.addrs
    }

    /// The server at the rotation's cursor (the last one [`HostProvider::next`] returned,
    /// or the kept server after an update), if any.
    pub fn current_server(&self) -> Option<&HostAddr> {
        usize::try_from(self.current)
            .ok()
            .and_then(|i| self.addrs.get(i))
    }

    /// Whether the provider is choosing hosts in reconfiguration mode.
    #[cfg(test)]
    pub fn in_reconfig_mode(&self) -> bool {
        self.reconfig
    }

    /// The next server. `spin` is paused once each time the rotation comes back round to
    /// the server of the last successful connection (never on the very first pass).
    pub fn next(&mut self, spin: Duration) -> NextHost {
        let mut need_sleep = false;
        if self.reconfig {
            if let Some(addr) = self.next_in_reconfig_mode() {
                self.current = self.index_of(&addr);
                return NextHost {
                    addr,
                    pause: Duration::ZERO,
                };
            }
            self.reconfig = false;
            need_sleep = !spin.is_zero();
        }
        self.current = (self.current + 1) % self.addrs.len() as isize;
        let addr = self.addrs[self.current as usize].clone();
        need_sleep |= self.current == self.last && !spin.is_zero();
        if self.last == -1 {
            self.last = 0;
        }
        NextHost {
            addr,
            pause: if need_sleep { spin } else { Duration::ZERO },
        }
    }

    /// Records a successful connection to the current server: the rotation's next full
    /// pass ends here, and reconfiguration mode is over.
    pub fn on_connected(&mut self) {
        self.last = self.current;
        self.reconfig = false;
    }

    /// Replaces the server list. Returns whether this client should drop its connection
    /// and move (probabilistically chosen so the load evens out). `current` is the server
    /// this client is connected to, if any.
    pub fn update_server_list(
        &mut self,
        new_list: Vec<HostAddr>,
        current: Option<&HostAddr>,
    ) -> Result<bool, EmptyServerList> {
        if new_list.is_empty() {
            return Err(EmptyServerList);
        }
        let mut shuffled = new_list;
        self.rng.shuffle(&mut shuffled);
        let my_server = if self.reconfig {
            Some(self.next(Duration::ZERO).addr)
        } else {
            current.cloned()
        };
        let my_server = my_server.unwrap_or_else(|| {
            let i = if self.last >= 0 {
                self.last as usize
            } else {
                0
            };
            self.addrs[i].clone()
        });
        let mine_kept = shuffled.contains(&my_server);
        let (old, new): (Vec<HostAddr>, Vec<HostAddr>) = shuffled
            .iter()
            .cloned()
            .partition(|a| self.addrs.contains(a));
        let num_old = old.len();
        let m = shuffled.len();
        let p = self.addrs.len();
        self.reconfig = true;
        if m > p {
            if mine_kept {
                if self.rng.f32() <= 1.0 - p as f32 / m as f32 {
                    self.p_new = 1.0;
                    self.p_old = 0.0;
                } else {
                    self.reconfig = false;
                }
            } else {
                self.p_new = 1.0;
                self.p_old = 0.0;
            }
        } else if mine_kept {
            self.reconfig = false;
        } else {
            // 0/0 gives NaN, as in Java: takeNew is then always false.
            self.p_old = (num_old * (p - m)) as f32 / (m * (p - num_old)) as f32;
            self.p_new = 1.0 - self.p_old;
        }
        let current_in_new = if self.reconfig || self.current < 0 {
            -1
        } else {
            let cur = &self.addrs[self.current as usize];
            shuffled
                .iter()
                .position(|a| a == cur)
                .map_or(-1, |i| i as isize)
        };
        self.addrs = shuffled;
        self.old = old;
        self.new = new;
        self.cur_old = -1;
        self.cur_new = -1;
        self.current = current_in_new;
        self.last = current_in_new;
        Ok(self.reconfig)
    }

    fn index_of(&self, addr: &HostAddr) -> isize {
        self.addrs
            .iter()
            .position(|a| a == addr)
            .map_or(-1, |i| i as isize)
    }

    fn next_in_reconfig_mode(&mut self) -> Option<HostAddr> {
        let take_new = self.rng.f32() <= self.p_new;
        let new_left = ((self.cur_new + 1) as usize) < self.new.len();
        let old_left = ((self.cur_old + 1) as usize) < self.old.len();
        if new_left && (take_new || !old_left) {
            self.cur_new += 1;
            return Some(self.new[self.cur_new as usize].clone());
        }
        if old_left {
            self.cur_old += 1;
            return Some(self.old[self.cur_old as usize].clone());
        }
        None
    }
}

#[cfg(test)]
mod tests;
