//! The viewer's certified answers: what each path gets, and that each is witnessed in the tree
//! whose root is the canister's certified data.

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
    let page = String::from_utf8(PAGE.to_vec()).expect("UTF-8");
    for asset in HASHED_ASSETS {
        let name = asset.path.rsplit('/').next().expect("a name");
        let (stem, rest) = name.split_once('.').expect("stem.hash.ext");
        let (hash, _) = rest.split_once('.').expect("hash.ext");
        assert_eq!(hash.len(), 12, "{name}: a 48-bit content hash");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        match stem {
            // The modules the viewer imports, relatively.
            "format" | "origin" => {
                let viewer = HASHED_ASSETS
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
fn every_path_gets_its_certified_answer() {
    let certificate = b"a data certificate";
    let html = "text/html; charset=utf-8";
    let mut cases = vec![
        ("/s", 200, html, REVALIDATE),
        ("/s/", 200, html, REVALIDATE),
        ("/", 404, html, REVALIDATE),
        ("/s/nothing.js", 404, html, REVALIDATE),
        ("/index.html", 404, html, REVALIDATE),
        // The API's paths lie under the 404 wildcard: the 404 page is the one answer that
        // verifies there (the API's own answers are not certified: served on raw domains only).
        ("/s/api/link", 404, html, REVALIDATE),
        ("/s/api/x", 404, html, REVALIDATE),
        ("/sw.js", 404, html, REVALIDATE),
    ];
    for asset in HASHED_ASSETS {
        cases.push((asset.path, 200, asset.content_type, IMMUTABLE));
    }
    let policy = content_security_policy(&canister());
    for (path, status, content_type, cache) in cases {
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
            Some(policy.as_str())
        );
        // Nothing widens a service worker's scope, and no answer sets state in the browser.
        for absent in ["service-worker-allowed", "set-cookie"] {
            assert!(header(&response, absent).is_none(), "{path}: {absent}");
        }
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
    }
    assert_eq!(response(&canister(), "/s", None).body(), PAGE);
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
        for path in ["/", "/elsewhere/deep/path", "/s/api/chunk/00/1", "/s/api/x"] {
            let witness = c.tree.witness(&c.not_found.tree_entry, path).expect("404");
            assert_eq!(witness.digest(), root, "{path}");
        }
    });
}

/// The tree holds the viewer's answers and the 404 page, nothing else: no path skips
/// certification, so a node has no answer of its own to give on the viewer's origin.
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
