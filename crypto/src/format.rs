//! Sizes and constants of the encrypted formats (`docs/FORMAT.md` §1).

/// Version byte that starts every binary structure of this format.
pub const FORMAT_VERSION: u8 = 1;

/// FORMAT.md §1: a reader checks the version byte before the size, so that a structure of a
/// newer version (which may have another size) says so. Empty input has no version byte: its
/// size is what is wrong.
pub(crate) fn check_version(bytes: &[u8]) -> Result<(), crate::DecryptError> {
    match bytes.first() {
        Some(&version) if version != FORMAT_VERSION => {
            Err(crate::DecryptError::UnsupportedVersion(version))
        }
        _ => Ok(()),
    }
}

/// Size of every symmetric key: AES-256 keys and the keys they are derived from.
pub const KEY_SIZE: usize = 32;

/// AES-256-GCM nonce size.
pub const NONCE_SIZE: usize = 12;

/// AES-256-GCM authentication tag size.
pub const TAG_SIZE: usize = 16;

/// Plaintext bytes per STREAM chunk: 1 MiB.
///
/// An encrypted chunk (1 MiB + 16) travels in one `put_chunk` call, whose ingress message the
/// IC caps at 2 MiB: a 1 MiB chunk leaves ample room for the Candid envelope and request
/// fields, while halving the number of calls (and per-call overheads) against 512 KiB.
pub const CHUNK_SIZE: usize = 1 << 20;

/// Size of an encrypted full chunk: [`CHUNK_SIZE`] plus the tag.
pub const ENCRYPTED_CHUNK_SIZE: usize = CHUNK_SIZE + TAG_SIZE;

/// Size of a stream header: version byte + 16-byte salt.
pub const STREAM_HEADER_SIZE: usize = 1 + STREAM_SALT_SIZE;

/// Size of the random salt in a stream header.
pub(crate) const STREAM_SALT_SIZE: usize = 16;

/// Size of a [`crate::WrappedKey`]: version, nonce, encrypted key, tag.
pub const WRAPPED_KEY_SIZE: usize = 1 + NONCE_SIZE + KEY_SIZE + TAG_SIZE;

/// Size of an X25519 public key, and of an HPKE encapsulated key for DHKEM(X25519).
pub(crate) const X25519_KEY_SIZE: usize = 32;

/// Size of a [`crate::SealedKey`]: version, HPKE `enc`, encrypted key, tag.
pub const SEALED_KEY_SIZE: usize = 1 + X25519_KEY_SIZE + KEY_SIZE + TAG_SIZE;

/// Labels: every HKDF `info`, AAD prefix and HPKE `info` prefix of the format, in one place
/// so that no two uses share one.
pub(crate) mod label {
    pub const STREAM_CONTENT: &[u8] = b"vault/v1/stream/content";
    pub const STREAM_THUMBNAIL: &[u8] = b"vault/v1/stream/thumbnail";
    pub const STREAM_METADATA: &[u8] = b"vault/v1/stream/metadata";
    pub const STREAM_ALBUM_NAME: &[u8] = b"vault/v1/stream/album-name";
    pub const STREAM_LINK_RECORD: &[u8] = b"vault/v1/stream/link-record";
    pub const DEDUPE: &[u8] = b"vault/v1/dedupe";
    pub const GRANT: &[u8] = b"vault/v1/grant";
    pub const WRAP_PREFIX: &[u8] = b"vault/v1/wrap/";
    pub const WRAP_MASTER_PASSPHRASE: &str = "master-key/passphrase";
    pub const WRAP_MASTER_RECOVERY: &str = "master-key/recovery";
    pub const WRAP_MASTER_PREVIOUS: &str = "master-key/previous";
    pub const WRAP_MASTER_PASSKEY: &str = "master-key/passkey";
    pub const PASSKEY_PRF_INPUT: &[u8] = b"vault/v1/passkey/prf-input";
    pub const PASSKEY_KEY: &[u8] = b"vault/v1/passkey/key";
    pub const WRAP_SHARING_SECRET: &str = "sharing-secret-key";
    pub const WRAP_ALBUM: &str = "album-key";
    pub const WRAP_FILE: &str = "file-key";
    pub const SHARE: &[u8] = b"vault/v1/share";
    pub const FINGERPRINT: &[u8] = b"vault/v1/fingerprint";
    pub const UNLOCK_PROOF_PASSPHRASE: &[u8] = b"vault/v1/unlock-proof/passphrase";
    pub const UNLOCK_PROOF_RECOVERY: &[u8] = b"vault/v1/unlock-proof/recovery";
    pub const ADMISSION_KEY_PASSPHRASE: &[u8] = b"vault/v2/admission-key/passphrase";
    pub const ADMISSION_KEY_RECOVERY: &[u8] = b"vault/v2/admission-key/recovery";
    pub const ADMISSION_MESSAGE: &[u8] = b"vault/v2/admission";
    pub const LINK_TOKEN: &[u8] = b"vault/v1/link/token";
    pub const LINK_KEY: &[u8] = b"vault/v1/link/key";
    pub const LINK_PASSWORD_SALT: &[u8] = b"vault/v1/link/password-salt";
    pub const LINK_PASSWORD_PROOF: &[u8] = b"vault/v1/link/password-proof";
}
