//! The `vault-app` binary's command line: help, and bad arguments refused with exit code 2
//! before any window or replica is started. (The app in a window is the end-to-end test in the
//! top-level `tests/` crate; this test also makes `cargo test --workspace` build the binary it
//! runs.)

use std::process::{Command, Output};

fn app(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vault-app"))
        .args(args)
        .env("VAULT_HOME", env!("CARGO_TARGET_TMPDIR"))
        // No screen: a test that reached the window would fail rather than open one.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the vault-app binary runs")
}

#[test]
fn help_says_how_to_start_it() {
    let out = app(&["--help"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for needle in ["usage: vault-app", "--network", "--size"] {
        assert!(err.contains(needle), "--help lacks {needle:?}: {err}");
    }
}

#[test]
fn bad_arguments_exit_2_and_say_what_was_wrong() {
    for (args, needle) in [
        (&["--bogus"][..], "unknown argument --bogus"),
        (&["--size", "10x10"][..], "at least 320x400"),
        (&["--network"][..], "--network needs a value"),
        (&["replica", "frob"][..], "unknown replica command `frob`"),
    ] {
        let out = app(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "vault-app {args:?}: {err}");
        assert!(err.contains(needle), "vault-app {args:?}: {err}");
    }
}
