//! What each command does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use candid::Principal;
use indicatif::{ProgressBar, ProgressStyle};
use vault_client::export::Reader;
use vault_client::links::{OpenedLink, parse_link_url};
use vault_client::network::Network;
use vault_client::records::bytes;
use vault_client::sharing::{ShareTarget, SharedWithMe, now_ns};
use vault_client::types::*;
use vault_client::upload::{Pass, UploadOptions, UploadOutcome, UploadProgress, Uploaded};
use vault_client::vault::parse_principal;
use vault_client::{
    Connection, Error, Home, Identity, Session, Settings, VaultOverview, cost, unlocked,
};
use vault_crypto::{KdfParams, ShareCode};

use crate::args::*;
use crate::output;
use crate::secrets;
use crate::view;

mod files;
mod keys;
mod sharing;

use files::*;
use keys::*;
use sharing::*;

fn home() -> Result<Home, Error> {
    Home::from_env()
}

fn network(cli: &Cli, home: &Home) -> Result<Network, Error> {
    match &cli.network {
        Some(name) => Network::parse(name),
        None => match Settings::load(home)?.network {
            Some(name) => Network::parse(&name),
            None => Ok(Network::Local {
                port: vault_client::network::LOCAL_PORT,
            }),
        },
    }
}

/// The session a command works through: the network chosen, reached at its URL, or, for the
/// local network, the embedded replica this program starts when none answers.
fn session(cli: &Cli) -> Result<Session, Error> {
    let home = home()?;
    let network = network(cli, &home)?;
    let (identity, created) = Identity::load_or_create(&home)?;
    if created && !cli.json {
        eprintln!(
            "vault: created your identity {} in {}",
            identity.principal(),
            home.identity_file().display()
        );
    }
    let launcher = vault_client::replica::this_program("vault");
    Ok(Session::with_local_replica(
        home,
        network,
        Arc::from(launcher),
    ))
}

/// The session, its vault unlocked by a saved unlock or by a passphrase given for this command
/// (`--passphrase-file`, VAULT_PASSPHRASE), which unlocks it for this command only.
async fn unlocked(cli: &Cli) -> Result<Session, Error> {
    let session = session(cli)?;
    if let Some(passphrase) = secrets::given_passphrase(cli.passphrase_file.as_deref())? {
        session.unlock(None, &passphrase, None).await?;
    }
    Ok(session)
}

fn kdf(kdf: Kdf) -> KdfParams {
    match kdf {
        Kdf::Default => KdfParams::DEFAULT,
        Kdf::LowMemory => KdfParams::LOW_MEMORY,
        Kdf::Minimum => KdfParams::new(19_456, 2, 1).expect("OWASP's floor is allowed"),
    }
}

/// `30m`, `12h`, `7d`, `2w`, `90s`.
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad_duration(text))?;
    let secs = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad_duration(text)),
    };
    Ok(Duration::from_secs(
        n.checked_mul(secs).ok_or_else(|| bad_duration(text))?,
    ))
}

fn bad_duration(text: &str) -> Error {
    Error::Invalid(format!(
        "`{text}` is not a duration: use a number and s, m, h, d or w (30m, 12h, 7d)"
    ))
}

fn expires_at(text: Option<&str>) -> Result<Option<u64>, Error> {
    text.map(|t| {
        parse_duration(t)
            .map(|d| now_ns().saturating_add(d.as_nanos().min(u64::MAX as u128) as u64))
    })
    .transpose()
}

/// `200GiB`, `1.5TiB`, `500MB`, or bytes.
fn parse_size(text: &str) -> Result<u64, Error> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| Error::Invalid(format!("`{text}` is not a size (e.g. 200GiB)")))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kib" | "k" => 1024.0,
        "mib" | "m" => 1024.0 * 1024.0,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        "tib" | "t" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => {
            return Err(Error::Invalid(format!(
                "`{text}`: unknown unit (use KiB, MiB, GiB, TiB)"
            )));
        }
    };
    Ok((n * mult) as u64)
}

pub async fn run(cli: &Cli) -> Result<ExitCode, Error> {
    match &cli.command {
        Command::Replica { .. } => unreachable!("handled before the runtime starts"),
        Command::Init {
            canister,
            kdf: strength,
        } => init(cli, canister, strength).await,
        Command::Unlock { canister, duration } => unlock(cli, canister, duration).await,
        Command::Recover {
            canister,
            recovery_file,
            kdf: strength,
        } => recover(cli, canister, recovery_file, strength).await,
        Command::Passwd { kdf: strength } => passwd(cli, strength).await,
        Command::RecoveryKey => recovery_key(cli).await,
        Command::RotateKeys {
            albums_only,
            keep_links,
        } => rotate_keys(cli, *albums_only, *keep_links).await,
        Command::Lock => lock(cli).await,
        Command::Identity { command } => identity(cli, command).await,
        Command::Devices {
            remove,
            clear_lockouts,
        } => devices(cli, remove, clear_lockouts).await,
        Command::Uploads { abort } => uploads(cli, abort).await,
        Command::Upload { paths, album, to } => upload(cli, paths, album, to).await,
        Command::Ls { album, trash, from } => ls(cli, album, trash, from).await,
        Command::Show { id } => show(cli, id).await,
        Command::Export {
            ids,
            all,
            album,
            from,
            to,
        } => export_files(cli, ids, all, album, from, to).await,
        Command::Album { command } => album(cli, command).await,
        Command::Trash { ids } | Command::Restore { ids } => trash_or_restore(cli, ids).await,
        Command::Purge { ids, all } => purge(cli, ids, all).await,
        Command::Share {
            target,
            with,
            contribute,
            expires,
        } => share(cli, target, with, contribute, expires).await,
        Command::Grants => grants(cli).await,
        Command::Revoke { target, from } => revoke(cli, target, from).await,
        Command::Shared { from, dismiss } => shared(cli, from, dismiss).await,
        Command::Link { command } => link(cli, command).await,
        Command::Log { limit } => log(cli, limit).await,
        Command::Status => status(cli).await,
        Command::Topup { amount, icp } => topup(cli, amount.as_deref(), icp.as_deref()).await,
        Command::Verify => verify(cli).await,
        Command::Upgrade { unreleased } => upgrade(cli, *unreleased).await,
        Command::Quota { size } => quota(cli, size).await,
    }
}

fn short_principal(p: &str) -> String {
    if p.len() > 17 {
        format!("{}…", &p[..16])
    } else {
        p.to_string()
    }
}

fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{} days", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{} hours", s / 3600)
    } else {
        format!("{} minutes", s.div_ceil(60))
    }
}

fn say(cli: &Cli, text: &str) {
    if cli.json {
        output::json(&serde_json::json!({"ok": true, "message": text}));
    } else {
        println!("{text}");
    }
}

/// The first 12 hex digits of an id: what a table shows (any 4 or more name it in commands).
fn short(id: impl std::fmt::Display) -> String {
    id.to_string().chars().take(12).collect()
}

fn print_files(cli: &Cli, files: &[vault_client::records::FileEntry]) -> Result<ExitCode, Error> {
    if cli.json {
        output::json(&view::files(files));
    } else {
        output::files(files);
    }
    Ok(ExitCode::SUCCESS)
}

async fn open_shared(cli: &Cli, from: &str) -> Result<SharedWithMe, Error> {
    let owner = parse_principal(from)?;
    let session = unlocked(cli).await?;
    let vault = session.vault().await?;
    let (secret, _) = vault.sharing_keys().await?;
    SharedWithMe::open(vault.connection(), owner, &secret).await
}
