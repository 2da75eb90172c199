// Vault's encrypted formats as a link recipient needs them (docs/FORMAT.md §4, §5, §9, §10),
// with WebCrypto only. Pure functions, no DOM: the same module runs in browsers and in node ≥ 18.
//
// Every refusal is an Error whose `.outcome` is one of FORMAT.md §1's outcome strings.

const subtle = globalThis.crypto?.subtle; // absent outside secure contexts: the viewer says so

export const VERSION = 0x01;
export const KEY_SIZE = 32;
export const TAG_SIZE = 16;
export const CHUNK_SIZE = 1048576;
export const ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
export const STREAM_HEADER_SIZE = 17;
export const WRAPPED_KEY_SIZE = 61;
export const ID_SIZE = 16;
export const MIN_LINK_ITERATIONS = 100000;
export const MAX_LINK_ITERATIONS = 10000000;

export const DAMAGED_LINK = 'damaged link';
export const DECRYPTION_FAILURE = 'decryption failure';
export const MALFORMED = 'malformed';
export const UNSUPPORTED_VERSION = 'unsupported version';
export const PARAMETERS_REFUSED = 'parameters refused';

/** An Error carrying a FORMAT.md §1 outcome. */
export function refusal(outcome, detail) {
  const error = new Error(detail ? `${outcome}: ${detail}` : outcome);
  error.outcome = outcome;
  return error;
}

