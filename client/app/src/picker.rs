//! The file chooser on Linux: GTK's own dialog, shown without blocking the window; its answer
//! comes back through a channel. (A webview file input would go through the XDG desktop
//! portal, which many desktops lack.)

use std::cell::RefCell;
use std::path::PathBuf;

use gtk::prelude::*;
use vault_ui::backend::Call;

/// Opens the chooser for photos and videos (or folders), several at once; answers the paths
/// chosen, none when cancelled. Must be called on the UI thread (GTK's), as event handlers are.
pub fn pick(folders: bool) -> Call<Vec<PathBuf>> {
    let (tx, rx) = futures_channel::oneshot::channel();
    let (action, title) = if folders {
        (
            gtk::FileChooserAction::SelectFolder,
            "Choose folders to upload",
        )
    } else {
        (gtk::FileChooserAction::Open, "Choose photos to upload")
    };
    let dialog = gtk::FileChooserDialog::with_buttons(
        Some(title),
        None::<&gtk::Window>,
        action,
        &[
            ("_Cancel", gtk::ResponseType::Cancel),
            ("_Upload", gtk::ResponseType::Accept),
        ],
    );
    dialog.set_select_multiple(true);
    dialog.set_modal(true);
    if !folders {
        let media = gtk::FileFilter::new();
        media.set_name(Some("Photos and videos"));
        media.add_mime_type("image/*");
        media.add_mime_type("video/*");
        dialog.add_filter(media);
        let all = gtk::FileFilter::new();
        all.set_name(Some("All files"));
        all.add_pattern("*");
        dialog.add_filter(all);
    }
    let answer = RefCell::new(Some(tx));
    dialog.connect_response(move |dialog, response| {
        let paths = if response == gtk::ResponseType::Accept {
            dialog.filenames()
        } else {
            Vec::new()
        };
        if let Some(tx) = answer.borrow_mut().take() {
            let _ = tx.send(paths);
        }
        dialog.close();
    });
    dialog.show();
    Box::pin(async move { Ok(rx.await.unwrap_or_default()) })
}
