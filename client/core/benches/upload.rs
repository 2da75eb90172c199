//! Upload speed and memory against a real local replica process on a free port.
//!
//! `cargo bench -p vault-client --bench upload`. In one run:
//!
//! 1. **Baseline**: the replica's raw `put_chunk` rate — 64 pre-encrypted-sized chunks (1 MiB +
//!    tag, random bytes: the canister does not decrypt) of one `begin_upload`, sent with the
//!    client's concurrency ([`CHUNKS_IN_FLIGHT`], `buffer_unordered`), in MB/s of plaintext.
//! 2. **End to end**: `Vault::upload` of a fresh 64 MiB random file, and of the 16 photos in
//!    `target/testdata/photos/full` (each run a copy with a few random bytes after the image, so
//!    dedupe does not skip it): MB/s and photos/s, EXIF, thumbnails, hashing and encryption
//!    included. Client-side CPU pieces (hashing, encryption, one core) are timed on their own.
//! 3. A table: median of 3 runs each (of 9 batches for the photos, which take a second each),
//!    end to end / baseline (the goal is ≥ 0.5x), and the CPU time a photo costs the client
//!    (all its threads) and the replica, read from `/proc`: steadier than the photos' MB/s,
//!    which is bound by that CPU time on a 2-core machine.
//! 4. **Peak memory** uploading a big file (`VAULT_BENCH_BIG_GIB`, default 4 GiB): this binary
//!    runs itself again as the client (`VAULT_BENCH_CHILD=upload HOME PORT FILE`, unlocked by the
//!    session the parent's `Vault::init` left) and reports its VmHWM (the goal: within 150 MiB).
//!
//! The replica is this binary too, run as `VAULT_BENCH_CHILD=replica … start --port P
//! --state-dir D` by `replica::open`'s launcher, as `vault` runs itself as `vault replica`.
//! Everything (the replica's state, the big file) lives in a temporary directory, removed at
//! the end, the replica stopped first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rand::Rng;
use serde_bytes::ByteBuf;
use vault_client::types::BeginUploadArgs;
use vault_client::upload::{CHUNKS_IN_FLIGHT, Quiet, UploadOptions, UploadOutcome, Uploaded};
use vault_client::{Error, Home, Identity, Network, Vault};
use vault_crypto::{
    CHUNK_SIZE, DedupeKey, FileId, FileKey, FileMetadata, KdfParams, KeyWrapper, StreamCipher,
    StreamHeader, StreamKind, TAG_SIZE,
};
use vault_test_support::{free_port, photos};

const RUNS: usize = 3;
/// Photo batches uploaded in each run: a batch takes about a second, so one is noisy.
const PHOTO_BATCHES: usize = 3;
const MIB: u64 = 1 << 20;
/// The baseline's and the end-to-end file's size.
const FILE_MIB: u64 = 64;
const PASSPHRASE: &str = "upload bench passphrase";
/// The peak-memory goal for the big upload.
const GOAL_RSS_MIB: f64 = 150.0;
const CHILD: &str = "VAULT_BENCH_CHILD";

/// How `replica::open` starts the replica: this program as one.
fn launcher() -> Command {
    let mut c = Command::new(std::env::current_exe().expect("this program"));
    c.env(CHILD, "replica");
    c
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// CPU seconds (user + system) process `pid` has used so far, from `/proc/<pid>/stat` (in
/// clock ticks of 1/100 s, as on every Linux this runs on).
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command's name (which may hold spaces) in parentheses; utime and
    // stime are the 14th and 15th of the whole line.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// `VmHWM` or `VmRSS` of `/proc/<pid>/status`, in KiB.
fn proc_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::rng().fill_bytes(&mut v);
    v
}

fn expect_uploaded(results: Vec<Result<Uploaded, (PathBuf, Error)>>, n: usize) {
    assert_eq!(results.len(), n, "files uploaded");
    for r in results {
        match r {
            Ok(u) => assert_eq!(
                u.outcome,
                UploadOutcome::Uploaded,
                "{}: {}",
                u.path.display(),
                u.outcome
            ),
            Err((p, e)) => panic!("{}: {e}", p.display()),
        }
    }
}

