//! The `local-replica` binary run as a real process: what the command-line and JS agent tests
//! share.
#![allow(dead_code)] // each test file uses its part

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const EXE: &str = env!("CARGO_BIN_EXE_local-replica");

/// A fresh, empty directory under the target dir's scratch space (this process's own: other
/// work trees may share the target dir).
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `local-replica <args>` to completion (at most `timeout`).
pub fn run(args: &[&str], timeout: Duration) -> Output {
    let mut child = Command::new(EXE)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the local-replica binary runs");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_for(&mut child, timeout).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "`local-replica {}` did not finish within {timeout:?}; it printed:\n{}\n{}",
            args.join(" "),
            text(&stdout),
            text(&stderr)
        )
    });
    // The pipes close once the process (and any child holding them) is gone.
    let (stdout, stderr) = (finish(stdout), finish(stderr));
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Like [`run`], with the output as text.
pub fn run_text(args: &[&str], timeout: Duration) -> (ExitStatus, String, String) {
    let out = run(args, timeout);
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub type Captured = (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>);

pub fn drain(mut from: impl Read + Send + 'static) -> Captured {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = buf.clone();
    let thread = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    (buf, thread)
}

fn text(captured: &Captured) -> String {
    String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned()
}

pub fn finish(captured: Captured) -> Vec<u8> {
    // A detached grandchild (`start --background`) never holds these pipes: it writes its log.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !captured.1.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    captured.0.lock().unwrap().clone()
}

pub fn wait_for(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A replica run in the foreground by `local-replica start`, stopped (SIGTERM) when dropped.
pub struct Foreground {
    pub child: Child,
    pub url: String,
    pub root_key: String,
    pub state: String,
    stderr: Captured,
}

impl Foreground {
    /// `local-replica start --port 0 --state-dir <dir> <extra>`, once it printed its URL.
    pub fn start(dir: &Path, extra: &[&str]) -> Foreground {
        let mut child = Command::new(EXE)
            .args(["start", "--port", "0", "--state-dir"])
            .arg(dir)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the local-replica binary runs");
        let stderr = drain(child.stderr.take().unwrap());
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = Vec::new();
        while banner.len() < 3 {
            match lines.next() {
                Some(Ok(line)) => banner.push(line),
                _ => {
                    let status = wait_for(&mut child, Duration::from_secs(10));
                    panic!(
                        "`local-replica start` stopped before printing its URL ({status:?}):\n{}\n{}",
                        banner.join("\n"),
                        text(&stderr)
                    );
                }
            }
        }
        // The rest of its output ("local-replica stopped") is not needed; keep the pipe drained.
        std::thread::spawn(move || lines.for_each(drop));
        let field = |prefix: &str| {
            banner
                .iter()
                .find_map(|l| l.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("no `{prefix}` line in {banner:?}"))
                .trim()
                .to_string()
        };
        Foreground {
            url: field("local-replica listening on "),
            root_key: field("root key: "),
            state: field("state: "),
            child,
            stderr,
        }
    }

    /// What it wrote to standard error so far.
    pub fn stderr(&self) -> String {
        text(&self.stderr)
    }

    /// SIGTERM, then waits for it to exit.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let status = wait_for(&mut self.child, Duration::from_secs(20));
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        status
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The port of `http://127.0.0.1:<port>`.
pub fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

/// The status line of `GET /api/v2/status`, over a plain socket; `None` if nothing answers.
pub fn get_status(url: &str) -> Option<String> {
    use std::io::Write;
    let authority = url.strip_prefix("http://")?.trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(authority).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET /api/v2/status HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.lines().next().map(str::to_string)
}
