//! Sharing: your share code and its words; sharing an album or photo with someone's share code
//! for a time; who has access, and taking it back; links with expiry and password, their URLs,
//! how often they were opened, and revoking them.

use dioxus::prelude::*;

use super::{ExpirySelect, Failed, Header, Loading};
use crate::{Link, LinkRequest, Loadable, Target, UiError, use_app, use_backend};

/// What can be shared: the albums, and the photo the user came from.
fn targets(albums: &[crate::Album], from: &Option<(Target, String)>) -> Vec<(Target, String)> {
    let mut out: Vec<(Target, String)> = Vec::new();
    if let Some((t, name)) = from {
        out.push((t.clone(), format!("{} “{}”", t.kind(), name)));
    }
    for a in albums {
        let t = Target::Album(a.id.clone());
        if !out.iter().any(|(x, _)| *x == t) {
            out.push((t, format!("album “{}”", a.name)));
        }
    }
    out
}

fn expiry_text(expires: &Option<String>, expired: bool) -> String {
    match (expires, expired) {
        (_, true) => "expired".into(),
        (Some(when), false) => format!("until {when}"),
        (None, false) => "no expiry".into(),
    }
}

/// The sharing screen.
#[component]
pub fn Sharing() -> Element {
    let backend = use_backend();
    let app = use_app();
    let mut version = use_signal(|| 0u32);
    let code = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            async move { backend.share_code().await }
        }
    });
    let albums = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            async move { backend.albums().await }
        }
    });
    let grants = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            let _ = version();
            async move { backend.grants().await }
        }
    });
    let links = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            let _ = version();
            async move { backend.links().await }
        }
    });
    let from = app.share_target.read().clone();
    let choices = match Loadable::from(albums.read().clone()) {
        Loadable::Ready(a) => targets(&a, &from),
        _ => targets(&[], &from),
    };
    let copy = {
        let backend = backend.clone();
        move |text: String| {
            let backend = backend.clone();
            spawn(async move {
                match backend.copy(text).await {
                    Ok(()) => app.tell("Copied"),
                    Err(e) => app.fail(&e),
                }
            });
        }
    };
    let my_code = match Loadable::from(code.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "your share code" } },
        Loadable::Failed(e) => {
            rsx! { Failed { error: e, retry: move |_| { let mut c = code; c.restart() } } }
        }
        Loadable::Ready(c) => {
            let copy = copy.clone();
            let text = c.code.clone();
            rsx! {
                div { class: "share-code", "data-testid": crate::testid("my-share-code"),
                    code { class: "code", "{c.code}" }
                    p { "Words to read to each other: " strong { class: "fingerprint", "data-testid": crate::testid("my-fingerprint"), "{c.fingerprint}" } }
                    button { onclick: {
                        let copy = copy.clone();
                        move |_| copy(text.clone())
                    }, "data-testid": crate::testid("copy-share-code"), "Copy share code" }
                    p { class: "muted", "When you share with someone, send them your vault id too: they add it under Shared with me." }
                    p { "Your vault id: " code { class: "principal", "data-testid": crate::testid("my-vault-id"), "{c.vault}" } " "
                        button { class: "link", onclick: {
                            let vault = c.vault.clone();
                            move |_| copy(vault.clone())
                        }, "data-testid": crate::testid("copy-vault-id"), "Copy" } }
                }
            }
        }
    };
    let grant_list = match Loadable::from(grants.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "who has access" } },
        Loadable::Failed(e) => rsx! { Failed { error: e, retry: move |_| version += 1 } },
        Loadable::Ready(list) if list.is_empty() => rsx! {
            p { class: "muted", "data-testid": crate::testid("no-grants"), "Nothing is shared with anyone." }
        },
        Loadable::Ready(list) => rsx! {
            ul { class: "list", "data-testid": crate::testid("grants"),
                for g in list {
                    li { key: "{g.target.id()}{g.grantee}", class: if g.expired { "expired" } else { "" },
                        div {
                            strong { "{g.name.clone().unwrap_or_else(|| g.target.kind().to_string())}" }
                            span { class: "muted", " · {g.target.kind()} · {g.permission} · {expiry_text(&g.expires, g.expired)}" }
                            div { class: "principal", "{g.grantee}" }
                        }
                        button { class: "danger", "data-testid": crate::testid("revoke-grant"),
                            onclick: {
                                let backend = backend.clone();
                                let (target, grantee) = (g.target.clone(), g.grantee.clone());
                                move |_| {
                                    let backend = backend.clone();
                                    let (target, grantee) = (target.clone(), grantee.clone());
                                    spawn(async move {
                                        match backend.revoke_grant(target, grantee).await {
                                            Ok(()) => { app.tell("Access taken back"); version += 1; }
                                            Err(e) => app.fail(&e),
                                        }
                                    });
                                }
                            },
                            "Revoke"
                        }
                    }
                }
            }
        },
    };
    let link_list = match Loadable::from(links.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "links" } },
        Loadable::Failed(e) => rsx! { Failed { error: e, retry: move |_| version += 1 } },
        Loadable::Ready(list) if list.is_empty() => rsx! {
            p { class: "muted", "data-testid": crate::testid("no-links"), "No links yet." }
        },
        Loadable::Ready(list) => rsx! {
            ul { class: "list", "data-testid": crate::testid("links"),
                for l in list {
                    LinkRow { key: "{l.id}", link: l.clone(), on_copy: copy.clone(), on_revoked: move |_| version += 1 }
                }
            }
        },
    };
    rsx! {
        section { class: "screen sharing",
            Header { title: "Sharing" }
            div { class: "panel",
                h2 { "Your share code" }
                p { class: "muted", "Give it to people who want to share with you. When they type it, both of you see the same words: read them to each other to be sure it is you." }
                {my_code}
            }
            div { class: "panel",
                h2 { "Share with someone" }
                ShareForm { choices: choices.clone(), on_shared: move |_| version += 1 }
                h3 { "Who has access" }
                {grant_list}
            }
            div { class: "panel",
                h2 { "Links" }
                p { class: "muted", "Anyone with a link can see what it opens, in any browser. Its key is in the part of the URL after #, which never reaches a server." }
                LinkForm { choices, on_created: move |_| version += 1, on_copy: copy.clone() }
                {link_list}
            }
        }
    }
}

