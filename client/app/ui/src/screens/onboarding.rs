//! Creating a vault, unlocking it, recovering it; the recovery key shown once, confirmed.

use dioxus::prelude::*;

use crate::{Status, UiError, use_app, use_backend};

/// Shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 8;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Create,
    Unlock,
    Recover,
    /// The recovery key, shown once.
    ShowKey(String),
    /// The user types two of its words back.
    ConfirmKey(String),
}

/// The two words (1-based positions) the user types back to show they kept the key.
pub fn confirm_positions(words: usize) -> (usize, usize) {
    if words < 2 {
        return (1, 1);
    }
    (3.min(words), words - 1)
}

/// Checks a new passphrase and its repetition.
pub fn check_new_passphrase(passphrase: &str, again: &str) -> Result<(), UiError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(UiError::new(format!(
            "Use at least {MIN_PASSPHRASE} characters: a few words you can remember are best."
        )));
    }
    if passphrase != again {
        return Err(UiError::new(
            "The two passphrases differ: type the same one twice.",
        ));
    }
    Ok(())
}

/// Onboarding: what to do depends on whether a vault exists.
#[component]
pub fn Onboarding(status: Status) -> Element {
    let first = if status == Status::NoVault {
        Step::Create
    } else {
        Step::Unlock
    };
    let mut step = use_signal(|| first.clone());
    let mut error = use_signal(|| None::<UiError>);
    let busy = use_signal(|| false);
    let current = step.read().clone();
    let mut go = move |to: Step| {
        error.set(None);
        step.set(to);
    };
    // On a device that knows no vault, opening one asks for its id.
    let new_device = status == Status::NoVault;
    let body = match current {
        Step::Create => rsx! {
            CreateForm { error, busy, step }
            p { class: "switch",
                "Have a vault already? "
                button { class: "link", "data-testid": crate::testid("to-unlock"),
                    onclick: move |_| go(Step::Unlock), "Open it on this device" }
                " or "
                button { class: "link", "data-testid": crate::testid("to-recover"),
                    onclick: move |_| go(Step::Recover), "recover it with your recovery key" }
            }
        },
        Step::Unlock => rsx! {
            UnlockForm { error, busy, new_device }
            p { class: "switch",
                "Forgot your passphrase? "
                button { class: "link", "data-testid": crate::testid("to-recover"),
                    onclick: move |_| go(Step::Recover), "Use your recovery key" }
            }
        },
        Step::Recover => rsx! {
            RecoverForm { error, busy, new_device }
            p { class: "switch",
                button { class: "link", onclick: move |_| go(first.clone()), "Back" }
            }
        },
        Step::ShowKey(words) => rsx! { ShowKey { words, step } },
        Step::ConfirmKey(words) => rsx! { ConfirmKey { words, step, error } },
    };
    rsx! {
        div { class: "onboarding",
            div { class: "card",
                div { class: "brand big", "Vault" }
                p { class: "tagline", "Your photos, encrypted on this device, in a canister only you control." }
                {body}
                if let Some(e) = error.read().as_ref() {
                    p { class: "error", role: "alert", "data-testid": crate::testid("onboarding-error"), "{e}" }
                }
            }
        }
    }
}

