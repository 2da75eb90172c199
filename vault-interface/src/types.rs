//! The canister's Candid interface types: arguments, replies and the error variant.
//!
//! Blobs are `serde_bytes::ByteBuf`: decoded as one copy rather than candid's per-byte loop
//! (~65M instructions per MiB otherwise).

use candid::{CandidType, Principal};
use serde::Deserialize;
use serde_bytes::{ByteBuf, Bytes};

/// 16 client-chosen random bytes naming a file.
pub type FileId = ByteBuf;
/// 16 client-chosen random bytes naming an album.
pub type AlbumId = ByteBuf;

/// Every refusal the canister makes. Nothing is changed when one is returned.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum VaultError {
    /// The caller may not do this (wrong caller, anonymous, a grant that does not cover it).
    NotAuthorized,
    /// No such file, album, upload, grant or link.
    NotFound,
    /// Something with this id already exists.
    AlreadyExists,
    /// The file is already in the vault (same dedupe hash).
    Duplicate { existing: FileId },
    /// The vault's quota would be exceeded.
    QuotaExceeded { needed: u64, available: u64 },
    /// The grant or link has expired.
    Expired,
    /// The link was revoked.
    Revoked,
    /// The link has a password: present its proof (PBKDF2 with this many iterations).
    PasswordRequired { iterations: u32 },
    /// The link password's proof is wrong.
    WrongPassword,
    /// Too many wrong passphrase proofs from this caller: try again after this many
    /// nanoseconds (or have one of the owner's devices clear the count).
    RateLimited { retry_after_ns: u64 },
    /// The vault has not been set up yet (`setup`).
    NotSetUp,
    /// The vault is already set up.
    AlreadySetUp,
    /// The call is valid but the state does not allow it now.
    Conflict { reason: String },
    /// An argument is out of range or malformed.
    InvalidArgument { field: String, reason: String },
}

/// Shorthand for the canister's results.
pub type VaultResult<T> = Result<T, VaultError>;

impl VaultError {
    /// An [`VaultError::InvalidArgument`].
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        VaultError::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A [`VaultError::Conflict`].
    pub fn conflict(reason: impl Into<String>) -> Self {
        VaultError::Conflict {
            reason: reason.into(),
        }
    }
}

/// The install argument.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct InitArgs {
    /// Who owns the vault; absent, whoever installs the code (a controller, as the owner
    /// should be: nobody else can upgrade it). Absent is what `icp deploy` sends (icp.yaml).
    pub owner: Option<Principal>,
    /// Bytes the vault may hold; default [`crate::limits::DEFAULT_QUOTA`].
    pub quota_bytes: Option<u64>,
}

/// What `setup` stores: the wrapped keys (docs/FORMAT.md §5–§7).
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct SetupArgs {
    /// The passphrase record (91 bytes).
    pub passphrase_record: ByteBuf,
    /// The passphrase's admission verifier: an Ed25519 public key (32 bytes), FORMAT §6.1.
    pub passphrase_verifier: ByteBuf,
    /// The master key wrapped by the recovery key (61 bytes).
    pub recovery_wrapped_key: ByteBuf,
    /// The recovery key's admission verifier: an Ed25519 public key (32 bytes), FORMAT §7.
    pub recovery_verifier: ByteBuf,
    /// The X25519 sharing public key (32 bytes).
    pub sharing_public_key: ByteBuf,
    /// The sharing secret key wrapped by the master key (61 bytes).
    pub sharing_secret_wrapped: ByteBuf,
}

/// The owner's key material, for a device that unlocks.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub passphrase_record: ByteBuf,
    pub recovery_wrapped_key: ByteBuf,
    pub sharing_public_key: ByteBuf,
    pub sharing_secret_wrapped: ByteBuf,
    /// The master key's generation, which the passphrase and recovery wrappings bind.
    pub master_generation: u32,
    /// Entry `g`: generation `g`'s master key wrapped by generation `g + 1`'s (61 bytes).
    pub previous_masters: Vec<ByteBuf>,
    /// When the caller is a passkey that unlocks: the master key wrapped under the key of its
    /// PRF output (docs/FORMAT.md §7.1).
    pub passkey_unlock: Option<ByteBuf>,
}

