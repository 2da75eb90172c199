//! Passkeys: requests and delegations signed as a browser's WebAuthn authenticator signs them
//! (IC interface spec, "Web Authentication"), with ES256 and RS256 keys, sent through ic-agent's
//! own request builders; and every way such a signature or key can be wrong, refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use ic_agent::identity::{Delegation, Signature};
use k256::ecdsa::signature::Signer;
use serde_cbor::Value;
use sha2::Digest;
use spki::der::Decode;
use spki::der::Encode;
use spki::der::asn1::{BitString, SequenceOf, UintRef};

use super::*;

/// A passkey's private key.
enum Key {
    Es256(p256::ecdsa::SigningKey),
    Rs256(aws_lc_rs::rsa::KeyPair),
}

fn es256(seed: u8) -> Arc<Key> {
    Arc::new(Key::Es256(
        p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("a valid scalar"),
    ))
}

fn rs256() -> Arc<Key> {
    Arc::new(Key::Rs256(
        aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("an RSA key is made"),
    ))
}

impl Key {
    /// The COSE key (RFC 9053) a browser reports for the credential.
    fn cose(&self) -> Vec<u8> {
        let int = |v: i128| Value::Integer(v);
        let map: BTreeMap<Value, Value> = match self {
            Key::Es256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                BTreeMap::from([
                    (int(1), int(2)),
                    (int(3), int(-7)),
                    (int(-1), int(1)),
                    (int(-2), Value::Bytes(point.x().expect("x").to_vec())),
                    (int(-3), Value::Bytes(point.y().expect("y").to_vec())),
                ])
            }
            Key::Rs256(key) => {
                // RFC 8017 RSAPublicKey: SEQUENCE { n INTEGER, e INTEGER }.
                let public = aws_lc_rs::signature::KeyPair::public_key(key);
                let ints = SequenceOf::<UintRef<'_>, 2>::from_der(public.as_ref())
                    .expect("an RSAPublicKey");
                let mut ints = ints.iter();
                let mut next = || Value::Bytes(ints.next().expect("n, e").as_bytes().to_vec());
                let (n, e) = (next(), next());
                BTreeMap::from([
                    (int(1), int(3)),
                    (int(3), int(-257)),
                    (int(-1), n),
                    (int(-2), e),
                ])
            }
        };
        serde_cbor::to_vec(&Value::Map(map)).expect("CBOR encodes")
    }

    /// The key as the IC takes it: a DER-wrapped COSE key.
    fn der(&self) -> Vec<u8> {
        wrap_cose(&self.cose())
    }

    /// The authenticator's signature of `message` (ES256 as DER `(r, s)`).
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Key::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            Key::Rs256(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .expect("RSA signs");
                signature
            }
        }
    }
}

/// `SubjectPublicKeyInfo { 1.3.6.1.4.1.56387.1.1, BIT STRING cose }`.
fn wrap_cose(cose: &[u8]) -> Vec<u8> {
    spki::SubjectPublicKeyInfoOwned {
        algorithm: spki::AlgorithmIdentifierOwned {
            oid: spki::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.56387.1.1"),
            parameters: None,
        },
        subject_public_key: BitString::from_bytes(cose).expect("a BIT STRING"),
    }
    .to_der()
    .expect("DER encodes")
}

/// What an authenticator answers `navigator.credentials.get` with.
struct Assertion {
    authenticator_data: Vec<u8>,
    client_data_json: String,
    signature: Vec<u8>,
}

/// The client data a browser makes for `challenge`.
fn client_data(challenge: &str) -> String {
    format!(
        r#"{{"type":"webauthn.get","challenge":"{challenge}","origin":"http://vault.localhost:4943","crossOrigin":false}}"#
    )
}

/// An assertion over `client_data_json` as `key` makes it: relying party hash, flags (user
/// present and verified), counter; signed with the client data's SHA-256.
fn assert_with(key: &Key, client_data_json: String) -> Assertion {
    let mut authenticator_data = sha2::Sha256::digest(b"vault.localhost").to_vec();
    authenticator_data.extend_from_slice(&[0x05, 0, 0, 0, 1]);
    let mut message = authenticator_data.clone();
    message.extend_from_slice(&sha2::Sha256::digest(client_data_json.as_bytes()));
    Assertion {
        signature: key.sign(&message),
        authenticator_data,
        client_data_json,
    }
}

