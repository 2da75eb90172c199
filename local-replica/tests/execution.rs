//! The replica's execution semantics on real wasm: small canisters written for each behaviour,
//! and the vault canister itself.

use candid::{Decode, Encode, Principal};
use local_replica::{CallError, InstallMode, Limits, Replica};
use serde_bytes::ByteBuf;
use vault_canister::model::types::*;

use vault_test_support::replica::{T0, blob, install_vault, vault_wasm};

fn controller() -> Principal {
    Principal::from_slice(&[7; 29])
}

/// A canister with a counter in a global, a byte in its heap, and stable memory:
/// `bump` increments all three (then traps if its argument is non-empty); `get` replies with them;
/// `spin` loops forever; `bump_q` is a query that increments them.
const COUNTER: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "stable64_size" (func $ssize (result i64)))
  (import "ic0" "stable64_grow" (func $sgrow (param i64) (result i64)))
  (import "ic0" "stable64_read" (func $sread (param i64 i64 i64)))
  (import "ic0" "stable64_write" (func $swrite (param i64 i64 i64)))
  (memory (export "memory") 1)
  (global $counter (mut i32) (i32.const 0))
  (data (i32.const 100) "boom")
  (func $bump
    (if (i64.eqz (call $ssize)) (then (drop (call $sgrow (i64.const 1)))))
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.store8 (i32.const 0) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1)))
    (call $sread (i64.const 1) (i64.const 0) (i64.const 1))
    (i32.store8 (i32.const 1) (i32.add (i32.load8_u (i32.const 1)) (i32.const 1)))
    (call $swrite (i64.const 0) (i64.const 1) (i64.const 1))
    (drop (memory.grow (i32.const 2))))
  (func (export "canister_update bump")
    (call $bump)
    (if (i32.ne (call $arg_size) (i32.const 0)) (then (call $trap (i32.const 100) (i32.const 4))))
    (call $reply))
  (func (export "canister_query bump_q") (call $bump) (call $reply))
  (func (export "canister_query get")
    (i32.store8 (i32.const 2) (global.get $counter))
    (if (i64.ne (call $ssize) (i64.const 0)) (then (call $sread (i64.const 3) (i64.const 0) (i64.const 1))))
    (i32.store8 (i32.const 4) (i32.div_u (memory.size) (i32.const 1)))
    (call $append (i32.const 0) (i32.const 5))
    (call $reply))
  (func (export "canister_update spin") (loop $l (br $l)))
)
"#;

/// Installs `wat` into a fresh canister of a fresh replica.
fn try_install(wat: &str) -> (Replica, Principal, Result<u64, CallError>) {
    let mut r = Replica::new(T0).unwrap();
    let id = r.create_canister(vec![controller()]).unwrap();
    let result = r.install_code(
        controller(),
        id,
        InstallMode::Install,
        &wat::parse_str(wat).unwrap(),
        &[],
    );
    (r, id, result)
}

fn replica_with(wat: &str) -> (Replica, Principal) {
    let (r, id, result) = try_install(wat);
    result.unwrap();
    (r, id)
}

/// Installs `wat`, expecting a refusal.
fn install_error(wat: &str) -> CallError {
    try_install(wat).2.unwrap_err()
}

/// (global counter, heap byte, stable byte, memory pages)
fn state(r: &mut Replica, id: Principal) -> (u8, u8, u8, u8) {
    let b = r.query_call(controller(), id, "get", &[]).unwrap().bytes;
    (b[2], b[0], b[3], b[4])
}

#[test]
fn an_update_persists_heap_globals_and_stable_memory() {
    let (mut r, id) = replica_with(COUNTER);
    r.update_call(controller(), id, "bump", &[]).unwrap();
    r.update_call(controller(), id, "bump", &[]).unwrap();
    assert_eq!(state(&mut r, id), (2, 2, 2, 5));
}

