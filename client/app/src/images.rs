//! The `vault://` protocol: the webview's `<img>`s load thumbnails and originals from it,
//! decrypted in memory (never written to disk) on the worker runtime.
//!
//! ```text
//! vault://localhost/thumb/<id>      the thumbnail (JPEG)
//! vault://localhost/original/<id>   the original, with its media type
//! ```
//!
//! `<id>` is a photo's id as the screens have it: `<32 hex digits>` for the user's own,
//! `<canister>/<32 hex digits>` for one another vault shares with the user.
//!
//! Decrypted thumbnails are kept in an LRU bounded by bytes ([`THUMBNAIL_CACHE_BYTES`]);
//! originals in a tiny one (the last [`ORIGINAL_CACHE_ITEMS`]). At most [`FETCHES`] images are
//! fetched at once.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dioxus::desktop::RequestAsyncResponder;
use dioxus::desktop::wry::WebViewId;
use dioxus::desktop::wry::http::{Request, Response, StatusCode, header};
use tokio::sync::Semaphore;
use vault_client::Error;
use vault_client::types::VaultError;
use vault_ui::model::ImageKind;

use vault_client::FileRef;

use crate::backend::{Desktop, State};

/// The scheme main.rs registers the protocol under.
pub(crate) const SCHEME: &str = "vault";
/// Bytes of decrypted thumbnails kept in memory.
pub(crate) const THUMBNAIL_CACHE_BYTES: usize = 64 << 20;
/// Originals kept in memory (the viewer going back and forth).
pub(crate) const ORIGINAL_CACHE_ITEMS: usize = 2;
/// The most bytes of originals kept (one large video is not kept).
const ORIGINAL_CACHE_BYTES: usize = 256 << 20;
/// The largest original shown in the app (larger ones: download them).
const ORIGINAL_MAX_BYTES: u64 = 1 << 30;
/// Images fetched and decrypted at once.
pub(crate) const FETCHES: usize = 8;

/// The URL an `<img>` loads the image of `kind` from, for the photo whose id is `id`.
pub(crate) fn url(kind: ImageKind, id: &str) -> String {
    let kind = match kind {
        ImageKind::Thumbnail => "thumb",
        ImageKind::Original => "original",
    };
    format!("{ORIGIN}/{kind}/{id}")
}

/// Where wry serves the protocol: `vault://localhost` on Linux and macOS (and iOS); on Windows
/// and Android custom schemes are served as `http://vault.localhost` instead.
#[cfg(not(any(target_os = "windows", target_os = "android")))]
const ORIGIN: &str = "vault://localhost";
#[cfg(any(target_os = "windows", target_os = "android"))]
const ORIGIN: &str = "http://vault.localhost";

/// What a request's path asks for: `/thumb/<id>` or `/original/<id>`.
pub(crate) fn parse_path(path: &str) -> Option<(ImageKind, FileRef)> {
    let (kind, id) = path.strip_prefix('/')?.split_once('/')?;
    let kind = match kind {
        "thumb" => ImageKind::Thumbnail,
        "original" => ImageKind::Original,
        _ => return None,
    };
    id.trim_end_matches('/')
        .parse::<FileRef>()
        .ok()
        .map(|id| (kind, id))
}

/// A decrypted image.
pub(crate) struct Image {
    bytes: Vec<u8>,
    mime: String,
}

/// An LRU of images bounded by entries and by bytes.
pub(crate) struct Lru<K> {
    entries: HashMap<K, (Arc<Image>, u64)>,
    /// Last use → key: the least recently used first.
    order: BTreeMap<u64, K>,
    clock: u64,
    bytes: usize,
    max_bytes: usize,
    max_entries: usize,
}

impl<K: Eq + Hash + Clone> Lru<K> {
    pub(crate) fn new(max_bytes: usize, max_entries: usize) -> Lru<K> {
        Lru {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
            bytes: 0,
            max_bytes,
            max_entries,
        }
    }

