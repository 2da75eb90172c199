// The JS agent (@icp-sdk/core) against a running local-replica, unchanged: root key fetched from
// /api/v2/status, certificates and query signatures verified (the defaults), every identity kind
// the package offers seeing its own principal in updates and queries.
//
//   node agent.test.mjs <replica url> <canister id>
//
// or REPLICA_URL and CANISTER_ID in the environment. Optional, checked when given: ROOT_KEY (hex
// DER, as `local-replica start` prints it), CONTROLLER (principal text), MODULE_HASH (hex) and
// CANDID (the canister's public `candid:service` metadata); VAULT_ID and OWNER_ED25519_SEED (hex)
// for the vault canister's checks. The canister (installed by
// tests/agents.rs) answers:
//
//   whoami : () -> (principal)            whoami_query : () -> (principal) query
//   echo : (text) -> (text)               echo_query : (text) -> (text) query
//   fail : () -> ()                       (traps with "no entry")
//
// Exits non-zero if any check fails (node's built-in test runner).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Actor,
  AnonymousIdentity,
  CanisterStatus,
  HttpAgent,
} from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import {
  DelegationChain,
  DelegationIdentity,
  ECDSAKeyIdentity,
  Ed25519KeyIdentity,
} from '@icp-sdk/core/identity';
import { Secp256k1KeyIdentity } from '@icp-sdk/core/identity/secp256k1';
import { Principal } from '@icp-sdk/core/principal';

const url = process.argv[2] ?? process.env.REPLICA_URL;
const canisterText = process.argv[3] ?? process.env.CANISTER_ID;
if (!url || !canisterText) {
  console.error('usage: node agent.test.mjs <replica url> <canister id>');
  process.exit(2);
}
const canisterId = Principal.fromText(canisterText);

const idlFactory = ({ IDL }) =>
  IDL.Service({
    whoami: IDL.Func([], [IDL.Principal], []),
    whoami_query: IDL.Func([], [IDL.Principal], ['query']),
    echo: IDL.Func([IDL.Text], [IDL.Text], []),
    echo_query: IDL.Func([IDL.Text], [IDL.Text], ['query']),
    fail: IDL.Func([], [], []),
  });

const hex = (bytes) => Buffer.from(bytes).toString('hex');

/** An agent for `identity` that fetches the root key and verifies everything (the default). */
async function agentFor(identity, options = {}) {
  const agent = await HttpAgent.create({
    host: url,
    identity,
    shouldFetchRootKey: true,
    ...options,
  });
  if (process.env.ROOT_KEY) {
    assert.equal(hex(agent.rootKey), process.env.ROOT_KEY.toLowerCase(), 'the fetched root key');
  }
  return agent;
}

/** Updates and queries as `identity` see `expected` as their caller. */
async function seesItself(identity, expected = identity.getPrincipal()) {
  const agent = await agentFor(identity);
  const actor = Actor.createActor(idlFactory, { agent, canisterId });
  const viaUpdate = await actor.whoami();
  const viaQuery = await actor.whoami_query();
  assert.equal(viaUpdate.toText(), expected.toText(), 'the caller of an update');
  assert.equal(viaQuery.toText(), expected.toText(), 'the caller of a query');
  const text = `héllo from ${expected.toText()} ✓`;
  assert.equal(await actor.echo(text), text, 'an update echoes its argument');
  assert.equal(await actor.echo_query(text), text, 'a query echoes its argument');
  return actor;
}

const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000);

test('the status endpoint gives the root key the agent verifies with', async () => {
  const agent = await agentFor(new AnonymousIdentity());
  const status = await agent.status();
  assert.ok(status.root_key, 'status carries a root key');
  assert.equal(hex(status.root_key), hex(agent.rootKey));
});

test('anonymous', async () => {
  const anonymous = new AnonymousIdentity();
  assert.equal(anonymous.getPrincipal().toText(), '2vxsx-fae');
  await seesItself(anonymous);
});

test('Ed25519KeyIdentity', async () => {
  await seesItself(Ed25519KeyIdentity.generate());
});

test('Secp256k1KeyIdentity', async () => {
  await seesItself(Secp256k1KeyIdentity.generate());
});

test('ECDSAKeyIdentity (P-256, WebCrypto)', async () => {
  await seesItself(await ECDSAKeyIdentity.generate());
});

