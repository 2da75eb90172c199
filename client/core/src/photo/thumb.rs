//! Thumbnails: scaled JPEG decoding (or the `image` crate), resize, orientation, JPEG encoding.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, ErrorKind, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};

use fast_image_resize as fr;

use super::{PhotoInfo, Source, Thumbnail, ThumbnailError, fit_size, orient};

/// JPEG quality of thumbnails.
const QUALITY: u8 = 80;

/// Largest progressive JPEG decoded (its coefficients take ~3 bytes a pixel: ~360 MB here).
/// Baseline JPEGs have no limit: they are decoded scaled, row by row.
const MAX_PROGRESSIVE_PIXELS: u64 = 120_000_000;

/// How a file of some media type is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// jpeg-decoder with a scaled IDCT.
    Jpeg,
    /// The `image` crate, full size.
    Image(image::ImageFormat),
    /// libheif, full size, turned upright by libheif itself.
    #[cfg(all(feature = "heic", not(target_arch = "wasm32")))]
    Heic,
}

/// How files of type `mime` are decoded, `None` if this build makes no thumbnails of them.
pub(crate) fn kind(mime: &str) -> Option<Kind> {
    Some(match mime {
        "image/jpeg" => Kind::Jpeg,
        "image/png" => Kind::Image(image::ImageFormat::Png),
        "image/gif" => Kind::Image(image::ImageFormat::Gif),
        "image/webp" => Kind::Image(image::ImageFormat::WebP),
        "image/bmp" => Kind::Image(image::ImageFormat::Bmp),
        "image/tiff" => Kind::Image(image::ImageFormat::Tiff),
        // HEIC/HEIF needs libheif (crate feature `heic`); everything else (video, raw,
        // documents) has no thumbnail.
        #[cfg(all(feature = "heic", not(target_arch = "wasm32")))]
        "image/heic" | "image/heif" => Kind::Heic,
        _ => return None,
    })
}

/// Decoded pixels: 8 bits a channel, interleaved, rows top to bottom.
struct Raster {
    data: Vec<u8>,
    width: u32,
    height: u32,
    /// 1 (grey), 3 (RGB) or 4 (RGBA, not premultiplied).
    channels: usize,
}

pub(crate) fn thumbnail(
    source: Source<'_>,
    info: &PhotoInfo,
) -> Result<Option<Thumbnail>, ThumbnailError> {
    let Some(kind) = kind(&info.mime) else {
        return Ok(None);
    };
    // Each reader its own copy of the decoders: jpeg-decoder reads a byte at a time, which a
    // `dyn` reader would make a call each (4% of a photo upload's time when it was one).
    let decoded = match source {
        Source::File(path) => decode(kind, source, info, || {
            Ok(BufReader::with_capacity(64 * 1024, File::open(path)?))
        }),
        Source::Bytes(bytes) => decode(kind, source, info, || Ok(Cursor::new(bytes))),
    }?;
    let orientation = info.orientation.unwrap_or(1);
    // libheif has applied the HEIF rotation and mirroring: EXIF Orientation is not applied again.
    #[cfg(all(feature = "heic", not(target_arch = "wasm32")))]
    let orientation = if kind == Kind::Heic { 1 } else { orientation };
    let finished = guard(|| finish(decoded, orientation))?;
    Ok(Some(finished))
}

/// Decodes the image `open` reads (from its first byte each time it is called), as `kind`
/// says; `source` is where it came from (libheif reads it itself).
#[cfg_attr(
    not(all(feature = "heic", not(target_arch = "wasm32"))),
    allow(unused_variables)
)]
fn decode<R: BufRead + Seek>(
    kind: Kind,
    source: Source<'_>,
    info: &PhotoInfo,
    open: impl Fn() -> std::io::Result<R>,
) -> Result<Raster, ThumbnailError> {
    guard(|| match kind {
        Kind::Jpeg => match decode_jpeg(open()?) {
            Err(JpegFailure::Unsupported(reason)) => {
                // jpeg-decoder lacks some rare codings; zune-jpeg (in `image`) may have them.
                decode_image(open()?, image::ImageFormat::Jpeg).map_err(|e| match e {
                    ThumbnailError::Decode(_) | ThumbnailError::Unsupported { .. } => {
                        ThumbnailError::Unsupported {
                            mime: info.mime.clone(),
                            reason,
                        }
                    }
                    other => other,
                })
            }
            Err(JpegFailure::Other(e)) => Err(e),
            Ok(raster) => Ok(raster),
        },
        Kind::Image(format) => decode_image(open()?, format).map_err(|e| match e {
            ThumbnailError::Unsupported { reason, .. } => ThumbnailError::Unsupported {
                mime: info.mime.clone(),
                reason,
            },
            other => other,
        }),
        #[cfg(all(feature = "heic", not(target_arch = "wasm32")))]
        Kind::Heic => super::heic::decode(source).map(|(data, width, height, channels)| Raster {
            data,
            width,
            height,
            channels,
        }),
    })
}

