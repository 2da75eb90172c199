#!/usr/bin/env python3
"""Check Vault's format test vectors with an independent implementation.

This is an independent implementation of Vault's encrypted formats written from
docs/FORMAT.md alone, without reading the reference (Rust) implementation. It
reads every vector in crypto/tests/vectors/ (FORMAT.md §12), dispatches on its
`kind:`, and checks its `expect:`:

* on `success` it decrypts / unwraps / opens / derives and compares with every
  recorded value, and wherever the vector records the randomness the encryptor
  drew (`random`, `ikm_e`, a header salt, the nonce inside `wrapped`) it
  encrypts again and requires byte-identical output;
* on a refusal it requires that reading fails with exactly that §1 outcome
  (`unsupported version`, `malformed`, `decryption failure`, ...), checked in
  the order §1 and the section concerned prescribe;
* either way every field of the vector must have been read and checked: a field
  the checker does not know about is a failure, not silently ignored.

After the vectors it runs self-tests of reader rules that no vector covers
(sizes, bounds, the CBOR rules of §10, white space and case, ...).

Primitives come from well-known packages (see requirements.txt); nothing
cryptographic is written by hand here. CBOR (§10) is read and written by hand,
because §10's reader rules (duplicate keys, tags, float widths, trailing bytes)
are stricter than a general-purpose decoder's.

Usage (from the repository root):  python3 tests/format/check_vectors.py
Prints `ok NAME` or `FAIL NAME: reason` per vector and self-test, then
`N passed, M failed`. Exits 1 if anything failed or fewer than MIN_VECTORS
vectors were found.
"""

import base64
import hashlib
import hmac
import math
import re
import struct
import sys
import unicodedata
from collections import namedtuple
from pathlib import Path

from argon2.low_level import Type as Argon2Type
from argon2.low_level import hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from mnemonic import Mnemonic
from pyhpke import AEADId, CipherSuite, KDFId, KEMId
from pyhpke.exceptions import PyHPKEError

VECTOR_DIR = Path(__file__).resolve().parents[2] / "crypto" / "tests" / "vectors"
MIN_VECTORS = 120

# §1 constants
VERSION = 0x01
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
CHUNK_SIZE = 1_048_576
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
STREAM_HEADER_SIZE = 17
SALT_SIZE = 16
WRAPPED_KEY_SIZE = 61
SEALED_KEY_SIZE = 81
UNLOCK_PARAMS_SIZE = 30
PASSPHRASE_RECORD_SIZE = 91
ID_SIZE = 16

BIP39 = Mnemonic("english")
BIP39_INDEX = {word: i for i, word in enumerate(BIP39.wordlist)}
HPKE_SUITE = CipherSuite.new(
    KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM
)


# ---------------------------------------------------------------------------
# §1 Refusals: one exception class per outcome.


class Refusal(Exception):
    """A reader refused its input; `outcome` is §1's name for it."""

    outcome = None


class UnsupportedVersion(Refusal):
    outcome = "unsupported version"


class Malformed(Refusal):
    outcome = "malformed"


class DecryptionFailure(Refusal):
    outcome = "decryption failure"


class WrongSecret(Refusal):
    outcome = "wrong secret"


class ParametersRefused(Refusal):
    outcome = "parameters refused"


class InvalidWords(Refusal):
    outcome = "invalid words"


class BadChecksum(Refusal):
    outcome = "bad checksum"


class InvalidShareCode(Refusal):
    outcome = "invalid share code"


class DamagedLink(Refusal):
    outcome = "damaged link"


class NotAuthentic(Refusal):
    outcome = "not authentic"
class WrongProof(Refusal):
    outcome = "wrong proof"


class CheckFailed(Exception):
    """This implementation disagrees with a vector, or a vector breaks §12."""


# ---------------------------------------------------------------------------
# §1, §2: primitives and helpers


def nfc_utf8(text_bytes):
    """Human text (given as UTF-8 bytes) normalised to NFC, as UTF-8 (§1)."""
    return unicodedata.normalize("NFC", text_bytes.decode("utf-8")).encode("utf-8")


def sha256(data):
    return hashlib.sha256(data).digest()


def hkdf(salt, ikm, info):
    """HKDF-SHA256 with a 32-byte output; salt b"" means "not provided" (§2)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt or None, info=info).derive(ikm)


def aes_gcm_seal(key, nonce, aad, plaintext):
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_gcm_open(key, nonce, aad, ciphertext):
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptionFailure("AES-GCM tag mismatch") from None


def check_version_and_size(data, size, what):
    """§1: the version byte first, then the fixed size.

    Input too short to hold a version byte has the wrong size (`malformed`).
    """
    if data and data[0] != VERSION:
        raise UnsupportedVersion(f"{what} version {data[0]}")
    if len(data) != size:
        raise Malformed(f"{what} is {len(data)} bytes, not {size}")


# Unicode's White_Space property (PropList.txt). Python's str.isspace() and
# str.split() also count U+001C..U+001F, which are not white space.
# ASSUMPTION: §7's and §9.1's "white space" is §8.2's "Unicode white space".
WHITE_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
WHITE_SPACE_RUN = re.compile(f"[{re.escape(WHITE_SPACE)}]+")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text):
    """Fold A-Z only: a word list or alphabet of ASCII letters is never matched
    by a non-ASCII letter whose Unicode lowercase is ASCII (U+212A KELVIN SIGN).

    ASSUMPTION: §7's "any case" and §8.2's "case-insensitively" mean ASCII case.
    """
    return text.translate(ASCII_LOWER)


# ---------------------------------------------------------------------------
# §4 streams

STREAM_LABELS = {
    "content": b"vault/v1/stream/content",
    "thumbnail": b"vault/v1/stream/thumbnail",
    "metadata": b"vault/v1/stream/metadata",
    "album-name": b"vault/v1/stream/album-name",
    "link-record": b"vault/v1/stream/link-record",
}


def stream_key(file_key, header, stream):
    """§4.1, §4.2: check the header and derive the stream key."""
    check_version_and_size(header, STREAM_HEADER_SIZE, "stream header")
    return hkdf(header[1:], file_key, STREAM_LABELS[stream])


def chunk_nonce(index, last):
    """§4.3: 3 zero bytes, u64be(index), then the last-chunk flag."""
    return b"\x00\x00\x00" + struct.pack(">Q", index) + (b"\x01" if last else b"\x00")


def chunk_count(plaintext_length):
    return max(1, math.ceil(plaintext_length / CHUNK_SIZE))


def encrypt_chunks(key, plaintext):
    """§4.3: the concatenated c_0 .. c_{n-1} (no header)."""
    n = chunk_count(len(plaintext))
    return b"".join(
        aes_gcm_seal(key, chunk_nonce(i, i == n - 1), b"", plaintext[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE])
        for i in range(n)
    )


def check_final_chunk_length(length, n):
    """§4.5 rule 3."""
    if not (17 <= length <= ENCRYPTED_CHUNK_SIZE or (length == TAG_SIZE and n == 1)):
        raise DecryptionFailure(f"final chunk of {length} bytes in a stream of {n} chunks")


def decrypt_chunks(key, ciphertext):
    """§4.5: decrypt the concatenated chunks of a whole stream."""
    if len(ciphertext) < TAG_SIZE:
        raise DecryptionFailure("no final chunk")
    n = max(1, math.ceil(len(ciphertext) / ENCRYPTED_CHUNK_SIZE))
    chunks = [ciphertext[i * ENCRYPTED_CHUNK_SIZE : (i + 1) * ENCRYPTED_CHUNK_SIZE] for i in range(n)]
    check_final_chunk_length(len(chunks[-1]), n)
    return b"".join(aes_gcm_open(key, chunk_nonce(i, i == n - 1), b"", c) for i, c in enumerate(chunks))


def decrypt_one_chunk(key, index, n, chunk):
    """§4.4, §4.5: random access to chunk `index` of a stream of `n` chunks."""
    if not 0 <= index < n:
        raise ValueError(f"chunk {index} of a stream of {n} chunks")
    if index < n - 1:
        if len(chunk) != ENCRYPTED_CHUNK_SIZE:
            raise DecryptionFailure(f"non-final chunk of {len(chunk)} bytes")
    else:
        check_final_chunk_length(len(chunk), n)
    return aes_gcm_open(key, chunk_nonce(index, index == n - 1), b"", chunk)


def encrypt_blob(file_key, salt, stream, plaintext):
    """§4.4: header || chunks, for a given header salt."""
    header = bytes([VERSION]) + salt
    return header + encrypt_chunks(stream_key(file_key, header, stream), plaintext)


def decrypt_blob(file_key, blob, stream):
    """§4.4: a blob is the 17-byte header then the chunks."""
    header = blob[:STREAM_HEADER_SIZE]
    return decrypt_chunks(stream_key(file_key, header, stream), blob[STREAM_HEADER_SIZE:])


# ---------------------------------------------------------------------------
# §5 wrapped keys

WRAP_ID_SIZES = {
    "album-key": {ID_SIZE + 4},  # album_id || u32be(key version)
    "file-key": {ID_SIZE},
    "sharing-secret-key": {32},  # the X25519 public key
    # §3: "" for the master key of generation 0, u32be(generation) after a rotation
    "master-key/passphrase": {0, 4},
    "master-key/recovery": {0, 4},
    "master-key/previous": {4},  # u32be(the wrapped key's own generation)
    "master-key/passkey": {0, 4},  # §7.1
}


def wrap_aad(kind, ident):
    if len(ident) not in WRAP_ID_SIZES[kind]:
        raise ValueError(f"the id of a {kind} is {sorted(WRAP_ID_SIZES[kind])} bytes, not {len(ident)}")
    return b"vault/v1/wrap/" + kind.encode("ascii") + b"\x00" + ident


def wrap_key(kek, kind, ident, key, nonce):
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
        raise ValueError("a wrapped key is 32 bytes under a 12-byte nonce")
    return bytes([VERSION]) + nonce + aes_gcm_seal(kek, nonce, wrap_aad(kind, ident), key)


def unwrap_key(kek, kind, ident, wrapped):
    aad = wrap_aad(kind, ident)
    check_version_and_size(wrapped, WRAPPED_KEY_SIZE, "wrapped key")
    return aes_gcm_open(kek, wrapped[1:13], aad, wrapped[13:])


def unwrap_master_key(kek, kind, wrapped):
    """§6, §7: an AEAD failure unwrapping the master key is `wrong secret`."""
    try:
        return unwrap_key(kek, kind, b"", wrapped)
    except DecryptionFailure:
        raise WrongSecret("the master key did not unwrap") from None


# ---------------------------------------------------------------------------
# §6 passphrase record

ARGON2ID = 0x01
UnlockParams = namedtuple("UnlockParams", "m t lanes salt")


def check_argon2_params(m, t, lanes):
    """§6 reader bounds, checked before any work: OWASP's floor (m >= 19456, t >= 2) and
    the ceilings."""
    if m < 19_456 or t < 2:
        raise ParametersRefused(f"Argon2id m={m} t={t} is below the floor")
    if m > 4_194_304 or t > 64 or t == 0 or lanes == 0 or lanes > 16 or m < 8 * lanes:
        raise ParametersRefused(f"Argon2id m={m} t={t} l={lanes}")


def parse_unlock_params(params):
    """§6: bytes 0..30 of a record: version, size, KDF id, then the bounds.

    ASSUMPTION: the KDF id is "contents" in §1's order (after the size), and
    precedes the bounds, which only mean something for Argon2id.
    """
    check_version_and_size(params, UNLOCK_PARAMS_SIZE, "unlock params")
    if params[1] != ARGON2ID:
        raise UnsupportedVersion(f"KDF id {params[1]}")
    m, t, lanes = struct.unpack(">III", params[2:14])
    check_argon2_params(m, t, lanes)
    return UnlockParams(m, t, lanes, params[14:30])


def parse_passphrase_record(record):
    """Return (unlock params, wrapped master key), in §6's order: the record's
    version and size, the unlock params (KDF id, bounds), then the wrapped key's
    version byte (byte 30) -- all before any Argon2id work."""
    check_version_and_size(record, PASSPHRASE_RECORD_SIZE, "passphrase record")
    params = parse_unlock_params(record[:UNLOCK_PARAMS_SIZE])
    wrapped = record[UNLOCK_PARAMS_SIZE:]
    check_version_and_size(wrapped, WRAPPED_KEY_SIZE, "wrapped master key")
    return params, wrapped


def passphrase_kek(passphrase, params):
    return hash_secret_raw(
        secret=nfc_utf8(passphrase),
        salt=params.salt,
        time_cost=params.t,
        memory_cost=params.m,
        parallelism=params.lanes,
        hash_len=KEY_SIZE,
        type=Argon2Type.ID,
        version=19,
    )


def passphrase_admission_seed(kek):
    """§6.1: the seed of the passphrase's Ed25519 admission key."""
    return hkdf(b"", kek, b"vault/v2/admission-key/passphrase")


