//! Albums, grants to people, and links.
//!
//! Revoking a person from an album is one message with the album key's rotation
//! (`rotate_album_key` with `revoke`): files added afterwards are under a key they never held.
//! What a revoked person may still hold: the keys of versions they were given, so files they
//! could already read (and may have downloaded) stay readable to them if they kept a copy of
//! the ciphertext; the canister no longer serves them anything.

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

    /// Checks that `target` exists and is shareable; returns its current key version.
    fn shareable(&self, target: &Target) -> VaultResult<([u8; TARGET], u32)> {
        let bytes = target_bytes(target)?;
        let id: [u8; ID] = bytes[1..].try_into().expect("16 bytes");
        let version = match target {
            Target::Album(_) => {
                self.albums
                    .get(&Key(id))
                    .ok_or(VaultError::NotFound)?
                    .key_version
            }
            Target::File(_) => {
                let f = self.files.get(&Key(id)).ok_or(VaultError::NotFound)?;
                if f.trashed_at.is_some() {
                    return Err(VaultError::conflict("the file is in the trash"));
                }
                0
            }
        };
        Ok((bytes, version))
    }

    /// Shares a target with a person, or changes an existing grant (owner).
    pub fn grant(
        &mut self,
        caller: &Principal,
        now: u64,
        args: GrantArgs,
    ) -> VaultResult<GrantInfo> {
        self.require_owner(caller)?;
        let (target, version) = self.shareable(&args.target)?;
        if args.grantee == Principal::anonymous() || self.is_owner(&args.grantee) {
            return Err(VaultError::invalid(
                "grantee",
                "cannot share with the anonymous principal or the owner",
            ));
        }
        if matches!(args.target, Target::File(_)) && args.permission == Permission::Contribute {
            return Err(VaultError::invalid(
                "permission",
                "contribute applies to albums only",
            ));
        }
        future("expires_at", args.expires_at, now)?;
        let mut versions: Vec<u32> = args.sealed_keys.iter().map(|k| k.version).collect();
        versions.sort_unstable();
        if versions != (0..=version).collect::<Vec<_>>() {
            return Err(VaultError::invalid(
                "sealed_keys",
                format!("give exactly one sealed key for each version 0..={version}"),
            ));
        }
        for k in &args.sealed_keys {
            versioned("sealed_keys", &k.sealed, SEALED_KEY_SIZE)?;
        }
        // Only its length can be checked: any 32 bytes are an X25519 public key.
        let public_key = bytes32("grantee_key", &args.grantee_key)?;
        let authenticator = args
            .authenticator
            .as_ref()
            .map(authenticator_arg)
            .transpose()?;
        let gkey = grant_key(&target, &args.grantee);
        let existing = self.grants.get(&gkey);
        if existing.is_none() && self.grants_on(&target).count() >= MAX_GRANTS_PER_TARGET {
            return Err(VaultError::conflict(format!(
                "at most {MAX_GRANTS_PER_TARGET} people per album or file"
            )));
        }
        let created_at = existing.map_or(now, |g| g.created_at);
        self.grants.insert(
            gkey,
            GrantRecord {
                permission: permission_byte(args.permission),
                expires_at: args.expires_at,
                created_at,
                grantee_key: Some(public_key),
                authenticator,
            },
        );
        self.grantee_index
            .insert(grantee_key(&args.grantee, &target), ());
        for k in &args.sealed_keys {
            self.grant_keys.insert(
                grant_version_key(&target, &args.grantee, k.version),
                k.sealed.to_vec(),
            );
        }
        self.record(
            *caller,
            now,
            Activity::Granted {
                target: args.target.clone(),
                grantee: args.grantee,
                permission: args.permission,
                expires_at: args.expires_at,
            },
        );
        self.grant_info(&target, &args.grantee)
            .map(|g| g.expect("just inserted"))
    }

    fn grants_on(&self, target: &[u8; TARGET]) -> impl Iterator<Item = Principal> + '_ {
        let low = key::<{ TARGET + PRINCIPAL }>(&[target, &[0u8; PRINCIPAL]]);
        let high = key::<{ TARGET + PRINCIPAL }>(&[target, &[0xffu8; PRINCIPAL]]);
        self.grants
            .keys_range(low..=high)
            .map(|k| slot_principal(&k.0[TARGET..]))
    }

    fn grant_info(
        &self,
        target: &[u8; TARGET],
        grantee: &Principal,
    ) -> VaultResult<Option<GrantInfo>> {
        let Some(g) = self.grants.get(&grant_key(target, grantee)) else {
            return Ok(None);
        };
        let sealed_keys = self
            .grant_keys
            .range(
                grant_version_key(target, grantee, 0)
                    ..=grant_version_key(target, grantee, u32::MAX),
            )
            .map(|e| SealedKeyVersion {
                version: u32::from_be_bytes(
                    e.key().0[TARGET + PRINCIPAL..].try_into().expect("4 bytes"),
                ),
                sealed: ByteBuf::from(e.value()),
            })
            .collect();
        Ok(Some(GrantInfo {
            target: target_from(target),
            grantee: *grantee,
            grantee_key: g.grantee_key.map(|k| ByteBuf::from(k.to_vec())),
            permission: permission_from(g.permission),
            sealed_keys,
            expires_at: g.expires_at,
            created_at: g.created_at,
            authenticator: g.authenticator.map(|a| ByteBuf::from(a.to_vec())),
        }))
    }

    /// Attaches the owner's authenticator to a grant whose stored terms are exactly the ones
    /// given (owner). The client computed it from an uncertified `list_grants`; this update
    /// compares those terms with the stored ones in replicated execution, so a node that lied
    /// in the query gets a refusal here, not an authenticator for its own key.
    pub fn authenticate_grant(
        &mut self,
        caller: &Principal,
        args: AuthenticateGrantArgs,
    ) -> VaultResult<GrantInfo> {
        self.require_owner(caller)?;
        let target = target_bytes(&args.target)?;
        let public_key = bytes32("grantee_key", &args.grantee_key)?;
        let authenticator = authenticator_arg(&args.authenticator)?;
        let gkey = grant_key(&target, &args.grantee);
        let mut grant = self.grants.get(&gkey).ok_or(VaultError::NotFound)?;
        if grant.grantee_key != Some(public_key)
            || grant.permission != permission_byte(args.permission)
            || grant.expires_at != args.expires_at
        {
            return Err(VaultError::conflict(
                "the grant's stored terms are not the ones given: list the grants again, and \
                 share again with the grantee's share code if their key differs",
            ));
        }
        grant.authenticator = Some(authenticator);
        self.grants.insert(gkey, grant);
        self.grant_info(&target, &args.grantee)
            .map(|g| g.expect("just updated"))
    }

    /// Whether `caller` holds an unexpired grant on `target`; an expired one is [`VaultError::Expired`].
    pub(crate) fn grant_allows(
        &self,
        caller: &Principal,
        now: u64,
        target: &Target,
    ) -> VaultResult<bool> {
        self.any_grant_allows(caller, now, std::slice::from_ref(target))
    }

    fn remove_grant(&mut self, target: &[u8; TARGET], grantee: &Principal) -> bool {
        if self.grants.remove(&grant_key(target, grantee)).is_none() {
            return false;
        }
        self.grantee_index.remove(&grantee_key(grantee, target));
        if target[0] == KIND_ALBUM {
            let album: [u8; ID] = target[1..].try_into().expect("a target is kind || id");
            self.drop_contributions_to(grantee, &album);
        }
        let versions: Vec<_> = self
            .grant_keys
            .keys_range(
                grant_version_key(target, grantee, 0)
                    ..=grant_version_key(target, grantee, u32::MAX),
            )
            .collect();
        for k in versions {
            self.grant_keys.remove(&k);
        }
        true
    }

    /// Withdraws a grant (owner). For an album, prefer `rotate_album_key` with `revoke`, so
    /// that files added later are under a key the person never had.
    pub fn revoke_grant(
        &mut self,
        caller: &Principal,
        now: u64,
        target: Target,
        grantee: Principal,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let bytes = target_bytes(&target)?;
        if !self.remove_grant(&bytes, &grantee) {
            return Err(VaultError::NotFound);
        }
        self.record(*caller, now, Activity::GrantRevoked { target, grantee });
        Ok(())
    }

    /// Grants, of one target or all (owner).
    pub fn list_grants(
        &self,
        caller: &Principal,
        target: Option<Target>,
    ) -> VaultResult<Vec<GrantInfo>> {
        self.require_owner(caller)?;
        let keys: Vec<_> = match target {
            Some(t) => {
                let t = target_bytes(&t)?;
                self.grants_on(&t).map(|p| (t, p)).collect()
            }
            None => self
                .grants
                .keys()
                .map(|k| {
                    (
                        k.0[..TARGET].try_into().expect("17 bytes"),
                        slot_principal(&k.0[TARGET..]),
                    )
                })
                .collect(),
        };
        keys.iter()
            .map(|(t, p)| {
                self.grant_info(t, p)
                    .map(|g| g.expect("listed grants exist"))
            })
            .collect()
    }

    /// What is shared with the caller and not expired (any signed caller).
    /// Whether `caller` holds an unexpired grant here (inspect_message, for `shared_with_me`
    /// called as an update: a grantee reads its sealed keys certified). Looks through at most
    /// [`GRANTS_INSPECTED`](super::uploads::GRANTS_INSPECTED) grants; a grantee of more is let
    /// through.
    pub(crate) fn has_live_grant(&self, caller: &Principal, now: u64) -> bool {
        let low = key::<{ PRINCIPAL + TARGET }>(&[&principal_slot(caller), &[0u8; TARGET]]);
        let high = key::<{ PRINCIPAL + TARGET }>(&[&principal_slot(caller), &[0xffu8; TARGET]]);
        let mut grants = self.grantee_index.keys_range(low..=high);
        (&mut grants)
            .take(super::uploads::GRANTS_INSPECTED)
            .any(|k| {
                let target: [u8; TARGET] = k.0[PRINCIPAL..].try_into().expect("17 bytes");
                self.grant_info(&target, caller)
                    .ok()
                    .flatten()
                    .is_some_and(|g| g.expires_at.is_none_or(|t| t > now))
            })
            || grants.next().is_some()
    }

    pub fn shared_with_me(&self, caller: &Principal, now: u64) -> VaultResult<Vec<SharedItem>> {
        if *caller == Principal::anonymous() {
            return Err(VaultError::NotAuthorized);
        }
        let low = key::<{ PRINCIPAL + TARGET }>(&[&principal_slot(caller), &[0u8; TARGET]]);
        let high = key::<{ PRINCIPAL + TARGET }>(&[&principal_slot(caller), &[0xffu8; TARGET]]);
        let mut out = Vec::new();
        for k in self.grantee_index.keys_range(low..=high) {
            let target: [u8; TARGET] = k.0[PRINCIPAL..].try_into().expect("17 bytes");
            let grant = self
                .grant_info(&target, caller)?
                .expect("indexed grants exist");
            if grant.expires_at.is_some_and(|t| t <= now) {
                continue;
            }
            let album = (target[0] == KIND_ALBUM)
                .then(|| {
                    self.albums
                        .get(&Key(target[1..].try_into().expect("16 bytes")))
                })
                .flatten();
            out.push(SharedItem {
                grant,
                album_name: album.as_ref().map(|a| ByteBuf::from(a.name.clone())),
                album_key_version: album.map(|a| a.key_version),
            });
        }
        Ok(out)
    }

    /// Rotates an album's key, revoking `revoke` in the same message (owner). Every remaining
    /// grantee and live link must receive the new key.
    pub fn rotate_album_key(
        &mut self,
        caller: &Principal,
        now: u64,
        args: RotateAlbumKeyArgs,
    ) -> VaultResult<u32> {
        self.require_owner(caller)?;
        let id = id_arg("album_id", &args.album_id)?;
        let album = self.albums.get(&Key(id)).ok_or(VaultError::NotFound)?;
        if args.new_version != album.key_version + 1 || args.new_version >= MAX_KEY_VERSIONS {
            return Err(VaultError::invalid(
                "new_version",
                format!(
                    "must be {} (and below {MAX_KEY_VERSIONS})",
                    album.key_version + 1
                ),
            ));
        }
        versioned("wrapped_key", &args.wrapped_key, WRAPPED_KEY_SIZE)?;
        let target = target_bytes(&Target::Album(args.album_id.clone()))?;
        let grantees: Vec<Principal> = self.grants_on(&target).collect();
        for p in &args.revoke {
            if !grantees.contains(p) {
                return Err(VaultError::invalid(
                    "revoke",
                    format!("{p} has no grant on this album"),
                ));
            }
        }
        // Expired grants get no new key: they are dropped in this rotation. A key sealed to one
        // is accepted and ignored (the client's clock may be a little behind the canister's).
        let (live, expired): (Vec<Principal>, Vec<Principal>) = grantees
            .into_iter()
            .filter(|p| !args.revoke.contains(p))
            .partition(|p| !self.grant_expired(&target, p, now));
        let mut given: Vec<Principal> = args.grants.iter().map(|(p, _)| *p).collect();
        given.sort();
        let distinct = given.windows(2).all(|w| w[0] != w[1]);
        let covers_live = live.iter().all(|p| given.binary_search(p).is_ok());
        let only_remaining = given
            .iter()
            .all(|p| live.contains(p) || expired.contains(p));
        if !(distinct && covers_live && only_remaining) {
            return Err(VaultError::invalid(
                "grants",
                "give the new key sealed to exactly every remaining grantee that has not expired",
            ));
        }
        for (_, sealed) in &args.grants {
            versioned("grants", sealed, SEALED_KEY_SIZE)?;
        }
        let mut live = self.live_links_of(&target, now);
        let mut rewrapped = args
            .links
            .iter()
            .map(|(h, _)| bytes32("links", h))
            .collect::<VaultResult<Vec<_>>>()?;
        live.sort();
        rewrapped.sort();
        if live != rewrapped {
            return Err(VaultError::invalid(
                "links",
                "give the new key wrapped for exactly every live link to the album",
            ));
        }
        for (_, wrapped) in &args.links {
            versioned("links", wrapped, WRAPPED_KEY_SIZE)?;
        }
        for p in args.revoke.iter().chain(&expired) {
            self.remove_grant(&target, p);
            self.record(
                *caller,
                now,
                Activity::GrantRevoked {
                    target: target_from(&target),
                    grantee: *p,
                },
            );
        }
        for (p, sealed) in args.grants {
            if expired.contains(&p) {
                continue;
            }
            self.grant_keys.insert(
                grant_version_key(&target, &p, args.new_version),
                sealed.into_vec(),
            );
        }
        for (hash, wrapped) in args.links {
            let hash = bytes32("links", &hash)?;
            let mut link = self.links.get(&Key(hash)).expect("live links exist");
            // The link keeps the version it had: files added before now are wrapped by it.
            let earlier = EarlierKey {
                version: link.key_version,
                wrapped_key: std::mem::replace(&mut link.wrapped_key, wrapped.into_vec()),
            };
            link.earlier_keys.get_or_insert_default().push(earlier);
            link.key_version = args.new_version;
            self.links.insert(Key(hash), link);
        }
        self.album_keys.insert(
            album_version_key(&id, args.new_version),
            args.wrapped_key.into_vec(),
        );
        self.update_album(&id, |a| a.key_version = args.new_version);
        self.record(
            *caller,
            now,
            Activity::AlbumKeyRotated {
                album_id: args.album_id,
                version: args.new_version,
            },
        );
        Ok(args.new_version)
    }

    /// Whether `grantee`'s grant on `target` exists and has expired.
    fn grant_expired(&self, target: &[u8; TARGET], grantee: &Principal, now: u64) -> bool {
        self.grants
            .get(&grant_key(target, grantee))
            .is_some_and(|g| g.expires_at.is_some_and(|t| t <= now))
    }

    /// Token hashes of the links to `target` that are neither revoked nor expired.
    fn live_links_of(&self, target: &[u8; TARGET], now: u64) -> Vec<[u8; 32]> {
        let low = key::<{ TARGET + 32 }>(&[target, &[0u8; 32]]);
        let high = key::<{ TARGET + 32 }>(&[target, &[0xffu8; 32]]);
        self.link_targets
            .keys_range(low..=high)
            .map(|k| <[u8; 32]>::try_from(&k.0[TARGET..]).expect("32 bytes"))
            .filter(|h| {
                self.links
                    .get(&Key(*h))
                    .is_some_and(|l| l.revoked_at.is_none() && l.expires_at.is_none_or(|t| t > now))
            })
            .collect()
    }

    /// Removes every grant on `target` and revokes its live links (a purged file, a deleted album).
    pub(crate) fn drop_sharing(&mut self, caller: Principal, now: u64, target: &Target) {
        let bytes = target_bytes(target).expect("callers pass valid targets");
        let grantees: Vec<Principal> = self.grants_on(&bytes).collect();
        for p in grantees {
            self.remove_grant(&bytes, &p);
            self.record(
                caller,
                now,
                Activity::GrantRevoked {
                    target: target.clone(),
                    grantee: p,
                },
            );
        }
        for hash in self.live_links_of(&bytes, now) {
            let mut link = self.links.get(&Key(hash)).expect("live links exist");
            link.revoked_at = Some(now);
            self.links.insert(Key(hash), link);
            self.record(
                caller,
                now,
                Activity::LinkRevoked {
                    token_hash: ByteBuf::from(hash.to_vec()),
                },
            );
        }
    }

    /// Makes a sharing link (owner).
    pub fn create_link(
        &mut self,
        caller: &Principal,
        now: u64,
        args: CreateLinkArgs,
    ) -> VaultResult<LinkInfo> {
        self.require_owner(caller)?;
        let hash = bytes32("token_hash", &args.token_hash)?;
        let (target, version) = self.shareable(&args.target)?;
        if args.key_version != version {
            return Err(VaultError::invalid(
                "key_version",
                format!("must be the current key version, {version}"),
            ));
        }
        versioned("wrapped_key", &args.wrapped_key, WRAPPED_KEY_SIZE)?;
        let earlier_keys = earlier_keys(&args, version)?;
        future("expires_at", args.expires_at, now)?;
        let password = match &args.password {
            Some(p) => {
                if !(vault_crypto::MIN_LINK_PBKDF2_ITERATIONS
                    ..=vault_crypto::MAX_LINK_PBKDF2_ITERATIONS)
                    .contains(&p.iterations)
                {
                    return Err(VaultError::invalid(
                        "password.iterations",
                        "out of the range docs/FORMAT.md §9.2 allows",
                    ));
                }
                Some((p.iterations, bytes32("password.verifier", &p.verifier)?))
            }
            None => None,
        };
        if let Some(label) = &args.label {
            within("label", label, 0, MAX_ALBUM_NAME_SIZE)?;
        }
        if self.links.contains_key(&Key(hash)) {
            return Err(VaultError::AlreadyExists);
        }
        if self.links.len() >= MAX_LINKS {
            return Err(VaultError::conflict(format!(
                "a vault holds at most {MAX_LINKS} links: delete revoked ones"
            )));
        }
        let record = LinkRecord {
            target,
            key_version: version,
            wrapped_key: args.wrapped_key.into_vec(),
            expires_at: args.expires_at,
            password_iterations: password.map(|p| p.0),
            password_verifier: password.map(|p| p.1),
            revoked_at: None,
            created_at: now,
            opened: 0,
            label: args.label.map(ByteBuf::into_vec),
            earlier_keys,
        };
        self.links.insert(Key(hash), record.clone());
        self.link_targets
            .insert(link_target_key(&target, &hash), ());
        self.record(
            *caller,
            now,
            Activity::LinkCreated {
                token_hash: args.token_hash,
                target: args.target,
                expires_at: args.expires_at,
            },
        );
        Ok(link_info(&hash, record))
    }

    /// Revokes a link (owner). Revoking twice is not an error.
    pub fn revoke_link(
        &mut self,
        caller: &Principal,
        now: u64,
        token_hash: ByteBuf,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let hash = bytes32("token_hash", &token_hash)?;
        let mut link = self.links.get(&Key(hash)).ok_or(VaultError::NotFound)?;
        if link.revoked_at.is_none() {
            link.revoked_at = Some(now);
            self.links.insert(Key(hash), link);
            self.record(*caller, now, Activity::LinkRevoked { token_hash });
        }
        Ok(())
    }

    /// Every link, revoked ones included (owner).
    pub fn list_links(&self, caller: &Principal) -> VaultResult<Vec<LinkInfo>> {
        self.require_owner(caller)?;
        Ok(self
            .links
            .iter()
            .map(|e| link_info(&e.key().0, e.value()))
            .collect())
    }

    pub(crate) fn link_target(&self, link: &LinkRecord) -> Target {
        target_from(&link.target)
    }

    /// What a link holder needs to decrypt the target (anyone holding the link).
    pub fn open_link(&self, now: u64, access: &LinkAccess) -> VaultResult<LinkOpen> {
        let (_, link) = self.resolve_link(now, access)?;
        let target = self.link_target(&link);
        let album_name = match &target {
            Target::Album(a) => Some(ByteBuf::from(
                self.albums
                    .get(&Key(id_arg("album", a)?))
                    .ok_or(VaultError::NotFound)?
                    .name,
            )),
            Target::File(_) => None,
        };
        Ok(LinkOpen {
            target,
            key_version: link.key_version,
            wrapped_key: ByteBuf::from(link.wrapped_key),
            expires_at: link.expires_at,
            album_name,
            earlier_keys: link
                .earlier_keys
                .unwrap_or_default()
                .into_iter()
                .map(|k| (k.version, ByteBuf::from(k.wrapped_key)))
                .collect(),
        })
    }

    /// Counts one opening of a link (an update, so that the count persists).
    pub fn link_opened(&mut self, now: u64, access: &LinkAccess) -> VaultResult<u64> {
        let (hash, mut link) = self.resolve_link(now, access)?;
        link.opened += 1;
        let opened = link.opened;
        self.links.insert(Key(hash), link);
        Ok(opened)
    }
}

