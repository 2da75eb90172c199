//! Photo metadata and thumbnails on real camera files, checked against exiftool and against
//! reference thumbnails made with the `image` crate.
//!
//! The photos are installed by `shared/testdata/fetch-photos.sh` into `target/testdata/photos`
//! (run here if missing). exiftool (Debian `libimage-exiftool-perl`) is required: without it
//! the tests fail rather than skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use image::{DynamicImage, GenericImageView, RgbImage};
use serde_json::Value;
use vault_client::photo::{
    HEAD_BYTES, PhotoInfo, THUMBNAIL_SIZE, Thumbnail, thumbnail, thumbnail_of_bytes,
};
use vault_test_support::photos;

/// How much of a file the client reads for [`PhotoInfo::read`].
const HEAD: u64 = HEAD_BYTES as u64;

fn jpegs(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(photos().join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no JPEGs in {folder}/");
    files
}

fn all_jpegs() -> Vec<PathBuf> {
    let mut v = jpegs("exif");
    v.extend(jpegs("full"));
    v
}

fn head(path: &Path) -> Vec<u8> {
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .take(HEAD)
        .read_to_end(&mut buf)
        .unwrap();
    buf
}

fn info(path: &Path) -> PhotoInfo {
    PhotoInfo::read(path, &head(path))
}

/// exiftool's numeric view of the tags PhotoInfo reads, one JSON object a file.
fn exiftool(files: &[PathBuf]) -> Vec<Value> {
    exiftool_dates_from(files, "")
}

/// [`exiftool`], with the date tags taken from group `group` only (`"EXIF:"`: not the
/// QuickTime dates of a HEIF file's movie track).
fn exiftool_dates_from(files: &[PathBuf], group: &str) -> Vec<Value> {
    let dates = [
        "DateTimeOriginal",
        "SubSecTimeOriginal",
        "OffsetTimeOriginal",
        "CreateDate",
        "SubSecTimeDigitized",
        "OffsetTimeDigitized",
        "ModifyDate",
        "SubSecTime",
        "OffsetTime",
    ]
    .map(|tag| format!("-{group}{tag}"));
    let out = Command::new("exiftool")
        .args(["-j", "-n"])
        .args(dates)
        .args([
            "-Orientation",
            "-ImageWidth",
            "-ImageHeight",
            "-GPSLatitude",
            "-GPSLongitude",
            "-Make",
            "-Model",
        ])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "exiftool is needed by these tests and could not be run ({e}): \
                 install it with `apt-get install libimage-exiftool-perl`"
            )
        });
    assert!(
        out.status.success(),
        "exiftool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), files.len());
    v
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What exiftool's date tags say, as PhotoInfo should report it (ms, offset).
fn exiftool_taken_at(v: &Value) -> Option<(i64, Option<i16>)> {
    [
        (
            "DateTimeOriginal",
            "SubSecTimeOriginal",
            "OffsetTimeOriginal",
        ),
        ("CreateDate", "SubSecTimeDigitized", "OffsetTimeDigitized"),
        ("ModifyDate", "SubSecTime", "OffsetTime"),
    ]
    .iter()
    .find_map(|(date, subsec, offset)| {
        let date = text(v, date)?;
        let wall = chrono::NaiveDateTime::parse_from_str(date.trim(), "%Y:%m:%d %H:%M:%S").ok()?;
        let mut ms = wall.and_utc().timestamp_millis();
        if let Some(s) = text(v, subsec) {
            let digits: String = s.trim().chars().take(3).collect();
            let scale = 10i64.pow(3 - digits.len() as u32);
            ms += digits.parse::<i64>().unwrap() * scale;
        }
        let offset = text(v, offset).map(|o| {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let h: i16 = o[1..3].parse().unwrap();
            let m: i16 = o[4..6].parse().unwrap();
            sign * (h * 60 + m)
        });
        Some((ms - i64::from(offset.unwrap_or(0)) * 60_000, offset))
    })
}

/// Differences between PhotoInfo and exiftool for one file, as readable lines.
fn compare(path: &Path, ours: &PhotoInfo, et: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let name = path.file_name().unwrap().to_string_lossy();
    let mut check = |what: &str, ours: String, theirs: String| {
        if ours != theirs {
            diffs.push(format!("{name}: {what}: ours {ours}, exiftool {theirs}"));
        }
    };
    let theirs_date = exiftool_taken_at(et);
    check(
        "taken_at",
        format!("{:?}", ours.taken_at.map(|t| (t, ours.taken_offset_min))),
        format!("{theirs_date:?}"),
    );
    let orientation = et
        .get("Orientation")
        .and_then(Value::as_u64)
        .filter(|o| (1..=8).contains(o));
    check(
        "orientation",
        format!("{:?}", ours.orientation.map(u64::from)),
        format!("{orientation:?}"),
    );
    let dim = |k: &str| et.get(k).and_then(Value::as_u64).map(|n| n as u32);
    check(
        "size",
        format!("{:?}x{:?}", ours.width, ours.height),
        format!("{:?}x{:?}", dim("ImageWidth"), dim("ImageHeight")),
    );
    let lat = et.get("GPSLatitude").and_then(Value::as_f64);
    let lon = et.get("GPSLongitude").and_then(Value::as_f64);
    match (ours.gps, lat, lon) {
        (None, None, None) => {}
        (Some(g), Some(lat), Some(lon))
            if (g.latitude - lat).abs() < 1e-6 && (g.longitude - lon).abs() < 1e-6 => {}
        (g, lat, lon) => check("gps", format!("{g:?}"), format!("{lat:?}, {lon:?}")),
    }
    let trimmed = |k: &str| {
        text(et, k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    check(
        "make",
        format!("{:?}", ours.camera_make),
        format!("{:?}", trimmed("Make")),
    );
    check(
        "model",
        format!("{:?}", ours.camera_model),
        format!("{:?}", trimmed("Model")),
    );
    diffs
}

#[test]
fn metadata_matches_exiftool() {
    let files = all_jpegs();
    let et = exiftool(&files);
    let mut diffs = Vec::new();
    let mut with_date = 0;
    let mut with_gps = 0;
    for (path, et) in files.iter().zip(&et) {
        let ours = info(path);
        assert_eq!(ours.mime, "image/jpeg", "{}", path.display());
        with_date += usize::from(ours.taken_at.is_some());
        with_gps += usize::from(ours.gps.is_some());
        diffs.extend(compare(path, &ours, et));
    }
    assert!(
        diffs.is_empty(),
        "PhotoInfo differs from exiftool:\n{}",
        diffs.join("\n")
    );
    // The corpus has dated camera files and three iPhone photos with GPS.
    assert!(with_date >= 7, "only {with_date} dated files");
    assert!(with_gps >= 3, "only {with_gps} files with GPS");
}

#[test]
fn known_values() {
    let sony = info(&photos().join("exif/sony-alpha-6000.jpg"));
    assert_eq!(sony.camera_make.as_deref(), Some("SONY"));
    assert_eq!(sony.camera_model.as_deref(), Some("ILCE-6000"));
    assert_eq!((sony.width, sony.height), (Some(6000), Some(4000)));
    // 2014-04-18 20:33:53, no offset recorded: the wall clock read as UTC.
    assert_eq!(sony.taken_at, Some(1_397_853_233_000));
    assert_eq!(sony.taken_offset_min, None);

    let iphone = info(&photos().join("exif/test1.jpg"));
    let gps = iphone.gps.expect("test1.jpg has GPS");
    assert!((gps.latitude - 37.885).abs() < 1e-9, "{gps:?}");
    assert!((gps.longitude + 122.6225).abs() < 1e-9, "{gps:?}");
    assert_eq!(gps.altitude, Some(122.0));
    // The header (a 180 px copy), not EXIF's PixelXDimension (3264).
    assert_eq!((iphone.width, iphone.height), (Some(180), Some(135)));

    assert_eq!(info(&photos().join("exif/right.jpg")).orientation, Some(8));
    assert_eq!(
        info(&photos().join("exif/down-mirrored.jpg")).orientation,
        Some(4)
    );
}

/// Tags the corpus lacks (offset, sub-seconds, southern and eastern GPS, orientation 6),
/// written with exiftool into a copy of a camera file.
#[test]
fn offset_subseconds_and_hemispheres() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edited.jpg");
    std::fs::copy(photos().join("exif/short-ascii-II.jpg"), &file).unwrap();
    exiftool(std::slice::from_ref(&file)); // fails with the install hint if exiftool is missing
    let status = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-DateTimeOriginal=2021:07:01 00:15:30",
            "-SubSecTimeOriginal=042",
            "-OffsetTimeOriginal=+09:30",
            "-Orientation#=6",
            "-GPSLatitude=33.8688",
            "-GPSLatitudeRef=S",
            "-GPSLongitude=151.2093",
            "-GPSLongitudeRef=E",
            "-GPSAltitude=12.5",
            "-GPSAltitudeRef#=1",
            "-Make=  Example Maker  ",
        ])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let ours = info(&file);
    let et = exiftool(std::slice::from_ref(&file));
    let diffs = compare(&file, &ours, &et[0]);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // 2021-07-01 00:15:30.042 at +09:30 is 2021-06-30 14:45:30.042 UTC.
    let utc = chrono::NaiveDate::from_ymd_opt(2021, 6, 30)
        .unwrap()
        .and_hms_milli_opt(14, 45, 30, 42)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    assert_eq!(ours.taken_at, Some(utc));
    assert_eq!(ours.taken_offset_min, Some(570));
    assert_eq!(ours.orientation, Some(6));
    let gps = ours.gps.unwrap();
    assert!((gps.latitude + 33.8688).abs() < 1e-6 && (gps.longitude - 151.2093).abs() < 1e-6);
    assert_eq!(gps.altitude, Some(-12.5));
    assert_eq!(ours.camera_make.as_deref(), Some("Example Maker"));

    // 4208x3120 stored, orientation 6: a 534x720 thumbnail (3120 * 720 / 4208 = 533.8).
    let t = thumbnail(&file, &ours).unwrap().unwrap();
    assert_eq!((t.width, t.height), (534, 720));
}

