//! The one way a front end works with Vault: a [`Session`] connects once (lazily), reopens a
//! saved unlock, keeps each listed file's key per (vault, file) and what other vaults share
//! with the user, and answers in domain types — [`FileRef`], [`Listing`], [`Page`] of
//! [`FileView`]s, [`PageCursor`]s — never in the canister's arguments.
//!
//! The app wraps one in its screens; the CLI in its subcommands; the web build in the browser.
//! Everything platform-specific (where things are kept, how the replica starts) comes in
//! through [`Store`] and, natively, `replica::session`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use candid::Principal;
use futures_util::future::join_all;
use serde_bytes::ByteBuf;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
use vault_crypto::{FileKey, FileMetadata, KdfParams, ShareCode};
use vault_interface::types::{FileInfo, ListFilesArgs, Permission, VaultError};
use zeroize::Zeroizing;

use crate::canister::NO_SUCH_METHOD;
use crate::export::Reader;
use crate::inbox::{self, Told};
use crate::keyring::{Keyring, id16};
use crate::links::LinkWithUrl;
use crate::passkey::PasskeyRequest;
use crate::platform::{Store, StoreRef};
use crate::records::{
    AlbumEntry, AlbumId, FileEntry, GrantEntry, PendingUploadEntry, SharedEntry, SharedList,
    Unreadable,
};
use crate::settings::Settings;
use crate::sharing::{ShareTarget, SharedWithMe};
use crate::vault::{RecoveryWords, hex_id, parse_principal, remembered_canister, resolve_canister};
use crate::{Connection, Error, Identity, Network, Vault, VaultCanister, unlocked};

/// How long an unlock made through a session lasts on this device.
pub const UNLOCKED_FOR: Duration = unlocked::DEFAULT_SESSION;

/// A page cursor: where the next page of a listing starts (`Display`/`FromStr` as
/// `<sort key>.<file id in hex>`, for front ends that carry it as text).
pub use vault_interface::types::Cursor as PageCursor;

/// A passphrase that meets Vault's policy: the one place the policy lives.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// The fewest characters a new passphrase may have.
    pub const MIN_CHARS: usize = 8;

    /// A new passphrase (to create a vault or replace one): refused if shorter than
    /// [`Self::MIN_CHARS`].
    pub fn new(text: impl Into<String>) -> Result<Passphrase, Error> {
        let text = Zeroizing::new(text.into());
        if text.chars().count() < Self::MIN_CHARS {
            return Err(Error::Invalid(format!(
                "a passphrase needs at least {} characters (a few words are best)",
                Self::MIN_CHARS
            )));
        }
        Ok(Passphrase(text))
    }

    /// A passphrase given to unlock: checked by the vault, not by the policy (it may predate it).
    pub fn given(text: impl Into<String>) -> Passphrase {
        Passphrase(Zeroizing::new(text.into()))
    }

    /// The text, for key derivation.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// A file a front end shows: one of the user's own, or one another vault shares with the user.
/// Kept apart, so that a sharer cannot stand a file of theirs in for one of the user's by
/// giving it the same id. As text: `<hex id>`, or `<vault>/<hex id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileRef {
    /// The sharer's vault; none for the user's own.
    pub vault: Option<Principal>,
    /// The file's id.
    pub id: [u8; 16],
}

impl FileRef {
    /// One of the user's own files.
    pub fn own(id: [u8; 16]) -> FileRef {
        FileRef { vault: None, id }
    }
}

impl fmt::Display for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.vault {
            None => write!(f, "{}", hex::encode(self.id)),
            Some(vault) => write!(f, "{vault}/{}", hex::encode(self.id)),
        }
    }
}

impl FromStr for FileRef {
    type Err = Error;

    fn from_str(text: &str) -> Result<FileRef, Error> {
        Ok(match text.split_once('/') {
            None => FileRef::own(hex_id(text)?),
            Some((vault, id)) => FileRef {
                vault: Some(parse_principal(vault)?),
                id: hex_id(id)?,
            },
        })
    }
}

/// Which of the user's files a listing goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Every file in the vault (not in the trash).
    Timeline,
    /// One album's.
    Album([u8; 16]),
    /// The trash.
    Trash,
}

/// One page of a listing, and where the next starts (none at the end).
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass back for the next page.
    pub next: Option<PageCursor>,
}

/// A listed file: its record and what its sealed metadata says.
#[derive(Clone, Debug)]
pub struct FileView {
    /// Which file.
    pub file: FileRef,
    /// The canister's record of it (sizes, album, times).
    pub info: FileInfo,
    /// Its decrypted metadata.
    pub meta: FileMetadata,
}

impl FileView {
    /// Pixels as shown: width and height swapped for EXIF orientations that turn the image.
    pub fn upright(&self) -> (Option<u32>, Option<u32>) {
        let meta = &self.meta;
        if meta.orientation.is_some_and(|o| (5..=8).contains(&o)) {
            (meta.height, meta.width)
        } else {
            (meta.width, meta.height)
        }
    }

    /// Its record, in domain types.
    pub fn entry(&self) -> Result<FileEntry, Error> {
        FileEntry::new(&self.info, &self.meta)
    }

