//! Writes the frozen test vectors in `crypto/tests/vectors/` (see docs/FORMAT.md §12).
//!
//! Run it only when the format changes on purpose: `cargo run -p vault-crypto --example
//! write_vectors`. Every random byte the format draws is recorded in the vector, so that
//! `tests/vectors.rs` can re-encrypt and demand the same bytes.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use common::Recording;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use vault_crypto::*;

struct Vector {
    name: &'static str,
    comment: &'static str,
    fields: Vec<(&'static str, String)>,
}

impl Vector {
    fn new(name: &'static str, kind: &str, expect: &str, comment: &'static str) -> Self {
        Self {
            name,
            comment,
            fields: vec![("kind", kind.into()), ("expect", expect.into())],
        }
    }
    fn with(mut self, field: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((field, value.into()));
        self
    }
    fn hex(self, field: &'static str, bytes: &[u8]) -> Self {
        self.with(field, hex::encode(bytes))
    }
    fn write(self, dir: &Path) {
        let mut text = format!("# {}\n", self.comment);
        for (k, v) in &self.fields {
            writeln!(text, "{k}: {v}").unwrap();
        }
        std::fs::write(dir.join(format!("{}.txt", self.name)), text).unwrap();
    }
}

/// Writes `bytes` as `<name>.bin` and returns the field value naming it.
fn bin(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let file = format!("{name}.bin");
    std::fs::write(dir.join(&file), bytes).unwrap();
    file
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// AES-256-GCM of one chunk with the stream key derived by hand: forges chunks the API
/// refuses to make (an empty final chunk after a full one).
fn raw_chunk(
    file_key: &FileKey,
    header: &StreamHeader,
    label: &str,
    index: u64,
    last: bool,
    plain: &[u8],
) -> Vec<u8> {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&header.to_bytes()[1..]), file_key.expose_secret())
        .expand(format!("vault/v1/stream/{label}").as_bytes(), &mut key)
        .unwrap();
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = last as u8;
    let mut buf = plain.to_vec();
    let tag = Aes256Gcm::new(&key.into())
        .encrypt_inout_detached(&nonce.into(), &[], buf.as_mut_slice().into())
        .unwrap();
    buf.extend_from_slice(&tag);
    buf
}

fn stream_vectors(dir: &Path, rng: &mut Recording) {
    let key = FileKey::generate(rng);
    let header = StreamHeader::generate(rng);
    let content = StreamCipher::new(&key, StreamKind::Content, &header);
    let base = |name, expect, comment| {
        Vector::new(name, "stream", expect, comment)
            .hex("file_key", key.expose_secret())
            .hex("header", &header.to_bytes())
    };

    for (name, len) in [
        ("stream-empty", 0usize),
        ("stream-one-byte", 1),
        ("stream-small", 100),
    ] {
        let plain = pattern(len);
        base(name, "success", "a stream of one chunk")
            .with("stream", "content")
            .hex("plaintext", &plain)
            .hex("ciphertext", &content.encrypt(&plain))
            .write(dir);
    }
    for (name, kind, label) in [
        ("stream-thumbnail", StreamKind::Thumbnail, "thumbnail"),
        ("stream-metadata", StreamKind::Metadata, "metadata"),
    ] {
        let plain = b"the same plaintext, another stream".to_vec();
        base(name, "success", "streams of one file differ only by label")
            .with("stream", label)
            .hex("plaintext", &plain)
            .hex(
                "ciphertext",
                &StreamCipher::new(&key, kind, &header).encrypt(&plain),
            )
            .write(dir);
    }
    for (name, len, comment) in [
        (
            "stream-chunk-minus-one",
            CHUNK_SIZE - 1,
            "one chunk one byte short of full",
        ),
        (
            "stream-full-chunk",
            CHUNK_SIZE,
            "exactly one full chunk: no empty chunk follows",
        ),
        (
            "stream-two-chunks",
            CHUNK_SIZE + 1,
            "a full chunk and a final chunk of one byte",
        ),
    ] {
        let ct = content.encrypt(&pattern(len));
        base(name, "success", comment)
            .with("stream", "content")
            .with("plaintext_pattern", len.to_string())
            .with("ciphertext_file", bin(dir, name, &ct))
            .write(dir);
    }

    let small = content.encrypt(&pattern(100));
    let mut flipped = small.clone();
    flipped[50] ^= 0x04;
    base(
        "stream-flipped-bit",
        "decryption failure",
        "stream-small with one bit flipped",
    )
    .with("stream", "content")
    .hex("ciphertext", &flipped)
    .write(dir);
    base(
        "stream-wrong-stream",
        "decryption failure",
        "stream-small's ciphertext read as a thumbnail stream",
    )
    .with("stream", "thumbnail")
    .hex("ciphertext", &small)
    .write(dir);
    base(
        "stream-no-chunks",
        "decryption failure",
        "nothing after the header: the final chunk is missing",
    )
    .with("stream", "content")
    .with("ciphertext", "")
    .write(dir);
    base(
        "stream-truncated-tag",
        "decryption failure",
        "stream-small cut 10 bytes short",
    )
    .with("stream", "content")
    .hex("ciphertext", &small[..small.len() - 10])
    .write(dir);
    let other_key = FileKey::generate(rng);
    Vector::new(
        "stream-wrong-key",
        "stream",
        "decryption failure",
        "stream-small's ciphertext under another file key",
    )
    .hex("file_key", other_key.expose_secret())
    .hex("header", &header.to_bytes())
    .with("stream", "content")
    .hex("ciphertext", &small)
    .write(dir);
    let other_header = StreamHeader::generate(rng);
    Vector::new(
        "stream-wrong-header",
        "stream",
        "decryption failure",
        "stream-small's ciphertext with another header salt",
    )
    .hex("file_key", key.expose_secret())
    .hex("header", &other_header.to_bytes())
    .with("stream", "content")
    .hex("ciphertext", &small)
    .write(dir);

    let mut v2_header = header.to_bytes();
    v2_header[0] = 2;
    Vector::new(
        "stream-header-version-2",
        "stream",
        "unsupported version",
        "stream-small with a header whose version byte is 2",
    )
    .hex("file_key", key.expose_secret())
    .hex("header", &v2_header)
    .with("stream", "content")
    .hex("ciphertext", &small)
    .write(dir);

    let two = content.encrypt(&pattern(CHUNK_SIZE + 1));
    let name = "stream-missing-final-chunk";
    base(
        name,
        "decryption failure",
        "stream-two-chunks without its final chunk (truncation at a chunk boundary)",
    )
    .with("stream", "content")
    .with(
        "ciphertext_file",
        bin(dir, name, &two[..ENCRYPTED_CHUNK_SIZE]),
    )
    .write(dir);

    let full = content.encrypt(&pattern(CHUNK_SIZE));
    let extra = raw_chunk(&key, &header, "content", 1, true, &[7]);
    let name = "stream-data-after-final-chunk";
    base(
        name,
        "decryption failure",
        "stream-full-chunk followed by an authentic-looking chunk 1 (extension)",
    )
    .with("stream", "content")
    .with(
        "ciphertext_file",
        bin(dir, name, &[full.as_slice(), &extra].concat()),
    )
    .write(dir);

    let first = raw_chunk(&key, &header, "content", 0, false, &pattern(CHUNK_SIZE));
    let empty_last = raw_chunk(&key, &header, "content", 1, true, &[]);
    let name = "stream-empty-final-chunk";
    base(name, "decryption failure", "a full chunk then an empty final chunk: both tags valid, but only an empty stream may end with an empty chunk")
        .with("stream", "content").with("ciphertext_file", bin(dir, name, &[first, empty_last].concat())).write(dir);

    let four = content.encrypt(&pattern(2 * CHUNK_SIZE + 1));
    let (c0, rest) = four.split_at(ENCRYPTED_CHUNK_SIZE);
    let (c1, c2) = rest.split_at(ENCRYPTED_CHUNK_SIZE);
    let name = "stream-reordered";
    base(
        name,
        "decryption failure",
        "a three-chunk stream (2 MiB + 1 byte) with chunks 0 and 1 swapped",
    )
    .with("stream", "content")
    .with("ciphertext_file", bin(dir, name, &[c1, c0, c2].concat()))
    .write(dir);
}

