//! The passphrase-wrapped master key: what lets a new device unlock with the passphrase alone.
//!
//! ```text
//! unlock params = 0x01 || 0x01 (Argon2id) || m u32be || t u32be || p u32be || salt (16)   (public)
//! kek           = Argon2id v1.3 (password = NFC(passphrase) as UTF-8, salt, m, t, p, 32 bytes)
//! record        = unlock params || WrappedKey(kek, master key, kind "master-key/passphrase",
//!                 id "" at generation 0, u32be(generation) after a rotation of the master key)
//! admission key = Ed25519(HKDF-SHA256[info = "vault/v2/admission-key/passphrase"](kek))
//!                 (`admission`; its public key is the verifier the canister stores)
//! unlock proof  = HKDF-SHA256[salt = "", info = "vault/v1/unlock-proof/passphrase"](kek)
//! v1 verifier   = SHA-256(unlock proof)        (old vaults only, replaced on the next unlock)
//! ```
//!
//! A new device has a new principal, so the canister does not yet know it as the owner's:
//! it reads the public unlock params, derives the KEK, and signs the canister's admission
//! challenge to be admitted; only then may it read the record.
//!
//! Parameters below OWASP's floor are refused everywhere, stored records included: a node
//! that answers the unlock params query cannot make a device derive a cheap KEK.

use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::CryptoRng;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::admission::{AdmissionKey, AdmissionMethod, AdmissionVerifier};
use crate::error::{DecryptError, KdfParamsError, UnlockError};
use crate::format::{FORMAT_VERSION, KEY_SIZE, WRAPPED_KEY_SIZE, check_version, label};
use crate::ids::MasterGeneration;
use crate::keys::{MasterKey, random_array, secret_key};
use crate::primitives::{hkdf_sha256, sha256, sha256_matches};
use crate::wrap::{WrappedKey, unwrap_raw, wrap_raw};

const KDF_ARGON2ID: u8 = 1;
const SALT_SIZE: usize = 16;
const HEADER_SIZE: usize = 2 + 3 * 4 + SALT_SIZE;

/// Size of [`UnlockParams`]: the public first bytes of a passphrase record.
pub const UNLOCK_PARAMS_SIZE: usize = HEADER_SIZE;

/// Size of a [`PassphraseWrappedKey`] record.
pub const PASSPHRASE_WRAPPED_KEY_SIZE: usize = HEADER_SIZE + WRAPPED_KEY_SIZE;

/// OWASP's floor for Argon2id (2023 cheat sheet: m = 19 MiB, t = 2, p = 1).
const MIN_M_KIB: u32 = 19 * 1024;
const MIN_T: u32 = 2;
/// Ceilings on what a stored record may ask of a device: 4 GiB, 64 passes, 16 lanes.
/// A record above them is refused rather than allowed to exhaust the device.
const MAX_M_KIB: u32 = 4 * 1024 * 1024;
const MAX_T: u32 = 64;
const MAX_P: u32 = 16;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    m_kib: u32,
    t: u32,
    p: u32,
}

impl KdfParams {
    /// The default for new vaults: 256 MiB, 4 passes, 1 lane — about 13x OWASP's minimum
    /// memory-time product (19 MiB x 2), ~1 s on a laptop core.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 256 * 1024,
        t: 4,
        p: 1,
    };

    /// For devices that cannot spare 256 MiB (older phones): 64 MiB, 16 passes — the same
    /// memory-time product as [`Self::DEFAULT`], so no weaker against a CPU attacker.
    pub const LOW_MEMORY: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 16,
        p: 1,
    };

    /// OWASP's floor itself (19 MiB, 2 passes, 1 lane): the weakest parameters accepted
    /// anywhere, and the cheapest that tests may use.
    pub const MINIMUM: KdfParams = KdfParams {
        m_kib: MIN_M_KIB,
        t: MIN_T,
        p: 1,
    };

    /// Parameters; refused below OWASP's floor or above the ceilings. The same rule applies to
    /// a stored record, so that whoever answers the unlock params cannot make a device derive a
    /// cheap key (docs/FORMAT.md §6).
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, KdfParamsError> {
        if m_kib < MIN_M_KIB || t < MIN_T {
            return Err(KdfParamsError::TooWeak {
                m_kib,
                t,
                min_m_kib: MIN_M_KIB,
                min_t: MIN_T,
            });
        }
        if m_kib > MAX_M_KIB || t > MAX_T || p == 0 || p > MAX_P {
            return Err(KdfParamsError::TooCostly {
                m_kib,
                t,
                p,
                max_m_kib: MAX_M_KIB,
                max_t: MAX_T,
                max_p: MAX_P,
            });
        }
        Params::new(m_kib, t, p, Some(KEY_SIZE))
            .map_err(|e| KdfParamsError::Invalid(e.to_string()))?;
        Ok(KdfParams { m_kib, t, p })
    }

    /// Memory in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.m_kib
    }

    /// Passes over memory.
    pub fn iterations(&self) -> u32 {
        self.t
    }

    /// Lanes.
    pub fn parallelism(&self) -> u32 {
        self.p
    }

    /// `Argon2id[m, t, p](NFC(passphrase), salt)` -> 32 bytes (RFC 9106).
    fn derive(&self, passphrase: &str, salt: &[u8; SALT_SIZE]) -> PassphraseKek {
        let params = Params::new(self.m_kib, self.t, self.p, Some(KEY_SIZE))
            .expect("parameters were validated when constructed");
        let normalized = Zeroizing::new(passphrase.nfc().collect::<String>());
        let mut kek = Zeroizing::new([0u8; KEY_SIZE]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(normalized.as_bytes(), salt, kek.as_mut())
            .expect("salt and output lengths are valid for Argon2");
        PassphraseKek::from_bytes(*kek)
    }
}

