//! Vault's fuzz targets: one plain function per decoder that takes bytes from outside (the
//! canister's, the client's formats', and the local replica's: ingress envelopes, modules).
//!
//! Each `fn(&[u8])` must return for every input: a panic is a finding. cargo-fuzz drives them
//! on nightly (`fuzz/libfuzzer/fuzz_targets/*.rs` are one-line wrappers, `scripts/fuzz` runs them), and
//! `tests/replay.rs` runs every seed in `fuzz/corpus/<target>/` and every fixed crash in
//! `fuzz/artifacts/<target>/` through the same functions on stable, in CI, so a fixed crash
//! stays fixed.
//!
//! Beyond "no panic", targets check what they can cheaply: a decoded value encodes back to
//! what decodes to it again, two decoders of one argument agree, and the canister's model keeps
//! its invariants after every call of a sequence (see [`model`]).

pub mod canister;
pub mod crypto;
pub mod model;
pub mod replica;
pub mod tracked;

/// A fuzz target: any bytes in, a panic on a finding.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its `fuzz_targets/*.rs` and of its corpus directory).
pub const TARGETS: &[(&str, Target)] = &[
    ("share_code", crypto::share_code),
    ("link_fragment", crypto::link_fragment),
    ("recovery_words", crypto::recovery_words),
    ("metadata", crypto::metadata),
    ("records", crypto::records),
    ("stream", crypto::stream),
    ("put_chunk_arg", canister::put_chunk_arg),
    ("candid_args", canister::candid_args),
    ("http_api", canister::http_api),
    ("model", model::calls),
    ("ingress", replica::ingress),
    ("module", replica::module),
];

/// The files in `dir` (a corpus, an artifacts folder), sorted; none if it does not exist.
pub fn inputs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<std::path::PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}