#[test]
fn a_trap_rolls_back_heap_globals_stable_memory_and_growth() {
    let (mut r, id) = replica_with(COUNTER);
    r.update_call(controller(), id, "bump", &[]).unwrap();
    let err = r
        .update_call(controller(), id, "bump", b"trap")
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Trapped { message, .. } if message.contains("boom")),
        "{err}"
    );
    assert_eq!(
        state(&mut r, id),
        (1, 1, 1, 3),
        "the trapped message left nothing behind, not even memory growth"
    );
    // And the canister goes on working (the stack pointer and globals were restored).
    r.update_call(controller(), id, "bump", &[]).unwrap();
    assert_eq!(state(&mut r, id), (2, 2, 2, 5));
}

/// An upgrade is one message on the IC: when post_upgrade traps, or the new module cannot even
/// be instantiated, what pre_upgrade did to heap, globals, growth and stable memory is undone.
#[test]
fn a_failed_upgrade_undoes_pre_upgrade_too() {
    let with_pre_upgrade = format!(
        "{}(func (export \"canister_pre_upgrade\") (call $bump)))",
        COUNTER.trim_end().strip_suffix(')').unwrap()
    );
    let (mut r, id) = replica_with(&with_pre_upgrade);
    r.update_call(controller(), id, "bump", &[]).unwrap();
    let before = state(&mut r, id);
    assert_eq!(before, (1, 1, 1, 3));
    let post_upgrade_traps =
        r#"(module (memory 1) (func (export "canister_post_upgrade") unreachable))"#;
    let uninstantiable = r#"(module (memory 1) (data (i32.const 70000) "x"))"#;
    for new in [post_upgrade_traps, uninstantiable] {
        let err = r
            .install_code(
                controller(),
                id,
                InstallMode::Upgrade,
                &wat::parse_str(new).unwrap(),
                &[],
            )
            .unwrap_err();
        assert_eq!(state(&mut r, id), before, "after {err}");
    }
    r.update_call(controller(), id, "bump", &[]).unwrap();
    assert_eq!(state(&mut r, id), (2, 2, 2, 5));
}

#[test]
fn queries_never_persist() {
    let (mut r, id) = replica_with(COUNTER);
    r.update_call(controller(), id, "bump", &[]).unwrap();
    r.query_call(controller(), id, "bump_q", &[]).unwrap();
    r.query_call(controller(), id, "bump_q", &[]).unwrap();
    assert_eq!(state(&mut r, id), (1, 1, 1, 3));
}

/// As on the IC, a query method may be called as an update (ingress): it answers — certified,
/// since it goes through the update path — and its changes are discarded. This is how a client
/// reads a query's answer certified.
#[test]
fn a_query_method_called_as_an_update_answers_and_changes_nothing() {
    let (mut r, id) = replica_with(COUNTER);
    r.update_call(controller(), id, "bump", &[]).unwrap();
    let reply = r.update_call(controller(), id, "get", &[]).unwrap();
    assert_eq!((reply.bytes[2], reply.bytes[0]), (1, 1));
    r.update_call(controller(), id, "bump_q", &[]).unwrap();
    assert_eq!(
        state(&mut r, id),
        (1, 1, 1, 3),
        "bump_q's changes were discarded"
    );
}

#[test]
fn an_endless_loop_hits_the_instruction_limit_and_is_rolled_back() {
    let (mut r, id) = replica_with(COUNTER);
    assert_eq!(
        r.limits().update,
        40_000_000_000,
        "the IC's update limit by default"
    );
    r.set_limits(Limits {
        update: 50_000_000,
        ..r.limits()
    });
    r.update_call(controller(), id, "bump", &[]).unwrap();
    let err = r.update_call(controller(), id, "spin", &[]).unwrap_err();
    match err {
        CallError::Trapped {
            message,
            instructions,
        } => {
            assert_eq!(message, "instruction limit exceeded");
            assert_eq!(instructions, 50_000_000);
        }
        other => panic!("{other}"),
    }
    assert_eq!(state(&mut r, id), (1, 1, 1, 3));
}

