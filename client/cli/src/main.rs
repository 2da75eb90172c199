//! `vault`: your photo vault on the Internet Computer, from the command line.
//!
//! Every command is `main -> run()`; errors print as `vault: <what happened and what to do>`
//! (vault-client's words and the CLI's hint) with the exit codes of `exit` (listed in `--help`).
#![forbid(unsafe_code)]

mod args;
mod commands;
mod exit;
mod output;
mod secrets;
mod view;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    if let args::Command::Replica { args } = &cli.command {
        return vault_client::replica::ReplicaAction::main(args, "vault replica");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    match runtime.block_on(commands::run(&cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vault: {}", exit::message(&e));
            ExitCode::from(exit::code(&e))
        }
    }
}
