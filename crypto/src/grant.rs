//! Grant authenticators: the owner's MAC over the terms of a grant (who, which key, what, until
//! when), so that any of the owner's devices can trust a grant record the canister hands back —
//! above all the grantee's public key, which a key rotation seals the new album key to — without
//! trusting the node that answered the query.
//!
//! ```text
//! grant key     = HKDF-SHA256[salt = "", info = "vault/v1/grant"](master key)
//! message       = 0x01 || u8(len(vault)) || vault || target kind u8 || target id (16)
//!                 || u8(len(grantee)) || grantee || grantee public key (32)
//!                 || permission u8 (0x00 view, 0x01 contribute)
//!                 || 0x00 || u64be(0) (no expiry)  |  0x01 || u64be(expires_at)
//! authenticator = 0x01 || HMAC-SHA256(grant key, message)                   (33 bytes)
//! ```

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::GrantError;
use crate::format::{FORMAT_VERSION, X25519_KEY_SIZE, label};
use crate::ids::{AlbumId, FileId};
use crate::keys::{MasterKey, secret_key};
use crate::primitives::hkdf_sha256;
use crate::sharing::SharingPublicKey;

/// Size of a [`GrantAuthenticator`]: version + HMAC-SHA256.
pub const GRANT_AUTHENTICATOR_SIZE: usize = 1 + 32;

/// The longest principal the IC has (a self-authenticating id is 29 bytes).
const MAX_PRINCIPAL_SIZE: usize = 29;

secret_key!(
    /// The key of a user's grant authenticators, derived from the master key.
    pub GrantKey
);

/// What a grant shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantTarget {
    /// An album (every version of its key).
    Album(AlbumId),
    /// One file.
    File(FileId),
}

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantPermission {
    /// Read.
    View,
    /// Read, and add files to the album.
    Contribute,
}

/// The terms of a grant, as the owner decided them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantTerms<'a> {
    /// The owner's vault canister id (raw principal bytes, at most 29).
    pub vault: &'a [u8],
    /// What is shared.
    pub target: GrantTarget,
    /// The grantee's principal (raw bytes, at most 29).
    pub grantee: &'a [u8],
    /// The grantee's sharing public key, from the share code the owner checked.
    pub grantee_key: &'a SharingPublicKey,
    /// What the grantee may do.
    pub permission: GrantPermission,
    /// When the grant lapses (ns since the epoch); none for never.
    pub expires_at: Option<u64>,
}

impl GrantTerms<'_> {
    /// The canonical bytes the authenticator covers.
    pub fn message(&self) -> Result<Vec<u8>, GrantError> {
        for (what, principal) in [("vault", self.vault), ("grantee", self.grantee)] {
            if principal.len() > MAX_PRINCIPAL_SIZE {
                return Err(GrantError::PrincipalTooLong {
                    what,
                    len: principal.len(),
                });
            }
        }
        let (kind, id) = match &self.target {
            GrantTarget::Album(a) => (0x01, a.as_bytes()),
            GrantTarget::File(f) => (0x02, f.as_bytes()),
        };
        let mut m =
            Vec::with_capacity(2 * (1 + MAX_PRINCIPAL_SIZE) + 1 + 17 + X25519_KEY_SIZE + 10);
        m.push(FORMAT_VERSION);
        m.push(self.vault.len() as u8);
        m.extend_from_slice(self.vault);
        m.push(kind);
        m.extend_from_slice(id);
        m.push(self.grantee.len() as u8);
        m.extend_from_slice(self.grantee);
        m.extend_from_slice(self.grantee_key.as_bytes());
        m.push(match self.permission {
            GrantPermission::View => 0x00,
            GrantPermission::Contribute => 0x01,
        });
        match self.expires_at {
            None => m.extend_from_slice(&[0u8; 9]),
            Some(t) => {
                m.push(0x01);
                m.extend_from_slice(&t.to_be_bytes());
            }
        }
        Ok(m)
    }
}

impl GrantKey {
    /// The grant key of `master`.
    pub fn derive(master: &MasterKey) -> Self {
        Self::from_bytes(*hkdf_sha256(&[], master.expose_secret(), label::GRANT))
    }

