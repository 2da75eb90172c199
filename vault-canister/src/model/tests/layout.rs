//! What a vault holds in each stable layout (`memory.rs`): the stable memory an empty and a
//! small vault occupy, a layout 1 vault (as every vault was created before layout 2) opened by
//! this code as post_upgrade opens it, a layout 2 vault reopened, and a full METADATA memory.

use std::hash::{DefaultHasher, Hash, Hasher};

use ic_stable_structures::memory_manager::{MemoryId, MemoryManager};

use super::*;
use crate::memory::{self, Layout, OUTER_BUCKET_PAGES, WASM_PAGE_SIZE};
use crate::model::room::MemoryLimits;

/// The outer manager's header page.
const HEADER: u64 = WASM_PAGE_SIZE;
/// One outer bucket.
const BUCKET: u64 = OUTER_BUCKET_PAGES as u64 * WASM_PAGE_SIZE;

/// A vault installed and set up, in layout 2 (`State::init`) or layout 1.
fn installed(layout: Layout, memory: &VectorMemory) -> State<VectorMemory> {
    let mut s = match layout {
        Layout::V1 => State::init_v1(memory.clone(), OUTER_BUCKET_PAGES),
        Layout::V2 => State::init(memory.clone()),
    };
    s.install(p(OWNER), None, T0).unwrap();
    s.setup(&p(OWNER), T0, secrets().setup).unwrap();
    s
}

fn bytes(memory: &VectorMemory) -> u64 {
    memory.size() * WASM_PAGE_SIZE
}

/// A hash of every byte of `memory`.
fn memory_hash(memory: &VectorMemory) -> u64 {
    let mut h = DefaultHasher::new();
    memory.borrow().hash(&mut h);
    h.finish()
}

/// Everything the owner, the grantees and a link holder read at `NOW`, as text, but the
/// stable memory's size (which depends on the layout).
fn everything(s: &State<VectorMemory>) -> String {
    let owner = p(OWNER);
    let mut out = String::new();
    let mut page = |args: ListFilesArgs| {
        let mut args = args;
        loop {
            let page = s.list_files(&owner, NOW, args.clone()).unwrap();
            out += &format!("{:?}\n", page.files);
            for f in &page.files {
                for index in 0..f.chunk_count {
                    let chunk = s.get_chunk(
                        &owner,
                        NOW,
                        GetChunkArgs {
                            file_id: f.id.clone(),
                            index,
                            link: None,
                        },
                    );
                    out += &format!("{chunk:?}\n");
                }
                let file = FileRef {
                    file_id: f.id.clone(),
                    link: None,
                };
                out += &format!("{:?}\n", s.get_thumbnail(&owner, NOW, file));
            }
            match page.next {
                Some(next) => args.after = Some(next),
                None => break,
            }
        }
    };
    page(ListFilesArgs::default());
    page(ListFilesArgs {
        trashed: Some(true),
        ..Default::default()
    });
    for album in s.list_albums(&owner).unwrap() {
        page(ListFilesArgs {
            album: Some(album.id.clone()),
            ..Default::default()
        });
    }
    let info = VaultInfo {
        stable_memory_bytes: 0,
        ..s.vault_info(&owner).unwrap()
    };
    out += &format!("{info:?}\n");
    out += &format!("{:?}\n", s.list_albums(&owner));
    out += &format!("{:?}\n", s.list_grants(&owner, None));
    out += &format!("{:?}\n", s.list_links(&owner));
    out += &format!("{:?}\n", s.list_uploads(&owner, ListUploadsArgs::default()));
    out += &format!(
        "{:?}\n",
        s.activity(&owner, None, Some(crate::model::MAX_ACTIVITY_PAGE))
    );
    out += &format!("{:?}\n", s.devices(&owner));
    out += &format!("{:?}\n", s.profile(&owner));
    for grantee in [VIEWER, CONTRIBUTOR, FILE_VIEWER, REVOKED, EXPIRED] {
        out += &format!("{:?}\n", s.shared_with_me(&p(grantee), NOW));
    }
    out += &format!("{:?}\n", s.open_link(NOW, &access(LINK, None)));
    out
}

