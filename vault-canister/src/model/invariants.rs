//! What must hold between any two calls, and a digest of the whole state, for the fuzzer
//! (`fuzz/harness`, which drives sequences of calls through the model) and tests.
//!
//! Not in the canister's wasm: only with the `fuzzing` feature, or in tests.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use ic_stable_structures::{Memory, Storable};

use super::chunks::chunk_key;
use super::stored::FileRecord;
use super::{State, THUMBNAIL_CHUNK};

impl<M: Memory> State<M> {
    /// A hash of everything the vault holds (every structure's keys and values, and every stored
    /// chunk's bytes): equal before and after a call that changed nothing.
    pub fn digest(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.config.get().to_bytes().hash(&mut h);
        self.profile.get().to_bytes().hash(&mut h);
        fn map<K, V, M2>(h: &mut DefaultHasher, m: &ic_stable_structures::StableBTreeMap<K, V, M2>)
        where
            K: Storable + Ord + Clone,
            V: Storable,
            M2: Memory,
        {
            m.len().hash(h);
            for e in m.iter() {
                e.key().to_bytes().hash(h);
                e.value().to_bytes().hash(h);
            }
        }
        map(&mut h, &self.devices);
        map(&mut h, &self.files);
        map(&mut h, &self.timeline);
        map(&mut h, &self.album_files);
        map(&mut h, &self.trash);
        map(&mut h, &self.uploads);
        map(&mut h, &self.upload_expiry);
        map(&mut h, &self.albums);
        map(&mut h, &self.album_keys);
        map(&mut h, &self.grants);
        map(&mut h, &self.grantee_index);
        map(&mut h, &self.grant_keys);
        map(&mut h, &self.links);
        map(&mut h, &self.link_targets);
        map(&mut h, &self.dedupe);
        map(&mut h, &self.reclaim);
        self.log.len().hash(&mut h);
        self.chunks.meta().to_bytes().hash(&mut h);
        self.chunks.all_extents().hash(&mut h);
        for storage in self.storage_ids() {
            for index in self.chunks.indices_of(storage) {
                (storage, index).hash(&mut h);
                self.chunks.get(&chunk_key(storage, index)).hash(&mut h);
            }
        }
        h.finish()
    }

    /// Checks the invariants that tie the structures together; says which one broke.
    pub fn check_invariants(&self) -> Result<(), String> {
        let c = self.config.get();
        let files: Vec<([u8; 16], FileRecord)> =
            self.files.iter().map(|e| (e.key().0, e.value())).collect();
        let uploads: Vec<_> = self
            .uploads
            .iter()
            .map(|e| (e.key().0, e.value()))
            .collect();
        let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };

        // Usage: what files and uploads count against the quota, never over it.
        let used: u64 = files.iter().map(|(_, f)| f.stored_bytes).sum();
        let reserved: u64 = uploads.iter().map(|(_, u)| u.file.stored_bytes).sum();
        check(
            c.used_bytes == used,
            format!("used_bytes {} != files' {used}", c.used_bytes),
        )?;
        check(
            c.reserved_bytes == reserved,
            format!("reserved_bytes {} != uploads' {reserved}", c.reserved_bytes),
        )?;
        check(
            used + reserved <= c.quota_bytes,
            format!(
                "{used} used + {reserved} reserved > quota {}",
                c.quota_bytes
            ),
        )?;

        // Counters and listing indices agree with FILES.
        let trashed = files.iter().filter(|(_, f)| f.trashed_at.is_some()).count() as u64;
        let live = files.len() as u64 - trashed;
        check(
            c.files == files.len() as u64,
            format!("files {} != {}", c.files, files.len()),
        )?;
        check(
            c.trashed_files == trashed,
            format!("trashed_files {} != {trashed}", c.trashed_files),
        )?;
        check(
            self.timeline.len() == live,
            format!("timeline {} != {live} live files", self.timeline.len()),
        )?;
        check(
            self.trash.len() == trashed,
            format!("trash {} != {trashed} trashed files", self.trash.len()),
        )?;
        for e in self.timeline.iter() {
            let id: [u8; 16] = e.key().0[8..].try_into().expect("16 bytes");
            let file = self.files.get(&super::stored::Key(id));
            check(
                file.as_ref().is_some_and(|f| f.trashed_at.is_none()),
                format!("timeline lists {id:02x?}, not a live file"),
            )?;
        }

