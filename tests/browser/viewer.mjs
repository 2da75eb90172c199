// Opens Vault links in Debian's Chromium (headless, through playwright-core) and checks what a
// recipient sees: run by tests/viewer.rs, which makes the vault, the photos and the
// links, and passes them in a JSON file (argv[2]). Prints one line per check; exits non-zero at
// the first failure, with what was expected and what was found.
//
// Config: { chromium, artifacts, album: { url, files: [{ id, name, path, mime, width, height,
// orientation }] }, password: { url, password }, file: { url, id, path, name }, video: { url,
// id, name, path, size } (a long video alone behind a link), revoked,
// expired, damaged, unknown } (URLs), and trojan: the path at which the replica, playing one
// dishonest node, answers every canister's http_request with a service worker script that
// claims its whole origin (`Service-Worker-Allowed: /`).

import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WAIT, launch, ok, pageMemory, pixels, sha256 } from './common.mjs';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
mkdirSync(config.artifacts, { recursive: true });
const browser = await launch(config.chromium);

/// The origin of the viewer at `url`, and of its canister's raw domain, where the API is.
const viewerOrigin = (url) => new URL(url).origin;
const rawOrigin = (url) => {
  const u = new URL(url);
  const [id, ...rest] = u.hostname.split('.');
  return `${u.protocol}//${id}.raw.${rest.join('.')}:${u.port}`;
};