#[test]
fn apply_to_fills_metadata() {
    let info = info(&photos().join("exif/test1.jpg"));
    let mut meta = vault_crypto::FileMetadata {
        name: "test1.jpg".into(),
        size: 123,
        modified_at: Some(5),
        duration_ms: Some(7),
        ..Default::default()
    };
    info.apply_to(&mut meta);
    assert_eq!(meta.name, "test1.jpg");
    assert_eq!(
        (meta.size, meta.modified_at, meta.duration_ms),
        (123, Some(5), Some(7))
    );
    assert_eq!(meta.mime, "image/jpeg");
    assert_eq!(meta.taken_at, info.taken_at);
    assert_eq!(meta.gps, info.gps);
    assert_eq!((meta.width, meta.height), (Some(180), Some(135)));
    assert_eq!(meta.orientation, Some(1));
    assert_eq!(meta.camera_model.as_deref(), Some("iPhone 4S"));
}

/// Stored size, made upright, fitted into THUMBNAIL_SIZE without upscaling.
fn expected_size(info: &PhotoInfo) -> (u32, u32) {
    let (w, h) = (info.width.unwrap(), info.height.unwrap());
    let (w, h) = if info.orientation.is_some_and(|o| o >= 5) {
        (h, w)
    } else {
        (w, h)
    };
    let long = w.max(h);
    if long <= THUMBNAIL_SIZE {
        return (w, h);
    }
    let fit = |s: u32| {
        ((f64::from(s) * f64::from(THUMBNAIL_SIZE) / f64::from(long)).round() as u32).max(1)
    };
    (fit(w), fit(h))
}

