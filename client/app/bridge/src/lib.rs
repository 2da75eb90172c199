//! The app's screens over `vault-client`: [`Bridge`] is the [`vault_ui::Backend`] of every
//! platform the app runs on — the desktop window and, built for the web, a phone's browser.
//!
//! ```text
//! Bridge<P>   the Backend: each screen's question, run by the platform, answered by Screens
//! Screens     vault-client's Session, its domain types mapped to the screens' model and back
//! records     that mapping: photos, detail rows, grants, links, times as people read them
//! Platform    what differs: where the work runs, images, files in and out, the clipboard
//! ```
//!
//! A platform implements only [`Platform`]; the thirty questions the screens ask are answered
//! here once, so the desktop app and the web app cannot drift apart.
#![forbid(unsafe_code)]

pub mod images;
mod records;
mod screens;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use futures_channel::mpsc::UnboundedReceiver;
use vault_client::Error;
use vault_client::passkey::{Assertion, PasskeyRequest, Registration};
use vault_client::platform::MaybeSync;
use vault_ui::backend::{Backend, Call};
use vault_ui::model::{
    Activity, Album, Grant, ImageKind, Link, LinkRequest, Page, PendingUpload, Photo, PhotoDetails,
    Settings, ShareCode, SharedList, Status, Target, TopUp, UiError, UploadEvent,
};

pub use records::{detail_rows, local_time, photo, taken_ms};
pub use screens::{PAGE, Screens, UploadTold};

/// The vault's work for one answer: `Send` natively, where it runs on the app's worker
/// threads; in a browser it runs on the page's one thread.
#[cfg(not(target_arch = "wasm32"))]
pub type Work<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'static>>;
/// The vault's work for one answer: `Send` natively, where it runs on the app's worker
/// threads; in a browser it runs on the page's one thread.
#[cfg(target_arch = "wasm32")]
pub type Work<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + 'static>>;

/// What the screens show of an error: vault-client's words, which name no command of any
/// front end.
pub fn ui_error(e: Error) -> UiError {
    UiError::new(e.to_string())
}

