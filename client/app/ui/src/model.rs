//! What the screens show: plain records a [`Backend`](crate::Backend) fills in. No keys, no
//! ciphertext: by the time a record gets here it is decrypted and formatted for people.

use std::path::PathBuf;

/// A photo (or any file) in the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Photo {
    /// Its id (hex).
    pub id: String,
    /// Its name on the device it came from.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Bytes of the original.
    pub size: u64,
    /// When it was taken, milliseconds since the epoch on the camera's wall clock (local time),
    /// or when it was uploaded when the photo does not say.
    pub taken_ms: i64,
    /// Pixels, when known.
    pub width: Option<u32>,
    /// Pixels, when known.
    pub height: Option<u32>,
    /// Whether it has a thumbnail.
    pub has_thumbnail: bool,
    /// How long it plays, for a video whose length is known.
    pub duration_ms: Option<u64>,
    /// The album it is in (id).
    pub album: Option<String>,
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<String>,
}

/// A photo's details for the viewer's information panel: `(label, value)` rows.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PhotoDetails {
    /// Rows such as ("Camera", "SONY ILCE-6000").
    pub rows: Vec<(String, String)>,
}

/// An album.
#[derive(Clone, Debug, PartialEq)]
pub struct Album {
    /// Its id (hex).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Files in it.
    pub files: u64,
    /// A photo in it, for its cover.
    pub cover: Option<String>,
}

/// What a share or link is of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// An album, by id.
    Album(String),
    /// A photo, by id.
    Photo(String),
}

impl Target {
    /// "album" or "photo".
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Album(_) => "album",
            Target::Photo(_) => "photo",
        }
    }
    /// The id.
    pub fn id(&self) -> &str {
        match self {
            Target::Album(id) | Target::Photo(id) => id,
        }
    }
}

/// Someone an album or photo is shared with.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// What.
    pub target: Target,
    /// Its name, when known.
    pub name: Option<String>,
    /// Who (principal).
    pub grantee: String,
    /// "view" or "contribute".
    pub permission: String,
    /// When it lapses (a date for people).
    pub expires: Option<String>,
    /// Whether it has lapsed.
    pub expired: bool,
    /// Just made: what their vault was told, in a sentence for the user (none in listings).
    pub told: Option<String>,
}

/// A sharing link, as its owner sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// Its id (token hash, hex).
    pub id: String,
    /// What it opens.
    pub target: Target,
    /// The album's or photo's name, when known.
    pub name: Option<String>,
    /// Its URL, with the key in the fragment (known on this device only).
    pub url: Option<String>,
    /// When it lapses.
    pub expires: Option<String>,
    /// Whether it has lapsed.
    pub expired: bool,
    /// Whether it has been revoked.
    pub revoked: bool,
    /// Whether it asks for a password.
    pub password: bool,
    /// Times opened.
    pub opened: u64,
}

/// What a new link should be.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LinkRequest {
    /// Days until it lapses (`None`: never).
    pub expires_days: Option<u32>,
    /// A password it asks for.
    pub password: Option<String>,
}

/// This user's share code: what others type to share with them.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareCode {
    /// The code.
    pub code: String,
    /// Words both sides read to each other to confirm it.
    pub fingerprint: String,
    /// This user's vault id: people this user shares with add it under "Shared with me".
    pub vault: String,
}

/// Something another vault shares with this user.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedItem {
    /// Whose vault (canister id).
    pub vault: String,
    /// What.
    pub target: Target,
    /// Its name.
    pub name: Option<String>,
    /// "view" or "contribute".
    pub permission: String,
    /// When it lapses.
    pub expires: Option<String>,
    /// New (a notice to the user's vault, not answered yet): who sent it (principal). The
    /// user adds it to what they follow, or dismisses it.
    pub new_from: Option<String>,
}

/// Everything shared with this user, as one look found it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SharedList {
    /// What is shared: from vaults followed, then new shares.
    pub items: Vec<SharedItem>,
    /// Vaults followed that could not be read this time.
    pub unreadable: Vec<UnreadableVault>,
}

/// A vault this user follows that could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct UnreadableVault {
    /// Its canister id.
    pub vault: String,
    /// Why, in words.
    pub why: String,
}

/// An entry of the activity log.
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    /// When (for people).
    pub time: String,
    /// Who.
    pub who: String,
    /// What happened.
    pub what: String,
}

