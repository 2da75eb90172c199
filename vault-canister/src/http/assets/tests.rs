//! The viewer's certified answers: what each path gets, and that each is witnessed in the tree
//! whose root is the canister's certified data.

use ic_http_certification::CERTIFICATE_HEADER_NAME;

use super::*;

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
            // The module the viewer imports, relatively.
            "format" => {
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
    ];
    for asset in HASHED_ASSETS {
        cases.push((asset.path, 200, asset.content_type, IMMUTABLE));
    }
    for (path, status, content_type, cache) in cases {
        let response = response(path, Some(certificate));
        assert_eq!(response.status_code().as_u16(), status, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            Some(content_type),
            "{path}"
        );
        assert_eq!(header(&response, "cache-control"), Some(cache), "{path}");
        assert_eq!(
            header(&response, "content-security-policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
        assert_eq!(
            header(&response, CERTIFICATE_EXPRESSION_HEADER_NAME),
            Some(cel().to_string().as_str())
        );
        let certificate_header = header(&response, CERTIFICATE_HEADER_NAME).expect("certified");
        for part in ["certificate=:", "tree=:", "expr_path=:", "version=2"] {
            assert!(certificate_header.contains(part), "{path}: {part}");
        }
        // Without a certificate (an update context) there is nothing to attach.
        assert!(header(&super::response(path, None), CERTIFICATE_HEADER_NAME).is_none());
    }
    assert_eq!(response("/s", None).body(), PAGE);
}

#[test]
fn witnesses_lead_to_the_certified_root() {
    let root = root_hash();
    with_certified(|c| {
        for (path, entry) in &c.by_path {
            let witness = c.tree.witness(&entry.tree_entry, path).expect("witness");
            assert_eq!(witness.digest(), root, "{path}");
        }
        for path in ["/", "/elsewhere/deep/path"] {
            let witness = c.tree.witness(&c.not_found.tree_entry, path).expect("404");
            assert_eq!(witness.digest(), root, "{path}");
        }
        let witness = c.tree.witness(&c.api, "/s/api/chunk/00/1").expect("api");
        assert_eq!(witness.digest(), root);
    });
}

#[test]
fn api_answers_say_the_canister_skips_their_certification() {
    let mut response = HttpResponse::builder().build();
    skip_certification(&mut response, "/s/api/link", b"certificate");
    assert_eq!(
        header(&response, CERTIFICATE_EXPRESSION_HEADER_NAME),
        Some(DefaultCelBuilder::skip_certification().to_string().as_str())
    );
    assert!(header(&response, CERTIFICATE_HEADER_NAME).is_some());
}
