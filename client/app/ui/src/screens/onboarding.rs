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

/// Everything onboarding holds, in one signal: where the user is, what they typed there, and
/// how the last try went. Moving to another step starts it empty (a passphrase or recovery key
/// typed on one step does not linger for the next).
#[derive(Clone, Debug, PartialEq)]
struct Form {
    step: Step,
    /// Typed on a device that knows no vault.
    vault_id: String,
    passphrase: String,
    /// The new passphrase typed again.
    again: String,
    recovery_key: String,
    /// The recovery key's words typed back.
    words: (String, String),
    /// "I have written down my recovery key".
    kept: bool,
    error: Option<UiError>,
    /// What the last try did that the user should know (signed in with a passkey that does
    /// not unlock).
    notice: Option<String>,
    busy: bool,
}

impl Form {
    fn at(step: Step) -> Form {
        Form {
            step,
            vault_id: String::new(),
            passphrase: String::new(),
            again: String::new(),
            recovery_key: String::new(),
            words: (String::new(), String::new()),
            kept: false,
            error: None,
            notice: None,
            busy: false,
        }
    }

    /// Starts a try.
    fn start(&mut self) {
        self.error = None;
        self.busy = true;
    }

    /// How a try ended: on to `next`, or back with the error.
    fn finish(&mut self, result: Result<Step, UiError>) {
        match result {
            Ok(next) => *self = Form::at(next),
            Err(e) => {
                self.busy = false;
                self.error = Some(e);
            }
        }
    }
}

/// Onboarding: what to do depends on whether a vault exists.
#[component]
pub fn Onboarding(status: Status) -> Element {
    let first = if status == Status::NoVault {
        Step::Create
    } else {
        Step::Unlock
    };
    let mut form = use_signal(|| Form::at(first.clone()));
    let current = form.read().step.clone();
    let mut go = move |to: Step| form.set(Form::at(to));
    // On a device that knows no vault, opening one asks for its id.
    let new_device = status == Status::NoVault;
    let body = match current {
        Step::Create => rsx! {
            CreateForm { form }
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
            UnlockForm { form, new_device }
            p { class: "switch",
                "Forgot your passphrase? "
                button { class: "link", "data-testid": crate::testid("to-recover"),
                    onclick: move |_| go(Step::Recover), "Use your recovery key" }
            }
        },
        Step::Recover => rsx! {
            RecoverForm { form, new_device }
            p { class: "switch",
                button { class: "link", onclick: move |_| go(first.clone()), "Back" }
            }
        },
        Step::ShowKey(words) => rsx! { ShowKey { words, form } },
        Step::ConfirmKey(words) => rsx! { ConfirmKey { words, form } },
    };
    rsx! {
        div { class: "onboarding",
            div { class: "card",
                div { class: "brand big", "Vault" }
                p { class: "tagline", "Your photos, encrypted on this device, in a canister only you control." }
                {body}
                if let Some(e) = form.read().error.as_ref() {
                    p { class: "error", role: "alert", "data-testid": crate::testid("onboarding-error"), "{e}" }
                }
            }
        }
    }
}

#[component]
fn CreateForm(form: Signal<Form>) -> Element {
    let backend = use_backend();
    let price = backend.vault_price();
    let submit = move |e: FormEvent| {
        e.prevent_default();
        if form.read().busy {
            return;
        }
        let p = {
            let f = form.read();
            if let Err(e) = check_new_passphrase(&f.passphrase, &f.again) {
                drop(f);
                form.write().error = Some(e);
                return;
            }
            f.passphrase.clone()
        };
        form.write().start();
        let backend = backend.clone();
        spawn(async move {
            let result = backend.create(p).await;
            form.write().finish(result.map(Step::ShowKey));
        });
    };
    let busy = form.read().busy;
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("create-form"),
            h2 { "Create your vault" }
            p { "Choose a passphrase. It unlocks your vault on a new device; nobody, including us, can reset it." }
            if let Some(price) = price {
                p { class: "muted", "data-testid": crate::testid("vault-price"), "{price}" }
            }
            NewPassphrase { label: "Passphrase", form }
            button { r#type: "submit", class: "primary", disabled: busy, "data-testid": crate::testid("create"),
                if busy { "Creating your vault…" } else { "Create vault" }
            }
        }
    }
}

