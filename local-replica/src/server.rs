//! The IC HTTP interface, so that unmodified IC agents (ic-agent, the JS agent, dfx) and browsers
//! talk to this replica as they talk to the IC.
//!
//! ```text
//! GET  /api/v2/status                          CBOR: root_key, versions, health
//! POST /api/v4/canister/<id>/call              update call; the certified answer, or 202 to poll
//! POST /api/v3/canister/<id>/call              the same (agents before ic-agent 0.40)
//! POST /api/v2/canister/<id>/call              update call; 202, then poll read_state
//! POST /api/v{2,3}/canister/<id>/query         query call; the answer signed by the node key
//! POST /api/v{2,3}/canister/<id>/read_state    certified paths of the state tree
//! POST /api/v{2,3}/subnet/<id>/read_state      the same, for subnet paths
//! *    http://<id>.localhost:<port>/…          the HTTP gateway: the canister's http_request,
//! *    http://127.0.0.1:<port>/…?canisterId=<id>    its answer verified as on the IC
//! *    http://<id>.raw.localhost:<port>/…      the same, not verified (the IC's raw domains)
//! ```
//!
//! A request whose `Host` is not one of the replica's names is refused first (403), whatever it
//! asks for: see [`host`] (DNS rebinding).
//!
//! Requests are authenticated by [`crate::ingress::authenticate`] and answers certified with the
//! keys of [`crate::certify`], kept in the state directory. One thread owns the [`Replica`] and
//! runs messages one at a time, in arrival order ([`executor`]); read_state and the certified
//! state it reads ([`Certified`]) do not wait for it.
#![forbid(unsafe_code)]

mod access;
mod api;
pub mod daemon;
mod executor;
mod gateway;
mod host;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candid::Principal;
use ic_transport_types::RequestId;

use crate::certify::{ReplicaKeys, RequestStatus, StateTree, encode_certificate, to_tagged_cbor};
use crate::ingress::IngressHistory;
use crate::{CallError, Replica, canister_id};
use executor::Executor;

/// The port dfx's local network listens on; agents' local defaults point here.
pub const DEFAULT_PORT: u16 = 4943;

/// How long a synchronous call (`/api/v3`, `/api/v4`) waits for its answer before replying 202
/// and leaving the agent to poll, as the IC's replicas do.
pub const SYNC_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request body taken: the IC's 2 MiB ingress limit plus the envelope around it.
pub const MAX_REQUEST_BYTES: usize = 5 << 20;

/// The file in the state directory holding the replica's keys (readable by its owner only).
pub const KEY_FILE: &str = "replica-keys";

/// How old a data certificate given to a query may be before it is signed again (unless the
/// canister's certified data changed since, which always gets a new one).
const DATA_CERTIFICATE_MAX_AGE_NANOS: u64 = 10 * 1_000_000_000;

/// What the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The replica's state directory: `None` keeps everything in memory (and fresh keys).
    pub state_dir: Option<PathBuf>,
    /// See [`SYNC_CALL_TIMEOUT`].
    pub sync_call_timeout: Duration,
    /// Host names requests may name besides `localhost`, `*.localhost` and IP addresses: others
    /// are refused, against DNS rebinding (see `server/host.rs`).
    pub host_names: Vec<String>,
}

impl Config {
    /// Listening on `127.0.0.1:port`, with the IC's timeouts.
    pub fn local(port: u16, state_dir: Option<PathBuf>) -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            state_dir,
            sync_call_timeout: SYNC_CALL_TIMEOUT,
            host_names: Vec::new(),
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "cannot listen on {addr}: {source} (is another replica running? choose another --port)"
    )]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the replica's key file {path}: {why}")]
    Keys { path: PathBuf, why: String },
    #[error(transparent)]
    Replica(#[from] CallError),
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
}

/// A bound server, not yet serving.
pub struct Server {
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    executor_thread: std::thread::JoinHandle<()>,
}