fn make_thumbnail(path: &Path) -> (PhotoInfo, Thumbnail, RgbImage) {
    let info = info(path);
    let t = thumbnail(path, &info)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .unwrap_or_else(|| panic!("{}: no thumbnail", path.display()));
    let decoded = image::load_from_memory_with_format(&t.jpeg, image::ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("{}: thumbnail does not decode: {e}", path.display()));
    assert_eq!(
        decoded.dimensions(),
        (t.width, t.height),
        "{}",
        path.display()
    );
    (info, t, decoded.to_rgb8())
}

#[test]
fn thumbnail_sizes() {
    for path in all_jpegs() {
        let (info, t, _) = make_thumbnail(&path);
        let (w, h) = (info.width.unwrap(), info.height.unwrap());
        let want = expected_size(&info);
        assert_eq!(
            (t.width, t.height),
            want,
            "{} ({w}x{h}, orientation {:?})",
            path.display(),
            info.orientation
        );
        assert_eq!(t.width.max(t.height), THUMBNAIL_SIZE.min(w.max(h)));
        assert!(t.jpeg.starts_with(&[0xFF, 0xD8]));
        // Baseline: SOF0, no progressive SOF2.
        assert!(
            t.jpeg.windows(2).any(|m| m == [0xFF, 0xC0]),
            "{}",
            path.display()
        );
    }
    let (_, right, _) = make_thumbnail(&photos().join("exif/right.jpg"));
    assert_eq!(
        (right.width, right.height),
        (480, 640),
        "640x480 turned by orientation 8"
    );
}

/// Mean colour of each cell of a `n` x `n` grid.
fn grid(img: &RgbImage, n: u32) -> Vec<[f64; 3]> {
    let (w, h) = img.dimensions();
    let mut cells = vec![([0f64; 3], 0f64); (n * n) as usize];
    for (x, y, p) in img.enumerate_pixels() {
        let c = &mut cells[((y * n / h) * n + x * n / w) as usize];
        for i in 0..3 {
            c.0[i] += f64::from(p[i]);
        }
        c.1 += 1.0;
    }
    cells
        .into_iter()
        .map(|(s, k)| [s[0] / k, s[1] / k, s[2] / k])
        .collect()
}

/// Largest difference of a cell's mean channel between two same-sized images.
fn grid_distance(a: &RgbImage, b: &RgbImage) -> f64 {
    grid(a, 4)
        .iter()
        .zip(grid(b, 4))
        .flat_map(|(x, y)| (0..3).map(move |i| (x[i] - y[i]).abs()))
        .fold(0.0, f64::max)
}