/// Writes into its heap every way a canister can — a host copy (the argument), `memory.fill`,
/// `memory.copy` and a store that straddles two 4 KiB pages — then traps if the argument's first
/// byte is 1. `sum` replies with a checksum of the first 64 KiB.
const SCRIBBLER: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (memory (export "memory") 2)
  (func (export "canister_update scribble")
    (call $arg_copy (i32.const 5000) (i32.const 0) (call $arg_size))
    (memory.fill (i32.const 20000) (i32.const 0xaa) (i32.const 8192))
    (memory.copy (i32.const 40000) (i32.const 20000) (i32.const 3000))
    (i64.store offset=4 (i32.const 8186) (i64.const -1))
    (if (i32.eq (i32.load8_u (i32.const 5000)) (i32.const 1))
      (then (call $trap (i32.const 0) (i32.const 0))))
    (call $reply))
  (func (export "canister_query sum") (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31))
                             (i32.load8_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 65536))))
    (i32.store (i32.const 70000) (local.get $s))
    (call $append (i32.const 70000) (i32.const 4))
    (call $reply))
)
"#;

fn heap_sum(r: &mut Replica, id: Principal) -> Vec<u8> {
    r.query_call(controller(), id, "sum", &[]).unwrap().bytes
}

#[test]
fn a_trap_restores_every_page_written_by_stores_bulk_operations_and_host_copies() {
    let (mut r, id) = replica_with(SCRIBBLER);
    let pristine = heap_sum(&mut r, id);
    let err = r
        .update_call(controller(), id, "scribble", &[1; 300])
        .unwrap_err();
    assert!(matches!(err, CallError::Trapped { .. }), "{err}");
    assert_eq!(heap_sum(&mut r, id), pristine, "every written page is back");
    // The same message that does not trap keeps its writes.
    r.update_call(controller(), id, "scribble", &[2; 300])
        .unwrap();
    let written = heap_sum(&mut r, id);
    assert_ne!(written, pristine);
    // And a trap after that restores the written state, not the pristine one.
    r.update_call(controller(), id, "scribble", &[1; 300])
        .unwrap_err();
    assert_eq!(heap_sum(&mut r, id), written);
}

#[test]
fn bulk_memory_and_argument_copies_are_charged_per_byte() {
    let (mut r, id) = replica_with(SCRIBBLER);
    let small = r
        .update_call(controller(), id, "scribble", &[2; 10])
        .unwrap()
        .instructions;
    let large = r
        .update_call(controller(), id, "scribble", &[2; 10_010])
        .unwrap()
        .instructions;
    assert_eq!(
        large - small,
        10_000,
        "one instruction per argument byte copied"
    );
    // fill (8192) + copy (3000) + the argument + a few dozen instructions of code.
    assert!(small > 8192 + 3000 + 10, "{small}");
    assert!(small < 8192 + 3000 + 10 + 200, "{small}");
}

#[test]
fn a_module_importing_the_unknown_is_refused_by_name() {
    let wat = r#"(module (import "ic0" "call_new" (func (param i32 i32 i32 i32 i32 i32 i32 i32)))
                         (import "env" "magic" (func)) (memory 1))"#;
    let err = install_error(wat);
    assert_eq!(
        err.to_string(),
        "the module imports what this replica does not provide: ic0.call_new, env.magic"
    );
}

#[test]
fn features_the_ic_rejects_are_refused() {
    // Two memories: the IC does not accept multi-memory modules.
    let wat = r#"(module (memory 1) (memory 1))"#;
    let err = install_error(wat);
    assert!(matches!(err, CallError::ModuleRefused(_)), "{err}");
}

