//! The user's identity: an Ed25519 key in a PEM file as dfx keeps it
//! (`~/.config/dfx/identity/<name>/identity.pem` imports as it is).

use std::sync::Arc;

use candid::Principal;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ic_agent::Identity as _;
use ic_agent::identity::BasicIdentity;

use crate::Error;
use crate::platform::{Item, Store};

/// A signing identity and its principal.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<dyn ic_agent::Identity>,
    principal: Principal,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("principal", &self.principal.to_text())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// The identity `store` keeps, creating a new one if it keeps none. Returns whether it
    /// was created.
    pub fn load_or_create(store: &dyn Store) -> Result<(Identity, bool), Error> {
        if store.load(&Item::Identity)?.is_some() {
            return Ok((Identity::load(store)?, false));
        }
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::Rng::fill_bytes(&mut crate::rng(), seed.as_mut_slice());
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let pem = key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|e| Error::Identity {
                path: store.describe(&Item::Identity),
                why: format!("cannot encode a new key: {e}"),
            })?;
        store.save(&Item::Identity, pem.as_bytes())?;
        Ok((Identity::load(store)?, true))
    }

    /// The identity `store` keeps (a PEM as dfx writes it: PKCS#8 Ed25519).
    pub fn load(store: &dyn Store) -> Result<Identity, Error> {
        let unusable = |why| Error::Identity {
            path: store.describe(&Item::Identity),
            why,
        };
        let pem = store
            .load(&Item::Identity)?
            .ok_or_else(|| unusable("there is none yet".into()))?;
        Identity::from_pem(&pem).map_err(unusable)
    }

    /// Parses a PEM identity.
    pub fn from_pem(pem: &[u8]) -> Result<Identity, String> {
        let inner = BasicIdentity::from_pem(pem).map_err(|e| {
            format!(
                "not an Ed25519 PEM identity ({e}); Vault takes dfx's default (Ed25519) identities"
            )
        })?;
        let principal = inner.sender().map_err(|e| e.to_string())?;
        Ok(Identity {
            inner: Arc::new(HashOnce(Arc::new(inner))),
            principal,
        })
    }

    /// Keeps the PEM identity `pem` (e.g. dfx's, read from `from`) in `store` after checking
    /// it parses.
    pub fn import(pem: &[u8], from: &str, store: &dyn Store) -> Result<Identity, Error> {
        let identity = Identity::from_pem(pem).map_err(|why| Error::Identity {
            path: from.into(),
            why,
        })?;
        store.save(&Item::Identity, pem)?;
        Ok(identity)
    }

    /// An identity the platform made: `inner` signs (a browser's session key, with the
    /// delegation from its device key), and its sender is the principal.
    pub fn from_agent_identity(inner: Arc<dyn ic_agent::Identity>) -> Result<Identity, Error> {
        let principal = inner.sender().map_err(|why| Error::Identity {
            path: "the platform's identity".into(),
            why,
        })?;
        Ok(Identity {
            inner: Arc::new(HashOnce(inner)),
            principal,
        })
    }

    /// Whether this identity may call `canister`: a delegated one (a browser's, scoped to the
    /// vault that serves its page) only the canisters every delegation names.
    pub fn reaches(&self, canister: &Principal) -> bool {
        self.inner.delegation_chain().iter().all(|d| {
            d.delegation
                .targets
                .as_ref()
                .is_none_or(|targets| targets.contains(canister))
        })
    }

    /// An identity of the device whose public key is `device_key` (DER), signing with a fresh
    /// Ed25519 session key held in memory only: `sign` (the device key, which may live where no
    /// code can read it: a browser's non-extractable WebCrypto key) signs once, a delegation to
    /// the session key until `expiration_ns`, for calls to `targets` only. The principal is the
    /// device's, so a vault admits the device once and every later session acts as it.
    ///
    /// `sign` gets the delegation's signable bytes (IC interface specification, "Authentication":
    /// `\x1Aic-request-auth-delegation` and the delegation's representation-independent hash)
    /// and answers the device key's signature of them in the form the IC takes for its kind
    /// (ECDSA P-256: `r · s`, 64 bytes, over their SHA-256).
    pub async fn delegated<F, S>(
        device_key: Vec<u8>,
        targets: Option<Vec<Principal>>,
        expiration_ns: u64,
        sign: S,
    ) -> Result<Identity, Error>
    where
        S: FnOnce(Vec<u8>) -> F,
        F: std::future::Future<Output = Result<Vec<u8>, Error>>,
    {
        Identity::delegated_by(targets, expiration_ns, |bytes| async move {
            Ok((device_key, sign(bytes).await?))
        })
        .await
    }

    /// As [`Identity::delegated`], for a key that is known only once it has signed: a passkey
    /// found by the credential its authenticator chose. `sign` answers the key (DER) and its
    /// signature in the form the IC takes for its kind (a passkey's: [`crate::passkey::Assertion::ic_signature`]).
    pub async fn delegated_by<F, S>(
        targets: Option<Vec<Principal>>,
        expiration_ns: u64,
        sign: S,
    ) -> Result<Identity, Error>
    where
        S: FnOnce(Vec<u8>) -> F,
        F: std::future::Future<Output = Result<(Vec<u8>, Vec<u8>), Error>>,
    {
        use ic_agent::identity::{DelegatedIdentity, Delegation, SignedDelegation};
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::Rng::fill_bytes(&mut crate::rng(), seed.as_mut_slice());
        let session = BasicIdentity::from_raw_key(&seed);
        let delegation = Delegation {
            pubkey: session.public_key().ok_or_else(|| Error::Identity {
                path: "the session key".into(),
                why: "it has no public key".into(),
            })?,
            expiration: expiration_ns,
            targets,
            permissions: None,
        };
        let (key, signature) = sign(delegation.signable()).await?;
        let inner = DelegatedIdentity::new_unchecked(
            key,
            Box::new(session),
            vec![SignedDelegation {
                delegation,
                signature,
            }],
        );
        Identity::from_agent_identity(Arc::new(inner))
    }

    /// The anonymous identity (a link recipient's).
    pub fn anonymous() -> Identity {
        Identity {
            inner: Arc::new(ic_agent::identity::AnonymousIdentity),
            principal: Principal::anonymous(),
        }
    }

    /// The principal calls are signed as.
    pub fn principal(&self) -> Principal {
        self.principal
    }

    /// For ic-agent.
    pub fn agent_identity(&self) -> Arc<dyn ic_agent::Identity> {
        self.inner.clone()
    }

    /// A call's request id and its signature, the argument hashed once (a call sent without
    /// the agent, which would hash it again: `VaultCanister::put_chunk`). What ic-agent sends
    /// for the same content (`signs_calls_as_ic_agents_own_identities_do`).
    pub(crate) fn sign_call(
        &self,
        content: &ic_agent::agent::EnvelopeContent,
    ) -> Result<(ic_agent::RequestId, ic_agent::Signature), String> {
        signed_call(&*self.inner, content)
            .unwrap_or_else(|| Err("only a call without sender information is signed here".into()))
    }
}

