//! The `ic0` System API on wasmtime: what canister code can call, when it may call it, and what
//! each call costs in instructions (overheads and per-byte charges as the IC's embedder meters
//! them: 20 instructions a call, 1 a byte moved into the canister or stable memory, 50 a byte of
//! reply, since the reply leaves the sandbox).

use wasmtime::{Caller, Extern, Global, Linker, Memory, Val};

use crate::heap::HeapJournal;
use crate::module::{COUNTER_EXPORT, HEAP_EXPORT, INTERNAL_MODULE, SAVED_EXPORT};
use crate::stable::{PAGE_SIZE, StableMemory};

/// Every `ic0` function this replica provides. A module importing anything else is refused.
pub const PROVIDED_IMPORTS: [&str; 44] = [
    "msg_arg_data_size",
    "msg_arg_data_copy",
    "msg_caller_size",
    "msg_caller_copy",
    "msg_method_name_size",
    "msg_method_name_copy",
    "msg_reply_data_append",
    "msg_reply",
    "msg_reject",
    "accept_message",
    "trap",
    "debug_print",
    "time",
    "canister_self_size",
    "canister_self_copy",
    "canister_version",
    "stable64_size",
    "stable64_grow",
    "stable64_read",
    "stable64_write",
    "performance_counter",
    "is_controller",
    "in_replicated_execution",
    "certified_data_set",
    "data_certificate_present",
    "global_timer_set",
    "stable_size",
    "stable_grow",
    "stable_read",
    "stable_write",
    "canister_cycle_balance",
    "canister_cycle_balance128",
    "msg_cycles_available128",
    "msg_cycles_accept128",
    "cost_call",
    "cost_create_canister",
    "cost_http_request",
    "msg_deadline",
    "msg_reject_code",
    "msg_reject_msg_size",
    "msg_reject_msg_copy",
    "canister_status",
    "data_certificate_size",
    "data_certificate_copy",
];

const OVERHEAD: u64 = 20;
const DEBUG_PRINT_OVERHEAD: u64 = 100;
const BYTE_TRANSMISSION_COST_FACTOR: u64 = 50;
/// Largest reply (the IC's limit for a response).
pub const MAX_REPLY_BYTES: usize = 2 << 20;

/// Which entry point is running: the System API differs by context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Init,
    Update,
    Query,
    Inspect,
    PreUpgrade,
    PostUpgrade,
    Timer,
}

impl Context {
    fn can_reply(self) -> bool {
        matches!(self, Context::Update | Context::Query)
    }
    fn has_caller(self) -> bool {
        !matches!(self, Context::Timer)
    }
    fn has_arg(self) -> bool {
        matches!(
            self,
            Context::Init
                | Context::Update
                | Context::Query
                | Context::Inspect
                | Context::PostUpgrade
        )
    }
}

/// How a message ended, as far as the canister said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Reply(Vec<u8>),
    Reject(String),
}

/// What one message runs with: its inputs, and what the canister does to the world.
pub struct Env {
    pub context: Context,
    pub arg: Vec<u8>,
    pub caller: Vec<u8>,
    pub method: String,
    pub time: u64,
    pub canister_id: Vec<u8>,
    pub controllers: Vec<Vec<u8>>,
    pub canister_version: u64,
    pub stable: StableMemory,
    pub max_stable_pages: u64,
    /// The heap may not grow past this.
    pub max_heap_bytes: u64,
    pub reply_buffer: Vec<u8>,
    pub response: Option<Response>,
    pub accepted: bool,
    pub certified_data: Vec<u8>,
    pub global_timer: u64,
    pub logs: Vec<String>,
    /// Set by `ic0.trap` (or a System API misuse): why the message failed.
    pub trap: Option<String>,
    /// The message's instruction limit, for `performance_counter`.
    pub limit: u64,
    /// The heap's journal (rollback and checkpoints).
    pub heap: HeapJournal,
    /// The instance's counter, heap and saved-page bitmap, once instantiated.
    pub handles: Option<Handles>,
    /// The file in the state directory that holds this instance's heap as of the last
    /// checkpoint (None: not checkpointed yet).
    pub heap_file: Option<String>,
    /// The certificate a query call was given (`ic0.data_certificate_*`). Only a query sees it;
    /// the replica sets it for one query and clears it after.
    pub data_certificate: Option<Vec<u8>>,
    /// The canister's cycle balance as the message starts (`ic0.canister_cycle_balance`).
    pub cycles: u128,
}

