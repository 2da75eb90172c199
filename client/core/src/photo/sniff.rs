//! Media type from magic bytes, then from the file name's extension.

use std::path::Path;

/// What an unknown file is.
pub(crate) const OCTET_STREAM: &str = "application/octet-stream";

/// The media type of a file starting with `head`, named `path`.
pub(crate) fn mime(path: &Path, head: &[u8]) -> &'static str {
    let by_ext = by_extension(path);
    match by_magic(head) {
        // Camera raw formats are TIFF inside; the extension tells which.
        Some("image/tiff") if by_ext.is_some_and(|m| m.starts_with("image/x-")) => {
            by_ext.unwrap_or("image/tiff")
        }
        // Office documents, EPUB, APK… are ZIP files.
        Some("application/zip") => by_ext.unwrap_or("application/zip"),
        // Matroska and WebM share the EBML header.
        Some("video/x-matroska") if by_ext == Some("video/webm") => "video/webm",
        Some(m) => m,
        None => by_ext.unwrap_or(OCTET_STREAM),
    }
}

fn by_magic(h: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| h.starts_with(m);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if h.len() >= 12 && &h[0..4] == b"RIFF" {
        return match &h[8..12] {
            b"WEBP" => Some("image/webp"),
            b"AVI " => Some("video/x-msvideo"),
            b"WAVE" => Some("audio/wav"),
            _ => None,
        };
    }
    if h.len() >= 12 && &h[4..8] == b"ftyp" {
        return Some(ftyp(h));
    }
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Some("image/tiff");
    }
    if is_bmp(h) {
        return Some("image/bmp");
    }
    if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some("image/jxl");
    }
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("video/x-matroska");
    }
    if starts(b"PK\x03\x04") {
        return Some("application/zip");
    }
    if starts(&[0x1F, 0x8B]) {
        return Some("application/gzip");
    }
    if starts(b"OggS") {
        return Some("audio/ogg");
    }
    if starts(b"fLaC") {
        return Some("audio/flac");
    }
    if starts(b"ID3") {
        return Some("audio/mpeg");
    }
    if starts(b"8BPS") {
        return Some("image/vnd.adobe.photoshop");
    }
    if starts(b"FUJIFILMCCD-RAW") {
        return Some("image/x-fuji-raf");
    }
    if h.len() >= 8 && matches!(&h[4..8], b"moov" | b"mdat" | b"wide" | b"pnot") {
        // Old QuickTime files without an ftyp box.
        return Some("video/quicktime");
    }
    None
}

/// A BMP: "BM", then a known DIB header size at offset 14 (two letters alone are too weak).
fn is_bmp(h: &[u8]) -> bool {
    if h.len() < 18 || !h.starts_with(b"BM") {
        return false;
    }
    let dib = u32::from_le_bytes([h[14], h[15], h[16], h[17]]);
    matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// ISO base media files: the major brand, then the compatible brands.
fn ftyp(h: &[u8]) -> &'static str {
    let size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let end = size.clamp(12, h.len().max(12)).min(h.len());
    let major = &h[8..12];
    let compatible: Vec<&[u8]> = if end > 16 {
        h[16..end].chunks_exact(4).collect()
    } else {
        Vec::new()
    };
    let has = |brands: &[&[u8; 4]]| {
        std::iter::once(major)
            .chain(compatible.iter().copied())
            .any(|b| brands.iter().any(|x| b == &x[..]))
    };
    const HEIC: &[&[u8; 4]] = &[b"heic", b"heix", b"heim", b"heis"];
    const HEVC: &[&[u8; 4]] = &[b"hevc", b"hevx", b"hevm", b"hevs"];
    match major {
        b"heic" | b"heix" | b"heim" | b"heis" => "image/heic",
        b"avif" | b"avis" => "image/avif",
        // Image collections and sequences: a still primary image (mif1 with an HEVC brand) is
        // what a photo library sees, a bare sequence is a sequence.
        b"mif1" | b"mif2" | b"miaf" | b"msf1" | b"hevc" | b"hevx" | b"hevm" | b"hevs" => {
            if has(&[b"avif"]) {
                "image/avif"
            } else if has(HEIC) {
                "image/heic"
            } else if has(&[b"mif1", b"mif2"]) {
                "image/heif"
            } else if has(HEVC) {
                "image/heic-sequence"
            } else {
                "image/heif-sequence"
            }
        }
        b"crx " => "image/x-canon-cr3",
        b"jxl " => "image/jxl",
        b"qt  " => "video/quicktime",
        b"M4V " | b"M4VH" | b"M4VP" => "video/x-m4v",
        b"M4A " | b"M4B " | b"M4P " => "audio/mp4",
        _ if major.starts_with(b"3gp") => "video/3gpp",
        _ if major.starts_with(b"3g2") => "video/3gpp2",
        _ => {
            if has(&[b"heic", b"heix"]) {
                "image/heic"
            } else if has(&[b"mif1"]) {
                "image/heif"
            } else {
                "video/mp4"
            }
        }
    }
}

