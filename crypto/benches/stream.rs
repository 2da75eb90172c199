//! Throughput of STREAM content encryption against raw AES-256-GCM, in one run.
//!
//! On 64 MiB of random data it measures:
//! - raw: `Aes256Gcm::{encrypt,decrypt}_inout_detached` in place over 1 MiB pieces on one
//!   thread, with one fixed nonce (a baseline only: never reuse a nonce for real);
//! - `StreamCipher::{encrypt, decrypt}` on one thread (slice in, fresh `Vec` out);
//! - `StreamCipher::{encrypt,decrypt}_chunk` through one reused buffer, as the upload
//!   pipeline does (each chunk copied into the buffer, then processed in place);
//! - `StreamCipher::{encrypt,decrypt}_parallel` on rayon's pool (feature `parallel`).
//!
//! Each is run once to warm up, then timed `VAULT_BENCH_REPS` times (default 7). The table
//! shows the median in GiB/s and as a ratio to the raw baseline of the same direction.
//! Every path is checked once to round-trip, so a broken cipher cannot look fast.
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
use rand::{Rng, SeedableRng};
use vault_crypto::{
    CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, FileKey, StreamCipher, StreamHeader, StreamKind,
};

/// A positive integer from the environment variable `name`, or `default` if it is unset.
fn env_or(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("{name}={v}: not a positive integer")),
        Err(_) => default,
    }
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

/// Feeds `input` in pieces of `size` bytes through one reused buffer: copies each in, applies
/// `op(index, last, buf)` in place, then hands the result to `sink`.
fn by_chunks(
    input: &[u8],
    size: usize,
    buf: &mut Vec<u8>,
    op: impl Fn(u64, bool, &mut Vec<u8>),
    mut sink: impl FnMut(&[u8]),
) {
    let count = input.len().div_ceil(size);
    for (index, piece) in input.chunks(size).enumerate() {
        buf.clear();
        buf.extend_from_slice(piece);
        op(index as u64, index + 1 == count, buf);
        sink(buf);
    }
}

