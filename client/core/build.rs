//! Builds the vault canister's wasm (through `scripts/build-canister`) so the client can install
//! it: a fresh clone needs nothing but `cargo build`. The canister serves the web app, which is
//! this crate built for a browser (`scripts/build-web`), so this crate's sources are watched too.
//!
//! The wasm is built by a nested `cargo` with its own target directory (`<target>/wasm-build`):
//! the outer build holds the lock on its own. `scripts/test-all` runs the script with the same
//! directory first, so this finds the wasm up to date and the canister is built once.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    // A browser build installs no vault (the page is served by one): nothing to embed, and no
    // circle once the vault serves the web app.
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        return;
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists");
    for watched in [
        "vault-canister/src",
        "vault-canister/viewer",
        "vault-canister/build.rs",
        "vault-canister/Cargo.toml",
        "vault-interface/src",
        "vault-interface/Cargo.toml",
        "vault-interface/vault.did",
        "crypto/src",
        "crypto/Cargo.toml",
        "scripts/build-canister",
        // The web app the vault serves (scripts/build-web), this crate built for a browser
        // among it.
        "client/web/src",
        "client/web/static",
        "client/web/Cargo.toml",
        "client/app/ui/src",
        "client/app/ui/Cargo.toml",
        "client/app/bridge/src",
        "client/app/bridge/Cargo.toml",
        "client/core/src",
        "client/core/Cargo.toml",
        "scripts/build-web",
        "Cargo.lock",
    ] {
        println!("cargo::rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo::rerun-if-env-changed=VAULT_WASM");
    println!("cargo::rerun-if-env-changed=VAULT_WASM_TARGET_DIR");
    println!("cargo::rerun-if-env-changed=VAULT_WEB_NAMES");
    let wasm = match std::env::var_os("VAULT_WASM") {
        // A prebuilt wasm (for packagers, or a machine without npm).
        Some(path) => PathBuf::from(path),
        None => build(&root),
    };
    println!("cargo::rerun-if-changed={}", wasm.display());
    println!("cargo::rustc-env=VAULT_WASM_GZ={}", wasm.display());
}

fn build(root: &Path) -> PathBuf {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    // OUT_DIR = <target>/<profile>/build/<pkg>-<hash>/out (or <target>/<triple>/<profile>/…).
    let target = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("target"));
    let mut command = Command::new("bash");
    command
        .arg(root.join("scripts/build-canister"))
        .current_dir(root)
        .env(
            "VAULT_WASM_TARGET_DIR",
            std::env::var_os("VAULT_WASM_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| target.join("wasm-build")),
        );
    // The outer build's settings are not the nested one's.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_") && name != "CARGO_HOME"
            || name.starts_with("RUSTC")
            || name == "RUSTFLAGS"
            || name == "RUSTDOCFLAGS"
            || name == "TARGET"
            || name == "HOST"
            || name == "OUT_DIR"
            || name == "PROFILE"
            || name == "OPT_LEVEL"
            || name == "DEBUG"
            || name == "NUM_JOBS"
        {
            command.env_remove(name.as_ref());
        }
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run scripts/build-canister: {e}"));
    if !status.success() {
        panic!(
            "scripts/build-canister failed ({status}): the vault canister's wasm is needed to build the client; it needs npm (for ic-wasm and wasm-opt), the wasm32-unknown-unknown target and network access to crates.io once (to install wasm-bindgen-cli) (`rustup target add wasm32-unknown-unknown`). Or set VAULT_WASM to a built vault.wasm.gz"
        );
    }
    root.join("target/canister/vault.wasm.gz")
}
