//! The desktop app's vault: [`vault_ui::Backend`] over `vault-client`.
//!
//! The work runs on the app's own tokio runtime (two worker threads); every method spawns it
//! there and hands the UI a future that only waits for the answer on a oneshot channel, so the
//! UI thread (Dioxus's executor) never blocks and never runs vault work.
//!
//! ```text
//! Desktop   the handle the UI holds: the runtime and the shared state (cheap to clone)
//! State     the connection (made once, lazily), the unlocked vault (behind an async mutex),
//!           what is known of each listed file (its record and key, for images and downloads),
//!           the image caches (images.rs) and the clipboard
//! ```
//!
//! Tasks on the runtime hold only `Arc<State>`, never the runtime itself, so the runtime is
//! always dropped on the UI thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex as StdMutex};

use candid::Principal;
use chrono::TimeZone;
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use serde_bytes::ByteBuf;
use tokio::runtime::Runtime;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard, OnceCell};
use vault_client::export::Reader;
use vault_client::keyring::Keyring;
use vault_client::replica::ReplicaLauncher;
use vault_client::sharing::{ShareTarget, SharedWithMe, now_ns};
use vault_client::types::{Cursor, FileInfo, ListFilesArgs, Permission, VaultError};
use vault_client::upload::{UploadOptions, UploadProgress, Uploaded, collect_files};
use vault_client::vault::{hex_id, parse_principal, remembered_canister, resolve_canister};
use vault_client::view::{FileEntry, GrantEntry, bytes, time_ns};
use vault_client::{
    Connection, Error, Home, Identity, Network, Vault, VaultCanister, cost, session,
};
use vault_crypto::{FileKey, FileMetadata, KdfParams, ShareCode};
use vault_ui::backend::{Backend, Call};
use vault_ui::model::{
    Activity, Album, Grant, ImageKind, Link, LinkRequest, Page, PendingUpload, Photo, PhotoDetails,
    Settings, ShareCode as UiShareCode, SharedItem, Status, Target, UiError, UploadEvent,
};

use crate::images::Images;

/// Photos in one page of the timeline (the canister's largest page).
pub(crate) const PAGE: u32 = 200;
/// Entries of the activity log shown.
const ACTIVITY_ENTRIES: u32 = 200;
/// The shortest passphrase accepted (as `vault init` asks).
const MIN_PASSPHRASE_CHARS: usize = 8;

/// The app's vault: a handle on the worker runtime and the shared state.
#[derive(Clone)]
pub struct Desktop {
    runtime: Arc<Worker>,
    pub(crate) state: Arc<State>,
}

/// The runtime, shut down without waiting when the last handle goes (the app is quitting:
/// a half-done upload resumes next time from its journal).
struct Worker(Option<Runtime>);

impl Worker {
    fn runtime(&self) -> &Runtime {
        self.0
            .as_ref()
            .expect("the runtime lives as long as the worker")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What the work shares.
pub(crate) struct State {
    home: Home,
    network: Network,
    conn: OnceCell<Connection>,
    vault: Mutex<Option<Vault>>,
    /// Files listed so far: what images and downloads need without listing again.
    files: StdMutex<HashMap<PhotoRef, Arc<Known>>>,
    /// What other vaults share with this user, opened (their keys unsealed) once each.
    shared: StdMutex<HashMap<Principal, Arc<SharedWithMe>>>,
    /// Uploads running, stopped when the vault is locked.
    uploads: StdMutex<Vec<tokio::task::AbortHandle>>,
    pub(crate) images: Images,
    clipboard: StdMutex<Option<arboard::Clipboard>>,
}

/// A photo the app shows: the user's own (`<hex id>`), or one another vault shares with the
/// user (`<canister>/<hex id>`). Kept apart, so that a sharer cannot stand a file of theirs in
/// for one of the user's by giving it the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PhotoRef {
    /// The sharer's vault; none for the user's own.
    pub(crate) vault: Option<Principal>,
    pub(crate) id: [u8; 16],
}

impl PhotoRef {
    pub(crate) fn own(id: [u8; 16]) -> PhotoRef {
        PhotoRef { vault: None, id }
    }

    /// Reads a [`vault_ui::Photo`]'s id back.
    pub(crate) fn parse(text: &str) -> Result<PhotoRef, Error> {
        Ok(match text.split_once('/') {
            None => PhotoRef::own(hex_id(text)?),
            Some((vault, id)) => PhotoRef {
                vault: Some(parse_principal(vault)?),
                id: hex_id(id)?,
            },
        })
    }
}

impl std::fmt::Display for PhotoRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.vault {
            None => write!(f, "{}", hex::encode(self.id)),
            Some(vault) => write!(f, "{vault}/{}", hex::encode(self.id)),
        }
    }
}

/// A file as listed: its record, its key, and what the image protocol answers with.
pub(crate) struct Known {
    pub(crate) info: FileInfo,
    key: FileKey,
    canister: VaultCanister,
    /// Media type of the original.
    pub(crate) mime: String,
}

impl Known {
    /// A reader holding this file's key only: reads it without the vault's lock.
    pub(crate) fn reader(&self) -> Reader {
        let mut keys = Keyring::default();
        if let Ok(id) = <[u8; 16]>::try_from(self.info.id.as_slice()) {
            keys.add_file_key(id, self.key.clone());
        }
        Reader::new(self.canister.clone(), keys, None)
    }

    fn metadata(&self) -> Result<FileMetadata, Error> {
        open_metadata(&self.info, &self.key)
    }
}

