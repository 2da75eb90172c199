//! A contributor's uploads: re-authorized at every call, dropped on revocation, bounded; the
//! owner's list of pending uploads.

use candid::Principal;
use ic_stable_structures::VectorMemory;
use serde_bytes::ByteBuf;
use vault_crypto::{CHUNK_SIZE, SEALED_KEY_SIZE, WRAPPED_KEY_SIZE};

use crate::model::fixtures::*;
use crate::model::types::*;
use crate::model::{MAX_CONTRIBUTION_RESERVED, MAX_PENDING_CONTRIBUTIONS, State};

const ALBUM: u8 = 0xa1;
const OWNER: u8 = 1;
const CONTRIBUTOR: u8 = 4;
/// A file of three chunks.
const SIZE: u64 = 2 * CHUNK_SIZE as u64 + 5;

fn sealed(version: u32) -> SealedKeyVersion {
    SealedKeyVersion {
        version,
        sealed: blob(SEALED_KEY_SIZE, 5),
    }
}

fn contribute_grant(expires_at: Option<u64>) -> GrantArgs {
    GrantArgs {
        target: Target::Album(id(ALBUM)),
        grantee: p(CONTRIBUTOR),
        grantee_key: ByteBuf::from(vec![CONTRIBUTOR; 32]),
        permission: Permission::Contribute,
        sealed_keys: vec![sealed(0)],
        expires_at,
        authenticator: None,
    }
}

/// A vault with an album shared with CONTRIBUTOR (Contribute), who has begun a three-chunk
/// upload into it and sent one chunk.
fn contributor_uploading(expires_at: Option<u64>) -> State<VectorMemory> {
    let mut s = State::init_with_bucket_pages(VectorMemory::default(), 2);
    let owner = p(OWNER);
    s.install(owner, None, T0).unwrap();
    s.setup(&owner, T0, secrets().setup).unwrap();
    s.create_album(
        &owner,
        T0,
        CreateAlbumArgs {
            album_id: id(ALBUM),
            name: blob(40, 1),
            wrapped_key: blob(WRAPPED_KEY_SIZE, 1),
        },
    )
    .unwrap();
    s.grant(&owner, T0, contribute_grant(expires_at)).unwrap();
    s.begin_upload(&p(CONTRIBUTOR), T0, upload_args(0xc1, Some(ALBUM), SIZE, 0))
        .unwrap();
    put(&mut s, &p(CONTRIBUTOR), T0, 0).unwrap();
    s
}

fn put(s: &mut State<VectorMemory>, caller: &Principal, now: u64, index: u32) -> VaultResult<()> {
    s.put_chunk(
        caller,
        now,
        PutChunkArgs {
            file_id: id(0xc1),
            index,
            data: chunk(SIZE, index, 1),
        }
        .borrowed(),
    )
}

/// Every call a contributor makes on their upload, and what each answered.
fn contributor_calls(s: &mut State<VectorMemory>, now: u64) -> [VaultResult<()>; 4] {
    let c = p(CONTRIBUTOR);
    [
        put(s, &c, now, 1),
        s.upload_status(&c, now, &id(0xc1)).map(|_| ()),
        s.commit_upload(&c, now, &id(0xc1)).map(|_| ()),
        s.abort_upload(&c, now, &id(0xc1)),
    ]
}

/// The finding: put_chunk and upload_status checked only the uploader, so a revoked
/// contributor kept a reservation alive. Revoking drops their upload and its reservation.
#[test]
fn a_revoked_contributor_loses_their_upload_and_its_reservation() {
    let owner = p(OWNER);
    for revoke in ["revoke_grant", "rotate_album_key"] {
        let mut s = contributor_uploading(None);
        assert!(s.vault_info(&owner).unwrap().reserved_bytes > 0);
        match revoke {
            "revoke_grant" => s
                .revoke_grant(&owner, T0, Target::Album(id(ALBUM)), p(CONTRIBUTOR))
                .unwrap(),
            _ => {
                s.rotate_album_key(
                    &owner,
                    T0,
                    RotateAlbumKeyArgs {
                        album_id: id(ALBUM),
                        revoke: vec![p(CONTRIBUTOR)],
                        new_version: 1,
                        wrapped_key: blob(WRAPPED_KEY_SIZE, 2),
                        grants: vec![],
                        links: vec![],
                    },
                )
                .unwrap();
            }
        }
        let info = s.vault_info(&owner).unwrap();
        assert_eq!(
            info.reserved_bytes, 0,
            "{revoke}: the reservation is released"
        );
        assert_eq!(info.uploads_in_progress, 0, "{revoke}");
        assert!(
            s.list_uploads(&owner, ListUploadsArgs::default())
                .unwrap()
                .uploads
                .is_empty()
        );
        for (call, got) in contributor_calls(&mut s, T0 + 1).iter().enumerate() {
            assert_eq!(
                got,
                &Err(VaultError::NotAuthorized),
                "{revoke}: call {call}"
            );
        }
        while s.reclaim_pending() > 0 {
            s.housekeeping(T0 + 2);
        }
        assert_eq!(s.chunks.meta().chunks, 0, "{revoke}: its chunks are freed");
    }
}

