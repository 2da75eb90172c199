//! The link viewer's files, certified (HTTP certification v2, response only): the page at `/s`
//! (and `/s/`), its scripts and style sheet under content-hashed names (`build.rs`), and a 404
//! page for every other path outside the API.
//!
//! The certification tree is the same for every instance of a given wasm (the files are part of
//! it), so it is built on first use in each message and its root hash is what `init` and
//! `post_upgrade` set as the canister's certified data ([`root_hash`]).
//!
//! | path | cache | why |
//! |---|---|---|
//! | `/s`, `/s/`, 404 | `no-cache` | revalidated on every visit, so an upgrade is seen at once |
//! | `/s/<name>.<hash>.<ext>` | `public, max-age=31536000, immutable` | a new version has a new name |

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;

use ic_http_certification::utils::add_v2_certificate_header;
use ic_http_certification::{
    CERTIFICATE_EXPRESSION_HEADER_NAME, DefaultCelBuilder, DefaultResponseCertification,
    DefaultResponseOnlyCelExpression, HttpCertification, HttpCertificationPath,
    HttpCertificationTree, HttpCertificationTreeEntry, HttpResponse, StatusCode,
};

/// One embedded file.
pub(crate) struct Asset {
    /// Where it is served.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

// HASHED_ASSETS: the scripts and the style sheet.
include!(concat!(env!("OUT_DIR"), "/viewer_assets.rs"));

/// The viewer's page, with the hashed names of its scripts.
const PAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/viewer/index.html"));

/// What a browser gets for a path this canister does not serve.
const NOT_FOUND_PAGE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Not found</title>\
<h1>Nothing here</h1><p>This is a private Vault: nothing in it is public. A link someone shared \
with you ends in <code>/s#…</code>; copy the whole link and open it again.</p></html>";

/// The page and the scripts may load only what this origin serves, and decrypted images and
/// videos as `blob:` URLs; nothing may frame them, and the page's own address (whose fragment
/// holds the secret) is never a referrer elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// Headers every certified answer carries.
const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
];

const REVALIDATE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The certified answers, by request path, and the tree that certifies them.
struct Certified {
    tree: HttpCertificationTree,
    by_path: BTreeMap<&'static str, Entry>,
    not_found: Entry,
    api: HttpCertificationTreeEntry<'static>,
}

/// A certified answer and the tree entry that certifies it.
struct Entry {
    response: HttpResponse<'static>,
    tree_entry: HttpCertificationTreeEntry<'static>,
}

thread_local! {
    static CERTIFIED: OnceCell<Certified> = const { OnceCell::new() };
}

fn with_certified<R>(f: impl FnOnce(&Certified) -> R) -> R {
    CERTIFIED.with(|c| f(c.get_or_init(certify)))
}

/// Every header is certified (none excluded) except the certificate itself.
fn cel() -> DefaultResponseOnlyCelExpression<'static> {
    DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::response_header_exclusions(
            vec![],
        ))
        .build()
}

fn certify() -> Certified {
    let cel = cel();
    let mut tree = HttpCertificationTree::default();
    let mut certify_one = |path: HttpCertificationPath<'static>,
                           status: StatusCode,
                           content_type: &str,
                           cache: &str,
                           body: &'static [u8]| {
        let mut headers: Vec<(String, String)> = SECURITY_HEADERS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        headers.push(("content-type".into(), content_type.into()));
        headers.push(("cache-control".into(), cache.into()));
        headers.push((
            CERTIFICATE_EXPRESSION_HEADER_NAME.to_string(),
            cel.to_string(),
        ));
        let response = HttpResponse::builder()
            .with_status_code(status)
            .with_headers(headers)
            .with_body(Cow::Borrowed(body))
            .build();
        let certification = HttpCertification::response_only(&cel, &response, None)
            .expect("the response carries its own expression");
        let tree_entry = HttpCertificationTreeEntry::new(path, certification);
        tree.insert(&tree_entry);
        Entry {
            response,
            tree_entry,
        }
    };
    let html = "text/html; charset=utf-8";
    let mut by_path = BTreeMap::new();
    for page_path in ["/s", "/s/"] {
        let entry = certify_one(
            HttpCertificationPath::exact(page_path),
            StatusCode::OK,
            html,
            REVALIDATE,
            PAGE,
        );
        by_path.insert(page_path, entry);
    }
    for asset in HASHED_ASSETS {
        let entry = certify_one(
            HttpCertificationPath::exact(asset.path),
            StatusCode::OK,
            asset.content_type,
            IMMUTABLE,
            asset.body,
        );
        by_path.insert(asset.path, entry);
    }
    let not_found = certify_one(
        HttpCertificationPath::wildcard(""),
        StatusCode::NOT_FOUND,
        html,
        REVALIDATE,
        NOT_FOUND_PAGE.as_bytes(),
    );
    let api = HttpCertificationTreeEntry::new(
        HttpCertificationPath::wildcard(super::api::PREFIX.trim_end_matches('/')),
        HttpCertification::skip(),
    );
    tree.insert(&api);
    Certified {
        tree,
        by_path,
        not_found,
        api,
    }
}

/// The certified data to set in `init` and `post_upgrade`.
pub fn root_hash() -> [u8; 32] {
    with_certified(|c| c.tree.root_hash())
}

/// The certified answer for `path` (the 404 page for a path that is not the viewer's), with
/// its certificate when the message has one (queries do).
pub fn response(path: &str, certificate: Option<&[u8]>) -> HttpResponse<'static> {
    with_certified(|c| {
        let entry = c.by_path.get(path).unwrap_or(&c.not_found);
        let mut response = entry.response.clone();
        if let Some(certificate) = certificate {
            let witness = c
                .tree
                .witness(&entry.tree_entry, path)
                .expect("every path is witnessed by its own entry or the root wildcard");
            add_v2_certificate_header(
                certificate,
                &mut response,
                &witness,
                &entry.tree_entry.path.to_expr_path(),
            );
        }
        response
    })
}

/// Adds to an API answer for `path` the headers that tell the gateway that the canister itself
/// chose not to certify it (PROTOCOL.md §7 says why that is safe).
pub fn skip_certification(response: &mut HttpResponse, path: &str, certificate: &[u8]) {
    with_certified(|c| {
        let witness = c
            .tree
            .witness(&c.api, path)
            .expect("API paths lie under the API wildcard");
        add_v2_certificate_header(certificate, response, &witness, &c.api.path.to_expr_path());
        response.add_header((
            CERTIFICATE_EXPRESSION_HEADER_NAME.to_string(),
            DefaultCelBuilder::skip_certification().to_string(),
        ));
    })
}

#[cfg(test)]
mod tests;