fn open_metadata(info: &FileInfo, key: &FileKey) -> Result<FileMetadata, Error> {
    FileMetadata::open(key, &info.metadata)
        .map_err(|e| Error::Integrity(format!("file {}: its metadata: {e}", hex::encode(&info.id))))
}

/// What the UI shows of an error: vault-client's message, which says what to do, except where
/// that names a `vault` command.
fn message(e: &Error) -> String {
    match e {
        Error::Locked => "the vault is locked: unlock it with your passphrase".into(),
        Error::NoVault { network } => {
            format!("no vault on {network} for this identity yet: create one, or recover yours")
        }
        other => other.to_string(),
    }
}

fn ui_error(e: Error) -> UiError {
    UiError::new(message(&e))
}

impl Desktop {
    /// Starts the worker runtime and begins connecting (the embedded replica is started in the
    /// background if `network` is local and none answers).
    pub fn start(home: Home, network: Network) -> Result<Desktop, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vault-worker")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the vault's worker threads: {e}"))?;
        let state = Arc::new(State {
            home,
            network,
            conn: OnceCell::new(),
            vault: Mutex::new(None),
            files: StdMutex::new(HashMap::new()),
            shared: StdMutex::new(HashMap::new()),
            uploads: StdMutex::new(Vec::new()),
            images: Images::new(),
            clipboard: StdMutex::new(None),
        });
        {
            // Connect early: the first screen asks for the status at once.
            let state = state.clone();
            runtime.spawn(async move {
                let _ = state.conn().await;
            });
        }
        Ok(Desktop {
            runtime: Arc::new(Worker(Some(runtime))),
            state,
        })
    }

    /// Runs `work` on the worker runtime.
    pub(crate) fn spawn<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.runtime().spawn(work)
    }

    /// Runs `work` on the runtime; the answer comes back over a oneshot channel.
    fn call<T, F, Fut>(&self, work: F) -> Call<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<State>) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let work = work(self.state.clone());
        self.spawn(async move {
            let _ = tx.send(work.await.map_err(ui_error));
        });
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(UiError::new("the vault's worker stopped")))
        })
    }

    /// Thumbnails the image protocol has served (the app's test hooks report it).
    pub fn thumbnails_served(&self) -> u64 {
        self.state.images.thumbnails_served()
    }
}

fn launcher() -> Box<ReplicaLauncher> {
    Box::new(|| {
        let mut command =
            Command::new(std::env::current_exe().unwrap_or_else(|_| PathBuf::from("vault-app")));
        command.arg("replica");
        command
    })
}

impl State {
    /// The connection, made on first use.
    async fn conn(&self) -> Result<&Connection, Error> {
        self.conn
            .get_or_try_init(|| async {
                let home = self.home.clone();
                let (identity, _) =
                    tokio::task::spawn_blocking(move || Identity::load_or_create(&home))
                        .await
                        .expect("loading the identity does not panic")?;
                vault_client::replica::open(
                    &self.home,
                    self.network.clone(),
                    identity,
                    &*launcher(),
                )
                .await
            })
            .await
    }

