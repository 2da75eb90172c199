//! Authenticating requests as they arrive on the IC's HTTP interface (IC interface spec, "HTTPS
//! Interface" and "Authentication").
//!
//! [`authenticate`] takes the CBOR body POSTed to a `call`, `query` or `read_state` endpoint and
//! returns a [`VerifiedRequest`] or an [`IngressRefusal`] saying why not. It checks, in the
//! order the IC does:
//!
//! 1. the envelope decodes and its `request_type` is the endpoint's;
//! 2. a call's or query's `canister_id` is the URL's effective canister id (unless it is the
//!    management canister, whose rules are in [`management_target`]);
//! 3. the spec's limits: nonce, read_state paths;
//! 4. `ingress_expiry` is not past and at most [`MAX_INGRESS_TTL_NANOS`] +
//!    [`PERMITTED_DRIFT_NANOS`] ahead (anonymous queries and read_states are exempt, as on the IC);
//! 5. the sender: anonymous with no key or signature, or the self-authenticating principal of
//!    `sender_pubkey`;
//! 6. the delegation chain: at most [`MAX_DELEGATIONS`], no key twice, none expired, each signed by
//!    the key before it over `\x1Aic-request-auth-delegation · hash(delegation)`;
//! 7. `sender_sig` is the last key's signature of `\x0Aic-request · request_id`;
//! 8. the call's or query's canister is within every delegation's `targets`, and a call is not
//!    made under a delegation limited to queries.
//!
//! Envelope, content, delegation types and the request id (the representation-independent hash)
//! come from `ic-transport-types`, the crate ic-agent builds requests with. Replay protection is
//! [`IngressHistory`]: request id → status, kept until the request has expired.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod delegation;
mod effective;
mod history;
mod keys;
mod refusal;
mod webauthn;

use std::collections::BTreeSet;

use candid::Principal;
use ic_transport_types::{Envelope, EnvelopeContent};

use delegation::{Grant, verify_chain};
pub use effective::{ManagementTarget, management_target};
pub use history::{Admission, IngressHistory, STATUS_RETENTION_NANOS};
pub use ic_transport_types::RequestId;
pub use keys::UnsupportedScheme;
pub use refusal::IngressRefusal;

/// Furthest ahead an `ingress_expiry` may be: 5 minutes (the IC's `MAX_INGRESS_TTL`).
pub const MAX_INGRESS_TTL_NANOS: u64 = 5 * 60 * 1_000_000_000;
/// Allowance for a client clock running ahead of the replica's: 30 seconds (the IC's
/// `PERMITTED_DRIFT_AT_VALIDATOR`).
pub const PERMITTED_DRIFT_NANOS: u64 = 30 * 1_000_000_000;
/// Longest delegation chain (IC interface spec, "Authentication").
pub const MAX_DELEGATIONS: usize = 20;
/// Most `targets` one delegation may list (IC interface spec, "Authentication").
pub const MAX_TARGETS_PER_DELEGATION: usize = 1_000;
/// Longest `nonce` in bytes (IC interface spec, "Authentication").
pub const MAX_NONCE_BYTES: usize = 32;
/// Most paths one read_state request may ask for (IC interface spec, "Request: Read state").
pub const MAX_READ_STATE_PATHS: usize = 1_000;
/// Most labels one read_state path may have (IC interface spec, "Request: Read state").
pub const MAX_PATH_LABELS: usize = 127;

/// The endpoint a request was POSTed to, as the HTTP layer parsed it from the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/api/v2/canister/<id>/call`, `/api/v3/…/call` or `/api/v4/…/call`.
    Call {
        /// The `<id>` in the URL.
        effective_canister_id: Principal,
    },
    /// `/api/v2/canister/<id>/query` or `/api/v3/…/query`.
    Query {
        /// The `<id>` in the URL.
        effective_canister_id: Principal,
    },
    /// `/api/v2/canister/<id>/read_state` or `/api/v3/…/read_state`.
    CanisterReadState {
        /// The `<id>` in the URL.
        effective_canister_id: Principal,
    },
    /// `/api/v2/subnet/<id>/read_state` or `/api/v3/subnet/<id>/read_state`.
    SubnetReadState {
        /// The `<id>` in the URL; the HTTP layer checks it is this replica's subnet.
        subnet_id: Principal,
    },
}

impl Endpoint {
    /// The `request_type` a body sent here must have.
    fn request_type(&self) -> &'static str {
        match self {
            Endpoint::Call { .. } => "call",
            Endpoint::Query { .. } => "query",
            Endpoint::CanisterReadState { .. } | Endpoint::SubnetReadState { .. } => "read_state",
        }
    }
}

