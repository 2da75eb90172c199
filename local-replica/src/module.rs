//! Checking a canister module as the IC would, and preparing it to run here.
//!
//! Preparing rewrites the module (its behaviour unchanged) so that the replica can:
//! - **count instructions** as the IC does: every straight-line run of code first subtracts its
//!   length from an instruction counter (a global the replica sets and reads), and every loop
//!   head and function entry checks it, so a canister that loops forever stops at the limit.
//!   The added code is not counted; bulk memory operations are charged per byte.
//! - **roll a message back at the cost of what it touched**: before a store to a 4 KiB heap
//!   page the message has not written yet, the replica saves the page (a byte in a second
//!   memory says "saved"), so a trap restores only those pages and a checkpoint writes only
//!   those pages.
//! - **restore mutable globals** (the stack pointer is one): they are exported.

use std::collections::BTreeMap;
use std::io::Read;

use wasm_encoder::Encode;
use wasm_encoder::reencode::{Error as ReencodeError, Reencode, utils};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function,
    GlobalSection, GlobalType, ImportSection, Instruction, MemArg, MemArgTarget, MemorySection,
    MemoryType, SectionId, TypeSection, ValType,
};
use wasmparser::{Operator, Parser, Payload, Validator, WasmFeatures};

use crate::system_api::PROVIDED_IMPORTS;

/// Largest module accepted, uncompressed (the IC's limit for a canister's code).
pub const MAX_MODULE_BYTES: usize = 100 << 20;

/// Prefix of the exports added for the module's mutable globals.
pub const GLOBAL_EXPORT_PREFIX: &str = "__local_replica_global_";
/// Export name of the instruction counter (i64, counts down; negative means over the limit).
pub const COUNTER_EXPORT: &str = "__local_replica_instructions";
/// Export name of the canister's heap (memory 0), whatever the module calls it.
pub const HEAP_EXPORT: &str = "__local_replica_heap";
/// Export name of the saved-page bitmap: one byte per 4 KiB heap page.
pub const SAVED_EXPORT: &str = "__local_replica_saved";
/// Module name of the replica's own imports, added by the rewrite.
pub const INTERNAL_MODULE: &str = "__local_replica";

/// Most functions a module may have (imported and defined), as on the IC.
pub const MAX_FUNCTIONS: u32 = 50_000;
/// Most globals a module may have.
pub const MAX_GLOBALS: u32 = 1_000;
/// Most exported functions.
pub const MAX_EXPORTED_FUNCTIONS: usize = 1_000;

/// Exports the IC gives meaning to (besides `canister_update`/`canister_query`/
/// `canister_composite_query` followed by a method name).
const SYSTEM_EXPORTS: [&str; 7] = [
    "canister_init",
    "canister_pre_upgrade",
    "canister_post_upgrade",
    "canister_inspect_message",
    "canister_heartbeat",
    "canister_global_timer",
    "canister_on_low_wasm_memory",
];

/// Granularity of heap dirty tracking.
pub const HEAP_PAGE: u64 = 4096;
const HEAP_PAGE_SHIFT: i32 = 12;
/// Pages of a 4 GiB heap: the size of the saved-page bitmap.
const BITMAP_BYTES: u64 = (1 << 32) / HEAP_PAGE;

/// Why a module was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// gzip that does not decompress, or too large.
    #[error("the module could not be read: {0}")]
    Unreadable(String),
    /// Not valid wasm under the features the IC accepts.
    #[error("the module is not valid wasm for the IC: {0}")]
    Invalid(String),
    /// It imports functions this replica does not provide.
    #[error("the module imports what this replica does not provide: {}", .0.join(", "))]
    MissingImports(Vec<String>),
    /// Its `icp:public` / `icp:private` custom sections are not what the IC accepts.
    #[error("invalid custom section: {0}")]
    InvalidMetadata(String),
}

/// Prefix of a custom section any caller may read (`icp:public <name>`).
pub const PUBLIC_METADATA_PREFIX: &str = "icp:public ";
/// Prefix of a custom section only controllers may read (`icp:private <name>`).
pub const PRIVATE_METADATA_PREFIX: &str = "icp:private ";

