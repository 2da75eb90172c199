//! Writes the seed corpora under `fuzz/corpus/<target>/` from the format's test vectors
//! (crypto/tests/vectors), the canister's golden stable records, Candid arguments as clients
//! encode them, and ingress envelopes signed by ic-agent. Run after a format change:
//! `cargo run -p vault-fuzz --example write_seeds`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use candid::{Encode, Principal};
use ic_agent::identity::{AnonymousIdentity, BasicIdentity};
use ic_agent::{Agent, Identity};
use serde_bytes::ByteBuf;
use vault_canister::model::types::*;
use vault_fuzz::replica::{INGRESS_NOW, ingress_canister};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Corpus(PathBuf);

impl Corpus {
    fn new(target: &str) -> Self {
        let dir = root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        Corpus(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.0.join(name), bytes).expect("write a seed");
    }
}

/// Every vector file: its name and its `key: value` fields.
fn vectors() -> Vec<(String, BTreeMap<String, String>)> {
    let dir = root().join("crypto/tests/vectors");
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the vectors")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let fields = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.push((
            path.file_stem().unwrap().to_string_lossy().into_owned(),
            fields,
        ));
    }
    out
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex in a vector")
}

fn main() {
    let vectors = vectors();
    let field = |kind: &str, key: &str| -> Vec<(String, String)> {
        vectors
            .iter()
            .filter(|(_, f)| f.get("kind").is_some_and(|k| k == kind))
            .filter_map(|(n, f)| f.get(key).map(|v| (n.clone(), v.clone())))
            .collect()
    };

    let c = Corpus::new("share_code");
    for (name, text) in field("share-code", "text") {
        c.write(&name, text.as_bytes());
    }
    let c = Corpus::new("link_fragment");
    for (name, fragment) in field("link", "fragment") {
        c.write(&name, fragment.as_bytes());
        c.write(&format!("{name}-hash"), format!("#{fragment}").as_bytes());
    }
    let c = Corpus::new("recovery_words");
    for (name, words) in field("recovery", "words") {
        c.write(&name, words.as_bytes());
    }
    let c = Corpus::new("metadata");
    for (name, cbor) in field("metadata", "cbor") {
        c.write(&name, &unhex(&cbor));
    }

    // records: choice byte (0 unlock params, 1 passphrase record, 2 wrapped key, 3 sealed key,
    // 4 sharing public key, 5 the canister's stored records) then the bytes.
    let c = Corpus::new("records");
    for (name, record) in field("passphrase", "record") {
        let record = unhex(&record);
        c.write(&format!("{name}-record"), &[&[1][..], &record].concat());
        if record.len() >= 30 {
            c.write(
                &format!("{name}-params"),
                &[&[0][..], &record[..30]].concat(),
            );
        }
    }
    for (name, wrapped) in field("wrap", "wrapped")
        .into_iter()
        .chain(field("recovery", "wrapped"))
    {
        c.write(
            &format!("{name}-wrapped"),
            &[&[2][..], &unhex(&wrapped)].concat(),
        );
    }
    for (name, sealed) in field("seal", "sealed") {
        c.write(
            &format!("{name}-sealed"),
            &[&[3][..], &unhex(&sealed)].concat(),
        );
    }
    for (name, key) in field("seal", "recipient_public_key") {
        c.write(
            &format!("{name}-public-key"),
            &[&[4][..], &unhex(&key)].concat(),
        );
    }
    // The golden stable records of vault-canister/src/model/stored/tests.rs, without their
    // layout byte; the second byte picks the type (see `canister::stored_records`).
    let golden: [(&str, u8, &str); 11] = [
        ("config", 0, "018c41041a4000000007000003000000000000"),
        ("profile-empty", 1, "0180"),
        (
            "file",
            3,
            "018f0501420102410350070707070707070707070707070707070242040509f6201903e84104f6183c03",
        ),
        (
            "upload",
            4,
            "01838f0501420102410350070707070707070707070707070707070242040509f6201903e84104f6183c030102",
        ),
        ("chunk", 5, "018219100482820001820501"),
        ("album", 7, "01844101010203"),
        ("grant", 8, "018301f602"),
        (
            "grant-with-key",
            8,
            "018400090258200505050505050505050505050505050505050505050505050505050505050505",
        ),
        (
            "grant-old-expiring",
            8,
            "0183001b1797a04466e2a0001b17979cfe362a0000",
        ),
        (
            "link",
            9,
            "018951010101010101010101010101010101010100410918641a000927c058200202020202020202020202020202020202020202020202020202020202020202f60500",
        ),
        ("reclaim", 10, "0184030104f5"),
    ];
    for (name, which, bytes) in golden {
        c.write(
            &format!("stored-{name}"),
            &[&[5, which][..], &unhex(bytes)[1..]].concat(),
        );
    }

    // stream: kind (0 content, 1 thumbnail, 2 metadata, 3 album name, 4 link record) || key ||
    // header || ciphertext.
    let c = Corpus::new("stream");
    let kinds = [
        "content",
        "thumbnail",
        "metadata",
        "album-name",
        "link-record",
    ];
    for (name, f) in &vectors {
        if f.get("kind").map(String::as_str) != Some("stream") {
            continue;
        }
        let (Some(key), Some(header), Some(ciphertext), Some(kind)) = (
            f.get("file_key"),
            f.get("header"),
            f.get("ciphertext"),
            f.get("stream")
                .and_then(|s| kinds.iter().position(|k| k == s)),
        ) else {
            continue;
        };
        let seed = [
            &[kind as u8][..],
            &unhex(key),
            &unhex(header),
            &unhex(ciphertext),
        ]
        .concat();
        c.write(name, &seed);
    }
    for (name, f) in &vectors {
        if let (Some("metadata"), Some(key), Some(blob)) = (
            f.get("kind").map(String::as_str),
            f.get("file_key"),
            f.get("blob"),
        ) {
            c.write(
                &format!("{name}-blob"),
                &[&[2][..], &unhex(key), &unhex(blob)].concat(),
            );
        }
    }

    // put_chunk_arg: what clients send, and what other encoders might.
    let c = Corpus::new("put_chunk_arg");
    let args = |len: usize| PutChunkArgs {
        file_id: ByteBuf::from(vec![0x10; 16]),
        index: 1,
        data: ByteBuf::from(vec![7; len]),
    };
    c.write("rust-client", &Encode!(&args(100)).unwrap());
    c.write("rust-client-empty-data", &Encode!(&args(0)).unwrap());
    c.write("two-arguments", &Encode!(&args(3), &7u8).unwrap());
    c.write("no-argument", b"");
    c.write("empty-argument-list", b"DIDL\x00\x00");
    #[derive(candid::CandidType)]
    struct TextData {
        file_id: ByteBuf,
        index: u32,
        data: String,
    }
    let text = TextData {
        file_id: ByteBuf::from(vec![0x10; 16]),
        index: 1,
        data: "seven".into(),
    };
    c.write("data-as-text", &Encode!(&text).unwrap());
    #[derive(candid::CandidType)]
    struct Extra {
        file_id: ByteBuf,
        index: u32,
        data: ByteBuf,
        note: Option<String>,
    }
    let extra = Extra {
        file_id: ByteBuf::from(vec![0x10; 16]),
        index: 0,
        data: ByteBuf::from(vec![1, 2, 3]),
        note: Some("x".into()),
    };
    c.write("extra-field", &Encode!(&extra).unwrap());

    // candid_args: method index || caller (0 owner) || the argument, for a sample of methods.
    let c = Corpus::new("candid_args");
    let seed = |method: u8, bytes: Vec<u8>| [&[method, 0][..], &bytes].concat();
    let blob = |n: usize, fill: u8| {
        let mut b = vec![fill; n];
        b[0] = 1;
        ByteBuf::from(b)
    };
    c.write("set_quota", &seed(0, Encode!(&(1u64 << 20)).unwrap()));
    c.write(
        "begin_upload",
        &seed(
            5,
            Encode!(&BeginUploadArgs {
                file_id: ByteBuf::from(vec![0x11; 16]),
                size: 100,
                content_header: blob(17, 2),
                wrapped_key: blob(61, 3),
                album: None,
                key_version: 0,
                metadata: blob(64, 4),
                thumbnail: Some(blob(64, 5)),
                dedupe_hash: None,
                sort_key: 1,
            })
            .unwrap(),
        ),
    );
    c.write("put_chunk", &seed(6, Encode!(&args(116)).unwrap()));
    c.write(
        "commit_upload",
        &seed(7, Encode!(&ByteBuf::from(vec![0x11; 16])).unwrap()),
    );
    c.write(
        "trash",
        &seed(10, Encode!(&vec![ByteBuf::from(vec![0x11; 16])]).unwrap()),
    );
    c.write(
        "create_album",
        &seed(
            13,
            Encode!(&CreateAlbumArgs {
                album_id: ByteBuf::from(vec![0x21; 16]),
                name: blob(40, 6),
                wrapped_key: blob(61, 7),
            })
            .unwrap(),
        ),
    );
    c.write(
        "grant",
        &seed(
            16,
            Encode!(&GrantArgs {
                target: Target::Album(ByteBuf::from(vec![0x21; 16])),
                grantee: Principal::from_slice(&[3; 29]),
                grantee_key: ByteBuf::from(vec![9; 32]),
                permission: Permission::Contribute,
                sealed_keys: vec![SealedKeyVersion {
                    version: 0,
                    sealed: blob(81, 8),
                }],
                expires_at: None,
                authenticator: None,
            })
            .unwrap(),
        ),
    );
    c.write(
        "create_link",
        &seed(
            19,
            Encode!(&CreateLinkArgs {
                token_hash: ByteBuf::from(vec![5; 32]),
                target: Target::File(ByteBuf::from(vec![0x11; 16])),
                key_version: 0,
                wrapped_key: blob(61, 9),
                expires_at: Some(1_800_000_000_000_000_000),
                password: None,
                label: None,
                earlier_keys: None,
            })
            .unwrap(),
        ),
    );
    c.write("vault_info", &seed(22, Encode!().unwrap()));
    c.write(
        "list_files",
        &seed(28, Encode!(&ListFilesArgs::default()).unwrap()),
    );
    c.write(
        "open_link",
        &seed(
            37,
            Encode!(&LinkAccess {
                token: ByteBuf::from(vec![0x40; 32]),
                password_proof: None,
            })
            .unwrap(),
        ),
    );
    c.write(
        "activity",
        &seed(38, Encode!(&Some(3u64), &Some(2u32)).unwrap()),
    );

    // ingress: endpoint byte (high nibble 2: the canister; low: 0 call, 1 query, 2 read_state)
    // || an envelope ic-agent signs, expiring a minute after the target's clock.
    let c = Corpus::new("ingress");
    for (name, which, body) in envelopes() {
        c.write(&name, &[&[which][..], &body].concat());
    }

    // module: small modules as the replica sees them (plain and gzipped).
    let c = Corpus::new("module");
    for (name, wasm) in modules() {
        c.write(&name, &wasm);
    }

    // http_api and model take structured input (arbitrary): a few fixed byte strings start
    // them; the fuzzer's coverage feedback does the rest.
    for target in ["http_api", "model"] {
        let c = Corpus::new(target);
        let mut x = 0x9e3779b97f4a7c15u64;
        for (i, len) in [16usize, 64, 256, 1024].into_iter().enumerate() {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            c.write(&format!("random-{i}"), &bytes);
        }
        c.write("zeros", &[0; 128]);
    }
}

