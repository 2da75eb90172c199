//! Where each stable structure lives: one named `MemoryId` per structure, and the two layouts a
//! vault's stable memory may hold. Never reuse a retired id: list it here, with why.
//!
//! **Layout 2** (every vault installed since): the structures a vault has few bytes in share
//! small buckets, so that an empty vault holds 8 MiB + 64 KiB, not 208 MiB.
//!
//! ```text
//! stable memory: outer MemoryManager, 8 MiB buckets (OUTER_BUCKET_PAGES)
//! | page 0: "MGR" v1 header  | bucket | bucket | bucket | ...   (each owned by one of:)
//!
//!   outer id  9  CHUNK_DATA  raw 4 KiB blocks; no bucket until the first chunk is stored
//!   outer id 27  METADATA    metadata MemoryManager, 256 KiB buckets (METADATA_BUCKET_PAGES):
//!                            | page 0: "MGR" v1 header | bucket | bucket | ...
//!                            each owned by one of ids 0-8, 10-26 and 28 below
//! ```
//!
//! Empty, METADATA's first 8 MiB bucket holds the metadata header and the 27 structures' first
//! buckets (109 pages of 128). The metadata manager's 32 768 buckets bound the metadata at
//! [`METADATA_MEMORY_LIMIT`] (8 GiB), which `model/room.rs` keeps it within.
//!
//! **Layout 1** (vaults installed before layout 2): one MemoryManager of 8 MiB buckets, every
//! structure below in its own memory under its id: 26 buckets (208 MiB) when empty. Such a
//! vault keeps it: moving up to 255 GiB is out of the question in post_upgrade.
//!
//! Which layout a memory holds is read from its own bytes, the outer header's memory sizes:
//! layout 2 has pages in METADATA, layout 1 in CONFIG (every open of layout 1 writes it first)
//! and none in METADATA; an empty memory gets layout 2. A later layout takes a new outer id.
//! Code from before layout 2 installed over a layout-2 vault (a rollback) writes an empty
//! config of its own into CONFIG and finds the vault owner-less; the vault's own code, installed
//! again, reads METADATA as before (tested).
//!
//! The ids, the same in both layouts (in the outer manager in layout 1, in the metadata
//! manager in layout 2; CHUNK_DATA always in the outer one):
//!
//! ```text
//! id  structure          key -> value
//!  0  CONFIG             cell: Config (owner, quota, counters)
//!  1  PROFILE            cell: ProfileCell (wrapped keys, unlock verifiers)
//!  2  DEVICES            principal slot (30) -> added_at u64
//!  3  FILES              file id (16) -> FileRecord
//!  4  TIMELINE           ordered sort key (8) || file id (16) -> Listed     live files
//!  5  ALBUM_FILES        album id (16) || ordered sort key (8) || file id (16) -> Listed
//!  6  TRASH              trashed_at u64be (8) || file id (16) -> Listed
//!  7  UPLOADS            file id (16) -> UploadRecord
//!  8  UPLOAD_EXPIRY      last activity u64be (8) || file id (16) -> ()
//!  9  CHUNK_DATA         raw 4 KiB blocks
//! 10  CHUNK_INDEX        storage id u64be (8) || chunk index u32be (4) -> ChunkLocation
//!                        (a file's chunks are under its record's storage id, never reused;
//!                        the thumbnail is chunk index u32::MAX)
//! 11  CHUNK_FREE_START   first block u32 -> block count u32
//! 12  CHUNK_FREE_SIZE    block count u32be || first block u32be -> ()
//! 13  CHUNK_META         cell: ChunkMeta
//! 14  ALBUMS             album id (16) -> AlbumRecord
//! 15  ALBUM_KEYS         album id (16) || version u32be -> wrapped key (61)
//! 16  GRANTS             target (17) || principal slot (30) -> GrantRecord
//! 17  GRANTEE_INDEX      principal slot (30) || target (17) -> ()
//! 18  GRANT_KEYS         target (17) || principal slot (30) || version u32be -> sealed key (81)
//! 19  LINKS              token hash (32) -> LinkRecord
//! 20  LOG_INDEX          StableLog index
//! 21  LOG_DATA           StableLog data: Candid-encoded ActivityEntry
//! 22  DEDUPE             dedupe hash (32) -> file id (16)
//! 23  RECLAIM            sequence u64 -> ReclaimJob
//! 24  LINK_TARGETS       target (17) || token hash (32) -> ()
//! 25  CONTRIBUTIONS      principal slot (30) || file id (16) -> ()   uploads in progress by a
//!                        grantee (not the owner); none for uploads begun before it existed
//! 26  UNLOCK_FAILURES    principal slot (30) -> (wrong passphrase proofs u32, locked until u64)
//! 27  METADATA           layout 2, outer manager only: the metadata manager (ids 0-8, 10-26, 28)
//! 28  INBOX              share notices and the vaults the owner follows, one map of 61-byte
//!                        keys (`model/sharing/inbox.rs`); since release 0.2.0
//! ```
//! `Listed` is a copy of the file's FileRecord, so that listing walks one index (no bytes in
//! entries written before copies were kept; `model/stored.rs`).
//! A target is `kind (1 = album, 2 = file) || id (16)`; a principal slot is
//! `len || bytes || zero padding` (30 bytes).

