// Starts the web app: first the service worker, which keeps the app for offline use and serves
// the page's decrypted images (it asks this page for them: the keys never leave it), then the
// app's wasm.
import init, { image, media } from "./vault-web.js";

/**
 * Answers the service worker's requests on a port: `{ type: "image", path }` for an image,
 * `{ type: "media", path, from }` for a piece of a video it streams.
 */
function answerImages() {
  navigator.serviceWorker.addEventListener("message", async (event) => {
    const { type, path, from } = event.data ?? {};
    if ((type !== "image" && type !== "media") || !event.ports[0]) return;
    const port = event.ports[0];
    try {
      const answer = type === "image" ? await image(path) : await media(path, from);
      port.postMessage(answer, answer.bytes ? [answer.bytes.buffer] : []);
    } catch (e) {
      port.postMessage({ status: 500, text: String(e) });
    }
  });
}

/**
 * This browser's device key: an ECDSA P-256 WebCrypto key pair made non-extractable (no script,
 * this page's included, can read its private key), kept in IndexedDB, which stores the key
 * object itself. The app (`client/web/src/device.rs`) asks it for its public key and for one
 * signature per page: a delegation to a session key the app keeps in memory.
 */
const vaultDevice = (() => {
  const DB = "vault-device";
  const STORE = "keys";
  const NAME = "device";
  /** Runs `action` on the key store; resolves with the request's result. */
  const keys = (mode, action) => new Promise((resolve, reject) => {
    const opening = indexedDB.open(DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
      tx.onabort = () => { db.close(); reject(tx.error); };
    };
  });
  let pair = null;
  const device = async () => {
    if (pair) return pair;
    pair = await keys("readonly", (store) => store.get(NAME));
    if (!pair) {
      const made = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      try {
        // `add`, not `put`: a key another tab made first is kept, and used here too.
        await keys("readwrite", (store) => store.add(made, NAME));
      } catch (e) {
        if (e?.name !== "ConstraintError") throw e;
      }
      pair = await keys("readonly", (store) => store.get(NAME));
    }
    if (!pair || pair.privateKey.extractable) throw new Error("this browser keeps no device key for the page");
    return pair;
  };
  return {
    /** The device's public key, SubjectPublicKeyInfo DER. */
    async publicKey() {
      return new Uint8Array(await crypto.subtle.exportKey("spki", (await device()).publicKey));
    },
    /** The device key's signature of `bytes`: ECDSA over their SHA-256, `r · s` (64 bytes). */
    async sign(bytes) {
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, (await device()).privateKey, bytes);
      return new Uint8Array(signature);
    },
  };
})();
globalThis.vaultDevice = vaultDevice;

/**
 * Passkeys (WebAuthn) for this vault, its relying party this page's own host: the app
 * (`client/web/src/passkey.rs`) makes one (`create`) and has one sign (`get`), user
 * verification required, the PRF extension evaluated at the vault's input.
 */
const vaultPasskey = {
  available() {
    return typeof PublicKeyCredential !== "undefined" && !!navigator.credentials;
  },
  /** `{ user, name, challenge, prfInput, exclude }` → `{ credentialId, authenticatorData, prf, prfEnabled }`. */
  async create({ user, name, challenge, prfInput, exclude }) {
    const credential = await navigator.credentials.create({
      publicKey: {
        rp: { id: location.hostname, name: "Vault" },
        user: { id: user, name, displayName: name },
        challenge,
        pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
        authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
        excludeCredentials: exclude.map((id) => ({ type: "public-key", id })),
        attestation: "none",
        extensions: { prf: { eval: { first: prfInput } } },
      },
    });
    const prf = credential.getClientExtensionResults()?.prf;
    return {
      credentialId: new Uint8Array(credential.rawId),
      authenticatorData: new Uint8Array(credential.response.getAuthenticatorData()),
      prf: prf?.results?.first ? new Uint8Array(prf.results.first) : null,
      prfEnabled: !!prf?.enabled,
    };
  },
  /** `{ challenge, prfInput, allow }` → `{ credentialId, authenticatorData, clientDataJSON, signature, prf }`. */
  async get({ challenge, prfInput, allow }) {
    const credential = await navigator.credentials.get({
      publicKey: {
        rpId: location.hostname,
        challenge,
        userVerification: "required",
        allowCredentials: allow.map((id) => ({ type: "public-key", id })),
        extensions: { prf: { eval: { first: prfInput } } },
      },
    });
    const prf = credential.getClientExtensionResults()?.prf;
    return {
      credentialId: new Uint8Array(credential.rawId),
      authenticatorData: new Uint8Array(credential.response.authenticatorData),
      clientDataJSON: new Uint8Array(credential.response.clientDataJSON),
      signature: new Uint8Array(credential.response.signature),
      prf: prf?.results?.first ? new Uint8Array(prf.results.first) : null,
    };
  },
};
globalThis.vaultPasskey = vaultPasskey;