/// Envelopes as ic-agent POSTs them: an Ed25519 update, query and read_state, and an anonymous
/// query, all expiring a minute after [`INGRESS_NOW`].
fn envelopes() -> Vec<(String, u8, Vec<u8>)> {
    let expiry = UNIX_EPOCH + Duration::from_nanos(INGRESS_NOW + 60_000_000_000);
    fn agent(identity: impl Identity + 'static) -> Agent {
        Agent::builder()
            .with_url("http://127.0.0.1:4943")
            .with_identity(identity)
            .build()
            .expect("an agent builds without a network")
    }
    let signed = agent(BasicIdentity::from_raw_key(&[7; 32]));
    let anonymous = agent(AnonymousIdentity);
    let canister = ingress_canister();
    let arg = Encode!(&ListFilesArgs::default()).unwrap();
    let update = signed
        .update(&canister, "list_files")
        .with_arg(arg.clone())
        .expire_at(expiry)
        .sign()
        .expect("an update signs");
    let query = signed
        .query(&canister, "list_files")
        .with_arg(arg.clone())
        .expire_at(expiry)
        .sign()
        .expect("a query signs");
    let anonymous_query = anonymous
        .query(&canister, "open_link")
        .with_arg(arg)
        .expire_at(expiry)
        .sign()
        .expect("an anonymous query signs");
    let status = signed
        .sign_request_status(canister, update.request_id)
        .expect("a read_state signs");
    vec![
        ("ed25519-call".into(), 0x20, update.signed_update),
        ("ed25519-query".into(), 0x21, query.signed_query),
        ("anonymous-query".into(), 0x21, anonymous_query.signed_query),
        (
            "ed25519-read-state".into(),
            0x22,
            status.signed_request_status,
        ),
    ]
}

