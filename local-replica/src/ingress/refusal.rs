//! Why a request is refused, in the caller's terms.

use candid::Principal;

use super::keys::{KeyError, UnsupportedScheme};
use super::{
    MAX_DELEGATIONS, MAX_NONCE_BYTES, MAX_PATH_LABELS, MAX_READ_STATE_PATHS,
    MAX_TARGETS_PER_DELEGATION, RequestId,
};

/// Why a request was refused. Every refusal is the caller's fault; the IC answers each with
/// HTTP 400 and the message as `text/plain` (see [`IngressRefusal::http_status`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IngressRefusal {
    /// The body is not a CBOR envelope with a content map of the IC's form.
    #[error("the request body is not an IC request envelope: {0}")]
    MalformedEnvelope(String),
    /// The content's `request_type` is not the one the endpoint takes.
    #[error(
        "a request to the {expected} endpoint must have request_type \"{expected}\", not \"{found}\""
    )]
    WrongRequestType {
        /// What the endpoint takes.
        expected: &'static str,
        /// What the content says.
        found: &'static str,
    },
    /// A call's or query's `canister_id` is not the URL's effective canister id.
    #[error(
        "specified canister id {canister_id} does not match the effective canister id {effective_canister_id} in the URL"
    )]
    CanisterIdMismatch {
        /// The content's `canister_id`.
        canister_id: Principal,
        /// The URL's.
        effective_canister_id: Principal,
    },
    /// The nonce is longer than [`MAX_NONCE_BYTES`].
    #[error("the nonce is {length} bytes; at most {MAX_NONCE_BYTES} are allowed")]
    NonceTooLong {
        /// Its length.
        length: usize,
    },
    /// A read_state asks for more than [`MAX_READ_STATE_PATHS`] paths.
    #[error("read_state asks for {count} paths; at most {MAX_READ_STATE_PATHS} are allowed")]
    TooManyPaths {
        /// How many.
        count: usize,
    },
    /// A read_state path has more than [`MAX_PATH_LABELS`] labels.
    #[error("a read_state path has {labels} labels; at most {MAX_PATH_LABELS} are allowed")]
    PathTooLong {
        /// How many.
        labels: usize,
    },
    /// `ingress_expiry` has passed.
    #[error(
        "the request expired at {ingress_expiry} ns, before the replica's time {now} ns: sign it again"
    )]
    Expired {
        /// The request's expiry.
        ingress_expiry: u64,
        /// The replica's time.
        now: u64,
    },
    /// `ingress_expiry` is further ahead than the IC allows (is the client's clock right?).
    #[error(
        "the request's expiry {ingress_expiry} ns is after the latest allowed {latest} ns: check the client's clock"
    )]
    ExpiryTooFar {
        /// The request's expiry.
        ingress_expiry: u64,
        /// The replica's time + [`MAX_INGRESS_TTL_NANOS`](super::MAX_INGRESS_TTL_NANOS) +
        /// [`PERMITTED_DRIFT_NANOS`](super::PERMITTED_DRIFT_NANOS).
        latest: u64,
    },
    /// `sender_pubkey`, `sender_sig` and `sender_delegation` are not all absent or a key and a
    /// signature both present.
    #[error(
        "the envelope must carry both sender_pubkey and sender_sig, or neither (and then no sender_delegation)"
    )]
    IncompleteAuthentication,
    /// A non-anonymous sender sent no key and signature.
    #[error("sender {sender} is not anonymous, so the request must be signed")]
    MissingSignature {
        /// The content's sender.
        sender: Principal,
    },
    /// The anonymous sender sent a key and signature.
    #[error("the anonymous sender must not sign: omit sender_pubkey and sender_sig")]
    AnonymousWithSignature,
    /// The sender is not the self-authenticating principal of `sender_pubkey`.
    #[error("sender {sender} is not the principal of sender_pubkey, which is {key_principal}")]
    SenderDoesNotMatchKey {
        /// The content's sender.
        sender: Principal,
        /// The principal derived from `sender_pubkey`.
        key_principal: Principal,
    },
    /// `sender_pubkey` or a delegation's key is not a valid key of a scheme the IC has.
    #[error("invalid public key: {0}")]
    MalformedKey(String),
    /// A key uses a scheme this replica does not check.
    #[error("{0} are not supported by this replica: sign with an Ed25519, secp256k1 or P-256 key")]
    UnsupportedScheme(UnsupportedScheme),
    /// More than [`MAX_DELEGATIONS`] delegations.
    #[error("the delegation chain has {count} delegations; at most {MAX_DELEGATIONS} are allowed")]
    TooManyDelegations {
        /// How many.
        count: usize,
    },
    /// A delegation lists more than [`MAX_TARGETS_PER_DELEGATION`] targets.
    #[error(
        "delegation {index} lists {count} targets; at most {MAX_TARGETS_PER_DELEGATION} are allowed"
    )]
    TooManyTargets {
        /// Its position in the chain, from 0.
        index: usize,
        /// How many it lists.
        count: usize,
    },
    /// A key appears twice in the chain (a cycle, or a key delegating to itself).
    #[error("delegation {index} delegates to a key already in the chain")]
    DelegationCycle {
        /// Its position in the chain, from 0.
        index: usize,
    },
    /// A delegation's `expiration` has passed.
    #[error(
        "delegation {index} expired at {expiration} ns, before the replica's time {now} ns: log in again"
    )]
    DelegationExpired {
        /// Its position in the chain, from 0.
        index: usize,
        /// Its expiration.
        expiration: u64,
        /// The replica's time.
        now: u64,
    },
    /// A delegation is not signed by the key before it.
    #[error("delegation {index} is not signed by the key that delegates")]
    InvalidDelegationSignature {
        /// Its position in the chain, from 0.
        index: usize,
    },
    /// `sender_sig` is not the signing key's signature of the request id.
    #[error("sender_sig is not a valid signature of request {request_id} by the signing key")]
    InvalidSignature {
        /// The request id that should have been signed.
        request_id: RequestId,
    },
    /// The canister called is not among the delegations' targets.
    #[error("canister {canister_id} is not one of the delegation's targets")]
    CanisterNotInTargets {
        /// The canister called.
        canister_id: Principal,
    },
    /// An update call was made under a delegation that allows only queries and read_state.
    #[error("the delegation allows only queries and read_state, not update calls")]
    DelegationForQueriesOnly,
    /// The content carries canister-certified `sender_info`, which needs canister signatures.
    #[error("sender_info needs canister signatures, which this replica does not support")]
    SenderInfoUnsupported,
}

impl IngressRefusal {
    /// The HTTP status the IC's replica answers this refusal with: 400 Bad Request, for every
    /// malformed, expired or unauthenticated request (dfinity/ic `http_endpoints/public`: a
    /// canister id mismatch and every request validation error map to `BAD_REQUEST`; older
    /// replicas used 403 for signature and sender failures).
    pub fn http_status(&self) -> u16 {
        400
    }
}

impl From<KeyError> for IngressRefusal {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Malformed(why) => IngressRefusal::MalformedKey(why),
            KeyError::Unsupported(scheme) => IngressRefusal::UnsupportedScheme(scheme),
        }
    }
}
