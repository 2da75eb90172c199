//! Sharing with people and by links: `share`, `grants`, `revoke`, `shared`, `link`.

use super::*;
use vault_client::inbox::Told;

pub(super) async fn share(
    cli: &Cli,
    target: &str,
    with: &str,
    contribute: &bool,
    expires: &Option<String>,
) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let target = vault.share_target(target).await?;
    let permission = if *contribute {
        Permission::Contribute
    } else {
        Permission::View
    };
    let (grant, told) = vault
        .share(&target, with, permission, expires_at(expires.as_deref())?)
        .await?;
    let grant = view::Grant::from(&grant);
    if cli.json {
        output::json(&serde_json::json!({
            "grant": grant,
            "vault": vault.id().to_text(),
            "told": told == Told::Yes,
            "message": told.sentence(&vault.id()),
        }));
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
        println!("{}", told.sentence(&vault.id()));
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn grants(cli: &Cli) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let grants = view::all::<_, view::Grant>(&vault.grants().await?);
    if cli.json {
        output::json(&grants);
    } else if grants.is_empty() {
        println!("nothing is shared with anyone");
    } else {
        let rows: Vec<Vec<String>> = grants
            .iter()
            .map(|g| {
                vec![
                    g.kind.to_string(),
                    g.name.clone().unwrap_or_else(|| g.target[..12].to_string()),
                    g.grantee.clone(),
                    g.permission.to_string(),
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
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn revoke(cli: &Cli, target: &str, from: &str) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let target = vault.share_target(target).await?;
    let who = match ShareCode::parse(from) {
        Ok(code) => Principal::try_from_slice(&code.principal)
            .map_err(|e| Error::Invalid(format!("share code: {e}")))?,
        Err(_) => parse_principal(from)?,
    };
    vault.revoke(&target, who).await?;
    say(
        cli,
        &format!(
            "revoked {who}{}",
            if matches!(target, ShareTarget::Album(_)) {
                "; the album's key was rotated, so what you add from now on is closed to them"
            } else {
                ""
            }
        ),
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn shared(
    cli: &Cli,
    from: &Option<String>,
    dismiss: &Option<String>,
) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    if let Some(from) = from {
        session.add_shared_vault(parse_principal(from)?).await?;
    }
    if let Some(dismiss) = dismiss {
        session
            .dismiss_shared_vault(parse_principal(dismiss)?)
            .await?;
    }
    let list = session.shared_with_me().await?;
    let all = view::all::<_, view::Shared>(&list.entries);
    let unreadable: Vec<serde_json::Value> = list
        .unreadable
        .iter()
        .map(|u| serde_json::json!({"vault": u.vault.to_text(), "why": u.why}))
        .collect();
    if cli.json {
        output::json(&serde_json::json!({"shared": all, "unreadable": unreadable}));
        return Ok(ExitCode::SUCCESS);
    }
    for u in &list.unreadable {
        println!(
            "could not read {}, which you follow: {} (`vault shared --dismiss {}` stops following it)",
            u.vault, u.why, u.vault
        );
    }
    if all.is_empty() {
        println!(
            "nothing is shared with you: give people your share code (`vault identity show`); \
             someone may also send you their vault id, to add with --from CANISTER"
        );
    } else {
        let rows: Vec<Vec<String>> = all
            .iter()
            .map(|e| {
                vec![
                    e.kind.to_string(),
                    e.name.clone().unwrap_or_else(|| e.id[..12].to_string()),
                    e.permission.to_string(),
                    e.expires_at.clone().unwrap_or_else(|| "never".into()),
                    e.vault.clone(),
                    match &e.new_from {
                        Some(sender) => format!("NEW, from {sender}"),
                        None => "followed".into(),
                    },
                ]
            })
            .collect();
        output::table(&["KIND", "NAME", "MAY", "EXPIRES", "VAULT", "STATE"], &rows);
        if all.iter().any(|e| e.new_from.is_some()) {
            println!(
                "NEW: told to your vault, not followed yet: `vault shared --from VAULT` to follow \
                 it, `vault shared --dismiss VAULT` if you do not know who shared it"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn link(cli: &Cli, command: &LinkCommand) -> Result<ExitCode, Error> {
    match command {
        LinkCommand::Create {
            target,
            expires,
            password,
            label,
        } => {
            let session = unlocked(cli).await?;
            let mut vault = session.vault().await?;
            let target = vault.share_target(target).await?;
            let link = vault
                .create_link(
                    &target,
                    expires_at(expires.as_deref())?,
                    password.as_deref(),
                    label,
                )
                .await?;
            let link = view::Link::from(&link);
            if cli.json {
                output::json(&link);
            } else {
                println!("{}", link.url.as_deref().unwrap_or("(no URL)"));
                eprintln!(
                    "Anyone with this link{} can view it{}; `vault link revoke {}` stops it.",
                    if link.password {
                        " and the password"
                    } else {
                        ""
                    },
                    link.expires_at
                        .as_ref()
                        .map(|t| format!(" until {t}"))
                        .unwrap_or_default(),
                    &link.id[..12]
                );
            }
        }
        LinkCommand::Ls => {
            let session = unlocked(cli).await?;
            let vault = session.vault().await?;
            let links = view::all::<_, view::Link>(&vault.links().await?);
            if cli.json {
                output::json(&links);
            } else if links.is_empty() {
                println!("no links");
            } else {
                let rows: Vec<Vec<String>> = links
                    .iter()
                    .map(|l| {
                        vec![
                            l.id[..12].to_string(),
                            format!("{} {}", l.kind, &l.target[..12]),
                            if l.revoked_at.is_some() {
                                "revoked".into()
                            } else {
                                l.expires_at.clone().unwrap_or_else(|| "never".into())
                            },
                            l.opened.to_string(),
                            l.url.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "TO", "EXPIRES", "OPENED", "URL"], &rows);
            }
        }
        LinkCommand::Revoke { id } => {
            let session = unlocked(cli).await?;
            let mut vault = session.vault().await?;
            let link = vault.revoke_link(id).await?;
            say(cli, &format!("revoked link {}", short(link.link.id)));
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
                            &serde_json::json!({"album": opened.album_name, "files": view::files(&entries)}),
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
    Ok(ExitCode::SUCCESS)
}
