//! The management canister, `aaaaa-aa`, as Candid methods: what an agent (or dfx) sends to it
//! arrives through [`Replica::update_call`] and runs the replica's own operations — each of
//! which is logged by itself in a durable replica.
//!
//! Provided: `provisional_create_canister_with_cycles`, `install_code`, `canister_status`,
//! `update_settings` (controllers; other settings are accepted and have no effect here, where
//! nothing is allocated or charged), `stop_canister`, `start_canister`, `delete_canister`, and
//! chunked code installation for modules over one message (`upload_chunk`, `stored_chunks`,
//! `clear_chunk_store`, `install_chunked_code`, which ic-utils uses by itself above 1.85 MiB).
//! Anything else is refused by name.

use candid::{CandidType, Decode, Encode, Nat, Principal};
use ic_management_canister_types::{
    CanisterIdRecord, CanisterInstallMode, CanisterStatusResult, CanisterStatusType, ChunkHash,
    DefiniteCanisterSettings, InstallChunkedCodeArgs, InstallCodeArgs, MemoryMetrics,
    ProvisionalCreateCanisterWithCyclesArgs, QueryStats, UpdateSettingsArgs, UploadChunkArgs,
};

use crate::{CallError, InstallMode, Replica, Reply};

/// The cycle balance every canister reports: nothing is charged on this replica.
pub const CYCLES: u128 = 1 << 64;

/// Methods that may also be called as queries, as on the IC (ic-utils sends `canister_status`
/// as a query unless told otherwise). They only read.
pub const QUERY_METHODS: [&str; 1] = ["canister_status"];

/// Methods of the management canister this replica provides.
pub const METHODS: [&str; 11] = [
    "provisional_create_canister_with_cycles",
    "install_code",
    "upload_chunk",
    "stored_chunks",
    "clear_chunk_store",
    "install_chunked_code",
    "canister_status",
    "update_settings",
    "stop_canister",
    "start_canister",
    "delete_canister",
];

fn decode<T: CandidType + for<'de> candid::Deserialize<'de>>(
    method: &str,
    arg: &[u8],
) -> Result<T, CallError> {
    Decode!(arg, T).map_err(|e| CallError::InvalidArgument(format!("{method}: {e}")))
}

fn reply<T: CandidType>(value: &T) -> Result<Reply, CallError> {
    Ok(Reply {
        bytes: Encode!(value).map_err(|e| CallError::Engine(e.to_string()))?,
        instructions: 0,
    })
}

