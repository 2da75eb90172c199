use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::error::DecryptError::DecryptionFailed;

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn cipher(rng: &mut StdRng, kind: StreamKind) -> (FileKey, StreamHeader, StreamCipher) {
    let key = FileKey::generate(rng);
    let header = StreamHeader::generate(rng);
    let cipher = StreamCipher::new(&key, kind, &header);
    (key, header, cipher)
}

#[test]
fn round_trips_at_chunk_edges() {
    let mut rng = rng();
    let (_, _, c) = cipher(&mut rng, StreamKind::Content);
    for len in [
        0,
        1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        3 * CHUNK_SIZE + 17,
    ] {
        let plain = pattern(len);
        let ct = c.encrypt(&plain);
        assert_eq!(ct.len() as u64, encrypted_len(len as u64), "len {len}");
        assert_eq!(c.decrypt(&ct).unwrap(), plain, "len {len}");
        assert_eq!(
            c.encrypt_parallel(&plain),
            ct,
            "parallel encrypt differs at len {len}"
        );
        assert_eq!(c.decrypt_parallel(&ct).unwrap(), plain, "len {len}");
    }
}

#[test]
fn chunk_counts() {
    assert_eq!(chunk_count(0), 1);
    assert_eq!(chunk_count(1), 1);
    assert_eq!(chunk_count(CHUNK_SIZE as u64), 1);
    assert_eq!(chunk_count(CHUNK_SIZE as u64 + 1), 2);
    assert_eq!(encrypted_len(0), TAG_SIZE as u64);
}

#[test]
fn each_chunks_encrypted_length_adds_up_to_the_streams() {
    let chunk = CHUNK_SIZE as u64;
    for len in [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 7] {
        let count = chunk_count(len);
        let lens: Vec<u64> = (0..count)
            .map(|i| encrypted_chunk_len(len, i).unwrap())
            .collect();
        assert_eq!(lens.iter().sum::<u64>(), encrypted_len(len), "{len}");
        assert!(
            lens[..lens.len() - 1]
                .iter()
                .all(|&l| l == ENCRYPTED_CHUNK_SIZE as u64)
        );
        assert_eq!(encrypted_chunk_len(len, count), None, "{len}");
    }
    assert_eq!(encrypted_chunk_len(5, 0), Some(5 + TAG_SIZE as u64));
}

#[test]
fn chunks_encrypt_alone_as_in_the_whole_stream() {
    let mut rng = rng();
    let (_, _, c) = cipher(&mut rng, StreamKind::Content);
    let plain = pattern(2 * CHUNK_SIZE + 5);
    let whole = c.encrypt(&plain);
    let count = chunk_count(plain.len() as u64);
    for (i, piece) in plain.chunks(CHUNK_SIZE).enumerate() {
        let i = i as u64;
        let mut buf = piece.to_vec();
        c.encrypt_chunk(i, i + 1 == count, &mut buf).unwrap();
        let at = i as usize * ENCRYPTED_CHUNK_SIZE;
        assert_eq!(buf, whole[at..at + buf.len()]);
        // Random access: chunk i decrypts alone.
        c.decrypt_chunk(i, i + 1 == count, &mut buf).unwrap();
        assert_eq!(buf, piece);
    }
}

/// Encrypts a three-chunk stream and returns (cipher, chunks).
fn three_chunks() -> (StreamCipher, Vec<Vec<u8>>) {
    let mut rng = rng();
    let (_, _, c) = cipher(&mut rng, StreamKind::Content);
    let ct = c.encrypt(&pattern(2 * CHUNK_SIZE + 100));
    let chunks = ct
        .chunks(ENCRYPTED_CHUNK_SIZE)
        .map(<[u8]>::to_vec)
        .collect();
    (c, chunks)
}

#[test]
fn flipped_bit_is_refused() {
    let (c, chunks) = three_chunks();
    let mut ct = chunks.concat();
    for at in [0, CHUNK_SIZE + 3, ct.len() - 1] {
        ct[at] ^= 0x01;
        assert_eq!(c.decrypt(&ct), Err(DecryptionFailed), "bit flipped at {at}");
        assert_eq!(
            c.decrypt_parallel(&ct),
            Err(DecryptionFailed),
            "bit flipped at {at}"
        );
        ct[at] ^= 0x01;
    }
    assert!(c.decrypt(&ct).is_ok());
}

#[test]
fn missing_final_chunk_is_refused() {
    let (c, chunks) = three_chunks();
    assert_eq!(c.decrypt(&chunks[..2].concat()), Err(DecryptionFailed));
    assert_eq!(c.decrypt(&chunks[..1].concat()), Err(DecryptionFailed));
    assert_eq!(c.decrypt(&[]), Err(DecryptionFailed));
}

#[test]
fn truncated_final_chunk_is_refused() {
    let (c, chunks) = three_chunks();
    let ct = chunks.concat();
    for cut in [1, 16, 100, 116] {
        assert_eq!(
            c.decrypt(&ct[..ct.len() - cut]),
            Err(DecryptionFailed),
            "cut {cut}"
        );
        assert_eq!(
            c.decrypt_parallel(&ct[..ct.len() - cut]),
            Err(DecryptionFailed),
            "cut {cut}"
        );
    }
}

