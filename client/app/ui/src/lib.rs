//! The Vault app's screens, as Dioxus components with no renderer: the desktop launcher
//! (`vault-app`) renders them in a webview, a mobile build would render the same, and the tests
//! render them to HTML with `dioxus-ssr`.
//!
//! Everything the screens know of a vault comes through a [`Backend`]: records already
//! decrypted, images as URLs the renderer serves from memory, long work (uploads, decryption)
//! done elsewhere while the screens only await answers.
//!
//! ```text
//! App            onboarding until the vault is unlocked, then the shell
//! Shell          navigation (a sidebar, or tabs along the bottom on a phone) and one screen
//! screens::*     photos (timeline), viewer, upload, albums, sharing, shared with me,
//!                activity, settings, trash
//! timeline       grouping by month and day, rows, and which rows are on screen
//! ```
#![forbid(unsafe_code)]

use std::rc::Rc;

use dioxus::prelude::*;

pub mod backend;
pub mod model;
pub mod screens;
pub mod timeline;

pub use backend::{Backend, Call};
pub use model::*;

/// A file an `<input type=file>` or a drop gave (what [`Backend::upload_files`] takes).
pub use dioxus::html::FileData;

/// The stylesheet: one file, phone width first. Each front end puts it in its page's head.
pub const STYLE: &str = include_str!("style.css");

/// A backend the components share. Equal when it is the same one.
#[derive(Clone)]
pub struct BackendHandle(pub Rc<dyn Backend>);

impl PartialEq for BackendHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for BackendHandle {
    type Target = dyn Backend;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// Something loading, loaded, or failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Loadable<T> {
    /// On its way.
    Loading,
    /// Failed: why.
    Failed(UiError),
    /// Here.
    Ready(T),
}

impl<T> From<Option<Result<T, UiError>>> for Loadable<T> {
    fn from(value: Option<Result<T, UiError>>) -> Self {
        match value {
            None => Loadable::Loading,
            Some(Err(e)) => Loadable::Failed(e),
            Some(Ok(v)) => Loadable::Ready(v),
        }
    }
}

/// The screens of an unlocked vault.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    /// Every photo, newest first.
    Photos,
    /// The albums.
    Albums,
    /// One album's photos.
    Album {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
    },
    /// Uploads in progress and done, and where to add more.
    Upload,
    /// Share codes, people, links.
    Sharing,
    /// What others share with you.
    Shared,
    /// The photos of one thing shared with you.
    SharedPhotos {
        /// The sharer's vault.
        vault: String,
        /// The album or photo.
        target: Target,
        /// Its name.
        name: String,
    },
    /// The activity log.
    Activity,
    /// Network, identity, usage, lock.
    Settings,
    /// Trashed photos.
    Trash,
}

impl Screen {
    /// How many of [`Screen::NAV`]'s entries a phone's tab bar shows; the rest are under
    /// "More", so the bar holds five tabs at most.
    pub const PHONE_TABS: usize = 4;

    /// The navigation's entries: (screen, label, test id).
    pub const NAV: [(Screen, &'static str, &'static str); 8] = [
        (Screen::Photos, "Photos", "nav-photos"),
        (Screen::Albums, "Albums", "nav-albums"),
        (Screen::Upload, "Upload", "nav-upload"),
        (Screen::Sharing, "Sharing", "nav-sharing"),
        (Screen::Shared, "Shared with me", "nav-shared"),
        (Screen::Activity, "Activity", "nav-activity"),
        (Screen::Trash, "Trash", "nav-trash"),
        (Screen::Settings, "Settings", "nav-settings"),
    ];
}

/// A message along the bottom of the window.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// What to say.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
}