/// The public part of a passphrase record: the Argon2id parameters and salt. Anyone may read
/// it; a device needs it to derive the [`PassphraseKek`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnlockParams {
    params: KdfParams,
    salt: [u8; SALT_SIZE],
}

impl UnlockParams {
    /// Parameters with a fresh random salt, for a new passphrase.
    pub fn generate(params: KdfParams, rng: &mut impl CryptoRng) -> Self {
        Self {
            params,
            salt: random_array(rng),
        }
    }

    /// The Argon2id parameters.
    pub fn params(&self) -> KdfParams {
        self.params
    }

    /// Derives the key-encryption key from the passphrase. Slow by design: as long as the
    /// parameters say (about a second with [`KdfParams::DEFAULT`]).
    pub fn derive(&self, passphrase: &str) -> PassphraseKek {
        self.params.derive(passphrase, &self.salt)
    }

    /// The [`UNLOCK_PARAMS_SIZE`] bytes.
    pub fn to_bytes(&self) -> [u8; UNLOCK_PARAMS_SIZE] {
        let mut out = [0u8; UNLOCK_PARAMS_SIZE];
        out[0] = FORMAT_VERSION;
        out[1] = KDF_ARGON2ID;
        out[2..6].copy_from_slice(&self.params.m_kib.to_be_bytes());
        out[6..10].copy_from_slice(&self.params.t.to_be_bytes());
        out[10..14].copy_from_slice(&self.params.p.to_be_bytes());
        out[14..].copy_from_slice(&self.salt);
        out
    }

    /// Reads unlock params, refusing unknown versions and KDFs, and parameters below the floor
    /// or over the ceilings.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, UnlockError> {
        check_version(bytes)?;
        if bytes.len() != UNLOCK_PARAMS_SIZE {
            return Err(DecryptError::WrongLength {
                what: "unlock params",
                expected: UNLOCK_PARAMS_SIZE,
                actual: bytes.len(),
            }
            .into());
        }
        if bytes[1] != KDF_ARGON2ID {
            return Err(KdfParamsError::UnknownKdf(bytes[1]).into());
        }
        let be =
            |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("fixed layout"));
        let params = KdfParams::new(be(2), be(6), be(10))?;
        Ok(Self {
            params,
            salt: bytes[14..].try_into().expect("fixed layout"),
        })
    }
}

secret_key!(
    /// The key derived from the passphrase: it wraps the master key and yields the unlock proof.
    pub PassphraseKek
);

impl PassphraseKek {
    /// Wraps `master` of `generation`: the record to store, made with these `unlock` params.
    pub fn wrap_master(
        &self,
        unlock: &UnlockParams,
        master: &MasterKey,
        generation: MasterGeneration,
        rng: &mut impl CryptoRng,
    ) -> PassphraseWrappedKey {
        let wrapped = wrap_raw(
            &self.0,
            master.expose_secret(),
            label::WRAP_MASTER_PASSPHRASE,
            &generation.id_bytes(),
            rng,
        );
        PassphraseWrappedKey {
            unlock: *unlock,
            wrapped,
        }
    }

