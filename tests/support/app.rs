//! What the app's end-to-end test and its benchmark share: users with homes of their own on a
//! local replica (seeded through vault-client), the app in a window under `xvfb-run`, read
//! through its test hooks and driven with xdotool, screenshots.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::{artifacts, free_port, photos, processes_naming};
use serde_json::Value;
use vault_client::vault::remembered_canister;
use vault_client::{Connection, Home, Identity, Network, Vault};
use vault_crypto::KdfParams;

pub const PASSPHRASE: &str = "correct horse battery staple";
pub const SCREEN: &str = "1280x800x24";
const UNDER_XVFB: &str = "VAULT_APP_TEST_UNDER_XVFB";

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs this binary again with `args` under `xvfb-run`, unless already there (then false).
pub fn under_xvfb(args: &[&str]) -> bool {
    if std::env::var_os(UNDER_XVFB).is_some() {
        return false;
    }
    for tool in ["xvfb-run", "xdotool", "import"] {
        assert!(
            have(tool),
            "{tool} is missing: run ./scripts/test-all, which installs xvfb, xdotool and imagemagick"
        );
    }
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", &format!("-screen 0 {SCREEN}")])
        .arg(std::env::current_exe().unwrap())
        .args(args)
        .env(UNDER_XVFB, "1")
        .status()
        .expect("xvfb-run runs");
    assert!(status.success(), "{args:?} failed under xvfb-run");
    true
}

/// A user with a home of their own, on the replica at `port`.
pub struct User {
    pub home: tempfile::TempDir,
    pub port: u16,
}

impl User {
    pub fn new(port: u16) -> User {
        User {
            home: tempfile::tempdir().unwrap(),
            port,
        }
    }

    pub async fn connect(&self) -> (Home, Connection) {
        let home = Home::at(self.home.path());
        let (identity, _) = Identity::load_or_create(&home).unwrap();
        let launcher = || {
            let mut c = Command::new(crate::binary("vault-app", "vault-app"));
            c.arg("replica");
            c
        };
        let conn = vault_client::replica::open(
            &home,
            Network::Local { port: self.port },
            identity,
            &launcher,
        )
        .await
        .expect("the local replica starts and answers");
        (home, conn)
    }

    /// A new vault, unlocked on this device for a day (the app opens it without a passphrase).
    pub async fn init(&self) -> Vault {
        let (home, conn) = self.connect().await;
        let kdf = KdfParams::new(19_456, 2, 1).unwrap();
        let (vault, _words) = Vault::init(
            &home,
            conn,
            None,
            PASSPHRASE,
            kdf,
            Duration::from_secs(86_400),
        )
        .await
        .expect("init");
        vault
    }

    pub async fn open(&self) -> Vault {
        let (home, conn) = self.connect().await;
        let id = remembered_canister(&home, &conn.network)
            .unwrap()
            .expect("a vault");
        Vault::from_session(&home, conn, id).expect("a session")
    }
}

/// The replica this user's connection started (if it did) is stopped with the user, also when
/// a test fails: a test leaves nothing running behind it.
impl Drop for User {
    fn drop(&mut self) {
        let dir = Home::at(self.home.path()).replica_dir();
        if let Err(e) = vault_client::replica::stop_local(&dir) {
            eprintln!("stopping the replica of {}: {e}", dir.display());
        }
    }
}

/// The app, running.
pub struct AppWindow {
    pub child: Child,
    pub hooks: PathBuf,
}

impl AppWindow {
    pub fn launch(user: &User, size: &str, downloads: &Path) -> AppWindow {
        let hooks = user.home.path().join(format!("hooks-{size}.json"));
        // A report left by an earlier launch would answer for this one.
        let _ = std::fs::remove_file(&hooks);
        let child = Command::new(crate::binary("vault-app", "vault-app"))
            .args(["--size", size])
            .env("VAULT_HOME", user.home.path())
            .env("VAULT_NETWORK", format!("local:{}", user.port))
            .env("VAULT_APP_TEST_HOOKS", &hooks)
            .env("VAULT_DOWNLOADS", downloads)
            // No D-Bus under Xvfb: GTK keeps its settings in memory instead of warning.
            .env("GSETTINGS_BACKEND", "memory")
            .stdin(Stdio::null())
            .spawn()
            .expect("vault-app starts");
        AppWindow { child, hooks }
    }

    pub fn report(&self) -> Option<Value> {
        serde_json::from_slice(&std::fs::read(&self.hooks).ok()?).ok()
    }