impl Replica {
    /// Runs a call to the management canister.
    pub(crate) fn management_call(
        &mut self,
        sender: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        match method {
            "provisional_create_canister_with_cycles" => {
                let args: ProvisionalCreateCanisterWithCyclesArgs = decode(method, arg)?;
                if args.specified_id.is_some() {
                    return Err(CallError::InvalidArgument(
                        "specified_id is not supported: leave it out and use the id returned"
                            .into(),
                    ));
                }
                let controllers = args
                    .settings
                    .and_then(|s| s.controllers)
                    .unwrap_or_else(|| vec![sender]);
                let canister_id = self.create_canister(controllers)?;
                reply(&CanisterIdRecord { canister_id })
            }
            "install_code" => {
                let args: InstallCodeArgs = decode(method, arg)?;
                let mode = install_mode(args.mode)?;
                self.install_code(sender, args.canister_id, mode, &args.wasm_module, &args.arg)?;
                reply(&())
            }
            "upload_chunk" => {
                let args: UploadChunkArgs = decode(method, arg)?;
                let hash = self.upload_chunk(sender, args.canister_id, &args.chunk)?;
                reply(&ChunkHash {
                    hash: hash.to_vec(),
                })
            }
            "stored_chunks" => {
                let args: CanisterIdRecord = decode(method, arg)?;
                let hashes = self.stored_chunks(sender, args.canister_id)?;
                reply(
                    &hashes
                        .iter()
                        .map(|h| ChunkHash { hash: h.to_vec() })
                        .collect::<Vec<_>>(),
                )
            }
            "clear_chunk_store" => {
                let args: CanisterIdRecord = decode(method, arg)?;
                self.clear_chunk_store(sender, args.canister_id)?;
                reply(&())
            }
            "install_chunked_code" => {
                let args: InstallChunkedCodeArgs = decode(method, arg)?;
                let mode = install_mode(args.mode)?;
                let hashes: Vec<Vec<u8>> =
                    args.chunk_hashes_list.into_iter().map(|c| c.hash).collect();
                self.install_chunked_code(
                    sender,
                    args.target_canister,
                    args.store_canister,
                    mode,
                    &hashes,
                    &args.wasm_module_hash,
                    &args.arg,
                )?;
                reply(&())
            }
            "canister_status" => {
                let args: CanisterIdRecord = decode(method, arg)?;
                let status = self.canister_status(sender, args.canister_id)?;
                let stable = status.stable_memory_pages * crate::stable::PAGE_SIZE;
                let nat = |n: u64| Nat::from(n);
                reply(&CanisterStatusResult {
                    status: if status.stopped {
                        CanisterStatusType::Stopped
                    } else {
                        CanisterStatusType::Running
                    },
                    ready_for_migration: false,
                    version: status.version,
                    settings: DefiniteCanisterSettings {
                        controllers: status.controllers,
                        ..Default::default()
                    },
                    module_hash: status.module_hash.map(|h| h.to_vec()),
                    memory_size: nat(status.heap_bytes + stable),
                    memory_metrics: MemoryMetrics {
                        wasm_memory_size: nat(status.heap_bytes),
                        stable_memory_size: nat(stable),
                        global_memory_size: nat(0),
                        wasm_binary_size: nat(0),
                        custom_sections_size: nat(0),
                        canister_history_size: nat(0),
                        wasm_chunk_store_size: nat(0),
                        snapshots_size: nat(0),
                        log_memory_store_size: nat(0),
                    },
                    cycles: Nat::from(CYCLES),
                    reserved_cycles: nat(0),
                    idle_cycles_burned_per_day: nat(0),
                    query_stats: QueryStats {
                        num_calls_total: nat(0),
                        num_instructions_total: nat(0),
                        request_payload_bytes_total: nat(0),
                        response_payload_bytes_total: nat(0),
                    },
                })
            }
            "update_settings" => {
                let args: UpdateSettingsArgs = decode(method, arg)?;
                match args.settings.controllers {
                    Some(controllers) => {
                        self.update_controllers(sender, args.canister_id, controllers)?
                    }
                    // Only the controllers may even look at the other settings.
                    None => {
                        self.canister_status(sender, args.canister_id)?;
                    }
                }
                reply(&())
            }
            "stop_canister" | "start_canister" | "delete_canister" => {
                let args: CanisterIdRecord = decode(method, arg)?;
                match method {
                    "stop_canister" => self.stop_canister(sender, args.canister_id)?,
                    "start_canister" => self.start_canister(sender, args.canister_id)?,
                    _ => self.delete_canister(sender, args.canister_id)?,
                }
                reply(&())
            }
            _ => Err(CallError::NoSuchMethod {
                kind: "management canister",
                method: method.to_string(),
            }),
        }
    }
}

/// The replica's install mode for the IC's (the upgrade options it cannot honour refused).
fn install_mode(mode: CanisterInstallMode) -> Result<InstallMode, CallError> {
    Ok(match mode {
        CanisterInstallMode::Install => InstallMode::Install,
        CanisterInstallMode::Reinstall => InstallMode::Reinstall,
        CanisterInstallMode::Upgrade(flags) => {
            let flags = flags.unwrap_or_default();
            if flags.skip_pre_upgrade == Some(true) {
                return Err(CallError::InvalidArgument(
                    "skip_pre_upgrade is not supported by this replica".into(),
                ));
            }
            if flags.wasm_memory_persistence.is_some() {
                return Err(CallError::InvalidArgument(
                    "wasm_memory_persistence is not supported: this replica keeps \
                     stable memory across upgrades, not the heap"
                        .into(),
                ));
            }
            InstallMode::Upgrade
        }
    })
}
