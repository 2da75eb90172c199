//! The ICP ledger (`ryjl3-tyaaa-aaaaa-aaaba-cai`) and the cycles minting canister's
//! conversions of ICP into cycles, as dfx, icp-cli and `vault topup --icp` use them: the
//! ledger's legacy `transfer` (accounts by account identifier, a `u64` memo, deduplication by
//! `created_at_time`), `account_balance`, ICRC-1 balances, and a local-only `mint`; the CMC's
//! `notify_top_up` (the block's ICP become the canister's cycles) and `notify_mint_cycles`
//! (they become the caller's on the cycles ledger), each at most once per block, with the
//! CMC's refunds (a wrong memo, a canister that does not exist) and its errors. Interfaces:
//! `vault_interface::icp`. The rate is fixed: [`XDR_PERMYRIAD_PER_ICP`].

use super::*;
use vault_interface::icp::{
    AccountBalanceArgs, CMC, E8S_PER_ICP, ICP_FEE_E8S, IcpXdrConversionRate,
    IcpXdrConversionRateResponse, MEMO_MINT_CYCLES, MEMO_TOP_UP_CANISTER, NotifyError,
    NotifyMintCyclesArg, NotifyMintCyclesResult, NotifyMintCyclesSuccess, NotifyTopUpArg,
    NotifyTopUpResult, Tokens, TransferArgs, TransferError, TransferResult, account_identifier,
    principal_subaccount,
};

/// This replica's ICP/XDR rate: 1 ICP = 3 XDR = 3 T cycles.
pub const XDR_PERMYRIAD_PER_ICP: u64 = 30_000;
/// How long after its transfer a block is still being processed: a notification sooner is
/// answered `Processing`, as the real CMC often answers for a while after a transfer (it reads
/// the block from the ledger first), so that clients' retries run here too.
pub const PROCESSING_NS: u64 = 500_000_000;
/// The most one ICP `mint` gives (this replica only): 1,000 ICP.
pub const MINT_MAX_E8S: u64 = 1_000 * E8S_PER_ICP;
/// The ICP ledger's methods that change it, and the CMC's: calls to them are logged.
pub const ICP_LEDGER_UPDATES: [&str; 2] = ["transfer", "mint"];
pub const CMC_UPDATES: [&str; 2] = ["notify_top_up", "notify_mint_cycles"];

type AccountId = [u8; 32];

/// A block of the ICP ledger that moved ICP, as the CMC reads it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub block: u64,
    pub from: ByteBuf,
    pub to: ByteBuf,
    pub amount: u64,
    pub memo: u64,
    /// When it was made (replica time).
    pub at: Option<u64>,
}

/// What the CMC made of a block (it converts each at most once).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Converted {
    TopUp {
        canister: Principal,
        cycles: Nat,
    },
    Mint {
        caller: Principal,
        success: NotifyMintCyclesSuccess,
    },
    Refunded {
        reason: String,
        block: Option<u64>,
    },
}

/// The ICP ledger's state and the CMC's, as the checkpoint keeps them.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct IcpState {
    pub balances: Vec<(ByteBuf, u64)>,
    pub blocks: u64,
    pub remembered: Vec<Remembered>,
    pub transfers: Vec<Transfer>,
    pub converted: Vec<(u64, Converted)>,
}

/// The ICP ledger, and what the CMC converted.
#[derive(Clone, Debug, Default)]
pub(crate) struct IcpLedger {
    balances: BTreeMap<AccountId, u64>,
    blocks: u64,
    remembered: BTreeMap<[u8; 32], Remembered>,
    transfers: BTreeMap<u64, Transfer>,
    converted: BTreeMap<u64, Converted>,
}

impl IcpLedger {
    pub(crate) fn state(&self) -> IcpState {
        IcpState {
            balances: self
                .balances
                .iter()
                .map(|(id, e8s)| (ByteBuf::from(id.to_vec()), *e8s))
                .collect(),
            blocks: self.blocks,
            remembered: self.remembered.values().cloned().collect(),
            transfers: self.transfers.values().cloned().collect(),
            converted: self
                .converted
                .iter()
                .map(|(b, c)| (*b, c.clone()))
                .collect(),
        }
    }

    pub(crate) fn restore(state: IcpState) -> Result<IcpLedger, CallError> {
        let damaged = || CallError::Storage("the checkpoint's ICP ledger is damaged".into());
        let mut ledger = IcpLedger {
            blocks: state.blocks,
            converted: state.converted.into_iter().collect(),
            transfers: state.transfers.into_iter().map(|t| (t.block, t)).collect(),
            ..IcpLedger::default()
        };
        for (id, e8s) in state.balances {
            let id = AccountId::try_from(id.as_slice()).map_err(|_| damaged())?;
            ledger.balances.insert(id, e8s);
        }
        for r in state.remembered {
            let hash = <[u8; 32]>::try_from(r.hash.as_slice()).map_err(|_| damaged())?;
            ledger.remembered.insert(hash, r);
        }
        Ok(ledger)
    }

