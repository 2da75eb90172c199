//! The canister's public limits: what every client may rely on (and must stay within).
//! The canister enforces each; vault.did and docs/PROTOCOL.md name them.

/// Default quota: 100 GiB.
pub const DEFAULT_QUOTA: u64 = 100 << 30;
/// Largest file: 64 GiB (65 536 chunks; deleting it is spread over many messages).
pub const MAX_FILE_SIZE: u64 = 64 << 30;
/// Largest sealed metadata record (a blob): 8 KiB is far above any real record.
pub const MAX_METADATA_SIZE: usize = 8 << 10;
/// Largest sealed thumbnail: one stream chunk (header + 1 MiB + tag).
pub const MAX_THUMBNAIL_SIZE: usize =
    vault_crypto::STREAM_HEADER_SIZE + vault_crypto::ENCRYPTED_CHUNK_SIZE;
/// Smallest sealed blob: a header and an empty chunk's tag.
pub const MIN_BLOB_SIZE: usize = vault_crypto::STREAM_HEADER_SIZE + vault_crypto::TAG_SIZE;
/// Largest sealed album name or link label.
pub const MAX_ALBUM_NAME_SIZE: usize = 1024;
/// Most files a page lists: 200 × (≤ 8 KiB metadata + ~250 bytes) stays under the 3 MiB
/// query reply limit with room to spare.
pub const MAX_PAGE: u32 = 200;
/// Most missing chunk indices an upload status lists (4 bytes each).
pub const MAX_MISSING_LISTED: usize = 100_000;
/// Most files one trash / restore / purge call takes.
pub const MAX_BATCH: usize = 100;
/// An upload with no activity for a day expires and its space is reclaimed.
pub const UPLOAD_TTL_NS: u64 = 24 * 3600 * 1_000_000_000;
/// Trashed files are purged after 30 days.
pub const TRASH_TTL_NS: u64 = 30 * 24 * 3600 * 1_000_000_000;
/// Most devices admitted to act as the owner.
pub const MAX_DEVICES: u64 = 32;
/// Most albums (keeps `list_albums` within one reply).
pub const MAX_ALBUMS: u64 = 5_000;
/// Most grants on one target.
pub const MAX_GRANTS_PER_TARGET: usize = 256;
/// Most links in a vault (keeps `list_links` within one reply).
pub const MAX_LINKS: u64 = 10_000;
/// Versions an album key may go through.
pub const MAX_KEY_VERSIONS: u32 = 1_000;
/// Rotations of the master key a vault allows (each keeps 61 bytes of the chain).
pub const MAX_MASTER_GENERATIONS: u32 = 1_000;
/// Wrong passphrase proofs a caller may make before its lock-outs begin.
pub const FREE_UNLOCK_ATTEMPTS: u32 = 5;
/// Longest lock-out of a caller after wrong passphrase proofs: a day.
pub const MAX_UNLOCK_LOCKOUT_NS: u64 = 24 * 3600 * 1_000_000_000;
/// Most uploads one contributor (a grantee, not the owner) may have in progress: a
/// contribution never holds the owner's space hostage beyond this (see `model/files.rs`).
pub const MAX_PENDING_CONTRIBUTIONS: usize = 8;
/// Most bytes one contributor's uploads in progress may reserve: 16 GiB (a long 4K video).
pub const MAX_CONTRIBUTION_RESERVED: u64 = 16 << 30;
/// Share notices (`notify_shared`) one sender may have waiting in a vault's inbox.
pub const MAX_NOTICES_PER_SENDER: usize = 4;
/// Share notices an inbox holds; past it, a new one replaces the oldest.
pub const MAX_NOTICES: usize = 256;
/// New share notices a vault takes in one hour (of the clock, UTC), from everyone together:
/// what strangers can make the vault pay for notices is bounded by it.
pub const MAX_NOTICES_PER_HOUR: u32 = 32;
/// Vaults the owner may follow (`answer_share`).
pub const MAX_FOLLOWED: usize = 1_000;
/// Vaults whose notices the owner dismissed, kept so that their notices are ignored; past it,
/// the oldest dismissal is forgotten.
pub const MAX_DISMISSED: usize = 1_000;
/// Most pending uploads one `list_uploads` page returns (~200 bytes each).
pub const MAX_UPLOADS_PAGE: u32 = 500;
/// Stable memory the vault may ever occupy: the memory manager's ceiling (32 768 buckets of
/// 8 MiB = 256 GiB, where its `grow` starts failing), below the IC's 500 GiB per canister.
pub const STABLE_MEMORY_LIMIT: u64 = 256 << 30;
/// Stable memory kept free for what a full vault must still do: trash, restore, purge, abort,
/// revoke, housekeeping and the activity-log entries they write. Nothing that adds data (an
/// upload, a chunk) may use it. 1 GiB is 128 of the memory manager's 8 MiB buckets: every one
/// of the 26 structures can grow several buckets before it would run out.
pub const MAINTENANCE_HEADROOM: u64 = 1 << 30;
/// The largest quota: what the vault may hold with the headroom kept free.
pub const MAX_QUOTA: u64 = STABLE_MEMORY_LIMIT - MAINTENANCE_HEADROOM;
/// Most entries one activity page returns.
pub const MAX_ACTIVITY_PAGE: u32 = 500;
