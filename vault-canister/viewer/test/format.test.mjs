// format.js against every `link`, `stream`, `wrap` and `metadata` vector of
// crypto/tests/vectors (docs/FORMAT.md §12), and its link derivations against an independent
// HKDF/PBKDF2 written with node's own crypto module. Run: node --test vault-canister/viewer/test/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

import * as F from '../format.js';

const VECTORS = new URL('../../../crypto/tests/vectors/', import.meta.url);
const KINDS = new Set(['link', 'stream', 'wrap', 'metadata']);
const TEXT_FIELDS = new Set([
  'kind', 'expect', 'stream', 'target', 'wrapped_kind', 'words', 'text', 'fingerprint', 'fragment', 'name',
  'permission',
  'method',
]);
const DECIMAL_FIELDS = new Set(['size', 'iterations', 'plaintext_pattern', 'expires_at', 'counter']);

/** §12's syntax: `field: value` lines, `#` comments, each field once; values typed by name. */
function parseVector(name) {
  const fields = {};
  for (const line of readFileSync(new URL(name, VECTORS), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    assert.ok(colon > 0, `${name}: a line without a field: ${line}`);
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    assert.ok(!(field in fields), `${name}: ${field} twice`);
    if (TEXT_FIELDS.has(field)) fields[field] = value;
    else if (DECIMAL_FIELDS.has(field)) fields[field] = value;
    else if (field.endsWith('_file')) fields[field.slice(0, -5)] = new Uint8Array(readFileSync(new URL(value, VECTORS)));
    else fields[field] = F.fromHex(value);
  }
  return fields;
}

const pattern = (length) => Uint8Array.from({ length }, (_, i) => i % 251);
const hex = F.toHex;
const text = (bytes) => new TextDecoder().decode(bytes);

/** Asserts that `promise` rejects with FORMAT.md §1's `outcome`. */
async function rejectsWith(promise, outcome) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.outcome, outcome, `expected ${outcome}, got ${e.outcome ?? e}`);
    return true;
  });
}

const vectors = readdirSync(VECTORS)
  .filter((n) => n.endsWith('.txt'))
  .sort()
  .map((n) => [n, parseVector(n)])
  .filter(([, v]) => KINDS.has(v.kind));

test('the vector set has every kind the viewer reads', () => {
  for (const kind of KINDS) assert.ok(vectors.some(([, v]) => v.kind === kind), kind);
});

test('the vector set has every refusal the viewer makes', () => {
  const has = (kind, expect) => vectors.some(([, v]) => v.kind === kind && v.expect === expect);
  for (const [kind, expect] of [
    ['link', F.DAMAGED_LINK], ['link', F.PARAMETERS_REFUSED], ['stream', F.DECRYPTION_FAILURE],
    ['stream', F.UNSUPPORTED_VERSION], ['stream', F.MALFORMED], ['wrap', F.DECRYPTION_FAILURE],
    ['wrap', F.UNSUPPORTED_VERSION], ['wrap', F.MALFORMED], ['metadata', F.MALFORMED],
    ['metadata', F.UNSUPPORTED_VERSION],
  ]) {
    assert.ok(has(kind, expect), `${kind}: ${expect}`);
  }
  // §9.2: both sides of the iteration bounds.
  const iterations = vectors.filter(([, v]) => v.expect === F.PARAMETERS_REFUSED).map(([, v]) => Number(v.iterations));
  assert.ok(iterations.some((n) => n < F.MIN_LINK_ITERATIONS), 'iterations below the floor');
  assert.ok(iterations.some((n) => n > F.MAX_LINK_ITERATIONS), 'iterations above the ceiling');
});