/// Stops the replica and removes the big file, whatever happens.
struct Cleanup {
    replica_dir: PathBuf,
    big: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(big) = self.big.take() {
            let _ = std::fs::remove_file(big);
        }
        if let Err(e) = vault_client::replica::stop_local(&self.replica_dir) {
            eprintln!("stopping the replica: {e}");
        }
    }
}

fn main() -> ExitCode {
    match std::env::var(CHILD).as_deref() {
        Ok("replica") => return serve_replica(),
        Ok("upload") => return child_upload(),
        _ => {}
    }
    let big_gib: f64 = std::env::var("VAULT_BENCH_BIG_GIB")
        .ok()
        .map(|v| v.parse().expect("VAULT_BENCH_BIG_GIB is a number of GiB"))
        .unwrap_or(4.0);
    let tmp = tempfile::Builder::new()
        .prefix("vault-upload-bench")
        .tempdir()
        .expect("a temporary directory");
    let home = Home::at(tmp.path());
    let port = free_port();
    let mut cleanup = Cleanup {
        replica_dir: home.replica_dir(),
        big: None,
    };
    let rt = runtime();
    let started = Instant::now();
    let mut vault = rt.block_on(async {
        let (identity, _) = Identity::load_or_create(&home).expect("identity");
        let conn = vault_client::replica::open(&home, Network::Local { port }, identity, &launcher)
            .await
            .expect("the replica starts and answers");
        let kdf = KdfParams::new(19456, 2, 1).expect("OWASP minimum");
        let (vault, _words) = Vault::init(
            &home,
            conn,
            None,
            PASSPHRASE,
            kdf,
            vault_client::unlocked::DEFAULT_SESSION,
        )
        .await
        .expect("init");
        vault
    });
    println!(
        "replica on port {port}, vault {} set up in {:.1} s; {RUNS} runs each, median; \
         CHUNKS_IN_FLIGHT = {CHUNKS_IN_FLIGHT}; MB = 10^6 bytes",
        vault.id(),
        started.elapsed().as_secs_f64()
    );

    // 1. Baseline: put_chunk alone.
    let size = FILE_MIB * MIB;
    let chunk_count = (size / CHUNK_SIZE as u64) as u32;
    let chunks: Vec<Vec<u8>> = (0..chunk_count)
        .map(|_| random_bytes(CHUNK_SIZE + TAG_SIZE))
        .collect();
    let originals: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(photos().join("full"))
            .expect("the photos")
            .map(|e| e.expect("a photo").path())
            .filter(|p| p.is_file())
            .collect();
        v.sort();
        v
    };
    let mut baseline = Vec::new();
    let mut e2e = Vec::new();
    let mut photo_mb = Vec::new();
    let mut photo_rate = Vec::new();
    let mut photo_client_ms = Vec::new();
    let mut photo_replica_ms = Vec::new();
    // The replica's CPU time is read from its process (launched by `replica::open`).
    let replica_pid = std::fs::read_to_string(home.replica_dir().join("replica.pid"))
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string))
        .unwrap_or_default();
    // Interleaved (baseline, file, photos) x RUNS, so that all three see the same machine load.
    for run in 0..RUNS {
        let secs = rt.block_on(baseline_run(&vault, size, &chunks));
        println!(
            "  baseline run {}: {FILE_MIB} MiB in {secs:.2} s, {:.1} MB/s",
            run + 1,
            mb_s(size, secs)
        );
        baseline.push(mb_s(size, secs));

        // 2a. End to end: a fresh 64 MiB random file each run.
        let path = tmp.path().join(format!("random-{run}.bin"));
        std::fs::write(&path, random_bytes(size as usize)).expect("write the test file");
        let start = Instant::now();
        let results = rt
            .block_on(vault.upload(
                std::slice::from_ref(&path),
                &UploadOptions::default(),
                &Quiet,
            ))
            .expect("upload");
        let secs = start.elapsed().as_secs_f64();
        expect_uploaded(results, 1);
        std::fs::remove_file(&path).expect("remove the test file");
        println!(
            "  end-to-end run {}: {FILE_MIB} MiB in {secs:.2} s, {:.1} MB/s",
            run + 1,
            mb_s(size, secs)
        );
        e2e.push(mb_s(size, secs));

        // 2b. End to end: the 16 photos, made unique per batch by bytes after the image's end.
        for batch in 0..PHOTO_BATCHES {
            let dir = tmp.path().join(format!("photos-{run}-{batch}"));
            std::fs::create_dir(&dir).expect("a folder for the photos");
            let mut bytes = 0u64;
            for p in &originals {
                let mut data = std::fs::read(p).expect("read a photo");
                data.extend_from_slice(&random_bytes(16));
                bytes += data.len() as u64;
                std::fs::write(dir.join(p.file_name().expect("a name")), data)
                    .expect("copy a photo");
            }
            let cpu = || {
                (
                    cpu_secs("self").unwrap_or(0.0),
                    cpu_secs(&replica_pid).unwrap_or(0.0),
                )
            };
            let (client_before, replica_before) = cpu();
            let start = Instant::now();
            let results = rt
                .block_on(vault.upload(
                    std::slice::from_ref(&dir),
                    &UploadOptions::default(),
                    &Quiet,
                ))
                .expect("upload");
            let secs = start.elapsed().as_secs_f64();
            let (client_after, replica_after) = cpu();
            expect_uploaded(results, originals.len());
            std::fs::remove_dir_all(&dir).expect("remove the copies");
            let n = originals.len() as f64;
            println!(
                "  photos run {}.{}: {} photos, {:.1} MB in {secs:.2} s, {:.1} MB/s, {:.2} photos/s; \
                 CPU s: client {:.2}, replica {:.2}",
                run + 1,
                batch + 1,
                originals.len(),
                bytes as f64 / 1e6,
                mb_s(bytes, secs),
                n / secs,
                client_after - client_before,
                replica_after - replica_before,
            );
            photo_mb.push(mb_s(bytes, secs));
            photo_rate.push(n / secs);
            photo_client_ms.push((client_after - client_before) * 1e3 / n);
            photo_replica_ms.push((replica_after - replica_before) * 1e3 / n);
        }
    }
    drop(chunks);

    // The client's CPU work per byte, one core each.
    let (hash_mb, encrypt_mb) = cpu_pieces(&vault, size as usize);

    // 3. The table.
    let (b, e, pm, pr) = (
        median(baseline),
        median(e2e),
        median(photo_mb),
        median(photo_rate),
    );
    println!();
    println!(
        "{:<52} {:>10}",
        format!("median of {RUNS} (photos: of {})", RUNS * PHOTO_BATCHES),
        ""
    );
    println!("{:<52} {:>10.1}", "baseline put_chunk MB/s (64 x 1 MiB)", b);
    println!("{:<52} {:>10.1}", "end-to-end MB/s (64 MiB random file)", e);
    println!(
        "{:<52} {:>9.2}x {}",
        "ratio end-to-end / baseline (goal >= 0.5x)",
        e / b,
        if e / b >= 0.5 { "ok" } else { "BELOW GOAL" }
    );
    println!(
        "{:<52} {:>10.1}",
        format!("photos MB/s ({} photos)", originals.len()),
        pm
    );
    println!(
        "{:<52} {:>10.1}",
        format!("photos ratio / baseline"),
        pm / b
    );
    println!("{:<52} {:>10.2}", "photos/s", pr);
    println!(
        "{:<52} {:>10.1}",
        "photos: client CPU ms per photo (all threads)",
        median(photo_client_ms)
    );
    println!(
        "{:<52} {:>10.1}",
        "photos: replica CPU ms per photo",
        median(photo_replica_ms)
    );
    println!(
        "{:<52} {:>10.1}",
        "client CPU: SHA-256 + dedupe HMAC MB/s (1 core)", hash_mb
    );
    println!(
        "{:<52} {:>10.1}",
        "client CPU: chunk encryption MB/s (1 core)", encrypt_mb
    );
    println!();

    // 4. Peak memory of a big upload, in a process of its own.
    let big_bytes = (big_gib * (1u64 << 30) as f64) as u64 / MIB * MIB;
    let big = tmp.path().join("big.bin");
    cleanup.big = Some(big.clone());
    let start = Instant::now();
    write_big(&big, big_bytes / MIB);
    println!(
        "big file: {:.2} GiB written in {:.1} s",
        big_bytes as f64 / (1u64 << 30) as f64,
        start.elapsed().as_secs_f64()
    );
    // The child's own connection and vault; this one is idle meanwhile.
    let out = Command::new(std::env::current_exe().expect("this program"))
        .env(CHILD, "upload")
        .arg(tmp.path())
        .arg(port.to_string())
        .arg(&big)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the upload child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the upload child failed:\n{text}");
    let field = |name: &str| -> f64 {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("`{name}=` in the child's output:\n{text}"))
    };
    let secs = field("secs");
    let hwm_mib = field("hwm_kib") / 1024.0;
    let start_mib = field("start_rss_kib") / 1024.0;
    let replica_hwm = std::fs::read_to_string(home.replica_dir().join("replica.pid"))
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string))
        .and_then(|pid| proc_kib(&pid, "VmHWM"));
    println!(
        "{:<52} {:>10.2}",
        "big upload: size GiB",
        big_bytes as f64 / (1u64 << 30) as f64
    );
    println!("{:<52} {:>10.1}", "big upload: seconds", secs);
    println!("{:<52} {:>10.1}", "big upload: MB/s", mb_s(big_bytes, secs));
    println!(
        "{:<52} {:>10.1}",
        "big upload: client RSS before the upload MiB", start_mib
    );
    println!(
        "{:<52} {:>10.1} {}",
        format!("big upload: client peak RSS MiB (goal <= {GOAL_RSS_MIB})"),
        hwm_mib,
        if hwm_mib <= GOAL_RSS_MIB {
            "ok"
        } else {
            "ABOVE GOAL"
        }
    );
    if let Some(kib) = replica_hwm {
        println!(
            "{:<52} {:>10.1}",
            "replica process peak RSS so far MiB",
            kib as f64 / 1024.0
        );
    }
    drop(vault);
    drop(rt);
    drop(cleanup);
    drop(tmp);
    ExitCode::SUCCESS
}

