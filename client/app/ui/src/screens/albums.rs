//! Albums: the list, a new album, and one album's photos.

use dioxus::prelude::*;

use super::photos::Photos;
use super::{Empty, Failed, Header, Loading, count};
use crate::{ImageKind, Loadable, Screen, Target, UiError, use_app, use_backend};

/// The albums.
#[component]
pub fn Albums() -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let mut name = use_signal(String::new);
    let mut error = use_signal(|| None::<UiError>);
    // Inputs are not bound to their signal (a webview typing fast would lose keys to the
    // round trip); a new generation remounts the input empty.
    let mut generation = use_signal(|| 0u32);
    let mut albums = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            let _ = (app.version)();
            async move { backend.albums().await }
        }
    });
    let create = {
        let backend = backend.clone();
        move |e: FormEvent| {
            e.prevent_default();
            let n = name.read().trim().to_string();
            if n.is_empty() {
                error.set(Some(UiError::new("Give the album a name.")));
                return;
            }
            let backend = backend.clone();
            spawn(async move {
                match backend.create_album(n).await {
                    Ok(a) => {
                        name.set(String::new());
                        generation += 1;
                        error.set(None);
                        app.tell(format!("Album “{}” created", a.name));
                        albums.restart();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let body = match Loadable::from(albums.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "albums" } },
        Loadable::Failed(e) => rsx! { Failed { error: e, retry: move |_| albums.restart() } },
        Loadable::Ready(list) if list.is_empty() => rsx! {
            Empty { title: "No albums yet", hint: "Make one above, then add photos to it from the viewer or when you upload." }
        },
        Loadable::Ready(list) => rsx! {
            ul { class: "albums", "data-testid": crate::testid("albums"),
                for a in list {
                    li { key: "{a.id}",
                        button { class: "album-card", onclick: {
                                let (id, name) = (a.id.clone(), a.name.clone());
                                move |_| app.screen.set(Screen::Album { id: id.clone(), name: name.clone() })
                            },
                            if let Some(cover) = &a.cover {
                                img { class: "cover", src: backend.image_url(ImageKind::Thumbnail, cover), alt: "", loading: "lazy" }
                            } else {
                                div { class: "cover none" }
                            }
                            strong { "{a.name}" }
                            span { class: "muted", "{count(a.files, \"photo\", \"photos\")}" }
                        }
                    }
                }
            }
        },
    };
    rsx! {
        section { class: "screen albums-screen",
            Header { title: "Albums" }
            form { class: "row inline-form", onsubmit: create, "data-testid": crate::testid("new-album"),
                for g in [generation()] {
                    input { key: "{g}", placeholder: "New album name", "aria-label": "New album name",
                        "data-testid": crate::testid("album-name"), oninput: move |e| name.set(e.value()) }
                }
                button { r#type: "submit", class: "primary", "Create album" }
            }
            if let Some(e) = error.read().as_ref() {
                p { class: "error", role: "alert", "{e}" }
            }
            {body}
        }
    }
}

/// One album's photos.
#[component]
pub fn AlbumPage(id: String, name: String) -> Element {
    let mut app = use_app();
    let share = {
        let (id, name) = (id.clone(), name.clone());
        move |_| {
            app.share_target
                .set(Some((Target::Album(id.clone()), name.clone())));
            app.screen.set(Screen::Sharing);
        }
    };
    rsx! {
        section { class: "screen album",
            Header { title: "{name}",
                button { onclick: move |_| app.screen.set(Screen::Albums), "All albums" }
                button { class: "primary", onclick: share, "data-testid": crate::testid("share-album"), "Share album" }
            }
            Photos { key: "{id}", album: Some(id.clone()), trash: false }
        }
    }
}