impl Server {
    /// Opens the replica (replaying its state directory), loads or creates its keys, and binds
    /// the listening socket.
    pub async fn bind(config: Config) -> Result<Server, ServerError> {
        let keys = match &config.state_dir {
            Some(dir) => load_or_create_keys(dir)?,
            None => ReplicaKeys::generate(&mut rand::rng()),
        };
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| ServerError::Listen {
                addr: config.addr,
                source,
            })?;
        let state_dir = config.state_dir.clone();
        let subnet_id = keys.subnet.subnet_id();
        let (executor, executor_thread) = Executor::start(move || {
            let mut replica = match &state_dir {
                Some(dir) => Replica::open(dir, now_ns())?,
                None => Replica::new(now_ns())?,
            };
            // The CMC names this subnet; the cycles ledger creates canisters on it.
            replica.set_subnet_id(subnet_id);
            Ok(replica)
        })?;
        let mut tree = StateTree::new(now_ns());
        tree.set_subnet(
            keys.subnet.public_key(),
            &[(canister_id(0), canister_id(u64::MAX))],
            &[keys.node.public_key()],
        );
        let shared = Arc::new(Shared {
            root_key: keys.subnet.public_key().der(),
            keys,
            certified: Mutex::new(Certified {
                tree,
                history: IngressHistory::new(),
                canisters: BTreeMap::new(),
                data_certificates: HashMap::new(),
            }),
            clock: AtomicU64::new(0),
            executor,
            sync_call_timeout: config.sync_call_timeout,
            host_names: config.host_names,
        });
        let sync = shared.clone();
        shared
            .executor
            .run(move |replica| {
                sync.clock.fetch_max(replica.time(), Ordering::SeqCst);
                sync.sync_all_canisters(replica);
                sync.remember_requests(replica);
            })
            .await
            .map_err(|stopped| ServerError::Replica(CallError::Engine(stopped.to_string())))?;
        Ok(Server {
            listener,
            shared,
            executor_thread,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// `http://127.0.0.1:<port>`: what agents are given.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr())
    }

    /// The DER root key that certificates verify under (`fetch_root_key` gets it too).
    pub fn root_key(&self) -> &[u8] {
        &self.shared.root_key
    }

    /// Serves until `shutdown` completes, then lets the message running finish, writes a
    /// checkpoint (a durable replica) and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let shared = self.shared.clone();
        let app = axum::Router::new().fallback(move |request| api::handle(shared.clone(), request));
        let timers = tokio::spawn(fire_timers(self.shared.clone()));
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        timers.abort();
        let _ = timers.await;
        let checkpoint = self
            .shared
            .executor
            .run(|replica| {
                if replica.state_dir().is_some() {
                    replica.checkpoint()
                } else {
                    Ok(())
                }
            })
            .await;
        drop(self.shared);
        // The executor thread ends once the last handle to it is gone.
        let _ = tokio::task::spawn_blocking(move || self.executor_thread.join()).await;
        served.map_err(ServerError::Serve)?;
        match checkpoint {
            Ok(result) => result.map_err(ServerError::Replica),
            Err(stopped) => Err(ServerError::Replica(CallError::Engine(stopped.to_string()))),
        }
    }
}

/// Lets the replica's clock run, so canister timers fire with no message to carry them.
async fn fire_timers(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = shared.clone();
        let ran = shared
            .executor
            .run(move |replica| s.advance_time(replica))
            .await;
        if ran.is_err() {
            return;
        }
    }
}