    /// The unlocked vault (taken from a remembered session if there is one), held until the
    /// guard drops.
    async fn vault(&self) -> Result<MappedMutexGuard<'_, Vault>, Error> {
        let mut guard = self.vault.lock().await;
        if guard.is_none() {
            let conn = self.conn().await?;
            if let Some(id) = remembered_canister(&self.home, conn)? {
                *guard = Some(Vault::from_session(&self.home, conn.clone(), id)?);
            }
        }
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| Error::Locked)
    }

    /// Remembers a listed file of the user's (and its key) for images and downloads.
    fn know(&self, vault: &mut Vault, info: FileInfo) -> Result<(Arc<Known>, FileMetadata), Error> {
        self.remember(None, vault.reader(), info)
    }

    /// Remembers a file read with `reader` (the user's, or `shared_by`'s).
    fn remember(
        &self,
        shared_by: Option<Principal>,
        reader: &Reader,
        info: FileInfo,
    ) -> Result<(Arc<Known>, FileMetadata), Error> {
        let key = reader.keys.file_key(&info)?;
        let meta = open_metadata(&info, &key)?;
        let id = PhotoRef {
            vault: shared_by,
            id: vault_client::keyring::id16(&info.id)?,
        };
        let known = Arc::new(Known {
            info,
            key,
            canister: reader.canister.clone(),
            mime: meta.mime.clone(),
        });
        self.files
            .lock()
            .expect("not poisoned")
            .insert(id, known.clone());
        Ok((known, meta))
    }

    /// A file: as listed, else fetched.
    pub(crate) async fn file(&self, photo: &PhotoRef) -> Result<Arc<Known>, Error> {
        if let Some(known) = self.files.lock().expect("not poisoned").get(photo).cloned() {
            return Ok(known);
        }
        match photo.vault {
            None => {
                let mut vault = self.vault().await?;
                vault.load_albums().await?;
                let info = vault.canister.get_file(&photo.id, None).await?;
                Ok(self.know(&mut vault, info)?.0)
            }
            Some(owner) => {
                let shared = self.shared_by(owner).await?;
                let info = shared.reader.canister.get_file(&photo.id, None).await?;
                Ok(self.remember(Some(owner), &shared.reader, info)?.0)
            }
        }
    }

    /// What `owner`'s vault shares with this user, its keys unsealed (once; `fresh` reads the
    /// grants again).
    async fn open_shared(&self, owner: Principal, fresh: bool) -> Result<Arc<SharedWithMe>, Error> {
        if !fresh && let Some(shared) = self.shared.lock().expect("not poisoned").get(&owner) {
            return Ok(shared.clone());
        }
        let (conn, secret) = {
            let vault = self.vault().await?;
            (vault.conn.clone(), vault.sharing_keys().await?.0)
        };
        let shared = Arc::new(SharedWithMe::open(&conn, owner, &secret).await?);
        self.shared
            .lock()
            .expect("not poisoned")
            .insert(owner, shared.clone());
        Ok(shared)
    }

    async fn shared_by(&self, owner: Principal) -> Result<Arc<SharedWithMe>, Error> {
        self.open_shared(owner, false).await
    }

    /// Forgets what was decrypted: the files' keys and the images.
    fn forget(&self) {
        self.files.lock().expect("not poisoned").clear();
        self.shared.lock().expect("not poisoned").clear();
        self.images.clear();
        for upload in self.uploads.lock().expect("not poisoned").drain(..) {
            upload.abort();
        }
    }

    // ---- unlocking ---------------------------------------------------------------------

    async fn status(&self) -> Result<Status, Error> {
        let conn = self.conn().await?;
        let Some(id) = remembered_canister(&self.home, conn)? else {
            return Ok(Status::NoVault);
        };
        let mut vault = self.vault.lock().await;
        if vault.is_some() {
            return Ok(Status::Unlocked);
        }
        match conn.vault(id).vault_info().await {
            Ok(info) if !info.set_up => return Ok(Status::NoVault),
            Ok(_) | Err(Error::Vault(VaultError::NotAuthorized)) => {}
            // The remembered canister is gone (the local replica's state was removed).
            Err(Error::Rejected { .. }) => return Ok(Status::NoVault),
            Err(e) => return Err(e),
        }
        match Vault::from_session(&self.home, conn.clone(), id) {
            Ok(unlocked) => {
                *vault = Some(unlocked);
                Ok(Status::Unlocked)
            }
            Err(Error::Locked) => Ok(Status::Locked),
            Err(e) => Err(e),
        }
    }

    async fn create(&self, passphrase: String) -> Result<String, Error> {
        check_passphrase(&passphrase)?;
        let conn = self.conn().await?.clone();
        let mut vault = self.vault.lock().await;
        let (created, words) = Vault::init(
            &self.home,
            conn,
            None,
            &passphrase,
            KdfParams::DEFAULT,
            session::DEFAULT_SESSION,
        )
        .await?;
        self.forget();
        *vault = Some(created);
        Ok(words.0.to_string())
    }

    /// The connection, and the vault `named` (its id, typed on a new device) or else the one
    /// this device knows.
    async fn named_vault(&self, named: Option<&str>) -> Result<(Connection, Principal), Error> {
        let conn = self.conn().await?.clone();
        let named = named.map(parse_principal).transpose()?;
        let id = resolve_canister(&self.home, &conn, named)?;
        Ok((conn, id))
    }

    async fn unlock(&self, named: Option<String>, passphrase: String) -> Result<(), Error> {
        let (conn, id) = self.named_vault(named.as_deref()).await?;
        let mut vault = self.vault.lock().await;
        let unlocked = Vault::unlock(
            &self.home,
            conn,
            id,
            &passphrase,
            Some(session::DEFAULT_SESSION),
        )
        .await?;
        self.forget();
        *vault = Some(unlocked);
        Ok(())
    }

    async fn recover(
        &self,
        named: Option<String>,
        words: String,
        new_passphrase: String,
    ) -> Result<(), Error> {
        check_passphrase(&new_passphrase)?;
        let (conn, id) = self.named_vault(named.as_deref()).await?;
        let mut vault = self.vault.lock().await;
        let recovered = Vault::recover(
            &self.home,
            conn,
            id,
            &words,
            &new_passphrase,
            KdfParams::DEFAULT,
            session::DEFAULT_SESSION,
        )
        .await?;
        self.forget();
        *vault = Some(recovered);
        Ok(())
    }

    async fn lock(&self) -> Result<(), Error> {
        let mut vault = self.vault.lock().await;
        match vault.take() {
            Some(unlocked) => {
                unlocked.lock();
            }
            None => {
                let conn = self.conn().await?;
                if let Some(id) = remembered_canister(&self.home, conn)? {
                    session::forget(&self.home, &id, &conn.me());
                }
            }
        }
        self.forget();
        Ok(())
    }

    // ---- photos ------------------------------------------------------------------------

    async fn photos(
        &self,
        album: Option<String>,
        trash: bool,
        after: Option<String>,
    ) -> Result<Page<Photo>, Error> {
        let after = after
            .as_deref()
            .map(|text| {
                text.parse().map_err(|_| {
                    Error::Invalid(format!("`{text}` is not a page of this app's listing"))
                })
            })
            .transpose()?;
        let album = album.as_deref().map(hex_id).transpose()?;
        let mut vault = self.vault().await?;
        if after.is_none() {
            // A fresh listing: albums (and their keys) may have changed elsewhere.
            vault.refresh();
        }
        vault.load_albums().await?;
        let page = vault
            .canister
            .list_files(ListFilesArgs {
                album: album.map(|a| ByteBuf::from(a.to_vec())),
                after,
                limit: Some(PAGE),
                descending: Some(true),
                trashed: Some(trash),
                link: None,
            })
            .await?;
        let mut items = Vec::with_capacity(page.files.len());
        for info in page.files {
            let (known, meta) = self.know(&mut vault, info)?;
            items.push(photo(&known.info, &meta));
        }
        Ok(Page {
            items,
            next: page.next.as_ref().map(Cursor::to_string),
        })
    }

    async fn details(&self, id: String) -> Result<PhotoDetails, Error> {
        let known = self.file(&PhotoRef::parse(&id)?).await?;
        let meta = known.metadata()?;
        Ok(PhotoDetails {
            rows: detail_rows(&known.info, &meta),
        })
    }

    async fn download(&self, id: String) -> Result<PathBuf, Error> {
        let known = self.file(&PhotoRef::parse(&id)?).await?;
        let dir = downloads_dir()?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        Ok(known.reader().export(&known.info, &dir).await?.path)
    }

    async fn trash(&self, ids: Vec<String>, restore: bool) -> Result<(), Error> {
        let ids = ids
            .iter()
            .map(|id| hex_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let vault = self.vault().await?;
        if restore {
            vault.restore(&ids).await
        } else {
            vault.trash(&ids).await
        }
    }

    // ---- upload ------------------------------------------------------------------------

    async fn upload(
        &self,
        paths: Vec<PathBuf>,
        album: Option<String>,
        events: &UnboundedSender<UploadEvent>,
    ) -> Result<(), Error> {
        // A vault of its own, so browsing goes on while it uploads.
        let mut uploader = self.vault().await?.fork();
        let files = {
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || collect_files(&paths))
                .await
                .expect("walking folders does not panic")?
        };
        let sizes = files.iter().cloned().collect();
        let _ = events.unbounded_send(UploadEvent::Begin { files });
        let progress = Progress {
            events: events.clone(),
            sizes,
            reported: StdMutex::new(HashMap::new()),
        };
        let options = UploadOptions { album };
        let result = uploader.upload(&paths, &options, &progress).await;
        // Album counts changed: the next listing reads them again.
        if let Some(vault) = self.vault.lock().await.as_mut() {
            vault.refresh();
        }
        result.map(drop)
    }

    // ---- albums ------------------------------------------------------------------------

    async fn albums(&self) -> Result<Vec<Album>, Error> {
        let mut vault = self.vault().await?;
        vault.refresh();
        let entries = vault.albums().await?;
        let canister = vault.canister.clone();
        // Each album's newest photo with a thumbnail, for its cover.
        let firsts = futures_util::future::join_all(entries.iter().map(|album| {
            let canister = canister.clone();
            let id = album.id.clone();
            let empty = album.files == 0;
            async move {
                if empty {
                    return Ok(Vec::new());
                }
                let id = hex_id(&id)?;
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
        for (entry, files) in entries.into_iter().zip(firsts) {
            let cover = match files?.into_iter().find(|f| f.thumbnail_size > 0) {
                Some(info) => Some(hex::encode(&self.know(&mut vault, info)?.0.info.id)),
                None => None,
            };
            albums.push(Album {
                id: entry.id,
                name: entry.name,
                files: entry.files,
                cover,
            });
        }
        Ok(albums)
    }

    async fn create_album(&self, name: String) -> Result<Album, Error> {
        let entry = self.vault().await?.create_album(name.trim()).await?;
        Ok(Album {
            id: entry.id,
            name: entry.name,
            files: entry.files,
            cover: None,
        })
    }

    async fn add_to_album(&self, ids: Vec<String>, album: String) -> Result<(), Error> {
        let ids = ids
            .iter()
            .map(|id| hex_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let moved = self.vault().await?.move_files(&ids, Some(&album)).await;
        // Their records changed (album, wrapped key): listed again when next needed.
        let mut files = self.files.lock().expect("not poisoned");
        for id in &ids {
            files.remove(&PhotoRef::own(*id));
        }
        moved.map(drop)
    }

    // ---- sharing -----------------------------------------------------------------------

    async fn share_code(&self) -> Result<UiShareCode, Error> {
        // From the unlocked sharing secret, not from the canister's anonymous answer.
        let vault = self.vault().await?;
        let code = vault_client::sharing::my_share_code(&vault).await?;
        Ok(UiShareCode {
            code: code.share_code,
            fingerprint: code.fingerprint,
            vault: vault.canister.id().to_text(),
        })
    }

    async fn check_share_code(&self, code: String) -> Result<String, Error> {
        let parsed = parse_share_code(&code)?;
        let me = self.conn().await?.me();
        if parsed.principal.as_slice() == me.as_slice() {
            return Err(Error::Invalid(
                "that is your own share code: ask them for theirs".into(),
            ));
        }
        Ok(parsed.fingerprint())
    }

    async fn share(
        &self,
        target: Target,
        code: String,
        expires_days: Option<u32>,
    ) -> Result<Grant, Error> {
        let target = share_target(&target)?;
        let code = code.trim().to_string();
        parse_share_code(&code)?;
        let grant = self
            .vault()
            .await?
            .share(&target, &code, Permission::View, expires_in(expires_days))
            .await?;
        Ok(grant_record(grant))
    }

    async fn grants(&self) -> Result<Vec<Grant>, Error> {
        Ok(self
            .vault()
            .await?
            .grants()
            .await?
            .into_iter()
            .map(grant_record)
            .collect())
    }

    async fn revoke_grant(&self, target: Target, grantee: String) -> Result<(), Error> {
        let target = share_target(&target)?;
        let who = match ShareCode::parse(grantee.trim()) {
            Ok(code) => Principal::try_from_slice(&code.principal)
                .map_err(|e| Error::Invalid(format!("share code: {e}")))?,
            Err(_) => parse_principal(&grantee)?,
        };
        self.vault().await?.revoke(&target, who).await
    }

    async fn create_link(&self, target: Target, request: LinkRequest) -> Result<Link, Error> {
        let share = share_target(&target)?;
        let password = request
            .password
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        let mut vault = self.vault().await?;
        let made = vault
            .create_link(
                &share,
                expires_in(request.expires_days),
                password.as_deref(),
                "",
            )
            .await?;
        let names = Names::of(self, &mut vault).await?;
        Ok(link_record(made, &names))
    }

    async fn links(&self) -> Result<Vec<Link>, Error> {
        let mut vault = self.vault().await?;
        let links = vault.links().await?;
        let names = Names::of(self, &mut vault).await?;
        let mut out = Vec::with_capacity(links.len());
        for link in links {
            out.push(link_record(link, &names));
        }
        Ok(out)
    }

    async fn revoke_link(&self, id: String) -> Result<(), Error> {
        self.vault().await?.revoke_link(&id).await.map(drop)
    }

    async fn shared_with_me(&self) -> Result<Vec<SharedItem>, Error> {
        let from = vault_client::Settings::load(&self.home)?.shared;
        if from.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for canister in &from {
            let shared = self.open_shared(parse_principal(canister)?, true).await?;
            for entry in shared.entries().await? {
                out.push(SharedItem {
                    vault: entry.vault,
                    target: match entry.kind.as_str() {
                        "album" => Target::Album(entry.id),
                        _ => Target::Photo(entry.id),
                    },
                    name: entry.name,
                    permission: entry.permission,
                    expires: entry.expires_at.as_deref().map(local_time),
                });
            }
        }
        Ok(out)
    }

    async fn add_shared_vault(&self, vault: String) -> Result<(), Error> {
        let vault = vault.trim().to_string();
        let id = parse_principal(&vault)?;
        if id == self.vault().await?.canister.id() {
            return Err(Error::Invalid(
                "that is your own vault id: paste the one the person who shared with you sent"
                    .into(),
            ));
        }
        if self.open_shared(id, true).await?.items.is_empty() {
            return Err(Error::Invalid(format!(
                "vault {vault} shares nothing with you yet: ask its owner to share with your share code (under Sharing)"
            )));
        }
        let mut settings = vault_client::Settings::load(&self.home)?;
        if !settings.shared.contains(&vault) {
            settings.shared.push(vault);
            settings.save(&self.home)?;
        }
        Ok(())
    }

    async fn shared_photos(&self, vault: String, target: Target) -> Result<Vec<Photo>, Error> {
        let owner = parse_principal(&vault)?;
        let shared = self.shared_by(owner).await?;
        let reader = &shared.reader;
        let infos = match &target {
            Target::Album(id) => reader.list_infos(Some(hex_id(id)?), false).await?,
            Target::Photo(id) => vec![reader.canister.get_file(&hex_id(id)?, None).await?],
        };
        let mut photos = Vec::with_capacity(infos.len());
        for info in infos {
            let (known, meta) = self.remember(Some(owner), reader, info)?;
            let mut shown = photo(&known.info, &meta);
            shown.id = PhotoRef {
                vault: Some(owner),
                id: vault_client::keyring::id16(&known.info.id)?,
            }
            .to_string();
            photos.push(shown);
        }
        // Newest first, as the timeline groups them.
        photos.sort_by_key(|p| std::cmp::Reverse(p.taken_ms));
        Ok(photos)
    }

    // ---- the rest ----------------------------------------------------------------------

    async fn activity(&self) -> Result<Vec<Activity>, Error> {
        let vault = self.vault().await?;
        let me = vault.conn.me().to_text();
        Ok(vault
            .log(ACTIVITY_ENTRIES)
            .await?
            .into_iter()
            .map(|e| Activity {
                time: local_time(&e.time),
                who: if e.caller == me {
                    "you (this device)".into()
                } else if e.caller == Principal::management_canister().to_text() {
                    "the vault".into()
                } else {
                    e.caller
                },
                what: e.what,
            })
            .collect())
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>, Error> {
        let mut vault = self.vault().await?;
        Ok(vault
            .pending_uploads()
            .await?
            .into_iter()
            .map(|u| PendingUpload {
                who: if u.mine { "you".into() } else { u.uploader },
                album: u.album_name.or(u.album),
                sent_chunks: u.chunks_received,
                chunks: u.chunk_count,
                reserved_bytes: u.reserved_bytes,
                expires: local_time(&u.expires_at),
                id: u.id,
            })
            .collect())
    }

    async fn abort_upload(&self, id: String) -> Result<(), Error> {
        self.vault().await?.abort_upload(&hex_id(&id)?).await
    }

    async fn settings(&self) -> Result<Settings, Error> {
        let vault = self.vault().await?;
        let info = vault.canister.vault_info().await?;
        let devices = vault.devices().await?;
        let costs = cost::costs(info.used_bytes);
        Ok(Settings {
            network: vault.conn.network.name(),
            identity: vault.conn.me().to_text(),
            canister: vault.canister.id().to_text(),
            files: info.files,
            stored_bytes: info.used_bytes,
            quota_bytes: (info.quota_bytes != 0 && info.quota_bytes != u64::MAX)
                .then_some(info.quota_bytes),
            cost: format!(
                "${:.4} a month on the Internet Computer for what is stored now (${:.3} per GiB a month; uploading costs ${:.3} per GiB)",
                costs.storage_usd_per_month, costs.usd_per_gib_month, costs.upload_usd_per_gib
            ),
            devices: devices
                .into_iter()
                .map(|d| {
                    format!(
                        "{} (added {}){}",
                        d.principal,
                        local_time(&d.added_at),
                        if d.this_device { ", this device" } else { "" }
                    )
                })
                .collect(),
        })
    }

    fn copy(&self, text: String) -> Result<(), Error> {
        let mut clipboard = self.clipboard.lock().expect("not poisoned");
        if clipboard.is_none() {
            *clipboard = Some(arboard::Clipboard::new().map_err(clipboard_error)?);
        }
        clipboard
            .as_mut()
            .expect("just made")
            .set_text(text)
            .map_err(clipboard_error)
    }
}

fn clipboard_error(e: arboard::Error) -> Error {
    Error::Invalid(format!("cannot use the clipboard: {e}"))
}

fn check_passphrase(passphrase: &str) -> Result<(), Error> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::Invalid(format!(
            "a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters (a few words are best)"
        )));
    }
    Ok(())
}

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

fn share_target(target: &Target) -> Result<ShareTarget, Error> {
    Ok(match target {
        Target::Album(id) => ShareTarget::Album(hex_id(id)?),
        Target::Photo(id) => ShareTarget::File(hex_id(id)?),
    })
}

fn ui_target(kind: &str, id: String) -> Target {
    match kind {
        "album" => Target::Album(id),
        _ => Target::Photo(id),
    }
}

/// Nanoseconds since the epoch `days` from now.
fn expires_in(days: Option<u32>) -> Option<u64> {
    days.map(|d| now_ns().saturating_add(u64::from(d) * 86_400 * 1_000_000_000))
}

fn grant_record(grant: GrantEntry) -> Grant {
    Grant {
        target: ui_target(&grant.kind, grant.target),
        name: grant.name,
        grantee: grant.grantee,
        permission: grant.permission,
        expires: grant.expires_at.as_deref().map(local_time),
        expired: grant.expired,
    }
}

/// Names of albums and files, for links.
struct Names {
    albums: HashMap<String, String>,
    files: HashMap<String, String>,
}

impl Names {
    async fn of(state: &State, vault: &mut Vault) -> Result<Names, Error> {
        let albums = vault
            .albums()
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let mut files = HashMap::new();
        let known: Vec<Arc<Known>> = state
            .files
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|(photo, _)| photo.vault.is_none())
            .map(|(_, known)| known.clone())
            .collect();
        for k in known {
            if let Ok(meta) = k.metadata() {
                files.insert(hex::encode(&k.info.id), meta.name);
            }
        }
        Ok(Names { albums, files })
    }

    fn of_target(&self, kind: &str, id: &str) -> Option<String> {
        match kind {
            "album" => self.albums.get(id).cloned(),
            _ => self.files.get(id).cloned(),
        }
    }
}

fn link_record(link: vault_client::links::LinkWithUrl, names: &Names) -> Link {
    let entry = link.link;
    Link {
        name: names.of_target(&entry.kind, &entry.target),
        expired: entry.expires_at.as_deref().is_some_and(passed),
        expires: entry.expires_at.as_deref().map(local_time),
        target: ui_target(&entry.kind, entry.target),
        id: entry.id,
        url: link.url,
        revoked: entry.revoked_at.is_some(),
        password: entry.password,
        opened: entry.opened,
    }
}

/// Whether an RFC 3339 time has passed.
fn passed(rfc3339: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(rfc3339).is_ok_and(|t| t <= chrono::Utc::now())
}

/// An RFC 3339 time as people read it here: local, to the minute.
fn local_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// The local wall clock at `utc_ms`, as milliseconds since the epoch (the timeline's days).
fn local_wall_ms(utc_ms: i64) -> i64 {
    match chrono::Local.timestamp_millis_opt(utc_ms).single() {
        Some(t) => t.naive_local().and_utc().timestamp_millis(),
        None => utc_ms,
    }
}

/// When a photo was taken on the camera's wall clock; for a file that does not say, when it
/// was last modified (or uploaded), on this computer's: what the timeline is sorted by.
fn taken_ms(info: &FileInfo, meta: &FileMetadata) -> i64 {
    match meta.taken_at {
        Some(ms) => ms.saturating_add(i64::from(meta.taken_offset_min.unwrap_or(0)) * 60_000),
        None => local_wall_ms(meta.modified_at.unwrap_or(info.sort_key)),
    }
}

/// Pixels as shown: width and height swapped for EXIF orientations that turn the image.
fn upright(meta: &FileMetadata) -> (Option<u32>, Option<u32>) {
    if meta.orientation.is_some_and(|o| (5..=8).contains(&o)) {
        (meta.height, meta.width)
    } else {
        (meta.width, meta.height)
    }
}

fn photo(info: &FileInfo, meta: &FileMetadata) -> Photo {
    let (width, height) = upright(meta);
    Photo {
        id: hex::encode(&info.id),
        name: meta.name.clone(),
        mime: meta.mime.clone(),
        size: meta.size,
        taken_ms: taken_ms(info, meta),
        width,
        height,
        has_thumbnail: info.thumbnail_size > 0,
        album: info.album.as_ref().map(hex::encode),
    }
}

/// The viewer's information rows: what the file's metadata says.
fn detail_rows(info: &FileInfo, meta: &FileMetadata) -> Vec<(String, String)> {
    let entry = FileEntry::new(info, meta);
    let mut rows: Vec<(&str, String)> = vec![("Name", entry.name.clone())];
    if let Some(ms) = meta.taken_at {
        let wall = ms.saturating_add(i64::from(meta.taken_offset_min.unwrap_or(0)) * 60_000);
        let text = match chrono::DateTime::from_timestamp_millis(wall) {
            Some(t) => t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string(),
            None => entry.taken_at.clone().unwrap_or_default(),
        };
        rows.push((
            "Taken",
            match meta.taken_offset_min {
                Some(min) => format!(
                    "{text} (UTC{}{:02}:{:02})",
                    if min < 0 { '-' } else { '+' },
                    min.unsigned_abs() / 60,
                    min.unsigned_abs() % 60
                ),
                None => text,
            },
        ));
    }
    if let Some(camera) = &entry.camera {
        rows.push(("Camera", camera.clone()));
    }
    if let (Some(w), Some(h)) = upright(meta) {
        rows.push(("Size", format!("{w} × {h} px")));
    }
    if let Some(ms) = meta.duration_ms {
        let s = ms / 1000;
        rows.push((
            "Duration",
            if s >= 3600 {
                format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
            } else {
                format!("{}:{:02}", s / 60, s % 60)
            },
        ));
    }
    rows.push(("File size", bytes(meta.size)));
    rows.push(("Type", entry.mime.clone()));
    if let Some(gps) = &meta.gps {
        let mut text = format!("{:.5}, {:.5}", gps.latitude, gps.longitude);
        if let Some(alt) = gps.altitude {
            text.push_str(&format!(" ({alt:.0} m)"));
        }
        rows.push(("Location", text));
    }
    if let Some(ms) = meta.modified_at {
        rows.push(("Modified", local_ms(ms)));
    }
    rows.push(("Uploaded", local_time(&time_ns(info.created_at))));
    if let Some(trashed) = info.trashed_at {
        rows.push(("In the trash since", local_time(&time_ns(trashed))));
    }
    rows.push(("SHA-256", entry.sha256.clone()));
    rows.into_iter()
        .map(|(label, value)| (label.to_string(), value))
        .collect()
}

fn local_ms(ms: i64) -> String {
    match chrono::Local.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => ms.to_string(),
    }
}

