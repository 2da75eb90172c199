//! The system canisters through Candid, as clients call them: the cycles ledger's payments,
//! refusals and deduplication, the CMC's subnets, and the ledger kept across a restart.

use candid::{Decode, Encode, Nat, Principal};
use ic_management_canister_types::{
    CanisterIdRecord, CanisterSettings, CanisterStatusResult, ProvisionalTopUpCanisterArgs,
    StatusVisibility, UpdateSettingsArgs,
};
use serde_bytes::ByteBuf;

use super::*;
use crate::{CallError, Replica};

const NOW: u64 = 1_800_000_000_000_000_000;
const T: u128 = 1_000_000_000_000;

fn alice() -> Principal {
    Principal::from_slice(&[7; 29])
}

fn bob() -> Principal {
    Principal::from_slice(&[8; 29])
}

fn account(owner: Principal) -> Account {
    Account {
        owner,
        subaccount: None,
    }
}

fn mint(r: &mut Replica, to: Principal, amount: u128) {
    let arg = Encode!(&MintArgs {
        to: account(to),
        amount: Nat::from(amount),
    })
    .unwrap();
    r.update_call(to, CYCLES_LEDGER, "mint", &arg)
        .expect("minted");
}

fn balance(r: &mut Replica, of: Principal) -> u128 {
    let arg = Encode!(&account(of)).unwrap();
    let reply = r
        .query_call(of, CYCLES_LEDGER, "icrc1_balance_of", &arg)
        .unwrap();
    u128::try_from(Decode!(&reply.bytes, Nat).unwrap().0).unwrap()
}

fn create_args(amount: u128, created_at_time: Option<u64>) -> CreateCanisterArgs {
    CreateCanisterArgs {
        from_subaccount: None,
        created_at_time,
        amount: Nat::from(amount),
        creation_args: None,
    }
}

fn create(r: &mut Replica, who: Principal, args: &CreateCanisterArgs) -> CreateCanisterResult {
    let reply = r
        .update_call(
            who,
            CYCLES_LEDGER,
            "create_canister",
            &Encode!(args).unwrap(),
        )
        .expect("the ledger answers");
    Decode!(&reply.bytes, CreateCanisterResult).unwrap()
}

fn created(r: &mut Replica, who: Principal, args: &CreateCanisterArgs) -> (Principal, Nat) {
    match create(r, who, args) {
        CreateCanisterResult::Ok {
            canister_id,
            block_id,
        } => (canister_id, block_id),
        other => panic!("not created: {other:?}"),
    }
}

fn status(
    r: &mut Replica,
    who: Principal,
    id: Principal,
) -> Result<CanisterStatusResult, CallError> {
    let arg = Encode!(&CanisterIdRecord { canister_id: id }).unwrap();
    r.query_call(
        who,
        Principal::management_canister(),
        "canister_status",
        &arg,
    )
    .map(|reply| Decode!(&reply.bytes, CanisterStatusResult).unwrap())
}

#[test]
fn the_cmc_names_this_subnet() {
    let mut r = Replica::new(NOW).unwrap();
    let reply = r
        .query_call(alice(), CMC, "get_default_subnets", &Encode!().unwrap())
        .unwrap();
    assert_eq!(
        Decode!(&reply.bytes, Vec<Principal>).unwrap(),
        vec![r.subnet_id()]
    );
    assert!(matches!(
        r.query_call(alice(), CMC, "notify_top_up", &Encode!().unwrap()),
        Err(CallError::NoSuchMethod { .. })
    ));
}

