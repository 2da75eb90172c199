//! Vault's per-user storage canister: ciphertext, sizes and access rules — never a key or a
//! plaintext byte. The interface, who may call what, and the flows: docs/PROTOCOL.md.
//!
//! This file is glue only: each endpoint hands caller, time and arguments to the plain-Rust
//! model (`model/`), which is where everything is decided and tested.
// Two `unsafe` blocks, allowed where they are: reading put_chunk's argument (`put_chunk_arg`),
// and forwarding `Memory::read_unsafe` to the memory a structure is in (`memory`).
#![deny(unsafe_code)]

mod chunk_reply;
pub mod http;
pub mod memory;
pub mod model;
mod put_chunk_arg;

/// put_chunk's argument decoder, for the fuzz harness (`fuzz/harness`): not an interface.
#[doc(hidden)]
pub use put_chunk_arg::decode as decode_put_chunk_arg;
#[doc(hidden)]
pub use put_chunk_arg::decode_as_update;

use std::cell::RefCell;

use candid::Principal;
use ic_cdk::api::{msg_caller, time};
use ic_cdk::{init, inspect_message, post_upgrade, query, update};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};
use ic_stable_structures::DefaultMemoryImpl;
use serde_bytes::ByteBuf;

use model::State;
use model::types::*;

thread_local! {
    static STATE: RefCell<State<DefaultMemoryImpl>> = RefCell::new(State::init(DefaultMemoryImpl::default()));
}

fn read<R>(f: impl FnOnce(&State<DefaultMemoryImpl>, &Principal, u64) -> R) -> R {
    STATE.with(|s| f(&s.borrow(), &msg_caller(), time()))
}

fn mutate<R>(f: impl FnOnce(&mut State<DefaultMemoryImpl>, &Principal, u64) -> R) -> R {
    STATE.with(|s| {
        let mut state = s.borrow_mut();
        let now = time();
        state.housekeeping(now);
        f(&mut state, &msg_caller(), now)
    })
}

#[init]
fn init(args: InitArgs) {
    // A bad install argument must fail the install itself: trapping here installs nothing.
    // No owner named: the controller installing the code owns the vault.
    let owner = args.owner.unwrap_or_else(msg_caller);
    if let Err(e) = STATE.with(|s| s.borrow_mut().install(owner, args.quota_bytes, time())) {
        ic_cdk::trap(format!("invalid install argument: {e:?}"));
    }
    ic_cdk::api::certified_data_set(http::assets::root_hash(&ic_cdk::api::canister_self()));
}

/// Refuses, before they are paid for, the ingress messages that can only be refused: by
/// caller, method and argument size (`State::accepts_ingress`). Not access control: every
/// method still checks.
#[inspect_message]
fn inspect_message() {
    let method = ic_cdk::api::msg_method_name();
    let arg_bytes = ic0::msg_arg_data_size();
    if read(|s, caller, now| s.accepts_ingress(caller, &method, arg_bytes, now)) {
        ic_cdk::api::accept_message();
    }
}

/// All state is in stable structures: nothing to restore, whatever the vault's size. The state
/// is opened here, in the layout the memory holds (`memory.rs`; a vault installed before
/// layout 2 keeps layout 1, in O(1)), so that a memory the new code cannot open fails the
/// upgrade, which then leaves the old code running. The new wasm's viewer is certified in its
/// place.
#[post_upgrade]
fn post_upgrade() {
    STATE.with(|s| s.borrow().layout());
    ic_cdk::api::certified_data_set(http::assets::root_hash(&ic_cdk::api::canister_self()));
}

/// The link viewer and the link holder's API, for browsers (see `http`).
#[query(hidden = true)]
fn http_request(request: HttpRequest) -> HttpResponse<'static> {
    let certificate = ic_cdk::api::data_certificate();
    let canister = ic_cdk::api::canister_self();
    read(|s, _, now| http::request(s, now, &canister, &request, certificate.as_deref()))
}