/// A page (in a fresh context unless one is given), recording every API answer (path and
/// status) and every answer from the viewer's origin that is not certified.
async function open(url, viewport = { width: 1280, height: 800 }, given = null) {
  const context = given ?? await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const api = [];
  const errors = [];
  page.on('response', (r) => {
    const at = new URL(r.url());
    if (r.request().method() === 'OPTIONS') return; // a CORS preflight
    if (at.pathname.startsWith('/s/api/')) api.push({ path: at.pathname, origin: at.origin, status: r.status() });
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { context, page, api, errors };
}

/// Registers `script` as a service worker for `scope` in `page`: what happened, in words.
const register = (page, script, scope) => page.evaluate(async ({ script, scope }) => {
  try {
    const registration = await navigator.serviceWorker.register(script, { scope });
    return `registered for ${registration.scope}`;
  } catch (e) {
    return `refused: ${e.name}: ${e.message}`;
  }
}, { script, scope });

/// Ciphertext a refused page must never have received.
const decryptable = (api) => api.filter((a) => /^\/s\/api\/(thumb|chunk)\//.test(a.path) && a.status === 200);

async function state(page, wanted) {
  await page.waitForFunction((s) => document.body.dataset.state === s, wanted, WAIT);
}

async function download(page, file) {
  const [dl] = await Promise.all([page.waitForEvent('download', WAIT), page.click('#download')]);
  assert.equal(dl.suggestedFilename(), file.name, 'the download keeps the original name');
  const saved = join(config.artifacts, `download-${file.name}`);
  await dl.saveAs(saved);
  assert.equal(sha256(readFileSync(saved)), sha256(readFileSync(file.path)),
    `${file.name}: the downloaded file is the original, byte for byte`);
}

async function openTile(page, file) {
  await page.click(`button.tile[data-file-id="${file.id}"]`);
  await page.waitForSelector(`#full[data-file-id="${file.id}"][data-loaded="1"]`, WAIT);
}

// --- A dishonest node tries to take over the viewer's origin with a service worker. The
// replica answers `http_request` for config.trojan with a script that claims the whole origin
// and answers every page with a trojan viewer: as a node on the IC may answer. On the viewer's
// origin the gateway verifies every answer, and no path there skips certification: the
// script never arrives, nothing registers but the viewer's own worker (certified, and allowed
// no scope beyond /s). On the raw domain, where the API is and nothing is
// verified, it does install; the real viewer, in the same browser, is untouched by it.
{
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const viewer = viewerOrigin(config.album.url);
  const raw = rawOrigin(config.album.url);
  // Asked for by the browser itself (Node's resolver knows no `*.localhost`; Chromium does).
  const probe = await context.newPage();
  const direct = await probe.goto(`${viewer}${config.trojan}`);
  assert.equal(direct.status(), 503, `${config.trojan} on the viewer's origin: not served`);
  assert.equal(direct.headers()['service-worker-allowed'], undefined);
  assert.ok(!(await direct.text()).includes('trojan'), 'the script never reaches the browser');
  await probe.close();

  const { page } = await open(config.album.url, undefined, context);
  await state(page, 'album');
  for (const [script, scope] of [
    [config.trojan, '/'], [config.trojan, '/s/'], ['/s/api/link', '/'], ['/sw.js', '/'],
    [`${raw}${config.trojan}`, '/'], ['/s/sw.js', '/'], ['/s/sw.js', '/app/'],
  ]) {
    const outcome = await register(page, script, scope);
    assert.match(outcome, /^refused/, `${script} for ${scope} on the viewer's origin: ${outcome}`);
  }
  const workers = await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations())
    .map((r) => [r.scope, (r.active ?? r.waiting ?? r.installing)?.scriptURL]));
  assert.deepEqual(workers, [[`${viewer}/s`, `${viewer}/s/sw.js`]], 'the viewer\'s own worker only, for /s only');
  ok(`service worker takeover of ${viewer}: every registration refused (the node's script is not served there; the viewer's worker gets /s and no more)`);

  // Where uncertified answers are served, the node's script does take the origin over.
  // (On a page with no script of the viewer's: at /s the viewer's own worker, narrower, would
  // win the page.)
  const elsewhere = await context.newPage();
  await elsewhere.goto(`${raw}/nothing`);
  const there = await register(elsewhere, config.trojan, '/');
  assert.match(there, /^registered/, `on the raw domain the node's script installs: ${there}`);
  await elsewhere.evaluate(() => navigator.serviceWorker.ready);
  await elsewhere.goto(`${raw}/nothing`);
  assert.match(await elsewhere.textContent('body'), /trojan viewer/, 'the raw domain is the node\'s');
  ok(`the node's script took over ${raw}, where nothing is certified`);

  // The real viewer still opens the links, in the same browser: the album, a password link,
  // a download; its page is not controlled, and the API's answers come from the network.
  await page.goto('about:blank');
  const album = await open(config.album.url, undefined, context);
  await state(album.page, 'album');
  await album.page.waitForFunction(() => document.querySelectorAll('img.thumb[data-loaded="1"]').length >= 2, null, WAIT);
  assert.equal(await album.page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null),
    `${viewer}/s/sw.js`, 'the page is the viewer\'s worker\'s');
  assert.ok(album.api.length > 0 && album.api.every((a) => a.origin === raw && a.status === 200),
    `the API answered from the raw domain: ${JSON.stringify(album.api.slice(0, 3))}`);
  const password = await open(config.password.url, undefined, context);
  await state(password.page, 'password');
  await password.page.fill('#password', config.password.password);
  await password.page.click('#unlock');
  await state(password.page, 'album');
  const file = await open(config.file.url, undefined, context);
  await state(file.page, 'file');
  await file.page.waitForSelector(`#full[data-file-id="${config.file.id}"][data-loaded="1"]`, WAIT);
  await download(file.page, config.file);
  ok('with the node\'s worker on the raw domain, the viewer opens the album, the password link and downloads byte-identical');
  await context.close();
}