#[test]
fn creating_a_canister_pays_once_and_the_creator_alone_controls_it() {
    let mut r = Replica::new(NOW).unwrap();
    mint(&mut r, alice(), 3 * T);
    let args = create_args(T, Some(NOW));
    let (canister_id, block_id) = created(&mut r, alice(), &args);
    assert_eq!(balance(&mut r, alice()), 3 * T - T - LEDGER_FEE);
    let s = status(&mut r, alice(), canister_id).unwrap();
    assert_eq!(s.settings.controllers, vec![alice()]);
    assert_eq!(s.cycles, Nat::from(T - CREATION_FEE));
    assert!(
        canister_id != CMC && canister_id != CYCLES_LEDGER,
        "a new canister never takes a system canister's id"
    );

    // The same request again (a client that crashed before it heard the answer): the same
    // canister, nothing paid twice.
    assert_eq!(
        create(&mut r, alice(), &args),
        CreateCanisterResult::Err(CreateCanisterError::Duplicate {
            duplicate_of: block_id,
            canister_id: Some(canister_id),
        })
    );
    assert_eq!(balance(&mut r, alice()), 3 * T - T - LEDGER_FEE);
    // Another caller's identical request is theirs: not a duplicate of alice's.
    mint(&mut r, bob(), 2 * T);
    assert_ne!(created(&mut r, bob(), &args).0, canister_id);
    // Without a created_at_time nothing is deduplicated: a second canister.
    let (second, _) = created(&mut r, alice(), &create_args(T, None));
    assert_ne!(second, canister_id);
}

#[test]
fn the_ledger_refuses_what_the_real_one_refuses_and_keeps_the_money() {
    let mut r = Replica::new(NOW).unwrap();
    mint(&mut r, alice(), T);
    let err = |r: &mut Replica, args| match create(r, alice(), &args) {
        CreateCanisterResult::Err(e) => e,
        ok => panic!("{ok:?}"),
    };
    assert_eq!(
        err(&mut r, create_args(2 * T, Some(NOW))),
        CreateCanisterError::InsufficientFunds {
            balance: Nat::from(T)
        }
    );
    let long_ago = NOW - TX_WINDOW_NS - PERMITTED_DRIFT_NS - 1;
    assert_eq!(
        err(&mut r, create_args(T / 2, Some(long_ago))),
        CreateCanisterError::TooOld
    );
    assert_eq!(
        err(
            &mut r,
            create_args(T / 2, Some(NOW + PERMITTED_DRIFT_NS + 1))
        ),
        CreateCanisterError::CreatedInFuture { ledger_time: NOW }
    );
    let mut elsewhere = create_args(T / 2, Some(NOW));
    elsewhere.creation_args = Some(CreationArgs {
        subnet_selection: Some(SubnetSelection::Subnet {
            subnet: Principal::management_canister(),
        }),
        settings: None,
    });
    assert!(matches!(
        err(&mut r, elsewhere),
        CreateCanisterError::FailedToCreate {
            fee_block: None,
            refund_block: None,
            ..
        }
    ));
    assert_eq!(
        balance(&mut r, alice()),
        T,
        "nothing was taken for refusals"
    );

    // Too little for the creation fee: the amount comes back, the ledger's fee does not.
    let CreateCanisterError::FailedToCreate {
        fee_block: Some(_),
        refund_block: Some(_),
        error,
    } = err(&mut r, create_args(CREATION_FEE - 1, Some(NOW)))
    else {
        panic!("refunded");
    };
    assert!(error.contains("500000000000"), "{error}");
    assert_eq!(balance(&mut r, alice()), T - LEDGER_FEE);
    let mut crowded = create_args(T / 2, Some(NOW + 1));
    crowded.creation_args = Some(CreationArgs {
        subnet_selection: None,
        settings: Some(CanisterSettings {
            controllers: Some(vec![alice(); 11]),
            ..Default::default()
        }),
    });
    assert!(matches!(
        err(&mut r, crowded),
        CreateCanisterError::FailedToCreate {
            refund_block: Some(_),
            ..
        }
    ));
    assert_eq!(balance(&mut r, alice()), T - 2 * LEDGER_FEE);
    assert!(r.canister_ids().is_empty(), "no canister was made");
}