test('DelegationIdentity: one Ed25519 key delegating to another', async () => {
  const root = Ed25519KeyIdentity.generate();
  const session = Ed25519KeyIdentity.generate();
  const chain = await DelegationChain.create(root, session.getPublicKey(), inAnHour());
  const delegated = DelegationIdentity.fromDelegation(session, chain);
  assert.equal(delegated.getPrincipal().toText(), root.getPrincipal().toText());
  await seesItself(delegated, root.getPrincipal());
});

test('DelegationIdentity: a chain of two, the last to a P-256 session key', async () => {
  const root = Secp256k1KeyIdentity.generate();
  const middle = Ed25519KeyIdentity.generate();
  const session = await ECDSAKeyIdentity.generate();
  const first = await DelegationChain.create(root, middle.getPublicKey(), inAnHour());
  const chain = await DelegationChain.create(middle, session.getPublicKey(), inAnHour(), {
    previous: first,
  });
  await seesItself(DelegationIdentity.fromDelegation(session, chain), root.getPrincipal());
});

test('DelegationIdentity: targets are honoured', async () => {
  const root = Ed25519KeyIdentity.generate();
  const session = Ed25519KeyIdentity.generate();
  const toThis = await DelegationChain.create(root, session.getPublicKey(), inAnHour(), {
    targets: [canisterId],
  });
  await seesItself(DelegationIdentity.fromDelegation(session, toThis), root.getPrincipal());

  const elsewhere = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
  const toAnother = await DelegationChain.create(root, session.getPublicKey(), inAnHour(), {
    targets: [elsewhere],
  });
  // The replica answers 400, as the IC does; the agent would retry that 3 times, with backoff.
  const agent = await agentFor(DelegationIdentity.fromDelegation(session, toAnother), {
    retryTimes: 0,
  });
  const actor = Actor.createActor(idlFactory, { agent, canisterId });
  const refused = (what) => (error) => {
    console.log(`${what} refused: ${String(error?.message ?? error).split('\n', 2).join(' | ')}`);
    return true;
  };
  await assert.rejects(actor.whoami(), refused('an update outside the delegation targets'));
  await assert.rejects(actor.whoami_query(), refused('a query outside the delegation targets'));
});

test('a trap comes back as a (certified) reject', async () => {
  const agent = await agentFor(Ed25519KeyIdentity.generate());
  const actor = Actor.createActor(idlFactory, { agent, canisterId });
  await assert.rejects(actor.fail(), (error) => {
    assert.match(String(error?.message ?? error), /no entry/);
    return true;
  });
  // The canister still answers afterwards.
  assert.equal(await actor.echo('after'), 'after');
});

test('a method the canister lacks is rejected', async () => {
  const agent = await agentFor(Ed25519KeyIdentity.generate());
  const missing = ({ IDL }) =>
    IDL.Service({
      missing: IDL.Func([], [], []),
      missing_query: IDL.Func([], [], ['query']),
    });
  const actor = Actor.createActor(missing, { agent, canisterId });
  await assert.rejects(actor.missing());
  await assert.rejects(actor.missing_query());
});

test('CanisterStatus: time, controllers, module hash, candid and subnet, certified', async () => {
  const agent = await agentFor(Ed25519KeyIdentity.generate());
  const status = await CanisterStatus.request({
    canisterId,
    agent,
    paths: ['time', 'controllers', 'module_hash', 'candid', 'subnet'],
  });
  const time = status.get('time');
  assert.ok(time instanceof Date, `time is a date: ${time}`);
  assert.ok(Math.abs(time.getTime() - Date.now()) < 5 * 60 * 1000, `time is now: ${time}`);

  const controllers = status.get('controllers');
  assert.ok(Array.isArray(controllers) && controllers.length >= 1, `controllers: ${controllers}`);
  if (process.env.CONTROLLER) {
    assert.deepEqual(
      controllers.map((p) => p.toText()),
      [process.env.CONTROLLER],
    );
  }

  const moduleHash = status.get('module_hash');
  assert.equal(typeof moduleHash, 'string', `module hash: ${moduleHash}`);
  if (process.env.MODULE_HASH) {
    assert.equal(moduleHash.replace(/^0x/, ''), process.env.MODULE_HASH.toLowerCase());
  }

  const candid = status.get('candid');
  assert.equal(typeof candid, 'string', `candid: ${candid}`);
  if (process.env.CANDID) {
    assert.equal(candid, process.env.CANDID);
  }

  const subnet = status.get('subnet');
  assert.ok(subnet?.subnetId, 'the subnet has an id');
  assert.ok(subnet.nodeKeys.size >= 1, 'the subnet lists its node keys');
});

