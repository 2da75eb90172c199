//! STREAM (Hoang, Reyhanitabar, Rogaway, Vizár 2015, as in age's payload) over AES-256-GCM.
//!
//! ```text
//! stream key = HKDF-SHA256[salt = header.salt, info = label](file key)
//! nonce_i    = i as 11-byte big-endian || (0x01 if chunk i is the last else 0x00)
//! c_i        = AES-256-GCM[stream key, nonce_i, aad = ""](p_i)        (ciphertext || tag)
//! ```
//!
//! Each chunk's index and last flag are authenticated through its nonce, so reordering,
//! truncation (dropping the final chunk), extension (data after it) and swapping chunks
//! between streams (different keys) all fail as [`DecryptError::DecryptionFailed`]. Chunks
//! are independent: any one decrypts alone (random access), and all encrypt in parallel.

use aes_gcm::Aes256Gcm;
use rand_core::CryptoRng;

use crate::error::{DecryptError, EncryptError};
use crate::format::{
    CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, FORMAT_VERSION, KEY_SIZE, NONCE_SIZE, STREAM_HEADER_SIZE,
    STREAM_SALT_SIZE, TAG_SIZE, check_version, label,
};
use crate::keys::{FileKey, random_array};
use crate::primitives::{
    aes256gcm, gcm_open_in_place, gcm_open_into, gcm_seal_in_place, gcm_seal_into, hkdf_sha256,
};

/// Which of a file's streams. Each has its own label, hence its own key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// The original file's bytes.
    Content,
    /// The preview image (a JPEG of at most 720 px on its long side).
    Thumbnail,
    /// The [`crate::FileMetadata`] record.
    Metadata,
    /// An album's name (UTF-8), under the album key: [`seal_album_name`].
    AlbumName,
    /// The owner's record of a link (its secret, key and label), under the master key:
    /// [`seal_link_record`].
    LinkRecord,
}

impl StreamKind {
    fn label(self) -> &'static [u8] {
        match self {
            StreamKind::Content => label::STREAM_CONTENT,
            StreamKind::Thumbnail => label::STREAM_THUMBNAIL,
            StreamKind::Metadata => label::STREAM_METADATA,
            StreamKind::AlbumName => label::STREAM_ALBUM_NAME,
            StreamKind::LinkRecord => label::STREAM_LINK_RECORD,
        }
    }
}

/// The 17 bytes that start a stream: version `0x01` and a 16-byte random salt.
///
/// The salt makes every encryption use a fresh stream key even under the same file key and
/// label, so re-encrypting a file's metadata (a rename, a corrected date) or a regenerated
/// thumbnail can never reuse an AES-GCM nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamHeader {
    salt: [u8; STREAM_SALT_SIZE],
}

impl StreamHeader {
    /// A header with a fresh random salt.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self {
            salt: random_array(rng),
        }
    }

    /// The header's bytes: `0x01 || salt`.
    pub fn to_bytes(&self) -> [u8; STREAM_HEADER_SIZE] {
        let mut out = [0u8; STREAM_HEADER_SIZE];
        out[0] = FORMAT_VERSION;
        out[1..].copy_from_slice(&self.salt);
        out
    }

    /// Reads a header from exactly [`STREAM_HEADER_SIZE`] bytes, checking its version first.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecryptError> {
        check_version(bytes)?;
        if bytes.len() != STREAM_HEADER_SIZE {
            return Err(DecryptError::WrongLength {
                what: "stream header",
                expected: STREAM_HEADER_SIZE,
                actual: bytes.len(),
            });
        }
        Ok(Self {
            salt: bytes[1..].try_into().expect("length checked above"),
        })
    }
}

/// Number of chunks a plaintext of `len` bytes encrypts to: `max(1, ceil(len / CHUNK_SIZE))`.
pub fn chunk_count(len: u64) -> u64 {
    len.div_ceil(CHUNK_SIZE as u64).max(1)
}

/// Size of encrypted chunk `index` of a plaintext of `len` bytes: [`ENCRYPTED_CHUNK_SIZE`]
/// but for the last, which is what is left and its tag; `None` past the last chunk.
pub fn encrypted_chunk_len(len: u64, index: u64) -> Option<u64> {
    let count = chunk_count(len);
    match (index + 1).cmp(&count) {
        core::cmp::Ordering::Less => Some(ENCRYPTED_CHUNK_SIZE as u64),
        core::cmp::Ordering::Equal => Some(len - index * CHUNK_SIZE as u64 + TAG_SIZE as u64),
        core::cmp::Ordering::Greater => None,
    }
}

