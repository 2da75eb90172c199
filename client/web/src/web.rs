//! The browser as a [`vault_bridge::Platform`]: the vault's work runs on the page's one thread
//! (the executor Dioxus already drives), what is kept between visits is in the page's storage
//! ([`BrowserStore`]: the unlocked keys stay in memory), downloads are handed to the browser.
//!
//! The vault is the one serving the page: `https://<vault>.icp0.io/app` on the Internet
//! Computer, `http://<vault>.localhost:4943/app` on the local replica.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use dioxus::prelude::*;
use futures_channel::mpsc::UnboundedReceiver;
use futures_channel::oneshot;
use futures_util::future::Either;
use vault_bridge::images::{Images, Refusal, parse_path, path};
use vault_bridge::{Bridge, Platform, Screens, Work, ui_error};
use vault_client::passkey::{Assertion, PasskeyRequest, Registration};
use vault_client::platform::{BrowserStore, MaybeSync};
use vault_client::upload::FileSource;
use vault_client::{Error, Network, Session, Settings};
use vault_ui::backend::Call;
use vault_ui::model::{ImageKind, UiError, UploadEvent};
use vault_ui::{App, BackendHandle, FileData};

use crate::files::BrowserFile;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_namespace = vaultLock)]
extern "C" {
    /// `{ chosen, choices }`: the minutes after which the page locks when left alone.
    #[wasm_bindgen(catch, js_name = minutes)]
    fn lock_minutes() -> Result<JsValue, JsValue>;
    /// Keeps `minutes` on this browser, in force at once.
    #[wasm_bindgen(catch, js_name = choose)]
    fn choose_lock_minutes(minutes: u32) -> Result<(), JsValue>;
}

/// Where the page's images are served (by the app's service worker, from [`Images`]).
pub const IMAGES: &str = "/app/image";

thread_local! {
    /// The app on this page, for the service worker's image requests ([`image`]).
    static STARTED: RefCell<Option<Web>> = const { RefCell::new(None) };
}

/// The image at `path` (`/thumb/<id>` or `/original/<id>`), decrypted: what the page answers
/// its service worker with, `{ status, mime, bytes }` or `{ status, text }`.
#[wasm_bindgen]
pub async fn image(path: String) -> JsValue {
    let answer = Answer::new();
    match (STARTED.with(|s| s.borrow().clone()), parse_path(&path)) {
        (None, _) => answer.status(503, "the app has not started"),
        (_, None) => answer.status(404, "no such image"),
        (Some(web), Some((kind, id))) => {
            match web.images.image(web.screens.session(), kind, id).await {
                Ok(image) => {
                    answer.set("mime", JsValue::from_str(&image.mime));
                    answer.set("bytes", js_sys::Uint8Array::from(&image.bytes[..]).into());
                    answer.status(200, "")
                }
                Err(refusal) => answer.refused(refusal),
            }
        }
    }
}

/// The bytes of the original at `path` (`/<id>`) from `from` to the end of their chunk,
/// decrypted: what the page answers its service worker with when a `<video>` streams it
/// (`vault-canister/viewer/media-worker.js`), `{ status, mime, total, bytes }` or
/// `{ status, text }`.
#[wasm_bindgen]
pub async fn media(path: String, from: f64) -> JsValue {
    let answer = Answer::new();
    let id = path.strip_prefix('/').and_then(|id| id.parse().ok());
    // An offset is a whole number of bytes within what a JS number holds exactly.
    let from = (from.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&from))
        .then_some(from as u64);
    match (STARTED.with(|s| s.borrow().clone()), id, from) {
        (None, _, _) => answer.status(503, "the app has not started"),
        (_, None, _) => answer.status(404, "no such file"),
        (_, _, None) => answer.status(400, "a bad offset"),
        (Some(web), Some(id), Some(from)) => {
            match web.images.piece(web.screens.session(), id, from).await {
                Ok(piece) => {
                    // How many chunks videos have needed so far (the tests read it).
                    if let Some(body) = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.body())
                    {
                        let count = web.images.chunks_decrypted().to_string();
                        let _ = body.set_attribute("data-media-chunks", &count);
                    }
                    answer.set("mime", JsValue::from_str(&piece.mime));
                    answer.set("total", JsValue::from(piece.total as f64));
                    answer.set("bytes", js_sys::Uint8Array::from(&piece.bytes[..]).into());
                    answer.status(200, "")
                }
                Err(refusal) => answer.refused(refusal),
            }
        }
    }
}

