//! What the screens ask of a vault. The desktop app implements it over `vault-client` (the
//! work runs on its own threads; these futures only wait for answers, so the UI thread never
//! blocks); tests implement it in memory.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use futures_channel::mpsc::UnboundedReceiver;

use crate::model::*;

/// An answer on its way. Awaited on the UI's executor, never blocking it.
pub type Call<T> = Pin<Box<dyn Future<Output = Result<T, UiError>> + 'static>>;

/// A vault, as the screens see it.
pub trait Backend: 'static {
    /// Where the vault stands at start.
    fn status(&self) -> Call<Status>;
    /// Creates a vault locked by `passphrase`; answers its recovery key (24 words), shown once.
    fn create(&self, passphrase: String) -> Call<String>;
    /// Unlocks with the passphrase: the vault this device knows, or on a new device the vault
    /// whose id is given (this device is then admitted as one of the owner's).
    fn unlock(&self, vault: Option<String>, passphrase: String) -> Call<()>;
    /// Unlocks with the recovery key and sets a new passphrase; `vault` as for
    /// [`Backend::unlock`].
    fn recover(
        &self,
        vault: Option<String>,
        recovery_key: String,
        new_passphrase: String,
    ) -> Call<()>;
    /// Forgets the unlocked key on this device.
    fn lock(&self) -> Call<()>;

    /// Whether this platform makes and uses passkeys (a browser's WebAuthn).
    fn has_passkeys(&self) -> bool {
        false
    }
    /// Where the app locks itself when left alone (a browser, whose keys live in the page):
    /// the minutes without a touch after which it does, as chosen on this device, and those
    /// that may be chosen. `None` elsewhere.
    fn lock_after(&self) -> Option<(u32, Vec<u32>)> {
        None
    }
    /// Chooses those minutes on this device (one of `lock_after`'s).
    fn set_lock_after(&self, _minutes: u32) -> Result<(), UiError> {
        Err(UiError::new("this device does not lock itself"))
    }
    /// Whether the app is the page a vault serves, at the vault's own address: where someone
    /// sent a link who kept only its start lands too.
    fn served_by_the_vault(&self) -> bool {
        false
    }
    /// Makes a passkey on this device (the platform asks for a fingerprint, face or PIN) and
    /// admits it as one of the owner's devices; answers whether it also unlocks the vault
    /// without the passphrase (where the authenticator offers the PRF extension).
    fn add_passkey(&self) -> Call<bool> {
        Box::pin(async {
            Err(UiError::new(
                "passkeys are made in a browser: open your vault there",
            ))
        })
    }
    /// Signs in with one of the vault's passkeys (one prompt for the session); answers whether
    /// it unlocked the vault too. When not, the passphrase unlocks as usual.
    fn sign_in_with_passkey(&self) -> Call<bool> {
        Box::pin(async {
            Err(UiError::new(
                "passkeys are used in a browser: open your vault there",
            ))
        })
    }

    /// A page of photos, newest first; in `album` when given; the trash when `trash`.
    fn photos(
        &self,
        album: Option<String>,
        trash: bool,
        after: Option<String>,
    ) -> Call<Page<Photo>>;
    /// A photo's details (EXIF and more).
    fn details(&self, id: String) -> Call<PhotoDetails>;
    /// Saves the original into the downloads folder; answers where.
    fn download(&self, id: String) -> Call<PathBuf>;
    /// Moves photos to the trash.
    fn trash(&self, ids: Vec<String>) -> Call<()>;
    /// Brings photos back from the trash.
    fn restore(&self, ids: Vec<String>) -> Call<()>;
    /// The URL an `<img>` loads this photo's image from (a custom protocol, served from memory).
    fn image_url(&self, kind: ImageKind, id: &str) -> String;

    /// Whether [`Backend::pick`] opens the platform's own file chooser. When not, the upload
    /// screen uses the webview's `<input type=file>`.
    fn has_picker(&self) -> bool {
        false
    }
    /// Opens the platform's file chooser for photos (or folders); answers the paths chosen
    /// (none when cancelled).
    fn pick(&self, _folders: bool) -> Call<Vec<PathBuf>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Uploads files and folders (walked) into `album`; reports as it goes. Files already
    /// partly sent resume where they stopped.
    fn upload(&self, paths: Vec<PathBuf>, album: Option<String>) -> UnboundedReceiver<UploadEvent>;
    /// Uploads the files a `<input type=file>` or a drop gave. Where they have paths (a
    /// desktop's webview), as [`Backend::upload`]; a browser gives the files themselves.
    fn upload_files(
        &self,
        files: Vec<crate::FileData>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent> {
        self.upload(files.iter().map(|f| f.path()).collect(), album)
    }

    /// The names and sizes of what another app shared with this one (a phone's "Share →
    /// Vault") and waits for the owner: the app asks once it is unlocked.
    fn shared_with_vault(&self) -> Call<SharedWaiting> {
        Box::pin(async { Ok(SharedWaiting::default()) })
    }
    /// Uploads what waits there (`upload`: the owner said so), or forgets it; `None` when
    /// nothing was waiting.
    fn upload_shared(&self, _upload: bool) -> Call<Option<UnboundedReceiver<UploadEvent>>> {
        Box::pin(async { Ok(None) })
    }

    /// Every upload in progress in the vault: this device's, other devices' and
    /// contributors'.
    fn pending_uploads(&self) -> Call<Vec<PendingUpload>>;
    /// Stops an upload in progress (anyone's): what it sent is deleted, its space freed.
    fn abort_upload(&self, id: String) -> Call<()>;
    /// Removes one of the owner's devices (a lost phone, an old browser, a passkey): it can no
    /// longer reach the vault, from its very next call.
    fn remove_device(&self, principal: String) -> Call<()>;

    /// The albums.
    fn albums(&self) -> Call<Vec<Album>>;
    /// Creates an album.
    fn create_album(&self, name: String) -> Call<Album>;
    /// Moves photos into an album.
    fn add_to_album(&self, ids: Vec<String>, album: String) -> Call<()>;

    /// This user's share code and fingerprint words.
    fn share_code(&self) -> Call<ShareCode>;
    /// The fingerprint words of someone else's share code (to read back to them), or why the
    /// code is not valid.
    fn check_share_code(&self, code: String) -> Call<String>;
    /// Shares `target` with the owner of `share_code`, for `expires_days` (or for good).
    fn share(&self, target: Target, share_code: String, expires_days: Option<u32>) -> Call<Grant>;
    /// Who has what.
    fn grants(&self) -> Call<Vec<Grant>>;
    /// Takes a grant back.
    fn revoke_grant(&self, target: Target, grantee: String) -> Call<()>;
    /// Makes a link to `target`.
    fn create_link(&self, target: Target, request: LinkRequest) -> Call<Link>;
    /// The links made.
    fn links(&self) -> Call<Vec<Link>>;
    /// Revokes a link.
    fn revoke_link(&self, id: String) -> Call<()>;
    /// What others share with this user, from the vaults added with
    /// [`Backend::add_shared_vault`].
    fn shared_with_me(&self) -> Call<SharedList>;
    /// Adds someone's vault (its id, which they send) to "Shared with me"; refused, and not
    /// added, when it shares nothing with this user.
    fn add_shared_vault(&self, vault: String) -> Call<()>;
    /// Stops showing what `vault` shares with this user (a new one dismissed, or one followed).
    fn dismiss_shared_vault(&self, vault: String) -> Call<()>;
    /// The photos of something shared with this user (all of them, newest first); their ids
    /// and image URLs name the sharer's vault.
    fn shared_photos(&self, vault: String, target: Target) -> Call<Vec<Photo>>;

    /// The activity log, newest first.
    fn activity(&self) -> Call<Vec<Activity>>;
    /// Settings and usage.
    fn settings(&self) -> Call<Settings>;
    /// Tops the vault up from this identity's cycles (the cycles ledger's withdraw) or its ICP
    /// (through the cycles minting canister); what happened, in words.
    fn top_up(&self, amount: TopUp) -> Call<String>;
    /// What a new vault costs, in words, for the Create screen (none: not said).
    fn vault_price(&self) -> Option<String> {
        None
    }
    /// Puts text on the clipboard.
    fn copy(&self, text: String) -> Call<()>;
}
