//! Grants to people: sharing an album or a file with someone's share code for a time, who
//! may read or add what, what is shared with the caller, taking a grant back, and rotating an
//! album's key (with revocation).

use super::*;

impl<M: Memory> State<M> {
    /// Checks that `target` exists and is shareable; returns its current key version.
    pub(super) fn shareable(&self, target: &Target) -> VaultResult<([u8; TARGET], u32)> {
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
    /// [`GRANTS_INSPECTED`](crate::model::uploads::GRANTS_INSPECTED) grants; a grantee of more is let
    /// through.
    pub(crate) fn has_live_grant(&self, caller: &Principal, now: u64) -> bool {
        let low = key::<{ PRINCIPAL + TARGET }>(&[&principal_slot(caller), &[0u8; TARGET]]);
        let high = key::<{ PRINCIPAL + TARGET }>(&[&principal_slot(caller), &[0xffu8; TARGET]]);
        let mut grants = self.grantee_index.keys_range(low..=high);
        (&mut grants)
            .take(crate::model::uploads::GRANTS_INSPECTED)
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
}

/// An owner's grant authenticator (docs/FORMAT.md §8.4): its size and version are checked; only
/// the owner's devices can check the MAC.
fn authenticator_arg(bytes: &ByteBuf) -> VaultResult<[u8; GRANT_AUTHENTICATOR_SIZE]> {
    versioned("authenticator", bytes, GRANT_AUTHENTICATOR_SIZE)?;
    Ok(bytes.as_slice().try_into().expect("length checked"))
}