/// A new master key (docs/FORMAT.md §3): everything that wraps the master key, made again for
/// it, with the current one wrapped by it so that what was wrapped before still opens.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RotateMasterKeyArgs {
    /// The new generation: the current one plus one (else `Conflict`: another device rotated).
    pub generation: u32,
    /// Proof that the caller knows the current passphrase: an admission proof (FORMAT §6.1,
    /// method passphrase) over this canister, the caller and the current admission counter.
    /// Holding a device is not enough to take the vault: a stolen device that is still
    /// admitted cannot rotate the owner out.
    pub proof: ByteBuf,
    /// The sharing public key the re-wrapped secret belongs to: must be the stored one (so a
    /// key pair one node served instead is refused, and the owner's secret is never lost).
    pub sharing_public_key: ByteBuf,
    /// The new master key under the passphrase (91 bytes), and its admission verifier.
    pub passphrase_record: ByteBuf,
    pub passphrase_verifier: ByteBuf,
    /// The new master key under a new recovery key (61 bytes), and its admission verifier.
    pub recovery_wrapped_key: ByteBuf,
    pub recovery_verifier: ByteBuf,
    /// The sharing secret key (the same pair) wrapped by the new master key (61 bytes).
    pub sharing_secret_wrapped: ByteBuf,
    /// The current master key wrapped by the new one (61 bytes, kind `master-key/previous`).
    pub previous_master_wrapped: ByteBuf,
}

/// What a rotation of the master key did.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MasterKeyRotated {
    pub generation: u32,
    /// Devices signed out (removed): every one but the caller. They unlock again with the
    /// passphrase; the install owner, if it is not the caller, too.
    pub devices_signed_out: u64,
}

/// Which secret a new device proves it knows.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlockMethod {
    Passphrase,
    Recovery,
}

/// A device's claim to be the owner's.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct AdmitDeviceArgs {
    pub method: UnlockMethod,
    /// The admission proof: for a version-2 verifier the 64-byte signature of the challenge
    /// (docs/FORMAT.md §6.1); for an old vault's version-1 verifier, the 32-byte unlock proof.
    pub proof: ByteBuf,
    /// The counter the proof signs, from `admission_ticket`: a stale one is a `Conflict`
    /// (ask again), not a wrong proof.
    pub counter: Option<u64>,
}

/// What a device needs before it proves anything, read with an update call so that its answer
/// is certified: whether it is admitted already, the challenge counter, and which kind of
/// verifier the canister holds.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AdmissionTicket {
    /// The caller already acts as the owner: no proof needed (and none should be sent).
    pub admitted: bool,
    /// The admission counter a proof must sign (FORMAT §6.1); it moves on after each admission.
    pub counter: u64,
    /// The public unlock params (30 bytes), certified.
    pub unlock_params: ByteBuf,
    /// The passphrase verifier's version: 1 (SHA-256, old vaults) or 2 (Ed25519).
    pub passphrase_version: u8,
    /// The recovery verifier's version: 1 or 2.
    pub recovery_version: u8,
    /// This caller's passphrase attempts are refused for this long (wrong proofs before).
    pub retry_after_ns: Option<u64>,
    /// The master key's generation: which wrapping of it the passphrase and recovery key open
    /// (FORMAT §3). Certified here, so a stale profile served by one node does not open.
    pub master_generation: u32,
}

/// A device that acts as the owner.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub principal: Principal,
    pub added_at: u64,
    /// A passkey (WebAuthn credential) admitted as a device: `add_passkey`. Absent for a
    /// device admitted with the passphrase or recovery key.
    pub passkey: Option<PasskeyDevice>,
}

/// What is known of a passkey that is one of the owner's devices.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PasskeyDevice {
    /// The WebAuthn credential id.
    pub credential_id: ByteBuf,
    /// Whether it also unlocks the vault (the master key wrapped under its PRF output).
    pub unlocks: bool,
}

/// A passkey to admit as one of the owner's devices (docs/PROTOCOL.md §4.11).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AddPasskeyArgs {
    /// The WebAuthn credential id (1 to 1,023 bytes): how a browser names the passkey.
    pub credential_id: ByteBuf,
    /// Its public key as the IC takes it: the COSE key in a DER `SubjectPublicKeyInfo` of
    /// algorithm 1.3.6.1.4.1.56387.1.1. The device's principal is the self-authenticating
    /// principal of these bytes.
    pub public_key: ByteBuf,
    /// The master key of the current generation wrapped under the key of the passkey's PRF
    /// output (docs/FORMAT.md §7.1, 61 bytes), when it is to unlock the vault too.
    pub unlock: Option<ByteBuf>,
}