/// The thumbnail as the `image` crate makes it: full decode, orientation, resize.
fn reference(path: &Path, orientation: Option<u8>, w: u32, h: u32) -> RgbImage {
    let mut full: DynamicImage = image::open(path).unwrap();
    if let Some(o) = orientation.and_then(image::metadata::Orientation::from_exif) {
        full.apply_orientation(o);
    }
    full.resize_exact(w, h, image::imageops::FilterType::Triangle)
        .to_rgb8()
}

#[test]
fn thumbnail_pixels_match_reference() {
    let files = [
        "exif/right.jpg",         // orientation 8 (rotated)
        "exif/down-mirrored.jpg", // orientation 4 (mirrored)
        "exif/test1.jpg",         // smaller than a thumbnail: not upscaled
        "exif/sony-alpha-6000.jpg",
        "full/Wine_by_Jakkub_Mede.jpg", // progressive, portrait
        "full/Dragonfly_by_Bolly.jpg",
    ];
    for name in files {
        let path = photos().join(name);
        let (info, t, ours) = make_thumbnail(&path);
        let good = reference(&path, info.orientation, t.width, t.height);
        let distance = grid_distance(&ours, &good);
        assert!(
            distance < 12.0,
            "{name}: thumbnail differs from reference by {distance}"
        );
        // The comparison can tell a wrongly turned image: the upright reference turned
        // half-way differs from ours (no orientation in this corpus is symmetric enough).
        let wrong = DynamicImage::ImageRgb8(good.clone()).rotate180().to_rgb8();
        let wrong_distance = grid_distance(&ours, &wrong);
        assert!(
            wrong_distance > 2.0 * distance.max(6.0),
            "{name}: a turned reference is as close ({wrong_distance}) as the right one ({distance})"
        );
        if info.orientation == Some(4) {
            // And a mirrored file's thumbnail is not the unmirrored picture.
            let unmirrored = DynamicImage::ImageRgb8(good).flipv().to_rgb8();
            let d = grid_distance(&ours, &unmirrored);
            assert!(
                d > 2.0 * distance.max(6.0),
                "{name}: unmirrored is close too ({d})"
            );
        }
    }
}

#[test]
fn malformed_exif_does_not_panic() {
    let path = photos().join("exif/evil1.jpg");
    let bytes = std::fs::read(&path).unwrap();
    let evil = PhotoInfo::read(&path, &bytes);
    assert_eq!(evil.mime, "image/jpeg");
    assert_eq!((evil.width, evil.height), (Some(640), Some(480)));
    assert!(thumbnail(&path, &evil).unwrap().is_some());

    // Cut and damaged copies: PhotoInfo::read takes anything; thumbnail() errs or succeeds.
    let dir = tempfile::tempdir().unwrap();
    let sony = std::fs::read(photos().join("exif/sony-alpha-6000.jpg")).unwrap();
    for source in [&bytes, &sony] {
        let exif_end = (64 * 1024).min(source.len() - 2);
        for cut in (0..exif_end)
            .step_by(997)
            .chain([source.len() / 2, source.len() - 10])
        {
            let _ = PhotoInfo::read(&path, &source[..cut]);
        }
        for (i, at) in (20..exif_end).step_by(331).enumerate() {
            let mut damaged = source.clone();
            damaged[at] ^= 0x5A;
            damaged[at + 1] = 0xFF;
            let info = PhotoInfo::read(&path, &damaged);
            if i % 8 == 0 {
                let file = dir.path().join(format!("damaged{i}.jpg"));
                std::fs::write(&file, &damaged).unwrap();
                let _ = thumbnail(&file, &info);
            }
        }
        let truncated = dir.path().join("truncated.jpg");
        std::fs::write(&truncated, &source[..source.len() / 3]).unwrap();
        let info = PhotoInfo::read(&truncated, &source[..source.len() / 3]);
        let _ = thumbnail(&truncated, &info);
    }
    let empty = dir.path().join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let info = PhotoInfo::read(&empty, b"");
    assert_eq!(info.mime, "image/jpeg");
    assert!(thumbnail(&empty, &info).is_err());
}

#[test]
fn video_is_not_a_photo() {
    let path = photos().join("video/sample.mp4");
    let info = info(&path);
    assert_eq!(
        info,
        PhotoInfo {
            mime: "video/mp4".into(),
            ..Default::default()
        }
    );
    assert!(thumbnail(&path, &info).unwrap().is_none());
}

#[test]
fn heic_is_recognised() {
    let mut n = 0;
    for entry in std::fs::read_dir(photos().join("heic")).unwrap() {
        let path = entry.unwrap().path();
        let h = head(&path);
        if h.len() < 12 || &h[4..8] != b"ftyp" {
            continue; // empty.heic, truncated files
        }
        let info = PhotoInfo::read(&path, &h);
        assert!(
            info.mime == "image/heic" || info.mime == "image/heif",
            "{}: {}",
            path.display(),
            info.mime
        );
        #[cfg(not(feature = "heic"))]
        assert!(thumbnail(&path, &info).unwrap().is_none());
        n += 1;
    }
    assert!(n >= 20, "only {n} HEIC files");
}

