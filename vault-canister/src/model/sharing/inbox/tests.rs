//! The share inbox: notices noted once, bounded per sender, per hour and in all; only the owner
//! reads and answers them; following keeps a vault and drops its notices.

use candid::Principal;
use ic_stable_structures::VectorMemory;

use super::HOUR_NS;
use crate::model::fixtures::*;
use crate::model::types::*;
use crate::model::{
    MAX_FOLLOWED, MAX_NOTICES, MAX_NOTICES_PER_HOUR, MAX_NOTICES_PER_SENDER, State,
};

const OWNER: u8 = 1;
const ALICE: u8 = 2;

/// A canister id numbered `n` (opaque: its last byte is 1).
fn vault(n: u64) -> Principal {
    let mut bytes = n.to_be_bytes().to_vec();
    bytes.extend([9, 1]);
    Principal::from_slice(&bytes)
}

/// A stranger's principal numbered `n`.
fn stranger(n: u64) -> Principal {
    let mut bytes = n.to_be_bytes().to_vec();
    bytes.extend([7; 21]);
    Principal::from_slice(&bytes)
}

fn vault_of_owner() -> State<VectorMemory> {
    let mut s = State::init_with_bucket_pages(VectorMemory::default(), 2);
    s.install(p(OWNER), None, T0).unwrap();
    s
}

fn notices(s: &State<VectorMemory>) -> Vec<(Principal, Principal)> {
    s.inbox(&p(OWNER))
        .unwrap()
        .notices
        .into_iter()
        .map(|n| (n.vault, n.sender))
        .collect()
}

#[test]
fn a_notice_is_noted_once_and_only_the_owner_reads_and_answers_it() {
    let mut s = vault_of_owner();
    let me = canister();
    s.notify_shared(&p(ALICE), T0, &me, vault(1)).unwrap();
    // Again: nothing new.
    s.notify_shared(&p(ALICE), T0 + SECOND, &me, vault(1))
        .unwrap();
    let inbox = s.inbox(&p(OWNER)).unwrap();
    assert_eq!(
        inbox.notices,
        vec![ShareNotice {
            vault: vault(1),
            sender: p(ALICE),
            noted_at: T0
        }]
    );
    assert!(inbox.followed.is_empty());

    for who in [p(ALICE), Principal::anonymous(), p(9)] {
        assert_eq!(s.inbox(&who), Err(VaultError::NotAuthorized));
        assert_eq!(
            s.answer_share(
                &who,
                T0,
                &me,
                AnswerShareArgs {
                    vault: vault(1),
                    follow: true
                }
            ),
            Err(VaultError::NotAuthorized)
        );
    }
    assert_eq!(notices(&s), vec![(vault(1), p(ALICE))]);

    // Following drops the notice and keeps the vault; a notice about it changes nothing.
    s.answer_share(
        &p(OWNER),
        T0 + 2 * SECOND,
        &me,
        AnswerShareArgs {
            vault: vault(1),
            follow: true,
        },
    )
    .unwrap();
    s.notify_shared(&p(3), T0 + 3 * SECOND, &me, vault(1))
        .unwrap();
    let inbox = s.inbox(&p(OWNER)).unwrap();
    assert!(inbox.notices.is_empty());
    assert_eq!(
        inbox.followed,
        vec![FollowedVault {
            vault: vault(1),
            since: T0 + 2 * SECOND
        }]
    );
    // Not following: gone, and its notices are ignored from then on.
    s.answer_share(
        &p(OWNER),
        T0,
        &me,
        AnswerShareArgs {
            vault: vault(1),
            follow: false,
        },
    )
    .unwrap();
    assert_eq!(s.inbox(&p(OWNER)).unwrap(), Inbox::default());
    s.notify_shared(&p(ALICE), T0 + 4 * SECOND, &me, vault(1))
        .unwrap();
    assert!(notices(&s).is_empty());
}

#[test]
fn notices_that_cannot_be_true_are_refused_and_change_nothing() {
    let mut s = vault_of_owner();
    let me = canister();
    let refusals = [
        (Principal::anonymous(), vault(1)),
        (p(OWNER), vault(1)),
        (p(ALICE), me),
        (p(ALICE), Principal::anonymous()),
        // A user's principal is not a vault.
        (p(ALICE), p(3)),
    ];
    for (caller, named) in refusals {
        let answer = s.notify_shared(&caller, T0, &me, named);
        assert!(answer.is_err(), "{caller} naming {named}: {answer:?}");
    }
    assert_eq!(s.inbox(&p(OWNER)).unwrap(), Inbox::default());
    assert!(!s.accepts_ingress(&Principal::anonymous(), "notify_shared", 40, T0));
    assert!(s.accepts_ingress(&p(ALICE), "notify_shared", 40, T0));
    assert!(!s.accepts_ingress(&p(ALICE), "notify_shared", 2 << 10, T0));
    assert!(!s.accepts_ingress(&p(ALICE), "inbox", 0, T0));
    assert!(!s.accepts_ingress(&p(ALICE), "answer_share", 40, T0));
    assert!(
        s.answer_share(
            &p(OWNER),
            T0,
            &me,
            AnswerShareArgs {
                vault: me,
                follow: true
            }
        )
        .is_err()
    );
}