def passphrase_unlock_proof(kek):
    return hkdf(b"", kek, b"vault/v1/unlock-proof/passphrase")


def unlock_passphrase(passphrase, record):
    """Return (KEK, master key)."""
    params, wrapped = parse_passphrase_record(record)
    kek = passphrase_kek(passphrase, params)
    return kek, unwrap_master_key(kek, "master-key/passphrase", wrapped)


def make_passphrase_record(passphrase, master_key, params, nonce):
    """§6 writer: the reader's bounds apply (a writer refuses the same)."""
    check_argon2_params(params.m, params.t, params.lanes)
    kek = passphrase_kek(passphrase, params)
    return (
        bytes([VERSION, ARGON2ID])
        + struct.pack(">III", params.m, params.t, params.lanes)
        + params.salt
        + wrap_key(kek, "master-key/passphrase", b"", master_key, nonce)
    )


# ---------------------------------------------------------------------------
# §7 recovery key


def words_to_recovery_key(words):
    """24 BIP39 English words, any (ASCII) case, any white space between them."""
    tokens = [ascii_lower(w) for w in WHITE_SPACE_RUN.split(words) if w]
    if len(tokens) != 24:
        raise InvalidWords(f"{len(tokens)} words, not 24")
    number = 0
    for word in tokens:
        if word not in BIP39_INDEX:
            raise InvalidWords(f"{word!r} is not in the BIP39 English list")
        number = number << 11 | BIP39_INDEX[word]
    key, checksum = (number >> 8).to_bytes(KEY_SIZE, "big"), number & 0xFF
    if sha256(key)[0] != checksum:
        raise InvalidWords("BIP39 checksum mismatch")
    return key


def recovery_key_to_words(key):
    return BIP39.to_mnemonic(key)


def recovery_unlock_proof(recovery_key):
    return hkdf(b"", recovery_key, b"vault/v1/unlock-proof/recovery")


def recovery_admission_seed(recovery_key):
    return hkdf(b"", recovery_key, b"vault/v2/admission-key/recovery")


def unlock_recovery(words, wrapped):
    """Return (recovery key, master key)."""
    recovery_key = words_to_recovery_key(words)
    return recovery_key, unwrap_master_key(recovery_key, "master-key/recovery", wrapped)


# ---------------------------------------------------------------------------
# §6.1 device admission

ADMISSION_METHODS = {"passphrase": (0x01, passphrase_admission_seed), "recovery": (0x02, recovery_admission_seed)}


