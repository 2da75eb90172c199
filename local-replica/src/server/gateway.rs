//! The HTTP gateway: browsers reach a canister at `http://<canister-id>.localhost:<port>/…` or
//! `http://127.0.0.1:<port>/…?canisterId=<canister-id>`, and get what its `http_request` query
//! answers — or, when that answer asks for an upgrade, what `http_request_update` answers (IC
//! HTTP gateway protocol). Calls are made as the anonymous principal, as the IC's gateways do.
//!
//! As on the IC, a query's answer is served only if it verifies against the canister's certified
//! data ([`verify`]: response verification version 2 at least, with `ic-response-verification`:
//! the `IC-Certificate` header's certificate signed by the root key, at most 5 minutes from now,
//! its witness of `http_expr/…` matching the `IC-CertificateExpression` header, the request and
//! the response); one that does not verify is refused with 503 and the reason. That is what stops a
//! malicious node from swapping a page's code on the IC, and it makes a canister whose answers are
//! not properly certified fail here as it would there. Not verified, as on the IC: the answer of
//! `http_request_update` (it went through consensus), and everything served on the raw domains,
//! `http://<canister-id>.raw.localhost:<port>/…` (the IC's `<canister-id>.raw.icp0.io`).
//!
//! Headers, as the IC's `ic-http-gateway` serves them (`protocol/handler.rs`): of an answer that
//! verifies under a certification, only the headers the certification covers, with
//! `IC-CertificateExpression` and `IC-Certificate` (what `ic-response-verification` returns as
//! the verified response) — a header a node adds, `Service-Worker-Allowed` or `Set-Cookie` say,
//! never reaches the browser; of an answer whose certification the canister itself skips (a
//! witnessed `no_certification` expression), of an upgrade's and of a raw domain's, every
//! header as the canister gave it. (So a canister must not skip certification on an origin
//! that runs code it certified: the node may then say anything there.)
//!
//! Not provided: streaming callbacks (`streaming_strategy`).
//!
//! For tests only, the replica can play one dishonest node ([`DISHONEST_ANSWER_VAR`]): it then
//! answers `http_request` for one path with an answer of the test's own, as a node on the IC
//! can, keeping the certificate headers of the canister's real answer (a node cannot sign
//! anything itself). The gateway verifies that answer like any other.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use candid::{CandidType, Deserialize, Principal};
use ic_http_certification::{CERTIFICATE_EXPRESSION_HEADER_NAME, CERTIFICATE_HEADER_NAME};
use ic_response_verification::ResponseVerificationError;
use serde_bytes::ByteBuf;

use super::api::{reject_of, run_query, text};
use super::{MAX_REQUEST_BYTES, Shared};
use crate::CallError;
use crate::ingress::CanisterCall;

/// `http_request`'s argument (IC HTTP gateway protocol).
#[derive(CandidType, Deserialize, Debug)]
struct HttpRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: ByteBuf,
    certificate_version: Option<u16>,
}

/// What `http_request` and `http_request_update` answer (the fields this gateway uses).
#[derive(CandidType, Deserialize, Debug)]
struct HttpResponse {
    status_code: u16,
    headers: Vec<(String, String)>,
    body: ByteBuf,
    upgrade: Option<bool>,
}

/// How long before or after now a certificate's time may be: the IC's HTTP gateways allow 5 minutes.
const MAX_CERT_TIME_OFFSET_NS: u128 = 5 * 60 * 1_000_000_000;

/// The oldest response verification version taken: 2 (v1 certifies neither status nor headers).
const MIN_VERIFICATION_VERSION: u8 = 2;

/// Whom a browser request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Target {
    canister: Principal,
    /// Asked for on a raw domain (`<id>.raw.localhost`): served without verification.
    raw: bool,
}

