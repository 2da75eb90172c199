//! The `/api` endpoints, request routing and CORS.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use candid::Principal;
use ic_transport_types::{
    QueryResponse, ReadStateResponse, RejectCode, RejectResponse, ReplyResponse, RequestId,
    TransportCallResponse,
};

use super::access::{ReadStateAt, check_paths};
use super::{Ingress, MAX_REQUEST_BYTES, Shared, gateway, host};
use crate::certify::{RequestStatus, to_tagged_cbor};
use crate::ingress::{
    Admission, CanisterCall, Endpoint, ManagementTarget, RequestContent, VerifiedRequest,
    authenticate,
};
use crate::{CallError, SeenRequest};

/// Answers one HTTP request.
pub(crate) async fn handle(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let mut response = if let Some(refused) = misdirected(&shared, &request) {
        refused
    } else if request.method() == Method::OPTIONS {
        // A CORS preflight: what may be sent is answered below, on every response.
        status_only(StatusCode::NO_CONTENT)
    } else {
        route(shared, request).await
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET, POST, HEAD, OPTIONS"),
        ("access-control-allow-headers", "*"),
        ("access-control-expose-headers", "*"),
        ("access-control-max-age", "7200"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The refusal of a request whose `Host` is not a name of this replica ([`host`]).
fn misdirected(shared: &Shared, request: &Request<Body>) -> Option<Response<Body>> {
    let host = match request.headers().get(header::HOST) {
        Some(value) => value.to_str().unwrap_or_default(),
        None => request.uri().authority()?.as_str(),
    };
    if host::allowed(host, &shared.host_names) {
        return None;
    }
    Some(text(
        StatusCode::FORBIDDEN,
        format!(
            "this replica answers to localhost, *.localhost and IP addresses, not to `{host}` \
             (a web page may be reaching it by DNS rebinding); to serve that name, start the \
             replica with --host-name NAME"
        ),
    ))
}

async fn route(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = request.method().clone();
    if segments.first() != Some(&"api") {
        return gateway::serve(shared, request).await;
    }
    let post = method == Method::POST;
    let endpoint = match segments.as_slice() {
        ["api", "v2", "status"] if method == Method::GET || method == Method::HEAD => {
            return cbor(StatusCode::OK, shared.status());
        }
        [
            "api",
            version @ ("v2" | "v3" | "v4"),
            "canister",
            id,
            "call",
        ] if post => Api::Call(version.to_string(), id.to_string()),
        ["api", "v2" | "v3", "canister", id, "query"] if post => Api::Query(id.to_string()),
        ["api", "v2" | "v3", "canister", id, "read_state"] if post => {
            Api::CanisterReadState(id.to_string())
        }
        ["api", "v2" | "v3", "subnet", id, "read_state"] if post => {
            Api::SubnetReadState(id.to_string())
        }
        _ => {
            return text(
                StatusCode::NOT_FOUND,
                format!(
                    "{method} {path} is not an endpoint of the IC HTTP interface this replica serves"
                ),
            );
        }
    };
    let body = match axum::body::to_bytes(request.into_body(), MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request is larger than {MAX_REQUEST_BYTES} bytes: send large data in chunks"
                ),
            );
        }
    };
    let id = match &endpoint {
        Api::Call(_, id)
        | Api::Query(id)
        | Api::CanisterReadState(id)
        | Api::SubnetReadState(id) => match Principal::from_text(id) {
            Ok(id) => id,
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("`{id}` in the URL is not a principal: {e}"),
                );
            }
        },
    };
    match endpoint {
        Api::Call(version, _) => call(shared, &version, id, body).await,
        Api::Query(_) => query(shared, id, body).await,
        Api::CanisterReadState(_) => read_state(shared, ReadStateAt::Canister(id), body),
        Api::SubnetReadState(_) => {
            let subnet = shared.keys.subnet.subnet_id();
            if id != subnet {
                return text(
                    StatusCode::NOT_FOUND,
                    format!("no subnet {id} here: this replica is subnet {subnet}"),
                );
            }
            read_state(shared, ReadStateAt::Subnet, body)
        }
    }
}

