//! Throughput of STREAM content encryption against raw AES-256-GCM, in one run.
//!
//! On 64 MiB of random data (`VAULT_BENCH_MIB` overrides) it measures:
//! - raw: `Aes256Gcm::{encrypt,decrypt}_inout_detached` in place over 1 MiB pieces on one
//!   thread, with one fixed nonce (a baseline only: never reuse a nonce for real);
//! - `StreamCipher::{encrypt, decrypt}` on one thread (slice in, fresh `Vec` out);
//! - `StreamCipher::{encrypt,decrypt}_chunk` through one reused buffer, as the upload
//!   pipeline does (each chunk copied into the buffer, then processed in place);
//! - `StreamCipher::{encrypt,decrypt}_parallel` on rayon's pool (feature `parallel`).
//!
//! Each is run once to warm up, then timed `VAULT_BENCH_REPS` times (default 7). The table
//! shows the median in GiB/s and as a ratio to the raw baseline of the same direction. Times
//! include allocating an output, not freeing it. Every path's output is checked once (round
//! trip, same bytes as `encrypt`), so a broken cipher cannot look fast.
//!
//! ```text
//! cargo bench -p vault-crypto --bench stream
//! VAULT_BENCH_MIB=8 VAULT_BENCH_REPS=3 cargo bench -p vault-crypto --bench stream
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use vault_crypto::{
    CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, FileKey, StreamCipher, StreamHeader, StreamKind, TAG_SIZE,
};

/// A positive integer from the environment variable `name`, or `default` if it is unset.
fn env_or(name: &str, default: usize) -> usize {
    let v = std::env::var(name).unwrap_or_else(|_| default.to_string());
    let n = v.parse().unwrap_or(0);
    assert!(n > 0, "{name}={v}: not a positive integer");
    n
}

/// Runs `run` once to warm up, then `reps` times; the median of the durations it reports.
fn median(reps: usize, mut run: impl FnMut() -> Duration) -> Duration {
    run();
    let mut times: Vec<Duration> = (0..reps).map(|_| run()).collect();
    times.sort();
    times[reps / 2]
}

/// How long `f` takes; its result is dropped after the clock stops.
fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    let out = black_box(f());
    let elapsed = start.elapsed();
    drop(out);
    elapsed
}

/// The median time of `f` over `reps` runs after a warm-up.
fn bench<T>(reps: usize, mut f: impl FnMut() -> T) -> Duration {
    median(reps, || time(&mut f))
}

/// Feeds `input` (plaintext, or ciphertext if `decrypt`) chunk by chunk through one reused
/// buffer, as the upload pipeline does: copies each chunk in, then encrypts or decrypts it in
/// place. Appends the results to `out` if there is one.
fn by_chunks(
    c: &StreamCipher,
    input: &[u8],
    decrypt: bool,
    buf: &mut Vec<u8>,
    mut out: Option<&mut Vec<u8>>,
) {
    let size = CHUNK_SIZE + if decrypt { TAG_SIZE } else { 0 };
    let count = input.len().div_ceil(size);
    for (index, piece) in input.chunks(size).enumerate() {
        let (index, last) = (index as u64, index + 1 == count);
        buf.clear();
        buf.extend_from_slice(piece);
        match decrypt {
            false => c.encrypt_chunk(index, last, buf).unwrap(),
            true => c.decrypt_chunk(index, last, buf).unwrap(),
        }
        match out.as_deref_mut() {
            Some(out) => out.extend_from_slice(buf),
            None => drop(black_box(&mut *buf)),
        }
    }
}