/// Runs `f`, turning a panic in a decoder on a hostile file into an error.
fn guard<T>(f: impl FnOnce() -> Result<T, ThumbnailError>) -> Result<T, ThumbnailError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(ThumbnailError::Decode("the decoder panicked".into())))
}

enum JpegFailure {
    /// A coding jpeg-decoder does not implement.
    Unsupported(String),
    Other(ThumbnailError),
}

impl From<jpeg_decoder::Error> for JpegFailure {
    fn from(e: jpeg_decoder::Error) -> Self {
        match e {
            jpeg_decoder::Error::Unsupported(what) => JpegFailure::Unsupported(format!("{what:?}")),
            jpeg_decoder::Error::Io(io) if io.kind() == ErrorKind::UnexpectedEof => {
                JpegFailure::Other(ThumbnailError::Decode("truncated JPEG".into()))
            }
            jpeg_decoder::Error::Io(io) => JpegFailure::Other(ThumbnailError::Io(io)),
            other => JpegFailure::Other(ThumbnailError::Decode(other.to_string())),
        }
    }
}

/// Decodes a JPEG at the smallest of 1/8, 1/4, 1/2 or full size that still covers the
/// thumbnail.
fn decode_jpeg(file: impl Read) -> Result<Raster, JpegFailure> {
    let mut decoder = jpeg_decoder::Decoder::new(file);
    decoder.read_info()?;
    let full = decoder
        .info()
        .ok_or_else(|| JpegFailure::Other(ThumbnailError::Decode("no JPEG frame".into())))?;
    let pixels = u64::from(full.width) * u64::from(full.height);
    if full.coding_process == jpeg_decoder::CodingProcess::DctProgressive
        && pixels > MAX_PROGRESSIVE_PIXELS
    {
        // A progressive JPEG keeps all its coefficients (about 3 bytes a pixel) until the end.
        return Err(JpegFailure::Other(ThumbnailError::Unsupported {
            mime: "image/jpeg".into(),
            reason: format!("progressive JPEG of {} MP", pixels / 1_000_000),
        }));
    }
    let (fit_w, fit_h) = fit_size(u32::from(full.width), u32::from(full.height));
    // Both are at most the image's own u16 dimensions.
    let (fit_w, fit_h) = (
        u16::try_from(fit_w).unwrap_or(u16::MAX),
        u16::try_from(fit_h).unwrap_or(u16::MAX),
    );
    decoder.scale(fit_w, fit_h)?;
    let scaled = decoder
        .info()
        .ok_or_else(|| JpegFailure::Other(ThumbnailError::Decode("no JPEG frame".into())))?;
    let pixels = decoder.decode()?;
    let (width, height) = (u32::from(scaled.width), u32::from(scaled.height));
    let count = width as usize * height as usize;
    if pixels.len() < count * scaled.pixel_format.pixel_bytes() {
        return Err(JpegFailure::Other(ThumbnailError::Decode(
            "JPEG decoder returned too few pixels".into(),
        )));
    }
    use jpeg_decoder::PixelFormat as P;
    let (data, channels) = match scaled.pixel_format {
        P::L8 => (pixels, 1),
        P::RGB24 => (pixels, 3),
        P::L16 => (l16_to_l8(&pixels[..count * 2]), 1),
        P::CMYK32 => (cmyk_to_rgb(&pixels[..count * 4]), 3),
    };
    Ok(Raster {
        data,
        width,
        height,
        channels,
    })
}

/// 16-bit grey (native endian; lossless JPEGs of 9 to 16 bits) to 8 bits, scaled by the
/// brightest sample since the precision is not reported.
fn l16_to_l8(pixels: &[u8]) -> Vec<u8> {
    let samples = pixels
        .chunks_exact(2)
        .map(|b| u16::from_ne_bytes([b[0], b[1]]));
    let max = samples.clone().max().unwrap_or(0);
    let bits = 16 - max.leading_zeros();
    let shift = bits.saturating_sub(8);
    samples.map(|s| (s >> shift) as u8).collect()
}

