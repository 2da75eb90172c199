//! Sharing with a person: a key sealed to their X25519 public key with HPKE (RFC 9180).
//!
//! ```text
//! suite     = mode_base, DHKEM(X25519, HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, AES-256-GCM 0x0002
//! info      = "vault/v1/share" || 0x00 || len(recipient) u8 || recipient principal
//!             || target kind u8 (0x01 album, 0x02 file) || target id
//! SealedKey = 0x01 || enc (32) || HPKE.Seal(info, aad = "", key) (32 + 16)
//! share code = "vs1-" || base32(payload || checksum4), in groups of 5, where payload is
//!               0x01 || len u8 || principal || public key                      (version 1)
//!            or 0x02 || len u8 || principal || public key || len u8 || vault   (version 2)
//! fingerprint = BIP39 words of the first 66 bits of SHA-256("vault/v1/fingerprint" || public key)
//! ```

use core::fmt;

use bip39::Language;
use data_encoding::BASE32_NOPAD;
use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRng;

use crate::error::{DecryptError, ShareCodeError};
use crate::format::{
    FORMAT_VERSION, KEY_SIZE, SEALED_KEY_SIZE, X25519_KEY_SIZE, check_version, label,
};
use crate::keys::{AlbumKey, FileKey, secret_key};
use crate::primitives::sha256;
use crate::wrap::WrappableKey;

secret_key!(
    /// The X25519 private key of a user's sharing key pair (RFC 7748 bytes, clamped).
    /// Stored wrapped by the master key, bound to its public key.
    pub SharingSecretKey
);

/// The public half of a sharing key pair: published by the user's canister, passed around in
/// share codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharingPublicKey([u8; X25519_KEY_SIZE]);

impl SharingPublicKey {
    /// The 32-byte X25519 public key.
    pub fn as_bytes(&self) -> &[u8; X25519_KEY_SIZE] {
        &self.0
    }

    /// Reads a public key from 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecryptError> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| DecryptError::WrongLength {
                what: "sharing public key",
                expected: X25519_KEY_SIZE,
                actual: bytes.len(),
            })
    }

    /// Seals `key` (identified by `id`) to this public key, for `recipient` (the grantee's
    /// principal bytes). Only the holder of the matching secret key can open it, and only for
    /// the same recipient and target.
    pub fn seal_key<K: ShareableKey>(
        &self,
        key: &K,
        recipient: &[u8],
        id: &K::Id,
        rng: &mut impl CryptoRng,
    ) -> Result<SealedKey, DecryptError> {
        let pk = <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(&self.0)
            .map_err(|_| DecryptError::DecryptionFailed)?;
        let info = share_info::<K>(recipient, id);
        let (enc, ciphertext) = hpke::single_shot_seal_with_rng::<
            AesGcm256,
            HkdfSha256,
            X25519HkdfSha256,
        >(&OpModeS::Base, &pk, &info, key.raw(), &[], rng)
        // Sealing fails only for a low-order public key (the all-zero DH output check).
        .map_err(|_| DecryptError::DecryptionFailed)?;
        let mut out = [0u8; SEALED_KEY_SIZE];
        out[0] = FORMAT_VERSION;
        out[1..1 + X25519_KEY_SIZE].copy_from_slice(&enc.to_bytes());
        out[1 + X25519_KEY_SIZE..].copy_from_slice(&ciphertext);
        Ok(SealedKey(out))
    }
}

impl fmt::Debug for SharingPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharingPublicKey(")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, ")")
    }
}

impl SharingSecretKey {
    /// The public key of this secret key.
    pub fn public_key(&self) -> SharingPublicKey {
        let sk = self
            .hpke_key()
            .expect("any 32 bytes are an X25519 private key");
        SharingPublicKey(X25519HkdfSha256::sk_to_pk(&sk).to_bytes().into())
    }

    fn hpke_key(&self) -> Result<<X25519HkdfSha256 as Kem>::PrivateKey, DecryptError> {
        <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(&self.0)
            .map_err(|_| DecryptError::DecryptionFailed)
    }

