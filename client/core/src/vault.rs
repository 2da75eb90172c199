//! An unlocked vault: set-up, unlock, recovery, passphrase, albums, the timeline and the trash.
//! Upload is in `upload`, export in `export`, sharing in `sharing` and `links`.

use std::time::Duration;

use candid::Principal;
use serde_bytes::ByteBuf;
use vault_crypto::{
    AdmissionChallenge, AdmissionKey, AlbumId, AlbumKey, AlbumKeyId, FileId, FileMetadata,
    KdfParams, KeyWrapper, MasterGeneration, MasterKey, PassphraseWrappedKey, RecoveryKey,
    SharingKeyPair, SharingPublicKey, SharingSecretKey, UnlockParams, UnlockProof, WrappedKey,
};
use vault_interface::types::*;
use zeroize::Zeroizing;

use crate::error::Missing;
use crate::export::Reader;
use crate::keyring::{Keyring, MasterKeys, id16};
use crate::platform::{Store, StoreRef, blocking};
use crate::records::{
    AlbumEntry, DeviceEntry, FileEntry, PendingUploadEntry, album_id, file_id, instant,
};
use crate::settings::Settings;
use crate::{Connection, Error, Network, VaultCanister, pin, unlocked};

/// An unlocked vault of the connected identity.
pub struct Vault {
    /// Where the identity's sessions and pins are kept.
    store: StoreRef,
    pub(crate) conn: Connection,
    pub(crate) canister: VaultCanister,
    pub(crate) reader: Reader,
    albums: Option<Vec<AlbumInfo>>,
}

/// What is still shared from a vault: see [`Vault::still_shared`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StillShared {
    /// Links neither revoked nor expired.
    pub links: usize,
    /// Grants to people.
    pub grants: usize,
}

/// The vault canister this identity uses on `network`, from the settings (read without
/// reaching the network).
pub fn remembered_canister(
    store: &dyn Store,
    network: &Network,
) -> Result<Option<Principal>, Error> {
    let settings = Settings::load(store)?;
    settings
        .vaults
        .get(&network.name())
        .map(|text| {
            Principal::from_text(text).map_err(|e| {
                Error::Invalid(format!("the saved canister id `{text}` is not valid: {e}"))
            })
        })
        .transpose()
}

/// Remembers `id` as this identity's vault on the network (and the network as the default).
pub fn remember_canister(store: &dyn Store, conn: &Connection, id: Principal) -> Result<(), Error> {
    let mut settings = Settings::load(store)?;
    settings.vaults.insert(conn.network.name(), id.to_text());
    settings.network = Some(conn.network.name());
    settings.save(store)
}

/// The canister to use: the one named, else the remembered one.
pub fn resolve_canister(
    store: &dyn Store,
    conn: &Connection,
    named: Option<Principal>,
) -> Result<Principal, Error> {
    match named {
        Some(id) => Ok(id),
        None => remembered_canister(store, &conn.network)?.ok_or_else(|| Error::NoVault {
            network: conn.network.name(),
        }),
    }
}

/// Parses a principal the user typed.
pub fn parse_principal(text: &str) -> Result<Principal, Error> {
    Principal::from_text(text.trim())
        .map_err(|e| Error::Invalid(format!("`{text}` is not a canister id or principal: {e}")))
}

/// What `init` hands back: the recovery words, shown once.
pub struct RecoveryWords(pub Zeroizing<String>);

/// What a rotation of the master key did (`Vault::rotate_master_key`).
pub struct MasterKeyRotation {
    /// The new master key's generation.
    pub generation: u32,
    /// Devices signed out: they unlock again with the passphrase.
    pub devices_signed_out: u64,
    /// The new recovery key's words, to show once: the old words open nothing now.
    pub recovery_words: RecoveryWords,
}

/// What giving albums new keys after a rotation of the master key did.
#[derive(Debug, Default)]
pub struct AlbumRotations {
    /// Albums given a new key.
    pub rotated: usize,
    /// Albums whose rotation failed (name or id, and why): they are rotated the next time
    /// anything is added to them, or by running the rotation again.
    pub failed: Vec<(String, Error)>,
}

/// Reads the unlock params a vault answered with: refused below OWASP's floor (whoever
/// answered may be lying, to make the passphrase cheap to guess) and below what this device
/// pinned for `canister` when it last unlocked it. Returns them, and whether to pin them after
/// the unlock succeeds.
pub fn checked_unlock_params(
    store: &dyn Store,
    canister: &Principal,
    bytes: &[u8],
) -> Result<(UnlockParams, bool), Error> {
    let params = UnlockParams::from_bytes(bytes)
        .map_err(|e| Error::Integrity(format!("the vault's passphrase parameters: {e}")))?;
    let repin = pin::check(store, canister, params.params())?;
    Ok((params, repin))
}

/// What a new device sends to be admitted: the proof of `key` over the ticket's challenge for
/// a version-2 verifier, or an old vault's version-1 proof.
fn admission_proof(
    ticket: &AdmissionTicket,
    version: u8,
    key: &AdmissionKey,
    v1: impl FnOnce() -> UnlockProof,
    canister: &Principal,
    me: &Principal,
) -> Result<Vec<u8>, Error> {
    if version == 1 {
        return Ok(v1().expose_secret().to_vec());
    }
    let challenge = AdmissionChallenge {
        canister: canister.as_slice(),
        caller: me.as_slice(),
        counter: ticket.counter,
    };
    key.prove(&challenge)
        .map(|proof| proof.0.to_vec())
        .ok_or_else(|| Error::Invalid("a principal is longer than 29 bytes".into()))
}