#[test]
fn only_controllers_install_and_read_status() {
    let mut r = Replica::new(T0).unwrap();
    let id = r.create_canister(vec![controller()]).unwrap();
    let stranger = Principal::from_slice(&[8; 29]);
    let wasm = wat::parse_str(COUNTER).unwrap();
    assert_eq!(
        r.install_code(stranger, id, InstallMode::Install, &wasm, &[]),
        Err(CallError::NotAController(id))
    );
    assert_eq!(
        r.canister_status(stranger, id),
        Err(CallError::NotAController(id))
    );
    r.install_code(controller(), id, InstallMode::Install, &wasm, &[])
        .unwrap();
    assert_eq!(
        r.install_code(controller(), id, InstallMode::Install, &wasm, &[]),
        Err(CallError::CanisterNotEmpty(id))
    );
    let status = r.canister_status(controller(), id).unwrap();
    assert_eq!(
        status.module_hash,
        Some(local_replica::module::sha256(&wasm))
    );
}

/// `arm` sets the timer to its 8-byte argument; the timer handler counts how often it fired.
const TIMER: &str = r#"
(module
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "global_timer_set" (func $timer_set (param i64) (result i64)))
  (memory (export "memory") 1)
  (global $fired (mut i32) (i32.const 0))
  (func (export "canister_update arm")
    (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 8))
    (drop (call $timer_set (i64.load (i32.const 0))))
    (call $reply))
  (func (export "canister_global_timer") (global.set $fired (i32.add (global.get $fired) (i32.const 1))))
  (func (export "canister_query fired")
    (i32.store (i32.const 16) (global.get $fired))
    (call $append (i32.const 16) (i32.const 4))
    (call $reply))
)
"#;

#[test]
fn a_timer_fires_once_when_due() {
    let (mut r, id) = replica_with(TIMER);
    let fired = |r: &mut Replica| r.query_call(controller(), id, "fired", &[]).unwrap().bytes[0];
    r.update_call(controller(), id, "arm", &(T0 + 1000).to_le_bytes())
        .unwrap();
    assert!(r.set_time(T0 + 999).unwrap().is_empty(), "not yet due");
    assert_eq!(fired(&mut r), 0);
    let ran = r.set_time(T0 + 1000).unwrap();
    assert_eq!(ran.len(), 1);
    assert_eq!(fired(&mut r), 1);
    assert!(
        r.set_time(T0 + 5000).unwrap().is_empty(),
        "a timer fires once"
    );
    assert_eq!(fired(&mut r), 1);
}

#[test]
fn the_management_calls_are_for_controllers_and_follow_the_lifecycle() {
    let (mut r, id) = replica_with(COUNTER);
    let (owner, other) = (controller(), Principal::from_slice(&[8; 29]));
    assert_eq!(
        r.stop_canister(other, id),
        Err(CallError::NotAController(id))
    );
    assert_eq!(
        r.update_controllers(other, id, vec![other]),
        Err(CallError::NotAController(id))
    );
    assert_eq!(
        r.delete_canister(owner, id),
        Err(CallError::CanisterRunning(id))
    );
    r.stop_canister(owner, id).unwrap();
    assert!(r.canister_status(owner, id).unwrap().stopped);
    assert_eq!(
        r.update_call(owner, id, "bump", &[]).unwrap_err(),
        CallError::CanisterStopped(id)
    );
    r.start_canister(owner, id).unwrap();
    r.update_call(owner, id, "bump", &[]).unwrap();
    // Hand control over: the old controller loses it.
    r.update_controllers(owner, id, vec![other]).unwrap();
    assert_eq!(
        r.canister_status(owner, id),
        Err(CallError::NotAController(id))
    );
    assert_eq!(
        r.canister_status(other, id).unwrap().controllers,
        vec![other]
    );
    assert_eq!(
        r.update_controllers(other, id, vec![other; 11]),
        Err(CallError::TooManyControllers)
    );
    r.stop_canister(other, id).unwrap();
    r.delete_canister(other, id).unwrap();
    assert_eq!(
        r.canister_status(other, id),
        Err(CallError::CanisterNotFound(id))
    );
}

fn vault() -> (Replica, Principal, Principal) {
    let mut r = Replica::new(T0).unwrap();
    let owner = controller();
    let id = install_vault(&mut r, &vault_wasm(), owner);
    (r, id, owner)
}

