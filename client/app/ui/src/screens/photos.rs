//! The timeline: every photo (or an album's, or the trash's), newest first, grouped by month and
//! day, virtualised, filling in page by page as the vault answers.

use std::rc::Rc;

use dioxus::prelude::*;

use super::viewer::Open;
use super::{Empty, Failed, Header, Loading, count};
use crate::timeline::{Layout, RowKind};
use crate::{ImageKind, Photo, Screen, UiError, use_app, use_backend};

/// What a listing has so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listing {
    /// Photos so far, newest first.
    pub photos: Vec<Photo>,
    /// Whether every page is in.
    pub complete: bool,
    /// Why the last page failed.
    pub error: Option<UiError>,
}

/// The timeline of `album`, of the trash, or of everything.
#[component]
pub fn Photos(album: Option<String>, trash: bool) -> Element {
    let backend = use_backend();
    let app = use_app();
    let mut listing = use_signal(Listing::default);
    let mut attempt = use_signal(|| 0u32);
    let filter = album.clone();
    let _loader = use_resource(move || {
        let backend = backend.clone();
        let album = filter.clone();
        // Reload when photos change, or on "Try again".
        let _ = (app.version)();
        let _ = attempt();
        async move {
            listing.set(Listing::default());
            let mut after = None;
            loop {
                match backend.photos(album.clone(), trash, after.take()).await {
                    Ok(page) => {
                        let mut l = listing.write();
                        l.photos.extend(page.items);
                        match page.next {
                            Some(next) => after = Some(next),
                            None => {
                                l.complete = true;
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        listing.write().error = Some(e);
                        break;
                    }
                }
            }
        }
    });
    let l = listing.read();
    let title = match (trash, album.is_some()) {
        (true, _) => "Trash",
        (false, true) => "",
        (false, false) => "Photos",
    };
    let n = l.photos.len() as u64;
    let summary = if l.complete {
        count(n, "photo", "photos")
    } else {
        format!("{} so far…", count(n, "photo", "photos"))
    };
    let header = (!title.is_empty()).then(|| {
        rsx! {
            Header { title,
                span { class: "muted", "data-testid": crate::testid("photo-count"), "{summary}" }
            }
        }
    });
    let retry = move |_| *attempt.write() += 1;
    let body = if l.photos.is_empty() {
        match (&l.error, l.complete) {
            (Some(e), _) => rsx! { Failed { error: e.clone(), retry } },
            (None, false) => rsx! { Loading { what: "your photos" } },
            (None, true) if trash => rsx! {
                Empty { title: "The trash is empty", hint: "Photos you delete wait here until you restore them or empty the trash." }
            },
            (None, true) => rsx! {
                Empty { title: "No photos yet", hint: "Add photos from this device: they are encrypted here before they are sent." }
                button { class: "primary center-button", "data-testid": crate::testid("empty-upload"),
                    onclick: move |_| { let mut s = app.screen; s.set(Screen::Upload) }, "Upload photos" }
            },
        }
    } else {
        rsx! {
            if let Some(e) = &l.error {
                div { class: "inline-error", role: "alert",
                    span { "Some photos could not be listed: {e}" }
                    button { onclick: move |_| *attempt.write() += 1, "Try again" }
                }
            }
            Grid { listing, trash, shared: false }
        }
    };
    rsx! {
        section { class: "screen photos",
            {header}
            {body}
        }
    }
}

/// The virtualised grid: only the rows near the viewport are in the DOM. `shared`: another
/// vault's photos (the viewer offers no changes to them).
#[component]
pub fn Grid(listing: Signal<Listing>, trash: bool, shared: bool) -> Element {
    let backend = use_backend();
    let mut app = use_app();
    // Until the renderer reports sizes: a laptop window's.
    let mut width = use_signal(|| 960.0f64);
    let mut height = use_signal(|| 800.0f64);
    let mut scroll = use_signal(|| 0.0f64);
    let layout = use_memo(move || Layout::new(&listing.read().photos, width()));
    let layout = layout.read();
    let visible = layout.visible(scroll(), height());
    let l = listing.read();
    let tile = layout.tile;
    let rows = layout.rows[visible].iter().map(|row| {
        let style = format!("top: {}px; height: {}px", row.top, row.height);
        match &row.kind {
            RowKind::Month(label) => rsx! {
                h2 { key: "m{row.top}", class: "month", style, "{label}" }
            },
            RowKind::Day(label) => rsx! {
                h3 { key: "d{row.top}", class: "day", style, "{label}" }
            },
            RowKind::Tiles(range) => {
                let tiles = range.clone().map(|i| {
                    let photo = &l.photos[i];
                    let id = photo.id.clone();
                    let open = move |_| {
                        let photos = Rc::new(listing.read().photos.clone());
                        app.viewer.set(Some(Open { photos, index: i, trash, shared }));
                    };
                    let size = format!("width: {tile}px; height: {tile}px");
                    // A video says so, and how long it plays when that is known.
                    let badge = photo.mime.starts_with("video/").then(|| {
                        let text = photo.duration_ms.map_or("▶".to_string(), |ms| format!("▶ {}", crate::timeline::duration_text(ms)));
                        rsx! { span { class: "badge", "{text}" } }
                    });
                    if photo.has_thumbnail {
                        let src = backend.image_url(ImageKind::Thumbnail, &id);
                        rsx! {
                            button { key: "{id}", class: "tile", style: size, title: "{photo.name}", onclick: open,
                                img { class: "thumb", src, alt: "{photo.name}", loading: "lazy", decoding: "async", draggable: "false" }
                                {badge}
                            }
                        }
                    } else {
                        let ext = photo.name.rsplit_once('.').map(|(_, e)| e.to_uppercase()).unwrap_or_else(|| "FILE".into());
                        rsx! {
                            button { key: "{id}", class: "tile no-thumb", style: size, title: "{photo.name}", onclick: open,
                                span { class: "ext", "{ext}" }
                                {badge}
                            }
                        }
                    }
                });
                rsx! {
                    div { key: "t{row.top}", class: "tiles", style, {tiles} }
                }
            }
        }
    });
    rsx! {
        div {
            class: "timeline",
            "data-testid": crate::testid("timeline"),
            "data-count": "{l.photos.len()}",
            "data-complete": "{l.complete}",
            onscroll: move |e| {
                scroll.set(e.scroll_top());
                height.set(f64::from(e.client_height()));
            },
            onresize: move |e| {
                if let Ok(size) = e.get_content_box_size() {
                    width.set(size.width);
                    height.set(size.height);
                }
            },
            div { class: "timeline-inner", style: "height: {layout.height}px", {rows} }
        }
    }
}
