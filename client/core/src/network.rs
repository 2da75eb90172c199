//! Which replica the vault lives on, and the signed connection to it.
//!
//! `local` (the default) is the embedded local replica on port 4943: when none answers there,
//! the front end's own program is started in the background as the replica (`vault replica
//! start …`), with its state in [`Home::replica_dir`] — no account, no cloud. `local:PORT` picks
//! another port; any `http(s)://` URL names a replica (dfx's, say); `ic` is the Internet Computer.

use std::process::Command;
use std::time::Duration;

use candid::{Encode, Principal};
use ic_agent::Agent;
use local_replica::server::daemon;

use crate::canister::VaultCanister;
use crate::{Error, Home, Identity};

/// The IC's API endpoint.
pub const IC_URL: &str = "https://icp-api.io";
/// The embedded replica's port.
pub const LOCAL_PORT: u16 = local_replica::server::DEFAULT_PORT;
/// How long a starting replica may take to answer.
const REPLICA_START: Duration = Duration::from_secs(120);
/// How long an update may take before the agent gives up.
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

/// Where the vault canister runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// The embedded local replica on this port.
    Local {
        /// Its port.
        port: u16,
    },
    /// A replica at a URL (a dfx replica, or a local replica started by hand).
    Url(String),
    /// The Internet Computer.
    Ic,
}

impl Network {
    /// Parses `local`, `local:PORT`, `ic`, or an `http(s)://` URL.
    pub fn parse(text: &str) -> Result<Network, Error> {
        let text = text.trim();
        match text {
            "local" => Ok(Network::Local { port: LOCAL_PORT }),
            "ic" | "mainnet" => Ok(Network::Ic),
            _ => {
                if let Some(port) = text.strip_prefix("local:") {
                    let port = port.parse().map_err(|_| {
                        Error::Invalid(format!("`{text}`: local:PORT takes a port number"))
                    })?;
                    Ok(Network::Local { port })
                } else if text.starts_with("http://") || text.starts_with("https://") {
                    Ok(Network::Url(text.trim_end_matches('/').to_string()))
                } else {
                    Err(Error::Invalid(format!(
                        "unknown network `{text}`: use local, local:PORT, ic, or a replica's URL"
                    )))
                }
            }
        }
    }

    /// The replica's URL.
    pub fn url(&self) -> String {
        match self {
            Network::Local { port } => format!("http://127.0.0.1:{port}"),
            Network::Url(url) => url.clone(),
            Network::Ic => IC_URL.to_string(),
        }
    }

    /// The name settings file it under.
    pub fn name(&self) -> String {
        match self {
            Network::Local { port } if *port == LOCAL_PORT => "local".into(),
            Network::Local { port } => format!("local:{port}"),
            Network::Url(url) => url.clone(),
            Network::Ic => "ic".into(),
        }
    }

    /// Whether this is the IC itself (no root key to fetch, no provisional canisters).
    pub fn is_ic(&self) -> bool {
        matches!(self, Network::Ic)
    }

    /// The URL a browser opens canister `id`'s pages at (sharing links).
    pub fn gateway_url(&self, id: &Principal) -> String {
        match self {
            Network::Ic => format!("https://{id}.icp0.io"),
            Network::Local { port } => format!("http://{id}.localhost:{port}"),
            Network::Url(url) => {
                // A local replica or dfx: the `<id>.localhost` form of the same port.
                match url
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse::<u16>().ok())
                {
                    Some(port) if url.contains("127.0.0.1") || url.contains("localhost") => {
                        format!("http://{id}.localhost:{port}")
                    }
                    _ => format!("{url}/?canisterId={id}"),
                }
            }
        }
    }
}

/// How the front end starts the embedded replica: its own program with the arguments that make
/// it serve as one (`vault replica`), to which `start --port … --state-dir …` is appended.
pub type ReplicaLauncher = dyn Fn() -> Command + Send + Sync;

/// A signed connection to a network.
#[derive(Clone)]
pub struct Connection {
    /// Where.
    pub network: Network,
    /// Who.
    pub identity: Identity,
    /// The agent every call goes through.
    pub agent: Agent,
}

impl Connection {
    /// Connects as `identity`; for [`Network::Local`], starts the embedded replica if none
    /// answers on its port.
    pub async fn open(
        home: &Home,
        network: Network,
        identity: Identity,
        launcher: &ReplicaLauncher,
    ) -> Result<Connection, Error> {
        Connection::open_with(home, network, identity, Some(launcher)).await
    }

