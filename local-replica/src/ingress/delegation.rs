//! The delegation chain from `sender_pubkey` to the key that signed the request (IC interface
//! spec, "Authentication"): each delegation signed by the key before it over
//! `\x1Aic-request-auth-delegation · hash_of_map(delegation)`.

use std::collections::HashSet;

use ic_transport_types::{DelegationPermissions, SignedDelegation};

use super::keys::SenderKey;
use super::{IngressRefusal, MAX_DELEGATIONS, MAX_TARGETS_PER_DELEGATION, Targets};

/// What a request's delegations allow it.
pub(super) struct Grant {
    /// The canisters it may act on.
    pub(super) targets: Targets,
    /// Whether some delegation allows only queries and read_state.
    pub(super) queries_only: bool,
}

impl Grant {
    /// What a request with no delegations may do: anything its sender may.
    pub(super) fn unrestricted() -> Grant {
        Grant {
            targets: Targets::All,
            queries_only: false,
        }
    }
}

/// Checks the chain from `sender_pubkey` at time `now`, returning the key that must have signed
/// the request (the last delegation's, or `sender_pubkey` itself) and what the chain grants.
///
/// Cheap structural checks on every delegation come first (as on the IC, so a chain that breaks
/// a limit costs no signature checks), then each signature in order.
pub(super) fn verify_chain(
    sender_pubkey: &[u8],
    delegations: &[SignedDelegation],
    now: u64,
) -> Result<(SenderKey, Grant), IngressRefusal> {
    if delegations.len() > MAX_DELEGATIONS {
        return Err(IngressRefusal::TooManyDelegations {
            count: delegations.len(),
        });
    }
    let mut seen_keys: HashSet<&[u8]> = HashSet::from([sender_pubkey]);
    for (index, signed) in delegations.iter().enumerate() {
        let delegation = &signed.delegation;
        if delegation.expiration < now {
            return Err(IngressRefusal::DelegationExpired {
                index,
                expiration: delegation.expiration,
                now,
            });
        }
        if !seen_keys.insert(&delegation.pubkey) {
            return Err(IngressRefusal::DelegationCycle { index });
        }
        let count = delegation.targets.as_ref().map_or(0, Vec::len);
        if count > MAX_TARGETS_PER_DELEGATION {
            return Err(IngressRefusal::TooManyTargets { index, count });
        }
    }
    let mut key = SenderKey::from_der(sender_pubkey)?;
    let mut grant = Grant::unrestricted();
    for (index, signed) in delegations.iter().enumerate() {
        let delegation = &signed.delegation;
        if !key.verifies(&delegation.signable(), &signed.signature) {
            return Err(IngressRefusal::InvalidDelegationSignature { index });
        }
        if let Some(targets) = &delegation.targets {
            grant.targets = grant.targets.intersect(targets);
        }
        grant.queries_only |= delegation.permissions == Some(DelegationPermissions::Queries);
        key = SenderKey::from_der(&delegation.pubkey)?;
    }
    Ok((key, grant))
}