// --- An album link: the grid, the viewer, downloads.
{
  const { context, page, api, errors } = await open(config.album.url);
  await state(page, 'album');
  const files = config.album.files;
  const photos = files.filter((f) => f.mime.startsWith('image/'));
  await page.waitForFunction((n) => document.querySelectorAll('img.thumb[data-loaded="1"]').length >= n,
    photos.length, WAIT);
  assert.equal(await page.locator('button.tile').count(), files.length, 'one tile per file');
  for (const f of photos) {
    const { w, h } = await page.$eval(`img.thumb[data-file-id="${f.id}"]`,
      (img) => ({ w: img.naturalWidth, h: img.naturalHeight }));
    // Upright: orientations 5–8 swap width and height.
    const [ow, oh] = f.orientation >= 5 ? [f.height, f.width] : [f.width, f.height];
    assert.ok(Math.max(w, h) <= 720 && Math.max(w, h) >= Math.min(720, Math.max(ow, oh)) - 1,
      `${f.name}: thumbnail ${w}x${h} is 720 px on its long side (original ${ow}x${oh})`);
    assert.ok(Math.abs(w / h - ow / oh) < 0.02, `${f.name}: thumbnail ${w}x${h} keeps the shape of ${ow}x${oh}`);
  }
  ok(`album: ${files.length} tiles, ${photos.length} thumbnails decoded at the right size`);
  const title = await page.textContent('#title');
  assert.equal(title.trim(), config.album.name, 'the album is titled with its decrypted name');

  for (const f of photos) {
    await openTile(page, f);
    const { shown, reference } = await pixels(page, 'img#full', f.path);
    assert.deepEqual(shown, reference, `${f.name}: the full image's pixels are the original's`);
    ok(`full image ${f.name}: ${shown.width}x${shown.height}, pixels equal the original's`);
    await download(page, f);
    ok(`download ${f.name}: byte-identical`);
    await page.click('#close');
  }

  // Next and previous walk the album in the grid's order.
  const order = await page.$$eval('button.tile', (tiles) => tiles.map((t) => t.dataset.fileId));
  await page.click(`button.tile[data-file-id="${order[0]}"]`);
  await page.waitForSelector(`#full[data-file-id="${order[0]}"]`, WAIT);
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector(`#full[data-file-id="${order[1]}"]`, WAIT);
  await page.click('#prev');
  await page.waitForSelector(`#full[data-file-id="${order[0]}"]`, WAIT);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#viewer', { state: 'hidden', ...WAIT });
  ok('next, previous and close');

  for (const f of files.filter((f) => !f.mime.startsWith('image/'))) {
    await page.click(`button.tile[data-file-id="${f.id}"]`);
    await download(page, f);
    ok(`download ${f.name} (${f.mime}): byte-identical`);
    await page.keyboard.press('Escape');
  }
  assert.deepEqual(errors, [], 'no script errors');
  assert.ok(api.every((a) => a.status === 200), `every API answer was 200: ${JSON.stringify(api.filter((a) => a.status !== 200))}`);
  const raw = rawOrigin(config.album.url);
  assert.ok(api.every((a) => a.origin === raw), `the API is on the raw domain ${raw}, never on the viewer's origin`);
  await context.close();
}

