//! Sharing with people: share codes, grants, revocation (with the album key rotated), and
//! reading what others shared with me.

use candid::Principal;
use serde_bytes::ByteBuf;
use vault_crypto::{
    AlbumId, AlbumKey, AlbumKeyId, FileId, FileKey, GrantKey, GrantPermission, GrantTarget,
    GrantTerms, KeyWrapper, LinkKey, LinkTokenHash, SealedKey, ShareCode, SharingPublicKey,
    SharingSecretKey, open_link_record,
};
use vault_interface::types::*;

use crate::error::Missing;
use crate::export::Reader;
use crate::inbox::Told;
use crate::keyring::{Keyring, MasterKeys, id16};
use crate::records::{GrantEntry, SharedEntry, instant};
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

/// What a share refers to: an album or a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShareTarget {
    /// An album, by its 16-byte id.
    Album([u8; 16]),
    /// A file, by its 16-byte id.
    File([u8; 16]),
}

impl ShareTarget {
    /// From the canister's form.
    pub fn from_candid(target: &Target) -> Result<ShareTarget, Error> {
        Ok(match target {
            Target::Album(id) => ShareTarget::Album(id16(id)?),
            Target::File(id) => ShareTarget::File(id16(id)?),
        })
    }

    /// `album` or `file`.
    pub fn kind(&self) -> &'static str {
        match self {
            ShareTarget::Album(_) => "album",
            ShareTarget::File(_) => "file",
        }
    }

    /// The album's or file's id.
    pub fn id(&self) -> [u8; 16] {
        match self {
            ShareTarget::Album(id) | ShareTarget::File(id) => *id,
        }
    }

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
            Ok(album) => Ok(ShareTarget::Album(album.id.0)),
            Err(Error::NoSuch(_)) => match self.resolve_files(&[text.to_string()]).await {
                Ok(ids) => Ok(ShareTarget::File(ids[0])),
                Err(Error::NoSuch(_) | Error::Invalid(_)) => {
                    Err(Error::NoSuch(Missing::Target(text.to_string())))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Shares `target` with the holder of `share_code`, then tells their vault, if the code
    /// names it (the share inbox): the grant, and whether their vault was told.
    pub async fn share(
        &mut self,
        target: &ShareTarget,
        share_code: &str,
        permission: Permission,
        expires_at: Option<u64>,
    ) -> Result<(GrantEntry, Told), Error> {
        let code = ShareCode::parse(share_code).map_err(|e| {
            Error::Invalid(format!(
                "that is not a share code ({e}): ask them to copy theirs again"
            ))
        })?;
        let grantee = Principal::try_from_slice(&code.principal)
            .map_err(|e| Error::Invalid(format!("share code: bad principal: {e}")))?;
        let their_vault = code
            .vault
            .as_deref()
            .map(Principal::try_from_slice)
            .transpose()
            .map_err(|e| Error::Invalid(format!("share code: bad vault id: {e}")))?;
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
        // The owner's seal on these terms, with the key from the share code they checked: what
        // any of their devices will trust when it reads the grant back (FORMAT.md §8.4).
        let candid_target = target.candid();
        let authenticator = grant_terms(
            self.canister.id(),
            &candid_target,
            &grantee,
            &public,
            permission,
            expires_at,
            |terms| GrantKey::derive(self.master()).authenticate(terms),
        )?;
        let grant = self
            .canister
            .grant(GrantArgs {
                target: candid_target,
                grantee,
                grantee_key: ByteBuf::from(public.as_bytes().to_vec()),
                permission,
                sealed_keys,
                expires_at,
                authenticator: Some(ByteBuf::from(authenticator.as_bytes().to_vec())),
            })
            .await?;
        let told = crate::inbox::tell(self.connection(), their_vault, self.canister.id()).await;
        Ok((self.grant_entry(&grant).await?, told))
    }

    async fn grant_entry(&mut self, grant: &GrantInfo) -> Result<GrantEntry, Error> {
        let target = ShareTarget::from_candid(&grant.target)?;
        let name = match &grant.target {
            Target::Album(id) => self
                .albums()
                .await?
                .into_iter()
                .find(|a| a.id.0.as_slice() == id.as_slice())
                .map(|a| a.name),
            Target::File(id) => match self.canister.get_file(id, None).await {
                Ok(info) => self.reader.metadata(&info).ok().map(|m| m.name),
                Err(_) => None,
            },
        };
        Ok(GrantEntry {
            target,
            name,
            grantee: grant.grantee,
            permission: grant.permission,
            expires_at: grant.expires_at.map(instant),
            expired: grant.expires_at.is_some_and(|t| t <= now_ns()),
            created_at: instant(grant.created_at),
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
        let (version, _) = self.listed_album_key(album).await?;
        let name = self
            .albums()
            .await?
            .into_iter()
            .find(|a| a.id.0 == *album)
            .map(|a| a.name);
        let new_version = version + 1;
        let mut rng = crate::rng();
        let key = AlbumKey::generate(&mut rng);
        let key_id = AlbumKeyId {
            album: AlbumId(*album),
            version: new_version,
        };
        // Seal only to keys this owner authenticated (or that the canister confirms in a
        // certified update): never to a key as an uncertified query gave it.
        let listed = self.canister.list_grants(Some(target.clone())).await?;
        let grant_key = GrantKey::derive(self.master());
        let earlier: Vec<GrantKey> = self
            .masters()
            .earlier()
            .iter()
            .map(GrantKey::derive)
            .collect();
        let mut to_seal = grantees_to_seal(
            &grant_key,
            &earlier,
            self.canister.id(),
            &listed,
            revoke,
            now_ns(),
        )?;
        for grant in std::mem::take(&mut to_seal.unauthenticated) {
            to_seal
                .verified
                .push(self.authenticate_grant(&grant_key, &grant).await?);
        }
        let mut grants = Vec::new();
        for (grantee, public) in &to_seal.verified {
            let sealed = seal(public, &key, grantee.as_slice(), &key_id, &mut rng)?;
            grants.push((*grantee, sealed));
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

    /// Authenticates a grant made before grants carried the owner's authenticator: the terms as
    /// `list_grants` gave them go to `authenticate_grant`, an update, which stores the
    /// authenticator only if they are the stored terms, and answers certified. Returns the key
    /// to seal to, confirmed so.
    async fn authenticate_grant(
        &self,
        grant_key: &GrantKey,
        grant: &GrantInfo,
    ) -> Result<(Principal, SharingPublicKey), Error> {
        let public = listed_key(grant)?;
        let authenticator = grant_terms(
            self.canister.id(),
            &grant.target,
            &grant.grantee,
            &public,
            grant.permission,
            grant.expires_at,
            |terms| grant_key.authenticate(terms),
        )?;
        let confirmed = self
            .canister
            .authenticate_grant(AuthenticateGrantArgs {
                target: grant.target.clone(),
                grantee: grant.grantee,
                grantee_key: ByteBuf::from(public.as_bytes().to_vec()),
                permission: grant.permission,
                expires_at: grant.expires_at,
                authenticator: ByteBuf::from(authenticator.as_bytes().to_vec()),
            })
            .await
            .map_err(|e| match e {
                Error::Vault(VaultError::NotFound) => Error::Integrity(format!(
                    "the vault listed a grant to {} that it does not hold: the answer may have \
                     been altered; nothing was sealed. Try again",
                    grant.grantee
                )),
                Error::Vault(VaultError::Conflict { .. }) => Error::Integrity(format!(
                    "the grant to {} is not as the vault answered it when listed: the answer \
                     may have been altered; nothing was sealed to it. Try again",
                    grant.grantee
                )),
                other => other,
            })?;
        if confirmed.grantee_key.as_deref().map(|k| k.as_slice())
            != Some(public.as_bytes().as_slice())
        {
            return Err(Error::Integrity(format!(
                "the vault confirmed another key for {} than the one it listed",
                grant.grantee
            )));
        }
        Ok((grant.grantee, public))
    }

    /// A link's key, from the owner's sealed record of it. The record holds the link's secret,
    /// which must give the token hash of the link it is listed with: a record moved to another
    /// link (by whoever answered `list_links`) is refused.
    pub(crate) fn link_key_of(&self, link: &LinkInfo) -> Result<LinkKey, Error> {
        link_key_from_record(self.masters(), link)
    }
}

/// A listed link's key from the owner's record of it (sealed under the master key of its day),
/// checked to be that link's record: its secret must give the listed token hash, which only
/// the link's own secret does — so an earlier master key, which a removed device may hold,
/// cannot be used to slip in a record of the device's choosing.
pub fn link_key_from_record(masters: &MasterKeys, link: &LinkInfo) -> Result<LinkKey, Error> {
    let record = link.label.as_deref().ok_or_else(|| {
        Error::Integrity("a link has no record of its key: revoke it and make a new one".into())
    })?;
    let (secret, key, _) = masters
        .all()
        .find_map(|m| open_link_record(m, record).ok())
        .ok_or_else(|| Error::Integrity("a link's record does not decrypt".into()))?;
    let listed = <[u8; 32]>::try_from(link.token_hash.as_slice())
        .map_err(|_| Error::Integrity("a link's token hash is not 32 bytes".into()))?;
    if !secret.token().matches(&LinkTokenHash(listed)) {
        return Err(Error::Integrity(
            "a link's record belongs to another link: the answer may have been altered".into(),
        ));
    }
    Ok(key)
}

/// The keys a rotation of an album's key may seal the new key to, from the album's grants as
/// `list_grants` answered them (uncertified: one node could have swapped a key).
#[derive(Debug, Default)]
pub struct GranteesToSeal {
    /// Grantees whose key the owner's authenticator vouches for.
    pub verified: Vec<(Principal, SharingPublicKey)>,
    /// Grants made before grants carried an authenticator: to be confirmed by the canister in
    /// an update (`authenticate_grant`) before anything is sealed to them.
    pub unauthenticated: Vec<GrantInfo>,
}

/// Sorts an album's grants for a rotation: the revoked and the expired get nothing (the
/// canister drops expired grants in the rotation); a grant with an authenticator is used only
/// if the authenticator verifies under this owner's grant key for exactly the listed terms.
/// One that verifies only under an `earlier` grant key (a master key of before its last
/// rotation, which a removed device may hold, so it vouches for nothing now) is confirmed by
/// the canister like a grant without one; any other is refused — the whole rotation, naming
/// the grantee.
pub fn grantees_to_seal(
    grant_key: &GrantKey,
    earlier: &[GrantKey],
    vault: Principal,
    grants: &[GrantInfo],
    revoke: &[Principal],
    now: u64,
) -> Result<GranteesToSeal, Error> {
    let mut out = GranteesToSeal::default();
    for grant in grants {
        if revoke.contains(&grant.grantee) || grant.expires_at.is_some_and(|t| t <= now) {
            continue;
        }
        let Some(authenticator) = &grant.authenticator else {
            listed_key(grant)?;
            out.unauthenticated.push(grant.clone());
            continue;
        };
        let public = listed_key(grant)?;
        let verifies = |key: &GrantKey| {
            grant_terms(
                vault,
                &grant.target,
                &grant.grantee,
                &public,
                grant.permission,
                grant.expires_at,
                |terms| key.verify(terms, authenticator),
            )
            .is_ok()
        };
        if verifies(grant_key) {
            out.verified.push((grant.grantee, public));
        } else if earlier.iter().any(verifies) {
            out.unauthenticated.push(grant.clone());
        } else {
            return Err(Error::Integrity(format!(
                "the grant to {} does not verify under your keys: its public key or terms are \
                 not what you granted (the vault's answer may have been altered). Nothing was \
                 sealed to it; try again, and if this persists, revoke {} and share again with \
                 their share code",
                grant.grantee, grant.grantee
            )));
        }
    }
    Ok(out)
}

/// The grantee's public key as a grant lists it.
fn listed_key(grant: &GrantInfo) -> Result<SharingPublicKey, Error> {
    grant
        .grantee_key
        .as_deref()
        .and_then(|k| SharingPublicKey::from_bytes(k).ok())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} was granted before grants kept the grantee's key: revoke them too, then share again",
                grant.grantee
            ))
        })
}

