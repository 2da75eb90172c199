//! ICP → cycles through the cycles minting canister, as icp-cli and dfx do it: ICP to the
//! CMC's account for the vault (memo `TPUP`) on the ICP ledger, then `notify_top_up` with that
//! block, asked again while the CMC answers `Processing` (or fails for a moment), for a minute.
//!
//! A top-up is written down ([`Item::IcpTopUp`]) before it is paid, with the ledger's
//! `created_at_time`, and with the block once paid: an attempt stopped anywhere (a lost
//! answer, Ctrl-C, a CMC still processing) is finished by the next one, which sends the same
//! transfer again (the ledger answers `TxDuplicate` with the first block) or notifies the block
//! it has: nothing is paid twice, and the CMC converts a block once. Locally the ICP ledger
//! mints what the identity lacks first.

use std::time::Duration;

use candid::{Decode, Encode, Nat, Principal};
use serde_bytes::ByteBuf;
use vault_interface::icp::{
    CMC, E8S_PER_ICP, ICP_FEE_E8S, ICP_LEDGER, IcpXdrConversionRateResponse, MEMO_TOP_UP_CANISTER,
    NotifyError, NotifyTopUpArg, NotifyTopUpResult, TimeStamp, Tokens, TransferArgs, TransferError,
    TransferResult, account_identifier, principal_subaccount,
};

use crate::canister::agent_error;
use crate::cycles::{load_journal, save_journal};
use crate::platform::{Item, Store, sleep};
use crate::sharing::now_ns;
use crate::{Connection, Error};

/// How long the CMC is asked again while it processes a block.
pub const NOTIFY_FOR: Duration = Duration::from_secs(60);
/// Between two askings.
pub const NOTIFY_EVERY: Duration = Duration::from_secs(2);

/// A top-up paid in ICP, written down before it is paid.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IcpTopUp {
    /// Who pays, as text.
    pub principal: String,
    /// The canister topped up, as text.
    pub canister: String,
    /// ICP paid, in e8s (the fee aside).
    pub e8s: u64,
    /// The ledger's deduplication key: nanoseconds since the epoch when first asked.
    pub created_at_time: u64,
    /// The ledger's block, once paid.
    pub block: Option<u64>,
}

/// ICP as the user writes them (`0.5`, `2`), in e8s: at most 8 decimals.
pub fn parse_icp(text: &str) -> Result<u64, Error> {
    let bad = || {
        Error::Invalid(format!(
            "`{text}` is not an amount of ICP: write it like 0.5 or 2 (at most 8 decimals, at \
             most 1,000,000 ICP)"
        ))
    };
    let text = text
        .trim()
        .trim_end_matches("icp")
        .trim_end_matches("ICP")
        .trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 8 {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<8}").parse().map_err(|_| bad())?
    };
    let e8s = whole
        .checked_mul(E8S_PER_ICP)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    if e8s == 0 || e8s > MAX_TOP_UP_E8S {
        return Err(bad());
    }
    Ok(e8s)
}

/// What this identity holds to pay for its vault: cycles on the cycles ledger, ICP on the ICP
/// ledger, and what an ICP buys now. Each is one node's answer to a query: shown to the user,
/// never acted on (a top-up's own answers, certified, say what it paid and received).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Wallet {
    /// The identity, as text: its account on the cycles ledger.
    pub principal: String,
    /// Its account identifier on the ICP ledger, hex: where an exchange or a wallet sends ICP.
    pub icp_account: String,
    /// Cycles it holds on the cycles ledger (none: the ledger did not answer).
    #[serde(serialize_with = "decimal_opt")]
    pub cycles: Option<u128>,
    /// ICP it holds, in e8s (none: the ledger did not answer).
    pub icp_e8s: Option<u64>,
    /// The cycles one ICP buys now, as the CMC says (none: it did not answer).
    #[serde(serialize_with = "decimal_opt")]
    pub cycles_per_icp: Option<u128>,
    /// Why what is missing is missing.
    pub unknown: Vec<String>,
}

