//! EXIF: finding the block in a file's first bytes, and reading the fields a vault keeps.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use exif::{Exif, Field, In, Tag, Value};

use super::PhotoInfo;

/// Parses the EXIF block of a file of type `mime` starting with `head`; `jpeg_exif` is the
/// block a JPEG's APP1 segment holds. Malformed EXIF yields what could be parsed, or `None`.
pub(crate) fn find_exif(mime: &str, head: &[u8], jpeg_exif: Option<&[u8]>) -> Option<Exif> {
    let tiff_magic = head.starts_with(b"II*\0") || head.starts_with(b"MM\0*");
    let parse = || {
        let mut reader = exif::Reader::new();
        reader.continue_on_error(true);
        let result = if let Some(raw) = jpeg_exif {
            reader.read_raw(unsigned_pointers(raw.to_vec()))
        } else if tiff_magic {
            // TIFF and the camera raw formats built on it: the file is the EXIF structure.
            reader.read_raw(unsigned_pointers(head.to_vec()))
        } else if matches!(mime, "image/png" | "image/webp") {
            reader.read_from_container(&mut Cursor::new(head))
        } else {
            return None;
        };
        result.or_else(|e| e.distill_partial_result(|_| {})).ok()
    };
    // kamadak-exif is careful, but a panic on a hostile file must not take the caller down.
    catch_unwind(AssertUnwindSafe(parse)).ok().flatten()
}

/// The pointers to the Exif, GPS and interoperability IFDs, which some writers store as SLONG
/// rather than LONG (exiv2's FurnaceCreekInn.jpg; exiftool follows them), rewritten as LONG in
/// `tiff` so that kamadak-exif follows them too (it drops the GPS IFD otherwise). Anything
/// malformed is left as it is: the parser decides what to make of it.
fn unsigned_pointers(mut tiff: Vec<u8>) -> Vec<u8> {
    const POINTERS: [u16; 3] = [0x8769, 0x8825, 0xA005];
    const LONG: u16 = 4;
    const SLONG: u16 = 9;
    let big = match tiff.get(..4) {
        Some(b"MM\0*") => true,
        Some(b"II*\0") => false,
        _ => return tiff,
    };
    let u16_at = |b: &[u8], at: usize| -> Option<u16> {
        let bytes = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    };
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        let bytes = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    };
    // IFD0 and the IFDs its pointers lead to (Exif holds the interoperability pointer); each
    // visited once, a handful at most.
    let mut todo: Vec<u32> = u32_at(&tiff, 4).into_iter().collect();
    let mut seen = Vec::new();
    while let Some(ifd) = todo.pop() {
        if seen.contains(&ifd) || seen.len() >= 4 {
            continue;
        }
        seen.push(ifd);
        let Some(count) = u16_at(&tiff, ifd as usize) else {
            continue;
        };
        for i in 0..usize::from(count) {
            let entry = ifd as usize + 2 + 12 * i;
            let (Some(tag), Some(kind), Some(count), Some(value)) = (
                u16_at(&tiff, entry),
                u16_at(&tiff, entry + 2),
                u32_at(&tiff, entry + 4),
                u32_at(&tiff, entry + 8),
            ) else {
                // The IFD runs past the end.
                break;
            };
            if !POINTERS.contains(&tag) || count != 1 || !(kind == LONG || kind == SLONG) {
                continue;
            }
            // A negative offset points nowhere: left for the parser to refuse.
            if kind == SLONG && (value as i32) >= 0 {
                let long = if big {
                    LONG.to_be_bytes()
                } else {
                    LONG.to_le_bytes()
                };
                tiff[entry + 2..entry + 4].copy_from_slice(&long);
            }
            todo.push(value);
        }
    }
    tiff
}

/// Copies the fields a vault keeps from `exif` into `info` (dimensions only as a fallback,
/// the caller overwrites them with the header's).
pub(crate) fn fill(exif: &Exif, info: &mut PhotoInfo) {
    if let Some((at, offset)) = taken_at(exif) {
        info.taken_at = Some(at);
        info.taken_offset_min = offset;
    }
    info.orientation = uint(exif, Tag::Orientation)
        .filter(|o| (1..=8).contains(o))
        .and_then(|o| u8::try_from(o).ok());
    info.gps = gps(exif);
    info.camera_make = text(exif, Tag::Make);
    info.camera_model = text(exif, Tag::Model);
    let tiff = matches!(info.mime.as_str(), "image/tiff") || info.mime.starts_with("image/x-");
    let (wt, ht) = if tiff {
        (Tag::ImageWidth, Tag::ImageLength)
    } else {
        (Tag::PixelXDimension, Tag::PixelYDimension)
    };
    if let (Some(w), Some(h)) = (uint(exif, wt), uint(exif, ht))
        && w > 0
        && h > 0
    {
        info.width = Some(w);
        info.height = Some(h);
    }
}

fn field(exif: &Exif, tag: Tag) -> Option<&Field> {
    exif.get_field(tag, In::PRIMARY)
}

fn uint(exif: &Exif, tag: Tag) -> Option<u32> {
    field(exif, tag)?.value.get_uint(0)
}