/// Where downloads go: `$VAULT_DOWNLOADS`, `$XDG_DOWNLOAD_DIR`, or `~/Downloads`.
fn downloads_dir() -> Result<PathBuf, Error> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("VAULT_DOWNLOADS")
        .or_else(|| var("XDG_DOWNLOAD_DIR"))
        .or_else(|| var("HOME").map(|home| home.join("Downloads")))
        .ok_or_else(|| {
            Error::Invalid("no HOME: set VAULT_DOWNLOADS to where downloads should go".into())
        })
}

/// Hands the upload's progress to the UI. The pipeline reports each file's bytes twice
/// (hashed, then sent): the UI hears half, so a file's advances add up to its size.
struct Progress {
    events: UnboundedSender<UploadEvent>,
    sizes: HashMap<PathBuf, u64>,
    /// Per file: bytes the pipeline reported, bytes the UI was told.
    reported: StdMutex<HashMap<PathBuf, (u64, u64)>>,
}

impl UploadProgress for Progress {
    fn advance(&self, path: &Path, bytes: u64) {
        let size = self.sizes.get(path).copied().unwrap_or(u64::MAX);
        let delta = {
            let mut reported = self.reported.lock().expect("not poisoned");
            let (raw, told) = reported.entry(path.to_path_buf()).or_default();
            *raw = raw.saturating_add(bytes);
            let now = (*raw / 2).min(size);
            let delta = now.saturating_sub(*told);
            *told = now.max(*told);
            delta
        };
        if delta > 0 {
            let _ = self.events.unbounded_send(UploadEvent::Advance {
                path: path.to_path_buf(),
                bytes: delta,
            });
        }
    }

