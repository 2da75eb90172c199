//! The passphrase-hashing parameters this device last unlocked a vault with, kept so that a
//! later answer asking for weaker ones is refused (docs/FORMAT.md §6: a reader never goes
//! below the floor; a device never goes below what it has seen).
//!
//! ```text
//! <config>/kdf-<canister> (16 bytes, mode 0600): "VKP1" | m u32be (KiB) | t u32be | p u32be
//! ```

use candid::Principal;
use vault_crypto::KdfParams;

use crate::Error;
use crate::platform::{Item, Store};

const MAGIC: &[u8; 4] = b"VKP1";
const PIN_SIZE: usize = 4 + 3 * 4;

/// The pinned parameters of `canister`, if this device has unlocked it before.
pub fn load(store: &dyn Store, canister: &Principal) -> Result<Option<KdfParams>, Error> {
    let item = Item::KdfPin(*canister);
    let Some(bytes) = store.load(&item)? else {
        return Ok(None);
    };
    let damaged = || {
        Error::Invalid(format!(
            "{} is damaged: delete it (this device then trusts the vault's current passphrase \
             settings at the next unlock)",
            store.describe(&item)
        ))
    };
    if bytes.len() != PIN_SIZE || &bytes[..4] != MAGIC {
        return Err(damaged());
    }
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("fixed layout"));
    KdfParams::new(be(4), be(8), be(12))
        .map(Some)
        .map_err(|_| damaged())
}

/// Pins `params` for `canister`.
pub fn save(store: &dyn Store, canister: &Principal, params: KdfParams) -> Result<(), Error> {
    let mut bytes = Vec::with_capacity(PIN_SIZE);
    bytes.extend_from_slice(MAGIC);
    for v in [
        params.memory_kib(),
        params.iterations(),
        params.parallelism(),
    ] {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    store.save(&Item::KdfPin(*canister), &bytes)
}

/// Refuses `offered` if it is weaker, in memory or in passes, than what this device pinned for
/// `canister`; returns whether it differs (so that the caller pins it once it has unlocked).
pub fn check(store: &dyn Store, canister: &Principal, offered: KdfParams) -> Result<bool, Error> {
    let Some(pinned) = load(store, canister)? else {
        return Ok(true);
    };
    if offered.memory_kib() < pinned.memory_kib() || offered.iterations() < pinned.iterations() {
        return Err(Error::Integrity(format!(
            "the vault asks for weaker passphrase hashing (m = {} KiB, t = {}) than when this \
             device last unlocked it (m = {} KiB, t = {}): refused, since that is what someone \
             who wants to guess the passphrase would ask for. If you yourself changed the \
             passphrase with a lower setting on another device, delete {} and unlock again",
            offered.memory_kib(),
            offered.iterations(),
            pinned.memory_kib(),
            pinned.iterations(),
            store.describe(&Item::KdfPin(*canister))
        )));
    }
    Ok(offered != pinned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Home;

    fn canister() -> Principal {
        Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    }

    #[test]
    fn weaker_params_than_the_pinned_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        assert_eq!(load(&home, &canister()).unwrap(), None);
        assert!(check(&home, &canister(), KdfParams::MINIMUM).unwrap());
        save(&home, &canister(), KdfParams::DEFAULT).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(home.path(&Item::KdfPin(canister())))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(&home, &canister()).unwrap(), Some(KdfParams::DEFAULT));
        assert!(!check(&home, &canister(), KdfParams::DEFAULT).unwrap());
        let refused = check(&home, &canister(), KdfParams::MINIMUM).unwrap_err();
        assert!(refused.to_string().contains("weaker"), "{refused}");
        // LOW_MEMORY has less memory than DEFAULT: refused too, and the message says how out.
        assert!(check(&home, &canister(), KdfParams::LOW_MEMORY).is_err());
        let stronger = KdfParams::new(512 * 1024, 4, 1).unwrap();
        assert!(check(&home, &canister(), stronger).unwrap());
    }
}
