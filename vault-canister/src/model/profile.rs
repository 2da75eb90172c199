//! The owner's wrapped keys, and the devices that act as the owner.
//!
//! A new device has a new principal. It asks for an admission ticket (an update call, so the
//! answer is certified): whether it is admitted already, the counter to sign and the unlock
//! params. It derives the passphrase key and signs `canister || caller || counter` with the
//! admission key derived from it (docs/FORMAT.md §6.1); the canister checks the signature with
//! the stored public key, admits the device and moves the counter on, so a proof admits one
//! caller once. Old vaults' version-1 verifiers (`SHA-256(proof)`) are accepted until the
//! owner's client replaces them (on its next unlock).
//!
//! Wrong passphrase proofs are counted per caller: after [`FREE_UNLOCK_ATTEMPTS`] that caller
//! waits a doubling time, so a stranger's guesses slow only the stranger. Recovery proofs (a
//! 256-bit key) are never throttled.

use candid::Principal;
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;
use vault_crypto::{
    ADMISSION_PROOF_SIZE, AdmissionChallenge, AdmissionMethod, AdmissionVerifier,
    PASSPHRASE_WRAPPED_KEY_SIZE, UNLOCK_PARAMS_SIZE, UnlockProof, UnlockVerifier, WRAPPED_KEY_SIZE,
};

use super::stored::{
    Key, PasskeyRecord, ProfileCell, ProfileRecord, principal_slot, slot_principal,
};
use super::types::{
    Activity, AddPasskeyArgs, AdmissionTicket, AdmitDeviceArgs, Device, MasterKeyRotated,
    PasskeyDevice, Profile, RotateMasterKeyArgs, SetupArgs, UnlockMethod, VaultError, VaultResult,
};
use super::{
    FREE_UNLOCK_ATTEMPTS, MAX_COUNTED_CALLERS, MAX_DEVICES, MAX_MASTER_GENERATIONS,
    MAX_UNLOCK_LOCKOUT_NS, State, bytes32, exact, versioned,
};

/// The longest WebAuthn credential id (WebAuthn Level 3, §4: at most 1,023 bytes).
const MAX_CREDENTIAL_ID: usize = 1023;

/// Version of a verifier that is `SHA-256(unlock proof)` (vaults set up before admission v2).
const VERIFIER_V1: u8 = 1;
/// Version of a verifier that is an Ed25519 admission public key (docs/FORMAT.md §6.1).
const VERIFIER_V2: u8 = 2;

impl ProfileRecord {
    fn passphrase_version(&self) -> u8 {
        self.passphrase_verifier_version.unwrap_or(VERIFIER_V1)
    }
    fn recovery_version(&self) -> u8 {
        self.recovery_verifier_version.unwrap_or(VERIFIER_V1)
    }
    fn counter(&self) -> u64 {
        self.admission_counter.unwrap_or(0)
    }
    fn generation(&self) -> u32 {
        self.master_generation.unwrap_or(0)
    }
    pub(crate) fn owner_signed_out(&self) -> bool {
        self.owner_signed_out == Some(true)
    }
}

impl<M: Memory> State<M> {
    fn stored_profile(&self) -> VaultResult<ProfileRecord> {
        self.profile
            .get()
            .profile
            .clone()
            .ok_or(VaultError::NotSetUp)
    }

    fn set_profile(&mut self, profile: ProfileRecord) {
        self.profile.set(ProfileCell {
            profile: Some(profile),
        });
    }

    /// Stores the owner's wrapped keys, once (owner).
    pub fn setup(&mut self, caller: &Principal, now: u64, args: SetupArgs) -> VaultResult<()> {
        self.require_owner(caller)?;
        if self.profile.get().profile.is_some() {
            return Err(VaultError::AlreadySetUp);
        }
        check_master_wrappings(
            &args.passphrase_record,
            &args.passphrase_verifier,
            &args.recovery_wrapped_key,
            &args.recovery_verifier,
            &args.sharing_secret_wrapped,
        )?;
        exact("sharing_public_key", &args.sharing_public_key, 32)?;
        self.set_profile(ProfileRecord {
            passphrase_record: args.passphrase_record.into_vec(),
            passphrase_verifier: args.passphrase_verifier.into_vec(),
            recovery_wrapped_key: args.recovery_wrapped_key.into_vec(),
            recovery_verifier: args.recovery_verifier.into_vec(),
            sharing_public_key: args.sharing_public_key.into_vec(),
            sharing_secret_wrapped: args.sharing_secret_wrapped.into_vec(),
            passphrase_verifier_version: Some(VERIFIER_V2),
            recovery_verifier_version: Some(VERIFIER_V2),
            admission_counter: None,
            master_generation: None,
            previous_masters: None,
            owner_signed_out: None,
            passkeys: None,
        });
        self.record(*caller, now, Activity::SetUp);
        Ok(())
    }

