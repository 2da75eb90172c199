//! The canister's entry points driven through its model: sequences of calls by five callers
//! (the owner, an admitted device, a grantee, a stranger, the anonymous principal), with the
//! model's invariants checked after every call.
//!
//! Each call is applied as the canister's glue applies it (`vault-canister/src/lib.rs`): an
//! update runs housekeeping first, then the model method with caller and time. After it:
//! - `State::check_invariants` holds (usage is the sum of files' and uploads' charged sizes and
//!   never exceeds the quota; every file's chunks and thumbnail are stored; counters, listing
//!   indices, album counts and sharing indices agree; no block of the chunk store is lost);
//! - a refused update changed nothing (`State::digest` before and after), except the one
//!   deliberate change: a wrong unlock proof is counted and logged;
//! - nothing panicked, queries included.
//!
//! The state runs on a [`Tracked`] memory, which is what makes this cheap: the stable memory
//! every input starts from is copied back only where the last input wrote; the invariants are
//! checked again only when something was written since they last held (a call that wrote
//! nothing cannot have broken them); and a refused update is compared, byte for byte, with the
//! pages it wrote as they were before it, falling back to the digests of the state before
//! (rebuilt from those pages) and after only where the bytes differ, instead of digesting the
//! whole vault (every stored chunk) before every update.

use std::cell::RefCell;
use std::rc::Rc;

use arbitrary::{Result, Unstructured};
use candid::Principal;
use ic_stable_structures::{Memory, VectorMemory};
use serde_bytes::ByteBuf;
use vault_canister::model::State;
use vault_canister::model::types::*;
use vault_crypto::{
    AdmissionChallenge, AdmissionKey, CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, KdfParams, LinkToken,
    MasterGeneration, MasterKey, PassphraseWrappedKey, RecoveryKey, STREAM_HEADER_SIZE,
    UnlockProof, WRAPPED_KEY_SIZE,
};

use crate::tracked::{Mem, Tracked};

/// Stable-memory bucket size of the fuzzed state, in 64 KiB pages: small, so that a fresh
/// state per input is a cheap copy.
const BUCKET_PAGES: u16 = 1;
/// The vault's quota: small enough that uploads reach it.
const QUOTA: u64 = 4 * CHUNK_SIZE as u64;
/// Most calls one input makes.
const MAX_CALLS: usize = 48;
/// Install time (ns since the epoch).
pub(crate) const T0: u64 = 1_700_000_000_000_000_000;
const SECOND: u64 = 1_000_000_000;

/// Who calls: the index an input picks.
pub const CALLERS: [&str; 5] = ["owner", "device", "grantee", "stranger", "anonymous"];

pub(crate) fn caller(index: u8) -> Principal {
    match index % 5 {
        4 => Principal::anonymous(),
        n => Principal::from_slice(&[n + 1; 29]),
    }
}

/// The fuzzed canister's own id (what admission proofs sign).
pub(crate) fn canister() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
}

/// The fuzzed vault's secrets, made once: its passphrase record (Argon2id at the floor), the
/// admission keys of its passphrase and of its recovery key.
struct Secrets {
    record: Vec<u8>,
    passphrase: AdmissionKey,
    recovery: AdmissionKey,
}

/// One call of the canister's interface, with its arguments.
#[derive(Debug)]
pub enum Call {
    SetQuota(u64),
    Setup(SetupArgs),
    AdmissionTicket,
    AdmitDevice(AdmitDeviceArgs),
    /// admit_device with a real proof, signed when the call is applied (for the caller and
    /// the counter then, moved by `counter_offset`).
    AdmitProven {
        method: UnlockMethod,
        counter_offset: u64,
        send_counter: bool,
    },
    ClearUnlockFailures,
    ChangePassphrase(ByteBuf, ByteBuf),
    ChangeRecovery(ByteBuf, ByteBuf),
    /// With `prove`, the proof is made for the caller at the current counter when it runs.
    RotateMasterKey(RotateMasterKeyArgs, bool),
    RemoveDevice(Principal),
    BeginUpload(BeginUploadArgs),
    PutChunk(PutChunkArgs),
    /// put_chunk with `len` bytes of `fill` (borrowed from a buffer kept between calls: no
    /// megabyte allocated, zeroed and freed per chunk).
    PutFilledChunk {
        file_id: FileId,
        index: u32,
        fill: u8,
        len: usize,
    },
    CommitUpload(FileId),
    AbortUpload(FileId),
    MoveFile(MoveFileArgs),
    Trash(Vec<FileId>),
    Restore(Vec<FileId>),
    Purge(Vec<FileId>),
    CreateAlbum(CreateAlbumArgs),
    RenameAlbum(AlbumId, ByteBuf),
    DeleteAlbum(AlbumId),
    Grant(GrantArgs),
    RevokeGrant(Target, Principal),
    RotateAlbumKey(RotateAlbumKeyArgs),
    CreateLink(CreateLinkArgs),
    RevokeLink(ByteBuf),
    LinkOpened(LinkAccess),
    VaultInfo,
    UnlockParams,
    SharingKey,
    Profile,
    Devices,
    UploadStatus(FileId),
    ListFiles(ListFilesArgs),
    GetFile(FileRef),
    GetChunk(GetChunkArgs),
    GetThumbnail(FileRef),
    ListAlbums,
    GetAlbum(AlbumId, Option<LinkAccess>),
    ListGrants(Option<Target>),
    SharedWithMe,
    ListLinks,
    OpenLink(LinkAccess),
    Activity(Option<u64>, Option<u32>),
}