/// One baseline run: begin an upload of `size`, send the chunks `CHUNKS_IN_FLIGHT` at a time
/// (timed), then commit. Seconds of the sending.
async fn baseline_run(vault: &Vault, size: u64, chunks: &[Vec<u8>]) -> f64 {
    let (args, file_id) = {
        let mut rng = rand::rng();
        let file_id = FileId::generate(&mut rng);
        let file_key = FileKey::generate(&mut rng);
        let header = StreamHeader::generate(&mut rng);
        let wrapped = vault.master().wrap_key(&file_key, &file_id, &mut rng);
        let meta = FileMetadata {
            name: "baseline.bin".into(),
            size,
            ..FileMetadata::default()
        };
        let args = BeginUploadArgs {
            file_id: ByteBuf::from(file_id.0.to_vec()),
            size,
            content_header: ByteBuf::from(header.to_bytes().to_vec()),
            wrapped_key: ByteBuf::from(wrapped.as_bytes().to_vec()),
            album: None,
            key_version: 0,
            metadata: ByteBuf::from(meta.seal(&file_key, &mut rng)),
            thumbnail: None,
            dedupe_hash: None,
            sort_key: 0,
        };
        (args, file_id.0)
    };
    let canister = vault.canister();
    let status = canister.begin_upload(args).await.expect("begin_upload");
    assert_eq!(status.chunk_count as usize, chunks.len());
    let start = Instant::now();
    let results: Vec<Result<(), Error>> = futures_util::stream::iter(chunks.iter().enumerate())
        .map(|(i, data)| canister.put_chunk(&file_id, i as u32, data))
        .buffer_unordered(CHUNKS_IN_FLIGHT)
        .collect()
        .await;
    let secs = start.elapsed().as_secs_f64();
    for r in results {
        r.expect("put_chunk");
    }
    canister
        .commit_upload(&file_id)
        .await
        .expect("commit_upload");
    secs
}

