//! How things are laid out in stable memory: fixed-size keys (big-endian, so that byte order
//! is the order listings need) and versioned CBOR records.
//!
//! Record encoding: `layout version (u8) || CBOR array` (minicbor, fields by index). A field is
//! only ever appended (older records decode with it absent); a change that cannot be expressed
//! so bumps the layout version and adds a decoder for the new one. `tests.rs` freezes golden
//! bytes for every record, so an accidental layout change fails a test.

use std::borrow::Cow;

use candid::Principal;
use ic_stable_structures::Storable;
use ic_stable_structures::storable::Bound;
use minicbor::{Decode, Encode};

/// A fixed-size key of `N` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key<const N: usize>(pub [u8; N]);

impl<const N: usize> Storable for Key<N> {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }
    fn into_bytes(self) -> Vec<u8> {
        self.0.to_vec()
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        Key(bytes
            .as_ref()
            .try_into()
            .expect("stable keys have a fixed size"))
    }
    const BOUND: Bound = Bound::Bounded {
        max_size: N as u32,
        is_fixed_size: true,
    };
}

/// Bytes of an id (album or file).
pub const ID: usize = 16;
/// Bytes of a principal slot: length byte + up to 29 bytes, zero-padded.
pub const PRINCIPAL: usize = 30;
/// Bytes of a target slot: kind (1 album, 2 file) + id.
pub const TARGET: usize = 1 + ID;

/// Concatenates byte pieces into a key of exactly `N` bytes.
pub fn key<const N: usize>(pieces: &[&[u8]]) -> Key<N> {
    let mut out = [0u8; N];
    let mut at = 0;
    for piece in pieces {
        out[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
    }
    assert_eq!(at, N, "key pieces must fill the key exactly");
    Key(out)
}

/// A principal in a fixed 30-byte slot: `len || bytes || zeros`.
pub fn principal_slot(p: &Principal) -> [u8; PRINCIPAL] {
    let bytes = p.as_slice();
    let mut out = [0u8; PRINCIPAL];
    out[0] = bytes.len() as u8;
    out[1..1 + bytes.len()].copy_from_slice(bytes);
    out
}

/// The principal in a 30-byte slot.
pub fn slot_principal(slot: &[u8]) -> Principal {
    Principal::from_slice(&slot[1..1 + slot[0] as usize])
}

/// An i64 as 8 bytes whose unsigned big-endian order is the signed order.
pub fn ordered_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// The inverse of [`ordered_i64`].
pub fn from_ordered_i64(b: &[u8]) -> i64 {
    (u64::from_be_bytes(b.try_into().expect("8 bytes")) ^ (1 << 63)) as i64
}

/// Defines `Storable` for a CBOR record with a layout version byte.
macro_rules! cbor_record {
    ($t:ty, $version:expr) => {
        impl ic_stable_structures::Storable for $t {
            fn to_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
                let mut out = vec![$version];
                minicbor::encode(self, &mut out).expect("encoding into a Vec cannot fail");
                std::borrow::Cow::Owned(out)
            }
            fn into_bytes(self) -> Vec<u8> {
                self.to_bytes().into_owned()
            }
            fn from_bytes(bytes: std::borrow::Cow<[u8]>) -> Self {
                // The canister wrote these bytes itself: failing to read them means stable
                // memory is corrupt, an invariant no caller can repair (so a trap is right).
                assert_eq!(
                    bytes[0], $version,
                    concat!("unknown layout of ", stringify!($t))
                );
                minicbor::decode(&bytes[1..]).expect(concat!("corrupt ", stringify!($t)))
            }
            const BOUND: ic_stable_structures::storable::Bound =
                ic_stable_structures::storable::Bound::Unbounded;
        }
    };
}

/// Vault-wide settings and counters (one cell).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Default)]
#[cbor(array)]
pub struct Config {
    #[cbor(n(0), with = "minicbor::bytes")]
    pub owner: Vec<u8>,
    #[n(1)]
    pub quota_bytes: u64,
    #[n(2)]
    pub created_at: u64,
    #[n(3)]
    pub used_bytes: u64,
    #[n(4)]
    pub reserved_bytes: u64,
    #[n(5)]
    pub files: u64,
    #[n(6)]
    pub trashed_files: u64,
    #[n(7)]
    pub albums: u64,
    #[n(8)]
    pub failed_unlocks: u32,
    #[n(9)]
    pub unlock_locked_until: u64,
    #[n(10)]
    pub reclaim_seq: u64,
    /// The next chunk-storage id: never reused, so a queued reclaim can only ever free the
    /// chunks it was queued for, even when a client reuses a file id after an abort.
    #[n(11)]
    pub next_storage_id: u64,
    /// Activity-log entries not written because stable memory was full (`model/room.rs`).
    /// Appended field: absent (and left out of the encoding) until the first such entry.
    #[n(12)]
    pub unrecorded: Option<u64>,
}
cbor_record!(Config, 1);

