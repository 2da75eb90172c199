//! The web app on a phone: a vault made with the real `vault` binary on a real local replica
//! serves its app at `/app/`; Debian's Chromium at phone size with touch (driven by
//! playwright-core, `tests/browser/web.mjs`) opens it through the replica's verifying gateway,
//! is admitted as a new device with the passphrase, shows the timeline's thumbnails and a photo
//! pixel for pixel, streams a long video from the vault, uploads three photos and a video
//! (encrypted in the browser, thumbnails and the video's poster made by it),
//! passes Chromium's installability check and starts offline from its service worker. The
//! owner sees the browser among their devices and removes it from the CLI: the page's next call
//! is refused. The CLI reads back the phone's uploads byte for byte. Screenshots are kept in
//! `target/test-artifacts/web/`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use vault_e2e::cli::*;
use vault_e2e::{browser_tests, chromium};

/// The devices that act as the owner.
fn devices(owner: &User) -> Vec<Value> {
    let listed = owner.json(&["devices"]);
    listed
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("devices: {listed}"))
}

/// The browser's figure for an Argon2id preset (`<preset> <ms> ms in Chromium`) beside the
/// same derivation here, natively, measured now.
fn beside_native(figure: &str) -> String {
    let mut words = figure.split_whitespace();
    let (Some(name), Some(ms)) = (
        words.next(),
        words.next().and_then(|w| w.parse::<f64>().ok()),
    ) else {
        panic!("a figure the test does not read: {figure}");
    };
    let params = match name {
        "minimum" => vault_crypto::KdfParams::MINIMUM,
        "low-memory" => vault_crypto::KdfParams::LOW_MEMORY,
        "default" => vault_crypto::KdfParams::DEFAULT,
        other => panic!("no preset {other}"),
    };
    // docs/FORMAT.md §6's unlock params (the salt does not change the cost).
    let mut bytes = vec![1, 1];
    for n in [
        params.memory_kib(),
        params.iterations(),
        params.parallelism(),
    ] {
        bytes.extend_from_slice(&n.to_be_bytes());
    }
    bytes.extend_from_slice(&[7; 16]);
    let unlock = vault_crypto::UnlockParams::from_bytes(&bytes).expect("valid unlock params");
    let started = std::time::Instant::now();
    let _ = unlock.derive("correct horse battery staple");
    let native = started.elapsed().as_secs_f64() * 1000.0;
    format!(
        "Argon2id {name}: {ms:.0} ms in Chromium's wasm (a worker), {native:.0} ms native: {:.1}x",
        ms / native
    )
}

/// `described` (`{ id, name, path }`) with the video's size.
fn video_of(described: &Value, path: &std::path::Path) -> Value {
    let mut video = described.clone();
    video["size"] = json!(std::fs::metadata(path).unwrap().len());
    video
}

