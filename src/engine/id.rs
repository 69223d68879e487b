//! Session-id generation in ZooKeeper's layout.
//!
//! Owns: [`initial_id`] (the first id of a generator: server id in bits 63..56, the low 40
//! bits of a millisecond clock in bits 55..16, zeros below) and [`IdGenerator`] (hands out
//! `base, base+1, ...` from any number of threads).
//!
//! Must never: reuse an id within one generator's life.

use crate::sync::{AtomicU64, Ordering};

/// ZooKeeper's container-node ephemeral-owner marker, never a session id.
const CONTAINER_MARKER: u64 = 0x8000_0000_0000_0000;

/// The first id a server with `server_id` hands out when its clock reads `ms`.
///
/// Identical to ZooKeeper's `initializeNextSessionId`:
/// `((ms << 24) >>> 8) | (sid << 56)`, plus one if that equals `Long.MIN_VALUE`.
pub const fn initial_id(server_id: u8, ms: u64) -> u64 {
    let base = ((ms << 24) >> 8) | ((server_id as u64) << 56);
    if base == CONTAINER_MARKER {
        base + 1
    } else {
        base
    }
}

/// The server id encoded in a session id's top byte.
pub const fn server_id_of(id: u64) -> u8 {
    (id >> 56) as u8
}

/// A thread-safe id source: `base`, `base + 1`, ...
#[derive(Debug)]
pub struct IdGenerator {
    next: AtomicU64,
}

impl IdGenerator {
    /// A generator starting at `initial_id(server_id, ms)`.
    pub fn new(server_id: u8, ms: u64) -> Self {
        IdGenerator {
            next: AtomicU64::new(initial_id(server_id, ms)),
        }
    }

    /// The next id; unique across threads.
    pub fn next_id(&self) -> u64 {
        // Relaxed is enough: uniqueness comes from the RMW itself, and no other memory is
        // published through this counter.
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn spec_vectors() {
        assert_eq!(initial_id(5, 0x12_3456_789A), 0x0512_3456_789a_0000);
        assert_eq!(initial_id(1, 0x0FED_CBA9_8765_4321), 0x01a9_8765_4321_0000);
        assert_eq!(server_id_of(0x0512_3456_789a_0000), 5);
    }

    #[test]
    fn container_marker_is_skipped() {
        assert_eq!(initial_id(0x80, 0), CONTAINER_MARKER + 1);
    }

    #[test]
    fn ids_increment_from_base() {
        let g = IdGenerator::new(1, 0x10);
        let a = g.next_id();
        assert_eq!(a, initial_id(1, 0x10));
        assert_eq!(g.next_id(), a + 1);
    }

    #[test]
    fn ids_are_unique_across_threads() {
        let g = std::sync::Arc::new(IdGenerator::new(3, 99));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || (0..10_000).map(|_| g.next_id()).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<u64> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_unstable();
        let n = all.len();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