/// Writes of every kind after the scenario: a file of three chunks in the album, a new album
/// granted and linked, a file trashed and one purged, a device admitted.
fn new_writes(s: &mut State<VectorMemory>, secrets: &Secrets) {
    let owner = p(OWNER);
    let size = 2 * vault_crypto::CHUNK_SIZE as u64 + 1;
    upload(s, &owner, NOW, upload_args(0xf5, Some(ALBUM), size, 1));
    s.create_album(
        &owner,
        NOW,
        CreateAlbumArgs {
            album_id: id(0xa3),
            name: blob(40, 0xa3),
            wrapped_key: blob(WRAPPED_KEY_SIZE, 0xa3),
        },
    )
    .unwrap();
    s.grant(
        &owner,
        NOW,
        GrantArgs {
            target: Target::Album(id(0xa3)),
            grantee: p(VIEWER),
            grantee_key: public_key(VIEWER),
            permission: Permission::View,
            sealed_keys: vec![sealed(0)],
            expires_at: None,
            authenticator: None,
        },
    )
    .unwrap();
    s.create_link(
        &owner,
        NOW,
        link_args(0x16, Target::Album(id(0xa3)), 0, None, false),
    )
    .unwrap();
    s.trash(&owner, NOW, vec![id(NO_ALBUM)]).unwrap();
    s.purge(&owner, NOW, vec![id(TRASHED)]).unwrap();
    let admit = secrets.admit(s, &p(0x30), UnlockMethod::Passphrase);
    s.admit_device(&p(0x30), &canister(), NOW, admit).unwrap();
    for _ in 0..4 {
        s.housekeeping(NOW);
    }
    s.check_invariants().unwrap();
}

/// The finding: every structure claimed its own 8 MiB bucket, so an empty vault held 208 MiB
/// (26 buckets; the chunk data takes none until a chunk is stored), billed as if it stored
/// 200 MB of photos. In layout 2 it holds the outer header and one bucket, METADATA's, in which
/// the metadata manager's header and the structures' first buckets (27 since the inbox) fit: 8 MiB + 64 KiB.
#[test]
fn an_empty_vault_holds_one_bucket_not_one_per_structure() {
    let old = VectorMemory::default();
    installed(Layout::V1, &old);
    let new = VectorMemory::default();
    let s = installed(Layout::V2, &new);
    eprintln!(
        "an empty vault holds {} bytes in layout 1, {} in layout 2",
        bytes(&old),
        bytes(&new)
    );
    // 26 buckets as layout 1 was created; this code opens one more, the inbox's (INBOX, 28).
    assert_eq!(bytes(&old), HEADER + 27 * BUCKET);
    assert_eq!(bytes(&new), HEADER + BUCKET, "at most 8 MiB + 64 KiB");
    assert_eq!(s.layout(), Layout::V2);
    assert_eq!(
        s.vault_info(&p(OWNER)).unwrap().stable_memory_bytes,
        HEADER + BUCKET
    );
    // The 27 structures' first buckets leave room in it for more.
    let metadata = s.metadata_in_use().unwrap();
    assert_eq!(
        metadata,
        (1 + 27 * crate::memory::METADATA_BUCKET_PAGES as u64) * WASM_PAGE_SIZE
    );
    assert!(metadata < BUCKET);
}

/// A vault of ten 1 MiB photos holds what it stores, in 8 MiB buckets of chunk data, and one
/// bucket of metadata: at most two buckets and the header more than the ciphertext.
#[test]
fn a_small_vault_holds_about_what_it_stores() {
    let owner = p(OWNER);
    let size = vault_crypto::CHUNK_SIZE as u64;
    for layout in [Layout::V1, Layout::V2] {
        let memory = VectorMemory::default();
        let mut s = installed(layout, &memory);
        let mut stored = 0;
        for n in 1..=10 {
            let args = upload_args(n, None, size, 0);
            stored += vault_crypto::encrypted_chunk_len(size, 0).unwrap()
                + args.thumbnail.as_ref().unwrap().len() as u64;
            upload(&mut s, &owner, T0, args);
        }
        eprintln!(
            "{layout:?}: 10 files of 1 MiB ({stored} bytes of ciphertext): {} bytes of stable memory, {} of chunk data",
            bytes(&memory),
            s.chunks.data_bytes()
        );
        if layout == Layout::V2 {
            assert!(bytes(&memory) >= stored);
            assert!(
                bytes(&memory) <= stored + HEADER + 2 * BUCKET,
                "{} bytes hold {stored}",
                bytes(&memory)
            );
            assert!(s.metadata_in_use().unwrap() <= BUCKET);
        }
    }
}