impl Vault {
    /// Where this vault's sessions, pins and upload journals are kept.
    pub(crate) fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The connection it was opened on (network and identity).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The vault's canister id.
    pub fn id(&self) -> Principal {
        self.canister.id()
    }

    /// The canister's typed calls, for tools and tests that probe it; front ends use `Vault`'s
    /// and `Session`'s methods, which check what comes back.
    pub fn canister(&self) -> &VaultCanister {
        &self.canister
    }

    /// The files named by `ids`, as the canister lists them (owner).
    pub async fn file_infos(&self, ids: &[[u8; 16]]) -> Result<Vec<FileInfo>, Error> {
        let mut infos = Vec::with_capacity(ids.len());
        for id in ids {
            infos.push(self.canister.get_file(id, None).await?);
        }
        Ok(infos)
    }

    /// Sets the vault's quota (owner).
    pub async fn set_quota(&self, bytes: u64) -> Result<(), Error> {
        self.canister.set_quota(bytes).await
    }

    /// Who can still see something after a rotation of the master key: links still open and
    /// grants (which keep access, under the albums' new keys).
    pub async fn still_shared(&self) -> Result<StillShared, Error> {
        let now = crate::sharing::now_ns();
        let links = self
            .canister
            .list_links()
            .await?
            .iter()
            .filter(|l| l.revoked_at.is_none() && l.expires_at.is_none_or(|t| t > now))
            .count();
        let grants = self.canister.list_grants(None).await?.len();
        Ok(StillShared { links, grants })
    }

    /// Whether this vault is kept unlocked between runs (a live session).
    pub fn has_session(&self) -> bool {
        unlocked::load(self.store(), &self.canister.id(), &self.conn.me()).is_some()
    }

