//! Golden bytes: a change to a stable layout must fail here first.

use ic_stable_structures::Storable;

use super::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn golden<T: Storable + Clone + std::fmt::Debug + PartialEq>(value: T, expected_hex: &str) {
    let bytes = value.clone().into_bytes();
    assert_eq!(hex(&bytes), expected_hex, "layout of {value:?} changed");
    assert_eq!(T::from_bytes(bytes.into()), value);
}

fn sample_file() -> FileRecord {
    FileRecord {
        size: 5,
        chunk_count: 1,
        content_header: vec![1, 2],
        wrapped_key: vec![3],
        album: Some([7; 16]),
        key_version: 2,
        metadata: vec![4, 5],
        thumbnail_size: 9,
        dedupe_hash: None,
        sort_key: -1,
        created_at: 1000,
        uploader: vec![0x04],
        trashed_at: None,
        stored_bytes: 60,
        storage_id: 3,
    }
}

#[test]
fn file_record_layout() {
    golden(sample_file(), GOLDEN_FILE);
}

#[test]
fn upload_record_layout() {
    golden(
        UploadRecord {
            file: sample_file(),
            received: 1,
            last_activity: 2,
        },
        GOLDEN_UPLOAD,
    );
}

#[test]
fn chunk_location_layout() {
    golden(
        ChunkLocation {
            len: 4100,
            extents: vec![(0, 1), (5, 1)],
        },
        GOLDEN_CHUNK,
    );
}

#[test]
fn config_layout() {
    let config = Config {
        owner: vec![4],
        quota_bytes: 1 << 30,
        created_at: 7,
        files: 3,
        ..Default::default()
    };
    golden(config, GOLDEN_CONFIG);
}

/// `unrecorded` (field 12) was appended: a Config without it keeps its bytes (above), and one
/// with it appends the count, read back as written.
#[test]
fn config_counts_unrecorded_activity_in_an_appended_field() {
    let before = Config {
        owner: vec![4],
        quota_bytes: 1 << 30,
        created_at: 7,
        files: 3,
        ..Default::default()
    };
    let old_bytes = before.clone().into_bytes();
    assert_eq!(
        Config::from_bytes(old_bytes.clone().into()).unrecorded,
        None
    );
    let after = Config {
        unrecorded: Some(3),
        ..before
    };
    let new_bytes = after.clone().into_bytes();
    assert_eq!(Config::from_bytes(new_bytes.clone().into()), after);
    // The same array with one more element: 0x8c (12 fields) becomes 0x8d, then 03.
    assert_eq!(new_bytes[1], old_bytes[1] + 1);
    assert_eq!(new_bytes[2..new_bytes.len() - 1], old_bytes[2..]);
    assert_eq!(new_bytes.last(), Some(&3));
}

#[test]
fn link_record_layout() {
    let link = LinkRecord {
        target: [1; TARGET],
        key_version: 0,
        wrapped_key: vec![9],
        expires_at: Some(100),
        password_iterations: Some(600_000),
        password_verifier: Some([2; 32]),
        revoked_at: None,
        created_at: 5,
        opened: 0,
        label: None,
        earlier_keys: None,
    };
    golden(link, GOLDEN_LINK);
}

#[test]
fn album_grant_profile_reclaim_layouts() {
    golden(
        AlbumRecord {
            name: vec![1],
            key_version: 1,
            created_at: 2,
            file_count: 3,
        },
        GOLDEN_ALBUM,
    );
    golden(
        GrantRecord {
            permission: 1,
            expires_at: None,
            created_at: 2,
            grantee_key: None,
            authenticator: None,
        },
        GOLDEN_GRANT,
    );
    golden(
        GrantRecord {
            permission: 0,
            expires_at: Some(9),
            created_at: 2,
            grantee_key: Some([5; 32]),
            authenticator: None,
        },
        GOLDEN_GRANT_WITH_KEY,
    );
    golden(
        GrantRecord {
            permission: 0,
            expires_at: Some(9),
            created_at: 2,
            grantee_key: Some([5; 32]),
            authenticator: Some([7; 33]),
        },
        GOLDEN_GRANT_WITH_AUTHENTICATOR,
    );
    golden(
        ReclaimJob {
            storage_id: 3,
            next: 1,
            end: 4,
            thumbnail: true,
        },
        GOLDEN_RECLAIM,
    );
    golden(ProfileCell::default(), GOLDEN_PROFILE_EMPTY);
}

