//! Certified state, checked by ic-agent 0.49's own verifiers: `Agent::verify` for certificates,
//! and, through an in-process HTTP service, the agent's whole read_state, update and query paths
//! with query-signature verification on (as an unmodified agent talks to a replica).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use candid::Principal;
use ic_agent::agent::HttpService;
use ic_agent::{Agent, AgentError, Certificate};
use ic_certification::{HashTree, Label, LookupResult};
use ic_transport_types::{
    Envelope, EnvelopeContent, QueryResponse, ReadStateResponse, RejectCode, RejectResponse,
    ReplyResponse, RequestId, RequestStatusResponse, TransportCallResponse,
};
use local_replica::canister_id;
use local_replica::certify::{
    BLS_PUBLIC_KEY_DER_PREFIX, CanisterInfo, ED25519_PUBLIC_KEY_DER_PREFIX, KEY_FILE_MAGIC,
    KEY_FILE_SIZE, KEY_FILE_VERSION, KeyFileError, NodeKey, ReplicaKeys, RequestStatus, StateTree,
    encode_certificate, to_tagged_cbor,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

fn keys(seed: u64) -> ReplicaKeys {
    ReplicaKeys::generate(&mut StdRng::seed_from_u64(seed))
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos() as u64
}

/// Every canister id this replica hands out: `canister_id(0)..=canister_id(u64::MAX)`.
fn all_canisters() -> (Principal, Principal) {
    (canister_id(0), canister_id(u64::MAX))
}

const CERTIFIED_MARKER: &[u8] = b"certified-data-marker";

fn replied_request() -> RequestId {
    RequestId::new(&[0x11; 32])
}

fn sample_state(keys: &ReplicaKeys, time_ns: u64) -> StateTree {
    let mut state = StateTree::new(time_ns);
    state.set_subnet(
        keys.subnet.public_key(),
        &[all_canisters()],
        &[keys.node.public_key()],
    );
    state.set_canister(
        canister_id(0),
        &CanisterInfo {
            certified_data: CERTIFIED_MARKER.to_vec(),
            module_hash: Some([0xab; 32]),
            controllers: vec![Principal::anonymous(), canister_id(7)],
            metadata: BTreeMap::from([
                ("candid:service".to_string(), b"service : {}".to_vec()),
                ("git:commit".to_string(), b"abc".to_vec()),
            ]),
        },
    );
    state.set_canister(canister_id(1), &CanisterInfo::default());
    state.set_request_status(
        &replied_request(),
        &RequestStatus::Replied(b"reply".to_vec()),
    );
    state
}

/// An agent (never connected: `Agent::verify` needs no network) trusting `keys`' root key.
fn agent_trusting(keys: &ReplicaKeys) -> Agent {
    let agent = Agent::builder()
        .with_url("http://127.0.0.1:1")
        .build()
        .expect("agent builds");
    agent.set_root_key(keys.subnet.public_key().der());
    agent
}

fn decode(bytes: &[u8]) -> Certificate {
    serde_cbor::from_slice(bytes).expect("a certificate decodes")
}

fn labels(path: &[&[u8]]) -> Vec<Vec<u8>> {
    path.iter().map(|l| l.to_vec()).collect()
}

/// A witness for no path: it reveals `/time` only.
fn time_only(state: &StateTree) -> HashTree {
    state.witness::<Vec<Vec<u8>>, Vec<u8>>(&[])
}

// ---- keys -------------------------------------------------------------------------------------

#[test]
fn root_key_der_is_what_agents_expect() {
    let keys = keys(1);
    let der = keys.subnet.public_key().der();
    assert_eq!(der.len(), 37 + 96);
    assert_eq!(der[..37], BLS_PUBLIC_KEY_DER_PREFIX);
    // A fresh agent trusts the IC mainnet root key: ours is a different key with the same prefix.
    let mainnet_root = Agent::builder()
        .with_url("http://127.0.0.1:1")
        .build()
        .unwrap()
        .read_root_key();
    assert_eq!(mainnet_root.len(), der.len());
    assert_ne!(mainnet_root, der);
    assert_eq!(der[..37], mainnet_root[..37]);
}

#[test]
fn subnet_and_node_ids_are_self_authenticating_ids_of_their_der_keys() {
    let keys = keys(1);
    let subnet_id = keys.subnet.subnet_id();
    assert_eq!(
        subnet_id,
        Principal::self_authenticating(keys.subnet.public_key().der())
    );
    // Self-authenticating: SHA-224 of the key, then the class byte 0x02.
    assert_eq!(subnet_id.as_slice().len(), 29);
    assert_eq!(subnet_id.as_slice()[28], 0x02);
    let node = keys.node.public_key();
    assert_eq!(node.der().len(), 12 + 32);
    assert_eq!(node.der()[..12], ED25519_PUBLIC_KEY_DER_PREFIX);
    assert_eq!(node.node_id(), Principal::self_authenticating(node.der()));
    assert_eq!(keys.node.node_id(), node.node_id());
}

#[test]
fn key_file_round_trips() {
    let keys = keys(7);
    let bytes = keys.to_bytes();
    assert_eq!(bytes.len(), KEY_FILE_SIZE);
    let back = ReplicaKeys::from_bytes(&bytes).unwrap();
    assert_eq!(back.subnet.public_key(), keys.subnet.public_key());
    assert_eq!(back.node.public_key(), keys.node.public_key());
    // BLS signatures are deterministic: the same key signs the same tree identically.
    let tree = time_only(&StateTree::new(1));
    assert_eq!(
        back.subnet.certify(tree.clone()).signature,
        keys.subnet.certify(tree).signature
    );
}

/// Golden key file: subnet scalar 1 (public key = the G2 generator) and the RFC 8032 test 1 seed.
fn golden_key_file() -> Vec<u8> {
    let mut bytes = KEY_FILE_MAGIC.to_vec();
    bytes.push(KEY_FILE_VERSION);
    let mut scalar_one = [0u8; 32];
    scalar_one[31] = 1;
    bytes.extend_from_slice(&scalar_one);
    bytes.extend_from_slice(
        &hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap(),
    );
    bytes
}

#[test]
fn key_file_golden_bytes() {
    let bytes = golden_key_file();
    assert_eq!(&bytes[..9], b"LRKEYS\r\n\x01");
    let keys = ReplicaKeys::from_bytes(&bytes).unwrap();
    assert_eq!(
        hex::encode(&keys.subnet.public_key().der()[37..]),
        "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d\
         042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd480\
         56c8c121bdb8"
    );
    assert_eq!(
        hex::encode(&keys.node.public_key().der()[12..]),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    assert_eq!(&keys.to_bytes()[..], &bytes[..]);
}

#[test]
fn key_file_refusals() {
    let good = golden_key_file();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = good.clone();
        f(&mut bytes);
        ReplicaKeys::from_bytes(&bytes).map(|_| ())
    };
    assert_eq!(
        with(&|b| b.truncate(KEY_FILE_SIZE - 1)),
        Err(KeyFileError::WrongLength(KEY_FILE_SIZE - 1))
    );
    assert_eq!(
        with(&|b| b.push(0)),
        Err(KeyFileError::WrongLength(KEY_FILE_SIZE + 1))
    );
    assert_eq!(
        ReplicaKeys::from_bytes(&[]).map(|_| ()),
        Err(KeyFileError::WrongLength(0))
    );
    assert_eq!(with(&|b| b[0] ^= 1), Err(KeyFileError::BadMagic));
    assert_eq!(
        with(&|b| b[8] = 2),
        Err(KeyFileError::UnsupportedVersion(2))
    );
    // Zero, the group order r, and 2^256 - 1 are not secrets.
    assert_eq!(
        with(&|b| b[9..41].fill(0)),
        Err(KeyFileError::InvalidSubnetKey)
    );
    let order =
        hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001").unwrap();
    assert_eq!(
        with(&|b| b[9..41].copy_from_slice(&order)),
        Err(KeyFileError::InvalidSubnetKey)
    );
    assert_eq!(
        with(&|b| b[9..41].fill(0xff)),
        Err(KeyFileError::InvalidSubnetKey)
    );
    assert!(with(&|_| ()).is_ok());
}

#[test]
fn debug_never_prints_secrets() {
    let keys = ReplicaKeys::from_bytes(&golden_key_file()).unwrap();
    let printed = format!("{keys:?} {:?} {:?}", keys.subnet, keys.node);
    assert!(printed.contains(&keys.subnet.subnet_id().to_text()));
    assert!(printed.contains(&keys.node.node_id().to_text()));
    for secret in [
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "9d, 61, b1",
        "157, 97, 177",
    ] {
        assert!(!printed.to_lowercase().contains(secret), "{printed}");
    }
}

// ---- certificates, checked with Agent::verify ---------------------------------------------------

#[test]
fn certificate_verifies_under_the_agents_root_key() {
    let keys = keys(1);
    let state = sample_state(&keys, now_ns());
    let witness = state.witness(&[labels(&[b"canister", canister_id(0).as_slice()])]);
    assert_eq!(witness.digest(), state.root_hash());
    let bytes = encode_certificate(&keys.subnet.certify(witness));
    assert_eq!(bytes[..3], [0xd9, 0xd9, 0xf7], "self-describe tag");
    let cert = decode(&bytes);
    assert!(cert.delegation.is_none());
    let agent = agent_trusting(&keys);
    agent.verify(&cert, canister_id(0)).unwrap();
    agent
        .verify_for_subnet(&cert, keys.subnet.subnet_id())
        .unwrap();
}

#[test]
fn certificate_from_another_root_key_is_refused() {
    let (ours, theirs) = (keys(1), keys(2));
    assert_ne!(ours.subnet.public_key(), theirs.subnet.public_key());
    let state = sample_state(&theirs, now_ns());
    let cert = decode(&encode_certificate(
        &theirs
            .subnet
            .certify(state.witness(&[labels(&[b"subnet"])])),
    ));
    assert!(matches!(
        agent_trusting(&ours).verify(&cert, canister_id(0)),
        Err(AgentError::CertificateVerificationFailed())
    ));
}

#[test]
fn stale_certificate_is_refused() {
    let keys = keys(1);
    let ten_minutes_ago = now_ns() - 600 * 1_000_000_000;
    let state = sample_state(&keys, ten_minutes_ago);
    let cert = decode(&encode_certificate(&keys.subnet.certify(time_only(&state))));
    assert!(matches!(
        agent_trusting(&keys).verify(&cert, canister_id(0)),
        Err(AgentError::CertificateOutdated(_))
    ));
}

/// Every single-bit flip after the CBOR tag — in the tree's labels, leaves, pruned hashes, CBOR
/// structure or the signature — makes the certificate undecodable or fail verification.
#[test]
fn any_flipped_bit_is_refused() {
    let keys = keys(1);
    let state = sample_state(&keys, now_ns());
    let witness = state.witness(&[
        labels(&[b"canister", canister_id(0).as_slice(), b"certified_data"]),
        labels(&[b"request_status", replied_request().as_slice()]),
    ]);
    let bytes = encode_certificate(&keys.subnet.certify(witness));
    let agent = agent_trusting(&keys);
    let original = decode(&bytes);
    agent.verify(&original, canister_id(0)).unwrap();

    let marker_at = bytes
        .windows(CERTIFIED_MARKER.len())
        .position(|w| w == CERTIFIED_MARKER)
        .expect("the revealed leaf is in the certificate");
    let signature_at = bytes.len() - 48;
    let mut decoded_and_refused = 0;
    for at in 3..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[at] ^= 1 << (at % 8);
        let Ok(cert) = serde_cbor::from_slice::<Certificate>(&flipped) else {
            continue;
        };
        if cert == original {
            // The same certificate spelt differently (a byte string header turned into a text
            // string header, which decodes to the same bytes): nothing was changed.
            continue;
        }
        assert!(
            agent.verify(&cert, canister_id(0)).is_err(),
            "a flip at byte {at} of {} verified",
            bytes.len()
        );
        decoded_and_refused += 1;
    }
    // Most flips decode fine (they land in hashes, values and the signature) and are refused.
    assert!(decoded_and_refused > bytes.len() / 2);
    for at in [marker_at, signature_at, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x01;
        if let Ok(cert) = serde_cbor::from_slice::<Certificate>(&flipped) {
            assert!(matches!(
                agent.verify(&cert, canister_id(0)),
                Err(AgentError::CertificateVerificationFailed())
            ));
        }
    }
}