#[test]
fn data_after_final_chunk_is_refused() {
    let (c, chunks) = three_chunks();
    let mut ct = chunks.concat();
    ct.extend_from_slice(&[0u8; 40]);
    assert_eq!(c.decrypt(&ct), Err(DecryptionFailed));
    assert_eq!(c.decrypt_parallel(&ct), Err(DecryptionFailed));
}

#[test]
fn reordered_chunks_are_refused() {
    let (c, chunks) = three_chunks();
    let swapped = [chunks[1].clone(), chunks[0].clone(), chunks[2].clone()].concat();
    assert_eq!(c.decrypt(&swapped), Err(DecryptionFailed));
    assert_eq!(c.decrypt_parallel(&swapped), Err(DecryptionFailed));
    // A chunk decrypts only at its own index.
    let mut chunk = chunks[1].clone();
    assert_eq!(c.decrypt_chunk(0, false, &mut chunk), Err(DecryptionFailed));
}

#[test]
fn final_chunk_must_be_flagged_final() {
    let (c, chunks) = three_chunks();
    let mut last = chunks[2].clone();
    assert_eq!(c.decrypt_chunk(2, false, &mut last), Err(DecryptionFailed));
    let mut middle = chunks[1].clone();
    assert_eq!(c.decrypt_chunk(1, true, &mut middle), Err(DecryptionFailed));
}

#[test]
fn empty_final_chunk_after_full_chunks_is_refused_even_if_authentic() {
    // An encoder that emits an empty final chunk after a full one produces chunks with valid
    // tags; the format still forbids it so that every plaintext has one encoding.
    let mut rng = rng();
    let (_, _, c) = cipher(&mut rng, StreamKind::Content);
    let mut first = pattern(CHUNK_SIZE);
    c.encrypt_chunk(0, false, &mut first).unwrap();
    let mut empty = Vec::new();
    assert_eq!(
        c.encrypt_chunk(1, true, &mut empty),
        Err(EncryptError::EmptyChunk { index: 1 })
    );
    let forged = [first, c.aead_seal_for_test(1, true, &[])].concat();
    assert_eq!(c.decrypt(&forged), Err(DecryptionFailed));
}

#[test]
fn chunks_swapped_between_files_are_refused() {
    let mut rng = rng();
    let (_, _, a) = cipher(&mut rng, StreamKind::Content);
    let (_, _, b) = cipher(&mut rng, StreamKind::Content);
    let plain = pattern(CHUNK_SIZE + 10);
    let (ca, cb) = (a.encrypt(&plain), b.encrypt(&plain));
    let mixed = [&cb[..ENCRYPTED_CHUNK_SIZE], &ca[ENCRYPTED_CHUNK_SIZE..]].concat();
    assert_eq!(a.decrypt(&mixed), Err(DecryptionFailed));
}

#[test]
fn chunks_swapped_between_streams_of_one_file_are_refused() {
    let mut rng = rng();
    let key = FileKey::generate(&mut rng);
    let header = StreamHeader::generate(&mut rng);
    let content = StreamCipher::new(&key, StreamKind::Content, &header);
    let thumb = StreamCipher::new(&key, StreamKind::Thumbnail, &header);
    let ct = content.encrypt(b"same bytes");
    assert_eq!(thumb.decrypt(&ct), Err(DecryptionFailed));
    // Same label, other header salt: another stream key too.
    let other = StreamCipher::new(&key, StreamKind::Content, &StreamHeader::generate(&mut rng));
    assert_eq!(other.decrypt(&ct), Err(DecryptionFailed));
}

#[test]
fn wrong_key_is_refused() {
    let mut rng = rng();
    let blob = seal_blob(
        &FileKey::generate(&mut rng),
        StreamKind::Thumbnail,
        b"jpeg",
        &mut rng,
    );
    assert_eq!(
        open_blob(&FileKey::generate(&mut rng), StreamKind::Thumbnail, &blob),
        Err(DecryptionFailed)
    );
}

#[test]
fn blob_round_trip_and_header_checks() {
    let mut rng = rng();
    let key = FileKey::generate(&mut rng);
    let blob = seal_blob(&key, StreamKind::Metadata, b"record", &mut rng);
    assert_eq!(blob.len(), STREAM_HEADER_SIZE + 6 + TAG_SIZE);
    assert_eq!(
        open_blob(&key, StreamKind::Metadata, &blob).unwrap(),
        b"record"
    );
    let mut v2 = blob.clone();
    v2[0] = 2;
    assert_eq!(
        open_blob(&key, StreamKind::Metadata, &v2),
        Err(DecryptError::UnsupportedVersion(2))
    );
    assert!(matches!(
        open_blob(&key, StreamKind::Metadata, &blob[..5]),
        Err(DecryptError::WrongLength { .. })
    ));
    // Two seals of the same plaintext differ (fresh salt): no nonce is ever reused.
    assert_ne!(
        seal_blob(&key, StreamKind::Metadata, b"record", &mut rng),
        blob
    );
}