/// Runs `f` on the FORMAT.md §8.4 terms of a grant.
fn grant_terms<R>(
    vault: Principal,
    target: &Target,
    grantee: &Principal,
    public: &SharingPublicKey,
    permission: Permission,
    expires_at: Option<u64>,
    f: impl FnOnce(&GrantTerms<'_>) -> Result<R, vault_crypto::GrantError>,
) -> Result<R, Error> {
    let target = match target {
        Target::Album(id) => GrantTarget::Album(AlbumId(id16(id)?)),
        Target::File(id) => GrantTarget::File(FileId(id16(id)?)),
    };
    let terms = GrantTerms {
        vault: vault.as_slice(),
        target,
        grantee: grantee.as_slice(),
        grantee_key: public,
        permission: match permission {
            Permission::View => GrantPermission::View,
            Permission::Contribute => GrantPermission::Contribute,
        },
        expires_at,
    };
    f(&terms).map_err(|e| Error::Integrity(format!("grant of {grantee}: {e}")))
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

/// This identity's share code: its principal, the public key of its vault's sharing secret,
/// and its vault's id (version 2, FORMAT.md §8.2), so that a sharer's client can tell the vault.
///
/// The key is computed from the secret itself (unwrapped with the master key), never taken from
/// the anonymous `sharing_key` query, whose answer one node could replace with its own key.
pub async fn my_share_code(vault: &Vault) -> Result<MyShareCode, Error> {
    let (secret, published) = vault.sharing_keys().await?;
    share_code_of(&vault.connection().me(), &vault.id(), &secret, &published)
}

/// The share code of `me`, owner of `vault`, with `secret`'s public key; refused if the
/// profile's published key (`published`) is another one.
pub fn share_code_of(
    me: &Principal,
    vault: &Principal,
    secret: &SharingSecretKey,
    published: &SharingPublicKey,
) -> Result<MyShareCode, Error> {
    let public = secret.public_key();
    if public != *published {
        return Err(Error::Integrity(
            "the vault's published sharing key is not the one of your sharing secret: \
             not making a share code from it"
                .into(),
        ));
    }
    let code = ShareCode::new(me.as_slice(), public)
        .and_then(|code| code.with_vault(vault.as_slice()))
        .map_err(|e| Error::Agent(format!("cannot make the share code: {e}")))?;
    Ok(MyShareCode {
        principal: me.to_text(),
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

impl SharedWithMe {
    /// Reads what `owner_vault` shares with this connection's identity, opening the sealed keys
    /// with `secret`.
    pub async fn open(
        conn: &Connection,
        owner_vault: Principal,
        secret: &SharingSecretKey,
    ) -> Result<SharedWithMe, Error> {
        let items = conn.vault(owner_vault).shared_with_me().await?;
        Self::with_items(conn, owner_vault, secret, items)
    }

    /// What `owner_vault` shares with this connection's identity, as its `shared_with_me`
    /// answered (`items`), the sealed keys opened with `secret`.
    pub fn with_items(
        conn: &Connection,
        owner_vault: Principal,
        secret: &SharingSecretKey,
        items: Vec<SharedItem>,
    ) -> Result<SharedWithMe, Error> {
        let canister = conn.vault(owner_vault);
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
        self.entries_up_to(usize::MAX, true).await
    }

    /// The first `max` shared items, albums named (their names are in the answer), and files
    /// named only if `file_names` (a query each).
    pub async fn entries_up_to(
        &self,
        max: usize,
        file_names: bool,
    ) -> Result<Vec<SharedEntry>, Error> {
        let mut out = Vec::new();
        for item in self.items.iter().take(max) {
            let target = ShareTarget::from_candid(&item.grant.target)?;
            let name = match &item.grant.target {
                Target::Album(album) => item
                    .album_name
                    .as_deref()
                    .and_then(|sealed| self.reader.keys.album_name(&id16(album).ok()?, sealed)),
                Target::File(_) if !file_names => None,
                Target::File(file) => match self.reader.canister.get_file(file, None).await {
                    Ok(info) => self.reader.metadata(&info).ok().map(|m| m.name),
                    Err(_) => None,
                },
            };
            out.push(SharedEntry {
                target,
                name,
                permission: item.grant.permission,
                expires_at: item.grant.expires_at.map(instant),
                vault: self.reader.canister.id(),
                new_from: None,
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
                && !(want.len() >= 4
                    && hex::encode(entry.target.id()).starts_with(&want.to_ascii_lowercase()))
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

#[cfg(test)]
mod tests {
    //! The client's decisions on what a vault answered, fed the answers a dishonest node could
    //! give (a node cannot be made to lie for real in a test, so the lie is made here).
    use super::*;
    use vault_crypto::{LinkSecret, MasterKey, SharingKeyPair, seal_link_record};

    fn principal(n: u8) -> Principal {
        Principal::from_slice(&[n; 29])
    }

    const VAULT: u8 = 0xaa;
    const ALBUM: [u8; 16] = [0xa1; 16];

    /// The owner's grant of the album to `who`, with its authenticator, as `grant` stored it.
    fn granted(
        grant_key: &GrantKey,
        who: u8,
        key: &SharingPublicKey,
        expires_at: Option<u64>,
    ) -> GrantInfo {
        let target = Target::Album(ByteBuf::from(ALBUM.to_vec()));
        let authenticator = grant_terms(
            principal(VAULT),
            &target,
            &principal(who),
            key,
            Permission::View,
            expires_at,
            |t| grant_key.authenticate(t),
        )
        .unwrap();
        GrantInfo {
            target,
            grantee: principal(who),
            grantee_key: Some(ByteBuf::from(key.as_bytes().to_vec())),
            permission: Permission::View,
            sealed_keys: vec![],
            expires_at,
            created_at: 1,
            authenticator: Some(ByteBuf::from(authenticator.as_bytes().to_vec())),
        }
    }

    fn keys(n: usize) -> Vec<SharingPublicKey> {
        let mut rng = crate::rng();
        (0..n)
            .map(|_| SharingKeyPair::generate(&mut rng).public)
            .collect()
    }

    #[test]
    fn a_rotation_seals_to_authenticated_keys_and_skips_the_revoked_and_the_expired() {
        let master = MasterKey::generate(&mut crate::rng());
        let grant_key = GrantKey::derive(&master);
        let k = keys(4);
        let mut legacy = granted(&grant_key, 4, &k[3], None);
        legacy.authenticator = None;
        let grants = vec![
            granted(&grant_key, 1, &k[0], None),
            granted(&grant_key, 2, &k[1], Some(100)),
            granted(&grant_key, 3, &k[2], Some(50)),
            legacy,
        ];
        let to_seal = grantees_to_seal(
            &grant_key,
            &[],
            principal(VAULT),
            &grants,
            &[principal(1)],
            60,
        )
        .unwrap();
        assert_eq!(to_seal.verified, vec![(principal(2), k[1])]);
        assert_eq!(
            to_seal
                .unauthenticated
                .iter()
                .map(|g| g.grantee)
                .collect::<Vec<_>>(),
            vec![principal(4)],
            "an older grant is confirmed by the canister before anything is sealed to it"
        );
    }

    /// Issue 16 finding 3: a node answers `list_grants` with its own key in place of a
    /// grantee's; the rotation refuses, naming the grantee, and seals nothing.
    #[test]
    fn a_swapped_grantee_key_is_refused() {
        let master = MasterKey::generate(&mut crate::rng());
        let grant_key = GrantKey::derive(&master);
        let k = keys(3);
        let honest = vec![
            granted(&grant_key, 1, &k[0], None),
            granted(&grant_key, 2, &k[1], Some(100)),
        ];
        assert!(grantees_to_seal(&grant_key, &[], principal(VAULT), &honest, &[], 60).is_ok());
        type Lie<'a> = Box<dyn Fn(&mut GrantInfo) + 'a>;
        let lies: Vec<Lie> = vec![
            // The node's own key in place of grantee 2's.
            Box::new(|g| g.grantee_key = Some(ByteBuf::from(k[2].as_bytes().to_vec()))),
            // Grantee 1's authenticated record under grantee 2's name.
            Box::new(|g| g.authenticator = honest[0].authenticator.clone()),
            // Its expiry moved, or its permission raised.
            Box::new(|g| g.expires_at = Some(200)),
            Box::new(|g| g.permission = Permission::Contribute),
            // The authenticated record of a grant on another album.
            Box::new(|g| {
                let other = granted(&grant_key, 2, &k[1], Some(100));
                g.authenticator = other.authenticator;
                g.target = Target::Album(ByteBuf::from(vec![0xa2; 16]));
            }),
            // A damaged authenticator.
            Box::new(|g| g.authenticator = Some(ByteBuf::from(vec![1; 32]))),
        ];
        for (i, lie) in lies.iter().enumerate() {
            let mut grants = honest.clone();
            lie(&mut grants[1]);
            match grantees_to_seal(&grant_key, &[], principal(VAULT), &grants, &[], 60) {
                Err(Error::Integrity(why)) => {
                    assert!(why.contains(&principal(2).to_text()), "lie {i}: {why}")
                }
                other => panic!("lie {i} was not refused: {other:?}"),
            }
        }
        // Another owner's authenticators are not this owner's.
        let stranger = GrantKey::derive(&MasterKey::generate(&mut crate::rng()));
        assert!(matches!(
            grantees_to_seal(&stranger, &[], principal(VAULT), &honest, &[], 60),
            Err(Error::Integrity(_))
        ));
        // The same grants in another vault (a record copied across vaults) do not verify.
        assert!(matches!(
            grantees_to_seal(&grant_key, &[], principal(0xab), &honest, &[], 60),
            Err(Error::Integrity(_))
        ));
    }

    /// Issue 16 finding 10d: after a rotation of the master key, an authenticator made under
    /// the earlier key vouches for nothing (a removed device holds that key, and could make
    /// one for a key of its own): the grant is confirmed by the canister, in an update, before
    /// anything is sealed to it. One under neither key is still refused.
    #[test]
    fn after_a_rotation_earlier_authenticators_are_confirmed_not_trusted() {
        let mut rng = crate::rng();
        let old = GrantKey::derive(&MasterKey::generate(&mut rng));
        let new = GrantKey::derive(&MasterKey::generate(&mut rng));
        let k = keys(3);
        let grants = vec![
            granted(&new, 1, &k[0], None),
            granted(&old, 2, &k[1], None),
            // What a removed device could list through one node: its own key, vouched for
            // by the earlier key.
            granted(&old, 3, &k[2], None),
        ];
        let to_seal = grantees_to_seal(
            &new,
            std::slice::from_ref(&old),
            principal(VAULT),
            &grants,
            &[],
            60,
        )
        .unwrap();
        assert_eq!(to_seal.verified, vec![(principal(1), k[0])]);
        assert_eq!(
            to_seal
                .unauthenticated
                .iter()
                .map(|g| g.grantee)
                .collect::<Vec<_>>(),
            vec![principal(2), principal(3)],
            "confirmed by the canister (which holds no grant to 3) before sealing"
        );
        // Without the earlier key, they are not this owner's: refused.
        assert!(matches!(
            grantees_to_seal(&new, &[], principal(VAULT), &grants, &[], 60),
            Err(Error::Integrity(_))
        ));
        let stranger = GrantKey::derive(&MasterKey::generate(&mut rng));
        let forged = vec![granted(&stranger, 3, &k[2], None)];
        assert!(matches!(
            grantees_to_seal(&new, &[old], principal(VAULT), &forged, &[], 60),
            Err(Error::Integrity(_))
        ));
    }

    /// Issue 16 finding 3: a share code is made from the sharing secret's own public key; a
    /// published key that is not it (as the anonymous `sharing_key` query could answer) is refused.
    #[test]
    fn a_swapped_own_sharing_key_is_refused() {
        let mut rng = crate::rng();
        let mine = SharingKeyPair::generate(&mut rng);
        let theirs = SharingKeyPair::generate(&mut rng);
        let me = principal(7);
        let code = share_code_of(&me, &principal(VAULT), &mine.secret, &mine.public).unwrap();
        let parsed = ShareCode::parse(&code.share_code).unwrap();
        assert_eq!(parsed.public_key, mine.public);
        assert_eq!(parsed.principal, me.as_slice());
        // It names the vault, for the sharer's client to tell it (the share inbox).
        assert_eq!(parsed.vault.as_deref(), Some(principal(VAULT).as_slice()));
        assert!(matches!(
            share_code_of(&me, &principal(VAULT), &mine.secret, &theirs.public),
            Err(Error::Integrity(_))
        ));
    }

    /// A link's record listed with another link's token hash (so that the new album key would be
    /// wrapped for a link the owner revoked) is refused.
    #[test]
    fn a_link_record_moved_to_another_link_is_refused() {
        let mut rng = crate::rng();
        let master = MasterKey::generate(&mut rng);
        let secret = LinkSecret::generate(&mut rng);
        let record = seal_link_record(
            &master,
            &secret,
            &secret.link_key(None),
            "for Ann",
            &mut rng,
        );
        let link = |hash: [u8; 32]| LinkInfo {
            token_hash: ByteBuf::from(hash.to_vec()),
            target: Target::Album(ByteBuf::from(ALBUM.to_vec())),
            key_version: 0,
            expires_at: None,
            has_password: false,
            revoked_at: None,
            created_at: 1,
            opened: 0,
            label: Some(ByteBuf::from(record.clone())),
        };
        let masters = MasterKeys::first(master);
        let own = link_key_from_record(&masters, &link(secret.token().hash().0)).unwrap();
        assert_eq!(own.expose_secret(), secret.link_key(None).expose_secret());
        let other = LinkSecret::generate(&mut rng).token().hash().0;
        assert!(matches!(
            link_key_from_record(&masters, &link(other)),
            Err(Error::Integrity(_))
        ));
        // After a rotation of the master key the record, sealed under the earlier key, still
        // opens — and moved to another link is still refused.
        let rotated = masters.rotated(MasterKey::generate(&mut rng));
        assert!(link_key_from_record(&rotated, &link(secret.token().hash().0)).is_ok());
        assert!(matches!(
            link_key_from_record(&rotated, &link(other)),
            Err(Error::Integrity(_))
        ));
    }
}
