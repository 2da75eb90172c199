//! Photos and albums: `upload`, `uploads`, `ls`, `show`, `export`, `trash`, `restore`,
//! `purge`, `album`.

use super::*;

struct Bars {
    bar: ProgressBar,
    failed: Mutex<Vec<String>>,
}

impl UploadProgress for Bars {
    fn begin(&self, files: usize, total: u64) {
        // Both passes (read, sent) move the bar.
        self.bar.set_length(2 * total);
        self.bar.set_message(format!("{files} files"));
    }
    fn advance(&self, path: &Path, _pass: Pass, n: u64) {
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

pub(super) async fn uploads(cli: &Cli, abort: &Option<String>) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let uploads = vault.pending_uploads().await?;
    if let Some(wanted) = abort {
        let wanted = wanted.trim().to_ascii_lowercase();
        let matching: Vec<_> = uploads
            .iter()
            .filter(|u| !wanted.is_empty() && u.id.to_string().starts_with(&wanted))
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
        vault.abort_upload(&upload.id.0).await?;
        say(
            cli,
            &format!(
                "aborted upload {} by {}: {} freed",
                upload.id,
                upload.uploader,
                bytes(upload.reserved_bytes)
            ),
        );
        return Ok(ExitCode::SUCCESS);
    }
    if cli.json {
        output::json(&view::all::<_, view::PendingUpload>(&uploads));
    } else if uploads.is_empty() {
        println!("no uploads in progress");
    } else {
        let rows: Vec<Vec<String>> = uploads
            .iter()
            .map(|u| {
                vec![
                    u.id.to_string(),
                    if u.mine {
                        "you".into()
                    } else {
                        short_principal(&u.uploader.to_text())
                    },
                    u.album_name
                        .clone()
                        .or_else(|| u.album.map(short))
                        .unwrap_or_default(),
                    format!("{}/{} chunks", u.chunks_received, u.chunk_count),
                    bytes(u.reserved_bytes),
                    view::time(u.expires_at),
                ]
            })
            .collect();
        output::table(
            &["ID", "WHO", "ALBUM", "SENT", "RESERVED", "EXPIRES"],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn upload(
    cli: &Cli,
    paths: &[PathBuf],
    album: &Option<String>,
    to: &Option<String>,
) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
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
        output::json(&serde_json::json!({
            "files": view::all::<_, view::Upload>(&done),
            "failed": failed
        }));
    } else {
        for u in &done {
            println!("{}  {:<9}  {}", short(u.id), u.outcome, u.path.display());
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
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Partial {
            failed: failed.len(),
            total,
        })
    }
}

pub(super) async fn ls(
    cli: &Cli,
    album: &Option<String>,
    trash: &bool,
    from: &Option<String>,
) -> Result<ExitCode, Error> {
    if let Some(from) = from {
        let shared = open_shared(cli, from).await?;
        let infos = shared.files(album.as_deref()).await?;
        let entries = infos
            .iter()
            .map(|i| shared.reader.entry(i))
            .collect::<Result<Vec<_>, _>>()?;
        return print_files(cli, &entries);
    }
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let files = vault.list(album.as_deref(), *trash).await?;
    print_files(cli, &files)
}

pub(super) async fn show(cli: &Cli, id: &String) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let ids = vault.resolve_files(std::slice::from_ref(id)).await?;
    let (entry, _) = vault.show(&ids[0]).await?;
    let entry = view::File::from(&entry);
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
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn export_files(
    cli: &Cli,
    ids: &[String],
    all: &bool,
    album: &Option<String>,
    from: &Option<String>,
    to: &Path,
) -> Result<ExitCode, Error> {
    if ids.is_empty() && !*all {
        return Err(Error::Invalid("name files to export, or --all".into()));
    }
    std::fs::create_dir_all(to).map_err(|e| Error::io(format!("creating {}", to.display()), e))?;
    if let Some(from) = from {
        let shared = open_shared(cli, from).await?;
        let mut infos = shared.files(album.as_deref()).await?;
        if !*all {
            let named =
                |i: &FileInfo, p: &String| hex::encode(&i.id).starts_with(&p.to_ascii_lowercase());
            // An id nothing shared matches is an error, not an export of nothing.
            if let Some(missing) = ids.iter().find(|p| !infos.iter().any(|i| named(i, p))) {
                return Err(Error::NotFound(format!(
                    "no file `{missing}` is shared with you in vault {from}"
                )));
            }
            infos.retain(|i| ids.iter().any(|p| named(i, p)));
        }
        return export(cli, &shared.reader, &infos, to).await;
    }
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let infos = if *all {
        let album_id = match album {
            Some(a) => Some(vault.find_album(a).await?.id.0),
            None => None,
        };
        vault.load_albums().await?;
        vault.reader().list_infos(album_id, false).await?
    } else {
        let ids = vault.resolve_files(ids).await?;
        vault.load_albums().await?;
        vault.file_infos(&ids).await?
    };
    let reader = vault.reader();
    export(cli, reader, &infos, to).await
}

pub(super) async fn export(
    cli: &Cli,
    reader: &Reader,
    infos: &[FileInfo],
    to: &Path,
) -> Result<ExitCode, Error> {
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
        output::json(&view::all::<_, view::Export>(&done));
    } else {
        for e in &done {
            println!("{}  {}", short(e.id), e.path.display());
        }
        println!("exported {} file(s) to {}", done.len(), to.display());
    }
    if failed > 0 {
        Err(Error::Partial {
            failed,
            total: infos.len(),
        })
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

pub(super) async fn trash_or_restore(cli: &Cli, ids: &[String]) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let resolved = vault.resolve_files(ids).await?;
    let trash = matches!(cli.command, Command::Trash { .. });
    if trash {
        vault.trash(&resolved).await?
    } else {
        vault.restore(&resolved).await?
    }
    say(
        cli,
        &format!(
            "{} {} file(s)",
            if trash { "trashed" } else { "restored" },
            resolved.len()
        ),
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn purge(cli: &Cli, ids: &[String], all: &bool) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    let resolved = if *all {
        vault
            .list(None, true)
            .await?
            .iter()
            .map(|f| f.id.0)
            .collect()
    } else if ids.is_empty() {
        return Err(Error::Invalid(
            "name trashed files to purge, or --all".into(),
        ));
    } else {
        vault.resolve_files(ids).await?
    };
    vault.purge(&resolved).await?;
    say(cli, &format!("purged {} file(s) for good", resolved.len()));
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn album(cli: &Cli, command: &AlbumCommand) -> Result<ExitCode, Error> {
    let session = unlocked(cli).await?;
    let mut vault = session.vault().await?;
    match command {
        AlbumCommand::Create { name } => {
            let album = vault.create_album(name).await?;
            if cli.json {
                output::json(&view::Album::from(&album))
            } else {
                println!("created album {} ({})", album.name, short(album.id))
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
                output::json(&view::all::<_, view::Album>(&albums))
            } else {
                output::albums(&albums)
            }
        }
        AlbumCommand::Delete { album } => {
            let album = vault.delete_album(album).await?;
            say(cli, &format!("deleted album {}", album.name));
        }
    }
    Ok(ExitCode::SUCCESS)
}