def admission_public_key(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def admission_message(method, canister, caller, counter):
    if len(canister) > 29 or len(caller) > 29:
        raise WrongProof("a principal longer than 29 bytes names no challenge")
    return (
        b"vault/v2/admission\x00"
        + bytes([ADMISSION_METHODS[method][0], len(canister)])
        + canister
        + bytes([len(caller)])
        + caller
        + struct.pack(">Q", counter)
    )


def verify_admission(verifier, method, canister, caller, counter, proof):
    """§6.1: the canister's check. Raises WrongProof."""
    message = admission_message(method, canister, caller, counter)
    if len(proof) != 64:
        raise WrongProof(f"a proof is 64 bytes, not {len(proof)}")
    try:
        Ed25519PublicKey.from_public_bytes(verifier).verify(proof, message)
    except InvalidSignature:
        raise WrongProof("the signature does not verify") from None


# ---------------------------------------------------------------------------
# §8.1 sealed keys

SEAL_TARGETS = {"album": (0x01, ID_SIZE + 4), "file": (0x02, ID_SIZE)}


def seal_info(recipient, target, target_id):
    target_kind, id_size = SEAL_TARGETS[target]
    if len(recipient) > 29 or len(target_id) != id_size:
        raise ValueError("a recipient is at most 29 bytes; target ids are 20 (album) or 16 (file)")
    return b"vault/v1/share\x00" + bytes([len(recipient)]) + recipient + bytes([target_kind]) + target_id


def open_sealed(secret_key, recipient, target, target_id, sealed):
    info = seal_info(recipient, target, target_id)
    check_version_and_size(sealed, SEALED_KEY_SIZE, "sealed key")
    try:
        skr = HPKE_SUITE.kem.deserialize_private_key(secret_key)
        ctx = HPKE_SUITE.create_recipient_context(sealed[1:33], skr, info=info)
        return ctx.open(sealed[33:], aad=b"")
    except (PyHPKEError, ValueError) as err:
        raise DecryptionFailure(f"HPKE open failed: {type(err).__name__}") from None


def seal_key(public_key, recipient, target, target_id, key, ikm_e):
    """SealBase with the ephemeral key pair DeriveKeyPair(ikm_e)."""
    info = seal_info(recipient, target, target_id)
    pkr = HPKE_SUITE.kem.deserialize_public_key(public_key)
    enc, ctx = HPKE_SUITE.create_sender_context(pkr, info=info, eks=HPKE_SUITE.kem.derive_key_pair(ikm_e))
    return bytes([VERSION]) + enc + ctx.seal(key, aad=b"")


# ---------------------------------------------------------------------------
# §8.2 share code, §8.3 fingerprint

B32_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def b32_encode(data):
    """Lowercase RFC 4648 §6 base32 without padding."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def b32_decode(text):
    """The inverse of b32_encode for its exact output only (§8.2: one spelling)."""
    if any(c not in B32_ALPHABET for c in text):
        raise InvalidShareCode("a character outside the base32 alphabet")
    if len(text) % 8 in (1, 3, 6):
        raise InvalidShareCode(f"{len(text)} base32 characters encode no whole number of bytes")
    data = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    if b32_encode(data) != text:
        raise InvalidShareCode("nonzero unused bits in the last character")
    return data


SHARE_CODE_VERSIONS = (1, 2)  # 1: no vault; 2: the owner's vault canister id follows the key
MAX_PRINCIPAL_SIZE = 29


def make_share_code(principal, public_key, vault=None):
    """Version 1 without a vault, version 2 with one (§8.2)."""
    if vault is None:
        payload = bytes([1, len(principal)]) + principal + public_key
    else:
        payload = bytes([2, len(principal)]) + principal + public_key + bytes([len(vault)]) + vault
    chars = b32_encode(payload + sha256(payload)[:4])
    return "vs1-" + "-".join(chars[i : i + 5] for i in range(0, len(chars), 5))


def parse_share_code(text):
    """Return (principal, public key, vault or None), checking in §8.2's order."""
    compact = ascii_lower("".join(c for c in text if c not in WHITE_SPACE and c != "-"))
    if not compact.startswith("vs1"):
        raise InvalidShareCode("no vs1 prefix")
    data = b32_decode(compact[3:])
    payload, checksum = data[:-4], data[-4:]
    if len(data) < 38 or sha256(payload)[:4] != checksum:
        raise BadChecksum("share code checksum mismatch")
    version = payload[0]
    if version not in SHARE_CODE_VERSIONS:
        raise UnsupportedVersion(f"share code version {version}")
    principal_size = payload[1]
    if principal_size > MAX_PRINCIPAL_SIZE:
        raise InvalidShareCode("share code principal longer than 29 bytes")
    principal = payload[2 : 2 + principal_size]
    public_key = payload[2 + principal_size : 2 + principal_size + 32]
    rest = payload[2 + principal_size + 32 :]
    if len(public_key) != 32:
        raise InvalidShareCode("share code lengths do not add up")
    if version == 1:
        if rest:
            raise InvalidShareCode("share code lengths do not add up")
        return principal, public_key, None
    if not rest or not 1 <= rest[0] <= MAX_PRINCIPAL_SIZE or len(rest) != 1 + rest[0]:
        raise InvalidShareCode("share code (version 2) lengths do not add up")
    return principal, public_key, rest[1:]


def fingerprint(public_key):
    d = int.from_bytes(sha256(b"vault/v1/fingerprint" + public_key), "big")
    top = d >> (256 - 66)  # the first 66 bits, most significant first
    return " ".join(BIP39.wordlist[(top >> (11 * (5 - i))) & 0x7FF] for i in range(6))


# ---------------------------------------------------------------------------
# §9 links

MIN_LINK_ITERATIONS = 100_000
MAX_LINK_ITERATIONS = 10_000_000
B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def make_fragment(secret):
    body = bytes([VERSION]) + secret
    return base64.urlsafe_b64encode(body + sha256(body)[:3]).decode("ascii").rstrip("=")


def parse_fragment(fragment):
    """§9.1: return the 32-byte secret or raise DamagedLink.

    ASSUMPTION: a fragment of another version is `damaged link` as §9.1 says,
    not `unsupported version` as §1 says of "any structure".
    """
    fragment = fragment.strip(WHITE_SPACE)
    if fragment.startswith("#"):
        fragment = fragment[1:]
    if len(fragment) != 48 or any(c not in B64URL_ALPHABET for c in fragment):
        raise DamagedLink("not 48 base64url characters")
    data = base64.urlsafe_b64decode(fragment)
    if data[0] != VERSION or sha256(data[:33])[:3] != data[33:]:
        raise DamagedLink("fragment version or checksum")
    return data[1:33]


def check_link_iterations(iterations):
    """§9.2: writers and readers alike, before any work."""
    if not MIN_LINK_ITERATIONS <= iterations <= MAX_LINK_ITERATIONS:
        raise ParametersRefused(f"{iterations} PBKDF2 iterations")


def link_values(secret, password=None, iterations=None):
    """§9.2: every derived value of a link, as a dict. (Callers parse the
    fragment first: ASSUMPTION, §9 orders no `damaged link` / `parameters refused`.)"""
    values = {"token": hkdf(b"", secret, b"vault/v1/link/token")}
    values["token_hash"] = sha256(values["token"])
    if password is None:
        values["link_key"] = hkdf(b"", secret, b"vault/v1/link/key")
        return values
    check_link_iterations(iterations)
    pw_salt = hkdf(b"", secret, b"vault/v1/link/password-salt")[:16]
    pw_key = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=pw_salt, iterations=iterations).derive(
        nfc_utf8(password)
    )
    proof = hkdf(b"", pw_key, b"vault/v1/link/password-proof")
    values.update(
        password_salt=pw_salt,
        password_key=pw_key,
        proof=proof,
        verifier=sha256(proof),
        link_key=hkdf(pw_key, secret, b"vault/v1/link/key"),
    )
    return values


# ---------------------------------------------------------------------------
# §10 metadata record: a strict CBOR (RFC 8949) reader and a deterministic writer

UINT, NINT, BYTES, TEXT, ARRAY, MAP, TAG, SIMPLE = range(8)  # CBOR major types
BREAK = 0xFF
FLOAT_FORMATS = {25: ">e", 26: ">f", 27: ">d"}  # additional info -> float16/32/64
U32_MAX, U64_MAX = 2**32 - 1, 2**64 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