/// Reads the key file in `dir`, or creates one (mode 0600, written whole before it is used).
fn load_or_create_keys(dir: &Path) -> Result<ReplicaKeys, ServerError> {
    let path = dir.join(KEY_FILE);
    let fail = |why: String| ServerError::Keys {
        path: path.clone(),
        why,
    };
    // Before reading anything from it: a directory another user owns is refused.
    crate::owner_only::ensure_dir(dir).map_err(|e| fail(e.to_string()))?;
    match std::fs::read(&path) {
        Ok(bytes) => {
            return ReplicaKeys::from_bytes(&zeroize::Zeroizing::new(bytes))
                .map_err(|e| fail(format!("{e}; move it away to start with new keys")));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let keys = ReplicaKeys::generate(&mut rand::rng());
    let partial = dir.join(format!("{KEY_FILE}.partial"));
    let written = crate::owner_only::create_file(&partial).and_then(|mut file| {
        file.write_all(&keys.to_bytes())?;
        file.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&partial, &path))
        .and_then(|()| std::fs::File::open(dir)?.sync_all())
        .map_err(|e| fail(e.to_string()))?;
    Ok(keys)
}

/// Nanoseconds since the epoch, by the wall clock.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// What every request handler shares.
pub(crate) struct Shared {
    keys: ReplicaKeys,
    root_key: Vec<u8>,
    certified: Mutex<Certified>,
    /// The last time handed out, so time never goes backwards.
    clock: AtomicU64,
    executor: Executor,
    sync_call_timeout: Duration,
    host_names: Vec<String>,
}

/// The certified state and what read_state access checks need, kept apart from the replica so
/// that reading it never waits for a message to finish.
pub(crate) struct Certified {
    tree: StateTree,
    history: IngressHistory<Ingress>,
    canisters: BTreeMap<Principal, CanisterAccess>,
    /// Per canister: when its last data certificate was made, and the certificate.
    data_certificates: HashMap<Principal, (u64, Vec<u8>)>,
}

/// What the ingress history remembers of an update call.
#[derive(Clone, Debug)]
pub(crate) struct Ingress {
    sender: Principal,
    /// The effective canister id of the URL it was sent to.
    effective_canister_id: Principal,
    status: RequestStatus,
}

/// Who may read what of a canister's state through read_state.
#[derive(Clone, Debug, Default)]
pub(crate) struct CanisterAccess {
    controllers: Vec<Principal>,
    private_metadata: Vec<String>,
}

impl Shared {
    /// Now, in ns since the epoch: the wall clock, but never earlier than before.
    fn now(&self) -> u64 {
        let wall = now_ns();
        let before = self.clock.fetch_max(wall, Ordering::SeqCst);
        before.max(wall)
    }

    fn certified(&self) -> MutexGuard<'_, Certified> {
        // A handler that panicked holding the lock left the tree whole (every change is one call).
        self.certified.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A certificate of the state tree pruned to `paths` (and `/time`), its time now.
    fn certificate<P: AsRef<[L]>, L: AsRef<[u8]>>(&self, paths: &[P]) -> Vec<u8> {
        let now = self.now();
        let mut certified = self.certified();
        certified.tree.set_time(now);
        let witness = certified.tree.witness(paths);
        drop(certified);
        encode_certificate(&self.keys.subnet.certify(witness))
    }

    /// The certificate a query to `canister` may read through `ic0.data_certificate_copy`:
    /// `/canister/<id>/certified_data` and `/time`, made again when the data changed or it aged.
    fn data_certificate(&self, canister: Principal) -> Vec<u8> {
        let now = self.now();
        if let Some((made, certificate)) = self.certified().data_certificates.get(&canister)
            && now.saturating_sub(*made) < DATA_CERTIFICATE_MAX_AGE_NANOS
        {
            return certificate.clone();
        }
        let path = [[
            b"canister".as_slice(),
            canister.as_slice(),
            b"certified_data",
        ]];
        let certificate = self.certificate(&path);
        self.certified()
            .data_certificates
            .insert(canister, (now, certificate.clone()));
        certificate
    }

    /// Records `status` for a known request in the history and the state tree.
    fn set_status(&self, request_id: &RequestId, status: RequestStatus) {
        let now = self.now();
        let mut certified = self.certified();
        let Some(entry) = certified.history.status(request_id).cloned() else {
            return;
        };
        certified.tree.set_request_status(request_id, &status);
        certified
            .history
            .set_status(request_id, Ingress { status, ..entry }, now);
    }

    /// Takes into the history the ingress messages a durable replica ran before it restarted,
    /// so that they are not run again: their replies were not kept, so their status is `done`
    /// (as on the IC once a reply is pruned).
    fn remember_requests(&self, replica: &Replica) {
        let now = self.now();
        let mut certified = self.certified();
        for seen in replica.seen_requests(now) {
            let Ok(id) = <[u8; 32]>::try_from(seen.request_id.as_slice()) else {
                continue;
            };
            let request_id = RequestId::new(&id);
            let done = Ingress {
                sender: seen.sender,
                effective_canister_id: seen.effective_canister_id,
                status: RequestStatus::Done,
            };
            certified
                .history
                .admit(request_id, seen.ingress_expiry, done, now);
            certified
                .tree
                .set_request_status(&request_id, &RequestStatus::Done);
        }
    }

    /// Forgets a request that was refused before it ran: it may be sent again.
    fn forget(&self, request_id: &RequestId) {
        let mut certified = self.certified();
        certified.tree.remove_request_status(request_id);
        certified.history.forget(request_id);
    }

    /// Puts what the replica says of `id` into the certified state (or removes it, if deleted).
    fn sync_canister(&self, replica: &Replica, id: Principal) {
        let info = replica.certified_state(id);
        let private_metadata = replica.private_metadata_names(id);
        let mut certified = self.certified();
        certified.data_certificates.remove(&id);
        match info {
            Some(info) => {
                certified.tree.set_canister(id, &info);
                certified.canisters.insert(
                    id,
                    CanisterAccess {
                        controllers: info.controllers.clone(),
                        private_metadata,
                    },
                );
            }
            None => {
                certified.tree.remove_canister(id);
                certified.canisters.remove(&id);
            }
        }
    }

    /// [`Self::sync_canister`] for every canister there is or was.
    fn sync_all_canisters(&self, replica: &mut Replica) {
        let mut ids = replica.canister_ids();
        ids.extend(self.certified().canisters.keys().copied());
        ids.sort();
        ids.dedup();
        for id in ids {
            self.sync_canister(replica, id);
        }
    }

    /// Moves the replica's clock to now, firing due timers (whose changes are then certified).
    fn advance_time(&self, replica: &mut Replica) {
        let now = self.now();
        match replica.set_time(now) {
            Ok(fired) => {
                for (id, _) in fired {
                    self.sync_canister(replica, id);
                }
            }
            Err(e) => eprintln!("local-replica: could not advance the clock: {e}"),
        }
        let expired = self.certified().history.evict_expired(now);
        if !expired.is_empty() {
            let mut certified = self.certified();
            for request_id in expired {
                certified.tree.remove_request_status(&request_id);
            }
        }
    }

    /// The status of the CBOR map `/api/v2/status` answers.
    fn status(&self) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Status<'a> {
            ic_api_version: &'static str,
            impl_version: &'static str,
            replica_health_status: &'static str,
            #[serde(with = "serde_bytes")]
            root_key: &'a [u8],
        }
        to_tagged_cbor(&Status {
            ic_api_version: "0.18.0",
            impl_version: concat!("local-replica ", env!("CARGO_PKG_VERSION")),
            replica_health_status: "healthy",
            root_key: &self.root_key,
        })
    }
}

impl Certified {
    fn access(&self, canister: &Principal) -> Option<&CanisterAccess> {
        self.canisters.get(canister)
    }
}
