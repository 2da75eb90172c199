//! `vault-web`: the app's screens in a browser, on the same core as the desktop app
//! (`vault-bridge` over vault-client's session), served by the user's own canister.
//!
//! Built for `wasm32-unknown-unknown` by `scripts/build-web` (cargo, then `wasm-bindgen`); a
//! native build only says so.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod device;
#[cfg(target_arch = "wasm32")]
mod files;
#[cfg(target_arch = "wasm32")]
mod kdf;
#[cfg(target_arch = "wasm32")]
mod passkey;
#[cfg(target_arch = "wasm32")]
mod web;

/// On the page, the app; in a worker (`static/kdf-worker.js`, which only calls an export),
/// nothing.
#[cfg(target_arch = "wasm32")]
fn main() {
    if web_sys::window().is_some() {
        kdf::install();
        web::launch();
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "vault-web runs in a browser: `scripts/build-web` builds it for wasm32-unknown-unknown, \
         and a vault serves it at /app"
    );
    std::process::ExitCode::from(2)
}
