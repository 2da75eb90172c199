//! The certified answers, the viewer's and the web app's: what each path gets, and that each is
//! witnessed in the tree whose root is the canister's certified data.

use ic_http_certification::CERTIFICATE_HEADER_NAME;

use super::*;

/// A canister id (the local replica's first).
fn canister() -> Principal {
    Principal::from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai").expect("a canister id")
}

fn header<'r>(response: &'r HttpResponse, name: &str) -> Option<&'r str> {
    response
        .headers()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_page_loads_its_hashed_scripts_and_style() {
    let page = String::from_utf8(VIEWER_PAGE.to_vec()).expect("UTF-8");
    for asset in VIEWER_ASSETS.iter().filter(|a| a.path != VIEWER_WORKER.0) {
        let name = asset.path.rsplit('/').next().expect("a name");
        let (stem, rest) = name.split_once('.').expect("stem.hash.ext");
        let (hash, _) = rest.split_once('.').expect("hash.ext");
        assert_eq!(hash.len(), 12, "{name}: a 48-bit content hash");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        match stem {
            // The modules the viewer imports, relatively.
            "format" | "origin" => {
                let viewer = VIEWER_ASSETS
                    .iter()
                    .find(|a| a.path.contains("/viewer.") && a.path.ends_with(".js"))
                    .expect("viewer.js");
                let viewer = std::str::from_utf8(viewer.body).expect("UTF-8");
                assert!(
                    viewer.contains(&format!("./{name}")),
                    "viewer.js imports {name}"
                );
            }
            _ => assert!(
                page.contains(asset.path),
                "the page refers to {}",
                asset.path
            ),
        }
    }
    assert!(!page.contains("/s/viewer.js\"") && !page.contains("/s/viewer.css\""));
}

#[test]
fn both_service_workers_stream_videos_with_the_same_code() {
    let text = |assets: &[Asset], path: &str| {
        let asset = assets
            .iter()
            .find(|a| a.path == path)
            .unwrap_or_else(|| panic!("no {path}"));
        std::str::from_utf8(asset.body).expect("UTF-8").to_string()
    };
    let media = include_str!("../../../viewer/media-worker.js");
    let mut workers = vec![text(VIEWER_ASSETS, VIEWER_WORKER.0)];
    if APP_BUILT {
        workers.push(text(APP_ASSETS, "/app/sw.js"));
    }
    for worker in workers {
        assert!(worker.contains(media) && !worker.contains("@MEDIA@"));
    }
}

#[test]
fn every_path_gets_its_certified_answer() {
    let html = "text/html; charset=utf-8";
    let mut cases = vec![
        ("/s", 200, html, REVALIDATE),
        ("/s/", 200, html, REVALIDATE),
        ("/s/nothing.js", 404, html, REVALIDATE),
        ("/index.html", 404, html, REVALIDATE),
        // The API's paths lie under the 404 wildcard: the 404 page is the one answer that
        // verifies there (the API's own answers are not certified: served on raw domains only).
        ("/s/api/link", 404, html, REVALIDATE),
        ("/s/api/x", 404, html, REVALIDATE),
        ("/sw.js", 404, html, REVALIDATE),
    ];
    for asset in VIEWER_ASSETS.iter().filter(|a| a.path != VIEWER_WORKER.0) {
        cases.push((asset.path, 200, asset.content_type, IMMUTABLE));
    }
    // The service worker is revalidated like the page: an upgrade replaces it at once.
    cases.push((
        VIEWER_WORKER.0,
        200,
        "text/javascript; charset=utf-8",
        REVALIDATE,
    ));
    let policy = content_security_policy(&canister());
    for (path, status, content_type, cache) in cases {
        assert_certified(path, status, content_type, cache, &policy, None);
    }
    assert_eq!(response(&canister(), "/s", None).body(), VIEWER_PAGE);
}

