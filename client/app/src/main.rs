//! `vault-app`: the desktop launcher. The screens are `vault-ui`'s; this file gives them a
//! window, a backend over `vault-client` ([`backend::Desktop`]) and the `vault://` protocol the
//! images come through ([`images`]), decrypted in memory.
//!
//! ```text
//! vault-app [--network local|URL|ic] [--size WIDTHxHEIGHT]
//! vault-app replica …        the embedded local replica (the app starts it when none answers)
//! ```
//!
//! With `VAULT_APP_TEST_HOOKS=<file>`, the app writes what its window shows to `<file>` a few
//! times a second (see [`hooks`]): how the end-to-end test knows what is on screen.
#![forbid(unsafe_code)]

mod backend;
mod hooks;
mod images;
mod media;
#[cfg(target_os = "linux")]
mod picker;

use std::process::ExitCode;
use std::rc::Rc;

use dioxus::desktop::{Config, LogicalSize, WindowBuilder};
use dioxus::prelude::*;
use vault_client::{Home, Network, Settings};
use vault_ui::{App, BackendHandle};

use crate::backend::Desktop;

const USAGE: &str = "vault-app: your photos, encrypted on this device, in your own canister

usage: vault-app [--network local|URL|ic] [--size WIDTHxHEIGHT]
       vault-app replica …   (the embedded local replica; the app starts it itself)

  --network   where the vault is: the embedded local replica (the default), a replica's URL,
              or the Internet Computer (ic). Default: where this device last set up or
              unlocked a vault (by the app or `vault`), else the local replica.
  --size      the window's size in pixels, e.g. 360x740 to see it as a phone would.
Environment: VAULT_HOME (where identity and settings live), VAULT_NETWORK (as --network),
VAULT_APP_TEST_HOOKS (tests).";

struct Options {
    network: Option<String>,
    size: (f64, f64),
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        network: None,
        size: (1200.0, 800.0),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--network" => {
                options.network = Some(args.next().ok_or("--network needs a value")?.clone())
            }
            "--size" => {
                let text = args.next().ok_or("--size needs WIDTHxHEIGHT")?;
                let (w, h) = text
                    .split_once('x')
                    .and_then(|(w, h)| Some((w.parse::<f64>().ok()?, h.parse::<f64>().ok()?)))
                    .filter(|(w, h)| *w >= 320.0 && *h >= 400.0)
                    .ok_or_else(|| format!("--size {text}: give WIDTHxHEIGHT, at least 320x400"))?;
                options.size = (w, h);
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("vault-app: unknown argument {other}\n\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    hooks::started();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("replica") {
        return vault_client::replica::ReplicaAction::main(&args[1..], "vault-app replica");
    }
    let options = match parse(&args) {
        Ok(o) => o,
        Err(text) => {
            eprintln!("{text}");
            return if text == USAGE {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    if let Err(e) = can_open_a_window() {
        eprintln!("vault-app: {e}");
        return ExitCode::FAILURE;
    }
    let desktop = match start(&options) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("vault-app: {e}");
            return ExitCode::FAILURE;
        }
    };
    let window = WindowBuilder::new()
        .with_title("Vault")
        .with_inner_size(LogicalSize::new(options.size.0, options.size.1))
        .with_min_inner_size(LogicalSize::new(320.0, 400.0));
    let config = Config::new()
        .with_window(window)
        .with_menu(None)
        .with_background_color((247, 247, 248, 255))
        .with_custom_head(format!("<style>{}</style>", vault_ui::STYLE))
        .with_asynchronous_custom_protocol(images::SCHEME, desktop.protocol());
    dioxus::LaunchBuilder::desktop()
        .with_cfg(config)
        .with_context(desktop)
        .launch(root);
    ExitCode::SUCCESS
}

fn start(options: &Options) -> Result<Desktop, String> {
    let home = Home::from_env().map_err(|e| e.to_string())?;
    let chosen = options.network.clone().or_else(|| {
        std::env::var("VAULT_NETWORK")
            .ok()
            .filter(|n| !n.is_empty())
    });
    let network = match &chosen {
        Some(name) => Network::parse(name),
        None => match Settings::load(&home).map_err(|e| e.to_string())?.network {
            Some(name) => Network::parse(&name),
            None => Ok(Network::Local {
                port: vault_client::network::LOCAL_PORT,
            }),
        },
    }
    .map_err(|e| e.to_string())?;
    Desktop::start(home, network)
}

fn root() -> Element {
    let desktop = use_context::<Desktop>();
    let backend = use_hook(|| BackendHandle(Rc::new(desktop.backend())));
    hooks::use_test_hooks(desktop);
    rsx! { App { backend } }
}

/// GTK starts, or why the window cannot open (rather than the toolkit's panic).
#[cfg(target_os = "linux")]
fn can_open_a_window() -> Result<(), String> {
    gtk::init().map_err(|_| {
        "cannot open a window: GTK found no display (DISPLAY or WAYLAND_DISPLAY is unset or \
         unreachable). Run it in a desktop session, or under `xvfb-run -a` for a virtual one; \
         the `vault` command line needs no display."
            .to_string()
    })
}

#[cfg(not(target_os = "linux"))]
fn can_open_a_window() -> Result<(), String> {
    Ok(())
}