    pub(crate) fn balance(&self, id: &AccountId) -> u64 {
        self.balances.get(id).copied().unwrap_or(0)
    }

    fn set(&mut self, id: AccountId, e8s: u64) {
        if e8s == 0 {
            self.balances.remove(&id);
        } else {
            self.balances.insert(id, e8s);
        }
    }

    fn credit(&mut self, id: AccountId, e8s: u64) {
        let sum = self.balance(&id).saturating_add(e8s);
        self.set(id, sum);
    }

    fn next_block(&mut self) -> u64 {
        self.blocks += 1;
        self.blocks - 1
    }
}

fn account_of(account: &Account) -> Result<AccountId, String> {
    let sub = match &account.subaccount {
        None => None,
        Some(s) => Some(
            <[u8; 32]>::try_from(s.as_slice())
                .map_err(|_| "a subaccount has 32 bytes".to_string())?,
        ),
    };
    Ok(account_identifier(&account.owner, sub.as_ref()))
}

fn rate() -> IcpXdrConversionRate {
    IcpXdrConversionRate {
        timestamp_seconds: 1_764_547_200,
        xdr_permyriad_per_icp: XDR_PERMYRIAD_PER_ICP,
    }
}

impl Replica {
    /// A query to the ICP ledger or one of the CMC's conversion queries; None: not one of them.
    pub(crate) fn icp_query(
        &self,
        system: System,
        method: &str,
        arg: &[u8],
    ) -> Option<Result<Reply, CallError>> {
        Some(match (system, method) {
            (System::IcpLedger, "account_balance") => (|| {
                let args: AccountBalanceArgs = decode(method, arg)?;
                let id = AccountId::try_from(args.account.as_slice()).map_err(|_| {
                    CallError::InvalidArgument("an account identifier has 32 bytes".into())
                })?;
                reply(&Tokens {
                    e8s: self.icp.balance(&id),
                })
            })(),
            (System::IcpLedger, "icrc1_balance_of") => (|| {
                let account: Account = decode(method, arg)?;
                let id = account_of(&account).map_err(CallError::InvalidArgument)?;
                reply(&Nat::from(self.icp.balance(&id)))
            })(),
            (System::IcpLedger, "transfer_fee") => reply(&TransferFee {
                transfer_fee: Tokens { e8s: ICP_FEE_E8S },
            }),
            (System::IcpLedger, "icrc1_fee") => reply(&Nat::from(ICP_FEE_E8S)),
            (System::IcpLedger, "icrc1_decimals") => reply(&8u8),
            (System::IcpLedger, "icrc1_symbol") => reply(&"ICP"),
            (System::IcpLedger, "icrc1_name") => reply(&"Internet Computer"),
            (System::Cmc, "get_icp_xdr_conversion_rate") => {
                decode::<()>(method, arg).and_then(|()| {
                    reply(&IcpXdrConversionRateResponse {
                        data: rate(),
                        hash_tree: ByteBuf::new(),
                        certificate: ByteBuf::new(),
                    })
                })
            }
            _ => return None,
        })
    }

    /// Runs a logged update to the ICP ledger or the CMC (live, or replayed on open).
    pub(crate) fn icp_apply(
        &mut self,
        sender: Principal,
        canister: Principal,
        method: &str,
        arg: &[u8],
    ) -> Result<Reply, CallError> {
        let now = self.time;
        let oldest = now.saturating_sub(TX_WINDOW_NS + PERMITTED_DRIFT_NS);
        self.icp
            .remembered
            .retain(|_, r| r.created_at_time >= oldest);
        match (canister == CMC, method) {
            (false, "mint") => {
                let args: MintArgs = decode(method, arg)?;
                let to = account_of(&args.to).map_err(CallError::InvalidArgument)?;
                let e8s = to_u128(&args.amount)
                    .and_then(|a| u64::try_from(a).ok())
                    .filter(|a| *a <= MINT_MAX_E8S)
                    .ok_or_else(|| {
                        CallError::InvalidArgument(format!(
                            "mint: at most {MINT_MAX_E8S} e8s at a time"
                        ))
                    })?;
                self.icp.credit(to, e8s);
                reply(&Nat::from(self.icp.next_block()))
            }
            (false, "transfer") => {
                let args: TransferArgs = decode(method, arg)?;
                let answer = self.icp_transfer(sender, args, now)?;
                reply(&answer)
            }
            (true, "notify_top_up") => {
                let args: NotifyTopUpArg = decode(method, arg)?;
                reply(&self.notify_top_up(args))
            }
            (true, "notify_mint_cycles") => {
                let args: NotifyMintCyclesArg = decode(method, arg)?;
                reply(&self.notify_mint_cycles(sender, args))
            }
            _ => Err(no_method(
                if canister == CMC {
                    System::Cmc
                } else {
                    System::IcpLedger
                },
                method,
                true,
            )),
        }
    }

