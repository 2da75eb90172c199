//! Which replica the vault lives on, and the signed connection to it.
//!
//! `local` (the default) is the embedded local replica on port 4943 (natively, `replica::open`
//! starts it when none answers: no account, no cloud). `local:PORT` picks another port; any
//! `http(s)://` URL names a replica (dfx's, say); `ic` is the Internet Computer.

use std::time::Duration;

use candid::Principal;
use ic_agent::Agent;

use crate::canister::VaultCanister;
use crate::{Error, Identity};

/// The IC's API endpoint.
pub const IC_URL: &str = "https://icp-api.io";
/// The embedded replica's port (the local replica's default, as dfx's).
pub const LOCAL_PORT: u16 = 4943;
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

    /// The network a page served from `origin` (`scheme://host[:port]`) reaches: a local
    /// replica at the page's own origin when the host is this machine (`localhost`,
    /// `*.localhost`, `127.0.0.1`, `[::1]`), else the Internet Computer — whose root key is built
    /// into the agent, so no other host (a gateway, a custom domain, a look-alike) is ever asked
    /// for the key that certifies answers.
    pub fn of_page(origin: &str) -> Network {
        let origin = origin.trim_end_matches('/');
        let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split([':', '/']).next().unwrap_or_default(),
        }
        .to_ascii_lowercase();
        let this_machine = host == "localhost"
            || host.ends_with(".localhost")
            || host == "127.0.0.1"
            || host == "::1";
        if this_machine {
            Network::Url(origin.to_string())
        } else {
            Network::Ic
        }
    }

    /// The canister serving a page at `origin`, named by the host's first label
    /// (`<canister>.icp0.io`, `<canister>.localhost:4943`); none when it names none.
    pub fn canister_of_page(origin: &str) -> Option<Principal> {
        let host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        let (label, _) = host.split_once('.')?;
        Principal::from_text(label).ok()
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

    /// The URL of the web app vault `id` serves: what a phone, or any browser, opens.
    pub fn app_url(&self, id: &Principal) -> String {
        let gateway = self.gateway_url(id);
        match gateway.split_once("/?") {
            Some((origin, query)) => format!("{origin}/app/?{query}"),
            None => format!("{gateway}/app/"),
        }
    }
}

/// A signed connection to a network.
#[derive(Clone)]
pub struct Connection {
    /// Where.
    pub network: Network,
    /// Who.
    pub identity: Identity,
    /// The agent every call goes through.
    pub agent: Agent,
    /// The agent's HTTP client, for the calls sent without it (`VaultCanister::put_chunk`).
    http: reqwest::Client,
}

