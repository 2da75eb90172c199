//! The key hierarchy's behaviour and refusals: wrapping, passphrase, recovery, sharing, links,
//! metadata, dedupe, and that no secret prints.

mod common;

use common::seeded;
use vault_crypto::*;

#[test]
fn master_wraps_album_wraps_file() {
    let mut rng = seeded(1);
    let master = MasterKey::generate(&mut rng);
    let album = AlbumKey::generate(&mut rng);
    let file = FileKey::generate(&mut rng);
    let album_id = AlbumKeyId {
        album: AlbumId::generate(&mut rng),
        version: 0,
    };
    let file_id = FileId::generate(&mut rng);

    let wrapped_album = master.wrap_key(&album, &album_id, &mut rng);
    let wrapped_file = album.wrap_key(&file, &file_id, &mut rng);
    assert_eq!(wrapped_album.as_bytes().len(), WRAPPED_KEY_SIZE);

    let album2: AlbumKey = master.unwrap_key(&wrapped_album, &album_id).unwrap();
    let file2: FileKey = album2.unwrap_key(&wrapped_file, &file_id).unwrap();
    assert_eq!(file2.expose_secret(), file.expose_secret());
}

#[test]
fn file_key_cannot_be_unwrapped_as_album_key() {
    let mut rng = seeded(2);
    let master = MasterKey::generate(&mut rng);
    let file_id = FileId::generate(&mut rng);
    let wrapped = master.wrap_key(&FileKey::generate(&mut rng), &file_id, &mut rng);
    // Same 16 id bytes, read as an album id at version 0: still refused (the kind differs).
    let as_album = AlbumKeyId {
        album: AlbumId(file_id.0),
        version: 0,
    };
    assert_eq!(
        master
            .unwrap_key::<AlbumKey>(&wrapped, &as_album)
            .unwrap_err(),
        DecryptError::DecryptionFailed
    );
}

#[test]
fn file_key_cannot_be_moved_to_another_file() {
    let mut rng = seeded(3);
    let album = AlbumKey::generate(&mut rng);
    let wrapped = album.wrap_key(
        &FileKey::generate(&mut rng),
        &FileId::generate(&mut rng),
        &mut rng,
    );
    let other = FileId::generate(&mut rng);
    assert_eq!(
        album.unwrap_key::<FileKey>(&wrapped, &other).unwrap_err(),
        DecryptError::DecryptionFailed
    );
}

#[test]
fn album_key_is_bound_to_its_version() {
    let mut rng = seeded(4);
    let master = MasterKey::generate(&mut rng);
    let album = AlbumId::generate(&mut rng);
    let wrapped = master.wrap_key(
        &AlbumKey::generate(&mut rng),
        &AlbumKeyId { album, version: 1 },
        &mut rng,
    );
    assert!(
        master
            .unwrap_key::<AlbumKey>(&wrapped, &AlbumKeyId { album, version: 2 })
            .is_err()
    );
    assert!(
        master
            .unwrap_key::<AlbumKey>(&wrapped, &AlbumKeyId { album, version: 1 })
            .is_ok()
    );
}

#[test]
fn wrapped_key_refuses_wrong_kek_flipped_bit_and_bad_layout() {
    let mut rng = seeded(5);
    let master = MasterKey::generate(&mut rng);
    let id = FileId::generate(&mut rng);
    let wrapped = master.wrap_key(&FileKey::generate(&mut rng), &id, &mut rng);
    let stranger = MasterKey::generate(&mut rng);
    assert!(stranger.unwrap_key::<FileKey>(&wrapped, &id).is_err());
    for at in [1, 20, WRAPPED_KEY_SIZE - 1] {
        let mut bytes = wrapped.as_bytes().to_vec();
        bytes[at] ^= 0x80;
        let tampered = WrappedKey::from_bytes(&bytes).unwrap();
        assert!(
            master.unwrap_key::<FileKey>(&tampered, &id).is_err(),
            "flip at {at}"
        );
    }
    let mut v9 = wrapped.as_bytes().to_vec();
    v9[0] = 9;
    assert_eq!(
        WrappedKey::from_bytes(&v9).unwrap_err(),
        DecryptError::UnsupportedVersion(9)
    );
    assert!(matches!(
        WrappedKey::from_bytes(&wrapped.as_bytes()[..60]),
        Err(DecryptError::WrongLength { .. })
    ));
    // FORMAT.md §1: the version byte is judged before the size.
    assert_eq!(
        WrappedKey::from_bytes(&v9[..60]).unwrap_err(),
        DecryptError::UnsupportedVersion(9)
    );
}

