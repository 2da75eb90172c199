//! Uploads in progress, as the owner oversees them: the contributions index (which grantee
//! has which uploads going), the bound on a contributor's uploads, dropping a revoked
//! grantee's uploads, and the owner's list of every pending upload.
//!
//! A contribution is an upload begun by someone who is not the owner (a grantee with
//! `Contribute` on an album). Its uploader must still be allowed to contribute at every call
//! (`files.rs`), may have at most [`MAX_PENDING_CONTRIBUTIONS`] uploads reserving at most
//! [`MAX_CONTRIBUTION_RESERVED`] bytes in progress, and loses them when their grant on the
//! album is revoked. The owner sees every pending upload (`list_uploads`) and can abort any
//! (`abort_upload`).

use candid::Principal;
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;

use super::stored::{ID, Key, PRINCIPAL, TARGET, key, principal_slot};
use super::types::{ListUploadsArgs, PendingUpload, UploadPage, VaultError, VaultResult};
use super::{
    MAX_CONTRIBUTION_RESERVED, MAX_PENDING_CONTRIBUTIONS, MAX_UPLOADS_PAGE, State, UPLOAD_TTL_NS,
    id_arg,
};

/// `principal slot || file id`: a contributor's upload.
pub(crate) fn contribution_key(uploader: &Principal, id: &[u8; ID]) -> Key<{ PRINCIPAL + ID }> {
    key(&[&principal_slot(uploader), id])
}

/// Target kind byte of an album (`model/sharing.rs`).
const ALBUM_KIND: u8 = 1;
/// Grants inspect_message looks through for a contribute grant: a grantee of more albums
/// than this is sent on to begin_upload, which checks the one album named.
pub(crate) const GRANTS_INSPECTED: usize = 64;

impl<M: Memory> State<M> {
    /// The file ids of `uploader`'s contributions in progress.
    fn contributions_of(&self, uploader: &Principal) -> Vec<[u8; ID]> {
        let slot = principal_slot(uploader);
        self.contributions
            .keys_range(key(&[&slot, &[0; ID]])..=key(&[&slot, &[0xff; ID]]))
            .map(|k| {
                k.0[PRINCIPAL..]
                    .try_into()
                    .expect("keys end with the file id")
            })
            .collect()
    }

    /// Whether `caller` has a contribution in progress (inspect_message: one lookup).
    pub(crate) fn has_contributions(&self, caller: &Principal) -> bool {
        let slot = principal_slot(caller);
        self.contributions
            .keys_range(key(&[&slot, &[0; ID]])..=key(&[&slot, &[0xff; ID]]))
            .next()
            .is_some()
    }

    /// Whether `caller` holds a live contribute grant on some album (inspect_message).
    pub(crate) fn contributes_somewhere(&self, caller: &Principal, now: u64) -> bool {
        let slot = principal_slot(caller);
        let low = key::<{ PRINCIPAL + TARGET }>(&[&slot, &[ALBUM_KIND], &[0; ID]]);
        let high = key::<{ PRINCIPAL + TARGET }>(&[&slot, &[ALBUM_KIND], &[0xff; ID]]);
        let mut albums = self.grantee_index.keys_range(low..=high);
        (&mut albums).take(GRANTS_INSPECTED).any(|k| {
            let album: [u8; ID] = k.0[PRINCIPAL + 1..].try_into().expect("16 bytes");
            self.can_contribute(caller, now, &album).unwrap_or(false)
        }) || albums.next().is_some()
    }

    /// Refuses a new contribution of `bytes` beyond a contributor's bound.
    pub(crate) fn check_contribution_bound(
        &self,
        uploader: &Principal,
        bytes: u64,
    ) -> VaultResult<()> {
        let pending = self.contributions_of(uploader);
        if pending.len() >= MAX_PENDING_CONTRIBUTIONS {
            return Err(VaultError::conflict(format!(
                "a contributor may have {MAX_PENDING_CONTRIBUTIONS} uploads in progress: finish or abort one first"
            )));
        }
        let reserved: u64 = pending
            .iter()
            .filter_map(|id| self.uploads.get(&Key(*id)))
            .map(|u| u.file.stored_bytes)
            .sum();
        let available = MAX_CONTRIBUTION_RESERVED.saturating_sub(reserved);
        if bytes > available {
            return Err(VaultError::QuotaExceeded {
                needed: bytes,
                available,
            });
        }
        Ok(())
    }

    /// Notes a new upload: a contribution if its uploader is not the owner.
    pub(crate) fn note_upload(&mut self, id: &[u8; ID], uploader: &Principal) {
        if !self.is_owner(uploader) {
            self.contributions
                .insert(contribution_key(uploader, id), ());
        }
    }

    /// Forgets an upload that ends (committed, aborted, expired, dropped).
    pub(crate) fn forget_upload(&mut self, id: &[u8; ID], uploader: &[u8]) {
        let uploader = Principal::from_slice(uploader);
        self.contributions.remove(&contribution_key(&uploader, id));
    }

    /// Drops `grantee`'s uploads into `album` in progress, freeing their reservation: their
    /// grant on it was revoked (`model/sharing.rs` calls this when a grant is removed). The
    /// revocation's activity entry stands for them.
    pub(crate) fn drop_contributions_to(&mut self, grantee: &Principal, album: &[u8; ID]) {
        for id in self.contributions_of(grantee) {
            let Some(upload) = self.uploads.get(&Key(id)) else {
                continue;
            };
            if upload.file.album.as_ref() == Some(album) {
                self.drop_upload(&id, &upload);
            }
        }
    }

    /// A page of every upload in progress, by file id (owner): who sends it, how far it got,
    /// what it reserves, when it expires. Any of them can be stopped with `abort_upload`.
    pub fn list_uploads(
        &self,
        caller: &Principal,
        args: ListUploadsArgs,
    ) -> VaultResult<UploadPage> {
        self.require_owner(caller)?;
        let limit = args.limit.unwrap_or(100).clamp(1, MAX_UPLOADS_PAGE) as usize;
        let after = args
            .after
            .as_ref()
            .map(|a| id_arg("after", a))
            .transpose()?;
        let mut entries = match after {
            Some(a) => self.uploads.range((
                std::ops::Bound::Excluded(Key(a)),
                std::ops::Bound::Unbounded,
            )),
            None => self.uploads.range(..),
        };
        let mut uploads = Vec::with_capacity(limit);
        for entry in (&mut entries).take(limit) {
            let (id, u) = (entry.key().0, entry.value());
            let f = &u.file;
            uploads.push(PendingUpload {
                file_id: ByteBuf::from(id.to_vec()),
                uploader: Principal::from_slice(&f.uploader),
                album: f.album.map(|a| ByteBuf::from(a.to_vec())),
                size: f.size,
                reserved_bytes: f.stored_bytes,
                chunk_count: f.chunk_count,
                missing_count: f.chunk_count - u.received,
                started_at: f.created_at,
                expires_at: u.last_activity + UPLOAD_TTL_NS,
            });
        }
        let next = match uploads.last() {
            Some(last) if entries.next().is_some() => Some(last.file_id.clone()),
            _ => None,
        };
        Ok(UploadPage { uploads, next })
    }
}

#[cfg(test)]
mod tests;