#[component]
fn CreateForm(error: Signal<Option<UiError>>, busy: Signal<bool>, step: Signal<Step>) -> Element {
    let backend = use_backend();
    let mut passphrase = use_signal(String::new);
    let mut again = use_signal(String::new);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        if *busy.read() {
            return;
        }
        let (p, a) = (passphrase.read().clone(), again.read().clone());
        if let Err(e) = check_new_passphrase(&p, &a) {
            error.set(Some(e));
            return;
        }
        error.set(None);
        busy.set(true);
        let backend = backend.clone();
        spawn(async move {
            let result = backend.create(p).await;
            busy.set(false);
            match result {
                Ok(key) => {
                    passphrase.set(String::new());
                    again.set(String::new());
                    step.set(Step::ShowKey(key));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("create-form"),
            h2 { "Create your vault" }
            p { "Choose a passphrase. It unlocks your vault on a new device; nobody, including us, can reset it." }
            NewPassphrase { label: "Passphrase", passphrase, again }
            button { r#type: "submit", class: "primary", disabled: *busy.read(), "data-testid": crate::testid("create"),
                if *busy.read() { "Creating your vault…" } else { "Create vault" }
            }
        }
    }
}

#[component]
fn UnlockForm(error: Signal<Option<UiError>>, busy: Signal<bool>, new_device: bool) -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let mut passphrase = use_signal(String::new);
    let vault_id = use_signal(String::new);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        if *busy.read() {
            return;
        }
        let vault = match vault_to_open(new_device, &vault_id.read()) {
            Ok(vault) => vault,
            Err(e) => return error.set(Some(e)),
        };
        let p = passphrase.read().clone();
        if p.is_empty() {
            error.set(Some(UiError::new("Type your passphrase.")));
            return;
        }
        error.set(None);
        busy.set(true);
        let backend = backend.clone();
        spawn(async move {
            let result = backend.unlock(vault, p).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    passphrase.set(String::new());
                    app.unlocked.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("unlock-form"),
            h2 { if new_device { "Open your vault on this device" } else { "Unlock your vault" } }
            if new_device { VaultIdField { vault_id } }
            label { "Passphrase"
                input { r#type: "password", autocomplete: "current-password", "data-testid": crate::testid("passphrase"),
                    oninput: move |e| passphrase.set(e.value()) }
            }
            button { r#type: "submit", class: "primary", disabled: *busy.read(), "data-testid": crate::testid("unlock"),
                if *busy.read() { "Unlocking…" } else { "Unlock" }
            }
        }
    }
}

#[component]
fn RecoverForm(error: Signal<Option<UiError>>, busy: Signal<bool>, new_device: bool) -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let vault_id = use_signal(String::new);
    let mut key = use_signal(String::new);
    let passphrase = use_signal(String::new);
    let again = use_signal(String::new);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        if *busy.read() {
            return;
        }
        let vault = match vault_to_open(new_device, &vault_id.read()) {
            Ok(vault) => vault,
            Err(e) => return error.set(Some(e)),
        };
        let words = key.read().split_whitespace().collect::<Vec<_>>().join(" ");
        if words.split(' ').count() != 24 {
            error.set(Some(UiError::new(
                "A recovery key is 24 words: type all of them, in order.",
            )));
            return;
        }
        let (p, a) = (passphrase.read().clone(), again.read().clone());
        if let Err(e) = check_new_passphrase(&p, &a) {
            error.set(Some(e));
            return;
        }
        error.set(None);
        busy.set(true);
        let backend = backend.clone();
        spawn(async move {
            let result = backend.recover(vault, words, p).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    key.set(String::new());
                    app.unlocked.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("recover-form"),
            h2 { "Recover your vault" }
            p { "Type the 24 words of the recovery key you wrote down when you created the vault, then choose a new passphrase." }
            if new_device { VaultIdField { vault_id } }
            label { "Recovery key"
                textarea { rows: 3, "data-testid": crate::testid("recovery-key"), spellcheck: "false",
                    oninput: move |e| key.set(e.value()) }
            }
            NewPassphrase { label: "New passphrase", passphrase, again }
            button { r#type: "submit", class: "primary", disabled: *busy.read(), "data-testid": crate::testid("recover"),
                if *busy.read() { "Recovering…" } else { "Recover vault" }
            }
        }
    }
}

