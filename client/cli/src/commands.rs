//! What each command does.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};
use std::sync::Mutex;
use std::time::Duration;

use candid::Principal;
use indicatif::{ProgressBar, ProgressStyle};
use vault_client::export::Reader;
use vault_client::links::{OpenedLink, parse_link_url};
use vault_client::network::Network;
use vault_client::replica::{ReplicaAction, ReplicaLauncher};
use vault_client::sharing::{ShareTarget, SharedWithMe, now_ns};
use vault_client::types::*;
use vault_client::upload::{UploadOptions, UploadOutcome, UploadProgress, Uploaded};
use vault_client::vault::{hex_id, parse_principal, remembered_canister, resolve_canister};
use vault_client::view::bytes;
use vault_client::{Connection, Error, Home, Identity, Settings, Vault, cost, unlocked};
use vault_crypto::{KdfParams, ShareCode};

use crate::args::*;
use crate::output;
use crate::secrets;

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

fn launcher() -> Box<ReplicaLauncher> {
    Box::new(|| {
        let mut command =
            Process::new(std::env::current_exe().unwrap_or_else(|_| PathBuf::from("vault")));
        command.arg("replica");
        command
    })
}

async fn connect(cli: &Cli) -> Result<(Home, Connection), Error> {
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
    let conn = vault_client::replica::open(&home, network, identity, &*launcher()).await?;
    Ok((home, conn))
}