fn decimal_opt<S: serde::Serializer>(n: &Option<u128>, s: S) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => crate::cycles::decimal(n, s),
        None => s.serialize_none(),
    }
}

impl Wallet {
    /// In words, for a person: what it holds, what an ICP buys, where to send more.
    pub fn describe(&self, on_ic: bool) -> String {
        let cycles = match self.cycles {
            Some(c) => format!("{:.3} T cycles", c as f64 / 1e12),
            None => "cycles unknown".into(),
        };
        let icp = match self.icp_e8s {
            Some(e8s) => format!("{} ICP", icp_text(e8s)),
            None => "ICP unknown".into(),
        };
        let rate = match self.cycles_per_icp {
            Some(r) => format!(" (1 ICP buys {:.2} T cycles now)", r as f64 / 1e12),
            None => String::new(),
        };
        let more = if on_ic {
            format!(
                "send cycles to {} or ICP to account {} to top up",
                self.principal, self.icp_account
            )
        } else {
            "on this machine's replica a top-up mints what it lacks".into()
        };
        let unknown = if self.unknown.is_empty() {
            String::new()
        } else {
            format!(" [{}]", self.unknown.join("; "))
        };
        format!("This device holds {cycles} and {icp}{rate}: {more}{unknown}")
    }
}

/// Whether a top-up finished one begun earlier (and paid nothing more) or made a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IcpPaid {
    /// The ICP converted, in e8s.
    pub e8s: u64,
    /// The cycles the vault received.
    #[serde(serialize_with = "crate::cycles::decimal")]
    pub cycles: u128,
    /// Whether this was a top-up begun earlier and stopped (its ICP may already have been
    /// paid), finished instead of the one asked for: nothing more was paid.
    pub earlier: bool,
}

/// The most ICP one top-up pays: more is a typing mistake (there are about 500 million ICP).
pub const MAX_TOP_UP_E8S: u64 = 1_000_000 * E8S_PER_ICP;

/// One top-up at a time in this process (cycles or ICP): two of a kind would share one journal.
pub(crate) static TOPPING_UP: std::sync::LazyLock<futures_util::lock::Mutex<()>> =
    std::sync::LazyLock::new(|| futures_util::lock::Mutex::new(()));

impl Connection {
    /// Whether this identity may pay for its vault: call the ledgers and the cycles minting
    /// canister. A browser's may not: its key is delegated for the vault that serves its page
    /// only.
    pub fn can_pay(&self) -> bool {
        [crate::cycles::CYCLES_LEDGER, ICP_LEDGER, CMC]
            .iter()
            .all(|c| self.identity.reaches(c))
    }

    /// An error unless [`Connection::can_pay`].
    pub fn may_pay(&self) -> Result<(), Error> {
        if self.can_pay() {
            Ok(())
        } else {
            Err(Error::Invalid(
                "this browser's key reaches only your vault, not the ledgers: top up from the \
                 desktop app or with `vault topup`, or send cycles or ICP to the vault with \
                 any wallet"
                    .into(),
            ))
        }
    }

    /// What this identity holds to pay with, read from both ledgers and the CMC at once; a
    /// ledger that does not answer leaves its figure unknown, not the whole wallet.
    pub async fn wallet(&self) -> Wallet {
        let (cycles, icp, rate) = futures_util::future::join3(
            self.cycles_balance(),
            self.icp_balance(),
            self.cycles_per_icp(),
        )
        .await;
        let mut unknown = Vec::new();
        let mut keep = |what: &str, e: Error| unknown.push(format!("{what}: {e}"));
        let cycles = cycles.map_err(|e| keep("the cycles ledger", e)).ok();
        let icp_e8s = icp.map_err(|e| keep("the ICP ledger", e)).ok();
        let cycles_per_icp = rate
            .map_err(|e| keep("the cycles minting canister", e))
            .ok();
        Wallet {
            principal: self.me().to_text(),
            icp_account: hex::encode(account_identifier(&self.me(), None)),
            cycles,
            icp_e8s,
            cycles_per_icp,
            unknown,
        }
    }