fn wrap_vectors(dir: &Path, rng: &mut Recording) {
    let master = MasterKey::generate(rng);
    let album_key = AlbumKey::generate(rng);
    let file_key = FileKey::generate(rng);
    let album_id = AlbumKeyId {
        album: AlbumId::generate(rng),
        version: 2,
    };
    let file_id = FileId::generate(rng);
    let pair = SharingKeyPair::generate(rng);
    rng.take();
    let album_id_bytes = [
        album_id.album.as_bytes().as_slice(),
        &album_id.version.to_be_bytes(),
    ]
    .concat();

    let wrapped_album = master.wrap_key(&album_key, &album_id, rng);
    let wrapped_file = album_key.wrap_key(&file_key, &file_id, rng);
    let wrapped_sharing = master.wrap_key(&pair.secret, &pair.public, rng);
    let v =
        |name, expect, comment, kind: &str, kek: &[u8], id: &[u8], key: &[u8], wrapped: &[u8]| {
            Vector::new(name, "wrap", expect, comment)
                .with("wrapped_kind", kind)
                .hex("kek", kek)
                .hex("id", id)
                .hex("key", key)
                .hex("wrapped", wrapped)
        };
    v(
        "wrap-album-key",
        "success",
        "an album key (version 2) wrapped by the master key",
        "album-key",
        master.expose_secret(),
        &album_id_bytes,
        album_key.expose_secret(),
        wrapped_album.as_bytes(),
    )
    .write(dir);
    v(
        "wrap-file-key",
        "success",
        "a file key wrapped by its album key",
        "file-key",
        album_key.expose_secret(),
        file_id.as_bytes(),
        file_key.expose_secret(),
        wrapped_file.as_bytes(),
    )
    .write(dir);
    v(
        "wrap-sharing-secret-key",
        "success",
        "the sharing secret key wrapped by the master key, bound to its public key",
        "sharing-secret-key",
        master.expose_secret(),
        pair.public.as_bytes(),
        pair.secret.expose_secret(),
        wrapped_sharing.as_bytes(),
    )
    .write(dir);

    let as_album_id = [file_id.as_bytes().as_slice(), &[0, 0, 0, 0]].concat();
    v(
        "wrap-file-key-as-album-key",
        "decryption failure",
        "wrap-file-key unwrapped as an album key (kind differs)",
        "album-key",
        album_key.expose_secret(),
        &as_album_id,
        &[],
        wrapped_file.as_bytes(),
    )
    .write(dir);
    let other_file = FileId::generate(rng);
    v(
        "wrap-file-key-other-file",
        "decryption failure",
        "wrap-file-key unwrapped for another file id",
        "file-key",
        album_key.expose_secret(),
        other_file.as_bytes(),
        &[],
        wrapped_file.as_bytes(),
    )
    .write(dir);
    let old_version = [album_id.album.as_bytes().as_slice(), &1u32.to_be_bytes()].concat();
    v(
        "wrap-album-key-other-version",
        "decryption failure",
        "wrap-album-key unwrapped as version 1",
        "album-key",
        master.expose_secret(),
        &old_version,
        &[],
        wrapped_album.as_bytes(),
    )
    .write(dir);
    let mut flipped = wrapped_album.as_bytes().to_vec();
    flipped[30] ^= 0x10;
    v(
        "wrap-flipped-bit",
        "decryption failure",
        "wrap-album-key with one bit flipped",
        "album-key",
        master.expose_secret(),
        &album_id_bytes,
        &[],
        &flipped,
    )
    .write(dir);
    v(
        "wrap-wrong-kek",
        "decryption failure",
        "wrap-file-key unwrapped by the master key instead of the album key",
        "file-key",
        master.expose_secret(),
        file_id.as_bytes(),
        &[],
        wrapped_file.as_bytes(),
    )
    .write(dir);
    let mut v2 = wrapped_file.as_bytes().to_vec();
    v2[0] = 2;
    v(
        "wrap-unknown-version",
        "unsupported version",
        "a wrapped key whose version byte is 2",
        "file-key",
        album_key.expose_secret(),
        file_id.as_bytes(),
        &[],
        &v2,
    )
    .write(dir);
}

/// The master key's generations (FORMAT §3, §5): the chain of earlier master keys, and the
/// passphrase and recovery wrappings bound to a generation.
fn master_generation_vectors(dir: &Path, rng: &mut Recording) {
    let old = MasterKey::generate(rng);
    let new = MasterKey::generate(rng);
    let passphrase_kek = MasterKey::generate(rng); // 32 bytes standing for a passphrase KEK
    let recovery = RecoveryKey::generate(rng);
    let unlock = UnlockParams::generate(KdfParams::MINIMUM, rng);
    rng.take();
    let v =
        |name, expect, comment, kind: &str, kek: &[u8], id: &[u8], key: &[u8], wrapped: &[u8]| {
            Vector::new(name, "wrap", expect, comment)
                .with("wrapped_kind", kind)
                .hex("kek", kek)
                .hex("id", id)
                .hex("key", key)
                .hex("wrapped", wrapped)
        };
    let previous = new.wrap_key(&old, &MasterGeneration(0), rng);
    v(
        "wrap-master-key-previous",
        "success",
        "the generation-0 master key wrapped by the generation-1 master key (the chain)",
        "master-key/previous",
        new.expose_secret(),
        &0u32.to_be_bytes(),
        old.expose_secret(),
        previous.as_bytes(),
    )
    .write(dir);
    v(
        "wrap-master-key-previous-other-generation",
        "decryption failure",
        "wrap-master-key-previous unwrapped as generation 1",
        "master-key/previous",
        new.expose_secret(),
        &1u32.to_be_bytes(),
        &[],
        previous.as_bytes(),
    )
    .write(dir);
    let kek = PassphraseKek::from_bytes(*passphrase_kek.expose_secret());
    let record = kek.wrap_master(&unlock, &new, MasterGeneration(1), rng);
    let wrapped = &record.to_bytes()[UNLOCK_PARAMS_SIZE..];
    v(
        "wrap-master-key-passphrase-generation-1",
        "success",
        "a passphrase record's wrapped master key (bytes 30..91) at generation 1, under its KEK",
        "master-key/passphrase",
        passphrase_kek.expose_secret(),
        &1u32.to_be_bytes(),
        new.expose_secret(),
        wrapped,
    )
    .write(dir);
    let stale = kek.wrap_master(&unlock, &old, MasterGeneration(0), rng);
    v(
        "wrap-master-key-passphrase-stale",
        "decryption failure",
        "a generation-0 passphrase record's wrapped key (an old record served again) read as generation 1",
        "master-key/passphrase",
        passphrase_kek.expose_secret(),
        &1u32.to_be_bytes(),
        &[],
        &stale.to_bytes()[UNLOCK_PARAMS_SIZE..],
    )
    .write(dir);
    let by_recovery = recovery.wrap_master(&new, MasterGeneration(2), rng);
    v(
        "wrap-master-key-recovery-generation-2",
        "success",
        "the master key at generation 2 wrapped by the recovery key",
        "master-key/recovery",
        recovery.expose_secret(),
        &2u32.to_be_bytes(),
        new.expose_secret(),
        by_recovery.as_bytes(),
    )
    .write(dir);
    // §7.1: a passkey's PRF output gives the key that wraps the master key.
    let prf_output = MasterKey::generate(rng);
    let canister = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01];
    let passkey = PasskeyKey::from_prf_output(prf_output.expose_secret());
    let by_passkey = passkey.wrap_master(&new, MasterGeneration(1), rng);
    v(
        "wrap-master-key-passkey",
        "success",
        "the master key at generation 1 wrapped by the key of a passkey's PRF output (§7.1)",
        "master-key/passkey",
        passkey.expose_secret(),
        &1u32.to_be_bytes(),
        new.expose_secret(),
        by_passkey.as_bytes(),
    )
    .hex("canister", &canister)
    .hex("prf_input", &passkey_prf_input(&canister))
    .hex("prf_output", prf_output.expose_secret())
    .write(dir);
    v(
        "wrap-master-key-passkey-stale",
        "decryption failure",
        "wrap-master-key-passkey read as generation 2 (a record of before a rotation)",
        "master-key/passkey",
        passkey.expose_secret(),
        &2u32.to_be_bytes(),
        &[],
        by_passkey.as_bytes(),
    )
    .write(dir);
}