use ic_stable_structures::Memory;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};

/// Bytes in a wasm page, the unit memories grow by.
pub const WASM_PAGE_SIZE: u64 = 65536;
/// The outer manager's bucket, 8 MiB (the crate's default, and layout 1's): its 32 768 buckets
/// make the 256 GiB `STABLE_MEMORY_LIMIT` that the quota is held within.
pub const OUTER_BUCKET_PAGES: u16 = 128;
/// The metadata manager's bucket, 256 KiB: small enough that its header and the 26 structures'
/// first buckets (105 pages) fit in one outer bucket, large enough that its 32 768 buckets hold
/// 8 GiB of metadata: some 400 000 files of the largest metadata (8 KiB, ~17 KiB each in
/// stable memory), six million of 100 bytes (~1.3 KiB each; both measured in tests).
pub const METADATA_BUCKET_PAGES: u16 = 4;
/// Buckets a MemoryManager hands out at most (ic-stable-structures' private
/// `MAX_NUM_BUCKETS`; checked in `tests.rs`).
pub const MANAGER_MAX_BUCKETS: u64 = 32_768;
/// The most the METADATA memory can grow to: the metadata manager's header page and all its
/// buckets. Past it, a structure's growth would trap.
pub const METADATA_MEMORY_LIMIT: u64 =
    (1 + MANAGER_MAX_BUCKETS * METADATA_BUCKET_PAGES as u64) * WASM_PAGE_SIZE;

/// Which arrangement of memories a vault's stable memory holds (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Every structure in its own memory of one manager of 8 MiB buckets.
    V1,
    /// CHUNK_DATA and METADATA in the outer manager; every other structure in METADATA's
    /// manager of 256 KiB buckets.
    V2,
}

/// The memory one stable structure lives in.
pub enum StructureMemory<M: Memory> {
    /// A memory of the outer manager: CHUNK_DATA, and every structure in layout 1.
    Outer(VirtualMemory<M>),
    /// A memory of the metadata manager (layout 2).
    Metadata(VirtualMemory<VirtualMemory<M>>),
}

impl<M: Memory> Memory for StructureMemory<M> {
    fn size(&self) -> u64 {
        match self {
            Self::Outer(m) => m.size(),
            Self::Metadata(m) => m.size(),
        }
    }

    fn grow(&self, pages: u64) -> i64 {
        match self {
            Self::Outer(m) => m.grow(pages),
            Self::Metadata(m) => m.grow(pages),
        }
    }

    fn read(&self, offset: u64, dst: &mut [u8]) {
        match self {
            Self::Outer(m) => m.read(offset, dst),
            Self::Metadata(m) => m.read(offset, dst),
        }
    }

    // Forwarded, rather than the trait's default, which zero-fills `dst` before every read.
    #[allow(unsafe_code)]
    unsafe fn read_unsafe(&self, offset: u64, dst: *mut u8, count: usize) {
        // SAFETY: the caller's guarantees for `dst` and `count` are the callee's.
        unsafe {
            match self {
                Self::Outer(m) => m.read_unsafe(offset, dst, count),
                Self::Metadata(m) => m.read_unsafe(offset, dst, count),
            }
        }
    }

    fn write(&self, offset: u64, src: &[u8]) {
        match self {
            Self::Outer(m) => m.write(offset, src),
            Self::Metadata(m) => m.write(offset, src),
        }
    }
}

/// A vault's stable memory opened in its layout: hands out each structure's memory.
pub struct Memories<M: Memory> {
    outer: MemoryManager<M>,
    /// Layout 2's metadata manager.
    metadata: Option<MemoryManager<VirtualMemory<M>>>,
}