/// SHA-256 + dedupe HMAC (upload's first pass) and chunk encryption, each on one core, MB/s.
fn cpu_pieces(vault: &Vault, len: usize) -> (f64, f64) {
    use sha2::Digest;
    let data = random_bytes(len);
    let dedupe = DedupeKey::derive(vault.masters().first_generation());
    let mut hash = Vec::new();
    let mut encrypt = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let mut sha = sha2::Sha256::new();
        let mut hmac = dedupe.hasher();
        for chunk in data.chunks(CHUNK_SIZE) {
            sha.update(chunk);
            hmac.update(chunk);
        }
        std::hint::black_box((sha.finalize(), hmac.finish()));
        hash.push(mb_s(len as u64, start.elapsed().as_secs_f64()));

        let mut rng = rand::rng();
        let cipher = StreamCipher::new(
            &FileKey::generate(&mut rng),
            StreamKind::Content,
            &StreamHeader::generate(&mut rng),
        );
        let n = data.len().div_ceil(CHUNK_SIZE);
        let start = Instant::now();
        for (i, chunk) in data.chunks(CHUNK_SIZE).enumerate() {
            let mut buf = Vec::with_capacity(CHUNK_SIZE + TAG_SIZE);
            buf.extend_from_slice(chunk);
            cipher
                .encrypt_chunk(i as u64, i + 1 == n, &mut buf)
                .expect("encrypts");
            std::hint::black_box(&buf);
        }
        encrypt.push(mb_s(len as u64, start.elapsed().as_secs_f64()));
    }
    (median(hash), median(encrypt))
}

