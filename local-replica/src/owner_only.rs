//! Directories and files that only their owner can open: the replica's state (stable memory
//! holds each vault's passphrase record) and the client's home (identity, unlocked sessions,
//! upload journals) are kept from the other users of the machine.
//!
//! Every directory is created with mode [`DIR_MODE`] and every file with [`FILE_MODE`], whatever
//! the process's umask. A directory that already exists must belong to this user: one that
//! another user owns is refused ([`OwnerOnlyError::OwnedByAnother`]: its owner could read, plant
//! or replace what is kept there); one that is ours but open to others is tightened, and refused
//! only if that fails.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `rwx------`: directories.
pub const DIR_MODE: u32 = 0o700;
/// `rw-------`: files.
pub const FILE_MODE: u32 = 0o600;
/// The permission bits of group and others.
const OTHERS: u32 = 0o077;

/// Why a directory cannot be used to keep private files.
#[derive(Debug, thiserror::Error)]
pub enum OwnerOnlyError {
    /// The directory belongs to another user.
    #[error(
        "{} belongs to another user (uid {owner}; you are uid {you}), who could read or replace \
         what is kept there: use a directory of your own (or have its owner remove it)",
        path.display()
    )]
    OwnedByAnother {
        /// The directory.
        path: PathBuf,
        /// Its owner's uid.
        owner: u32,
        /// This process's effective uid.
        you: u32,
    },
    /// The directory is open to other users and its mode could not be changed.
    #[error(
        "{} can be opened by other users (mode {mode:o}) and cannot be made private ({source}): \
         run `chmod 700 {}` or use another directory",
        path.display(),
        path.display()
    )]
    OpenToOthers {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Why `chmod` failed.
        source: io::Error,
    },
    /// Something that is not a directory is in the way.
    #[error("{} is not a directory: move it away", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Creating or inspecting the directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl From<OwnerOnlyError> for io::Error {
    fn from(e: OwnerOnlyError) -> io::Error {
        let kind = match &e {
            OwnerOnlyError::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::PermissionDenied,
        };
        io::Error::new(kind, e)
    }
}

/// This process's effective uid.
pub fn effective_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Creates `dir` (and any missing parent) with mode [`DIR_MODE`], or checks the one there:
/// ours, and closed to others (tightened if it is not).
pub fn ensure_dir(dir: &Path) -> Result<(), OwnerOnlyError> {
    let io_error = |source| OwnerOnlyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if let Err(e) = fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
    {
        return Err(match fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => OwnerOnlyError::NotADirectory {
                path: dir.to_path_buf(),
            },
            _ => io_error(e),
        });
    }
    check_dir(dir)
}

/// Checks an existing `dir`: it must be ours, and is tightened to [`DIR_MODE`] if others could
/// open it. (Following a symbolic link: the directory it names is what is checked.)
pub fn check_dir(dir: &Path) -> Result<(), OwnerOnlyError> {
    let meta = fs::metadata(dir).map_err(|source| OwnerOnlyError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(OwnerOnlyError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let you = effective_uid();
    if meta.uid() != you {
        return Err(OwnerOnlyError::OwnedByAnother {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            you,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & OTHERS != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(|source| {
            OwnerOnlyError::OpenToOthers {
                path: dir.to_path_buf(),
                mode,
                source,
            }
        })?;
    }
    Ok(())
}

/// Tightens what `dir` holds (not recursively): files of ours to [`FILE_MODE`], directories to
/// [`DIR_MODE`], where others could open them. Symbolic links and what others own are left.
/// For state written before modes were set at creation.
pub fn tighten_entries(dir: &Path) -> io::Result<()> {
    let you = effective_uid();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.file_type().is_symlink() || meta.uid() != you || meta.mode() & OTHERS == 0 {
            continue;
        }
        let mode = if meta.is_dir() { DIR_MODE } else { FILE_MODE };
        fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Options that create a file with mode [`FILE_MODE`] (an existing file keeps its mode).
pub fn file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// Creates (or truncates) `path` for writing, mode [`FILE_MODE`] if new.
pub fn create_file(path: &Path) -> io::Result<fs::File> {
    file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lr-owner-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn directories_are_created_private_whatever_the_umask() {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
        let root = temp("create");
        let dir = root.join("a/b");
        ensure_dir(&dir).unwrap();
        assert_eq!(mode(&root), DIR_MODE);
        assert_eq!(mode(&root.join("a")), DIR_MODE);
        assert_eq!(mode(&dir), DIR_MODE);
        drop(create_file(&dir.join("f")).unwrap());
        assert_eq!(mode(&dir.join("f")), FILE_MODE);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_open_directory_of_ours_is_tightened_with_what_it_holds() {
        let dir = temp("open");
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("file"), b"x").unwrap();
        for p in [&dir, &dir.join("sub"), &dir.join("file")] {
            fs::set_permissions(p, fs::Permissions::from_mode(0o777)).unwrap();
        }
        ensure_dir(&dir).unwrap();
        tighten_entries(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&dir.join("sub")), DIR_MODE);
        assert_eq!(mode(&dir.join("file")), FILE_MODE);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_of_another_user_is_refused() {
        let dir = temp("other");
        fs::create_dir_all(&dir).unwrap();
        let other = effective_uid().wrapping_add(4242);
        if nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(other)), None).is_err() {
            // Only root can give a file away; as anyone else this case cannot be made.
            eprintln!("skipped: cannot chown as uid {}", effective_uid());
            fs::remove_dir_all(&dir).unwrap();
            return;
        }
        let refused = ensure_dir(&dir).unwrap_err();
        assert!(
            matches!(refused, OwnerOnlyError::OwnedByAnother { owner, .. } if owner == other),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("use a directory of your own"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_in_the_way_is_refused() {
        let path = temp("file");
        fs::write(&path, b"x").unwrap();
        assert!(matches!(
            ensure_dir(&path),
            Err(OwnerOnlyError::NotADirectory { .. })
        ));
        fs::remove_file(&path).unwrap();
    }
}
