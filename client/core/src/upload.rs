//! The upload pipeline: read, EXIF, thumbnail, dedupe, encrypt, send chunks in parallel, commit.
//!
//! Every file is read streaming: once for its SHA-256 and keyed dedupe hash (which
//! `begin_upload` needs before any chunk is sent, to refuse a duplicate or a quota overrun),
//! then chunk by chunk to encrypt and send, with at most [`CHUNKS_IN_FLIGHT`] chunks in memory.
//! An image of at most [`WHOLE_IMAGE_BYTES`] is kept in memory by the first read, for its
//! EXIF and thumbnail, so it is read from disk twice; a larger one is read once more between
//! the two, by its thumbnail's decoder.
//!
//! **Resume.** Before `begin_upload`, the upload's parameters — file id, content header, the
//! file key wrapped by the master key, sealed metadata and thumbnail: nothing in plaintext — are
//! journalled under `uploads/` by the file's dedupe hash. A rerun finds the journal, encrypts
//! identically (same key and header), calls `begin_upload` with the same arguments, and sends
//! only the chunks the canister reports missing. The journal is removed on commit.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::Digest;
use tokio::sync::Semaphore;
use vault_crypto::{
    CHUNK_SIZE, DedupeKey, FileId, FileKey, FileMetadata, KeyWrapper, StreamHeader, StreamKind,
    WrappedKey, chunk_count, seal_blob,
};
use vault_interface::types::{BeginUploadArgs, UploadStatus, VaultError};

use crate::photo::{HEAD_BYTES, PhotoInfo, Thumbnail, VideoFacts, thumbnailable};
#[cfg(not(target_arch = "wasm32"))]
use crate::photo::{thumbnail, thumbnail_of_bytes};
use crate::platform::Item;
use crate::vault::{Vault, hex_id};
use crate::{Error, VaultCanister};

/// Encrypted chunks in flight at once (sent or waiting to be): bounds memory to about twice
/// this many MiB whatever the file's size.
pub const CHUNKS_IN_FLIGHT: usize = 8;
/// Files prepared and sent at once (small photos are round-trip bound).
pub const FILES_IN_FLIGHT: usize = 3;
/// Largest image kept in memory from hashing it to make its thumbnail (so it is not read a
/// third time): with [`FILES_IN_FLIGHT`] files prepared at once, at most three times this.
/// Phone photos are 2–12 MB; a larger image (a panorama, a RAW-sized TIFF) is read again.
pub const WHOLE_IMAGE_BYTES: u64 = 32 << 20;
/// Times a chunk is sent again after a transport failure.
const CHUNK_RETRIES: u32 = 3;

/// A file to upload from somewhere other than this machine's file system: a browser's `File`
/// (`vault-web`). Its bytes are read in pieces, as they are needed, so a large video is never
/// held whole.
pub trait FileSource: crate::platform::MaybeSync {
    /// Its name, as the vault keeps it (a browser gives no folders).
    fn name(&self) -> &str;
    /// How progress, results and a retry name it on this device: its name, unless another
    /// file chosen here has the same one (then [`numbered`]).
    fn label(&self) -> String {
        self.name().to_owned()
    }
    /// Its length in bytes.
    fn size(&self) -> u64;
    /// When it was last changed, in milliseconds since the Unix epoch, if known.
    fn modified_ms(&self) -> Option<i64>;
    /// Up to `len` of its bytes from `offset` (fewer only at its end).
    fn read(&self, offset: u64, len: usize)
    -> crate::platform::Pending<'_, Result<Vec<u8>, Error>>;
    /// Its thumbnail made by the platform, where it decodes images itself (a browser does, HEIC
    /// included where it can show it), `info` being what its header says (its type, its size
    /// as stored: a JPEG is decoded at a scale that still fills the thumbnail); `None` lets
    /// vault-client's own decoders make it.
    fn thumbnail<'a>(
        &'a self,
        _info: &'a PhotoInfo,
    ) -> Option<crate::platform::Pending<'a, Result<Thumbnail, String>>> {
        None
    }

    /// What the platform's own player tells of this video (a browser's): a poster frame, its
    /// length and picture size. `None` where the platform has no player: nothing is then known
    /// of a video uploaded from it.
    fn video(&self) -> Option<crate::platform::Pending<'_, Result<VideoFacts, String>>> {
        None
    }
}

/// One file to upload: a path here, or a platform's [`FileSource`].
#[derive(Clone)]
enum Input {
    Path(PathBuf),
    Source(Arc<dyn FileSource>),
}

impl Input {
    /// How results and progress name it: its path, or the source's name.
    fn path(&self) -> PathBuf {
        match self {
            Input::Path(path) => path.clone(),
            Input::Source(source) => PathBuf::from(source.label()),
        }
    }
}

/// A thumbnail by vault-client's own decoders, for a platform that has none of its own. A
/// browser build carries no image decoders (they are most of a megabyte of wasm): there the
/// browser makes thumbnails ([`FileSource::thumbnail`]).
fn own_thumbnail(bytes: &[u8], info: &PhotoInfo) -> Result<Option<Thumbnail>, String> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        thumbnail_of_bytes(bytes, info).map_err(|e| e.to_string())
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = bytes;
        match info.mime.starts_with("image/") {
            true => Err("this browser cannot show this image".into()),
            false => Ok(None),
        }
    }
}

