//! Targets over vault-crypto's readers: text a person pastes (share codes, link fragments,
//! recovery words) and bytes a canister or a node hands back (metadata records, fixed-size key
//! records, stream headers and blobs).

use vault_crypto::{
    AlbumKey, FileKey, FileMetadata, LinkSecret, MasterKey, PassphraseWrappedKey, RecoveryKey,
    SealedKey, ShareCode, SharingPublicKey, StreamCipher, StreamHeader, StreamKind, UnlockParams,
    WrappedKey, open_album_name, open_blob, open_link_record,
};

use crate::canister::stored_records;

/// `ShareCode::parse` on any text; what it accepts prints back to a code that parses to it.
pub fn share_code(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(code) = ShareCode::parse(&text) {
        let again = ShareCode::parse(&code.to_text()).expect("a printed share code parses");
        assert_eq!(again, code);
        let _ = code.fingerprint();
    }
}

/// `LinkSecret::from_fragment` on any text; an accepted fragment prints back to one that reads
/// as the same secret.
pub fn link_fragment(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(secret) = LinkSecret::from_fragment(&text) {
        let again = LinkSecret::from_fragment(&secret.to_fragment()).expect("a fragment reads");
        assert_eq!(again.expose_secret(), secret.expose_secret());
        let _ = secret.token().hash();
    }
}

/// `RecoveryKey::from_words` on any text; accepted words print back to the same key.
pub fn recovery_words(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(key) = RecoveryKey::from_words(&text) {
        let again = RecoveryKey::from_words(&key.to_words()).expect("printed words read");
        assert_eq!(
            again.unlock_proof().verifier(),
            key.unlock_proof().verifier()
        );
    }
}

/// `FileMetadata::from_cbor` on any bytes; an accepted record encodes to CBOR that reads back
/// as the same record.
pub fn metadata(data: &[u8]) {
    if let Ok(record) = FileMetadata::from_cbor(data) {
        let again = FileMetadata::from_cbor(&record.to_cbor()).expect("an encoded record reads");
        // NaN is refused (GPS must be in range), so equality is meaningful.
        assert_eq!(again, record);
    }
}

/// The fixed-layout key records a canister stores for the client, read by the first byte's
/// choice; and the canister's own CBOR records of stable memory
/// ([`crate::canister::stored_records`]). What reads encodes back to the same bytes.
pub fn records(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            if let Ok(params) = UnlockParams::from_bytes(bytes) {
                assert_eq!(params.to_bytes().as_slice(), bytes);
            }
        }
        1 => {
            if let Ok(record) = PassphraseWrappedKey::from_bytes(bytes) {
                assert_eq!(record.to_bytes(), bytes);
                let _ = record.unlock_params();
            }
        }
        2 => {
            if let Ok(key) = WrappedKey::from_bytes(bytes) {
                assert_eq!(key.as_bytes().as_slice(), bytes);
            }
        }
        3 => {
            if let Ok(key) = SealedKey::from_bytes(bytes) {
                assert_eq!(key.as_bytes().as_slice(), bytes);
            }
        }
        4 => {
            if let Ok(key) = SharingPublicKey::from_bytes(bytes) {
                assert_eq!(key.as_bytes().as_slice(), bytes);
            }
        }
        _ => stored_records(bytes),
    }
}

/// A stream header and blob under a key the input gives: `kind (1) || key (32) || blob`.
///
/// The seeds are the format's vectors, key included, so mutations start from streams that
/// decrypt: the layout checks and every chunk's AEAD are reached, not only the first refusal.
pub fn stream(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Some((key, blob)) = rest.split_first_chunk::<32>() else {
        return;
    };
    if let Some(header) = blob.get(..vault_crypto::STREAM_HEADER_SIZE)
        && let Ok(parsed) = StreamHeader::from_bytes(header)
    {
        assert_eq!(parsed.to_bytes().as_slice(), header);
    }
    let kinds = [
        StreamKind::Content,
        StreamKind::Thumbnail,
        StreamKind::Metadata,
    ];
    match kind % 6 {
        k @ 0..=2 => {
            let file_key = FileKey::from_bytes(*key);
            let kind = kinds[k as usize];
            if let Ok(plain) = open_blob(&file_key, kind, blob) {
                let header = StreamHeader::from_bytes(&blob[..vault_crypto::STREAM_HEADER_SIZE])
                    .expect("an opened blob has a header");
                let cipher = StreamCipher::new(&file_key, kind, &header);
                assert_eq!(
                    cipher.encrypt(&plain),
                    &blob[vault_crypto::STREAM_HEADER_SIZE..],
                    "decrypting and encrypting again gives the same stream"
                );
                if kind == StreamKind::Metadata {
                    metadata(&plain);
                }
            }
        }
        3 => {
            let _ = open_album_name(&AlbumKey::from_bytes(*key), blob);
        }
        4 => {
            let _ = open_link_record(&MasterKey::from_bytes(*key), blob);
        }
        _ => {
            // A bare stream body, as content chunks are stored: header from the key bytes.
            let mut header = [1u8; vault_crypto::STREAM_HEADER_SIZE];
            header[1..].copy_from_slice(&key[..16]);
            let header = StreamHeader::from_bytes(&header).expect("a version-1 header");
            let cipher =
                StreamCipher::new(&FileKey::from_bytes(*key), StreamKind::Content, &header);
            let _ = cipher.decrypt(blob);
        }
    }
}
