//! The link holder's HTTP API over the model: every answer and every refusal.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ic_stable_structures::VectorMemory;
use serde_cbor::Value;
use vault_crypto::{PasswordProof, WRAPPED_KEY_SIZE};

use super::*;
use crate::model::fixtures::*;

const OWNER: u8 = 1;
const ALBUM: u8 = 0xa1;
const OTHER_ALBUM: u8 = 0xa2;
const PHOTO: u8 = 0xf1;
const BIG: u8 = 0xf2;
const ELSEWHERE: u8 = 0xf3;
const LINK: u8 = 0x11;
const FILE_LINK: u8 = 0x12;
const PASSWORD_LINK: u8 = 0x13;
const REVOKED_LINK: u8 = 0x14;
const EXPIRING_LINK: u8 = 0x15;
const PROOF: [u8; 32] = [0x77; 32];

fn vault() -> State<VectorMemory> {
    let mut s = State::init(VectorMemory::default());
    let owner = p(OWNER);
    s.install(owner, None, T0).unwrap();
    s.setup(&owner, T0, secrets().setup).unwrap();
    for album in [ALBUM, OTHER_ALBUM] {
        s.create_album(
            &owner,
            T0,
            CreateAlbumArgs {
                album_id: id(album),
                name: blob(40, album),
                wrapped_key: blob(WRAPPED_KEY_SIZE, album),
            },
        )
        .unwrap();
    }
    upload(&mut s, &owner, T0, upload_args(PHOTO, Some(ALBUM), 10, 0));
    let big = 2 * vault_crypto::CHUNK_SIZE as u64 + 5;
    upload(&mut s, &owner, T0, upload_args(BIG, Some(ALBUM), big, 0));
    upload(
        &mut s,
        &owner,
        T0,
        upload_args(ELSEWHERE, Some(OTHER_ALBUM), 10, 0),
    );
    let link = |n: u8, target: Target, expires_at, password: bool| CreateLinkArgs {
        token_hash: token_hash(n),
        target,
        key_version: 0,
        wrapped_key: blob(WRAPPED_KEY_SIZE, n),
        expires_at,
        password: password.then(|| LinkPasswordArgs {
            iterations: vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS,
            verifier: ByteBuf::from(PasswordProof::from_bytes(PROOF).verifier().0.to_vec()),
        }),
        label: None,
        earlier_keys: None,
    };
    let album = Target::Album(id(ALBUM));
    for args in [
        link(LINK, album.clone(), None, false),
        link(FILE_LINK, Target::File(id(PHOTO)), None, false),
        link(PASSWORD_LINK, album.clone(), None, true),
        link(REVOKED_LINK, album.clone(), None, false),
        link(EXPIRING_LINK, album, Some(T0 + SECOND), false),
    ] {
        s.create_link(&owner, T0, args).unwrap();
    }
    s.revoke_link(&owner, T0, token_hash(REVOKED_LINK)).unwrap();
    s
}

fn headers(link: u8, proof: Option<[u8; 32]>) -> Vec<(String, String)> {
    let mut h = vec![(
        "X-Vault-Token".to_string(),
        URL_SAFE_NO_PAD.encode(token(link)),
    )];
    if let Some(proof) = proof {
        h.push(("x-vault-proof".to_string(), URL_SAFE_NO_PAD.encode(proof)));
    }
    h
}

fn get(s: &State<VectorMemory>, link: u8, path: &str, query_string: Option<&str>) -> Answer {
    query(s, T0, "GET", path, query_string, &headers(link, None))
}

/// The status and the decoded CBOR body of an answer.
fn decoded(answer: Answer) -> (u16, Value) {
    match answer {
        Answer::Reply {
            status,
            content_type,
            body,
            ..
        } => {
            assert_eq!(content_type, "application/cbor");
            (status, serde_cbor::from_slice(&body).expect("CBOR"))
        }
        other => panic!("{other:?}, not a reply"),
    }
}

fn field<'v>(v: &'v Value, name: &str) -> &'v Value {
    let Value::Map(map) = v else {
        panic!("not a map: {v:?}")
    };
    map.get(&Value::Text(name.into()))
        .unwrap_or_else(|| panic!("no `{name}` in {v:?}"))
}

fn bytes(v: &Value) -> &[u8] {
    match v {
        Value::Bytes(b) => b,
        other => panic!("not bytes: {other:?}"),
    }
}

/// The error name of a refusal with its status.
fn refused(answer: Answer) -> (u16, String) {
    let (status, body) = decoded(answer);
    let Value::Text(name) = field(&body, "error") else {
        panic!("no error name")
    };
    assert!(matches!(field(&body, "message"), Value::Text(m) if !m.is_empty()));
    (status, name.clone())
}

