//! Everything a Vault front end needs: the `vault` command line and the app are thin layers
//! over this crate.
//!
//! ```text
//! platform     the seams where platforms differ: Store (what is kept between runs), blocking
//!              work, the clock
//! Home         natively, the Store: identity, settings, upload journals and unlocked sessions
//!              as files (0600 in 0700 directories)
//! replica      natively, the embedded local replica: started when none answers
//! Identity     an Ed25519 key as dfx keeps it (PEM)
//! Network      the local replica, any replica URL, or the IC
//! Connection   an ic-agent Agent signed by the identity; creates and installs vault canisters
//! VaultCanister  every canister method, typed (vault-interface's Candid types)
//! Vault        an unlocked vault: upload, browse, export, albums, trash, sharing, links, activity
//! Session      the one way a front end works: connect once, list pages, details, upload, share
//! records      what front ends are handed: decrypted records in domain types (ids,
//!              principals, targets, permissions, chrono instants); each front end words them
//! photo        EXIF and thumbnails
//! ```
//!
//! The client reaches the canister only through `ic-agent` over the IC's HTTP interface: the
//! same code for the local replica, a dfx replica and the IC. It builds for
//! `wasm32-unknown-unknown` (a browser) as well: there, no files, threads or local replica
//! (`scripts/test-all` checks its dependency tree).
#![forbid(unsafe_code)]

pub mod activity;
pub mod canister;
pub mod cost;
pub mod cycles;
pub mod error;
pub mod export;
#[cfg(not(target_arch = "wasm32"))]
pub mod home;
pub mod icp;
pub mod identity;
pub mod inbox;
pub mod keyring;
pub mod links;
pub mod network;
pub mod passkey;
pub mod photo;
pub mod pin;
pub mod platform;
pub mod records;
#[cfg(not(target_arch = "wasm32"))]
pub mod replica;
pub mod session;
pub mod settings;
pub mod sharing;
pub mod unlocked;
pub mod upload;
pub mod vault;
pub mod verify;

pub use canister::VaultCanister;
pub use error::Error;
#[cfg(not(target_arch = "wasm32"))]
pub use home::Home;
pub use identity::Identity;
pub use network::{Connection, Network};
pub use platform::{Store, StoreRef};
pub use records::{AlbumId, FileId};
pub use session::{
    FileRef, FileView, Listing, Page, PageCursor, Passphrase, Session, VaultOverview, VaultStatus,
};
pub use settings::Settings;
pub use vault::Vault;
/// The canister's Candid types (arguments, records, `VaultError`).
pub use vault_interface::{ic_costs, limits, types};

/// The vault canister's wasm (gzip), as `scripts/build-canister` builds it: what `vault init`
/// installs. Native builds only: a browser's app is served by a vault already.
#[cfg(not(target_arch = "wasm32"))]
pub const VAULT_WASM_GZ: &[u8] = include_bytes!(env!("VAULT_WASM_GZ"));

/// A cryptographically secure random-number generator (ChaCha12, seeded from the thread's
/// generator, itself seeded from the operating system). Unlike `ThreadRng` it is `Send`, so
/// the client's futures, which hold one across awaits, can run on a multi-threaded runtime
/// (the desktop app's).
pub(crate) fn rng() -> rand::rngs::StdRng {
    use rand::SeedableRng;
    rand::rngs::StdRng::from_rng(&mut rand::rng())
}