/// Start (or resume) an upload.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BeginUploadArgs {
    pub file_id: FileId,
    /// Plaintext size of the content.
    pub size: u64,
    /// The content stream header (17 bytes).
    pub content_header: ByteBuf,
    /// The file key, wrapped by the album key (or the master key outside albums), 61 bytes.
    pub wrapped_key: ByteBuf,
    /// The album, or none.
    pub album: Option<AlbumId>,
    /// Which version of the album's key wraps the file key (must be the current one).
    pub key_version: u32,
    /// The sealed metadata record (a blob, ≤ [`crate::limits::MAX_METADATA_SIZE`]).
    pub metadata: ByteBuf,
    /// The sealed thumbnail (a blob of one chunk), if any.
    pub thumbnail: Option<ByteBuf>,
    /// The keyed dedupe hash (32 bytes), if the uploader wants duplicates refused.
    pub dedupe_hash: Option<ByteBuf>,
    /// Client-chosen order of the timeline, typically taken-at in ms (see PROTOCOL.md).
    pub sort_key: i64,
}

/// Where an upload stands.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadStatus {
    pub file_id: FileId,
    pub chunk_count: u32,
    /// The chunks still to send (at most [`crate::limits::MAX_MISSING_LISTED`] listed).
    pub missing: Vec<u32>,
    pub missing_count: u32,
    /// When the upload expires if nothing more arrives (ns since the epoch).
    pub expires_at: u64,
}

/// Which pending uploads to list.
#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct ListUploadsArgs {
    /// Continue after this file id (from the previous page's `next`).
    pub after: Option<FileId>,
    /// At most this many (capped at [`crate::limits::MAX_UPLOADS_PAGE`]); default 100.
    pub limit: Option<u32>,
}

/// An upload in progress, as the owner sees it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PendingUpload {
    pub file_id: FileId,
    /// Who sends it: the owner, a device, or a contributor.
    pub uploader: Principal,
    pub album: Option<AlbumId>,
    /// Plaintext size of the content.
    pub size: u64,
    /// Bytes it holds against the quota until it is committed, aborted or expires.
    pub reserved_bytes: u64,
    pub chunk_count: u32,
    pub missing_count: u32,
    /// When it began (ns since the epoch).
    pub started_at: u64,
    /// When it expires if nothing more arrives (ns since the epoch).
    pub expires_at: u64,
}

/// One page of pending uploads, by file id.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadPage {
    pub uploads: Vec<PendingUpload>,
    /// Pass back as `after` for the next page; none at the end.
    pub next: Option<FileId>,
}

/// One chunk of an upload.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct PutChunkArgs {
    pub file_id: FileId,
    pub index: u32,
    pub data: ByteBuf,
}

impl PutChunkArgs {
    /// These arguments as the model takes them.
    pub fn borrowed(&self) -> PutChunkArgsRef<'_> {
        PutChunkArgsRef {
            file_id: Bytes::new(&self.file_id),
            index: self.index,
            data: Bytes::new(&self.data),
        }
    }
}

/// [`PutChunkArgs`] borrowing its blobs: the same Candid record, decoded in place from the
/// call's argument so that a chunk goes to stable memory without being copied first (a copy
/// costs about an instruction a byte).
#[derive(CandidType, Deserialize, Clone, Copy, Debug)]
pub struct PutChunkArgsRef<'a> {
    #[serde(borrow)]
    pub file_id: &'a Bytes,
    pub index: u32,
    #[serde(borrow)]
    pub data: &'a Bytes,
}

/// A file as the canister knows it: sizes, keys and sealed metadata, no plaintext.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub id: FileId,
    pub size: u64,
    pub chunk_count: u32,
    pub content_header: ByteBuf,
    pub wrapped_key: ByteBuf,
    pub album: Option<AlbumId>,
    pub key_version: u32,
    pub metadata: ByteBuf,
    pub thumbnail_size: u32,
    pub sort_key: i64,
    pub created_at: u64,
    pub uploader: Principal,
    pub trashed_at: Option<u64>,
}

