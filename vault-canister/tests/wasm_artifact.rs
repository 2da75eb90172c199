//! The installable wasm, as `scripts/build-canister` makes it: within its size budget (it serves
//! the web app, so it installs in chunks), carrying its Candid interface, importing only the
//! System API it is known to use.

use std::io::Read;
use std::path::PathBuf;

/// The IC's ingress limit: a module larger than one message is installed in 1 MiB chunks
/// (`upload_chunk`, `install_chunked_code`), as ic-utils does by itself above 1.85 MiB.
const ONE_MESSAGE_BYTES: usize = 2 << 20;
/// The vault's budget: the canister (~0.5 MiB) and the web app it serves (~1.5 MiB), in at
/// most three chunks.
const BUDGET_BYTES: usize = 3 << 20;

/// What the canister may import: each of these must be provided by any replica that runs it.
/// (`certified_data_set` and `data_certificate_*`: the link viewer's certification;
/// `canister_self_*`: the canister's id, which device admission proofs sign.)
const EXPECTED_IMPORTS: [&str; 23] = [
    "accept_message",
    // `vault_info` says the vault's cycles (for a browser, which cannot read its status).
    "canister_cycle_balance128",
    "canister_self_copy",
    "canister_self_size",
    "certified_data_set",
    "data_certificate_copy",
    "data_certificate_present",
    "data_certificate_size",
    "debug_print",
    "msg_arg_data_copy",
    "msg_arg_data_size",
    "msg_caller_copy",
    "msg_caller_size",
    "msg_method_name_copy",
    "msg_method_name_size",
    "msg_reply",
    "msg_reply_data_append",
    "stable64_grow",
    "stable64_read",
    "stable64_size",
    "stable64_write",
    "time",
    "trap",
];

fn artifact() -> Vec<u8> {
    let path = std::env::var_os("VAULT_CANISTER_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/canister/vault.wasm.gz")
        });
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the canister first: scripts/build-canister (scripts/test-all does)",
            path.display()
        )
    })
}

#[test]
fn stays_within_its_budget_and_installs_in_chunks_when_over_one_message() {
    let gz = artifact();
    assert!(
        gz.len() <= BUDGET_BYTES,
        "gzipped wasm is {} bytes, over its budget of {BUDGET_BYTES}",
        gz.len()
    );
    if gz.len() > ONE_MESSAGE_BYTES {
        println!(
            "{} bytes: over one message ({ONE_MESSAGE_BYTES}); installed in {} chunks",
            gz.len(),
            gz.len().div_ceil(1 << 20)
        );
    }
}

#[test]
fn carries_its_candid_and_imports_only_the_known_system_api() {
    let mut wasm = Vec::new();
    flate2::read::GzDecoder::new(artifact().as_slice())
        .read_to_end(&mut wasm)
        .expect("the artifact is gzip");
    let mut imports = Vec::new();
    let mut candid = None;
    let mut exports = Vec::new();
    let mut start = false;
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        match payload.expect("a valid wasm module") {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.expect("import");
                    assert_eq!(
                        import.module, "ic0",
                        "{} imported from {}",
                        import.name, import.module
                    );
                    imports.push(import.name.to_string());
                }
            }
            wasmparser::Payload::ExportSection(reader) => {
                exports.extend(
                    reader
                        .into_iter()
                        .map(|e| e.expect("export").name.to_string()),
                );
            }
            wasmparser::Payload::CustomSection(section)
                if section.name() == "icp:public candid:service" =>
            {
                candid = Some(String::from_utf8(section.data().to_vec()).expect("UTF-8 Candid"));
            }
            wasmparser::Payload::StartSection { .. } => start = true,
            _ => {}
        }
    }
    imports.sort();
    assert_eq!(imports, EXPECTED_IMPORTS);
    assert!(!start, "a canister module has no start function");
    let did = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vault-interface/vault.did"
    ))
    .unwrap();
    assert_eq!(
        candid.as_deref(),
        Some(did.as_str()),
        "candid:service metadata is vault.did"
    );
    for method in [
        "canister_update put_chunk",
        "canister_query get_chunk",
        "canister_init",
        "canister_post_upgrade",
    ] {
        assert!(exports.iter().any(|e| e == method), "{method} is exported");
    }
    assert!(
        !exports.iter().any(|e| e == "canister_pre_upgrade"),
        "no pre_upgrade: all state is in stable structures"
    );
}
