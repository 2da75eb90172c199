//! The vault canister's interface, apart from its implementation: the Candid types of every
//! argument and reply ([`types`]), the limits the canister enforces ([`limits`]) and
//! `vault.did` ([`CANDID`]). The canister and every client build against this crate; a client
//! never links the canister's implementation (ic-cdk, stable structures).
//!
//! docs/PROTOCOL.md is the prose form of the same interface.

#![forbid(unsafe_code)]

pub mod ic_costs;
pub mod icp;
pub mod limits;
pub mod passkey;
pub mod types;

mod cursor;

pub use cursor::CursorError;

/// `vault.did`: the canister's Candid interface, as the canister exports it (a test in the
/// canister checks the two agree).
pub const CANDID: &str = include_str!("../vault.did");
