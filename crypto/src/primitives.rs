//! Thin, named wrappers over the RustCrypto primitives the format uses.
//! No primitive is implemented here: only calls with the format's conventions.

pub(crate) mod stream;

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::DecryptError;
use crate::format::{KEY_SIZE, NONCE_SIZE, TAG_SIZE};

/// `HKDF-SHA256[salt, info](ikm)` with a 32-byte output (RFC 5869).
///
/// An empty `salt` is RFC 5869's "not provided" (HashLen zero bytes; HMAC makes the two equal).
pub(crate) fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; KEY_SIZE]> {
    let mut okm = Zeroizing::new([0u8; KEY_SIZE]);
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, okm.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    okm
}

/// `SHA-256(data)` (FIPS 180-4).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Whether `SHA-256(secret) == expected`, in constant time: how a stored verifier is checked.
pub(crate) fn sha256_matches(secret: &[u8], expected: &[u8; 32]) -> bool {
    use subtle::ConstantTimeEq;
    sha256(secret).ct_eq(expected).into()
}

/// An AES-256-GCM instance for one key (NIST SP 800-38D). Zeroizes its key schedule on drop.
pub(crate) fn aes256gcm(key: &[u8; KEY_SIZE]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

/// `AES-256-GCM-Encrypt[key, nonce, aad](buf)`: encrypts `buf` in place, returns the tag.
pub(crate) fn gcm_seal_in_place(
    aead: &Aes256Gcm,
    nonce: &[u8; NONCE_SIZE],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; TAG_SIZE] {
    aead.encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into())
        .expect("plaintexts here are far below AES-GCM's 64 GiB limit")
        .into()
}

/// `AES-256-GCM-Encrypt[key, nonce, aad](src)` written to `dst` (same length) in one pass;
/// returns the tag.
pub(crate) fn gcm_seal_into(
    aead: &Aes256Gcm,
    nonce: &[u8; NONCE_SIZE],
    src: &[u8],
    dst: &mut [u8],
) -> [u8; TAG_SIZE] {
    let buf = InOutBuf::new(src, dst).expect("callers pass equal lengths");
    aead.encrypt_inout_detached(&Nonce::from(*nonce), &[], buf)
        .expect("plaintexts here are far below AES-GCM's 64 GiB limit")
        .into()
}

/// `AES-256-GCM-Decrypt[key, nonce, aad](src, tag)` written to `dst` (same length) in one
/// pass. The tag is checked before anything is written; any failure is opaque.
pub(crate) fn gcm_open_into(
    aead: &Aes256Gcm,
    nonce: &[u8; NONCE_SIZE],
    src: &[u8],
    dst: &mut [u8],
    tag: &[u8; TAG_SIZE],
) -> Result<(), DecryptError> {
    let buf = InOutBuf::new(src, dst).expect("callers pass equal lengths");
    aead.decrypt_inout_detached(&Nonce::from(*nonce), &[], buf, &Tag::from(*tag))
        .map_err(|_| DecryptError::DecryptionFailed)
}

/// `AES-256-GCM-Decrypt[key, nonce, aad](buf, tag)` in place; any failure is opaque.
pub(crate) fn gcm_open_in_place(
    aead: &Aes256Gcm,
    nonce: &[u8; NONCE_SIZE],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_SIZE],
) -> Result<(), DecryptError> {
    aead.decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into(), &Tag::from(*tag))
        .map_err(|_| DecryptError::DecryptionFailed)
}
