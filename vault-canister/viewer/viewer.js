// The link viewer (PROTOCOL.md §7.3): reads the link's secret from the URL fragment, derives the
// token and keys with WebCrypto, fetches ciphertext from this canister's /s/api/ on its raw
// domain (another origin: origin.js says why) and decrypts it here. The secret and every key
// stay in this page; the canister only ever sees the token (and the password proof).

import * as F from './format.js';
import { apiOrigin } from './origin.js';

const THUMB_FETCHES = 6; // thumbnails in flight at once
const CHUNK_FETCHES = 3; // chunks of one original in flight at once
const KEEP_THUMBS = 300; // decoded thumbnails kept; beyond, those out of view are released
const STREAM_TO_DISK_OVER = 256 * 2 ** 20; // larger downloads go straight to disk where possible
const PREVIEW_LIMIT = 512 * 2 ** 20; // larger originals are offered for download, not shown

const $ = (id) => document.getElementById(id);

/** Where the link holder's API is: the canister's raw domain (null: this address names no canister). */
const API_ORIGIN = apiOrigin(location.href);

/** What the link gives access to, once opened. */
const link = { token: '', proof: '', albumKeys: new Map(), fileKey: null };
/** Every listed file by id (hex): { file, hex, key, meta, problem, img, thumb… }. */
const entries = new Map();

// ---------------------------------------------------------------------------------------------
// Pages

/** [title, what to do, body[data-error]] for each full-page refusal. */
const PAGES = {
  damaged: ['This link is damaged', 'Part of it may be missing. Copy the whole link again, or ask the person who sent it to send it again.', 'damaged'],
  key: ['This link is damaged', 'Its key does not open what it points to. Ask the person who sent it for the link again.', 'damaged'],
  'not-found': ['This link doesn’t exist', 'It may have been deleted, or it belongs to another vault. Ask the person who sent it.', 'not-found'],
  revoked: ['The owner stopped sharing this link', 'Ask them to share it again if you still need it.', 'revoked'],
  expired: ['This link has expired', 'Ask the person who sent it for a new link.', 'expired'],
  network: ['Can’t reach the vault', 'Check your connection, then try again.', 'network'],
  unexpected: ['Something went wrong', 'The vault gave an answer this page doesn’t understand. Try again in a moment.', 'network'],
  unsupported: ['This link needs a newer Vault', 'It was made by a newer version of Vault than this page can read. Ask the person who sent it.', 'unsupported'],
  browser: ['This browser can’t open the link', 'It needs a secure (https) connection and a recent browser. Open the link in another browser.', 'unsupported'],
  address: ['This address can’t open links', 'Open the link exactly as it was sent to you: it begins with https://, then the vault’s id, then .icp0.io/s.', 'unsupported'],
  refused: ['This link can’t be opened safely', 'Its password settings are outside what Vault accepts. Ask the person who sent it for a new link.', 'unsupported'],
};

const PAGE_IDS = { loading: 'loading-page', password: 'password-page', album: 'album-page', error: 'error-page' };

function setState(state) {
  document.body.dataset.state = state;
  for (const [s, id] of Object.entries(PAGE_IDS)) $(id).hidden = s !== state;
}

function showError(page) {
  const [title, text, error] = PAGES[page];
  if (!$('viewer').hidden) hideViewer();
  $('error-title').textContent = title;
  $('error-text').textContent = text;
  $('retry').hidden = error !== 'network';
  document.title = `${title} · Vault`;
  document.body.dataset.error = error;
  delete document.body.dataset.passwordError;
  setState('error');
}

/** The page for an error that ends the visit. */
function pageFor(error) {
  if (error?.page) return error.page;
  if (error instanceof ApiError) {
    return { NotFound: 'not-found', Revoked: 'revoked', Expired: 'expired', Network: 'network' }[error.code] ?? 'unexpected';
  }
  return { [F.DAMAGED_LINK]: 'damaged', [F.UNSUPPORTED_VERSION]: 'unsupported', [F.PARAMETERS_REFUSED]: 'refused' }[error?.outcome] ?? 'unexpected';
}

function fatal(error) {
  console.error(error);
  showError(pageFor(error));
}

/** A refusal that means the whole link is gone, whatever was being fetched. */
const isGone = (e) => e instanceof ApiError && (e.code === 'Revoked' || e.code === 'Expired');

// ---------------------------------------------------------------------------------------------
// The canister's API (on its raw domain)

class ApiError extends Error {
  constructor(status, code, message = '', iterations = undefined) {
    super(`${code} (${status}) ${message}`);
    Object.assign(this, { status, code, iterations });
  }
}

/** An API URL, on the canister's raw domain. */
function apiUrl(path, params = '') {
  return `${API_ORIGIN}/s/api/${path}${params ? `?${params}` : ''}`;
}

