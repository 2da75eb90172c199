//! WebAuthn (passkey) signatures, as the IC interface spec's "Web Authentication" section
//! gives them, checked as the IC checks them.
//!
//! - **The key** is a COSE key (RFC 9053) wrapped in a DER `SubjectPublicKeyInfo` whose
//!   algorithm is 1.3.6.1.4.1.56387.1.1 and whose BIT STRING holds the COSE key's CBOR: ECDSA
//!   P-256 with SHA-256 (`kty` 2, `alg` -7, `crv` 1, `x` and `y` of 32 bytes) or RSA PKCS#1
//!   v1.5 with SHA-256 (`kty` 3, `alg` -257, `n` and `e`).
//! - **The signature** is a CBOR map (self-describing tag optional, as the IC's parser skips
//!   tags) of `authenticator_data`
//!   (bytes), `client_data_json` (text) and `signature` (bytes). It is valid when the client
//!   data (JSON with `type`, `challenge` and `origin` strings) has as `challenge` the base64url
//!   of the signed payload (unpadded as browsers send it; padding is accepted, as the IC does) (the domain-separated
//!   request id or delegation), and `signature` verifies under the key on
//!   `authenticator_data · SHA-256(client_data_json)` — for ECDSA a DER `(r, s)`.
//!
//! As on the IC, nothing else in the authenticator data or client data is checked (the relying
//! party, the origin's value, the user-verification flag): they are the client's to choose when
//! it registers and uses the passkey. RSA keys are held to the IC's bounds: a 2048- to 4096-bit
//! odd modulus and an odd exponent from 3 to 2^33 (leading zero bytes allowed). A key of more
//! than [`MAX_COSE_KEY_BYTES`] is refused before it is parsed, so a stranger's request cannot
//! make the replica build a huge CBOR value.

use k256::ecdsa::signature::Verifier;
use serde::Deserialize;
use serde_cbor::Value;
use sha2::Digest;

use super::keys::KeyError;

/// The largest COSE key parsed: an RSA-4096 key is about 530 bytes, RSA-8192 about 1,060.
pub(crate) const MAX_COSE_KEY_BYTES: usize = 2048;

/// COSE key labels and values used here (RFC 9052 §7, RFC 9053 §2.1 and §7, RFC 8230 §4).
mod cose {
    pub const KTY: i128 = 1;
    pub const ALG: i128 = 3;
    pub const KEY_OPS: i128 = 4;
    pub const EC2_CRV: i128 = -1;
    pub const EC2_X: i128 = -2;
    pub const EC2_Y: i128 = -3;
    pub const RSA_N: i128 = -1;
    pub const RSA_E: i128 = -2;
    pub const KTY_EC2: i128 = 2;
    pub const KTY_RSA: i128 = 3;
    pub const ALG_ES256: i128 = -7;
    pub const ALG_RS256: i128 = -257;
    pub const CRV_P256: i128 = 1;
}

