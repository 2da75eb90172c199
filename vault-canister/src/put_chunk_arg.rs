//! put_chunk's argument, read and decoded without copying the chunk on the way.
//!
//! `#[update]` reads an argument with `ic_cdk::api::msg_arg_data`, which zero-fills a buffer
//! before copying the argument in, then decodes blobs into owned vectors: for a 1 MiB chunk,
//! two more passes over its bytes at about an instruction a byte each. put_chunk's entry point
//! (`#[update(hidden = true, manual_reply = true)]`, no parameters) reads its argument with
//! [`bytes`] instead, and [`decode`] borrows the chunk from that buffer, so the chunk's one copy
//! is the system API's, into the buffer, before it goes to stable memory.

use candid::DecoderConfig;
use candid::utils::ArgumentDecoder;

use crate::model::types::{PutChunkArgs, PutChunkArgsRef};

/// What `#[update]` lets its decoder skip (unknown fields, extra arguments).
const SKIPPING_QUOTA: usize = 10_000;

/// The header candid's encoder writes for `(PutChunkArgs,)`, whose types are exactly the
/// ones borrowed decoding expects:
///
/// ```text
/// bytes                   meaning
/// 44 49 44 4c             "DIDL"
/// 02                      two types in the table
/// 6c 03                   type 0: a record of three fields, in field-hash order:
/// aa ac 8d 93 04  01        file_id (hash 1113806378): type 1
/// 92 b6 d2 f0 0b  79        index   (hash 3189021458): nat32
/// fe b1 df fa 0f  01        data    (hash 4283947262): type 1
/// 6d 7b                   type 1: vec nat8 (blob)
/// 01 00                   one argument, of type 0
/// ```
const PUT_CHUNK_HEADER: &[u8] = b"DIDL\x02\
    \x6c\x03\xaa\xac\x8d\x93\x04\x01\x92\xb6\xd2\xf0\x0b\x79\xfe\xb1\xdf\xfa\x0f\x01\
    \x6d\x7b\
    \x01\x00";

/// The call's argument bytes, copied once into a buffer that is not zero-filled first.
pub fn bytes() -> Vec<u8> {
    let len = ic0::msg_arg_data_size();
    let mut bytes = Vec::with_capacity(len);
    ic0::msg_arg_data_copy_uninit(&mut bytes.spare_capacity_mut()[..len], 0);
    // SAFETY: `set_len(len)` needs `len <= capacity` and the first `len` elements
    // initialised. The capacity is at least `len`: `with_capacity(len)`, and the slice
    // `[..len]` above would have panicked otherwise. `msg_arg_data_copy_uninit` initialises
    // the whole slice it is given, which is those first `len` elements, or does not return:
    // ic0.msg_arg_data_copy writes exactly `size` bytes, and traps if `offset + size` is
    // beyond the argument, whose length `len` is.
    #[allow(unsafe_code)]
    unsafe {
        bytes.set_len(len)
    };
    bytes
}

/// put_chunk's argument from `bytes`, accepting and refusing exactly what `#[update]` would.
///
/// Candid decodes a borrowed blob without checking its type on the wire (a `text`, even a
/// `nat`, would be read as one), so borrowing is only for an argument whose header is
/// [`PUT_CHUNK_HEADER`]: every Rust client's. Any other (another encoder's type table order,
/// extra arguments, wrong types) is decoded as `#[update]` does, into `owned`.
pub fn decode<'a>(
    bytes: &'a [u8],
    owned: &'a mut Option<PutChunkArgs>,
) -> candid::Result<PutChunkArgsRef<'a>> {
    if bytes.starts_with(PUT_CHUNK_HEADER) {
        let (args,) = decode_as_update(bytes)?;
        Ok(args)
    } else {
        let (args,) = decode_as_update(bytes)?;
        Ok(owned.insert(args).borrowed())
    }
}

/// Decodes `bytes` as `#[update]` decodes an endpoint's parameters (it then traps on an error).
pub fn decode_as_update<'a, T: ArgumentDecoder<'a>>(bytes: &'a [u8]) -> candid::Result<T> {
    // No argument at all reads as an empty argument list.
    let bytes: &[u8] = if bytes.is_empty() {
        b"DIDL\x00\x00"
    } else {
        bytes
    };
    let mut config = DecoderConfig::new();
    config.set_skipping_quota(SKIPPING_QUOTA);
    candid::utils::decode_args_with_config(bytes, &config)
}

#[cfg(test)]
mod tests;
