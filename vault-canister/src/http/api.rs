//! The link holder's API under `/s/api/` (PROTOCOL.md §7): what the viewer fetches, decided by
//! the same model calls as the Candid methods `open_link`, `list_files`, `get_thumbnail`,
//! `get_chunk` and `link_opened`, so a link holder over HTTP has exactly the rights they have
//! over Candid. Plain Rust over the model: tested without a replica.
//!
//! Every request carries the link's token in `x-vault-token` and, for a link with a password,
//! the proof in `x-vault-proof` (both base64url, unpadded); they are checked on every request.
//! Answers are CBOR maps with text keys (`application/cbor`); thumbnails and chunks are the
//! stored ciphertext as it is (`application/octet-stream`).
//!
//! None of these answers is certified, so none may be served on the viewer's origin, where a
//! node could put a script of its own in their place (a service worker that takes over `/s`).
//! The viewer fetches them from the canister's raw domain (`<id>.raw.icp0.io`, locally
//! `<id>.raw.localhost:<port>`), another origin, hence the CORS headers; on the viewer's origin
//! they carry no certificate, so a gateway refuses them there (PROTOCOL.md §7.2).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ic_http_certification::{HttpResponse, StatusCode};
use ic_stable_structures::Memory;
use minicbor::Encoder;
use serde_bytes::ByteBuf;

use crate::model::types::*;
use crate::model::{MAX_PAGE, State};

/// Where the API lives.
pub const PREFIX: &str = "/s/api/";

/// The header that carries the link's access token.
pub const TOKEN_HEADER: &str = "x-vault-token";
/// The header that carries the link password's proof.
pub const PROOF_HEADER: &str = "x-vault-proof";

/// Files a listing page holds: the model's page size, and at most 200 × 8 KiB of sealed
/// metadata, well within a query's reply.
const PAGE: u32 = MAX_PAGE;

/// Link state and listings may change at any moment (a revocation must be seen at once).
const NO_STORE: &str = "no-store";
/// Any origin may read an answer: what it reveals is decided by the token, which a page must
/// already hold (as it may call the Candid queries from anywhere); no cookie or ambient
/// credential is involved. The viewer is the one origin that does (from `<id>.icp0.io`).
const ALLOW_ORIGIN: &str = "*";
/// The methods the API takes, for a preflight (the request headers are its two).
const ALLOW_METHODS: &str = "GET, POST";
/// How long a browser may keep a preflight's answer (Chromium keeps at most 2 hours).
const PREFLIGHT_MAX_AGE: &str = "7200";

/// Ciphertext never changes under a file id, and is useless without the fragment's key; only
/// the browser that fetched it may keep it (`private`), never a shared cache.
const PRIVATE_IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// Whether `path` is the API's.
pub fn is_api(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// What the API answers a request.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// An answer to send as it is.
    Reply {
        status: u16,
        content_type: &'static str,
        cache: &'static str,
        body: Vec<u8>,
    },
    /// The request changes state: the gateway must send it again as an update.
    Upgrade,
    /// A CORS preflight (`OPTIONS`): which methods and headers the API takes from elsewhere.
    Preflight,
}

/// What a request asks for.
#[derive(Debug, PartialEq)]
enum Route {
    Link,
    Files { after: Option<Cursor> },
    Thumbnail { file_id: FileId },
    Chunk { file_id: FileId, index: u32 },
    Opened,
}

/// Answers an `http_request` (a query: nothing it does persists).
pub fn query<M: Memory>(
    state: &State<M>,
    now: u64,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
) -> Answer {
    if method == "OPTIONS" {
        return preflight(path);
    }
    let (route, access) = match parse(method, path, query, headers) {
        Ok(parsed) => parsed,
        Err(answer) => return answer,
    };
    let result = match route {
        // An update is paid by the vault: only a link that opens (token, password proof, not
        // revoked or expired) is sent on to one, so a stranger cannot make it pay for refusals.
        Route::Opened => state.resolve_link(now, &access).map(|_| Answer::Upgrade),
        Route::Link => state.open_link(now, &access).map(|open| link(&open)),
        Route::Files { after } => files(state, now, access, after),
        Route::Thumbnail { file_id } => state
            .get_thumbnail(
                &anonymous(),
                now,
                FileRef {
                    file_id,
                    link: Some(access),
                },
            )
            .map(ciphertext),
        Route::Chunk { file_id, index } => state
            .get_chunk(
                &anonymous(),
                now,
                GetChunkArgs {
                    file_id,
                    index,
                    link: Some(access),
                },
            )
            .map(ciphertext),
    };
    result.unwrap_or_else(|e| refusal(&e))
}

/// Answers an `http_request_update`: counts an opening of the link.
pub fn update<M: Memory>(
    state: &mut State<M>,
    now: u64,
    method: &str,
    path: &str,
    headers: &[(String, String)],
) -> Answer {
    match parse(method, path, None, headers) {
        Ok((Route::Opened, access)) => match state.link_opened(now, &access) {
            Ok(opened) => cbor(|e| {
                e.map(1)?.str("opened")?.u64(opened)?;
                Ok(())
            }),
            Err(e) => refusal(&e),
        },
        Ok(_) => bad_request("only POST /s/api/opened changes anything"),
        Err(answer) => answer,
    }
}

