//! A single-node Internet Computer replica that runs canister wasm under wasmtime with the IC's
//! execution semantics: each message atomic (a trap rolls back heap, globals and stable memory),
//! queries never persist, instructions metered and limited as on the IC, upgrades through
//! `pre_upgrade` / fresh instance / `post_upgrade` with stable memory kept.
//!
//! This is the in-process API that tests and embedders use. [`Replica::new`] keeps everything in
//! memory; [`Replica::open`] keeps it in a state directory, where an acknowledged input is never
//! lost and a canister is never left half-written (see `durable`).
#![forbid(unsafe_code)]

mod canister;
pub mod certify;
pub mod durable;
pub mod heap;
pub mod ingress;
pub mod management;
pub mod module;
pub mod owner_only;
pub mod server;
pub mod settings;
pub mod stable;
pub mod system;
pub mod system_api;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use candid::Principal;
use wasmtime::{Cache, CacheConfig, Config, Engine, Linker, Module};

use canister::Running;
pub use canister::{Executed, Outcome};
pub use durable::SeenRequest;
use durable::{Input, StateDir};
use module::{ModuleError, PreparedModule};
use stable::{PAGE_SIZE, StableMemory};
use system_api::{Context, Env};
use vault_interface::ic_costs;

/// Log bytes after which a durable replica writes a checkpoint.
pub const CHECKPOINT_AFTER_LOG_BYTES: u64 = 256 << 20;

/// Most controllers a canister may have (as on the IC).
pub const MAX_CONTROLLERS: usize = 10;
/// The largest chunk `upload_chunk` takes, as on the IC: 1 MiB.
pub const CHUNK_MAX_BYTES: usize = 1 << 20;
/// The most chunks a canister's chunk store holds, as on the IC.
pub const CHUNK_STORE_MAX: usize = 100;

/// Instructions an update (or timer) may run: 40 billion, as on the IC.
pub const UPDATE_INSTRUCTION_LIMIT: u64 = 40_000_000_000;
/// Instructions a query may run: 5 billion.
pub const QUERY_INSTRUCTION_LIMIT: u64 = 5_000_000_000;
/// Instructions `canister_inspect_message` may run: 200 million.
pub const INSPECT_INSTRUCTION_LIMIT: u64 = 200_000_000;
/// Instructions an install or upgrade may run (all its hooks together): 300 billion.
pub const INSTALL_INSTRUCTION_LIMIT: u64 = 300_000_000_000;

/// How to install code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallMode {
    /// Into an empty canister.
    Install,
    /// Replacing the code and wiping all state.
    Reinstall,
    /// Replacing the code, keeping stable memory: pre_upgrade, new instance, post_upgrade.
    Upgrade,
}

/// Why a call did not get to run, or what went wrong when it did.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("canister {0} does not exist")]
    CanisterNotFound(Principal),
    #[error("canister {0} is stopped: start it first")]
    CanisterStopped(Principal),
    #[error("canister {0} is running: stop it before deleting it")]
    CanisterRunning(Principal),
    #[error("a canister has at most {MAX_CONTROLLERS} controllers")]
    TooManyControllers,
    #[error("canister {0} has no code installed")]
    CanisterEmpty(Principal),
    #[error("canister {0} already has code: reinstall or upgrade it")]
    CanisterNotEmpty(Principal),
    #[error("only a controller of {0} may do this")]
    NotAController(Principal),
    #[error(transparent)]
    ModuleRefused(#[from] ModuleError),
    #[error("the argument is not what the method takes: {0}")]
    InvalidArgument(String),
    #[error("canister has no {kind} method `{method}`")]
    NoSuchMethod { kind: &'static str, method: String },
    #[error("the canister did not accept the message (canister_inspect_message)")]
    NotAccepted,
    /// The canister's balance would fall below its freezing limit (IC0207).
    #[error(
        "Canister {canister} is out of cycles: please top up the canister with at least {needed} \
         additional cycles"
    )]
    OutOfCycles { canister: Principal, needed: u128 },
    #[error("{message}")]
    Trapped { message: String, instructions: u64 },
    #[error("the canister rejected the call: {message}")]
    Rejected { message: String, instructions: u64 },
    #[error("the canister did not reply")]
    DidNotReply { instructions: u64 },
    #[error("{0}")]
    Engine(String),
    /// The state directory could not be read or written: nothing was done.
    #[error("the replica's state directory: {0}")]
    Storage(String),
}

impl From<std::io::Error> for CallError {
    fn from(e: std::io::Error) -> Self {
        CallError::Storage(e.to_string())
    }
}

/// A successful reply, with its cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub bytes: Vec<u8>,
    pub instructions: u64,
}

/// What `canister_status` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanisterStatus {
    pub module_hash: Option<[u8; 32]>,
    pub controllers: Vec<Principal>,
    pub stable_memory_pages: u64,
    pub heap_bytes: u64,
    pub version: u64,
    pub stopped: bool,
}

