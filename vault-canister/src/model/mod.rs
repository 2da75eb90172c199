//! The vault's state and every transition, as plain Rust over stable `Memory`: no ic-cdk
//! calls, caller and time passed in, so all of it is tested natively on `VectorMemory`.
//!
//! Every update method validates everything first and only then mutates, so an error reply
//! leaves the state as it was. (The one deliberate exception is counting wrong unlock proofs.)

#![forbid(unsafe_code)]

pub mod activity;
pub mod chunks;
pub mod files;
pub mod guards;
pub mod profile;
pub mod room;
pub mod sharing;
pub mod stored;
pub use vault_interface::types;
pub mod uploads;

use candid::Principal;
use ic_stable_structures::memory_manager::VirtualMemory;
use ic_stable_structures::{Memory, StableBTreeMap, StableCell, StableLog};
use serde_bytes::ByteBuf;

use crate::memory::{self, Layout, Memories};
use chunks::ChunkStore;
use stored::{
    AlbumRecord, Config, FileRecord, GrantRecord, ID, Key, LinkRecord, Listed, PRINCIPAL,
    ProfileCell, ReclaimJob, TARGET, UploadRecord,
};
use types::{VaultError, VaultInfo, VaultResult};

pub use vault_interface::limits::*;

/// Chunks freed per message by housekeeping (bounds each message's instructions).
pub const RECLAIM_CHUNKS_PER_MESSAGE: u32 = 64;
/// Expired uploads and old trash handled per message by housekeeping.
pub const EXPIRE_PER_MESSAGE: usize = 4;
/// Callers whose wrong proofs are counted at once (30 + 12 bytes each, ~50 KiB in all). When
/// full, the lowest principal's count is dropped: strangers can always take fresh principals,
/// so the bound only keeps memory bounded; it never touches the owner's devices.
pub const MAX_COUNTED_CALLERS: u64 = 1_000;
/// Chunk index that holds a file's thumbnail in the chunk store.
pub const THUMBNAIL_CHUNK: u32 = u32::MAX;

type VM<M> = memory::StructureMemory<M>;

/// The updates a link holder makes, usually anonymously from a browser: counting a link
/// opening, over Candid or through the HTTP gateway (`http_request_update`).
const ANYONE_UPDATES: [&str; 2] = ["link_opened", "http_request_update"];

/// The largest argument inspect_message lets through for the updates a stranger may send,
/// by method; the owner's devices are not limited (the IC's 2 MiB ingress limit holds).
/// Each is far above what a real client sends, far below what would make a refused message
/// expensive: the cost a stranger can make the vault pay is in what inspect_message admits.
///
/// | method                 | largest real argument                              | limit   |
/// |------------------------|----------------------------------------------------|---------|
/// | admission_ticket       | nothing                                            | 1 KiB   |
/// | admit_device           | a proof (64 B), its method and counter (< 1 KiB)   | 4 KiB   |
/// | begin_upload           | thumbnail (1 MiB + 33 B) + metadata (8 KiB) + ~300 | +16 KiB |
/// | put_chunk              | one encrypted chunk (1 MiB + 16 B) + ~60           | +4 KiB  |
/// | commit/abort_upload    | a 16-byte file id                                  | 1 KiB   |
/// | link_opened            | a token and a password proof (64 B)                | 1 KiB   |
/// | shared_with_me         | nothing (a grantee reads it certified, as an update) | 1 KiB   |
/// | notify_shared          | a canister id (≤ 29 bytes)                         | 1 KiB   |
/// | http_request_update    | POST /s/api/opened: headers and a tiny body        | 32 KiB  |
pub(crate) fn ingress_arg_limit(method: &str) -> Option<usize> {
    const SMALL: usize = 1 << 10;
    Some(match method {
        "admit_device" => 4 << 10,
        "begin_upload" => MAX_THUMBNAIL_SIZE + MAX_METADATA_SIZE + (16 << 10),
        "put_chunk" => vault_crypto::ENCRYPTED_CHUNK_SIZE + (4 << 10),
        "admission_ticket" | "commit_upload" | "abort_upload" | "link_opened"
        | "shared_with_me" | "notify_shared" => SMALL,
        "http_request_update" => 32 << 10,
        _ => return None,
    })
}