/// `inner`, signing a call's request id computed here, its argument hashed with this crate's
/// SHA-256 (sha2 0.11: SIMD in a browser, SHA-NI natively). ic-agent's identities hash the
/// argument again with their own (sha2 0.10: a soft SHA-256 in a browser), after the agent
/// has hashed it once: on a 1 MiB chunk that second pass was ~20% of a browser's upload. The
/// same signature (`signs_calls_as_ic_agents_own_identities_do`); anything but a call (or
/// a call with sender information) is signed by `inner` itself.
struct HashOnce(Arc<dyn ic_agent::Identity>);

impl ic_agent::Identity for HashOnce {
    fn sender(&self) -> Result<Principal, String> {
        self.0.sender()
    }
    fn public_key(&self) -> Option<Vec<u8>> {
        self.0.public_key()
    }
    fn sign(
        &self,
        content: &ic_agent::agent::EnvelopeContent,
    ) -> Result<ic_agent::Signature, String> {
        match signed_call(&*self.0, content) {
            Some(signed) => signed.map(|(_, signature)| signature),
            None => self.0.sign(content),
        }
    }
    fn sign_delegation(
        &self,
        content: &ic_agent::identity::Delegation,
    ) -> Result<ic_agent::Signature, String> {
        self.0.sign_delegation(content)
    }
    fn sign_arbitrary(&self, content: &[u8]) -> Result<ic_agent::Signature, String> {
        self.0.sign_arbitrary(content)
    }
    fn delegation_chain(&self) -> Vec<ic_agent::identity::SignedDelegation> {
        self.0.delegation_chain()
    }
    fn sender_info(&self) -> Option<ic_agent::identity::SenderInfo> {
        self.0.sender_info()
    }
}

