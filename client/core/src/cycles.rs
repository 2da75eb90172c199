//! Buying a vault canister with cycles, as icp-cli buys one: the cycles ledger's
//! `create_canister` (`um5iw-rqaaa-aaaaq-qaaba-cai`, the IC's), paid from the identity's own
//! ledger account, with the identity the only controller. The local replica hosts the same
//! ledger at the same id, so a local vault is bought through the same code as one on the IC
//! (locally, cycles come from the ledger's `mint`, which only the local replica has).
//!
//! A purchase is written down ([`Item::Purchase`]) before it is paid: its `created_at_time`
//! makes the ledger answer a second identical request with the canister the first one bought
//! (`Duplicate`), so a client that crashed, or lost the answer, between paying and installing
//! resumes with the same canister and never pays twice (within the ledger's 24-hour window).

use candid::{CandidType, Decode, Deserialize, Encode, Nat, Principal};
use serde_bytes::ByteBuf;

use crate::canister::agent_error;
use crate::network::Connection;
use crate::platform::{Item, Store};
use crate::{Error, sharing::now_ns};

/// The cycles ledger.
pub const CYCLES_LEDGER: Principal = Principal::from_slice(&[0, 0, 0, 0, 2, 16, 0, 2, 1, 1]);
pub use vault_interface::ic_costs::{CREATION_FEE, LEDGER_FEE};
/// The cycles a new vault is bought with: the creation fee, and 1 T cycles to run on.
pub const NEW_VAULT_CYCLES: u128 = CREATION_FEE + 1_000_000_000_000;

/// An ICRC-1 account.
#[derive(CandidType, Deserialize)]
pub(crate) struct Account {
    owner: Principal,
    subaccount: Option<ByteBuf>,
}

/// `owner`'s default ICRC-1 account.
pub(crate) fn account(owner: Principal) -> Account {
    Account {
        owner,
        subaccount: None,
    }
}

#[derive(CandidType, Deserialize)]
struct CreateCanisterArgs {
    from_subaccount: Option<ByteBuf>,
    created_at_time: Option<u64>,
    amount: Nat,
    creation_args: Option<CreationArgs>,
}

#[derive(CandidType, Deserialize)]
struct CreationArgs {
    subnet_selection: Option<SubnetSelection>,
    settings: Option<Settings>,
}

#[derive(CandidType, Deserialize)]
enum SubnetSelection {
    Subnet { subnet: Principal },
}

#[derive(CandidType, Deserialize)]
struct Settings {
    controllers: Option<Vec<Principal>>,
}

#[derive(CandidType, Deserialize, Debug)]
enum CreateCanisterError {
    InsufficientFunds {
        balance: Nat,
    },
    TooOld,
    CreatedInFuture {
        ledger_time: u64,
    },
    TemporarilyUnavailable,
    Duplicate {
        duplicate_of: Nat,
        canister_id: Option<Principal>,
    },
    FailedToCreate {
        fee_block: Option<Nat>,
        refund_block: Option<Nat>,
        error: String,
    },
    GenericError {
        message: String,
        error_code: Nat,
    },
}

#[derive(CandidType, Deserialize, Debug)]
enum CreateCanisterResult {
    Ok {
        block_id: Nat,
        canister_id: Principal,
    },
    Err(CreateCanisterError),
}

/// The local ledgers' `mint`.
#[derive(CandidType, Deserialize)]
pub(crate) struct MintArgs {
    pub(crate) to: Account,
    pub(crate) amount: Nat,
}

/// A purchase written down before it is paid.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Purchase {
    /// Who pays (and controls the canister), as text.
    pub principal: String,
    /// The ledger's deduplication key: nanoseconds since the epoch when first asked.
    pub created_at_time: u64,
    /// Cycles paid for the canister (the ledger's fee aside), as decimal text.
    pub amount: String,
    /// The canister, once the ledger has said which.
    pub canister: Option<String>,
}

fn nat(n: &Nat) -> u128 {
    u128::try_from(n.0.clone()).unwrap_or(u128::MAX)
}