/// One `icp:public <name>` or `icp:private <name>` custom section of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataSection {
    /// `icp:public` (anyone may read it) or `icp:private` (controllers only).
    pub public: bool,
    /// The section's contents.
    pub content: Vec<u8>,
}

/// What the IC accepts: wasm 2.0 without threads, exceptions, GC, tail calls, multiple
/// memories or the component model.
fn ic_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::SIMD
        | WasmFeatures::FLOATS
}

/// A module checked and rewritten to run here.
pub struct PreparedModule {
    /// The rewritten module.
    pub wasm: Vec<u8>,
    /// SHA-256 of the module as installed (gzip included), as `canister_status` reports it.
    pub hash: [u8; 32],
    /// Names of the added global exports.
    pub mutable_globals: Vec<String>,
    /// Exported method names (`canister_update x`, ...).
    pub exports: Vec<String>,
    /// Whether the module has a heap (memory 0).
    pub has_heap: bool,
    /// The module's `icp:public <name>` / `icp:private <name>` custom sections, by `<name>`
    /// (read from the module as installed, before the rewrite).
    pub metadata: BTreeMap<String, MetadataSection>,
}

/// Decompresses (if gzipped), validates and rewrites `module`.
pub fn prepare(module: &[u8]) -> Result<PreparedModule, ModuleError> {
    let hash = sha256(module);
    let wasm = if module.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(module)
            .take(MAX_MODULE_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| ModuleError::Unreadable(e.to_string()))?;
        out
    } else {
        module.to_vec()
    };
    if wasm.len() > MAX_MODULE_BYTES {
        return Err(ModuleError::Unreadable(format!(
            "larger than {MAX_MODULE_BYTES} bytes"
        )));
    }
    Validator::new_with_features(ic_features())
        .validate_all(&wasm)
        .map_err(|e| ModuleError::Invalid(e.to_string()))?;

    let shape = Shape::read(&wasm)?;
    if !shape.missing_imports.is_empty() {
        return Err(ModuleError::MissingImports(shape.missing_imports));
    }
    shape.check_ic_limits()?;
    let metadata = metadata_sections(&wasm)?;
    let mut rewriter = Rewriter::new(&shape);
    let mut out = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut out, Parser::new(0), &wasm)
        .map_err(|e| ModuleError::Invalid(format!("cannot prepare the module: {e}")))?;
    Ok(PreparedModule {
        wasm: out.finish(),
        hash,
        mutable_globals: shape
            .mutable_globals
            .iter()
            .map(|i| format!("{GLOBAL_EXPORT_PREFIX}{i}"))
            .collect(),
        exports: shape.exports,
        has_heap: shape.has_heap,
        metadata,
    })
}

/// The module's `icp:public <name>` and `icp:private <name>` custom sections, by `<name>`.
/// As on the IC, a name may appear once (not twice, nor as both public and private), and a
/// section named `icp:...` must say which it is.
pub fn metadata_sections(wasm: &[u8]) -> Result<BTreeMap<String, MetadataSection>, ModuleError> {
    let mut sections = BTreeMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| ModuleError::Invalid(e.to_string()))?;
        let Payload::CustomSection(section) = payload else {
            continue;
        };
        let full = section.name();
        let (public, name) = if let Some(name) = full.strip_prefix(PUBLIC_METADATA_PREFIX) {
            (true, name)
        } else if let Some(name) = full.strip_prefix(PRIVATE_METADATA_PREFIX) {
            (false, name)
        } else if full.starts_with("icp:") {
            return Err(ModuleError::InvalidMetadata(format!(
                "`{full}` is neither `{PUBLIC_METADATA_PREFIX}<name>` nor `{PRIVATE_METADATA_PREFIX}<name>`"
            )));
        } else {
            continue;
        };
        let entry = MetadataSection {
            public,
            content: section.data().to_vec(),
        };
        if let Some(earlier) = sections.insert(name.to_string(), entry) {
            let visibility = |public: bool| if public { "public" } else { "private" };
            return Err(ModuleError::InvalidMetadata(if earlier.public == public {
                format!(
                    "the {} metadata `{name}` is declared more than once",
                    visibility(public)
                )
            } else {
                format!("the metadata `{name}` is declared both public and private")
            }));
        }
    }
    Ok(sections)
}

