//! Links: making one (its key stays in the URL's fragment, never here), opening it (with its
//! password's check), counting its opens, listing and revoking links.

use super::*;

impl<M: Memory> State<M> {
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