/// Instruction limits (the IC's by default; tests lower them to reach them quickly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub update: u64,
    pub query: u64,
    pub inspect: u64,
    pub install: u64,
    /// Largest heap (wasm memory), bytes: 3 GiB, the IC's default `wasm_memory_limit`.
    pub heap_bytes: u64,
    /// Largest stable memory, bytes: 500 GiB, as on the IC.
    pub stable_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            update: UPDATE_INSTRUCTION_LIMIT,
            query: QUERY_INSTRUCTION_LIMIT,
            inspect: INSPECT_INSTRUCTION_LIMIT,
            install: INSTALL_INSTRUCTION_LIMIT,
            heap_bytes: 3 << 30,
            stable_bytes: 500 << 30,
        }
    }
}

struct Canister {
    controllers: Vec<Principal>,
    version: u64,
    stopped: bool,
    running: Option<Running>,
    /// Stable memory of a canister with no code (empty).
    idle_env: Option<Env>,
    /// The wasm chunk store (`upload_chunk`, `install_chunked_code`): chunks by SHA-256.
    chunks: BTreeMap<[u8; 32], Arc<Vec<u8>>>,
    /// The canister's cycle balance, as of `charged_at`.
    cycles: u128,
    /// When its memory was last paid for (ns since the epoch).
    charged_at: u64,
    /// What it owes for its memory below one cycle, in cycles × 2^30 × 10^9 (so that billing
    /// often loses nothing to rounding).
    storage_owed: u128,
    /// Its settings other than controllers.
    settings: settings::Settings,
}

type Compiled = (Arc<PreparedModule>, Module);

/// The wasm engine, the System API, and the modules compiled for them: one per process for
/// in-memory replicas (so tests compile a module once), one per state directory otherwise (with
/// the compiled code cached on disk there).
struct Runtime {
    engine: Engine,
    linker: Linker<Env>,
    compiled: Mutex<HashMap<[u8; 32], Compiled>>,
    disk_cache: Option<Cache>,
}

impl Runtime {
    fn new(cache: Option<PathBuf>) -> Result<Runtime, CallError> {
        let engine_error = |e: wasmtime::Error| CallError::Engine(e.to_string());
        let mut config = Config::new();
        config
            .wasm_tail_call(false)
            // The rewrite adds a second memory (the saved-page bitmap); canister modules with
            // more than one memory are refused before that, as on the IC.
            .wasm_multi_memory(true)
            // Deterministic floats, as the IC requires (replay depends on it).
            .cranelift_nan_canonicalization(true);
        let disk_cache = match cache {
            Some(dir) => {
                let mut cache = CacheConfig::new();
                cache.with_directory(dir);
                Some(Cache::new(cache).map_err(engine_error)?)
            }
            None => None,
        };
        config.cache(disk_cache.clone());
        let engine = Engine::new(&config).map_err(engine_error)?;
        let linker = system_api::linker(&engine).map_err(engine_error)?;
        Ok(Runtime {
            engine,
            linker,
            compiled: Mutex::new(HashMap::new()),
            disk_cache,
        })
    }

    /// The runtime in-memory replicas share.
    fn shared() -> Result<Arc<Runtime>, CallError> {
        static SHARED: OnceLock<Arc<Runtime>> = OnceLock::new();
        if let Some(r) = SHARED.get() {
            return Ok(r.clone());
        }
        let runtime = Arc::new(Runtime::new(None)?);
        Ok(SHARED.get_or_init(|| runtime).clone())
    }

    /// Checks and compiles a module, once per distinct module.
    fn compile(&self, wasm: &[u8]) -> Result<Compiled, CallError> {
        let hash = module::sha256(wasm);
        if let Some(found) = self.compiled.lock().expect("not poisoned").get(&hash) {
            return Ok(found.clone());
        }
        let prepared = module::prepare(wasm)?;
        let compiled = Module::new(&self.engine, &prepared.wasm)
            .map_err(|e| CallError::ModuleRefused(ModuleError::Invalid(e.to_string())))?;
        let entry = (Arc::new(prepared), compiled);
        self.compiled
            .lock()
            .expect("not poisoned")
            .insert(hash, entry.clone());
        Ok(entry)
    }
}

/// The replica.
pub struct Replica {
    runtime: Arc<Runtime>,
    canisters: BTreeMap<Principal, Canister>,
    next_canister: u64,
    time: u64,
    limits: Limits,
    /// Where inputs are logged and checkpoints written (None: in memory only, or replaying).
    state: Option<StateDir>,
    checkpoint_after: u64,
    /// The ingress message the input about to be logged comes from.
    ingress: Option<SeenRequest>,
    /// Ingress messages that ran (a durable replica), by request id, until they expire.
    seen_requests: BTreeMap<Vec<u8>, SeenRequest>,
    /// The cycles ledger's balances (`system`).
    ledger: system::Ledger,
    /// The ICP ledger, and what the CMC converted (`system::icp`).
    icp: system::icp::IcpLedger,
    /// The subnet this replica is, as the CMC names it.
    subnet_id: Principal,
}

