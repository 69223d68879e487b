//! Session passwords.
//!
//! Owns: making a session's 16-byte password from its id ([`Passwords::password`]) and
//! checking one ([`Passwords::verify`]) in any [`PasswordMode`].
//!
//! Must never: compare secrets with early-exit equality, or keep per-session state: a
//! password is a pure function of (mode, id), so any server of an ensemble can check it.

use super::config::PasswordMode;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use siphasher::sip128::{Hasher128, SipHasher24};
use std::hash::Hasher;
use subtle::ConstantTimeEq;

/// Length of every session password.
pub const PASSWORD_LEN: usize = 16;

/// ZooKeeper's `superSecret`.
const ZK_SUPER_SECRET: u64 = 0xB341_5C00;

/// The HMAC-SHA256 message that derives the SipHash key from the secret (domain
/// separation: the key is never the secret itself, and no other use shares it).
const SIPHASH_KEY_LABEL: &[u8] = b"zksession session password key: SipHash-2-4-128";

/// Makes and checks passwords under one [`PasswordMode`].
#[derive(Clone)]
pub struct Passwords {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    // The keyed state (the key schedule: four words) is made once; each password copies it.
    SipHash(SipHasher24),
    // The keyed MAC state is precomputed once; each password clones it.
    Hmac(Hmac<Sha256>),
    ZooKeeper,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.mode {
            Mode::SipHash(_) => f.write_str("Passwords(SipHash)"),
            Mode::Hmac(_) => f.write_str("Passwords(Hmac)"),
            Mode::ZooKeeper => f.write_str("Passwords(ZooKeeperCompatible)"),
        }
    }
}

impl Passwords {
    /// Prepares the password function for `mode`.
    pub fn new(mode: &PasswordMode) -> Self {
        let mode = match mode {
            PasswordMode::SipHash { secret } => {
                let mut kdf = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key");
                kdf.update(SIPHASH_KEY_LABEL);
                let full = kdf.finalize().into_bytes();
                let mut key = [0u8; 16];
                key.copy_from_slice(&full[..16]);
                Mode::SipHash(SipHasher24::new_with_key(&key))
            }
            PasswordMode::Hmac { secret } => {
                Mode::Hmac(Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key"))
            }
            PasswordMode::ZooKeeperCompatible => Mode::ZooKeeper,
        };
        Passwords { mode }
    }

    /// The password of session `id`.
    pub fn password(&self, id: u64) -> [u8; PASSWORD_LEN] {
        match &self.mode {
            Mode::SipHash(keyed) => {
                let mut h = *keyed;
                h.write(&id.to_be_bytes());
                u128::from(h.finish128()).to_le_bytes()
            }
            Mode::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(&id.to_be_bytes());
                let full = mac.finalize().into_bytes();
                let mut out = [0u8; PASSWORD_LEN];
                out.copy_from_slice(&full[..PASSWORD_LEN]);
                out
            }
            Mode::ZooKeeper => zookeeper_password(id),
        }
    }

    /// Whether `candidate` is the password of `id`, checked in constant time. Id 0 ("no
    /// session") and any length other than 16 never verify, as in ZooKeeper.
    pub fn verify(&self, id: u64, candidate: &[u8]) -> bool {
        if id == 0 || candidate.len() != PASSWORD_LEN {
            return false;
        }
        self.password(id).ct_eq(candidate).into()
    }
}

