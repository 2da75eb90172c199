//! What `vault` exits with, and the hints it adds to vault-client's errors: the commands and
//! flags that help (vault-client's own words name none, so the app can show them as they are).

use vault_client::Error;
use vault_client::error::Missing;
use vault_client::types::VaultError;

/// Something else failed (I/O, an unexpected answer).
pub const FAILURE: u8 = 1;
/// The command line was wrong.
pub const USAGE: u8 = 2;
/// The vault is locked, or not set up: unlock or init first.
pub const LOCKED: u8 = 3;
/// Refused: this identity may not do that, or the secret was wrong.
pub const REFUSED: u8 = 4;
/// No such file, album, grant or link.
pub const NOT_FOUND: u8 = 5;
/// The replica could not be reached.
pub const UNREACHABLE: u8 = 6;
/// The quota would be exceeded.
pub const QUOTA: u8 = 7;
/// Data failed its integrity check (decryption or hash).
pub const INTEGRITY: u8 = 8;
/// A grant or link has expired or was revoked.
pub const EXPIRED: u8 = 9;
/// Some files of a batch failed (the others were done).
pub const PARTIAL: u8 = 10;

/// The exit code for `e`.
pub fn code(e: &Error) -> u8 {
    match e {
        Error::Locked | Error::NoVault { .. } => LOCKED,
        Error::WrongPassphrase | Error::WrongRecoveryKey | Error::Rejected { .. } => REFUSED,
        Error::Vault(e) => match e {
            VaultError::NotAuthorized
            | VaultError::WrongPassword
            | VaultError::PasswordRequired { .. }
            | VaultError::RateLimited { .. } => REFUSED,
            VaultError::NotFound => NOT_FOUND,
            VaultError::QuotaExceeded { .. } => QUOTA,
            VaultError::Expired | VaultError::Revoked => EXPIRED,
            VaultError::NotSetUp => LOCKED,
            _ => FAILURE,
        },
        Error::LinkExpired => EXPIRED,
        Error::NotEnoughCycles { .. } => REFUSED,
        Error::Ledger(_) => FAILURE,
        Error::Unreachable { .. } => UNREACHABLE,
        Error::NotFound(_) | Error::NoSuch(_) => NOT_FOUND,
        Error::Integrity(_) => INTEGRITY,
        Error::Invalid(_) | Error::ViewOnly(_) => USAGE,
        Error::Partial { .. } => PARTIAL,
        Error::Agent(_)
        | Error::Io { .. }
        | Error::Identity { .. }
        | Error::Replica(_)
        | Error::NotPrivate(_) => FAILURE,
    }
}

/// The `vault` commands or flags that help with `e`, if any.
pub fn hint(e: &Error) -> Option<&'static str> {
    Some(match e {
        Error::Locked => "run `vault unlock` (or set VAULT_PASSPHRASE)",
        Error::NoVault { .. } => {
            "run `vault init` (or `vault init --canister ID` for one deployed with dfx), or `vault recover`"
        }
        Error::NoSuch(Missing::Album(_)) => "see `vault album ls`",
        Error::NoSuch(Missing::File(_)) => "see `vault ls`",
        Error::NoSuch(Missing::Link(_)) => "see `vault link ls`",
        Error::NoSuch(Missing::Target(_)) => "see `vault album ls` and `vault ls`",
        Error::ViewOnly(_) => "they can share it again with `vault share ALBUM --contribute`",
        Error::Partial { .. } => "each failure is said above",
        Error::Vault(e) => match e {
            VaultError::NotAuthorized => {
                "check `vault identity show`; a removed device unlocks again with `vault unlock`"
            }
            VaultError::QuotaExceeded { .. } => {
                "`vault purge` empties the trash, `vault quota` raises the quota"
            }
            VaultError::PasswordRequired { .. } => "pass it with --password",
            VaultError::RateLimited { .. } => {
                "an unlocked device clears the count with `vault devices --clear-lockouts`"
            }
            VaultError::NotSetUp => "run `vault init`",
            VaultError::AlreadySetUp => "run `vault unlock` on this device",
            _ => return None,
        },
        _ => return None,
    })
}

/// How `vault` says `e`: vault-client's words, and its hint.
pub fn message(e: &Error) -> String {
    match hint(e) {
        Some(hint) => format!("{e} ({hint})"),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_names_its_commands_and_the_client_does_not() {
        let locked = Error::Locked;
        assert!(!locked.to_string().contains("vault unlock"));
        assert!(message(&locked).contains("`vault unlock`"));
        assert_eq!(code(&locked), LOCKED);
        let album = Error::NoSuch(Missing::Album("Trip".into()));
        assert_eq!(message(&album), "no album `Trip` (see `vault album ls`)");
        assert_eq!(code(&album), NOT_FOUND);
        let password = Error::Vault(VaultError::PasswordRequired { iterations: 1 });
        assert!(!password.to_string().contains("--password"));
        assert!(message(&password).contains("--password"));
        assert_eq!(
            code(&Error::Partial {
                failed: 1,
                total: 2
            }),
            PARTIAL
        );
    }
}