impl<M: Memory> Memories<M> {
    /// Opens the layout `memory` holds, in O(1) whatever the vault's size (two managers'
    /// headers are read); an empty memory gets layout 2 with outer buckets of `bucket_pages`
    /// (production: [`OUTER_BUCKET_PAGES`]; tests, smaller).
    ///
    /// Traps if the memory holds both layouts: no code ever wrote that.
    pub fn open(memory: M, bucket_pages: u16) -> Self {
        // An existing manager keeps its bucket size (in its header); `bucket_pages` is for a
        // new one.
        let outer = MemoryManager::init_with_bucket_size(memory, bucket_pages);
        // METADATA first: layout-1 code never touches it, so pages there mean layout 2, even
        // with pages in CONFIG too — which only code from before layout 2 installed over this
        // vault (a rollback) writes: an empty config of its own, in buckets layout 2 never
        // reads, leaving the vault's own structures as they were for its code to open again.
        if outer.get(METADATA).size() == 0 && outer.get(CONFIG).size() > 0 {
            return Self {
                outer,
                metadata: None,
            };
        }
        let metadata =
            MemoryManager::init_with_bucket_size(outer.get(METADATA), METADATA_BUCKET_PAGES);
        Self {
            outer,
            metadata: Some(metadata),
        }
    }

    /// Creates layout 1 in an empty memory, as vaults were created before layout 2: for tests
    /// of what those vaults hold (`model/tests/layout.rs`).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn create_v1(memory: M, bucket_pages: u16) -> Self {
        assert_eq!(
            memory.size(),
            0,
            "layout 1 is created in an empty memory only"
        );
        Self {
            outer: MemoryManager::init_with_bucket_size(memory, bucket_pages),
            metadata: None,
        }
    }

    /// The layout opened.
    pub fn layout(&self) -> Layout {
        match self.metadata {
            None => Layout::V1,
            Some(_) => Layout::V2,
        }
    }

    /// The memory of structure `id`.
    pub fn get(&self, id: MemoryId) -> StructureMemory<M> {
        match &self.metadata {
            Some(metadata) if id != CHUNK_DATA => StructureMemory::Metadata(metadata.get(id)),
            _ => StructureMemory::Outer(self.outer.get(id)),
        }
    }

    /// The METADATA memory (layout 2), whose size is what the metadata holds.
    pub fn metadata_memory(&self) -> Option<VirtualMemory<M>> {
        self.metadata.as_ref().map(|_| self.outer.get(METADATA))
    }
}

pub const CONFIG: MemoryId = MemoryId::new(0);
pub const PROFILE: MemoryId = MemoryId::new(1);
pub const DEVICES: MemoryId = MemoryId::new(2);
pub const FILES: MemoryId = MemoryId::new(3);
pub const TIMELINE: MemoryId = MemoryId::new(4);
pub const ALBUM_FILES: MemoryId = MemoryId::new(5);
pub const TRASH: MemoryId = MemoryId::new(6);
pub const UPLOADS: MemoryId = MemoryId::new(7);
pub const UPLOAD_EXPIRY: MemoryId = MemoryId::new(8);
pub const CHUNK_DATA: MemoryId = MemoryId::new(9);
pub const CHUNK_INDEX: MemoryId = MemoryId::new(10);
pub const CHUNK_FREE_START: MemoryId = MemoryId::new(11);
pub const CHUNK_FREE_SIZE: MemoryId = MemoryId::new(12);
pub const CHUNK_META: MemoryId = MemoryId::new(13);
pub const ALBUMS: MemoryId = MemoryId::new(14);
pub const ALBUM_KEYS: MemoryId = MemoryId::new(15);
pub const GRANTS: MemoryId = MemoryId::new(16);
pub const GRANTEE_INDEX: MemoryId = MemoryId::new(17);
pub const GRANT_KEYS: MemoryId = MemoryId::new(18);
pub const LINKS: MemoryId = MemoryId::new(19);
pub const LOG_INDEX: MemoryId = MemoryId::new(20);
pub const LOG_DATA: MemoryId = MemoryId::new(21);
pub const DEDUPE: MemoryId = MemoryId::new(22);
pub const RECLAIM: MemoryId = MemoryId::new(23);
pub const LINK_TARGETS: MemoryId = MemoryId::new(24);
pub const CONTRIBUTIONS: MemoryId = MemoryId::new(25);
pub const UNLOCK_FAILURES: MemoryId = MemoryId::new(26);
pub const METADATA: MemoryId = MemoryId::new(27);
pub const INBOX: MemoryId = MemoryId::new(28);

#[cfg(test)]
mod tests;
