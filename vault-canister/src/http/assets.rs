//! The link viewer's files, certified (HTTP certification v2, response only): the page at `/s`
//! (and `/s/`), its scripts and style sheet under content-hashed names (`build.rs`), and a 404
//! page for every other path — the API's included. No path of the tree skips certification,
//! so a gateway that verifies serves nothing on the viewer's origin that this canister did not
//! certify: a node cannot put a script there (a service worker that would take over `/s`).
//!
//! The certification tree is the same for every instance of a given wasm on a given canister
//! (the files are part of it, and the content security policy names the canister's raw
//! domains), so it is built on first use and its root hash is what `init` and `post_upgrade`
//! set as the canister's certified data ([`root_hash`]).
//!
//! | path | cache | why |
//! |---|---|---|
//! | `/s`, `/s/`, 404 | `no-cache` | revalidated on every visit, so an upgrade is seen at once |
//! | `/s/<name>.<hash>.<ext>` | `public, max-age=31536000, immutable` | a new version has a new name |

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
/// videos as `blob:` URLs; they may connect only to this canister's raw domains, where the
/// link holder's API is (on the IC, and on a local replica at any port); nothing may frame
/// them, and the page's own address (whose fragment holds the secret) is never a referrer
/// elsewhere.
pub(crate) fn content_security_policy(canister: &Principal) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
         media-src 'self' blob:; connect-src https://{canister}.raw.icp0.io \
         https://{canister}.raw.ic0.app http://{canister}.raw.localhost:*; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

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

fn certify(canister: Principal) -> Certified {
    let cel = cel();
    let policy = content_security_policy(&canister);
    let mut tree = HttpCertificationTree::default();
    let mut certify_one = |path: HttpCertificationPath<'static>,
                           status: StatusCode,
                           content_type: &str,
                           cache: &str,
                           body: &'static [u8]| {
        let mut headers: Vec<(String, String)> =
            vec![("content-security-policy".into(), policy.clone())];
        headers.extend(
            SECURITY_HEADERS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
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

/// The certified answer for `path` (the 404 page for a path that is not the viewer's), with
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
