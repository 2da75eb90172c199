//! HEIC/HEIF through libheif (crate feature `heic`; Debian's `libheif-dev`, 1.15 on bookworm):
//! the EXIF block and dimensions of the primary image, and its pixels.
//!
//! A file is opened by its path, or read from its bytes where the caller holds them already
//! (an upload does): a HEIF file's metadata (`meta` box) and EXIF item may be anywhere in it,
//! not necessarily within the first bytes a caller reads. From a path libheif reads it through
//! [`FileReader`], seeking to the boxes and items it needs, so reading the metadata of a large
//! photo does not read its pixels.
//!
//! Orientation: libheif applies the HEIF transformations (`irot`, `imir`, `clap`) itself when
//! it decodes, so the decoded image is already upright and is not turned again by EXIF
//! Orientation (which, in HEIF, is informative only). [`read`] reports EXIF Orientation, and
//! width and height such that turning them by that orientation gives the size libheif
//! displays: for an iPhone photo (`ispe` 4032x3024, `irot` 90°, EXIF Orientation 6) that is
//! 4032x3024, the stored size, as for a JPEG. Where a file's EXIF Orientation and its HEIF
//! transformation disagree, the displayed size (the thumbnail's shape) wins; a `clap` crop
//! is included (so a 64x100 `ispe` cropped to 29x100 is 29x100).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use libheif_rs::{
    ColorSpace, HeifContext, ImageHandle, ItemId, LibHeif, ReaderGrowStatus, RgbChroma,
};

use super::{PhotoInfo, Source, ThumbnailError, tags};

/// Largest EXIF block read (a Xiaomi photo's is over 128 KiB; nothing real is near this).
const MAX_EXIF: usize = 16 * 1024 * 1024;

/// Largest image decoded, pixels (a 200 MP Samsung photo is 16320x12240). libheif 1.15 itself
/// refuses more than 32768x32768.
const MAX_PIXELS: u64 = 250_000_000;

/// libheif, initialised once for the process (`heif_init` is reference counted; never
/// deinitialised).
fn libheif() -> &'static LibHeif {
    static LIB: OnceLock<LibHeif> = OnceLock::new();
    LIB.get_or_init(LibHeif::new)
}

/// A file for libheif: whole reads (libheif treats a short read as an error) and seeks that
/// keep the buffer when they land inside it.
struct FileReader {
    file: BufReader<File>,
    position: u64,
    size: u64,
}

impl libheif_rs::Reader for FileReader {
    fn position(&mut self) -> u64 {
        self.position
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.file.read_exact(buf) {
            Ok(()) => {
                self.position += buf.len() as u64;
                Ok(buf.len())
            }
            Err(e) => {
                // Where the file is after a failed read is unknown: go back to where it was.
                let _ = self.file.seek(io::SeekFrom::Start(self.position));
                Err(e)
            }
        }
    }

    fn seek(&mut self, position: u64) -> io::Result<u64> {
        let delta = i64::try_from(position)
            .ok()
            .and_then(|p| p.checked_sub(i64::try_from(self.position).ok()?))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        if delta != 0 {
            self.file.seek_relative(delta)?;
            self.position = position;
        }
        Ok(position)
    }

    fn wait_for_file_size(&mut self, target_size: u64) -> ReaderGrowStatus {
        if target_size > self.size {
            ReaderGrowStatus::SizeBeyondEof
        } else {
            ReaderGrowStatus::SizeReached
        }
    }
}

fn decode_error(e: impl std::fmt::Display) -> ThumbnailError {
    ThumbnailError::Decode(format!("HEIF: {e}"))
}