enum Api {
    Call(String, String),
    Query(String),
    CanisterReadState(String),
    SubnetReadState(String),
}

/// Authenticates `body` sent to `endpoint`, answering a refusal as the IC does.
#[allow(clippy::result_large_err)] // the refusal is the response, sent at once
fn authenticated(
    shared: &Shared,
    endpoint: Endpoint,
    body: &[u8],
) -> Result<VerifiedRequest, Response<Body>> {
    let request = authenticate(endpoint, body, shared.now()).map_err(|refusal| {
        text(
            StatusCode::from_u16(refusal.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            refusal.to_string(),
        )
    })?;
    // A call to the management canister names the canister it acts on in its argument.
    match request.management_target() {
        None | Some(ManagementTarget::AnyCanister) => Ok(request),
        Some(ManagementTarget::Canister(named)) => {
            let effective = match endpoint {
                Endpoint::Call {
                    effective_canister_id,
                }
                | Endpoint::Query {
                    effective_canister_id,
                } => effective_canister_id,
                _ => return Ok(request),
            };
            if named == effective {
                Ok(request)
            } else {
                Err(text(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the call acts on canister {named}: send it to /api/.../canister/{named}/..., not {effective}"
                    ),
                ))
            }
        }
        Some(ManagementTarget::NoCanister) => Err(text(
            StatusCode::BAD_REQUEST,
            "this management canister method names no canister in its argument, so it cannot be called from outside"
                .to_string(),
        )),
    }
}

/// What running an update call came to.
pub(crate) enum CallOutcome {
    /// It ran (or was refused by the replicated state machine): its status is certified.
    Certified,
    /// It was refused before it ran (no such canister or method, stopped, turned away by
    /// `canister_inspect_message`): nothing is certified and it may be sent again.
    NotRun(RejectResponse),
}

async fn call(
    shared: Arc<Shared>,
    version: &str,
    effective: Principal,
    body: Bytes,
) -> Response<Body> {
    let request = match authenticated(
        &shared,
        Endpoint::Call {
            effective_canister_id: effective,
        },
        &body,
    ) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let RequestContent::Call(call) = request.content else {
        return text(StatusCode::BAD_REQUEST, "not a call".into());
    };
    let request_id = request.request_id;
    let now = shared.now();
    {
        let mut certified = shared.certified();
        for expired in certified.history.evict_expired(now) {
            certified.tree.remove_request_status(&expired);
        }
        let fresh = Ingress {
            sender: request.sender,
            effective_canister_id: effective,
            status: RequestStatus::Received,
        };
        match certified
            .history
            .admit(request_id, request.ingress_expiry, fresh, now)
        {
            Admission::Known(known) => {
                // Sent before: never run twice; answer with where it stands.
                let done = matches!(
                    known.status,
                    RequestStatus::Replied(_) | RequestStatus::Rejected(_) | RequestStatus::Done
                );
                drop(certified);
                return if done && version != "v2" {
                    certified_answer(&shared, &request_id)
                } else {
                    status_only(StatusCode::ACCEPTED)
                };
            }
            Admission::New => certified
                .tree
                .set_request_status(&request_id, &RequestStatus::Received),
        }
    }
    let runner = shared.clone();
    let seen = SeenRequest {
        request_id: request_id.as_slice().to_vec().into(),
        ingress_expiry: request.ingress_expiry,
        sender: request.sender,
        effective_canister_id: effective,
    };
    let job = shared
        .executor
        .run(move |replica| runner.execute_call(replica, seen, call));
    if shared.sync_call_timeout.is_zero() {
        // The job is queued and runs; with no wait at all, the agent always polls.
        return status_only(StatusCode::ACCEPTED);
    }
    match tokio::time::timeout(shared.sync_call_timeout, job).await {
        Err(_still_running) => status_only(StatusCode::ACCEPTED),
        Ok(Err(stopped)) => text(StatusCode::SERVICE_UNAVAILABLE, stopped.to_string()),
        Ok(Ok(CallOutcome::NotRun(reject))) if version == "v2" => {
            text(StatusCode::BAD_REQUEST, reject.reject_message)
        }
        Ok(Ok(CallOutcome::NotRun(reject))) => cbor(
            StatusCode::OK,
            to_tagged_cbor(&TransportCallResponse::NonReplicatedRejection(reject)),
        ),
        Ok(Ok(CallOutcome::Certified)) if version == "v2" => status_only(StatusCode::ACCEPTED),
        Ok(Ok(CallOutcome::Certified)) => certified_answer(&shared, &request_id),
    }
}

