//! What the replica itself costs in wall-clock time, against baselines in the same run:
//! - a message's cost does not grow with the canister's memory (1 GiB heap and 10 GiB stable
//!   memory against 1 MiB and none): rollback and checkpoints work on touched pages only;
//! - a durable replica (input logged and synced before it runs) against an in-memory one,
//!   for 1 MiB stable writes, and the time to reopen (checkpoint + replay).
//!
//! `cargo bench -p local-replica --bench replica_costs`

use std::time::{Duration, Instant};

use candid::Principal;
use local_replica::{InstallMode, Replica};

/// `touch`: writes its 8-byte argument at heap offset 1000 and at stable offset (size - 8);
/// `grow`: grows the heap and stable memory by the pages in its 16-byte argument;
/// `write`: writes its argument at stable offset 0.
const PROBE: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_size" (func $ssize (result i64)))
  (import "ic0" "stable64_grow" (func $sgrow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $swrite (param i64 i64 i64)))
  (memory (export "memory") 17)
  (func (export "canister_update touch")
    (call $arg_copy (i32.const 1000) (i32.const 0) (i32.const 8))
    (i64.store (i32.const 2000) (i64.add (i64.load (i32.const 2000)) (i64.const 1)))
    (if (i64.ne (call $ssize) (i64.const 0))
      (then (call $swrite (i64.sub (i64.mul (call $ssize) (i64.const 65536)) (i64.const 8))
                          (i64.const 1000) (i64.const 8))))
    (call $reply))
  (func (export "canister_update grow")
    (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 16))
    (drop (memory.grow (i32.wrap_i64 (i64.load (i32.const 0)))))
    (drop (call $sgrow (i64.load (i32.const 8))))
    (call $reply))
  (func (export "canister_update write") (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 0) (i32.const 0) (local.get $n))
    (if (i64.eqz (call $ssize)) (then (drop (call $sgrow (i64.const 32)))))
    (call $swrite (i64.const 0) (i64.const 0) (i64.extend_i32_u (local.get $n)))
    (call $reply))
)
"#;

const T0: u64 = 1_700_000_000_000_000_000;

fn me() -> Principal {
    Principal::from_slice(&[7; 29])
}

fn probe(r: &mut Replica) -> Principal {
    let id = r.create_canister(vec![me()]).unwrap();
    r.install_code(
        me(),
        id,
        InstallMode::Install,
        &wat::parse_str(PROBE).unwrap(),
        &[],
    )
    .unwrap();
    id
}

/// Median wall-clock time of `n` runs of `f`.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[n / 2]
}

fn touch_time(heap_pages: u64, stable_pages: u64) -> Duration {
    let mut r = Replica::new(T0).unwrap();
    let id = probe(&mut r);
    let mut grow = heap_pages.to_le_bytes().to_vec();
    grow.extend_from_slice(&stable_pages.to_le_bytes());
    r.update_call(me(), id, "grow", &grow).unwrap();
    median(3001, || {
        r.update_call(me(), id, "touch", &[1; 8]).unwrap();
    })
}

fn main() {
    println!(
        "wall clock per message (median of 3001), a message that touches one heap page and one stable page:"
    );
    let small = touch_time(0, 1);
    let large = touch_time(16_384 - 17, 10 * 16_384);
    println!("  1 MiB heap, 64 KiB stable   {small:>10.1?}");
    println!(
        "  1 GiB heap, 10 GiB stable   {large:>10.1?}   {:.2}x",
        large.as_secs_f64() / small.as_secs_f64()
    );

    let chunk = vec![0x5a; 1 << 20];
    const CHUNKS: usize = 64;
    let mut r = Replica::new(T0).unwrap();
    let id = probe(&mut r);
    let memory = median(CHUNKS, || {
        r.update_call(me(), id, "write", &chunk).unwrap();
    });
    let dir = std::env::temp_dir().join(format!("local-replica-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut r = Replica::open(&dir, T0).unwrap();
    let id = probe(&mut r);
    let durable = median(CHUNKS, || {
        r.update_call(me(), id, "write", &chunk).unwrap();
    });
    println!("1 MiB stable write (median of {CHUNKS}):");
    println!(
        "  in memory                   {memory:>10.1?}   {:.0} MiB/s",
        1.0 / memory.as_secs_f64()
    );
    println!(
        "  durable (logged, synced)    {durable:>10.1?}   {:.0} MiB/s   {:.2}x",
        1.0 / durable.as_secs_f64(),
        durable.as_secs_f64() / memory.as_secs_f64()
    );
    drop(r);
    let start = Instant::now();
    let r = Replica::open(&dir, T0).unwrap();
    let replay = start.elapsed();
    let mut r = r;
    let start = Instant::now();
    r.checkpoint().unwrap();
    let checkpoint = start.elapsed();
    drop(r);
    let start = Instant::now();
    Replica::open(&dir, T0).unwrap();
    let reopen = start.elapsed();
    println!("  reopen, replaying {CHUNKS} MiB of log  {replay:>10.1?}");
    println!("  checkpoint of that          {checkpoint:>10.1?}");
    println!("  reopen from the checkpoint  {reopen:>10.1?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