/// The `n`th file of a name among files chosen together: `IMG_0001 (2).jpg` (the extension
/// kept last, so the type is still read from it); the first is the name itself.
pub fn numbered(name: &str, n: usize) -> String {
    if n <= 1 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// What became of one file.
#[derive(Clone, Debug)]
pub struct Uploaded {
    /// The file.
    pub path: PathBuf,
    /// Its id in the vault.
    pub id: vault_crypto::FileId,
    /// What became of it.
    pub outcome: UploadOutcome,
    /// Bytes of the original.
    pub size: u64,
    /// Chunks the file has.
    pub chunks_total: u32,
    /// Chunks this run sent.
    pub chunks_sent: u32,
    /// Why it was stored without a thumbnail, when it looked like an image but none could be
    /// made (an empty or truncated file, a coding this build cannot decode).
    pub no_thumbnail: Option<String>,
}

/// What became of one file of an upload (`uploaded`, `resumed` or `duplicate` as text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadOutcome {
    /// Sent whole.
    Uploaded,
    /// An upload an earlier run began, finished (only the missing chunks were sent).
    Resumed,
    /// Already in the vault (as [`Uploaded::id`]): nothing was sent.
    Duplicate,
}

impl std::fmt::Display for UploadOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UploadOutcome::Uploaded => "uploaded",
            UploadOutcome::Resumed => "resumed",
            UploadOutcome::Duplicate => "duplicate",
        })
    }
}

/// Which of its two passes over a file an upload advanced in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Read and hashed (with its EXIF and thumbnail made).
    Read,
    /// Sent, or found already in the vault (a duplicate, the chunks a resumed upload had
    /// sent before).
    Sent,
}

/// Hears how an upload goes (progress bars, the app's view). Called from several tasks.
pub trait UploadProgress: Send + Sync {
    /// The whole batch: files and their bytes. Every byte is advanced twice, once in each
    /// [`Pass`]; a file that fails stops short.
    fn begin(&self, _files: usize, _bytes: u64) {}
    /// `bytes` more of file `path` are done in `pass`.
    fn advance(&self, _path: &Path, _pass: Pass, _bytes: u64) {}
    /// One file finished, or failed.
    fn file_done(&self, _path: &Path, _result: &Result<Uploaded, Error>) {}
}

/// No progress reporting.
pub struct Quiet;
impl UploadProgress for Quiet {}

/// Where uploaded files go.
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    /// Into this album (name or id).
    pub album: Option<String>,
}

/// The journal of a file's upload in progress (all ciphertext and ids, hex).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Journal {
    canister: String,
    file_id: String,
    size: u64,
    sha256: String,
    content_header: String,
    wrapped_key: String,
    key_by_master: String,
    album: Option<String>,
    key_version: u32,
    metadata: String,
    thumbnail: Option<String>,
    dedupe_hash: String,
    sort_key: i64,
}

/// What the paths named hold.
#[derive(Debug)]
pub struct Collected<F = PathBuf> {
    /// The files, with their sizes: each path's in order, each folder's sorted by name.
    pub files: Vec<(F, u64)>,
    /// Entries inside folders that could not be read (a symlink loop, a folder without
    /// permission): each fails alone, the rest of the batch goes on.
    pub unreadable: Vec<(PathBuf, Error)>,
}

/// Every file under `paths` (folders walked, hidden files and folders skipped, a folder
/// reached twice through symlinks walked once). A path that does not exist is the user's
/// mistake ([`Error::Invalid`]); nothing is uploaded then.
pub fn collect_files(paths: &[PathBuf]) -> Result<Collected, Error> {
    let mut out = Collected {
        files: Vec::new(),
        unreadable: Vec::new(),
    };
    let mut walked = HashSet::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::Invalid(format!("{}: no such file or folder", path.display()))
            }
            _ => Error::io(format!("reading {}", path.display()), e),
        })?;
        if meta.is_dir() {
            let mut stack = vec![path.clone()];
            while let Some(dir) = stack.pop() {
                // A folder reached again (a symlink to an ancestor) is not walked again.
                if !walked.insert(std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone())) {
                    continue;
                }
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) => {
                        let what = format!("reading {}", dir.display());
                        out.unreadable.push((dir, Error::io(what, e)));
                        continue;
                    }
                };
                let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
                entries.sort_by_key(|e| e.file_name());
                for entry in entries {
                    if entry.file_name().to_string_lossy().starts_with('.') {
                        continue;
                    }
                    let p = entry.path();
                    match std::fs::metadata(&p) {
                        Ok(m) if m.is_dir() => stack.push(p),
                        Ok(m) if m.is_file() => out.files.push((p, m.len())),
                        Ok(_) => {}
                        Err(e) => {
                            let what = format!("reading {}", p.display());
                            out.unreadable.push((p, Error::io(what, e)));
                        }
                    }
                }
            }
        } else if meta.is_file() {
            out.files.push((path.clone(), meta.len()));
        } else {
            return Err(Error::Invalid(format!(
                "{} is not a file or folder",
                path.display()
            )));
        }
    }
    Ok(out)
}

/// The files under `paths`, to upload.
fn collect_inputs(paths: &[PathBuf]) -> Result<Collected<Input>, Error> {
    let Collected { files, unreadable } = collect_files(paths)?;
    Ok(Collected {
        files: files
            .into_iter()
            .map(|(path, size)| (Input::Path(path), size))
            .collect(),
        unreadable,
    })
}

struct Prepared {
    journal: Journal,
    file_key: FileKey,
    resumed: bool,
    /// Why no thumbnail could be made (see [`Uploaded::no_thumbnail`]).
    no_thumbnail: Option<String>,
}

