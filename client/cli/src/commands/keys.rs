//! Setting a vault up, unlocking it, its keys and its devices: `init`, `unlock`, `recover`,
//! `passwd`, `recovery-key`, `rotate-keys`, `lock`, `devices`, `identity`, `log`, `status`,
//! `quota`.

use super::*;

pub(super) async fn init(
    cli: &Cli,
    canister: &Option<String>,
    strength: &Kdf,
) -> Result<ExitCode, Error> {
    let session = session(cli)?;
    let existing = canister.as_deref().map(parse_principal).transpose()?;
    let passphrase = secrets::chosen_passphrase(cli.passphrase_file.as_deref())?;
    let words = session
        .create(existing, &passphrase, kdf(*strength))
        .await?;
    let canister = session.vault_id().await?;
    let conn = session.connection().await?;
    if cli.json {
        output::json(&serde_json::json!({
            "canister": canister.to_text(),
            "network": conn.network.name(),
            "principal": conn.me().to_text(),
            "recovery_key": words.0.as_str(),
        }));
    } else {
        println!(
            "Your vault is canister {canister} on {}.",
            conn.network.name()
        );
        println!();
        println!("Your recovery key — write it down and keep it safe; it is shown only this once.");
        println!("With it you can get into your vault if you forget your passphrase:");
        println!();
        println!("    {}", words.0.as_str());
        println!();
        println!(
            "The vault is unlocked on this device for 12 hours (`vault lock` forgets the key)."
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn unlock(
    cli: &Cli,
    canister: &Option<String>,
    duration: &str,
) -> Result<ExitCode, Error> {
    let duration = parse_duration(duration)?;
    let session = session(cli)?;
    let named = canister.as_deref().map(parse_principal).transpose()?;
    let passphrase = secrets::passphrase(cli.passphrase_file.as_deref(), "Passphrase")?;
    session.unlock(named, &passphrase, Some(duration)).await?;
    say(
        cli,
        &format!(
            "unlocked vault {} for {}",
            session.vault_id().await?,
            humantime(duration)
        ),
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn recover(
    cli: &Cli,
    canister: &Option<String>,
    recovery_file: &Option<PathBuf>,
    strength: &Kdf,
) -> Result<ExitCode, Error> {
    let session = session(cli)?;
    let named = canister.as_deref().map(parse_principal).transpose()?;
    let words = secrets::recovery_words(recovery_file.as_deref())?;
    let new = secrets::new_passphrase()?;
    session.recover(named, &words, &new, kdf(*strength)).await?;
    say(
        cli,
        &format!(
            "recovered vault {}: the new passphrase is set, and it is unlocked here",
            session.vault_id().await?
        ),
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn passwd(cli: &Cli, strength: &Kdf) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let vault = session.vault().await?;
    let new = secrets::new_passphrase()?;
    vault
        .change_passphrase(new.expose(), kdf(*strength))
        .await?;
    say(cli, "passphrase changed (your recovery key stays the same)");
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn recovery_key(cli: &Cli) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let vault = session.vault().await?;
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
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn lock(cli: &Cli) -> Result<ExitCode, Error> {
    let forgot = session(cli)?.lock().await?;
    say(
        cli,
        if forgot {
            "locked: the key is forgotten on this device"
        } else {
            "already locked"
        },
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn devices(
    cli: &Cli,
    remove: &Option<String>,
    clear_lockouts: &bool,
) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let vault = session.vault().await?;
    if *clear_lockouts {
        let cleared = vault.clear_unlock_failures().await?;
        say(
            cli,
            &format!("cleared the wrong-passphrase counts of {cleared} caller(s)"),
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(device) = remove {
        vault.remove_device(parse_principal(device)?).await?;
        say(
            cli,
            &format!(
                "removed device {device}. It can no longer reach your vault; if whoever \
                 has it may know your passphrase or recovery words, replace them \
                 (`vault passwd`, `vault recovery-key`)"
            ),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let devices = view::all::<_, view::Device>(&vault.devices().await?);
    if cli.json {
        output::json(&devices);
    } else if devices.is_empty() {
        println!("no other devices (`vault unlock --canister ID` on another one admits it)");
    } else {
        let rows: Vec<Vec<String>> = devices
            .iter()
            .map(|d| {
                vec![
                    d.principal.clone(),
                    d.kind.into(),
                    d.added_at.clone(),
                    if d.this_device {
                        "this one".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        output::table(&["DEVICE", "KIND", "ADDED", ""], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// `vault rotate-keys`: the master key, then every album's key.
pub(super) async fn rotate_keys(
    cli: &Cli,
    albums_only: bool,
    keep_links: bool,
) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let mut rotation = None;
    if !albums_only {
        let had_session = vault.has_session();
        let passphrase = secrets::passphrase(
            cli.passphrase_file.as_deref(),
            "Passphrase (to wrap the new key)",
        )?;
        let done = vault
            .rotate_master_key(
                passphrase.expose(),
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
    // Grants stay (the people you share with keep access, with the albums' new keys); one the
    // lost device made while it was yours would too: the owner reviews them.
    let still = vault.still_shared().await?;
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
            "live_links": still.links,
            "grants": still.grants,
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
        if still.grants > 0 {
            println!(
                "{} grant(s) keep access, with the new album keys: check them with \
                 `vault grants` (one the lost device made would be there too) and revoke any \
                 you did not make.",
                still.grants
            );
        }
        if keep_links && still.links > 0 {
            println!(
                "{} link(s) still open: whoever holds one — the lost device too, if it \
                 listed them — can open it. `vault link ls` lists them; `vault link revoke` stops one.",
                still.links
            );
        }
    }
    if albums.failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Invalid(format!(
            "{} album(s) kept their old key: run `vault rotate-keys --albums-only` again",
            albums.failed.len()
        )))
    }
}

pub(super) async fn identity(cli: &Cli, command: &IdentityCommand) -> Result<ExitCode, Error> {
    match command {
        IdentityCommand::Show => {
            // From the unlocked sharing secret, not from the canister's anonymous answer.
            let session = unlocked(cli).await?;
            let vault = session.vault().await?;
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
            Ok(ExitCode::SUCCESS)
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
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(super) async fn log(cli: &Cli, limit: &u32) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let vault = session.vault().await?;
    let log = vault.log(*limit).await?;
    if cli.json {
        output::json(&view::all::<_, view::Log>(&log.entries));
    } else {
        let rows: Vec<Vec<String>> = log
            .entries
            .iter()
            .map(|e| {
                vec![
                    view::time(e.time),
                    short_principal(&e.caller.to_text()),
                    e.what.clone(),
                ]
            })
            .collect();
        output::table(&["WHEN", "WHO", "WHAT"], &rows);
    }
    if log.more {
        eprintln!(
            "vault: the newest {} entries; older ones exist: `vault log --limit N` shows more",
            log.entries.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn status(cli: &Cli) -> Result<ExitCode, Error> {
    let VaultOverview {
        network,
        identity,
        canister,
        unlocked,
        info,
    } = session(cli)?.overview().await?;
    let costs = cost::costs(info.used_bytes);
    // The canister's own cycles, certified; only its controllers may read them.
    let conn = session(cli)?.connection().await?;
    let funds = conn.funds(canister).await;
    let wallet = conn.wallet().await;
    if cli.json {
        output::json(&serde_json::json!({
            "canister": canister.to_text(),
            "network": network.name(),
            "url": network.url(),
            "app_url": network.app_url(&canister),
            "principal": identity.to_text(),
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
            "funds": funds.as_ref().ok(),
            "wallet": wallet,
        }));
    } else {
        println!(
            "vault      {canister} on {} ({})",
            network.name(),
            network.url()
        );
        println!(
            "app        {} (any browser, a phone's too)",
            network.app_url(&canister)
        );
        println!(
            "you        {identity}{}",
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
        match &funds {
            Ok(f) => {
                println!(
                    "cycles     {} T; it burns {:.4} T a day holding {} (${:.2}/month); it \
                     freezes below {} T",
                    t_cycles(f.cycles),
                    f.idle_burn_per_day as f64 / 1e12,
                    bytes(f.memory_bytes),
                    f.usd_per_month(),
                    t_cycles(f.freezing_limit)
                );
                if f.frozen() {
                    println!(
                        "           FROZEN: it refuses uploads and changes (reads still work); \
                         `vault topup 1t` sends it cycles"
                    );
                } else if f.low() {
                    println!(
                        "           LOW: about {:.0} days before it freezes; `vault topup 1t` \
                         sends it cycles",
                        f.days_left.unwrap_or(0.0)
                    );
                } else if let Some(days) = f.days_left {
                    println!("           about {days:.0} days before it freezes, idle");
                }
            }
            Err(e) => println!("cycles     unknown: {e}"),
        }
        println!(
            "wallet     {} T cycles on the cycles ledger ({}), {} ICP (account {}){}",
            wallet.cycles.map_or("unknown".into(), t_cycles),
            wallet.principal,
            wallet
                .icp_e8s
                .map_or("unknown".into(), vault_client::icp::icp_text),
            wallet.icp_account,
            match wallet.cycles_per_icp {
                Some(rate) => format!("; 1 ICP buys {} T cycles now", t_cycles(rate)),
                None => String::new(),
            }
        );
        for why in &wallet.unknown {
            println!("           unknown: {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vault verify`: exit 0 if the vault runs this `vault`'s module or a published release.
pub(super) async fn verify(cli: &Cli) -> Result<ExitCode, Error> {
    let session = session(cli)?;
    let conn = session.connection().await?;
    let canister = session.vault_id().await?;
    let verdict = conn.verify(canister).await?;
    if cli.json {
        output::json(&verdict);
    } else {
        say_verdict(&verdict);
    }
    Ok(if verdict.known() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::INTEGRITY)
    })
}

fn say_verdict(v: &vault_client::verify::Verdict) {
    let Some(hash) = &v.module_hash else {
        println!("vault {} has no code installed", v.canister);
        return;
    };
    println!(
        "vault {} runs module {hash} (as the network certifies it)",
        v.canister
    );
    match (&v.release, v.runs_this_build) {
        (Some(r), true) => println!(
            "that is release {} (docs/RELEASES.md), the module this `vault` installs",
            r.version
        ),
        (Some(r), false) => println!(
            "that is release {} (docs/RELEASES.md); this `vault` installs another, {} \
             (`vault upgrade` installs it)",
            r.version,
            v.this_build.as_deref().unwrap_or("?")
        ),
        (None, true) => println!(
            "that is the module this `vault` installs, built from its source; it is not a \
             published release"
        ),
        (None, false) => println!(
            "NOT KNOWN: neither a published release nor the module this `vault` installs ({}). \
             Someone who controls the canister installed other code; check its controllers, \
             and `vault upgrade` installs this `vault`'s",
            v.this_build.as_deref().unwrap_or("?")
        ),
    }
}

/// `vault upgrade [--unreleased]`.
pub(super) async fn upgrade(cli: &Cli, unreleased: bool) -> Result<ExitCode, Error> {
    let session = session(cli)?;
    let conn = session.connection().await?;
    let canister = session.vault_id().await?;
    let verdict = conn.upgrade_vault(canister, unreleased).await?;
    if cli.json {
        output::json(&verdict);
    } else {
        say_verdict(&verdict);
    }
    Ok(ExitCode::SUCCESS)
}

/// Cycles in T, as text: 1.234567.
fn t_cycles(cycles: u128) -> String {
    format!("{:.6}", cycles as f64 / 1e12)
}

/// `vault topup AMOUNT`.
pub(super) async fn topup(
    cli: &Cli,
    amount: Option<&str>,
    icp: Option<&str>,
) -> Result<ExitCode, Error> {
    let session = session(cli)?;
    let conn = session.connection().await?;
    let canister = session.vault_id().await?;
    let (cycles, paid, earlier) = match (amount, icp) {
        (_, Some(icp)) => {
            let e8s = vault_client::icp::parse_icp(icp)?;
            let home = home()?;
            let paid = conn.top_up_with_icp(&home, canister, e8s).await?;
            (
                paid.cycles,
                format!("{} ICP", vault_client::icp::icp_text(paid.e8s)),
                paid.earlier,
            )
        }
        (Some(amount), None) => {
            let cycles = parse_cycles(amount)?;
            let paid = conn.top_up(&home()?, canister, cycles).await?;
            (
                paid.cycles,
                "your cycles ledger account".to_string(),
                paid.earlier,
            )
        }
        (None, None) => return Err(Error::Invalid("say how much: 1t, or --icp 0.5".into())),
    };
    let funds = conn.funds(canister).await?;
    if cli.json {
        output::json(&serde_json::json!({
            "sent": cycles.to_string(),
            "earlier": earlier,
            "funds": funds,
        }));
    } else {
        println!(
            "sent {} T cycles to {canister} (from {paid}): it holds {} T",
            t_cycles(cycles),
            t_cycles(funds.cycles)
        );
        if earlier {
            println!(
                "           that was your earlier top-up, stopped before it finished: it is done \
                 now, and nothing more was paid; run `vault topup` again for another"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Cycles as the user writes them: a number, with t, b, m or k (1t = 10^12).
fn parse_cycles(text: &str) -> Result<u128, Error> {
    let t = text.trim().to_ascii_lowercase().replace('_', "");
    let (number, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t.as_str(), ""),
    };
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "b" => 1e9,
        "t" => 1e12,
        _ => 0.0,
    };
    match number.parse::<f64>() {
        Ok(n) if scale > 0.0 && n * scale >= 1.0 && (n * scale) < 1e30 => Ok((n * scale) as u128),
        _ => Err(Error::Invalid(format!(
            "`{text}` is not an amount of cycles: write e.g. 1t, 500b or 2.5t"
        ))),
    }
}

pub(super) async fn quota(cli: &Cli, size: &str) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let vault = session.vault().await?;
    let bytes_wanted = parse_size(size)?;
    vault.set_quota(bytes_wanted).await?;
    say(cli, &format!("quota set to {}", bytes(bytes_wanted)));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_cycles;

    #[test]
    fn amounts_of_cycles_are_read_as_written() {
        assert_eq!(parse_cycles("1t").unwrap(), 1_000_000_000_000);
        assert_eq!(parse_cycles("2.5T").unwrap(), 2_500_000_000_000);
        assert_eq!(parse_cycles("500b").unwrap(), 500_000_000_000);
        assert_eq!(parse_cycles("1_000_000").unwrap(), 1_000_000);
        for bad in ["", "t", "-1t", "1x", "0", "1e40", "0.0000001"] {
            assert!(parse_cycles(bad).is_err(), "{bad}");
        }
    }
}
