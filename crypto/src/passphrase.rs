//! The passphrase-wrapped master key: what lets a new device unlock with the passphrase alone.
//!
//! ```text
//! kek    = Argon2id v1.3 (password = NFC(passphrase) as UTF-8, salt, m, t, p, 32 bytes)
//! record = 0x01 || 0x01 (Argon2id) || m u32be || t u32be || p u32be || salt (16)
//!          || WrappedKey(kek, master key, kind "master-key/passphrase", id "")
//! ```

use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::CryptoRng;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::error::{DecryptError, KdfParamsError, UnlockError};
use crate::format::{FORMAT_VERSION, KEY_SIZE, WRAPPED_KEY_SIZE, label};
use crate::keys::{MasterKey, random_array};
use crate::wrap::{WrappedKey, unwrap_raw, wrap_raw};

const KDF_ARGON2ID: u8 = 1;
const SALT_SIZE: usize = 16;
const HEADER_SIZE: usize = 2 + 3 * 4 + SALT_SIZE;

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

    /// Parameters for a new vault; refused below OWASP's floor or above the ceilings.
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, KdfParamsError> {
        if m_kib < MIN_M_KIB || t < MIN_T {
            return Err(KdfParamsError::TooWeak {
                m_kib,
                t,
                min_m_kib: MIN_M_KIB,
                min_t: MIN_T,
            });
        }
        Self::stored(m_kib, t, p)
    }

    /// Cheap parameters (64 KiB, 1 pass) **for tests only**: they protect nothing.
    pub fn insecure_for_tests() -> Self {
        KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        }
    }

    /// Parameters read from a stored record: only the ceilings apply (an old vault created
    /// with weaker parameters still opens).
    fn stored(m_kib: u32, t: u32, p: u32) -> Result<Self, KdfParamsError> {
        if m_kib > MAX_M_KIB || t > MAX_T || p == 0 || p > MAX_P || t == 0 {
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
    fn derive(&self, passphrase: &str, salt: &[u8; SALT_SIZE]) -> Zeroizing<[u8; KEY_SIZE]> {
        let params = Params::new(self.m_kib, self.t, self.p, Some(KEY_SIZE))
            .expect("parameters were validated when constructed");
        let normalized = Zeroizing::new(passphrase.nfc().collect::<String>());
        let mut kek = Zeroizing::new([0u8; KEY_SIZE]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(normalized.as_bytes(), salt, kek.as_mut())
            .expect("salt and output lengths are valid for Argon2");
        kek
    }
}

/// The master key wrapped under a passphrase, with everything needed to unwrap it again.
#[derive(Clone, PartialEq, Eq)]
pub struct PassphraseWrappedKey {
    params: KdfParams,
    salt: [u8; SALT_SIZE],
    wrapped: WrappedKey,
}

impl core::fmt::Debug for PassphraseWrappedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PassphraseWrappedKey")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PassphraseWrappedKey {
    /// Wraps `master` under `passphrase` with a fresh salt. Takes as long as `params` say.
    pub fn wrap(
        master: &MasterKey,
        passphrase: &str,
        params: KdfParams,
        rng: &mut impl CryptoRng,
    ) -> Self {
        let salt = random_array(rng);
        let kek = params.derive(passphrase, &salt);
        let wrapped = wrap_raw(
            &kek,
            master.expose_secret(),
            label::WRAP_MASTER_PASSPHRASE,
            &[],
            rng,
        );
        Self {
            params,
            salt,
            wrapped,
        }
    }

    /// Unwraps the master key; [`UnlockError::WrongSecret`] if the passphrase is wrong.
    pub fn unwrap(&self, passphrase: &str) -> Result<MasterKey, UnlockError> {
        let kek = self.params.derive(passphrase, &self.salt);
        let raw = unwrap_raw(&kek, &self.wrapped, label::WRAP_MASTER_PASSPHRASE, &[])
            .map_err(|_| UnlockError::WrongSecret)?;
        Ok(MasterKey::from_bytes(*raw))
    }

    /// The Argon2id parameters this record was made with.
    pub fn params(&self) -> KdfParams {
        self.params
    }

    /// The record's bytes ([`PASSPHRASE_WRAPPED_KEY_SIZE`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PASSPHRASE_WRAPPED_KEY_SIZE);
        out.push(FORMAT_VERSION);
        out.push(KDF_ARGON2ID);
        out.extend_from_slice(&self.params.m_kib.to_be_bytes());
        out.extend_from_slice(&self.params.t.to_be_bytes());
        out.extend_from_slice(&self.params.p.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(self.wrapped.as_bytes());
        out
    }

    /// Reads a record, checking its layout and that its parameters are within the ceilings.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, UnlockError> {
        if bytes.len() != PASSPHRASE_WRAPPED_KEY_SIZE {
            return Err(DecryptError::WrongLength {
                what: "passphrase-wrapped key",
                expected: PASSPHRASE_WRAPPED_KEY_SIZE,
                actual: bytes.len(),
            }
            .into());
        }
        if bytes[0] != FORMAT_VERSION {
            return Err(DecryptError::UnsupportedVersion(bytes[0]).into());
        }
        if bytes[1] != KDF_ARGON2ID {
            return Err(KdfParamsError::Invalid(format!("unknown KDF id {}", bytes[1])).into());
        }
        let be =
            |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("fixed layout"));
        let params = KdfParams::stored(be(2), be(6), be(10))?;
        let salt = bytes[14..HEADER_SIZE].try_into().expect("fixed layout");
        let wrapped = WrappedKey::from_bytes(&bytes[HEADER_SIZE..])?;
        Ok(Self {
            params,
            salt,
            wrapped,
        })
    }
}