/**
 * `source` (`width` × `height` as drawn: an image, a video, a VideoFrame turned as it says)
 * drawn at most `long` pixels on its long side with the browser's high-quality resampling,
 * a JPEG of quality 0.8: `{ jpeg, width, height }`. A video's poster and a photo's thumbnail.
 */
async function smallJpeg(source, width, height, long) {
  const fit = Math.min(1, long / Math.max(width, height, 1));
  const w = Math.max(1, Math.round(width * fit));
  const h = Math.max(1, Math.round(height * fit));
  const canvas = new OffscreenCanvas(w, h);
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(source, 0, 0, w, h);
  const jpeg = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.8 });
  return { jpeg: new Uint8Array(await jpeg.arrayBuffer()), width: w, height: h };
}

/**
 * What this browser's player tells of a video file (`client/web/src/files.rs`): its length,
 * size and a poster frame (a second in, or halfway through a shorter one), drawn upright and at
 * most `long` pixels on its long side, a JPEG of quality 0.8. `{ durationMs, width, height,
 * poster, posterWidth, posterHeight }`; a video this browser cannot play is refused.
 */
const vaultVideo = {
  async facts(file, long) {
    const video = document.createElement("video");
    video.muted = true;
    video.preload = "auto";
    video.playsInline = true;
    const url = URL.createObjectURL(file);
    const event = (name) => new Promise((resolve, reject) => {
      video.addEventListener(name, resolve, { once: true });
      video.addEventListener("error", () => reject(new Error(video.error?.message || "this browser cannot play it")), { once: true });
    });
    const timeout = (ms) => new Promise((_, reject) => setTimeout(() => reject(new Error("its player did not answer in time")), ms));
    try {
      const loaded = event("loadeddata");
      video.src = url;
      await Promise.race([loaded, timeout(20_000)]);
      const duration = video.duration;
      const seconds = Number.isFinite(duration) ? Math.min(1, duration / 2) : 0;
      if (seconds > 0) {
        const seeked = event("seeked");
        video.currentTime = seconds;
        await Promise.race([seeked, timeout(20_000)]);
      }
      const { videoWidth: width, videoHeight: height } = video;
      if (!width || !height) throw new Error("it has no picture");
      const poster = await smallJpeg(video, width, height, long);
      return {
        durationMs: Number.isFinite(duration) ? Math.round(duration * 1000) : null,
        width, height,
        poster: poster.jpeg,
        posterWidth: poster.width, posterHeight: poster.height,
      };
    } finally {
      video.removeAttribute("src");
      video.load();
      URL.revokeObjectURL(url);
    }
  },
};
globalThis.vaultVideo = vaultVideo;

/**
 * A photo's thumbnail made by this browser (`client/web/src/files.rs`): decoded upright (by its
 * EXIF orientation), at most `long` pixels on its long side, a JPEG of quality 0.8;
 * `{ jpeg, width, height }`. A JPEG whose stored size (`width` × `height`, 0 if unknown) is
 * known is decoded by WebCodecs' ImageDecoder, where the browser has it, at the smallest of
 * 1/8, 1/4, 1/2 and full scale that still has `long` pixels on its long side (a JPEG decoder's
 * scaled IDCT: a quarter less work than decoding it whole, and no full-size bitmap to shrink);
 * anything else, or if that fails, is decoded whole by createImageBitmap.
 */