class CborReader:
    """Reads CBOR items from `data`; anything not well-formed is `malformed`."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, size):
        if size > len(self.data) - self.pos:
            raise Malformed("truncated CBOR")
        self.pos += size
        return self.data[self.pos - size : self.pos]

    def read_break(self):
        """Consume a break (0xff) if one is next."""
        if self.data[self.pos : self.pos + 1] == bytes([BREAK]):
            self.pos += 1
            return True
        return False

    def head(self):
        """An item's head: (major type, additional info, argument); the
        argument is None for an indefinite length.

        §10: "liberal in form" covers non-shortest heads of every kind (integers,
        lengths, counts); indefinite lengths are the business of each caller
        (refused under known keys, skipped under unknown ones).
        """
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            return major, info, info
        if info <= 27:
            argument = int.from_bytes(self.take(1 << (info - 24)), "big")
            if major == SIMPLE and info == 24 and argument < 32:
                raise Malformed("two-byte encoding of a simple value below 32")
            return major, info, argument
        if info == 31 and major in (BYTES, TEXT, ARRAY, MAP):
            return major, info, None
        raise Malformed(f"CBOR initial byte {initial:#04x} is not well-formed here")

    def string(self, major, length):
        """The content of a byte or text string whose head was just read."""
        if length is not None:
            return self.take(length)
        chunks = []
        while not self.read_break():
            chunk_major, _, chunk_length = self.head()
            if chunk_major != major or chunk_length is None:
                raise Malformed("bad chunk in an indefinite-length string")
            chunks.append(self.take(chunk_length))
        return b"".join(chunks)

    def skip(self):
        """Skip one well-formed item of any type, however deeply nested
        (ASSUMPTION: §10's "any well-formed CBOR value" sets no depth limit)."""
        # One entry per open container: [items still due (None: until a break), items read, is a map]
        open_items = []
        while True:
            if open_items and open_items[-1][0] is None and self.read_break():
                _, read, is_map = open_items.pop()
                if is_map and read % 2:
                    raise Malformed("indefinite-length map ends between a key and its value")
            else:
                major, _, argument = self.head()
                if major in (BYTES, TEXT):
                    self.string(major, argument)
                elif major == TAG:
                    open_items.append([1, 0, False])
                    continue
                elif major in (ARRAY, MAP) and argument != 0:
                    due = None if argument is None else argument * (2 if major == MAP else 1)
                    open_items.append([due, 0, major == MAP])
                    continue
            # An item ended: count it in its container, closing containers it fills.
            while open_items:
                frame = open_items[-1]
                frame[1] += 1
                if frame[0] is None:
                    break
                frame[0] -= 1
                if frame[0]:
                    break
                open_items.pop()
            else:
                return


def _uint(low, high):
    def read(r):
        major, _, value = r.head()
        if major != UINT:
            raise Malformed(f"major type {major}, not an unsigned integer")
        if not low <= value <= high:
            raise Malformed(f"{value} is outside {low}..={high}")
        return value

    return read


def _int(low, high):
    def read(r):
        major, _, argument = r.head()
        if major not in (UINT, NINT):
            raise Malformed(f"major type {major}, not an integer")
        value = argument if major == UINT else -1 - argument
        if not low <= value <= high:
            raise Malformed(f"{value} is outside {low}..={high}")
        return value

    return read


def _text(r):
    # Text under a known key that is not UTF-8 is `malformed` (under an unknown
    # key it is well-formed CBOR, so accepted).
    major, _, length = r.head()
    if major != TEXT:
        raise Malformed(f"major type {major}, not text")
    if length is None:
        raise Malformed("indefinite-length text under a known key")
    try:
        return r.string(major, length).decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("text that is not UTF-8") from None


def _bytes(r):
    major, _, length = r.head()
    if major != BYTES:
        raise Malformed(f"major type {major}, not bytes")
    if length is None:
        raise Malformed("an indefinite-length byte string under a known key")
    return r.string(major, length)


def _sha256(r):
    digest = _bytes(r)
    if len(digest) != 32:
        raise Malformed(f"a SHA-256 of {len(digest)} bytes")
    return digest


def _gps(r):
    major, _, count = r.head()
    if major != ARRAY:
        raise Malformed(f"major type {major}, not an array")
    if count is None:
        raise Malformed("an indefinite-length GPS array")
    values = []
    while len(values) < count:
        if len(values) == 3:
            raise Malformed("more than 3 GPS values")
        major, info, argument = r.head()
        # §10: true, false, null and other simple values are major type 7 too, but not floats.
        if major != SIMPLE or info not in FLOAT_FORMATS:
            raise Malformed("a GPS value that is not a float")
        size = struct.calcsize(FLOAT_FORMATS[info])
        values.append(struct.unpack(FLOAT_FORMATS[info], argument.to_bytes(size, "big"))[0])
    if len(values) not in (2, 3):
        raise Malformed(f"{len(values)} GPS values")
    # Written so that NaN, which compares false, is out of range.
    in_range = -90 <= values[0] <= 90 and -180 <= values[1] <= 180 and all(map(math.isfinite, values[2:]))
    if not in_range:
        raise Malformed(f"GPS {values} out of range")
    return values


# §10's table: key -> (name, reader of its value with its type and range)
METADATA_FIELDS = {
    0: ("version", _uint(0, U64_MAX)),  # not 1 is `unsupported version`, checked last
    1: ("name", _text),
    2: ("mime type", _text),
    3: ("size", _uint(0, U64_MAX)),
    4: ("sha256", _sha256),
    5: ("taken at", _int(I64_MIN, I64_MAX)),
    6: ("utc offset", _int(-1440, 1440)),
    7: ("modified", _int(I64_MIN, I64_MAX)),
    8: ("width", _uint(0, U32_MAX)),
    9: ("height", _uint(0, U32_MAX)),
    10: ("orientation", _uint(1, 8)),
    11: ("gps", _gps),
    12: ("camera make", _text),
    13: ("camera model", _text),
    14: ("duration", _uint(0, U64_MAX)),
    15: ("name bytes", _bytes),
}
REQUIRED_FIELDS = (0, 1, 2, 3, 4)


def parse_metadata(data):
    """§10 reader. Returns {key: value} of the known fields."""
    r = CborReader(data)
    major, _, count = r.head()
    if major != MAP or count is None:
        raise Malformed("the record is not a definite-length map")
    fields, keys = {}, set()
    for _ in range(count):
        major, _, key = r.head()
        if major != UINT:
            raise Malformed(f"a key of major type {major}")
        if key in keys:
            raise Malformed(f"duplicate key {key}")
        keys.add(key)
        if key in METADATA_FIELDS:
            name, read = METADATA_FIELDS[key]
            try:
                fields[key] = read(r)
            except Malformed as err:
                raise Malformed(f"key {key} ({name}): {err}") from None
        else:
            r.skip()
    if r.pos != len(data):
        raise Malformed(f"{len(data) - r.pos} bytes after the map")
    missing = [key for key in REQUIRED_FIELDS if key not in fields]
    if missing:
        raise Malformed(f"missing required keys {missing}")
    if fields[0] != 1:
        raise UnsupportedVersion(f"metadata version {fields[0]}")
    return fields


def _cbor_head(major, argument):
    """The shortest head for an argument."""
    if argument < 24:
        return bytes([major << 5 | argument])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | info]) + argument.to_bytes(size, "big")
    raise ValueError(f"{argument} does not fit a CBOR head")


def _cbor_value(value):
    if isinstance(value, int):
        return _cbor_head(UINT, value) if value >= 0 else _cbor_head(NINT, -1 - value)
    if isinstance(value, str):
        value = value.encode("utf-8")
        return _cbor_head(TEXT, len(value)) + value
    if isinstance(value, bytes):
        return _cbor_head(BYTES, len(value)) + value
    if isinstance(value, list):  # GPS: floats always as float64
        return _cbor_head(ARRAY, len(value)) + b"".join(b"\xfb" + struct.pack(">d", x) for x in value)
    raise TypeError(f"no metadata value is a {type(value).__name__}")


def encode_metadata(fields):
    """§10 writer: definite map, ascending keys, shortest integers, float64 floats."""
    return _cbor_head(MAP, len(fields)) + b"".join(
        _cbor_head(UINT, key) + _cbor_value(fields[key]) for key in sorted(fields)
    )


# ---------------------------------------------------------------------------
# §11 dedupe


def dedupe_hash(master_key, content):
    key = hkdf(b"", master_key, b"vault/v1/dedupe")
    return key, hmac.new(key, content, hashlib.sha256).digest()


# ---------------------------------------------------------------------------
# §8.4 grant authenticators

GRANT_AUTHENTICATOR_SIZE = 33
GRANT_TARGET_KINDS = {"album": 0x01, "file": 0x02}
GRANT_PERMISSIONS = {"view": 0x00, "contribute": 0x01}


def grant_message(vault, target, target_id, grantee, public_key, permission, expires_at):
    """§8.4's message; `expires_at` None means no expiry."""
    for principal in (vault, grantee):
        if len(principal) > 29:
            raise Malformed(f"a principal of {len(principal)} bytes")
    if len(target_id) != ID_SIZE or len(public_key) != 32:
        raise Malformed("target id or public key of the wrong size")
    expiry = bytes(9) if expires_at is None else b"\x01" + struct.pack(">Q", expires_at)
    return (
        bytes([VERSION, len(vault)]) + vault + bytes([GRANT_TARGET_KINDS[target]]) + target_id
        + bytes([len(grantee)]) + grantee + public_key + bytes([GRANT_PERMISSIONS[permission]]) + expiry
    )


def grant_key(master_key):
    return hkdf(b"", master_key, b"vault/v1/grant")


def grant_authenticator(key, message):
    return bytes([VERSION]) + hmac.new(key, message, hashlib.sha256).digest()


def verify_grant(key, message, authenticator):
    """§8.4: version, size, then the MAC in constant time."""
    check_version_and_size(authenticator, GRANT_AUTHENTICATOR_SIZE, "grant authenticator")
    if not hmac.compare_digest(grant_authenticator(key, message), authenticator):
        raise NotAuthentic("the MAC does not match")


# ---------------------------------------------------------------------------
# §12 vector files

TEXT_FIELDS = {
    "kind", "expect", "stream", "target", "wrapped_kind", "words", "text", "fingerprint", "fragment", "name",
    "permission",
    "method",
}
DECIMAL_FIELDS = {"size", "iterations", "plaintext_pattern", "expires_at", "counter"}
FIELD_LINE = re.compile(r"([a-z0-9_]+):(?: (.*))?")
HEX = re.compile(r"(?:[0-9a-f]{2})*")
DECIMAL = re.compile(r"[0-9]+")


def parse_vector_text(text):
    """`field: value` lines and `#` comments; each field at most once.

    ASSUMPTION: lines end with LF; a blank line is neither, so it is refused.
    """
    if text.endswith("\n"):
        text = text[:-1]
    fields = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.startswith("#"):
            continue
        match = FIELD_LINE.fullmatch(line)
        if not match:
            raise CheckFailed(f"line {lineno} is not `field: value`: {line[:40]!r}")
        name, value = match.group(1), match.group(2) or ""
        if name in fields:
            raise CheckFailed(f"field {name!r} appears twice")
        fields[name] = value
    return fields


class Vector:
    """One vector's fields. Records which were read, so none goes unchecked."""

    def __init__(self, path, text=None):
        self.path = path
        self.fields = parse_vector_text(path.read_bytes().decode("utf-8") if text is None else text)
        self.read = set()
        self.kind, self.expect = self.text("kind"), self.text("expect")

    def has(self, name):
        return name in self.fields

    def _value(self, name):
        if name not in self.fields:
            raise CheckFailed(f"missing field {name!r}")
        self.read.add(name)
        return self.fields[name]

    def text(self, name):
        if name not in TEXT_FIELDS:
            raise CheckFailed(f"{name!r} is not a text field (§12)")
        return self._value(name)

    def hex(self, name):
        if name in TEXT_FIELDS or name in DECIMAL_FIELDS or name.endswith("_file"):
            raise CheckFailed(f"{name!r} is not a hex field (§12)")
        value = self._value(name)
        if not HEX.fullmatch(value):
            raise CheckFailed(f"field {name!r} is not lowercase hex")
        return bytes.fromhex(value)

    def decimal(self, name):
        if name not in DECIMAL_FIELDS:
            raise CheckFailed(f"{name!r} is not a decimal field (§12)")
        value = self._value(name)
        if not DECIMAL.fullmatch(value):
            raise CheckFailed(f"field {name!r} is not decimal")
        return int(value)

    def file(self, name):
        if not name.endswith("_file"):
            raise CheckFailed(f"{name!r} is not a file field (§12)")
        value = self._value(name)
        if not value or "/" in value or value.startswith("."):
            raise CheckFailed(f"field {name!r} does not name a file beside the vector")
        return (self.path.parent / value).read_bytes()

    def unread(self):
        return sorted(set(self.fields) - self.read)