    fn mac(&self, terms: &GrantTerms<'_>) -> Result<Hmac<Sha256>, GrantError> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(&terms.message()?);
        Ok(mac)
    }

    /// The authenticator of `terms`, stored with the grant.
    pub fn authenticate(&self, terms: &GrantTerms<'_>) -> Result<GrantAuthenticator, GrantError> {
        let mut out = [0u8; GRANT_AUTHENTICATOR_SIZE];
        out[0] = FORMAT_VERSION;
        out[1..].copy_from_slice(&self.mac(terms)?.finalize().into_bytes());
        Ok(GrantAuthenticator(out))
    }

    /// Checks that `authenticator` (as stored) was made by this key for exactly `terms`:
    /// the version byte, then the size, then the MAC (compared in constant time).
    pub fn verify(&self, terms: &GrantTerms<'_>, authenticator: &[u8]) -> Result<(), GrantError> {
        let authenticator = GrantAuthenticator::from_bytes(authenticator)?;
        self.mac(terms)?
            .verify_slice(&authenticator.0[1..])
            .map_err(|_| GrantError::NotAuthentic)
    }
}

/// `0x01 || HMAC-SHA256(grant key, terms)`: the owner's seal on a grant's terms.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GrantAuthenticator([u8; GRANT_AUTHENTICATOR_SIZE]);

impl GrantAuthenticator {
    /// The 33 stored bytes.
    pub fn as_bytes(&self) -> &[u8; GRANT_AUTHENTICATOR_SIZE] {
        &self.0
    }

    /// Reads stored bytes: the version, then the size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GrantError> {
        match bytes.first() {
            Some(&v) if v != FORMAT_VERSION => Err(GrantError::UnsupportedVersion(v)),
            _ => bytes
                .try_into()
                .map(Self)
                .map_err(|_| GrantError::WrongLength {
                    expected: GRANT_AUTHENTICATOR_SIZE,
                    actual: bytes.len(),
                }),
        }
    }
}

impl fmt::Debug for GrantAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrantAuthenticator(")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms<'a>(key: &'a SharingPublicKey) -> GrantTerms<'a> {
        GrantTerms {
            vault: &[1; 10],
            target: GrantTarget::Album(AlbumId([2; 16])),
            grantee: &[3; 29],
            grantee_key: key,
            permission: GrantPermission::View,
            expires_at: Some(5),
        }
    }

    #[test]
    fn any_change_to_the_terms_or_the_key_is_not_authentic() {
        let key = GrantKey::derive(&MasterKey::from_bytes([7; 32]));
        let public = SharingPublicKey::from_bytes(&[4; 32]).unwrap();
        let other = SharingPublicKey::from_bytes(&[5; 32]).unwrap();
        let a = key.authenticate(&terms(&public)).unwrap();
        assert_eq!(key.verify(&terms(&public), a.as_bytes()), Ok(()));
        let changed = [
            GrantTerms {
                grantee_key: &other,
                ..terms(&public)
            },
            GrantTerms {
                vault: &[1; 11],
                ..terms(&public)
            },
            GrantTerms {
                grantee: &[3; 28],
                ..terms(&public)
            },
            GrantTerms {
                target: GrantTarget::File(FileId([2; 16])),
                ..terms(&public)
            },
            GrantTerms {
                permission: GrantPermission::Contribute,
                ..terms(&public)
            },
            GrantTerms {
                expires_at: None,
                ..terms(&public)
            },
            GrantTerms {
                expires_at: Some(6),
                ..terms(&public)
            },
        ];
        for t in changed {
            assert_eq!(
                key.verify(&t, a.as_bytes()),
                Err(GrantError::NotAuthentic),
                "{t:?}"
            );
        }
        let other_owner = GrantKey::derive(&MasterKey::from_bytes([8; 32]));
        assert_eq!(
            other_owner.verify(&terms(&public), a.as_bytes()),
            Err(GrantError::NotAuthentic)
        );
        assert!(matches!(
            key.verify(&terms(&public), &a.as_bytes()[..32]),
            Err(GrantError::WrongLength { .. })
        ));
        let mut v2 = *a.as_bytes();
        v2[0] = 2;
        assert_eq!(
            key.verify(&terms(&public), &v2),
            Err(GrantError::UnsupportedVersion(2))
        );
    }
}
