//! The vault canister's real wasm in the replica: the authorization matrix of
//! `vault-canister/src/model/tests.rs` again, this time through Candid, `canister_inspect_message`
//! and the canister's glue; and an upgrade of a vault with 10 000 files.
//!
//! `scripts/build-canister && cargo test -p vault-e2e --test vault_wasm`

use std::collections::{BTreeMap, BTreeSet};

use candid::{CandidType, Decode, Encode, Principal, Reserved};
use local_replica::{CallError, InstallMode, Replica};
use serde_bytes::ByteBuf;
use vault_canister::http::interface::{HttpRequest, HttpResponse};
use vault_canister::model::types::*;

use vault_crypto::{
    AdmissionChallenge, KdfParams, LinkToken, MasterGeneration, MasterKey, PassphraseKek,
    PassphraseWrappedKey, PasswordProof, RecoveryKey, SEALED_KEY_SIZE, WRAPPED_KEY_SIZE,
};
use vault_test_support::replica::{T0, install_vault, vault_wasm};

const SECOND: u64 = 1_000_000_000;
/// How long after building its scenario a cell runs: after the expiring grant and link
/// (10 s) lapsed, long before anything else expires (as `NOW` in the model's test).
const CELL_DELAY: u64 = 60 * SECOND;

/// A method's answer, whatever its `Ok` type: `Result<Reserved, _>` decodes any of them. The
/// HTTP methods answer a status and, for a refusal, the error's name in CBOR
/// (PROTOCOL.md §7.2), read back as the `VaultError` it stands for.
fn answer(method: &str, reply: &[u8]) -> Result<(), VaultError> {
    if method.starts_with("http_request") {
        return http_answer(method, reply);
    }
    Decode!(reply, Result<Reserved, VaultError>)
        .unwrap_or_else(|e| panic!("{method}: the reply is not a vault result: {e}"))
        .map(|_| ())
}

/// A link holder's HTTP request, with their token (and proof) in the API's headers.
fn http_arg(method: &str, url: &str, link: LinkAccess) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let mut headers = vec![("x-vault-token".to_string(), b64(&link.token))];
    if let Some(proof) = &link.password_proof {
        headers.push(("x-vault-proof".to_string(), b64(proof)));
    }
    Encode!(&HttpRequest {
        method: method.into(),
        url: url.into(),
        headers,
        body: ByteBuf::new(),
        certificate_version: Some(2),
    })
    .unwrap()
}

fn http_answer(method: &str, reply: &[u8]) -> Result<(), VaultError> {
    let response = Decode!(reply, HttpResponse)
        .unwrap_or_else(|e| panic!("{method}: the reply is not an HttpResponse: {e}"));
    if response.status_code == 200 {
        return Ok(());
    }
    let body: BTreeMap<String, serde_cbor::Value> = serde_cbor::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("{method}: a refusal is a CBOR map: {e}"));
    let text = |key: &str| match body.get(key) {
        Some(serde_cbor::Value::Text(t)) => t.clone(),
        other => panic!("{method}: `{key}` is {other:?}"),
    };
    Err(match text("error").as_str() {
        "NotFound" => VaultError::NotFound,
        "NotAuthorized" => VaultError::NotAuthorized,
        "Revoked" => VaultError::Revoked,
        "Expired" => VaultError::Expired,
        "WrongPassword" => VaultError::WrongPassword,
        "PasswordRequired" => VaultError::PasswordRequired {
            iterations: match body.get("iterations") {
                Some(serde_cbor::Value::Integer(n)) => *n as u32,
                other => panic!("{method}: iterations are {other:?}"),
            },
        },
        other => panic!(
            "{method}: an unexpected refusal {other}: {}",
            text("message")
        ),
    })
}

fn query<T: CandidType + for<'de> serde::Deserialize<'de>>(
    r: &mut Replica,
    id: Principal,
    caller: Principal,
    method: &str,
    arg: &[u8],
) -> VaultResult<T> {
    let reply = r.query_call(caller, id, method, arg).unwrap();
    Decode!(&reply.bytes, VaultResult<T>).unwrap()
}

fn update_ok(r: &mut Replica, id: Principal, caller: Principal, method: &str, arg: &[u8]) {
    let reply = r
        .update_call(caller, id, method, arg)
        .unwrap_or_else(|e| panic!("{method}: {e}"));
    answer(method, &reply.bytes).unwrap_or_else(|e| panic!("{method}: {e:?}"));
}

// ---- The scenario of the model's matrix, built through the wasm. ----

fn p(n: u8) -> Principal {
    Principal::from_slice(&[n; 29])
}

fn blob(len: usize, fill: u8) -> ByteBuf {
    let mut b = vec![fill; len];
    if len > 0 {
        b[0] = 1; // format version
    }
    ByteBuf::from(b)
}

fn id(n: u8) -> ByteBuf {
    ByteBuf::from(vec![n; 16])
}

fn token_hash(n: u8) -> ByteBuf {
    ByteBuf::from(LinkToken::from_bytes([n; 32]).hash().0.to_vec())
}

fn access(n: u8, proof: Option<[u8; 32]>) -> LinkAccess {
    LinkAccess {
        token: ByteBuf::from(vec![n; 32]),
        password_proof: proof.map(|p| ByteBuf::from(p.to_vec())),
    }
}

const OWNER: u8 = 1;
const DEVICE: u8 = 2;
const VIEWER: u8 = 3;
const CONTRIBUTOR: u8 = 4;
const FILE_VIEWER: u8 = 5;
const REVOKED: u8 = 6;
const EXPIRED: u8 = 7;
const STRANGER: u8 = 8;

const ALBUM: u8 = 0xa1;
const EMPTY_ALBUM: u8 = 0xa2;
const IN_ALBUM: u8 = 0xf1;
const NO_ALBUM: u8 = 0xf2;
const TRASHED: u8 = 0xf3;
const PENDING: u8 = 0xf4;

