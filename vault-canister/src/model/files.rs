//! Files: uploads (begin, put chunks in any order, commit or abort: `upload`), reads (pages,
//! chunks, thumbnails: `read`), and organising (move, trash, restore, purge: `organise`). Here:
//! the index keys they share and the live-file indexes. Who may do what is `guards`.

mod organise;
mod read;
mod upload;

use std::ops::Bound;

use candid::Principal;
use ic_stable_structures::{Memory, StableBTreeMap, Storable};
use serde_bytes::ByteBuf;
use vault_crypto::{STREAM_HEADER_SIZE, WRAPPED_KEY_SIZE};

use super::chunks::chunk_key;
use super::room;
use super::stored::{
    FileRecord, ID, Key, Listed, UploadRecord, from_ordered_i64, key, ordered_i64,
};
use super::types::{
    Activity, BeginUploadArgs, Cursor, FileInfo, FilePage, FileRef, GetChunkArgs, ListFilesArgs,
    MoveFileArgs, PutChunkArgsRef, Target, UploadStatus, VaultError, VaultResult,
};
use super::{
    MAX_BATCH, MAX_FILE_SIZE, MAX_METADATA_SIZE, MAX_MISSING_LISTED, MAX_PAGE, MAX_THUMBNAIL_SIZE,
    MIN_BLOB_SIZE, State, THUMBNAIL_CHUNK, TRASH_TTL_NS, UPLOAD_TTL_NS, bytes32, id_arg, versioned,
    within,
};

/// `ordered sort key || file id`: the timeline and trash order.
fn sorted_key(sort_key: i64, id: &[u8; ID]) -> Key<24> {
    key(&[&ordered_i64(sort_key), id])
}

/// `album || ordered sort key || file id`.
fn album_sorted_key(album: &[u8; ID], sort_key: i64, id: &[u8; ID]) -> Key<40> {
    key(&[album, &ordered_i64(sort_key), id])
}

/// `time || file id`, for upload expiry.
fn time_key(time: u64, id: &[u8; ID]) -> Key<24> {
    key(&[&time.to_be_bytes(), id])
}

fn file_info(id: &[u8; ID], f: FileRecord) -> FileInfo {
    FileInfo {
        id: ByteBuf::from(id.to_vec()),
        size: f.size,
        chunk_count: f.chunk_count,
        content_header: ByteBuf::from(f.content_header),
        wrapped_key: ByteBuf::from(f.wrapped_key),
        album: f.album.map(|a| ByteBuf::from(a.to_vec())),
        key_version: f.key_version,
        metadata: ByteBuf::from(f.metadata),
        thumbnail_size: f.thumbnail_size,
        sort_key: f.sort_key,
        created_at: f.created_at,
        uploader: Principal::from_slice(&f.uploader),
        trashed_at: f.trashed_at,
    }
}

impl<M: Memory> State<M> {
    /// Adds a live (not trashed) file to the timeline and its album's index, each entry with
    /// a copy of `f`: call it with the record as FILES gets it.
    fn index_live(&mut self, id: &[u8; ID], f: &FileRecord) {
        self.timeline
            .insert(sorted_key(f.sort_key, id), Listed(Some(f.clone())));
        if let Some(album) = &f.album {
            self.album_files.insert(
                album_sorted_key(album, f.sort_key, id),
                Listed(Some(f.clone())),
            );
        }
    }

    fn unindex_live(&mut self, id: &[u8; ID], f: &FileRecord) {
        self.timeline.remove(&sorted_key(f.sort_key, id));
        if let Some(album) = &f.album {
            self.album_files
                .remove(&album_sorted_key(album, f.sort_key, id));
        }
    }
}

fn store_full() -> VaultError {
    VaultError::conflict(
        "the vault's stable memory is full: empty the trash (purge) or abort uploads to make room",
    )
}