/// The owner's wrapped keys and verifiers (docs/FORMAT.md §5–§7).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct ProfileRecord {
    #[cbor(n(0), with = "minicbor::bytes")]
    pub passphrase_record: Vec<u8>,
    #[cbor(n(1), with = "minicbor::bytes")]
    pub passphrase_verifier: Vec<u8>,
    #[cbor(n(2), with = "minicbor::bytes")]
    pub recovery_wrapped_key: Vec<u8>,
    #[cbor(n(3), with = "minicbor::bytes")]
    pub recovery_verifier: Vec<u8>,
    #[cbor(n(4), with = "minicbor::bytes")]
    pub sharing_public_key: Vec<u8>,
    #[cbor(n(5), with = "minicbor::bytes")]
    pub sharing_secret_wrapped: Vec<u8>,
    /// What `passphrase_verifier` is: absent = 1 (`SHA-256(unlock proof)`, vaults set up before
    /// admission v2), 2 = an Ed25519 admission public key (docs/FORMAT.md §6.1).
    #[n(6)]
    pub passphrase_verifier_version: Option<u8>,
    /// The same for `recovery_verifier`.
    #[n(7)]
    pub recovery_verifier_version: Option<u8>,
    /// The admission counter a proof signs; absent = 0. Moves on after every admission.
    #[n(8)]
    pub admission_counter: Option<u64>,
    /// The master key's generation (docs/FORMAT.md §3); absent = 0. One more at each rotation.
    #[n(9)]
    pub master_generation: Option<u32>,
    /// The chain of earlier master keys: entry `g` is generation `g`'s master key wrapped by
    /// generation `g + 1`'s (kind `master-key/previous`); absent = none.
    #[n(10)]
    pub previous_masters: Option<Vec<minicbor::bytes::ByteVec>>,
    /// The install owner was signed out by a rotation made on another device, and acts as the
    /// owner again only once it proves the passphrase or recovery key (`admit_device`).
    #[n(11)]
    pub owner_signed_out: Option<bool>,
    /// The passkeys admitted as devices (`add_passkey`), each also in the devices map; absent
    /// = none.
    #[n(12)]
    pub passkeys: Option<Vec<PasskeyRecord>>,
}
cbor_record!(ProfileRecord, 1);

/// A passkey that is one of the owner's devices.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct PasskeyRecord {
    /// The WebAuthn credential id.
    #[cbor(n(0), with = "minicbor::bytes")]
    pub credential_id: Vec<u8>,
    /// The DER-wrapped COSE key (the device's principal is its self-authenticating one).
    #[cbor(n(1), with = "minicbor::bytes")]
    pub public_key: Vec<u8>,
    /// The master key wrapped under the key of its PRF output (docs/FORMAT.md §7.1).
    #[n(2)]
    pub unlock: Option<minicbor::bytes::ByteVec>,
}

impl PasskeyRecord {
    /// The principal the passkey signs as.
    pub fn principal(&self) -> Principal {
        Principal::self_authenticating(&self.public_key)
    }
}

/// The cell that holds the profile: absent until `setup`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Default)]
#[cbor(array)]
pub struct ProfileCell {
    #[n(0)]
    pub profile: Option<ProfileRecord>,
}
cbor_record!(ProfileCell, 1);

/// A file (committed, or being uploaded).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct FileRecord {
    #[n(0)]
    pub size: u64,
    #[n(1)]
    pub chunk_count: u32,
    #[cbor(n(2), with = "minicbor::bytes")]
    pub content_header: Vec<u8>,
    #[cbor(n(3), with = "minicbor::bytes")]
    pub wrapped_key: Vec<u8>,
    #[cbor(n(4), with = "minicbor::bytes")]
    pub album: Option<[u8; ID]>,
    #[n(5)]
    pub key_version: u32,
    #[cbor(n(6), with = "minicbor::bytes")]
    pub metadata: Vec<u8>,
    #[n(7)]
    pub thumbnail_size: u32,
    #[cbor(n(8), with = "minicbor::bytes")]
    pub dedupe_hash: Option<[u8; 32]>,
    #[n(9)]
    pub sort_key: i64,
    #[n(10)]
    pub created_at: u64,
    #[cbor(n(11), with = "minicbor::bytes")]
    pub uploader: Vec<u8>,
    #[n(12)]
    pub trashed_at: Option<u64>,
    /// Bytes this file counts against the quota (chunks, thumbnail, metadata).
    #[n(13)]
    pub stored_bytes: u64,
    /// Where its chunks are in the chunk store.
    #[n(14)]
    pub storage_id: u64,
}
cbor_record!(FileRecord, 1);

/// The value of a listing index (TIMELINE, ALBUM_FILES, TRASH): a copy of the file's record
/// as FILES has it, so that a page of files is one walk of its index rather than a walk plus a
/// FILES lookup per file (a lookup loads a node per tree level: ~20 000 instructions at 100
/// files, ~45 000 at 10 000).
///
/// Entries written before the copies were kept hold `()`, which is no bytes: they read as
/// `Listed(None)`, and a listing reads those files from FILES.
///
/// ```text
/// bytes          meaning
/// (none)         no copy: read FILES
/// 01 ...         the FileRecord, exactly as FILES stores it
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed(pub Option<FileRecord>);

