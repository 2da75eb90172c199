//! How fast the app shows a vault and how much memory a big one costs: `vault-app` in a real
//! window (under `xvfb-run`) on a local replica seeded through vault-client.
//!
//! - **Launch to first thumbnails**, 1,000 photos: from the process's start to the first
//!   thumbnail decoded in the webview, and to every photo listed. Baseline, same run: the same
//!   work without a window — connect, list and decrypt every photo's record and the first
//!   screenful of thumbnails with vault-client in this process.
//!   Beside it, same run: **the phone**, the vault's web app in Chromium at 390x844
//!   (`tests/browser/timeline.mjs`), from the tap on "Unlock" to the first thumbnail decoded.
//! - **Memory**, 10,000 photos in the timeline: resident memory of the app and its WebKit
//!   processes, after listing everything and after scrolling from top to bottom. Baseline,
//!   same run: the app on an empty vault.
//!
//! `cargo build --release -p vault-app && cargo bench -p vault-e2e --bench timeline` (about
//! 10 minutes: uploading 10,000 photos is most of it). `VAULT_BENCH_PHOTOS=1000,10000` sets the
//! two sizes; a second no larger than the first (`1000,0`) skips the memory part.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use vault_client::upload::{Quiet, UploadOptions};
use vault_e2e::app::*;

/// Writes `n` distinct 800×600 JPEGs into `dir`, modified a few hours apart over the past years
/// (their timeline dates: they have no EXIF).
fn make_photos(dir: &Path, from: usize, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let now = SystemTime::now();
    (from..from + n)
        .map(|i| {
            let path = dir.join(format!("IMG_{i:05}.jpg"));
            // Every photo's pixels differ (the vault would store one copy of equal files).
            let (lo, hi) = ((i % 256) as u32, (i / 256) as u32);
            let img = image::RgbImage::from_fn(800, 600, |x, y| {
                image::Rgb([
                    ((x + lo * 37) % 256) as u8,
                    ((y + hi * 53) % 256) as u8,
                    ((x ^ y ^ lo) % 256) as u8,
                ])
            });
            img.save(&path).unwrap();
            let when = now - Duration::from_secs(i as u64 * 5 * 3600);
            filetime::set_file_mtime(&path, filetime::FileTime::from_system_time(when)).unwrap();
            path
        })
        .collect()
}

