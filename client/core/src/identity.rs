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
            inner: Arc::new(inner),
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
}
