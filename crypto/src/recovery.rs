//! The recovery key: 256 random bits shown once as 24 BIP39 words; it also wraps the master key.
//!
//! ```text
//! words   = BIP39-English(recovery key)            (24 words, the last one carries the checksum)
//! wrapped = WrappedKey(recovery key, master key, kind "master-key/recovery",
//!           id "" at generation 0, u32be(generation) after a rotation of the master key)
//! admission key = Ed25519(HKDF-SHA256[info = "vault/v2/admission-key/recovery"](recovery key))
//! unlock proof  = HKDF-SHA256[salt = "", info = "vault/v1/unlock-proof/recovery"](recovery key)
//!                 (version 1, old vaults only)
//! ```

use bip39::{Language, Mnemonic};
use zeroize::Zeroizing;

use crate::admission::{AdmissionKey, AdmissionMethod};
use crate::error::{RecoveryKeyError, UnlockError};
use crate::format::{KEY_SIZE, label};
use crate::ids::MasterGeneration;
use crate::keys::{MasterKey, secret_key};
use crate::passphrase::UnlockProof;
use crate::primitives::hkdf_sha256;
use crate::wrap::{WrappedKey, unwrap_raw, wrap_raw};

secret_key!(
    /// The recovery key: the user writes down its 24 words; with them alone the vault opens.
    pub RecoveryKey
);

impl RecoveryKey {
    /// The 24 words, space-separated, lowercase.
    pub fn to_words(&self) -> Zeroizing<String> {
        let mnemonic = Mnemonic::from_entropy_in(Language::English, &self.0)
            .expect("32 bytes is a valid BIP39 entropy length");
        Zeroizing::new(mnemonic.to_string())
    }

    /// Reads the words back, forgiving case and extra white space.
    pub fn from_words(words: &str) -> Result<Self, RecoveryKeyError> {
        let normalized = Zeroizing::new(
            words
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase(),
        );
        let mnemonic = Mnemonic::parse_in_normalized(Language::English, &normalized)
            .map_err(|e| RecoveryKeyError::Invalid(e.to_string()))?;
        let entropy = Zeroizing::new(mnemonic.to_entropy());
        let bytes: [u8; KEY_SIZE] = entropy.as_slice().try_into().map_err(|_| {
            RecoveryKeyError::Invalid(format!(
                "{} words given, 24 expected",
                mnemonic.word_count()
            ))
        })?;
        Ok(Self(bytes))
    }

    /// Wraps the master key of `generation` under this recovery key.
    pub fn wrap_master(
        &self,
        master: &MasterKey,
        generation: MasterGeneration,
        rng: &mut impl rand_core::CryptoRng,
    ) -> WrappedKey {
        wrap_raw(
            &self.0,
            master.expose_secret(),
            label::WRAP_MASTER_RECOVERY,
            &generation.id_bytes(),
            rng,
        )
    }

    /// The key whose signature admits a new device (docs/FORMAT.md §7); its public key is
    /// stored at set-up and whenever the recovery key is replaced.
    pub fn admission_key(&self) -> AdmissionKey {
        AdmissionKey::derive(&self.0, AdmissionMethod::Recovery)
    }

    /// Version 1's proof (a password equivalent): only for an old vault whose canister still
    /// holds a v1 recovery verifier, which the client replaces in the same step.
    pub fn unlock_proof(&self) -> UnlockProof {
        UnlockProof::from_bytes(*hkdf_sha256(&[], &self.0, label::UNLOCK_PROOF_RECOVERY))
    }

    /// Unwraps the master key of `generation`; [`UnlockError::WrongSecret`] if this is not
    /// its recovery key (or the wrapping is of another generation).
    pub fn unwrap_master(
        &self,
        wrapped: &WrappedKey,
        generation: MasterGeneration,
    ) -> Result<MasterKey, UnlockError> {
        let raw = unwrap_raw(
            &self.0,
            wrapped,
            label::WRAP_MASTER_RECOVERY,
            &generation.id_bytes(),
        )
        .map_err(|_| UnlockError::WrongSecret)?;
        Ok(MasterKey::from_bytes(*raw))
    }
}