fn by_extension(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "jpe" | "jfif" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" | "hif" => "image/heif",
        "avif" => "image/avif",
        "tif" | "tiff" => "image/tiff",
        "bmp" | "dib" => "image/bmp",
        "ico" => "image/x-icon",
        "svg" => "image/svg+xml",
        "jxl" => "image/jxl",
        "psd" => "image/vnd.adobe.photoshop",
        "dng" => "image/x-adobe-dng",
        "cr2" => "image/x-canon-cr2",
        "cr3" => "image/x-canon-cr3",
        "crw" => "image/x-canon-crw",
        "nef" | "nrw" => "image/x-nikon-nef",
        "arw" | "srf" | "sr2" => "image/x-sony-arw",
        "orf" => "image/x-olympus-orf",
        "rw2" => "image/x-panasonic-rw2",
        "raf" => "image/x-fuji-raf",
        "pef" => "image/x-pentax-pef",
        "mp4" => "video/mp4",
        "m4v" => "video/x-m4v",
        "mov" | "qt" => "video/quicktime",
        "3gp" => "video/3gpp",
        "3g2" => "video/3gpp2",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "avi" => "video/x-msvideo",
        "mts" | "m2ts" | "ts" => "video/mp2t",
        "mpg" | "mpeg" => "video/mpeg",
        "wmv" => "video/x-ms-wmv",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "epub" => "application/epub+zip",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_wins_over_extension() {
        assert_eq!(
            mime(Path::new("a.png"), &[0xFF, 0xD8, 0xFF, 0xE0]),
            "image/jpeg"
        );
        assert_eq!(mime(Path::new("a.JPG"), b""), "image/jpeg");
        assert_eq!(mime(Path::new("a"), b"hello"), OCTET_STREAM);
        assert_eq!(
            mime(Path::new("a.nef"), b"MM\0*\0\0\0\x08"),
            "image/x-nikon-nef"
        );
        assert_eq!(
            mime(Path::new("a.docx"), b"PK\x03\x04"),
            by_extension(Path::new("a.docx")).unwrap_or("")
        );
    }

    #[test]
    fn ftyp_brands() {
        let heic = b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic";
        assert_eq!(mime(Path::new("x"), heic), "image/heic");
        let heif = b"\0\0\0\x14ftypmif1\0\0\0\0mif1";
        assert_eq!(mime(Path::new("x"), heif), "image/heif");
        let mp4 = b"\0\0\0\x14ftypisom\0\0\0\x01isom";
        assert_eq!(mime(Path::new("x"), mp4), "video/mp4");
        let burst = b"\0\0\0\x1cftypmsf1\0\0\0\0msf1hevcheic";
        assert_eq!(mime(Path::new("x"), burst), "image/heic");
        let seq = b"\0\0\0\x18ftypmsf1\0\0\0\0msf1hevc";
        assert_eq!(mime(Path::new("x"), seq), "image/heic-sequence");
        let mov = b"\0\0\0\x14ftypqt  \0\0\0\0qt  ";
        assert_eq!(mime(Path::new("x"), mov), "video/quicktime");
        // Truncated box: no panic.
        assert_eq!(
            mime(Path::new("x"), b"\xff\xff\xff\xffftypmif1"),
            "image/heif"
        );
    }
}