/// The first string of an ASCII field, without trailing NULs and surrounding blanks.
fn ascii(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match &field(exif, tag)?.value {
        Value::Ascii(v) => v.first().map(Vec::as_slice),
        // Some writers use UNDEFINED for text.
        Value::Undefined(v, _) | Value::Byte(v) => Some(v.as_slice()),
        _ => None,
    }
}

fn text(exif: &Exif, tag: Tag) -> Option<String> {
    let raw = ascii(exif, tag)?;
    let s = String::from_utf8_lossy(raw);
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!s.is_empty()).then(|| s.to_owned())
}

/// Milliseconds since the epoch, and the offset in minutes if recorded.
fn taken_at(exif: &Exif) -> Option<(i64, Option<i16>)> {
    const TAGS: [(Tag, Tag, Tag); 3] = [
        (
            Tag::DateTimeOriginal,
            Tag::SubSecTimeOriginal,
            Tag::OffsetTimeOriginal,
        ),
        (
            Tag::DateTimeDigitized,
            Tag::SubSecTimeDigitized,
            Tag::OffsetTimeDigitized,
        ),
        (Tag::DateTime, Tag::SubSecTime, Tag::OffsetTime),
    ];
    TAGS.iter().find_map(|&(date, subsec, offset)| {
        let mut dt = exif::DateTime::from_ascii(ascii(exif, date)?).ok()?;
        if let Some(s) = ascii(exif, subsec) {
            // A malformed sub-second field leaves whole seconds.
            let s = trim(s);
            if dt.parse_subsec(s).is_err() {
                dt.nanosecond = None;
            }
        }
        if let Some(o) = ascii(exif, offset)
            && (dt.parse_offset(trim(o)).is_err()
                || dt
                    .offset
                    .is_some_and(|m| !(-18 * 60..=18 * 60).contains(&m)))
        {
            dt.offset = None;
        }
        let date = chrono::NaiveDate::from_ymd_opt(
            i32::from(dt.year),
            u32::from(dt.month),
            u32::from(dt.day),
        )?;
        let time = chrono::NaiveTime::from_hms_nano_opt(
            u32::from(dt.hour),
            u32::from(dt.minute),
            u32::from(dt.second),
            dt.nanosecond.unwrap_or(0),
        )?;
        let wall = date.and_time(time).and_utc().timestamp_millis();
        let utc = wall - i64::from(dt.offset.unwrap_or(0)) * 60_000;
        Some((utc, dt.offset))
    })
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !c.is_ascii_whitespace() && *c != 0)
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Numeric value `i` of a field, as f64 (NaN if absent or not a number).
fn number(value: &Value, i: usize) -> f64 {
    match value {
        Value::Rational(v) => {
            v.get(i).map_or(
                f64::NAN,
                |r| {
                    if r.denom == 0 { f64::NAN } else { r.to_f64() }
                },
            )
        }
        Value::SRational(v) => {
            v.get(i).map_or(
                f64::NAN,
                |r| {
                    if r.denom == 0 { f64::NAN } else { r.to_f64() }
                },
            )
        }
        Value::Double(v) => v.get(i).copied().unwrap_or(f64::NAN),
        Value::Float(v) => v.get(i).map_or(f64::NAN, |&f| f64::from(f)),
        _ => value.get_uint(i).map_or(f64::NAN, f64::from),
    }
}

/// Degrees from a GPS coordinate (degrees, minutes, seconds) and its N/S or E/W reference.
fn coordinate(exif: &Exif, tag: Tag, ref_tag: Tag, negative: u8) -> Option<f64> {
    let value = &field(exif, tag)?.value;
    let deg = number(value, 0);
    // Minutes and seconds may be missing (degrees given as a decimal).
    let part = |i| {
        let n = number(value, i);
        if n.is_nan() && value_len(value) <= i {
            0.0
        } else {
            n
        }
    };
    let v = deg + part(1) / 60.0 + part(2) / 3600.0;
    if !v.is_finite() {
        return None;
    }
    let sign = match ascii(exif, ref_tag).and_then(|r| trim(r).first().copied()) {
        Some(c) if c.to_ascii_uppercase() == negative => -1.0,
        _ => 1.0,
    };
    Some(sign * v)
}

fn value_len(value: &Value) -> usize {
    match value {
        Value::Rational(v) => v.len(),
        Value::SRational(v) => v.len(),
        Value::Double(v) => v.len(),
        Value::Float(v) => v.len(),
        Value::Short(v) => v.len(),
        Value::Long(v) => v.len(),
        _ => 0,
    }
}

fn gps(exif: &Exif) -> Option<vault_crypto::GpsPosition> {
    let latitude = coordinate(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let longitude = coordinate(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return None;
    }
    let altitude = field(exif, Tag::GPSAltitude)
        .map(|f| number(&f.value, 0))
        .filter(|a| a.is_finite())
        .map(|a| {
            // GPSAltitudeRef 1: below sea level.
            if uint(exif, Tag::GPSAltitudeRef) == Some(1) {
                -a
            } else {
                a
            }
        });
    Some(vault_crypto::GpsPosition {
        latitude,
        longitude,
        altitude,
    })
}
