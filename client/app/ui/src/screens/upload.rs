//! Uploading: a file picker, a folder picker and drag-and-drop; progress per file and in total;
//! errors per file, with "try again" resuming what was sent.

use std::path::PathBuf;

use dioxus::html::HasFileData;
use dioxus::prelude::*;
use futures_channel::mpsc::UnboundedReceiver;
use futures_util::StreamExt;

use super::{Header, bytes, count};
use crate::{AppState, BackendHandle, Loadable, SharedWaiting, UploadEvent, use_app, use_backend};

/// Rows of files the screen lists (failures first); the rest are counted.
pub const LISTED: usize = 200;

/// Where one file stands.
#[derive(Clone, Debug, PartialEq)]
pub enum FileState {
    /// Not started.
    Waiting,
    /// Being hashed, encrypted and sent.
    Sending,
    /// Done: "uploaded", "resumed" or "duplicate".
    Done(String),
    /// Failed: why.
    Failed(String),
}

/// One file of an upload.
#[derive(Clone, Debug, PartialEq)]
pub struct FileUpload {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Bytes done (hashed and sent).
    pub done: u64,
    /// Where it stands.
    pub state: FileState,
    /// The album it goes to.
    pub album: Option<String>,
}

/// The uploads of this session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uploads {
    /// Every file, in the order added.
    pub files: Vec<FileUpload>,
    /// Batches still running.
    pub running: usize,
    /// A batch that could not go on.
    pub failure: Option<String>,
}

impl Uploads {
    /// Whether an upload runs.
    pub fn active(&self) -> bool {
        self.running > 0
    }
    /// `(done, total)` bytes.
    pub fn progress(&self) -> (u64, u64) {
        self.files.iter().fold((0, 0), |(d, t), f| {
            let done = match f.state {
                FileState::Done(_) => f.size,
                _ => f.done.min(f.size),
            };
            (d + done, t + f.size)
        })
    }
    /// Files failed.
    pub fn failed(&self) -> Vec<&FileUpload> {
        self.files
            .iter()
            .filter(|f| matches!(f.state, FileState::Failed(_)))
            .collect()
    }
    /// Files done.
    pub fn finished(&self) -> usize {
        self.files
            .iter()
            .filter(|f| matches!(f.state, FileState::Done(_)))
            .count()
    }

    /// Takes in what the backend reports.
    pub fn apply(&mut self, event: UploadEvent, album: &Option<String>) {
        match event {
            UploadEvent::Begin { files } => {
                for (path, size) in files {
                    // A file tried again takes its old row.
                    self.files.retain(|f| f.path != path);
                    self.files.push(FileUpload {
                        path,
                        size,
                        done: 0,
                        state: FileState::Waiting,
                        album: album.clone(),
                    });
                }
            }
            UploadEvent::Advance { path, bytes } => {
                if let Some(f) = self.files.iter_mut().rev().find(|f| f.path == path) {
                    f.done += bytes;
                    if f.state == FileState::Waiting {
                        f.state = FileState::Sending;
                    }
                }
            }
            UploadEvent::Done { path, result } => {
                if let Some(f) = self.files.iter_mut().rev().find(|f| f.path == path) {
                    f.state = match result {
                        Ok(outcome) => FileState::Done(outcome),
                        Err(e) => FileState::Failed(e),
                    };
                }
            }
            UploadEvent::Failed(why) => self.failure = Some(why),
            UploadEvent::Finished => {}
        }
    }
}

/// Starts uploading `paths` into `album`; progress lands in the app's state.
pub fn start(app: AppState, backend: &BackendHandle, paths: Vec<PathBuf>, album: Option<String>) {
    if paths.is_empty() {
        return;
    }
    follow(app, backend.upload(paths, album.clone()), album);
}

/// Starts uploading the files a file input or a drop gave (see [`Backend::upload_files`]).
pub fn start_files(
    app: AppState,
    backend: &BackendHandle,
    files: Vec<crate::FileData>,
    album: Option<String>,
) {
    if files.is_empty() {
        return;
    }
    follow(app, backend.upload_files(files, album.clone()), album);
}

