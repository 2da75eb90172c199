//! The edges where a front end's platform differs, behind small seams, so that the same core
//! runs natively (the CLI, the desktop app) and in a browser (`wasm32-unknown-unknown`):
//!
//! - [`Store`]: where the identity, settings, unlocked sessions, pinned passphrase parameters
//!   and upload journals are kept — files under [`crate::Home`] natively (0600 in 0700
//!   directories), the browser's storage in a web build, memory in tests ([`MemoryStore`]).
//! - [`blocking`]: how CPU-bound work (Argon2id, encryption, thumbnails) runs without stalling
//!   the event loop — tokio's blocking pool natively, inline in a browser (a worker later).
//! - [`now_ms`]: the wall clock (`SystemTime` panics in a browser).
//!
//! Where the replica comes from is not here: the core takes a URL ([`crate::Network`]); the
//! launchers (CLI and app) start the embedded local replica natively.

use std::collections::BTreeMap;
use std::sync::Mutex;

use candid::Principal;
use sha2::Digest;
use zeroize::Zeroizing;

use crate::Error;

/// `Send + Sync` natively, where the app's runtime moves the client's futures between threads;
/// nothing in a browser, whose storage and agent live on its one thread.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSync for T {}
/// `Send + Sync` natively, where the app's runtime moves the client's futures between threads;
/// nothing in a browser, whose storage and agent live on its one thread.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// One thing a front end keeps between runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The Ed25519 identity (PEM, as dfx keeps it).
    Identity,
    /// The settings (`Settings`, JSON).
    Settings,
    /// The passphrase-hashing parameters this device last unlocked a vault with (`pin`).
    KdfPin(Principal),
    /// The unlocked master keys of an identity for a vault (`session`): a secret.
    Session {
        /// The vault canister.
        canister: Principal,
        /// The identity.
        identity: Principal,
    },
    /// A vault canister's purchase on the cycles ledger, written before it is paid
    /// (`cycles`): what makes a second attempt resume it, not pay again.
    Purchase {
        /// The network's name (`Network::name`).
        network: String,
        /// The identity that pays.
        identity: Principal,
    },
    /// A top-up paid in ICP (`icp`), written before it is paid and with the ledger's block once
    /// paid: what makes a second attempt finish it, not pay again.
    IcpTopUp {
        /// The network's name (`Network::name`).
        network: String,
        /// The identity that pays.
        identity: Principal,
    },
    /// A top-up from the cycles ledger (`cycles`), written before it is paid: what makes a
    /// second attempt, after a lost answer, send the same withdrawal (which the ledger
    /// deduplicates), not pay again.
    CyclesTopUp {
        /// The network's name (`Network::name`).
        network: String,
        /// The identity that pays.
        identity: Principal,
    },
    /// A resumable upload's journal: ids, wrapped keys and sealed blobs, no plaintext key.
    UploadJournal {
        /// The canister it goes to.
        canister: Principal,
        /// The first 16 bytes of the file's dedupe hash.
        file: [u8; 16],
    },
}

/// Twelve hex digits naming a network and an identity in a file name.
fn network_identity_hash(network: &str, identity: &Principal) -> String {
    let mut h = sha2::Sha256::new();
    h.update(network.as_bytes());
    h.update([0]);
    h.update(identity.as_slice());
    hex::encode(&h.finalize()[..6])
}

impl Item {
    /// A name for the item, unique among items, made of `[a-z0-9.-]`: the file name natively
    /// (kept as it was before this seam), the storage key in a browser.
    pub fn name(&self) -> String {
        match self {
            Item::Identity => "identity.pem".into(),
            Item::Settings => "config.json".into(),
            Item::KdfPin(canister) => format!("kdf-{canister}"),
            Item::Session { canister, identity } => {
                let who = sha2::Sha256::digest(identity.as_slice());
                format!("session-{canister}-{}", hex::encode(&who[..6]))
            }
            Item::UploadJournal { canister, file } => {
                format!("{canister}-{}.json", hex::encode(file))
            }
            Item::Purchase { network, identity } => {
                format!("purchase-{}.json", network_identity_hash(network, identity))
            }
            Item::CyclesTopUp { network, identity } => {
                format!(
                    "cycles-top-up-{}.json",
                    network_identity_hash(network, identity)
                )
            }
            Item::IcpTopUp { network, identity } => {
                format!(
                    "icp-top-up-{}.json",
                    network_identity_hash(network, identity)
                )
            }
        }
    }

    /// Whether the item is a key that opens the vault (overwritten before it is forgotten).
    pub fn is_secret(&self) -> bool {
        matches!(self, Item::Session { .. })
    }
}