fn upload(r: &mut Replica, id: Principal, owner: Principal, file: u8, size: u64) -> Vec<Vec<u8>> {
    let args = BeginUploadArgs {
        file_id: ByteBuf::from(vec![file; 16]),
        size,
        content_header: blob(17, 1),
        wrapped_key: blob(61, 2),
        album: None,
        key_version: 0,
        metadata: blob(200, 3),
        thumbnail: Some(blob(5000, 4)),
        dedupe_hash: None,
        sort_key: file as i64,
    };
    let reply = r
        .update_call(owner, id, "begin_upload", &Encode!(&args).unwrap())
        .unwrap();
    Decode!(&reply.bytes, VaultResult<UploadStatus>)
        .unwrap()
        .unwrap();
    let count = vault_crypto::chunk_count(size) as u32;
    let mut chunks = Vec::new();
    for index in 0..count {
        let len = if index + 1 < count {
            vault_crypto::ENCRYPTED_CHUNK_SIZE
        } else {
            (size - (count as u64 - 1) * vault_crypto::CHUNK_SIZE as u64) as usize + 16
        };
        let data: Vec<u8> = (0..len)
            .map(|i| (i as u8).wrapping_add(index as u8))
            .collect();
        let put = PutChunkArgs {
            file_id: ByteBuf::from(vec![file; 16]),
            index,
            data: ByteBuf::from(data.clone()),
        };
        let reply = r
            .update_call(owner, id, "put_chunk", &Encode!(&put).unwrap())
            .unwrap();
        Decode!(&reply.bytes, VaultResult<()>).unwrap().unwrap();
        chunks.push(data);
    }
    let reply = r
        .update_call(
            owner,
            id,
            "commit_upload",
            &Encode!(&ByteBuf::from(vec![file; 16])).unwrap(),
        )
        .unwrap();
    Decode!(&reply.bytes, VaultResult<FileInfo>)
        .unwrap()
        .unwrap();
    chunks
}

fn get_chunk(
    r: &mut Replica,
    id: Principal,
    caller: Principal,
    file: u8,
    index: u32,
) -> VaultResult<ByteBuf> {
    let args = GetChunkArgs {
        file_id: ByteBuf::from(vec![file; 16]),
        index,
        link: None,
    };
    let reply = r
        .query_call(caller, id, "get_chunk", &Encode!(&args).unwrap())
        .unwrap();
    Decode!(&reply.bytes, VaultResult<ByteBuf>).unwrap()
}

#[test]
fn the_vault_canister_uploads_and_reads_back_in_the_replica() {
    let (mut r, id, owner) = vault();
    let chunks = upload(&mut r, id, owner, 1, vault_crypto::CHUNK_SIZE as u64 + 1000);
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(
            get_chunk(&mut r, id, owner, 1, i as u32)
                .unwrap()
                .as_slice(),
            chunk.as_slice()
        );
    }
    let stranger = Principal::from_slice(&[9; 29]);
    assert_eq!(
        get_chunk(&mut r, id, stranger, 1, 0),
        Err(VaultError::NotAuthorized)
    );
    // inspect_message turns away an anonymous write before it runs.
    let err = r
        .update_call(
            Principal::anonymous(),
            id,
            "trash",
            &Encode!(&vec![ByteBuf::from(vec![1u8; 16])]).unwrap(),
        )
        .unwrap_err();
    assert_eq!(err, CallError::NotAccepted);
}

#[test]
fn an_upgrade_keeps_every_file() {
    let (mut r, id, owner) = vault();
    let chunks = upload(&mut r, id, owner, 2, 3000);
    r.install_code(owner, id, InstallMode::Upgrade, &vault_wasm(), &[])
        .unwrap();
    assert_eq!(
        get_chunk(&mut r, id, owner, 2, 0).unwrap().as_slice(),
        chunks[0].as_slice()
    );
    let info = r
        .query_call(owner, id, "vault_info", &Encode!().unwrap())
        .unwrap();
    assert_eq!(
        Decode!(&info.bytes, VaultResult<VaultInfo>)
            .unwrap()
            .unwrap()
            .files,
        1
    );
    assert_eq!(r.canister_status(owner, id).unwrap().version, 2);
}