/// What the share form holds, in one signal.
#[derive(Clone, Debug, Default, PartialEq)]
struct ShareDraft {
    /// Index into the choices.
    target: usize,
    /// Their share code, as typed.
    code: String,
    /// The words of the code typed, or why it is no share code; `None` before one is typed.
    words: Option<Result<String, UiError>>,
    /// Days until the grant expires; `None` for never.
    days: Option<u32>,
    busy: bool,
    /// The code's input is not bound to `code` (typing fast in a webview would lose keys): a
    /// new generation remounts it empty.
    generation: u32,
}

#[component]
fn ShareForm(choices: Vec<(Target, String)>, on_shared: EventHandler<()>) -> Element {
    let backend = use_backend();
    let app = use_app();
    let mut draft = use_signal(ShareDraft::default);
    let check = {
        let backend = backend.clone();
        move |text: String| {
            {
                let mut d = draft.write();
                d.code = text.clone();
                if text.trim().is_empty() {
                    d.words = None;
                    return;
                }
            }
            let backend = backend.clone();
            spawn(async move {
                let answer = backend.check_share_code(text.trim().to_string()).await;
                // Only the answer for what is typed now counts.
                let mut d = draft.write();
                if d.code.trim() == text.trim() {
                    d.words = Some(answer);
                }
            });
        }
    };
    let chosen = choices.get(draft.read().target).cloned();
    let share = {
        let backend = backend.clone();
        let chosen = chosen.clone();
        move |e: FormEvent| {
            e.prevent_default();
            let Some((t, label)) = chosen.clone() else {
                app.fail(&UiError::new(
                    "Choose what to share: make an album, or open a photo and press Share.",
                ));
                return;
            };
            let (who, expiry) = {
                let d = draft.read();
                if !matches!(d.words, Some(Ok(_))) {
                    drop(d);
                    app.fail(&UiError::new(
                        "Paste the share code of the person to share with, and check their words.",
                    ));
                    return;
                }
                (d.code.trim().to_string(), d.days)
            };
            let backend = backend.clone();
            draft.write().busy = true;
            spawn(async move {
                match backend.share(t, who, expiry).await {
                    Ok(grant) => {
                        app.tell(format!(
                            "Shared {label}. {}",
                            grant.told.unwrap_or_default()
                        ));
                        let mut d = draft.write();
                        d.code.clear();
                        d.words = None;
                        d.generation += 1;
                        drop(d);
                        on_shared.call(());
                    }
                    Err(e) => app.fail(&e),
                }
                draft.write().busy = false;
            });
        }
    };
    let d = draft.read().clone();
    let ready = matches!(d.words, Some(Ok(_))) && chosen.is_some();
    rsx! {
        form { class: "share-form", onsubmit: share, "data-testid": crate::testid("share-form"),
            TargetSelect { choices: choices.clone(), selected: d.target, testid: "share-target",
                onchange: move |i| draft.write().target = i }
            label { "Their share code"
                for g in [d.generation] {
                    input { key: "{g}", "data-testid": crate::testid("share-code-input"), placeholder: "Paste their share code",
                        spellcheck: "false", oninput: {
                            let mut check = check.clone();
                            move |e: FormEvent| check(e.value())
                        } }
                }
            }
            match d.words {
                Some(Ok(w)) => rsx! { p { class: "fingerprint-check", "data-testid": crate::testid("their-fingerprint"),
                    "Their words: " strong { "{w}" } ". Ask them to read theirs: they must be the same." } },
                Some(Err(e)) => rsx! { p { class: "error", "data-testid": crate::testid("share-code-error"), "{e}" } },
                None => rsx! {},
            }
            div { class: "row",
                ExpirySelect { value: d.days, testid: "share-expiry", onchange: move |days| draft.write().days = days }
                button { r#type: "submit", class: "primary", disabled: !ready || d.busy, "data-testid": crate::testid("share"),
                    if d.busy { "Sharing…" } else { "Share" } }
            }
        }
    }
}

