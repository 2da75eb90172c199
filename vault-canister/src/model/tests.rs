//! Model tests: the authorization matrix (every method × every kind of caller, one table), the
//! flows, and a property test of upload / trash / purge / abort sequences against a simple
//! model of usage.

use std::collections::BTreeMap;

use candid::Principal;
use ic_stable_structures::{Memory, VectorMemory};
use proptest::prelude::*;
use serde_bytes::ByteBuf;
use vault_crypto::{
    GRANT_AUTHENTICATOR_SIZE, PasswordProof, SEALED_KEY_SIZE, UNLOCK_PARAMS_SIZE, WRAPPED_KEY_SIZE,
};

use super::State;
use super::fixtures::*;
use super::types::*;

mod layout;

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

/// The scenario every matrix cell starts from, as the bytes of its stable memory.
fn scenario() -> (Vec<u8>, Secrets) {
    let memory = VectorMemory::default();
    let secrets = build_scenario(&mut State::init_with_bucket_pages(memory.clone(), 2));
    let pages = memory.size() as usize * 65536;
    let mut bytes = vec![0u8; pages];
    memory.read(0, &mut bytes);
    (bytes, secrets)
}

/// Builds the scenario in an empty vault `s`: devices, albums, files (in an album, of several
/// chunks, trashed, an upload in progress), grants, links, a rotated album key, the log.
fn build_scenario(s: &mut State<VectorMemory>) -> Secrets {
    let secrets = secrets();
    let owner = p(OWNER);
    let t = T0;
    s.install(owner, None, t).unwrap();
    s.setup(&owner, t, secrets.setup.clone()).unwrap();
    let admit = secrets.admit(s, &p(DEVICE), UnlockMethod::Passphrase);
    s.admit_device(&p(DEVICE), &canister(), t, admit).unwrap();
    for album in [ALBUM, EMPTY_ALBUM] {
        s.create_album(
            &owner,
            t,
            CreateAlbumArgs {
                album_id: id(album),
                name: blob(40, album),
                wrapped_key: blob(WRAPPED_KEY_SIZE, album),
            },
        )
        .unwrap();
    }
    upload(
        s,
        &owner,
        t,
        upload_args(
            IN_ALBUM,
            Some(ALBUM),
            2 * vault_crypto::CHUNK_SIZE as u64 + 5,
            0,
        ),
    );
    upload(s, &owner, t, upload_args(NO_ALBUM, None, 10, 0));
    upload(s, &owner, t, upload_args(TRASHED, Some(ALBUM), 10, 0));
    s.trash(&owner, t, vec![id(TRASHED)]).unwrap();
    s.begin_upload(&owner, t, upload_args(PENDING, None, 10, 0))
        .unwrap();

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
    s.grant(
        &owner,
        t,
        grant(VIEWER, Permission::View, None, vec![sealed(0)]),
    )
    .unwrap();
    s.grant(
        &owner,
        t,
        grant(CONTRIBUTOR, Permission::Contribute, None, vec![sealed(0)]),
    )
    .unwrap();
    s.grant(
        &owner,
        t,
        grant(REVOKED, Permission::Contribute, None, vec![sealed(0)]),
    )
    .unwrap();
    s.grant(
        &owner,
        t,
        GrantArgs {
            target: Target::File(id(NO_ALBUM)),
            grantee: p(FILE_VIEWER),
            grantee_key: public_key(FILE_VIEWER),
            permission: Permission::View,
            sealed_keys: vec![sealed(0)],
            expires_at: None,
            authenticator: None,
        },
    )
    .unwrap();
    s.create_link(
        &owner,
        t,
        link_args(LINK_REVOKED, album.clone(), 0, None, false),
    )
    .unwrap();
    s.revoke_link(&owner, t, token_hash(LINK_REVOKED)).unwrap();
    // Revoke REVOKED by rotating the album key: remaining grantees get version 1.
    s.rotate_album_key(
        &owner,
        t,
        RotateAlbumKeyArgs {
            album_id: id(ALBUM),
            revoke: vec![p(REVOKED)],
            new_version: 1,
            wrapped_key: blob(WRAPPED_KEY_SIZE, 0x51),
            grants: vec![
                (p(VIEWER), blob(SEALED_KEY_SIZE, 1)),
                (p(CONTRIBUTOR), blob(SEALED_KEY_SIZE, 1)),
            ],
            links: vec![],
        },
    )
    .unwrap();
    s.grant(
        &owner,
        t,
        grant(
            EXPIRED,
            Permission::Contribute,
            Some(t + 10 * SECOND),
            vec![sealed(0), sealed(1)],
        ),
    )
    .unwrap();
    s.create_link(&owner, t, link_args(LINK, album.clone(), 1, None, false))
        .unwrap();
    s.create_link(
        &owner,
        t,
        link_args(LINK_EXPIRED, album.clone(), 1, Some(t + 10 * SECOND), false),
    )
    .unwrap();
    s.create_link(
        &owner,
        t,
        link_args(LINK_PASSWORD, album.clone(), 1, None, true),
    )
    .unwrap();
    secrets
}

/// `NOW`: after the expiring grant and link lapsed, long before anything else expires.
const NOW: u64 = T0 + 60 * SECOND;

fn restore(bytes: &[u8]) -> State<VectorMemory> {
    let memory = VectorMemory::default();
    memory.grow(bytes.len() as u64 / 65536);
    memory.write(0, bytes);
    State::init_with_bucket_pages(memory, 2)
}

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
}

type Outcome = Result<(), VaultError>;
type Call = fn(&mut State<VectorMemory>, &Principal, Option<LinkAccess>, &Secrets) -> Outcome;

/// Expected outcomes: a default for every actor, with exceptions.
struct Expect(BTreeMap<Actor, Outcome>);

