//! Keeping a vault unlocked between commands, as users of restic, age and Ente's CLI expect.
//!
//! `vault unlock` (and `init`, `recover`) writes the master key to a session file in the runtime
//! directory — `$XDG_RUNTIME_DIR/vault`, a per-user tmpfs the system empties at logout — with
//! mode 0600, for a limited time (`--for`, 12 hours by default). Later commands read it instead
//! of asking again; `vault lock` deletes it (overwriting it first). With `VAULT_PASSPHRASE` set
//! (or `--passphrase-file`), a command unlocks for itself and writes nothing, as restic does.
//!
//! ```text
//! session file (44 bytes): "VSS1" | expires_at (u64be, seconds since the epoch) | master key (32)
//! ```
//!
//! Anyone who can read this user's files while the session lasts can read the key: the same
//! exposure as ssh-agent or a keyring unlocked for the login session.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candid::Principal;
use sha2::Digest;
use vault_crypto::MasterKey;
use zeroize::Zeroizing;

use crate::home::write_atomic;
use crate::{Error, Home};

const MAGIC: &[u8; 4] = b"VSS1";
const SESSION_SIZE: usize = 4 + 8 + 32;
/// How long an unlock lasts unless told otherwise.
pub const DEFAULT_SESSION: Duration = Duration::from_secs(12 * 3600);

/// The session file of `identity` for `canister`.
fn session_file(home: &Home, canister: &Principal, identity: &Principal) -> PathBuf {
    let who = sha2::Sha256::digest(identity.as_slice());
    home.runtime
        .join(format!("session-{canister}-{}", hex::encode(&who[..6])))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Keeps `master` unlocked for `duration`.
pub fn save(
    home: &Home,
    canister: &Principal,
    identity: &Principal,
    master: &MasterKey,
    duration: Duration,
) -> Result<(), Error> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(SESSION_SIZE));
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(now_secs().saturating_add(duration.as_secs())).to_be_bytes());
    bytes.extend_from_slice(master.expose_secret());
    write_atomic(&session_file(home, canister, identity), &bytes, 0o600)
}

/// The unlocked master key, if a session is live (an expired one is deleted).
pub fn load(home: &Home, canister: &Principal, identity: &Principal) -> Option<MasterKey> {
    let path = session_file(home, canister, identity);
    let bytes = Zeroizing::new(std::fs::read(&path).ok()?);
    if bytes.len() != SESSION_SIZE || &bytes[..4] != MAGIC {
        forget_file(&path);
        return None;
    }
    let expires = u64::from_be_bytes(bytes[4..12].try_into().expect("8 bytes"));
    if expires <= now_secs() {
        forget_file(&path);
        return None;
    }
    let key: [u8; 32] = bytes[12..].try_into().expect("32 bytes");
    Some(MasterKey::from_bytes(key))
}

/// Forgets the session; returns whether there was one.
pub fn forget(home: &Home, canister: &Principal, identity: &Principal) -> bool {
    let path = session_file(home, canister, identity);
    let existed = path.exists();
    forget_file(&path);
    existed
}

fn forget_file(path: &std::path::Path) {
    // Overwrite before unlinking: the key should not linger in a freed block.
    if let Ok(len) = std::fs::metadata(path).map(|m| m.len()) {
        let _ = std::fs::write(path, vec![0u8; len as usize]);
    }
    let _ = std::fs::remove_file(path);
}