#[component]
fn TargetSelect(
    choices: Vec<(Target, String)>,
    selected: usize,
    testid: String,
    onchange: EventHandler<usize>,
) -> Element {
    if choices.is_empty() {
        return rsx! {
            p { class: "muted", "Nothing to share yet: make an album, or open a photo and press Share." }
        };
    }
    rsx! {
        label { "What"
            select { "data-testid": "{testid}",
                onchange: move |e| onchange.call(e.value().parse().unwrap_or(0)),
                for (i , (_ , label)) in choices.iter().enumerate() {
                    option { value: "{i}", selected: selected == i, "{label}" }
                }
            }
        }
    }
}

/// What the link form holds, in one signal.
#[derive(Clone, Debug, PartialEq)]
struct LinkDraft {
    /// Index into the choices.
    target: usize,
    /// Days until the link expires; `None` for never.
    days: Option<u32>,
    /// Its password, empty for none.
    password: String,
    /// The link made last, to copy.
    created: Option<Link>,
    busy: bool,
    /// A new generation remounts the password's input empty.
    generation: u32,
}

impl Default for LinkDraft {
    fn default() -> Self {
        LinkDraft {
            target: 0,
            days: Some(30),
            password: String::new(),
            created: None,
            busy: false,
            generation: 0,
        }
    }
}