#[test]
fn a_bad_init_argument_installs_nothing() {
    let mut r = Replica::new(T0).unwrap();
    let id = r.create_canister(vec![controller()]).unwrap();
    let arg = Encode!(&InitArgs {
        owner: Some(Principal::anonymous()),
        quota_bytes: None
    })
    .unwrap();
    let err = r
        .install_code(controller(), id, InstallMode::Install, &vault_wasm(), &arg)
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Trapped { message, .. } if message.contains("anonymous")),
        "{err}"
    );
    assert_eq!(
        r.canister_status(controller(), id).unwrap().module_hash,
        None
    );
}

mod management_canister {
    //! The management canister through Candid, as agents call it.

    use super::*;
    use ic_management_canister_types::{
        CanisterIdRecord, CanisterInstallMode, CanisterSettings, CanisterStatusResult,
        CanisterStatusType, InstallCodeArgs, ProvisionalCreateCanisterWithCyclesArgs,
        UpdateSettingsArgs, UpgradeFlags,
    };

    fn ic00() -> Principal {
        Principal::management_canister()
    }

    fn call(
        r: &mut Replica,
        sender: Principal,
        method: &str,
        arg: Vec<u8>,
    ) -> Result<Vec<u8>, CallError> {
        r.update_call(sender, ic00(), method, &arg)
            .map(|reply| reply.bytes)
    }

    fn install_args(id: Principal, mode: CanisterInstallMode, wasm: Vec<u8>) -> Vec<u8> {
        Encode!(&InstallCodeArgs {
            mode,
            canister_id: id,
            wasm_module: wasm,
            arg: vault_test_support::replica::init_arg(controller()),
            sender_canister_version: None,
        })
        .unwrap()
    }

