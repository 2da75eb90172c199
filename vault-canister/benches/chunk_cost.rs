//! What a 1 MiB `put_chunk` and a listed file cost in stable-memory traffic, against a bare
//! write of the same bytes, measured natively under the real model.
//!
//! `cargo bench -p vault-canister --bench chunk_cost`
//!
//! Stable-memory bytes moved is what dominates a canister's per-call instructions for large
//! chunks (the IC charges stable reads and writes per byte); the instruction counts themselves
//! come from local-replica's meter, which runs this same model as wasm.

use std::cell::RefCell;
use std::rc::Rc;

use candid::Principal;
use ic_stable_structures::{Memory, VectorMemory};
use serde_bytes::ByteBuf;
use vault_canister::model::State;
use vault_canister::model::types::{BeginUploadArgs, ListFilesArgs, PutChunkArgs};

#[derive(Default, Clone, Copy, Debug)]
struct Traffic {
    written: u64,
    write_calls: u64,
    read: u64,
    read_calls: u64,
}

/// A `VectorMemory` that counts what passes through it.
#[derive(Clone, Default)]
struct Counting {
    inner: VectorMemory,
    traffic: Rc<RefCell<Traffic>>,
}

impl Memory for Counting {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn grow(&self, pages: u64) -> i64 {
        self.inner.grow(pages)
    }
    fn read(&self, offset: u64, dst: &mut [u8]) {
        let mut t = self.traffic.borrow_mut();
        t.read += dst.len() as u64;
        t.read_calls += 1;
        self.inner.read(offset, dst)
    }
    fn write(&self, offset: u64, src: &[u8]) {
        let mut t = self.traffic.borrow_mut();
        t.written += src.len() as u64;
        t.write_calls += 1;
        self.inner.write(offset, src)
    }
}

impl Counting {
    fn take(&self) -> Traffic {
        std::mem::take(&mut *self.traffic.borrow_mut())
    }
}

const CHUNKS: u32 = 64;

fn blob(len: usize, fill: u8) -> ByteBuf {
    let mut b = vec![fill; len];
    b[0] = 1;
    ByteBuf::from(b)
}

fn main() {
    let chunk = vec![7u8; vault_crypto::ENCRYPTED_CHUNK_SIZE];

    // Baseline: the same bytes written once each, straight to memory.
    let bare = Counting::default();
    bare.grow((CHUNKS as u64 * chunk.len() as u64).div_ceil(65536));
    for i in 0..CHUNKS as u64 {
        bare.write(i * chunk.len() as u64, &chunk);
    }
    let bare_traffic = bare.take();

    // The vault: begin an upload of CHUNKS full chunks, then put them.
    let memory = Counting::default();
    let mut state = State::init(memory.clone());
    let owner = Principal::from_slice(&[1; 29]);
    state.install(owner, None, 0).unwrap();
    let size = CHUNKS as u64 * vault_crypto::CHUNK_SIZE as u64;
    let args = BeginUploadArgs {
        file_id: ByteBuf::from(vec![9; 16]),
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
    state.begin_upload(&owner, 0, args).unwrap();
    memory.take();
    for index in 0..CHUNKS {
        let data = ByteBuf::from(chunk.clone());
        state
            .put_chunk(
                &owner,
                0,
                PutChunkArgs {
                    file_id: ByteBuf::from(vec![9; 16]),
                    index,
                    data,
                }
                .borrowed(),
            )
            .unwrap();
    }
    let put = memory.take();

    // Listing: 200 committed files, one page.
    state
        .commit_upload(&owner, 0, &ByteBuf::from(vec![9; 16]))
        .unwrap();
    for n in 0..200u32 {
        let mut id = vec![0u8; 16];
        id[..4].copy_from_slice(&n.to_be_bytes());
        let args = BeginUploadArgs {
            file_id: ByteBuf::from(id.clone()),
            size: 1,
            content_header: blob(17, 1),
            wrapped_key: blob(61, 2),
            album: None,
            key_version: 0,
            metadata: blob(300, 3),
            thumbnail: None,
            dedupe_hash: None,
            sort_key: n as i64,
        };
        state.begin_upload(&owner, 0, args).unwrap();
        state
            .put_chunk(
                &owner,
                0,
                PutChunkArgs {
                    file_id: ByteBuf::from(id.clone()),
                    index: 0,
                    data: ByteBuf::from(vec![1; 17]),
                }
                .borrowed(),
            )
            .unwrap();
        state.commit_upload(&owner, 0, &ByteBuf::from(id)).unwrap();
    }
    memory.take();
    let page = state
        .list_files(
            &owner,
            0,
            ListFilesArgs {
                limit: Some(200),
                ..Default::default()
            },
        )
        .unwrap();
    let list = memory.take();
    assert_eq!(page.files.len(), 200);

    let per = |t: Traffic, n: u64| {
        (
            t.written / n,
            t.write_calls as f64 / n as f64,
            t.read / n,
            t.read_calls as f64 / n as f64,
        )
    };
    let (bw, bc, _, _) = per(bare_traffic, CHUNKS as u64);
    let (vw, vc, vr, vrc) = per(put, CHUNKS as u64);
    println!(
        "per 1 MiB chunk ({} bytes encrypted), {CHUNKS} chunks:",
        chunk.len()
    );
    println!("  bare stable write   {bw:>9} bytes written in {bc:.1} calls");
    println!(
        "  vault put_chunk     {vw:>9} bytes written in {vc:.1} calls, {vr} bytes read in {vrc:.1} calls"
    );
    println!(
        "  write amplification {:.4}x bytes, {:.4}x with reads",
        vw as f64 / bw as f64,
        (vw + vr) as f64 / bw as f64
    );
    println!(
        "listing 200 files: {} bytes read in {} calls ({} bytes per file)",
        list.read,
        list.read_calls,
        list.read / 200
    );
}
