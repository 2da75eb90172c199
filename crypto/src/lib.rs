//! Vault's client-side cryptography.
//!
//! Every encrypted byte of Vault goes through this crate; `docs/FORMAT.md` specifies each of
//! them, with test vectors in `crypto/tests/vectors/`. The canister never sees a key or a
//! plaintext byte: it stores what this crate produces.
//!
//! The key hierarchy (see `docs/FORMAT.md` §2):
//!
//! ```text
//! passphrase --Argon2id--> KEK --wraps--> MasterKey <--wraps-- RecoveryKey (24 BIP39 words)
//!                                           |  ^--wraps-- PasskeyKey <--HKDF-- a passkey's PRF output
//!                                           |
//!            +------------------------------+---------------------------+
//!            | wraps                        | wraps                     | HKDF
//!      SharingSecretKey (X25519)        AlbumKey --wraps--> FileKey   DedupeKey, GrantKey
//!                                           |                  |
//!            sealed (HPKE) to a grantee ----+------------------+
//!            wrapped by a LinkKey ----------+------------------+
//!                                                              | HKDF(+salt)
//!                                              content / thumbnail / metadata streams
//! ```
//!
//! Nothing here draws randomness by itself: functions that need it take a
//! [`rand_core::CryptoRng`] from the caller. That keeps the crate free of `getrandom`,
//! so it builds for `wasm32-unknown-unknown` (browsers, canisters) unchanged.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admission;
mod dedupe;
mod error;
mod format;
mod grant;
mod ids;
mod keys;
mod link;
mod metadata;
mod passkey;
mod passphrase;
mod primitives;
mod recovery;
mod sharing;
mod wrap;

pub use admission::{
    ADMISSION_PROOF_SIZE, ADMISSION_VERIFIER_SIZE, AdmissionChallenge, AdmissionKey,
    AdmissionMethod, AdmissionProof, AdmissionVerifier,
};
pub use dedupe::{DedupeHash, DedupeHasher, DedupeKey};
pub use error::{
    DecryptError, EncryptError, GrantError, KdfParamsError, LinkError, MetadataError,
    RecoveryKeyError, ShareCodeError, UnlockError,
};
pub use format::{
    CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, FORMAT_VERSION, KEY_SIZE, NONCE_SIZE, SEALED_KEY_SIZE,
    STREAM_HEADER_SIZE, TAG_SIZE, WRAPPED_KEY_SIZE,
};
pub use grant::{
    GRANT_AUTHENTICATOR_SIZE, GrantAuthenticator, GrantKey, GrantPermission, GrantTarget,
    GrantTerms,
};
pub use ids::{AlbumId, AlbumKeyId, FileId, ID_SIZE, KeyVersion, MasterGeneration};
pub use keys::{AlbumKey, FileKey, MasterKey};
pub use link::{
    DEFAULT_LINK_PBKDF2_ITERATIONS, LinkKey, LinkPassword, LinkSecret, LinkToken, LinkTokenHash,
    MAX_LINK_PBKDF2_ITERATIONS, MIN_LINK_PBKDF2_ITERATIONS, PasswordProof, PasswordVerifier,
};
pub use metadata::{FileMetadata, GpsPosition, METADATA_VERSION};
pub use passkey::{PasskeyKey, passkey_prf_input};
pub use passphrase::{
    KdfParams, PASSPHRASE_WRAPPED_KEY_SIZE, PassphraseKek, PassphraseWrappedKey,
    UNLOCK_PARAMS_SIZE, UnlockParams, UnlockProof, UnlockVerifier,
};
pub use primitives::stream::{
    StreamCipher, StreamHeader, StreamKind, chunk_count, chunk_nonce, encrypted_chunk_len,
    encrypted_len, open_album_name, open_blob, open_link_record, seal_album_name, seal_blob,
    seal_link_record,
};
pub use recovery::RecoveryKey;
pub use sharing::{
    SealedKey, ShareCode, ShareableKey, SharingKeyPair, SharingPublicKey, SharingSecretKey,
    fingerprint_words,
};
pub use wrap::{KeyWrapper, WrappableKey, WrappedKey};

/// The random-number generator every function that needs randomness takes.
///
/// Re-exported so that callers name the same `rand_core` version as this crate.
pub use rand_core::CryptoRng;