/// If `content` is a call without sender information: its request id ([`call_request_id`]),
/// and `signer`'s signature of it.
fn signed_call(
    signer: &dyn ic_agent::Identity,
    content: &ic_agent::agent::EnvelopeContent,
) -> Option<Result<(ic_agent::RequestId, ic_agent::Signature), String>> {
    let ic_agent::agent::EnvelopeContent::Call {
        nonce,
        ingress_expiry,
        sender,
        canister_id,
        method_name,
        arg,
        sender_info: None,
    } = content
    else {
        return None;
    };
    let id = ic_agent::RequestId::new(&call_request_id(
        nonce.as_deref(),
        *ingress_expiry,
        sender,
        canister_id,
        method_name,
        arg,
    ));
    Some(
        signer
            .sign_arbitrary(&id.signable())
            .map(|signature| (id, signature)),
    )
}

/// A call's request id (IC interface specification, "Request ids"): the SHA-256 of its
/// fields' `H(name) · H(value)` pairs in sorted order; a blob's or text's value hashed as its
/// bytes, a number's as its unsigned LEB128.
fn call_request_id(
    nonce: Option<&[u8]>,
    ingress_expiry: u64,
    sender: &Principal,
    canister_id: &Principal,
    method_name: &str,
    arg: &[u8],
) -> [u8; 32] {
    use sha2::Digest;
    let h = |bytes: &[u8]| -> [u8; 32] { sha2::Sha256::digest(bytes).into() };
    let mut expiry = Vec::with_capacity(10);
    let mut n = ingress_expiry;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            expiry.push(byte);
            break;
        }
        expiry.push(byte | 0x80);
    }
    let mut fields = vec![
        (h(b"request_type"), h(b"call")),
        (h(b"ingress_expiry"), h(&expiry)),
        (h(b"sender"), h(sender.as_slice())),
        (h(b"canister_id"), h(canister_id.as_slice())),
        (h(b"method_name"), h(method_name.as_bytes())),
        (h(b"arg"), h(arg)),
    ];
    if let Some(nonce) = nonce {
        fields.push((h(b"nonce"), h(nonce)));
    }
    fields.sort_unstable();
    let mut all = sha2::Sha256::new();
    for (name, value) in fields {
        all.update(name);
        all.update(value);
    }
    all.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_agent::agent::EnvelopeContent;
    use p256::ecdsa::signature::{Signer, Verifier};
    use p256::pkcs8::EncodePublicKey;

    /// A device key as a browser's WebCrypto makes one: ECDSA P-256, its public key in SPKI DER.
    fn device() -> (p256::ecdsa::SigningKey, Vec<u8>) {
        let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let der = key
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        (key, der)
    }

    fn query(sender: Principal) -> EnvelopeContent {
        EnvelopeContent::Query {
            ingress_expiry: 1,
            sender,
            canister_id: Principal::from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai").unwrap(),
            method_name: "status".into(),
            arg: vec![],
            nonce: None,
            sender_info: None,
        }
    }

    /// What `HashOnce` signs is what ic-agent's own identities sign (Ed25519 is
    /// deterministic: the same bytes), for calls with and without a nonce, a large argument,
    /// an expiry of many LEB128 bytes, directly and through a delegation; a query passes
    /// through.
    #[test]
    fn signs_calls_as_ic_agents_own_identities_do() {
        let basic: Arc<dyn ic_agent::Identity> = Arc::new(BasicIdentity::from_raw_key(&[3u8; 32]));
        let (_, der) = device();
        let session = BasicIdentity::from_raw_key(&[5u8; 32]);
        let delegation = ic_agent::identity::Delegation {
            pubkey: session.public_key().unwrap(),
            expiration: 42,
            targets: None,
            permissions: None,
        };
        let delegated: Arc<dyn ic_agent::Identity> =
            Arc::new(ic_agent::identity::DelegatedIdentity::new_unchecked(
                der,
                Box::new(session),
                vec![ic_agent::identity::SignedDelegation {
                    delegation,
                    signature: vec![7; 64],
                }],
            ));
        let canister_id = Principal::from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai").unwrap();
        for inner in [basic, delegated] {
            let ours = HashOnce(inner.clone());
            let sender = inner.sender().unwrap();
            let calls = [
                (None, 1u64, vec![]),
                (
                    Some(vec![1, 2, 3]),
                    1_765_000_000_000_000_000,
                    vec![9u8; 1 << 20],
                ),
                (Some(vec![]), u64::MAX, b"DIDL\x00\x00".to_vec()),
            ];
            for (nonce, ingress_expiry, arg) in calls {
                let call = EnvelopeContent::Call {
                    nonce,
                    ingress_expiry,
                    sender,
                    canister_id,
                    method_name: "put_chunk".into(),
                    arg,
                    sender_info: None,
                };
                // The request id (`call_request_id`), and what a call sent without the agent
                // carries (VaultCanister::put_chunk).
                let (id, signed) = signed_call(&*inner, &call).unwrap().unwrap();
                assert_eq!(id, call.to_request_id(), "the request id");
                let (a, b) = (ours.sign(&call).unwrap(), inner.sign(&call).unwrap());
                assert_eq!(a.signature, b.signature);
                assert_eq!(signed.signature, b.signature);
                assert_eq!(a.public_key, b.public_key);
                assert_eq!(
                    format!("{:?}", a.delegations),
                    format!("{:?}", b.delegations)
                );
            }
            let (a, b) = (
                ours.sign(&query(sender)).unwrap(),
                inner.sign(&query(sender)).unwrap(),
            );
            assert_eq!(a.signature, b.signature);
        }
    }

    #[tokio::test]
    async fn a_device_key_delegates_to_a_session_key_it_never_sees() {
        let (key, der) = device();
        let vault = Principal::from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai").unwrap();
        let signer = key.clone();
        let identity =
            Identity::delegated(der.clone(), Some(vec![vault]), 42, |bytes| async move {
                let signature: p256::ecdsa::Signature = signer.sign(&bytes);
                Ok(signature.to_bytes().to_vec())
            })
            .await
            .unwrap();
        // The principal is the device's: the same in every session.
        assert_eq!(identity.principal(), Principal::self_authenticating(&der));
        let signed = identity
            .agent_identity()
            .sign(&query(identity.principal()))
            .unwrap();
        assert_eq!(signed.public_key.as_deref(), Some(der.as_slice()));
        let chain = signed.delegations.expect("a delegation");
        assert_eq!(chain.len(), 1);
        let delegation = &chain[0].delegation;
        assert_eq!(delegation.targets, Some(vec![vault]));
        assert_eq!(delegation.expiration, 42);
        // It reaches its vault and nothing else (not the ledgers a top-up would call); an
        // undelegated key reaches every canister.
        assert!(identity.reaches(&vault));
        assert!(!identity.reaches(&crate::cycles::CYCLES_LEDGER));
        let unscoped = Identity::delegated(der.clone(), None, 42, |_| async { Ok(vec![0; 64]) })
            .await
            .unwrap();
        assert!(unscoped.reaches(&crate::cycles::CYCLES_LEDGER));
        // The device key signed the delegation (ECDSA over SHA-256 of its signable bytes)...
        let signature = p256::ecdsa::Signature::from_slice(&chain[0].signature).unwrap();
        key.verifying_key()
            .verify(&delegation.signable(), &signature)
            .expect("the device key's signature of the delegation");
        // ...to a session key that signs the call, and is not the device key.
        assert_ne!(delegation.pubkey, der);
        assert_eq!(signed.signature.map(|s| s.len()), Some(64));
        // Two sessions: two session keys, one principal.
        let again = Identity::delegated(der.clone(), None, 42, |bytes| async move {
            let signature: p256::ecdsa::Signature = key.sign(&bytes);
            Ok(signature.to_bytes().to_vec())
        })
        .await
        .unwrap();
        assert_eq!(again.principal(), identity.principal());
        let other = again
            .agent_identity()
            .sign(&query(again.principal()))
            .unwrap();
        assert_ne!(
            other.delegations.unwrap()[0].delegation.pubkey,
            delegation.pubkey
        );
    }

    #[tokio::test]
    async fn a_device_that_does_not_sign_gives_no_identity() {
        let (_, der) = device();
        let refused = Identity::delegated(der, None, 42, |_| async {
            Err(Error::Invalid("the browser refused".into()))
        })
        .await;
        assert!(matches!(refused, Err(Error::Invalid(why)) if why.contains("refused")));
    }
}