    fn file_done(&self, path: &Path, result: &Result<Uploaded, Error>) {
        let _ = self.events.unbounded_send(UploadEvent::Done {
            path: path.to_path_buf(),
            result: match result {
                Ok(uploaded) => Ok(uploaded.outcome.to_string()),
                Err(e) => Err(message(e)),
            },
        });
    }
}

impl Backend for Desktop {
    fn status(&self) -> Call<Status> {
        self.call(|s| async move { s.status().await })
    }

    fn create(&self, passphrase: String) -> Call<String> {
        self.call(|s| async move { s.create(passphrase).await })
    }

    fn unlock(&self, vault: Option<String>, passphrase: String) -> Call<()> {
        self.call(|s| async move { s.unlock(vault, passphrase).await })
    }

    fn recover(
        &self,
        vault: Option<String>,
        recovery_key: String,
        new_passphrase: String,
    ) -> Call<()> {
        self.call(|s| async move { s.recover(vault, recovery_key, new_passphrase).await })
    }

    fn lock(&self) -> Call<()> {
        self.call(|s| async move { s.lock().await })
    }

    fn photos(
        &self,
        album: Option<String>,
        trash: bool,
        after: Option<String>,
    ) -> Call<Page<Photo>> {
        self.call(|s| async move { s.photos(album, trash, after).await })
    }