    /// The public unlock params: the first 30 bytes of the passphrase record (anyone).
    pub fn unlock_params(&self) -> VaultResult<ByteBuf> {
        Ok(ByteBuf::from(
            &self.stored_profile()?.passphrase_record[..UNLOCK_PARAMS_SIZE],
        ))
    }

    /// The sharing public key (anyone): what others seal keys to.
    pub fn sharing_key(&self) -> VaultResult<ByteBuf> {
        Ok(ByteBuf::from(self.stored_profile()?.sharing_public_key))
    }

    /// What a device reads, certified, before proving anything (any signed caller; an update
    /// that changes nothing).
    pub fn admission_ticket(&self, caller: &Principal, now: u64) -> VaultResult<AdmissionTicket> {
        if *caller == Principal::anonymous() {
            return Err(VaultError::NotAuthorized);
        }
        let profile = self.stored_profile()?;
        let locked_until = self
            .unlock_failures
            .get(&Key(principal_slot(caller)))
            .map_or(0, |(_, until)| until);
        Ok(AdmissionTicket {
            admitted: self.is_owner(caller),
            counter: profile.counter(),
            unlock_params: ByteBuf::from(&profile.passphrase_record[..UNLOCK_PARAMS_SIZE]),
            passphrase_version: profile.passphrase_version(),
            recovery_version: profile.recovery_version(),
            retry_after_ns: (now < locked_until).then(|| locked_until - now),
            master_generation: profile.generation(),
        })
    }

    /// Admits the caller as one of the owner's devices, given a proof over this canister's
    /// challenge (any signed caller). `canister` is this canister's own id.
    pub fn admit_device(
        &mut self,
        caller: &Principal,
        canister: &Principal,
        now: u64,
        args: AdmitDeviceArgs,
    ) -> VaultResult<()> {
        if *caller == Principal::anonymous() {
            return Err(VaultError::NotAuthorized);
        }
        let mut profile = self.stored_profile()?;
        let counter = profile.counter();
        if args.counter.is_some_and(|c| c != counter) {
            return Err(VaultError::conflict(
                "the admission counter moved on (another device was admitted): \
                 ask for a new admission ticket and prove again",
            ));
        }
        let slot = Key(principal_slot(caller));
        let (failures, locked_until) = self.unlock_failures.get(&slot).unwrap_or((0, 0));
        // Only the passphrase is throttled: a recovery key is 256 random bits.
        if args.method == UnlockMethod::Passphrase && now < locked_until {
            return Err(VaultError::RateLimited {
                retry_after_ns: locked_until - now,
            });
        }
        let (version, verifier, method) = match args.method {
            UnlockMethod::Passphrase => (
                profile.passphrase_version(),
                &profile.passphrase_verifier,
                AdmissionMethod::Passphrase,
            ),
            UnlockMethod::Recovery => (
                profile.recovery_version(),
                &profile.recovery_verifier,
                AdmissionMethod::Recovery,
            ),
        };
        let right = if version == VERIFIER_V1 {
            let proof = bytes32("proof", &args.proof)?;
            let verifier = UnlockVerifier(
                verifier
                    .as_slice()
                    .try_into()
                    .expect("setup stored 32 bytes"),
            );
            UnlockProof::from_bytes(proof).matches(&verifier)
        } else {
            exact("proof", &args.proof, ADMISSION_PROOF_SIZE)?;
            let verifier =
                AdmissionVerifier::from_bytes(verifier).expect("stored verifiers were checked");
            let challenge = AdmissionChallenge {
                canister: canister.as_slice(),
                caller: caller.as_slice(),
                counter,
            };
            verifier.verify(method, &challenge, &args.proof)
        };
        if !right {
            self.count_failure(caller, slot, failures, now, args.method);
            return Err(VaultError::NotAuthorized);
        }
        let install_owner = *caller == self.owner();
        if !install_owner && !self.is_owner(caller) {
            self.room_for_a_device()?;
        }
        self.unlock_failures.remove(&slot);
        // The proof has been used: the next one must sign the next counter.
        profile.admission_counter = Some(counter + 1);
        if install_owner {
            // Signed out by a rotation made elsewhere: proving a secret signs it in again.
            profile.owner_signed_out = None;
        }
        self.set_profile(profile);
        if install_owner || self.is_owner(caller) {
            // The caller is already the owner's: nothing to add.
            return Ok(());
        }
        self.devices.insert(slot, now);
        self.record(
            *caller,
            now,
            Activity::DeviceAdmitted {
                device: *caller,
                method: args.method,
            },
        );
        Ok(())
    }

