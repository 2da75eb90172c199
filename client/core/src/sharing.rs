//! Sharing with people: share codes, grants, revocation (with the album key rotated), and
//! reading what others shared with me.

use candid::Principal;
use serde_bytes::ByteBuf;
use vault_canister::model::types::*;
use vault_crypto::{
    AlbumId, AlbumKey, AlbumKeyId, FileId, FileKey, KeyWrapper, LinkKey, SealedKey, ShareCode,
    SharingPublicKey, SharingSecretKey, open_link_record,
};

use crate::export::Reader;
use crate::keyring::{Keyring, id16};
use crate::view::{GrantEntry, permission_text, target_parts, time_ns};
use crate::{Connection, Error, Vault};

/// This user's share code and its fingerprint words.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MyShareCode {
    /// The principal.
    pub principal: String,
    /// The code to give people who want to share with you.
    pub share_code: String,
    /// Six words to read to each other to confirm it.
    pub fingerprint: String,
}

/// What a share refers to: an album (by name or id) or a file (by id).
#[derive(Clone, Debug)]
pub enum ShareTarget {
    /// An album, by its 16-byte id.
    Album([u8; 16]),
    /// A file, by its 16-byte id.
    File([u8; 16]),
}

impl ShareTarget {
    /// The canister's form.
    pub fn candid(&self) -> Target {
        match self {
            ShareTarget::Album(id) => Target::Album(ByteBuf::from(id.to_vec())),
            ShareTarget::File(id) => Target::File(ByteBuf::from(id.to_vec())),
        }
    }
}

/// Nanoseconds since the epoch, now.
pub fn now_ns() -> u64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64
}