/// Each call is authorized again: a contributor who may no longer contribute (the grant
/// expired, or became a view grant) can neither send, look, nor commit, even with an upload
/// still pending (as one begun before the contributions index existed would be).
#[test]
fn a_contributor_is_authorized_again_at_every_call() {
    let expires = T0 + 10 * SECOND;
    let mut s = contributor_uploading(Some(expires));
    let late = expires + 1;
    let [put, status, commit, abort] = contributor_calls(&mut s, late);
    assert_eq!(put, Err(VaultError::Expired));
    assert_eq!(status, Err(VaultError::Expired));
    assert_eq!(commit, Err(VaultError::Expired));
    assert_eq!(abort, Err(VaultError::Expired));

    let mut s = contributor_uploading(None);
    let owner = p(OWNER);
    s.grant(
        &owner,
        T0,
        GrantArgs {
            permission: Permission::View,
            ..contribute_grant(None)
        },
    )
    .unwrap();
    for got in contributor_calls(&mut s, T0) {
        assert_eq!(got, Err(VaultError::NotAuthorized));
    }
    // The owner can still see it and end it.
    let page = s.list_uploads(&owner, ListUploadsArgs::default()).unwrap();
    assert_eq!(page.uploads.len(), 1);
    s.abort_upload(&owner, T0, &id(0xc1)).unwrap();
    assert_eq!(s.vault_info(&owner).unwrap().reserved_bytes, 0);
}

/// A contributor has at most MAX_PENDING_CONTRIBUTIONS uploads going, reserving at most
/// MAX_CONTRIBUTION_RESERVED; the owner has no such bound.
#[test]
fn contributions_are_bounded_and_the_owner_is_not() {
    let mut s = contributor_uploading(None);
    let c = p(CONTRIBUTOR);
    for n in 1..MAX_PENDING_CONTRIBUTIONS as u8 {
        s.begin_upload(&c, T0, upload_args(0xc1 + n, Some(ALBUM), 10, 0))
            .unwrap();
    }
    let refused = s.begin_upload(&c, T0, upload_args(0xd0, Some(ALBUM), 10, 0));
    assert!(
        matches!(refused, Err(VaultError::Conflict { .. })),
        "{refused:?}"
    );
    // A finished upload makes way for the next.
    s.abort_upload(&c, T0, &id(0xc2)).unwrap();
    s.begin_upload(&c, T0, upload_args(0xd0, Some(ALBUM), 10, 0))
        .unwrap();

    let mut s = contributor_uploading(None);
    let too_big = upload_args(0xd1, Some(ALBUM), MAX_CONTRIBUTION_RESERVED, 0);
    assert!(matches!(
        s.begin_upload(&c, T0, too_big.clone()),
        Err(VaultError::QuotaExceeded { .. })
    ));
    s.begin_upload(&p(OWNER), T0, too_big).unwrap();
    for n in 0..=MAX_PENDING_CONTRIBUTIONS as u8 {
        s.begin_upload(&p(OWNER), T0, upload_args(0xe0 + n, Some(ALBUM), 10, 0))
            .unwrap();
    }
}

/// The owner lists every pending upload, page by page, and aborts any of them.
#[test]
fn the_owner_lists_pending_uploads_and_aborts_one() {
    let mut s = contributor_uploading(None);
    let owner = p(OWNER);
    for n in 0..3 {
        s.begin_upload(&owner, T0 + n, upload_args(0xe0 + n as u8, None, 10, 0))
            .unwrap();
    }
    let first = s
        .list_uploads(
            &owner,
            ListUploadsArgs {
                after: None,
                limit: Some(3),
            },
        )
        .unwrap();
    assert_eq!(first.uploads.len(), 3);
    let rest = s
        .list_uploads(
            &owner,
            ListUploadsArgs {
                after: first.next.clone(),
                limit: Some(3),
            },
        )
        .unwrap();
    assert_eq!(rest.next, None);
    let all: Vec<PendingUpload> = first.uploads.into_iter().chain(rest.uploads).collect();
    assert_eq!(all.len(), 4);
    let theirs = all.iter().find(|u| u.file_id == id(0xc1)).unwrap();
    assert_eq!(theirs.uploader, p(CONTRIBUTOR));
    assert_eq!(theirs.album, Some(id(ALBUM)));
    assert_eq!((theirs.chunk_count, theirs.missing_count), (3, 2));
    assert_eq!(theirs.expires_at, T0 + crate::model::UPLOAD_TTL_NS);
    let reserved: u64 = all.iter().map(|u| u.reserved_bytes).sum();
    assert_eq!(reserved, s.vault_info(&owner).unwrap().reserved_bytes);

    for who in [CONTRIBUTOR, 8] {
        assert_eq!(
            s.list_uploads(&p(who), ListUploadsArgs::default()),
            Err(VaultError::NotAuthorized)
        );
    }
    s.abort_upload(&owner, T0, &id(0xc1)).unwrap();
    assert_eq!(
        put(&mut s, &p(CONTRIBUTOR), T0, 1),
        Err(VaultError::NotAuthorized)
    );
    let left = s.list_uploads(&owner, ListUploadsArgs::default()).unwrap();
    assert_eq!(left.uploads.len(), 3);
    assert!(!left.uploads.iter().any(|u| u.file_id == id(0xc1)));
}