    /// This identity's ICP, in e8s.
    pub async fn icp_balance(&self) -> Result<u64, Error> {
        let arg = Encode!(&crate::cycles::account(self.me())).expect("an account encodes");
        let reply = self
            .agent
            .query(&ICP_LEDGER, "icrc1_balance_of")
            .with_arg(arg)
            .call()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        Decode!(&reply, Nat)
            .ok()
            .and_then(|n| u64::try_from(n.0).ok())
            .ok_or_else(|| Error::Agent("the ICP ledger's balance did not decode".into()))
    }

    /// The cycles one ICP buys now, as the CMC says it (one node's word: an estimate; what a
    /// top-up gives is in its certified answer).
    pub async fn cycles_per_icp(&self) -> Result<u128, Error> {
        let reply = self
            .agent
            .query(&CMC, "get_icp_xdr_conversion_rate")
            .with_arg(Encode!().expect("no argument encodes"))
            .call()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        let rate = Decode!(&reply, IcpXdrConversionRateResponse)
            .map_err(|e| Error::Agent(format!("the CMC's rate: {e}")))?;
        Ok(u128::from(rate.data.xdr_permyriad_per_icp) * u128::from(E8S_PER_ICP))
    }

    fn icp_top_up_item(&self) -> Item {
        Item::IcpTopUp {
            network: self.network.name(),
            identity: self.me(),
        }
    }

    /// The ICP top-up under way for this identity on this network, if one is.
    pub fn icp_top_up(&self, store: &dyn Store) -> Result<Option<IcpTopUp>, Error> {
        let top_up: Option<IcpTopUp> =
            load_journal(store, &self.icp_top_up_item(), "no ICP was sent")?;
        Ok(top_up.filter(|t| t.principal == self.me().to_text()))
    }

    /// Tops up canister `id` with `e8s` ICP through the CMC. A top-up begun earlier and
    /// stopped (after paying, or before) is finished instead, paying nothing again, and said
    /// ([`IcpPaid::earlier`]): the user asks again for a new one, knowing the first went
    /// through. One at a time in a process; another process's journal is never overwritten.
    pub async fn top_up_with_icp(
        &self,
        store: &dyn Store,
        id: Principal,
        e8s: u64,
    ) -> Result<IcpPaid, Error> {
        self.may_pay()?;
        if e8s == 0 || e8s > MAX_TOP_UP_E8S {
            return Err(Error::Invalid(format!(
                "{} ICP is not an amount to top up with: at most {} at once",
                icp_text(e8s),
                icp_text(MAX_TOP_UP_E8S)
            )));
        }
        let _one_at_a_time = TOPPING_UP.lock().await;
        let item = self.icp_top_up_item();
        if let Some(earlier) = self.icp_top_up(store)? {
            let e8s = earlier.e8s;
            let cycles = self.finish_icp_top_up(store, &item, earlier).await?;
            return Ok(IcpPaid {
                e8s,
                cycles,
                earlier: true,
            });
        }
        if !self.network.is_ic() {
            let balance = self.icp_balance().await?;
            let needed = e8s.saturating_add(ICP_FEE_E8S);
            if balance < needed {
                self.mint_local_icp(needed - balance).await?;
            }
        }
        let top_up = IcpTopUp {
            principal: self.me().to_text(),
            canister: id.to_text(),
            e8s,
            created_at_time: now_ns(),
            block: None,
        };
        let cycles = self.finish_icp_top_up(store, &item, top_up).await?;
        Ok(IcpPaid {
            e8s,
            cycles,
            earlier: false,
        })
    }

    /// Forgets the journal of `top_up`, unless it now holds another's.
    fn forget_icp_top_up(
        &self,
        store: &dyn Store,
        item: &Item,
        top_up: &IcpTopUp,
    ) -> Result<(), Error> {
        match self.icp_top_up(store) {
            Ok(Some(now)) if now.created_at_time != top_up.created_at_time => Ok(()),
            _ => store.remove(item).map(drop),
        }
    }