#[test]
fn withdraw_tops_up_a_canister_and_transfers_move_cycles() {
    let mut r = Replica::new(NOW).unwrap();
    mint(&mut r, alice(), 3 * T);
    let (canister_id, _) = created(&mut r, alice(), &create_args(T, None));
    let withdraw = |r: &mut Replica, to, amount: u128, at| {
        let arg = Encode!(&WithdrawArgs {
            amount: Nat::from(amount),
            from_subaccount: None,
            to,
            created_at_time: at,
        })
        .unwrap();
        let reply = r
            .update_call(alice(), CYCLES_LEDGER, "withdraw", &arg)
            .unwrap();
        Decode!(&reply.bytes, WithdrawResult).unwrap()
    };
    let WithdrawResult::Ok(block) = withdraw(&mut r, canister_id, T / 2, Some(NOW)) else {
        panic!("withdrawn");
    };
    assert_eq!(
        status(&mut r, alice(), canister_id).unwrap().cycles,
        Nat::from(T - CREATION_FEE + T / 2)
    );
    assert_eq!(
        withdraw(&mut r, canister_id, T / 2, Some(NOW)),
        WithdrawResult::Err(WithdrawError::Duplicate {
            duplicate_of: block
        })
    );
    assert_eq!(
        withdraw(&mut r, bob(), 1, None),
        WithdrawResult::Err(WithdrawError::InvalidReceiver { receiver: bob() })
    );
    assert_eq!(
        withdraw(&mut r, canister_id, 10 * T, None),
        WithdrawResult::Err(WithdrawError::InsufficientFunds {
            balance: Nat::from(3 * T - T - T / 2 - 2 * LEDGER_FEE)
        })
    );

    let transfer = |r: &mut Replica, amount: u128, fee: Option<u128>| {
        let arg = Encode!(&TransferArg {
            from_subaccount: None,
            to: account(bob()),
            fee: fee.map(Nat::from),
            created_at_time: None,
            memo: Some(ByteBuf::from(vec![1])),
            amount: Nat::from(amount),
        })
        .unwrap();
        let reply = r
            .update_call(alice(), CYCLES_LEDGER, "icrc1_transfer", &arg)
            .unwrap();
        Decode!(&reply.bytes, TransferResult).unwrap()
    };
    assert!(matches!(
        transfer(&mut r, 1, Some(1)),
        TransferResult::Err(TransferError::BadFee { .. })
    ));
    assert!(matches!(
        transfer(&mut r, T / 4, None),
        TransferResult::Ok(_)
    ));
    assert_eq!(balance(&mut r, bob()), T / 4);
}

#[test]
fn settings_and_top_ups_go_through_the_management_canister() {
    let mut r = Replica::new(NOW).unwrap();
    mint(&mut r, alice(), 2 * T);
    let (canister_id, _) = created(&mut r, alice(), &create_args(T, None));
    let ic00 = Principal::management_canister();
    assert!(matches!(
        status(&mut r, bob(), canister_id),
        Err(CallError::NotAController(_))
    ));
    let update = |r: &mut Replica, who, settings: CanisterSettings| {
        let arg = Encode!(&UpdateSettingsArgs {
            canister_id,
            settings,
            sender_canister_version: None,
        })
        .unwrap();
        r.update_call(who, ic00, "update_settings", &arg)
    };
    let public = CanisterSettings {
        status_visibility: Some(StatusVisibility::Public),
        freezing_threshold: Some(Nat::from(3600u64)),
        ..Default::default()
    };
    assert!(matches!(
        update(&mut r, bob(), public.clone()),
        Err(CallError::NotAController(_))
    ));
    update(&mut r, alice(), public).unwrap();
    let seen = status(&mut r, bob(), canister_id).expect("a public status");
    assert_eq!(seen.settings.freezing_threshold, Nat::from(3600u64));
    assert_eq!(seen.settings.controllers, vec![alice()], "controllers kept");
    let refused = update(
        &mut r,
        alice(),
        CanisterSettings {
            compute_allocation: Some(Nat::from(101u8)),
            freezing_threshold: Some(Nat::from(1u8)),
            ..Default::default()
        },
    );
    assert!(matches!(refused, Err(CallError::InvalidArgument(_))));
    assert_eq!(
        status(&mut r, alice(), canister_id)
            .unwrap()
            .settings
            .freezing_threshold,
        Nat::from(3600u64),
        "a refused change changes nothing"
    );
    let top_up = Encode!(&ProvisionalTopUpCanisterArgs {
        canister_id,
        amount: Nat::from(T),
    })
    .unwrap();
    r.update_call(bob(), ic00, "provisional_top_up_canister", &top_up)
        .unwrap();
    assert_eq!(
        status(&mut r, alice(), canister_id).unwrap().cycles,
        Nat::from(2 * T - CREATION_FEE)
    );
}