/// All of a vault's state, in stable memory.
pub struct State<M: Memory> {
    pub(crate) config: StableCell<Config, VM<M>>,
    pub(crate) profile: StableCell<ProfileCell, VM<M>>,
    pub(crate) devices: StableBTreeMap<Key<PRINCIPAL>, u64, VM<M>>,
    pub(crate) unlock_failures: StableBTreeMap<Key<PRINCIPAL>, (u32, u64), VM<M>>,
    pub(crate) files: StableBTreeMap<Key<ID>, FileRecord, VM<M>>,
    pub(crate) timeline: StableBTreeMap<Key<24>, Listed, VM<M>>,
    pub(crate) album_files: StableBTreeMap<Key<40>, Listed, VM<M>>,
    pub(crate) trash: StableBTreeMap<Key<24>, Listed, VM<M>>,
    pub(crate) uploads: StableBTreeMap<Key<ID>, UploadRecord, VM<M>>,
    pub(crate) upload_expiry: StableBTreeMap<Key<24>, (), VM<M>>,
    pub(crate) chunks: ChunkStore<VM<M>>,
    pub(crate) albums: StableBTreeMap<Key<ID>, AlbumRecord, VM<M>>,
    pub(crate) album_keys: StableBTreeMap<Key<20>, Vec<u8>, VM<M>>,
    pub(crate) grants: StableBTreeMap<Key<{ TARGET + PRINCIPAL }>, GrantRecord, VM<M>>,
    pub(crate) grantee_index: StableBTreeMap<Key<{ PRINCIPAL + TARGET }>, (), VM<M>>,
    pub(crate) grant_keys: StableBTreeMap<Key<{ TARGET + PRINCIPAL + 4 }>, Vec<u8>, VM<M>>,
    pub(crate) links: StableBTreeMap<Key<32>, LinkRecord, VM<M>>,
    pub(crate) link_targets: StableBTreeMap<Key<{ TARGET + 32 }>, (), VM<M>>,
    pub(crate) log: StableLog<Vec<u8>, VM<M>, VM<M>>,
    pub(crate) dedupe: StableBTreeMap<Key<32>, Key<ID>, VM<M>>,
    pub(crate) reclaim: StableBTreeMap<u64, ReclaimJob, VM<M>>,
    pub(crate) contributions: StableBTreeMap<Key<{ PRINCIPAL + ID }>, (), VM<M>>,
    pub(crate) inbox: StableBTreeMap<Key<{ sharing::inbox::INBOX_KEY }>, u64, VM<M>>,
    stable_pages: Box<dyn Fn() -> u64>,
    /// Layout 2's METADATA memory, which the metadata may not fill (`room.rs`); none in layout 1.
    pub(crate) metadata_memory: Option<VirtualMemory<M>>,
    /// How much stable memory the vault may occupy (not stored: a constant of the code,
    /// smaller in tests).
    pub(crate) limits: room::MemoryLimits,
}