    async fn open_with(
        home: &Home,
        network: Network,
        identity: Identity,
        launcher: Option<&ReplicaLauncher>,
    ) -> Result<Connection, Error> {
        let url = network.url();
        if let (Network::Local { port }, Some(launcher)) = (&network, launcher) {
            let port = *port;
            let answers = {
                let url = url.clone();
                tokio::task::spawn_blocking(move || daemon::answers(&url))
                    .await
                    .expect("the check does not panic")
            };
            if !answers {
                let dir = home.replica_dir();
                let command = launcher();
                tokio::task::spawn_blocking(move || {
                    daemon::start_background_command(command, port, &dir, &[], REPLICA_START)
                })
                .await
                .expect("starting does not panic")
                .map_err(Error::Replica)?;
            }
        }
        let agent = Agent::builder()
            .with_url(url.clone())
            .with_arc_identity(identity.agent_identity())
            .with_max_polling_time(CALL_TIMEOUT)
            .with_max_tcp_error_retries(3)
            .build()
            .map_err(|e| Error::Unreachable {
                url: url.clone(),
                why: e.to_string(),
            })?;
        if !network.is_ic() {
            // A development replica has its own root key (the IC's is built into the agent).
            agent
                .fetch_root_key()
                .await
                .map_err(|e| Error::Unreachable {
                    url: url.clone(),
                    why: e.to_string(),
                })?;
        }
        Ok(Connection {
            network,
            identity,
            agent,
        })
    }

    /// Connects anonymously, as a browser opening a link does, to a replica that must already
    /// run (a link names someone else's vault: starting an empty replica would not find it).
    pub async fn open_anonymous(home: &Home, network: Network) -> Result<Connection, Error> {
        Connection::open_with(home, network, Identity::anonymous(), None).await
    }

    /// The principal calls are signed as.
    pub fn me(&self) -> Principal {
        self.identity.principal()
    }

    /// The vault canister `id` on this connection.
    pub fn vault(&self, id: Principal) -> VaultCanister {
        VaultCanister::new(self.agent.clone(), id, self.network.url())
    }

    /// Creates a canister with this identity as its controller (a provisional create: local
    /// replicas and dfx allow it, the IC does not) and installs the vault with this identity as
    /// its owner.
    pub async fn create_vault(&self) -> Result<VaultCanister, Error> {
        if self.network.is_ic() {
            return Err(Error::Invalid(
                "on the IC, deploy the canister with dfx (dfx.json is in the repository) and run `vault init --canister ID`".into(),
            ));
        }
        let management = ic_utils::interfaces::ManagementCanister::create(&self.agent);
        let (id,) = management
            .create_canister()
            .as_provisional_create_with_amount(None)
            .with_controller(self.me())
            .call_and_wait()
            .await
            .map_err(|e| crate::canister::agent_error(&self.network.url(), e))?;
        self.install_vault(id).await?;
        Ok(self.vault(id))
    }

    /// Installs the vault's wasm into `id` (which this identity controls), owned by this
    /// identity.
    pub async fn install_vault(&self, id: Principal) -> Result<(), Error> {
        let management = ic_utils::interfaces::ManagementCanister::create(&self.agent);
        let arg = vault_interface::types::InitArgs {
            owner: self.me(),
            quota_bytes: None,
        };
        management
            .install(&id, crate::VAULT_WASM_GZ)
            .with_raw_arg(Encode!(&arg).expect("the install argument encodes"))
            .call_and_wait()
            .await
            .map_err(|e| crate::canister::agent_error(&self.network.url(), e))?;
        Ok(())
    }
}

/// The embedded replica's settings.
pub use local_replica::server::Config as ReplicaConfig;

/// Serves the embedded replica in the foreground (what `vault replica start` runs).
pub fn serve_replica(config: ReplicaConfig, dir: &std::path::Path) -> Result<(), String> {
    daemon::serve(config, dir)
}

/// The URL of the embedded replica serving `dir`, if one runs.
pub fn local_running(dir: &std::path::Path) -> Option<String> {
    daemon::running(dir).map(|r| r.url)
}

/// Stops the embedded replica serving `dir`; its URL if one ran.
pub fn stop_local(dir: &std::path::Path) -> Result<Option<String>, String> {
    daemon::stop(dir, Duration::from_secs(120)).map(|r| r.map(|r| r.url))
}