    /// Opens a key sealed to this key pair for `recipient` and target `id`.
    pub fn open_key<K: ShareableKey>(
        &self,
        sealed: &SealedKey,
        recipient: &[u8],
        id: &K::Id,
    ) -> Result<K, DecryptError> {
        let enc =
            <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&sealed.0[1..1 + X25519_KEY_SIZE])
                .map_err(|_| DecryptError::DecryptionFailed)?;
        let info = share_info::<K>(recipient, id);
        let plaintext = zeroize::Zeroizing::new(
            hpke::single_shot_open::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
                &OpModeR::Base,
                &self.hpke_key()?,
                &enc,
                &info,
                &sealed.0[1 + X25519_KEY_SIZE..],
                &[],
            )
            .map_err(|_| DecryptError::DecryptionFailed)?,
        );
        let raw: [u8; KEY_SIZE] = plaintext
            .as_slice()
            .try_into()
            .map_err(|_| DecryptError::DecryptionFailed)?;
        Ok(K::from_raw(raw))
    }
}

/// A user's sharing key pair.
pub struct SharingKeyPair {
    /// The secret half: wrap it with the master key before storing it.
    pub secret: SharingSecretKey,
    /// The public half: publish it.
    pub public: SharingPublicKey,
}

impl fmt::Debug for SharingKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharingKeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SharingKeyPair {
    /// A fresh key pair (HPKE `GenerateKeyPair`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let (sk, _) = X25519HkdfSha256::gen_keypair_with_rng(rng);
        let secret = SharingSecretKey::from_bytes(sk.to_bytes().into());
        let public = secret.public_key();
        Self { secret, public }
    }
}

/// A key sealed to a grantee ([`SEALED_KEY_SIZE`] bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedKey([u8; SEALED_KEY_SIZE]);

impl SealedKey {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8; SEALED_KEY_SIZE] {
        &self.0
    }

    /// Reads a sealed key, checking its version and then its length (not its authenticity).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecryptError> {
        check_version(bytes)?;
        let bytes: [u8; SEALED_KEY_SIZE] =
            bytes.try_into().map_err(|_| DecryptError::WrongLength {
                what: "sealed key",
                expected: SEALED_KEY_SIZE,
                actual: bytes.len(),
            })?;
        Ok(Self(bytes))
    }
}

impl fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedKey({} bytes)", self.0.len())
    }
}

/// A key that can be shared with a person: an album key or a file key.
pub trait ShareableKey: WrappableKey {
    /// The target kind byte in the HPKE info.
    #[doc(hidden)]
    const TARGET_KIND: u8;
}

impl ShareableKey for AlbumKey {
    const TARGET_KIND: u8 = 1;
}

impl ShareableKey for FileKey {
    const TARGET_KIND: u8 = 2;
}

/// Maximum length of a principal (IC principals are at most 29 bytes).
const MAX_PRINCIPAL_SIZE: usize = 29;

fn share_info<K: ShareableKey>(recipient: &[u8], id: &K::Id) -> Vec<u8> {
    let len = u8::try_from(recipient.len()).expect("principals are at most 29 bytes");
    let mut info = [label::SHARE, &[0, len], recipient, &[K::TARGET_KIND]].concat();
    info.extend_from_slice(&K::id_bytes(id));
    info
}

const SHARE_CODE_PREFIX: &str = "vs1";
const CHECKSUM_SIZE: usize = 4;
const GROUP: usize = 5;
/// The version byte of a share code without a vault.
const SHARE_CODE_V1: u8 = FORMAT_VERSION;
/// The version byte of a share code that names the owner's vault.
const SHARE_CODE_V2: u8 = 2;

/// What a user gives another so they can share with them: their principal and sharing public
/// key, from version 2 also their vault canister id, with a checksum that catches typos. Text
/// form: `vs1-xxxxx-xxxxx-...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareCode {
    /// The user's principal (raw bytes, at most 29).
    pub principal: Vec<u8>,
    /// Their sharing public key.
    pub public_key: SharingPublicKey,
    /// The owner's vault canister id (raw bytes, 1 to 29); present in version 2 codes.
    pub vault: Option<Vec<u8>>,
}

impl ShareCode {
    /// The share code of `principal` with `public_key`, naming no vault (version 1).
    pub fn new(principal: &[u8], public_key: SharingPublicKey) -> Result<Self, ShareCodeError> {
        if principal.len() > MAX_PRINCIPAL_SIZE {
            return Err(ShareCodeError::Malformed("principal longer than 29 bytes"));
        }
        Ok(Self {
            principal: principal.to_vec(),
            public_key,
            vault: None,
        })
    }