/// The API's one request that changes state: counting a link's opening.
#[update(hidden = true)]
fn http_request_update(request: HttpUpdateRequest) -> HttpUpdateResponse<'static> {
    mutate(|s, _, now| http::update(s, now, &request))
}

// The two methods above as `vault.did` declares them (`http::interface`: the same encoding).
#[candid::candid_method(query, rename = "http_request")]
fn _http_request_interface(
    _request: http::interface::HttpRequest,
) -> http::interface::HttpResponse {
    unreachable!("declares http_request's interface only")
}

#[candid::candid_method(update, rename = "http_request_update")]
fn _http_request_update_interface(
    _request: http::interface::HttpUpdateRequest,
) -> http::interface::HttpUpdateResponse {
    unreachable!("declares http_request_update's interface only")
}

#[query]
fn vault_info() -> VaultResult<VaultInfo> {
    read(|s, caller, _| s.vault_info(caller)).map(|info| VaultInfo {
        cycles: Some(ic_cdk::api::canister_cycle_balance()),
        ..info
    })
}

#[update]
fn set_quota(bytes: u64) -> VaultResult<()> {
    mutate(|s, caller, now| s.set_quota(caller, now, bytes))
}

#[update]
fn setup(args: SetupArgs) -> VaultResult<()> {
    mutate(|s, caller, now| s.setup(caller, now, args))
}

#[query]
fn unlock_params() -> VaultResult<ByteBuf> {
    read(|s, _, _| s.unlock_params())
}

#[query]
fn sharing_key() -> VaultResult<ByteBuf> {
    read(|s, _, _| s.sharing_key())
}

/// An update although it changes nothing: its answer is certified, so one node cannot tell a
/// device it is not admitted (to draw a proof out of it) or lie about the unlock params.
#[update]
fn admission_ticket() -> VaultResult<AdmissionTicket> {
    mutate(|s, caller, now| s.admission_ticket(caller, now))
}

#[update]
fn admit_device(args: AdmitDeviceArgs) -> VaultResult<()> {
    let canister = ic_cdk::api::canister_self();
    mutate(|s, caller, now| s.admit_device(caller, &canister, now, args))
}

#[update]
fn clear_unlock_failures() -> VaultResult<u64> {
    mutate(|s, caller, now| s.clear_unlock_failures(caller, now))
}

#[query]
fn profile() -> VaultResult<Profile> {
    read(|s, caller, _| s.profile(caller))
}

#[update]
fn change_passphrase(record: ByteBuf, verifier: ByteBuf) -> VaultResult<()> {
    mutate(|s, caller, now| s.change_passphrase(caller, now, record, verifier))
}

#[update]
fn change_recovery(wrapped_key: ByteBuf, verifier: ByteBuf) -> VaultResult<()> {
    mutate(|s, caller, now| s.change_recovery(caller, now, wrapped_key, verifier))
}

#[update]
fn rotate_master_key(args: RotateMasterKeyArgs) -> VaultResult<MasterKeyRotated> {
    let canister = ic_cdk::api::canister_self();
    mutate(|s, caller, now| s.rotate_master_key(caller, &canister, now, args))
}

#[query]
fn devices() -> VaultResult<Vec<Device>> {
    read(|s, caller, _| s.devices(caller))
}

#[update]
fn remove_device(device: Principal) -> VaultResult<()> {
    mutate(|s, caller, now| s.remove_device(caller, now, device))
}

#[update]
fn add_passkey(args: AddPasskeyArgs) -> VaultResult<()> {
    mutate(|s, caller, now| s.add_passkey(caller, now, args))
}

#[query]
fn passkey_key(credential_id: ByteBuf) -> VaultResult<Option<ByteBuf>> {
    read(|s, _, _| Ok(s.passkey_key(&credential_id)))
}

#[update]
fn begin_upload(args: BeginUploadArgs) -> VaultResult<UploadStatus> {
    mutate(|s, caller, now| s.begin_upload(caller, now, args))
}

