//! The desktop app's vault: [`vault_ui::Backend`] over `vault-client`.
//!
//! The work runs on the app's own tokio runtime (two worker threads); every method spawns it
//! there and hands the UI a future that only waits for the answer on a oneshot channel, so the
//! UI thread (Dioxus's executor) never blocks and never runs vault work.
//!
//! ```text
//! Desktop   the handle the UI holds: the runtime and the shared state (cheap to clone)
//! State     vault-client's Session (connection, unlocked vault, each listed file's key, what
//!           others share), the uploads running, the image caches (images.rs), the clipboard;
//!           its methods map the session's domain types to the screens' and back
//! ```
//!
//! Tasks on the runtime hold only `Arc<State>`, never the runtime itself, so the runtime is
//! always dropped on the UI thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};

use candid::Principal;
use chrono::TimeZone;
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::runtime::Runtime;
use vault_client::records::{FileEntry, GrantEntry, Taken, bytes, permission_text};
use vault_client::replica::ReplicaLauncher;
use vault_client::session::{LinkView, OpenFile, UNLOCKED_FOR};
use vault_client::sharing::{ShareTarget, now_ns};
use vault_client::types::{FileInfo, Permission};
use vault_client::upload::{Pass, UploadOptions, UploadProgress, Uploaded, collect_files};
use vault_client::vault::{hex_id, parse_principal};
use vault_client::{
    Error, FileRef, FileView, Home, Listing, Network, PageCursor, Passphrase, Session, VaultStatus,
    cost,
};
use vault_crypto::{FileMetadata, KdfParams};
use vault_ui::backend::{Backend, Call};
use vault_ui::model::{
    Activity, Album, Grant, ImageKind, Link, LinkRequest, Page, PendingUpload, Photo, PhotoDetails,
    Settings, ShareCode as UiShareCode, SharedItem, Status, Target, UiError, UploadEvent,
};

use crate::images::Images;

/// Photos in one page of the timeline (the canister's largest page).
pub(crate) const PAGE: u32 = vault_client::limits::MAX_PAGE;
/// Entries of the activity log shown.
const ACTIVITY_ENTRIES: u32 = 200;

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

/// What the work shares: the session (connection, unlocked vault, files' keys, what others
/// share), the running uploads, the image caches and the clipboard.
pub(crate) struct State {
    pub(crate) session: Session,
    /// Uploads running, stopped when the vault is locked.
    uploads: StdMutex<Vec<tokio::task::AbortHandle>>,
    pub(crate) images: Images,
    clipboard: StdMutex<Option<arboard::Clipboard>>,
}