fn passphrase_vectors(dir: &Path, rng: &mut Recording) {
    let master = MasterKey::generate(rng);
    rng.take();
    let cases: [(
        &'static str,
        &'static str,
        &str,
        &str,
        KdfParams,
        &'static str,
    ); 3] = [
        (
            "passphrase-owasp-minimum",
            "success",
            "tr0ub4dor&3",
            "tr0ub4dor&3",
            KdfParams::new(19 * 1024, 2, 1).unwrap(),
            "m = 19 MiB, t = 2, p = 1: OWASP's floor",
        ),
        (
            "passphrase-nfc",
            "success",
            "caf\u{e9} cr\u{e8}me",
            "cafe\u{301} cre\u{300}me",
            KdfParams::MINIMUM,
            "wrapped with NFC 'café crème', unlocked with the NFD spelling: both normalise to NFC",
        ),
        (
            "passphrase-wrong",
            "wrong secret",
            "correct horse battery staple",
            "correct horse battery stapler",
            KdfParams::MINIMUM,
            "a wrong passphrase",
        ),
    ];
    for (name, expect, wrap_with, unlock_with, params, comment) in cases {
        let (record, verifier) = PassphraseWrappedKey::wrap(
            &master,
            MasterGeneration::default(),
            wrap_with,
            params,
            rng,
        );
        let random = rng.take();
        let mut v = Vector::new(name, "passphrase", expect, comment)
            .hex("passphrase", unlock_with.as_bytes());
        if expect == "success" {
            let kek = record.unlock_params().derive(unlock_with);
            v = v
                .hex("master_key", master.expose_secret())
                .hex("random", &random)
                .hex("kek", kek.expose_secret())
                .hex("admission_verifier", &verifier.0)
                .hex("unlock_proof", kek.unlock_proof().expose_secret())
                .hex("unlock_verifier", &kek.unlock_proof().verifier().0);
        }
        v.hex("record", &record.to_bytes()).write(dir);
    }
    let record = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "x",
        KdfParams::MINIMUM,
        rng,
    )
    .0
    .to_bytes();
    let mut weak = record.clone();
    weak[2..6].copy_from_slice(&64u32.to_be_bytes());
    weak[6..10].copy_from_slice(&1u32.to_be_bytes());
    Vector::new(
        "passphrase-below-floor",
        "passphrase",
        "parameters refused",
        "a record asking for m = 64 KiB, t = 1: below OWASP's floor, refused before any work",
    )
    .hex("passphrase", b"x")
    .hex("record", &weak)
    .write(dir);
    let mut unknown_kdf = record.clone();
    unknown_kdf[1] = 2;
    Vector::new(
        "passphrase-unknown-kdf",
        "passphrase",
        "unsupported version",
        "a record whose KDF id is 2",
    )
    .hex("passphrase", b"x")
    .hex("record", &unknown_kdf)
    .write(dir);
    Vector::new(
        "passphrase-short-record",
        "passphrase",
        "malformed",
        "a record one byte short",
    )
    .hex("passphrase", b"x")
    .hex("record", &record[..record.len() - 1])
    .write(dir);
    let mut costly = record;
    costly[2..6].copy_from_slice(&(8u32 * 1024 * 1024).to_be_bytes());
    Vector::new(
        "passphrase-too-costly",
        "passphrase",
        "parameters refused",
        "a record asking for m = 8 GiB: refused before any work",
    )
    .hex("passphrase", b"x")
    .hex("record", &costly)
    .write(dir);
}

/// name, expect, method, secret, key, the challenge the proof signs, comment.
type AdmissionCase<'a> = (
    &'static str,
    &'static str,
    &'static str,
    &'a [u8; 32],
    AdmissionKey,
    AdmissionChallenge<'a>,
    &'static str,
);

fn admission_vectors(dir: &Path, rng: &mut Recording) {
    let kek = PassphraseKek::generate(rng);
    let recovery = RecoveryKey::generate(rng);
    // A canister id and a self-authenticating principal, as the IC makes them.
    let canister: &[u8] = &[0, 0, 0, 0, 0, 0x30, 0, 0x1c, 1, 1];
    let caller: Vec<u8> = (0..29).map(|i| 0xa0 + i as u8).collect();
    let other: Vec<u8> = (0..29).map(|i| 0x10 + i as u8).collect();
    let challenge = AdmissionChallenge {
        canister,
        caller: &caller,
        counter: 7,
    };
    let cases: [AdmissionCase; 4] = [
        (
            "admission-passphrase",
            "success",
            "passphrase",
            kek.expose_secret(),
            kek.admission_key(),
            challenge,
            "a device proves the passphrase: the KEK's admission key signs the challenge",
        ),
        (
            "admission-recovery",
            "success",
            "recovery",
            recovery.expose_secret(),
            recovery.admission_key(),
            AdmissionChallenge {
                counter: 0,
                ..challenge
            },
            "a device proves the recovery key, at counter 0 (a vault that admitted nobody yet)",
        ),
        (
            "admission-other-caller",
            "wrong proof",
            "passphrase",
            kek.expose_secret(),
            kek.admission_key(),
            AdmissionChallenge {
                caller: &other,
                ..challenge
            },
            "the proof below was made for another caller: replayed by this one, it is refused",
        ),
        (
            "admission-old-counter",
            "wrong proof",
            "passphrase",
            kek.expose_secret(),
            kek.admission_key(),
            AdmissionChallenge {
                counter: 6,
                ..challenge
            },
            "the proof below was made at counter 6: at counter 7 it is refused",
        ),
    ];
    for (name, expect, method, secret, key, signed, comment) in cases {
        let proof = key.prove(&signed).unwrap();
        let method_value = match method {
            "passphrase" => AdmissionMethod::Passphrase,
            _ => AdmissionMethod::Recovery,
        };
        let checked = if expect == "success" {
            signed
        } else {
            challenge
        };
        let mut v = Vector::new(name, "admission", expect, comment)
            .with("method", method)
            .hex("secret", secret)
            .hex("canister", checked.canister)
            .hex("caller", checked.caller)
            .with("counter", checked.counter.to_string())
            .hex("verifier", &key.verifier().0);
        if expect == "success" {
            v = v.hex("message", &checked.message(method_value).unwrap());
        }
        v.hex("proof", &proof.0).write(dir);
    }
}

fn recovery_vectors(dir: &Path, rng: &mut Recording) {
    let master = MasterKey::generate(rng);
    let recovery = RecoveryKey::generate(rng);
    rng.take();
    let wrapped = recovery.wrap_master(&master, MasterGeneration::default(), rng);
    let nonce = rng.take();
    Vector::new(
        "recovery",
        "recovery",
        "success",
        "the master key wrapped by a recovery key, and its 24 words",
    )
    .with("words", recovery.to_words().as_str())
    .hex("recovery_key", recovery.expose_secret())
    .hex("admission_verifier", &recovery.admission_key().verifier().0)
    .hex("unlock_proof", recovery.unlock_proof().expose_secret())
    .hex("unlock_verifier", &recovery.unlock_proof().verifier().0)
    .hex("master_key", master.expose_secret())
    .hex("random", &nonce)
    .hex("wrapped", wrapped.as_bytes())
    .write(dir);
    let other = RecoveryKey::generate(rng);
    Vector::new(
        "recovery-wrong-key",
        "recovery",
        "wrong secret",
        "another valid recovery key",
    )
    .with("words", other.to_words().as_str())
    .hex("wrapped", wrapped.as_bytes())
    .write(dir);
    let words = recovery.to_words();
    let mut list: Vec<&str> = words.split(' ').collect();
    list.swap(0, 1);
    Vector::new(
        "recovery-bad-checksum",
        "recovery",
        "invalid words",
        "the recovery words with the first two swapped: the BIP39 checksum fails",
    )
    .with("words", list.join(" "))
    .hex("wrapped", wrapped.as_bytes())
    .write(dir);
    let twelve = bip39::Mnemonic::from_entropy(&recovery.expose_secret()[..16])
        .unwrap()
        .to_string();
    Vector::new(
        "recovery-twelve-words",
        "recovery",
        "invalid words",
        "a valid 12-word mnemonic: not a 256-bit recovery key",
    )
    .with("words", twelve)
    .hex("wrapped", wrapped.as_bytes())
    .write(dir);
}