    /// Whether the canister holds a thumbnail for it.
    pub fn has_thumbnail(&self) -> bool {
        self.info.thumbnail_size > 0
    }

    /// The album it is in.
    pub fn album(&self) -> Option<[u8; 16]> {
        self.info
            .album
            .as_ref()
            .and_then(|a| a.as_slice().try_into().ok())
    }
}

/// Where the vault stands for this identity on this device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultStatus {
    /// No vault yet (or the remembered one is gone): create one, or recover yours.
    NoVault,
    /// A vault, locked on this device.
    Locked,
    /// Unlocked.
    Unlocked,
}

/// An album, with the newest photo of it that has a thumbnail (its cover).
#[derive(Clone, Debug)]
pub struct AlbumView {
    /// The album.
    pub album: AlbumEntry,
    /// Its cover.
    pub cover: Option<FileRef>,
}

/// A link, with the name of what it opens (when the session knows it).
#[derive(Clone, Debug)]
pub struct LinkView {
    /// The link and its URL.
    pub link: LinkWithUrl,
    /// The album's or file's name.
    pub name: Option<String>,
}

/// What a vault holds and costs, and who may act as its owner.
#[derive(Clone, Debug)]
pub struct VaultSummary {
    /// The network's name.
    pub network: String,
    /// This identity.
    pub identity: Principal,
    /// The vault canister.
    pub canister: Principal,
    /// The canister's figures (files, bytes, quota).
    pub info: vault_interface::types::VaultInfo,
    /// The owner's devices.
    pub devices: Vec<crate::records::DeviceEntry>,
}

/// The vault this device knows, read without unlocking it.
#[derive(Clone, Debug)]
pub struct VaultOverview {
    /// The network.
    pub network: Network,
    /// This identity.
    pub identity: Principal,
    /// The vault canister.
    pub canister: Principal,
    /// Whether it is unlocked on this device.
    pub unlocked: bool,
    /// The canister's figures (files, bytes, quota).
    pub info: vault_interface::types::VaultInfo,
}

/// A file as listed: its record, its key, and the canister it lives in.
pub struct OpenFile {
    /// The canister's record.
    pub info: FileInfo,
    /// Media type of the original.
    pub mime: String,
    key: FileKey,
    canister: VaultCanister,
}

impl OpenFile {
    /// A reader holding this file's key only: reads it without the vault's lock.
    pub fn reader(&self) -> Reader {
        let mut keys = Keyring::default();
        if let Ok(id) = <[u8; 16]>::try_from(self.info.id.as_slice()) {
            keys.add_file_key(id, self.key.clone());
        }
        Reader::new(self.canister.clone(), keys, None)
    }

    /// Its decrypted metadata.
    pub fn metadata(&self) -> Result<FileMetadata, Error> {
        open_metadata(&self.info, &self.key)
    }
}

fn open_metadata(info: &FileInfo, key: &FileKey) -> Result<FileMetadata, Error> {
    FileMetadata::open(key, &info.metadata)
        .map_err(|e| Error::Integrity(format!("file {}: its metadata: {e}", hex::encode(&info.id))))
}

/// How a session reaches its replica.
enum Reach {
    /// The URL must answer.
    Url,
    /// Natively: the embedded local replica is started first if none answers.
    #[cfg(not(target_arch = "wasm32"))]
    LocalReplica {
        home: crate::Home,
        launcher: Arc<crate::replica::ReplicaLauncher>,
    },
}

/// A front end's session with Vault (see the module documentation).
pub struct Session {
    store: StoreRef,
    network: Network,
    reach: Reach,
    /// Made on first use; made again after [`Session::sign_in`].
    conn: Mutex<Option<Connection>>,
    vault: Mutex<Option<Vault>>,
    /// The identity the platform made (a browser's device key, or a passkey, delegating to a
    /// session key); else the one the store keeps, created on first use.
    identity: StdMutex<Option<Identity>>,
    /// Files listed so far: what images and downloads need without listing again.
    files: StdMutex<HashMap<FileRef, Arc<OpenFile>>>,
    /// What other vaults share with this user, opened (their keys unsealed) once each.
    shared: StdMutex<HashMap<Principal, Arc<SharedWithMe>>>,
}

impl Session {
    /// A session keeping its things in `store`, reaching `network`'s replica at its URL.
    pub fn new(store: StoreRef, network: Network) -> Session {
        Session::with_reach(store, network, Reach::Url)
    }

    /// A session signing as `identity` rather than the identity `store` keeps: what a browser
    /// does, whose device key is a WebCrypto key no script can read (`vault-web`).
    pub fn with_identity(store: StoreRef, network: Network, identity: Identity) -> Session {
        Session {
            identity: StdMutex::new(Some(identity)),
            ..Session::with_reach(store, network, Reach::Url)
        }
    }

