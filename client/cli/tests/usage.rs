//! The `vault` binary's command-line contract: help, version and the exit code for bad usage,
//! which scripts rely on. (Its flows on a vault are the end-to-end tests in the top-level
//! `tests/` crate; this test also makes `cargo test --workspace` build the binary they run.)

use std::process::{Command, Output};

fn vault(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vault"))
        .args(args)
        .env("VAULT_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("the vault binary runs")
}

#[test]
fn help_lists_the_commands_and_the_exit_codes() {
    let out = vault(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for needle in [
        "Usage: vault",
        "upload",
        "share",
        "Exit codes:",
        "2 bad usage",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}: {text}");
    }
}

#[test]
fn version_is_the_crates() {
    let out = vault(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("vault {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_usage_exits_2_and_says_what_was_wrong() {
    for (args, needle) in [
        (&["frobnicate"][..], "unrecognized subcommand 'frobnicate'"),
        (&[][..], "Usage: vault"),
        (&["upload"][..], "required"),
    ] {
        let out = vault(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "vault {args:?}: {err}");
        assert!(err.contains(needle), "vault {args:?}: {err}");
    }
}