/// The canister a browser request is for: the host's first label (`<id>.localhost`, or
/// `<id>.raw.localhost`, which is served unverified), else the `canisterId` query parameter, else
/// that of the page it came from (`Referer`).
fn canister_of(request: &Request<Body>) -> Option<Result<Target, String>> {
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    if let Some((first, rest)) = host.split_once('.')
        && (rest == "localhost" || rest.ends_with(".localhost"))
    {
        return Some(
            Principal::from_text(first)
                .map(|canister| Target {
                    canister,
                    raw: rest.split('.').next() == Some("raw"),
                })
                .map_err(|e| format!("`{first}` in the host name is not a canister id: {e}")),
        );
    }
    let from_query = |query: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("canisterId="))
            .map(str::to_string)
    };
    let named = request.uri().query().and_then(from_query).or_else(|| {
        let referer = request.headers().get(axum::http::header::REFERER)?;
        let referer = referer.to_str().ok()?;
        from_query(referer.split_once('?')?.1)
    })?;
    Some(
        Principal::from_text(&named)
            .map(|canister| Target {
                canister,
                raw: false,
            })
            .map_err(|e| format!("canisterId `{named}` is not a canister id: {e}")),
    )
}

/// Serves a browser's request through the canister's `http_request`.
pub(crate) async fn serve(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let target = match canister_of(&request) {
        Some(Ok(target)) => target,
        Some(Err(why)) => return text(StatusCode::BAD_REQUEST, why),
        None => {
            return text(
                StatusCode::NOT_FOUND,
                "This is a local Internet Computer replica. Open a canister at \
                 http://<canister-id>.localhost:<port>/ or add ?canisterId=<canister-id> \
                 (answers verified as on the IC), or at http://<canister-id>.raw.localhost:<port>/ \
                 (not verified); agents use /api/v2/status and /api/v{2,3,4}/canister/<id>/…"
                    .to_string(),
            );
        }
    };
    let canister = target.canister;
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
        );
    };
    let http_request = HttpRequest {
        method: parts.method.to_string(),
        url: parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.to_string()),
        headers: parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
            .collect(),
        body: ByteBuf::from(body.to_vec()),
        certificate_version: Some(2),
    };
    let arg = match candid::encode_one(&http_request) {
        Ok(arg) => arg,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let call = |method: &str| CanisterCall {
        canister_id: canister,
        method_name: method.to_string(),
        arg: arg.clone(),
        nonce: None,
    };
    let answer = match run_query(&shared, Principal::anonymous(), call("http_request")).await {
        Ok(answer) => answer,
        Err(stopped) => return text(StatusCode::SERVICE_UNAVAILABLE, stopped.to_string()),
    };
    let mut response = match decoded(canister, "http_request", answer) {
        Ok(response) => response,
        Err(failure) => return failure,
    };
    if let Some(dishonest) = DISHONEST.get_or_init(DishonestAnswer::from_env)
        && dishonest.path == parts.uri.path()
    {
        response = dishonest.instead_of(response);
    }
    // What the query answered is served as it is, so it is verified; an upgrade's answer went
    // through consensus (as on the IC, it is not verified); a raw domain verifies nothing.
    let upgraded = response.upgrade == Some(true);
    if upgraded {
        let runner = shared.clone();
        let update = call("http_request_update");
        let answer = shared
            .executor
            .run(move |replica| {
                runner.advance_time(replica);
                let result = replica.update_call(
                    Principal::anonymous(),
                    canister,
                    &update.method_name,
                    &update.arg,
                );
                runner.sync_canister(replica, canister);
                result.map(|reply| reply.bytes)
            })
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(stopped) => return text(StatusCode::SERVICE_UNAVAILABLE, stopped.to_string()),
        };
        response = match decoded(canister, "http_request_update", answer) {
            Ok(response) => response,
            Err(failure) => return failure,
        };
    }
    let Ok(status) = StatusCode::from_u16(response.status_code) else {
        return text(
            StatusCode::BAD_GATEWAY,
            format!(
                "canister {canister} answered status {}, which is not an HTTP status",
                response.status_code
            ),
        );
    };
    if !upgraded && !target.raw {
        let verified = verify(
            &http_request,
            &response,
            status,
            canister,
            &shared.root_key,
            shared.now(),
        );
        match verified {
            Ok(Verified::Certified { headers }) => response.headers = headers,
            Ok(Verified::Skipped) => {}
            Err(why) => return unverified(&parts, canister, &why),
        }
    }
    into_http(status, response)
}

