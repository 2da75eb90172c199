//! What can go wrong, each with what to do about it, in words any front end can show: no
//! command or flag of one front end is named here (the CLI adds its own hints and exit codes).

use vault_interface::types::VaultError;

/// Every failure of the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No unlocked key for this vault on this machine.
    #[error("the vault is locked on this device: unlock it with your passphrase")]
    Locked,
    /// No vault known for this identity on this network.
    #[error("no vault on {network} for this identity yet: create one, or recover yours")]
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
        /// Whether the subnet certified the rejection (the call ran and was rejected). An
        /// uncertified one (turned away at ingress, or by one node) is one node's word.
        certified: bool,
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
    /// No album, file or link is named that.
    #[error("{0}")]
    NoSuch(Missing),
    /// An album shared with this identity to view only, not to add to.
    #[error("`{0}` is shared with you to view only: ask its owner to let you add to it")]
    ViewOnly(String),
    /// Some items of a batch failed (each said why as it failed); the others were done.
    #[error("{failed} of {total} failed")]
    Partial {
        /// How many failed.
        failed: usize,
        /// Out of.
        total: usize,
    },
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
    /// The identity's cycles on the cycles ledger do not pay for what was asked.
    #[error(
        "{principal} holds {balance} cycles on the cycles ledger; this needs {needed}: send \
         cycles to it (from icp-cli: `icp cycles transfer {needed} {principal}`, or convert ICP \
         with `icp cycles mint`), then try again"
    )]
    NotEnoughCycles {
        /// The identity that pays.
        principal: String,
        /// What it holds.
        balance: u128,
        /// What is needed, fees included.
        needed: u128,
    },
    /// The cycles ledger refused or failed; the message says what to do.
    #[error("the cycles ledger: {0}")]
    Ledger(String),
    /// The local replica could not be started.
    #[error("the local replica: {0}")]
    Replica(String),
    /// A directory the client keeps its keys and sessions in belongs to another user, or is
    /// open to others and cannot be closed; the message says what to do.
    #[error("{0}")]
    NotPrivate(String),
}

/// What the user named and nothing matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    /// No album of that name or id.
    Album(String),
    /// No file with that id.
    File(String),
    /// No link with that id or URL.
    Link(String),
    /// Neither an album nor a file (what may be shared or linked).
    Target(String),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Album(name) => write!(f, "no album `{name}`"),
            Missing::File(id) => write!(f, "no file `{id}`"),
            Missing::Link(id) => write!(f, "no link `{id}`"),
            Missing::Target(text) => write!(f, "`{text}` is neither an album nor a file"),
        }
    }
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
}

/// What a canister refusal means to the user, and what to do.
pub fn describe(e: &VaultError) -> String {
    match e {
        VaultError::NotAuthorized => "not allowed: this identity has no access to that (a device \
                                       of yours that was removed, or signed out by a key \
                                       rotation, unlocks again with the passphrase)"
            .into(),
        VaultError::NotFound => "not found in the vault".into(),
        VaultError::AlreadyExists => "already exists".into(),
        VaultError::Duplicate { existing } => {
            format!("already in the vault as {}", hex::encode(existing))
        }
        VaultError::QuotaExceeded { needed, available } => format!(
            "over the quota: needs {} but {} is free — empty the trash or raise the quota",
            crate::records::bytes(*needed),
            crate::records::bytes(*available)
        ),
        VaultError::Expired => "this share has expired: ask the owner for a new one".into(),
        VaultError::Revoked => "this link was revoked by its owner".into(),
        VaultError::PasswordRequired { .. } => "this link has a password: give it".into(),
        VaultError::WrongPassword => "wrong link password".into(),
        VaultError::RateLimited { retry_after_ns } => format!(
            "too many wrong passphrases from this device: try again in {} s, or clear the \
             count from a device already unlocked",
            retry_after_ns.div_ceil(1_000_000_000)
        ),
        VaultError::NotSetUp => "the vault is not set up yet: create it".into(),
        VaultError::AlreadySetUp => {
            "the vault is already set up: unlock it with its passphrase on this device".into()
        }
        VaultError::Conflict { reason } => format!("not now: {reason}"),
        VaultError::InvalidArgument { field, reason } => {
            format!("the canister refused {field}: {reason}")
        }
    }
}