#[test]
fn the_ledger_and_what_it_made_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("replica-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = create_args(T, Some(NOW));
    let (id, block) = {
        let mut r = Replica::open(&dir, NOW).unwrap();
        mint(&mut r, alice(), 3 * T);
        created(&mut r, alice(), &args)
    };
    let check = |r: &mut Replica| {
        assert_eq!(balance(r, alice()), 2 * T - LEDGER_FEE);
        assert_eq!(
            status(r, alice(), id).unwrap().cycles,
            Nat::from(T - CREATION_FEE)
        );
        assert_eq!(
            create(r, alice(), &args),
            CreateCanisterResult::Err(CreateCanisterError::Duplicate {
                duplicate_of: block.clone(),
                canister_id: Some(id),
            }),
            "the ledger still knows the request"
        );
    };
    // Replayed from the log, then read from a checkpoint.
    let mut r = Replica::open(&dir, NOW).unwrap();
    check(&mut r);
    r.checkpoint().unwrap();
    drop(r);
    let mut r = Replica::open(&dir, NOW).unwrap();
    check(&mut r);
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A canister that answers an update and a query, and holds one page of stable memory.
const PAYER: &str = r#"
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))
  (memory 1)
  (func (export "canister_init") (drop (call $grow (i64.const 1))))
  (func (export "canister_update work") (call $reply))
  (func (export "canister_query look") (call $reply)))
"#;

fn funded_payer(r: &mut Replica, cycles: u128) -> Principal {
    let ic00 = Principal::management_canister();
    let arg = Encode!(
        &ic_management_canister_types::ProvisionalCreateCanisterWithCyclesArgs {
            amount: Some(Nat::from(cycles)),
            settings: None,
            specified_id: None,
            sender_canister_version: None,
        }
    )
    .unwrap();
    let reply = r
        .update_call(
            alice(),
            ic00,
            "provisional_create_canister_with_cycles",
            &arg,
        )
        .unwrap();
    let id = Decode!(&reply.bytes, CanisterIdRecord).unwrap().canister_id;
    let wasm = wat::parse_str(PAYER).unwrap();
    r.install_code(alice(), id, crate::InstallMode::Install, &wasm, &[])
        .unwrap();
    id
}

fn cycles_of(r: &mut Replica, id: Principal) -> u128 {
    u128::try_from(status(r, alice(), id).unwrap().cycles.0).unwrap()
}

/// What a canister pays is the IC's table: an update's reception and execution, a day of the
/// memory it holds; a query is free.
#[test]
fn the_replica_charges_what_the_ic_charges() {
    use vault_interface::ic_costs;
    let mut r = Replica::new(NOW).unwrap();
    let id = funded_payer(&mut r, 10 * T);
    let before = cycles_of(&mut r, id);
    let reply = r.update_call(bob(), id, "work", b"four").unwrap();
    assert_eq!(
        cycles_of(&mut r, id),
        before - ic_costs::ingress("work".len() + 4) - ic_costs::execution(reply.instructions)
    );
    let before = cycles_of(&mut r, id);
    r.query_call(bob(), id, "look", &[]).unwrap();
    assert_eq!(cycles_of(&mut r, id), before, "a query is free");

    let held = u64::try_from(status(&mut r, alice(), id).unwrap().memory_size.0).unwrap();
    let day = 86_400 * 1_000_000_000;
    let burn = status(&mut r, alice(), id)
        .unwrap()
        .idle_cycles_burned_per_day;
    assert_eq!(burn, Nat::from(ic_costs::idle_burn_per_day(held, 0)));
    r.set_time(NOW + day).unwrap();
    assert_eq!(
        cycles_of(&mut r, id),
        before - ic_costs::idle_burn_per_day(held, 0),
        "a day of its memory, owed as soon as the day is over"
    );
}

