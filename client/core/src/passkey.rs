//! Passkeys (WebAuthn credentials) as devices of the owner's: what a platform's authenticator
//! answers, turned into what the IC and the vault take.
//!
//! - **Adding one** ([`Registration`]): the authenticator data of a `navigator.credentials
//!   .create` holds the credential's COSE public key; wrapped in DER as the IC's interface
//!   specification says ([`vault_interface::passkey::der_wrap`]) it is the key the passkey
//!   signs as, its principal the self-authenticating one. Where the authenticator evaluated the
//!   `prf` extension, its output wraps the master key (docs/FORMAT.md §7.1), so the passkey
//!   unlocks too.
//! - **Signing in** ([`Assertion`]): the authenticator signs, after user verification, a
//!   delegation to the session key ([`crate::Identity::delegated_by`]): one prompt per session.
//!   The IC takes the signature as a CBOR map of the authenticator data, the client data and
//!   the signature ([`Assertion::ic_signature`]).

use candid::Principal;
use zeroize::Zeroizing;

use crate::Error;

/// The authenticator data's flags (WebAuthn §6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;
/// rpIdHash (32), flags (1), signCount (4).
const AUTH_DATA_HEADER: usize = 37;
/// AAGUID (16) and the credential id's length (2).
const ATTESTED_HEADER: usize = 18;

/// What a vault asks a platform's authenticator to make or use: the challenge to sign and
/// the PRF input to evaluate (docs/FORMAT.md §7.1).
#[derive(Clone, Debug)]
pub struct PasskeyRequest {
    /// The vault whose passkey this is (its principal names the user to the authenticator).
    pub vault: Principal,
    /// What to sign: when signing in, the delegation's signable bytes.
    pub challenge: Vec<u8>,
    /// What the authenticator's PRF is asked to evaluate.
    pub prf_input: [u8; 32],
    /// Passkeys the vault has already (credential ids): an authenticator holding one of them
    /// makes no second.
    pub exclude: Vec<Vec<u8>>,
}

impl PasskeyRequest {
    /// A request for `vault`, signing `challenge`.
    pub fn new(vault: Principal, challenge: Vec<u8>) -> PasskeyRequest {
        PasskeyRequest {
            vault,
            challenge,
            prf_input: vault_crypto::passkey_prf_input(vault.as_slice()),
            exclude: Vec::new(),
        }
    }
}

/// A PRF output: a secret only the authenticator can make again.
pub type PrfOutput = Zeroizing<[u8; 32]>;

