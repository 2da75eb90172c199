//! A canister's settings (`update_settings`, `canister_status`), as the IC interface defines
//! them in 2026, checked as the IC checks them, and who may read a canister's status.
//!
//! The replica keeps them in its own record ([`Settings`], in the checkpoint), not in the
//! management canister types' crate's: a checkpoint must read back whatever that crate becomes.

use candid::{CandidType, Deserialize, Nat, Principal};
use ic_management_canister_types::{
    CanisterSettings, DefiniteCanisterSettings, EnvironmentVariable, LogVisibility,
    SnapshotVisibility, StatusVisibility,
};

use crate::CallError;

/// The IC's default freezing threshold: 30 days.
pub const DEFAULT_FREEZING_THRESHOLD: u64 = 30 * 24 * 3600;
/// The IC's default reserved cycles limit: 5 T.
pub const DEFAULT_RESERVED_CYCLES_LIMIT: u128 = 5_000_000_000_000;
/// The IC's default log memory limit: 4 KiB.
pub const DEFAULT_LOG_MEMORY_LIMIT: u64 = 4096;
/// Most environment variables a canister may have, and the longest name and value (bytes).
pub const MAX_ENVIRONMENT_VARIABLES: usize = 20;
pub const MAX_ENVIRONMENT_VARIABLE_BYTES: usize = 128;
/// Most principals an `allowed_viewers` list may hold.
pub const MAX_ALLOWED_VIEWERS: usize = 10;

/// Who may see something: the IC's `log_visibility`, `snapshot_visibility` and
/// `status_visibility` share this shape.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub enum Visibility {
    #[default]
    Controllers,
    Public,
    AllowedViewers(Vec<Principal>),
}

/// A canister's settings other than its controllers (kept apart, as the replica always did).
/// In the checkpoint: a field added later must be an `Option`, so that checkpoints written
/// before it still read.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub compute_allocation: u64,
    pub memory_allocation: u64,
    /// Seconds of idle burn the canister must keep: below that it is frozen.
    pub freezing_threshold: u64,
    pub reserved_cycles_limit: u128,
    pub minimum_incoming_canister_call_cycles: u128,
    pub log_visibility: Visibility,
    pub log_memory_limit: u64,
    pub snapshot_visibility: Visibility,
    pub status_visibility: Visibility,
    /// 0: no limit of the canister's own (the replica's applies).
    pub wasm_memory_limit: u64,
    pub wasm_memory_threshold: u64,
    pub environment_variables: Vec<(String, String)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            compute_allocation: 0,
            memory_allocation: 0,
            freezing_threshold: DEFAULT_FREEZING_THRESHOLD,
            reserved_cycles_limit: DEFAULT_RESERVED_CYCLES_LIMIT,
            minimum_incoming_canister_call_cycles: 0,
            log_visibility: Visibility::Controllers,
            log_memory_limit: DEFAULT_LOG_MEMORY_LIMIT,
            snapshot_visibility: Visibility::Controllers,
            status_visibility: Visibility::Controllers,
            wasm_memory_limit: 3 << 30,
            wasm_memory_threshold: 0,
            environment_variables: Vec::new(),
        }
    }
}

fn bounded(name: &str, value: &Nat, max: u128) -> Result<u128, CallError> {
    u128::try_from(value.0.clone())
        .ok()
        .filter(|v| *v <= max)
        .ok_or_else(|| CallError::InvalidArgument(format!("{name} must be at most {max}")))
}

fn viewers(name: &str, list: &[Principal]) -> Result<(), CallError> {
    if list.len() > MAX_ALLOWED_VIEWERS {
        return Err(CallError::InvalidArgument(format!(
            "{name}: at most {MAX_ALLOWED_VIEWERS} allowed viewers"
        )));
    }
    Ok(())
}

macro_rules! visibility_from {
    ($name:literal, $v:expr, $t:ident) => {
        match $v {
            $t::Controllers => Visibility::Controllers,
            $t::Public => Visibility::Public,
            $t::AllowedViewers(list) => {
                viewers($name, list)?;
                Visibility::AllowedViewers(list.clone())
            }
        }
    };
}

macro_rules! visibility_to {
    ($v:expr, $t:ident) => {
        match $v {
            Visibility::Controllers => $t::Controllers,
            Visibility::Public => $t::Public,
            Visibility::AllowedViewers(list) => $t::AllowedViewers(list.clone()),
        }
    };
}

