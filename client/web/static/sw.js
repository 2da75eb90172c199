// The app's service worker (scope /app/): keeps the app shell for offline use, and serves the
// decrypted images the page's <img>s load from /app/image/… and the videos its <video>s stream
// from /app/image/media/<id> by asking the page for them. A decrypted byte is never cached here nor
// by the browser (no-store).

// Replaced by the build with the hash of the files below: a new version is a new cache.
const VERSION = "@VERSION@";
const SHELL = [@SHELL@];
const CACHE = `vault-app-${VERSION}`;
const IMAGES = "/app/image/";
const MEDIA = "/app/image/media/";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE && name !== SHARED) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** Where "Share → Vault" posts (the manifest's share_target), and where the shared files wait. */
const SHARE = "/app/share";
const SHARED = "vault-shared";
const SHARED_MAX = 100;
/** How many files were shared but not kept (over SHARED_MAX), kept beside them to be said. */
const REFUSED = "/app/shared-refused";

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  if (event.request.method === "POST" && url.pathname === SHARE) {
    event.respondWith(share(event.request));
    return;
  }
  if (event.request.method !== "GET") return;
  if (url.pathname.startsWith(MEDIA)) {
    event.respondWith(media(event, url.pathname.slice(MEDIA.length - 1)));
  } else if (url.pathname.startsWith(IMAGES)) {
    event.respondWith(image(event, url.pathname.slice(IMAGES.length - 1)));
  } else if (url.pathname === "/app" || url.pathname.startsWith("/app/")) {
    event.respondWith(shell(event.request));
  }
});

/** The network's answer when there is one (a new version is seen at once), else the cache's. */
async function shell(request) {
  try {
    const answer = await fetch(request);
    if (answer.ok && SHELL.includes(new URL(request.url).pathname)) {
      const cache = await caches.open(CACHE);
      await cache.put(request, answer.clone());
    }
    return answer;
  } catch (offline) {
    const cached = await caches.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw offline;
  }
}

/**
 * Files another app shared with Vault (a phone's share sheet posts them here): kept in this
 * origin's cache storage until the app, unlocked, shows them to the owner, who uploads or
 * discards them (boot.js's `vaultShare`); the app is opened to do it. Nothing is sent anywhere
 * before that. Any page can post here (a cross-site form can), which is why the owner decides.
 */
async function share(request) {
  let files = [];
  try {
    files = (await request.formData()).getAll("media").filter((f) => f instanceof File && f.size > 0);
  } catch {} // not a form: nothing shared
  const shared = await caches.open(SHARED);
  // At most SHARED_MAX wait at once (the rest counted, and said to the owner); the app drops
  // what waited over an hour.
  const waiting = (await shared.keys()).filter((r) => new URL(r.url).pathname !== REFUSED).length;
  const room = Math.max(0, SHARED_MAX - waiting);
  const refused = Math.max(0, files.length - room);
  files = files.slice(0, room);
  if (refused > 0) {
    const before = await shared.match(REFUSED);
    const earlier = before ? Number(await before.text()) || 0 : 0;
    await shared.put(REFUSED, new Response(String(earlier + refused), { headers: { "x-at": String(Date.now()) } }));
  }
  for (const file of files) {
    await shared.put(`/app/shared/${crypto.randomUUID()}`, new Response(file, {
      headers: {
        "content-type": file.type || "application/octet-stream",
        "x-name": encodeURIComponent(file.name),
        "x-modified": String(file.lastModified),
        "x-size": String(file.size),
        "x-at": String(Date.now()),
      },
    }));
  }
  return Response.redirect(`/app/?shared=${files.length}`, 303);
}

/** The image at `path` (`/thumb/<id>`, `/original/<id>`), decrypted by the page that shows it. */
async function image(event, path) {
  const page = await pageOf(event);
  if (!page) return mediaText(event.request.mode === "navigate" ? 404 : 503, "no open Vault page to decrypt it");
  const answer = await ask(page, { type: "image", path });
  if (answer.status !== 200) return mediaText(answer.status, answer.text ?? "");
  return new Response(answer.bytes, { headers: { ...DECRYPTED, "content-type": answer.mime } });
}

// pageOf, ask, media, mediaText and DECRYPTED: vault-canister/viewer/media-worker.js, which the
// build puts here.
@MEDIA@
