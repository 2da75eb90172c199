//! The activity log, in words.

use candid::Principal;
use chrono::{DateTime, Utc};
use vault_interface::types::{Activity, ActivityEntry, Target, UnlockMethod};

use crate::records::{bytes, instant, permission_text};
use crate::{Error, Vault};

/// One entry of the log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// Sequence number.
    pub seq: u64,
    /// When.
    pub time: DateTime<Utc>,
    /// Who (`aaaaa-aa`, the management canister, for the vault's own housekeeping).
    pub caller: Principal,
    /// What kind (the canister's variant name).
    pub kind: String,
    /// What happened.
    pub what: String,
}

/// `(kind, hex id)` of a target.
fn target_parts(target: &Target) -> (&'static str, String) {
    match target {
        Target::Album(id) => ("album", hex::encode(id)),
        Target::File(id) => ("file", hex::encode(id)),
    }
}

/// A time in a sentence of the log: RFC 3339, UTC.
fn time_ns(ns: u64) -> String {
    instant(ns).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn short(id: &[u8]) -> String {
    hex::encode(id).chars().take(12).collect()
}

fn method(m: &UnlockMethod) -> &'static str {
    match m {
        UnlockMethod::Passphrase => "passphrase",
        UnlockMethod::Recovery => "recovery key",
    }
}

/// `(kind, sentence)` for an activity.
pub fn describe(activity: &Activity) -> (&'static str, String) {
    match activity {
        Activity::VaultCreated => ("VaultCreated", "vault created".into()),
        Activity::SetUp => ("SetUp", "keys set up".into()),
        Activity::DeviceAdmitted { device, method: m } => (
            "DeviceAdmitted",
            format!("device {device} admitted with the {}", method(m)),
        ),
        Activity::DeviceRemoved { device } => ("DeviceRemoved", format!("device {device} removed")),
        Activity::PasskeyAdded { device, unlocks } => (
            "PasskeyAdded",
            if *unlocks {
                format!("passkey {device} added: it signs in and unlocks")
            } else {
                format!("passkey {device} added: it signs in (the passphrase still unlocks)")
            },
        ),
        Activity::DeviceRefused { method: m } => (
            "DeviceRefused",
            format!("a device was refused: wrong {}", method(m)),
        ),
        Activity::PassphraseChanged => ("PassphraseChanged", "passphrase changed".into()),
        Activity::RecoveryKeyChanged => ("RecoveryKeyChanged", "recovery key replaced".into()),
        Activity::UnlockFailuresCleared => (
            "UnlockFailuresCleared",
            "wrong-passphrase counts cleared".into(),
        ),
        Activity::MasterKeyRotated {
            generation,
            devices_signed_out,
        } => (
            "MasterKeyRotated",
            format!(
                "master key replaced (generation {generation}); {devices_signed_out} other \
                 device(s) signed out"
            ),
        ),
        Activity::QuotaSet { bytes: b } => ("QuotaSet", format!("quota set to {}", bytes(*b))),
        Activity::FileUploaded {
            file_id,
            album,
            size,
        } => (
            "FileUploaded",
            match album {
                Some(a) => format!(
                    "file {} uploaded ({}) into album {}",
                    short(file_id),
                    bytes(*size),
                    short(a)
                ),
                None => format!("file {} uploaded ({})", short(file_id), bytes(*size)),
            },
        ),
        Activity::UploadAborted { file_id } => (
            "UploadAborted",
            format!("upload of {} aborted", short(file_id)),
        ),
        Activity::UploadExpired { file_id } => (
            "UploadExpired",
            format!("upload of {} expired", short(file_id)),
        ),
        Activity::FileMoved { file_id, album } => (
            "FileMoved",
            match album {
                Some(a) => format!("file {} moved into album {}", short(file_id), short(a)),
                None => format!("file {} taken out of its album", short(file_id)),
            },
        ),
        Activity::FileTrashed { file_id } => {
            ("FileTrashed", format!("file {} trashed", short(file_id)))
        }
        Activity::FileRestored { file_id } => {
            ("FileRestored", format!("file {} restored", short(file_id)))
        }
        Activity::FilePurged { file_id } => {
            ("FilePurged", format!("file {} purged", short(file_id)))
        }
        Activity::AlbumCreated { album_id } => {
            ("AlbumCreated", format!("album {} created", short(album_id)))
        }
        Activity::AlbumRenamed { album_id } => {
            ("AlbumRenamed", format!("album {} renamed", short(album_id)))
        }
        Activity::AlbumDeleted { album_id } => {
            ("AlbumDeleted", format!("album {} deleted", short(album_id)))
        }
        Activity::AlbumKeyRotated { album_id, version } => (
            "AlbumKeyRotated",
            format!(
                "album {}'s key rotated to version {version}",
                short(album_id)
            ),
        ),
        Activity::Granted {
            target,
            grantee,
            permission,
            expires_at,
        } => {
            let (kind, id) = target_parts(target);
            (
                "Granted",
                format!(
                    "{kind} {} shared with {grantee} ({}){}",
                    &id[..12],
                    permission_text(*permission),
                    expires_at
                        .map(|t| format!(" until {}", time_ns(t)))
                        .unwrap_or_default()
                ),
            )
        }
        Activity::GrantRevoked { target, grantee } => {
            let (kind, id) = target_parts(target);
            (
                "GrantRevoked",
                format!("{grantee}'s access to {kind} {} revoked", &id[..12]),
            )
        }
        Activity::LinkCreated {
            token_hash,
            target,
            expires_at,
        } => {
            let (kind, id) = target_parts(target);
            (
                "LinkCreated",
                format!(
                    "link {} to {kind} {} created{}",
                    short(token_hash),
                    &id[..12],
                    expires_at
                        .map(|t| format!(", until {}", time_ns(t)))
                        .unwrap_or_default()
                ),
            )
        }
        Activity::LinkRevoked { token_hash } => {
            ("LinkRevoked", format!("link {} revoked", short(token_hash)))
        }
    }
}

fn entry(e: &ActivityEntry) -> LogEntry {
    let (kind, what) = describe(&e.activity);
    LogEntry {
        seq: e.seq,
        time: instant(e.time),
        caller: e.caller,
        kind: kind.into(),
        what,
    }
}

/// The newest entries of the activity log.
#[derive(Clone, Debug)]
pub struct ActivityLog {
    /// Newest first.
    pub entries: Vec<LogEntry>,
    /// Whether older entries exist beyond these.
    pub more: bool,
}

impl Vault {
    /// The newest `limit` entries of the activity log, newest first, and whether there are more.
    pub async fn log(&self, limit: u32) -> Result<ActivityLog, Error> {
        let mut entries = Vec::new();
        let mut before = None;
        let mut more = false;
        while entries.len() < limit as usize {
            let want = (limit as usize - entries.len()).min(500) as u32;
            let page = self.canister.activity(before, Some(want)).await?;
            entries.extend(page.entries.iter().map(entry));
            match page.next {
                Some(next) if !page.entries.is_empty() => {
                    before = Some(next);
                    more = true;
                }
                _ => {
                    more = false;
                    break;
                }
            }
        }
        more |= entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok(ActivityLog { entries, more })
    }
}
