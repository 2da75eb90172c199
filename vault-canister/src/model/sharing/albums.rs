//! Albums: making, naming, listing and deleting them, and the album keys' versions.

use super::*;

impl<M: Memory> State<M> {
    pub(crate) fn update_album(&mut self, album: &[u8; ID], f: impl FnOnce(&mut AlbumRecord)) {
        let mut record = self
            .albums
            .get(&Key(*album))
            .expect("albums of existing files exist");
        f(&mut record);
        self.albums.insert(Key(*album), record);
    }

    /// Creates an album with version 0 of its key (owner).
    pub fn create_album(
        &mut self,
        caller: &Principal,
        now: u64,
        args: CreateAlbumArgs,
    ) -> VaultResult<AlbumInfo> {
        self.require_owner(caller)?;
        let id = id_arg("album_id", &args.album_id)?;
        within("name", &args.name, MIN_BLOB_SIZE, MAX_ALBUM_NAME_SIZE)?;
        versioned("wrapped_key", &args.wrapped_key, WRAPPED_KEY_SIZE)?;
        if self.albums.contains_key(&Key(id)) {
            return Err(VaultError::AlreadyExists);
        }
        if self.config.get().albums >= MAX_ALBUMS {
            return Err(VaultError::conflict(format!(
                "a vault holds at most {MAX_ALBUMS} albums"
            )));
        }
        let record = AlbumRecord {
            name: args.name.into_vec(),
            key_version: 0,
            created_at: now,
            file_count: 0,
        };
        self.albums.insert(Key(id), record);
        self.album_keys
            .insert(album_version_key(&id, 0), args.wrapped_key.into_vec());
        self.set_config(|c| c.albums += 1);
        self.record(
            *caller,
            now,
            Activity::AlbumCreated {
                album_id: args.album_id,
            },
        );
        self.album_info(&id, true)
    }

    fn album_info(&self, id: &[u8; ID], with_keys: bool) -> VaultResult<AlbumInfo> {
        let a = self.albums.get(&Key(*id)).ok_or(VaultError::NotFound)?;
        let wrapped_keys = if with_keys {
            self.album_keys
                .range(album_version_key(id, 0)..=album_version_key(id, u32::MAX))
                .map(|e| {
                    (
                        u32::from_be_bytes(e.key().0[ID..].try_into().expect("4 bytes")),
                        ByteBuf::from(e.value()),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(AlbumInfo {
            id: ByteBuf::from(id.to_vec()),
            name: ByteBuf::from(a.name),
            key_version: a.key_version,
            wrapped_keys,
            file_count: a.file_count,
            created_at: a.created_at,
        })
    }

    /// Every album with its wrapped keys (owner).
    pub fn list_albums(&self, caller: &Principal) -> VaultResult<Vec<AlbumInfo>> {
        self.require_owner(caller)?;
        self.albums
            .keys()
            .map(|k| self.album_info(&k.0, true))
            .collect()
    }

    /// One album: with its wrapped keys for the owner; name and version for its grantees and links.
    pub fn get_album(
        &self,
        caller: &Principal,
        now: u64,
        album_id: &ByteBuf,
        link: Option<&LinkAccess>,
    ) -> VaultResult<AlbumInfo> {
        let id = id_arg("album_id", album_id)?;
        let target = Target::Album(album_id.clone());
        if let Some(access) = link {
            let (_, l) = self.resolve_link(now, access)?;
            if self.link_target(&l) != target {
                return Err(VaultError::NotAuthorized);
            }
            return self.album_info(&id, false);
        }
        if self.is_owner(caller) {
            return self.album_info(&id, true);
        }
        if self.albums.contains_key(&Key(id)) && self.grant_allows(caller, now, &target)? {
            return self.album_info(&id, false);
        }
        Err(VaultError::NotAuthorized)
    }

    /// Replaces an album's sealed name (owner).
    pub fn rename_album(
        &mut self,
        caller: &Principal,
        now: u64,
        album_id: ByteBuf,
        name: ByteBuf,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let id = id_arg("album_id", &album_id)?;
        within("name", &name, MIN_BLOB_SIZE, MAX_ALBUM_NAME_SIZE)?;
        if !self.albums.contains_key(&Key(id)) {
            return Err(VaultError::NotFound);
        }
        self.update_album(&id, |a| a.name = name.into_vec());
        self.record(*caller, now, Activity::AlbumRenamed { album_id });
        Ok(())
    }

    /// Deletes an empty album, revoking its grants and links (owner).
    pub fn delete_album(
        &mut self,
        caller: &Principal,
        now: u64,
        album_id: ByteBuf,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let id = id_arg("album_id", &album_id)?;
        let album = self.albums.get(&Key(id)).ok_or(VaultError::NotFound)?;
        if album.file_count > 0 {
            return Err(VaultError::conflict(format!(
                "the album still holds {} files (trash included): move or purge them first",
                album.file_count
            )));
        }
        self.drop_sharing(*caller, now, &Target::Album(album_id.clone()));
        for version in 0..=album.key_version {
            self.album_keys.remove(&album_version_key(&id, version));
        }
        self.albums.remove(&Key(id));
        self.set_config(|c| c.albums -= 1);
        self.record(*caller, now, Activity::AlbumDeleted { album_id });
        Ok(())
    }
}
