//! The management canister, `aaaaa-aa`, as Candid methods: what an agent (or dfx, or icp-cli)
//! sends to it arrives through [`Replica::update_call`] and runs the replica's own operations —
//! each of which is logged by itself in a durable replica.
//!
//! Provided, with the IC interface's types as of 2026 (`ic-management-canister-types` 0.11;
//! older clients decode the answers too, records only having gained fields):
//! `provisional_create_canister_with_cycles` (its amount, 100 T unless given, and settings),
//! `provisional_top_up_canister`, `install_code`, `canister_status` (every setting; for its
//! controllers and whoever its `status_visibility` admits), `update_settings` (every setting
//! kept and checked as the IC checks them, `settings.rs`; allocations have no effect on one
//! machine), `stop_canister`, `start_canister`, `delete_canister`, and chunked code
//! installation for modules over one message (`upload_chunk`, `stored_chunks`,
//! `clear_chunk_store`, `install_chunked_code`, which ic-utils uses by itself above 1.85 MiB).
//! Anything else is refused by name. Canisters bought on the cycles ledger: `system.rs`.

use candid::{CandidType, Decode, Encode, Nat, Principal};
use ic_management_canister_types::{
    CanisterIdRecord, CanisterInstallMode, CanisterStatusResult, CanisterStatusType, ChunkHash,
    InstallChunkedCodeArgs, InstallCodeArgs, MemoryMetrics,
    ProvisionalCreateCanisterWithCyclesArgs, ProvisionalTopUpCanisterArgs, QueryStats,
    UpdateSettingsArgs, UploadChunkArgs,
};

use crate::durable::Input;
use crate::{CallError, InstallMode, Replica, Reply};
use vault_interface::ic_costs;

/// The cycle balance of a canister created before canisters had their own (an old state
/// directory's log or checkpoint).
pub const CYCLES: u128 = 1 << 64;

/// Methods that may also be called as queries, as on the IC (ic-utils sends `canister_status`
/// as a query unless told otherwise). They only read.
pub const QUERY_METHODS: [&str; 1] = ["canister_status"];

