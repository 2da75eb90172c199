//! What can go wrong, each with what to do about it, and the exit code the command line uses.

use vault_interface::types::VaultError;

/// Exit codes of the `vault` command line (documented in its `--help` and the README).
pub mod exit {
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
}

/// Every failure of the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No unlocked key for this vault on this machine.
    #[error("the vault is locked: run `vault unlock` (or set VAULT_PASSPHRASE)")]
    Locked,
    /// No vault known for this identity on this network.
    #[error(
        "no vault on {network} for this identity: run `vault init` (or `vault init --canister ID` for one deployed with dfx)"
    )]
    NoVault {
        /// The network's name.
        network: String,
    },
    /// The passphrase did not unwrap the master key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The recovery words did not unwrap the master key.
    #[error("wrong recovery key: these words are valid but are not this vault's")]
    WrongRecoveryKey,
    /// A link has expired (the canister's [`VaultError::Expired`] for a link holder).
    #[error("this link has expired: ask whoever sent it for a new one")]
    LinkExpired,
    /// The canister refused with a typed error.
    #[error("{}", describe(.0))]
    Vault(VaultError),
    /// The replica's answer could not be had.
    #[error("cannot reach the replica at {url}: {why}")]
    Unreachable {
        /// Where.
        url: String,
        /// Why.
        why: String,
    },
    /// The canister turned the call away before running it (ingress screening), or rejected it.
    #[error("the canister refused the call ({code}): {message}")]
    Rejected {
        /// The IC error code (`IC0406` …).
        code: String,
        /// The replica's message.
        message: String,
    },
    /// Something the canister or agent said that the client did not expect.
    #[error("{0}")]
    Agent(String),
    /// Reading or writing a local file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Input the user gave is wrong; the message says how.
    #[error("{0}")]
    Invalid(String),
    /// Nothing matches what the user named.
    #[error("{0}")]
    NotFound(String),
    /// Encrypted data did not decrypt, or a download's hash did not match.
    #[error("integrity check failed: {0}")]
    Integrity(String),
    /// The identity file is unusable.
    #[error("identity {path}: {why}")]
    Identity {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// The local replica could not be started.
    #[error("the local replica: {0}")]
    Replica(String),
    /// A directory the client keeps its keys and sessions in belongs to another user, or is
    /// open to others and cannot be closed; the message says what to do.
    #[error("{0}")]
    NotPrivate(String),
    /// Some items of a batch failed.
    #[error("{failed} of {total} failed (see above)")]
    Partial {
        /// How many failed.
        failed: usize,
        /// Out of.
        total: usize,
    },
}

#[cfg(not(target_arch = "wasm32"))]
impl From<local_replica::owner_only::OwnerOnlyError> for Error {
    fn from(e: local_replica::owner_only::OwnerOnlyError) -> Self {
        Error::NotPrivate(e.to_string())
    }
}

impl From<VaultError> for Error {
    fn from(e: VaultError) -> Self {
        Error::Vault(e)
    }
}

impl Error {
    /// An [`Error::Io`] saying what was done to which path.
    pub fn io(what: impl std::fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            what: what.to_string(),
            source,
        }
    }

    /// The exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Locked | Error::NoVault { .. } => exit::LOCKED,
            Error::WrongPassphrase | Error::WrongRecoveryKey | Error::Rejected { .. } => {
                exit::REFUSED
            }
            Error::Vault(e) => match e {
                VaultError::NotAuthorized
                | VaultError::WrongPassword
                | VaultError::PasswordRequired { .. }
                | VaultError::RateLimited { .. } => exit::REFUSED,
                VaultError::NotFound => exit::NOT_FOUND,
                VaultError::QuotaExceeded { .. } => exit::QUOTA,
                VaultError::Expired | VaultError::Revoked => exit::EXPIRED,
                VaultError::NotSetUp => exit::LOCKED,
                _ => exit::FAILURE,
            },
            Error::LinkExpired => exit::EXPIRED,
            Error::Unreachable { .. } => exit::UNREACHABLE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Integrity(_) => exit::INTEGRITY,
            Error::Invalid(_) => exit::USAGE,
            Error::Partial { .. } => exit::PARTIAL,
            Error::Agent(_)
            | Error::Io { .. }
            | Error::Identity { .. }
            | Error::Replica(_)
            | Error::NotPrivate(_) => exit::FAILURE,
        }
    }
}

/// What a canister refusal means to the user, and what to do.
pub fn describe(e: &VaultError) -> String {
    match e {
        VaultError::NotAuthorized => "not allowed: this identity has no access to that (check \
                                       `vault identity show`; a device of yours that was removed, \
                                       or signed out by a key rotation, unlocks again with \
                                       `vault unlock`)"
            .into(),
        VaultError::NotFound => "not found in the vault".into(),
        VaultError::AlreadyExists => "already exists".into(),
        VaultError::Duplicate { existing } => {
            format!("already in the vault as {}", hex::encode(existing))
        }
        VaultError::QuotaExceeded { needed, available } => format!(
            "over the quota: needs {} but {} is free — empty the trash (`vault purge`) or raise it (`vault quota`)",
            crate::view::bytes(*needed),
            crate::view::bytes(*available)
        ),
        VaultError::Expired => "this share has expired: ask the owner for a new one".into(),
        VaultError::Revoked => "this link was revoked by its owner".into(),
        VaultError::PasswordRequired { .. } => {
            "this link has a password: pass it with --password".into()
        }
        VaultError::WrongPassword => "wrong link password".into(),
        VaultError::RateLimited { retry_after_ns } => format!(
            "too many wrong passphrases from this device: try again in {} s, or clear the \
             count from a device already unlocked (`vault devices --clear-lockouts`)",
            retry_after_ns.div_ceil(1_000_000_000)
        ),
        VaultError::NotSetUp => "the vault is not set up: run `vault init`".into(),
        VaultError::AlreadySetUp => {
            "the vault is already set up: use `vault unlock` on this device".into()
        }
        VaultError::Conflict { reason } => format!("not now: {reason}"),
        VaultError::InvalidArgument { field, reason } => {
            format!("the canister refused {field}: {reason}")
        }
    }
}