    /// This code naming the owner's vault canister `vault` (raw principal bytes, 1 to 29): its
    /// text is of version 2.
    pub fn with_vault(mut self, vault: &[u8]) -> Result<Self, ShareCodeError> {
        if vault.is_empty() {
            return Err(ShareCodeError::Malformed("empty vault id"));
        }
        if vault.len() > MAX_PRINCIPAL_SIZE {
            return Err(ShareCodeError::Malformed("vault id longer than 29 bytes"));
        }
        self.vault = Some(vault.to_vec());
        Ok(self)
    }

    /// The text form: version 2 when it names a vault, version 1 otherwise.
    pub fn to_text(&self) -> String {
        let version = match self.vault {
            Some(_) => SHARE_CODE_V2,
            None => SHARE_CODE_V1,
        };
        let mut payload = vec![version, self.principal.len() as u8];
        payload.extend_from_slice(&self.principal);
        payload.extend_from_slice(self.public_key.as_bytes());
        if let Some(vault) = &self.vault {
            payload.push(vault.len() as u8);
            payload.extend_from_slice(vault);
        }
        encode(payload)
    }

    /// Reads the text form (version 1 or 2), forgiving case, white space and dashes.
    pub fn parse(text: &str) -> Result<Self, ShareCodeError> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let body = cleaned
            .strip_prefix("VS1")
            .ok_or(ShareCodeError::WrongPrefix)?;
        let bytes = BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| ShareCodeError::NotBase32)?;
        if bytes.len() < 2 + X25519_KEY_SIZE + CHECKSUM_SIZE {
            return Err(ShareCodeError::BadChecksum);
        }
        let (payload, checksum) = bytes.split_at(bytes.len() - CHECKSUM_SIZE);
        if sha256(payload)[..CHECKSUM_SIZE] != *checksum {
            return Err(ShareCodeError::BadChecksum);
        }
        let version = payload[0];
        if version != SHARE_CODE_V1 && version != SHARE_CODE_V2 {
            return Err(ShareCodeError::UnsupportedVersion(version));
        }
        const UNEVEN: ShareCodeError = ShareCodeError::Malformed("lengths do not add up");
        let len = payload[1] as usize;
        let key_end = 2 + len + X25519_KEY_SIZE;
        if len > MAX_PRINCIPAL_SIZE || payload.len() < key_end {
            return Err(UNEVEN);
        }
        let vault = if version == SHARE_CODE_V1 {
            if payload.len() != key_end {
                return Err(UNEVEN);
            }
            None
        } else {
            let vault_len = *payload.get(key_end).ok_or(UNEVEN)? as usize;
            if vault_len == 0
                || vault_len > MAX_PRINCIPAL_SIZE
                || payload.len() != key_end + 1 + vault_len
            {
                return Err(UNEVEN);
            }
            Some(payload[key_end + 1..].to_vec())
        };
        let public_key =
            SharingPublicKey::from_bytes(&payload[2 + len..key_end]).expect("length checked above");
        Ok(Self {
            principal: payload[2..2 + len].to_vec(),
            public_key,
            vault,
        })
    }

    /// The fingerprint words of the public key, for two people to compare.
    pub fn fingerprint(&self) -> String {
        fingerprint_words(&self.public_key)
    }
}

impl fmt::Display for ShareCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// The text of a share code's `payload`: its checksum appended, base32, in groups.
fn encode(mut payload: Vec<u8>) -> String {
    let checksum = sha256(&payload);
    payload.extend_from_slice(&checksum[..CHECKSUM_SIZE]);
    let body = BASE32_NOPAD.encode(&payload).to_lowercase();
    let groups: Vec<&str> = body
        .as_bytes()
        .chunks(GROUP)
        .map(|g| core::str::from_utf8(g).expect("base32 is ASCII"))
        .collect();
    format!("{SHARE_CODE_PREFIX}-{}", groups.join("-"))
}

/// Number of words in a fingerprint (66 bits: a second preimage costs 2^66 work).
const FINGERPRINT_WORDS: usize = 6;