/// A grant written before grants kept the grantee's sharing key (a 3-field array) decodes with
/// none; a record without one still encodes to exactly those bytes (minicbor-derive omits a
/// trailing `None`), so records that are rewritten without a key do not change either.
#[test]
fn grant_records_without_a_sharing_key_decode_with_none() {
    let old = GrantRecord::from_bytes(hex_bytes(GOLDEN_GRANT).into());
    assert_eq!(
        old,
        GrantRecord {
            permission: 1,
            expires_at: None,
            created_at: 2,
            grantee_key: None,
            authenticator: None,
        }
    );
    // A view grant expiring an hour after it was made (times in ns).
    let t = 1_700_000_000_000_000_000;
    assert_eq!(
        GrantRecord::from_bytes(hex_bytes(GOLDEN_GRANT_OLD_EXPIRING).into()),
        GrantRecord {
            permission: 0,
            expires_at: Some(t + 3600 * 1_000_000_000),
            created_at: t,
            grantee_key: None,
            authenticator: None,
        }
    );
    assert_eq!(hex(&old.into_bytes()), GOLDEN_GRANT);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn listed_layout() {
    // A copy is the record's bytes; no copy is no bytes, which is what `()` wrote before.
    golden(Listed(Some(sample_file())), GOLDEN_FILE);
    golden(Listed(None), "");
    assert!(().into_bytes().is_empty());
}

#[test]
fn keys_order_as_listings_need() {
    assert!(ordered_i64(-5) < ordered_i64(0));
    assert!(ordered_i64(i64::MIN) < ordered_i64(i64::MAX));
    assert_eq!(from_ordered_i64(&ordered_i64(-42)), -42);
    let p = Principal::from_slice(&[1, 2, 3]);
    assert_eq!(slot_principal(&principal_slot(&p)), p);
    assert_eq!(
        slot_principal(&principal_slot(&Principal::anonymous())),
        Principal::anonymous()
    );
}

const GOLDEN_FILE: &str =
    "018f0501420102410350070707070707070707070707070707070242040509f6201903e84104f6183c03";
const GOLDEN_UPLOAD: &str =
    "01838f0501420102410350070707070707070707070707070707070242040509f6201903e84104f6183c030102";
const GOLDEN_CHUNK: &str = "018219100482820001820501";
const GOLDEN_CONFIG: &str = "018c41041a4000000007000003000000000000";
const GOLDEN_LINK: &str = "018951010101010101010101010101010101010100410918641a000927c058200202020202020202020202020202020202020202020202020202020202020202f60500";
const GOLDEN_ALBUM: &str = "01844101010203";
const GOLDEN_GRANT: &str = "018301f602";
const GOLDEN_GRANT_WITH_KEY: &str =
    "018400090258200505050505050505050505050505050505050505050505050505050505050505";
/// With the owner's authenticator (docs/FORMAT.md §8.4), appended after `grantee_key`.
const GOLDEN_GRANT_WITH_AUTHENTICATOR: &str = concat!(
    "0185000902",
    "58200505050505050505050505050505050505050505050505050505050505050505",
    "5821070707070707070707070707070707070707070707070707070707070707070707",
);
/// Written by the layout before `grantee_key` (as are GOLDEN_GRANT's bytes).
const GOLDEN_GRANT_OLD_EXPIRING: &str = "0183001b1797a04466e2a0001b17979cfe362a0000";
const GOLDEN_RECLAIM: &str = "0184030104f5";
const GOLDEN_PROFILE_EMPTY: &str = "0180";

/// A grant written before grants kept the owner's authenticator (GOLDEN_GRANT_WITH_KEY's bytes)
/// decodes with none, and re-encodes to the same bytes.
#[test]
fn grant_records_without_an_authenticator_decode_with_none() {
    let old = GrantRecord::from_bytes(hex_bytes(GOLDEN_GRANT_WITH_KEY).into());
    assert_eq!(old.grantee_key, Some([5; 32]));
    assert_eq!(old.authenticator, None);
    assert_eq!(hex(&old.into_bytes()), GOLDEN_GRANT_WITH_KEY);
}

/// A profile written before admission v2 (six fields, `0x86`) reads with no verifier versions
/// and no counter (so: version-1 verifiers, counter 0), and one without them still writes the
/// same six fields.
#[test]
fn profiles_from_before_admission_v2_read_as_version_1() {
    let old = ProfileRecord {
        passphrase_record: vec![1; 91],
        passphrase_verifier: vec![2; 32],
        recovery_wrapped_key: vec![3; 61],
        recovery_verifier: vec![4; 32],
        sharing_public_key: vec![5; 32],
        sharing_secret_wrapped: vec![6; 61],
        passphrase_verifier_version: None,
        recovery_verifier_version: None,
        admission_counter: None,
        master_generation: None,
        previous_masters: None,
        owner_signed_out: None,
        passkeys: None,
    };
    let bytes = old.to_bytes().into_owned();
    assert_eq!(&bytes[..2], &[1, 0x86], "layout 1, a 6-field array");
    assert_eq!(ProfileRecord::from_bytes(bytes.into()), old);
    let new = ProfileRecord {
        passphrase_verifier_version: Some(2),
        recovery_verifier_version: Some(2),
        admission_counter: Some(7),
        ..old
    };
    let bytes = new.to_bytes().into_owned();
    assert_eq!(&bytes[..2], &[1, 0x89]);
    assert_eq!(ProfileRecord::from_bytes(bytes.into()), new.clone());
    // A rotated master key (issue 16 finding 10d) appends the generation, the chain and the
    // install owner's sign-out; a profile from before reads them as absent (generation 0).
    let rotated = ProfileRecord {
        master_generation: Some(1),
        previous_masters: Some(vec![vec![8; 61].into()]),
        owner_signed_out: Some(true),
        ..new
    };
    let bytes = rotated.to_bytes().into_owned();
    assert_eq!(&bytes[..2], &[1, 0x8c]);
    assert_eq!(ProfileRecord::from_bytes(bytes.into()), rotated);
    // Passkeys (issue 18) append a thirteenth field; a profile without them writes twelve.
    let with_passkey = ProfileRecord {
        passkeys: Some(vec![PasskeyRecord {
            credential_id: vec![9; 16],
            public_key: vec![10; 96],
            unlock: Some(vec![11; 61].into()),
        }]),
        ..rotated
    };
    let bytes = with_passkey.to_bytes().into_owned();
    assert_eq!(&bytes[..2], &[1, 0x8d]);
    assert_eq!(ProfileRecord::from_bytes(bytes.into()), with_passkey);
}
