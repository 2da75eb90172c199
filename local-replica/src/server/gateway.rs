//! The HTTP gateway: browsers reach a canister at `http://<canister-id>.localhost:<port>/…` or
//! `http://127.0.0.1:<port>/…?canisterId=<canister-id>`, and get what its `http_request` query
//! answers — or, when that answer asks for an upgrade, what `http_request_update` answers (IC
//! HTTP gateway protocol). Calls are made as the anonymous principal, as the IC's gateways do.
//!
//! Not provided: streaming callbacks (`streaming_strategy`), and verification of the response's
//! certification — this gateway and the replica are one trusted process.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use candid::{CandidType, Deserialize, Principal};
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

/// The canister a browser request is for: the host's first label (`<id>.localhost`), else the
/// `canisterId` query parameter, else that of the page it came from (`Referer`).
fn canister_of(request: &Request<Body>) -> Option<Result<Principal, String>> {
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
            .map_err(|e| format!("canisterId `{named}` is not a canister id: {e}")),
    )
}

/// Serves a browser's request through the canister's `http_request`.
pub(crate) async fn serve(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let canister = match canister_of(&request) {
        Some(Ok(canister)) => canister,
        Some(Err(why)) => return text(StatusCode::BAD_REQUEST, why),
        None => {
            return text(
                StatusCode::NOT_FOUND,
                "This is a local Internet Computer replica. Open a canister at \
                 http://<canister-id>.localhost:<port>/ or add ?canisterId=<canister-id>; \
                 agents use /api/v2/status and /api/v{2,3,4}/canister/<id>/…"
                    .to_string(),
            );
        }
    };
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
    if response.upgrade == Some(true) {
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
    into_http(canister, response)
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

fn into_http(canister: Principal, answer: HttpResponse) -> Response<Body> {
    let Ok(status) = StatusCode::from_u16(answer.status_code) else {
        return text(
            StatusCode::BAD_GATEWAY,
            format!(
                "canister {canister} answered status {}, which is not an HTTP status",
                answer.status_code
            ),
        );
    };
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
