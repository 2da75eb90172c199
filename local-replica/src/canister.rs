//! One canister: its module, its live instance (heap and globals persist between messages, as
//! on the IC), its stable memory, and running one message atomically.

use std::sync::Arc;

use wasmtime::{Engine, Extern, Instance, Linker, Memory, Module, Store, Val};

use crate::module::{COUNTER_EXPORT, HEAP_EXPORT, PreparedModule, SAVED_EXPORT};
use crate::stable::PAGE_SIZE;
use crate::system_api::{Context, Env, Handles, Response};

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
    /// A message run by [`Running::execute_open`] that succeeded and is not settled yet.
    open: Option<Before>,
}

/// What happens to a message's changes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Put back in any case (queries, inspection).
    Nothing,
    /// Kept if it succeeds.
    IfSucceeded,
    /// Kept for now if it succeeds, to be settled later: see [`Running::execute_open`].
    Open,
}

/// What a message may change besides memory pages, as it was before the message.
struct Before {
    globals: Vec<Val>,
    heap_bytes: usize,
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
        Self::instantiate_or_give_back(engine, linker, module, compiled, env).map_err(|(e, _)| e)
    }

    /// [`Running::instantiate`], which on failure gives `env` back (and the stable memory it
    /// carries, which an upgrade must then return to the old instance).
    pub fn instantiate_or_give_back(
        engine: &Engine,
        linker: &Linker<Env>,
        module: Arc<PreparedModule>,
        compiled: Module,
        env: Env,
    ) -> Result<Self, (String, Box<Env>)> {
        let mut store = Store::new(engine, env);
        store.limiter(|env| env);
        let instance = match linker.instantiate(&mut store, &compiled) {
            Ok(instance) => instance,
            Err(e) => {
                let why = format!("instantiation failed: {e}");
                return Err((why, Box::new(store.into_data())));
            }
        };
        let counter = match instance.get_export(&mut store, COUNTER_EXPORT) {
            Some(Extern::Global(g)) => g,
            _ => {
                let why = "the module was not prepared by this replica".to_string();
                return Err((why, Box::new(store.into_data())));
            }
        };
        let heap = instance.get_memory(&mut store, HEAP_EXPORT);
        let saved = instance.get_memory(&mut store, SAVED_EXPORT);
        store.data_mut().handles = Some(Handles {
            counter,
            heap,
            saved,
        });
        let mut running = Running {
            module,
            compiled,
            store,
            instance,
            open: None,
        };
        let len = running.heap_bytes();
        running.store.data_mut().heap.all_dirty(len);
        Ok(running)
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

    fn heap(&self) -> Option<Memory> {
        self.store.data().handles.and_then(|h| h.heap)
    }

    /// The heap's size in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.heap().map_or(0, |m| m.data_size(&self.store))
    }

    /// The heap's bytes.
    pub fn heap_data(&self) -> &[u8] {
        match self.heap() {
            Some(m) => m.data(&self.store),
            None => &[],
        }
    }

    /// The values of the module's mutable globals, in `module.mutable_globals` order.
    pub fn globals(&mut self) -> Vec<Val> {
        let names = self.module.mutable_globals.clone();
        names
            .iter()
            .map(|name| {
                self.instance
                    .get_global(&mut self.store, name)
                    .expect("exported by the rewrite")
                    .get(&mut self.store)
            })
            .collect()
    }

    /// Sets the module's mutable globals (as `globals` returned them).
    pub fn set_globals(&mut self, values: Vec<Val>) {
        for (name, value) in self.module.mutable_globals.clone().iter().zip(values) {
            self.instance
                .get_global(&mut self.store, name)
                .expect("exported by the rewrite")
                .set(&mut self.store, value)
                .expect("same type as it had");
        }
    }

    /// Grows the heap to `len` bytes (if smaller) and writes `bytes` at `offset`.
    pub fn write_heap(&mut self, len: usize, offset: usize, bytes: &[u8]) -> Result<(), String> {
        let Some(m) = self.heap() else {
            return Err("the module has no memory".into());
        };
        let have = m.data_size(&self.store);
        if len > have {
            m.grow(&mut self.store, ((len - have) as u64).div_ceil(PAGE_SIZE))
                .map_err(|e| e.to_string())?;
        }
        let data = m.data_mut(&mut self.store);
        data.get_mut(offset..offset + bytes.len())
            .ok_or("heap page out of range")?
            .copy_from_slice(bytes);
        Ok(())
    }

    fn clear_saved(&mut self, pages: Vec<u32>) {
        if let Some(saved) = self.store.data().handles.and_then(|h| h.saved) {
            let bitmap = saved.data_mut(&mut self.store);
            for page in pages {
                bitmap[page as usize] = 0;
            }
        }
    }

    /// Puts everything back as it was before the message. Saved pages are written back; a
    /// heap that grew cannot shrink in place, so then the instance is rebuilt at its old size
    /// (the only rollback that costs the size of the heap).
    fn roll_back(&mut self, engine: &Engine, linker: &Linker<Env>, before: Before) {
        let heap = self.heap();
        let pages = match heap {
            Some(m) => {
                let (data, env) = m.data_and_store_mut(&mut self.store);
                env.heap.rollback(data)
            }
            None => self.store.data_mut().heap.rollback(&mut []),
        };
        self.clear_saved(pages);
        self.store.data_mut().stable.rollback();
        if self.heap_bytes() != before.heap_bytes {
            let old = self.heap_data()[..before.heap_bytes].to_vec();
            let env = std::mem::replace(self.store.data_mut(), Env::new(Vec::new()));
            let mut rebuilt = Running::instantiate(
                engine,
                linker,
                self.module.clone(),
                self.compiled.clone(),
                env,
            )
            .expect("a module that instantiated once instantiates again");
            rebuilt
                .write_heap(old.len(), 0, &old)
                .expect("growing back to a size it had");
            // Nothing changed since the last checkpoint but what the journal recorded.
            *self = rebuilt;
        }
        self.set_globals(before.globals);
        let env = self.store.data_mut();
        env.certified_data = before.certified_data;
        env.global_timer = before.global_timer;
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
        let keep = if persist {
            Keep::IfSucceeded
        } else {
            Keep::Nothing
        };
        self.run(
            engine, linker, entry, context, caller, method, arg, time, limit, keep,
        )
    }

    /// Runs `entry` (pre_upgrade) as [`Running::execute`] would keep it, but leaves its changes
    /// open — heap, globals, certified data and the stable memory's undo log — so that
    /// [`Running::roll_back_open`] can still put them back if the upgrade fails later, as the
    /// IC undoes a whole failed upgrade. The stable memory's undo log travels with the stable
    /// memory to the new instance, whose post_upgrade then commits or rolls back both.
    #[allow(clippy::too_many_arguments)]
    pub fn execute_open(
        &mut self,
        engine: &Engine,
        linker: &Linker<Env>,
        entry: &str,
        context: Context,
        caller: &[u8],
        arg: &[u8],
        time: u64,
        limit: u64,
    ) -> Executed {
        self.run(
            engine,
            linker,
            entry,
            context,
            caller,
            "",
            arg,
            time,
            limit,
            Keep::Open,
        )
    }

    /// Puts back what the open message of [`Running::execute_open`] changed (give the
    /// instance its stable memory back first).
    pub fn roll_back_open(&mut self, engine: &Engine, linker: &Linker<Env>) {
        if let Some(before) = self.open.take() {
            self.roll_back(engine, linker, before);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
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
        keep: Keep,
    ) -> Executed {
        let limit = limit.min(i64::MAX as u64);
        let before = Before {
            globals: self.globals(),
            heap_bytes: self.heap_bytes(),
            certified_data: self.env().certified_data.clone(),
            global_timer: self.env().global_timer,
        };
        let counter = {
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
            env.limit = limit;
            env.stable.begin();
            env.heap.begin();
            env.handles.expect("set at instantiation").counter
        };
        counter
            .set(&mut self.store, Val::I64(limit as i64))
            .expect("an i64 global");
        let result = match self
            .instance
            .get_typed_func::<(), ()>(&mut self.store, entry)
        {
            Ok(f) => f.call(&mut self.store, ()),
            Err(e) => Err(e),
        };
        let left = counter.get(&mut self.store).i64().unwrap_or(0);
        let instructions = (limit as i64 - left.max(0)) as u64;
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
        // The rest of the arg buffer is not needed after the message.
        env.arg = Vec::new();
        let trapped = matches!(outcome, Outcome::Trapped(_));
        match keep {
            Keep::IfSucceeded if !trapped => {
                let env = self.store.data_mut();
                env.stable.commit();
                let pages = env.heap.commit();
                self.clear_saved(pages);
            }
            Keep::Open if !trapped => self.open = Some(before),
            _ => self.roll_back(engine, linker, before),
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
        Some(trap) => format!("canister trapped: {trap}"),
        None => format!("canister trapped: {e}"),
    }
}
