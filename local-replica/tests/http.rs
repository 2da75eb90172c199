//! The HTTP interface end to end: the real `local-replica` binary, started on a free port with a
//! fresh state directory, driven over HTTP by ic-agent 0.49 (certificate and query-signature
//! verification on), ic-utils' management canister, and hand-made envelopes posted with reqwest.

mod process;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candid::{CandidType, Decode, Encode, Principal};
use ic_agent::agent::RejectCode;
use ic_agent::hash_tree::{Label, LookupResult};
use ic_agent::identity::{
    AnonymousIdentity, BasicIdentity, DelegatedIdentity, Delegation, Prime256v1Identity,
    Secp256k1Identity, SignedDelegation,
};
use ic_agent::{Agent, AgentError, Certificate, Identity};
use ic_management_canister_types_08::ChunkHash;
use ic_transport_types::{Envelope, EnvelopeContent, ReadStateResponse, RequestStatusResponse};
use ic_utils::call::AsyncCall;
use ic_utils::interfaces::ManagementCanister;
use ic_utils::interfaces::management_canister::CanisterStatusType;
use ic_utils::interfaces::management_canister::builders::CanisterInstallMode as InstallMode;
use process::{Foreground, port_of};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use vault_canister::model::types::{ActivityPage, UploadStatus, VaultInfo, VaultResult};
use vault_test_support::replica::{begin_args, init_arg, vault_wasm};

const SECOND: u64 = 1_000_000_000;

/// A running `local-replica start` (see `process::Foreground`), its state directory removed
/// on drop.
struct ReplicaProcess {
    process: Foreground,
    url: String,
    port: u16,
    root_key: Vec<u8>,
    dir: PathBuf,
    /// Whether dropping it removes `dir` (a restarted process leaves that to the last one).
    owns_dir: bool,
}

/// A fresh state directory under the system's temp dir.
fn fresh_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "local-replica-http-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl ReplicaProcess {
    fn start() -> Self {
        Self::start_in(fresh_dir(), &[])
    }

    fn start_in(dir: PathBuf, extra: &[&str]) -> Self {
        let process = Foreground::start(&dir, extra);
        let url = process.url.clone();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        ReplicaProcess {
            port: port_of(&url),
            root_key: hex::decode(&process.root_key).expect("the root key is hex"),
            url,
            process,
            dir,
            owns_dir: true,
        }
    }

    /// Stops it with SIGTERM and waits until it has exited (its checkpoint written).
    fn stop(mut self) -> PathBuf {
        let exit = self.process.stop().expect("it exits on SIGTERM");
        assert!(
            exit.success(),
            "the replica exits cleanly on SIGTERM: {exit}\n{}",
            self.process.stderr()
        );
        self.owns_dir = false;
        self.dir.clone()
    }

    /// An agent for `identity` that trusts this replica's root key.
    async fn agent(&self, identity: impl Identity + 'static) -> Agent {
        let agent = Agent::builder()
            .with_url(&self.url)
            .with_identity(identity)
            .build()
            .unwrap();
        agent.fetch_root_key().await.unwrap();
        agent
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// POSTs CBOR `body` to `path`: the status and the body.
    async fn post(&self, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let response = reqwest::Client::new()
            .post(self.endpoint(path))
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    }
}