def expect_equal(what, got, expected):
    if got != expected:
        show = (lambda v: v.hex()) if isinstance(got, bytes) else repr
        raise CheckFailed(f"{what}: computed {show(got)}, vector has {show(expected)}")


def pattern(length):
    return bytes(i % 251 for i in range(length))


# Each check_* reads all of a vector's inputs first, then runs the reader: a
# refusal propagates as a Refusal, which run_vector compares with `expect`;
# on success it compares every recorded output.


def check_stream(v):
    stream = v.text("stream")
    if stream not in STREAM_LABELS:
        raise CheckFailed(f"unknown stream {stream!r}")
    file_key, header = v.hex("file_key"), v.hex("header")
    ciphertext = v.file("ciphertext_file") if v.has("ciphertext_file") else v.hex("ciphertext")
    key = stream_key(file_key, header, stream)
    plaintext = decrypt_chunks(key, ciphertext)
    expected = pattern(v.decimal("plaintext_pattern")) if v.has("plaintext_pattern") else v.hex("plaintext")
    expect_equal("plaintext", plaintext, expected)
    # The header salt is the only randomness: encrypting again must match.
    expect_equal("re-encrypted chunks", encrypt_chunks(key, plaintext), ciphertext)
    n = chunk_count(len(plaintext))
    expect_equal("encrypted length", len(ciphertext), len(plaintext) + TAG_SIZE * n)
    # §4.4 random access: each chunk alone decrypts knowing only i and n.
    for i in range(n):
        chunk = ciphertext[i * ENCRYPTED_CHUNK_SIZE : (i + 1) * ENCRYPTED_CHUNK_SIZE]
        expected_chunk = plaintext[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]
        expect_equal(f"chunk {i} alone", decrypt_one_chunk(key, i, n, chunk), expected_chunk)


def check_wrap(v):
    kind, kek, ident, wrapped = v.text("wrapped_kind"), v.hex("kek"), v.hex("id"), v.hex("wrapped")
    expected_key = v.hex("key")
    if kind not in WRAP_ID_SIZES:
        raise CheckFailed(f"unknown wrapped_kind {kind!r}")
    if v.expect != "success":
        expect_equal("key of a refused vector (§12: empty unless success)", expected_key, b"")
    if kind == "master-key/passkey" and v.expect == "success":
        # §7.1: the KEK is the key of the passkey's PRF output, asked for this vault's input.
        expect_equal("passkey key", hkdf(b"", v.hex("prf_output"), b"vault/v1/passkey/key"), kek)
        expect_equal("PRF input", sha256(b"vault/v1/passkey/prf-input" + v.hex("canister")), v.hex("prf_input"))
    key = unwrap_key(kek, kind, ident, wrapped)
    expect_equal("key", key, expected_key)
    expect_equal("re-wrapped", wrap_key(kek, kind, ident, key, wrapped[1:13]), wrapped)


def check_passphrase(v):
    passphrase, record = v.hex("passphrase"), v.hex("record")
    kek, master_key = unlock_passphrase(passphrase, record)
    params, _wrapped = parse_passphrase_record(record)
    expect_equal("unlock params alone", parse_unlock_params(record[:UNLOCK_PARAMS_SIZE]), params)
    expect_equal("KEK", kek, v.hex("kek"))
    proof = passphrase_unlock_proof(kek)
    expect_equal("unlock proof", proof, v.hex("unlock_proof"))
    expect_equal("unlock verifier", sha256(proof), v.hex("unlock_verifier"))
    expect_equal(
        "admission verifier",
        admission_public_key(passphrase_admission_seed(kek)),
        v.hex("admission_verifier"),
    )
    expect_equal("master key", master_key, v.hex("master_key"))
    random = v.hex("random")
    expect_equal("random length (salt || nonce)", len(random), SALT_SIZE + NONCE_SIZE)
    salt, nonce = random[:SALT_SIZE], random[SALT_SIZE:]
    params = params._replace(salt=salt)
    rebuilt = make_passphrase_record(passphrase, master_key, params, nonce)
    expect_equal("re-made record", rebuilt, record)


def check_recovery(v):
    words, wrapped = v.text("words"), v.hex("wrapped")
    recovery_key, master_key = unlock_recovery(words, wrapped)
    expect_equal("recovery key", recovery_key, v.hex("recovery_key"))
    expect_equal("words from key", recovery_key_to_words(recovery_key), words)
    proof = recovery_unlock_proof(recovery_key)
    expect_equal("unlock proof", proof, v.hex("unlock_proof"))
    expect_equal("unlock verifier", sha256(proof), v.hex("unlock_verifier"))
    expect_equal(
        "admission verifier",
        admission_public_key(recovery_admission_seed(recovery_key)),
        v.hex("admission_verifier"),
    )
    expect_equal("master key", master_key, v.hex("master_key"))
    nonce = v.hex("random")
    rewrapped = wrap_key(recovery_key, "master-key/recovery", b"", master_key, nonce)
    expect_equal("re-wrapped", rewrapped, wrapped)


def check_admission(v):
    method = v.text("method")
    if method not in ADMISSION_METHODS:
        raise CheckFailed(f"unknown method {method!r}")
    secret, canister, caller = v.hex("secret"), v.hex("canister"), v.hex("caller")
    counter, verifier, proof = v.decimal("counter"), v.hex("verifier"), v.hex("proof")
    seed = ADMISSION_METHODS[method][1](secret)
    expect_equal("verifier", admission_public_key(seed), verifier)
    if v.expect == "success":
        message = admission_message(method, canister, caller, counter)
        expect_equal("message", message, v.hex("message"))
        # Ed25519 is deterministic: signing again gives the recorded proof.
        expect_equal("proof", Ed25519PrivateKey.from_private_bytes(seed).sign(message), proof)
    verify_admission(verifier, method, canister, caller, counter, proof)


def check_seal(v):
    secret_key, public_key = v.hex("recipient_secret_key"), v.hex("recipient_public_key")
    recipient, target, target_id = v.hex("recipient"), v.text("target"), v.hex("target_id")
    sealed = v.hex("sealed")
    if target not in SEAL_TARGETS:
        raise CheckFailed(f"unknown target {target!r}")
    derived_public = X25519PrivateKey.from_private_bytes(secret_key).public_key().public_bytes_raw()
    expect_equal("recipient public key", derived_public, public_key)
    key = open_sealed(secret_key, recipient, target, target_id, sealed)
    expect_equal("key", key, v.hex("key"))
    resealed = seal_key(public_key, recipient, target, target_id, key, v.hex("ikm_e"))
    expect_equal("re-sealed with ikm_e", resealed, sealed)


def check_share_code(v):
    text = v.text("text")
    principal, public_key, vault = parse_share_code(text)
    expect_equal("principal", principal, v.hex("principal"))
    expect_equal("public key", public_key, v.hex("public_key"))
    # `vault` is present exactly for a version 2 code (§12).
    expected_vault = v.hex("vault") if v.has("vault") else None
    if vault != expected_vault:
        show = lambda x: "none" if x is None else x.hex()  # noqa: E731
        raise CheckFailed(f"vault: read {show(vault)}, vector has {show(expected_vault)}")
    expect_equal("share code from parts", make_share_code(principal, public_key, vault), text)
    # Readers accept any case and white space, and remove every "-".
    sloppy = "\u3000" + text.upper().replace("-", "- \n\t\xa0")
    expect_equal("sloppy share code", parse_share_code(sloppy), (principal, public_key, vault))
    expect_equal("fingerprint", fingerprint(public_key), v.text("fingerprint"))


def check_link(v):
    fragment = v.text("fragment")
    password = v.hex("password") if v.has("password") else None
    iterations = v.decimal("iterations") if v.has("iterations") else None
    if (password is None) != (iterations is None):
        raise CheckFailed("a password link has both `password` and `iterations`")
    secret = parse_fragment(fragment)
    values = link_values(secret, password, iterations)
    expect_equal("secret", secret, v.hex("secret"))
    expect_equal("secret via '#' and white space", parse_fragment(f" #{fragment}\n"), secret)
    expect_equal("fragment from secret", make_fragment(secret), fragment)
    for name, value in values.items():
        expect_equal(name, value, v.hex(name))
    kind, ident, wrapped = v.text("wrapped_kind"), v.hex("id"), v.hex("wrapped")
    if kind not in ("album-key", "file-key"):
        raise CheckFailed(f"a link shares an album or file key, not a {kind!r}")
    key = unwrap_key(values["link_key"], kind, ident, wrapped)
    expect_equal("key", key, v.hex("key"))
    nonce = v.hex("random")
    expect_equal("re-wrapped", wrap_key(values["link_key"], kind, ident, key, nonce), wrapped)