/// What a front end's hidden `replica` subcommand is asked to do (`vault replica …`,
/// `vault-app replica …`): what [`ReplicaLauncher`] starts, and how people stop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaAction {
    /// Serve in the foreground on `port`, with its state in `state_dir` (default
    /// [`Home::replica_dir`]).
    Start {
        /// The port.
        port: u16,
        /// The state directory.
        state_dir: Option<std::path::PathBuf>,
    },
    /// Stop the background replica.
    Stop,
    /// Say whether it runs.
    Status,
}

impl ReplicaAction {
    /// Parses the arguments after `replica`: `start [--port N] [--state-dir DIR]` (also
    /// `--port=N`, `--state-dir=DIR`), `stop`, or `status`. For front ends without an argument
    /// parser of their own.
    pub fn parse(args: &[String]) -> Result<ReplicaAction, String> {
        let usage =
            "usage: replica start [--port N] [--state-dir DIR] | replica stop | replica status";
        let (command, rest) = args.split_first().ok_or_else(|| usage.to_string())?;
        match command.as_str() {
            "start" => {
                let mut port = LOCAL_PORT;
                let mut state_dir = None;
                let mut rest = rest.iter();
                while let Some(arg) = rest.next() {
                    let (name, inline) = match arg.split_once('=') {
                        Some((name, value)) => (name, Some(value.to_string())),
                        None => (arg.as_str(), None),
                    };
                    let mut value = || {
                        inline
                            .clone()
                            .or_else(|| rest.next().cloned())
                            .ok_or_else(|| format!("{name} needs a value; {usage}"))
                    };
                    match name {
                        "--port" => {
                            let text = value()?;
                            port = text
                                .parse()
                                .map_err(|_| format!("`{text}` is not a port number"))?;
                        }
                        "--state-dir" => state_dir = Some(std::path::PathBuf::from(value()?)),
                        other => return Err(format!("unknown argument `{other}`; {usage}")),
                    }
                }
                Ok(ReplicaAction::Start { port, state_dir })
            }
            "stop" | "status" if !rest.is_empty() => {
                Err(format!("`replica {command}` takes no arguments"))
            }
            "stop" => Ok(ReplicaAction::Stop),
            "status" => Ok(ReplicaAction::Status),
            other => Err(format!("unknown replica command `{other}`; {usage}")),
        }
    }

    /// Does it, printing what happened as `vault replica` does, with errors on stderr after
    /// `program: ` (`vault replica`).
    pub fn run(&self, program: &str) -> std::process::ExitCode {
        match self.perform() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{program}: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    }

    fn perform(&self) -> Result<(), String> {
        let home = Home::from_env().map_err(|e| e.to_string())?;
        match self {
            ReplicaAction::Start { port, state_dir } => {
                let dir = state_dir.clone().unwrap_or_else(|| home.replica_dir());
                serve_replica(ReplicaConfig::local(*port, Some(dir.clone())), &dir)
            }
            ReplicaAction::Stop => {
                match stop_local(&home.replica_dir())? {
                    Some(url) => println!("stopped the local replica at {url}"),
                    None => println!("no local replica runs for {}", home.replica_dir().display()),
                }
                Ok(())
            }
            ReplicaAction::Status => match local_running(&home.replica_dir()) {
                Some(url) => {
                    println!("running at {url}");
                    Ok(())
                }
                None => Err("not running".into()),
            },
        }
    }
}

#[cfg(test)]
mod replica_action_tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_what_the_launcher_appends() {
        assert_eq!(
            ReplicaAction::parse(&args("start --port 4950 --state-dir /tmp/r")),
            Ok(ReplicaAction::Start {
                port: 4950,
                state_dir: Some("/tmp/r".into())
            })
        );
        assert_eq!(
            ReplicaAction::parse(&args("start --port=4951")),
            Ok(ReplicaAction::Start {
                port: 4951,
                state_dir: None
            })
        );
        assert_eq!(
            ReplicaAction::parse(&args("start")),
            Ok(ReplicaAction::Start {
                port: LOCAL_PORT,
                state_dir: None
            })
        );
        assert_eq!(ReplicaAction::parse(&args("stop")), Ok(ReplicaAction::Stop));
        assert_eq!(
            ReplicaAction::parse(&args("status")),
            Ok(ReplicaAction::Status)
        );
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert!(ReplicaAction::parse(&[]).is_err());
        assert!(ReplicaAction::parse(&args("serve")).is_err());
        assert!(ReplicaAction::parse(&args("start --port")).is_err());
        assert!(ReplicaAction::parse(&args("start --port x")).is_err());
        assert!(ReplicaAction::parse(&args("start --verbose")).is_err());
        assert!(ReplicaAction::parse(&args("stop now")).is_err());
    }
}