/// Handles into the running instance that the System API uses on every call.
#[derive(Clone, Copy)]
pub struct Handles {
    pub counter: Global,
    pub heap: Option<Memory>,
    pub saved: Option<Memory>,
}

impl Env {
    pub fn new(canister_id: Vec<u8>) -> Self {
        Env {
            context: Context::Update,
            arg: Vec::new(),
            caller: Vec::new(),
            method: String::new(),
            time: 0,
            canister_id,
            controllers: Vec::new(),
            canister_version: 0,
            stable: StableMemory::default(),
            max_stable_pages: 500 * (1 << 30) / PAGE_SIZE,
            max_heap_bytes: 3 << 30,
            reply_buffer: Vec::new(),
            response: None,
            accepted: false,
            certified_data: Vec::new(),
            global_timer: 0,
            logs: Vec::new(),
            trap: None,
            limit: 0,
            heap: HeapJournal::default(),
            handles: None,
            heap_file: None,
            data_certificate: None,
            cycles: 0,
        }
    }

    /// The certificate this message may read: only a (non-replicated) query has one.
    pub fn certificate(&self) -> Option<&[u8]> {
        match self.context {
            Context::Query => self.data_certificate.as_deref(),
            _ => None,
        }
    }
}

/// The heap limit, as wasmtime asks it when a memory grows (`memory.grow` then returns -1).
impl wasmtime::ResourceLimiter for Env {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The saved-page bitmap is created at its full size once; only growth is limited.
        Ok(current == 0 || desired as u64 <= self.max_heap_bytes)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

type C<'a> = Caller<'a, Env>;

/// Fails the message with `why` (the host's equivalent of a trap).
fn fail<T>(caller: &mut C, why: impl Into<String>) -> wasmtime::Result<T> {
    let why = why.into();
    caller.data_mut().trap = Some(why.clone());
    Err(wasmtime::Error::msg(why))
}

fn counter(caller: &mut C) -> wasmtime::Result<Global> {
    if let Some(h) = caller.data().handles {
        return Ok(h.counter);
    }
    match caller.get_export(COUNTER_EXPORT) {
        Some(Extern::Global(g)) => Ok(g),
        _ => fail(caller, "the module was not prepared by this replica"),
    }
}

/// Instructions left in the message (negative: over the limit).
pub fn instructions_left(caller: &mut C) -> wasmtime::Result<i64> {
    let g = counter(caller)?;
    Ok(g.get(&mut *caller).i64().unwrap_or(0))
}

/// Charges `n` instructions; running out is the instruction limit.
fn charge(caller: &mut C, n: u64) -> wasmtime::Result<()> {
    let g = counter(caller)?;
    let left = g
        .get(&mut *caller)
        .i64()
        .unwrap_or(0)
        .saturating_sub(n.min(i64::MAX as u64) as i64);
    g.set(&mut *caller, Val::I64(left))?;
    if left < 0 {
        return fail(caller, "instruction limit exceeded");
    }
    Ok(())
}

fn memory(caller: &mut C) -> wasmtime::Result<Memory> {
    if let Some(Handles { heap: Some(m), .. }) = caller.data().handles {
        return Ok(m);
    }
    match caller.get_export(HEAP_EXPORT) {
        Some(Extern::Memory(m)) => Ok(m),
        _ => fail(caller, "the module has no memory"),
    }
}

fn saved_bitmap(caller: &mut C) -> Option<Memory> {
    if let Some(Handles { saved, .. }) = caller.data().handles {
        return saved;
    }
    match caller.get_export(SAVED_EXPORT) {
        Some(Extern::Memory(m)) => Some(m),
        _ => None,
    }
}

/// Writes into the canister's memory at `dst` what `src` picks from the environment, saving
/// the pages it overwrites first.
fn write_heap(
    caller: &mut C,
    dst: u64,
    src: impl Fn(&Env) -> &[u8],
    what: &str,
) -> wasmtime::Result<()> {
    let mem = memory(caller)?;
    let (heap, env) = mem.data_and_store_mut(&mut *caller);
    let len = src(env).len() as u64;
    match heap_range(heap, env, dst, len) {
        Some(target) => {
            target.copy_from_slice(src(env));
            Ok(())
        }
        None => fail(
            caller,
            format!("{what}: destination out of the canister's memory"),
        ),
    }
}

/// `heap[dst..dst + len]`, its pages saved first; None if it is out of the heap.
fn heap_range<'h>(heap: &'h mut [u8], env: &mut Env, dst: u64, len: u64) -> Option<&'h mut [u8]> {
    let end = dst.checked_add(len).filter(|&e| e <= heap.len() as u64)?;
    env.heap.save_range(heap, dst, len);
    Some(&mut heap[dst as usize..end as usize])
}