/// Where a front end keeps its [`Item`]s. Each is read and replaced whole.
pub trait Store: MaybeSync {
    /// The item's bytes, or none if it is not kept.
    fn load(&self, item: &Item) -> Result<Option<Zeroizing<Vec<u8>>>, Error>;
    /// Keeps `bytes` as the item, replacing what was there at once (never half written).
    fn save(&self, item: &Item, bytes: &[u8]) -> Result<(), Error>;
    /// Forgets the item (a secret is overwritten first where the medium allows); returns
    /// whether it was kept.
    fn remove(&self, item: &Item) -> Result<bool, Error>;
    /// Where the item is, for messages that tell the user what to fix or delete (a path
    /// natively).
    fn describe(&self, item: &Item) -> String {
        item.name()
    }
}

/// How the client holds its store.
pub type StoreRef = std::sync::Arc<dyn Store>;

impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn load(&self, item: &Item) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        (**self).load(item)
    }
    fn save(&self, item: &Item, bytes: &[u8]) -> Result<(), Error> {
        (**self).save(item, bytes)
    }
    fn remove(&self, item: &Item) -> Result<bool, Error> {
        (**self).remove(item)
    }
    fn describe(&self, item: &Item) -> String {
        (**self).describe(item)
    }
}

/// A [`Store`] in memory: for tests, and for a front end that keeps nothing between runs.
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<String, Zeroizing<Vec<u8>>>>,
}

impl Store for MemoryStore {
    fn load(&self, item: &Item) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        Ok(self.items().get(&item.name()).cloned())
    }

    fn save(&self, item: &Item, bytes: &[u8]) -> Result<(), Error> {
        self.items()
            .insert(item.name(), Zeroizing::new(bytes.to_vec()));
        Ok(())
    }

    fn remove(&self, item: &Item) -> Result<bool, Error> {
        Ok(self.items().remove(&item.name()).is_some())
    }
}

