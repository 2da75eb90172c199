//! The mapping between the session's domain types and the screens' model: photos, the
//! viewer's detail rows, grants and links, and times as people read them here.

use chrono::TimeZone;
use vault_client::records::{FileEntry, GrantEntry, Taken, bytes, permission_text};
use vault_client::session::LinkView;
use vault_client::sharing::{ShareTarget, now_ns};
use vault_client::types::FileInfo;
use vault_client::vault::hex_id;
use vault_client::{Error, FileView};
use vault_crypto::FileMetadata;
use vault_ui::model::{Grant, Link, Photo, Target};

pub(crate) fn share_target(target: &Target) -> Result<ShareTarget, Error> {
    Ok(match target {
        Target::Album(id) => ShareTarget::Album(hex_id(id)?),
        Target::Photo(id) => ShareTarget::File(hex_id(id)?),
    })
}

pub(crate) fn ui_target(target: ShareTarget) -> Target {
    match target {
        ShareTarget::Album(id) => Target::Album(hex::encode(id)),
        ShareTarget::File(id) => Target::Photo(hex::encode(id)),
    }
}

/// Nanoseconds since the epoch `days` from now.
pub(crate) fn expires_in(days: Option<u32>) -> Option<u64> {
    days.map(|d| now_ns().saturating_add(u64::from(d) * 86_400 * 1_000_000_000))
}

pub(crate) fn grant_record(grant: GrantEntry) -> Grant {
    Grant {
        target: ui_target(grant.target),
        name: grant.name,
        grantee: grant.grantee.to_text(),
        permission: permission_text(grant.permission).into(),
        expires: grant.expires_at.map(local_time),
        expired: grant.expired,
        told: None,
    }
}

pub(crate) fn link_record(view: LinkView) -> Link {
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
pub fn local_time(t: chrono::DateTime<chrono::Utc>) -> String {
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
pub fn taken_ms(info: &FileInfo, meta: &FileMetadata) -> i64 {
    match meta.taken_at {
        Some(ms) => Taken {
            ms,
            offset_min: meta.taken_offset_min,
        }
        .wall_clock_ms(),
        None => local_wall_ms(meta.modified_at.unwrap_or(info.sort_key)),
    }
}

/// A file as the timeline shows it.
pub fn photo(view: &FileView) -> Photo {
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
        duration_ms: meta.duration_ms,
        album: view.album().map(hex::encode),
    }
}

/// The viewer's information rows: what the file's record and metadata say.
pub fn detail_rows(entry: &FileEntry) -> Vec<(String, String)> {
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
        rows.push(("Duration", vault_ui::timeline::duration_text(ms)));
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

#[cfg(test)]
mod tests {
    use candid::Principal;
    use serde_bytes::ByteBuf;
    use vault_client::FileRef;

    use super::*;

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