/// The vault, unlocked by a session or by a passphrase given for this command.
async fn open_vault(cli: &Cli) -> Result<Vault, Error> {
    let (home, conn) = connect(cli).await?;
    let canister = resolve_canister(&home, &conn, None)?;
    match secrets::given_passphrase(cli.passphrase_file.as_deref())? {
        Some(passphrase) => Vault::unlock(&home, conn, canister, &passphrase, None).await,
        None => Vault::from_session(&home, conn, canister),
    }
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

/// The hidden `vault replica …`: the embedded local replica (served by `vault-client`, which
/// the desktop app's `vault-app replica …` shares).
pub fn replica(command: &ReplicaCommand) -> ExitCode {
    let action = match command {
        ReplicaCommand::Start { port, state_dir } => ReplicaAction::Start {
            port: *port,
            state_dir: state_dir.clone(),
        },
        ReplicaCommand::Stop => ReplicaAction::Stop,
        ReplicaCommand::Status => ReplicaAction::Status,
    };
    action.run("vault replica")
}

struct Bars {
    bar: ProgressBar,
    failed: Mutex<Vec<String>>,
}

impl UploadProgress for Bars {
    fn begin(&self, files: usize, total: u64) {
        self.bar.set_length(total);
        self.bar.set_message(format!("{files} files"));
    }
    fn advance(&self, path: &Path, n: u64) {
        self.bar.inc(n);
        self.bar.set_message(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    }
    fn file_done(&self, path: &Path, result: &Result<Uploaded, Error>) {
        if let Err(e) = result {
            // On stderr whether or not the bar shows (a hidden bar prints nothing).
            self.bar
                .suspend(|| eprintln!("vault: {}: {e}", path.display()));
            self.failed
                .lock()
                .expect("not poisoned")
                .push(path.display().to_string());
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), Error> {
    match &cli.command {
        Command::Replica { .. } => unreachable!("handled before the runtime starts"),
        Command::Init {
            canister,
            kdf: strength,
        } => {
            let (home, conn) = connect(&cli).await?;
            let existing = canister.as_deref().map(parse_principal).transpose()?;
            let passphrase =
                secrets::passphrase(cli.passphrase_file.as_deref(), "Choose a passphrase", true)?;
            vault_client::Passphrase::new(passphrase.as_str())?;
            let (vault, words) = Vault::init(
                &home,
                conn,
                existing,
                &passphrase,
                kdf(*strength),
                unlocked::DEFAULT_SESSION,
            )
            .await?;
            if cli.json {
                output::json(&serde_json::json!({
                    "canister": vault.canister.id().to_text(),
                    "network": vault.conn.network.name(),
                    "principal": vault.conn.me().to_text(),
                    "recovery_key": words.0.as_str(),
                }));
            } else {
                println!(
                    "Your vault is canister {} on {}.",
                    vault.canister.id(),
                    vault.conn.network.name()
                );
                println!();
                println!(
                    "Your recovery key — write it down and keep it safe; it is shown only this once."
                );
                println!("With it you can get into your vault if you forget your passphrase:");
                println!();
                println!("    {}", words.0.as_str());
                println!();
                println!(
                    "The vault is unlocked on this device for 12 hours (`vault lock` forgets the key)."
                );
            }
            Ok(())
        }
        Command::Unlock { canister, duration } => {
            let duration = parse_duration(duration)?;
            let (home, conn) = connect(&cli).await?;
            let named = canister.as_deref().map(parse_principal).transpose()?;
            let id = resolve_canister(&home, &conn, named)?;
            let passphrase =
                secrets::passphrase(cli.passphrase_file.as_deref(), "Passphrase", false)?;
            let vault = Vault::unlock(&home, conn, id, &passphrase, Some(duration)).await?;
            say(
                &cli,
                &format!(
                    "unlocked vault {} for {}",
                    vault.canister.id(),
                    humantime(duration)
                ),
            );
            Ok(())
        }
        Command::Recover {
            canister,
            recovery_file,
            kdf: strength,
        } => {
            let (home, conn) = connect(&cli).await?;
            let named = canister.as_deref().map(parse_principal).transpose()?;
            let id = resolve_canister(&home, &conn, named)?;
            let words = secrets::recovery_words(recovery_file.as_deref())?;
            let new = secrets::new_passphrase()?;
            let vault = Vault::recover(
                &home,
                conn,
                id,
                &words,
                &new,
                kdf(*strength),
                unlocked::DEFAULT_SESSION,
            )
            .await?;
            say(
                &cli,
                &format!(
                    "recovered vault {}: the new passphrase is set, and it is unlocked here",
                    vault.canister.id()
                ),
            );
            Ok(())
        }
        Command::Passwd { kdf: strength } => {
            let vault = open_vault(&cli).await?;
            let new = secrets::new_passphrase()?;
            vault.change_passphrase(&new, kdf(*strength)).await?;
            say(
                &cli,
                "passphrase changed (your recovery key stays the same)",
            );
            Ok(())
        }
        Command::RecoveryKey => {
            let vault = open_vault(&cli).await?;
            let words = vault.rotate_recovery_key().await?;
            if cli.json {
                output::json(&serde_json::json!({ "recovery_key": words.0.as_str() }));
            } else {
                println!("Your new recovery key — write it down; it is shown only this once.");
                println!("The old one no longer opens the vault:");
                println!();
                println!("    {}", words.0.as_str());
                println!();
            }
            Ok(())
        }
        Command::RotateKeys {
            albums_only,
            keep_links,
        } => rotate_keys(&cli, *albums_only, *keep_links).await,
        Command::Lock => {
            let home = home()?;
            let (identity, _) = Identity::load_or_create(&home)?;
            let net = network(&cli, &home)?;
            let settings = Settings::load(&home)?;
            let forgot = match settings.vaults.get(&net.name()) {
                Some(id) => unlocked::forget(&home, &parse_principal(id)?, &identity.principal()),
                None => false,
            };
            say(
                &cli,
                if forgot {
                    "locked: the key is forgotten on this device"
                } else {
                    "already locked"
                },
            );
            Ok(())
        }
        Command::Identity { command } => identity(&cli, command).await,
        Command::Devices {
            remove,
            clear_lockouts,
        } => {
            let vault = open_vault(&cli).await?;
            if *clear_lockouts {
                let cleared = vault.clear_unlock_failures().await?;
                say(
                    &cli,
                    &format!("cleared the wrong-passphrase counts of {cleared} caller(s)"),
                );
                return Ok(());
            }
            if let Some(device) = remove {
                vault.remove_device(parse_principal(device)?).await?;
                say(
                    &cli,
                    &format!(
                        "removed device {device}. It can no longer reach your vault; if whoever \
                         has it may know your passphrase or recovery words, replace them \
                         (`vault passwd`, `vault recovery-key`)"
                    ),
                );
                return Ok(());
            }
            let devices = vault.devices().await?;
            if cli.json {
                output::json(&devices);
            } else if devices.is_empty() {
                println!(
                    "no other devices (`vault unlock --canister ID` on another one admits it)"
                );
            } else {
                let rows: Vec<Vec<String>> = devices
                    .iter()
                    .map(|d| {
                        vec![
                            d.principal.clone(),
                            d.added_at.clone(),
                            if d.this_device {
                                "this one".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect();
                output::table(&["DEVICE", "ADDED", ""], &rows);
            }
            Ok(())
        }
        Command::Uploads { abort } => {
            let mut vault = open_vault(&cli).await?;
            let uploads = vault.pending_uploads().await?;
            if let Some(wanted) = abort {
                let wanted = wanted.trim().to_ascii_lowercase();
                let matching: Vec<_> = uploads
                    .iter()
                    .filter(|u| !wanted.is_empty() && u.id.starts_with(&wanted))
                    .collect();
                let upload = match matching.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(Error::NotFound(format!(
                            "no upload in progress has id {wanted} (`vault uploads` lists them)"
                        )));
                    }
                    _ => {
                        return Err(Error::Invalid(format!(
                            "{} uploads start with {wanted}: give more of the id",
                            matching.len()
                        )));
                    }
                };
                vault.abort_upload(&hex_id(&upload.id)?).await?;
                say(
                    &cli,
                    &format!(
                        "aborted upload {} by {}: {} freed",
                        upload.id,
                        upload.uploader,
                        bytes(upload.reserved_bytes)
                    ),
                );
                return Ok(());
            }
            if cli.json {
                output::json(&uploads);
            } else if uploads.is_empty() {
                println!("no uploads in progress");
            } else {
                let rows: Vec<Vec<String>> = uploads
                    .iter()
                    .map(|u| {
                        vec![
                            u.id.clone(),
                            if u.mine {
                                "you".into()
                            } else {
                                short_principal(&u.uploader)
                            },
                            u.album_name
                                .clone()
                                .or_else(|| u.album.as_ref().map(|a| a[..12].to_string()))
                                .unwrap_or_default(),
                            format!("{}/{} chunks", u.chunks_received, u.chunk_count),
                            bytes(u.reserved_bytes),
                            u.expires_at.clone(),
                        ]
                    })
                    .collect();
                output::table(
                    &["ID", "WHO", "ALBUM", "SENT", "RESERVED", "EXPIRES"],
                    &rows,
                );
            }
            Ok(())
        }
        Command::Upload { paths, album, to } => {
            let mut vault = open_vault(&cli).await?;
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            let bars = Bars {
                bar,
                failed: Mutex::new(Vec::new()),
            };
            let results = match to {
                Some(owner) => {
                    let owner = parse_principal(owner)?;
                    let album = album.as_deref().expect("clap requires --album with --to");
                    vault.upload_shared(owner, album, paths, &bars).await?
                }
                None => {
                    let options = UploadOptions {
                        album: album.clone(),
                    };
                    vault.upload(paths, &options, &bars).await?
                }
            };
            bars.bar.finish_and_clear();
            let total = results.len();
            let mut done = Vec::new();
            let mut failed = Vec::new();
            for r in results {
                match r {
                    Ok(u) => done.push(u),
                    Err((path, e)) => {
                        failed.push(serde_json::json!({"path": path, "error": e.to_string()}))
                    }
                }
            }
            if cli.json {
                output::json(&serde_json::json!({"files": done, "failed": failed}));
            } else {
                for u in &done {
                    println!("{}  {:<9}  {}", &u.id[..12], u.outcome, u.path.display());
                    if let Some(why) = &u.no_thumbnail {
                        println!("              stored without a thumbnail: {why}");
                    }
                }
                let sent: u64 = done
                    .iter()
                    .filter(|u| u.outcome != UploadOutcome::Duplicate)
                    .map(|u| u.size)
                    .sum();
                let dups = done
                    .iter()
                    .filter(|u| u.outcome == UploadOutcome::Duplicate)
                    .count();
                println!(
                    "{} of {total} files stored ({}){}",
                    done.len() - dups,
                    bytes(sent),
                    if dups > 0 {
                        format!(", {dups} already in the vault")
                    } else {
                        String::new()
                    }
                );
            }
            if failed.is_empty() {
                Ok(())
            } else {
                Err(Error::Partial {
                    failed: failed.len(),
                    total,
                })
            }
        }
        Command::Ls { album, trash, from } => {
            if let Some(from) = from {
                let shared = open_shared(&cli, from).await?;
                let infos = shared.files(album.as_deref()).await?;
                let entries = infos
                    .iter()
                    .map(|i| shared.reader.entry(i))
                    .collect::<Result<Vec<_>, _>>()?;
                return print_files(&cli, &entries);
            }
            let mut vault = open_vault(&cli).await?;
            let files = vault.list(album.as_deref(), *trash).await?;
            print_files(&cli, &files)
        }
        Command::Show { id } => {
            let mut vault = open_vault(&cli).await?;
            let ids = vault.resolve_files(std::slice::from_ref(id)).await?;
            let (entry, _) = vault.show(&ids[0]).await?;
            if cli.json {
                output::json(&entry);
            } else {
                let v = serde_json::to_value(&entry).expect("serialises");
                for (k, val) in v.as_object().expect("an object") {
                    if !val.is_null() {
                        println!("{k:>14}: {}", val.to_string().trim_matches('"'));
                    }
                }
            }
            Ok(())
        }
        Command::Export {
            ids,
            all,
            album,
            from,
            to,
        } => {
            if ids.is_empty() && !*all {
                return Err(Error::Invalid("name files to export, or --all".into()));
            }
            std::fs::create_dir_all(to)
                .map_err(|e| Error::io(format!("creating {}", to.display()), e))?;
            if let Some(from) = from {
                let shared = open_shared(&cli, from).await?;
                let mut infos = shared.files(album.as_deref()).await?;
                if !*all {
                    let named = |i: &FileInfo, p: &String| {
                        hex::encode(&i.id).starts_with(&p.to_ascii_lowercase())
                    };
                    // An id nothing shared matches is an error, not an export of nothing.
                    if let Some(missing) = ids.iter().find(|p| !infos.iter().any(|i| named(i, p))) {
                        return Err(Error::NotFound(format!(
                            "no file `{missing}` is shared with you in vault {from}"
                        )));
                    }
                    infos.retain(|i| ids.iter().any(|p| named(i, p)));
                }
                return export(&cli, &shared.reader, &infos, to).await;
            }
            let mut vault = open_vault(&cli).await?;
            let infos = if *all {
                let album_id = match album {
                    Some(a) => Some(vault_client::vault::hex_id(&vault.find_album(a).await?.id)?),
                    None => None,
                };
                vault.load_albums().await?;
                vault.reader().list_infos(album_id, false).await?
            } else {
                let ids = vault.resolve_files(ids).await?;
                vault.load_albums().await?;
                let mut infos = Vec::new();
                for id in ids {
                    infos.push(vault.canister.get_file(&id, None).await?);
                }
                infos
            };
            let reader = vault.reader();
            export(&cli, reader, &infos, to).await
        }
        Command::Album { command } => album(&cli, command).await,
        Command::Trash { ids } | Command::Restore { ids } => {
            let mut vault = open_vault(&cli).await?;
            let resolved = vault.resolve_files(ids).await?;
            let trash = matches!(cli.command, Command::Trash { .. });
            if trash {
                vault.trash(&resolved).await?
            } else {
                vault.restore(&resolved).await?
            }
            say(
                &cli,
                &format!(
                    "{} {} file(s)",
                    if trash { "trashed" } else { "restored" },
                    resolved.len()
                ),
            );
            Ok(())
        }
        Command::Purge { ids, all } => {
            let mut vault = open_vault(&cli).await?;
            let resolved = if *all {
                vault
                    .list(None, true)
                    .await?
                    .iter()
                    .map(|f| vault_client::vault::hex_id(&f.id))
                    .collect::<Result<Vec<_>, _>>()?
            } else if ids.is_empty() {
                return Err(Error::Invalid(
                    "name trashed files to purge, or --all".into(),
                ));
            } else {
                vault.resolve_files(ids).await?
            };
            vault.purge(&resolved).await?;
            say(&cli, &format!("purged {} file(s) for good", resolved.len()));
            Ok(())
        }
        Command::Share {
            target,
            with,
            contribute,
            expires,
        } => {
            let mut vault = open_vault(&cli).await?;
            let target = vault.share_target(target).await?;
            let permission = if *contribute {
                Permission::Contribute
            } else {
                Permission::View
            };
            let grant = vault
                .share(&target, with, permission, expires_at(expires.as_deref())?)
                .await?;
            if cli.json {
                output::json(
                    &serde_json::json!({"grant": grant, "vault": vault.canister.id().to_text()}),
                );
            } else {
                println!(
                    "shared {} {} with {} ({}){}",
                    grant.kind,
                    grant.name.as_deref().unwrap_or(&grant.target),
                    grant.grantee,
                    grant.permission,
                    grant
                        .expires_at
                        .as_ref()
                        .map(|t| format!(" until {t}"))
                        .unwrap_or_default()
                );
                println!(
                    "They can see it with: vault shared --from {}",
                    vault.canister.id()
                );
            }
            Ok(())
        }
        Command::Grants => {
            let mut vault = open_vault(&cli).await?;
            let grants = vault.grants().await?;
            if cli.json {
                output::json(&grants);
            } else if grants.is_empty() {
                println!("nothing is shared with anyone");
            } else {
                let rows: Vec<Vec<String>> = grants
                    .iter()
                    .map(|g| {
                        vec![
                            g.kind.clone(),
                            g.name.clone().unwrap_or_else(|| g.target[..12].to_string()),
                            g.grantee.clone(),
                            g.permission.clone(),
                            match (&g.expires_at, g.expired) {
                                (Some(t), true) => format!("expired {t}"),
                                (Some(t), false) => t.clone(),
                                (None, _) => "never".into(),
                            },
                        ]
                    })
                    .collect();
                output::table(&["KIND", "WHAT", "WHO", "MAY", "EXPIRES"], &rows);
            }
            Ok(())
        }
        Command::Revoke { target, from } => {
            let mut vault = open_vault(&cli).await?;
            let target = vault.share_target(target).await?;
            let who = match ShareCode::parse(from) {
                Ok(code) => Principal::try_from_slice(&code.principal)
                    .map_err(|e| Error::Invalid(format!("share code: {e}")))?,
                Err(_) => parse_principal(from)?,
            };
            vault.revoke(&target, who).await?;
            say(
                &cli,
                &format!(
                    "revoked {who}{}",
                    if matches!(target, ShareTarget::Album(_)) {
                        "; the album's key was rotated, so what you add from now on is closed to them"
                    } else {
                        ""
                    }
                ),
            );
            Ok(())
        }
        Command::Shared { from } => {
            let home = home()?;
            let mut settings = Settings::load(&home)?;
            if let Some(from) = from {
                parse_principal(from)?;
                if !settings.shared.contains(from) {
                    settings.shared.push(from.clone());
                    settings.save(&home)?;
                }
            }
            let mut all = Vec::new();
            for canister in &settings.shared {
                let shared = open_shared(&cli, canister).await?;
                all.extend(shared.entries().await?);
            }
            if cli.json {
                output::json(&all);
            } else if all.is_empty() {
                println!(
                    "nothing is shared with you (or add the sharer's vault with --from CANISTER)"
                );
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|e| {
                        vec![
                            e.kind.clone(),
                            e.name.clone().unwrap_or_else(|| e.id[..12].to_string()),
                            e.permission.clone(),
                            e.expires_at.clone().unwrap_or_else(|| "never".into()),
                            e.vault.clone(),
                        ]
                    })
                    .collect();
                output::table(&["KIND", "NAME", "MAY", "EXPIRES", "VAULT"], &rows);
            }
            Ok(())
        }
        Command::Link { command } => link(&cli, command).await,
        Command::Log { limit } => {
            let vault = open_vault(&cli).await?;
            let log = vault.log(*limit).await?;
            if cli.json {
                output::json(&log.entries);
            } else {
                let rows: Vec<Vec<String>> = log
                    .entries
                    .iter()
                    .map(|e| vec![e.time.clone(), short_principal(&e.caller), e.what.clone()])
                    .collect();
                output::table(&["WHEN", "WHO", "WHAT"], &rows);
            }
            if log.more {
                eprintln!(
                    "vault: the newest {} entries; older ones exist: `vault log --limit N` shows more",
                    log.entries.len()
                );
            }
            Ok(())
        }
        Command::Status => {
            let (home, conn) = connect(&cli).await?;
            let canister = remembered_canister(&home, &conn)?.ok_or_else(|| Error::NoVault {
                network: conn.network.name(),
            })?;
            let vault = conn.vault(canister);
            let info = vault.vault_info().await?;
            let unlocked = unlocked::load(&home, &canister, &conn.me()).is_some();
            let costs = cost::costs(info.used_bytes);
            if cli.json {
                output::json(&serde_json::json!({
                    "canister": canister.to_text(),
                    "network": conn.network.name(),
                    "url": conn.network.url(),
                    "principal": conn.me().to_text(),
                    "unlocked": unlocked,
                    "files": info.files,
                    "albums": info.albums,
                    "trashed_files": info.trashed_files,
                    "used_bytes": info.used_bytes,
                    "reserved_bytes": info.reserved_bytes,
                    "quota_bytes": info.quota_bytes,
                    "stable_memory_bytes": info.stable_memory_bytes,
                    "canister_version": info.version,
                    "cost": costs,
                }));
            } else {
                println!(
                    "vault      {canister} on {} ({})",
                    conn.network.name(),
                    conn.network.url()
                );
                println!(
                    "you        {}{}",
                    conn.me(),
                    if unlocked { "" } else { " (locked)" }
                );
                println!(
                    "files      {} ({} in the trash), {} albums",
                    info.files, info.trashed_files, info.albums
                );
                println!(
                    "used       {} of {} ({} reserved by uploads in progress)",
                    bytes(info.used_bytes),
                    bytes(info.quota_bytes),
                    bytes(info.reserved_bytes)
                );
                println!(
                    "on the IC  storing this costs ${:.4}/month (${:.3} per GiB-month); uploading costs ${:.4} per GiB",
                    costs.storage_usd_per_month, costs.usd_per_gib_month, costs.upload_usd_per_gib
                );
            }
            Ok(())
        }
        Command::Quota { size } => {
            let vault = open_vault(&cli).await?;
            let bytes_wanted = parse_size(size)?;
            vault.canister.set_quota(bytes_wanted).await?;
            say(&cli, &format!("quota set to {}", bytes(bytes_wanted)));
            Ok(())
        }
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

/// `vault rotate-keys`: the master key, then every album's key.
async fn rotate_keys(cli: &Cli, albums_only: bool, keep_links: bool) -> Result<(), Error> {
    let mut vault = open_vault(cli).await?;
    let mut rotation = None;
    if !albums_only {
        let had_session = vault.has_session();
        let passphrase = secrets::passphrase(
            cli.passphrase_file.as_deref(),
            "Passphrase (to wrap the new key): ",
            false,
        )?;
        let done = vault
            .rotate_master_key(
                &passphrase,
                had_session.then_some(unlocked::DEFAULT_SESSION),
            )
            .await?;
        if !cli.json {
            println!(
                "The master key is replaced (generation {}); {} other device(s) signed out: \
                 each unlocks again with the passphrase.",
                done.generation, done.devices_signed_out
            );
            println!("Your new recovery key — write it down; it is shown only this once.");
            println!("The old one no longer opens the vault:");
            println!();
            println!("    {}", done.recovery_words.0.as_str());
            println!();
        }
        rotation = Some(done);
    }
    // Before the albums: their new keys are then wrapped only for the links left.
    let links_revoked = if keep_links {
        0
    } else {
        vault.revoke_links_from_before_rotation().await?
    };
    let bar = (!cli.json).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("new album keys {pos}/{len}").expect("a valid template"),
        );
        bar
    });
    let albums = vault
        .rotate_album_keys(|done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
        })
        .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let now = now_ns();
    let live_links = vault
        .canister
        .list_links()
        .await?
        .iter()
        .filter(|l| l.revoked_at.is_none() && l.expires_at.is_none_or(|t| t > now))
        .count();
    // Grants stay (the people you share with keep access, with the albums' new keys); one the
    // lost device made while it was yours would too: the owner reviews them.
    let grants = vault.canister.list_grants(None).await?.len();
    if cli.json {
        output::json(&serde_json::json!({
            "generation": rotation.as_ref().map(|r| r.generation),
            "devices_signed_out": rotation.as_ref().map(|r| r.devices_signed_out),
            "recovery_key": rotation.as_ref().map(|r| r.recovery_words.0.as_str()),
            "albums_rotated": albums.rotated,
            "albums_failed": albums
                .failed
                .iter()
                .map(|(album, e)| serde_json::json!({ "album": album, "error": e.to_string() }))
                .collect::<Vec<_>>(),
            "links_revoked": links_revoked,
            "live_links": live_links,
            "grants": grants,
        }));
    } else {
        println!("{} album(s) given a new key.", albums.rotated);
        if links_revoked > 0 {
            println!(
                "{links_revoked} link(s) made before the rotation revoked (the lost device could \
                 read them): make new ones for the people who need them (`vault link create`)."
            );
        }
        for (album, e) in &albums.failed {
            eprintln!("album {album}: not rotated: {e}");
        }
        if grants > 0 {
            println!(
                "{grants} grant(s) keep access, with the new album keys: check them with \
                 `vault grants` (one the lost device made would be there too) and revoke any \
                 you did not make."
            );
        }
        if keep_links && live_links > 0 {
            println!(
                "{live_links} link(s) still open: whoever holds one — the lost device too, if it \
                 listed them — can open it. `vault link ls` lists them; `vault link revoke` stops one."
            );
        }
    }
    if albums.failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{} album(s) kept their old key: run `vault rotate-keys --albums-only` again",
            albums.failed.len()
        )))
    }
}