/// FORMAT.md §1: every reader of a binary structure judges the version byte, then the size;
/// empty input (no version byte) is the wrong size.
#[test]
fn version_byte_is_judged_before_size_in_every_structure() {
    fn wrong_length<T: core::fmt::Debug>(r: Result<T, DecryptError>) -> bool {
        matches!(r, Err(DecryptError::WrongLength { .. }))
    }
    fn unlock_wrong_length<T: core::fmt::Debug>(r: Result<T, UnlockError>) -> bool {
        matches!(
            r,
            Err(UnlockError::Malformed(DecryptError::WrongLength { .. }))
        )
    }
    let v2 = |len: usize| {
        let mut b = vec![0u8; len];
        if len > 0 {
            b[0] = 2;
        }
        b
    };
    let v1 = |len: usize| {
        let mut b = vec![0u8; len];
        if len > 0 {
            b[0] = 1;
        }
        b
    };
    let unsupported = Err::<(), _>(DecryptError::UnsupportedVersion(2));
    for len in [1, 16, 18] {
        assert_eq!(StreamHeader::from_bytes(&v2(len)).map(drop), unsupported);
        assert!(
            wrong_length(StreamHeader::from_bytes(&v1(len))),
            "header of {len}"
        );
    }
    for len in [1, 60, 62] {
        assert_eq!(WrappedKey::from_bytes(&v2(len)).map(drop), unsupported);
        assert!(
            wrong_length(WrappedKey::from_bytes(&v1(len))),
            "wrapped of {len}"
        );
    }
    for len in [1, 80, 82] {
        assert_eq!(SealedKey::from_bytes(&v2(len)).map(drop), unsupported);
        assert!(
            wrong_length(SealedKey::from_bytes(&v1(len))),
            "sealed of {len}"
        );
    }
    for len in [1, 29, 31, 91] {
        assert_eq!(
            UnlockParams::from_bytes(&v2(len)).map(drop),
            Err(UnlockError::Malformed(DecryptError::UnsupportedVersion(2)))
        );
        assert!(unlock_wrong_length(UnlockParams::from_bytes(&v1(len))));
    }
    for len in [1, 30, 90, 92] {
        assert_eq!(
            PassphraseWrappedKey::from_bytes(&v2(len)).map(drop),
            Err(UnlockError::Malformed(DecryptError::UnsupportedVersion(2)))
        );
        assert!(unlock_wrong_length(PassphraseWrappedKey::from_bytes(&v1(
            len
        ))));
    }
    let key = FileKey::from_bytes([7; 32]);
    assert_eq!(
        open_blob(&key, StreamKind::Metadata, &v2(5)).map(drop),
        unsupported
    );
    assert!(wrong_length(open_blob(&key, StreamKind::Metadata, &v1(5))));
    // Empty input has no version byte: it is the wrong size, whatever the structure.
    assert!(wrong_length(StreamHeader::from_bytes(&[])));
    assert!(wrong_length(WrappedKey::from_bytes(&[])));
    assert!(wrong_length(SealedKey::from_bytes(&[])));
    assert!(wrong_length(open_blob(&key, StreamKind::Metadata, &[])));
    assert!(unlock_wrong_length(UnlockParams::from_bytes(&[])));
    assert!(unlock_wrong_length(PassphraseWrappedKey::from_bytes(&[])));
}

#[test]
fn passphrase_unlocks_and_wrong_passphrase_is_refused() {
    let mut rng = seeded(6);
    let master = MasterKey::generate(&mut rng);
    let (record, verifier) = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "correct horse",
        KdfParams::MINIMUM,
        &mut rng,
    );
    let bytes = record.to_bytes();
    assert_eq!(bytes.len(), PASSPHRASE_WRAPPED_KEY_SIZE);
    let read = PassphraseWrappedKey::from_bytes(&bytes).unwrap();
    assert_eq!(
        read.unwrap("correct horse", MasterGeneration::default())
            .unwrap()
            .expose_secret(),
        master.expose_secret()
    );
    assert_eq!(
        read.unwrap("correct horse!", MasterGeneration::default())
            .unwrap_err(),
        UnlockError::WrongSecret
    );

    // A new device: only the public unlock params, then the proof, then the record.
    let params = UnlockParams::from_bytes(&bytes[..UNLOCK_PARAMS_SIZE]).unwrap();
    let kek = params.derive("correct horse");
    let challenge = AdmissionChallenge {
        canister: &[0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
        caller: &[7; 29],
        counter: 3,
    };
    let proof = kek.admission_key().prove(&challenge).unwrap();
    assert_eq!(kek.admission_key().verifier(), verifier);
    assert!(verifier.verify(AdmissionMethod::Passphrase, &challenge, &proof.0));
    let wrong = params.derive("correct horse!").admission_key();
    assert!(!verifier.verify(
        AdmissionMethod::Passphrase,
        &challenge,
        &wrong.prove(&challenge).unwrap().0
    ));
    assert_eq!(
        kek.unwrap_master(&read, MasterGeneration::default())
            .unwrap()
            .expose_secret(),
        master.expose_secret()
    );
}

