//! The desktop as a [`vault_bridge::Platform`]: the screens' questions are answered by
//! `vault-bridge` over vault-client's session; this file says where that work runs and what
//! only a desktop does (the image protocol, downloads into a folder, the file chooser, the
//! clipboard).
//!
//! The work runs on the app's own tokio runtime (two worker threads); every answer is spawned
//! there and the UI gets a future that only waits for it on a oneshot channel, so the UI thread
//! (Dioxus's executor) never blocks and never runs vault work.
//!
//! ```text
//! Desktop   the runtime and the shared state (cheap to clone)
//! State     the bridge's Screens (the session), the uploads running, the image caches
//!           (images.rs), the clipboard
//! ```
//!
//! Tasks on the runtime hold only `Arc<State>`, never the runtime itself, so the runtime is
//! always dropped on the UI thread.

use std::path::PathBuf;
use std::sync::{Arc, Mutex as StdMutex};

use futures_channel::mpsc::UnboundedReceiver;
use tokio::runtime::Runtime;
use vault_bridge::images::Images;
use vault_bridge::{Bridge, Platform, Screens, Work, ui_error};
use vault_client::platform::MaybeSync;
use vault_client::replica::ReplicaLauncher;
use vault_client::{Error, Home, Network, Session};
use vault_ui::backend::Call;
use vault_ui::model::{ImageKind, UiError, UploadEvent};

/// The app's vault: a handle on the worker runtime and the shared state.
#[derive(Clone)]
pub struct Desktop {
    runtime: Arc<Worker>,
    pub(crate) state: Arc<State>,
    /// The videos' server (media.rs).
    media: Arc<crate::media::Media>,
}

/// The runtime, shut down without waiting when the last handle goes (the app is quitting:
/// a half-done upload resumes next time from its journal).
struct Worker(Option<Runtime>);

impl Worker {
    fn runtime(&self) -> &Runtime {
        self.0
            .as_ref()
            .expect("the runtime lives as long as the worker")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What the work shares: the screens (the session), the running uploads, the image caches
/// and the clipboard.
pub(crate) struct State {
    pub(crate) screens: Arc<Screens>,
    /// Uploads running, stopped when the vault is locked.
    uploads: StdMutex<Vec<tokio::task::AbortHandle>>,
    pub(crate) images: Images,
    clipboard: StdMutex<Option<arboard::Clipboard>>,
}

impl Desktop {
    /// Starts the worker runtime and begins connecting (the embedded replica is started in the
    /// background if `network` is local and none answers).
    pub fn start(home: Home, network: Network) -> Result<Desktop, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vault-worker")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the vault's worker threads: {e}"))?;
        let session = Session::with_local_replica(home, network, Arc::from(launcher()));
        let state = Arc::new(State {
            screens: Arc::new(Screens::new(session)),
            uploads: StdMutex::new(Vec::new()),
            images: Images::default(),
            clipboard: StdMutex::new(None),
        });
        {
            // Connect early: the first screen asks for the status at once.
            let state = state.clone();
            runtime.spawn(async move {
                let _ = state.screens.session().connection().await;
            });
        }
        let media = Arc::new(crate::media::Media::start(&runtime, state.clone())?);
        Ok(Desktop {
            runtime: Arc::new(Worker(Some(runtime))),
            state,
            media,
        })
    }

    /// The screens' backend on this desktop.
    pub fn backend(&self) -> Bridge<Desktop> {
        Bridge::new(self.state.screens.clone(), self.clone())
    }

    /// Runs `work` on the worker runtime.
    pub(crate) fn spawn<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.runtime().spawn(work)
    }

    /// Thumbnails the image protocol has served (the app's test hooks report it).
    pub fn thumbnails_served(&self) -> u64 {
        self.state.images.thumbnails_served()
    }

    /// Byte ranges of videos the video server has answered, and the chunks decrypted for
    /// them (likewise).
    pub fn media_served(&self) -> (u64, u64) {
        (self.media.ranges(), self.state.images.chunks_decrypted())
    }
}

fn launcher() -> Box<ReplicaLauncher> {
    vault_client::replica::this_program("vault-app")
}

impl State {
    fn copy(&self, text: String) -> Result<(), Error> {
        // A panic while held leaves at worst no clipboard, made again next time.
        let mut clipboard = self.clipboard.lock().unwrap_or_else(|e| e.into_inner());
        if clipboard.is_none() {
            *clipboard = Some(arboard::Clipboard::new().map_err(clipboard_error)?);
        }
        clipboard
            .as_mut()
            .expect("just made")
            .set_text(text)
            .map_err(clipboard_error)
    }
}

fn clipboard_error(e: arboard::Error) -> Error {
    Error::Invalid(format!("cannot use the clipboard: {e}"))
}

/// Where downloads go: `$VAULT_DOWNLOADS`, `$XDG_DOWNLOAD_DIR`, or `~/Downloads`.
fn downloads_dir() -> Result<PathBuf, Error> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("VAULT_DOWNLOADS")
        .or_else(|| var("XDG_DOWNLOAD_DIR"))
        .or_else(|| var("HOME").map(|home| home.join("Downloads")))
        .ok_or_else(|| {
            Error::Invalid("no HOME: set VAULT_DOWNLOADS to where downloads should go".into())
        })
}

impl Platform for Desktop {
    fn run<T: MaybeSync + 'static>(&self, work: Work<T>) -> Call<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.spawn(async move {
            let _ = tx.send(work.await.map_err(ui_error));
        });
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(UiError::new("the vault's worker stopped")))
        })
    }

    fn forget(&self) {
        self.state.images.clear();
        let mut uploads = self.state.uploads.lock().unwrap_or_else(|e| e.into_inner());
        for upload in uploads.drain(..) {
            upload.abort();
        }
    }

    fn image_url(&self, kind: ImageKind, id: &str) -> String {
        match kind {
            // WebKitGTK's player reads no custom protocol (media.rs).
            ImageKind::Video => self.media.url(id),
            _ => crate::images::url(kind, id),
        }
    }

    fn has_picker(&self) -> bool {
        cfg!(target_os = "linux")
    }

    #[cfg(target_os = "linux")]
    fn pick(&self, folders: bool) -> Call<Vec<PathBuf>> {
        crate::picker::pick(folders)
    }

    fn download(&self, screens: Arc<Screens>, id: String) -> Call<PathBuf> {
        self.run(Box::pin(async move {
            let dir = downloads_dir()?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            Ok(screens.session().export(&id.parse()?, &dir).await?.path)
        }))
    }

    fn upload(
        &self,
        screens: Arc<Screens>,
        paths: Vec<PathBuf>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent> {
        let (events, receiver) = futures_channel::mpsc::unbounded();
        let task = self.spawn(async move { screens.upload(paths, album, events).await });
        let mut uploads = self.state.uploads.lock().unwrap_or_else(|e| e.into_inner());
        uploads.retain(|u| !u.is_finished());
        uploads.push(task.abort_handle());
        receiver
    }

    fn copy(&self, text: String) -> Call<()> {
        let state = self.state.clone();
        self.run(Box::pin(async move {
            tokio::task::spawn_blocking(move || state.copy(text))
                .await
                .expect("the clipboard does not panic")
        }))
    }
}