def check_metadata(v):
    file_key, blob, cbor = v.hex("file_key"), v.hex("blob"), v.hex("cbor")
    # The blob must open: `expect` is about the record, not its stream.
    try:
        plaintext = decrypt_blob(file_key, blob, "metadata")
    except Refusal as err:
        raise CheckFailed(f"the blob does not open ({err.outcome}: {err})") from None
    expect_equal("decrypted record", plaintext, cbor)
    resealed = encrypt_blob(file_key, blob[1:STREAM_HEADER_SIZE], "metadata", cbor)
    expect_equal("blob re-encrypted with its salt", resealed, blob)
    fields = parse_metadata(cbor)
    expect_equal("name", fields[1], v.text("name"))
    expect_equal("size", fields[3], v.decimal("size"))
    expect_equal("name bytes", fields.get(15), v.hex("name_bytes") if v.has("name_bytes") else None)
    canonical = encode_metadata(fields)
    if canonical == cbor:
        salt = v.hex("random")
        written = encrypt_blob(file_key, salt, "metadata", canonical)
        expect_equal("blob written from the fields", written, blob)
    elif v.has("random"):
        raise CheckFailed("`random` recorded for a record that is not canonical")


def check_dedupe(v):
    key, digest = dedupe_hash(v.hex("master_key"), v.hex("content"))
    expect_equal("dedupe key", key, v.hex("dedupe_key"))
    expect_equal("dedupe hash", digest, v.hex("hash"))


def check_grant(v):
    key = grant_key(v.hex("master_key"))
    expect_equal("grant key", key, v.hex("grant_key"))
    target, permission = v.text("target"), v.text("permission")
    if target not in GRANT_TARGET_KINDS or permission not in GRANT_PERMISSIONS:
        raise CheckFailed(f"target {target!r} or permission {permission!r} is not §8.4's")
    expires_at = v.decimal("expires_at") if v.has("expires_at") else None
    message = grant_message(
        v.hex("vault"), target, v.hex("target_id"), v.hex("grantee"),
        v.hex("grantee_public_key"), permission, expires_at,
    )
    expect_equal("grant message", message, v.hex("message"))
    authenticator = v.hex("authenticator")
    verify_grant(key, message, authenticator)
    expect_equal("authenticator written from the fields", grant_authenticator(key, message), authenticator)


# §12's table: kind -> (check, its `expect` values)
KINDS = {
    "stream": (check_stream, {"success", "decryption failure", "unsupported version", "malformed"}),
    "wrap": (check_wrap, {"success", "decryption failure", "unsupported version", "malformed"}),
    "passphrase": (
        check_passphrase,
        {"success", "wrong secret", "parameters refused", "unsupported version", "malformed"},
    ),
    "recovery": (check_recovery, {"success", "wrong secret", "invalid words"}),
    "admission": (check_admission, {"success", "wrong proof"}),
    "seal": (check_seal, {"success", "decryption failure", "unsupported version", "malformed"}),
    "share-code": (
        check_share_code,
        {"success", "bad checksum", "invalid share code", "unsupported version"},
    ),
    "link": (check_link, {"success", "damaged link", "parameters refused"}),
    "metadata": (check_metadata, {"success", "unsupported version", "malformed"}),
    "dedupe": (check_dedupe, {"success"}),
    "grant": (check_grant, {"success", "not authentic", "unsupported version", "malformed"}),
}


def run_vector(path, text=None):
    """Return None if the vector checks out, else the reason it does not."""
    try:
        v = Vector(path, text)
        if v.kind not in KINDS:
            return f"unknown kind {v.kind!r}"
        check, expects = KINDS[v.kind]
        if v.expect not in expects:
            return f"expect {v.expect!r} is not defined for kind {v.kind!r}"
        try:
            check(v)
            outcome, detail = "success", ""
        except Refusal as err:
            outcome, detail = err.outcome, f": {err}"
        if outcome != v.expect:
            return f"expected {v.expect}, got {outcome}{detail}"
        if v.unread():
            return f"fields not checked: {', '.join(v.unread())}"
        return None
    except CheckFailed as err:
        return str(err)
    except Exception as err:  # a crash is a failure of this vector, not of the run
        return f"{type(err).__name__}: {err}"


# ---------------------------------------------------------------------------
# Self-tests: reader rules no vector covers. Each raises CheckFailed if broken.


def refused(outcome, function, *args):
    try:
        result = function(*args)
    except Refusal as err:
        if err.outcome != outcome:
            raise CheckFailed(f"{function.__name__}: expected {outcome}, got {err.outcome}: {err}") from None
        return
    raise CheckFailed(f"{function.__name__}: expected {outcome}, got {result!r}")


def test_fixed_sizes():
    """§1: the version byte, then the fixed size, then the contents."""
    key = bytes(32)
    refused("malformed", stream_key, key, b"\x01" + bytes(15), "content")
    refused("malformed", stream_key, key, b"\x01" + bytes(17), "content")
    refused("unsupported version", stream_key, key, b"\x02" + bytes(15), "content")
    refused("malformed", decrypt_blob, key, b"", "metadata")
    refused("malformed", decrypt_blob, key, b"\x01" + bytes(10), "metadata")
    refused("decryption failure", decrypt_blob, key, b"\x01" + bytes(16), "metadata")
    refused("malformed", unwrap_key, key, "file-key", bytes(16), b"")
    refused("malformed", unwrap_key, key, "file-key", bytes(16), b"\x01" + bytes(59))
    refused("malformed", unwrap_key, key, "file-key", bytes(16), b"\x01" + bytes(61))
    refused("unsupported version", unwrap_key, key, "file-key", bytes(16), b"\x02" + bytes(59))
    secret = bytes(range(32))
    refused("malformed", open_sealed, secret, b"", "file", bytes(16), b"\x01" + bytes(79))
    refused("unsupported version", open_sealed, secret, b"", "file", bytes(16), b"\x02" + bytes(79))
    message = grant_message(b"v", "file", bytes(16), b"g", bytes(32), "view", None)
    good = grant_authenticator(key, message)
    verify_grant(key, message, good)
    refused("malformed", verify_grant, key, message, b"")
    refused("malformed", verify_grant, key, message, good + b"\x00")
    refused("unsupported version", verify_grant, key, message, b"\x02" + good[1:32])
    refused("not authentic", verify_grant, bytes([1]) * 32, message, good)
    refused("malformed", grant_message, bytes(30), "file", bytes(16), b"g", bytes(32), "view", None)


def test_stream_chunks():
    """§4.5: lengths of a final and a non-final chunk, read alone."""
    key = bytes(32)
    full = encrypt_chunks(key, pattern(CHUNK_SIZE + 1))
    refused("decryption failure", decrypt_one_chunk, key, 0, 2, full[: ENCRYPTED_CHUNK_SIZE - 1])
    empty_final = aes_gcm_seal(key, chunk_nonce(1, True), b"", b"")
    refused("decryption failure", decrypt_one_chunk, key, 1, 2, empty_final)
    refused("decryption failure", decrypt_chunks, key, full[:ENCRYPTED_CHUNK_SIZE])
    expect_equal("two chunks", decrypt_chunks(key, full), pattern(CHUNK_SIZE + 1))
    expect_equal("empty stream", decrypt_chunks(key, encrypt_chunks(key, b"")), b"")


def unlock_params(version=1, kdf=1, m=19_456, t=2, lanes=1):
    return bytes([version, kdf]) + struct.pack(">III", m, t, lanes) + bytes(SALT_SIZE)


def test_passphrase_params():
    """§6: sizes, KDF id, and the bounds, all before any Argon2id work."""
    refused("malformed", parse_unlock_params, unlock_params()[:29])
    refused("malformed", parse_unlock_params, unlock_params() + b"\x00")
    refused("malformed", parse_passphrase_record, unlock_params() + bytes(62))
    refused("unsupported version", parse_passphrase_record, unlock_params(version=2) + bytes(59))
    refused("unsupported version", parse_unlock_params, unlock_params(kdf=0))
    refused("unsupported version", parse_unlock_params, unlock_params(kdf=2, m=2**32 - 1))
    for m, t, lanes in (
        (4_194_305, 2, 1), (19_456, 65, 1), (19_456, 0, 1), (19_456, 2, 0), (19_456, 2, 17),
        (19_456, 1, 1), (19_455, 2, 1), (8, 1, 1), (64, 1, 1),
    ):
        refused("parameters refused", parse_unlock_params, unlock_params(m=m, t=t, lanes=lanes))
    for m, t, lanes in ((4_194_304, 64, 16), (19_456, 2, 1), (19_456, 2, 16)):
        parse_unlock_params(unlock_params(m=m, t=t, lanes=lanes))
    for m, t in ((19_455, 2), (19_456, 1)):
        params = UnlockParams(m, t, 1, bytes(SALT_SIZE))
        refused("parameters refused", make_passphrase_record, b"x", bytes(32), params, bytes(12))