impl Drop for ReplicaProcess {
    fn drop(&mut self) {
        self.process.stop();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes a directory when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn ed25519(seed: u8) -> BasicIdentity {
    BasicIdentity::from_raw_key(&[seed; 32])
}

fn secp256k1(seed: u8) -> Secp256k1Identity {
    Secp256k1Identity::from_private_key(k256::SecretKey::from_slice(&[seed; 32]).unwrap())
}

fn p256(seed: u8) -> Prime256v1Identity {
    Prime256v1Identity::from_private_key(p256::SecretKey::from_slice(&[seed; 32]).unwrap())
}

/// A P-256 session key acting for the Ed25519 key `root_seed`, for an hour, limited to `targets`.
fn delegated(
    root_seed: u8,
    session_seed: u8,
    targets: Option<Vec<Principal>>,
) -> DelegatedIdentity {
    let root = ed25519(root_seed);
    let session = p256(session_seed);
    let delegation = Delegation {
        pubkey: session.public_key().unwrap(),
        expiration: now_ns() + 3600 * SECOND,
        targets,
        permissions: None,
    };
    let signature = root
        .sign_delegation(&delegation)
        .unwrap()
        .signature
        .unwrap();
    DelegatedIdentity::new_unchecked(
        root.public_key().unwrap(),
        Box::new(session),
        vec![SignedDelegation {
            delegation,
            signature,
        }],
    )
}

/// A test canister (WAT):
/// - `whoami` (update) and `whoami_q` (query) reply with the caller's principal bytes;
/// - `inc` (update) adds one to a counter, `read` (query) replies with it (8 bytes LE);
/// - `boom` (update) traps with "boom: on purpose";
/// - `set_cert` (update) sets its certified data to its argument; `cert` (query) replies with
///   its data certificate;
/// - `http_request` (query) replies with `http_query`; `http_request_update` (update) adds one
///   to the counter and replies with `http_update`.
fn probe_wasm(http_query: &[u8], http_update: &[u8]) -> Vec<u8> {
    fn escaped(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("\\{b:02x}")).collect()
    }
    let wat = format!(
        r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_caller_size" (func $caller_size (result i32)))
  (import "ic0" "msg_caller_copy" (func $caller_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (import "ic0" "certified_data_set" (func $certify (param i32 i32)))
  (import "ic0" "data_certificate_size" (func $cert_size (result i32)))
  (import "ic0" "data_certificate_copy" (func $cert_copy (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $counter (mut i64) (i64.const 0))
  (data (i32.const 0) "boom: on purpose")
  (data (i32.const 65536) "{query}")
  (data (i32.const 98304) "{update}")
  (func $whoami
    (call $caller_copy (i32.const 100) (i32.const 0) (call $caller_size))
    (call $append (i32.const 100) (call $caller_size))
    (call $reply))
  (func (export "canister_update whoami") (call $whoami))
  (func (export "canister_query whoami_q") (call $whoami))
  (func (export "canister_update inc")
    (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
    (call $reply))
  (func (export "canister_query read")
    (i64.store (i32.const 200) (global.get $counter))
    (call $append (i32.const 200) (i32.const 8))
    (call $reply))
  (func (export "canister_update boom") (call $trap (i32.const 0) (i32.const 16)))
  (func (export "canister_update set_cert")
    (call $arg_copy (i32.const 300) (i32.const 0) (call $arg_size))
    (call $certify (i32.const 300) (call $arg_size))
    (call $reply))
  (func (export "canister_query cert")
    (local $n i32)
    (local.set $n (call $cert_size))
    (call $cert_copy (i32.const 1000) (i32.const 0) (local.get $n))
    (call $append (i32.const 1000) (local.get $n))
    (call $reply))
  (func (export "canister_query http_request")
    (call $append (i32.const 65536) (i32.const {query_len}))
    (call $reply))
  (func (export "canister_update http_request_update")
    (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
    (call $append (i32.const 98304) (i32.const {update_len}))
    (call $reply))
)
"#,
        query = escaped(http_query),
        update = escaped(http_update),
        query_len = http_query.len(),
        update_len = http_update.len(),
    );
    wat::parse_str(wat).unwrap()
}

fn plain_probe() -> Vec<u8> {
    probe_wasm(b"", b"")
}

/// The gateway's `HttpResponse` (IC HTTP gateway protocol).
#[derive(CandidType)]
struct HttpResponse {
    status_code: u16,
    headers: Vec<(String, String)>,
    body: ByteBuf,
    upgrade: Option<bool>,
}

/// Creates an empty canister controlled by `agent`'s identity through ic-utils.
async fn create_canister(agent: &Agent) -> Principal {
    let (id,) = ManagementCanister::create(agent)
        .create_canister()
        .as_provisional_create_with_amount(None)
        .call_and_wait()
        .await
        .expect("provisional_create_canister_with_cycles");
    id
}

/// Creates a canister controlled by `agent`'s identity through ic-utils and installs `wasm`.
async fn create_and_install(agent: &Agent, wasm: &[u8], arg: Vec<u8>) -> Principal {
    let id = create_canister(agent).await;
    ManagementCanister::create(agent)
        .install_code(&id, wasm)
        .with_mode(InstallMode::Install)
        .with_raw_arg(arg)
        .call_and_wait()
        .await
        .expect("install_code");
    id
}

async fn counter(agent: &Agent, id: Principal) -> u64 {
    let bytes = agent.query(&id, "read").call().await.unwrap();
    u64::from_le_bytes(bytes.try_into().unwrap())
}

fn lookup<'a>(certificate: &'a Certificate, path: &[&[u8]]) -> Option<&'a [u8]> {
    let path: Vec<Label<Vec<u8>>> = path.iter().map(|l| Label::from(l.to_vec())).collect();
    match certificate.tree.lookup_path(&path) {
        LookupResult::Found(bytes) => Some(bytes),
        _ => None,
    }
}

fn http_status(error: &AgentError) -> Option<u16> {
    match error {
        AgentError::HttpError(payload) => Some(payload.status),
        _ => None,
    }
}

#[tokio::test]
async fn status_and_root_key() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(AnonymousIdentity).await;
    assert_eq!(agent.read_root_key(), replica.root_key);
    let status = agent.status().await.unwrap();
    assert_eq!(status.replica_health_status.as_deref(), Some("healthy"));
    assert_eq!(
        status.root_key.as_deref(),
        Some(replica.root_key.as_slice())
    );
}

#[tokio::test]
async fn vault_through_the_management_canister() {
    let replica = ReplicaProcess::start();
    let identity = ed25519(1);
    let owner = identity.sender().unwrap();
    let agent = replica.agent(identity).await;
    let wasm = vault_wasm();
    let id = create_and_install(&agent, &wasm, init_arg(owner)).await;

    let management = ManagementCanister::create(&agent);
    let (status,) = management
        .canister_status(&id)
        .call()
        .await
        .expect("canister_status");
    assert_eq!(status.status, CanisterStatusType::Running);
    assert_eq!(status.module_hash, Some(Sha256::digest(&wasm).to_vec()));
    assert_eq!(status.settings.controllers, vec![owner]);
    let (replicated,) = management
        .canister_status(&id)
        .as_update()
        .call()
        .await
        .expect("canister_status as an update");
    assert_eq!(replicated.module_hash, status.module_hash);

    // An update, then queries revealing who made it.
    let reply = agent
        .update(&id, "begin_upload")
        .with_arg(Encode!(&begin_args(1, 1000)).unwrap())
        .call_and_wait()
        .await
        .unwrap();
    Decode!(&reply, VaultResult<UploadStatus>)
        .unwrap()
        .expect("begin_upload");
    let info = agent
        .query(&id, "vault_info")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .unwrap();
    let info = Decode!(&info, VaultResult<VaultInfo>).unwrap().unwrap();
    assert_eq!(info.owner, owner);
    assert_eq!(info.uploads_in_progress, 1);
    let log = agent
        .query(&id, "activity")
        .with_arg(Encode!(&None::<u64>, &None::<u32>).unwrap())
        .call()
        .await
        .unwrap();
    let log = Decode!(&log, VaultResult<ActivityPage>).unwrap().unwrap();
    assert!(!log.entries.is_empty());
    assert!(log.entries.iter().all(|e| e.caller == owner), "{log:?}");

    // read_state of the canister's certified information.
    let module_hash = agent.read_state_canister_module_hash(id).await.unwrap();
    assert_eq!(module_hash, Sha256::digest(&wasm).to_vec());
    let controllers = agent.read_state_canister_controllers(id).await.unwrap();
    assert_eq!(controllers, vec![owner]);
    let candid = agent
        .read_state_canister_metadata(id, "candid:service")
        .await
        .unwrap();
    let did = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vault-interface/vault.did"
    ))
    .unwrap();
    assert_eq!(String::from_utf8(candid).unwrap(), did);
}

#[tokio::test]
async fn every_identity_is_seen_as_its_sender() {
    let replica = ReplicaProcess::start();
    let controller = replica.agent(ed25519(2)).await;
    let id = create_and_install(&controller, &plain_probe(), vec![]).await;

    let identities: Vec<(&str, Box<dyn Identity>)> = vec![
        ("ed25519", Box::new(ed25519(3))),
        ("secp256k1", Box::new(secp256k1(4))),
        ("p256", Box::new(p256(5))),
        ("delegation", Box::new(delegated(6, 7, None))),
        (
            "delegation to it",
            Box::new(delegated(8, 9, Some(vec![id]))),
        ),
        ("anonymous", Box::new(AnonymousIdentity)),
    ];
    for (kind, identity) in identities {
        let sender = identity.sender().unwrap();
        let agent = Agent::builder()
            .with_url(&replica.url)
            .with_arc_identity(identity.into())
            .build()
            .unwrap();
        agent.fetch_root_key().await.unwrap();
        let by_update = agent.update(&id, "whoami").call_and_wait().await.unwrap();
        assert_eq!(Principal::from_slice(&by_update), sender, "{kind} (update)");
        let by_query = agent.query(&id, "whoami_q").call().await.unwrap();
        assert_eq!(Principal::from_slice(&by_query), sender, "{kind} (query)");
    }
    // A delegation's sender is its root key's principal.
    assert_eq!(
        delegated(6, 7, None).sender().unwrap(),
        ed25519(6).sender().unwrap()
    );
}

#[tokio::test]
async fn forged_expired_misdirected_and_nosy_requests_are_refused() {
    let replica = ReplicaProcess::start();
    let identity = ed25519(10);
    let agent = replica.agent(ed25519(10)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    let other = create_and_install(&agent, &plain_probe(), vec![]).await;
    let call_path = format!("/api/v4/canister/{id}/call");

    // A tampered signature.
    let signed = agent.update(&id, "inc").sign().unwrap();
    let mut envelope: Envelope = serde_cbor::from_slice(&signed.signed_update).unwrap();
    let mut signature = envelope.sender_sig.take().unwrap();
    signature[5] ^= 1;
    envelope.sender_sig = Some(signature);
    let (status, body) = replica.post(&call_path, envelope.encode_bytes()).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(!body.is_empty(), "a refusal says why");

    // An expired request, properly signed.
    let content = EnvelopeContent::Call {
        nonce: Some(vec![1; 16]),
        ingress_expiry: now_ns() - 60 * SECOND,
        sender: identity.sender().unwrap(),
        canister_id: id,
        method_name: "inc".into(),
        arg: vec![],
        sender_info: None,
    };
    let signature = identity.sign(&content).unwrap();
    let expired = Envelope {
        content: Cow::Owned(content),
        sender_pubkey: signature.public_key,
        sender_sig: signature.signature,
        sender_delegation: signature.delegations,
    }
    .encode_bytes();
    let (status, body) = replica.post(&call_path, expired).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(!body.is_empty());

    // A delegation whose targets leave this canister out.
    let narrow = replica.agent(delegated(11, 12, Some(vec![other]))).await;
    let refused = narrow.update(&id, "inc").call_and_wait().await.unwrap_err();
    assert_eq!(http_status(&refused), Some(400), "{refused}");
    let refused = narrow.query(&id, "read").call().await.unwrap_err();
    assert_eq!(http_status(&refused), Some(400), "{refused}");
    narrow.update(&other, "inc").call_and_wait().await.unwrap();

    // A call for one canister sent to another's URL.
    let signed = agent.update(&id, "inc").sign().unwrap();
    let (status, body) = replica
        .post(
            &format!("/api/v4/canister/{other}/call"),
            signed.signed_update,
        )
        .await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(counter(&agent, id).await, 0, "nothing ran");

    // read_state of another sender's request.
    let signed = agent.update(&id, "inc").sign().unwrap();
    let (status, _) = replica
        .post(&format!("/api/v2/canister/{id}/call"), signed.signed_update)
        .await;
    assert_eq!(status, 202);
    let (mine, _) = agent
        .request_status_raw(&signed.request_id, id)
        .await
        .unwrap();
    assert!(
        matches!(mine, RequestStatusResponse::Replied(_)),
        "{mine:?}"
    );
    let nosy = replica.agent(ed25519(13)).await;
    let refused = nosy
        .request_status_raw(&signed.request_id, id)
        .await
        .unwrap_err();
    assert_eq!(http_status(&refused), Some(403), "{refused}");

    // read_state of another canister's paths at this canister's URL.
    let path = vec![
        Label::from("canister"),
        Label::from_bytes(other.as_slice()),
        Label::from("module_hash"),
    ];
    let refused = agent.read_state_raw(vec![path], id).await.unwrap_err();
    assert_eq!(http_status(&refused), Some(403), "{refused}");
}

#[tokio::test]
async fn a_request_sent_twice_runs_once() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(ed25519(20)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    let signed = agent.update(&id, "inc").sign().unwrap();
    let path = format!("/api/v2/canister/{id}/call");
    for _ in 0..2 {
        let (status, body) = replica.post(&path, signed.signed_update.clone()).await;
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    }
    // The same bytes at v4 answer with the certified outcome, without running again.
    let (status, _) = replica
        .post(&format!("/api/v4/canister/{id}/call"), signed.signed_update)
        .await;
    assert_eq!(status, 200);
    assert_eq!(counter(&agent, id).await, 1);
}

#[tokio::test]
async fn with_no_sync_wait_every_call_is_polled() {
    let replica = ReplicaProcess::start_in(fresh_dir(), &["--sync-call-timeout-ms", "0"]);
    let agent = replica.agent(ed25519(30)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    for _ in 0..3 {
        let signed = agent.update(&id, "inc").sign().unwrap();
        let (status, body) = replica
            .post(&format!("/api/v4/canister/{id}/call"), signed.signed_update)
            .await;
        assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    }
    let reply = agent.update(&id, "whoami").call_and_wait().await.unwrap();
    assert_eq!(Principal::from_slice(&reply), ed25519(30).sender().unwrap());
    assert_eq!(counter(&agent, id).await, 3);
}

#[tokio::test]
async fn a_v2_call_is_polled_by_hand() {
    let replica = ReplicaProcess::start();
    let identity = ed25519(40);
    let agent = replica.agent(ed25519(40)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    let signed = agent.update(&id, "whoami").sign().unwrap();
    let (status, _) = replica
        .post(&format!("/api/v2/canister/{id}/call"), signed.signed_update)
        .await;
    assert_eq!(status, 202);
    let mut replied = None;
    for _ in 0..50 {
        let poll = agent.sign_request_status(id, signed.request_id).unwrap();
        let (status, body) = replica
            .post(
                &format!("/api/v2/canister/{id}/read_state"),
                poll.signed_request_status,
            )
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let response: ReadStateResponse = serde_cbor::from_slice(&body).unwrap();
        let certificate: Certificate = serde_cbor::from_slice(&response.certificate).unwrap();
        agent.verify(&certificate, id).unwrap();
        let request = signed.request_id.as_slice();
        let status = lookup(&certificate, &[b"request_status", request, b"status"]);
        if status == Some(b"replied") {
            replied =
                lookup(&certificate, &[b"request_status", request, b"reply"]).map(<[u8]>::to_vec);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = replied.expect("the call is replied");
    assert_eq!(Principal::from_slice(&reply), identity.sender().unwrap());
}

#[tokio::test]
async fn traps_and_missing_methods_are_rejected() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(ed25519(50)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    match agent.update(&id, "boom").call_and_wait().await {
        Err(AgentError::CertifiedReject { reject, .. }) => {
            assert_eq!(reject.reject_code, RejectCode::CanisterError);
            assert_eq!(reject.error_code.as_deref(), Some("IC0503"));
            assert!(
                reject.reject_message.contains("boom: on purpose"),
                "{}",
                reject.reject_message
            );
        }
        other => panic!("a trap is a certified reject, not {other:?}"),
    }
    match agent.update(&id, "no_such_method").call_and_wait().await {
        Err(AgentError::UncertifiedReject { reject, .. }) => {
            assert_eq!(reject.error_code.as_deref(), Some("IC0536"), "{reject:?}");
        }
        other => panic!("a missing method is refused before it runs, not {other:?}"),
    }
    match agent.query(&id, "no_such_method").call().await {
        Err(AgentError::UncertifiedReject { reject, .. }) => {
            assert_eq!(reject.reject_code, RejectCode::DestinationInvalid);
        }
        other => panic!("a query to a missing method is rejected, not {other:?}"),
    }
}

#[tokio::test]
async fn a_query_gets_a_data_certificate() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(ed25519(60)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    let data = [0x5a; 32];
    agent
        .update(&id, "set_cert")
        .with_arg(data.to_vec())
        .call_and_wait()
        .await
        .unwrap();
    let bytes = agent.query(&id, "cert").call().await.unwrap();
    let certificate: Certificate = serde_cbor::from_slice(&bytes).unwrap();
    agent.verify(&certificate, id).unwrap();
    assert_eq!(
        lookup(
            &certificate,
            &[b"canister", id.as_slice(), b"certified_data"]
        ),
        Some(data.as_slice())
    );
}

#[tokio::test]
async fn the_http_gateway_serves_http_request() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(ed25519(70)).await;
    let plain = Encode!(&HttpResponse {
        status_code: 203,
        headers: vec![("x-probe".into(), "plain".into())],
        body: ByteBuf::from(b"hello from a canister".to_vec()),
        upgrade: None,
    })
    .unwrap();
    let upgrade = Encode!(&HttpResponse {
        status_code: 200,
        headers: vec![],
        body: ByteBuf::from(b"from the query".to_vec()),
        upgrade: Some(true),
    })
    .unwrap();
    let updated = Encode!(&HttpResponse {
        status_code: 201,
        headers: vec![("x-probe".into(), "updated".into())],
        body: ByteBuf::from(b"from the update".to_vec()),
        upgrade: None,
    })
    .unwrap();
    let id = create_and_install(&agent, &probe_wasm(&plain, &[]), vec![]).await;
    let upgrading = create_and_install(&agent, &probe_wasm(&upgrade, &updated), vec![]).await;

    let client = reqwest::Client::new();
    let get = |host: String, path: &str| {
        client
            .get(replica.endpoint(path))
            .header("host", host)
            .send()
    };
    let port = replica.port;
    // Served as it is on the raw domain, which verifies nothing (the IC's <id>.raw.icp0.io).
    let raw = get(format!("{id}.raw.localhost:{port}"), "/x")
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 203);
    assert_eq!(raw.headers()["x-probe"], "plain");
    assert_eq!(raw.text().await.unwrap(), "hello from a canister");

    // Elsewhere the answer must verify against the canister's certified data, and this one
    // carries no certificate: refused, as the IC's gateways refuse it.
    let by_host = get(format!("{id}.localhost:{port}"), "/x").await.unwrap();
    let by_query = get(format!("127.0.0.1:{port}"), &format!("/x?canisterId={id}"))
        .await
        .unwrap();
    for response in [by_host, by_query] {
        assert_eq!(response.status().as_u16(), 503);
        assert!(response.headers().get("x-probe").is_none());
        let body = response.text().await.unwrap();
        assert!(body.contains("could not be verified"), "{body}");
        assert!(body.contains("Certification values not found"), "{body}");
        assert!(
            body.contains(&format!("http://{id}.raw.localhost:{port}/x")),
            "{body}"
        );
        assert!(!body.contains("hello from a canister"), "{body}");
    }

    // An upgrade is answered by http_request_update, which went through consensus: served
    // unverified on the verifying domains too.
    for (host, path) in [
        (
            format!("127.0.0.1:{port}"),
            format!("/y?canisterId={upgrading}"),
        ),
        (format!("{upgrading}.localhost:{port}"), "/y".to_string()),
    ] {
        let response = get(host, &path).await.unwrap();
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(response.headers()["x-probe"], "updated");
        assert_eq!(response.text().await.unwrap(), "from the update");
    }
    assert_eq!(
        counter(&agent, upgrading).await,
        2,
        "http_request_update ran"
    );
    assert_eq!(counter(&agent, id).await, 0);

    let nowhere = Principal::from_slice(&[0, 0, 0, 0, 0, 0x77, 0, 1, 1, 1]);
    let response = client
        .get(replica.endpoint(&format!("/x?canisterId={nowhere}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    let preflight = client
        .request(reqwest::Method::OPTIONS, replica.endpoint("/api/v2/status"))
        .header("origin", "http://example.org")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}

/// The vault's link viewer through the verifying gateway: the page is certified (response-only,
/// v2) and verifies; the API's answers are certified as skipped, so they get through verification
/// whatever they say.
#[tokio::test]
async fn the_gateway_verifies_the_vault_viewer() {
    let replica = ReplicaProcess::start();
    let identity = ed25519(71);
    let owner = identity.sender().unwrap();
    let agent = replica.agent(identity).await;
    let id = create_and_install(&agent, &vault_wasm(), init_arg(owner)).await;
    let client = reqwest::Client::new();
    let host = format!("{id}.localhost:{}", replica.port);

    let page = client
        .get(replica.endpoint("/s"))
        .header("host", &host)
        .send()
        .await
        .unwrap();
    let status = page.status().as_u16();
    let content_type = page
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let certified = page.headers().contains_key("ic-certificate");
    let body = page.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html")),
        "{content_type:?}"
    );
    assert!(body.contains("<html"), "{body}");
    assert!(
        certified,
        "a verified answer keeps its IC-Certificate header"
    );

    // The API's answers are not certified: not served on the viewer's origin ...
    let api = client
        .get(replica.endpoint("/s/api/link"))
        .header("host", &host)
        .send()
        .await
        .unwrap();
    let status = api.status().as_u16();
    let body = api.text().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("could not be verified"), "{body}");
    // ... but on the raw domain, to any origin (the viewer's is another one).
    let raw = format!("{id}.raw.localhost:{}", replica.port);
    let api = client
        .get(replica.endpoint("/s/api/link"))
        .header("host", &raw)
        .header("origin", format!("http://{host}"))
        .send()
        .await
        .unwrap();
    let status = api.status().as_u16();
    let allowed = api.headers().get("access-control-allow-origin").cloned();
    let body = api.text().await.unwrap();
    assert_eq!(status, 400, "without a token the API refuses: {body}");
    assert_eq!(allowed.unwrap(), "*");
    let preflight = client
        .request(reqwest::Method::OPTIONS, replica.endpoint("/s/api/link"))
        .header("host", &raw)
        .header("origin", format!("http://{host}"))
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-vault-token")
        .send()
        .await
        .unwrap();
    // (This replica answers every preflight itself, allowing any header; on the IC the
    // canister's own preflight answer is used, see the vault's API tests.)
    assert_eq!(preflight.status().as_u16(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}

/// A dishonest node answers `http_request` with whatever it likes, here a script that would
/// install itself as a service worker over the viewer's whole origin. It cannot forge the
/// subnet's signature, so the best it can do is to reuse the certificates of the vault's real
/// answers, or claim that the vault skips certification. Verified as the IC's gateways verify
/// (ic-response-verification, the replica's root key), none of its answers passes, on any
/// path of the viewer's origin: there is no path whose certification the vault skips.
#[tokio::test]
async fn a_node_cannot_serve_its_own_script_on_the_viewers_origin() {
    use ic_http_certification::{
        CERTIFICATE_EXPRESSION_HEADER_NAME, CERTIFICATE_HEADER_NAME, DefaultCelBuilder,
        HttpRequest as GatewayRequest, HttpResponse as CanisterResponse, StatusCode,
    };

    let replica = ReplicaProcess::start();
    let identity = ed25519(72);
    let owner = identity.sender().unwrap();
    let agent = replica.agent(identity).await;
    let id = create_and_install(&agent, &vault_wasm(), init_arg(owner)).await;
    let request = |path: &str| {
        GatewayRequest::get(path)
            .with_headers(vec![(
                "host".to_string(),
                format!("{id}.localhost:{}", replica.port),
            )])
            .build()
    };
    // What the vault really answers (a query: with the replica's data certificate).
    let honest = |path: String| {
        let agent = &agent;
        let request = request(&path);
        async move {
            let reply = agent
                .query(&id, "http_request")
                .with_arg(Encode!(&request).unwrap())
                .call()
                .await
                .unwrap();
            Decode!(&reply, CanisterResponse<'static>).unwrap()
        }
    };
    let verify = |path: &str, response: CanisterResponse<'static>| {
        ic_response_verification::verify_request_response_pair(
            request(path),
            response,
            id.as_slice(),
            u128::from(now_ns()),
            5 * 60 * SECOND as u128,
            &replica.root_key,
            2,
        )
    };
    let header = |response: &CanisterResponse, name: &str| {
        response
            .headers()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };

    // The harness verifies what should verify.
    let page = honest("/s".into()).await;
    assert!(verify("/s", page.clone()).is_ok());
    assert!(header(&page, "service-worker-allowed").is_none());

    // Every certificate the vault hands out, to reuse.
    let mut certificates = Vec::new();
    for path in ["/s", "/s/", "/nothing", "/s/api/link", "/sw.js"] {
        let answer = honest(path.into()).await;
        if let Some(certificate) = header(&answer, CERTIFICATE_HEADER_NAME) {
            certificates.push(certificate);
        }
    }
    assert!(
        certificates.len() >= 3,
        "the viewer's answers are certified"
    );
    let expressions = [
        header(&page, CERTIFICATE_EXPRESSION_HEADER_NAME).unwrap(),
        DefaultCelBuilder::skip_certification().to_string(),
    ];
    let script = b"self.onfetch = (e) => e.respondWith(new Response('a trojan viewer'));";
    let mut tried = 0;
    for path in ["/s/api/x", "/s/api/link", "/sw.js", "/s/sw.js", "/s", "/"] {
        for certificate in &certificates {
            for expression in &expressions {
                let forged = CanisterResponse::builder()
                    .with_status_code(StatusCode::OK)
                    .with_headers(vec![
                        ("content-type".into(), "text/javascript".into()),
                        ("service-worker-allowed".into(), "/".into()),
                        (
                            CERTIFICATE_EXPRESSION_HEADER_NAME.into(),
                            expression.clone(),
                        ),
                        (CERTIFICATE_HEADER_NAME.into(), certificate.clone()),
                    ])
                    .with_body(script.to_vec())
                    .build();
                let verified = verify(path, forged);
                assert!(
                    verified.is_err(),
                    "{path}: a node's script verified: {verified:?}"
                );
                tried += 1;
            }
        }
    }
    assert!(tried >= 36);
}

#[tokio::test]
async fn a_restarted_replica_keeps_its_keys_and_canisters() {
    let replica = ReplicaProcess::start();
    let root_key = replica.root_key.clone();
    let agent = replica.agent(ed25519(80)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    for _ in 0..2 {
        agent.update(&id, "inc").call_and_wait().await.unwrap();
    }
    drop(agent);
    let dir = replica.stop();
    let _cleanup = RemoveOnDrop(dir.clone());
    assert_key_file_is_private(&dir);

    let again = ReplicaProcess::start_in(dir.clone(), &[]);
    assert_eq!(again.root_key, root_key);
    let agent = again.agent(ed25519(80)).await;
    assert_eq!(agent.read_root_key(), root_key);
    assert_eq!(counter(&agent, id).await, 2);
    agent.update(&id, "inc").call_and_wait().await.unwrap();
    assert_eq!(counter(&agent, id).await, 3);
    assert_key_file_is_private(&dir);
}

fn assert_key_file_is_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("replica-keys"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Kills the replica outright (SIGKILL: no checkpoint) and leaves its directory.
fn kill(mut replica: ReplicaProcess) -> PathBuf {
    let _ = replica.process.child.kill();
    let _ = replica.process.child.wait();
    replica.owns_dir = false;
    replica.dir.clone()
}

#[tokio::test]
async fn a_call_sent_again_after_a_restart_runs_once() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(ed25519(90)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    let path = format!("/api/v4/canister/{id}/call");
    let first = agent.update(&id, "inc").sign().unwrap();
    let second = agent.update(&id, "inc").sign().unwrap();
    let (status, _) = replica.post(&path, first.signed_update.clone()).await;
    assert_eq!(status, 200);
    drop(agent);
    // Killed: the call is only in the log.
    let dir = kill(replica);
    let _cleanup = RemoveOnDrop(dir.clone());

    let again = ReplicaProcess::start_in(dir.clone(), &[]);
    let agent = again.agent(ed25519(90)).await;
    assert_eq!(counter(&agent, id).await, 1);
    let (status, body) = again.post(&path, first.signed_update.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        counter(&agent, id).await,
        1,
        "the same bytes did not run again"
    );
    let (done, _) = agent
        .request_status_raw(&first.request_id, id)
        .await
        .unwrap();
    assert!(
        matches!(done, RequestStatusResponse::Done),
        "its reply was not kept, so its status is done: {done:?}"
    );
    // A call of its own still runs.
    let (status, _) = again.post(&path, second.signed_update.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(counter(&agent, id).await, 2);
    drop(agent);
    // Stopped: both calls are in the checkpoint now, not in the log.
    again.stop();

    let third = ReplicaProcess::start_in(dir.clone(), &[]);
    let agent = third.agent(ed25519(90)).await;
    for signed in [&first, &second] {
        let (status, _) = third.post(&path, signed.signed_update.clone()).await;
        assert_eq!(status, 200);
    }
    assert_eq!(counter(&agent, id).await, 2, "neither ran again");
}

#[tokio::test]
async fn a_request_naming_another_host_is_refused() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(ed25519(91)).await;
    let id = create_and_install(&agent, &plain_probe(), vec![]).await;
    let port = replica.port;
    let client = reqwest::Client::new();
    let status_of = |host: String, path: String| {
        let request = client.get(replica.endpoint(&path)).header("host", host);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        }
    };
    // DNS rebinding: a page at evil.example.com, its name pointed at 127.0.0.1.
    for (host, path) in [
        (
            format!("evil.example.com:{port}"),
            "/api/v2/status".to_string(),
        ),
        ("evil.example.com".to_string(), "/api/v2/status".to_string()),
        (
            format!("evil.example.com:{port}"),
            format!("/?canisterId={id}"),
        ),
        (
            format!("localhost.evil.example.com:{port}"),
            "/api/v2/status".to_string(),
        ),
    ] {
        let (status, body) = status_of(host.clone(), path).await;
        assert_eq!(status, 403, "{host}: {body}");
        assert!(body.contains("DNS rebinding"), "{host}: {body}");
    }
    // The names it serves.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, body) = status_of(host.clone(), "/api/v2/status".into()).await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    for host in [
        format!("{id}.localhost:{port}"),
        format!("{id}.raw.localhost:{port}"),
    ] {
        let (status, body) = status_of(host.clone(), "/".into()).await;
        assert_ne!(status, 403, "{host}: {body}");
    }
    // The agents send the host of their URL.
    agent.update(&id, "inc").call_and_wait().await.unwrap();
    let by_name = Agent::builder()
        .with_url(format!("http://localhost:{port}"))
        .with_identity(ed25519(91))
        .build()
        .unwrap();
    by_name.fetch_root_key().await.unwrap();
    assert_eq!(counter(&by_name, id).await, 1);
}

#[tokio::test]
async fn a_configured_host_name_is_served() {
    let replica = ReplicaProcess::start_in(fresh_dir(), &["--host-name", "vault.test,other.test"]);
    let client = reqwest::Client::new();
    for (host, want) in [("vault.test", 200), ("OTHER.test", 200), ("evil.test", 403)] {
        let response = client
            .get(replica.endpoint("/api/v2/status"))
            .header("host", format!("{host}:{}", replica.port))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), want, "{host}");
    }
}

/// `wasm` with a custom section of `size` bytes: a module too large for one message.
fn with_custom_section(mut wasm: Vec<u8>, size: usize) -> Vec<u8> {
    let name = b"padding";
    let mut content = vec![name.len() as u8];
    content.extend_from_slice(name);
    content.resize(content.len() + size, 0x5a);
    wasm.push(0);
    let mut len = content.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        wasm.push(if len == 0 { byte } else { byte | 0x80 });
        if len == 0 {
            break;
        }
    }
    wasm.extend_from_slice(&content);
    wasm
}

#[tokio::test]
async fn a_module_over_one_message_installs_in_chunks_and_survives_a_restart() {
    let replica = ReplicaProcess::start();
    let agent = replica.agent(ed25519(100)).await;
    let id = create_canister(&agent).await;
    let management = ManagementCanister::create(&agent);
    // ic-utils installs a module of 1.85 MiB or more through the chunk store by itself.
    let big = with_custom_section(plain_probe(), 5 << 19);
    assert!(big.len() > 2 << 20);
    management
        .install(&id, &big)
        .with_mode(InstallMode::Install)
        .call_and_wait()
        .await
        .expect("installed in chunks");
    agent.update(&id, "inc").call_and_wait().await.unwrap();
    assert_eq!(counter(&agent, id).await, 1);
    let (status,) = management.canister_status(&id).call().await.unwrap();
    assert_eq!(
        status.module_hash,
        Some(Sha256::digest(&big).to_vec()),
        "the module installed is the whole of the chunks"
    );

    // A chunk left in the store is there after a restart, and installs from there.
    let chunk = with_custom_section(plain_probe(), 1000);
    let (stored,) = management
        .upload_chunk(
            &id,
            &ic_management_canister_types_08::UploadChunkArgs {
                canister_id: id,
                chunk: chunk.clone(),
            },
        )
        .call_and_wait()
        .await
        .unwrap();
    assert_eq!(stored.hash, Sha256::digest(&chunk).to_vec());
    drop(agent);
    // Killed (the chunk only in the log, replayed), then stopped (in the checkpoint).
    let dir = kill(replica);
    let _cleanup = RemoveOnDrop(dir.clone());
    let again = ReplicaProcess::start_in(dir.clone(), &[]);
    let agent = again.agent(ed25519(100)).await;
    let (chunks,) = ManagementCanister::create(&agent)
        .stored_chunks(&id)
        .call_and_wait()
        .await
        .unwrap();
    assert_eq!(chunks.len(), 1, "replayed from the log");
    drop(agent);
    again.stop();
    let again = ReplicaProcess::start_in(dir.clone(), &[]);
    let agent = again.agent(ed25519(100)).await;
    let management = ManagementCanister::create(&agent);
    assert_eq!(counter(&agent, id).await, 1);
    let (chunks,) = management.stored_chunks(&id).call_and_wait().await.unwrap();
    assert_eq!(
        chunks.iter().map(|c| &c.hash).collect::<Vec<_>>(),
        [&stored.hash]
    );
    management
        .install_chunked_code(&id, &Sha256::digest(&chunk))
        .with_chunk_hashes(chunks)
        .with_install_mode(InstallMode::Reinstall)
        .build()
        .unwrap()
        .call_and_wait()
        .await
        .expect("installed from the restored store");
    assert_eq!(counter(&agent, id).await, 0, "reinstalled");
    management
        .clear_chunk_store(&id)
        .call_and_wait()
        .await
        .unwrap();
    let (chunks,) = management.stored_chunks(&id).call_and_wait().await.unwrap();
    assert!(chunks.is_empty());
}

#[tokio::test]
async fn chunked_installs_refuse_strangers_missing_chunks_wrong_hashes_and_big_chunks() {
    let replica = ReplicaProcess::start();
    let owner = replica.agent(ed25519(110)).await;
    let stranger = replica.agent(ed25519(111)).await;
    let id = create_canister(&owner).await;
    let upload = |agent: &Agent, chunk: Vec<u8>| {
        let agent = agent.clone();
        async move {
            ManagementCanister::create(&agent)
                .upload_chunk(
                    &id,
                    &ic_management_canister_types_08::UploadChunkArgs {
                        canister_id: id,
                        chunk,
                    },
                )
                .call_and_wait()
                .await
                .map(|(hash,)| hash)
        }
    };
    let rejected = |result: Result<(), AgentError>, says: &str| {
        let text = format!("{:?}", result.expect_err("refused"));
        assert!(text.contains(says), "{says}: {text}");
    };
    let stranger_upload = upload(&stranger, vec![1; 10]).await.map(drop);
    rejected(stranger_upload, "controller");
    rejected(
        upload(&owner, vec![0; (1 << 20) + 1]).await.map(drop),
        "at most 1048576 bytes",
    );
    let wasm = plain_probe();
    let (first, rest) = wasm.split_at(wasm.len() / 2);
    let a = upload(&owner, first.to_vec()).await.unwrap();
    let b = upload(&owner, rest.to_vec()).await.unwrap();
    let install = |hashes: Vec<ChunkHash>, module_hash: Vec<u8>, agent: &Agent| {
        let agent = agent.clone();
        async move {
            ManagementCanister::create(&agent)
                .install_chunked_code(&id, &module_hash)
                .with_chunk_hashes(hashes)
                .build()
                .unwrap()
                .call_and_wait()
                .await
        }
    };
    let hash = Sha256::digest(&wasm).to_vec();
    // Out of order: another module than the hash says.
    rejected(
        install(vec![b.clone(), a.clone()], hash.clone(), &owner).await,
        "not the wasm_module_hash",
    );
    let missing = ChunkHash { hash: vec![7; 32] };
    rejected(
        install(vec![a.clone(), missing], hash.clone(), &owner).await,
        "is not in the chunk store",
    );
    rejected(
        install(vec![a.clone(), b.clone()], hash.clone(), &stranger).await,
        "controller",
    );
    install(vec![a, b], hash, &owner).await.expect("installed");
    owner.update(&id, "inc").call_and_wait().await.unwrap();
    assert_eq!(counter(&owner, id).await, 1);
}
