//! What others share with you.

use dioxus::prelude::*;

use super::{Empty, Failed, Header, Loading};
use crate::{Loadable, use_backend};

/// The "shared with me" screen.
#[component]
pub fn Shared() -> Element {
    let backend = use_backend();
    let mut items = use_resource(move || {
        let backend = backend.clone();
        async move { backend.shared_with_me().await }
    });
    let body = match Loadable::from(items.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "what is shared with you" } },
        Loadable::Failed(e) => rsx! { Failed { error: e, retry: move |_| items.restart() } },
        Loadable::Ready(list) if list.is_empty() => rsx! {
            Empty { title: "Nothing shared with you yet", hint: "Give people your share code (under Sharing): what they share with you appears here." }
        },
        Loadable::Ready(list) => rsx! {
            ul { class: "list", "data-testid": crate::testid("shared"),
                for s in list {
                    li { key: "{s.vault}{s.target.id()}",
                        div {
                            strong { "{s.name.clone().unwrap_or_else(|| s.target.kind().to_string())}" }
                            span { class: "muted", " · {s.target.kind()} · {s.permission}" }
                            if let Some(e) = &s.expires { span { class: "muted", " · until {e}" } }
                            div { class: "principal", "from vault {s.vault}" }
                        }
                    }
                }
            }
        },
    };
    rsx! {
        section { class: "screen shared",
            Header { title: "Shared with me" }
            {body}
        }
    }
}
