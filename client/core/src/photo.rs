//! Photos: what a file's own bytes say about it, and its thumbnail.
//!
//! [`PhotoInfo::read`] sniffs the media type from the file's first bytes (falling back on the
//! extension) and reads the EXIF block (date taken, orientation, GPS, camera) and the pixel
//! dimensions from the image header. It never fails: a file that is not a photo, or whose EXIF
//! is malformed, simply yields fewer fields.
//!
//! [`thumbnail`] makes a JPEG of at most [`THUMBNAIL_SIZE`] pixels on its long side, already
//! turned upright. JPEGs are decoded with jpeg-decoder's scaled IDCT (1/8, 1/4 or 1/2 of the
//! size, whichever is the smallest that still covers the thumbnail), so a 24 MP photo never
//! exists in memory at full size; other formats (PNG, GIF, WebP, BMP, TIFF) go through the
//! `image` crate. Both paths then resize with fast_image_resize (Lanczos3), apply the EXIF
//! orientation on the small image and encode a baseline JPEG with jpeg-encoder. The choices and
//! their measurements are in `shared/MEASURED.md`, section "Thumbnails".
//!
//! HEIC/HEIF is recognised ([`PhotoInfo::mime`] is `image/heic` or `image/heif`); it is read
//! only with the crate feature `heic` (libheif): then [`PhotoInfo::read`] opens the file by its
//! path for its EXIF and size, and [`thumbnail`] decodes it with libheif, which turns it
//! upright by the HEIF transformations (EXIF Orientation is not applied again; see
//! `photo/heic.rs`). Without the feature, [`thumbnail`] returns `Ok(None)` for it and
//! [`PhotoInfo::read`] reports only its type.
//!
//! Videos get a poster frame as their thumbnail, and their length and picture size
//! ([`video`]).

mod header;
#[cfg(all(feature = "heic", not(target_arch = "wasm32")))]
mod heic;
mod orient;
mod sniff;
mod tags;
mod thumb;
pub mod video;

pub use video::VideoFacts;

use std::path::Path;

/// Long side of a thumbnail, pixels.
pub const THUMBNAIL_SIZE: u32 = 720;

/// What a file's own bytes say about it (all optional: a file that is not a photo has none).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhotoInfo {
    /// Media type, sniffed from the magic bytes, then from the extension;
    /// `application/octet-stream` if neither is known.
    pub mime: String,
    /// When the photo was taken, milliseconds since the Unix epoch: EXIF DateTimeOriginal
    /// (else DateTimeDigitized, else DateTime) with its sub-seconds. UTC when the file records
    /// the offset (then [`taken_offset_min`](Self::taken_offset_min) is set), otherwise the
    /// camera's wall clock read as UTC.
    pub taken_at: Option<i64>,
    /// The camera's offset from UTC in minutes (EXIF OffsetTime*), when recorded.
    pub taken_offset_min: Option<i16>,
    /// Width in pixels as stored (before orientation), from the image header; from EXIF only if
    /// the header could not be read.
    pub width: Option<u32>,
    /// Height in pixels as stored (before orientation), like [`width`](Self::width).
    pub height: Option<u32>,
    /// EXIF orientation, only if valid (1..=8).
    pub orientation: Option<u8>,
    /// Where it was taken; only finite coordinates within range (empty GPS tags are ignored).
    pub gps: Option<vault_crypto::GpsPosition>,
    /// Camera maker (EXIF Make), trimmed; `None` if empty.
    pub camera_make: Option<String>,
    /// Camera model (EXIF Model), trimmed; `None` if empty.
    pub camera_model: Option<String>,
}

impl PhotoInfo {
    /// Reads what it can from the start of a file. `head` is the first bytes of the file (the
    /// caller passes up to 256 KiB; EXIF in JPEG is in APP1 within the first 64 KiB), `path` is
    /// for the extension only, except for HEIC/HEIF with the `heic` feature: their metadata may
    /// be anywhere in the file, which is then opened by `path` (falling back on `head` if it
    /// cannot be). Never fails and never panics: what cannot be read is `None`.
    pub fn read(path: &Path, head: &[u8]) -> PhotoInfo {
        PhotoInfo::read_from(Source::File(path), path, head)
    }

    /// As [`PhotoInfo::read`], from the whole file already in memory (`bytes`): nothing is
    /// read again, HEIC/HEIF included.
    pub fn read_bytes(path: &Path, bytes: &[u8]) -> PhotoInfo {
        PhotoInfo::read_from(
            Source::Bytes(bytes),
            path,
            &bytes[..bytes.len().min(HEAD_BYTES)],
        )
    }

