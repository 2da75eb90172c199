//! Sharing links: made by the owner, opened by anyone with the URL (and the password, if set).
//!
//! The URL is `<the canister's gateway URL>/s#<fragment>`: the fragment (FORMAT.md §9.1) never
//! reaches a server. The owner's record of each link (its secret and key, sealed under the
//! master key in the link's `label`, FORMAT.md §4.6) lets `vault link ls` show URLs again and a
//! key rotation re-wrap the album's new key for the link.

use candid::Principal;
use serde_bytes::ByteBuf;
use vault_crypto::{
    AlbumId, AlbumKey, AlbumKeyId, DEFAULT_LINK_PBKDF2_ITERATIONS, FileId, FileKey, KeyWrapper,
    LinkPassword, LinkSecret, WrappedKey, open_link_record, seal_link_record,
};
use vault_interface::types::*;

use crate::error::Missing;
use crate::export::Reader;
use crate::keyring::{Keyring, id16};
use crate::network::Network;
use crate::records::{LinkEntry, LinkId, instant};
use crate::sharing::{ShareTarget, now_ns};
use crate::{Connection, Error, Vault};

/// The longest label: the sealed record (17 + 64 + label + 16 bytes) must fit the canister's
/// 1 KiB.
pub const MAX_LABEL_BYTES: usize = 1024 - 17 - 64 - 16;

/// The path links open at (the canister's viewer serves it).
pub const LINK_PATH: &str = "/s";

/// A link just made, or listed with its URL.
#[derive(Clone, Debug)]
pub struct LinkWithUrl {
    /// The link.
    pub link: LinkEntry,
    /// Its URL (with the secret in the fragment), when the record opens.
    pub url: Option<String>,
}

/// The URL of a link to canister `id` with `secret`.
pub fn link_url(network: &Network, id: &Principal, secret: &LinkSecret) -> String {
    let base = network.gateway_url(id);
    let fragment = secret.to_fragment();
    match base.split_once('?') {
        Some((host, query)) => format!(
            "{}{LINK_PATH}?{query}#{}",
            host.trim_end_matches('/'),
            fragment.as_str()
        ),
        None => format!("{base}{LINK_PATH}#{}", fragment.as_str()),
    }
}

/// Where a link URL points: the replica to ask, the canister, and the secret.
pub fn parse_link_url(url: &str) -> Result<(Network, Principal, LinkSecret), Error> {
    let (rest, fragment) = url.trim().split_once('#').ok_or_else(|| {
        Error::Invalid("this link has no secret after `#`: copy the whole link".into())
    })?;
    let secret = LinkSecret::from_fragment(fragment)
        .map_err(|e| Error::Invalid(format!("damaged link ({e}): copy the whole link again")))?;
    let damaged = || Error::Invalid(format!("`{rest}` is not a Vault link"));
    let (scheme, after) = rest.split_once("://").ok_or_else(damaged)?;
    let (authority, path) = after.split_once('/').unwrap_or((after, ""));
    let query_canister = path
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("canisterId=")));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()),
        None => (authority, None),
    };
    let (canister, network) = if let Some(id) = host
        .strip_suffix(".icp0.io")
        .or_else(|| host.strip_suffix(".ic0.app"))
    {
        (id.to_string(), Network::Ic)
    } else if let Some(id) = host.strip_suffix(".localhost") {
        (
            id.to_string(),
            Network::Local {
                port: port.unwrap_or(80),
            },
        )
    } else if let Some(id) = query_canister {
        (
            id.to_string(),
            Network::Url(format!("{scheme}://{authority}")),
        )
    } else {
        return Err(damaged());
    };
    let canister = Principal::from_text(&canister).map_err(|_| damaged())?;
    Ok((network, canister, secret))
}