fn seal_vectors(dir: &Path, rng: &mut Recording) {
    let pair = SharingKeyPair::generate(rng);
    let album_key = AlbumKey::generate(rng);
    let file_key = FileKey::generate(rng);
    let album = AlbumKeyId {
        album: AlbumId::generate(rng),
        version: 0,
    };
    let file = FileId::generate(rng);
    rng.take();
    // A principal of 29 bytes, as IC self-authenticating principals are.
    let recipient: Vec<u8> = (0..29u8).map(|i| i.wrapping_mul(37)).collect();
    let album_bytes = [
        album.album.as_bytes().as_slice(),
        &album.version.to_be_bytes(),
    ]
    .concat();

    let sealed_album = pair
        .public
        .seal_key(&album_key, &recipient, &album, rng)
        .unwrap();
    let ikm_album = rng.take();
    let sealed_file = pair
        .public
        .seal_key(&file_key, &recipient, &file, rng)
        .unwrap();
    let ikm_file = rng.take();
    let v = |name, expect, comment, recipient: &[u8], target: &str, id: &[u8], sealed: &[u8]| {
        Vector::new(name, "seal", expect, comment)
            .hex("recipient_secret_key", pair.secret.expose_secret())
            .hex("recipient_public_key", pair.public.as_bytes())
            .hex("recipient", recipient)
            .with("target", target)
            .hex("target_id", id)
            .hex("sealed", sealed)
    };
    v(
        "seal-album-key",
        "success",
        "an album key sealed to a grantee",
        &recipient,
        "album",
        &album_bytes,
        sealed_album.as_bytes(),
    )
    .hex("key", album_key.expose_secret())
    .hex("ikm_e", &ikm_album)
    .write(dir);
    v(
        "seal-file-key",
        "success",
        "a file key sealed to a grantee",
        &recipient,
        "file",
        file.as_bytes(),
        sealed_file.as_bytes(),
    )
    .hex("key", file_key.expose_secret())
    .hex("ikm_e", &ikm_file)
    .write(dir);
    v(
        "seal-other-recipient",
        "decryption failure",
        "seal-album-key opened for another principal",
        b"someone else",
        "album",
        &album_bytes,
        sealed_album.as_bytes(),
    )
    .write(dir);
    let v1 = [album.album.as_bytes().as_slice(), &1u32.to_be_bytes()].concat();
    v(
        "seal-other-version",
        "decryption failure",
        "seal-album-key opened as version 1 of the album's key",
        &recipient,
        "album",
        &v1,
        sealed_album.as_bytes(),
    )
    .write(dir);
    v(
        "seal-album-as-file",
        "decryption failure",
        "seal-album-key opened as a file key of the album's 16-byte id",
        &recipient,
        "file",
        album.album.as_bytes(),
        sealed_album.as_bytes(),
    )
    .write(dir);
    let mut v2 = sealed_file.as_bytes().to_vec();
    v2[0] = 2;
    v(
        "seal-version-2",
        "unsupported version",
        "seal-file-key whose version byte is 2",
        &recipient,
        "file",
        file.as_bytes(),
        &v2,
    )
    .write(dir);
    let mut flipped = sealed_file.as_bytes().to_vec();
    flipped[5] ^= 1;
    v(
        "seal-flipped-enc",
        "decryption failure",
        "seal-file-key with a bit of enc flipped",
        &recipient,
        "file",
        file.as_bytes(),
        &flipped,
    )
    .write(dir);
}

fn share_code_vectors(dir: &Path, rng: &mut Recording) {
    let pair = SharingKeyPair::generate(rng);
    let principal: Vec<u8> = (0..29u8).collect();
    let code = ShareCode::new(&principal, pair.public).unwrap();
    let text = code.to_text();
    Vector::new(
        "share-code",
        "share-code",
        "success",
        "a share code and the fingerprint words of its key",
    )
    .hex("principal", &principal)
    .hex("public_key", pair.public.as_bytes())
    .with("text", &text)
    .with("fingerprint", fingerprint_words(&pair.public))
    .write(dir);
    let anonymous = ShareCode::new(&[4], pair.public).unwrap();
    Vector::new(
        "share-code-short-principal",
        "share-code",
        "success",
        "the one-byte principal 0x04 (anonymous)",
    )
    .hex("principal", &[4])
    .hex("public_key", pair.public.as_bytes())
    .with("text", anonymous.to_text())
    .with("fingerprint", fingerprint_words(&pair.public))
    .write(dir);
    // The canister id rrkah-fqaaa-aaaaa-aaaaq-cai: 10 bytes, as the IC makes them.
    let vault = [0u8, 0, 0, 0, 0, 0, 0, 1, 1, 1];
    let with_vault = code.clone().with_vault(&vault).unwrap();
    Vector::new(
        "share-code-v2",
        "share-code",
        "success",
        "a share code of version 2, naming the owner's vault canister rrkah-fqaaa-aaaaa-aaaaq-cai",
    )
    .hex("principal", &principal)
    .hex("public_key", pair.public.as_bytes())
    .hex("vault", &vault)
    .with("text", with_vault.to_text())
    .with("fingerprint", fingerprint_words(&pair.public))
    .write(dir);
    let mut typo: Vec<char> = text.chars().collect();
    typo[10] = if typo[10] == 'q' { 'r' } else { 'q' };
    Vector::new(
        "share-code-typo",
        "share-code",
        "bad checksum",
        "share-code with one character changed",
    )
    .with("text", typo.into_iter().collect::<String>())
    .write(dir);
    let encode = |mut payload: Vec<u8>| {
        let checksum = Sha256::digest(&payload);
        payload.extend_from_slice(&checksum[..4]);
        let encoded = data_encoding::BASE32_NOPAD.encode(&payload).to_lowercase();
        format!("vs1-{encoded}")
    };
    let mut payload = vec![3u8, 1, 4];
    payload.extend_from_slice(pair.public.as_bytes());
    payload.extend_from_slice(&[vault.len() as u8]);
    payload.extend_from_slice(&vault);
    Vector::new(
        "share-code-version-3",
        "share-code",
        "unsupported version",
        "a share code of version 3 (laid out as version 2), with a valid checksum",
    )
    .with("text", encode(payload))
    .write(dir);
    let mut payload = vec![2u8, 1, 4];
    payload.extend_from_slice(pair.public.as_bytes());
    payload.push(0);
    Vector::new(
        "share-code-v2-empty-vault",
        "share-code",
        "invalid share code",
        "a share code of version 2 whose vault is empty (length 0), with a valid checksum",
    )
    .with("text", encode(payload))
    .write(dir);
    Vector::new(
        "share-code-wrong-prefix",
        "share-code",
        "invalid share code",
        "share-code with the prefix vs2",
    )
    .with("text", text.replacen("vs1", "vs2", 1))
    .write(dir);
}