// ---- pruning -------------------------------------------------------------------------------------

#[test]
fn witness_reveals_only_requested_paths_and_time() {
    let keys = keys(1);
    let time = now_ns();
    let state = sample_state(&keys, time);
    let c0 = canister_id(0);
    let tree = state.witness(&[labels(&[b"canister", c0.as_slice(), b"module_hash"])]);
    assert_eq!(tree.digest(), state.root_hash());

    assert_eq!(
        tree.lookup_path([b"canister".as_slice(), c0.as_slice(), b"module_hash"]),
        LookupResult::Found(&[0xab; 32])
    );
    let mut time_leb = Vec::new();
    leb128::write::unsigned(&mut time_leb, time).unwrap();
    assert_eq!(
        tree.lookup_path([b"time"]),
        LookupResult::Found(&time_leb[..])
    );
    for hidden in [
        labels(&[b"canister", c0.as_slice(), b"certified_data"]),
        labels(&[b"canister", c0.as_slice(), b"controllers"]),
        labels(&[b"canister", canister_id(1).as_slice(), b"certified_data"]),
        labels(&[b"request_status", replied_request().as_slice(), b"status"]),
        labels(&[b"subnet", keys.subnet.subnet_id().as_slice(), b"public_key"]),
    ] {
        assert_eq!(
            tree.lookup_path(&hidden),
            LookupResult::Unknown,
            "{hidden:?}"
        );
    }
    // The value bytes do not appear at all, only their hashes.
    let cbor = to_tagged_cbor(&tree);
    assert!(
        !cbor
            .windows(CERTIFIED_MARKER.len())
            .any(|w| w == CERTIFIED_MARKER)
    );
}

