//! Dedupe: a keyed hash of a file's plaintext, so the canister can tell two uploads are the
//! same file without learning anything else about them.
//!
//! ```text
//! dedupe key  = HKDF-SHA256[salt = "", info = "vault/v1/dedupe"](master key)
//! dedupe hash = HMAC-SHA256(dedupe key, content)
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::format::label;
use crate::keys::{MasterKey, secret_key};
use crate::primitives::hkdf_sha256;

secret_key!(
    /// The key of a user's dedupe hashes, derived from the master key.
    pub DedupeKey
);

impl DedupeKey {
    /// The dedupe key of `master`.
    pub fn derive(master: &MasterKey) -> Self {
        Self::from_bytes(*hkdf_sha256(&[], master.expose_secret(), label::DEDUPE))
    }

    /// A hasher to feed a file's bytes to, in pieces of any size.
    pub fn hasher(&self) -> DedupeHasher {
        DedupeHasher(
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
                .expect("HMAC takes keys of any length"),
        )
    }

    /// The dedupe hash of a whole file in memory.
    pub fn hash(&self, content: &[u8]) -> DedupeHash {
        let mut hasher = self.hasher();
        hasher.update(content);
        hasher.finish()
    }
}

/// An in-progress dedupe hash (HMAC-SHA256, RFC 2104).
pub struct DedupeHasher(Hmac<Sha256>);

impl core::fmt::Debug for DedupeHasher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DedupeHasher(<redacted>)")
    }
}

impl DedupeHasher {
    /// Feeds more of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The hash of everything fed.
    pub fn finish(self) -> DedupeHash {
        DedupeHash(self.0.finalize().into_bytes().into())
    }
}

/// A dedupe hash: 32 bytes the canister may index and compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupeHash(pub [u8; 32]);