    fn details(&self, id: String) -> Call<PhotoDetails> {
        self.call(|s| async move { s.details(id).await })
    }

    fn download(&self, id: String) -> Call<PathBuf> {
        self.call(|s| async move { s.download(id).await })
    }

    fn trash(&self, ids: Vec<String>) -> Call<()> {
        self.call(|s| async move { s.trash(ids, false).await })
    }

    fn restore(&self, ids: Vec<String>) -> Call<()> {
        self.call(|s| async move { s.trash(ids, true).await })
    }

    fn image_url(&self, kind: ImageKind, id: &str) -> String {
        crate::images::url(kind, id)
    }

    fn has_picker(&self) -> bool {
        cfg!(target_os = "linux")
    }

    #[cfg(target_os = "linux")]
    fn pick(&self, folders: bool) -> Call<Vec<PathBuf>> {
        crate::picker::pick(folders)
    }

    fn upload(&self, paths: Vec<PathBuf>, album: Option<String>) -> UnboundedReceiver<UploadEvent> {
        let (events, receiver) = futures_channel::mpsc::unbounded();
        let state = self.state.clone();
        let task = self.spawn(async move {
            match state.upload(paths, album, &events).await {
                Ok(()) => {
                    let _ = events.unbounded_send(UploadEvent::Finished);
                }
                Err(e) => {
                    let _ = events.unbounded_send(UploadEvent::Failed(ui_error(e).message));
                }
            }
        });
        let mut uploads = self.state.uploads.lock().expect("not poisoned");
        uploads.retain(|u| !u.is_finished());
        uploads.push(task.abort_handle());
        receiver
    }

