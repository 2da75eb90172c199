//! The `vault` command line end to end: the real binary, a real local replica process (the
//! binary's embedded one, started on first use), the real canister wasm, ic-agent over HTTP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use vault_e2e::cli::*;

fn ids(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn exiftool(dir: &Path) -> Vec<Value> {
    let out = Command::new("exiftool")
        .args([
            "-j",
            "-n",
            "-DateTimeOriginal",
            "-Orientation",
            "-ImageWidth",
            "-ImageHeight",
        ])
        .arg(dir)
        .output()
        .expect(
            "exiftool is installed (Debian libimage-exiftool-perl; scripts/test-all installs it)",
        );
    serde_json::from_slice(&out.stdout).expect("exiftool -j")
}

#[test]
fn owner_uploads_exports_organises_and_frees_space() {
    let me = User::first();
    me.init();
    let exif = photos().join("exif");
    let full = photos().join("full");
    let up = me.json(&["upload", exif.to_str().unwrap(), full.to_str().unwrap()]);
    let originals: BTreeMap<String, Vec<u8>> =
        files_in(&exif).into_iter().chain(files_in(&full)).collect();
    assert!(up["failed"].as_array().unwrap().is_empty(), "{up}");
    let file_count = files_in(&exif).len() + files_in(&full).len();
    assert_eq!(up["files"].as_array().unwrap().len(), file_count);
    // The same photo in two folders is stored once.
    let uploaded: BTreeMap<String, Vec<u8>> = up["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "uploaded")
        .map(|f| {
            let path = PathBuf::from(f["path"].as_str().unwrap());
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    let stored = uploaded.len();
    let distinct: std::collections::BTreeSet<&Vec<u8>> = originals.values().collect();
    assert_eq!(stored, distinct.len());

    // The timeline holds them all, newest taken first, with what exiftool reads.
    let listing = me.json(&["ls"]);
    assert_eq!(ids(&listing).len(), stored);
    let taken: Vec<i64> = listing
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["taken_at_ms"].as_i64())
        .collect();
    assert!(
        taken.windows(2).all(|w| w[0] >= w[1]),
        "timeline order: {taken:?}"
    );
    let by_name: BTreeMap<String, &Value> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), f))
        .collect();
    let mut compared = 0;
    for tool in exiftool(&exif) {
        let name = Path::new(tool["SourceFile"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let ours = by_name[&name];
        if let Some(date) = tool["DateTimeOriginal"]
            .as_str()
            .filter(|d| d.len() >= 19 && !d.starts_with("0000"))
        {
            let expected = format!(
                "{}-{}-{}T{}",
                &date[0..4],
                &date[5..7],
                &date[8..10],
                &date[11..19]
            );
            assert!(
                ours["taken_at"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with(&expected),
                "{name}: {} vs exiftool {date}",
                ours["taken_at"]
            );
            compared += 1;
        }
        if let Some(o) = tool["Orientation"].as_u64() {
            assert_eq!(ours["orientation"].as_u64(), Some(o), "{name} orientation");
        }
        if let (Some(w), Some(h)) = (tool["ImageWidth"].as_u64(), tool["ImageHeight"].as_u64()) {
            assert_eq!(
                (ours["width"].as_u64(), ours["height"].as_u64()),
                (Some(w), Some(h)),
                "{name} dimensions"
            );
        }
    }
    assert!(compared >= 5, "only {compared} files had dates to compare");

    // Export is byte-identical, under the original names.
    let out = me.path("export");
    me.ok(&["export", "--all", "--to", out.to_str().unwrap()]);
    assert_eq!(files_in(&out), uploaded);

    // Uploading the same files again stores nothing twice.
    let again = me.json(&["upload", exif.to_str().unwrap()]);
    assert!(
        again["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["outcome"] == "duplicate"),
        "{again}"
    );

    // Albums.
    me.ok(&["album", "create", "Sony"]);
    let sony = by_name["sony-alpha-6000.jpg"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let right = by_name["right.jpg"]["id"].as_str().unwrap().to_string();
    me.ok(&["album", "add", "Sony", &sony[..8], &right]);
    assert_eq!(ids(&me.json(&["ls", "--album", "Sony"])).len(), 2);
    me.ok(&["album", "rename", "Sony", "Cameras"]);
    let albums = me.json(&["album", "ls"]);
    assert_eq!(albums[0]["name"], "Cameras");
    assert_eq!(albums[0]["files"], 2);
    me.fails(1, "not now", &["album", "delete", "Cameras"]);
    me.ok(&["album", "remove", &right]);
    assert_eq!(
        ids(&me.json(&["ls", "--album", "Cameras"])),
        vec![sony.clone()]
    );

    // Trash hides, restore brings back, purge frees the space.
    let before = me.json(&["status"]);
    me.ok(&["trash", &sony]);
    assert!(!ids(&me.json(&["ls"])).contains(&sony));
    assert_eq!(ids(&me.json(&["ls", "--trash"])), vec![sony.clone()]);
    me.ok(&["restore", &sony]);
    assert!(ids(&me.json(&["ls"])).contains(&sony));
    me.ok(&["trash", &sony]);
    me.ok(&["purge", "--all"]);
    let after = me.json(&["status"]);
    let freed = before["used_bytes"].as_u64().unwrap() - after["used_bytes"].as_u64().unwrap();
    assert!(
        freed > originals["sony-alpha-6000.jpg"].len() as u64,
        "purge freed {freed}"
    );
    assert_eq!(after["files"].as_u64().unwrap(), stored as u64 - 1);
    assert!(me.json(&["ls", "--trash"]).as_array().unwrap().is_empty());

    // The activity log recorded it.
    let log = me.json(&["log", "--limit", "500"]);
    let kinds: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "FilePurged",
        "FileTrashed",
        "FileRestored",
        "AlbumRenamed",
        "FileMoved",
        "AlbumCreated",
        "FileUploaded",
        "SetUp",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}

#[test]
fn friend_reads_a_shared_album_until_revoked_and_never_what_came_after() {
    let owner = User::first();
    let (vault, _) = owner.init();
    let friend = User::beside(&owner);
    friend.init();
    let code = friend.json(&["identity", "show"]);
    let share_code = code["share_code"].as_str().unwrap();
    let friend_principal = code["principal"].as_str().unwrap();
    assert_eq!(code["fingerprint"].as_str().unwrap().split(' ').count(), 6);

    let exif = photos().join("exif");
    let up = owner.json(&[
        "upload",
        exif.join("right.jpg").to_str().unwrap(),
        exif.join("test1.jpg").to_str().unwrap(),
    ]);
    let shared_ids: Vec<String> = up["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    owner.ok(&["album", "create", "Family"]);
    let mut add = vec!["album", "add", "Family"];
    add.extend(shared_ids.iter().map(String::as_str));
    owner.ok(&add);
    owner.ok(&["share", "Family", "--with", share_code, "--expires", "7d"]);
    let grants = owner.json(&["grants"]);
    assert_eq!(grants[0]["grantee"], friend_principal);
    assert_eq!(grants[0]["name"], "Family");

    // The friend sees it, lists and exports it.
    let shared = &friend.json(&["shared", "--from", &vault])["shared"];
    assert_eq!(shared[0]["name"], "Family");
    assert_eq!(shared[0]["permission"], "view");
    let listing = friend.json(&["ls", "--from", &vault, "--album", "Family"]);
    let mut seen = ids(&listing);
    seen.sort();
    let mut expected = shared_ids.clone();
    expected.sort();
    assert_eq!(seen, expected);
    let out = friend.path("family");
    friend.ok(&[
        "export",
        "--from",
        &vault,
        "--all",
        "--to",
        out.to_str().unwrap(),
    ]);
    let got = files_in(&out);
    assert_eq!(
        got["right.jpg"],
        std::fs::read(exif.join("right.jpg")).unwrap()
    );
    // An id that is not shared is not found (it once exported nothing and said so, exit 0).
    friend.fails(
        5,
        "is shared with you",
        &[
            "export",
            "0123456789ab",
            "--from",
            &vault,
            "--to",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        got["test1.jpg"],
        std::fs::read(exif.join("test1.jpg")).unwrap()
    );

    // Contributing: into an album shared with --contribute, not into a view-only one.
    owner.ok(&["album", "create", "Together"]);
    owner.ok(&["share", "Together", "--with", share_code, "--contribute"]);
    let added = friend.json(&[
        "upload",
        "--to",
        &vault,
        "--album",
        "Together",
        exif.join("test3.jpg").to_str().unwrap(),
    ]);
    assert_eq!(added["files"][0]["outcome"], "uploaded", "{added}");
    let together = owner.json(&["ls", "--album", "Together"]);
    assert_eq!(together[0]["name"], "test3.jpg");
    assert_eq!(together[0]["uploader"], friend_principal);
    friend.fails(
        2,
        "view only",
        &[
            "upload",
            "--to",
            &vault,
            "--album",
            "Family",
            exif.join("test2.jpg").to_str().unwrap(),
        ],
    );

    // Revoked: nothing is shared any more, the canister refuses the album, and its key rotated.
    let album_id = owner.json(&["album", "ls"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(friend_lists(&friend, &vault, &album_id).is_ok());
    owner.ok(&["revoke", "Family", "--from", friend_principal]);
    friend.fails(
        5,
        "nothing shared with you",
        &["ls", "--from", &vault, "--album", "Family"],
    );
    let still = &friend.json(&["shared"])["shared"];
    assert!(
        still
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "Family"),
        "{still}"
    );
    assert!(matches!(
        friend_lists(&friend, &vault, &album_id),
        Err(vault_client::Error::Vault(
            vault_client::types::VaultError::NotAuthorized
        ))
    ));
    assert_eq!(owner.json(&["album", "ls"])[0]["key_version"], 1);
    assert_eq!(
        owner.json(&["album", "ls"])[0]["name"],
        "Family",
        "the name is sealed again under the new key"
    );

    // A photo added afterwards is under the new key: not even its ciphertext would open with
    // the keys the friend held (checked below with the friend's old keyring).
    let later = owner.json(&[
        "upload",
        "--album",
        "Family",
        exif.join("test2.jpg").to_str().unwrap(),
    ]);
    let later_id = later["files"][0]["id"].as_str().unwrap().to_string();
    let files = owner.json(&["ls", "--album", "Family"]);
    assert_eq!(ids(&files).len(), 3);
    assert!(held_keys_open(&owner, &vault, &shared_ids[0]));
    assert!(!held_keys_open(&owner, &vault, &later_id));
}

/// The owner's album as the friend's identity asks the canister for it directly.
fn friend_lists(friend: &User, vault: &str, album: &str) -> Result<usize, vault_client::Error> {
    use vault_client::{Home, Identity};
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let home = Home::at(friend.home.path());
        let net = vault_client::Network::Local { port: friend.port };
        let launcher = || Command::new("false");
        let conn =
            vault_client::replica::open(&home, net, Identity::load(&home).unwrap(), &launcher)
                .await
                .unwrap();
        let canister = conn.vault(candid::Principal::from_text(vault).unwrap());
        let page = canister
            .list_files(vault_client::types::ListFilesArgs {
                album: Some(serde_bytes::ByteBuf::from(hex::decode(album).unwrap())),
                ..Default::default()
            })
            .await?;
        Ok(page.files.len())
    })
}

/// The owner's unlocked vault in this process (from the CLI's session), with a runtime to drive it.
fn owner_vault(owner: &User, vault: &str) -> (tokio::runtime::Runtime, vault_client::Vault) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (home, conn) = connection(owner, &runtime);
    let id = candid::Principal::from_text(vault).unwrap();
    let v = vault_client::Vault::from_session(&home, conn, id).unwrap();
    (runtime, v)
}

/// `user`'s home and a connection as their identity to the replica they use (already running).
fn connection(
    user: &User,
    runtime: &tokio::runtime::Runtime,
) -> (vault_client::Home, vault_client::Connection) {
    let home = vault_client::Home::at(user.home.path());
    let (identity, _) = vault_client::Identity::load_or_create(&home).unwrap();
    let launcher = || Command::new("false");
    let net = vault_client::Network::Local { port: user.port };
    let conn = runtime
        .block_on(vault_client::replica::open(&home, net, identity, &launcher))
        .unwrap();
    (home, conn)
}

/// Issue 16 findings 3 and 5: revoking one person from an album whose other grants are an
/// expired one and one made before grants carried the owner's authenticator. The revoke
/// succeeds (it used to fail with `InvalidArgument("grants")` and leave the person their grant);
/// the expired grant is dropped; the older grant is confirmed by the canister and authenticated,
/// and its grantee can read what is added after the rotation.
#[test]
fn a_revoke_beside_an_expired_grant_and_an_older_grant_rotates_to_the_rest() {
    use vault_client::types::{GrantArgs, Target};
    let owner = User::first();
    let (vault, _) = owner.init();
    let people: Vec<User> = (0..3).map(|_| User::beside(&owner)).collect();
    let codes: Vec<Value> = people
        .iter()
        .map(|u| {
            u.init();
            u.json(&["identity", "show"])
        })
        .collect();
    let code = |i: usize| codes[i]["share_code"].as_str().unwrap().to_string();
    let principal = |i: usize| codes[i]["principal"].as_str().unwrap().to_string();
    let exif = photos().join("exif");
    owner.ok(&["album", "create", "Trip"]);
    owner.ok(&[
        "upload",
        "--album",
        "Trip",
        exif.join("right.jpg").to_str().unwrap(),
    ]);
    owner.ok(&["share", "Trip", "--with", &code(0), "--expires", "2s"]);
    owner.ok(&["share", "Trip", "--with", &code(1)]);
    owner.ok(&["share", "Trip", "--with", &code(2)]);

    // Person 1's grant as a client made it before grants carried an authenticator: the same
    // grant, re-granted without one.
    let (runtime, owner_vault) = owner_vault(&owner, &vault);
    let authenticated = |p: &str| {
        runtime.block_on(async {
            owner_vault
                .canister()
                .list_grants(None)
                .await
                .unwrap()
                .into_iter()
                .find(|g| g.grantee.to_text() == p)
                .map(|g| g.authenticator.is_some())
        })
    };
    assert_eq!(
        authenticated(&principal(1)),
        Some(true),
        "share authenticates"
    );
    runtime.block_on(async {
        let g = owner_vault
            .canister()
            .list_grants(None)
            .await
            .unwrap()
            .into_iter()
            .find(|g| g.grantee.to_text() == principal(1))
            .unwrap();
        assert!(matches!(g.target, Target::Album(_)));
        owner_vault
            .canister()
            .grant(GrantArgs {
                target: g.target,
                grantee: g.grantee,
                grantee_key: g.grantee_key.unwrap(),
                permission: g.permission,
                sealed_keys: g.sealed_keys,
                expires_at: g.expires_at,
                authenticator: None,
            })
            .await
            .unwrap();
    });
    assert_eq!(authenticated(&principal(1)), Some(false));

    std::thread::sleep(Duration::from_secs(3));
    owner.ok(&["revoke", "Trip", "--from", &principal(2)]);
    let grants = owner.json(&["grants"]);
    let left: Vec<&str> = grants
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["grantee"].as_str().unwrap())
        .collect();
    assert_eq!(left, vec![principal(1).as_str()], "{grants}");
    assert_eq!(
        authenticated(&principal(1)),
        Some(true),
        "confirmed, then authenticated"
    );
    assert_eq!(owner.json(&["album", "ls"])[0]["key_version"], 1);

    // The new key reached person 1: a photo added now opens for them.
    owner.ok(&[
        "upload",
        "--album",
        "Trip",
        exif.join("test1.jpg").to_str().unwrap(),
    ]);
    let out = people[1].path("trip");
    people[1].ok(&[
        "export",
        "--from",
        &vault,
        "--all",
        "--to",
        out.to_str().unwrap(),
    ]);
    let got = files_in(&out);
    assert_eq!(
        got["test1.jpg"],
        std::fs::read(exif.join("test1.jpg")).unwrap()
    );
    assert_eq!(got.len(), 2);
}

/// Whether version 0 of the album key — the one sealed to the friend before the revoke — opens
/// the key of file `id` (fetched by the owner, as if its ciphertext had leaked).
fn held_keys_open(owner: &User, vault: &str, id: &str) -> bool {
    use vault_client::{Home, Identity, Vault};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let launcher = || Command::new("false");
        let home = Home::at(owner.home.path());
        let net = vault_client::Network::Local { port: owner.port };
        let conn =
            vault_client::replica::open(&home, net, Identity::load(&home).unwrap(), &launcher)
                .await
                .unwrap();
        let canister = candid::Principal::from_text(vault).unwrap();
        let mut owner_vault = Vault::from_session(&home, conn, canister).unwrap();
        let info = owner_vault
            .canister()
            .get_file(&vault_client::vault::hex_id(id).unwrap(), None)
            .await
            .unwrap();
        let album: [u8; 16] = info
            .album
            .as_deref()
            .unwrap()
            .as_slice()
            .try_into()
            .unwrap();
        owner_vault.load_albums().await.unwrap();
        let version_0 = owner_vault
            .reader()
            .keys
            .album_key(&album, 0)
            .unwrap()
            .clone();
        let mut held = vault_client::keyring::Keyring::default();
        held.add_album_key(album, 0, version_0);
        held.file_key(&info).is_ok()
    })
}

#[test]
fn links_open_and_refuse_when_expired_revoked_or_wrong_password() {
    let owner = User::first();
    owner.init();
    let exif = photos().join("exif");
    owner.ok(&["album", "create", "Trip"]);
    let up = owner.json(&[
        "upload",
        "--album",
        "Trip",
        exif.join("right.jpg").to_str().unwrap(),
        exif.join("test3.jpg").to_str().unwrap(),
    ]);
    assert_eq!(up["files"].as_array().unwrap().len(), 2, "{up}");

    let stranger = User::beside(&owner);
    let link = owner.json(&["link", "create", "Trip", "--label", "for Grandma"]);
    let url = link["url"].as_str().unwrap().to_string();
    assert!(url.contains(".localhost:") && url.contains("/s#"), "{url}");
    let opened = stranger.json(&["link", "open", &url]);
    assert_eq!(opened["album"], "Trip");
    assert_eq!(opened["files"].as_array().unwrap().len(), 2);
    let out = stranger.path("from-link");
    stranger.ok(&["link", "open", &url, "--export", out.to_str().unwrap()]);
    assert_eq!(
        files_in(&out)["test3.jpg"],
        std::fs::read(exif.join("test3.jpg")).unwrap()
    );
    let links = owner.json(&["link", "ls"]);
    assert_eq!(
        links[0]["url"],
        url.as_str(),
        "the owner sees the URL again"
    );
    assert_eq!(links[0]["label"], "for Grandma");
    assert!(links[0]["opened"].as_u64().unwrap() >= 2);

    // Password.
    let pw = owner.json(&["link", "create", "Trip", "--password", "open sesame"]);
    let pw_url = pw["url"].as_str().unwrap();
    stranger.fails(4, "password", &["link", "open", pw_url]);
    stranger.fails(
        4,
        "wrong link password",
        &["link", "open", pw_url, "--password", "guess"],
    );
    assert_eq!(
        stranger.json(&["link", "open", pw_url, "--password", "open sesame"])["files"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A damaged fragment.
    let mut damaged = url.clone();
    let last = damaged.pop().unwrap();
    damaged.push(if last == 'A' { 'B' } else { 'A' });
    stranger.fails(2, "damaged link", &["link", "open", &damaged]);

    // Expired.
    let short = owner.json(&["link", "create", "Trip", "--expires", "2s"]);
    std::thread::sleep(Duration::from_secs(3));
    // (It said "this share has expired" once: a link is not a share.)
    stranger.fails(
        9,
        "this link has expired",
        &["link", "open", short["url"].as_str().unwrap()],
    );

    // Revoked: the album's key is rotated, as for a revoked person, and the links still live
    // get the new key (a photo added afterwards opens through them).
    let version = |albums: Value| albums[0]["key_version"].as_u64().unwrap();
    let before = version(owner.json(&["album", "ls"]));
    owner.ok(&["link", "revoke", &url]);
    stranger.fails(9, "revoked", &["link", "open", &url]);
    assert_eq!(version(owner.json(&["album", "ls"])), before + 1);
    owner.ok(&[
        "upload",
        "--album",
        "Trip",
        exif.join("test1.jpg").to_str().unwrap(),
    ]);
    let after = stranger.json(&["link", "open", pw_url, "--password", "open sesame"]);
    assert_eq!(after["files"].as_array().unwrap().len(), 3, "{after}");
    // A link to a file alone.
    let file_id = up["files"][1]["id"].as_str().unwrap();
    let file_link = owner.json(&["link", "create", file_id]);
    let one = stranger.json(&["link", "open", file_link["url"].as_str().unwrap()]);
    assert_eq!(one["files"][0]["name"], "test3.jpg");
}

#[test]
fn an_upload_killed_midway_resumes_without_resending() {
    let me = User::first();
    me.init();
    // 40 chunks of incompressible bytes.
    let big = me.path("big.bin");
    let mut bytes = vec![0u8; 40 << 20];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for b in bytes.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(&big, &bytes).unwrap();
    let log = me.path("chunks.log");
    let mut child = me
        .command(&["upload", big.to_str().unwrap()])
        .env("VAULT_CHUNK_LOG", &log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sent = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count();
        if sent >= 12 {
            break;
        }
        assert!(Instant::now() < deadline, "the upload did not start");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let first: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        first.len() < 40,
        "killed after {} of 40 chunks",
        first.len()
    );

    let again = me
        .command(&["--json", "upload", big.to_str().unwrap()])
        .env("VAULT_CHUNK_LOG", &log)
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["outcome"], "resumed");
    let rerun_sent = file["chunks_sent"].as_u64().unwrap() as usize;
    let all: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let second = &all[first.len()..];
    assert_eq!(second.len(), rerun_sent);
    // Only chunks the canister lacked were sent again: at most those in flight at the kill.
    assert!(
        first.len() + rerun_sent <= 40 + vault_client::upload::CHUNKS_IN_FLIGHT,
        "{} + {rerun_sent} sends for 40 chunks",
        first.len()
    );
    let distinct: std::collections::BTreeSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 40, "every chunk sent");
    let out = me.path("out");
    me.ok(&["export", "--all", "--to", out.to_str().unwrap()]);
    assert!(
        std::fs::read(out.join("big.bin")).unwrap() == bytes,
        "the resumed upload is byte-identical"
    );
}

/// An upload stopped midway holds its reservation until it expires: the owner sees it with
/// `vault uploads` and frees it with `vault uploads --abort`.
#[test]
fn the_owner_lists_an_upload_left_midway_and_aborts_it() {
    let me = User::first();
    me.init();
    // 16 chunks of incompressible bytes.
    let big = me.path("big.bin");
    let mut bytes = vec![0u8; 16 << 20];
    let mut x: u64 = 0x2545F4914F6CDD1D;
    for b in bytes.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(&big, &bytes).unwrap();
    assert!(
        me.json(&["uploads"]).as_array().unwrap().is_empty(),
        "nothing in progress yet"
    );
    let log = me.path("chunks.log");
    let mut child = me
        .command(&["upload", big.to_str().unwrap()])
        .env("VAULT_CHUNK_LOG", &log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "the upload did not start");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let uploads = me.json(&["uploads"]);
    let uploads = uploads.as_array().unwrap();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    let upload = &uploads[0];
    assert_eq!(upload["mine"], true);
    assert_eq!(upload["chunk_count"], 16);
    assert!(upload["chunks_received"].as_u64().unwrap() < 16, "{upload}");
    let reserved = upload["reserved_bytes"].as_u64().unwrap();
    assert!(reserved > 16 << 20, "reserves {reserved}");
    assert_eq!(
        me.json(&["status"])["reserved_bytes"].as_u64().unwrap(),
        reserved
    );
    let text = me.ok(&["uploads"]);
    assert!(
        text.contains("you") && text.contains("/16 chunks"),
        "{text}"
    );

    me.fails(5, "no upload in progress", &["uploads", "--abort", "ffff"]);
    let id = upload["id"].as_str().unwrap();
    let said = me.ok(&["uploads", "--abort", &id[..8]]);
    assert!(said.contains("aborted upload"), "{said}");
    assert!(me.json(&["uploads"]).as_array().unwrap().is_empty());
    assert_eq!(me.json(&["status"])["reserved_bytes"].as_u64().unwrap(), 0);
    // Nothing of it became a file.
    assert!(me.json(&["ls"]).as_array().unwrap().is_empty());
}

#[test]
fn wrong_passphrase_is_refused_and_the_recovery_key_recovers() {
    let me = User::first();
    let (vault, words) = me.init();
    me.ok(&["lock"]);
    me.fails(3, "locked", &["ls"]);
    let out = me.run_with(&[("VAULT_PASSPHRASE", "not the passphrase")], &["unlock"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = me.run_with(&[("VAULT_PASSPHRASE", PASSPHRASE)], &["unlock"]);
    assert!(out.status.success());
    me.ok(&["ls"]);

    // A second device: its own identity, unlocking with the passphrase.
    let laptop = User::beside(&me);
    let out = laptop.run_with(
        &[("VAULT_PASSPHRASE", "wrong again")],
        &["unlock", "--canister", &vault],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = laptop.run_with(
        &[("VAULT_PASSPHRASE", PASSPHRASE)],
        &["unlock", "--canister", &vault],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(laptop.json(&["status"])["canister"], vault.as_str());
    let laptop_principal = laptop.json(&["status"])["principal"]
        .as_str()
        .unwrap()
        .to_string();
    let devices = me.json(&["devices"]);
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["principal"] == laptop_principal.as_str()),
        "{devices}"
    );
    laptop.ok(&["ls"]);

    // A third, with the recovery key, setting a new passphrase.
    let phone = User::beside(&me);
    phone.fails(2, "recovery key", &["recover", "--canister", &vault]);
    let out = phone.run_with(
        &[
            ("VAULT_RECOVERY_KEY", &words),
            ("VAULT_NEW_PASSPHRASE", "a brand new passphrase"),
        ],
        &["recover", "--canister", &vault, "--kdf", "minimum"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    phone.ok(&["ls"]);
    me.ok(&["lock"]);
    let out = me.run_with(&[("VAULT_PASSPHRASE", PASSPHRASE)], &["unlock"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "the old passphrase no longer opens it"
    );
    let out = me.run_with(
        &[("VAULT_PASSPHRASE", "a brand new passphrase")],
        &["unlock"],
    );
    assert!(out.status.success());
    let log = me.json(&["log"]);
    let kinds: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"DeviceRefused")
            && kinds.contains(&"DeviceAdmitted")
            && kinds.contains(&"PassphraseChanged"),
        "{kinds:?}"
    );
}

/// Finding 16.4 and 10d through the real wasm: a stranger's wrong passphrases do not lock the
/// owner's new device out; a device locked out by its own typos is let back in by a device
/// already unlocked; a replaced recovery key stops working and its new words recover.
#[test]
fn lockouts_are_per_device_and_the_recovery_key_can_be_replaced() {
    let me = User::first();
    let (vault, old_words) = me.init();
    let stranger = User::beside(&me);
    // Wrong guesses until the stranger is locked out for 8 s or more (lock-outs double).
    let mut locked_for = 0;
    for _ in 0..40 {
        let out = stranger.run_with(
            &[("VAULT_PASSPHRASE", "a guess")],
            &["unlock", "--canister", &vault],
        );
        assert_eq!(out.status.code(), Some(4));
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if let Some(rest) = err.split("try again in ").nth(1) {
            locked_for = rest.split(' ').next().unwrap().parse::<u64>().unwrap();
            if locked_for >= 8 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(locked_for));
        }
    }
    assert!(locked_for >= 8, "never locked out");
    // Even with the right passphrase, the stranger's principal waits.
    let err = String::from_utf8_lossy(
        &stranger
            .run_with(
                &[("VAULT_PASSPHRASE", PASSPHRASE)],
                &["unlock", "--canister", &vault],
            )
            .stderr,
    )
    .to_string();
    assert!(err.contains("too many wrong passphrases"), "{err}");
    // The owner's new laptop, meanwhile, unlocks at once.
    let laptop = User::beside(&me);
    let out = laptop.run_with(
        &[("VAULT_PASSPHRASE", PASSPHRASE)],
        &["unlock", "--canister", &vault],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An unlocked device clears the counts: the locked-out caller may try at once.
    me.ok(&["devices", "--clear-lockouts"]);
    let out = stranger.run_with(
        &[("VAULT_PASSPHRASE", PASSPHRASE)],
        &["unlock", "--canister", &vault],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let new_words = me.json(&["recovery-key"])["recovery_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_words, old_words);
    let phone = User::beside(&me);
    let recover = |words: &str| {
        phone.run_with(
            &[
                ("VAULT_RECOVERY_KEY", words),
                ("VAULT_NEW_PASSPHRASE", "another new passphrase"),
            ],
            &["recover", "--canister", &vault, "--kdf", "minimum"],
        )
    };
    let out = recover(&old_words);
    assert_eq!(
        out.status.code(),
        Some(4),
        "the old words no longer open it: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = recover(&new_words);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    phone.ok(&["ls"]);
    let kinds: Vec<String> = me
        .json(&["log"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.iter().any(|k| k == "RecoveryKeyChanged")
            && kinds.iter().any(|k| k == "UnlockFailuresCleared"),
        "{kinds:?}"
    );
}

/// Issue 16 finding 10d: a laptop that held the master key is lost. The owner removes it and
/// rotates the master key: a new recovery key (the old words open nothing), every other device
/// signed out (each unlocks again with the passphrase), every album a new key, nothing
/// uploaded again. What was there opens for the owner, a device unlocked again and a grantee;
/// what is added afterwards opens with none of the keys the laptop held. A wrong passphrase
/// changes nothing.
#[test]
fn rotating_the_master_key_after_losing_a_device() {
    use vault_client::keyring::{Keyring, MasterKeys};
    let me = User::first();
    let (vault, old_words) = me.init();
    let friend = User::beside(&me);
    friend.init();
    let code = friend.json(&["identity", "show"])["share_code"]
        .as_str()
        .unwrap()
        .to_string();
    let exif = photos().join("exif");
    let photo = |name: &str| exif.join(name).to_str().unwrap().to_string();
    me.ok(&["album", "create", "Trip"]);
    me.ok(&["upload", "--album", "Trip", &photo("right.jpg")]);
    me.ok(&["upload", &photo("test1.jpg")]);
    me.ok(&["share", "Trip", "--with", &code]);
    let link = me.json(&["link", "create", "Trip"])["url"]
        .as_str()
        .unwrap()
        .to_string();
    let unlock = |u: &User| {
        u.run_with(
            &[("VAULT_PASSPHRASE", PASSPHRASE)],
            &["unlock", "--canister", &vault],
        )
    };
    let (laptop, phone) = (User::beside(&me), User::beside(&me));
    assert!(unlock(&laptop).status.success() && unlock(&phone).status.success());
    // What whoever finds the laptop has: its session file's master key.
    let runtime_dir = vault_client::Home::at(laptop.home.path()).runtime;
    let session = std::fs::read_dir(&runtime_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("session-")
        })
        .unwrap();
    let bytes = std::fs::read(session).unwrap();
    let stolen = vault_crypto::MasterKey::from_bytes(bytes[16..48].try_into().unwrap());
    let laptop_id = laptop.json(&["identity", "show"])["principal"]
        .as_str()
        .unwrap()
        .to_string();
    me.ok(&["devices", "--remove", &laptop_id]);

    let out = me.run_with(&[("VAULT_PASSPHRASE", "not it")], &["rotate-keys"]);
    assert_eq!(out.status.code(), Some(4), "a wrong passphrase is refused");
    assert!(phone.run(&["ls"]).status.success(), "and nothing changed");

    let out = me.run_with(
        &[("VAULT_PASSPHRASE", PASSPHRASE)],
        &["--json", "rotate-keys"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["generation"], 1, "{done}");
    assert_eq!(done["devices_signed_out"], 1, "the phone: {done}");
    assert_eq!(done["albums_rotated"], 1, "{done}");
    // The link made before the rotation is revoked (the laptop could read its secret), so the
    // album's new key is wrapped for no link the laptop knows.
    assert_eq!(done["links_revoked"], 1, "{done}");
    assert_eq!(done["live_links"], 0, "{done}");
    assert_eq!(done["grants"], 1, "the friend's, to review: {done}");
    let new_words = done["recovery_key"].as_str().unwrap().to_string();
    assert_ne!(new_words, old_words);
    assert_eq!(me.json(&["album", "ls"])[0]["key_version"], 1);
    // Run again for the albums alone: nothing left to do.
    assert_eq!(
        me.json(&["rotate-keys", "--albums-only"])["albums_rotated"],
        0
    );

    // The phone was signed out; the passphrase signs it in again, and it reads everything.
    phone.fails(4, "signed out by a key rotation", &["ls"]);
    assert!(unlock(&phone).status.success());
    assert_eq!(phone.json(&["ls"]).as_array().unwrap().len(), 2);
    // The old words open nothing; the new ones do.
    let stranger = User::beside(&me);
    let recover = |words: &str| {
        stranger.run_with(
            &[
                ("VAULT_RECOVERY_KEY", words),
                ("VAULT_NEW_PASSPHRASE", PASSPHRASE),
            ],
            &["recover", "--canister", &vault, "--kdf", "minimum"],
        )
    };
    assert_eq!(recover(&old_words).status.code(), Some(4));
    assert!(recover(&new_words).status.success());

    // Added after the rotation: one photo in the album, one in none.
    me.ok(&["upload", "--album", "Trip", &photo("test2.jpg")]);
    me.ok(&["upload", &photo("test3.jpg")]);
    let out = me.path("all");
    me.ok(&["export", "--all", "--to", out.to_str().unwrap()]);
    let got = files_in(&out);
    assert_eq!(got.len(), 4, "{:?}", got.keys());
    for name in ["right.jpg", "test1.jpg", "test2.jpg", "test3.jpg"] {
        assert_eq!(got[name], std::fs::read(exif.join(name)).unwrap(), "{name}");
    }
    // The friend and the link got the album's new key.
    let theirs = friend.path("trip");
    friend.ok(&[
        "export",
        "--from",
        &vault,
        "--all",
        "--to",
        theirs.to_str().unwrap(),
    ]);
    assert_eq!(files_in(&theirs).len(), 2);
    let holder = User::beside(&me);
    holder.fails(9, "revoked", &["link", "open", &link]);
    let new_link = me.json(&["link", "create", "Trip"])["url"]
        .as_str()
        .unwrap()
        .to_string();
    let opened = holder.json(&["link", "open", &new_link]);
    assert_eq!(opened["files"].as_array().unwrap().len(), 2);

    // The laptop's key opens what was there before (keys already handed out stay handed out)
    // and nothing added since, whoever leaks the ciphertext.
    let (runtime, mut owner) = owner_vault(&me, &vault);
    let opens: BTreeMap<String, bool> = runtime.block_on(async {
        let albums = owner.canister().list_albums().await.unwrap();
        let mut held = Keyring::owner(MasterKeys::first(stolen));
        for album in &albums {
            for (version, wrapped) in &album.wrapped_keys {
                let id: [u8; 16] = album.id.as_slice().try_into().unwrap();
                let _ = held.add_wrapped_album_key(id, *version, wrapped);
            }
        }
        let mut opens = BTreeMap::new();
        for entry in owner.list(None, false).await.unwrap() {
            let id = entry.id.0;
            let info = owner.canister().get_file(&id, None).await.unwrap();
            opens.insert(entry.name, held.file_key(&info).is_ok());
        }
        opens
    });
    let want: BTreeMap<String, bool> = [
        ("right.jpg", true),
        ("test1.jpg", true),
        ("test2.jpg", false),
        ("test3.jpg", false),
    ]
    .into_iter()
    .map(|(n, b)| (n.to_string(), b))
    .collect();
    assert_eq!(opens, want);
    let kinds: Vec<String> = me
        .json(&["log"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.iter().any(|k| k == "MasterKeyRotated"), "{kinds:?}");
}

/// What a new user met trying the CLI on real camera files, each now said: per-file errors of
/// a batch reach stderr when stdout is not a terminal; a symlink loop fails that entry, not
/// the batch (and a folder linked to itself is walked once); an empty or truncated photo is
/// stored with word that it has no thumbnail; a photo without an EXIF date is dated by its
/// file, and says so; a path that does not exist is bad input (exit 2); `vault log` says when
/// older entries exist.
#[test]
fn a_batch_of_real_files_says_what_became_of_each() {
    let me = User::first();
    me.init();
    let batch = me.path("batch");
    std::fs::create_dir_all(&batch).unwrap();
    let photo = std::fs::read(photos().join("exif").join("test1.jpg")).unwrap();
    std::fs::write(batch.join("good.jpg"), &photo).unwrap();
    std::fs::write(batch.join("empty.jpg"), b"").unwrap();
    // No EXIF date: dated by the file (it was once dated by the upload).
    let touched = Command::new("touch")
        .args(["-d", "2001-02-03 04:05:06Z"])
        .arg(batch.join("empty.jpg"))
        .status()
        .unwrap();
    assert!(touched.success());
    std::fs::write(batch.join("truncated.jpg"), &photo[..photo.len() / 3]).unwrap();
    std::os::unix::fs::symlink("loop.jpg", batch.join("loop.jpg")).unwrap();
    std::os::unix::fs::symlink(".", batch.join("again")).unwrap();

    // stdout is a pipe here: the progress bar is hidden, the errors must not be.
    let out = me.run(&["upload", batch.to_str().unwrap()]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(10), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("loop.jpg") && stderr.contains("1 of 4 failed"),
        "the failed entry is named: {stderr}"
    );
    assert!(stdout.contains("3 of 4 files stored"), "{stdout}");
    assert_eq!(
        stdout.matches("stored without a thumbnail").count(),
        2,
        "the empty and the truncated photo: {stdout}"
    );
    assert!(stdout.contains("the file is empty"), "{stdout}");
    let listed = me.json(&["ls"]);
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    let good = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "good.jpg")
        .unwrap();
    assert!(good["thumbnail_size"].as_u64().unwrap() > 0);
    let text = me.ok(&["ls"]);
    assert!(
        text.lines()
            .any(|l| l.contains("empty.jpg") && l.contains("2001-02-03 (file date)")),
        "{text}"
    );

    me.fails(
        2,
        "no such file or folder",
        &["upload", me.path("not-there.jpg").to_str().unwrap()],
    );

    let log = me.run(&["log", "--limit", "2"]);
    assert!(log.status.success());
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).lines().count(),
        3,
        "a header and two entries"
    );
    assert!(
        String::from_utf8_lossy(&log.stderr).contains("older ones exist"),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    let all = me.run(&["log", "--limit", "500"]);
    assert!(!String::from_utf8_lossy(&all.stderr).contains("older ones exist"));

    // A name that is not UTF-8 (Latin-1 `café.jpg`): listed with U+FFFD where the byte was,
    // exported under its own bytes.
    use std::os::unix::ffi::OsStrExt;
    let latin1 = me.path("latin1");
    std::fs::create_dir_all(&latin1).unwrap();
    let bytes = [&photo[..], b"another photo"].concat();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
    std::fs::write(latin1.join(name), &bytes).unwrap();
    me.ok(&["upload", latin1.to_str().unwrap()]);
    let listed = me.json(&["ls"]);
    let cafe = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "caf\u{fffd}.jpg")
        .unwrap_or_else(|| panic!("not listed: {listed}"));
    let out = me.path("exported");
    me.ok(&[
        "export",
        cafe["id"].as_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(out.join(name)).unwrap(), bytes);
}

/// A chunk is sent without ic-agent, its reply read from a certificate the client does not
/// verify (`VaultCanister::put_chunk`): what the vault or the replica answers still reaches the
/// caller as through the agent: the vault's own refusal, and a stranger's call refused before
/// it runs (the vault's `inspect_message`). (A trap's rejection: `canister::tests`.)
#[test]
fn a_chunk_sent_without_the_agent_is_refused_as_through_it() {
    use vault_client::Error;
    use vault_client::types::VaultError;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let owner = vault_e2e::app::User::new(free_port());
        let vault = owner.init().await;
        let canister = vault.canister();
        match canister.put_chunk(&[7; 16], 0, b"a chunk").await {
            Err(Error::Vault(VaultError::NotFound)) => {}
            other => panic!("a chunk of no upload: {other:?}"),
        }
        let stranger = vault_e2e::app::User::new(owner.port);
        let (_, conn) = stranger.connect().await;
        match conn
            .vault(canister.id())
            .put_chunk(&[7; 16], 0, b"a chunk")
            .await
        {
            Err(Error::Rejected { code, message, .. }) => {
                assert_eq!(code, "IC0406");
                assert!(message.contains("not allowed"), "{message}");
            }
            other => panic!("a stranger's chunk: {other:?}"),
        }
    });
}

/// One node lies about chunks: the replies to `put_chunk` are not verified
/// (`VaultCanister::put_chunk`), so a node can drop a chunk and answer that it arrived, or
/// answer a refusal the vault never made. The upload still ends whole: the refusal is not
/// believed before `begin_upload` (verified) confirms it, and `begin_upload` says which chunks
/// are missing; had only the first lie been told, `commit_upload` (verified) would refuse and
/// the same would follow. Nor is a made-up duplicate believed (`begin_upload`'s first answer
/// is not verified either): the file is uploaded, not said to be in the vault already. The
/// node is a proxy before the replica that answers the second and third `put_chunk`, and then
/// a `begin_upload`, itself, with made-up replies.
#[test]
fn a_node_that_lies_about_chunks_does_not_break_the_upload() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use ic_agent::agent::{Envelope, EnvelopeContent};
    use ic_agent::hash_tree::{Label, fork, label, leaf};
    use vault_client::types::{VaultError, VaultResult};

    #[derive(Clone)]
    struct Liar {
        upstream: String,
        client: reqwest::Client,
        lies: Arc<AtomicU32>,
        chunks: Arc<AtomicU32>,
        /// Whether the next `begin_upload` is answered with a made-up duplicate.
        lie_to_begin: Arc<std::sync::atomic::AtomicBool>,
    }
    async fn node(
        axum::extract::State(liar): axum::extract::State<Liar>,
        request: axum::extract::Request,
    ) -> axum::response::Response {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let made_up = match serde_cbor::from_slice::<Envelope>(&body) {
            Ok(envelope) if parts.uri.path().ends_with("/call") => match &*envelope.content {
                EnvelopeContent::Call { method_name, .. } if method_name == "put_chunk" => {
                    match liar.chunks.fetch_add(1, Ordering::SeqCst) {
                        // Dropped, and said to have arrived.
                        1 => Some((envelope, candid::encode_one(VaultResult::<()>::Ok(())))),
                        // Dropped, and said to be refused.
                        2 => Some((
                            envelope,
                            candid::encode_one(VaultResult::<()>::Err(VaultError::Conflict {
                                reason: "made up".into(),
                            })),
                        )),
                        _ => None,
                    }
                }
                EnvelopeContent::Call { method_name, .. }
                    if method_name == "begin_upload"
                        && liar.lie_to_begin.swap(false, Ordering::SeqCst) =>
                {
                    let said = VaultResult::<vault_client::types::UploadStatus>::Err(
                        VaultError::Duplicate {
                            existing: serde_bytes::ByteBuf::from(vec![7; 16]),
                        },
                    );
                    Some((envelope, candid::encode_one(said)))
                }
                _ => None,
            },
            _ => None,
        };
        if let Some((envelope, reply)) = made_up {
            liar.lies.fetch_add(1, Ordering::SeqCst);
            let id = ic_agent::to_request_id(&*envelope.content).unwrap();
            let reply = reply.unwrap();
            let tree = label(
                "request_status",
                label(
                    Label::from(id.as_slice()),
                    fork(
                        label("reply", leaf(reply)),
                        label("status", leaf(b"replied".to_vec())),
                    ),
                ),
            );
            let certificate = serde_cbor::to_vec(&ic_agent::Certificate {
                tree,
                signature: vec![],
                delegation: None,
            })
            .unwrap();
            let answer =
                serde_cbor::to_vec(&ic_agent::TransportCallResponse::Replied { certificate })
                    .unwrap();
            return axum::response::Response::builder()
                .header("content-type", "application/cbor")
                .body(axum::body::Body::from(answer))
                .unwrap();
        }
        let mut forward = liar.client.request(
            parts.method,
            format!("{}{}", liar.upstream, parts.uri.path_and_query().unwrap()),
        );
        if let Some(kind) = parts.headers.get("content-type") {
            forward = forward.header("content-type", kind);
        }
        let answer = forward.body(body).send().await.unwrap();
        let mut response = axum::response::Response::builder().status(answer.status().as_u16());
        if let Some(kind) = answer.headers().get("content-type") {
            response = response.header("content-type", kind.as_bytes());
        }
        response
            .body(axum::body::Body::from(answer.bytes().await.unwrap()))
            .unwrap()
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let replica = vault_e2e::app::User::new(free_port());
        let _ = replica.connect().await;
        let liar = Liar {
            upstream: format!("http://127.0.0.1:{}", replica.port),
            client: reqwest::Client::new(),
            lies: Arc::default(),
            chunks: Arc::default(),
            lie_to_begin: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().fallback(node).with_state(liar.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });

        // A vault reached through that node; a file of three chunks.
        let owner = vault_e2e::app::User::new(port);
        let mut vault = owner.init().await;
        let file = owner.home.path().join("three-chunks.bin");
        let bytes: Vec<u8> = (0..2 * vault_crypto::CHUNK_SIZE + 1000)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        std::fs::write(&file, &bytes).unwrap();
        let results = vault
            .upload(
                std::slice::from_ref(&file),
                &vault_client::upload::UploadOptions::default(),
                &vault_client::upload::Quiet,
            )
            .await
            .unwrap();
        assert_eq!(liar.lies.load(Ordering::SeqCst), 2, "the node lied twice");
        let uploaded = results.into_iter().next().unwrap().unwrap();
        assert_eq!(
            (
                uploaded.chunks_total,
                uploaded.chunks_sent,
                liar.chunks.load(Ordering::SeqCst)
            ),
            (3, 2, 5),
            "the two chunks dropped were sent again"
        );
        let info = vault
            .canister()
            .get_file(&uploaded.id.0, None)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let exported = vault.reader().export(&info, dir.path()).await.unwrap();
        assert_eq!(std::fs::read(exported.path).unwrap(), bytes);

        // A made-up duplicate.
        liar.lie_to_begin.store(true, Ordering::SeqCst);
        let other = owner.home.path().join("not-a-duplicate.bin");
        std::fs::write(&other, b"not in the vault yet").unwrap();
        let results = vault
            .upload(
                std::slice::from_ref(&other),
                &vault_client::upload::UploadOptions::default(),
                &vault_client::upload::Quiet,
            )
            .await
            .unwrap();
        assert_eq!(liar.lies.load(Ordering::SeqCst), 3, "the node lied again");
        let uploaded = results.into_iter().next().unwrap().unwrap();
        assert_eq!(
            uploaded.outcome,
            vault_client::upload::UploadOutcome::Uploaded
        );
        let info = vault
            .canister()
            .get_file(&uploaded.id.0, None)
            .await
            .unwrap();
        let exported = vault.reader().export(&info, dir.path()).await.unwrap();
        assert_eq!(
            std::fs::read(exported.path).unwrap(),
            b"not in the vault yet"
        );
        drop(replica);
    });
}

/// icp-cli, DFINITY's CLI (tests/icp, from npm), on a network it connects to by URL and root key.
struct Icp {
    project: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Icp {
    /// A project whose only canister is the repository's vault (vault-canister/canister.yaml,
    /// as the repository's icp.yaml names it), on the replica at `port` with `root_key`.
    fn on(port: u16, root_key: &[u8]) -> Icp {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join("icp.yaml"),
            format!(
                "canisters:\n  - {}\nnetworks:\n  - name: local\n    mode: connected\n    \
                 url: http://127.0.0.1:{port}\n    root-key: {}\n",
                vault_e2e::repo().join("vault-canister").display(),
                hex::encode(root_key)
            ),
        )
        .unwrap();
        Icp {
            project,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let icp =
            vault_e2e::repo().join("tests/icp/node_modules/@icp-sdk/icp-cli-linux-x64/bin/icp");
        assert!(
            icp.is_file(),
            "{} is missing: `npm ci` in tests/icp (scripts/test-all does it)",
            icp.display()
        );
        Command::new(icp)
            .args(args)
            .current_dir(self.project.path())
            .env("ICP_HOME", self.home.path())
            .env("ICP_TELEMETRY_DISABLED", "1")
            .stdin(Stdio::null())
            .output()
            .expect("icp runs")
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "icp {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.ok(&["canister", "status", "vault", "--json"])).expect("JSON")
    }
}

/// Issue 19: the vault deployed with icp-cli, as a developer would, to the local replica: it
/// creates the canister through the cycles ledger (the CMC's subnets, `create_canister`),
/// installs it with the install argument icp.yaml gives (no owner: the deployer owns it), and
/// then reads its status (today's `canister_status`, with `status_visibility` and
/// `minimum_incoming_canister_call_cycles`) and its Candid, calls it, upgrades it with data
/// kept, and changes its controllers.
#[test]
fn icp_cli_deploys_the_vault_calls_upgrades_and_hands_it_over() {
    use sha2::Digest;
    let owner = User::first();
    // The replica starts as `vault` starts it, with the user's identity, which icp-cli then
    // deploys with.
    let root_key = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let home = vault_client::Home::at(owner.home.path());
        let (identity, _) = vault_client::Identity::load_or_create(&home).unwrap();
        let (vault_home, network) = (owner.home.path().to_path_buf(), owner.port);
        let launcher = move || {
            let mut c = Command::new(vault_e2e::binary("vault-cli", "vault"));
            c.arg("replica")
                .env("VAULT_HOME", &vault_home)
                .env("VAULT_NETWORK", format!("local:{network}"));
            c
        };
        let net = vault_client::Network::Local { port: owner.port };
        vault_client::replica::open(&home, net, identity, &launcher)
            .await
            .expect("the local replica starts");
        let agent = ic_agent::Agent::builder()
            .with_url(format!("http://127.0.0.1:{}", owner.port))
            .build()
            .unwrap();
        agent.fetch_root_key().await.unwrap();
        agent.read_root_key()
    });
    let icp = Icp::on(owner.port, &root_key);
    let pem = owner.path("identity.pem");
    icp.ok(&[
        "identity",
        "import",
        "owner",
        "--from-pem",
        pem.to_str().unwrap(),
        "--storage",
        "plaintext",
    ]);
    icp.ok(&["identity", "default", "owner"]);
    let me = icp.ok(&["identity", "principal"]).trim().to_string();

    // Cycles from the local ledger's `mint`, then the deployment through the cycles ledger.
    icp.ok(&[
        "canister",
        "call",
        "um5iw-rqaaa-aaaaq-qaaba-cai",
        "mint",
        &format!(
            "(record {{ to = record {{ owner = principal \"{me}\" }}; amount = 10_000_000_000_000 : nat }})"
        ),
    ]);
    icp.ok(&["deploy", "--cycles", "2t", "--yes"]);
    let id = icp
        .ok(&["canister", "status", "vault", "--id-only"])
        .trim()
        .to_string();
    let balance = icp.ok(&["cycles", "balance", "--quiet"]);
    assert_eq!(
        balance.trim().trim_end_matches(" cycles").replace('_', ""),
        (10_000_000_000_000u128 - 2_000_000_000_000 - 100_000_000).to_string(),
        "the deployer paid the canister's cycles and the ledger's fee"
    );

    let status = icp.status();
    let wasm = std::fs::read(vault_e2e::repo().join("target/canister/vault.wasm.gz")).unwrap();
    assert_eq!(status["status"], "Running");
    assert_eq!(
        status["module_hash"],
        format!("0x{}", hex::encode(sha2::Sha256::digest(&wasm))),
        "the module is the one built"
    );
    assert_eq!(status["settings"]["controllers"], serde_json::json!([me]));
    assert_eq!(
        status["settings"]["status_visibility"]["type"],
        "Controllers"
    );
    assert_eq!(status["settings"]["freezing_threshold"], "2_592_000");
    let held: u128 = status["cycles"]
        .as_str()
        .unwrap()
        .replace('_', "")
        .parse()
        .unwrap();
    assert!(
        held <= 1_500_000_000_000 && held > 1_499_000_000_000,
        "the canister holds what was paid less the creation fee (500 B), less installing: {held}"
    );
    let candid = icp.ok(&["canister", "metadata", "vault", "candid:service"]);
    assert!(candid.contains("service : (InitArgs)"), "{candid}");

    // The deployer owns it: `vault` sets it up and uses it.
    let out = owner.run_with(
        &[("VAULT_PASSPHRASE", PASSPHRASE)],
        &["--json", "init", "--canister", &id, "--kdf", "minimum"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let photo = photos().join("exif/right.jpg");
    owner.ok(&["upload", photo.to_str().unwrap()]);
    let info = icp.ok(&["canister", "call", "vault", "vault_info", "()"]);
    assert!(info.contains(&me) && info.contains("files = 1"), "{info}");

    // An upgrade keeps what the vault holds.
    icp.ok(&["canister", "install", "vault", "--mode", "upgrade", "--yes"]);
    assert_eq!(ids(&owner.json(&["ls"])).len(), 1);
    let info = icp.ok(&["canister", "call", "vault", "vault_info", "()"]);
    assert!(info.contains("files = 1"), "{info}");

    // Controllers: another added (it may then read the status), then removed.
    icp.ok(&["identity", "new", "friend", "--storage", "plaintext"]);
    let friend = icp
        .ok(&["identity", "principal", "--identity", "friend"])
        .trim()
        .to_string();
    icp.ok(&[
        "canister",
        "settings",
        "update",
        "vault",
        "--add-controller",
        &friend,
        "--force",
    ]);
    let controllers = icp.status()["settings"]["controllers"].to_string();
    assert!(
        controllers.contains(&friend) && controllers.contains(&me),
        "{controllers}"
    );
    let as_friend = [
        "canister",
        "status",
        "vault",
        "--json",
        "--identity",
        "friend",
    ];
    let full: Value = serde_json::from_str(&icp.ok(&as_friend)).unwrap();
    assert!(
        full["cycles"].is_string(),
        "a controller reads the whole status: {full}"
    );
    icp.ok(&[
        "canister",
        "settings",
        "update",
        "vault",
        "--remove-controller",
        &friend,
        "--force",
    ]);
    let controllers = icp.status()["settings"]["controllers"].to_string();
    assert!(
        !controllers.contains(&friend) && controllers.contains(&me),
        "{controllers}"
    );
    // No longer a controller: refused (IC0512), icp-cli shows only the certified, public part.
    let public: Value = serde_json::from_str(&icp.ok(&as_friend)).unwrap();
    assert!(
        public.get("cycles").is_none() && public.to_string().contains(&me),
        "a former controller reads only the public status: {public}"
    );
}

/// Issue 19: `vault init` buys the vault on the cycles ledger, as on the IC (locally, minting
/// what the identity lacks first): the identity the only controller, the canister holding what
/// was paid less the creation fee. A purchase whose answer was lost (a crash between paying and
/// installing) resumes with the same canister and pays nothing more; too few cycles and a
/// failed creation each say what happened, and leave nothing half done.
#[test]
fn vault_init_buys_the_vault_once_on_the_cycles_ledger() {
    use vault_client::cycles::{CREATION_FEE, LEDGER_FEE, NEW_VAULT_CYCLES, Purchase};
    use vault_client::platform::{Item, Store};
    let owner = User::first();
    let (vault, _) = owner.init();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let connect = |user: &User| connection(user, &runtime);
    let (home, conn) = connect(&owner);
    assert_eq!(
        runtime.block_on(conn.cycles_balance()).unwrap(),
        0,
        "what was minted for the vault paid for it and the ledger's fee"
    );
    let management = ic_utils::interfaces::ManagementCanister::create(&conn.agent);
    let id = candid::Principal::from_text(&vault).unwrap();
    let (status,) = runtime
        .block_on(management.canister_status(&id).call())
        .unwrap();
    assert_eq!(status.settings.controllers, vec![conn.me()]);
    let held = u128::try_from(status.cycles.0).unwrap();
    let paid = NEW_VAULT_CYCLES - CREATION_FEE;
    assert!(
        held <= paid && held > paid - 1_000_000_000,
        "what was paid less the creation fee, less installing: {held}"
    );
    assert!(
        conn.purchase(&home).unwrap().is_none(),
        "the purchase is done"
    );

    // Paid, then the answer lost (as a crash leaves the purchase: written, no canister yet).
    let friend = User::beside(&owner);
    let (home, conn) = connect(&friend);
    let bought = runtime.block_on(conn.buy_canister(&home)).unwrap();
    let mut lost: Purchase = conn.purchase(&home).unwrap().unwrap();
    assert_eq!(lost.canister, Some(bought.to_text()));
    lost.canister = None;
    let item = Item::Purchase {
        network: conn.network.name(),
        identity: conn.me(),
    };
    home.save(&item, &serde_json::to_vec(&lost).unwrap())
        .unwrap();
    runtime
        .block_on(conn.mint_local_cycles(5_000_000_000_000))
        .unwrap();
    let (resumed, _) = friend.init();
    assert_eq!(resumed, bought.to_text(), "the canister already paid for");
    assert_eq!(
        runtime.block_on(conn.cycles_balance()).unwrap(),
        5_000_000_000_000,
        "nothing paid twice"
    );

    // Bought and installed, then stopped before `setup` (the passphrase's hashing, a lost
    // connection): `vault init` sets that canister up, and pays nothing again.
    let late = User::beside(&owner);
    let (home, conn) = connect(&late);
    let bought = runtime.block_on(conn.create_vault(&home)).unwrap().id();
    let balance = runtime.block_on(conn.cycles_balance()).unwrap();
    let (resumed, _) = late.init();
    assert_eq!(resumed, bought.to_text(), "the canister bought before");
    assert_eq!(runtime.block_on(conn.cycles_balance()).unwrap(), balance);
    assert!(conn.purchase(&home).unwrap().is_none(), "done once set up");

    // Too few cycles (as on the IC, where nothing is minted), then a creation that fails.
    let stranger = User::beside(&owner);
    let (home, conn) = connect(&stranger);
    let err = runtime
        .block_on(conn.buy_canister_for(&home, NEW_VAULT_CYCLES, false))
        .unwrap_err();
    let said = err.to_string();
    assert!(
        matches!(err, vault_client::Error::NotEnoughCycles { balance: 0, .. })
            && said.contains(&conn.me().to_text())
            && said.contains(&(NEW_VAULT_CYCLES + LEDGER_FEE).to_string()),
        "{said}"
    );
    assert!(conn.purchase(&home).unwrap().is_none(), "nothing to resume");
    let err = runtime
        .block_on(conn.buy_canister_for(&home, CREATION_FEE / 2, true))
        .unwrap_err();
    assert!(
        matches!(&err, vault_client::Error::Ledger(m) if m.contains("refunded")),
        "{err}"
    );
    assert_eq!(
        runtime.block_on(conn.cycles_balance()).unwrap(),
        CREATION_FEE / 2,
        "refunded but for the ledger's fee"
    );
    assert!(conn.purchase(&home).unwrap().is_none());
}

/// Issue 19: cycles are real in the local replica. A vault pays for what it holds and does (the
/// IC's cost table, `vault_interface::ic_costs`), `vault status` shows its balance and its idle
/// burn as the table gives it; run down to its freezing limit (here by asking it to keep more
/// than it has: a freezing threshold past its balance), it refuses uploads with the IC's reject
/// (IC0207) and still serves reads; `vault topup` revives it.
#[test]
fn a_frozen_vault_refuses_updates_serves_reads_and_a_top_up_revives_it() {
    use vault_interface::ic_costs;
    let owner = User::first();
    let (vault, _) = owner.init();
    let first = photos().join("exif/right.jpg");
    owner.ok(&["upload", first.to_str().unwrap()]);
    let cycles = |funds: &Value, field: &str| -> u128 {
        funds[field].as_str().expect(field).parse().unwrap()
    };
    let funds = owner.json(&["status"])["funds"].clone();
    let balance = cycles(&funds, "cycles");
    assert!(
        balance < 1_000_000_000_000 && balance > 900_000_000_000,
        "1 T after the creation fee, less installing and uploading: {funds}"
    );
    let held = funds["memory_bytes"].as_u64().unwrap();
    assert_eq!(
        cycles(&funds, "idle_burn_per_day"),
        ic_costs::idle_burn_per_day(held, 0),
        "the idle burn is the IC's price of the memory held: {funds}"
    );
    assert_eq!(funds["frozen"], false);
    let text = owner.ok(&["status"]);
    assert!(
        text.contains("cycles ") && text.contains("days before it freezes"),
        "{text}"
    );

    // Asked to keep more than it has.
    let per_second = cycles(&funds, "idle_burn_per_day") / 86_400;
    let threshold = (balance / per_second + 86_400) as u64;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, conn) = connection(&owner, &runtime);
    let id = candid::Principal::from_text(&vault).unwrap();
    let management = ic_utils::interfaces::ManagementCanister::create(&conn.agent);
    runtime
        .block_on(
            management
                .update_settings(&id)
                .with_freezing_threshold(threshold)
                .call_and_wait(),
        )
        .unwrap();
    let funds = owner.json(&["status"])["funds"].clone();
    assert_eq!(funds["frozen"], true, "{funds}");
    assert!(owner.ok(&["status"]).contains("FROZEN"));
    let second = photos().join("exif/test2.jpg");
    let err = owner.fails(10, "IC0207", &["upload", second.to_str().unwrap()]);
    assert!(err.contains("out of cycles"), "{err}");
    assert_eq!(ids(&owner.json(&["ls"])).len(), 1, "reads still work");

    // Topped up past its limit, it takes uploads again.
    let short = cycles(&funds, "freezing_limit") + 40_000_000_000 - cycles(&funds, "cycles");
    let amount = format!("{}b", short / 1_000_000_000 + 100);
    owner.ok(&["topup", &amount]);
    let funds = owner.json(&["status"])["funds"].clone();
    assert_eq!(funds["frozen"], false, "{funds}");
    owner.ok(&["upload", second.to_str().unwrap()]);
    assert_eq!(ids(&owner.json(&["ls"])).len(), 2);
}

/// Issue 19: `vault verify` reads the module hash the IC certifies for the vault and says which
/// code runs it: the module this `vault` installs (a clean build), or code nobody published —
/// here the same module with one custom section more, installed by its controller. `vault
/// upgrade` checks its own module is a published release first (refused otherwise, unless
/// `--unreleased`), and the vault's data stays.
#[test]
fn vault_verify_tells_this_build_from_other_code_and_upgrade_checks_first() {
    use sha2::Digest;
    let owner = User::first();
    let (vault, _) = owner.init();
    let photo = photos().join("exif/right.jpg");
    owner.ok(&["upload", photo.to_str().unwrap()]);
    let built = std::fs::read(vault_e2e::repo().join("target/canister/vault.wasm.gz")).unwrap();
    let built_hash = hex::encode(sha2::Sha256::digest(&built));
    let verdict = owner.json(&["verify"]);
    assert_eq!(verdict["module_hash"], built_hash.as_str(), "{verdict}");
    assert_eq!(verdict["runs_this_build"], true, "{verdict}");
    assert!(
        owner
            .ok(&["verify"])
            .contains("the module this `vault` installs")
    );

    // Other code: a controller (the owner, here) installs a module of their own.
    let mut other = std::fs::read(vault_e2e::repo().join("target/canister/vault.wasm")).unwrap();
    other.extend_from_slice(&[0, 3, 1, b'x', b'y']);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, conn) = connection(&owner, &runtime);
    let id = candid::Principal::from_text(&vault).unwrap();
    let management = ic_utils::interfaces::ManagementCanister::create(&conn.agent);
    runtime
        .block_on(
            management
                .install(&id, &other)
                .with_mode(
                    ic_utils::interfaces::management_canister::builders::CanisterInstallMode::Upgrade(None),
                )
                .call_and_wait(),
        )
        .unwrap();
    let said = owner.fails(8, "", &["verify"]);
    let out = owner.run(&["verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOT KNOWN"), "{text}{said}");
    assert!(
        text.contains(&hex::encode(sha2::Sha256::digest(&other))),
        "{text}"
    );

    // This client's module: installed by `vault upgrade` if it is a published release, else
    // refused unless asked for.
    let verdict = if vault_client::verify::release_of(&built_hash).is_some() {
        owner.json(&["upgrade"])
    } else {
        owner.fails(2, "not a published release", &["upgrade"]);
        owner.json(&["upgrade", "--unreleased"])
    };
    assert_eq!(verdict["runs_this_build"], true, "{verdict}");
    owner.ok(&["verify"]);
    assert_eq!(ids(&owner.json(&["ls"])).len(), 1, "the data stays");
}

/// Issue 19, the share inbox: Alice shares an album with Bob's share code, which names his
/// vault; her client tells his vault, and his "Shared with me" shows it, new, with who sent it,
/// without anyone copying a canister id. He follows it (kept in his vault). A stranger's
/// notices are bounded: four waiting per sender, 32 new an hour from everyone (the rest turned
/// away at ingress, unpaid), and each look at "Shared with me" checks at most eight, dropping
/// those whose vault shares nothing.
#[test]
fn a_share_finds_its_recipient_without_a_canister_id_and_a_strangers_notices_are_bounded() {
    use candid::Principal;
    use ic_utils::call::AsyncCall;
    use vault_client::Error;
    use vault_client::inbox::NOTICES_CHECKED;
    use vault_client::limits::{MAX_NOTICES_PER_HOUR, MAX_NOTICES_PER_SENDER};

    let alice = User::first();
    let (alice_vault, _) = alice.init();
    let bob = User::beside(&alice);
    let (bob_vault, _) = bob.init();
    let code = bob.json(&["identity", "show"]);
    let share_code = code["share_code"].as_str().unwrap();
    let parsed = vault_crypto::ShareCode::parse(share_code).unwrap();
    let bob_vault_id = Principal::from_text(&bob_vault).unwrap();
    assert_eq!(parsed.vault.as_deref(), Some(bob_vault_id.as_slice()));

    let exif = photos().join("exif");
    alice.ok(&["upload", exif.join("right.jpg").to_str().unwrap()]);
    alice.ok(&["album", "create", "Trip"]);
    let id = alice.json(&["ls"])[0]["id"].as_str().unwrap().to_string();
    alice.ok(&["album", "add", "Trip", &id]);
    assert!(
        bob.json(&["shared"])["shared"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let shared = alice.json(&["share", "Trip", "--with", share_code]);
    assert_eq!(shared["told"], true, "{shared}");

    // Bob sees it, new, from Alice, in her vault; he never typed her vault's id.
    let alice_principal = alice.json(&["identity", "show"])["principal"]
        .as_str()
        .unwrap()
        .to_string();
    let seen = &bob.json(&["shared"])["shared"];
    assert_eq!(seen.as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(seen[0]["name"], "Trip");
    assert_eq!(seen[0]["vault"], alice_vault.as_str());
    assert_eq!(seen[0]["new_from"], alice_principal.as_str());
    let table = bob.ok(&["shared"]);
    assert!(
        table.contains("NEW, from") && table.contains("--dismiss"),
        "{table}"
    );
    // He follows it: no longer new; his vault keeps it.
    let followed = &bob.json(&["shared", "--from", &alice_vault])["shared"];
    assert_eq!(followed[0]["name"], "Trip");
    assert!(followed[0]["new_from"].is_null(), "{followed}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, bob_conn) = connection(&bob, &runtime);
    let inbox = runtime
        .block_on(bob_conn.vault(bob_vault_id).inbox())
        .unwrap();
    assert!(inbox.notices.is_empty(), "{inbox:?}");
    assert_eq!(
        inbox.followed.iter().map(|f| f.vault).collect::<Vec<_>>(),
        [Principal::from_text(&alice_vault).unwrap()]
    );
    // Told again (another share): nothing new for Bob.
    alice.ok(&["album", "create", "More"]);
    let again = alice.json(&["share", "More", "--with", share_code]);
    assert_eq!(again["told"], true, "{again}");
    let names: Vec<String> = bob.json(&["shared"])["shared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["new_from"].is_null(), "{e}");
            e["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A stranger: four notices naming vaults that do not exist, then turned away at ingress.
    let fake = |n: u32| {
        let mut bytes = vec![0xf0, 0, 0, 0];
        bytes.extend(n.to_be_bytes());
        bytes.extend([1, 1]);
        Principal::from_slice(&bytes)
    };
    let notify = |from: &User, n: u32| {
        let (_, conn) = connection(from, &runtime);
        runtime.block_on(conn.vault(bob_vault_id).notify_shared(fake(n)))
    };
    let hour = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 3600
    };
    let mallory = User::beside(&alice);
    let mut sent = 0;
    // This hour's notices so far: Alice's first (her second, about a vault followed, took none).
    let mut taken = 1;
    let started = hour();
    for _ in 0..MAX_NOTICES_PER_SENDER {
        notify(&mallory, sent).unwrap();
        sent += 1;
        taken += 1;
    }
    let refused = notify(&mallory, sent).unwrap_err();
    assert!(
        matches!(&refused, Error::Rejected { code, .. } if code == "IC0406"),
        "{refused:?}"
    );
    // Fresh principals: the hour's notices run out for everyone.
    let strangers: Vec<User> = (taken..MAX_NOTICES_PER_HOUR as usize + 1)
        .map(|_| User::beside(&alice))
        .collect();
    let mut answers = Vec::new();
    for stranger in &strangers {
        answers.push(notify(stranger, sent));
        sent += 1;
    }
    if hour() == started {
        let accepted = answers.iter().filter(|a| a.is_ok()).count();
        assert_eq!(
            accepted + taken,
            MAX_NOTICES_PER_HOUR as usize,
            "{answers:?}"
        );
        assert!(
            matches!(answers.last().unwrap(), Err(Error::Rejected { code, .. }) if code == "IC0406"),
            "{answers:?}"
        );
    }
    let waiting = |runtime: &tokio::runtime::Runtime| {
        runtime
            .block_on(bob_conn.vault(bob_vault_id).inbox())
            .unwrap()
            .notices
            .len()
    };
    let before = waiting(&runtime);
    assert!(before > NOTICES_CHECKED, "{before}");
    // A look checks at most NOTICES_CHECKED of them, shows none (no vault shares anything
    // there), and drops one only on a certified word that it shares nothing: a vault that does
    // not exist is one node's word, so they stay (bounded as above), shown nowhere. What Alice
    // shares shows throughout.
    for _ in 0..2 {
        let seen = &bob.json(&["shared"])["shared"];
        assert_eq!(seen.as_array().unwrap().len(), 2, "{seen}");
        let now = waiting(&runtime);
        assert!(
            now <= before && before - now <= NOTICES_CHECKED,
            "{before} -> {now}"
        );
    }
    // Bob dismisses one: gone, and that vault's notices are ignored from then on.
    let newest = runtime
        .block_on(bob_conn.vault(bob_vault_id).inbox())
        .unwrap()
        .notices[0]
        .clone();
    bob.ok(&["shared", "--dismiss", &newest.vault.to_text()]);
    let inbox = runtime
        .block_on(bob_conn.vault(bob_vault_id).inbox())
        .unwrap();
    assert!(
        inbox.notices.iter().all(|n| n.vault != newest.vault),
        "{inbox:?}"
    );

    // A vault Bob follows that cannot be read (Alice stopped it) is said, and the rest listed.
    let (_, alice_conn) = connection(&alice, &runtime);
    let management = ic_utils::interfaces::ManagementCanister::create(&alice_conn.agent);
    let alice_id = Principal::from_text(&alice_vault).unwrap();
    runtime
        .block_on(management.stop_canister(&alice_id).call_and_wait())
        .unwrap();
    let look = bob.json(&["shared"]);
    assert!(look["shared"].as_array().unwrap().is_empty(), "{look}");
    assert_eq!(
        look["unreadable"][0]["vault"],
        alice_vault.as_str(),
        "{look}"
    );
    let said = bob.ok(&["shared"]);
    assert!(
        said.contains("could not read") && said.contains("--dismiss"),
        "{said}"
    );
    runtime
        .block_on(management.start_canister(&alice_id).call_and_wait())
        .unwrap();
    assert_eq!(bob.json(&["shared"])["shared"].as_array().unwrap().len(), 2);
}

/// Issue 19: ICP → cycles through the CMC. `vault topup --icp` pays ICP into the CMC's account
/// for the vault and has the CMC convert the block; a top-up whose answer was lost after the
/// ICP left (the journal left as a crash leaves it) is finished by running it again: the
/// ledger answers the same transfer with its first block, the CMC converts that block once,
/// and nothing is paid twice.
#[test]
fn vault_topup_converts_icp_through_the_cmc_and_finishes_a_paid_top_up() {
    use candid::{Decode, Encode};
    use serde_bytes::ByteBuf;
    use vault_client::icp::IcpTopUp;
    use vault_client::platform::{Item, Store};
    use vault_interface::icp::{
        CMC, ICP_FEE_E8S, ICP_LEDGER, MEMO_TOP_UP_CANISTER, TimeStamp, Tokens, TransferArgs,
        TransferResult, account_identifier, principal_subaccount,
    };

    let owner = User::first();
    let (vault, _) = owner.init();
    let id = candid::Principal::from_text(&vault).unwrap();
    let cycles = |user: &User| -> u128 {
        user.json(&["status"])["funds"]["cycles"]
            .as_str()
            .map(|s| s.parse().unwrap())
            .or_else(|| {
                user.json(&["status"])["funds"]["cycles"]
                    .as_u64()
                    .map(u128::from)
            })
            .unwrap()
    };
    let before = cycles(&owner);
    let sent = owner.json(&["topup", "--icp", "0.5"]);
    assert_eq!(
        sent["sent"], "1500000000000",
        "0.5 ICP at 3 T cycles an ICP: {sent}"
    );
    assert_eq!(sent["earlier"], false, "{sent}");
    let after = cycles(&owner);
    assert!(
        after > before + 1_499_000_000_000 && after <= before + 1_500_000_000_000,
        "{before} -> {after}"
    );

    // Paid, then stopped before the block was written down or the CMC told.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (home, conn) = connection(&owner, &runtime);
    let e8s = 25_000_000;
    runtime
        .block_on(conn.mint_local_icp(e8s + ICP_FEE_E8S))
        .unwrap();
    let icp_before = runtime.block_on(conn.icp_balance()).unwrap();
    // `vault status` shows what this identity holds to pay with, and where ICP is sent.
    let wallet = owner.json(&["status"])["wallet"].clone();
    assert_eq!(wallet["icp_e8s"], icp_before, "{wallet}");
    assert_eq!(wallet["cycles_per_icp"], "3000000000000", "{wallet}");
    assert_eq!(
        wallet["icp_account"],
        hex::encode(account_identifier(&conn.me(), None)),
        "{wallet}"
    );
    assert_eq!(wallet["principal"], conn.me().to_text(), "{wallet}");
    assert_eq!(
        wallet["cycles"],
        runtime.block_on(conn.cycles_balance()).unwrap().to_string(),
        "{wallet}"
    );
    assert_eq!(wallet["unknown"], serde_json::json!([]), "{wallet}");
    let created_at_time = vault_client::sharing::now_ns();
    let transfer = TransferArgs {
        memo: MEMO_TOP_UP_CANISTER,
        amount: Tokens { e8s },
        fee: Tokens { e8s: ICP_FEE_E8S },
        from_subaccount: None,
        to: ByteBuf::from(account_identifier(&CMC, Some(&principal_subaccount(&id))).to_vec()),
        created_at_time: Some(TimeStamp {
            timestamp_nanos: created_at_time,
        }),
    };
    let reply = runtime
        .block_on(
            conn.agent
                .update(&ICP_LEDGER, "transfer")
                .with_arg(Encode!(&transfer).unwrap())
                .call_and_wait(),
        )
        .unwrap();
    let block = Decode!(&reply, TransferResult).unwrap().unwrap();
    let journal = IcpTopUp {
        principal: conn.me().to_text(),
        canister: vault.clone(),
        e8s,
        created_at_time,
        block: None,
    };
    let item = Item::IcpTopUp {
        network: conn.network.name(),
        identity: conn.me(),
    };
    home.save(&item, &serde_json::to_vec(&journal).unwrap())
        .unwrap();
    let paid = runtime.block_on(conn.icp_balance()).unwrap();
    assert_eq!(paid, icp_before - e8s - ICP_FEE_E8S);

    // Asked for another amount, the stopped one is finished instead, and said: nothing more
    // is paid.
    let before = cycles(&owner);
    let finished = owner.json(&["topup", "--icp", "0.5"]);
    assert_eq!(finished["sent"], "750000000000", "{finished}");
    assert_eq!(finished["earlier"], true, "{finished}");
    assert_eq!(
        runtime.block_on(conn.icp_balance()).unwrap(),
        paid,
        "nothing paid twice (block {block})"
    );
    let after = cycles(&owner);
    assert!(after > before + 749_000_000_000 && after <= before + 750_000_000_000);
    assert!(
        home.load(&item).unwrap().is_none(),
        "the journal is forgotten"
    );
}

/// Issue 19: a top-up from the cycles ledger whose answer was lost after the ledger paid it
/// (the journal left as a crash leaves it) is sent again by the next `vault topup`, whatever
/// that one asks for: the ledger answers it as a duplicate, the vault has the cycles once, and
/// nothing more is paid.
#[test]
fn vault_topup_finishes_a_cycles_top_up_whose_answer_was_lost() {
    use candid::{CandidType, Encode, Nat};
    use vault_client::cycles::{CYCLES_LEDGER, CyclesTopUp};
    use vault_client::platform::{Item, Store};

    #[derive(CandidType)]
    struct WithdrawArgs {
        amount: Nat,
        from_subaccount: Option<serde_bytes::ByteBuf>,
        to: candid::Principal,
        created_at_time: Option<u64>,
    }

    let owner = User::first();
    let (vault, _) = owner.init();
    let id = candid::Principal::from_text(&vault).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (home, conn) = connection(&owner, &runtime);
    let funds =
        |runtime: &tokio::runtime::Runtime| runtime.block_on(conn.funds(id)).unwrap().cycles;
    let amount: u128 = 2_000_000_000_000;
    runtime
        .block_on(conn.mint_local_cycles(amount + 100_000_000))
        .unwrap();
    let journal = CyclesTopUp {
        principal: conn.me().to_text(),
        canister: id,
        amount,
        created_at_time: vault_client::sharing::now_ns(),
    };
    let item = Item::CyclesTopUp {
        network: conn.network.name(),
        identity: conn.me(),
    };
    home.save(&item, &serde_json::to_vec(&journal).unwrap())
        .unwrap();
    let before = funds(&runtime);
    // Paid; its answer lost.
    runtime
        .block_on(
            conn.agent
                .update(&CYCLES_LEDGER, "withdraw")
                .with_arg(
                    Encode!(&WithdrawArgs {
                        amount: Nat::from(amount),
                        from_subaccount: None,
                        to: id,
                        created_at_time: Some(journal.created_at_time),
                    })
                    .unwrap(),
                )
                .call_and_wait(),
        )
        .unwrap();
    let paid = runtime.block_on(conn.cycles_balance()).unwrap();
    let after_paying = funds(&runtime);
    assert!(
        after_paying > before + amount - 1_000_000_000,
        "{before} -> {after_paying}"
    );

    let finished = owner.json(&["topup", "5t"]);
    assert_eq!(finished["sent"], amount.to_string(), "{finished}");
    assert_eq!(finished["earlier"], true, "{finished}");
    assert_eq!(
        runtime.block_on(conn.cycles_balance()).unwrap(),
        paid,
        "nothing paid again"
    );
    let now = funds(&runtime);
    assert!(
        now <= after_paying,
        "no cycles arrived twice: {after_paying} -> {now}"
    );
    assert!(
        home.load(&item).unwrap().is_none(),
        "the journal is forgotten"
    );

    // The next one is a new top-up.
    let next = owner.json(&["topup", "1t"]);
    assert_eq!(next["sent"], "1000000000000", "{next}");
    assert_eq!(next["earlier"], false, "{next}");
    assert!(funds(&runtime) > now + 990_000_000_000);
}