    #[test]
    fn create_install_status_settings_and_delete_through_candid() {
        let mut r = Replica::new(T0).unwrap();
        let me = controller();
        let stranger = Principal::from_slice(&[8; 29]);
        let created = call(
            &mut r,
            me,
            "provisional_create_canister_with_cycles",
            Encode!(&ProvisionalCreateCanisterWithCyclesArgs::default()).unwrap(),
        )
        .unwrap();
        let id = Decode!(&created, CanisterIdRecord).unwrap().canister_id;

        // Only a controller installs (the creator is one when no controllers are given).
        let wasm = vault_wasm();
        assert_eq!(
            call(
                &mut r,
                stranger,
                "install_code",
                install_args(id, CanisterInstallMode::Install, wasm.clone())
            ),
            Err(CallError::NotAController(id))
        );
        call(
            &mut r,
            me,
            "install_code",
            install_args(id, CanisterInstallMode::Install, wasm.clone()),
        )
        .unwrap();
        let skip = CanisterInstallMode::Upgrade(Some(UpgradeFlags {
            skip_pre_upgrade: Some(true),
            wasm_memory_persistence: None,
        }));
        assert!(matches!(
            call(&mut r, me, "install_code", install_args(id, skip, wasm.clone())),
            Err(CallError::InvalidArgument(why)) if why.contains("skip_pre_upgrade")
        ));
        call(
            &mut r,
            me,
            "install_code",
            install_args(id, CanisterInstallMode::Upgrade(None), wasm.clone()),
        )
        .unwrap();

        let status = |r: &mut Replica, who| {
            call(
                r,
                who,
                "canister_status",
                Encode!(&CanisterIdRecord { canister_id: id }).unwrap(),
            )
            .map(|bytes| Decode!(&bytes, CanisterStatusResult).unwrap())
        };
        let s = status(&mut r, me).unwrap();
        // canister_status may be queried too (as ic-utils does), by controllers only; nothing
        // else of the management canister may.
        let by_query = |r: &mut Replica, who, method: &str| {
            r.query_call(
                who,
                ic00(),
                method,
                &Encode!(&CanisterIdRecord { canister_id: id }).unwrap(),
            )
            .map(|reply| Decode!(&reply.bytes, CanisterStatusResult).unwrap())
        };
        assert_eq!(by_query(&mut r, me, "canister_status").unwrap(), s);
        assert_eq!(
            by_query(&mut r, stranger, "canister_status"),
            Err(CallError::NotAController(id))
        );
        assert!(matches!(
            by_query(&mut r, me, "stop_canister"),
            Err(CallError::NoSuchMethod { kind: "query", .. })
        ));
        assert!(
            !status(&mut r, me)
                .unwrap()
                .status
                .eq(&CanisterStatusType::Stopped)
        );
        assert_eq!(s.status, CanisterStatusType::Running);
        assert_eq!(s.settings.controllers, vec![me]);
        assert_eq!(s.version, 2);
        assert_eq!(
            s.module_hash,
            Some(local_replica::module::sha256(&wasm).to_vec())
        );
        assert!(s.memory_metrics.wasm_memory_size > 0u64);
        assert_eq!(status(&mut r, stranger), Err(CallError::NotAController(id)));

        // Hand the canister over.
        let settings = |controllers| {
            Encode!(&UpdateSettingsArgs {
                canister_id: id,
                settings: CanisterSettings {
                    controllers: Some(controllers),
                    ..Default::default()
                },
                sender_canister_version: None,
            })
            .unwrap()
        };
        assert_eq!(
            call(
                &mut r,
                stranger,
                "update_settings",
                settings(vec![stranger])
            ),
            Err(CallError::NotAController(id))
        );
        call(&mut r, me, "update_settings", settings(vec![stranger])).unwrap();
        assert_eq!(status(&mut r, me), Err(CallError::NotAController(id)));

        let record = Encode!(&CanisterIdRecord { canister_id: id }).unwrap();
        assert_eq!(
            call(&mut r, stranger, "delete_canister", record.clone()),
            Err(CallError::CanisterRunning(id))
        );
        call(&mut r, stranger, "stop_canister", record.clone()).unwrap();
        assert_eq!(
            status(&mut r, stranger).unwrap().status,
            CanisterStatusType::Stopped
        );
        call(&mut r, stranger, "start_canister", record.clone()).unwrap();
        call(&mut r, stranger, "stop_canister", record.clone()).unwrap();
        call(&mut r, stranger, "delete_canister", record).unwrap();
        assert_eq!(
            status(&mut r, stranger),
            Err(CallError::CanisterNotFound(id))
        );
    }

    #[test]
    fn what_it_does_not_do_is_refused_by_name() {
        let mut r = Replica::new(T0).unwrap();
        let me = controller();
        assert!(matches!(
            call(&mut r, me, "raw_rand", Encode!().unwrap()),
            Err(CallError::NoSuchMethod { method, .. }) if method == "raw_rand"
        ));
        assert!(matches!(
            call(&mut r, me, "install_code", b"not candid".to_vec()),
            Err(CallError::InvalidArgument(why)) if why.starts_with("install_code")
        ));
        assert!(matches!(
            r.query_call(me, ic00(), "install_code", &[]),
            Err(CallError::NoSuchMethod { kind: "query", .. })
        ));
    }
}

