// The phone's side of the timeline benchmark (tests/benches/timeline.rs): the vault's web app in
// Debian's Chromium at 390x844 with touch, in a page Playwright does not instrument
// (common.mjs's quietPage). From the tap on "Unlock" to the first thumbnail decoded on screen,
// and to every photo listed: once as a new device (admitted with the passphrase), then three
// times as that device again (a reload forgets the keys; the device key stays).
//
// Config (argv[2], JSON): { chromium, app (the vault's /app/ URL), passphrase, photos (how many
// the vault holds) }. Prints one line, `phone: {json}`.

import { readFileSync } from 'node:fs';
import { launch, quietPage } from './common.mjs';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await launch(config.chromium);
const page = await quietPage(browser, config.app, { width: 390, height: 844, mobile: true });

// Types the passphrase, taps "Unlock", and times from the tap, in the page, frame by frame.
async function unlock() {
  await page.waitFor(() => document.querySelector('[data-testid="passphrase"]'));
  await page.evaluate((passphrase) => {
    const input = document.querySelector('[data-testid="passphrase"]');
    input.value = passphrase;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, config.passphrase);
  return page.evaluate(async (n) => {
    const started = performance.now();
    document.querySelector('[data-testid="unlock"]').click();
    let first;
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      if (first === undefined &&
        [...document.querySelectorAll('img.thumb')].some((img) => img.complete && img.naturalWidth > 0)) {
        first = now - started;
      }
      if (first !== undefined && document.querySelector(`[data-testid="timeline"][data-count="${n}"]`)) {
        return { first: Math.round(first), listed: Math.round(now - started), kdf: Number(document.body.dataset.kdfMs) };
      }
      if (now - started > 120_000) throw new Error(`no thumbnails after 2 minutes: ${document.body.innerText.slice(0, 300)}`);
    }
  }, config.photos);
}

const newDevice = await unlock();
const again = [];
for (let i = 0; i < 3; i++) {
  await page.send('Page.reload');
  again.push(await unlock());
}
console.log(`phone: ${JSON.stringify({ newDevice, again })}`);
await page.close();
await browser.close();