#[test]
fn admission_proof_is_bound_to_caller_canister_counter_and_method() {
    let mut rng = seeded(24);
    let kek = PassphraseKek::generate(&mut rng);
    let key = kek.admission_key();
    let verifier = AdmissionVerifier::from_bytes(&key.verifier().0).unwrap();
    let challenge = AdmissionChallenge {
        canister: &[1, 2, 3],
        caller: &[4; 29],
        counter: 9,
    };
    let proof = key.prove(&challenge).unwrap();
    let passphrase = AdmissionMethod::Passphrase;
    assert!(verifier.verify(passphrase, &challenge, &proof.0));
    // Another caller, canister or counter, or the other method: refused.
    for other in [
        AdmissionChallenge {
            caller: &[5; 29],
            ..challenge
        },
        AdmissionChallenge {
            canister: &[1, 2, 4],
            ..challenge
        },
        AdmissionChallenge {
            counter: 10,
            ..challenge
        },
    ] {
        assert!(!verifier.verify(passphrase, &other, &proof.0));
    }
    assert!(!verifier.verify(AdmissionMethod::Recovery, &challenge, &proof.0));
    assert!(!verifier.verify(passphrase, &challenge, &proof.0[..63]));
    // A principal over 29 bytes names no challenge.
    let long = AdmissionChallenge {
        caller: &[4; 30],
        ..challenge
    };
    assert!(key.prove(&long).is_none());
    assert!(!verifier.verify(passphrase, &long, &proof.0));
    // The recovery key's admission key differs from the passphrase one of the same bytes.
    let recovery = RecoveryKey::from_bytes(*kek.expose_secret());
    assert_ne!(recovery.admission_key().verifier(), key.verifier());
    // A verifier must be a valid point of large order.
    assert!(AdmissionVerifier::from_bytes(&[0; 32]).is_none());
    assert!(AdmissionVerifier::from_bytes(&[1; 31]).is_none());
}

#[test]
fn recovery_key_has_its_own_unlock_proof() {
    let mut rng = seeded(23);
    let recovery = RecoveryKey::generate(&mut rng);
    let verifier = recovery.unlock_proof().verifier();
    assert!(
        RecoveryKey::from_words(&recovery.to_words())
            .unwrap()
            .unlock_proof()
            .matches(&verifier)
    );
    assert!(
        !RecoveryKey::generate(&mut rng)
            .unlock_proof()
            .matches(&verifier)
    );
    // The passphrase and recovery proofs of the same 32 bytes differ (domain separation).
    let kek = PassphraseKek::from_bytes(*recovery.expose_secret());
    assert_ne!(kek.unlock_proof().verifier(), verifier);
}

#[test]
fn passphrase_is_unicode_normalized() {
    let mut rng = seeded(7);
    let master = MasterKey::generate(&mut rng);
    let (record, _) = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "caf\u{e9}",
        KdfParams::MINIMUM,
        &mut rng,
    );
    // The same word typed with a combining accent (as macOS keyboards may produce it).
    assert!(
        record
            .unwrap("cafe\u{301}", MasterGeneration::default())
            .is_ok()
    );
}

#[test]
fn kdf_params_enforce_floor_and_ceilings() {
    assert!(matches!(
        KdfParams::new(8 * 1024, 3, 1),
        Err(KdfParamsError::TooWeak { .. })
    ));
    assert!(matches!(
        KdfParams::new(19 * 1024, 1, 1),
        Err(KdfParamsError::TooWeak { .. })
    ));
    assert!(KdfParams::new(19 * 1024, 2, 1).is_ok());
    assert!(matches!(
        KdfParams::new(8 * 1024 * 1024, 3, 1),
        Err(KdfParamsError::TooCostly { .. })
    ));
    // A stored record below the floor is refused as a new one is: a node answering the unlock
    // params query cannot make a device derive a cheap key.
    let mut rng = seeded(8);
    let master = MasterKey::generate(&mut rng);
    let mut weak = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "x",
        KdfParams::MINIMUM,
        &mut rng,
    )
    .0
    .to_bytes();
    weak[2..6].copy_from_slice(&8u32.to_be_bytes());
    weak[6..10].copy_from_slice(&1u32.to_be_bytes());
    assert!(matches!(
        PassphraseWrappedKey::from_bytes(&weak),
        Err(UnlockError::Params(KdfParamsError::TooWeak { .. }))
    ));
    assert!(matches!(
        UnlockParams::from_bytes(&weak[..UNLOCK_PARAMS_SIZE]),
        Err(UnlockError::Params(KdfParamsError::TooWeak { .. }))
    ));
    // A stored record asking for 8 GiB is refused before any work is done.
    let mut bytes = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "x",
        KdfParams::MINIMUM,
        &mut rng,
    )
    .0
    .to_bytes();
    bytes[2..6].copy_from_slice(&(8u32 * 1024 * 1024).to_be_bytes());
    assert!(matches!(
        PassphraseWrappedKey::from_bytes(&bytes),
        Err(UnlockError::Params(KdfParamsError::TooCostly { .. }))
    ));
    bytes[1] = 7;
    assert_eq!(
        PassphraseWrappedKey::from_bytes(&bytes).unwrap_err(),
        UnlockError::Params(KdfParamsError::UnknownKdf(7))
    );
    assert!(matches!(
        PassphraseWrappedKey::from_bytes(&bytes[..40]),
        Err(UnlockError::Malformed(_))
    ));
    assert!(
        KdfParams::new(
            KdfParams::DEFAULT.memory_kib(),
            KdfParams::DEFAULT.iterations(),
            1
        )
        .is_ok()
    );
    assert!(
        KdfParams::new(
            KdfParams::LOW_MEMORY.memory_kib(),
            KdfParams::LOW_MEMORY.iterations(),
            1
        )
        .is_ok()
    );
}