#[component]
fn LinkForm(
    choices: Vec<(Target, String)>,
    on_created: EventHandler<()>,
    on_copy: Callback<String>,
) -> Element {
    let backend = use_backend();
    let app = use_app();
    let mut draft = use_signal(LinkDraft::default);
    let chosen = choices.get(draft.read().target).cloned();
    let create = {
        let backend = backend.clone();
        move |e: FormEvent| {
            e.prevent_default();
            let Some((t, _)) = chosen.clone() else {
                return;
            };
            let backend = backend.clone();
            let request = {
                let mut d = draft.write();
                d.busy = true;
                LinkRequest {
                    expires_days: d.days,
                    password: (!d.password.is_empty()).then(|| d.password.clone()),
                }
            };
            spawn(async move {
                match backend.create_link(t, request).await {
                    Ok(link) => {
                        let mut d = draft.write();
                        d.password.clear();
                        d.generation += 1;
                        d.created = Some(link);
                        drop(d);
                        on_created.call(());
                    }
                    Err(e) => app.fail(&e),
                }
                draft.write().busy = false;
            });
        }
    };
    let d = draft.read().clone();
    rsx! {
        form { class: "link-form", onsubmit: create, "data-testid": crate::testid("link-form"),
            TargetSelect { choices: choices.clone(), selected: d.target, testid: "link-target",
                onchange: move |i| draft.write().target = i }
            div { class: "row",
                ExpirySelect { value: d.days, testid: "link-expiry", onchange: move |days| draft.write().days = days }
                for g in [d.generation] {
                    input { key: "{g}", r#type: "password", placeholder: "Password (optional)", "aria-label": "Password",
                        autocomplete: "new-password", "data-testid": crate::testid("link-password"),
                        oninput: move |e| draft.write().password = e.value() }
                }
                button { r#type: "submit", class: "primary", disabled: choices.is_empty() || d.busy, "data-testid": crate::testid("create-link"),
                    if d.busy { "Making link…" } else { "Create link" } }
            }
        }
        if let Some(link) = d.created {
            if let Some(url) = link.url.clone() {
                div { class: "new-link", "data-testid": crate::testid("new-link"),
                    input { readonly: true, value: "{url}", "data-testid": crate::testid("new-link-url"), "aria-label": "Link" }
                    button { class: "primary", "data-testid": crate::testid("copy-new-link"), onclick: move |_| on_copy.call(url.clone()), "Copy link" }
                }
            }
        }
    }
}

#[component]
fn LinkRow(link: Link, on_copy: Callback<String>, on_revoked: EventHandler<()>) -> Element {
    let backend = use_backend();
    let app = use_app();
    let state = if link.revoked {
        "revoked".to_string()
    } else {
        expiry_text(&link.expires, link.expired)
    };
    let live = !link.revoked && !link.expired;
    let revoke = {
        let id = link.id.clone();
        move |_| {
            let backend = backend.clone();
            let id = id.clone();
            spawn(async move {
                match backend.revoke_link(id).await {
                    Ok(()) => {
                        app.tell("Link revoked: it no longer opens");
                        on_revoked.call(());
                    }
                    Err(e) => app.fail(&e),
                }
            });
        }
    };
    rsx! {
        li { class: if live { "" } else { "expired" },
            div {
                strong { "{link.name.clone().unwrap_or_else(|| link.target.kind().to_string())}" }
                span { class: "muted",
                    " · {link.target.kind()} · {state} · opened {link.opened}×"
                    if link.password { " · password" }
                }
            }
            div { class: "actions",
                if let (true, Some(url)) = (live, link.url.clone()) {
                    button { onclick: move |_| on_copy.call(url.clone()), "Copy link" }
                }
                if !link.revoked {
                    button { class: "danger", onclick: revoke, "data-testid": crate::testid("revoke-link"), "Revoke" }
                }
            }
        }
    }
}