/// An answer to the service worker: a JS object of `status`, `text` and what is set.
struct Answer(js_sys::Object);

impl Answer {
    fn new() -> Answer {
        Answer(js_sys::Object::new())
    }

    fn set(&self, key: &str, value: JsValue) {
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(key), &value);
    }

    /// The answer, with its status and, unless empty, its text.
    fn status(self, status: u16, text: &str) -> JsValue {
        self.set("status", JsValue::from(status));
        if !text.is_empty() {
            self.set("text", JsValue::from_str(text));
        }
        self.0.into()
    }

    fn refused(self, refusal: Refusal) -> JsValue {
        match refusal {
            Refusal::NotFound => self.status(404, "no such image"),
            Refusal::TooLarge => self.status(413, "too large to show here: download it"),
            Refusal::Failed(why) => self.status(500, &why),
        }
    }
}

/// Starts the app in the page's `#main`.
pub fn launch() {
    dioxus_web::launch::launch_cfg(root, dioxus_web::Config::new());
}

fn root() -> Element {
    let started = use_resource(|| async {
        Web::start()
            .await
            .map(|web| BackendHandle(Rc::new(web.backend())))
            .map_err(|e| e.to_string())
    });
    let started = started.read();
    match &*started {
        // The style sheet is the page's own (/app/style.<hash>.css).
        Some(Ok(backend)) => rsx! { App { backend: backend.clone() } },
        Some(Err(why)) => rsx! {
            p { role: "alert", "Vault cannot start in this browser: {why}" }
        },
        None => rsx! {
            p { class: "starting", role: "status", "Opening your vault…" }
        },
    }
}

/// The browser's part: the screens, the decrypted images, the uploads running.
#[derive(Clone)]
pub struct Web {
    screens: Arc<Screens>,
    images: Arc<Images>,
    /// Uploads running: each stops when its sender is dropped.
    uploads: Rc<RefCell<Vec<oneshot::Sender<()>>>>,
    /// The files chosen on this page, by label (their name, numbered where several share it):
    /// what a retry sends again.
    chosen: Rc<RefCell<HashMap<PathBuf, Arc<BrowserFile>>>>,
    /// The ids of the shared files last shown to the owner (`shared_with_vault`).
    shared_listed: Rc<RefCell<Vec<String>>>,
}

impl Web {
    /// The app on this page's vault.
    #[allow(
        clippy::arc_with_non_send_sync,
        reason = "the bridge shares the screens as an Arc on every platform; a page has one thread"
    )]
    async fn start() -> Result<Web, Error> {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .ok_or_else(|| Error::Invalid("the page has no origin".into()))?;
        let store = Arc::new(BrowserStore::open()?);
        let network = Network::of_page(&origin);
        // The page's vault is the canister serving it: the one this browser unlocks.
        let vault = Network::canister_of_page(&origin);
        if let Some(vault) = vault {
            let mut settings = Settings::load(&*store)?;
            if settings.vaults.get(&network.name()) != Some(&vault.to_text()) {
                settings.vaults.insert(network.name(), vault.to_text());
                settings.save(&*store)?;
            }
        }
        let identity = crate::device::identity(vault).await?;
        let session = Session::with_identity(store, network, identity);
        let web = Web {
            screens: Arc::new(Screens::new(session)),
            images: Arc::new(Images::default()),
            uploads: Rc::new(RefCell::new(Vec::new())),
            chosen: Rc::new(RefCell::new(HashMap::new())),
            shared_listed: Rc::new(RefCell::new(Vec::new())),
        };
        STARTED.with(|started| *started.borrow_mut() = Some(web.clone()));
        Ok(web)
    }

    fn backend(&self) -> Bridge<Web> {
        Bridge::new(self.screens.clone(), self.clone())
    }
}

