//! What the vault really occupies in stable memory, and the limit that keeps a full vault
//! usable.
//!
//! Two bounds, checked before anything that adds data changes state:
//!
//! - **The quota** counts each file at what it really takes ([`file_charge`]): its chunks and
//!   thumbnail in whole 4 KiB blocks (the chunk store's unit), its record as many times as it
//!   is stored, each with a B-tree entry's overhead, its chunk-index entries and its share of
//!   the activity log. The constants are measured against the memory's real growth in
//!   `tests.rs` (`charges_cover_the_stable_memory_really_used`).
//! - **The memory limit** ([`MemoryLimits`]): stable memory in use (less the chunk store's
//!   free space, which is reused before the memory grows) may not reach the limit less
//!   [`MemoryLimits::headroom`] through anything that adds data — a new upload, a new chunk.
//!   What a full vault must still do (trash, restore, purge, abort, revoke, housekeeping) may
//!   use the headroom; and the activity log stops recording (counting what it did not record)
//!   rather than take the last half of it, so that no update ever traps on a full memory.
//! - **The metadata limit** (layout 2, `memory.rs`): every structure but the chunks' data is
//!   in the METADATA memory, which cannot grow past [`METADATA_MEMORY_LIMIT`] (8 GiB). The
//!   vault's limits on albums, links and devices do not bound it (files are bounded only by the
//!   quota, the activity log by nothing), so it is checked as the whole memory is: what adds
//!   data may not take it into [`MemoryLimits::metadata_headroom`], what empties a full vault
//!   may, and the log stops half-way into it. In layout 1 each structure has its own memory
//!   of the whole one, and only the memory limit applies.

use ic_stable_structures::Memory;
use vault_crypto::ENCRYPTED_CHUNK_SIZE;

use super::chunks::BLOCK_SIZE;
use super::types::{VaultError, VaultResult};
use super::{MAINTENANCE_HEADROOM, STABLE_MEMORY_LIMIT, State};
use crate::memory::{METADATA_MEMORY_LIMIT, WASM_PAGE_SIZE};

/// The METADATA memory (layout 2) kept free for what a full vault must still do, as
/// [`MAINTENANCE_HEADROOM`] is in the whole memory: 256 MiB is 1 024 of the metadata
/// manager's 256 KiB buckets, about 40 for each of its 26 structures, and some 200 times what
/// one call trashing the most files adds (100 records of at most ~13 KiB).
pub const METADATA_HEADROOM: u64 = 256 << 20;

/// Bytes a stable B-tree spends on an entry beyond its key and value: its share of the
/// node's header and of the unused part of nodes (nodes are 1 KiB pages, half to fully
/// filled; a value that does not fit in one overflows into further pages, each with its own
/// header) and the length prefixes of unbounded values. With `btree_bytes`'s 1.5× it
/// charges 1 000 empty files 13.2 MB for the 10.3 MB they grow stable memory by, and 300
/// files of 70 000 bytes 24.8 MB for 23.7 MB (`tests.rs`): keys inserted in order leave
/// nodes half full, the worst case.
pub const BTREE_ENTRY_OVERHEAD: u64 = 256;
/// Times a file's record is stored at once: in FILES, TIMELINE and the album's index (or
/// FILES and TRASH once trashed; UPLOADS before it is committed).
pub const RECORD_COPIES: u64 = 3;
/// Bytes a B-tree grows by for a record of `n` bytes: 1.5× (see [`BTREE_ENTRY_OVERHEAD`]).
fn btree_bytes(n: u64) -> u64 {
    n + n / 2 + BTREE_ENTRY_OVERHEAD
}
/// A chunk's entry in the chunk index: a 12-byte key and its location (length and one
/// extent, ~12 bytes of CBOR).
const CHUNK_INDEX_ENTRY: u64 = 24;
/// The dedupe index's entry and the upload-expiry entry (32 + 16 and 24 bytes of key).
const SMALL_INDEX_ENTRIES: u64 = 48 + 16 + 24;
/// The most an activity-log entry about a file takes: its Candid encoding (the `Activity`
/// type table is in every entry) and its 8-byte index entry. Checked in `tests.rs`.
pub(crate) const LOG_ENTRY_BYTES: u64 = 640;
/// Activity-log entries a file writes while it is stored (uploaded, trashed, restored). The
/// log keeps them after a purge, and entries about other things are not charged: the memory
/// limit catches what the quota does not.
const LOG_ENTRIES_PER_FILE: u64 = 3;

/// Bytes in whole chunk-store blocks.
pub fn block_rounded(len: u64) -> u64 {
    len.div_ceil(BLOCK_SIZE) * BLOCK_SIZE
}

