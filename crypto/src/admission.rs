//! Device admission, version 2 (docs/FORMAT.md §6.1): a signature by a key derived from the
//! passphrase KEK (or the recovery key), over a challenge bound to the canister, the caller and
//! a counter the canister issues. The canister keeps only the public key.
//!
//! ```text
//! seed      = HKDF-SHA256[salt = "", info = "vault/v2/admission-key/passphrase"](KEK)
//!             (recovery: info = "vault/v2/admission-key/recovery", ikm = recovery key)
//! verifier  = Ed25519 public key of seed (RFC 8032 §5.1.5)          32 bytes, in the canister
//! message   = "vault/v2/admission" || 0x00 || method (1 passphrase, 2 recovery)
//!             || len(canister) || canister || len(caller) || caller || u64be(counter)
//! proof     = Ed25519 signature of message (RFC 8032, pure Ed25519)  64 bytes
//! ```
//!
//! Unlike version 1's `SHA-256(proof) == verifier`, a proof seen on the way (by a node that
//! reads ingress) admits nobody else: it names its caller, and the canister moves its counter
//! on after every admission, so it is never accepted twice.

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use crate::format::{KEY_SIZE, label};
use crate::primitives::hkdf_sha256;

/// Size of an [`AdmissionProof`] (an Ed25519 signature).
pub const ADMISSION_PROOF_SIZE: usize = 64;

/// Size of an [`AdmissionVerifier`] (an Ed25519 public key).
pub const ADMISSION_VERIFIER_SIZE: usize = 32;

/// Longest principal (or canister id) a challenge names: the IC's 29 bytes.
const MAX_PRINCIPAL_SIZE: usize = 29;

/// Which secret a device proves it knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdmissionMethod {
    /// The passphrase (through its Argon2id KEK).
    Passphrase,
    /// The 24-word recovery key.
    Recovery,
}

impl AdmissionMethod {
    fn byte(self) -> u8 {
        match self {
            AdmissionMethod::Passphrase => 1,
            AdmissionMethod::Recovery => 2,
        }
    }

    fn seed_label(self) -> &'static [u8] {
        match self {
            AdmissionMethod::Passphrase => label::ADMISSION_KEY_PASSPHRASE,
            AdmissionMethod::Recovery => label::ADMISSION_KEY_RECOVERY,
        }
    }
}

/// What a proof is bound to: the canister, the principal asking to be admitted, and the
/// canister's admission counter at the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionChallenge<'a> {
    /// The vault canister's id (raw principal bytes).
    pub canister: &'a [u8],
    /// The caller to admit (raw principal bytes).
    pub caller: &'a [u8],
    /// The canister's admission counter, as it issued it.
    pub counter: u64,
}

impl AdmissionChallenge<'_> {
    /// The signed message; `None` if a principal is longer than 29 bytes.
    pub fn message(&self, method: AdmissionMethod) -> Option<Vec<u8>> {
        if self.canister.len() > MAX_PRINCIPAL_SIZE || self.caller.len() > MAX_PRINCIPAL_SIZE {
            return None;
        }
        let mut m = Vec::with_capacity(label::ADMISSION_MESSAGE.len() + 2 + 2 + 58 + 8);
        m.extend_from_slice(label::ADMISSION_MESSAGE);
        m.push(0);
        m.push(method.byte());
        m.push(self.canister.len() as u8);
        m.extend_from_slice(self.canister);
        m.push(self.caller.len() as u8);
        m.extend_from_slice(self.caller);
        m.extend_from_slice(&self.counter.to_be_bytes());
        Some(m)
    }
}

/// The signing key that admits devices (derived; zeroized on drop by ed25519-dalek).
pub struct AdmissionKey {
    method: AdmissionMethod,
    key: SigningKey,
}

impl core::fmt::Debug for AdmissionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AdmissionKey({:?}, <redacted>)", self.method)
    }
}

impl AdmissionKey {
    /// `Ed25519(seed = HKDF-SHA256[salt = "", info = label(method)](secret))`.
    pub(crate) fn derive(secret: &[u8; KEY_SIZE], method: AdmissionMethod) -> Self {
        let seed = hkdf_sha256(&[], secret, method.seed_label());
        Self {
            method,
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// Which secret this key comes from.
    pub fn method(&self) -> AdmissionMethod {
        self.method
    }

    /// The public key the canister stores.
    pub fn verifier(&self) -> AdmissionVerifier {
        AdmissionVerifier(self.key.verifying_key().to_bytes())
    }

    /// The proof for `challenge`; `None` if a principal in it is longer than 29 bytes.
    pub fn prove(&self, challenge: &AdmissionChallenge<'_>) -> Option<AdmissionProof> {
        use ed25519_dalek::Signer;
        let message = challenge.message(self.method)?;
        Some(AdmissionProof(self.key.sign(&message).to_bytes()))
    }
}

/// An Ed25519 signature over an admission challenge (not secret: it admits one caller once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionProof(pub [u8; ADMISSION_PROOF_SIZE]);

/// The Ed25519 public key of an [`AdmissionKey`]: what the canister stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AdmissionVerifier(pub [u8; ADMISSION_VERIFIER_SIZE]);

impl AdmissionVerifier {
    /// Reads a verifier: 32 bytes that are a valid, non-small-order Ed25519 point.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; ADMISSION_VERIFIER_SIZE] = bytes.try_into().ok()?;
        let key = VerifyingKey::from_bytes(&bytes).ok()?;
        if key.is_weak() {
            return None;
        }
        Some(Self(bytes))
    }

    /// Whether `proof` is this key's signature of `challenge` for `method` (RFC 8032 with the
    /// strict checks: canonical encodings, no small-order keys).
    pub fn verify(
        &self,
        method: AdmissionMethod,
        challenge: &AdmissionChallenge<'_>,
        proof: &[u8],
    ) -> bool {
        let Ok(signature) = <[u8; ADMISSION_PROOF_SIZE]>::try_from(proof) else {
            return false;
        };
        let Some(message) = challenge.message(method) else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        key.verify_strict(&message, &Signature::from_bytes(&signature))
            .is_ok()
    }
}