#[test]
fn recovery_words_round_trip_and_unlock() {
    let mut rng = seeded(9);
    let master = MasterKey::generate(&mut rng);
    let recovery = RecoveryKey::generate(&mut rng);
    let wrapped = recovery.wrap_master(&master, MasterGeneration::default(), &mut rng);
    let words = recovery.to_words();
    assert_eq!(words.split(' ').count(), 24);
    let typed = format!("  {}\n", words.to_uppercase().replace(' ', "   "));
    let again = RecoveryKey::from_words(&typed).unwrap();
    assert_eq!(
        again
            .unwrap_master(&wrapped, MasterGeneration::default())
            .unwrap()
            .expose_secret(),
        master.expose_secret()
    );
    let other = RecoveryKey::generate(&mut rng);
    assert_eq!(
        other
            .unwrap_master(&wrapped, MasterGeneration::default())
            .unwrap_err(),
        UnlockError::WrongSecret
    );
}

/// Issue 16 finding 10d: after a rotation of the master key, every wrapping of it names its
/// generation, so a wrapping of an older key served again (by one node answering `profile`)
/// does not open as the current one, nor a newer one as an older; the chain of earlier keys
/// opens only link by link.
#[test]
fn master_key_wrappings_are_bound_to_their_generation() {
    let mut rng = seeded(21);
    let old = MasterKey::generate(&mut rng);
    let new = MasterKey::generate(&mut rng);
    let (g0, g1, g2) = (
        MasterGeneration(0),
        MasterGeneration(1),
        MasterGeneration(2),
    );
    let (stale, _) = PassphraseWrappedKey::wrap(&old, g0, "pw", KdfParams::MINIMUM, &mut rng);
    let kek = stale.unlock_params().derive("pw");
    let current = kek.wrap_master(&stale.unlock_params(), &new, g1, &mut rng);
    assert_eq!(
        kek.unwrap_master(&current, g1).unwrap().expose_secret(),
        new.expose_secret()
    );
    assert_eq!(
        kek.unwrap_master(&stale, g1).unwrap_err(),
        UnlockError::WrongSecret,
        "an old record served again does not open as the current generation"
    );
    assert_eq!(
        kek.unwrap_master(&current, g0).unwrap_err(),
        UnlockError::WrongSecret
    );
    assert_eq!(
        kek.unwrap_master(&current, g2).unwrap_err(),
        UnlockError::WrongSecret
    );

    let recovery = RecoveryKey::generate(&mut rng);
    let by_recovery = recovery.wrap_master(&new, g1, &mut rng);
    assert!(recovery.unwrap_master(&by_recovery, g1).is_ok());
    assert_eq!(
        recovery.unwrap_master(&by_recovery, g0).unwrap_err(),
        UnlockError::WrongSecret
    );

    let chain = new.wrap_key(&old, &g0, &mut rng);
    let opened: MasterKey = new.unwrap_key(&chain, &g0).unwrap();
    assert_eq!(opened.expose_secret(), old.expose_secret());
    assert!(new.unwrap_key::<MasterKey>(&chain, &g1).is_err());
    assert!(
        old.unwrap_key::<MasterKey>(&chain, &g0).is_err(),
        "the old key does not open the new one"
    );
    // Kinds stay apart: the chain's wrapping is not an album or file key.
    assert!(new.unwrap_key::<FileKey>(&chain, &FileId([0; 16])).is_err());
}

#[test]
fn recovery_words_with_a_typo_are_refused() {
    let mut rng = seeded(10);
    let words = RecoveryKey::generate(&mut rng).to_words();
    let mut list: Vec<&str> = words.split(' ').collect();
    list[3] = if list[3] == "abandon" {
        "ability"
    } else {
        "abandon"
    };
    assert!(
        RecoveryKey::from_words(&list.join(" ")).is_err(),
        "checksum catches a swapped word"
    );
    assert!(RecoveryKey::from_words("not valid words").is_err());
    // 12 valid words are a valid mnemonic but not a 256-bit recovery key.
    let twelve = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    assert!(matches!(
        RecoveryKey::from_words(twelve),
        Err(RecoveryKeyError::Invalid(_))
    ));
}

#[test]
fn sealed_key_opens_only_for_its_recipient_and_target() {
    let mut rng = seeded(11);
    let bob = SharingKeyPair::generate(&mut rng);
    let album_key = AlbumKey::generate(&mut rng);
    let target = AlbumKeyId {
        album: AlbumId::generate(&mut rng),
        version: 3,
    };
    let bob_principal = b"bob-principal-bytes";
    let sealed = bob
        .public
        .seal_key(&album_key, bob_principal, &target, &mut rng)
        .unwrap();
    assert_eq!(sealed.as_bytes().len(), SEALED_KEY_SIZE);

    let opened: AlbumKey = bob
        .secret
        .open_key(&sealed, bob_principal, &target)
        .unwrap();
    assert_eq!(opened.expose_secret(), album_key.expose_secret());

    let carol = SharingKeyPair::generate(&mut rng);
    assert!(
        carol
            .secret
            .open_key::<AlbumKey>(&sealed, bob_principal, &target)
            .is_err(),
        "other secret key"
    );
    assert!(
        bob.secret
            .open_key::<AlbumKey>(&sealed, b"carol", &target)
            .is_err(),
        "other recipient"
    );
    let other_version = AlbumKeyId {
        version: 4,
        ..target
    };
    assert!(
        bob.secret
            .open_key::<AlbumKey>(&sealed, bob_principal, &other_version)
            .is_err(),
        "other target"
    );
    assert!(
        bob.secret
            .open_key::<FileKey>(&sealed, bob_principal, &FileId(target.album.0))
            .is_err(),
        "other kind"
    );
    let mut tampered = sealed.as_bytes().to_vec();
    tampered[40] ^= 1;
    let tampered = SealedKey::from_bytes(&tampered).unwrap();
    assert!(
        bob.secret
            .open_key::<AlbumKey>(&tampered, bob_principal, &target)
            .is_err(),
        "flipped bit"
    );
}