/// The app's shared state: signals, so it is `Copy` and every screen sees changes.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The screen shown.
    pub screen: Signal<Screen>,
    /// Whether the vault is unlocked.
    pub unlocked: Signal<bool>,
    /// A message for the user.
    pub notice: Signal<Option<Notice>>,
    /// Uploads of this session.
    pub uploads: Signal<screens::upload::Uploads>,
    /// Bumped when photos change (an upload finished, a photo was trashed): lists reload.
    pub version: Signal<u64>,
    /// The photo open full size, and the list it steps through.
    pub viewer: Signal<Option<screens::viewer::Open>>,
    /// What the sharing screen shares when opened from a photo or an album.
    pub share_target: Signal<Option<(Target, String)>>,
}

impl AppState {
    /// Says `text` to the user.
    pub fn tell(mut self, text: impl Into<String>) {
        self.notice.set(Some(Notice {
            text: text.into(),
            error: false,
        }));
    }
    /// Reports a failure.
    pub fn fail(mut self, error: &UiError) {
        self.notice.set(Some(Notice {
            text: error.message.clone(),
            error: true,
        }));
    }
    /// Photos changed: lists reload.
    pub fn changed(mut self) {
        *self.version.write() += 1;
    }
}

/// The backend, from context.
pub fn use_backend() -> BackendHandle {
    use_context::<BackendHandle>()
}

/// The app's state, from context.
pub fn use_app() -> AppState {
    use_context::<AppState>()
}

fn provide(backend: BackendHandle, screen: Screen, unlocked: bool) -> AppState {
    use_context_provider(|| backend);
    use_context_provider(|| AppState {
        screen: Signal::new(screen),
        unlocked: Signal::new(unlocked),
        notice: Signal::new(None),
        uploads: Signal::new(Default::default()),
        version: Signal::new(0),
        viewer: Signal::new(None),
        share_target: Signal::new(None),
    })
}

/// The whole app: asks the backend where the vault stands, onboards until it is unlocked,
/// then shows the photos.
#[component]
pub fn App(backend: BackendHandle) -> Element {
    let mut app = provide(backend.clone(), Screen::Photos, false);
    let status = use_resource(move || {
        let backend = backend.clone();
        async move {
            let status = backend.status().await;
            if status == Ok(Status::Unlocked) {
                app.unlocked.set(true);
            }
            status
        }
    });
    let unlocked = *app.unlocked.read();
    let body = if unlocked {
        rsx! { Shell {} }
    } else {
        match Loadable::from(status.read().clone()) {
            Loadable::Loading => rsx! {
                div { class: "center", "data-testid": crate::testid("starting"),
                    div { class: "spinner" }
                    p { "Opening your vault…" }
                }
            },
            Loadable::Failed(e) => rsx! {
                div { class: "center", "data-testid": crate::testid("start-failed"),
                    h1 { "Vault could not start" }
                    p { class: "error", "{e}" }
                    button { onclick: move |_| status.clone().restart(), "Try again" }
                }
            },
            // Locked since it started.
            Loadable::Ready(Status::Unlocked) => rsx! {
                screens::onboarding::Onboarding { status: Status::Locked }
            },
            Loadable::Ready(status) => rsx! {
                screens::onboarding::Onboarding { status }
            },
        }
    };
    // The style sheet is the page's: the desktop puts STYLE in its window's head, the web
    // page links it (its content security policy allows no inline style element).
    rsx! {
        div { class: "app", {body} }
    }
}

/// An unlocked vault, starting at `screen` (tests start anywhere).
#[component]
pub fn Unlocked(backend: BackendHandle, screen: Screen) -> Element {
    provide(backend, screen, true);
    rsx! {
        style { {STYLE} }
        div { class: "app", Shell {} }
    }
}