    /// A session whose local replica, natively, is started by `launcher` when none answers
    /// (its state in `home`, which is also the store).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_local_replica(
        home: crate::Home,
        network: Network,
        launcher: Arc<crate::replica::ReplicaLauncher>,
    ) -> Session {
        let store: StoreRef = Arc::new(home.clone());
        Session::with_reach(store, network, Reach::LocalReplica { home, launcher })
    }

    fn with_reach(store: StoreRef, network: Network, reach: Reach) -> Session {
        Session {
            store,
            network,
            reach,
            conn: Mutex::new(None),
            vault: Mutex::new(None),
            identity: StdMutex::new(None),
            files: StdMutex::new(HashMap::new()),
            shared: StdMutex::new(HashMap::new()),
        }
    }

    /// The network this session reaches.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Where this session keeps its things.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The identity this session signs as.
    fn identity(&self) -> Result<Identity, Error> {
        match &*lock(&self.identity) {
            Some(given) => Ok(given.clone()),
            None => Identity::load_or_create(&*self.store).map(|(identity, _)| identity),
        }
    }

    /// The connection, made on first use (the identity is created on first use too).
    pub async fn connection(&self) -> Result<Connection, Error> {
        let mut conn = self.conn.lock().await;
        if let Some(conn) = &*conn {
            return Ok(conn.clone());
        }
        let identity = self.identity()?;
        let made = match &self.reach {
            Reach::Url => Connection::open(self.network.clone(), identity).await,
            #[cfg(not(target_arch = "wasm32"))]
            Reach::LocalReplica { home, launcher } => {
                crate::replica::open(home, self.network.clone(), identity, &**launcher).await
            }
        }?;
        *conn = Some(made.clone());
        Ok(made)
    }

    /// Signs as `identity` from now on (a passkey's, [`Session::passkey_identity`]): the vault
    /// unlocked as the identity before is locked, and what was decrypted forgotten.
    pub async fn sign_in(&self, identity: Identity) {
        let mut vault = self.vault.lock().await;
        if let Some(unlocked) = vault.take() {
            unlocked.lock();
        }
        *lock(&self.identity) = Some(identity);
        *self.conn.lock().await = None;
        self.forget();
    }

    /// An identity signed by one of the vault's passkeys: `sign` asks the platform's
    /// authenticator to sign the [`PasskeyRequest`] (a delegation to a session key, for this
    /// vault only, until `expiration_ns`); the passkey it chose is looked up in the vault.
    /// Answers the identity and what the authenticator answered (its PRF output, if any, unlocks:
    /// [`Session::unlock_with_passkey`]).
    pub async fn passkey_identity<F, S>(
        &self,
        expiration_ns: u64,
        sign: S,
    ) -> Result<(Identity, crate::passkey::Assertion), Error>
    where
        S: FnOnce(PasskeyRequest) -> F,
        F: std::future::Future<Output = Result<crate::passkey::Assertion, Error>>,
    {
        let conn = self.connection().await?;
        let vault = resolve_canister(&*self.store, &conn, None)?;
        let canister = conn.vault(vault);
        let answered = std::sync::Mutex::new(None);
        let identity = Identity::delegated_by(Some(vec![vault]), expiration_ns, |bytes| async {
            let assertion = sign(PasskeyRequest::new(vault, bytes)).await?;
            let key = canister
                .passkey_key(&assertion.credential_id)
                .await?
                .ok_or_else(|| {
                    Error::Invalid(
                        "this passkey is not one of this vault's devices (it was removed, or \
                         belongs to another vault): unlock with your passphrase"
                            .into(),
                    )
                })?;
            let signature = assertion.ic_signature()?;
            *lock(&answered) = Some(assertion);
            Ok((key, signature))
        })
        .await?;
        let assertion = lock(&answered)
            .take()
            .expect("the passkey answered before the identity was made");
        Ok((identity, assertion))
    }

    /// Unlocks, as the passkey this session signed in with, with its PRF output; `false` when
    /// the passkey was added without one (it signs in only).
    pub async fn unlock_with_passkey(&self, prf_output: &[u8; 32]) -> Result<bool, Error> {
        let (conn, id) = self.named_vault(None).await?;
        let mut vault = self.vault.lock().await;
        let Some(unlocked) = Vault::unlock_with_passkey(&self.store, conn, id, prf_output).await?
        else {
            return Ok(false);
        };
        self.forget();
        *vault = Some(unlocked);
        Ok(true)
    }

    /// Makes a passkey on the platform (`make` asks its authenticator) and admits it as one of
    /// the owner's devices. Answers whether it unlocks too.
    pub async fn add_passkey<F, M>(&self, make: M) -> Result<bool, Error>
    where
        M: FnOnce(PasskeyRequest) -> F,
        F: std::future::Future<Output = Result<crate::passkey::Registration, Error>>,
    {
        let (vault_id, exclude) = {
            let vault = self.vault().await?;
            (vault.id(), vault.passkeys().await?)
        };
        let mut challenge = vec![0u8; 32];
        rand::Rng::fill_bytes(&mut crate::rng(), &mut challenge);
        let request = PasskeyRequest {
            exclude,
            ..PasskeyRequest::new(vault_id, challenge)
        };
        let made = make(request).await?;
        self.vault().await?.add_passkey(&made).await
    }

    /// The unlocked vault (taken from a saved unlock if there is one), held until the guard
    /// drops. For what the session has no method for yet.
    pub async fn vault(&self) -> Result<MappedMutexGuard<'_, Vault>, Error> {
        let mut guard = self.vault.lock().await;
        if guard.is_none() {
            let conn = self.connection().await?;
            if let Some(id) = remembered_canister(&*self.store, &conn.network)? {
                *guard = Some(Vault::from_session(&self.store, conn.clone(), id)?);
            }
        }
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| Error::Locked)
    }

    /// The unlocked vault's canister id (what people who share with the user are told).
    pub async fn vault_id(&self) -> Result<Principal, Error> {
        Ok(self.vault().await?.id())
    }

    /// Forgets what was decrypted: the files' keys and what others share.
    fn forget(&self) {
        lock(&self.files).clear();
        lock(&self.shared).clear();
    }

    // ---- unlocking ---------------------------------------------------------------------

    /// Where the vault stands.
    pub async fn status(&self) -> Result<VaultStatus, Error> {
        let conn = self.connection().await?;
        let Some(id) = remembered_canister(&*self.store, &conn.network)? else {
            return Ok(VaultStatus::NoVault);
        };
        let mut vault = self.vault.lock().await;
        if vault.is_some() {
            return Ok(VaultStatus::Unlocked);
        }
        match conn.vault(id).vault_info().await {
            Ok(info) if !info.set_up => return Ok(VaultStatus::NoVault),
            Ok(_) | Err(Error::Vault(VaultError::NotAuthorized)) => {}
            // The remembered canister is gone (the local replica's state was removed).
            Err(Error::Rejected { .. }) => return Ok(VaultStatus::NoVault),
            Err(e) => return Err(e),
        }
        match Vault::from_session(&self.store, conn.clone(), id) {
            Ok(unlocked) => {
                *vault = Some(unlocked);
                Ok(VaultStatus::Unlocked)
            }
            Err(Error::Locked) => Ok(VaultStatus::Locked),
            Err(e) => Err(e),
        }
    }

    /// Creates a vault under `passphrase` with Argon2id at `kdf` (in `existing`, a canister
    /// the user already controls, else a new one), unlocked on this device for
    /// [`UNLOCKED_FOR`]; returns the recovery words (to show once).
    pub async fn create(
        &self,
        existing: Option<Principal>,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<RecoveryWords, Error> {
        let conn = self.connection().await?;
        let mut vault = self.vault.lock().await;
        let (created, words) = Vault::init(
            &self.store,
            conn,
            existing,
            passphrase.expose(),
            kdf,
            UNLOCKED_FOR,
        )
        .await?;
        self.forget();
        *vault = Some(created);
        Ok(words)
    }

    /// The connection, and the vault `named` (its id, typed on a new device) or else the one
    /// this device knows.
    async fn named_vault(
        &self,
        named: Option<Principal>,
    ) -> Result<(Connection, Principal), Error> {
        let conn = self.connection().await?;
        let id = resolve_canister(&*self.store, &conn, named)?;
        Ok((conn, id))
    }

    /// Unlocks the vault `named` (else the one this device knows) with the passphrase, for
    /// this session only, or also on this device for `remember_for`.
    pub async fn unlock(
        &self,
        named: Option<Principal>,
        passphrase: &Passphrase,
        remember_for: Option<Duration>,
    ) -> Result<(), Error> {
        let (conn, id) = self.named_vault(named).await?;
        let mut vault = self.vault.lock().await;
        let unlocked =
            Vault::unlock(&self.store, conn, id, passphrase.expose(), remember_for).await?;
        self.forget();
        *vault = Some(unlocked);
        Ok(())
    }

    /// Unlocks with the recovery words and sets a new passphrase (Argon2id at `kdf`); unlocked
    /// on this device for [`UNLOCKED_FOR`].
    pub async fn recover(
        &self,
        named: Option<Principal>,
        words: &str,
        new_passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<(), Error> {
        let (conn, id) = self.named_vault(named).await?;
        let mut vault = self.vault.lock().await;
        let recovered = Vault::recover(
            &self.store,
            conn,
            id,
            words,
            new_passphrase.expose(),
            kdf,
            UNLOCKED_FOR,
        )
        .await?;
        self.forget();
        *vault = Some(recovered);
        Ok(())
    }

    /// Locks: forgets the unlocked key on this device and everything decrypted. Reaches no
    /// replica (locking works offline). Whether there was an unlock to forget.
    pub async fn lock(&self) -> Result<bool, Error> {
        let mut vault = self.vault.lock().await;
        let forgot = match vault.take() {
            Some(unlocked) => {
                unlocked.lock();
                true
            }
            None => {
                let identity = self.identity()?;
                match remembered_canister(&*self.store, &self.network)? {
                    Some(id) => unlocked::forget(&*self.store, &id, &identity.principal()),
                    None => false,
                }
            }
        };
        self.forget();
        Ok(forgot)
    }

    /// The vault this device knows, its figures and whether it is unlocked here: read without
    /// unlocking (the canister answers its owner's devices).
    pub async fn overview(&self) -> Result<VaultOverview, Error> {
        let conn = self.connection().await?;
        let canister = resolve_canister(&*self.store, &conn, None)?;
        let info = conn.vault(canister).vault_info().await?;
        let unlocked = self.vault.lock().await.is_some()
            || unlocked::load(&*self.store, &canister, &conn.me()).is_some();
        Ok(VaultOverview {
            network: conn.network.clone(),
            identity: conn.me(),
            canister,
            unlocked,
            info,
        })
    }

    // ---- files -------------------------------------------------------------------------

    /// Remembers a file read with `reader` (the user's, or `shared_by`'s).
    fn remember(
        &self,
        shared_by: Option<Principal>,
        reader: &Reader,
        info: FileInfo,
    ) -> Result<(Arc<OpenFile>, FileView), Error> {
        let key = reader.keys.file_key(&info)?;
        let meta = open_metadata(&info, &key)?;
        let file = FileRef {
            vault: shared_by,
            id: id16(&info.id)?,
        };
        let open = Arc::new(OpenFile {
            info: info.clone(),
            mime: meta.mime.clone(),
            key,
            canister: reader.canister.clone(),
        });
        lock(&self.files).insert(file, open.clone());
        Ok((open, FileView { file, info, meta }))
    }

    /// One page of the user's files, newest first: at most `limit` (the canister caps it).
    pub async fn list_page(
        &self,
        listing: Listing,
        after: Option<PageCursor>,
        limit: u32,
    ) -> Result<Page<FileView>, Error> {
        let mut vault = self.vault().await?;
        if after.is_none() {
            // A fresh listing: albums (and their keys) may have changed elsewhere.
            vault.refresh();
        }
        vault.load_albums().await?;
        let (album, trashed) = match listing {
            Listing::Timeline => (None, false),
            Listing::Album(id) => (Some(id), false),
            Listing::Trash => (None, true),
        };
        let page = vault
            .canister
            .list_files(ListFilesArgs {
                album: album.map(|a| ByteBuf::from(a.to_vec())),
                after,
                limit: Some(limit),
                descending: Some(true),
                trashed: Some(trashed),
                link: None,
            })
            .await?;
        let mut items = Vec::with_capacity(page.files.len());
        for info in page.files {
            items.push(self.remember(None, vault.reader(), info)?.1);
        }
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// A file: as listed, else fetched (and remembered).
    pub async fn open_file(&self, file: &FileRef) -> Result<Arc<OpenFile>, Error> {
        if let Some(open) = lock(&self.files).get(file).cloned() {
            return Ok(open);
        }
        match file.vault {
            None => {
                let mut vault = self.vault().await?;
                vault.load_albums().await?;
                let info = vault.canister().get_file(&file.id, None).await?;
                Ok(self.remember(None, vault.reader(), info)?.0)
            }
            Some(owner) => {
                let shared = self.shared_by(owner).await?;
                let info = shared.reader.canister.get_file(&file.id, None).await?;
                Ok(self.remember(Some(owner), &shared.reader, info)?.0)
            }
        }
    }

    /// A file with its metadata.
    pub async fn details(&self, file: &FileRef) -> Result<FileView, Error> {
        let open = self.open_file(file).await?;
        Ok(FileView {
            file: *file,
            meta: open.metadata()?,
            info: open.info.clone(),
        })
    }

    /// Writes a file's original into `dir` (natively), checked against its SHA-256.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn export(
        &self,
        file: &FileRef,
        dir: &std::path::Path,
    ) -> Result<crate::export::Exported, Error> {
        let open = self.open_file(file).await?;
        open.reader().export(&open.info, dir).await
    }

    /// Moves the user's files to the trash.
    pub async fn trash(&self, ids: &[[u8; 16]]) -> Result<(), Error> {
        self.vault().await?.trash(ids).await
    }

    /// Takes the user's files out of the trash.
    pub async fn restore(&self, ids: &[[u8; 16]]) -> Result<(), Error> {
        self.vault().await?.restore(ids).await
    }

    /// Another handle on the unlocked vault, for work that runs alongside browsing (uploads).
    pub async fn fork(&self) -> Result<Vault, Error> {
        Ok(self.vault().await?.fork())
    }

    /// After files were added elsewhere (an upload through a fork): the next listing reads the
    /// albums again.
    pub async fn refresh(&self) {
        if let Some(vault) = self.vault.lock().await.as_mut() {
            vault.refresh();
        }
    }

    /// Uploads in progress (anyone's, in the user's vault).
    pub async fn pending_uploads(&self) -> Result<Vec<PendingUploadEntry>, Error> {
        self.vault().await?.pending_uploads().await
    }

    /// Stops an upload in progress.
    pub async fn abort_upload(&self, id: &[u8; 16]) -> Result<(), Error> {
        self.vault().await?.abort_upload(id).await
    }

    // ---- albums ------------------------------------------------------------------------

    /// Every album, each with its cover (its newest photo with a thumbnail).
    pub async fn albums(&self) -> Result<Vec<AlbumView>, Error> {
        let mut vault = self.vault().await?;
        vault.refresh();
        let entries = vault.albums().await?;
        let canister = vault.canister().clone();
        let firsts = futures_util::future::join_all(entries.iter().map(|album| {
            let canister = canister.clone();
            let id = album.id.0;
            let empty = album.files == 0;
            async move {
                if empty {
                    return Ok(Vec::new());
                }
                canister
                    .list_files(ListFilesArgs {
                        album: Some(ByteBuf::from(id.to_vec())),
                        after: None,
                        limit: Some(12),
                        descending: Some(true),
                        trashed: Some(false),
                        link: None,
                    })
                    .await
                    .map(|page| page.files)
            }
        }))
        .await;
        let mut albums = Vec::with_capacity(entries.len());
        for (album, files) in entries.into_iter().zip(firsts) {
            let cover = match files?.into_iter().find(|f| f.thumbnail_size > 0) {
                Some(info) => Some(self.remember(None, vault.reader(), info)?.1.file),
                None => None,
            };
            albums.push(AlbumView { album, cover });
        }
        Ok(albums)
    }

    /// Creates an album.
    pub async fn create_album(&self, name: &str) -> Result<AlbumEntry, Error> {
        self.vault().await?.create_album(name.trim()).await
    }

    /// Moves the user's files into an album (name or id).
    pub async fn add_to_album(&self, ids: &[[u8; 16]], album: &str) -> Result<(), Error> {
        let moved = self.vault().await?.move_files(ids, Some(album)).await;
        // Their records changed (album, wrapped key): listed again when next needed.
        let mut files = lock(&self.files);
        for id in ids {
            files.remove(&FileRef::own(*id));
        }
        moved.map(drop)
    }

    // ---- sharing -----------------------------------------------------------------------

    /// The user's share code (from the unlocked sharing secret, not the canister's anonymous
    /// answer).
    pub async fn share_code(&self) -> Result<crate::sharing::MyShareCode, Error> {
        crate::sharing::my_share_code(&*self.vault().await?).await
    }

    /// Checks someone's share code; returns its fingerprint words (to read to each other).
    pub async fn check_share_code(&self, code: &str) -> Result<String, Error> {
        let parsed = parse_share_code(code)?;
        if parsed.principal.as_slice() == self.connection().await?.me().as_slice() {
            return Err(Error::Invalid(
                "that is your own share code: ask them for theirs".into(),
            ));
        }
        Ok(parsed.fingerprint())
    }

    /// Shares `target` with the holder of `code`, and tells their vault if the code names it:
    /// the grant, and whether their vault was told.
    pub async fn share(
        &self,
        target: &ShareTarget,
        code: &str,
        permission: Permission,
        expires_at_ns: Option<u64>,
    ) -> Result<(GrantEntry, Told), Error> {
        let code = code.trim();
        parse_share_code(code)?;
        self.vault()
            .await?
            .share(target, code, permission, expires_at_ns)
            .await
    }

    /// Everything the user shares with people.
    pub async fn grants(&self) -> Result<Vec<GrantEntry>, Error> {
        self.vault().await?.grants().await
    }

    /// Stops sharing `target` with `grantee` (a share code or a principal).
    pub async fn revoke_grant(&self, target: &ShareTarget, grantee: &str) -> Result<(), Error> {
        let who = match ShareCode::parse(grantee.trim()) {
            Ok(code) => Principal::try_from_slice(&code.principal)
                .map_err(|e| Error::Invalid(format!("share code: {e}")))?,
            Err(_) => parse_principal(grantee)?,
        };
        self.vault().await?.revoke(target, who).await
    }

    /// Makes a link to `target` (its secret stays in the URL's fragment).
    pub async fn create_link(
        &self,
        target: &ShareTarget,
        expires_at_ns: Option<u64>,
        password: Option<&str>,
        label: &str,
    ) -> Result<LinkView, Error> {
        let password = password.filter(|p| !p.is_empty());
        let mut vault = self.vault().await?;
        let made = vault
            .create_link(target, expires_at_ns, password, label)
            .await?;
        let names = self.names(&mut vault).await?;
        Ok(names.view(made))
    }

    /// Every link the user made.
    pub async fn links(&self) -> Result<Vec<LinkView>, Error> {
        let mut vault = self.vault().await?;
        let links = vault.links().await?;
        let names = self.names(&mut vault).await?;
        Ok(links.into_iter().map(|link| names.view(link)).collect())
    }

    /// Revokes a link (an album link's album gets a new key).
    pub async fn revoke_link(&self, id: &str) -> Result<LinkWithUrl, Error> {
        self.vault().await?.revoke_link(id).await
    }

    /// Names of albums and of the files listed so far, for links.
    async fn names(&self, vault: &mut Vault) -> Result<Names, Error> {
        let albums = vault
            .albums()
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let known: Vec<Arc<OpenFile>> = lock(&self.files)
            .iter()
            .filter(|(file, _)| file.vault.is_none())
            .map(|(_, open)| open.clone())
            .collect();
        let mut files = HashMap::new();
        for open in known {
            if let Ok(meta) = open.metadata()
                && let Ok(id) = id16(&open.info.id)
            {
                files.insert(id, meta.name);
            }
        }
        Ok(Names { albums, files })
    }

    /// What `owner`'s vault shares with this user, its keys unsealed (once; `fresh` reads
    /// the grants again).
    async fn open_shared(&self, owner: Principal, fresh: bool) -> Result<Arc<SharedWithMe>, Error> {
        if !fresh && let Some(shared) = lock(&self.shared).get(&owner) {
            return Ok(shared.clone());
        }
        let (conn, secret) = {
            let vault = self.vault().await?;
            (vault.connection().clone(), vault.sharing_keys().await?.0)
        };
        let shared = Arc::new(SharedWithMe::open(&conn, owner, &secret).await?);
        lock(&self.shared).insert(owner, shared.clone());
        Ok(shared)
    }

    async fn shared_by(&self, owner: Principal) -> Result<Arc<SharedWithMe>, Error> {
        self.open_shared(owner, false).await
    }

    /// Everything shared with the user, read afresh: what the vaults they follow share (kept
    /// in their vault; older ones on this device), then what the vaults named by new notices
    /// share, marked new with who sent the notice (`new_from`).
    ///
    /// Every vault is read at once, each within [`inbox::READ_TIMEOUT`]: one followed that
    /// cannot be read is listed as such (`unreadable`), not a failure of the whole. A notice
    /// shows only once the vault it names lists something for the user, certified (at most
    /// [`inbox::NEW_ITEMS_LISTED`] items, files unnamed); it is dropped (and that vault's
    /// notices ignored from then on) only on the vault's certified word that it shares
    /// nothing: an empty answer, a rejection that ran, keys that do not open. A refusal at
    /// ingress, which one node can make up, or no answer leaves it for the next look. At most
    /// [`inbox::NOTICES_CHECKED`] vaults noticed are checked per look, newest first.
    pub async fn shared_with_me(&self) -> Result<SharedList, Error> {
        let (mine, inbox, conn, secret) = {
            let vault = self.vault().await?;
            (
                vault.canister().clone(),
                vault.canister().inbox().await?,
                vault.connection().clone(),
                vault.sharing_keys().await?.0,
            )
        };
        let mut followed: Vec<Principal> = inbox.followed.iter().map(|f| f.vault).collect();
        for kept in &Settings::load(&*self.store)?.shared {
            let vault = parse_principal(kept)?;
            if !followed.contains(&vault) {
                followed.push(vault);
            }
        }
        let mut list = SharedList::default();
        let reads = followed
            .iter()
            .map(|vault| inbox::within(inbox::READ_TIMEOUT, self.open_shared(*vault, true)));
        for (vault, read) in followed.iter().zip(join_all(reads).await) {
            let entries = match read {
                Some(Ok(shared)) => shared.entries().await,
                Some(Err(e)) => Err(e),
                None => Err(Error::Agent("it did not answer in time".into())),
            };
            match entries {
                Ok(entries) => list.entries.extend(entries),
                Err(e) => list.unreadable.push(Unreadable {
                    vault: *vault,
                    why: e.to_string(),
                }),
            }
        }

        let mut noticed: Vec<(Principal, Principal)> = Vec::new();
        for notice in &inbox.notices {
            if !followed.contains(&notice.vault) && !noticed.iter().any(|n| n.0 == notice.vault) {
                noticed.push((notice.vault, notice.sender));
            }
        }
        noticed.truncate(inbox::NOTICES_CHECKED);
        let checks = noticed.iter().map(|(vault, _)| {
            let canister = conn.vault(*vault);
            inbox::within(inbox::READ_TIMEOUT, async move {
                canister.shared_with_me_as_answered().await
            })
        });
        for ((vault, sender), answer) in noticed.iter().zip(join_all(checks).await) {
            let shares = match answer {
                Some(Ok(items)) if items.is_empty() => Some(false),
                Some(Ok(items)) => match SharedWithMe::with_items(&conn, *vault, &secret, items) {
                    Ok(shared) => {
                        let shared = Arc::new(shared);
                        lock(&self.shared).insert(*vault, shared.clone());
                        match shared.entries_up_to(inbox::NEW_ITEMS_LISTED, false).await {
                            Ok(entries) => {
                                list.entries
                                    .extend(entries.into_iter().map(|entry| SharedEntry {
                                        new_from: Some(*sender),
                                        ..entry
                                    }));
                                Some(true)
                            }
                            Err(_) => Some(false),
                        }
                    }
                    // Certified keys that do not open for the user: no share for them.
                    Err(_) => Some(false),
                },
                Some(Err(Error::Rejected {
                    certified: true, ..
                }))
                | Some(Err(Error::Vault(_))) => Some(false),
                // One node's word (a refusal at ingress), the network, or no answer in time.
                _ => None,
            };
            if shares == Some(false) {
                mine.answer_share(*vault, false).await?;
            }
        }
        let mut seen = std::collections::HashSet::new();
        list.entries
            .retain(|e| seen.insert((e.vault, e.target.kind(), e.target.id())));
        Ok(list)
    }

    /// Follows the vault `vault` (what it shares with the user shows from now on, on every
    /// device of theirs): refused if it is the user's own or shares nothing with the user yet.
    pub async fn add_shared_vault(&self, vault: Principal) -> Result<(), Error> {
        let mine = self.vault().await?.canister().clone();
        if vault == mine.id() {
            return Err(Error::Invalid(
                "that is your own vault id: paste the one the person who shared with you sent"
                    .into(),
            ));
        }
        if self.open_shared(vault, true).await?.items.is_empty() {
            return Err(Error::Invalid(format!(
                "vault {vault} shares nothing with you yet: ask its owner to share with your share code"
            )));
        }
        match mine.answer_share(vault, true).await {
            // A vault of a release before the inbox: kept on this device, as before.
            Err(Error::Rejected { code, .. }) if code == NO_SUCH_METHOD => {
                let mut settings = Settings::load(&*self.store)?;
                let text = vault.to_text();
                if !settings.shared.contains(&text) {
                    settings.shared.push(text);
                    settings.save(&*self.store)?;
                }
                Ok(())
            }
            answer => answer,
        }
    }

    /// Stops following `vault` and drops its notices: what it shares no longer shows (it
    /// still shares it: only its owner can take that back).
    pub async fn dismiss_shared_vault(&self, vault: Principal) -> Result<(), Error> {
        let mine = self.vault().await?.canister().clone();
        let mut settings = Settings::load(&*self.store)?;
        let text = vault.to_text();
        if settings.shared.contains(&text) {
            settings.shared.retain(|kept| *kept != text);
            settings.save(&*self.store)?;
        }
        match mine.answer_share(vault, false).await {
            Err(Error::Rejected { code, .. }) if code == NO_SUCH_METHOD => Ok(()),
            answer => answer,
        }
    }

    /// The files `vault` shares with the user under `target`, newest first.
    pub async fn shared_files(
        &self,
        vault: Principal,
        target: &ShareTarget,
    ) -> Result<Vec<FileView>, Error> {
        let shared = self.shared_by(vault).await?;
        let reader = &shared.reader;
        let infos = match target {
            ShareTarget::Album(id) => reader.list_infos(Some(*id), false).await?,
            ShareTarget::File(id) => vec![reader.canister.get_file(id, None).await?],
        };
        let mut files = Vec::with_capacity(infos.len());
        for info in infos {
            files.push(self.remember(Some(vault), reader, info)?.1);
        }
        files.sort_by_key(|f| std::cmp::Reverse(f.info.sort_key));
        Ok(files)
    }

    // ---- the rest ----------------------------------------------------------------------

    /// The vault's activity log, newest first.
    pub async fn activity(&self, limit: u32) -> Result<crate::activity::ActivityLog, Error> {
        self.vault().await?.log(limit).await
    }

    /// What the vault holds and who may act as its owner.
    pub async fn summary(&self) -> Result<VaultSummary, Error> {
        let vault = self.vault().await?;
        Ok(VaultSummary {
            network: vault.connection().network.name(),
            identity: vault.connection().me(),
            canister: vault.id(),
            info: vault.canister().vault_info().await?,
            devices: vault.devices().await?,
        })
    }
}

/// Names of albums and files, for links.
struct Names {
    albums: HashMap<AlbumId, String>,
    files: HashMap<[u8; 16], String>,
}

impl Names {
    fn view(&self, link: LinkWithUrl) -> LinkView {
        let name = match link.link.target {
            ShareTarget::Album(id) => self.albums.get(&AlbumId(id)).cloned(),
            ShareTarget::File(id) => self.files.get(&id).cloned(),
        };
        LinkView { link, name }
    }
}

/// Someone's share code, checked to name a principal.
fn parse_share_code(code: &str) -> Result<ShareCode, Error> {
    let parsed = ShareCode::parse(code.trim()).map_err(|e| {
        Error::Invalid(format!(
            "that is not a share code ({e}): ask them to copy theirs again"
        ))
    })?;
    Principal::try_from_slice(&parsed.principal).map_err(|e| {
        Error::Invalid(format!(
            "that share code names no one ({e}): ask them to copy theirs again"
        ))
    })?;
    Ok(parsed)
}

fn lock<T>(mutex: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every change under these locks is one insert, remove or clear: a panic elsewhere while
    // one was held leaves the map whole.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_refs_go_there_and_back() {
        let own = FileRef::own([0xab; 16]);
        assert_eq!(own.to_string(), "ab".repeat(16));
        let shared = FileRef {
            vault: Some(Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])),
            id: [1; 16],
        };
        for file in [own, shared] {
            assert_eq!(file.to_string().parse::<FileRef>().unwrap(), file);
        }
        for bad in ["", "ab", "not-a-principal/abab", "aaaaa-aa/zz"] {
            assert!(bad.parse::<FileRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn locking_reaches_no_replica() {
        // Nothing answers at this URL: a lock that connected first would fail here.
        let dir = tempfile::tempdir().unwrap();
        let home = crate::Home::at(dir.path());
        let network = Network::Url("http://127.0.0.1:9".into());
        let mut settings = Settings::load(&home).unwrap();
        settings
            .vaults
            .insert(network.name(), Principal::from_slice(&[7; 10]).to_text());
        settings.save(&home).unwrap();
        let session = Session::new(Arc::new(home), network);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(
            !runtime.block_on(session.lock()).unwrap(),
            "nothing was unlocked"
        );
    }

    #[test]
    fn the_passphrase_policy_lives_in_one_place() {
        assert!(Passphrase::new("short").is_err());
        assert!(Passphrase::new("ääääääää").is_ok(), "characters, not bytes");
        let refused = Passphrase::new("1234567").unwrap_err().to_string();
        assert!(refused.contains("at least 8 characters"), "{refused}");
        assert_eq!(
            format!("{:?}", Passphrase::given("secret words")),
            "Passphrase(…)"
        );
    }
}
