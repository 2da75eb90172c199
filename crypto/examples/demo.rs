//! What Vault's crypto core does today, end to end on one machine: the key hierarchy of a new
//! vault, a file encrypted as it will be uploaded, shared with a friend, and shared by link.
//!
//! `cargo run -p vault-crypto --example demo [FILE]` (a sample text is used without FILE).
//! The app and the canister come in later issues; this is the layer every byte goes through.

use std::process::ExitCode;

use vault_crypto::*;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = rand::rng();
    let (name, content) = match std::env::args_os().nth(1) {
        Some(path) => {
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.to_string_lossy()))?;
            (path.to_string_lossy().into_owned(), bytes)
        }
        None => ("sample.txt".to_string(), b"A photo would go here.".to_vec()),
    };

    println!("== a new vault");
    let master = MasterKey::generate(&mut rng);
    let (record, _unlock_verifier) = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "demo passphrase",
        KdfParams::DEFAULT,
        &mut rng,
    );
    println!(
        "passphrase record: {} bytes (Argon2id m={} MiB, t={})",
        record.to_bytes().len(),
        record.params().memory_kib() / 1024,
        record.params().iterations()
    );
    let recovery = RecoveryKey::generate(&mut rng);
    let _recovery_wrapped = recovery.wrap_master(&master, MasterGeneration::default(), &mut rng);
    println!(
        "recovery words (shown once): {}",
        recovery.to_words().as_str()
    );
    let sharing = SharingKeyPair::generate(&mut rng);
    let principal = [0x2a; 29];
    let code = ShareCode::new(&principal, sharing.public)?;
    println!(
        "your share code: {code}\nits fingerprint: {}",
        code.fingerprint()
    );

    println!("\n== encrypting {name} ({} bytes)", content.len());
    let album = AlbumKey::generate(&mut rng);
    let album_id = AlbumKeyId {
        album: AlbumId::generate(&mut rng),
        version: 0,
    };
    let file_key = FileKey::generate(&mut rng);
    let file_id = FileId::generate(&mut rng);
    let wrapped_file_key = album.wrap_key(&file_key, &file_id, &mut rng);
    let header = StreamHeader::generate(&mut rng);
    let cipher = StreamCipher::new(&file_key, StreamKind::Content, &header);
    let ciphertext = cipher.encrypt(&content);
    println!(
        "{} chunk(s), {} bytes of ciphertext; dedupe hash {}",
        chunk_count(content.len() as u64),
        ciphertext.len(),
        hex(&DedupeKey::derive(&master).hash(&content).0)
    );

    println!("\n== shared with a friend");
    let friend = SharingKeyPair::generate(&mut rng);
    let friend_principal = [0x07; 29];
    let sealed = friend
        .public
        .seal_key(&album, &friend_principal, &album_id, &mut rng)?;
    let their_album: AlbumKey = friend
        .secret
        .open_key(&sealed, &friend_principal, &album_id)?;
    let their_file_key: FileKey = their_album.unwrap_key(&wrapped_file_key, &file_id)?;
    let theirs =
        StreamCipher::new(&their_file_key, StreamKind::Content, &header).decrypt(&ciphertext)?;
    println!(
        "friend decrypted {} bytes, identical: {}",
        theirs.len(),
        theirs == content
    );

    println!("\n== shared by link");
    let secret = LinkSecret::generate(&mut rng);
    let _link_wrapped = secret.link_key(None).wrap_key(&album, &album_id, &mut rng);
    println!(
        "link: https://<canister-id>.icp0.io/s#{}",
        secret.to_fragment().as_str()
    );
    println!(
        "the canister stores only the token hash {}",
        hex(&secret.token().hash().0)
    );
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
