//! How fast the `model` target runs (or any other, by name): every file of its seed corpus and
//! fixed crashes through it, `ROUNDS` times, then executions per second; and the cost of a
//! fresh state alone. Build it as the fuzzer does (optimised, debug assertions on):
//!
//!     CARGO_TARGET_DIR=/work/tgt/fuzz RUSTFLAGS="-C debug-assertions" \
//!         cargo run --release -p vault-fuzz --example model_speed [target] [rounds]
//!
//! Further arguments name directories to read inputs from instead (a corpus a run grew, say).
//! (`perf record` on the binary then says where the time goes.)

use std::path::{Path, PathBuf};
use std::time::Instant;

use candid::Principal;
use serde_bytes::ByteBuf;
use vault_canister::model::types::*;
use vault_crypto::{CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, STREAM_HEADER_SIZE, WRAPPED_KEY_SIZE};
use vault_fuzz::model::{Call, apply_checked, fresh_state};

/// Nanoseconds this thread has run on a CPU (Linux), so that a figure taken beside other work
/// counts only this work's time; `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "model".into());
    let rounds: usize = args
        .next()
        .map_or(200, |r| r.parse().expect("a number of rounds"));
    let (_, target) = vault_fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no target {name}"));
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if dirs.is_empty() {
        dirs = vec![
            fuzz.join("corpus").join(&name),
            fuzz.join("artifacts").join(&name),
        ];
    }
    let paths: Vec<PathBuf> = dirs.iter().flat_map(|d| vault_fuzz::inputs(d)).collect();
    let data: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("a readable input"))
        .collect();

    // Once per process (secrets, base vault): not counted.
    let start = Instant::now();
    target(&[]);
    println!("first call (process setup): {:?}", start.elapsed());

    if name == "model" {
        full_vault(rounds);
        let start = Instant::now();
        for _ in 0..rounds * data.len() {
            std::hint::black_box(vault_fuzz::model::fresh_state());
        }
        let each = start.elapsed() / (rounds * data.len()) as u32;
        println!("fresh_state: {each:?} each");
    }

    let mut per_input = vec![std::time::Duration::ZERO; data.len()];
    let start = Instant::now();
    let cpu = cpu_ns();
    for _ in 0..rounds {
        for (d, t) in data.iter().zip(&mut per_input) {
            let one = Instant::now();
            target(d);
            *t += one.elapsed();
        }
    }
    let total = start.elapsed();
    let cpu = cpu_ns().zip(cpu).map(|(b, a)| (b - a) as f64 / 1e9);
    let runs = rounds * data.len();
    if data.len() <= 20 {
        for (d, t) in data.iter().zip(&per_input) {
            println!("  {:5} bytes: {:?} each", d.len(), *t / rounds as u32);
        }
    } else {
        println!("  {} inputs; the slowest:", data.len());
        let mut order: Vec<usize> = (0..data.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(per_input[i]));
        for &i in order.iter().take(3) {
            println!(
                "  {:?} each: {}",
                per_input[i] / rounds as u32,
                paths[i].display()
            );
        }
    }
    println!(
        "{name}: {runs} executions in {:.2} s: {:.0} exec/s",
        total.as_secs_f64(),
        runs as f64 / total.as_secs_f64()
    );
    if let Some(cpu) = cpu {
        println!(
            "{name}: {cpu:.2} s on a CPU: {:.0} exec per CPU second",
            runs as f64 / cpu
        );
    }
}

/// A blob of `len` bytes starting with format version 1.
fn versioned(len: usize) -> ByteBuf {
    let mut b = vec![3; len];
    b[0] = 1;
    ByteBuf::from(b)
}

/// What a long run reaches and the corpus seldom holds: a vault with three megabytes of chunks,
/// then 40 updates that are refused (a stranger sets the quota) and 8 queries, each checked as
/// the target checks them.
fn full_vault(rounds: usize) {
    let owner = Principal::from_slice(&[1; 29]);
    let stranger = Principal::from_slice(&[4; 29]);
    let t0 = 1_700_000_000_000_000_000u64;
    let file = ByteBuf::from(vec![0x10; 16]);
    let rounds = rounds.div_ceil(10);
    let start = Instant::now();
    for _ in 0..rounds {
        let mut s = fresh_state();
        let mut now = t0;
        let mut call = |who: &Principal, c: Call| {
            now += 1_000_000_000;
            apply_checked(&mut s, who, now, c);
        };
        call(
            &owner,
            Call::BeginUpload(BeginUploadArgs {
                file_id: file.clone(),
                size: 3 * CHUNK_SIZE as u64,
                content_header: versioned(STREAM_HEADER_SIZE),
                wrapped_key: versioned(WRAPPED_KEY_SIZE),
                album: None,
                key_version: 0,
                metadata: versioned(200),
                thumbnail: Some(versioned(300)),
                dedupe_hash: None,
                sort_key: 0,
            }),
        );
        for index in 0..3 {
            call(
                &owner,
                Call::PutChunk(PutChunkArgs {
                    file_id: file.clone(),
                    index,
                    data: ByteBuf::from(vec![7; ENCRYPTED_CHUNK_SIZE]),
                }),
            );
        }
        call(&owner, Call::CommitUpload(file.clone()));
        for n in 0..48 {
            if n % 6 == 5 {
                call(&owner, Call::VaultInfo);
            } else {
                call(&stranger, Call::SetQuota(1));
            }
        }
    }
    let each = start.elapsed() / rounds as u32;
    println!(
        "full vault (3 MiB of chunks, 48 calls): {each:?} each, {:.0} per second",
        1.0 / each.as_secs_f64()
    );
}