/// Six words from the BIP39 English list naming a sharing public key: the first 66 bits of
/// `SHA-256("vault/v1/fingerprint" || public key)`, 11 bits a word, most significant first.
pub fn fingerprint_words(public_key: &SharingPublicKey) -> String {
    let digest = sha256(&[label::FINGERPRINT, public_key.as_bytes()].concat());
    let bits = u128::from_be_bytes(digest[..16].try_into().expect("digest has 32 bytes"));
    let list = Language::English.word_list();
    (0..FINGERPRINT_WORDS)
        .map(|i| list[((bits >> (128 - 11 * (i + 1))) & 0x7ff) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rrkah-fqaaa-aaaaa-aaaaq-cai`, a canister id as the IC makes them (10 bytes).
    const VAULT: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];

    fn key() -> SharingPublicKey {
        SharingPublicKey::from_bytes(&[9; 32]).unwrap()
    }

    /// The payload of a version 2 code with `vault_len` as its vault length byte and `vault`.
    fn v2_payload(vault_len: u8, vault: &[u8]) -> Vec<u8> {
        let mut payload = vec![2, 3, 1, 2, 3];
        payload.extend_from_slice(key().as_bytes());
        payload.push(vault_len);
        payload.extend_from_slice(vault);
        payload
    }

    #[test]
    fn a_code_with_a_vault_is_version_2_and_round_trips() {
        let code = ShareCode::new(&[1, 2, 3], key())
            .unwrap()
            .with_vault(&VAULT)
            .unwrap();
        assert_eq!(code.vault.as_deref(), Some(VAULT.as_slice()));
        let text = code.to_text();
        assert!(text.starts_with("vs1-"), "{text}");
        let bytes = BASE32_NOPAD
            .decode(text[4..].replace('-', "").to_uppercase().as_bytes())
            .unwrap();
        assert_eq!(bytes[..bytes.len() - CHECKSUM_SIZE], v2_payload(10, &VAULT));
        assert_eq!(ShareCode::parse(&text).unwrap(), code);
        let longest = ShareCode::new(&[7; 29], key())
            .unwrap()
            .with_vault(&[8; 29])
            .unwrap();
        assert_eq!(ShareCode::parse(&longest.to_text()).unwrap(), longest);
    }

    #[test]
    fn a_version_1_code_still_parses_without_a_vault() {
        let code = ShareCode::new(&[1, 2, 3], key()).unwrap();
        let mut payload = vec![1, 3, 1, 2, 3];
        payload.extend_from_slice(key().as_bytes());
        let text = encode(payload);
        assert_eq!(code.to_text(), text);
        let parsed = ShareCode::parse(&text).unwrap();
        assert_eq!(parsed.vault, None);
        assert_eq!(parsed, code);
    }

    #[test]
    fn a_version_2_code_whose_lengths_do_not_add_up_is_malformed() {
        let trailing = [VAULT.as_slice(), &[0]].concat();
        for payload in [
            v2_payload(0, &[]),
            v2_payload(30, &[5; 30]),
            v2_payload(10, &trailing),
            v2_payload(11, &VAULT),
            // A version 1 body under version 2: no vault length byte.
            v2_payload(0, &[])[..5 + 32].to_vec(),
        ] {
            assert!(
                matches!(
                    ShareCode::parse(&encode(payload.clone())),
                    Err(ShareCodeError::Malformed(_))
                ),
                "{payload:02x?}"
            );
        }
        // Version 1 with a vault appended is malformed too.
        let mut v1 = v2_payload(10, &VAULT);
        v1[0] = 1;
        assert!(matches!(
            ShareCode::parse(&encode(v1)),
            Err(ShareCodeError::Malformed(_))
        ));
    }

    #[test]
    fn other_versions_are_unsupported() {
        for version in [0, 3, 0xff] {
            let mut payload = v2_payload(10, &VAULT);
            payload[0] = version;
            assert_eq!(
                ShareCode::parse(&encode(payload)),
                Err(ShareCodeError::UnsupportedVersion(version))
            );
        }
    }

    #[test]
    fn an_empty_or_long_vault_is_refused() {
        let code = ShareCode::new(&[1, 2, 3], key()).unwrap();
        assert!(matches!(
            code.clone().with_vault(&[]),
            Err(ShareCodeError::Malformed(_))
        ));
        assert!(matches!(
            code.with_vault(&[1; 30]),
            Err(ShareCodeError::Malformed(_))
        ));
    }

    #[test]
    fn a_sloppy_version_2_code_parses() {
        let code = ShareCode::new(&[1, 2, 3], key())
            .unwrap()
            .with_vault(&VAULT)
            .unwrap();
        let text = code.to_text();
        let body: String = text.chars().filter(|&c| c != '-').collect();
        for sloppy in [
            text.to_uppercase(),
            format!(" \t{}\n", text.replace('-', " ")),
            body.clone(),
            format!("VS1-{}", body[3..].to_uppercase()),
            body.chars().flat_map(|c| [c, '-']).collect(),
            format!("vS1 -- {}", &body[3..]),
        ] {
            assert_eq!(ShareCode::parse(&sloppy).as_ref(), Ok(&code), "{sloppy}");
        }
    }
}