#[test]
fn sealing_to_a_low_order_public_key_is_refused() {
    let mut rng = seeded(12);
    let zero = SharingPublicKey::from_bytes(&[0u8; 32]).unwrap();
    let id = FileId::generate(&mut rng);
    assert!(
        zero.seal_key(&FileKey::generate(&mut rng), b"p", &id, &mut rng)
            .is_err()
    );
}

#[test]
fn sharing_secret_key_is_bound_to_its_public_key() {
    let mut rng = seeded(13);
    let master = MasterKey::generate(&mut rng);
    let pair = SharingKeyPair::generate(&mut rng);
    let wrapped = master.wrap_key(&pair.secret, &pair.public, &mut rng);
    let back: SharingSecretKey = master.unwrap_key(&wrapped, &pair.public).unwrap();
    assert_eq!(back.public_key(), pair.public);
    let other = SharingKeyPair::generate(&mut rng).public;
    assert!(
        master
            .unwrap_key::<SharingSecretKey>(&wrapped, &other)
            .is_err()
    );
}

#[test]
fn share_code_round_trips_and_catches_typos() {
    let mut rng = seeded(14);
    let pair = SharingKeyPair::generate(&mut rng);
    let principal = [7u8; 29];
    let code = ShareCode::new(&principal, pair.public).unwrap();
    let text = code.to_text();
    assert!(text.starts_with("vs1-"), "{text}");
    assert_eq!(ShareCode::parse(&text).unwrap(), code);
    assert_eq!(
        ShareCode::parse(&format!(" {} ", text.to_uppercase().replace('-', " "))).unwrap(),
        code
    );

    let mut typo: Vec<char> = text.chars().collect();
    let at = typo.len() / 2;
    typo[at] = if typo[at] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    assert_eq!(
        ShareCode::parse(&typo).unwrap_err(),
        ShareCodeError::BadChecksum
    );
    assert_eq!(
        ShareCode::parse(&text[..text.len() - 5]).unwrap_err(),
        ShareCodeError::BadChecksum
    );
    assert_eq!(
        ShareCode::parse("hello").unwrap_err(),
        ShareCodeError::WrongPrefix
    );
    assert_eq!(
        ShareCode::parse("vs1-!!!").unwrap_err(),
        ShareCodeError::NotBase32
    );
    assert!(ShareCode::new(&[0u8; 30], pair.public).is_err());
}

#[test]
fn fingerprint_is_six_words_and_depends_on_the_key() {
    let mut rng = seeded(15);
    let a = SharingKeyPair::generate(&mut rng).public;
    let b = SharingKeyPair::generate(&mut rng).public;
    let fa = fingerprint_words(&a);
    assert_eq!(fa.split(' ').count(), 6);
    assert_eq!(fa, fingerprint_words(&a));
    assert_ne!(fa, fingerprint_words(&b));
}

#[test]
fn link_round_trip_without_password() {
    let mut rng = seeded(16);
    let secret = LinkSecret::generate(&mut rng);
    let fragment = secret.to_fragment();
    assert_eq!(fragment.len(), 48);
    let back = LinkSecret::from_fragment(&format!("#{}", fragment.as_str())).unwrap();
    // One leading `#` only (FORMAT.md §9.1).
    assert!(LinkSecret::from_fragment(&format!("##{}", fragment.as_str())).is_err());
    assert!(back.token().matches(&secret.token().hash()));
    let file_key = FileKey::generate(&mut rng);
    let id = FileId::generate(&mut rng);
    let wrapped = secret.link_key(None).wrap_key(&file_key, &id, &mut rng);
    let opened: FileKey = back.link_key(None).unwrap_key(&wrapped, &id).unwrap();
    assert_eq!(opened.expose_secret(), file_key.expose_secret());
}

