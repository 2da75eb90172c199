//! The state directory: how a replica survives being killed at any instant.
//!
//! ```text
//! <dir>/checkpoint          the replica as of the last checkpoint (Candid, replaced by rename)
//! <dir>/wal                 every input since, appended and synced before it is acknowledged
//! <dir>/journal             a checkpoint's page writes, complete before any is applied
//! <dir>/modules/<sha256>    every module installed, as installed, and every chunk uploaded to a
//!                           canister's chunk store (the log and checkpoint name them by hash)
//! <dir>/canisters/<name>    heap and stable memory files, as of the checkpoint
//! <dir>/cache/              compiled modules (wasmtime's cache)
//! <dir>/lock                locked by the one process using the directory
//! ```
//!
//! Only the user running the replica can open any of it (stable memory holds each vault's
//! passphrase record): directories are created 0700 and files 0600 whatever the umask, and a
//! directory another user owns is refused ([`crate::owner_only`]).
//!
//! Execution is deterministic, so the log records inputs, not effects: opening the directory
//! loads the checkpoint and replays the log. A checkpoint writes only the pages changed since
//! the last one: first all of them (and the new checkpoint record) to the journal, synced;
//! then in place; then the checkpoint file; then the log is emptied. A crash at any point
//! leaves either a complete journal (applied again on open) or an incomplete one (discarded:
//! nothing of it was applied yet). Records carry sequence numbers, so a log entry that a
//! checkpoint already contains is never applied twice.
//!
//! The log and the journal start with an 8-byte header: a magic naming the file and the
//! layout's version ([`WAL_MAGIC`], [`JOURNAL_MAGIC`]; a log written before there was a header
//! is read from its first byte). Then frames: `len: u32 LE, crc32: u32 LE, payload`; a torn
//! frame at the end of the log is a write that was never acknowledged, and is cut off. A log
//! record of an input that came from an ingress message carries its request id and expiry
//! ([`SeenRequest`], kind [`INGRESS`]); the checkpoint keeps those not yet expired, so a signed
//! call sent again after a restart is still refused.
//!
//! This module keeps the files; its `replay` submodule is the replica's side of the same
//! promise (opening: checkpoint, then the log replayed; logging each input before it runs;
//! writing checkpoints), so that everything a crash must survive is read in one place.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use candid::{CandidType, Deserialize, Principal};
use serde_bytes::ByteBuf;

use crate::InstallMode;
use crate::owner_only;

mod replay;

/// One input to the replica, as the log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    CreateCanister {
        controllers: Vec<Principal>,
    },
    InstallCode {
        sender: Principal,
        canister: Principal,
        mode: InstallMode,
        module: [u8; 32],
        arg: Vec<u8>,
    },
    UpdateCall {
        sender: Principal,
        canister: Principal,
        method: String,
        arg: Vec<u8>,
    },
    /// The clock moved and timers fell due.
    Time,
    UpdateControllers {
        sender: Principal,
        canister: Principal,
        controllers: Vec<Principal>,
    },
    StopCanister {
        sender: Principal,
        canister: Principal,
    },
    StartCanister {
        sender: Principal,
        canister: Principal,
    },
    DeleteCanister {
        sender: Principal,
        canister: Principal,
    },
    /// A chunk went into a canister's chunk store (its bytes are in `modules/` by this hash).
    UploadChunk {
        sender: Principal,
        canister: Principal,
        hash: [u8; 32],
    },
    ClearChunkStore {
        sender: Principal,
        canister: Principal,
    },
    /// A call that changes a system canister's state (the cycles ledger's), or a management
    /// call logged with its whole argument (a provisional creation, settings, a top-up):
    /// replayed by running it again.
    SystemCall {
        sender: Principal,
        canister: Principal,
        method: String,
        arg: Vec<u8>,
    },
}

/// A logged input: its place in the log and the replica's clock when it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub time: u64,
    pub input: Input,
    /// The ingress message (HTTP call) the input came from, if it came from one.
    pub ingress: Option<SeenRequest>,
}

/// An ingress message that ran: kept, in the log with its input and then in the checkpoint,
/// until its `ingress_expiry`, so that the same signed bytes sent again after a restart are
/// refused as the IC refuses them (the HTTP layer's history starts from these).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    /// The request id (32 bytes).
    pub request_id: ByteBuf,
    /// Nanoseconds since the epoch after which the request is refused as expired anyway.
    pub ingress_expiry: u64,
    /// Who sent it: only they may read its status.
    pub sender: Principal,
    /// The canister of the URL it was sent to.
    pub effective_canister_id: Principal,
}

