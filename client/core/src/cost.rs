//! What storing and uploading cost on the IC, at its published cycle rates
//! (`vault_interface::ic_costs`, the one table the local replica also charges by).

use vault_interface::ic_costs;

/// Cycles per GiB stored per second (13-node subnet).
pub const STORAGE_CYCLES_PER_GIB_SECOND: f64 = ic_costs::GIB_SECOND as f64;
/// Cycles per ingress message received.
pub const INGRESS_MESSAGE_CYCLES: f64 = ic_costs::INGRESS_MESSAGE as f64;
/// Cycles per ingress byte received.
pub const INGRESS_BYTE_CYCLES: f64 = ic_costs::INGRESS_BYTE as f64;
/// Cycles per update call executed.
pub const UPDATE_CALL_CYCLES: f64 = ic_costs::UPDATE_MESSAGE as f64;
/// Cycles per instruction executed.
pub const INSTRUCTION_CYCLES: f64 = ic_costs::PER_INSTRUCTION as f64;
/// US dollars per trillion cycles (1 XDR).
pub const USD_PER_T_CYCLES: f64 = ic_costs::USD_PER_T_CYCLES;
/// Instructions a 1 MiB `put_chunk` costs (measured: `cargo bench -p local-replica --bench vault_instructions`).
pub const PUT_CHUNK_INSTRUCTIONS: f64 = 2_462_274.0;

const SECONDS_PER_MONTH: f64 = 30.0 * 24.0 * 3600.0;
const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// Storage and upload costs.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Costs {
    /// USD per month to keep `stored_bytes` (what the vault holds now).
    pub storage_usd_per_month: f64,
    /// USD per month per GiB stored.
    pub usd_per_gib_month: f64,
    /// USD to upload one GiB (ingress + execution, 1 MiB chunks).
    pub upload_usd_per_gib: f64,
}

/// The costs for a vault holding `stored_bytes`.
pub fn costs(stored_bytes: u64) -> Costs {
    let per_gib_month = STORAGE_CYCLES_PER_GIB_SECOND * SECONDS_PER_MONTH / 1e12 * USD_PER_T_CYCLES;
    let chunk_cycles = INGRESS_MESSAGE_CYCLES
        + INGRESS_BYTE_CYCLES * (MIB + 200.0)
        + UPDATE_CALL_CYCLES
        + INSTRUCTION_CYCLES * PUT_CHUNK_INSTRUCTIONS;
    let upload_per_gib = chunk_cycles * (GIB / MIB) / 1e12 * USD_PER_T_CYCLES;
    Costs {
        storage_usd_per_month: per_gib_month * stored_bytes as f64 / GIB,
        usd_per_gib_month: per_gib_month,
        upload_usd_per_gib: upload_per_gib,
    }
}
