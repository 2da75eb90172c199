//! Decrypted images for the screens' `<img>`s, whatever serves them (the desktop's `vault://`
//! protocol, the web app's service worker): fetched and decrypted in memory, never written to
//! disk, the same caches on every platform.
//!
//! ```text
//! /thumb/<id>      the thumbnail (JPEG)
//! /original/<id>   the original, with its media type
//! /media/<id>      a video's original, by the byte ranges its player asks for (Images::piece)
//! ```
//!
//! `<id>` is a photo's id as the screens have it: `<32 hex digits>` for the user's own,
//! `<canister>/<32 hex digits>` for one another vault shares with the user.
//!
//! Decrypted thumbnails are kept in an LRU bounded by bytes ([`THUMBNAIL_CACHE_BYTES`]);
//! originals in a tiny one (the last [`ORIGINAL_CACHE_ITEMS`]). At most [`FETCHES`] images are
//! fetched at once.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use vault_client::types::VaultError;
use vault_client::{Error, FileRef, Session};
use vault_ui::model::ImageKind;

/// Bytes of decrypted thumbnails kept in memory.
pub const THUMBNAIL_CACHE_BYTES: usize = 64 << 20;
/// Originals kept in memory (the viewer going back and forth).
pub const ORIGINAL_CACHE_ITEMS: usize = 2;
/// The most bytes of originals kept (one large video is not kept).
pub const ORIGINAL_CACHE_BYTES: usize = 256 << 20;
/// The largest original shown in the app (larger ones: download them).
pub const ORIGINAL_MAX_BYTES: u64 = 1 << 30;
/// Images fetched and decrypted at once.
pub const FETCHES: usize = 8;
/// Decrypted chunks of originals kept for a video's next requests ([`Images::piece`]).
pub const MEDIA_CHUNKS: usize = 4;

/// The path of the image of `kind` for the photo whose id is `id`: what [`parse_path`] reads.
pub fn path(kind: ImageKind, id: &str) -> String {
    let kind = match kind {
        ImageKind::Thumbnail => "thumb",
        ImageKind::Original => "original",
        ImageKind::Video => "media",
    };
    format!("/{kind}/{id}")
}

/// What a request's path asks for: `/thumb/<id>`, `/original/<id>` or `/media/<id>`.
pub fn parse_path(path: &str) -> Option<(ImageKind, FileRef)> {
    let (kind, id) = path.strip_prefix('/')?.split_once('/')?;
    let kind = match kind {
        "thumb" => ImageKind::Thumbnail,
        "original" => ImageKind::Original,
        "media" => ImageKind::Video,
        _ => return None,
    };
    id.trim_end_matches('/')
        .parse::<FileRef>()
        .ok()
        .map(|id| (kind, id))
}

/// A piece of an original for a player reading it from some byte on: a video streamed by the
/// web app's service worker, which asks for the bytes its `<video>`'s Range requests cover.
pub struct Piece {
    /// The original's bytes from the one asked for to the end of its chunk (at most
    /// [`vault_crypto::CHUNK_SIZE`]); none when asked for its end or beyond.
    pub bytes: Vec<u8>,
    /// The original's length, as its sealed metadata says.
    pub total: u64,
    /// Its media type.
    pub mime: String,
}