#[test]
fn link_password_is_needed_for_the_key_and_the_proof() {
    let mut rng = seeded(17);
    let secret = LinkSecret::generate(&mut rng);
    let pw = LinkPassword::derive(&secret, "hunter2", MIN_LINK_PBKDF2_ITERATIONS).unwrap();
    let verifier = pw.proof().verifier();
    let album = AlbumKey::generate(&mut rng);
    let id = AlbumKeyId {
        album: AlbumId::generate(&mut rng),
        version: 0,
    };
    let wrapped = secret.link_key(Some(&pw)).wrap_key(&album, &id, &mut rng);

    let wrong = LinkPassword::derive(&secret, "hunter3", MIN_LINK_PBKDF2_ITERATIONS).unwrap();
    assert!(!wrong.proof().matches(&verifier));
    assert!(pw.proof().matches(&verifier));
    assert!(
        secret
            .link_key(Some(&wrong))
            .unwrap_key::<AlbumKey>(&wrapped, &id)
            .is_err()
    );
    assert!(
        secret
            .link_key(None)
            .unwrap_key::<AlbumKey>(&wrapped, &id)
            .is_err(),
        "bare URL is not enough"
    );
    assert!(
        secret
            .link_key(Some(&pw))
            .unwrap_key::<AlbumKey>(&wrapped, &id)
            .is_ok()
    );
    // The same password on another link stretches to another key (salted by the secret).
    let other = LinkSecret::generate(&mut rng);
    let pw_other = LinkPassword::derive(&other, "hunter2", MIN_LINK_PBKDF2_ITERATIONS).unwrap();
    assert!(!pw_other.proof().matches(&verifier));
}

#[test]
fn link_iterations_are_bounded() {
    let mut rng = seeded(18);
    let secret = LinkSecret::generate(&mut rng);
    assert_eq!(
        LinkPassword::derive(&secret, "x", 1000).unwrap_err(),
        LinkError::BadIterations(1000)
    );
    assert!(LinkPassword::derive(&secret, "x", u32::MAX).is_err());
}

#[test]
fn damaged_link_fragment_is_refused() {
    let mut rng = seeded(19);
    let fragment = LinkSecret::generate(&mut rng).to_fragment();
    let mut chars: Vec<char> = fragment.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    let damaged: String = chars.into_iter().collect();
    assert_eq!(
        LinkSecret::from_fragment(&damaged).unwrap_err(),
        LinkError::DamagedFragment
    );
    assert_eq!(
        LinkSecret::from_fragment(&fragment[..40]).unwrap_err(),
        LinkError::DamagedFragment
    );
    assert_eq!(
        LinkSecret::from_fragment("not/base64!").unwrap_err(),
        LinkError::DamagedFragment
    );
}

fn sample_metadata() -> FileMetadata {
    FileMetadata {
        name: "IMG_0001.JPG".into(),
        mime: "image/jpeg".into(),
        size: 4_718_592,
        content_sha256: [0xab; 32],
        taken_at: Some(1_700_000_000_123),
        taken_offset_min: Some(-300),
        modified_at: Some(1_700_000_100_000),
        width: Some(6000),
        height: Some(4000),
        orientation: Some(6),
        gps: Some(GpsPosition {
            latitude: 46.5197,
            longitude: 6.6323,
            altitude: Some(372.5),
        }),
        camera_make: Some("SONY".into()),
        camera_model: Some("ILCE-6000".into()),
        duration_ms: None,
        name_bytes: None,
    }
}

#[test]
fn metadata_round_trips_sealed() {
    let mut rng = seeded(20);
    let key = FileKey::generate(&mut rng);
    let m = sample_metadata();
    let blob = m.seal(&key, &mut rng);
    assert_eq!(FileMetadata::open(&key, &blob).unwrap(), m);
    let minimal = FileMetadata {
        name: "a".into(),
        mime: "text/plain".into(),
        ..Default::default()
    };
    assert_eq!(
        FileMetadata::from_cbor(&minimal.to_cbor()).unwrap(),
        minimal
    );
    assert!(matches!(
        FileMetadata::open(&FileKey::generate(&mut rng), &blob),
        Err(MetadataError::Decrypt(_))
    ));
}

#[test]
fn metadata_refuses_bad_records() {
    let good = sample_metadata().to_cbor();
    // Trailing bytes, truncation, garbage.
    assert!(FileMetadata::from_cbor(&[good.as_slice(), &[0]].concat()).is_err());
    assert!(FileMetadata::from_cbor(&good[..good.len() - 1]).is_err());
    assert!(FileMetadata::from_cbor(b"\xff\x00").is_err());
    // Version 2: {0: 2, 1: "a", 2: "b", 3: 0, 4: h'00..'}
    let mut v2 = vec![
        0xa5, 0x00, 0x02, 0x01, 0x61, b'a', 0x02, 0x61, b'b', 0x03, 0x00, 0x04, 0x58, 32,
    ];
    v2.extend_from_slice(&[0u8; 32]);
    assert_eq!(
        FileMetadata::from_cbor(&v2).unwrap_err(),
        MetadataError::UnsupportedVersion(2)
    );
    // The same record at version 1 reads; and a duplicate key is refused.
    let mut v1 = v2.clone();
    v1[2] = 0x01;
    assert!(FileMetadata::from_cbor(&v1).is_ok());
    let mut dup = v1.clone();
    dup[0] = 0xa6;
    dup.extend_from_slice(&[0x01, 0x61, b'c']);
    assert!(matches!(
        FileMetadata::from_cbor(&dup),
        Err(MetadataError::Malformed(_))
    ));
    // Orientation out of range.
    let mut bad = v1.clone();
    bad[0] = 0xa6;
    bad.extend_from_slice(&[0x0a, 0x09]);
    assert!(matches!(
        FileMetadata::from_cbor(&bad),
        Err(MetadataError::Malformed(_))
    ));
}