#[test]
fn the_app_is_served_at_app_and_the_vaults_address_leads_there() {
    let html = "text/html; charset=utf-8";
    let app = APP_CONTENT_SECURITY_POLICY;
    assert_certified("/app/", 200, html, REVALIDATE, app, None);
    assert_eq!(response(&canister(), "/app/", None).body(), APP_PAGE);
    for path in ["/", "/app"] {
        let answer = assert_certified(path, 308, html, REVALIDATE, app, None);
        assert_eq!(header(&answer, "location"), Some("/app/"), "{path}");
    }
    // Nothing else of the app's is served outside its files.
    for path in [
        "/app/nothing.js",
        "/app/image/thumb/x",
        "/app/index.html",
        "/app/sw",
    ] {
        assert_certified(
            path,
            404,
            html,
            REVALIDATE,
            &content_security_policy(&canister()),
            None,
        );
    }
    if !APP_BUILT {
        let page = String::from_utf8(APP_PAGE.to_vec()).expect("UTF-8");
        assert!(page.contains("without its web app"));
        assert!(APP_ASSETS.is_empty());
        return;
    }
    for asset in APP_ASSETS {
        let immutable = asset.path.rsplit('/').next().unwrap().matches('.').count() == 2;
        let cache = if immutable { IMMUTABLE } else { REVALIDATE };
        let answer = assert_certified(
            asset.path,
            200,
            asset.content_type,
            cache,
            app,
            asset.encoding,
        );
        assert_eq!(answer.body(), asset.body, "{}", asset.path);
    }
    let find = |suffix: &str| {
        APP_ASSETS
            .iter()
            .find(|a| a.path.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} in the app"))
    };
    // The wasm and its glue are served gzipped: the wasm fits the IC's 2 MiB reply with room
    // for the headers.
    let wasm = find(".wasm");
    assert_eq!(wasm.encoding, Some("gzip"));
    assert_eq!(&wasm.body[..2], [0x1f, 0x8b], "gzip's magic");
    assert!(
        wasm.body.len() < (2 << 20) - (16 << 10),
        "{} bytes",
        wasm.body.len()
    );
    assert_eq!(find("/app/sw.js").cache, REVALIDATE);
    assert_eq!(find("/app/app.webmanifest").cache, REVALIDATE);
}

#[test]
fn the_app_refers_to_its_files_by_their_hashed_names() {
    if !APP_BUILT {
        return;
    }
    let text = |asset: &Asset| std::str::from_utf8(asset.body).expect("UTF-8").to_string();
    let find = |name: &str| {
        APP_ASSETS
            .iter()
            .find(|a| {
                let file = a.path.rsplit('/').next().unwrap();
                file.split('.').next() == Some(name) && file.matches('.').count() == 2
            })
            .unwrap_or_else(|| panic!("no hashed {name} in the app"))
    };
    let page = String::from_utf8(APP_PAGE.to_vec()).expect("UTF-8");
    let manifest = text(
        APP_ASSETS
            .iter()
            .find(|a| a.path == "/app/app.webmanifest")
            .expect("a manifest"),
    );
    let worker = text(
        APP_ASSETS
            .iter()
            .find(|a| a.path == "/app/sw.js")
            .expect("a worker"),
    );
    let boot = text(find("boot"));
    for name in ["boot", "style", "icon"] {
        assert!(page.contains(find(name).path), "the page loads {name}");
    }
    for name in ["icon-192", "icon-512"] {
        assert!(
            manifest.contains(find(name).path),
            "the manifest names {name}"
        );
    }
    for name in ["vault-web", "vault-web_bg"] {
        let file = find(name).path.rsplit('/').next().unwrap();
        assert!(boot.contains(&format!("./{file}")), "boot.js loads {file}");
    }
    // The service worker keeps every hashed file, the page and the manifest, and has a version.
    for asset in APP_ASSETS.iter().filter(|a| a.path != "/app/sw.js") {
        assert!(
            worker.contains(&format!("\"{}\"", asset.path)),
            "the shell holds {}",
            asset.path
        );
    }
    assert!(worker.contains("\"/app/\""));
    assert!(!worker.contains("@VERSION@") && !worker.contains("@SHELL@"));
    for unhashed in [
        "/app/boot.js",
        "/app/style.css",
        "/app/icon.svg",
        "./vault-web.js\"",
    ] {
        assert!(
            !page.contains(unhashed) && !boot.contains(unhashed) && !manifest.contains(unhashed),
            "{unhashed}"
        );
    }
}

