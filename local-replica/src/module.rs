//! Checking a canister module as the IC would, and preparing it to run here.

use std::io::Read;

use wasm_encoder::{ExportKind, ExportSection, RawSection};
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

use crate::system_api::PROVIDED_IMPORTS;

/// Largest module accepted, uncompressed (the IC's limit for a canister's code).
pub const MAX_MODULE_BYTES: usize = 100 << 20;

/// Prefix of the exports added for the module's mutable globals.
pub const GLOBAL_EXPORT_PREFIX: &str = "__local_replica_global_";

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
    /// The module with its mutable globals exported.
    pub wasm: Vec<u8>,
    /// SHA-256 of the module as installed (gzip included), as `canister_status` reports it.
    pub hash: [u8; 32],
    /// Names of the added global exports.
    pub mutable_globals: Vec<String>,
    /// Exported method names (`canister_update x`, ...).
    pub exports: Vec<String>,
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

    let mut missing = Vec::new();
    let mut mutable = Vec::new();
    let mut imported_globals = 0u32;
    let mut exports = Vec::new();
    let mut out = wasm_encoder::Module::new();
    let mut wrote_exports = false;
    let mut pending_globals: Vec<u32> = Vec::new();
    for payload in Parser::new(0).parse_all(&wasm) {
        let payload = payload.map_err(|e| ModuleError::Invalid(e.to_string()))?;
        match &payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    let import = import.map_err(|e| ModuleError::Invalid(e.to_string()))?;
                    if let wasmparser::TypeRef::Global(_) = import.ty {
                        imported_globals += 1;
                    }
                    let provided =
                        import.module == "ic0" && PROVIDED_IMPORTS.contains(&import.name);
                    if !provided {
                        missing.push(format!("{}.{}", import.module, import.name));
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for (i, global) in reader.clone().into_iter().enumerate() {
                    let global = global.map_err(|e| ModuleError::Invalid(e.to_string()))?;
                    if global.ty.mutable {
                        pending_globals.push(imported_globals + i as u32);
                    }
                }
            }
            Payload::ExportSection(reader) => {
                let mut section = ExportSection::new();
                for export in reader.clone() {
                    let export = export.map_err(|e| ModuleError::Invalid(e.to_string()))?;
                    exports.push(export.name.to_string());
                    section.export(export.name, export_kind(export.kind), export.index);
                }
                add_global_exports(&mut section, &pending_globals, &mut mutable);
                out.section(&section);
                wrote_exports = true;
                continue;
            }
            // Code, data and the rest: an export section must come before code, so add one
            // there if the module had none.
            Payload::CodeSectionStart { .. }
            | Payload::DataSection(_)
            | Payload::DataCountSection { .. }
                if !wrote_exports =>
            {
                let mut section = ExportSection::new();
                add_global_exports(&mut section, &pending_globals, &mut mutable);
                out.section(&section);
                wrote_exports = true;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            out.section(&RawSection {
                id,
                data: &wasm[range.start as usize..range.end as usize],
            });
        }
    }
    if !missing.is_empty() {
        return Err(ModuleError::MissingImports(missing));
    }
    Ok(PreparedModule {
        wasm: out.finish(),
        hash,
        mutable_globals: mutable,
        exports,
    })
}

fn add_global_exports(section: &mut ExportSection, globals: &[u32], names: &mut Vec<String>) {
    for &index in globals {
        let name = format!("{GLOBAL_EXPORT_PREFIX}{index}");
        section.export(&name, ExportKind::Global, index);
        names.push(name);
    }
}

fn export_kind(kind: wasmparser::ExternalKind) -> ExportKind {
    match kind {
        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => ExportKind::Func,
        wasmparser::ExternalKind::Table => ExportKind::Table,
        wasmparser::ExternalKind::Memory => ExportKind::Memory,
        wasmparser::ExternalKind::Global => ExportKind::Global,
        wasmparser::ExternalKind::Tag => ExportKind::Tag,
    }
}

/// SHA-256, for module hashes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
