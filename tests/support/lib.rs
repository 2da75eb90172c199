//! What Vault's end-to-end tests share: the binaries under test, users of the command line
//! ([`cli`]) and of the app ([`app`]) with homes of their own, the browser tests' folder.
//!
//! The binaries are the workspace's own (`vault` of vault-cli, `vault-app`), found beside the
//! test's executable as cargo leaves them: `CARGO_BIN_EXE_*` names only a test's own package's
//! binaries. `cargo test --workspace` (what `scripts/test-all` runs) builds them with the tests,
//! because each binary's own package has an integration test of its command line (cargo builds a
//! package's binaries for its integration tests, never for another package's); to run one
//! end-to-end test alone, build its binary first (`cargo build -p vault-cli && cargo test -p
//! vault-e2e --test cli`).

use std::path::PathBuf;

pub mod app;
pub mod cli;

pub use vault_test_support::{artifacts, free_port, long_video, photos, processes_naming, repo};

/// The binary `name` of the workspace's `package`, built in this test's profile.
pub fn binary(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("this test's own path");
    let mut dir = exe.parent().expect("the test's folder").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let release = if dir.ends_with("release") {
        " --release"
    } else {
        ""
    };
    assert!(
        path.is_file(),
        "{} is not built: run the tests with `cargo test --workspace`, or build it first with \
         `cargo build{release} -p {package}`",
        path.display()
    );
    path
}

/// `tests/browser`: the browser tests' npm package (playwright-core; `npm ci` there).
pub fn browser_tests() -> PathBuf {
    repo().join("tests/browser")
}

/// Debian's Chromium, where `scripts/test-all` installs it (`VAULT_CHROMIUM` overrides), after
/// checking that it and the browser tests' npm packages are there.
pub fn chromium() -> String {
    let chromium = std::env::var("VAULT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists() && browser_tests().join("node_modules").is_dir(),
        "needs Debian's chromium and `npm ci` in {} (scripts/test-all installs both)",
        browser_tests().display()
    );
    chromium
}