/// What an authenticator answered when it made a passkey.
#[derive(Clone)]
pub struct Registration {
    /// The credential id.
    pub credential_id: Vec<u8>,
    /// The authenticator data, with the attested credential (its COSE key).
    pub authenticator_data: Vec<u8>,
    /// The PRF's output for the vault's input, when the authenticator gave one.
    pub prf: Option<PrfOutput>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("credential_id", &hex::encode(&self.credential_id))
            .field("prf", &self.prf.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// What an authenticator answered when it signed.
#[derive(Clone)]
pub struct Assertion {
    /// The credential that signed.
    pub credential_id: Vec<u8>,
    /// The authenticator data (WebAuthn §6.1).
    pub authenticator_data: Vec<u8>,
    /// The client data JSON the browser made (its `challenge` is what was signed).
    pub client_data_json: Vec<u8>,
    /// The signature (for ES256, DER `(r, s)`).
    pub signature: Vec<u8>,
    /// The PRF's output for the vault's input, when the authenticator gave one.
    pub prf: Option<PrfOutput>,
}

impl std::fmt::Debug for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assertion")
            .field("credential_id", &hex::encode(&self.credential_id))
            .field("prf", &self.prf.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

fn refused(why: &str) -> Error {
    Error::Invalid(format!("the passkey's answer cannot be used: {why}"))
}

impl Registration {
    /// The passkey's public key as the IC takes it (DER-wrapped COSE), read from the
    /// authenticator data; refused unless the authenticator verified the user and names the
    /// credential it was asked about.
    pub fn public_key(&self) -> Result<Vec<u8>, Error> {
        let data = &self.authenticator_data;
        if data.len() < AUTH_DATA_HEADER + ATTESTED_HEADER {
            return Err(refused("its authenticator data is too short"));
        }
        let flags = data[32];
        if flags & ATTESTED_CREDENTIAL == 0 {
            return Err(refused("it holds no credential"));
        }
        if flags & (USER_PRESENT | USER_VERIFIED) != USER_PRESENT | USER_VERIFIED {
            return Err(Error::Invalid(
                "the passkey did not verify you (no fingerprint, face or PIN): use an \
                 authenticator that can"
                    .into(),
            ));
        }
        let rest = &data[AUTH_DATA_HEADER + 16..];
        let id_len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let rest = &rest[2..];
        if rest.len() < id_len || rest[..id_len] != self.credential_id[..] {
            return Err(refused("it names another credential"));
        }
        let key = &rest[id_len..];
        let mut decoder = minicbor::Decoder::new(key);
        decoder
            .skip()
            .map_err(|_| refused("its public key is not CBOR"))?;
        vault_interface::passkey::der_wrap(&key[..decoder.position()])
            .ok_or_else(|| refused("its public key is empty or too large"))
    }

    /// The principal the passkey signs as.
    pub fn principal(&self) -> Result<Principal, Error> {
        Ok(Principal::self_authenticating(self.public_key()?))
    }
}

impl Assertion {
    /// The signature as the IC takes it (interface specification, "Web Authentication"): a
    /// CBOR map, under the self-describing tag, of `authenticator_data`, `client_data_json`
    /// and `signature`.
    pub fn ic_signature(&self) -> Result<Vec<u8>, Error> {
        let client_data = std::str::from_utf8(&self.client_data_json)
            .map_err(|_| refused("its client data is not UTF-8"))?;
        let mut out = Vec::new();
        let mut e = minicbor::Encoder::new(&mut out);
        e.tag(minicbor::data::Tag::new(55799))
            .and_then(|e| e.map(3))
            .and_then(|e| e.str("authenticator_data"))
            .and_then(|e| e.bytes(&self.authenticator_data))
            .and_then(|e| e.str("client_data_json"))
            .and_then(|e| e.str(client_data))
            .and_then(|e| e.str("signature"))
            .and_then(|e| e.bytes(&self.signature))
            .map_err(|_| refused("it cannot be encoded"))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Authenticator data with an attested credential `id` and COSE key `cose`.
    fn auth_data(flags: u8, id: &[u8], cose: &[u8]) -> Vec<u8> {
        let mut d = vec![0xaa; 32];
        d.push(flags);
        d.extend([0, 0, 0, 1]);
        d.extend([0; 16]);
        d.extend((id.len() as u16).to_be_bytes());
        d.extend(id);
        d.extend(cose);
        d
    }

    /// A COSE ES256 key's CBOR map (kty 2, alg -7, crv 1, x, y).
    fn es256(x: u8) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = minicbor::Encoder::new(&mut out);
        e.map(5).unwrap();
        e.u8(1).unwrap().u8(2).unwrap();
        e.u8(3).unwrap().i8(-7).unwrap();
        e.i8(-1).unwrap().u8(1).unwrap();
        e.i8(-2).unwrap().bytes(&[x; 32]).unwrap();
        e.i8(-3).unwrap().bytes(&[x + 1; 32]).unwrap();
        out
    }

    fn registration(flags: u8, id: &[u8], data_id: &[u8], tail: &[u8]) -> Registration {
        Registration {
            credential_id: id.to_vec(),
            authenticator_data: [auth_data(flags, data_id, &es256(5)), tail.to_vec()].concat(),
            prf: None,
        }
    }

    #[test]
    fn reads_the_cose_key_and_stops_where_it_ends() {
        let id = [7u8; 20];
        // Extensions after the key (the ED flag) are not part of it.
        let r = registration(0x45 | 0x80, &id, &id, &[0xa1, 0x61, 0x78, 0x01]);
        let key = r.public_key().unwrap();
        assert_eq!(
            vault_interface::passkey::cose_key(&key),
            Some(&es256(5)[..])
        );
        assert_eq!(r.principal().unwrap(), Principal::self_authenticating(&key));
    }

    #[test]
    fn refuses_what_is_not_a_verified_new_credential() {
        let id = [7u8; 20];
        let unverified = registration(0x41, &id, &id, &[]);
        assert!(
            unverified
                .public_key()
                .unwrap_err()
                .to_string()
                .contains("verify you")
        );
        let no_credential = registration(0x05, &id, &id, &[]);
        assert!(no_credential.public_key().is_err());
        let other = registration(0x45, &id, &[8; 20], &[]);
        assert!(other.public_key().is_err());
        let mut short = registration(0x45, &id, &id, &[]);
        short.authenticator_data.truncate(40);
        assert!(short.public_key().is_err());
        let mut not_cbor = registration(0x45, &id, &id, &[]);
        not_cbor
            .authenticator_data
            .truncate(AUTH_DATA_HEADER + ATTESTED_HEADER + 20 + 3);
        assert!(not_cbor.public_key().is_err());
    }

    #[test]
    fn the_signature_is_the_map_the_ic_reads() {
        let a = Assertion {
            credential_id: vec![1],
            authenticator_data: vec![2; 37],
            client_data_json: br#"{"type":"webauthn.get"}"#.to_vec(),
            signature: vec![3; 70],
            prf: None,
        };
        let sig = a.ic_signature().unwrap();
        assert_eq!(&sig[..3], &[0xd9, 0xd9, 0xf7], "the self-describing tag");
        let mut d = minicbor::Decoder::new(&sig[3..]);
        assert_eq!(d.map().unwrap(), Some(3));
        assert_eq!(d.str().unwrap(), "authenticator_data");
        assert_eq!(d.bytes().unwrap(), &[2; 37]);
        assert_eq!(d.str().unwrap(), "client_data_json");
        assert_eq!(d.str().unwrap(), r#"{"type":"webauthn.get"}"#);
        assert_eq!(d.str().unwrap(), "signature");
        assert_eq!(d.bytes().unwrap(), &[3; 70]);
        assert!(format!("{a:?}").contains("credential_id"));
    }
}