/// Below its freezing limit a canister refuses updates (the IC's IC0207), still answers
/// queries, and a top-up brings it back.
#[test]
fn a_frozen_canister_refuses_updates_until_topped_up() {
    let mut r = Replica::new(NOW).unwrap();
    // Less than an update's instruction limit's worth (40 B) above its freezing limit.
    let id = funded_payer(&mut r, 30_000_000_000);
    assert!(matches!(
        r.update_call(bob(), id, "work", &[]),
        Err(CallError::OutOfCycles { canister, needed }) if canister == id && needed > 0
    ));
    r.query_call(bob(), id, "look", &[])
        .expect("queries are served");
    let top_up = Encode!(&ProvisionalTopUpCanisterArgs {
        canister_id: id,
        amount: Nat::from(T),
    })
    .unwrap();
    r.update_call(
        bob(),
        Principal::management_canister(),
        "provisional_top_up_canister",
        &top_up,
    )
    .unwrap();
    r.update_call(bob(), id, "work", &[]).expect("topped up");
}

// ---- ICP → cycles: the ICP ledger and the CMC's notifications (`icp.rs`) ------------------

mod icp_to_cycles {
    use vault_interface::icp::{
        E8S_PER_ICP, ICP_FEE_E8S, MEMO_MINT_CYCLES, MEMO_TOP_UP_CANISTER, NotifyError,
        NotifyMintCyclesArg, NotifyMintCyclesResult, NotifyTopUpArg, NotifyTopUpResult, TimeStamp,
        Tokens, TransferArgs, TransferError, TransferResult, account_identifier,
        principal_subaccount,
    };

    use super::icp::XDR_PERMYRIAD_PER_ICP;
    use super::*;

    fn mint_icp(r: &mut Replica, to: Principal, e8s: u64) {
        let arg = Encode!(&MintArgs {
            to: account(to),
            amount: Nat::from(e8s),
        })
        .unwrap();
        r.update_call(to, ICP_LEDGER, "mint", &arg).unwrap();
    }

    fn icp_balance(r: &mut Replica, of: Principal) -> u64 {
        let arg = Encode!(&account(of)).unwrap();
        let reply = r
            .query_call(of, ICP_LEDGER, "icrc1_balance_of", &arg)
            .unwrap();
        u64::try_from(Decode!(&reply.bytes, Nat).unwrap().0).unwrap()
    }

    /// `from` pays `e8s` into the CMC's account for `beneficiary`, with `memo`.
    fn pay_cmc(
        r: &mut Replica,
        from: Principal,
        beneficiary: Principal,
        e8s: u64,
        memo: u64,
        created: Option<u64>,
    ) -> TransferResult {
        let to = account_identifier(&CMC, Some(&principal_subaccount(&beneficiary)));
        let arg = Encode!(&TransferArgs {
            memo,
            amount: Tokens { e8s },
            fee: Tokens { e8s: ICP_FEE_E8S },
            from_subaccount: None,
            to: ByteBuf::from(to.to_vec()),
            created_at_time: created.map(|timestamp_nanos| TimeStamp { timestamp_nanos }),
        })
        .unwrap();
        let reply = r.update_call(from, ICP_LEDGER, "transfer", &arg).unwrap();
        Decode!(&reply.bytes, TransferResult).unwrap()
    }

    /// Notifies the CMC of `block` once it is no longer being processed.
    fn top_up(r: &mut Replica, block: u64, canister: Principal) -> NotifyTopUpResult {
        let time = r.time();
        r.set_time(time + super::icp::PROCESSING_NS).unwrap();
        notify_now(r, block, canister)
    }