impl Vault {
    /// Makes a link to `target`.
    pub async fn create_link(
        &mut self,
        target: &ShareTarget,
        expires_at: Option<u64>,
        password: Option<&str>,
        label: &str,
    ) -> Result<LinkWithUrl, Error> {
        if label.len() > MAX_LABEL_BYTES {
            return Err(Error::Invalid(format!(
                "a link's label is at most {MAX_LABEL_BYTES} bytes"
            )));
        }
        let mut rng = crate::rng();
        let secret = LinkSecret::generate(&mut rng);
        let (password_args, link_key) = match password {
            Some(password) => {
                let pw = {
                    let secret = secret.clone();
                    let password = zeroize::Zeroizing::new(password.to_string());
                    crate::platform::blocking(move || {
                        LinkPassword::derive(&secret, &password, DEFAULT_LINK_PBKDF2_ITERATIONS)
                    })
                    .await
                    .map_err(|e| Error::Invalid(format!("link password: {e}")))?
                };
                (
                    Some(LinkPasswordArgs {
                        iterations: DEFAULT_LINK_PBKDF2_ITERATIONS,
                        verifier: ByteBuf::from(pw.proof().verifier().0.to_vec()),
                    }),
                    secret.link_key(Some(&pw)),
                )
            }
            None => (None, secret.link_key(None)),
        };
        let (key_version, wrapped, earlier_keys) = match target {
            ShareTarget::Album(album) => {
                let (version, _) = self.current_album_key(album).await?;
                // Every version, so the link opens files added before a rotation too.
                let mut wrapped = Vec::with_capacity(version as usize + 1);
                for v in 0..=version {
                    let key = self.reader.keys.album_key(album, v).ok_or_else(|| {
                        Error::Integrity(format!("version {v} of the album's key is missing"))
                    })?;
                    let id = AlbumKeyId {
                        album: AlbumId(*album),
                        version: v,
                    };
                    wrapped.push((v, link_key.wrap_key(key, &id, &mut rng)));
                }
                let (_, current) = wrapped.pop().expect("version 0..=current");
                let earlier = wrapped
                    .into_iter()
                    .map(|(v, w)| (v, ByteBuf::from(w.as_bytes().to_vec())))
                    .collect();
                (version, current, Some(earlier))
            }
            ShareTarget::File(file) => {
                self.load_albums().await?;
                let info = self.canister.get_file(file, None).await?;
                let key = self.reader.keys.file_key(&info)?;
                (0, link_key.wrap_key(&key, &FileId(*file), &mut rng), None)
            }
        };
        let record = seal_link_record(self.master(), &secret, &link_key, label, &mut rng);
        let info = self
            .canister
            .create_link(CreateLinkArgs {
                token_hash: ByteBuf::from(secret.token().hash().0.to_vec()),
                target: target.candid(),
                key_version,
                wrapped_key: ByteBuf::from(wrapped.as_bytes().to_vec()),
                expires_at,
                password: password_args,
                label: Some(ByteBuf::from(record)),
                earlier_keys,
            })
            .await?;
        self.link_with_url(&info)
    }

    fn link_with_url(&self, info: &LinkInfo) -> Result<LinkWithUrl, Error> {
        let record = info.label.as_deref().and_then(|blob| {
            self.masters()
                .all()
                .find_map(|m| open_link_record(m, blob).ok())
        });
        Ok(LinkWithUrl {
            link: LinkEntry {
                id: LinkId::from_slice(&info.token_hash)?,
                target: ShareTarget::from_candid(&info.target)?,
                label: record
                    .as_ref()
                    .map(|(_, _, l)| l.clone())
                    .filter(|l| !l.is_empty()),
                expires_at: info.expires_at.map(instant),
                revoked_at: info.revoked_at.map(instant),
                password: info.has_password,
                opened: info.opened,
                created_at: instant(info.created_at),
            },
            url: record
                .map(|(secret, _, _)| link_url(&self.conn.network, &self.canister.id(), &secret)),
        })
    }

    /// Every link, with its URL.
    pub async fn links(&self) -> Result<Vec<LinkWithUrl>, Error> {
        self.canister
            .list_links()
            .await?
            .iter()
            .map(|l| self.link_with_url(l))
            .collect()
    }

    /// Revokes the link whose id (token hash, hex) starts with `id`, or whose URL is `id`. An
    /// album's key is then rotated (its live links and grantees get the new key; this link
    /// not), so that what is added later is under a key the link's holder never had — as for
    /// a revoked person.
    pub async fn revoke_link(&mut self, id: &str) -> Result<LinkWithUrl, Error> {
        let links = self.links().await?;
        let wanted = id.trim().to_ascii_lowercase();
        let matches: Vec<_> = links
            .iter()
            .filter(|l| {
                (wanted.len() >= 4 && l.link.id.to_string().starts_with(&wanted))
                    || l.url
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(id.trim()))
            })
            .collect();
        let link = match matches.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(Error::NoSuch(Missing::Link(id.to_string())));
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "`{id}` matches several links: give more of the id"
                )));
            }
        };
        self.canister.revoke_link(&link.link.id.0).await?;
        if let ShareTarget::Album(album) = link.link.target {
            self.rotate_album_key(&album, &[]).await?;
        }
        Ok(link)
    }

    /// Revokes every live link made before the master key's last rotation (its record opens
    /// only under an earlier master key, so a removed device that held that key knows the
    /// link's secret). Reads the links certified, so one node cannot hide one. Returns how
    /// many were revoked; the albums' keys are rotated afterwards by the caller
    /// (`rotate_album_keys`), which wraps the new keys only for the links left.
    pub async fn revoke_links_from_before_rotation(&mut self) -> Result<usize, Error> {
        let now = crate::sharing::now_ns();
        let mut revoked = 0;
        for link in self.canister.list_links_certified().await? {
            let live = link.revoked_at.is_none() && link.expires_at.is_none_or(|t| t > now);
            let current = link
                .label
                .as_deref()
                .is_some_and(|record| open_link_record(self.master(), record).is_ok());
            if live && !current {
                self.canister.revoke_link(&link.token_hash).await?;
                revoked += 1;
            }
        }
        Ok(revoked)
    }
}