const LINK: u8 = 0x11;
const LINK_EXPIRED: u8 = 0x12;
const LINK_REVOKED: u8 = 0x13;
const LINK_PASSWORD: u8 = 0x14;
const LINK_FORGED: u8 = 0x15;
const PASSWORD_PROOF: [u8; 32] = [0x77; 32];

/// The secrets of the scenario's vault.
struct Secrets {
    kek: PassphraseKek,
    recovery: RecoveryKey,
    setup: SetupArgs,
}

/// The admission counter once the scenario is built: it admitted one device.
const SCENARIO_COUNTER: u64 = 1;

impl Secrets {
    /// `caller`'s proof for vault `canister` at `counter` (docs/FORMAT.md §6.1).
    fn admit(
        &self,
        method: UnlockMethod,
        canister: Principal,
        caller: Principal,
        counter: u64,
    ) -> AdmitDeviceArgs {
        let key = match method {
            UnlockMethod::Passphrase => self.kek.admission_key(),
            UnlockMethod::Recovery => self.recovery.admission_key(),
        };
        let proof = key
            .prove(&AdmissionChallenge {
                canister: canister.as_slice(),
                caller: caller.as_slice(),
                counter,
            })
            .unwrap();
        AdmitDeviceArgs {
            method,
            proof: ByteBuf::from(proof.0.to_vec()),
            counter: Some(counter),
        }
    }
}

fn secrets() -> Secrets {
    let mut rng = rand_for_tests();
    let master = MasterKey::generate(&mut rng);
    let (record, verifier) = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "pw",
        KdfParams::MINIMUM,
        &mut rng,
    );
    let kek = record.unlock_params().derive("pw");
    let recovery = RecoveryKey::generate(&mut rng);
    Secrets {
        kek,
        setup: SetupArgs {
            passphrase_record: ByteBuf::from(record.to_bytes()),
            passphrase_verifier: ByteBuf::from(verifier.0.to_vec()),
            recovery_wrapped_key: ByteBuf::from(
                recovery
                    .wrap_master(&master, MasterGeneration::default(), &mut rng)
                    .as_bytes()
                    .to_vec(),
            ),
            recovery_verifier: ByteBuf::from(recovery.admission_key().verifier().0.to_vec()),
            sharing_public_key: ByteBuf::from(vec![9; 32]),
            sharing_secret_wrapped: blob(WRAPPED_KEY_SIZE, 3),
        },
        recovery,
    }
}