/// CMYK to RGB. jpeg-decoder already undoes the inversion Adobe applications write (and
/// converts YCCK), so the samples are ink amounts.
fn cmyk_to_rgb(pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() / 4 * 3);
    for p in pixels.chunks_exact(4) {
        let k = 255 - u32::from(p[3]);
        for &c in &p[..3] {
            out.push(((255 - u32::from(c)) * k / 255) as u8);
        }
    }
    out
}

/// Decodes any format the `image` crate is built with, at full size.
fn decode_image(
    file: impl BufRead + Seek,
    format: image::ImageFormat,
) -> Result<Raster, ThumbnailError> {
    let image = image::ImageReader::with_format(file, format)
        .decode()
        .map_err(|e| match e {
            image::ImageError::IoError(io) if io.kind() == ErrorKind::UnexpectedEof => {
                ThumbnailError::Decode("truncated image".into())
            }
            image::ImageError::IoError(io) => ThumbnailError::Io(io),
            image::ImageError::Unsupported(u) => ThumbnailError::Unsupported {
                mime: String::new(),
                reason: u.to_string(),
            },
            image::ImageError::Limits(l) => ThumbnailError::Unsupported {
                mime: String::new(),
                reason: l.to_string(),
            },
            other => ThumbnailError::Decode(other.to_string()),
        })?;
    let (width, height) = (image.width(), image.height());
    let (data, channels) = if image.color().has_alpha() {
        (image.into_rgba8().into_raw(), 4)
    } else if !image.color().has_color() {
        (image.into_luma8().into_raw(), 1)
    } else {
        (image.into_rgb8().into_raw(), 3)
    };
    Ok(Raster {
        data,
        width,
        height,
        channels,
    })
}

/// Resizes to the thumbnail size, drops alpha (over white), turns upright, encodes.
fn finish(raster: Raster, orientation: u8) -> Result<Thumbnail, ThumbnailError> {
    let (w, h) = fit_size(raster.width, raster.height);
    let raster = resize(raster, w, h)?;
    let raster = flatten(raster);
    let (data, width, height) = orient::apply(
        raster.data,
        raster.width as usize,
        raster.height as usize,
        raster.channels,
        orientation,
    );
    let color = if raster.channels == 1 {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    // At most THUMBNAIL_SIZE, or an image's own (u16) size, after fit_size.
    let (w16, h16) = (
        u16::try_from(width).map_err(|_| ThumbnailError::Encode("too wide".into()))?,
        u16::try_from(height).map_err(|_| ThumbnailError::Encode("too high".into()))?,
    );
    let mut jpeg = Vec::with_capacity(width * height / 4 + 1024);
    jpeg_encoder::Encoder::new(&mut jpeg, QUALITY)
        .encode(&data, w16, h16, color)
        .map_err(|e| ThumbnailError::Encode(e.to_string()))?;
    Ok(Thumbnail {
        jpeg,
        width: width as u32,
        height: height as u32,
    })
}

fn resize(raster: Raster, width: u32, height: u32) -> Result<Raster, ThumbnailError> {
    if (raster.width, raster.height) == (width, height) {
        return Ok(raster);
    }
    let pixel_type = match raster.channels {
        1 => fr::PixelType::U8,
        3 => fr::PixelType::U8x3,
        _ => fr::PixelType::U8x4,
    };
    let enc = |e: &dyn std::fmt::Display| ThumbnailError::Encode(format!("resize: {e}"));
    let expected = raster.width as usize * raster.height as usize * raster.channels;
    let mut data = raster.data;
    data.truncate(expected);
    let src = fr::images::Image::from_vec_u8(raster.width, raster.height, data, pixel_type)
        .map_err(|e| enc(&e))?;
    let mut dst = fr::images::Image::new(width, height, pixel_type);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| enc(&e))?;
    Ok(Raster {
        data: dst.into_vec(),
        width,
        height,
        channels: raster.channels,
    })
}

/// RGBA over a white background to RGB; other rasters unchanged.
fn flatten(raster: Raster) -> Raster {
    if raster.channels != 4 {
        return raster;
    }
    let data = raster
        .data
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            let over = move |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
            [over(p[0]), over(p[1]), over(p[2])]
        })
        .collect();
    Raster {
        data,
        channels: 3,
        ..raster
    }
}