/// An honest assertion of `payload`.
fn assertion(key: &Key, payload: &[u8]) -> Assertion {
    assert_with(
        key,
        client_data(&data_encoding::BASE64URL_NOPAD.encode(payload)),
    )
}

/// The signature blob: a self-described CBOR map of the three fields.
fn encode(assertion: &Assertion) -> Vec<u8> {
    let map = BTreeMap::from([
        (
            Value::Text("authenticator_data".into()),
            Value::Bytes(assertion.authenticator_data.clone()),
        ),
        (
            Value::Text("client_data_json".into()),
            Value::Text(assertion.client_data_json.clone()),
        ),
        (
            Value::Text("signature".into()),
            Value::Bytes(assertion.signature.clone()),
        ),
    ]);
    let mut bytes = vec![0xd9, 0xd9, 0xf7];
    bytes.extend(serde_cbor::to_vec(&Value::Map(map)).expect("CBOR encodes"));
    bytes
}

/// How an authenticator answers a payload: honestly, or in one of the wrong ways tried below.
type Behaviour = fn(&Key, &[u8]) -> Vec<u8>;

fn honest(key: &Key, payload: &[u8]) -> Vec<u8> {
    encode(&assertion(key, payload))
}

/// A passkey as an ic-agent identity: what a browser's WebAuthn identity does.
struct Passkey {
    key: Arc<Key>,
    behaviour: Behaviour,
}

impl Passkey {
    fn new(key: Arc<Key>) -> Passkey {
        Passkey {
            key,
            behaviour: honest,
        }
    }

    fn signature(&self, payload: &[u8]) -> Signature {
        Signature {
            public_key: Some(self.key.der()),
            signature: Some((self.behaviour)(&self.key, payload)),
            delegations: None,
        }
    }
}

impl Identity for Passkey {
    fn sender(&self) -> Result<Principal, String> {
        Ok(Principal::self_authenticating(self.key.der()))
    }
    fn public_key(&self) -> Option<Vec<u8>> {
        Some(self.key.der())
    }
    fn sign(&self, content: &EnvelopeContent) -> Result<Signature, String> {
        Ok(self.signature(&content.to_request_id().signable()))
    }
    fn sign_delegation(&self, content: &Delegation) -> Result<Signature, String> {
        Ok(self.signature(&content.signable()))
    }
    fn sign_arbitrary(&self, content: &[u8]) -> Result<Signature, String> {
        Ok(self.signature(content))
    }
}

#[test]
fn passkeys_sign_calls_and_queries_with_es256_and_rs256() {
    let t = now();
    for key in [es256(1), rs256()] {
        let passkey = Passkey::new(key);
        let sender = passkey.sender().expect("a sender");
        let call = signed_call(
            &agent(Passkey::new(passkey.key.clone())),
            canister(1),
            t + MINUTE,
        );
        let verified = authenticate(call_endpoint(canister(1)), &call, t).expect("accepted");
        assert_eq!(verified.sender, sender);
        let query = signed_query(&agent(passkey), canister(1), t + MINUTE);
        authenticate(query_endpoint(canister(1)), &query, t).expect("accepted");
    }
}

#[test]
fn a_high_s_es256_signature_is_accepted_as_on_the_ic() {
    fn high_s(key: &Key, payload: &[u8]) -> Vec<u8> {
        let Key::Es256(signing) = key else {
            unreachable!("ES256")
        };
        let mut a = assertion(key, payload);
        let mut message = a.authenticator_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(a.client_data_json.as_bytes()));
        let signed: p256::ecdsa::Signature = signing.sign(&message);
        // RustCrypto's signer may give either S: start from the low one.
        let low = signed.normalize_s().unwrap_or(signed);
        let (r, s) = low.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r, -*s).expect("a signature");
        assert!(bool::from(high.s().is_high()), "the test makes a high S");
        a.signature = high.to_der().as_bytes().to_vec();
        encode(&a)
    }
    let t = now();
    let passkey = Passkey {
        key: es256(2),
        behaviour: high_s,
    };
    let call = signed_call(&agent(passkey), canister(1), t + MINUTE);
    authenticate(call_endpoint(canister(1)), &call, t).expect("accepted");
}

