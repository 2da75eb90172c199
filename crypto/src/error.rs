//! One error enum per operation. Every AEAD failure is the single opaque
//! [`DecryptError::DecryptionFailed`]: wrong key, flipped bit, truncation and reordering are
//! indistinguishable on purpose (no oracle).

use thiserror::Error;

/// Decrypting a stream, chunk, wrapped key or sealed key failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecryptError {
    /// The ciphertext is not authentic under this key: wrong key, altered, truncated,
    /// extended, reordered or moved from elsewhere.
    #[error("decryption failed: the data was altered or the key is wrong")]
    DecryptionFailed,
    /// The data starts with a version this build does not know.
    #[error("unsupported format version {0}: upgrade Vault to read this data")]
    UnsupportedVersion(u8),
    /// The data is not the size its format requires.
    #[error("malformed {what}: expected {expected} bytes, got {actual}")]
    WrongLength {
        /// What was being read.
        what: &'static str,
        /// The length the format requires.
        expected: usize,
        /// The length given.
        actual: usize,
    },
}

/// Encrypting a chunk was asked with input the format cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncryptError {
    /// A chunk's plaintext is larger than [`crate::CHUNK_SIZE`].
    #[error("chunk {index} has {len} bytes; at most {max} fit in one chunk")]
    ChunkTooLarge {
        /// The chunk index.
        index: u64,
        /// Its length.
        len: usize,
        /// [`crate::CHUNK_SIZE`].
        max: usize,
    },
    /// A chunk that is not the last one must be exactly [`crate::CHUNK_SIZE`] bytes.
    #[error(
        "chunk {index} is not the last chunk, so it must hold exactly {expected} bytes, not {len}"
    )]
    ShortChunk {
        /// The chunk index.
        index: u64,
        /// Its length.
        len: usize,
        /// [`crate::CHUNK_SIZE`].
        expected: usize,
    },
    /// Only an empty stream's single chunk may be empty.
    #[error("chunk {index} is empty; only the single chunk of an empty stream may be")]
    EmptyChunk {
        /// The chunk index.
        index: u64,
    },
}

/// Argon2id parameters are out of the accepted range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KdfParamsError {
    /// Weaker than the floor for new vaults (OWASP's Argon2id minimum).
    #[error(
        "Argon2id parameters m={m_kib} KiB, t={t} are weaker than the minimum \
         (m >= {min_m_kib} KiB, t >= {min_t}); choose stronger parameters"
    )]
    TooWeak {
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Minimum memory.
        min_m_kib: u32,
        /// Minimum passes.
        min_t: u32,
    },
    /// So costly that no device could unlock it (or a hostile server set them to stall us).
    #[error(
        "Argon2id parameters m={m_kib} KiB, t={t}, p={p} exceed the maximum \
         (m <= {max_m_kib} KiB, t <= {max_t}, 1 <= p <= {max_p})"
    )]
    TooCostly {
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
        /// Maximum memory.
        max_m_kib: u32,
        /// Maximum passes.
        max_t: u32,
        /// Maximum lanes.
        max_p: u32,
    },
    /// The record names a key-derivation function this build does not know.
    #[error("unknown key-derivation function id {0}: upgrade Vault to read this vault")]
    UnknownKdf(u8),
    /// Argon2 rejects the combination (memory must be at least 8 KiB per lane).
    #[error("Argon2id parameters are inconsistent: {0}")]
    Invalid(String),
}

/// Unlocking the master key with a passphrase or recovery key failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnlockError {
    /// The passphrase (or recovery key) does not open this vault.
    #[error("wrong passphrase or recovery key: try again")]
    WrongSecret,
    /// The stored record is damaged or of an unknown version.
    #[error("the stored key record is unreadable: {0}")]
    Malformed(#[from] DecryptError),
    /// The stored Argon2id parameters are out of range.
    #[error(transparent)]
    Params(#[from] KdfParamsError),
}

/// A recovery key typed by the user could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecoveryKeyError {
    /// Not 24 words from the BIP39 English list with a valid checksum.
    #[error("not a valid recovery key ({0}): it is 24 words, as shown when the vault was created")]
    Invalid(String),
}

/// A share code could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShareCodeError {
    /// It does not start with `vs1`.
    #[error("not a share code: it should start with \"vs1-\"")]
    WrongPrefix,
    /// Not valid base32 after the prefix.
    #[error("the share code contains characters that cannot appear in one: copy it again")]
    NotBase32,
    /// The checksum does not match: a typo or a truncated copy.
    #[error(
        "the share code's checksum does not match: it was mistyped or cut short; copy it again"
    )]
    BadChecksum,
    /// A share code of a newer version than this build knows.
    #[error("this share code is of version {0}, newer than this Vault: upgrade Vault")]
    UnsupportedVersion(u8),
    /// A structurally invalid share code (impossible lengths).
    #[error("the share code is malformed: {0}")]
    Malformed(&'static str),
}

/// A link, its password or its parameters could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// The URL fragment is damaged (wrong length, characters, checksum) or of an unknown version.
    #[error("this link is damaged: ask its sender for the link again")]
    DamagedFragment,
    /// PBKDF2 iterations out of the accepted range.
    #[error("link password iterations {0} out of range ({min}..={max})", min = crate::MIN_LINK_PBKDF2_ITERATIONS, max = crate::MAX_LINK_PBKDF2_ITERATIONS)]
    BadIterations(u32),
}

/// Encrypted metadata could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetadataError {
    /// Decryption failed (see [`DecryptError`]).
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// The decrypted record is not valid CBOR for a metadata record.
    #[error("metadata record is malformed: {0}")]
    Malformed(String),
    /// The record's version is newer than this build knows.
    #[error("metadata record version {0} is not supported: upgrade Vault")]
    UnsupportedVersion(u64),
}

/// A grant authenticator could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GrantError {
    /// The authenticator was not made under this owner's key for exactly these terms: the
    /// grant record was altered (its grantee's public key swapped, say) or is another vault's.
    #[error("the grant is not authentic: it is not what this vault's owner granted")]
    NotAuthentic,
    /// An authenticator of a version this build does not know.
    #[error("unsupported grant authenticator version {0}: upgrade Vault")]
    UnsupportedVersion(u8),
    /// An authenticator of the wrong size.
    #[error("malformed grant authenticator: expected {expected} bytes, got {actual}")]
    WrongLength {
        /// [`crate::GRANT_AUTHENTICATOR_SIZE`].
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A principal longer than the IC's 29 bytes.
    #[error("the {what} principal has {len} bytes; principals have at most 29")]
    PrincipalTooLong {
        /// Which principal.
        what: &'static str,
        /// Its length.
        len: usize,
    },
}