impl<M: Memory + Clone + 'static> State<M> {
    /// Opens the state in `memory`, in the layout it holds (`memory.rs`): an empty memory gets
    /// layout 2 and empty structures. O(1) whatever the vault holds, as post_upgrade needs.
    pub fn init(memory: M) -> Self {
        Self::open(
            memory.clone(),
            Memories::open(memory, memory::OUTER_BUCKET_PAGES),
        )
    }

    /// [`Self::init`] with small outer buckets (`pages` × 64 KiB) if the memory is empty, so
    /// that test snapshots of stable memory stay small (and the fuzzer's executions fast), and
    /// the memory grows with what is stored. Production uses 128 pages.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn init_with_bucket_pages(memory: M, pages: u16) -> Self {
        Self::open(memory.clone(), Memories::open(memory, pages))
    }

    /// Creates layout 1 in an empty `memory`, as every vault was created before layout 2 (one
    /// MemoryManager, every structure in its own memory; production's buckets were 128 pages):
    /// to test that what such vaults hold still opens ([`Self::init`]) and works.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn init_v1(memory: M, bucket_pages: u16) -> Self {
        Self::open(memory.clone(), Memories::create_v1(memory, bucket_pages))
    }

    fn open(size_probe: M, memories: Memories<M>) -> Self {
        let m = |id| memories.get(id);
        Self {
            config: StableCell::init(m(memory::CONFIG), Config::default()),
            profile: StableCell::init(m(memory::PROFILE), ProfileCell::default()),
            devices: StableBTreeMap::init(m(memory::DEVICES)),
            unlock_failures: StableBTreeMap::init(m(memory::UNLOCK_FAILURES)),
            files: StableBTreeMap::init(m(memory::FILES)),
            timeline: StableBTreeMap::init(m(memory::TIMELINE)),
            album_files: StableBTreeMap::init(m(memory::ALBUM_FILES)),
            trash: StableBTreeMap::init(m(memory::TRASH)),
            uploads: StableBTreeMap::init(m(memory::UPLOADS)),
            upload_expiry: StableBTreeMap::init(m(memory::UPLOAD_EXPIRY)),
            chunks: ChunkStore::init(
                m(memory::CHUNK_DATA),
                m(memory::CHUNK_INDEX),
                m(memory::CHUNK_FREE_START),
                m(memory::CHUNK_FREE_SIZE),
                m(memory::CHUNK_META),
            ),
            albums: StableBTreeMap::init(m(memory::ALBUMS)),
            album_keys: StableBTreeMap::init(m(memory::ALBUM_KEYS)),
            grants: StableBTreeMap::init(m(memory::GRANTS)),
            grantee_index: StableBTreeMap::init(m(memory::GRANTEE_INDEX)),
            grant_keys: StableBTreeMap::init(m(memory::GRANT_KEYS)),
            links: StableBTreeMap::init(m(memory::LINKS)),
            link_targets: StableBTreeMap::init(m(memory::LINK_TARGETS)),
            log: StableLog::init(m(memory::LOG_INDEX), m(memory::LOG_DATA)),
            dedupe: StableBTreeMap::init(m(memory::DEDUPE)),
            reclaim: StableBTreeMap::init(m(memory::RECLAIM)),
            contributions: StableBTreeMap::init(m(memory::CONTRIBUTIONS)),
            inbox: StableBTreeMap::init(m(memory::INBOX)),
            stable_pages: Box::new(move || size_probe.size()),
            metadata_memory: memories.metadata_memory(),
            limits: room::MemoryLimits::default(),
        }
    }
}

impl<M: Memory> State<M> {
    /// Sets the owner and quota at install. Refused on an installed vault (reinstall wipes
    /// stable memory first, upgrades do not call it).
    pub fn install(
        &mut self,
        owner: Principal,
        quota_bytes: Option<u64>,
        now: u64,
    ) -> VaultResult<()> {
        if !self.config.get().owner.is_empty() {
            return Err(VaultError::AlreadyExists);
        }
        if owner == Principal::anonymous() {
            return Err(VaultError::invalid(
                "owner",
                "the anonymous principal cannot own a vault",
            ));
        }
        let quota = quota_bytes.unwrap_or(DEFAULT_QUOTA);
        if quota > self.limits.max_quota() {
            return Err(VaultError::invalid(
                "quota_bytes",
                format!("at most {} bytes", self.limits.max_quota()),
            ));
        }
        self.set_config(|c| {
            c.owner = owner.as_slice().to_vec();
            c.quota_bytes = quota;
            c.created_at = now;
        });
        self.record(owner, now, types::Activity::VaultCreated);
        Ok(())
    }

    /// The layout the vault's stable memory holds (`memory.rs`).
    pub fn layout(&self) -> Layout {
        match self.metadata_memory {
            None => Layout::V1,
            Some(_) => Layout::V2,
        }
    }

    /// The principal set at install.
    pub fn owner(&self) -> Principal {
        Principal::from_slice(&self.config.get().owner)
    }