#[test]
fn encrypt_chunk_refuses_impossible_chunks() {
    let mut rng = rng();
    let (_, _, c) = cipher(&mut rng, StreamKind::Content);
    let mut big = vec![0u8; CHUNK_SIZE + 1];
    assert!(matches!(
        c.encrypt_chunk(0, true, &mut big),
        Err(EncryptError::ChunkTooLarge { .. })
    ));
    let mut short = vec![0u8; 10];
    assert!(matches!(
        c.encrypt_chunk(0, false, &mut short),
        Err(EncryptError::ShortChunk { .. })
    ));
    assert_eq!(short.len(), 10, "a refused chunk is left as it was");
}

#[test]
fn oversize_encrypted_chunk_is_refused() {
    let mut rng = rng();
    let (_, _, c) = cipher(&mut rng, StreamKind::Content);
    let mut chunk = vec![0u8; ENCRYPTED_CHUNK_SIZE + 1];
    assert_eq!(c.decrypt_chunk(0, true, &mut chunk), Err(DecryptionFailed));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_any_small_plaintext(plain in proptest::collection::vec(any::<u8>(), 0..4096), seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let key = FileKey::generate(&mut rng);
        let blob = seal_blob(&key, StreamKind::Content, &plain, &mut rng);
        prop_assert_eq!(open_blob(&key, StreamKind::Content, &blob).unwrap(), plain);
    }

    #[test]
    fn any_single_byte_change_is_refused(len in 0usize..2048, at: prop::sample::Index, bit in 0u8..8, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let key = FileKey::generate(&mut rng);
        let mut blob = seal_blob(&key, StreamKind::Content, &pattern(len), &mut rng);
        let at = at.index(blob.len());
        blob[at] ^= 1 << bit;
        prop_assert!(open_blob(&key, StreamKind::Content, &blob).is_err());
    }

    #[test]
    fn any_truncation_or_extension_is_refused(len in 0usize..2048, cut in 1usize..64, extra in proptest::collection::vec(any::<u8>(), 1..64), seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let key = FileKey::generate(&mut rng);
        let blob = seal_blob(&key, StreamKind::Content, &pattern(len), &mut rng);
        let cut = cut.min(blob.len());
        prop_assert!(open_blob(&key, StreamKind::Content, &blob[..blob.len() - cut]).is_err());
        let extended = [blob.as_slice(), &extra].concat();
        prop_assert!(open_blob(&key, StreamKind::Content, &extended).is_err());
    }
}

#[test]
fn failed_decrypt_into_leaves_no_plaintext() {
    let (c, chunks) = three_chunks();
    let mut ct = chunks.concat();
    let mut out = Vec::new();
    c.decrypt_into(&ct, &mut out).unwrap();
    assert_eq!(out.len(), 2 * CHUNK_SIZE + 100);
    // The first two chunks are authentic; the last is not: nothing may be left in `out`.
    let last = ct.len() - 1;
    ct[last] ^= 1;
    assert_eq!(c.decrypt_into(&ct, &mut out), Err(DecryptionFailed));
    assert!(out.is_empty());
}

#[test]
fn encrypt_into_reuses_the_buffer() {
    let (c, _) = three_chunks();
    let plain = pattern(CHUNK_SIZE + 3);
    let mut out = vec![0xee; 10];
    c.encrypt_into(&plain, &mut out);
    assert_eq!(out, c.encrypt(&plain));
    let mut back = vec![0xee; 3 * CHUNK_SIZE];
    c.decrypt_into(&out, &mut back).unwrap();
    assert_eq!(back, plain);
}

/// What a platform's own AES-256-GCM (a browser's WebCrypto) makes from `derive_key` and
/// `chunk_nonce` is what `encrypt_chunk` makes: a full chunk, a short last one, an empty only one.
#[test]
fn a_platforms_aes_gcm_under_the_derived_key_seals_as_encrypt_chunk() {
    use aes_gcm::aead::{Aead, KeyInit};
    let mut rng = rng();
    let (key, header, cipher) = cipher(&mut rng, StreamKind::Content);
    let derived = StreamCipher::derive_key(&key, StreamKind::Content, &header);
    let platform = aes_gcm::Aes256Gcm::new_from_slice(derived.as_ref()).unwrap();
    for (index, last, len) in [(0, false, CHUNK_SIZE), (7, true, 1234), (0, true, 0)] {
        StreamCipher::check_chunk(index, last, len).unwrap();
        let plain = pattern(len);
        let mut ours = plain.clone();
        cipher.encrypt_chunk(index, last, &mut ours).unwrap();
        let theirs = platform
            .encrypt(&chunk_nonce(index, last).into(), plain.as_slice())
            .unwrap();
        assert_eq!(theirs, ours, "chunk {index} (last: {last}, {len} bytes)");
    }
    assert!(StreamCipher::check_chunk(3, false, 10).is_err());
    assert!(StreamCipher::check_chunk(3, true, 0).is_err());
    assert!(StreamCipher::check_chunk(0, true, CHUNK_SIZE + 1).is_err());
}
