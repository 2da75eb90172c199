//! Other IC agents than ic-agent work unchanged against `local-replica start`: the real binary
//! serves, ic-agent creates and installs a canister over HTTP, then
//! - the JS agent (`@icp-sdk/core`, in node): `tests/js/agent.test.mjs` calls it with every
//!   identity kind the JS package offers, verifying certificates and query signatures under the
//!   root key it fetched, and calls a few methods of the real vault canister
//!   (`target/canister/vault.wasm.gz`, from `scripts/build-canister`);
//! - the Python agent (`ic-py`): `tests/py/agent_test.py`, through the older `/api/v2` endpoints.
//!
//! Needs `node` and `npm` (`tests/js/node_modules` is installed with `npm ci` when missing) and
//! ic-py (`tests/py/requirements.txt`), which `scripts/test-all` installs in `tests/py/.venv`.

mod process;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use candid::{Decode, Encode, Principal};
use ic_agent::Agent;
use ic_agent::identity::BasicIdentity;
use ic_management_canister_types::{
    CanisterIdRecord, CanisterInstallMode, InstallCodeArgs, ProvisionalCreateCanisterWithCyclesArgs,
};
use process::{Foreground, fresh_dir};
use sha2::{Digest, Sha256};
use vault_test_support::replica::{init_arg, vault_wasm};

/// The canister the JS script calls: who called, an echo, and a trap.
const WHOAMI: &str = r#"
(module
  (import "ic0" "msg_caller_size" (func $caller_size (result i32)))
  (import "ic0" "msg_caller_copy" (func $caller_copy (param i32 i32 i32)))
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (memory 1)
  ;; Candid for one principal: DIDL, no types, one arg of type principal (-24), a reference.
  (data (i32.const 0) "DIDL\00\01\68\01")
  (data (i32.const 100) "no entry")
  (func $whoami
    (i32.store8 (i32.const 8) (call $caller_size))
    (call $caller_copy (i32.const 9) (i32.const 0) (call $caller_size))
    (call $append (i32.const 0) (i32.add (i32.const 9) (call $caller_size)))
    (call $reply))
  ;; (text) -> (text): the argument is the answer.
  (func $echo
    (call $arg_copy (i32.const 1024) (i32.const 0) (call $arg_size))
    (call $append (i32.const 1024) (call $arg_size))
    (call $reply))
  (func $fail (call $trap (i32.const 100) (i32.const 8)))
  (export "canister_update whoami" (func $whoami))
  (export "canister_query whoami_query" (func $whoami))
  (export "canister_update echo" (func $echo))
  (export "canister_query echo_query" (func $echo))
  (export "canister_update fail" (func $fail)))
"#;

/// The Ed25519 seed of the identity that creates the canisters and owns the vault.
const OWNER_SEED: [u8; 32] = [7; 32];

const CANDID: &str = "service : {
  whoami : () -> (principal);
  whoami_query : () -> (principal) query;
  echo : (text) -> (text);
  echo_query : (text) -> (text) query;
  fail : () -> ();
}";

/// [`WHOAMI`] with its interface as public `candid:service` metadata.
fn whoami_wasm() -> Vec<u8> {
    let mut wasm = wat::parse_str(WHOAMI).expect("the canister's WAT parses");
    let name = "icp:public candid:service";
    let mut payload = leb(name.len());
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(CANDID.as_bytes());
    wasm.push(0); // a custom section
    wasm.extend(leb(payload.len()));
    wasm.extend(payload);
    wasm
}