/// Whether a call's outcome means it ran: a call turned away by `canister_inspect_message`
/// did not, and may be sent again.
fn ran<T>(outcome: &Result<T, CallError>) -> bool {
    !matches!(
        outcome,
        Err(CallError::NotAccepted | CallError::OutOfCycles { .. })
    )
}

/// The number of the first canister a new replica creates: those below are the system
/// canisters' (the NNS's, among them the cycles minting canister, 4).
pub const FIRST_CANISTER: u64 = 16;

/// The subnet id a replica without keys (in memory) says it is; a server sets its own.
pub const DEFAULT_SUBNET_ID: Principal = Principal::from_slice(&[0x4f, 0x2c, 0x0e, 0x12, 2]);

/// The cycles a canister created by `provisional_create_canister_with_cycles` without an
/// amount gets (as a local network gives): 100 T.
pub const PROVISIONAL_CYCLES: u128 = 100_000_000_000_000;

/// A canister id as the IC forms them: an 8-byte big-endian number, then `0x01 0x01`.
pub fn canister_id(n: u64) -> Principal {
    let mut bytes = n.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[1, 1]);
    Principal::from_slice(&bytes)
}

impl Replica {
    /// A replica with no canisters, its clock at `time` (ns since the epoch).
    pub fn new(time: u64) -> Result<Self, CallError> {
        Ok(Replica {
            runtime: Runtime::shared()?,
            canisters: BTreeMap::new(),
            next_canister: FIRST_CANISTER,
            time,
            limits: Limits::default(),
            state: None,
            checkpoint_after: CHECKPOINT_AFTER_LOG_BYTES,
            ingress: None,
            seen_requests: BTreeMap::new(),
            ledger: system::Ledger::default(),
            icp: system::icp::IcpLedger::default(),
            subnet_id: DEFAULT_SUBNET_ID,
        })
    }