impl Connection {
    /// This identity's cycles on the cycles ledger.
    pub async fn cycles_balance(&self) -> Result<u128, Error> {
        let arg = Encode!(&Account {
            owner: self.me(),
            subaccount: None,
        })
        .expect("an account encodes");
        let reply = self
            .agent
            .query(&CYCLES_LEDGER, "icrc1_balance_of")
            .with_arg(arg)
            .call()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        Decode!(&reply, Nat)
            .map(|n| nat(&n))
            .map_err(|e| Error::Agent(format!("the cycles ledger's balance: {e}")))
    }

    /// Mints `amount` cycles for this identity: only the local replica's ledger can.
    pub async fn mint_local_cycles(&self, amount: u128) -> Result<(), Error> {
        if self.network.is_ic() {
            return Err(Error::Invalid(
                "cycles cannot be minted on the IC: buy them (icp-cli: `icp cycles mint`)".into(),
            ));
        }
        let arg = Encode!(&MintArgs {
            to: Account {
                owner: self.me(),
                subaccount: None,
            },
            amount: Nat::from(amount),
        })
        .expect("mint's argument encodes");
        self.agent
            .update(&CYCLES_LEDGER, "mint")
            .with_arg(arg)
            .call_and_wait()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        Ok(())
    }

    /// The purchase of a vault canister under way for this identity on this network, if one
    /// was paid or about to be and not finished.
    pub fn purchase(&self, store: &dyn Store) -> Result<Option<Purchase>, Error> {
        let purchase: Option<Purchase> =
            load_journal(store, &self.purchase_item(), "no vault was bought")?;
        Ok(purchase.filter(|p| p.principal == self.me().to_text()))
    }

    /// Where this identity's purchase on this network is written.
    fn purchase_item(&self) -> Item {
        Item::Purchase {
            network: self.network.name(),
            identity: self.me(),
        }
    }

    /// Forgets the purchase once its canister is set up.
    pub fn purchase_done(&self, store: &dyn Store) -> Result<(), Error> {
        store.remove(&self.purchase_item())?;
        Ok(())
    }

    /// Buys a canister for a vault on the cycles ledger, this identity its only controller,
    /// or returns the one an earlier, unfinished purchase bought (the ledger answers the same
    /// request with the canister it made: nothing is paid twice). Locally, mints what the
    /// identity lacks first.
    pub async fn buy_canister(&self, store: &dyn Store) -> Result<Principal, Error> {
        self.buy_canister_for(store, NEW_VAULT_CYCLES, !self.network.is_ic())
            .await
    }

    /// [`Connection::buy_canister`] for `amount` cycles (the creation fee included), minting
    /// what the identity lacks first if `mint` (a local replica only).
    pub async fn buy_canister_for(
        &self,
        store: &dyn Store,
        amount: u128,
        mint: bool,
    ) -> Result<Principal, Error> {
        let item = self.purchase_item();
        let mut purchase = match self.purchase(store)? {
            Some(p) => p,
            None => Purchase {
                principal: self.me().to_text(),
                created_at_time: now_ns(),
                amount: amount.to_string(),
                canister: None,
            },
        };
        if let Some(id) = &purchase.canister {
            return Principal::from_text(id)
                .map_err(|e| Error::Invalid(format!("{}: {e}", store.describe(&item))));
        }
        let amount: u128 = purchase.amount.parse().unwrap_or(amount);
        // Written before paying: whatever happens next, the same request is sent again.
        save_journal(store, &item, &purchase)?;
        let needed = amount + LEDGER_FEE;
        if mint {
            let balance = self.cycles_balance().await?;
            if balance < needed {
                self.mint_local_cycles(needed - balance).await?;
            }
        }
        let args = CreateCanisterArgs {
            from_subaccount: None,
            created_at_time: Some(purchase.created_at_time),
            amount: Nat::from(amount),
            creation_args: Some(CreationArgs {
                subnet_selection: None,
                settings: Some(Settings {
                    controllers: Some(vec![self.me()]),
                }),
            }),
        };
        let reply = self
            .agent
            .update(&CYCLES_LEDGER, "create_canister")
            .with_arg(Encode!(&args).expect("create_canister's argument encodes"))
            .call_and_wait()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        let result = Decode!(&reply, CreateCanisterResult)
            .map_err(|e| Error::Agent(format!("the cycles ledger's answer: {e}")))?;
        let id = match result {
            CreateCanisterResult::Ok { canister_id, .. }
            | CreateCanisterResult::Err(CreateCanisterError::Duplicate {
                canister_id: Some(canister_id),
                ..
            }) => canister_id,
            CreateCanisterResult::Err(e) => {
                // Nothing was bought (a failed creation is refunded but for the fee): a new
                // attempt is a new purchase. Kept when the ledger may have taken the payment
                // (a duplicate it could not name the canister of) or only could not answer now.
                let keep = matches!(
                    e,
                    CreateCanisterError::TemporarilyUnavailable
                        | CreateCanisterError::Duplicate { .. }
                        | CreateCanisterError::TooOld
                );
                if !keep {
                    store.remove(&item)?;
                }
                return Err(self.ledger_refusal(e, needed, &purchase));
            }
        };
        purchase.canister = Some(id.to_text());
        save_journal(store, &item, &purchase)?;
        Ok(id)
    }