// ---------------------------------------------------------------------------------------------
// Bytes

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (text) => encoder.encode(text);

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function fromHex(text) {
  if (text.length % 2 || /[^0-9a-f]/i.test(text)) throw new TypeError('not hex');
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding (RFC 4648 §5). */
export function base64url(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += B64URL[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** The bytes of unpadded base64url text, or null if it is not exactly that (one spelling only). */
export function fromBase64url(text) {
  if (text.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (const c of text) {
    const v = B64URL.indexOf(c);
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  if (acc & ((1 << bits) - 1)) return null; // nonzero unused bits
  return out;
}

// ---------------------------------------------------------------------------------------------
// Primitives (FORMAT.md §2)

export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
}

/** HKDF-SHA256 with a 32-byte output. An empty salt is RFC 5869's "not provided". */
export async function hkdf(salt, ikm, info) {
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt, info: typeof info === 'string' ? utf8(info) : info },
    key,
    256,
  );
  return new Uint8Array(bits);
}

async function aesKey(raw) {
  return subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
}

/** AES-256-GCM open; every failure is the one opaque `decryption failure`. */
async function aesOpen(key, nonce, aad, sealed) {
  try {
    const params = { name: 'AES-GCM', iv: nonce, tagLength: 128 };
    if (aad.length) params.additionalData = aad;
    return new Uint8Array(await subtle.decrypt(params, key, sealed));
  } catch {
    throw refusal(DECRYPTION_FAILURE);
  }
}

/** FORMAT.md §1: the version byte first, then the fixed size. */
function checkVersionAndSize(bytes, size, what) {
  if (bytes.length > 0 && bytes[0] !== VERSION) {
    throw refusal(UNSUPPORTED_VERSION, `${what} of version ${bytes[0]}`);
  }
  if (bytes.length !== size) throw refusal(MALFORMED, `${what} of ${bytes.length} bytes`);
}

// ---------------------------------------------------------------------------------------------
// Links (FORMAT.md §9)

const WHITE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;

/** §9.1: the 32-byte secret of a URL fragment, or a `damaged link` refusal. */
export async function parseFragment(fragment) {
  let text = String(fragment).replace(WHITE_SPACE, '');
  if (text.startsWith('#')) text = text.slice(1);
  const bytes = text.length === 48 ? fromBase64url(text) : null;
  if (!bytes || bytes.length !== 36) throw refusal(DAMAGED_LINK, 'not 48 base64url characters');
  const body = bytes.subarray(0, 33);
  if (bytes[0] !== VERSION || !equalBytes((await sha256(body)).subarray(0, 3), bytes.subarray(33))) {
    throw refusal(DAMAGED_LINK, 'version or checksum');
  }
  return bytes.slice(1, 33);
}

/** The fragment of a secret (§9.1); the viewer only reads links, this is for tests. */
export async function makeFragment(secret) {
  const body = concat(Uint8Array.of(VERSION), secret);
  return base64url(concat(body, (await sha256(body)).subarray(0, 3)));
}

const EMPTY = new Uint8Array(0);

/** §9.2: the access token sent with every read. */
export const linkToken = (secret) => hkdf(EMPTY, secret, 'vault/v1/link/token');

/** §9.2: refuses iteration counts a writer may not use and a reader must not run. */
export function checkIterations(iterations) {
  if (
    !Number.isSafeInteger(iterations) ||
    iterations < MIN_LINK_ITERATIONS ||
    iterations > MAX_LINK_ITERATIONS
  ) {
    throw refusal(PARAMETERS_REFUSED, `${iterations} PBKDF2 iterations`);
  }
}

export async function passwordSalt(secret) {
  return (await hkdf(EMPTY, secret, 'vault/v1/link/password-salt')).slice(0, 16);
}

/** §9.2: PBKDF2 of the NFC, UTF-8 password; the iteration count is checked before any work. */
export async function passwordKey(secret, password, iterations) {
  checkIterations(iterations);
  const salt = await passwordSalt(secret);
  const key = await subtle.importKey('raw', utf8(password.normalize('NFC')), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export const passwordProof = (pwKey) => hkdf(EMPTY, pwKey, 'vault/v1/link/password-proof');

/** §9.2: the key that wraps the shared key; `pwKey` is null for a link without a password. */
export const linkKey = (secret, pwKey = null) => hkdf(pwKey ?? EMPTY, secret, 'vault/v1/link/key');

// ---------------------------------------------------------------------------------------------
// Wrapped keys (FORMAT.md §5)

const WRAP_ID_SIZES = {
  'album-key': [ID_SIZE + 4],
  'file-key': [ID_SIZE],
  'sharing-secret-key': [32],
  // §3: "" for generation 0's master key, u32be(generation) after a rotation.
  'master-key/passphrase': [0, 4],
  'master-key/recovery': [0, 4],
  'master-key/previous': [4],
  'master-key/passkey': [0, 4],
};

/** An album key's wrap id: album_id ‖ u32be(version). */
export function albumKeyId(albumId, version) {
  const id = new Uint8Array(ID_SIZE + 4);
  id.set(albumId);
  new DataView(id.buffer).setUint32(ID_SIZE, version);
  return id;
}

/** §5: the 32-byte key in `wrapped`, bound to `kind` and `id` by the AAD. */
export async function unwrapKey(kek, kind, id, wrapped) {
  if (!WRAP_ID_SIZES[kind]?.includes(id.length)) throw new TypeError(`a ${kind} id of ${id.length} bytes`);
  checkVersionAndSize(wrapped, WRAPPED_KEY_SIZE, 'wrapped key');
  const aad = concat(utf8(`vault/v1/wrap/${kind}`), Uint8Array.of(0), id);
  return aesOpen(await aesKey(kek), wrapped.subarray(1, 13), aad, wrapped.subarray(13));
}

// ---------------------------------------------------------------------------------------------
// Streams (FORMAT.md §4)

const STREAMS = ['content', 'thumbnail', 'metadata', 'album-name', 'link-record'];

/** §4.1–4.2: checks the 17-byte header and derives the stream's AES key (a CryptoKey). */
export async function streamKey(key, header, stream) {
  if (!STREAMS.includes(stream)) throw new TypeError(`no stream ${stream}`);
  checkVersionAndSize(header, STREAM_HEADER_SIZE, 'stream header');
  return aesKey(await hkdf(header.subarray(1), key, `vault/v1/stream/${stream}`));
}

/** §4.3: 3 zero bytes, u64be(index), then the last-chunk flag. */
function chunkNonce(index, last) {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(3, Math.floor(index / 2 ** 32));
  view.setUint32(7, index >>> 0);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** §4.5 rule 3: the final chunk holds at least one byte, except in the empty stream. */
function checkFinalLength(length, count) {
  if (!((length >= TAG_SIZE + 1 && length <= ENCRYPTED_CHUNK_SIZE) || (length === TAG_SIZE && count === 1))) {
    throw refusal(DECRYPTION_FAILURE, `final chunk of ${length} bytes in ${count}`);
  }
}

/** §4.4–4.5: chunk `index` of a stream of `count` chunks, alone (random access). */
export async function decryptChunk(key, index, count, chunk) {
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw refusal(DECRYPTION_FAILURE, `chunk ${index} of ${count}`);
  }
  const last = index === count - 1;
  if (last) checkFinalLength(chunk.length, count);
  else if (chunk.length !== ENCRYPTED_CHUNK_SIZE) {
    throw refusal(DECRYPTION_FAILURE, `a non-final chunk of ${chunk.length} bytes`);
  }
  return aesOpen(key, chunkNonce(index, last), EMPTY, chunk);
}

/** §4.5: the plaintext of a whole stream's concatenated chunks. */
export async function decryptStream(key, ciphertext) {
  if (ciphertext.length < TAG_SIZE) throw refusal(DECRYPTION_FAILURE, 'no final chunk');
  const count = Math.max(1, Math.ceil(ciphertext.length / ENCRYPTED_CHUNK_SIZE));
  checkFinalLength(ciphertext.length - (count - 1) * ENCRYPTED_CHUNK_SIZE, count);
  const parts = [];
  for (let i = 0; i < count; i++) {
    const chunk = ciphertext.subarray(i * ENCRYPTED_CHUNK_SIZE, (i + 1) * ENCRYPTED_CHUNK_SIZE);
    parts.push(await decryptChunk(key, i, count, chunk));
  }
  return parts.length === 1 ? parts[0] : concat(...parts);
}

/** §4.4: a blob is the header then the chunks (thumbnails, metadata, album names). */
export async function openBlob(key, blob, stream) {
  const header = blob.subarray(0, STREAM_HEADER_SIZE);
  return decryptStream(await streamKey(key, header, stream), blob.subarray(STREAM_HEADER_SIZE));
}

/** §4.6: an album's name; a name that is not UTF-8 is a decryption failure. */
export async function openAlbumName(albumKey, blob) {
  const plaintext = await openBlob(albumKey, blob, 'album-name');
  try {
    return strictUtf8.decode(plaintext);
  } catch {
    throw refusal(DECRYPTION_FAILURE, 'a name that is not UTF-8');
  }
}

/** §4.4 + §10: a file's sealed metadata record. */
export async function openMetadata(fileKey, blob) {
  return readMetadata(await openBlob(fileKey, blob, 'metadata'));
}

// ---------------------------------------------------------------------------------------------
// CBOR (RFC 8949)

const UINT = 0, NINT = 1, BYTES = 2, TEXT = 3, ARRAY = 4, MAP = 5, TAG = 6, SIMPLE = 7;
const BREAK = 0xff;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U32_MAX = 2 ** 32 - 1;

const malformed = (detail) => refusal(MALFORMED, detail);

function float16(bits) {
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  const magnitude =
    exponent === 0 ? mantissa * 2 ** -24
    : exponent === 31 ? (mantissa ? NaN : Infinity)
    : (mantissa + 1024) * 2 ** (exponent - 25);
  return bits & 0x8000 ? -magnitude : magnitude;
}

/** Reads CBOR items; anything not well-formed is `malformed`. */
class CborReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  get done() {
    return this.pos === this.bytes.length;
  }

  take(size) {
    if (typeof size !== 'number' || size > this.bytes.length - this.pos) throw malformed('truncated CBOR');
    this.pos += size;
    return this.bytes.subarray(this.pos - size, this.pos);
  }

  /** Consumes a break (0xff) if one is next. */
  atBreak() {
    if (this.bytes[this.pos] !== BREAK) return false;
    this.pos++;
    return true;
  }

  /**
   * An item's head: its major type, additional info and argument (a Number, or a BigInt above
   * 2^53; null for an indefinite length). Floats also carry their `float` value.
   */
  head() {
    const initial = this.take(1)[0];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info < 24) return { major, info, arg: info };
    if (info <= 27) {
      const size = 1 << (info - 24);
      const at = this.pos;
      this.take(size);
      const v = this.view;
      let arg;
      if (size === 1) arg = v.getUint8(at);
      else if (size === 2) arg = v.getUint16(at);
      else if (size === 4) arg = v.getUint32(at);
      else {
        arg = v.getBigUint64(at);
        if (arg <= BigInt(Number.MAX_SAFE_INTEGER)) arg = Number(arg);
      }
      if (major === SIMPLE) {
        if (info === 24 && arg < 32) throw malformed('a two-byte simple value below 32');
        if (info === 25) return { major, info, arg, float: float16(arg) };
        if (info === 26) return { major, info, arg, float: v.getFloat32(at) };
        if (info === 27) return { major, info, arg, float: v.getFloat64(at) };
      }
      return { major, info, arg };
    }
    if (info === 31 && major >= BYTES && major <= MAP) return { major, info, arg: null };
    throw malformed(`initial byte 0x${initial.toString(16)} is not well-formed here`);
  }

  /** The content of a byte or text string whose head was just read. */
  string(major, length) {
    if (length !== null) return this.take(length);
    const chunks = [];
    while (!this.atBreak()) {
      const chunk = this.head();
      if (chunk.major !== major || chunk.arg === null) throw malformed('a bad chunk in an indefinite-length string');
      chunks.push(this.take(chunk.arg));
    }
    return concat(...chunks);
  }

  /** Skips one well-formed item however deeply nested, without recursion (§10). */
  skip() {
    // One frame per open container: items still due (null: until a break), items read, a map?
    const open = [];
    for (;;) {
      const top = open[open.length - 1];
      if (top && top.due === null && this.atBreak()) {
        open.pop();
        if (top.map && top.read % 2) throw malformed('an indefinite-length map ends after a key');
      } else {
        const { major, arg } = this.head();
        if (major === BYTES || major === TEXT) this.string(major, arg);
        else if (major === TAG) {
          open.push({ due: 1, read: 0, map: false });
          continue;
        } else if ((major === ARRAY || major === MAP) && arg !== 0) {
          if (typeof arg === 'bigint') throw malformed('truncated CBOR');
          open.push({ due: arg === null ? null : major === MAP ? 2 * arg : arg, read: 0, map: major === MAP });
          continue;
        }
      }
      // An item ended: count it in its container, closing the containers it fills.
      for (;;) {
        const frame = open[open.length - 1];
        if (!frame) return;
        frame.read++;
        if (frame.due === null || --frame.due > 0) break;
        open.pop();
      }
    }
  }
}

/**
 * A whole CBOR item as plain values, for the canister's API answers: maps with text keys become
 * objects (without a prototype), other maps `Map`s; byte strings `Uint8Array`s; integers Numbers
 * (BigInts beyond 2^53); tags are dropped. Anything else than exactly one item is `malformed`.
 */
export function decodeCbor(bytes) {
  const reader = new CborReader(bytes);
  const value = decodeItem(reader, 0);
  if (!reader.done) throw malformed('bytes after the item');
  return value;
}

function decodeItem(r, depth) {
  if (depth > 64) throw malformed('nested too deeply');
  const { major, arg, float } = r.head();
  switch (major) {
    case UINT:
      return arg;
    case NINT:
      return typeof arg === 'bigint' || arg + 1 > Number.MAX_SAFE_INTEGER ? -1n - BigInt(arg) : -1 - arg;
    case BYTES:
      return r.string(major, arg).slice();
    case TEXT:
      try {
        return strictUtf8.decode(r.string(major, arg));
      } catch (e) {
        throw e.outcome ? e : malformed('text that is not UTF-8');
      }
    case ARRAY: {
      const items = [];
      while (arg === null ? !r.atBreak() : items.length < arg) items.push(decodeItem(r, depth + 1));
      return items;
    }
    case MAP: {
      const entries = [];
      while (arg === null ? !r.atBreak() : entries.length < arg) {
        entries.push([decodeItem(r, depth + 1), decodeItem(r, depth + 1)]);
      }
      if (entries.every(([k]) => typeof k === 'string')) {
        const object = Object.create(null);
        for (const [k, v] of entries) {
          if (k in object) throw malformed(`duplicate key ${k}`);
          object[k] = v;
        }
        return object;
      }
      return new Map(entries);
    }
    case TAG:
      return decodeItem(r, depth + 1);
    default:
      if (float !== undefined) return float;
      return { 20: false, 21: true, 22: null }[arg];
  }
}

// ---------------------------------------------------------------------------------------------
// Metadata record (FORMAT.md §10): liberal in form, strict in meaning

function readUint(r, low, high) {
  const { major, arg } = r.head();
  if (major !== UINT) throw malformed(`major type ${major}, not an unsigned integer`);
  if (arg < low || arg > high) throw malformed(`${arg} is outside ${low}..=${high}`);
  return arg;
}

function readInt(r, low, high) {
  const { major, arg } = r.head();
  if (major !== UINT && major !== NINT) throw malformed(`major type ${major}, not an integer`);
  let value = major === UINT ? arg : -1n - BigInt(arg);
  if (value < low || value > high) throw malformed(`${value} is outside ${low}..=${high}`);
  if (typeof value === 'bigint' && value >= -Number.MAX_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER) {
    value = Number(value);
  }
  return value;
}

/** A definite-length string of `major` (an indefinite one under a known key is refused). */
function readDefinite(r, major, what) {
  const head = r.head();
  if (head.major !== major) throw malformed(`major type ${head.major}, not ${what}`);
  if (head.arg === null) throw malformed(`an indefinite-length ${what}`);
  return r.take(head.arg);
}

function readText(r) {
  try {
    return strictUtf8.decode(readDefinite(r, TEXT, 'text'));
  } catch (e) {
    throw e.outcome ? e : malformed('text that is not UTF-8');
  }
}

function readSha256(r) {
  const digest = readDefinite(r, BYTES, 'bytes');
  if (digest.length !== 32) throw malformed(`a SHA-256 of ${digest.length} bytes`);
  return digest.slice();
}

function readGps(r) {
  const { major, arg } = r.head();
  if (major !== ARRAY) throw malformed(`major type ${major}, not an array`);
  if (arg !== 2 && arg !== 3) throw malformed(arg === null ? 'an indefinite-length array' : `${arg} GPS values`);
  const values = [];
  for (let i = 0; i < arg; i++) {
    const { float } = r.head();
    if (float === undefined) throw malformed('a GPS value that is not a float');
    values.push(float);
  }
  // Written so that NaN, which compares false, is out of range.
  const [lat, lon, alt] = values;
  if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (arg === 2 || Number.isFinite(alt)))) {
    throw malformed('GPS out of range');
  }
  return values;
}

