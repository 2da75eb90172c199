//! Instructions the vault canister spends, from the replica's meter, against a bare canister
//! doing the least the same call could: copy the argument in and `stable64_write` it; or
//! `stable64_read` and reply. Instruction counts are deterministic: one run says it all.
//!
//! `scripts/build-canister && cargo bench -p local-replica --bench vault_instructions`

use std::time::Instant;

use candid::{Decode, Encode, Principal};
use local_replica::{InstallMode, Replica};
use serde_bytes::ByteBuf;
use vault_canister::model::types::*;

/// The baseline: `write` stores its argument at stable offset 0; `read` replies with the
/// first N bytes of stable memory (N in its 4-byte argument).
const BARE: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_size" (func $ssize (result i64)))
  (import "ic0" "stable64_grow" (func $sgrow (param i64) (result i64)))
  (import "ic0" "stable64_read" (func $sread (param i64 i64 i64)))
  (import "ic0" "stable64_write" (func $swrite (param i64 i64 i64)))
  (memory (export "memory") 40)
  (func (export "canister_update write") (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 0) (i32.const 0) (local.get $n))
    (if (i64.eqz (call $ssize)) (then (drop (call $sgrow (i64.const 32)))))
    (call $swrite (i64.const 0) (i64.const 0) (i64.extend_i32_u (local.get $n)))
    (call $reply))
  (func (export "canister_query read") (local $n i32)
    (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 4))
    (local.set $n (i32.load (i32.const 0)))
    (call $sread (i64.const 0) (i64.const 0) (i64.extend_i32_u (local.get $n)))
    (call $append (i32.const 0) (local.get $n))
    (call $reply))
)
"#;

fn blob(len: usize, fill: u8) -> ByteBuf {
    let mut b = vec![fill; len];
    b[0] = 1;
    ByteBuf::from(b)
}

fn main() {
    let wasm = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/canister/vault.wasm.gz"
    ))
    .expect("target/canister/vault.wasm.gz: run scripts/build-canister first");
    let owner = Principal::from_slice(&[7; 29]);
    let mut r = Replica::new(1_700_000_000_000_000_000).unwrap();
    let bare = r.create_canister(vec![owner]).unwrap();
    r.install_code(
        owner,
        bare,
        InstallMode::Install,
        &wat::parse_str(BARE).unwrap(),
        &[],
    )
    .unwrap();
    let vault = r.create_canister(vec![owner]).unwrap();
    r.install_code(
        owner,
        vault,
        InstallMode::Install,
        &wasm,
        &Encode!(&InitArgs {
            owner: Some(owner),
            quota_bytes: None
        })
        .unwrap(),
    )
    .unwrap();

    let chunk = vec![0x5au8; vault_crypto::ENCRYPTED_CHUNK_SIZE];
    const CHUNKS: u32 = 16;
    let size = CHUNKS as u64 * vault_crypto::CHUNK_SIZE as u64;
    let begin = BeginUploadArgs {
        file_id: ByteBuf::from(vec![1; 16]),
        size,
        content_header: blob(17, 1),
        wrapped_key: blob(61, 2),
        album: None,
        key_version: 0,
        metadata: blob(300, 3),
        thumbnail: Some(blob(60_000, 4)),
        dedupe_hash: None,
        sort_key: 0,
    };
    r.update_call(owner, vault, "begin_upload", &Encode!(&begin).unwrap())
        .unwrap();

    // put_chunk vs a bare write of the same argument bytes.
    let mut put = Vec::new();
    let start = Instant::now();
    for index in 0..CHUNKS {
        let arg = Encode!(&PutChunkArgs {
            file_id: ByteBuf::from(vec![1; 16]),
            index,
            data: ByteBuf::from(chunk.clone())
        })
        .unwrap();
        let reply = r.update_call(owner, vault, "put_chunk", &arg).unwrap();
        Decode!(&reply.bytes, VaultResult<()>).unwrap().unwrap();
        put.push(reply.instructions);
    }
    let put_wall = start.elapsed();
    let bare_write = r
        .update_call(owner, bare, "write", &chunk)
        .unwrap()
        .instructions;
    // Where the cost goes: the same call refused before any storage work (bad index), and
    // with a tiny argument.
    let probe = |r: &mut Replica, index: u32, data: Vec<u8>| {
        let arg = Encode!(&PutChunkArgs {
            file_id: ByteBuf::from(vec![1; 16]),
            index,
            data: ByteBuf::from(data)
        })
        .unwrap();
        r.update_call(owner, vault, "put_chunk", &arg)
            .unwrap()
            .instructions
    };
    let refused_big = probe(&mut r, 999, chunk.clone());
    let refused_small = probe(&mut r, 999, vec![1; 10]);
    r.update_call(
        owner,
        vault,
        "commit_upload",
        &Encode!(&ByteBuf::from(vec![1; 16])).unwrap(),
    )
    .unwrap();

    // get_chunk vs a bare read + reply of the same bytes.
    let get = r
        .query_call(
            owner,
            vault,
            "get_chunk",
            &Encode!(&GetChunkArgs {
                file_id: ByteBuf::from(vec![1; 16]),
                index: 3,
                link: None
            })
            .unwrap(),
        )
        .unwrap()
        .instructions;
    let bare_read = r
        .query_call(owner, bare, "read", &(chunk.len() as u32).to_le_bytes())
        .unwrap()
        .instructions;

    // Listing: the cost of a page of 100 files, per file.
    for n in 0..100u8 {
        let mut args = begin.clone();
        args.file_id = ByteBuf::from(vec![n.wrapping_add(10); 16]);
        args.size = 10;
        args.sort_key = n as i64;
        args.thumbnail = None;
        r.update_call(owner, vault, "begin_upload", &Encode!(&args).unwrap())
            .unwrap();
        let put = PutChunkArgs {
            file_id: args.file_id.clone(),
            index: 0,
            data: ByteBuf::from(vec![1; 26]),
        };
        r.update_call(owner, vault, "put_chunk", &Encode!(&put).unwrap())
            .unwrap();
        r.update_call(
            owner,
            vault,
            "commit_upload",
            &Encode!(&args.file_id).unwrap(),
        )
        .unwrap();
    }
    let list = |r: &mut Replica, limit| {
        let args = ListFilesArgs {
            limit: Some(limit),
            ..Default::default()
        };
        r.query_call(owner, vault, "list_files", &Encode!(&args).unwrap())
            .unwrap()
            .instructions
    };
    let (one, hundred) = (list(&mut r, 1), list(&mut r, 100));
    let per_file = (hundred - one) / 99;

    let median = {
        let mut p = put.clone();
        p.sort_unstable();
        p[p.len() / 2]
    };
    println!("instructions (the replica's meter: wasm instructions + System API charges)");
    println!(
        "  put_chunk, 1 MiB      {median:>12}   bare stable64_write of the same bytes {bare_write:>12}   {:.3}x",
        median as f64 / bare_write as f64
    );
    println!(
        "  get_chunk, 1 MiB      {get:>12}   bare stable64_read + reply             {bare_read:>12}   {:.3}x",
        get as f64 / bare_read as f64
    );
    println!(
        "  list_files            {per_file:>12} per listed file (page of 100: {hundred}; goal <= 50000 per file)"
    );
    println!(
        "  put_chunk refused after decoding: 1 MiB arg {refused_big}, 10-byte arg {refused_small}"
    );
    println!(
        "  wall clock put_chunk  {:.1} MiB/s in process ({CHUNKS} chunks)",
        CHUNKS as f64 / put_wall.as_secs_f64()
    );
}