    /// Checks a proof of the current passphrase by an owner's device about to change what only
    /// the passphrase's holder should (`rotate_master_key`): throttled and counted like an
    /// admission proof, so a stolen device cannot guess faster either. The counter is moved
    /// on by the caller with its other changes.
    fn check_passphrase_proof(
        &mut self,
        caller: &Principal,
        canister: &Principal,
        now: u64,
        profile: &ProfileRecord,
        proof: &ByteBuf,
    ) -> VaultResult<()> {
        if profile.passphrase_version() != VERIFIER_V2 {
            return Err(VaultError::conflict(
                "this vault's passphrase verifier is from before admission v2: unlock once with \
                 this client (which replaces it), then try again",
            ));
        }
        let slot = Key(principal_slot(caller));
        let (failures, locked_until) = self.unlock_failures.get(&slot).unwrap_or((0, 0));
        if now < locked_until {
            return Err(VaultError::RateLimited {
                retry_after_ns: locked_until - now,
            });
        }
        exact("proof", proof, ADMISSION_PROOF_SIZE)?;
        let verifier = AdmissionVerifier::from_bytes(&profile.passphrase_verifier)
            .expect("stored verifiers were checked");
        let challenge = AdmissionChallenge {
            canister: canister.as_slice(),
            caller: caller.as_slice(),
            counter: profile.counter(),
        };
        if !verifier.verify(AdmissionMethod::Passphrase, &challenge, proof) {
            self.count_failure(caller, slot, failures, now, UnlockMethod::Passphrase);
            return Err(VaultError::NotAuthorized);
        }
        self.unlock_failures.remove(&slot);
        Ok(())
    }

    /// Counts a wrong proof against `caller` (on purpose, although the call fails: this is what
    /// makes guessing slow). Recovery proofs are counted but never locked out; the log gets one
    /// entry per streak of wrong proofs, so strangers cannot fill it through one principal.
    fn count_failure(
        &mut self,
        caller: &Principal,
        slot: Key<{ super::stored::PRINCIPAL }>,
        failures: u32,
        now: u64,
        method: UnlockMethod,
    ) {
        let failures = failures.saturating_add(1);
        let until = match method {
            UnlockMethod::Passphrase => now.saturating_add(lockout_after(failures)),
            UnlockMethod::Recovery => self.unlock_failures.get(&slot).map_or(0, |(_, u)| u),
        };
        if !self.unlock_failures.contains_key(&slot)
            && self.unlock_failures.len() >= MAX_COUNTED_CALLERS
            && let Some(first) = self.unlock_failures.first_key_value()
        {
            self.unlock_failures.remove(&first.0);
        }
        self.unlock_failures.insert(slot, (failures, until));
        if failures == 1 {
            self.record(*caller, now, Activity::DeviceRefused { method });
        }
    }

    /// Forgets every caller's wrong proofs (owner): a new device of the owner's that mistyped
    /// its passphrase too often may try again at once.
    pub fn clear_unlock_failures(&mut self, caller: &Principal, now: u64) -> VaultResult<u64> {
        self.require_owner(caller)?;
        let keys: Vec<_> = self.unlock_failures.iter().map(|e| *e.key()).collect();
        for key in &keys {
            self.unlock_failures.remove(key);
        }
        self.record(*caller, now, Activity::UnlockFailuresCleared);
        Ok(keys.len() as u64)
    }