/// Names a file that makes this replica answer like one dishonest node (tests only): its first
/// line is `<request path> <status>`, then `<name>: <value>` header lines, an empty line and
/// the body. Every `http_request` to that path, on any canister and domain, gets that answer
/// with the `IC-Certificate` and `IC-CertificateExpression` headers of the canister's own.
const DISHONEST_ANSWER_VAR: &str = "LOCAL_REPLICA_DISHONEST_ANSWER";

static DISHONEST: std::sync::OnceLock<Option<DishonestAnswer>> = std::sync::OnceLock::new();

/// What a dishonest node answers for one path ([`DISHONEST_ANSWER_VAR`]).
#[derive(Debug, PartialEq)]
struct DishonestAnswer {
    path: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl DishonestAnswer {
    fn from_env() -> Option<Self> {
        let file = std::env::var_os(DISHONEST_ANSWER_VAR)?;
        let answer = std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                Self::parse(&text).ok_or_else(|| {
                    "not `<path> <status>`, header lines, an empty line and a body".to_string()
                })
            });
        match answer {
            Ok(answer) => Some(answer),
            Err(why) => {
                eprintln!("{DISHONEST_ANSWER_VAR}={}: {why}; ignored", file.display());
                None
            }
        }
    }

    fn parse(text: &[u8]) -> Option<Self> {
        let split = text.windows(2).position(|w| w == b"\n\n")?;
        let head = std::str::from_utf8(&text[..split]).ok()?;
        let mut lines = head.lines();
        let (path, status) = lines.next()?.split_once(' ')?;
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.trim().to_string(), value.trim().to_string()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(DishonestAnswer {
            path: path.to_string(),
            status: status.trim().parse().ok()?,
            headers,
            body: text[split + 2..].to_vec(),
        })
    }

    /// This answer in the place of the canister's `real` one, with its certificate headers.
    fn instead_of(&self, real: HttpResponse) -> HttpResponse {
        let mut headers = self.headers.clone();
        headers.extend(real.headers.into_iter().filter(|(name, _)| {
            name.eq_ignore_ascii_case(CERTIFICATE_HEADER_NAME)
                || name.eq_ignore_ascii_case(CERTIFICATE_EXPRESSION_HEADER_NAME)
        }));
        HttpResponse {
            status_code: self.status,
            headers,
            body: ByteBuf::from(self.body.clone()),
            upgrade: None,
        }
    }
}

/// How an answer verified.
#[derive(Debug, PartialEq)]
enum Verified {
    /// Under a certification: these are the headers it covers (with the certificate's own).
    Certified { headers: Vec<(String, String)> },
    /// The canister certified that it skips this answer's certification.
    Skipped,
}

/// Verifies `response`, what `canister`'s `http_request` answered to `request`, as the IC's HTTP
/// gateways do: `ic_response_verification::verify_request_response_pair` with the replica's root
/// key (DER), `now_ns` as the current time, a certificate time offset of 5 minutes and response
/// verification version 2 at least. `Err` says why it does not verify.
fn verify(
    request: &HttpRequest,
    response: &HttpResponse,
    status: StatusCode,
    canister: Principal,
    root_key: &[u8],
    now_ns: u64,
) -> Result<Verified, String> {
    let method = ic_http_certification::Method::from_bytes(request.method.as_bytes())
        .map_err(|e| format!("the request's method `{}`: {e}", request.method))?;
    let certified_request = ic_http_certification::HttpRequest::builder()
        .with_method(method)
        .with_url(request.url.as_str())
        .with_headers(request.headers.clone())
        .with_body(request.body.as_slice())
        .build();
    let certified_response = ic_http_certification::HttpResponse::builder()
        .with_status_code(status)
        .with_headers(response.headers.clone())
        .with_body(response.body.as_slice())
        .build();
    ic_response_verification::verify_request_response_pair(
        certified_request,
        certified_response,
        canister.as_slice(),
        u128::from(now_ns),
        MAX_CERT_TIME_OFFSET_NS,
        root_key,
        MIN_VERIFICATION_VERSION,
    )
    .map(|info| match info.response {
        Some(verified) => Verified::Certified {
            headers: verified.headers,
        },
        None => Verified::Skipped,
    })
    .map_err(|e| match e {
        ResponseVerificationError::HeaderMissingCertification => format!(
            "{e} (the answer has no {CERTIFICATE_HEADER_NAME} and {CERTIFICATE_EXPRESSION_HEADER_NAME} \
             headers: the canister does not certify it)"
        ),
        e => reason(&e),
    })
}

