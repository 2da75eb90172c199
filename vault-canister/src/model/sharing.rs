//! Albums (`albums`), grants to people (`grants`), and links (`links`). Here: the keys and
//! encodings they share. Who may do what is `guards`.
//!
//! Revoking a person from an album is one message with the album key's rotation
//! (`rotate_album_key` with `revoke`): files added afterwards are under a key they never held.
//! What a revoked person may still hold: the keys of versions they were given, so files they
//! could already read (and may have downloaded) stay readable to them if they kept a copy of
//! the ciphertext; the canister no longer serves them anything.

mod albums;
mod grants;
pub(crate) mod inbox;
mod links;

use candid::Principal;
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;
use vault_crypto::{GRANT_AUTHENTICATOR_SIZE, SEALED_KEY_SIZE, WRAPPED_KEY_SIZE};

use super::stored::{
    AlbumRecord, EarlierKey, GrantRecord, ID, Key, LinkRecord, PRINCIPAL, TARGET, key,
    principal_slot, slot_principal,
};
use super::types::{
    Activity, AlbumInfo, AuthenticateGrantArgs, CreateAlbumArgs, CreateLinkArgs, GrantArgs,
    GrantInfo, LinkAccess, LinkInfo, LinkOpen, Permission, RotateAlbumKeyArgs, SealedKeyVersion,
    SharedItem, Target, VaultError, VaultResult,
};
use super::{
    MAX_ALBUM_NAME_SIZE, MAX_ALBUMS, MAX_GRANTS_PER_TARGET, MAX_KEY_VERSIONS, MAX_LINKS,
    MIN_BLOB_SIZE, State, bytes32, id_arg, versioned, within,
};

const KIND_ALBUM: u8 = 1;
const KIND_FILE: u8 = 2;

/// `kind || id`.
pub(super) fn target_bytes(t: &Target) -> VaultResult<[u8; TARGET]> {
    let (kind, id) = match t {
        Target::Album(a) => (KIND_ALBUM, id_arg("target", a)?),
        Target::File(f) => (KIND_FILE, id_arg("target", f)?),
    };
    Ok(key::<TARGET>(&[&[kind], &id]).0)
}

fn target_from(bytes: &[u8]) -> Target {
    let id = ByteBuf::from(bytes[1..TARGET].to_vec());
    if bytes[0] == KIND_ALBUM {
        Target::Album(id)
    } else {
        Target::File(id)
    }
}

pub(super) fn grant_key(target: &[u8; TARGET], grantee: &Principal) -> Key<{ TARGET + PRINCIPAL }> {
    key(&[target, &principal_slot(grantee)])
}

fn grantee_key(grantee: &Principal, target: &[u8; TARGET]) -> Key<{ PRINCIPAL + TARGET }> {
    key(&[&principal_slot(grantee), target])
}

fn grant_version_key(
    target: &[u8; TARGET],
    grantee: &Principal,
    version: u32,
) -> Key<{ TARGET + PRINCIPAL + 4 }> {
    key(&[target, &principal_slot(grantee), &version.to_be_bytes()])
}

fn album_version_key(album: &[u8; ID], version: u32) -> Key<20> {
    key(&[album, &version.to_be_bytes()])
}

fn link_target_key(target: &[u8; TARGET], token_hash: &[u8; 32]) -> Key<{ TARGET + 32 }> {
    key(&[target, token_hash])
}

pub(super) fn permission_byte(p: Permission) -> u8 {
    match p {
        Permission::View => 0,
        Permission::Contribute => 1,
    }
}

fn permission_from(b: u8) -> Permission {
    if b == 1 {
        Permission::Contribute
    } else {
        Permission::View
    }
}

fn future(field: &str, expires_at: Option<u64>, now: u64) -> VaultResult<()> {
    match expires_at {
        Some(t) if t <= now => Err(VaultError::invalid(field, "must be in the future")),
        _ => Ok(()),
    }
}