/// Opens a HEIF file through libheif (this parses its boxes, not its pixels).
fn open(source: Source<'_>) -> Result<HeifContext<'_>, ThumbnailError> {
    let path = match source {
        Source::File(path) => path,
        Source::Bytes(bytes) => {
            return HeifContext::read_from_bytes(bytes).map_err(decode_error);
        }
    };
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    let reader = FileReader {
        file: BufReader::with_capacity(64 * 1024, file),
        position: 0,
        size,
    };
    HeifContext::read_from_reader(Box::new(reader)).map_err(decode_error)
}

/// Fills `info` (whose `mime` is set) from the HEIF file at `path`; from `head`, the file's
/// first bytes, only if the file cannot be opened. Leaves what cannot be read `None`.
pub(crate) fn read(source: Source<'_>, head: &[u8], info: &mut PhotoInfo) {
    let read = || {
        // The context owns the reader the handle reads through: it outlives the handle.
        let context = match open(source) {
            Ok(context) => context,
            Err(_) => match HeifContext::read_from_bytes(head) {
                Ok(context) => context,
                Err(_) => return,
            },
        };
        let Ok(handle) = context.primary_image_handle() else {
            return;
        };
        if let Some(exif) = exif(&handle) {
            tags::fill(&exif, info);
        }
        // Displayed size (after irot and clap), turned back by EXIF orientation.
        let (w, h) = (handle.width(), handle.height());
        if w > 0 && h > 0 {
            let (w, h) = if info.orientation.is_some_and(|o| o >= 5) {
                (h, w)
            } else {
                (w, h)
            };
            info.width = Some(w);
            info.height = Some(h);
        }
    };
    // A panic in the bindings on a hostile file must not take the caller down.
    let _ = catch_unwind(AssertUnwindSafe(read));
}

/// The EXIF of the primary image: the first of its EXIF blocks that parses.
fn exif(handle: &ImageHandle) -> Option<exif::Exif> {
    let count = usize::try_from(handle.number_of_metadata_blocks(b"Exif")).ok()?;
    if count == 0 {
        return None;
    }
    let mut ids: Vec<ItemId> = vec![0; count.min(64)];
    let found = handle.metadata_block_ids(&mut ids, b"Exif");
    ids.truncate(found);
    ids.into_iter().find_map(|id| {
        if handle.metadata_size(id) > MAX_EXIF {
            return None;
        }
        let block = handle.metadata(id).ok()?;
        tags::find_exif("image/heic", &[], Some(tiff(&block)?))
    })
}

/// The TIFF structure inside a HEIF EXIF item: after a 4-byte big-endian offset, that many
/// bytes on (usually the 6 of `Exif\0\0`). A writer that got the offset wrong still has the
/// TIFF header close by.
fn tiff(block: &[u8]) -> Option<&[u8]> {
    let is_tiff = |b: &[u8]| b.starts_with(b"II*\0") || b.starts_with(b"MM\0*");
    let offset = u32::from_be_bytes(block.get(..4)?.try_into().ok()?);
    let rest = block.get(4..)?;
    if let Some(tiff) = usize::try_from(offset).ok().and_then(|o| rest.get(o..))
        && is_tiff(tiff)
    {
        return Some(tiff);
    }
    let near = &rest[..rest.len().min(64)];
    (0..near.len())
        .find(|&i| is_tiff(&rest[i..]))
        .map(|i| &rest[i..])
}

/// The primary image, decoded and transformed (upright) by libheif: 8-bit interleaved RGB, or
/// RGBA (not premultiplied) if it has alpha; returns pixels, width, height and channels.
pub(crate) fn decode(source: Source<'_>) -> Result<(Vec<u8>, u32, u32, usize), ThumbnailError> {
    let context = open(source)?;
    let handle = context.primary_image_handle().map_err(decode_error)?;
    let pixels = u64::from(handle.width()) * u64::from(handle.height());
    if pixels > MAX_PIXELS {
        return Err(ThumbnailError::Unsupported {
            mime: "image/heic".into(),
            reason: format!("image of {} MP", pixels / 1_000_000),
        });
    }
    let alpha = handle.has_alpha_channel();
    let (chroma, channels) = if alpha {
        (RgbChroma::Rgba, 4)
    } else {
        (RgbChroma::Rgb, 3)
    };
    // No decoding options: libheif 1.15.1 given options from `heif_decoding_options_alloc`
    // (version 4, ignore_transformations off) decodes arrow.heic unrotated; with none it
    // applies irot/imir/clap. Asking for interleaved 8-bit RGB(A) makes it convert 10- and
    // 12-bit images to 8 bits anyway.
    let image = libheif()
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(decode_error)?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| decode_error("no interleaved plane"))?;
    if plane.bits_per_pixel != 8 {
        return Err(decode_error(format!(
            "{} bits a sample after conversion",
            plane.bits_per_pixel
        )));
    }
    let (width, height) = (plane.width, plane.height);
    if width == 0 || height == 0 {
        return Err(decode_error("empty image"));
    }
    let row = width as usize * channels;
    if plane.stride < row {
        return Err(decode_error("plane rows too short"));
    }
    let mut data = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        let start = y * plane.stride;
        let src = plane
            .data
            .get(start..start + row)
            .ok_or_else(|| decode_error("plane too short"))?;
        data.extend_from_slice(src);
    }
    if alpha && image.is_premultiplied_alpha() {
        unpremultiply(&mut data);
    }
    Ok((data, width, height, channels))
}

/// Premultiplied RGBA to straight RGBA.
fn unpremultiply(rgba: &mut [u8]) {
    for p in rgba.chunks_exact_mut(4) {
        let a = u32::from(p[3]);
        if a == 0 || a == 255 {
            continue;
        }
        for c in &mut p[..3] {
            *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tiff;

    #[test]
    fn tiff_offsets() {
        let mut block = vec![0, 0, 0, 6];
        block.extend_from_slice(b"Exif\0\0MM\0*rest");
        assert_eq!(tiff(&block), Some(&b"MM\0*rest"[..]));
        // No `Exif\0\0` and offset 0.
        assert_eq!(tiff(b"\0\0\0\0II*\0x"), Some(&b"II*\0x"[..]));
        // A wrong offset with the header close by.
        assert_eq!(tiff(b"\0\0\0\x09Exif\0\0II*\0x"), Some(&b"II*\0x"[..]));
        // Offsets past the end and garbage.
        assert_eq!(tiff(b"\xff\xff\xff\xffII"), None);
        assert_eq!(tiff(b"\0\0"), None);
        assert_eq!(tiff(b""), None);
    }
}
