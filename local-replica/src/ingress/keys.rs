//! The public keys a request (or a delegation) may be signed with, and their signatures, as the IC
//! interface spec's "Signatures" section gives them: a key is a DER `SubjectPublicKeyInfo` whose
//! algorithm says the scheme; a signature is an opaque blob in that scheme's form.
//!
//! | scheme | algorithm OID (parameters) | key bits | signature |
//! |---|---|---|---|
//! | Ed25519 (RFC 8410) | 1.3.101.112 (none) | 32-byte point | 64 bytes `R · S` |
//! | ECDSA secp256k1 (RFC 5480) | 1.2.840.10045.2.1 (1.3.132.0.10) | 65 bytes `04 · x · y` | 64 bytes `r · s`, big-endian |
//! | ECDSA P-256 (RFC 5480) | 1.2.840.10045.2.1 (1.2.840.10045.3.1.7) | 65 bytes `04 · x · y` | 64 bytes `r · s`, big-endian |
//! | WebAuthn (passkeys) | 1.3.6.1.4.1.56387.1.1 (none) | a COSE key: ES256 or RS256 | CBOR, see [`super::webauthn`] |
//!
//! ECDSA signs SHA-256 of the payload. Canister signatures (1.3.6.1.4.1.56387.1.2, Internet
//! Identity's) and RSA outside WebAuthn are recognised and refused as unsupported: checking the
//! first needs a certificate of the state tree, and the IC allows RSA only inside WebAuthn.

use k256::ecdsa::signature::Verifier;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use super::webauthn::WebAuthnKey;

/// `id-Ed25519` (RFC 8410).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// `id-ecPublicKey` (RFC 5480); the curve is the parameter.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256k1` (SEC 2).
const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
/// `prime256v1`, also known as P-256 or secp256r1.
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// DFINITY's canister-signature scheme (IC interface spec, "Canister signatures").
const CANISTER_SIGNATURE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.56387.1.2");
/// DFINITY's DER-wrapped COSE key, used by WebAuthn (IC interface spec, "Web Authentication").
const DER_WRAPPED_COSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.56387.1.1");
/// `rsaEncryption` (RFC 8017); the IC allows RSA only inside WebAuthn.
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Bytes of an uncompressed SEC1 point on a 256-bit curve: `04 · x · y`.
const UNCOMPRESSED_POINT_SIZE: usize = 65;
/// The SEC1 tag of an uncompressed point.
const UNCOMPRESSED_POINT_TAG: u8 = 0x04;

/// A signature scheme this replica recognises but cannot check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnsupportedScheme {
    /// Canister signatures (Internet Identity's): need a certificate of this replica's state tree.
    CanisterSignature,
    /// RSA, which the IC allows only inside WebAuthn.
    Rsa,
}

impl std::fmt::Display for UnsupportedScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UnsupportedScheme::CanisterSignature => "canister signatures",
            UnsupportedScheme::Rsa => "RSA",
        })
    }
}

/// Why a public key was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// Not a DER public key of a scheme the IC has, or not a valid key of its scheme.
    Malformed(String),
    /// A scheme the IC has but this replica does not check.
    Unsupported(UnsupportedScheme),
}

/// A public key of one of the plain signature schemes, ready to verify.
#[derive(Clone, Debug)]
pub(crate) enum SenderKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Secp256k1(k256::ecdsa::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    WebAuthn(WebAuthnKey),
}

impl SenderKey {
    /// Parses a DER `SubjectPublicKeyInfo` as agents send it in `sender_pubkey` and delegations.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let malformed = |what: &str| KeyError::Malformed(what.to_string());
        let spki = SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| KeyError::Malformed(format!("not a DER SubjectPublicKeyInfo: {e}")))?;
        let key_bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| malformed("the key's BIT STRING is not whole bytes"))?;
        match spki.algorithm.oid {
            ED25519 => {
                if spki.algorithm.parameters.is_some() {
                    return Err(malformed("an Ed25519 key has no algorithm parameters"));
                }
                let point: &[u8; 32] = key_bits
                    .try_into()
                    .map_err(|_| malformed("an Ed25519 key is 32 bytes"))?;
                ed25519_dalek::VerifyingKey::from_bytes(point)
                    .map(SenderKey::Ed25519)
                    .map_err(|_| malformed("not a point on Ed25519"))
            }
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| malformed("an EC key names its curve by OID"))?;
                if key_bits.len() != UNCOMPRESSED_POINT_SIZE
                    || key_bits[0] != UNCOMPRESSED_POINT_TAG
                {
                    return Err(malformed(
                        "an ECDSA key is an uncompressed point (04 · x · y)",
                    ));
                }
                match curve {
                    SECP256K1 => k256::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                        .map(SenderKey::Secp256k1)
                        .map_err(|_| malformed("not a point on secp256k1")),
                    P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                        .map(SenderKey::P256)
                        .map_err(|_| malformed("not a point on P-256")),
                    other => Err(KeyError::Malformed(format!(
                        "ECDSA on curve {other} is not a scheme the IC has"
                    ))),
                }
            }
            CANISTER_SIGNATURE => Err(KeyError::Unsupported(UnsupportedScheme::CanisterSignature)),
            DER_WRAPPED_COSE => {
                if spki.algorithm.parameters.is_some() {
                    return Err(malformed(
                        "a DER-wrapped COSE key has no algorithm parameters",
                    ));
                }
                WebAuthnKey::from_cose(key_bits).map(SenderKey::WebAuthn)
            }
            RSA => Err(KeyError::Unsupported(UnsupportedScheme::Rsa)),
            other => Err(KeyError::Malformed(format!(
                "algorithm {other} is not a signature scheme the IC has"
            ))),
        }
    }

    /// Whether `signature` is this key's signature of `payload` (domain separator included).
    pub(crate) fn verifies(&self, payload: &[u8], signature: &[u8]) -> bool {
        match self {
            SenderKey::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(payload, &sig).is_ok()),
            SenderKey::Secp256k1(key) => {
                k256::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| {
                    // k256 accepts only low-S signatures; the IC's format does not require
                    // them, and `(r, s)` is valid exactly when `(r, n - s)` is.
                    let sig = sig.normalize_s().unwrap_or(sig);
                    key.verify(payload, &sig).is_ok()
                })
            }
            SenderKey::P256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(payload, &sig).is_ok()),
            SenderKey::WebAuthn(key) => key.verifies(payload, signature),
        }
    }
}
