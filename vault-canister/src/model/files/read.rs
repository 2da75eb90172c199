//! Reads: a file's record, its chunks and thumbnail, and pages of the timeline, an album or
//! the trash.

use super::*;

impl<M: Memory> State<M> {
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
        index: &StableBTreeMap<Key<N>, Listed, crate::model::VM<M>>,
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
}