    fn notify_now(r: &mut Replica, block: u64, canister: Principal) -> NotifyTopUpResult {
        let arg = Encode!(&NotifyTopUpArg {
            block_index: block,
            canister_id: canister,
        })
        .unwrap();
        let reply = r.update_call(alice(), CMC, "notify_top_up", &arg).unwrap();
        Decode!(&reply.bytes, NotifyTopUpResult).unwrap()
    }

    const ICP: u64 = E8S_PER_ICP;

    /// Cycles equal but for what the canister's memory burned while the clock moved (a few a
    /// second here): far below any conversion.
    fn close(got: u128, want: u128) {
        assert!(got.abs_diff(want) < 1_000_000, "{got} is not {want}");
    }

    /// ICP paid into the CMC's account for a canister become its cycles at the CMC's rate,
    /// once: notified again, the same answer; the transfer deduplicated by created_at_time.
    #[test]
    fn icp_paid_to_the_cmc_tops_up_a_canister_once() {
        let mut r = Replica::new(NOW).unwrap();
        let id = funded_payer(&mut r, T);
        mint_icp(&mut r, alice(), 5 * ICP);
        let block = pay_cmc(
            &mut r,
            alice(),
            id,
            2 * ICP,
            MEMO_TOP_UP_CANISTER,
            Some(NOW),
        )
        .unwrap();
        assert_eq!(
            pay_cmc(
                &mut r,
                alice(),
                id,
                2 * ICP,
                MEMO_TOP_UP_CANISTER,
                Some(NOW)
            ),
            Err(TransferError::TxDuplicate {
                duplicate_of: block
            })
        );
        assert_eq!(icp_balance(&mut r, alice()), 3 * ICP - ICP_FEE_E8S);
        // Right after the transfer the CMC is still at it, as the real one often says.
        assert_eq!(notify_now(&mut r, block, id), Err(NotifyError::Processing));
        let before = cycles_of(&mut r, id);
        let cycles = u128::from(2 * ICP) * u128::from(XDR_PERMYRIAD_PER_ICP);
        assert_eq!(cycles, 6 * T, "1 ICP is 3 T cycles here");
        assert_eq!(top_up(&mut r, block, id), Ok(Nat::from(cycles)));
        close(cycles_of(&mut r, id), before + cycles);
        assert_eq!(top_up(&mut r, block, id), Ok(Nat::from(cycles)));
        close(cycles_of(&mut r, id), before + cycles);
        // The rate, as the CMC says it.
        let reply = r
            .query_call(
                alice(),
                CMC,
                "get_icp_xdr_conversion_rate",
                &Encode!().unwrap(),
            )
            .unwrap();
        let rate = Decode!(
            &reply.bytes,
            vault_interface::icp::IcpXdrConversionRateResponse
        )
        .unwrap();
        assert_eq!(rate.data.xdr_permyriad_per_icp, XDR_PERMYRIAD_PER_ICP);
    }