/** A CBOR answer decoded, or the raw bytes (`raw`); a refusal throws an ApiError. */
async function api(path, { params, method = 'GET', raw = false, signal } = {}) {
  const headers = { 'x-vault-token': link.token };
  if (link.proof) headers['x-vault-proof'] = link.proof;
  let response;
  let body;
  try {
    // Listings and refusals must be fresh (a revocation is seen at once); ciphertext may be cached.
    // Another origin: no cookie goes, and no referrer (the page's address holds the secret).
    response = await fetch(apiUrl(path, params), {
      method, headers, signal, cache: raw ? 'default' : 'no-store',
      mode: 'cors', credentials: 'omit', referrerPolicy: 'no-referrer',
    });
    body = new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, 'Network', String(e));
  }
  let answer = null;
  if (!raw || !response.ok) {
    try {
      answer = F.decodeCbor(body);
    } catch {
      // A gateway's own error page, say: not the canister speaking.
      throw new ApiError(response.status, response.status >= 500 ? 'Network' : 'Unreadable');
    }
  }
  if (response.ok) return raw ? body : answer;
  if (typeof answer?.error !== 'string') throw new ApiError(response.status, 'Unreadable');
  throw new ApiError(response.status, answer.error, answer.message, answer.iterations);
}

// ---------------------------------------------------------------------------------------------
// Opening the link

async function start() {
  if (!globalThis.crypto?.subtle) return showError('browser'); // WebCrypto: secure contexts only
  if (!API_ORIGIN) return showError('address');
  let secret;
  try {
    let fragment = location.hash.slice(1); // after the URL's own `#`
    try {
      fragment = decodeURIComponent(fragment); // a browser may have escaped pasted white space
    } catch {}
    secret = await F.parseFragment(fragment);
  } catch (e) {
    return showError(pageFor(e)); // damaged: nothing is asked of the canister
  }
  link.token = F.base64url(await F.linkToken(secret));
  let opened;
  try {
    opened = await api('link');
  } catch (e) {
    if (e.code === 'PasswordRequired') return askPassword(secret, e.iterations);
    throw e;
  }
  await openLink(opened, await F.linkKey(secret));
}

function askPassword(secret, iterations) {
  try {
    F.checkIterations(iterations); // a hostile answer must not stall the browser
  } catch (e) {
    return showError(pageFor(e));
  }
  const form = $('password-form');
  const input = $('password');
  const button = $('unlock');
  const message = $('password-message');
  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault(); // the page never navigates (CSP form-action 'none')
    if (busy) return;
    const password = input.value;
    if (!password) {
      message.textContent = 'Enter the password.';
      return input.focus();
    }
    busy = true;
    button.disabled = true;
    delete document.body.dataset.passwordError;
    message.textContent = 'Checking…';
    try {
      const pwKey = await F.passwordKey(secret, password, iterations);
      link.proof = F.base64url(await F.passwordProof(pwKey));
      const opened = await api('link');
      message.textContent = 'Opening…';
      await openLink(opened, await F.linkKey(secret, pwKey));
    } catch (e) {
      if (e.code !== 'WrongPassword') return fatal(e);
      link.proof = '';
      message.textContent = 'Wrong password. Try again.';
      document.body.dataset.passwordError = 'wrong';
      input.select();
    } finally {
      busy = false;
      button.disabled = false;
    }
  });
  setState('password');
  input.focus();
}

