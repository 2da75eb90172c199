//! What a front end remembers between runs besides keys: the default network, this identity's
//! vault on each network, and the vaults others share with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::platform::{Item, Store};

/// The settings ([`Item::Settings`], JSON).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The network used when none is named (`local`, `ic`, or a URL).
    #[serde(default)]
    pub network: Option<String>,
    /// The vault canister of this identity, per network name.
    #[serde(default)]
    pub vaults: BTreeMap<String, String>,
    /// Vault canisters of other people that share with this identity (`vault shared --from`).
    #[serde(default)]
    pub shared: Vec<String>,
}

impl Settings {
    /// The settings `store` keeps (defaults when it keeps none yet).
    pub fn load(store: &dyn Store) -> Result<Settings, Error> {
        match store.load(&Item::Settings)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Invalid(format!(
                    "{} is not valid: {e}; fix or remove it",
                    store.describe(&Item::Settings)
                ))
            }),
            None => Ok(Settings::default()),
        }
    }

    /// Keeps these settings in `store` (replaced whole).
    pub fn save(&self, store: &dyn Store) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(self).expect("settings always serialise");
        store.save(&Item::Settings, &json)
    }
}
