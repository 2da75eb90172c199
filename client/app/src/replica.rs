//! `vault-app replica …`: the embedded local replica, served as `vault replica …` serves it
//! (the code is `vault-client`'s, shared with the command line). The app starts its own
//! program this way when the local network's replica does not answer.

use std::process::ExitCode;

use vault_client::replica::ReplicaAction;

/// Serves or controls the replica. `args` are the arguments after `replica`: `start [--port N]
/// [--state-dir DIR]`, `stop` or `status`.
pub fn main(args: &[String]) -> ExitCode {
    match ReplicaAction::parse(args) {
        Ok(action) => action.run("vault-app replica"),
        Err(e) => {
            eprintln!("vault-app replica: {e}");
            // What a command line's usage error exits with (as `vault replica` does).
            ExitCode::from(2)
        }
    }
}