/// The upload keeps a photo's bytes from hashing it and reads its metadata and thumbnail from
/// them: the same as from the file, for every kind of photo (HEIC included, whose metadata is
/// sought anywhere in the file) and for damaged ones (the same error, or none).
#[test]
fn from_bytes_is_as_from_the_file() {
    let mut files = all_jpegs();
    for folder in ["heic", "video"] {
        let dir = std::fs::read_dir(photos().join(folder)).unwrap();
        files.extend(dir.map(|e| e.unwrap().path()));
    }
    let heic = files
        .iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("heic"))
        })
        .count();
    assert!(heic >= 20, "only {heic} HEIC files");
    let mut thumbnails = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let from_file = PhotoInfo::read(path, &head(path));
        let from_bytes = PhotoInfo::read_bytes(path, &bytes);
        assert_eq!(from_bytes, from_file, "{}", path.display());
        match (
            thumbnail(path, &from_file),
            thumbnail_of_bytes(&bytes, &from_bytes),
        ) {
            (Ok(a), Ok(b)) => {
                thumbnails += usize::from(a.is_some());
                assert_eq!(a, b, "{}", path.display());
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", path.display()),
            (a, b) => panic!("{}: from the file {a:?}, from bytes {b:?}", path.display()),
        }
    }
    assert!(thumbnails >= 20, "only {thumbnails} thumbnails compared");
}

#[test]
fn unknown_and_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, b"hello").unwrap();
    let info = PhotoInfo::read(&txt, b"hello");
    assert_eq!(info.mime, "text/plain");
    assert!(thumbnail(&txt, &info).unwrap().is_none());
    let blob = dir.path().join("blob");
    assert_eq!(
        PhotoInfo::read(&blob, b"\0\x01\x02").mime,
        "application/octet-stream"
    );
    let pdf = dir.path().join("x.bin");
    assert_eq!(PhotoInfo::read(&pdf, b"%PDF-1.7\n").mime, "application/pdf");
}

/// PNG (with alpha), GIF, BMP, WebP and TIFF go through the `image` crate.
#[test]
fn other_image_formats() {
    let dir = tempfile::tempdir().unwrap();
    // 1000x400: left half red, right half blue; alpha 0 in the bottom-right quarter.
    let rgba = image::RgbaImage::from_fn(1000, 400, |x, y| {
        let a = if x >= 500 && y >= 200 { 0 } else { 255 };
        if x < 500 {
            image::Rgba([255, 0, 0, a])
        } else {
            image::Rgba([0, 0, 255, a])
        }
    });
    let formats = [
        ("png", "image/png", image::ImageFormat::Png, true),
        ("gif", "image/gif", image::ImageFormat::Gif, false),
        ("bmp", "image/bmp", image::ImageFormat::Bmp, false),
        ("webp", "image/webp", image::ImageFormat::WebP, true),
        ("tiff", "image/tiff", image::ImageFormat::Tiff, false),
    ];
    for (ext, mime, format, alpha) in formats {
        // Named .dat: the type must come from the bytes.
        let path = dir.path().join(format!("{ext}.dat"));
        let img = if alpha {
            DynamicImage::ImageRgba8(rgba.clone())
        } else {
            DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba.clone()).to_rgb8())
        };
        img.save_with_format(&path, format).unwrap();
        let info = info(&path);
        assert_eq!(info.mime, mime, "{ext}");
        if format == image::ImageFormat::Tiff && info.width.is_none() {
            // This writer puts the IFD after the pixels, beyond the head PhotoInfo reads.
        } else {
            assert_eq!((info.width, info.height), (Some(1000), Some(400)), "{ext}");
        }
        let t = thumbnail(&path, &info).unwrap().unwrap();
        assert_eq!((t.width, t.height), (720, 288), "{ext}");
        let d = image::load_from_memory(&t.jpeg).unwrap().to_rgb8();
        let px = |x, y| *d.get_pixel(x, y);
        assert!(
            px(100, 100)[0] > 200 && px(100, 100)[2] < 60,
            "{ext}: {:?}",
            px(100, 100)
        );
        assert!(
            px(600, 50)[2] > 200 && px(600, 50)[0] < 60,
            "{ext}: {:?}",
            px(600, 50)
        );
        let corner = px(650, 250);
        if alpha {
            assert!(
                corner.0.iter().all(|&c| c > 230),
                "{ext}: transparent is white: {corner:?}"
            );
        } else {
            assert!(corner[2] > 200 && corner[0] < 60, "{ext}: {corner:?}");
        }
    }
    // A small PNG is not upscaled.
    let small = dir.path().join("small.png");
    image::RgbImage::from_pixel(30, 20, image::Rgb([0, 128, 0]))
        .save(&small)
        .unwrap();
    let info = info(&small);
    let t = thumbnail(&small, &info).unwrap().unwrap();
    assert_eq!((t.width, t.height), (30, 20));
}

