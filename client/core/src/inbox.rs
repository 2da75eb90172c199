//! The share inbox (docs/PROTOCOL.md §4.6): after a grant, the grantee's vault is told which
//! vault shares with them (`notify_shared`); their client turns the notices into "Shared with
//! me", each checked against the vault it names. A notice is a hint only.

use std::future::Future;
use std::time::Duration;

use candid::Principal;
use vault_interface::types::VaultError;

use crate::canister::NO_SUCH_METHOD;
use crate::{Connection, Error};

/// Vaults named by notices that one look at "Shared with me" checks, newest first: a
/// stranger's notices (up to 256, `MAX_NOTICES`) cannot make one look slow. The rest wait
/// for the next look, as the ones checked are answered.
pub const NOTICES_CHECKED: usize = 8;

/// How long one vault may take to answer a look at "Shared with me", or a notice: past it, the
/// vault is said to be unreadable (one followed) or looked at again next time (one noticed).
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// The items of a new share (a vault not followed yet) listed at most: a stranger's vault may
/// answer with thousands.
pub const NEW_ITEMS_LISTED: usize = 16;

/// `work`'s outcome, or None if it takes longer than `limit`.
pub async fn within<T>(limit: Duration, work: impl Future<Output = T>) -> Option<T> {
    let work = std::pin::pin!(work);
    let timer = std::pin::pin!(crate::platform::sleep(limit));
    match futures_util::future::select(work, timer).await {
        futures_util::future::Either::Left((done, _)) => Some(done),
        futures_util::future::Either::Right(_) => None,
    }
}

/// Whether the grantee's vault was told of a share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Told {
    /// Their vault noted it: the share shows in their "Shared with me".
    Yes,
    /// Their share code names no vault (one made before codes did).
    NoVaultNamed,
    /// Their vault did not take the notice, for this reason.
    Refused(String),
}

impl Told {
    /// What to tell the user who shared (`vault`: their own vault).
    pub fn sentence(&self, vault: &Principal) -> String {
        match self {
            Told::Yes => {
                "Their vault took the notice: they will see it under Shared with me.".into()
            }
            Told::NoVaultNamed => format!(
                "Their share code is an older one, which names no vault: send them your vault \
                 id, {vault}, to add under Shared with me."
            ),
            Told::Refused(why) => format!(
                "Their vault was not told ({why}): send them your vault id, {vault}, to add \
                 under Shared with me."
            ),
        }
    }
}

/// Tells `recipient`'s vault that `mine` shares something with its owner. Never an error:
/// the grant is made whatever this answers; what it answers is said to the user.
pub async fn tell(conn: &Connection, recipient: Option<Principal>, mine: Principal) -> Told {
    let Some(recipient) = recipient else {
        return Told::NoVaultNamed;
    };
    match within(READ_TIMEOUT, conn.vault(recipient).notify_shared(mine)).await {
        Some(Ok(())) => Told::Yes,
        Some(Err(e)) => Told::Refused(refusal(&e)),
        None => Told::Refused("it did not answer".into()),
    }
}

fn refusal(e: &Error) -> String {
    match e {
        Error::Vault(VaultError::RateLimited { .. }) => "it takes no more notices this hour".into(),
        Error::Rejected { code, .. } if code == "IC0406" => {
            "it takes no more notices from you, or none more this hour".into()
        }
        Error::Rejected { code, .. } if code == NO_SUCH_METHOD => {
            "its code is a release from before the share inbox".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_says_why_and_what_to_do() {
        let vault = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 1, 1]);
        let refused = [
            Error::Vault(VaultError::RateLimited { retry_after_ns: 1 }),
            Error::Rejected {
                code: "IC0406".into(),
                message: "no".into(),
                certified: false,
            },
            Error::Rejected {
                code: NO_SUCH_METHOD.into(),
                message: "no".into(),
                certified: true,
            },
        ];
        for e in refused {
            let said = Told::Refused(refusal(&e)).sentence(&vault);
            assert!(said.contains(&vault.to_text()), "{said}");
            assert!(!said.contains("IC0"), "{said}");
        }
        assert!(
            Told::NoVaultNamed
                .sentence(&vault)
                .contains(&vault.to_text())
        );
        assert!(!Told::Yes.sentence(&vault).contains(&vault.to_text()));
    }
}
