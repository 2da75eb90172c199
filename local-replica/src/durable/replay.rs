//! A durable replica, the other half of what survives a crash (the files are the parent
//! module's): opening a state directory (the last checkpoint, then every logged input
//! replayed), logging each input before it runs, remembering the ingress messages that ran,
//! and writing checkpoints.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use candid::Principal;
use wasmtime::Val;

use super::{
    CanisterState, Checkpoint, CodeState, GlobalValue, Input, PageWrite, SeenRequest, StateDir,
};
use crate::canister::Running;
use crate::module::HEAP_PAGE;
use crate::stable::{Backing, PAGE_SIZE, StableMemory};
use crate::{
    CHECKPOINT_AFTER_LOG_BYTES, CallError, Canister, Limits, Replica, Reply, Runtime, ran,
};

impl Replica {
    /// A replica kept in `dir` (created if need be): the last checkpoint, then every logged
    /// input after it replayed. Its clock starts at the later of `time` and the last it had.
    pub fn open(dir: &Path, time: u64) -> Result<Self, CallError> {
        let (state, checkpoint, records) = StateDir::open(dir)?;
        let mut replica = Replica {
            runtime: Arc::new(Runtime::new(Some(dir.join("cache")))?),
            canisters: BTreeMap::new(),
            next_canister: checkpoint.next_canister,
            time: checkpoint.time,
            limits: Limits::default(),
            state: None,
            checkpoint_after: CHECKPOINT_AFTER_LOG_BYTES,
            ingress: None,
            seen_requests: BTreeMap::new(),
            ledger: match checkpoint.ledger {
                Some(ledger) => crate::system::Ledger::restore(ledger)?,
                None => crate::system::Ledger::default(),
            },
            icp: match checkpoint.icp {
                Some(icp) => crate::system::icp::IcpLedger::restore(icp)?,
                None => crate::system::icp::IcpLedger::default(),
            },
            subnet_id: crate::DEFAULT_SUBNET_ID,
        };
        // Replayed inputs are folded into a checkpoint at once, so that a later version of the
        // replica never replays them with code of its own.
        let replayed = !records.is_empty();
        for c in checkpoint.canisters {
            replica.restore(&state, c)?;
        }
        for seen in checkpoint.requests.unwrap_or_default() {
            replica.seen_requests.insert(seen.request_id.to_vec(), seen);
        }
        for record in records {
            replica.time = record.time;
            // Replay reaches the same outcome as the first run, refusals included.
            let outcome = replica.apply(record.input, &state);
            if let Some(seen) = record.ingress
                && ran(&outcome)
            {
                replica.seen_requests.insert(seen.request_id.to_vec(), seen);
            }
        }
        replica.time = replica.time.max(time);
        replica.state = Some(state);
        // New canisters are numbered past the system canisters' ids (a state made before they
        // were hosted keeps the canisters it has; if one took the CMC's id, it answers there).
        let renumbered = replica.next_canister < crate::FIRST_CANISTER;
        if renumbered {
            replica.next_canister = crate::FIRST_CANISTER;
        }
        if renumbered || replayed {
            replica.checkpoint()?;
        }
        Ok(replica)
    }

    /// Modules this replica loaded compiled from its state directory's cache instead of
    /// compiling them (a durable replica; 0 otherwise).
    pub fn modules_from_disk_cache(&self) -> usize {
        self.runtime
            .disk_cache
            .as_ref()
            .map_or(0, |c| c.cache_hits())
    }

    /// The state directory, for a durable replica.
    pub fn state_dir(&self) -> Option<&Path> {
        self.state.as_ref().map(|s| s.path())
    }

    /// Makes `input` durable before it runs (a durable replica; nothing otherwise), with the
    /// ingress message it comes from, which is then remembered.
    pub(crate) fn log(&mut self, input: impl FnOnce() -> Input) -> Result<(), CallError> {
        let ingress = self.ingress.take();
        if let Some(state) = self.state.as_mut() {
            state.log(self.time, &input(), ingress.as_ref())?;
            if let Some(seen) = ingress {
                self.seen_requests.insert(seen.request_id.to_vec(), seen);
            }
        }
        // Memory is paid for up to each input, before it runs (replay does the same).
        self.charge_storage();
        Ok(())
    }