/// What a link holder presents with each read.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LinkAccess {
    /// The access token (32 bytes), docs/FORMAT.md §9.2.
    pub token: ByteBuf,
    /// The password proof (32 bytes), for a link with a password.
    pub password_proof: Option<ByteBuf>,
}

/// Where a listing page starts: after this (sort key, file id).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub sort_key: i64,
    pub file_id: FileId,
}

/// Which files to list.
#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct ListFilesArgs {
    /// One album's files; none for the whole timeline (owner only).
    pub album: Option<AlbumId>,
    /// Continue after this entry (from the previous page's `next`).
    pub after: Option<Cursor>,
    /// At most this many (capped at [`crate::limits::MAX_PAGE`]).
    pub limit: Option<u32>,
    /// Newest first (descending sort key); default true.
    pub descending: Option<bool>,
    /// The trash instead of live files (owner only).
    pub trashed: Option<bool>,
    /// For a link holder.
    pub link: Option<LinkAccess>,
}

/// One page of files.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FilePage {
    pub files: Vec<FileInfo>,
    /// Pass back as `after` for the next page; none at the end.
    pub next: Option<Cursor>,
}

/// Which chunk to read.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct GetChunkArgs {
    pub file_id: FileId,
    pub index: u32,
    pub link: Option<LinkAccess>,
}

/// Read one file's thumbnail or record.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct FileRef {
    pub file_id: FileId,
    pub link: Option<LinkAccess>,
}

/// Move a file into an album, out of one, or between two.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct MoveFileArgs {
    pub file_id: FileId,
    /// The destination album; none for no album.
    pub album: Option<AlbumId>,
    /// The file key re-wrapped under the destination album's current key (or the master key).
    pub wrapped_key: ByteBuf,
    /// The destination album key's current version (0 outside albums).
    pub key_version: u32,
}

/// Something shared with the caller, as the grantee sees it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SharedItem {
    pub grant: GrantInfo,
    /// For an album: its sealed name and current key version.
    pub album_name: Option<ByteBuf>,
    pub album_key_version: Option<u32>,
}

/// A notice in the vault's inbox (`notify_shared`): `sender` says that the vault `vault`
/// shares something with this vault's owner. A hint only: what `vault` shares, and whether it
/// shares anything, is read from `vault` itself (its `shared_with_me`).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ShareNotice {
    pub vault: Principal,
    pub sender: Principal,
    pub noted_at: u64,
}

/// A vault whose shares with the owner the owner has chosen to see (`answer_share`).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FollowedVault {
    pub vault: Principal,
    pub since: u64,
}

/// The owner's inbox: notices not answered yet (newest first) and the vaults followed.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Inbox {
    pub notices: Vec<ShareNotice>,
    pub followed: Vec<FollowedVault>,
}

/// The owner's answer to the notices about `vault`: follow it (what it shares shows in
/// "Shared with me") or not (its notices are dropped; a vault followed is no longer).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AnswerShareArgs {
    pub vault: Principal,
    pub follow: bool,
}

/// Create an album.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreateAlbumArgs {
    pub album_id: AlbumId,
    /// The album's name, sealed under its key (a blob, ≤ [`crate::limits::MAX_ALBUM_NAME_SIZE`]).
    pub name: ByteBuf,
    /// The album key (version 0) wrapped by the master key, 61 bytes.
    pub wrapped_key: ByteBuf,
}

/// An album and every version of its key, wrapped by the master key.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AlbumInfo {
    pub id: AlbumId,
    pub name: ByteBuf,
    pub key_version: u32,
    /// (version, wrapped key), oldest first.
    pub wrapped_keys: Vec<(u32, ByteBuf)>,
    pub file_count: u64,
    pub created_at: u64,
}

/// What is shared: an album or one file.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Album(AlbumId),
    File(FileId),
}

/// What a grantee may do.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Read.
    View,
    /// Read, and add files to the album.
    Contribute,
}

/// A key sealed to a grantee, for one version of the target's key.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SealedKeyVersion {
    pub version: u32,
    /// HPKE-sealed key, 81 bytes (docs/FORMAT.md §8.1).
    pub sealed: ByteBuf,
}