#[test]
fn witness_of_a_prefix_reveals_everything_below_it() {
    let keys = keys(1);
    let state = sample_state(&keys, 5);
    let subnet_id = keys.subnet.subnet_id();
    let tree = state.witness(&[labels(&[b"subnet"])]);
    let subnet = |rest: &[&[u8]]| {
        let mut path = labels(&[b"subnet", subnet_id.as_slice()]);
        path.extend(labels(rest));
        path
    };
    assert_eq!(
        tree.lookup_path(subnet(&[b"public_key"])),
        LookupResult::Found(&keys.subnet.public_key().der()[..])
    );
    let node_id = keys.node.node_id();
    assert_eq!(
        tree.lookup_path(subnet(&[b"node", node_id.as_slice(), b"public_key"])),
        LookupResult::Found(keys.node.public_key().der())
    );
    // canister_ranges: tag 55799, [[canister_id(0), canister_id(u64::MAX)]] as byte strings.
    let ranges = hex::decode(
        "d9d9f7 81 82 4a 0000000000000000 0101 4a ffffffffffffffff 0101".replace(' ', ""),
    )
    .unwrap();
    assert_eq!(
        tree.lookup_path(subnet(&[b"canister_ranges"])),
        LookupResult::Found(&ranges[..])
    );
    // The sharded form, /canister_ranges/<subnet_id>/<first canister id>, is there too.
    let tree = state.witness(&[labels(&[b"canister_ranges", subnet_id.as_slice()])]);
    assert_eq!(
        tree.lookup_path([
            b"canister_ranges".as_slice(),
            subnet_id.as_slice(),
            canister_id(0).as_slice()
        ]),
        LookupResult::Found(&ranges[..])
    );
}

