//! Durability: a replica kept in a state directory comes back with every acknowledged input,
//! from its checkpoint and log — including after `kill -9` at random points.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use candid::{Decode, Encode, Principal};
use local_replica::{CallError, InstallMode, Replica};
use vault_canister::model::types::*;
use vault_test_support::replica::*;

fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn owner() -> Principal {
    Principal::from_slice(&[9; 29])
}

/// What a vault shows: its summary and every file.
fn snapshot(r: &mut Replica, id: Principal) -> (Vec<u8>, Vec<u8>) {
    let info = r
        .query_call(owner(), id, "vault_info", &Encode!().unwrap())
        .unwrap()
        .bytes;
    let list = r
        .query_call(
            owner(),
            id,
            "list_files",
            &Encode!(&ListFilesArgs {
                album: None,
                after: None,
                limit: None,
                descending: None,
                trashed: None,
                link: None,
            })
            .unwrap(),
        )
        .unwrap()
        .bytes;
    (info, list)
}

fn canister_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("canisters"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const TWO_CHUNKS: u64 = vault_crypto::CHUNK_SIZE as u64 + 100;

#[test]
fn every_acknowledged_input_comes_back_from_the_log_alone() {
    let dir = fresh_dir("log-alone");
    let wasm = vault_wasm();
    let (id, before) = {
        let mut r = Replica::open(&dir, T0).unwrap();
        let id = install_vault(&mut r, &wasm, owner());
        for file in 0..3 {
            upload_file(&mut r, id, owner(), file, TWO_CHUNKS);
        }
        // A refused input is logged and refused again on replay, changing nothing.
        let refused = r.update_call(owner(), id, "put_chunk", &put_chunk_arg(0, 9, vec![1; 17]));
        assert!(refused.is_ok(), "the canister answers with an error value");
        (id, snapshot(&mut r, id))
    };
    assert!(
        canister_files(&dir).is_empty(),
        "no checkpoint was written yet"
    );
    let mut r = Replica::open(&dir, T0).unwrap();
    assert_eq!(snapshot(&mut r, id), before);
    for file in 0..3 {
        for index in 0..2 {
            assert_eq!(
                read_chunk(&mut r, id, owner(), file, index),
                chunk_data(file, index, chunk_len(TWO_CHUNKS, index))
            );
        }
    }
    // And it goes on where it stopped.
    upload_file(&mut r, id, owner(), 3, 10);
}

#[test]
fn checkpoints_and_the_log_rebuild_the_same_state_across_upgrades() {
    let dir = fresh_dir("checkpoints");
    let wasm = vault_wasm();
    let (id, before, status) = {
        let mut r = Replica::open(&dir, T0).unwrap();
        let id = install_vault(&mut r, &wasm, owner());
        upload_file(&mut r, id, owner(), 1, TWO_CHUNKS);
        r.checkpoint().unwrap();
        let first = canister_files(&dir);
        assert_eq!(
            first.len(),
            2,
            "a heap file and a stable memory file: {first:?}"
        );
        upload_file(&mut r, id, owner(), 2, TWO_CHUNKS);
        r.install_code(
            owner(),
            id,
            InstallMode::Upgrade,
            &wasm,
            &Encode!().unwrap(),
        )
        .unwrap();
        upload_file(&mut r, id, owner(), 3, 5000);
        r.checkpoint().unwrap();
        let second = canister_files(&dir);
        assert_eq!(second.len(), 2, "{second:?}");
        assert!(
            second.contains(&first[1]) && !second.contains(&first[0]),
            "the upgrade's new heap got a new file, the old one is gone; stable memory stays: {first:?} -> {second:?}"
        );
        upload_file(&mut r, id, owner(), 4, 10);
        (
            id,
            snapshot(&mut r, id),
            r.canister_status(owner(), id).unwrap(),
        )
    };
    let mut r = Replica::open(&dir, T0).unwrap();
    assert_eq!(snapshot(&mut r, id), before);
    assert_eq!(r.canister_status(owner(), id).unwrap(), status);
    assert_eq!(status.version, 2);
    for (file, size) in [(1, TWO_CHUNKS), (2, TWO_CHUNKS), (3, 5000), (4, 10)] {
        for index in 0..vault_crypto::chunk_count(size) as u32 {
            assert_eq!(
                read_chunk(&mut r, id, owner(), file, index),
                chunk_data(file, index, chunk_len(size, index)),
                "file {file} chunk {index}"
            );
        }
    }
    // A checkpoint right after opening, and another open, change nothing.
    r.checkpoint().unwrap();
    drop(r);
    let mut r = Replica::open(&dir, T0).unwrap();
    assert_eq!(snapshot(&mut r, id), before);
}

#[test]
fn a_reinstall_and_a_deletion_leave_no_files_behind() {
    let dir = fresh_dir("reinstall");
    let wasm = vault_wasm();
    let mut r = Replica::open(&dir, T0).unwrap();
    let id = install_vault(&mut r, &wasm, owner());
    let other = install_vault(&mut r, &wasm, owner());
    upload_file(&mut r, id, owner(), 1, 10);
    r.checkpoint().unwrap();
    assert_eq!(canister_files(&dir).len(), 4);
    r.install_code(
        owner(),
        id,
        InstallMode::Reinstall,
        &wasm,
        &init_arg(owner()),
    )
    .unwrap();
    r.stop_canister(owner(), other).unwrap();
    r.delete_canister(owner(), other).unwrap();
    r.checkpoint().unwrap();
    assert_eq!(canister_files(&dir).len(), 2);
    drop(r);
    let mut r = Replica::open(&dir, T0).unwrap();
    assert_eq!(
        r.canister_status(owner(), other),
        Err(CallError::CanisterNotFound(other))
    );
    let info = r
        .query_call(owner(), id, "vault_info", &Encode!().unwrap())
        .unwrap();
    let info = Decode!(&info.bytes, VaultResult<VaultInfo>)
        .unwrap()
        .unwrap();
    assert_eq!(info.files, 0, "the reinstall wiped the vault");
}

#[test]
fn a_torn_journal_is_discarded() {
    let dir = fresh_dir("torn-journal");
    let wasm = vault_wasm();
    let (id, before) = {
        let mut r = Replica::open(&dir, T0).unwrap();
        let id = install_vault(&mut r, &wasm, owner());
        upload_file(&mut r, id, owner(), 1, 10);
        (id, snapshot(&mut r, id))
    };
    // A checkpoint that died while writing its journal: a frame cut short.
    std::fs::write(dir.join("journal"), [200, 0, 0, 0, 1, 2, 3, 4, 1, 0]).unwrap();
    let mut r = Replica::open(&dir, T0).unwrap();
    assert_eq!(snapshot(&mut r, id), before);
    assert!(!dir.join("journal").exists());
    assert_eq!(
        r.modules_from_disk_cache(),
        1,
        "the vault was compiled once, when installed, and loaded compiled after"
    );
}

/// Chunks in the crash test's upload.
const CHUNKS: u32 = 1000;
/// Kill-and-restart runs.
const RUNS: u32 = 20;

/// A replica process driven through `local-replica script`.
struct Driven {
    child: Child,
}

impl Driven {
    fn start(dir: &Path) -> Driven {
        let child = Command::new(env!("CARGO_BIN_EXE_local-replica"))
            .args(["script", "--state-dir"])
            .arg(dir)
            .args(["--checkpoint-after", &(24u64 << 20).to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the local-replica binary runs");
        Driven { child }
    }

    /// Sends one command and waits for its answer.
    fn ask(&mut self, line: &str) -> String {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        let mut answer = String::new();
        BufReader::new(self.child.stdout.as_mut().unwrap())
            .read_line(&mut answer)
            .unwrap();
        assert!(answer.starts_with("ok"), "{line:.80}: {answer}");
        answer.trim_end()[2..].trim().to_string()
    }
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// The upload's missing chunks, as the canister reports them.
fn missing(d: &mut Driven, id: Principal) -> Vec<u32> {
    let reply = d.ask(&format!(
        "query {} {} upload_status {}",
        owner().to_text(),
        id.to_text(),
        hex::encode(Encode!(&file_id(0)).unwrap())
    ));
    Decode!(&unhex(&reply), VaultResult<UploadStatus>)
        .unwrap()
        .unwrap()
        .missing
}

/// A small deterministic generator (the seed is printed, so a failure can be replayed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn killed_at_random_points_during_a_1000_chunk_upload_it_loses_nothing_acknowledged() {
    let dir = fresh_dir("crash-loop");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash loop seed {seed}");
    let mut rng = Rng(seed);
    let size = (CHUNKS as u64 - 1) * vault_crypto::CHUNK_SIZE as u64 + 1000;
    let o = owner().to_text();

    let mut d = Driven::start(&dir);
    let id = Principal::from_text(d.ask(&format!("create {o}"))).unwrap();
    d.ask(&format!(
        "install {o} {} install {} {}",
        id.to_text(),
        vault_wasm_path().display(),
        hex::encode(init_arg(owner()))
    ));
    d.ask(&format!(
        "update {o} {} begin_upload {}",
        id.to_text(),
        hex::encode(Encode!(&begin_args(0, size)).unwrap())
    ));
    drop(d.child.stdin.take());
    d.child.wait().unwrap();

    let mut acknowledged = std::collections::BTreeSet::new();
    let mut kills = 0;
    for run in 0..=RUNS {
        let mut d = Driven::start(&dir);
        // Everything acknowledged before is there, and nothing that was never sent.
        let still_missing = missing(&mut d, id);
        for index in &acknowledged {
            assert!(
                !still_missing.contains(index),
                "run {run}: acknowledged chunk {index} was lost"
            );
        }
        if still_missing.is_empty() {
            // Let this replica exit before the directory is opened below: it holds it locked.
            drop(d.child.stdin.take());
            d.child.wait().unwrap();
            break;
        }
        // Send the missing chunks from a writer thread and count answers here. Each run but the
        // last is killed after a random number of answers plus a random few milliseconds, so
        // the kill lands anywhere: mid-message, mid-sync, mid-checkpoint.
        let mut stdin = d.child.stdin.take().unwrap();
        let stdout = d.child.stdout.take().unwrap();
        let order = still_missing.clone();
        let who = format!("update {o} {} put_chunk", id.to_text());
        let writer = std::thread::spawn(move || {
            for index in still_missing {
                let data = chunk_data(0, index, chunk_len(size, index));
                let line = format!("{who} {}", hex::encode(put_chunk_arg(0, index, data)));
                if writeln!(stdin, "{line}").is_err() {
                    return;
                }
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let kill_after = (run < RUNS).then(|| rng.below(2 * CHUNKS as u64 / RUNS as u64) as usize);
        let mut answered = 0usize;
        while kill_after != Some(answered) && answered < order.len() {
            let line = rx
                .recv_timeout(Duration::from_secs(300))
                .expect("the replica answers");
            let reply = line.strip_prefix("ok ").unwrap_or_else(|| panic!("{line}"));
            let result = Decode!(&unhex(reply), VaultResult<()>).unwrap();
            assert_eq!(result, Ok(()), "chunk {}", order[answered]);
            acknowledged.insert(order[answered]);
            answered += 1;
        }
        if answered < order.len() {
            std::thread::sleep(Duration::from_millis(rng.below(40)));
            d.child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let _ = d.child.wait();
        let _ = writer.join();
        let _ = reader.join();
        eprintln!(
            "run {run}: {answered} chunks acknowledged, {} in all",
            acknowledged.len()
        );
    }
    assert!(kills >= RUNS / 2, "the replica was killed {kills} times");
    // (A chunk in flight when the replica was killed may have been kept without an answer:
    // the client would see it as received when it asks, as here.)

    // Every chunk is whole: commit, then read every one back.
    let mut r = Replica::open(&dir, T0).unwrap();
    let info: FileInfo = update(
        &mut r,
        id,
        owner(),
        "commit_upload",
        &Encode!(&file_id(0)).unwrap(),
    );
    assert_eq!(info.chunk_count, CHUNKS);
    for index in 0..CHUNKS {
        let got = read_chunk(&mut r, id, owner(), 0, index);
        assert!(
            got == chunk_data(0, index, chunk_len(size, index)),
            "chunk {index} is not what was acknowledged"
        );
    }
    eprintln!("crash loop: {kills} kills, {CHUNKS} chunks intact");
}