    /// What to tell the user about a refusal of the cycles ledger.
    fn ledger_refusal(&self, e: CreateCanisterError, needed: u128, purchase: &Purchase) -> Error {
        match e {
            CreateCanisterError::InsufficientFunds { balance } => Error::NotEnoughCycles {
                principal: self.me().to_text(),
                balance: nat(&balance),
                needed,
            },
            CreateCanisterError::FailedToCreate { error, .. } => Error::Ledger(format!(
                "the canister could not be created ({error}); the cycles were refunded but \
                 for the ledger's fee: try again"
            )),
            CreateCanisterError::TemporarilyUnavailable => {
                Error::Ledger("the cycles ledger is busy: try again in a moment".into())
            }
            CreateCanisterError::CreatedInFuture { ledger_time } => Error::Ledger(format!(
                "this computer's clock is ahead of the IC's ({ledger_time} ns since the epoch): \
                 set it right and try again"
            )),
            CreateCanisterError::TooOld => Error::Ledger(format!(
                "an earlier purchase of a vault from this device (by {}, created_at_time {}) is \
                 over a day old and the ledger no longer answers it with its canister: if it \
                 was paid, the ledger's blocks of that account name the canister, which is set \
                 up by naming it; if not, remove {} and create the vault again",
                purchase.principal,
                purchase.created_at_time,
                "the purchase file (`<config>/purchase-…json`)"
            )),
            CreateCanisterError::Duplicate { duplicate_of, .. } => Error::Ledger(format!(
                "the ledger already did this purchase (block {duplicate_of}) but does not name \
                 its canister: try again in a moment"
            )),
            other => Error::Ledger(format!("{other:?}")),
        }
    }
}

#[derive(CandidType, Deserialize)]
struct WithdrawArgs {
    amount: Nat,
    from_subaccount: Option<ByteBuf>,
    to: Principal,
    created_at_time: Option<u64>,
}

#[derive(CandidType, Deserialize, Debug)]
enum WithdrawError {
    BadFee {
        expected_fee: Nat,
    },
    InsufficientFunds {
        balance: Nat,
    },
    TooOld,
    CreatedInFuture {
        ledger_time: u64,
    },
    TemporarilyUnavailable,
    Duplicate {
        duplicate_of: Nat,
    },
    FailedToWithdraw {
        fee_block: Option<Nat>,
        rejection_reason: String,
    },
    GenericError {
        message: String,
        error_code: Nat,
    },
    InvalidReceiver {
        receiver: Principal,
    },
}

#[derive(CandidType, Deserialize, Debug)]
enum WithdrawResult {
    Ok(Nat),
    Err(WithdrawError),
}

/// A payment's journal (a purchase, a top-up), if `store` keeps one; damaged, the error says
/// it may be deleted if `unpaid` (what holds when nothing was paid).
pub(crate) fn load_journal<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    item: &Item,
    unpaid: &str,
) -> Result<Option<T>, Error> {
    let Some(bytes) = store.load(item)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::Invalid(format!(
            "{} is damaged ({e}): if {unpaid}, delete it",
            store.describe(item)
        ))
    })
}

/// Writes a payment's journal, before paying.
pub(crate) fn save_journal<T: serde::Serialize>(
    store: &dyn Store,
    item: &Item,
    journal: &T,
) -> Result<(), Error> {
    store.save(
        item,
        &serde_json::to_vec(journal).expect("a journal serializes"),
    )
}