    async fn finish_icp_top_up(
        &self,
        store: &dyn Store,
        item: &Item,
        mut top_up: IcpTopUp,
    ) -> Result<u128, Error> {
        let id = Principal::from_text(&top_up.canister).map_err(|e| {
            Error::Invalid(format!(
                "{} names no canister ({e}): delete it",
                store.describe(item)
            ))
        })?;
        let save = |top_up: &IcpTopUp| save_journal(store, item, top_up);
        let block = match top_up.block {
            Some(block) => block,
            None => {
                // Another process's top-up, begun since this one looked: its journal stays.
                if let Some(other) = self.icp_top_up(store)?
                    && other.created_at_time != top_up.created_at_time
                {
                    return Err(Error::Invalid(format!(
                        "another top-up of {} ICP is under way ({}): let it finish, or top up \
                         again to finish it",
                        icp_text(other.e8s),
                        store.describe(item)
                    )));
                }
                save(&top_up)?;
                let block = match self.pay_cmc(id, &top_up, &store.describe(item)).await {
                    Ok(block) => block,
                    Err(e) => {
                        // Refused by the ledger: nothing was paid.
                        if matches!(e, Error::Ledger(_)) {
                            self.forget_icp_top_up(store, item, &top_up)?;
                        }
                        return Err(e);
                    }
                };
                top_up.block = Some(block);
                save(&top_up)?;
                block
            }
        };
        let arg = Encode!(&NotifyTopUpArg {
            block_index: block,
            canister_id: id,
        })
        .expect("notify_top_up's argument encodes");
        let started = now_ns();
        let mut last = String::new();
        while now_ns().saturating_sub(started) < NOTIFY_FOR.as_nanos() as u64 {
            let answer = self
                .agent
                .update(&CMC, "notify_top_up")
                .with_arg(arg.clone())
                .call_and_wait()
                .await;
            match answer.map(|reply| Decode!(&reply, NotifyTopUpResult)) {
                Ok(Ok(Ok(cycles))) => {
                    self.forget_icp_top_up(store, item, &top_up)?;
                    return Ok(u128::try_from(cycles.0).unwrap_or(u128::MAX));
                }
                // Definitive for this block: asking again never succeeds.
                Ok(Ok(Err(
                    e @ (NotifyError::Refunded { .. }
                    | NotifyError::TransactionTooOld(_)
                    | NotifyError::InvalidTransaction(_)),
                ))) => {
                    self.forget_icp_top_up(store, item, &top_up)?;
                    return Err(Error::Ledger(format!(
                        "the cycles minting canister did not convert block {block}: {}",
                        notify_error(&e)
                    )));
                }
                // The CMC still at work, or a moment's failure: asked again.
                Ok(Ok(Err(e))) => last = notify_error(&e),
                Ok(Err(e)) => last = format!("its answer did not decode: {e}"),
                Err(e) => last = agent_error(&self.network.url(), e).to_string(),
            }
            sleep(NOTIFY_EVERY).await;
        }
        Err(Error::Ledger(format!(
            "the cycles minting canister has not converted block {block} yet ({last}): the ICP \
             are paid; run the same top-up again to finish it (nothing is paid twice)"
        )))
    }

