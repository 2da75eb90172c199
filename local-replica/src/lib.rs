//! A single-node Internet Computer replica that runs canister wasm under wasmtime with the IC's
//! execution semantics: each message atomic (a trap rolls back heap, globals and stable memory),
//! queries never persist, instructions metered and limited as on the IC, upgrades through
//! `pre_upgrade` / fresh instance / `post_upgrade` with stable memory kept.
//!
//! This is the in-process API that tests and embedders use. (Durability and the HTTP interface
//! build on it.)
#![forbid(unsafe_code)]

mod canister;
pub mod heap;
pub mod module;
pub mod stable;
pub mod system_api;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use candid::Principal;
use wasmtime::{Config, Engine, Linker, Module};

use canister::Running;
pub use canister::{Executed, Outcome};
use module::{ModuleError, PreparedModule};
use system_api::{Context, Env};

/// Most controllers a canister may have (as on the IC).
pub const MAX_CONTROLLERS: usize = 10;

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
    #[error("canister has no {kind} method `{method}`")]
    NoSuchMethod { kind: &'static str, method: String },
    #[error("the canister did not accept the message (canister_inspect_message)")]
    NotAccepted,
    #[error("{message}")]
    Trapped { message: String, instructions: u64 },
    #[error("the canister rejected the call: {message}")]
    Rejected { message: String, instructions: u64 },
    #[error("the canister did not reply")]
    DidNotReply { instructions: u64 },
    #[error("{0}")]
    Engine(String),
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            update: UPDATE_INSTRUCTION_LIMIT,
            query: QUERY_INSTRUCTION_LIMIT,
            inspect: INSPECT_INSTRUCTION_LIMIT,
            install: INSTALL_INSTRUCTION_LIMIT,
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
}

/// The replica.
pub struct Replica {
    engine: Engine,
    linker: Arc<Linker<Env>>,
    canisters: BTreeMap<Principal, Canister>,
    compiled: HashMap<[u8; 32], (Arc<PreparedModule>, Module)>,
    next_canister: u64,
    time: u64,
    limits: Limits,
}

/// A canister id as the IC forms them: an 8-byte big-endian number, then `0x01 0x01`.
pub fn canister_id(n: u64) -> Principal {
    let mut bytes = n.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[1, 1]);
    Principal::from_slice(&bytes)
}

impl Replica {
    /// A replica with no canisters, its clock at `time` (ns since the epoch).
    pub fn new(time: u64) -> Result<Self, CallError> {
        let mut config = Config::new();
        config
            .wasm_tail_call(false)
            // The rewrite adds a second memory (the saved-page bitmap); canister modules with
            // more than one memory are refused before that, as on the IC.
            .wasm_multi_memory(true)
            // Deterministic floats, as the IC requires (replay depends on it).
            .cranelift_nan_canonicalization(true);
        let engine = Engine::new(&config).map_err(|e| CallError::Engine(e.to_string()))?;
        let linker = system_api::linker(&engine).map_err(|e| CallError::Engine(e.to_string()))?;
        Ok(Replica {
            engine,
            linker: Arc::new(linker),
            canisters: BTreeMap::new(),
            compiled: HashMap::new(),
            next_canister: 0,
            time,
            limits: Limits::default(),
        })
    }

    /// The instruction limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the instruction limits (tests use small ones to reach them quickly).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The replica's clock.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// Sets the clock (it never goes back), then fires the timers that fell due.
    pub fn set_time(&mut self, time: u64) -> Vec<(Principal, Executed)> {
        self.time = self.time.max(time);
        self.fire_timers()
    }

    /// Runs `canister_global_timer` of every canister whose timer is due, as a replicated
    /// message from the management canister. As on the IC, a timer fires once: it is
    /// deactivated before its handler runs (the handler may set it again).
    pub fn fire_timers(&mut self) -> Vec<(Principal, Executed)> {
        let (engine, linker, time, limit) = (
            self.engine.clone(),
            self.linker.clone(),
            self.time,
            self.limits.update,
        );
        let mut fired = Vec::new();
        for (id, c) in self.canisters.iter_mut() {
            let Some(running) = c.running.as_mut() else {
                continue;
            };
            let due = running.env().global_timer;
            if due == 0 || due > time || !running.exports("canister_global_timer") {
                continue;
            }
            running.env_mut().global_timer = 0;
            let management = Principal::management_canister();
            let run = running.execute(
                &engine,
                &linker,
                "canister_global_timer",
                Context::Timer,
                management.as_slice(),
                "",
                &[],
                time,
                limit,
                true,
            );
            fired.push((*id, run));
        }
        fired
    }

    /// Creates an empty canister with these controllers (as `provisional_create_canister_with_cycles`).
    pub fn create_canister(&mut self, controllers: Vec<Principal>) -> Principal {
        let id = canister_id(self.next_canister);
        self.next_canister += 1;
        self.canisters.insert(
            id,
            Canister {
                controllers,
                version: 0,
                stopped: false,
                running: None,
                idle_env: Some(Env::new(id.as_slice().to_vec())),
            },
        );
        id
    }

    fn canister(&mut self, id: Principal) -> Result<&mut Canister, CallError> {
        self.canisters
            .get_mut(&id)
            .ok_or(CallError::CanisterNotFound(id))
    }

