//! Argon2id off the page: the passphrase's key is derived in a Web Worker (`vaultKdf` in
//! `static/boot.js`, `static/kdf-worker.js`) that instantiates this same wasm from the module
//! the page compiled, derives the one key ([`derive_kek`]), answers and is ended. The page stays
//! responsive meanwhile, and its own memory (which a wasm page never gives back) never holds
//! Argon2id's 64–256 MiB: the worker's goes with it.

use js_sys::Uint8Array;
use vault_client::platform::set_kdf;
use vault_crypto::{PassphraseKek, UnlockParams};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

#[wasm_bindgen(js_namespace = vaultKdf)]
extern "C" {
    /// The key (32 bytes) of `passphrase` under the unlock params `params`, from a worker.
    #[wasm_bindgen(catch)]
    async fn derive(params: Uint8Array, passphrase: &str) -> Result<JsValue, JsValue>;
}

/// Has vault-client derive passphrase keys in a worker.
pub fn install() {
    set_kdf(std::rc::Rc::new(|params: UnlockParams, passphrase| {
        Box::pin(async move {
            let params = Uint8Array::from(&params.to_bytes()[..]);
            let answer = derive(params, &passphrase)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let bytes = Zeroizing::new(Uint8Array::new(&answer).to_vec());
            let mut kek = Zeroizing::new([0u8; 32]);
            if bytes.len() != kek.len() {
                return Err(format!("the worker's key is {} bytes", bytes.len()));
            }
            kek.copy_from_slice(&bytes);
            Ok(PassphraseKek::from_bytes(*kek))
        })
    }));
}

/// In the worker: the key of `passphrase` under the unlock params `params` (30 bytes,
/// docs/FORMAT.md §6), refused when they are out of bounds.
#[wasm_bindgen]
pub fn derive_kek(params: &[u8], passphrase: String) -> Result<Vec<u8>, JsError> {
    let passphrase = Zeroizing::new(passphrase);
    let params = UnlockParams::from_bytes(params).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(params.derive(&passphrase).expose_secret().to_vec())
}
