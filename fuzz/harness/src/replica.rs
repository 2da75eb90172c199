//! Targets over local-replica's decoders of what agents and users send it: ingress envelopes
//! (CBOR, signatures, delegations) and canister modules (gzip, wasm validation and rewrite).

use candid::Principal;
use local_replica::ingress::{Endpoint, authenticate};
use wasmparser::Validator;

/// The replica's clock for the ingress target: the seeds' envelopes expire a minute after it.
pub const INGRESS_NOW: u64 = 1_700_000_000_000_000_000;

/// The canister the seeds' envelopes call.
pub fn ingress_canister() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
}

/// A CBOR body POSTed to an endpoint: `endpoint (1) || body`. Authentication refuses or
/// accepts; an accepted request is one the body names and the endpoint allows.
pub fn ingress(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let endpoint = endpoint(which);
    if let Ok(request) = authenticate(endpoint, body, INGRESS_NOW) {
        let _ = request.management_target();
        assert!(
            request.ingress_expiry
                <= INGRESS_NOW
                    + local_replica::ingress::MAX_INGRESS_TTL_NANOS
                    + local_replica::ingress::PERMITTED_DRIFT_NANOS
                || request.sender == Principal::anonymous(),
            "accepted an envelope that expires too late"
        );
    }
}

/// The endpoint an input's first byte names: the management canister, the anonymous principal
/// or the seeds' canister (high nibble); call, query, canister or subnet read_state (low bits).
fn endpoint(which: u8) -> Endpoint {
    let id = match which >> 4 {
        0 => Principal::management_canister(),
        1 => Principal::anonymous(),
        _ => ingress_canister(),
    };
    match which % 4 {
        0 => Endpoint::Call {
            effective_canister_id: id,
        },
        1 => Endpoint::Query {
            effective_canister_id: id,
        },
        2 => Endpoint::CanisterReadState {
            effective_canister_id: id,
        },
        _ => Endpoint::SubnetReadState { subnet_id: id },
    }
}

/// A canister module as `install_code` receives it (gzipped or not): refused, or prepared into
/// a module that validates (the rewrite adds a memory and globals, so with wasmparser's default
/// features, which include multi-memory).
pub fn module(data: &[u8]) {
    if let Ok(prepared) = local_replica::module::prepare(data) {
        Validator::new()
            .validate_all(&prepared.wasm)
            .unwrap_or_else(|e| panic!("the prepared module does not validate: {e}"));
    }
    let _ = local_replica::module::metadata_sections(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds reach past the first refusal: the envelopes are ones the replica accepts, the
    /// modules ones it prepares. (Not `ed25519-read-state`: ic-agent signs a read_state with
    /// an expiry from its own clock, so that seed is refused as expiring too late and starts the
    /// fuzzer on the envelope's decoding only.)
    #[test]
    fn the_seeds_are_accepted() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus");
        for name in ["ed25519-call", "ed25519-query", "anonymous-query"] {
            let data = std::fs::read(format!("{dir}/ingress/{name}")).unwrap();
            let (which, body) = data.split_first().unwrap();
            if let Err(e) = authenticate(endpoint(*which), body, INGRESS_NOW) {
                panic!("{name}: {e:?}");
            }
        }
        for name in ["canister", "canister-gzipped"] {
            let data = std::fs::read(format!("{dir}/module/{name}")).unwrap();
            if let Err(e) = local_replica::module::prepare(&data) {
                panic!("{name}: {e:?}");
            }
        }
    }
}