const checks = {
  async link(v) {
    if (v.expect === F.DAMAGED_LINK) return rejectsWith(F.parseFragment(v.fragment), v.expect);
    const secret = await F.parseFragment(v.fragment);
    if (v.expect === F.PARAMETERS_REFUSED) {
      return rejectsWith(F.passwordKey(secret, text(v.password), Number(v.iterations)), v.expect);
    }
    assert.equal(v.expect, 'success');
    assert.equal(hex(secret), hex(v.secret));
    assert.equal(await F.makeFragment(secret), v.fragment);
    const token = await F.linkToken(secret);
    assert.equal(hex(token), hex(v.token));
    assert.equal(hex(await F.sha256(token)), hex(v.token_hash));
    let pwKey = null;
    if ('password' in v) {
      assert.equal(hex(await F.passwordSalt(secret)), hex(v.password_salt));
      pwKey = await F.passwordKey(secret, text(v.password), Number(v.iterations));
      assert.equal(hex(pwKey), hex(v.password_key));
      const proof = await F.passwordProof(pwKey);
      assert.equal(hex(proof), hex(v.proof));
      assert.equal(hex(await F.sha256(proof)), hex(v.verifier));
    }
    const linkKey = await F.linkKey(secret, pwKey);
    assert.equal(hex(linkKey), hex(v.link_key));
    assert.equal(hex(v.wrapped.subarray(1, 13)), hex(v.random));
    assert.equal(hex(await F.unwrapKey(linkKey, v.wrapped_kind, v.id, v.wrapped)), hex(v.key));
  },

  async stream(v) {
    const keyOrRefusal = F.streamKey(v.file_key, v.header, v.stream);
    // A header of another version, or of the wrong size, is refused before any chunk is read.
    if (v.expect === F.UNSUPPORTED_VERSION || v.expect === F.MALFORMED) {
      await rejectsWith(keyOrRefusal, v.expect);
      // As a blob the header is the first 17 bytes, whatever their number in the vector: only
      // the version byte is judged the same way.
      if (v.expect === F.UNSUPPORTED_VERSION) {
        await rejectsWith(F.openBlob(v.file_key, F.concat(v.header, v.ciphertext), v.stream), v.expect);
      }
      return;
    }
    const key = await keyOrRefusal;
    // Each reading is started only when awaited, so that no refusal goes unhandled meanwhile.
    const whole = () => F.decryptStream(key, v.ciphertext);
    const blob = () => F.openBlob(v.file_key, F.concat(v.header, v.ciphertext), v.stream);
    // The same stream chunk by chunk, as the viewer reads content (§4.4 random access).
    const count = Math.max(1, Math.ceil(v.ciphertext.length / F.ENCRYPTED_CHUNK_SIZE));
    const chunks = () =>
      Promise.allSettled(
        Array.from({ length: count }, (_, i) =>
          F.decryptChunk(key, i, count, v.ciphertext.subarray(i * F.ENCRYPTED_CHUNK_SIZE, (i + 1) * F.ENCRYPTED_CHUNK_SIZE)),
        ),
      );
    if (v.expect !== 'success') {
      assert.equal(v.expect, F.DECRYPTION_FAILURE);
      await rejectsWith(whole(), v.expect);
      await rejectsWith(blob(), v.expect);
      const failed = (await chunks()).filter((s) => s.status === 'rejected');
      assert.ok(failed.length > 0, 'some chunk must fail on its own');
      for (const s of failed) assert.equal(s.reason.outcome, v.expect);
      return;
    }
    const expected = 'plaintext_pattern' in v ? pattern(Number(v.plaintext_pattern)) : v.plaintext;
    assert.ok(F.equalBytes(await whole(), expected), 'whole stream');
    const parts = await chunks();
    assert.ok(parts.every((s) => s.status === 'fulfilled'), 'every chunk opens');
    assert.ok(F.equalBytes(F.concat(...parts.map((s) => s.value)), expected), 'chunk by chunk');
    assert.ok(F.equalBytes(await blob(), expected), 'as a blob');
    if (v.stream === 'album-name') {
      assert.equal(await F.openAlbumName(v.file_key, F.concat(v.header, v.ciphertext)), text(expected));
    }
  },

  async wrap(v) {
    const unwrapped = F.unwrapKey(v.kek, v.wrapped_kind, v.id, v.wrapped);
    if (v.expect !== 'success') return rejectsWith(unwrapped, v.expect);
    assert.equal(hex(await unwrapped), hex(v.key));
  },

  async metadata(v) {
    if (v.expect !== 'success') {
      assert.throws(() => F.readMetadata(v.cbor), (e) => e.outcome === v.expect);
      return rejectsWith(F.openMetadata(v.file_key, v.blob), v.expect);
    }
    for (const record of [F.readMetadata(v.cbor), await F.openMetadata(v.file_key, v.blob)]) {
      assert.equal(record.name, v.name);
      assert.equal(String(record.size), v.size);
      assert.equal(record.version, 1);
    }
    if ('random' in v) assert.equal(hex(v.blob.subarray(1, 17)), hex(v.random));
  },
};