/// Turns an answer into the gateway's response. It carries no certificate: a gateway serves it
/// only where it verifies nothing (a raw domain), never on the viewer's origin.
pub fn response(answer: Answer) -> HttpResponse<'static> {
    match answer {
        Answer::Upgrade => HttpResponse::builder().with_upgrade(true).build(),
        Answer::Preflight => HttpResponse::builder()
            .with_status_code(StatusCode::NO_CONTENT)
            .with_headers(vec![
                ("access-control-allow-origin".into(), ALLOW_ORIGIN.into()),
                ("access-control-allow-methods".into(), ALLOW_METHODS.into()),
                (
                    "access-control-allow-headers".into(),
                    format!("{TOKEN_HEADER}, {PROOF_HEADER}"),
                ),
                ("access-control-max-age".into(), PREFLIGHT_MAX_AGE.into()),
                ("cache-control".into(), NO_STORE.into()),
            ])
            .build(),
        Answer::Reply {
            status,
            content_type,
            cache,
            body,
        } => HttpResponse::builder()
            .with_status_code(StatusCode::from_u16(status).expect("the API's statuses are valid"))
            .with_headers(vec![
                ("content-type".into(), content_type.into()),
                ("cache-control".into(), cache.into()),
                ("vary".into(), format!("{TOKEN_HEADER}, {PROOF_HEADER}")),
                ("x-content-type-options".into(), "nosniff".into()),
                ("referrer-policy".into(), "same-origin".into()),
                ("access-control-allow-origin".into(), ALLOW_ORIGIN.into()),
            ])
            .with_body(body)
            .build(),
    }
}

/// The answer to `OPTIONS <path>`: a preflight for an endpoint, else `NoSuchEndpoint`.
fn preflight(path: &str) -> Answer {
    let rest = path.strip_prefix(PREFIX).unwrap_or_default();
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["link" | "files" | "opened"] | ["thumb", _] | ["chunk", _, _] => Answer::Preflight,
        _ => error(
            404,
            "NoSuchEndpoint",
            &format!("{path} is not an endpoint of this API (PROTOCOL.md §7)"),
            None,
        ),
    }
}

fn anonymous() -> candid::Principal {
    candid::Principal::anonymous()
}

/// The route and the link access of a request, or the answer refusing it.
fn parse(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &[(String, String)],
) -> Result<(Route, LinkAccess), Answer> {
    let rest = path.strip_prefix(PREFIX).unwrap_or_default();
    let parts: Vec<&str> = rest.split('/').collect();
    let route = match (method, parts.as_slice()) {
        ("GET", ["link"]) => Route::Link,
        ("GET", ["files"]) => Route::Files {
            after: match param(query, "after") {
                Some(text) => Some(text.parse().map_err(|_| {
                    bad_request("`after` is the `next` of the previous page, as it was given")
                })?),
                None => None,
            },
        },
        ("GET", ["thumb", id]) => Route::Thumbnail {
            file_id: parse_id(id)?,
        },
        ("GET", ["chunk", id, index]) => Route::Chunk {
            file_id: parse_id(id)?,
            index: index
                .parse()
                .map_err(|_| bad_request("a chunk index is a whole number"))?,
        },
        ("POST", ["opened"]) => Route::Opened,
        (_, ["link" | "files" | "opened"] | ["thumb", _] | ["chunk", _, _]) => {
            return Err(error(
                405,
                "MethodNotAllowed",
                &format!("{method} {path} is not served: see PROTOCOL.md §7"),
                None,
            ));
        }
        _ => {
            return Err(error(
                404,
                "NoSuchEndpoint",
                &format!("{path} is not an endpoint of this API (PROTOCOL.md §7)"),
                None,
            ));
        }
    };
    let token = header32(headers, TOKEN_HEADER)?.ok_or_else(|| {
        bad_request("send the link's access token in `x-vault-token` (FORMAT.md §9.2)")
    })?;
    let proof = header32(headers, PROOF_HEADER)?;
    Ok((
        route,
        LinkAccess {
            token: ByteBuf::from(token.to_vec()),
            password_proof: proof.map(|p| ByteBuf::from(p.to_vec())),
        },
    ))
}