#[test]
fn a_passkey_delegates_to_a_session_key_for_this_canister_only() {
    // What the phone app does: one biometric prompt signs a short delegation to a session key,
    // which then signs every request of the session.
    let t = now();
    for key in [es256(3), rs256()] {
        let passkey = Passkey::new(key);
        let session = p256(4);
        let chain = vec![delegation(
            &passkey,
            &session,
            t + MINUTE,
            Some(vec![canister(1)]),
            None,
        )];
        let identity = DelegatedIdentity::new_unchecked(
            passkey.public_key().expect("a key"),
            Box::new(session),
            chain,
        );
        let sender = passkey.sender().expect("a sender");
        let agent = agent(identity);
        let call = signed_call(&agent, canister(1), t + MINUTE);
        let verified = authenticate(call_endpoint(canister(1)), &call, t).expect("accepted");
        assert_eq!(verified.sender, sender);
        let elsewhere = signed_call(&agent, canister(2), t + MINUTE);
        assert_eq!(
            authenticate(call_endpoint(canister(2)), &elsewhere, t),
            Err(IngressRefusal::CanisterNotInTargets {
                canister_id: canister(2)
            })
        );
    }
}

#[test]
fn a_padded_challenge_is_accepted_as_on_the_ic() {
    // Browsers send the challenge unpadded; the IC's decoder takes padding too.
    fn padded(key: &Key, payload: &[u8]) -> Vec<u8> {
        let padded = data_encoding::BASE64URL.encode(payload);
        assert!(
            padded.ends_with('='),
            "a request id's or delegation's payload pads"
        );
        encode(&assert_with(key, client_data(&padded)))
    }
    let t = now();
    let passkey = Passkey {
        key: es256(9),
        behaviour: padded,
    };
    let call = signed_call(&agent(passkey), canister(1), t + MINUTE);
    authenticate(call_endpoint(canister(1)), &call, t).expect("accepted");
}