/// CMYK and YCCK JPEGs as Adobe applications write them (inverted, APP14 marker).
#[test]
fn cmyk_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (800u16, 400u16);
    // Ink amounts: left half cyan, right half black.
    let cmyk: Vec<u8> = (0..h)
        .flat_map(|_| {
            (0..w).flat_map(|x| {
                if x < w / 2 {
                    [255, 0, 0, 0]
                } else {
                    [0, 0, 0, 255]
                }
            })
        })
        .collect();
    for (name, color) in [
        ("cmyk.jpg", jpeg_encoder::ColorType::Cmyk),
        ("ycck.jpg", jpeg_encoder::ColorType::CmykAsYcck),
    ] {
        let path = dir.path().join(name);
        jpeg_encoder::Encoder::new_file(&path, 90)
            .unwrap()
            .encode(&cmyk, w, h, color)
            .unwrap();
        let info = info(&path);
        assert_eq!((info.width, info.height), (Some(800), Some(400)));
        let t = thumbnail(&path, &info).unwrap().unwrap();
        assert_eq!((t.width, t.height), (720, 360));
        let d = image::load_from_memory(&t.jpeg).unwrap().to_rgb8();
        let cyan = d.get_pixel(100, 180);
        assert!(
            cyan[0] < 40 && cyan[1] > 215 && cyan[2] > 215,
            "{name}: {cyan:?}"
        );
        let black = d.get_pixel(600, 180);
        assert!(black.0.iter().all(|&c| c < 40), "{name}: {black:?}");
    }
}

/// Every file of the HEIC corpus (iPhone, Samsung, Xiaomi and libheif's own test files,
/// including broken ones).
#[cfg(feature = "heic")]
fn heic_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(photos().join("heic"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} HEIC files", files.len());
    files
}

/// HEIC metadata through libheif's EXIF block agrees with exiftool on every file; the size is
/// compared for camera files only (libheif's test files have `clap` crops, which exiftool's
/// ImageWidth, the coded size, does not include).
#[cfg(feature = "heic")]
#[test]
fn heic_metadata_matches_exiftool() {
    // exiftool fails on an empty file: that one has nothing to compare.
    let (files, empty): (Vec<PathBuf>, Vec<PathBuf>) = heic_files()
        .into_iter()
        .partition(|p| std::fs::metadata(p).unwrap().len() > 0);
    for path in empty {
        let ours = info(&path);
        assert_eq!(
            ours,
            PhotoInfo {
                mime: "image/heic".into(),
                ..PhotoInfo::default()
            },
            "{}",
            path.display()
        );
    }
    // PhotoInfo reads dates from EXIF only (bird_burst.heic has QuickTime dates, no EXIF).
    let et = exiftool_dates_from(&files, "EXIF:");
    let mut diffs = Vec::new();
    let (mut with_date, mut with_gps, mut with_make) = (0, 0, 0);
    for (path, et) in files.iter().zip(&et) {
        let ours = info(path);
        let camera = et.get("Make").is_some();
        with_make += usize::from(ours.camera_make.is_some());
        with_date += usize::from(ours.taken_at.is_some());
        with_gps += usize::from(ours.gps.is_some());
        diffs.extend(
            compare(path, &ours, et)
                .into_iter()
                .filter(|d| camera || !d.contains(": size: ")),
        );
    }
    assert!(
        diffs.is_empty(),
        "PhotoInfo differs from exiftool:\n{}",
        diffs.join("\n")
    );
    // iPhone, Samsung, Xiaomi, Sony and Apple Vision Pro files.
    assert!(with_date >= 6, "only {with_date} dated files");
    assert!(with_gps >= 4, "only {with_gps} files with GPS");
    assert!(with_make >= 7, "only {with_make} files with a camera make");
}

#[cfg(feature = "heic")]
#[test]
fn heic_known_values() {
    // iPhone 8 Plus: stored 4032x3024, turned by HEIF irot and EXIF Orientation 6.
    let arrow = info(&photos().join("heic/arrow.heic"));
    assert_eq!(arrow.mime, "image/heic");
    assert_eq!((arrow.width, arrow.height), (Some(4032), Some(3024)));
    assert_eq!(arrow.orientation, Some(6));
    assert_eq!(arrow.camera_model.as_deref(), Some("iPhone 8 Plus"));
    // Samsung Galaxy S25 Ultra, GPS.
    let samsung = info(&photos().join("heic/aux_YCbCr.heic"));
    assert_eq!(samsung.camera_make.as_deref(), Some("samsung"));
    let gps = samsung.gps.expect("the Samsung file has GPS");
    assert!((gps.latitude - 59.5128174).abs() < 1e-6, "{gps:?}");
    assert!((gps.longitude - 24.834_305_8).abs() < 1e-6, "{gps:?}");
    // Xiaomi: EXIF over 128 KiB, beyond the head.
    let xiaomi = info(&photos().join("heic/xiaomi.heic"));
    assert_eq!(xiaomi.camera_model.as_deref(), Some("M2012K11AG"));
    assert_eq!((xiaomi.width, xiaomi.height), (Some(2592), Some(1944)));
    // A 29x100 `clap` crop of a 64x100 coded image: the size shown (exiftool says 64x100).
    let crop = info(&photos().join("heic/L_10__29x100.heif"));
    assert_eq!((crop.width, crop.height), (Some(29), Some(100)));
    let t = thumbnail(&photos().join("heic/L_10__29x100.heif"), &crop)
        .unwrap()
        .unwrap();
    assert_eq!((t.width, t.height), (29, 100));
}

