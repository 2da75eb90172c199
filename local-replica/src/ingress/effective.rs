//! The effective canister id of a call to the management canister (IC interface spec, "Effective
//! canister id"): the URL names the canister the call acts on, which only the argument says.
//!
//! For any other canister the effective canister id is the call's `canister_id`, which
//! [`authenticate`](super::authenticate) already checks against the URL.

use candid::{CandidType, Deserialize, Principal};

/// The method that creates a canister out of nothing on development instances.
const PROVISIONAL_CREATE: &str = "provisional_create_canister_with_cycles";
/// The method whose argument names its canister `target_canister`, not `canister_id`.
const INSTALL_CHUNKED_CODE: &str = "install_chunked_code";

/// What the URL's effective canister id must be for a call to the management canister.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManagementTarget {
    /// `provisional_create_canister_with_cycles` (an update): any effective canister id will do.
    AnyCanister,
    /// The canister the argument names: the effective canister id must be this one.
    Canister(Principal),
    /// The argument names no canister: the IC rejects the call whatever the URL says.
    NoCanister,
}

/// An argument record with a `canister_id` field (Candid decoding skips its other fields).
#[derive(CandidType, Deserialize)]
struct CanisterIdField {
    canister_id: Principal,
}

/// `install_chunked_code`'s argument names its canister `target_canister`.
#[derive(CandidType, Deserialize)]
struct TargetCanisterField {
    target_canister: Principal,
}

/// The effective canister id rules for a call (`is_update`) or query to the management canister
/// (`aaaaa-aa`) with `method_name` and the Candid argument `arg`.
pub fn management_target(is_update: bool, method_name: &str, arg: &[u8]) -> ManagementTarget {
    if is_update && method_name == PROVISIONAL_CREATE {
        return ManagementTarget::AnyCanister;
    }
    let named = if is_update && method_name == INSTALL_CHUNKED_CODE {
        candid::decode_one::<TargetCanisterField>(arg)
            .ok()
            .map(|record| record.target_canister)
    } else {
        None
    };
    named
        .or_else(|| {
            candid::decode_one::<CanisterIdField>(arg)
                .ok()
                .map(|record| record.canister_id)
        })
        .map_or(ManagementTarget::NoCanister, ManagementTarget::Canister)
}
