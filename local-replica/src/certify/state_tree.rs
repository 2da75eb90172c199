//! The system state tree (IC interface spec, "The system state tree") and its pruning to the paths
//! a `read_state` request asks for.
//!
//! ```text
//! /time                                          LEB128 ns since the epoch
//! /request_status/<request_id>/status            "received" | "processing" | "replied" | "rejected" | "done"
//! /request_status/<request_id>/reply             blob            (replied only)
//! /request_status/<request_id>/reject_code       LEB128          (rejected only)
//! /request_status/<request_id>/reject_message    UTF-8           (rejected only)
//! /request_status/<request_id>/error_code        UTF-8           (rejected, when known)
//! /canister/<canister_id>/certified_data         blob
//! /canister/<canister_id>/module_hash            SHA-256 of the module (absent while empty)
//! /canister/<canister_id>/controllers            CBOR #6.55799([* principal bytes])
//! /canister/<canister_id>/metadata/<name>        custom section `icp:public|private <name>`
//! /subnet/<subnet_id>/public_key                 DER BLS12-381 key
//! /subnet/<subnet_id>/canister_ranges            CBOR #6.55799([* [principal principal]])
//! /subnet/<subnet_id>/node/<node_id>/public_key  DER Ed25519 key
//! /canister_ranges/<subnet_id>/<first_id>        the same ranges, sharded (spec, Aug 2025)
//! ```
//!
//! Kept as `ic-certification`'s `NestedTree` (red-black trees whose subtree hashes are cached), so
//! a change rehashes one path, not the whole state.

use std::collections::BTreeMap;

use candid::Principal;
use ic_certification::{HashTree, NestedTree, merge_hash_trees};
use ic_transport_types::{RejectResponse, RequestId};

use super::keys::{NodePublicKey, SubnetPublicKey};
use super::to_tagged_cbor;

const TIME: &[u8] = b"time";
const REQUEST_STATUS: &[u8] = b"request_status";
const CANISTER: &[u8] = b"canister";
const SUBNET: &[u8] = b"subnet";
const NODE: &[u8] = b"node";
const PUBLIC_KEY: &[u8] = b"public_key";
const METADATA: &[u8] = b"metadata";
const CANISTER_RANGES: &[u8] = b"canister_ranges";

/// Ranges per leaf of `/canister_ranges/<subnet_id>/...`: at most 5, as the IC shards them.
const RANGES_PER_SHARD: usize = 5;

/// Where an update call stands (spec, "Overview of canister calling").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    /// Accepted, not yet run.
    Received,
    /// Running (awaiting calls it made).
    Processing,
    /// Replied with this reply blob.
    Replied(Vec<u8>),
    /// Rejected.
    Rejected(RejectResponse),
    /// Replied or rejected long enough ago that the answer was dropped.
    Done,
}

impl RequestStatus {
    fn label(&self) -> &'static [u8] {
        match self {
            RequestStatus::Received => b"received",
            RequestStatus::Processing => b"processing",
            RequestStatus::Replied(_) => b"replied",
            RequestStatus::Rejected(_) => b"rejected",
            RequestStatus::Done => b"done",
        }
    }
}

/// What the state tree certifies about a canister.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CanisterInfo {
    /// `ic0.certified_data_set`'s last value (empty if never set).
    pub certified_data: Vec<u8>,
    /// SHA-256 of the installed module; `None` while the canister is empty.
    pub module_hash: Option<[u8; 32]>,
    /// The controllers, in the order `canister_status` reports them.
    pub controllers: Vec<Principal>,
    /// Custom sections `icp:public <name>` and `icp:private <name>`, by `<name>`. The tree holds
    /// both; whoever answers `read_state` refuses a private one to a caller who is not a controller.
    pub metadata: BTreeMap<String, Vec<u8>>,
}

/// The system state tree.
#[derive(Clone, Debug)]
pub struct StateTree {
    tree: NestedTree<Vec<u8>, Vec<u8>>,
}

/// `labels` as the owned path `NestedTree` takes.
fn path(labels: &[&[u8]]) -> Vec<Vec<u8>> {
    labels.iter().map(|label| label.to_vec()).collect()
}

fn leb128(n: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(10);
    leb128::write::unsigned(&mut bytes, n).expect("writing to a Vec cannot fail");
    bytes
}

impl StateTree {
    /// A tree holding only `/time` = `time_ns`.
    pub fn new(time_ns: u64) -> Self {
        let mut tree = StateTree {
            tree: NestedTree::default(),
        };
        tree.set_time(time_ns);
        tree
    }

    /// Sets `/time` (ns since the epoch). Agents refuse certificates whose time is older than
    /// their ingress expiry (ic-agent: 3 minutes by default), so set it to now before certifying.
    pub fn set_time(&mut self, time_ns: u64) {
        self.tree.insert(&path(&[TIME]), leb128(time_ns));
    }

