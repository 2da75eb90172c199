//! What the HTTP interface costs on top of executing a message, against baselines measured in
//! the same run: the same echo canister called in process (`Replica::update_call` /
//! `query_call`) and through the server by an unmodified ic-agent, which signs each request and
//! verifies each certificate (BLS) and query signature (Ed25519). The server is in memory so
//! the figures are the HTTP layer's, not the disk's (`replica_costs` measures durability).
//!
//! `cargo bench -p local-replica --bench http_costs`

use std::time::{Duration, Instant};

use candid::{Encode, Principal};
use ic_agent::Agent;
use ic_agent::identity::BasicIdentity;
use ic_management_canister_types::{
    CanisterIdRecord, CanisterInstallMode, InstallCodeArgs, ProvisionalCreateCanisterWithCyclesArgs,
};
use local_replica::certify::{ReplicaKeys, StateTree};
use local_replica::server::{Config, Server};
use local_replica::{InstallMode, Replica, canister_id};
use rand::SeedableRng;

/// `echo`, as an update and as a query: replies with its argument; `take` copies its argument
/// in and replies with 8 bytes (an upload's shape).
const ECHO: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (memory 40)
  (func $echo (local $n i32)
    (local.set $n (call $size))
    (call $copy (i32.const 0) (i32.const 0) (local.get $n))
    (call $append (i32.const 0) (local.get $n))
    (call $reply))
  (export "canister_update echo" (func $echo))
  ;; An upload's shape: a large argument in, a small reply out.
  (func (export "canister_update take")
    (call $copy (i32.const 0) (i32.const 0) (call $size))
    (call $append (i32.const 0) (i32.const 8))
    (call $reply))
  (export "canister_query echo_query" (func $echo))
)
"#;

const T0: u64 = 1_700_000_000_000_000_000;

fn per_call(runs: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed() / runs
}

async fn per_call_async<F: std::future::Future<Output = ()>>(
    runs: u32,
    mut f: impl FnMut() -> F,
) -> Duration {
    f().await;
    let start = Instant::now();
    for _ in 0..runs {
        f().await;
    }
    start.elapsed() / runs
}

fn in_process(chunk: &[u8]) -> (Duration, Duration, Duration) {
    let me = Principal::from_slice(&[7; 29]);
    let mut r = Replica::new(T0).unwrap();
    let id = r.create_canister(vec![me]).unwrap();
    let wasm = wat::parse_str(ECHO).unwrap();
    r.install_code(me, id, InstallMode::Install, &wasm, &[])
        .unwrap();
    let update = per_call(20, || {
        r.update_call(me, id, "echo", chunk).unwrap();
    });
    let take = per_call(20, || {
        r.update_call(me, id, "take", chunk).unwrap();
    });
    let query = per_call(200, || {
        r.query_call(me, id, "echo_query", b"small").unwrap();
    });
    (update, take, query)
}

fn main() {
    let chunk = vec![0x5a; 1 << 20];
    let (update_baseline, take_baseline, query_baseline) = in_process(&chunk);

    // Certifying alone: one BLS signature over a small witness.
    let keys = ReplicaKeys::generate(&mut rand::rngs::StdRng::seed_from_u64(1));
    let tree = StateTree::new(T0);
    let certify = per_call(50, || {
        keys.subnet.certify(tree.witness(&[[b"time"]]));
    });

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = Server::bind(Config::local(0, None)).await.unwrap();
        let url = server.url();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let identity = BasicIdentity::from_raw_key(&[3; 32]);
        let agent = Agent::builder()
            .with_url(&url)
            .with_identity(identity)
            .build()
            .unwrap();
        agent.fetch_root_key().await.unwrap();
        let management = Principal::management_canister();
        let created = agent
            .update(&management, "provisional_create_canister_with_cycles")
            .with_effective_canister_id(canister_id(0))
            .with_arg(
                Encode!(&ProvisionalCreateCanisterWithCyclesArgs {
                    amount: None,
                    settings: None,
                    specified_id: None,
                    sender_canister_version: None,
                })
                .unwrap(),
            )
            .await
            .unwrap();
        let id = candid::decode_one::<CanisterIdRecord>(&created)
            .unwrap()
            .canister_id;
        agent
            .update(&management, "install_code")
            .with_effective_canister_id(id)
            .with_arg(
                Encode!(&InstallCodeArgs {
                    mode: CanisterInstallMode::Install,
                    canister_id: id,
                    wasm_module: wat::parse_str(ECHO).unwrap(),
                    arg: vec![],
                    sender_canister_version: None,
                })
                .unwrap(),
            )
            .await
            .unwrap();
        let update = per_call_async(20, || async {
            let reply = agent
                .update(&id, "echo")
                .with_arg(chunk.clone())
                .await
                .unwrap();
            assert_eq!(reply.len(), chunk.len());
        })
        .await;
        let take = per_call_async(20, || async {
            let reply = agent
                .update(&id, "take")
                .with_arg(chunk.clone())
                .await
                .unwrap();
            assert_eq!(reply.len(), 8);
        })
        .await;
        let query = per_call_async(200, || async {
            agent
                .query(&id, "echo_query")
                .with_arg(b"small".to_vec())
                .await
                .unwrap();
        })
        .await;
        let _ = stop.send(());
        serving.await.unwrap().unwrap();

        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!("HTTP interface costs (ic-agent 0.49, verification on; in-memory replica)");
        println!(
            "  1 MiB echoed: {:>8.2} ms through HTTP vs {:>8.2} ms in process ({:.2}x); {:.0} MiB/s",
            update.as_secs_f64() * 1e3,
            update_baseline.as_secs_f64() * 1e3,
            ratio(update, update_baseline),
            1.0 / update.as_secs_f64()
        );
        println!(
            "  1 MiB in, 8 bytes out (an upload): {:>8.2} ms through HTTP vs {:>8.2} ms in process ({:.2}x); {:.0} MiB/s",
            take.as_secs_f64() * 1e3,
            take_baseline.as_secs_f64() * 1e3,
            ratio(take, take_baseline),
            1.0 / take.as_secs_f64()
        );
        println!(
            "  small query:  {:>8.3} ms through HTTP vs {:>8.3} ms in process ({:.1}x)",
            query.as_secs_f64() * 1e3,
            query_baseline.as_secs_f64() * 1e3,
            ratio(query, query_baseline)
        );
        println!(
            "  one certificate (BLS signature): {:.3} ms",
            certify.as_secs_f64() * 1e3
        );
    });
}
