//! The encrypted metadata record of a file: a CBOR map (RFC 8949) with small integer keys,
//! encrypted as the file's metadata stream.
//!
//! ```text
//! key  field              CBOR type            required
//!  0   version            uint (= 1)           yes
//!  1   name               text                 yes
//!  2   mime               text                 yes
//!  3   size               uint (bytes)         yes
//!  4   content_sha256     bytes (32)           yes
//!  5   taken_at           int (ms since epoch) no
//!  6   taken_offset_min   int (-1440..=1440)   no
//!  7   modified_at        int (ms since epoch) no
//!  8   width              uint                 no
//!  9   height             uint                 no
//! 10   orientation        uint (1..=8, EXIF)   no
//! 11   gps                [float64 lat, float64 lon] or [lat, lon, float64 alt]   no
//! 12   camera_make        text                 no
//! 13   camera_model       text                 no
//! 14   duration_ms        uint                 no
//! 15   name_bytes         bytes                no
//! ```
//!
//! Encoding is deterministic: a definite-length map, keys in ascending order, absent fields
//! left out (never null), integers in their shortest form, floats always 8 bytes. Decoders skip
//! keys they do not know (fields are added without a version change), accept any float width,
//! and refuse a version other than 1, duplicate keys, indefinite lengths and values out of range
//! (docs/FORMAT.md §10).

use minicbor::{Decoder, Encoder};
use rand_core::CryptoRng;

use crate::error::MetadataError;
use crate::keys::FileKey;
use crate::primitives::stream::{StreamKind, open_blob, seal_blob};

/// The metadata record version this build writes and reads.
pub const METADATA_VERSION: u64 = 1;

/// Where a photo was taken (WGS 84 degrees; altitude in metres above sea level).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpsPosition {
    /// Latitude, degrees north (-90..=90).
    pub latitude: f64,
    /// Longitude, degrees east (-180..=180).
    pub longitude: f64,
    /// Altitude in metres, if known.
    pub altitude: Option<f64>,
}

/// Everything about a file that only its owner (and those it is shared with) may read.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FileMetadata {
    /// The file's name, as it had on the device.
    pub name: String,
    /// Its media type (`image/jpeg`).
    pub mime: String,
    /// Size of the original in bytes.
    pub size: u64,
    /// SHA-256 of the original's bytes (to verify exports).
    pub content_sha256: [u8; 32],
    /// When it was taken, milliseconds since the Unix epoch (UTC when the offset is known,
    /// otherwise the camera's wall clock read as UTC).
    pub taken_at: Option<i64>,
    /// The camera's offset from UTC in minutes, when the file records it.
    pub taken_offset_min: Option<i16>,
    /// The file's modification time, milliseconds since the Unix epoch.
    pub modified_at: Option<i64>,
    /// Width in pixels as stored (before orientation is applied).
    pub width: Option<u32>,
    /// Height in pixels as stored.
    pub height: Option<u32>,
    /// EXIF orientation, 1..=8.
    pub orientation: Option<u8>,
    /// Where it was taken.
    pub gps: Option<GpsPosition>,
    /// Camera maker.
    pub camera_make: Option<String>,
    /// Camera model.
    pub camera_model: Option<String>,
    /// Duration of a video, in milliseconds.
    pub duration_ms: Option<u64>,
    /// The name's own bytes, where they are not UTF-8 (a Unix file name may hold any byte but
    /// `/` and NUL): `name` is then their lossy UTF-8 form (U+FFFD for what is not), to show;
    /// an export names the file by these bytes (only where their lossy form is `name`).
    pub name_bytes: Option<Vec<u8>>,
}

mod key {
    pub const VERSION: u64 = 0;
    pub const NAME: u64 = 1;
    pub const MIME: u64 = 2;
    pub const SIZE: u64 = 3;
    pub const CONTENT_SHA256: u64 = 4;
    pub const TAKEN_AT: u64 = 5;
    pub const TAKEN_OFFSET_MIN: u64 = 6;
    pub const MODIFIED_AT: u64 = 7;
    pub const WIDTH: u64 = 8;
    pub const HEIGHT: u64 = 9;
    pub const ORIENTATION: u64 = 10;
    pub const GPS: u64 = 11;
    pub const CAMERA_MAKE: u64 = 12;
    pub const CAMERA_MODEL: u64 = 13;
    pub const DURATION_MS: u64 = 14;
    pub const NAME_BYTES: u64 = 15;
}