    fn icp_transfer(
        &mut self,
        sender: Principal,
        args: TransferArgs,
        now: u64,
    ) -> Result<TransferResult, CallError> {
        let from_sub = match &args.from_subaccount {
            None => None,
            Some(s) => Some(
                <[u8; 32]>::try_from(s.as_slice())
                    .map_err(|_| CallError::InvalidArgument("a subaccount has 32 bytes".into()))?,
            ),
        };
        let from = account_identifier(&sender, from_sub.as_ref());
        // The real ledger traps on an account identifier that is not one.
        let to = AccountId::try_from(args.to.as_slice())
            .ok()
            .filter(|id| crc32fast::hash(&id[4..]).to_be_bytes() == id[..4])
            .ok_or_else(|| {
                CallError::InvalidArgument(
                    "`to` is not an account identifier (32 bytes with its CRC-32)".into(),
                )
            })?;
        if args.fee.e8s != ICP_FEE_E8S {
            return Ok(Err(TransferError::BadFee {
                expected_fee: Tokens { e8s: ICP_FEE_E8S },
            }));
        }
        let created = args.created_at_time.map(|t| t.timestamp_nanos);
        match check_time(created, now) {
            Err(TimeCheck::TooOld) => {
                return Ok(Err(TransferError::TxTooOld {
                    allowed_window_nanos: TX_WINDOW_NS,
                }));
            }
            Err(TimeCheck::InFuture(_)) => return Ok(Err(TransferError::TxCreatedInFuture)),
            Ok(()) => {}
        }
        let terms = canonical(
            "transfer",
            &[
                &from,
                &to,
                &args.amount.e8s.to_le_bytes(),
                &args.memo.to_le_bytes(),
                &created.unwrap_or(0).to_le_bytes(),
            ],
        );
        let hash = transaction_hash("transfer", &sender, &terms);
        if let Some(r) = self.icp.remembered.get(&hash) {
            return Ok(Err(TransferError::TxDuplicate {
                duplicate_of: r.block,
            }));
        }
        let balance = self.icp.balance(&from);
        let Some(left) = balance.checked_sub(args.amount.e8s.saturating_add(ICP_FEE_E8S)) else {
            return Ok(Err(TransferError::InsufficientFunds {
                balance: Tokens { e8s: balance },
            }));
        };
        self.icp.set(from, left);
        self.icp.credit(to, args.amount.e8s);
        let block = self.icp.next_block();
        self.icp.transfers.insert(
            block,
            Transfer {
                block,
                from: ByteBuf::from(from.to_vec()),
                to: ByteBuf::from(to.to_vec()),
                amount: args.amount.e8s,
                memo: args.memo,
                at: Some(now),
            },
        );
        if let Some(created_at_time) = created {
            self.icp.remembered.insert(
                hash,
                Remembered {
                    hash: ByteBuf::from(hash.to_vec()),
                    created_at_time,
                    block,
                    canister: None,
                },
            );
        }
        Ok(Ok(block))
    }

    /// The transfer of `block` to the CMC's account for `beneficiary` (a canister to top up, a
    /// caller to mint for), with `memo`; what it was made into already, if anything.
    fn deposit(
        &self,
        block: u64,
        beneficiary: &Principal,
    ) -> Result<(Transfer, AccountId), NotifyError> {
        let account = account_identifier(&CMC, Some(&principal_subaccount(beneficiary)));
        let transfer = self.icp.transfers.get(&block).cloned().ok_or_else(|| {
            NotifyError::InvalidTransaction(format!("block {block} is not an ICP transfer"))
        })?;
        if transfer.to.as_slice() != account {
            return Err(NotifyError::InvalidTransaction(format!(
                "block {block} pays into another account than the CMC's for {beneficiary}"
            )));
        }
        if transfer
            .at
            .is_some_and(|at| self.time < at.saturating_add(PROCESSING_NS))
        {
            return Err(NotifyError::Processing);
        }
        Ok((transfer, account))
    }