#[test]
fn metadata_refuses_impossible_gps() {
    for gps in [
        GpsPosition {
            latitude: 91.0,
            longitude: 0.0,
            altitude: None,
        },
        GpsPosition {
            latitude: 0.0,
            longitude: -180.5,
            altitude: None,
        },
        GpsPosition {
            latitude: f64::NAN,
            longitude: 0.0,
            altitude: None,
        },
        GpsPosition {
            latitude: 0.0,
            longitude: 0.0,
            altitude: Some(f64::INFINITY),
        },
    ] {
        let m = FileMetadata {
            name: "a".into(),
            mime: "b".into(),
            gps: Some(gps),
            ..Default::default()
        };
        assert!(
            matches!(
                FileMetadata::from_cbor(&m.to_cbor()),
                Err(MetadataError::Malformed(_))
            ),
            "{gps:?}"
        );
    }
}

#[test]
fn metadata_accepts_any_float_width() {
    // {0: 1, 1: "a", 2: "b", 3: 0, 4: h'00*32', 11: [1.5 as float16, -2.25 as float32]}
    let mut bytes = vec![
        0xa6, 0x00, 0x01, 0x01, 0x61, b'a', 0x02, 0x61, b'b', 0x03, 0x00, 0x04, 0x58, 32,
    ];
    bytes.extend_from_slice(&[0u8; 32]);
    bytes.extend_from_slice(&[0x0b, 0x82, 0xf9, 0x3e, 0x00, 0xfa, 0xc0, 0x10, 0x00, 0x00]);
    let gps = FileMetadata::from_cbor(&bytes).unwrap().gps.unwrap();
    assert_eq!((gps.latitude, gps.longitude), (1.5, -2.25));
}

#[test]
fn metadata_skips_unknown_keys() {
    let mut bytes = vec![
        0xa6, 0x00, 0x01, 0x01, 0x61, b'a', 0x02, 0x61, b'b', 0x03, 0x00, 0x04, 0x58, 32,
    ];
    bytes.extend_from_slice(&[0u8; 32]);
    // key 99: {"x": [1, 2]}
    bytes.extend_from_slice(&[0x18, 99, 0xa1, 0x61, b'x', 0x82, 0x01, 0x02]);
    let m = FileMetadata::from_cbor(&bytes).unwrap();
    assert_eq!(m.name, "a");
}

#[test]
fn dedupe_hash_is_keyed_and_streams() {
    let mut rng = seeded(21);
    let master = MasterKey::generate(&mut rng);
    let key = DedupeKey::derive(&master);
    let content = vec![42u8; 100_000];
    let mut hasher = key.hasher();
    for piece in content.chunks(7777) {
        hasher.update(piece);
    }
    assert_eq!(hasher.finish(), key.hash(&content));
    let other = DedupeKey::derive(&MasterKey::generate(&mut rng));
    assert_ne!(
        other.hash(&content),
        key.hash(&content),
        "another user's hash reveals nothing shared"
    );
}

#[test]
fn secrets_never_print() {
    let mut rng = seeded(22);
    let master = MasterKey::generate(&mut rng);
    let hex: String = master
        .expose_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let pair = SharingKeyPair::generate(&mut rng);
    let printed = [
        format!("{master:?}"),
        format!("{:?}", AlbumKey::generate(&mut rng)),
        format!("{:?}", FileKey::generate(&mut rng)),
        format!("{:?}", RecoveryKey::generate(&mut rng)),
        format!("{:?}", LinkSecret::generate(&mut rng)),
        format!("{:?}", pair.secret),
        format!("{pair:?}"),
        format!("{:?}", DedupeKey::derive(&master)),
        format!(
            "{:?}",
            PassphraseWrappedKey::wrap(
                &master,
                MasterGeneration::default(),
                "pw",
                KdfParams::MINIMUM,
                &mut rng
            )
            .0
        ),
        format!("{:?}", PassphraseKek::from_bytes(*master.expose_secret())),
        format!("{:?}", RecoveryKey::generate(&mut rng).unlock_proof()),
        format!("{:?}", RecoveryKey::generate(&mut rng).admission_key()),
    ];
    for p in &printed {
        assert!(!p.contains(&hex), "{p}");
        assert!(
            p.contains("redacted") || p.contains("params") || p.contains("public"),
            "{p}"
        );
    }
    assert_eq!(printed[0], "MasterKey(<redacted>)");
}

#[test]
fn case_folding_is_ascii_only() {
    let mut rng = seeded(24);
    let words = RecoveryKey::generate(&mut rng).to_words();
    // U+212A KELVIN SIGN lowercases to 'k' under Unicode rules; the format folds ASCII only.
    if let Some(at) = words.find('k') {
        let kelvin = format!("{}\u{212A}{}", &words[..at], &words[at + 1..]);
        assert!(RecoveryKey::from_words(&kelvin).is_err());
    }
    let code = ShareCode::new(&[1, 2, 3], SharingKeyPair::generate(&mut rng).public)
        .unwrap()
        .to_text();
    if let Some(at) = code[4..].find('k').map(|i| i + 4) {
        let kelvin = format!("{}\u{212A}{}", &code[..at], &code[at + 1..]);
        assert!(ShareCode::parse(&kelvin).is_err());
    }
}

