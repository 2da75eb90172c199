//! ICP to cycles: the ICP ledger's legacy `transfer` and the cycles minting canister's
//! `notify_top_up` / `notify_mint_cycles`, as their Candid interfaces declare them (the NNS
//! repository's `ledger.did` and `cmc.did`), for the client that calls them and the local
//! replica that serves them. A top-up is two calls: ICP to the CMC's account for the canister
//! (memo `TPUP`), then `notify_top_up` with that block, repeated while the CMC answers
//! `Processing`.

use candid::{CandidType, Deserialize, Nat, Principal};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha224};

/// The ICP ledger (`ryjl3-tyaaa-aaaaa-aaaba-cai`).
pub const ICP_LEDGER: Principal = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 2, 1, 1]);
/// The cycles minting canister (`rkp4c-7iaaa-aaaaa-aaaca-cai`).
pub const CMC: Principal = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 4, 1, 1]);
/// The ICP ledger's fee: 0.0001 ICP.
pub const ICP_FEE_E8S: u64 = 10_000;
/// e8s in one ICP.
pub const E8S_PER_ICP: u64 = 100_000_000;
/// The memo of a transfer to the CMC that tops up a canister ("TPUP").
pub const MEMO_TOP_UP_CANISTER: u64 = 0x5055_5054;
/// The memo of a transfer to the CMC that mints cycles on the cycles ledger ("MINT").
pub const MEMO_MINT_CYCLES: u64 = 0x544e_494d;

/// A 32-byte subaccount naming `principal`: its length, its bytes, zeros (as the CMC derives
/// the account a top-up of a canister, or a mint for a caller, is paid into).
pub fn principal_subaccount(principal: &Principal) -> [u8; 32] {
    let bytes = principal.as_slice();
    let mut out = [0u8; 32];
    out[0] = bytes.len() as u8;
    out[1..1 + bytes.len()].copy_from_slice(bytes);
    out
}

/// The ICP ledger's account identifier of `owner`'s `subaccount` (none: all zeros):
/// `crc32(h) || h`, `h = SHA-224("\x0Aaccount-id" || owner || subaccount)`.
pub fn account_identifier(owner: &Principal, subaccount: Option<&[u8; 32]>) -> [u8; 32] {
    let hash = Sha224::new()
        .chain_update(b"\x0Aaccount-id")
        .chain_update(owner.as_slice())
        .chain_update(subaccount.unwrap_or(&[0; 32]))
        .finalize();
    let mut out = [0u8; 32];
    out[..4].copy_from_slice(&crc32fast::hash(&hash).to_be_bytes());
    out[4..].copy_from_slice(&hash);
    out
}

/// An amount of ICP.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tokens {
    pub e8s: u64,
}

/// A time, in nanoseconds since the epoch.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeStamp {
    pub timestamp_nanos: u64,
}

/// The ICP ledger's `transfer` argument.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct TransferArgs {
    pub memo: u64,
    pub amount: Tokens,
    pub fee: Tokens,
    pub from_subaccount: Option<ByteBuf>,
    /// An account identifier (32 bytes).
    pub to: ByteBuf,
    pub created_at_time: Option<TimeStamp>,
}

/// Why the ICP ledger refused a transfer.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum TransferError {
    BadFee { expected_fee: Tokens },
    InsufficientFunds { balance: Tokens },
    TxTooOld { allowed_window_nanos: u64 },
    TxCreatedInFuture,
    TxDuplicate { duplicate_of: u64 },
}

/// The ICP ledger's `transfer` answer: the block.
pub type TransferResult = Result<u64, TransferError>;

/// `account_balance`'s argument.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct AccountBalanceArgs {
    pub account: ByteBuf,
}

/// `notify_top_up`'s argument.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct NotifyTopUpArg {
    pub block_index: u64,
    pub canister_id: Principal,
}

/// `notify_mint_cycles`' argument.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct NotifyMintCyclesArg {
    pub block_index: u64,
    pub to_subaccount: Option<ByteBuf>,
    pub deposit_memo: Option<ByteBuf>,
}

/// What `notify_mint_cycles` did.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NotifyMintCyclesSuccess {
    /// The cycles ledger's block.
    pub block_index: Nat,
    pub minted: Nat,
    pub balance: Nat,
}

/// Why the CMC did not convert a block (`Processing`: ask again).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum NotifyError {
    Refunded {
        reason: String,
        block_index: Option<u64>,
    },
    Processing,
    TransactionTooOld(u64),
    InvalidTransaction(String),
    Other {
        error_code: u64,
        error_message: String,
    },
}

/// `notify_top_up`'s answer: the cycles the canister received.
pub type NotifyTopUpResult = Result<Nat, NotifyError>;
/// `notify_mint_cycles`' answer.
pub type NotifyMintCyclesResult = Result<NotifyMintCyclesSuccess, NotifyError>;

/// The ICP/XDR rate the CMC converts at.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IcpXdrConversionRate {
    pub timestamp_seconds: u64,
    /// XDR (10^12 cycles) per ICP, in 1/10 000ths: cycles = e8s × this.
    pub xdr_permyriad_per_icp: u64,
}

/// `get_icp_xdr_conversion_rate`'s answer (the certificate proves `data` on the IC).
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct IcpXdrConversionRateResponse {
    pub data: IcpXdrConversionRate,
    pub hash_tree: ByteBuf,
    pub certificate: ByteBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids are the IC's, and an account identifier is what the IC's ledger computes: the
    /// anonymous principal's default account, as `dfx ledger account-id --of-principal 2vxsx-fae`
    /// prints it.
    #[test]
    fn ids_and_account_identifiers_are_the_ics() {
        assert_eq!(ICP_LEDGER.to_text(), "ryjl3-tyaaa-aaaaa-aaaba-cai");
        assert_eq!(CMC.to_text(), "rkp4c-7iaaa-aaaaa-aaaca-cai");
        assert_eq!(
            hex::encode(account_identifier(&Principal::anonymous(), None)),
            "1c7a48ba6a562aa9eaa2481a9049cdf0433b9738c992d698c31d8abf89cadc79"
        );
        let sub = principal_subaccount(&CMC);
        assert_eq!(sub[0], 10);
        assert_eq!(&sub[1..11], CMC.as_slice());
        assert!(sub[11..].iter().all(|b| *b == 0));
    }
}
