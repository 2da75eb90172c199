//! The subnet's BLS12-381 key, the node's Ed25519 key, and the file that keeps both.
//!
//! # Key file
//!
//! ```text
//! | offset | size | field                                                         |
//! |--------|------|---------------------------------------------------------------|
//! |      0 |    8 | magic `KEY_FILE_MAGIC` = "LRKEYS\r\n"                         |
//! |      8 |    1 | version `KEY_FILE_VERSION` = 1                                |
//! |      9 |   32 | subnet BLS12-381 secret scalar, big-endian, 0 < s < r         |
//! |     41 |   32 | node Ed25519 secret seed (RFC 8032 private key)               |
//! |     73 |      | end (`KEY_FILE_SIZE`); anything after it is refused           |
//! ```

use std::fmt;

use candid::Principal;
use ic_certification::{Certificate, HashTree};
use ic_transport_types::{NodeSignature, QueryResponse, RequestId};
use ic_verify_bls_signature as bls;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// DER prefix of a BLS12-381 G2 public key (OIDs 1.3.6.1.4.1.44668.5.3.1.2.1 for the algorithm
/// and 1.3.6.1.4.1.44668.5.3.2.1 for the curve), as the IC and ic-agent's `extract_der` use it.
pub const BLS_PUBLIC_KEY_DER_PREFIX: [u8; 37] = [
    0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x0d, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05,
    0x03, 0x01, 0x02, 0x01, 0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05, 0x03,
    0x02, 0x01, 0x03, 0x61, 0x00,
];

/// DER prefix of an Ed25519 public key (RFC 8410: OID 1.3.101.112, 33-byte bit string).
pub const ED25519_PUBLIC_KEY_DER_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Domain separator of a certificate's signature: `byte(13) · "ic-state-root"`.
pub const STATE_ROOT_DOMAIN_SEPARATOR: &[u8; 14] = b"\x0Dic-state-root";

/// First bytes of a key file.
pub const KEY_FILE_MAGIC: [u8; 8] = *b"LRKEYS\r\n";
/// The key file layout this code writes and reads.
pub const KEY_FILE_VERSION: u8 = 1;
/// Bytes of a BLS12-381 secret scalar.
const BLS_SECRET_SIZE: usize = bls::PrivateKey::BYTES;
/// Bytes of an Ed25519 secret seed.
const ED25519_SECRET_SIZE: usize = ic_ed25519::PrivateKey::BYTES;
const SUBNET_SECRET_AT: usize = KEY_FILE_MAGIC.len() + 1;
const NODE_SECRET_AT: usize = SUBNET_SECRET_AT + BLS_SECRET_SIZE;
/// Bytes of a key file.
pub const KEY_FILE_SIZE: usize = NODE_SECRET_AT + ED25519_SECRET_SIZE;

/// Why a key file was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The file is not `KEY_FILE_SIZE` bytes long.
    #[error("key file is {0} bytes, not {KEY_FILE_SIZE}: it is truncated or not a key file")]
    WrongLength(usize),
    /// The file does not start with `KEY_FILE_MAGIC`.
    #[error("not a key file (bad magic)")]
    BadMagic,
    /// The file is of a layout this code does not know.
    #[error("key file version {0} is not supported (this build reads version {KEY_FILE_VERSION})")]
    UnsupportedVersion(u8),
    /// The subnet secret is zero or not below the BLS12-381 group order.
    #[error("the subnet key in the key file is not a valid BLS12-381 secret")]
    InvalidSubnetKey,
}

/// The subnet's BLS12-381 secret key (signatures in G1, public key in G2, ciphersuite
/// `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`). The secret is zeroized on drop and never printed.
pub struct SubnetKey {
    /// Big-endian scalar; `ic-verify-bls-signature`'s `PrivateKey` is `Copy`, so it is only
    /// rebuilt for the moment of signing rather than kept.
    secret: Zeroizing<[u8; BLS_SECRET_SIZE]>,
    public: SubnetPublicKey,
}