#[test]
fn deeply_nested_unknown_values_are_skipped_without_overflow() {
    let mut bytes = vec![
        0xa6, 0x00, 0x01, 0x01, 0x61, b'a', 0x02, 0x61, b'b', 0x03, 0x00, 0x04, 0x58, 32,
    ];
    bytes.extend_from_slice(&[0u8; 32]);
    bytes.extend_from_slice(&[0x18, 99]);
    bytes.extend(std::iter::repeat_n(0x81, 100_000));
    bytes.push(0x00);
    // 100 000 nested arrays under an unknown key: skipped iteratively, no stack overflow.
    assert_eq!(FileMetadata::from_cbor(&bytes).unwrap().name, "a");
}

/// FORMAT.md §10: a record that breaks a rule of form is malformed whatever its version; only
/// a well-formed record of another version is `unsupported version`.
#[test]
fn metadata_form_is_judged_before_version() {
    // { 0: 2, 1: "a", 2: "b", 3: 1, 4: 32 bytes }
    let mut v2 = vec![
        0xa5, 0x00, 0x02, 0x01, 0x61, b'a', 0x02, 0x61, b'b', 0x03, 0x01, 0x04, 0x58, 32,
    ];
    v2.extend_from_slice(&[7; 32]);
    assert!(matches!(
        FileMetadata::from_cbor(&v2),
        Err(MetadataError::UnsupportedVersion(2))
    ));
    let mut trailing = v2.clone();
    trailing.push(0x00);
    assert!(matches!(
        FileMetadata::from_cbor(&trailing),
        Err(MetadataError::Malformed(_))
    ));
    // Without its name (key 1): four entries.
    let mut missing = vec![
        0xa4, 0x00, 0x02, 0x02, 0x61, b'b', 0x03, 0x01, 0x04, 0x58, 32,
    ];
    missing.extend_from_slice(&[7; 32]);
    assert!(matches!(
        FileMetadata::from_cbor(&missing),
        Err(MetadataError::Malformed(_))
    ));
}

/// FORMAT.md §10: under a key it does not know, a reader skips exactly the values RFC 8949 calls
/// well-formed — whatever their validity (text that is not UTF-8) — and refuses the rest.
#[test]
fn unknown_values_are_judged_by_well_formedness_alone() {
    let with_unknown = |value: &[u8]| {
        let mut bytes = vec![
            0xa6, 0x00, 0x01, 0x01, 0x61, b'a', 0x02, 0x61, b'b', 0x03, 0x00, 0x04, 0x58, 32,
        ];
        bytes.extend_from_slice(&[0u8; 32]);
        bytes.extend_from_slice(&[0x18, 99]);
        bytes.extend_from_slice(value);
        FileMetadata::from_cbor(&bytes)
    };
    for (why, value) in [
        ("text that is not UTF-8", &[0x62, 0xff, 0xfe][..]),
        (
            "an indefinite text of non-UTF-8 chunks",
            &[0x7f, 0x61, 0xff, 0xff],
        ),
        ("a tag on a float", &[0xc1, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0]),
        (
            "an indefinite map holding an indefinite array",
            &[0xbf, 0x01, 0x9f, 0xf6, 0xf7, 0xff, 0x61, 0x01, 0x02, 0xff],
        ),
        ("simple value 32 in two bytes", &[0xf8, 0x20]),
        ("an empty indefinite byte string", &[0x5f, 0xff]),
        ("nested tags", &[0xc1, 0xd8, 0x40, 0x80]),
        ("a non-shortest length", &[0x79, 0x00, 0x01, b'x']),
    ] {
        assert!(
            with_unknown(value).is_ok(),
            "{why}: {:?}",
            with_unknown(value)
        );
    }
    for (why, value) in [
        ("a two-byte simple value below 32", &[0xf8, 0x10][..]),
        ("a break in a definite array", &[0x82, 0x00, 0xff]),
        ("a stray break", &[0xff]),
        ("a tagged break", &[0xc1, 0xff]),
        ("an indefinite map ending after a key", &[0xbf, 0x00, 0xff]),
        (
            "a text chunk in an indefinite byte string",
            &[0x5f, 0x61, b'a', 0xff],
        ),
        (
            "an indefinite chunk in an indefinite string",
            &[0x7f, 0x7f, 0xff, 0xff],
        ),
        ("reserved additional information", &[0x1c]),
        ("an indefinite integer", &[0x1f]),
        ("an indefinite tag", &[0xdf, 0x00]),
        ("a truncated array", &[0x82, 0x01]),
        ("a truncated string", &[0x65, b'a']),
        (
            "a length beyond the input",
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        ("a map of 2^63 entries", &[0xbb, 0x80, 0, 0, 0, 0, 0, 0, 0]),
    ] {
        assert!(
            matches!(with_unknown(value), Err(MetadataError::Malformed(_))),
            "{why}: {:?}",
            with_unknown(value)
        );
    }
}