    /// Takes the ICP of `transfer` out of the CMC's `account` (burned into cycles), or sends
    /// them back less the fee (a refund): the refund's block.
    fn take_deposit(
        &mut self,
        transfer: &Transfer,
        account: AccountId,
        refund: bool,
    ) -> Option<u64> {
        let left = self.icp.balance(&account).saturating_sub(transfer.amount);
        self.icp.set(account, left);
        if !refund || transfer.amount <= ICP_FEE_E8S {
            return None;
        }
        let from = AccountId::try_from(transfer.from.as_slice()).expect("32 bytes");
        self.icp.credit(from, transfer.amount - ICP_FEE_E8S);
        Some(self.icp.next_block())
    }

    fn refused(
        &mut self,
        block: u64,
        transfer: &Transfer,
        account: AccountId,
        reason: String,
    ) -> NotifyError {
        let refund = self.take_deposit(transfer, account, true);
        self.icp.converted.insert(
            block,
            Converted::Refunded {
                reason: reason.clone(),
                block: refund,
            },
        );
        NotifyError::Refunded {
            reason,
            block_index: refund,
        }
    }

    fn notify_top_up(&mut self, args: NotifyTopUpArg) -> NotifyTopUpResult {
        let block = args.block_index;
        match self.icp.converted.get(&block) {
            Some(Converted::TopUp { canister, cycles }) if *canister == args.canister_id => {
                return Ok(cycles.clone());
            }
            Some(Converted::Refunded { reason, block }) => {
                return Err(NotifyError::Refunded {
                    reason: reason.clone(),
                    block_index: *block,
                });
            }
            Some(_) => {
                return Err(NotifyError::InvalidTransaction(format!(
                    "block {block} was converted already, for something else"
                )));
            }
            None => {}
        }
        let (transfer, account) = self.deposit(block, &args.canister_id)?;
        if transfer.memo != MEMO_TOP_UP_CANISTER {
            return Err(self.refused(
                block,
                &transfer,
                account,
                format!(
                    "the transfer's memo is {:#x}, not the top-up's (TPUP)",
                    transfer.memo
                ),
            ));
        }
        let Some(c) = self.canisters.get_mut(&args.canister_id) else {
            let reason = format!("there is no canister {}", args.canister_id);
            return Err(self.refused(block, &transfer, account, reason));
        };
        let cycles = u128::from(transfer.amount) * u128::from(XDR_PERMYRIAD_PER_ICP);
        c.cycles = c.cycles.saturating_add(cycles);
        self.take_deposit(&transfer, account, false);
        let cycles = Nat::from(cycles);
        self.icp.converted.insert(
            block,
            Converted::TopUp {
                canister: args.canister_id,
                cycles: cycles.clone(),
            },
        );
        Ok(cycles)
    }

    fn notify_mint_cycles(
        &mut self,
        sender: Principal,
        args: NotifyMintCyclesArg,
    ) -> NotifyMintCyclesResult {
        let block = args.block_index;
        match self.icp.converted.get(&block) {
            Some(Converted::Mint { caller, success }) if *caller == sender => {
                return Ok(success.clone());
            }
            Some(Converted::Refunded { reason, block }) => {
                return Err(NotifyError::Refunded {
                    reason: reason.clone(),
                    block_index: *block,
                });
            }
            Some(_) => {
                return Err(NotifyError::InvalidTransaction(format!(
                    "block {block} was converted already, for something else"
                )));
            }
            None => {}
        }
        let (transfer, account) = self.deposit(block, &sender)?;
        if transfer.memo != MEMO_MINT_CYCLES {
            return Err(self.refused(
                block,
                &transfer,
                account,
                format!(
                    "the transfer's memo is {:#x}, not the mint's (MINT)",
                    transfer.memo
                ),
            ));
        }
        let to = match account_key(sender, args.to_subaccount.as_ref().map(|s| s.as_slice())) {
            Ok(to) => to,
            Err(reason) => return Err(self.refused(block, &transfer, account, reason)),
        };
        let cycles = u128::from(transfer.amount) * u128::from(XDR_PERMYRIAD_PER_ICP);
        self.ledger.credit(to, cycles);
        let ledger_block = self.ledger.next_block();
        self.take_deposit(&transfer, account, false);
        let success = NotifyMintCyclesSuccess {
            block_index: Nat::from(ledger_block),
            minted: Nat::from(cycles),
            balance: Nat::from(self.ledger.balance(&to)),
        };
        self.icp.converted.insert(
            block,
            Converted::Mint {
                caller: sender,
                success: success.clone(),
            },
        );
        Ok(success)
    }
}

/// `transfer_fee`'s answer.
#[derive(CandidType, Deserialize)]
struct TransferFee {
    transfer_fee: Tokens,
}