    fn new(
        store: &(impl Store + Clone + 'static),
        conn: Connection,
        canister: VaultCanister,
        master: MasterKeys,
    ) -> Vault {
        let reader = Reader::new(canister.clone(), Keyring::owner(master), None);
        Vault {
            store: std::sync::Arc::new(store.clone()),
            conn,
            canister,
            reader,
            albums: None,
        }
    }

    /// Creates (or takes the named, dfx-deployed) vault canister and sets up its keys under
    /// `passphrase`. Returns the vault, unlocked for `session`, and the recovery words.
    pub async fn init(
        store: &(impl Store + Clone + 'static),
        conn: Connection,
        existing: Option<Principal>,
        passphrase: &str,
        kdf: KdfParams,
        session: Duration,
    ) -> Result<(Vault, RecoveryWords), Error> {
        let remembered = remembered_canister(store, &conn.network)?;
        if let Some(id) = remembered
            && existing.is_none_or(|e| e == id)
        {
            let canister = conn.vault(id);
            if canister.vault_info().await.is_ok_and(|i| i.set_up) {
                return Err(Error::Vault(VaultError::AlreadySetUp));
            }
        }
        // A vault this device already has (bought by an attempt that stopped before `setup`)
        // is set up, not replaced by a new purchase; a named one (deployed with dfx or
        // icp-cli) is installed if empty.
        let canister = match existing.or(remembered) {
            Some(id) => match conn.ensure_installed(id).await {
                Ok(()) => conn.vault(id),
                // The remembered canister is gone (a local replica started afresh): the IC
                // said so in a certified reject.
                Err(Error::Rejected { code, .. }) if code == "IC0301" && existing.is_none() => {
                    conn.create_vault(store).await?
                }
                Err(e) => return Err(e),
            },
            None => conn.create_vault(store).await?,
        };
        remember_canister(store, &conn, canister.id())?;
        let mut rng = crate::rng();
        let master = MasterKeys::first(MasterKey::generate(&mut rng));
        let generation = master.generation();
        let (record, verifier) = {
            let master = master.current().clone();
            let passphrase = Zeroizing::new(passphrase.to_string());
            blocking(move || {
                PassphraseWrappedKey::wrap(&master, generation, &passphrase, kdf, &mut crate::rng())
            })
            .await
        };
        let recovery = RecoveryKey::generate(&mut rng);
        let pair = SharingKeyPair::generate(&mut rng);
        let args = SetupArgs {
            passphrase_record: ByteBuf::from(record.to_bytes()),
            passphrase_verifier: ByteBuf::from(verifier.0.to_vec()),
            recovery_wrapped_key: ByteBuf::from(
                recovery
                    .wrap_master(master.current(), generation, &mut rng)
                    .as_bytes()
                    .to_vec(),
            ),
            recovery_verifier: ByteBuf::from(recovery.admission_key().verifier().0.to_vec()),
            sharing_public_key: ByteBuf::from(pair.public.as_bytes().to_vec()),
            sharing_secret_wrapped: ByteBuf::from(
                master
                    .current()
                    .wrap_key(&pair.secret, &pair.public, &mut rng)
                    .as_bytes()
                    .to_vec(),
            ),
        };
        canister.setup(args).await?;
        // Set up: a purchase that bought it is done.
        conn.purchase_done(store)?;
        pin::save(store, &canister.id(), kdf)?;
        unlocked::save(store, &canister.id(), &conn.me(), &master, session)?;
        let words = RecoveryWords(recovery.to_words());
        Ok((Vault::new(store, conn, canister, master), words))
    }

    /// The vault unlocked by a live session (see `session`).
    pub fn from_session(
        store: &(impl Store + Clone + 'static),
        conn: Connection,
        canister: Principal,
    ) -> Result<Vault, Error> {
        let master = unlocked::load(store, &canister, &conn.me()).ok_or(Error::Locked)?;
        let canister = conn.vault(canister);
        Ok(Vault::new(store, conn, canister, master))
    }

    /// Unlocks with the passphrase (admitting this identity as a device of the owner if it is
    /// new), keeping it unlocked for `session` if given.
    pub async fn unlock(
        store: &(impl Store + Clone + 'static),
        conn: Connection,
        canister: Principal,
        passphrase: &str,
        session: Option<Duration>,
    ) -> Result<Vault, Error> {
        let canister = conn.vault(canister);
        // Certified: one node can neither claim this device is not admitted (to draw a proof
        // out of it) nor hand it weak parameters.
        let ticket = canister.admission_ticket().await?;
        let (params, repin) = checked_unlock_params(store, &canister.id(), &ticket.unlock_params)?;
        if !ticket.admitted
            && let Some(retry_after_ns) = ticket.retry_after_ns
        {
            return Err(Error::Vault(VaultError::RateLimited { retry_after_ns }));
        }
        let kek = crate::platform::derive_kek(params, passphrase).await;
        if !ticket.admitted {
            let proof = admission_proof(
                &ticket,
                ticket.passphrase_version,
                &kek.admission_key(),
                || kek.unlock_proof(),
                &canister.id(),
                &conn.me(),
            )?;
            match canister
                .admit_device(UnlockMethod::Passphrase, &proof, ticket.counter)
                .await
            {
                Ok(()) => {}
                Err(Error::Vault(VaultError::NotAuthorized)) => return Err(Error::WrongPassphrase),
                Err(e) => return Err(e),
            }
        }
        let profile = canister.profile().await?;
        let record = PassphraseWrappedKey::from_bytes(&profile.passphrase_record)
            .map_err(|e| Error::Integrity(format!("the vault's passphrase record: {e}")))?;
        // The generation comes from the certified ticket: a record of an earlier master key
        // (served again by one node) does not open as the current one.
        let generation = MasterGeneration(ticket.master_generation);
        let master = kek
            .unwrap_master(&record, generation)
            .map_err(|_| Error::WrongPassphrase)?;
        let master = MasterKeys::open_chain(master, generation, &profile.previous_masters)?;
        if ticket.passphrase_version == 1 {
            // An old vault: replace its replayable verifier with the admission key's, under
            // the certified params (the record is rebuilt, not taken from the query).
            let record = kek.wrap_master(&params, master.current(), generation, &mut crate::rng());
            canister
                .change_passphrase(&record.to_bytes(), &kek.admission_key().verifier().0)
                .await?;
        }
        if repin {
            pin::save(store, &canister.id(), params.params())?;
        }
        if let Some(duration) = session {
            unlocked::save(store, &canister.id(), &conn.me(), &master, duration)?;
        }
        remember_canister(store, &conn, canister.id())?;
        Ok(Vault::new(store, conn, canister, master))
    }

    /// Unlocks with the recovery words, then sets `new_passphrase`.
    pub async fn recover(
        store: &(impl Store + Clone + 'static),
        conn: Connection,
        canister: Principal,
        words: &str,
        new_passphrase: &str,
        kdf: KdfParams,
        session: Duration,
    ) -> Result<Vault, Error> {
        let recovery = RecoveryKey::from_words(words).map_err(|e| {
            Error::Invalid(format!(
                "recovery key: {e}: give the 24 words shown when the vault was created"
            ))
        })?;
        let canister = conn.vault(canister);
        let ticket = canister.admission_ticket().await?;
        if !ticket.admitted {
            let proof = admission_proof(
                &ticket,
                ticket.recovery_version,
                &recovery.admission_key(),
                || recovery.unlock_proof(),
                &canister.id(),
                &conn.me(),
            )?;
            match canister
                .admit_device(UnlockMethod::Recovery, &proof, ticket.counter)
                .await
            {
                Ok(()) => {}
                Err(Error::Vault(VaultError::NotAuthorized)) => {
                    return Err(Error::WrongRecoveryKey);
                }
                Err(e) => return Err(e),
            }
        }
        let profile = canister.profile().await?;
        let wrapped = WrappedKey::from_bytes(&profile.recovery_wrapped_key)
            .map_err(|e| Error::Integrity(format!("the vault's recovery record: {e}")))?;
        let generation = MasterGeneration(ticket.master_generation);
        let master = recovery
            .unwrap_master(&wrapped, generation)
            .map_err(|_| Error::WrongRecoveryKey)?;
        let master = MasterKeys::open_chain(master, generation, &profile.previous_masters)?;
        if ticket.recovery_version == 1 {
            // An old vault: the same wrapping (it just opened), the admission key's verifier.
            canister
                .change_recovery(wrapped.as_bytes(), &recovery.admission_key().verifier().0)
                .await?;
        }
        remember_canister(store, &conn, canister.id())?;
        let vault = Vault::new(store, conn, canister, master);
        vault.change_passphrase(new_passphrase, kdf).await?;
        unlocked::save(
            store,
            &vault.canister.id(),
            &vault.conn.me(),
            vault.masters(),
            session,
        )?;
        Ok(vault)
    }

    /// Replaces the passphrase (the master key stays: nothing is re-encrypted).
    pub async fn change_passphrase(
        &self,
        new_passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(), Error> {
        let (record, verifier) = {
            let master = self.master().clone();
            let generation = self.masters().generation();
            let passphrase = Zeroizing::new(new_passphrase.to_string());
            blocking(move || {
                PassphraseWrappedKey::wrap(&master, generation, &passphrase, kdf, &mut crate::rng())
            })
            .await
        };
        self.canister
            .change_passphrase(&record.to_bytes(), &verifier.0)
            .await?;
        pin::save(&self.store, &self.canister.id(), kdf)
    }

    /// Replaces the recovery key: new words (returned, to show once), the old ones stop
    /// opening the vault. The master key stays, so nothing is re-encrypted.
    pub async fn rotate_recovery_key(&self) -> Result<RecoveryWords, Error> {
        let mut rng = crate::rng();
        let recovery = RecoveryKey::generate(&mut rng);
        let wrapped = recovery.wrap_master(self.master(), self.masters().generation(), &mut rng);
        self.canister
            .change_recovery(wrapped.as_bytes(), &recovery.admission_key().verifier().0)
            .await?;
        Ok(RecoveryWords(recovery.to_words()))
    }

    /// Replaces the master key (docs/FORMAT.md §3), for when a device that held it is lost or
    /// removed: nothing wrapped from now on opens with the old key. `passphrase` is checked
    /// against the vault's record first, then wraps the new key (fresh salt, the pinned
    /// parameters). A new recovery key is made (its words are returned, to show once; the old
    /// words stop working). The old key is kept wrapped under the new one, so every photo
    /// still opens and nothing is uploaded again. Every other device is signed out and
    /// unlocks again with the passphrase. This device's session (if `session`) holds the new
    /// keys. Then give the albums new keys: [`Vault::rotate_album_keys`].
    pub async fn rotate_master_key(
        &mut self,
        passphrase: &str,
        session: Option<Duration>,
    ) -> Result<MasterKeyRotation, Error> {
        let generation = self.masters().generation();
        // Certified: the generation, and the parameters the new record is made with.
        let ticket = self.canister.admission_ticket().await?;
        if ticket.master_generation != generation.0 {
            return Err(Error::Vault(VaultError::conflict(
                "the master key was rotated on another device since this one unlocked: \
                 unlock again",
            )));
        }
        let (params, _) =
            checked_unlock_params(&self.store, &self.canister.id(), &ticket.unlock_params)?;
        let profile = self.canister.profile().await?;
        let record = PassphraseWrappedKey::from_bytes(&profile.passphrase_record)
            .map_err(|e| Error::Integrity(format!("the vault's passphrase record: {e}")))?;
        let next = generation
            .next()
            .ok_or_else(|| Error::Invalid("no generation after this one".into()))?;
        let new = MasterKey::generate(&mut crate::rng());
        let (kek, (new_record, verifier)) = {
            let passphrase = Zeroizing::new(passphrase.to_string());
            let new = new.clone();
            let kdf = params.params();
            blocking(move || {
                let kek = params.derive(&passphrase);
                let made =
                    PassphraseWrappedKey::wrap(&new, next, &passphrase, kdf, &mut crate::rng());
                (kek, made)
            })
            .await
        };
        let opened = kek
            .unwrap_master(&record, generation)
            .map_err(|_| Error::WrongPassphrase)?;
        if opened.expose_secret() != self.master().expose_secret() {
            return Err(Error::WrongPassphrase);
        }
        // The canister asks for the passphrase's proof too: a device alone cannot rotate.
        let proof = admission_proof(
            &ticket,
            ticket.passphrase_version,
            &kek.admission_key(),
            || kek.unlock_proof(),
            &self.canister.id(),
            &self.conn.me(),
        )?;
        let (secret, public) = self.sharing_keys().await?;
        if secret.public_key() != public {
            return Err(Error::Integrity(
                "the vault's sharing secret is not the pair of its published key: the answer \
                 may have been altered; nothing was changed. Try again"
                    .into(),
            ));
        }
        let mut rng = crate::rng();
        let recovery = RecoveryKey::generate(&mut rng);
        let sent = self
            .canister
            .rotate_master_key(RotateMasterKeyArgs {
                generation: next.0,
                proof: ByteBuf::from(proof),
                sharing_public_key: ByteBuf::from(public.as_bytes().to_vec()),
                passphrase_record: ByteBuf::from(new_record.to_bytes()),
                passphrase_verifier: ByteBuf::from(verifier.0.to_vec()),
                recovery_wrapped_key: ByteBuf::from(
                    recovery
                        .wrap_master(&new, next, &mut rng)
                        .as_bytes()
                        .to_vec(),
                ),
                recovery_verifier: ByteBuf::from(recovery.admission_key().verifier().0.to_vec()),
                sharing_secret_wrapped: ByteBuf::from(
                    new.wrap_key(&secret, &public, &mut rng).as_bytes().to_vec(),
                ),
                previous_master_wrapped: ByteBuf::from(
                    new.wrap_key(self.master(), &generation, &mut rng)
                        .as_bytes()
                        .to_vec(),
                ),
            })
            .await;
        let done = match sent {
            Ok(done) => done,
            Err(e) => {
                // The answer may be lost while the rotation took place: the certified ticket
                // tells. If it did, the new key (only in this process) must not be lost.
                match self.canister.admission_ticket().await {
                    Ok(t) if t.master_generation == next.0 => MasterKeyRotated {
                        generation: next.0,
                        devices_signed_out: 0,
                    },
                    _ => return Err(e),
                }
            }
        };
        let keys = self.masters().rotated(new);
        self.reader.keys = Keyring::owner(keys.clone());
        self.refresh();
        unlocked::forget(&self.store, &self.canister.id(), &self.conn.me());
        if let Some(duration) = session {
            unlocked::save(
                &self.store,
                &self.canister.id(),
                &self.conn.me(),
                &keys,
                duration,
            )?;
        }
        Ok(MasterKeyRotation {
            generation: done.generation,
            devices_signed_out: done.devices_signed_out,
            recovery_words: RecoveryWords(recovery.to_words()),
        })
    }

    /// Gives a new key to every album whose current key was made before the master key's
    /// last rotation (it opens only under an earlier master key, so a removed device may hold
    /// it), sealed to the album's grantees and wrapped for its live links: photos added from
    /// now on are under keys the removed device never had. `progress` is told each album done.
    /// An album that fails is listed and left for the next run (or the next upload to it).
    pub async fn rotate_album_keys(
        &mut self,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<AlbumRotations, Error> {
        // Certified: one node cannot hide an album from the rotation.
        let albums = self.canister.list_albums_certified().await?;
        self.keep_albums(albums.clone())?;
        let stale: Vec<_> = albums
            .iter()
            .filter(|a| id16(&a.id).is_ok_and(|id| self.reader.keys.is_stale(&id, a.key_version)))
            .collect();
        let mut out = AlbumRotations::default();
        for (done, album) in stale.iter().enumerate() {
            let id = id16(&album.id)?;
            match self.rotate_album_key(&id, &[]).await {
                Ok(()) => out.rotated += 1,
                Err(e) => {
                    let name = self
                        .album_entry(album)
                        .map(|a| a.name)
                        .unwrap_or_else(|_| hex::encode(id));
                    out.failed.push((name, e));
                }
            }
            progress(done + 1, stale.len());
        }
        Ok(out)
    }

    /// Forgets every caller's wrong passphrase attempts, so that a new device of the owner's
    /// locked out by its own typos may try again at once. Returns how many callers were
    /// counted.
    pub async fn clear_unlock_failures(&self) -> Result<u64, Error> {
        self.canister.clear_unlock_failures().await
    }

    /// The owner's devices: identities admitted with the passphrase or recovery key.
    pub async fn devices(&self) -> Result<Vec<DeviceEntry>, Error> {
        Ok(self
            .canister
            .devices()
            .await?
            .into_iter()
            .map(|d| DeviceEntry {
                principal: d.principal,
                added_at: instant(d.added_at),
                this_device: d.principal == self.conn.me(),
                passkey: d.passkey.map(|p| p.unlocks),
            })
            .collect())
    }

    /// Admits the passkey an authenticator just made as one of the owner's devices; when the
    /// authenticator gave a PRF output, the passkey unlocks the vault too (the current master
    /// key wrapped under it, docs/FORMAT.md §7.1). Answers whether it unlocks.
    pub async fn add_passkey(&self, made: &crate::passkey::Registration) -> Result<bool, Error> {
        let public_key = made.public_key()?;
        let unlock = made.prf.as_ref().map(|output| {
            let masters = self.masters();
            vault_crypto::PasskeyKey::from_prf_output(output).wrap_master(
                masters.current(),
                masters.generation(),
                &mut crate::rng(),
            )
        });
        let unlocks = unlock.is_some();
        self.canister
            .add_passkey(AddPasskeyArgs {
                credential_id: ByteBuf::from(made.credential_id.clone()),
                public_key: ByteBuf::from(public_key),
                unlock: unlock.map(|u| ByteBuf::from(u.as_bytes().to_vec())),
            })
            .await?;
        Ok(unlocks)
    }

    /// The credential ids of the vault's passkeys.
    pub async fn passkeys(&self) -> Result<Vec<Vec<u8>>, Error> {
        Ok(self
            .canister
            .devices()
            .await?
            .into_iter()
            .filter_map(|d| d.passkey.map(|p| p.credential_id.into_vec()))
            .collect())
    }

    /// Unlocks as the passkey `conn` signs with, with its PRF output: no passphrase. `None`
    /// when the passkey was added without one; refused when it is no longer one of the
    /// owner's devices.
    pub async fn unlock_with_passkey(
        store: &(impl Store + Clone + 'static),
        conn: Connection,
        canister: Principal,
        prf_output: &[u8; 32],
    ) -> Result<Option<Vault>, Error> {
        let canister = conn.vault(canister);
        // Certified: the generation the wrapping must be of, and that the passkey is admitted.
        let ticket = canister.admission_ticket().await?;
        if !ticket.admitted {
            return Err(Error::Invalid(
                "this passkey is no longer one of the vault's devices (it was removed, or the \
                 master key was replaced): unlock with your passphrase, then add it again"
                    .into(),
            ));
        }
        let profile = canister.profile().await?;
        let Some(wrapped) = profile.passkey_unlock else {
            return Ok(None);
        };
        let wrapped = vault_crypto::WrappedKey::from_bytes(&wrapped)
            .map_err(|e| Error::Integrity(format!("the passkey's wrapped key: {e}")))?;
        let generation = MasterGeneration(ticket.master_generation);
        let master = vault_crypto::PasskeyKey::from_prf_output(prf_output)
            .unwrap_master(&wrapped, generation)
            .map_err(|_| {
                Error::Integrity(
                    "the passkey's wrapped key does not open with what the passkey answered: \
                     unlock with your passphrase"
                        .into(),
                )
            })?;
        let master = MasterKeys::open_chain(master, generation, &profile.previous_masters)?;
        remember_canister(store, &conn, canister.id())?;
        Ok(Some(Vault::new(store, conn, canister, master)))
    }

    /// Removes a device: it can no longer act as the owner (its unlocked key, if it kept one,
    /// opens nothing it can still fetch).
    pub async fn remove_device(&self, device: Principal) -> Result<(), Error> {
        self.canister.remove_device(device).await
    }

    /// Every upload in progress (owner): the owner's, its devices' and contributors', with
    /// what each holds against the quota until it is committed, aborted or expires.
    pub async fn pending_uploads(&mut self) -> Result<Vec<PendingUploadEntry>, Error> {
        let mut uploads = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .canister
                .list_uploads(ListUploadsArgs {
                    after,
                    limit: Some(vault_interface::limits::MAX_UPLOADS_PAGE),
                })
                .await?;
            uploads.extend(page.uploads);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let album_names: std::collections::BTreeMap<AlbumId, String> =
            if uploads.iter().any(|u| u.album.is_some()) {
                self.albums()
                    .await?
                    .into_iter()
                    .map(|a| (a.id, a.name))
                    .collect()
            } else {
                Default::default()
            };
        let me = self.conn.me();
        uploads
            .into_iter()
            .map(|u| {
                let album = u.album.as_deref().map(|a| album_id(a)).transpose()?;
                Ok(PendingUploadEntry {
                    id: file_id(&u.file_id)?,
                    uploader: u.uploader,
                    mine: u.uploader == me,
                    album_name: album.and_then(|a| album_names.get(&a).cloned()),
                    album,
                    size: u.size,
                    reserved_bytes: u.reserved_bytes,
                    chunks_received: u.chunk_count.saturating_sub(u.missing_count),
                    chunk_count: u.chunk_count,
                    started_at: instant(u.started_at),
                    expires_at: instant(u.expires_at),
                })
            })
            .collect()
    }

    /// Stops an upload in progress, anyone's (owner): what it sent is deleted and what it
    /// reserved returns to the quota at once.
    pub async fn abort_upload(&self, id: &[u8; 16]) -> Result<(), Error> {
        self.canister.abort_upload(id).await
    }

    /// Another handle on this unlocked vault (same connection and keys, its own caches), for
    /// work that runs alongside this one: the app uploads with one while browsing with another.
    pub fn fork(&self) -> Vault {
        Vault::new(
            &self.store,
            self.conn.clone(),
            self.canister.clone(),
            self.masters().clone(),
        )
    }

    /// Forgets the unlocked key on this machine.
    pub fn lock(&self) -> bool {
        unlocked::forget(&self.store, &self.canister.id(), &self.conn.me())
    }

    /// The current master key: everything new is wrapped under it.
    pub fn master(&self) -> &MasterKey {
        self.masters().current()
    }

    /// The master keys: the current one and those of earlier generations.
    pub fn masters(&self) -> &MasterKeys {
        self.reader
            .keys
            .masters()
            .expect("an owner's vault holds its master key")
    }

    /// The sharing key pair (its secret unwrapped from the profile).
    pub async fn sharing_keys(&self) -> Result<(SharingSecretKey, SharingPublicKey), Error> {
        let profile = self.canister.profile().await?;
        let public = SharingPublicKey::from_bytes(&profile.sharing_public_key)
            .map_err(|_| Error::Integrity("the vault's sharing key is damaged".into()))?;
        let wrapped = WrappedKey::from_bytes(&profile.sharing_secret_wrapped)
            .map_err(|_| Error::Integrity("the vault's sharing secret is damaged".into()))?;
        let secret: SharingSecretKey =
            self.master().unwrap_key(&wrapped, &public).map_err(|_| {
                Error::Integrity("the sharing secret does not open with the master key".into())
            })?;
        Ok((secret, public))
    }

    /// Reads the vault's files with the owner's keys.
    pub fn reader(&mut self) -> &mut Reader {
        &mut self.reader
    }

    // ---- albums -------------------------------------------------------------------------

    /// Every album, with its keys unwrapped into the keyring.
    pub async fn load_albums(&mut self) -> Result<&[AlbumInfo], Error> {
        if self.albums.is_none() {
            let albums = self.canister.list_albums().await?;
            self.keep_albums(albums)?;
        }
        Ok(self.albums.as_deref().expect("just loaded"))
    }

    /// Keeps `albums` as the cached listing, their keys unwrapped into the keyring.
    fn keep_albums(&mut self, albums: Vec<AlbumInfo>) -> Result<(), Error> {
        for album in &albums {
            let id = id16(&album.id)?;
            for (version, wrapped) in &album.wrapped_keys {
                self.reader
                    .keys
                    .add_wrapped_album_key(id, *version, wrapped)?;
            }
        }
        self.albums = Some(albums);
        Ok(())
    }

    fn album_entry(&self, album: &AlbumInfo) -> Result<AlbumEntry, Error> {
        let id = album_id(&album.id)?;
        Ok(AlbumEntry {
            id,
            name: self
                .reader
                .keys
                .album_name(&id.0, &album.name)
                .unwrap_or_else(|| "(name unreadable)".into()),
            files: album.file_count,
            key_version: album.key_version,
            created_at: instant(album.created_at),
        })
    }

    /// The albums, decrypted, by name.
    pub async fn albums(&mut self) -> Result<Vec<AlbumEntry>, Error> {
        self.load_albums().await?;
        let mut entries = self
            .albums
            .as_deref()
            .expect("loaded")
            .iter()
            .map(|a| self.album_entry(a))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(entries)
    }

    /// The album named `name` (exactly), or whose id starts with `name` (hex).
    pub async fn find_album(&mut self, name: &str) -> Result<AlbumEntry, Error> {
        let albums = self.albums().await?;
        let by_name: Vec<_> = albums.iter().filter(|a| a.name == name).collect();
        if let [one] = by_name.as_slice() {
            return Ok((*one).clone());
        }
        if by_name.len() > 1 {
            return Err(Error::Invalid(format!(
                "{} albums are named `{name}`: name one by its id ({})",
                by_name.len(),
                by_name
                    .iter()
                    .map(|a| a.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let lower = name.to_ascii_lowercase();
        let by_id: Vec<_> = albums
            .iter()
            .filter(|a| lower.len() >= 4 && a.id.to_string().starts_with(&lower))
            .collect();
        match by_id.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::NoSuch(Missing::Album(name.to_string()))),
            _ => Err(Error::Invalid(format!(
                "`{name}` matches several albums: give more of the id"
            ))),
        }
    }

    /// Creates an album.
    pub async fn create_album(&mut self, name: &str) -> Result<AlbumEntry, Error> {
        check_album_name(name)?;
        if self.albums().await?.iter().any(|a| a.name == name) {
            return Err(Error::Invalid(format!(
                "an album named `{name}` exists already: pick another name"
            )));
        }
        let mut rng = crate::rng();
        let id = AlbumId::generate(&mut rng);
        let key = AlbumKey::generate(&mut rng);
        let wrapped = self.master().wrap_key(
            &key,
            &AlbumKeyId {
                album: id,
                version: 0,
            },
            &mut rng,
        );
        let info = self
            .canister
            .create_album(CreateAlbumArgs {
                album_id: ByteBuf::from(id.0.to_vec()),
                name: ByteBuf::from(vault_crypto::seal_album_name(&key, name, &mut rng)),
                wrapped_key: ByteBuf::from(wrapped.as_bytes().to_vec()),
            })
            .await?;
        self.albums = None;
        self.reader.keys.add_album_key(id.0, 0, key);
        self.album_entry(&info)
    }

    /// Renames an album (sealed under its current key).
    pub async fn rename_album(&mut self, album: &str, new_name: &str) -> Result<AlbumEntry, Error> {
        check_album_name(new_name)?;
        let entry = self.find_album(album).await?;
        let id = entry.id.0;
        let key = self.current_album_key(&id).await?.1.clone();
        let sealed = vault_crypto::seal_album_name(&key, new_name, &mut crate::rng());
        self.canister.rename_album(&id, sealed).await?;
        self.albums = None;
        Ok(AlbumEntry {
            name: new_name.to_string(),
            ..entry
        })
    }

    /// Deletes an empty album.
    pub async fn delete_album(&mut self, album: &str) -> Result<AlbumEntry, Error> {
        let entry = self.find_album(album).await?;
        self.canister.delete_album(&entry.id.0).await?;
        self.albums = None;
        Ok(entry)
    }

    /// An album's current key and version, to wrap something new under. A key made before the
    /// master key's last rotation is replaced first (the album rotated), so nothing new is
    /// wrapped under a key a removed device may hold.
    pub async fn current_album_key(&mut self, album: &[u8; 16]) -> Result<(u32, &AlbumKey), Error> {
        let (version, _) = self.listed_album_key(album).await?;
        if self.reader.keys.is_stale(album, version) {
            self.rotate_album_key(album, &[]).await?;
        }
        self.listed_album_key(album).await
    }

    /// An album's key and version as the album lists them.
    pub(crate) async fn listed_album_key(
        &mut self,
        album: &[u8; 16],
    ) -> Result<(u32, &AlbumKey), Error> {
        self.load_albums().await?;
        let version = self
            .albums
            .as_deref()
            .expect("loaded")
            .iter()
            .find(|a| a.id.as_slice() == album)
            .map(|a| a.key_version)
            .ok_or_else(|| Error::NotFound("no such album".into()))?;
        let key = self
            .reader
            .keys
            .album_key(album, version)
            .ok_or_else(|| Error::Integrity("the album's current key is missing".into()))?;
        Ok((version, key))
    }

    /// Forgets cached albums (after another change).
    pub fn refresh(&mut self) {
        self.albums = None;
    }

    /// Moves files into `album` (or out of any album with `None`): the file keys re-wrapped
    /// under the album's current key.
    pub async fn move_files(
        &mut self,
        ids: &[[u8; 16]],
        album: Option<&str>,
    ) -> Result<Vec<FileEntry>, Error> {
        let destination = match album {
            Some(name) => {
                let id = self.find_album(name).await?.id.0;
                let (version, key) = self.current_album_key(&id).await?;
                Some((id, version, key.clone()))
            }
            None => None,
        };
        self.load_albums().await?;
        let mut moved = Vec::new();
        for id in ids {
            let info = self.canister.get_file(id, None).await?;
            let file_key = self.reader.keys.file_key(&info)?;
            let mut rng = crate::rng();
            let (album, version, wrapped) = match &destination {
                Some((album, version, key)) => (
                    Some(ByteBuf::from(album.to_vec())),
                    *version,
                    key.wrap_key(&file_key, &FileId(*id), &mut rng),
                ),
                None => (
                    None,
                    0,
                    self.master().wrap_key(&file_key, &FileId(*id), &mut rng),
                ),
            };
            let info = self
                .canister
                .move_file(MoveFileArgs {
                    file_id: ByteBuf::from(id.to_vec()),
                    album,
                    wrapped_key: ByteBuf::from(wrapped.as_bytes().to_vec()),
                    key_version: version,
                })
                .await?;
            moved.push(self.reader.entry(&info)?);
        }
        self.albums = None;
        Ok(moved)
    }

    // ---- files --------------------------------------------------------------------------

    /// The timeline (or an album, or the trash), newest first, decrypted.
    pub async fn list(
        &mut self,
        album: Option<&str>,
        trashed: bool,
    ) -> Result<Vec<FileEntry>, Error> {
        self.load_albums().await?;
        let album = match album {
            Some(name) => Some(self.find_album(name).await?.id.0),
            None => None,
        };
        self.reader.list(album, trashed).await
    }

    /// Resolves ids or unique id prefixes (4+ hex digits) of files (trashed ones included).
    pub async fn resolve_files(&mut self, ids: &[String]) -> Result<Vec<[u8; 16]>, Error> {
        let mut all: Option<Vec<FileEntry>> = None;
        let mut out = Vec::new();
        for text in ids {
            let lower = text.trim().to_ascii_lowercase();
            if lower.len() == 32 {
                out.push(hex_id(&lower)?);
                continue;
            }
            if lower.len() < 4 || !lower.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(Error::Invalid(format!(
                    "`{text}` is not a file id: give its id or at least 4 of its first hex digits"
                )));
            }
            if all.is_none() {
                let mut files = self.list(None, false).await?;
                files.extend(self.list(None, true).await?);
                all = Some(files);
            }
            let matches: Vec<_> = all
                .as_ref()
                .expect("listed")
                .iter()
                .filter(|f| f.id.to_string().starts_with(&lower))
                .collect();
            match matches.as_slice() {
                [one] => out.push(one.id.0),
                [] => {
                    return Err(Error::NoSuch(Missing::File(text.to_string())));
                }
                _ => {
                    return Err(Error::Invalid(format!(
                        "`{text}` matches several files: give more of the id"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// One file, decrypted.
    pub async fn show(&mut self, id: &[u8; 16]) -> Result<(FileEntry, FileMetadata), Error> {
        self.load_albums().await?;
        let info = self.canister.get_file(id, None).await?;
        let meta = self.reader.metadata(&info)?;
        Ok((FileEntry::new(&info, &meta)?, meta))
    }

    /// Moves files to the trash.
    pub async fn trash(&self, ids: &[[u8; 16]]) -> Result<(), Error> {
        for batch in ids.chunks(vault_interface::limits::MAX_BATCH) {
            self.canister
                .trash(batch.iter().map(|i| ByteBuf::from(i.to_vec())).collect())
                .await?;
        }
        Ok(())
    }

    /// Restores files from the trash.
    pub async fn restore(&self, ids: &[[u8; 16]]) -> Result<(), Error> {
        for batch in ids.chunks(vault_interface::limits::MAX_BATCH) {
            self.canister
                .restore(batch.iter().map(|i| ByteBuf::from(i.to_vec())).collect())
                .await?;
        }
        Ok(())
    }

    /// Deletes trashed files for good (their space is freed at once).
    pub async fn purge(&self, ids: &[[u8; 16]]) -> Result<(), Error> {
        for batch in ids.chunks(vault_interface::limits::MAX_BATCH) {
            self.canister
                .purge(batch.iter().map(|i| ByteBuf::from(i.to_vec())).collect())
                .await?;
        }
        Ok(())
    }
}

fn check_album_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.len() > 512 {
        return Err(Error::Invalid(
            "an album name is 1 to 512 bytes of text".into(),
        ));
    }
    Ok(())
}

/// A 16-byte id from 32 hex digits.
pub fn hex_id(text: &str) -> Result<[u8; 16], Error> {
    let bytes = hex::decode(text.trim())
        .map_err(|_| Error::Invalid(format!("`{text}` is not a hex id")))?;
    bytes
        .try_into()
        .map_err(|_| Error::Invalid(format!("`{text}` is not a 32-digit hex id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canister() -> Principal {
        Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    }

    /// Finding 16.1: the client took any parameters under the ceilings from the uncertified
    /// `unlock_params` answer. Here a lying node answers with m = 8 KiB, t = 1.
    #[test]
    fn downgraded_unlock_params_are_refused() {
        let home = crate::platform::MemoryStore::default();
        let honest = UnlockParams::generate(KdfParams::DEFAULT, &mut crate::rng()).to_bytes();
        let mut lie = honest;
        lie[2..6].copy_from_slice(&8u32.to_be_bytes());
        lie[6..10].copy_from_slice(&1u32.to_be_bytes());
        let refused = checked_unlock_params(&home, &canister(), &lie).unwrap_err();
        assert!(
            matches!(&refused, Error::Integrity(m) if m.contains("weaker than the minimum")),
            "{refused}"
        );
        // At the floor it is accepted by a device that never unlocked this vault, but not by
        // one that pinned the vault's stronger parameters.
        let floor = UnlockParams::generate(KdfParams::MINIMUM, &mut crate::rng()).to_bytes();
        assert!(checked_unlock_params(&home, &canister(), &floor).unwrap().1);
        let (params, repin) = checked_unlock_params(&home, &canister(), &honest).unwrap();
        assert!(repin);
        pin::save(&home, &canister(), params.params()).unwrap();
        let refused = checked_unlock_params(&home, &canister(), &floor).unwrap_err();
        assert!(
            refused.to_string().contains("weaker passphrase hashing"),
            "{refused}"
        );
        assert!(
            !checked_unlock_params(&home, &canister(), &honest)
                .unwrap()
                .1
        );
    }
}
