// Starts the web app: first the service worker, which keeps the app for offline use and serves
// the page's decrypted images (it asks this page for them: the keys never leave it), then the
// app's wasm.
import init, { image } from "./vault-web.js";

/** Answers the service worker's requests for an image: `{ type: "image", path }` on a port. */
function answerImages() {
  navigator.serviceWorker.addEventListener("message", async (event) => {
    if (event.data?.type !== "image" || !event.ports[0]) return;
    const port = event.ports[0];
    try {
      const answer = await image(event.data.path);
      port.postMessage(answer, answer.bytes ? [answer.bytes.buffer] : []);
    } catch (e) {
      port.postMessage({ status: 500, text: String(e) });
    }
  });
}

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
  await init({ module_or_path: new URL("./vault-web_bg.wasm", import.meta.url) });
} catch (e) {
  const main = document.getElementById("main");
  main.replaceChildren();
  const p = document.createElement("p");
  p.setAttribute("role", "alert");
  p.textContent = `Vault cannot start in this browser: ${e.message ?? e}`;
  main.append(p);
}