/// Copies `src[offset..offset + size]` to the canister's memory at `dst`.
fn copy_out(
    caller: &mut C,
    dst: u64,
    offset: u64,
    size: u64,
    src: impl Fn(&Env) -> &[u8],
    what: &str,
) -> wasmtime::Result<()> {
    charge(caller, OVERHEAD + size)?;
    let have = src(caller.data()).len() as u64;
    let Some(end) = offset.checked_add(size).filter(|&e| e <= have) else {
        return fail(
            caller,
            format!("{what}: offset {offset} + size {size} is past its {have} bytes"),
        );
    };
    write_heap(
        caller,
        dst,
        |env| &src(env)[offset as usize..end as usize],
        what,
    )
}

/// Reads `size` bytes of the canister's memory at `src`.
fn read_in(caller: &mut C, src: u64, size: u64, what: &str) -> wasmtime::Result<Vec<u8>> {
    let mem = memory(caller)?;
    let mut buf = vec![0u8; size as usize];
    if mem.read(&*caller, src as usize, &mut buf).is_err() {
        return fail(
            caller,
            format!("{what}: source out of the canister's memory"),
        );
    }
    Ok(buf)
}

/// Pages the 32-bit stable memory interface can address (4 GiB).
const STABLE32_MAX_PAGES: u64 = (1 << 32) / PAGE_SIZE;

fn stable_grow(caller: &mut C, pages: u64, max: u64) -> wasmtime::Result<i64> {
    charge(caller, OVERHEAD)?;
    Ok(caller
        .data_mut()
        .stable
        .grow(pages, max)
        .map_or(-1, |old| old as i64))
}

/// Copies `size` bytes of the heap at `src` into stable memory at `offset`.
fn stable_write(
    caller: &mut C,
    offset: u64,
    src: u64,
    size: u64,
    what: &str,
) -> wasmtime::Result<()> {
    charge(caller, OVERHEAD + size)?;
    if !caller.data().stable.in_bounds(offset, size) {
        return fail(caller, format!("stable memory out of bounds ({what})"));
    }
    let mem = memory(caller)?;
    let (heap, env) = mem.data_and_store_mut(&mut *caller);
    let Some(end) = src.checked_add(size).filter(|&e| e <= heap.len() as u64) else {
        return fail(
            caller,
            format!("{what}: source out of the canister's memory"),
        );
    };
    if let Err(e) = env.stable.write(offset, &heap[src as usize..end as usize]) {
        return fail(caller, storage_error(e));
    }
    Ok(())
}

/// Copies `size` bytes of stable memory at `offset` into the heap at `dst`.
fn stable_read(
    caller: &mut C,
    dst: u64,
    offset: u64,
    size: u64,
    what: &str,
) -> wasmtime::Result<()> {
    charge(caller, OVERHEAD + size)?;
    if !caller.data().stable.in_bounds(offset, size) {
        return fail(caller, format!("stable memory out of bounds ({what})"));
    }
    let mem = memory(caller)?;
    let (heap, env) = mem.data_and_store_mut(&mut *caller);
    let Some(target) = heap_range(heap, env, dst, size) else {
        return fail(
            caller,
            format!("{what}: destination out of the canister's memory"),
        );
    };
    if let Err(e) = env.stable.read(offset, target) {
        return fail(caller, storage_error(e));
    }
    Ok(())
}