/// A stranger's spam: bounded per sender (refused free at ingress past it), per hour from
/// everyone, and in all, where the oldest notice makes room; the owner's answers are never
/// limited.
#[test]
fn a_strangers_notices_are_bounded_and_refused_at_ingress() {
    let mut s = vault_of_owner();
    let me = canister();
    let spammer = stranger(0);
    for n in 0..MAX_NOTICES_PER_SENDER as u64 {
        s.notify_shared(&spammer, T0, &me, vault(n)).unwrap();
    }
    assert!(matches!(
        s.notify_shared(&spammer, T0, &me, vault(99)),
        Err(VaultError::Conflict { .. })
    ));
    assert!(!s.accepts_ingress(&spammer, "notify_shared", 40, T0));
    // Someone else still may.
    assert!(s.accepts_ingress(&p(ALICE), "notify_shared", 40, T0));

    // Fresh principals: the hour's notices run out, for everyone, until the next hour.
    let hour = T0 - T0 % HOUR_NS;
    for k in MAX_NOTICES_PER_SENDER as u64..MAX_NOTICES_PER_HOUR as u64 {
        s.notify_shared(&stranger(100 + k), hour, &me, vault(2000 + k))
            .unwrap();
    }
    assert_eq!(notices(&s).len() as u32, MAX_NOTICES_PER_HOUR);
    assert_eq!(
        s.notify_shared(&p(ALICE), hour + 10 * SECOND, &me, vault(5)),
        Err(VaultError::RateLimited {
            retry_after_ns: HOUR_NS - 10 * SECOND
        })
    );
    assert!(!s.accepts_ingress(&p(ALICE), "notify_shared", 40, hour));
    assert!(s.accepts_ingress(&p(OWNER), "answer_share", 40, hour));
    s.notify_shared(&p(ALICE), hour + HOUR_NS, &me, vault(5))
        .unwrap();

    // In all: past MAX_NOTICES the oldest goes, hour after hour.
    let mut at = hour + 2 * HOUR_NS;
    let mut sender = 10_000;
    while notices(&s).len() < MAX_NOTICES {
        for _ in 0..MAX_NOTICES_PER_HOUR {
            s.notify_shared(&stranger(sender), at, &me, vault(sender))
                .unwrap();
            sender += 1;
            at += 1;
        }
        at += HOUR_NS;
    }
    assert_eq!(notices(&s).len(), MAX_NOTICES);
    // The oldest: the first, in key order, of those noted earliest.
    let all = s.inbox(&p(OWNER)).unwrap().notices;
    let earliest = all.iter().map(|n| n.noted_at).min().unwrap();
    let oldest = all
        .iter()
        .find(|n| n.noted_at == earliest)
        .map(|n| (n.vault, n.sender))
        .unwrap();
    s.notify_shared(&p(ALICE), at, &me, vault(6)).unwrap();
    let now = notices(&s);
    assert_eq!(now.len(), MAX_NOTICES);
    assert_eq!(now[0], (vault(6), p(ALICE)));
    assert!(!now.contains(&oldest));
    // The evicted sender has room again.
    assert!(s.accepts_ingress(&oldest.1, "notify_shared", 40, at + HOUR_NS));
}

#[test]
fn the_owner_follows_a_bounded_number_of_vaults() {
    let mut s = vault_of_owner();
    let me = canister();
    let follow = |s: &mut State<VectorMemory>, n: u64| {
        s.answer_share(
            &p(OWNER),
            T0,
            &me,
            AnswerShareArgs {
                vault: vault(n),
                follow: true,
            },
        )
    };
    for n in 0..MAX_FOLLOWED as u64 {
        follow(&mut s, n).unwrap();
    }
    assert!(matches!(
        follow(&mut s, 5_000),
        Err(VaultError::Conflict { .. })
    ));
    // Following one already followed is no change, so not refused.
    follow(&mut s, 3).unwrap();
    assert_eq!(s.inbox(&p(OWNER)).unwrap().followed.len(), MAX_FOLLOWED);
}