/// What a call did: a query (which may change nothing), or an update's result.
enum Outcome {
    Query,
    Update(std::result::Result<(), VaultError>),
}

fn update<T>(r: VaultResult<T>) -> Outcome {
    Outcome::Update(r.map(|_| ()))
}

impl Call {
    /// Applies the call to `s` as `caller` at `now`, as the canister's glue does.
    fn apply<M: Memory>(self, s: &mut State<M>, caller: &Principal, now: u64) -> Outcome {
        use Call::*;
        let q = |_| Outcome::Query;
        match self {
            SetQuota(bytes) => update(s.set_quota(caller, now, bytes)),
            Setup(args) => update(s.setup(caller, now, args)),
            AdmissionTicket => update(s.admission_ticket(caller, now)),
            AdmitDevice(args) => update(s.admit_device(caller, &canister(), now, args)),
            AdmitProven {
                method,
                counter_offset,
                send_counter,
            } => {
                let args = proven(s, caller, now, method, counter_offset, send_counter);
                update(s.admit_device(caller, &canister(), now, args))
            }
            ClearUnlockFailures => update(s.clear_unlock_failures(caller, now)),
            ChangePassphrase(r, v) => update(s.change_passphrase(caller, now, r, v)),
            ChangeRecovery(w, v) => update(s.change_recovery(caller, now, w, v)),
            RotateMasterKey(mut args, prove) => {
                if prove {
                    args.proof = proven(s, caller, now, UnlockMethod::Passphrase, 0, false).proof;
                }
                update(s.rotate_master_key(caller, &canister(), now, args))
            }
            RemoveDevice(d) => update(s.remove_device(caller, now, d)),
            BeginUpload(args) => update(s.begin_upload(caller, now, args)),
            PutChunk(args) => update(s.put_chunk(caller, now, args.borrowed())),
            PutFilledChunk {
                file_id,
                index,
                fill,
                len,
            } => update(filled(fill, len, |data| {
                s.put_chunk(
                    caller,
                    now,
                    PutChunkArgsRef {
                        file_id: serde_bytes::Bytes::new(&file_id),
                        index,
                        data: serde_bytes::Bytes::new(data),
                    },
                )
            })),
            CommitUpload(id) => update(s.commit_upload(caller, now, &id)),
            AbortUpload(id) => update(s.abort_upload(caller, now, &id)),
            MoveFile(args) => update(s.move_file(caller, now, args)),
            Trash(ids) => update(s.trash(caller, now, ids)),
            Restore(ids) => update(s.restore(caller, now, ids)),
            Purge(ids) => update(s.purge(caller, now, ids)),
            CreateAlbum(args) => update(s.create_album(caller, now, args)),
            RenameAlbum(id, name) => update(s.rename_album(caller, now, id, name)),
            DeleteAlbum(id) => update(s.delete_album(caller, now, id)),
            Grant(args) => update(s.grant(caller, now, args)),
            RevokeGrant(t, p) => update(s.revoke_grant(caller, now, t, p)),
            RotateAlbumKey(args) => update(s.rotate_album_key(caller, now, args)),
            CreateLink(args) => update(s.create_link(caller, now, args)),
            RevokeLink(hash) => update(s.revoke_link(caller, now, hash)),
            LinkOpened(access) => update(s.link_opened(now, &access)),
            VaultInfo => q(s.vault_info(caller).map(drop)),
            UnlockParams => q(s.unlock_params().map(drop)),
            SharingKey => q(s.sharing_key().map(drop)),
            Profile => q(s.profile(caller).map(drop)),
            Devices => q(s.devices(caller).map(drop)),
            UploadStatus(id) => q(s.upload_status(caller, now, &id).map(drop)),
            ListFiles(args) => q(s.list_files(caller, now, args).map(drop)),
            GetFile(args) => q(s.get_file(caller, now, args).map(drop)),
            GetChunk(args) => q(s.get_chunk(caller, now, args).map(drop)),
            GetThumbnail(args) => q(s.get_thumbnail(caller, now, args).map(drop)),
            ListAlbums => q(s.list_albums(caller).map(drop)),
            GetAlbum(id, link) => q(s.get_album(caller, now, &id, link.as_ref()).map(drop)),
            ListGrants(t) => q(s.list_grants(caller, t).map(drop)),
            SharedWithMe => q(s.shared_with_me(caller, now).map(drop)),
            ListLinks => q(s.list_links(caller).map(drop)),
            OpenLink(access) => q(s.open_link(now, &access).map(drop)),
            Activity(before, limit) => q(s.activity(caller, before, limit).map(drop)),
        }
    }