impl Platform for Web {
    fn run<T: MaybeSync + 'static>(&self, work: Work<T>) -> Call<T> {
        Box::pin(async move { work.await.map_err(ui_error) })
    }

    fn forget(&self) {
        self.images.clear();
        self.chosen.borrow_mut().clear();
        // Dropping each sender stops its upload.
        self.uploads.borrow_mut().clear();
    }

    fn image_url(&self, kind: ImageKind, id: &str) -> String {
        format!("{IMAGES}{}", path(kind, id))
    }

    fn download(&self, screens: Arc<Screens>, id: String) -> Call<PathBuf> {
        Box::pin(async move {
            let file = screens
                .session()
                .open_file(&id.parse().map_err(ui_error)?)
                .await
                .map_err(ui_error)?;
            let name = file.metadata().map_err(ui_error)?.name;
            let bytes = file.reader().original(&file.info).await.map_err(ui_error)?;
            save(&name, &file.mime, &bytes)?;
            Ok(PathBuf::from(name))
        })
    }

    /// Files again (a retry): the ones chosen on this page, by name. A browser gives no paths,
    /// so a file not chosen here must be chosen again.
    fn upload(
        &self,
        screens: Arc<Screens>,
        paths: Vec<PathBuf>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent> {
        let chosen = self.chosen.borrow();
        let (sources, missing): (Vec<_>, Vec<_>) =
            paths.iter().partition(|path| chosen.contains_key(*path));
        if let Some(path) = missing.first() {
            let (events, receiver) = futures_channel::mpsc::unbounded();
            let _ = events.unbounded_send(UploadEvent::Failed(format!(
                "{} was not chosen on this page: choose it again",
                path.display()
            )));
            return receiver;
        }
        let sources = sources
            .into_iter()
            .map(|p| chosen[p].clone() as Arc<dyn FileSource>)
            .collect();
        drop(chosen);
        self.spawn_upload(screens, sources, album)
    }

    fn upload_files(
        &self,
        screens: Arc<Screens>,
        files: Vec<FileData>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent> {
        let sources: Vec<Arc<dyn FileSource>> = files
            .iter()
            .filter_map(|f| f.inner().downcast_ref::<web_sys::File>().cloned())
            .map(|file| self.keep(file))
            .collect();
        self.spawn_upload(screens, sources, album)
    }

    fn shared_with_vault(&self) -> Call<vault_ui::model::SharedWaiting> {
        let listed = self.shared_listed.clone();
        Box::pin(async move {
            let waiting = crate::files::waiting().await.map_err(ui_error)?;
            // What the owner is shown is what an upload takes: not what arrives meanwhile.
            *listed.borrow_mut() = waiting.iter().map(|(id, _, _)| id.clone()).collect();
            Ok(vault_ui::model::SharedWaiting {
                files: waiting
                    .into_iter()
                    .map(|(_, shown, size)| (shown, size))
                    .collect(),
                refused: crate::files::refused().await,
            })
        })
    }

    fn upload_shared(
        &self,
        screens: Arc<Screens>,
        upload: bool,
    ) -> Call<Option<UnboundedReceiver<UploadEvent>>> {
        let web = self.clone();
        Box::pin(async move {
            if !upload {
                crate::files::discard().await.map_err(ui_error)?;
                return Ok(None);
            }
            let listed = std::mem::take(&mut *web.shared_listed.borrow_mut());
            let files = crate::files::shared(&listed).await.map_err(ui_error)?;
            if files.is_empty() {
                return Ok(None);
            }
            let sources = files.into_iter().map(|file| web.keep(file)).collect();
            Ok(Some(web.spawn_upload(screens, sources, None)))
        })
    }

    fn has_passkeys(&self) -> bool {
        crate::passkey::available()
    }

    fn lock_after(&self) -> Option<(u32, Vec<u32>)> {
        let told = lock_minutes().ok()?;
        let get = |key: &str| js_sys::Reflect::get(&told, &JsValue::from_str(key)).ok();
        let chosen = get("chosen")?.as_f64()? as u32;
        let choices = js_sys::Array::from(&get("choices")?)
            .iter()
            .filter_map(|n| n.as_f64())
            .map(|n| n as u32)
            .collect();
        Some((chosen, choices))
    }

    fn set_lock_after(&self, minutes: u32) -> Result<(), UiError> {
        choose_lock_minutes(minutes)
            .map_err(|e| UiError::new(format!("could not be kept: {}", crate::files::said(&e))))
    }

    fn served_by_the_vault(&self) -> bool {
        true
    }

    fn make_passkey(&self, request: PasskeyRequest) -> Work<Registration> {
        Box::pin(crate::passkey::make(request))
    }

    fn use_passkey(&self, request: PasskeyRequest) -> Work<Assertion> {
        Box::pin(async move { crate::passkey::sign(request, &[]).await })
    }

    fn copy(&self, text: String) -> Call<()> {
        Box::pin(async move {
            let clipboard = web_sys::window()
                .map(|w| w.navigator().clipboard())
                .ok_or_else(|| UiError::new("this browser has no clipboard"))?;
            wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text))
                .await
                .map(drop)
                .map_err(|_| UiError::new("the browser did not let the page use the clipboard"))
        })
    }
}