    /// The owner's wrapped keys, for a device that unlocks (owner).
    pub fn profile(&self, caller: &Principal) -> VaultResult<Profile> {
        self.require_owner(caller)?;
        let p = self.stored_profile()?;
        let master_generation = p.generation();
        let passkey_unlock = p
            .passkeys
            .iter()
            .flatten()
            .find(|k| k.principal() == *caller)
            .and_then(|k| k.unlock.as_ref())
            .map(|u| ByteBuf::from(u.to_vec()));
        Ok(Profile {
            passkey_unlock,
            passphrase_record: ByteBuf::from(p.passphrase_record),
            recovery_wrapped_key: ByteBuf::from(p.recovery_wrapped_key),
            sharing_public_key: ByteBuf::from(p.sharing_public_key),
            sharing_secret_wrapped: ByteBuf::from(p.sharing_secret_wrapped),
            master_generation,
            previous_masters: p
                .previous_masters
                .unwrap_or_default()
                .into_iter()
                .map(|k| ByteBuf::from(k.to_vec()))
                .collect(),
        })
    }

    /// Replaces the master key (owner): the passphrase record, the recovery wrapping (a new
    /// recovery key) and the sharing secret's wrapping are made again for the new key, and the
    /// current key is wrapped by it (docs/FORMAT.md §3). Every other device is signed out —
    /// removed, and the install owner too unless it is the caller — so that none goes on
    /// wrapping under the old key; each unlocks again with the passphrase. Checked whole
    /// before anything changes.
    pub fn rotate_master_key(
        &mut self,
        caller: &Principal,
        canister: &Principal,
        now: u64,
        args: RotateMasterKeyArgs,
    ) -> VaultResult<MasterKeyRotated> {
        self.require_owner(caller)?;
        let mut profile = self.stored_profile()?;
        self.check_passphrase_proof(caller, canister, now, &profile, &args.proof)?;
        profile.admission_counter = Some(profile.counter() + 1);
        let current = profile.generation();
        if current.checked_add(1) != Some(args.generation) {
            return Err(VaultError::conflict(format!(
                "the master key is at generation {current}, so the next is {}: it was rotated \
                 on another device since this one unlocked; unlock again, then rotate",
                current.saturating_add(1)
            )));
        }
        if current >= MAX_MASTER_GENERATIONS {
            return Err(VaultError::conflict(format!(
                "the master key was rotated {MAX_MASTER_GENERATIONS} times: no more rotations"
            )));
        }
        check_master_wrappings(
            &args.passphrase_record,
            &args.passphrase_verifier,
            &args.recovery_wrapped_key,
            &args.recovery_verifier,
            &args.sharing_secret_wrapped,
        )?;
        versioned(
            "previous_master_wrapped",
            &args.previous_master_wrapped,
            WRAPPED_KEY_SIZE,
        )?;
        if args.sharing_public_key.as_slice() != profile.sharing_public_key.as_slice() {
            return Err(VaultError::conflict(
                "the sharing secret given is not for this vault's sharing key: the profile this \
                 device read may have been altered; nothing was changed, try again",
            ));
        }
        profile.passphrase_record = args.passphrase_record.into_vec();
        profile.passphrase_verifier = args.passphrase_verifier.into_vec();
        profile.passphrase_verifier_version = Some(VERIFIER_V2);
        profile.recovery_wrapped_key = args.recovery_wrapped_key.into_vec();
        profile.recovery_verifier = args.recovery_verifier.into_vec();
        profile.recovery_verifier_version = Some(VERIFIER_V2);
        profile.sharing_secret_wrapped = args.sharing_secret_wrapped.into_vec();
        profile
            .previous_masters
            .get_or_insert_with(Vec::new)
            .push(args.previous_master_wrapped.into_vec().into());
        profile.master_generation = Some(args.generation);
        let install_owner = *caller == self.owner();
        profile.owner_signed_out = (!install_owner).then_some(true);
        // Passkeys are devices, signed out with the rest; the caller's own (if it is one) stays
        // a device, but its wrapping is of the old key and opens nothing now.
        if let Some(passkeys) = profile.passkeys.as_mut() {
            passkeys.retain(|k| k.principal() == *caller);
            for k in passkeys.iter_mut() {
                k.unlock = None;
            }
        }
        self.set_profile(profile);
        let mine = Key(principal_slot(caller));
        let others: Vec<_> = self
            .devices
            .iter()
            .map(|e| *e.key())
            .filter(|k| *k != mine)
            .collect();
        for device in &others {
            self.devices.remove(device);
        }
        let devices_signed_out = others.len() as u64 + u64::from(!install_owner);
        self.record(
            *caller,
            now,
            Activity::MasterKeyRotated {
                generation: args.generation,
                devices_signed_out,
            },
        );
        Ok(MasterKeyRotated {
            generation: args.generation,
            devices_signed_out,
        })
    }

