//! What front ends show: decrypted, plain records (serialisable for `--json`) and formatting.

use candid::Principal;
use serde::Serialize;
use vault_crypto::FileMetadata;
use vault_interface::types::{FileInfo, Permission, Target};

/// A file, decrypted.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FileEntry {
    /// Its id (hex).
    pub id: String,
    /// Name on the device it came from.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Bytes.
    pub size: u64,
    /// When it was taken (RFC 3339; local wall clock with its offset when known).
    pub taken_at: Option<String>,
    /// Milliseconds since the epoch (the timeline's order).
    pub taken_at_ms: Option<i64>,
    /// When the file was last modified before upload (RFC 3339, UTC): what dates a photo
    /// without a recorded time, as other photo apps do.
    pub modified_at: Option<String>,
    /// Pixels as stored.
    pub width: Option<u32>,
    /// Pixels as stored.
    pub height: Option<u32>,
    /// EXIF orientation.
    pub orientation: Option<u8>,
    /// `[latitude, longitude]` or with altitude.
    pub gps: Option<Vec<f64>>,
    /// Camera make and model.
    pub camera: Option<String>,
    /// The album it is in (hex id).
    pub album: Option<String>,
    /// When it was uploaded (RFC 3339, UTC).
    pub uploaded_at: String,
    /// When it was trashed, if it is in the trash.
    pub trashed_at: Option<String>,
    /// Who uploaded it.
    pub uploader: String,
    /// SHA-256 of the original (hex).
    pub sha256: String,
    /// Sealed thumbnail bytes (0: none).
    pub thumbnail_size: u32,
}

impl FileEntry {
    /// The view of `info` whose metadata decrypted to `meta`.
    pub fn new(info: &FileInfo, meta: &FileMetadata) -> FileEntry {
        FileEntry {
            id: hex::encode(&info.id),
            name: meta.name.clone(),
            mime: meta.mime.clone(),
            size: meta.size,
            taken_at: meta
                .taken_at
                .map(|ms| taken_text(ms, meta.taken_offset_min)),
            taken_at_ms: meta.taken_at,
            modified_at: meta.modified_at.map(time_ms),
            width: meta.width,
            height: meta.height,
            orientation: meta.orientation,
            gps: meta.gps.map(|g| {
                let mut v = vec![g.latitude, g.longitude];
                v.extend(g.altitude);
                v
            }),
            camera: match (&meta.camera_make, &meta.camera_model) {
                (Some(make), Some(model)) if model.starts_with(make.as_str()) => {
                    Some(model.clone())
                }
                (Some(make), Some(model)) => Some(format!("{make} {model}")),
                (one, other) => one.clone().or_else(|| other.clone()),
            },
            album: info.album.as_ref().map(hex::encode),
            uploaded_at: time_ns(info.created_at),
            trashed_at: info.trashed_at.map(time_ns),
            uploader: info.uploader.to_text(),
            sha256: hex::encode(meta.content_sha256),
            thumbnail_size: info.thumbnail_size,
        }
    }
}

/// An album, decrypted.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AlbumEntry {
    /// Its id (hex).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Files in it.
    pub files: u64,
    /// Its key's current version.
    pub key_version: u32,
    /// Created (RFC 3339).
    pub created_at: String,
}

/// What is shared, and with whom.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GrantEntry {
    /// `album` or `file`.
    pub kind: String,
    /// The album or file id (hex).
    pub target: String,
    /// The album's name or file's name, when known.
    pub name: Option<String>,
    /// Who.
    pub grantee: String,
    /// `view` or `contribute`.
    pub permission: String,
    /// When it lapses.
    pub expires_at: Option<String>,
    /// Whether it has lapsed.
    pub expired: bool,
    /// Since.
    pub created_at: String,
}

/// A sharing link as its owner sees it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LinkEntry {
    /// The link's id: its token hash (hex).
    pub id: String,
    /// `album` or `file`.
    pub kind: String,
    /// The album or file id (hex).
    pub target: String,
    /// The owner's label.
    pub label: Option<String>,
    /// When it lapses.
    pub expires_at: Option<String>,
    /// Revoked when.
    pub revoked_at: Option<String>,
    /// Whether it asks for a password.
    pub password: bool,
    /// Times opened.
    pub opened: u64,
    /// Since.
    pub created_at: String,
}

/// An upload in progress, as the owner sees it: theirs, a device's or a contributor's.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PendingUploadEntry {
    /// The file id it will have (hex): what `abort` takes.
    pub id: String,
    /// Who sends it.
    pub uploader: String,
    /// Whether this identity sends it.
    pub mine: bool,
    /// The album it goes into (hex id).
    pub album: Option<String>,
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
    /// Begun (RFC 3339).
    pub started_at: String,
    /// Expires if nothing more arrives (RFC 3339).
    pub expires_at: String,
}

/// `(kind, hex id)` of a target.
pub fn target_parts(target: &Target) -> (&'static str, String) {
    match target {
        Target::Album(id) => ("album", hex::encode(id)),
        Target::File(id) => ("file", hex::encode(id)),
    }
}

/// `view` / `contribute`.
pub fn permission_text(p: Permission) -> &'static str {
    match p {
        Permission::View => "view",
        Permission::Contribute => "contribute",
    }
}

/// A principal in text form.
pub fn principal(p: &Principal) -> String {
    p.to_text()
}

/// Nanoseconds since the epoch as RFC 3339 UTC.
pub fn time_ns(ns: u64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns.min(i64::MAX as u64) as i64)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Milliseconds since the epoch as RFC 3339 (UTC, to the second).
pub fn time_ms(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => ms.to_string(),
    }
}

/// A taken-at time: with its offset when known (the camera's local time), else as the camera's
/// wall clock with no zone.
pub fn taken_text(ms: i64, offset_min: Option<i16>) -> String {
    let Some(utc) = chrono::DateTime::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    match offset_min.and_then(|m| chrono::FixedOffset::east_opt(i32::from(m) * 60)) {
        Some(offset) => utc
            .with_timezone(&offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => utc.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
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