for (const [name, v] of vectors) {
  test(`vector ${name} (${v.kind}: ${v.expect})`, () => checks[v.kind](v));
}

// ---------------------------------------------------------------------------------------------
// An independent computation of §9.2 with node's crypto module (HMAC by hand, RFC 5869), so that
// a misuse of WebCrypto's HKDF (salt, info, length) cannot hide behind vectors of one shape.

function nodeHkdf(salt, ikm, info) {
  const prk = createHmac('sha256', salt.length ? salt : Buffer.alloc(32)).update(ikm).digest();
  return createHmac('sha256', prk).update(Buffer.concat([Buffer.from(info), Buffer.of(1)])).digest();
}

test('link derivations of a fresh secret agree with node:crypto', async () => {
  for (let round = 0; round < 4; round++) {
    const secret = new Uint8Array(randomBytes(32));
    const none = Buffer.alloc(0);
    const fragment = await F.makeFragment(secret);
    assert.equal(fragment.length, 48);
    const body = Buffer.concat([Buffer.of(1), secret]);
    assert.equal(fragment, Buffer.concat([body, createHash('sha256').update(body).digest().subarray(0, 3)]).toString('base64url'));
    assert.equal(hex(await F.parseFragment(`#${fragment}`)), hex(secret));
    assert.equal(hex(await F.linkToken(secret)), hex(nodeHkdf(none, secret, 'vault/v1/link/token')));
    assert.equal(hex(await F.linkKey(secret)), hex(nodeHkdf(none, secret, 'vault/v1/link/key')));

    const password = ['Cafe\u0301 ☕', 'correct horse', 'ü', 'x'][round];
    const salt = nodeHkdf(none, secret, 'vault/v1/link/password-salt').subarray(0, 16);
    assert.equal(hex(await F.passwordSalt(secret)), hex(salt));
    const iterations = F.MIN_LINK_ITERATIONS;
    const pwKey = pbkdf2Sync(Buffer.from(password.normalize('NFC')), salt, iterations, 32, 'sha256');
    assert.equal(hex(await F.passwordKey(secret, password, iterations)), hex(pwKey));
    assert.equal(hex(await F.passwordProof(pwKey)), hex(nodeHkdf(none, pwKey, 'vault/v1/link/password-proof')));
    assert.equal(hex(await F.linkKey(secret, pwKey)), hex(nodeHkdf(pwKey, secret, 'vault/v1/link/key')));
  }
});

test('the password is NFC-normalised before PBKDF2', async () => {
  const secret = new Uint8Array(32).fill(7);
  const composed = await F.passwordKey(secret, 'caf\u00e9', F.MIN_LINK_ITERATIONS);
  const decomposed = await F.passwordKey(secret, 'cafe\u0301', F.MIN_LINK_ITERATIONS);
  assert.equal(hex(composed), hex(decomposed));
});

test('iteration counts outside §9.2 are refused before any work', async () => {
  const secret = new Uint8Array(32);
  for (const n of [0, 99999, 10000001, 1e12, NaN, 2.5]) {
    await rejectsWith(F.passwordKey(secret, 'x', n), F.PARAMETERS_REFUSED);
  }
  F.checkIterations(F.MIN_LINK_ITERATIONS);
  F.checkIterations(F.MAX_LINK_ITERATIONS);
});

// ---------------------------------------------------------------------------------------------
// §9.1 fragments: what is refused as `damaged link`

