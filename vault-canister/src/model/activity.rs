//! The activity log: an append-only record of every change to data and access, with time and
//! caller. These are the user's sharing records; only the owner reads them.

use candid::{Decode, Encode, Principal};
use ic_stable_structures::Memory;

use super::State;
use super::types::{Activity, ActivityEntry, ActivityPage, VaultResult};

pub use vault_interface::limits::MAX_ACTIVITY_PAGE;

impl<M: Memory> State<M> {
    /// Appends an entry (Candid-encoded, so that new variants never break old entries).
    ///
    /// Never traps: when stable memory is down to the last half of the maintenance headroom
    /// (`model/room.rs`), or the log cannot grow, the entry is not written and
    /// `Config::unrecorded` counts it, so that emptying a full vault's trash always works.
    pub(crate) fn record(&mut self, caller: Principal, now: u64, activity: Activity) {
        let entry = ActivityEntry {
            seq: self.log.len(),
            time: now,
            caller,
            activity,
        };
        let bytes = Encode!(&entry).expect("activity entries always encode");
        // The entry, and its 8-byte index entry.
        let written = self.log_has_room(bytes.len() as u64 + 8) && self.log.append(&bytes).is_ok();
        if !written {
            self.set_config(|c| c.unrecorded = Some(c.unrecorded.unwrap_or(0) + 1));
        }
    }

    /// Activity-log entries not written because stable memory was full.
    pub fn unrecorded_activity(&self) -> u64 {
        self.config.get().unrecorded.unwrap_or(0)
    }

    /// Entries before `before` (all if none), newest first (owner only).
    pub fn activity(
        &self,
        caller: &Principal,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> VaultResult<ActivityPage> {
        self.require_owner(caller)?;
        let end = before.unwrap_or(u64::MAX).min(self.log.len());
        let limit = limit.unwrap_or(100).clamp(1, MAX_ACTIVITY_PAGE) as u64;
        let start = end.saturating_sub(limit);
        let entries = (start..end)
            .rev()
            .map(|i| {
                let bytes = self.log.get(i).expect("indices below len exist");
                Decode!(&bytes, ActivityEntry).expect("the canister wrote these entries")
            })
            .collect();
        Ok(ActivityPage {
            entries,
            next: (start > 0).then_some(start),
        })
    }
}