/// Size of the encrypted chunks (without the header) of a plaintext of `len` bytes.
pub fn encrypted_len(len: u64) -> u64 {
    len + chunk_count(len) * TAG_SIZE as u64
}

/// `nonce_i = i (11 bytes, big-endian) || last flag`: chunk `index`'s AES-256-GCM nonce.
pub fn chunk_nonce(index: u64, last: bool) -> [u8; NONCE_SIZE] {
    let mut nonce = [0u8; NONCE_SIZE];
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce
}

/// `stream key = HKDF-SHA256[salt = header.salt, info = label](key)`.
fn stream_key(
    key: &[u8; KEY_SIZE],
    kind: StreamKind,
    header: &StreamHeader,
) -> zeroize::Zeroizing<[u8; KEY_SIZE]> {
    hkdf_sha256(&header.salt, key, kind.label())
}

/// The cipher of one stream: its derived key, ready to encrypt or decrypt chunks.
///
/// `Sync`, so chunks can be processed from many threads at once.
pub struct StreamCipher {
    aead: Aes256Gcm,
}

impl core::fmt::Debug for StreamCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StreamCipher(<redacted>)")
    }
}

impl StreamCipher {
    /// Derives the stream key of `kind` for the stream that starts with `header`.
    pub fn new(file_key: &FileKey, kind: StreamKind, header: &StreamHeader) -> Self {
        Self::from_key_bytes(file_key.expose_secret(), kind, header)
    }

    /// The stream key of `kind` derived from any 32-byte key (an album key for album names,
    /// the master key for link labels).
    fn from_key_bytes(key: &[u8; KEY_SIZE], kind: StreamKind, header: &StreamHeader) -> Self {
        Self {
            aead: aes256gcm(&stream_key(key, kind, header)),
        }
    }

    /// The stream key itself, for a platform's own AES-256-GCM (a browser's WebCrypto: native
    /// code, off the page's thread). Chunk `i` is then AES-256-GCM under it with
    /// [`chunk_nonce`]`(i, last)` and no associated data, after [`Self::check_chunk`]:
    /// exactly what [`Self::encrypt_chunk`] makes.
    pub fn derive_key(
        file_key: &FileKey,
        kind: StreamKind,
        header: &StreamHeader,
    ) -> zeroize::Zeroizing<[u8; KEY_SIZE]> {
        stream_key(file_key.expose_secret(), kind, header)
    }

    /// Refuses a chunk no stream has: a chunk that is not `last` must hold exactly
    /// [`CHUNK_SIZE`] bytes; the last one 1 to [`CHUNK_SIZE`] bytes, or 0 when it is the only
    /// chunk (an empty stream).
    pub fn check_chunk(index: u64, last: bool, len: usize) -> Result<(), EncryptError> {
        if len > CHUNK_SIZE {
            return Err(EncryptError::ChunkTooLarge {
                index,
                len,
                max: CHUNK_SIZE,
            });
        }
        if !last && len != CHUNK_SIZE {
            return Err(EncryptError::ShortChunk {
                index,
                len,
                expected: CHUNK_SIZE,
            });
        }
        if len == 0 && index != 0 {
            return Err(EncryptError::EmptyChunk { index });
        }
        Ok(())
    }

    /// Encrypts chunk `index` in place and appends its tag. Allocate `chunk` with capacity
    /// [`ENCRYPTED_CHUNK_SIZE`] so the tag fits without reallocating. The chunk must pass
    /// [`Self::check_chunk`].
    pub fn encrypt_chunk(
        &self,
        index: u64,
        last: bool,
        chunk: &mut Vec<u8>,
    ) -> Result<(), EncryptError> {
        Self::check_chunk(index, last, chunk.len())?;
        let tag = gcm_seal_in_place(&self.aead, &chunk_nonce(index, last), &[], chunk);
        chunk.extend_from_slice(&tag);
        Ok(())
    }