    /// The method's name in vault.did.
    fn name(&self) -> &'static str {
        match self {
            Call::SetQuota(..) => "set_quota",
            Call::Setup(..) => "setup",
            Call::AdmissionTicket => "admission_ticket",
            Call::AdmitDevice(..) | Call::AdmitProven { .. } => "admit_device",
            Call::ClearUnlockFailures => "clear_unlock_failures",
            Call::ChangePassphrase(..) => "change_passphrase",
            Call::ChangeRecovery(..) => "change_recovery",
            Call::RotateMasterKey(..) => "rotate_master_key",
            Call::RemoveDevice(..) => "remove_device",
            Call::BeginUpload(..) => "begin_upload",
            Call::PutChunk(..) | Call::PutFilledChunk { .. } => "put_chunk",
            Call::CommitUpload(..) => "commit_upload",
            Call::AbortUpload(..) => "abort_upload",
            Call::MoveFile(..) => "move_file",
            Call::Trash(..) => "trash",
            Call::Restore(..) => "restore",
            Call::Purge(..) => "purge",
            Call::CreateAlbum(..) => "create_album",
            Call::RenameAlbum(..) => "rename_album",
            Call::DeleteAlbum(..) => "delete_album",
            Call::Grant(..) => "grant",
            Call::RevokeGrant(..) => "revoke_grant",
            Call::RotateAlbumKey(..) => "rotate_album_key",
            Call::CreateLink(..) => "create_link",
            Call::RevokeLink(..) => "revoke_link",
            Call::LinkOpened(..) => "link_opened",
            Call::VaultInfo => "vault_info",
            Call::UnlockParams => "unlock_params",
            Call::SharingKey => "sharing_key",
            Call::Profile => "profile",
            Call::Devices => "devices",
            Call::UploadStatus(..) => "upload_status",
            Call::ListFiles(..) => "list_files",
            Call::GetFile(..) => "get_file",
            Call::GetChunk(..) => "get_chunk",
            Call::GetThumbnail(..) => "get_thumbnail",
            Call::ListAlbums => "list_albums",
            Call::GetAlbum(..) => "get_album",
            Call::ListGrants(..) => "list_grants",
            Call::SharedWithMe => "shared_with_me",
            Call::ListLinks => "list_links",
            Call::OpenLink(..) => "open_link",
            Call::Activity(..) => "activity",
        }
    }

    /// Whether a refusal (`NotAuthorized`) of this call changes the state: a wrong unlock
    /// proof is counted (that is what makes guessing slow) and logged.
    /// Calls whose wrong passphrase proofs are counted on purpose (a refusal that changes the
    /// caller's count): admission, and a rotation of the master key by an owner's device.
    fn counts_refusals(&self) -> bool {
        matches!(
            self,
            Call::AdmitDevice(_) | Call::AdmitProven { .. } | Call::RotateMasterKey(..)
        )
    }
}

/// A fuzzed vault: its state, and a handle on the memory under it.
pub struct Vault {
    pub state: State<Mem>,
    memory: Mem,
    /// The memory's [`Tracked::changes`] when the invariants last held.
    sound_at: Option<u64>,
}

impl Vault {
    /// Checks the invariants, unless nothing was written since they last held.
    fn check_invariants(&mut self, when: impl FnOnce() -> String) {
        let changes = self.memory.changes();
        if self.sound_at == Some(changes) {
            return;
        }
        self.state
            .check_invariants()
            .unwrap_or_else(|e| panic!("{}: {e}", when()));
        self.sound_at = Some(changes);
    }
}

/// Applies `call` as the canister would and checks the invariants after it.
pub fn apply_checked(v: &mut Vault, caller: &Principal, now: u64, call: Call) {
    let is_query = matches!(
        call,
        Call::VaultInfo
            | Call::UnlockParams
            | Call::SharingKey
            | Call::Profile
            | Call::Devices
            | Call::UploadStatus(_)
            | Call::ListFiles(_)
            | Call::GetFile(_)
            | Call::GetChunk(_)
            | Call::GetThumbnail(_)
            | Call::ListAlbums
            | Call::GetAlbum(..)
            | Call::ListGrants(_)
            | Call::SharedWithMe
            | Call::ListLinks
            | Call::OpenLink(_)
            | Call::Activity(..)
    );
    if !is_query {
        v.state.housekeeping(now);
        v.check_invariants(|| format!("after housekeeping at {now}"));
    }
    // Queries take `&State`: only an update can change anything. While an update runs, the
    // memory keeps what it overwrites: the state before it, should it be refused.
    if !is_query {
        v.memory.watch();
    }
    let described = call.name();
    let counts_refusals = call.counts_refusals();
    let outcome = call.apply(&mut v.state, caller, now);
    let before = v.memory.unwatch();
    match outcome {
        Outcome::Query => {}
        Outcome::Update(Err(e)) if !(counts_refusals && e == VaultError::NotAuthorized) => {
            let before = before.expect("an update is watched");
            // The same bytes: the same state. Otherwise the digests of the state before (on a
            // copy of the memory with the overwritten pages put back) and after must agree.
            if !v.memory.same_as(&before) {
                let earlier = state_from(v.memory.bytes_before(&before)).digest();
                assert_eq!(
                    v.state.digest(),
                    earlier,
                    "{described} by {caller} was refused ({e:?}) but changed the state"
                )
            }
        }
        Outcome::Update(_) => {}
    }
    v.check_invariants(|| format!("after {described} by {caller}"));
}

/// The vault every input starts from, as its stable memory: installed with [`QUOTA`], set up
/// (with [`Secrets`]' passphrase and recovery key), the device admitted.
fn base() -> Vec<u8> {
    let memory = VectorMemory::default();
    let mut s = State::init_with_bucket_pages(memory.clone(), BUCKET_PAGES);
    let owner = caller(0);
    s.install(owner, Some(QUOTA), T0).expect("install");
    s.setup(&owner, T0, setup_args()).expect("setup");
    let args = proven(&s, &caller(1), T0, UnlockMethod::Passphrase, 0, true);
    s.admit_device(&caller(1), &canister(), T0, args)
        .expect("the device is admitted");
    s.check_invariants().expect("the base vault is sound");
    drop(s);
    memory.borrow().clone()
}