fn link_vectors(dir: &Path, rng: &mut Recording) {
    let album_key = AlbumKey::generate(rng);
    let album = AlbumKeyId {
        album: AlbumId::generate(rng),
        version: 0,
    };
    let album_bytes = [
        album.album.as_bytes().as_slice(),
        &album.version.to_be_bytes(),
    ]
    .concat();
    for (name, password) in [
        ("link-no-password", None),
        ("link-password", Some("sunflower 🌻")),
    ] {
        let secret = LinkSecret::generate(rng);
        rng.take();
        let pw = password
            .map(|p| LinkPassword::derive(&secret, p, DEFAULT_LINK_PBKDF2_ITERATIONS).unwrap());
        let link_key = secret.link_key(pw.as_ref());
        let wrapped = link_key.wrap_key(&album_key, &album, rng);
        let mut v = Vector::new(
            name,
            "link",
            "success",
            "a link to an album: fragment, token, its hash, link key, and the album key it wraps",
        )
        .with("fragment", secret.to_fragment().as_str())
        .hex("secret", secret.expose_secret())
        .hex("token", secret.token().expose_secret())
        .hex("token_hash", &secret.token().hash().0);
        if let (Some(p), Some(pw)) = (password, &pw) {
            // The intermediate values, computed here with the primitives directly.
            let mut salt = [0u8; 32];
            Hkdf::<Sha256>::new(None, secret.expose_secret())
                .expand(b"vault/v1/link/password-salt", &mut salt)
                .unwrap();
            let mut pw_key = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(
                p.as_bytes(),
                &salt[..16],
                DEFAULT_LINK_PBKDF2_ITERATIONS,
                &mut pw_key,
            );
            v = v
                .hex("password", p.as_bytes())
                .with("iterations", DEFAULT_LINK_PBKDF2_ITERATIONS.to_string())
                .hex("password_salt", &salt[..16])
                .hex("password_key", &pw_key)
                .hex("proof", pw.proof().expose_secret())
                .hex("verifier", &pw.proof().verifier().0);
        }
        v.hex("link_key", link_key.expose_secret())
            .with("wrapped_kind", "album-key")
            .hex("id", &album_bytes)
            .hex("key", album_key.expose_secret())
            .hex("random", &rng.take())
            .hex("wrapped", wrapped.as_bytes())
            .write(dir);
    }
    let secret = LinkSecret::generate(rng);
    Vector::new(
        "link-too-many-iterations",
        "link",
        "parameters refused",
        "a password link asking for 20 000 000 PBKDF2 iterations",
    )
    .with("fragment", secret.to_fragment().as_str())
    .hex("password", b"x")
    .with("iterations", "20000000")
    .write(dir);
    let fragment = LinkSecret::generate(rng).to_fragment();
    let mut damaged: Vec<char> = fragment.chars().collect();
    damaged[20] = if damaged[20] == 'x' { 'y' } else { 'x' };
    Vector::new(
        "link-damaged-fragment",
        "link",
        "damaged link",
        "a fragment with one character changed: the checksum fails",
    )
    .with("fragment", damaged.into_iter().collect::<String>())
    .write(dir);
}

fn metadata_vectors(dir: &Path, rng: &mut Recording) {
    let key = FileKey::generate(rng);
    rng.take();
    let full = FileMetadata {
        name: "DSC00042.JPG".into(),
        mime: "image/jpeg".into(),
        size: 7_340_032,
        content_sha256: Sha256::digest(b"pretend these are the photo's bytes").into(),
        taken_at: Some(1_404_000_000_000),
        taken_offset_min: Some(120),
        modified_at: Some(1_404_000_100_250),
        width: Some(6000),
        height: Some(4000),
        orientation: Some(6),
        gps: Some(GpsPosition {
            latitude: 46.519_65,
            longitude: 6.632_27,
            altitude: Some(372.5),
        }),
        camera_make: Some("SONY".into()),
        camera_model: Some("ILCE-6000".into()),
        duration_ms: None,
        name_bytes: None,
    };
    let minimal = FileMetadata {
        name: "notes.txt".into(),
        mime: "text/plain".into(),
        size: 0,
        content_sha256: Sha256::digest(b"").into(),
        ..Default::default()
    };
    for (name, m, comment) in [
        (
            "metadata-photo",
            &full,
            "a photo's record with every field but duration",
        ),
        ("metadata-minimal", &minimal, "only the required fields"),
    ] {
        let blob = m.seal(&key, rng);
        Vector::new(name, "metadata", "success", comment)
            .hex("file_key", key.expose_secret())
            .hex("random", &rng.take())
            .hex("cbor", &m.to_cbor())
            .hex("blob", &blob)
            .with("name", &m.name)
            .with("size", m.size.to_string())
            .write(dir);
    }
    let mut unknown = minimal.to_cbor();
    unknown[0] += 1;
    unknown.extend_from_slice(&[0x18, 99, 0x82, 0x01, 0x02]);
    Vector::new(
        "metadata-unknown-key",
        "metadata",
        "success",
        "minimal record plus key 99 = [1, 2], which a reader skips",
    )
    .hex("file_key", key.expose_secret())
    .hex("cbor", &unknown)
    .hex(
        "blob",
        &seal_blob(&key, StreamKind::Metadata, &unknown, rng),
    )
    .with("name", &minimal.name)
    .with("size", "0")
    .write(dir);
    let base = minimal.to_cbor();
    let malformed: [(&'static str, &'static str, Vec<u8>); 3] = [
        (
            "metadata-duplicate-key",
            "minimal record with key 1 (name) twice",
            {
                let mut b = base.clone();
                b[0] += 1;
                b.extend_from_slice(&[0x01, 0x61, b'x']);
                b
            },
        ),
        (
            "metadata-trailing-bytes",
            "minimal record followed by one byte",
            [base.as_slice(), &[0x00]].concat(),
        ),
        (
            "metadata-bad-orientation",
            "minimal record plus orientation 9",
            {
                let mut b = base.clone();
                b[0] += 1;
                b.extend_from_slice(&[0x0a, 0x09]);
                b
            },
        ),
    ];
    for (name, comment, cbor) in malformed {
        Vector::new(name, "metadata", "malformed", comment)
            .hex("file_key", key.expose_secret())
            .hex("cbor", &cbor)
            .hex("blob", &seal_blob(&key, StreamKind::Metadata, &cbor, rng))
            .write(dir);
    }
    let mut v2 = minimal.to_cbor();
    assert_eq!(&v2[..3], &[0xa5, 0x00, 0x01]);
    v2[2] = 0x02;
    Vector::new(
        "metadata-version-2",
        "metadata",
        "unsupported version",
        "a record whose version field is 2",
    )
    .hex("file_key", key.expose_secret())
    .hex("cbor", &v2)
    .hex("blob", &seal_blob(&key, StreamKind::Metadata, &v2, rng))
    .write(dir);
    // Last, so that the vectors above keep their random bytes.
    let latin1 = FileMetadata {
        name: "caf\u{fffd}.jpg".into(),
        name_bytes: Some(b"caf\xe9.jpg".to_vec()),
        ..minimal.clone()
    };
    rng.take();
    let blob = latin1.seal(&key, rng);
    Vector::new(
        "metadata-name-bytes",
        "metadata",
        "success",
        "a file name that is not UTF-8 (Latin-1 `café.jpg`): its bytes, and their lossy text as the name",
    )
    .hex("file_key", key.expose_secret())
    .hex("random", &rng.take())
    .hex("cbor", &latin1.to_cbor())
    .hex("blob", &blob)
    .with("name", &latin1.name)
    .hex("name_bytes", latin1.name_bytes.as_deref().unwrap_or_default())
    .with("size", latin1.size.to_string())
    .write(dir);
}

fn dedupe_vectors(dir: &Path, rng: &mut Recording) {
    let master = MasterKey::generate(rng);
    let dedupe = DedupeKey::derive(&master);
    let content = b"the bytes of a photo".to_vec();
    Vector::new(
        "dedupe",
        "dedupe",
        "success",
        "the dedupe key of a master key, and the dedupe hash of some content",
    )
    .hex("master_key", master.expose_secret())
    .hex("dedupe_key", dedupe.expose_secret())
    .hex("content", &content)
    .hex("hash", &dedupe.hash(&content).0)
    .write(dir);
}

