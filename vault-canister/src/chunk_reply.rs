//! get_chunk's reply, sent without copying the chunk into an encoding first.
//!
//! `#[query]` encodes a `VaultResult<ByteBuf>` with candid, which copies a 1 MiB chunk twice
//! (into candid's value buffer, then into the message buffer) before `msg_reply_data_append`
//! copies it out: about an instruction a byte each. Candid's encoding of `Ok(chunk)` is a
//! constant header, the chunk's length and the chunk's bytes, so [`reply`] appends the first
//! two, then the chunk where it is. A refusal is encoded by candid, as `#[query]` would.

use candid::types::leb128;
use serde_bytes::ByteBuf;

use crate::model::types::{VaultError, VaultResult};

/// What candid writes for `(VaultResult<ByteBuf>,)` before an `Ok` blob's length. `tests.rs`
/// checks it against candid's own encoding: a change to [`VaultError`] changes it.
///
/// ```text
/// bytes                        meaning
/// 44 49 44 4c                  "DIDL"
/// 09                           nine types in the table
/// 6b 02 ...                    type 0: variant { Ok : type 1; Err : type 2 }
/// 6d 7b                        type 1: vec nat8 (blob)
/// 6b 0e ...                    type 2: VaultError, 14 variants (their records: types 3-8)
/// 6c ... (types 3-8)           Duplicate, PasswordRequired, RateLimited, InvalidArgument,
///                              QuotaExceeded, Conflict
/// 01 00                        one argument, of type 0
/// 00                           its value: variant 0, Ok
/// ```
const OK_HEADER: &[u8] = b"DIDL\x09\
    \x6b\x02\xbc\x8a\x01\x01\xc5\xfe\xd2\x01\x02\
    \x6d\x7b\
    \x6b\x0e\
    \x85\xe0\x8c\x97\x04\x7f\xeb\x82\xa8\x97\x04\x03\xcf\xa0\xde\xf2\x06\x7f\
    \xee\x82\xc1\xea\x07\x7f\xc8\xb2\xf2\xed\x07\x7f\xba\xbf\xc1\xfd\x07\x04\
    \xf4\xf6\xd8\xa2\x09\x7f\xba\x8a\x96\xb0\x0a\x05\xf4\xb8\x95\xa4\x0b\x06\
    \xaa\xc1\xc0\x9f\x0e\x7f\xbe\xce\x90\xf7\x0e\x7f\x85\x8f\xee\x95\x0f\x7f\
    \x8b\xdc\xc3\xb4\x0f\x07\xf2\x8c\xd9\xee\x0f\x08\
    \x6c\x01\x8b\xad\x84\xf4\x08\x01\
    \x6c\x01\xb6\xe6\xe7\x91\x06\x79\
    \x6c\x01\xbf\xf9\xf9\x86\x0a\x78\
    \x6c\x02\xba\xa9\xce\x04\x71\xc4\x9f\xf4\xe4\x0f\x71\
    \x6c\x02\xb5\x9c\xa4\xae\x06\x78\xc9\xb3\x8d\xbc\x07\x78\
    \x6c\x01\xc4\x9f\xf4\xe4\x0f\x71\
    \x01\x00\
    \x00";

/// Most bytes a blob length takes in LEB128 (a u64).
const MAX_LEB128_BYTES: usize = 10;

/// Candid's encoding of `result`, as a head to append and then a body: for `Ok`, the chunk
/// itself, not a copy of it.
pub fn encode(result: &VaultResult<ByteBuf>) -> (Vec<u8>, &[u8]) {
    match result {
        Ok(chunk) => {
            let mut head = Vec::with_capacity(OK_HEADER.len() + MAX_LEB128_BYTES);
            head.extend_from_slice(OK_HEADER);
            leb128::encode_nat(&mut head, chunk.len() as u128).expect("a Vec takes any write");
            (head, chunk)
        }
        Err(e) => {
            let refusal = candid::encode_one(Err::<ByteBuf, &VaultError>(e));
            (refusal.expect("a VaultError encodes"), &[])
        }
    }
}

/// Replies with `result`, as `#[query]` would (the same bytes), appending the chunk in place.
pub fn reply(result: &VaultResult<ByteBuf>) {
    let (head, body) = encode(result);
    ic0::msg_reply_data_append(&head);
    if !body.is_empty() {
        ic0::msg_reply_data_append(body);
    }
    ic0::msg_reply();
}

#[cfg(test)]
mod tests;