thread_local! {
    static BASE: Vec<u8> = base();
    static SECRETS: Secrets = secrets();
    /// The memory of the last fresh state, reused by the next once that one is dropped.
    static SPARE: RefCell<Option<Mem>> = const { RefCell::new(None) };
}

/// A fresh copy of the base vault (on the memory of the last one, if it was dropped: only the
/// pages it wrote are copied back).
pub fn fresh_state() -> Vault {
    let memory = BASE.with(|base| {
        SPARE.with_borrow_mut(|spare| match spare {
            Some(m) if Rc::strong_count(m) == 1 => {
                m.reset(base);
                m.clone()
            }
            _ => spare.insert(Tracked::new(base)).clone(),
        })
    });
    Vault {
        state: State::init_with_bucket_pages(memory.clone(), BUCKET_PAGES),
        memory,
        // Not yet checked on this copy: the first call checks them, as on a new copy.
        sound_at: None,
    }
}

/// The state in stable memory `bytes`.
pub(crate) fn state_from(bytes: Vec<u8>) -> State<VectorMemory> {
    State::init_with_bucket_pages(
        std::rc::Rc::new(RefCell::new(bytes)) as VectorMemory,
        BUCKET_PAGES,
    )
}

/// The base vault with [`populate`]'s album, file and links, as its stable memory.
pub(crate) fn populated() -> Vec<u8> {
    let memory: VectorMemory = std::rc::Rc::new(RefCell::new(BASE.with(Clone::clone)));
    let mut s = State::init_with_bucket_pages(memory.clone(), BUCKET_PAGES);
    populate(&mut s, T0);
    s.check_invariants().expect("the populated vault is sound");
    drop(s);
    memory.borrow().clone()
}

/// Adds to `s` what link holders reach: album `0x20…` (key version 0) holding file `0x10…`
/// (100 bytes, with a thumbnail), and three links: `0x40…` to the album, `0x41…` to it with a
/// password (proof `0x55…`), `0x42…` to the file.
fn populate(s: &mut State<VectorMemory>, now: u64) {
    let owner = caller(0);
    let album = ByteBuf::from(vec![0x20; 16]);
    let file = ByteBuf::from(vec![0x10; 16]);
    s.create_album(
        &owner,
        now,
        CreateAlbumArgs {
            album_id: album.clone(),
            name: versioned(64, 1),
            wrapped_key: versioned(WRAPPED_KEY_SIZE, 2),
        },
    )
    .expect("album");
    s.begin_upload(
        &owner,
        now,
        BeginUploadArgs {
            file_id: file.clone(),
            size: 100,
            content_header: versioned(STREAM_HEADER_SIZE, 3),
            wrapped_key: versioned(WRAPPED_KEY_SIZE, 4),
            album: Some(album.clone()),
            key_version: 0,
            metadata: versioned(200, 5),
            thumbnail: Some(versioned(300, 6)),
            dedupe_hash: None,
            sort_key: 0,
        },
    )
    .expect("upload");
    s.put_chunk(
        &owner,
        now,
        PutChunkArgs {
            file_id: file.clone(),
            index: 0,
            data: ByteBuf::from(vec![7; 116]),
        }
        .borrowed(),
    )
    .expect("chunk");
    s.commit_upload(&owner, now, &file).expect("commit");
    for (n, target, password) in [
        (0, Target::Album(album.clone()), false),
        (1, Target::Album(album), true),
        (2, Target::File(file), false),
    ] {
        s.create_link(
            &owner,
            now,
            CreateLinkArgs {
                token_hash: token_hash(n),
                target,
                key_version: 0,
                wrapped_key: versioned(WRAPPED_KEY_SIZE, 8),
                expires_at: None,
                password: password.then(|| LinkPasswordArgs {
                    iterations: vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS,
                    verifier: ByteBuf::from(verifier([0x55; 32])),
                }),
                label: None,
                earlier_keys: None,
            },
        )
        .expect("link");
    }
}

/// Made once per process: one Argon2id derivation at the floor's parameters.
fn secrets() -> Secrets {
    let mut rng = Counter(7);
    let master = MasterKey::generate(&mut rng);
    let (record, _) = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "pw",
        KdfParams::MINIMUM,
        &mut rng,
    );
    let passphrase = record.unlock_params().derive("pw").admission_key();
    let recovery = RecoveryKey::generate(&mut rng).admission_key();
    Secrets {
        record: record.to_bytes(),
        passphrase,
        recovery,
    }
}

thread_local! {
    /// The last chunk [`filled`] made: its byte, and the bytes.
    static FILLED: RefCell<(u8, Vec<u8>)> = const { RefCell::new((0, Vec::new())) };
}

/// Calls `f` with `len` bytes of `fill`.
fn filled<T>(fill: u8, len: usize, f: impl FnOnce(&[u8]) -> T) -> T {
    FILLED.with_borrow_mut(|(byte, bytes)| {
        if *byte != fill || bytes.len() != len {
            bytes.clear();
            bytes.resize(len, fill);
            *byte = fill;
        }
        f(bytes)
    })
}

/// A valid passphrase record.
fn passphrase_record() -> Vec<u8> {
    SECRETS.with(|k| k.record.clone())
}

/// The verifier of the passphrase's (or the recovery key's) admission key.
fn admission_verifier(method: UnlockMethod) -> Vec<u8> {
    SECRETS.with(|k| match method {
        UnlockMethod::Passphrase => k.passphrase.verifier().0.to_vec(),
        UnlockMethod::Recovery => k.recovery.verifier().0.to_vec(),
    })
}