    #[cfg_attr(
        not(all(feature = "heic", not(target_arch = "wasm32"))),
        allow(unused_variables)
    )]
    fn read_from(source: Source<'_>, path: &Path, head: &[u8]) -> PhotoInfo {
        let mime = sniff::mime(path, head);
        let mut info = PhotoInfo {
            mime: mime.to_owned(),
            ..PhotoInfo::default()
        };
        #[cfg(all(feature = "heic", not(target_arch = "wasm32")))]
        if matches!(mime, "image/heic" | "image/heif") {
            heic::read(source, head, &mut info);
            return info;
        }
        let header = header::read(mime, head);
        if let Some(exif) = tags::find_exif(mime, head, header.jpeg_exif) {
            tags::fill(&exif, &mut info);
        }
        if let Some((w, h)) = header.dimensions {
            info.width = Some(w);
            info.height = Some(h);
        }
        info
    }

    /// Writes these fields into a metadata record: `mime`, `taken_at`, `taken_offset_min`,
    /// `width`, `height`, `orientation`, `gps`, `camera_make` and `camera_model` are replaced
    /// (a `None` here clears the record's value). Leaves name, size, content hash, modification
    /// time and duration alone.
    pub fn apply_to(&self, meta: &mut vault_crypto::FileMetadata) {
        meta.mime.clone_from(&self.mime);
        meta.taken_at = self.taken_at;
        meta.taken_offset_min = self.taken_offset_min;
        meta.width = self.width;
        meta.height = self.height;
        meta.orientation = self.orientation;
        meta.gps = self.gps;
        meta.camera_make.clone_from(&self.camera_make);
        meta.camera_model.clone_from(&self.camera_model);
    }

    /// Whether [`thumbnail`] can make a thumbnail of a file of this type in this build.
    pub fn is_thumbnailable(&self) -> bool {
        thumb::kind(&self.mime).is_some()
    }
}

/// A JPEG thumbnail: at most [`THUMBNAIL_SIZE`] on its long side, EXIF orientation already
/// applied (so it displays upright), baseline JPEG quality ~80.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thumbnail {
    /// The encoded JPEG (baseline, no EXIF).
    pub jpeg: Vec<u8>,
    /// Width in pixels, as displayed (after orientation).
    pub width: u32,
    /// Height in pixels, as displayed (after orientation).
    pub height: u32,
}

/// Why a thumbnail could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// The file is an image of a kind whose encoding this build cannot decode (for instance an
    /// arithmetic-coded JPEG).
    #[error("cannot decode this {mime} image: {reason}")]
    Unsupported {
        /// The file's media type.
        mime: String,
        /// What is not supported.
        reason: String,
    },
    /// The image data is malformed or truncated.
    #[error("cannot decode image: {0}")]
    Decode(String),
    /// Resizing or encoding the thumbnail failed.
    #[error("cannot encode thumbnail: {0}")]
    Encode(String),
    /// The file could not be read.
    #[error("cannot read image file: {0}")]
    Io(#[from] std::io::Error),
}

/// Makes the thumbnail of an image file. `Ok(None)` for a file that is not a supported image
/// (video, pdf, HEIC without the `heic` feature, …), judged by `info.mime` (as
/// [`PhotoInfo::read`] found it); `info.orientation` is applied (except to HEIC/HEIF, which
/// libheif turns upright by the file's own transformations). Images smaller than
/// [`THUMBNAIL_SIZE`] are not upscaled.
pub fn thumbnail(path: &Path, info: &PhotoInfo) -> Result<Option<Thumbnail>, ThumbnailError> {
    thumb::thumbnail(Source::File(path), info)
}

/// As [`thumbnail`], from the whole file already in memory: the upload keeps a photo's bytes
/// from hashing it, so that it is read from disk twice (hash, send), not three times.
pub fn thumbnail_of_bytes(
    bytes: &[u8],
    info: &PhotoInfo,
) -> Result<Option<Thumbnail>, ThumbnailError> {
    thumb::thumbnail(Source::Bytes(bytes), info)
}

/// Where an image's bytes are read from.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The file, opened (again) for this.
    File(&'a Path),
    /// The whole file, already read.
    Bytes(&'a [u8]),
}

/// Whether a file whose name is `path` and whose first bytes are `head` is an image this build
/// makes thumbnails of (see [`PhotoInfo::is_thumbnailable`]).
pub(crate) fn thumbnailable(path: &Path, head: &[u8]) -> bool {
    thumb::kind(sniff::mime(path, head)).is_some()
}

/// Bytes from the start of a file that hold the EXIF of every format but HEIF (whose
/// metadata may be anywhere): what the upload passes [`PhotoInfo::read`] as `head`.
pub const HEAD_BYTES: usize = 256 << 10;

/// The size a `width` x `height` image is scaled to so that its long side is at most
/// [`THUMBNAIL_SIZE`] (never upscaled, never zero, aspect ratio kept to the nearest pixel).
pub fn fit_size(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= THUMBNAIL_SIZE || long == 0 {
        return (width.max(1), height.max(1));
    }
    let scale = |side: u32| -> u32 {
        let scaled =
            (u64::from(side) * u64::from(THUMBNAIL_SIZE) + u64::from(long) / 2) / u64::from(long);
        // At most THUMBNAIL_SIZE, so it fits.
        (scaled as u32).clamp(1, THUMBNAIL_SIZE)
    };
    (scale(width), scale(height))
}