impl Settings {
    /// These settings with `changes` applied (controllers aside), or why the IC would refuse
    /// them; nothing changes on a refusal.
    pub fn with(&self, changes: &CanisterSettings) -> Result<Settings, CallError> {
        let mut s = self.clone();
        if let Some(v) = &changes.compute_allocation {
            s.compute_allocation = bounded("compute_allocation", v, 100)? as u64;
        }
        if let Some(v) = &changes.memory_allocation {
            s.memory_allocation = bounded("memory_allocation", v, 1 << 48)? as u64;
        }
        if let Some(v) = &changes.freezing_threshold {
            s.freezing_threshold = bounded("freezing_threshold", v, u64::MAX.into())? as u64;
        }
        if let Some(v) = &changes.reserved_cycles_limit {
            s.reserved_cycles_limit = bounded("reserved_cycles_limit", v, u128::MAX)?;
        }
        if let Some(v) = &changes.minimum_incoming_canister_call_cycles {
            s.minimum_incoming_canister_call_cycles =
                bounded("minimum_incoming_canister_call_cycles", v, u128::MAX)?;
        }
        if let Some(v) = &changes.log_visibility {
            s.log_visibility = visibility_from!("log_visibility", v, LogVisibility);
        }
        if let Some(v) = &changes.log_memory_limit {
            s.log_memory_limit = bounded("log_memory_limit", v, 2 << 20)? as u64;
        }
        if let Some(v) = &changes.snapshot_visibility {
            s.snapshot_visibility = visibility_from!("snapshot_visibility", v, SnapshotVisibility);
        }
        if let Some(v) = &changes.status_visibility {
            s.status_visibility = visibility_from!("status_visibility", v, StatusVisibility);
        }
        if let Some(v) = &changes.wasm_memory_limit {
            s.wasm_memory_limit = bounded("wasm_memory_limit", v, 1 << 48)? as u64;
        }
        if let Some(v) = &changes.wasm_memory_threshold {
            s.wasm_memory_threshold = bounded("wasm_memory_threshold", v, 1 << 48)? as u64;
        }
        if let Some(vars) = &changes.environment_variables {
            if vars.len() > MAX_ENVIRONMENT_VARIABLES {
                return Err(CallError::InvalidArgument(format!(
                    "at most {MAX_ENVIRONMENT_VARIABLES} environment variables"
                )));
            }
            let mut names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            if names.len() != vars.len() {
                return Err(CallError::InvalidArgument(
                    "environment variable names must be distinct".into(),
                ));
            }
            if vars.iter().any(|v| {
                v.name.len() > MAX_ENVIRONMENT_VARIABLE_BYTES
                    || v.value.len() > MAX_ENVIRONMENT_VARIABLE_BYTES
            }) {
                return Err(CallError::InvalidArgument(format!(
                    "an environment variable's name and value are at most \
                     {MAX_ENVIRONMENT_VARIABLE_BYTES} bytes"
                )));
            }
            s.environment_variables = vars
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect();
        }
        Ok(s)
    }

    /// The settings as `canister_status` reports them.
    pub fn definite(&self, controllers: &[Principal]) -> DefiniteCanisterSettings {
        DefiniteCanisterSettings {
            controllers: controllers.to_vec(),
            compute_allocation: self.compute_allocation.into(),
            memory_allocation: self.memory_allocation.into(),
            freezing_threshold: self.freezing_threshold.into(),
            reserved_cycles_limit: self.reserved_cycles_limit.into(),
            minimum_incoming_canister_call_cycles: self
                .minimum_incoming_canister_call_cycles
                .into(),
            log_visibility: visibility_to!(&self.log_visibility, LogVisibility),
            log_memory_limit: self.log_memory_limit.into(),
            snapshot_visibility: visibility_to!(&self.snapshot_visibility, SnapshotVisibility),
            status_visibility: visibility_to!(&self.status_visibility, StatusVisibility),
            wasm_memory_limit: self.wasm_memory_limit.into(),
            wasm_memory_threshold: self.wasm_memory_threshold.into(),
            environment_variables: self
                .environment_variables
                .iter()
                .map(|(name, value)| EnvironmentVariable {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
        }
    }

    /// Whether `who` may read the canister's status (controllers always may).
    pub fn status_readable_by(&self, who: &Principal) -> bool {
        match &self.status_visibility {
            Visibility::Controllers => false,
            Visibility::Public => true,
            Visibility::AllowedViewers(list) => list.contains(who),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_change_as_asked_and_refuse_what_the_ic_refuses() {
        let s = Settings::default();
        let changed = s
            .with(&CanisterSettings {
                freezing_threshold: Some(Nat::from(86_400u64)),
                status_visibility: Some(StatusVisibility::Public),
                environment_variables: Some(vec![EnvironmentVariable {
                    name: "A".into(),
                    value: "1".into(),
                }]),
                ..Default::default()
            })
            .expect("valid");
        assert_eq!(changed.freezing_threshold, 86_400);
        assert_eq!(changed.status_visibility, Visibility::Public);
        assert_eq!(changed.compute_allocation, 0, "untouched");
        assert!(changed.status_readable_by(&Principal::anonymous()));
        assert!(!s.status_readable_by(&Principal::anonymous()));
        for bad in [
            CanisterSettings {
                compute_allocation: Some(Nat::from(101u8)),
                ..Default::default()
            },
            CanisterSettings {
                environment_variables: Some(vec![
                    EnvironmentVariable {
                        name: "A".into(),
                        value: "1".into(),
                    };
                    2
                ]),
                ..Default::default()
            },
            CanisterSettings {
                status_visibility: Some(StatusVisibility::AllowedViewers(vec![
                    Principal::anonymous(
                    );
                    11
                ])),
                ..Default::default()
            },
        ] {
            assert!(
                matches!(s.with(&bad), Err(CallError::InvalidArgument(_))),
                "{bad:?}"
            );
        }
        let definite = changed.definite(&[Principal::anonymous()]);
        assert_eq!(definite.freezing_threshold, Nat::from(86_400u64));
        assert_eq!(definite.environment_variables.len(), 1);
    }
}