test('fragments: white space and one # are stripped; anything else is a damaged link', async () => {
  const secret = new Uint8Array(randomBytes(32));
  const good = await F.makeFragment(secret);
  for (const ok of [good, `#${good}`, ` \t${good}\n`, `\u00a0\u3000#${good}\u2029`, `\u0085${good}`]) {
    assert.equal(hex(await F.parseFragment(ok)), hex(secret), JSON.stringify(ok));
  }
  const body = F.concat(Uint8Array.of(2), secret);
  const otherVersion = F.base64url(F.concat(body, (await F.sha256(body)).subarray(0, 3)));
  const damaged = [
    '', '#', `##${good}`, good.slice(0, 47), `${good}A`, `${good.slice(0, 47)}=`, `${good.slice(0, 47)}+`,
    `${good.slice(0, 47)}/`, `${good.slice(0, 20)} ${good.slice(21)}`, `\ufeff${good}`, otherVersion,
    good.slice(0, 40) + (good[40] === 'A' ? 'B' : 'A') + good.slice(41),
  ];
  for (const bad of damaged) await rejectsWith(F.parseFragment(bad), F.DAMAGED_LINK);
});

test('base64url round-trips without padding and refuses other spellings', () => {
  for (let n = 0; n < 40; n++) {
    const bytes = new Uint8Array(randomBytes(n));
    const encoded = F.base64url(bytes);
    assert.equal(encoded, Buffer.from(bytes).toString('base64url'));
    assert.equal(hex(F.fromBase64url(encoded)), hex(bytes));
  }
  assert.equal(F.fromBase64url('AB'), null); // nonzero unused bits
  assert.equal(F.fromBase64url('AAA='), null);
  assert.equal(F.fromBase64url('A'), null);
});

// ---------------------------------------------------------------------------------------------
// §4.5 chunk rules beyond the vectors, and §5 sizes

test('a single chunk: index, count and length rules', async () => {
  const key = await F.streamKey(new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(16)), 'content');
  const short = new Uint8Array(F.ENCRYPTED_CHUNK_SIZE - 1);
  await rejectsWith(F.decryptChunk(key, 0, 2, short), F.DECRYPTION_FAILURE);
  await rejectsWith(F.decryptChunk(key, 1, 2, new Uint8Array(16)), F.DECRYPTION_FAILURE);
  await rejectsWith(F.decryptChunk(key, 2, 2, new Uint8Array(20)), F.DECRYPTION_FAILURE);
  await rejectsWith(F.decryptChunk(key, 0, 0, new Uint8Array(20)), F.DECRYPTION_FAILURE);
  await rejectsWith(F.streamKey(new Uint8Array(32), new Uint8Array([1, 2]), 'content'), F.MALFORMED);
  await rejectsWith(F.streamKey(new Uint8Array(32), new Uint8Array([2, 2]), 'content'), F.UNSUPPORTED_VERSION);
  // §4.5: a blob shorter than its header; the version byte is judged first, empty is malformed.
  await rejectsWith(F.openBlob(new Uint8Array(32), Uint8Array.of(1, 0, 0), 'metadata'), F.MALFORMED);
  await rejectsWith(F.openBlob(new Uint8Array(32), Uint8Array.of(2, 0, 0), 'metadata'), F.UNSUPPORTED_VERSION);
  await rejectsWith(F.openBlob(new Uint8Array(32), new Uint8Array(0), 'metadata'), F.MALFORMED);
});

test('wrapped keys: version, then size, then the tag', async () => {
  const kek = new Uint8Array(32);
  const id = new Uint8Array(16);
  await rejectsWith(F.unwrapKey(kek, 'file-key', id, new Uint8Array(60).fill(1)), F.MALFORMED);
  await rejectsWith(F.unwrapKey(kek, 'file-key', id, new Uint8Array(60).fill(2)), F.UNSUPPORTED_VERSION);
  await rejectsWith(F.unwrapKey(kek, 'file-key', id, new Uint8Array(0)), F.MALFORMED);
  assert.equal(hex(F.albumKeyId(new Uint8Array(16).fill(0xab), 0x01020304)), `${'ab'.repeat(16)}01020304`);
});

// ---------------------------------------------------------------------------------------------
// §10: the metadata reader on records the vectors do not cover

