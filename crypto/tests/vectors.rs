//! Checks every frozen vector in `tests/vectors/` (format: docs/FORMAT.md §12): decryption
//! gives the expected result or the expected refusal, and where the vector records the
//! randomness used, encrypting again gives the same bytes — so a format change fails here.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::Replay;
use unicode_normalization::UnicodeNormalization;
use vault_crypto::*;

struct Vector {
    name: String,
    fields: BTreeMap<String, String>,
}

impl Vector {
    fn get(&self, field: &str) -> &str {
        self.fields
            .get(field)
            .unwrap_or_else(|| panic!("{}: no field {field}", self.name))
    }
    fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
    fn hex(&self, field: &str) -> Vec<u8> {
        hex::decode(self.get(field))
            .unwrap_or_else(|e| panic!("{}: {field} is not hex: {e}", self.name))
    }
    fn key(&self, field: &str) -> [u8; 32] {
        self.hex(field)
            .try_into()
            .unwrap_or_else(|_| panic!("{}: {field} is not 32 bytes", self.name))
    }
    fn text(&self, field: &str) -> String {
        String::from_utf8(self.hex(field)).unwrap()
    }
    fn expect(&self) -> &str {
        self.get("expect")
    }
    fn success(&self) -> bool {
        self.expect() == "success"
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn load_all() -> Vec<Vector> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "txt") {
            out.push(parse(&path));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn parse(path: &Path) -> Vector {
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut fields = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (k, v) = line
            .split_once(": ")
            .or_else(|| line.strip_suffix(':').map(|k| (k, "")))
            .unwrap_or_else(|| panic!("{name}: bad line {line:?}"));
        assert!(
            fields.insert(k.to_string(), v.to_string()).is_none(),
            "{name}: {k} twice"
        );
    }
    Vector { name, fields }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn stream_kind(v: &Vector) -> StreamKind {
    match v.get("stream") {
        "content" => StreamKind::Content,
        "thumbnail" => StreamKind::Thumbnail,
        "metadata" => StreamKind::Metadata,
        "album-name" => StreamKind::AlbumName,
        "link-record" => StreamKind::LinkRecord,
        other => panic!("{}: unknown stream {other}", v.name),
    }
}

/// FORMAT.md §1's outcome for a fixed-size structure that did not read.
fn structure_outcome(e: &DecryptError) -> &'static str {
    match e {
        DecryptError::UnsupportedVersion(_) => "unsupported version",
        DecryptError::WrongLength { .. } => "malformed",
        DecryptError::DecryptionFailed => "decryption failure",
    }
}

fn check_stream(v: &Vector) {
    let key = FileKey::from_bytes(v.key("file_key"));
    let header = match StreamHeader::from_bytes(&v.hex("header")) {
        Ok(h) => h,
        Err(e) => {
            assert_eq!(v.expect(), structure_outcome(&e), "{}: {e}", v.name);
            return;
        }
    };
    let cipher = StreamCipher::new(&key, stream_kind(v), &header);
    let ciphertext = if v.has("ciphertext_file") {
        std::fs::read(dir().join(v.get("ciphertext_file"))).unwrap()
    } else {
        v.hex("ciphertext")
    };
    let result = cipher.decrypt(&ciphertext);
    if v.success() {
        let plaintext = if v.has("plaintext_pattern") {
            pattern(v.get("plaintext_pattern").parse().unwrap())
        } else {
            v.hex("plaintext")
        };
        assert_eq!(result.as_deref(), Ok(plaintext.as_slice()), "{}", v.name);
        assert!(
            cipher.encrypt(&plaintext) == ciphertext,
            "{}: encryption changed",
            v.name
        );
    } else {
        assert_eq!(v.expect(), "decryption failure");
        assert_eq!(result, Err(DecryptError::DecryptionFailed), "{}", v.name);
        assert_eq!(
            cipher.decrypt_parallel(&ciphertext),
            Err(DecryptError::DecryptionFailed),
            "{}",
            v.name
        );
    }
}

/// Unwraps with the typed API for the vector's kind; re-wraps with the recorded nonce.
fn check_wrap_with(v: &Vector, kek: &impl KeyWrapper, wrapped_hex: &str) {
    let bytes = v.hex(wrapped_hex);
    let wrapped = match WrappedKey::from_bytes(&bytes) {
        Ok(w) => w,
        Err(e) => {
            assert_eq!(v.expect(), structure_outcome(&e), "{}: {e}", v.name);
            return;
        }
    };
    let id = v.hex("id");
    let nonce = &bytes[1..13];
    let (unwrapped, rewrapped): (Result<[u8; 32], _>, Option<WrappedKey>) =
        match v.get("wrapped_kind") {
            "album-key" => {
                let id = AlbumKeyId {
                    album: AlbumId::from_slice(&id[..16]).unwrap(),
                    version: u32::from_be_bytes(id[16..].try_into().unwrap()),
                };
                let r = kek
                    .unwrap_key::<AlbumKey>(&wrapped, &id)
                    .map(|k| *k.expose_secret());
                let again = r
                    .as_ref()
                    .ok()
                    .map(|k| kek.wrap_key(&AlbumKey::from_bytes(*k), &id, &mut Replay::new(nonce)));
                (r, again)
            }
            "file-key" => {
                let id = FileId::from_slice(&id).unwrap();
                let r = kek
                    .unwrap_key::<FileKey>(&wrapped, &id)
                    .map(|k| *k.expose_secret());
                let again = r
                    .as_ref()
                    .ok()
                    .map(|k| kek.wrap_key(&FileKey::from_bytes(*k), &id, &mut Replay::new(nonce)));
                (r, again)
            }
            "sharing-secret-key" => {
                let id = SharingPublicKey::from_bytes(&id).unwrap();
                let r = kek
                    .unwrap_key::<SharingSecretKey>(&wrapped, &id)
                    .map(|k| *k.expose_secret());
                let again = r.as_ref().ok().map(|k| {
                    kek.wrap_key(
                        &SharingSecretKey::from_bytes(*k),
                        &id,
                        &mut Replay::new(nonce),
                    )
                });
                (r, again)
            }
            "master-key/previous" => {
                let id = generation_of(&id);
                let r = kek
                    .unwrap_key::<MasterKey>(&wrapped, &id)
                    .map(|k| *k.expose_secret());
                let again = r.as_ref().ok().map(|k| {
                    kek.wrap_key(&MasterKey::from_bytes(*k), &id, &mut Replay::new(nonce))
                });
                (r, again)
            }
            other => panic!("{}: unknown wrapped_kind {other}", v.name),
        };
    if v.success() {
        assert_eq!(unwrapped, Ok(v.key("key")), "{}", v.name);
        assert_eq!(rewrapped.unwrap(), wrapped, "{}: wrapping changed", v.name);
    } else {
        assert_eq!(v.expect(), "decryption failure");
        assert_eq!(unwrapped, Err(DecryptError::DecryptionFailed), "{}", v.name);
    }
}

/// The generation a master-key wrapping's id names: `""` is 0, else `u32be`.
fn generation_of(id: &[u8]) -> MasterGeneration {
    match id.len() {
        0 => MasterGeneration(0),
        _ => MasterGeneration(u32::from_be_bytes(id.try_into().unwrap())),
    }
}

/// A master key wrapped by the passphrase KEK (a record's bytes 30..91) or the recovery key.
fn check_master_wrap(v: &Vector) {
    let wrapped = WrappedKey::from_bytes(&v.hex("wrapped")).unwrap();
    let generation = generation_of(&v.hex("id"));
    let nonce = v.hex("wrapped")[1..13].to_vec();
    let (opened, again) = match v.get("wrapped_kind") {
        "master-key/passphrase" => {
            let kek = PassphraseKek::from_bytes(v.key("kek"));
            let unlock = UnlockParams::generate(KdfParams::MINIMUM, &mut Replay::new(&[0; 16]));
            let record = PassphraseWrappedKey::from_bytes(
                &[unlock.to_bytes().as_slice(), wrapped.as_bytes()].concat(),
            )
            .unwrap();
            let opened = kek.unwrap_master(&record, generation);
            let again = opened.as_ref().ok().map(|m| {
                kek.wrap_master(&unlock, m, generation, &mut Replay::new(&nonce))
                    .to_bytes()[UNLOCK_PARAMS_SIZE..]
                    .to_vec()
            });
            (opened, again)
        }
        "master-key/passkey" => {
            let key = PasskeyKey::from_bytes(v.key("kek"));
            if v.success() {
                let output = PasskeyKey::from_prf_output(&v.key("prf_output"));
                assert_eq!(output.expose_secret(), &v.key("kek"), "{}", v.name);
                assert_eq!(
                    passkey_prf_input(&v.hex("canister")),
                    v.key("prf_input"),
                    "{}",
                    v.name
                );
            }
            let opened = key.unwrap_master(&wrapped, generation);
            let again = opened.as_ref().ok().map(|m| {
                key.wrap_master(m, generation, &mut Replay::new(&nonce))
                    .as_bytes()
                    .to_vec()
            });
            (opened, again)
        }
        _ => {
            let key = RecoveryKey::from_bytes(v.key("kek"));
            let opened = key.unwrap_master(&wrapped, generation);
            let again = opened.as_ref().ok().map(|m| {
                key.wrap_master(m, generation, &mut Replay::new(&nonce))
                    .as_bytes()
                    .to_vec()
            });
            (opened, again)
        }
    };
    if v.success() {
        assert_eq!(opened.unwrap().expose_secret(), &v.key("key"), "{}", v.name);
        assert_eq!(
            again.unwrap(),
            v.hex("wrapped"),
            "{}: wrapping changed",
            v.name
        );
    } else {
        assert_eq!(v.expect(), "decryption failure");
        assert_eq!(opened.unwrap_err(), UnlockError::WrongSecret, "{}", v.name);
    }
}

fn check_wrap(v: &Vector) {
    if matches!(
        v.get("wrapped_kind"),
        "master-key/passphrase" | "master-key/recovery" | "master-key/passkey"
    ) {
        return check_master_wrap(v);
    }
    check_wrap_with(v, &MasterKey::from_bytes(v.key("kek")), "wrapped");
    // The same bytes unwrap identically under an album key as KEK (KEKs differ only by type).
    check_wrap_with(v, &AlbumKey::from_bytes(v.key("kek")), "wrapped");
}

fn check_passphrase(v: &Vector) {
    let record = match PassphraseWrappedKey::from_bytes(&v.hex("record")) {
        Ok(r) => r,
        Err(e) => {
            let expected = match &e {
                UnlockError::Params(KdfParamsError::UnknownKdf(_)) => "unsupported version",
                UnlockError::Malformed(DecryptError::UnsupportedVersion(_)) => {
                    "unsupported version"
                }
                UnlockError::Params(_) => "parameters refused",
                UnlockError::Malformed(_) => "malformed",
                UnlockError::WrongSecret => "wrong secret",
            };
            assert_eq!(v.expect(), expected, "{}: {e}", v.name);
            return;
        }
    };
    let kek = record.unlock_params().derive(&v.text("passphrase"));
    let result = kek.unwrap_master(&record, MasterGeneration::default());
    match v.expect() {
        "success" => {
            let master = result.unwrap();
            assert_eq!(master.expose_secret(), &v.key("master_key"), "{}", v.name);
            assert_eq!(kek.expose_secret(), &v.key("kek"), "{}", v.name);
            assert_eq!(kek.unlock_proof().expose_secret(), &v.key("unlock_proof"));
            assert_eq!(kek.unlock_proof().verifier().0, v.key("unlock_verifier"));
            assert_eq!(
                kek.admission_key().verifier().0,
                v.key("admission_verifier")
            );
            // Re-wrap with the recorded salt and nonce, under the passphrase as first typed (NFC).
            let nfc: String = v.text("passphrase").nfc().collect();
            let (again, verifier) = PassphraseWrappedKey::wrap(
                &master,
                MasterGeneration::default(),
                &nfc,
                record.params(),
                &mut Replay::new(&v.hex("random")),
            );
            assert_eq!(
                again.to_bytes(),
                v.hex("record"),
                "{}: record changed",
                v.name
            );
            assert_eq!(verifier.0, v.key("admission_verifier"));
        }
        "wrong secret" => assert_eq!(result.unwrap_err(), UnlockError::WrongSecret, "{}", v.name),
        other => panic!("{}: unexpected expect {other}", v.name),
    }
}

fn check_recovery(v: &Vector) {
    let key = match RecoveryKey::from_words(v.get("words")) {
        Ok(k) => k,
        Err(e) => {
            assert_eq!(v.expect(), "invalid words", "{}: {e}", v.name);
            return;
        }
    };
    let wrapped = WrappedKey::from_bytes(&v.hex("wrapped")).unwrap();
    match v.expect() {
        "success" => {
            assert_eq!(key.expose_secret(), &v.key("recovery_key"));
            assert_eq!(key.unlock_proof().expose_secret(), &v.key("unlock_proof"));
            assert_eq!(key.unlock_proof().verifier().0, v.key("unlock_verifier"));
            assert_eq!(
                key.admission_key().verifier().0,
                v.key("admission_verifier")
            );
            assert_eq!(key.to_words().as_str(), v.get("words"));
            let master = key
                .unwrap_master(&wrapped, MasterGeneration::default())
                .unwrap();
            assert_eq!(master.expose_secret(), &v.key("master_key"));
            assert_eq!(
                key.wrap_master(
                    &master,
                    MasterGeneration::default(),
                    &mut Replay::new(&v.hex("random"))
                ),
                wrapped,
                "{}: wrapping changed",
                v.name
            );
        }
        "wrong secret" => assert_eq!(
            key.unwrap_master(&wrapped, MasterGeneration::default())
                .unwrap_err(),
            UnlockError::WrongSecret
        ),
        other => panic!("{}: unexpected expect {other}", v.name),
    }
}

fn check_admission(v: &Vector) {
    let secret = v.key("secret");
    let (method, key) = match v.get("method") {
        "passphrase" => (
            AdmissionMethod::Passphrase,
            PassphraseKek::from_bytes(secret).admission_key(),
        ),
        "recovery" => (
            AdmissionMethod::Recovery,
            RecoveryKey::from_bytes(secret).admission_key(),
        ),
        other => panic!("{}: unknown method {other}", v.name),
    };
    assert_eq!(key.verifier().0, v.key("verifier"), "{}", v.name);
    let verifier = AdmissionVerifier::from_bytes(&v.hex("verifier")).unwrap();
    let (canister, caller) = (v.hex("canister"), v.hex("caller"));
    let challenge = AdmissionChallenge {
        canister: &canister,
        caller: &caller,
        counter: v.get("counter").parse().unwrap(),
    };
    let proof = v.hex("proof");
    match v.expect() {
        "success" => {
            assert_eq!(challenge.message(method).unwrap(), v.hex("message"));
            assert_eq!(key.prove(&challenge).unwrap().0.as_slice(), proof);
            assert!(verifier.verify(method, &challenge, &proof), "{}", v.name);
        }
        "wrong proof" => assert!(!verifier.verify(method, &challenge, &proof), "{}", v.name),
        other => panic!("{}: unexpected expect {other}", v.name),
    }
}

fn check_seal(v: &Vector) {
    let secret = SharingSecretKey::from_bytes(v.key("recipient_secret_key"));
    let public = SharingPublicKey::from_bytes(&v.hex("recipient_public_key")).unwrap();
    assert_eq!(
        secret.public_key(),
        public,
        "{}: public key of the secret key",
        v.name
    );
    let sealed = match SealedKey::from_bytes(&v.hex("sealed")) {
        Ok(s) => s,
        Err(e) => {
            assert_eq!(v.expect(), structure_outcome(&e), "{}: {e}", v.name);
            return;
        }
    };
    let recipient = v.hex("recipient");
    let id = v.hex("target_id");
    let (opened, resealed) = match v.get("target") {
        "album" => {
            let id = AlbumKeyId {
                album: AlbumId::from_slice(&id[..16]).unwrap(),
                version: u32::from_be_bytes(id[16..].try_into().unwrap()),
            };
            let r = secret
                .open_key::<AlbumKey>(&sealed, &recipient, &id)
                .map(|k| *k.expose_secret());
            let again = v.has("ikm_e").then(|| {
                public
                    .seal_key(
                        &AlbumKey::from_bytes(v.key("key")),
                        &recipient,
                        &id,
                        &mut Replay::new(&v.hex("ikm_e")),
                    )
                    .unwrap()
            });
            (r, again)
        }
        "file" => {
            let id = FileId::from_slice(&id).unwrap();
            let r = secret
                .open_key::<FileKey>(&sealed, &recipient, &id)
                .map(|k| *k.expose_secret());
            let again = v.has("ikm_e").then(|| {
                public
                    .seal_key(
                        &FileKey::from_bytes(v.key("key")),
                        &recipient,
                        &id,
                        &mut Replay::new(&v.hex("ikm_e")),
                    )
                    .unwrap()
            });
            (r, again)
        }
        other => panic!("{}: unknown target {other}", v.name),
    };
    if v.success() {
        assert_eq!(opened, Ok(v.key("key")), "{}", v.name);
        assert_eq!(resealed.unwrap(), sealed, "{}: sealing changed", v.name);
    } else {
        assert_eq!(opened, Err(DecryptError::DecryptionFailed), "{}", v.name);
    }
}

fn check_share_code(v: &Vector) {
    let code = match ShareCode::parse(v.get("text")) {
        Ok(c) => c,
        Err(e) => {
            let expected = match e {
                ShareCodeError::BadChecksum => "bad checksum",
                ShareCodeError::UnsupportedVersion(_) => "unsupported version",
                ShareCodeError::WrongPrefix
                | ShareCodeError::NotBase32
                | ShareCodeError::Malformed(_) => "invalid share code",
            };
            assert_eq!(v.expect(), expected, "{}: {e}", v.name);
            return;
        }
    };
    assert!(v.success(), "{}", v.name);
    assert_eq!(code.principal, v.hex("principal"));
    assert_eq!(code.public_key.as_bytes().as_slice(), v.hex("public_key"));
    // `vault` is present exactly in version 2 codes.
    let vault = v.has("vault").then(|| v.hex("vault"));
    assert_eq!(code.vault, vault, "{}", v.name);
    assert_eq!(code.to_text(), v.get("text"));
    assert_eq!(code.fingerprint(), v.get("fingerprint"));
}

fn check_link(v: &Vector) {
    let secret = match LinkSecret::from_fragment(v.get("fragment")) {
        Ok(s) => s,
        Err(e) => {
            assert_eq!(v.expect(), "damaged link", "{}: {e}", v.name);
            return;
        }
    };
    let password = match v.has("password").then(|| {
        LinkPassword::derive(
            &secret,
            &v.text("password"),
            v.get("iterations").parse().unwrap(),
        )
    }) {
        Some(Err(e)) => {
            assert_eq!(v.expect(), "parameters refused", "{}: {e}", v.name);
            return;
        }
        Some(Ok(p)) => Some(p),
        None => None,
    };
    assert!(v.success(), "{}", v.name);
    assert_eq!(secret.expose_secret(), &v.key("secret"));
    assert_eq!(secret.to_fragment().as_str(), v.get("fragment"));
    assert_eq!(secret.token().expose_secret(), &v.key("token"));
    assert_eq!(secret.token().hash().0, v.key("token_hash"));
    if let Some(pw) = &password {
        assert_eq!(pw.proof().expose_secret(), &v.key("proof"));
        assert_eq!(pw.proof().verifier().0, v.key("verifier"));
    }
    let link_key = secret.link_key(password.as_ref());
    assert_eq!(link_key.expose_secret(), &v.key("link_key"));
    check_wrap_with(v, &link_key, "wrapped");
}

fn check_metadata(v: &Vector) {
    let key = FileKey::from_bytes(v.key("file_key"));
    let blob = v.hex("blob");
    let cbor = v.hex("cbor");
    assert_eq!(
        open_blob(&key, StreamKind::Metadata, &blob).unwrap(),
        cbor,
        "{}",
        v.name
    );
    match v.expect() {
        "success" => {
            let m = FileMetadata::open(&key, &blob).unwrap();
            assert_eq!(m, FileMetadata::from_cbor(&cbor).unwrap());
            assert_eq!(m.name, v.get("name"));
            assert_eq!(m.size.to_string(), v.get("size"));
            let name_bytes = v.has("name_bytes").then(|| v.hex("name_bytes"));
            assert_eq!(m.name_bytes, name_bytes, "{}", v.name);
            if v.has("random") {
                assert_eq!(m.to_cbor(), cbor, "{}: encoding is not canonical", v.name);
                assert_eq!(
                    m.seal(&key, &mut Replay::new(&v.hex("random"))),
                    blob,
                    "{}: sealing changed",
                    v.name
                );
            }
        }
        "unsupported version" => assert!(matches!(
            FileMetadata::open(&key, &blob),
            Err(MetadataError::UnsupportedVersion(2))
        )),
        "malformed" => assert!(
            matches!(
                FileMetadata::open(&key, &blob),
                Err(MetadataError::Malformed(_))
            ),
            "{}",
            v.name
        ),
        other => panic!("{}: unexpected expect {other}", v.name),
    }
}

fn check_dedupe(v: &Vector) {
    let master = MasterKey::from_bytes(v.key("master_key"));
    let dedupe = DedupeKey::derive(&master);
    assert_eq!(dedupe.expose_secret(), &v.key("dedupe_key"));
    assert_eq!(dedupe.hash(&v.hex("content")).0, v.key("hash"));
}

fn check_grant(v: &Vector) {
    let master = MasterKey::from_bytes(v.key("master_key"));
    let grant_key = GrantKey::derive(&master);
    assert_eq!(grant_key.expose_secret(), &v.key("grant_key"), "{}", v.name);
    let id: [u8; ID_SIZE] = v.hex("target_id").try_into().unwrap();
    let target = match v.get("target") {
        "album" => GrantTarget::Album(AlbumId(id)),
        "file" => GrantTarget::File(FileId(id)),
        other => panic!("{}: target {other}", v.name),
    };
    let permission = match v.get("permission") {
        "view" => GrantPermission::View,
        "contribute" => GrantPermission::Contribute,
        other => panic!("{}: permission {other}", v.name),
    };
    let (vault, grantee) = (v.hex("vault"), v.hex("grantee"));
    let public = SharingPublicKey::from_bytes(&v.hex("grantee_public_key")).unwrap();
    let terms = GrantTerms {
        vault: &vault,
        target,
        grantee: &grantee,
        grantee_key: &public,
        permission,
        expires_at: v
            .has("expires_at")
            .then(|| v.get("expires_at").parse().unwrap()),
    };
    assert_eq!(terms.message().unwrap(), v.hex("message"), "{}", v.name);
    let authenticator = v.hex("authenticator");
    let got = grant_key.verify(&terms, &authenticator);
    match v.expect() {
        "success" => {
            assert_eq!(got, Ok(()), "{}", v.name);
            assert_eq!(
                grant_key.authenticate(&terms).unwrap().as_bytes().to_vec(),
                authenticator,
                "{}",
                v.name
            );
        }
        "not authentic" => assert_eq!(got, Err(GrantError::NotAuthentic), "{}", v.name),
        "unsupported version" => assert!(
            matches!(got, Err(GrantError::UnsupportedVersion(_))),
            "{}",
            v.name
        ),
        "malformed" => assert!(
            matches!(got, Err(GrantError::WrongLength { .. })),
            "{}",
            v.name
        ),
        other => panic!("{}: unexpected expect {other}", v.name),
    }
}

#[test]
fn every_vector_holds() {
    let vectors = load_all();
    let mut kinds = BTreeMap::<String, usize>::new();
    for v in &vectors {
        *kinds.entry(v.get("kind").to_string()).or_default() += 1;
        match v.get("kind") {
            "stream" => check_stream(v),
            "wrap" => check_wrap(v),
            "passphrase" => check_passphrase(v),
            "recovery" => check_recovery(v),
            "admission" => check_admission(v),
            "seal" => check_seal(v),
            "share-code" => check_share_code(v),
            "link" => check_link(v),
            "metadata" => check_metadata(v),
            "dedupe" => check_dedupe(v),
            "grant" => check_grant(v),
            other => panic!("{}: unknown kind {other}", v.name),
        }
    }
    let expected = [
        "admission",
        "dedupe",
        "grant",
        "link",
        "metadata",
        "passphrase",
        "recovery",
        "seal",
        "share-code",
        "stream",
        "wrap",
    ];
    assert_eq!(
        kinds.keys().map(String::as_str).collect::<Vec<_>>(),
        expected,
        "every kind has vectors"
    );
    assert!(vectors.len() >= 120, "only {} vectors found", vectors.len());
}

#[test]
fn every_refusal_named_in_the_issue_has_a_vector() {
    let names: Vec<String> = load_all().into_iter().map(|v| v.name).collect();
    for required in [
        "stream-flipped-bit",
        "stream-missing-final-chunk",
        "stream-data-after-final-chunk",
        "stream-reordered",
        "stream-wrong-key",
        "stream-wrong-stream",
        "stream-empty-final-chunk",
        "wrap-file-key-as-album-key",
        "wrap-file-key-other-file",
        "seal-other-recipient",
        "passphrase-wrong",
        "link-damaged-fragment",
        // Issue 16: every refusal FORMAT.md lists has a vector.
        "stream-header-short",
        "stream-header-short-version-2",
        "wrap-short",
        "wrap-long",
        "wrap-short-version-2",
        "seal-short",
        "seal-long",
        "passphrase-memory-over-ceiling",
        "passphrase-passes-over-ceiling",
        "passphrase-no-passes",
        "passphrase-no-lanes",
        "passphrase-lanes-over-ceiling",
        "passphrase-memory-under-lanes",
        "passphrase-memory-below-floor",
        "passphrase-passes-below-floor",
        "passphrase-wrapped-key-version-255",
        "link-too-few-iterations",
        "link-fragment-version-2",
        "link-fragment-padded",
        "share-code-unused-character",
        "share-code-nonzero-unused-bits",
        // Share codes of version 2 (FORMAT.md §8.2).
        "share-code-v2",
        "share-code-v2-empty-vault",
        "share-code-version-3",
        "metadata-non-shortest-heads",
        "metadata-gps-true",
        "metadata-gps-null",
        "metadata-indefinite-text",
        "grant-swapped-key",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "missing vector {required}"
        );
    }
}