    /// Replaces the passphrase record and its admission verifier (owner). Also how an old
    /// vault's version-1 verifier is replaced: the same record, a version-2 verifier.
    pub fn change_passphrase(
        &mut self,
        caller: &Principal,
        now: u64,
        record: ByteBuf,
        verifier: ByteBuf,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let mut profile = self.stored_profile()?;
        check_passphrase_record(&record)?;
        admission_verifier("verifier", &verifier)?;
        profile.passphrase_record = record.into_vec();
        profile.passphrase_verifier = verifier.into_vec();
        profile.passphrase_verifier_version = Some(VERIFIER_V2);
        self.set_profile(profile);
        self.record(*caller, now, Activity::PassphraseChanged);
        Ok(())
    }

    /// Replaces the recovery key's wrapping of the master key and its admission verifier
    /// (owner): a new recovery key (the old words stop working), or an old vault's verifier
    /// brought to version 2 (the same wrapping).
    pub fn change_recovery(
        &mut self,
        caller: &Principal,
        now: u64,
        wrapped_key: ByteBuf,
        verifier: ByteBuf,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let mut profile = self.stored_profile()?;
        versioned("wrapped_key", &wrapped_key, WRAPPED_KEY_SIZE)?;
        admission_verifier("verifier", &verifier)?;
        profile.recovery_wrapped_key = wrapped_key.into_vec();
        profile.recovery_verifier = verifier.into_vec();
        profile.recovery_verifier_version = Some(VERIFIER_V2);
        self.set_profile(profile);
        self.record(*caller, now, Activity::RecoveryKeyChanged);
        Ok(())
    }

    /// The devices admitted as the owner (owner).
    pub fn devices(&self, caller: &Principal) -> VaultResult<Vec<Device>> {
        self.require_owner(caller)?;
        let passkeys = self.stored_profile()?.passkeys.unwrap_or_default();
        Ok(self
            .devices
            .iter()
            .map(|e| {
                let principal = slot_principal(&e.key().0);
                Device {
                    principal,
                    added_at: e.value(),
                    passkey: passkeys
                        .iter()
                        .find(|k| k.principal() == principal)
                        .map(|k| PasskeyDevice {
                            credential_id: ByteBuf::from(k.credential_id.clone()),
                            unlocks: k.unlock.is_some(),
                        }),
                }
            })
            .collect())
    }

    /// Admits a passkey as one of the owner's devices (owner), with the master key wrapped
    /// under its PRF output when it is to unlock too. Checked whole before anything changes.
    pub fn add_passkey(
        &mut self,
        caller: &Principal,
        now: u64,
        args: AddPasskeyArgs,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let mut profile = self.stored_profile()?;
        if args.credential_id.is_empty() || args.credential_id.len() > MAX_CREDENTIAL_ID {
            return Err(VaultError::invalid(
                "credential_id",
                format!(
                    "a WebAuthn credential id is 1 to {MAX_CREDENTIAL_ID} bytes, got {}",
                    args.credential_id.len()
                ),
            ));
        }
        if vault_interface::passkey::cose_key(&args.public_key).is_none() {
            return Err(VaultError::invalid(
                "public_key",
                "not a COSE key in the IC's DER wrapping (algorithm 1.3.6.1.4.1.56387.1.1)",
            ));
        }
        if let Some(unlock) = &args.unlock {
            versioned("unlock", unlock, WRAPPED_KEY_SIZE)?;
        }
        let record = PasskeyRecord {
            credential_id: args.credential_id.into_vec(),
            public_key: args.public_key.into_vec(),
            unlock: args.unlock.map(|u| u.into_vec().into()),
        };
        let device = record.principal();
        let passkeys = profile.passkeys.get_or_insert_with(Vec::new);
        if self.is_owner(&device)
            || passkeys
                .iter()
                .any(|k| k.credential_id == record.credential_id)
        {
            return Err(VaultError::conflict(
                "this passkey is already one of the vault's devices",
            ));
        }
        self.room_for_a_device()?;
        let unlocks = record.unlock.is_some();
        passkeys.push(record);
        self.set_profile(profile);
        self.devices.insert(Key(principal_slot(&device)), now);
        self.record(*caller, now, Activity::PasskeyAdded { device, unlocks });
        Ok(())
    }

