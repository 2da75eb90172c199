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
//!
//! Each directory is this user's alone: created with mode 0700 (files 0600) whatever the umask;
//! one that already exists must belong to this user — another user could plant an identity or
//! a session key there, or read them — and is closed to others if it was open
//! ([`local_replica::owner_only`]).

use std::path::{Path, PathBuf};

use local_replica::owner_only;
use zeroize::Zeroizing;

use crate::Error;
use crate::platform::{Item, Store};

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

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Home {
    /// The directories from the environment (see the module documentation), each checked to
    /// be this user's alone if it exists.
    pub fn from_env() -> Result<Home, Error> {
        let home = Home::from_env_unchecked()?;
        home.check()?;
        Ok(home)
    }

    /// Checks the directories that exist: each must belong to this user; one open to others
    /// is closed (mode 0700), with what it holds ([`Error::NotPrivate`] if that cannot be).
    pub fn check(&self) -> Result<(), Error> {
        for dir in [&self.config, &self.data, &self.runtime] {
            if !dir.exists() {
                continue;
            }
            owner_only::check_dir(dir)?;
            owner_only::tighten_entries(dir)
                .map_err(|e| Error::io(format!("making {} private", dir.display()), e))?;
        }
        Ok(())
    }

    fn from_env_unchecked() -> Result<Home, Error> {
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
        self.path(&Item::Identity)
    }

    /// The embedded local replica's state directory.
    pub fn replica_dir(&self) -> PathBuf {
        self.data.join("replica")
    }

    /// Where resumable uploads are journalled.
    pub fn uploads_dir(&self) -> PathBuf {
        self.data.join("uploads")
    }

    /// The file that keeps `item`.
    pub fn path(&self, item: &Item) -> PathBuf {
        let dir = match item {
            Item::Identity
            | Item::Settings
            | Item::KdfPin(_)
            | Item::Purchase { .. }
            | Item::IcpTopUp { .. }
            | Item::CyclesTopUp { .. } => &self.config,
            Item::Session { .. } => &self.runtime,
            Item::UploadJournal { .. } => return self.uploads_dir().join(item.name()),
        };
        dir.join(item.name())
    }
}

impl Store for Home {
    fn load(&self, item: &Item) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let path = self.path(item);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    fn save(&self, item: &Item, bytes: &[u8]) -> Result<(), Error> {
        write_atomic(&self.path(item), bytes, owner_only::FILE_MODE)
    }

    fn remove(&self, item: &Item) -> Result<bool, Error> {
        let path = self.path(item);
        if item.is_secret() {
            // Overwritten before it is unlinked: the key should not linger in a freed block.
            if let Ok(len) = std::fs::metadata(&path).map(|m| m.len()) {
                let _ = std::fs::write(&path, vec![0u8; len as usize]);
            }
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(format!("removing {}", path.display()), e)),
        }
    }

    fn describe(&self, item: &Item) -> String {
        self.path(item).display().to_string()
    }
}

/// Writes `bytes` to `path` whole (a temporary file renamed over it), with `mode`, in a
/// directory of this user's alone (created with mode 0700; refused if another user's).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().expect("files are written in a directory");
    owner_only::ensure_dir(dir)?;
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::Identity;
    use crate::settings::Settings;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vault-home-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn what_the_client_keeps_is_private_whatever_the_umask() {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
        let root = temp("modes");
        let home = Home::at(&root.join("vault"));
        Settings::default().save(&home).unwrap();
        Identity::load_or_create(&home).unwrap();
        let canister = candid::Principal::from_slice(&[1; 10]);
        let master =
            crate::keyring::MasterKeys::first(vault_crypto::MasterKey::from_bytes([7; 32]));
        crate::unlocked::save(
            &home,
            &canister,
            &canister,
            &master,
            std::time::Duration::from_secs(60),
        )
        .unwrap();
        let journal = Item::UploadJournal {
            canister,
            file: [1; 16],
        };
        home.save(&journal, b"{}").unwrap();
        assert_eq!(mode(&root), 0o700, "a parent it created");
        for dir in [&home.config, &home.runtime, &home.uploads_dir()] {
            assert_eq!(mode(dir), 0o700, "{}", dir.display());
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let want = if path.is_dir() { 0o700 } else { 0o600 };
                assert_eq!(mode(&path), want, "{}", path.display());
            }
        }
        assert!(crate::unlocked::load(&home, &canister, &canister).is_some());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_open_home_of_ours_is_closed() {
        use std::os::unix::fs::PermissionsExt;
        let root = temp("open");
        let home = Home::at(&root);
        Settings::default().save(&home).unwrap();
        for path in [&root, &home.path(&Item::Settings)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        home.check().unwrap();
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&home.path(&Item::Settings)), 0o600);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_home_or_session_directory_of_another_user_is_refused() {
        let root = temp("other");
        let home = Home::at(&root);
        Settings::default().save(&home).unwrap();
        std::fs::create_dir_all(&home.runtime).unwrap();
        let me = std::fs::metadata(&root).unwrap().uid();
        let other = me.wrapping_add(4242);
        // Only root can give a directory away; as anyone else this case cannot be made.
        if std::os::unix::fs::chown(&home.runtime, Some(other), None).is_err() {
            eprintln!("skipped: uid {me} cannot chown");
            return;
        }
        let refused = home.check().unwrap_err();
        assert!(
            matches!(&refused, Error::NotPrivate(_))
                && refused.to_string().contains("another user"),
            "{refused}"
        );
        // Writing a session there is refused too, before anything is written.
        let canister = candid::Principal::from_slice(&[1; 10]);
        let master =
            crate::keyring::MasterKeys::first(vault_crypto::MasterKey::from_bytes([7; 32]));
        let refused = crate::unlocked::save(
            &home,
            &canister,
            &canister,
            &master,
            std::time::Duration::from_secs(60),
        )
        .unwrap_err();
        assert!(matches!(refused, Error::NotPrivate(_)), "{refused}");
        assert_eq!(std::fs::read_dir(&home.runtime).unwrap().count(), 0);

        std::os::unix::fs::chown(&home.runtime, Some(me), None).unwrap();
        std::os::unix::fs::chown(&root, Some(other), None).unwrap();
        assert!(matches!(home.check(), Err(Error::NotPrivate(_))));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
