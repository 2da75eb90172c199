//! Keeping a vault unlocked between commands, as users of restic, age and Ente's CLI expect.
//!
//! `vault unlock` (and `init`, `recover`) writes the master key to a session file in the runtime
//! directory — `$XDG_RUNTIME_DIR/vault`, a per-user tmpfs the system empties at logout — with
//! mode 0600, for a limited time (`--for`, 12 hours by default). Later commands read it instead
//! of asking again; `vault lock` deletes it (overwriting it first). With `VAULT_PASSPHRASE` set
//! (or `--passphrase-file`), a command unlocks for itself and writes nothing, as restic does.
//!
//! ```text
//! session file: "VSS2" | expires_at (u64be, seconds since the epoch) | generation g (u32be)
//!               | master key (32) | the earlier master keys, generations g-1 down to 0 (32 each)
//! ```
//!
//! (A `VSS1` file, from before master keys were rotated, is `"VSS1" | expires_at | master key`:
//! generation 0.)
//!
//! Anyone who can read this user's files while the session lasts can read the key: the same
//! exposure as ssh-agent or a keyring unlocked for the login session.

use std::time::Duration;

use candid::Principal;
use vault_crypto::{MasterGeneration, MasterKey};
use zeroize::Zeroizing;

use crate::Error;
use crate::keyring::MasterKeys;
use crate::platform::{Item, Store, now_ms};

const MAGIC_V1: &[u8; 4] = b"VSS1";
const MAGIC: &[u8; 4] = b"VSS2";
const HEADER_SIZE: usize = 4 + 8 + 4;
/// How long an unlock lasts unless told otherwise.
pub const DEFAULT_SESSION: Duration = Duration::from_secs(12 * 3600);

fn item(canister: &Principal, identity: &Principal) -> Item {
    Item::Session {
        canister: *canister,
        identity: *identity,
    }
}

fn now_secs() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

/// Keeps `master` unlocked for `duration`.
pub fn save(
    store: &dyn Store,
    canister: &Principal,
    identity: &Principal,
    master: &MasterKeys,
    duration: Duration,
) -> Result<(), Error> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(
        HEADER_SIZE + 32 * (1 + master.earlier().len()),
    ));
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(now_secs().saturating_add(duration.as_secs())).to_be_bytes());
    bytes.extend_from_slice(&master.generation().0.to_be_bytes());
    for key in master.all() {
        bytes.extend_from_slice(key.expose_secret());
    }
    store.save(&item(canister, identity), &bytes)
}

/// The unlocked master keys, if a session is live (an expired or unreadable one is deleted).
pub fn load(store: &dyn Store, canister: &Principal, identity: &Principal) -> Option<MasterKeys> {
    let item = item(canister, identity);
    let bytes = store.load(&item).ok()??;
    let keys = read(&bytes);
    if keys.is_none() {
        let _ = store.remove(&item);
    }
    keys
}

fn read(bytes: &[u8]) -> Option<MasterKeys> {
    let key = |b: &[u8]| MasterKey::from_bytes(b.try_into().expect("32 bytes"));
    let live = |at: &[u8]| u64::from_be_bytes(at.try_into().expect("8 bytes")) > now_secs();
    if bytes.len() == 4 + 8 + 32 && &bytes[..4] == MAGIC_V1 {
        return live(&bytes[4..12]).then(|| MasterKeys::first(key(&bytes[12..])));
    }
    if bytes.len() < HEADER_SIZE + 32
        || &bytes[..4] != MAGIC
        || !(bytes.len() - HEADER_SIZE).is_multiple_of(32)
        || !live(&bytes[4..12])
    {
        return None;
    }
    let generation = MasterGeneration(u32::from_be_bytes(bytes[12..16].try_into().ok()?));
    let mut keys = bytes[HEADER_SIZE..].chunks_exact(32).map(key);
    let current = keys.next()?;
    MasterKeys::from_parts(current, generation, keys.collect())
}

/// Forgets the session; returns whether there was one.
pub fn forget(store: &dyn Store, canister: &Principal, identity: &Principal) -> bool {
    store.remove(&item(canister, identity)).unwrap_or(false)
}
