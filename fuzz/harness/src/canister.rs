//! Targets over the canister's decoders: Candid arguments as its entry points decode them
//! (put_chunk's own zero-copy decoder among them), the HTTP API's requests, and the CBOR
//! records of its stable memory.

use arbitrary::Unstructured;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use candid::Principal;
use ic_http_certification::{HttpRequest, Method};
use ic_stable_structures::VectorMemory;
use serde_bytes::ByteBuf;
use vault_canister::model::State;
use vault_canister::model::stored::*;
use vault_canister::model::types::*;

use crate::model::{Call, apply_checked, fresh_state};

/// Decodes `bytes` as ic-cdk decodes an entry point's arguments: the canister's own decoder.
use vault_canister::decode_as_update as decode_as_entry_point;

/// put_chunk's zero-copy decoder against the decoder `#[update]` would use: both refuse, or
/// both read the same file id, index and data.
pub fn put_chunk_arg(data: &[u8]) {
    let mut owned = None;
    let ours = vault_canister::decode_put_chunk_arg(data, &mut owned)
        .map(|a| (a.file_id.to_vec(), a.index, a.data.to_vec()));
    let theirs = decode_as_entry_point::<(PutChunkArgs,)>(data)
        .map(|(a,)| (a.file_id.into_vec(), a.index, a.data.into_vec()));
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "the decoders read different values"),
        (Err(_), Err(_)) => {}
        (ours, theirs) => panic!(
            "the decoders disagree: put_chunk_arg {:?}, #[update] {:?}",
            ours.map(|_| ()),
            theirs.map(|_| ())
        ),
    }
}

/// One Candid entry point's argument bytes, decoded as the canister decodes them, then (if they
/// decode) the call applied to the fuzzed vault through the model with its invariants checked.
/// Input: `method (1) || caller (1) || Candid bytes`.
pub fn candid_args(data: &[u8]) {
    let [method, who, args @ ..] = data else {
        return;
    };
    let Some(call) = decode_call(*method, args) else {
        return;
    };
    let mut s = fresh_state();
    let caller = crate::model::caller(*who);
    apply_checked(&mut s, &caller, crate::model::T0 + 1, call);
}

