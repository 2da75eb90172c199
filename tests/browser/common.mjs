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
