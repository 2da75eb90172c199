//! The owner's wrapped keys, and the devices that act as the owner.
//!
//! A new device has a new principal. It reads the public unlock params, derives the passphrase
//! key, and presents the unlock proof (docs/FORMAT.md §6); the canister compares its SHA-256
//! with the stored verifier and admits the device. Wrong proofs are counted: after
//! [`FREE_UNLOCK_ATTEMPTS`] the canister refuses further attempts for a doubling time.

use candid::Principal;
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;
use vault_crypto::{
    PASSPHRASE_WRAPPED_KEY_SIZE, UNLOCK_PARAMS_SIZE, UnlockProof, UnlockVerifier, WRAPPED_KEY_SIZE,
};

use super::stored::{Key, ProfileCell, ProfileRecord, principal_slot, slot_principal};
use super::types::{
    Activity, AdmitDeviceArgs, Device, Profile, SetupArgs, UnlockMethod, VaultError, VaultResult,
};
use super::{
    FREE_UNLOCK_ATTEMPTS, MAX_DEVICES, MAX_UNLOCK_LOCKOUT_NS, State, bytes32, exact, versioned,
};

impl<M: Memory> State<M> {
    fn stored_profile(&self) -> VaultResult<ProfileRecord> {
        self.profile
            .get()
            .profile
            .clone()
            .ok_or(VaultError::NotSetUp)
    }

    /// Stores the owner's wrapped keys, once (owner).
    pub fn setup(&mut self, caller: &Principal, now: u64, args: SetupArgs) -> VaultResult<()> {
        self.require_owner(caller)?;
        if self.profile.get().profile.is_some() {
            return Err(VaultError::AlreadySetUp);
        }
        check_passphrase_record(&args.passphrase_record)?;
        bytes32("passphrase_verifier", &args.passphrase_verifier)?;
        versioned(
            "recovery_wrapped_key",
            &args.recovery_wrapped_key,
            WRAPPED_KEY_SIZE,
        )?;
        bytes32("recovery_verifier", &args.recovery_verifier)?;
        exact("sharing_public_key", &args.sharing_public_key, 32)?;
        versioned(
            "sharing_secret_wrapped",
            &args.sharing_secret_wrapped,
            WRAPPED_KEY_SIZE,
        )?;
        let record = ProfileRecord {
            passphrase_record: args.passphrase_record.into_vec(),
            passphrase_verifier: args.passphrase_verifier.into_vec(),
            recovery_wrapped_key: args.recovery_wrapped_key.into_vec(),
            recovery_verifier: args.recovery_verifier.into_vec(),
            sharing_public_key: args.sharing_public_key.into_vec(),
            sharing_secret_wrapped: args.sharing_secret_wrapped.into_vec(),
        };
        self.profile.set(ProfileCell {
            profile: Some(record),
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

    /// Admits the caller as one of the owner's devices, given an unlock proof (any signed caller).
    pub fn admit_device(
        &mut self,
        caller: &Principal,
        now: u64,
        args: AdmitDeviceArgs,
    ) -> VaultResult<()> {
        if *caller == Principal::anonymous() {
            return Err(VaultError::NotAuthorized);
        }
        let profile = self.stored_profile()?;
        let proof = bytes32("proof", &args.proof)?;
        let locked_until = self.config.get().unlock_locked_until;
        if now < locked_until {
            return Err(VaultError::RateLimited {
                retry_after_ns: locked_until - now,
            });
        }
        let verifier = match args.method {
            UnlockMethod::Passphrase => &profile.passphrase_verifier,
            UnlockMethod::Recovery => &profile.recovery_verifier,
        };
        let verifier = UnlockVerifier(
            verifier
                .as_slice()
                .try_into()
                .expect("setup stored 32 bytes"),
        );
        if !UnlockProof::from_bytes(proof).matches(&verifier) {
            // Counted on purpose, although the call fails: this is what makes guessing slow.
            let failures = self.config.get().failed_unlocks + 1;
            let lockout = lockout_after(failures);
            self.set_config(|c| {
                c.failed_unlocks = failures;
                c.unlock_locked_until = now.saturating_add(lockout);
            });
            self.record(
                *caller,
                now,
                Activity::DeviceRefused {
                    method: args.method,
                },
            );
            return Err(VaultError::NotAuthorized);
        }
        if self.is_owner(caller) {
            // The proof is right and the caller is already the owner's: nothing to add.
            self.set_config(|c| c.failed_unlocks = 0);
            return Ok(());
        }
        if self.devices.len() >= MAX_DEVICES {
            return Err(VaultError::conflict(format!(
                "{MAX_DEVICES} devices already: remove one first"
            )));
        }
        self.devices.insert(Key(principal_slot(caller)), now);
        self.set_config(|c| c.failed_unlocks = 0);
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

    /// The owner's wrapped keys, for a device that unlocks (owner).
    pub fn profile(&self, caller: &Principal) -> VaultResult<Profile> {
        self.require_owner(caller)?;
        let p = self.stored_profile()?;
        Ok(Profile {
            passphrase_record: ByteBuf::from(p.passphrase_record),
            recovery_wrapped_key: ByteBuf::from(p.recovery_wrapped_key),
            sharing_public_key: ByteBuf::from(p.sharing_public_key),
            sharing_secret_wrapped: ByteBuf::from(p.sharing_secret_wrapped),
        })
    }

    /// Replaces the passphrase record and its verifier (owner).
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
        bytes32("verifier", &verifier)?;
        profile.passphrase_record = record.into_vec();
        profile.passphrase_verifier = verifier.into_vec();
        self.profile.set(ProfileCell {
            profile: Some(profile),
        });
        self.record(*caller, now, Activity::PassphraseChanged);
        Ok(())
    }

    /// The devices admitted as the owner (owner).
    pub fn devices(&self, caller: &Principal) -> VaultResult<Vec<Device>> {
        self.require_owner(caller)?;
        Ok(self
            .devices
            .iter()
            .map(|e| Device {
                principal: slot_principal(&e.key().0),
                added_at: e.value(),
            })
            .collect())
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
        self.record(*caller, now, Activity::DeviceRemoved { device });
        Ok(())
    }
}

/// A passphrase record: its size, version and KDF id (the rest is opaque to the canister).
fn check_passphrase_record(record: &ByteBuf) -> VaultResult<()> {
    versioned("passphrase_record", record, PASSPHRASE_WRAPPED_KEY_SIZE)?;
    vault_crypto::UnlockParams::from_bytes(&record[..UNLOCK_PARAMS_SIZE])
        .map(|_| ())
        .map_err(|e| VaultError::invalid("passphrase_record", e.to_string()))
}

/// Lock-out after `failures` wrong proofs: none for the first few, then 1 s doubling, to a day.
fn lockout_after(failures: u32) -> u64 {
    if failures <= FREE_UNLOCK_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_UNLOCK_ATTEMPTS - 1).min(40);
    (1_000_000_000u64 << doublings).min(MAX_UNLOCK_LOCKOUT_NS)
}