    /// Unwraps the master key of `generation`; [`UnlockError::WrongSecret`] if the passphrase
    /// was wrong — or the record is of another generation (an old record served again).
    pub fn unwrap_master(
        &self,
        record: &PassphraseWrappedKey,
        generation: MasterGeneration,
    ) -> Result<MasterKey, UnlockError> {
        let raw = unwrap_raw(
            &self.0,
            &record.wrapped,
            label::WRAP_MASTER_PASSPHRASE,
            &generation.id_bytes(),
        )
        .map_err(|_| UnlockError::WrongSecret)?;
        Ok(MasterKey::from_bytes(*raw))
    }

    /// The key whose signature admits a new device (docs/FORMAT.md §6.1).
    pub fn admission_key(&self) -> AdmissionKey {
        AdmissionKey::derive(&self.0, AdmissionMethod::Passphrase)
    }

    /// Version 1's proof (a password equivalent): only to admit a device to an old vault
    /// whose canister still holds a v1 verifier, which the client then replaces.
    pub fn unlock_proof(&self) -> UnlockProof {
        UnlockProof::from_bytes(*hkdf_sha256(&[], &self.0, label::UNLOCK_PROOF_PASSPHRASE))
    }
}

secret_key!(
    /// Version 1's proof of the passphrase (or recovery key): whoever sees it can replay it
    /// while the canister still holds its [`UnlockVerifier`]. Old vaults only.
    pub UnlockProof
);

impl UnlockProof {
    /// The verifier the canister stores.
    pub fn verifier(&self) -> UnlockVerifier {
        UnlockVerifier(sha256(&self.0))
    }

    /// Whether this proof matches `verifier` (constant time).
    pub fn matches(&self, verifier: &UnlockVerifier) -> bool {
        sha256_matches(&self.0, &verifier.0)
    }
}

/// `SHA-256(unlock proof)`: how a version-1 canister recognised the passphrase (or recovery
/// key). Replaced by an [`AdmissionVerifier`] on the next unlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnlockVerifier(pub [u8; 32]);

/// The master key wrapped under a passphrase, with everything needed to unwrap it again.
#[derive(Clone, PartialEq, Eq)]
pub struct PassphraseWrappedKey {
    unlock: UnlockParams,
    wrapped: WrappedKey,
}

impl core::fmt::Debug for PassphraseWrappedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PassphraseWrappedKey")
            .field("params", &self.unlock.params)
            .finish_non_exhaustive()
    }
}

impl PassphraseWrappedKey {
    /// Wraps `master` of `generation` under `passphrase` with a fresh salt, and returns the
    /// admission verifier for the canister too. Takes as long as `params` say.
    pub fn wrap(
        master: &MasterKey,
        generation: MasterGeneration,
        passphrase: &str,
        params: KdfParams,
        rng: &mut impl CryptoRng,
    ) -> (Self, AdmissionVerifier) {
        let unlock = UnlockParams::generate(params, rng);
        let kek = unlock.derive(passphrase);
        (
            kek.wrap_master(&unlock, master, generation, rng),
            kek.admission_key().verifier(),
        )
    }

    /// Unwraps the master key of `generation`; [`UnlockError::WrongSecret`] if the
    /// passphrase is wrong.
    pub fn unwrap(
        &self,
        passphrase: &str,
        generation: MasterGeneration,
    ) -> Result<MasterKey, UnlockError> {
        self.unlock
            .derive(passphrase)
            .unwrap_master(self, generation)
    }

    /// The public unlock params (the record's first [`UNLOCK_PARAMS_SIZE`] bytes).
    pub fn unlock_params(&self) -> UnlockParams {
        self.unlock
    }

    /// The Argon2id parameters this record was made with.
    pub fn params(&self) -> KdfParams {
        self.unlock.params
    }

    /// The record's bytes ([`PASSPHRASE_WRAPPED_KEY_SIZE`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        [self.unlock.to_bytes().as_slice(), self.wrapped.as_bytes()].concat()
    }

    /// Reads a record, checking its layout and that its parameters are within the ceilings.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, UnlockError> {
        check_version(bytes)?;
        if bytes.len() != PASSPHRASE_WRAPPED_KEY_SIZE {
            return Err(DecryptError::WrongLength {
                what: "passphrase-wrapped key",
                expected: PASSPHRASE_WRAPPED_KEY_SIZE,
                actual: bytes.len(),
            }
            .into());
        }
        let unlock = UnlockParams::from_bytes(&bytes[..UNLOCK_PARAMS_SIZE])?;
        let wrapped = WrappedKey::from_bytes(&bytes[UNLOCK_PARAMS_SIZE..])?;
        Ok(Self { unlock, wrapped })
    }
}
