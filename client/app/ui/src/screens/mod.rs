//! One module a screen, and the pieces they share.

use dioxus::prelude::*;

use crate::UiError;

pub mod activity;
pub mod albums;
pub mod onboarding;
pub mod pending_uploads;
pub mod photos;
pub mod settings;
pub mod shared;
pub mod sharing;
pub mod upload;
pub mod viewer;

/// A screen's title bar.
#[component]
pub fn Header(title: String, children: Element) -> Element {
    rsx! {
        header { class: "header",
            h1 { "{title}" }
            div { class: "actions", {children} }
        }
    }
}

/// Something is loading.
#[component]
pub fn Loading(what: String) -> Element {
    rsx! {
        div { class: "state loading", "data-testid": crate::testid("loading"),
            div { class: "spinner" }
            p { "Loading {what}…" }
        }
    }
}

/// Loading failed: why, and a way to try again.
#[component]
pub fn Failed(error: UiError, retry: EventHandler<()>) -> Element {
    rsx! {
        div { class: "state failed", "data-testid": crate::testid("failed"), role: "alert",
            p { class: "error", "{error}" }
            button { onclick: move |_| retry.call(()), "Try again" }
        }
    }
}

/// Nothing here yet, and what to do about it.
#[component]
pub fn Empty(title: String, hint: String) -> Element {
    rsx! {
        div { class: "state empty", "data-testid": crate::testid("empty"),
            h2 { "{title}" }
            p { "{hint}" }
        }
    }
}

/// Days a share or link lasts: the choices offered.
pub const EXPIRY_CHOICES: [(&str, Option<u32>); 5] = [
    ("Never expires", None),
    ("1 day", Some(1)),
    ("7 days", Some(7)),
    ("30 days", Some(30)),
    ("1 year", Some(365)),
];

/// A select of [`EXPIRY_CHOICES`].
#[component]
pub fn ExpirySelect(
    value: Option<u32>,
    testid: String,
    onchange: EventHandler<Option<u32>>,
) -> Element {
    rsx! {
        select {
            "data-testid": "{testid}",
            "aria-label": "Expires",
            onchange: move |e| onchange.call(e.value().parse::<u32>().ok()),
            for (label , days) in EXPIRY_CHOICES {
                option {
                    value: days.map(|d| d.to_string()).unwrap_or_default(),
                    selected: value == days,
                    "{label}"
                }
            }
        }
    }
}

/// Bytes for people (binary units).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// "1 photo", "3 photos".
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
