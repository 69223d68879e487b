//! What a node's stored `ephemeralOwner` says it is: persistent, a session's ephemeral, a
//! container, or a TTL node (ZooKeeper's `EphemeralType`), and the TTL rules of a create.
//!
//! Owns: [`NodeKind`] and its decoding from an owner, the TTL owner encoding
//! (`0xff << 56 | ttl`, reserved bits 55..40 zero, the TTL in the low 40 bits), the
//! bounds of a TTL (1 ..= 2^40 − 1 ms) and [`create_owner_rule`], ZooKeeper's
//! `validateCreateRequest`/`validateTTL` checks of a create's mode and TTL.
//!
//! Invariants: a session id never decodes as a TTL owner or the container marker: the
//! engine refuses server id 255 (ZooKeeper refuses it only with extended types on) and
//! skips the container marker when it makes ids, so the top byte of an id is never 0xff.
//! An owner with top byte 0xff is therefore always a TTL marker here, whether or not
//! extended types are on (ZooKeeper, with them off, would take it for a session's
//! ephemeral of a session that cannot exist); only the reaper's deletion of TTL nodes
//! depends on the setting.
//!
//! Must never: touch the tree; this is pure arithmetic on owners.

use crate::wire::{CreateMode, ErrorCode};

/// `ephemeralOwner` of container nodes (`EphemeralType.CONTAINER_EPHEMERAL_OWNER`).
pub(crate) const CONTAINER_OWNER: i64 = i64::MIN;

/// The top byte that marks an extended owner (TTL nodes).
const EXTENDED_MASK: u64 = 0xff00_0000_0000_0000;
/// The feature bits (55..40): zero for TTL, the only extended type ZooKeeper 3.8 defines.
const RESERVED_MASK: u64 = 0x00ff_ff00_0000_0000;

/// The largest TTL a node may have, in ms (2^40 − 1, about 34 years).
pub const MAX_TTL_MS: i64 = (1 << 40) - 1;

/// What a node is, from its stored `ephemeralOwner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A plain persistent node (owner 0).
    Persistent,
    /// A session's ephemeral node.
    Ephemeral(u64),
    /// A container node: deleted by the reaper once it has had children and has none.
    Container,
    /// A TTL node with its TTL in ms: deleted by the reaper once childless and unmodified
    /// for longer than its TTL (with extended types on).
    Ttl(i64),
    /// An extended owner with feature bits ZooKeeper 3.8 does not define: neither a
    /// session's nor the reaper's.
    UnknownExtended,
}

impl NodeKind {
    /// Decodes a stored `ephemeralOwner`.
    pub fn of_owner(owner: i64) -> NodeKind {
        let bits = owner as u64;
        if owner == 0 {
            NodeKind::Persistent
        } else if owner == CONTAINER_OWNER {
            NodeKind::Container
        } else if bits & EXTENDED_MASK == EXTENDED_MASK {
            if bits & RESERVED_MASK == 0 {
                NodeKind::Ttl((bits & !(EXTENDED_MASK | RESERVED_MASK)) as i64)
            } else {
                NodeKind::UnknownExtended
            }
        } else {
            NodeKind::Ephemeral(bits)
        }
    }

    /// The owner clients see in a Stat (ZooKeeper's `getClientEphemeralOwner`): the
    /// session for ephemerals, 0 for every other kind.
    pub fn client_owner(self) -> i64 {
        match self {
            NodeKind::Ephemeral(s) => s as i64,
            _ => 0,
        }
    }

    /// Whether the reaper looks at nodes of this kind.
    pub fn is_reapable(self) -> bool {
        matches!(self, NodeKind::Container | NodeKind::Ttl(_))
    }
}

/// The stored owner of a TTL node (`EphemeralType.TTL.toEphemeralOwner`), or
/// `BadArguments` for a TTL outside 1 ..= [`MAX_TTL_MS`].
pub fn ttl_owner(ttl_ms: i64) -> Result<i64, ErrorCode> {
    if !(1..=MAX_TTL_MS).contains(&ttl_ms) {
        return Err(ErrorCode::BadArguments);
    }
    Ok((EXTENDED_MASK as i64) | ttl_ms)
}

/// Whether `mode` is one of the TTL modes.
pub fn is_ttl_mode(mode: CreateMode) -> bool {
    matches!(
        mode,
        CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
    )
}

