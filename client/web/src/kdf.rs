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

/// How long this browser's wasm takes to encrypt `mib` MiB as an upload does (the stream
/// format's AES-256-GCM chunks), in ms: the upload benchmark's figure beside its rate
/// (`tests/browser/web.mjs`).
#[wasm_bindgen]
pub fn measure_seal(mib: u32) -> f64 {
    use vault_crypto::{CHUNK_SIZE, FileKey, StreamCipher, StreamHeader, StreamKind};
    let key = FileKey::from_bytes([7; 32]);
    let Ok(header) = StreamHeader::from_bytes(&[1; 17]) else {
        return f64::NAN;
    };
    let cipher = StreamCipher::new(&key, StreamKind::Content, &header);
    let started = js_sys::Date::now();
    for index in 0..mib {
        let mut chunk = Vec::with_capacity(CHUNK_SIZE + 16);
        chunk.resize(CHUNK_SIZE, 0);
        if cipher
            .encrypt_chunk(u64::from(index), false, &mut chunk)
            .is_err()
        {
            return f64::NAN;
        }
    }
    js_sys::Date::now() - started
}