/// Files of the corpus libheif 1.15 cannot decode (broken on purpose), by name.
#[cfg(feature = "heic")]
const HEIC_UNDECODABLE: &[&str] = &["corrupted.heic", "empty.heic", "truncated.heic"];

/// Every file libheif can decode gets an upright thumbnail of the displayed size that decodes;
/// the others fail with an error, not a panic.
#[cfg(feature = "heic")]
#[test]
fn heic_thumbnails() {
    let mut failed = Vec::new();
    let mut made = 0;
    for path in heic_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let info = info(&path);
        let t = match thumbnail(&path, &info) {
            Ok(Some(t)) => t,
            Ok(None) => {
                failed.push(format!("{name} (no thumbnail, {})", info.mime));
                continue;
            }
            Err(e) => {
                failed.push(name.clone());
                eprintln!("{name}: {e}");
                continue;
            }
        };
        made += 1;
        let decoded = image::load_from_memory_with_format(&t.jpeg, image::ImageFormat::Jpeg)
            .unwrap_or_else(|e| panic!("{name}: thumbnail does not decode: {e}"));
        assert_eq!(decoded.dimensions(), (t.width, t.height), "{name}");
        let (w, h) = (info.width.unwrap(), info.height.unwrap());
        assert_eq!(
            (t.width, t.height),
            expected_size(&info),
            "{name} ({w}x{h}, orientation {:?})",
            info.orientation
        );
        assert_eq!(
            t.width.max(t.height),
            THUMBNAIL_SIZE.min(w.max(h)),
            "{name}"
        );
        assert!(t.jpeg.windows(2).any(|m| m == [0xFF, 0xC0]), "{name}");
    }
    failed.sort();
    assert_eq!(failed, HEIC_UNDECODABLE, "files without a thumbnail");
    assert!(made >= 40, "only {made} thumbnails");
}

/// The iPhone photo turned by its HEIF rotation (portrait as displayed) is turned once, not
/// twice: the arrow it shows points up.
#[cfg(feature = "heic")]
#[test]
fn heic_rotated_thumbnail() {
    let path = photos().join("heic/arrow.heic");
    let info = info(&path);
    let t = thumbnail(&path, &info).unwrap().unwrap();
    // 3024x4032 as displayed: 540x720.
    assert_eq!((t.width, t.height), (540, 720));
    let img = image::load_from_memory(&t.jpeg).unwrap().to_rgb8();
    // The arrow is drawn in black ink on ruled paper: its tip is its top, its base (a
    // horizontal stroke) its bottom. Upside down, the wide stroke would be on top.
    let dark_rows: Vec<(u32, u32, u32)> = (0..img.height())
        .filter_map(|y| {
            let xs: Vec<u32> = (0..img.width())
                .filter(|&x| img.get_pixel(x, y).0.iter().all(|&c| c < 80))
                .collect();
            Some((y, *xs.first()?, *xs.last()?))
        })
        .collect();
    let span = |rows: &[(u32, u32, u32)]| {
        let left = rows.iter().map(|r| r.1).min().unwrap();
        let right = rows.iter().map(|r| r.2).max().unwrap();
        right - left
    };
    assert!(dark_rows.len() > 100, "{} dark rows", dark_rows.len());
    let (top, bottom) = (
        span(&dark_rows[..40]),
        span(&dark_rows[dark_rows.len() - 40..]),
    );
    assert!(
        bottom > 2 * top,
        "the arrow does not point up: top {top} px wide, bottom {bottom} px wide"
    );
}

/// Time of a 12 MP iPhone HEIC's thumbnail (reading included); printed, with a generous
/// ceiling for a loaded debug build.
#[cfg(feature = "heic")]
#[test]
fn heic_thumbnail_time() {
    let path = photos().join("heic/pug.heic");
    let start = std::time::Instant::now();
    let info = info(&path);
    let t = thumbnail(&path, &info).unwrap().unwrap();
    let elapsed = start.elapsed();
    eprintln!(
        "pug.heic ({}x{}): {}x{} thumbnail in {elapsed:?}",
        info.width.unwrap(),
        info.height.unwrap(),
        t.width,
        t.height
    );
    assert_eq!((t.width, t.height), (720, 540));
    assert!(elapsed.as_secs() < 30, "{elapsed:?}");
}

