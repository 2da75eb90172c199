//! Certified state: what lets an unmodified agent (ic-agent 0.49, with certificate and
//! query-signature verification on) trust this replica's answers.
//!
//! - [`SubnetKey`]: the subnet's BLS12-381 key (min-sig: signatures in G1, public keys in G2). Being
//!   the only subnet, it is also the root of trust: its DER public key is the `root_key` of
//!   `/api/v2/status`, and the subnet id is the self-authenticating principal of that DER key.
//! - [`StateTree`]: the system state tree (`/time`, `/request_status`, `/canister`, `/subnet`) kept
//!   as an `ic-certification` nested red-black tree, and [`StateTree::witness`], which prunes it
//!   to the paths a `read_state` request asked for (plus `/time`).
//! - [`SubnetKey::certify`]: `Certificate { tree, signature }`, the signature being
//!   `BLS-sign(b"\x0Dic-state-root" ++ root_hash(tree))` (IC interface spec, "Certification").
//! - [`NodeKey`]: the node's Ed25519 key; [`NodeKey::sign_query_response`] adds the node signature
//!   a query response carries (spec, "Request: Query call"). Its DER public key sits in the tree at
//!   `/subnet/<subnet_id>/node/<node_id>/public_key`; the node id is its self-authenticating principal.
//! - [`ReplicaKeys`]: both secrets in one small file for the state directory.
//!
//! # Wire formats the HTTP layer must follow
//!
//! | what                                   | encoding                                                                  |
//! |----------------------------------------|---------------------------------------------------------------------------|
//! | `root_key` (status), `/subnet/<id>/public_key` | [`BLS_PUBLIC_KEY_DER_PREFIX`] (37 bytes) ++ 96-byte compressed G2 point |
//! | node public key                        | [`ED25519_PUBLIC_KEY_DER_PREFIX`] (12 bytes) ++ 32-byte key (RFC 8410)   |
//! | certificate (`certificate` field)      | CBOR, tag 55799, map `{tree, signature}`; no `delegation` (root subnet)  |
//! | hash tree                              | CBOR arrays `[0]`, `[1 l r]`, `[2 label t]`, `[3 leaf]`, `[4 hash]`        |
//! | `/time`, `reject_code`                 | unsigned LEB128                                                          |
//! | `controllers`                          | CBOR, tag 55799, array of principals as byte strings                      |
//! | `canister_ranges`                      | CBOR, tag 55799, array of `[start, end]` principal byte-string pairs     |
//! | query response                         | CBOR (tag 55799) of `ic_transport_types::QueryResponse`, `signatures` set |
//!
//! Responses of the HTTP interface are CBOR with tag 55799 too ([`to_tagged_cbor`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod keys;
mod state_tree;

pub use keys::{
    BLS_PUBLIC_KEY_DER_PREFIX, ED25519_PUBLIC_KEY_DER_PREFIX, KEY_FILE_MAGIC, KEY_FILE_SIZE,
    KEY_FILE_VERSION, KeyFileError, NodeKey, NodePublicKey, ReplicaKeys,
    STATE_ROOT_DOMAIN_SEPARATOR, SubnetKey, SubnetPublicKey,
};
pub use state_tree::{CanisterInfo, RequestStatus, StateTree};

/// Encodes `value` as the IC's HTTP interface and state tree do: CBOR behind the self-describe
/// tag 55799 (`d9 d9 f7`).
pub fn to_tagged_cbor<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut serializer = serde_cbor::Serializer::new(Vec::new());
    serializer
        .self_describe()
        .expect("writing to a Vec cannot fail");
    value
        .serialize(&mut serializer)
        .expect("certificates, principals and responses always encode as CBOR");
    serializer.into_inner()
}

/// The certificate as the HTTP interface sends it: [`to_tagged_cbor`] of `{tree, signature}`.
pub fn encode_certificate(certificate: &ic_certification::Certificate) -> Vec<u8> {
    to_tagged_cbor(certificate)
}