/// `e` and the errors under it, each said once (some errors repeat their source's words).
fn reason(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !why.contains(&said) {
            why.push_str(": ");
            why.push_str(&said);
        }
        source = cause.source();
    }
    why
}

/// The 503 a browser gets for an answer that did not verify: why, and where to reach a canister
/// that does not certify its answers. (The request's query string is left out: it may hold a
/// token; nothing is logged.)
fn unverified(
    parts: &axum::http::request::Parts,
    canister: Principal,
    why: &str,
) -> Response<Body> {
    let port = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| host.rsplit_once(':'))
        .map_or(String::new(), |(_, port)| format!(":{port}"));
    let path = parts.uri.path();
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "The response of canister {canister} to {method} {path} could not be verified, so it \
             is not served: {why}\n\n\
             As the IC's HTTP gateways do, this gateway serves an http_request answer only if it \
             verifies against the canister's certified data (response verification, version 2).\n\
             A canister that does not certify its answers can be reached without verification at \
             http://{canister}.raw.localhost{port}{path} (on the IC: https://{canister}.raw.icp0.io{path}).\n",
            method = parts.method,
        ),
    )
}

/// The canister's answer, or the page a browser gets when there is none.
#[allow(clippy::result_large_err)] // the refusal is the response, sent at once
fn decoded(
    canister: Principal,
    method: &str,
    answer: Result<Vec<u8>, CallError>,
) -> Result<HttpResponse, Response<Body>> {
    let bytes = answer.map_err(|e| {
        let status = match e {
            CallError::CanisterNotFound(_)
            | CallError::CanisterEmpty(_)
            | CallError::NoSuchMethod { .. } => StatusCode::NOT_FOUND,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        let reject = reject_of(&e);
        text(
            status,
            format!(
                "canister {canister} could not answer ({method}): {} ({})",
                reject.reject_message,
                reject.error_code.unwrap_or_default()
            ),
        )
    })?;
    candid::decode_one(&bytes).map_err(|e| {
        text(
            StatusCode::BAD_GATEWAY,
            format!("canister {canister}'s {method} did not answer an HttpResponse: {e}"),
        )
    })
}

fn into_http(status: StatusCode, answer: HttpResponse) -> Response<Body> {
    let mut response = Response::new(Body::from(answer.body.into_vec()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) else {
            continue;
        };
        // The body's length is the server's to say.
        if name == axum::http::header::CONTENT_LENGTH
            || name == axum::http::header::TRANSFER_ENCODING
        {
            continue;
        }
        headers.append(name, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::{CanisterInfo, ReplicaKeys, StateTree, encode_certificate};
    use ic_http_certification::utils::add_v2_certificate_header;
    use ic_http_certification::{
        DefaultCelBuilder, DefaultResponseCertification, HttpCertification, HttpCertificationPath,
        HttpCertificationTree, HttpCertificationTreeEntry,
    };

    const NOW: u64 = 1_750_000_000_000_000_000;
    const MINUTE: u64 = 60 * 1_000_000_000;

    /// A canister's certified answer to `GET /page`, as a canister certifies it with
    /// ic-http-certification (response-only, every header), under a root key of the test's own.
    struct Certified {
        keys: ReplicaKeys,
        canister: Principal,
        request: HttpRequest,
        response: HttpResponse,
    }

    /// What a canister certifies of its answer.
    #[derive(Clone, Copy)]
    enum Covering {
        /// Every header.
        All,
        /// These headers only.
        Only(&'static [&'static str]),
        /// Nothing: the canister skips certification (and says so in its tree).
        Skip,
    }

    impl Certified {
        /// Certified data set and its data certificate made at `certified_at`.
        fn at(certified_at: u64) -> Self {
            Self::covering(certified_at, Covering::All, &[])
        }

        /// An answer certified as `covering` says; then `added` headers, which a node could
        /// add to it after the canister certified it.
        fn covering(certified_at: u64, covering: Covering, added: &[(&str, &str)]) -> Self {
            let keys = ReplicaKeys::generate(&mut rand::rng());
            let canister = crate::canister_id(7);
            let cel = |certification| {
                DefaultCelBuilder::response_only_certification()
                    .with_response_certification(certification)
                    .build()
            };
            let expression = match covering {
                Covering::All => cel(DefaultResponseCertification::response_header_exclusions(
                    vec![],
                ))
                .to_string(),
                Covering::Only(names) => cel(
                    DefaultResponseCertification::certified_response_headers(names.to_vec()),
                )
                .to_string(),
                Covering::Skip => DefaultCelBuilder::skip_certification().to_string(),
            };
            let mut response = ic_http_certification::HttpResponse::ok(
                b"<html>the page</html>".as_slice(),
                vec![
                    ("content-type".into(), "text/html".into()),
                    (CERTIFICATE_EXPRESSION_HEADER_NAME.into(), expression),
                ],
            )
            .build();
            let certification = match covering {
                Covering::All => HttpCertification::response_only(
                    &cel(DefaultResponseCertification::response_header_exclusions(
                        vec![],
                    )),
                    &response,
                    None,
                ),
                Covering::Only(names) => HttpCertification::response_only(
                    &cel(DefaultResponseCertification::certified_response_headers(
                        names.to_vec(),
                    )),
                    &response,
                    None,
                ),
                Covering::Skip => Ok(HttpCertification::skip()),
            }
            .unwrap();
            for (name, value) in added {
                response.add_header((name.to_string(), value.to_string()));
            }
            let path = HttpCertificationPath::exact("/page");
            let entry = HttpCertificationTreeEntry::new(&path, certification);
            let mut tree = HttpCertificationTree::default();
            tree.insert(&entry);
            let mut state = StateTree::new(certified_at);
            state.set_canister(
                canister,
                &CanisterInfo {
                    certified_data: tree.root_hash().to_vec(),
                    ..CanisterInfo::default()
                },
            );
            let witness = state.witness(&[[
                b"canister".as_slice(),
                canister.as_slice(),
                b"certified_data",
            ]]);
            let certificate = encode_certificate(&keys.subnet.certify(witness));
            add_v2_certificate_header(
                &certificate,
                &mut response,
                &tree.witness(&entry, "/page").unwrap(),
                &path.to_expr_path(),
            );
            Certified {
                keys,
                canister,
                request: HttpRequest {
                    method: "GET".into(),
                    url: "/page".into(),
                    headers: vec![("host".into(), format!("{canister}.localhost:4943"))],
                    body: ByteBuf::new(),
                    certificate_version: Some(2),
                },
                response: HttpResponse {
                    status_code: response.status_code().as_u16(),
                    headers: response.headers().to_vec(),
                    body: ByteBuf::from(response.body().to_vec()),
                    upgrade: None,
                },
            }
        }

        fn verify(&self, now: u64) -> Result<Verified, String> {
            verify(
                &self.request,
                &self.response,
                StatusCode::from_u16(self.response.status_code).unwrap(),
                self.canister,
                &self.keys.subnet.public_key().der(),
                now,
            )
        }

        fn verify_as(
            &self,
            request: &HttpRequest,
            response: &HttpResponse,
        ) -> Result<Verified, String> {
            verify(
                request,
                response,
                StatusCode::from_u16(response.status_code).unwrap(),
                self.canister,
                &self.keys.subnet.public_key().der(),
                NOW,
            )
        }
    }

    fn copy(response: &HttpResponse) -> HttpResponse {
        HttpResponse {
            status_code: response.status_code,
            headers: response.headers.clone(),
            body: response.body.clone(),
            upgrade: response.upgrade,
        }
    }

    fn names(headers: &[(String, String)]) -> Vec<String> {
        headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn a_certified_answer_verifies() {
        let certified = Certified::at(NOW - MINUTE);
        let Ok(Verified::Certified { headers }) = certified.verify(NOW) else {
            panic!("certified")
        };
        // Served with every header it carries, IC-Certificate included.
        assert_eq!(
            names(&headers),
            ["content-type", "ic-certificateexpression", "ic-certificate"]
        );
        assert!(
            certified
                .response
                .headers
                .iter()
                .any(|(name, _)| name == CERTIFICATE_HEADER_NAME)
        );
    }

    /// A node may add headers that the certification does not cover (it verifies all the
    /// same): as the IC's gateway does, they are not served. `Service-Worker-Allowed: /` on a
    /// script would let it take over the whole origin as a service worker.
    #[test]
    fn headers_the_certification_does_not_cover_are_not_served() {
        let added = [
            ("service-worker-allowed", "/"),
            ("set-cookie", "session=node"),
            ("content-security-policy", "default-src *"),
        ];
        let certified = Certified::covering(NOW, Covering::Only(&["content-type"]), &added);
        let Ok(Verified::Certified { headers }) = certified.verify(NOW) else {
            panic!("the covered part verifies")
        };
        assert_eq!(
            names(&headers),
            ["content-type", "ic-certificateexpression", "ic-certificate"]
        );
        assert_eq!(headers[0].1, "text/html");
        // Every header certified: an added one does not verify at all.
        let all = Certified::covering(NOW, Covering::All, &added[..1]);
        assert!(all.verify(NOW).is_err());
    }

    /// An answer whose certification the canister skips is served as it is, as the IC's
    /// gateway serves it: whatever a node puts in it.
    #[test]
    fn a_skipped_certification_serves_the_answer_as_it_is() {
        let skipped = Certified::covering(NOW, Covering::Skip, &[("service-worker-allowed", "/")]);
        assert_eq!(skipped.verify(NOW), Ok(Verified::Skipped));
    }

    #[test]
    fn an_answer_changed_after_certification_is_refused() {
        let certified = Certified::at(NOW);
        for at in 0..certified.response.body.len() {
            let mut altered = copy(&certified.response);
            altered.body[at] ^= 1;
            let refused = certified.verify_as(&certified.request, &altered);
            assert!(refused.is_err(), "byte {at} changed, yet it verified");
        }
        let mut altered = copy(&certified.response);
        altered.body.push(b'!');
        assert!(certified.verify_as(&certified.request, &altered).is_err());

        let mut altered = copy(&certified.response);
        altered.status_code = 203;
        assert!(certified.verify_as(&certified.request, &altered).is_err());

        let mut altered = copy(&certified.response);
        altered.headers[0].1 = "text/plain".into();
        assert!(certified.verify_as(&certified.request, &altered).is_err());

        let mut altered = copy(&certified.response);
        altered
            .headers
            .push(("content-security-policy".into(), "default-src *".into()));
        assert!(certified.verify_as(&certified.request, &altered).is_err());
    }

    #[test]
    fn refusals_say_why() {
        let certified = Certified::at(NOW);

        let mut bare = copy(&certified.response);
        bare.headers.retain(|(name, _)| name == "content-type");
        let why = certified.verify_as(&certified.request, &bare).unwrap_err();
        assert!(
            why.starts_with("Certification values not found (the answer has no IC-Certificate"),
            "{why}"
        );

        // Another page's answer: the witness is for /page.
        let other = HttpRequest {
            url: "/other".into(),
            ..copy_request(&certified.request)
        };
        let why = certified
            .verify_as(&other, &certified.response)
            .unwrap_err();
        assert!(why.contains("is not valid for the request path"), "{why}");

        // Certified more than 5 minutes ago, or ahead.
        let stale = Certified::at(NOW - 6 * MINUTE);
        let why = stale.verify(NOW).unwrap_err();
        assert!(why.contains("too far in the past"), "{why}");
        let ahead = Certified::at(NOW + 6 * MINUTE);
        assert!(ahead.verify(NOW).unwrap_err().contains("in the future"));
        assert!(Certified::at(NOW - 4 * MINUTE).verify(NOW).is_ok());

        // Signed by another root key.
        let other_keys = ReplicaKeys::generate(&mut rand::rng());
        let why = verify(
            &certified.request,
            &certified.response,
            StatusCode::OK,
            certified.canister,
            &other_keys.subnet.public_key().der(),
            NOW,
        )
        .unwrap_err();
        assert!(why.contains("Signature verification failed"), "{why}");

        // Another canister's certified data.
        let why = verify(
            &certified.request,
            &certified.response,
            StatusCode::OK,
            crate::canister_id(8),
            &certified.keys.subnet.public_key().der(),
            NOW,
        )
        .unwrap_err();
        assert!(why.contains("certified data"), "{why}");
    }

    /// The test-only dishonest node: its answer in the place of the canister's, with the
    /// canister's certificate headers, which is all a node has to make it pass.
    #[test]
    fn a_dishonest_answer_keeps_only_the_real_certificate() {
        let file = b"/s/api/sw.js 200\ncontent-type: text/javascript\nservice-worker-allowed: /\n\nself.x = 1;\n";
        let dishonest = DishonestAnswer::parse(file).unwrap();
        assert_eq!(dishonest.path, "/s/api/sw.js");
        let real = Certified::at(NOW).response;
        let served = dishonest.instead_of(real);
        assert_eq!(served.status_code, 200);
        assert_eq!(served.body.as_slice(), b"self.x = 1;\n");
        assert_eq!(
            names(&served.headers),
            [
                "content-type",
                "service-worker-allowed",
                "ic-certificateexpression",
                "ic-certificate"
            ]
        );
        assert_eq!(DishonestAnswer::parse(b"/x 200\nno colon\n\n"), None);
        assert_eq!(DishonestAnswer::parse(b"/x 200"), None);
    }

    fn copy_request(request: &HttpRequest) -> HttpRequest {
        HttpRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            certificate_version: request.certificate_version,
        }
    }

    fn target(host: &str, uri: &str) -> Option<Result<Target, String>> {
        let request = Request::builder()
            .uri(uri)
            .header(axum::http::header::HOST, host)
            .body(Body::empty())
            .unwrap();
        canister_of(&request)
    }

    #[test]
    fn raw_domains_are_told_apart() {
        let canister = crate::canister_id(7);
        let verified = Some(Ok(Target {
            canister,
            raw: false,
        }));
        let raw = Some(Ok(Target {
            canister,
            raw: true,
        }));
        assert_eq!(target(&format!("{canister}.localhost:4943"), "/"), verified);
        assert_eq!(target(&format!("{canister}.localhost"), "/a/b"), verified);
        assert_eq!(target(&format!("{canister}.raw.localhost:4943"), "/"), raw);
        assert_eq!(target(&format!("{canister}.raw.localhost"), "/s?x=1"), raw);
        assert_eq!(
            target("127.0.0.1:4943", &format!("/x?canisterId={canister}")),
            verified
        );
        assert_eq!(target("127.0.0.1:4943", "/"), None);
        assert!(matches!(
            target("nope.raw.localhost:4943", "/"),
            Some(Err(_))
        ));
    }
}