impl Vault {
    /// Resolves an album name/id or a file id.
    pub async fn share_target(&mut self, text: &str) -> Result<ShareTarget, Error> {
        match self.find_album(text).await {
            Ok(album) => Ok(ShareTarget::Album(crate::vault::hex_id(&album.id)?)),
            Err(Error::NotFound(_)) => match self.resolve_files(&[text.to_string()]).await {
                Ok(ids) => Ok(ShareTarget::File(ids[0])),
                Err(Error::NotFound(_) | Error::Invalid(_)) => Err(Error::NotFound(format!(
                    "`{text}` is neither an album nor a file (see `vault album ls` and `vault ls`)"
                ))),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Shares `target` with the holder of `share_code`.
    pub async fn share(
        &mut self,
        target: &ShareTarget,
        share_code: &str,
        permission: Permission,
        expires_at: Option<u64>,
    ) -> Result<GrantEntry, Error> {
        let code = ShareCode::parse(share_code).map_err(|e| {
            Error::Invalid(format!(
                "share code: {e}: ask them for `vault identity show`'s code"
            ))
        })?;
        let grantee = Principal::try_from_slice(&code.principal)
            .map_err(|e| Error::Invalid(format!("share code: bad principal: {e}")))?;
        let public = code.public_key;
        let recipient = grantee.as_slice().to_vec();
        let mut rng = crate::rng();
        let sealed_keys = match target {
            ShareTarget::Album(album) => {
                self.load_albums().await?;
                let (current, _) = self.current_album_key(album).await?;
                (0..=current)
                    .map(|version| {
                        let key = self.reader.keys.album_key(album, version).ok_or_else(|| {
                            Error::Integrity(format!("album key version {version} is missing"))
                        })?;
                        seal(
                            &public,
                            key,
                            &recipient,
                            &AlbumKeyId {
                                album: AlbumId(*album),
                                version,
                            },
                            &mut rng,
                        )
                        .map(|sealed| SealedKeyVersion { version, sealed })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            ShareTarget::File(file) => {
                let info = self.canister.get_file(file, None).await?;
                self.load_albums().await?;
                let key = self.reader.keys.file_key(&info)?;
                vec![SealedKeyVersion {
                    version: 0,
                    sealed: seal(&public, &key, &recipient, &FileId(*file), &mut rng)?,
                }]
            }
        };
        let grant = self
            .canister
            .grant(GrantArgs {
                target: target.candid(),
                grantee,
                grantee_key: ByteBuf::from(public.as_bytes().to_vec()),
                permission,
                sealed_keys,
                expires_at,
                authenticator: None,
            })
            .await?;
        self.grant_entry(&grant).await
    }

    async fn grant_entry(&mut self, grant: &GrantInfo) -> Result<GrantEntry, Error> {
        let (kind, target) = target_parts(&grant.target);
        let name = match &grant.target {
            Target::Album(id) => self
                .albums()
                .await?
                .into_iter()
                .find(|a| a.id == hex::encode(id))
                .map(|a| a.name),
            Target::File(id) => match self.canister.get_file(id, None).await {
                Ok(info) => self.reader.metadata(&info).ok().map(|m| m.name),
                Err(_) => None,
            },
        };
        Ok(GrantEntry {
            kind: kind.into(),
            target,
            name,
            grantee: grant.grantee.to_text(),
            permission: permission_text(grant.permission).into(),
            expires_at: grant.expires_at.map(time_ns),
            expired: grant.expires_at.is_some_and(|t| t <= now_ns()),
            created_at: time_ns(grant.created_at),
        })
    }

    /// Every grant this vault has made.
    pub async fn grants(&mut self) -> Result<Vec<GrantEntry>, Error> {
        let grants = self.canister.list_grants(None).await?;
        let mut out = Vec::with_capacity(grants.len());
        for grant in &grants {
            out.push(self.grant_entry(grant).await?);
        }
        Ok(out)
    }

    /// Withdraws `grantee`'s access to `target`. For an album, its key is rotated in the same
    /// message, so nothing added later is under a key they hold (PROTOCOL.md §4.6).
    pub async fn revoke(&mut self, target: &ShareTarget, grantee: Principal) -> Result<(), Error> {
        match target {
            ShareTarget::File(_) => self.canister.revoke_grant(target.candid(), grantee).await,
            ShareTarget::Album(album) => {
                let grants = self.canister.list_grants(Some(target.candid())).await?;
                if !grants.iter().any(|g| g.grantee == grantee) {
                    return Err(Error::NotFound(format!(
                        "{grantee} has no grant on this album"
                    )));
                }
                self.rotate_album_key(album, &[grantee]).await
            }
        }
    }

    /// Rotates an album's key, revoking `revoke`: the new key is sealed to every remaining
    /// grantee and wrapped for every live link, then the album's name is sealed under it.
    pub async fn rotate_album_key(
        &mut self,
        album: &[u8; 16],
        revoke: &[Principal],
    ) -> Result<(), Error> {
        let target = ShareTarget::Album(*album).candid();
        let (version, _) = self.current_album_key(album).await?;
        let name = self
            .albums()
            .await?
            .into_iter()
            .find(|a| a.id == hex::encode(album))
            .map(|a| a.name);
        let new_version = version + 1;
        let mut rng = crate::rng();
        let key = AlbumKey::generate(&mut rng);
        let key_id = AlbumKeyId {
            album: AlbumId(*album),
            version: new_version,
        };
        let mut grants = Vec::new();
        for grant in self.canister.list_grants(Some(target.clone())).await? {
            if revoke.contains(&grant.grantee) || grant.expires_at.is_some_and(|t| t <= now_ns()) {
                continue;
            }
            let public = grant
                .grantee_key
                .as_deref()
                .and_then(|k| SharingPublicKey::from_bytes(k).ok())
                .ok_or_else(|| Error::Invalid(format!(
                    "{} was granted before grants kept the grantee's key: revoke them too, then share again",
                    grant.grantee
                )))?;
            let sealed = seal(&public, &key, grant.grantee.as_slice(), &key_id, &mut rng)?;
            grants.push((grant.grantee, sealed));
        }
        let mut links = Vec::new();
        for link in self.canister.list_links().await? {
            let live = link.revoked_at.is_none() && link.expires_at.is_none_or(|t| t > now_ns());
            if link.target != target || !live {
                continue;
            }
            let link_key = self.link_key_of(&link)?;
            let wrapped = link_key.wrap_key(&key, &key_id, &mut rng);
            links.push((
                link.token_hash.clone(),
                ByteBuf::from(wrapped.as_bytes().to_vec()),
            ));
        }
        let wrapped = self.master().wrap_key(&key, &key_id, &mut rng);
        self.canister
            .rotate_album_key(RotateAlbumKeyArgs {
                album_id: ByteBuf::from(album.to_vec()),
                revoke: revoke.to_vec(),
                new_version,
                wrapped_key: ByteBuf::from(wrapped.as_bytes().to_vec()),
                grants,
                links,
            })
            .await?;
        if let Some(name) = name {
            let sealed = vault_crypto::seal_album_name(&key, &name, &mut rng);
            self.canister.rename_album(album, sealed).await?;
        }
        self.reader.keys.add_album_key(*album, new_version, key);
        self.refresh();
        Ok(())
    }

    /// A link's key, from the owner's sealed record of it.
    pub(crate) fn link_key_of(&self, link: &LinkInfo) -> Result<LinkKey, Error> {
        let record = link.label.as_deref().ok_or_else(|| {
            Error::Integrity("a link has no record of its key: revoke it and make a new one".into())
        })?;
        let (_, key, _) = open_link_record(self.master(), record)
            .map_err(|_| Error::Integrity("a link's record does not decrypt".into()))?;
        Ok(key)
    }
}

fn seal<K: vault_crypto::ShareableKey>(
    public: &SharingPublicKey,
    key: &K,
    recipient: &[u8],
    id: &K::Id,
    rng: &mut impl vault_crypto::CryptoRng,
) -> Result<ByteBuf, Error> {
    public
        .seal_key(key, recipient, id, rng)
        .map(|s| ByteBuf::from(s.as_bytes().to_vec()))
        .map_err(|_| Error::Invalid("the share code's public key is not usable".into()))
}

/// This identity's share code: its principal and its vault's public sharing key (public: no
/// unlock needed).
pub async fn my_share_code(conn: &Connection, my_vault: Principal) -> Result<MyShareCode, Error> {
    let public = SharingPublicKey::from_bytes(&conn.vault(my_vault).sharing_key().await?)
        .map_err(|_| Error::Integrity("the vault's sharing key is damaged".into()))?;
    let code = ShareCode::new(conn.me().as_slice(), public)
        .map_err(|e| Error::Agent(format!("cannot make the share code: {e}")))?;
    Ok(MyShareCode {
        principal: conn.me().to_text(),
        share_code: code.to_text(),
        fingerprint: code.fingerprint(),
    })
}

/// What someone shared with me, in their vault, readable with my sharing secret.
pub struct SharedWithMe {
    /// Reads the owner's canister with the keys shared with me.
    pub reader: Reader,
    /// The grants.
    pub items: Vec<SharedItem>,
}

/// One thing shared with me.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SharedEntry {
    /// `album` or `file`.
    pub kind: String,
    /// Its id (hex).
    pub id: String,
    /// The album's or file's name.
    pub name: Option<String>,
    /// `view` or `contribute`.
    pub permission: String,
    /// When it lapses.
    pub expires_at: Option<String>,
    /// The owner's vault canister.
    pub vault: String,
}

impl SharedWithMe {
    /// Reads what `owner_vault` shares with this connection's identity, opening the sealed keys
    /// with `secret`.
    pub async fn open(
        conn: &Connection,
        owner_vault: Principal,
        secret: &SharingSecretKey,
    ) -> Result<SharedWithMe, Error> {
        let canister = conn.vault(owner_vault);
        let items = canister.shared_with_me().await?;
        let me = conn.me();
        let mut keys = Keyring::default();
        for item in &items {
            match &item.grant.target {
                Target::Album(id) => {
                    let album = id16(id)?;
                    for sealed in &item.grant.sealed_keys {
                        let sealed_key = SealedKey::from_bytes(&sealed.sealed)
                            .map_err(|_| Error::Integrity("a shared key is damaged".into()))?;
                        let key: AlbumKey = secret
                            .open_key(
                                &sealed_key,
                                me.as_slice(),
                                &AlbumKeyId {
                                    album: AlbumId(album),
                                    version: sealed.version,
                                },
                            )
                            .map_err(|_| {
                                Error::Integrity(
                                    "a key shared with you does not open with your sharing key"
                                        .into(),
                                )
                            })?;
                        keys.add_album_key(album, sealed.version, key);
                    }
                }
                Target::File(id) => {
                    let file = id16(id)?;
                    let sealed = item
                        .grant
                        .sealed_keys
                        .first()
                        .ok_or_else(|| Error::Integrity("a shared file has no key".into()))?;
                    let sealed_key = SealedKey::from_bytes(&sealed.sealed)
                        .map_err(|_| Error::Integrity("a shared key is damaged".into()))?;
                    let key: FileKey = secret
                        .open_key(&sealed_key, me.as_slice(), &FileId(file))
                        .map_err(|_| {
                        Error::Integrity(
                            "a key shared with you does not open with your sharing key".into(),
                        )
                    })?;
                    keys.add_file_key(file, key);
                }
            }
        }
        Ok(SharedWithMe {
            reader: Reader::new(canister, keys, None),
            items,
        })
    }

    /// The shared items, named.
    pub async fn entries(&self) -> Result<Vec<SharedEntry>, Error> {
        let mut out = Vec::new();
        for item in &self.items {
            let (kind, id) = target_parts(&item.grant.target);
            let name = match &item.grant.target {
                Target::Album(album) => item
                    .album_name
                    .as_deref()
                    .and_then(|sealed| self.reader.keys.album_name(&id16(album).ok()?, sealed)),
                Target::File(file) => match self.reader.canister.get_file(file, None).await {
                    Ok(info) => self.reader.metadata(&info).ok().map(|m| m.name),
                    Err(_) => None,
                },
            };
            out.push(SharedEntry {
                kind: kind.into(),
                id,
                name,
                permission: permission_text(item.grant.permission).into(),
                expires_at: item.grant.expires_at.map(time_ns),
                vault: self.reader.canister.id().to_text(),
            });
        }
        Ok(out)
    }

    /// The files shared: an album's (named by name or id prefix) or every shared item's.
    pub async fn files(&self, album: Option<&str>) -> Result<Vec<FileInfo>, Error> {
        let entries = self.entries().await?;
        let mut out = Vec::new();
        for (item, entry) in self.items.iter().zip(&entries) {
            if let Some(want) = album
                && entry.name.as_deref() != Some(want)
                && !(want.len() >= 4 && entry.id.starts_with(&want.to_ascii_lowercase()))
            {
                continue;
            }
            match &item.grant.target {
                Target::Album(id) => {
                    out.extend(self.reader.list_infos(Some(id16(id)?), false).await?)
                }
                Target::File(id) => out.push(self.reader.canister.get_file(id, None).await?),
            }
        }
        if album.is_some()
            && out.is_empty()
            && !entries
                .iter()
                .any(|e| Some(e.name.as_deref().unwrap_or("")) == album)
        {
            return Err(Error::NotFound(format!(
                "nothing shared with you is named `{}`",
                album.unwrap_or("")
            )));
        }
        Ok(out)
    }
}