fn leb(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// `npm ci` in tests/js unless its node_modules is there (scripts/test-all installs it first).
fn install_js_packages() {
    let dir = js_dir();
    if dir.join("node_modules/@icp-sdk/core/package.json").exists() {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm (Node.js is needed for this test): {e}"));
    assert!(
        out.status.success(),
        "npm ci in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Creates a canister controlled by the agent's identity and installs `wasm` in it with `arg`,
/// over HTTP.
async fn create_and_install(agent: &Agent, wasm: Vec<u8>, arg: Vec<u8>) -> Principal {
    let create = ProvisionalCreateCanisterWithCyclesArgs {
        amount: None,
        settings: None,
        specified_id: None,
        sender_canister_version: None,
    };
    let reply = agent
        .update(
            &Principal::management_canister(),
            "provisional_create_canister_with_cycles",
        )
        // Any canister id will do for this method.
        .with_effective_canister_id(local_replica::canister_id(0))
        .with_arg(Encode!(&create).unwrap())
        .call_and_wait()
        .await
        .expect("provisional_create_canister_with_cycles");
    let canister_id = Decode!(&reply, CanisterIdRecord).unwrap().canister_id;
    let install = InstallCodeArgs {
        mode: CanisterInstallMode::Install,
        canister_id,
        wasm_module: wasm,
        arg,
        sender_canister_version: None,
    };
    agent
        .update(&Principal::management_canister(), "install_code")
        .with_effective_canister_id(canister_id)
        .with_arg(Encode!(&install).unwrap())
        .call_and_wait()
        .await
        .expect("install_code");
    canister_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_js_agent_works_unchanged() {
    install_js_packages();
    let dir = fresh_dir("js-agent");
    let mut replica = Foreground::start(&dir, &[]);

    let controller = BasicIdentity::from_raw_key(&OWNER_SEED);
    let controller_principal = ic_agent::Identity::sender(&controller).unwrap();
    let agent = Agent::builder()
        .with_url(replica.url.clone())
        .with_identity(controller)
        .build()
        .unwrap();
    agent
        .fetch_root_key()
        .await
        .expect("the status endpoint answers");
    assert_eq!(
        hex::encode(agent.read_root_key()),
        replica.root_key,
        "the root key /api/v2/status gives is the one `start` printed"
    );
    let wasm = whoami_wasm();
    let module_hash = hex::encode(Sha256::digest(&wasm));
    let canister = create_and_install(&agent, wasm, Encode!().unwrap()).await;
    // The vault, gzipped as scripts/build-canister leaves it, owned by the controller (whose key
    // the script rebuilds from the same seed).
    let vault = create_and_install(&agent, vault_wasm(), init_arg(controller_principal)).await;

    let script = js_dir().join("agent.test.mjs");
    let mut node = Command::new("node");
    node.arg(&script)
        .arg(&replica.url)
        .arg(canister.to_text())
        .env("ROOT_KEY", &replica.root_key)
        .env("CONTROLLER", controller_principal.to_text())
        .env("MODULE_HASH", &module_hash)
        .env("CANDID", CANDID)
        .env("VAULT_ID", vault.to_text())
        .env("OWNER_ED25519_SEED", hex::encode(OWNER_SEED))
        .current_dir(js_dir());
    // node's test runner finishes in seconds; a hang must not hold the suite.
    let stdout = run_agent_script(
        node,
        "node (Node.js is needed for this test)",
        Duration::from_secs(45),
    )
    .await;
    assert!(
        stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "the JS tests ran:\n{stdout}\n--- the replica's stderr ---\n{}",
        replica.stderr()
    );

    let stopped = replica.stop();
    assert!(
        stopped.is_some_and(|s| s.success()),
        "the replica stops cleanly on SIGTERM: {stopped:?}\n{}",
        replica.stderr()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `program args` (at most `timeout`), failing the test with its output unless it exits 0.
async fn run_agent_script(mut command: Command, what: &str, timeout: Duration) -> String {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = what.to_string();
    let (status, stdout, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        let stdout = process::drain(child.stdout.take().unwrap());
        let stderr = process::drain(child.stderr.take().unwrap());
        let status = process::wait_for(&mut child, timeout);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        (status, process::finish(stdout), process::finish(stderr))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    println!("{stdout}");
    assert!(
        status.is_some_and(|s| s.success()),
        "exited with {status:?} (None: killed after {timeout:?}):\n{stdout}\n{}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_agent_works_unchanged() {
    let dir = fresh_dir("py-agent");
    let mut replica = Foreground::start(&dir, &[]);
    let agent = Agent::builder()
        .with_url(replica.url.clone())
        .with_identity(BasicIdentity::from_raw_key(&OWNER_SEED))
        .build()
        .unwrap();
    agent.fetch_root_key().await.unwrap();
    let wasm = whoami_wasm();
    let module_hash = hex::encode(Sha256::digest(&wasm));
    let canister = create_and_install(&agent, wasm, Encode!().unwrap()).await;

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/agent_test.py");
    // scripts/test-all keeps ic-py in its own environment there; else the system's python3.
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/.venv/bin/python3");
    let mut python = Command::new(if venv.exists() {
        venv.as_os_str()
    } else {
        "python3".as_ref()
    });
    python
        .arg(&script)
        .arg(&replica.url)
        .arg(canister.to_text())
        .env("MODULE_HASH", &module_hash);
    let out = run_agent_script(
        python,
        "python3 with ic-py (pip install -r local-replica/tests/py/requirements.txt)",
        Duration::from_secs(60),
    )
    .await;
    assert!(out.contains("all passed") && !out.contains("FAIL"), "{out}");
    assert!(
        replica.stop().is_some_and(|s| s.success()),
        "{}",
        replica.stderr()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