type EncodeResult = Result<(), minicbor::encode::Error<core::convert::Infallible>>;

impl FileMetadata {
    /// The record's deterministic CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        self.encode(&mut e)
            .expect("encoding into a Vec cannot fail");
        e.into_writer()
    }

    fn encode(&self, e: &mut Encoder<Vec<u8>>) -> EncodeResult {
        let optional = [
            self.taken_at.is_some(),
            self.taken_offset_min.is_some(),
            self.modified_at.is_some(),
            self.width.is_some(),
            self.height.is_some(),
            self.orientation.is_some(),
            self.gps.is_some(),
            self.camera_make.is_some(),
            self.camera_model.is_some(),
            self.duration_ms.is_some(),
            self.name_bytes.is_some(),
        ];
        e.map(5 + optional.iter().filter(|&&present| present).count() as u64)?;
        e.u64(key::VERSION)?.u64(METADATA_VERSION)?;
        e.u64(key::NAME)?.str(&self.name)?;
        e.u64(key::MIME)?.str(&self.mime)?;
        e.u64(key::SIZE)?.u64(self.size)?;
        e.u64(key::CONTENT_SHA256)?.bytes(&self.content_sha256)?;
        if let Some(v) = self.taken_at {
            e.u64(key::TAKEN_AT)?.i64(v)?;
        }
        if let Some(v) = self.taken_offset_min {
            e.u64(key::TAKEN_OFFSET_MIN)?.i64(v.into())?;
        }
        if let Some(v) = self.modified_at {
            e.u64(key::MODIFIED_AT)?.i64(v)?;
        }
        if let Some(v) = self.width {
            e.u64(key::WIDTH)?.u64(v.into())?;
        }
        if let Some(v) = self.height {
            e.u64(key::HEIGHT)?.u64(v.into())?;
        }
        if let Some(v) = self.orientation {
            e.u64(key::ORIENTATION)?.u64(v.into())?;
        }
        if let Some(gps) = &self.gps {
            e.u64(key::GPS)?
                .array(if gps.altitude.is_some() { 3 } else { 2 })?;
            e.f64(gps.latitude)?.f64(gps.longitude)?;
            if let Some(alt) = gps.altitude {
                e.f64(alt)?;
            }
        }
        if let Some(v) = &self.camera_make {
            e.u64(key::CAMERA_MAKE)?.str(v)?;
        }
        if let Some(v) = &self.camera_model {
            e.u64(key::CAMERA_MODEL)?.str(v)?;
        }
        if let Some(v) = self.duration_ms {
            e.u64(key::DURATION_MS)?.u64(v)?;
        }
        if let Some(v) = &self.name_bytes {
            e.u64(key::NAME_BYTES)?.bytes(v)?;
        }
        Ok(())
    }

    /// Reads a record from CBOR.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, MetadataError> {
        let mut d = Decoder::new(bytes);
        let (record, version) = decode(&mut d).map_err(|e| match e {
            DecodeFailure::Cbor(e) => MetadataError::Malformed(e.to_string()),
            DecodeFailure::Invalid(why) => MetadataError::Malformed(why.to_string()),
        })?;
        if d.position() != bytes.len() {
            return Err(MetadataError::Malformed("bytes after the record".into()));
        }
        // FORMAT.md §10: the version is judged only once the record broke no rule of form.
        if version != METADATA_VERSION {
            return Err(MetadataError::UnsupportedVersion(version));
        }
        Ok(record)
    }

    /// Encrypts the record as `file_key`'s metadata stream (a blob: header and chunks).
    pub fn seal(&self, file_key: &FileKey, rng: &mut impl CryptoRng) -> Vec<u8> {
        seal_blob(file_key, StreamKind::Metadata, &self.to_cbor(), rng)
    }

    /// Decrypts and reads a record sealed by [`Self::seal`].
    pub fn open(file_key: &FileKey, blob: &[u8]) -> Result<Self, MetadataError> {
        let plaintext = zeroize::Zeroizing::new(open_blob(file_key, StreamKind::Metadata, blob)?);
        Self::from_cbor(&plaintext)
    }
}