/// Reads and decodes its argument itself, borrowing the chunk, which then goes from the
/// argument's buffer to stable memory without a copy (see `put_chunk_arg`); otherwise what
/// `#[update]` would do.
#[update(name = "put_chunk", hidden = true, manual_reply = true)]
fn put_chunk() {
    let bytes = put_chunk_arg::bytes();
    let mut owned = None;
    let args = put_chunk_arg::decode(&bytes, &mut owned)
        .unwrap_or_else(|e| ic_cdk::trap(format!("failed to decode put_chunk's argument: {e}")));
    let result = mutate(|s, caller, now| s.put_chunk(caller, now, args));
    ic_cdk::api::msg_reply(candid::encode_one(result).expect("a VaultResult encodes"));
}

// put_chunk's Candid interface, for `export_candid!`: what the entry point above decodes and
// replies. (A doc comment here would be copied into vault.did.)
#[candid::candid_method(update, rename = "put_chunk")]
fn _put_chunk_interface(_args: PutChunkArgs) -> VaultResult<()> {
    unreachable!("declares put_chunk's interface only")
}

#[query]
fn upload_status(file_id: FileId) -> VaultResult<UploadStatus> {
    read(|s, caller, now| s.upload_status(caller, now, &file_id))
}

#[query]
fn list_uploads(args: ListUploadsArgs) -> VaultResult<UploadPage> {
    read(|s, caller, _| s.list_uploads(caller, args))
}

#[update]
fn commit_upload(file_id: FileId) -> VaultResult<FileInfo> {
    mutate(|s, caller, now| s.commit_upload(caller, now, &file_id))
}

#[update]
fn abort_upload(file_id: FileId) -> VaultResult<()> {
    mutate(|s, caller, now| s.abort_upload(caller, now, &file_id))
}

#[query]
fn list_files(args: ListFilesArgs) -> VaultResult<FilePage> {
    read(|s, caller, now| s.list_files(caller, now, args))
}

#[query]
fn get_file(args: FileRef) -> VaultResult<FileInfo> {
    read(|s, caller, now| s.get_file(caller, now, args))
}

/// Replies with the chunk after candid's header rather than inside a copy of it (see
/// `chunk_reply`); otherwise what `#[query]` would do.
#[query(name = "get_chunk", hidden = true, manual_reply = true)]
fn get_chunk(args: GetChunkArgs) {
    chunk_reply::reply(&read(|s, caller, now| s.get_chunk(caller, now, args)));
}

// get_chunk's Candid interface, for `export_candid!`: what the entry point above replies.
#[candid::candid_method(query, rename = "get_chunk")]
fn _get_chunk_interface(_args: GetChunkArgs) -> VaultResult<ByteBuf> {
    unreachable!("declares get_chunk's interface only")
}

#[query]
fn get_thumbnail(args: FileRef) -> VaultResult<ByteBuf> {
    read(|s, caller, now| s.get_thumbnail(caller, now, args))
}

#[update]
fn move_file(args: MoveFileArgs) -> VaultResult<FileInfo> {
    mutate(|s, caller, now| s.move_file(caller, now, args))
}

#[update]
fn trash(file_ids: Vec<FileId>) -> VaultResult<()> {
    mutate(|s, caller, now| s.trash(caller, now, file_ids))
}

#[update]
fn restore(file_ids: Vec<FileId>) -> VaultResult<()> {
    mutate(|s, caller, now| s.restore(caller, now, file_ids))
}

#[update]
fn purge(file_ids: Vec<FileId>) -> VaultResult<()> {
    mutate(|s, caller, now| s.purge(caller, now, file_ids))
}

#[update]
fn create_album(args: CreateAlbumArgs) -> VaultResult<AlbumInfo> {
    mutate(|s, caller, now| s.create_album(caller, now, args))
}

