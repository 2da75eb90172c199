//! The quota against the memory really used, and a vault filled to its limit, then emptied.

use candid::Principal;
use ic_stable_structures::{Memory, VectorMemory};
use serde_bytes::ByteBuf;
use vault_crypto::WRAPPED_KEY_SIZE;

use super::MemoryLimits;
use crate::model::State;
use crate::model::fixtures::*;
use crate::model::types::*;

const PAGE: u64 = 65536;

/// Upload arguments for file number `n` (any u32, unlike the fixtures' u8 ids).
fn nth_file(n: u32, album: Option<u8>, size: u64) -> BeginUploadArgs {
    let mut file_id = [0u8; 16];
    file_id[..4].copy_from_slice(&n.to_be_bytes());
    let mut hash = [0u8; 32];
    hash[..4].copy_from_slice(&n.to_be_bytes());
    BeginUploadArgs {
        file_id: ByteBuf::from(file_id.to_vec()),
        dedupe_hash: Some(ByteBuf::from(hash.to_vec())),
        sort_key: n as i64,
        ..upload_args(1, album, size, 0)
    }
}

/// Stable memory a `VectorMemory` has grown to, bytes.
fn grown(memory: &impl Memory) -> u64 {
    memory.size() * PAGE
}

fn vault<M: Memory + Clone + 'static>(memory: M) -> (State<M>, Principal) {
    // One-page buckets: the memory grows with what is stored, not in 8 MiB steps.
    let mut s = State::init_with_bucket_pages(memory, 1);
    let owner = p(1);
    s.install(owner, None, T0).unwrap();
    s.setup(&owner, T0, secrets().setup).unwrap();
    s.create_album(
        &owner,
        T0,
        CreateAlbumArgs {
            album_id: id(0xa1),
            name: blob(40, 1),
            wrapped_key: blob(WRAPPED_KEY_SIZE, 1),
        },
    )
    .unwrap();
    (s, owner)
}

/// The finding: 1 000 empty files were counted 82 KB and took 8.19 MB. Each file is now
/// charged at least what it makes stable memory grow by, and not grossly more.
#[test]
fn charges_cover_the_stable_memory_really_used() {
    for (files, size, album) in [(1000u32, 0u64, Some(0xa1)), (300, 70_000, None)] {
        let memory = VectorMemory::default();
        let (mut s, owner) = vault(memory.clone());
        let used_before = s.vault_info(&owner).unwrap().used_bytes;
        let memory_before = grown(&memory);
        for n in 0..files {
            upload(&mut s, &owner, T0, nth_file(n, album, size));
        }
        let charged = s.vault_info(&owner).unwrap().used_bytes - used_before;
        let growth = grown(&memory) - memory_before;
        eprintln!(
            "{files} files of {size} bytes: charged {charged}, stable memory grew {growth} ({:.2}x)",
            charged as f64 / growth as f64
        );
        assert!(
            charged >= growth,
            "{files} files of {size} bytes charged {charged} but took {growth}"
        );
        assert!(
            charged <= 2 * growth,
            "{files} files of {size} bytes charged {charged}, more than twice the {growth} they took"
        );
        // In the trash, a file is stored no more times than live.
        let ids: Vec<ByteBuf> = (0..files).map(|n| nth_file(n, None, 0).file_id).collect();
        for batch in ids.chunks(crate::model::MAX_BATCH) {
            s.trash(&owner, T0, batch.to_vec()).unwrap();
        }
        let growth = grown(&memory) - memory_before;
        assert!(
            charged >= growth,
            "trashed: charged {charged}, took {growth}"
        );
    }
}

/// A `VectorMemory` that cannot grow past `max_pages`, as the IC's stable memory cannot grow
/// past the canister's limit (the memory manager then traps).
#[derive(Clone)]
struct CappedMemory {
    inner: VectorMemory,
    max_pages: u64,
}

impl Memory for CappedMemory {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn grow(&self, pages: u64) -> i64 {
        if self.inner.size() + pages > self.max_pages {
            -1
        } else {
            self.inner.grow(pages)
        }
    }
    fn read(&self, offset: u64, dst: &mut [u8]) {
        self.inner.read(offset, dst)
    }
    fn write(&self, offset: u64, src: &[u8]) {
        self.inner.write(offset, src)
    }
}

