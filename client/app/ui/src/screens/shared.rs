//! What others share with you.

use dioxus::prelude::*;

use super::photos::{Grid, Listing};
use super::{Empty, Failed, Header, Loading, count};
use crate::{Loadable, Screen, Target, use_app, use_backend};

/// The "shared with me" screen.
#[component]
pub fn Shared() -> Element {
    let backend = use_backend();
    let mut items = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            async move { backend.shared_with_me().await }
        }
    });
    let app = use_app();
    let answering = backend.clone();
    let mut typed = use_signal(String::new);
    let mut busy = use_signal(|| false);
    // The field is not bound to `typed` (typing fast in a webview would lose keys); a new
    // generation remounts it empty.
    let mut generation = use_signal(|| 0u32);
    let add = move |e: FormEvent| {
        e.prevent_default();
        let vault = typed.read().trim().to_string();
        if vault.is_empty() {
            app.fail(&crate::model::UiError::new(
                "Paste the vault id the person who shared with you sent (it is under Sharing in their app).",
            ));
            return;
        }
        if busy() {
            return;
        }
        busy.set(true);
        let backend = backend.clone();
        spawn(async move {
            match backend.add_shared_vault(vault).await {
                Ok(()) => {
                    app.tell("Added");
                    typed.set(String::new());
                    generation += 1;
                    items.restart();
                }
                Err(e) => app.fail(&e),
            }
            busy.set(false);
        });
    };
    // A new share (a notice to this vault): follow its vault, or dismiss it.
    let answer = {
        let backend = answering;
        move |vault: String, follow: bool| {
            if busy() {
                return;
            }
            busy.set(true);
            let backend = backend.clone();
            spawn(async move {
                let answer = if follow {
                    backend.add_shared_vault(vault).await
                } else {
                    backend.dismiss_shared_vault(vault).await
                };
                match answer {
                    Ok(()) => {
                        app.tell(if follow {
                            "Added"
                        } else {
                            "It no longer shows here"
                        });
                        items.restart();
                    }
                    Err(e) => app.fail(&e),
                }
                busy.set(false);
            });
        }
    };
    let body = match Loadable::from(items.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "what is shared with you" } },
        Loadable::Failed(e) => rsx! { Failed { error: e, retry: move |_| items.restart() } },
        Loadable::Ready(list) if list.items.is_empty() && list.unreadable.is_empty() => rsx! {
            Empty { title: "Nothing shared with you yet", hint: "Give people your share code (under Sharing): what they share with it appears here. Someone whose app is older may send you their vault id instead: add it above." }
        },
        Loadable::Ready(list) => rsx! {
            if !list.unreadable.is_empty() {
                ul { class: "list", "data-testid": crate::testid("unreadable-shared"),
                    for u in list.unreadable {
                        li { key: "{u.vault}",
                            div {
                                strong { "A vault you follow could not be read" }
                                div { class: "principal", "{u.vault}" }
                                div { class: "muted", "{u.why}" }
                            }
                            button { disabled: busy(), "data-testid": crate::testid("unfollow-shared"),
                                onclick: {
                                    let (mut answer, vault) = (answer.clone(), u.vault.clone());
                                    move |_| answer(vault.clone(), false)
                                },
                                "Unfollow" }
                        }
                    }
                }
            }
            ul { class: "list", "data-testid": crate::testid("shared"),
                for s in list.items {
                    li { key: "{s.vault}{s.target.id()}", class: if s.new_from.is_some() { "new" },
                        div {
                            if s.new_from.is_some() { span { class: "badge", "data-testid": crate::testid("new-shared"), "New" } " " }
                            strong { "{s.name.clone().unwrap_or_else(|| s.target.kind().to_string())}" }
                            span { class: "muted", " · {s.target.kind()} · {s.permission}" }
                            if let Some(e) = &s.expires { span { class: "muted", " · until {e}" } }
                            div { class: "principal", "from vault {s.vault}" }
                            if let Some(sender) = &s.new_from {
                                div { class: "muted", "Told to your vault by {sender}. Vault cannot check who that is: add it if you expect a share from this vault; dismiss it, and this vault's notices are ignored." }
                            }
                        }
                        if s.new_from.is_some() {
                            div { class: "row",
                                button { class: "primary", disabled: busy(), "data-testid": crate::testid("follow-shared"),
                                    onclick: {
                                        let (mut answer, vault) = (answer.clone(), s.vault.clone());
                                        move |_| answer(vault.clone(), true)
                                    },
                                    "Add" }
                                button { disabled: busy(), "data-testid": crate::testid("dismiss-shared"),
                                    onclick: {
                                        let (mut answer, vault) = (answer.clone(), s.vault.clone());
                                        move |_| answer(vault.clone(), false)
                                    },
                                    "Dismiss" }
                            }
                        } else {
                        div { class: "row",
                        button { disabled: busy(), "data-testid": crate::testid("unfollow-shared"),
                            title: "Stop showing what this vault shares with you",
                            onclick: {
                                let (mut answer, vault) = (answer.clone(), s.vault.clone());
                                move |_| answer(vault.clone(), false)
                            },
                            "Unfollow" }
                        button { class: "primary", "data-testid": crate::testid("open-shared"),
                            onclick: {
                                let to = Screen::SharedPhotos {
                                    vault: s.vault.clone(),
                                    target: s.target.clone(),
                                    name: s.name.clone().unwrap_or_else(|| s.target.kind().to_string()),
                                };
                                move |_| { let mut screen = app.screen; screen.set(to.clone()) }
                            },
                            "Open"
                        }
                        }
                        }
                    }
                }
            }
        },
    };
    rsx! {
        section { class: "screen shared",
            Header { title: "Shared with me" }
            form { class: "row add-shared", onsubmit: add, "data-testid": crate::testid("add-shared-form"),
                for g in [generation()] {
                    input { key: "{g}", "data-testid": crate::testid("shared-vault-input"), spellcheck: "false",
                        placeholder: "Their vault id", oninput: move |e| typed.set(e.value()) }
                }
                button { r#type: "submit", class: "primary", disabled: busy(), "data-testid": crate::testid("add-shared"),
                    if busy() { "Adding…" } else { "Add" } }
            }
            {body}
        }
    }
}

