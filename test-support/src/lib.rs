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

/// A video long enough to stream (`target/testdata/long-video.mp4`): 60 s of 1280x720 H.264
/// at 16 Mbit/s (moving test patterns under noise, so it does not compress away), about 120
/// MB in 115 chunks, its index at the front as phones and cameras write it; made once per
/// machine by `ffmpeg` (Debian's, which `scripts/test-all` installs) in a few seconds.
pub fn long_video() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let file = repo().join("target/testdata/long-video.mp4");
        if !file.exists() {
            std::fs::create_dir_all(file.parent().expect("a folder")).expect("target/testdata");
            // Made beside it, then renamed: a test binary running meanwhile sees all or nothing.
            let making = file.with_extension(format!("{}.mp4", std::process::id()));
            let status = Command::new("ffmpeg")
                .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
                .arg("testsrc2=s=1280x720:r=30:d=60")
                .args(["-vf", "noise=alls=30:allf=t", "-c:v", "libx264"])
                .args(["-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", "16M"])
                .args(["-movflags", "+faststart"])
                .arg(&making)
                .status()
                .unwrap_or_else(|e| panic!("cannot run ffmpeg (apt-get install ffmpeg): {e}"));
            assert!(status.success(), "ffmpeg failed: {status}");
            std::fs::rename(&making, &file).expect("renamed into place");
        }
        file
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