/// Cycles in JSON as decimal text: they may not fit a JSON number's exact range.
pub(crate) fn decimal<S: serde::Serializer>(n: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&n.to_string())
}

/// Days of idle burn under which `Funds::low` warns: time to top up before the vault freezes.
pub const WARN_DAYS: f64 = 30.0;

/// What a vault canister holds and burns: its status as the IC certifies it (a controller's
/// read: `canister_status`, called as an update).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Funds {
    /// Its cycles.
    #[serde(serialize_with = "decimal")]
    pub cycles: u128,
    /// What it burns a day doing nothing (the memory it holds).
    #[serde(serialize_with = "decimal")]
    pub idle_burn_per_day: u128,
    /// The memory it is billed for, bytes.
    pub memory_bytes: u64,
    /// Seconds of idle burn it must keep (`freezing_threshold`).
    pub freezing_threshold_s: u64,
    /// The cycles it must keep: below them it is frozen (refuses updates, still serves reads).
    #[serde(serialize_with = "decimal")]
    pub freezing_limit: u128,
    /// Whether it is frozen now ([`Funds::frozen`]), and whether to top it up ([`Funds::low`]).
    pub frozen: bool,
    pub low: bool,
    /// Days before it freezes at its idle burn (uploads burn more); none if it burns nothing.
    pub days_left: Option<f64>,
}

impl Funds {
    /// Whether it is frozen: the IC refuses an update unless the balance covers the freezing
    /// limit and the update's own cost (its reception, and its instruction limit's worth:
    /// 40 B cycles).
    pub fn frozen(&self) -> bool {
        // An upload's chunk: its reception (up to 2 MiB) and its instruction limit.
        let update = vault_interface::ic_costs::ingress(2 << 20)
            + vault_interface::ic_costs::execution(40_000_000_000);
        self.cycles < self.freezing_limit + update
    }

    /// Whether it should be topped up now: frozen, or under [`WARN_DAYS`] from it.
    pub fn low(&self) -> bool {
        self.frozen() || self.days_left.is_some_and(|d| d < WARN_DAYS)
    }

    /// US dollars a month its memory costs.
    pub fn usd_per_month(&self) -> f64 {
        self.idle_burn_per_day as f64 * 30.0 / 1e12 * vault_interface::ic_costs::USD_PER_T_CYCLES
    }
}

impl Connection {
    /// Canister `id`'s cycles and burn (this identity must control it).
    pub async fn funds(&self, id: Principal) -> Result<Funds, Error> {
        let management = ic_utils::interfaces::ManagementCanister::create(&self.agent);
        let (status,) = management
            .canister_status(&id)
            .as_update()
            .call()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        let cycles = nat(&status.cycles);
        let idle_burn_per_day = nat(&status.idle_cycles_burned_per_day);
        let freezing_threshold_s =
            u64::try_from(status.settings.freezing_threshold.0).unwrap_or(u64::MAX);
        let freezing_limit =
            idle_burn_per_day.saturating_mul(freezing_threshold_s as u128) / 86_400;
        let days_left = (idle_burn_per_day > 0)
            .then(|| cycles.saturating_sub(freezing_limit) as f64 / idle_burn_per_day as f64);
        let mut funds = Funds {
            cycles,
            idle_burn_per_day,
            memory_bytes: u64::try_from(status.memory_size.0).unwrap_or(u64::MAX),
            freezing_threshold_s,
            freezing_limit,
            frozen: false,
            low: false,
            days_left,
        };
        funds.frozen = funds.frozen();
        funds.low = funds.low();
        Ok(funds)
    }

    fn cycles_top_up_item(&self) -> Item {
        Item::CyclesTopUp {
            network: self.network.name(),
            identity: self.me(),
        }
    }

