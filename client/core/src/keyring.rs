//! The keys a reader holds, and how a file's key is found from them.
//!
//! The owner has the master key, hence every album key (wrapped by it) and every file key. A
//! grantee has the album or file keys sealed to them; a link holder the one key its link wraps.
//! Reading a file is then the same for all three.

use std::collections::{HashMap, HashSet};

use serde_bytes::ByteBuf;
use vault_crypto::{
    AlbumId, AlbumKey, AlbumKeyId, FileId, FileKey, KeyWrapper, MasterGeneration, MasterKey,
    WrappedKey,
};
use vault_interface::types::FileInfo;

use crate::Error;

/// The owner's master keys: the current generation's, which wraps everything new, and the
/// earlier generations' (docs/FORMAT.md §3), which still open what was wrapped before a
/// rotation. Zeroized on drop (each key is); never printed.
#[derive(Clone)]
pub struct MasterKeys {
    current: MasterKey,
    generation: MasterGeneration,
    /// Generations `generation - 1` down to 0.
    earlier: Vec<MasterKey>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("generation", &self.generation.0)
            .finish_non_exhaustive()
    }
}

impl MasterKeys {
    /// A vault's first master key (generation 0).
    pub fn first(current: MasterKey) -> MasterKeys {
        MasterKeys {
            current,
            generation: MasterGeneration(0),
            earlier: Vec::new(),
        }
    }

    /// Keys from a session file: the current one of `generation`, and the earlier ones.
    pub(crate) fn from_parts(
        current: MasterKey,
        generation: MasterGeneration,
        earlier: Vec<MasterKey>,
    ) -> Option<MasterKeys> {
        (earlier.len() == generation.0 as usize).then_some(MasterKeys {
            current,
            generation,
            earlier,
        })
    }

    /// The current key of `generation` (opened from a wrapping bound to it), and the chain the
    /// profile holds: entry `g` is generation `g`'s key wrapped by generation `g + 1`'s. Each
    /// link opens only under the next key with its own generation bound in, so a chain that
    /// is not this vault's (one node's answer) is refused rather than half used.
    pub fn open_chain(
        current: MasterKey,
        generation: MasterGeneration,
        chain: &[ByteBuf],
    ) -> Result<MasterKeys, Error> {
        if chain.len() != generation.0 as usize {
            return Err(Error::Integrity(format!(
                "the vault lists {} earlier master keys for generation {}: the answer may have \
                 been altered; try again",
                chain.len(),
                generation.0
            )));
        }
        let mut earlier: Vec<MasterKey> = Vec::with_capacity(chain.len());
        for (g, wrapped) in chain.iter().enumerate().rev() {
            let under = earlier.last().unwrap_or(&current);
            let key = WrappedKey::from_bytes(wrapped)
                .ok()
                .and_then(|w| under.unwrap_key(&w, &MasterGeneration(g as u32)).ok())
                .ok_or_else(|| {
                    Error::Integrity(format!(
                        "the vault's master key of generation {g} does not open: the answer \
                         may have been altered; try again"
                    ))
                })?;
            earlier.push(key);
        }
        Ok(MasterKeys {
            current,
            generation,
            earlier,
        })
    }

    /// The key everything new is wrapped under.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The current key's generation.
    pub fn generation(&self) -> MasterGeneration {
        self.generation
    }

    /// The earlier keys, newest first.
    pub fn earlier(&self) -> &[MasterKey] {
        &self.earlier
    }

    /// Every key, the current one first.
    pub fn all(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&self.current).chain(&self.earlier)
    }

    /// Generation 0's key: the dedupe key is derived from it (FORMAT §11), so that a photo
    /// uploaded again after a rotation is still found.
    pub fn first_generation(&self) -> &MasterKey {
        self.earlier.last().unwrap_or(&self.current)
    }

    /// These keys after a rotation to `new`: the current one becomes the newest earlier key.
    pub fn rotated(&self, new: MasterKey) -> MasterKeys {
        let mut earlier = Vec::with_capacity(self.earlier.len() + 1);
        earlier.push(self.current.clone());
        earlier.extend(self.earlier.iter().cloned());
        MasterKeys {
            current: new,
            generation: MasterGeneration(self.generation.0 + 1),
            earlier,
        }
    }
}

/// Keys that open files.
#[derive(Default)]
pub struct Keyring {
    master: Option<MasterKeys>,
    albums: HashMap<([u8; 16], u32), AlbumKey>,
    /// Album key versions that opened only under an earlier master key: made before a
    /// rotation, so a removed device may hold them. Nothing new is wrapped under them.
    stale: HashSet<([u8; 16], u32)>,
    files: HashMap<[u8; 16], FileKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("master", &self.master)
            .field("album_keys", &self.albums.len())
            .field("file_keys", &self.files.len())
            .finish()
    }
}

