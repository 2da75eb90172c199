//! The embedded local replica, natively: started in the background as the front end's own
//! program (`vault replica start …`) when none answers on the local port, with its state in
//! [`Home::replica_dir`]; stopped and asked about by `replica stop | status`.

use std::process::Command;
use std::time::Duration;

use local_replica::server::daemon;

use crate::network::{Connection, LOCAL_PORT, Network};
use crate::{Error, Home, Identity};

/// How long a starting replica may take to answer.
const REPLICA_START: Duration = Duration::from_secs(120);

/// How the front end starts the embedded replica: its own program with the arguments that make
/// it serve as one (`vault replica`), to which `start --port … --state-dir …` is appended.
pub type ReplicaLauncher = dyn Fn() -> Command + Send + Sync;

/// The launcher of a front end whose own program serves as the replica (`<program> replica
/// start …`): the running executable, else `fallback` from the `PATH`.
pub fn this_program(fallback: &'static str) -> Box<ReplicaLauncher> {
    Box::new(move || {
        let program = std::env::current_exe().unwrap_or_else(|_| fallback.into());
        let mut command = Command::new(program);
        command.arg("replica");
        command
    })
}

/// Connects as `identity`; for [`Network::Local`], starts the embedded replica first if none
/// answers on its port (its state in `home`'s [`Home::replica_dir`]).
pub async fn open(
    home: &Home,
    network: Network,
    identity: Identity,
    launcher: &ReplicaLauncher,
) -> Result<Connection, Error> {
    if let Network::Local { port } = &network {
        let port = *port;
        let url = network.url();
        if !crate::platform::blocking(move || daemon::answers(&url)).await {
            let dir = home.replica_dir();
            let command = launcher();
            crate::platform::blocking(move || {
                daemon::start_background_command(command, port, &dir, &[], REPLICA_START)
            })
            .await
            .map_err(Error::Replica)?;
        }
    }
    Connection::open(network, identity).await
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

    /// `program replica ARGS…` (`program` is `vault replica` or `vault-app replica`), the one
    /// way either front end takes the command: parses `args`, then [runs](ReplicaAction::run)
    /// it; a usage error is said on stderr and exits 2, as a command line's does.
    pub fn main(args: &[String], program: &str) -> std::process::ExitCode {
        match ReplicaAction::parse(args) {
            Ok(action) => action.run(program),
            Err(e) => {
                eprintln!("{program}: {e}");
                std::process::ExitCode::from(2)
            }
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
        // The user's directories only when no state directory is named.
        let default_dir = || {
            Home::from_env()
                .map(|home| home.replica_dir())
                .map_err(|e| e.to_string())
        };
        match self {
            ReplicaAction::Start { port, state_dir } => {
                let dir = match state_dir {
                    Some(dir) => dir.clone(),
                    None => default_dir()?,
                };
                serve_replica(ReplicaConfig::local(*port, Some(dir.clone())), &dir)
            }
            ReplicaAction::Stop => {
                let dir = default_dir()?;
                match stop_local(&dir)? {
                    Some(url) => println!("stopped the local replica at {url}"),
                    None => println!("no local replica runs for {}", dir.display()),
                }
                Ok(())
            }
            ReplicaAction::Status => match local_running(&default_dir()?) {
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

#[cfg(test)]
mod port_tests {
    #[test]
    fn the_local_port_is_the_replicas() {
        assert_eq!(super::LOCAL_PORT, local_replica::server::DEFAULT_PORT);
    }
}