impl Expect {
    fn all(actors: &[Actor], outcome: Outcome) -> Self {
        Expect(actors.iter().map(|a| (*a, outcome.clone())).collect())
    }
    /// Owner and device succeed; every other person is refused. Link holders are anonymous.
    fn owner_only() -> Self {
        Self::all(&PEOPLE, Err(VaultError::NotAuthorized)).set(&[Owner, Device], Ok(()))
    }
    fn set(mut self, actors: &[Actor], outcome: Outcome) -> Self {
        for a in actors {
            self.0.insert(*a, outcome.clone());
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
            .set(
                &[LinkNoPassword],
                Err(VaultError::PasswordRequired {
                    iterations: vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS,
                }),
            )
            .set(&[LinkWrongPassword], Err(VaultError::WrongPassword))
    }
}

fn ok<T>(r: VaultResult<T>) -> Outcome {
    r.map(|_| ())
}

fn matrix() -> Vec<(&'static str, Call, Expect)> {
    let not_auth = Err(VaultError::NotAuthorized);
    vec![
        (
            "vault_info",
            |s, c, _, _| ok(s.vault_info(c)),
            Expect::owner_only(),
        ),
        (
            "set_quota",
            |s, c, _, _| ok(s.set_quota(c, NOW, 200 << 30)),
            Expect::owner_only(),
        ),
        (
            "setup (already set up)",
            |s, c, _, x| ok(s.setup(c, NOW, x.setup.clone())),
            Expect::owner_only().set(&[Owner, Device], Err(VaultError::AlreadySetUp)),
        ),
        (
            "unlock_params",
            |s, _, _, _| ok(s.unlock_params()),
            Expect::all(&PEOPLE, Ok(())),
        ),
        (
            "sharing_key",
            |s, _, _, _| ok(s.sharing_key()),
            Expect::all(&PEOPLE, Ok(())),
        ),
        (
            "admission_ticket",
            |s, c, _, _| ok(s.admission_ticket(c, NOW)),
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth.clone()),
        ),
        (
            "admit_device (right proof)",
            |s, c, _, x| {
                let args = x.admit(s, c, UnlockMethod::Passphrase);
                ok(s.admit_device(c, &canister(), NOW, args))
            },
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth.clone()),
        ),
        (
            "admit_device (right recovery proof)",
            |s, c, _, x| {
                let args = x.admit(s, c, UnlockMethod::Recovery);
                ok(s.admit_device(c, &canister(), NOW, args))
            },
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth.clone()),
        ),
        (
            "admit_device (wrong proof)",
            |s, c, _, _| {
                ok(s.admit_device(
                    c,
                    &canister(),
                    NOW,
                    AdmitDeviceArgs {
                        method: UnlockMethod::Recovery,
                        proof: ByteBuf::from(vec![0; 64]),
                        counter: None,
                    },
                ))
            },
            Expect::all(&PEOPLE, not_auth.clone()),
        ),
        (
            "clear_unlock_failures",
            |s, c, _, _| ok(s.clear_unlock_failures(c, NOW)),
            Expect::owner_only(),
        ),
        (
            "change_recovery",
            |s, c, _, x| {
                ok(s.change_recovery(
                    c,
                    NOW,
                    x.setup.recovery_wrapped_key.clone(),
                    x.setup.recovery_verifier.clone(),
                ))
            },
            Expect::owner_only(),
        ),
        (
            "rotate_master_key",
            |s, c, _, x| {
                let proof = x.admit(s, c, UnlockMethod::Passphrase).proof;
                ok(s.rotate_master_key(
                    c,
                    &canister(),
                    NOW,
                    RotateMasterKeyArgs {
                        generation: 1,
                        proof,
                        sharing_public_key: x.setup.sharing_public_key.clone(),
                        passphrase_record: x.setup.passphrase_record.clone(),
                        passphrase_verifier: x.setup.passphrase_verifier.clone(),
                        recovery_wrapped_key: x.setup.recovery_wrapped_key.clone(),
                        recovery_verifier: x.setup.recovery_verifier.clone(),
                        sharing_secret_wrapped: x.setup.sharing_secret_wrapped.clone(),
                        previous_master_wrapped: x.setup.recovery_wrapped_key.clone(),
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "profile",
            |s, c, _, _| ok(s.profile(c)),
            Expect::owner_only(),
        ),
        (
            "change_passphrase",
            |s, c, _, x| {
                ok(s.change_passphrase(
                    c,
                    NOW,
                    x.setup.passphrase_record.clone(),
                    x.setup.passphrase_verifier.clone(),
                ))
            },
            Expect::owner_only(),
        ),
        (
            "devices",
            |s, c, _, _| ok(s.devices(c)),
            Expect::owner_only(),
        ),
        (
            "remove_device",
            |s, c, _, _| ok(s.remove_device(c, NOW, p(DEVICE))),
            Expect::owner_only(),
        ),
        (
            "add_passkey",
            |s, c, _, _| ok(s.add_passkey(c, NOW, passkey_args(1, true))),
            Expect::owner_only(),
        ),
        (
            "passkey_key",
            |s, _, _, _| {
                s.passkey_key(b"none")
                    .map_or(Ok(()), |_| Err(VaultError::NotFound))
            },
            Expect::all(&PEOPLE, Ok(())),
        ),
        (
            "begin_upload (album)",
            |s, c, _, _| ok(s.begin_upload(c, NOW, upload_args(0xe1, Some(ALBUM), 10, 1))),
            Expect::owner_only()
                .set(&[Contributor], Ok(()))
                .set(&[Expired], Err(VaultError::Expired)),
        ),
        (
            "begin_upload (no album)",
            |s, c, _, _| ok(s.begin_upload(c, NOW, upload_args(0xe2, None, 10, 0))),
            Expect::owner_only(),
        ),
        (
            "put_chunk (owner's upload)",
            |s, c, _, _| {
                ok(s.put_chunk(
                    c,
                    NOW,
                    PutChunkArgs {
                        file_id: id(PENDING),
                        index: 0,
                        data: chunk(10, 0, 0),
                    }
                    .borrowed(),
                ))
            },
            Expect::owner_only(),
        ),
        (
            "upload_status",
            |s, c, _, _| ok(s.upload_status(c, NOW, &id(PENDING))),
            Expect::owner_only(),
        ),
        (
            "commit_upload (chunks missing)",
            |s, c, _, _| ok(s.commit_upload(c, NOW, &id(PENDING))),
            Expect::owner_only().set(
                &[Owner, Device],
                Err(VaultError::conflict("1 of 1 chunks are still missing")),
            ),
        ),
        (
            "abort_upload",
            |s, c, _, _| ok(s.abort_upload(c, NOW, &id(PENDING))),
            Expect::owner_only(),
        ),
        (
            "list_files (timeline)",
            |s, c, _, _| ok(s.list_files(c, NOW, ListFilesArgs::default())),
            Expect::owner_only(),
        ),
        (
            "list_files (trash)",
            |s, c, _, _| {
                ok(s.list_files(
                    c,
                    NOW,
                    ListFilesArgs {
                        trashed: Some(true),
                        ..Default::default()
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "list_files (album)",
            |s, c, l, _| {
                ok(s.list_files(
                    c,
                    NOW,
                    ListFilesArgs {
                        album: Some(id(ALBUM)),
                        link: l,
                        ..Default::default()
                    },
                ))
            },
            Expect::album_read(),
        ),
        (
            "get_file (in album)",
            |s, c, l, _| {
                ok(s.get_file(
                    c,
                    NOW,
                    FileRef {
                        file_id: id(IN_ALBUM),
                        link: l,
                    },
                ))
            },
            Expect::album_read(),
        ),
        (
            "get_chunk (in album)",
            |s, c, l, _| {
                ok(s.get_chunk(
                    c,
                    NOW,
                    GetChunkArgs {
                        file_id: id(IN_ALBUM),
                        index: 2,
                        link: l,
                    },
                ))
            },
            Expect::album_read(),
        ),
        (
            "get_thumbnail (in album)",
            |s, c, l, _| {
                ok(s.get_thumbnail(
                    c,
                    NOW,
                    FileRef {
                        file_id: id(IN_ALBUM),
                        link: l,
                    },
                ))
            },
            Expect::album_read(),
        ),
        (
            "get_chunk (file grant)",
            |s, c, l, _| {
                ok(s.get_chunk(
                    c,
                    NOW,
                    GetChunkArgs {
                        file_id: id(NO_ALBUM),
                        index: 0,
                        link: l,
                    },
                ))
            },
            Expect::owner_only()
                .set(&[FileViewer], Ok(()))
                .set(&LINKS, not_auth.clone())
                .set(&[LinkExpired], Err(VaultError::Expired))
                .set(&[LinkRevoked], Err(VaultError::Revoked))
                .set(&[LinkForged], Err(VaultError::NotFound))
                .set(
                    &[LinkNoPassword],
                    Err(VaultError::PasswordRequired {
                        iterations: vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS,
                    }),
                )
                .set(&[LinkWrongPassword], Err(VaultError::WrongPassword)),
        ),
        (
            "get_chunk (trashed)",
            |s, c, l, _| {
                ok(s.get_chunk(
                    c,
                    NOW,
                    GetChunkArgs {
                        file_id: id(TRASHED),
                        index: 0,
                        link: l,
                    },
                ))
            },
            Expect::album_read()
                .set(
                    &[Viewer, Contributor, Link, LinkRightPassword],
                    not_auth.clone(),
                )
                .set(&[Expired], not_auth.clone()),
        ),
        (
            "get_chunk (unknown file)",
            |s, c, l, _| {
                ok(s.get_chunk(
                    c,
                    NOW,
                    GetChunkArgs {
                        file_id: id(0xee),
                        index: 0,
                        link: l,
                    },
                ))
            },
            Expect::all(&PEOPLE, not_auth.clone())
                .set(&LINKS, not_auth.clone())
                .set(&[Owner, Device], Err(VaultError::NotFound)),
        ),
        (
            "move_file",
            |s, c, _, _| {
                ok(s.move_file(
                    c,
                    NOW,
                    MoveFileArgs {
                        file_id: id(NO_ALBUM),
                        album: Some(id(EMPTY_ALBUM)),
                        wrapped_key: blob(61, 1),
                        key_version: 0,
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "trash",
            |s, c, _, _| ok(s.trash(c, NOW, vec![id(IN_ALBUM)])),
            Expect::owner_only(),
        ),
        (
            "restore",
            |s, c, _, _| ok(s.restore(c, NOW, vec![id(TRASHED)])),
            Expect::owner_only(),
        ),
        (
            "purge",
            |s, c, _, _| ok(s.purge(c, NOW, vec![id(TRASHED)])),
            Expect::owner_only(),
        ),
        (
            "create_album",
            |s, c, _, _| {
                ok(s.create_album(
                    c,
                    NOW,
                    CreateAlbumArgs {
                        album_id: id(0xa9),
                        name: blob(40, 1),
                        wrapped_key: blob(61, 1),
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "rename_album",
            |s, c, _, _| ok(s.rename_album(c, NOW, id(ALBUM), blob(40, 2))),
            Expect::owner_only(),
        ),
        (
            "delete_album (empty)",
            |s, c, _, _| ok(s.delete_album(c, NOW, id(EMPTY_ALBUM))),
            Expect::owner_only(),
        ),
        (
            "list_albums",
            |s, c, _, _| ok(s.list_albums(c)),
            Expect::owner_only(),
        ),
        (
            "get_album",
            |s, c, l, _| ok(s.get_album(c, NOW, &id(ALBUM), l.as_ref())),
            Expect::album_read(),
        ),
        (
            "grant",
            |s, c, _, _| {
                ok(s.grant(
                    c,
                    NOW,
                    GrantArgs {
                        target: Target::Album(id(ALBUM)),
                        grantee: p(STRANGER),
                        grantee_key: public_key(STRANGER),
                        permission: Permission::View,
                        sealed_keys: vec![sealed(0), sealed(1)],
                        expires_at: None,
                        authenticator: None,
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "authenticate_grant",
            |s, c, _, _| {
                ok(s.authenticate_grant(
                    c,
                    AuthenticateGrantArgs {
                        target: Target::Album(id(ALBUM)),
                        grantee: p(VIEWER),
                        grantee_key: public_key(VIEWER),
                        permission: Permission::View,
                        expires_at: None,
                        authenticator: blob(GRANT_AUTHENTICATOR_SIZE, 0x61),
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "revoke_grant",
            |s, c, _, _| ok(s.revoke_grant(c, NOW, Target::File(id(NO_ALBUM)), p(FILE_VIEWER))),
            Expect::owner_only(),
        ),
        (
            "list_grants",
            |s, c, _, _| ok(s.list_grants(c, None)),
            Expect::owner_only(),
        ),
        (
            "shared_with_me",
            |s, c, _, _| ok(s.shared_with_me(c, NOW)),
            Expect::all(&PEOPLE, Ok(())).set(&[Anonymous], not_auth.clone()),
        ),
        (
            "notify_shared",
            |s, c, _, _| ok(s.notify_shared(c, NOW, &canister(), Principal::from_slice(&[7, 1]))),
            Expect::all(&PEOPLE, Ok(()))
                .set(&[Anonymous], not_auth.clone())
                .set(
                    &[Owner, Device],
                    Err(VaultError::invalid(
                        "caller",
                        super::sharing::inbox::OWN_NOTICE,
                    )),
                ),
        ),
        ("inbox", |s, c, _, _| ok(s.inbox(c)), Expect::owner_only()),
        (
            "answer_share",
            |s, c, _, _| {
                ok(s.answer_share(
                    c,
                    NOW,
                    &canister(),
                    AnswerShareArgs {
                        vault: Principal::from_slice(&[7, 1]),
                        follow: true,
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "rotate_album_key",
            |s, c, _, _| {
                ok(s.rotate_album_key(
                    c,
                    NOW,
                    RotateAlbumKeyArgs {
                        album_id: id(ALBUM),
                        revoke: vec![p(VIEWER)],
                        new_version: 2,
                        wrapped_key: blob(61, 2),
                        grants: vec![(p(CONTRIBUTOR), blob(81, 2)), (p(EXPIRED), blob(81, 2))],
                        links: vec![
                            (token_hash(LINK), blob(61, 2)),
                            (token_hash(LINK_PASSWORD), blob(61, 2)),
                        ],
                    },
                ))
            },
            Expect::owner_only(),
        ),
        (
            "create_link",
            |s, c, _, _| {
                ok(s.create_link(
                    c,
                    NOW,
                    link_args(0x19, Target::Album(id(ALBUM)), 1, None, false),
                ))
            },
            Expect::owner_only(),
        ),
        (
            "revoke_link",
            |s, c, _, _| ok(s.revoke_link(c, NOW, token_hash(LINK))),
            Expect::owner_only(),
        ),
        (
            "list_links",
            |s, c, _, _| ok(s.list_links(c)),
            Expect::owner_only(),
        ),
        (
            "open_link",
            |s, _, l, _| ok(s.open_link(NOW, &l.unwrap_or_else(|| access(LINK_FORGED, None)))),
            Expect::album_read().set(&PEOPLE, Err(VaultError::NotFound)),
        ),
        (
            "link_opened",
            |s, _, l, _| ok(s.link_opened(NOW, &l.unwrap_or_else(|| access(LINK_FORGED, None)))),
            Expect::album_read().set(&PEOPLE, Err(VaultError::NotFound)),
        ),
        (
            "activity",
            |s, c, _, _| ok(s.activity(c, None, None)),
            Expect::owner_only(),
        ),
        (
            "list_uploads",
            |s, c, _, _| ok(s.list_uploads(c, ListUploadsArgs::default())),
            Expect::owner_only(),
        ),
    ]
}

/// Every method × every kind of caller, each cell on a fresh copy of the same scenario.
#[test]
fn authorization_matrix() {
    let (bytes, secrets) = scenario();
    let mut failures = Vec::new();
    let mut cells = 0;
    for (name, call, expect) in matrix() {
        for (actor, expected) in &expect.0 {
            let mut s = restore(&bytes);
            let before = s.vault_info(&p(OWNER)).unwrap();
            let got = call(&mut s, &actor.principal(), actor.link(), &secrets);
            cells += 1;
            if &got != expected {
                failures.push(format!(
                    "{name} by {actor:?}: expected {expected:?}, got {got:?}"
                ));
            }
            // A refusal changes nothing (except the deliberate count of wrong unlock proofs).
            if got.is_err() && !name.starts_with("admit_device") {
                assert_eq!(
                    s.vault_info(&p(OWNER)).unwrap(),
                    before,
                    "{name} by {actor:?} changed state while refusing"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cells > 400, "only {cells} cells");
}

/// The updates of the interface (queries are not inspected).
const UPDATES: [&str; 31] = [
    "set_quota",
    "add_passkey",
    "setup",
    "admission_ticket",
    "admit_device",
    "clear_unlock_failures",
    "change_passphrase",
    "change_recovery",
    "rotate_master_key",
    "remove_device",
    "begin_upload",
    "put_chunk",
    "commit_upload",
    "abort_upload",
    "move_file",
    "trash",
    "restore",
    "purge",
    "create_album",
    "rename_album",
    "delete_album",
    "grant",
    "authenticate_grant",
    "revoke_grant",
    "rotate_album_key",
    "create_link",
    "revoke_link",
    "link_opened",
    "http_request_update",
    "notify_shared",
    "answer_share",
];

/// inspect_message may only refuse what would fail anyway, and refuses anonymous writes.
#[test]
fn inspect_message_refuses_only_calls_that_would_fail() {
    let (bytes, secrets) = scenario();
    let s = restore(&bytes);
    let mut checked = 0;
    for (name, call, expect) in matrix() {
        let method = name.split(' ').next().unwrap();
        if !UPDATES.contains(&method) {
            continue;
        }
        for (actor, expected) in &expect.0 {
            let accepted = s.accepts_ingress(&actor.principal(), method, 0, NOW);
            checked += 1;
            if expected.is_ok() {
                assert!(
                    accepted,
                    "inspect_message would refuse {name} by {actor:?}, which succeeds"
                );
            }
            if actor.principal() == Principal::anonymous() && method != "link_opened" {
                assert!(
                    !accepted,
                    "inspect_message accepts {name} from the anonymous principal"
                );
            }
            if !accepted {
                let mut fresh = restore(&bytes);
                assert!(
                    call(&mut fresh, &actor.principal(), actor.link(), &secrets).is_err(),
                    "{name} by {actor:?}"
                );
            }
        }
    }
    assert!(checked > 150, "only {checked} update cells");
}

/// The finding: inspect_message admitted updates by method name only, so any signed caller
/// could send 2 MiB messages that the vault paid for and refused. It now looks at who calls
/// and how large the argument is.
#[test]
fn inspect_message_refuses_strangers_and_oversized_arguments() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let chunk_arg = vault_crypto::ENCRYPTED_CHUNK_SIZE + 60;
    let two_mib = 2 << 20;
    let accepts = |s: &State<VectorMemory>, who: Actor, method: &str, size: usize| {
        s.accepts_ingress(&who.principal(), method, size, NOW)
    };
    // The owner and devices: anything, any size.
    for who in [Owner, Device] {
        for method in UPDATES {
            assert!(accepts(&s, who, method, two_mib), "{who:?} {method}");
        }
    }
    // A stranger, a viewer, a revoked or expired contributor: no chunk, no upload, no
    // owner's method.
    for who in [Stranger, Viewer, FileViewer, Revoked, Expired, Anonymous] {
        for method in ["put_chunk", "begin_upload", "commit_upload", "abort_upload"] {
            assert!(!accepts(&s, who, method, 100), "{who:?} {method}");
        }
        for method in [
            "set_quota",
            "trash",
            "purge",
            "grant",
            "create_link",
            "setup",
        ] {
            assert!(!accepts(&s, who, method, 100), "{who:?} {method}");
        }
    }
    // Admitting a device: anyone signed, with a small argument.
    assert!(accepts(&s, Stranger, "admit_device", 100));
    assert!(!accepts(&s, Stranger, "admit_device", 64 << 10));
    assert!(!accepts(&s, Anonymous, "admit_device", 100));
    // A link holder's updates: anyone, small.
    assert!(accepts(&s, Anonymous, "link_opened", 100));
    assert!(!accepts(&s, Anonymous, "link_opened", two_mib));
    assert!(accepts(&s, Anonymous, "http_request_update", 2000));
    assert!(!accepts(&s, Anonymous, "http_request_update", two_mib));
    // A contributor: begin_upload up to a thumbnail's size; chunks once an upload is theirs.
    assert!(accepts(&s, Contributor, "begin_upload", 1 << 20));
    assert!(!accepts(&s, Contributor, "begin_upload", two_mib));
    assert!(!accepts(&s, Contributor, "put_chunk", chunk_arg));
    s.begin_upload(&p(CONTRIBUTOR), NOW, upload_args(0xe8, Some(ALBUM), 10, 1))
        .unwrap();
    assert!(accepts(&s, Contributor, "put_chunk", chunk_arg));
    assert!(accepts(&s, Contributor, "commit_upload", 30));
    assert!(!accepts(&s, Contributor, "put_chunk", two_mib));
    assert!(!accepts(&s, Contributor, "commit_upload", 64 << 10));
    // Revoked, they lose the upload, and with it the right to send chunks.
    s.revoke_grant(&p(OWNER), NOW, Target::Album(id(ALBUM)), p(CONTRIBUTOR))
        .unwrap();
    assert!(!accepts(&s, Contributor, "put_chunk", chunk_arg));
    assert!(!accepts(&s, Contributor, "begin_upload", 1000));
}

/// The follow-up to finding 3: a contributor took the album key it encrypts uploads under from
/// the `shared_with_me` query, where one node could seal a key of its own to it (HPKE base
/// mode does not authenticate who sealed). Grantees now read it certified, calling the query
/// as an update: inspect_message admits that from holders of a live grant, and from no one
/// else.
#[test]
fn grantees_and_only_grantees_read_what_is_shared_with_them_certified() {
    let (bytes, _) = scenario();
    let s = restore(&bytes);
    for who in [Viewer, FileViewer, Contributor, Owner, Device] {
        assert!(
            s.accepts_ingress(&who.principal(), "shared_with_me", 0, NOW),
            "{who:?}"
        );
    }
    for who in [Stranger, Revoked, Expired, Anonymous] {
        assert!(
            !s.accepts_ingress(&who.principal(), "shared_with_me", 0, NOW),
            "{who:?}"
        );
    }
    assert!(!s.accepts_ingress(&p(VIEWER), "shared_with_me", 64 << 10, NOW));
    assert!(!s.shared_with_me(&p(VIEWER), NOW).unwrap().is_empty());
}

#[test]
fn anonymous_never_writes() {
    let (bytes, secrets) = scenario();
    let anon = Principal::anonymous();
    for (name, call, _) in matrix() {
        let mut s = restore(&bytes);
        let log_before = s.log.len();
        let _ = call(&mut s, &anon, None, &secrets);
        assert_eq!(
            s.log.len(),
            log_before,
            "{name}: the anonymous caller changed something"
        );
    }
}

#[test]
fn a_refused_upload_reserves_nothing_and_a_resumed_one_is_the_same() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let owner = p(OWNER);
    s.set_quota(
        &owner,
        NOW,
        s.vault_info(&owner).unwrap().used_bytes
            + s.vault_info(&owner).unwrap().reserved_bytes
            + 1000,
    )
    .unwrap();
    let before = s.vault_info(&owner).unwrap();
    let big = upload_args(0xe5, None, 5000, 0);
    assert!(matches!(
        s.begin_upload(&owner, NOW, big),
        Err(VaultError::QuotaExceeded { .. })
    ));
    assert_eq!(s.vault_info(&owner).unwrap(), before);
    // Resuming the pending upload with identical arguments reports its state; different ones are refused.
    let status = s
        .begin_upload(&owner, NOW, upload_args(PENDING, None, 10, 0))
        .unwrap();
    assert_eq!(status.missing, vec![0]);
    let mut other = upload_args(PENDING, None, 10, 0);
    other.sort_key += 1;
    assert_eq!(
        s.begin_upload(&owner, NOW, other),
        Err(VaultError::AlreadyExists)
    );
}

#[test]
fn chunks_are_checked_and_idempotent() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let owner = p(OWNER);
    let size = vault_crypto::CHUNK_SIZE as u64 + 3;
    s.begin_upload(&owner, NOW, upload_args(0xe6, None, size, 0))
        .unwrap();
    let put = |s: &mut State<VectorMemory>, index, data| {
        s.put_chunk(
            &owner,
            NOW,
            PutChunkArgs {
                file_id: id(0xe6),
                index,
                data,
            }
            .borrowed(),
        )
    };
    assert!(
        matches!(
            put(&mut s, 2, chunk(size, 1, 0)),
            Err(VaultError::InvalidArgument { .. })
        ),
        "index past the end"
    );
    assert!(
        matches!(
            put(&mut s, 0, ByteBuf::from(vec![0; 100])),
            Err(VaultError::InvalidArgument { .. })
        ),
        "short chunk"
    );
    assert!(
        matches!(
            put(&mut s, 1, ByteBuf::from(vec![0; 20])),
            Err(VaultError::InvalidArgument { .. })
        ),
        "oversize last chunk"
    );
    put(&mut s, 1, chunk(size, 1, 7)).unwrap();
    put(&mut s, 1, chunk(size, 1, 7)).unwrap();
    assert_eq!(
        s.upload_status(&owner, NOW, &id(0xe6)).unwrap().missing,
        vec![0]
    );
    assert!(matches!(
        s.commit_upload(&owner, NOW, &id(0xe6)),
        Err(VaultError::Conflict { .. })
    ));
    put(&mut s, 0, chunk(size, 0, 1)).unwrap();
    let file = s.commit_upload(&owner, NOW, &id(0xe6)).unwrap();
    assert_eq!(file.chunk_count, 2);
    let got = s
        .get_chunk(
            &owner,
            NOW,
            GetChunkArgs {
                file_id: id(0xe6),
                index: 1,
                link: None,
            },
        )
        .unwrap();
    assert_eq!(got, chunk(size, 1, 7));
}

#[test]
fn duplicates_are_refused() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let mut args = upload_args(0xe7, None, 10, 0);
    args.dedupe_hash = Some(ByteBuf::from(vec![NO_ALBUM; 32]));
    assert_eq!(
        s.begin_upload(&p(OWNER), NOW, args),
        Err(VaultError::Duplicate {
            existing: id(NO_ALBUM)
        })
    );
}

#[test]
fn timeline_pages_in_order_without_gaps() {
    let mut s = State::init_with_bucket_pages(VectorMemory::default(), 2);
    let owner = p(OWNER);
    s.install(owner, None, T0).unwrap();
    for n in 0..25u8 {
        let mut args = upload_args(n, None, 1, 0);
        args.sort_key = (n as i64 - 12) * 7; // negative and positive keys
        args.dedupe_hash = None;
        upload(&mut s, &owner, T0, args);
    }
    for descending in [true, false] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .list_files(
                    &owner,
                    T0,
                    ListFilesArgs {
                        after,
                        limit: Some(4),
                        descending: Some(descending),
                        ..Default::default()
                    },
                )
                .unwrap();
            seen.extend(page.files.iter().map(|f| f.sort_key));
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        let mut expected: Vec<i64> = (0..25).map(|n| (n - 12) * 7).collect();
        if descending {
            expected.reverse();
        }
        assert_eq!(seen, expected);
    }
}

/// Every page the owner can list (timeline, trash, each album), two files a page so that
/// cursors are crossed, each file as listed paired with what `get_file` says of it.
fn listed_and_got(s: &State<VectorMemory>) -> Vec<(FileInfo, FileInfo)> {
    let owner = p(OWNER);
    let mut listings = vec![
        ListFilesArgs::default(),
        ListFilesArgs {
            trashed: Some(true),
            ..Default::default()
        },
    ];
    for album in s.list_albums(&owner).unwrap() {
        listings.push(ListFilesArgs {
            album: Some(album.id),
            ..Default::default()
        });
    }
    let mut out = Vec::new();
    for args in listings {
        let mut after = None;
        loop {
            let args = ListFilesArgs {
                after,
                limit: Some(2),
                ..args.clone()
            };
            let page = s.list_files(&owner, NOW, args).unwrap();
            for listed in page.files {
                let file_id = listed.id.clone();
                let got = s.get_file(
                    &owner,
                    NOW,
                    FileRef {
                        file_id,
                        link: None,
                    },
                );
                out.push((listed, got.unwrap()));
            }
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
    }
    out
}

/// Listings read copies of the file records kept in their indices: the copies follow every
/// change to a record (commit, move, trash, restore).
#[test]
fn listings_show_each_file_as_get_file_does() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let owner = p(OWNER);
    let album_version = s
        .get_album(&owner, NOW, &id(ALBUM), None)
        .unwrap()
        .key_version;
    let to_album = |file: u8, album: Option<u8>, key_version| MoveFileArgs {
        file_id: id(file),
        album: album.map(id),
        wrapped_key: blob(WRAPPED_KEY_SIZE, file ^ 0x55),
        key_version,
    };
    s.move_file(&owner, NOW, to_album(NO_ALBUM, Some(ALBUM), album_version))
        .unwrap();
    s.move_file(&owner, NOW, to_album(IN_ALBUM, None, 0))
        .unwrap();
    s.trash(&owner, NOW, vec![id(NO_ALBUM)]).unwrap();
    s.restore(&owner, NOW, vec![id(TRASHED)]).unwrap();
    let files = listed_and_got(&s);
    // Timeline: IN_ALBUM and TRASHED; trash: NO_ALBUM; the album: TRASHED.
    assert_eq!(files.len(), 4);
    for (listed, got) in files {
        assert_eq!(listed, got);
    }
}

/// Index entries written before listings kept copies hold no bytes: they list the same, the
/// records then read from FILES.
#[test]
fn entries_without_a_copy_list_from_files() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let before = listed_and_got(&s);
    assert!(before.len() >= 3);
    let timeline: Vec<_> = s.timeline.keys().collect();
    for k in timeline {
        s.timeline.insert(k, super::stored::Listed(None));
    }
    let album_files: Vec<_> = s.album_files.keys().collect();
    for k in album_files {
        s.album_files.insert(k, super::stored::Listed(None));
    }
    let trash: Vec<_> = s.trash.keys().collect();
    for k in trash {
        s.trash.insert(k, super::stored::Listed(None));
    }
    assert_eq!(listed_and_got(&s), before);
}

#[test]
fn revoked_grantee_is_refused_and_new_files_use_the_new_key() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    assert!(s.shared_with_me(&p(REVOKED), NOW).unwrap().is_empty());
    let shared = s.shared_with_me(&p(VIEWER), NOW).unwrap();
    assert_eq!(shared[0].album_key_version, Some(1));
    assert_eq!(
        shared[0]
            .grant
            .sealed_keys
            .iter()
            .map(|k| k.version)
            .collect::<Vec<_>>(),
        vec![0, 1]
    );
    // A file wrapped under the old key version is refused: it would be readable to the revoked.
    assert!(matches!(
        s.begin_upload(&p(OWNER), NOW, upload_args(0xe8, Some(ALBUM), 10, 0)),
        Err(VaultError::Conflict { .. })
    ));
    // Rotation must cover every remaining grantee and live link.
    let partial = RotateAlbumKeyArgs {
        album_id: id(ALBUM),
        revoke: vec![],
        new_version: 2,
        wrapped_key: blob(61, 2),
        grants: vec![(p(VIEWER), blob(81, 2))],
        links: vec![],
    };
    assert!(matches!(
        s.rotate_album_key(&p(OWNER), NOW, partial),
        Err(VaultError::InvalidArgument { .. })
    ));
}

/// Which of the test principals `p(n)` a principal is.
fn who(principal: &Principal) -> u8 {
    principal.as_slice()[0]
}

/// A re-grant of VIEWER on the album (both key versions), with `key` as its sharing key.
fn regrant_viewer(key: ByteBuf) -> GrantArgs {
    GrantArgs {
        target: Target::Album(id(ALBUM)),
        grantee: p(VIEWER),
        grantee_key: key,
        permission: Permission::Contribute,
        sealed_keys: vec![sealed(0), sealed(1)],
        expires_at: None,
        authenticator: None,
    }
}

/// Everything a grant call could change: the grants, what each grantee sees, the activity log.
fn sharing_state(s: &State<VectorMemory>) -> (Vec<GrantInfo>, [Vec<SharedItem>; 2], ActivityPage) {
    let owner = p(OWNER);
    (
        s.list_grants(&owner, None).unwrap(),
        [VIEWER, STRANGER].map(|n| s.shared_with_me(&p(n), NOW).unwrap()),
        s.activity(&owner, None, None).unwrap(),
    )
}

#[test]
fn grants_keep_the_grantee_sharing_key() {
    let (bytes, _) = scenario();
    let s = restore(&bytes);
    let grants = s.list_grants(&p(OWNER), None).unwrap();
    assert_eq!(grants.len(), 4);
    for g in &grants {
        assert_eq!(g.grantee_key, Some(public_key(who(&g.grantee))), "{g:?}");
    }
    for n in [VIEWER, CONTRIBUTOR, FILE_VIEWER] {
        let shared = s.shared_with_me(&p(n), NOW).unwrap();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].grant.grantee_key, Some(public_key(n)));
    }
}

#[test]
fn a_sharing_key_of_the_wrong_length_is_refused_and_changes_nothing() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let before = sharing_state(&s);
    for len in [0, 31, 33, 65] {
        let key = ByteBuf::from(vec![0x42; len]);
        // A new grantee, and a re-grant of an existing one.
        let new = GrantArgs {
            grantee: p(STRANGER),
            ..regrant_viewer(key.clone())
        };
        for args in [new, regrant_viewer(key)] {
            match s.grant(&p(OWNER), NOW, args) {
                Err(VaultError::InvalidArgument { field, .. }) => {
                    assert_eq!(field, "grantee_key")
                }
                other => panic!("a {len}-byte key: {other:?}"),
            }
        }
    }
    assert_eq!(sharing_state(&s), before);
}

#[test]
fn a_regrant_replaces_the_sharing_key() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let owner = p(OWNER);
    let before = s.shared_with_me(&p(VIEWER), NOW).unwrap()[0].grant.clone();
    let replaced = s
        .grant(&owner, NOW, regrant_viewer(public_key(0x99)))
        .unwrap();
    assert_eq!(replaced.grantee_key, Some(public_key(0x99)));
    assert_eq!(replaced.permission, Permission::Contribute);
    assert_eq!(replaced.created_at, before.created_at);
    let album = Some(Target::Album(id(ALBUM)));
    let listed: Vec<_> = s
        .list_grants(&owner, album)
        .unwrap()
        .into_iter()
        .filter(|g| g.grantee == p(VIEWER))
        .collect();
    assert_eq!(listed, vec![replaced.clone()]);
    assert_eq!(
        s.shared_with_me(&p(VIEWER), NOW).unwrap()[0].grant,
        replaced
    );
}

/// Grants stored before grants kept a sharing key list with none, and still work.
#[test]
fn grants_stored_without_a_sharing_key_list_with_none() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let grants: Vec<_> = s.grants.iter().map(|e| (*e.key(), e.value())).collect();
    for (k, mut g) in grants {
        // As the previous layout wrote it (stored/tests.rs: the same bytes decode so).
        g.grantee_key = None;
        s.grants.insert(k, g);
    }
    let owner = p(OWNER);
    assert!(
        s.list_grants(&owner, None)
            .unwrap()
            .iter()
            .all(|g| g.grantee_key.is_none())
    );
    let shared = s.shared_with_me(&p(VIEWER), NOW).unwrap();
    assert_eq!(shared[0].grant.grantee_key, None);
    // A re-grant gives it a key.
    s.grant(&owner, NOW, regrant_viewer(public_key(VIEWER)))
        .unwrap();
    assert_eq!(
        s.shared_with_me(&p(VIEWER), NOW).unwrap()[0]
            .grant
            .grantee_key,
        Some(public_key(VIEWER))
    );
}

fn wrong_passphrase(counter: Option<u64>) -> AdmitDeviceArgs {
    AdmitDeviceArgs {
        method: UnlockMethod::Passphrase,
        proof: ByteBuf::from(vec![0; 64]),
        counter,
    }
}

#[test]
fn wrong_unlock_proofs_lock_out_the_caller_then_let_it_retry() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    let (me, stranger) = (p(0x30), p(STRANGER));
    for _ in 0..=super::FREE_UNLOCK_ATTEMPTS {
        assert_eq!(
            s.admit_device(&me, &canister(), NOW, wrong_passphrase(None)),
            Err(VaultError::NotAuthorized)
        );
    }
    let right = secrets.admit(&s, &me, UnlockMethod::Passphrase);
    assert!(matches!(
        s.admit_device(&me, &canister(), NOW, right.clone()),
        Err(VaultError::RateLimited { .. })
    ));
    assert_eq!(
        s.admission_ticket(&me, NOW).unwrap().retry_after_ns,
        Some(SECOND)
    );
    assert_eq!(
        s.admission_ticket(&stranger, NOW).unwrap().retry_after_ns,
        None
    );
    assert_eq!(
        s.admit_device(&me, &canister(), NOW + 2 * SECOND, right),
        Ok(())
    );
    assert!(s.is_owner(&me));
    // The streak is forgotten once the caller is admitted.
    assert_eq!(s.unlock_failures.len(), 0);
}

/// Finding 16.4: one vault-wide counter let a stranger lock the owner's new device out.
#[test]
fn a_strangers_wrong_proofs_never_rate_limit_another_caller() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    for _ in 0..50 {
        let _ = s.admit_device(&p(STRANGER), &canister(), NOW, wrong_passphrase(None));
    }
    assert!(matches!(
        s.admit_device(&p(STRANGER), &canister(), NOW, wrong_passphrase(None)),
        Err(VaultError::RateLimited { .. })
    ));
    // The owner's new device, at the same instant: admitted by passphrase, and by recovery.
    let new_device = p(0x31);
    let args = secrets.admit(&s, &new_device, UnlockMethod::Passphrase);
    assert_eq!(s.admit_device(&new_device, &canister(), NOW, args), Ok(()));
    let other_device = p(0x32);
    let args = secrets.admit(&s, &other_device, UnlockMethod::Recovery);
    assert_eq!(
        s.admit_device(&other_device, &canister(), NOW, args),
        Ok(())
    );
}

#[test]
fn recovery_proofs_are_never_throttled() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    let me = p(0x30);
    let wrong = AdmitDeviceArgs {
        method: UnlockMethod::Recovery,
        proof: ByteBuf::from(vec![0; 64]),
        counter: None,
    };
    for _ in 0..100 {
        assert_eq!(
            s.admit_device(&me, &canister(), NOW, wrong.clone()),
            Err(VaultError::NotAuthorized)
        );
    }
    let args = secrets.admit(&s, &me, UnlockMethod::Recovery);
    assert_eq!(s.admit_device(&me, &canister(), NOW, args), Ok(()));
    // Even a caller locked out of passphrase attempts may prove the recovery key.
    let locked = p(0x33);
    for _ in 0..=super::FREE_UNLOCK_ATTEMPTS {
        let _ = s.admit_device(&locked, &canister(), NOW, wrong_passphrase(None));
    }
    let args = secrets.admit(&s, &locked, UnlockMethod::Recovery);
    assert_eq!(s.admit_device(&locked, &canister(), NOW, args), Ok(()));
}

#[test]
fn an_admitted_device_clears_the_lockouts() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    let new_device = p(0x30);
    for _ in 0..10 {
        let _ = s.admit_device(&new_device, &canister(), NOW, wrong_passphrase(None));
    }
    let args = secrets.admit(&s, &new_device, UnlockMethod::Passphrase);
    assert!(matches!(
        s.admit_device(&new_device, &canister(), NOW, args.clone()),
        Err(VaultError::RateLimited { .. })
    ));
    assert_eq!(
        s.clear_unlock_failures(&p(STRANGER), NOW),
        Err(VaultError::NotAuthorized)
    );
    assert_eq!(s.clear_unlock_failures(&p(DEVICE), NOW), Ok(1));
    assert_eq!(s.admit_device(&new_device, &canister(), NOW, args), Ok(()));
}

#[test]
fn counted_callers_are_bounded() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    for n in 0..super::MAX_COUNTED_CALLERS + 20 {
        let caller = Principal::from_slice(&n.to_be_bytes());
        let _ = s.admit_device(&caller, &canister(), NOW, wrong_passphrase(None));
    }
    assert_eq!(s.unlock_failures.len(), super::MAX_COUNTED_CALLERS);
}

/// Finding 16.1: a proof was `SHA-256(proof) == verifier`, so whoever saw one admission
/// message could admit their own principal with it.
#[test]
fn a_proof_admits_only_its_caller_and_only_once() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    let (device, eavesdropper) = (p(0x30), p(0x31));
    let seen = secrets.admit(&s, &device, UnlockMethod::Passphrase);
    // Replayed at once by another caller: refused.
    assert_eq!(
        s.admit_device(&eavesdropper, &canister(), NOW, seen.clone()),
        Err(VaultError::NotAuthorized)
    );
    // Made for another canister: refused.
    let elsewhere = Principal::from_slice(&[9; 10]);
    assert_eq!(
        s.admit_device(&device, &elsewhere, NOW, seen.clone()),
        Err(VaultError::NotAuthorized)
    );
    assert_eq!(
        s.admit_device(&device, &canister(), NOW, seen.clone()),
        Ok(())
    );
    // Replayed later by its own caller (removed meanwhile): the counter moved on.
    s.remove_device(&p(OWNER), NOW, device).unwrap();
    let replay = AdmitDeviceArgs {
        counter: None,
        ..seen.clone()
    };
    assert_eq!(
        s.admit_device(&device, &canister(), NOW, replay),
        Err(VaultError::NotAuthorized)
    );
    assert!(matches!(
        s.admit_device(&device, &canister(), NOW, seen),
        Err(VaultError::Conflict { .. })
    ));
    assert!(!s.is_owner(&device) && !s.is_owner(&eavesdropper));
}

/// Finding 16.10d: a removed device keeps the master key it held. Rotating it makes a new
/// generation whose wrappings the canister keeps, chains the old key under the new one, and
/// signs out every other device — the install owner included — so that none goes on wrapping
/// new keys under the old master key. A wrong generation or a bad argument changes nothing.
#[test]
fn rotating_the_master_key_signs_out_every_other_device_and_chains_the_old_key() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    // What a device that knows the passphrase sends: a proof for itself at the current counter.
    let args = |s: &State<VectorMemory>, caller: Principal, generation: u32| RotateMasterKeyArgs {
        generation,
        proof: secrets.admit(s, &caller, UnlockMethod::Passphrase).proof,
        sharing_public_key: secrets.setup.sharing_public_key.clone(),
        passphrase_record: secrets.setup.passphrase_record.clone(),
        passphrase_verifier: secrets.setup.passphrase_verifier.clone(),
        recovery_wrapped_key: blob(WRAPPED_KEY_SIZE, 0x70u8.wrapping_add(generation as u8)),
        recovery_verifier: secrets.setup.recovery_verifier.clone(),
        sharing_secret_wrapped: blob(WRAPPED_KEY_SIZE, 0x80u8.wrapping_add(generation as u8)),
        previous_master_wrapped: blob(WRAPPED_KEY_SIZE, generation as u8),
    };
    let rotate = |s: &mut State<VectorMemory>, caller: Principal, a: RotateMasterKeyArgs| {
        s.rotate_master_key(&caller, &canister(), NOW, a)
    };
    let (dev, owner) = (p(DEVICE), p(OWNER));
    let other = p(0x40);
    let proof = secrets.admit(&s, &other, UnlockMethod::Passphrase);
    s.admit_device(&other, &canister(), NOW, proof).unwrap();
    let before = s.profile(&owner).unwrap();
    assert_eq!(
        (before.master_generation, before.previous_masters.len()),
        (0, 0)
    );

    for stranger in [
        p(STRANGER),
        p(VIEWER),
        p(CONTRIBUTOR),
        Principal::anonymous(),
    ] {
        let a = args(&s, stranger, 1);
        assert_eq!(rotate(&mut s, stranger, a), Err(VaultError::NotAuthorized));
    }
    for generation in [0, 2, u32::MAX] {
        let a = args(&s, dev, generation);
        assert!(matches!(
            rotate(&mut s, dev, a),
            Err(VaultError::Conflict { .. })
        ));
    }
    // Holding an admitted device is not enough: without a proof of the passphrase (another
    // caller's, or none) it is refused — a stolen device cannot rotate the owner out.
    let mut stolen = args(&s, dev, 1);
    stolen.proof = args(&s, other, 1).proof;
    assert_eq!(rotate(&mut s, dev, stolen), Err(VaultError::NotAuthorized));
    let mut none = args(&s, dev, 1);
    none.proof = ByteBuf::from(vec![0; 64]);
    assert_eq!(rotate(&mut s, dev, none), Err(VaultError::NotAuthorized));
    // A sharing key pair one node served in place of the owner's: refused, the secret kept.
    let mut swapped = args(&s, dev, 1);
    swapped.sharing_public_key = ByteBuf::from(vec![0x55; 32]);
    assert!(matches!(
        rotate(&mut s, dev, swapped),
        Err(VaultError::Conflict { .. })
    ));
    let mut weak = args(&s, dev, 1);
    weak.passphrase_record = {
        let mut r = secrets.setup.passphrase_record.to_vec();
        r[2..6].copy_from_slice(&8u32.to_be_bytes());
        ByteBuf::from(r)
    };
    let mut short = args(&s, dev, 1);
    short.previous_master_wrapped = blob(WRAPPED_KEY_SIZE - 1, 1);
    let mut not_a_key = args(&s, dev, 1);
    not_a_key.recovery_verifier = ByteBuf::from(vec![0; 32]);
    for bad in [weak, short, not_a_key] {
        assert!(matches!(
            rotate(&mut s, dev, bad),
            Err(VaultError::InvalidArgument { .. })
        ));
    }
    assert_eq!(
        s.profile(&owner).unwrap(),
        before,
        "refusals change nothing"
    );
    assert!(s.is_owner(&other) && s.is_owner(&owner));
    // A passkey that unlocks: a device like the others, signed out with them.
    let passkey = passkey_args(1, true);
    s.add_passkey(&dev, NOW, passkey.clone()).unwrap();
    let passkey_principal = Principal::self_authenticating(&passkey.public_key);

    // From a device: the other devices and the install owner are signed out.
    let a = args(&s, dev, 1);
    assert_eq!(
        rotate(&mut s, dev, a),
        Ok(MasterKeyRotated {
            generation: 1,
            devices_signed_out: 3
        })
    );
    assert!(!s.is_owner(&passkey_principal));
    assert_eq!(s.passkey_key(&passkey.credential_id), None);
    assert!(s.is_owner(&dev));
    assert!(!s.is_owner(&other) && !s.is_owner(&owner));
    assert_eq!(s.profile(&owner), Err(VaultError::NotAuthorized));
    assert_eq!(s.list_albums(&owner), Err(VaultError::NotAuthorized));
    let after = s.profile(&dev).unwrap();
    assert_eq!(after.master_generation, 1);
    assert_eq!(after.previous_masters, vec![blob(WRAPPED_KEY_SIZE, 1)]);
    assert_eq!(after.recovery_wrapped_key, blob(WRAPPED_KEY_SIZE, 0x71));
    assert_eq!(after.sharing_secret_wrapped, blob(WRAPPED_KEY_SIZE, 0x81));
    assert_eq!(after.sharing_public_key, before.sharing_public_key);
    // The certified ticket names the generation, and that the install owner must prove again.
    let ticket = s.admission_ticket(&owner, NOW).unwrap();
    assert!(!ticket.admitted);
    assert_eq!(ticket.master_generation, 1);
    // The install owner proves the passphrase: signed in again, and not made a device.
    let proof = secrets.admit(&s, &owner, UnlockMethod::Passphrase);
    s.admit_device(&owner, &canister(), NOW, proof).unwrap();
    assert!(s.is_owner(&owner));
    assert!(
        !s.devices(&owner)
            .unwrap()
            .iter()
            .any(|d| d.principal == owner)
    );

    // The next rotation, from the install owner, signs out the device.
    let a = args(&s, owner, 1);
    assert!(matches!(
        rotate(&mut s, owner, a),
        Err(VaultError::Conflict { .. })
    ));
    let a = args(&s, owner, 2);
    assert_eq!(
        rotate(&mut s, owner, a),
        Ok(MasterKeyRotated {
            generation: 2,
            devices_signed_out: 1
        })
    );
    assert!(s.is_owner(&owner) && !s.is_owner(&dev));
    assert_eq!(
        s.profile(&owner).unwrap().previous_masters,
        vec![blob(WRAPPED_KEY_SIZE, 1), blob(WRAPPED_KEY_SIZE, 2)]
    );
    let log = s.activity(&owner, None, Some(10)).unwrap();
    assert_eq!(
        log.entries[0].activity,
        Activity::MasterKeyRotated {
            generation: 2,
            devices_signed_out: 1
        }
    );
    // Grants, links and files are untouched: grantees keep reading what they could.
    assert!(
        s.shared_with_me(&p(VIEWER), NOW)
            .is_ok_and(|v| !v.is_empty())
    );
}

#[test]
fn admission_ticket_tells_the_truth() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    let ticket = s.admission_ticket(&p(STRANGER), NOW).unwrap();
    assert!(!ticket.admitted);
    assert_eq!(ticket.unlock_params, s.unlock_params().unwrap());
    assert_eq!((ticket.passphrase_version, ticket.recovery_version), (2, 2));
    assert!(s.admission_ticket(&p(DEVICE), NOW).unwrap().admitted);
    let before = ticket.counter;
    let args = secrets.admit(&s, &p(STRANGER), UnlockMethod::Passphrase);
    s.admit_device(&p(STRANGER), &canister(), NOW, args)
        .unwrap();
    let ticket = s.admission_ticket(&p(STRANGER), NOW).unwrap();
    assert!(ticket.admitted);
    assert_eq!(ticket.counter, before + 1);
}

/// Finding 16.1: `change_passphrase` stored m = 8 KiB, t = 1.
#[test]
fn parameters_below_the_floor_are_refused() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    let mut weak = secrets.setup.passphrase_record.to_vec();
    weak[2..6].copy_from_slice(&8u32.to_be_bytes());
    weak[6..10].copy_from_slice(&1u32.to_be_bytes());
    let refused = s.change_passphrase(
        &p(OWNER),
        NOW,
        ByteBuf::from(weak.clone()),
        secrets.setup.passphrase_verifier.clone(),
    );
    assert!(
        matches!(&refused, Err(VaultError::InvalidArgument { field, .. }) if field == "passphrase_record"),
        "{refused:?}"
    );
    let mut fresh = State::init_with_bucket_pages(VectorMemory::default(), 2);
    fresh.install(p(OWNER), None, T0).unwrap();
    let mut args = secrets.setup.clone();
    args.passphrase_record = ByteBuf::from(weak);
    assert!(matches!(
        fresh.setup(&p(OWNER), T0, args),
        Err(VaultError::InvalidArgument { .. })
    ));
    // A verifier that is no Ed25519 key (a version-1 SHA-256 verifier, say) is refused too.
    let mut args = secrets.setup.clone();
    args.passphrase_verifier = ByteBuf::from(vec![0; 32]);
    assert!(matches!(
        fresh.setup(&p(OWNER), T0, args),
        Err(VaultError::InvalidArgument { .. })
    ));
}

/// A vault set up before admission v2 (SHA-256 verifiers, no counter, as its stable memory
/// holds them): a new device is admitted with the v1 proof, its client replaces the verifiers,
/// and from then on the v1 proof admits nobody.
#[test]
fn an_old_vault_admits_with_v1_until_its_verifiers_are_replaced() {
    let (bytes, secrets) = scenario();
    let mut s = restore(&bytes);
    // The profile as an old canister wrote it.
    let mut old = s.profile.get().profile.clone().unwrap();
    let v1_passphrase = secrets.kek.unlock_proof();
    let v1_recovery = secrets.recovery.unlock_proof();
    old.passphrase_verifier = v1_passphrase.verifier().0.to_vec();
    old.recovery_verifier = v1_recovery.verifier().0.to_vec();
    old.passphrase_verifier_version = None;
    old.recovery_verifier_version = None;
    old.admission_counter = None;
    s.profile
        .set(super::stored::ProfileCell { profile: Some(old) });
    let ticket = s.admission_ticket(&p(0x30), NOW).unwrap();
    assert_eq!((ticket.passphrase_version, ticket.recovery_version), (1, 1));
    let v1 = |proof: &[u8; 32], method| AdmitDeviceArgs {
        method,
        proof: ByteBuf::from(proof.to_vec()),
        counter: Some(0),
    };
    let passphrase_v1 = v1(v1_passphrase.expose_secret(), UnlockMethod::Passphrase);
    let recovery_v1 = v1(v1_recovery.expose_secret(), UnlockMethod::Recovery);
    assert_eq!(
        s.admit_device(&p(0x30), &canister(), NOW, passphrase_v1.clone()),
        Ok(())
    );
    // The new device's client replaces both verifiers (the recovery one after a recovery).
    s.change_passphrase(
        &p(0x30),
        NOW,
        secrets.setup.passphrase_record.clone(),
        secrets.setup.passphrase_verifier.clone(),
    )
    .unwrap();
    let counter = Some(s.admission_ticket(&p(0x31), NOW).unwrap().counter);
    assert_eq!(
        s.admit_device(
            &p(0x31),
            &canister(),
            NOW,
            AdmitDeviceArgs {
                counter,
                ..recovery_v1.clone()
            }
        ),
        Ok(())
    );
    s.change_recovery(
        &p(0x31),
        NOW,
        secrets.setup.recovery_wrapped_key.clone(),
        secrets.setup.recovery_verifier.clone(),
    )
    .unwrap();
    let ticket = s.admission_ticket(&p(0x32), NOW).unwrap();
    assert_eq!((ticket.passphrase_version, ticket.recovery_version), (2, 2));
    // The old proofs, seen on the way, admit nobody now; the new ones do.
    let counter = Some(ticket.counter);
    for old in [passphrase_v1, recovery_v1] {
        let refused = s.admit_device(
            &p(0x32),
            &canister(),
            NOW,
            AdmitDeviceArgs { counter, ..old },
        );
        assert!(refused.is_err(), "{refused:?}");
    }
    assert!(!s.is_owner(&p(0x32)));
    let args = secrets.admit(&s, &p(0x32), UnlockMethod::Passphrase);
    assert_eq!(s.admit_device(&p(0x32), &canister(), NOW, args), Ok(()));
}

#[test]
fn trash_expires_and_uploads_expire() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let owner = p(OWNER);
    let later = T0 + super::TRASH_TTL_NS + SECOND;
    for _ in 0..4 {
        s.housekeeping(later);
    }
    let info = s.vault_info(&owner).unwrap();
    assert_eq!(info.trashed_files, 0, "old trash is purged");
    assert_eq!(info.uploads_in_progress, 0, "idle uploads expire");
    assert_eq!(info.reserved_bytes, 0);
    assert_eq!(s.reclaim_pending(), 0, "their chunks are freed");
}

#[test]
fn setup_validates_its_records() {
    let mut s = State::init_with_bucket_pages(VectorMemory::default(), 2);
    s.install(p(OWNER), None, T0).unwrap();
    let mut args = secrets().setup;
    args.passphrase_record = ByteBuf::from(args.passphrase_record[..UNLOCK_PARAMS_SIZE].to_vec());
    assert!(matches!(
        s.setup(&p(OWNER), T0, args),
        Err(VaultError::InvalidArgument { .. })
    ));
    assert_eq!(s.unlock_params(), Err(VaultError::NotSetUp));
    assert_eq!(
        s.install(p(OWNER), None, T0),
        Err(VaultError::AlreadyExists)
    );
}

// ---- Property test: usage never drifts, no chunk is orphaned. ----

#[derive(Clone, Debug)]
enum Op {
    Begin { file: u8, size: u64 },
    PutAll { file: u8 },
    Commit { file: u8 },
    Abort { file: u8 },
    Trash { file: u8 },
    Restore { file: u8 },
    Purge { file: u8 },
    Housekeep { hours: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let file = 0u8..6;
    prop_oneof![
        (file.clone(), 0u64..3_000_000).prop_map(|(file, size)| Op::Begin { file, size }),
        file.clone().prop_map(|file| Op::PutAll { file }),
        file.clone().prop_map(|file| Op::Commit { file }),
        file.clone().prop_map(|file| Op::Abort { file }),
        file.clone().prop_map(|file| Op::Trash { file }),
        file.clone().prop_map(|file| Op::Restore { file }),
        file.prop_map(|file| Op::Purge { file }),
        (0u64..30).prop_map(|hours| Op::Housekeep { hours }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn usage_never_drifts_and_no_chunk_is_orphaned(ops in proptest::collection::vec(op(), 1..40)) {
        let mut s = State::init_with_bucket_pages(VectorMemory::default(), 2);
        let owner = p(OWNER);
        let mut now = T0;
        s.install(owner, None, now).unwrap();
        for op in ops {
            match op {
                Op::Begin { file, size } => { let _ = s.begin_upload(&owner, now, upload_args(file, None, size, 0)); }
                Op::PutAll { file } => {
                    if let Ok(status) = s.upload_status(&owner, now, &id(file)) {
                        let size = s.uploads.get(&super::stored::Key([file; 16])).unwrap().file.size;
                        for index in status.missing {
                            s.put_chunk(&owner, now, PutChunkArgs { file_id: id(file), index, data: chunk(size, index, file) }.borrowed()).unwrap();
                        }
                    }
                }
                Op::Commit { file } => { let _ = s.commit_upload(&owner, now, &id(file)); }
                Op::Abort { file } => { let _ = s.abort_upload(&owner, now, &id(file)); }
                Op::Trash { file } => { let _ = s.trash(&owner, now, vec![id(file)]); }
                Op::Restore { file } => { let _ = s.restore(&owner, now, vec![id(file)]); }
                Op::Purge { file } => { let _ = s.purge(&owner, now, vec![id(file)]); }
                Op::Housekeep { hours } => { now += hours * 3600 * SECOND; s.housekeeping(now); }
            }
            // Usage equals the sum of what is stored and reserved.
            let info = s.vault_info(&owner).unwrap();
            let used: u64 = s.files.iter().map(|e| e.value().stored_bytes).sum();
            let reserved: u64 = s.uploads.iter().map(|e| e.value().file.stored_bytes).sum();
            prop_assert_eq!(info.used_bytes, used);
            prop_assert_eq!(info.reserved_bytes, reserved);
            prop_assert_eq!(info.files, s.files.len());
            // And everything else the fuzzer checks after each call (model/invariants.rs).
            prop_assert_eq!(s.check_invariants(), Ok(()));
            // Listings show every file, each as its record says.
            let listed = listed_and_got(&s);
            prop_assert_eq!(listed.len() as u64, info.files);
            for (listed, got) in listed {
                prop_assert_eq!(listed, got);
            }
        }
        // Once reclaiming catches up, every stored chunk belongs to a file or an upload.
        s.reclaim_chunks(u32::MAX);
        let live: u64 = s.files.iter().map(|e| e.value()).chain(s.uploads.iter().map(|e| e.value().file))
            .map(|f| f.chunk_count as u64 + (f.thumbnail_size > 0) as u64).sum();
        let pending_chunks: u64 = s.uploads.iter().map(|e| { let u = e.value(); (u.file.chunk_count - u.received) as u64 }).sum();
        prop_assert_eq!(s.chunks.meta().chunks, live - pending_chunks);
    }
}

/// A link holds every version of its album's key: those before its creation (given by the
/// owner) and the one it had before each rotation (kept by the canister).
#[test]
fn a_link_keeps_every_version_of_its_album_key() {
    let mut s = State::init(VectorMemory::default());
    let owner = p(OWNER);
    s.install(owner, None, T0).unwrap();
    s.setup(&owner, T0, secrets().setup).unwrap();
    s.create_album(
        &owner,
        T0,
        CreateAlbumArgs {
            album_id: id(ALBUM),
            name: blob(40, ALBUM),
            wrapped_key: blob(WRAPPED_KEY_SIZE, ALBUM),
        },
    )
    .unwrap();
    upload(&mut s, &owner, T0, upload_args(NO_ALBUM, None, 10, 0));
    let rotate = |s: &mut State<VectorMemory>, version: u32, links: Vec<u8>| {
        s.rotate_album_key(
            &owner,
            T0,
            RotateAlbumKeyArgs {
                album_id: id(ALBUM),
                revoke: vec![],
                new_version: version,
                wrapped_key: blob(WRAPPED_KEY_SIZE, 0x50 + version as u8),
                grants: vec![],
                links: links
                    .into_iter()
                    .map(|l| (token_hash(l), blob(WRAPPED_KEY_SIZE, 0x60 + version as u8)))
                    .collect(),
            },
        )
        .unwrap();
    };
    rotate(&mut s, 1, vec![]);
    let album = Target::Album(id(ALBUM));
    let with_earlier = |earlier: Vec<(u32, ByteBuf)>| CreateLinkArgs {
        earlier_keys: Some(earlier),
        ..link_args(LINK, album.clone(), 1, None, false)
    };
    let refused = [
        with_earlier(vec![(1, blob(WRAPPED_KEY_SIZE, 1))]),
        with_earlier(vec![(0, blob(WRAPPED_KEY_SIZE - 1, 1))]),
        with_earlier(vec![
            (0, blob(WRAPPED_KEY_SIZE, 1)),
            (0, blob(WRAPPED_KEY_SIZE, 1)),
        ]),
        CreateLinkArgs {
            earlier_keys: Some(vec![(0, blob(WRAPPED_KEY_SIZE, 1))]),
            ..link_args(LINK, Target::File(id(NO_ALBUM)), 0, None, false)
        },
    ];
    for args in refused {
        let before = s.list_links(&owner).unwrap();
        assert!(
            matches!(
                s.create_link(&owner, T0, args.clone()),
                Err(VaultError::InvalidArgument { .. })
            ),
            "{:?}",
            args.earlier_keys
        );
        assert_eq!(s.list_links(&owner).unwrap(), before, "nothing changed");
    }
    s.create_link(
        &owner,
        T0,
        with_earlier(vec![(0, blob(WRAPPED_KEY_SIZE, 0x70))]),
    )
    .unwrap();
    rotate(&mut s, 2, vec![LINK]);
    let open = s.open_link(T0, &access(LINK, None)).unwrap();
    assert_eq!(open.key_version, 2);
    assert_eq!(open.wrapped_key, blob(WRAPPED_KEY_SIZE, 0x62));
    assert_eq!(
        open.earlier_keys,
        vec![
            (0, blob(WRAPPED_KEY_SIZE, 0x70)),
            (1, blob(WRAPPED_KEY_SIZE, LINK))
        ]
    );
}

/// Issue 16 finding 5: revoking a person from an album while another grant on it has expired
/// succeeds without a key for the expired grantee; the expired grant is dropped.
#[test]
fn revoking_a_person_while_another_grant_has_expired_drops_the_expired_one() {
    let (bytes, _) = scenario();
    let owner = p(OWNER);
    let album = Some(Target::Album(id(ALBUM)));
    let rotate = |grants: Vec<(Principal, ByteBuf)>| RotateAlbumKeyArgs {
        album_id: id(ALBUM),
        revoke: vec![p(VIEWER)],
        new_version: 2,
        wrapped_key: blob(WRAPPED_KEY_SIZE, 2),
        grants,
        links: vec![
            (token_hash(LINK), blob(WRAPPED_KEY_SIZE, 2)),
            (token_hash(LINK_PASSWORD), blob(WRAPPED_KEY_SIZE, 2)),
        ],
    };
    // Without a key for the expired grantee (as the client sends it), and with one (a client
    // whose clock is behind): both succeed, and neither leaves the expired grant.
    for grants in [
        vec![(p(CONTRIBUTOR), blob(SEALED_KEY_SIZE, 2))],
        vec![
            (p(CONTRIBUTOR), blob(SEALED_KEY_SIZE, 2)),
            (p(EXPIRED), blob(SEALED_KEY_SIZE, 2)),
        ],
    ] {
        let mut s = restore(&bytes);
        assert_eq!(s.rotate_album_key(&owner, NOW, rotate(grants)), Ok(2));
        let left: Vec<u8> = s
            .list_grants(&owner, album.clone())
            .unwrap()
            .iter()
            .map(|g| who(&g.grantee))
            .collect();
        assert_eq!(
            left,
            vec![CONTRIBUTOR],
            "the revoked and the expired are gone"
        );
        for gone in [VIEWER, EXPIRED] {
            assert!(s.shared_with_me(&p(gone), NOW).unwrap().is_empty());
            assert!(
                s.grant_keys
                    .iter()
                    .all(|e| e.key().0[17..47] != super::stored::principal_slot(&p(gone))),
                "no sealed key of {gone} is left"
            );
        }
        let versions: Vec<u32> = s.shared_with_me(&p(CONTRIBUTOR), NOW).unwrap()[0]
            .grant
            .sealed_keys
            .iter()
            .map(|k| k.version)
            .collect();
        assert_eq!(versions, vec![0, 1, 2]);
    }
    // Still refused: a live grantee left out, someone with no grant, a grantee twice.
    for grants in [
        vec![],
        vec![
            (p(CONTRIBUTOR), blob(SEALED_KEY_SIZE, 2)),
            (p(STRANGER), blob(SEALED_KEY_SIZE, 2)),
        ],
        vec![
            (p(CONTRIBUTOR), blob(SEALED_KEY_SIZE, 2)),
            (p(CONTRIBUTOR), blob(SEALED_KEY_SIZE, 2)),
        ],
    ] {
        let mut s = restore(&bytes);
        match s.rotate_album_key(&owner, NOW, rotate(grants.clone())) {
            Err(VaultError::InvalidArgument { field, .. }) => assert_eq!(field, "grants"),
            other => panic!("{grants:?}: {other:?}"),
        }
        assert_eq!(s.list_grants(&owner, album.clone()).unwrap().len(), 3);
    }
}

/// Issue 16 finding 10c: an expired grant on a file does not hide a valid grant on its album.
#[test]
fn an_expired_file_grant_does_not_hide_a_valid_album_grant() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let file_grant = |who: u8| GrantArgs {
        target: Target::File(id(IN_ALBUM)),
        grantee: p(who),
        grantee_key: public_key(who),
        permission: Permission::View,
        sealed_keys: vec![sealed(0)],
        expires_at: Some(NOW + SECOND),
        authenticator: None,
    };
    s.grant(&p(OWNER), NOW, file_grant(VIEWER)).unwrap();
    s.grant(&p(OWNER), NOW, file_grant(STRANGER)).unwrap();
    let later = NOW + 2 * SECOND;
    let read = |who: u8| {
        s.get_file(
            &p(who),
            later,
            FileRef {
                file_id: id(IN_ALBUM),
                link: None,
            },
        )
        .map(|f| f.id)
    };
    assert_eq!(
        read(VIEWER),
        Ok(id(IN_ALBUM)),
        "the album grant still covers it"
    );
    assert_eq!(
        read(STRANGER),
        Err(VaultError::Expired),
        "only an expired grant"
    );
}

fn authenticate_viewer(key: u8, permission: Permission, fill: u8) -> AuthenticateGrantArgs {
    AuthenticateGrantArgs {
        target: Target::Album(id(ALBUM)),
        grantee: p(VIEWER),
        grantee_key: public_key(key),
        permission,
        expires_at: None,
        authenticator: blob(GRANT_AUTHENTICATOR_SIZE, fill),
    }
}

/// The owner's grant authenticator (docs/FORMAT.md §8.4) is kept with the grant and returned;
/// a re-grant replaces it; one is attached to an older grant only for its stored terms.
#[test]
fn grants_keep_the_owner_authenticator_and_attach_it_only_for_the_stored_terms() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let owner = p(OWNER);
    let viewer = |s: &State<VectorMemory>| {
        s.list_grants(&owner, Some(Target::Album(id(ALBUM))))
            .unwrap()
            .into_iter()
            .find(|g| g.grantee == p(VIEWER))
            .unwrap()
    };
    assert_eq!(viewer(&s).authenticator, None, "granted without one");
    // Attached only when the stored terms are the ones given.
    let before = sharing_state(&s);
    for wrong in [
        authenticate_viewer(0x99, Permission::View, 0x61),
        authenticate_viewer(VIEWER, Permission::Contribute, 0x61),
        AuthenticateGrantArgs {
            expires_at: Some(NOW + SECOND),
            ..authenticate_viewer(VIEWER, Permission::View, 0x61)
        },
    ] {
        assert!(matches!(
            s.authenticate_grant(&owner, wrong),
            Err(VaultError::Conflict { .. })
        ));
    }
    for (len, version) in [(32, 1), (34, 1), (GRANT_AUTHENTICATOR_SIZE, 2)] {
        let mut a = blob(len, 0x61);
        a[0] = version;
        let args = AuthenticateGrantArgs {
            authenticator: a,
            ..authenticate_viewer(VIEWER, Permission::View, 0x61)
        };
        match s.authenticate_grant(&owner, args) {
            Err(VaultError::InvalidArgument { field, .. }) => assert_eq!(field, "authenticator"),
            other => panic!("{len} bytes, version {version}: {other:?}"),
        }
    }
    assert_eq!(
        s.authenticate_grant(
            &p(VIEWER),
            authenticate_viewer(VIEWER, Permission::View, 0x61)
        ),
        Err(VaultError::NotAuthorized)
    );
    assert_eq!(
        s.authenticate_grant(
            &owner,
            AuthenticateGrantArgs {
                grantee: p(STRANGER),
                ..authenticate_viewer(STRANGER, Permission::View, 0x61)
            }
        ),
        Err(VaultError::NotFound)
    );
    assert_eq!(sharing_state(&s), before, "refusals change nothing");
    let done = s
        .authenticate_grant(&owner, authenticate_viewer(VIEWER, Permission::View, 0x61))
        .unwrap();
    assert_eq!(
        done.authenticator,
        Some(blob(GRANT_AUTHENTICATOR_SIZE, 0x61))
    );
    assert_eq!(viewer(&s), done);
    // A re-grant stores the authenticator it carries, or none.
    let regrant = GrantArgs {
        authenticator: Some(blob(GRANT_AUTHENTICATOR_SIZE, 0x62)),
        ..regrant_viewer(public_key(VIEWER))
    };
    s.grant(&owner, NOW, regrant).unwrap();
    assert_eq!(
        viewer(&s).authenticator,
        Some(blob(GRANT_AUTHENTICATOR_SIZE, 0x62))
    );
    s.grant(&owner, NOW, regrant_viewer(public_key(VIEWER)))
        .unwrap();
    assert_eq!(viewer(&s).authenticator, None);
    let bad = GrantArgs {
        authenticator: Some(blob(GRANT_AUTHENTICATOR_SIZE - 1, 0x62)),
        ..regrant_viewer(public_key(VIEWER))
    };
    assert!(matches!(
        s.grant(&owner, NOW, bad),
        Err(VaultError::InvalidArgument { .. })
    ));
}

/// A passkey's registration: credential id `n`, a well-wrapped COSE key of its own, and the
/// master key wrapped under its PRF output when `unlocks`.
fn passkey_args(n: u8, unlocks: bool) -> AddPasskeyArgs {
    AddPasskeyArgs {
        credential_id: ByteBuf::from(vec![n; 16]),
        public_key: ByteBuf::from(vault_interface::passkey::der_wrap(&[n; 77]).unwrap()),
        unlock: unlocks.then(|| blob(WRAPPED_KEY_SIZE, 0x60 + n)),
    }
}

#[test]
fn a_passkey_becomes_a_device_that_finds_its_key_and_its_unlock() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let (owner, dev) = (p(OWNER), p(DEVICE));
    let args = passkey_args(1, true);
    let passkey = Principal::self_authenticating(&args.public_key);
    assert!(!s.is_owner(&passkey));
    // Refusals, each changing nothing.
    let mut empty_id = passkey_args(1, true);
    empty_id.credential_id = ByteBuf::new();
    let mut long_id = passkey_args(1, true);
    long_id.credential_id = ByteBuf::from(vec![1; 1024]);
    let mut ed25519 = passkey_args(1, true);
    ed25519.public_key = ByteBuf::from(ed25519_der());
    let mut short_unlock = passkey_args(1, true);
    short_unlock.unlock = Some(blob(WRAPPED_KEY_SIZE - 1, 1));
    for bad in [empty_id, long_id, ed25519, short_unlock] {
        assert!(
            matches!(
                s.add_passkey(&dev, NOW, bad.clone()),
                Err(VaultError::InvalidArgument { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(s.devices(&owner).unwrap().len(), 1, "refusals add nothing");

    s.add_passkey(&dev, NOW, args.clone()).unwrap();
    assert!(s.is_owner(&passkey), "the passkey acts as the owner");
    assert_eq!(
        s.passkey_key(&args.credential_id),
        Some(args.public_key.clone())
    );
    assert_eq!(s.passkey_key(b"another credential"), None);
    let listed = s.devices(&owner).unwrap();
    let entry = listed.iter().find(|d| d.principal == passkey).unwrap();
    assert_eq!(
        entry.passkey,
        Some(PasskeyDevice {
            credential_id: args.credential_id.clone(),
            unlocks: true
        })
    );
    assert!(
        listed
            .iter()
            .filter(|d| d.principal != passkey)
            .all(|d| d.passkey.is_none())
    );
    // Only the passkey is given its wrapping.
    assert_eq!(s.profile(&passkey).unwrap().passkey_unlock, args.unlock);
    assert_eq!(s.profile(&dev).unwrap().passkey_unlock, None);
    // The same passkey again, by key or by credential id: refused.
    let mut same_id = passkey_args(2, false);
    same_id.credential_id = args.credential_id.clone();
    for again in [args.clone(), same_id] {
        assert!(matches!(
            s.add_passkey(&owner, NOW, again),
            Err(VaultError::Conflict { .. })
        ));
    }
    let activity = s.activity(&owner, None, None).unwrap().entries;
    assert!(activity.iter().any(|e| e.activity
        == Activity::PasskeyAdded {
            device: passkey,
            unlocks: true
        }));

    // A second passkey that does not unlock; then removing the first forgets it whole.
    let other = passkey_args(2, false);
    let other_principal = Principal::self_authenticating(&other.public_key);
    s.add_passkey(&passkey, NOW, other.clone()).unwrap();
    assert_eq!(s.profile(&other_principal).unwrap().passkey_unlock, None);
    s.remove_device(&owner, NOW, passkey).unwrap();
    assert!(!s.is_owner(&passkey));
    assert_eq!(s.passkey_key(&args.credential_id), None);
    assert_eq!(s.profile(&passkey), Err(VaultError::NotAuthorized));
    // It can be added again after removal.
    s.add_passkey(&owner, NOW, args.clone()).unwrap();
    assert!(s.is_owner(&passkey));
}

/// An Ed25519 SubjectPublicKeyInfo: a key, but no passkey's.
fn ed25519_der() -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend([7; 32]);
    der
}

#[test]
fn the_device_limit_counts_passkeys() {
    let (bytes, _) = scenario();
    let mut s = restore(&bytes);
    let mut n = 1;
    while (s.devices(&p(OWNER)).unwrap().len() as u64) < vault_interface::limits::MAX_DEVICES {
        s.add_passkey(&p(OWNER), NOW, passkey_args(n, false))
            .unwrap();
        n += 1;
    }
    assert!(matches!(
        s.add_passkey(&p(OWNER), NOW, passkey_args(n, false)),
        Err(VaultError::Conflict { .. })
    ));
}