/// Resident memory (KiB) of `pid` and every process below it, and of each by name.
fn rss_tree(pid: u32) -> (u64, u64) {
    let mut own = 0;
    let mut total = 0;
    let mut each = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        let rss = std::fs::read_to_string(format!("/proc/{p}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .unwrap_or(0);
        if p == pid {
            own = rss;
        }
        total += rss;
        let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        each.push(format!("{} {:.0}", name.trim(), mib(rss)));
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            stack.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    println!("  resident MiB by process: {}", each.join(", "));
    (own, total)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn upload(rt: &tokio::runtime::Runtime, user: &User, dir: &Path) -> f64 {
    rt.block_on(async {
        let mut vault = user.open().await;
        let start = Instant::now();
        let results = vault
            .upload(&[dir.to_path_buf()], &UploadOptions::default(), &Quiet)
            .await
            .unwrap();
        assert!(results.iter().all(Result::is_ok));
        results.len() as f64 / start.elapsed().as_secs_f64()
    })
}

/// The vault's web app at phone size (`tests/browser/timeline.mjs`): the median of three
/// unlocks of a device the vault knows, from the tap to the first thumbnail decoded (ms), and
/// what the script measured, described.
fn phone_first_thumbnails(
    rt: &tokio::runtime::Runtime,
    user: &User,
    photos: usize,
) -> (u64, String) {
    let app = rt.block_on(async {
        let (home, conn) = user.connect().await;
        let id = vault_client::vault::remembered_canister(&home, &conn.network)
            .unwrap()
            .expect("a vault");
        format!("http://{id}.localhost:{}/app/", user.port)
    });
    let config = user.home.path().join("timeline-phone.json");
    let json = serde_json::json!({
        "chromium": vault_e2e::chromium(),
        "app": app,
        "passphrase": PASSPHRASE,
        "photos": photos,
    });
    std::fs::write(&config, json.to_string()).unwrap();
    let out = std::process::Command::new("node")
        .arg(vault_e2e::browser_tests().join("timeline.mjs"))
        .arg(&config)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let measured: serde_json::Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("phone: "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| {
            panic!(
                "the phone's script failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let ms = |run: &serde_json::Value, key: &str| run[key].as_u64().expect("a figure");
    let mut firsts: Vec<u64> = measured["again"]
        .as_array()
        .expect("three runs")
        .iter()
        .map(|run| ms(run, "first"))
        .collect();
    firsts.sort_unstable();
    let again = &measured["again"][0];
    let new_device = &measured["newDevice"];
    let described = format!(
        "{} ms (median of 3: {firsts:?}; all {photos} listed by {} ms; Argon2id {} ms of it); as a new device, admitted with the passphrase: {} ms, all listed by {} ms",
        firsts[1],
        ms(again, "listed"),
        ms(again, "kdf"),
        ms(new_device, "first"),
        ms(new_device, "listed"),
    );
    (firsts[1], described)
}

fn main() {
    if under_xvfb(&[]) {
        return;
    }
    let sizes: Vec<usize> = std::env::var("VAULT_BENCH_PHOTOS")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .map(|n| n.parse().expect("VAULT_BENCH_PHOTOS=1000,10000"))
        .collect();
    let (small, big) = (sizes[0], sizes[1]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let user = User::new(free_port());
    let downloads = user.home.path().join("Downloads");
    rt.block_on(user.init());

    // Memory baseline: the app on an empty vault.
    let mut app = AppWindow::launch(&user, "1200x800", &downloads);
    let r = app.wait("the empty timeline", 120, |r| {
        r["text"]
            .as_str()
            .is_some_and(|t| t.contains("No photos yet"))
    });
    std::thread::sleep(Duration::from_secs(2));
    let empty = rss_tree(r["pid"].as_u64().unwrap() as u32);
    drop(app);

    let photos = user.home.path().join("photos");
    make_photos(&photos.join("a"), 0, small);
    let rate = upload(&rt, &user, &photos.join("a"));
    println!("seeded {small} photos at {rate:.1} photos/s");

    // Baseline: the same work without a window.
    let baseline = rt.block_on(async {
        let start = Instant::now();
        let mut vault = user.open().await;
        let reader = vault.reader();
        let infos = reader.list_infos(None, false).await.unwrap();
        assert_eq!(infos.len(), small);
        for info in &infos {
            reader.entry(info).unwrap();
        }
        for info in infos.iter().take(48) {
            reader.thumbnail(info).await.unwrap().expect("a thumbnail");
        }
        start.elapsed().as_millis() as u64
    });

    let mut firsts = Vec::new();
    let mut listed = Vec::new();
    for _ in 0..3 {
        let mut app = AppWindow::launch(&user, "1200x800", &downloads);
        let r = app.wait("the thumbnails", 120, |r| {
            r["ms_to_first_thumbnails"].is_u64() && r["complete"] == true
        });
        firsts.push(r["ms_to_first_thumbnails"].as_u64().unwrap());
        listed.push(r["ms_since_launch"].as_u64().unwrap());
        drop(app);
    }
    firsts.sort_unstable();
    listed.sort_unstable();
    let (first, all) = (firsts[1], listed[1]);
    println!(
        "launch -> first thumbnails, {small} photos: {first} ms (median of 3: {firsts:?}); every photo listed by {all} ms"
    );
    println!(
        "baseline without a window (connect, list and decrypt {small} records, decrypt 48 thumbnails): {baseline} ms; ratio {:.2}x",
        first as f64 / baseline as f64
    );

    // The phone, on the same vault in the same run: its web app in Chromium.
    let (first_phone, phone) = phone_first_thumbnails(&rt, &user, small);
    println!(
        "phone (Chromium 390x844, the app the vault serves; tap on Unlock -> first thumbnail decoded): {phone}"
    );
    println!(
        "phone / desktop (unlock -> first thumbnail / launch -> first thumbnails): {first_phone} / {first} ms = {:.2}x",
        first_phone as f64 / first as f64
    );

    if big <= small {
        // `VAULT_BENCH_PHOTOS=1000,0`: the first thumbnails only.
        return;
    }
    make_photos(&photos.join("b"), small, big - small);
    let rate = upload(&rt, &user, &photos.join("b"));
    println!("seeded {} more photos at {rate:.1} photos/s", big - small);

    let mut app = AppWindow::launch(&user, "1200x800", &downloads);
    let r = app.wait("the big timeline", 300, |r| {
        r["photos"] == big && r["complete"] == true && r["thumbs_loaded"] == r["thumbs"]
    });
    let pid = r["pid"].as_u64().unwrap() as u32;
    std::thread::sleep(Duration::from_secs(2));
    let listed = rss_tree(pid);
    // Scroll from top to bottom: every row passes through the DOM once.
    let (x, y) = app.at("timeline");
    xdotool(&["mousemove", &x.to_string(), &y.to_string()]);
    let start = Instant::now();
    for _ in 0..400 {
        xdotool(&["click", "--repeat", "10", "--delay", "5", "5"]);
    }
    let scrolled_in = start.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    let scrolled = rss_tree(pid);
    let r = app.report().unwrap();
    println!(
        "memory (app / app + WebKit, MiB): empty vault {:.1} / {:.1}; {big} photos listed {:.1} / {:.1}; after scrolling 4000 wheel steps in {:.1} s ({} thumbnails served) {:.1} / {:.1}",
        mib(empty.0),
        mib(empty.1),
        mib(listed.0),
        mib(listed.1),
        scrolled_in.as_secs_f64(),
        r["thumbnails_served"],
        mib(scrolled.0),
        mib(scrolled.1),
    );
    println!(
        "ratio to the empty vault: {:.2}x (app), {:.2}x (app + WebKit); {:.0} bytes a photo in the app",
        listed.0 as f64 / empty.0 as f64,
        listed.1 as f64 / empty.1 as f64,
        (listed.0.saturating_sub(empty.0) * 1024) as f64 / big as f64
    );
}