impl SubnetKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut secret = Zeroizing::new([0u8; BLS_SECRET_SIZE]);
        loop {
            // Rejection sampling, as `bls::PrivateKey::random` does: a uniform 256-bit string is
            // below the group order about 45% of the time.
            rng.fill_bytes(&mut secret[..]);
            if let Some(key) = Self::from_secret(&secret) {
                return key;
            }
        }
    }

    fn from_secret(secret: &[u8; BLS_SECRET_SIZE]) -> Option<Self> {
        if secret.iter().all(|&b| b == 0) {
            return None;
        }
        let key = bls::PrivateKey::deserialize(secret).ok()?;
        Some(SubnetKey {
            secret: Zeroizing::new(*secret),
            public: SubnetPublicKey(key.public_key()),
        })
    }

    /// The public key.
    pub fn public_key(&self) -> &SubnetPublicKey {
        &self.public
    }

    /// The subnet id: the self-authenticating principal of the DER public key.
    pub fn subnet_id(&self) -> Principal {
        self.public.subnet_id()
    }

    /// Signs `tree`: `Certificate { tree, signature: BLS-sign(b"\x0Dic-state-root" ++
    /// root_hash(tree)), delegation: None }` (IC interface spec, "Certification").
    pub fn certify(&self, tree: HashTree) -> Certificate {
        let mut message = Vec::with_capacity(STATE_ROOT_DOMAIN_SEPARATOR.len() + 32);
        message.extend_from_slice(STATE_ROOT_DOMAIN_SEPARATOR);
        message.extend_from_slice(&tree.digest());
        let key = bls::PrivateKey::deserialize(&self.secret[..])
            .expect("the secret was checked when the key was made");
        Certificate {
            tree,
            signature: key.sign(&message).serialize().to_vec(),
            delegation: None,
        }
    }
}

impl fmt::Debug for SubnetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubnetKey")
            .field("subnet_id", &self.subnet_id().to_text())
            .finish_non_exhaustive()
    }
}

/// The subnet's public key: a BLS12-381 G2 point.
#[derive(Clone, PartialEq, Eq)]
pub struct SubnetPublicKey(bls::PublicKey);

impl SubnetPublicKey {
    /// DER encoding: [`BLS_PUBLIC_KEY_DER_PREFIX`] ++ the 96-byte compressed point. This is the
    /// `root_key` of `/api/v2/status` and the value of `/subnet/<subnet_id>/public_key`.
    pub fn der(&self) -> Vec<u8> {
        let mut der = BLS_PUBLIC_KEY_DER_PREFIX.to_vec();
        der.extend_from_slice(&self.0.serialize());
        der
    }

    /// The subnet id: the self-authenticating principal of [`Self::der`].
    pub fn subnet_id(&self) -> Principal {
        Principal::self_authenticating(self.der())
    }
}

impl fmt::Debug for SubnetPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubnetPublicKey({})", self.subnet_id().to_text())
    }
}

/// The node's Ed25519 key, which signs query responses. Zeroized on drop, never printed.
pub struct NodeKey {
    key: ic_ed25519::PrivateKey,
    public: NodePublicKey,
}