    /// [`Replica::update_call`] as the ingress message `seen` (an HTTP call): a durable replica
    /// logs the message's request id with the input the call makes, and remembers it until the
    /// message expires ([`Replica::seen_requests`]), across restarts.
    pub fn ingress_update_call(
        &mut self,
        seen: SeenRequest,
        sender: Principal,
        id: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        self.ingress = Some(seen);
        let result = self.update_call(sender, id, method, arg);
        // Still here if nothing was logged (refused before): nothing to remember.
        self.ingress = None;
        result
    }

    /// The ingress messages that ran and expire at `now` or later: a restarted replica's HTTP
    /// layer refuses them if they are sent again. (Empty for a replica kept in memory.)
    pub fn seen_requests(&self, now: u64) -> impl Iterator<Item = &SeenRequest> {
        self.seen_requests
            .values()
            .filter(move |seen| seen.ingress_expiry >= now)
    }

    /// How many log bytes a durable replica lets accumulate before it writes a checkpoint
    /// ([`CHECKPOINT_AFTER_LOG_BYTES`] by default). Fewer: a faster start after a crash.
    pub fn set_checkpoint_after(&mut self, bytes: u64) {
        self.checkpoint_after = bytes;
    }

    /// Writes a checkpoint once the log has grown past `checkpoint_after`. Called after an
    /// input is logged and done: a checkpoint that fails then (a full disk) does not undo it —
    /// it is in the log, so it is said on stderr and the next checkpoint tries again. Had the
    /// call been reported as failed, a client could send it again and have it done twice.
    pub(crate) fn maybe_checkpoint(&mut self) -> Result<(), CallError> {
        if self
            .state
            .as_ref()
            .is_some_and(|s| s.log_bytes() > self.checkpoint_after)
            && let Err(e) = self.checkpoint()
        {
            eprintln!(
                "local-replica: a checkpoint failed ({e}); what was done is in the log, and the \
                 next checkpoint tries again"
            );
        }
        Ok(())
    }

    /// Runs a logged input again (on open).
    fn apply(&mut self, input: Input, state: &StateDir) -> Result<(), CallError> {
        self.charge_storage();
        match input {
            Input::CreateCanister { controllers } => {
                self.create_inner(controllers);
            }
            Input::InstallCode {
                sender,
                canister,
                mode,
                module,
                arg,
            } => {
                let wasm = state.load_module(&module)?;
                self.install_inner(sender, canister, mode, &wasm, &arg)?;
            }
            Input::UpdateCall {
                sender,
                canister,
                method,
                arg,
            } => {
                self.execute(sender, canister, &method, &arg, true, None)?;
            }
            Input::Time => {
                self.fire_timers();
            }
            Input::UpdateControllers {
                sender,
                canister,
                controllers,
            } => self.controllers_inner(sender, canister, controllers)?,
            Input::StopCanister { sender, canister } => {
                self.controlled(sender, canister)?.stopped = true
            }
            Input::StartCanister { sender, canister } => {
                self.controlled(sender, canister)?.stopped = false
            }
            Input::DeleteCanister { sender, canister } => self.delete_inner(sender, canister)?,
            Input::UploadChunk {
                sender,
                canister,
                hash,
            } => {
                let chunk = state.load_module(&hash)?;
                self.controlled(sender, canister)?
                    .chunks
                    .insert(hash, Arc::new(chunk));
            }
            Input::ClearChunkStore { sender, canister } => {
                self.controlled(sender, canister)?.chunks.clear()
            }
            Input::SystemCall {
                sender,
                canister,
                method,
                arg,
            } => {
                if canister == Principal::management_canister() {
                    self.management_apply(sender, &method, &arg)?;
                } else {
                    self.system_apply(sender, canister, &method, &arg)?;
                }
            }
        }
        Ok(())
    }