impl MemoryStore {
    fn items(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Zeroizing<Vec<u8>>>> {
        // A panic while the map was held leaves it whole (every change is one insert/remove).
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A [`Store`] in a browser: the page's `localStorage` for what is kept between visits
/// (settings, passphrase parameters, upload journals), memory for the secrets
/// ([`Item::is_secret`]: an unlocked vault's keys), which are gone when the page is. A key to
/// sign with is never kept here either ([`Item::Identity`] stays in memory): a browser's device
/// key is a non-extractable WebCrypto key (`vault-web`), which no script can read.
#[cfg(target_arch = "wasm32")]
pub struct BrowserStore {
    storage: web_sys::Storage,
    secrets: MemoryStore,
}

#[cfg(target_arch = "wasm32")]
impl BrowserStore {
    /// The page's store, or why the browser gives none (storage disabled, a sandboxed frame).
    pub fn open() -> Result<BrowserStore, Error> {
        let storage = web_sys::window()
            .and_then(|window| window.local_storage().ok().flatten())
            .ok_or_else(|| {
                Error::Invalid(
                    "this browser keeps no storage for the page: allow site data for it (a \
                     private window or blocked cookies refuse it)"
                        .into(),
                )
            })?;
        Ok(BrowserStore {
            storage,
            secrets: MemoryStore::default(),
        })
    }

    fn key(item: &Item) -> String {
        format!("vault.{}", item.name())
    }

    /// Whether `item` is kept in memory only.
    fn in_memory(item: &Item) -> bool {
        item.is_secret() || matches!(item, Item::Identity)
    }

    fn refused(what: &str, item: &Item) -> Error {
        Error::Invalid(format!(
            "the browser refused to {what} {} (its storage for this site may be full: free \
             some, or allow more)",
            item.name()
        ))
    }
}

#[cfg(target_arch = "wasm32")]
impl Store for BrowserStore {
    fn load(&self, item: &Item) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        if Self::in_memory(item) {
            return self.secrets.load(item);
        }
        let Some(text) = self
            .storage
            .get_item(&Self::key(item))
            .map_err(|_| Self::refused("read", item))?
        else {
            return Ok(None);
        };
        data_encoding::BASE64
            .decode(text.as_bytes())
            .map(|bytes| Some(Zeroizing::new(bytes)))
            .map_err(|_| {
                Error::Integrity(format!(
                    "the browser's copy of {} is damaged: clear this site's data to start over",
                    item.name()
                ))
            })
    }

    fn save(&self, item: &Item, bytes: &[u8]) -> Result<(), Error> {
        if Self::in_memory(item) {
            return self.secrets.save(item, bytes);
        }
        self.storage
            .set_item(&Self::key(item), &data_encoding::BASE64.encode(bytes))
            .map_err(|_| Self::refused("keep", item))
    }

    fn remove(&self, item: &Item) -> Result<bool, Error> {
        if Self::in_memory(item) {
            return self.secrets.remove(item);
        }
        let key = Self::key(item);
        let kept = self
            .storage
            .get_item(&key)
            .map_err(|_| Self::refused("read", item))?
            .is_some();
        self.storage
            .remove_item(&key)
            .map_err(|_| Self::refused("forget", item))?;
        Ok(kept)
    }

    fn describe(&self, item: &Item) -> String {
        format!("this site's storage ({})", Self::key(item))
    }
}

/// A boxed future a platform's object answers with: `Send` natively (the runtime moves work
/// between threads), not in a browser (its objects live on the page's one thread).
#[cfg(not(target_arch = "wasm32"))]
pub type Pending<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
/// A boxed future a platform's object answers with (a browser's: on the page's one thread).
#[cfg(target_arch = "wasm32")]
pub type Pending<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// Runs CPU-bound `f` off the event loop: on tokio's blocking pool natively.
#[cfg(not(target_arch = "wasm32"))]
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Runs CPU-bound `f`: inline in a browser (its one thread).
#[cfg(target_arch = "wasm32")]
pub async fn blocking<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// Derives the key of `passphrase` under `params`: Argon2id, the one step that takes a second
/// or more and 64–256 MiB. Natively on the blocking pool; in a browser by the deriver the app
/// set ([`set_kdf`]: a Web Worker, so the page stays responsive and its own memory, which a
/// wasm page never gives back, never holds Argon2id's), else inline.
pub async fn derive_kek(
    params: vault_crypto::UnlockParams,
    passphrase: &str,
) -> vault_crypto::PassphraseKek {
    let passphrase = Zeroizing::new(passphrase.to_string());
    #[cfg(target_arch = "wasm32")]
    if let Some(kdf) = KDF.with(|k| k.borrow().clone()) {
        match kdf(params, passphrase.clone()).await {
            Ok(kek) => return kek,
            // A worker that could not start: the page derives it itself.
            Err(why) => web_sys::console::warn_1(&format!("Argon2id in this page: {why}").into()),
        }
    }
    blocking(move || params.derive(&passphrase)).await
}

/// What derives a passphrase's key for [`derive_kek`] in a browser.
#[cfg(target_arch = "wasm32")]
pub type Kdf = std::rc::Rc<
    dyn Fn(
        vault_crypto::UnlockParams,
        Zeroizing<String>,
    ) -> Pending<'static, Result<vault_crypto::PassphraseKek, String>>,
>;

#[cfg(target_arch = "wasm32")]
thread_local! {
    static KDF: std::cell::RefCell<Option<Kdf>> = const { std::cell::RefCell::new(None) };
}

/// Has [`derive_kek`] derive keys with `kdf` (the web app's Web Worker).
#[cfg(target_arch = "wasm32")]
pub fn set_kdf(kdf: Kdf) {
    KDF.with(|k| *k.borrow_mut() = Some(kdf));
}

/// Runs `work` alongside its caller — natively on the runtime's other threads, so that many
/// chunks are signed and sent at once; in a browser as part of the caller's future — and
/// yields its output. Dropping the returned future stops the work.
#[cfg(not(target_arch = "wasm32"))]
pub fn concurrently<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> impl std::future::Future<Output = T> {
    /// Aborts the task when dropped (a no-op once it has finished).
    struct Task<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for Task<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let task = Task(tokio::spawn(work));
    async move {
        let mut task = task;
        match (&mut task.0).await {
            Ok(value) => value,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down, and this future with it.
            Err(_) => std::future::pending().await,
        }
    }
}

/// Runs `work` as part of the caller's future (a browser has one thread).
#[cfg(target_arch = "wasm32")]
pub fn concurrently<T>(
    work: impl std::future::Future<Output = T>,
) -> impl std::future::Future<Output = T> {
    work
}

/// Seals one stream's chunks: with the platform's own AES-256-GCM where it has one (a
/// browser's WebCrypto: native code, off the page's thread, where wasm's cipher runs at
/// ~65 MiB/s on it), else with vault-crypto's (natively on the blocking pool). Either makes the
/// same bytes (`StreamCipher::derive_key`).
pub struct ChunkSealer {
    cipher: std::sync::Arc<vault_crypto::StreamCipher>,
    #[cfg(target_arch = "wasm32")]
    web: Option<web_crypto::Sealer>,
}

impl ChunkSealer {
    /// The sealer of `file_key`'s stream of `kind` that starts with `header`.
    pub async fn new(
        file_key: &vault_crypto::FileKey,
        kind: vault_crypto::StreamKind,
        header: &vault_crypto::StreamHeader,
    ) -> ChunkSealer {
        ChunkSealer {
            cipher: std::sync::Arc::new(vault_crypto::StreamCipher::new(file_key, kind, header)),
            #[cfg(target_arch = "wasm32")]
            web: web_crypto::Sealer::new(&vault_crypto::StreamCipher::derive_key(
                file_key, kind, header,
            ))
            .await,
        }
    }

    /// Chunk `index` of the stream, sealed (its ciphertext and tag).
    pub async fn seal(
        &self,
        index: u64,
        last: bool,
        chunk: Vec<u8>,
    ) -> Result<Vec<u8>, vault_crypto::EncryptError> {
        vault_crypto::StreamCipher::check_chunk(index, last, chunk.len())?;
        #[cfg(target_arch = "wasm32")]
        if let Some(web) = &self.web
            && let Ok(sealed) = web
                .seal(&vault_crypto::chunk_nonce(index, last), &chunk)
                .await
        {
            return Ok(sealed);
        }
        let cipher = self.cipher.clone();
        blocking(move || {
            let mut chunk = chunk;
            chunk.reserve_exact(vault_crypto::TAG_SIZE);
            cipher
                .encrypt_chunk(index, last, &mut chunk)
                .map(|()| chunk)
        })
        .await
    }
}

/// AES-256-GCM by the browser's WebCrypto, where the page (or worker) has it.
#[cfg(target_arch = "wasm32")]
mod web_crypto {
    use js_sys::{Array, Object, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

    pub struct Sealer {
        subtle: SubtleCrypto,
        /// Not extractable: no script can read it back.
        key: CryptoKey,
    }

    impl Sealer {
        /// `key` imported for encryption only; `None` where WebCrypto is missing or refuses.
        pub async fn new(key: &[u8; 32]) -> Option<Sealer> {
            let crypto: web_sys::Crypto = Reflect::get(&js_sys::global(), &"crypto".into())
                .ok()?
                .dyn_into()
                .ok()?;
            let subtle = crypto.subtle();
            let algorithm = Object::new();
            Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into()).ok()?;
            let bytes = Uint8Array::from(&key[..]);
            let importing = subtle.import_key_with_object(
                "raw",
                &bytes,
                &algorithm,
                false,
                &Array::of1(&"encrypt".into()),
            );
            // The key's copy in JS memory, wiped once WebCrypto has taken its own.
            bytes.fill(0, 0, 32);
            let key = JsFuture::from(importing.ok()?)
                .await
                .ok()?
                .dyn_into()
                .ok()?;
            Some(Sealer { subtle, key })
        }

        /// `chunk` sealed under `nonce` with no associated data: ciphertext and 16-byte tag.
        pub async fn seal(&self, nonce: &[u8; 12], chunk: &[u8]) -> Result<Vec<u8>, JsValue> {
            let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(&nonce[..]));
            params.set_tag_length(128);
            let sealing = self
                .subtle
                .encrypt_with_object_and_u8_array(&params, &self.key, chunk)?;
            let sealed = JsFuture::from(sealing).await?;
            Ok(Uint8Array::new(&sealed).to_vec())
        }
    }
}

/// Waits `duration` (before trying a call again).
pub async fn sleep(duration: std::time::Duration) {
    #[cfg(not(target_arch = "wasm32"))]
    tokio::time::sleep(duration).await;
    #[cfg(target_arch = "wasm32")]
    gloo_timers::future::sleep(duration).await;
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_names_are_distinct_and_plain() {
        let a = Principal::from_slice(&[1; 10]);
        let b = Principal::from_slice(&[2; 29]);
        let items = [
            Item::Identity,
            Item::Settings,
            Item::KdfPin(a),
            Item::KdfPin(b),
            Item::Session {
                canister: a,
                identity: b,
            },
            Item::Session {
                canister: a,
                identity: a,
            },
            Item::UploadJournal {
                canister: a,
                file: [3; 16],
            },
        ];
        let names: std::collections::BTreeSet<_> = items.iter().map(Item::name).collect();
        assert_eq!(names.len(), items.len());
        for name in &names {
            assert!(
                name.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b".-".contains(&c)),
                "{name}"
            );
        }
    }

    #[test]
    fn a_memory_store_keeps_and_forgets() {
        let store = MemoryStore::default();
        assert!(store.load(&Item::Settings).unwrap().is_none());
        store.save(&Item::Settings, b"{}").unwrap();
        assert_eq!(
            store.load(&Item::Settings).unwrap().unwrap().as_slice(),
            b"{}"
        );
        assert!(store.remove(&Item::Settings).unwrap());
        assert!(!store.remove(&Item::Settings).unwrap());
    }
}