/// The photos of one thing shared with this user: a grid like the timeline's, each photo to
/// look at and download.
#[component]
pub fn SharedPhotos(vault: String, target: Target, name: String) -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let mut listing = use_signal(Listing::default);
    let mut attempt = use_signal(|| 0u32);
    let key = format!("{vault}{}", target.id());
    let _loader = use_resource(move || {
        let backend = backend.clone();
        let (vault, target) = (vault.clone(), target.clone());
        let _ = attempt();
        async move {
            listing.set(Listing::default());
            let answer = backend.shared_photos(vault, target).await;
            let mut l = listing.write();
            match answer {
                Ok(photos) => {
                    l.photos = photos;
                    l.complete = true;
                }
                Err(e) => l.error = Some(e),
            }
        }
    });
    let l = listing.read();
    let body = match (&l.error, l.complete, l.photos.is_empty()) {
        (Some(e), _, _) => {
            rsx! { Failed { error: e.clone(), retry: move |_| *attempt.write() += 1 } }
        }
        (None, false, _) => rsx! { Loading { what: "the shared photos" } },
        (None, true, true) => rsx! {
            Empty { title: "Nothing in it yet", hint: "Photos its owner adds appear here." }
        },
        (None, true, false) => rsx! { Grid { key: "{key}", listing, trash: false, shared: true } },
    };
    let n = l.photos.len() as u64;
    rsx! {
        section { class: "screen photos shared-photos",
            Header { title: "{name}",
                span { class: "muted", "data-testid": crate::testid("photo-count"), "{count(n, \"photo\", \"photos\")} · shared with you" }
                button { onclick: move |_| app.screen.set(Screen::Shared), "data-testid": crate::testid("back-to-shared"), "All shared" }
            }
            {body}
        }
    }
}
