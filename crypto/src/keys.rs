//! Symmetric key types. Each is its own type, so that one kind cannot be passed as another;
//! all zeroize on drop and print as `Name(<redacted>)`.

use rand_core::CryptoRng;

/// Defines a 256-bit secret key type: random generation, zeroize on drop, redacted `Debug`.
macro_rules! secret_key {
    ($(#[$doc:meta])* $vis:vis $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
        $vis struct $name([u8; $crate::format::KEY_SIZE]);

        impl $name {
            /// A fresh random key.
            pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
                let mut key = Self([0u8; $crate::format::KEY_SIZE]);
                rng.fill_bytes(&mut key.0);
                key
            }

            /// Takes a key from its raw bytes (from storage, or a test vector).
            pub fn from_bytes(bytes: [u8; $crate::format::KEY_SIZE]) -> Self {
                Self(bytes)
            }

            /// The raw key bytes. Handle with care: anything holding them must zeroize them.
            pub fn expose_secret(&self) -> &[u8; $crate::format::KEY_SIZE] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}
pub(crate) use secret_key;

secret_key!(
    /// The root of a user's keys. Never leaves the client unwrapped.
    pub MasterKey
);
secret_key!(
    /// One per album (and per rotation of it); wraps the keys of the album's files.
    pub AlbumKey
);
secret_key!(
    /// One per file; the content, thumbnail and metadata stream keys are derived from it.
    ///
    /// A file's bytes are immutable: an edit is a new file with a new key. Each stream is
    /// still salted (see [`crate::StreamHeader`]), so re-encrypting under the same key is safe.
    pub FileKey
);

/// Fills a fresh 32-byte array from `rng` (a salt or secret the caller zeroizes if needed).
pub(crate) fn random_array<const N: usize>(rng: &mut impl CryptoRng) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}