/// What another app shared with this one ("Share → Vault"), shown once the vault is unlocked:
/// the owner uploads it or discards it. (Any web page can post to the share target, so nothing
/// goes up without the owner's say.)
#[component]
pub fn SharedWithVault() -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let mut waiting = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            async move { backend.shared_with_vault().await }
        }
    });
    let mut decided = use_signal(|| false);
    let Some(Ok(SharedWaiting { files, refused })) = waiting.read().clone() else {
        return rsx! {};
    };
    if files.is_empty() || decided() {
        return rsx! {};
    }
    let decide = move |upload: bool| {
        let backend = backend.clone();
        move |_| {
            decided.set(true);
            let backend = backend.clone();
            spawn(async move {
                match backend.upload_shared(upload).await {
                    Ok(Some(events)) => {
                        app.viewer.set(None);
                        app.screen.set(crate::Screen::Upload);
                        follow(app, events, None);
                    }
                    Ok(None) => app.tell("Discarded: nothing was uploaded"),
                    Err(e) => app.fail(&e),
                }
                waiting.restart();
            });
        }
    };
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    let shown: Vec<String> = files.iter().take(5).map(|(name, _)| name.clone()).collect();
    let more = files.len().saturating_sub(shown.len());
    rsx! {
        div { class: "shared-prompt", role: "alertdialog", "data-testid": crate::testid("shared-prompt"),
            h2 { "Shared with Vault" }
            p { "{count(files.len() as u64, \"file\", \"files\")} ({bytes(total)}) shared with Vault from another app: upload them to your vault?" }
            ul {
                for name in shown { li { class: "name", "{name}" } }
                if more > 0 { li { class: "muted", "and {more} more" } }
            }
            if refused > 0 {
                p { class: "error", "data-testid": crate::testid("shared-refused"),
                    "{count(refused, \"more file was\", \"more files were\")} shared but not kept: too many at once. Share them again once these are uploaded." }
            }
            p { class: "muted", "Only upload what you shared yourself: any web page can send files here." }
            div { class: "row",
                button { class: "primary", onclick: decide(true), "data-testid": crate::testid("shared-upload"), "Upload them" }
                button { onclick: decide(false), "data-testid": crate::testid("shared-discard"), "Discard" }
            }
        }
    }
}

/// Shows an upload's events as they come, and what became of it at the end.
fn follow(app: AppState, mut events: UnboundedReceiver<UploadEvent>, album: Option<String>) {
    let mut uploads = app.uploads;
    {
        let mut u = uploads.write();
        u.running += 1;
        u.failure = None;
    }
    spawn(async move {
        while let Some(event) = events.next().await {
            let finished = event == UploadEvent::Finished;
            uploads.write().apply(event, &album);
            if finished {
                break;
            }
        }
        uploads.write().running -= 1;
        let u = uploads.read();
        let (ok, failed) = (u.finished(), u.failed().len());
        drop(u);
        if failed > 0 {
            app.fail(&crate::UiError::new(format!(
                "{} could not be uploaded: see Upload",
                count(failed as u64, "file", "files")
            )));
        } else {
            app.tell(format!(
                "{} in your vault",
                count(ok as u64, "file", "files")
            ));
        }
        app.changed();
    });
}