/// An owner's grant authenticator (docs/FORMAT.md §8.4): its size and version are checked; only
/// the owner's devices can check the MAC.
fn authenticator_arg(bytes: &ByteBuf) -> VaultResult<[u8; GRANT_AUTHENTICATOR_SIZE]> {
    versioned("authenticator", bytes, GRANT_AUTHENTICATOR_SIZE)?;
    Ok(bytes.as_slice().try_into().expect("length checked"))
}

/// A new link's earlier album key versions, checked: an album's only, ascending, below the
/// current version, each a wrapped key.
fn earlier_keys(args: &CreateLinkArgs, current: u32) -> VaultResult<Option<Vec<EarlierKey>>> {
    let given = args.earlier_keys.as_deref().unwrap_or_default();
    if given.is_empty() {
        return Ok(None);
    }
    if matches!(args.target, Target::File(_)) {
        return Err(VaultError::invalid(
            "earlier_keys",
            "a file's key has one version: give none",
        ));
    }
    let mut previous = None;
    let mut out = Vec::with_capacity(given.len());
    for (version, wrapped) in given {
        if *version >= current || previous.is_some_and(|p| p >= *version) {
            return Err(VaultError::invalid(
                "earlier_keys",
                format!("versions must ascend, each below the current version {current}"),
            ));
        }
        versioned("earlier_keys", wrapped, WRAPPED_KEY_SIZE)?;
        previous = Some(*version);
        out.push(EarlierKey {
            version: *version,
            wrapped_key: wrapped.to_vec(),
        });
    }
    Ok(Some(out))
}

fn link_info(hash: &[u8; 32], l: LinkRecord) -> LinkInfo {
    LinkInfo {
        token_hash: ByteBuf::from(hash.to_vec()),
        target: target_from(&l.target),
        key_version: l.key_version,
        expires_at: l.expires_at,
        has_password: l.password_iterations.is_some(),
        revoked_at: l.revoked_at,
        created_at: l.created_at,
        opened: l.opened,
        label: l.label.map(ByteBuf::from),
    }
}
