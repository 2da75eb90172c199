//! Reading files — as their owner, a grantee or a link holder — and exporting them: the
//! original bytes, under their name and dates, checked against the SHA-256 sealed in their
//! metadata.

use std::path::PathBuf;

use futures_util::{StreamExt, TryStreamExt};
use sha2::Digest;
use vault_crypto::{FileMetadata, StreamCipher, StreamHeader, StreamKind, open_blob};
use vault_interface::types::{FileInfo, LinkAccess, ListFilesArgs};

use crate::keyring::{Keyring, id16};
use crate::records::{FileEntry, FileId};
use crate::{Error, VaultCanister};

/// Chunks fetched at once while exporting one file.
pub const DOWNLOAD_PARALLEL: usize = 4;

/// Reads files with a set of keys (and a link's access, for a link holder).
pub struct Reader {
    /// The canister holding the files.
    pub canister: VaultCanister,
    /// The keys held.
    pub keys: Keyring,
    /// A link's access token, presented with every read.
    pub link: Option<LinkAccess>,
}

/// One exported file.
#[derive(Clone, Debug)]
pub struct Exported {
    /// The file's id.
    pub id: FileId,
    /// Where it was written.
    pub path: PathBuf,
    /// Bytes.
    pub size: u64,
    /// Its SHA-256, verified.
    pub sha256: [u8; 32],
}

impl Reader {
    /// A reader of `canister`'s files with `keys`.
    pub fn new(canister: VaultCanister, keys: Keyring, link: Option<LinkAccess>) -> Reader {
        Reader {
            canister,
            keys,
            link,
        }
    }

    /// Decrypts a file's metadata.
    pub fn metadata(&self, info: &FileInfo) -> Result<FileMetadata, Error> {
        let key = self.keys.file_key(info)?;
        FileMetadata::open(&key, &info.metadata).map_err(|e| {
            Error::Integrity(format!("file {}: its metadata: {e}", hex::encode(&info.id)))
        })
    }

    /// The record of one file, decrypted.
    pub fn entry(&self, info: &FileInfo) -> Result<FileEntry, Error> {
        FileEntry::new(info, &self.metadata(info)?)
    }

