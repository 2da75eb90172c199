//! One canister: its module, its live instance (heap and globals persist between messages, as
//! on the IC), its stable memory, and running one message atomically.

use std::sync::Arc;

use wasmtime::{Engine, Extern, Instance, Linker, Module, Store, Val};

use crate::module::PreparedModule;
use crate::system_api::{Context, Env, Response};

/// How one message ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It replied (or, for entry points that do not reply, completed).
    Replied(Vec<u8>),
    /// It rejected the call itself (`ic0.msg_reject`); its changes are kept.
    Rejected(String),
    /// It trapped, or hit the instruction limit: every change was rolled back.
    Trapped(String),
    /// It returned without replying; its changes are kept.
    DidNotReply,
}

/// The result of a message, with what it cost.
#[derive(Clone, Debug)]
pub struct Executed {
    pub outcome: Outcome,
    /// Instructions charged: one per wasm instruction plus System API charges.
    pub instructions: u64,
    /// `ic0.debug_print` output.
    pub logs: Vec<String>,
    /// For `canister_inspect_message`: whether it accepted.
    pub accepted: bool,
}

/// The persistent wasm side of an installed canister.
pub struct Running {
    pub module: Arc<PreparedModule>,
    compiled: Module,
    store: Store<Env>,
    instance: Instance,
}

struct Snapshot {
    heap: Vec<u8>,
    globals: Vec<Val>,
    certified_data: Vec<u8>,
    global_timer: u64,
}

impl Running {
    /// Instantiates `module` with `env` (which carries the stable memory in).
    pub fn instantiate(
        engine: &Engine,
        linker: &Linker<Env>,
        module: Arc<PreparedModule>,
        compiled: Module,
        env: Env,
    ) -> Result<Self, String> {
        let mut store = Store::new(engine, env);
        store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
        let instance = linker
            .instantiate(&mut store, &compiled)
            .map_err(|e| format!("instantiation failed: {e}"))?;
        Ok(Running {
            module,
            compiled,
            store,
            instance,
        })
    }

    pub fn env(&self) -> &Env {
        self.store.data()
    }

    pub fn env_mut(&mut self) -> &mut Env {
        self.store.data_mut()
    }

    /// Whether the module exports `name`.
    pub fn exports(&self, name: &str) -> bool {
        self.module.exports.iter().any(|e| e == name)
    }

    fn snapshot(&mut self) -> Snapshot {
        let heap = match self.instance.get_export(&mut self.store, "memory") {
            Some(Extern::Memory(m)) => m.data(&self.store).to_vec(),
            _ => Vec::new(),
        };
        let globals = self
            .module
            .mutable_globals
            .iter()
            .map(|name| {
                self.instance
                    .get_global(&mut self.store, name)
                    .expect("exported by the rewrite")
                    .get(&mut self.store)
            })
            .collect();
        let env = self.store.data();
        Snapshot {
            heap,
            globals,
            certified_data: env.certified_data.clone(),
            global_timer: env.global_timer,
        }
    }

    /// Puts the heap and globals back as they were. A heap that grew cannot shrink in place,
    /// so then the instance is rebuilt and the old heap copied in.
    fn restore(&mut self, engine: &Engine, linker: &Linker<Env>, snap: Snapshot) {
        let memory = match self.instance.get_export(&mut self.store, "memory") {
            Some(Extern::Memory(m)) => Some(m),
            _ => None,
        };
        if let Some(m) = memory
            && m.data_size(&self.store) != snap.heap.len()
        {
            let env = std::mem::replace(self.store.data_mut(), Env::new(Vec::new()));
            let rebuilt = Running::instantiate(
                engine,
                linker,
                self.module.clone(),
                self.compiled.clone(),
                env,
            )
            .expect("a module that instantiated once instantiates again");
            *self = rebuilt;
        }
        if let Some(Extern::Memory(m)) = self.instance.get_export(&mut self.store, "memory") {
            let have = m.data_size(&self.store) as u64 / crate::stable::PAGE_SIZE;
            let want = snap.heap.len() as u64 / crate::stable::PAGE_SIZE;
            if want > have {
                m.grow(&mut self.store, want - have)
                    .expect("growing back to a size it had");
            }
            m.data_mut(&mut self.store)[..snap.heap.len()].copy_from_slice(&snap.heap);
        }
        for (name, value) in self.module.mutable_globals.clone().iter().zip(snap.globals) {
            let global = self
                .instance
                .get_global(&mut self.store, name)
                .expect("exported by the rewrite");
            global
                .set(&mut self.store, value)
                .expect("same type as it had");
        }
        let env = self.store.data_mut();
        env.certified_data = snap.certified_data;
        env.global_timer = snap.global_timer;
    }

    /// Runs export `entry` as one message. `persist`: keep its changes if it succeeds
    /// (queries and inspection never persist).
    #[allow(clippy::too_many_arguments)]
    pub fn execute(
        &mut self,
        engine: &Engine,
        linker: &Linker<Env>,
        entry: &str,
        context: Context,
        caller: &[u8],
        method: &str,
        arg: &[u8],
        time: u64,
        limit: u64,
        persist: bool,
    ) -> Executed {
        {
            let env = self.store.data_mut();
            env.context = context;
            env.caller = caller.to_vec();
            env.method = method.to_string();
            env.arg = arg.to_vec();
            env.time = time;
            env.reply_buffer.clear();
            env.response = None;
            env.accepted = false;
            env.trap = None;
            env.logs.clear();
            env.fuel_at_start = limit;
            env.stable.begin();
        }
        let snap = self.snapshot();
        self.store.set_fuel(limit).expect("fuel is enabled");
        let result = match self
            .instance
            .get_typed_func::<(), ()>(&mut self.store, entry)
        {
            Ok(f) => f.call(&mut self.store, ()),
            Err(e) => Err(e),
        };
        let instructions = limit - self.store.get_fuel().expect("fuel is enabled");
        let env = self.store.data_mut();
        let logs = std::mem::take(&mut env.logs);
        let accepted = env.accepted;
        let outcome = match result {
            Ok(()) => match env.response.take() {
                Some(Response::Reply(bytes)) => Outcome::Replied(bytes),
                Some(Response::Reject(message)) => Outcome::Rejected(message),
                None if matches!(context, Context::Update | Context::Query) => Outcome::DidNotReply,
                None => Outcome::Replied(Vec::new()),
            },
            Err(e) => {
                let why = env.trap.take().unwrap_or_else(|| describe(&e));
                Outcome::Trapped(why)
            }
        };
        let keep = persist && !matches!(outcome, Outcome::Trapped(_));
        if keep {
            self.store.data_mut().stable.commit();
        } else {
            self.store.data_mut().stable.rollback();
            self.restore(engine, linker, snap);
        }
        Executed {
            outcome,
            instructions,
            logs,
            accepted,
        }
    }
}

/// A wasm trap in words.
fn describe(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => "instruction limit exceeded".to_string(),
        Some(trap) => format!("canister trapped: {trap}"),
        None => format!("canister trapped: {e}"),
    }
}
