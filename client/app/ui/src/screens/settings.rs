//! Settings: network, identity, where the vault serves the app to a browser, usage, quota,
//! cost, devices, lock.

use dioxus::prelude::*;

use super::{Failed, Header, Loading, bytes};
use crate::{Loadable, TopUp, use_app, use_backend};

/// The settings screen.
#[component]
pub fn SettingsPage() -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let mut settings = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            async move { backend.settings().await }
        }
    });
    let copy_app_url = {
        let backend = backend.clone();
        move |url: String| {
            let backend = backend.clone();
            move |_| {
                let backend = backend.clone();
                let url = url.clone();
                spawn(async move {
                    if let Err(e) = backend.copy(url).await {
                        app.fail(&e);
                    }
                });
            }
        }
    };
    // Topping up: how many T cycles or ICP, and whether one is on its way.
    let mut top_up_t = use_signal(|| 1u32);
    let mut top_up_e8s = use_signal(|| 50_000_000u64);
    // The top-up under way, if one is: both buttons wait for it.
    let mut topping_up = use_signal(|| None::<TopUp>);
    let top_up = {
        let backend = backend.clone();
        move |amount: TopUp| {
            let backend = backend.clone();
            move |_| {
                if topping_up().is_some() {
                    return;
                }
                topping_up.set(Some(amount));
                let backend = backend.clone();
                spawn(async move {
                    match backend.top_up(amount).await {
                        Ok(said) => {
                            app.tell(said);
                            settings.restart();
                        }
                        Err(e) => app.fail(&e),
                    }
                    topping_up.set(None);
                });
            }
        }
    };
    let mut passkey = use_signal(|| None::<Result<bool, crate::model::UiError>>);
    let mut adding = use_signal(|| false);
    let has_passkeys = backend.has_passkeys();
    let mut lock_after = use_signal(|| backend.lock_after());
    let mut lock_error = use_signal(|| None::<String>);
    let choose_lock = {
        let backend = backend.clone();
        move |e: Event<FormData>| {
            let Ok(minutes) = e.value().parse::<u32>() else {
                return;
            };
            match backend.set_lock_after(minutes) {
                Ok(()) => {
                    lock_error.set(None);
                    lock_after.set(backend.lock_after());
                }
                Err(e) => lock_error.set(Some(e.to_string())),
            }
        }
    };
    let add_passkey = {
        let backend = backend.clone();
        move |_| {
            if adding() {
                return;
            }
            adding.set(true);
            let backend = backend.clone();
            spawn(async move {
                let added = backend.add_passkey().await;
                let ok = added.is_ok();
                passkey.set(Some(added));
                adding.set(false);
                if ok {
                    settings.restart();
                }
            });
        }
    };
    // Removing a device: the one asked about, then what came of it.
    let mut removing = use_signal(|| None::<String>);
    let mut removed = use_signal(|| None::<Result<String, crate::model::UiError>>);
    let remove = {
        let backend = backend.clone();
        move |_| {
            let Some(principal) = removing() else {
                return;
            };
            removing.set(None);
            let backend = backend.clone();
            spawn(async move {
                let done = backend.remove_device(principal.clone()).await;
                let ok = done.is_ok();
                removed.set(Some(done.map(|()| principal)));
                if ok {
                    settings.restart();
                }
            });
        }
    };
    let lock = move |_| {
        let backend = backend.clone();
        spawn(async move {
            match backend.lock().await {
                Ok(()) => {
                    app.viewer.set(None);
                    app.unlocked.set(false);
                }
                Err(e) => app.fail(&e),
            }
        });
    };
    let body = match Loadable::from(settings.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "settings" } },
        Loadable::Failed(e) => rsx! { Failed { error: e, retry: move |_| settings.restart() } },
        Loadable::Ready(s) => {
            let used = match s.quota_bytes {
                Some(q) if q > 0 => {
                    let pct = (s.stored_bytes as f64 * 100.0 / q as f64).min(100.0);
                    rsx! {
                        dd { "{bytes(s.stored_bytes)} of {bytes(q)}"
                            progress { max: "100", value: "{pct:.1}" }
                        }
                    }
                }
                _ => rsx! { dd { "{bytes(s.stored_bytes)} (no quota)" } },
            };
            rsx! {
                dl { class: "settings", "data-testid": crate::testid("settings"),
                    dt { "Network" } dd { "{s.network}" }
                    dt { "This device" } dd { class: "principal", "{s.identity}" }
                    dt { "Vault id" } dd { class: "principal", "{s.canister}" }
                    dt { "In a browser" }
                    dd {
                        span { class: "principal", "data-testid": crate::testid("app-url"), "{s.app_url}" }
                        " "
                        button { onclick: copy_app_url(s.app_url.clone()), "data-testid": crate::testid("copy-app-url"), "Copy" }
                        p { class: "muted", "Open it on a phone or any computer, type your passphrase, and that browser is one of your devices: nothing to install." }
                    }
                    dt { "Photos" } dd { "{s.files}" }
                    dt { "Storage" } {used}
                    dt { "Cost" } dd { "{s.cost}" }
                    dt { "Cycles" }
                    dd { class: if s.cycles_low { "warn" } else { "" },
                        span { "data-testid": crate::testid("cycles"), "{s.cycles}" }
                        if s.can_pay {
                        div { class: "row top-up",
                            select { "aria-label": "Cycles to send", "data-testid": crate::testid("top-up-amount"),
                                onchange: move |e: Event<FormData>| {
                                    if let Ok(t) = e.value().parse::<u32>() { top_up_t.set(t) }
                                },
                                for t in TopUp::CYCLES_T {
                                    option { key: "{t}", value: "{t}", selected: t == top_up_t(),
                                        "{t} T cycles" }
                                }
                            }
                            button { class: if s.cycles_low { "primary" } else { "" }, disabled: topping_up().is_some(),
                                onclick: top_up(TopUp::Cycles { t: top_up_t() }), "data-testid": crate::testid("top-up"),
                                if matches!(topping_up(), Some(TopUp::Cycles { .. })) { "Sending…" } else { "Top up" } }
                        }
                        div { class: "row top-up",
                            select { "aria-label": "ICP to pay", "data-testid": crate::testid("top-up-icp-amount"),
                                onchange: move |e: Event<FormData>| {
                                    if let Ok(e8s) = e.value().parse::<u64>() { top_up_e8s.set(e8s) }
                                },
                                for (e8s, icp) in TopUp::ICP {
                                    option { key: "{e8s}", value: "{e8s}", selected: e8s == top_up_e8s(),
                                        "{icp} ICP" }
                                }
                            }
                            button { class: if s.cycles_low { "primary" } else { "" }, disabled: topping_up().is_some(),
                                onclick: top_up(TopUp::Icp { e8s: top_up_e8s() }), "data-testid": crate::testid("top-up-icp"),
                                if matches!(topping_up(), Some(TopUp::Icp { .. })) { "Sending…" } else { "Pay in ICP" } }
                        }
                        }
                        p { class: "muted", "data-testid": crate::testid("wallet"), "{s.wallet}" }
                    }
                    dt { "Code" }
                    dd { class: if s.code_known { "" } else { "warn" },
                        "data-testid": crate::testid("code"), "{s.code}" }
                    dt { "Devices" }
                    dd {
                        ul { class: "devices", "data-testid": crate::testid("devices"),
                            for d in s.devices {
                                li { key: "{d.principal}",
                                    span { class: "principal", "{d.principal}" }
                                    " "
                                    span { class: "muted", "({d.about})" }
                                    if !d.this_device {
                                        " "
                                        button { class: "danger", "data-testid": crate::testid("remove-device"),
                                            onclick: {
                                                let principal = d.principal.clone();
                                                move |_| { removed.set(None); removing.set(Some(principal.clone())); }
                                            },
                                            "Remove"
                                        }
                                    }
                                }
                            }
                        }
                        if let Some(principal) = removing() {
                            div { class: "confirm", role: "alertdialog", "data-testid": crate::testid("confirm-remove"),
                                p { "Remove {principal}? It will no longer reach your vault, from its very next call." }
                                button { class: "danger", onclick: remove, "data-testid": crate::testid("confirm-remove-device"), "Remove" }
                                " "
                                button { onclick: move |_| removing.set(None), "Cancel" }
                            }
                        }
                        match removed.read().as_ref() {
                            Some(Ok(principal)) => rsx! {
                                p { role: "status", "data-testid": crate::testid("device-removed"),
                                    "Device removed: {principal} can no longer reach your vault. If whoever has it may know your passphrase or recovery words, change them." }
                            },
                            Some(Err(e)) => rsx! { p { class: "error", role: "alert", "{e}" } },
                            None => rsx! {},
                        }
                    }
                    if let Some((chosen, choices)) = lock_after() {
                        dt { "Lock after" }
                        dd {
                            select { "aria-label": "Lock after", onchange: choose_lock.clone(), "data-testid": crate::testid("lock-after"),
                                for m in choices {
                                    option { key: "{m}", value: "{m}", selected: m == chosen,
                                        if m == 1 { "1 minute" } else { "{m} minutes" }
                                    }
                                }
                            }
                            p { class: "muted", "Without a touch on this browser, it locks the vault (sooner when you leave it for another app, at most 5 minutes); never while an upload runs." }
                            if let Some(e) = lock_error() {
                                p { class: "error", role: "alert", "{e}" }
                            }
                        }
                    }
                    if has_passkeys {
                        dt { "Passkeys" }
                        dd {
                            button { onclick: add_passkey, disabled: adding(), "data-testid": crate::testid("add-passkey"),
                                if adding() { "Waiting for your passkey…" } else { "Add a passkey" }
                            }
                            match passkey.read().as_ref() {
                                Some(Ok(true)) => rsx! {
                                    p { role: "status", "data-testid": crate::testid("passkey-added"),
                                        "Passkey added. Next time, “Use a passkey” signs you in and unlocks the vault: no passphrase." }
                                },
                                Some(Ok(false)) => rsx! {
                                    p { role: "status", "data-testid": crate::testid("passkey-added"),
                                        "Passkey added. It signs you in; your passphrase still unlocks the vault (this passkey cannot hold a key for it)." }
                                },
                                Some(Err(e)) => rsx! {
                                    p { class: "error", role: "alert", "data-testid": crate::testid("passkey-error"), "{e}" }
                                },
                                None => rsx! {
                                    p { class: "muted", "A passkey on this phone or in your password manager signs you in with your fingerprint, face or PIN. Where it can, it unlocks the vault too: whoever holds the passkey then needs no passphrase." }
                                },
                            }
                        }
                    }
                }
            }
        }
    };
    rsx! {
        section { class: "screen settings-screen",
            Header { title: "Settings",
                button { class: "danger", onclick: lock, "data-testid": crate::testid("lock"), "Lock" }
            }
            p { class: "muted", "Your photos are encrypted on this device. The canister holds ciphertext only; the keys never leave your devices unencrypted." }
            {body}
        }
    }
}