/// A passkey's public key, ready to verify.
#[derive(Clone, Debug)]
pub(crate) enum WebAuthnKey {
    /// ECDSA P-256 with SHA-256 (COSE ES256).
    Es256(p256::ecdsa::VerifyingKey),
    /// RSA PKCS#1 v1.5 with SHA-256 (COSE RS256): modulus and exponent, big-endian.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

/// What a WebAuthn signature blob holds.
#[derive(Deserialize)]
struct Signed {
    #[serde(with = "serde_bytes")]
    authenticator_data: Vec<u8>,
    client_data_json: String,
    #[serde(with = "serde_bytes")]
    signature: Vec<u8>,
}

/// The client data's fields the IC requires (only the challenge's value is checked).
#[derive(Deserialize)]
struct ClientData {
    challenge: String,
    #[serde(rename = "type")]
    _type: String,
    #[serde(rename = "origin")]
    _origin: String,
}

impl WebAuthnKey {
    /// Parses the COSE key a DER-wrapped COSE `SubjectPublicKeyInfo` holds.
    pub(crate) fn from_cose(bytes: &[u8]) -> Result<Self, KeyError> {
        let malformed = |what: &str| KeyError::Malformed(format!("WebAuthn key: {what}"));
        if bytes.len() > MAX_COSE_KEY_BYTES {
            return Err(malformed("longer than any ES256 or RS256 COSE key"));
        }
        let Ok(Value::Map(map)) = serde_cbor::from_slice::<Value>(bytes) else {
            return Err(malformed("not a COSE key (a CBOR map)"));
        };
        let int = |label: i128| match map.get(&Value::Integer(label)) {
            Some(Value::Integer(value)) => Some(*value),
            _ => None,
        };
        let bytes = |label: i128| match map.get(&Value::Integer(label)) {
            Some(Value::Bytes(value)) if !value.is_empty() => Some(value.as_slice()),
            _ => None,
        };
        // A key restricted to other operations does not verify (RFC 9052 §7.1).
        match map.get(&Value::Integer(cose::KEY_OPS)) {
            None => {}
            Some(Value::Text(op)) if op == "verify" => {}
            Some(_) => return Err(malformed("its key_ops are not \"verify\"")),
        }
        match (int(cose::KTY), int(cose::ALG)) {
            (Some(cose::KTY_EC2), Some(cose::ALG_ES256)) => {
                if int(cose::EC2_CRV) != Some(cose::CRV_P256) {
                    return Err(malformed("ES256 is on the P-256 curve (crv 1)"));
                }
                let (Some(x), Some(y)) = (bytes(cose::EC2_X), bytes(cose::EC2_Y)) else {
                    return Err(malformed("an EC2 key has x and y"));
                };
                if x.len() != 32 || y.len() != 32 {
                    return Err(malformed("a P-256 key's x and y are 32 bytes each"));
                }
                let point = [&[0x04][..], x, y].concat();
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .map(WebAuthnKey::Es256)
                    .map_err(|_| malformed("not a point on P-256"))
            }
            (Some(cose::KTY_RSA), Some(cose::ALG_RS256)) => {
                let (Some(n), Some(e)) = (bytes(cose::RSA_N), bytes(cose::RSA_E)) else {
                    return Err(malformed("an RSA key has n and e"));
                };
                rsa_key(n, e).map_err(malformed)
            }
            (kty, alg) => Err(KeyError::Malformed(format!(
                "WebAuthn key: COSE key type {} with algorithm {} is not one the IC has \
                 (ES256 or RS256)",
                kty.map_or("none".into(), |v| v.to_string()),
                alg.map_or("none".into(), |v| v.to_string()),
            ))),
        }
    }

    /// Whether `signature` (the WebAuthn CBOR blob) signs `payload` under this key.
    pub(crate) fn verifies(&self, payload: &[u8], signature: &[u8]) -> bool {
        let Ok(signed) = serde_cbor::from_slice::<Signed>(signature) else {
            return false;
        };
        let Ok(client_data) = serde_json::from_str::<ClientData>(&signed.client_data_json) else {
            return false;
        };
        let challenge = client_data.challenge.as_bytes();
        let decoded = if challenge.ends_with(b"=") {
            data_encoding::BASE64URL.decode(challenge)
        } else {
            data_encoding::BASE64URL_NOPAD.decode(challenge)
        };
        let challenge_is_payload = decoded.is_ok_and(|challenge| challenge == payload);
        if !challenge_is_payload {
            return false;
        }
        let mut message = signed.authenticator_data;
        message.extend_from_slice(&sha2::Sha256::digest(signed.client_data_json.as_bytes()));
        match self {
            WebAuthnKey::Es256(key) => p256::ecdsa::Signature::from_der(&signed.signature)
                .is_ok_and(|sig| {
                    // Authenticators need not give low-S signatures; `(r, s)` is valid
                    // exactly when `(r, n - s)` is.
                    let sig = sig.normalize_s().unwrap_or(sig);
                    key.verify(&message, &sig).is_ok()
                }),
            WebAuthnKey::Rs256 { n, e } => aws_lc_rs::signature::RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .verify(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                &message,
                &signed.signature,
            )
            .is_ok(),
        }
    }
}

/// An RS256 key within the IC's bounds: modulus and exponent without leading zero bytes, the
/// modulus odd and of 2048 to 4096 bits, the exponent odd, at least 3 and below 2^33.
fn rsa_key(n: &[u8], e: &[u8]) -> Result<WebAuthnKey, &'static str> {
    let strip = |v: &[u8]| v[v.iter().take_while(|b| **b == 0).count()..].to_vec();
    let (n, e) = (strip(n), strip(e));
    let bits = |v: &[u8]| match v.first() {
        Some(first) => 8 * v.len() - first.leading_zeros() as usize,
        None => 0,
    };
    if !(2048..=4096).contains(&bits(&n)) {
        return Err("an RS256 modulus has 2048 to 4096 bits");
    }
    if n.last().is_none_or(|b| b % 2 == 0) {
        return Err("an RSA modulus is odd");
    }
    let exponent = e.iter().try_fold(0u64, |acc, b| {
        (acc < 1 << 56).then_some((acc << 8) | u64::from(*b))
    });
    match exponent {
        Some(e) if (3..1 << 33).contains(&e) && e % 2 == 1 => {}
        _ => return Err("an RSA exponent is odd, at least 3 and below 2^33"),
    }
    Ok(WebAuthnKey::Rs256 { n, e })
}