/// From the review: inspect_message refused calls the update took as no-ops (a notice about a
/// vault followed, from a sender at its bound). Now the update checks the bounds first too, so
/// the two agree whatever the inbox holds.
#[test]
fn inspect_message_and_the_update_agree_with_a_full_inbox() {
    let mut s = vault_of_owner();
    let me = canister();
    s.answer_share(
        &p(OWNER),
        T0,
        &me,
        AnswerShareArgs {
            vault: vault(500),
            follow: true,
        },
    )
    .unwrap();
    for n in 0..MAX_NOTICES_PER_SENDER as u64 {
        s.notify_shared(&p(ALICE), T0, &me, vault(n)).unwrap();
    }
    // A no-op (followed, or noted already) and a new one: each refused by both, or taken by both.
    for named in [vault(500), vault(0), vault(77)] {
        let accepted = s.accepts_ingress(&p(ALICE), "notify_shared", 40, T0);
        let answer = s.notify_shared(&p(ALICE), T0, &me, named);
        assert_eq!(accepted, answer.is_ok(), "{named}: {answer:?}");
    }
    for n in 1..=MAX_NOTICES_PER_HOUR as u64 {
        let sender = stranger(n);
        let accepted = s.accepts_ingress(&sender, "notify_shared", 40, T0);
        let answer = s.notify_shared(&sender, T0, &me, vault(500));
        assert_eq!(accepted, answer.is_ok(), "{n}: {answer:?}");
    }
}

/// From the review: following took any principal (the management canister's empty id, a
/// user's), which the client would then fail to read at every look.
#[test]
fn only_another_canister_can_be_followed() {
    let mut s = vault_of_owner();
    let me = canister();
    for named in [
        Principal::management_canister(),
        Principal::anonymous(),
        p(3),
        me,
    ] {
        let answer = s.answer_share(
            &p(OWNER),
            T0,
            &me,
            AnswerShareArgs {
                vault: named,
                follow: true,
            },
        );
        assert!(
            matches!(answer, Err(VaultError::InvalidArgument { .. })),
            "{named}: {answer:?}"
        );
    }
    assert_eq!(s.inbox(&p(OWNER)).unwrap(), Inbox::default());
}

/// A vault whose notices the owner dismissed is not noticed again, until they follow it; the
/// dismissals are bounded, the oldest forgotten first.
#[test]
fn a_dismissed_vault_is_not_noticed_again() {
    let mut s = vault_of_owner();
    let me = canister();
    let answer = |s: &mut State<VectorMemory>, n: u64, follow: bool, at: u64| {
        s.answer_share(
            &p(OWNER),
            at,
            &me,
            AnswerShareArgs {
                vault: vault(n),
                follow,
            },
        )
        .unwrap()
    };
    s.notify_shared(&p(ALICE), T0, &me, vault(1)).unwrap();
    answer(&mut s, 1, false, T0);
    s.notify_shared(&stranger(1), T0, &me, vault(1)).unwrap();
    assert_eq!(s.inbox(&p(OWNER)).unwrap(), Inbox::default());
    // Followed after all: shown, and no longer dismissed.
    answer(&mut s, 1, true, T0);
    answer(&mut s, 1, false, T0);
    for n in 0..crate::model::MAX_DISMISSED as u64 {
        answer(&mut s, 1000 + n, false, T0 + 1 + n);
    }
    // Vault 1's dismissal, the oldest, was forgotten: its notice is noted again.
    s.notify_shared(&p(ALICE), T0 + HOUR_NS, &me, vault(1))
        .unwrap();
    assert_eq!(notices(&s), vec![(vault(1), p(ALICE))]);
    // The newest are kept.
    s.notify_shared(&p(ALICE), T0 + HOUR_NS, &me, vault(1999))
        .unwrap();
    assert_eq!(notices(&s).len(), 1);
}

/// What the inbox holds is exactly its notices (twice: by vault and by sender), the hour's
/// count, follows and dismissals: eviction and answers leave nothing behind.
#[test]
fn the_inbox_map_holds_nothing_but_what_it_lists() {
    let mut s = vault_of_owner();
    let me = canister();
    let mut at = T0;
    for n in 0..(MAX_NOTICES as u64 + 40) {
        if n % MAX_NOTICES_PER_HOUR as u64 == 0 {
            at += HOUR_NS;
        }
        s.notify_shared(&stranger(n % 90), at, &me, vault(n))
            .unwrap_or(());
    }
    s.answer_share(
        &p(OWNER),
        at,
        &me,
        AnswerShareArgs {
            vault: notices(&s)[3].0,
            follow: true,
        },
    )
    .unwrap();
    let inbox = s.inbox(&p(OWNER)).unwrap();
    assert!(inbox.notices.len() <= MAX_NOTICES);
    assert_eq!(
        s.inbox.len(),
        2 * inbox.notices.len() as u64 + 1 + inbox.followed.len() as u64,
    );
}