impl Connection {
    /// Connects as `identity` to the replica `network` names, which must answer (natively,
    /// `replica::open` starts the embedded one first).
    pub async fn open(network: Network, identity: Identity) -> Result<Connection, Error> {
        let url = network.url();
        // ic-agent's own default client, kept for the calls sent without the agent: one pool
        // of connections for both.
        #[cfg(not(target_arch = "wasm32"))]
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .timeout(std::time::Duration::from_secs(360))
            .build()
            .map_err(|e| Error::Unreachable {
                url: url.clone(),
                why: e.to_string(),
            })?;
        #[cfg(target_arch = "wasm32")]
        let http = reqwest::Client::new();
        let agent = Agent::builder()
            .with_url(url.clone())
            .with_http_client(http.clone())
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
            http,
        })
    }

    /// Connects anonymously, as a browser opening a link does.
    pub async fn open_anonymous(network: Network) -> Result<Connection, Error> {
        Connection::open(network, Identity::anonymous()).await
    }

    /// The principal calls are signed as.
    pub fn me(&self) -> Principal {
        self.identity.principal()
    }

    /// The vault canister `id` on this connection.
    pub fn vault(&self, id: Principal) -> VaultCanister {
        VaultCanister::new(
            self.agent.clone(),
            id,
            self.network.url(),
            self.identity.clone(),
            self.http.clone(),
        )
    }

    /// A new vault canister, bought on the cycles ledger with this identity as its only
    /// controller (`cycles`: an unfinished earlier purchase is resumed, never paid again), with
    /// the vault installed, owned by this identity. A replica without the cycles ledger (dfx's,
    /// or a local state made before the replica hosted one) creates it provisionally instead.
    pub async fn create_vault(
        &self,
        store: &dyn crate::platform::Store,
    ) -> Result<VaultCanister, Error> {
        let id = match self.buy_canister(store).await {
            Ok(id) => id,
            Err(Error::Rejected { code, .. }) if code == "IC0301" && !self.network.is_ic() => {
                let management = ic_utils::interfaces::ManagementCanister::create(&self.agent);
                let (id,) = management
                    .create_canister()
                    .as_provisional_create_with_amount(None)
                    .with_controller(self.me())
                    .call_and_wait()
                    .await
                    .map_err(|e| crate::canister::agent_error(&self.network.url(), e))?;
                id
            }
            Err(e) => return Err(e),
        };
        self.ensure_installed(id).await?;
        // The purchase is forgotten once the vault is set up (`Vault::init`): until then a
        // second attempt resumes with this canister.
        Ok(self.vault(id))
    }

    /// Installs the vault into `id` unless it has code already, as the certified state says
    /// (an answer one node could fake would make the client skip the install, or install over
    /// a vault).
    pub async fn ensure_installed(&self, id: Principal) -> Result<(), Error> {
        match self.module_hash(id).await? {
            None => self.install_vault(id).await,
            Some(_) => Ok(()),
        }
    }

    /// Installs the vault's wasm into `id` (which this identity controls), owned by this
    /// identity.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn install_vault(&self, id: Principal) -> Result<(), Error> {
        use candid::Encode;
        let management = ic_utils::interfaces::ManagementCanister::create(&self.agent);
        let arg = vault_interface::types::InitArgs {
            owner: Some(self.me()),
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

    /// A browser installs no vault: its page is served by one already.
    #[cfg(target_arch = "wasm32")]
    pub async fn install_vault(&self, id: Principal) -> Result<(), Error> {
        Err(Error::Invalid(format!(
            "a browser does not install vaults: install {id} from the desktop app or the \
             command line, then open its page"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reaches_the_network_that_serves_it() {
        for origin in [
            "https://rrkah-fqaaa-aaaaa-aaaaq-cai.icp0.io",
            "https://rrkah-fqaaa-aaaaa-aaaaq-cai.ICP0.io/",
            "https://rrkah-fqaaa-aaaaa-aaaaq-cai.ic0.app",
        ] {
            assert_eq!(Network::of_page(origin), Network::Ic, "{origin}");
        }
        for local in [
            "http://rrkah-fqaaa-aaaaa-aaaaq-cai.localhost:4943",
            "http://127.0.0.1:4943",
            "http://[::1]:4943",
        ] {
            assert_eq!(
                Network::of_page(local),
                Network::Url(local.into()),
                "{local}"
            );
        }
        // Any other host (a custom domain, a look-alike) is never asked for a root key: the
        // page talks to the IC under the key built into the agent.
        for elsewhere in [
            "https://icp0.io.example.com",
            "https://photos.example.com",
            "http://localhost.example.com",
        ] {
            assert_eq!(Network::of_page(elsewhere), Network::Ic, "{elsewhere}");
        }
    }

    #[test]
    fn a_page_names_the_canister_serving_it() {
        let id = Principal::from_text("rrkah-fqaaa-aaaaa-aaaaq-cai").unwrap();
        for origin in [
            "https://rrkah-fqaaa-aaaaa-aaaaq-cai.icp0.io",
            "http://rrkah-fqaaa-aaaaa-aaaaq-cai.localhost:4943",
        ] {
            assert_eq!(Network::canister_of_page(origin), Some(id), "{origin}");
        }
        for origin in [
            "http://localhost:4943",
            "https://icp0.io",
            "https://www.example.com",
        ] {
            assert_eq!(Network::canister_of_page(origin), None, "{origin}");
        }
    }
}