/// Settings and the vault's state.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Settings {
    /// "local" (the embedded replica), a URL, or "ic".
    pub network: String,
    /// This device's identity (principal).
    pub identity: String,
    /// The vault canister.
    pub canister: String,
    /// Where the vault serves this app to a browser (a phone's, or any new device's).
    pub app_url: String,
    /// Files in the vault.
    pub files: u64,
    /// Bytes stored.
    pub stored_bytes: u64,
    /// The quota, if any.
    pub quota_bytes: Option<u64>,
    /// What keeping it costs, in words ("$0.05 a month at …").
    pub cost: String,
    /// Its cycles, what it burns, how long before it freezes, in words.
    pub cycles: String,
    /// Whether to top it up now: frozen, or under 30 days from it.
    pub cycles_low: bool,
    /// What this device's identity holds to pay with (cycles on the cycles ledger, ICP on the
    /// ICP ledger, what an ICP buys), in words, with where to send more.
    pub wallet: String,
    /// Whether this device can top the vault up (a browser's key reaches only its vault, not
    /// the ledgers): if not, `wallet` says how else to.
    pub can_pay: bool,
    /// Which code runs it (its certified module hash against this app's and the releases').
    pub code: String,
    /// Whether that code is known: this app's own module or a published release.
    pub code_known: bool,
    /// Devices that act as the owner.
    pub devices: Vec<Device>,
}

/// What a top-up pays with, from this device's own accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopUp {
    /// `t` × 10^12 cycles from its account on the cycles ledger.
    Cycles { t: u32 },
    /// `e8s` ICP from its account on the ICP ledger, which the cycles minting canister turns
    /// into cycles for the vault.
    Icp { e8s: u64 },
}

impl TopUp {
    /// The cycles a top-up may send, in T.
    pub const CYCLES_T: [u32; 4] = [1, 2, 5, 10];
    /// The ICP a top-up may pay: e8s, and as people write them.
    pub const ICP: [(u64, &'static str); 4] = [
        (10_000_000, "0.1"),
        (50_000_000, "0.5"),
        (100_000_000, "1"),
        (200_000_000, "2"),
    ];
}

/// A device that acts as the owner, as Settings lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// Its principal: what [`crate::Backend::remove_device`] takes.
    pub principal: String,
    /// What it is and when it was added, in words ("passkey (signs in), added 3 May 2026").
    pub about: String,
    /// Whether it is the one running the app.
    pub this_device: bool,
}

/// An upload in progress in the vault: this device's, another device's, or a contributor's.
/// Until it is committed, aborted or expires it holds `reserved_bytes` of the quota.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingUpload {
    /// The file id it will have: what [`crate::Backend::abort_upload`] takes.
    pub id: String,
    /// Who sends it: "you", or their principal.
    pub who: String,
    /// The album it goes into (its name when known).
    pub album: Option<String>,
    /// Chunks received so far.
    pub sent_chunks: u32,
    /// Chunks in all.
    pub chunks: u32,
    /// What it holds against the quota.
    pub reserved_bytes: u64,
    /// When it expires if nothing more arrives (for people).
    pub expires: String,
}

/// Where a vault stands when the app starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// No vault yet on this identity: create one, or recover an existing one.
    NoVault,
    /// A vault, locked.
    Locked,
    /// Unlocked (a remembered session).
    Unlocked,
}

/// Something that went wrong, for people: what and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct UiError {
    /// What went wrong.
    pub message: String,
}

impl UiError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> UiError {
        UiError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How an upload is going, as the backend reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadEvent {
    /// The batch: files found (folders walked) and their bytes.
    Begin {
        /// The files and their sizes.
        files: Vec<(PathBuf, u64)>,
    },
    /// `bytes` more of `path` are done.
    Advance {
        /// Which file.
        path: PathBuf,
        /// How many more bytes.
        bytes: u64,
    },
    /// A file finished: `Ok(outcome)` ("uploaded", "resumed", "duplicate") or the error.
    Done {
        /// Which file.
        path: PathBuf,
        /// What became of it.
        result: Result<String, String>,
    },
    /// The batch could not go on (the folder could not be read, the vault is gone).
    Failed(String),
    /// Everything was tried.
    Finished,
}

/// Kinds of image the app shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// The small image the timeline shows.
    Thumbnail,
    /// The original, decrypted.
    Original,
    /// A video's original, streamed: decrypted a chunk at a time as its player asks for byte
    /// ranges, never whole.
    Video,
}

/// What another app shared with this one ("Share → Vault") and waits for the owner's say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SharedWaiting {
    /// Each file's name (as the owner is shown it) and size.
    pub files: Vec<(String, u64)>,
    /// Files shared with them that were not kept (more than may wait at once).
    pub refused: u64,
}