enum DecodeFailure {
    Cbor(minicbor::decode::Error),
    Invalid(&'static str),
}

impl From<minicbor::decode::Error> for DecodeFailure {
    fn from(e: minicbor::decode::Error) -> Self {
        DecodeFailure::Cbor(e)
    }
}

/// Skips the one CBOR item at `pos`, of any type and nesting depth, and returns where it
/// ends. It accepts exactly what RFC 8949 calls well-formed (§3, appendix C) and nothing more
/// (FORMAT.md §10): a break outside an indefinite-length container, reserved additional
/// information (28..=30), an indefinite length on an integer, tag or simple value, a one-byte
/// simple value below 32, a string chunk of another type or of indefinite length, and an
/// indefinite-length map that ends between a key and its value are all refused. Validity is not
/// judged (text need not be UTF-8). Iterative, so depth costs memory, never stack.
fn skip_well_formed(b: &[u8], mut pos: usize) -> Result<usize, DecodeFailure> {
    /// One open container: the items it still holds (`None`: until a break) and, for an
    /// indefinite-length map, whether it has read a key without its value.
    struct Open {
        due: Option<u64>,
        map_half: bool,
        indefinite_map: bool,
    }
    const TRUNCATED: DecodeFailure = DecodeFailure::Invalid("truncated CBOR");
    let mut open: Vec<Open> = Vec::new();
    loop {
        if let Some(top) = open.last()
            && top.due.is_none()
            && b.get(pos) == Some(&0xff)
        {
            if top.map_half {
                return Err(DecodeFailure::Invalid(
                    "an indefinite-length map ends between a key and its value",
                ));
            }
            pos += 1;
            open.pop();
        } else {
            let (major, argument, next) = cbor_head(b, pos)?;
            pos = next;
            match (major, argument) {
                (2 | 3, Some(len)) => pos = skip_bytes(b, pos, len)?,
                (2 | 3, None) => loop {
                    if b.get(pos) == Some(&0xff) {
                        pos += 1;
                        break;
                    }
                    match cbor_head(b, pos)? {
                        (chunk_major, Some(len), next) if chunk_major == major => {
                            pos = skip_bytes(b, next, len)?
                        }
                        _ => {
                            return Err(DecodeFailure::Invalid(
                                "a bad chunk in an indefinite-length string",
                            ));
                        }
                    }
                },
                (4, Some(0)) | (5, Some(0)) => {}
                (4 | 5, count) => {
                    let due = match count {
                        Some(n) if major == 5 => Some(n.checked_mul(2).ok_or(TRUNCATED)?),
                        n => n,
                    };
                    open.push(Open {
                        due,
                        map_half: false,
                        indefinite_map: major == 5 && count.is_none(),
                    });
                    continue;
                }
                (6, _) => {
                    open.push(Open {
                        due: Some(1),
                        map_half: false,
                        indefinite_map: false,
                    });
                    continue;
                }
                _ => {}
            }
        }
        // An item ended: count it in the containers it completes.
        loop {
            let Some(top) = open.last_mut() else {
                return Ok(pos);
            };
            match &mut top.due {
                Some(n) => {
                    *n -= 1;
                    if *n > 0 {
                        break;
                    }
                    open.pop();
                }
                None => {
                    if top.indefinite_map {
                        top.map_half = !top.map_half;
                    }
                    break;
                }
            }
        }
    }
}

/// The head at `pos`: (major type, argument or `None` for an indefinite length, next position).
/// Refuses what is never well-formed in a head, and a break (handled by the caller).
fn cbor_head(b: &[u8], pos: usize) -> Result<(u8, Option<u64>, usize), DecodeFailure> {
    const TRUNCATED: DecodeFailure = DecodeFailure::Invalid("truncated CBOR");
    let initial = *b.get(pos).ok_or(TRUNCATED)?;
    let (major, info) = (initial >> 5, initial & 0x1f);
    let pos = pos + 1;
    match info {
        0..=23 => Ok((major, Some(info.into()), pos)),
        24..=27 => {
            let size = 1usize << (info - 24);
            let bytes = b.get(pos..pos + size).ok_or(TRUNCATED)?;
            let value = bytes.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x));
            if major == 7 && info == 24 && value < 32 {
                return Err(DecodeFailure::Invalid(
                    "a simple value below 32 in two bytes",
                ));
            }
            Ok((major, Some(value), pos + size))
        }
        31 if (2..=5).contains(&major) => Ok((major, None, pos)),
        31 if major == 7 => Err(DecodeFailure::Invalid("unexpected break")),
        _ => Err(DecodeFailure::Invalid(
            "reserved or indefinite additional information",
        )),
    }
}