    /// Whether to accept an ingress call of `method` from `caller` with an argument of
    /// `arg_bytes` bytes (`canister_inspect_message`): a best-effort filter, run on one node,
    /// that spares the canister the cost of calls that can only be refused (a refused update
    /// is still paid for by the vault). Cheap: a few map lookups. Every method still checks
    /// its caller itself.
    ///
    /// The owner and devices: everything. Anyone else: only the updates they can succeed
    /// at, with an argument no larger than [`ingress_arg_limit`] — admitting a device; a
    /// contributor's upload (begin_upload with a contribute grant; put_chunk, commit and
    /// abort with an upload of their own in progress); a grantee's certified read of
    /// `shared_with_me`; a share notice while its sender has room and the hour's notices are
    /// not all taken (`sharing/inbox.rs`); what a link holder does. The anonymous principal:
    /// only what a link holder does.
    pub fn accepts_ingress(
        &self,
        caller: &Principal,
        method: &str,
        arg_bytes: usize,
        now: u64,
    ) -> bool {
        if self.is_owner(caller) {
            return true;
        }
        if ingress_arg_limit(method).is_none_or(|limit| arg_bytes > limit) {
            return false;
        }
        if *caller == Principal::anonymous() {
            return ANYONE_UPDATES.contains(&method);
        }
        match method {
            "admission_ticket" | "admit_device" => true,
            "begin_upload" => self.contributes_somewhere(caller, now),
            "put_chunk" | "commit_upload" | "abort_upload" => self.has_contributions(caller),
            "shared_with_me" => self.has_live_grant(caller, now),
            "notify_shared" => self.may_take_notice(caller, now).is_ok(),
            _ => ANYONE_UPDATES.contains(&method),
        }
    }

    /// Whether a rotation of the master key made on another device signed the install owner
    /// out (it proves a secret again to act as the owner).
    fn install_owner_signed_out(&self) -> bool {
        self.profile
            .get()
            .profile
            .as_ref()
            .is_some_and(|p| p.owner_signed_out())
    }

    pub(crate) fn set_config(&mut self, f: impl FnOnce(&mut Config)) {
        let mut config = self.config.get().clone();
        f(&mut config);
        self.config.set(config);
    }

    /// Bounded background work, run at the start of every update: expire idle uploads, purge
    /// old trash, and free a slice of deleted files' chunks.
    pub fn housekeeping(&mut self, now: u64) {
        self.expire_uploads(now, EXPIRE_PER_MESSAGE);
        self.purge_old_trash(now, EXPIRE_PER_MESSAGE);
        self.reclaim_chunks(RECLAIM_CHUNKS_PER_MESSAGE);
    }

    /// Queues a deleted file's chunks (and thumbnail) to be freed by housekeeping.
    pub(crate) fn queue_reclaim(&mut self, storage_id: u64, chunk_count: u32, thumbnail: bool) {
        let seq = self.config.get().reclaim_seq;
        self.set_config(|c| c.reclaim_seq += 1);
        self.reclaim.insert(
            seq,
            ReclaimJob {
                storage_id,
                next: 0,
                end: chunk_count,
                thumbnail,
            },
        );
    }

    /// A fresh chunk-storage id (never reused).
    pub(crate) fn next_storage_id(&mut self) -> u64 {
        let id = self.config.get().next_storage_id;
        self.set_config(|c| c.next_storage_id += 1);
        id
    }

    /// Frees up to `budget` chunks of queued deletions.
    pub fn reclaim_chunks(&mut self, mut budget: u32) {
        while budget > 0 {
            let Some(entry) = self.reclaim.first_key_value() else {
                return;
            };
            let (seq, mut job) = entry;
            while budget > 0 && job.next < job.end {
                self.chunks
                    .remove(&chunks::chunk_key(job.storage_id, job.next));
                job.next += 1;
                budget -= 1;
            }
            if job.thumbnail && budget > 0 {
                self.chunks
                    .remove(&chunks::chunk_key(job.storage_id, THUMBNAIL_CHUNK));
                job.thumbnail = false;
                budget -= 1;
            }
            if job.next == job.end && !job.thumbnail {
                self.reclaim.remove(&seq);
            } else {
                self.reclaim.insert(seq, job);
            }
        }
    }

