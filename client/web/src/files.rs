//! The browser's files as sources of uploads ([`BrowserFile`]): read a slice at a time (a
//! `Blob`'s `arrayBuffer()`), so a video is never held whole, and thumbnails made by the
//! browser's own image decoders (WebCodecs' `ImageDecoder` at a reduced scale for a JPEG, else
//! `createImageBitmap`; either turns a photo upright by its EXIF orientation; then a canvas
//! encoding a JPEG: `vaultPhoto` in `static/boot.js`): the app's wasm carries no image
//! decoders. A video's poster, length and size come from the browser's own player
//! (`vaultVideo` there too).

use vault_client::Error;
use vault_client::photo::{PhotoInfo, THUMBNAIL_SIZE, Thumbnail, VideoFacts};
use vault_client::platform::Pending;
use vault_client::upload::FileSource;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(js_namespace = vaultVideo)]
extern "C" {
    /// `{ durationMs, width, height, poster, posterWidth, posterHeight }` of a video file.
    #[wasm_bindgen(catch)]
    async fn facts(file: &web_sys::File, long: u32) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen(js_namespace = vaultPhoto)]
extern "C" {
    /// `{ jpeg, width, height }`: a photo's thumbnail, at most `long` pixels on its long side.
    #[wasm_bindgen(catch)]
    async fn thumbnail(
        file: &web_sys::File,
        mime: &str,
        width: u32,
        height: u32,
        long: u32,
    ) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen(js_namespace = vaultShare)]
extern "C" {
    /// The files `ids` other apps shared with Vault, taken (each is given once).
    #[wasm_bindgen(catch, js_name = take)]
    async fn take_shared(ids: js_sys::Array) -> Result<JsValue, JsValue>;
    /// `[{ id, name, type, size }]` of the files waiting.
    #[wasm_bindgen(catch, js_name = peek)]
    async fn peek_shared() -> Result<JsValue, JsValue>;
    /// How many more were shared but not kept (too many at once).
    #[wasm_bindgen(catch, js_name = refused)]
    async fn refused_shared() -> Result<JsValue, JsValue>;
    /// Forgets the files waiting.
    #[wasm_bindgen(catch, js_name = discard)]
    async fn discard_shared() -> Result<JsValue, JsValue>;
}

/// The names and sizes of what other apps shared with Vault and waits for the owner's say.
/// Each is `(id, what the owner is shown, size)`.
pub async fn waiting() -> Result<Vec<(String, String, u64)>, Error> {
    let waiting = peek_shared()
        .await
        .map_err(|e| unshared("could not be read", &e))?;
    Ok(js_sys::Array::from(&waiting)
        .iter()
        .map(|w| {
            let get = |key: &str| js_sys::Reflect::get(&w, &JsValue::from_str(key)).ok();
            let text = |key: &str| get(key).and_then(|n| n.as_string()).unwrap_or_default();
            let size = get("size").and_then(|s| s.as_f64()).unwrap_or(0.0) as u64;
            let kind = match text("type") {
                t if t.is_empty() => "of no stated type".to_string(),
                t => t,
            };
            (text("id"), format!("{} ({kind})", text("name")), size)
        })
        .collect())
}

/// How many files other apps shared with Vault were not kept (more than may wait at once): 0
/// when none, or when that cannot be read (nothing to say then).
pub async fn refused() -> u64 {
    refused_shared()
        .await
        .ok()
        .and_then(|n| n.as_f64())
        .filter(|n| n.is_finite() && *n > 0.0)
        .map_or(0, |n| n as u64)
}

/// Forgets what other apps shared with Vault: the owner did not want it.
pub async fn discard() -> Result<(), Error> {
    discard_shared()
        .await
        .map(|_| ())
        .map_err(|e| unshared("could not be removed", &e))
}

/// The files `ids` of what [`waiting`] listed, which other apps shared with Vault ("Share →
/// Vault"); anything else waiting is discarded.
pub async fn shared(ids: &[String]) -> Result<Vec<web_sys::File>, Error> {
    let ids: js_sys::Array = ids.iter().map(|id| JsValue::from_str(id)).collect();
    let files = take_shared(ids)
        .await
        .map_err(|e| unshared("could not be read: share them again", &e))?;
    Ok(js_sys::Array::from(&files)
        .iter()
        .filter_map(|f| f.dyn_into::<web_sys::File>().ok())
        .collect())
}

/// The browser refused something about the files shared with Vault: `what` happened.
fn unshared(what: &str, e: &JsValue) -> Error {
    Error::Invalid(format!("the files shared with Vault {what} ({})", said(e)))
}