impl NodeKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut seed = Zeroizing::new([0u8; ED25519_SECRET_SIZE]);
        rng.fill_bytes(&mut seed[..]);
        Self::from_seed(&seed)
    }

    fn from_seed(seed: &[u8; ED25519_SECRET_SIZE]) -> Self {
        let key = ic_ed25519::PrivateKey::deserialize_raw_32(seed);
        let der = ic_ed25519::PublicKey::convert_raw32_to_der(key.public_key().serialize_raw());
        NodeKey {
            key,
            public: NodePublicKey {
                id: Principal::self_authenticating(&der),
                der,
            },
        }
    }

    /// The public key.
    pub fn public_key(&self) -> &NodePublicKey {
        &self.public
    }

    /// The node id: the self-authenticating principal of the DER public key.
    pub fn node_id(&self) -> Principal {
        self.public.id
    }

    /// `response` with this node's signature as its only one: Ed25519 over
    /// `b"\x0Bic-response" ++ hash_of_map({status, reply | reject_code, reject_message, error_code,
    /// timestamp, request_id})` (spec, "Request: Query call"), computed by `ic-transport-types`,
    /// the code ic-agent verifies with. `request_id` is the request id of the query's `content`
    /// map; `timestamp_ns` is now, in ns since the epoch (agents refuse old ones).
    pub fn sign_query_response(
        &self,
        response: QueryResponse,
        request_id: RequestId,
        timestamp_ns: u64,
    ) -> QueryResponse {
        let signature = NodeSignature {
            timestamp: timestamp_ns,
            signature: self
                .key
                .sign_message(&response.signable(request_id, timestamp_ns))
                .to_vec(),
            identity: self.public.id,
        };
        match response {
            QueryResponse::Replied { reply, .. } => QueryResponse::Replied {
                reply,
                signatures: vec![signature],
            },
            QueryResponse::Rejected { reject, .. } => QueryResponse::Rejected {
                reject,
                signatures: vec![signature],
            },
        }
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKey")
            .field("node_id", &self.public.id.to_text())
            .finish_non_exhaustive()
    }
}

/// A node's public key and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePublicKey {
    der: Vec<u8>,
    id: Principal,
}

impl NodePublicKey {
    /// DER encoding (RFC 8410): [`ED25519_PUBLIC_KEY_DER_PREFIX`] ++ the 32-byte key; the value
    /// of `/subnet/<subnet_id>/node/<node_id>/public_key`.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The node id: the self-authenticating principal of [`Self::der`].
    pub fn node_id(&self) -> Principal {
        self.id
    }
}

/// The replica's two secrets: the subnet (root) key and its one node's key.
#[derive(Debug)]
pub struct ReplicaKeys {
    /// Signs certificates.
    pub subnet: SubnetKey,
    /// Signs query responses.
    pub node: NodeKey,
}

impl ReplicaKeys {
    /// Fresh keys from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        ReplicaKeys {
            subnet: SubnetKey::generate(rng),
            node: NodeKey::generate(rng),
        }
    }

    /// The key file (layout in the module docs). Holds secrets: write it readable by the owner only.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_FILE_SIZE));
        bytes.extend_from_slice(&KEY_FILE_MAGIC);
        bytes.push(KEY_FILE_VERSION);
        bytes.extend_from_slice(&self.subnet.secret[..]);
        bytes.extend_from_slice(&Zeroizing::new(self.node.key.serialize_raw())[..]);
        bytes
    }

    /// Reads a key file written by [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyFileError> {
        if bytes.len() != KEY_FILE_SIZE {
            return Err(KeyFileError::WrongLength(bytes.len()));
        }
        if bytes[..KEY_FILE_MAGIC.len()] != KEY_FILE_MAGIC {
            return Err(KeyFileError::BadMagic);
        }
        let version = bytes[KEY_FILE_MAGIC.len()];
        if version != KEY_FILE_VERSION {
            return Err(KeyFileError::UnsupportedVersion(version));
        }
        let mut subnet_secret = Zeroizing::new([0u8; BLS_SECRET_SIZE]);
        subnet_secret.copy_from_slice(&bytes[SUBNET_SECRET_AT..NODE_SECRET_AT]);
        let mut node_seed = Zeroizing::new([0u8; ED25519_SECRET_SIZE]);
        node_seed.copy_from_slice(&bytes[NODE_SECRET_AT..]);
        Ok(ReplicaKeys {
            subnet: SubnetKey::from_secret(&subnet_secret).ok_or(KeyFileError::InvalidSubnetKey)?,
            node: NodeKey::from_seed(&node_seed),
        })
    }
}
