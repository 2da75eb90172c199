//! The share inbox: after a grant, the sharer's client tells the grantee's vault
//! (`notify_shared`) which vault shares with its owner, so that "Shared with me" fills itself
//! without anyone copying a canister id. A notice is a hint only: the owner's client reads
//! what the named vault shares (certified), and shows a notice only if it shares something.
//!
//! Anyone but the anonymous principal may send a notice, so the inbox is bounded three ways:
//! [`MAX_NOTICES_PER_SENDER`] waiting per sender, [`MAX_NOTICES_PER_HOUR`] new ones an hour
//! from everyone together (what strangers can make the vault pay for), and [`MAX_NOTICES`] in
//! all, past which a new notice replaces the oldest. `inspect_message` refuses, unpaid, what
//! the first two would refuse. The owner's own calls are never limited by them.
//!
//! One map (memory INBOX), keys of 61 bytes:
//!
//! ```text
//! 0x00 || 0…                            -> hour << 32 | notices taken in that hour
//! 0x01 || vault slot || sender slot     -> noted_at      a notice
//! 0x02 || sender slot || vault slot     -> noted_at      the same notice, by sender
//! 0x03 || vault slot || 0…              -> since         a vault the owner follows
//! 0x04 || vault slot || 0…              -> at            a vault whose notices the owner
//!                                                        dismissed: they are ignored
//! ```

use super::super::types::{AnswerShareArgs, FollowedVault, Inbox, ShareNotice};
use super::super::{
    MAX_DISMISSED, MAX_FOLLOWED, MAX_NOTICES, MAX_NOTICES_PER_HOUR, MAX_NOTICES_PER_SENDER,
};
use super::*;

/// Bytes of an inbox key.
pub(crate) const INBOX_KEY: usize = 1 + 2 * PRINCIPAL;

const RATE: u8 = 0;
const NOTICE: u8 = 1;
const BY_SENDER: u8 = 2;
const FOLLOWED: u8 = 3;
const DISMISSED: u8 = 4;

/// Why the owner's own notice is refused.
pub(crate) const OWN_NOTICE: &str =
    "this is your own vault: a notice is for the vault of the person you shared with";

const HOUR_NS: u64 = 3_600 * 1_000_000_000;

type InboxKey = Key<INBOX_KEY>;

