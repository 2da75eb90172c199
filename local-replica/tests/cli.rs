//! The `local-replica` command line, run as real processes: `start` (foreground and
//! `--background`), `status`, `stop`, a state directory one replica at a time, the key file,
//! clear failures, and `script`.

mod process;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process::{EXE, Foreground, fresh_dir, get_status, run_text};

const QUICK: Duration = Duration::from_secs(30);

fn arg(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// The first `http://…` word of `text`.
fn url_in(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {text:?}"))
        .trim_end_matches([',', '.', ')'])
        .to_string()
}

fn pid_alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

#[test]
fn background_start_status_stop_and_restart() {
    let dir = fresh_dir("cli-lifecycle");
    let d = arg(&dir);

    // Nothing runs yet.
    let (status, out, _) = run_text(&["status", "--state-dir", d], QUICK);
    assert_eq!(status.code(), Some(3), "status before start: {out}");

    let began = Instant::now();
    let (status, out, err) = run_text(
        &["start", "--background", "--port", "0", "--state-dir", d],
        QUICK,
    );
    assert!(
        status.success(),
        "start --background: {status}\n{out}\n{err}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "start --background returns promptly, not after {:?}",
        began.elapsed()
    );
    let url = url_in(&out);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let pid_file = std::fs::read_to_string(dir.join("replica.pid")).expect("the pid file");
    let mut lines = pid_file.lines();
    let pid: i32 = lines.next().unwrap().parse().expect("a pid");
    assert_eq!(lines.next(), Some(url.as_str()), "pid file: {pid_file:?}");
    assert!(pid_alive(pid));

    let (status, out, err) = run_text(&["status", "--state-dir", d], QUICK);
    assert_eq!(status.code(), Some(0), "status: {out}\n{err}");
    assert_eq!(url_in(&out), url, "status prints the URL");

    let answer = get_status(&url).expect("the replica answers");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "GET /api/v2/status: {answer}"
    );

    // The log holds what a foreground start prints, root key included.
    let log = std::fs::read_to_string(dir.join("replica.log")).expect("the log file");
    assert!(
        log.contains(&format!("local-replica listening on {url}")),
        "{log}"
    );
    let root_key = log
        .lines()
        .find_map(|l| l.strip_prefix("root key: "))
        .expect("the log has the root key")
        .to_string();

    // The key file: the owner's alone.
    let keys = std::fs::metadata(dir.join("replica-keys")).expect("the key file exists");
    assert_eq!(
        keys.permissions().mode() & 0o777,
        0o600,
        "the key file is readable by its owner only"
    );

    // A second replica on the same directory is refused, the first untouched.
    let (status, out, err) = run_text(&["start", "--port", "0", "--state-dir", d], QUICK);
    assert!(!status.success(), "a second start succeeded: {out}\n{err}");
    assert!(
        err.contains("in use"),
        "the refusal says the directory is in use: {err}"
    );
    let (status, out, err) = run_text(
        &["start", "--background", "--port", "0", "--state-dir", d],
        QUICK,
    );
    assert!(!status.success(), "a second background start: {out}\n{err}");
    assert!(err.contains("already serves"), "{err}");
    let (status, out, _) = run_text(&["status", "--state-dir", d], QUICK);
    assert_eq!(status.code(), Some(0), "the first still runs: {out}");
    assert_eq!(url_in(&out), url);
    assert_eq!(
        std::fs::read_to_string(dir.join("replica.pid")).unwrap(),
        pid_file,
        "the pid file is the first replica's still"
    );

    let (status, out, err) = run_text(&["stop", "--state-dir", d], QUICK);
    assert!(status.success(), "stop: {out}\n{err}");
    assert!(out.contains("stopped"), "{out}");
    assert!(!dir.join("replica.pid").exists(), "stop leaves no pid file");
    assert_eq!(get_status(&url), None, "the port is closed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pid_alive(pid), "the replica's process is gone");
    let log = std::fs::read_to_string(dir.join("replica.log")).unwrap();
    assert!(
        log.contains("local-replica stopped"),
        "it stopped cleanly:\n{log}"
    );

    let (status, out, _) = run_text(&["status", "--state-dir", d], QUICK);
    assert_eq!(status.code(), Some(3), "status after stop: {out}");
    let (status, out, err) = run_text(&["stop", "--state-dir", d], QUICK);
    assert!(status.success(), "stop with none running: {out}\n{err}");

    // Started again (in the foreground), it has the same keys.
    let mut again = Foreground::start(&dir, &[]);
    assert_eq!(again.root_key, root_key, "the root key survives a restart");
    assert_eq!(again.state, d);
    let (status, out, _) = run_text(&["status", "--state-dir", d], QUICK);
    assert_eq!(status.code(), Some(0), "{out}");
    assert_eq!(url_in(&out), again.url);
    let (status, out, err) = run_text(&["stop", "--state-dir", d], QUICK);
    assert!(status.success(), "stop a foreground replica: {out}\n{err}");
    let exited = process::wait_for(&mut again.child, QUICK);
    assert!(
        exited.is_some_and(|s| s.success()),
        "SIGTERM ends it cleanly: {exited:?}\n{}",
        again.stderr()
    );
    assert!(!dir.join("replica.pid").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stale_pid_file_is_neither_running_nor_signalled() {
    let dir = fresh_dir("cli-stale");
    let d = arg(&dir);
    // A live process that is no replica (as when a killed replica's pid was reused).
    let mut bystander = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(
        dir.join("replica.pid"),
        format!("{}\nhttp://127.0.0.1:1\n", bystander.id()),
    )
    .unwrap();
    let (status, out, _) = run_text(&["status", "--state-dir", d], QUICK);
    assert_eq!(status.code(), Some(3), "{out}");
    let (status, out, err) = run_text(&["stop", "--state-dir", d], QUICK);
    assert!(
        !status.success(),
        "stop signalled a process that is no replica: {out}"
    );
    assert!(err.contains("stale"), "{err}");
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the bystander was signalled"
    );
    let _ = bystander.kill();
    let _ = bystander.wait();
    // A start over the stale file works and replaces it.
    let (status, out, err) = run_text(
        &["start", "--background", "--port", "0", "--state-dir", d],
        QUICK,
    );
    assert!(status.success(), "{out}\n{err}");
    let (status, out, err) = run_text(&["stop", "--state-dir", d], QUICK);
    assert!(status.success(), "{out}\n{err}");
    assert!(!dir.join("replica.pid").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_port_in_use_is_refused_clearly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = fresh_dir("cli-port");
    let d = arg(&dir);

    let (status, out, err) = run_text(&["start", "--port", &port, "--state-dir", d], QUICK);
    assert!(!status.success(), "start on a taken port: {out}\n{err}");
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")) && err.contains("--port"),
        "the message names the address and the way out: {err}"
    );
    assert!(!dir.join("replica.pid").exists());

    let (status, out, err) = run_text(
        &["start", "--background", "--port", &port, "--state-dir", d],
        QUICK,
    );
    assert!(
        !status.success(),
        "background start on a taken port: {out}\n{err}"
    );
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "the background start tells why: {err}"
    );
    let (status, _, _) = run_text(&["status", "--state-dir", d], QUICK);
    assert_eq!(status.code(), Some(3));
    drop(taken);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_command_lines_print_the_usage() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "usage:"),
        (&["frobnicate"], "unknown command `frobnicate`"),
        (&["start", "--bogus"], "unknown option `--bogus`"),
        (&["status", "--port", "1"], "unknown option `--port`"),
        (&["stop", "--background"], "unknown option `--background`"),
        (&["start", "--port"], "--port needs a value"),
        (&["script"], "--state-dir is required"),
    ];
    for (args, says) in cases {
        let (status, out, err) = run_text(args, QUICK);
        assert!(!status.success(), "{args:?} succeeded: {out}");
        assert!(err.contains(says), "{args:?} says {says:?}: {err}");
        assert!(
            err.contains("usage:") && err.contains("local-replica start"),
            "{args:?} prints the usage: {err}"
        );
    }
    let (status, _, err) = run_text(&["start", "--port", "http"], QUICK);
    assert!(!status.success());
    assert!(
        err.contains("--port takes a port number, not `http`"),
        "{err}"
    );
    let (status, _, err) = run_text(
        &["start", "--port", "0", "--sync-call-timeout-ms", "soon"],
        QUICK,
    );
    assert!(!status.success());
    assert!(
        err.contains("--sync-call-timeout-ms takes milliseconds"),
        "{err}"
    );
}