/// ZooKeeper's checks of a create's mode and TTL (`ttl` is −1 for the opcodes without
/// one), in its order: a TTL mode with extended types off → `Unimplemented`; a TTL mode
/// with a TTL outside 1 ..= [`MAX_TTL_MS`] (a plain create of a TTL mode has −1) →
/// `BadArguments`; another mode with a TTL of 0 or more → `BadArguments`. On success,
/// the TTL owner for TTL modes, `None` for the others (their owner follows their mode).
pub fn create_owner_rule(
    mode: CreateMode,
    ttl: i64,
    extended_types: bool,
) -> Result<Option<i64>, ErrorCode> {
    if is_ttl_mode(mode) {
        if !extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        ttl_owner(ttl).map(Some)
    } else if ttl >= 0 {
        Err(ErrorCode::BadArguments)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_decode_to_their_kind() {
        assert_eq!(NodeKind::of_owner(0), NodeKind::Persistent);
        assert_eq!(NodeKind::of_owner(i64::MIN), NodeKind::Container);
        assert_eq!(
            NodeKind::of_owner(0x0100_0000_0000_0001),
            NodeKind::Ephemeral(0x0100_0000_0000_0001)
        );
        assert_eq!(
            NodeKind::of_owner(0xff00_0000_0000_1388u64 as i64),
            NodeKind::Ttl(5000)
        );
        assert_eq!(
            NodeKind::of_owner(0xff00_0100_0000_0005u64 as i64),
            NodeKind::UnknownExtended
        );
        // The largest session id a server id of 254 can make is still a session.
        assert_eq!(
            NodeKind::of_owner(0xfeff_ffff_ffff_ffffu64 as i64),
            NodeKind::Ephemeral(0xfeff_ffff_ffff_ffff)
        );
    }

    #[test]
    fn no_session_id_the_engine_can_make_reads_as_a_ttl_or_container_owner() {
        use crate::engine::{initial_id, Config};
        // Server id 255 (the only one whose ids would carry the TTL marker) is refused.
        let refused = Config {
            server_id: 255,
            ..Config::default()
        };
        assert!(refused.validate().is_err());
        for sid in [0u8, 1, 0x7f, 0x80, 0xfe] {
            for ms in [0u64, 1, 0xff_ffff_ffff, u64::MAX] {
                let id = initial_id(sid, ms);
                for next in [id, id.wrapping_add(0xffff)] {
                    if (next >> 56) as u8 != sid || next == 0 {
                        continue; // past the generator's range, or a zero clock's id 0
                    }
                    assert_eq!(
                        NodeKind::of_owner(next as i64),
                        NodeKind::Ephemeral(next),
                        "{sid} {ms}"
                    );
                }
            }
        }
    }

    #[test]
    fn ttl_owner_is_zookeepers_encoding_and_round_trips() {
        assert_eq!(ttl_owner(1).unwrap(), 0xff00_0000_0000_0001u64 as i64);
        assert_eq!(
            ttl_owner(MAX_TTL_MS).unwrap(),
            0xff00_00ff_ffff_ffffu64 as i64
        );
        for ttl in [1, 1000, 86_400_000, MAX_TTL_MS] {
            assert_eq!(
                NodeKind::of_owner(ttl_owner(ttl).unwrap()),
                NodeKind::Ttl(ttl)
            );
        }
        for bad in [0, -1, MAX_TTL_MS + 1, i64::MAX] {
            assert_eq!(ttl_owner(bad), Err(ErrorCode::BadArguments));
        }
    }

    #[test]
    fn clients_see_owner_zero_for_all_but_ephemerals() {
        assert_eq!(NodeKind::Container.client_owner(), 0);
        assert_eq!(NodeKind::Ttl(10).client_owner(), 0);
        assert_eq!(NodeKind::Ephemeral(0x55).client_owner(), 0x55);
    }

    #[test]
    fn create_rule_follows_zookeepers_order() {
        use CreateMode::*;
        // Extended types off: TTL modes are unimplemented whatever the TTL.
        for ttl in [-1, 0, 1000] {
            assert_eq!(
                create_owner_rule(PersistentWithTtl, ttl, false),
                Err(ErrorCode::Unimplemented)
            );
        }
        // On: the TTL must be in range; a plain create of a TTL mode has none.
        assert_eq!(
            create_owner_rule(PersistentSequentialWithTtl, -1, true),
            Err(ErrorCode::BadArguments)
        );
        assert_eq!(
            create_owner_rule(PersistentWithTtl, 1000, true),
            Ok(Some(ttl_owner(1000).unwrap()))
        );
        // Other modes must not carry a TTL.
        assert_eq!(
            create_owner_rule(Persistent, 0, true),
            Err(ErrorCode::BadArguments)
        );
        assert_eq!(create_owner_rule(Ephemeral, -1, false), Ok(None));
        assert_eq!(create_owner_rule(Container, -1, true), Ok(None));
    }
}
