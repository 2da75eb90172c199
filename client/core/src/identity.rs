//! The user's identity: an Ed25519 key in a PEM file as dfx keeps it
//! (`~/.config/dfx/identity/<name>/identity.pem` imports as it is).

use std::path::Path;
use std::sync::Arc;

use candid::Principal;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ic_agent::Identity as _;
use ic_agent::identity::BasicIdentity;

use crate::Error;
use crate::home::write_atomic;

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
    /// Reads the identity at `path`, creating a new one (mode 0600) if there is none.
    /// Returns whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Identity, bool), Error> {
        if path.exists() {
            return Ok((Identity::load(path)?, false));
        }
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand::Rng::fill_bytes(&mut crate::rng(), seed.as_mut_slice());
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let pem = key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|e| Error::Identity {
                path: path.display().to_string(),
                why: format!("cannot encode a new key: {e}"),
            })?;
        write_atomic(path, pem.as_bytes(), 0o600)?;
        Ok((Identity::load(path)?, true))
    }

    /// Reads a PEM identity (dfx's format: PKCS#8 Ed25519).
    pub fn load(path: &Path) -> Result<Identity, Error> {
        let bytes =
            std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Identity::from_pem(&bytes).map_err(|why| Error::Identity {
            path: path.display().to_string(),
            why,
        })
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

    /// Copies a PEM identity (e.g. dfx's) to `path` (mode 0600) after checking it parses.
    pub fn import(from: &Path, path: &Path) -> Result<Identity, Error> {
        let bytes =
            std::fs::read(from).map_err(|e| Error::io(format!("reading {}", from.display()), e))?;
        let identity = Identity::from_pem(&bytes).map_err(|why| Error::Identity {
            path: from.display().to_string(),
            why,
        })?;
        write_atomic(path, &bytes, 0o600)?;
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