fn say(cli: &Cli, text: &str) {
    if cli.json {
        output::json(&serde_json::json!({"ok": true, "message": text}));
    } else {
        println!("{text}");
    }
}

fn print_files(cli: &Cli, files: &[vault_client::view::FileEntry]) -> Result<(), Error> {
    if cli.json {
        output::json(files);
    } else {
        output::files(files);
    }
    Ok(())
}

async fn open_shared(cli: &Cli, from: &str) -> Result<SharedWithMe, Error> {
    let owner = parse_principal(from)?;
    let vault = open_vault(cli).await?;
    let (secret, _) = vault.sharing_keys().await?;
    SharedWithMe::open(&vault.conn, owner, &secret).await
}

async fn export(cli: &Cli, reader: &Reader, infos: &[FileInfo], to: &Path) -> Result<(), Error> {
    let bar = ProgressBar::new(infos.len() as u64);
    let mut done = Vec::new();
    let mut failed = 0;
    for info in infos {
        match reader.export(info, to).await {
            Ok(e) => done.push(e),
            Err(e) => {
                failed += 1;
                bar.println(format!("vault: {}: {e}", hex::encode(&info.id)));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if cli.json {
        output::json(&done);
    } else {
        for e in &done {
            println!("{}  {}", &e.id[..12], e.path.display());
        }
        println!("exported {} file(s) to {}", done.len(), to.display());
    }
    if failed > 0 {
        Err(Error::Partial {
            failed,
            total: infos.len(),
        })
    } else {
        Ok(())
    }
}

async fn identity(cli: &Cli, command: &IdentityCommand) -> Result<(), Error> {
    match command {
        IdentityCommand::Show => {
            // From the unlocked sharing secret, not from the canister's anonymous answer.
            let vault = open_vault(cli).await?;
            let code = vault_client::sharing::my_share_code(&vault).await?;
            if cli.json {
                output::json(&code);
            } else {
                println!("principal    {}", code.principal);
                println!("share code   {}", code.share_code);
                println!("fingerprint  {}", code.fingerprint);
                println!();
                println!("Give the share code to people who want to share with you; read the");
                println!("fingerprint words to each other to be sure it is yours.");
            }
            Ok(())
        }
        IdentityCommand::Import { file, force } => {
            let home = home()?;
            let path = home.identity_file();
            if path.exists() && !force {
                return Err(Error::Invalid(format!(
                    "{} exists: pass --force to replace it (keep a copy: it is the only key to its vault's ownership)",
                    path.display()
                )));
            }
            let pem = std::fs::read(file)
                .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
            let identity = Identity::import(&pem, &file.display().to_string(), &home)?;
            say(cli, &format!("now using identity {}", identity.principal()));
            Ok(())
        }
    }
}

async fn album(cli: &Cli, command: &AlbumCommand) -> Result<(), Error> {
    let mut vault = open_vault(cli).await?;
    match command {
        AlbumCommand::Create { name } => {
            let album = vault.create_album(name).await?;
            if cli.json {
                output::json(&album)
            } else {
                println!("created album {} ({})", album.name, &album.id[..12])
            }
        }
        AlbumCommand::Rename { album, new_name } => {
            let album = vault.rename_album(album, new_name).await?;
            say(cli, &format!("renamed to {}", album.name));
        }
        AlbumCommand::Add { album, ids } => {
            let ids = vault.resolve_files(ids).await?;
            let moved = vault.move_files(&ids, Some(album)).await?;
            say(cli, &format!("added {} file(s) to {album}", moved.len()));
        }
        AlbumCommand::Remove { ids } => {
            let ids = vault.resolve_files(ids).await?;
            let moved = vault.move_files(&ids, None).await?;
            say(
                cli,
                &format!("took {} file(s) out of their album", moved.len()),
            );
        }
        AlbumCommand::Ls => {
            let albums = vault.albums().await?;
            if cli.json {
                output::json(&albums)
            } else {
                output::albums(&albums)
            }
        }
        AlbumCommand::Delete { album } => {
            let album = vault.delete_album(album).await?;
            say(cli, &format!("deleted album {}", album.name));
        }
    }
    Ok(())
}

async fn link(cli: &Cli, command: &LinkCommand) -> Result<(), Error> {
    match command {
        LinkCommand::Create {
            target,
            expires,
            password,
            label,
        } => {
            let mut vault = open_vault(cli).await?;
            let target = vault.share_target(target).await?;
            let link = vault
                .create_link(
                    &target,
                    expires_at(expires.as_deref())?,
                    password.as_deref(),
                    label,
                )
                .await?;
            if cli.json {
                output::json(&link);
            } else {
                println!("{}", link.url.as_deref().unwrap_or("(no URL)"));
                eprintln!(
                    "Anyone with this link{} can view it{}; `vault link revoke {}` stops it.",
                    if link.link.password {
                        " and the password"
                    } else {
                        ""
                    },
                    link.link
                        .expires_at
                        .as_ref()
                        .map(|t| format!(" until {t}"))
                        .unwrap_or_default(),
                    &link.link.id[..12]
                );
            }
        }
        LinkCommand::Ls => {
            let vault = open_vault(cli).await?;
            let links = vault.links().await?;
            if cli.json {
                output::json(&links);
            } else if links.is_empty() {
                println!("no links");
            } else {
                let rows: Vec<Vec<String>> = links
                    .iter()
                    .map(|l| {
                        vec![
                            l.link.id[..12].to_string(),
                            format!("{} {}", l.link.kind, &l.link.target[..12]),
                            if l.link.revoked_at.is_some() {
                                "revoked".into()
                            } else {
                                l.link.expires_at.clone().unwrap_or_else(|| "never".into())
                            },
                            l.link.opened.to_string(),
                            l.url.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "TO", "EXPIRES", "OPENED", "URL"], &rows);
            }
        }
        LinkCommand::Revoke { id } => {
            let mut vault = open_vault(cli).await?;
            let link = vault.revoke_link(id).await?;
            say(cli, &format!("revoked link {}", &link.link.id[..12]));
        }
        LinkCommand::Open {
            url,
            password,
            export: to,
        } => {
            let (network, canister, secret) = parse_link_url(url)?;
            let conn = Connection::open_anonymous(network).await?;
            let opened = OpenedLink::open(&conn, canister, &secret, password.as_deref()).await?;
            let infos = opened.files().await?;
            match to {
                Some(dir) => {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
                    export(cli, &opened.reader, &infos, dir).await?;
                }
                None => {
                    let entries = infos
                        .iter()
                        .map(|i| opened.reader.entry(i))
                        .collect::<Result<Vec<_>, _>>()?;
                    if cli.json {
                        output::json(
                            &serde_json::json!({"album": opened.album_name, "files": entries}),
                        );
                    } else {
                        if let Some(name) = &opened.album_name {
                            println!("album: {name}");
                        }
                        output::files(&entries);
                    }
                }
            }
        }
    }
    Ok(())
}