/// What the rewrite needs to know about the module before it starts.
struct Shape {
    missing_imports: Vec<String>,
    /// Parameter and result counts of every function type.
    type_params: Vec<u32>,
    type_results: Vec<u32>,
    types: u32,
    imported_funcs: u32,
    /// Type of each defined function.
    func_types: Vec<u32>,
    globals: u32,
    mutable_globals: Vec<u32>,
    has_heap: bool,
    exports: Vec<String>,
    /// Exported functions, with their type.
    exported_funcs: Vec<(String, u32)>,
}

impl Shape {
    /// What the IC checks of a canister module beyond wasm validity.
    fn check_ic_limits(&self) -> Result<(), ModuleError> {
        let invalid = |why: String| Err(ModuleError::Invalid(why));
        let functions = self.imported_funcs + self.func_types.len() as u32;
        if functions > MAX_FUNCTIONS {
            return invalid(format!(
                "{functions} functions; a canister may have at most {MAX_FUNCTIONS}"
            ));
        }
        if self.globals > MAX_GLOBALS {
            return invalid(format!(
                "{} globals; a canister may have at most {MAX_GLOBALS}",
                self.globals
            ));
        }
        if self.exported_funcs.len() > MAX_EXPORTED_FUNCTIONS {
            return invalid(format!(
                "{} exported functions; a canister may export at most {MAX_EXPORTED_FUNCTIONS}",
                self.exported_funcs.len()
            ));
        }
        let mut methods = std::collections::BTreeSet::new();
        for (name, func) in &self.exported_funcs {
            let method = [
                "canister_update ",
                "canister_query ",
                "canister_composite_query ",
            ]
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix));
            if let Some(method) = method {
                if !methods.insert(method) {
                    return invalid(format!(
                        "method `{method}` is exported more than once (as an update and a query?)"
                    ));
                }
            } else if name.starts_with("canister_") && !SYSTEM_EXPORTS.contains(&name.as_str()) {
                return invalid(format!("`{name}` is not an export the IC knows"));
            } else if !name.starts_with("canister_") {
                continue;
            }
            if self.func_signature(*func) != Some((0, 0)) {
                return invalid(format!(
                    "`{name}` must take no parameters and return nothing"
                ));
            }
        }
        Ok(())
    }

    /// (parameters, results) of function `func`, if it is a defined one.
    fn func_signature(&self, func: u32) -> Option<(u32, u32)> {
        let defined = func.checked_sub(self.imported_funcs)?;
        let ty = *self.func_types.get(defined as usize)?;
        Some((
            self.type_params[ty as usize],
            self.type_results[ty as usize],
        ))
    }

    fn read(wasm: &[u8]) -> Result<Shape, ModuleError> {
        let invalid = |e: wasmparser::BinaryReaderError| ModuleError::Invalid(e.to_string());
        let mut s = Shape {
            missing_imports: Vec::new(),
            type_params: Vec::new(),
            type_results: Vec::new(),
            types: 0,
            imported_funcs: 0,
            func_types: Vec::new(),
            globals: 0,
            mutable_globals: Vec::new(),
            has_heap: false,
            exports: Vec::new(),
            exported_funcs: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.map_err(invalid)? {
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        let ty = ty.map_err(invalid)?;
                        s.type_params.push(ty.params().len() as u32);
                        s.type_results.push(ty.results().len() as u32);
                        s.types += 1;
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(invalid)?;
                        match import.ty {
                            wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) => {
                                s.imported_funcs += 1
                            }
                            wasmparser::TypeRef::Global(g) => {
                                if g.mutable {
                                    s.mutable_globals.push(s.globals);
                                }
                                s.globals += 1;
                            }
                            wasmparser::TypeRef::Memory(_) => s.has_heap = true,
                            _ => {}
                        }
                        let provided =
                            import.module == "ic0" && PROVIDED_IMPORTS.contains(&import.name);
                        if !provided {
                            s.missing_imports
                                .push(format!("{}.{}", import.module, import.name));
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        s.func_types.push(ty.map_err(invalid)?);
                    }
                }
                Payload::MemorySection(reader) => s.has_heap |= reader.count() > 0,
                Payload::GlobalSection(reader) => {
                    for global in reader {
                        if global.map_err(invalid)?.ty.mutable {
                            s.mutable_globals.push(s.globals);
                        }
                        s.globals += 1;
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(invalid)?;
                        s.exports.push(export.name.to_string());
                        if export.kind == wasmparser::ExternalKind::Func {
                            s.exported_funcs
                                .push((export.name.to_string(), export.index));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }
}

/// The replica's own imports, in order; their function types follow the module's types.
const INTERNAL_IMPORTS: [(&str, &[ValType]); 3] = [
    ("out_of_instructions", &[]),
    ("save_page", &[ValType::I32]),
    ("save_range", &[ValType::I32, ValType::I32]),
];
const OUT_OF_INSTRUCTIONS: u32 = 0;
const SAVE_PAGE: u32 = 1;
const SAVE_RANGE: u32 = 2;

/// Scratch locals added to every function.
#[derive(Clone, Copy)]
struct Scratch {
    addr: u32,
    page: u32,
    len: u32,
    src: u32,
    i32: u32,
    i64: u32,
    f32: u32,
    f64: u32,
    v128: u32,
}

const SCRATCH_TYPES: [ValType; 9] = [
    ValType::I32,
    ValType::I32,
    ValType::I32,
    ValType::I32,
    ValType::I32,
    ValType::I64,
    ValType::F32,
    ValType::F64,
    ValType::V128,
];

struct Rewriter<'s> {
    shape: &'s Shape,
    defined_func: u32,
    emitted: [bool; 5],
}

/// Sections the rewrite adds to (or adds, when the module has none), in module order.
const ADDED: [SectionId; 5] = [
    SectionId::Type,
    SectionId::Import,
    SectionId::Memory,
    SectionId::Global,
    SectionId::Export,
];

/// A section's place in a module (its id is not its order).
fn rank(id: SectionId) -> u8 {
    match id {
        SectionId::Custom => 0,
        SectionId::Type => 1,
        SectionId::Import => 2,
        SectionId::Function => 3,
        SectionId::Table => 4,
        SectionId::Memory => 5,
        SectionId::Tag => 6,
        SectionId::Global => 7,
        SectionId::Export => 8,
        SectionId::Start => 9,
        SectionId::Element => 10,
        SectionId::DataCount => 11,
        SectionId::Code => 12,
        SectionId::Data => 13,
    }
}

type R<T> = Result<T, ReencodeError<std::convert::Infallible>>;

impl<'s> Rewriter<'s> {
    fn new(shape: &'s Shape) -> Self {
        Rewriter {
            shape,
            defined_func: 0,
            emitted: [false; 5],
        }
    }

    fn internal(&self, which: u32) -> u32 {
        self.shape.imported_funcs + which
    }

    fn counter(&self) -> u32 {
        self.shape.globals
    }

    fn add_types(&self, section: &mut TypeSection) {
        for (_, params) in INTERNAL_IMPORTS {
            section.ty().function(params.iter().copied(), []);
        }
    }

    fn add_imports(&self, section: &mut ImportSection) {
        for (i, (name, _)) in INTERNAL_IMPORTS.iter().enumerate() {
            section.import(
                INTERNAL_MODULE,
                name,
                EntityType::Function(self.shape.types + i as u32),
            );
        }
    }

    fn add_memories(&self, section: &mut MemorySection) {
        if self.shape.has_heap {
            let pages = BITMAP_BYTES / crate::stable::PAGE_SIZE;
            section.memory(MemoryType {
                minimum: pages,
                maximum: Some(pages),
                memory64: false,
                shared: false,
                page_size_log2: None,
            });
        }
    }

    fn add_globals(&self, section: &mut GlobalSection) {
        section.global(
            GlobalType {
                val_type: ValType::I64,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i64_const(i64::MAX),
        );
    }

    fn add_exports(&self, section: &mut ExportSection) {
        for &g in &self.shape.mutable_globals {
            section.export(&format!("{GLOBAL_EXPORT_PREFIX}{g}"), ExportKind::Global, g);
        }
        section.export(COUNTER_EXPORT, ExportKind::Global, self.counter());
        if self.shape.has_heap {
            section.export(HEAP_EXPORT, ExportKind::Memory, 0);
            section.export(SAVED_EXPORT, ExportKind::Memory, 1);
        }
    }

    fn emit_missing(&mut self, module: &mut wasm_encoder::Module, before: Option<SectionId>) {
        for (i, id) in ADDED.iter().enumerate() {
            if self.emitted[i]
                || before.is_some_and(|b| rank(b) <= rank(*id) || b == SectionId::Custom)
            {
                continue;
            }
            self.emitted[i] = true;
            match id {
                SectionId::Type => {
                    let mut s = TypeSection::new();
                    self.add_types(&mut s);
                    module.section(&s);
                }
                SectionId::Import => {
                    let mut s = ImportSection::new();
                    self.add_imports(&mut s);
                    module.section(&s);
                }
                SectionId::Memory => {
                    // No memory section: no heap, nothing to add.
                }
                SectionId::Global => {
                    let mut s = GlobalSection::new();
                    self.add_globals(&mut s);
                    module.section(&s);
                }
                _ => {
                    let mut s = ExportSection::new();
                    self.add_exports(&mut s);
                    module.section(&s);
                }
            }
        }
    }

    /// Rewrites one function body: metering and page saving.
    fn function(&mut self, body: &wasmparser::FunctionBody<'_>) -> R<Function> {
        let ty = self.shape.func_types[self.defined_func as usize];
        self.defined_func += 1;
        let params = self.shape.type_params[ty as usize];
        let mut locals = Vec::new();
        let mut declared = 0u32;
        for pair in body.get_locals_reader()? {
            let (count, ty) = pair?;
            declared += count;
            locals.push((count, self.val_type(ty)?));
        }
        let first = params + declared;
        for ty in SCRATCH_TYPES {
            locals.push((1, ty));
        }
        let scratch = Scratch {
            addr: first,
            page: first + 1,
            len: first + 2,
            src: first + 3,
            i32: first + 4,
            i64: first + 5,
            f32: first + 6,
            f64: first + 7,
            v128: first + 8,
        };
        let mut out = Vec::new();
        let mut run = Vec::new();
        let mut cost = 0i64;
        let mut check = true; // function entry
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            let boundary = matches!(
                op,
                Operator::Block { .. }
                    | Operator::Loop { .. }
                    | Operator::If { .. }
                    | Operator::Else
                    | Operator::End
                    | Operator::Br { .. }
                    | Operator::BrIf { .. }
                    | Operator::BrTable { .. }
                    | Operator::Return
                    | Operator::Unreachable
            );
            cost += op_cost(&op);
            let is_loop = matches!(op, Operator::Loop { .. });
            self.expand(op, scratch, &mut run)?;
            if boundary {
                self.flush(&mut out, &mut run, cost, check);
                cost = 0;
                check = is_loop;
            }
        }
        self.flush(&mut out, &mut run, cost, check);
        let mut f = Function::new(locals);
        f.raw(out);
        Ok(f)
    }

    /// Emits a run of code preceded by its charge (and, at loop heads and function entry, the
    /// limit check).
    fn flush(&self, out: &mut Vec<u8>, run: &mut Vec<u8>, cost: i64, check: bool) {
        let counter = self.counter();
        if cost > 0 {
            for i in [
                Instruction::GlobalGet(counter),
                Instruction::I64Const(cost),
                Instruction::I64Sub,
                Instruction::GlobalSet(counter),
            ] {
                i.encode(out);
            }
        }
        if check {
            for i in [
                Instruction::GlobalGet(counter),
                Instruction::I64Const(0),
                Instruction::I64LtS,
                Instruction::If(BlockType::Empty),
                Instruction::Call(self.internal(OUT_OF_INSTRUCTIONS)),
                Instruction::End,
            ] {
                i.encode(out);
            }
        }
        out.append(run);
    }

    /// Translates one instruction, adding page saving before stores and bulk operations.
    fn expand(&mut self, op: Operator<'_>, s: Scratch, run: &mut Vec<u8>) -> R<()> {
        let store = match &op {
            Operator::I32Store { memarg }
            | Operator::I32Store8 { memarg }
            | Operator::I32Store16 { memarg } => Some((*memarg, s.i32)),
            Operator::I64Store { memarg }
            | Operator::I64Store8 { memarg }
            | Operator::I64Store16 { memarg }
            | Operator::I64Store32 { memarg } => Some((*memarg, s.i64)),
            Operator::F32Store { memarg } => Some((*memarg, s.f32)),
            Operator::F64Store { memarg } => Some((*memarg, s.f64)),
            Operator::V128Store { memarg }
            | Operator::V128Store8Lane { memarg, .. }
            | Operator::V128Store16Lane { memarg, .. }
            | Operator::V128Store32Lane { memarg, .. }
            | Operator::V128Store64Lane { memarg, .. } => Some((*memarg, s.v128)),
            _ => None,
        };
        let bulk = matches!(
            op,
            Operator::MemoryFill { .. } | Operator::MemoryCopy { .. } | Operator::MemoryInit { .. }
        );
        let mut prefix = Vec::new();
        if let Some((memarg, value)) = store {
            // [addr, value] -> save the page if not saved yet -> [addr, value]
            prefix.extend([Instruction::LocalSet(value), Instruction::LocalTee(s.addr)]);
            if memarg.offset == 0 {
                prefix.extend([Instruction::I32Const(HEAP_PAGE_SHIFT), Instruction::I32ShrU]);
            } else {
                prefix.extend([
                    Instruction::I64ExtendI32U,
                    Instruction::I64Const(memarg.offset as i64),
                    Instruction::I64Add,
                    Instruction::I64Const(HEAP_PAGE_SHIFT as i64),
                    Instruction::I64ShrU,
                    Instruction::I32WrapI64,
                ]);
            }
            prefix.extend([
                Instruction::LocalTee(s.page),
                Instruction::I32Load8U(MemArg {
                    offset: 0,
                    align: 0,
                    target: MemArgTarget::Memory(1),
                    ordering: None,
                }),
                Instruction::I32Eqz,
                Instruction::If(BlockType::Empty),
                Instruction::LocalGet(s.page),
                Instruction::Call(self.internal(SAVE_PAGE)),
                Instruction::End,
                Instruction::LocalGet(s.addr),
                Instruction::LocalGet(value),
            ]);
        } else if bulk {
            // [dst, src|value, len] -> save [dst, dst+len) and charge len -> same stack
            prefix.extend([
                Instruction::LocalSet(s.len),
                Instruction::LocalSet(s.src),
                Instruction::LocalTee(s.addr),
                Instruction::LocalGet(s.len),
                Instruction::Call(self.internal(SAVE_RANGE)),
                Instruction::LocalGet(s.addr),
                Instruction::LocalGet(s.src),
                Instruction::LocalGet(s.len),
            ]);
        }
        for i in &prefix {
            i.encode(run);
        }
        self.instruction(op)?.encode(run);
        Ok(())
    }
}

impl Reencode for Rewriter<'_> {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> R<u32> {
        Ok(if func < self.shape.imported_funcs {
            func
        } else {
            func + INTERNAL_IMPORTS.len() as u32
        })
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> R<()> {
        utils::parse_type_section(self, types, section)?;
        self.add_types(types);
        self.emitted[0] = true;
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> R<()> {
        utils::parse_import_section(self, imports, section)?;
        self.add_imports(imports);
        self.emitted[1] = true;
        Ok(())
    }

    fn parse_memory_section(
        &mut self,
        memories: &mut MemorySection,
        section: wasmparser::MemorySectionReader<'_>,
    ) -> R<()> {
        utils::parse_memory_section(self, memories, section)?;
        self.add_memories(memories);
        self.emitted[2] = true;
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> R<()> {
        utils::parse_global_section(self, globals, section)?;
        self.add_globals(globals);
        self.emitted[3] = true;
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> R<()> {
        utils::parse_export_section(self, exports, section)?;
        self.add_exports(exports);
        self.emitted[4] = true;
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> R<()> {
        let f = self.function(&func)?;
        code.function(&f);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> R<()> {
        self.emit_missing(module, before);
        Ok(())
    }
}

/// Instructions an operator costs: structure is free, everything else costs one.
fn op_cost(op: &Operator<'_>) -> i64 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::End
        | Operator::Else
        | Operator::Unreachable
        | Operator::Return => 0,
        _ => 1,
    }
}

/// SHA-256, for module hashes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