    /// The image, now the most recently used.
    pub(crate) fn get(&mut self, key: &K) -> Option<Arc<Image>> {
        self.clock += 1;
        let (image, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = self.clock;
        self.order.insert(self.clock, key.clone());
        Some(image.clone())
    }

    /// Keeps `image`, dropping the least recently used to stay within bounds; one larger than
    /// the whole cache is not kept.
    pub(crate) fn insert(&mut self, key: K, image: Arc<Image>) {
        self.remove(&key);
        let size = image.bytes.len();
        if size > self.max_bytes || self.max_entries == 0 {
            return;
        }
        while self.bytes + size > self.max_bytes || self.entries.len() >= self.max_entries {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some((old, _)) = self.entries.remove(&oldest) {
                self.bytes -= old.bytes.len();
            }
        }
        self.clock += 1;
        self.bytes += size;
        self.order.insert(self.clock, key.clone());
        self.entries.insert(key, (image, self.clock));
    }

    fn remove(&mut self, key: &K) {
        if let Some((old, used)) = self.entries.remove(key) {
            self.order.remove(&used);
            self.bytes -= old.bytes.len();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// Bytes held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The protocol's state: caches, the bound on fetches, and a count for the test hooks.
pub(crate) struct Images {
    thumbnails: Mutex<Lru<FileRef>>,
    originals: Mutex<Lru<FileRef>>,
    fetches: Semaphore,
    thumbnails_served: AtomicU64,
}

impl Images {
    pub(crate) fn new() -> Images {
        Images {
            thumbnails: Mutex::new(Lru::new(THUMBNAIL_CACHE_BYTES, usize::MAX)),
            originals: Mutex::new(Lru::new(ORIGINAL_CACHE_BYTES, ORIGINAL_CACHE_ITEMS)),
            fetches: Semaphore::new(FETCHES),
            thumbnails_served: AtomicU64::new(0),
        }
    }

    /// Forgets every decrypted image (the vault was locked).
    pub(crate) fn clear(&self) {
        self.thumbnails.lock().expect("not poisoned").clear();
        self.originals.lock().expect("not poisoned").clear();
    }

    pub(crate) fn thumbnails_served(&self) -> u64 {
        self.thumbnails_served.load(Ordering::Relaxed)
    }

    fn cache(&self, kind: ImageKind) -> &Mutex<Lru<FileRef>> {
        match kind {
            ImageKind::Thumbnail => &self.thumbnails,
            ImageKind::Original => &self.originals,
        }
    }

    fn cached(&self, kind: ImageKind, id: &FileRef) -> Option<Arc<Image>> {
        self.cache(kind).lock().expect("not poisoned").get(id)
    }
}

/// Why an image is not served.
enum Refusal {
    NotFound,
    TooLarge,
    Failed(String),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(_) | Error::NoSuch(_) | Error::Vault(VaultError::NotFound) => {
                Refusal::NotFound
            }
            other => Refusal::Failed(other.to_string()),
        }
    }
}

/// The image, from the cache or fetched and decrypted.
async fn image(state: &State, kind: ImageKind, id: FileRef) -> Result<Arc<Image>, Refusal> {
    let images = &state.images;
    if let Some(image) = images.cached(kind, &id) {
        return Ok(image);
    }
    let _permit = images
        .fetches
        .acquire()
        .await
        .map_err(|_| Refusal::Failed("shutting down".into()))?;
    // Fetched meanwhile by a request that held a permit?
    if let Some(image) = images.cached(kind, &id) {
        return Ok(image);
    }
    let known = state.file(&id).await?;
    let image = match kind {
        ImageKind::Thumbnail => Image {
            bytes: known
                .reader()
                .thumbnail(&known.info)
                .await?
                .ok_or(Refusal::NotFound)?,
            mime: "image/jpeg".into(),
        },
        ImageKind::Original => {
            if known.info.size > ORIGINAL_MAX_BYTES {
                return Err(Refusal::TooLarge);
            }
            Image {
                bytes: known.reader().original(&known.info).await?,
                mime: known.mime.clone(),
            }
        }
    };
    let image = Arc::new(image);
    images
        .cache(kind)
        .lock()
        .expect("not poisoned")
        .insert(id, image.clone());
    Ok(image)
}

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
    match image(state, kind, id).await {
        Ok(image) => {
            if kind == ImageKind::Thumbnail {
                state
                    .images
                    .thumbnails_served
                    .fetch_add(1, Ordering::Relaxed);
            }
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, image.mime.as_str())
                .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .body(image.bytes.clone())
                .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "bad media type"))
        }
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
    use super::*;

    const ID: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn urls_are_parsed_back() {
        for kind in [ImageKind::Thumbnail, ImageKind::Original] {
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

    #[test]
    fn other_paths_are_not_images() {
        for path in [
            "",
            "/",
            "/thumb",
            "/thumb/",
            &format!("thumb/{ID}"),
            &format!("/thumbnail/{ID}"),
            &format!("/thumb/{ID}00"),
            "/thumb/0011",
            "/original/zz112233445566778899aabbccddeeff",
            &format!("/thumb/{ID}/x"),
            &format!("/thumb/../{ID}"),
            &format!("/thumb/not-a-canister/{ID}"),
            &format!("/thumb/rrkah-fqaaa-aaaaa-aaaaq-cai/{ID}/x"),
        ] {
            assert!(parse_path(path).is_none(), "{path}");
        }
    }

    fn image(n: usize) -> Arc<Image> {
        Arc::new(Image {
            bytes: vec![0; n],
            mime: "image/jpeg".into(),
        })
    }

    #[test]
    fn the_lru_stays_within_its_bytes_dropping_the_least_recently_used() {
        let mut lru = Lru::new(100, usize::MAX);
        lru.insert(1, image(40));
        lru.insert(2, image(40));
        assert!(lru.get(&1).is_some()); // 2 is now the least recently used
        lru.insert(3, image(40));
        assert_eq!(lru.bytes(), 80);
        assert!(lru.get(&2).is_none());
        assert!(lru.get(&1).is_some());
        assert!(lru.get(&3).is_some());
        // Too large for the whole cache: not kept, and nothing evicted for it.
        lru.insert(4, image(101));
        assert!(lru.get(&4).is_none());
        assert_eq!(lru.bytes(), 80);
        // One that needs both places.
        lru.insert(5, image(100));
        assert_eq!(lru.bytes(), 100);
        assert!(lru.get(&1).is_none() && lru.get(&3).is_none());
        // Replacing a key counts its bytes once.
        lru.insert(5, image(10));
        assert_eq!(lru.bytes(), 10);
        lru.clear();
        assert_eq!(lru.bytes(), 0);
        assert!(lru.get(&5).is_none());
    }

    #[test]
    fn the_originals_lru_keeps_the_last_two() {
        let mut lru = Lru::new(ORIGINAL_CACHE_BYTES, ORIGINAL_CACHE_ITEMS);
        lru.insert('a', image(1));
        lru.insert('b', image(1));
        lru.insert('c', image(1));
        assert!(lru.get(&'a').is_none());
        assert!(lru.get(&'b').is_some());
        lru.insert('d', image(1));
        assert!(lru.get(&'c').is_none());
        assert!(lru.get(&'b').is_some() && lru.get(&'d').is_some());
    }
}