/// A 32-byte base64url header, if present.
fn header32(headers: &[(String, String)], name: &str) -> Result<Option<[u8; 32]>, Answer> {
    let Some((_, value)) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(value.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(Some)
        .ok_or_else(|| bad_request(&format!("`{name}` must be 32 bytes in unpadded base64url")))
}

fn param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

fn parse_id(text: &str) -> Result<FileId, Answer> {
    let mut id = [0u8; 16];
    hex::decode_to_slice(text, &mut id)
        .map(|()| ByteBuf::from(id.to_vec()))
        .map_err(|_| bad_request("a file id is 32 hexadecimal digits"))
}

/// The files a link reaches: a page of its album, or its one file.
fn files<M: Memory>(
    state: &State<M>,
    now: u64,
    access: LinkAccess,
    after: Option<Cursor>,
) -> VaultResult<Answer> {
    let open = state.open_link(now, &access)?;
    let (files, next) = match open.target {
        Target::Album(album) => {
            let page = state.list_files(
                &anonymous(),
                now,
                ListFilesArgs {
                    album: Some(album),
                    link: Some(access),
                    after,
                    limit: Some(PAGE),
                    descending: Some(true),
                    trashed: None,
                },
            )?;
            (page.files, page.next)
        }
        Target::File(file_id) => {
            let file = state.get_file(
                &anonymous(),
                now,
                FileRef {
                    file_id,
                    link: Some(access),
                },
            )?;
            (vec![file], None)
        }
    };
    Ok(cbor(|e| {
        e.map(2)?.str("files")?.array(files.len() as u64)?;
        for f in &files {
            e.map(9)?
                .str("id")?
                .bytes(&f.id)?
                .str("size")?
                .u64(f.size)?
                .str("chunk_count")?
                .u32(f.chunk_count)?
                .str("header")?
                .bytes(&f.content_header)?
                .str("wrapped_key")?
                .bytes(&f.wrapped_key)?
                .str("key_version")?
                .u32(f.key_version)?
                .str("metadata")?
                .bytes(&f.metadata)?
                .str("thumbnail_size")?
                .u32(f.thumbnail_size)?
                .str("sort_key")?
                .i64(f.sort_key)?;
        }
        e.str("next")?;
        match &next {
            Some(cursor) => e.str(&cursor.to_string())?,
            None => e.null()?,
        };
        Ok(())
    }))
}

/// What the holder needs to decrypt the target: every version of its key the link holds.
fn link(open: &LinkOpen) -> Answer {
    let (kind, id) = match &open.target {
        Target::Album(id) => ("album", id),
        Target::File(id) => ("file", id),
    };
    cbor(|e| {
        e.map(5)?.str("target")?.str(kind)?.str("id")?.bytes(id)?;
        e.str("keys")?.array(open.earlier_keys.len() as u64 + 1)?;
        for (version, wrapped) in &open.earlier_keys {
            e.array(2)?.u32(*version)?.bytes(wrapped)?;
        }
        e.array(2)?
            .u32(open.key_version)?
            .bytes(&open.wrapped_key)?;
        e.str("album_name")?;
        match &open.album_name {
            Some(name) => e.bytes(name)?,
            None => e.null()?,
        };
        e.str("expires_at")?;
        match open.expires_at {
            Some(t) => e.u64(t)?,
            None => e.null()?,
        };
        Ok(())
    })
}

fn ciphertext(bytes: ByteBuf) -> Answer {
    Answer::Reply {
        status: 200,
        content_type: "application/octet-stream",
        cache: PRIVATE_IMMUTABLE,
        body: bytes.into_vec(),
    }
}

type Encoding = Result<(), minicbor::encode::Error<std::convert::Infallible>>;

fn cbor(write: impl FnOnce(&mut Encoder<Vec<u8>>) -> Encoding) -> Answer {
    let mut encoder = Encoder::new(Vec::new());
    write(&mut encoder).expect("writing CBOR into a Vec cannot fail");
    Answer::Reply {
        status: 200,
        content_type: "application/cbor",
        cache: NO_STORE,
        body: encoder.into_writer(),
    }
}

/// A refusal as `{ error, message, iterations? }` with the HTTP status that fits it.
fn error(status: u16, name: &str, message: &str, iterations: Option<u32>) -> Answer {
    let mut answer = cbor(|e| {
        e.map(2 + u64::from(iterations.is_some()))?
            .str("error")?
            .str(name)?
            .str("message")?
            .str(message)?;
        if let Some(n) = iterations {
            e.str("iterations")?.u32(n)?;
        }
        Ok(())
    });
    if let Answer::Reply { status: s, .. } = &mut answer {
        *s = status;
    }
    answer
}

fn bad_request(message: &str) -> Answer {
    error(400, "BadRequest", message, None)
}

/// The model's refusal, for a link holder.
fn refusal(e: &VaultError) -> Answer {
    match e {
        VaultError::PasswordRequired { iterations } => error(
            401,
            "PasswordRequired",
            "this link has a password",
            Some(*iterations),
        ),
        VaultError::WrongPassword => error(403, "WrongPassword", "the password is wrong", None),
        VaultError::NotAuthorized => error(
            403,
            "NotAuthorized",
            "this link does not reach that file",
            None,
        ),
        VaultError::NotFound => error(
            404,
            "NotFound",
            "no such link or file in this vault: it may have been deleted",
            None,
        ),
        VaultError::Revoked => error(410, "Revoked", "the owner revoked this link", None),
        VaultError::Expired => error(410, "Expired", "this link has expired", None),
        VaultError::InvalidArgument { field, reason } => {
            error(400, "InvalidArgument", &format!("{field}: {reason}"), None)
        }
        other => error(409, "Conflict", &format!("{other:?}"), None),
    }
}

#[cfg(test)]
mod tests;
