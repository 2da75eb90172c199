//! [`Screens`]: vault-client's [`Session`] answering in the screens' model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex as StdMutex;

use candid::Principal;
use futures_channel::mpsc::UnboundedSender;
use vault_client::platform::blocking;
use vault_client::records::permission_text;
use vault_client::session::UNLOCKED_FOR;
use vault_client::types::Permission;
use vault_client::upload::{
    FileSource, Pass, UploadOptions, UploadProgress, Uploaded, collect_files,
};
use vault_client::vault::{hex_id, parse_principal};
use vault_client::{Error, Listing, PageCursor, Passphrase, Session, VaultStatus, cost};
use vault_crypto::KdfParams;
use vault_ui::model::{
    Activity, Album, Device, Grant, Link, LinkRequest, Page, PendingUpload, Photo, PhotoDetails,
    Settings, ShareCode, SharedItem, SharedList, Status, Target, TopUp, UnreadableVault,
    UploadEvent,
};

use crate::records::{
    detail_rows, expires_in, grant_record, link_record, local_time, photo, share_target, ui_target,
};

/// Photos in one page of the timeline (the canister's largest page).
pub const PAGE: u32 = vault_client::limits::MAX_PAGE;
/// How long a passkey's signature lets the session act: as long as a browser's device key's.
pub const PASSKEY_SESSION: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
/// Entries of the activity log shown.
const ACTIVITY_ENTRIES: u32 = 200;

/// What one upload sends.
enum Batch {
    /// Files and folders on this machine.
    Paths(Vec<PathBuf>),
    /// Files a platform gives.
    Sources(Vec<Arc<dyn FileSource>>),
}

/// The session, answering the screens' questions in their model.
pub struct Screens {
    session: Session,
}

impl Screens {
    /// The screens over `session`.
    pub fn new(session: Session) -> Screens {
        Screens { session }
    }

    /// The session, for what a platform does itself (images, downloads).
    pub fn session(&self) -> &Session {
        &self.session
    }

    // ---- unlocking ---------------------------------------------------------------------

    pub(crate) async fn status(&self) -> Result<Status, Error> {
        Ok(match self.session.status().await? {
            VaultStatus::NoVault => Status::NoVault,
            VaultStatus::Locked => Status::Locked,
            VaultStatus::Unlocked => Status::Unlocked,
        })
    }

    /// Signs in with one of the vault's passkeys, for [`PASSKEY_SESSION`]; unlocks too when
    /// the passkey's PRF output opens the vault. Answers whether it did.
    pub(crate) async fn sign_in_with_passkey(
        &self,
        platform: &impl crate::Platform,
    ) -> Result<bool, Error> {
        let expiration =
            vault_client::sharing::now_ns().saturating_add(PASSKEY_SESSION.as_nanos() as u64);
        let (identity, answered) = self
            .session
            .passkey_identity(expiration, |request| platform.use_passkey(request))
            .await?;
        self.session.sign_in(identity).await;
        match &answered.prf {
            Some(output) => self.session.unlock_with_passkey(output).await,
            None => Ok(false),
        }
    }

    pub(crate) async fn create(&self, passphrase: String) -> Result<String, Error> {
        let words = self
            .session
            .create(None, &Passphrase::new(passphrase)?, KdfParams::DEFAULT)
            .await?;
        Ok(words.0.to_string())
    }

    pub(crate) async fn unlock(
        &self,
        named: Option<String>,
        passphrase: String,
    ) -> Result<(), Error> {
        let named = named.as_deref().map(parse_principal).transpose()?;
        self.session
            .unlock(named, &Passphrase::given(passphrase), Some(UNLOCKED_FOR))
            .await
    }

    pub(crate) async fn recover(
        &self,
        named: Option<String>,
        words: String,
        new_passphrase: String,
    ) -> Result<(), Error> {
        let new_passphrase = Passphrase::new(new_passphrase)?;
        let named = named.as_deref().map(parse_principal).transpose()?;
        self.session
            .recover(named, &words, &new_passphrase, KdfParams::DEFAULT)
            .await
    }

