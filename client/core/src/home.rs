//! Where the client keeps things on this machine.
//!
//! ```text
//! config  ($VAULT_HOME, or $XDG_CONFIG_HOME/vault, or ~/.config/vault)
//!   identity.pem        the Ed25519 identity (PEM as dfx writes it, mode 0600)
//!   config.json         the default network and each network's vault canister id
//! data    ($VAULT_HOME, or $XDG_DATA_HOME/vault, or ~/.local/share/vault)
//!   replica/            the embedded local replica's state
//!   uploads/            resumable uploads: ids, wrapped keys and sealed blobs (no plaintext key)
//! runtime ($VAULT_HOME/run, or $XDG_RUNTIME_DIR/vault, or <data>/run)
//!   session-<canister>-<principal>   the unlocked master key, mode 0600, until it expires or `vault lock`
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// The client's directories.
#[derive(Clone, Debug)]
pub struct Home {
    /// Identity and settings.
    pub config: PathBuf,
    /// Replica state and upload journals.
    pub data: PathBuf,
    /// Unlocked sessions (a tmpfs cleared at logout, where the system has one).
    pub runtime: PathBuf,
}

/// What `config.json` holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The network used when none is named (`local`, `ic`, or a URL).
    #[serde(default)]
    pub network: Option<String>,
    /// The vault canister of this identity, per network name.
    #[serde(default)]
    pub vaults: BTreeMap<String, String>,
    /// Vault canisters of other people that share with this identity (`vault shared --from`).
    #[serde(default)]
    pub shared: Vec<String>,
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Home {
    /// The directories from the environment (see the module documentation).
    pub fn from_env() -> Result<Home, Error> {
        if let Some(home) = env_dir("VAULT_HOME") {
            return Ok(Home::at(&home));
        }
        let user = env_dir("HOME").ok_or_else(|| {
            Error::Invalid("no HOME: set VAULT_HOME to where the vault keeps its files".into())
        })?;
        let config = env_dir("XDG_CONFIG_HOME")
            .unwrap_or_else(|| user.join(".config"))
            .join("vault");
        let data = env_dir("XDG_DATA_HOME")
            .unwrap_or_else(|| user.join(".local/share"))
            .join("vault");
        let runtime = env_dir("XDG_RUNTIME_DIR")
            .map(|d| d.join("vault"))
            .unwrap_or_else(|| data.join("run"));
        Ok(Home {
            config,
            data,
            runtime,
        })
    }

    /// Everything under one directory (tests, portable installs).
    pub fn at(dir: &Path) -> Home {
        Home {
            config: dir.to_path_buf(),
            data: dir.to_path_buf(),
            runtime: dir.join("run"),
        }
    }

    /// The identity file.
    pub fn identity_file(&self) -> PathBuf {
        self.config.join("identity.pem")
    }

    /// The embedded local replica's state directory.
    pub fn replica_dir(&self) -> PathBuf {
        self.data.join("replica")
    }

    /// Where resumable uploads are journalled.
    pub fn uploads_dir(&self) -> PathBuf {
        self.data.join("uploads")
    }

    fn settings_file(&self) -> PathBuf {
        self.config.join("config.json")
    }

    /// The settings (defaults when there is no file yet).
    pub fn settings(&self) -> Result<Settings, Error> {
        let path = self.settings_file();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Invalid(format!(
                    "{} is not valid: {e}; fix or remove it",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Saves the settings (whole file replaced atomically).
    pub fn save_settings(&self, settings: &Settings) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(settings).expect("settings always serialise");
        write_atomic(&self.settings_file(), &json, 0o644)
    }
}

/// Writes `bytes` to `path` whole (a temporary file renamed over it), with `mode`, creating the
/// parent directory (mode 0700).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().expect("files are written in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&partial)
        .map_err(|e| Error::io(format!("writing {}", partial.display()), e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(format!("writing {}", partial.display()), e))?;
    std::fs::rename(&partial, path).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
