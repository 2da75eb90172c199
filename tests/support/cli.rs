//! What the command line's end-to-end tests share: users with their own homes on one local
//! replica, running the real `vault` binary; the test photos.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use crate::{free_port, photos};
use serde_json::Value;

pub const PASSPHRASE: &str = "correct horse battery staple";

/// One user of the vault on this machine: their own VAULT_HOME (identity, settings, session),
/// all on the replica at `port`.
pub struct User {
    pub home: tempfile::TempDir,
    pub port: u16,
    owns_replica: bool,
}

impl User {
    /// A user whose commands start the replica on a fresh port.
    pub fn first() -> User {
        User {
            home: tempfile::tempdir().unwrap(),
            port: free_port(),
            owns_replica: true,
        }
    }

    /// Another user on the same replica.
    pub fn beside(other: &User) -> User {
        User {
            home: tempfile::tempdir().unwrap(),
            port: other.port,
            owns_replica: false,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(crate::binary("vault-cli", "vault"));
        c.args(args)
            .env("VAULT_HOME", self.home.path())
            .env("VAULT_NETWORK", format!("local:{}", self.port))
            .env_remove("VAULT_PASSPHRASE")
            .env_remove("VAULT_NEW_PASSPHRASE")
            .env_remove("VAULT_RECOVERY_KEY")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("vault runs")
    }

    pub fn run_with(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = self.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("vault runs")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "vault {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs with --json and parses the answer.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON")
    }

    /// Runs and expects exit `code`, with `needle` in what it printed on stderr.
    pub fn fails(&self, code: i32, needle: &str, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "vault {args:?}: {err}");
        assert!(
            err.contains(needle),
            "vault {args:?}: `{needle}` not in: {err}"
        );
        err
    }

    /// `vault init` with the test passphrase; returns (canister, recovery words).
    pub fn init(&self) -> (String, String) {
        let out = self.run_with(
            &[("VAULT_PASSPHRASE", PASSPHRASE)],
            &["--json", "init", "--kdf", "minimum"],
        );
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["canister"].as_str().unwrap().to_string(),
            v["recovery_key"].as_str().unwrap().to_string(),
        )
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}

impl Drop for User {
    fn drop(&mut self) {
        if self.owns_replica {
            let _ = self.run(&["replica", "stop"]);
        }
    }
}

/// Name -> bytes of every file in `dir`.
pub fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}