    /// Every file of the timeline, an album or the trash, newest first (all pages).
    pub async fn list_infos(
        &self,
        album: Option<[u8; 16]>,
        trashed: bool,
    ) -> Result<Vec<FileInfo>, Error> {
        let mut files = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .canister
                .list_files(ListFilesArgs {
                    album: album.map(|a| serde_bytes::ByteBuf::from(a.to_vec())),
                    after,
                    limit: Some(vault_interface::limits::MAX_PAGE),
                    descending: Some(true),
                    trashed: Some(trashed),
                    link: self.link.clone(),
                })
                .await?;
            files.extend(page.files);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(files),
            }
        }
    }

    /// [`Self::list_infos`], decrypted. Any file that does not decrypt fails the listing with
    /// an integrity error naming it: a reader shown a file sees all of it or is told why not.
    pub async fn list(
        &self,
        album: Option<[u8; 16]>,
        trashed: bool,
    ) -> Result<Vec<FileEntry>, Error> {
        let infos = self.list_infos(album, trashed).await?;
        let mut entries = Vec::with_capacity(infos.len());
        for info in &infos {
            entries.push(self.entry(info)?);
        }
        Ok(entries)
    }

    /// A file's thumbnail (JPEG), if it has one.
    pub async fn thumbnail(&self, info: &FileInfo) -> Result<Option<Vec<u8>>, Error> {
        if info.thumbnail_size == 0 {
            return Ok(None);
        }
        let sealed = self
            .canister
            .get_thumbnail(&info.id, self.link.clone())
            .await?;
        let key = self.keys.file_key(info)?;
        open_blob(&key, StreamKind::Thumbnail, &sealed)
            .map(Some)
            .map_err(|_| {
                Error::Integrity(format!(
                    "file {}: its thumbnail does not decrypt",
                    hex::encode(&info.id)
                ))
            })
    }

    /// The original of `info`, decrypted into memory and checked against its SHA-256 (for a
    /// viewer; [`Self::export`] writes it to a file instead).
    pub async fn original(&self, info: &FileInfo) -> Result<Vec<u8>, Error> {
        let meta = self.metadata(info)?;
        let mut out = Vec::with_capacity(usize::try_from(meta.size.min(1 << 28)).unwrap_or(0));
        self.decrypt_chunks(info, &meta, |plain| {
            out.extend_from_slice(plain);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Fetches and decrypts the content chunks in order, handing each to `sink`; checks the
    /// size and SHA-256 against the metadata at the end.
    pub async fn decrypt_chunks(
        &self,
        info: &FileInfo,
        meta: &FileMetadata,
        mut sink: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<[u8; 32], Error> {
        let id = id16(&info.id)?;
        let key = self.keys.file_key(info)?;
        let header = StreamHeader::from_bytes(&info.content_header).map_err(|_| {
            Error::Integrity(format!("file {}: its header is damaged", hex::encode(id)))
        })?;
        let cipher = std::sync::Arc::new(StreamCipher::new(&key, StreamKind::Content, &header));
        let count = info.chunk_count;
        let mut sha = sha2::Sha256::new();
        let mut written = 0u64;
        let mut chunks = futures_util::stream::iter(0..count)
            .map(|index| self.fetch_chunk(cipher.clone(), id, index, count))
            .buffered(DOWNLOAD_PARALLEL);
        while let Some(plain) = chunks.try_next().await? {
            sha.update(&plain);
            written += plain.len() as u64;
            sink(&plain)?;
        }
        let sha: [u8; 32] = sha.finalize().into();
        if written != meta.size || sha != meta.content_sha256 {
            return Err(Error::Integrity(format!(
                "file {}: the downloaded bytes do not match the original's size and SHA-256",
                hex::encode(id)
            )));
        }
        Ok(sha)
    }

    /// Content chunk `index` of `info`'s original, alone: what a video played from the middle
    /// needs. Its place is authenticated (the chunk's nonce holds its index and whether it is
    /// the last), and its length is checked against the size sealed in `meta`, which also
    /// decides how many chunks there are; the whole file's SHA-256 is not (only
    /// [`Self::decrypt_chunks`] reads it all).
    pub async fn chunk(
        &self,
        info: &FileInfo,
        meta: &FileMetadata,
        index: u32,
    ) -> Result<Vec<u8>, Error> {
        let id = id16(&info.id)?;
        let count = vault_crypto::chunk_count(meta.size);
        if u64::from(info.chunk_count) != count {
            return Err(Error::Integrity(format!(
                "file {}: {} chunks listed for {} bytes",
                hex::encode(id),
                info.chunk_count,
                meta.size
            )));
        }
        if u64::from(index) >= count {
            return Err(Error::NotFound(format!(
                "chunk {index} of file {}: it has {count}",
                hex::encode(id)
            )));
        }
        let key = self.keys.file_key(info)?;
        let header = StreamHeader::from_bytes(&info.content_header).map_err(|_| {
            Error::Integrity(format!("file {}: its header is damaged", hex::encode(id)))
        })?;
        let cipher = std::sync::Arc::new(StreamCipher::new(&key, StreamKind::Content, &header));
        let plain = self
            .fetch_chunk(cipher, id, index, info.chunk_count)
            .await?;
        let expected = meta
            .size
            .saturating_sub(u64::from(index) * vault_crypto::CHUNK_SIZE as u64)
            .min(vault_crypto::CHUNK_SIZE as u64);
        if plain.len() as u64 != expected {
            return Err(Error::Integrity(format!(
                "file {}: chunk {index} is not the length its size says",
                hex::encode(id)
            )));
        }
        Ok(plain)
    }

    /// Fetches and decrypts chunk `index` of `count` of file `id`'s content.
    async fn fetch_chunk(
        &self,
        cipher: std::sync::Arc<StreamCipher>,
        id: [u8; 16],
        index: u32,
        count: u32,
    ) -> Result<Vec<u8>, Error> {
        let mut data = self
            .canister
            .get_chunk(&id, index, self.link.clone())
            .await?;
        crate::platform::blocking(move || {
            cipher
                .decrypt_chunk(u64::from(index), index + 1 == count, &mut data)
                .map(|()| data)
        })
        .await
        .map_err(|_| {
            Error::Integrity(format!(
                "file {}: chunk {index} does not decrypt",
                hex::encode(id)
            ))
        })
    }
}

/// Exporting to files, natively.
#[cfg(not(target_arch = "wasm32"))]
impl Reader {
    /// Writes the original of `info` into `dir` under its own name (made unique), with its
    /// modification time, after checking its SHA-256. Nothing is left behind on failure.
    pub async fn export(&self, info: &FileInfo, dir: &std::path::Path) -> Result<Exported, Error> {
        let meta = self.metadata(info)?;
        let path = unique_path(dir, &export_name(&meta));
        let mut partial = std::ffi::OsString::from(".");
        partial.push(path.file_name().expect("a file name"));
        partial.push(".partial");
        let partial = path.with_file_name(partial);
        let result = self.download(info, &meta, &partial).await;
        match result {
            Ok(sha) => {
                std::fs::rename(&partial, &path)
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                if let Some(ms) = meta.modified_at.or(meta.taken_at) {
                    let time = filetime::FileTime::from_unix_time(
                        ms.div_euclid(1000),
                        (ms.rem_euclid(1000) * 1_000_000) as u32,
                    );
                    let _ = filetime::set_file_times(&path, time, time);
                }
                Ok(Exported {
                    id: crate::records::file_id(&info.id)?,
                    path,
                    size: meta.size,
                    sha256: sha,
                })
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }

    async fn download(
        &self,
        info: &FileInfo,
        meta: &FileMetadata,
        to: &std::path::Path,
    ) -> Result<[u8; 32], Error> {
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(to)
                .map_err(|e| Error::io(format!("writing {}", to.display()), e))?,
        );
        let sha = self
            .decrypt_chunks(info, meta, |plain| {
                out.write_all(plain)
                    .map_err(|e| Error::io(format!("writing {}", to.display()), e))
            })
            .await?;
        out.into_inner()
            .map_err(|e| Error::io(format!("writing {}", to.display()), e.into_error()))?
            .sync_all()
            .map_err(|e| Error::io(format!("writing {}", to.display()), e))?;
        Ok(sha)
    }
}

#[cfg(not(target_arch = "wasm32"))]
/// The name an export gives a file: its own (its bytes where they are not UTF-8), made safe.
/// The bytes count only where they read as the name shown (their lossy UTF-8 form is `name`):
/// a record from someone else cannot show one name and export under another.
fn export_name(meta: &FileMetadata) -> std::ffi::OsString {
    let raw = meta
        .name_bytes
        .as_deref()
        .filter(|bytes| String::from_utf8_lossy(bytes) == meta.name)
        .unwrap_or(meta.name.as_bytes());
    let safe = safe_name(raw);
    #[cfg(unix)]
    return std::os::unix::ffi::OsStringExt::from_vec(safe);
    #[cfg(not(unix))]
    return String::from_utf8_lossy(&safe).into_owned().into();
}

#[cfg(not(target_arch = "wasm32"))]
/// A file name safe to create: no directories, no control characters, no hidden-file
/// surprises. Bytes that are not UTF-8 are kept as they are.
fn safe_name(name: &[u8]) -> Vec<u8> {
    let base = name
        .rsplit(|&b| b == b'/' || b == b'\\')
        .next()
        .unwrap_or_default();
    let mut cleaned = Vec::with_capacity(base.len());
    for chunk in base.utf8_chunks() {
        for c in chunk.valid().chars() {
            let c = if c.is_control() { '_' } else { c };
            cleaned.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        cleaned.extend_from_slice(chunk.invalid());
    }
    let trimmed = match std::str::from_utf8(&cleaned) {
        Ok(text) => text.trim().as_bytes(),
        Err(_) => cleaned.trim_ascii(),
    };
    match trimmed {
        b"" | b"." | b".." => b"unnamed".to_vec(),
        other => {
            let hidden = other.iter().take_while(|&&b| b == b'.').count();
            other[hidden..].to_vec()
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
/// `dir/name`, or `dir/stem (2).ext` … if taken.
fn unique_path(dir: &std::path::Path, name: &std::ffi::OsStr) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let name = std::path::Path::new(name);
    let stem = name.file_stem().unwrap_or(name.as_os_str());
    (2..)
        .map(|n| {
            let mut candidate = stem.to_os_string();
            candidate.push(format!(" ({n})"));
            if let Some(ext) = name.extension() {
                candidate.push(".");
                candidate.push(ext);
            }
            dir.join(candidate)
        })
        .find(|p| !p.exists())
        .expect("some name is free")
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    #[test]
    fn an_exported_name_keeps_its_bytes_and_loses_only_what_is_unsafe() {
        assert_eq!(safe_name(b"caf\xe9.jpg"), b"caf\xe9.jpg");
        assert_eq!(safe_name(b"../../etc/\xffpasswd"), b"\xffpasswd");
        assert_eq!(safe_name(b"a\\b\x07c\xc2\x85d.jpg"), b"b_c_d.jpg");
        assert_eq!(safe_name(b" ..hidden\xfe "), b"hidden\xfe");
        assert_eq!(safe_name("  Été\u{3000}".as_bytes()), "Été".as_bytes());
        for nothing in [&b""[..], b"..", b"dir/", b" . "] {
            assert_eq!(safe_name(nothing), b"unnamed");
        }
        let meta = FileMetadata {
            name: "caf\u{fffd}.jpg".into(),
            name_bytes: Some(b"caf\xe9.jpg".to_vec()),
            ..FileMetadata::default()
        };
        assert_eq!(export_name(&meta).as_bytes(), b"caf\xe9.jpg");
        let disguised = FileMetadata {
            name: "holiday.jpg".into(),
            name_bytes: Some(b"run\xff.desktop".to_vec()),
            ..FileMetadata::default()
        };
        assert_eq!(export_name(&disguised).as_bytes(), b"holiday.jpg");

        let dir = tempfile::tempdir().unwrap();
        let name = export_name(&meta);
        std::fs::write(dir.path().join(&name), b"").unwrap();
        let second = unique_path(dir.path(), &name);
        assert_eq!(second.file_name().unwrap().as_bytes(), b"caf\xe9 (2).jpg");
    }
}