/// The checkpoint: everything but page contents.
#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct Checkpoint {
    /// The last log record it contains.
    pub seq: u64,
    pub time: u64,
    pub next_canister: u64,
    pub canisters: Vec<CanisterState>,
    /// Ingress messages that ran and have not expired (absent in checkpoints written before
    /// they were kept).
    pub requests: Option<Vec<SeenRequest>>,
    /// The cycles ledger (absent in checkpoints written before the replica hosted one).
    pub ledger: Option<crate::system::LedgerState>,
    /// The ICP ledger and the CMC's conversions (absent before the replica hosted them).
    pub icp: Option<crate::system::icp::IcpState>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CanisterState {
    pub id: Principal,
    pub controllers: Vec<Principal>,
    pub version: u64,
    pub stopped: bool,
    pub code: Option<CodeState>,
    /// The chunk store's hashes, the bytes in `modules/` (absent in checkpoints written before
    /// chunked installs).
    pub chunks: Option<Vec<ByteBuf>>,
    /// The cycle balance (absent before canisters had one: [`crate::management::CYCLES`]).
    pub cycles: Option<candid::Nat>,
    /// The settings other than controllers (absent before they were kept: the defaults).
    pub settings: Option<crate::settings::Settings>,
    /// When its memory was last paid for, and what it owes below a cycle (absent before
    /// memory was billed: the checkpoint's time, nothing).
    pub charged_at: Option<u64>,
    pub storage_owed: Option<candid::Nat>,
}

/// An installed canister's instance.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CodeState {
    pub module: ByteBuf,
    pub heap_file: String,
    pub heap_bytes: u64,
    pub globals: Vec<GlobalValue>,
    pub stable_file: String,
    pub stable_pages: u64,
    pub certified_data: ByteBuf,
    pub global_timer: u64,
}

/// A mutable global's value (floats and vectors by their bits).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub enum GlobalValue {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(ByteBuf),
}

/// A page write of a checkpoint.
pub struct PageWrite<'a> {
    pub file: &'a str,
    pub offset: u64,
    pub bytes: &'a [u8],
}

/// The state directory.
pub struct StateDir {
    dir: PathBuf,
    /// Held locked while the directory is open: two replicas appending to one log would
    /// corrupt it.
    _lock: File,
    wal: File,
    wal_bytes: u64,
    next_seq: u64,
}

/// The log's first bytes: `LRWAL`, two zero bytes, layout version 1.
pub const WAL_MAGIC: [u8; 8] = *b"LRWAL\0\0\x01";
/// The journal's first bytes: `LRJNL`, two zero bytes, layout version 1.
pub const JOURNAL_MAGIC: [u8; 8] = *b"LRJNL\0\0\x01";

const JOURNAL_WRITE: u8 = 1;
const JOURNAL_LENGTH: u8 = 2;
const JOURNAL_COMMIT: u8 = 3;

