//! Passkeys in the browser: WebAuthn through the page's `vaultPasskey` (`static/boot.js`),
//! its relying party the vault's own host (`<vault>.icp0.io`, locally
//! `<vault>.localhost`), so a passkey made for one vault is offered by no other site.

use js_sys::{Array, Object, Reflect, Uint8Array};
use vault_client::Error;
use vault_client::passkey::{Assertion, PasskeyRequest, PrfOutput, Registration};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

#[wasm_bindgen(js_namespace = vaultPasskey)]
extern "C" {
    #[wasm_bindgen(js_name = available)]
    fn passkeys_available() -> bool;

    #[wasm_bindgen(catch)]
    async fn create(options: Object) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch)]
    async fn get(options: Object) -> Result<JsValue, JsValue>;
}

/// Whether this browser makes and uses passkeys.
pub fn available() -> bool {
    passkeys_available()
}

/// What the browser said, as what to do.
fn refused(e: JsValue, making: bool) -> Error {
    let name = Reflect::get(&e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    let message = Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    Error::Invalid(match name.as_str() {
        "NotAllowedError" => {
            "the passkey prompt was closed, timed out or refused: try again".into()
        }
        "InvalidStateError" if making => {
            "this device or password manager already holds a passkey for this vault: use it \
             to sign in"
                .into()
        }
        "NotSupportedError" | "SecurityError" => format!(
            "this browser cannot use passkeys for this site ({message}): use your passphrase"
        ),
        _ => format!("the browser's passkey failed ({name}: {message})"),
    })
}

fn bytes(value: &[u8]) -> JsValue {
    Uint8Array::from(value).into()
}

fn options(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object
}

fn ids(list: &[Vec<u8>]) -> JsValue {
    list.iter().map(|id| bytes(id)).collect::<Array>().into()
}

/// A byte field of the browser's answer.
fn field(answer: &JsValue, name: &str) -> Result<Vec<u8>, Error> {
    Reflect::get(answer, &name.into())
        .ok()
        .filter(|v| v.is_instance_of::<Uint8Array>())
        .map(|v| Uint8Array::new(&v).to_vec())
        .ok_or_else(|| Error::Invalid(format!("the browser's passkey answer has no {name}")))
}

/// The PRF's output, when the browser gave one of 32 bytes.
fn prf(answer: &JsValue) -> Option<PrfOutput> {
    let output = Zeroizing::new(field(answer, "prf").ok()?);
    let output: [u8; 32] = output.as_slice().try_into().ok()?;
    Some(Zeroizing::new(output))
}

/// Makes a passkey for the request's vault. When the authenticator offers the PRF but
/// evaluated it only on use (as some do at creation), the new passkey is used once to evaluate
/// it: a second prompt, that time only.
pub async fn make(request: PasskeyRequest) -> Result<Registration, Error> {
    let name = format!("Vault {}", request.vault.to_text());
    let answer = create(options(&[
        ("user", bytes(request.vault.as_slice())),
        ("name", JsValue::from_str(&name)),
        ("challenge", bytes(&request.challenge)),
        ("prfInput", bytes(&request.prf_input)),
        ("exclude", ids(&request.exclude)),
    ]))
    .await
    .map_err(|e| refused(e, true))?;
    let mut made = Registration {
        credential_id: field(&answer, "credentialId")?,
        authenticator_data: field(&answer, "authenticatorData")?,
        prf: prf(&answer),
    };
    let enabled = Reflect::get(&answer, &"prfEnabled".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if made.prf.is_none() && enabled {
        let used = sign(request, std::slice::from_ref(&made.credential_id)).await?;
        made.prf = used.prf;
    }
    Ok(made)
}

/// Has one of the vault's passkeys sign the request's challenge: any passkey for this site
/// the user holds, or one of `allow` (the one just made).
pub async fn sign(request: PasskeyRequest, allow: &[Vec<u8>]) -> Result<Assertion, Error> {
    let answer = get(options(&[
        ("challenge", bytes(&request.challenge)),
        ("prfInput", bytes(&request.prf_input)),
        ("allow", ids(allow)),
    ]))
    .await
    .map_err(|e| refused(e, false))?;
    Ok(Assertion {
        credential_id: field(&answer, "credentialId")?,
        authenticator_data: field(&answer, "authenticatorData")?,
        client_data_json: field(&answer, "clientDataJSON")?,
        signature: field(&answer, "signature")?,
        prf: prf(&answer),
    })
}
