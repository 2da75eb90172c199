//! Finding, starting and stopping a replica that runs in the background: clients (the `vault`
//! command line and app) start one when none runs and find it again by its state directory.
//!
//! ```text
//! <state dir>/replica.pid    "<pid>\n<url>\n", written once the replica listens, removed when it stops
//! <state dir>/replica.log    what a background replica prints
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The pid file's name in the state directory.
pub const PID_FILE: &str = "replica.pid";
/// A background replica's output, in the state directory.
pub const LOG_FILE: &str = "replica.log";

/// A replica that answers at `url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Running {
    pub pid: u32,
    pub url: String,
}

/// Where the replica keeps its state unless told otherwise: `$XDG_DATA_HOME/vault/replica`, or
/// `~/.local/share/vault/replica`.
pub fn default_state_dir() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        })?;
    Some(data.join("vault").join("replica"))
}

/// Records that this process serves `dir` at `url` (replacing the file whole).
pub fn write_pid_file(dir: &Path, url: &str) -> std::io::Result<()> {
    let partial = dir.join(format!("{PID_FILE}.partial"));
    let mut file = crate::owner_only::create_file(&partial)?;
    writeln!(file, "{}\n{url}", std::process::id())?;
    file.sync_all()?;
    std::fs::rename(partial, dir.join(PID_FILE))
}

/// Removes the pid file if it is this process's.
pub fn remove_pid_file(dir: &Path) {
    if read_pid_file(dir).is_some_and(|r| r.pid == std::process::id()) {
        let _ = std::fs::remove_file(dir.join(PID_FILE));
    }
}

fn read_pid_file(dir: &Path) -> Option<Running> {
    let text = std::fs::read_to_string(dir.join(PID_FILE)).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    let url = lines.next()?.trim().to_string();
    Some(Running { pid, url })
}

/// The replica serving `dir`, if one runs and answers.
pub fn running(dir: &Path) -> Option<Running> {
    let found = read_pid_file(dir)?;
    (alive(found.pid) && answers(&found.url)).then_some(found)
}

fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // Signal 0 checks the process exists (and is ours to signal) without touching it.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// Whether `GET <url>/api/v2/status` answers 200: a plain HTTP/1.1 request over a socket.
pub fn answers(url: &str) -> bool {
    let Some(authority) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = authority.trim_end_matches('/');
    let Some(addr) = authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
    else {
        return false;
    };
    status_line(addr, authority).is_some_and(|line| line.split(' ').nth(1) == Some("200"))
}

fn status_line(addr: SocketAddr, host: &str) -> Option<String> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    write!(
        stream,
        "GET /api/v2/status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    let head = String::from_utf8_lossy(&head[..n]);
    head.lines().next().map(str::to_string)
}

/// Starts `exe start --port <port> --state-dir <dir>` detached, its output to the log file, and
/// returns once it answers (or why it did not within `timeout`).
pub fn start_background(
    exe: &Path,
    port: u16,
    dir: &Path,
    timeout: Duration,
) -> Result<Running, String> {
    start_background_with(exe, port, dir, &[], timeout)
}

/// [`start_background`], passing `extra` (more `start` options) to the replica.
pub fn start_background_with(
    exe: &Path,
    port: u16,
    dir: &Path,
    extra: &[String],
    timeout: Duration,
) -> Result<Running, String> {
    start_background_command(Command::new(exe), port, dir, extra, timeout)
}

/// [`start_background_with`] for a program that serves as a replica with leading arguments of
/// its own (`vault replica start …`): `command` is the program and those arguments, to which
/// `start --port <port> --state-dir <dir> <extra>` is appended.
pub fn start_background_command(
    mut command: Command,
    port: u16,
    dir: &Path,
    extra: &[String],
    timeout: Duration,
) -> Result<Running, String> {
    if let Some(already) = running(dir) {
        return Err(format!(
            "a replica already serves {} at {} (pid {})",
            dir.display(),
            already.url,
            already.pid
        ));
    }
    let exe = PathBuf::from(command.get_program());
    crate::owner_only::ensure_dir(dir).map_err(|e| e.to_string())?;
    let log_path = dir.join(LOG_FILE);
    let log = crate::owner_only::create_file(&log_path)
        .map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
    let err_log = log
        .try_clone()
        .map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
    command
        .arg("start")
        .arg("--port")
        .arg(port.to_string())
        .arg("--state-dir")
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = read_pid_file(dir).filter(|r| r.pid == child.id())
            && answers(&found.url)
        {
            return Ok(found);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "the replica exited ({status}) before it answered:\n{}",
                log.trim_end()
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!(
                "the replica did not answer within {} s; see {}",
                timeout.as_secs(),
                log_path.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asks the replica serving `dir` to stop (SIGTERM: it finishes the message running and writes
/// a checkpoint) and waits up to `timeout` for it to exit. `Ok(None)`: none was running.
///
/// The pid file's process is signalled only if it answers at the file's URL: a replica killed
/// outright leaves its pid file behind, and its pid may since belong to another process.
pub fn stop(dir: &Path, timeout: Duration) -> Result<Option<Running>, String> {
    let Some(found) = read_pid_file(dir).filter(|r| alive(r.pid)) else {
        return Ok(None);
    };
    if !answers(&found.url) {
        return Err(format!(
            "{} names pid {}, but nothing answers at {}: if that process is a replica \
             (still starting or stopping), try again; otherwise the file is stale — remove it",
            dir.join(PID_FILE).display(),
            found.pid,
            found.url
        ));
    }
    let pid = nix::unistd::Pid::from_raw(
        i32::try_from(found.pid).map_err(|_| format!("bad pid {}", found.pid))?,
    );
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
        .map_err(|e| format!("cannot signal pid {}: {e}", found.pid))?;
    let deadline = Instant::now() + timeout;
    while alive(found.pid) && read_pid_file(dir).is_some_and(|r| r.pid == found.pid) {
        if Instant::now() > deadline {
            return Err(format!(
                "pid {} did not stop within {} s",
                found.pid,
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Some(found))
}

/// Serves the IC HTTP interface in the foreground with `dir` as the state directory, until
/// SIGINT or SIGTERM; prints the URL, root key and state directory once it listens. The pid file
/// is written before the banner (so whoever reads the banner finds the replica with [`running`])
/// and removed on exit, after the final checkpoint.
pub fn serve(config: super::Config, dir: &Path) -> Result<(), String> {
    // What this process writes is its owner's alone, whoever writes it (the compiled-module
    // cache is wasmtime's), on top of the modes each file of ours is created with.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    crate::owner_only::ensure_dir(dir).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        // Listening for the signals before anything can send them: `stop` signals the pid in the
        // pid file, and a SIGTERM before this would kill the replica without its checkpoint.
        let shutdown = shutdown_signal()?;
        let server = super::Server::bind(config)
            .await
            .map_err(|e| e.to_string())?;
        let url = server.url();
        write_pid_file(dir, &url)
            .map_err(|e| format!("cannot write the pid file in {}: {e}", dir.display()))?;
        println!("local-replica listening on {url}");
        println!("root key: {}", hex::encode(server.root_key()));
        println!("state: {}", dir.display());
        let _ = std::io::stdout().flush();
        let served = server.run(shutdown).await;
        remove_pid_file(dir);
        println!("local-replica stopped");
        served.map_err(|e| e.to_string())
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (`stop`), both listened for from the moment this is
/// called.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen =
        |kind: SignalKind| signal(kind).map_err(|e| format!("cannot listen for signals: {e}"));
    let mut term = listen(SignalKind::terminate())?;
    let mut interrupt = listen(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
    })
}
