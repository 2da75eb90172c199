//! Who may read or write what, in one place: every method of the model asks here before it
//! touches anything.
//!
//! ```text
//! the owner         the install owner (unless signed out by a rotation) or an admitted device:
//!                   everything
//! a grantee         reads what a grant covers (a file, or an album's files), while it is
//!                   unexpired; adds to an album shared with Contribute; acts on its own uploads
//!                   while it may still add there
//! a link holder     reads what the link covers (not trashed), with the token (and the
//!                   password's proof) — whoever the caller is
//! anyone else       nothing; and learns nothing about which ids exist
//! ```

use candid::Principal;
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;

use vault_crypto::{LinkToken, PasswordProof, PasswordVerifier};

use super::sharing::{grant_key, permission_byte, target_bytes};
use super::stored::{FileRecord, ID, Key, LinkRecord, UploadRecord};
use super::types::{LinkAccess, Permission, Target, VaultError, VaultResult};
use super::{State, bytes32, id_arg, stored};

impl<M: Memory> State<M> {
    /// Whether `caller` acts as the owner: the install owner or an admitted device.
    pub fn is_owner(&self, caller: &Principal) -> bool {
        *caller != Principal::anonymous()
            && ((*caller == self.owner() && !self.install_owner_signed_out())
                || self
                    .devices
                    .contains_key(&Key(stored::principal_slot(caller))))
    }

    pub(crate) fn require_owner(&self, caller: &Principal) -> VaultResult<()> {
        if self.is_owner(caller) {
            Ok(())
        } else {
            Err(VaultError::NotAuthorized)
        }
    }

    pub(crate) fn authorize_upload(
        &self,
        caller: &Principal,
        now: u64,
        album: Option<&[u8; ID]>,
    ) -> VaultResult<()> {
        if self.is_owner(caller) {
            return Ok(());
        }
        match album {
            Some(album) if self.can_contribute(caller, now, album)? => Ok(()),
            _ => Err(VaultError::NotAuthorized),
        }
    }

    /// The upload `file_id`, if `caller` may act on it: the owner; or its uploader, while
    /// still allowed to upload there (checked at every call, so that a revoked or expired
    /// contributor, or a removed device, can neither keep an upload alive nor finish it).
    pub(crate) fn upload_for(
        &self,
        caller: &Principal,
        now: u64,
        file_id: &[u8],
    ) -> VaultResult<([u8; ID], UploadRecord)> {
        let id = id_arg("file_id", file_id)?;
        let upload = self.uploads.get(&Key(id));
        if self.is_owner(caller) {
            return Ok((id, upload.ok_or(VaultError::NotFound)?));
        }
        // A stranger learns nothing about which uploads exist.
        let upload = upload.ok_or(VaultError::NotAuthorized)?;
        if caller.as_slice() != upload.file.uploader.as_slice() {
            return Err(VaultError::NotAuthorized);
        }
        self.authorize_upload(caller, now, upload.file.album.as_ref())?;
        Ok((id, upload))
    }

    /// May `caller` read committed file `id` (owner; grantee of it or its album; link holder)?
    pub(crate) fn authorize_read(
        &self,
        caller: &Principal,
        now: u64,
        link: Option<&LinkAccess>,
        id: &[u8; ID],
        f: &FileRecord,
    ) -> VaultResult<()> {
        if let Some(access) = link {
            let (_, link) = self.resolve_link(now, access)?;
            let covered = match self.link_target(&link) {
                Target::File(t) => t.as_slice() == id,
                Target::Album(a) => f.album.is_some_and(|fa| fa.as_slice() == a.as_slice()),
            };
            return if covered && f.trashed_at.is_none() {
                Ok(())
            } else {
                Err(VaultError::NotAuthorized)
            };
        }
        if self.is_owner(caller) {
            return Ok(());
        }
        if f.trashed_at.is_some() {
            return Err(VaultError::NotAuthorized);
        }
        // A grant on the file or on its album: either one valid gives access (an expired file
        // grant does not hide a valid album grant).
        let mut covering = vec![Target::File(ByteBuf::from(id.to_vec()))];
        covering.extend(f.album.map(|a| Target::Album(ByteBuf::from(a.to_vec()))));
        if self.any_grant_allows(caller, now, &covering)? {
            Ok(())
        } else {
            Err(VaultError::NotAuthorized)
        }
    }

    pub(crate) fn readable_file(
        &self,
        caller: &Principal,
        now: u64,
        file_id: &ByteBuf,
        link: Option<&LinkAccess>,
    ) -> VaultResult<([u8; ID], FileRecord)> {
        let id = id_arg("file_id", file_id)?;
        let f = self.files.get(&Key(id));
        // An unknown file and one the caller may not see answer alike, unless the caller is
        // the owner: strangers learn nothing about which ids exist.
        let Some(f) = f else {
            return Err(if link.is_none() && self.is_owner(caller) {
                VaultError::NotFound
            } else {
                VaultError::NotAuthorized
            });
        };
        self.authorize_read(caller, now, link, &id, &f)?;
        Ok((id, f))
    }

    /// Whether `caller` holds an unexpired grant on any of `targets` (a file, and its album):
    /// any valid grant gives access, whatever the others are. [`VaultError::Expired`] only when
    /// none is valid and one has expired.
    pub(crate) fn any_grant_allows(
        &self,
        caller: &Principal,
        now: u64,
        targets: &[Target],
    ) -> VaultResult<bool> {
        let mut expired = false;
        for target in targets {
            let target = target_bytes(target)?;
            match self.grants.get(&grant_key(&target, caller)) {
                None => {}
                Some(g) if g.expires_at.is_some_and(|t| t <= now) => expired = true,
                Some(_) => return Ok(true),
            }
        }
        if expired {
            Err(VaultError::Expired)
        } else {
            Ok(false)
        }
    }

    /// Whether `caller` may add files to `album`.
    pub(crate) fn can_contribute(
        &self,
        caller: &Principal,
        now: u64,
        album: &[u8; ID],
    ) -> VaultResult<bool> {
        let target = target_bytes(&Target::Album(ByteBuf::from(album.to_vec())))?;
        match self.grants.get(&grant_key(&target, caller)) {
            Some(g) if g.expires_at.is_some_and(|t| t <= now) => Err(VaultError::Expired),
            Some(g) => Ok(g.permission == permission_byte(Permission::Contribute)),
            None => Ok(false),
        }
    }

    /// Checks a link holder's access: known token, not revoked, not expired, password proof.
    pub(crate) fn resolve_link(
        &self,
        now: u64,
        access: &LinkAccess,
    ) -> VaultResult<([u8; 32], LinkRecord)> {
        let token = LinkToken::from_bytes(bytes32("token", &access.token)?);
        let hash = token.hash().0;
        let link = self.links.get(&Key(hash)).ok_or(VaultError::NotFound)?;
        if link.revoked_at.is_some() {
            return Err(VaultError::Revoked);
        }
        if link.expires_at.is_some_and(|t| t <= now) {
            return Err(VaultError::Expired);
        }
        if let (Some(iterations), Some(verifier)) =
            (link.password_iterations, link.password_verifier)
        {
            let proof = access
                .password_proof
                .as_ref()
                .ok_or(VaultError::PasswordRequired { iterations })?;
            let proof = PasswordProof::from_bytes(bytes32("password_proof", proof)?);
            if !proof.matches(&PasswordVerifier(verifier)) {
                return Err(VaultError::WrongPassword);
            }
        }
        Ok((hash, link))
    }
}
