//! What the execution engine gives the HTTP layer to certify canister state: the canisters, each
//! one's certified data, module hash, controllers and metadata sections, and data certificates
//! for queries.

use std::path::{Path, PathBuf};

use candid::Principal;
use local_replica::module::{ModuleError, sha256};
use local_replica::{CallError, InstallMode, Replica};

use vault_test_support::replica::{T0, install_vault, vault_wasm};

fn controller() -> Principal {
    Principal::from_slice(&[7; 29])
}

fn other() -> Principal {
    Principal::from_slice(&[8; 29])
}

/// A canister around certified data and data certificates:
/// - `set` (update) certifies its argument; `set_then_trap` does, then traps; `set_q` is a query
///   that tries to;
/// - `present` (query) and `present_u` (update) reply with one byte, `data_certificate_present()`;
/// - `cert` (query) and `cert_u` (update) reply with the certificate (size, then copy);
///   `cert_past_end` (query) copies one byte more than there is;
/// - `grow` (update) grows stable memory by a page;
/// - `canister_post_upgrade` traps when its argument is not empty.
///
/// `{extra}` is where a variant adds functions.
const CERT: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "certified_data_set" (func $certify (param i32 i32)))
  (import "ic0" "data_certificate_present" (func $present (result i32)))
  (import "ic0" "data_certificate_size" (func $cert_size (result i32)))
  (import "ic0" "data_certificate_copy" (func $cert_copy (param i32 i32 i32)))
  (import "ic0" "stable64_grow" (func $sgrow (param i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "boompre!")
  (func $set
    (call $arg_copy (i32.const 1000) (i32.const 0) (call $arg_size))
    (call $certify (i32.const 1000) (call $arg_size)))
  (func (export "canister_update set") (call $set) (call $reply))
  (func (export "canister_update set_then_trap")
    (call $set)
    (call $trap (i32.const 0) (i32.const 4)))
  (func (export "canister_query set_q") (call $set) (call $reply))
  (func $present_reply
    (i32.store8 (i32.const 100) (call $present))
    (call $append (i32.const 100) (i32.const 1))
    (call $reply))
  (func (export "canister_query present") (call $present_reply))
  (func (export "canister_update present_u") (call $present_reply))
  (func $cert_reply
    (local $n i32)
    (local.set $n (call $cert_size))
    (call $cert_copy (i32.const 2000) (i32.const 0) (local.get $n))
    (call $append (i32.const 2000) (local.get $n))
    (call $reply))
  (func (export "canister_query cert") (call $cert_reply))
  (func (export "canister_update cert_u") (call $cert_reply))
  (func (export "canister_query cert_past_end")
    (call $cert_copy (i32.const 2000) (i32.const 0) (i32.add (call $cert_size) (i32.const 1)))
    (call $reply))
  (func (export "canister_update grow") (drop (call $sgrow (i64.const 1))) (call $reply))
  (func (export "canister_post_upgrade")
    (if (i32.ne (call $arg_size) (i32.const 0)) (then (call $trap (i32.const 0) (i32.const 4)))))
  {extra}
)
"#;

fn cert_wasm() -> Vec<u8> {
    wat::parse_str(CERT.replace("{extra}", "")).unwrap()
}

/// [`CERT`] whose `canister_pre_upgrade` certifies "pre!".
fn cert_with_pre_upgrade_wasm() -> Vec<u8> {
    let extra =
        r#"(func (export "canister_pre_upgrade") (call $certify (i32.const 4) (i32.const 4)))"#;
    wat::parse_str(CERT.replace("{extra}", extra)).unwrap()
}

/// A module that compiles but cannot be instantiated (a data segment past its memory).
fn uninstantiable_wasm() -> Vec<u8> {
    wat::parse_str(r#"(module (memory 1) (data (i32.const 70000) "x"))"#).unwrap()
}

/// `wasm` with a custom section `name` holding `content` appended.
fn with_custom_section(mut wasm: Vec<u8>, name: &str, content: &[u8]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut payload = Vec::new();
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(content);
    wasm.push(0);
    leb(payload.len(), &mut wasm);
    wasm.extend_from_slice(&payload);
    wasm
}

/// [`CERT`] with a public `greeting` and a private `secret` metadata section.
fn cert_with_metadata_wasm() -> Vec<u8> {
    let wasm = with_custom_section(cert_wasm(), "icp:public greeting", b"hello");
    let wasm = with_custom_section(wasm, "some other section", b"ignored");
    with_custom_section(wasm, "icp:private secret", b"\x00s3cr3t")
}

fn install(r: &mut Replica, wasm: &[u8]) -> Principal {
    let id = r.create_canister(vec![controller()]).unwrap();
    r.install_code(controller(), id, InstallMode::Install, wasm, &[])
        .unwrap();
    id
}

fn certified_data(r: &Replica, id: Principal) -> Vec<u8> {
    r.certified_state(id).unwrap().certified_data
}

fn trap_message(result: Result<impl std::fmt::Debug, CallError>) -> String {
    match result {
        Err(CallError::Trapped { message, .. }) => message,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn canister_ids_lists_every_canister_but_deleted_ones() {
    let mut r = Replica::new(T0).unwrap();
    assert!(r.canister_ids().is_empty());
    let empty = r.create_canister(vec![controller()]).unwrap();
    let installed = install(&mut r, &cert_wasm());
    let stopped = install(&mut r, &cert_wasm());
    let deleted = r.create_canister(vec![controller()]).unwrap();
    r.stop_canister(controller(), stopped).unwrap();
    r.stop_canister(controller(), deleted).unwrap();
    r.delete_canister(controller(), deleted).unwrap();

    let mut expected = vec![empty, installed, stopped];
    expected.sort();
    assert_eq!(r.canister_ids(), expected);
    assert!(r.certified_state(deleted).is_none());
    assert!(
        r.certified_state(Principal::from_slice(&[1, 2, 3]))
            .is_none()
    );
}

#[test]
fn certified_state_of_an_empty_then_installed_canister() {
    let mut r = Replica::new(T0).unwrap();
    let id = r.create_canister(vec![controller(), other()]).unwrap();
    let empty = r.certified_state(id).unwrap();
    assert_eq!(empty.certified_data, Vec::<u8>::new());
    assert_eq!(empty.module_hash, None);
    assert_eq!(empty.controllers, vec![controller(), other()]);
    assert!(empty.metadata.is_empty());

    let wasm = cert_wasm();
    r.install_code(controller(), id, InstallMode::Install, &wasm, &[])
        .unwrap();
    let installed = r.certified_state(id).unwrap();
    assert_eq!(installed.module_hash, Some(sha256(&wasm)));
    let status = r.canister_status(controller(), id).unwrap();
    assert_eq!(installed.module_hash, status.module_hash);
    assert_eq!(installed.controllers, status.controllers);
    assert_eq!(installed.certified_data, Vec::<u8>::new());

    r.update_controllers(controller(), id, vec![other(), controller()])
        .unwrap();
    let after = r.certified_state(id).unwrap();
    assert_eq!(after.controllers, vec![other(), controller()]);
    assert_eq!(
        after.controllers,
        r.canister_status(controller(), id).unwrap().controllers
    );
}

#[test]
fn certified_data_follows_updates_and_only_updates_that_succeed() {
    let mut r = Replica::new(T0).unwrap();
    let id = install(&mut r, &cert_wasm());
    r.update_call(controller(), id, "set", b"first").unwrap();
    assert_eq!(certified_data(&r, id), b"first");

    let message = trap_message(r.update_call(controller(), id, "set_then_trap", b"second"));
    assert!(message.contains("boom"), "{message}");
    assert_eq!(certified_data(&r, id), b"first", "the trap rolled it back");

    // A query cannot certify anything (it traps), and persists nothing anyway.
    let message = trap_message(r.query_call(controller(), id, "set_q", b"third"));
    assert!(message.contains("certified_data_set"), "{message}");
    assert_eq!(certified_data(&r, id), b"first");

    // At most 32 bytes, as on the IC.
    let message = trap_message(r.update_call(controller(), id, "set", &[1; 33]));
    assert!(message.contains("32 bytes"), "{message}");
    r.update_call(controller(), id, "set", &[2; 32]).unwrap();
    assert_eq!(certified_data(&r, id), vec![2; 32]);
}

#[test]
fn upgrade_keeps_certified_data_and_reinstall_clears_it() {
    // IC interface spec, "Code upgrade": certified data is only replaced if pre_upgrade or
    // post_upgrade set it; "Code installation" (install, reinstall): it is what init set.
    let mut r = Replica::new(T0).unwrap();
    let wasm = cert_wasm();
    let id = install(&mut r, &wasm);
    r.update_call(controller(), id, "set", b"kept").unwrap();
    r.install_code(controller(), id, InstallMode::Upgrade, &wasm, &[])
        .unwrap();
    assert_eq!(certified_data(&r, id), b"kept");

    r.install_code(controller(), id, InstallMode::Reinstall, &wasm, &[])
        .unwrap();
    assert_eq!(certified_data(&r, id), Vec::<u8>::new());
}

#[test]
fn pre_upgrade_certifies_but_a_failed_upgrade_puts_everything_back() {
    let mut r = Replica::new(T0).unwrap();
    let old = cert_with_pre_upgrade_wasm();
    let id = install(&mut r, &old);
    r.update_call(controller(), id, "set", b"before").unwrap();
    r.update_call(controller(), id, "grow", &[]).unwrap();

    // post_upgrade traps: the canister is as it was, pre_upgrade's "pre!" forgotten.
    let message = trap_message(r.install_code(
        controller(),
        id,
        InstallMode::Upgrade,
        &cert_wasm(),
        b"trap",
    ));
    assert!(message.contains("canister_post_upgrade"), "{message}");
    let state = r.certified_state(id).unwrap();
    assert_eq!(state.certified_data, b"before");
    assert_eq!(state.module_hash, Some(sha256(&old)));

    // The new module cannot even be instantiated: likewise, stable memory included.
    let err = r
        .install_code(
            controller(),
            id,
            InstallMode::Upgrade,
            &uninstantiable_wasm(),
            &[],
        )
        .unwrap_err();
    assert!(matches!(err, CallError::ModuleRefused(_)), "{err}");
    assert_eq!(certified_data(&r, id), b"before");
    assert_eq!(
        r.canister_status(controller(), id)
            .unwrap()
            .stable_memory_pages,
        1
    );

    // A successful upgrade keeps what pre_upgrade certified (post_upgrade set nothing).
    r.install_code(controller(), id, InstallMode::Upgrade, &cert_wasm(), &[])
        .unwrap();
    assert_eq!(certified_data(&r, id), b"pre!");
    assert_eq!(
        r.certified_state(id).unwrap().module_hash,
        Some(sha256(&cert_wasm()))
    );
}

#[test]
fn metadata_sections_public_and_private() {
    let mut r = Replica::new(T0).unwrap();
    let id = install(&mut r, &cert_with_metadata_wasm());
    let state = r.certified_state(id).unwrap();
    assert_eq!(state.metadata.len(), 2, "{:?}", state.metadata.keys());
    assert_eq!(state.metadata["greeting"], b"hello");
    assert_eq!(state.metadata["secret"], b"\x00s3cr3t");
    assert_eq!(r.private_metadata_names(id), vec!["secret".to_string()]);

    // A module without metadata, and a canister with no code, have none.
    let plain = install(&mut r, &cert_wasm());
    assert!(r.certified_state(plain).unwrap().metadata.is_empty());
    assert!(r.private_metadata_names(plain).is_empty());
    let empty = r.create_canister(vec![controller()]).unwrap();
    assert!(r.private_metadata_names(empty).is_empty());

    // An upgrade brings the new module's sections.
    r.install_code(controller(), id, InstallMode::Upgrade, &cert_wasm(), &[])
        .unwrap();
    assert!(r.certified_state(id).unwrap().metadata.is_empty());
    assert!(r.private_metadata_names(id).is_empty());
}

#[test]
fn metadata_names_must_be_unique_and_sections_scoped() {
    let refused = |wasm: Vec<u8>| {
        let mut r = Replica::new(T0).unwrap();
        let id = r.create_canister(vec![controller()]).unwrap();
        let err = r
            .install_code(controller(), id, InstallMode::Install, &wasm, &[])
            .unwrap_err();
        assert_eq!(
            r.certified_state(id).unwrap().module_hash,
            None,
            "nothing was installed"
        );
        match err {
            CallError::ModuleRefused(ModuleError::InvalidMetadata(why)) => why,
            other => panic!("expected a metadata refusal, got {other:?}"),
        }
    };
    let twice = with_custom_section(cert_with_metadata_wasm(), "icp:public greeting", b"again");
    let why = refused(twice);
    assert!(
        why.contains("`greeting`") && why.contains("more than once"),
        "{why}"
    );

    let both = with_custom_section(cert_with_metadata_wasm(), "icp:private greeting", b"x");
    let why = refused(both);
    assert!(
        why.contains("`greeting`") && why.contains("both public and private"),
        "{why}"
    );

    let unscoped = with_custom_section(cert_wasm(), "icp:secret thing", b"x");
    let why = refused(unscoped);
    assert!(why.contains("icp:secret thing"), "{why}");

    // The same name in two modules is fine, of course; and other custom sections are ignored.
    let mut r = Replica::new(T0).unwrap();
    install(&mut r, &cert_with_metadata_wasm());
    install(&mut r, &cert_with_metadata_wasm());
}

#[test]
fn the_vault_publishes_its_candid_interface() {
    let mut r = Replica::new(T0).unwrap();
    let id = install_vault(&mut r, &vault_wasm(), controller());
    let state = r.certified_state(id).unwrap();
    let did = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vault-interface/vault.did"
    ))
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&state.metadata["candid:service"]),
        String::from_utf8_lossy(&did)
    );
    assert!(
        r.private_metadata_names(id).is_empty(),
        "candid:service is public"
    );
    assert_eq!(state.module_hash, Some(sha256(&vault_wasm())));
}