#[test]
fn canister_ranges_are_sharded_by_five() {
    let keys = keys(1);
    let ranges: Vec<(Principal, Principal)> = (0..7)
        .map(|i| (canister_id(i * 10), canister_id(i * 10 + 5)))
        .collect();
    let mut state = StateTree::new(5);
    state.set_subnet(keys.subnet.public_key(), &ranges, &[]);
    let subnet_id = keys.subnet.subnet_id();
    let tree = state.witness(&[labels(&[b"canister_ranges", subnet_id.as_slice()])]);
    let shard = |first: u64| {
        tree.lookup_path([
            b"canister_ranges".as_slice(),
            subnet_id.as_slice(),
            canister_id(first).as_slice(),
        ])
    };
    assert_eq!(
        shard(0),
        LookupResult::Found(&to_tagged_cbor(&ranges[..5])[..])
    );
    assert_eq!(
        shard(50),
        LookupResult::Found(&to_tagged_cbor(&ranges[5..])[..])
    );
    assert_eq!(shard(10), LookupResult::Absent);
}

#[test]
fn absent_paths_are_proven_absent() {
    let keys = keys(1);
    let state = sample_state(&keys, 5);
    let unknown_request = RequestId::new(&[0x22; 32]);
    let empty = canister_id(1);
    let tree = state.witness(&[
        labels(&[b"request_status", unknown_request.as_slice()]),
        labels(&[b"canister", empty.as_slice(), b"module_hash"]),
        labels(&[b"canister", canister_id(99).as_slice()]),
        labels(&[
            b"canister",
            canister_id(0).as_slice(),
            b"metadata",
            b"no-such-section",
        ]),
    ]);
    for absent in [
        labels(&[b"request_status", unknown_request.as_slice(), b"status"]),
        labels(&[b"canister", empty.as_slice(), b"module_hash"]),
        labels(&[b"canister", canister_id(99).as_slice(), b"controllers"]),
        labels(&[
            b"canister",
            canister_id(0).as_slice(),
            b"metadata",
            b"no-such-section",
        ]),
    ] {
        assert_eq!(
            tree.lookup_path(&absent),
            LookupResult::Absent,
            "{absent:?}"
        );
    }
}

