// Streaming a decrypted original (a video) to the page's <video>, in a service worker: the link
// viewer's (/s/sw.js) and the web app's (/app/sw.js), which build.rs makes of this text and
// their own. Only the page holds the file's key, so the worker asks it for the bytes a request
// covers, one piece at a time (a piece ends where the piece's encrypted chunk ends, so a
// piece is one chunk decrypted at most): a Range request is answered with 206 and exactly its
// bytes, which the page decrypts only as the <video> reads them. A 2 GiB video starts at once
// and never sits whole in memory, the page's or this worker's.
//
// The page answers `{ type: "media", path, from }` on the port it is sent with
// `{ status: 200, mime, total, bytes }` (bytes from `from` to at most the end of its chunk,
// at least one unless `from` is at or past the end, which is answered with none) or
// `{ status, text }` (404: no such file; 500: it did not decrypt).

/** Parses a `Range` header of one range against a length of `total`: `{ start, end }` (end
 * inclusive), `null` when it cannot be satisfied, `undefined` when it is not a single byte
 * range (the whole file is then served, as RFC 9110 allows). */
function byteRange(header, total) {
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    // The last n bytes.
    const n = Number(m[2]);
    if (n === 0 || total === 0) return null;
    return { start: Math.max(0, total - n), end: total - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? Infinity : Number(m[2]);
  if (last < start) return undefined; // not a valid range: ignored (RFC 9110 §14.2)
  if (!Number.isSafeInteger(start) || start >= total) return null;
  return { start, end: Math.min(last, total - 1) };
}

/** Headers of every decrypted answer: never stored, never sniffed, and never a document that
 * runs anything, should a file (an SVG, an HTML page) be opened in a tab of its own. */
const DECRYPTED = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy": "sandbox; default-src 'none'",
};

/** How long the page may take to answer for a piece before the stream fails. */
const ANSWER_MS = 30_000;

/** The page that asked (or, for a request without one, any of this worker's pages; but never
 * for a navigation: a decrypted file is not opened as a page by a link from elsewhere). */
async function pageOf(event) {
  if (event.request.mode === "navigate") return null;
  return (await self.clients.get(event.clientId)) ?? (await self.clients.matchAll({ type: "window" }))[0];
}

/** Asks `page` for `message`; resolves with its answer (a 504 when it does not answer in time:
 * it was reloaded or closed). */
function ask(page, message) {
  const channel = new MessageChannel();
  const answered = new Promise((resolve) => {
    channel.port1.onmessage = (m) => resolve(m.data);
    setTimeout(() => resolve({ status: 504, text: "the page did not answer" }), ANSWER_MS);
  });
  page.postMessage(message, [channel.port2]);
  return answered;
}

/** The original at `path` (the page's name for a file), as a streamed 200 or 206. */
async function media(event, path) {
  const page = await pageOf(event);
  if (!page) return mediaText(event.request.mode === "navigate" ? 404 : 503, "no open Vault page to decrypt it");
  const piece = (from) => ask(page, { type: "media", path, from });
  const header = event.request.headers.get("range");
  // The first piece is where the range starts when it says (a suffix needs the length first).
  const stated = /^bytes=(\d+)-/.exec(header?.trim() ?? "");
  let from = stated ? Number(stated[1]) : 0;
  let first = await piece(from);
  if (first.status !== 200) return mediaText(first.status, first.text ?? "");
  const { mime, total } = first;
  const range = header === null ? undefined : byteRange(header, total);
  if (range === null) {
    return new Response(null, { status: 416, headers: { "content-range": `bytes */${total}` } });
  }
  const { start, end } = range ?? { start: 0, end: total - 1 };
  if (start !== from) {
    from = start;
    first = await piece(from);
    if (first.status !== 200) return mediaText(first.status, first.text ?? "");
  }
  let at = start; // the next byte to send
  const send = (controller, bytes) => {
    const part = bytes.subarray(0, end + 1 - at);
    at += part.length;
    if (part.length) controller.enqueue(part);
    if (at > end) controller.close();
  };
  const body = new ReadableStream({
    start(controller) {
      if (total === 0) return controller.close();
      send(controller, first.bytes);
      first = null;
    },
    async pull(controller) {
      const next = await piece(at);
      if (next.status !== 200 || !next.bytes?.length) {
        controller.error(new Error(next.text || `the page could not decrypt byte ${at}`));
        return;
      }
      send(controller, next.bytes);
    },
  }, { highWaterMark: 1 });
  const headers = {
    ...DECRYPTED,
    "content-type": mime,
    "content-length": String(end + 1 - start),
    "accept-ranges": "bytes",
  };
  if (range === undefined) return new Response(body, { status: 200, headers });
  headers["content-range"] = `bytes ${start}-${end}/${total}`;
  return new Response(body, { status: 206, headers });
}

function mediaText(status, body) {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