/// A file the user chose or dropped.
pub struct BrowserFile {
    file: web_sys::File,
    name: String,
    /// What tells it apart from other files of its name chosen on this page.
    label: String,
}

impl BrowserFile {
    pub fn new(file: web_sys::File, label: String) -> BrowserFile {
        BrowserFile {
            name: file.name(),
            file,
            label,
        }
    }

    /// Whether `file` is this one (as far as a page can tell: name, size and date).
    pub fn is(&self, file: &web_sys::File) -> bool {
        self.name == file.name()
            && self.file.size() == file.size()
            && self.file.last_modified() == file.last_modified()
    }
}

/// What the browser said, for a person.
pub(crate) fn said(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

impl FileSource for BrowserFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn label(&self) -> String {
        self.label.clone()
    }

    fn size(&self) -> u64 {
        self.file.size() as u64
    }

    fn modified_ms(&self) -> Option<i64> {
        Some(self.file.last_modified() as i64)
    }

    fn read(&self, offset: u64, len: usize) -> Pending<'_, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let failed = |e: JsValue| {
                Error::Invalid(format!(
                    "the browser could not read {} ({}): choose it again",
                    self.name,
                    said(&e)
                ))
            };
            let end = offset.saturating_add(len as u64).min(self.size());
            let slice = self
                .file
                .slice_with_f64_and_f64(offset as f64, end as f64)
                .map_err(failed)?;
            let buffer = JsFuture::from(slice.array_buffer()).await.map_err(failed)?;
            Ok(js_sys::Uint8Array::new(&buffer).to_vec())
        })
    }

    fn thumbnail<'a>(
        &'a self,
        info: &'a PhotoInfo,
    ) -> Option<Pending<'a, Result<Thumbnail, String>>> {
        Some(Box::pin(async move {
            photo_thumbnail(&self.file, info)
                .await
                .map_err(|e| format!("the browser cannot show this image ({})", said(&e)))
        }))
    }

    fn video(&self) -> Option<Pending<'_, Result<VideoFacts, String>>> {
        Some(Box::pin(async move {
            video_facts(&self.file)
                .await
                .map_err(|e| format!("the browser cannot play this video ({})", said(&e)))
        }))
    }
}

/// What the browser's player tells of the video `file`.
async fn video_facts(file: &web_sys::File) -> Result<VideoFacts, JsValue> {
    let told = facts(file, THUMBNAIL_SIZE).await?;
    let get = |key: &str| js_sys::Reflect::get(&told, &JsValue::from_str(key)).ok();
    let number = |key: &str| {
        get(key)
            .and_then(|v| v.as_f64())
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let side = |key: &str| {
        number(key)
            .and_then(|n| u32::try_from(n as u64).ok())
            .filter(|n| *n > 0)
    };
    let poster = get("poster")
        .filter(|p| p.is_instance_of::<js_sys::Uint8Array>())
        .map(|p| js_sys::Uint8Array::from(p).to_vec());
    Ok(VideoFacts {
        poster: poster
            .zip(side("posterWidth").zip(side("posterHeight")))
            .map(|(jpeg, (width, height))| Thumbnail {
                jpeg,
                width,
                height,
            }),
        no_poster: None,
        duration_ms: number("durationMs").map(|n| n as u64),
        width: side("width"),
        height: side("height"),
    })
}

/// `file`'s thumbnail (`vaultPhoto` in `static/boot.js`): decoded upright by the browser, a
/// JPEG scaled as its header (`info`) allows, at most [`THUMBNAIL_SIZE`] on the long side,
/// encoded as a JPEG of quality 0.8.
async fn photo_thumbnail(file: &web_sys::File, info: &PhotoInfo) -> Result<Thumbnail, JsValue> {
    let made = thumbnail(
        file,
        &info.mime,
        info.width.unwrap_or(0),
        info.height.unwrap_or(0),
        THUMBNAIL_SIZE,
    )
    .await?;
    let get = |key: &str| js_sys::Reflect::get(&made, &JsValue::from_str(key));
    let side = |key: &str| -> Result<u32, JsValue> {
        get(key)?
            .as_f64()
            .filter(|n| *n >= 1.0 && *n <= f64::from(THUMBNAIL_SIZE))
            .map(|n| n as u32)
            .ok_or_else(|| JsValue::from_str("a thumbnail of no size"))
    };
    Ok(Thumbnail {
        jpeg: js_sys::Uint8Array::new(&get("jpeg")?).to_vec(),
        width: side("width")?,
        height: side("height")?,
    })
}