/// §4.6: an album's name under its album key, and a link's record under the master key.
fn text_stream_vectors(dir: &Path, rng: &mut Recording) {
    for (name, stream, text) in [
        ("stream-album-name", "album-name", "Été à Genève 2026"),
        ("stream-link-record", "link-record", "for Grandma"),
    ] {
        let key = vault_crypto::AlbumKey::generate(rng);
        let (blob, plain) = if stream == "album-name" {
            (
                vault_crypto::seal_album_name(&key, text, rng),
                text.as_bytes().to_vec(),
            )
        } else {
            let master = vault_crypto::MasterKey::from_bytes(*key.expose_secret());
            let secret = vault_crypto::LinkSecret::generate(rng);
            let link_key = secret.link_key(None);
            let mut plain = secret.expose_secret().to_vec();
            plain.extend_from_slice(link_key.expose_secret());
            plain.extend_from_slice(text.as_bytes());
            (
                vault_crypto::seal_link_record(&master, &secret, &link_key, text, rng),
                plain,
            )
        };
        Vector::new(
            name,
            "stream",
            "success",
            "a text stream (§4.6): the key is file_key's bytes",
        )
        .hex("file_key", key.expose_secret())
        .hex("header", &blob[..17])
        .with("stream", stream)
        .hex("plaintext", &plain)
        .hex("ciphertext", &blob[17..])
        .write(dir);
    }
}

/// The refusals §1, §5–§10 list that the vectors above do not cover (issue 16): the version
/// byte judged before the size, wrong sizes and empty input, Argon2id bounds, link iterations
/// below the floor, damaged fragments, share codes with unused characters, and CBOR the metadata
/// reader must accept (non-shortest heads, narrow floats) or refuse.
fn refusal_vectors(dir: &Path, rng: &mut Recording) {
    fixed_size_vectors(dir, rng);
    kdf_bound_vectors(dir, rng);
    fragment_vectors(dir, rng);
    share_code_refusal_vectors(dir, rng);
    metadata_form_vectors(dir, rng);
    Vector::new(
        "recovery-empty",
        "recovery",
        "invalid words",
        "no words at all",
    )
    .with("words", "")
    .hex("wrapped", &[1; WRAPPED_KEY_SIZE])
    .write(dir);
}

/// `bytes` with its version byte (the first) set to `version`.
fn with_version(bytes: &[u8], version: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[0] = version;
    out
}

fn fixed_size_vectors(dir: &Path, rng: &mut Recording) {
    let key = FileKey::generate(rng);
    let header = StreamHeader::generate(rng);
    rng.take();
    let ciphertext = StreamCipher::new(&key, StreamKind::Content, &header).encrypt(b"fixed sizes");
    let h = header.to_bytes();
    for (name, expect, comment, bytes) in [
        (
            "stream-header-short",
            "malformed",
            "a 16-byte header",
            h[..16].to_vec(),
        ),
        (
            "stream-header-long",
            "malformed",
            "an 18-byte header",
            [&h[..], &[0]].concat(),
        ),
        (
            "stream-header-empty",
            "malformed",
            "an empty header: no version byte, so its size is what is wrong",
            vec![],
        ),
        (
            "stream-header-short-version-2",
            "unsupported version",
            "a 16-byte header whose version byte is 2: the version is judged before the size",
            with_version(&h[..16], 2),
        ),
    ] {
        Vector::new(name, "stream", expect, comment)
            .hex("file_key", key.expose_secret())
            .hex("header", &bytes)
            .with("stream", "content")
            .hex("ciphertext", &ciphertext)
            .write(dir);
    }

    let master = MasterKey::generate(rng);
    let file_key = FileKey::generate(rng);
    let file_id = FileId::generate(rng);
    rng.take();
    let wrapped = master.wrap_key(&file_key, &file_id, rng);
    rng.take();
    let w = wrapped.as_bytes();
    for (name, expect, comment, bytes) in [
        (
            "wrap-short",
            "malformed",
            "a 60-byte wrapped key",
            w[..60].to_vec(),
        ),
        (
            "wrap-long",
            "malformed",
            "a 62-byte wrapped key",
            [&w[..], &[0]].concat(),
        ),
        ("wrap-empty", "malformed", "an empty wrapped key", vec![]),
        (
            "wrap-short-version-2",
            "unsupported version",
            "a 60-byte wrapped key whose version byte is 2: the version is judged before the size",
            with_version(&w[..60], 2),
        ),
    ] {
        Vector::new(name, "wrap", expect, comment)
            .with("wrapped_kind", "file-key")
            .hex("kek", master.expose_secret())
            .hex("id", file_id.as_bytes())
            .hex("key", &[])
            .hex("wrapped", &bytes)
            .write(dir);
    }

    let pair = SharingKeyPair::generate(rng);
    let file_key = FileKey::generate(rng);
    let file_id = FileId::generate(rng);
    rng.take();
    let recipient = [4u8];
    let sealed = pair
        .public
        .seal_key(&file_key, &recipient, &file_id, rng)
        .unwrap();
    rng.take();
    let z = sealed.as_bytes();
    for (name, expect, comment, bytes) in [
        (
            "seal-short",
            "malformed",
            "an 80-byte sealed key",
            z[..80].to_vec(),
        ),
        (
            "seal-long",
            "malformed",
            "an 82-byte sealed key",
            [&z[..], &[0]].concat(),
        ),
        ("seal-empty", "malformed", "an empty sealed key", vec![]),
        (
            "seal-short-version-2",
            "unsupported version",
            "an 80-byte sealed key whose version byte is 2: the version is judged before the size",
            with_version(&z[..80], 2),
        ),
    ] {
        Vector::new(name, "seal", expect, comment)
            .hex("recipient_secret_key", pair.secret.expose_secret())
            .hex("recipient_public_key", pair.public.as_bytes())
            .hex("recipient", &recipient)
            .with("target", "file")
            .hex("target_id", file_id.as_bytes())
            .hex("sealed", &bytes)
            .write(dir);
    }
}