    /// The instruction limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the limits (tests use small ones to reach them quickly).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        for c in self.canisters.values_mut() {
            if let Some(running) = c.running.as_mut() {
                apply_memory_limits(running.env_mut(), &limits);
            }
        }
    }

    fn new_env(&self, id: Principal) -> Env {
        new_env(&self.limits, id)
    }

    /// The replica's clock.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// Sets the clock (it never goes back), then fires the timers that fell due.
    pub fn set_time(&mut self, time: u64) -> Result<Vec<(Principal, Executed)>, CallError> {
        self.time = self.time.max(time);
        let now = self.time;
        let limit = self.limits.update;
        let due = self.canisters.values().any(|c| {
            // A frozen canister's timer waits: nothing to log for it (`fire_timers`).
            c.cycles >= freezing_limit(c).saturating_add(ic_costs::execution(limit))
                && c.running.as_ref().is_some_and(|r| {
                    let at = r.env().global_timer;
                    at != 0 && at <= now && r.exports("canister_global_timer")
                })
        });
        if !due {
            return Ok(Vec::new());
        }
        self.log(|| Input::Time)?;
        let fired = self.fire_timers();
        self.maybe_checkpoint()?;
        Ok(fired)
    }

    /// Runs `canister_global_timer` of every canister whose timer is due, as a replicated
    /// message from the management canister. As on the IC, a timer fires once: it is
    /// deactivated before its handler runs (the handler may set it again).
    fn fire_timers(&mut self) -> Vec<(Principal, Executed)> {
        let (runtime, time, limit) = (self.runtime.clone(), self.time, self.limits.update);
        let (engine, linker) = (&runtime.engine, &runtime.linker);
        let mut fired = Vec::new();
        for (id, c) in self.canisters.iter_mut() {
            // A frozen canister's timer waits (as on the IC) until it is topped up.
            let frozen = c.cycles < freezing_limit(c).saturating_add(ic_costs::execution(limit));
            let Some(running) = c.running.as_mut() else {
                continue;
            };
            if frozen {
                continue;
            }
            let due = running.env().global_timer;
            if due == 0 || due > time || !running.exports("canister_global_timer") {
                continue;
            }
            running.env_mut().global_timer = 0;
            let management = Principal::management_canister();
            let run = running.execute(
                engine,
                linker,
                "canister_global_timer",
                Context::Timer,
                management.as_slice(),
                "",
                &[],
                time,
                limit,
                true,
            );
            burn(c, ic_costs::execution(run.instructions));
            fired.push((*id, run));
        }
        fired
    }

    /// Bills every canister for the memory it held since it last paid (at each logged input,
    /// live and replayed alike, so a replayed balance is the live one).
    pub(crate) fn charge_storage(&mut self) {
        let now = self.time;
        for c in self.canisters.values_mut() {
            let (cycles, left) = storage_due(c, now);
            burn(c, cycles);
            c.storage_owed = left;
            c.charged_at = c.charged_at.max(now);
        }
    }

    /// Creates an empty canister with these controllers (as `provisional_create_canister_with_cycles`).
    pub fn create_canister(&mut self, controllers: Vec<Principal>) -> Result<Principal, CallError> {
        if controllers.len() > MAX_CONTROLLERS {
            return Err(CallError::TooManyControllers);
        }
        self.log(|| Input::CreateCanister {
            controllers: controllers.clone(),
        })?;
        let id = self.create_inner(controllers);
        self.maybe_checkpoint()?;
        Ok(id)
    }

    fn create_inner(&mut self, controllers: Vec<Principal>) -> Principal {
        if canister_id(self.next_canister) == system::CYCLES_LEDGER {
            // The cycles ledger's number, were it ever reached.
            self.next_canister += 1;
        }
        let id = canister_id(self.next_canister);
        self.next_canister += 1;
        // Old logs' canisters, created before canisters had a balance, keep the one they had.
        let cycles = management::CYCLES;
        self.canisters.insert(
            id,
            Canister {
                controllers,
                version: 0,
                stopped: false,
                running: None,
                idle_env: Some(self.new_env(id)),
                chunks: BTreeMap::new(),
                cycles,
                charged_at: self.time,
                storage_owed: 0,
                settings: settings::Settings::default(),
            },
        );
        id
    }

    fn canister(&mut self, id: Principal) -> Result<&mut Canister, CallError> {
        self.canisters
            .get_mut(&id)
            .ok_or(CallError::CanisterNotFound(id))
    }

    /// Installs, reinstalls or upgrades a canister's code (controllers only). Returns the
    /// instructions the hooks used. A failure leaves the canister exactly as it was.
    pub fn install_code(
        &mut self,
        sender: Principal,
        id: Principal,
        mode: InstallMode,
        wasm: &[u8],
        arg: &[u8],
    ) -> Result<u64, CallError> {
        // A module that cannot run is refused before anything is logged.
        self.runtime.compile(wasm)?;
        if let Some(state) = &self.state {
            let module = module::sha256(wasm);
            state.save_module(&module, wasm)?;
            self.log(|| Input::InstallCode {
                sender,
                canister: id,
                mode,
                module,
                arg: arg.to_vec(),
            })?;
        }
        let used = self.install_inner(sender, id, mode, wasm, arg);
        self.maybe_checkpoint()?;
        used
    }

    /// Keeps `chunk` in the chunk store of canister `id` (its controllers only), as the IC's
    /// `upload_chunk`; answers its SHA-256.
    pub fn upload_chunk(
        &mut self,
        sender: Principal,
        id: Principal,
        chunk: &[u8],
    ) -> Result<[u8; 32], CallError> {
        if chunk.len() > CHUNK_MAX_BYTES {
            return Err(CallError::InvalidArgument(format!(
                "upload_chunk: a chunk is at most {CHUNK_MAX_BYTES} bytes, not {}",
                chunk.len()
            )));
        }
        let hash = module::sha256(chunk);
        let c = self.controlled(sender, id)?;
        if !c.chunks.contains_key(&hash) && c.chunks.len() >= CHUNK_STORE_MAX {
            return Err(CallError::InvalidArgument(format!(
                "upload_chunk: the chunk store of {id} is full ({CHUNK_STORE_MAX} chunks): \
                 clear_chunk_store first"
            )));
        }
        if let Some(state) = &self.state {
            state.save_module(&hash, chunk)?;
            self.log(|| Input::UploadChunk {
                sender,
                canister: id,
                hash,
            })?;
        }
        self.controlled(sender, id)?
            .chunks
            .insert(hash, Arc::new(chunk.to_vec()));
        self.maybe_checkpoint()?;
        Ok(hash)
    }

    /// Empties the chunk store of canister `id` (its controllers only).
    pub fn clear_chunk_store(&mut self, sender: Principal, id: Principal) -> Result<(), CallError> {
        self.controlled(sender, id)?;
        self.log(|| Input::ClearChunkStore {
            sender,
            canister: id,
        })?;
        self.controlled(sender, id)?.chunks.clear();
        self.maybe_checkpoint()
    }

    /// The hashes of the chunks in canister `id`'s store (its controllers only).
    pub fn stored_chunks(
        &mut self,
        sender: Principal,
        id: Principal,
    ) -> Result<Vec<[u8; 32]>, CallError> {
        Ok(self
            .controlled(sender, id)?
            .chunks
            .keys()
            .copied()
            .collect())
    }

    /// Installs into `target` the module made of the chunks `hashes` of `store`'s chunk store
    /// (`target`'s own by default), in that order, as the IC's `install_chunked_code`: the
    /// sender controls both, and the module's SHA-256 is `module_hash`.
    #[allow(clippy::too_many_arguments)]
    pub fn install_chunked_code(
        &mut self,
        sender: Principal,
        target: Principal,
        store: Option<Principal>,
        mode: InstallMode,
        hashes: &[Vec<u8>],
        module_hash: &[u8],
        arg: &[u8],
    ) -> Result<u64, CallError> {
        let store = store.unwrap_or(target);
        let chunks = &self.controlled(sender, store)?.chunks;
        let mut wasm = Vec::new();
        for hash in hashes {
            let chunk = <[u8; 32]>::try_from(hash.as_slice())
                .ok()
                .and_then(|hash| chunks.get(&hash))
                .ok_or_else(|| {
                    CallError::InvalidArgument(format!(
                        "install_chunked_code: chunk {} is not in the chunk store of {store}: \
                         upload it first",
                        hex::encode(hash)
                    ))
                })?;
            wasm.extend_from_slice(chunk);
        }
        if module::sha256(&wasm).as_slice() != module_hash {
            return Err(CallError::InvalidArgument(format!(
                "install_chunked_code: the chunks make a module whose SHA-256 is {}, not the \
                 wasm_module_hash {}",
                hex::encode(module::sha256(&wasm)),
                hex::encode(module_hash)
            )));
        }
        self.install_code(sender, target, mode, &wasm, arg)
    }

    fn install_inner(
        &mut self,
        sender: Principal,
        id: Principal,
        mode: InstallMode,
        wasm: &[u8],
        arg: &[u8],
    ) -> Result<u64, CallError> {
        let (module, compiled) = self.runtime.compile(wasm)?;
        let (runtime, time, limits) = (self.runtime.clone(), self.time, self.limits);
        let limit = limits.install;
        let (engine, linker) = (&runtime.engine, &runtime.linker);
        let c = self.canister(id)?;
        if !c.controllers.contains(&sender) {
            return Err(CallError::NotAController(id));
        }
        match (mode, c.running.is_some()) {
            (InstallMode::Install, true) => return Err(CallError::CanisterNotEmpty(id)),
            (InstallMode::Upgrade, false) => return Err(CallError::CanisterEmpty(id)),
            _ => {}
        }
        let mut used = 0u64;
        // The old instance, and the environment (stable memory) the new one starts from.
        let old = c.running.take();
        // What a failed upgrade puts back: the certified data as it was before pre_upgrade.
        let old_certified_data = old.as_ref().map(|r| r.env().certified_data.clone());
        let mut env = match (mode, old) {
            (InstallMode::Upgrade, Some(mut running)) => {
                if running.exports("canister_pre_upgrade") {
                    // Kept open: a failed post_upgrade undoes pre_upgrade too.
                    let run = running.execute_open(
                        engine,
                        linker,
                        "canister_pre_upgrade",
                        Context::PreUpgrade,
                        sender.as_slice(),
                        &[],
                        time,
                        limit,
                    );
                    used += run.instructions;
                    if let Outcome::Trapped(message) = run.outcome {
                        c.running = Some(running);
                        burn(c, ic_costs::execution(used));
                        return Err(CallError::Trapped {
                            message: format!("pre_upgrade: {message}"),
                            instructions: used,
                        });
                    }
                }
                // Keep the old instance until the new one is up: a failed post_upgrade restores it.
                c.running = Some(running);
                let env = c.running.as_mut().expect("just set").env_mut();
                let mut next = new_env(&limits, id);
                next.stable = std::mem::take(&mut env.stable);
                next.certified_data = env.certified_data.clone();
                next
            }
            (_, old) => {
                c.running = old;
                new_env(&limits, id)
            }
        };
        env.controllers = c
            .controllers
            .iter()
            .map(|p| p.as_slice().to_vec())
            .collect();
        env.canister_version = c.version + 1;
        let hook = if mode == InstallMode::Upgrade {
            ("canister_post_upgrade", Context::PostUpgrade)
        } else {
            ("canister_init", Context::Init)
        };
        // A failed upgrade gives the old instance back its stable memory, then undoes what
        // pre_upgrade did: the canister is as it was before the upgrade, as on the IC.
        let give_back = |c: &mut Canister, stable: StableMemory| {
            if mode == InstallMode::Upgrade
                && let Some(old) = c.running.as_mut()
            {
                let env = old.env_mut();
                env.stable = stable;
                env.certified_data = old_certified_data.clone().unwrap_or_default();
                old.roll_back_open(engine, linker);
            }
        };
        let mut running =
            match Running::instantiate_or_give_back(engine, linker, module, compiled, env) {
                Ok(r) => r,
                Err((e, mut env)) => {
                    give_back(c, std::mem::take(&mut env.stable));
                    return Err(CallError::ModuleRefused(ModuleError::Invalid(e)));
                }
            };
        if running.exports(hook.0) {
            let run = running.execute(
                engine,
                linker,
                hook.0,
                hook.1,
                sender.as_slice(),
                "",
                arg,
                time,
                limit - used,
                true,
            );
            used += run.instructions;
            if let Outcome::Trapped(message) = run.outcome {
                // Put the stable memory (and certified data) back where they came from.
                give_back(c, std::mem::take(&mut running.env_mut().stable));
                burn(c, ic_costs::execution(used));
                return Err(CallError::Trapped {
                    message: format!("{}: {message}", hook.0),
                    instructions: used,
                });
            }
        }
        running.env_mut().stable.commit();
        c.running = Some(running);
        c.idle_env = None;
        c.version += 1;
        burn(c, ic_costs::execution(used));
        Ok(used)
    }

    /// An update call as an ingress message: `canister_inspect_message` first (if the module
    /// has one), then the method.
    pub fn update_call(
        &mut self,
        sender: Principal,
        id: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        if id == Principal::management_canister() {
            return self.management_call(sender, method, arg);
        }
        if let Some(system) = self.system_canister(id) {
            return match self.system_check(system, sender, method, arg) {
                system::Checked::Answer(answer) => answer,
                system::Checked::Change => {
                    self.log(|| Input::SystemCall {
                        sender,
                        canister: id,
                        method: method.to_string(),
                        arg: arg.to_vec(),
                    })?;
                    let reply = self.system_apply(sender, id, method, arg);
                    self.maybe_checkpoint()?;
                    reply
                }
            };
        }
        // A call that cannot run is refused before it is logged.
        self.entry_point(id, method, true)?;
        let ingress = self.ingress.as_ref().map(|seen| seen.request_id.to_vec());
        self.log(|| Input::UpdateCall {
            sender,
            canister: id,
            method: method.to_string(),
            arg: arg.to_vec(),
        })?;
        let reply = self.execute(sender, id, method, arg, true, None);
        if let Some(request_id) = ingress
            && !ran(&reply)
        {
            // Turned away by `canister_inspect_message`: it may be sent again (replay agrees).
            self.seen_requests.remove(&request_id);
        }
        self.maybe_checkpoint()?;
        reply
    }

    /// A query call: runs, replies, and changes nothing. The same as
    /// [`Replica::query_with_certificate`] without a certificate.
    pub fn query_call(
        &mut self,
        sender: Principal,
        id: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        self.query_with_certificate(sender, id, method, arg, None)
    }

    /// A query call that, given `data_certificate` (a certificate of the canister's certified
    /// data, as the HTTP layer makes it), lets the canister read it: in the query,
    /// `ic0.data_certificate_present` returns 1 and `ic0.data_certificate_size` /
    /// `ic0.data_certificate_copy` give these bytes. Only this query sees them; updates,
    /// `canister_inspect_message`, install hooks and timers never have a certificate.
    pub fn query_with_certificate(
        &mut self,
        sender: Principal,
        id: Principal,
        method: &str,
        arg: &[u8],
        data_certificate: Option<&[u8]>,
    ) -> Result<Reply, CallError> {
        if id == Principal::management_canister() {
            if management::QUERY_METHODS.contains(&method) {
                // Read-only: it changes and logs nothing.
                return self.management_call(sender, method, arg);
            }
            return Err(CallError::NoSuchMethod {
                kind: "query",
                method: format!(
                    "{method} (of the management canister's methods, only {} may be queried)",
                    management::QUERY_METHODS.join(", ")
                ),
            });
        }
        if let Some(system) = self.system_canister(id) {
            return self.system_query(system, sender, method, arg);
        }
        self.execute(sender, id, method, arg, false, data_certificate)
    }

    /// The export a call runs, if the canister can take the call now.
    fn entry_point(&self, id: Principal, method: &str, update: bool) -> Result<String, CallError> {
        let c = self
            .canisters
            .get(&id)
            .ok_or(CallError::CanisterNotFound(id))?;
        if c.stopped {
            return Err(CallError::CanisterStopped(id));
        }
        let running = c.running.as_ref().ok_or(CallError::CanisterEmpty(id))?;
        let candidates = if update {
            // As on the IC, a query method may be called as an update: it then runs in
            // replicated mode (its answer is certified) and its changes are discarded.
            vec![
                format!("canister_update {method}"),
                format!("canister_query {method}"),
            ]
        } else {
            // A composite query that calls no other canister runs as a query.
            vec![
                format!("canister_query {method}"),
                format!("canister_composite_query {method}"),
            ]
        };
        candidates
            .into_iter()
            .find(|entry| running.exports(entry))
            .ok_or_else(|| CallError::NoSuchMethod {
                kind: if update { "update" } else { "query" },
                method: method.to_string(),
            })
    }

    fn execute(
        &mut self,
        sender: Principal,
        id: Principal,
        method: &str,
        arg: &[u8],
        update: bool,
        data_certificate: Option<&[u8]>,
    ) -> Result<Reply, CallError> {
        let (runtime, time, limits) = (self.runtime.clone(), self.time, self.limits);
        let (engine, linker) = (&runtime.engine, &runtime.linker);
        let entry = self.entry_point(id, method, update)?;
        // A query method called as an update runs as a query whose changes are discarded.
        let replicated_query = update && entry.starts_with("canister_query ");
        let (context, limit) = if update && !replicated_query {
            (Context::Update, limits.update)
        } else {
            (Context::Query, limits.query)
        };
        let running = self
            .canisters
            .get_mut(&id)
            .and_then(|c| c.running.as_mut())
            .expect("entry_point checked it");
        if update && running.exports("canister_inspect_message") {
            let inspect = running.execute(
                engine,
                linker,
                "canister_inspect_message",
                Context::Inspect,
                sender.as_slice(),
                method,
                arg,
                time,
                limits.inspect,
                false,
            );
            if !inspect.accepted {
                return Err(CallError::NotAccepted);
            }
        }
        // An update is paid for before it runs: its reception, and its execution up to the
        // instruction limit (what it does not use is refunded after), without the balance
        // falling below the freezing limit; else it is refused, as the IC refuses it (IC0207).
        // (`canister_inspect_message` above is free: it runs before the message is inducted.)
        let c = self.canisters.get_mut(&id).expect("entry_point checked it");
        let received = ic_costs::ingress(method.len() + arg.len());
        if update {
            let needed = freezing_limit(c)
                .saturating_add(received)
                .saturating_add(ic_costs::execution(limit));
            if c.cycles < needed {
                return Err(CallError::OutOfCycles {
                    canister: id,
                    needed: needed - c.cycles,
                });
            }
        }
        let balance = c.cycles;
        let running = c.running.as_mut().expect("entry_point checked it");
        running.env_mut().cycles = balance;
        // Only a query is given the certificate (the System API checks the context too).
        running.env_mut().data_certificate = data_certificate
            .filter(|_| context == Context::Query)
            .map(<[u8]>::to_vec);
        let run = running.execute(
            engine,
            linker,
            &entry,
            context,
            sender.as_slice(),
            method,
            arg,
            time,
            limit,
            update && !replicated_query,
        );
        running.env_mut().data_certificate = None;
        let instructions = run.instructions;
        if update {
            let c = self.canisters.get_mut(&id).expect("it ran");
            burn(
                c,
                received.saturating_add(ic_costs::execution(instructions)),
            );
        }
        match run.outcome {
            Outcome::Replied(bytes) => Ok(Reply {
                bytes,
                instructions,
            }),
            Outcome::Rejected(message) => Err(CallError::Rejected {
                message,
                instructions,
            }),
            Outcome::Trapped(message) => Err(CallError::Trapped {
                message,
                instructions,
            }),
            Outcome::DidNotReply => Err(CallError::DidNotReply { instructions }),
        }
    }

    /// Module hash, controllers, stable memory and version (controllers only).
    pub fn canister_status(
        &mut self,
        sender: Principal,
        id: Principal,
    ) -> Result<CanisterStatus, CallError> {
        self.controlled(sender, id)?;
        self.status_of(id)
    }

    fn status_of(&mut self, id: Principal) -> Result<CanisterStatus, CallError> {
        let c = self.canister(id)?;
        let env = c.running.as_ref().map(|r| r.env()).or(c.idle_env.as_ref());
        Ok(CanisterStatus {
            module_hash: c.running.as_ref().map(|r| r.module.hash),
            controllers: c.controllers.clone(),
            stable_memory_pages: env.map_or(0, |e| e.stable.size()),
            heap_bytes: c.running.as_ref().map_or(0, |r| r.heap_bytes() as u64),
            version: c.version,
            stopped: c.stopped,
        })
    }

    /// Every canister (empty or not, stopped or not; deleted ones are gone), ascending.
    pub fn canister_ids(&self) -> Vec<Principal> {
        self.canisters.keys().copied().collect()
    }

    /// What the state tree certifies about canister `id` (`/canister/<id>/...`): its certified
    /// data (`ic0.certified_data_set`'s last value; empty if none, or while empty), the module's
    /// SHA-256 as `canister_status` reports it, the controllers in `canister_status`'s order,
    /// and the module's `icp:public` and `icp:private` custom sections by name. None: no such
    /// canister.
    pub fn certified_state(&self, id: Principal) -> Option<certify::CanisterInfo> {
        let c = self.canisters.get(&id)?;
        let running = c.running.as_ref();
        Some(certify::CanisterInfo {
            certified_data: running.map_or_else(Vec::new, |r| r.env().certified_data.clone()),
            module_hash: running.map(|r| r.module.hash),
            controllers: c.controllers.clone(),
            metadata: running.map_or_else(Default::default, |r| {
                r.module
                    .metadata
                    .iter()
                    .map(|(name, section)| (name.clone(), section.content.clone()))
                    .collect()
            }),
        })
    }

    /// Names of canister `id`'s `icp:private <name>` sections: metadata only its controllers
    /// may read (empty: no such canister, no code, or no private metadata).
    pub fn private_metadata_names(&self, id: Principal) -> Vec<String> {
        self.canisters
            .get(&id)
            .and_then(|c| c.running.as_ref())
            .map_or_else(Vec::new, |r| {
                r.module
                    .metadata
                    .iter()
                    .filter(|(_, section)| !section.public)
                    .map(|(name, _)| name.clone())
                    .collect()
            })
    }

    /// The canister, if `sender` controls it.
    fn controlled(&mut self, sender: Principal, id: Principal) -> Result<&mut Canister, CallError> {
        let c = self.canister(id)?;
        if c.controllers.contains(&sender) {
            Ok(c)
        } else {
            Err(CallError::NotAController(id))
        }
    }

    /// Replaces the controllers (`update_settings`; controllers only).
    pub fn update_controllers(
        &mut self,
        sender: Principal,
        id: Principal,
        controllers: Vec<Principal>,
    ) -> Result<(), CallError> {
        if controllers.len() > MAX_CONTROLLERS {
            return Err(CallError::TooManyControllers);
        }
        self.controlled(sender, id)?;
        self.log(|| Input::UpdateControllers {
            sender,
            canister: id,
            controllers: controllers.clone(),
        })?;
        self.controllers_inner(sender, id, controllers)?;
        self.maybe_checkpoint()
    }

    fn controllers_inner(
        &mut self,
        sender: Principal,
        id: Principal,
        controllers: Vec<Principal>,
    ) -> Result<(), CallError> {
        let c = self.controlled(sender, id)?;
        c.controllers = controllers;
        if let Some(running) = c.running.as_mut() {
            running.env_mut().controllers = c
                .controllers
                .iter()
                .map(|p| p.as_slice().to_vec())
                .collect();
        }
        Ok(())
    }

    /// Stops a canister: it refuses calls until started (`stop_canister`; controllers only).
    pub fn stop_canister(&mut self, sender: Principal, id: Principal) -> Result<(), CallError> {
        self.controlled(sender, id)?;
        self.log(|| Input::StopCanister {
            sender,
            canister: id,
        })?;
        self.controlled(sender, id)?.stopped = true;
        self.maybe_checkpoint()
    }

    /// Starts a stopped canister (`start_canister`; controllers only).
    pub fn start_canister(&mut self, sender: Principal, id: Principal) -> Result<(), CallError> {
        self.controlled(sender, id)?;
        self.log(|| Input::StartCanister {
            sender,
            canister: id,
        })?;
        self.controlled(sender, id)?.stopped = false;
        self.maybe_checkpoint()
    }

    /// Deletes a stopped canister and everything in it (`delete_canister`; controllers only).
    pub fn delete_canister(&mut self, sender: Principal, id: Principal) -> Result<(), CallError> {
        if !self.controlled(sender, id)?.stopped {
            return Err(CallError::CanisterRunning(id));
        }
        self.log(|| Input::DeleteCanister {
            sender,
            canister: id,
        })?;
        self.delete_inner(sender, id)?;
        self.maybe_checkpoint()
    }

    fn delete_inner(&mut self, sender: Principal, id: Principal) -> Result<(), CallError> {
        if !self.controlled(sender, id)?.stopped {
            return Err(CallError::CanisterRunning(id));
        }
        self.canisters.remove(&id);
        Ok(())
    }
}

