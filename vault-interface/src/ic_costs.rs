//! What the IC charges a canister, in cycles, on a 13-node application subnet (a vault's), and
//! what the cycles ledger charges: the one table the local replica charges by and the clients
//! estimate with.
//!
//! Source: the IC's published cycle costs (dfinity/developer-docs
//! `docs/reference/cycles-costs.md`, March 2026, from the portal's "Cycles cost formulas"):
//! 1 T cycles = 1 XDR.
//!
//! | what                                  | cycles          |
//! |---------------------------------------|-----------------|
//! | creating a canister                   | 500_000_000_000 |
//! | an update message executed            | 5_000_000       |
//! | an instruction executed               | 1               |
//! | an ingress message received           | 1_200_000       |
//! | an ingress byte received              | 2_000           |
//! | a GiB held for a second               | 127_000         |
//! | 1 % of compute allocation, a second   | 10_000_000      |
//! | the cycles ledger's fee (per transfer) | 100_000_000    |
//!
//! Queries are free. Below 750 GiB of subnet usage, nothing is reserved in advance for storage.

/// Creating a canister (paid out of the cycles it is created with).
pub const CREATION_FEE: u128 = 500_000_000_000;
/// Executing an update message (also a timer, an install), before its instructions.
pub const UPDATE_MESSAGE: u128 = 5_000_000;
/// Each instruction executed in an update.
pub const PER_INSTRUCTION: u128 = 1;
/// Receiving an ingress message, before its bytes.
pub const INGRESS_MESSAGE: u128 = 1_200_000;
/// Each byte of an ingress message received (method name and argument).
pub const INGRESS_BYTE: u128 = 2_000;
/// Holding a GiB of memory for a second.
pub const GIB_SECOND: u128 = 127_000;
/// 1 % of compute allocation for a second.
pub const COMPUTE_PERCENT_SECOND: u128 = 10_000_000;
/// The cycles ledger's fee on each transaction.
pub const LEDGER_FEE: u128 = 100_000_000;
/// US dollars a trillion cycles (1 XDR) buys, roughly (May 2025's rate; it moves with the XDR).
pub const USD_PER_T_CYCLES: f64 = 1.35;

const GIB: u128 = 1 << 30;
const NS_PER_SECOND: u128 = 1_000_000_000;

/// An update message of `instructions` instructions.
pub fn execution(instructions: u64) -> u128 {
    UPDATE_MESSAGE + PER_INSTRUCTION * instructions as u128
}

/// Receiving an ingress message of `bytes` bytes (method name and argument).
pub fn ingress(bytes: usize) -> u128 {
    INGRESS_MESSAGE + INGRESS_BYTE * bytes as u128
}

/// Holding `bytes` of memory for `ns` nanoseconds (rounded down).
pub fn storage(bytes: u64, ns: u64) -> u128 {
    (bytes as u128)
        .saturating_mul(GIB_SECOND)
        .saturating_mul(ns as u128)
        / (GIB * NS_PER_SECOND)
}

/// What a canister holding `bytes` with `compute_percent` of compute allocation burns a day
/// doing nothing (`canister_status`'s `idle_cycles_burned_per_day`).
pub fn idle_burn_per_day(bytes: u64, compute_percent: u64) -> u128 {
    storage(bytes, 86_400 * NS_PER_SECOND as u64)
        + COMPUTE_PERCENT_SECOND * compute_percent as u128 * 86_400
}

/// The balance below which a canister is frozen: what it burns idle in its
/// `freezing_threshold` seconds.
pub fn freezing_limit(bytes: u64, compute_percent: u64, freezing_threshold_s: u64) -> u128 {
    idle_burn_per_day(bytes, compute_percent).saturating_mul(freezing_threshold_s as u128) / 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gib_for_a_month_costs_what_the_ic_says() {
        // ~329 B cycles a 30-day month (the published figure).
        let month = storage(1 << 30, 30 * 86_400 * 1_000_000_000);
        assert_eq!(month, 127_000 * 30 * 86_400);
        assert!((328_000_000_000..=330_000_000_000).contains(&month));
        assert_eq!(idle_burn_per_day(1 << 30, 0), 127_000 * 86_400);
        assert_eq!(freezing_limit(1 << 30, 0, 30 * 86_400), month);
        assert_eq!(execution(1_000_000_000), 1_005_000_000);
        assert_eq!(ingress(1 << 20), 1_200_000 + 2_000 * (1 << 20));
    }
}
