// What the browser tests share: Debian's Chromium launched headless through playwright-core,
// one-line checks, and pixels compared as the browser decodes them.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** How long a step may take before the test fails (a cold replica on a loaded machine). */
export const WAIT = { timeout: 90_000 };

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Says that a check passed: one line each, which the Rust side prints. */
export const ok = (what) => console.log(`ok ${what}`);

const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Debian's Chromium at `executablePath`, headless, quiet (no background traffic). */
export const launch = (executablePath) => chromium.launch({ executablePath, headless: true, args: ARGS });

/**
 * The same, as a browser profile kept in `userDataDir` (not incognito: what a person's browser
 * is, where an app can be installed), one context with `options`.
 */
export const launchProfile = (executablePath, userDataDir, options) =>
  chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args: ARGS, ...options });

/**
 * The SHA-256 of the RGBA pixels of the image `selector` in `page` as the browser decoded it,
 * and of the file `original` decoded by the same browser: `{ shown, reference }`, each
 * `{ width, height, hash }`.
 */
export async function pixels(page, selector, original) {
  return page.evaluate(async ({ selector, original }) => {
    const draw = async (img) => {
      await img.decode();
      const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, img.naturalWidth, img.naturalHeight).data;
      const digest = await crypto.subtle.digest('SHA-256', data);
      return {
        width: img.naturalWidth,
        height: img.naturalHeight,
        hash: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
      };
    };
    const shown = await draw(document.querySelector(selector));
    const bytes = Uint8Array.from(atob(original), (c) => c.charCodeAt(0));
    const img = new Image();
    img.src = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));
    const reference = await draw(img);
    return { shown, reference };
  }, { selector, original: readFileSync(original).toString('base64') });
}

/**
 * What the page behind `cdp` (a CDP session) holds, in bytes: its JS heap and the array
 * buffers it keeps, as Chromium counts them — after a garbage collection unless `collect` is
 * false (then garbage counts too).
 */
export async function pageMemory(cdp, collect = true) {
  if (collect) await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize, backingStorageSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize + backingStorageSize;
}

/**
 * A page that Playwright does not instrument, for measuring: a browser context made over
 * `browser`'s own CDP session, its page driven by raw CDP messages. Playwright's pages have
 * DevTools' network domain on, which copies every request body in the page (a 1 MiB POST
 * costs ~45 ms there, ~7 ms here): uploads measured through it would measure that.
 * `options`: `{ width, height, mobile }` (a phone's screen and touch when `mobile`).
 * Returns `{ send, evaluate(fn, arg), waitFor(fn, arg, ms), setFiles(selector, paths), close }`.
 */
export async function quietPage(browser, url, { width, height, mobile }) {
  const cdp = await browser.newBrowserCDPSession();
  const { browserContextId } = await cdp.send('Target.createBrowserContext', {});
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank', browserContextId });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
  let next = 0;
  const waiting = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const message = JSON.parse(e.message);
    const answer = message.id !== undefined && waiting.get(message.id);
    if (!answer) return;
    waiting.delete(message.id);
    if (message.error) answer.reject(new Error(`${message.error.message} (${JSON.stringify(message.error)})`));
    else answer.resolve(message.result);
  });
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = ++next;
    waiting.set(id, { resolve, reject });
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) })
      .catch(reject);
  });
  const evaluate = async (fn, arg) => {
    const { result, exceptionDetails } = await send('Runtime.evaluate', {
      expression: `(${fn})(${JSON.stringify(arg ?? null)})`, awaitPromise: true, returnByValue: true,
    });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value;
  };
  const waitFor = async (fn, arg, ms = WAIT.timeout) => {
    const until = Date.now() + ms;
    for (;;) {
      const value = await evaluate(fn, arg);
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${fn}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const setFiles = async (selector, files) => {
    const { root } = await send('DOM.getDocument', {});
    const { nodeId } = await send('DOM.querySelector', { nodeId: root.nodeId, selector });
    await send('DOM.setFileInputFiles', { nodeId, files });
  };
  await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: mobile ? 2 : 1, mobile });
  if (mobile) await send('Emulation.setTouchEmulationEnabled', { enabled: true });
  await send('Page.enable');
  await send('Page.navigate', { url });
  return {
    send, evaluate, waitFor, setFiles,
    close: async () => {
      await cdp.send('Target.disposeBrowserContext', { browserContextId });
      await cdp.detach();
    },
  };
}
