//! Sharing links. The secret lives in the URL fragment, which browsers never send to a server.
//!
//! ```text
//! fragment = base64url-nopad(0x01 || secret (32) || SHA-256(0x01 || secret)[..3])   (48 chars)
//! token    = HKDF-SHA256[salt = "", info = "vault/v1/link/token"](secret)   sent with each read
//! token hash = SHA-256(token)                                               what the canister stores
//! with a password (iterations n):
//!   pw salt  = HKDF-SHA256[salt = "", info = "vault/v1/link/password-salt"](secret)[..16]
//!   pw key   = PBKDF2-HMAC-SHA256(NFC(password), pw salt, n, 32)
//!   proof    = HKDF-SHA256[salt = "", info = "vault/v1/link/password-proof"](pw key)   sent with each read
//!   verifier = SHA-256(proof)                                               what the canister stores
//! link key = HKDF-SHA256[salt = pw key or "", info = "vault/v1/link/key"](secret)
//! the link key wraps the shared album or file key (`WrappedKey`, same AAD as any wrap of it)
//! ```
//!
//! Every step is WebCrypto (SHA-256, HKDF, PBKDF2, AES-GCM), so a browser can open a link.
//! Threat model: `docs/FORMAT.md` §8.

use data_encoding::BASE64URL_NOPAD;
use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::error::LinkError;
use crate::format::{FORMAT_VERSION, KEY_SIZE, label};
use crate::keys::secret_key;
use crate::primitives::{hkdf_sha256, sha256, sha256_matches};

/// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
pub const DEFAULT_LINK_PBKDF2_ITERATIONS: u32 = 600_000;
/// Fewest iterations a link may use; below this a guessed password costs too little.
pub const MIN_LINK_PBKDF2_ITERATIONS: u32 = 100_000;
/// Most iterations a link may ask of a recipient's browser (a hostile canister could stall it).
pub const MAX_LINK_PBKDF2_ITERATIONS: u32 = 10_000_000;

const CHECKSUM_SIZE: usize = 3;
const FRAGMENT_BYTES: usize = 1 + KEY_SIZE + CHECKSUM_SIZE;
const PASSWORD_SALT_SIZE: usize = 16;

secret_key!(
    /// The 32 random bytes in a link's URL fragment: everything needed to open the link.
    pub LinkSecret
);
secret_key!(
    /// The key derived from a link secret (and password) that wraps the shared key.
    pub LinkKey
);
secret_key!(
    /// The access token a link holder presents with each read; the canister keeps its hash.
    pub LinkToken
);
secret_key!(
    /// Proof that a link holder knows the link's password; the canister keeps its hash.
    pub PasswordProof
);

/// `SHA-256(token)`: how the canister recognises a link without being able to use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkTokenHash(pub [u8; 32]);

/// `SHA-256(password proof)`: how the canister checks a link's password without learning it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PasswordVerifier(pub [u8; 32]);

impl LinkToken {
    /// The hash the canister stores and looks links up by.
    pub fn hash(&self) -> LinkTokenHash {
        LinkTokenHash(sha256(&self.0))
    }
}

impl PasswordProof {
    /// The verifier the canister stores.
    pub fn verifier(&self) -> PasswordVerifier {
        PasswordVerifier(sha256(&self.0))
    }

    /// Whether this proof matches `verifier` (constant time).
    pub fn matches(&self, verifier: &PasswordVerifier) -> bool {
        sha256_matches(&self.0, &verifier.0)
    }
}

impl LinkToken {
    /// Whether this token matches `hash` (constant time).
    pub fn matches(&self, hash: &LinkTokenHash) -> bool {
        sha256_matches(&self.0, &hash.0)
    }
}

/// A link's password with its PBKDF2 iteration count, stretched once.
pub struct LinkPassword {
    key: Zeroizing<[u8; KEY_SIZE]>,
}

impl core::fmt::Debug for LinkPassword {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LinkPassword(<redacted>)")
    }
}

impl LinkPassword {
    /// Stretches `password` for the link `secret` (`PBKDF2-HMAC-SHA256`, RFC 8018) —
    /// deliberately slow: `iterations` HMACs.
    pub fn derive(secret: &LinkSecret, password: &str, iterations: u32) -> Result<Self, LinkError> {
        if !(MIN_LINK_PBKDF2_ITERATIONS..=MAX_LINK_PBKDF2_ITERATIONS).contains(&iterations) {
            return Err(LinkError::BadIterations(iterations));
        }
        let salt = hkdf_sha256(&[], &secret.0, label::LINK_PASSWORD_SALT);
        let normalized = Zeroizing::new(password.nfc().collect::<String>());
        let mut key = Zeroizing::new([0u8; KEY_SIZE]);
        pbkdf2_hmac::<Sha256>(
            normalized.as_bytes(),
            &salt[..PASSWORD_SALT_SIZE],
            iterations,
            key.as_mut(),
        );
        Ok(Self { key })
    }

    /// The proof a holder sends with each read.
    pub fn proof(&self) -> PasswordProof {
        PasswordProof::from_bytes(*hkdf_sha256(
            &[],
            self.key.as_ref(),
            label::LINK_PASSWORD_PROOF,
        ))
    }
}

impl LinkSecret {
    /// The URL fragment (without `#`): 48 base64url characters.
    pub fn to_fragment(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; FRAGMENT_BYTES]);
        bytes[0] = FORMAT_VERSION;
        bytes[1..1 + KEY_SIZE].copy_from_slice(&self.0);
        let checksum = sha256(&bytes[..1 + KEY_SIZE]);
        bytes[1 + KEY_SIZE..].copy_from_slice(&checksum[..CHECKSUM_SIZE]);
        Zeroizing::new(BASE64URL_NOPAD.encode(bytes.as_ref()))
    }

    /// Reads a fragment (with or without the leading `#`); a damaged one is refused.
    pub fn from_fragment(fragment: &str) -> Result<Self, LinkError> {
        let fragment = fragment.trim();
        // FORMAT.md §9.1: one leading `#`, not more.
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let bytes = Zeroizing::new(
            BASE64URL_NOPAD
                .decode(fragment.as_bytes())
                .map_err(|_| LinkError::DamagedFragment)?,
        );
        if bytes.len() != FRAGMENT_BYTES || bytes[0] != FORMAT_VERSION {
            return Err(LinkError::DamagedFragment);
        }
        if sha256(&bytes[..1 + KEY_SIZE])[..CHECKSUM_SIZE] != bytes[1 + KEY_SIZE..] {
            return Err(LinkError::DamagedFragment);
        }
        Ok(Self(
            bytes[1..1 + KEY_SIZE]
                .try_into()
                .expect("length checked above"),
        ))
    }

    /// The access token.
    pub fn token(&self) -> LinkToken {
        LinkToken::from_bytes(*hkdf_sha256(&[], &self.0, label::LINK_TOKEN))
    }

    /// The link key, from the secret and the password (if the link has one).
    pub fn link_key(&self, password: Option<&LinkPassword>) -> LinkKey {
        let salt: &[u8] = password.map_or(&[], |p| p.key.as_ref());
        LinkKey::from_bytes(*hkdf_sha256(salt, &self.0, label::LINK_KEY))
    }
}
