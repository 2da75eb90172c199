//! Key wrapping: one 256-bit key encrypted under another with AES-256-GCM.
//!
//! ```text
//! WrappedKey = 0x01 || nonce (12, random) || AES-256-GCM[kek, nonce, aad](key) (32 + 16)
//! aad        = "vault/v1/wrap/" || kind || 0x00 || id
//! ```
//!
//! The AAD names what the wrapped key is and which one, so a file key cannot be unwrapped as
//! an album key, nor a file's key moved onto another file.

use core::fmt;

use rand_core::CryptoRng;

use crate::error::DecryptError;
use crate::format::{
    FORMAT_VERSION, KEY_SIZE, NONCE_SIZE, TAG_SIZE, WRAPPED_KEY_SIZE, check_version, label,
};
use crate::ids::{AlbumKeyId, FileId, MasterGeneration};
use crate::keys::{AlbumKey, FileKey, MasterKey, random_array};
use crate::primitives::{aes256gcm, gcm_open_in_place, gcm_seal_in_place};
use crate::sharing::{SharingPublicKey, SharingSecretKey};

/// A wrapped key: [`WRAPPED_KEY_SIZE`] bytes, safe to store anywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey([u8; WRAPPED_KEY_SIZE]);

impl WrappedKey {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8; WRAPPED_KEY_SIZE] {
        &self.0
    }

    /// Reads a wrapped key, checking its version and then its length (not its authenticity).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecryptError> {
        check_version(bytes)?;
        let bytes: [u8; WRAPPED_KEY_SIZE] =
            bytes.try_into().map_err(|_| DecryptError::WrongLength {
                what: "wrapped key",
                expected: WRAPPED_KEY_SIZE,
                actual: bytes.len(),
            })?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappedKey({} bytes)", self.0.len())
    }
}

/// The AAD of a wrapped key of `kind` with `id`.
fn wrap_aad(kind: &str, id: &[u8]) -> Vec<u8> {
    debug_assert!(!kind.as_bytes().contains(&0), "kinds contain no NUL");
    [label::WRAP_PREFIX, kind.as_bytes(), &[0], id].concat()
}

/// Wraps `key` under `kek`, binding `kind` and `id`.
pub(crate) fn wrap_raw(
    kek: &[u8; KEY_SIZE],
    key: &[u8; KEY_SIZE],
    kind: &str,
    id: &[u8],
    rng: &mut impl CryptoRng,
) -> WrappedKey {
    let nonce: [u8; NONCE_SIZE] = random_array(rng);
    let mut out = [0u8; WRAPPED_KEY_SIZE];
    out[0] = FORMAT_VERSION;
    out[1..1 + NONCE_SIZE].copy_from_slice(&nonce);
    let body = &mut out[1 + NONCE_SIZE..1 + NONCE_SIZE + KEY_SIZE];
    body.copy_from_slice(key);
    let tag = gcm_seal_in_place(&aes256gcm(kek), &nonce, &wrap_aad(kind, id), body);
    out[1 + NONCE_SIZE + KEY_SIZE..].copy_from_slice(&tag);
    WrappedKey(out)
}

/// Unwraps a key wrapped by [`wrap_raw`] with the same `kek`, `kind` and `id`.
pub(crate) fn unwrap_raw(
    kek: &[u8; KEY_SIZE],
    wrapped: &WrappedKey,
    kind: &str,
    id: &[u8],
) -> Result<zeroize::Zeroizing<[u8; KEY_SIZE]>, DecryptError> {
    let nonce: &[u8; NONCE_SIZE] = wrapped.0[1..1 + NONCE_SIZE]
        .try_into()
        .expect("fixed layout");
    let tag: &[u8; TAG_SIZE] = wrapped.0[1 + NONCE_SIZE + KEY_SIZE..]
        .try_into()
        .expect("fixed layout");
    let mut key = zeroize::Zeroizing::new([0u8; KEY_SIZE]);
    key.copy_from_slice(&wrapped.0[1 + NONCE_SIZE..1 + NONCE_SIZE + KEY_SIZE]);
    gcm_open_in_place(
        &aes256gcm(kek),
        nonce,
        &wrap_aad(kind, id),
        key.as_mut(),
        tag,
    )?;
    Ok(key)
}