#[test]
fn a_query_given_a_certificate_reads_it() {
    let mut r = Replica::new(T0).unwrap();
    let id = install(&mut r, &cert_wasm());
    let certificate: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();

    let present = r
        .query_with_certificate(controller(), id, "present", &[], Some(&certificate))
        .unwrap();
    assert_eq!(present.bytes, [1]);
    let long = r
        .query_with_certificate(controller(), id, "cert", &[], Some(&certificate))
        .unwrap();
    assert_eq!(long.bytes, certificate);

    // Charged as other copies are: a byte copied in, 50 a byte of reply.
    let short = r
        .query_with_certificate(controller(), id, "cert", &[], Some(&certificate[..10]))
        .unwrap();
    assert_eq!(short.bytes, certificate[..10]);
    assert_eq!(long.instructions - short.instructions, 990 * (1 + 50));

    // Copying past its end traps, naming the function.
    let message = trap_message(r.query_with_certificate(
        controller(),
        id,
        "cert_past_end",
        &[],
        Some(&certificate),
    ));
    assert!(message.contains("data_certificate_copy"), "{message}");

    // An empty certificate is still a certificate.
    let present = r
        .query_with_certificate(controller(), id, "present", &[], Some(&[]))
        .unwrap();
    assert_eq!(present.bytes, [1]);
}