// §10's table: key → [field, reader of its value with its type and range].
const FIELDS = new Map([
  [0, ['version', (r) => readUint(r, 0, Infinity)]],
  [1, ['name', readText]],
  [2, ['mime', readText]],
  [3, ['size', (r) => readUint(r, 0, Infinity)]],
  [4, ['sha256', readSha256]],
  [5, ['takenAt', (r) => readInt(r, I64_MIN, I64_MAX)]],
  [6, ['offsetMinutes', (r) => readInt(r, -1440, 1440)]],
  [7, ['modifiedAt', (r) => readInt(r, I64_MIN, I64_MAX)]],
  [8, ['width', (r) => readUint(r, 0, U32_MAX)]],
  [9, ['height', (r) => readUint(r, 0, U32_MAX)]],
  [10, ['orientation', (r) => readUint(r, 1, 8)]],
  [11, ['gps', readGps]],
  [12, ['cameraMake', readText]],
  [13, ['cameraModel', readText]],
  [14, ['durationMs', (r) => readUint(r, 0, Infinity)]],
]);
const REQUIRED = [0, 1, 2, 3, 4];

/**
 * §10: a metadata record's known fields, by name (`version`, `name`, `mime`, `size`, `sha256`,
 * then whichever optional ones it has). Integers are Numbers, or BigInts beyond 2^53.
 */
export function readMetadata(bytes) {
  const r = new CborReader(bytes);
  const { major, arg: count } = r.head();
  if (major !== MAP || count === null) throw malformed('the record is not a definite-length map');
  const record = {};
  const seen = new Set();
  for (let i = 0; i < count; i++) {
    const { major: keyMajor, arg: key } = r.head();
    if (keyMajor !== UINT) throw malformed(`a key of major type ${keyMajor}`);
    if (seen.has(String(key))) throw malformed(`duplicate key ${key}`);
    seen.add(String(key));
    const field = typeof key === 'number' ? FIELDS.get(key) : undefined;
    if (field) record[field[0]] = field[1](r);
    else r.skip();
  }
  if (!r.done) throw malformed('bytes after the map');
  const missing = REQUIRED.filter((k) => !seen.has(String(k)));
  if (missing.length) throw malformed(`missing required keys ${missing}`);
  // Checked last: only a record that is otherwise well-formed may claim a newer version.
  if (record.version !== 1) throw refusal(UNSUPPORTED_VERSION, `metadata version ${record.version}`);
  return record;
}