/// A new passphrase, typed twice (creating a vault, recovering one).
#[component]
fn NewPassphrase(
    label: &'static str,
    passphrase: Signal<String>,
    again: Signal<String>,
) -> Element {
    rsx! {
        label { "{label}"
            input { r#type: "password", autocomplete: "new-password", "data-testid": crate::testid("passphrase"),
                oninput: move |e| passphrase.set(e.value()) }
        }
        label { "The same again"
            input { r#type: "password", autocomplete: "new-password", "data-testid": crate::testid("passphrase-again"),
                oninput: move |e| again.set(e.value()) }
        }
    }
}

/// The vault to open: none (the one this device knows), or on a new device the id typed.
fn vault_to_open(new_device: bool, typed: &str) -> Result<Option<String>, UiError> {
    if !new_device {
        return Ok(None);
    }
    let id = typed.trim();
    if id.is_empty() {
        return Err(UiError::new(
            "Type your vault's id: Settings shows it on a device where your vault is open.",
        ));
    }
    Ok(Some(id.to_string()))
}

/// The vault's id, asked on a device that knows no vault.
#[component]
fn VaultIdField(vault_id: Signal<String>) -> Element {
    rsx! {
        label { "Vault id"
            input { r#type: "text", autocomplete: "off", spellcheck: "false", placeholder: "xxxxx-xxxxx-xxxxx-xxxxx-cai",
                "data-testid": crate::testid("vault-id"), oninput: move |e| vault_id.set(e.value()) }
        }
    }
}

#[component]
fn ShowKey(words: String, step: Signal<Step>) -> Element {
    let key = words.clone();
    let words: Vec<String> = key.split_whitespace().map(str::to_owned).collect();
    let mut kept = use_signal(|| false);
    rsx! {
        div { "data-testid": crate::testid("recovery-key-shown"),
            h2 { "Your recovery key" }
            p { "If you forget your passphrase, these 24 words are the only way into your vault. Write them down and keep them somewhere safe. They are shown only now." }
            ol { class: "words",
                for (i , w) in words.iter().enumerate() {
                    li { key: "{i}", "{w}" }
                }
            }
            label { class: "check",
                input { r#type: "checkbox", "data-testid": crate::testid("kept"), checked: *kept.read(),
                    onchange: move |e| kept.set(e.checked()) }
                "I have written down my recovery key"
            }
            button { class: "primary", disabled: !*kept.read(), "data-testid": crate::testid("key-next"),
                onclick: move |_| if kept() { step.set(Step::ConfirmKey(key.clone())) }, "Next" }
        }
    }
}

#[component]
fn ConfirmKey(words: String, step: Signal<Step>, error: Signal<Option<UiError>>) -> Element {
    let key = words;
    let mut app = use_app();
    let words: Vec<String> = key.split_whitespace().map(str::to_owned).collect();
    let (a, b) = confirm_positions(words.len());
    let mut first = use_signal(String::new);
    let mut second = use_signal(String::new);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        let ok = first.read().trim().eq_ignore_ascii_case(&words[a - 1])
            && second.read().trim().eq_ignore_ascii_case(&words[b - 1]);
        if ok {
            error.set(None);
            // The key leaves memory with this step.
            step.set(Step::Create);
            app.unlocked.set(true);
        } else {
            error.set(Some(UiError::new(
                "Those words do not match your recovery key: check what you wrote down.",
            )));
        }
    };
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("confirm-form"),
            h2 { "Check your recovery key" }
            p { "Type two words from what you wrote down." }
            label { "Word {a}"
                input { "data-testid": crate::testid("word-a"), autocomplete: "off",
                    oninput: move |e| first.set(e.value()) }
            }
            label { "Word {b}"
                input { "data-testid": crate::testid("word-b"), autocomplete: "off",
                    oninput: move |e| second.set(e.value()) }
            }
            div { class: "row",
                button { r#type: "button", onclick: move |_| step.set(Step::ShowKey(key.clone())), "Show the key again" }
                button { r#type: "submit", class: "primary", "data-testid": crate::testid("confirm"), "Done" }
            }
        }
    }
}