#[test]
fn value_encodings_are_the_specs() {
    let keys = keys(1);
    let mut state = StateTree::new(624_485);
    let c = canister_id(3);
    state.set_canister(
        c,
        &CanisterInfo {
            controllers: vec![Principal::anonymous()],
            ..CanisterInfo::default()
        },
    );
    let rejected = RequestId::new(&[0x33; 32]);
    state.set_request_status(
        &rejected,
        &RequestStatus::Rejected(RejectResponse {
            reject_code: RejectCode::CanisterError,
            reject_message: "trapped".into(),
            error_code: Some("IC0503".into()),
        }),
    );
    let tree = keys
        .subnet
        .certify(state.witness(&[labels(&[b"canister"]), labels(&[b"request_status"])]))
        .tree;
    // Natural numbers are LEB128: 624485 = e5 8e 26 (the spec's example).
    assert_eq!(
        tree.lookup_path([b"time"]),
        LookupResult::Found(&[0xe5, 0x8e, 0x26])
    );
    // Controllers: tag 55799, then an array of principals as byte strings (anonymous = 0x04).
    assert_eq!(
        tree.lookup_path([b"canister".as_slice(), c.as_slice(), b"controllers"]),
        LookupResult::Found(&[0xd9, 0xd9, 0xf7, 0x81, 0x41, 0x04])
    );
    assert_eq!(
        tree.lookup_path([b"canister".as_slice(), c.as_slice(), b"certified_data"]),
        LookupResult::Found(&[])
    );
    let request = |field: &[u8]| labels(&[b"request_status", rejected.as_slice(), field]);
    assert_eq!(
        tree.lookup_path(request(b"status")),
        LookupResult::Found(b"rejected")
    );
    assert_eq!(
        tree.lookup_path(request(b"reject_code")),
        LookupResult::Found(&[5])
    );
    assert_eq!(
        tree.lookup_path(request(b"reject_message")),
        LookupResult::Found(b"trapped")
    );
    assert_eq!(
        tree.lookup_path(request(b"error_code")),
        LookupResult::Found(b"IC0503")
    );
    assert_eq!(tree.lookup_path(request(b"reply")), LookupResult::Absent);
}

#[test]
fn replacing_and_removing_entries_changes_what_is_certified() {
    let keys = keys(1);
    let mut state = sample_state(&keys, 5);
    let before = state.root_hash();
    let id = replied_request();
    state.set_request_status(&id, &RequestStatus::Done);
    let tree = state.witness(&[labels(&[b"request_status", id.as_slice()])]);
    assert_eq!(
        tree.lookup_path([b"request_status".as_slice(), id.as_slice(), b"status"]),
        LookupResult::Found(b"done")
    );
    // The reply is gone, not merely hidden.
    assert_eq!(
        tree.lookup_path([b"request_status".as_slice(), id.as_slice(), b"reply"]),
        LookupResult::Absent
    );
    state.remove_request_status(&id);
    state.remove_canister(canister_id(1));
    let tree = state.witness(&[
        labels(&[b"request_status", id.as_slice()]),
        labels(&[b"canister", canister_id(1).as_slice()]),
    ]);
    assert_eq!(
        tree.lookup_path([b"request_status".as_slice(), id.as_slice(), b"status"]),
        LookupResult::Absent
    );
    assert_eq!(
        tree.lookup_path([
            b"canister".as_slice(),
            canister_id(1).as_slice(),
            b"certified_data"
        ]),
        LookupResult::Absent
    );
    assert_ne!(state.root_hash(), before);
    // Putting back what was there gives back the same root hash.
    state.set_canister(canister_id(1), &CanisterInfo::default());
    state.set_request_status(&id, &RequestStatus::Replied(b"reply".to_vec()));
    assert_eq!(state.root_hash(), before);
}

// ---- query signatures -----------------------------------------------------------------------------