/// Where files go: a vault canister, an album of it (with its current key), and whether the
/// dedupe hash is sent (only to one's own vault: it is keyed by the owner's master key).
struct Destination {
    canister: VaultCanister,
    album: Option<([u8; 16], u32, vault_crypto::AlbumKey)>,
    send_dedupe: bool,
}

impl Vault {
    /// Uploads files and folders. Every file is tried; the result says what became of each.
    pub async fn upload(
        &mut self,
        paths: &[PathBuf],
        options: &UploadOptions,
        progress: &dyn UploadProgress,
    ) -> Result<Vec<Result<Uploaded, (PathBuf, Error)>>, Error> {
        let dest = self.own_destination(options).await?;
        let results = self
            .upload_to(&dest, collect_inputs(paths)?, progress)
            .await;
        self.refresh();
        results
    }

    /// This vault, or the album `options` names in it, with its current key.
    async fn own_destination(&mut self, options: &UploadOptions) -> Result<Destination, Error> {
        let album = match &options.album {
            Some(name) => {
                let id = self.find_album(name).await?.id.0;
                let (version, key) = self.current_album_key(&id).await?;
                Some((id, version, key.clone()))
            }
            None => None,
        };
        Ok(Destination {
            canister: self.canister.clone(),
            album,
            send_dedupe: true,
        })
    }

    /// Uploads files a platform gives (a browser's `File`s): as [`Vault::upload`] does paths.
    pub async fn upload_sources(
        &mut self,
        sources: Vec<Arc<dyn FileSource>>,
        options: &UploadOptions,
        progress: &dyn UploadProgress,
    ) -> Result<Vec<Result<Uploaded, (PathBuf, Error)>>, Error> {
        let dest = self.own_destination(options).await?;
        let inputs = Collected {
            files: sources
                .into_iter()
                .map(|source| {
                    let size = source.size();
                    (Input::Source(source), size)
                })
                .collect(),
            unreadable: Vec::new(),
        };
        let results = self.upload_to(&dest, inputs, progress).await;
        self.refresh();
        results
    }

    /// Uploads into an album someone shared with this identity with `Contribute`. Their
    /// vault cannot dedupe what a contributor sends (the hash is keyed by its owner's key).
    pub async fn upload_shared(
        &mut self,
        owner_vault: candid::Principal,
        album: &str,
        paths: &[PathBuf],
        progress: &dyn UploadProgress,
    ) -> Result<Vec<Result<Uploaded, (PathBuf, Error)>>, Error> {
        let (secret, _) = self.sharing_keys().await?;
        let shared = crate::sharing::SharedWithMe::open(&self.conn, owner_vault, &secret).await?;
        let entries = shared.entries().await?;
        let (item, _) = shared
            .items
            .iter()
            .zip(&entries)
            .find(|(_, e)| {
                matches!(e.target, crate::sharing::ShareTarget::Album(_))
                    && (e.name.as_deref() == Some(album)
                        || (album.len() >= 4
                            && hex::encode(e.target.id()).starts_with(&album.to_ascii_lowercase())))
            })
            .ok_or_else(|| {
                Error::NotFound(format!("no album `{album}` is shared with you there"))
            })?;
        if item.grant.permission != vault_interface::types::Permission::Contribute {
            return Err(Error::ViewOnly(album.to_string()));
        }
        let vault_interface::types::Target::Album(id) = &item.grant.target else {
            unreachable!("filtered to albums");
        };
        let id = crate::keyring::id16(id)?;
        let version = item.album_key_version.unwrap_or(0);
        let key = shared
            .reader
            .keys
            .album_key(&id, version)
            .ok_or_else(|| {
                Error::Integrity("the album's current key was not shared with you".into())
            })?
            .clone();
        let dest = Destination {
            canister: shared.reader.canister.clone(),
            album: Some((id, version, key)),
            send_dedupe: false,
        };
        self.upload_to(&dest, collect_inputs(paths)?, progress)
            .await
    }

    async fn upload_to(
        &self,
        dest: &Destination,
        inputs: Collected<Input>,
        progress: &dyn UploadProgress,
    ) -> Result<Vec<Result<Uploaded, (PathBuf, Error)>>, Error> {
        let Collected { files, unreadable } = inputs;
        progress.begin(
            files.len() + unreadable.len(),
            files.iter().map(|(_, size)| size).sum(),
        );
        let chunks = Arc::new(Semaphore::new(CHUNKS_IN_FLIGHT));
        // The next file starts as soon as any one is done (not only the oldest); the results
        // are in the order the files were given.
        let mut results = futures_util::stream::iter(files.into_iter().enumerate())
            .map(|(n, (input, _))| {
                let chunks = chunks.clone();
                async move {
                    let path = input.path();
                    let result = self.upload_file(dest, &input, &chunks, progress).await;
                    progress.file_done(&path, &result);
                    (n, result.map_err(|e| (path, e)))
                }
            })
            .buffer_unordered(FILES_IN_FLIGHT)
            .collect::<Vec<_>>()
            .await;
        results.sort_unstable_by_key(|(n, _)| *n);
        let mut results: Vec<_> = results.into_iter().map(|(_, result)| result).collect();
        for (path, e) in unreadable {
            let failed = Err(e);
            progress.file_done(&path, &failed);
            results.push(failed.map_err(|e| (path, e)));
        }
        Ok(results)
    }