/// Navigation and the current screen.
#[component]
fn Shell() -> Element {
    let mut app = use_app();
    let screen = app.screen.read().clone();
    let uploading = app.uploads.read().active();
    let current = match &screen {
        Screen::Album { .. } => Screen::Albums,
        Screen::SharedPhotos { .. } => Screen::Shared,
        other => other.clone(),
    };
    let mut more = use_signal(|| false);
    let in_more = Screen::NAV[Screen::PHONE_TABS..]
        .iter()
        .any(|(target, ..)| *target == current);
    let nav = Screen::NAV
        .iter()
        .enumerate()
        .map(|(i, (target, label, testid))| {
            let target = target.clone();
            let class = match (target == current, i < Screen::PHONE_TABS) {
                (true, true) => "nav-item active",
                (false, true) => "nav-item",
                (true, false) => "nav-item secondary active",
                (false, false) => "nav-item secondary",
            };
            let badge = (target == Screen::Upload && uploading).then_some("●");
            rsx! {
                button {
                    key: "{testid}",
                    class,
                    "data-testid": *testid,
                    onclick: move |_| {
                        app.viewer.set(None);
                        more.set(false);
                        app.screen.set(target.clone());
                    },
                    span { class: "nav-label", "{label}" }
                    if let Some(b) = badge { span { class: "badge", "{b}" } }
                }
            }
        });
    // A phone's sheet of the screens its tab bar has no room for.
    let sheet = Screen::NAV[Screen::PHONE_TABS..]
        .iter()
        .map(|(target, label, testid)| {
            let target = target.clone();
            let testid = testid.replacen("nav-", "more-", 1);
            rsx! {
                button {
                    key: "{testid}",
                    class: if target == current { "sheet-item active" } else { "sheet-item" },
                    "data-testid": "{testid}",
                    onclick: move |_| {
                        app.viewer.set(None);
                        more.set(false);
                        app.screen.set(target.clone());
                    },
                    "{label}"
                }
            }
        });
    let body = match screen {
        Screen::Photos => rsx! { screens::photos::Photos { album: None, trash: false } },
        Screen::Album { id, name } => rsx! {
            screens::albums::AlbumPage { id, name }
        },
        Screen::Trash => rsx! { screens::photos::Photos { album: None, trash: true } },
        Screen::Albums => rsx! { screens::albums::Albums {} },
        Screen::Upload => rsx! { screens::upload::Upload {} },
        Screen::Sharing => rsx! { screens::sharing::Sharing {} },
        Screen::Shared => rsx! { screens::shared::Shared {} },
        Screen::SharedPhotos {
            vault,
            target,
            name,
        } => rsx! {
            screens::shared::SharedPhotos { vault, target, name }
        },
        Screen::Activity => rsx! { screens::activity::ActivityLog {} },
        Screen::Settings => rsx! { screens::settings::SettingsPage {} },
    };
    let notice = app.notice.read().clone();
    rsx! {
        div { class: "shell",
            nav { class: "nav",
                div { class: "brand", "Vault" }
                {nav}
                button {
                    class: if in_more { "nav-item more active" } else { "nav-item more" },
                    "data-testid": crate::testid("nav-more"),
                    "aria-expanded": if more() { "true" } else { "false" },
                    onclick: move |_| more.toggle(),
                    span { class: "nav-label", "More" }
                }
            }
            if more() {
                div { class: "sheet-backdrop", onclick: move |_| more.set(false),
                    div { class: "sheet", role: "menu", "data-testid": crate::testid("more-sheet"),
                        onclick: move |e| e.stop_propagation(),
                        {sheet}
                    }
                }
            }
            main { class: "main", {body} }
            screens::upload::SharedWithVault {}
            if app.viewer.read().is_some() {
                screens::viewer::Viewer {}
            }
            if let Some(n) = notice {
                div {
                    class: if n.error { "notice error" } else { "notice" },
                    role: "status",
                    "data-testid": crate::testid("notice"),
                    span { "{n.text}" }
                    button { class: "link", onclick: move |_| app.notice.set(None), "Dismiss" }
                }
            }
        }
    }
}

/// An element's test id, for `data-testid`: the end-to-end test finds elements by it, and the
/// component tests by the element it is set on (a call, so the attribute is dynamic and the
/// renderer is told which element carries it).
pub fn testid(id: &'static str) -> &'static str {
    id
}