    pub(crate) async fn lock(&self) -> Result<(), Error> {
        self.session.lock().await.map(drop)
    }

    // ---- photos ------------------------------------------------------------------------

    pub(crate) async fn photos(
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

    pub(crate) async fn details(&self, id: String) -> Result<PhotoDetails, Error> {
        let view = self.session.details(&id.parse()?).await?;
        Ok(PhotoDetails {
            rows: detail_rows(&view.entry()?),
        })
    }

    pub(crate) async fn trash(&self, ids: Vec<String>, restore: bool) -> Result<(), Error> {
        let ids = hex_ids(&ids)?;
        if restore {
            self.session.restore(&ids).await
        } else {
            self.session.trash(&ids).await
        }
    }

    // ---- upload ------------------------------------------------------------------------

    /// Uploads `paths` (folders walked) into `album`, telling `events` as it goes (each file's
    /// failure as it happens), and last [`UploadEvent::Finished`] or the batch's own failure.
    pub async fn upload(
        &self,
        paths: Vec<PathBuf>,
        album: Option<String>,
        events: UnboundedSender<UploadEvent>,
    ) {
        self.upload_batch(Batch::Paths(paths), album, events).await
    }

    /// As [`Screens::upload`], of files the platform gives (a browser's `File`s).
    pub async fn upload_sources(
        &self,
        sources: Vec<Arc<dyn FileSource>>,
        album: Option<String>,
        events: UnboundedSender<UploadEvent>,
    ) {
        self.upload_batch(Batch::Sources(sources), album, events)
            .await
    }

    async fn upload_batch(
        &self,
        batch: Batch,
        album: Option<String>,
        events: UnboundedSender<UploadEvent>,
    ) {
        let last = match self.send_batch(batch, album, &events).await {
            Ok(()) => UploadEvent::Finished,
            Err(e) => UploadEvent::Failed(crate::ui_error(e).message),
        };
        let _ = events.unbounded_send(last);
    }

    async fn send_batch(
        &self,
        batch: Batch,
        album: Option<String>,
        events: &UnboundedSender<UploadEvent>,
    ) -> Result<(), Error> {
        // A vault of its own, so browsing goes on while it uploads.
        let mut uploader = self.session.fork().await?;
        let files = match &batch {
            Batch::Paths(paths) => {
                let paths = paths.clone();
                let collected = blocking(move || collect_files(&paths)).await?;
                // Entries that cannot be read are listed too: their failure shows on their row.
                let unreadable = collected.unreadable.into_iter().map(|(path, _)| (path, 0));
                collected
                    .files
                    .into_iter()
                    .chain(unreadable)
                    .collect::<Vec<_>>()
            }
            Batch::Sources(sources) => sources
                .iter()
                .map(|s| (PathBuf::from(s.name()), s.size()))
                .collect(),
        };
        let sizes = files.iter().cloned().collect();
        let _ = events.unbounded_send(UploadEvent::Begin { files });
        let progress = UploadTold {
            events: events.clone(),
            sizes,
            told: StdMutex::new(HashMap::new()),
        };
        let options = UploadOptions { album };
        let result = match batch {
            Batch::Paths(paths) => uploader.upload(&paths, &options, &progress).await,
            Batch::Sources(sources) => uploader.upload_sources(sources, &options, &progress).await,
        };
        // Album counts changed: the next listing reads them again.
        self.session.refresh().await;
        result.map(drop)
    }

    pub(crate) async fn pending_uploads(&self) -> Result<Vec<PendingUpload>, Error> {
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

    pub(crate) async fn abort_upload(&self, id: String) -> Result<(), Error> {
        self.session.abort_upload(&hex_id(&id)?).await
    }

    pub(crate) async fn remove_device(&self, principal: String) -> Result<(), Error> {
        let device = candid::Principal::from_text(principal.trim())
            .map_err(|_| Error::Invalid(format!("`{principal}` is not a device's id")))?;
        self.session.vault().await?.remove_device(device).await
    }

    // ---- albums ------------------------------------------------------------------------

    pub(crate) async fn albums(&self) -> Result<Vec<Album>, Error> {
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

    pub(crate) async fn create_album(&self, name: String) -> Result<Album, Error> {
        let entry = self.session.create_album(&name).await?;
        Ok(Album {
            id: entry.id.to_string(),
            name: entry.name,
            files: entry.files,
            cover: None,
        })
    }

    pub(crate) async fn add_to_album(&self, ids: Vec<String>, album: String) -> Result<(), Error> {
        self.session.add_to_album(&hex_ids(&ids)?, &album).await
    }

    // ---- sharing -----------------------------------------------------------------------

    pub(crate) async fn share_code(&self) -> Result<ShareCode, Error> {
        let code = self.session.share_code().await?;
        Ok(ShareCode {
            code: code.share_code,
            fingerprint: code.fingerprint,
            vault: self.session.vault_id().await?.to_text(),
        })
    }

    pub(crate) async fn check_share_code(&self, code: String) -> Result<String, Error> {
        self.session.check_share_code(&code).await
    }

    pub(crate) async fn share(
        &self,
        target: Target,
        code: String,
        expires_days: Option<u32>,
    ) -> Result<Grant, Error> {
        let (grant, told) = self
            .session
            .share(
                &share_target(&target)?,
                &code,
                Permission::View,
                expires_in(expires_days),
            )
            .await?;
        let vault = self.session.vault().await?.id();
        Ok(Grant {
            told: Some(told.sentence(&vault)),
            ..grant_record(grant)
        })
    }

    pub(crate) async fn grants(&self) -> Result<Vec<Grant>, Error> {
        Ok(self
            .session
            .grants()
            .await?
            .into_iter()
            .map(grant_record)
            .collect())
    }

    pub(crate) async fn revoke_grant(&self, target: Target, grantee: String) -> Result<(), Error> {
        self.session
            .revoke_grant(&share_target(&target)?, &grantee)
            .await
    }

    pub(crate) async fn create_link(
        &self,
        target: Target,
        request: LinkRequest,
    ) -> Result<Link, Error> {
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

    pub(crate) async fn links(&self) -> Result<Vec<Link>, Error> {
        Ok(self
            .session
            .links()
            .await?
            .into_iter()
            .map(link_record)
            .collect())
    }

    pub(crate) async fn revoke_link(&self, id: String) -> Result<(), Error> {
        self.session.revoke_link(&id).await.map(drop)
    }

    pub(crate) async fn shared_with_me(&self) -> Result<SharedList, Error> {
        let list = self.session.shared_with_me().await?;
        let items = list
            .entries
            .into_iter()
            .map(|entry| SharedItem {
                vault: entry.vault.to_text(),
                target: ui_target(entry.target),
                name: entry.name,
                permission: permission_text(entry.permission).into(),
                expires: entry.expires_at.map(local_time),
                new_from: entry.new_from.map(|p| p.to_text()),
            })
            .collect();
        Ok(SharedList {
            items,
            unreadable: list
                .unreadable
                .into_iter()
                .map(|u| UnreadableVault {
                    vault: u.vault.to_text(),
                    why: u.why,
                })
                .collect(),
        })
    }

    pub(crate) async fn add_shared_vault(&self, vault: String) -> Result<(), Error> {
        self.session
            .add_shared_vault(parse_principal(vault.trim())?)
            .await
    }

    pub(crate) async fn dismiss_shared_vault(&self, vault: String) -> Result<(), Error> {
        self.session
            .dismiss_shared_vault(parse_principal(vault.trim())?)
            .await
    }

    pub(crate) async fn shared_photos(
        &self,
        vault: String,
        target: Target,
    ) -> Result<Vec<Photo>, Error> {
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

    pub(crate) async fn activity(&self) -> Result<Vec<Activity>, Error> {
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

    /// What a new vault costs, for the Create screen.
    pub(crate) fn vault_price(&self) -> String {
        let t = vault_client::cycles::NEW_VAULT_CYCLES as f64 / 1e12;
        let usd = t * vault_client::ic_costs::USD_PER_T_CYCLES;
        if self.session.network().is_ic() {
            format!(
                "A vault costs {t:.1} T cycles (about ${usd:.2}): the IC's fee for a canister, and \
                 1 T for it to run on. They come from this device's account on the cycles ledger."
            )
        } else {
            format!(
                "On the IC a vault costs {t:.1} T cycles (about ${usd:.2}); on this machine's \
                 replica they are minted for you."
            )
        }
    }

    /// Tops the vault up from this identity's cycles ledger account, or with its ICP through
    /// the cycles minting canister (journaled in the session's store: a top-up stopped after
    /// paying is finished by the next, paying nothing twice).
    pub(crate) async fn top_up(&self, amount: TopUp) -> Result<String, Error> {
        let offered = match amount {
            TopUp::Cycles { t } => TopUp::CYCLES_T.contains(&t),
            TopUp::Icp { e8s } => TopUp::ICP.iter().any(|(offer, _)| *offer == e8s),
        };
        if !offered {
            return Err(Error::Invalid(format!(
                "{amount:?} is not an amount the app offers: choose one in the list"
            )));
        }
        let conn = self.session.connection().await?;
        conn.may_pay()?;
        let canister = self.session.vault_id().await?;
        Ok(match amount {
            TopUp::Cycles { t } => {
                let paid = conn
                    .top_up(
                        self.session.store(),
                        canister,
                        u128::from(t) * 1_000_000_000_000,
                    )
                    .await?;
                (
                    format!("Sent {} T cycles to your vault", paid.cycles as f64 / 1e12),
                    paid.earlier,
                )
            }
            TopUp::Icp { e8s } => {
                let paid = conn
                    .top_up_with_icp(self.session.store(), canister, e8s)
                    .await?;
                (
                    format!(
                        "Sent {:.3} T cycles to your vault, for {} ICP",
                        paid.cycles as f64 / 1e12,
                        vault_client::icp::icp_text(paid.e8s)
                    ),
                    paid.earlier,
                )
            }
        })
        .map(|(sent, earlier)| {
            if earlier {
                format!(
                    "{sent}: your earlier top-up, which had stopped, is done and nothing more was \
                     paid. Top up again for another."
                )
            } else {
                sent
            }
        })
    }

    pub(crate) async fn settings(&self) -> Result<Settings, Error> {
        let summary = self.session.summary().await?;
        let info = &summary.info;
        let costs = cost::costs(info.used_bytes);
        let conn = self.session.connection().await?;
        let (cycles, cycles_low) = match conn.funds(summary.canister).await {
            Ok(f) => (
                format!(
                    "{:.3} T cycles; it burns {:.4} T a day (${:.2} a month){}",
                    f.cycles as f64 / 1e12,
                    f.idle_burn_per_day as f64 / 1e12,
                    f.usd_per_month(),
                    if f.frozen() {
                        ": FROZEN, uploads are refused until it is topped up".to_string()
                    } else {
                        match f.days_left {
                            Some(d) if f.low() => format!(": about {d:.0} days left, top it up"),
                            Some(d) => format!(", about {d:.0} days before it freezes"),
                            None => String::new(),
                        }
                    }
                ),
                f.low(),
            ),
            // Only its controllers read its status: a browser (a device, not a controller) shows
            // what the vault says it holds.
            Err(_) => match info.cycles {
                Some(c) => (
                    format!(
                        "{:.3} T cycles, as the vault says (its burn: `vault status`, or the desktop app)",
                        c as f64 / 1e12
                    ),
                    false,
                ),
                None => ("unknown here: `vault status` shows them".into(), false),
            },
        };
        let can_pay = conn.can_pay();
        let wallet = if can_pay {
            conn.wallet().await.describe(self.session.network().is_ic())
        } else {
            "Top up from the desktop app or with `vault topup`, or send cycles or ICP to the vault \
             with any wallet: this browser's key reaches only your vault, not the ledgers."
                .into()
        };
        let (code, code_known) = match conn.verify(summary.canister).await {
            Ok(v) => (
                match (&v.release, v.runs_this_build, &v.module_hash) {
                    (_, _, None) => "no code installed".to_string(),
                    (Some(r), _, Some(h)) => format!("release {} ({h})", r.version),
                    (None, true, Some(h)) => format!("this app's own module ({h})"),
                    // A browser's page is served by the vault: it has no module, nor the release
                    // table, to compare with.
                    (None, false, Some(h)) if v.this_build.is_none() => format!(
                        "{h} (as the IC certifies it: docs/RELEASES.md lists the releases, and \
                         `vault verify` compares)"
                    ),
                    (None, false, Some(h)) => format!(
                        "NOT KNOWN: {h} is neither a published release nor this app's module"
                    ),
                },
                v.known(),
            ),
            Err(e) => (format!("unknown: {e}"), false),
        };
        Ok(Settings {
            network: summary.network,
            identity: summary.identity.to_text(),
            canister: summary.canister.to_text(),
            app_url: self.session.network().app_url(&summary.canister),
            files: info.files,
            stored_bytes: info.used_bytes,
            quota_bytes: (info.quota_bytes != 0 && info.quota_bytes != u64::MAX)
                .then_some(info.quota_bytes),
            cost: format!(
                "${:.4} a month on the Internet Computer for what is stored now (${:.3} per GiB a month; uploading costs ${:.3} per GiB)",
                costs.storage_usd_per_month, costs.usd_per_gib_month, costs.upload_usd_per_gib
            ),
            cycles,
            cycles_low,
            wallet,
            can_pay,
            code,
            code_known,
            devices: summary
                .devices
                .into_iter()
                .map(|d| Device {
                    principal: d.principal.to_text(),
                    about: format!(
                        "{}, added {}{}",
                        d.kind(),
                        local_time(d.added_at),
                        if d.this_device { ", this device" } else { "" }
                    ),
                    this_device: d.this_device,
                })
                .collect(),
        })
    }
}

/// The screens' hex ids as the vault's.
fn hex_ids(ids: &[String]) -> Result<Vec<[u8; 16]>, Error> {
    ids.iter().map(|id| hex_id(id)).collect()
}

/// Hands an upload's progress to the screens: the bytes sent (or found already there), so
/// that a file's advances add up to its size; the first pass (reading, hashing) is quick
/// beside it.
pub struct UploadTold {
    events: UnboundedSender<UploadEvent>,
    sizes: HashMap<PathBuf, u64>,
    /// Per file: bytes the screens were told.
    told: StdMutex<HashMap<PathBuf, u64>>,
}

impl UploadProgress for UploadTold {
    fn advance(&self, path: &Path, pass: Pass, bytes: u64) {
        if pass != Pass::Sent {
            return;
        }
        // Never past the file's size, whatever the pipeline says.
        let size = self.sizes.get(path).copied().unwrap_or(u64::MAX);
        let delta = {
            // A panic while held leaves the map whole (each change is one entry's add).
            let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI's bar is of bytes sent: reading a file moves it not at all, sending it moves it
    /// to the file's size and never past it.
    #[test]
    fn the_ui_hears_the_bytes_sent_up_to_the_size() {
        let (events, mut rx) = futures_channel::mpsc::unbounded();
        let path = PathBuf::from("/p/a.jpg");
        let progress = UploadTold {
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
}