#[test]
fn background_start_passes_its_options_on() {
    let dir = fresh_dir("cli-options");
    let d = arg(&dir);
    let (status, out, err) = run_text(
        &[
            "start",
            "--background",
            "--port",
            "0",
            "--state-dir",
            d,
            "--sync-call-timeout-ms",
            "2500",
        ],
        QUICK,
    );
    assert!(status.success(), "{out}\n{err}");
    let pid: i32 = std::fs::read_to_string(dir.join("replica.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let (status, out, err) = run_text(&["stop", "--state-dir", d], QUICK);
    assert!(status.success(), "{out}\n{err}");
    if !cmdline.is_empty() && std::path::Path::new("/proc/self").exists() {
        assert!(
            cmdline
                .windows(2)
                .any(|w| w[0] == "--sync-call-timeout-ms" && w[1] == "2500"),
            "the detached replica got --sync-call-timeout-ms: {cmdline:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn script_still_answers_line_by_line() {
    let dir = fresh_dir("cli-script");
    let mut child = Command::new(EXE)
        .args(["script", "--state-dir", arg(&dir)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ask = |line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        answers.next().expect("an answer").unwrap()
    };
    let controller = "2vxsx-fae";
    let created = ask(&format!("create {controller}"));
    let canister = created
        .strip_prefix("ok ")
        .unwrap_or_else(|| panic!("create: {created}"))
        .to_string();
    assert!(candid::Principal::from_text(&canister).is_ok(), "{created}");
    assert!(ask("bogus").starts_with("err not a command"));
    assert!(ask(&format!("query {controller} {canister} nothing -")).starts_with("err "));
    assert_eq!(ask("checkpoint"), "ok ");
    drop(stdin);
    let status = process::wait_for(&mut child, QUICK).expect("script ends with its input");
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every directory under `dir` (itself included) and every file, with its permission bits.
fn modes_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u32)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        found.push((path.clone(), meta.permissions().mode() & 0o7777));
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    found
}

/// `local-replica <args>` run by a shell whose umask lets everyone read what it creates.
fn under_umask_022(args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", "umask 022 && exec \"$0\" \"$@\"", EXE])
        .args(args);
    command
}

#[test]
fn the_state_directory_is_private_whatever_the_umask() {
    let root = fresh_dir("cli-private");
    let dir = root.join("state");
    let d = arg(&dir);
    let wasm = root.join("counter.wasm");
    std::fs::write(
        &wasm,
        wat::parse_str(
            r#"(module
                (import "ic0" "msg_reply" (func $reply))
                (memory 1)
                (func (export "canister_update inc") call $reply))"#,
        )
        .unwrap(),
    )
    .unwrap();

    // A canister installed and called through `script`: modules, canister files, the log,
    // a checkpoint, the compiled-module cache.
    let mut child = under_umask_022(&["script", "--state-dir", d])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ask = |line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let answer = answers.next().expect("an answer").unwrap();
        assert!(answer.starts_with("ok"), "{line}: {answer}");
        answer[2..].trim().to_string()
    };
    let controller = "2vxsx-fae";
    let canister = ask(&format!("create {controller}"));
    ask(&format!(
        "install {controller} {canister} install {} -",
        arg(&wasm)
    ));
    ask(&format!("update {controller} {canister} inc -"));
    ask("checkpoint");
    ask(&format!("update {controller} {canister} inc -"));
    drop(stdin);
    let status = process::wait_for(&mut child, QUICK).expect("script ends with its input");
    assert!(status.success(), "{status}");

    // The server: its keys, pid file and log (created before it starts, by whoever starts it).
    let output = under_umask_022(&["start", "--background", "--port", "0", "--state-dir", d])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let running = modes_under(&dir);
    let (status, out, err) = run_text(&["stop", "--state-dir", d], QUICK);
    assert!(status.success(), "{out}\n{err}");
    let stopped = modes_under(&dir);

    for name in [
        "wal",
        "checkpoint",
        "modules",
        "canisters",
        "cache",
        "replica-keys",
        "replica.pid",
        "replica.log",
    ] {
        assert!(
            running.iter().any(|(p, _)| p.ends_with(name)),
            "{name} in {running:?}"
        );
    }
    assert!(
        stopped
            .iter()
            .any(|(p, _)| p.parent().unwrap().ends_with("canisters"))
    );
    assert!(
        stopped
            .iter()
            .filter(|(p, _)| p.starts_with(dir.join("cache")))
            .count()
            > 1,
        "the compiled module is cached: {stopped:?}"
    );
    for (path, mode) in running.iter().chain(&stopped) {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        if path.exists() {
            assert_eq!(*mode, want, "{}", path.display());
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_state_directory_of_another_user_is_refused() {
    let dir = fresh_dir("cli-not-mine");
    let d = arg(&dir);
    let me = nix::unistd::geteuid();
    let other = nix::unistd::Uid::from_raw(me.as_raw().wrapping_add(4242));
    if nix::unistd::chown(&dir, Some(other), None).is_err() {
        // Only root can give a directory away.
        eprintln!("skipped: uid {me} cannot chown");
        return;
    }
    for args in [
        &["start", "--port", "0", "--state-dir", d][..],
        &["script", "--state-dir", d][..],
    ] {
        let (status, out, err) = run_text(args, QUICK);
        assert!(!status.success(), "{args:?}: {out}");
        assert!(
            err.contains("belongs to another user") && err.contains("use a directory of your own"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing was written there"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