    async fn upload_file(
        &self,
        dest: &Destination,
        input: &Input,
        chunks: &Arc<Semaphore>,
        progress: &dyn UploadProgress,
    ) -> Result<Uploaded, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let prepared = self.prepare(dest, input, progress).await?;
            let journal = journal_item(dest, &prepared.journal.dedupe_hash)?;
            match self.send(dest, input, &prepared, chunks, progress).await {
                Err(Error::Vault(VaultError::Conflict { reason }))
                    if attempt == 1 && prepared.resumed =>
                {
                    // The journal is stale (the album's key was rotated meanwhile): start over.
                    let _ = self.store().remove(&journal);
                    let _ = reason;
                }
                other => {
                    if !matches!(other, Err(Error::Unreachable { .. })) {
                        let _ = self.store().remove(&journal);
                    }
                    return other;
                }
            }
        }
    }

    /// Hashes the file, and finds its journal or makes a new one.
    async fn prepare(
        &self,
        dest: &Destination,
        input: &Input,
        progress: &dyn UploadProgress,
    ) -> Result<Prepared, Error> {
        let label = input.path();
        let path = label.as_path();
        let album = dest.album.as_ref();
        // Generation 0's key: a photo sent again after a rotation of the master key is found.
        let dedupe = DedupeKey::derive(self.masters().first_generation());
        let Hashed {
            size,
            sha,
            dedupe_hash,
            kept,
            modified,
        } = match input {
            Input::Path(path) => {
                let path = path.to_path_buf();
                let progress_path = path.clone();
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                let hashing = crate::platform::blocking(move || hash_file(&path, &dedupe, &tx));
                let relay = async {
                    while let Some(bytes) = rx.recv().await {
                        progress.advance(&progress_path, Pass::Read, bytes);
                    }
                };
                futures_util::join!(hashing, relay).0?
            }
            Input::Source(source) => {
                hash_source(&**source, &dedupe, |n| {
                    progress.advance(path, Pass::Read, n)
                })
                .await?
            }
        };
        let dedupe_hex = hex::encode(dedupe_hash);
        let journal_item = journal_item(dest, &dedupe_hex)?;
        if let Ok(Some(bytes)) = self.store().load(&journal_item)
            && let Ok(journal) = serde_json::from_slice::<Journal>(&bytes)
            && journal.size == size
            && journal.sha256 == hex::encode(sha)
            && journal.album == album.map(|(id, _, _)| hex::encode(id))
        {
            let wrapped =
                WrappedKey::from_bytes(&hex::decode(&journal.key_by_master).unwrap_or_default())
                    .map_err(|_| {
                        Error::Integrity(format!(
                            "{}: damaged; remove it",
                            self.store().describe(&journal_item)
                        ))
                    })?;
            let file_id = FileId(hex_id(&journal.file_id)?);
            let current: Option<FileKey> = self.master().unwrap_key(&wrapped, &file_id).ok();
            match current {
                Some(file_key) => {
                    return Ok(Prepared {
                        journal,
                        file_key,
                        resumed: true,
                        no_thumbnail: None,
                    });
                }
                // Prepared before the master key was rotated: its keys are wrapped under a key
                // a removed device may hold, so it is prepared again (the upload it started
                // expires on its own).
                None if self
                    .masters()
                    .earlier()
                    .iter()
                    .any(|m| m.unwrap_key::<FileKey>(&wrapped, &file_id).is_ok()) =>
                {
                    let _ = self.store().remove(&journal_item);
                }
                None => {
                    return Err(Error::Integrity(format!(
                        "{}: not this vault's; remove it",
                        self.store().describe(&journal_item)
                    )));
                }
            }
        }
        let info = match &kept {
            Kept::Whole(bytes) => PhotoInfo::read_bytes(path, bytes),
            Kept::Head(head) => PhotoInfo::read(path, head),
        };
        // A video's thumbnail is its poster frame; its length and size are kept too.
        let video = if info.mime.starts_with("video/") {
            Some(match input {
                Input::Source(source) => match source.video() {
                    Some(asking) => asking.await.unwrap_or_else(|why| VideoFacts {
                        no_poster: Some(format!("no poster: {why}")),
                        ..VideoFacts::default()
                    }),
                    None => VideoFacts::default(),
                },
                #[cfg(not(target_arch = "wasm32"))]
                Input::Path(path) => {
                    let path = path.clone();
                    crate::platform::blocking(move || crate::photo::video::facts(&path)).await
                }
                #[cfg(target_arch = "wasm32")]
                Input::Path(_) => VideoFacts::default(),
            })
        } else {
            None
        };
        // A photo whose pixels cannot be read is still stored, without a thumbnail, and the
        // user is told why.
        let made = match (input, kept) {
            _ if let Some(video) = &video => match (&video.poster, &video.no_poster) {
                (Some(poster), _) => Ok(Some(poster.clone())),
                (None, Some(why)) => Err(why.clone()),
                (None, None) => Ok(None),
            },
            // The platform's own decoders, where it has them (a browser's).
            (Input::Source(source), Kept::Whole(bytes)) if info.mime.starts_with("image/") => {
                match source.thumbnail(&info) {
                    Some(making) => making.await.map(Some),
                    None => own_thumbnail(&bytes, &info),
                }
            }
            (Input::Source(_), Kept::Whole(bytes)) => own_thumbnail(&bytes, &info),
            // Over WHOLE_IMAGE_BYTES a platform's file is not read a third time for it.
            (Input::Source(_), Kept::Head(_)) if info.mime.starts_with("image/") => Err(format!(
                "an image over {} MiB gets no thumbnail when uploaded from a browser",
                WHOLE_IMAGE_BYTES >> 20
            )),
            (Input::Source(_), Kept::Head(_)) => Ok(None),
            #[cfg(not(target_arch = "wasm32"))]
            (Input::Path(path), kept) => {
                let path = path.to_path_buf();
                let info = info.clone();
                crate::platform::blocking(move || match kept {
                    Kept::Whole(bytes) => thumbnail_of_bytes(&bytes, &info),
                    Kept::Head(_) => thumbnail(&path, &info),
                })
                .await
                .map_err(|e| e.to_string())
            }
            // A browser has no paths.
            #[cfg(target_arch = "wasm32")]
            (Input::Path(_), _) => Ok(None),
        };
        let (thumb, no_thumbnail) = match made {
            Ok(thumb) => (thumb, None),
            Err(_) if size == 0 => (None, Some("the file is empty".to_string())),
            Err(e) => (None, Some(e)),
        };
        // A name that is not UTF-8 keeps its own bytes too (an export restores it).
        // The name the file has (a platform's file's own, not the label that tells it apart).
        let file_name = match input {
            Input::Source(source) => std::ffi::OsString::from(source.name()),
            Input::Path(_) => path.file_name().unwrap_or_default().to_os_string(),
        };
        let mut meta = FileMetadata {
            name: file_name.to_string_lossy().into_owned(),
            name_bytes: file_name
                .to_str()
                .is_none()
                .then(|| file_name.as_encoded_bytes().to_vec()),
            size,
            content_sha256: sha,
            modified_at: modified,
            ..FileMetadata::default()
        };
        info.apply_to(&mut meta);
        if let Some(video) = video {
            meta.duration_ms = video.duration_ms;
            meta.width = video.width.or(meta.width);
            meta.height = video.height.or(meta.height);
        }
        let mut rng = crate::rng();
        let file_id = FileId::generate(&mut rng);
        let file_key = FileKey::generate(&mut rng);
        let header = StreamHeader::generate(&mut rng);
        let (wrapped, key_version) = match album {
            Some((_, version, key)) => (key.wrap_key(&file_key, &file_id, &mut rng), *version),
            None => (self.master().wrap_key(&file_key, &file_id, &mut rng), 0),
        };
        let sort_key = meta
            .taken_at
            .or(meta.modified_at)
            .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
        let journal = Journal {
            canister: dest.canister.id().to_text(),
            file_id: hex::encode(file_id.0),
            size,
            sha256: hex::encode(sha),
            content_header: hex::encode(header.to_bytes()),
            wrapped_key: hex::encode(wrapped.as_bytes()),
            key_by_master: hex::encode(
                self.master()
                    .wrap_key(&file_key, &file_id, &mut rng)
                    .as_bytes(),
            ),
            album: album.map(|(id, _, _)| hex::encode(id)),
            key_version,
            metadata: hex::encode(meta.seal(&file_key, &mut rng)),
            thumbnail: thumb.map(|t| {
                hex::encode(seal_blob(
                    &file_key,
                    StreamKind::Thumbnail,
                    &t.jpeg,
                    &mut rng,
                ))
            }),
            dedupe_hash: dedupe_hex,
            sort_key,
        };
        self.store().save(
            &journal_item,
            &serde_json::to_vec(&journal).expect("journals serialise"),
        )?;
        Ok(Prepared {
            journal,
            file_key,
            resumed: false,
            no_thumbnail,
        })
    }

    /// Begins (or resumes) the upload, sends the missing chunks, and commits.
    async fn send(
        &self,
        dest: &Destination,
        input: &Input,
        prepared: &Prepared,
        chunks: &Arc<Semaphore>,
        progress: &dyn UploadProgress,
    ) -> Result<Uploaded, Error> {
        let label = input.path();
        let path = label.as_path();
        let j = &prepared.journal;
        let file_id = hex_id(&j.file_id)?;
        let total = u32::try_from(chunk_count(j.size))
            .map_err(|_| Error::Invalid(format!("{}: too large for the vault", path.display())))?;
        let header = StreamHeader::from_bytes(&hex::decode(&j.content_header).expect("hex"))
            .map_err(|_| Error::Integrity("the journal's header is damaged".into()))?;
        let sealer = Arc::new(
            crate::platform::ChunkSealer::new(&prepared.file_key, StreamKind::Content, &header)
                .await,
        );
        // The first round's answers are not verified (`VaultCanister::put_chunk`; a browser
        // spares the BLS check of each): only `commit_upload`'s, which says the file is whole,
        // and the second round's. So anything but a plain status from `begin_upload` (a
        // duplicate, a refusal), a chunk's refusal, or `commit_upload` finding a chunk missing
        // (a node said it arrived), leads to the second round: `begin_upload` verified, which
        // answers the vault's own refusal if there is one or says which chunks are missing,
        // sent once more.
        let mut sent = 0;
        let mut round = 0;
        let mut counted = false;
        let info = loop {
            round += 1;
            let status = match self.begin(dest, j, file_id, round > 1).await {
                Ok(status) => status,
                Err(_) if round == 1 => continue,
                Err(Error::Vault(VaultError::Duplicate { existing })) => {
                    progress.advance(path, Pass::Sent, j.size);
                    return Ok(Uploaded {
                        path: path.to_path_buf(),
                        id: crate::records::file_id(&existing)?,
                        outcome: UploadOutcome::Duplicate,
                        size: j.size,
                        chunks_total: total,
                        chunks_sent: 0,
                        no_thumbnail: None,
                    });
                }
                Err(e) => return Err(e),
            };
            let missing: HashSet<u32> = status.missing.iter().copied().collect();
            if !std::mem::replace(&mut counted, true) {
                // What an earlier run sent: the file but for the chunks still missing (the
                // last chunk is the shorter one).
                let still_missing: u64 = missing
                    .iter()
                    .map(|&i| {
                        j.size
                            .saturating_sub(u64::from(i) * CHUNK_SIZE as u64)
                            .min(CHUNK_SIZE as u64)
                    })
                    .sum();
                progress.advance(path, Pass::Sent, j.size.saturating_sub(still_missing));
            }
            match send_chunks(
                &dest.canister,
                input,
                file_id,
                total,
                &missing,
                sealer.clone(),
                chunks,
                progress,
            )
            .await
            {
                Ok(n) => sent += n,
                Err(Error::Vault(_) | Error::Rejected { .. } | Error::Agent(_)) if round == 1 => {
                    continue;
                }
                Err(e) => return Err(e),
            }
            match dest.canister.commit_upload(&file_id).await {
                Err(Error::Vault(VaultError::Conflict { .. })) if round == 1 => {}
                committed => break committed?,
            }
        };
        Ok(Uploaded {
            path: path.to_path_buf(),
            id: crate::records::file_id(&info.id)?,
            outcome: if prepared.resumed {
                UploadOutcome::Resumed
            } else {
                UploadOutcome::Uploaded
            },
            size: j.size,
            chunks_total: total,
            chunks_sent: sent,
            no_thumbnail: prepared.no_thumbnail.clone(),
        })
    }

    /// `begin_upload` with the journal `j`'s arguments: the first time, or again to resume;
    /// its answer verified if `verified`.
    async fn begin(
        &self,
        dest: &Destination,
        j: &Journal,
        file_id: [u8; 16],
        verified: bool,
    ) -> Result<UploadStatus, Error> {
        let bytes = |h: &str| ByteBuf::from(hex::decode(h).expect("the journal holds hex"));
        let args = BeginUploadArgs {
            file_id: ByteBuf::from(file_id.to_vec()),
            size: j.size,
            content_header: bytes(&j.content_header),
            wrapped_key: bytes(&j.wrapped_key),
            album: j.album.as_deref().map(bytes),
            key_version: j.key_version,
            metadata: bytes(&j.metadata),
            thumbnail: j.thumbnail.as_deref().map(bytes),
            dedupe_hash: dest.send_dedupe.then(|| bytes(&j.dedupe_hash)),
            sort_key: j.sort_key,
        };
        if verified {
            dest.canister.begin_upload(args).await
        } else {
            dest.canister.begin_upload_unverified(args).await
        }
    }
}