/// Share a target with a person.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct GrantArgs {
    pub target: Target,
    pub grantee: Principal,
    /// The grantee's X25519 sharing public key (32 bytes, from their share code: docs/FORMAT.md
    /// §8.2). Stored with the grant, so that any of the owner's devices can seal a rotated album
    /// key to them. A re-grant replaces it.
    pub grantee_key: ByteBuf,
    pub permission: Permission,
    /// For an album: one sealed key per key version, all of them. For a file: version 0.
    pub sealed_keys: Vec<SealedKeyVersion>,
    /// When the grant lapses (ns since the epoch); none for never.
    pub expires_at: Option<u64>,
    /// The owner's MAC over the grant's terms (33 bytes, docs/FORMAT.md §8.4), kept with the
    /// grant so that the owner's devices can check what `list_grants` returns. Absent from
    /// clients that predate it; a re-grant replaces it (absent: removes it).
    pub authenticator: Option<ByteBuf>,
}

/// A grant, as its owner or its grantee sees it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GrantInfo {
    pub target: Target,
    pub grantee: Principal,
    /// The grantee's sharing public key as the owner gave it; none for a grant made before
    /// grants kept one (the owner must get the grantee's share code again to rotate).
    pub grantee_key: Option<ByteBuf>,
    pub permission: Permission,
    pub sealed_keys: Vec<SealedKeyVersion>,
    pub expires_at: Option<u64>,
    pub created_at: u64,
    /// The owner's MAC over the grant's terms (docs/FORMAT.md §8.4); none for a grant made
    /// without one (`authenticate_grant` adds it).
    pub authenticator: Option<ByteBuf>,
}

/// Attach the owner's authenticator to a grant made without one. The canister stores it only
/// if the grant's stored terms are exactly these, so the reply — certified, being an update's —
/// confirms what the owner read with an uncertified `list_grants`.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct AuthenticateGrantArgs {
    pub target: Target,
    pub grantee: Principal,
    /// The grantee's sharing public key as the owner read it (32 bytes).
    pub grantee_key: ByteBuf,
    pub permission: Permission,
    pub expires_at: Option<u64>,
    /// The owner's MAC over exactly these terms (33 bytes, docs/FORMAT.md §8.4).
    pub authenticator: ByteBuf,
}

/// A new version of an album key, re-sealed for every remaining grantee and re-wrapped for
/// every live link: all in one message.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct RotateAlbumKeyArgs {
    pub album_id: AlbumId,
    /// Grantees to revoke in the same message (so no file is ever added under a key they hold).
    pub revoke: Vec<Principal>,
    /// Must be the current version + 1.
    pub new_version: u32,
    /// The new key wrapped by the master key.
    pub wrapped_key: ByteBuf,
    /// (grantee, the new key sealed to them): every grantee of the album that remains and has
    /// not expired. Expired grants are dropped in the rotation; a key given for one is ignored.
    pub grants: Vec<(Principal, ByteBuf)>,
    /// (token hash, the new key wrapped by the link key): every live link to the album.
    pub links: Vec<(ByteBuf, ByteBuf)>,
}

/// Make a sharing link.
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreateLinkArgs {
    /// SHA-256 of the link's token (32 bytes).
    pub token_hash: ByteBuf,
    pub target: Target,
    /// Which version of the target's key `wrapped_key` holds (0 for a file).
    pub key_version: u32,
    /// The target's key wrapped by the link key, 61 bytes.
    pub wrapped_key: ByteBuf,
    pub expires_at: Option<u64>,
    pub password: Option<LinkPasswordArgs>,
    /// A name the owner gives the link, sealed under the master key (≤ 1 KiB), if any.
    pub label: Option<ByteBuf>,
    /// For an album whose key was rotated: earlier versions of its key wrapped by the link key,
    /// as (version, wrapped key), ascending, so that the link opens the files added before the
    /// rotations. None or empty for a file, or an album still at version 0.
    pub earlier_keys: Option<Vec<(u32, ByteBuf)>>,
}

/// A link's password: PBKDF2 iterations and the proof's verifier.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LinkPasswordArgs {
    pub iterations: u32,
    /// SHA-256 of the password proof (32 bytes).
    pub verifier: ByteBuf,
}

