//! The IC's system canisters a client needs to get a canister of its own, at their real ids and
//! with their real Candid interfaces, so that a client (icp-cli, `vault init`) runs the same
//! code here as on the IC:
//!
//! - the cycles minting canister (`rkp4c-7iaaa-aaaaa-aaaca-cai`): the subnet queries
//!   (`get_default_subnets`, `get_subnet_types_to_subnets`,
//!   `get_principals_authorized_to_create_canisters_to_subnets`);
//! - the cycles ledger (`um5iw-rqaaa-aaaaq-qaaba-cai`): ICRC-1 balances and transfers,
//!   `create_canister` and `withdraw` as the real one does them (its fee, its deduplication by
//!   `created_at_time`, its errors), and `mint`, which only this replica has: cycles out of
//!   nothing for an account, as icp-cli's local networks give their identities ICP to convert.
//!
//! They run in the replica's own code, not as wasm: every change is logged as an input
//! ([`crate::durable::Input::SystemCall`]) and replayed, and the ledger's state is in the
//! checkpoint. A canister created at one of these ids in a state directory made before they
//! existed keeps it (it is the canister that answers there).

use std::collections::BTreeMap;

use candid::{CandidType, Deserialize, Encode, Nat, Principal};
use ic_management_canister_types::CanisterSettings;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::management::{decode, reply};
use crate::{CallError, Replica, Reply};

/// The cycles minting canister and the ICP ledger.
pub use vault_interface::icp::{CMC, ICP_LEDGER};
/// The cycles ledger.
pub const CYCLES_LEDGER: Principal = Principal::from_slice(&[0, 0, 0, 0, 2, 16, 0, 2, 1, 1]);

/// The cycles ledger's fee per transaction, and what creating a canister costs (burned out of
/// the cycles the new canister is given): the IC's table, `vault_interface::ic_costs`.
pub use vault_interface::ic_costs::{CREATION_FEE, LEDGER_FEE};
/// How long the ledger remembers a transaction with a `created_at_time` to refuse it again
/// (ICRC-1's `TX_WINDOW`), and how far ahead of the ledger's clock a caller's may be.
pub const TX_WINDOW_NS: u64 = 24 * 3600 * 1_000_000_000;
pub const PERMITTED_DRIFT_NS: u64 = 2 * 60 * 1_000_000_000;
/// The most one `mint` gives (this replica only): 1,000 T cycles.
pub const MINT_MAX: u128 = 1_000_000_000_000_000;

/// Which system canister an id is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    Cmc,
    CyclesLedger,
    IcpLedger,
}

/// An ICRC-1 account.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub owner: Principal,
    pub subaccount: Option<ByteBuf>,
}

type AccountKey = (Principal, [u8; 32]);

fn account_key(owner: Principal, subaccount: Option<&[u8]>) -> Result<AccountKey, String> {
    match subaccount {
        None => Ok((owner, [0; 32])),
        Some(s) => <[u8; 32]>::try_from(s)
            .map(|s| (owner, s))
            .map_err(|_| format!("a subaccount is 32 bytes, not {}", s.len())),
    }
}

