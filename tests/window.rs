//! The real app in a real window: `vault-app` under `xvfb-run`, on a local replica seeded through
//! vault-client with the test photos. The webview's own DOM reports what it shows (the app's
//! test hooks, `VAULT_APP_TEST_HOOKS`); screenshots are kept in `target/test-artifacts/`;
//! xdotool clicks and types as a person would: an upload through the file chooser, a link and
//! a share through the sharing screen, each checked afterwards in the canister through
//! vault-client; then the friend's app adds the owner's vault and sees the album.
//!
//! Needs xvfb-run, xdotool and ImageMagick's `import` (`scripts/test-all` installs them). Run
//! outside X, the test runs itself again under `xvfb-run`.

use std::path::PathBuf;

use vault_client::upload::{Quiet, UploadOptions};
use vault_e2e::app::*;

#[test]
fn the_app_shows_the_vault_uploads_and_shares_in_a_real_window() {
    let name = "the_app_shows_the_vault_uploads_and_shares_in_a_real_window";
    if under_xvfb(&[name, "--exact", "--nocapture", "--test-threads=1"]) {
        return;
    }
    let started = std::time::Instant::now();
    let step = |what: &str| println!("[{:6.1} s] {what}", started.elapsed().as_secs_f64());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = free_port();
    let owner = User::new(port);
    let friend = User::new(port);
    let photos = photos();
    let seeded: Vec<PathBuf> = std::fs::read_dir(photos.join("full"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // And a long video (115 chunks), the newest: first in the timeline.
    let long = vault_e2e::long_video();
    let (friend_code, friend_principal) = rt.block_on(async {
        let mut vault = owner.init().await;
        vault.create_album("Holiday").await.unwrap();
        let into_album = UploadOptions {
            album: Some("Holiday".into()),
        };
        let results = vault
            .upload(&[photos.join("full")], &into_album, &Quiet)
            .await
            .unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let results = vault
            .upload(&[long.to_path_buf()], &UploadOptions::default(), &Quiet)
            .await
            .unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let friend_vault = friend.init().await;
        let code = vault_client::sharing::my_share_code(&friend_vault)
            .await
            .unwrap();
        (code.share_code, code.principal)
    });

    // What the vault holds: those photos and the video.
    let in_vault = seeded.len() + 1;
    step("seeded");
    let downloads = owner.home.path().join("Downloads");
    let mut app = AppWindow::launch(&owner, "1200x800", &downloads);

    // The timeline: every photo listed, and every thumbnail drawn decoded.
    let shown = app.wait("the photos", 120, |r| {
        r["photos"] == in_vault
            && r["complete"] == true
            && r["thumbs"].as_u64() > Some(0)
            && r["thumbs_loaded"] == r["thumbs"]
    });
    let colours = screenshot("app-timeline.png");
    assert!(colours > 1000, "the window is blank: {colours} colours");
    let drawn = shown["thumbs"].as_u64().unwrap();
    // 1200 px wide: 6 tiles a row; the test photos span several days, so the first screen
    // (and the overscan) holds at least a row of them.
    assert!(drawn >= 6, "{drawn} thumbnails drawn: {shown:#}");
    assert!(shown["thumbnails_served"].as_u64().unwrap() >= drawn);
    assert_eq!(shown["screen"], "Photos");
    println!(
        "timeline: {} photos, {drawn} thumbnails drawn, first thumbnails {} ms after launch",
        shown["photos"], shown["ms_to_first_thumbnails"]
    );

    step("timeline shown");
    // Upload, through the file chooser: Upload → "Choose photos…" → type the path → Enter.
    app.click("nav-upload");
    app.wait("the upload screen", 30, |r| r["screen"] == "Upload");
    app.click("pick-files");
    // Not one of the seeded photos (the Sony one is: the vault would say it has it already).
    let new_photo = photos.join("exif/short-ascii-II.jpg");
    choose_in_file_dialog(&new_photo);
    let done = app.wait("the upload to finish", 120, |r| {
        r["text"]
            .as_str()
            .is_some_and(|t| t.contains("Done: 1 of 1 file"))
    });
    assert!(
        done["text"].as_str().unwrap().contains("Uploaded"),
        "{done:#}"
    );
    app.click("nav-photos");
    app.wait("the new photo in the timeline", 60, |r| {
        r["photos"] == in_vault + 1 && r["complete"] == true
    });

    step("uploaded");
    // A link: Sharing → "Create link" (the album) → its URL is shown.
    app.click("nav-sharing");
    app.wait("the sharing screen", 30, |r| r["screen"] == "Sharing");
    app.click("create-link");
    let made = app.wait("the new link", 60, |r| {
        r["elements"]["new-link-url"].is_array()
    });
    assert!(made["elements"]["copy-new-link"].is_array());

    // A share: paste the friend's share code, see their words, share for 7 days.
    app.type_into("share-code-input", &friend_code);
    let words = app.wait("the friend's words", 30, |r| {
        r["elements"]["their-fingerprint"].is_array()
    });
    assert!(words["text"].as_str().unwrap().contains("Their words:"));
    app.click("share");
    app.wait("the grant listed", 60, |r| {
        r["text"]
            .as_str()
            .is_some_and(|t| t.contains(&friend_principal))
    });
    screenshot("app-sharing.png");
    step("shared");

    // The canister agrees: 17 photos and the video, one link, one grant to the friend.
    let owner_vault = rt.block_on(async {
        let mut vault = owner.open().await;
        let files = vault.list(None, false).await.unwrap();
        assert_eq!(files.len(), in_vault + 1);
        assert_eq!(vault.links().await.unwrap().len(), 1);
        let grants = vault.grants().await.unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].grantee.to_text(), friend_principal);
        vault.id().to_text()
    });
    drop(app);

    // The friend's app: the album is under Shared with me, new (the owner's app told the
    // friend's vault: nobody typed a vault id); they add it, and open it.
    let mut theirs = AppWindow::launch(&friend, "1200x800", &downloads);
    theirs.wait("the friend's empty vault", 120, |r| r["screen"] == "Photos");
    theirs.click("nav-shared");
    theirs.wait("the shared screen", 30, |r| r["screen"] == "Shared with me");
    let new = theirs.wait("the new share", 60, |r| {
        r["elements"]["follow-shared"].is_array()
    });
    let text = new["text"].as_str().unwrap();
    assert!(
        text.contains("Holiday")
            && text.contains(&owner_vault)
            && text.contains("Told to your vault by"),
        "{text}"
    );
    theirs.click("follow-shared");
    let shared = theirs.wait("the shared album, added", 60, |r| {
        r["elements"]["open-shared"].is_array()
    });
    let text = shared["text"].as_str().unwrap();
    assert!(
        text.contains("Holiday") && !text.contains("Told to your vault by"),
        "{text}"
    );
    // Opened: the album's photos, decrypted with the key sealed to the friend.
    theirs.click("open-shared");
    let album = theirs.wait("the shared album's photos", 60, |r| {
        r["complete"] == true && r["thumbs"].as_u64() > Some(0) && r["thumbs_loaded"] == r["thumbs"]
    });
    screenshot("app-shared-with-me.png");
    assert_eq!(album["photos"], seeded.len(), "{album:#}");
    drop(theirs);

    step("the friend saw it");

    // At phone width: the same app, tabs along the bottom.
    let mut phone = AppWindow::launch(&owner, "360x740", &downloads);
    let r = phone.wait("the photos at 360 px", 120, |r| {
        r["photos"] == in_vault + 1 && r["thumbs_loaded"].as_u64() > Some(0)
    });
    assert_eq!(r["width"], 360, "{r:#}");
    let nav_y = r["elements"]["nav-photos"][1].as_i64().unwrap();
    let height = r["height"].as_i64().unwrap();
    assert!(
        nav_y > height - 60 && nav_y < height,
        "the tabs are along the bottom: {nav_y} in {height}"
    );
    assert!(screenshot("app-phone.png") > 1000);
    // Five tabs at most, each on screen; the other screens are under More.
    let elements = r["elements"].as_object().unwrap();
    for tab in [
        "nav-photos",
        "nav-albums",
        "nav-upload",
        "nav-sharing",
        "nav-more",
    ] {
        let x = elements[tab][0].as_i64().unwrap();
        assert!(x > 0 && x < 360, "{tab} is on screen: at {x}");
    }
    for under_more in ["nav-shared", "nav-activity", "nav-trash", "nav-settings"] {
        assert!(!elements.contains_key(under_more), "{under_more}: {r:#}");
    }
    phone.click("nav-more");
    phone.wait("the More sheet", 30, |r| {
        r["elements"]["more-settings"].is_array()
    });
    assert!(screenshot("app-phone-more.png") > 1000);
    phone.click("more-settings");
    phone.wait("settings, from More", 30, |r| {
        r["screen"] == "Settings" && r["elements"]["top-up"].is_array()
    });
    step("phone width");

    // Topping up from Settings: 1 T cycles from this identity's ledger account (minted on the
    // local replica) reach the vault.
    let cycles = || {
        rt.block_on(async {
            let vault = owner.open().await;
            vault.connection().funds(vault.id()).await.unwrap().cycles
        })
    };
    let before = cycles();
    phone.click("top-up");
    phone.wait("the top-up", 60, |r| {
        r["text"]
            .as_str()
            .is_some_and(|t| t.contains("Sent 1 T cycles to your vault"))
    });
    let after = cycles();
    assert!(
        after > before + 990_000_000_000 && after <= before + 1_000_000_000_000,
        "{before} -> {after}"
    );
    // And in ICP (0.5, as the app offers first): through the ICP ledger and the CMC, which
    // answers Processing for a moment, at the local rate of 3 T cycles an ICP.
    let before = after;
    phone.click("top-up-icp");
    phone.wait("the ICP top-up", 90, |r| {
        r["text"]
            .as_str()
            .is_some_and(|t| t.contains("Sent 1.500 T cycles to your vault, for 0.5 ICP"))
    });
    let after = cycles();
    assert!(
        after > before + 1_490_000_000_000 && after <= before + 1_500_000_000_000,
        "{before} -> {after}"
    );
    step("topped up");

    // Last (a video player in Xvfb is the heaviest thing the test runs): back to the photos,
    // where the long video plays from byte ranges: its player reads what it needs (its length and
    // size from the index at the front) from the app's video server (client/app/src/media.rs),
    // only the chunks those bytes are in decrypted; it is not fetched whole first.
    let name = long.file_name().unwrap().to_str().unwrap();
    phone.click("nav-photos");
    phone.wait("the photos again", 30, |r| {
        r["screen"] == "Photos" && r["elements"][format!("tile:{name}")].is_array()
    });
    phone.click(&format!("tile:{name}"));
    let playing = phone.wait("the video's first bytes", 60, |r| {
        r["video"]["ready"].as_u64() >= Some(1) || !r["video"]["error"].is_null()
    });
    let video = &playing["video"];
    assert!(video["error"].is_null(), "{video:#}");
    assert_eq!(
        (&video["width"], &video["height"]),
        (&1280.into(), &720.into()),
        "{video:#}"
    );
    assert!(
        (video["duration"].as_f64().unwrap() - 60.0).abs() < 1.0,
        "{video:#}"
    );
    let (ranges, chunks) = (
        playing["media_ranges"].as_u64().unwrap(),
        playing["media_chunks"].as_u64().unwrap(),
    );
    // GStreamer asks for a byte range, or (in some runs) reads the whole file's answer only as
    // far as it needs: either way the server streams a piece at a time and decrypts only what
    // was read (the bound below); the ranges themselves are checked with curl after.
    // (Its player reads ahead of what it shows, 16-29 MiB here: bounded whatever the length.)
    assert!(
        chunks < 115 / 2,
        "{chunks} of the video's 115 chunks decrypted to start it"
    );
    println!("video: {ranges} byte ranges answered, {chunks} of 115 chunks decrypted to start it");
    // The server answers only at its launch's secret path: the same request with another
    // token, or none, learns nothing; with it, any range, streamed.
    let src = video["src"].as_str().unwrap();
    assert!(src.starts_with("http://127.0.0.1:"), "{src}");
    let (base, id) = src.rsplit_once('/').unwrap();
    let (origin, token) = base.rsplit_once('/').unwrap();
    let curl = |url: &str, args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{size_download}",
            ])
            .args(args)
            .arg(url)
            .output()
            .expect("curl runs");
        String::from_utf8(out.stdout).unwrap()
    };
    let get = |url: &str, range: &str| curl(url, &["-H", &format!("Range: {range}")]);
    let mut other = token.to_string();
    other.replace_range(..1, if token.starts_with('0') { "1" } else { "0" });
    for refused in [format!("{origin}/{other}/{id}"), format!("{origin}/{id}")] {
        assert!(get(&refused, "bytes=0-9").starts_with("404 "), "{refused}");
    }
    // Nor by another method, nor for a page that rebound a name of its own to 127.0.0.1.
    let port = origin
        .rsplit_once(':')
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap();
    let elsewhere = format!("Host: rebound.example:{port}");
    assert!(curl(src, &["-X", "POST"]).starts_with("404 "));
    assert!(curl(src, &["-H", &elsewhere]).starts_with("404 "));
    assert_eq!(get(src, "bytes=100000000-100999999"), "206 1000000");
    assert_eq!(get(src, "bytes=999999999-"), "416 0");
    screenshot("app-video.png");
    phone.click("viewer-close");
    phone.wait("the timeline again", 30, |r| r["video"].is_null());
    step("video started");

    // Nothing is left running: the windows close, and the replica the test started stops with
    // its users (it once ran on, its state directory deleted, long after the test).
    drop(phone);
    let homes = [
        owner.home.path().to_path_buf(),
        friend.home.path().to_path_buf(),
    ];
    drop(owner);
    drop(friend);
    for home in &homes {
        let left = processes_naming(home);
        assert!(left.is_empty(), "still running: {left:?}");
    }
}
