//! What Vault's tests and benchmarks share, in one place: the workspace's root, the real test
//! photos (fetched once per machine by `../shared/testdata/fetch-photos.sh`), a free port for a
//! replica of one's own, the folder screenshots land in, and the processes a test must not
//! leave running; and (`replica`) the vault canister in the local replica.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub mod replica;

/// The workspace's root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `target/testdata/photos` (`exif/`, `full/`, `heic/`, `video/`; see
/// `../shared/testdata/README.md`), fetched on first use.
pub fn photos() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = repo().join("target/testdata/photos");
        if !dir.join(".complete").exists() {
            let script = repo().join("../shared/testdata/fetch-photos.sh");
            let status = Command::new("bash")
                .arg(&script)
                .arg(&dir)
                .current_dir(repo())
                .status()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            assert!(status.success(), "{} failed: {status}", script.display());
        }
        dir
    })
}

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `target/test-artifacts`, where screenshots land.
pub fn artifacts() -> PathBuf {
    let dir = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("target/test-artifacts");
    dir
}

/// The command lines of the processes that name `path` (what a test must not leave behind).
pub fn processes_naming(path: &Path) -> Vec<String> {
    let needle = path.to_string_lossy().into_owned();
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name() != me.as_str())
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
                .filter(|line| line.contains(&needle))
                .collect()
        })
        .unwrap_or_default()
}