/// `create_canister`'s argument, as the cycles ledger's Candid has it.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreateCanisterArgs {
    pub from_subaccount: Option<ByteBuf>,
    pub created_at_time: Option<u64>,
    pub amount: Nat,
    pub creation_args: Option<CreationArgs>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreationArgs {
    pub subnet_selection: Option<SubnetSelection>,
    pub settings: Option<CanisterSettings>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub enum SubnetSelection {
    Subnet { subnet: Principal },
    Filter(SubnetFilter),
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct SubnetFilter {
    pub subnet_type: Option<String>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum CreateCanisterError {
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

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum CreateCanisterResult {
    Ok {
        block_id: Nat,
        canister_id: Principal,
    },
    Err(CreateCanisterError),
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct WithdrawArgs {
    pub amount: Nat,
    pub from_subaccount: Option<ByteBuf>,
    pub to: Principal,
    pub created_at_time: Option<u64>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum RejectionCode {
    NoError,
    CanisterError,
    SysTransient,
    DestinationInvalid,
    Unknown,
    SysFatal,
    CanisterReject,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum WithdrawError {
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
        rejection_code: RejectionCode,
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

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum WithdrawResult {
    Ok(Nat),
    Err(WithdrawError),
}

/// ICRC-1 `icrc1_transfer`'s argument.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct TransferArg {
    pub from_subaccount: Option<ByteBuf>,
    pub to: Account,
    pub fee: Option<Nat>,
    pub created_at_time: Option<u64>,
    pub memo: Option<ByteBuf>,
    pub amount: Nat,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum TransferError {
    BadFee { expected_fee: Nat },
    BadBurn { min_burn_amount: Nat },
    InsufficientFunds { balance: Nat },
    TooOld,
    CreatedInFuture { ledger_time: u64 },
    TemporarilyUnavailable,
    Duplicate { duplicate_of: Nat },
    GenericError { error_code: Nat, message: String },
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum TransferResult {
    Ok(Nat),
    Err(TransferError),
}

/// `mint`'s argument (this replica only).
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct MintArgs {
    pub to: Account,
    pub amount: Nat,
}

/// ICRC-1 metadata values.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub enum MetadataValue {
    Nat(Nat),
    Int(candid::Int),
    Text(String),
    Blob(ByteBuf),
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct SupportedStandard {
    pub name: String,
    pub url: String,
}

/// The CMC's `get_subnet_types_to_subnets` answer.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct SubnetTypesToSubnetsResponse {
    pub data: Vec<(String, Vec<Principal>)>,
}

/// A transaction the ledger remembers (it had a `created_at_time`), to refuse it again.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Remembered {
    pub hash: ByteBuf,
    pub created_at_time: u64,
    pub block: u64,
    pub canister: Option<Principal>,
}

/// The cycles ledger's state, as the checkpoint keeps it.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerState {
    pub balances: Vec<(Principal, ByteBuf, Nat)>,
    pub blocks: u64,
    pub remembered: Vec<Remembered>,
}

/// The cycles ledger.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ledger {
    balances: BTreeMap<AccountKey, u128>,
    /// The next block's index: one per transaction (a fee, a mint, a transfer).
    blocks: u64,
    remembered: BTreeMap<[u8; 32], Remembered>,
}

impl Ledger {
    pub(crate) fn state(&self) -> LedgerState {
        LedgerState {
            balances: self
                .balances
                .iter()
                .map(|((owner, sub), amount)| {
                    (*owner, ByteBuf::from(sub.to_vec()), Nat::from(*amount))
                })
                .collect(),
            blocks: self.blocks,
            remembered: self.remembered.values().cloned().collect(),
        }
    }

    pub(crate) fn restore(state: LedgerState) -> Result<Ledger, CallError> {
        let damaged = || CallError::Storage("the checkpoint's cycles ledger is damaged".into());
        let mut balances = BTreeMap::new();
        for (owner, sub, amount) in state.balances {
            let sub = <[u8; 32]>::try_from(sub.as_slice()).map_err(|_| damaged())?;
            let amount = u128::try_from(amount.0).map_err(|_| damaged())?;
            balances.insert((owner, sub), amount);
        }
        let mut remembered = BTreeMap::new();
        for r in state.remembered {
            let hash = <[u8; 32]>::try_from(r.hash.as_slice()).map_err(|_| damaged())?;
            remembered.insert(hash, r);
        }
        Ok(Ledger {
            balances,
            blocks: state.blocks,
            remembered,
        })
    }

    fn balance(&self, key: &AccountKey) -> u128 {
        self.balances.get(key).copied().unwrap_or(0)
    }

    fn set_balance(&mut self, key: AccountKey, amount: u128) {
        if amount == 0 {
            self.balances.remove(&key);
        } else {
            self.balances.insert(key, amount);
        }
    }

    /// Takes `amount` from `key`'s balance; None if it holds less.
    fn debit(&mut self, key: AccountKey, amount: u128) -> Option<()> {
        let left = self.balance(&key).checked_sub(amount)?;
        self.set_balance(key, left);
        Some(())
    }

    fn credit(&mut self, key: AccountKey, amount: u128) {
        let sum = self.balance(&key).saturating_add(amount);
        self.set_balance(key, sum);
    }

    fn next_block(&mut self) -> u64 {
        self.blocks += 1;
        self.blocks - 1
    }

    /// Forgets the transactions too old to be sent again anyway.
    fn forget_before(&mut self, now: u64) {
        let oldest = now.saturating_sub(TX_WINDOW_NS + PERMITTED_DRIFT_NS);
        self.remembered.retain(|_, r| r.created_at_time >= oldest);
    }

    fn total_supply(&self) -> u128 {
        self.balances
            .values()
            .fold(0u128, |a, b| a.saturating_add(*b))
    }
}

/// Why a transaction's `created_at_time` is refused, if it is.
enum TimeCheck {
    TooOld,
    InFuture(u64),
}

fn check_time(created_at_time: Option<u64>, now: u64) -> Result<(), TimeCheck> {
    let Some(t) = created_at_time else {
        return Ok(());
    };
    if t.saturating_add(TX_WINDOW_NS + PERMITTED_DRIFT_NS) < now {
        return Err(TimeCheck::TooOld);
    }
    if t > now.saturating_add(PERMITTED_DRIFT_NS) {
        return Err(TimeCheck::InFuture(now));
    }
    Ok(())
}

/// What a transaction is remembered by: its kind and its terms as the ledger reads them
/// (accounts with their default subaccount spelled out, the fee it takes), so that the same
/// transaction sent again is recognised however its argument was encoded.
fn canonical(method: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in std::iter::once(method.as_bytes()).chain(parts.iter().copied()) {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// The hash a transaction is remembered by.
fn transaction_hash(method: &str, caller: &Principal, canonical_terms: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), caller.as_slice(), canonical_terms] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

fn to_u128(n: &Nat) -> Option<u128> {
    u128::try_from(n.0.clone()).ok()
}

fn no_method(system: System, method: &str, update: bool) -> CallError {
    CallError::NoSuchMethod {
        kind: match (system, update) {
            (System::Cmc, _) => "cycles minting canister",
            (System::CyclesLedger, true) => "cycles ledger update",
            (System::CyclesLedger, false) => "cycles ledger query",
            (System::IcpLedger, _) => "ICP ledger",
        },
        method: method.to_string(),
    }
}

/// The cycles ledger's methods that change it: calls to them are logged.
pub const LEDGER_UPDATES: [&str; 4] = ["create_canister", "withdraw", "icrc1_transfer", "mint"];

/// What a checked call does: answers at once (nothing changes), or changes the ledger.
pub(crate) enum Checked {
    Answer(Result<Reply, CallError>),
    Change,
}

impl Replica {
    /// The system canister at `id`, if this replica hosts one there.
    pub fn system_canister(&self, id: Principal) -> Option<System> {
        if self.canisters.contains_key(&id) {
            return None;
        }
        if id == CMC {
            Some(System::Cmc)
        } else if id == CYCLES_LEDGER {
            Some(System::CyclesLedger)
        } else if id == ICP_LEDGER {
            Some(System::IcpLedger)
        } else {
            None
        }
    }

    /// The subnet this replica is (the server sets it from its keys; in memory, a fixed id).
    pub fn subnet_id(&self) -> Principal {
        self.subnet_id
    }

    /// Sets the subnet id `get_default_subnets` answers and `create_canister` accepts.
    pub fn set_subnet_id(&mut self, id: Principal) {
        self.subnet_id = id;
    }

    /// A query to a system canister (or an update to one of its read-only methods).
    pub(crate) fn system_query(
        &self,
        system: System,
        sender: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        if let Some(answer) = self.icp_query(system, method, arg) {
            return answer;
        }
        match (system, method) {
            (System::Cmc, "get_default_subnets") => {
                decode::<()>(method, arg)?;
                reply(&vec![self.subnet_id])
            }
            (System::Cmc, "get_subnet_types_to_subnets") => {
                decode::<()>(method, arg)?;
                reply(&SubnetTypesToSubnetsResponse { data: Vec::new() })
            }
            (System::Cmc, "get_principals_authorized_to_create_canisters_to_subnets") => {
                decode::<()>(method, arg)?;
                reply(&SubnetTypesToSubnetsResponse { data: Vec::new() })
            }
            (System::CyclesLedger, "icrc1_balance_of") => {
                let account: Account = decode(method, arg)?;
                let key = account_key(
                    account.owner,
                    account.subaccount.as_ref().map(|s| s.as_slice()),
                )
                .map_err(CallError::InvalidArgument)?;
                reply(&Nat::from(self.ledger.balance(&key)))
            }
            (System::CyclesLedger, "icrc1_fee") => reply(&Nat::from(LEDGER_FEE)),
            (System::CyclesLedger, "icrc1_decimals") => reply(&12u8),
            (System::CyclesLedger, "icrc1_symbol") => reply(&"TCYCLES"),
            (System::CyclesLedger, "icrc1_name") => reply(&"Trillion Cycles"),
            (System::CyclesLedger, "icrc1_total_supply") => {
                reply(&Nat::from(self.ledger.total_supply()))
            }
            (System::CyclesLedger, "icrc1_minting_account") => reply(&None::<Account>),
            (System::CyclesLedger, "icrc1_metadata") => reply(&vec![
                (
                    "icrc1:decimals".to_string(),
                    MetadataValue::Nat(Nat::from(12u8)),
                ),
                (
                    "icrc1:name".into(),
                    MetadataValue::Text("Trillion Cycles".into()),
                ),
                ("icrc1:symbol".into(), MetadataValue::Text("TCYCLES".into())),
                (
                    "icrc1:fee".into(),
                    MetadataValue::Nat(Nat::from(LEDGER_FEE)),
                ),
            ]),
            (System::CyclesLedger, "icrc1_supported_standards") => {
                reply(&vec![SupportedStandard {
                    name: "ICRC-1".into(),
                    url: "https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-1".into(),
                }])
            }
            (System::CyclesLedger, m) if LEDGER_UPDATES.contains(&m) => {
                let _ = sender;
                Err(no_method(system, method, false))
            }
            _ => Err(no_method(system, method, false)),
        }
    }

    /// Checks an update to a system canister before it is logged: what it would refuse without
    /// changing anything is answered here (and not logged); a change is run by
    /// [`Replica::system_apply`] once logged.
    pub(crate) fn system_check(
        &self,
        system: System,
        sender: Principal,
        method: &str,
        arg: &[u8],
    ) -> Checked {
        let updates: &[&str] = match system {
            System::Cmc => &icp::CMC_UPDATES,
            System::CyclesLedger => &LEDGER_UPDATES,
            System::IcpLedger => &icp::ICP_LEDGER_UPDATES,
        };
        if !updates.contains(&method) {
            return Checked::Answer(self.system_query(system, sender, method, arg));
        }
        if system != System::CyclesLedger {
            return Checked::Change;
        }
        match method {
            "create_canister" => {
                let args: CreateCanisterArgs = match decode(method, arg) {
                    Ok(a) => a,
                    Err(e) => return Checked::Answer(Err(e)),
                };
                let subnet = args
                    .creation_args
                    .as_ref()
                    .and_then(|c| c.subnet_selection.as_ref());
                let refused = match subnet {
                    Some(SubnetSelection::Subnet { subnet }) if *subnet != self.subnet_id => {
                        Some(format!(
                            "no subnet {subnet} here: this replica is subnet {}",
                            self.subnet_id
                        ))
                    }
                    Some(SubnetSelection::Filter(SubnetFilter {
                        subnet_type: Some(t),
                    })) => Some(format!(
                        "no subnet of type `{t}` here: this replica is one application subnet"
                    )),
                    _ => None,
                };
                match refused {
                    Some(error) => Checked::Answer(reply(&CreateCanisterResult::Err(
                        CreateCanisterError::FailedToCreate {
                            fee_block: None,
                            refund_block: None,
                            error,
                        },
                    ))),
                    None => Checked::Change,
                }
            }
            _ => Checked::Change,
        }
    }

    /// Runs a logged update to a system canister (live, or replayed on open).
    pub(crate) fn system_apply(
        &mut self,
        sender: Principal,
        canister: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        if canister != CYCLES_LEDGER {
            return self.icp_apply(sender, canister, method, arg);
        }
        let now = self.time;
        self.ledger.forget_before(now);
        match method {
            "mint" => {
                let args: MintArgs = decode(method, arg)?;
                let key = account_key(
                    args.to.owner,
                    args.to.subaccount.as_ref().map(|s| s.as_slice()),
                )
                .map_err(CallError::InvalidArgument)?;
                let amount = to_u128(&args.amount)
                    .filter(|a| *a <= MINT_MAX)
                    .ok_or_else(|| {
                        CallError::InvalidArgument(format!(
                            "mint: at most {MINT_MAX} cycles at a time"
                        ))
                    })?;
                self.ledger.credit(key, amount);
                let block = self.ledger.next_block();
                reply(&Nat::from(block))
            }
            "icrc1_transfer" => {
                let args: TransferArg = decode(method, arg)?;
                reply(&self.transfer(sender, args, now))
            }
            "withdraw" => {
                let args: WithdrawArgs = decode(method, arg)?;
                reply(&self.withdraw(sender, args, now))
            }
            "create_canister" => {
                let args: CreateCanisterArgs = decode(method, arg)?;
                reply(&self.create_through_ledger(sender, args, now))
            }
            _ => Err(no_method(System::CyclesLedger, method, true)),
        }
    }

    /// The transaction `canonical` (by `sender`, with `created_at_time`) if it was already
    /// done: its block and canister.
    fn remembered(
        &self,
        method: &str,
        sender: &Principal,
        canonical: &[u8],
    ) -> Option<&Remembered> {
        self.ledger
            .remembered
            .get(&transaction_hash(method, sender, canonical))
    }

    fn remember(
        &mut self,
        method: &str,
        sender: &Principal,
        canonical: &[u8],
        created_at_time: Option<u64>,
        block: u64,
        canister: Option<Principal>,
    ) {
        if let Some(created_at_time) = created_at_time {
            let hash = transaction_hash(method, sender, canonical);
            self.ledger.remembered.insert(
                hash,
                Remembered {
                    hash: ByteBuf::from(hash.to_vec()),
                    created_at_time,
                    block,
                    canister,
                },
            );
        }
    }

    fn transfer(&mut self, sender: Principal, args: TransferArg, now: u64) -> TransferResult {
        let generic = |message: String| {
            TransferResult::Err(TransferError::GenericError {
                error_code: Nat::from(0u8),
                message,
            })
        };
        let (from, to) = match (
            account_key(sender, args.from_subaccount.as_ref().map(|s| s.as_slice())),
            account_key(
                args.to.owner,
                args.to.subaccount.as_ref().map(|s| s.as_slice()),
            ),
        ) {
            (Ok(from), Ok(to)) => (from, to),
            (Err(e), _) | (_, Err(e)) => return generic(e),
        };
        if args
            .fee
            .as_ref()
            .is_some_and(|f| to_u128(f) != Some(LEDGER_FEE))
        {
            return TransferResult::Err(TransferError::BadFee {
                expected_fee: Nat::from(LEDGER_FEE),
            });
        }
        match check_time(args.created_at_time, now) {
            Err(TimeCheck::TooOld) => return TransferResult::Err(TransferError::TooOld),
            Err(TimeCheck::InFuture(ledger_time)) => {
                return TransferResult::Err(TransferError::CreatedInFuture { ledger_time });
            }
            Ok(()) => {}
        }
        let memo = args.memo.as_ref().map_or(&[][..], |m| m.as_slice());
        let canonical = canonical(
            "icrc1_transfer",
            &[
                from.0.as_slice(),
                &from.1,
                to.0.as_slice(),
                &to.1,
                args.amount.to_string().as_bytes(),
                &[u8::from(args.memo.is_some())],
                memo,
                &args.created_at_time.unwrap_or(0).to_le_bytes(),
            ],
        );
        if let Some(r) = self.remembered("icrc1_transfer", &sender, &canonical) {
            return TransferResult::Err(TransferError::Duplicate {
                duplicate_of: Nat::from(r.block),
            });
        }
        let Some(amount) = to_u128(&args.amount) else {
            return generic("the amount is larger than any balance".into());
        };
        let balance = self.ledger.balance(&from);
        if self
            .ledger
            .debit(from, amount.saturating_add(LEDGER_FEE))
            .is_none()
        {
            return TransferResult::Err(TransferError::InsufficientFunds {
                balance: Nat::from(balance),
            });
        }
        self.ledger.credit(to, amount);
        let block = self.ledger.next_block();
        self.remember(
            "icrc1_transfer",
            &sender,
            &canonical,
            args.created_at_time,
            block,
            None,
        );
        TransferResult::Ok(Nat::from(block))
    }

    fn withdraw(&mut self, sender: Principal, args: WithdrawArgs, now: u64) -> WithdrawResult {
        let from = match account_key(sender, args.from_subaccount.as_ref().map(|s| s.as_slice())) {
            Ok(from) => from,
            Err(message) => {
                return WithdrawResult::Err(WithdrawError::GenericError {
                    message,
                    error_code: Nat::from(0u8),
                });
            }
        };
        match check_time(args.created_at_time, now) {
            Err(TimeCheck::TooOld) => return WithdrawResult::Err(WithdrawError::TooOld),
            Err(TimeCheck::InFuture(ledger_time)) => {
                return WithdrawResult::Err(WithdrawError::CreatedInFuture { ledger_time });
            }
            Ok(()) => {}
        }
        let canonical = canonical(
            "withdraw",
            &[
                from.0.as_slice(),
                &from.1,
                args.to.as_slice(),
                args.amount.to_string().as_bytes(),
                &args.created_at_time.unwrap_or(0).to_le_bytes(),
            ],
        );
        if let Some(r) = self.remembered("withdraw", &sender, &canonical) {
            return WithdrawResult::Err(WithdrawError::Duplicate {
                duplicate_of: Nat::from(r.block),
            });
        }
        if !self.canisters.contains_key(&args.to) {
            return WithdrawResult::Err(WithdrawError::InvalidReceiver { receiver: args.to });
        }
        let balance = self.ledger.balance(&from);
        let amount = to_u128(&args.amount).unwrap_or(u128::MAX);
        if self
            .ledger
            .debit(from, amount.saturating_add(LEDGER_FEE))
            .is_none()
        {
            return WithdrawResult::Err(WithdrawError::InsufficientFunds {
                balance: Nat::from(balance),
            });
        }
        let c = self.canisters.get_mut(&args.to).expect("checked above");
        c.cycles = c.cycles.saturating_add(amount);
        let block = self.ledger.next_block();
        self.remember(
            "withdraw",
            &sender,
            &canonical,
            args.created_at_time,
            block,
            None,
        );
        WithdrawResult::Ok(Nat::from(block))
    }

    /// The cycles ledger's `create_canister`: `amount` and the fee leave the caller's balance;
    /// the canister is created with `amount` less the creation fee, its controllers those
    /// asked for or else the caller alone. A failure after payment refunds `amount` (the fee
    /// is kept, as the real ledger keeps it).
    fn create_through_ledger(
        &mut self,
        sender: Principal,
        args: CreateCanisterArgs,
        now: u64,
    ) -> CreateCanisterResult {
        let err = CreateCanisterResult::Err;
        let from = match account_key(sender, args.from_subaccount.as_ref().map(|s| s.as_slice())) {
            Ok(from) => from,
            Err(message) => {
                return err(CreateCanisterError::GenericError {
                    message,
                    error_code: Nat::from(0u8),
                });
            }
        };
        match check_time(args.created_at_time, now) {
            Err(TimeCheck::TooOld) => return err(CreateCanisterError::TooOld),
            Err(TimeCheck::InFuture(ledger_time)) => {
                return err(CreateCanisterError::CreatedInFuture { ledger_time });
            }
            Ok(()) => {}
        }
        let creation = Encode!(&args.creation_args).unwrap_or_default();
        let canonical = canonical(
            "create_canister",
            &[
                from.0.as_slice(),
                &from.1,
                args.amount.to_string().as_bytes(),
                &args.created_at_time.unwrap_or(0).to_le_bytes(),
                &creation,
            ],
        );
        if let Some(r) = self.remembered("create_canister", &sender, &canonical) {
            return err(CreateCanisterError::Duplicate {
                duplicate_of: Nat::from(r.block),
                canister_id: r.canister,
            });
        }
        let balance = self.ledger.balance(&from);
        let amount = to_u128(&args.amount).unwrap_or(u128::MAX);
        if self
            .ledger
            .debit(from, amount.saturating_add(LEDGER_FEE))
            .is_none()
        {
            return err(CreateCanisterError::InsufficientFunds {
                balance: Nat::from(balance),
            });
        }
        let fee_block = self.ledger.next_block();
        let settings = args.creation_args.and_then(|c| c.settings);
        let failure = if amount < CREATION_FEE {
            Some(format!(
                "creating a canister costs {CREATION_FEE} cycles on this subnet; {amount} were given"
            ))
        } else {
            self.settings_for_new(settings.as_ref(), sender).err()
        };
        if let Some(error) = failure {
            self.ledger.credit(from, amount);
            let refund_block = self.ledger.next_block();
            return err(CreateCanisterError::FailedToCreate {
                fee_block: Some(Nat::from(fee_block)),
                refund_block: Some(Nat::from(refund_block)),
                error,
            });
        }
        let (controllers, settings) = self
            .settings_for_new(settings.as_ref(), sender)
            .expect("checked above");
        let id = self.create_inner(controllers);
        let c = self.canisters.get_mut(&id).expect("just created");
        c.cycles = amount - CREATION_FEE;
        c.settings = settings;
        self.remember(
            "create_canister",
            &sender,
            &canonical,
            args.created_at_time,
            fee_block,
            Some(id),
        );
        CreateCanisterResult::Ok {
            block_id: Nat::from(fee_block),
            canister_id: id,
        }
    }

    /// The controllers and settings a new canister gets from `settings` (the creator alone
    /// controls it unless they say otherwise), or why they are refused.
    pub(crate) fn settings_for_new(
        &self,
        settings: Option<&CanisterSettings>,
        creator: Principal,
    ) -> Result<(Vec<Principal>, crate::settings::Settings), String> {
        let controllers = settings
            .and_then(|s| s.controllers.clone())
            .unwrap_or_else(|| vec![creator]);
        if controllers.len() > crate::MAX_CONTROLLERS {
            return Err(crate::CallError::TooManyControllers.to_string());
        }
        let settings = match settings {
            Some(s) => crate::settings::Settings::default()
                .with(s)
                .map_err(|e| e.to_string())?,
            None => crate::settings::Settings::default(),
        };
        Ok((controllers, settings))
    }
}

pub mod icp;

#[cfg(test)]
mod tests;