/// A request whose sender is authenticated and which may act on what it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The representation-independent hash of the content: the key of [`IngressHistory`] and of
    /// `/request_status/<request_id>` in the state tree.
    pub request_id: RequestId,
    /// The authenticated caller (`2vxsx-fae` when anonymous).
    pub sender: Principal,
    /// Nanoseconds since the epoch after which the request is void.
    pub ingress_expiry: u64,
    /// The canisters the delegations let the request act on. Already checked for calls and
    /// queries; for a read_state, the HTTP layer limits `/canister/<id>/…` paths and the
    /// effective canister ids of `/request_status/…` paths to these (as the IC does).
    pub targets: Targets,
    /// What the request asks for.
    pub content: RequestContent,
}

/// What a verified request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestContent {
    /// An update call (`request_type` `call`).
    Call(CanisterCall),
    /// A query call (`request_type` `query`).
    Query(CanisterCall),
    /// A read of the state tree: each path a list of labels.
    ReadState {
        /// The requested paths.
        paths: Vec<Vec<Vec<u8>>>,
    },
}

/// A call or query of one canister method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanisterCall {
    /// The canister called (`aaaaa-aa` for the management canister).
    pub canister_id: Principal,
    /// The method's name.
    pub method_name: String,
    /// The Candid-encoded argument.
    pub arg: Vec<u8>,
    /// The caller's nonce, if any.
    pub nonce: Option<Vec<u8>>,
}

/// The canisters a request may act on: all, or those every delegation in its chain lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// No delegation restricts the request.
    All,
    /// Only these canisters (possibly none).
    Only(BTreeSet<Principal>),
}

impl Targets {
    /// Whether the request may act on `canister_id`.
    pub fn contains(&self, canister_id: &Principal) -> bool {
        match self {
            Targets::All => true,
            Targets::Only(ids) => ids.contains(canister_id),
        }
    }

    /// Those of `self` that `listed` also has.
    fn intersect(self, listed: &[Principal]) -> Targets {
        let listed: BTreeSet<Principal> = listed.iter().copied().collect();
        match self {
            Targets::All => Targets::Only(listed),
            Targets::Only(ids) => Targets::Only(ids.intersection(&listed).copied().collect()),
        }
    }
}

impl VerifiedRequest {
    /// For a call or query to the management canister, what the URL's effective canister id must
    /// be ([`management_target`]); `None` for any other request.
    pub fn management_target(&self) -> Option<ManagementTarget> {
        let (is_update, call) = match &self.content {
            RequestContent::Call(call) => (true, call),
            RequestContent::Query(call) => (false, call),
            RequestContent::ReadState { .. } => return None,
        };
        (call.canister_id == Principal::management_canister())
            .then(|| management_target(is_update, &call.method_name, &call.arg))
    }
}

/// Checks the CBOR `body` POSTed to `endpoint` against the replica's time `now` (ns since the
/// epoch), returning the request if it is authentic and allowed, or why not.
pub fn authenticate(
    endpoint: Endpoint,
    body: &[u8],
    now: u64,
) -> Result<VerifiedRequest, IngressRefusal> {
    let envelope: Envelope<'static> = serde_cbor::from_slice(body)
        .map_err(|e| IngressRefusal::MalformedEnvelope(e.to_string()))?;
    let content = envelope.content.into_owned();
    check_request_type(endpoint, &content)?;
    check_canister_id(endpoint, &content)?;
    check_limits(&content)?;
    let sender = *content.sender();
    let anonymous = sender == Principal::anonymous();
    let ingress_expiry = content.ingress_expiry();
    let exempt_from_expiry = anonymous && !matches!(content, EnvelopeContent::Call { .. });
    if !exempt_from_expiry {
        check_ingress_expiry(ingress_expiry, now)?;
    }
    if has_sender_info(&content) {
        return Err(IngressRefusal::SenderInfoUnsupported);
    }
    let request_id = content.to_request_id();
    let grant = match (
        envelope.sender_pubkey,
        envelope.sender_sig,
        envelope.sender_delegation,
    ) {
        (None, None, None) if anonymous => Grant::unrestricted(),
        (None, None, None) => return Err(IngressRefusal::MissingSignature { sender }),
        (Some(_), Some(_), _) if anonymous => return Err(IngressRefusal::AnonymousWithSignature),
        (Some(pubkey), Some(signature), delegations) => {
            check_sender(sender, &pubkey)?;
            let (signing_key, grant) =
                verify_chain(&pubkey, &delegations.unwrap_or_default(), now)?;
            if !signing_key.verifies(&request_id.signable(), &signature) {
                return Err(IngressRefusal::InvalidSignature { request_id });
            }
            grant
        }
        _ => return Err(IngressRefusal::IncompleteAuthentication),
    };
    let content = into_request_content(content);
    check_authorised(&content, &grant)?;
    Ok(VerifiedRequest {
        request_id,
        sender,
        ingress_expiry,
        targets: grant.targets,
        content,
    })
}