    /// Checks and compiles a module, once per distinct module.
    fn compile(&mut self, wasm: &[u8]) -> Result<(Arc<PreparedModule>, Module), CallError> {
        let hash = module::sha256(wasm);
        if let Some(found) = self.compiled.get(&hash) {
            return Ok(found.clone());
        }
        let prepared = module::prepare(wasm)?;
        let compiled = Module::new(&self.engine, &prepared.wasm)
            .map_err(|e| CallError::ModuleRefused(ModuleError::Invalid(e.to_string())))?;
        let entry = (Arc::new(prepared), compiled);
        self.compiled.insert(hash, entry.clone());
        Ok(entry)
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
        let (module, compiled) = self.compile(wasm)?;
        let (engine, linker, time, limit) = (
            self.engine.clone(),
            self.linker.clone(),
            self.time,
            self.limits.install,
        );
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
        let mut env = match (mode, old) {
            (InstallMode::Upgrade, Some(mut running)) => {
                if running.exports("canister_pre_upgrade") {
                    let run = running.execute(
                        &engine,
                        &linker,
                        "canister_pre_upgrade",
                        Context::PreUpgrade,
                        sender.as_slice(),
                        "",
                        &[],
                        time,
                        limit,
                        true,
                    );
                    used += run.instructions;
                    if let Outcome::Trapped(message) = run.outcome {
                        c.running = Some(running);
                        return Err(CallError::Trapped {
                            message: format!("pre_upgrade: {message}"),
                            instructions: used,
                        });
                    }
                }
                // Keep the old instance until the new one is up: a failed post_upgrade restores it.
                c.running = Some(running);
                let env = c.running.as_mut().expect("just set").env_mut();
                let mut next = Env::new(id.as_slice().to_vec());
                next.stable = std::mem::take(&mut env.stable);
                next.certified_data = env.certified_data.clone();
                next
            }
            (_, old) => {
                c.running = old;
                Env::new(id.as_slice().to_vec())
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
        let mut running = match Running::instantiate(&engine, &linker, module, compiled, env) {
            Ok(r) => r,
            Err(e) => {
                return Err(CallError::ModuleRefused(ModuleError::Invalid(e)));
            }
        };
        if running.exports(hook.0) {
            let run = running.execute(
                &engine,
                &linker,
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
                // Put the stable memory back where it came from.
                if mode == InstallMode::Upgrade {
                    let stable = std::mem::take(&mut running.env_mut().stable);
                    c.running.as_mut().expect("kept for this").env_mut().stable = stable;
                }
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
        self.execute(sender, id, method, arg, true)
    }

    /// A query call: runs, replies, and changes nothing.
    pub fn query_call(
        &mut self,
        sender: Principal,
        id: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        self.execute(sender, id, method, arg, false)
    }

    fn execute(
        &mut self,
        sender: Principal,
        id: Principal,
        method: &str,
        arg: &[u8],
        update: bool,
    ) -> Result<Reply, CallError> {
        let (engine, linker, time, limits) = (
            self.engine.clone(),
            self.linker.clone(),
            self.time,
            self.limits,
        );
        let c = self.canister(id)?;
        if c.stopped {
            return Err(CallError::CanisterStopped(id));
        }
        let running = c.running.as_mut().ok_or(CallError::CanisterEmpty(id))?;
        let (kind, entry, context, limit) = if update {
            (
                "update",
                format!("canister_update {method}"),
                Context::Update,
                limits.update,
            )
        } else {
            (
                "query",
                format!("canister_query {method}"),
                Context::Query,
                limits.query,
            )
        };
        if !running.exports(&entry) {
            return Err(CallError::NoSuchMethod {
                kind,
                method: method.to_string(),
            });
        }
        if update && running.exports("canister_inspect_message") {
            let inspect = running.execute(
                &engine,
                &linker,
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
        let run = running.execute(
            &engine,
            &linker,
            &entry,
            context,
            sender.as_slice(),
            method,
            arg,
            time,
            limit,
            update,
        );
        let instructions = run.instructions;
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
        let c = self.canister(id)?;
        if !c.controllers.contains(&sender) {
            return Err(CallError::NotAController(id));
        }
        let env = c.running.as_ref().map(|r| r.env()).or(c.idle_env.as_ref());
        Ok(CanisterStatus {
            module_hash: c.running.as_ref().map(|r| r.module.hash),
            controllers: c.controllers.clone(),
            stable_memory_pages: env.map_or(0, |e| e.stable.size()),
            version: c.version,
            stopped: c.stopped,
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
        self.controlled(sender, id)?.stopped = true;
        Ok(())
    }

    /// Starts a stopped canister (`start_canister`; controllers only).
    pub fn start_canister(&mut self, sender: Principal, id: Principal) -> Result<(), CallError> {
        self.controlled(sender, id)?.stopped = false;
        Ok(())
    }

    /// Deletes a stopped canister and everything in it (`delete_canister`; controllers only).
    pub fn delete_canister(&mut self, sender: Principal, id: Principal) -> Result<(), CallError> {
        if !self.controlled(sender, id)?.stopped {
            return Err(CallError::CanisterRunning(id));
        }
        self.canisters.remove(&id);
        Ok(())
    }
}
