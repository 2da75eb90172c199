//! What the client hands front ends: decrypted records in domain types (ids, principals,
//! targets, permissions, times as `chrono` instants or the numbers FORMAT.md stores). How they
//! are shown (text, JSON, a screen) is each front end's business.

use candid::Principal;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use vault_crypto::{FileMetadata, GpsPosition};
use vault_interface::types::{FileInfo, Permission};

pub use vault_crypto::{AlbumId, FileId};

use crate::Error;
use crate::sharing::ShareTarget;

/// An instant the canister recorded (nanoseconds since the epoch).
pub fn instant(ns: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns.min(i64::MAX as u64) as i64)
}

/// An instant in milliseconds since the epoch, as metadata stores it; none out of chrono's
/// range (a record from someone else may hold anything).
pub fn instant_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// A file id from the canister's bytes.
pub fn file_id(bytes: &[u8]) -> Result<FileId, Error> {
    crate::keyring::id16(bytes).map(FileId)
}

/// An album id from the canister's bytes.
pub fn album_id(bytes: &[u8]) -> Result<AlbumId, Error> {
    crate::keyring::id16(bytes).map(AlbumId)
}

/// When a photo was taken, as its metadata says (docs/FORMAT.md §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taken {
    /// Milliseconds since the epoch: the instant when the offset is known; else the camera's
    /// wall clock read as if it were UTC.
    pub ms: i64,
    /// The camera's offset from UTC, in minutes, when recorded.
    pub offset_min: Option<i16>,
}

impl Taken {
    /// The camera's offset from UTC, when recorded (and valid).
    pub fn offset(&self) -> Option<FixedOffset> {
        self.offset_min
            .and_then(|m| FixedOffset::east_opt(i32::from(m) * 60))
    }

    /// The camera's wall clock, in milliseconds as if it were UTC: what a timeline sorts and
    /// groups by days with.
    pub fn wall_clock_ms(&self) -> i64 {
        self.ms
            .saturating_add(i64::from(self.offset_min.unwrap_or(0)) * 60_000)
    }

    /// The camera's wall clock (none out of chrono's range).
    pub fn wall_clock(&self) -> Option<NaiveDateTime> {
        DateTime::from_timestamp_millis(self.wall_clock_ms()).map(|t| t.naive_utc())
    }

    /// The instant, with the camera's offset, when it is known.
    pub fn zoned(&self) -> Option<DateTime<FixedOffset>> {
        Some(instant_ms(self.ms)?.with_timezone(&self.offset()?))
    }
}

/// A file, decrypted.
#[derive(Clone, Debug, PartialEq)]
pub struct FileEntry {
    /// Its id.
    pub id: FileId,
    /// Name on the device it came from (lossily UTF-8 when the original was not).
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Bytes.
    pub size: u64,
    /// When it was taken, when its metadata says.
    pub taken: Option<Taken>,
    /// When the file was last modified before upload: what dates a photo without a recorded
    /// time, as other photo apps do.
    pub modified_at: Option<DateTime<Utc>>,
    /// Pixels as stored.
    pub width: Option<u32>,
    /// Pixels as stored.
    pub height: Option<u32>,
    /// EXIF orientation.
    pub orientation: Option<u8>,
    /// How long a video or sound plays.
    pub duration_ms: Option<u64>,
    /// Where.
    pub gps: Option<GpsPosition>,
    /// Camera make and model, as one name.
    pub camera: Option<String>,
    /// The album it is in.
    pub album: Option<AlbumId>,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// When it was trashed, if it is in the trash.
    pub trashed_at: Option<DateTime<Utc>>,
    /// Who uploaded it.
    pub uploader: Principal,
    /// SHA-256 of the original.
    pub sha256: [u8; 32],
    /// Sealed thumbnail bytes (0: none).
    pub thumbnail_size: u32,
}

impl FileEntry {
    /// The record of `info` whose metadata decrypted to `meta`.
    pub fn new(info: &FileInfo, meta: &FileMetadata) -> Result<FileEntry, Error> {
        Ok(FileEntry {
            id: file_id(&info.id)?,
            name: meta.name.clone(),
            mime: meta.mime.clone(),
            size: meta.size,
            taken: meta.taken_at.map(|ms| Taken {
                ms,
                offset_min: meta.taken_offset_min,
            }),
            modified_at: meta.modified_at.and_then(instant_ms),
            width: meta.width,
            height: meta.height,
            orientation: meta.orientation,
            duration_ms: meta.duration_ms,
            gps: meta.gps,
            camera: match (&meta.camera_make, &meta.camera_model) {
                (Some(make), Some(model)) if model.starts_with(make.as_str()) => {
                    Some(model.clone())
                }
                (Some(make), Some(model)) => Some(format!("{make} {model}")),
                (one, other) => one.clone().or_else(|| other.clone()),
            },
            album: info.album.as_deref().map(|a| album_id(a)).transpose()?,
            uploaded_at: instant(info.created_at),
            trashed_at: info.trashed_at.map(instant),
            uploader: info.uploader,
            sha256: meta.content_sha256,
            thumbnail_size: info.thumbnail_size,
        })
    }