/// Proofs made so far: (by the passphrase's key, caller, counter) -> signature.
type Proofs = std::collections::HashMap<(bool, Vec<u8>, u64), [u8; 64]>;

thread_local! {
    static PROOFS: RefCell<Proofs> = RefCell::new(Proofs::new());
}

/// admit_device's arguments with a real proof for `caller` at the vault's counter (plus
/// `counter_offset`), as a client signs it after reading its admission ticket.
fn proven<M: Memory>(
    s: &State<M>,
    caller: &Principal,
    now: u64,
    method: UnlockMethod,
    counter_offset: u64,
    send_counter: bool,
) -> AdmitDeviceArgs {
    let counter = s
        .admission_ticket(&self::caller(0), now)
        .map_or(0, |t| t.counter)
        .wrapping_add(counter_offset);
    let canister = canister();
    let challenge = AdmissionChallenge {
        canister: canister.as_slice(),
        caller: caller.as_slice(),
        counter,
    };
    // Ed25519 signatures are deterministic: each (key, caller, counter) is signed once.
    let passphrase = matches!(method, UnlockMethod::Passphrase);
    let proof = PROOFS.with_borrow_mut(|proofs| {
        if proofs.len() >= 4096 {
            proofs.clear();
        }
        *proofs
            .entry((passphrase, caller.as_slice().to_vec(), counter))
            .or_insert_with(|| {
                SECRETS.with(|k| {
                    let key = if passphrase {
                        &k.passphrase
                    } else {
                        &k.recovery
                    };
                    key.prove(&challenge).expect("principals fit").0
                })
            })
    });
    AdmitDeviceArgs {
        method,
        proof: ByteBuf::from(proof.to_vec()),
        counter: send_counter.then_some(counter),
    }
}

fn setup_args() -> SetupArgs {
    SetupArgs {
        passphrase_record: ByteBuf::from(passphrase_record()),
        passphrase_verifier: ByteBuf::from(admission_verifier(UnlockMethod::Passphrase)),
        recovery_wrapped_key: versioned(WRAPPED_KEY_SIZE, 3),
        recovery_verifier: ByteBuf::from(admission_verifier(UnlockMethod::Recovery)),
        sharing_public_key: ByteBuf::from(vec![9; 32]),
        sharing_secret_wrapped: versioned(WRAPPED_KEY_SIZE, 4),
    }
}

fn verifier(proof: [u8; 32]) -> Vec<u8> {
    UnlockProof::from_bytes(proof).verifier().0.to_vec()
}

/// A deterministic RNG for the record's keys (rand_core 0.10 `CryptoRng`).
struct Counter(u64);

impl rand_core::TryRng for Counter {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> std::result::Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> std::result::Result<u64, Self::Error> {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Ok(self.0 >> 11)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Counter {}

/// A blob of `len` bytes starting with format version 1.
fn versioned(len: usize, fill: u8) -> ByteBuf {
    let mut b = vec![fill; len];
    if let Some(first) = b.first_mut() {
        *first = 1;
    }
    ByteBuf::from(b)
}

// ---- Arguments from the fuzzer's bytes: mostly well-formed, from small pools of ids, so that
// calls meet each other's files, albums, grants and links; sometimes malformed. ----

/// One of four file ids, or (rarely) arbitrary bytes.
fn file_id(u: &mut Unstructured) -> Result<ByteBuf> {
    id(u, 0x10)
}

fn album_id(u: &mut Unstructured) -> Result<ByteBuf> {
    id(u, 0x20)
}

fn id(u: &mut Unstructured, base: u8) -> Result<ByteBuf> {
    Ok(match u.int_in_range(0..=8u8)? {
        8 => ByteBuf::from(Vec::<u8>::arbitrary_take(u, 20)?),
        n => ByteBuf::from(vec![base + n % 4; 16]),
    })
}

trait TakeBytes {
    fn arbitrary_take(u: &mut Unstructured, max: usize) -> Result<Vec<u8>>;
}

impl TakeBytes for Vec<u8> {
    fn arbitrary_take(u: &mut Unstructured, max: usize) -> Result<Vec<u8>> {
        let len = u.int_in_range(0..=max)?;
        Ok(u.bytes(len)?.to_vec())
    }
}

/// A blob that should be `len` bytes with version 1: mostly so, sometimes not.
fn blob(u: &mut Unstructured, len: usize) -> Result<ByteBuf> {
    Ok(match u.int_in_range(0..=9u8)? {
        9 => ByteBuf::from(Vec::<u8>::arbitrary_take(u, len + 2)?),
        8 => {
            let mut b = versioned(len, 0);
            if let Some(first) = b.first_mut() {
                *first = 2;
            }
            b
        }
        fill => versioned(len, fill),
    })
}

/// A blob in `min..=max`, mostly small.
fn sized_blob(u: &mut Unstructured, min: usize, max: usize) -> Result<ByteBuf> {
    let len = match u.int_in_range(0..=7u8)? {
        0 => min.saturating_sub(1),
        1 => max + 1,
        2 => max,
        _ => min + u.int_in_range(0..=64usize)?,
    };
    let fill: u8 = u.arbitrary()?;
    Ok(versioned(len, fill))
}

fn file_size(u: &mut Unstructured) -> Result<u64> {
    let c = CHUNK_SIZE as u64;
    Ok(match u.int_in_range(0..=9u8)? {
        0 => 0,
        1 => 1,
        2 => c - 1,
        3 => c,
        4 => c + 1,
        5 => 3 * c,
        6 => u.arbitrary()?,
        _ => u.int_in_range(0..=4096u64)?,
    })
}

/// Chunk `index` of a `size`-byte file, at its right length, or (sometimes) not: its byte and
/// its length.
fn chunk(u: &mut Unstructured, size: u64, index: u32) -> Result<(u8, usize)> {
    let count = vault_crypto::chunk_count(size).max(1);
    let right = if (index as u64) + 1 < count {
        ENCRYPTED_CHUNK_SIZE
    } else {
        (size.saturating_sub((count - 1) * CHUNK_SIZE as u64) as usize).min(CHUNK_SIZE) + 16
    };
    let len = match u.int_in_range(0..=9u8)? {
        9 => right + 1,
        8 => right.saturating_sub(1),
        _ => right,
    };
    Ok((u.arbitrary::<u8>()?, len))
}

fn token(u: &mut Unstructured) -> Result<u8> {
    u.int_in_range(0..=2u8)
}

fn token_hash(n: u8) -> ByteBuf {
    ByteBuf::from(LinkToken::from_bytes([0x40 + n; 32]).hash().0.to_vec())
}

fn link_access(u: &mut Unstructured) -> Result<LinkAccess> {
    let n = token(u)?;
    Ok(LinkAccess {
        token: match u.int_in_range(0..=9u8)? {
            9 => ByteBuf::from(Vec::<u8>::arbitrary_take(u, 33)?),
            _ => ByteBuf::from(vec![0x40 + n; 32]),
        },
        password_proof: match u.int_in_range(0..=3u8)? {
            0 => Some(ByteBuf::from(vec![0x55; 32])),
            1 => Some(ByteBuf::from(Vec::<u8>::arbitrary_take(u, 33)?)),
            _ => None,
        },
    })
}

fn target(u: &mut Unstructured) -> Result<Target> {
    Ok(if u.arbitrary()? {
        Target::Album(album_id(u)?)
    } else {
        Target::File(file_id(u)?)
    })
}

fn principal(u: &mut Unstructured) -> Result<Principal> {
    Ok(caller(u.arbitrary()?))
}

fn expiry(u: &mut Unstructured, now: u64) -> Result<Option<u64>> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => Some(now + u.int_in_range(1..=48u64)? * 3600 * SECOND),
        1 => Some(u.arbitrary()?),
        _ => None,
    })
}