/// The call `method` (an index into the interface) with its arguments decoded from `args`.
fn decode_call(method: u8, args: &[u8]) -> Option<Call> {
    use Call::*;
    fn one<T: candid::CandidType + for<'de> serde::Deserialize<'de>>(args: &[u8]) -> Option<T> {
        decode_as_entry_point::<(T,)>(args).ok().map(|(t,)| t)
    }
    fn none(args: &[u8]) -> Option<()> {
        decode_as_entry_point::<()>(args).ok()
    }
    Some(match method % 42 {
        0 => SetQuota(one(args)?),
        1 => Setup(one(args)?),
        2 => AdmitDevice(one(args)?),
        3 => {
            let (record, verifier) = decode_as_entry_point::<(ByteBuf, ByteBuf)>(args).ok()?;
            ChangePassphrase(record, verifier)
        }
        4 => RemoveDevice(one::<Principal>(args)?),
        5 => BeginUpload(one(args)?),
        6 => {
            let mut owned = None;
            let a = vault_canister::decode_put_chunk_arg(args, &mut owned).ok()?;
            PutChunk(PutChunkArgs {
                file_id: ByteBuf::from(a.file_id.to_vec()),
                index: a.index,
                data: ByteBuf::from(a.data.to_vec()),
            })
        }
        7 => CommitUpload(one(args)?),
        8 => AbortUpload(one(args)?),
        9 => MoveFile(one(args)?),
        10 => Trash(one(args)?),
        11 => Restore(one(args)?),
        12 => Purge(one(args)?),
        13 => CreateAlbum(one(args)?),
        14 => {
            let (id, name) = decode_as_entry_point::<(AlbumId, ByteBuf)>(args).ok()?;
            RenameAlbum(id, name)
        }
        15 => DeleteAlbum(one(args)?),
        16 => Grant(one(args)?),
        17 => {
            let (t, p) = decode_as_entry_point::<(Target, Principal)>(args).ok()?;
            RevokeGrant(t, p)
        }
        18 => RotateAlbumKey(one(args)?),
        19 => CreateLink(one(args)?),
        20 => RevokeLink(one(args)?),
        21 => LinkOpened(one(args)?),
        22 => none(args).map(|()| VaultInfo)?,
        23 => none(args).map(|()| UnlockParams)?,
        24 => none(args).map(|()| SharingKey)?,
        25 => none(args).map(|()| Profile)?,
        26 => none(args).map(|()| Devices)?,
        27 => UploadStatus(one(args)?),
        28 => ListFiles(one(args)?),
        29 => GetFile(one(args)?),
        30 => GetChunk(one(args)?),
        31 => GetThumbnail(one(args)?),
        32 => none(args).map(|()| ListAlbums)?,
        33 => {
            let (id, link) = decode_as_entry_point::<(AlbumId, Option<LinkAccess>)>(args).ok()?;
            GetAlbum(id, link)
        }
        34 => ListGrants(one(args)?),
        35 => none(args).map(|()| SharedWithMe)?,
        36 => none(args).map(|()| ListLinks)?,
        37 => OpenLink(one(args)?),
        39 => none(args).map(|()| AdmissionTicket)?,
        40 => none(args).map(|()| ClearUnlockFailures)?,
        41 => {
            let (wrapped, verifier) = decode_as_entry_point::<(ByteBuf, ByteBuf)>(args).ok()?;
            ChangeRecovery(wrapped, verifier)
        }
        _ => {
            let (before, limit) = decode_as_entry_point::<(Option<u64>, Option<u32>)>(args).ok()?;
            Activity(before, limit)
        }
    })
}

// The vault the HTTP target asks about: the model target's base vault with an album of one
// file, a link to the album (token `0x40…`), a link with a password (`0x41…`, proof `0x55…`)
// and a link to the file (`0x42…`).
thread_local! {
    static HTTP_BASE: Vec<u8> = crate::model::populated();
}

fn http_state() -> State<VectorMemory> {
    crate::model::state_from(HTTP_BASE.with(Clone::clone))
}

/// A request to the canister's HTTP interface (`http_request`, and `http_request_update` when
/// the API asks for an upgrade), as a gateway would pass it on: mostly API paths with the link
/// headers, sometimes anything.
pub fn http_api(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(request) = http_request(&mut u) else {
        return;
    };
    let certificate: Option<Vec<u8>> = u.arbitrary().unwrap_or(None);
    let mut s = http_state();
    let now = crate::model::T0 + u.int_in_range(0..=3u64).unwrap_or(0) * 3600 * 1_000_000_000;
    let response = vault_canister::http::request(
        &s,
        now,
        &crate::model::canister(),
        &request,
        certificate.as_deref(),
    );
    let status = response.status_code().as_u16();
    assert!((100..600).contains(&status), "status {status}");
    if response.upgrade() == Some(true) {
        let update = HttpRequest::builder()
            .with_method(request.method().clone())
            .with_url(request.url())
            .with_headers(request.headers().to_vec())
            .with_body(request.body().to_vec())
            .build_update();
        let before = s.digest();
        let response = vault_canister::http::update(&mut s, now, &update);
        let status = response.status_code().as_u16();
        if status >= 400 {
            assert_eq!(s.digest(), before, "a refused update changed the state");
        }
        s.check_invariants()
            .expect("invariants after http_request_update");
    }
}