/// `mib` MiB: one random MiB, its first 8 bytes a counter, so every chunk differs.
fn write_big(path: &Path, mib: u64) {
    let mut block = random_bytes(MIB as usize);
    let mut file = std::fs::File::create(path).expect("create the big file");
    for i in 0..mib {
        block[..8].copy_from_slice(&i.to_le_bytes());
        file.write_all(&block).expect("write the big file");
    }
    file.flush().expect("write the big file");
}

/// `VAULT_BENCH_CHILD=replica <this program> start --port P --state-dir D`: the replica, as
/// `vault replica` serves it (the same parser and server).
fn serve_replica() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match vault_client::replica::ReplicaAction::parse(&args) {
        Ok(action) => action.run("replica"),
        Err(e) => {
            eprintln!("replica: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `VAULT_BENCH_CHILD=upload HOME PORT FILE`: uploads FILE to the vault of HOME (unlocked by its
/// session) on the replica at PORT; prints `secs=… hwm_kib=… start_rss_kib=…`.
fn child_upload() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [home, port, file] = args.as_slice() else {
        eprintln!("usage: {CHILD}=upload HOME PORT FILE");
        return ExitCode::FAILURE;
    };
    let home = Home::at(Path::new(home));
    let port: u16 = port.parse().expect("a port");
    let file = PathBuf::from(file);
    let rt = runtime();
    let result = rt.block_on(async {
        let identity = Identity::load(&home)?;
        let conn = vault_client::replica::open(&home, Network::Local { port }, identity, &launcher)
            .await?;
        let canister =
            vault_client::vault::remembered_canister(&home, &conn.network)?.ok_or(Error::Locked)?;
        let mut vault = Vault::from_session(&home, conn, canister)?;
        let start_rss = proc_kib("self", "VmRSS").unwrap_or(0);
        let start = Instant::now();
        let results = vault
            .upload(
                std::slice::from_ref(&file),
                &UploadOptions::default(),
                &Quiet,
            )
            .await?;
        let secs = start.elapsed();
        Ok::<_, Error>((results, secs, start_rss))
    });
    match result {
        Ok((results, secs, start_rss)) => {
            expect_uploaded(results, 1);
            let hwm = proc_kib("self", "VmHWM").unwrap_or(0);
            println!(
                "secs={:.3} hwm_kib={hwm} start_rss_kib={start_rss}",
                Duration::as_secs_f64(&secs)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("upload child: {e}");
            ExitCode::FAILURE
        }
    }
}
