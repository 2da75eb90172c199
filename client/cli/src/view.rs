//! What `--json` prints: vault-client's records as text for scripts — ids in hex, principals
//! in their text form, times in RFC 3339 (UTC, to the second; a photo's taken time with the
//! camera's offset when known). Field names and order are what scripts rely on: keep them.
//! Tables show the same text.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use vault_client::activity::LogEntry;
use vault_client::export::Exported;
use vault_client::links::LinkWithUrl;
use vault_client::records::{
    AlbumEntry, DeviceEntry, FileEntry, GrantEntry, PendingUploadEntry, SharedEntry, Taken,
    permission_text,
};
use vault_client::sharing::ShareTarget;
use vault_client::upload::Uploaded;

/// An instant as RFC 3339, UTC, to the second.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// When a photo was taken: with its offset when known (the camera's local time), else as the
/// camera's wall clock with no zone.
pub fn taken(t: &Taken) -> String {
    match (t.zoned(), t.wall_clock()) {
        (Some(zoned), _) => zoned.to_rfc3339_opts(SecondsFormat::Secs, false),
        (None, Some(wall)) => wall.format("%Y-%m-%dT%H:%M:%S").to_string(),
        (None, None) => t.ms.to_string(),
    }
}

/// A file.
#[derive(Serialize)]
pub struct File {
    pub id: String,
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub taken_at: Option<String>,
    pub taken_at_ms: Option<i64>,
    pub modified_at: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub orientation: Option<u8>,
    pub duration_ms: Option<u64>,
    pub gps: Option<Vec<f64>>,
    pub camera: Option<String>,
    pub album: Option<String>,
    pub uploaded_at: String,
    pub trashed_at: Option<String>,
    pub uploader: String,
    pub sha256: String,
    pub thumbnail_size: u32,
}

impl From<&FileEntry> for File {
    fn from(f: &FileEntry) -> File {
        File {
            id: f.id.to_string(),
            name: f.name.clone(),
            mime: f.mime.clone(),
            size: f.size,
            taken_at: f.taken.as_ref().map(taken),
            taken_at_ms: f.taken.map(|t| t.ms),
            modified_at: f.modified_at.map(time),
            width: f.width,
            height: f.height,
            orientation: f.orientation,
            duration_ms: f.duration_ms,
            gps: f.gps.map(|g| {
                let mut v = vec![g.latitude, g.longitude];
                v.extend(g.altitude);
                v
            }),
            camera: f.camera.clone(),
            album: f.album.map(|a| a.to_string()),
            uploaded_at: time(f.uploaded_at),
            trashed_at: f.trashed_at.map(time),
            uploader: f.uploader.to_text(),
            sha256: hex::encode(f.sha256),
            thumbnail_size: f.thumbnail_size,
        }
    }
}

/// Files.
pub fn files(files: &[FileEntry]) -> Vec<File> {
    files.iter().map(File::from).collect()
}

/// An album.
#[derive(Serialize)]
pub struct Album {
    pub id: String,
    pub name: String,
    pub files: u64,
    pub key_version: u32,
    pub created_at: String,
}

impl From<&AlbumEntry> for Album {
    fn from(a: &AlbumEntry) -> Album {
        Album {
            id: a.id.to_string(),
            name: a.name.clone(),
            files: a.files,
            key_version: a.key_version,
            created_at: time(a.created_at),
        }
    }
}

/// `album` / `file`, and the id in hex.
pub fn target(t: &ShareTarget) -> (&'static str, String) {
    (t.kind(), hex::encode(t.id()))
}

/// A grant.
#[derive(Serialize)]
pub struct Grant {
    pub kind: &'static str,
    pub target: String,
    pub name: Option<String>,
    pub grantee: String,
    pub permission: &'static str,
    pub expires_at: Option<String>,
    pub expired: bool,
    pub created_at: String,
}

impl From<&GrantEntry> for Grant {
    fn from(g: &GrantEntry) -> Grant {
        let (kind, target) = target(&g.target);
        Grant {
            kind,
            target,
            name: g.name.clone(),
            grantee: g.grantee.to_text(),
            permission: permission_text(g.permission),
            expires_at: g.expires_at.map(time),
            expired: g.expired,
            created_at: time(g.created_at),
        }
    }
}

/// A link, with its URL when its record opens.
#[derive(Serialize)]
pub struct Link {
    pub id: String,
    pub kind: &'static str,
    pub target: String,
    pub label: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub password: bool,
    pub opened: u64,
    pub created_at: String,
    pub url: Option<String>,
}

impl From<&LinkWithUrl> for Link {
    fn from(l: &LinkWithUrl) -> Link {
        let entry = &l.link;
        let (kind, target) = target(&entry.target);
        Link {
            id: entry.id.to_string(),
            kind,
            target,
            label: entry.label.clone(),
            expires_at: entry.expires_at.map(time),
            revoked_at: entry.revoked_at.map(time),
            password: entry.password,
            opened: entry.opened,
            created_at: time(entry.created_at),
            url: l.url.clone(),
        }
    }
}