/// A link, opened as its recipient.
pub struct OpenedLink {
    /// Reads the target with the link's key and access token.
    pub reader: Reader,
    /// The target.
    pub target: Target,
    /// The album's name, for an album link.
    pub album_name: Option<String>,
}

impl OpenedLink {
    /// Opens a link URL (anonymously, as a browser would), with its password if it has one.
    pub async fn open(
        conn: &Connection,
        canister: Principal,
        secret: &LinkSecret,
        password: Option<&str>,
    ) -> Result<OpenedLink, Error> {
        let canister = conn.vault(canister);
        let mut access = LinkAccess {
            token: ByteBuf::from(secret.token().expose_secret().to_vec()),
            password_proof: None,
        };
        let mut pw = None;
        let expired = |e| match e {
            Error::Vault(VaultError::Expired) => Error::LinkExpired,
            other => other,
        };
        let opened = match canister.open_link(access.clone()).await.map_err(expired) {
            Err(Error::Vault(VaultError::PasswordRequired { iterations })) => {
                let password =
                    password.ok_or(Error::Vault(VaultError::PasswordRequired { iterations }))?;
                let derived = {
                    let secret = secret.clone();
                    let password = zeroize::Zeroizing::new(password.to_string());
                    crate::platform::blocking(move || {
                        LinkPassword::derive(&secret, &password, iterations)
                    })
                    .await
                    .map_err(|e| Error::Invalid(format!("link password: {e}")))?
                };
                access.password_proof =
                    Some(ByteBuf::from(derived.proof().expose_secret().to_vec()));
                pw = Some(derived);
                canister.open_link(access.clone()).await.map_err(expired)?
            }
            other => other?,
        };
        let link_key = secret.link_key(pw.as_ref());
        let wrapped = WrappedKey::from_bytes(&opened.wrapped_key)
            .map_err(|_| Error::Integrity("the link's key is damaged".into()))?;
        let mut keys = Keyring::default();
        let mut album_name = None;
        let damaged =
            || Error::Integrity("the link's key does not open: the link is damaged".into());
        match &opened.target {
            Target::Album(id) => {
                let album = id16(id)?;
                let key: AlbumKey = link_key
                    .unwrap_key(
                        &wrapped,
                        &AlbumKeyId {
                            album: AlbumId(album),
                            version: opened.key_version,
                        },
                    )
                    .map_err(|_| damaged())?;
                album_name = opened
                    .album_name
                    .as_deref()
                    .and_then(|sealed| vault_crypto::open_album_name(&key, sealed).ok());
                keys.add_album_key(album, opened.key_version, key);
                for (version, earlier) in &opened.earlier_keys {
                    let earlier = WrappedKey::from_bytes(earlier).map_err(|_| damaged())?;
                    let id = AlbumKeyId {
                        album: AlbumId(album),
                        version: *version,
                    };
                    let key: AlbumKey =
                        link_key.unwrap_key(&earlier, &id).map_err(|_| damaged())?;
                    keys.add_album_key(album, *version, key);
                }
            }
            Target::File(id) => {
                let file = id16(id)?;
                let key: FileKey = link_key
                    .unwrap_key(&wrapped, &FileId(file))
                    .map_err(|_| damaged())?;
                keys.add_file_key(file, key);
            }
        }
        // Counted as an opening; a failure to count does not stop the reading.
        let _ = canister.link_opened(access.clone()).await;
        Ok(OpenedLink {
            reader: Reader::new(canister, keys, Some(access)),
            target: opened.target,
            album_name,
        })
    }

    /// The files the link reaches.
    pub async fn files(&self) -> Result<Vec<FileInfo>, Error> {
        match &self.target {
            Target::Album(id) => self.reader.list_infos(Some(id16(id)?), false).await,
            Target::File(id) => Ok(vec![
                self.reader
                    .canister
                    .get_file(id, self.reader.link.clone())
                    .await?,
            ]),
        }
    }
}

/// Whether a link has lapsed.
pub fn expired(info: &LinkInfo) -> bool {
    info.expires_at.is_some_and(|t| t <= now_ns())
}