/// What the UI shows of an error: vault-client's words, which name no command of any front end.
fn ui_error(e: Error) -> UiError {
    UiError::new(e.to_string())
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
            session: Session::with_local_replica(home, network, Arc::from(launcher())),
            uploads: StdMutex::new(Vec::new()),
            images: Images::new(),
            clipboard: StdMutex::new(None),
        });
        {
            // Connect early: the first screen asks for the status at once.
            let state = state.clone();
            runtime.spawn(async move {
                let _ = state.session.connection().await;
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
    vault_client::replica::this_program("vault-app")
}

impl State {
    /// A file the image protocol or a download asks for.
    pub(crate) async fn file(&self, photo: &FileRef) -> Result<Arc<OpenFile>, Error> {
        self.session.open_file(photo).await
    }

    /// Forgets what the app decrypted: the images, and the uploads running stop.
    fn forget(&self) {
        self.images.clear();
        for upload in self.uploads.lock().expect("not poisoned").drain(..) {
            upload.abort();
        }
    }

    // ---- unlocking ---------------------------------------------------------------------

    async fn status(&self) -> Result<Status, Error> {
        Ok(match self.session.status().await? {
            VaultStatus::NoVault => Status::NoVault,
            VaultStatus::Locked => Status::Locked,
            VaultStatus::Unlocked => Status::Unlocked,
        })
    }

    async fn create(&self, passphrase: String) -> Result<String, Error> {
        let words = self
            .session
            .create(None, &Passphrase::new(passphrase)?, KdfParams::DEFAULT)
            .await?;
        self.forget();
        Ok(words.0.to_string())
    }

    async fn unlock(&self, named: Option<String>, passphrase: String) -> Result<(), Error> {
        let named = named.as_deref().map(parse_principal).transpose()?;
        self.session
            .unlock(named, &Passphrase::given(passphrase), Some(UNLOCKED_FOR))
            .await?;
        self.forget();
        Ok(())
    }

    async fn recover(
        &self,
        named: Option<String>,
        words: String,
        new_passphrase: String,
    ) -> Result<(), Error> {
        let new_passphrase = Passphrase::new(new_passphrase)?;
        let named = named.as_deref().map(parse_principal).transpose()?;
        self.session
            .recover(named, &words, &new_passphrase, KdfParams::DEFAULT)
            .await?;
        self.forget();
        Ok(())
    }

    async fn lock(&self) -> Result<(), Error> {
        self.session.lock().await?;
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
        let listing = match (album.as_deref().map(hex_id).transpose()?, trash) {
            (_, true) => Listing::Trash,
            (Some(album), false) => Listing::Album(album),
            (None, false) => Listing::Timeline,
        };
        let page = self.session.list_page(listing, after, PAGE).await?;
        Ok(Page {
            items: page.items.iter().map(photo).collect(),
            next: page.next.as_ref().map(PageCursor::to_string),
        })
    }

    async fn details(&self, id: String) -> Result<PhotoDetails, Error> {
        let view = self.session.details(&id.parse()?).await?;
        Ok(PhotoDetails {
            rows: detail_rows(&view.entry()?),
        })
    }

    async fn download(&self, id: String) -> Result<PathBuf, Error> {
        let dir = downloads_dir()?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        Ok(self.session.export(&id.parse()?, &dir).await?.path)
    }

    async fn trash(&self, ids: Vec<String>, restore: bool) -> Result<(), Error> {
        let ids = ids
            .iter()
            .map(|id| hex_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        if restore {
            self.session.restore(&ids).await
        } else {
            self.session.trash(&ids).await
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
        let mut uploader = self.session.fork().await?;
        let files = {
            let paths = paths.clone();
            let collected = tokio::task::spawn_blocking(move || collect_files(&paths))
                .await
                .expect("walking folders does not panic")?;
            // Entries that cannot be read are listed too: their failure shows on their row.
            let unreadable = collected.unreadable.into_iter().map(|(path, _)| (path, 0));
            collected
                .files
                .into_iter()
                .chain(unreadable)
                .collect::<Vec<_>>()
        };
        let sizes = files.iter().cloned().collect();
        let _ = events.unbounded_send(UploadEvent::Begin { files });
        let progress = Progress {
            events: events.clone(),
            sizes,
            told: StdMutex::new(HashMap::new()),
        };
        let options = UploadOptions { album };
        let result = uploader.upload(&paths, &options, &progress).await;
        // Album counts changed: the next listing reads them again.
        self.session.refresh().await;
        result.map(drop)
    }

    // ---- albums ------------------------------------------------------------------------

    async fn albums(&self) -> Result<Vec<Album>, Error> {
        Ok(self
            .session
            .albums()
            .await?
            .into_iter()
            .map(|view| Album {
                id: view.album.id.to_string(),
                name: view.album.name,
                files: view.album.files,
                cover: view.cover.map(|c| c.to_string()),
            })
            .collect())
    }

    async fn create_album(&self, name: String) -> Result<Album, Error> {
        let entry = self.session.create_album(&name).await?;
        Ok(Album {
            id: entry.id.to_string(),
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
        self.session.add_to_album(&ids, &album).await
    }

    // ---- sharing -----------------------------------------------------------------------

    async fn share_code(&self) -> Result<UiShareCode, Error> {
        let code = self.session.share_code().await?;
        Ok(UiShareCode {
            code: code.share_code,
            fingerprint: code.fingerprint,
            vault: self.session.vault_id().await?.to_text(),
        })
    }

    async fn check_share_code(&self, code: String) -> Result<String, Error> {
        self.session.check_share_code(&code).await
    }

    async fn share(
        &self,
        target: Target,
        code: String,
        expires_days: Option<u32>,
    ) -> Result<Grant, Error> {
        let grant = self
            .session
            .share(
                &share_target(&target)?,
                &code,
                Permission::View,
                expires_in(expires_days),
            )
            .await?;
        Ok(grant_record(grant))
    }

    async fn grants(&self) -> Result<Vec<Grant>, Error> {
        Ok(self
            .session
            .grants()
            .await?
            .into_iter()
            .map(grant_record)
            .collect())
    }

    async fn revoke_grant(&self, target: Target, grantee: String) -> Result<(), Error> {
        self.session
            .revoke_grant(&share_target(&target)?, &grantee)
            .await
    }

    async fn create_link(&self, target: Target, request: LinkRequest) -> Result<Link, Error> {
        let made = self
            .session
            .create_link(
                &share_target(&target)?,
                expires_in(request.expires_days),
                request.password.as_deref(),
                "",
            )
            .await?;
        Ok(link_record(made))
    }

    async fn links(&self) -> Result<Vec<Link>, Error> {
        Ok(self
            .session
            .links()
            .await?
            .into_iter()
            .map(link_record)
            .collect())
    }

    async fn revoke_link(&self, id: String) -> Result<(), Error> {
        self.session.revoke_link(&id).await.map(drop)
    }

    async fn shared_with_me(&self) -> Result<Vec<SharedItem>, Error> {
        Ok(self
            .session
            .shared_with_me()
            .await?
            .into_iter()
            .map(|entry| SharedItem {
                vault: entry.vault.to_text(),
                target: ui_target(entry.target),
                name: entry.name,
                permission: permission_text(entry.permission).into(),
                expires: entry.expires_at.map(local_time),
            })
            .collect())
    }

    async fn add_shared_vault(&self, vault: String) -> Result<(), Error> {
        self.session
            .add_shared_vault(parse_principal(vault.trim())?)
            .await
    }

    async fn shared_photos(&self, vault: String, target: Target) -> Result<Vec<Photo>, Error> {
        let files = self
            .session
            .shared_files(parse_principal(&vault)?, &share_target(&target)?)
            .await?;
        let mut photos: Vec<Photo> = files.iter().map(photo).collect();
        // Newest first, as the timeline groups them.
        photos.sort_by_key(|p| std::cmp::Reverse(p.taken_ms));
        Ok(photos)
    }

    // ---- the rest ----------------------------------------------------------------------

    async fn activity(&self) -> Result<Vec<Activity>, Error> {
        let me = self.session.connection().await?.me();
        Ok(self
            .session
            .activity(ACTIVITY_ENTRIES)
            .await?
            .entries
            .into_iter()
            .map(|e| Activity {
                time: local_time(e.time),
                who: if e.caller == me {
                    "you (this device)".into()
                } else if e.caller == Principal::management_canister() {
                    "the vault".into()
                } else {
                    e.caller.to_text()
                },
                what: e.what,
            })
            .collect())
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>, Error> {
        Ok(self
            .session
            .pending_uploads()
            .await?
            .into_iter()
            .map(|u| PendingUpload {
                who: if u.mine {
                    "you".into()
                } else {
                    u.uploader.to_text()
                },
                album: u.album_name.or(u.album.map(|a| a.to_string())),
                sent_chunks: u.chunks_received,
                chunks: u.chunk_count,
                reserved_bytes: u.reserved_bytes,
                expires: local_time(u.expires_at),
                id: u.id.to_string(),
            })
            .collect())
    }

    async fn abort_upload(&self, id: String) -> Result<(), Error> {
        self.session.abort_upload(&hex_id(&id)?).await
    }

    async fn settings(&self) -> Result<Settings, Error> {
        let summary = self.session.summary().await?;
        let info = &summary.info;
        let costs = cost::costs(info.used_bytes);
        Ok(Settings {
            network: summary.network,
            identity: summary.identity.to_text(),
            canister: summary.canister.to_text(),
            files: info.files,
            stored_bytes: info.used_bytes,
            quota_bytes: (info.quota_bytes != 0 && info.quota_bytes != u64::MAX)
                .then_some(info.quota_bytes),
            cost: format!(
                "${:.4} a month on the Internet Computer for what is stored now (${:.3} per GiB a month; uploading costs ${:.3} per GiB)",
                costs.storage_usd_per_month, costs.usd_per_gib_month, costs.upload_usd_per_gib
            ),
            devices: summary
                .devices
                .into_iter()
                .map(|d| {
                    format!(
                        "{} (added {}){}",
                        d.principal,
                        local_time(d.added_at),
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

fn share_target(target: &Target) -> Result<ShareTarget, Error> {
    Ok(match target {
        Target::Album(id) => ShareTarget::Album(hex_id(id)?),
        Target::Photo(id) => ShareTarget::File(hex_id(id)?),
    })
}

fn ui_target(target: ShareTarget) -> Target {
    match target {
        ShareTarget::Album(id) => Target::Album(hex::encode(id)),
        ShareTarget::File(id) => Target::Photo(hex::encode(id)),
    }
}

/// Nanoseconds since the epoch `days` from now.
fn expires_in(days: Option<u32>) -> Option<u64> {
    days.map(|d| now_ns().saturating_add(u64::from(d) * 86_400 * 1_000_000_000))
}

fn grant_record(grant: GrantEntry) -> Grant {
    Grant {
        target: ui_target(grant.target),
        name: grant.name,
        grantee: grant.grantee.to_text(),
        permission: permission_text(grant.permission).into(),
        expires: grant.expires_at.map(local_time),
        expired: grant.expired,
    }
}

fn link_record(view: LinkView) -> Link {
    let entry = view.link.link;
    Link {
        name: view.name,
        expired: entry.expired(),
        expires: entry.expires_at.map(local_time),
        target: ui_target(entry.target),
        id: entry.id.to_string(),
        url: view.link.url,
        revoked: entry.revoked_at.is_some(),
        password: entry.password,
        opened: entry.opened,
    }
}

/// An instant as people read it here: on this computer's clock, to the minute.
fn local_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
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
        Some(ms) => Taken {
            ms,
            offset_min: meta.taken_offset_min,
        }
        .wall_clock_ms(),
        None => local_wall_ms(meta.modified_at.unwrap_or(info.sort_key)),
    }
}

fn photo(view: &FileView) -> Photo {
    let (info, meta) = (&view.info, &view.meta);
    let (width, height) = view.upright();
    Photo {
        id: view.file.to_string(),
        name: meta.name.clone(),
        mime: meta.mime.clone(),
        size: meta.size,
        taken_ms: taken_ms(info, meta),
        width,
        height,
        has_thumbnail: view.has_thumbnail(),
        album: view.album().map(hex::encode),
    }
}

/// The viewer's information rows: what the file's record and metadata say.
fn detail_rows(entry: &FileEntry) -> Vec<(String, String)> {
    let mut rows: Vec<(&str, String)> = vec![("Name", entry.name.clone())];
    if let Some(taken) = &entry.taken {
        let text = match taken.wall_clock() {
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => format!("{} ms after 1970", taken.ms),
        };
        rows.push((
            "Taken",
            match taken.offset_min {
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
    if let (Some(w), Some(h)) = entry.upright() {
        rows.push(("Size", format!("{w} × {h} px")));
    }
    if let Some(ms) = entry.duration_ms {
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
    rows.push(("File size", bytes(entry.size)));
    rows.push(("Type", entry.mime.clone()));
    if let Some(gps) = &entry.gps {
        let mut text = format!("{:.5}, {:.5}", gps.latitude, gps.longitude);
        if let Some(alt) = gps.altitude {
            text.push_str(&format!(" ({alt:.0} m)"));
        }
        rows.push(("Location", text));
    }
    if let Some(modified) = entry.modified_at {
        rows.push(("Modified", local_time(modified)));
    }
    rows.push(("Uploaded", local_time(entry.uploaded_at)));
    if let Some(trashed) = entry.trashed_at {
        rows.push(("In the trash since", local_time(trashed)));
    }
    rows.push(("SHA-256", hex::encode(entry.sha256)));
    rows.into_iter()
        .map(|(label, value)| (label.to_string(), value))
        .collect()
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

/// Hands the upload's progress to the UI: the bytes sent (or found already there), so that a
/// file's advances add up to its size; the first pass (reading, hashing) is quick beside it.
struct Progress {
    events: UnboundedSender<UploadEvent>,
    sizes: HashMap<PathBuf, u64>,
    /// Per file: bytes the UI was told.
    told: StdMutex<HashMap<PathBuf, u64>>,
}

impl UploadProgress for Progress {
    fn advance(&self, path: &Path, pass: Pass, bytes: u64) {
        if pass != Pass::Sent {
            return;
        }
        // Never past the file's size, whatever the pipeline says.
        let size = self.sizes.get(path).copied().unwrap_or(u64::MAX);
        let delta = {
            let mut told = self.told.lock().expect("not poisoned");
            let told = told.entry(path.to_path_buf()).or_default();
            let delta = bytes.min(size.saturating_sub(*told));
            *told += delta;
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
                Err(e) => Err(e.to_string()),
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
    use serde_bytes::ByteBuf;

    use super::*;

    /// The UI's bar is of bytes sent: reading a file moves it not at all, sending it moves it
    /// to the file's size and never past it.
    #[test]
    fn the_ui_hears_the_bytes_sent_up_to_the_size() {
        let (events, mut rx) = futures_channel::mpsc::unbounded();
        let path = PathBuf::from("/p/a.jpg");
        let progress = Progress {
            events,
            sizes: HashMap::from([(path.clone(), 10)]),
            told: StdMutex::new(HashMap::new()),
        };
        let mut heard = || {
            let mut total = 0;
            while let Ok(UploadEvent::Advance { bytes, .. }) = rx.try_recv() {
                total += bytes;
            }
            total
        };
        for n in [4, 6] {
            progress.advance(&path, Pass::Read, n);
        }
        assert_eq!(heard(), 0);
        for n in [3, 4] {
            progress.advance(&path, Pass::Sent, n);
        }
        assert_eq!(heard(), 7);
        progress.advance(&path, Pass::Sent, 5);
        assert_eq!(heard(), 3);
    }

    #[test]
    fn times_are_for_people() {
        // To the minute, on this computer's clock (whatever its zone, the date and minute show).
        let shown = local_time(vault_client::records::instant(86_400_000_000_000));
        assert_eq!(shown.len(), "1970-01-02 00:00".len(), "{shown}");
        assert!(shown.starts_with("1970-01-0"), "{shown}");
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
        let view = FileView {
            file: FileRef::own([1; 16]),
            info,
            meta,
        };
        assert_eq!(view.upright(), (Some(3000), Some(4000)));
        let rows = detail_rows(&view.entry().unwrap());
        let taken = rows.iter().find(|(l, _)| l == "Taken").unwrap();
        assert_eq!(taken.1, "1970-01-01 02:16:40 (UTC+02:00)");
        assert!(
            rows.iter()
                .any(|(l, v)| l == "Size" && v == "3000 × 4000 px")
        );
        assert!(!rows.iter().any(|(l, _)| l == "Camera" || l == "Location"));
    }
}