    /// Pixels as shown: width and height swapped for EXIF orientations that turn the image.
    pub fn upright(&self) -> (Option<u32>, Option<u32>) {
        if self.orientation.is_some_and(|o| (5..=8).contains(&o)) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// An album, decrypted.
#[derive(Clone, Debug, PartialEq)]
pub struct AlbumEntry {
    /// Its id.
    pub id: AlbumId,
    /// Its name.
    pub name: String,
    /// Files in it.
    pub files: u64,
    /// Its key's current version.
    pub key_version: u32,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// What is shared, and with whom.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantEntry {
    /// The album or file.
    pub target: ShareTarget,
    /// The album's or file's name, when known.
    pub name: Option<String>,
    /// Who.
    pub grantee: Principal,
    /// What they may do.
    pub permission: Permission,
    /// When it lapses.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it has lapsed.
    pub expired: bool,
    /// Since.
    pub created_at: DateTime<Utc>,
}

/// A sharing link as its owner sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkEntry {
    /// The link's id: its token's hash.
    pub id: LinkId,
    /// The album or file it opens.
    pub target: ShareTarget,
    /// The owner's label.
    pub label: Option<String>,
    /// When it lapses.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked when.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether it asks for a password.
    pub password: bool,
    /// Times opened.
    pub opened: u64,
    /// Since.
    pub created_at: DateTime<Utc>,
}

impl LinkEntry {
    /// Whether it has lapsed by now.
    pub fn expired(&self) -> bool {
        self.expires_at.is_some_and(|t| t <= Utc::now())
    }
}

/// A link's id: the SHA-256 of its token, as the canister keys it (hex in text).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkId(pub [u8; 32]);

impl LinkId {
    /// From the canister's bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<LinkId, Error> {
        bytes.try_into().map(LinkId).map_err(|_| {
            Error::Agent(format!(
                "the canister sent a link id of {} bytes",
                bytes.len()
            ))
        })
    }
}

impl std::fmt::Display for LinkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for LinkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinkId({self})")
    }
}

/// An upload in progress, as the owner sees it: theirs, a device's or a contributor's.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingUploadEntry {
    /// The file id it will have: what `abort` takes.
    pub id: FileId,
    /// Who sends it.
    pub uploader: Principal,
    /// Whether this identity sends it.
    pub mine: bool,
    /// The album it goes into.
    pub album: Option<AlbumId>,
    /// That album's name, when this vault knows it.
    pub album_name: Option<String>,
    /// Bytes of content.
    pub size: u64,
    /// What it holds against the quota until it ends.
    pub reserved_bytes: u64,
    /// Chunks received so far.
    pub chunks_received: u32,
    /// Chunks in all.
    pub chunk_count: u32,
    /// Begun.
    pub started_at: DateTime<Utc>,
    /// Expires if nothing more arrives.
    pub expires_at: DateTime<Utc>,
}

/// One of the owner's devices.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceEntry {
    /// Its principal.
    pub principal: Principal,
    /// Admitted when.
    pub added_at: DateTime<Utc>,
    /// Whether it is this one.
    pub this_device: bool,
    /// A passkey's: whether it also unlocks the vault (its PRF output wraps the master key).
    pub passkey: Option<bool>,
}

impl DeviceEntry {
    /// What kind of device it is, in words.
    pub fn kind(&self) -> &'static str {
        match self.passkey {
            None => "device",
            Some(false) => "passkey (signs in)",
            Some(true) => "passkey (signs in and unlocks)",
        }
    }
}

/// One thing shared with me.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedEntry {
    /// The album or file.
    pub target: ShareTarget,
    /// The album's or file's name.
    pub name: Option<String>,
    /// What I may do.
    pub permission: Permission,
    /// When it lapses.
    pub expires_at: Option<DateTime<Utc>>,
    /// The owner's vault canister.
    pub vault: Principal,
    /// None: the user follows that vault. Some: a notice not answered yet (the share inbox),
    /// sent by this principal; the user follows the vault or dismisses it.
    pub new_from: Option<Principal>,
}

/// Everything shared with the user, as one look found it.
#[derive(Clone, Debug, Default)]
pub struct SharedList {
    /// What the vaults they follow share, then the new shares (`new_from`).
    pub entries: Vec<SharedEntry>,
    /// Vaults they follow that could not be read this time, and why.
    pub unreadable: Vec<Unreadable>,
}

/// A vault the user follows that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub vault: Principal,
    pub why: String,
}

/// Bytes for humans (binary units).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `view` / `contribute`.
pub fn permission_text(p: Permission) -> &'static str {
    match p {
        Permission::View => "view",
        Permission::Contribute => "contribute",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_time_keeps_the_cameras_clock_and_offset() {
        let zoned = Taken {
            ms: 1_000_000,
            offset_min: Some(-90),
        };
        assert_eq!(zoned.wall_clock_ms(), 1_000_000 - 90 * 60_000);
        assert_eq!(
            zoned.zoned().unwrap().to_rfc3339(),
            "1969-12-31T22:46:40-01:30"
        );
        let wall = Taken {
            ms: 1_000_000,
            offset_min: None,
        };
        assert_eq!(wall.wall_clock_ms(), 1_000_000);
        assert_eq!(wall.zoned(), None);
        assert_eq!(
            wall.wall_clock().unwrap().to_string(),
            "1970-01-01 00:16:40"
        );
        // Anything a record from someone else holds is read without a panic.
        let absurd = Taken {
            ms: i64::MAX,
            offset_min: Some(i16::MAX),
        };
        assert_eq!(absurd.wall_clock(), None);
        assert_eq!(absurd.zoned(), None);
    }

    #[test]
    fn a_link_has_expired_once_its_time_has_passed() {
        let link = |expires_at| LinkEntry {
            id: LinkId([7; 32]),
            target: ShareTarget::Album([1; 16]),
            label: None,
            expires_at,
            revoked_at: None,
            password: false,
            opened: 0,
            created_at: instant(0),
        };
        assert!(link(Some(instant(1))).expired());
        assert!(!link(Some(Utc::now() + chrono::Duration::days(1))).expired());
        assert!(!link(None).expired());
        assert_eq!(LinkId([0xab; 32]).to_string(), "ab".repeat(32));
    }
}