/// A value in the spec's representation-independent hash (`hash_of_map`).
enum Value<'a> {
    Blob(&'a [u8]),
    Text(&'a str),
    Nat(u64),
    Map(Vec<(&'a str, Value<'a>)>),
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The spec's "Representation-independent hashing of structured data", written from its text.
fn hash_of(value: &Value) -> Vec<u8> {
    match value {
        Value::Blob(b) => sha256(b),
        Value::Text(s) => sha256(s.as_bytes()),
        Value::Nat(n) => {
            let mut leb = Vec::new();
            leb128::write::unsigned(&mut leb, *n).unwrap();
            sha256(&leb)
        }
        Value::Map(fields) => {
            let mut pairs: Vec<Vec<u8>> = fields
                .iter()
                .map(|(name, value)| [sha256(name.as_bytes()), hash_of(value)].concat())
                .collect();
            pairs.sort();
            sha256(&pairs.concat())
        }
    }
}

fn verify_node_signature(node: &NodeKey, message: &[u8], signature: &[u8]) -> bool {
    ic_ed25519::PublicKey::deserialize_rfc8410_der(node.public_key().der())
        .unwrap()
        .verify_signature(message, signature)
        .is_ok()
}

#[test]
fn query_signatures_cover_the_specs_hash_of_map() {
    let keys = keys(1);
    let request_id = RequestId::new(&[0x44; 32]);
    let timestamp = 1_700_000_000_123_456_789;
    let signed = keys.node.sign_query_response(
        QueryResponse::Replied {
            reply: ReplyResponse {
                arg: b"DIDL\x00\x00".to_vec(),
            },
            signatures: vec![],
        },
        request_id,
        timestamp,
    );
    let [signature] = signed.signatures() else {
        panic!("one signature")
    };
    assert_eq!(signature.identity, keys.node.node_id());
    assert_eq!(signature.timestamp, timestamp);
    let hash = hash_of(&Value::Map(vec![
        ("status", Value::Text("replied")),
        (
            "reply",
            Value::Map(vec![("arg", Value::Blob(b"DIDL\x00\x00"))]),
        ),
        ("timestamp", Value::Nat(timestamp)),
        ("request_id", Value::Blob(request_id.as_slice())),
    ]));
    let message = [b"\x0Bic-response".as_slice(), &hash].concat();
    assert!(verify_node_signature(
        &keys.node,
        &message,
        &signature.signature
    ));

    for error_code in [Some("IC0406"), None] {
        let signed = keys.node.sign_query_response(
            QueryResponse::Rejected {
                reject: RejectResponse {
                    reject_code: RejectCode::CanisterReject,
                    reject_message: "no".into(),
                    error_code: error_code.map(str::to_string),
                },
                signatures: vec![],
            },
            request_id,
            timestamp,
        );
        let mut fields = vec![
            ("status", Value::Text("rejected")),
            ("reject_code", Value::Nat(4)),
            ("reject_message", Value::Text("no")),
            ("timestamp", Value::Nat(timestamp)),
            ("request_id", Value::Blob(request_id.as_slice())),
        ];
        if let Some(code) = error_code {
            fields.push(("error_code", Value::Text(code)));
        }
        let message = [b"\x0Bic-response".as_slice(), &hash_of(&Value::Map(fields))].concat();
        assert!(verify_node_signature(
            &keys.node,
            &message,
            &signed.signatures()[0].signature
        ));
    }
}

// ---- an unmodified agent, through an in-process HTTP service ------------------------------------

/// How the test service spoils its query responses.
#[derive(Clone, Copy, Debug, PartialEq)]
enum QueryTampering {
    None,
    FlipSignatureBit,
    SignedByUnknownNode,
    StaleTimestamp,
}

/// Just enough of the HTTP interface to drive ic-agent: query, read_state and v4 call, each
/// answered from a `StateTree` certified by `keys`.
#[derive(Debug)]
struct InProcessReplica {
    keys: ReplicaKeys,
    state: Mutex<StateTree>,
    tampering: QueryTampering,
    stranger: NodeKey,
}

impl InProcessReplica {
    fn new(tampering: QueryTampering) -> Arc<Self> {
        let keys = keys(1);
        let state = Mutex::new(sample_state(&keys, now_ns()));
        Arc::new(InProcessReplica {
            keys,
            state,
            tampering,
            stranger: self::keys(3).node,
        })
    }

    fn certificate(&self, paths: &[Vec<Label>]) -> Vec<u8> {
        let mut state = self.state.lock().unwrap();
        state.set_time(now_ns());
        encode_certificate(&self.keys.subnet.certify(state.witness(paths)))
    }

    fn query(&self, content: &EnvelopeContent) -> Vec<u8> {
        let EnvelopeContent::Query {
            method_name, arg, ..
        } = content
        else {
            panic!("a query endpoint got {content:?}")
        };
        let response = match method_name.as_str() {
            "reject" => QueryResponse::Rejected {
                reject: RejectResponse {
                    reject_code: RejectCode::CanisterReject,
                    reject_message: "refused".into(),
                    error_code: Some("IC0406".into()),
                },
                signatures: vec![],
            },
            _ => QueryResponse::Replied {
                reply: ReplyResponse { arg: arg.clone() },
                signatures: vec![],
            },
        };
        let (signer, timestamp) = match self.tampering {
            QueryTampering::SignedByUnknownNode => (&self.stranger, now_ns()),
            QueryTampering::StaleTimestamp => (&self.keys.node, now_ns() - 600 * 1_000_000_000),
            _ => (&self.keys.node, now_ns()),
        };
        let mut signed = signer.sign_query_response(response, content.to_request_id(), timestamp);
        if self.tampering == QueryTampering::FlipSignatureBit {
            let (QueryResponse::Replied { signatures, .. }
            | QueryResponse::Rejected { signatures, .. }) = &mut signed;
            signatures[0].signature[10] ^= 0x04;
        }
        to_tagged_cbor(&signed)
    }

    fn read_state(&self, content: &EnvelopeContent) -> Vec<u8> {
        let EnvelopeContent::ReadState { paths, .. } = content else {
            panic!("a read_state endpoint got {content:?}")
        };
        to_tagged_cbor(&ReadStateResponse {
            certificate: self.certificate(paths),
        })
    }

    /// `/api/v4/.../call`: runs "echo" (replies with its argument), "reject", or "later" (replies,
    /// but answers 202 so the agent polls read_state).
    fn call(&self, content: &EnvelopeContent) -> (u16, Vec<u8>) {
        let EnvelopeContent::Call {
            method_name, arg, ..
        } = content
        else {
            panic!("a call endpoint got {content:?}")
        };
        let request_id = content.to_request_id();
        let status = match method_name.as_str() {
            "reject" => RequestStatus::Rejected(RejectResponse {
                reject_code: RejectCode::CanisterError,
                reject_message: "trapped".into(),
                error_code: Some("IC0503".into()),
            }),
            _ => RequestStatus::Replied(arg.clone()),
        };
        self.state
            .lock()
            .unwrap()
            .set_request_status(&request_id, &status);
        if method_name == "later" {
            return (202, vec![]);
        }
        let path = vec![vec!["request_status".into(), request_id.to_vec().into()]];
        let certificate = self.certificate(&path);
        (
            200,
            to_tagged_cbor(&TransportCallResponse::Replied { certificate }),
        )
    }
}

#[async_trait::async_trait]
impl HttpService for InProcessReplica {
    async fn call<'a>(
        &'a self,
        req: &'a (dyn Fn() -> Result<http::Request<Bytes>, AgentError> + Send + Sync),
        _max_retries: usize,
        _size_limit: Option<usize>,
    ) -> Result<http::Response<Bytes>, AgentError> {
        let request = req()?;
        let envelope: Envelope = serde_cbor::from_slice(request.body()).expect("a CBOR envelope");
        let content = envelope.content.into_owned();
        let segments: Vec<&str> = request.uri().path().split('/').skip(1).collect();
        let (status, body) = match segments.as_slice() {
            ["api", "v3", "canister", _, "query"] => (200, self.query(&content)),
            ["api", "v3", "canister" | "subnet", _, "read_state"] => {
                (200, self.read_state(&content))
            }
            ["api", "v4", "canister", _, "call"] => self.call(&content),
            _ => (404, b"no such endpoint".to_vec()),
        };
        Ok(http::Response::builder()
            .status(status)
            .body(Bytes::from(body))
            .expect("a valid response"))
    }
}

fn agent_for(replica: &Arc<InProcessReplica>) -> Agent {
    let agent = Agent::builder()
        .with_url("http://127.0.0.1:1")
        .with_arc_http_middleware(replica.clone())
        .build()
        .expect("agent builds");
    agent.set_root_key(replica.keys.subnet.public_key().der());
    agent
}

#[tokio::test]
async fn agent_accepts_signed_query_responses() {
    let replica = InProcessReplica::new(QueryTampering::None);
    let agent = agent_for(&replica);
    let reply = agent
        .query(&canister_id(0), "echo")
        .with_arg(b"hello".to_vec())
        .call()
        .await
        .unwrap();
    assert_eq!(reply, b"hello");
    // A rejection is signed too; the agent reports it only once the signature checked out.
    match agent.query(&canister_id(0), "reject").call().await {
        Err(AgentError::UncertifiedReject { reject, .. }) => {
            assert_eq!(reject.reject_code, RejectCode::CanisterReject);
            assert_eq!(reject.error_code.as_deref(), Some("IC0406"));
        }
        other => panic!("expected a signed reject, got {other:?}"),
    }
    let subnet = agent.get_subnet_by_canister(&canister_id(0)).await.unwrap();
    assert_eq!(subnet.id(), replica.keys.subnet.subnet_id());
    assert_eq!(
        subnet.self_reported_key(),
        &replica.keys.subnet.public_key().der()[..]
    );
    assert_eq!(
        subnet.get_node_key(&replica.keys.node.node_id()),
        Some(replica.keys.node.public_key().der())
    );
    assert!(subnet.contains_canister(&canister_id(12345)));
}

#[tokio::test]
async fn agent_refuses_tampered_query_signatures() {
    for (tampering, expected) in [
        (
            QueryTampering::FlipSignatureBit,
            "QuerySignatureVerificationFailed",
        ),
        (
            QueryTampering::SignedByUnknownNode,
            "CertificateNotAuthorized",
        ),
        (QueryTampering::StaleTimestamp, "CertificateOutdated"),
    ] {
        let replica = InProcessReplica::new(tampering);
        let result = agent_for(&replica)
            .query(&canister_id(0), "echo")
            .call()
            .await;
        let error = format!("{:?}", result.expect_err("a tampered response is refused"));
        assert!(error.starts_with(expected), "{tampering:?}: {error}");
    }
}

#[tokio::test]
async fn agent_reads_canister_information() {
    let replica = InProcessReplica::new(QueryTampering::None);
    let agent = agent_for(&replica);
    let c0 = canister_id(0);
    assert_eq!(
        agent.read_state_canister_module_hash(c0).await.unwrap(),
        [0xab; 32]
    );
    assert_eq!(
        agent.read_state_canister_controllers(c0).await.unwrap(),
        vec![Principal::anonymous(), canister_id(7)]
    );
    assert_eq!(
        agent
            .read_state_canister_metadata(c0, "candid:service")
            .await
            .unwrap(),
        b"service : {}"
    );
    assert!(matches!(
        agent.read_state_canister_module_hash(canister_id(1)).await,
        Err(AgentError::LookupPathAbsent(_))
    ));
    assert_eq!(
        agent
            .read_state_subnet_canister_ranges(replica.keys.subnet.subnet_id())
            .await
            .unwrap(),
        vec![all_canisters()]
    );
    // What an agent reads at /api/v3/subnet/<id>/read_state: /subnet/<id> and /canister_ranges/<id>.
    let subnet = agent
        .fetch_subnet_by_id(&replica.keys.subnet.subnet_id())
        .await
        .unwrap();
    assert!(subnet.contains_node(&replica.keys.node.node_id()));
    assert!(subnet.contains_canister(&canister_id(12345)));
}

#[tokio::test]
async fn agent_reads_request_statuses() {
    let replica = InProcessReplica::new(QueryTampering::None);
    let agent = agent_for(&replica);
    let (status, _) = agent
        .request_status_raw(&replied_request(), canister_id(0))
        .await
        .unwrap();
    assert_eq!(
        status,
        RequestStatusResponse::Replied(ReplyResponse {
            arg: b"reply".to_vec()
        })
    );
    let (status, _) = agent
        .request_status_raw(&RequestId::new(&[0x99; 32]), canister_id(0))
        .await
        .unwrap();
    assert_eq!(status, RequestStatusResponse::Unknown);
    for (set, expected) in [
        (RequestStatus::Received, RequestStatusResponse::Received),
        (RequestStatus::Processing, RequestStatusResponse::Processing),
        (RequestStatus::Done, RequestStatusResponse::Done),
    ] {
        let id = RequestId::new(&[0x55; 32]);
        replica.state.lock().unwrap().set_request_status(&id, &set);
        let (status, _) = agent.request_status_raw(&id, canister_id(0)).await.unwrap();
        assert_eq!(status, expected);
    }
}

#[tokio::test]
async fn agent_accepts_certified_update_replies() {
    let replica = InProcessReplica::new(QueryTampering::None);
    let agent = agent_for(&replica);
    let reply = agent
        .update(&canister_id(0), "echo")
        .with_arg(b"now".to_vec())
        .call_and_wait()
        .await
        .unwrap();
    assert_eq!(reply, b"now");
    // 202, then the agent polls read_state for /request_status/<id>.
    let reply = tokio::time::timeout(
        Duration::from_secs(30),
        agent
            .update(&canister_id(0), "later")
            .with_arg(b"polled".to_vec())
            .call_and_wait(),
    )
    .await
    .expect("polling finishes")
    .unwrap();
    assert_eq!(reply, b"polled");
    match agent
        .update(&canister_id(0), "reject")
        .call_and_wait()
        .await
    {
        Err(AgentError::CertifiedReject { reject, .. }) => {
            assert_eq!(reject.reject_code, RejectCode::CanisterError);
            assert_eq!(reject.reject_message, "trapped");
            assert_eq!(reject.error_code.as_deref(), Some("IC0503"));
        }
        other => panic!("expected a certified reject, got {other:?}"),
    }
}