#[component]
fn UnlockForm(form: Signal<Form>, new_device: bool) -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let has_passkeys = backend.has_passkeys() && !new_device;
    let served_by_the_vault = backend.served_by_the_vault();
    let passkey = {
        let backend = backend.clone();
        move |_| {
            if form.read().busy {
                return;
            }
            form.write().start();
            let backend = backend.clone();
            spawn(async move {
                match backend.sign_in_with_passkey().await {
                    Ok(true) => {
                        form.write().finish(Ok(Step::Unlock));
                        app.unlocked.set(true);
                    }
                    Ok(false) => {
                        let mut f = form.write();
                        f.busy = false;
                        f.notice = Some(
                            "Signed in with your passkey. It does not unlock this vault by itself: type your passphrase."
                                .into(),
                        );
                    }
                    Err(e) => form.write().finish(Err(e)),
                }
            });
        }
    };
    let submit = move |e: FormEvent| {
        e.prevent_default();
        if form.read().busy {
            return;
        }
        let checked = {
            let f = form.read();
            vault_to_open(new_device, &f.vault_id).and_then(|vault| {
                if f.passphrase.is_empty() {
                    Err(UiError::new("Type your passphrase."))
                } else {
                    Ok((vault, f.passphrase.clone()))
                }
            })
        };
        let (vault, p) = match checked {
            Ok(checked) => checked,
            Err(e) => return form.write().error = Some(e),
        };
        form.write().start();
        let backend = backend.clone();
        spawn(async move {
            let result = backend.unlock(vault, p).await;
            let opened = result.is_ok();
            form.write().finish(result.map(|()| Step::Unlock));
            if opened {
                app.unlocked.set(true);
            }
        });
    };
    let busy = form.read().busy;
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("unlock-form"),
            h2 { if new_device { "Open your vault on this device" } else { "Unlock your vault" } }
            if new_device { VaultIdField { form } }
            label { "Passphrase"
                input { r#type: "password", autocomplete: "current-password", "data-testid": crate::testid("passphrase"),
                    oninput: move |e| form.write().passphrase = e.value() }
            }
            button { r#type: "submit", class: "primary", disabled: busy, "data-testid": crate::testid("unlock"),
                if busy { "Unlocking…" } else { "Unlock" }
            }
            if has_passkeys {
                button { r#type: "button", disabled: busy, onclick: passkey, "data-testid": crate::testid("passkey-sign-in"),
                    "Use a passkey"
                }
            }
            if let Some(notice) = form.read().notice.as_ref() {
                p { class: "muted", role: "status", "data-testid": crate::testid("passkey-notice"), "{notice}" }
            }
            if served_by_the_vault {
                p { class: "muted", "data-testid": crate::testid("link-hint"),
                    "Were you sent a link to photos? This page is for the vault's owner: open the whole link you were sent, which ends in /s#…" }
            }
        }
    }
}

#[component]
fn RecoverForm(form: Signal<Form>, new_device: bool) -> Element {
    let backend = use_backend();
    let mut app = use_app();
    let submit = move |e: FormEvent| {
        e.prevent_default();
        if form.read().busy {
            return;
        }
        let checked = {
            let f = form.read();
            vault_to_open(new_device, &f.vault_id).and_then(|vault| {
                let words = f
                    .recovery_key
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if words.split(' ').count() != 24 {
                    return Err(UiError::new(
                        "A recovery key is 24 words: type all of them, in order.",
                    ));
                }
                check_new_passphrase(&f.passphrase, &f.again)?;
                Ok((vault, words, f.passphrase.clone()))
            })
        };
        let (vault, words, p) = match checked {
            Ok(checked) => checked,
            Err(e) => return form.write().error = Some(e),
        };
        form.write().start();
        let backend = backend.clone();
        spawn(async move {
            let result = backend.recover(vault, words, p).await;
            let opened = result.is_ok();
            form.write().finish(result.map(|()| Step::Unlock));
            if opened {
                app.unlocked.set(true);
            }
        });
    };
    let busy = form.read().busy;
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("recover-form"),
            h2 { "Recover your vault" }
            p { "Type the 24 words of the recovery key you wrote down when you created the vault, then choose a new passphrase." }
            if new_device { VaultIdField { form } }
            label { "Recovery key"
                textarea { rows: 3, "data-testid": crate::testid("recovery-key"), spellcheck: "false",
                    oninput: move |e| form.write().recovery_key = e.value() }
            }
            NewPassphrase { label: "New passphrase", form }
            button { r#type: "submit", class: "primary", disabled: busy, "data-testid": crate::testid("recover"),
                if busy { "Recovering…" } else { "Recover vault" }
            }
        }
    }
}