// The vault canister (vault-interface/vault.did), if tests/agents.rs installed one.
const vaultIdl = ({ IDL }) => {
  const VaultError = IDL.Variant({
    AlreadySetUp: IDL.Null,
    Duplicate: IDL.Record({ existing: IDL.Vec(IDL.Nat8) }),
    NotFound: IDL.Null,
    NotAuthorized: IDL.Null,
    WrongPassword: IDL.Null,
    PasswordRequired: IDL.Record({ iterations: IDL.Nat32 }),
    AlreadyExists: IDL.Null,
    RateLimited: IDL.Record({ retry_after_ns: IDL.Nat64 }),
    InvalidArgument: IDL.Record({ field: IDL.Text, reason: IDL.Text }),
    NotSetUp: IDL.Null,
    Revoked: IDL.Null,
    Expired: IDL.Null,
    QuotaExceeded: IDL.Record({ needed: IDL.Nat64, available: IDL.Nat64 }),
    Conflict: IDL.Record({ reason: IDL.Text }),
  });
  const VaultInfo = IDL.Record({
    files: IDL.Nat64,
    stable_memory_bytes: IDL.Nat64,
    used_bytes: IDL.Nat64,
    owner: IDL.Principal,
    albums: IDL.Nat64,
    created_at: IDL.Nat64,
    set_up: IDL.Bool,
    uploads_in_progress: IDL.Nat64,
    version: IDL.Text,
    trashed_files: IDL.Nat64,
    quota_bytes: IDL.Nat64,
    chunks: IDL.Nat64,
    reserved_bytes: IDL.Nat64,
  });
  return IDL.Service({
    vault_info: IDL.Func([], [IDL.Variant({ Ok: VaultInfo, Err: VaultError })], ['query']),
    set_quota: IDL.Func([IDL.Nat64], [IDL.Variant({ Ok: IDL.Null, Err: VaultError })], []),
  });
};

test('the vault canister: its owner reads and changes it, a stranger may not', {
  skip: !process.env.VAULT_ID && 'no VAULT_ID given',
}, async () => {
  const vaultId = Principal.fromText(process.env.VAULT_ID);
  const seed = Uint8Array.from(Buffer.from(process.env.OWNER_ED25519_SEED, 'hex'));
  const owner = Ed25519KeyIdentity.fromSecretKey(seed);
  if (process.env.CONTROLLER) {
    assert.equal(owner.getPrincipal().toText(), process.env.CONTROLLER, 'the same key as ic-agent');
  }
  const vault = Actor.createActor(vaultIdl, {
    agent: await agentFor(owner),
    canisterId: vaultId,
  });
  const info = await vault.vault_info();
  assert.ok('Ok' in info, `vault_info: ${JSON.stringify(info, (_, v) => String(v))}`);
  assert.equal(info.Ok.owner.toText(), owner.getPrincipal().toText());
  assert.equal(info.Ok.files, 0n);
  assert.deepEqual(await vault.set_quota(123_456_789n), { Ok: null });
  assert.equal((await vault.vault_info()).Ok.quota_bytes, 123_456_789n);

  const stranger = Actor.createActor(vaultIdl, {
    agent: await agentFor(await ECDSAKeyIdentity.generate()),
    canisterId: vaultId,
  });
  assert.deepEqual(await stranger.vault_info(), { Err: { NotAuthorized: null } });
  // The vault's canister_inspect_message refuses a stranger's update before it runs: an
  // uncertified reject (IC0406), as on the IC.
  await assert.rejects(stranger.set_quota(1n), (error) => {
    assert.match(String(error?.message ?? error), /IC0406/);
    return true;
  });
  assert.equal((await vault.vault_info()).Ok.quota_bytes, 123_456_789n, 'unchanged');

  const status = await CanisterStatus.request({
    canisterId: vaultId,
    agent: await agentFor(owner),
    paths: ['candid', 'controllers'],
  });
  assert.match(status.get('candid'), /vault_info : \(\) -> \(Result(_\d+)?\) query/);
  assert.deepEqual(
    status.get('controllers').map((p) => p.toText()),
    [owner.getPrincipal().toText()],
  );
});

test('an IDL value round-trips through the agent for a long argument', async () => {
  const agent = await agentFor(Ed25519KeyIdentity.generate());
  const actor = Actor.createActor(idlFactory, { agent, canisterId });
  const long = 'x'.repeat(30 * 1024);
  assert.equal(await actor.echo(long), long);
  assert.equal(await actor.echo_query(long), long);
  assert.equal(IDL.Text.name, 'text');
});