/// The finding: a full stable memory made the activity log's append trap, so every update,
/// purge included, trapped. Filled to its limit, a vault refuses new data with a typed error,
/// can still be read, trashed, restored and purged, and takes uploads again once emptied.
#[test]
fn a_vault_filled_to_its_limit_empties_and_fills_again() {
    const LIMIT: u64 = 48 << 20;
    const HEADROOM: u64 = 4 << 20;
    let memory = CappedMemory {
        inner: VectorMemory::default(),
        max_pages: LIMIT / PAGE,
    };
    let (mut s, owner) = vault(memory.clone());
    s.set_memory_limits(MemoryLimits {
        stable_bytes: LIMIT,
        headroom: HEADROOM,
        ..MemoryLimits::default()
    });
    s.set_quota(&owner, T0, LIMIT - HEADROOM).unwrap();
    assert!(
        s.set_quota(&owner, T0, LIMIT).is_err(),
        "no quota reaches into the headroom"
    );

    // Fill: 1.5 MiB files (two chunks) until the vault refuses one.
    let size = vault_crypto::CHUNK_SIZE as u64 * 3 / 2;
    let mut stored = 0u32;
    let refusal = loop {
        match s.begin_upload(&owner, T0, nth_file(stored, None, size)) {
            Ok(_) => {
                let file_id = nth_file(stored, None, size).file_id;
                for index in 0..2 {
                    s.put_chunk(
                        &owner,
                        T0,
                        PutChunkArgs {
                            file_id: file_id.clone(),
                            index,
                            data: chunk(size, index, 7),
                        }
                        .borrowed(),
                    )
                    .unwrap();
                }
                s.commit_upload(&owner, T0, &file_id).unwrap();
                stored += 1;
            }
            Err(e) => break e,
        }
        assert!(stored < 1000, "the vault never filled");
    };
    assert!(
        matches!(refusal, VaultError::QuotaExceeded { .. }),
        "{refusal:?}"
    );
    assert!(stored >= 15, "only {stored} files fitted in {LIMIT} bytes");
    let in_use = s.stable_in_use();
    assert!(in_use <= LIMIT - HEADROOM, "{in_use} bytes in use");
    eprintln!("{stored} files of {size} bytes filled {in_use} of {LIMIT} bytes");

    // Full, it is still read.
    let ids: Vec<ByteBuf> = (0..stored)
        .map(|n| nth_file(n, None, size).file_id)
        .collect();
    let first = FileRef {
        file_id: ids[0].clone(),
        link: None,
    };
    s.get_file(&owner, T0, first.clone()).unwrap();
    s.get_thumbnail(&owner, T0, first).unwrap();

    // Trashing and restoring again and again (each writes to the activity log) never traps:
    // the log stops recording before it reaches the structures' half of the headroom.
    for round in 0..1500 {
        s.housekeeping(T0 + round);
        s.trash(&owner, T0 + round, ids[..10].to_vec()).unwrap();
        s.restore(&owner, T0 + round, ids[..10].to_vec()).unwrap();
    }
    assert!(
        s.unrecorded_activity() > 0,
        "the log should have stopped recording"
    );
    assert!(memory.size() * PAGE <= LIMIT);

    // Empty the trash: every file goes, its space comes back.
    for batch in ids.chunks(crate::model::MAX_BATCH) {
        s.trash(&owner, T0 + 1000, batch.to_vec()).unwrap();
        s.purge(&owner, T0 + 1000, batch.to_vec()).unwrap();
    }
    let info = s.vault_info(&owner).unwrap();
    assert_eq!((info.files, info.used_bytes), (0, 0));
    while s.reclaim_pending() > 0 {
        s.housekeeping(T0 + 2000);
    }

    // And it takes uploads again: nearly as many as before (the log keeps what it wrote).
    let mut again = 0;
    let refusal = loop {
        let args = nth_file(10_000 + again, None, size);
        let file_id = args.file_id.clone();
        if let Err(e) = s.begin_upload(&owner, T0 + 3000, args) {
            break e;
        }
        for index in 0..2 {
            s.put_chunk(
                &owner,
                T0 + 3000,
                PutChunkArgs {
                    file_id: file_id.clone(),
                    index,
                    data: chunk(size, index, 8),
                }
                .borrowed(),
            )
            .unwrap();
        }
        s.commit_upload(&owner, T0 + 3000, &file_id).unwrap();
        again += 1;
    };
    assert!(
        matches!(refusal, VaultError::QuotaExceeded { .. }),
        "{refusal:?}"
    );
    eprintln!("after emptying, {again} files fitted again");
    assert!(
        again >= stored * 3 / 4,
        "only {again} of {stored} fitted again"
    );
}

/// A quota is never set, nor installed, beyond what the memory can hold with its headroom.
#[test]
fn the_quota_stays_below_the_memory_limit() {
    let mut s = State::init(VectorMemory::default());
    let owner = p(1);
    assert!(matches!(
        s.install(owner, Some(crate::model::STABLE_MEMORY_LIMIT), T0),
        Err(VaultError::InvalidArgument { .. })
    ));
    s.install(owner, Some(crate::model::MAX_QUOTA), T0).unwrap();
    assert!(matches!(
        s.set_quota(&owner, T0, crate::model::MAX_QUOTA + 1),
        Err(VaultError::InvalidArgument { .. })
    ));
}

/// LOG_ENTRY_BYTES holds the largest entry a file writes.
#[test]
fn a_file_log_entry_fits_its_charge() {
    let entry = ActivityEntry {
        seq: u64::MAX,
        time: u64::MAX,
        caller: Principal::from_slice(&[0xff; 29]),
        activity: Activity::FileUploaded {
            file_id: ByteBuf::from(vec![0xff; 16]),
            album: Some(ByteBuf::from(vec![0xff; 16])),
            size: u64::MAX,
        },
    };
    let bytes = candid::encode_one(&entry).unwrap().len() as u64 + 8;
    eprintln!("a FileUploaded entry takes {bytes} bytes");
    assert!(bytes <= super::LOG_ENTRY_BYTES, "{bytes} bytes");
}