/// The stable-layout migration: a vault written by layout 1's code (all of the scenario's
/// content: devices, albums, files of several chunks, a trashed one, an upload in progress,
/// grants, links, a rotated key, the log), then opened by this code as post_upgrade opens it.
/// It stays layout 1 (nothing is copied: opening writes no byte), reads back identical, and
/// takes new writes of every kind exactly as the same vault in layout 2 does.
#[test]
fn a_layout_1_vault_opens_as_it_was_and_takes_new_writes() {
    let memory = VectorMemory::default();
    let mut old = State::init_v1(memory.clone(), OUTER_BUCKET_PAGES);
    let secrets = build_scenario(&mut old);
    old.check_invariants().unwrap();
    let (digest, read) = (old.digest(), everything(&old));
    drop(old);
    let (size, hash) = (memory.size(), memory_hash(&memory));

    let mut s = State::init(memory.clone());
    assert_eq!(s.layout(), Layout::V1);
    assert_eq!(
        (memory.size(), memory_hash(&memory)),
        (size, hash),
        "opening writes nothing"
    );
    assert_eq!(s.metadata_in_use(), None);
    s.check_invariants().unwrap();
    assert_eq!(s.digest(), digest);
    assert_eq!(everything(&s), read);

    // The same vault built in layout 2 holds the same, and the same writes change both alike.
    let mut new = State::init(VectorMemory::default());
    build_scenario(&mut new);
    assert_eq!(new.digest(), digest);
    assert_eq!(everything(&new), read);
    new_writes(&mut s, &secrets);
    new_writes(&mut new, &secrets);
    let (digest, read) = (s.digest(), everything(&s));
    assert_eq!(new.digest(), digest);
    assert_eq!(everything(&new), read);
    assert!(read.contains(&format!("{:?}", id(0xf5))));

    // Upgraded again, it is still layout 1, with the new writes.
    drop(s);
    let s = State::init(memory.clone());
    assert_eq!(s.layout(), Layout::V1);
    assert_eq!(s.digest(), digest);
    assert_eq!(everything(&s), read);
}

/// A layout 2 vault reopened (an upgrade) is layout 2, as it was, and takes new writes.
#[test]
fn a_layout_2_vault_reopens_in_layout_2() {
    let memory = VectorMemory::default();
    let mut s = State::init(memory.clone());
    let secrets = build_scenario(&mut s);
    let (digest, read) = (s.digest(), everything(&s));
    drop(s);
    let (size, hash) = (memory.size(), memory_hash(&memory));

    let mut s = State::init(memory.clone());
    assert_eq!(s.layout(), Layout::V2);
    assert_eq!(
        (memory.size(), memory_hash(&memory)),
        (size, hash),
        "opening writes nothing"
    );
    assert_eq!(s.digest(), digest);
    assert_eq!(everything(&s), read);
    new_writes(&mut s, &secrets);
    let (digest, read) = (s.digest(), everything(&s));
    drop(s);
    let s = State::init(memory.clone());
    assert_eq!(s.layout(), Layout::V2);
    assert_eq!(s.digest(), digest);
    assert_eq!(everything(&s), read);
    // Nothing is in the outer manager but METADATA and the chunk data.
    drop(s);
    let outer = MemoryManager::init(memory);
    for id in 0..=u8::MAX - 1 {
        let pages = outer.get(MemoryId::new(id)).size();
        assert_eq!(
            pages > 0,
            [memory::CHUNK_DATA, memory::METADATA].contains(&MemoryId::new(id)),
            "outer memory {id}: {pages} pages"
        );
    }
}