/// A key that can be wrapped: it names its kind, and which one it is.
pub trait WrappableKey: Sized + sealed::Sealed {
    /// What identifies one key of this kind (bound into the AAD).
    type Id;
    /// The kind's name in the AAD.
    #[doc(hidden)]
    const KIND: &'static str;
    /// The id's bytes in the AAD.
    #[doc(hidden)]
    fn id_bytes(id: &Self::Id) -> Vec<u8>;
    #[doc(hidden)]
    fn raw(&self) -> &[u8; KEY_SIZE];
    #[doc(hidden)]
    fn from_raw(raw: [u8; KEY_SIZE]) -> Self;
}

impl WrappableKey for AlbumKey {
    type Id = AlbumKeyId;
    const KIND: &'static str = label::WRAP_ALBUM;
    fn id_bytes(id: &AlbumKeyId) -> Vec<u8> {
        id.to_bytes().to_vec()
    }
    fn raw(&self) -> &[u8; KEY_SIZE] {
        self.expose_secret()
    }
    fn from_raw(raw: [u8; KEY_SIZE]) -> Self {
        Self::from_bytes(raw)
    }
}

impl WrappableKey for FileKey {
    type Id = FileId;
    const KIND: &'static str = label::WRAP_FILE;
    fn id_bytes(id: &FileId) -> Vec<u8> {
        id.0.to_vec()
    }
    fn raw(&self) -> &[u8; KEY_SIZE] {
        self.expose_secret()
    }
    fn from_raw(raw: [u8; KEY_SIZE]) -> Self {
        Self::from_bytes(raw)
    }
}

/// A master key of an earlier generation, wrapped by the next generation's (docs/FORMAT.md §3):
/// the chain that lets the owner open what was wrapped before a rotation. The id is the
/// wrapped key's own generation, always 4 bytes (`u32be`).
impl WrappableKey for MasterKey {
    type Id = MasterGeneration;
    const KIND: &'static str = label::WRAP_MASTER_PREVIOUS;
    fn id_bytes(id: &MasterGeneration) -> Vec<u8> {
        id.0.to_be_bytes().to_vec()
    }
    fn raw(&self) -> &[u8; KEY_SIZE] {
        self.expose_secret()
    }
    fn from_raw(raw: [u8; KEY_SIZE]) -> Self {
        Self::from_bytes(raw)
    }
}

/// The sharing secret key is bound to its public key: it cannot be swapped for another pair's.
impl WrappableKey for SharingSecretKey {
    type Id = SharingPublicKey;
    const KIND: &'static str = label::WRAP_SHARING_SECRET;
    fn id_bytes(id: &SharingPublicKey) -> Vec<u8> {
        id.as_bytes().to_vec()
    }
    fn raw(&self) -> &[u8; KEY_SIZE] {
        self.expose_secret()
    }
    fn from_raw(raw: [u8; KEY_SIZE]) -> Self {
        Self::from_bytes(raw)
    }
}

/// A key that wraps other keys: the master key (album, file and sharing keys), an album key
/// (its files' keys), a link key (the shared album or file key).
pub trait KeyWrapper: sealed::Sealed {
    #[doc(hidden)]
    fn kek(&self) -> &[u8; KEY_SIZE];

    /// Wraps `key`, binding its kind and `id`.
    fn wrap_key<K: WrappableKey>(
        &self,
        key: &K,
        id: &K::Id,
        rng: &mut impl CryptoRng,
    ) -> WrappedKey {
        wrap_raw(self.kek(), key.raw(), K::KIND, &K::id_bytes(id), rng)
    }

    /// Unwraps a key of kind `K` with `id`; fails unless it was wrapped by this key as that
    /// kind with that id.
    fn unwrap_key<K: WrappableKey>(
        &self,
        wrapped: &WrappedKey,
        id: &K::Id,
    ) -> Result<K, DecryptError> {
        let raw = unwrap_raw(self.kek(), wrapped, K::KIND, &K::id_bytes(id))?;
        Ok(K::from_raw(*raw))
    }
}

impl KeyWrapper for MasterKey {
    fn kek(&self) -> &[u8; KEY_SIZE] {
        self.expose_secret()
    }
}

impl KeyWrapper for AlbumKey {
    fn kek(&self) -> &[u8; KEY_SIZE] {
        self.expose_secret()
    }
}

impl KeyWrapper for crate::link::LinkKey {
    fn kek(&self) -> &[u8; KEY_SIZE] {
        self.expose_secret()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::MasterKey {}
    impl Sealed for crate::AlbumKey {}
    impl Sealed for crate::FileKey {}
    impl Sealed for crate::SharingSecretKey {}
    impl Sealed for crate::LinkKey {}
}