/// A 16-byte id from the canister's bytes.
pub fn id16(bytes: &[u8]) -> Result<[u8; 16], Error> {
    bytes
        .try_into()
        .map_err(|_| Error::Agent(format!("the canister sent an id of {} bytes", bytes.len())))
}

impl Keyring {
    /// The owner's: everything follows from the master keys.
    pub fn owner(master: MasterKeys) -> Keyring {
        Keyring {
            master: Some(master),
            ..Keyring::default()
        }
    }

    /// The current master key, for the owner.
    pub fn master(&self) -> Option<&MasterKey> {
        self.master.as_ref().map(MasterKeys::current)
    }

    /// Every master key, for the owner.
    pub fn masters(&self) -> Option<&MasterKeys> {
        self.master.as_ref()
    }

    /// Whether album key `version` opened only under an earlier master key (see `stale`).
    pub fn is_stale(&self, album: &[u8; 16], version: u32) -> bool {
        self.stale.contains(&(*album, version))
    }

    /// Adds an album key of `version`.
    pub fn add_album_key(&mut self, album: [u8; 16], version: u32, key: AlbumKey) {
        self.albums.insert((album, version), key);
    }

    /// Adds a file key (a file shared or linked on its own).
    pub fn add_file_key(&mut self, file: [u8; 16], key: FileKey) {
        self.files.insert(file, key);
    }

    /// Unwraps and adds an album key wrapped by the master key.
    pub fn add_wrapped_album_key(
        &mut self,
        album: [u8; 16],
        version: u32,
        wrapped: &[u8],
    ) -> Result<(), Error> {
        let masters = self.master.as_ref().ok_or(Error::Locked)?;
        let wrapped = WrappedKey::from_bytes(wrapped)
            .map_err(|_| Error::Integrity("an album key is damaged".into()))?;
        let id = AlbumKeyId {
            album: AlbumId(album),
            version,
        };
        let (current, key) = masters
            .all()
            .enumerate()
            .find_map(|(i, m)| {
                m.unwrap_key::<AlbumKey>(&wrapped, &id)
                    .ok()
                    .map(|k| (i == 0, k))
            })
            .ok_or_else(|| {
                Error::Integrity("an album key does not open with this vault's master key".into())
            })?;
        if !current {
            self.stale.insert((album, version));
        }
        self.add_album_key(album, version, key);
        Ok(())
    }

    /// Album key `version`, if held.
    pub fn album_key(&self, album: &[u8; 16], version: u32) -> Option<&AlbumKey> {
        self.albums.get(&(*album, version))
    }

    /// The newest version of an album's key held.
    pub fn newest_album_key(&self, album: &[u8; 16]) -> Option<(u32, &AlbumKey)> {
        self.albums
            .iter()
            .filter(|((a, _), _)| a == album)
            .max_by_key(|((_, v), _)| *v)
            .map(|((_, v), k)| (*v, k))
    }

    /// Opens an album's sealed name with the newest key that opens it.
    pub fn album_name(&self, album: &[u8; 16], sealed: &[u8]) -> Option<String> {
        let mut versions: Vec<_> = self
            .albums
            .iter()
            .filter(|((a, _), _)| a == album)
            .collect();
        versions.sort_by_key(|((_, v), _)| std::cmp::Reverse(*v));
        versions
            .into_iter()
            .find_map(|(_, key)| vault_crypto::open_album_name(key, sealed).ok())
    }

    /// The key of the file `info` describes.
    pub fn file_key(&self, info: &FileInfo) -> Result<FileKey, Error> {
        let id = id16(&info.id)?;
        if let Some(key) = self.files.get(&id) {
            return Ok(FileKey::from_bytes(*key.expose_secret()));
        }
        let wrapped = WrappedKey::from_bytes(&info.wrapped_key).map_err(|_| {
            Error::Integrity(format!("file {}: its key is damaged", hex::encode(id)))
        })?;
        let opened = match &info.album {
            Some(album) => {
                let album = id16(album)?;
                let key = self.album_key(&album, info.key_version).ok_or_else(|| {
                    Error::Integrity(format!(
                        "file {}: no key for its album's version {} (added after your access was revoked?)",
                        hex::encode(id),
                        info.key_version
                    ))
                })?;
                key.unwrap_key(&wrapped, &FileId(id))
            }
            None => {
                let masters = self.master.as_ref().ok_or_else(|| {
                    Error::Integrity(format!("file {}: no key for it", hex::encode(id)))
                })?;
                // A file in no album is wrapped by the master key of its day.
                masters
                    .all()
                    .find_map(|m| m.unwrap_key(&wrapped, &FileId(id)).ok())
                    .ok_or(vault_crypto::DecryptError::DecryptionFailed)
            }
        };
        opened.map_err(|_| {
            Error::Integrity(format!("file {}: its key does not open", hex::encode(id)))
        })
    }
}