// --- A long video streams: the viewer's service worker answers the <video>'s Range requests
// with what the page decrypts of the chunks they cover, so it starts at once and is never
// held whole, by the page or the browser.
{
  const v = config.video;
  const chunks = Math.ceil(v.size / 2 ** 20);
  const { context, page, errors } = await open(v.url);
  const requests = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/s/media/')) {
      requests.push({ range: r.request().headers().range ?? null, status: r.status() });
    }
  });
  await state(page, 'file');
  await page.waitForSelector(`video#full[data-file-id="${v.id}"][data-loaded="1"]`, WAIT);
  assert.equal(await page.$eval('video#full', (e) => e.getAttribute('src')), `/s/media/${v.id}`,
    'the video plays from the service worker');
  const decrypted = async () => Number(await page.evaluate(() => document.body.dataset.mediaChunks ?? 0));
  const atStart = await decrypted();
  assert.ok(requests.length > 0 && requests[0].range === 'bytes=0-' && requests[0].status === 206,
    `the first request is a Range request answered 206: ${JSON.stringify(requests.slice(0, 3))}`);
  assert.ok(atStart >= 1 && atStart <= 8, `its length and picture came from ${atStart} of ${chunks} chunks`);
  ok(`video: ready to play from ${atStart} of ${chunks} chunks decrypted (first request ${requests[0].range} → 206)`);

  const started = Date.now();
  await page.$eval('video#full', (e) => { e.muted = true; return e.play(); });
  const playedTo = (s) => page.waitForFunction((s) => document.querySelector('video#full').currentTime >= s, s, WAIT);
  await playedTo(4);
  const playing = await decrypted();
  assert.ok(playing < chunks / 2, `4 s into a ${chunks}-chunk video, ${playing} chunks were decrypted`);
  ok(`video: 4 s played in ${Date.now() - started} ms with ${playing} of ${chunks} chunks decrypted`);
  // A seek from 4 s to 45 s asks for what is there, not what lies between.
  await page.$eval('video#full', (e) => { e.currentTime = 45; });
  await playedTo(45.5);
  const afterSeek = await decrypted();
  const seekedTo = requests.map((r) => Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? 0)).reduce((a, b) => Math.max(a, b), 0);
  assert.ok(seekedTo > v.size * 0.6, `the seek asked for a range from ${seekedTo} of ${v.size}`);
  assert.ok(afterSeek < chunks - 20, `after a seek over ${chunks - playing} chunks' worth, ${afterSeek} of ${chunks} were decrypted`);
  ok(`video: a seek to 45 s asked for bytes=${seekedTo}- and left ${chunks - afterSeek} of ${chunks} chunks undecrypted`);

  // Memory is bounded: played again from 10 s to 40 s at 4x, tens of MiB more are decrypted
  // by the page (and sent through its worker), and the page holds no more for them: its JS
  // heap and the buffers it holds, after a garbage collection, as Chromium counts them. (The
  // processes' resident memory would not say: DevTools, which drives this browser, keeps up
  // to ~200 MB of what pages fetch for its network panel.)
  const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const cdp = await context.newCDPSession(page);
  const held = () => pageMemory(cdp);
  const before = await held();
  await page.$eval('video#full', (e) => { e.currentTime = 10; e.playbackRate = 4; });
  await page.waitForFunction(() => document.querySelector('video#full').currentTime < 45, null, WAIT);
  await playedTo(40);
  const after = await held();
  const read = ((await decrypted()) - afterSeek) * 2 ** 20;
  assert.ok(read >= 32 * 2 ** 20, `${mib(read)} were decrypted from 10 s to 40 s`);
  assert.ok(after - before < 8 * 2 ** 20, `the page went from ${mib(before)} to ${mib(after)} while it decrypted ${mib(read)}`);
  assert.deepEqual(errors, [], 'no script errors');
  ok(`video: from 10 s to 40 s the page decrypted ${mib(read)} more and held ${mib(before)} → ${mib(after)} ` +
    `(${requests.length} Range requests in all)`);
  await context.close();
}

// --- What other players ask of the viewer's worker: Safari's opening two bytes, a range
// across a chunk's end, the last bytes, and a range past the end. (Asked by the page's own
// fetch, which its policy allows only towards the API: this page ignores the policy.)
{
  const v = config.video;
  const { context, page } = await open(v.url, undefined, await browser.newContext({ bypassCSP: true }));
  await state(page, 'file');
  await page.waitForSelector(`video#full[data-file-id="${v.id}"][data-loaded="1"]`, WAIT);
  const answers = await page.evaluate(async ({ id, size }) => {
    const get = async (range) => {
      const r = await fetch(`/s/media/${id}`, { headers: { range } });
      return {
        status: r.status, range: r.headers.get('content-range'), length: r.headers.get('content-length'),
        nosniff: r.headers.get('x-content-type-options'), policy: r.headers.get('content-security-policy'),
        store: r.headers.get('cache-control'),
        bytes: [...new Uint8Array(await r.arrayBuffer())],
      };
    };
    return [await get('bytes=0-1'), await get('bytes=1048570-1048585'), await get('bytes=-10'), await get(`bytes=${size}-`)];
  }, v);
  const original = readFileSync(v.path);
  const expected = [[0, 1], [1048570, 1048585], [v.size - 10, v.size - 1]];
  expected.forEach(([start, end], i) => {
    const a = answers[i];
    assert.equal(a.status, 206, `bytes ${start}-${end}`);
    assert.equal(a.range, `bytes ${start}-${end}/${v.size}`);
    assert.equal(Number(a.length), end + 1 - start);
    assert.deepEqual(a.bytes, [...original.subarray(start, end + 1)], `bytes ${start}-${end} are the original's`);
  });
  assert.equal(answers[3].status, 416, 'a range past the end is refused');
  assert.deepEqual([answers[0].nosniff, answers[0].policy, answers[0].store],
    ['nosniff', "sandbox; default-src 'none'", 'no-store'], 'a decrypted answer is never stored, sniffed or run as a page');
  // Opened as a page (a link from elsewhere, a new tab), a file is not served at all.
  const tab = await context.newPage();
  const opened = await tab.goto(new URL(`/s/media/${v.id}`, v.url).href);
  assert.equal(opened.status(), 404, 'a navigation to a decrypted file is refused');
  await tab.close();
  ok('video: Range requests answered 206 with the original\'s bytes (0-1, across a chunk, the last 10), 416 past the end; ' +
    'answers are no-store, nosniff and sandboxed, and a navigation to one is refused');
  await context.close();
}

