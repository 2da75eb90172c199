//! Sharing links in a real browser: the owner makes a vault, an album and links with the real
//! `vault` binary on a real local replica; Debian's Chromium (driven by playwright-core from
//! npm, `tests/browser/viewer.mjs`) opens them through the replica's HTTP gateway, which
//! verifies the viewer's certification as the IC's gateways do, and checks what a recipient
//! sees: thumbnails, full images pixel for pixel, byte-identical downloads, the password form,
//! and the pages of revoked, expired, damaged and unknown links. Screenshots (one at phone
//! size, 390x844) are kept in `target/test-artifacts/viewer/`.
//!
//! The replica plays one dishonest node (`LOCAL_REPLICA_DISHONEST_ANSWER`, see
//! local-replica's gateway): at [`TROJAN_PATH`] it answers with a service worker that would
//! take over the viewer's whole origin, keeping the certificate of the canister's real answer.
//! The browser must never run it there, and the links must open all the same.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use vault_e2e::cli::*;
use vault_e2e::{browser_tests, chromium};

/// What the browser test needs to know of an uploaded file.
fn described(listing: &Value, name: &str, path: &Path) -> Value {
    let f = listing
        .as_array()
        .expect("a listing")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in {listing}"));
    json!({
        "id": f["id"], "name": name, "path": path, "mime": f["mime"],
        "width": f["width"], "height": f["height"], "orientation": f["orientation"].as_u64().unwrap_or(1),
    })
}

/// Where the dishonest node answers with its script: under the API, which a gateway once let
/// through unverified on the viewer's origin.
const TROJAN_PATH: &str = "/s/api/sw.js";

/// The node's script: it claims every page of its origin and answers each with a trojan
/// viewer (one that would take the fragment's secret and the password).
const TROJAN: &str = "self.addEventListener('install', (e) => e.waitUntil(self.skipWaiting()));\n\
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));\n\
self.addEventListener('fetch', (e) => e.respondWith(new Response(\n\
  '<!doctype html><title>Shared with you</title><body data-state=\"trojan\">a trojan viewer</body>',\n\
  { headers: { 'content-type': 'text/html' } })));\n";

/// The file that makes the replica answer [`TROJAN_PATH`] as a dishonest node would.
fn dishonest_answer(user: &User) -> PathBuf {
    let file = user.path("dishonest-answer");
    let answer = format!(
        "{TROJAN_PATH} 200\ncontent-type: text/javascript\nservice-worker-allowed: /\n\
         cache-control: no-store\n\n{TROJAN}"
    );
    std::fs::write(&file, answer).unwrap();
    file
}

/// `url` with one character of its fragment changed: its checksum fails.
fn damaged(url: &str) -> String {
    let (base, fragment) = url.split_once('#').expect("a fragment");
    let mut chars: Vec<char> = fragment.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    format!("{base}#{}", chars.into_iter().collect::<String>())
}

#[test]
fn link_recipients_see_photos_in_a_browser() {
    let chromium = chromium();
    let owner = User::first();
    // The first command starts the replica: as one dishonest node.
    let dishonest = dishonest_answer(&owner);
    let started = owner.run_with(
        &[
            ("VAULT_PASSPHRASE", PASSPHRASE),
            (
                "LOCAL_REPLICA_DISHONEST_ANSWER",
                dishonest.to_str().unwrap(),
            ),
        ],
        &["--json", "init", "--kdf", "minimum"],
    );
    assert!(
        started.status.success(),
        "init: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    let photos = photos();
    let rotated = photos.join("exif/right.jpg");
    let camera = photos.join("full/sony-alpha-6000.jpg");
    let small = photos.join("exif/test3.jpg");
    let video = photos.join("video/sample.mp4");
    owner.ok(&["album", "create", "Summer in Lisbon"]);
    let album = "Summer in Lisbon";
    for path in [&rotated, &camera] {
        owner.ok(&["upload", "--album", album, path.to_str().unwrap()]);
    }
    // A link made before a rotation of the album's key, then a person shared with and
    // revoked (which rotates the key), then files added under the new key: the link must
    // open the files of both versions.
    let before = owner.json(&["link", "create", album]);
    let friend = User::beside(&owner);
    friend.init();
    let code = friend.json(&["identity", "show"]);
    owner.ok(&[
        "share",
        album,
        "--with",
        code["share_code"].as_str().unwrap(),
    ]);
    owner.ok(&[
        "revoke",
        album,
        "--from",
        code["principal"].as_str().unwrap(),
    ]);
    for path in [&small, &video] {
        owner.ok(&["upload", "--album", album, path.to_str().unwrap()]);
    }
    let listing = owner.json(&["ls", "--album", album]);
    assert_eq!(listing.as_array().unwrap().len(), 4);
    // A link made after the rotation, with a password.
    let password = owner.json(&["link", "create", album, "--password", "pastéis de nata"]);
    let small_id = described(&listing, "test3.jpg", &small)["id"].clone();
    let file = owner.json(&["link", "create", small_id.as_str().unwrap()]);
    let revoked = owner.json(&["link", "create", album]);
    owner.ok(&["link", "revoke", revoked["url"].as_str().unwrap()]);
    let expired = owner.json(&["link", "create", album, "--expires", "2s"]);
    // A video long enough to stream, alone behind a link.
    let long = vault_e2e::long_video();
    owner.ok(&["upload", long.to_str().unwrap()]);
    let everything = owner.json(&["ls"]);
    let long_id = described(&everything, "long-video.mp4", long)["id"].clone();
    let streamed = owner.json(&["link", "create", long_id.as_str().unwrap()]);
    // A well-formed link this vault never made: FORMAT.md's vector.
    let unknown = {
        let vector = vault_e2e::repo().join("crypto/tests/vectors/link-no-password.txt");
        let vector = std::fs::read_to_string(vector).unwrap();
        let fragment = vector
            .lines()
            .find_map(|l| l.strip_prefix("fragment: "))
            .expect("the vector's fragment");
        let (base, _) = before["url"].as_str().unwrap().split_once('#').unwrap();
        format!("{base}#{fragment}")
    };
    std::thread::sleep(Duration::from_secs(3));

    let artifacts = vault_e2e::artifacts().join("viewer");
    let config = json!({
        "chromium": chromium,
        "artifacts": artifacts,
        "album": {
            "url": before["url"],
            "name": album,
            "files": [
                described(&listing, "right.jpg", &rotated),
                described(&listing, "sony-alpha-6000.jpg", &camera),
                described(&listing, "test3.jpg", &small),
                described(&listing, "sample.mp4", &video),
            ],
        },
        "password": { "url": password["url"], "password": "pastéis de nata" },
        "file": { "url": file["url"], "id": small_id, "name": "test3.jpg", "path": small },
        "video": {
            "url": streamed["url"],
            "id": long_id,
            "name": "long-video.mp4",
            "path": long,
            "size": std::fs::metadata(long).unwrap().len(),
        },
        "revoked": revoked["url"],
        "expired": expired["url"],
        "damaged": damaged(before["url"].as_str().unwrap()),
        "unknown": unknown,
        "trojan": TROJAN_PATH,
    });
    let config_file = owner.path("viewer.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let out = Command::new("node")
        .arg(browser_tests().join("viewer.mjs"))
        .arg(&config_file)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("viewer: all checks passed"),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opened = owner.json(&["link", "ls"]);
    let counted = opened
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["url"] == before["url"])
        .unwrap();
    assert!(
        counted["opened"].as_u64().unwrap() >= 2,
        "the browser's openings were counted: {counted}"
    );
}