const vaultPhoto = {
  async thumbnail(file, type, width, height, long) {
    const scaled = async () => {
      if (type !== "image/jpeg" || !(width > 0 && height > 0) || typeof ImageDecoder !== "function") return null;
      let scale = 1;
      while (scale > 1 / 8 && (Math.max(width, height) * scale) / 2 >= long) scale /= 2;
      let decoder = null;
      try {
        decoder = new ImageDecoder({
          data: file.stream(), type,
          desiredWidth: Math.ceil(width * scale), desiredHeight: Math.ceil(height * scale),
        });
        return (await decoder.decode()).image;
      } catch {
        return null;
      } finally {
        decoder?.close();
      }
    };
    const frame = await scaled();
    // A VideoFrame is drawn turned as its EXIF says (its rotation and flip).
    const source = frame ?? await createImageBitmap(file);
    try {
      const [sw, sh] = frame ? [frame.displayWidth, frame.displayHeight] : [source.width, source.height];
      return await smallJpeg(source, sw, sh, long);
    } finally {
      source.close();
    }
  },
};
globalThis.vaultPhoto = vaultPhoto;

/** The app's wasm, compiled once: the page's, and each Argon2id worker's (`vaultKdf`). */
const wasmUrl = new URL("./vault-web_bg.wasm", import.meta.url);
let wasmModule = null;

/**
 * Argon2id in a Web Worker of its own (`kdf-worker.js`, on this same wasm), ended once it has
 * answered: the page stays responsive while it runs, and never holds its memory. The app
 * (`client/web/src/kdf.rs`) asks it for the key of a passphrase under a vault's unlock params;
 * how long the last one took is on the page's body (`data-kdf-ms`).
 */
const vaultKdf = {
  derive(params, passphrase) {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL("./kdf-worker.js", import.meta.url), { type: "module" });
      worker.onmessage = ({ data }) => {
        worker.terminate();
        if (!data.kek) return reject(new Error(data.error ?? "the worker gave no key"));
        document.body.dataset.kdfMs = String(Math.round(data.ms));
        resolve(data.kek);
      };
      worker.onerror = (e) => {
        worker.terminate();
        reject(new Error(e.message || "the worker did not start"));
      };
      worker.postMessage({ module: wasmModule, params, passphrase });
    });
  },
};
globalThis.vaultKdf = vaultKdf;

/**
 * Locks the vault when the page is left alone: the keys live in this page's memory only, so a
 * reload forgets them (the page then asks for the passphrase or a passkey again). After
 * `idle` minutes without a touch, a key or a scroll (the owner's choice on this browser,
 * Settings → "Lock after": `minutes()`, `choose(n)`; 15 unless chosen), or after at most 5 of
 * them out of sight (another app, a locked phone); never while an upload runs (the app says so
 * on the body, `data-uploading`). The test hook `vaultLock.after(hidden, idle)` (ms) shortens
 * both.
 */
const vaultLock = (() => {
  const KEY = "vault-lock-minutes";
  const CHOICES = [1, 5, 15, 60];
  const chosen = () => {
    const n = Number(localStorage.getItem(KEY));
    return CHOICES.includes(n) ? n : 15;
  };
  const limitsFor = (minutes) => ({ hidden: Math.min(5, minutes) * 60_000, idle: minutes * 60_000 });
  let limits = limitsFor(chosen());
  let active = Date.now();
  let hiddenAt = null;
  const uploading = () => Boolean(document.body?.dataset.uploading);
  const lock = () => location.reload();
  const playing = () => [...document.querySelectorAll("video")].some((v) => !v.paused && !v.ended);
  const check = () => {
    if (!document.hidden && playing()) active = Date.now(); // watching is not leaving it
    if (uploading()) return;
    const now = Date.now();
    if ((hiddenAt !== null && now - hiddenAt >= limits.hidden) || now - active >= limits.idle) lock();
  };
  for (const name of ["pointerdown", "keydown", "wheel", "touchstart", "scroll"]) {
    addEventListener(name, () => { active = Date.now(); }, { capture: true, passive: true });
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      hiddenAt = Date.now();
    } else {
      check(); // a hidden page's timers may have been held back
      hiddenAt = null;
      active = Date.now();
    }
  });
  let timer = setInterval(check, 10_000);
  const after = (hidden, idle) => {
    limits = { hidden, idle };
    clearInterval(timer);
    timer = setInterval(check, Math.min(10_000, hidden / 4, idle / 4));
  };
  return {
    after,
    /** The minutes chosen on this browser, and those that may be. */
    minutes: () => ({ chosen: chosen(), choices: CHOICES }),
    /** Keeps `minutes` (one of the choices) on this browser, in force at once. */
    choose(minutes) {
      if (!CHOICES.includes(minutes)) throw new Error(`not one of ${CHOICES.join(", ")} minutes`);
      localStorage.setItem(KEY, String(minutes));
      active = Date.now();
      const { hidden, idle } = limitsFor(minutes);
      after(hidden, idle);
    },
  };
})();
globalThis.vaultLock = vaultLock;