/// ZooKeeper's password: 16 bytes of `java.util.Random(id ^ 0xB3415C00).nextBytes`.
pub fn zookeeper_password(id: u64) -> [u8; PASSWORD_LEN] {
    const MULT: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;
    let mut seed = ((id ^ ZK_SUPER_SECRET) ^ MULT) & MASK;
    let mut out = [0u8; PASSWORD_LEN];
    for chunk in out.chunks_exact_mut(4) {
        seed = seed.wrapping_mul(MULT).wrapping_add(0xB) & MASK;
        let r = (seed >> 16) as u32;
        chunk.copy_from_slice(&r.to_le_bytes());
    }
    out
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn zookeeper_vectors_from_the_spec() {
        let vectors = [
            (0x0000_0000_0000_0000u64, "f22acd4a97e69d6d20a49bb638eadb38"),
            (0x0100_0000_0000_0000, "f22acd4a97e69d6d20a49bb638eadb38"),
            (0x0186_9f5b_2c3d_0000, "99544121b2ac73529f3f81404b3967b4"),
            (0x0500_0012_3456_0001, "3bfd9ee8352a52e23bb2a6783a163a8d"),
            (0xffff_ffff_ffff_ffff, "20f62cb5648dc2d771471c8a2486a9ee"),
        ];
        for (id, want) in vectors {
            assert_eq!(hex(&zookeeper_password(id)), want, "id {id:#x}");
        }
    }

    #[test]
    fn zookeeper_mode_is_forgeable_by_design() {
        let p = Passwords::new(&PasswordMode::ZooKeeperCompatible);
        let id = 0x0100_0000_0000_0042;
        assert!(p.verify(id, &zookeeper_password(id)));
    }

    #[test]
    fn hmac_depends_on_secret_and_id() {
        let a = Passwords::new(&PasswordMode::Hmac {
            secret: vec![1; 32],
        });
        let b = Passwords::new(&PasswordMode::Hmac {
            secret: vec![2; 32],
        });
        let id = 0x0100_0000_0000_0042;
        assert_ne!(a.password(id), b.password(id));
        assert_ne!(a.password(id), a.password(id + 1));
        assert_eq!(a.password(id), a.password(id));
        assert_ne!(a.password(id), zookeeper_password(id));
        assert!(a.verify(id, &a.password(id)));
        assert!(!b.verify(id, &a.password(id)));
    }

    fn siphash(secret: &[u8]) -> Passwords {
        Passwords::new(&PasswordMode::SipHash {
            secret: secret.to_vec(),
        })
    }

    #[test]
    fn siphash_depends_on_secret_and_id() {
        let a = siphash(&[1; 32]);
        let b = siphash(&[2; 32]);
        let h = Passwords::new(&PasswordMode::Hmac {
            secret: vec![1; 32],
        });
        let id = 0x0100_0000_0000_0042;
        assert_ne!(a.password(id), b.password(id));
        assert_ne!(a.password(id), a.password(id + 1));
        assert_eq!(a.password(id), a.password(id));
        assert_ne!(
            a.password(id),
            h.password(id),
            "a different MAC from the HMAC mode"
        );
        assert_ne!(a.password(id), zookeeper_password(id));
        assert!(a.verify(id, &a.password(id)));
        assert!(!b.verify(id, &a.password(id)));
        assert!(!a.verify(id, &a.password(id + 1)));
    }

    const FROZEN_SIPHASH_VECTOR: &str = "20d8442f4cebfbc7c0f0802c07b61805";

    #[test]
    fn siphash_passwords_never_change_between_versions() {
        // Servers of one ensemble (and one server across restarts with a stable secret)
        // must make the same password for an id: these values are frozen.
        let p = siphash(b"0123456789abcdef0123456789abcdef");
        assert_eq!(
            hex(&p.password(0x0100_0000_0000_0001)),
            FROZEN_SIPHASH_VECTOR
        );
    }

    #[test]
    fn siphash_key_is_derived_not_the_secret() {
        // A secret whose first 16 bytes equal another's still gives another key.
        let mut s1 = vec![9u8; 32];
        let s2 = s1.clone();
        s1[31] ^= 1;
        assert_ne!(siphash(&s1).password(5), siphash(&s2).password(5));
    }

    #[test]
    fn bad_candidates_never_verify_in_siphash_mode() {
        let a = siphash(&[3; 16]);
        let id = 0x0100_0000_0000_0042;
        let good = a.password(id);
        assert!(!a.verify(id, &good[..15]));
        assert!(!a.verify(id, &[0u8; 16]));
        assert!(!a.verify(0, &a.password(0)));
        let mut bad = good;
        bad[0] ^= 0x80;
        assert!(!a.verify(id, &bad));
    }

    #[test]
    fn bad_candidates_never_verify() {
        let a = Passwords::new(&PasswordMode::Hmac {
            secret: vec![1; 32],
        });
        let id = 0x0100_0000_0000_0042;
        let good = a.password(id);
        assert!(!a.verify(id, &good[..15]));
        assert!(!a.verify(id, &[0u8; 16]));
        assert!(!a.verify(0, &a.password(0)));
        let mut bad = good;
        bad[15] ^= 1;
        assert!(!a.verify(id, &bad));
    }
}
