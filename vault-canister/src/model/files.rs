//! Files: uploads (begin, put chunks in any order, commit or abort), reads (pages, chunks,
//! thumbnails), and organising (move, trash, restore, purge).

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
    /// Starts an upload, or returns where an identical one stands (resume).
    ///
    /// Caller: the owner; or a grantee with `Contribute` on the album (the album is required).
    pub fn begin_upload(
        &mut self,
        caller: &Principal,
        now: u64,
        args: BeginUploadArgs,
    ) -> VaultResult<UploadStatus> {
        let id = id_arg("file_id", &args.file_id)?;
        let album = args
            .album
            .as_ref()
            .map(|a| id_arg("album", a))
            .transpose()?;
        self.authorize_upload(caller, now, album.as_ref())?;
        if args.size > MAX_FILE_SIZE {
            return Err(VaultError::invalid(
                "size",
                format!("files are at most {MAX_FILE_SIZE} bytes"),
            ));
        }
        versioned("content_header", &args.content_header, STREAM_HEADER_SIZE)?;
        versioned("wrapped_key", &args.wrapped_key, WRAPPED_KEY_SIZE)?;
        within("metadata", &args.metadata, MIN_BLOB_SIZE, MAX_METADATA_SIZE)?;
        if let Some(t) = &args.thumbnail {
            within("thumbnail", t, MIN_BLOB_SIZE, MAX_THUMBNAIL_SIZE)?;
        }
        let dedupe_hash = args
            .dedupe_hash
            .as_ref()
            .map(|h| bytes32("dedupe_hash", h))
            .transpose()?;
        self.check_key_version(album.as_ref(), args.key_version)?;
        let thumbnail_len = args.thumbnail.as_ref().map_or(0, |t| t.len());
        let chunk_count = vault_crypto::chunk_count(args.size) as u32;
        let mut file = FileRecord {
            size: args.size,
            chunk_count,
            content_header: args.content_header.to_vec(),
            wrapped_key: args.wrapped_key.to_vec(),
            album,
            key_version: args.key_version,
            metadata: args.metadata.to_vec(),
            thumbnail_size: thumbnail_len as u32,
            dedupe_hash,
            sort_key: args.sort_key,
            created_at: now,
            uploader: caller.as_slice().to_vec(),
            trashed_at: None,
            // The longest these two encode, for the record's length.
            stored_bytes: u64::MAX,
            storage_id: u64::MAX,
        };
        let record_len = file.to_bytes().len() as u64;
        let stored_bytes = room::file_charge(args.size, thumbnail_len as u64, record_len);
        file.stored_bytes = stored_bytes;
        if let Some(existing) = self.uploads.get(&Key(id)) {
            // (An upload begun before charges were counted as stored keeps its charge.)
            let same = FileRecord {
                created_at: existing.file.created_at,
                storage_id: existing.file.storage_id,
                stored_bytes: existing.file.stored_bytes,
                ..file
            };
            if same != existing.file {
                return Err(VaultError::AlreadyExists);
            }
            if let Some(thumbnail) = &args.thumbnail
                && self
                    .chunks
                    .get(&chunk_key(existing.file.storage_id, THUMBNAIL_CHUNK))
                    .as_deref()
                    != Some(thumbnail.as_slice())
            {
                return Err(VaultError::AlreadyExists);
            }
            self.touch_upload(&id, existing, now);
            return self.upload_status(caller, now, &args.file_id);
        }
        if self.files.contains_key(&Key(id)) {
            return Err(VaultError::AlreadyExists);
        }
        if let Some(hash) = &dedupe_hash
            && let Some(existing) = self.dedupe.get(&Key(*hash))
        {
            return Err(VaultError::Duplicate {
                existing: ByteBuf::from(existing.0.to_vec()),
            });
        }
        let c = self.config.get();
        let available = c
            .quota_bytes
            .saturating_sub(c.used_bytes + c.reserved_bytes);
        if stored_bytes > available {
            return Err(VaultError::QuotaExceeded {
                needed: stored_bytes,
                available,
            });
        }
        self.require_room(stored_bytes)?;
        if !self.is_owner(caller) {
            self.check_contribution_bound(caller, stored_bytes)?;
        }
        let storage_id = self.config.get().next_storage_id;
        if let Some(thumbnail) = &args.thumbnail {
            self.chunks
                .put(chunk_key(storage_id, THUMBNAIL_CHUNK), thumbnail)
                .map_err(|_| store_full())?;
        }
        let file = FileRecord {
            storage_id: self.next_storage_id(),
            ..file
        };
        self.uploads.insert(
            Key(id),
            UploadRecord {
                file,
                received: 0,
                last_activity: now,
            },
        );
        self.upload_expiry.insert(time_key(now, &id), ());
        self.note_upload(&id, caller);
        self.set_config(|c| c.reserved_bytes += stored_bytes);
        self.upload_status(caller, now, &args.file_id)
    }

    /// A file key must be wrapped with its album's current key version (0 outside albums),
    /// so that nothing is added under a key a revoked grantee holds. Returns that version.
    fn check_key_version(&self, album: Option<&[u8; ID]>, key_version: u32) -> VaultResult<u32> {
        let current = match album {
            Some(a) => {
                self.albums
                    .get(&Key(*a))
                    .ok_or(VaultError::NotFound)?
                    .key_version
            }
            None => 0,
        };
        if key_version != current {
            return Err(VaultError::conflict(format!(
                "the file key must be wrapped with version {current} of the album key, not {key_version}"
            )));
        }
        Ok(current)
    }

    fn touch_upload(&mut self, id: &[u8; ID], mut upload: UploadRecord, now: u64) {
        self.upload_expiry
            .remove(&time_key(upload.last_activity, id));
        self.upload_expiry.insert(time_key(now, id), ());
        upload.last_activity = now;
        self.uploads.insert(Key(*id), upload);
    }

    /// Stores one chunk of an upload; sending a chunk again replaces it (its uploader, or the owner).
    pub fn put_chunk(
        &mut self,
        caller: &Principal,
        now: u64,
        args: PutChunkArgsRef<'_>,
    ) -> VaultResult<()> {
        let (id, mut upload) = self.upload_for(caller, now, args.file_id)?;
        let f = &upload.file;
        if args.index >= f.chunk_count {
            return Err(VaultError::invalid(
                "index",
                format!("the file has {} chunks", f.chunk_count),
            ));
        }
        // The index is below the chunk count (checked above): the length is there.
        let expected =
            vault_crypto::encrypted_chunk_len(f.size, args.index.into()).unwrap_or(0) as usize;
        if args.data.len() != expected {
            return Err(VaultError::invalid(
                "data",
                format!(
                    "chunk {} must be {expected} bytes, got {}",
                    args.index,
                    args.data.len()
                ),
            ));
        }
        let key = chunk_key(f.storage_id, args.index);
        let new = self.chunks.len_of(&key).is_none();
        // The upload's charge was checked against the memory's room when it began; a chunk
        // still never takes the headroom kept for emptying a full vault.
        if new
            && self
                .require_room(room::block_rounded(args.data.len() as u64))
                .is_err()
        {
            return Err(store_full());
        }
        self.chunks.put(key, args.data).map_err(|_| store_full())?;
        if new {
            upload.received += 1;
        }
        self.touch_upload(&id, upload, now);
        Ok(())
    }

    /// Which chunks an upload still needs (its uploader, or the owner).
    pub fn upload_status(
        &self,
        caller: &Principal,
        now: u64,
        file_id: &ByteBuf,
    ) -> VaultResult<UploadStatus> {
        let (_, upload) = self.upload_for(caller, now, file_id)?;
        let mut present = self
            .chunks
            .indices_of(upload.file.storage_id)
            .filter(|&i| i != THUMBNAIL_CHUNK)
            .peekable();
        let mut missing = Vec::new();
        for index in 0..upload.file.chunk_count {
            if present.next_if_eq(&index).is_none() && missing.len() < MAX_MISSING_LISTED {
                missing.push(index);
            }
        }
        Ok(UploadStatus {
            file_id: file_id.clone(),
            chunk_count: upload.file.chunk_count,
            missing,
            missing_count: upload.file.chunk_count - upload.received,
            expires_at: upload.last_activity + UPLOAD_TTL_NS,
        })
    }

    /// Completes an upload: every chunk is there, so the file appears (its uploader, or the owner).
    pub fn commit_upload(
        &mut self,
        caller: &Principal,
        now: u64,
        file_id: &ByteBuf,
    ) -> VaultResult<FileInfo> {
        let (id, upload) = self.upload_for(caller, now, file_id)?;
        let f = upload.file;
        let uploader = Principal::from_slice(&f.uploader);
        self.authorize_upload(&uploader, now, f.album.as_ref())?;
        if upload.received != f.chunk_count {
            return Err(VaultError::conflict(format!(
                "{} of {} chunks are still missing",
                f.chunk_count - upload.received,
                f.chunk_count
            )));
        }
        if let Some(album) = &f.album {
            let current = self
                .albums
                .get(&Key(*album))
                .ok_or(VaultError::NotFound)?
                .key_version;
            if current != f.key_version {
                return Err(VaultError::conflict(format!(
                    "the album's key was rotated to version {current} during the upload: abort and upload again"
                )));
            }
        }
        if let Some(hash) = &f.dedupe_hash
            && let Some(existing) = self.dedupe.get(&Key(*hash))
        {
            return Err(VaultError::Duplicate {
                existing: ByteBuf::from(existing.0.to_vec()),
            });
        }
        self.uploads.remove(&Key(id));
        self.upload_expiry
            .remove(&time_key(upload.last_activity, &id));
        self.forget_upload(&id, &f.uploader);
        let f = FileRecord {
            created_at: now,
            ..f
        };
        self.index_live(&id, &f);
        if let Some(hash) = &f.dedupe_hash {
            self.dedupe.insert(Key(*hash), Key(id));
        }
        if let Some(album) = &f.album {
            self.update_album(album, |a| a.file_count += 1);
        }
        self.set_config(|c| {
            c.reserved_bytes -= f.stored_bytes;
            c.used_bytes += f.stored_bytes;
            c.files += 1;
        });
        self.files.insert(Key(id), f.clone());
        self.record(
            *caller,
            now,
            Activity::FileUploaded {
                file_id: file_id.clone(),
                album: f.album.map(|a| ByteBuf::from(a.to_vec())),
                size: f.size,
            },
        );
        Ok(file_info(&id, f))
    }

    /// Abandons an upload and frees what it sent (its uploader, or the owner).
    pub fn abort_upload(
        &mut self,
        caller: &Principal,
        now: u64,
        file_id: &ByteBuf,
    ) -> VaultResult<()> {
        let (id, upload) = self.upload_for(caller, now, file_id)?;
        self.drop_upload(&id, &upload);
        self.record(
            *caller,
            now,
            Activity::UploadAborted {
                file_id: file_id.clone(),
            },
        );
        Ok(())
    }

    pub(crate) fn drop_upload(&mut self, id: &[u8; ID], upload: &UploadRecord) {
        self.uploads.remove(&Key(*id));
        self.forget_upload(id, &upload.file.uploader);
        self.upload_expiry
            .remove(&time_key(upload.last_activity, id));
        self.set_config(|c| c.reserved_bytes -= upload.file.stored_bytes);
        self.queue_reclaim(
            upload.file.storage_id,
            upload.file.chunk_count,
            upload.file.thumbnail_size > 0,
        );
    }

    /// Expires up to `limit` uploads idle for longer than [`UPLOAD_TTL_NS`].
    pub(crate) fn expire_uploads(&mut self, now: u64, limit: usize) {
        for _ in 0..limit {
            let Some(oldest) = self.upload_expiry.keys().next() else {
                return;
            };
            let last = u64::from_be_bytes(oldest.0[..8].try_into().expect("8 bytes"));
            if last + UPLOAD_TTL_NS > now {
                return;
            }
            let id: [u8; ID] = oldest.0[8..].try_into().expect("16 bytes");
            let upload = self
                .uploads
                .get(&Key(id))
                .expect("every expiry entry has its upload");
            self.drop_upload(&id, &upload);
            self.record(
                Principal::management_canister(),
                now,
                Activity::UploadExpired {
                    file_id: ByteBuf::from(id.to_vec()),
                },
            );
        }
    }

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

    /// One file's record (owner; grantee; link holder).
    pub fn get_file(&self, caller: &Principal, now: u64, args: FileRef) -> VaultResult<FileInfo> {
        let (id, f) = self.readable_file(caller, now, &args.file_id, args.link.as_ref())?;
        Ok(file_info(&id, f))
    }

    /// One encrypted chunk (owner; grantee; link holder).
    pub fn get_chunk(
        &self,
        caller: &Principal,
        now: u64,
        args: GetChunkArgs,
    ) -> VaultResult<ByteBuf> {
        let (_, f) = self.readable_file(caller, now, &args.file_id, args.link.as_ref())?;
        if args.index >= f.chunk_count {
            return Err(VaultError::invalid(
                "index",
                format!("the file has {} chunks", f.chunk_count),
            ));
        }
        let bytes = self
            .chunks
            .get(&chunk_key(f.storage_id, args.index))
            .expect("committed files have every chunk");
        Ok(ByteBuf::from(bytes))
    }

    /// The encrypted thumbnail (owner; grantee; link holder).
    pub fn get_thumbnail(
        &self,
        caller: &Principal,
        now: u64,
        args: FileRef,
    ) -> VaultResult<ByteBuf> {
        let (_, f) = self.readable_file(caller, now, &args.file_id, args.link.as_ref())?;
        self.chunks
            .get(&chunk_key(f.storage_id, THUMBNAIL_CHUNK))
            .map(ByteBuf::from)
            .ok_or(VaultError::NotFound)
    }

    /// A page of files: the timeline or trash (owner), an album (owner, its grantees, a link
    /// to it), or a linked file.
    pub fn list_files(
        &self,
        caller: &Principal,
        now: u64,
        args: ListFilesArgs,
    ) -> VaultResult<FilePage> {
        let limit = args.limit.unwrap_or(100).clamp(1, MAX_PAGE) as usize;
        let descending = args.descending.unwrap_or(true);
        let after = args
            .after
            .as_ref()
            .map(|c| Ok::<_, VaultError>((c.sort_key, id_arg("after.file_id", &c.file_id)?)))
            .transpose()?;
        let album = args
            .album
            .as_ref()
            .map(|a| id_arg("album", a))
            .transpose()?;
        if let Some(access) = &args.link {
            let (_, link) = self.resolve_link(now, access)?;
            return match self.link_target(&link) {
                Target::File(id) => {
                    let id = id_arg("file_id", &id)?;
                    let f = self
                        .files
                        .get(&Key(id))
                        .filter(|f| f.trashed_at.is_none())
                        .ok_or(VaultError::NotFound)?;
                    let files = if after.is_none() {
                        vec![file_info(&id, f)]
                    } else {
                        vec![]
                    };
                    Ok(FilePage { files, next: None })
                }
                Target::Album(a) => {
                    let a = id_arg("album", &a)?;
                    if album.is_some_and(|requested| requested != a) {
                        return Err(VaultError::NotAuthorized);
                    }
                    Ok(self.page(&self.album_files, &a, after, descending, limit))
                }
            };
        }
        if args.trashed.unwrap_or(false) {
            self.require_owner(caller)?;
            return Ok(self.page(&self.trash, &[], after, descending, limit));
        }
        match album {
            Some(a) => {
                if !self.albums.contains_key(&Key(a)) {
                    return Err(if self.is_owner(caller) {
                        VaultError::NotFound
                    } else {
                        VaultError::NotAuthorized
                    });
                }
                if !self.is_owner(caller)
                    && !self.grant_allows(caller, now, &Target::Album(ByteBuf::from(a.to_vec())))?
                {
                    return Err(VaultError::NotAuthorized);
                }
                Ok(self.page(&self.album_files, &a, after, descending, limit))
            }
            None => {
                self.require_owner(caller)?;
                Ok(self.page(&self.timeline, &[], after, descending, limit))
            }
        }
    }

    /// A page of `index`, whose keys are `prefix || ordered sort key || file id` and whose
    /// values are the files' records: one walk, no lookup per file (but for entries from
    /// before the copies were kept, see [`Listed`]).
    fn page<const N: usize>(
        &self,
        index: &StableBTreeMap<Key<N>, Listed, super::VM<M>>,
        prefix: &[u8],
        after: Option<(i64, [u8; ID])>,
        descending: bool,
        limit: usize,
    ) -> FilePage {
        let lowest = Bound::Included(key::<N>(&[prefix, &[0u8; 24]]));
        let highest = Bound::Included(key::<N>(&[prefix, &[0xffu8; 24]]));
        let cursor = after.map(|(sort_key, id)| key::<N>(&[prefix, &ordered_i64(sort_key), &id]));
        let mut entries = index.range(match (descending, cursor) {
            (true, Some(c)) => (lowest, Bound::Excluded(c)),
            (false, Some(c)) => (Bound::Excluded(c), highest),
            (_, None) => (lowest, highest),
        });
        let mut next_entry = || {
            if descending {
                entries.next_back()
            } else {
                entries.next()
            }
        };
        let mut files = Vec::with_capacity(limit);
        let mut last = None;
        while files.len() < limit {
            let Some(entry) = next_entry() else { break };
            let k = *entry.key();
            let id: [u8; ID] = k.0[N - ID..].try_into().expect("keys end with the file id");
            let f = match entry.value().0 {
                Some(f) => f,
                None => self.files.get(&Key(id)).expect("indexed files exist"),
            };
            files.push(file_info(&id, f));
            last = Some(k);
        }
        // Whether another page follows: the next entry's key says, its value is not read.
        let next = match last {
            Some(last) if next_entry().is_some() => Some(Cursor {
                sort_key: from_ordered_i64(&last.0[N - ID - 8..N - ID]),
                file_id: ByteBuf::from(last.0[N - ID..].to_vec()),
            }),
            _ => None,
        };
        FilePage { files, next }
    }

    /// Moves a file into an album, out of one, or between two; the client re-wraps its key
    /// under the destination's current key (owner).
    pub fn move_file(
        &mut self,
        caller: &Principal,
        now: u64,
        args: MoveFileArgs,
    ) -> VaultResult<FileInfo> {
        self.require_owner(caller)?;
        let id = id_arg("file_id", &args.file_id)?;
        let mut f = self.files.get(&Key(id)).ok_or(VaultError::NotFound)?;
        if f.trashed_at.is_some() {
            return Err(VaultError::conflict(
                "the file is in the trash: restore it first",
            ));
        }
        let album = args
            .album
            .as_ref()
            .map(|a| id_arg("album", a))
            .transpose()?;
        versioned("wrapped_key", &args.wrapped_key, WRAPPED_KEY_SIZE)?;
        let version = self.check_key_version(album.as_ref(), args.key_version)?;
        self.unindex_live(&id, &f);
        if let Some(old) = &f.album {
            self.update_album(old, |a| a.file_count -= 1);
        }
        f.album = album;
        f.key_version = version;
        f.wrapped_key = args.wrapped_key.into_vec();
        if let Some(new) = &album {
            self.update_album(new, |a| a.file_count += 1);
        }
        self.index_live(&id, &f);
        self.files.insert(Key(id), f.clone());
        self.record(
            *caller,
            now,
            Activity::FileMoved {
                file_id: args.file_id,
                album: args.album,
            },
        );
        Ok(file_info(&id, f))
    }

    /// Checks a batch of file ids: each exists and is (or is not) in the trash.
    fn batch(
        &self,
        file_ids: &[ByteBuf],
        trashed: bool,
    ) -> VaultResult<Vec<([u8; ID], FileRecord)>> {
        if file_ids.is_empty() || file_ids.len() > MAX_BATCH {
            return Err(VaultError::invalid(
                "file_ids",
                format!("give 1 to {MAX_BATCH} files"),
            ));
        }
        let mut out: Vec<([u8; ID], FileRecord)> = Vec::with_capacity(file_ids.len());
        for file_id in file_ids {
            let id = id_arg("file_ids", file_id)?;
            let f = self.files.get(&Key(id)).ok_or(VaultError::NotFound)?;
            if f.trashed_at.is_some() != trashed {
                let why = if trashed {
                    "is not in the trash"
                } else {
                    "is already in the trash"
                };
                return Err(VaultError::conflict(format!(
                    "file {} {why}",
                    hex::encode(id)
                )));
            }
            if out.iter().any(|(seen, _)| *seen == id) {
                return Err(VaultError::invalid("file_ids", "a file is listed twice"));
            }
            out.push((id, f));
        }
        Ok(out)
    }

    /// Moves files to the trash (owner). They leave the timeline and albums, and grantees and
    /// links no longer see them; they are purged after 30 days.
    pub fn trash(
        &mut self,
        caller: &Principal,
        now: u64,
        file_ids: Vec<ByteBuf>,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        for (id, mut f) in self.batch(&file_ids, false)? {
            self.unindex_live(&id, &f);
            f.trashed_at = Some(now);
            self.trash
                .insert(sorted_key(now as i64, &id), Listed(Some(f.clone())));
            self.files.insert(Key(id), f);
            self.set_config(|c| c.trashed_files += 1);
            self.record(
                *caller,
                now,
                Activity::FileTrashed {
                    file_id: ByteBuf::from(id.to_vec()),
                },
            );
        }
        Ok(())
    }

    /// Brings files back from the trash (owner).
    pub fn restore(
        &mut self,
        caller: &Principal,
        now: u64,
        file_ids: Vec<ByteBuf>,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        for (id, mut f) in self.batch(&file_ids, true)? {
            self.trash.remove(&sorted_key(
                f.trashed_at.expect("batch checked") as i64,
                &id,
            ));
            f.trashed_at = None;
            self.index_live(&id, &f);
            self.files.insert(Key(id), f);
            self.set_config(|c| c.trashed_files -= 1);
            self.record(
                *caller,
                now,
                Activity::FileRestored {
                    file_id: ByteBuf::from(id.to_vec()),
                },
            );
        }
        Ok(())
    }

    /// Deletes trashed files for good (owner): their space is freed at once in the quota, and
    /// their chunks over the next messages.
    pub fn purge(
        &mut self,
        caller: &Principal,
        now: u64,
        file_ids: Vec<ByteBuf>,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        for (id, f) in self.batch(&file_ids, true)? {
            self.purge_one(*caller, now, &id, f);
        }
        Ok(())
    }

    fn purge_one(&mut self, caller: Principal, now: u64, id: &[u8; ID], f: FileRecord) {
        self.trash.remove(&sorted_key(
            f.trashed_at.expect("only trashed files are purged") as i64,
            id,
        ));
        self.files.remove(&Key(*id));
        if let Some(hash) = &f.dedupe_hash {
            self.dedupe.remove(&Key(*hash));
        }
        if let Some(album) = &f.album {
            self.update_album(album, |a| a.file_count -= 1);
        }
        self.drop_sharing(caller, now, &Target::File(ByteBuf::from(id.to_vec())));
        self.set_config(|c| {
            c.used_bytes -= f.stored_bytes;
            c.files -= 1;
            c.trashed_files -= 1;
        });
        self.queue_reclaim(f.storage_id, f.chunk_count, f.thumbnail_size > 0);
        self.record(
            caller,
            now,
            Activity::FilePurged {
                file_id: ByteBuf::from(id.to_vec()),
            },
        );
    }

    /// Purges up to `limit` files trashed more than [`TRASH_TTL_NS`] ago.
    pub(crate) fn purge_old_trash(&mut self, now: u64, limit: usize) {
        for _ in 0..limit {
            let Some(oldest) = self.trash.keys().next() else {
                return;
            };
            let trashed_at = from_ordered_i64(&oldest.0[..8]) as u64;
            if trashed_at + TRASH_TTL_NS > now {
                return;
            }
            let id: [u8; ID] = oldest.0[8..].try_into().expect("16 bytes");
            let f = self.files.get(&Key(id)).expect("trashed files exist");
            self.purge_one(Principal::management_canister(), now, &id, f);
        }
    }
}

fn store_full() -> VaultError {
    VaultError::conflict(
        "the vault's stable memory is full: empty the trash (purge) or abort uploads to make room",
    )
}