/// `{status: "replied", certificate}`: the request's certified status.
fn certified_answer(shared: &Shared, request_id: &RequestId) -> Response<Body> {
    let path = [[b"request_status".as_slice(), request_id.as_slice()]];
    cbor(
        StatusCode::OK,
        to_tagged_cbor(&TransportCallResponse::Replied {
            certificate: shared.certificate(&path),
        }),
    )
}

impl Shared {
    /// Runs an admitted update call (the ingress message `seen`) on the replica's thread and
    /// certifies its outcome.
    pub(crate) fn execute_call(
        &self,
        replica: &mut crate::Replica,
        seen: SeenRequest,
        call: CanisterCall,
    ) -> CallOutcome {
        let request_id = RequestId::new(
            seen.request_id
                .as_slice()
                .try_into()
                .expect("made from a request id"),
        );
        self.set_status(&request_id, RequestStatus::Processing);
        self.advance_time(replica);
        // A call to the management canister or a system canister may change any canister.
        let management = call.canister_id == Principal::management_canister()
            || replica.system_canister(call.canister_id).is_some();
        let sender = seen.sender;
        let result = replica.ingress_update_call(
            seen,
            sender,
            call.canister_id,
            &call.method_name,
            &call.arg,
        );
        let status = match result {
            Ok(reply) => RequestStatus::Replied(reply.bytes),
            Err(e) if refused_before_running(&e, management) => {
                self.forget(&request_id);
                return CallOutcome::NotRun(reject_of(&e));
            }
            Err(e) => RequestStatus::Rejected(reject_of(&e)),
        };
        if management {
            self.sync_all_canisters(replica);
        } else {
            self.sync_canister(replica, call.canister_id);
        }
        self.set_status(&request_id, status);
        CallOutcome::Certified
    }
}

/// Whether `e` means the message never became part of the replicated state: the IC's ingress
/// filter turns such calls away before they are inducted.
fn refused_before_running(e: &CallError, management: bool) -> bool {
    match e {
        CallError::Storage(_) => true,
        CallError::CanisterNotFound(_)
        | CallError::CanisterStopped(_)
        | CallError::CanisterEmpty(_)
        | CallError::NoSuchMethod { .. }
        | CallError::NotAccepted
        | CallError::OutOfCycles { .. } => !management,
        _ => false,
    }
}