/// Methods of the management canister this replica provides.
pub const METHODS: [&str; 12] = [
    "provisional_create_canister_with_cycles",
    "provisional_top_up_canister",
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

/// A method's Candid argument, or why it is not one (the management and system canisters').
pub(crate) fn decode<T: CandidType + for<'de> candid::Deserialize<'de>>(
    method: &str,
    arg: &[u8],
) -> Result<T, CallError> {
    Decode!(arg, T).map_err(|e| CallError::InvalidArgument(format!("{method}: {e}")))
}

/// A Candid reply that cost no instructions (the replica's own canisters run natively).
pub(crate) fn reply<T: CandidType>(value: &T) -> Result<Reply, CallError> {
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
                provisional_amount(&args)?;
                self.settings_for_new(args.settings.as_ref(), sender)
                    .map_err(CallError::InvalidArgument)?;
                self.logged_management_call(sender, method, arg)
            }
            "provisional_top_up_canister" => {
                let args: ProvisionalTopUpCanisterArgs = decode(method, arg)?;
                self.canister(args.canister_id)?;
                cycles_amount(&args.amount)?;
                self.logged_management_call(sender, method, arg)
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
                reply(&self.status_record(sender, args.canister_id)?)
            }
            "update_settings" => {
                let args: UpdateSettingsArgs = decode(method, arg)?;
                let c = self.controlled(sender, args.canister_id)?;
                c.settings.with(&args.settings)?;
                if args
                    .settings
                    .controllers
                    .as_ref()
                    .is_some_and(|c| c.len() > crate::MAX_CONTROLLERS)
                {
                    return Err(CallError::TooManyControllers);
                }
                self.logged_management_call(sender, method, arg)
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

impl Replica {
    /// Logs a management call that changes the replica, then runs it.
    fn logged_management_call(
        &mut self,
        sender: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        self.log(|| Input::SystemCall {
            sender,
            canister: Principal::management_canister(),
            method: method.to_string(),
            arg: arg.to_vec(),
        })?;
        let reply = self.management_apply(sender, method, arg);
        self.maybe_checkpoint()?;
        reply
    }

    /// Runs a logged management call (live, once checked, or replayed on open).
    pub(crate) fn management_apply(
        &mut self,
        sender: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        match method {
            "provisional_create_canister_with_cycles" => {
                let args: ProvisionalCreateCanisterWithCyclesArgs = decode(method, arg)?;
                let cycles = provisional_amount(&args)?;
                let (controllers, settings) = self
                    .settings_for_new(args.settings.as_ref(), sender)
                    .map_err(CallError::InvalidArgument)?;
                let canister_id = self.create_inner(controllers);
                let c = self.canister(canister_id)?;
                c.cycles = cycles;
                c.settings = settings;
                reply(&CanisterIdRecord { canister_id })
            }
            "provisional_top_up_canister" => {
                let args: ProvisionalTopUpCanisterArgs = decode(method, arg)?;
                let amount = cycles_amount(&args.amount)?;
                let c = self.canister(args.canister_id)?;
                c.cycles = c.cycles.saturating_add(amount);
                reply(&())
            }
            "update_settings" => {
                let args: UpdateSettingsArgs = decode(method, arg)?;
                // Everything checked before anything changes.
                if args
                    .settings
                    .controllers
                    .as_ref()
                    .is_some_and(|c| c.len() > crate::MAX_CONTROLLERS)
                {
                    return Err(CallError::TooManyControllers);
                }
                let c = self.controlled(sender, args.canister_id)?;
                c.settings = c.settings.with(&args.settings)?;
                if let Some(controllers) = args.settings.controllers {
                    self.controllers_inner(sender, args.canister_id, controllers)?;
                }
                reply(&())
            }
            _ => Err(CallError::NoSuchMethod {
                kind: "management canister",
                method: method.to_string(),
            }),
        }
    }

    /// `canister_status`'s answer, for a controller or whoever its `status_visibility` admits.
    pub(crate) fn status_record(
        &mut self,
        sender: Principal,
        id: Principal,
    ) -> Result<CanisterStatusResult, CallError> {
        let c = self.canister(id)?;
        if !c.controllers.contains(&sender) && !c.settings.status_readable_by(&sender) {
            return Err(CallError::NotAController(id));
        }
        // The balance as of now: what its memory costs since it last paid is owed already.
        let now = self.time;
        let c = self.canisters.get(&id).expect("found above");
        let cycles = c.cycles.saturating_sub(crate::storage_due(c, now).0);
        let idle =
            ic_costs::idle_burn_per_day(crate::memory_bytes(c), c.settings.compute_allocation);
        let settings = c.settings.definite(&c.controllers);
        let chunk_store: u64 = c.chunks.values().map(|chunk| chunk.len() as u64).sum();
        let module = c.running.as_ref().map_or(0, |r| r.module.wasm.len() as u64);
        let status = self.status_of(id)?;
        let stable = status.stable_memory_pages * crate::stable::PAGE_SIZE;
        let nat = |n: u64| Nat::from(n);
        Ok(CanisterStatusResult {
            status: if status.stopped {
                CanisterStatusType::Stopped
            } else {
                CanisterStatusType::Running
            },
            ready_for_migration: false,
            version: status.version,
            settings,
            module_hash: status.module_hash.map(|h| h.to_vec()),
            // What it is billed for (`crate::memory_bytes`).
            memory_size: nat(status.heap_bytes + stable + chunk_store + module),
            memory_metrics: MemoryMetrics {
                wasm_memory_size: nat(status.heap_bytes),
                stable_memory_size: nat(stable),
                global_memory_size: nat(0),
                wasm_binary_size: nat(module),
                custom_sections_size: nat(0),
                canister_history_size: nat(0),
                wasm_chunk_store_size: nat(chunk_store),
                snapshots_size: nat(0),
                log_memory_store_size: nat(0),
            },
            cycles: Nat::from(cycles),
            reserved_cycles: nat(0),
            idle_cycles_burned_per_day: Nat::from(idle),
            query_stats: QueryStats {
                num_calls_total: nat(0),
                num_instructions_total: nat(0),
                request_payload_bytes_total: nat(0),
                response_payload_bytes_total: nat(0),
            },
        })
    }
}

/// The cycles a provisional creation gives.
fn provisional_amount(args: &ProvisionalCreateCanisterWithCyclesArgs) -> Result<u128, CallError> {
    args.amount
        .as_ref()
        .map_or(Ok(crate::PROVISIONAL_CYCLES), cycles_amount)
}

fn cycles_amount(amount: &Nat) -> Result<u128, CallError> {
    u128::try_from(amount.0.clone())
        .map_err(|_| CallError::InvalidArgument("a cycles amount is at most 2^128 - 1".into()))
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