impl StateDir {
    /// Opens (creating it if need be) `dir`: finishes an interrupted checkpoint, cuts a torn
    /// log tail, and returns the checkpoint and the log records after it.
    pub fn open(dir: &Path) -> io::Result<(StateDir, Checkpoint, Vec<Record>)> {
        owner_only::ensure_dir(dir)?;
        let lock = owner_only::file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))?;
        if let Err(e) = lock.try_lock() {
            return Err(match e {
                fs::TryLockError::WouldBlock => io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "{} is in use by another local-replica: stop it first (`local-replica stop --state-dir {}`)",
                        dir.display(),
                        dir.display()
                    ),
                ),
                fs::TryLockError::Error(e) => e,
            });
        }
        for sub in ["modules", "canisters", "cache"] {
            owner_only::ensure_dir(&dir.join(sub))?;
        }
        // State written before files were created private.
        for sub in [Path::new(""), Path::new("modules"), Path::new("canisters")] {
            owner_only::tighten_entries(&dir.join(sub))?;
        }
        recover_journal(dir)?;
        let checkpoint = match fs::read(dir.join("checkpoint")) {
            Ok(bytes) => candid::decode_one::<Checkpoint>(&bytes)
                .map_err(|e| corrupt(format!("the checkpoint file cannot be read ({e})")))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Checkpoint::default(),
            Err(e) => return Err(e),
        };
        let wal_path = dir.join("wal");
        let mut wal = owner_only::file_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&wal_path)?;
        let start = match frames_start(&mut wal, &WAL_MAGIC)? {
            Some(start) => start,
            None => {
                // New, or torn before its header was whole: nothing in it was acknowledged.
                wal.set_len(0)?;
                wal.write_all(&WAL_MAGIC)?;
                wal.sync_all()?;
                WAL_MAGIC.len() as u64
            }
        };
        let (frames, good) = read_frames(&mut wal, start)?;
        if good < wal.metadata()?.len() {
            // A record torn by a crash was never acknowledged.
            wal.set_len(good)?;
            wal.sync_all()?;
        }
        let mut records = Vec::new();
        for frame in frames {
            let record = decode_record(&frame)
                .ok_or_else(|| corrupt("a log record cannot be decoded".into()))?;
            if record.seq > checkpoint.seq {
                records.push(record);
            }
        }
        let next_seq = records.last().map_or(checkpoint.seq, |r| r.seq) + 1;
        sync_dir(dir)?;
        Ok((
            StateDir {
                dir: dir.to_path_buf(),
                _lock: lock,
                wal,
                wal_bytes: good,
                next_seq,
            },
            checkpoint,
            records,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Bytes in the log since the last checkpoint.
    pub fn log_bytes(&self) -> u64 {
        self.wal_bytes
    }

    /// Appends an input (and the ingress message it came from) and syncs it: once this
    /// returns, the input survives any crash.
    pub fn log(
        &mut self,
        time: u64,
        input: &Input,
        ingress: Option<&SeenRequest>,
    ) -> io::Result<u64> {
        let seq = self.next_seq;
        let payload = encode_ingress_record(seq, time, input, ingress);
        let mut frame = Vec::with_capacity(payload.len() + 8);
        frame_into(&mut frame, &payload);
        self.wal.write_all(&frame)?;
        self.wal.sync_data()?;
        self.wal_bytes += frame.len() as u64;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Stores a module (before an install that uses it is logged).
    pub fn save_module(&self, hash: &[u8; 32], wasm: &[u8]) -> io::Result<()> {
        let path = self.module_path(hash);
        if path.exists() {
            return Ok(());
        }
        let tmp = path.with_extension("tmp");
        let mut f = owner_only::create_file(&tmp)?;
        f.write_all(wasm)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir.join("modules"))
    }

    pub fn load_module(&self, hash: &[u8]) -> io::Result<Vec<u8>> {
        fs::read(self.dir.join("modules").join(hex::encode(hash)))
    }

    fn module_path(&self, hash: &[u8; 32]) -> PathBuf {
        self.dir.join("modules").join(hex::encode(hash))
    }

    /// A file in `canisters/`.
    pub fn canister_file(&self, name: &str) -> PathBuf {
        self.dir.join("canisters").join(name)
    }

    /// The sequence number the next record gets (a new file name unique to this checkpoint).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Writes a checkpoint: `writes` and `lengths` (file sizes) to the journal, then in place,
    /// then `checkpoint`; then empties the log and removes files no longer referenced.
    pub fn checkpoint<'a>(
        &mut self,
        writes: impl Iterator<Item = PageWrite<'a>>,
        lengths: &[(String, u64)],
        mut checkpoint: Checkpoint,
    ) -> io::Result<()> {
        checkpoint.seq = self.next_seq - 1;
        let journal = self.dir.join("journal");
        {
            let mut j = BufWriter::new(owner_only::create_file(&journal)?);
            j.write_all(&JOURNAL_MAGIC)?;
            let mut payload = Vec::new();
            for w in writes {
                payload.clear();
                payload.push(JOURNAL_WRITE);
                put_bytes(&mut payload, w.file.as_bytes());
                payload.extend_from_slice(&w.offset.to_le_bytes());
                put_bytes(&mut payload, w.bytes);
                write_frame(&mut j, &payload)?;
            }
            for (file, len) in lengths {
                payload.clear();
                payload.push(JOURNAL_LENGTH);
                put_bytes(&mut payload, file.as_bytes());
                payload.extend_from_slice(&len.to_le_bytes());
                write_frame(&mut j, &payload)?;
            }
            payload.clear();
            payload.push(JOURNAL_COMMIT);
            payload.extend_from_slice(
                &candid::encode_one(&checkpoint).map_err(|e| corrupt(e.to_string()))?,
            );
            write_frame(&mut j, &payload)?;
            j.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        sync_dir(&self.dir)?;
        recover_journal(&self.dir)?;
        self.wal.set_len(0)?;
        self.wal.write_all(&WAL_MAGIC)?;
        self.wal.sync_all()?;
        self.wal_bytes = WAL_MAGIC.len() as u64;
        Ok(())
    }
}

/// Applies a complete journal (again, if a crash interrupted it) and removes it; discards an
/// incomplete one.
fn recover_journal(dir: &Path) -> io::Result<()> {
    let path = dir.join("journal");
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let frames = match frames_start(&mut file, &JOURNAL_MAGIC)? {
        Some(start) => read_frames(&mut file, start)?.0,
        // Cut short before its header was whole: incomplete.
        None => Vec::new(),
    };
    let complete = frames
        .last()
        .is_some_and(|f| f.first() == Some(&JOURNAL_COMMIT));
    if complete {
        let canisters = dir.join("canisters");
        let mut touched: Vec<(String, File)> = Vec::new();
        let open = |name: &str, touched: &mut Vec<(String, File)>| -> io::Result<usize> {
            if let Some(i) = touched.iter().position(|(n, _)| n == name) {
                return Ok(i);
            }
            let f = owner_only::file_options()
                .write(true)
                .create(true)
                .truncate(false)
                .open(canisters.join(name))?;
            touched.push((name.to_string(), f));
            Ok(touched.len() - 1)
        };
        let mut referenced = Vec::new();
        for frame in &frames {
            let bad = || corrupt("a journal entry cannot be decoded".into());
            let mut r = Reader(&frame[1..]);
            match frame[0] {
                JOURNAL_WRITE => {
                    let name = r.string().ok_or_else(bad)?;
                    let offset = r.u64().ok_or_else(bad)?;
                    let bytes = r.bytes().ok_or_else(bad)?;
                    let i = open(&name, &mut touched)?;
                    write_at(&touched[i].1, offset, bytes)?;
                }
                JOURNAL_LENGTH => {
                    let name = r.string().ok_or_else(bad)?;
                    let len = r.u64().ok_or_else(bad)?;
                    let i = open(&name, &mut touched)?;
                    touched[i].1.set_len(len)?;
                    referenced.push(name);
                }
                _ => {
                    for (_, f) in &touched {
                        f.sync_all()?;
                    }
                    sync_dir(&canisters)?;
                    let tmp = dir.join("checkpoint.tmp");
                    let mut f = owner_only::create_file(&tmp)?;
                    f.write_all(&frame[1..])?;
                    f.sync_all()?;
                    fs::rename(&tmp, dir.join("checkpoint"))?;
                    sync_dir(dir)?;
                }
            }
        }
        // Files of replaced instances and deleted canisters.
        for entry in fs::read_dir(&canisters)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !referenced.contains(&name) {
                fs::remove_file(entry.path())?;
            }
        }
    }
    fs::remove_file(&path)?;
    sync_dir(dir)
}