// --- A phone: the grid at 390x844, kept as a test artifact.
{
  const { context, page } = await open(config.album.url, { width: 390, height: 844 });
  await state(page, 'album');
  await page.waitForFunction(() => document.querySelectorAll('img.thumb[data-loaded="1"]').length >= 2, null, WAIT);
  const layout = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    tiles: [...document.querySelectorAll('button.tile')].map((t) => t.getBoundingClientRect().width),
  }));
  assert.ok(layout.scroll <= 390, `nothing overflows a phone's width (${layout.scroll} px)`);
  assert.ok(layout.tiles.every((w) => w >= 80 && w <= 200), `tiles fit a phone: ${layout.tiles}`);
  const shot = await page.screenshot({ path: join(config.artifacts, 'viewer-phone-390x844.png') });
  assert.ok(shot.length > 20_000, `the phone screenshot shows something (${shot.length} bytes)`);
  await page.click('button.tile >> nth=0');
  await page.waitForSelector('#full[data-loaded="1"]', WAIT);
  await page.screenshot({ path: join(config.artifacts, 'viewer-phone-photo.png') });
  ok(`phone: ${layout.tiles.length} tiles ${Math.round(layout.tiles[0])} px wide; screenshots in ${config.artifacts}`);
  await context.close();
}

// --- A password link: the form, a wrong password, the right one.
{
  const { context, page, api } = await open(config.password.url);
  await state(page, 'password');
  await page.fill('#password', 'not the password');
  await page.click('#unlock');
  await page.waitForFunction(() => document.body.dataset.passwordError === 'wrong', null, WAIT);
  assert.deepEqual(decryptable(api), [], 'a wrong password fetches no ciphertext');
  ok('password link: the wrong password is refused and nothing is fetched');
  await page.fill('#password', config.password.password);
  await page.click('#unlock');
  await state(page, 'album');
  await page.waitForFunction(() => document.querySelectorAll('img.thumb[data-loaded="1"]').length >= 1, null, WAIT);
  ok('password link: the right password opens the album');
  await context.close();
}

// --- A link to one file.
{
  const { context, page } = await open(config.file.url);
  await state(page, 'file');
  await page.waitForSelector(`#full[data-file-id="${config.file.id}"][data-loaded="1"]`, WAIT);
  await download(page, config.file);
  ok('file link: the photo shows and downloads byte-identical');
  await context.close();
}

// --- Links that must not open: each says why, and nothing decryptable arrives.
for (const [kind, url] of [
  ['revoked', config.revoked], ['expired', config.expired],
  ['damaged', config.damaged], ['not-found', config.unknown],
]) {
  const { context, page, api } = await open(url);
  await state(page, 'error');
  assert.equal(await page.evaluate(() => document.body.dataset.error), kind, `${kind}: the page says so`);
  const text = (await page.textContent('body')).trim();
  assert.ok(text.length > 20, `${kind}: a message for a person: ${text}`);
  assert.deepEqual(decryptable(api), [], `${kind}: no ciphertext was served`);
  if (kind === 'damaged') assert.deepEqual(api, [], 'a damaged fragment asks the canister nothing');
  await page.screenshot({ path: join(config.artifacts, `viewer-${kind}.png`) });
  ok(`${kind} link: "${text.slice(0, 70).replace(/\s+/g, ' ')}…", nothing decryptable fetched`);
  await context.close();
}

await browser.close();
writeFileSync(join(config.artifacts, 'viewer-result.txt'), 'passed\n');
console.log('viewer: all checks passed');