fn version(u: &mut Unstructured) -> Result<u32> {
    Ok(match u.int_in_range(0..=7u8)? {
        7 => u.arbitrary()?,
        n => (n % 3) as u32,
    })
}

fn ids(u: &mut Unstructured) -> Result<Vec<FileId>> {
    let n = u.int_in_range(0..=3usize)?;
    (0..n).map(|_| file_id(u)).collect()
}

/// Decodes one call from the fuzzer's bytes.
fn call(u: &mut Unstructured, now: u64) -> Result<Call> {
    use Call::*;
    Ok(match u.int_in_range(0..=42u8)? {
        0 => SetQuota(match u.int_in_range(0..=2u8)? {
            0 => QUOTA,
            1 => u.int_in_range(0..=2 * QUOTA)?,
            _ => u.arbitrary()?,
        }),
        1 => Setup(setup_args()),
        2 => {
            let method = if u.arbitrary()? {
                UnlockMethod::Passphrase
            } else {
                UnlockMethod::Recovery
            };
            match u.int_in_range(0..=4u8)? {
                // A real proof: for this caller at the current counter, or a stale one.
                0 | 1 => AdmitProven {
                    method,
                    counter_offset: u.int_in_range(0..=2u64)?.wrapping_sub(1),
                    send_counter: u.arbitrary()?,
                },
                n => AdmitDevice(AdmitDeviceArgs {
                    method,
                    proof: match n {
                        2 => ByteBuf::from(vec![0; 64]),
                        3 => ByteBuf::from(Vec::<u8>::arbitrary_take(u, 65)?),
                        _ => ByteBuf::from(verifier([7; 32])),
                    },
                    counter: u.arbitrary()?,
                }),
            }
        }
        3 => ChangePassphrase(
            if u.arbitrary()? {
                ByteBuf::from(passphrase_record())
            } else {
                ByteBuf::from(Vec::<u8>::arbitrary_take(u, 100)?)
            },
            if u.arbitrary()? {
                ByteBuf::from(admission_verifier(UnlockMethod::Recovery))
            } else {
                blob(u, 32)?
            },
        ),
        4 => RemoveDevice(principal(u)?),
        5 | 6 => BeginUpload(BeginUploadArgs {
            file_id: file_id(u)?,
            size: file_size(u)?,
            content_header: blob(u, STREAM_HEADER_SIZE)?,
            wrapped_key: blob(u, WRAPPED_KEY_SIZE)?,
            album: if u.arbitrary()? {
                Some(album_id(u)?)
            } else {
                None
            },
            key_version: version(u)?,
            metadata: sized_blob(u, vault_canister::model::MIN_BLOB_SIZE, 8192)?,
            thumbnail: if u.arbitrary()? {
                Some(sized_blob(u, vault_canister::model::MIN_BLOB_SIZE, 4096)?)
            } else {
                None
            },
            dedupe_hash: match u.int_in_range(0..=3u8)? {
                0 => None,
                1 => Some(blob(u, 32)?),
                n => Some(ByteBuf::from(vec![n; 32])),
            },
            sort_key: u.int_in_range(-3..=3i64)?,
        }),
        7..=9 => {
            // The size decides the right length: take it from the fuzzer too (the upload's own
            // size is what matters, and a wrong guess is a refusal to check).
            let size = file_size(u)?;
            let index = match u.int_in_range(0..=5u8)? {
                5 => u.arbitrary()?,
                n => (n % 4) as u32,
            };
            let file_id = file_id(u)?;
            let (fill, len) = chunk(u, size, index)?;
            PutFilledChunk {
                file_id,
                index,
                fill,
                len,
            }
        }
        10 => CommitUpload(file_id(u)?),
        11 => AbortUpload(file_id(u)?),
        12 => MoveFile(MoveFileArgs {
            file_id: file_id(u)?,
            album: if u.arbitrary()? {
                Some(album_id(u)?)
            } else {
                None
            },
            wrapped_key: blob(u, WRAPPED_KEY_SIZE)?,
            key_version: version(u)?,
        }),
        13 => Trash(ids(u)?),
        14 => Restore(ids(u)?),
        15 => Purge(ids(u)?),
        16 => CreateAlbum(CreateAlbumArgs {
            album_id: album_id(u)?,
            name: sized_blob(u, vault_canister::model::MIN_BLOB_SIZE, 1024)?,
            wrapped_key: blob(u, WRAPPED_KEY_SIZE)?,
        }),
        17 => RenameAlbum(
            album_id(u)?,
            sized_blob(u, vault_canister::model::MIN_BLOB_SIZE, 1024)?,
        ),
        18 => DeleteAlbum(album_id(u)?),
        19 => {
            let versions = u.int_in_range(0..=3u32)?;
            Grant(GrantArgs {
                target: target(u)?,
                grantee: principal(u)?,
                grantee_key: blob(u, 32)?,
                permission: if u.arbitrary()? {
                    Permission::View
                } else {
                    Permission::Contribute
                },
                sealed_keys: (0..versions)
                    .map(|v| {
                        Ok(SealedKeyVersion {
                            version: if u.int_in_range(0..=9u8)? == 9 {
                                v + 1
                            } else {
                                v
                            },
                            sealed: blob(u, vault_crypto::SEALED_KEY_SIZE)?,
                        })
                    })
                    .collect::<Result<_>>()?,
                expires_at: expiry(u, now)?,
                authenticator: if u.arbitrary()? {
                    Some(blob(u, vault_crypto::GRANT_AUTHENTICATOR_SIZE)?)
                } else {
                    None
                },
            })
        }
        20 => RevokeGrant(target(u)?, principal(u)?),
        21 => {
            let grants = u.int_in_range(0..=2usize)?;
            let links = u.int_in_range(0..=2usize)?;
            RotateAlbumKey(RotateAlbumKeyArgs {
                album_id: album_id(u)?,
                revoke: if u.arbitrary()? {
                    vec![principal(u)?]
                } else {
                    vec![]
                },
                new_version: version(u)?,
                wrapped_key: blob(u, WRAPPED_KEY_SIZE)?,
                grants: (0..grants)
                    .map(|_| Ok((principal(u)?, blob(u, vault_crypto::SEALED_KEY_SIZE)?)))
                    .collect::<Result<_>>()?,
                links: (0..links)
                    .map(|_| Ok((token_hash(token(u)?), blob(u, WRAPPED_KEY_SIZE)?)))
                    .collect::<Result<_>>()?,
            })
        }
        22 | 23 => CreateLink(CreateLinkArgs {
            token_hash: if u.int_in_range(0..=9u8)? == 9 {
                blob(u, 32)?
            } else {
                token_hash(token(u)?)
            },
            target: target(u)?,
            key_version: version(u)?,
            wrapped_key: blob(u, WRAPPED_KEY_SIZE)?,
            expires_at: expiry(u, now)?,
            password: if u.arbitrary()? {
                Some(LinkPasswordArgs {
                    iterations: match u.int_in_range(0..=2u8)? {
                        0 => vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS,
                        1 => vault_crypto::MIN_LINK_PBKDF2_ITERATIONS,
                        _ => u.arbitrary()?,
                    },
                    verifier: ByteBuf::from(verifier([0x55; 32])),
                })
            } else {
                None
            },
            label: if u.arbitrary()? {
                Some(sized_blob(u, vault_canister::model::MIN_BLOB_SIZE, 1024)?)
            } else {
                None
            },
            earlier_keys: if u.arbitrary()? {
                let n = u.int_in_range(0..=2u32)?;
                Some(
                    (0..n)
                        .map(|v| Ok((v, blob(u, WRAPPED_KEY_SIZE)?)))
                        .collect::<Result<_>>()?,
                )
            } else {
                None
            },
        }),
        24 => RevokeLink(token_hash(token(u)?)),
        25 => LinkOpened(link_access(u)?),
        26 => VaultInfo,
        27 => UnlockParams,
        28 => SharingKey,
        29 => Profile,
        30 => Devices,
        31 => UploadStatus(file_id(u)?),
        32 => ListFiles(ListFilesArgs {
            album: if u.arbitrary()? {
                Some(album_id(u)?)
            } else {
                None
            },
            after: if u.arbitrary()? {
                Some(Cursor {
                    sort_key: u.int_in_range(-3..=3i64)?,
                    file_id: file_id(u)?,
                })
            } else {
                None
            },
            limit: u.arbitrary()?,
            descending: u.arbitrary()?,
            trashed: u.arbitrary()?,
            link: if u.arbitrary()? {
                Some(link_access(u)?)
            } else {
                None
            },
        }),
        33 => GetFile(FileRef {
            file_id: file_id(u)?,
            link: if u.arbitrary()? {
                Some(link_access(u)?)
            } else {
                None
            },
        }),
        34 => GetChunk(GetChunkArgs {
            file_id: file_id(u)?,
            index: match u.int_in_range(0..=4u8)? {
                4 => u.arbitrary()?,
                n => n as u32,
            },
            link: if u.arbitrary()? {
                Some(link_access(u)?)
            } else {
                None
            },
        }),
        35 => GetThumbnail(FileRef {
            file_id: file_id(u)?,
            link: if u.arbitrary()? {
                Some(link_access(u)?)
            } else {
                None
            },
        }),
        36 => GetAlbum(
            album_id(u)?,
            if u.arbitrary()? {
                Some(link_access(u)?)
            } else {
                None
            },
        ),
        37 => match u.int_in_range(0..=4u8)? {
            0 => ListAlbums,
            1 => ListGrants(if u.arbitrary()? {
                Some(target(u)?)
            } else {
                None
            }),
            2 => SharedWithMe,
            3 => ListLinks,
            _ => Activity(u.arbitrary()?, u.arbitrary()?),
        },
        39 => AdmissionTicket,
        40 => ClearUnlockFailures,
        41 => ChangeRecovery(
            versioned(WRAPPED_KEY_SIZE, u.arbitrary()?),
            if u.arbitrary()? {
                ByteBuf::from(admission_verifier(UnlockMethod::Passphrase))
            } else {
                blob(u, 32)?
            },
        ),
        42 => RotateMasterKey(
            RotateMasterKeyArgs {
                // Mostly the next generation (0, 1 or 2 rotations in), sometimes anything.
                generation: if u.arbitrary()? {
                    u.int_in_range(0..=3u32)?
                } else {
                    u.arbitrary()?
                },
                passphrase_record: if u.arbitrary()? {
                    ByteBuf::from(passphrase_record())
                } else {
                    ByteBuf::from(Vec::<u8>::arbitrary_take(u, 100)?)
                },
                passphrase_verifier: ByteBuf::from(admission_verifier(UnlockMethod::Passphrase)),
                recovery_wrapped_key: versioned(WRAPPED_KEY_SIZE, u.arbitrary()?),
                recovery_verifier: if u.arbitrary()? {
                    ByteBuf::from(admission_verifier(UnlockMethod::Recovery))
                } else {
                    blob(u, 32)?
                },
                sharing_secret_wrapped: versioned(WRAPPED_KEY_SIZE, 4),
                previous_master_wrapped: if u.arbitrary()? {
                    versioned(WRAPPED_KEY_SIZE, u.arbitrary()?)
                } else {
                    blob(u, WRAPPED_KEY_SIZE)?
                },
                proof: blob(u, 64)?,
                sharing_public_key: ByteBuf::from(vec![if u.arbitrary()? { 9 } else { 8 }; 32]),
            },
            u.arbitrary()?,
        ),
        _ => OpenLink(link_access(u)?),
    })
}

