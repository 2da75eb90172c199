//! This browser as a device of the owner's: a non-extractable ECDSA P-256 WebCrypto key, kept
//! in IndexedDB by the page (`static/boot.js`: `vaultDevice`), is the device's identity. It
//! signs once per page a delegation to an Ed25519 session key that lives in this page's memory
//! only ([`vault_client::Identity::delegated`]), for calls to this vault only, for
//! [`SESSION`]. No script can read the device key, so what a script could take from this
//! origin's storage signs nothing.

use candid::Principal;
use js_sys::Uint8Array;
use vault_client::{Error, Identity};
use wasm_bindgen::prelude::*;

/// How long one page's session key acts for the device.
pub const SESSION: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

#[wasm_bindgen(js_namespace = vaultDevice)]
extern "C" {
    #[wasm_bindgen(catch, js_name = publicKey)]
    async fn public_key() -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch)]
    async fn sign(bytes: Uint8Array) -> Result<JsValue, JsValue>;
}

/// What the browser said when it refused.
fn refused(what: &str, e: JsValue) -> Error {
    let why = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    Error::Invalid(format!(
        "this browser would not {what} ({why}): allow this site to keep data, or open it in a \
         window that is not private"
    ))
}

/// This device's identity for this page, acting on `vault` (any canister when the page names
/// none).
pub async fn identity(vault: Option<Principal>) -> Result<Identity, Error> {
    let key = public_key()
        .await
        .map_err(|e| refused("make or find this device's key", e))?;
    let key = Uint8Array::new(&key).to_vec();
    let now_ns = (js_sys::Date::now() * 1e6) as u64;
    let expiration = now_ns.saturating_add(SESSION.as_nanos() as u64);
    Identity::delegated(
        key,
        vault.map(|v| vec![v]),
        expiration,
        |bytes| async move {
            let signature = sign(Uint8Array::from(&bytes[..]))
                .await
                .map_err(|e| refused("sign with this device's key", e))?;
            Ok(Uint8Array::new(&signature).to_vec())
        },
    )
    .await
}