/// What differs between the platforms the app runs on.
pub trait Platform: Clone + MaybeSync + 'static {
    /// Runs `work` where the vault's work runs (never on the UI's own executor natively);
    /// the screens await only the answer.
    fn run<T: MaybeSync + 'static>(&self, work: Work<T>) -> Call<T>;
    /// Forgets what the platform holds of an unlocked vault (decrypted images, uploads
    /// running): the vault was locked, or another one unlocked.
    fn forget(&self);
    /// The URL an `<img>` loads this photo's image from.
    fn image_url(&self, kind: ImageKind, id: &str) -> String;
    /// Whether [`Platform::pick`] opens the platform's own file chooser.
    fn has_picker(&self) -> bool {
        false
    }
    /// The platform's own file chooser: the paths chosen (none when cancelled).
    fn pick(&self, _folders: bool) -> Call<Vec<PathBuf>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Saves a photo's original where the platform keeps downloads; answers where.
    fn download(&self, screens: Arc<Screens>, id: String) -> Call<PathBuf>;
    /// Runs [`Screens::upload`] where uploads run, stopped by [`Platform::forget`].
    fn upload(
        &self,
        screens: Arc<Screens>,
        paths: Vec<PathBuf>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent>;
    /// As [`Platform::upload`], of the files an `<input type=file>` or a drop gave; by their
    /// paths unless the platform has the files themselves (a browser).
    fn upload_files(
        &self,
        screens: Arc<Screens>,
        files: Vec<vault_ui::FileData>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent> {
        self.upload(screens, files.iter().map(|f| f.path()).collect(), album)
    }
    /// The names and sizes of what another app shared with this one (a phone's "Share →
    /// Vault") and waits for the owner's say.
    fn shared_with_vault(&self) -> Call<vault_ui::model::SharedWaiting> {
        Box::pin(async { Ok(Default::default()) })
    }
    /// Uploads what waits there (`upload`), or forgets it.
    fn upload_shared(
        &self,
        _screens: Arc<Screens>,
        _upload: bool,
    ) -> Call<Option<UnboundedReceiver<UploadEvent>>> {
        Box::pin(async { Ok(None) })
    }
    /// Puts text on the clipboard.
    fn copy(&self, text: String) -> Call<()>;
    /// Whether the platform makes and uses passkeys (a browser's WebAuthn).
    fn has_passkeys(&self) -> bool {
        false
    }
    /// Where the platform locks the app when left alone: the minutes chosen, and the choices.
    fn lock_after(&self) -> Option<(u32, Vec<u32>)> {
        None
    }
    /// Chooses those minutes.
    fn set_lock_after(&self, _minutes: u32) -> Result<(), UiError> {
        Err(UiError::new("this device does not lock itself"))
    }
    /// Whether the app is the page a vault serves (where a link's recipient may land too).
    fn served_by_the_vault(&self) -> bool {
        false
    }
    /// Has the platform's authenticator make a passkey for the request's vault (user
    /// verification required, the PRF evaluated where offered).
    fn make_passkey(&self, _request: PasskeyRequest) -> Work<Registration> {
        Box::pin(async { Err(no_passkeys()) })
    }
    /// Has the platform's authenticator sign the request's challenge with one of the vault's
    /// passkeys (the user picks it; user verification required, the PRF evaluated).
    fn use_passkey(&self, _request: PasskeyRequest) -> Work<Assertion> {
        Box::pin(async { Err(no_passkeys()) })
    }
}

fn no_passkeys() -> Error {
    Error::Invalid("this app does not use passkeys: open your vault in a browser".into())
}

/// The screens' [`Backend`] on platform `P`.
pub struct Bridge<P: Platform> {
    screens: Arc<Screens>,
    platform: P,
}

impl<P: Platform> Bridge<P> {
    /// The screens over `screens` on `platform`.
    pub fn new(screens: Arc<Screens>, platform: P) -> Bridge<P> {
        Bridge { screens, platform }
    }

    /// Runs `answer` over the screens on the platform.
    fn ask<T, F, Fut>(&self, answer: F) -> Call<T>
    where
        T: MaybeSync + 'static,
        F: FnOnce(Arc<Screens>) -> Fut,
        Fut: Future<Output = Result<T, Error>> + MaybeSendFuture + 'static,
    {
        self.platform.run(Box::pin(answer(self.screens.clone())))
    }

    /// Runs `change` (an unlock, a lock), then has the platform forget what it held of the
    /// vault before.
    fn switching<T, F, Fut>(&self, change: F) -> Call<T>
    where
        T: MaybeSync + 'static,
        F: FnOnce(Arc<Screens>) -> Fut,
        Fut: Future<Output = Result<T, Error>> + MaybeSendFuture + 'static,
    {
        let platform = self.platform.clone();
        let work = change(self.screens.clone());
        self.ask(move |_| async move {
            let value = work.await?;
            platform.forget();
            Ok(value)
        })
    }
}

/// `Send` natively (the work moves to the worker threads), nothing in a browser.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendFuture: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSendFuture for T {}
/// `Send` natively (the work moves to the worker threads), nothing in a browser.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendFuture {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendFuture for T {}

impl<P: Platform> Backend for Bridge<P> {
    fn status(&self) -> Call<Status> {
        self.ask(|s| async move { s.status().await })
    }

    fn create(&self, passphrase: String) -> Call<String> {
        self.switching(|s| async move { s.create(passphrase).await })
    }

    fn unlock(&self, vault: Option<String>, passphrase: String) -> Call<()> {
        self.switching(|s| async move { s.unlock(vault, passphrase).await })
    }

    fn recover(
        &self,
        vault: Option<String>,
        recovery_key: String,
        new_passphrase: String,
    ) -> Call<()> {
        self.switching(|s| async move { s.recover(vault, recovery_key, new_passphrase).await })
    }

    fn lock(&self) -> Call<()> {
        self.switching(|s| async move { s.lock().await })
    }

    fn has_passkeys(&self) -> bool {
        self.platform.has_passkeys()
    }

    fn lock_after(&self) -> Option<(u32, Vec<u32>)> {
        self.platform.lock_after()
    }

    fn set_lock_after(&self, minutes: u32) -> Result<(), UiError> {
        self.platform.set_lock_after(minutes)
    }

    fn served_by_the_vault(&self) -> bool {
        self.platform.served_by_the_vault()
    }

    fn add_passkey(&self) -> Call<bool> {
        let platform = self.platform.clone();
        self.ask(move |s| async move {
            s.session()
                .add_passkey(|request| platform.make_passkey(request))
                .await
        })
    }

    fn sign_in_with_passkey(&self) -> Call<bool> {
        let platform = self.platform.clone();
        self.switching(move |s| async move { s.sign_in_with_passkey(&platform).await })
    }

    fn photos(
        &self,
        album: Option<String>,
        trash: bool,
        after: Option<String>,
    ) -> Call<Page<Photo>> {
        self.ask(|s| async move { s.photos(album, trash, after).await })
    }

    fn details(&self, id: String) -> Call<PhotoDetails> {
        self.ask(|s| async move { s.details(id).await })
    }

    fn download(&self, id: String) -> Call<PathBuf> {
        self.platform.download(self.screens.clone(), id)
    }

    fn trash(&self, ids: Vec<String>) -> Call<()> {
        self.ask(|s| async move { s.trash(ids, false).await })
    }

    fn restore(&self, ids: Vec<String>) -> Call<()> {
        self.ask(|s| async move { s.trash(ids, true).await })
    }

    fn image_url(&self, kind: ImageKind, id: &str) -> String {
        self.platform.image_url(kind, id)
    }

    fn has_picker(&self) -> bool {
        self.platform.has_picker()
    }

    fn pick(&self, folders: bool) -> Call<Vec<PathBuf>> {
        self.platform.pick(folders)
    }

    fn upload(&self, paths: Vec<PathBuf>, album: Option<String>) -> UnboundedReceiver<UploadEvent> {
        self.platform.upload(self.screens.clone(), paths, album)
    }

    fn upload_files(
        &self,
        files: Vec<vault_ui::FileData>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent> {
        self.platform
            .upload_files(self.screens.clone(), files, album)
    }

    fn shared_with_vault(&self) -> Call<vault_ui::model::SharedWaiting> {
        self.platform.shared_with_vault()
    }

    fn upload_shared(&self, upload: bool) -> Call<Option<UnboundedReceiver<UploadEvent>>> {
        self.platform.upload_shared(self.screens.clone(), upload)
    }

    fn pending_uploads(&self) -> Call<Vec<PendingUpload>> {
        self.ask(|s| async move { s.pending_uploads().await })
    }

    fn abort_upload(&self, id: String) -> Call<()> {
        self.ask(|s| async move { s.abort_upload(id).await })
    }

    fn remove_device(&self, principal: String) -> Call<()> {
        self.ask(|s| async move { s.remove_device(principal).await })
    }

    fn albums(&self) -> Call<Vec<Album>> {
        self.ask(|s| async move { s.albums().await })
    }

    fn create_album(&self, name: String) -> Call<Album> {
        self.ask(|s| async move { s.create_album(name).await })
    }

    fn add_to_album(&self, ids: Vec<String>, album: String) -> Call<()> {
        self.ask(|s| async move { s.add_to_album(ids, album).await })
    }

    fn share_code(&self) -> Call<ShareCode> {
        self.ask(|s| async move { s.share_code().await })
    }

    fn check_share_code(&self, code: String) -> Call<String> {
        self.ask(|s| async move { s.check_share_code(code).await })
    }

    fn share(&self, target: Target, share_code: String, expires_days: Option<u32>) -> Call<Grant> {
        self.ask(|s| async move { s.share(target, share_code, expires_days).await })
    }

    fn grants(&self) -> Call<Vec<Grant>> {
        self.ask(|s| async move { s.grants().await })
    }

    fn revoke_grant(&self, target: Target, grantee: String) -> Call<()> {
        self.ask(|s| async move { s.revoke_grant(target, grantee).await })
    }

    fn create_link(&self, target: Target, request: LinkRequest) -> Call<Link> {
        self.ask(|s| async move { s.create_link(target, request).await })
    }

    fn links(&self) -> Call<Vec<Link>> {
        self.ask(|s| async move { s.links().await })
    }

    fn revoke_link(&self, id: String) -> Call<()> {
        self.ask(|s| async move { s.revoke_link(id).await })
    }

    fn shared_with_me(&self) -> Call<SharedList> {
        self.ask(|s| async move { s.shared_with_me().await })
    }

    fn add_shared_vault(&self, vault: String) -> Call<()> {
        self.ask(|s| async move { s.add_shared_vault(vault).await })
    }

    fn dismiss_shared_vault(&self, vault: String) -> Call<()> {
        self.ask(|s| async move { s.dismiss_shared_vault(vault).await })
    }

    fn shared_photos(&self, vault: String, target: Target) -> Call<Vec<Photo>> {
        self.ask(|s| async move { s.shared_photos(vault, target).await })
    }

    fn activity(&self) -> Call<Vec<Activity>> {
        self.ask(|s| async move { s.activity().await })
    }

    fn settings(&self) -> Call<Settings> {
        self.ask(|s| async move { s.settings().await })
    }

    fn top_up(&self, amount: TopUp) -> Call<String> {
        self.ask(move |s| async move { s.top_up(amount).await })
    }

    fn vault_price(&self) -> Option<String> {
        Some(self.screens.vault_price())
    }

    fn copy(&self, text: String) -> Call<()> {
        self.platform.copy(text)
    }
}