    /// Sets `/subnet/<subnet_id>/{public_key, canister_ranges, node/<node_id>/public_key}` and
    /// `/canister_ranges/<subnet_id>/<first canister id of a shard>`, replacing what was there.
    /// `canister_ranges` are closed intervals, in order. ic-agent 0.49 reads the former and falls
    /// back to the latter (the IC's newer, sharded form).
    pub fn set_subnet(
        &mut self,
        subnet: &SubnetPublicKey,
        canister_ranges: &[(Principal, Principal)],
        nodes: &[&NodePublicKey],
    ) {
        let id = subnet.subnet_id();
        let id = id.as_slice();
        self.tree.delete(&path(&[SUBNET, id]));
        self.tree
            .insert(&path(&[SUBNET, id, PUBLIC_KEY]), subnet.der());
        self.tree.insert(
            &path(&[SUBNET, id, CANISTER_RANGES]),
            to_tagged_cbor(canister_ranges),
        );
        self.tree.delete(&path(&[CANISTER_RANGES, id]));
        for shard in canister_ranges.chunks(RANGES_PER_SHARD) {
            self.tree.insert(
                &path(&[CANISTER_RANGES, id, shard[0].0.as_slice()]),
                to_tagged_cbor(shard),
            );
        }
        for node in nodes {
            self.tree.insert(
                &path(&[SUBNET, id, NODE, node.node_id().as_slice(), PUBLIC_KEY]),
                node.der().to_vec(),
            );
        }
    }

    /// Sets `/request_status/<request_id>/...` to `status`, replacing what was there.
    pub fn set_request_status(&mut self, request_id: &RequestId, status: &RequestStatus) {
        let id = request_id.as_slice();
        self.tree.delete(&path(&[REQUEST_STATUS, id]));
        let field = |name: &[u8]| path(&[REQUEST_STATUS, id, name]);
        self.tree.insert(&field(b"status"), status.label().to_vec());
        match status {
            RequestStatus::Replied(reply) => self.tree.insert(&field(b"reply"), reply.clone()),
            RequestStatus::Rejected(reject) => {
                self.tree
                    .insert(&field(b"reject_code"), leb128(reject.reject_code as u64));
                self.tree.insert(
                    &field(b"reject_message"),
                    reject.reject_message.clone().into_bytes(),
                );
                if let Some(code) = &reject.error_code {
                    self.tree
                        .insert(&field(b"error_code"), code.clone().into_bytes());
                }
            }
            RequestStatus::Received | RequestStatus::Processing | RequestStatus::Done => {}
        }
    }

    /// Forgets `/request_status/<request_id>` (the IC does so no sooner than the request's expiry).
    pub fn remove_request_status(&mut self, request_id: &RequestId) {
        self.tree
            .delete(&path(&[REQUEST_STATUS, request_id.as_slice()]));
    }

    /// Sets `/canister/<canister_id>/...` to `info`, replacing what was there.
    pub fn set_canister(&mut self, canister_id: Principal, info: &CanisterInfo) {
        let id = canister_id.as_slice();
        self.tree.delete(&path(&[CANISTER, id]));
        self.tree.insert(
            &path(&[CANISTER, id, b"certified_data"]),
            info.certified_data.clone(),
        );
        if let Some(hash) = info.module_hash {
            self.tree
                .insert(&path(&[CANISTER, id, b"module_hash"]), hash.to_vec());
        }
        self.tree.insert(
            &path(&[CANISTER, id, b"controllers"]),
            to_tagged_cbor(&info.controllers),
        );
        for (name, section) in &info.metadata {
            self.tree.insert(
                &path(&[CANISTER, id, METADATA, name.as_bytes()]),
                section.clone(),
            );
        }
    }

    /// Forgets `/canister/<canister_id>` (a deleted canister).
    pub fn remove_canister(&mut self, canister_id: Principal) {
        self.tree.delete(&path(&[CANISTER, canister_id.as_slice()]));
    }

    /// The root hash of the whole tree, which a certificate of any witness of it signs.
    pub fn root_hash(&self) -> [u8; 32] {
        use ic_certification::AsHashTree;
        self.tree.root_hash()
    }

    /// The tree pruned to `paths` and `/time`: every value whose path has a requested path as a
    /// prefix is revealed; a requested path that does not exist is proven absent; everything else
    /// is replaced by its hash (spec, "Request: Read state"). Checking that the caller may read
    /// each path is the caller's job.
    pub fn witness<P, L>(&self, paths: &[P]) -> HashTree
    where
        P: AsRef<[L]>,
        L: AsRef<[u8]>,
    {
        paths
            .iter()
            .fold(self.tree.witness(&path(&[TIME])), |witness, requested| {
                let requested: Vec<Vec<u8>> = requested
                    .as_ref()
                    .iter()
                    .map(|label| label.as_ref().to_vec())
                    .collect();
                // Witnesses of one tree agree wherever both reveal a node, so merging cannot panic.
                merge_hash_trees(witness, self.tree.witness(&requested))
            })
    }
}
