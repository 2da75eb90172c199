//! What the canister serves to browsers, certified (HTTP certification v2, response only): the
//! link viewer at `/s` (and `/s/`), the owner's web app at `/app/` (where `/` and `/app` lead),
//! their scripts, style sheets, icons and wasm under content-hashed names (`build.rs`), the app's
//! manifest and service worker, and a 404 page for every other path — the API's included. No
//! path of the tree skips certification, so a gateway that verifies serves nothing on the
//! vault's origin that this canister did not certify: a node cannot put a script there (a
//! service worker that would take over `/s` or `/app/`).
//!
//! The certification tree is the same for every instance of a given wasm on a given canister
//! (the files are part of it, and the viewer's content security policy names the canister's raw
//! domains), so it is built on first use and its root hash is what `init` and `post_upgrade`
//! set as the canister's certified data ([`root_hash`]). An upgrade thus brings its own app.
//!
//! | path | cache | why |
//! |---|---|---|
//! | `/s`, `/s/`, `/s/sw.js`, `/app/`, `/app/app.webmanifest`, `/app/sw.js`, redirects, 404 | `no-cache` | revalidated on every visit, so an upgrade is seen at once |
//! | `/s/<name>.<hash>.<ext>`, `/app/<name>.<hash>.<ext>` | `public, max-age=31536000, immutable` | a new version has a new name |
//!
//! The app's wasm and JS glue are stored gzipped and served so (`content-encoding: gzip`,
//! certified with the rest of the headers: the certified body is the gzipped one, as the IC's
//! gateways verify it). The wasm must stay under the IC's 2 MiB reply: a test checks it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use candid::Principal;

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
    /// Its `cache-control`: [`IMMUTABLE`] for a content-hashed name, else [`REVALIDATE`].
    pub cache: &'static str,
    /// Its `content-encoding`, when the body is stored encoded (the web app's wasm and glue).
    pub encoding: Option<&'static str>,
}

// VIEWER_ASSETS, APP_ASSETS, VIEWER_PAGE, APP_PAGE, APP_BUILT (build.rs).
include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Where the web app's page is (its service worker's scope): `/` and `/app` lead there.
pub const APP_PATH: &str = "/app/";

/// The link viewer's service worker, and the scope its `service-worker-allowed` header lets it
/// have: the viewer's page, `/s` (a worker's own folder, `/s/`, would not cover it).
pub const VIEWER_WORKER: (&str, &str) = ("/s/sw.js", "/s");

/// What a browser gets for a path this canister does not serve.
const NOT_FOUND_PAGE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Not found</title>\
<h1>Nothing here</h1><p>This is a private Vault: nothing in it is public. A link someone shared \
with you ends in <code>/s#…</code>; copy the whole link and open it again. The vault's owner \
opens it at <a href=\"/app/\">/app/</a>.</p></html>";

/// The viewer's policy (its pages, and the 404 page): the page and the scripts may load only
/// what this origin serves (the viewer's service worker streams videos from it), and decrypted
/// images and videos as `blob:` URLs; its service worker is this origin's; they may connect
/// only to this canister's raw domains, where the link holder's API is (on the IC, and on a
/// local replica at any port); nothing may frame them, and the page's own address (whose
/// fragment holds the secret) is never a referrer elsewhere.
pub(crate) fn content_security_policy(canister: &Principal) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
         media-src 'self' blob:; worker-src 'self'; connect-src https://{canister}.raw.icp0.io \
         https://{canister}.raw.ic0.app http://{canister}.raw.localhost:*; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

/// The web app's policy: scripts and wasm from this origin only (`'wasm-unsafe-eval'` lets the
/// page compile its own wasm, nothing else); style sheets from this origin, and `style`
/// attributes (the timeline places its rows with them; an attribute cannot load or run
/// anything); images and videos from this origin (the service worker's decrypted answers) or
/// `blob:`; workers (the service worker) from this origin; connections to this origin (a local
/// replica's API is on the page's own origin) and to the IC's API domains, where its agent
/// calls the vault; nothing may frame it.
pub(crate) const APP_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; style-src-attr 'unsafe-inline'; \
     img-src 'self' blob:; media-src 'self' blob:; worker-src 'self'; manifest-src 'self'; \
     connect-src 'self' https://icp-api.io https://icp0.io https://ic0.app; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Headers every certified answer carries, besides the content security policy.
const SECURITY_HEADERS: [(&str, &str); 5] = [
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
    /// Whose: the content security policy names it.
    canister: Principal,
    tree: HttpCertificationTree,
    by_path: BTreeMap<&'static str, Entry>,
    not_found: Entry,
}

/// A certified answer and the tree entry that certifies it.
struct Entry {
    response: HttpResponse<'static>,
    tree_entry: HttpCertificationTreeEntry<'static>,
}

thread_local! {
    static CERTIFIED: RefCell<Option<Rc<Certified>>> = const { RefCell::new(None) };
}

