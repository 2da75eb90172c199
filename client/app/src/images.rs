//! The `vault://` protocol: the webview's `<img>`s load thumbnails and originals from it,
//! decrypted in memory by `vault_bridge::images` (never written to disk) on the worker runtime.
//!
//! ```text
//! vault://localhost/thumb/<id>      the thumbnail (JPEG)
//! vault://localhost/original/<id>   the original, with its media type
//! vault://localhost/media/<id>      a video's original, whole, like an original
//! ```
//!
//! The app's `<video>`s do not load from here: WebKitGTK's player reads no custom protocol,
//! so they stream from the loopback server in `media.rs`.

use std::borrow::Cow;

use dioxus::desktop::RequestAsyncResponder;
use dioxus::desktop::wry::WebViewId;
use dioxus::desktop::wry::http::{Request, Response, StatusCode, header};
use vault_bridge::images::{Refusal, parse_path, path};
use vault_ui::model::ImageKind;

use crate::backend::{Desktop, State};

/// The scheme main.rs registers the protocol under.
pub(crate) const SCHEME: &str = "vault";

/// The URL an `<img>` loads the image of `kind` from, for the photo whose id is `id`.
pub(crate) fn url(kind: ImageKind, id: &str) -> String {
    format!("{ORIGIN}{}", path(kind, id))
}

/// Where wry serves the protocol: `vault://localhost` on Linux and macOS (and iOS); on Windows
/// and Android custom schemes are served as `http://vault.localhost` instead.
#[cfg(not(any(target_os = "windows", target_os = "android")))]
const ORIGIN: &str = "vault://localhost";
#[cfg(any(target_os = "windows", target_os = "android"))]
const ORIGIN: &str = "http://vault.localhost";

fn text(status: StatusCode, message: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(message.as_bytes().to_vec())
        .expect("a valid response")
}

/// The answer to one request.
async fn respond(state: &State, path: &str) -> Response<Vec<u8>> {
    let Some((kind, id)) = parse_path(path) else {
        return text(StatusCode::NOT_FOUND, "no such image");
    };
    match state.images.image(state.screens.session(), kind, id).await {
        Ok(image) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, image.mime.as_str())
            .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
            .body(image.bytes.clone())
            .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "bad media type")),
        Err(Refusal::NotFound) => text(StatusCode::NOT_FOUND, "no such image"),
        Err(Refusal::TooLarge) => text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large to show here: download it",
        ),
        Err(Refusal::Failed(why)) => text(StatusCode::INTERNAL_SERVER_ERROR, &why),
    }
}

impl Desktop {
    /// The `vault` protocol's handler, for dioxus desktop's
    /// `Config::with_asynchronous_custom_protocol(images::SCHEME, desktop.protocol())`. It only
    /// hands each request to the worker runtime, which answers it.
    pub fn protocol(
        &self,
    ) -> impl Fn(WebViewId<'_>, Request<Vec<u8>>, RequestAsyncResponder) + 'static {
        let desktop = self.clone();
        move |_webview, request, responder| {
            let state = desktop.state.clone();
            let path = request.uri().path().to_string();
            desktop.spawn(async move {
                let response = respond(&state, &path).await;
                let (parts, body) = response.into_parts();
                responder.respond(Response::from_parts(
                    parts,
                    Cow::<'static, [u8]>::Owned(body),
                ));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use vault_client::FileRef;

    use super::*;

    const ID: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn urls_are_parsed_back() {
        for kind in [ImageKind::Thumbnail, ImageKind::Original, ImageKind::Video] {
            let url = url(kind, ID);
            assert!(url.starts_with(&format!("{ORIGIN}/")), "{url}");
            let path = url.strip_prefix(ORIGIN).unwrap();
            let (back, id) = parse_path(path).unwrap();
            assert_eq!(back, kind);
            assert_eq!(
                id,
                FileRef::own(hex::decode(ID).unwrap().try_into().unwrap())
            );
        }
        assert_eq!(
            parse_path(&format!("/thumb/{}", ID.to_uppercase())).map(|(_, id)| id.to_string()),
            Some(ID.to_string())
        );
        // A photo another vault shares: its vault is part of the id, so its images are
        // another vault's file even where the file ids are the same.
        let shared = format!("rrkah-fqaaa-aaaaa-aaaaq-cai/{ID}");
        let url = url(ImageKind::Thumbnail, &shared);
        let (_, id) = parse_path(url.strip_prefix(ORIGIN).unwrap()).unwrap();
        assert_eq!(id.to_string(), shared);
        assert_eq!(id.vault.unwrap().to_text(), "rrkah-fqaaa-aaaaa-aaaaq-cai");
        assert_ne!(id, FileRef::own(id.id));
    }
}
