// The link viewer's service worker (scope /s, which /s/sw.js is allowed by its
// `service-worker-allowed` header): streams the videos the page shows from /s/media/<file id>,
// asking the page for their bytes (the link's keys never leave the page). Nothing else: every
// other request goes to the network as if there were no worker, and nothing is cached.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

const MEDIA = "/s/media/";

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== "GET") return;
  if (url.pathname.startsWith(MEDIA)) event.respondWith(media(event, url.pathname.slice(MEDIA.length - 1)));
});

// pageOf, ask, media and mediaText: media-worker.js, which the build puts here.
@MEDIA@
