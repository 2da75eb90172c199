//! The uploads in progress in the vault, on the upload screen: this device's, other devices'
//! and contributors', each with what it holds of the quota, and a way to stop any of them (an
//! upload left half-way, or a contributor's the owner does not want).

use dioxus::prelude::*;

use super::bytes;
use crate::{Loadable, PendingUpload, use_app, use_backend};

/// The list, with "Abort" on each row. Shows nothing while there is nothing in progress.
#[component]
pub fn PendingUploads() -> Element {
    let backend = use_backend();
    let app = use_app();
    let mut pending = use_resource({
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            // Read again when an upload of this session finishes.
            let _ = (app.version)();
            async move { backend.pending_uploads().await }
        }
    });
    let abort = move |upload: PendingUpload| {
        let backend = backend.clone();
        spawn(async move {
            match backend.abort_upload(upload.id.clone()).await {
                Ok(()) => {
                    app.tell(format!(
                        "Upload stopped: {} freed",
                        bytes(upload.reserved_bytes)
                    ));
                    pending.restart();
                }
                Err(e) => app.fail(&e),
            }
        });
    };
    let uploads = match Loadable::from(pending.read().clone()) {
        Loadable::Ready(uploads) if !uploads.is_empty() => uploads,
        Loadable::Failed(e) => {
            return rsx! {
                p { class: "error", "data-testid": crate::testid("pending-uploads-failed"),
                    "Uploads in progress could not be listed: {e} "
                    button { onclick: move |_| pending.restart(), "Try again" }
                }
            };
        }
        _ => return rsx! {},
    };
    let reserved: u64 = uploads.iter().map(|u| u.reserved_bytes).sum();
    rsx! {
        div { class: "pending-uploads", "data-testid": crate::testid("pending-uploads"),
            h2 { "In progress in your vault" }
            p { class: "muted",
                "These hold {bytes(reserved)} of your storage until they finish, are stopped, or lie idle for a day."
            }
            ul { class: "files",
                for u in uploads {
                    li { key: "{u.id}", class: "file",
                        span { class: "name",
                            "{u.who}"
                            if let Some(album) = &u.album { " → {album}" }
                        }
                        span { class: "status",
                            "{u.sent_chunks} of {u.chunks} parts sent · {bytes(u.reserved_bytes)} · until {u.expires}"
                        }
                        button { class: "danger", "data-testid": "abort-upload-{u.id}",
                            onclick: {
                                let abort = abort.clone();
                                let u = u.clone();
                                move |_| abort(u.clone())
                            },
                            "Abort"
                        }
                    }
                }
            }
        }
    }
}