    /// Loads a canister from the checkpoint.
    fn restore(&mut self, state: &StateDir, c: CanisterState) -> Result<(), CallError> {
        let mut chunks = BTreeMap::new();
        for hash in c.chunks.iter().flatten() {
            let hash = <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| {
                CallError::Engine(format!(
                    "the checkpoint of {} holds a damaged chunk hash",
                    c.id
                ))
            })?;
            chunks.insert(hash, Arc::new(state.load_module(&hash)?));
        }
        let running = match c.code {
            None => None,
            Some(code) => {
                let wasm = state.load_module(&code.module)?;
                let (module, compiled) = self.runtime.compile(&wasm)?;
                let mut env = self.new_env(c.id);
                env.controllers = c
                    .controllers
                    .iter()
                    .map(|p| p.as_slice().to_vec())
                    .collect();
                env.canister_version = c.version;
                env.certified_data = code.certified_data.into_vec();
                env.global_timer = code.global_timer;
                let file = std::fs::File::open(state.canister_file(&code.stable_file))?;
                env.stable = StableMemory::with_file(
                    Backing {
                        name: code.stable_file,
                        file,
                    },
                    code.stable_pages,
                );
                let mut running = Running::instantiate(
                    &self.runtime.engine,
                    &self.runtime.linker,
                    module,
                    compiled,
                    env,
                )
                .map_err(CallError::Storage)?;
                let heap = std::fs::read(state.canister_file(&code.heap_file))?;
                if heap.len() as u64 != code.heap_bytes {
                    return Err(CallError::Storage(format!(
                        "{} holds {} bytes, the checkpoint says {}",
                        code.heap_file,
                        heap.len(),
                        code.heap_bytes
                    )));
                }
                running
                    .write_heap(heap.len(), 0, &heap)
                    .map_err(CallError::Storage)?;
                let globals = code.globals.into_iter().map(global_val).collect();
                running.set_globals(globals);
                let env = running.env_mut();
                env.heap.clear_dirty();
                env.heap_file = Some(code.heap_file);
                Some(running)
            }
        };
        self.canisters.insert(
            c.id,
            Canister {
                controllers: c.controllers,
                version: c.version,
                stopped: c.stopped,
                idle_env: running.is_none().then(|| self.new_env(c.id)),
                running,
                chunks,
                cycles: match c.cycles {
                    Some(n) => u128::try_from(n.0).map_err(|_| {
                        CallError::Storage(format!(
                            "the checkpoint of {} holds a damaged balance",
                            c.id
                        ))
                    })?,
                    None => crate::management::CYCLES,
                },
                charged_at: c.charged_at.unwrap_or(self.time),
                storage_owed: c
                    .storage_owed
                    .and_then(|n| u128::try_from(n.0).ok())
                    .unwrap_or(0),
                settings: c.settings.unwrap_or_default(),
            },
        );
        Ok(())
    }

    /// Writes a checkpoint now (a durable replica; nothing otherwise): the pages changed since
    /// the last one, then the log starts empty.
    pub fn checkpoint(&mut self) -> Result<(), CallError> {
        let Replica {
            state: Some(state),
            canisters,
            time,
            next_canister,
            seen_requests,
            ledger,
            icp,
            ..
        } = self
        else {
            return Ok(());
        };
        let seq = state.next_seq();
        // Those that expired can no longer be sent: forget them.
        seen_requests.retain(|_, seen| seen.ingress_expiry >= *time);
        let mut meta = Checkpoint {
            seq: 0,
            time: *time,
            next_canister: *next_canister,
            canisters: Vec::new(),
            requests: Some(seen_requests.values().cloned().collect()),
            ledger: Some(ledger.state()),
            icp: Some(icp.state()),
        };
        // File names first: the page writes borrow them.
        let mut names = Vec::new();
        for (id, c) in canisters.iter_mut() {
            let code = match c.running.as_mut() {
                None => None,
                Some(running) => {
                    let text = id.to_text();
                    let heap_file = running
                        .env()
                        .heap_file
                        .clone()
                        .unwrap_or_else(|| format!("{text}-{seq}.heap"));
                    let stable_file = running
                        .env()
                        .stable
                        .backing_name()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{text}-{seq}.stable"));
                    let globals = running
                        .globals()
                        .into_iter()
                        .map(global_value)
                        .collect::<Result<_, _>>()?;
                    let env = running.env();
                    Some(CodeState {
                        module: running.module.hash.to_vec().into(),
                        heap_file,
                        heap_bytes: running.heap_bytes() as u64,
                        globals,
                        stable_file,
                        stable_pages: env.stable.size(),
                        certified_data: env.certified_data.clone().into(),
                        global_timer: env.global_timer,
                    })
                }
            };
            names.push(
                code.as_ref()
                    .map(|c| (c.heap_file.clone(), c.stable_file.clone())),
            );
            meta.canisters.push(CanisterState {
                id: *id,
                controllers: c.controllers.clone(),
                version: c.version,
                stopped: c.stopped,
                code,
                chunks: Some(
                    c.chunks
                        .keys()
                        .map(|h| serde_bytes::ByteBuf::from(h.to_vec()))
                        .collect(),
                ),
                cycles: Some(c.cycles.into()),
                charged_at: Some(c.charged_at),
                storage_owed: Some(c.storage_owed.into()),
                settings: Some(c.settings.clone()),
            });
        }
        let lengths: Vec<(String, u64)> = meta
            .canisters
            .iter()
            .filter_map(|c| c.code.as_ref())
            .flat_map(|code| {
                [
                    (code.heap_file.clone(), code.heap_bytes),
                    (code.stable_file.clone(), code.stable_pages * PAGE_SIZE),
                ]
            })
            .collect();
        let writes = canisters
            .values()
            .zip(&names)
            .filter_map(|(c, names)| Some((c.running.as_ref()?, names.as_ref()?)))
            .flat_map(|(running, (heap_file, stable_file))| {
                let heap = running.heap_data();
                let heap_pages = running.env().heap.dirty().iter().filter_map(move |&p| {
                    let at = p as usize * HEAP_PAGE as usize;
                    Some(PageWrite {
                        file: heap_file,
                        offset: at as u64,
                        bytes: heap.get(at..at + HEAP_PAGE as usize)?,
                    })
                });
                let stable_pages =
                    running
                        .env()
                        .stable
                        .changed_pages()
                        .map(move |(p, bytes)| PageWrite {
                            file: stable_file,
                            offset: p * PAGE_SIZE,
                            bytes,
                        });
                heap_pages.chain(stable_pages)
            });
        state.checkpoint(writes, &lengths, meta)?;
        for (c, names) in canisters.values_mut().zip(names) {
            if let (Some(running), Some((heap_file, stable_file))) = (c.running.as_mut(), names) {
                let file = std::fs::File::open(state.canister_file(&stable_file))?;
                let env = running.env_mut();
                env.heap.clear_dirty();
                env.heap_file = Some(heap_file);
                env.stable.checkpointed(Backing {
                    name: stable_file,
                    file,
                });
            }
        }
        Ok(())
    }
}

/// A global's value as the checkpoint keeps it.
fn global_value(v: Val) -> Result<GlobalValue, CallError> {
    Ok(match v {
        Val::I32(x) => GlobalValue::I32(x),
        Val::I64(x) => GlobalValue::I64(x),
        Val::F32(bits) => GlobalValue::F32(bits),
        Val::F64(bits) => GlobalValue::F64(bits),
        Val::V128(x) => GlobalValue::V128(x.as_u128().to_le_bytes().to_vec().into()),
        _ => {
            return Err(CallError::Storage(
                "a mutable global of reference type cannot be checkpointed".into(),
            ));
        }
    })
}

fn global_val(v: GlobalValue) -> Val {
    match v {
        GlobalValue::I32(x) => Val::I32(x),
        GlobalValue::I64(x) => Val::I64(x),
        GlobalValue::F32(bits) => Val::F32(bits),
        GlobalValue::F64(bits) => Val::F64(bits),
        GlobalValue::V128(bytes) => {
            let mut b = [0u8; 16];
            b.copy_from_slice(&bytes[..16.min(bytes.len())]);
            Val::V128(u128::from_le_bytes(b).into())
        }
    }
}