    fn albums(&self) -> Call<Vec<Album>> {
        self.call(|s| async move { s.albums().await })
    }

    fn create_album(&self, name: String) -> Call<Album> {
        self.call(|s| async move { s.create_album(name).await })
    }

    fn add_to_album(&self, ids: Vec<String>, album: String) -> Call<()> {
        self.call(|s| async move { s.add_to_album(ids, album).await })
    }

    fn share_code(&self) -> Call<UiShareCode> {
        self.call(|s| async move { s.share_code().await })
    }

    fn check_share_code(&self, code: String) -> Call<String> {
        self.call(|s| async move { s.check_share_code(code).await })
    }

    fn share(&self, target: Target, share_code: String, expires_days: Option<u32>) -> Call<Grant> {
        self.call(|s| async move { s.share(target, share_code, expires_days).await })
    }

    fn grants(&self) -> Call<Vec<Grant>> {
        self.call(|s| async move { s.grants().await })
    }

    fn revoke_grant(&self, target: Target, grantee: String) -> Call<()> {
        self.call(|s| async move { s.revoke_grant(target, grantee).await })
    }

    fn create_link(&self, target: Target, request: LinkRequest) -> Call<Link> {
        self.call(|s| async move { s.create_link(target, request).await })
    }

    fn links(&self) -> Call<Vec<Link>> {
        self.call(|s| async move { s.links().await })
    }

