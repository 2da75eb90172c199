//! The vault's state and every transition, as plain Rust over stable `Memory`: no ic-cdk
//! calls, caller and time passed in, so all of it is tested natively on `VectorMemory`.

pub mod chunks;
pub mod stored;
pub mod types;