/// What a file of `size` plaintext bytes, with a sealed thumbnail of `thumbnail_len` bytes
/// and a record of `record_len` bytes, takes in stable memory: what the quota charges it.
pub fn file_charge(size: u64, thumbnail_len: u64, record_len: u64) -> u64 {
    let chunks = vault_crypto::chunk_count(size);
    let last = vault_crypto::encrypted_chunk_len(size, chunks - 1).unwrap_or(0);
    let content = (chunks - 1) * block_rounded(ENCRYPTED_CHUNK_SIZE as u64) + block_rounded(last);
    let thumbnail = block_rounded(thumbnail_len);
    content + thumbnail + file_metadata_charge(size, thumbnail_len, record_len)
}

/// The part of [`file_charge`] that is not chunk data: its records, index entries and log
/// entries, which layout 2 keeps in the METADATA memory.
pub fn file_metadata_charge(size: u64, thumbnail_len: u64, record_len: u64) -> u64 {
    let index_entries = vault_crypto::chunk_count(size) + (thumbnail_len > 0) as u64;
    RECORD_COPIES * btree_bytes(record_len)
        + index_entries * chunk_index_charge()
        + btree_bytes(SMALL_INDEX_ENTRIES)
        + LOG_ENTRIES_PER_FILE * LOG_ENTRY_BYTES
}

/// What one chunk's index entry takes.
pub fn chunk_index_charge() -> u64 {
    btree_bytes(CHUNK_INDEX_ENTRY)
}

/// How much stable memory the vault may occupy, and how much of it only what frees data
/// may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLimits {
    /// The most stable memory the vault may occupy, bytes.
    pub stable_bytes: u64,
    /// Kept free for trash, restore, purge, abort, revoke and housekeeping.
    pub headroom: u64,
    /// The most the METADATA memory may occupy (layout 2), bytes.
    pub metadata_bytes: u64,
    /// Kept free in it, as `headroom` is in the whole memory.
    pub metadata_headroom: u64,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            stable_bytes: STABLE_MEMORY_LIMIT,
            headroom: MAINTENANCE_HEADROOM,
            metadata_bytes: METADATA_MEMORY_LIMIT,
            metadata_headroom: METADATA_HEADROOM,
        }
    }
}

impl MemoryLimits {
    /// The largest quota: everything but the headroom.
    pub fn max_quota(&self) -> u64 {
        self.stable_bytes - self.headroom
    }

    /// Where the activity log stops recording: half-way into the headroom, so that the
    /// other half is always there for the structures a maintenance call changes.
    fn log_ceiling(&self) -> u64 {
        self.stable_bytes - self.headroom / 2
    }

    /// The most new metadata may fill the METADATA memory to.
    fn max_metadata(&self) -> u64 {
        self.metadata_bytes - self.metadata_headroom
    }

    /// Where the activity log stops recording in the METADATA memory (as [`Self::log_ceiling`]).
    fn metadata_log_ceiling(&self) -> u64 {
        self.metadata_bytes - self.metadata_headroom / 2
    }
}

impl<M: Memory> State<M> {
    /// Stable memory in use: what the memory has grown to, less the chunk store's free space
    /// (free blocks, and grown memory past its high water), which is used again before the
    /// memory grows.
    pub fn stable_in_use(&self) -> u64 {
        ((self.stable_pages)() * WASM_PAGE_SIZE).saturating_sub(self.chunks.reusable_bytes())
    }

    /// The METADATA memory in use (layout 2): all the metadata manager has grown it to (B-tree
    /// nodes it frees are reused before it grows, but not counted here).
    pub fn metadata_in_use(&self) -> Option<u64> {
        self.metadata_memory
            .as_ref()
            .map(|m| m.size() * WASM_PAGE_SIZE)
    }

    /// Bytes that new metadata may still take before reaching the METADATA memory's headroom
    /// (layout 1: no bound but [`Self::memory_room`]).
    pub fn metadata_room(&self) -> u64 {
        self.metadata_in_use().map_or(u64::MAX, |used| {
            self.limits.max_metadata().saturating_sub(used)
        })
    }

    /// Bytes that new data may still take before reaching the headroom.
    pub fn memory_room(&self) -> u64 {
        self.limits.max_quota().saturating_sub(self.stable_in_use())
    }

    /// Refuses data of `bytes`, of which `metadata_bytes` are metadata, that would reach into
    /// the headroom or the METADATA memory's.
    pub(crate) fn require_room(&self, bytes: u64, metadata_bytes: u64) -> VaultResult<()> {
        for (needed, available) in [
            (bytes, self.memory_room()),
            (metadata_bytes, self.metadata_room()),
        ] {
            if needed > available {
                return Err(VaultError::QuotaExceeded { needed, available });
            }
        }
        Ok(())
    }

    /// Whether an activity-log entry of `bytes` may still be written.
    pub(crate) fn log_has_room(&self, bytes: u64) -> bool {
        self.stable_in_use() + bytes <= self.limits.log_ceiling()
            && self
                .metadata_in_use()
                .is_none_or(|used| used + bytes <= self.limits.metadata_log_ceiling())
    }

    /// Sets the limits (tests: a small vault, to fill it).
    #[cfg(test)]
    pub fn set_memory_limits(&mut self, limits: MemoryLimits) {
        self.limits = limits;
    }
}

#[cfg(test)]
mod tests;