/// Skips `len` bytes of string content at `pos`.
fn skip_bytes(b: &[u8], pos: usize, len: u64) -> Result<usize, DecodeFailure> {
    usize::try_from(len)
        .ok()
        .and_then(|len| pos.checked_add(len))
        .filter(|&end| end <= b.len())
        .ok_or(DecodeFailure::Invalid("truncated CBOR"))
}

/// The record and its version, which the caller judges last.
fn decode(d: &mut Decoder<'_>) -> Result<(FileMetadata, u64), DecodeFailure> {
    let entries = d
        .map()?
        .ok_or(DecodeFailure::Invalid("indefinite-length map"))?;
    let mut m = FileMetadata::default();
    let (mut version, mut name, mut mime, mut size, mut hash) = (None, None, None, None, None);
    let mut seen = Vec::new();
    for _ in 0..entries {
        let k = d.u64()?;
        if seen.contains(&k) {
            return Err(DecodeFailure::Invalid("duplicate key"));
        }
        seen.push(k);
        match k {
            key::VERSION => version = Some(d.u64()?),
            key::NAME => name = Some(d.str()?.to_owned()),
            key::MIME => mime = Some(d.str()?.to_owned()),
            key::SIZE => size = Some(d.u64()?),
            key::CONTENT_SHA256 => {
                hash = Some(
                    <[u8; 32]>::try_from(d.bytes()?)
                        .map_err(|_| DecodeFailure::Invalid("content hash is not 32 bytes"))?,
                )
            }
            key::TAKEN_AT => m.taken_at = Some(d.i64()?),
            key::TAKEN_OFFSET_MIN => {
                let v = d.i64()?;
                if !(-1440..=1440).contains(&v) {
                    return Err(DecodeFailure::Invalid("UTC offset out of range"));
                }
                m.taken_offset_min = Some(v as i16);
            }
            key::MODIFIED_AT => m.modified_at = Some(d.i64()?),
            key::WIDTH => m.width = Some(d.u32()?),
            key::HEIGHT => m.height = Some(d.u32()?),
            key::ORIENTATION => {
                let v = d.u8()?;
                if !(1..=8).contains(&v) {
                    return Err(DecodeFailure::Invalid("orientation is not 1..=8"));
                }
                m.orientation = Some(v);
            }
            key::GPS => {
                let len = d.array()?;
                if !matches!(len, Some(2 | 3)) {
                    return Err(DecodeFailure::Invalid(
                        "gps is not an array of 2 or 3 floats",
                    ));
                }
                let latitude = d.f64()?;
                let longitude = d.f64()?;
                let altitude = if len == Some(3) { Some(d.f64()?) } else { None };
                let finite_altitude = altitude.is_none_or(f64::is_finite);
                if !(-90.0..=90.0).contains(&latitude)
                    || !(-180.0..=180.0).contains(&longitude)
                    || !finite_altitude
                {
                    return Err(DecodeFailure::Invalid("gps position out of range"));
                }
                m.gps = Some(GpsPosition {
                    latitude,
                    longitude,
                    altitude,
                });
            }
            key::CAMERA_MAKE => m.camera_make = Some(d.str()?.to_owned()),
            key::CAMERA_MODEL => m.camera_model = Some(d.str()?.to_owned()),
            key::DURATION_MS => m.duration_ms = Some(d.u64()?),
            key::NAME_BYTES => m.name_bytes = Some(d.bytes()?.to_vec()),
            _ => {
                let end = skip_well_formed(d.input(), d.position())?;
                d.set_position(end);
            }
        }
    }
    let version = version.ok_or(DecodeFailure::Invalid("missing version"))?;
    m.name = name.ok_or(DecodeFailure::Invalid("missing name"))?;
    m.mime = mime.ok_or(DecodeFailure::Invalid("missing mime"))?;
    m.size = size.ok_or(DecodeFailure::Invalid("missing size"))?;
    m.content_sha256 = hash.ok_or(DecodeFailure::Invalid("missing content hash"))?;
    Ok((m, version))
}
