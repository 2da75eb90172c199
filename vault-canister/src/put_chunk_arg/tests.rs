use candid::{CandidType, DecoderConfig, Encode, Nat, Principal};
use serde_bytes::ByteBuf;

use super::{PUT_CHUNK_HEADER, decode};
use crate::model::types::PutChunkArgs;

/// What `#[update]` does with a `put_chunk(args: PutChunkArgs)` argument (ic-cdk 0.20).
fn decode_as_the_macro(arg_bytes: &[u8]) -> candid::Result<PutChunkArgs> {
    let arg_bytes: &[u8] = if arg_bytes.is_empty() {
        b"DIDL\x00\x00"
    } else {
        arg_bytes
    };
    let mut decoder_config = DecoderConfig::new();
    decoder_config.set_skipping_quota(10000);
    let (args,) = candid::utils::decode_args_with_config(arg_bytes, &decoder_config)?;
    Ok(args)
}

/// put_chunk's record with any types in its fields.
#[derive(CandidType)]
struct Wire<F, I, D> {
    file_id: F,
    index: I,
    data: D,
}

#[derive(CandidType)]
struct WithoutData {
    file_id: ByteBuf,
    index: u32,
}

#[derive(CandidType)]
struct WithExtra {
    file_id: ByteBuf,
    index: u32,
    data: ByteBuf,
    extra: String,
}

fn id() -> ByteBuf {
    ByteBuf::from(vec![1; 16])
}

fn data() -> ByteBuf {
    ByteBuf::from(vec![0x5a; 40])
}

fn well_formed() -> PutChunkArgs {
    PutChunkArgs {
        file_id: id(),
        index: 3,
        data: data(),
    }
}

fn wire<F: CandidType, I: CandidType, D: CandidType>(file_id: F, index: I, data: D) -> Vec<u8> {
    Encode!(&Wire {
        file_id,
        index,
        data
    })
    .unwrap()
}

#[test]
fn the_header_is_the_one_candid_writes() {
    let arg = Encode!(&PutChunkArgs {
        file_id: ByteBuf::new(),
        index: 0,
        data: ByteBuf::new()
    })
    .unwrap();
    // The values: two empty blobs and a nat32.
    assert_eq!(arg, [PUT_CHUNK_HEADER, &[0, 0, 0, 0, 0, 0]].concat());
}

#[test]
fn a_rust_clients_chunk_is_borrowed_from_the_argument() {
    let arg = Encode!(&well_formed()).unwrap();
    let mut owned = None;
    let args = decode(&arg, &mut owned).unwrap();
    assert_eq!((&args.file_id[..], args.index), (&id()[..], 3));
    assert_eq!(&args.data[..], &data()[..]);
    assert!(arg.as_ptr_range().contains(&args.data.as_ptr()));
}

#[test]
fn decodes_and_refuses_what_the_macro_would() {
    let mut truncated = Encode!(&well_formed()).unwrap();
    truncated.pop();
    let mut reordered_table = b"DIDL\x02\x6d\x7b\x6c\x03\xaa\xac\x8d\x93\x04\x00\x92\xb6\xd2\xf0\x0b\x79\xfe\xb1\xdf\xfa\x0f\x00\x01\x01".to_vec();
    reordered_table.extend_from_slice(&Encode!(&well_formed()).unwrap()[PUT_CHUNK_HEADER.len()..]);
    let args: Vec<(&str, Vec<u8>)> = vec![
        ("well formed", Encode!(&well_formed()).unwrap()),
        ("empty blobs", wire(ByteBuf::new(), 0u32, ByteBuf::new())),
        ("another encoder's type table", reordered_table),
        (
            "an extra field",
            Encode!(&WithExtra {
                file_id: id(),
                index: 3,
                data: data(),
                extra: "x".into()
            })
            .unwrap(),
        ),
        ("an extra argument", Encode!(&well_formed(), &7u8).unwrap()),
        ("text for data", wire(id(), 3u32, "text")),
        ("text for file_id", wire("0123456789abcdef", 3u32, data())),
        ("nat for data", wire(id(), 3u32, Nat::from(40u8))),
        ("vec nat16 for data", wire(id(), 3u32, vec![7u16; 20])),
        ("opt blob for data", wire(id(), 3u32, Some(data()))),
        (
            "principal for data",
            wire(id(), 3u32, Principal::anonymous()),
        ),
        ("nat64 for index", wire(id(), 3u64, data())),
        (
            "no data",
            Encode!(&WithoutData {
                file_id: id(),
                index: 3
            })
            .unwrap(),
        ),
        ("no argument", Vec::new()),
        ("no record", Encode!().unwrap()),
        ("a truncated chunk", truncated),
        ("not candid", b"put_chunk".to_vec()),
    ];
    let accepted = [
        "well formed",
        "empty blobs",
        "another encoder's type table",
        "an extra field",
        "an extra argument",
    ];
    for (case, arg) in &args {
        let expected = decode_as_the_macro(arg);
        assert_eq!(expected.is_ok(), accepted.contains(case), "{case}");
        let mut owned = None;
        match (expected, decode(arg, &mut owned)) {
            (Ok(expected), Ok(args)) => {
                assert_eq!(expected.file_id.as_slice(), &args.file_id[..], "{case}");
                assert_eq!(expected.index, args.index, "{case}");
                assert_eq!(expected.data.as_slice(), &args.data[..], "{case}");
            }
            (Err(_), Err(_)) => {}
            (expected, decoded) => panic!(
                "{case}: the macro {}, put_chunk {}",
                expected.map_or_else(|e| format!("refuses it ({e})"), |_| "accepts it".into()),
                decoded.map_or_else(|e| format!("refuses it ({e})"), |_| "accepts it".into()),
            ),
        }
    }
}