    /// Sends `amount` cycles from this identity's ledger account to canister `id` (the cycles
    /// ledger's `withdraw`; locally, minting what the identity lacks first). The withdrawal is
    /// written down before it is sent: one whose answer was lost is sent again, the same, by the
    /// next top-up, whatever it asks for — the ledger answers it as a duplicate, nothing is paid
    /// twice, and [`CyclesPaid::earlier`] says so.
    pub async fn top_up(
        &self,
        store: &dyn Store,
        id: Principal,
        amount: u128,
    ) -> Result<CyclesPaid, Error> {
        self.may_pay()?;
        let _one_at_a_time = crate::icp::TOPPING_UP.lock().await;
        let item = self.cycles_top_up_item();
        let earlier: Option<CyclesTopUp> = load_journal(store, &item, "no cycles were sent")?;
        if let Some(earlier) = earlier
            && earlier.principal == self.me().to_text()
        {
            match self.withdraw(store, &item, &earlier).await {
                Ok(()) => {
                    return Ok(CyclesPaid {
                        cycles: earlier.amount,
                        earlier: true,
                    });
                }
                // Refused: it was never paid (the ledger checks duplicates first), and is
                // forgotten; this one goes ahead.
                Err(Error::Ledger(_) | Error::NotEnoughCycles { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let needed = amount.saturating_add(LEDGER_FEE);
        if !self.network.is_ic() {
            let balance = self.cycles_balance().await?;
            if balance < needed {
                self.mint_local_cycles(needed - balance).await?;
            }
        }
        let top_up = CyclesTopUp {
            principal: self.me().to_text(),
            canister: id,
            amount,
            created_at_time: now_ns(),
        };
        save_journal(store, &item, &top_up)?;
        self.withdraw(store, &item, &top_up).await?;
        Ok(CyclesPaid {
            cycles: amount,
            earlier: false,
        })
    }

    /// Sends the withdrawal `top_up` names; forgets it once the ledger has answered for good
    /// (paid, a duplicate of the one paid, or refused), keeps it when the answer was lost.
    async fn withdraw(
        &self,
        store: &dyn Store,
        item: &Item,
        top_up: &CyclesTopUp,
    ) -> Result<(), Error> {
        let needed = top_up.amount.saturating_add(LEDGER_FEE);
        let arg = Encode!(&WithdrawArgs {
            amount: Nat::from(top_up.amount),
            from_subaccount: None,
            to: top_up.canister,
            created_at_time: Some(top_up.created_at_time),
        })
        .expect("withdraw's argument encodes");
        let reply = self
            .agent
            .update(&CYCLES_LEDGER, "withdraw")
            .with_arg(arg)
            .call_and_wait()
            .await
            // Kept: the next top-up sends it again, and the ledger pays it once.
            .map_err(|e| agent_error(&self.network.url(), e))?;
        let answer = Decode!(&reply, WithdrawResult)
            .map_err(|e| Error::Agent(format!("the cycles ledger's answer: {e}")))?;
        // Answered for good: its journal goes.
        store.remove(item)?;
        match answer {
            WithdrawResult::Ok(_) | WithdrawResult::Err(WithdrawError::Duplicate { .. }) => Ok(()),
            WithdrawResult::Err(WithdrawError::InsufficientFunds { balance }) => {
                Err(Error::NotEnoughCycles {
                    principal: self.me().to_text(),
                    balance: nat(&balance),
                    needed,
                })
            }
            WithdrawResult::Err(WithdrawError::InvalidReceiver { receiver }) => Err(Error::Ledger(
                format!("there is no canister {receiver} to send cycles to"),
            )),
            WithdrawResult::Err(WithdrawError::TooOld) => Err(Error::Ledger(format!(
                "a top-up of {} T cycles begun over a day ago (created_at_time {}) could not be \
                 checked: look at your vault's cycles to see whether it arrived",
                top_up.amount as f64 / 1e12,
                top_up.created_at_time
            ))),
            WithdrawResult::Err(e) => Err(Error::Ledger(format!("{e:?}"))),
        }
    }
}

/// A top-up from the cycles ledger, written down before it is sent.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CyclesTopUp {
    /// Who pays, as text.
    pub principal: String,
    /// The canister topped up.
    pub canister: Principal,
    /// The cycles sent.
    pub amount: u128,
    /// The ledger's deduplication key: nanoseconds since the epoch when first asked.
    pub created_at_time: u64,
}

/// What a cycles top-up sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CyclesPaid {
    /// The cycles the vault received.
    #[serde(serialize_with = "decimal")]
    pub cycles: u128,
    /// Whether this was a top-up whose answer was lost, finished (sent again, deduplicated)
    /// instead of the one asked for: nothing more was paid.
    pub earlier: bool,
}
