// Argon2id off the page (boot.js's `vaultKdf`, client/web/src/kdf.rs): this worker instantiates
// the app's own wasm from the module the page compiled (its start does nothing outside a page),
// derives one passphrase key, answers with it and how long it took, and is ended by the page:
// the 64–256 MiB Argon2id fills go with it.
import init, { derive_kek } from "./vault-web.js";

self.onmessage = async ({ data: { module, params, passphrase } }) => {
  try {
    await init({ module_or_path: module });
    const started = performance.now();
    const kek = derive_kek(params, passphrase);
    self.postMessage({ kek, ms: performance.now() - started }, [kek.buffer]);
  } catch (e) {
    self.postMessage({ error: String(e?.message ?? e) });
  }
};