/// The journal of an upload to `dest` of the file with this dedupe hash (hex).
fn journal_item(dest: &Destination, dedupe_hex: &str) -> Result<Item, Error> {
    let mut file = [0u8; 16];
    hex::decode_to_slice(&dedupe_hex[..32], &mut file)
        .map_err(|_| Error::Integrity("a dedupe hash is hex".into()))?;
    Ok(Item::UploadJournal {
        canister: dest.canister.id(),
        file,
    })
}

/// What hashing a file found, in one streaming pass.
struct Hashed {
    size: u64,
    sha: [u8; 32],
    dedupe_hash: [u8; 32],
    kept: Kept,
    modified: Option<i64>,
}

/// What hashing a file kept of it.
enum Kept {
    /// The whole file: an image of at most [`WHOLE_IMAGE_BYTES`].
    Whole(Vec<u8>),
    /// Its first [`HEAD_BYTES`], for EXIF.
    Head(Vec<u8>),
}

/// One streaming pass over a file: its hashes, and what of it is kept (see [`Kept`]).
struct Hashing<'a> {
    path: &'a Path,
    /// Its length when it was opened.
    declared: u64,
    sha: sha2::Sha256,
    hmac: vault_crypto::DedupeHasher,
    kept: Vec<u8>,
    /// Whether the whole file is kept: decided on its first bytes (and its length, which may
    /// still change while it is read: a file grown past the bound is cut to its head).
    whole: Option<bool>,
    size: u64,
}

