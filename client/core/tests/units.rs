//! The client's pieces that need no replica: networks, link URLs, sessions, identities, settings.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use candid::Principal;
use vault_client::keyring::MasterKeys;
use vault_client::links::{link_url, parse_link_url};
use vault_client::{Home, Identity, Network, Settings, unlocked};
use vault_crypto::{LinkSecret, MasterKey};

#[test]
fn networks_parse_and_name_themselves() {
    assert_eq!(
        Network::parse("local").unwrap(),
        Network::Local { port: 4943 }
    );
    assert_eq!(
        Network::parse("local:8080").unwrap(),
        Network::Local { port: 8080 }
    );
    assert_eq!(Network::parse("ic").unwrap(), Network::Ic);
    assert_eq!(
        Network::parse("http://127.0.0.1:4943/").unwrap(),
        Network::Url("http://127.0.0.1:4943".into())
    );
    assert!(Network::parse("local:x").is_err());
    assert!(Network::parse("ftp://x").is_err());
    assert_eq!(Network::Local { port: 4943 }.name(), "local");
    assert_eq!(Network::Local { port: 5000 }.name(), "local:5000");
    assert_eq!(Network::Ic.url(), "https://icp-api.io");
}

#[test]
fn link_urls_round_trip_on_every_network() {
    let id = Principal::from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai").unwrap();
    let secret = LinkSecret::generate(&mut rand::rng());
    for (network, prefix) in [
        (
            Network::Local { port: 4943 },
            "http://rwlgt-iiaaa-aaaaa-aaaaa-cai.localhost:4943/s#",
        ),
        (
            Network::Ic,
            "https://rwlgt-iiaaa-aaaaa-aaaaa-cai.icp0.io/s#",
        ),
        (
            Network::Url("http://127.0.0.1:8000".into()),
            "http://rwlgt-iiaaa-aaaaa-aaaaa-cai.localhost:8000/s#",
        ),
        (
            Network::Url("https://replica.example".into()),
            "https://replica.example/s?canisterId=rwlgt-iiaaa-aaaaa-aaaaa-cai#",
        ),
    ] {
        let url = link_url(&network, &id, &secret);
        assert!(url.starts_with(prefix), "{url}");
        let (_, parsed_id, parsed_secret) = parse_link_url(&url).unwrap();
        assert_eq!(parsed_id, id);
        assert_eq!(parsed_secret.expose_secret(), secret.expose_secret());
    }
    let url = link_url(&Network::Ic, &id, &secret);
    assert!(
        parse_link_url(url.split('#').next().unwrap()).is_err(),
        "no fragment"
    );
    assert!(
        parse_link_url(&url[..url.len() - 1]).is_err(),
        "truncated fragment"
    );
    assert!(parse_link_url("https://example.com/s#AAAA").is_err());
}

#[test]
fn sessions_expire_and_lock_forgets_them() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let canister = Principal::from_text("rwlgt-iiaaa-aaaaa-aaaaa-cai").unwrap();
    let me = Principal::from_slice(&[7; 29]);
    let other = Principal::from_slice(&[8; 29]);
    let key = MasterKeys::first(MasterKey::generate(&mut rand::rng()));
    assert!(unlocked::load(&home, &canister, &me).is_none());
    unlocked::save(&home, &canister, &me, &key, Duration::from_secs(60)).unwrap();
    assert_eq!(
        unlocked::load(&home, &canister, &me)
            .unwrap()
            .current()
            .expose_secret(),
        key.current().expose_secret()
    );
    // After rotations of the master key, the session keeps every generation, in order.
    let rotated = key
        .rotated(MasterKey::generate(&mut rand::rng()))
        .rotated(MasterKey::generate(&mut rand::rng()));
    unlocked::save(&home, &canister, &me, &rotated, Duration::from_secs(60)).unwrap();
    let loaded = unlocked::load(&home, &canister, &me).unwrap();
    assert_eq!(loaded.generation().0, 2);
    let secrets = |k: &MasterKeys| k.all().map(|m| *m.expose_secret()).collect::<Vec<_>>();
    assert_eq!(secrets(&loaded), secrets(&rotated));
    assert_eq!(
        loaded.first_generation().expose_secret(),
        key.current().expose_secret()
    );
    assert!(
        unlocked::load(&home, &canister, &other).is_none(),
        "another identity's session is its own"
    );
    let file = std::fs::read_dir(&home.runtime)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(unlocked::forget(&home, &canister, &me));
    assert!(unlocked::load(&home, &canister, &me).is_none());
    assert!(!unlocked::forget(&home, &canister, &me));
    unlocked::save(&home, &canister, &me, &key, Duration::ZERO).unwrap();
    assert!(
        unlocked::load(&home, &canister, &me).is_none(),
        "an expired session is not used"
    );
    assert!(!file.exists(), "and is removed");
    std::fs::write(&file, b"garbage").unwrap();
    assert!(unlocked::load(&home, &canister, &me).is_none());
}

#[test]
fn identities_are_created_private_and_import_as_dfx_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let path = home.identity_file();
    let (first, created) = Identity::load_or_create(&home).unwrap();
    assert!(created);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (again, created) = Identity::load_or_create(&home).unwrap();
    assert!(!created);
    assert_eq!(first.principal(), again.principal());
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    // A PEM file elsewhere (as dfx keeps them) imports as it is.
    let copy = Home::at(&dir.path().join("copy"));
    let imported = Identity::import(pem.as_bytes(), "identity.pem", &copy).unwrap();
    assert_eq!(imported.principal(), first.principal());
    assert_eq!(std::fs::read_to_string(copy.identity_file()).unwrap(), pem);
    let other = Home::at(&dir.path().join("x"));
    assert!(Identity::import(b"not a key", "bad.pem", &other).is_err());
    assert!(
        !other.identity_file().exists(),
        "nothing is written for a bad file"
    );
}

#[test]
fn settings_round_trip_and_a_damaged_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path());
    let mut settings = Settings::load(&home).unwrap();
    assert!(settings.vaults.is_empty());
    settings
        .vaults
        .insert("local".into(), "rwlgt-iiaaa-aaaaa-aaaaa-cai".into());
    settings.network = Some("local".into());
    settings.save(&home).unwrap();
    assert_eq!(
        Settings::load(&home).unwrap().vaults["local"],
        "rwlgt-iiaaa-aaaaa-aaaaa-cai"
    );
    std::fs::write(dir.path().join("config.json"), "{").unwrap();
    let err = Settings::load(&home).unwrap_err().to_string();
    assert!(
        err.contains("config.json") && err.contains("fix or remove"),
        "{err}"
    );
}

#[test]
fn ic_costs_follow_the_published_rates() {
    let none = vault_client::cost::costs(0);
    assert_eq!(none.storage_usd_per_month, 0.0);
    let gib = vault_client::cost::costs(1 << 30);
    // 127k cycles per GiB-second for 30 days, at 1.35 USD per T cycles.
    assert!(
        (gib.storage_usd_per_month - 0.4444).abs() < 0.001,
        "{gib:?}"
    );
    // Upload is dominated by 2,000 cycles per ingress byte.
    assert!(
        gib.upload_usd_per_gib > 2.8 && gib.upload_usd_per_gib < 3.0,
        "{gib:?}"
    );
}