/// The METADATA memory cannot grow past its limit (8 GiB; here a few MiB): filled with files
/// of large metadata, a vault refuses new ones with a typed error before it gets there, and
/// is still read, trashed, restored and purged without a trap.
#[test]
fn a_full_metadata_memory_refuses_new_data_and_still_empties() {
    let memory = VectorMemory::default();
    let mut s = State::init_with_bucket_pages(memory.clone(), 1);
    let owner = p(OWNER);
    s.install(owner, None, T0).unwrap();
    let empty = s.metadata_in_use().unwrap();
    const HEADROOM: u64 = 2 << 20;
    let limits = MemoryLimits {
        metadata_bytes: empty + (6 << 20),
        metadata_headroom: HEADROOM,
        ..MemoryLimits::default()
    };
    s.set_memory_limits(limits);

    let file = |n: u32| {
        let mut file_id = [0u8; 16];
        file_id[..4].copy_from_slice(&n.to_be_bytes());
        BeginUploadArgs {
            file_id: ByteBuf::from(file_id.to_vec()),
            metadata: blob(crate::model::MAX_METADATA_SIZE, 1),
            dedupe_hash: None,
            sort_key: n as i64,
            ..upload_args(1, None, 10, 0)
        }
    };
    let mut stored = 0u32;
    let refusal = loop {
        let args = file(stored);
        let file_id = args.file_id.clone();
        match s.begin_upload(&owner, T0, args) {
            Ok(_) => {
                s.put_chunk(
                    &owner,
                    T0,
                    PutChunkArgs {
                        file_id: file_id.clone(),
                        index: 0,
                        data: chunk(10, 0, 1),
                    }
                    .borrowed(),
                )
                .unwrap();
                s.commit_upload(&owner, T0, &file_id).unwrap();
                stored += 1;
            }
            Err(e) => break e,
        }
        assert!(stored < 10_000, "the metadata never filled");
    };
    assert!(
        matches!(refusal, VaultError::QuotaExceeded { .. }),
        "{refusal:?}"
    );
    let used = s.metadata_in_use().unwrap();
    eprintln!(
        "{stored} files filled {used} bytes of metadata (limit {})",
        limits.metadata_bytes
    );
    assert!(stored >= 50, "only {stored} files");
    assert!(used <= limits.metadata_bytes - HEADROOM / 2, "{used} bytes");

    // Full, it is still read, trashed, restored and purged; the log stops before the limit.
    let ids: Vec<ByteBuf> = (0..stored).map(|n| file(n).file_id).collect();
    let first = FileRef {
        file_id: ids[0].clone(),
        link: None,
    };
    s.get_file(&owner, T0, first).unwrap();
    let mut rounds_after_the_log_stopped = 0;
    for round in 0..5_000 {
        s.housekeeping(T0 + round);
        s.trash(&owner, T0 + round, ids[..10].to_vec()).unwrap();
        s.restore(&owner, T0 + round, ids[..10].to_vec()).unwrap();
        if s.unrecorded_activity() > 0 {
            rounds_after_the_log_stopped += 1;
            if rounds_after_the_log_stopped == 100 {
                break;
            }
        }
    }
    assert_eq!(rounds_after_the_log_stopped, 100, "the log never stopped");
    assert!(s.metadata_in_use().unwrap() <= limits.metadata_bytes);
    for batch in ids.chunks(crate::model::MAX_BATCH) {
        s.trash(&owner, T0 + 1000, batch.to_vec()).unwrap();
        s.purge(&owner, T0 + 1000, batch.to_vec()).unwrap();
    }
    while s.reclaim_pending() > 0 {
        s.housekeeping(T0 + 2000);
    }
    assert_eq!(s.vault_info(&owner).unwrap().files, 0);
    assert!(s.metadata_in_use().unwrap() <= limits.metadata_bytes);
    s.check_invariants().unwrap();
}
