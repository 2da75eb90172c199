//! Videos, natively: their length and picture size from the container (MP4 and QuickTime,
//! which is what phones and cameras record), and a poster frame by `ffmpeg` where it is
//! installed (`VAULT_FFMPEG` names another), as Immich and Jellyfin make theirs. A browser's
//! player tells the web app the same of any video it plays (`client/web`).
//!
//! The container is read box by box (ISO/IEC 14496-12): the top-level boxes are skipped by
//! their sizes until `moov`, which is read (at most [`MAX_MOOV`] bytes) for its `mvhd` (the
//! length) and the `tkhd` of its first video track (the size, turned by the track's matrix).
//! A file that is not such a container, or a damaged one, yields nothing, never an error.

use std::io::{Read, Seek, SeekFrom};

use super::Thumbnail;

/// The largest `moov` box read (an hour of 60 fps video has one of a few MiB).
const MAX_MOOV: u64 = 64 << 20;

/// The containers ffmpeg may read a poster from: what cameras and phones record.
#[cfg(not(target_arch = "wasm32"))]
const VIDEO_FORMATS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg,asf";

/// How long ffmpeg may take for a poster.
#[cfg(not(target_arch = "wasm32"))]
const POSTER_TIME: std::time::Duration = std::time::Duration::from_secs(60);

/// What is known of a video when it is uploaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VideoFacts {
    /// A frame a second in (or halfway through a shorter video), as a thumbnail.
    pub poster: Option<Thumbnail>,
    /// Why there is no poster, for the person uploading.
    pub no_poster: Option<String>,
    /// Its length, milliseconds.
    pub duration_ms: Option<u64>,
    /// Its picture's width as played (turned by its rotation), pixels.
    pub width: Option<u32>,
    /// Its picture's height as played, pixels.
    pub height: Option<u32>,
}

/// The video at `path`: its length and size from its container, and its poster from `ffmpeg`
/// (or the program `VAULT_FFMPEG` names).
#[cfg(not(target_arch = "wasm32"))]
pub fn facts(path: &std::path::Path) -> VideoFacts {
    let ffmpeg = std::env::var_os("VAULT_FFMPEG").unwrap_or_else(|| "ffmpeg".into());
    facts_with(path, &ffmpeg)
}

/// [`facts`], with the poster made by the program `ffmpeg`.
#[cfg(not(target_arch = "wasm32"))]
pub fn facts_with(path: &std::path::Path, ffmpeg: &std::ffi::OsStr) -> VideoFacts {
    let mut facts = std::fs::File::open(path)
        .ok()
        .and_then(|mut file| container(&mut file))
        .unwrap_or_default();
    match poster(path, ffmpeg, facts.duration_ms) {
        Ok(poster) => facts.poster = Some(poster),
        Err(why) => facts.no_poster = Some(why),
    }
    facts
}

/// The poster frame of the video at `path` (whose length is `duration_ms`, if known).
#[cfg(not(target_arch = "wasm32"))]
fn poster(
    path: &std::path::Path,
    ffmpeg: &std::ffi::OsStr,
    duration_ms: Option<u64>,
) -> Result<Thumbnail, String> {
    use std::io::Read as _;
    use std::process::Stdio;
    let at = duration_ms.map_or(0, |d| (d / 2).min(1000));
    // The file as a local file and nothing else: ffmpeg guesses formats from content, and a
    // playlist or concat list posing as a video could have it read other files or URLs.
    let absolute = std::path::absolute(path).map_err(|e| format!("no poster: {e}"))?;
    let mut input = std::ffi::OsString::from("file:");
    input.push(absolute.as_os_str());
    let mut child = std::process::Command::new(ffmpeg)
        .args(["-nostdin", "-v", "error", "-protocol_whitelist", "file"])
        .args(["-format_whitelist", VIDEO_FORMATS, "-ss"])
        .arg(format!("{}.{:03}", at / 1000, at % 1000))
        .arg("-i")
        .arg(input)
        // One frame, turned upright by the video's rotation (ffmpeg's default), as a JPEG.
        .args(["-frames:v", "1", "-an", "-f", "image2pipe", "-c:v", "mjpeg"])
        .args(["-q:v", "2", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "no poster: install ffmpeg to have one made for each video".to_string()
            }
            _ => format!("no poster: ffmpeg did not run ({e})"),
        })?;
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    // A frame takes well under a second; a file that keeps ffmpeg longer gets no poster.
    let deadline = std::time::Instant::now() + POSTER_TIME;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = std::process::Output {
        status: status.ok_or_else(|| "no poster: ffmpeg took too long".to_string())?,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if !output.status.success() || output.stdout.is_empty() {
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "no poster: ffmpeg could not read a frame ({})",
            said.lines().next().unwrap_or("it said nothing").trim()
        ));
    }
    let frame = super::PhotoInfo {
        mime: "image/jpeg".into(),
        ..super::PhotoInfo::default()
    };
    super::thumbnail_of_bytes(&output.stdout, &frame)
        .map_err(|e| format!("no poster: {e}"))?
        .ok_or_else(|| "no poster: ffmpeg's frame is not a JPEG".to_string())
}