        // Albums: each file's album exists and counts it.
        check(
            c.albums == self.albums.len(),
            format!("albums {} != {}", c.albums, self.albums.len()),
        )?;
        let mut in_album: BTreeMap<[u8; 16], u64> = BTreeMap::new();
        for (id, f) in &files {
            if let Some(album) = f.album {
                check(
                    self.albums.contains_key(&super::stored::Key(album)),
                    format!("file {id:02x?} is in a missing album"),
                )?;
                *in_album.entry(album).or_default() += 1;
            }
        }
        for e in self.albums.iter() {
            let counted = in_album.get(&e.key().0).copied().unwrap_or(0);
            check(
                e.value().file_count == counted,
                format!("album file_count {} != {counted}", e.value().file_count),
            )?;
        }

        // Every committed file's chunks and thumbnail are stored, at their sizes; an upload's
        // received count is the chunks it has.
        for (id, f) in &files {
            for index in 0..f.chunk_count {
                check(
                    self.chunks
                        .len_of(&chunk_key(f.storage_id, index))
                        .is_some(),
                    format!("file {id:02x?} lacks chunk {index}"),
                )?;
            }
            let thumbnail = self
                .chunks
                .len_of(&chunk_key(f.storage_id, THUMBNAIL_CHUNK));
            check(
                thumbnail.unwrap_or(0) == f.thumbnail_size,
                format!(
                    "file {id:02x?}'s thumbnail is {thumbnail:?}, not {}",
                    f.thumbnail_size
                ),
            )?;
        }
        for (id, u) in &uploads {
            let have = self
                .chunks
                .indices_of(u.file.storage_id)
                .filter(|&i| i < u.file.chunk_count)
                .count() as u32;
            check(
                have == u.received,
                format!("upload {id:02x?} received {} but has {have}", u.received),
            )?;
        }
        check(
            self.upload_expiry.len() == uploads.len() as u64,
            format!(
                "{} upload expiries for {} uploads",
                self.upload_expiry.len(),
                uploads.len()
            ),
        )?;

        // Chunks: at least those of files and uploads; no more than those plus the queued
        // reclaims. Blocks: every block below the high water is in a chunk or free.
        let held: u64 = files
            .iter()
            .map(|(_, f)| f.chunk_count as u64 + (f.thumbnail_size > 0) as u64)
            .chain(
                uploads
                    .iter()
                    .map(|(_, u)| u.received as u64 + (u.file.thumbnail_size > 0) as u64),
            )
            .sum();
        let meta = self.chunks.meta();
        check(
            held <= meta.chunks && meta.chunks <= held + self.reclaim_pending(),
            format!(
                "{} chunks stored, {held} held, {} to reclaim",
                meta.chunks,
                self.reclaim_pending()
            ),
        )?;
        let allocated: u64 = self.chunks.all_extents().iter().map(|e| e.1 as u64).sum();
        check(
            allocated + meta.free_blocks == meta.high_water as u64,
            format!(
                "{allocated} allocated + {} free blocks != high water {}",
                meta.free_blocks, meta.high_water
            ),
        )?;

        // Sharing indices mirror their maps.
        check(
            self.grantee_index.len() == self.grants.len(),
            format!(
                "{} grantee index entries, {} grants",
                self.grantee_index.len(),
                self.grants.len()
            ),
        )?;
        check(
            self.link_targets.len() == self.links.len(),
            format!(
                "{} link targets, {} links",
                self.link_targets.len(),
                self.links.len()
            ),
        )?;
        Ok(())
    }

    /// Every storage id that may hold chunks: files', uploads' and queued reclaims'.
    fn storage_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .files
            .iter()
            .map(|e| e.value().storage_id)
            .chain(self.uploads.iter().map(|e| e.value().file.storage_id))
            .chain(self.reclaim.iter().map(|e| e.value().storage_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
