//! A passkey that unlocks: the master key wrapped under a key derived from the passkey's PRF
//! output (the WebAuthn `prf` extension, CTAP2's `hmac-secret`), docs/FORMAT.md §7.1.
//!
//! ```text
//! prf input   = SHA-256("vault/v1/passkey/prf-input" || canister id)   (what the browser is
//!               asked to evaluate; it hashes it again with "WebAuthn PRF" || 0x00)
//! passkey key = HKDF-SHA256[salt = "", info = "vault/v1/passkey/key"](prf output)
//! wrapped     = WrappedKey(passkey key, master key, kind "master-key/passkey",
//!               id "" at generation 0, else u32be(generation))
//! ```
//!
//! The PRF output is a secret only the authenticator can produce (after user verification),
//! the same for every evaluation of the same input with the same credential, and different for
//! every credential and input.

use crate::error::UnlockError;
use crate::format::{KEY_SIZE, label};
use crate::ids::MasterGeneration;
use crate::keys::{MasterKey, secret_key};
use crate::primitives::{hkdf_sha256, sha256};
use crate::wrap::{WrappedKey, unwrap_raw, wrap_raw};

secret_key!(
    /// The key a passkey's PRF output gives: it wraps the master key for that passkey.
    pub PasskeyKey
);

/// What a vault asks its passkeys to evaluate: one input per vault, so a passkey's output for
/// one vault says nothing of another's.
pub fn passkey_prf_input(canister: &[u8]) -> [u8; 32] {
    sha256(&[label::PASSKEY_PRF_INPUT, canister].concat())
}

impl PasskeyKey {
    /// The key of a PRF output (32 bytes, as the WebAuthn `prf` extension answers).
    pub fn from_prf_output(output: &[u8; KEY_SIZE]) -> PasskeyKey {
        PasskeyKey(*hkdf_sha256(&[], output, label::PASSKEY_KEY))
    }

    /// Wraps the master key of `generation` under this key.
    pub fn wrap_master(
        &self,
        master: &MasterKey,
        generation: MasterGeneration,
        rng: &mut impl rand_core::CryptoRng,
    ) -> WrappedKey {
        wrap_raw(
            &self.0,
            master.expose_secret(),
            label::WRAP_MASTER_PASSKEY,
            &generation.id_bytes(),
            rng,
        )
    }

    /// Unwraps the master key of `generation`; [`UnlockError::WrongSecret`] if this passkey
    /// did not wrap it, or it is of another generation.
    pub fn unwrap_master(
        &self,
        wrapped: &WrappedKey,
        generation: MasterGeneration,
    ) -> Result<MasterKey, UnlockError> {
        let raw = unwrap_raw(
            &self.0,
            wrapped,
            label::WRAP_MASTER_PASSKEY,
            &generation.id_bytes(),
        )
        .map_err(|_| UnlockError::WrongSecret)?;
        Ok(MasterKey::from_bytes(*raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn opens_only_with_its_own_output_and_generation() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let master = MasterKey::generate(&mut rng);
        let key = PasskeyKey::from_prf_output(&[1; 32]);
        let wrapped = key.wrap_master(&master, MasterGeneration(3), &mut rng);
        let opened = key.unwrap_master(&wrapped, MasterGeneration(3)).unwrap();
        assert_eq!(opened.expose_secret(), master.expose_secret());
        assert!(key.unwrap_master(&wrapped, MasterGeneration(2)).is_err());
        let other = PasskeyKey::from_prf_output(&[2; 32]);
        assert!(other.unwrap_master(&wrapped, MasterGeneration(3)).is_err());
        assert_ne!(passkey_prf_input(b"a"), passkey_prf_input(b"b"));
    }
}