    /// Sends the ICP of `top_up` to the CMC's account for `id`: the block (the first one's,
    /// if this transfer was made already).
    async fn pay_cmc(&self, id: Principal, top_up: &IcpTopUp, journal: &str) -> Result<u64, Error> {
        let to = account_identifier(&CMC, Some(&principal_subaccount(&id)));
        let arg = Encode!(&TransferArgs {
            memo: MEMO_TOP_UP_CANISTER,
            amount: Tokens { e8s: top_up.e8s },
            fee: Tokens { e8s: ICP_FEE_E8S },
            from_subaccount: None,
            to: ByteBuf::from(to.to_vec()),
            created_at_time: Some(TimeStamp {
                timestamp_nanos: top_up.created_at_time,
            }),
        })
        .expect("transfer's argument encodes");
        let reply = self
            .agent
            .update(&ICP_LEDGER, "transfer")
            .with_arg(arg)
            .call_and_wait()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        match Decode!(&reply, TransferResult)
            .map_err(|e| Error::Agent(format!("the ICP ledger's answer: {e}")))?
        {
            Ok(block)
            | Err(TransferError::TxDuplicate {
                duplicate_of: block,
            }) => Ok(block),
            Err(TransferError::InsufficientFunds { balance }) => Err(Error::Ledger(format!(
                "{} holds {} ICP, and this top-up needs {} (with the ledger's fee): send ICP to \
                 it (account {})",
                self.me(),
                icp_text(balance.e8s),
                icp_text(top_up.e8s.saturating_add(ICP_FEE_E8S)),
                hex::encode(account_identifier(&self.me(), None)),
            ))),
            Err(TransferError::TxTooOld { .. }) => Err(Error::Agent(format!(
                "this top-up was begun over a day ago (created_at_time {}): look on the ICP \
                 ledger for a transfer from {} to the cycles minting canister; if there is \
                 none, delete {journal} and try again",
                top_up.created_at_time,
                self.me()
            ))),
            Err(e) => Err(Error::Ledger(format!("the ICP ledger refused: {e:?}"))),
        }
    }

    /// Mints `e8s` ICP for this identity: only the local replica's ICP ledger can.
    pub async fn mint_local_icp(&self, e8s: u64) -> Result<(), Error> {
        if self.network.is_ic() {
            return Err(Error::Invalid("ICP cannot be minted on the IC".into()));
        }
        let arg = Encode!(&crate::cycles::MintArgs {
            to: crate::cycles::account(self.me()),
            amount: Nat::from(e8s),
        })
        .expect("mint's argument encodes");
        self.agent
            .update(&ICP_LEDGER, "mint")
            .with_arg(arg)
            .call_and_wait()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        Ok(())
    }
}

/// e8s as ICP, for people.
pub fn icp_text(e8s: u64) -> String {
    let text = format!("{}.{:08}", e8s / E8S_PER_ICP, e8s % E8S_PER_ICP);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn notify_error(e: &NotifyError) -> String {
    match e {
        NotifyError::Refunded {
            reason,
            block_index: Some(b),
        } => format!("refunded at block {b}, less the fee: {reason}"),
        NotifyError::Refunded { reason, .. } => format!("refunded: {reason}"),
        NotifyError::Processing => "still processing".into(),
        NotifyError::TransactionTooOld(b) => format!("block {b} is too old to convert"),
        NotifyError::InvalidTransaction(why) => format!("not a top-up: {why}"),
        NotifyError::Other {
            error_code,
            error_message,
        } => format!("error {error_code}: {error_message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icp_amounts_read_as_people_write_them() {
        assert_eq!(parse_icp("0.5").unwrap(), 50_000_000);
        assert_eq!(parse_icp("2").unwrap(), 200_000_000);
        assert_eq!(parse_icp(" 1.00000001 ICP").unwrap(), 100_000_001);
        assert_eq!(parse_icp(".25").unwrap(), 25_000_000);
        assert_eq!(parse_icp("1000000").unwrap(), MAX_TOP_UP_E8S);
        for bad in [
            "",
            "0",
            "1.000000001",
            "x",
            "1.2.3",
            "-1",
            "99999999999999999",
            // Accepted as e8s before, and overflowing with the fee.
            "184467440737.09551615",
            "1000000.00000001",
        ] {
            assert!(parse_icp(bad).is_err(), "{bad}");
        }
        assert_eq!(icp_text(150_000_000), "1.5");
        assert_eq!(icp_text(200_000_000), "2");
        assert_eq!(icp_text(10_000), "0.0001");
    }
}