/// A deterministic RNG for test keys (rand_core 0.10 `CryptoRng`).
fn rand_for_tests() -> impl vault_crypto::CryptoRng {
    struct Counter(u64);
    impl rand_core::TryRng for Counter {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.try_next_u64()? as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Ok(self.0 >> 11)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for b in dst {
                *b = self.try_next_u64()? as u8;
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Counter {}
    Counter(42)
}

fn upload_args(file: u8, album: Option<u8>, size: u64, key_version: u32) -> BeginUploadArgs {
    BeginUploadArgs {
        file_id: id(file),
        size,
        content_header: blob(17, file),
        wrapped_key: blob(WRAPPED_KEY_SIZE, file),
        album: album.map(id),
        key_version,
        metadata: blob(100, file),
        thumbnail: Some(blob(500, file)),
        dedupe_hash: Some(ByteBuf::from(vec![file; 32])),
        sort_key: file as i64 * 1000,
    }
}

/// Chunk `index` of a `size`-byte file: a full encrypted chunk, or the last one's remainder.
fn chunk_len(size: u64, index: u32) -> usize {
    let count = vault_crypto::chunk_count(size) as u32;
    if index + 1 < count {
        vault_crypto::ENCRYPTED_CHUNK_SIZE
    } else {
        (size - (count as u64 - 1) * vault_crypto::CHUNK_SIZE as u64) as usize + 16
    }
}

fn chunk(size: u64, index: u32, fill: u8) -> ByteBuf {
    ByteBuf::from(vec![fill; chunk_len(size, index)])
}

fn sealed(v: u32) -> SealedKeyVersion {
    SealedKeyVersion {
        version: v,
        sealed: blob(SEALED_KEY_SIZE, v as u8),
    }
}

/// A grantee's sharing public key (any 32 bytes will do for the canister).
fn public_key(n: u8) -> ByteBuf {
    ByteBuf::from(vec![n; 32])
}

fn link_args(
    n: u8,
    target: Target,
    key_version: u32,
    expires_at: Option<u64>,
    password: bool,
) -> CreateLinkArgs {
    CreateLinkArgs {
        token_hash: token_hash(n),
        target,
        key_version,
        wrapped_key: blob(WRAPPED_KEY_SIZE, n),
        expires_at,
        password: password.then(|| LinkPasswordArgs {
            iterations: vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS,
            verifier: ByteBuf::from(
                PasswordProof::from_bytes(PASSWORD_PROOF)
                    .verifier()
                    .0
                    .to_vec(),
            ),
        }),
        label: None,
        earlier_keys: None,
    }
}

/// One ingress message of the scenario, expected to succeed.
struct Message {
    caller: Principal,
    method: &'static str,
    arg: Vec<u8>,
}

/// The model test's scenario, as the messages that build it at time `t`.
fn scenario(t: u64, secrets: &Secrets, vault: Principal) -> Vec<Message> {
    let owner = p(OWNER);
    let mut script = Vec::new();
    let mut send = |caller: Principal, method, arg: Vec<u8>| {
        script.push(Message {
            caller,
            method,
            arg,
        })
    };
    send(owner, "setup", Encode!(&secrets.setup).unwrap());
    let admit = secrets.admit(UnlockMethod::Passphrase, vault, p(DEVICE), 0);
    send(p(DEVICE), "admit_device", Encode!(&admit).unwrap());
    for album in [ALBUM, EMPTY_ALBUM] {
        let args = CreateAlbumArgs {
            album_id: id(album),
            name: blob(40, album),
            wrapped_key: blob(WRAPPED_KEY_SIZE, album),
        };
        send(owner, "create_album", Encode!(&args).unwrap());
    }
    let big = 2 * vault_crypto::CHUNK_SIZE as u64 + 5;
    for (file, album, size) in [
        (IN_ALBUM, Some(ALBUM), big),
        (NO_ALBUM, None, 10),
        (TRASHED, Some(ALBUM), 10),
    ] {
        send(
            owner,
            "begin_upload",
            Encode!(&upload_args(file, album, size, 0)).unwrap(),
        );
        for index in 0..vault_crypto::chunk_count(size) as u32 {
            let put = PutChunkArgs {
                file_id: id(file),
                index,
                data: chunk(size, index, index as u8),
            };
            send(owner, "put_chunk", Encode!(&put).unwrap());
        }
        send(owner, "commit_upload", Encode!(&id(file)).unwrap());
    }
    send(owner, "trash", Encode!(&vec![id(TRASHED)]).unwrap());
    send(
        owner,
        "begin_upload",
        Encode!(&upload_args(PENDING, None, 10, 0)).unwrap(),
    );
    let album = Target::Album(id(ALBUM));
    let grant = |who: u8, permission, expires_at, keys: Vec<SealedKeyVersion>| GrantArgs {
        target: album.clone(),
        grantee: p(who),
        grantee_key: public_key(who),
        permission,
        sealed_keys: keys,
        expires_at,
        authenticator: None,
    };
    for (who, permission) in [
        (VIEWER, Permission::View),
        (CONTRIBUTOR, Permission::Contribute),
        (REVOKED, Permission::Contribute),
    ] {
        let args = grant(who, permission, None, vec![sealed(0)]);
        send(owner, "grant", Encode!(&args).unwrap());
    }
    let file_grant = GrantArgs {
        target: Target::File(id(NO_ALBUM)),
        grantee: p(FILE_VIEWER),
        grantee_key: public_key(FILE_VIEWER),
        permission: Permission::View,
        sealed_keys: vec![sealed(0)],
        expires_at: None,
        authenticator: None,
    };
    send(owner, "grant", Encode!(&file_grant).unwrap());
    let revoked_link = link_args(LINK_REVOKED, album.clone(), 0, None, false);
    send(owner, "create_link", Encode!(&revoked_link).unwrap());
    send(
        owner,
        "revoke_link",
        Encode!(&token_hash(LINK_REVOKED)).unwrap(),
    );
    // Revoke REVOKED by rotating the album key: remaining grantees get version 1.
    let rotate = RotateAlbumKeyArgs {
        album_id: id(ALBUM),
        revoke: vec![p(REVOKED)],
        new_version: 1,
        wrapped_key: blob(WRAPPED_KEY_SIZE, 0x51),
        grants: vec![
            (p(VIEWER), blob(SEALED_KEY_SIZE, 1)),
            (p(CONTRIBUTOR), blob(SEALED_KEY_SIZE, 1)),
        ],
        links: vec![],
    };
    send(owner, "rotate_album_key", Encode!(&rotate).unwrap());
    let expiring = grant(
        EXPIRED,
        Permission::Contribute,
        Some(t + 10 * SECOND),
        vec![sealed(0), sealed(1)],
    );
    send(owner, "grant", Encode!(&expiring).unwrap());
    for (n, expires_at, password) in [
        (LINK, None, false),
        (LINK_EXPIRED, Some(t + 10 * SECOND), false),
        (LINK_PASSWORD, None, true),
    ] {
        let args = link_args(n, album.clone(), 1, expires_at, password);
        send(owner, "create_link", Encode!(&args).unwrap());
    }
    script
}

// ---- The table: every method × every kind of caller, as in the model's test. ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Actor {
    Owner,
    Device,
    Viewer,
    Contributor,
    FileViewer,
    Revoked,
    Expired,
    Stranger,
    Anonymous,
    Link,
    LinkExpired,
    LinkRevoked,
    LinkForged,
    LinkNoPassword,
    LinkWrongPassword,
    LinkRightPassword,
}

use Actor::*;

const PEOPLE: [Actor; 9] = [
    Owner,
    Device,
    Viewer,
    Contributor,
    FileViewer,
    Revoked,
    Expired,
    Stranger,
    Anonymous,
];
const LINKS: [Actor; 7] = [
    Link,
    LinkExpired,
    LinkRevoked,
    LinkForged,
    LinkNoPassword,
    LinkWrongPassword,
    LinkRightPassword,
];

impl Actor {
    fn principal(self) -> Principal {
        match self {
            Owner => p(OWNER),
            Device => p(DEVICE),
            Viewer => p(VIEWER),
            Contributor => p(CONTRIBUTOR),
            FileViewer => p(FILE_VIEWER),
            Revoked => p(REVOKED),
            Expired => p(EXPIRED),
            Stranger => p(STRANGER),
            // Link holders need no identity: they call anonymously.
            _ => Principal::anonymous(),
        }
    }

    fn link(self) -> Option<LinkAccess> {
        Some(match self {
            Link => access(LINK, None),
            LinkExpired => access(LINK_EXPIRED, None),
            LinkRevoked => access(LINK_REVOKED, None),
            LinkForged => access(LINK_FORGED, None),
            LinkNoPassword => access(LINK_PASSWORD, None),
            LinkWrongPassword => access(LINK_PASSWORD, Some([0x78; 32])),
            LinkRightPassword => access(LINK_PASSWORD, Some(PASSWORD_PROOF)),
            _ => return None,
        })
    }

    fn is_owner(self) -> bool {
        matches!(self, Owner | Device)
    }
}

/// What the method itself answers (the model's table).
type Answer = Result<(), VaultError>;

/// How a call ends through the wasm.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// The method ran and answered this.
    Answered(Answer),
    /// `canister_inspect_message` turned the ingress message away: the method never ran.
    NotAccepted,
}