#[test]
fn a_phone_opens_the_vault_in_its_browser() {
    let chromium = chromium();
    let owner = User::first();
    owner.init();
    let photos = photos();
    // Two photos and a long video (with a poster ffmpeg made for the CLI).
    let long = vault_e2e::long_video();
    let uploaded = [
        photos.join("exif/test3.jpg"),
        photos.join("full/sony-alpha-6000.jpg"),
        long.to_path_buf(),
    ];
    let mut cli_rate = 0.0;
    for path in &uploaded {
        let started = std::time::Instant::now();
        owner.ok(&["upload", path.to_str().unwrap()]);
        if path == long {
            // The CLI's rate on the long video, beside the phone's on a copy of it (below).
            let bytes = std::fs::metadata(path).unwrap().len() as f64;
            cli_rate = bytes / started.elapsed().as_secs_f64();
        }
    }
    // The measure: the phone's upload rate beside the CLI's on the same photos (the
    // test set's full-size ones but the one uploaded above), the CLI's into a vault of its own.
    // Copies in the test's home: a page driven by raw CDP (web.mjs's quietPage) was refused
    // the test set's own files ("could not be read ... permission problems").
    let mut same_photos: Vec<_> = std::fs::read_dir(photos.join("full"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !uploaded.contains(p))
        .collect();
    same_photos.sort();
    let same_dir = owner.path("same-photos");
    std::fs::create_dir_all(&same_dir).unwrap();
    let same_photos: Vec<_> = same_photos
        .iter()
        .map(|p| {
            let copy = same_dir.join(p.file_name().unwrap());
            std::fs::copy(p, &copy).unwrap();
            copy
        })
        .collect();
    let photo_bytes: u64 = same_photos
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let cli_photo_rate = {
        let other = User::beside(&owner);
        other.init();
        let mut args = vec!["upload"];
        args.extend(same_photos.iter().map(|p| p.to_str().unwrap()));
        let started = std::time::Instant::now();
        other.ok(&args);
        photo_bytes as f64 / started.elapsed().as_secs_f64()
    };
    // The replica checkpoints (writes the pages changed since the last one, stalling calls for
    // a second here) once its log passes 256 MiB: stopped now (a checkpoint) and started again
    // by the next command, so neither client's measures wait on one (the phone's uploads below
    // log ~135 MiB).
    owner.ok(&["replica", "stop"]);
    // The same video with another title: the same size and pictures, not a duplicate, for
    // the phone to upload.
    let copy = owner.path("long-video-copy.mp4");
    let made = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(long)
        .args(["-c", "copy", "-metadata", "title=the phone's copy"])
        .arg(&copy)
        .status()
        .expect("ffmpeg runs");
    assert!(made.success());
    // VAULT_WEB_BIG_MIB=N (a measure to run by hand; CI's run is the copy above): the phone's
    // large upload is N MiB of random bytes instead (the 1 GiB: the page's memory
    // while it sends), beside the CLI's rate on the same file, sent to a vault of its own.
    let big = match std::env::var("VAULT_WEB_BIG_MIB").map(|n| n.parse::<u64>()) {
        Ok(Ok(mib)) => {
            let path = owner.path("big-upload.bin");
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let mut x = 0x9e37_79b9_7f4a_7c15_u64;
            for _ in 0..mib << 17 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                std::io::Write::write_all(&mut file, &x.to_le_bytes()).unwrap();
            }
            drop(file);
            // The owner's command starts the replica again (from the owner's state).
            owner.ok(&["status"]);
            let other = User::beside(&owner);
            other.init();
            let started = std::time::Instant::now();
            other.ok(&["upload", path.to_str().unwrap()]);
            cli_rate = (mib << 20) as f64 / started.elapsed().as_secs_f64();
            path
        }
        _ => copy.clone(),
    };
    let listing = owner.json(&["ls"]);
    let status = owner.json(&["status"]);
    let app = status["app_url"]
        .as_str()
        .expect("status names the app's URL");
    assert!(
        app.ends_with(&format!(".localhost:{}/app/", owner.port)),
        "{app}"
    );
    let before = devices(&owner);

    let artifacts = vault_e2e::artifacts().join("web");
    let described: Vec<Value> = uploaded
        .iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap();
            let id = listing
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("{name} is not in {listing}"))["id"]
                .clone();
            json!({ "id": id, "name": name, "path": path })
        })
        .collect();
    // What the phone uploads: three photos of the test set, one of them turned by its EXIF, and
    // a short video (its poster, length and size from the browser's player).
    let video = photos.join("video/sample.mp4");
    let from_phone = [
        photos.join("exif/right.jpg"),
        photos.join("exif/test2.jpg"),
        photos.join("exif/down-mirrored.jpg"),
        video.clone(),
    ];
    // What another app shares with Vault ("Share → Vault").
    let shared = photos.join("exif/test1.jpg");
    let removed = owner.path("removed");
    let config = json!({
        "chromium": chromium,
        "artifacts": artifacts,
        "app": app,
        "passphrase": PASSPHRASE,
        "video": video_of(described.last().unwrap(), long),
        "photos": described,
        "uploads": from_phone.iter().map(|p| json!({ "path": p })).collect::<Vec<_>>(),
        "shared": { "name": "test1.jpg", "path": shared },
        "big": { "path": big, "size": std::fs::metadata(&big).unwrap().len() },
        "same_photos": { "paths": same_photos, "size": photo_bytes },
        "removed": removed,
    });
    let config_file = owner.path("web.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let mut node = Command::new("node")
        .arg(browser_tests().join("web.mjs"))
        .arg(&config_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdout = String::new();
    let mut removed_device = None;
    // What each upload-rate line the browser prints is beside.
    let rates = [
        (
            "upload rate: ",
            format!(
                "a {:.0} MiB {}",
                std::fs::metadata(&big).unwrap().len() as f64 / (1 << 20) as f64,
                if big == copy {
                    "video"
                } else {
                    "file of random bytes"
                }
            ),
            cli_rate,
        ),
        (
            "photo upload rate: ",
            format!(
                "{} photos ({:.1} MiB)",
                same_photos.len(),
                photo_bytes as f64 / (1 << 20) as f64
            ),
            cli_photo_rate,
        ),
    ];
    for line in BufReader::new(node.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("{line}");
        if line.starts_with("ready: remove this device") {
            // The browser was admitted as a device of the owner's, and added a passkey that
            // unlocks, with which it signed in: the owner removes the passkey.
            let now = devices(&owner);
            assert_eq!(now.len(), before.len() + 2, "{now:?}");
            let new: Vec<_> = now.iter().filter(|d| !before.contains(d)).collect();
            let kinds: Vec<_> = new.iter().map(|d| d["kind"].as_str().unwrap()).collect();
            assert!(
                kinds.contains(&"device") && kinds.contains(&"passkey (signs in and unlocks)"),
                "{new:?}"
            );
            let browser = new
                .iter()
                .find(|d| d["kind"] != "device")
                .expect("the browser's passkey")["principal"]
                .as_str()
                .unwrap()
                .to_string();
            owner.ok(&["devices", "--remove", &browser]);
            std::fs::write(&removed, b"").unwrap();
            removed_device = Some(browser);
        }
        if let Some(figure) = line.strip_prefix("kdf: ") {
            println!("{}", beside_native(figure));
        }
        for (prefix, what, cli) in &rates {
            if let Some(rate) = line
                .strip_prefix(prefix)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|r| r.parse::<f64>().ok())
            {
                println!(
                    "upload of {what}: the phone's browser {:.1} MiB/s, the CLI {:.1} MiB/s: {:.2}x",
                    rate / (1 << 20) as f64,
                    cli / (1 << 20) as f64,
                    rate / cli
                );
            }
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = node.wait().unwrap();
    let mut stderr = String::new();
    node.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success() && stdout.contains("web: all checks passed"),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    let removed_device = removed_device.expect("the browser asked to be removed");
    assert!(
        !devices(&owner)
            .iter()
            .any(|d| d["principal"] == removed_device.as_str()),
        "removed"
    );
    // What the phone uploaded is in the vault, byte for byte, with a thumbnail each.
    let listing = owner.json(&["ls"]);
    let files = listing.as_array().unwrap();
    assert_eq!(
        files.len(),
        uploaded.len() + from_phone.len() + same_photos.len() + 2,
        "{listing}"
    );
    let exported = owner.path("exported");
    for path in from_phone.iter().chain([&shared, &big, &same_photos[0]]) {
        let name = path.file_name().unwrap().to_str().unwrap();
        let file = files
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not in {listing}"));
        // (Random bytes have no picture.)
        assert!(
            file["thumbnail_size"].as_u64().unwrap_or(0) > 1000 || *path != copy && *path == big,
            "a thumbnail: {file}"
        );
        owner.ok(&[
            "export",
            file["id"].as_str().unwrap(),
            "-o",
            exported.to_str().unwrap(),
        ]);
        assert_eq!(
            std::fs::read(exported.join(name)).unwrap(),
            std::fs::read(path).unwrap(),
            "{name}: the CLI reads back what the phone sent"
        );
    }
    // The browser's player told the video's length and picture size (sample.mp4: 1.043 s of
    // 1920x1080, as ffprobe reads it).
    let sent = files.iter().find(|f| f["name"] == "sample.mp4").unwrap();
    let ms = sent["duration_ms"].as_u64().expect("a length");
    assert!(ms.abs_diff(1043) <= 50, "{sent}");
    assert_eq!(
        (&sent["width"], &sent["height"]),
        (&json!(1920), &json!(1080))
    );
}