/// Small canister modules: one with an update, a query, a heap and a mutable global; the same
/// gzipped; one importing what the replica does not provide; one with `icp:` metadata.
fn modules() -> Vec<(String, Vec<u8>)> {
    let canister = wat::parse_str(
        r#"(module
            (import "ic0" "msg_reply" (func $reply))
            (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
            (memory 1)
            (global $n (mut i32) (i32.const 0))
            (data (i32.const 0) "DIDL\00\00")
            (func (export "canister_update inc")
                (global.set $n (i32.add (global.get $n) (i32.const 1)))
                (loop $l (br_if $l (i32.lt_u (global.get $n) (i32.const 0))))
                (call $append (i32.const 0) (i32.const 6))
                (call $reply))
            (func (export "canister_query get") (call $reply))
            (func (export "canister_init")))"#,
    )
    .expect("valid wat");
    let missing = wat::parse_str(
        r#"(module (import "ic0" "no_such_call" (func)) (func (export "canister_init")))"#,
    )
    .expect("valid wat");
    let mut with_metadata = canister.clone();
    // A custom section `icp:public candid:service` with a one-line service.
    let name = b"icp:public candid:service";
    let content = b"service : {}";
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(content);
    with_metadata.push(0);
    with_metadata.push(section.len() as u8);
    with_metadata.extend_from_slice(&section);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &canister).unwrap();
    let gzipped = gz.finish().unwrap();
    vec![
        ("canister".into(), canister),
        ("canister-gzipped".into(), gzipped),
        ("missing-import".into(), missing),
        ("icp-metadata".into(), with_metadata),
        ("empty-module".into(), b"\0asm\x01\0\0\0".to_vec()),
    ]
}