/// Who `canister_inspect_message` lets through to an update (queries are not inspected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ingress {
    /// A query.
    Query,
    /// Owner and devices only: nobody else can succeed.
    Owner,
    /// Any signed caller (the updates a non-owner can succeed at).
    Signed,
    /// Owner, devices, and grantees with a live contribute grant (begin_upload).
    Contributors,
    /// Anyone, the anonymous link holder included.
    Anyone,
}

impl Ingress {
    fn accepts(self, actor: Actor) -> bool {
        match self {
            Ingress::Query | Ingress::Anyone => true,
            Ingress::Signed => actor.principal() != Principal::anonymous(),
            Ingress::Owner => actor.is_owner(),
            Ingress::Contributors => actor.is_owner() || actor == Contributor,
        }
    }
}

/// Expected answers: a default for every actor, with exceptions.
struct Expect(BTreeMap<Actor, Answer>);

impl Expect {
    fn all(actors: &[Actor], answer: Answer) -> Self {
        Expect(actors.iter().map(|a| (*a, answer.clone())).collect())
    }
    /// Owner and device succeed; every other person is refused. Link holders are anonymous.
    fn owner_only() -> Self {
        Self::all(&PEOPLE, Err(VaultError::NotAuthorized)).set(&[Owner, Device], Ok(()))
    }
    fn set(mut self, actors: &[Actor], answer: Answer) -> Self {
        for a in actors {
            self.0.insert(*a, answer.clone());
        }
        self
    }
    /// Reading something in the shared album, as a person or through a link.
    fn album_read() -> Self {
        Self::owner_only()
            .set(&[Viewer, Contributor], Ok(()))
            .set(&[Expired], Err(VaultError::Expired))
            .set(&LINKS, Ok(()))
            .set(&[LinkExpired], Err(VaultError::Expired))
            .set(&[LinkRevoked], Err(VaultError::Revoked))
            .set(&[LinkForged], Err(VaultError::NotFound))
            .set(&[LinkNoPassword], password_required())
            .set(&[LinkWrongPassword], Err(VaultError::WrongPassword))
    }
}

fn password_required() -> Answer {
    Err(VaultError::PasswordRequired {
        iterations: vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS,
    })
}

/// One row: a method with one set of arguments.
struct Row {
    name: &'static str,
    ingress: Ingress,
    /// The Candid argument, given the vault's secrets and the caller's link (if a link holder).
    arg: fn(&Secrets, Option<LinkAccess>) -> Vec<u8>,
    expect: Expect,
}

impl Row {
    fn method(&self) -> &'static str {
        self.name
            .split(' ')
            .next()
            .expect("a name starts with its method")
    }

    /// What the wasm answers `actor`: the model's answer, unless inspect_message refuses first.
    fn expected(&self, actor: Actor, answer: &Answer) -> Outcome {
        if self.ingress.accepts(actor) {
            Outcome::Answered(answer.clone())
        } else {
            Outcome::NotAccepted
        }
    }
}

fn row(
    name: &'static str,
    ingress: Ingress,
    arg: fn(&Secrets, Option<LinkAccess>) -> Vec<u8>,
    expect: Expect,
) -> Row {
    Row {
        name,
        ingress,
        arg,
        expect,
    }
}

fn get_chunk_arg(file: u8, index: u32, link: Option<LinkAccess>) -> Vec<u8> {
    Encode!(&GetChunkArgs {
        file_id: id(file),
        index,
        link,
    })
    .unwrap()
}

/// A link method's argument: the holder's access, or a forged one for a person without a link.
fn link_only(link: Option<LinkAccess>) -> LinkAccess {
    link.unwrap_or_else(|| access(LINK_FORGED, None))
}

fn file_ref_arg(file: u8, link: Option<LinkAccess>) -> Vec<u8> {
    Encode!(&FileRef {
        file_id: id(file),
        link,
    })
    .unwrap()
}

