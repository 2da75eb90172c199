//! `local-replica`: a single-node Internet Computer replica on this machine.
//!
//! ```text
//! local-replica script --state-dir DIR [--checkpoint-after BYTES]
//! ```
//!
//! `script` runs the replica kept in DIR and takes one command a line on standard input,
//! answering each with one line on standard output — `ok …` or `err <why>` — once what it did
//! is durable. Principals are in text form, bytes in hex.
//!
//! ```text
//! create <controller>...                                  ok <canister>
//! install <sender> <canister> install|reinstall|upgrade <wasm file> <arg>   ok <instructions>
//! update <sender> <canister> <method> <arg>               ok <reply>
//! query <sender> <canister> <method> <arg>                ok <reply>
//! time <nanoseconds since the epoch>                      ok <timers fired>
//! checkpoint                                              ok
//! ```
#![forbid(unsafe_code)]

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use candid::Principal;
use local_replica::{InstallMode, Replica};

const USAGE: &str = "usage: local-replica script --state-dir DIR [--checkpoint-after BYTES]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("local-replica: {why}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(USAGE.into());
    };
    if command != "script" {
        return Err(format!("unknown command `{command}`\n{USAGE}"));
    }
    let mut state_dir = None;
    let mut checkpoint_after = None;
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--state-dir" => state_dir = Some(PathBuf::from(value)),
            "--checkpoint-after" => {
                checkpoint_after = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| format!("--checkpoint-after takes bytes, not `{value}`"))?,
                )
            }
            _ => return Err(format!("unknown option `{flag}`\n{USAGE}")),
        }
    }
    let dir = state_dir.ok_or_else(|| format!("--state-dir is required\n{USAGE}"))?;
    let mut replica = Replica::open(&dir, now()).map_err(|e| e.to_string())?;
    if let Some(bytes) = checkpoint_after {
        replica.set_checkpoint_after(bytes);
    }
    let stdin = io::stdin();
    let mut out = io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match command_line(&mut replica, &line) {
            Ok(ok) => format!("ok {ok}"),
            Err(why) => format!("err {}", why.replace('\n', " ")),
        };
        writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn command_line(r: &mut Replica, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let principal =
        |s: &str| Principal::from_text(s).map_err(|e| format!("`{s}` is not a principal: {e}"));
    let e = |e: local_replica::CallError| e.to_string();
    match words.as_slice() {
        ["create", controllers @ ..] => {
            let controllers = controllers
                .iter()
                .map(|c| principal(c))
                .collect::<Result<_, _>>()?;
            Ok(r.create_canister(controllers).map_err(e)?.to_text())
        }
        ["install", sender, canister, mode, wasm, arg] => {
            let mode = match *mode {
                "install" => InstallMode::Install,
                "reinstall" => InstallMode::Reinstall,
                "upgrade" => InstallMode::Upgrade,
                other => return Err(format!("unknown install mode `{other}`")),
            };
            let wasm = std::fs::read(wasm).map_err(|err| format!("cannot read {wasm}: {err}"))?;
            let used = r
                .install_code(
                    principal(sender)?,
                    principal(canister)?,
                    mode,
                    &wasm,
                    &unhex(arg)?,
                )
                .map_err(e)?;
            Ok(used.to_string())
        }
        [kind @ ("update" | "query"), sender, canister, method, arg] => {
            let (sender, canister, arg) = (principal(sender)?, principal(canister)?, unhex(arg)?);
            let reply = if *kind == "update" {
                r.update_call(sender, canister, method, &arg)
            } else {
                r.query_call(sender, canister, method, &arg)
            };
            Ok(hex(&reply.map_err(e)?.bytes))
        }
        ["time", ns] => {
            let ns = ns.parse().map_err(|_| format!("`{ns}` is not a time"))?;
            Ok(r.set_time(ns).map_err(e)?.len().to_string())
        }
        ["checkpoint"] => r.checkpoint().map(|()| String::new()).map_err(e),
        _ => Err(format!("not a command: {line}")),
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn hex(bytes: &[u8]) -> String {
    local_replica::durable::hex(bytes)
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    local_replica::durable::unhex(s).ok_or_else(|| format!("`{s}` is not hex"))
}