    fn revoke_link(&self, id: String) -> Call<()> {
        self.call(|s| async move { s.revoke_link(id).await })
    }

    fn shared_with_me(&self) -> Call<Vec<SharedItem>> {
        self.call(|s| async move { s.shared_with_me().await })
    }

    fn add_shared_vault(&self, vault: String) -> Call<()> {
        self.call(|s| async move { s.add_shared_vault(vault).await })
    }

    fn shared_photos(&self, vault: String, target: Target) -> Call<Vec<Photo>> {
        self.call(|s| async move { s.shared_photos(vault, target).await })
    }

    fn activity(&self) -> Call<Vec<Activity>> {
        self.call(|s| async move { s.activity().await })
    }

    fn settings(&self) -> Call<Settings> {
        self.call(|s| async move { s.settings().await })
    }

    fn pending_uploads(&self) -> Call<Vec<PendingUpload>> {
        self.call(|s| async move { s.pending_uploads().await })
    }

    fn abort_upload(&self, id: String) -> Call<()> {
        self.call(|s| async move { s.abort_upload(id).await })
    }

    fn copy(&self, text: String) -> Call<()> {
        self.call(|s| async move {
            tokio::task::spawn_blocking(move || s.copy(text))
                .await
                .expect("the clipboard does not panic")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_hears_half_the_pipelines_bytes_capped_at_the_size() {
        let (events, mut rx) = futures_channel::mpsc::unbounded();
        let path = PathBuf::from("/p/a.jpg");
        let progress = Progress {
            events,
            sizes: HashMap::from([(path.clone(), 10)]),
            reported: StdMutex::new(HashMap::new()),
        };
        for n in [3, 4, 7, 6, 5] {
            progress.advance(&path, n);
        }
        let mut total = 0;
        while let Ok(UploadEvent::Advance { bytes, .. }) = rx.try_recv() {
            total += bytes;
        }
        assert_eq!(total, 10);
    }

    #[test]
    fn times_are_for_people() {
        assert_eq!(local_time("not a time"), "not a time");
        assert!(passed("2000-01-01T00:00:00Z"));
        assert!(!passed("2999-01-01T00:00:00Z"));
        let meta = FileMetadata {
            taken_at: Some(1_000_000),
            taken_offset_min: Some(120),
            orientation: Some(6),
            width: Some(4000),
            height: Some(3000),
            ..FileMetadata::default()
        };
        let info = FileInfo {
            id: ByteBuf::from(vec![1; 16]),
            size: 0,
            chunk_count: 0,
            content_header: ByteBuf::new(),
            wrapped_key: ByteBuf::new(),
            album: None,
            key_version: 0,
            metadata: ByteBuf::new(),
            thumbnail_size: 0,
            sort_key: 1_000_000,
            created_at: 0,
            uploader: Principal::anonymous(),
            trashed_at: None,
        };
        assert_eq!(taken_ms(&info, &meta), 1_000_000 + 120 * 60_000);
        assert_eq!(upright(&meta), (Some(3000), Some(4000)));
        let rows = detail_rows(&info, &meta);
        let taken = rows.iter().find(|(l, _)| l == "Taken").unwrap();
        assert_eq!(taken.1, "1970-01-01 02:16:40 (UTC+02:00)");
        assert!(
            rows.iter()
                .any(|(l, v)| l == "Size" && v == "3000 × 4000 px")
        );
        assert!(!rows.iter().any(|(l, _)| l == "Camera" || l == "Location"));
    }
}