/// The model's `matrix()`, row for row, with each row's ingress rule added.
fn matrix() -> Vec<Row> {
    use Ingress::{Anyone, Contributors, Owner as O, Query as Q, Signed};
    let not_auth = || Err(VaultError::NotAuthorized);
    vec![
        row(
            "vault_info",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::owner_only(),
        ),
        row(
            "set_quota",
            O,
            |_, _| Encode!(&(200u64 << 30)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "setup (already set up)",
            O,
            |x, _| Encode!(&x.setup).unwrap(),
            Expect::owner_only().set(&[Owner, Device], Err(VaultError::AlreadySetUp)),
        ),
        row(
            "unlock_params",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::all(&PEOPLE, Ok(())),
        ),
        row(
            "sharing_key",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::all(&PEOPLE, Ok(())),
        ),
        row(
            "admission_ticket",
            Signed,
            |_, _| Encode!().unwrap(),
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth()),
        ),
        // The proof depends on the caller and the vault: `Lab::call` makes it.
        row(
            "admit_device (right proof)",
            Signed,
            |_, _| Vec::new(),
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth()),
        ),
        row(
            "admit_device (right recovery proof)",
            Signed,
            |_, _| Vec::new(),
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth()),
        ),
        row(
            "admit_device (wrong proof)",
            Signed,
            |_, _| {
                Encode!(&AdmitDeviceArgs {
                    method: UnlockMethod::Recovery,
                    proof: ByteBuf::from(vec![0; 64]),
                    counter: None,
                })
                .unwrap()
            },
            Expect::all(&PEOPLE, not_auth()),
        ),
        row(
            "clear_unlock_failures",
            O,
            |_, _| Encode!().unwrap(),
            Expect::owner_only(),
        ),
        row(
            "change_recovery",
            O,
            |x, _| Encode!(&x.setup.recovery_wrapped_key, &x.setup.recovery_verifier).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "rotate_master_key",
            O,
            |x, _| {
                // The proof is made for each caller when the cell runs (`Cells::call`).
                Encode!(&RotateMasterKeyArgs {
                    generation: 1,
                    proof: ByteBuf::from(vec![0; 64]),
                    sharing_public_key: x.setup.sharing_public_key.clone(),
                    passphrase_record: x.setup.passphrase_record.clone(),
                    passphrase_verifier: x.setup.passphrase_verifier.clone(),
                    recovery_wrapped_key: x.setup.recovery_wrapped_key.clone(),
                    recovery_verifier: x.setup.recovery_verifier.clone(),
                    sharing_secret_wrapped: x.setup.sharing_secret_wrapped.clone(),
                    previous_master_wrapped: x.setup.recovery_wrapped_key.clone(),
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "profile",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::owner_only(),
        ),
        row(
            "change_passphrase",
            O,
            |x, _| Encode!(&x.setup.passphrase_record, &x.setup.passphrase_verifier).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "devices",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::owner_only(),
        ),
        row(
            "remove_device",
            O,
            |_, _| Encode!(&p(DEVICE)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "add_passkey",
            O,
            |_, _| {
                Encode!(&AddPasskeyArgs {
                    credential_id: ByteBuf::from(vec![1; 16]),
                    public_key: ByteBuf::from(
                        [
                            &[
                                0x30, 0x5e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                0x83, 0xb8, 0x43, 0x01, 0x01, 0x03, 0x4e, 0x00,
                            ][..],
                            &[1; 77],
                        ]
                        .concat()
                    ),
                    unlock: None,
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "passkey_key",
            Q,
            |_, _| Encode!(&ByteBuf::from(vec![1; 16])).unwrap(),
            Expect::all(&PEOPLE, Ok(())),
        ),
        row(
            "begin_upload (album)",
            Contributors,
            |_, _| Encode!(&upload_args(0xe1, Some(ALBUM), 10, 1)).unwrap(),
            Expect::owner_only()
                .set(&[Contributor], Ok(()))
                .set(&[Expired], Err(VaultError::Expired)),
        ),
        row(
            "begin_upload (no album)",
            Contributors,
            |_, _| Encode!(&upload_args(0xe2, None, 10, 0)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "put_chunk (owner's upload)",
            O,
            |_, _| {
                Encode!(&PutChunkArgs {
                    file_id: id(PENDING),
                    index: 0,
                    data: chunk(10, 0, 0),
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "upload_status",
            Q,
            |_, _| Encode!(&id(PENDING)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "commit_upload (chunks missing)",
            O,
            |_, _| Encode!(&id(PENDING)).unwrap(),
            Expect::owner_only().set(
                &[Owner, Device],
                Err(VaultError::conflict("1 of 1 chunks are still missing")),
            ),
        ),
        row(
            "abort_upload",
            O,
            |_, _| Encode!(&id(PENDING)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "list_files (timeline)",
            Q,
            |_, _| Encode!(&ListFilesArgs::default()).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "list_files (trash)",
            Q,
            |_, _| {
                Encode!(&ListFilesArgs {
                    trashed: Some(true),
                    ..Default::default()
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "list_files (album)",
            Q,
            |_, link| {
                Encode!(&ListFilesArgs {
                    album: Some(id(ALBUM)),
                    link,
                    ..Default::default()
                })
                .unwrap()
            },
            Expect::album_read(),
        ),
        row(
            "get_file (in album)",
            Q,
            |_, l| file_ref_arg(IN_ALBUM, l),
            Expect::album_read(),
        ),
        row(
            "get_chunk (in album)",
            Q,
            |_, l| get_chunk_arg(IN_ALBUM, 2, l),
            Expect::album_read(),
        ),
        row(
            "get_thumbnail (in album)",
            Q,
            |_, l| file_ref_arg(IN_ALBUM, l),
            Expect::album_read(),
        ),
        row(
            "get_chunk (file grant)",
            Q,
            |_, l| get_chunk_arg(NO_ALBUM, 0, l),
            Expect::owner_only()
                .set(&[FileViewer], Ok(()))
                .set(&LINKS, not_auth())
                .set(&[LinkExpired], Err(VaultError::Expired))
                .set(&[LinkRevoked], Err(VaultError::Revoked))
                .set(&[LinkForged], Err(VaultError::NotFound))
                .set(&[LinkNoPassword], password_required())
                .set(&[LinkWrongPassword], Err(VaultError::WrongPassword)),
        ),
        row(
            "get_chunk (trashed)",
            Q,
            |_, l| get_chunk_arg(TRASHED, 0, l),
            Expect::album_read()
                .set(&[Viewer, Contributor, Link, LinkRightPassword], not_auth())
                .set(&[Expired], not_auth()),
        ),
        row(
            "get_chunk (unknown file)",
            Q,
            |_, l| get_chunk_arg(0xee, 0, l),
            Expect::all(&PEOPLE, not_auth())
                .set(&LINKS, not_auth())
                .set(&[Owner, Device], Err(VaultError::NotFound)),
        ),
        row(
            "move_file",
            O,
            |_, _| {
                Encode!(&MoveFileArgs {
                    file_id: id(NO_ALBUM),
                    album: Some(id(EMPTY_ALBUM)),
                    wrapped_key: blob(61, 1),
                    key_version: 0,
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "trash",
            O,
            |_, _| Encode!(&vec![id(IN_ALBUM)]).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "restore",
            O,
            |_, _| Encode!(&vec![id(TRASHED)]).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "purge",
            O,
            |_, _| Encode!(&vec![id(TRASHED)]).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "create_album",
            O,
            |_, _| {
                Encode!(&CreateAlbumArgs {
                    album_id: id(0xa9),
                    name: blob(40, 1),
                    wrapped_key: blob(61, 1),
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "rename_album",
            O,
            |_, _| Encode!(&id(ALBUM), &blob(40, 2)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "delete_album (empty)",
            O,
            |_, _| Encode!(&id(EMPTY_ALBUM)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "list_albums",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::owner_only(),
        ),
        row(
            "get_album",
            Q,
            |_, l| Encode!(&id(ALBUM), &l).unwrap(),
            Expect::album_read(),
        ),
        row(
            "grant",
            O,
            |_, _| {
                Encode!(&GrantArgs {
                    target: Target::Album(id(ALBUM)),
                    grantee: p(STRANGER),
                    grantee_key: public_key(STRANGER),
                    permission: Permission::View,
                    sealed_keys: vec![sealed(0), sealed(1)],
                    expires_at: None,
                    authenticator: None,
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "authenticate_grant",
            O,
            |_, _| {
                Encode!(&AuthenticateGrantArgs {
                    target: Target::Album(id(ALBUM)),
                    grantee: p(VIEWER),
                    grantee_key: public_key(VIEWER),
                    permission: Permission::View,
                    expires_at: None,
                    authenticator: blob(33, 0x61),
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "revoke_grant",
            O,
            |_, _| Encode!(&Target::File(id(NO_ALBUM)), &p(FILE_VIEWER)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "list_grants",
            Q,
            |_, _| Encode!(&None::<Target>).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "shared_with_me",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth()),
        ),
        row(
            "notify_shared",
            Signed,
            |_, _| Encode!(&Principal::from_slice(&[7, 1])).unwrap(),
            Expect::all(&PEOPLE, Ok(()))
                .set(&[Anonymous], not_auth())
                .set(
                    &[Owner, Device],
                    Err(VaultError::InvalidArgument {
                        field: "caller".into(),
                        reason: "this is your own vault: a notice is for the vault of the \
                                 person you shared with"
                            .into(),
                    }),
                ),
        ),
        row("inbox", Q, |_, _| Encode!().unwrap(), Expect::owner_only()),
        row(
            "answer_share",
            O,
            |_, _| {
                Encode!(&AnswerShareArgs {
                    vault: Principal::from_slice(&[7, 1]),
                    follow: true,
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "rotate_album_key",
            O,
            |_, _| {
                Encode!(&RotateAlbumKeyArgs {
                    album_id: id(ALBUM),
                    revoke: vec![p(VIEWER)],
                    new_version: 2,
                    wrapped_key: blob(61, 2),
                    grants: vec![(p(CONTRIBUTOR), blob(81, 2)), (p(EXPIRED), blob(81, 2))],
                    links: vec![
                        (token_hash(LINK), blob(61, 2)),
                        (token_hash(LINK_PASSWORD), blob(61, 2)),
                    ],
                })
                .unwrap()
            },
            Expect::owner_only(),
        ),
        row(
            "create_link",
            O,
            |_, _| Encode!(&link_args(0x19, Target::Album(id(ALBUM)), 1, None, false)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "revoke_link",
            O,
            |_, _| Encode!(&token_hash(LINK)).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "list_links",
            Q,
            |_, _| Encode!().unwrap(),
            Expect::owner_only(),
        ),
        row(
            "open_link",
            Q,
            |_, l| Encode!(&link_only(l)).unwrap(),
            Expect::album_read().set(&PEOPLE, Err(VaultError::NotFound)),
        ),
        row(
            "link_opened",
            Anyone,
            |_, l| Encode!(&link_only(l)).unwrap(),
            Expect::album_read().set(&PEOPLE, Err(VaultError::NotFound)),
        ),
        // The same two, over HTTP (PROTOCOL.md §7.2): the same rights.
        row(
            "http_request GET /s/api/link",
            Q,
            |_, l| http_arg("GET", "/s/api/link", link_only(l)),
            Expect::album_read().set(&PEOPLE, Err(VaultError::NotFound)),
        ),
        row(
            "http_request_update POST /s/api/opened",
            Anyone,
            |_, l| http_arg("POST", "/s/api/opened", link_only(l)),
            Expect::album_read().set(&PEOPLE, Err(VaultError::NotFound)),
        ),
        row(
            "activity",
            Q,
            |_, _| Encode!(&None::<u64>, &None::<u32>).unwrap(),
            Expect::owner_only(),
        ),
        row(
            "list_uploads",
            Q,
            |_, _| Encode!(&ListUploadsArgs::default()).unwrap(),
            Expect::owner_only(),
        ),
    ]
}

/// Cells in the model's table (`vault-canister/src/model/tests.rs`): the two must stay in step.
const MODEL_CELLS: usize = 592;
/// Cells of the two HTTP rows (16 actors each), which only this table has: over HTTP the same
/// model calls decide (`vault-canister/src/http/api.rs`, tested there endpoint by endpoint).
const HTTP_CELLS: usize = 32;

/// The replica with the vault's module compiled once; each cell's vault is a new canister.
struct Lab {
    r: Replica,
    wasm: Vec<u8>,
    secrets: Secrets,
}

impl Lab {
    /// A new vault holding the scenario, built now; the clock then moves on by `CELL_DELAY`.
    fn scenario_vault(&mut self) -> Principal {
        let id = install_vault(&mut self.r, &self.wasm, p(OWNER));
        for m in scenario(self.r.time(), &self.secrets, id) {
            update_ok(&mut self.r, id, m.caller, m.method, &m.arg);
        }
        let later = self.r.time() + CELL_DELAY;
        self.r.set_time(later).unwrap();
        id
    }

    fn discard(&mut self, id: Principal) {
        self.r.stop_canister(p(OWNER), id).unwrap();
        self.r.delete_canister(p(OWNER), id).unwrap();
    }

    fn call(&mut self, id: Principal, row: &Row, actor: Actor) -> Result<Outcome, CallError> {
        let method = match row.name {
            "admit_device (right proof)" => Some(UnlockMethod::Passphrase),
            "admit_device (right recovery proof)" => Some(UnlockMethod::Recovery),
            _ => None,
        };
        let arg = match method {
            Some(method) => {
                let args = self
                    .secrets
                    .admit(method, id, actor.principal(), SCENARIO_COUNTER);
                Encode!(&args).unwrap()
            }
            None if row.name == "rotate_master_key" => {
                let mut args =
                    Decode!(&(row.arg)(&self.secrets, actor.link()), RotateMasterKeyArgs).unwrap();
                args.proof = self
                    .secrets
                    .admit(
                        UnlockMethod::Passphrase,
                        id,
                        actor.principal(),
                        SCENARIO_COUNTER,
                    )
                    .proof;
                Encode!(&args).unwrap()
            }
            None => (row.arg)(&self.secrets, actor.link()),
        };
        let reply = if row.ingress == Ingress::Query {
            self.r.query_call(actor.principal(), id, row.method(), &arg)
        } else {
            self.r
                .update_call(actor.principal(), id, row.method(), &arg)
        };
        match reply {
            Ok(reply) => Ok(Outcome::Answered(answer(row.name, &reply.bytes))),
            Err(CallError::NotAccepted) => Ok(Outcome::NotAccepted),
            Err(e) => Err(e),
        }
    }

    /// What a refusal must leave as it was: usage and counts, and the newest log entry.
    fn fingerprint(&mut self, id: Principal) -> (VaultInfo, Option<u64>) {
        let info: VaultInfo =
            query(&mut self.r, id, p(OWNER), "vault_info", &Encode!().unwrap()).unwrap();
        // Its cycles change with every call it is paid for, refused or not: not its state.
        let info = VaultInfo {
            cycles: None,
            ..info
        };
        let arg = Encode!(&None::<u64>, &Some(1u32)).unwrap();
        let log: ActivityPage = query(&mut self.r, id, p(OWNER), "activity", &arg).unwrap();
        (info, log.entries.first().map(|e| e.seq))
    }
}

/// `vault.did`'s methods, each with whether it is a query.
fn did_methods() -> BTreeSet<(String, bool)> {
    let did = include_str!("../vault-interface/vault.did");
    let service = did
        .split_once("service : (InitArgs) -> {")
        .expect("vault.did declares its service")
        .1;
    service
        .lines()
        .filter_map(|line| {
            let (name, signature) = line.trim().split_once(" : ")?;
            Some((name.to_string(), signature.ends_with("query;")))
        })
        .collect()
}

/// Every method of vault.did × every kind of caller, each cell through the wasm: queries on one
/// vault (a query changes nothing), each update on a vault of its own.
#[test]
fn authorization_matrix_through_the_wasm() {
    let rows = matrix();
    let covered: BTreeSet<(String, bool)> = rows
        .iter()
        .map(|r| (r.method().to_string(), r.ingress == Ingress::Query))
        .collect();
    assert_eq!(
        covered,
        did_methods(),
        "the table covers exactly vault.did's methods, as queries or updates"
    );

    let mut lab = Lab {
        r: Replica::new(T0).unwrap(),
        wasm: vault_wasm(),
        secrets: secrets(),
    };
    let mut failures = Vec::new();
    let mut cells = 0;
    let mut check =
        |name: &str, actor: Actor, expected: Outcome, got: Result<Outcome, CallError>| {
            cells += 1;
            match got {
                Ok(got) if got == expected => {}
                Ok(got) => failures.push(format!(
                    "{name} by {actor:?}: expected {expected:?}, got {got:?}"
                )),
                Err(e) => failures.push(format!(
                    "{name} by {actor:?}: expected {expected:?}, the call failed: {e}"
                )),
            }
        };

    let shared = lab.scenario_vault();
    // Each grantee's sharing key comes back through Candid as the owner gave it.
    let no_target = Encode!(&None::<Target>).unwrap();
    let grants: Vec<GrantInfo> =
        query(&mut lab.r, shared, p(OWNER), "list_grants", &no_target).unwrap();
    assert_eq!(grants.len(), 4);
    for g in &grants {
        assert_eq!(g.grantee_key, Some(public_key(g.grantee.as_slice()[0])));
    }
    for row in rows.iter().filter(|r| r.ingress == Ingress::Query) {
        for (&actor, answer) in &row.expect.0 {
            let got = lab.call(shared, row, actor);
            check(row.name, actor, row.expected(actor, answer), got);
        }
    }
    lab.discard(shared);

    for row in rows.iter().filter(|r| r.ingress != Ingress::Query) {
        for (&actor, answer) in &row.expect.0 {
            let vault = lab.scenario_vault();
            let before = lab.fingerprint(vault);
            let got = lab.call(vault, row, actor);
            // A refusal changes nothing (except the deliberate count of wrong unlock proofs).
            let refused = !matches!(got, Ok(Outcome::Answered(Ok(()))));
            if refused && row.method() != "admit_device" {
                assert_eq!(
                    lab.fingerprint(vault),
                    before,
                    "{} by {actor:?} changed state while refusing",
                    row.name
                );
            }
            check(row.name, actor, row.expected(actor, answer), got);
            lab.discard(vault);
        }
    }

    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        cells,
        MODEL_CELLS + HTTP_CELLS,
        "the model's table has {MODEL_CELLS} cells, and HTTP {HTTP_CELLS} more"
    );
}

// ---- Upgrades: the cost does not depend on what the vault holds. ----

/// Files in the big vault.
const MANY_FILES: u32 = 10_000;
/// The cheapest real upload: one byte of content, one chunk, no thumbnail, the smallest
/// metadata blob — three messages a file.
const SMALL_FILE_SIZE: u64 = 1;

fn small_file_id(n: u32) -> ByteBuf {
    let mut id = vec![0xc0; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    ByteBuf::from(id)
}

/// File `n`'s one chunk: its number, so that a mix-up of files shows.
fn small_chunk(n: u32) -> ByteBuf {
    let len = chunk_len(SMALL_FILE_SIZE, 0);
    ByteBuf::from(
        n.to_le_bytes()
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect::<Vec<_>>(),
    )
}

fn upload_small(r: &mut Replica, id: Principal, owner: Principal, n: u32) {
    let begin = BeginUploadArgs {
        file_id: small_file_id(n),
        size: SMALL_FILE_SIZE,
        content_header: blob(vault_crypto::STREAM_HEADER_SIZE, 1),
        wrapped_key: blob(WRAPPED_KEY_SIZE, 2),
        album: None,
        key_version: 0,
        metadata: blob(vault_canister::model::MIN_BLOB_SIZE, 3),
        thumbnail: None,
        dedupe_hash: None,
        sort_key: n as i64,
    };
    update_ok(r, id, owner, "begin_upload", &Encode!(&begin).unwrap());
    let put = PutChunkArgs {
        file_id: small_file_id(n),
        index: 0,
        data: small_chunk(n),
    };
    update_ok(r, id, owner, "put_chunk", &Encode!(&put).unwrap());
    update_ok(
        r,
        id,
        owner,
        "commit_upload",
        &Encode!(&small_file_id(n)).unwrap(),
    );
}

/// A new vault holding `files` small files.
fn vault_with_files(r: &mut Replica, wasm: &[u8], files: u32) -> Principal {
    let id = install_vault(r, wasm, p(OWNER));
    for n in 0..files {
        upload_small(r, id, p(OWNER), n);
    }
    id
}

/// The whole timeline, page by page.
fn timeline(r: &mut Replica, id: Principal) -> Vec<FileInfo> {
    let mut files = Vec::new();
    let mut after = None;
    loop {
        let args = ListFilesArgs {
            after,
            limit: Some(vault_canister::model::MAX_PAGE),
            ..Default::default()
        };
        let page: FilePage =
            query(r, id, p(OWNER), "list_files", &Encode!(&args).unwrap()).unwrap();
        files.extend(page.files);
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => return files,
        }
    }
}

/// The vault's figures, its cycles aside (they change with every call it pays for).
fn vault_info(r: &mut Replica, id: Principal) -> VaultInfo {
    let info: VaultInfo = query(r, id, p(OWNER), "vault_info", &Encode!().unwrap()).unwrap();
    VaultInfo {
        cycles: None,
        ..info
    }
}

fn read_chunk(r: &mut Replica, id: Principal, n: u32) -> ByteBuf {
    let args = GetChunkArgs {
        file_id: small_file_id(n),
        index: 0,
        link: None,
    };
    query(r, id, p(OWNER), "get_chunk", &Encode!(&args).unwrap())
        .unwrap_or_else(|e| panic!("file {n}: {e:?}"))
}

/// Upgrades to the same wasm, with the argument a client sends when there is none (the vault's
/// `post_upgrade` takes no argument); returns the instructions the upgrade used.
fn upgrade(r: &mut Replica, wasm: &[u8], id: Principal) -> u64 {
    r.install_code(
        p(OWNER),
        id,
        InstallMode::Upgrade,
        wasm,
        &Encode!().unwrap(),
    )
    .unwrap()
}

#[test]
fn an_upgrade_keeps_ten_thousand_files_and_costs_what_it_costs_with_one() {
    let wasm = vault_wasm();
    let mut r = Replica::new(T0).unwrap();

    let one = vault_with_files(&mut r, &wasm, 1);
    let cost_with_one = upgrade(&mut r, &wasm, one);
    assert_eq!(read_chunk(&mut r, one, 0), small_chunk(0));

    let many = vault_with_files(&mut r, &wasm, MANY_FILES);
    let files = timeline(&mut r, many);
    let info = vault_info(&mut r, many);
    assert_eq!(files.len(), MANY_FILES as usize);
    assert_eq!(info.files, MANY_FILES as u64);
    let cost_with_many = upgrade(&mut r, &wasm, many);

    assert_eq!(
        timeline(&mut r, many),
        files,
        "every file is listed as before, in the same order"
    );
    assert_eq!(vault_info(&mut r, many), info);
    for n in [0, 1, 2, 1234, 4_999, 5_000, 8_191, 9_998, MANY_FILES - 1] {
        assert_eq!(read_chunk(&mut r, many, n), small_chunk(n), "file {n}");
    }
    // And the vault goes on working: one more upload after the upgrade.
    upload_small(&mut r, many, p(OWNER), MANY_FILES);
    assert_eq!(vault_info(&mut r, many).files, MANY_FILES as u64 + 1);
    assert_eq!(r.canister_status(p(OWNER), many).unwrap().version, 2);

    // No pre_upgrade, and a post_upgrade that only opens the memory managers: the cost is flat
    // whatever the vault holds. (Opening a manager reads its bucket table, which grows with the
    // buckets allocated, at most 32 768 a manager: here some 6,000 instructions of 200 million.)
    assert!(
        cost_with_many.abs_diff(cost_with_one) < cost_with_one / 1000,
        "upgrade instructions: {cost_with_many} with {MANY_FILES} files, {cost_with_one} with 1"
    );
}

/// The module is built reproducibly (docs/RELEASES.md): no path of the machine that built it is
/// left in it or in the web app it embeds (`--remap-path-prefix`), so the same source builds
/// the same module wherever it is checked out. And the releases published for the canister's
/// version are this build: a change to the canister after a release comes with a new version.
#[test]
fn the_module_holds_no_path_of_the_build_machine_and_matches_its_published_release() {
    use sha2::Digest;
    use std::path::PathBuf;
    let repo = vault_e2e::repo();
    let checkout = repo.canonicalize().unwrap();
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    for built in ["target/canister/vault.wasm", "target/web/vault-web_bg.wasm"] {
        let bytes = std::fs::read(repo.join(built)).unwrap();
        for path in [&checkout, &cargo_home] {
            let needle = path.to_string_lossy().into_owned();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{built} holds {needle}: build it with scripts/build-canister"
            );
        }
    }
    let toml = std::fs::read_to_string(repo.join("vault-canister/Cargo.toml")).unwrap();
    let version = toml
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("vault-canister's version");
    let module = std::fs::read(repo.join("target/canister/vault.wasm.gz")).unwrap();
    let hash = hex::encode(sha2::Sha256::digest(&module));
    for release in vault_client::verify::releases() {
        if release.version == version {
            assert_eq!(
                release.module_hash, hash,
                "docs/RELEASES.md lists {version} with another module: a changed canister needs \
                 a new version in vault-canister/Cargo.toml"
            );
        }
    }
}
