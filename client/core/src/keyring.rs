//! The keys a reader holds, and how a file's key is found from them.
//!
//! The owner has the master key, hence every album key (wrapped by it) and every file key. A
//! grantee has the album or file keys sealed to them; a link holder the one key its link wraps.
//! Reading a file is then the same for all three.

use std::collections::HashMap;

use vault_canister::model::types::FileInfo;
use vault_crypto::{
    AlbumId, AlbumKey, AlbumKeyId, FileId, FileKey, KeyWrapper, MasterKey, WrappedKey,
};

use crate::Error;

/// Keys that open files.
#[derive(Default)]
pub struct Keyring {
    master: Option<MasterKey>,
    albums: HashMap<([u8; 16], u32), AlbumKey>,
    files: HashMap<[u8; 16], FileKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("master", &self.master.is_some())
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
    /// The owner's: everything follows from the master key.
    pub fn owner(master: MasterKey) -> Keyring {
        Keyring {
            master: Some(master),
            ..Keyring::default()
        }
    }

    /// The master key, for the owner.
    pub fn master(&self) -> Option<&MasterKey> {
        self.master.as_ref()
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
        let master = self.master.as_ref().ok_or(Error::Locked)?;
        let wrapped = WrappedKey::from_bytes(wrapped)
            .map_err(|_| Error::Integrity("an album key is damaged".into()))?;
        let key: AlbumKey = master
            .unwrap_key(
                &wrapped,
                &AlbumKeyId {
                    album: AlbumId(album),
                    version,
                },
            )
            .map_err(|_| {
                Error::Integrity("an album key does not open with this vault's master key".into())
            })?;
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
                let master = self.master.as_ref().ok_or_else(|| {
                    Error::Integrity(format!("file {}: no key for it", hex::encode(id)))
                })?;
                master.unwrap_key(&wrapped, &FileId(id))
            }
        };
        opened.map_err(|_| {
            Error::Integrity(format!("file {}: its key does not open", hex::encode(id)))
        })
    }
}