fn http_request(u: &mut Unstructured) -> arbitrary::Result<HttpRequest<'static>> {
    let method = match u.int_in_range(0..=5u8)? {
        0..=2 => Method::GET,
        3 => Method::POST,
        4 => Method::HEAD,
        _ => Method::from_bytes(u.arbitrary::<&[u8]>()?).unwrap_or(Method::PUT),
    };
    let hex_id = |u: &mut Unstructured| -> arbitrary::Result<String> {
        Ok(match u.int_in_range(0..=4u8)? {
            0 => "11".repeat(16),
            1 => "ff".repeat(16),
            2 => u.arbitrary()?,
            _ => "10".repeat(16),
        })
    };
    let path = match u.int_in_range(0..=9u8)? {
        0 => "/s/api/link".to_string(),
        1 => "/s/api/opened".to_string(),
        2 => format!("/s/api/thumb/{}", hex_id(u)?),
        3 => format!(
            "/s/api/chunk/{}/{}",
            hex_id(u)?,
            if u.arbitrary()? {
                u.arbitrary::<String>()?
            } else {
                u.int_in_range(0..=2u32)?.to_string()
            }
        ),
        4 => {
            let after = if u.arbitrary()? {
                format!("?after={}.{}", u.int_in_range(-2..=2i64)?, hex_id(u)?)
            } else {
                format!("?{}", u.arbitrary::<String>()?)
            };
            format!("/s/api/files{after}")
        }
        5 => format!("/s/api/{}", u.arbitrary::<String>()?),
        6 => ["/s", "/s/", "/s/index.html", "/app", "/"][u.int_in_range(0..=4usize)?].to_string(),
        _ => u.arbitrary::<String>()?,
    };
    let mut headers = Vec::new();
    let token = match u.int_in_range(0..=5u8)? {
        0 => None,
        1 => Some(u.arbitrary::<String>()?),
        n => Some(URL_SAFE_NO_PAD.encode([0x40 + n % 3; 32])),
    };
    if let Some(token) = token {
        headers.push((
            if u.arbitrary()? {
                "X-Vault-Token"
            } else {
                "x-vault-token"
            }
            .to_string(),
            token,
        ));
    }
    match u.int_in_range(0..=3u8)? {
        0 => headers.push((
            "x-vault-proof".to_string(),
            URL_SAFE_NO_PAD.encode([0x55; 32]),
        )),
        1 => headers.push(("x-vault-proof".to_string(), u.arbitrary()?)),
        _ => {}
    }
    for _ in 0..u.int_in_range(0..=2u8)? {
        headers.push((u.arbitrary()?, u.arbitrary()?));
    }
    let body: Vec<u8> = u.arbitrary()?;
    Ok(HttpRequest::builder()
        .with_method(method)
        .with_url(path)
        .with_headers(headers)
        .with_body(body)
        .build())
}

/// The CBOR records of the canister's stable memory, read by the first byte's choice: what
/// reads encodes to bytes that read back as the same record. (The canister only reads what it
/// wrote; a record that fails to read means corrupt memory, and it traps on purpose. This
/// checks the readers themselves never panic nor read a record two ways.)
pub fn stored_records(data: &[u8]) {
    fn check<T>(bytes: &[u8])
    where
        T: for<'b> minicbor::Decode<'b, ()> + minicbor::Encode<()> + PartialEq + std::fmt::Debug,
    {
        if let Ok(record) = minicbor::decode::<T>(bytes) {
            let encoded = minicbor::to_vec(&record).expect("encoding into a Vec cannot fail");
            let again: T = minicbor::decode(&encoded).expect("an encoded record reads");
            assert_eq!(again, record);
        }
    }
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 11 {
        0 => check::<Config>(bytes),
        1 => check::<ProfileCell>(bytes),
        2 => check::<ProfileRecord>(bytes),
        3 => check::<FileRecord>(bytes),
        4 => check::<UploadRecord>(bytes),
        5 => check::<ChunkLocation>(bytes),
        6 => check::<ChunkMeta>(bytes),
        7 => check::<AlbumRecord>(bytes),
        8 => check::<GrantRecord>(bytes),
        9 => check::<LinkRecord>(bytes),
        _ => check::<ReclaimJob>(bytes),
    }
}
