//! Organising: moving a file between albums, trash and restore, purging for good, and
//! emptying the trash of what has been there too long.

use super::*;

impl<M: Memory> State<M> {
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
