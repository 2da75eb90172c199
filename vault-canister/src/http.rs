//! The canister over plain HTTP, for link recipients who have only a browser (PROTOCOL.md §7).
//!
//! - `/s` is the link viewer (`viewer/`): a page and its scripts, which read the link's secret
//!   from the URL fragment and decrypt in the browser. These answers are **certified**
//!   (response verification v2, [`assets`]): the code that handles the key cannot be swapped by
//!   a node or a boundary node, whose gateway refuses an answer that does not verify.
//! - `/s/api/…` serves a link holder ciphertext and what is needed to decrypt it ([`api`]),
//!   checking the token (and the password proof) on every request. These answers are **not
//!   certified**: they are made per request from the vault's state, and need no certificate to
//!   be trusted — every byte a browser decrypts is authenticated by AES-GCM under keys derived
//!   from the fragment, so an altered answer fails to decrypt; what a forger could do is
//!   withhold or replay, which certification of a query would not prevent either. But an
//!   uncertified answer must never reach the viewer's origin (a node could serve a script there
//!   instead, and register it as a service worker over `/s`): the viewer fetches the API from
//!   the canister's raw domain, another origin, and on the viewer's origin no path skips
//!   certification, so a gateway serves there only what the canister certified.
//!
//! Everything here is glue between the gateway's `HttpRequest` and those two modules.

pub(crate) mod api;
pub(crate) mod assets;

use candid::Principal;
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};
use ic_stable_structures::Memory;

use crate::model::State;

/// The path the viewer and its API live under (a link URL is `<origin>/s#<fragment>`).
pub const BASE: &str = "/s";

/// Answers `canister`'s `http_request` query: the certified viewer, or the API (uncertified).
/// `certificate` is the message's data certificate (a query has one), which the gateway checks
/// the viewer's answers against.
pub fn request<M: Memory>(
    state: &State<M>,
    now: u64,
    canister: &Principal,
    request: &HttpRequest,
    certificate: Option<&[u8]>,
) -> HttpResponse<'static> {
    let path = request.get_path().unwrap_or_default();
    if !api::is_api(&path) {
        return assets::response(canister, &path, certificate);
    }
    api::response(api::query(
        state,
        now,
        request.method().as_str(),
        &path,
        request.get_query().ok().flatten().as_deref(),
        request.headers(),
    ))
}

/// Answers an `http_request_update` (an API request that changes state: counting an opening).
pub fn update<M: Memory>(
    state: &mut State<M>,
    now: u64,
    request: &HttpUpdateRequest,
) -> HttpUpdateResponse<'static> {
    let path = request.get_path().unwrap_or_default();
    let answer = api::update(
        state,
        now,
        request.method().as_str(),
        &path,
        request.headers(),
    );
    // An update's answer is certified by the IC's consensus, not by a witness.
    api::response(answer).into()
}

/// The gateway's types as `vault.did` declares them: what `ic-http-certification`'s types
/// encode to (IC HTTP gateway protocol), without that crate's Rust examples in their docs.
pub mod interface {
    use candid::{CandidType, Deserialize};
    use serde_bytes::ByteBuf;

    /// A browser's request, as an HTTP gateway passes it on.
    #[derive(CandidType, Deserialize, Debug, PartialEq)]
    pub struct HttpRequest {
        pub method: String,
        pub url: String,
        pub headers: Vec<(String, String)>,
        pub body: ByteBuf,
        /// The highest response verification version the gateway understands.
        pub certificate_version: Option<u16>,
    }

    /// The canister's answer to a query; `upgrade = opt true` asks the gateway to send the
    /// request again as `http_request_update`.
    #[derive(CandidType, Deserialize, Debug, PartialEq)]
    pub struct HttpResponse {
        pub status_code: u16,
        pub headers: Vec<(String, String)>,
        pub body: ByteBuf,
        pub upgrade: Option<bool>,
    }

    /// A request sent again as an update.
    #[derive(CandidType, Deserialize, Debug, PartialEq)]
    pub struct HttpUpdateRequest {
        pub method: String,
        pub url: String,
        pub headers: Vec<(String, String)>,
        pub body: ByteBuf,
    }

    /// The canister's answer to an update.
    #[derive(CandidType, Deserialize, Debug, PartialEq)]
    pub struct HttpUpdateResponse {
        pub status_code: u16,
        pub headers: Vec<(String, String)>,
        pub body: ByteBuf,
    }
}

#[cfg(test)]
mod tests {
    use candid::{decode_one, encode_one};
    use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};
    use serde_bytes::ByteBuf;

    use super::interface;

    /// `vault.did` declares what the gateway really sends and gets: each type decodes as the
    /// other.
    #[test]
    fn the_declared_interface_is_what_is_encoded() {
        let headers = vec![("x-vault-token".to_string(), "abc".to_string())];
        let request = interface::HttpRequest {
            method: "GET".into(),
            url: "/s/api/link?x=1".into(),
            headers: headers.clone(),
            body: ByteBuf::from(vec![1, 2]),
            certificate_version: Some(2),
        };
        let decoded: HttpRequest = decode_one(&encode_one(&request).unwrap()).unwrap();
        assert_eq!(decoded.url(), "/s/api/link?x=1");
        assert_eq!(decoded.headers(), &headers[..]);
        assert_eq!(decoded.certificate_version(), Some(2));
        let update = interface::HttpUpdateRequest {
            method: "POST".into(),
            url: "/s/api/opened".into(),
            headers: headers.clone(),
            body: ByteBuf::new(),
        };
        let decoded: HttpUpdateRequest = decode_one(&encode_one(&update).unwrap()).unwrap();
        assert_eq!(decoded.url(), "/s/api/opened");

        let response = HttpResponse::builder()
            .with_status_code(ic_http_certification::StatusCode::GONE)
            .with_headers(headers.clone())
            .with_body(vec![7u8])
            .with_upgrade(true)
            .build();
        let decoded: interface::HttpResponse = decode_one(&encode_one(&response).unwrap()).unwrap();
        let expected = interface::HttpResponse {
            status_code: 410,
            headers: headers.clone(),
            body: ByteBuf::from(vec![7]),
            upgrade: Some(true),
        };
        assert_eq!(decoded, expected);
        let update: HttpUpdateResponse = response.into();
        let decoded: interface::HttpUpdateResponse =
            decode_one(&encode_one(&update).unwrap()).unwrap();
        assert_eq!(
            (decoded.status_code, decoded.body.into_vec()),
            (410, vec![7])
        );
    }
}