/// `path`'s answer: its status, content type, cache, policy and encoding, its certificate
/// header, and that without a certificate none is attached.
fn assert_certified(
    path: &str,
    status: u16,
    content_type: &str,
    cache: &str,
    policy: &str,
    encoding: Option<&str>,
) -> HttpResponse<'static> {
    let certificate = b"a data certificate";
    let response = response(&canister(), path, Some(certificate));
    assert_eq!(response.status_code().as_u16(), status, "{path}");
    assert_eq!(
        header(&response, "content-type"),
        Some(content_type),
        "{path}"
    );
    assert_eq!(header(&response, "cache-control"), Some(cache), "{path}");
    assert_eq!(
        header(&response, "content-security-policy"),
        Some(policy),
        "{path}"
    );
    assert_eq!(header(&response, "content-encoding"), encoding, "{path}");
    // Nothing widens a service worker's scope but the viewer's own worker's, to exactly the
    // viewer's page; no answer sets state in the browser.
    assert_eq!(
        header(&response, "service-worker-allowed"),
        (path == VIEWER_WORKER.0).then_some(VIEWER_WORKER.1),
        "{path}"
    );
    assert!(header(&response, "set-cookie").is_none(), "{path}");
    assert_eq!(
        header(&response, CERTIFICATE_EXPRESSION_HEADER_NAME),
        Some(cel().to_string().as_str())
    );
    let certificate_header = header(&response, CERTIFICATE_HEADER_NAME).expect("certified");
    for part in ["certificate=:", "tree=:", "expr_path=:", "version=2"] {
        assert!(certificate_header.contains(part), "{path}: {part}");
    }
    // Without a certificate (an update context) there is nothing to attach.
    assert!(
        header(
            &super::response(&canister(), path, None),
            CERTIFICATE_HEADER_NAME
        )
        .is_none()
    );
    response
}

#[test]
fn the_page_connects_only_to_its_own_raw_domains() {
    let policy = content_security_policy(&canister());
    let connect = policy
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("connect-src "))
        .expect("a connect-src directive");
    assert_eq!(
        connect.split(' ').collect::<Vec<_>>(),
        [
            "https://rwlgt-iiaaa-aaaaa-aaaaa-cai.raw.icp0.io",
            "https://rwlgt-iiaaa-aaaaa-aaaaa-cai.raw.ic0.app",
            "http://rwlgt-iiaaa-aaaaa-aaaaa-cai.raw.localhost:*",
        ]
    );
    assert!(
        !connect.contains("'self'"),
        "the API is not on the page's origin"
    );
    // Another canister's tree certifies its own policy.
    let other = Principal::from_text("rrkah-fqaaa-aaaaa-aaaaq-cai").unwrap();
    assert_ne!(root_hash(&other), root_hash(&canister()));
    assert!(
        header(&response(&other, "/s", None), "content-security-policy")
            .unwrap()
            .contains("rrkah-fqaaa-aaaaa-aaaaq-cai.raw.icp0.io")
    );
}

#[test]
fn witnesses_lead_to_the_certified_root() {
    let root = root_hash(&canister());
    with_certified(&canister(), |c| {
        for (path, entry) in &c.by_path {
            let witness = c.tree.witness(&entry.tree_entry, path).expect("witness");
            assert_eq!(witness.digest(), root, "{path}");
        }
        for path in [
            "/nothing",
            "/app/x/y",
            "/elsewhere/deep/path",
            "/s/api/chunk/00/1",
            "/s/api/x",
        ] {
            let witness = c.tree.witness(&c.not_found.tree_entry, path).expect("404");
            assert_eq!(witness.digest(), root, "{path}");
        }
    });
}

/// The tree holds the viewer's and the app's answers and the 404 page, nothing else: no path
/// skips certification, so a node has no answer of its own to give on the vault's origin.
#[test]
fn no_path_skips_certification() {
    let cel = cel();
    let skip = DefaultCelBuilder::skip_certification().to_string();
    with_certified(&canister(), |c| {
        let mut tree = HttpCertificationTree::default();
        for entry in c.by_path.values().chain([&c.not_found]) {
            assert_eq!(
                header(&entry.response, CERTIFICATE_EXPRESSION_HEADER_NAME),
                Some(cel.to_string().as_str())
            );
            assert_ne!(cel.to_string(), skip);
            tree.insert(&entry.tree_entry);
        }
        assert_eq!(tree.root_hash(), c.tree.root_hash(), "nothing but these");
    });
}
