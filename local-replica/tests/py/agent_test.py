"""ic-py (the Python IC agent, unmodified) against local-replica: its /api/v2 calls polled through
read_state, its queries and its read_state, with Ed25519, secp256k1 and anonymous identities.

    python3 agent_test.py <replica url> <whoami canister id>      (env MODULE_HASH: hex sha256)

Exits non-zero, saying which check failed, if any does. ic-py does not verify certificates
(ic-agent and the JS agent, in the same test file, do); it checks that another encoder of
envelopes, request ids and signatures is understood.
"""

import os
import sys

from ic.agent import Agent
from ic.candid import Types, encode
from ic.client import Client
from ic.identity import Identity
from ic.principal import Principal
from ic.certificate import lookup

url, canister = sys.argv[1], sys.argv[2]
failed = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failed.append(name)


def principal_text(decoded):
    value = decoded[0]["value"]
    return value.to_str() if isinstance(value, Principal) else str(value)


identities = {
    "ed25519": Identity(privkey="11" * 32, type="ed25519"),
    "secp256k1": Identity(privkey="22" * 32, type="secp256k1"),
    "anonymous": Identity(anonymous=True),
}
for kind, identity in identities.items():
    agent = Agent(identity, Client(url=url))
    expected = identity.sender().to_str()
    called = principal_text(agent.update_raw(canister, "whoami", encode([])))
    check(f"{kind}: an update sees its sender", called == expected, f"{called} != {expected}")
    queried = principal_text(agent.query_raw(canister, "whoami_query", encode([])))
    check(f"{kind}: a query sees its sender", queried == expected, f"{queried} != {expected}")

agent = Agent(identities["ed25519"], Client(url=url))
echoed = agent.update_raw(canister, "echo", encode([{"type": Types.Text, "value": "héllo"}]))
check("a text argument comes back", echoed[0]["value"] == "héllo", echoed)

try:
    agent.update_raw(canister, "fail", encode([]))
    check("a trap is a rejection", False, "the call succeeded")
except Exception as e:  # ic-py raises a bare Exception("Rejected: ...")
    check("a trap is a rejection", "Rejected" in str(e) and "no entry" in str(e), e)

id_bytes = Principal.from_str(canister).bytes
certificate = agent.read_state_raw(canister, [[b"canister", id_bytes, b"module_hash"]])
module_hash = lookup([b"canister", id_bytes, b"module_hash"], certificate)
check(
    "read_state gives the module hash",
    module_hash is not None and module_hash.hex() == os.environ["MODULE_HASH"],
    module_hash,
)

if failed:
    print(f"{len(failed)} failed: {', '.join(failed)}")
    sys.exit(1)
print("all passed")