/**
 * What other apps shared with Vault ("Share → Vault", the manifest's share_target): the service
 * worker keeps the files until the app, unlocked, shows them and the owner uploads them (each
 * is given once) or discards them. Any site can post to the share target, so nothing goes up
 * without the owner's say.
 */
/** The share target's `/app/?shared=n`, once what it brought is settled: the plain address. */
/** Where sw.js counts the files shared but not kept. */
const SHARED_REFUSED = "/app/shared-refused";
const settled = () => {
  if (new URL(location.href).searchParams.has("shared")) history.replaceState(null, "", "/app/");
};
const vaultShare = {
  /** `[{ id, name, type, size }]` of the files waiting (those over an hour old are dropped). */
  async peek() {
    const shared = await caches.open("vault-shared");
    const waiting = [];
    for (const request of await shared.keys()) {
      if (new URL(request.url).pathname === SHARED_REFUSED) continue;
      const kept = await shared.match(request);
      if (!kept || Date.now() - Number(kept.headers.get("x-at")) > 3_600_000) {
        await shared.delete(request);
        continue;
      }
      waiting.push({
        id: request.url,
        // Shown to the owner: no control or bidirectional-override characters to disguise it.
        name: decodeURIComponent(kept.headers.get("x-name") ?? "shared").replace(/[\p{Cc}\p{Cf}]/gu, ""),
        type: kept.headers.get("content-type") ?? "",
        size: Number(kept.headers.get("x-size")) || 0,
      });
    }
    return waiting;
  },
  /** Forgets every file waiting. */
  /** How many more were shared but not kept (too many at once; sw.js's SHARED_MAX). */
  async refused() {
    const said = await (await caches.open("vault-shared")).match(SHARED_REFUSED);
    if (!said || Date.now() - Number(said.headers.get("x-at")) > 3_600_000) return 0;
    return Number(await said.text()) || 0;
  },
  async discard() {
    await caches.delete("vault-shared");
    settled();
  },
  /** The files `ids` (what `peek` listed and the owner saw), as files, forgotten here; any
   * other file waiting is discarded with them. */
  async take(ids) {
    const shared = await caches.open("vault-shared");
    const files = [];
    for (const request of await shared.keys()) {
      const kept = ids.includes(request.url) ? await shared.match(request) : null;
      await shared.delete(request);
      if (!kept) continue;
      files.push(new File([await kept.blob()], decodeURIComponent(kept.headers.get("x-name") ?? "shared"), {
        type: kept.headers.get("content-type") ?? "",
        lastModified: Number(kept.headers.get("x-modified")) || Date.now(),
      }));
    }
    if (files.length) settled();
    return files;
  },
};
globalThis.vaultShare = vaultShare;

/** The service worker, controlling this page (on a first visit it claims the page at once). */
async function serviceWorker() {
  if (!("serviceWorker" in navigator)) {
    throw new Error("this browser has no service workers (a private window may turn them off)");
  }
  answerImages();
  if (navigator.serviceWorker.controller) return;
  const controlled = new Promise((resolve) =>
    navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
  await controlled;
}

try {
  await serviceWorker();
  wasmModule = await WebAssembly.compileStreaming(fetch(wasmUrl));
  await init({ module_or_path: wasmModule });
  // The app has drawn itself: the page's own line is done.
  document.getElementById("booting")?.remove();
} catch (e) {
  const main = document.getElementById("main");
  main.replaceChildren();
  const p = document.createElement("p");
  p.setAttribute("role", "alert");
  p.textContent = `Vault cannot start in this browser: ${e.message ?? e}`;
  main.append(p);
}