fn content_request_type(content: &EnvelopeContent) -> &'static str {
    match content {
        EnvelopeContent::Call { .. } => "call",
        EnvelopeContent::Query { .. } => "query",
        EnvelopeContent::ReadState { .. } => "read_state",
    }
}

fn check_request_type(endpoint: Endpoint, content: &EnvelopeContent) -> Result<(), IngressRefusal> {
    let (expected, found) = (endpoint.request_type(), content_request_type(content));
    if expected == found {
        Ok(())
    } else {
        Err(IngressRefusal::WrongRequestType { expected, found })
    }
}

/// The IC refuses a call whose `canister_id` is not the URL's: boundary nodes route and filter by
/// the URL, so a mismatch could reach a canister they block.
fn check_canister_id(endpoint: Endpoint, content: &EnvelopeContent) -> Result<(), IngressRefusal> {
    let (Endpoint::Call {
        effective_canister_id,
    }
    | Endpoint::Query {
        effective_canister_id,
    }) = endpoint
    else {
        return Ok(());
    };
    let (EnvelopeContent::Call { canister_id, .. } | EnvelopeContent::Query { canister_id, .. }) =
        content
    else {
        return Ok(());
    };
    if *canister_id == effective_canister_id || *canister_id == Principal::management_canister() {
        Ok(())
    } else {
        Err(IngressRefusal::CanisterIdMismatch {
            canister_id: *canister_id,
            effective_canister_id,
        })
    }
}

fn check_limits(content: &EnvelopeContent) -> Result<(), IngressRefusal> {
    match content {
        EnvelopeContent::Call { nonce, .. } | EnvelopeContent::Query { nonce, .. } => match nonce {
            Some(nonce) if nonce.len() > MAX_NONCE_BYTES => Err(IngressRefusal::NonceTooLong {
                length: nonce.len(),
            }),
            _ => Ok(()),
        },
        EnvelopeContent::ReadState { paths, .. } => {
            if paths.len() > MAX_READ_STATE_PATHS {
                return Err(IngressRefusal::TooManyPaths { count: paths.len() });
            }
            match paths.iter().find(|path| path.len() > MAX_PATH_LABELS) {
                Some(path) => Err(IngressRefusal::PathTooLong { labels: path.len() }),
                None => Ok(()),
            }
        }
    }
}

fn check_ingress_expiry(ingress_expiry: u64, now: u64) -> Result<(), IngressRefusal> {
    let latest = now
        .saturating_add(MAX_INGRESS_TTL_NANOS)
        .saturating_add(PERMITTED_DRIFT_NANOS);
    if ingress_expiry < now {
        Err(IngressRefusal::Expired {
            ingress_expiry,
            now,
        })
    } else if ingress_expiry > latest {
        Err(IngressRefusal::ExpiryTooFar {
            ingress_expiry,
            latest,
        })
    } else {
        Ok(())
    }
}

fn has_sender_info(content: &EnvelopeContent) -> bool {
    match content {
        EnvelopeContent::Call { sender_info, .. } | EnvelopeContent::Query { sender_info, .. } => {
            sender_info.is_some()
        }
        EnvelopeContent::ReadState { .. } => false,
    }
}

fn check_sender(sender: Principal, sender_pubkey: &[u8]) -> Result<(), IngressRefusal> {
    let key_principal = Principal::self_authenticating(sender_pubkey);
    if sender == key_principal {
        Ok(())
    } else {
        Err(IngressRefusal::SenderDoesNotMatchKey {
            sender,
            key_principal,
        })
    }
}

fn into_request_content(content: EnvelopeContent) -> RequestContent {
    match content {
        EnvelopeContent::Call {
            canister_id,
            method_name,
            arg,
            nonce,
            ..
        } => RequestContent::Call(CanisterCall {
            canister_id,
            method_name,
            arg,
            nonce,
        }),
        EnvelopeContent::Query {
            canister_id,
            method_name,
            arg,
            nonce,
            ..
        } => RequestContent::Query(CanisterCall {
            canister_id,
            method_name,
            arg,
            nonce,
        }),
        EnvelopeContent::ReadState { paths, .. } => RequestContent::ReadState {
            paths: paths
                .into_iter()
                .map(|path| path.iter().map(|label| label.as_bytes().to_vec()).collect())
                .collect(),
        },
    }
}

fn check_authorised(content: &RequestContent, grant: &Grant) -> Result<(), IngressRefusal> {
    let call = match content {
        RequestContent::Call(call) => {
            if grant.queries_only {
                return Err(IngressRefusal::DelegationForQueriesOnly);
            }
            call
        }
        RequestContent::Query(call) => call,
        RequestContent::ReadState { .. } => return Ok(()),
    };
    if grant.targets.contains(&call.canister_id) {
        Ok(())
    } else {
        Err(IngressRefusal::CanisterNotInTargets {
            canister_id: call.canister_id,
        })
    }
}