/// Some writers store the pointer to the GPS IFD as a signed integer (exiv2's
/// FurnaceCreekInn.jpg); exiftool follows it, and so must we. A real iPhone photo with GPS,
/// its pointer's type rewritten from LONG to SLONG, reads the same position.
#[test]
fn a_gps_pointer_stored_signed_is_followed() {
    let path = photos().join("exif/test1.jpg");
    let bytes = std::fs::read(&path).unwrap();
    let honest = PhotoInfo::read(&path, &bytes);
    assert!(honest.gps.is_some(), "test1.jpg has GPS");
    // The 12-byte IFD entry: tag 0x8825, type LONG (4), count 1, in either byte order.
    let (big, little) = (
        [0x88, 0x25, 0, 4, 0, 0, 0, 1],
        [0x25, 0x88, 4, 0, 1, 0, 0, 0],
    );
    let at = bytes
        .windows(8)
        .position(|w| w == big || w == little)
        .expect("the GPS pointer");
    let mut signed = bytes.clone();
    if signed[at] == 0x88 {
        signed[at + 3] = 9;
    } else {
        signed[at + 2] = 9;
    }
    let read = PhotoInfo::read(&path, &signed);
    assert_eq!(read.gps, honest.gps);
    assert_eq!(read.taken_at, honest.taken_at);
}

/// ffprobe's `(duration ms, width, height)` of a video's first video stream, as played
/// (a rotation swaps width and height).
fn ffprobe(path: &Path) -> (u64, u32, u32) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-print_format",
            "json",
        ])
        .args([
            "-show_entries",
            "format=duration:stream=width,height:stream_side_data=rotation",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs (apt-get install ffmpeg)");
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe's JSON");
    let stream = &v["streams"][0];
    let seconds: f64 = v["format"]["duration"].as_str().unwrap().parse().unwrap();
    let (w, h) = (
        stream["width"].as_u64().unwrap() as u32,
        stream["height"].as_u64().unwrap() as u32,
    );
    let turned = stream["side_data_list"].as_array().is_some_and(|l| {
        l.iter()
            .any(|d| d["rotation"].as_i64().unwrap_or(0).abs() == 90)
    });
    let (w, h) = if turned { (h, w) } else { (w, h) };
    ((seconds * 1000.0).round() as u64, w, h)
}

#[test]
fn videos_get_their_length_size_and_a_poster_as_ffprobe_sees_them() {
    use vault_client::photo::video::{facts, facts_with};
    let sample = photos().join("video/sample.mp4");
    // The same video turned a quarter (as a phone held upright records), by its matrix only.
    let dir = tempfile::tempdir().unwrap();
    let turned = dir.path().join("turned.mp4");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(&sample)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
        .arg(&turned)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    for path in [&sample, &turned] {
        let (ms, w, h) = ffprobe(path);
        let got = facts(path);
        let duration = got.duration_ms.expect("a length");
        assert!(
            duration.abs_diff(ms) <= 50,
            "{}: {duration} ms, ffprobe {ms} ms",
            path.display()
        );
        assert_eq!(
            (got.width, got.height),
            (Some(w), Some(h)),
            "{}",
            path.display()
        );
        let poster = got
            .poster
            .unwrap_or_else(|| panic!("a poster: {:?}", got.no_poster));
        assert_eq!(
            poster.width.max(poster.height),
            THUMBNAIL_SIZE.min(w.max(h))
        );
        assert_eq!(poster.width > poster.height, w > h, "the poster is upright");
        let decoded = image::load_from_memory(&poster.jpeg).expect("a JPEG");
        assert_eq!(
            (decoded.width(), decoded.height()),
            (poster.width, poster.height)
        );
    }
    // Without ffmpeg: the length and size still, and the reason there is no poster.
    let without = facts_with(&sample, std::ffi::OsStr::new("/nonexistent/ffmpeg"));
    assert!(without.poster.is_none() && without.duration_ms.is_some());
    assert!(
        without
            .no_poster
            .as_deref()
            .unwrap()
            .contains("install ffmpeg"),
        "{:?}",
        without.no_poster
    );
    // A playlist posing as a video: ffmpeg reads local files as files only, and playlists not
    // at all, so nothing it names is read into a poster.
    let playlist = dir.path().join("playlist.mp4");
    std::fs::write(
        &playlist,
        "#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
    )
    .unwrap();
    let refused = facts(&playlist);
    assert!(refused.poster.is_none(), "a playlist made no poster");
    assert!(refused.no_poster.is_some());
    // Not a video container: no length, no size.
    let photo = photos().join("exif/test3.jpg");
    let not = facts(&photo);
    assert_eq!((not.duration_ms, not.width), (None, None));
}