fn write_at(f: &File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    f.write_all_at(bytes, offset)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn corrupt(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

fn frame_into(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    w.write_all(&(payload.len() as u32).to_le_bytes())?;
    w.write_all(&crc32fast::hash(payload).to_le_bytes())?;
    w.write_all(payload)
}

/// Where the frames of a log or journal begin: after its header `magic`, or at 0 in a file
/// written before there were headers; `None` if the file is shorter than a header (new, or torn
/// before its first write was whole). A header of a later version is refused.
fn frames_start(file: &mut File, magic: &[u8; 8]) -> io::Result<Option<u64>> {
    use std::io::Seek;
    file.seek(io::SeekFrom::Start(0))?;
    let mut head = [0u8; 8];
    if read_full(file, &mut head)? < head.len() {
        return Ok(None);
    }
    if head == *magic {
        Ok(Some(magic.len() as u64))
    } else if head[..7] == magic[..7] {
        Err(corrupt(format!(
            "{} is of layout version {}, and this local-replica reads version {}: use the \
             local-replica that wrote it",
            String::from_utf8_lossy(&magic[..5]).to_lowercase(),
            head[7],
            magic[7]
        )))
    } else {
        // Written before headers: a frame's length, which is never as large as a magic reads.
        Ok(Some(0))
    }
}

/// Reads whole, intact frames from `start`; returns them and where the intact part ends.
fn read_frames(file: &mut File, start: u64) -> io::Result<(Vec<Vec<u8>>, u64)> {
    use std::io::Seek;
    file.seek(io::SeekFrom::Start(start))?;
    let mut r = BufReader::new(file);
    let mut frames = Vec::new();
    let mut good = start;
    loop {
        let mut head = [0u8; 8];
        if read_full(&mut r, &mut head)? < 8 {
            break;
        }
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        let mut payload = vec![0u8; len];
        if read_full(&mut r, &mut payload)? < len || crc32fast::hash(&payload) != crc {
            break;
        }
        good += 8 + len as u64;
        frames.push(payload);
    }
    Ok((frames, good))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..])? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn put_principals(out: &mut Vec<u8>, ps: &[Principal]) {
    out.extend_from_slice(&(ps.len() as u32).to_le_bytes());
    for p in ps {
        put_bytes(out, p.as_slice());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn principal(&mut self) -> Option<Principal> {
        Principal::try_from_slice(self.bytes()?).ok()
    }
    fn principals(&mut self) -> Option<Vec<Principal>> {
        let n = self.u32()?;
        (0..n).map(|_| self.principal()).collect()
    }
}

const CREATE: u8 = 1;
const INSTALL: u8 = 2;
const UPDATE: u8 = 3;
const TIME: u8 = 4;
const CONTROLLERS: u8 = 5;
const STOP: u8 = 6;
const START: u8 = 7;
const DELETE: u8 = 8;
/// Before the kind of an input that came from an ingress message: the [`SeenRequest`], then
/// the input's own kind and fields.
const INGRESS: u8 = 9;
const UPLOAD_CHUNK: u8 = 10;
const CLEAR_CHUNKS: u8 = 11;
const SYSTEM_CALL: u8 = 12;

fn mode_byte(mode: InstallMode) -> u8 {
    match mode {
        InstallMode::Install => 0,
        InstallMode::Reinstall => 1,
        InstallMode::Upgrade => 2,
    }
}

/// `seq: u64, time: u64, kind: u8`, then the input's fields (byte strings and lists with a
/// u32 length first; all integers little-endian).
pub fn encode_record(seq: u64, time: u64, input: &Input) -> Vec<u8> {
    encode_ingress_record(seq, time, input, None)
}

/// [`encode_record`] of an input that came from an ingress message: after `time`, the kind
/// [`INGRESS`], `request_id, ingress_expiry: u64, sender, effective_canister_id`, then the
/// input's kind and fields as usual.
pub fn encode_ingress_record(
    seq: u64,
    time: u64,
    input: &Input,
    ingress: Option<&SeenRequest>,
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&time.to_le_bytes());
    if let Some(seen) = ingress {
        out.push(INGRESS);
        put_bytes(&mut out, &seen.request_id);
        out.extend_from_slice(&seen.ingress_expiry.to_le_bytes());
        put_bytes(&mut out, seen.sender.as_slice());
        put_bytes(&mut out, seen.effective_canister_id.as_slice());
    }
    match input {
        Input::CreateCanister { controllers } => {
            out.push(CREATE);
            put_principals(&mut out, controllers);
        }
        Input::InstallCode {
            sender,
            canister,
            mode,
            module,
            arg,
        } => {
            out.push(INSTALL);
            put_bytes(&mut out, sender.as_slice());
            put_bytes(&mut out, canister.as_slice());
            out.push(mode_byte(*mode));
            put_bytes(&mut out, module);
            put_bytes(&mut out, arg);
        }
        Input::UpdateCall {
            sender,
            canister,
            method,
            arg,
        } => {
            out.push(UPDATE);
            put_bytes(&mut out, sender.as_slice());
            put_bytes(&mut out, canister.as_slice());
            put_bytes(&mut out, method.as_bytes());
            put_bytes(&mut out, arg);
        }
        Input::Time => out.push(TIME),
        Input::UpdateControllers {
            sender,
            canister,
            controllers,
        } => {
            out.push(CONTROLLERS);
            put_bytes(&mut out, sender.as_slice());
            put_bytes(&mut out, canister.as_slice());
            put_principals(&mut out, controllers);
        }
        Input::StopCanister { sender, canister }
        | Input::StartCanister { sender, canister }
        | Input::DeleteCanister { sender, canister } => {
            out.push(match input {
                Input::StopCanister { .. } => STOP,
                Input::StartCanister { .. } => START,
                _ => DELETE,
            });
            put_bytes(&mut out, sender.as_slice());
            put_bytes(&mut out, canister.as_slice());
        }
        Input::UploadChunk {
            sender,
            canister,
            hash,
        } => {
            out.push(UPLOAD_CHUNK);
            put_bytes(&mut out, sender.as_slice());
            put_bytes(&mut out, canister.as_slice());
            put_bytes(&mut out, hash);
        }
        Input::ClearChunkStore { sender, canister } => {
            out.push(CLEAR_CHUNKS);
            put_bytes(&mut out, sender.as_slice());
            put_bytes(&mut out, canister.as_slice());
        }
        Input::SystemCall {
            sender,
            canister,
            method,
            arg,
        } => {
            out.push(SYSTEM_CALL);
            put_bytes(&mut out, sender.as_slice());
            put_bytes(&mut out, canister.as_slice());
            put_bytes(&mut out, method.as_bytes());
            put_bytes(&mut out, arg);
        }
    }
    out
}

pub fn decode_record(bytes: &[u8]) -> Option<Record> {
    let mut r = Reader(bytes);
    let seq = r.u64()?;
    let time = r.u64()?;
    let mut kind = r.u8()?;
    let mut ingress = None;
    if kind == INGRESS {
        let request_id = r.bytes()?;
        if request_id.len() != 32 {
            return None;
        }
        ingress = Some(SeenRequest {
            request_id: ByteBuf::from(request_id.to_vec()),
            ingress_expiry: r.u64()?,
            sender: r.principal()?,
            effective_canister_id: r.principal()?,
        });
        kind = r.u8()?;
    }
    let input = match kind {
        CREATE => Input::CreateCanister {
            controllers: r.principals()?,
        },
        INSTALL => Input::InstallCode {
            sender: r.principal()?,
            canister: r.principal()?,
            mode: match r.u8()? {
                0 => InstallMode::Install,
                1 => InstallMode::Reinstall,
                2 => InstallMode::Upgrade,
                _ => return None,
            },
            module: r.bytes()?.try_into().ok()?,
            arg: r.bytes()?.to_vec(),
        },
        UPDATE => Input::UpdateCall {
            sender: r.principal()?,
            canister: r.principal()?,
            method: r.string()?,
            arg: r.bytes()?.to_vec(),
        },
        TIME => Input::Time,
        CONTROLLERS => Input::UpdateControllers {
            sender: r.principal()?,
            canister: r.principal()?,
            controllers: r.principals()?,
        },
        kind @ (STOP | START | DELETE) => {
            let (sender, canister) = (r.principal()?, r.principal()?);
            match kind {
                STOP => Input::StopCanister { sender, canister },
                START => Input::StartCanister { sender, canister },
                _ => Input::DeleteCanister { sender, canister },
            }
        }
        UPLOAD_CHUNK => Input::UploadChunk {
            sender: r.principal()?,
            canister: r.principal()?,
            hash: r.bytes()?.try_into().ok()?,
        },
        CLEAR_CHUNKS => Input::ClearChunkStore {
            sender: r.principal()?,
            canister: r.principal()?,
        },
        SYSTEM_CALL => Input::SystemCall {
            sender: r.principal()?,
            canister: r.principal()?,
            method: r.string()?,
            arg: r.bytes()?.to_vec(),
        },
        _ => return None,
    };
    r.0.is_empty().then_some(Record {
        seq,
        time,
        input,
        ingress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u8) -> Principal {
        Principal::from_slice(&[n; 29])
    }

    #[test]
    fn every_input_round_trips() {
        let inputs = [
            Input::CreateCanister {
                controllers: vec![p(1), p(2)],
            },
            Input::InstallCode {
                sender: p(1),
                canister: p(3),
                mode: InstallMode::Upgrade,
                module: [9; 32],
                arg: vec![1, 2, 3],
            },
            Input::UpdateCall {
                sender: p(1),
                canister: p(3),
                method: "put_chunk".into(),
                arg: vec![0; 1000],
            },
            Input::Time,
            Input::UpdateControllers {
                sender: p(1),
                canister: p(3),
                controllers: vec![],
            },
            Input::StopCanister {
                sender: p(1),
                canister: p(3),
            },
            Input::StartCanister {
                sender: p(1),
                canister: p(3),
            },
            Input::UploadChunk {
                sender: p(1),
                canister: p(3),
                hash: [7; 32],
            },
            Input::ClearChunkStore {
                sender: p(1),
                canister: p(3),
            },
            Input::DeleteCanister {
                sender: p(1),
                canister: p(3),
            },
            Input::SystemCall {
                sender: p(1),
                canister: crate::system::CYCLES_LEDGER,
                method: "create_canister".into(),
                arg: vec![0x44, 0x49, 0x44, 0x4c],
            },
        ];
        for (i, input) in inputs.into_iter().enumerate() {
            let bytes = encode_record(i as u64, 77, &input);
            assert_eq!(
                decode_record(&bytes),
                Some(Record {
                    seq: i as u64,
                    time: 77,
                    input: input.clone(),
                    ingress: None,
                })
            );
            assert_eq!(decode_record(&bytes[..bytes.len() - 1]), None);
            let seen = SeenRequest {
                request_id: ByteBuf::from(vec![i as u8; 32]),
                ingress_expiry: 1_000 + i as u64,
                sender: p(1),
                effective_canister_id: p(3),
            };
            let bytes = encode_ingress_record(i as u64, 77, &input, Some(&seen));
            assert_eq!(
                decode_record(&bytes),
                Some(Record {
                    seq: i as u64,
                    time: 77,
                    input,
                    ingress: Some(seen),
                })
            );
            assert_eq!(decode_record(&bytes[..bytes.len() - 1]), None);
        }
    }

    /// The bytes of a log record as written before ingress messages were kept: they still read.
    #[test]
    fn a_record_without_an_ingress_message_still_reads() {
        let mut golden = Vec::new();
        golden.extend_from_slice(&3u64.to_le_bytes());
        golden.extend_from_slice(&77u64.to_le_bytes());
        golden.push(4); // Time
        assert_eq!(
            decode_record(&golden),
            Some(Record {
                seq: 3,
                time: 77,
                input: Input::Time,
                ingress: None
            })
        );
    }

    /// A checkpoint written before ingress messages were kept still reads (with none).
    #[test]
    fn a_checkpoint_without_requests_still_reads() {
        #[derive(CandidType)]
        struct OldCheckpoint {
            seq: u64,
            time: u64,
            next_canister: u64,
            canisters: Vec<CanisterState>,
        }
        let old = candid::encode_one(OldCheckpoint {
            seq: 5,
            time: 6,
            next_canister: 7,
            canisters: vec![],
        })
        .unwrap();
        let read: Checkpoint = candid::decode_one(&old).unwrap();
        assert_eq!((read.seq, read.time, read.next_canister), (5, 6, 7));
        assert_eq!(read.requests, None);
    }

    /// Every directory and file of the state, as the modes say, whatever the umask.
    fn modes_under(dir: &Path) -> Vec<(PathBuf, u32)> {
        use std::os::unix::fs::MetadataExt;
        let mut found = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(path) = todo.pop() {
            let meta = fs::symlink_metadata(&path).unwrap();
            found.push((path.clone(), meta.mode() & 0o7777));
            if meta.is_dir() {
                todo.extend(fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            }
        }
        found
    }

    #[test]
    fn the_state_is_private_whatever_the_umask() {
        use crate::owner_only::{DIR_MODE, FILE_MODE};
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
        let root = std::env::temp_dir().join(format!("lr-private-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let dir = root.join("state");
        let (mut state, _, _) = StateDir::open(&dir).unwrap();
        state.log(5, &Input::Time, None).unwrap();
        state.save_module(&[7; 32], b"\0asm").unwrap();
        let page = [1u8; 64];
        state
            .checkpoint(
                [PageWrite {
                    file: "c.stable",
                    offset: 0,
                    bytes: &page,
                }]
                .into_iter(),
                &[("c.stable".to_string(), 64)],
                Checkpoint::default(),
            )
            .unwrap();
        let modes = modes_under(&dir);
        for name in ["wal", "lock", "checkpoint", "modules", "canisters", "cache"] {
            assert!(
                modes.iter().any(|(p, _)| p.ends_with(name)),
                "{name} in {modes:?}"
            );
        }
        assert!(modes.iter().any(|(p, _)| p.ends_with("canisters/c.stable")));
        for (path, mode) in &modes {
            let want = if path.is_dir() { DIR_MODE } else { FILE_MODE };
            assert_eq!(*mode, want, "{}", path.display());
        }
        assert_eq!(modes_under(&root)[0].1, DIR_MODE, "a parent it created");
        drop(state);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_state_directory_of_another_user_is_refused_and_an_open_one_closed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("lr-open-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("checkpoint.tmp"), b"").unwrap();
        for p in [dir.clone(), dir.join("checkpoint.tmp")] {
            fs::set_permissions(p, fs::Permissions::from_mode(0o777)).unwrap();
        }
        drop(StateDir::open(&dir).unwrap());
        let modes = modes_under(&dir);
        assert_eq!(modes[0].1, 0o700);
        assert!(
            modes
                .iter()
                .any(|(p, m)| p.ends_with("checkpoint.tmp") && *m == 0o600),
            "{modes:?}"
        );

        let other = crate::owner_only::effective_uid().wrapping_add(4242);
        if nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(other)), None).is_ok() {
            let refused = StateDir::open(&dir).err().expect("refused");
            assert_eq!(refused.kind(), io::ErrorKind::PermissionDenied);
            assert!(
                refused.to_string().contains("belongs to another user"),
                "{refused}"
            );
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A log written before logs had a header still reads, and gets one at the next checkpoint.
    #[test]
    fn a_log_without_a_header_still_reads() {
        let dir = std::env::temp_dir().join(format!("lr-old-wal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut old = Vec::new();
        frame_into(&mut old, &encode_record(1, 5, &Input::Time));
        frame_into(&mut old, &encode_record(2, 6, &Input::Time));
        fs::write(dir.join("wal"), &old).unwrap();
        let (mut state, _, records) = StateDir::open(&dir).unwrap();
        assert_eq!(
            records.iter().map(|r| r.time).collect::<Vec<_>>(),
            vec![5, 6]
        );
        assert_eq!(state.log(7, &Input::Time, None).unwrap(), 3);
        state
            .checkpoint(std::iter::empty(), &[], Checkpoint::default())
            .unwrap();
        drop(state);
        assert_eq!(fs::read(dir.join("wal")).unwrap(), WAL_MAGIC);
        let (_, checkpoint, records) = StateDir::open(&dir).unwrap();
        assert_eq!((checkpoint.seq, records.len()), (3, 0));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_log_of_a_later_layout_is_refused() {
        let dir = std::env::temp_dir().join(format!("lr-new-wal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut later = WAL_MAGIC;
        later[7] = 2;
        fs::write(dir.join("wal"), later).unwrap();
        let refused = StateDir::open(&dir).err().expect("refused");
        assert_eq!(refused.kind(), io::ErrorKind::InvalidData);
        assert!(refused.to_string().contains("version 2"), "{refused}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_log_tail_is_cut_and_earlier_records_kept() {
        let dir = std::env::temp_dir().join(format!("lr-wal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (mut state, _, records) = StateDir::open(&dir).unwrap();
        assert!(records.is_empty());
        state.log(5, &Input::Time, None).unwrap();
        state.log(6, &Input::Time, None).unwrap();
        drop(state);
        // A third record, torn halfway.
        let mut frame = Vec::new();
        frame_into(&mut frame, &encode_record(3, 7, &Input::Time));
        let mut wal = fs::OpenOptions::new()
            .append(true)
            .open(dir.join("wal"))
            .unwrap();
        wal.write_all(&frame[..frame.len() / 2]).unwrap();
        drop(wal);
        let (mut state, _, records) = StateDir::open(&dir).unwrap();
        assert_eq!(
            records.iter().map(|r| r.time).collect::<Vec<_>>(),
            vec![5, 6]
        );
        assert_eq!(
            state.log(8, &Input::Time, None).unwrap(),
            3,
            "the torn record's place is reused"
        );
        drop(state);
        let (_, _, records) = StateDir::open(&dir).unwrap();
        assert_eq!(records.len(), 3);
        fs::remove_dir_all(&dir).unwrap();
    }
}