impl<'a> Hashing<'a> {
    fn new(path: &'a Path, declared: u64, dedupe: &DedupeKey) -> Hashing<'a> {
        Hashing {
            path,
            declared,
            sha: sha2::Sha256::new(),
            hmac: dedupe.hasher(),
            kept: Vec::new(),
            whole: None,
            size: 0,
        }
    }

    /// The next `bytes` of the file.
    fn update(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
        self.hmac.update(bytes);
        self.size += bytes.len() as u64;
        let (declared, path, kept) = (self.declared, self.path, &mut self.kept);
        let keep_all = *self.whole.get_or_insert_with(|| {
            let whole = declared <= WHOLE_IMAGE_BYTES && thumbnailable(path, bytes);
            if whole {
                // Its length as it was opened (at most the bound): one allocation, no copies.
                kept.reserve_exact(declared as usize);
            }
            whole
        }) && self.size <= WHOLE_IMAGE_BYTES;
        if keep_all {
            self.kept.extend_from_slice(bytes);
        } else {
            if self.whole == Some(true) {
                self.whole = Some(false);
                self.kept.truncate(HEAD_BYTES);
                self.kept.shrink_to_fit();
            }
            if self.kept.len() < HEAD_BYTES {
                let take = (HEAD_BYTES - self.kept.len()).min(bytes.len());
                self.kept.extend_from_slice(&bytes[..take]);
            }
        }
    }

    fn finish(self, modified: Option<i64>) -> Hashed {
        let kept = match self.whole {
            Some(true) => Kept::Whole(self.kept),
            _ => Kept::Head(self.kept),
        };
        Hashed {
            size: self.size,
            sha: self.sha.finalize().into(),
            dedupe_hash: self.hmac.finish().0,
            kept,
            modified,
        }
    }
}

fn hash_file(
    path: &Path,
    dedupe: &DedupeKey,
    progress: &tokio::sync::mpsc::UnboundedSender<u64>,
) -> Result<Hashed, Error> {
    let failed = |e| Error::io(format!("reading {}", path.display()), e);
    let mut file = std::fs::File::open(path).map_err(failed)?;
    let metadata = file.metadata().map_err(failed)?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    let mut hashing = Hashing::new(path, metadata.len(), dedupe);
    let mut buf = vec![0u8; CHUNK_SIZE];
    loop {
        let n = file.read(&mut buf).map_err(failed)?;
        if n == 0 {
            break;
        }
        hashing.update(&buf[..n]);
        let _ = progress.send(n as u64);
    }
    Ok(hashing.finish(modified))
}

/// As [`hash_file`], of a platform's file, read a chunk at a time.
async fn hash_source(
    source: &dyn FileSource,
    dedupe: &DedupeKey,
    mut progress: impl FnMut(u64),
) -> Result<Hashed, Error> {
    let name = PathBuf::from(source.name());
    let mut hashing = Hashing::new(&name, source.size(), dedupe);
    let mut offset = 0u64;
    while offset < source.size() {
        let bytes = source.read(offset, CHUNK_SIZE).await?;
        if bytes.is_empty() {
            break;
        }
        hashing.update(&bytes);
        offset += bytes.len() as u64;
        progress(bytes.len() as u64);
    }
    Ok(hashing.finish(source.modified_ms()))
}

/// Reads, encrypts and sends the `missing` chunks, at most [`CHUNKS_IN_FLIGHT`] (shared by all
/// files) at once. Returns how many were sent.
#[allow(clippy::too_many_arguments)]
async fn send_chunks(
    canister: &VaultCanister,
    input: &Input,
    file_id: [u8; 16],
    total: u32,
    missing: &HashSet<u32>,
    sealer: Arc<crate::platform::ChunkSealer>,
    permits: &Arc<Semaphore>,
    progress: &dyn UploadProgress,
) -> Result<u32, Error> {
    if missing.is_empty() {
        return Ok(0);
    }
    let label = input.path();
    let path = label.as_path();
    let mut file = match input {
        Input::Path(path) => Some(
            std::fs::File::open(path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?,
        ),
        Input::Source(_) => None,
    };
    // The chunks being encrypted and sent, at most CHUNKS_IN_FLIGHT across files: natively each
    // on the runtime's threads (signing and sending a chunk costs CPU too), encryption on the
    // blocking pool; stopped if this returns early.
    let mut tasks = futures_util::stream::FuturesUnordered::new();
    let mut sent = 0u32;
    let mut first_error = None;
    let chunk_log = std::env::var_os("VAULT_CHUNK_LOG").map(PathBuf::from);
    let mut note = |done: Result<u64, Error>, first_error: &mut Option<Error>| match done {
        Ok(len) => {
            sent += 1;
            progress.advance(path, Pass::Sent, len);
        }
        Err(e) => {
            first_error.get_or_insert(e);
        }
    };
    for index in 0..total {
        if !missing.contains(&index) {
            continue;
        }
        // A permit before reading: at most CHUNKS_IN_FLIGHT chunks are ever in memory. While
        // waiting for one, the sends in flight make progress.
        let permit = loop {
            if let Ok(permit) = permits.clone().try_acquire_owned() {
                break permit;
            }
            tokio::select! {
                permit = permits.clone().acquire_owned() => break permit.expect("never closed"),
                Some(done) = tasks.next(), if !tasks.is_empty() => note(done, &mut first_error),
            }
        };
        if first_error.is_some() {
            break;
        }
        let offset = u64::from(index) * CHUNK_SIZE as u64;
        let data = match (&mut file, input) {
            (Some(file), _) => {
                // Room for the tag from the start: sealing in place never reallocates (copies)
                // the chunk.
                let mut data = Vec::with_capacity(CHUNK_SIZE + vault_crypto::TAG_SIZE);
                data.resize(CHUNK_SIZE, 0);
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
                let len = read_full(file, &mut data)
                    .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
                data.truncate(len);
                data
            }
            (None, Input::Source(source)) => source.read(offset, CHUNK_SIZE).await?,
            (None, Input::Path(_)) => unreachable!("a path is opened above"),
        };
        let len = data.len();
        let canister = canister.clone();
        let sealer = sealer.clone();
        let chunk_log = chunk_log.clone();
        tasks.push(crate::platform::concurrently(async move {
            let _permit = permit;
            let last = index + 1 == total;
            let data = sealer
                .seal(u64::from(index), last, data)
                .await
                .map_err(|e| {
                    Error::Invalid(format!(
                        "the file changed while it was uploaded ({e}): upload it again"
                    ))
                })?;
            log_chunk(chunk_log.as_deref(), &file_id, index);
            let mut tries = 0;
            loop {
                match canister.put_chunk(&file_id, index, &data).await {
                    Ok(()) => return Ok(len as u64),
                    Err(Error::Unreachable { .. }) if tries < CHUNK_RETRIES => {
                        tries += 1;
                        crate::platform::sleep(std::time::Duration::from_millis(200 << tries))
                            .await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }));
    }
    while let Some(done) = tasks.next().await {
        note(done, &mut first_error);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(sent),
    }
}

/// For tests of resumption: `VAULT_CHUNK_LOG=FILE` appends `<file id> <index>` for every chunk
/// sent. Each line is one `write` to a file opened for appending, so lines from chunks sent at
/// once on different threads never interleave (`writeln!` on a `File` writes piece by piece).
fn log_chunk(log: Option<&Path>, file_id: &[u8; 16], index: u32) {
    if let Some(log) = log {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let line = format!("{} {index}\n", hex::encode(file_id));
            let _ = f.write_all(line.as_bytes());
        }
    }
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_of_one_name_are_numbered_keeping_their_extension() {
        assert_eq!(numbered("IMG_0001.jpg", 1), "IMG_0001.jpg");
        assert_eq!(numbered("IMG_0001.jpg", 2), "IMG_0001 (2).jpg");
        assert_eq!(numbered("a.tar.gz", 3), "a.tar (3).gz");
        assert_eq!(numbered("README", 2), "README (2)");
        assert_eq!(numbered(".hidden", 2), ".hidden (2)");
    }

    use super::*;

    fn hash(path: &Path) -> Hashed {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        hash_file(path, &DedupeKey::from_bytes([7; 32]), &tx).unwrap()
    }

    /// A platform's file held in memory, read in the pieces asked for.
    struct InMemory {
        name: String,
        bytes: Vec<u8>,
    }

    impl FileSource for InMemory {
        fn name(&self) -> &str {
            &self.name
        }
        fn size(&self) -> u64 {
            self.bytes.len() as u64
        }
        fn modified_ms(&self) -> Option<i64> {
            Some(1_700_000_000_000)
        }
        fn read(
            &self,
            offset: u64,
            len: usize,
        ) -> crate::platform::Pending<'_, Result<Vec<u8>, Error>> {
            let start = (offset as usize).min(self.bytes.len());
            let end = start.saturating_add(len).min(self.bytes.len());
            Box::pin(async move { Ok(self.bytes[start..end].to_vec()) })
        }
    }

    /// A browser's file hashes as the same bytes on disk do, in the same one pass: the same
    /// hashes (so dedupe and resume find each other), the same bytes kept.
    #[tokio::test]
    async fn a_platform_file_hashes_as_the_same_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let dedupe = DedupeKey::from_bytes([7; 32]);
        let photo = vault_test_support::photos().join("exif/right.jpg");
        let mut notes = "a line of notes\n".repeat(200_000).into_bytes();
        notes.truncate(CHUNK_SIZE * 2 + 17);
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, &notes).unwrap();
        for path in [photo, text] {
            let bytes = std::fs::read(&path).unwrap();
            let source = InMemory {
                name: path.file_name().unwrap().to_str().unwrap().into(),
                bytes: bytes.clone(),
            };
            let mut read = 0;
            let from_source = hash_source(&source, &dedupe, |n| read += n).await.unwrap();
            let from_disk = hash(&path);
            assert_eq!(read, bytes.len() as u64, "progress counts every byte");
            assert_eq!(from_source.size, from_disk.size);
            assert_eq!(from_source.sha, from_disk.sha);
            assert_eq!(from_source.dedupe_hash, from_disk.dedupe_hash);
            assert_eq!(from_source.modified, Some(1_700_000_000_000));
            match (&from_source.kept, &from_disk.kept) {
                (Kept::Whole(a), Kept::Whole(b)) | (Kept::Head(a), Kept::Head(b)) => {
                    assert_eq!(a, b, "{}", path.display())
                }
                _ => panic!("{}: kept differently", path.display()),
            }
        }
    }

    /// A photo is kept whole by hashing it (its thumbnail is made from those bytes, not from
    /// the file read a third time); a file that is no image, or an image over
    /// [`WHOLE_IMAGE_BYTES`], only its head. The hashes are of the whole file either way.
    #[test]
    fn hashing_keeps_a_photo_whole_and_of_anything_else_its_head() {
        let dir = tempfile::tempdir().unwrap();
        let photo = vault_test_support::photos().join("exif/right.jpg");
        let bytes = std::fs::read(&photo).unwrap();
        let hashed = hash(&photo);
        assert!(matches!(&hashed.kept, Kept::Whole(b) if *b == bytes));
        assert_eq!(hashed.sha, <[u8; 32]>::from(sha2::Sha256::digest(&bytes)));
        assert_eq!(hashed.size, bytes.len() as u64);

        // The same bytes under another name are still sniffed as a JPEG.
        let renamed = dir.path().join("photo");
        std::fs::write(&renamed, &bytes).unwrap();
        assert!(matches!(hash(&renamed).kept, Kept::Whole(_)));

        let text = dir.path().join("notes.txt");
        let notes = "a line of notes\n".repeat(40_000);
        std::fs::write(&text, &notes).unwrap();
        match hash(&text).kept {
            Kept::Head(head) => assert_eq!(head, notes.as_bytes()[..HEAD_BYTES]),
            Kept::Whole(_) => panic!("a text file was kept whole"),
        }

        // A JPEG larger than the bound: its head only, its hash of all of it.
        let large = dir.path().join("panorama.jpg");
        let mut big = bytes.clone();
        big.resize(WHOLE_IMAGE_BYTES as usize + 1, 0);
        std::fs::write(&large, &big).unwrap();
        let hashed = hash(&large);
        match &hashed.kept {
            Kept::Head(head) => assert_eq!(head[..], big[..HEAD_BYTES]),
            Kept::Whole(_) => panic!("an image over the bound was kept whole"),
        }
        assert_eq!(hashed.sha, <[u8; 32]>::from(sha2::Sha256::digest(&big)));
        assert_eq!(hashed.size, big.len() as u64);
    }
}