#[test]
fn without_a_certificate_or_outside_a_query_there_is_none() {
    let mut r = Replica::new(T0).unwrap();
    let id = install(&mut r, &cert_wasm());

    // A query without one.
    let present = r.query_call(controller(), id, "present", &[]).unwrap();
    assert_eq!(present.bytes, [0]);
    let present = r
        .query_with_certificate(controller(), id, "present", &[], None)
        .unwrap();
    assert_eq!(present.bytes, [0]);
    let message = trap_message(r.query_call(controller(), id, "cert", &[]));
    assert!(message.contains("data_certificate_size"), "{message}");

    // An update never has one; asking for it traps.
    let present = r.update_call(controller(), id, "present_u", &[]).unwrap();
    assert_eq!(present.bytes, [0]);
    let message = trap_message(r.update_call(controller(), id, "cert_u", &[]));
    assert!(message.contains("ic0.data_certificate_size"), "{message}");

    // Nor does a query after one that had a certificate.
    r.query_with_certificate(controller(), id, "present", &[], Some(b"cert"))
        .unwrap();
    let present = r.query_call(controller(), id, "present", &[]).unwrap();
    assert_eq!(present.bytes, [0]);
    let present = r.update_call(controller(), id, "present_u", &[]).unwrap();
    assert_eq!(present.bytes, [0]);
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("certified-state-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_reopened_replica_certifies_the_same_state() {
    let dir = fresh_dir("reopen");
    let wasm = cert_with_metadata_wasm();
    let (id, empty, before) = {
        let mut r = Replica::open(&dir, T0).unwrap();
        let empty = r.create_canister(vec![other()]).unwrap();
        let id = install(&mut r, &wasm);
        r.update_call(controller(), id, "set", b"checkpointed")
            .unwrap();
        r.update_controllers(controller(), id, vec![controller(), other()])
            .unwrap();
        r.checkpoint().unwrap();
        (id, empty, r.certified_state(id).unwrap())
    };
    assert_eq!(before.certified_data, b"checkpointed");
    assert_eq!(before.metadata.len(), 2);

    // From the checkpoint.
    let after = {
        let mut r = Replica::open(&dir, T0).unwrap();
        assert_eq!(r.canister_ids(), {
            let mut ids = vec![empty, id];
            ids.sort();
            ids
        });
        assert_eq!(r.certified_state(id).unwrap(), before);
        assert_eq!(r.private_metadata_names(id), vec!["secret".to_string()]);
        assert_eq!(r.certified_state(empty).unwrap().controllers, vec![other()]);
        r.update_call(other(), id, "set", b"logged").unwrap();
        r.certified_state(id).unwrap()
    };
    assert_eq!(after.certified_data, b"logged");

    // From the checkpoint and the log.
    let r = Replica::open(&dir, T0).unwrap();
    assert_eq!(r.certified_state(id).unwrap(), after);
    assert_eq!(
        r.certified_state(id).unwrap().metadata["greeting"],
        b"hello"
    );
    assert_eq!(r.private_metadata_names(id), vec!["secret".to_string()]);
}
