//! The activity log: everything done to the vault, by whom.

use dioxus::prelude::*;

use super::{Empty, Failed, Header, Loading};
use crate::{Loadable, use_app, use_backend};

/// The activity screen.
#[component]
pub fn ActivityLog() -> Element {
    let backend = use_backend();
    let app = use_app();
    let mut log = use_resource(move || {
        let backend = backend.clone();
        let _ = (app.version)();
        async move { backend.activity().await }
    });
    let body = match Loadable::from(log.read().clone()) {
        Loadable::Loading => rsx! { Loading { what: "the activity log" } },
        Loadable::Failed(e) => rsx! { Failed { error: e, retry: move |_| log.restart() } },
        Loadable::Ready(list) if list.is_empty() => rsx! {
            Empty { title: "No activity yet", hint: "Uploads, shares, links opened and devices added are recorded here." }
        },
        Loadable::Ready(list) => rsx! {
            ol { class: "list activity", "data-testid": crate::testid("activity"),
                for (i , a) in list.iter().enumerate() {
                    li { key: "{i}",
                        span { class: "time", "{a.time}" }
                        span { class: "what", "{a.what}" }
                        span { class: "principal", "{a.who}" }
                    }
                }
            }
        },
    };
    rsx! {
        section { class: "screen activity-screen",
            Header { title: "Activity",
                button { onclick: move |_| log.restart(), "Refresh" }
            }
            {body}
        }
    }
}