    /// Decrypts chunk `index` in place (removing its tag). `last` says whether the caller
    /// expects it to be the stream's final chunk: a chunk decrypts only at its true position.
    pub fn decrypt_chunk(
        &self,
        index: u64,
        last: bool,
        chunk: &mut Vec<u8>,
    ) -> Result<(), DecryptError> {
        let plain_len = chunk_plain_len(index, last, chunk.len())?;
        let (body, tag) = chunk.split_at_mut(plain_len);
        let tag: &[u8; TAG_SIZE] = (&*tag).try_into().expect("split leaves exactly the tag");
        gcm_open_in_place(&self.aead, &chunk_nonce(index, last), &[], body, tag)?;
        chunk.truncate(plain_len);
        Ok(())
    }

    /// Encrypts a whole plaintext into its concatenated chunks (no header).
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encrypt_into(plaintext, &mut out);
        out
    }

    /// [`Self::encrypt`] into `out`, resized to [`encrypted_len`]: one pass from the
    /// plaintext to the output, and no allocation when `out` is reused at the same size.
    pub fn encrypt_into(&self, plaintext: &[u8], out: &mut Vec<u8>) {
        let count = chunk_count(plaintext.len() as u64);
        out.resize(encrypted_len(plaintext.len() as u64) as usize, 0);
        for ((index, src), dst) in
            chunks_of(plaintext, count).zip(out.chunks_mut(ENCRYPTED_CHUNK_SIZE))
        {
            self.seal_chunk_into(index, index + 1 == count, src, dst);
        }
    }

    /// Decrypts concatenated chunks (no header) into the plaintext.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let mut out = Vec::new();
        self.decrypt_into(ciphertext, &mut out)?;
        Ok(out)
    }

    /// [`Self::decrypt`] into `out`, resized to the plaintext's length. On failure `out` is
    /// emptied: no unauthenticated plaintext is left behind.
    pub fn decrypt_into(&self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<(), DecryptError> {
        let result = self.decrypt_into_inner(ciphertext, out);
        if result.is_err() {
            out.clear();
        }
        result
    }

    fn decrypt_into_inner(&self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<(), DecryptError> {
        let count = encrypted_chunk_count(ciphertext.len())?;
        out.resize(ciphertext.len() - count as usize * TAG_SIZE, 0);
        let dsts = out
            .chunks_mut(CHUNK_SIZE)
            .chain(core::iter::once(&mut [][..]));
        for (index, (src, dst)) in ciphertext
            .chunks(ENCRYPTED_CHUNK_SIZE)
            .zip(dsts)
            .enumerate()
        {
            let index = index as u64;
            self.open_chunk_into(index, index + 1 == count, src, dst)?;
        }
        Ok(())
    }

    /// Seals plaintext chunk `src` into `dst` (`src.len() + TAG_SIZE` bytes).
    fn seal_chunk_into(&self, index: u64, last: bool, src: &[u8], dst: &mut [u8]) {
        let (body, tag) = dst.split_at_mut(src.len());
        tag.copy_from_slice(&gcm_seal_into(
            &self.aead,
            &chunk_nonce(index, last),
            src,
            body,
        ));
    }

    /// Opens encrypted chunk `src` into `dst` (its plaintext length), checking its layout.
    fn open_chunk_into(
        &self,
        index: u64,
        last: bool,
        src: &[u8],
        dst: &mut [u8],
    ) -> Result<(), DecryptError> {
        let len = chunk_plain_len(index, last, src.len())?;
        let (body, tag) = src.split_at(len);
        let tag: &[u8; TAG_SIZE] = tag.try_into().expect("split leaves exactly the tag");
        gcm_open_into(&self.aead, &chunk_nonce(index, last), body, dst, tag)
    }

    /// [`Self::encrypt`], with chunks encrypted on all cores.
    #[cfg(feature = "parallel")]
    pub fn encrypt_parallel(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encrypt_parallel_into(plaintext, &mut out);
        out
    }

    /// [`Self::encrypt_into`], with chunks encrypted on all cores.
    #[cfg(feature = "parallel")]
    pub fn encrypt_parallel_into(&self, plaintext: &[u8], out: &mut Vec<u8>) {
        use rayon::prelude::*;
        let count = chunk_count(plaintext.len() as u64);
        out.resize(encrypted_len(plaintext.len() as u64) as usize, 0);
        out.par_chunks_mut(ENCRYPTED_CHUNK_SIZE)
            .zip(
                plaintext
                    .par_chunks(CHUNK_SIZE)
                    .chain(rayon::iter::once(&[][..])),
            )
            .enumerate()
            .for_each(|(index, (dst, src))| {
                let index = index as u64;
                self.seal_chunk_into(index, index + 1 == count, src, dst);
            });
    }

    /// [`Self::decrypt`], with chunks decrypted on all cores.
    #[cfg(feature = "parallel")]
    pub fn decrypt_parallel(&self, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let mut out = Vec::new();
        self.decrypt_parallel_into(ciphertext, &mut out)?;
        Ok(out)
    }

    /// [`Self::decrypt_into`], with chunks decrypted on all cores. On failure `out` is emptied.
    #[cfg(feature = "parallel")]
    pub fn decrypt_parallel_into(
        &self,
        ciphertext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), DecryptError> {
        use rayon::prelude::*;
        let count = encrypted_chunk_count(ciphertext.len())?;
        out.resize(ciphertext.len() - count as usize * TAG_SIZE, 0);
        let result = out
            .par_chunks_mut(CHUNK_SIZE)
            .chain(rayon::iter::once(&mut [][..]))
            .zip(ciphertext.par_chunks(ENCRYPTED_CHUNK_SIZE))
            .enumerate()
            .try_for_each(|(index, (dst, src))| {
                let index = index as u64;
                self.open_chunk_into(index, index + 1 == count, src, dst)
            });
        if result.is_err() {
            out.clear();
        }
        result
    }
}

/// Splits a plaintext into its `count` chunks, with their indices; an empty plaintext is one
/// empty chunk.
fn chunks_of(plaintext: &[u8], count: u64) -> impl Iterator<Item = (u64, &[u8])> {
    let pieces: Box<dyn Iterator<Item = &[u8]>> = if plaintext.is_empty() {
        Box::new(core::iter::once(&[][..]))
    } else {
        Box::new(plaintext.chunks(CHUNK_SIZE))
    };
    debug_assert!(count >= 1);
    (0..count).zip(pieces)
}

/// The plaintext length an encrypted chunk of `len` bytes must have at its position: a
/// non-final chunk is full; the final one holds 1 to [`CHUNK_SIZE`] bytes, or 0 if it is the
/// only chunk. Anything else cannot be authentic and fails like a bad tag.
fn chunk_plain_len(index: u64, last: bool, len: usize) -> Result<usize, DecryptError> {
    let plain_len = len
        .checked_sub(TAG_SIZE)
        .ok_or(DecryptError::DecryptionFailed)?;
    let valid = if last {
        plain_len <= CHUNK_SIZE && (plain_len > 0 || index == 0)
    } else {
        plain_len == CHUNK_SIZE
    };
    if valid {
        Ok(plain_len)
    } else {
        Err(DecryptError::DecryptionFailed)
    }
}

/// How many chunks an encrypted stream body of `len` bytes holds, after checking that its
/// layout is possible: every chunk but the last is full and the last is a valid final chunk.
/// (A missing final chunk or trailing bytes still fail here or at the tag.)
fn encrypted_chunk_count(len: usize) -> Result<u64, DecryptError> {
    let count = len.div_ceil(ENCRYPTED_CHUNK_SIZE).max(1);
    let last_len = len - (count - 1) * ENCRYPTED_CHUNK_SIZE;
    chunk_plain_len(count as u64 - 1, true, last_len)?;
    Ok(count as u64)
}

/// Encrypts a small stream into one self-contained blob: `header || chunks`.
///
/// Used for metadata records and thumbnails, which are stored whole; content is stored chunk
/// by chunk with its header kept in the file record.
pub fn seal_blob(
    file_key: &FileKey,
    kind: StreamKind,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    let header = StreamHeader::generate(rng);
    let body = StreamCipher::new(file_key, kind, &header).encrypt(plaintext);
    let mut blob = Vec::with_capacity(STREAM_HEADER_SIZE + body.len());
    blob.extend_from_slice(&header.to_bytes());
    blob.extend_from_slice(&body);
    blob
}

/// Seals an album's name (NFC-normalised UTF-8) as a blob under the album key (FORMAT.md §4.6).
pub fn seal_album_name(key: &crate::AlbumKey, name: &str, rng: &mut impl CryptoRng) -> Vec<u8> {
    seal_text(key.expose_secret(), StreamKind::AlbumName, name, rng)
}

/// Opens a name sealed by [`seal_album_name`].
pub fn open_album_name(key: &crate::AlbumKey, blob: &[u8]) -> Result<String, DecryptError> {
    open_text(key.expose_secret(), StreamKind::AlbumName, blob)
}

/// Seals the owner's record of a link as a blob under the master key (FORMAT.md §4.6): its
/// secret (so the owner can show the URL again), its link key (so a key rotation can re-wrap
/// the new key for it, password or not) and the owner's label.
pub fn seal_link_record(
    master: &crate::MasterKey,
    secret: &crate::LinkSecret,
    link_key: &crate::LinkKey,
    label: &str,
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    use unicode_normalization::UnicodeNormalization;
    let mut plain = zeroize::Zeroizing::new(Vec::with_capacity(2 * KEY_SIZE + label.len()));
    plain.extend_from_slice(secret.expose_secret());
    plain.extend_from_slice(link_key.expose_secret());
    plain.extend(label.nfc().collect::<String>().bytes());
    let header = StreamHeader::generate(rng);
    let body =
        StreamCipher::from_key_bytes(master.expose_secret(), StreamKind::LinkRecord, &header)
            .encrypt(&plain);
    let mut blob = Vec::with_capacity(STREAM_HEADER_SIZE + body.len());
    blob.extend_from_slice(&header.to_bytes());
    blob.extend_from_slice(&body);
    blob
}

/// Opens a record sealed by [`seal_link_record`]: the link's secret, key and label.
pub fn open_link_record(
    master: &crate::MasterKey,
    blob: &[u8],
) -> Result<(crate::LinkSecret, crate::LinkKey, String), DecryptError> {
    let plain = zeroize::Zeroizing::new(open_bytes(
        master.expose_secret(),
        StreamKind::LinkRecord,
        blob,
    )?);
    if plain.len() < 2 * KEY_SIZE {
        return Err(DecryptError::DecryptionFailed);
    }
    let secret: [u8; KEY_SIZE] = plain[..KEY_SIZE].try_into().expect("32 bytes");
    let key: [u8; KEY_SIZE] = plain[KEY_SIZE..2 * KEY_SIZE].try_into().expect("32 bytes");
    let label = String::from_utf8(plain[2 * KEY_SIZE..].to_vec())
        .map_err(|_| DecryptError::DecryptionFailed)?;
    Ok((
        crate::LinkSecret::from_bytes(secret),
        crate::LinkKey::from_bytes(key),
        label,
    ))
}

fn seal_text(
    key: &[u8; KEY_SIZE],
    kind: StreamKind,
    text: &str,
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    use unicode_normalization::UnicodeNormalization;
    let text: String = text.nfc().collect();
    let header = StreamHeader::generate(rng);
    let body = StreamCipher::from_key_bytes(key, kind, &header).encrypt(text.as_bytes());
    let mut blob = Vec::with_capacity(STREAM_HEADER_SIZE + body.len());
    blob.extend_from_slice(&header.to_bytes());
    blob.extend_from_slice(&body);
    blob
}

fn open_text(key: &[u8; KEY_SIZE], kind: StreamKind, blob: &[u8]) -> Result<String, DecryptError> {
    let plain = open_bytes(key, kind, blob)?;
    // Sealed text that is not UTF-8 was not written by a Vault client: as opaque as a bad tag.
    String::from_utf8(plain).map_err(|_| DecryptError::DecryptionFailed)
}

fn open_bytes(
    key: &[u8; KEY_SIZE],
    kind: StreamKind,
    blob: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let (header, body) = blob.split_at(blob.len().min(STREAM_HEADER_SIZE));
    // A blob shorter than its header: the version byte, if any, is judged first (FORMAT.md §4.5).
    let header = StreamHeader::from_bytes(header)?;
    StreamCipher::from_key_bytes(key, kind, &header).decrypt(body)
}

/// Decrypts a blob made by [`seal_blob`].
pub fn open_blob(
    file_key: &FileKey,
    kind: StreamKind,
    blob: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let (header, body) = blob.split_at(blob.len().min(STREAM_HEADER_SIZE));
    // A blob shorter than its header: the version byte, if any, is judged first (FORMAT.md §4.5).
    let header = StreamHeader::from_bytes(header)?;
    StreamCipher::new(file_key, kind, &header).decrypt(body)
}

#[cfg(test)]
impl StreamCipher {
    /// Seals a chunk bypassing the layout checks, to forge non-canonical streams in tests.
    fn aead_seal_for_test(&self, index: u64, last: bool, plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        let tag = gcm_seal_in_place(&self.aead, &chunk_nonce(index, last), &[], &mut buf);
        buf.extend_from_slice(&tag);
        buf
    }
}

#[cfg(test)]
mod tests;