    /// Polls the hooks until `ready` holds (or fails after `secs`).
    pub fn wait(&mut self, what: &str, secs: u64, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = None;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("vault-app exited ({status}) waiting for {what}");
            }
            if let Some(r) = self.report() {
                if ready(&r) {
                    return r;
                }
                last = Some(r);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("no {what} in {secs} s; the window last showed {last:#?}");
    }

    /// Where the element `testid` is on screen now: scrolled into the window first with the
    /// mouse wheel, as a person would, when it is below or above what shows.
    pub fn at(&mut self, testid: &str) -> (i64, i64) {
        for _ in 0..40 {
            let r = self.wait(&format!("element {testid}"), 30, |r| {
                r["elements"][testid].is_array()
            });
            let xy = &r["elements"][testid];
            let (x, y) = (xy[0].as_i64().unwrap(), xy[1].as_i64().unwrap());
            let height = r["height"].as_i64().unwrap();
            let wheel = if y > height - 20 {
                "5"
            } else if y < 20 {
                "4"
            } else {
                return (x, y);
            };
            xdotool(&[
                "mousemove",
                "--sync",
                &x.to_string(),
                &(height / 2).to_string(),
            ]);
            xdotool(&["click", "--repeat", "3", wheel]);
            // The next report shows where it went.
            std::thread::sleep(Duration::from_millis(400));
        }
        panic!("{testid} could not be scrolled into the window");
    }

    /// Clicks `testid` and types `text` into it. With no window manager, clicking does not move
    /// the keyboard's focus between windows (after the file chooser, say): focus the app first.
    pub fn type_into(&mut self, testid: &str, text: &str) {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "^Vault$"])
            .output()
            .unwrap();
        let windows = String::from_utf8_lossy(&out.stdout).to_string();
        let window = windows.lines().next().expect("the app's window");
        // Under load xdotool's synthetic keys are sometimes lost (CI once typed a canister id
        // without its last letter): type again, over what the field holds, until it holds `text`.
        for _ in 0..3 {
            xdotool(&["windowfocus", "--sync", window]);
            self.click(testid);
            std::thread::sleep(Duration::from_millis(500));
            xdotool(&["key", "ctrl+a", "BackSpace"]);
            xdotool(&["type", "--delay", "20", text]);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if self
                    .report()
                    .is_some_and(|r| r["inputs"][testid].as_str() == Some(text))
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        panic!(
            "{testid} does not hold {text:?} after typing it three times; it holds {:?}",
            self.report().map(|r| r["inputs"][testid].clone())
        );
    }

    pub fn click(&mut self, testid: &str) {
        let (x, y) = self.at(testid);
        xdotool(&[
            "mousemove",
            "--sync",
            &x.to_string(),
            &y.to_string(),
            "click",
            "1",
        ]);
    }
}

impl Drop for AppWindow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn xdotool(args: &[&str]) {
    let out = Command::new("xdotool")
        .args(args)
        .output()
        .expect("xdotool runs");
    assert!(
        out.status.success(),
        "xdotool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Screenshots the whole screen to `name` until it is not blank; returns its distinct colours.
pub fn screenshot(name: &str) -> usize {
    let path = artifacts().join(name);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .output()
            .expect("import runs");
        assert!(
            out.status.success(),
            "import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let image = image::open(&path).expect("a PNG").to_rgb8();
        let mut colours: Vec<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        colours.sort_unstable();
        colours.dedup();
        if colours.len() > 1000 || Instant::now() > deadline {
            return colours.len();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Types `path` into the GTK file chooser the file input opened, and opens it.
pub fn choose_in_file_dialog(path: &Path) {
    // The chooser is its own top-level window; wait for it, focus it, and type the path into
    // its location bar (ctrl+L), as a person would.
    let deadline = Instant::now() + Duration::from_secs(30);
    let window = loop {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "Open|Select|Choose"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if let Some(id) = text.lines().last().filter(|l| !l.is_empty()) {
            break id.to_string();
        }
        assert!(Instant::now() < deadline, "no file chooser opened");
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(500));
    // No window manager under Xvfb: focus the chooser directly (nothing to activate it).
    xdotool(&["windowfocus", "--sync", &window]);
    xdotool(&["key", "ctrl+l"]);
    std::thread::sleep(Duration::from_millis(300));
    xdotool(&["type", "--delay", "10", &path.display().to_string()]);
    std::thread::sleep(Duration::from_millis(300));
    xdotool(&["key", "Return"]);
}