fn main() {
    let mib = env_or("VAULT_BENCH_MIB", 64);
    let reps = env_or("VAULT_BENCH_REPS", 7);
    let mut rng = StdRng::seed_from_u64(0x5EED);
    let mut plaintext = vec![0u8; mib * CHUNK_SIZE];
    rng.fill_bytes(&mut plaintext);
    let cipher = StreamCipher::new(
        &FileKey::generate(&mut rng),
        StreamKind::Content,
        &StreamHeader::generate(&mut rng),
    );
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let aead = Aes256Gcm::new(&key.into());
    let nonce = Nonce::from([7u8; 12]);

    // Raw AES-256-GCM, in place. Decryption needs valid tags: re-encrypt before each timed run.
    let mut buf = plaintext.clone();
    let raw_seal = |buf: &mut [u8]| -> Vec<Tag> {
        let seal = |p: &mut [u8]| aead.encrypt_inout_detached(&nonce, &[], p.into()).unwrap();
        buf.chunks_mut(CHUNK_SIZE).map(seal).collect()
    };
    let raw_enc = median(reps, || time(|| raw_seal(&mut buf)));
    let raw_dec = median(reps, || {
        buf.copy_from_slice(&plaintext);
        let tags = raw_seal(&mut buf);
        time(|| {
            for (piece, tag) in buf.chunks_mut(CHUNK_SIZE).zip(&tags) {
                aead.decrypt_inout_detached(&nonce, &[], piece.into(), tag)
                    .expect("raw tag");
            }
        })
    });
    assert!(buf == plaintext, "raw AES-GCM does not round-trip");

    // The stream, one thread: whole buffers, then chunk by chunk through one buffer.
    let ct = cipher.encrypt(&plaintext);
    assert!(
        cipher.decrypt(&ct).expect("stream decrypts") == plaintext,
        "stream does not round-trip"
    );
    let mut chunk = Vec::with_capacity(ENCRYPTED_CHUNK_SIZE);
    let enc_op = |i, last, b: &mut Vec<u8>| cipher.encrypt_chunk(i, last, b).expect("valid chunk");
    let dec_op =
        |i, last, b: &mut Vec<u8>| cipher.decrypt_chunk(i, last, b).expect("authentic chunk");
    let mut joined = Vec::new();
    by_chunks(&plaintext, CHUNK_SIZE, &mut chunk, enc_op, |c| {
        joined.extend_from_slice(c)
    });
    assert!(joined == ct, "encrypt_chunk differs from encrypt");
    joined.clear();
    by_chunks(&ct, ENCRYPTED_CHUNK_SIZE, &mut chunk, dec_op, |c| {
        joined.extend_from_slice(c)
    });
    assert!(joined == plaintext, "decrypt_chunk does not round-trip");

    let mut rows = vec![
        ("raw AES-256-GCM encrypt", raw_enc, raw_enc),
        ("raw AES-256-GCM decrypt", raw_dec, raw_dec),
        (
            "stream encrypt (1 thread)",
            median(reps, || time(|| cipher.encrypt(black_box(&plaintext)))),
            raw_enc,
        ),
        (
            "stream decrypt (1 thread)",
            median(reps, || time(|| cipher.decrypt(black_box(&ct)).unwrap())),
            raw_dec,
        ),
    ];
    let sink = |c: &[u8]| {
        black_box(c);
    };
    let enc = median(reps, || {
        time(|| by_chunks(&plaintext, CHUNK_SIZE, &mut chunk, enc_op, sink))
    });
    rows.push(("encrypt_chunk (1 thread)", enc, raw_enc));
    let dec = median(reps, || {
        time(|| by_chunks(&ct, ENCRYPTED_CHUNK_SIZE, &mut chunk, dec_op, sink))
    });
    rows.push(("decrypt_chunk (1 thread)", dec, raw_dec));

    // EXPERIMENTS (temporary)
    let n = plaintext.len();
    let mut hot = vec![1u8; n + n / CHUNK_SIZE * 16];
    rows.push((
        "X fresh Vec + copy",
        median(reps, || {
            time(|| {
                let mut v = Vec::with_capacity(n + n / CHUNK_SIZE * 16);
                v.extend_from_slice(&plaintext);
                v
            })
        }),
        raw_enc,
    ));
    rows.push((
        "X copy into hot buf",
        median(reps, || {
            time(|| hot[..n].copy_from_slice(black_box(&plaintext)))
        }),
        raw_enc,
    ));
    rows.push((
        "X fresh vec![0] + touch",
        median(reps, || {
            time(|| {
                let mut v = vec![0u8; n];
                for p in v.chunks_mut(4096) {
                    p[0] = 1;
                }
                v
            })
        }),
        raw_enc,
    ));
    let oop = |src: &[u8], dst: &mut [u8]| {
        for (i, (s, d)) in src
            .chunks(CHUNK_SIZE)
            .zip(dst.chunks_mut(CHUNK_SIZE + 16))
            .enumerate()
        {
            let (body, tag) = d.split_at_mut(s.len());
            let t = aead
                .encrypt_inout_detached(
                    &Nonce::from([i as u8; 12]),
                    &[],
                    aes_gcm::aead::inout::InOutBuf::new(s, body).unwrap(),
                )
                .unwrap();
            tag.copy_from_slice(&t);
        }
    };
    rows.push((
        "X out-of-place into hot",
        median(reps, || time(|| oop(&plaintext, &mut hot))),
        raw_enc,
    ));
    rows.push((
        "X out-of-place into fresh",
        median(reps, || {
            time(|| {
                let mut v = vec![0u8; n + n / CHUNK_SIZE * 16];
                oop(&plaintext, &mut v);
                v
            })
        }),
        raw_enc,
    ));
    rows.push((
        "X copy+inplace into hot",
        median(reps, || {
            time(|| {
                for (s, d) in plaintext
                    .chunks(CHUNK_SIZE)
                    .zip(hot.chunks_mut(CHUNK_SIZE + 16))
                {
                    let b = &mut d[..s.len()];
                    b.copy_from_slice(s);
                    black_box(aead.encrypt_inout_detached(&nonce, &[], b.into()).unwrap());
                }
            })
        }),
        raw_enc,
    ));

    let count = plaintext.chunks(CHUNK_SIZE).len();
    rows.push((
        "X encrypt_chunk fresh to_vec",
        median(reps, || {
            time(|| {
                for (i, p) in plaintext.chunks(CHUNK_SIZE).enumerate() {
                    let mut b = p.to_vec();
                    cipher
                        .encrypt_chunk(i as u64, i + 1 == count, &mut b)
                        .unwrap();
                    black_box(&b);
                }
            })
        }),
        raw_enc,
    ));
    rows.push((
        "X encrypt_chunk fresh cap+16",
        median(reps, || {
            time(|| {
                for (i, p) in plaintext.chunks(CHUNK_SIZE).enumerate() {
                    let mut b = Vec::with_capacity(CHUNK_SIZE + 16);
                    b.extend_from_slice(p);
                    cipher
                        .encrypt_chunk(i as u64, i + 1 == count, &mut b)
                        .unwrap();
                    black_box(&b);
                }
            })
        }),
        raw_enc,
    ));

    #[cfg(feature = "parallel")]
    let threads = {
        assert!(
            cipher.encrypt_parallel(&plaintext) == ct,
            "encrypt_parallel differs from encrypt"
        );
        assert!(
            cipher.decrypt_parallel(&ct).expect("decrypts") == plaintext,
            "decrypt_parallel differs"
        );
        let enc = median(reps, || {
            time(|| cipher.encrypt_parallel(black_box(&plaintext)))
        });
        rows.push(("stream encrypt_parallel", enc, raw_enc));
        let dec = median(reps, || {
            time(|| cipher.decrypt_parallel(black_box(&ct)).unwrap())
        });
        rows.push(("stream decrypt_parallel", dec, raw_dec));
        rayon::current_num_threads().to_string()
    };
    #[cfg(not(feature = "parallel"))]
    let threads = "n/a (feature `parallel` off)";

    println!("{mib} MiB, median of {reps} runs after a warm-up; rayon threads: {threads}\n");
    println!(
        "{:<28} {:>10} {:>9} {:>10}",
        "", "median", "GiB/s", "vs raw"
    );
    let gib = plaintext.len() as f64 / (1u64 << 30) as f64;
    for (name, t, base) in rows {
        let ratio = base.as_secs_f64() / t.as_secs_f64();
        println!(
            "{name:<28} {:>7.2} ms {:>9.2} {ratio:>9.2}x",
            t.as_secs_f64() * 1e3,
            gib / t.as_secs_f64()
        );
    }
}