const head = (major, n, size) => {
  const bytes = size ?? (n < 24 ? 0 : n < 256 ? 1 : n < 65536 ? 2 : n < 2 ** 32 ? 4 : 8);
  if (bytes === 0) return [(major << 5) | n];
  const out = [(major << 5) | (24 + Math.log2(bytes))];
  for (let i = bytes - 1; i >= 0; i--) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
  return out;
};
const tstr = (s) => [...head(3, F.utf8(s).length), ...F.utf8(s)];
const REQUIRED = [
  ...head(0, 0), ...head(0, 1), ...head(0, 1), ...tstr('a.jpg'), ...head(0, 2), ...tstr('image/jpeg'),
  ...head(0, 3), ...head(0, 5), ...head(0, 4), ...head(2, 32), ...new Array(32).fill(9),
];
/** A record of the required fields plus `extra` entries (bytes of key/value pairs). */
const record = (extraCount, ...extra) => Uint8Array.from([...head(5, 5 + extraCount), ...REQUIRED, ...extra]);
const malformed = (bytes) => assert.throws(() => F.readMetadata(bytes), (e) => e.outcome === F.MALFORMED);

test('metadata: liberal in form', () => {
  // Non-shortest heads for the map, keys, values and lengths.
  const long = Uint8Array.from([
    ...head(5, 6, 8), ...head(0, 0, 4), ...head(0, 1, 2), ...head(0, 1), ...head(3, 1, 8), 0x62,
    ...head(0, 2), ...tstr('x/y'), ...head(0, 3), ...head(0, 7, 1), ...head(0, 4), ...head(2, 32, 2),
    ...new Array(32).fill(0), ...head(0, 6), ...head(1, 59, 2),
  ]);
  const r = F.readMetadata(long);
  assert.deepEqual([r.name, r.mime, r.size, r.offsetMinutes], ['b', 'x/y', 7, -60]);
  // GPS as float16 and float32.
  const gps = F.readMetadata(record(1, ...head(0, 11), 0x83, 0xf9, 0x3c, 0x00, 0xfa, 0xc0, 0x00, 0x00, 0x00, 0xf9, 0x7b, 0xff));
  assert.deepEqual(gps.gps, [1, -2, 65504]);
  // Unknown keys with any well-formed value: tags, indefinite containers, simple values, floats.
  const unknown = F.readMetadata(record(4,
    ...head(0, 99), 0xc1, 0x9f, 0x01, 0xbf, 0x61, 0x6b, 0xf6, 0xff, 0x5f, 0x41, 0x00, 0xff, 0xff,
    ...head(0, 100, 8), 0xf8, 0x20,
    ...head(0, 2 ** 40), 0xfb, ...new Array(8).fill(0xff),
    ...head(0, 101), 0x7f, 0x61, 0xff, 0xff,
  ));
  assert.equal(unknown.name, 'a.jpg');
  // A value nested a million levels deep under an unknown key is skipped without recursion.
  const depth = 1000000;
  const deep = new Uint8Array(REQUIRED.length + 3 + depth);
  deep.set([...head(5, 6), ...REQUIRED, ...head(0, 50)]);
  deep.fill(0x81, REQUIRED.length + 3, REQUIRED.length + 2 + depth);
  deep[deep.length - 1] = 0x00;
  assert.equal(F.readMetadata(deep).name, 'a.jpg');
  // Every optional field, BigInt-sized values included.
  const all = F.readMetadata(record(9,
    ...head(0, 5), ...head(1, 0), ...head(0, 7), ...head(0, 2n ** 63n - 1n, 8),
    ...head(0, 8), ...head(0, 2 ** 32 - 1), ...head(0, 9), ...head(0, 1), ...head(0, 10), ...head(0, 8),
    ...head(0, 12), ...tstr('SONY'), ...head(0, 13), ...tstr('ILCE'), ...head(0, 14), ...head(0, 2n ** 64n - 1n, 8),
    ...head(0, 6), ...head(0, 1440),
  ));
  assert.equal(all.takenAt, -1);
  assert.equal(all.modifiedAt, 2n ** 63n - 1n);
  assert.equal(all.durationMs, 2n ** 64n - 1n);
  assert.deepEqual([all.width, all.height, all.orientation, all.cameraMake, all.offsetMinutes], [2 ** 32 - 1, 1, 8, 'SONY', 1440]);
});