    /// What the CMC refuses: a block that pays another canister's account (nothing moves), a
    /// wrong memo or a canister that does not exist (refunded, less the fee), too little ICP.
    #[test]
    fn the_cmc_refuses_and_refunds_as_the_real_one_does() {
        let mut r = Replica::new(NOW).unwrap();
        let id = funded_payer(&mut r, T);
        let other = funded_payer(&mut r, T);
        mint_icp(&mut r, alice(), 10 * ICP);
        let block = pay_cmc(&mut r, alice(), other, ICP, MEMO_TOP_UP_CANISTER, None).unwrap();
        assert!(matches!(
            top_up(&mut r, block, id),
            Err(NotifyError::InvalidTransaction(_))
        ));
        assert!(matches!(
            top_up(&mut r, 999, id),
            Err(NotifyError::InvalidTransaction(_))
        ));
        let paid = icp_balance(&mut r, alice());
        let wrong_memo = pay_cmc(&mut r, alice(), id, ICP, MEMO_MINT_CYCLES, None).unwrap();
        let before = cycles_of(&mut r, id);
        let refund = top_up(&mut r, wrong_memo, id);
        assert!(
            matches!(&refund, Err(NotifyError::Refunded { block_index: Some(_), reason }) if reason.contains("memo")),
            "{refund:?}"
        );
        assert_eq!(
            top_up(&mut r, wrong_memo, id),
            refund,
            "the same answer again"
        );
        close(cycles_of(&mut r, id), before);
        assert_eq!(
            icp_balance(&mut r, alice()),
            paid - ICP - ICP_FEE_E8S + ICP - ICP_FEE_E8S
        );
        let nobody = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0x77, 0, 1, 1]);
        let block = pay_cmc(&mut r, alice(), nobody, ICP, MEMO_TOP_UP_CANISTER, None).unwrap();
        assert!(matches!(
            top_up(&mut r, block, nobody),
            Err(NotifyError::Refunded { .. })
        ));
        let poor = Principal::from_slice(&[9; 29]);
        assert_eq!(
            pay_cmc(&mut r, poor, id, ICP, MEMO_TOP_UP_CANISTER, None),
            Err(TransferError::InsufficientFunds {
                balance: Tokens { e8s: 0 }
            })
        );
    }

    /// `notify_mint_cycles`: the caller's ICP become cycles in their cycles ledger account.
    #[test]
    fn icp_become_cycles_on_the_cycles_ledger() {
        let mut r = Replica::new(NOW).unwrap();
        mint_icp(&mut r, bob(), 2 * ICP);
        let block = pay_cmc(&mut r, bob(), bob(), ICP, MEMO_MINT_CYCLES, None).unwrap();
        let time = r.time();
        r.set_time(time + super::icp::PROCESSING_NS).unwrap();
        let arg = Encode!(&NotifyMintCyclesArg {
            block_index: block,
            to_subaccount: None,
            deposit_memo: None,
        })
        .unwrap();
        let reply = r
            .update_call(bob(), CMC, "notify_mint_cycles", &arg)
            .unwrap();
        let minted = Decode!(&reply.bytes, NotifyMintCyclesResult)
            .unwrap()
            .unwrap();
        assert_eq!(minted.minted, Nat::from(3 * T));
        assert_eq!(balance(&mut r, bob()), 3 * T);
        // Alice cannot mint with Bob's block.
        let reply = r
            .update_call(alice(), CMC, "notify_mint_cycles", &arg)
            .unwrap();
        assert!(
            Decode!(&reply.bytes, NotifyMintCyclesResult)
                .unwrap()
                .is_err()
        );
    }

    /// The ICP ledger and the CMC's conversions are logged and checkpointed like the rest.
    #[test]
    fn icp_and_conversions_survive_a_restart() {
        let dir = std::env::temp_dir().join(format!("replica-icp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (id, block, after) = {
            let mut r = Replica::open(&dir, NOW).unwrap();
            let id = funded_payer(&mut r, T);
            mint_icp(&mut r, alice(), 3 * ICP);
            let block = pay_cmc(&mut r, alice(), id, ICP, MEMO_TOP_UP_CANISTER, Some(NOW)).unwrap();
            top_up(&mut r, block, id).unwrap();
            (id, block, cycles_of(&mut r, id))
        };
        let check = |r: &mut Replica| {
            assert_eq!(icp_balance(r, alice()), 2 * ICP - ICP_FEE_E8S);
            close(cycles_of(r, id), after);
            assert_eq!(top_up(r, block, id), Ok(Nat::from(3 * T)));
            close(cycles_of(r, id), after);
            assert_eq!(
                pay_cmc(r, alice(), id, ICP, MEMO_TOP_UP_CANISTER, Some(NOW)),
                Err(TransferError::TxDuplicate {
                    duplicate_of: block
                })
            );
        };
        let mut r = Replica::open(&dir, NOW).unwrap();
        check(&mut r);
        r.checkpoint().unwrap();
        drop(r);
        let mut r = Replica::open(&dir, NOW).unwrap();
        check(&mut r);
        drop(r);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