/// Something shared with me.
#[derive(Serialize)]
pub struct Shared {
    pub kind: &'static str,
    pub id: String,
    pub name: Option<String>,
    pub permission: &'static str,
    pub expires_at: Option<String>,
    pub vault: String,
    /// A new share, not followed yet: who told your vault of it.
    pub new_from: Option<String>,
}

impl From<&SharedEntry> for Shared {
    fn from(s: &SharedEntry) -> Shared {
        let (kind, id) = target(&s.target);
        Shared {
            kind,
            id,
            name: s.name.clone(),
            permission: permission_text(s.permission),
            expires_at: s.expires_at.map(time),
            vault: s.vault.to_text(),
            new_from: s.new_from.map(|p| p.to_text()),
        }
    }
}

/// An upload in progress.
#[derive(Serialize)]
pub struct PendingUpload {
    pub id: String,
    pub uploader: String,
    pub mine: bool,
    pub album: Option<String>,
    pub album_name: Option<String>,
    pub size: u64,
    pub reserved_bytes: u64,
    pub chunks_received: u32,
    pub chunk_count: u32,
    pub started_at: String,
    pub expires_at: String,
}

impl From<&PendingUploadEntry> for PendingUpload {
    fn from(u: &PendingUploadEntry) -> PendingUpload {
        PendingUpload {
            id: u.id.to_string(),
            uploader: u.uploader.to_text(),
            mine: u.mine,
            album: u.album.map(|a| a.to_string()),
            album_name: u.album_name.clone(),
            size: u.size,
            reserved_bytes: u.reserved_bytes,
            chunks_received: u.chunks_received,
            chunk_count: u.chunk_count,
            started_at: time(u.started_at),
            expires_at: time(u.expires_at),
        }
    }
}

/// A device.
#[derive(Serialize)]
pub struct Device {
    pub principal: String,
    pub added_at: String,
    pub this_device: bool,
    /// "device", or a passkey's kind.
    pub kind: &'static str,
}

impl From<&DeviceEntry> for Device {
    fn from(d: &DeviceEntry) -> Device {
        Device {
            principal: d.principal.to_text(),
            added_at: time(d.added_at),
            this_device: d.this_device,
            kind: d.kind(),
        }
    }
}

/// An entry of the activity log.
#[derive(Serialize)]
pub struct Log {
    pub seq: u64,
    pub time: String,
    pub caller: String,
    pub kind: String,
    pub what: String,
}

impl From<&LogEntry> for Log {
    fn from(e: &LogEntry) -> Log {
        Log {
            seq: e.seq,
            time: time(e.time),
            caller: e.caller.to_text(),
            kind: e.kind.clone(),
            what: e.what.clone(),
        }
    }
}

/// What became of an uploaded file.
#[derive(Serialize)]
pub struct Upload {
    pub path: PathBuf,
    pub id: String,
    pub outcome: String,
    pub size: u64,
    pub chunks_total: u32,
    pub chunks_sent: u32,
    pub no_thumbnail: Option<String>,
}

impl From<&Uploaded> for Upload {
    fn from(u: &Uploaded) -> Upload {
        Upload {
            path: u.path.clone(),
            id: u.id.to_string(),
            outcome: u.outcome.to_string(),
            size: u.size,
            chunks_total: u.chunks_total,
            chunks_sent: u.chunks_sent,
            no_thumbnail: u.no_thumbnail.clone(),
        }
    }
}

/// An exported file.
#[derive(Serialize)]
pub struct Export {
    pub id: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

impl From<&Exported> for Export {
    fn from(e: &Exported) -> Export {
        Export {
            id: e.id.to_string(),
            path: e.path.clone(),
            size: e.size,
            sha256: hex::encode(e.sha256),
        }
    }
}

/// Each of `items` as JSON.
pub fn all<'a, T: 'a, J: From<&'a T>>(items: &'a [T]) -> Vec<J> {
    items.iter().map(J::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_client::records::instant;

    #[test]
    fn times_read_as_they_did_when_the_library_wrote_text() {
        assert_eq!(
            time(instant(1_700_000_000_123_456_789)),
            "2023-11-14T22:13:20Z"
        );
        let zoned = Taken {
            ms: 1_397_853_233_000,
            offset_min: Some(120),
        };
        assert_eq!(taken(&zoned), "2014-04-18T22:33:53+02:00");
        let wall = Taken {
            ms: 1_397_853_233_000,
            offset_min: None,
        };
        assert_eq!(taken(&wall), "2014-04-18T20:33:53");
        let absurd = Taken {
            ms: i64::MAX,
            offset_min: None,
        };
        assert_eq!(taken(&absurd), i64::MAX.to_string());
    }
}