/// A decrypted image.
pub struct Image {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub mime: String,
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
    pub fn get(&mut self, key: &K) -> Option<Arc<Image>> {
        self.clock += 1;
        let (image, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = self.clock;
        self.order.insert(self.clock, key.clone());
        Some(image.clone())
    }

    /// Keeps `image`, dropping the least recently used to stay within bounds; one larger than
    /// the whole cache is not kept.
    pub fn insert(&mut self, key: K, image: Arc<Image>) {
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

    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// Bytes held.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The images' state: caches, the bound on fetches, and a count for the test hooks.
pub struct Images {
    thumbnails: Mutex<Lru<FileRef>>,
    originals: Mutex<Lru<FileRef>>,
    /// Chunks of originals being streamed, by file and index.
    chunks: Mutex<Lru<(FileRef, u32)>>,
    fetches: Semaphore,
    thumbnails_served: AtomicU64,
    chunks_decrypted: AtomicU64,
}

impl Default for Images {
    fn default() -> Images {
        Images {
            thumbnails: Mutex::new(Lru::new(THUMBNAIL_CACHE_BYTES, usize::MAX)),
            originals: Mutex::new(Lru::new(ORIGINAL_CACHE_BYTES, ORIGINAL_CACHE_ITEMS)),
            chunks: Mutex::new(Lru::new(
                MEDIA_CHUNKS * vault_crypto::CHUNK_SIZE,
                MEDIA_CHUNKS,
            )),
            fetches: Semaphore::new(FETCHES),
            thumbnails_served: AtomicU64::new(0),
            chunks_decrypted: AtomicU64::new(0),
        }
    }
}

impl Images {
    /// Forgets every decrypted image (the vault was locked).
    pub fn clear(&self) {
        lock(&self.thumbnails).clear();
        lock(&self.originals).clear();
        lock(&self.chunks).clear();
    }

    /// Thumbnails served so far.
    pub fn thumbnails_served(&self) -> u64 {
        self.thumbnails_served.load(Ordering::Relaxed)
    }

    /// Chunks of originals decrypted for [`Self::piece`] so far.
    pub fn chunks_decrypted(&self) -> u64 {
        self.chunks_decrypted.load(Ordering::Relaxed)
    }

    fn cache(&self, kind: ImageKind) -> &Mutex<Lru<FileRef>> {
        match kind {
            ImageKind::Thumbnail => &self.thumbnails,
            ImageKind::Original | ImageKind::Video => &self.originals,
        }
    }

    fn cached(&self, kind: ImageKind, id: &FileRef) -> Option<Arc<Image>> {
        lock(self.cache(kind)).get(id)
    }
}

/// Why an image is not served.
#[derive(Debug)]
pub enum Refusal {
    /// No such photo, or it has no thumbnail.
    NotFound,
    /// An original too large to show: download it.
    TooLarge,
    /// Why it failed.
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

impl Images {
    /// The image, from the cache or fetched and decrypted through `session`; a thumbnail served
    /// is counted.
    pub async fn image(
        &self,
        session: &Session,
        kind: ImageKind,
        id: FileRef,
    ) -> Result<Arc<Image>, Refusal> {
        let image = self.fetch(session, kind, id).await?;
        if kind == ImageKind::Thumbnail {
            self.thumbnails_served.fetch_add(1, Ordering::Relaxed);
        }
        Ok(image)
    }

    async fn fetch(
        &self,
        session: &Session,
        kind: ImageKind,
        id: FileRef,
    ) -> Result<Arc<Image>, Refusal> {
        let images = self;
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
        let known = session.open_file(&id).await?;
        let image = match kind {
            ImageKind::Thumbnail => Image {
                bytes: known
                    .reader()
                    .thumbnail(&known.info)
                    .await?
                    .ok_or(Refusal::NotFound)?,
                mime: "image/jpeg".into(),
            },
            // A video asked for whole (its player could not ask for ranges) is an original.
            ImageKind::Original | ImageKind::Video => {
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
        lock(images.cache(kind)).insert(id, image.clone());
        Ok(image)
    }
}

impl Images {
    /// The bytes of `id`'s original from `from` to the end of the chunk that holds it,
    /// decrypting that chunk alone (or finding it among the last [`MEDIA_CHUNKS`]).
    pub async fn piece(&self, session: &Session, id: FileRef, from: u64) -> Result<Piece, Refusal> {
        let known = session.open_file(&id).await?;
        let meta = known.metadata()?;
        let (total, mime) = (meta.size, known.mime.clone());
        // Players' media only: nothing else is served to be opened by its address.
        if !(mime.starts_with("video/") || mime.starts_with("audio/")) {
            return Err(Refusal::NotFound);
        }
        if from >= total {
            return Ok(Piece {
                bytes: Vec::new(),
                total,
                mime,
            });
        }
        let chunk_size = vault_crypto::CHUNK_SIZE as u64;
        let index = u32::try_from(from / chunk_size)
            .map_err(|_| Refusal::Failed("beyond the chunks a file can have".into()))?;
        let cached = lock(&self.chunks).get(&(id, index));
        let chunk = match cached {
            Some(chunk) => chunk,
            None => {
                let _permit = self
                    .fetches
                    .acquire()
                    .await
                    .map_err(|_| Refusal::Failed("shutting down".into()))?;
                let bytes = known.reader().chunk(&known.info, &meta, index).await?;
                self.chunks_decrypted.fetch_add(1, Ordering::Relaxed);
                let chunk = Arc::new(Image {
                    bytes,
                    mime: mime.clone(),
                });
                lock(&self.chunks).insert((id, index), chunk.clone());
                chunk
            }
        };
        let start = usize::try_from(from - u64::from(index) * chunk_size).expect("within a chunk");
        Ok(Piece {
            bytes: chunk.bytes.get(start..).unwrap_or_default().to_vec(),
            total,
            mime,
        })
    }
}

/// What a `Range` header asks of a file of `total` bytes (RFC 9110 §14.1.2), one range only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// Not a single byte range (or not a valid one): the whole file, as RFC 9110 allows.
    Whole,
    /// Bytes `start..=end`, within the file.
    Part { start: u64, end: u64 },
    /// Nothing of the file (416).
    Unsatisfiable,
}

impl ByteRange {
    /// `header` against a file of `total` bytes (as the service workers' `byteRange` in
    /// `vault-canister/viewer/media-worker.js` reads it).
    pub fn parse(header: &str, total: u64) -> ByteRange {
        let header = header.trim();
        let Some((first, last)) = header
            .get(..6)
            .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
            .and_then(|_| header[6..].split_once('-'))
        else {
            return ByteRange::Whole;
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(first) || !digits(last) || (first.is_empty() && last.is_empty()) {
            return ByteRange::Whole;
        }
        // A number too long for u64 is past any end.
        let number = |s: &str| s.parse::<u64>().unwrap_or(u64::MAX);
        if first.is_empty() {
            // The last n bytes.
            return match number(last).min(total) {
                0 => ByteRange::Unsatisfiable,
                n => ByteRange::Part {
                    start: total - n,
                    end: total - 1,
                },
            };
        }
        let start = number(first);
        let end = if last.is_empty() {
            u64::MAX
        } else {
            number(last)
        };
        if end < start {
            ByteRange::Whole
        } else if start >= total {
            ByteRange::Unsatisfiable
        } else {
            ByteRange::Part {
                start,
                end: end.min(total - 1),
            }
        }
    }
}

/// The cache behind `mutex`: a panic while it was held leaves it whole (each change is one
/// insert or removal), so it is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "00112233445566778899aabbccddeeff";

    /// A player's `Range` headers, read as the service workers read them.
    #[test]
    fn byte_ranges_are_read_as_rfc_9110_says() {
        use ByteRange::*;
        let part = |start, end| Part { start, end };
        for (header, total, expected) in [
            ("bytes=0-", 100, part(0, 99)),
            ("bytes=0-1", 100, part(0, 1)),
            ("Bytes=10-20", 100, part(10, 20)),
            (" bytes=50-500 ", 100, part(50, 99)),
            ("bytes=99-", 100, part(99, 99)),
            ("bytes=-10", 100, part(90, 99)),
            ("bytes=-1000", 100, part(0, 99)),
            ("bytes=0-99999999999999999999999", 100, part(0, 99)),
            ("bytes=100-", 100, Unsatisfiable),
            ("bytes=99999999999999999999999-", 100, Unsatisfiable),
            ("bytes=-0", 100, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-5", 0, Unsatisfiable),
            ("bytes=20-10", 100, Whole),
            ("bytes=-", 100, Whole),
            ("bytes=0-1,5-6", 100, Whole),
            ("bytes=a-b", 100, Whole),
            ("bytes=+1-2", 100, Whole),
            ("items=0-1", 100, Whole),
            ("bytes", 100, Whole),
            ("", 100, Whole),
            ("bytés=0-1", 100, Whole),
        ] {
            assert_eq!(
                ByteRange::parse(header, total),
                expected,
                "{header:?} of {total}"
            );
        }
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