/// Writes a 128-bit amount (little-endian) into the heap at `dst`.
fn write_u128(caller: &mut C, dst: i32, amount: u128, what: &str) -> wasmtime::Result<()> {
    let mem = memory(caller)?;
    let (heap, env) = mem.data_and_store_mut(&mut *caller);
    match heap_range(heap, env, dst as u32 as u64, 16) {
        Some(target) => {
            target.copy_from_slice(&amount.to_le_bytes());
            Ok(())
        }
        None => fail(
            caller,
            format!("{what}: destination out of the canister's memory"),
        ),
    }
}

/// A failure of the replica's own storage, reported as the message's failure (nothing the
/// message did is kept).
fn storage_error(e: std::io::Error) -> String {
    format!("the replica could not read or write its state directory: {e}")
}

fn require(caller: &mut C, ok: bool, call: &str) -> wasmtime::Result<()> {
    if ok {
        Ok(())
    } else {
        let context = caller.data().context;
        fail(
            caller,
            format!("ic0.{call} cannot be called in {context:?}"),
        )
    }
}

/// The linker with every provided function.
pub fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<Env>> {
    let mut l = Linker::new(engine);
    l.func_wrap(
        "ic0",
        "msg_arg_data_size",
        |mut c: C| -> wasmtime::Result<i32> {
            let ok = c.data().context.has_arg();
            require(&mut c, ok, "msg_arg_data_size")?;
            Ok(c.data().arg.len() as i32)
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_arg_data_copy",
        |mut c: C, dst: i32, off: i32, size: i32| {
            let ok = c.data().context.has_arg();
            require(&mut c, ok, "msg_arg_data_copy")?;
            copy_out(
                &mut c,
                dst as u32 as u64,
                off as u32 as u64,
                size as u32 as u64,
                |e| &e.arg,
                "msg_arg_data_copy",
            )
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_caller_size",
        |mut c: C| -> wasmtime::Result<i32> {
            let ok = c.data().context.has_caller();
            require(&mut c, ok, "msg_caller_size")?;
            Ok(c.data().caller.len() as i32)
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_caller_copy",
        |mut c: C, dst: i32, off: i32, size: i32| {
            let ok = c.data().context.has_caller();
            require(&mut c, ok, "msg_caller_copy")?;
            copy_out(
                &mut c,
                dst as u32 as u64,
                off as u32 as u64,
                size as u32 as u64,
                |e| &e.caller,
                "msg_caller_copy",
            )
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_method_name_size",
        |mut c: C| -> wasmtime::Result<i32> {
            let ok = c.data().context == Context::Inspect;
            require(&mut c, ok, "msg_method_name_size")?;
            Ok(c.data().method.len() as i32)
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_method_name_copy",
        |mut c: C, dst: i32, off: i32, size: i32| {
            let ok = c.data().context == Context::Inspect;
            require(&mut c, ok, "msg_method_name_copy")?;
            copy_out(
                &mut c,
                dst as u32 as u64,
                off as u32 as u64,
                size as u32 as u64,
                |e| e.method.as_bytes(),
                "msg_method_name_copy",
            )
        },
    )?;
    l.func_wrap("ic0", "accept_message", |mut c: C| {
        let ok = c.data().context == Context::Inspect && !c.data().accepted;
        require(&mut c, ok, "accept_message")?;
        c.data_mut().accepted = true;
        Ok(())
    })?;
    l.func_wrap(
        "ic0",
        "msg_reply_data_append",
        |mut c: C, src: i32, size: i32| {
            let ok = c.data().context.can_reply() && c.data().response.is_none();
            require(&mut c, ok, "msg_reply_data_append")?;
            let size = size as u32 as u64;
            charge(&mut c, OVERHEAD + BYTE_TRANSMISSION_COST_FACTOR * size)?;
            if c.data().reply_buffer.len() as u64 + size > MAX_REPLY_BYTES as u64 {
                return fail(
                    &mut c,
                    format!("the reply is larger than {MAX_REPLY_BYTES} bytes"),
                );
            }
            let bytes = read_in(&mut c, src as u32 as u64, size, "msg_reply_data_append")?;
            c.data_mut().reply_buffer.extend_from_slice(&bytes);
            Ok(())
        },
    )?;
    l.func_wrap("ic0", "msg_reply", |mut c: C| {
        let ok = c.data().context.can_reply() && c.data().response.is_none();
        require(&mut c, ok, "msg_reply (a message replies at most once)")?;
        let reply = std::mem::take(&mut c.data_mut().reply_buffer);
        c.data_mut().response = Some(Response::Reply(reply));
        Ok(())
    })?;
    l.func_wrap("ic0", "msg_reject", |mut c: C, src: i32, size: i32| {
        let ok = c.data().context.can_reply() && c.data().response.is_none();
        require(&mut c, ok, "msg_reject")?;
        charge(
            &mut c,
            OVERHEAD + BYTE_TRANSMISSION_COST_FACTOR * size as u32 as u64,
        )?;
        let bytes = read_in(&mut c, src as u32 as u64, size as u32 as u64, "msg_reject")?;
        c.data_mut().response = Some(Response::Reject(
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
        Ok(())
    })?;
    l.func_wrap(
        "ic0",
        "trap",
        |mut c: C, src: i32, size: i32| -> wasmtime::Result<()> {
            charge(&mut c, OVERHEAD + size as u32 as u64)?;
            let bytes = read_in(
                &mut c,
                src as u32 as u64,
                (size as u32).min(16 << 10) as u64,
                "trap",
            )?;
            fail(
                &mut c,
                format!("canister trapped: {}", String::from_utf8_lossy(&bytes)),
            )
        },
    )?;
    l.func_wrap("ic0", "debug_print", |mut c: C, src: i32, size: i32| {
        charge(&mut c, DEBUG_PRINT_OVERHEAD + size as u32 as u64)?;
        let bytes = read_in(
            &mut c,
            src as u32 as u64,
            (size as u32).min(16 << 10) as u64,
            "debug_print",
        )?;
        c.data_mut()
            .logs
            .push(String::from_utf8_lossy(&bytes).into_owned());
        Ok(())
    })?;
    l.func_wrap("ic0", "time", |c: C| -> i64 { c.data().time as i64 })?;
    l.func_wrap("ic0", "canister_self_size", |c: C| -> i32 {
        c.data().canister_id.len() as i32
    })?;
    l.func_wrap(
        "ic0",
        "canister_self_copy",
        |mut c: C, dst: i32, off: i32, size: i32| {
            copy_out(
                &mut c,
                dst as u32 as u64,
                off as u32 as u64,
                size as u32 as u64,
                |e| &e.canister_id,
                "canister_self_copy",
            )
        },
    )?;
    l.func_wrap("ic0", "canister_version", |c: C| -> i64 {
        c.data().canister_version as i64
    })?;
    l.func_wrap("ic0", "stable64_size", |c: C| -> i64 {
        c.data().stable.size() as i64
    })?;
    l.func_wrap(
        "ic0",
        "stable64_grow",
        |mut c: C, pages: i64| -> wasmtime::Result<i64> {
            let max = c.data().max_stable_pages;
            stable_grow(&mut c, pages as u64, max)
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable64_write",
        |mut c: C, offset: i64, src: i64, size: i64| {
            stable_write(
                &mut c,
                offset as u64,
                src as u64,
                size as u64,
                "stable64_write",
            )
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable64_read",
        |mut c: C, dst: i64, offset: i64, size: i64| {
            stable_read(
                &mut c,
                dst as u64,
                offset as u64,
                size as u64,
                "stable64_read",
            )
        },
    )?;
    // The 32-bit interface sees the first 4 GiB.
    l.func_wrap("ic0", "stable_size", |mut c: C| -> wasmtime::Result<i32> {
        let pages = c.data().stable.size();
        if pages > STABLE32_MAX_PAGES {
            return fail(
                &mut c,
                "stable memory is larger than 4 GiB: use ic0.stable64_size",
            );
        }
        Ok(pages as i32)
    })?;
    l.func_wrap(
        "ic0",
        "stable_grow",
        |mut c: C, pages: i32| -> wasmtime::Result<i32> {
            let max = c.data().max_stable_pages.min(STABLE32_MAX_PAGES);
            stable_grow(&mut c, pages as u32 as u64, max).map(|old| old as i32)
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable_write",
        |mut c: C, offset: i32, src: i32, size: i32| {
            stable_write(
                &mut c,
                offset as u32 as u64,
                src as u32 as u64,
                size as u32 as u64,
                "stable_write",
            )
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable_read",
        |mut c: C, dst: i32, offset: i32, size: i32| {
            stable_read(
                &mut c,
                dst as u32 as u64,
                offset as u32 as u64,
                size as u32 as u64,
                "stable_read",
            )
        },
    )?;
    // Cycles: the balance as the message started (the replica charges around the message);
    // an ingress message carries none.
    l.func_wrap("ic0", "canister_cycle_balance128", |mut c: C, dst: i32| {
        charge(&mut c, OVERHEAD)?;
        let balance = c.data().cycles;
        write_u128(&mut c, dst, balance, "canister_cycle_balance128")
    })?;
    l.func_wrap(
        "ic0",
        "canister_cycle_balance",
        |mut c: C| -> wasmtime::Result<i64> {
            charge(&mut c, OVERHEAD)?;
            Ok(c.data().cycles.min(i64::MAX as u128) as i64)
        },
    )?;
    l.func_wrap("ic0", "msg_cycles_available128", |mut c: C, dst: i32| {
        let ok = matches!(c.data().context, Context::Update);
        require(&mut c, ok, "msg_cycles_available128")?;
        write_u128(&mut c, dst, 0, "msg_cycles_available128")
    })?;
    l.func_wrap(
        "ic0",
        "msg_cycles_accept128",
        |mut c: C, _max_high: i64, _max_low: i64, dst: i32| {
            let ok = matches!(c.data().context, Context::Update);
            require(&mut c, ok, "msg_cycles_accept128")?;
            write_u128(&mut c, dst, 0, "msg_cycles_accept128")
        },
    )?;
    // Fees as the IC documents them for a 13-node application subnet.
    l.func_wrap(
        "ic0",
        "cost_call",
        |mut c: C, method_name_size: i64, payload_size: i64, dst: i32| {
            charge(&mut c, OVERHEAD)?;
            let bytes = method_name_size as u64 as u128 + payload_size as u64 as u128;
            write_u128(&mut c, dst, 260_000 + 1_000 * bytes, "cost_call")
        },
    )?;
    l.func_wrap("ic0", "cost_create_canister", |mut c: C, dst: i32| {
        charge(&mut c, OVERHEAD)?;
        write_u128(&mut c, dst, 500_000_000_000, "cost_create_canister")
    })?;
    l.func_wrap(
        "ic0",
        "cost_http_request",
        |mut c: C, request_size: i64, max_res_bytes: i64, dst: i32| {
            charge(&mut c, OVERHEAD)?;
            let n: u128 = 13;
            let fee = (3_000_000 + 60_000 * n) * n
                + 400 * n * request_size as u64 as u128
                + 800 * n * max_res_bytes as u64 as u128;
            write_u128(&mut c, dst, fee, "cost_http_request")
        },
    )?;
    // No message here has a deadline or a reject to read (there are no calls to other
    // canisters, so no callbacks).
    l.func_wrap("ic0", "msg_deadline", |_c: C| -> i64 { 0 })?;
    l.func_wrap(
        "ic0",
        "msg_reject_code",
        |mut c: C| -> wasmtime::Result<i32> {
            require(&mut c, false, "msg_reject_code")?;
            Ok(0)
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_reject_msg_size",
        |mut c: C| -> wasmtime::Result<i32> {
            require(&mut c, false, "msg_reject_msg_size")?;
            Ok(0)
        },
    )?;
    l.func_wrap(
        "ic0",
        "msg_reject_msg_copy",
        |mut c: C, _dst: i32, _off: i32, _size: i32| require(&mut c, false, "msg_reject_msg_copy"),
    )?;
    l.func_wrap("ic0", "canister_status", |c: C| -> i32 {
        // Running: a stopped canister runs no code here.
        let _ = c;
        1
    })?;
    l.func_wrap(
        "ic0",
        "performance_counter",
        |mut c: C, kind: i32| -> wasmtime::Result<i64> {
            charge(&mut c, 200)?;
            let left = instructions_left(&mut c)?;
            let used = (c.data().limit as i64).saturating_sub(left).max(0);
            Ok(if kind == 0 || kind == 1 { used } else { 0 })
        },
    )?;
    l.func_wrap(
        "ic0",
        "is_controller",
        |mut c: C, src: i32, size: i32| -> wasmtime::Result<i32> {
            charge(&mut c, OVERHEAD + size as u32 as u64)?;
            if size as u32 > 29 {
                return fail(
                    &mut c,
                    "is_controller: not a principal (more than 29 bytes)",
                );
            }
            let p = read_in(
                &mut c,
                src as u32 as u64,
                size as u32 as u64,
                "is_controller",
            )?;
            Ok(c.data().controllers.contains(&p) as i32)
        },
    )?;
    l.func_wrap("ic0", "in_replicated_execution", |c: C| -> i32 {
        matches!(
            c.data().context,
            Context::Update
                | Context::Init
                | Context::PreUpgrade
                | Context::PostUpgrade
                | Context::Timer
        ) as i32
    })?;
    l.func_wrap(
        "ic0",
        "certified_data_set",
        |mut c: C, src: i32, size: i32| {
            let ok = !matches!(c.data().context, Context::Query | Context::Inspect);
            require(&mut c, ok, "certified_data_set")?;
            if size as u32 > 32 {
                return fail(&mut c, "certified_data_set: at most 32 bytes");
            }
            let bytes = read_in(
                &mut c,
                src as u32 as u64,
                size as u32 as u64,
                "certified_data_set",
            )?;
            c.data_mut().certified_data = bytes;
            Ok(())
        },
    )?;
    // A certificate of the canister's certified data comes with a query call made through the
    // HTTP interface (`Replica::query_with_certificate`): only non-replicated queries see one.
    l.func_wrap("ic0", "data_certificate_present", |c: C| -> i32 {
        c.data().certificate().is_some() as i32
    })?;
    l.func_wrap(
        "ic0",
        "data_certificate_size",
        |mut c: C| -> wasmtime::Result<i32> {
            let ok = c.data().context == Context::Query;
            require(&mut c, ok, "data_certificate_size")?;
            match c.data().certificate() {
                Some(certificate) => Ok(certificate.len() as i32),
                None => fail(
                    &mut c,
                    "ic0.data_certificate_size: this query has no certificate",
                ),
            }
        },
    )?;
    l.func_wrap(
        "ic0",
        "data_certificate_copy",
        |mut c: C, dst: i32, off: i32, size: i32| -> wasmtime::Result<()> {
            let ok = c.data().context == Context::Query;
            require(&mut c, ok, "data_certificate_copy")?;
            if c.data().certificate().is_none() {
                return fail(
                    &mut c,
                    "ic0.data_certificate_copy: this query has no certificate",
                );
            }
            copy_out(
                &mut c,
                dst as u32 as u64,
                off as u32 as u64,
                size as u32 as u64,
                |e| e.certificate().unwrap_or_default(),
                "data_certificate_copy",
            )
        },
    )?;
    l.func_wrap(
        "ic0",
        "global_timer_set",
        |mut c: C, when: i64| -> wasmtime::Result<i64> {
            let ok = !matches!(c.data().context, Context::Query | Context::Inspect);
            require(&mut c, ok, "global_timer_set")?;
            Ok(std::mem::replace(&mut c.data_mut().global_timer, when as u64) as i64)
        },
    )?;
    l.func_wrap(
        INTERNAL_MODULE,
        "out_of_instructions",
        |mut c: C| -> wasmtime::Result<()> { fail(&mut c, "instruction limit exceeded") },
    )?;
    l.func_wrap(INTERNAL_MODULE, "save_page", |mut c: C, page: i32| {
        let mem = memory(&mut c)?;
        let (heap, env) = mem.data_and_store_mut(&mut c);
        if env.heap.save_page(heap, page as u32)
            && let Some(saved) = saved_bitmap(&mut c)
        {
            saved.data_mut(&mut c)[page as u32 as usize] = 1;
        }
        Ok(())
    })?;
    l.func_wrap(
        INTERNAL_MODULE,
        "save_range",
        |mut c: C, dst: i32, len: i32| {
            let (dst, len) = (dst as u32 as u64, len as u32 as u64);
            charge(&mut c, len)?;
            let mem = memory(&mut c)?;
            let (heap, env) = mem.data_and_store_mut(&mut c);
            // Out of bounds: the operation itself traps, and changes nothing.
            if dst + len <= heap.len() as u64 {
                env.heap.save_range(heap, dst, len);
            }
            Ok(())
        },
    )?;
    Ok(l)
}