#[update]
fn rename_album(album_id: AlbumId, name: ByteBuf) -> VaultResult<()> {
    mutate(|s, caller, now| s.rename_album(caller, now, album_id, name))
}

#[update]
fn delete_album(album_id: AlbumId) -> VaultResult<()> {
    mutate(|s, caller, now| s.delete_album(caller, now, album_id))
}

#[query]
fn list_albums() -> VaultResult<Vec<AlbumInfo>> {
    read(|s, caller, _| s.list_albums(caller))
}

#[query]
fn get_album(album_id: AlbumId, link: Option<LinkAccess>) -> VaultResult<AlbumInfo> {
    read(|s, caller, now| s.get_album(caller, now, &album_id, link.as_ref()))
}

#[update]
fn grant(args: GrantArgs) -> VaultResult<GrantInfo> {
    mutate(|s, caller, now| s.grant(caller, now, args))
}

#[update]
fn authenticate_grant(args: AuthenticateGrantArgs) -> VaultResult<GrantInfo> {
    mutate(|s, caller, _| s.authenticate_grant(caller, args))
}

#[update]
fn revoke_grant(target: Target, grantee: Principal) -> VaultResult<()> {
    mutate(|s, caller, now| s.revoke_grant(caller, now, target, grantee))
}

#[query]
fn list_grants(target: Option<Target>) -> VaultResult<Vec<GrantInfo>> {
    read(|s, caller, _| s.list_grants(caller, target))
}

#[query]
fn shared_with_me() -> VaultResult<Vec<SharedItem>> {
    read(|s, caller, now| s.shared_with_me(caller, now))
}

/// A hint for the owner: the caller's vault `vault` shares something with them.
#[update]
fn notify_shared(vault: Principal) -> VaultResult<()> {
    let this = ic_cdk::api::canister_self();
    mutate(|s, caller, now| s.notify_shared(caller, now, &this, vault))
}

#[query]
fn inbox() -> VaultResult<Inbox> {
    read(|s, caller, _| s.inbox(caller))
}

#[update]
fn answer_share(args: AnswerShareArgs) -> VaultResult<()> {
    let this = ic_cdk::api::canister_self();
    mutate(|s, caller, now| s.answer_share(caller, now, &this, args))
}

#[update]
fn rotate_album_key(args: RotateAlbumKeyArgs) -> VaultResult<u32> {
    mutate(|s, caller, now| s.rotate_album_key(caller, now, args))
}

#[update]
fn create_link(args: CreateLinkArgs) -> VaultResult<LinkInfo> {
    mutate(|s, caller, now| s.create_link(caller, now, args))
}

#[update]
fn revoke_link(token_hash: ByteBuf) -> VaultResult<()> {
    mutate(|s, caller, now| s.revoke_link(caller, now, token_hash))
}

#[query]
fn list_links() -> VaultResult<Vec<LinkInfo>> {
    read(|s, caller, _| s.list_links(caller))
}

#[query]
fn open_link(access: LinkAccess) -> VaultResult<LinkOpen> {
    read(|s, _, now| s.open_link(now, &access))
}

#[update]
fn link_opened(access: LinkAccess) -> VaultResult<u64> {
    mutate(|s, _, now| s.link_opened(now, &access))
}

#[query]
fn activity(before: Option<u64>, limit: Option<u32>) -> VaultResult<ActivityPage> {
    read(|s, caller, _| s.activity(caller, before, limit))
}

ic_cdk::export_candid!();

#[cfg(test)]
mod tests {
    /// vault.did is what the code exports. After an intended interface change, regenerate it:
    /// `VAULT_WRITE_DID=1 cargo test -p vault-canister did_file`.
    #[test]
    fn did_file_matches_the_code() {
        let exported = super::__export_service();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vault-interface/vault.did");
        if std::env::var_os("VAULT_WRITE_DID").is_some() {
            std::fs::write(path, &exported).expect("write vault.did");
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == exported,
            "vault.did differs from the code's interface: regenerate it (see this test's doc)"
        );
    }
}