/// How far the clock moves before a call.
fn time_step(u: &mut Unstructured) -> Result<u64> {
    Ok(match u.int_in_range(0..=15u8)? {
        0 => 3600 * SECOND,
        1 => 25 * 3600 * SECOND,
        2 => 31 * 24 * 3600 * SECOND,
        // Up to about two years: MAX_CALLS of these stay far from where nanoseconds since
        // the epoch overflow a u64 (the year 2554), which the IC's clock never reaches.
        3 => u.int_in_range(0..=1u64 << 26)? * SECOND,
        _ => SECOND,
    })
}

/// The target: a sequence of (caller, time step, call) from `data`, applied to the base
/// vault, invariants checked after each.
pub fn calls(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut v = fresh_state();
    let mut now = T0;
    for _ in 0..MAX_CALLS {
        if u.is_empty() {
            break;
        }
        let Ok((who, step, call)) = (|| {
            let who: u8 = u.arbitrary()?;
            let step = time_step(&mut u)?;
            Ok::<_, arbitrary::Error>((who, step, call(&mut u, now + step)?))
        })() else {
            break;
        };
        now += step;
        apply_checked(&mut v, &caller(who), now, call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever an input wrote, the next fresh state is the base vault again, byte for byte.
    #[test]
    fn a_fresh_state_is_the_base_again() {
        let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut inputs: Vec<Vec<u8>> = ["corpus", "artifacts"]
            .iter()
            .flat_map(|d| {
                std::fs::read_dir(fuzz.join(d).join("model"))
                    .into_iter()
                    .flatten()
            })
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in [256, 1024, 4096] {
            for _ in 0..8 {
                inputs.push(
                    (0..len)
                        .map(|_| {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            x as u8
                        })
                        .collect(),
                );
            }
        }
        let base = BASE.with(Clone::clone);
        let mut grown = false;
        for input in &inputs {
            let v = fresh_state();
            assert!(
                v.memory.to_vec() == base,
                "a fresh state differs from the base"
            );
            drop(v);
            calls(input);
            grown |= SPARE.with_borrow(|m| m.as_ref().unwrap().size()) > base.len() as u64 / 65536;
        }
        assert!(grown, "no input grew the memory: the test tests little");
        assert!(fresh_state().memory.to_vec() == base);
    }
}
