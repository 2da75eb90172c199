//! `local-replica`: a single-node Internet Computer replica on this machine.
//!
//! ```text
//! local-replica start [--port 4943] [--state-dir DIR] [--background] [--host-name NAME,...]
//! local-replica status [--state-dir DIR]
//! local-replica stop [--state-dir DIR]
//! local-replica script --state-dir DIR [--checkpoint-after BYTES]
//! ```
//!
//! `start` serves the IC HTTP interface (see `local_replica::server`) until stopped (Ctrl-C,
//! SIGTERM or `stop`), printing its URL and root key; `--background` starts it detached and
//! returns once it answers. The state directory defaults to `~/.local/share/vault/replica`.
//! Requests must name the replica by `localhost`, `*.localhost` or an IP address in their
//! `Host`, or by a name given with `--host-name` (against DNS rebinding).
//! `status` exits 0 and prints the URL if a replica serves the directory, 3 if none does.
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

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use candid::Principal;
use local_replica::server::{Config, DEFAULT_PORT, daemon};
use local_replica::{InstallMode, Replica};

const USAGE: &str = "usage:
  local-replica start [--port PORT] [--state-dir DIR] [--background] [--sync-call-timeout-ms MS]
                      [--host-name NAME,...]
  local-replica status [--state-dir DIR]
  local-replica stop [--state-dir DIR]
  local-replica script --state-dir DIR [--checkpoint-after BYTES]";

/// Exit status of `status` when no replica serves the directory.
const NOT_RUNNING: u8 = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(why) => {
            eprintln!("local-replica: {why}");
            ExitCode::FAILURE
        }
    }
}

/// `--flag value` pairs (and bare `--background`), each flag allowed by `allowed`.
fn options(args: &[String], allowed: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut found = BTreeMap::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        if !allowed.contains(&flag.as_str()) {
            return Err(format!("unknown option `{flag}`\n{USAGE}"));
        }
        let value = if flag == "--background" {
            String::new()
        } else {
            rest.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?
                .clone()
        };
        found.insert(flag.clone(), value);
    }
    Ok(found)
}

fn state_dir(options: &BTreeMap<String, String>) -> Result<PathBuf, String> {
    match options.get("--state-dir") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => daemon::default_state_dir()
            .ok_or_else(|| "no HOME to keep the state in: pass --state-dir DIR".to_string()),
    }
}

fn run(args: &[String]) -> Result<u8, String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(USAGE.into());
    };
    match command.as_str() {
        "start" => {
            let options = options(
                rest,
                &[
                    "--port",
                    "--state-dir",
                    "--background",
                    "--sync-call-timeout-ms",
                    "--host-name",
                ],
            )?;
            let port = match options.get("--port") {
                Some(port) => port
                    .parse()
                    .map_err(|_| format!("--port takes a port number, not `{port}`"))?,
                None => DEFAULT_PORT,
            };
            let dir = state_dir(&options)?;
            let mut config = Config::local(port, Some(dir.clone()));
            if let Some(ms) = options.get("--sync-call-timeout-ms") {
                config.sync_call_timeout = Duration::from_millis(ms.parse().map_err(|_| {
                    format!("--sync-call-timeout-ms takes milliseconds, not `{ms}`")
                })?);
            }
            if let Some(names) = options.get("--host-name") {
                config.host_names = names
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            if options.contains_key("--background") {
                let exe = std::env::current_exe()
                    .map_err(|e| format!("cannot find this program: {e}"))?;
                // What the replica is started with, but where and how (said above).
                let extra: Vec<String> = ["--sync-call-timeout-ms", "--host-name"]
                    .into_iter()
                    .filter_map(|flag| options.get_key_value(flag))
                    .flat_map(|(flag, value)| [flag.clone(), value.clone()])
                    .collect();
                let running = daemon::start_background_with(
                    &exe,
                    port,
                    &dir,
                    &extra,
                    Duration::from_secs(120),
                )?;
                println!(
                    "local-replica running at {} (pid {})",
                    running.url, running.pid
                );
                return Ok(0);
            }
            daemon::serve(config, &dir).map(|()| 0)
        }
        "status" => {
            let dir = state_dir(&options(rest, &["--state-dir"])?)?;
            match daemon::running(&dir) {
                Some(running) => {
                    println!("running at {} (pid {})", running.url, running.pid);
                    Ok(0)
                }
                None => {
                    println!("no replica serves {}", dir.display());
                    Ok(NOT_RUNNING)
                }
            }
        }
        "stop" => {
            let dir = state_dir(&options(rest, &["--state-dir"])?)?;
            match daemon::stop(&dir, Duration::from_secs(120))? {
                Some(stopped) => println!(
                    "stopped the replica at {} (pid {})",
                    stopped.url, stopped.pid
                ),
                None => println!("no replica serves {}", dir.display()),
            }
            Ok(0)
        }
        "script" => script(rest).map(|()| 0),
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    }
}

fn script(args: &[String]) -> Result<(), String> {
    let options = options(args, &["--state-dir", "--checkpoint-after"])?;
    let dir = options
        .get("--state-dir")
        .map(PathBuf::from)
        .ok_or_else(|| format!("--state-dir is required\n{USAGE}"))?;
    // As `start` does: what this process writes (wasmtime's cache too) is its owner's alone.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let mut replica = Replica::open(&dir, now()).map_err(|e| e.to_string())?;
    if let Some(bytes) = options.get("--checkpoint-after") {
        replica.set_checkpoint_after(
            bytes
                .parse::<u64>()
                .map_err(|_| format!("--checkpoint-after takes bytes, not `{bytes}`"))?,
        );
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
            Ok(hex::encode(&reply.map_err(e)?.bytes))
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

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    hex::decode(s).map_err(|_| format!("`{s}` is not hex"))
}