/// `f` over the certified answers of `canister` (a canister has one id: built once).
fn with_certified<R>(canister: &Principal, f: impl FnOnce(&Certified) -> R) -> R {
    let certified = CERTIFIED.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(certified) = c.as_ref().filter(|c| c.canister == *canister) {
            return certified.clone();
        }
        let built = Rc::new(certify(*canister));
        *c = Some(built.clone());
        built
    });
    f(&certified)
}

/// Every header is certified (none excluded) except the certificate itself.
fn cel() -> DefaultResponseOnlyCelExpression<'static> {
    DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::response_header_exclusions(
            vec![],
        ))
        .build()
}

/// One answer to certify.
struct Answer<'a> {
    status: StatusCode,
    policy: &'a str,
    content_type: &'a str,
    cache: &'a str,
    /// More headers (`content-encoding`, `location`).
    extra: Vec<(String, String)>,
    body: &'static [u8],
}

impl Answer<'_> {
    /// The answer with the certification of it at `path` (not yet in a tree).
    fn certify(
        self,
        path: HttpCertificationPath<'static>,
        cel: &DefaultResponseOnlyCelExpression<'static>,
    ) -> Entry {
        let mut headers: Vec<(String, String)> =
            vec![("content-security-policy".into(), self.policy.into())];
        headers.extend(
            SECURITY_HEADERS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        headers.push(("content-type".into(), self.content_type.into()));
        headers.push(("cache-control".into(), self.cache.into()));
        headers.extend(self.extra);
        headers.push((
            CERTIFICATE_EXPRESSION_HEADER_NAME.to_string(),
            cel.to_string(),
        ));
        let response = HttpResponse::builder()
            .with_status_code(self.status)
            .with_headers(headers)
            .with_body(Cow::Borrowed(self.body))
            .build();
        let certification = HttpCertification::response_only(cel, &response, None)
            .expect("the response carries its own expression");
        let tree_entry = HttpCertificationTreeEntry::new(path, certification);
        Entry {
            response,
            tree_entry,
        }
    }
}

fn certify(canister: Principal) -> Certified {
    let cel = cel();
    let viewer_policy = content_security_policy(&canister);
    let html = "text/html; charset=utf-8";
    let mut by_path = BTreeMap::new();
    let mut certify_path = |path: &'static str, answer: Answer| {
        by_path.insert(
            path,
            answer.certify(HttpCertificationPath::exact(path), &cel),
        );
    };
    let page = |policy, body| Answer {
        status: StatusCode::OK,
        policy,
        content_type: html,
        cache: REVALIDATE,
        extra: vec![],
        body,
    };
    let file = |policy, asset: &Asset| Answer {
        status: StatusCode::OK,
        policy,
        content_type: asset.content_type,
        cache: asset.cache,
        extra: asset
            .encoding
            .map(|e| ("content-encoding".to_string(), e.to_string()))
            .into_iter()
            .chain((asset.path == VIEWER_WORKER.0).then(|| {
                (
                    "service-worker-allowed".to_string(),
                    VIEWER_WORKER.1.to_string(),
                )
            }))
            .collect(),
        body: asset.body,
    };
    for path in ["/s", "/s/"] {
        certify_path(path, page(&viewer_policy, VIEWER_PAGE));
    }
    for asset in VIEWER_ASSETS {
        certify_path(asset.path, file(&viewer_policy, asset));
    }
    certify_path(APP_PATH, page(APP_CONTENT_SECURITY_POLICY, APP_PAGE));
    for asset in APP_ASSETS {
        certify_path(asset.path, file(APP_CONTENT_SECURITY_POLICY, asset));
    }
    // The vault's own address, and the app's without its slash (which its service worker's
    // scope would not cover), lead to the app.
    for path in ["/", "/app"] {
        certify_path(
            path,
            Answer {
                status: StatusCode::PERMANENT_REDIRECT,
                policy: APP_CONTENT_SECURITY_POLICY,
                content_type: html,
                cache: REVALIDATE,
                extra: vec![("location".into(), APP_PATH.into())],
                body: b"",
            },
        );
    }
    let not_found = Answer {
        status: StatusCode::NOT_FOUND,
        policy: &viewer_policy,
        content_type: html,
        cache: REVALIDATE,
        extra: vec![],
        body: NOT_FOUND_PAGE.as_bytes(),
    }
    .certify(HttpCertificationPath::wildcard(""), &cel);
    // In the order of their paths, the 404 last: a tree's shape, and so its root hash,
    // depends on the order of insertion.
    let mut tree = HttpCertificationTree::default();
    for entry in by_path.values().chain([&not_found]) {
        tree.insert(&entry.tree_entry);
    }
    Certified {
        canister,
        tree,
        by_path,
        not_found,
    }
}

/// The certified data to set in `init` and `post_upgrade` of `canister`.
pub fn root_hash(canister: &Principal) -> [u8; 32] {
    with_certified(canister, |c| c.tree.root_hash())
}

/// The certified answer for `path` (the 404 page for a path that is served nothing), with
/// its certificate when the message has one (queries do).
pub fn response(
    canister: &Principal,
    path: &str,
    certificate: Option<&[u8]>,
) -> HttpResponse<'static> {
    with_certified(canister, |c| {
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

#[cfg(test)]
mod tests;