/// `pieces` one after the other, then `fill` to the key's length.
fn padded(pieces: &[&[u8]], fill: u8) -> InboxKey {
    let mut out = [fill; INBOX_KEY];
    let mut at = 0;
    for piece in pieces {
        out[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
    }
    Key(out)
}

fn inbox_key(kind: u8, a: &Principal, b: Option<&Principal>) -> InboxKey {
    match b {
        Some(b) => padded(&[&[kind], &principal_slot(a), &principal_slot(b)], 0),
        None => padded(&[&[kind], &principal_slot(a)], 0),
    }
}

fn rate_key() -> InboxKey {
    padded(&[&[RATE]], 0)
}

/// Every key of `kind` starting with `a`'s slot (or every key of `kind`).
fn inbox_range(kind: u8, a: Option<&Principal>) -> std::ops::RangeInclusive<InboxKey> {
    let slot = a.map(principal_slot);
    let prefix: &[u8] = slot.as_ref().map_or(&[], |s| s.as_slice());
    padded(&[&[kind], prefix], 0)..=padded(&[&[kind], prefix], 0xff)
}

fn split(k: &InboxKey) -> (Principal, Principal) {
    (
        slot_principal(&k.0[1..1 + PRINCIPAL]),
        slot_principal(&k.0[1 + PRINCIPAL..]),
    )
}

/// Whether `id` may name another vault: a canister id (an opaque id, whose last byte is 0x01
/// by the IC interface specification), not `this` one.
fn is_other_canister(id: &Principal, this: &Principal) -> bool {
    id != this && id.as_slice().last() == Some(&1)
}

impl<M: Memory> State<M> {
    /// Notes that `vault` shares something with this vault's owner, as `caller` says
    /// (`this`: this canister). Within the sender's and the hour's bounds, checked first (as
    /// `inspect_message` checks them), nothing changes if the owner follows `vault`, dismissed
    /// its notices, or `caller` noted it already.
    pub fn notify_shared(
        &mut self,
        caller: &Principal,
        now: u64,
        this: &Principal,
        vault: Principal,
    ) -> VaultResult<()> {
        if *caller == Principal::anonymous() {
            return Err(VaultError::NotAuthorized);
        }
        if self.is_owner(caller) {
            return Err(VaultError::invalid("caller", OWN_NOTICE));
        }
        if !is_other_canister(&vault, this) {
            return Err(VaultError::invalid(
                "vault",
                "must be the id of the vault that shares (a canister id, not this vault's)",
            ));
        }
        self.may_take_notice(caller, now)?;
        if self.inbox.contains_key(&inbox_key(FOLLOWED, &vault, None))
            || self.inbox.contains_key(&inbox_key(DISMISSED, &vault, None))
            || self
                .inbox
                .contains_key(&inbox_key(NOTICE, &vault, Some(caller)))
        {
            return Ok(());
        }
        if self.inbox.range(inbox_range(NOTICE, None)).count() >= MAX_NOTICES {
            let oldest = self
                .inbox
                .range(inbox_range(NOTICE, None))
                .min_by_key(|entry| entry.value())
                .map(|entry| split(entry.key()))
                .expect("the inbox is full");
            self.drop_notice(&oldest.0, &oldest.1);
        }
        self.inbox
            .insert(inbox_key(NOTICE, &vault, Some(caller)), now);
        self.inbox
            .insert(inbox_key(BY_SENDER, caller, Some(&vault)), now);
        let (hour, taken) = self.notice_rate(now);
        self.inbox
            .insert(rate_key(), (hour << 32) | u64::from(taken + 1));
        Ok(())
    }

    /// Whether a new notice from `sender` would be taken now (also `inspect_message`'s test):
    /// the sender has room, and the hour's notices are not all taken.
    pub(crate) fn may_take_notice(&self, sender: &Principal, now: u64) -> VaultResult<()> {
        if self
            .inbox
            .keys_range(inbox_range(BY_SENDER, Some(sender)))
            .count()
            >= MAX_NOTICES_PER_SENDER
        {
            return Err(VaultError::conflict(format!(
                "this vault holds {MAX_NOTICES_PER_SENDER} notices from you already: \
                 its owner sees them when they next look at what is shared with them"
            )));
        }
        if self.notice_rate(now).1 >= MAX_NOTICES_PER_HOUR {
            return Err(VaultError::RateLimited {
                retry_after_ns: HOUR_NS - now % HOUR_NS,
            });
        }
        Ok(())
    }

    /// The hour `now` is in, and the notices taken in it.
    fn notice_rate(&self, now: u64) -> (u64, u32) {
        let hour = now / HOUR_NS;
        match self.inbox.get(&rate_key()) {
            Some(packed) if packed >> 32 == hour => (hour, packed as u32),
            _ => (hour, 0),
        }
    }

    fn drop_notice(&mut self, vault: &Principal, sender: &Principal) {
        self.inbox.remove(&inbox_key(NOTICE, vault, Some(sender)));
        self.inbox
            .remove(&inbox_key(BY_SENDER, sender, Some(vault)));
    }

    /// The notices waiting, newest first, and the vaults followed (owner).
    pub fn inbox(&self, caller: &Principal) -> VaultResult<Inbox> {
        self.require_owner(caller)?;
        let mut notices: Vec<ShareNotice> = self
            .inbox
            .range(inbox_range(NOTICE, None))
            .map(|entry| {
                let (vault, sender) = split(entry.key());
                ShareNotice {
                    vault,
                    sender,
                    noted_at: entry.value(),
                }
            })
            .collect();
        notices.sort_by_key(|n| std::cmp::Reverse(n.noted_at));
        let followed = self
            .inbox
            .range(inbox_range(FOLLOWED, None))
            .map(|entry| FollowedVault {
                vault: split(entry.key()).0,
                since: entry.value(),
            })
            .collect();
        Ok(Inbox { notices, followed })
    }

    /// Answers the notices about a vault (owner): follow it, or drop its notices and stop
    /// following it. Following needs no notice (a vault id the owner was sent).
    pub fn answer_share(
        &mut self,
        caller: &Principal,
        now: u64,
        this: &Principal,
        args: AnswerShareArgs,
    ) -> VaultResult<()> {
        self.require_owner(caller)?;
        let followed = inbox_key(FOLLOWED, &args.vault, None);
        if args.follow && !self.inbox.contains_key(&followed) {
            if !is_other_canister(&args.vault, this) {
                return Err(VaultError::invalid(
                    "vault",
                    "must be the id of another vault (a canister id, not yours)",
                ));
            }
            if self.inbox.range(inbox_range(FOLLOWED, None)).count() >= MAX_FOLLOWED {
                return Err(VaultError::conflict(format!(
                    "you follow {MAX_FOLLOWED} vaults: stop following one first"
                )));
            }
        }
        let senders: Vec<Principal> = self
            .inbox
            .keys_range(inbox_range(NOTICE, Some(&args.vault)))
            .map(|k| split(&k).1)
            .collect();
        for sender in &senders {
            self.drop_notice(&args.vault, sender);
        }
        let dismissed = inbox_key(DISMISSED, &args.vault, None);
        if args.follow {
            self.inbox.remove(&dismissed);
            if !self.inbox.contains_key(&followed) {
                self.inbox.insert(followed, now);
            }
        } else {
            self.inbox.remove(&followed);
            if !self.inbox.contains_key(&dismissed)
                && self.inbox.range(inbox_range(DISMISSED, None)).count() >= MAX_DISMISSED
            {
                let oldest = self
                    .inbox
                    .range(inbox_range(DISMISSED, None))
                    .min_by_key(|entry| entry.value())
                    .map(|entry| *entry.key())
                    .expect("the dismissals are full");
                self.inbox.remove(&oldest);
            }
            self.inbox.insert(dismissed, now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