/// The rest of the System API a canister may import: 32-bit stable memory, cycles, fees, and
/// calls that belong to other contexts.
const SYSTEM: &str = r#"
(module
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable_grow" (func $grow (param i32) (result i32)))
  (import "ic0" "stable_size" (func $size (result i32)))
  (import "ic0" "stable_write" (func $swrite (param i32 i32 i32)))
  (import "ic0" "stable_read" (func $sread (param i32 i32 i32)))
  (import "ic0" "canister_cycle_balance128" (func $balance (param i32)))
  (import "ic0" "cost_call" (func $cost_call (param i64 i64 i32)))
  (import "ic0" "msg_cycles_available128" (func $available (param i32)))
  (import "ic0" "accept_message" (func $accept))
  (import "ic0" "global_timer_set" (func $timer (param i64) (result i64)))
  (import "ic0" "msg_reject_code" (func $reject_code (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello")
  ;; stable_grow(1) = 0, write "hello" at 70000, read it back to 100; reply 100..105 and size
  (func (export "canister_update stable32")
    (drop (call $grow (i32.const 1)))
    (drop (call $grow (i32.const 1)))
    (call $swrite (i32.const 70000) (i32.const 0) (i32.const 5))
    (call $sread (i32.const 100) (i32.const 70000) (i32.const 5))
    (i32.store8 (i32.const 105) (call $size))
    (call $append (i32.const 100) (i32.const 6))
    (call $reply))
  ;; balance (16) ++ cost_call(10, 90) (16) ++ available (16)
  (func (export "canister_update cycles")
    (call $balance (i32.const 200))
    (call $cost_call (i64.const 10) (i64.const 90) (i32.const 216))
    (call $available (i32.const 232))
    (call $append (i32.const 200) (i32.const 48))
    (call $reply))
  (func (export "canister_update accept") (call $accept) (call $reply))
  (func (export "canister_query timer") (drop (call $timer (i64.const 1))) (call $reply))
  (func (export "canister_update reject_code") (drop (call $reject_code)) (call $reply))
)
"#;

#[test]
fn the_rest_of_the_system_api_and_its_contexts() {
    let (mut r, id) = replica_with(SYSTEM);
    let me = controller();
    assert_eq!(
        r.update_call(me, id, "stable32", &[]).unwrap().bytes,
        b"hello\x02"
    );
    let cycles = r.update_call(me, id, "cycles", &[]).unwrap().bytes;
    let amount = |at: usize| u128::from_le_bytes(cycles[at..at + 16].try_into().unwrap());
    let full = local_replica::management::CYCLES;
    assert!(
        amount(0) < full && amount(0) > full - 100_000_000_000,
        "its balance as the message starts: what it was given, less what it paid so far"
    );
    assert_eq!(amount(16), 260_000 + 1_000 * 100, "the IC's fee for a call");
    assert_eq!(amount(32), 0, "an ingress message carries no cycles");
    for (method, query, call) in [
        ("accept", false, "accept_message"),
        ("timer", true, "global_timer_set"),
        ("reject_code", false, "msg_reject_code"),
    ] {
        let result = if query {
            r.query_call(me, id, method, &[])
        } else {
            r.update_call(me, id, method, &[])
        };
        assert!(
            matches!(&result, Err(CallError::Trapped { message, .. })
                if message.contains(&format!("ic0.{call} cannot be called"))),
            "{method}: {result:?}"
        );
    }
}

#[test]
fn heap_and_stable_memory_stop_at_their_limits() {
    let (mut r, id) = replica_with(COUNTER);
    r.set_limits(Limits {
        heap_bytes: 3 * 65536,
        ..r.limits()
    });
    r.update_call(controller(), id, "bump", &[]).unwrap();
    r.update_call(controller(), id, "bump", &[]).unwrap();
    assert_eq!(
        state(&mut r, id).3,
        3,
        "memory.grow past the limit returned -1"
    );

    let (mut r, id) = replica_with(SYSTEM);
    r.set_limits(Limits {
        stable_bytes: 65536,
        ..r.limits()
    });
    let err = r
        .update_call(controller(), id, "stable32", &[])
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Trapped { message, .. } if message.contains("out of bounds")),
        "the second page was refused, so the write past the first traps: {err}"
    );
}

#[test]
fn exports_the_ic_would_refuse_are_refused() {
    for (wat, why) in [
        (
            r#"(module (func (export "canister_update a")) (func (export "canister_query a")))"#,
            "more than once",
        ),
        (
            r#"(module (func (export "canister_magic")))"#,
            "not an export the IC knows",
        ),
        (
            r#"(module (func (export "canister_update a") (param i32)))"#,
            "no parameters",
        ),
    ] {
        let err = install_error(wat);
        assert!(
            matches!(&err, CallError::ModuleRefused(e) if e.to_string().contains(why)),
            "{wat}: {err}"
        );
    }
}
