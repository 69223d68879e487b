//! Session passwords.
//!
//! Owns: making a session's 16-byte password from its id ([`Passwords::password`]) and
//! checking one ([`Passwords::verify`]) in either [`PasswordMode`].
//!
//! Must never: compare secrets with early-exit equality, or keep per-session state: a
//! password is a pure function of (mode, id), so any server of an ensemble can check it.

use super::config::PasswordMode;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Length of every session password.
pub const PASSWORD_LEN: usize = 16;

/// ZooKeeper's `superSecret`.
const ZK_SUPER_SECRET: u64 = 0xB341_5C00;

/// Makes and checks passwords under one [`PasswordMode`].
#[derive(Clone)]
pub struct Passwords {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    // The keyed MAC state is precomputed once; each password clones it.
    Hmac(Hmac<Sha256>),
    ZooKeeper,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.mode {
            Mode::Hmac(_) => f.write_str("Passwords(Hmac)"),
            Mode::ZooKeeper => f.write_str("Passwords(ZooKeeperCompatible)"),
        }
    }
}

impl Passwords {
    /// Prepares the password function for `mode`.
    pub fn new(mode: &PasswordMode) -> Self {
        let mode = match mode {
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