/// §6: every refusal comes before any Argon2id work. The records start from a real one made
/// at OWASP's floor (so that they hold whether or not readers also refuse records below it),
/// with one field changed.
fn kdf_bound_vectors(dir: &Path, rng: &mut Recording) {
    let master = MasterKey::generate(rng);
    rng.take();
    let floor = KdfParams::new(19 * 1024, 2, 1).unwrap();
    let record = PassphraseWrappedKey::wrap(&master, MasterGeneration::default(), "x", floor, rng)
        .0
        .to_bytes();
    rng.take();
    let params = |m: u32, t: u32, l: u32| {
        let mut r = record.clone();
        r[2..6].copy_from_slice(&m.to_be_bytes());
        r[6..10].copy_from_slice(&t.to_be_bytes());
        r[10..14].copy_from_slice(&l.to_be_bytes());
        r
    };
    let at = |mut r: Vec<u8>, index: usize, byte: u8| {
        r[index] = byte;
        r
    };
    let cases: Vec<(&'static str, &str, &'static str, Vec<u8>)> = vec![
        (
            "passphrase-memory-over-ceiling",
            "parameters refused",
            "m = 4194305 KiB (4 GiB + 1 KiB), t = 2, l = 1",
            params(4_194_305, 2, 1),
        ),
        (
            "passphrase-passes-over-ceiling",
            "parameters refused",
            "m = 19456, t = 65, l = 1",
            params(19_456, 65, 1),
        ),
        (
            "passphrase-no-passes",
            "parameters refused",
            "m = 19456, t = 0, l = 1",
            params(19_456, 0, 1),
        ),
        (
            "passphrase-no-lanes",
            "parameters refused",
            "m = 19456, t = 2, l = 0",
            params(19_456, 2, 0),
        ),
        (
            "passphrase-lanes-over-ceiling",
            "parameters refused",
            "m = 19456, t = 2, l = 17",
            params(19_456, 2, 17),
        ),
        (
            "passphrase-memory-under-lanes",
            "parameters refused",
            "m = 64, t = 2, l = 16: less than 8 KiB a lane",
            params(64, 2, 16),
        ),
        (
            "passphrase-kdf-id-0",
            "unsupported version",
            "a record whose KDF id is 0",
            at(record.clone(), 1, 0),
        ),
        (
            "passphrase-unknown-kdf-over-ceiling",
            "unsupported version",
            "KDF id 2 with m = 2^32 - 1: the KDF id is judged before the bounds, which are Argon2id's",
            at(params(u32::MAX, 2, 1), 1, 2),
        ),
        (
            "passphrase-record-version-255",
            "unsupported version",
            "a record whose version byte is 255",
            at(record.clone(), 0, 255),
        ),
        (
            "passphrase-record-short-version-255",
            "unsupported version",
            "a 90-byte record whose version byte is 255: the version is judged before the size",
            at(record[..90].to_vec(), 0, 255),
        ),
        (
            "passphrase-wrapped-key-version-255",
            "unsupported version",
            "a record whose wrapped key (byte 30) has version byte 255: refused before any Argon2id work",
            at(record.clone(), 30, 255),
        ),
        (
            "passphrase-bounds-before-wrapped-key",
            "parameters refused",
            "t = 65 and a wrapped key of version 255: the bounds are judged first",
            at(params(19_456, 65, 1), 30, 255),
        ),
        (
            "passphrase-long-record",
            "malformed",
            "a 92-byte record",
            [record.as_slice(), &[0]].concat(),
        ),
        (
            "passphrase-unlock-params-only",
            "malformed",
            "the 30 bytes of unlock params, not a 91-byte record",
            record[..30].to_vec(),
        ),
        (
            "passphrase-empty-record",
            "malformed",
            "an empty record",
            vec![],
        ),
        (
            "passphrase-memory-below-floor",
            "parameters refused",
            "m = 19455 KiB, t = 2, l = 1: 1 KiB below OWASP's floor, refused by readers too",
            params(19_455, 2, 1),
        ),
        (
            "passphrase-passes-below-floor",
            "parameters refused",
            "m = 19456 KiB, t = 1, l = 1: one pass below OWASP's floor, refused by readers too",
            params(19_456, 1, 1),
        ),
    ];
    for (name, expect, comment, bytes) in cases {
        Vector::new(name, "passphrase", expect, comment)
            .hex("passphrase", b"x")
            .hex("record", &bytes)
            .write(dir);
    }
}

fn fragment_vectors(dir: &Path, rng: &mut Recording) {
    let secret = LinkSecret::generate(rng);
    rng.take();
    let fragment = secret.to_fragment().to_string();
    for (name, iterations, comment) in [
        (
            "link-too-few-iterations",
            99_999u32,
            "a password link with 99 999 PBKDF2 iterations, one below the floor",
        ),
        (
            "link-zero-iterations",
            0,
            "a password link with 0 PBKDF2 iterations",
        ),
    ] {
        Vector::new(name, "link", "parameters refused", comment)
            .with("fragment", &fragment)
            .hex("password", b"x")
            .with("iterations", iterations.to_string())
            .write(dir);
    }
    let mut body = vec![2u8];
    body.extend_from_slice(secret.expose_secret());
    let checksum = Sha256::digest(&body);
    body.extend_from_slice(&checksum[..3]);
    let version_2 = data_encoding::BASE64URL_NOPAD.encode(&body);
    let swap = |at: usize, c: char| {
        let mut chars: Vec<char> = fragment.chars().collect();
        chars[at] = c;
        chars.into_iter().collect::<String>()
    };
    for (name, text, comment) in [
        (
            "link-fragment-version-2",
            version_2,
            "a fragment of version 2 with a valid checksum: damaged, not unsupported (§9.1)",
        ),
        (
            "link-fragment-short",
            fragment[..47].to_string(),
            "47 characters",
        ),
        (
            "link-fragment-long",
            format!("{fragment}A"),
            "49 characters",
        ),
        (
            "link-fragment-padded",
            format!("{fragment}="),
            "the fragment with base64 padding",
        ),
        (
            "link-fragment-plus",
            swap(10, '+'),
            "a '+' (the standard alphabet's) in place of a character",
        ),
        (
            "link-fragment-slash",
            swap(10, '/'),
            "a '/' (the standard alphabet's) in place of a character",
        ),
        (
            "link-fragment-two-hashes",
            format!("##{fragment}"),
            "two leading '#': only one is stripped",
        ),
        (
            "link-fragment-inner-space",
            format!("{} {}", &fragment[..24], &fragment[24..]),
            "a space inside the fragment",
        ),
        ("link-fragment-only-hash", "#".to_string(), "a lone '#'"),
        ("link-fragment-empty", String::new(), "an empty fragment"),
    ] {
        Vector::new(name, "link", "damaged link", comment)
            .with("fragment", text)
            .write(dir);
    }
}

fn share_code_refusal_vectors(dir: &Path, rng: &mut Recording) {
    let pair = SharingKeyPair::generate(rng);
    rng.take();
    let principal: Vec<u8> = (100..129u8).collect();
    let text = ShareCode::new(&principal, pair.public).unwrap().to_text();
    let body: String = text[4..].chars().filter(|&c| c != '-').collect();
    // 67 bytes are 108 characters (108 mod 8 = 4): the last character holds 4 unused bits.
    assert_eq!(body.len(), 108);
    const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz234567";
    let last = ALPHABET.find(body.chars().last().unwrap()).unwrap();
    assert_eq!(last & 0xf, 0);
    let unused_bit = ALPHABET.chars().nth(last | 1).unwrap();
    let one = format!("vs1-1{}", &text[5..]);
    let mut nonzero = text.clone();
    nonzero.pop();
    nonzero.push(unused_bit);
    for (name, code, comment) in [
        ("share-code-empty", String::new(), "an empty text"),
        (
            "share-code-only-prefix",
            "vs1-".to_string(),
            "the prefix alone: nothing decodes, so fewer than 38 bytes (bad checksum)",
        ),
        (
            "share-code-unused-character",
            format!("{text}aa"),
            "110 base32 characters (110 mod 8 = 6): the last is left wholly unused",
        ),
        (
            "share-code-nonzero-unused-bits",
            nonzero,
            "the last character with one of its 4 unused bits set",
        ),
        (
            "share-code-padding",
            format!("{text}===="),
            "base32 padding",
        ),
        (
            "share-code-digit-one",
            one,
            "a '1' in place of the first character after the prefix: outside the base32 alphabet",
        ),
    ] {
        let expect = if name == "share-code-only-prefix" {
            "bad checksum"
        } else {
            "invalid share code"
        };
        Vector::new(name, "share-code", expect, comment)
            .with("text", code)
            .write(dir);
    }
}