def test_admission_rules():
    """§6.1: principals of at most 29 bytes, 64-byte proofs, the method bound in."""
    seed = passphrase_admission_seed(bytes(32))
    verifier = admission_public_key(seed)
    message = admission_message("passphrase", bytes(10), bytes(29), 1)
    expect_equal("message length", len(message), 18 + 1 + 1 + 1 + 10 + 1 + 29 + 8)
    proof = Ed25519PrivateKey.from_private_bytes(seed).sign(message)
    verify_admission(verifier, "passphrase", bytes(10), bytes(29), 1, proof)
    refused("wrong proof", verify_admission, verifier, "recovery", bytes(10), bytes(29), 1, proof)
    refused("wrong proof", verify_admission, verifier, "passphrase", bytes(10), bytes(29), 1, proof[:63])
    refused("wrong proof", admission_message, "passphrase", bytes(10), bytes(30), 1)


def test_recovery_words():
    """§7: any case, any white space; 24 English words with their checksum."""
    key = bytes([6]) * 32
    words = recovery_key_to_words(key).split(" ")  # "blossom ... tackle": words with a "k"
    sloppy = "\u2003" + "\t".join(w.upper() for w in words[:12]) + "\n\xa0 " + " ".join(words[12:]) + " \r\n"
    expect_equal("sloppy words", words_to_recovery_key(sloppy), key)
    refused("invalid words", words_to_recovery_key, " ".join(words[:23]))
    refused("invalid words", words_to_recovery_key, " ".join(words + words[:1]))
    refused("invalid words", words_to_recovery_key, " ".join(words[:23] + ["qwerty"]))
    refused("invalid words", words_to_recovery_key, " ".join(words[1:] + words[:1]))
    refused("invalid words", words_to_recovery_key, "\x1c".join(words))  # not white space
    for size in (16, 20, 24, 28):  # valid 12-, 15-, 18-, 21-word mnemonics
        refused("invalid words", words_to_recovery_key, recovery_key_to_words(bytes(size)))
    with_k = next(i for i, word in enumerate(words) if "k" in word)
    kelvin = words[:with_k] + [words[with_k].replace("k", "\u212a")] + words[with_k + 1 :]  # KELVIN SIGN
    refused("invalid words", words_to_recovery_key, " ".join(kelvin))


def share_code_of(data):
    """A share code for raw payload bytes, with a correct checksum."""
    return "vs1-" + b32_encode(data + sha256(data)[:4])


def test_share_codes():
    """§8.2: reading order, strict base32, ASCII case; versions 1 and 2."""
    principal, public_key = bytes(range(29)), bytes(range(100, 132))
    code = make_share_code(principal, public_key)
    expect_equal("no dashes", parse_share_code(code.replace("-", "").upper()), (principal, public_key, None))
    refused("invalid share code", parse_share_code, code[4:])
    refused("invalid share code", parse_share_code, "vs2" + code[3:])
    if "k" not in code:
        raise CheckFailed("choose a code with a k in it")
    refused("invalid share code", parse_share_code, code.replace("k", "\u212a"))  # KELVIN SIGN
    refused("invalid share code", parse_share_code, code[:-1] + "1")
    refused("invalid share code", parse_share_code, code + "=")
    refused("invalid share code", parse_share_code, code + "aa")  # 110 characters: no whole byte count
    # 67 bytes are 108 characters, the last with 4 unused bits: "a" or "q"; set the lowest.
    refused("invalid share code", parse_share_code, code[:-1] + chr(ord(code[-1]) + 1))
    refused("bad checksum", parse_share_code, share_code_of(b"\x01\x00" + bytes(31)))  # 37 bytes
    refused("bad checksum", parse_share_code, code[:-8] + ("a" if code[-8] != "a" else "b") + code[-7:])
    refused("invalid share code", parse_share_code, share_code_of(b"\x01\x1e" + bytes(30) + public_key))
    refused("invalid share code", parse_share_code, share_code_of(b"\x01\x05" + bytes(6) + public_key))
    refused("unsupported version", parse_share_code, share_code_of(b"\x00\x05" + bytes(5) + public_key))
    refused("unsupported version", parse_share_code, share_code_of(b"\x03\x05" + bytes(5) + public_key))
    expect_equal(
        "empty principal",
        parse_share_code(share_code_of(b"\x01\x00" + public_key)),
        (b"", public_key, None),
    )
    # Version 2: a vault canister id of 1 to 29 bytes follows the key, and nothing after it.
    vault = bytes.fromhex("00000000000000010101")  # rrkah-fqaaa-aaaaa-aaaaq-cai
    v2 = make_share_code(principal, public_key, vault)
    expect_equal("version 2", parse_share_code(v2), (principal, public_key, vault))
    sloppy = " " + v2.upper().replace("-", "\t")
    expect_equal("version 2 sloppy", parse_share_code(sloppy), (principal, public_key, vault))
    head = b"\x02\x05" + bytes(5) + public_key
    for size in (1, 29):
        parsed = parse_share_code(share_code_of(head + bytes([size]) + bytes(size)))
        expect_equal(f"vault of {size} bytes", parsed[2], bytes(size))
    refused("invalid share code", parse_share_code, share_code_of(head))  # no vault length
    refused("invalid share code", parse_share_code, share_code_of(head + b"\x00"))  # empty vault
    refused("invalid share code", parse_share_code, share_code_of(head + b"\x1e" + bytes(30)))
    refused("invalid share code", parse_share_code, share_code_of(head + b"\x0a" + vault + b"\x00"))
    refused("invalid share code", parse_share_code, share_code_of(head + b"\x0b" + vault))
    # Version 1 with a vault after the key is version 1 with a trailing byte.
    refused("invalid share code", parse_share_code, share_code_of(b"\x01" + head[1:] + b"\x0a" + vault))
    # The version is checked before the lengths: version 3 with an empty vault is unsupported.
    refused("unsupported version", parse_share_code, share_code_of(b"\x03" + head[1:] + b"\x00"))


def test_fragments():
    """§9.1, §9.2: fragment strictness and the iteration bounds."""
    secret = bytes(range(32))
    fragment = make_fragment(secret)
    expect_equal("fragment in white space", parse_fragment("\u3000\t#" + fragment + "\r\n"), secret)
    damaged = (
        "##" + fragment,
        "# " + fragment,
        "\x1c" + fragment,  # not white space
        fragment[:-1],
        fragment + "A",
        fragment + "=",
        "+" + fragment[1:],
        "/" + fragment[1:],
    )
    for bad in damaged:
        refused("damaged link", parse_fragment, bad)
    body = b"\x02" + secret
    other_version = base64.urlsafe_b64encode(body + sha256(body)[:3]).decode()
    refused("damaged link", parse_fragment, other_version)
    for iterations in (0, 99_999, 10_000_001):
        refused("parameters refused", check_link_iterations, iterations)
        refused("parameters refused", link_values, secret, b"pw", iterations)
    check_link_iterations(100_000)
    check_link_iterations(10_000_000)


def cbor_map(*entries):
    """A definite-length map of (key, value) pairs, each raw CBOR (bytes) or a value to encode."""
    raw = [(k if isinstance(k, bytes) else _cbor_value(k), v if isinstance(v, bytes) else _cbor_value(v))
           for k, v in entries]
    return _cbor_head(MAP, len(raw)) + b"".join(k + v for k, v in raw)


REQUIRED_VALUES = {0: 1, 1: "a.jpg", 2: "image/jpeg", 3: 5, 4: bytes(32)}
REQUIRED = tuple((key, _cbor_value(value)) for key, value in REQUIRED_VALUES.items())


def record(*extra, drop=()):
    return cbor_map(*(e for e in REQUIRED if e[0] not in drop), *extra)


def f16(x):
    return b"\xf9" + struct.pack(">e", x)


def f32(x):
    return b"\xfa" + struct.pack(">f", x)


def f64(x):
    return b"\xfb" + struct.pack(">d", x)