/// The IC's reject code and error code for `e`.
pub(crate) fn reject_of(e: &CallError) -> RejectResponse {
    let (reject_code, error_code) = match e {
        CallError::CanisterNotFound(_) => (RejectCode::DestinationInvalid, Some("IC0301")),
        CallError::CanisterEmpty(_) => (RejectCode::DestinationInvalid, Some("IC0537")),
        CallError::NoSuchMethod { .. } => (RejectCode::DestinationInvalid, Some("IC0536")),
        CallError::CanisterStopped(_) => (RejectCode::CanisterError, Some("IC0508")),
        CallError::NotAccepted => (RejectCode::CanisterReject, Some("IC0406")),
        CallError::OutOfCycles { .. } => (RejectCode::SysTransient, Some("IC0207")),
        CallError::Rejected { .. } => (RejectCode::CanisterReject, Some("IC0406")),
        CallError::Trapped { .. } => (RejectCode::CanisterError, Some("IC0503")),
        CallError::DidNotReply { .. } => (RejectCode::CanisterError, Some("IC0506")),
        CallError::NotAController(_) => (RejectCode::CanisterError, Some("IC0512")),
        CallError::ModuleRefused(_) => (RejectCode::CanisterError, Some("IC0505")),
        CallError::CanisterRunning(_)
        | CallError::CanisterNotEmpty(_)
        | CallError::TooManyControllers
        | CallError::InvalidArgument(_) => (RejectCode::CanisterError, None),
        CallError::Engine(_) => (RejectCode::SysFatal, None),
        CallError::Storage(_) => (RejectCode::SysTransient, None),
    };
    let reject_message = match e {
        // The canister's own words, as the IC passes them on.
        CallError::Rejected { message, .. } => message.clone(),
        other => other.to_string(),
    };
    RejectResponse {
        reject_code,
        reject_message,
        error_code: error_code.map(str::to_string),
    }
}

async fn query(shared: Arc<Shared>, effective: Principal, body: Bytes) -> Response<Body> {
    let request = match authenticated(
        &shared,
        Endpoint::Query {
            effective_canister_id: effective,
        },
        &body,
    ) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let RequestContent::Query(call) = request.content else {
        return text(StatusCode::BAD_REQUEST, "not a query".into());
    };
    let response = match run_query(&shared, request.sender, call).await {
        Ok(Ok(reply)) => QueryResponse::Replied {
            reply: ReplyResponse { arg: reply },
            signatures: vec![],
        },
        Ok(Err(e)) => QueryResponse::Rejected {
            reject: reject_of(&e),
            signatures: vec![],
        },
        Err(stopped) => return text(StatusCode::SERVICE_UNAVAILABLE, stopped.to_string()),
    };
    let signed = shared
        .keys
        .node
        .sign_query_response(response, request.request_id, shared.now());
    cbor(StatusCode::OK, to_tagged_cbor(&signed))
}

/// Runs a query on the replica's thread, giving the canister a data certificate.
pub(crate) async fn run_query(
    shared: &Shared,
    sender: Principal,
    call: CanisterCall,
) -> Result<Result<Vec<u8>, CallError>, super::executor::Stopped> {
    let exists = shared.certified().canisters.contains_key(&call.canister_id);
    let certificate = exists.then(|| shared.data_certificate(call.canister_id));
    shared
        .executor
        .run(move |replica| {
            replica
                .query_with_certificate(
                    sender,
                    call.canister_id,
                    &call.method_name,
                    &call.arg,
                    certificate.as_deref(),
                )
                .map(|reply| reply.bytes)
        })
        .await
}

fn read_state(shared: Arc<Shared>, at: ReadStateAt, body: Bytes) -> Response<Body> {
    let endpoint = match at {
        ReadStateAt::Canister(effective_canister_id) => Endpoint::CanisterReadState {
            effective_canister_id,
        },
        ReadStateAt::Subnet => Endpoint::SubnetReadState {
            subnet_id: shared.keys.subnet.subnet_id(),
        },
    };
    let request = match authenticated(&shared, endpoint, &body) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let RequestContent::ReadState { paths } = request.content else {
        return text(StatusCode::BAD_REQUEST, "not a read_state".into());
    };
    let allowed = check_paths(
        at,
        request.sender,
        &request.targets,
        &paths,
        &shared.certified(),
    );
    if let Err(why) = allowed {
        return text(StatusCode::FORBIDDEN, why);
    }
    cbor(
        StatusCode::OK,
        to_tagged_cbor(&ReadStateResponse {
            certificate: shared.certificate(&paths),
        }),
    )
}

pub(crate) fn cbor(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    response(status, "application/cbor", body)
}

pub(crate) fn text(status: StatusCode, message: String) -> Response<Body> {
    response(status, "text/plain; charset=utf-8", message.into_bytes())
}

pub(crate) fn status_only(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