impl Web {
    /// `file`, as a source to upload, kept for a retry under a label no other file chosen on
    /// this page has (a browser gives names, not folders: two `IMG_0001.jpg` are numbered).
    fn keep(&self, file: web_sys::File) -> Arc<dyn FileSource> {
        let mut chosen = self.chosen.borrow_mut();
        let name = file.name();
        let mut n = 1;
        let label = loop {
            let label = vault_client::upload::numbered(&name, n);
            match chosen.get(std::path::Path::new(&label)) {
                Some(kept) if !kept.is(&file) => n += 1,
                _ => break label,
            }
        };
        let source = Arc::new(BrowserFile::new(file, label.clone()));
        chosen.insert(PathBuf::from(label), source.clone());
        source
    }

    /// Uploads `sources`, stopped by [`Platform::forget`].
    fn spawn_upload(
        &self,
        screens: Arc<Screens>,
        sources: Vec<Arc<dyn FileSource>>,
        album: Option<String>,
    ) -> UnboundedReceiver<UploadEvent> {
        let (events, receiver) = futures_channel::mpsc::unbounded();
        let (stop, stopped) = oneshot::channel::<()>();
        {
            let mut uploads = self.uploads.borrow_mut();
            // A finished upload has dropped its receiver.
            uploads.retain(|stop| !stop.is_canceled());
            uploads.push(stop);
        }
        spawn(async move {
            let _running = Uploading::start();
            let upload = std::pin::pin!(screens.upload_sources(sources, album, events.clone()));
            if let Either::Right(_) = futures_util::future::select(upload, stopped).await {
                let _ = events
                    .unbounded_send(UploadEvent::Failed("stopped: the vault was locked".into()));
            }
        });
        receiver
    }
}

thread_local! {
    static UPLOADS_RUNNING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// An upload running, said on the page's body (`data-uploading`) for as long as it lives:
/// `boot.js` does not lock the page for idleness meanwhile.
struct Uploading;

impl Uploading {
    fn start() -> Uploading {
        Uploading::count(1);
        Uploading
    }

    fn count(change: i32) {
        let running = UPLOADS_RUNNING.with(|n| {
            n.set(n.get().saturating_add_signed(change));
            n.get()
        });
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = match running {
                0 => body.remove_attribute("data-uploading"),
                n => body.set_attribute("data-uploading", &n.to_string()),
            };
        }
    }
}

impl Drop for Uploading {
    fn drop(&mut self) {
        Uploading::count(-1);
    }
}

/// Hands `bytes` to the browser as a download named `name`.
fn save(name: &str, mime: &str, bytes: &[u8]) -> Result<(), UiError> {
    let failed = |_| UiError::new("the browser refused the download");
    let window = web_sys::window().ok_or_else(|| UiError::new("no window"))?;
    let document = window
        .document()
        .ok_or_else(|| UiError::new("no document"))?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(failed)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(failed)?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(failed)?
        .dyn_into()
        .map_err(|_| UiError::new("no link element"))?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The browser has taken the blob's bytes once the click is handled.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}
