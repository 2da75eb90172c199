//! `vault`: your photo vault on the Internet Computer, from the command line.
//!
//! Every command is `main -> run() -> Result<ExitCode>`; errors print as `vault: <what happened
//! and what to do>` with the exit codes of `vault_client::error::exit` (listed in `--help`).
#![forbid(unsafe_code)]

mod args;
mod commands;
mod output;
mod secrets;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    if let args::Command::Replica { command } = &cli.command {
        return commands::replica(command);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vault: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