/// Each wrong way an authenticator (or someone between it and the replica) can answer, named.
fn wrong_behaviours() -> Vec<(&'static str, Behaviour)> {
    vec![
        ("the challenge of another payload", |key, payload| {
            honest(key, &[payload, b"!"].concat())
        }),
        (
            "authenticator data changed after signing",
            |key, payload| {
                let mut a = assertion(key, payload);
                a.authenticator_data[32] ^= 0x04;
                encode(&a)
            },
        ),
        ("client data changed after signing", |key, payload| {
            let mut a = assertion(key, payload);
            a.client_data_json = a
                .client_data_json
                .replace("vault.localhost", "evil.localhost");
            encode(&a)
        }),
        ("signed by another passkey", |_, payload| {
            honest(&es256(99), payload)
        }),
        ("the signature cut short", |key, payload| {
            let mut a = assertion(key, payload);
            a.signature.truncate(a.signature.len() - 1);
            encode(&a)
        }),
        ("client data that is not JSON, signed", |key, _| {
            encode(&assert_with(key, "not json".into()))
        }),
        ("a challenge that is not base64url, signed", |key, _| {
            encode(&assert_with(key, client_data("+/+/")))
        }),
        ("no challenge, signed", |key, _| {
            encode(&assert_with(
                key,
                r#"{"type":"webauthn.get","origin":"http://vault.localhost:4943"}"#.into(),
            ))
        }),
        ("client data without its type, signed", |key, payload| {
            let challenge = data_encoding::BASE64URL_NOPAD.encode(payload);
            let json = format!(r#"{{"challenge":"{challenge}","origin":"http://a.localhost"}}"#);
            encode(&assert_with(key, json))
        }),
        ("client data without its origin, signed", |key, payload| {
            let challenge = data_encoding::BASE64URL_NOPAD.encode(payload);
            let json = format!(r#"{{"type":"webauthn.get","challenge":"{challenge}"}}"#);
            encode(&assert_with(key, json))
        }),
        ("a blob that is not CBOR", |_, _| vec![0xff; 40]),
        ("a map without the client data", |key, payload| {
            let a = assertion(key, payload);
            let map = BTreeMap::from([
                (
                    Value::Text("authenticator_data".into()),
                    Value::Bytes(a.authenticator_data),
                ),
                (Value::Text("signature".into()), Value::Bytes(a.signature)),
            ]);
            serde_cbor::to_vec(&Value::Map(map)).expect("CBOR encodes")
        }),
        (
            "an ECDSA signature as raw r · s, not DER",
            |key, payload| {
                let mut a = assertion(key, payload);
                if let Ok(der) = p256::ecdsa::Signature::from_der(&a.signature) {
                    a.signature = der.to_bytes().to_vec();
                }
                encode(&a)
            },
        ),
    ]
}

#[test]
fn every_wrong_passkey_signature_of_a_request_is_refused() {
    let t = now();
    for key in [es256(5), rs256()] {
        let rsa = matches!(*key, Key::Rs256(_));
        for (what, behaviour) in wrong_behaviours() {
            if rsa && what.contains("ECDSA") {
                continue;
            }
            let passkey = Passkey {
                key: key.clone(),
                behaviour,
            };
            let call = signed_call(&agent(passkey), canister(1), t + MINUTE);
            let refused = authenticate(call_endpoint(canister(1)), &call, t);
            assert!(
                matches!(refused, Err(IngressRefusal::InvalidSignature { .. })),
                "{what} ({}): {refused:?}",
                if rsa { "RS256" } else { "ES256" }
            );
        }
    }
}

#[test]
fn every_wrong_passkey_signature_of_a_delegation_is_refused() {
    let t = now();
    let key = es256(6);
    for (what, behaviour) in wrong_behaviours() {
        let passkey = Passkey {
            key: key.clone(),
            behaviour,
        };
        let session = p256(7);
        let chain = vec![delegation(&passkey, &session, t + MINUTE, None, None)];
        let identity = DelegatedIdentity::new_unchecked(key.der(), Box::new(session), chain);
        let call = signed_call(&agent(identity), canister(1), t + MINUTE);
        assert_eq!(
            authenticate(call_endpoint(canister(1)), &call, t),
            Err(IngressRefusal::InvalidDelegationSignature { index: 0 }),
            "{what}"
        );
    }
}

#[test]
fn every_malformed_passkey_key_is_refused() {
    let t = now();
    let int = |v: i128| Value::Integer(v);
    let good = es256(8);
    let Value::Map(es256_map) =
        serde_cbor::from_slice::<Value>(&good.cose()).expect("the COSE key decodes")
    else {
        unreachable!("a map")
    };
    let with = |changes: &[(i128, Option<Value>)]| {
        let mut map = es256_map.clone();
        for (label, value) in changes {
            match value {
                Some(value) => map.insert(int(*label), value.clone()),
                None => map.remove(&int(*label)),
            };
        }
        serde_cbor::to_vec(&Value::Map(map)).expect("CBOR encodes")
    };
    let Some(Value::Bytes(y)) = es256_map.get(&int(-3)) else {
        unreachable!("y")
    };
    let mut off_curve_y = y.clone();
    off_curve_y[31] ^= 1;
    let rsa = |n: Vec<u8>, e: Vec<u8>| {
        serde_cbor::to_vec(&Value::Map(BTreeMap::from([
            (int(1), int(3)),
            (int(3), int(-257)),
            (int(-1), Value::Bytes(n)),
            (int(-2), Value::Bytes(e)),
        ])))
        .expect("CBOR")
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not CBOR", vec![0xff; 8]),
        (
            "a key of 3,000 bytes",
            with(&[(99, Some(Value::Bytes(vec![0; 3000])))]),
        ),
        (
            "a key for signing only",
            with(&[(4, Some(Value::Text("sign".into())))]),
        ),
        ("RSA-1024", rsa(vec![0xc5; 128], vec![1, 0, 1])),
        (
            "RSA of 4,097 bits",
            rsa([&[1][..], &[0xc5; 512]].concat(), vec![1, 0, 1]),
        ),
        ("an even RSA modulus", rsa(vec![0xc4; 256], vec![1, 0, 1])),
        ("an even RSA exponent", rsa(vec![0xc5; 256], vec![1, 0, 0])),
        ("an RSA exponent of 1", rsa(vec![0xc5; 256], vec![1])),
        (
            "an RSA exponent of 2^40 + 1",
            rsa(vec![0xc5; 256], vec![1, 0, 0, 0, 0, 1]),
        ),
        (
            "CBOR that is not a map",
            serde_cbor::to_vec(&int(7)).expect("CBOR"),
        ),
        (
            "EdDSA (an OKP key)",
            with(&[(1, Some(int(1))), (3, Some(int(-8)))]),
        ),
        ("ES256 on P-384", with(&[(-1, Some(int(2)))])),
        ("ES384", with(&[(3, Some(int(-35)))])),
        ("no key type", with(&[(1, None)])),
        ("no y", with(&[(-3, None)])),
        (
            "x of 31 bytes",
            with(&[(-2, Some(Value::Bytes(vec![1; 31])))]),
        ),
        (
            "a point off the curve",
            with(&[(-3, Some(Value::Bytes(off_curve_y)))]),
        ),
        (
            "RSA without e",
            serde_cbor::to_vec(&Value::Map(BTreeMap::from([
                (int(1), int(3)),
                (int(3), int(-257)),
                (int(-1), Value::Bytes(vec![0xc5; 256])),
            ])))
            .expect("CBOR"),
        ),
    ];
    for (what, cose) in cases {
        let der = wrap_cose(&cose);
        let bytes = Envelope {
            content: Cow::Owned(call_content(
                Principal::self_authenticating(&der),
                canister(1),
                t + MINUTE,
            )),
            sender_pubkey: Some(der),
            sender_sig: Some(honest(&good, b"anything")),
            sender_delegation: None,
        }
        .encode_bytes();
        let refused = authenticate(call_endpoint(canister(1)), &bytes, t);
        assert!(
            matches!(refused, Err(IngressRefusal::MalformedKey(_))),
            "{what}: {refused:?}"
        );
    }
}

#[test]
fn an_rsa_key_with_leading_zeros_and_a_verify_only_key_are_accepted() {
    let t = now();
    // The same RSA key with a zero byte before its modulus, as some encoders write it.
    let key = rs256();
    let Value::Map(mut map) = serde_cbor::from_slice::<Value>(&key.cose()).expect("COSE") else {
        unreachable!("a map")
    };
    let Some(Value::Bytes(n)) = map.get(&Value::Integer(-1)).cloned() else {
        unreachable!("n")
    };
    map.insert(Value::Integer(-1), Value::Bytes([&[0][..], &n].concat()));
    // ES256 marked for verifying only.
    let es = es256(10);
    let Value::Map(mut es_map) = serde_cbor::from_slice::<Value>(&es.cose()).expect("COSE") else {
        unreachable!("a map")
    };
    es_map.insert(Value::Integer(4), Value::Text("verify".into()));
    for (signer, cose) in [(key, map), (es, es_map)] {
        let der = wrap_cose(&serde_cbor::to_vec(&Value::Map(cose)).expect("CBOR"));
        let content = call_content(
            Principal::self_authenticating(&der),
            canister(1),
            t + MINUTE,
        );
        let payload = content.to_request_id().signable();
        let bytes = Envelope {
            content: Cow::Owned(content),
            sender_pubkey: Some(der),
            sender_sig: Some(honest(&signer, &payload)),
            sender_delegation: None,
        }
        .encode_bytes();
        authenticate(call_endpoint(canister(1)), &bytes, t).expect("accepted");
    }
}
