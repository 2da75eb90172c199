//! Pixel dimensions from image headers, and where a JPEG keeps its EXIF block.

/// What the start of an image file says.
#[derive(Debug, Default)]
pub(crate) struct Header<'a> {
    /// Width and height as stored.
    pub dimensions: Option<(u32, u32)>,
    /// A JPEG's EXIF block (the TIFF structure after `Exif\0\0`), possibly cut short if `head`
    /// ends inside it.
    pub jpeg_exif: Option<&'a [u8]>,
}

/// Reads the header of an image of type `mime` from its first bytes.
pub(crate) fn read<'a>(mime: &str, head: &'a [u8]) -> Header<'a> {
    match mime {
        "image/jpeg" => jpeg(head),
        "image/png" => dims(png(head)),
        "image/gif" => dims(gif(head)),
        "image/bmp" => dims(bmp(head)),
        "image/webp" => dims(webp(head)),
        _ => Header::default(),
    }
}

fn dims<'a>(d: Option<(u32, u32)>) -> Header<'a> {
    Header {
        dimensions: d.filter(|&(w, h)| w > 0 && h > 0),
        jpeg_exif: None,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        0,
    ]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks a JPEG's marker segments up to the first scan.
fn jpeg(h: &[u8]) -> Header<'_> {
    let mut out = Header::default();
    if !h.starts_with(&[0xFF, 0xD8]) {
        return out;
    }
    let mut i = 2;
    while i < h.len() {
        if h[i] != 0xFF {
            // Not a marker where one should be: the file is damaged; stop here.
            break;
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while i < h.len() && h[i] == 0xFF {
            i += 1;
        }
        let Some(&marker) = h.get(i) else { break };
        i += 1;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => continue,
            // End of image, start of scan: no more headers.
            0xD9 | 0xDA => break,
            _ => {}
        }
        let Some(len) = be16(h, i) else { break };
        let len = usize::from(len);
        if len < 2 {
            break;
        }
        let data = &h[(i + 2).min(h.len())..(i + len).min(h.len())];
        match marker {
            // Start of frame (not DHT C4, JPG C8, DAC CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if out.dimensions.is_none()
                    && let (Some(height), Some(width)) = (be16(data, 1), be16(data, 3))
                    && width > 0
                    && height > 0
                {
                    out.dimensions = Some((u32::from(width), u32::from(height)));
                }
            }
            0xE1 if out.jpeg_exif.is_none() && data.starts_with(b"Exif\0") && data.len() > 6 => {
                out.jpeg_exif = Some(&data[6..]);
            }
            _ => {}
        }
        i += len;
    }
    out
}

fn png(h: &[u8]) -> Option<(u32, u32)> {
    if h.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(h, 16)?, be32(h, 20)?))
}

fn gif(h: &[u8]) -> Option<(u32, u32)> {
    Some((u32::from(le16(h, 6)?), u32::from(le16(h, 8)?)))
}

fn bmp(h: &[u8]) -> Option<(u32, u32)> {
    if le32(h, 14)? == 12 {
        Some((u32::from(le16(h, 18)?), u32::from(le16(h, 20)?)))
    } else {
        let w = le32(h, 18)? as i32;
        // Negative height: rows stored top-down.
        let hgt = le32(h, 22)? as i32;
        Some((w.checked_abs()? as u32, hgt.checked_abs()? as u32))
    }
}

fn webp(h: &[u8]) -> Option<(u32, u32)> {
    match h.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
            if h.get(23..26)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            Some((
                u32::from(le16(h, 26)? & 0x3FFF),
                u32::from(le16(h, 28)? & 0x3FFF),
            ))
        }
        b"VP8L" => {
            if *h.get(20)? != 0x2F {
                return None;
            }
            let bits = le32(h, 21)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(h, 24)? + 1, le24(h, 27)? + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_does_not_panic() {
        for mime in [
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/bmp",
            "image/webp",
        ] {
            for len in 0..64 {
                let junk: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8 | 0x80).collect();
                let _ = read(mime, &junk);
            }
        }
        let _ = read("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xC0, 0x00]);
        let _ = read("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, b'E']);
    }

    #[test]
    fn jpeg_sof() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0];
        j.extend_from_slice(&[0xFF, 0xC2, 0x00, 0x11, 8, 0x01, 0xE0, 0x02, 0x80, 3]);
        j.extend_from_slice(&[0; 9]);
        assert_eq!(read("image/jpeg", &j).dimensions, Some((640, 480)));
    }
}