impl Storable for Listed {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        match &self.0 {
            Some(file) => file.to_bytes(),
            None => Cow::Borrowed(&[]),
        }
    }
    fn into_bytes(self) -> Vec<u8> {
        self.to_bytes().into_owned()
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        Listed((!bytes.is_empty()).then(|| FileRecord::from_bytes(bytes)))
    }
    const BOUND: Bound = Bound::Unbounded;
}

/// An upload in progress: the file it will become, and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct UploadRecord {
    #[n(0)]
    pub file: FileRecord,
    #[n(1)]
    pub received: u32,
    #[n(2)]
    pub last_activity: u64,
}
cbor_record!(UploadRecord, 1);

/// Where a chunk's bytes are: its length and the block extents holding them, in order.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct ChunkLocation {
    #[n(0)]
    pub len: u32,
    /// (first block, block count).
    #[n(1)]
    pub extents: Vec<(u32, u32)>,
}
cbor_record!(ChunkLocation, 1);

/// The chunk store's allocator state (one cell).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Default)]
#[cbor(array)]
pub struct ChunkMeta {
    /// Blocks below this have been handed out at least once.
    #[n(0)]
    pub high_water: u32,
    /// Blocks below the high water that are free.
    #[n(1)]
    pub free_blocks: u64,
    /// Chunks stored.
    #[n(2)]
    pub chunks: u64,
}
cbor_record!(ChunkMeta, 1);

/// An album.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct AlbumRecord {
    #[cbor(n(0), with = "minicbor::bytes")]
    pub name: Vec<u8>,
    #[n(1)]
    pub key_version: u32,
    #[n(2)]
    pub created_at: u64,
    #[n(3)]
    pub file_count: u64,
}
cbor_record!(AlbumRecord, 1);

/// A grant (its sealed keys are kept per version beside it).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct GrantRecord {
    /// 0 view, 1 contribute.
    #[n(0)]
    pub permission: u8,
    #[n(1)]
    pub expires_at: Option<u64>,
    #[n(2)]
    pub created_at: u64,
    /// The grantee's X25519 sharing public key (docs/FORMAT.md §8), so that any of the owner's
    /// devices can seal a rotated album key to them. Appended field: grants stored before it
    /// was kept decode with `None`. `None` is omitted from the encoding (minicbor-derive leaves
    /// trailing absent fields out of the array), so a record without one keeps its old bytes.
    #[cbor(n(3), with = "minicbor::bytes")]
    pub grantee_key: Option<[u8; 32]>,
    /// The owner's MAC over the grant's terms (docs/FORMAT.md §8.4). Appended field: grants
    /// stored before it decode with `None`, and `None` is omitted from the encoding.
    #[cbor(n(4), with = "minicbor::bytes")]
    pub authenticator: Option<[u8; vault_crypto::GRANT_AUTHENTICATOR_SIZE]>,
}
cbor_record!(GrantRecord, 1);

/// A sharing link.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct LinkRecord {
    #[cbor(n(0), with = "minicbor::bytes")]
    pub target: [u8; TARGET],
    #[n(1)]
    pub key_version: u32,
    #[cbor(n(2), with = "minicbor::bytes")]
    pub wrapped_key: Vec<u8>,
    #[n(3)]
    pub expires_at: Option<u64>,
    #[n(4)]
    pub password_iterations: Option<u32>,
    #[cbor(n(5), with = "minicbor::bytes")]
    pub password_verifier: Option<[u8; 32]>,
    #[n(6)]
    pub revoked_at: Option<u64>,
    #[n(7)]
    pub created_at: u64,
    #[n(8)]
    pub opened: u64,
    #[cbor(n(9), with = "minicbor::bytes")]
    pub label: Option<Vec<u8>>,
    /// Earlier versions of an album's key, wrapped by the link key, oldest first: the link opens
    /// the files added before a rotation too. Absent in records written before links kept them.
    #[n(10)]
    pub earlier_keys: Option<Vec<EarlierKey>>,
}
cbor_record!(LinkRecord, 1);

/// One earlier version of a link's album key.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct EarlierKey {
    #[n(0)]
    pub version: u32,
    #[cbor(n(1), with = "minicbor::bytes")]
    pub wrapped_key: Vec<u8>,
}

/// A queued release of a deleted file's chunks (done a bounded number per message).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[cbor(array)]
pub struct ReclaimJob {
    /// The storage id of the deleted file's chunks.
    #[n(0)]
    pub storage_id: u64,
    /// Next chunk index to free.
    #[n(1)]
    pub next: u32,
    /// One past the last chunk index to free.
    #[n(2)]
    pub end: u32,
    /// Whether the thumbnail chunk is still to free.
    #[n(3)]
    pub thumbnail: bool,
}
cbor_record!(ReclaimJob, 1);

#[cfg(test)]
mod tests;