fn main() {
    let mib = env_or("VAULT_BENCH_MIB", 64);
    let reps = env_or("VAULT_BENCH_REPS", 7);
    let mut rng = StdRng::seed_from_u64(0x5EED);
    let mut pt = vec![0u8; mib * CHUNK_SIZE];
    rng.fill(&mut pt[..]);
    let file_key = FileKey::generate(&mut rng);
    let header = StreamHeader::generate(&mut rng);
    let cipher = StreamCipher::new(&file_key, StreamKind::Content, &header);
    let gcm = Aes256Gcm::new(&rng.random::<[u8; 32]>().into());
    let nonce = Nonce::from([7u8; 12]);

    // Raw AES-256-GCM in place. Decryption needs valid tags: re-encrypt before each timed run
    // (a tag failure would leave `raw` encrypted, which the assert below catches).
    let mut raw = pt.clone();
    let seal = |buf: &mut [u8]| -> Vec<Tag> {
        let seal = |p: &mut [u8]| gcm.encrypt_inout_detached(&nonce, &[], p.into()).unwrap();
        buf.chunks_mut(CHUNK_SIZE).map(seal).collect()
    };
    let open = |(p, tag): (&mut [u8], &Tag)| gcm.decrypt_inout_detached(&nonce, &[], p.into(), tag);
    let raw_enc = bench(reps, || seal(&mut raw));
    let raw_dec = median(reps, || {
        raw.copy_from_slice(&pt);
        let tags = seal(&mut raw);
        time(|| raw.chunks_mut(CHUNK_SIZE).zip(&tags).try_for_each(open))
    });
    assert!(raw == pt);

    // The stream on one thread: whole buffers, then chunk by chunk through one buffer.
    let ct = cipher.encrypt(&pt);
    assert!(cipher.decrypt(&ct).unwrap() == pt);
    let (mut buf, mut out) = (Vec::with_capacity(ENCRYPTED_CHUNK_SIZE), Vec::new());
    by_chunks(&cipher, &pt, false, &mut buf, Some(&mut out));
    assert!(out == ct);
    out.clear();
    by_chunks(&cipher, &ct, true, &mut buf, Some(&mut out));
    assert!(out == pt);
    let enc = bench(reps, || cipher.encrypt(black_box(&pt)));
    let dec = bench(reps, || cipher.decrypt(black_box(&ct)));
    // One pass into a reused output buffer: what a pipeline that keeps its buffers does.
    let (mut ct_buf, mut pt_buf) = (Vec::new(), Vec::new());
    let enc_into = bench(reps, || cipher.encrypt_into(black_box(&pt), &mut ct_buf));
    let dec_into = bench(reps, || {
        cipher.decrypt_into(black_box(&ct), &mut pt_buf).unwrap()
    });
    assert!(ct_buf == ct && pt_buf == pt);
    let enc_chunk = bench(reps, || by_chunks(&cipher, &pt, false, &mut buf, None));
    let dec_chunk = bench(reps, || by_chunks(&cipher, &ct, true, &mut buf, None));

    // (name, median time, raw baseline of the same direction)
    #[cfg_attr(not(feature = "parallel"), allow(unused_mut))]
    let mut rows = vec![
        ("raw AES-256-GCM encrypt", raw_enc, raw_enc),
        ("raw AES-256-GCM decrypt", raw_dec, raw_dec),
        ("stream encrypt (1 thread)", enc, raw_enc),
        ("stream decrypt (1 thread)", dec, raw_dec),
        ("encrypt_into, reused buffer", enc_into, raw_enc),
        ("decrypt_into, reused buffer", dec_into, raw_dec),
        ("encrypt_chunk (1 thread)", enc_chunk, raw_enc),
        ("decrypt_chunk (1 thread)", dec_chunk, raw_dec),
    ];
    #[cfg(feature = "parallel")]
    let threads = {
        assert!(cipher.encrypt_parallel(&pt) == ct);
        assert!(cipher.decrypt_parallel(&ct).unwrap() == pt);
        let enc = bench(reps, || cipher.encrypt_parallel(black_box(&pt)));
        let dec = bench(reps, || cipher.decrypt_parallel(black_box(&ct)));
        rows.push(("stream encrypt_parallel", enc, raw_enc));
        rows.push(("stream decrypt_parallel", dec, raw_dec));
        let (mut ct_buf, mut pt_buf) = (Vec::new(), Vec::new());
        let enc = bench(reps, || {
            cipher.encrypt_parallel_into(black_box(&pt), &mut ct_buf)
        });
        let dec = bench(reps, || {
            cipher
                .decrypt_parallel_into(black_box(&ct), &mut pt_buf)
                .unwrap()
        });
        assert!(ct_buf == ct && pt_buf == pt);
        rows.push(("parallel _into, reused buffer", enc, raw_enc));
        rows.push(("parallel _into, reused buffer", dec, raw_dec));
        rayon::current_num_threads().to_string()
    };
    #[cfg(not(feature = "parallel"))]
    let threads = "none (feature `parallel` off)";

    println!("{mib} MiB, median of {reps} runs after a warm-up; rayon threads: {threads}\n");
    println!("{:29}      median      GiB/s     vs raw", "");
    let gib = pt.len() as f64 / (1u64 << 30) as f64;
    for (name, t, base) in rows {
        let (ms, speed) = (t.as_secs_f64() * 1e3, gib / t.as_secs_f64());
        let ratio = base.as_secs_f64() / t.as_secs_f64();
        println!("{name:<29} {ms:>8.2} ms {speed:>10.2} {ratio:>9.2}x");
    }
}
