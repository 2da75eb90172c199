//! The real vault canister in the local replica, driven through the replica's library: the
//! clock tests start at, installing a vault, and files of recognisable chunks (the replica's
//! own tests and the vault's end-to-end tests in `tests/`).

use std::path::PathBuf;

use candid::{CandidType, Decode, Encode, Principal};
use local_replica::{InstallMode, Replica};
use serde_bytes::ByteBuf;
use vault_interface::types::*;

use crate::repo;

pub const T0: u64 = 1_700_000_000_000_000_000;

/// The vault canister as `scripts/build-canister` builds it.
pub fn vault_wasm() -> Vec<u8> {
    let path = vault_wasm_path();
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build it first: scripts/build-canister",
            path.display()
        )
    })
}

/// `target/canister/vault.wasm.gz`.
pub fn vault_wasm_path() -> PathBuf {
    repo().join("target/canister/vault.wasm.gz")
}

/// A new vault owned (and controlled) by `owner`.
pub fn install_vault(r: &mut Replica, wasm: &[u8], owner: Principal) -> Principal {
    let id = r.create_canister(vec![owner]).unwrap();
    r.install_code(owner, id, InstallMode::Install, wasm, &init_arg(owner))
        .unwrap();
    id
}

pub fn init_arg(owner: Principal) -> Vec<u8> {
    Encode!(&InitArgs {
        owner: Some(owner),
        quota_bytes: None
    })
    .unwrap()
}

/// `len` bytes of `fill`, the first one 1 (a non-empty, recognisable blob).
pub fn blob(len: usize, fill: u8) -> ByteBuf {
    let mut b = vec![fill; len];
    b[0] = 1;
    ByteBuf::from(b)
}

/// An update that must succeed, decoded.
pub fn update<T: CandidType + for<'de> serde::Deserialize<'de>>(
    r: &mut Replica,
    id: Principal,
    caller: Principal,
    method: &str,
    arg: &[u8],
) -> T {
    let reply = r
        .update_call(caller, id, method, arg)
        .unwrap_or_else(|e| panic!("{method}: {e}"));
    Decode!(&reply.bytes, VaultResult<T>)
        .unwrap()
        .unwrap_or_else(|e| panic!("{method}: {e:?}"))
}

/// Upload arguments for file number `file` of `size` bytes.
pub fn begin_args(file: u32, size: u64) -> BeginUploadArgs {
    BeginUploadArgs {
        file_id: file_id(file),
        size,
        content_header: blob(17, 1),
        wrapped_key: blob(61, 2),
        album: None,
        key_version: 0,
        metadata: blob(200, 3),
        thumbnail: None,
        dedupe_hash: None,
        sort_key: file as i64,
    }
}

pub fn file_id(file: u32) -> ByteBuf {
    let mut id = vec![0xf0; 16];
    id[..4].copy_from_slice(&file.to_be_bytes());
    ByteBuf::from(id)
}

/// The encrypted length of chunk `index` of a file of `size` bytes.
pub fn chunk_len(size: u64, index: u32) -> usize {
    vault_crypto::encrypted_chunk_len(size, index.into())
        .unwrap_or_else(|| panic!("a file of {size} bytes has no chunk {index}")) as usize
}

/// Recognisable contents for chunk `index` of file `file`.
pub fn chunk_data(file: u32, index: u32, len: usize) -> Vec<u8> {
    let seed = file.wrapping_mul(7919).wrapping_add(index.wrapping_mul(31));
    (0..len)
        .map(|i| (i as u32).wrapping_mul(13).wrapping_add(seed) as u8)
        .collect()
}

pub fn put_chunk_arg(file: u32, index: u32, data: Vec<u8>) -> Vec<u8> {
    Encode!(&PutChunkArgs {
        file_id: file_id(file),
        index,
        data: ByteBuf::from(data),
    })
    .unwrap()
}

/// Uploads and commits file `file` of `size` bytes with [`chunk_data`] contents.
pub fn upload_file(r: &mut Replica, id: Principal, owner: Principal, file: u32, size: u64) {
    let _: UploadStatus = update(
        r,
        id,
        owner,
        "begin_upload",
        &Encode!(&begin_args(file, size)).unwrap(),
    );
    for index in 0..vault_crypto::chunk_count(size) as u32 {
        let data = chunk_data(file, index, chunk_len(size, index));
        let () = update(r, id, owner, "put_chunk", &put_chunk_arg(file, index, data));
    }
    let _: FileInfo = update(
        r,
        id,
        owner,
        "commit_upload",
        &Encode!(&file_id(file)).unwrap(),
    );
}

/// Chunk `index` of file `file`, read as its owner.
pub fn read_chunk(
    r: &mut Replica,
    id: Principal,
    owner: Principal,
    file: u32,
    index: u32,
) -> Vec<u8> {
    let arg = Encode!(&GetChunkArgs {
        file_id: file_id(file),
        index,
        link: None,
    })
    .unwrap();
    let reply = r.query_call(owner, id, "get_chunk", &arg).unwrap();
    Decode!(&reply.bytes, VaultResult<ByteBuf>)
        .unwrap()
        .unwrap_or_else(|e| panic!("get_chunk {file}/{index}: {e:?}"))
        .into_vec()
}
