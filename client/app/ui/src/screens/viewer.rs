//! A photo full size: previous and next, its details (EXIF), download, share, album, trash.

use std::rc::Rc;

use dioxus::prelude::*;

use super::count;
use crate::timeline::date_time;
use crate::{Album, ImageKind, Loadable, Photo, Screen, Target, use_app, use_backend};

/// The photo open, and the list it steps through.
#[derive(Clone, Debug, PartialEq)]
pub struct Open {
    /// The list (the timeline's, when opened).
    pub photos: Rc<Vec<Photo>>,
    /// Which one.
    pub index: usize,
    /// Opened from the trash: restore rather than trash.
    pub trash: bool,
    /// Someone else's photos, shared with this user: to look at and download only.
    pub shared: bool,
}

/// The full-size viewer, over the current screen.
#[component]
pub fn Viewer() -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let mut info = use_signal(|| false);
    let mut busy = use_signal(|| false);
    let details = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            let shown = app
                .viewer
                .read()
                .as_ref()
                .and_then(|o| o.photos.get(o.index).map(|p| p.id.clone()));
            let wanted = info();
            async move {
                match (shown, wanted) {
                    (Some(id), true) => Some(backend.details(id).await),
                    _ => None,
                }
            }
        }
    });
    let albums = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            async move { backend.albums().await }
        }
    });
    let Some(open) = app.viewer.read().clone() else {
        return rsx! {};
    };
    let Some(photo) = open.photos.get(open.index).cloned() else {
        return rsx! {};
    };
    let id = photo.id.clone();
    let len = open.photos.len();
    let index = open.index;
    let mut step = move |delta: isize| {
        let mut v = app.viewer.write();
        if let Some(o) = v.as_mut() {
            let next = o.index as isize + delta;
            if next >= 0 && (next as usize) < o.photos.len() {
                o.index = next as usize;
            }
        }
    };
    let mut close = move || app.viewer.set(None);
    let download = {
        let backend = backend.clone();
        let id = id.clone();
        move |_| {
            let backend = backend.clone();
            let id = id.clone();
            busy.set(true);
            spawn(async move {
                match backend.download(id).await {
                    Ok(path) => app.tell(format!("Saved to {}", path.display())),
                    Err(e) => app.fail(&e),
                }
                busy.set(false);
            });
        }
    };
    let trash_or_restore = {
        let backend = backend.clone();
        let id = id.clone();
        let trash = open.trash;
        move |_| {
            let backend = backend.clone();
            let id = id.clone();
            spawn(async move {
                let result = if trash {
                    backend.restore(vec![id]).await
                } else {
                    backend.trash(vec![id]).await
                };
                match result {
                    Ok(()) => {
                        // The photo leaves this list; the viewer shows the next one.
                        let mut v = app.viewer.write();
                        if let Some(o) = v.as_mut() {
                            let mut list = (*o.photos).clone();
                            if o.index < list.len() {
                                list.remove(o.index);
                            }
                            if list.is_empty() {
                                *v = None;
                            } else {
                                o.index = o.index.min(list.len() - 1);
                                o.photos = Rc::new(list);
                            }
                        }
                        drop(v);
                        app.tell(if trash {
                            "Restored"
                        } else {
                            "Moved to the trash"
                        });
                        app.changed();
                    }
                    Err(e) => app.fail(&e),
                }
            });
        }
    };
    let share = {
        let target = Target::Photo(id.clone());
        let name = photo.name.clone();
        move |_| {
            app.share_target.set(Some((target.clone(), name.clone())));
            app.viewer.set(None);
            app.screen.set(Screen::Sharing);
        }
    };
    let to_album = {
        let backend = backend.clone();
        let id = id.clone();
        move |e: FormEvent| {
            let album = e.value();
            if album.is_empty() {
                return;
            }
            let backend = backend.clone();
            let id = id.clone();
            spawn(async move {
                match backend.add_to_album(vec![id], album).await {
                    Ok(()) => {
                        app.tell("Added to the album");
                        app.changed();
                    }
                    Err(e) => app.fail(&e),
                }
            });
        }
    };
    let album_options: Vec<Album> = match Loadable::from(albums.read().clone()) {
        Loadable::Ready(a) => a,
        _ => Vec::new(),
    };
    let image = if photo.mime.starts_with("video/") {
        // Streamed: the player asks for the byte ranges it plays, decrypted a chunk at a time.
        let src = backend.image_url(ImageKind::Video, &photo.id);
        let poster = photo
            .has_thumbnail
            .then(|| backend.image_url(ImageKind::Thumbnail, &photo.id));
        rsx! {
            div { class: "stage",
                video { key: "{photo.id}", class: "full", src, poster, controls: true, playsinline: true,
                    preload: "metadata", "aria-label": "{photo.name}", "data-testid": crate::testid("full-video") }
            }
        }
    } else if photo.mime.starts_with("image/") || photo.has_thumbnail {
        let src = backend.image_url(ImageKind::Original, &photo.id);
        let placeholder = photo
            .has_thumbnail
            .then(|| backend.image_url(ImageKind::Thumbnail, &photo.id));
        let style = placeholder
            .map(|p| format!("background-image: url('{p}')"))
            .unwrap_or_default();
        rsx! {
            div { class: "stage", style,
                img { key: "{photo.id}", class: "full", src, alt: "{photo.name}", "data-testid": crate::testid("full-image") }
            }
        }
    } else {
        rsx! {
            div { class: "stage",
                p { class: "muted", "No preview for {photo.mime}: download it to open it." }
            }
        }
    };
    let details_panel = info().then(|| {
        let body = match details.read().clone().flatten() {
            None => rsx! { p { class: "muted", "Loading details…" } },
            Some(Err(e)) => rsx! { p { class: "error", "{e}" } },
            Some(Ok(d)) => rsx! {
                dl {
                    for (k , v) in d.rows {
                        dt { "{k}" }
                        dd { "{v}" }
                    }
                }
            },
        };
        rsx! {
            aside { class: "details", "data-testid": crate::testid("details"),
                h2 { "Details" }
                {body}
            }
        }
    });
    rsx! {
        div {
            class: "viewer",
            role: "dialog",
            "aria-label": "{photo.name}",
            "data-testid": crate::testid("viewer"),
            tabindex: "0",
            autofocus: true,
            onkeydown: move |e| match e.key() {
                Key::ArrowLeft => step(-1),
                Key::ArrowRight => step(1),
                Key::Escape => close(),
                _ => {}
            },
            div { class: "viewer-bar",
                button { onclick: move |_| close(), "aria-label": "Close", "data-testid": crate::testid("viewer-close"), "✕" }
                div { class: "viewer-title",
                    strong { "{photo.name}" }
                    span { class: "muted", "{date_time(photo.taken_ms)} · {index + 1} of {len}" }
                }
                div { class: "actions",
                    // Each action has a short label too, which a phone's one row shows.
                    button { onclick: move |_| info.toggle(), "data-testid": crate::testid("viewer-info"),
                        span { class: "wide", if info() { "Hide details" } else { "Details" } }
                        span { class: "narrow", "Info" } }
                    button { onclick: download, disabled: busy(), "data-testid": crate::testid("viewer-download"),
                        span { class: "wide", if busy() { "Saving…" } else { "Download" } }
                        span { class: "narrow", if busy() { "Saving…" } else { "Save" } } }
                    if !open.trash && !open.shared {
                        button { onclick: share, "data-testid": crate::testid("viewer-share"), "Share" }
                        select { "aria-label": "Add to album", onchange: to_album, "data-testid": crate::testid("viewer-album"),
                            option { value: "", "To album…" }
                            for a in album_options {
                                option { value: "{a.id}", "{a.name} ({count(a.files, \"photo\", \"photos\")})" }
                            }
                        }
                    }
                    if !open.shared {
                        button { class: if open.trash { "" } else { "danger" }, onclick: trash_or_restore, "data-testid": crate::testid("viewer-trash"),
                            span { class: "wide", if open.trash { "Restore" } else { "Move to trash" } }
                            span { class: "narrow", if open.trash { "Restore" } else { "Trash" } } }
                    }
                }
            }
            div { class: "viewer-body",
                button { class: "step prev", disabled: index == 0, "aria-label": "Previous", "data-testid": crate::testid("viewer-prev"),
                    onclick: move |_| step(-1), "‹" }
                {image}
                button { class: "step next", disabled: index + 1 >= len, "aria-label": "Next", "data-testid": crate::testid("viewer-next"),
                    onclick: move |_| step(1), "›" }
                {details_panel}
            }
        }
    }
}