    /// Chunks still waiting to be freed.
    pub fn reclaim_pending(&self) -> u64 {
        self.reclaim
            .iter()
            .map(|e| e.value())
            .map(|j| (j.end - j.next) as u64 + j.thumbnail as u64)
            .sum()
    }

    /// Usage and limits (owner only).
    pub fn vault_info(&self, caller: &Principal) -> VaultResult<VaultInfo> {
        self.require_owner(caller)?;
        let c = self.config.get();
        Ok(VaultInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            owner: self.owner(),
            set_up: self.profile.get().profile.is_some(),
            used_bytes: c.used_bytes,
            reserved_bytes: c.reserved_bytes,
            quota_bytes: c.quota_bytes,
            files: c.files,
            trashed_files: c.trashed_files,
            chunks: self.chunks.meta().chunks,
            albums: c.albums,
            uploads_in_progress: self.uploads.len(),
            stable_memory_bytes: (self.stable_pages)() * memory::WASM_PAGE_SIZE,
            created_at: c.created_at,
            // The canister's own balance, which the plain-Rust model cannot read (`lib.rs`).
            cycles: None,
        })
    }

    /// Changes the quota (owner). It may not go below what is stored and reserved.
    pub fn set_quota(&mut self, caller: &Principal, now: u64, bytes: u64) -> VaultResult<()> {
        self.require_owner(caller)?;
        let c = self.config.get();
        let committed = c.used_bytes + c.reserved_bytes;
        if bytes < committed {
            return Err(VaultError::invalid(
                "bytes",
                format!("below the {committed} bytes already stored or reserved"),
            ));
        }
        if bytes > self.limits.max_quota() {
            return Err(VaultError::invalid(
                "bytes",
                format!(
                    "at most {} bytes: the canister's stable memory, less what is kept free to empty the trash",
                    self.limits.max_quota()
                ),
            ));
        }
        self.set_config(|c| c.quota_bytes = bytes);
        self.record(*caller, now, types::Activity::QuotaSet { bytes });
        Ok(())
    }
}

/// Checks a blob argument's exact length.
pub(crate) fn exact(field: &str, bytes: &ByteBuf, len: usize) -> VaultResult<()> {
    if bytes.len() == len {
        Ok(())
    } else {
        Err(VaultError::invalid(
            field,
            format!("must be {len} bytes, got {}", bytes.len()),
        ))
    }
}

/// Checks a blob argument's length range.
pub(crate) fn within(field: &str, bytes: &ByteBuf, min: usize, max: usize) -> VaultResult<()> {
    if (min..=max).contains(&bytes.len()) {
        Ok(())
    } else {
        Err(VaultError::invalid(
            field,
            format!("must be {min} to {max} bytes, got {}", bytes.len()),
        ))
    }
}

/// A 16-byte id argument.
pub(crate) fn id_arg(field: &str, bytes: &[u8]) -> VaultResult<[u8; ID]> {
    bytes
        .try_into()
        .map_err(|_| VaultError::invalid(field, format!("must be {ID} bytes, got {}", bytes.len())))
}

/// A 32-byte argument (hashes, verifiers, tokens).
pub(crate) fn bytes32(field: &str, bytes: &ByteBuf) -> VaultResult<[u8; 32]> {
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| VaultError::invalid(field, format!("must be 32 bytes, got {}", bytes.len())))
}

/// A versioned fixed-size key blob (wrapped key, sealed key, stream header): length and version.
pub(crate) fn versioned(field: &str, bytes: &ByteBuf, len: usize) -> VaultResult<()> {
    exact(field, bytes, len)?;
    if bytes[0] != vault_crypto::FORMAT_VERSION {
        return Err(VaultError::invalid(
            field,
            format!("unsupported format version {}", bytes[0]),
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(any(test, feature = "fuzzing"))]
mod invariants;
#[cfg(test)]
mod tests;