    /// The public key of the passkey `credential_id` names (anyone): what a browser signing
    /// in with a passkey needs, which its authenticator does not give when it signs.
    pub fn passkey_key(&self, credential_id: &[u8]) -> Option<ByteBuf> {
        self.profile
            .get()
            .profile
            .as_ref()?
            .passkeys
            .as_ref()?
            .iter()
            .find(|k| k.credential_id == credential_id)
            .map(|k| ByteBuf::from(k.public_key.clone()))
    }

    /// `Conflict` when the vault holds [`MAX_DEVICES`] devices already.
    fn room_for_a_device(&self) -> VaultResult<()> {
        if self.devices.len() >= MAX_DEVICES {
            return Err(VaultError::conflict(format!(
                "{MAX_DEVICES} devices already: remove one first"
            )));
        }
        Ok(())
    }

    /// Removes an admitted device (owner). The install owner is not a device and stays.
    pub fn remove_device(
        &mut self,
        caller: &Principal,
        now: u64,
        device: Principal,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        if self.devices.remove(&Key(principal_slot(&device))).is_none() {
            return Err(VaultError::NotFound);
        }
        if let Some(mut profile) = self.profile.get().profile.clone()
            && let Some(passkeys) = profile.passkeys.as_mut()
            && passkeys.iter().any(|k| k.principal() == device)
        {
            passkeys.retain(|k| k.principal() != device);
            self.set_profile(profile);
        }
        self.record(*caller, now, Activity::DeviceRemoved { device });
        Ok(())
    }
}

/// An admission verifier: 32 bytes that are an Ed25519 public key of large order.
fn admission_verifier(field: &str, bytes: &ByteBuf) -> VaultResult<()> {
    bytes32(field, bytes)?;
    AdmissionVerifier::from_bytes(bytes)
        .map(|_| ())
        .ok_or_else(|| {
            VaultError::invalid(
                field,
                "not an Ed25519 admission public key (docs/FORMAT.md §6.1): update the client",
            )
        })
}

/// What wraps a master key, as `setup` and `rotate_master_key` receive it: the passphrase
/// record and its verifier, the recovery wrapping and its verifier, the wrapped sharing secret.
fn check_master_wrappings(
    passphrase_record: &ByteBuf,
    passphrase_verifier: &ByteBuf,
    recovery_wrapped_key: &ByteBuf,
    recovery_verifier: &ByteBuf,
    sharing_secret_wrapped: &ByteBuf,
) -> VaultResult<()> {
    check_passphrase_record(passphrase_record)?;
    admission_verifier("passphrase_verifier", passphrase_verifier)?;
    versioned(
        "recovery_wrapped_key",
        recovery_wrapped_key,
        WRAPPED_KEY_SIZE,
    )?;
    admission_verifier("recovery_verifier", recovery_verifier)?;
    versioned(
        "sharing_secret_wrapped",
        sharing_secret_wrapped,
        WRAPPED_KEY_SIZE,
    )
}

/// A passphrase record: its size, version, KDF id and parameters, refused below OWASP's floor
/// (the wrapped key is opaque to the canister).
fn check_passphrase_record(record: &ByteBuf) -> VaultResult<()> {
    versioned("passphrase_record", record, PASSPHRASE_WRAPPED_KEY_SIZE)?;
    vault_crypto::UnlockParams::from_bytes(&record[..UNLOCK_PARAMS_SIZE])
        .map(|_| ())
        .map_err(|e| VaultError::invalid("passphrase_record", e.to_string()))
}

/// Lock-out of one caller after `failures` wrong passphrase proofs: none for the first few, then 1 s doubling, to a day.
fn lockout_after(failures: u32) -> u64 {
    if failures <= FREE_UNLOCK_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_UNLOCK_ATTEMPTS - 1).min(40);
    (1_000_000_000u64 << doublings).min(MAX_UNLOCK_LOCKOUT_NS)
}