test('metadata: strict in meaning', () => {
  malformed(Uint8Array.from([0x9f, 0xff])); // not a map
  malformed(Uint8Array.from([0xbf, ...REQUIRED, 0xff])); // an indefinite-length map
  malformed(record(1, ...tstr('k'), 0x00)); // a text key
  malformed(record(1, 0x20, 0x00)); // a negative key
  malformed(record(1, ...head(0, 12), 0x7f, 0x61, 0x61, 0xff)); // indefinite text under a known key
  malformed(record(1, ...head(0, 11), 0x9f, 0xfb, ...new Array(8).fill(0), 0xfb, ...new Array(8).fill(0), 0xff));
  malformed(record(1, ...head(0, 11), 0x82, 0xf9, 0x7e, 0x00, 0xf9, 0x00, 0x00)); // NaN latitude
  malformed(record(1, ...head(0, 11), 0x82, 0xfb, 0x40, 0x57, 0x00, 0, 0, 0, 0, 0, 0xf9, 0x00, 0x00)); // 92°
  malformed(record(1, ...head(0, 11), 0x83, 0xf9, 0, 0, 0xf9, 0, 0, 0xf9, 0x7c, 0x00)); // infinite altitude
  malformed(record(1, ...head(0, 11), 0x82, 0x00, 0x00)); // integers, not floats
  malformed(record(1, ...head(0, 12), 0x62, 0xc3, 0x28)); // text that is not UTF-8
  malformed(record(1, ...head(0, 5), 0xc1, 0x00)); // a tag under a known key
  malformed(record(1, ...head(0, 5), ...head(0, 2n ** 63n, 8))); // taken_at out of i64
  malformed(record(1, ...head(0, 5), ...head(1, 2n ** 63n, 8))); // taken_at below i64
  malformed(record(1, ...head(0, 6), ...head(1, 1440))); // offset -1441
  malformed(record(1, ...head(0, 8), ...head(0, 2 ** 32))); // width beyond u32
  malformed(record(1, ...head(0, 10), 0x00)); // orientation 0
  malformed(record(1, ...head(0, 99), 0xf8, 0x10)); // a two-byte simple value below 32 (not well-formed)
  malformed(record(1, ...head(0, 99), 0x1c)); // reserved additional info
  malformed(record(1, ...head(0, 99), 0xff)); // a stray break
  malformed(record(1, ...head(0, 99), 0xbf, 0x01, 0xff)); // an indefinite map ending after a key
  malformed(record(1, ...head(0, 99), 0x5f, 0x61, 0x00, 0xff)); // a text chunk in a byte string
  malformed(record(1, ...head(0, 99), 0x82, 0x01)); // truncated
  malformed(Uint8Array.from([...head(5, 4), ...REQUIRED.slice(0, -35)])); // no SHA-256
  malformed(record(0).subarray(0, 20)); // truncated
  // Version 2 is only `unsupported version` once the record is otherwise well-formed.
  const v2 = record(0);
  v2[2] = 0x02;
  assert.throws(() => F.readMetadata(v2), (e) => e.outcome === F.UNSUPPORTED_VERSION);
  malformed(Uint8Array.from([...v2, 0x00]));
  malformed(Uint8Array.from([...head(5, 1), 0x00, 0x02]));
});

test('decodeCbor reads the API answers', () => {
  const answer = Uint8Array.from([
    0xa3, ...tstr('files'), 0x81, 0xa2, ...tstr('id'), 0x42, 0xab, 0xcd, ...tstr('sort_key'), 0x3b,
    0, 0, 0, 0, 0, 0, 0, 0x63, ...tstr('next'), 0xf6, ...tstr('big'), 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  ]);
  const value = F.decodeCbor(answer);
  assert.equal(value.next, null);
  assert.equal(hex(value.files[0].id), 'abcd');
  assert.equal(value.files[0].sort_key, -100);
  assert.equal(value.big, 2n ** 64n - 1n);
  assert.throws(() => F.decodeCbor(Uint8Array.from([0x01, 0x02])), (e) => e.outcome === F.MALFORMED);
  assert.throws(() => F.decodeCbor(F.utf8('<html>502 Bad Gateway')), (e) => e.outcome === F.MALFORMED);
  assert.throws(() => F.decodeCbor(Uint8Array.from([0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02])), (e) => e.outcome === F.MALFORMED);
});