fn hex_id(n: u8) -> String {
    hex::encode([n; 16])
}

#[test]
fn an_album_link_opens_with_its_key_and_name() {
    let s = vault();
    let (status, body) = decoded(get(&s, LINK, "/s/api/link", None));
    assert_eq!(status, 200);
    assert_eq!(field(&body, "target"), &Value::Text("album".into()));
    assert_eq!(bytes(field(&body, "id")), &[ALBUM; 16]);
    assert_eq!(bytes(field(&body, "album_name")), &blob(40, ALBUM)[..]);
    assert_eq!(field(&body, "expires_at"), &Value::Null);
    let Value::Array(keys) = field(&body, "keys") else {
        panic!("keys")
    };
    assert_eq!(
        keys,
        &vec![Value::Array(vec![
            Value::Integer(0),
            Value::Bytes(blob(WRAPPED_KEY_SIZE, LINK).into_vec())
        ])]
    );
}

#[test]
fn a_rotation_keeps_every_version_for_the_link() {
    let mut s = vault();
    s.rotate_album_key(
        &p(OWNER),
        T0,
        RotateAlbumKeyArgs {
            album_id: id(ALBUM),
            revoke: vec![],
            new_version: 1,
            wrapped_key: blob(WRAPPED_KEY_SIZE, 0x51),
            grants: vec![],
            links: [LINK, PASSWORD_LINK, EXPIRING_LINK]
                .iter()
                .map(|&l| (token_hash(l), blob(WRAPPED_KEY_SIZE, 0x60 + l)))
                .collect(),
        },
    )
    .unwrap();
    let (_, body) = decoded(get(&s, LINK, "/s/api/link", None));
    let Value::Array(keys) = field(&body, "keys") else {
        panic!("keys")
    };
    let versions: Vec<(i128, Vec<u8>)> = keys
        .iter()
        .map(|k| match k {
            Value::Array(pair) => match (&pair[0], &pair[1]) {
                (Value::Integer(v), Value::Bytes(b)) => (*v, b.clone()),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        versions,
        vec![
            (0, blob(WRAPPED_KEY_SIZE, LINK).into_vec()),
            (1, blob(WRAPPED_KEY_SIZE, 0x60 + LINK).into_vec())
        ],
        "the version the link had is kept, oldest first, and the new one is current"
    );
}

#[test]
fn a_file_link_lists_its_one_file() {
    let s = vault();
    let (_, link) = decoded(get(&s, FILE_LINK, "/s/api/link", None));
    assert_eq!(field(&link, "target"), &Value::Text("file".into()));
    assert_eq!(field(&link, "album_name"), &Value::Null);
    let (status, page) = decoded(get(&s, FILE_LINK, "/s/api/files", None));
    assert_eq!(status, 200);
    let Value::Array(files) = field(&page, "files") else {
        panic!("files")
    };
    assert_eq!(files.len(), 1);
    assert_eq!(bytes(field(&files[0], "id")), &[PHOTO; 16]);
    assert_eq!(field(&page, "next"), &Value::Null);
    // Its album's other file is not reachable through it.
    let path = format!("/s/api/chunk/{}/0", hex_id(BIG));
    assert_eq!(refused(get(&s, FILE_LINK, &path, None)).0, 403);
}

#[test]
fn an_album_pages_through_its_files_newest_first() {
    let mut s = vault();
    // Enough small files for two pages.
    for n in 0..MAX_PAGE as u16 {
        let mut args = upload_args(0, Some(ALBUM), 1, 0);
        let file = [
            0x40,
            (n >> 8) as u8,
            n as u8,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        args.file_id = ByteBuf::from(file.to_vec());
        args.dedupe_hash = None;
        args.sort_key = i64::from(n);
        upload(&mut s, &p(OWNER), T0, args);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let query_string = after.as_ref().map(|a| format!("after={a}"));
        let (status, page) = decoded(get(&s, LINK, "/s/api/files", query_string.as_deref()));
        assert_eq!(status, 200);
        pages += 1;
        let Value::Array(files) = field(&page, "files") else {
            panic!("files")
        };
        for f in files {
            let Value::Integer(sort_key) = field(f, "sort_key") else {
                panic!("sort key")
            };
            seen.push(*sort_key);
            assert_eq!(bytes(field(f, "header")).len(), 17);
            assert_eq!(bytes(field(f, "wrapped_key")).len(), WRAPPED_KEY_SIZE);
            assert!(!bytes(field(f, "metadata")).is_empty());
        }
        match field(&page, "next") {
            Value::Text(next) => after = Some(next.clone()),
            Value::Null => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), MAX_PAGE as usize + 2, "every file once");
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let bad = get(&s, LINK, "/s/api/files", Some("after=nonsense"));
    assert_eq!(refused(bad), (400, "BadRequest".into()));
}

#[test]
fn thumbnails_and_chunks_are_the_stored_ciphertext() {
    let s = vault();
    let Answer::Reply {
        status,
        content_type,
        cache,
        body,
    } = get(&s, LINK, &format!("/s/api/thumb/{}", hex_id(PHOTO)), None)
    else {
        panic!("a reply")
    };
    assert_eq!((status, content_type), (200, "application/octet-stream"));
    assert_eq!(cache, PRIVATE_IMMUTABLE);
    assert_eq!(
        body,
        upload_args(PHOTO, None, 10, 0)
            .thumbnail
            .unwrap()
            .into_vec()
    );
    let size = 2 * vault_crypto::CHUNK_SIZE as u64 + 5;
    for index in 0..3 {
        let path = format!("/s/api/chunk/{}/{index}", hex_id(BIG));
        let Answer::Reply { status, body, .. } = get(&s, LINK, &path, None) else {
            panic!("a reply")
        };
        assert_eq!(status, 200);
        assert_eq!(body, chunk(size, index, index as u8).into_vec());
    }
    let past = format!("/s/api/chunk/{}/3", hex_id(BIG));
    assert_eq!(refused(get(&s, LINK, &past, None)).0, 400);
    let elsewhere = format!("/s/api/thumb/{}", hex_id(ELSEWHERE));
    assert_eq!(refused(get(&s, LINK, &elsewhere, None)).0, 403);
}

#[test]
fn lapsed_and_unknown_links_are_refused_on_every_endpoint() {
    let mut s = vault();
    s.trash(&p(OWNER), T0, vec![id(PHOTO)]).unwrap();
    let paths = [
        "/s/api/link".to_string(),
        "/s/api/files".to_string(),
        format!("/s/api/thumb/{}", hex_id(BIG)),
        format!("/s/api/chunk/{}/0", hex_id(BIG)),
    ];
    let later = T0 + 2 * SECOND;
    for path in &paths {
        let at =
            |link: u8, now: u64| refused(query(&s, now, "GET", path, None, &headers(link, None)));
        assert_eq!(at(REVOKED_LINK, T0), (410, "Revoked".into()), "{path}");
        assert_eq!(at(EXPIRING_LINK, later), (410, "Expired".into()), "{path}");
        assert_eq!(at(0x99, T0), (404, "NotFound".into()), "{path}");
        let (status, body) = decoded(query(
            &s,
            T0,
            "GET",
            path,
            None,
            &headers(PASSWORD_LINK, None),
        ));
        assert_eq!(status, 401, "{path}");
        assert_eq!(
            field(&body, "error"),
            &Value::Text("PasswordRequired".into())
        );
        assert_eq!(
            field(&body, "iterations"),
            &Value::Integer(vault_crypto::DEFAULT_LINK_PBKDF2_ITERATIONS.into())
        );
        let wrong = query(
            &s,
            T0,
            "GET",
            path,
            None,
            &headers(PASSWORD_LINK, Some([1; 32])),
        );
        assert_eq!(refused(wrong), (403, "WrongPassword".into()), "{path}");
        let right = query(
            &s,
            T0,
            "GET",
            path,
            None,
            &headers(PASSWORD_LINK, Some(PROOF)),
        );
        assert!(matches!(right, Answer::Reply { status: 200, .. }), "{path}");
        let missing = query(&s, T0, "GET", path, None, &[]);
        assert_eq!(refused(missing), (400, "BadRequest".into()), "{path}");
        let short = vec![("x-vault-token".to_string(), "AAAA".to_string())];
        assert_eq!(refused(query(&s, T0, "GET", path, None, &short)).0, 400);
    }
    // A trashed file is hidden from its links.
    let trashed = format!("/s/api/thumb/{}", hex_id(PHOTO));
    assert_eq!(refused(get(&s, LINK, &trashed, None)).0, 403);
}

#[test]
fn bad_paths_and_methods_are_refused() {
    let s = vault();
    let cases = [
        ("GET", "/s/api/nothing".to_string(), 404),
        ("DELETE", "/s/api/link".to_string(), 405),
        ("GET", "/s/api/opened".to_string(), 405),
        ("GET", "/s/api/thumb/xyz".to_string(), 400),
        ("GET", format!("/s/api/chunk/{}/-1", hex_id(BIG)), 400),
        ("GET", format!("/s/api/chunk/{}", hex_id(BIG)), 404),
    ];
    for (method, path, status) in cases {
        let answer = query(&s, T0, method, &path, None, &headers(LINK, None));
        assert_eq!(refused(answer).0, status, "{method} {path}");
    }
}

#[test]
fn an_opening_is_counted_by_an_update() {
    let mut s = vault();
    let opened = query(&s, T0, "POST", "/s/api/opened", None, &headers(LINK, None));
    assert_eq!(
        opened,
        Answer::Upgrade,
        "a query cannot count: it asks for an update"
    );
    for n in 1..=2u64 {
        let (status, body) = decoded(update(
            &mut s,
            T0,
            "POST",
            "/s/api/opened",
            &headers(LINK, None),
        ));
        assert_eq!(status, 200);
        assert_eq!(field(&body, "opened"), &Value::Integer(n.into()));
    }
    let revoked = update(
        &mut s,
        T0,
        "POST",
        "/s/api/opened",
        &headers(REVOKED_LINK, None),
    );
    assert_eq!(refused(revoked), (410, "Revoked".into()));
    let other = update(&mut s, T0, "GET", "/s/api/link", &headers(LINK, None));
    assert_eq!(refused(other).0, 400, "only the opening changes state");
    let links = s.list_links(&p(OWNER)).unwrap();
    let counted = links
        .iter()
        .find(|l| l.token_hash == token_hash(LINK))
        .unwrap();
    assert_eq!(counted.opened, 2);
}

/// An opening is counted by an update, which the vault pays for: the query sends on only what
/// the update would count, so a stranger's (or a lapsed link's) request costs a query.
#[test]
fn only_a_link_that_opens_is_sent_on_to_an_update() {
    let s = vault();
    let post = |link: u8, proof: Option<[u8; 32]>, now: u64| {
        query(
            &s,
            now,
            "POST",
            "/s/api/opened",
            None,
            &headers(link, proof),
        )
    };
    assert_eq!(refused(post(0x99, None, T0)), (404, "NotFound".into()));
    assert_eq!(
        refused(post(REVOKED_LINK, None, T0)),
        (410, "Revoked".into())
    );
    assert_eq!(
        refused(post(EXPIRING_LINK, None, T0 + 2 * SECOND)),
        (410, "Expired".into())
    );
    assert_eq!(refused(post(PASSWORD_LINK, None, T0)).0, 401);
    assert_eq!(
        refused(post(PASSWORD_LINK, Some([1; 32]), T0)),
        (403, "WrongPassword".into())
    );
    assert_eq!(post(PASSWORD_LINK, Some(PROOF), T0), Answer::Upgrade);
    assert_eq!(post(FILE_LINK, None, T0), Answer::Upgrade);
    assert_eq!(post(EXPIRING_LINK, None, T0), Answer::Upgrade);
    let no_token = query(&s, T0, "POST", "/s/api/opened", None, &[]);
    assert_eq!(refused(no_token).0, 400);
}

/// The viewer reads the API from the canister's raw domain, another origin: a preflight for
/// each endpoint, and every answer readable cross-origin.
#[test]
fn the_api_answers_other_origins() {
    let s = vault();
    for path in [
        "/s/api/link".to_string(),
        "/s/api/files".to_string(),
        "/s/api/opened".to_string(),
        format!("/s/api/thumb/{}", hex_id(PHOTO)),
        format!("/s/api/chunk/{}/0", hex_id(BIG)),
    ] {
        let answer = query(&s, T0, "OPTIONS", &path, None, &[]);
        assert_eq!(answer, Answer::Preflight, "{path}");
        let preflight = response(answer);
        assert_eq!(preflight.status_code().as_u16(), 204);
        let header = |name: &str| {
            preflight
                .headers()
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(
            header("access-control-allow-headers").as_deref(),
            Some("x-vault-token, x-vault-proof")
        );
        assert!(
            header("access-control-allow-methods")
                .unwrap()
                .contains("POST")
        );
    }
    let nothing = query(&s, T0, "OPTIONS", "/s/api/nothing", None, &[]);
    assert_eq!(refused(nothing).0, 404);
    let refusal = response(get(&s, 0x99, "/s/api/link", None));
    let answer = response(get(&s, LINK, "/s/api/link", None));
    for response in [refusal, answer] {
        assert!(
            response
                .headers()
                .iter()
                .any(|(k, v)| k == "access-control-allow-origin" && v == "*")
        );
        // Not certified, and says nothing that would make a gateway serve it as if it were.
        assert!(
            response
                .headers()
                .iter()
                .all(|(k, _)| !k.to_ascii_lowercase().starts_with("ic-certificate"))
        );
    }
}

#[test]
fn answers_carry_their_cache_policy() {
    let s = vault();
    let response = response(get(&s, LINK, "/s/api/link", None));
    let header = |name: &str| {
        response
            .headers()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("cache-control").as_deref(), Some(NO_STORE));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(header("vary").unwrap().contains(TOKEN_HEADER));
    let upgrade = super::response(Answer::Upgrade);
    assert_eq!(upgrade.upgrade(), Some(true));
}
