//! Everything a Vault front end needs: the `vault` command line and the app are thin layers
//! over this crate.
//!
//! ```text
//! Home         where identity, settings, resumable uploads and the unlocked key live
//! Identity     an Ed25519 key as dfx keeps it (PEM, mode 0600)
//! Network      the embedded local replica (started when none answers), any replica URL, or the IC
//! Connection   an ic-agent Agent signed by the identity; creates and installs vault canisters
//! VaultCanister  every canister method, typed (vault-canister's own Candid types)
//! Vault        an unlocked vault: upload, browse, export, albums, trash, sharing, links, activity
//! photo        EXIF and thumbnails
//! ```
//!
//! The client reaches the canister only through `ic-agent` over the IC's HTTP interface: the
//! same code for the local replica, a dfx replica and the IC.
#![forbid(unsafe_code)]

pub mod activity;
pub mod canister;
pub mod cost;
pub mod error;
pub mod export;
pub mod home;
pub mod identity;
pub mod keyring;
pub mod links;
pub mod network;
pub mod photo;
pub mod pin;
pub mod session;
pub mod sharing;
pub mod upload;
pub mod vault;
pub mod view;

pub use canister::VaultCanister;
pub use error::Error;
pub use home::Home;
pub use identity::Identity;
pub use network::{Connection, Network};
pub use vault::Vault;
/// The canister's Candid types (arguments, records, `VaultError`).
pub use vault_interface::{limits, types};

/// The vault canister's wasm (gzip), as `scripts/build-canister` builds it: what `vault init`
/// installs.
pub const VAULT_WASM_GZ: &[u8] = include_bytes!(env!("VAULT_WASM_GZ"));

/// A cryptographically secure random-number generator (ChaCha12, seeded from the thread's
/// generator, itself seeded from the operating system). Unlike `ThreadRng` it is `Send`, so
/// the client's futures, which hold one across awaits, can run on a multi-threaded runtime
/// (the desktop app's).
pub(crate) fn rng() -> rand::rngs::StdRng {
    use rand::SeedableRng;
    rand::rngs::StdRng::from_rng(&mut rand::rng())
}