const isBytes = (v, length) => v instanceof Uint8Array && (length === undefined || v.length === length);
const isU32 = (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** Unwraps the link's keys, counts the opening, and shows the album or the file. */
async function openLink(opened, linkKey) {
  const { target, id, keys } = opened ?? {};
  const wellFormed =
    (target === 'album' || target === 'file') && isBytes(id, F.ID_SIZE) && Array.isArray(keys) && keys.length > 0 &&
    keys.every((k) => Array.isArray(k) && isU32(k[0]) && isBytes(k[1]));
  if (!wellFormed) throw new ApiError(200, 'Unreadable');
  try {
    if (target === 'album') {
      for (const [version, wrapped] of keys) {
        link.albumKeys.set(version, await F.unwrapKey(linkKey, 'album-key', F.albumKeyId(id, version), wrapped));
      }
    } else {
      link.fileKey = await F.unwrapKey(linkKey, 'file-key', id, keys[keys.length - 1][1]);
    }
  } catch (e) {
    throw e.outcome === F.UNSUPPORTED_VERSION ? e : Object.assign(e, { page: 'key' });
  }
  api('opened', { method: 'POST' }).catch(() => {}); // counting must never stop the viewing
  if (target === 'album') await showAlbum(opened);
  else await showFileLink(id);
}

/** A listed file with its key and metadata; a file that does not open gets a `problem`. */
async function prepare(file) {
  const valid =
    file && isBytes(file.id, F.ID_SIZE) && isBytes(file.header) && isBytes(file.wrapped_key) && isBytes(file.metadata) &&
    Number.isSafeInteger(file.chunk_count) && isU32(file.key_version) && Number.isSafeInteger(file.thumbnail_size);
  if (!valid) return null; // not a file this page can even name
  const entry = { file, hex: F.toHex(file.id), key: null, meta: null, problem: null };
  try {
    if (link.fileKey) {
      entry.key = link.fileKey; // a file link's key is the link's own; wrapped_key is the album's
    } else {
      const albumKey = link.albumKeys.get(file.key_version);
      if (!albumKey) throw Object.assign(new Error('no album key of this version'), { problem: 'no-key' });
      entry.key = await F.unwrapKey(albumKey, 'file-key', file.id, file.wrapped_key);
    }
    entry.meta = await F.openMetadata(entry.key, file.metadata);
  } catch (e) {
    if (!e.outcome && !e.problem) console.error(e);
    entry.problem = e.problem ?? (e.outcome === F.UNSUPPORTED_VERSION ? 'unsupported' : 'damaged');
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Dates, sizes, names

const locale = undefined; // the browser's
const dayFormats = {}; // by time zone (undefined: the browser's)
const dayFormat = (timeZone) =>
  (dayFormats[timeZone] ??= new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone }));

/** The day a file was taken, as a key and a heading: the camera's local day when known. */
function dayOf(entry) {
  const meta = entry.meta;
  let date;
  let timeZone;
  if (typeof meta?.takenAt === 'number') {
    // taken_at is UTC with the offset, or the camera's wall clock read as UTC (§10).
    date = new Date(meta.takenAt + (typeof meta.offsetMinutes === 'number' ? meta.offsetMinutes : 0) * 60000);
    timeZone = 'UTC';
  } else {
    date = new Date(Number(entry.file.sort_key)); // an instant (upload or modification time)
  }
  if (Number.isNaN(date.getTime())) return { key: 'unknown', label: 'Date unknown' };
  const label = dayFormat(timeZone).format(date);
  return { key: label, label };
}

function takenText(meta) {
  if (typeof meta.takenAt !== 'number') return '';
  const offset = typeof meta.offsetMinutes === 'number' ? meta.offsetMinutes : 0;
  const date = new Date(meta.takenAt + offset * 60000);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date);
}

