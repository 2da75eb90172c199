// origin.js: the API is always on the canister's raw domain, never on the viewer's origin.
// Run: node --test vault-canister/viewer/test/

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { apiOrigin } from '../origin.js';

const ID = 'rwlgt-iiaaa-aaaaa-aaaaa-cai';

test('the API is on the raw domain of the canister the viewer is served by', () => {
  const cases = [
    [`https://${ID}.icp0.io/s#secret`, `https://${ID}.raw.icp0.io`],
    [`https://${ID}.ic0.app/s/#secret`, `https://${ID}.raw.ic0.app`],
    [`http://${ID}.localhost:4943/s#secret`, `http://${ID}.raw.localhost:4943`],
    [`http://${ID}.localhost/s`, `http://${ID}.raw.localhost`],
    [`http://127.0.0.1:4943/s?canisterId=${ID}#secret`, `http://${ID}.raw.localhost:4943`],
    [`http://localhost:8000/s?canisterId=${ID}`, `http://${ID}.raw.localhost:8000`],
    // Already on a raw domain: nothing there is certified, the page's own origin will do.
    [`https://${ID}.raw.icp0.io/s`, `https://${ID}.raw.icp0.io`],
  ];
  for (const [viewer, api] of cases) {
    assert.equal(apiOrigin(viewer), api, viewer);
    if (!viewer.includes('.raw.')) assert.notEqual(api, new URL(viewer).origin, `${viewer}: another origin`);
  }
});

test('an address that names no canister has no API', () => {
  for (const url of [
    'https://photos.example.com/s#secret',
    'http://127.0.0.1:4943/s',
    `https://example.com/s?canisterId=${ID}`, // only a local replica has that form
    'http://127.0.0.1:4943/s?canisterId=not-an-id',
    'http://localhost:4943/s',
  ]) {
    assert.equal(apiOrigin(url), null, url);
  }
});
