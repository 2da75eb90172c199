//! One named `MemoryId` per stable structure. Never reuse a retired id: list it here, with why.
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
//! ```
//! `Listed` is a copy of the file's FileRecord, so that listing walks one index (no bytes in
//! entries written before copies were kept; `model/stored.rs`).
//! A target is `kind (1 = album, 2 = file) || id (16)`; a principal slot is
//! `len || bytes || zero padding` (30 bytes).

use ic_stable_structures::memory_manager::MemoryId;

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