function sizeText(bytes) {
  const n = Number(bytes);
  if (n < 1000) return `${n} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function durationText(ms) {
  const s = Math.round(Number(ms) / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** What a file is: 'image', 'video' or 'other' (decided by its own metadata). */
const kindOf = (meta) => (meta?.mime.startsWith('image/') ? 'image' : meta?.mime.startsWith('video/') ? 'video' : 'other');

/** A short type label for a tile without a thumbnail: the name's extension, or the kind. */
function typeLabel(meta) {
  const ext = /\.([a-z0-9]{1,5})$/i.exec(meta?.name ?? '')?.[1];
  return ext ? ext.toUpperCase() : kindOf(meta) === 'other' ? 'FILE' : kindOf(meta).toUpperCase();
}

const PROBLEMS = {
  damaged: 'This file is damaged: it can’t be decrypted.',
  unsupported: 'This file was saved by a newer version of Vault than this page can read.',
  'no-key': 'This link doesn’t hold the key to this file.',
};

// ---------------------------------------------------------------------------------------------
// The album

const sections = new Map(); // day key → its tiles' container

async function showAlbum(opened) {
  const name = await albumName(opened.album_name);
  $('title').textContent = name;
  document.title = `${name} · Vault`;
  const until = new Date(Number(opened.expires_at) / 1e6); // ns since the epoch
  if (opened.expires_at != null && !Number.isNaN(until.getTime())) {
    $('expires').textContent = ` · shared until ${new Intl.DateTimeFormat(locale, { dateStyle: 'long' }).format(until)}`;
  }
  let after = null;
  let first = true;
  do {
    let page;
    try {
      page = await api('files', { params: after ? `after=${encodeURIComponent(after)}` : '' });
      if (!Array.isArray(page?.files) || !(page.next === null || typeof page.next === 'string')) {
        throw new ApiError(200, 'Unreadable');
      }
    } catch (e) {
      if (first || isGone(e)) throw e;
      console.error(e);
      $('album-status').textContent = 'Some files could not be listed. Reload the page to try again.';
      return;
    }
    const added = (await Promise.all(page.files.map(prepare))).filter((e) => e && !entries.has(e.hex));
    for (const entry of added) {
      entries.set(entry.hex, entry);
      addTile(entry);
    }
    updateCount();
    if (first) setState('album');
    first = false;
    after = page.next;
    if (!$('viewer').hidden) updateNav();
  } while (after);
  $('count').dataset.complete = '1';
  if (!entries.size) $('album-status').textContent = 'Nothing has been shared in this album yet.';
}

/** The album's name, under its newest key that opens it (§4.6). */
async function albumName(sealed) {
  if (isBytes(sealed)) {
    for (const version of [...link.albumKeys.keys()].sort((a, b) => b - a)) {
      try {
        return (await F.openAlbumName(link.albumKeys.get(version), sealed)) || 'Shared album';
      } catch {}
    }
  }
  return 'Shared album';
}

function updateCount() {
  const all = [...entries.values()];
  const photos = all.every((e) => kindOf(e.meta) === 'image');
  $('count').textContent = String(all.length);
  $('count').dataset.count = String(all.length);
  $('count-noun').textContent = `${photos ? 'photo' : 'item'}${all.length === 1 ? '' : 's'}`;
}

function addTile(entry) {
  const day = dayOf(entry);
  let tiles = sections.get(day.key);
  if (!tiles) {
    const section = document.createElement('section');
    section.className = 'day';
    const heading = document.createElement('h2');
    heading.textContent = day.label;
    tiles = document.createElement('div');
    tiles.className = 'tiles';
    section.append(heading, tiles);
    $('grid').append(section);
    sections.set(day.key, tiles);
  }
  const { meta } = entry;
  const name = meta?.name ?? 'Unreadable file';
  const tile = document.createElement('button');
  tile.type = 'button';
  tile.className = 'tile';
  tile.dataset.fileId = entry.hex;
  tile.title = name;
  tile.setAttribute('aria-label', `Open ${name}`);
  if (meta && entry.file.thumbnail_size > 0) {
    const img = document.createElement('img');
    img.className = 'thumb';
    img.dataset.fileId = entry.hex;
    img.alt = name;
    img.draggable = false;
    tile.append(img);
    entry.img = img;
    entry.thumb = 'idle';
    thumbObserver.observe(img);
  } else {
    tile.classList.add('no-thumb');
    const type = document.createElement('span');
    type.className = 'type';
    type.textContent = entry.problem ? '!' : typeLabel(meta);
    const label = document.createElement('span');
    label.className = 'name';
    label.textContent = entry.problem ? 'Can’t open' : name;
    tile.append(type, label);
  }
  if (kindOf(meta) === 'video') {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = meta.durationMs != null ? `▶ ${durationText(meta.durationMs)}` : '▶';
    tile.append(badge);
  }
  tile.addEventListener('click', () => openViewer(entry));
  tiles.append(tile);
}

// Thumbnails load as they come near the screen, a few at a time, and the decoded ones that are
// far out of view are released beyond KEEP_THUMBS (they reload, from the HTTP cache, on return).
const thumbQueue = [];
const loadedThumbs = new Set(); // oldest first
let thumbsInFlight = 0;

const thumbObserver = new IntersectionObserver(
  (records) => {
    for (const record of records) {
      const entry = entries.get(record.target.dataset.fileId);
      entry.visible = record.isIntersecting;
      if (entry.visible && entry.thumb === 'idle') {
        entry.thumb = 'queued';
        thumbQueue.push(entry);
      }
    }
    pumpThumbs();
  },
  { rootMargin: '600px 0px' },
);

function pumpThumbs() {
  while (thumbsInFlight < THUMB_FETCHES && thumbQueue.length) {
    const entry = thumbQueue.shift();
    if (!entry.visible) {
      entry.thumb = 'idle'; // scrolled away before its turn
      continue;
    }
    thumbsInFlight++;
    loadThumb(entry).finally(() => {
      thumbsInFlight--;
      pumpThumbs();
    });
  }
}

async function loadThumb(entry) {
  entry.thumb = 'loading';
  let url = null;
  try {
    const sealed = await api(`thumb/${entry.hex}`, { raw: true });
    const jpeg = await F.openBlob(entry.key, sealed, 'thumbnail');
    url = URL.createObjectURL(new Blob([jpeg], { type: 'image/jpeg' }));
    entry.img.src = url;
    await entry.img.decode();
    entry.thumbUrl = url;
    entry.img.dataset.loaded = '1';
    entry.thumb = 'loaded';
    keepThumb(entry);
  } catch (e) {
    if (url) URL.revokeObjectURL(url);
    if (isGone(e)) return fatal(e);
    console.error(e);
    entry.thumb = 'failed';
    entry.img.removeAttribute('src');
    entry.img.dataset.failed = '1';
    entry.img.closest('.tile').classList.add('broken');
  }
}

function keepThumb(entry) {
  loadedThumbs.delete(entry);
  loadedThumbs.add(entry);
  for (const old of loadedThumbs) {
    if (loadedThumbs.size <= KEEP_THUMBS) break;
    if (old.visible || old === viewer.entry) continue;
    loadedThumbs.delete(old);
    old.img.removeAttribute('src');
    delete old.img.dataset.loaded;
    URL.revokeObjectURL(old.thumbUrl);
    old.thumbUrl = null;
    old.thumb = 'idle';
  }
}

// ---------------------------------------------------------------------------------------------
// Originals: decrypted chunk by chunk

/**
 * The decrypted chunks of a file's original, in order, with up to CHUNK_FETCHES requests in
 * flight. Only authenticated bytes come out; any failure throws before a later chunk is yielded.
 */
async function* originalChunks(entry, signal, onProgress) {
  const { file, meta } = entry;
  const count = chunkCount(entry);
  const key = await F.streamKey(entry.key, file.header, 'content');
  const fetchOne = async (i) => F.decryptChunk(key, i, count, await api(`chunk/${entry.hex}/${i}`, { raw: true, signal }));
  const pending = [];
  let next = 0;
  const fill = () => {
    while (pending.length < CHUNK_FETCHES && next < count) {
      const chunk = fetchOne(next++);
      chunk.catch(() => {}); // awaited in turn below; a later failure must not go unhandled meanwhile
      pending.push(chunk);
    }
  };
  let length = 0;
  fill();
  for (let done = 1; pending.length; done++) {
    const part = await pending.shift();
    fill();
    length += part.length;
    onProgress?.(done / count);
    yield part;
  }
  if (length !== meta.size) throw F.refusal(F.DECRYPTION_FAILURE, 'the original is not its recorded size');
}

// ---------------------------------------------------------------------------------------------
// Videos, streamed: the service worker (sw.js, media-worker.js) answers the <video>'s Range
// requests with what this page decrypts of the chunks they cover, one at a time, so a video
// of any size starts at once and is never held whole.

const MEDIA_PATH = '/s/media/';
const KEEP_CHUNKS = 4; // decrypted chunks kept for a video's next requests (a few MiB)
/** `${hex}/${index}` → the chunk's plaintext (a promise), least recently used first. */
const mediaChunks = new Map();
/** Chunks decrypted for streamed videos, shown on the body for the tests. */
let mediaDecrypted = 0;

/** Whether this page's videos stream through its service worker: once it controls the page. */
let streams = Promise.resolve(false);

/**
 * Registers the service worker. On a first visit it takes control of the page as soon as it is
 * active; a browser or mode without service workers (or one that fails to start in time) has
 * its videos decrypted whole instead.
 */
function registerWorker() {
  const workers = navigator.serviceWorker;
  if (!workers) return;
  workers.addEventListener('message', answerMedia);
  streams = new Promise((resolve) => {
    if (workers.controller) resolve(true);
    workers.addEventListener('controllerchange', () => resolve(true), { once: true });
    workers.register('/s/sw.js', { scope: '/s' }).catch((e) => {
      console.warn('videos will be decrypted whole: no service worker', e);
      resolve(false);
    });
    setTimeout(() => resolve(Boolean(workers.controller)), 5000);
  });
}

/** Plays `entry`'s video: streamed where the service worker serves it, else decrypted whole. */
async function playVideo(entry) {
  const streamed = await streams;
  if (viewer.entry !== entry) return; // another file was opened meanwhile
  if (streamed) return showVideo(entry, `${MEDIA_PATH}${entry.hex}`);
  if (entry.meta.size > PREVIEW_LIMIT) return showCard(entry, 'This video is too large to play in this browser: download it to watch it.');
  loadFull(entry, 'video');
}

/** Chunk `index` of `entry`'s original, decrypted (and kept for the next few requests). */
function mediaChunk(entry, index) {
  const id = `${entry.hex}/${index}`;
  let chunk = mediaChunks.get(id);
  if (chunk) {
    mediaChunks.delete(id); // now the most recently used
  } else {
    chunk = (async () => {
      const count = chunkCount(entry);
      entry.contentKey ??= F.streamKey(entry.key, entry.file.header, 'content');
      const sealed = await api(`chunk/${entry.hex}/${index}`, { raw: true });
      const plain = await F.decryptChunk(await entry.contentKey, index, count, sealed);
      const expected = index + 1 === count ? entry.meta.size - index * F.CHUNK_SIZE : F.CHUNK_SIZE;
      if (plain.length !== expected) throw F.refusal(F.DECRYPTION_FAILURE, 'the original is not its recorded size');
      document.body.dataset.mediaChunks = String(++mediaDecrypted);
      return plain;
    })();
    chunk.catch(() => mediaChunks.delete(id));
  }
  mediaChunks.set(id, chunk);
  while (mediaChunks.size > KEEP_CHUNKS) mediaChunks.delete(mediaChunks.keys().next().value);
  return chunk;
}

/** Answers the service worker's `{ type: 'media', path: '/<file id>', from }` (media-worker.js). */
async function answerMedia(event) {
  if (event.data?.type !== 'media' || !event.ports[0]) return;
  const port = event.ports[0];
  const entry = entries.get(String(event.data.path).slice(1));
  // Videos only: nothing else of the link is served to be opened by its address.
  if (!entry?.meta || entry.problem || kindOf(entry.meta) !== 'video') return port.postMessage({ status: 404, text: 'no such video here' });
  const total = entry.meta.size;
  const mime = entry.meta.mime || 'application/octet-stream';
  const from = event.data.from;
  if (!Number.isSafeInteger(from) || from < 0) return port.postMessage({ status: 400, text: 'a bad offset' });
  if (from >= total) return port.postMessage({ status: 200, mime, total, bytes: new Uint8Array(0) });
  try {
    const index = Math.floor(from / F.CHUNK_SIZE);
    const bytes = (await mediaChunk(entry, index)).slice(from - index * F.CHUNK_SIZE); // a copy: it is sent away
    port.postMessage({ status: 200, mime, total, bytes }, [bytes.buffer]);
  } catch (e) {
    if (isGone(e)) fatal(e);
    port.postMessage({ status: 500, text: e instanceof ApiError ? 'the vault did not answer' : 'it does not decrypt' });
  }
}

/** The number of chunks of `entry`'s original, which its (authenticated) size decides. */
function chunkCount(entry) {
  const { file, meta } = entry;
  const count = file.chunk_count;
  if (typeof meta.size !== 'number' || count !== Math.max(1, Math.ceil(meta.size / F.CHUNK_SIZE))) {
    throw F.refusal(F.DECRYPTION_FAILURE, 'the chunk count does not match the size');
  }
  return count;
}

async function originalBlob(entry, signal, onProgress) {
  const parts = [];
  for await (const part of originalChunks(entry, signal, onProgress)) parts.push(part);
  return new Blob(parts, { type: entry.meta.mime || 'application/octet-stream' });
}

// ---------------------------------------------------------------------------------------------
// The full-size viewer

const viewer = { entry: null, url: null, blob: null, abort: null, single: false };

function openViewer(entry) {
  if ($('viewer').hidden) {
    $('viewer').hidden = false;
    $('album-page').inert = true;
    document.body.classList.add('viewing');
    // Phones close a photo with the back button: one history entry stands for the open viewer.
    if (!viewer.single && history.state?.vault !== 'viewer') {
      if (history.state?.vault === 'spare') history.replaceState({ vault: 'viewer' }, '');
      else history.pushState({ vault: 'viewer' }, '');
    }
  }
  show(entry);
  (viewer.single ? $('viewer') : $('close')).focus();
}

/** Closes the viewer and returns to the tile of the file last shown. */
function closeViewer() {
  if ($('viewer').hidden || viewer.single) return;
  const hex = viewer.entry?.hex;
  hideViewer();
  if (history.state?.vault === 'viewer') history.replaceState({ vault: 'spare' }, '');
  document.querySelector(`button.tile[data-file-id="${hex}"]`)?.focus();
}

function hideViewer() {
  release();
  viewer.entry = null;
  $('viewer').hidden = true;
  $('album-page').inert = false;
  document.body.classList.remove('viewing');
}

/** Stops loading the file shown and frees its decrypted copy. */
function release() {
  viewer.abort?.abort();
  viewer.abort = null;
  if (viewer.url) URL.revokeObjectURL(viewer.url);
  viewer.url = null;
  viewer.blob = null;
  for (const video of $('media').querySelectorAll('video')) {
    video.removeAttribute('src'); // stops its requests: a removed <video> may go on loading
    video.load();
  }
  mediaChunks.clear();
  $('media').replaceChildren();
  $('progress').hidden = true;
  $('viewer-error').hidden = true;
}

function show(entry) {
  release();
  viewer.entry = entry;
  const { meta } = entry;
  $('viewer-name').textContent = meta?.name ?? 'Unreadable file';
  $('viewer-details').textContent = meta ? details(meta) : '';
  $('download').disabled = !meta || downloading;
  updateNav();
  if (entry.problem) return showViewerError(PROBLEMS[entry.problem]);
  const kind = kindOf(meta);
  if (kind === 'other') return showCard(entry, '');
  if (kind === 'video') return playVideo(entry);
  if (meta.size > PREVIEW_LIMIT) return showCard(entry, 'This file is too large to show here: download it to open it.');
  loadFull(entry, kind);
}

function details(meta) {
  const parts = [takenText(meta)];
  if (meta.width && meta.height) {
    const turned = meta.orientation >= 5; // EXIF orientations 5–8 swap width and height
    parts.push(`${turned ? meta.height : meta.width} × ${turned ? meta.width : meta.height}`);
  }
  if (meta.durationMs != null) parts.push(durationText(meta.durationMs));
  parts.push(sizeText(meta.size));
  return parts.filter(Boolean).join(' · ');
}

function updateNav() {
  if (viewer.single || !viewer.entry) return;
  const { prev, next } = neighbours();
  $('prev').disabled = !prev;
  $('next').disabled = !next;
}

/** The files before and after the one shown, in the grid's order. */
function neighbours() {
  const tiles = [...document.querySelectorAll('#grid button.tile')];
  const i = tiles.findIndex((t) => t.dataset.fileId === viewer.entry?.hex);
  const at = (j) => (i >= 0 && tiles[j] ? entries.get(tiles[j].dataset.fileId) : null);
  return { prev: at(i - 1), next: at(i + 1) };
}

function step(direction) {
  if ($('viewer').hidden || viewer.single) return;
  const target = neighbours()[direction < 0 ? 'prev' : 'next'];
  if (target) show(target);
}

function progress(fraction) {
  $('progress').hidden = false;
  $('progress-fill').style.width = `${Math.round(fraction * 100)}%`;
  $('progress-text').textContent = fraction < 1 ? `Decrypting… ${Math.round(fraction * 100)}%` : 'Opening…';
}

async function loadFull(entry, kind) {
  const abort = new AbortController();
  viewer.abort = abort;
  if (entry.thumbUrl) {
    // The thumbnail stands in while the original arrives.
    const placeholder = document.createElement('img');
    placeholder.className = 'placeholder';
    placeholder.alt = '';
    placeholder.src = entry.thumbUrl;
    $('media').append(placeholder);
  }
  progress(0);
  try {
    const blob = await originalBlob(entry, abort.signal, progress);
    if (abort.signal.aborted) return;
    viewer.blob = blob;
    viewer.url = URL.createObjectURL(blob);
    if (kind === 'video') return showVideo(entry, viewer.url);
    const img = document.createElement('img');
    img.id = 'full';
    img.dataset.fileId = entry.hex;
    img.alt = entry.meta.name;
    img.src = viewer.url; // the browser applies the EXIF orientation
    try {
      await img.decode();
    } catch {
      if (!abort.signal.aborted) showCard(entry, `This browser can’t show ${entry.meta.mime} images: download the original to open it.`);
      return;
    }
    if (abort.signal.aborted) return;
    $('progress').hidden = true;
    $('media').replaceChildren(img);
    img.dataset.loaded = '1';
  } catch (e) {
    if (abort.signal.aborted) return;
    abort.abort(); // the chunks still in flight are of no use now
    if (isGone(e)) return fatal(e);
    console.error(e);
    $('media').replaceChildren();
    showViewerError(
      e instanceof ApiError
        ? e.code === 'Network'
          ? 'This file could not be loaded. Check your connection and try again.'
          : 'This file is no longer available.'
        : PROBLEMS[e.outcome === F.UNSUPPORTED_VERSION ? 'unsupported' : 'damaged'],
    );
  }
}

/** A <video> of `entry` playing from `src`: its decrypted blob, or the service worker's stream. */
function showVideo(entry, src) {
  const video = document.createElement('video');
  video.id = 'full';
  video.dataset.fileId = entry.hex;
  video.controls = true;
  video.playsInline = true;
  video.preload = 'metadata';
  if (entry.thumbUrl) video.poster = entry.thumbUrl; // its poster frame, made when it was uploaded
  video.setAttribute('aria-label', entry.meta.name);
  video.addEventListener('loadedmetadata', () => (video.dataset.loaded = '1'), { once: true });
  video.addEventListener('error', () => {
    if (viewer.entry === entry) showCard(entry, 'This browser can’t play this video: download it to watch it.');
  }, { once: true });
  video.src = src;
  $('progress').hidden = true;
  $('media').replaceChildren(video);
}

/** A file that is not shown: its type, name and size, and a download button. */
function showCard(entry, note) {
  $('progress').hidden = true;
  const card = document.createElement('div');
  card.className = 'file-card';
  if (entry.thumbUrl) {
    const preview = document.createElement('img');
    preview.className = 'preview';
    preview.alt = `Preview of ${entry.meta.name}`;
    preview.src = entry.thumbUrl;
    card.append(preview);
  } else {
    const type = document.createElement('div');
    type.className = 'type';
    type.textContent = typeLabel(entry.meta);
    card.append(type);
  }
  const name = document.createElement('p');
  name.className = 'card-name';
  name.textContent = entry.meta.name;
  const about = document.createElement('p');
  about.className = 'card-about';
  about.textContent = `${entry.meta.mime} · ${sizeText(entry.meta.size)}`;
  card.append(name, about);
  if (note) {
    const p = document.createElement('p');
    p.className = 'card-note';
    p.textContent = note;
    card.append(p);
  }
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'primary';
  button.textContent = 'Download';
  button.addEventListener('click', () => download(entry));
  card.append(button);
  $('media').replaceChildren(card);
}

function showViewerError(text) {
  $('progress').hidden = true;
  $('viewer-error').textContent = text;
  $('viewer-error').hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Downloads of the original, with its original name

let downloading = false;

function downloadStatus(text, fade = false) {
  const status = $('download-status');
  status.textContent = text;
  status.hidden = !text;
  clearTimeout(downloadStatus.timer);
  if (fade) downloadStatus.timer = setTimeout(() => (status.hidden = true), 4000);
}

async function download(entry) {
  if (!entry?.meta || downloading) return;
  const { name, size } = entry.meta;
  let handle = null;
  // Large files go straight to disk where the browser can (nothing is held whole); the picker
  // must be asked for first, while the click still counts as the user's.
  if (size > STREAM_TO_DISK_OVER && typeof window.showSaveFilePicker === 'function') {
    try {
      handle = await window.showSaveFilePicker({ suggestedName: name });
    } catch (e) {
      if (e.name === 'AbortError') return; // the user cancelled
    }
  }
  downloading = true;
  $('download').disabled = true;
  const abort = new AbortController();
  const onProgress = (f) => downloadStatus(`Downloading ${name}… ${Math.round(f * 100)}%`);
  try {
    if (handle) {
      const writable = await handle.createWritable();
      try {
        for await (const part of originalChunks(entry, abort.signal, onProgress)) await writable.write(part);
        await writable.close();
      } catch (e) {
        await writable.abort().catch(() => {});
        throw e;
      }
    } else {
      const blob = viewer.entry === entry && viewer.blob ? viewer.blob : await originalBlob(entry, abort.signal, onProgress);
      save(blob, name);
    }
    downloadStatus(`Downloaded ${name}`, true);
  } catch (e) {
    abort.abort();
    if (isGone(e)) return fatal(e);
    console.error(e);
    downloadStatus(
      e.outcome ? `${name} is damaged: it can’t be decrypted.` : `The download of ${name} failed. Check your connection and try again.`,
      true,
    );
  } finally {
    downloading = false;
    $('download').disabled = !viewer.entry?.meta;
  }
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000); // long enough for the download to start
}

// ---------------------------------------------------------------------------------------------
// A link to one file

async function showFileLink(id) {
  const page = await api('files');
  const entry = Array.isArray(page?.files) && page.files.length ? await prepare(page.files[0]) : null;
  if (!entry || entry.hex !== F.toHex(id)) throw new ApiError(200, 'Unreadable');
  entries.set(entry.hex, entry);
  document.title = `${entry.meta?.name ?? 'Shared file'} · Vault`;
  viewer.single = true;
  for (const id of ['prev', 'next', 'close']) $(id).hidden = true;
  setState('file');
  openViewer(entry);
}

// ---------------------------------------------------------------------------------------------
// Controls

function wire() {
  $('close').addEventListener('click', closeViewer);
  $('prev').addEventListener('click', () => step(-1));
  $('next').addEventListener('click', () => step(1));
  $('download').addEventListener('click', () => download(viewer.entry));
  $('retry').addEventListener('click', () => location.reload());
  document.addEventListener('keydown', (event) => {
    if ($('viewer').hidden || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'Escape') closeViewer();
    else if (event.target instanceof HTMLVideoElement) return; // arrows seek the video
    else if (event.key === 'ArrowLeft') step(-1);
    else if (event.key === 'ArrowRight') step(1);
    else return;
    event.preventDefault();
  });
  // A reload keeps the history entry of an open viewer; the viewer itself starts closed.
  if (history.state?.vault === 'viewer') history.replaceState({ vault: 'spare' }, '');
  window.addEventListener('popstate', () => {
    if (!$('viewer').hidden && history.state?.vault !== 'viewer') closeViewer();
  });
  // Swipe left or right to move between files (not while the page is pinch-zoomed).
  let touch = null;
  const stage = $('stage');
  stage.addEventListener('touchstart', (e) => {
    touch = e.touches.length === 1 ? { x: e.touches[0].clientX, y: e.touches[0].clientY } : null;
  }, { passive: true });
  stage.addEventListener('touchend', (e) => {
    if (!touch || e.changedTouches.length !== 1 || (window.visualViewport?.scale ?? 1) > 1.01) return;
    const dx = e.changedTouches[0].clientX - touch.x;
    const dy = e.changedTouches[0].clientY - touch.y;
    touch = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 2 * Math.abs(dy)) step(dx < 0 ? 1 : -1);
  }, { passive: true });
}

wire();
registerWorker();
start().catch(fatal);
