use candid::{Decode, Encode};
use serde_bytes::ByteBuf;

use super::encode;
use crate::model::types::{VaultError, VaultResult};

/// What `#[query]` replies: candid's encoding of the result.
fn candid(result: &VaultResult<ByteBuf>) -> Vec<u8> {
    Encode!(result).expect("encodes")
}

fn concatenated(result: &VaultResult<ByteBuf>) -> Vec<u8> {
    let (head, body) = encode(result);
    [head.as_slice(), body].concat()
}

#[test]
fn ok_replies_are_candids_bytes_at_every_length() {
    let full = vault_crypto::ENCRYPTED_CHUNK_SIZE; // 1 MiB + 16, the largest chunk
    // LEB128 lengths of one to three bytes, and the edges of a chunk.
    for len in [0, 1, 16, 127, 128, 16_383, 16_384, full - 1, full, full + 1] {
        let chunk: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let result = Ok(ByteBuf::from(chunk));
        let bytes = concatenated(&result);
        assert!(
            bytes == candid(&result),
            "{len}-byte chunk: not candid's encoding"
        );
        assert_eq!(Decode!(&bytes, VaultResult<ByteBuf>).unwrap(), result);
    }
}

#[test]
fn the_chunk_is_the_body_not_a_copy() {
    let result = Ok(ByteBuf::from(vec![7; 1000]));
    let (_, body) = encode(&result);
    let chunk = result.as_ref().unwrap();
    assert_eq!(body.as_ptr(), chunk.as_ptr());
    assert_eq!(body.len(), chunk.len());
}

#[test]
fn refusals_are_candids_bytes() {
    for e in [
        VaultError::NotAuthorized,
        VaultError::NotFound,
        VaultError::invalid("index", "the file has 3 chunks"),
    ] {
        let result = Err(e);
        let (head, body) = encode(&result);
        assert!(body.is_empty());
        assert_eq!(head, candid(&result));
    }
}