/// A new passphrase, typed twice (creating a vault, recovering one).
#[component]
fn NewPassphrase(label: &'static str, form: Signal<Form>) -> Element {
    rsx! {
        label { "{label}"
            input { r#type: "password", autocomplete: "new-password", "data-testid": crate::testid("passphrase"),
                oninput: move |e| form.write().passphrase = e.value() }
        }
        label { "The same again"
            input { r#type: "password", autocomplete: "new-password", "data-testid": crate::testid("passphrase-again"),
                oninput: move |e| form.write().again = e.value() }
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
fn VaultIdField(form: Signal<Form>) -> Element {
    rsx! {
        label { "Vault id"
            input { r#type: "text", autocomplete: "off", spellcheck: "false", placeholder: "xxxxx-xxxxx-xxxxx-xxxxx-cai",
                "data-testid": crate::testid("vault-id"), oninput: move |e| form.write().vault_id = e.value() }
        }
    }
}

#[component]
fn ShowKey(words: String, form: Signal<Form>) -> Element {
    let key = words.clone();
    let words: Vec<String> = key.split_whitespace().map(str::to_owned).collect();
    let kept = form.read().kept;
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
                input { r#type: "checkbox", "data-testid": crate::testid("kept"), checked: kept,
                    onchange: move |e| form.write().kept = e.checked() }
                "I have written down my recovery key"
            }
            button { class: "primary", disabled: !kept, "data-testid": crate::testid("key-next"),
                onclick: move |_| if form.read().kept { form.set(Form::at(Step::ConfirmKey(key.clone()))) }, "Next" }
        }
    }
}

#[component]
fn ConfirmKey(words: String, form: Signal<Form>) -> Element {
    let key = words;
    let mut app = use_app();
    let words: Vec<String> = key.split_whitespace().map(str::to_owned).collect();
    let (a, b) = confirm_positions(words.len());
    let submit = move |e: FormEvent| {
        e.prevent_default();
        let ok = {
            let typed = &form.read().words;
            typed.0.trim().eq_ignore_ascii_case(&words[a - 1])
                && typed.1.trim().eq_ignore_ascii_case(&words[b - 1])
        };
        if ok {
            // The key leaves memory with this step.
            form.set(Form::at(Step::Create));
            app.unlocked.set(true);
        } else {
            form.write().error = Some(UiError::new(
                "Those words do not match your recovery key: check what you wrote down.",
            ));
        }
    };
    rsx! {
        form { onsubmit: submit, "data-testid": crate::testid("confirm-form"),
            h2 { "Check your recovery key" }
            p { "Type two words from what you wrote down." }
            label { "Word {a}"
                input { "data-testid": crate::testid("word-a"), autocomplete: "off",
                    oninput: move |e| form.write().words.0 = e.value() }
            }
            label { "Word {b}"
                input { "data-testid": crate::testid("word-b"), autocomplete: "off",
                    oninput: move |e| form.write().words.1 = e.value() }
            }
            div { class: "row",
                button { r#type: "button", onclick: move |_| form.set(Form::at(Step::ShowKey(key.clone()))), "Show the key again" }
                button { r#type: "submit", class: "primary", "data-testid": crate::testid("confirm"), "Done" }
            }
        }
    }
}