/// The length and picture size an MP4 or QuickTime container records; `None` for anything else.
pub fn container(file: &mut (impl Read + Seek)) -> Option<VideoFacts> {
    let len = file.seek(SeekFrom::End(0)).ok()?;
    let mut at = 0u64;
    while at < len {
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut head = [0u8; 16];
        file.read_exact(&mut head[..8]).ok()?;
        let size = u64::from(u32::from_be_bytes(head[..4].try_into().ok()?));
        let (size, header) = match size {
            0 => (len - at, 8),
            1 => {
                file.read_exact(&mut head[8..]).ok()?;
                (u64::from_be_bytes(head[8..].try_into().ok()?), 16)
            }
            _ => (size, 8),
        };
        if size < header || at.checked_add(size)? > len {
            return None;
        }
        if &head[4..8] == b"moov" {
            let body = size - header;
            if body > MAX_MOOV {
                return None;
            }
            let mut moov = vec![0; usize::try_from(body).ok()?];
            file.read_exact(&mut moov).ok()?;
            return Some(from_moov(&moov));
        }
        at += size;
    }
    None
}

/// The boxes directly inside `bytes`: `(type, body)`, stopping at the first malformed one.
fn boxes(bytes: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        let kind = rest.get(4..8)?;
        let (start, end) = match size {
            0 => (8, rest.len()),
            1 => {
                let large = u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?);
                (16, usize::try_from(large).ok()?)
            }
            n => (8, n as usize),
        };
        let body = rest.get(start..end)?;
        let item = (kind, body);
        rest = &rest[end..];
        Some(item)
    })
}

fn child<'a>(bytes: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    boxes(bytes).find(|(k, _)| *k == kind).map(|(_, b)| b)
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn from_moov(moov: &[u8]) -> VideoFacts {
    let mut facts = VideoFacts {
        duration_ms: child(moov, b"mvhd").and_then(duration),
        ..VideoFacts::default()
    };
    let video = boxes(moov)
        .filter(|(k, _)| *k == b"trak")
        .find(|(_, trak)| {
            child(trak, b"mdia")
                .and_then(|mdia| child(mdia, b"hdlr"))
                .and_then(|hdlr| hdlr.get(8..12))
                == Some(b"vide")
        });
    if let Some((width, height)) = video
        .and_then(|(_, trak)| child(trak, b"tkhd"))
        .and_then(picture)
    {
        facts.width = Some(width);
        facts.height = Some(height);
    }
    facts
}

/// An `mvhd`'s length in milliseconds (none when it says it is unknown).
fn duration(mvhd: &[u8]) -> Option<u64> {
    let (timescale, duration) = match mvhd.first()? {
        0 => (be_u32(mvhd, 12)?, u64::from(be_u32(mvhd, 16)?)),
        1 => (be_u32(mvhd, 20)?, be_u64(mvhd, 24)?),
        _ => return None,
    };
    if timescale == 0 || duration == u64::from(u32::MAX) || duration == u64::MAX {
        return None;
    }
    u64::try_from(u128::from(duration) * 1000 / u128::from(timescale)).ok()
}