/// The upload screen.
#[component]
pub fn Upload() -> Element {
    let backend = use_backend();
    let app = use_app();
    let mut album = use_signal(|| None::<String>);
    let mut hover = use_signal(|| false);
    let albums = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            async move { backend.albums().await }
        }
    });
    let pick = {
        let backend = backend.clone();
        move |e: FormEvent| start_files(app, &backend, e.files(), album())
    };
    // The platform's own chooser, off the UI's way: the answer comes back as a future.
    let choose = {
        let backend = backend.clone();
        move |folders: bool| {
            let backend = backend.clone();
            move |_| {
                let backend = backend.clone();
                spawn(async move {
                    match backend.pick(folders).await {
                        Ok(paths) => start(app, &backend, paths, album()),
                        Err(e) => app.fail(&e),
                    }
                });
            }
        }
    };
    let drop = {
        let backend = backend.clone();
        move |e: DragEvent| {
            e.prevent_default();
            hover.set(false);
            start_files(app, &backend, e.files(), album());
        }
    };
    let retry = {
        let backend = backend.clone();
        move |_| {
            let failed: Vec<(PathBuf, Option<String>)> = app
                .uploads
                .read()
                .failed()
                .iter()
                .map(|f| (f.path.clone(), f.album.clone()))
                .collect();
            // Each album's files go again to it; what was sent is not sent again.
            let mut by_album: Vec<(Option<String>, Vec<PathBuf>)> = Vec::new();
            for (path, a) in failed {
                match by_album.iter_mut().find(|(x, _)| *x == a) {
                    Some((_, paths)) => paths.push(path),
                    None => by_album.push((a, vec![path])),
                }
            }
            for (a, paths) in by_album {
                start(app, &backend, paths, a);
            }
        }
    };
    let u = app.uploads.read();
    let (done, total) = u.progress();
    let percent = if total == 0 {
        0.0
    } else {
        done as f64 * 100.0 / total as f64
    };
    let failed = u.failed().len();
    let mut rows: Vec<&FileUpload> = u.failed();
    rows.extend(
        u.files
            .iter()
            .filter(|f| !matches!(f.state, FileState::Failed(_))),
    );
    let more = rows.len().saturating_sub(LISTED);
    let album_choices = match Loadable::from(albums.read().clone()) {
        Loadable::Ready(a) => a,
        _ => Vec::new(),
    };
    rsx! {
        section { class: "screen upload",
            Header { title: "Upload" }
            div {
                class: if hover() { "dropzone hover" } else { "dropzone" },
                "data-testid": crate::testid("dropzone"),
                ondragover: move |e| { e.prevent_default(); hover.set(true) },
                ondragleave: move |_| hover.set(false),
                ondrop: drop,
                p { strong { "Drop photos or folders here" } }
                p { class: "muted", "Each photo is encrypted on this device before it is sent. Interrupted uploads carry on where they stopped." }
                div { class: "row",
                    if backend.has_picker() {
                        button { class: "primary", "data-testid": crate::testid("pick-files"), onclick: choose(false), "Choose photos…" }
                        button { "data-testid": crate::testid("pick-folder"), onclick: choose(true), "Choose a folder…" }
                    } else {
                        label { class: "button primary", "data-testid": crate::testid("pick-files"),
                            "Choose photos…"
                            input { r#type: "file", multiple: true, accept: "image/*,video/*", class: "hidden-input", "data-testid": crate::testid("files-input"), onchange: pick.clone() }
                        }
                        label { class: "button", "data-testid": crate::testid("pick-folder"),
                            "Choose a folder…"
                            input { r#type: "file", directory: true, class: "hidden-input", "data-testid": crate::testid("folder-input"), onchange: pick }
                        }
                    }
                    select { "aria-label": "Album", "data-testid": crate::testid("upload-album"),
                        onchange: move |e| { let v = e.value(); album.set((!v.is_empty()).then_some(v)) },
                        option { value: "", "No album" }
                        for a in album_choices {
                            option { value: "{a.id}", "{a.name}" }
                        }
                    }
                }
            }
            if let Some(why) = &u.failure {
                p { class: "error", role: "alert", "{why}" }
            }
            if !u.files.is_empty() {
                div { class: "progress-summary", "data-testid": crate::testid("upload-summary"),
                    p {
                        if u.active() { "Uploading: " } else { "Done: " }
                        "{u.finished()} of {count(u.files.len() as u64, \"file\", \"files\")}, {bytes(done)} of {bytes(total)}"
                        if failed > 0 { ", {failed} failed" }
                    }
                    progress { max: "100", value: "{percent:.1}" }
                    if failed > 0 && !u.active() {
                        button { "data-testid": crate::testid("retry-failed"), onclick: retry, "Try the failed files again" }
                    }
                }
                ul { class: "files", "data-testid": crate::testid("upload-files"),
                    for f in rows.iter().take(LISTED) {
                        FileRow { key: "{f.path.display()}", file: (*f).clone() }
                    }
                    if more > 0 { li { class: "muted", "and {more} more" } }
                }
            }
            super::pending_uploads::PendingUploads {}
        }
    }
}

#[component]
fn FileRow(file: FileUpload) -> Element {
    let name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.path.display().to_string());
    let (class, status) = match &file.state {
        FileState::Waiting => ("waiting", "Waiting".to_string()),
        FileState::Sending => (
            "sending",
            format!(
                "{} of {}",
                bytes(file.done.min(file.size)),
                bytes(file.size)
            ),
        ),
        FileState::Done(outcome) => (
            "done",
            match outcome.as_str() {
                "duplicate" => "Already in your vault".to_string(),
                "resumed" => "Uploaded (resumed)".to_string(),
                _ => "Uploaded".to_string(),
            },
        ),
        FileState::Failed(why) => ("failed", why.clone()),
    };
    let percent = if file.size == 0 {
        100.0
    } else {
        file.done.min(file.size) as f64 * 100.0 / file.size as f64
    };
    rsx! {
        li { class: "file {class}", title: "{file.path.display()}",
            span { class: "name", "{name}" }
            if matches!(file.state, FileState::Sending) {
                progress { max: "100", value: "{percent:.0}" }
            }
            span { class: "status", "{status}" }
        }
    }
}