def test_metadata_reader():
    """§10: liberal in form, strict in meaning."""
    accepted = {
        "non-shortest integers": cbor_map(
            (b"\x18\x00", b"\x1b" + (1).to_bytes(8, "big")),  # version 1 in 9 bytes
            *REQUIRED[1:],
            (b"\x19\x00\x08", b"\x1a\x00\x00\x00\x10"),  # width 16
        ),
        "keys in any order": cbor_map(*reversed(REQUIRED)),
        "float16 and float32 GPS": record((11, b"\x83" + f16(-90.0) + f32(180.0) + f16(-0.0))),
        "GPS at the limits": record((11, b"\x82" + f64(90.0) + f64(-180.0))),
        "non-shortest lengths and counts": cbor_map(
            *REQUIRED[:4],
            (4, b"\x5a\x00\x00\x00\x20" + bytes(32)),
            (12, b"\x79\x00\x02ab"),
            (11, b"\x98\x02" + f16(1) + f16(2)),
        ),
        "extreme integers": record(
            (5, I64_MIN), (7, I64_MAX), (8, U32_MAX), (9, 0), (14, U64_MAX), (6, -1440), (10, 8)
        ),
        "unknown keys of any well-formed value": record(
            (20, b"\xc1\xfb" + bytes(8)),  # a tag
            (21, b"\xbf\x01\x9f\xf6\xf7\xff\x61\x01\x02\xff"),  # indefinite map holding an indefinite array
            (22, b"\x62\xff\xfe"),  # text that is not UTF-8 is still well-formed
            (23, b"\xf8\x20"),  # simple value 32
            (2**64 - 1, b"\xa1\x00\x80"),
            (99, b"\x81" * 5000 + b"\x00"),  # deep nesting
        ),
    }
    for name, data in accepted.items():
        try:
            parse_metadata(data)
        except Refusal as err:
            raise CheckFailed(f"{name}: refused ({err.outcome}: {err})") from None
    malformed = {
        "empty": b"",
        "an array": b"\x80",
        "an indefinite-length map": b"\xbf" + record()[1:] + b"\xff",
        "a text key": cbor_map(*REQUIRED, ("x", 1)),
        "a negative key": cbor_map(*REQUIRED, (-1, 1)),
        "a tagged key": cbor_map(*REQUIRED, (b"\xc0\x0f", 1)),
        "a duplicate key in another form": cbor_map(*REQUIRED, (b"\x18\x01", "b.jpg")),
        "a duplicate unknown key": record((20, 1), (20, 1)),
        "a tagged value": cbor_map(*REQUIRED[:4], (4, b"\xd8\x18" + _cbor_value(bytes(32)))),
        "null for an optional field": record((12, b"\xf6")),
        "a float for an integer": cbor_map((0, f64(1.0)), *REQUIRED[1:]),
        "version as text": cbor_map((0, "1"), *REQUIRED[1:]),
        "negative version": cbor_map((0, -1), *REQUIRED[1:]),
        "name as bytes": cbor_map(REQUIRED[0], (1, b"\x41a"), *REQUIRED[2:]),
        "name not UTF-8": cbor_map(REQUIRED[0], (1, b"\x61\xff"), *REQUIRED[2:]),
        "a 31-byte hash": cbor_map(*REQUIRED[:4], (4, _cbor_value(bytes(31)))),
        "taken at 2^63": record((5, 2**63)),
        "taken at -2^63 - 1": record((5, -(2**63) - 1)),
        "width 2^32": record((8, 2**32)),
        "a negative size": cbor_map(*REQUIRED[:3], (3, -1), REQUIRED[4]),
        "offset 1441": record((6, 1441)),
        "offset -1441": record((6, -1441)),
        "orientation 0": record((10, 0)),
        "GPS NaN": record((11, b"\x82" + f16(math.nan) + f64(0.0))),
        "GPS latitude 90.5": record((11, [90.5, 0.0])),
        "GPS longitude -180.5": record((11, [0.0, -180.5])),
        "GPS infinite altitude": record((11, b"\x83" + f64(0.0) + f64(0.0) + f16(math.inf))),
        "GPS of integers": record((11, b"\x82\x00\x00")),
        "GPS of one value": record((11, [1.0])),
        "GPS of four values": record((11, [1.0, 2.0, 3.0, 4.0])),
        "a simple value in GPS": record((11, b"\x82\xf6" + f64(0.0))),
        "true in GPS": record((11, b"\x82" + f64(0.0) + b"\xf5")),
        "null for GPS": record((11, b"\xf6")),
        "undefined for a name": cbor_map(REQUIRED[0], (1, b"\xf7"), *REQUIRED[2:]),
        "indefinite-length text under a known key": record((12, b"\x7f\x62ab\x61c\xff")),
        "an indefinite-length GPS array": record((11, b"\x9f" + f16(1) + f16(2) + b"\xff")),
        "an indefinite-length hash": cbor_map(*REQUIRED[:4], (4, b"\x5f\x58\x20" + bytes(32) + b"\xff")),
        "missing name": record(drop=(1,)),
        "missing version": record(drop=(0,)),
        "a trailing byte": record() + b"\x00",
        "truncated": record()[:-1],
        "reserved additional info": record((20, b"\x1c")),
        "a break in a definite array": record((20, b"\x82\x00\xff")),
        "a stray break": record((20, b"\xff")),
        "simple value 16 in two bytes": record((20, b"\xf8\x10")),
        "an indefinite integer": record((20, b"\x1f")),
        "an indefinite map with an odd number of items": record((20, b"\xbf\x00\xff")),
        "a text chunk in an indefinite byte string": record((20, b"\x5f\x61a\xff")),
        "version 2 without a name": cbor_map((0, 2), *REQUIRED[2:]),
        "version 2 with orientation 9": cbor_map((0, 2), *REQUIRED[1:], (10, 9)),
    }
    for name, data in malformed.items():
        try:
            refused("malformed", parse_metadata, data)
        except CheckFailed as err:
            raise CheckFailed(f"{name}: {err}") from None
    refused("unsupported version", parse_metadata, cbor_map((0, 2), *REQUIRED[1:]))
    refused("unsupported version", parse_metadata, cbor_map((0, U64_MAX), *REQUIRED[1:], (99, 1)))


def test_metadata_writer():
    """§10: the writer's form, and what "canonical" means."""
    fields = REQUIRED_VALUES | {11: [1.5, -2.25, 100.0], 5: -5, 14: 2**40}
    written = encode_metadata(fields)
    expect_equal("written record", parse_metadata(written), fields)
    expect_equal("written record", written[:2], b"\xa8\x00")
    if f64(1.5) not in written:
        raise CheckFailed("GPS values are not written as float64")
    for form in (record((11, b"\x82" + f16(1.5) + f16(2.5))), cbor_map(*reversed(REQUIRED)), record((99, 1))):
        if encode_metadata(parse_metadata(form)) == form:
            raise CheckFailed(f"{form.hex()} is taken for canonical")


def test_vector_syntax():
    """§12: the vector file syntax, and that no field goes unchecked."""
    path = VECTOR_DIR / "x.txt"
    v = Vector(path, "# c\nkind: wrap\nexpect: success\nkey:\nid: \nname:  two\n")
    expect_equal("empty values", (v.hex("key"), v.hex("id")), (b"", b""))
    expect_equal("value after one space", v.text("name"), " two")
    bad_values = {
        "key: AB": Vector.hex,
        "key: a": Vector.hex,
        "size: +5": Vector.decimal,
        "size: \u0665": Vector.decimal,  # ARABIC-INDIC DIGIT FIVE
    }
    for line, read in bad_values.items():
        try:
            value = read(Vector(path, "kind: k\nexpect: e\n" + line), line.split(":")[0])
        except CheckFailed:
            continue
        raise CheckFailed(f"{line!r} read as {value!r}")
    bad_files = (
        "kind: k\nexpect: e\nkey:a",  # no space after the colon
        "kind: k\n\nexpect: e",  # a blank line
        "kind: k\nexpect: e\nkind: k",  # a field twice
        "expect: e",  # no kind
    )
    for text in bad_files:
        try:
            Vector(path, text)
        except CheckFailed:
            continue
        raise CheckFailed(f"{text!r} accepted")
    key, digest = dedupe_hash(bytes(32), b"x")
    dedupe = f"kind: dedupe\nexpect: success\nmaster_key: {bytes(32).hex()}\ndedupe_key: {key.hex()}\n"
    dedupe += f"content: 78\nhash: {digest.hex()}\n"
    expect_equal("a dedupe vector", run_vector(path, dedupe), None)
    if run_vector(path, dedupe + "extra: 00\n") is None:
        raise CheckFailed("a field nobody checks went unnoticed")


SELF_TESTS = [
    test_fixed_sizes,
    test_stream_chunks,
    test_passphrase_params,
    test_admission_rules,
    test_recovery_words,
    test_share_codes,
    test_fragments,
    test_metadata_reader,
    test_metadata_writer,
    test_vector_syntax,
]


def run_self_test(test):
    try:
        test()
        return None
    except CheckFailed as err:
        return str(err)
    except Exception as err:
        return f"{type(err).__name__}: {err}"


# ---------------------------------------------------------------------------


def main():
    paths = sorted(VECTOR_DIR.glob("*.txt"))
    results = [(path.stem, run_vector(path)) for path in paths]
    results += [(f"self-test {test.__name__[5:]}", run_self_test(test)) for test in SELF_TESTS]
    for name, reason in results:
        print(f"ok {name}" if reason is None else f"FAIL {name}: {reason}")
    failed = sum(reason is not None for _, reason in results)
    if len(paths) < MIN_VECTORS:
        print(f"only {len(paths)} vectors found in {VECTOR_DIR}, expected at least {MIN_VECTORS}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or len(paths) < MIN_VECTORS else 0


if __name__ == "__main__":
    sys.exit(main())
