//! Videos for the webview's player, from a server on the loopback interface. WebKitGTK's
//! player (GStreamer) reads http(s), blob and file URLs only, never the app's `vault://`
//! protocol (a `<video>` there fails at once with a format error), so `<video>`s load
//! `http://127.0.0.1:<port>/media/<token>/<id>`.
//!
//! The token is 256 random bits made at each launch, known to this process and its webview
//! only: a request without it (another local user's, a web page's guess), by another method
//! than GET, or naming another host (a page that rebound a domain of its own to 127.0.0.1)
//! is answered 404 and learns nothing.
//!
//! A request gets the bytes its `Range` asks for (206), or the whole (200), streamed a piece at
//! a time: only the chunks those bytes are in are fetched and decrypted (`Images::piece`), so a
//! long video starts at once and never sits whole in memory. Answers are `no-store` (WebKit's
//! player may still buffer a playing video on disk: SECURITY.md §8); a locked vault answers
//! nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as Extracted};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use sha2::Digest;
use vault_bridge::images::{ByteRange, Piece, Refusal, parse_path};
use vault_ui::model::ImageKind;

use crate::backend::State;

/// The server: where it answers, and what it has answered.
pub(crate) struct Media {
    /// `http://127.0.0.1:<port>/media/<token>`.
    base: String,
    /// Requests for byte ranges answered (the app's test hooks report it).
    ranges: Arc<AtomicU64>,
}

#[derive(Clone)]
struct Served {
    state: Arc<State>,
    /// `127.0.0.1:<port>`: the only `Host` answered.
    host: String,
    /// The token's SHA-256: compared with a request's in constant time.
    token: [u8; 32],
    ranges: Arc<AtomicU64>,
}

impl Media {
    /// Starts the server on `runtime`, answering from `state`'s session.
    pub(crate) fn start(
        runtime: &tokio::runtime::Runtime,
        state: Arc<State>,
    ) -> Result<Media, String> {
        let mut secret = [0u8; 32];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut secret);
        let token = hex::encode(secret);
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cannot open the video server on 127.0.0.1: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let ranges = Arc::new(AtomicU64::new(0));
        let served = Served {
            state,
            host: format!("127.0.0.1:{port}"),
            token: sha2::Sha256::digest(token.as_bytes()).into(),
            ranges: ranges.clone(),
        };
        // Every request goes to `answer`: whatever is wrong with one, the answer is the same 404.
        let app = axum::Router::new().fallback(answer).with_state(served);
        runtime.spawn(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    if let Err(e) = axum::serve(listener, app).await {
                        eprintln!("the video server stopped: {e}");
                    }
                }
                Err(e) => eprintln!("the video server did not start: {e}"),
            }
        });
        Ok(Media {
            base: format!("http://127.0.0.1:{port}/media/{token}"),
            ranges,
        })
    }

    /// Where the player loads the video `id` (a photo's id as the screens have it).
    pub(crate) fn url(&self, id: &str) -> String {
        format!("{}/{id}", self.base)
    }

    /// Byte ranges answered so far.
    pub(crate) fn ranges(&self) -> u64 {
        self.ranges.load(Ordering::Relaxed)
    }
}

fn text(status: StatusCode, message: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(message.to_string()))
        .expect("a valid response")
}

fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "no such video")
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::NotFound | Refusal::TooLarge => not_found(),
        Refusal::Failed(why) => text(StatusCode::INTERNAL_SERVER_ERROR, &why),
    }
}

/// One request: the bytes of a video its `Range` asks for, streamed.
async fn answer(Extracted(served): Extracted<Served>, request: Request) -> Response {
    let headers = request.headers();
    if request.method() != Method::GET
        || headers.get(header::HOST).and_then(|h| h.to_str().ok()) != Some(served.host.as_str())
    {
        return not_found();
    }
    let Some((token, id)) = request
        .uri()
        .path()
        .strip_prefix("/media/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return not_found();
    };
    let asked: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
    if asked
        .iter()
        .zip(&served.token)
        .fold(0u8, |d, (a, b)| d | (a ^ b))
        != 0
    {
        return not_found();
    }
    let Some((ImageKind::Video, id)) = parse_path(&format!("/media/{id}")) else {
        return not_found();
    };
    let state = served.state.clone();
    let piece = move |at: u64| {
        let state = state.clone();
        async move { state.images.piece(state.screens.session(), id, at).await }
    };
    let range = headers.get(header::RANGE).and_then(|r| r.to_str().ok());
    // The first piece from where the range starts when it says (a suffix needs the length).
    let stated = range
        .and_then(|r| r.trim().strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(first, _)| first.parse::<u64>().ok())
        .unwrap_or(0);
    let first = match piece(stated).await {
        Ok(first) => first,
        Err(refusal) => return refused(refusal),
    };
    let (total, mime) = (first.total, first.mime.clone());
    let (start, end, status) = match range.map_or(ByteRange::Whole, |r| ByteRange::parse(r, total))
    {
        ByteRange::Unsatisfiable => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{total}"))
                .body(Body::empty())
                .expect("a valid response");
        }
        ByteRange::Part { start, end } => (start, end, StatusCode::PARTIAL_CONTENT),
        ByteRange::Whole => (0, total.saturating_sub(1), StatusCode::OK),
    };
    let first = if start == stated { Some(first) } else { None };
    let length = if total == 0 { 0 } else { end + 1 - start };
    // The pieces from `start` to `end`, each fetched when the player reads on.
    let body = futures_util::stream::unfold((start, first), move |(at, pending)| {
        let piece = piece.clone();
        async move {
            if length == 0 || at > end {
                return None;
            }
            let next: Result<Piece, Refusal> = match pending {
                Some(first) => Ok(first),
                None => piece(at).await,
            };
            let bytes = match next {
                Ok(next) if !next.bytes.is_empty() => next.bytes,
                Ok(_) | Err(_) => {
                    let failed = std::io::Error::other(format!("byte {at} could not be read"));
                    return Some((Err(failed), (end + 1, None)));
                }
            };
            let mut part = Bytes::from(bytes);
            part.truncate(usize::try_from(end + 1 - at).unwrap_or(usize::MAX));
            let sent = part.len() as u64;
            Some((Ok::<_, std::io::Error>(part), (at + sent, None)))
        }
    });
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_LENGTH, length)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if status == StatusCode::PARTIAL_CONTENT {
        served.ranges.fetch_add(1, Ordering::Relaxed);
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{total}"),
        );
    }
    response
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "bad media type"))
}