fn metadata_form_vectors(dir: &Path, rng: &mut Recording) {
    let key = FileKey::generate(rng);
    rng.take();
    let hash = Sha256::digest(b"");
    // The minimal record with every head in a longer form than needed (§10: accepted).
    let mut long = vec![0xb8, 0x05]; // map of 5, count in one more byte
    long.extend_from_slice(&[0x18, 0x00, 0x1b, 0, 0, 0, 0, 0, 0, 0, 1]); // version: 1 in 8 bytes
    long.extend_from_slice(&[0x19, 0x00, 0x01, 0x78, 9]); // key 1 in 2 bytes, length in 1
    long.extend_from_slice(b"notes.txt");
    long.extend_from_slice(&[0x02, 0x7a, 0, 0, 0, 10]); // length in 4 bytes
    long.extend_from_slice(b"text/plain");
    long.extend_from_slice(&[0x03, 0x1a, 0, 0, 0, 0]); // size 0 in 4 bytes
    long.extend_from_slice(&[0x04, 0x59, 0x00, 0x20]); // 32 bytes, length in 2
    long.extend_from_slice(&hash);
    let minimal = |extra_entries: u8, extra: &[u8]| {
        let mut b = vec![0xa5 + extra_entries, 0x00, 0x01, 0x01, 0x69];
        b.extend_from_slice(b"notes.txt");
        b.extend_from_slice(&[0x02, 0x6a]);
        b.extend_from_slice(b"text/plain");
        b.extend_from_slice(&[0x03, 0x00, 0x04, 0x58, 0x20]);
        b.extend_from_slice(&hash);
        b.extend_from_slice(extra);
        b
    };
    let f64_zero = [0xfb, 0, 0, 0, 0, 0, 0, 0, 0];
    let gps = |elements: &[u8]| [&[0x0b][..], elements].concat();
    let cases: Vec<(&'static str, &str, &'static str, Vec<u8>)> = vec![
        (
            "metadata-non-shortest-heads",
            "success",
            "the minimal record with every head (count, key, integer, length) longer than needed",
            long,
        ),
        (
            "metadata-gps-narrow-floats",
            "success",
            "GPS [1.0, -2.0] as float16 and float32: readers accept any float width",
            minimal(
                1,
                &gps(&[0x82, 0xf9, 0x3c, 0x00, 0xfa, 0xc0, 0x00, 0x00, 0x00]),
            ),
        ),
        (
            "metadata-gps-true",
            "malformed",
            "GPS [0.0, true]: true is major type 7 but not a float",
            minimal(1, &gps(&[&[0x82][..], &f64_zero, &[0xf5]].concat())),
        ),
        (
            "metadata-gps-null",
            "malformed",
            "GPS null: a writer leaves an unknown position out",
            minimal(1, &gps(&[0xf6])),
        ),
        (
            "metadata-null-camera",
            "malformed",
            "camera make (key 12) null",
            minimal(1, &[0x0c, 0xf6]),
        ),
        (
            "metadata-indefinite-text",
            "malformed",
            "camera make as an indefinite-length text: refused under a known key",
            minimal(1, &[0x0c, 0x7f, 0x61, b'a', 0xff]),
        ),
        (
            "metadata-indefinite-gps",
            "malformed",
            "GPS as an indefinite-length array",
            minimal(
                1,
                &gps(&[&[0x9f][..], &f64_zero, &f64_zero, &[0xff]].concat()),
            ),
        ),
        (
            "metadata-tagged-value",
            "malformed",
            "taken at (key 5) under tag 1",
            minimal(1, &[0x05, 0xc1, 0x00]),
        ),
        (
            "metadata-empty",
            "malformed",
            "an empty record: no CBOR item at all",
            vec![],
        ),
        (
            "metadata-unknown-not-utf8",
            "success",
            "key 99 = text that is not UTF-8: well-formed (RFC 8949), so skipped",
            minimal(1, &[0x18, 99, 0x62, 0xff, 0xfe]),
        ),
        (
            "metadata-unknown-break-in-array",
            "malformed",
            "key 99 = a definite array of 2 holding 0 and a break: not well-formed",
            minimal(1, &[0x18, 99, 0x82, 0x00, 0xff]),
        ),
        (
            "metadata-unknown-short-simple",
            "malformed",
            "key 99 = simple value 16 in two bytes (0xf8 0x10): not well-formed",
            minimal(1, &[0x18, 99, 0xf8, 0x10]),
        ),
        (
            "metadata-unknown-odd-map",
            "malformed",
            "key 99 = an indefinite-length map holding a key and no value",
            minimal(1, &[0x18, 99, 0xbf, 0x00, 0xff]),
        ),
    ];
    for (name, expect, comment, cbor) in cases {
        let mut v = Vector::new(name, "metadata", expect, comment)
            .hex("file_key", key.expose_secret())
            .hex("cbor", &cbor)
            .hex("blob", &seal_blob(&key, StreamKind::Metadata, &cbor, rng));
        rng.take();
        if expect == "success" {
            v = v.with("name", "notes.txt").with("size", "0");
        }
        v.write(dir);
    }
}

/// §8.4: grant authenticators, and the refusals of a swapped key, a new version, a short one.
fn grant_vectors(dir: &Path, rng: &mut Recording) {
    let master = MasterKey::generate(rng);
    let grant_key = GrantKey::derive(&master);
    let vault: Vec<u8> = (0..10).map(|i| 0xa0 + i).collect();
    let grantee: Vec<u8> = (0..29).collect();
    let public = SharingKeyPair::generate(rng).public;
    let swapped = SharingKeyPair::generate(rng).public;
    let album = AlbumId::generate(rng);
    let file = FileId::generate(rng);
    let album_terms = GrantTerms {
        vault: &vault,
        target: GrantTarget::Album(album),
        grantee: &grantee,
        grantee_key: &public,
        permission: GrantPermission::Contribute,
        expires_at: Some(1_767_225_600_000_000_000),
    };
    let file_terms = GrantTerms {
        target: GrantTarget::File(file),
        permission: GrantPermission::View,
        expires_at: None,
        ..album_terms
    };
    let authenticator = *grant_key.authenticate(&album_terms).unwrap().as_bytes();
    let mut version_2 = authenticator;
    version_2[0] = 2;
    let swapped_terms = GrantTerms {
        grantee_key: &swapped,
        ..album_terms
    };
    let cases: [(&'static str, &str, &'static str, GrantTerms, Vec<u8>); 5] = [
        (
            "grant-album",
            "success",
            "an album grant with contribute and an expiry",
            album_terms,
            authenticator.to_vec(),
        ),
        (
            "grant-file",
            "success",
            "a file grant with view and no expiry",
            file_terms,
            grant_key
                .authenticate(&file_terms)
                .unwrap()
                .as_bytes()
                .to_vec(),
        ),
        (
            "grant-swapped-key",
            "not authentic",
            "grant-album's authenticator, with another grantee public key in the record",
            swapped_terms,
            authenticator.to_vec(),
        ),
        (
            "grant-version-2",
            "unsupported version",
            "grant-album's authenticator with version byte 2",
            album_terms,
            version_2.to_vec(),
        ),
        (
            "grant-short",
            "malformed",
            "grant-album's authenticator without its last byte",
            album_terms,
            authenticator[..32].to_vec(),
        ),
    ];
    for (name, expect, comment, terms, authenticator) in cases {
        let (target, id) = match terms.target {
            GrantTarget::Album(a) => ("album", a.0),
            GrantTarget::File(f) => ("file", f.0),
        };
        let mut v = Vector::new(name, "grant", expect, comment)
            .hex("master_key", master.expose_secret())
            .hex("grant_key", grant_key.expose_secret())
            .hex("vault", terms.vault)
            .with("target", target)
            .hex("target_id", &id)
            .hex("grantee", terms.grantee)
            .hex("grantee_public_key", terms.grantee_key.as_bytes())
            .with(
                "permission",
                match terms.permission {
                    GrantPermission::View => "view",
                    GrantPermission::Contribute => "contribute",
                },
            );
        if let Some(t) = terms.expires_at {
            v = v.with("expires_at", t.to_string());
        }
        v.hex("message", &terms.message().unwrap())
            .hex("authenticator", &authenticator)
            .write(dir);
    }
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    stream_vectors(&dir, &mut Recording::new(1));
    wrap_vectors(&dir, &mut Recording::new(2));
    passphrase_vectors(&dir, &mut Recording::new(3));
    recovery_vectors(&dir, &mut Recording::new(4));
    admission_vectors(&dir, &mut Recording::new(11));
    seal_vectors(&dir, &mut Recording::new(5));
    share_code_vectors(&dir, &mut Recording::new(6));
    link_vectors(&dir, &mut Recording::new(7));
    metadata_vectors(&dir, &mut Recording::new(8));
    dedupe_vectors(&dir, &mut Recording::new(9));
    text_stream_vectors(&dir, &mut Recording::new(10));
    refusal_vectors(&dir, &mut Recording::new(20));
    grant_vectors(&dir, &mut Recording::new(11));
    master_generation_vectors(&dir, &mut Recording::new(12));
    println!("wrote {}", dir.display());
}
