//! Uploads: begin (or resume), put chunks in any order, their status, commit or abort; and
//! uploads that expire.

use super::*;

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
        self.require_room(
            stored_bytes,
            room::file_metadata_charge(args.size, thumbnail_len as u64, record_len),
        )?;
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
    pub(super) fn check_key_version(
        &self,
        album: Option<&[u8; ID]>,
        key_version: u32,
    ) -> VaultResult<u32> {
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
                .require_room(
                    room::block_rounded(args.data.len() as u64),
                    room::chunk_index_charge(),
                )
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
}