/// What canister `c` owes for its memory from when it last paid until `now`: whole cycles, and
/// what is left below one (see `Canister::storage_owed`).
pub(crate) fn storage_due(c: &Canister, now: u64) -> (u128, u128) {
    let owed = (memory_bytes(c) as u128)
        .saturating_mul(ic_costs::GIB_SECOND)
        .saturating_mul(now.saturating_sub(c.charged_at) as u128)
        .saturating_add(c.storage_owed);
    let unit = (1u128 << 30) * 1_000_000_000;
    (owed / unit, owed % unit)
}

/// Takes `cycles` from a canister's balance (never below zero).
fn burn(c: &mut Canister, cycles: u128) {
    c.cycles = c.cycles.saturating_sub(cycles);
}

/// The memory a canister is billed for: its heap, stable memory, module and chunk store.
pub(crate) fn memory_bytes(c: &Canister) -> u64 {
    let chunks: u64 = c.chunks.values().map(|chunk| chunk.len() as u64).sum();
    let running = c.running.as_ref().map_or(0, |r| {
        r.heap_bytes() as u64 + r.env().stable.size() * PAGE_SIZE + r.module.wasm.len() as u64
    });
    let idle = c
        .idle_env
        .as_ref()
        .map_or(0, |e| e.stable.size() * PAGE_SIZE);
    chunks + running + idle
}

/// The balance below which the canister is frozen (`freezing_threshold` seconds of idle burn).
fn freezing_limit(c: &Canister) -> u128 {
    ic_costs::freezing_limit(
        memory_bytes(c),
        c.settings.compute_allocation,
        c.settings.freezing_threshold,
    )
}

/// A canister's environment, with the replica's memory limits.
fn new_env(limits: &Limits, id: Principal) -> Env {
    let mut env = Env::new(id.as_slice().to_vec());
    apply_memory_limits(&mut env, limits);
    env
}

fn apply_memory_limits(env: &mut Env, limits: &Limits) {
    env.max_heap_bytes = limits.heap_bytes;
    env.max_stable_pages = limits.stable_bytes / PAGE_SIZE;
}
