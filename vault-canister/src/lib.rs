//! Vault's per-user storage canister. See docs/PROTOCOL.md.
#![forbid(unsafe_code)]

pub mod model;