/// A link as its owner sees it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub token_hash: ByteBuf,
    pub target: Target,
    pub key_version: u32,
    pub expires_at: Option<u64>,
    pub has_password: bool,
    pub revoked_at: Option<u64>,
    pub created_at: u64,
    pub opened: u64,
    pub label: Option<ByteBuf>,
}

/// What a link holder learns on opening the link: enough to decrypt its target.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LinkOpen {
    pub target: Target,
    pub key_version: u32,
    /// The target's key wrapped by the link key.
    pub wrapped_key: ByteBuf,
    pub expires_at: Option<u64>,
    /// For an album link: its sealed name (to decrypt with the album key).
    pub album_name: Option<ByteBuf>,
    /// Earlier versions of the album's key wrapped by the link key, (version, wrapped key),
    /// ascending: a file is wrapped by the album key of its own `key_version`.
    pub earlier_keys: Vec<(u32, ByteBuf)>,
}

/// What happened in the vault: one entry of the activity log.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Activity {
    VaultCreated,
    SetUp,
    DeviceAdmitted {
        device: Principal,
        method: UnlockMethod,
    },
    DeviceRemoved {
        device: Principal,
    },
    /// A passkey was admitted as a device by one of the owner's devices (`unlocks`: it opens
    /// the vault without the passphrase too).
    PasskeyAdded {
        device: Principal,
        unlocks: bool,
    },
    DeviceRefused {
        method: UnlockMethod,
    },
    PassphraseChanged,
    /// The recovery key's wrapping and verifier were replaced (a new recovery key, or an old
    /// vault's verifier brought to version 2).
    RecoveryKeyChanged,
    /// An owner's device cleared every caller's count of wrong passphrase proofs.
    UnlockFailuresCleared,
    /// The master key was replaced by generation `generation`; every other device was signed out.
    MasterKeyRotated {
        generation: u32,
        devices_signed_out: u64,
    },
    QuotaSet {
        bytes: u64,
    },
    FileUploaded {
        file_id: FileId,
        album: Option<AlbumId>,
        size: u64,
    },
    UploadAborted {
        file_id: FileId,
    },
    UploadExpired {
        file_id: FileId,
    },
    FileMoved {
        file_id: FileId,
        album: Option<AlbumId>,
    },
    FileTrashed {
        file_id: FileId,
    },
    FileRestored {
        file_id: FileId,
    },
    FilePurged {
        file_id: FileId,
    },
    AlbumCreated {
        album_id: AlbumId,
    },
    AlbumRenamed {
        album_id: AlbumId,
    },
    AlbumDeleted {
        album_id: AlbumId,
    },
    AlbumKeyRotated {
        album_id: AlbumId,
        version: u32,
    },
    Granted {
        target: Target,
        grantee: Principal,
        permission: Permission,
        expires_at: Option<u64>,
    },
    GrantRevoked {
        target: Target,
        grantee: Principal,
    },
    LinkCreated {
        token_hash: ByteBuf,
        target: Target,
        expires_at: Option<u64>,
    },
    LinkRevoked {
        token_hash: ByteBuf,
    },
}

/// An activity-log entry.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ActivityEntry {
    pub seq: u64,
    pub time: u64,
    pub caller: Principal,
    pub activity: Activity,
}

/// A page of the activity log, newest first.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    /// Pass back as `before` for older entries; none at the beginning.
    pub next: Option<u64>,
}

/// Usage and limits.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct VaultInfo {
    pub version: String,
    pub owner: Principal,
    pub set_up: bool,
    /// Bytes of committed files, as stored: chunks and thumbnails in whole 4 KiB blocks, and
    /// each file's records, index entries and log entries (`model/room.rs`).
    pub used_bytes: u64,
    /// Bytes reserved by uploads in progress (counted the same way).
    pub reserved_bytes: u64,
    pub quota_bytes: u64,
    pub files: u64,
    pub trashed_files: u64,
    pub chunks: u64,
    pub albums: u64,
    pub uploads_in_progress: u64,
    /// Stable memory in use, bytes.
    pub stable_memory_bytes: u64,
    /// The canister's cycles as it sees them (`ic0.canister_cycle_balance`; absent from a
    /// vault before it said them). Its controllers read them, with its burn, certified from
    /// `canister_status`; this is for its owner's other devices (a browser), which cannot.
    pub cycles: Option<u128>,
    pub created_at: u64,
}