/// A `tkhd`'s picture size, turned a quarter when its matrix turns it.
fn picture(tkhd: &[u8]) -> Option<(u32, u32)> {
    // The matrix and the size follow the times, whose width the version decides.
    let matrix = match tkhd.first()? {
        0 => 4 + 20 + 16,
        1 => 4 + 32 + 16,
        _ => return None,
    };
    let (a, b) = (
        be_u32(tkhd, matrix)? as i32,
        be_u32(tkhd, matrix + 4)? as i32,
    );
    let width = be_u32(tkhd, matrix + 36)? >> 16;
    let height = be_u32(tkhd, matrix + 40)? >> 16;
    if width == 0 || height == 0 {
        return None;
    }
    // A quarter turn's matrix has a = 0 and b = ±1 (16.16 fixed point).
    Some(if a == 0 && b.unsigned_abs() == 1 << 16 {
        (height, width)
    } else {
        (width, height)
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
        let mut body = vec![0u8; 100];
        body[12..16].copy_from_slice(&timescale.to_be_bytes());
        body[16..20].copy_from_slice(&duration.to_be_bytes());
        boxed(b"mvhd", &body)
    }

    fn track(handler: &[u8; 4], width: u32, height: u32, turned: bool) -> Vec<u8> {
        let mut tkhd = vec![0u8; 84];
        let matrix: [i32; 9] = if turned {
            [0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30]
        } else {
            [1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30]
        };
        for (i, m) in matrix.iter().enumerate() {
            tkhd[40 + 4 * i..44 + 4 * i].copy_from_slice(&m.to_be_bytes());
        }
        tkhd[76..80].copy_from_slice(&(width << 16).to_be_bytes());
        tkhd[80..84].copy_from_slice(&(height << 16).to_be_bytes());
        let mut hdlr = vec![0u8; 24];
        hdlr[8..12].copy_from_slice(handler);
        let mdia = boxed(b"mdia", &boxed(b"hdlr", &hdlr));
        boxed(b"trak", &[boxed(b"tkhd", &tkhd), mdia].concat())
    }

    fn file(moov_parts: &[Vec<u8>], moov_last: bool) -> Vec<u8> {
        let ftyp = boxed(b"ftyp", b"isom\0\0\0\0isom");
        let mdat = boxed(b"mdat", &[7u8; 5000]);
        let moov = boxed(b"moov", &moov_parts.concat());
        if moov_last {
            [ftyp, mdat, moov].concat()
        } else {
            [ftyp, moov, mdat].concat()
        }
    }

    #[test]
    fn length_and_size_come_from_the_first_video_track_wherever_moov_is() {
        for moov_last in [false, true] {
            let bytes = file(
                &[
                    mvhd(600, 7_470),
                    track(b"soun", 0, 0, false),
                    track(b"vide", 1920, 1080, false),
                ],
                moov_last,
            );
            let facts = container(&mut Cursor::new(bytes)).expect("a container");
            assert_eq!(facts.duration_ms, Some(12_450));
            assert_eq!((facts.width, facts.height), (Some(1920), Some(1080)));
        }
    }

    #[test]
    fn a_portrait_phone_video_is_turned() {
        let bytes = file(
            &[mvhd(1000, 3_000), track(b"vide", 1920, 1080, true)],
            false,
        );
        let facts = container(&mut Cursor::new(bytes)).unwrap();
        assert_eq!((facts.width, facts.height), (Some(1080), Some(1920)));
    }

    #[test]
    fn what_is_not_a_container_yields_nothing_and_never_panics() {
        assert!(container(&mut Cursor::new(b"not a video at all".to_vec())).is_none());
        assert!(container(&mut Cursor::new(Vec::new())).is_none());
        // A box claiming more than the file holds, one of size 4 (< its header), an unknown
        // length, and every truncation of a real structure.
        assert!(container(&mut Cursor::new(boxed(b"ftyp", b"x")[..6].to_vec())).is_none());
        assert!(
            container(&mut Cursor::new(
                [0, 0, 0, 4, b'f', b't', b'y', b'p'].to_vec()
            ))
            .is_none()
        );
        assert!(container(&mut Cursor::new([0xff; 8].to_vec())).is_none());
        let whole = file(&[mvhd(1000, 3_000), track(b"vide", 640, 480, false)], false);
        for cut in 0..whole.len() {
            let _ = container(&mut Cursor::new(whole[..cut].to_vec()));
        }
        // An unknown length, and a timescale of zero.
        assert_eq!(
            from_moov(&[mvhd(1000, u32::MAX), mvhd(0, 5)].concat()).duration_ms,
            None
        );
        assert_eq!(from_moov(&mvhd(0, 5)).duration_ms, None);
    }
}
