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
* on an expected failure it requires that the operation fails, and fails with
  the named kind of error (`unsupported version`, `decryption failure`, ...).

Primitives come from well-known packages (see requirements.txt); nothing
cryptographic is written by hand here.

Usage (from the repository root):  python3 tests/format/check_vectors.py
Prints `ok NAME` or `FAIL NAME: reason` per vector, then `N passed, M failed`.
Exits 1 if any vector failed or fewer than MIN_VECTORS were found.
"""

import base64
import hashlib
import hmac
import io
import math
import struct
import sys
import unicodedata
from pathlib import Path

import cbor2
from argon2.low_level import Type as Argon2Type
from argon2.low_level import hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from mnemonic import Mnemonic
from pyhpke import AEADId, CipherSuite, KDFId, KEMId
from pyhpke.exceptions import PyHPKEError

VECTOR_DIR = Path(__file__).resolve().parents[2] / "crypto" / "tests" / "vectors"
MIN_VECTORS = 45

# §1 constants
VERSION = 0x01
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
CHUNK_SIZE = 1_048_576
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
STREAM_HEADER_SIZE = 17
WRAPPED_KEY_SIZE = 61
SEALED_KEY_SIZE = 81
PASSPHRASE_RECORD_SIZE = 91
ID_SIZE = 16

BIP39 = Mnemonic("english")
HPKE_SUITE = CipherSuite.new(
    KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM
)


# ---------------------------------------------------------------------------
# Errors: one class per failure kind named in §12's `expect` column.


class FormatError(Exception):
    """A structure was refused. `kind` is the §12 `expect` wording."""

    kind = "malformed"


class UnsupportedVersion(FormatError):
    kind = "unsupported version"


class DecryptionFailure(FormatError):
    kind = "decryption failure"


class ParametersRefused(FormatError):
    kind = "parameters refused"


class WrongSecret(FormatError):
    kind = "wrong secret"


class InvalidWords(FormatError):
    kind = "invalid words"


class BadChecksum(FormatError):
    kind = "bad checksum"


class DamagedLink(FormatError):
    kind = "damaged link"


class Mismatch(Exception):
    """The implementation disagrees with a value recorded in a vector."""


# ---------------------------------------------------------------------------
# §1, §2: primitives and helpers


def nfc_utf8(text_bytes):
    """Human text (given as UTF-8 bytes) normalised to NFC, as UTF-8 (§1)."""
    return unicodedata.normalize("NFC", text_bytes.decode("utf-8")).encode("utf-8")


def sha256(data):
    return hashlib.sha256(data).digest()


def hkdf(salt, ikm, info):
    """HKDF-SHA256 with a 32-byte output; salt b"" means "not provided" (§2)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt or None, info=info
    ).derive(ikm)


def aes_gcm_seal(key, nonce, aad, plaintext):
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_gcm_open(key, nonce, aad, ciphertext):
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptionFailure("AES-GCM tag mismatch") from None


def check_version(data, what):
    """§1: a version byte other than 0x01 is "unsupported version"."""
    if len(data) < 1:
        raise DecryptionFailure(f"empty {what}")
    if data[0] != VERSION:
        raise UnsupportedVersion(f"{what} version {data[0]}")


# ---------------------------------------------------------------------------
# §4 streams

STREAM_LABELS = {
    "content": b"vault/v1/stream/content",
    "thumbnail": b"vault/v1/stream/thumbnail",
    "metadata": b"vault/v1/stream/metadata",
}


def stream_key(file_key, header, stream):
    """§4.1, §4.2: check the header and derive the stream key."""
    check_version(header, "stream header")
    if len(header) != STREAM_HEADER_SIZE:
        raise DecryptionFailure("stream header is not 17 bytes")
    return hkdf(header[1:17], file_key, STREAM_LABELS[stream])


def chunk_nonce(index, last):
    """§4.3: 3 zero bytes, u64be(index), then the last-chunk flag."""
    return b"\x00\x00\x00" + struct.pack(">Q", index) + (b"\x01" if last else b"\x00")


def encrypt_chunks(key, plaintext):
    """§4.3: the concatenated c_0 .. c_{n-1} (no header)."""
    n = max(1, math.ceil(len(plaintext) / CHUNK_SIZE))
    out = []
    for i in range(n):
        chunk = plaintext[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]
        out.append(aes_gcm_seal(key, chunk_nonce(i, i == n - 1), b"", chunk))
    return b"".join(out)


def check_final_chunk_length(length, n):
    """§4.5 rule 3."""
    if not (17 <= length <= ENCRYPTED_CHUNK_SIZE or (length == 16 and n == 1)):
        raise DecryptionFailure(f"final chunk of {length} bytes in a stream of {n} chunks")


def decrypt_chunks(key, ciphertext):
    """§4.5: decrypt the concatenated chunks of a whole stream."""
    if len(ciphertext) < TAG_SIZE:
        raise DecryptionFailure("no final chunk")
    n = max(1, math.ceil(len(ciphertext) / ENCRYPTED_CHUNK_SIZE))
    chunks = [
        ciphertext[i * ENCRYPTED_CHUNK_SIZE : (i + 1) * ENCRYPTED_CHUNK_SIZE]
        for i in range(n - 1)
    ]
    chunks.append(ciphertext[(n - 1) * ENCRYPTED_CHUNK_SIZE :])
    check_final_chunk_length(len(chunks[-1]), n)
    return b"".join(
        aes_gcm_open(key, chunk_nonce(i, i == n - 1), b"", c) for i, c in enumerate(chunks)
    )


def decrypt_one_chunk(key, index, n, chunk):
    """§4.4/§4.5: random access to chunk `index` of a stream of `n` chunks."""
    if not 0 <= index < n:
        raise DecryptionFailure("chunk index out of range")
    if index < n - 1:
        if len(chunk) != ENCRYPTED_CHUNK_SIZE:
            raise DecryptionFailure("non-final chunk is not 1 048 592 bytes")
    else:
        check_final_chunk_length(len(chunk), n)
    return aes_gcm_open(key, chunk_nonce(index, index == n - 1), b"", chunk)


def encrypt_blob(file_key, salt, stream, plaintext):
    """§4.4: header || chunks, for a given header salt."""
    header = bytes([VERSION]) + salt
    return header + encrypt_chunks(stream_key(file_key, header, stream), plaintext)


def decrypt_blob(file_key, blob, stream):
    """§4.4/§4.5: a blob is a 17-byte header then the chunks."""
    check_version(blob, "blob header")
    if len(blob) < STREAM_HEADER_SIZE:
        raise DecryptionFailure("blob shorter than its header")
    key = stream_key(file_key, blob[:STREAM_HEADER_SIZE], stream)
    return decrypt_chunks(key, blob[STREAM_HEADER_SIZE:])


# ---------------------------------------------------------------------------
# §5 wrapped keys

WRAP_KINDS = {
    "album-key": ID_SIZE + 4,  # album_id || u32be(key version)
    "file-key": ID_SIZE,
    "sharing-secret-key": 32,  # the X25519 public key
    "master-key/passphrase": 0,
    "master-key/recovery": 0,
}


def wrap_aad(kind, ident):
    if kind not in WRAP_KINDS:
        raise FormatError(f"unknown wrapped-key kind {kind!r}")
    if len(ident) != WRAP_KINDS[kind]:
        raise FormatError(f"id of a {kind} must be {WRAP_KINDS[kind]} bytes, got {len(ident)}")
    return b"vault/v1/wrap/" + kind.encode("ascii") + b"\x00" + ident


def wrap_key(kek, kind, ident, key, nonce):
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
        raise FormatError("key must be 32 bytes and nonce 12")
    return bytes([VERSION]) + nonce + aes_gcm_seal(kek, nonce, wrap_aad(kind, ident), key)


def unwrap_key(kek, kind, ident, wrapped):
    aad = wrap_aad(kind, ident)
    check_version(wrapped, "wrapped key")
    if len(wrapped) != WRAPPED_KEY_SIZE:
        raise DecryptionFailure(f"wrapped key is {len(wrapped)} bytes, not 61")
    return aes_gcm_open(kek, wrapped[1:13], aad, wrapped[13:])


# ---------------------------------------------------------------------------
# §6 passphrase record

ARGON2ID_KDF_ID = 0x01


def parse_passphrase_record(record):
    """Return (m, t, l, salt, wrapped), refusing costly parameters before any work."""
    check_version(record, "passphrase record")
    if len(record) != PASSPHRASE_RECORD_SIZE:
        raise FormatError(f"passphrase record is {len(record)} bytes, not 91")
    if record[1] != ARGON2ID_KDF_ID:
        # ASSUMPTION: FORMAT.md §6 names no error for an unknown KDF id.
        raise UnsupportedVersion(f"unknown KDF id {record[1]}")
    m, t, lanes = struct.unpack(">III", record[2:14])
    if m > 4_194_304 or t > 64 or t == 0 or lanes == 0 or lanes > 16 or m < 8 * lanes:
        raise ParametersRefused(f"m={m} t={t} l={lanes}")
    return m, t, lanes, record[14:30], record[30:91]


def passphrase_kek(passphrase, salt, m, t, lanes):
    return hash_secret_raw(
        secret=nfc_utf8(passphrase),
        salt=salt,
        time_cost=t,
        memory_cost=m,
        parallelism=lanes,
        hash_len=KEY_SIZE,
        type=Argon2Type.ID,
        version=19,
    )


def unlock_passphrase_record(passphrase, record):
    m, t, lanes, salt, wrapped = parse_passphrase_record(record)
    kek = passphrase_kek(passphrase, salt, m, t, lanes)
    try:
        return unwrap_key(kek, "master-key/passphrase", b"", wrapped)
    except DecryptionFailure:
        raise WrongSecret("master key did not unwrap") from None


def make_passphrase_record(passphrase, master_key, m, t, lanes, salt, nonce):
    kek = passphrase_kek(passphrase, salt, m, t, lanes)
    return (
        bytes([VERSION, ARGON2ID_KDF_ID])
        + struct.pack(">III", m, t, lanes)
        + salt
        + wrap_key(kek, "master-key/passphrase", b"", master_key, nonce)
    )


# ---------------------------------------------------------------------------
# §7 recovery key


def words_to_recovery_key(words):
    """Any case, any white space between words; 24 words; BIP39 checksum."""
    normalised = words.lower().split()
    if len(normalised) != 24:
        raise InvalidWords(f"{len(normalised)} words, not 24")
    try:
        return bytes(BIP39.to_entropy(normalised))
    except (ValueError, LookupError) as err:
        raise InvalidWords(str(err)) from None


def recovery_key_to_words(key):
    return BIP39.to_mnemonic(key)


def unlock_recovery(words, wrapped):
    recovery_key = words_to_recovery_key(words)
    try:
        return recovery_key, unwrap_key(recovery_key, "master-key/recovery", b"", wrapped)
    except DecryptionFailure:
        raise WrongSecret("master key did not unwrap") from None


# ---------------------------------------------------------------------------
# §8.1 sealed keys

SEAL_TARGETS = {"album": (0x01, ID_SIZE + 4), "file": (0x02, ID_SIZE)}


def seal_info(recipient, target, target_id):
    if len(recipient) > 29:
        raise FormatError("recipient principal longer than 29 bytes")
    target_kind, id_len = SEAL_TARGETS[target]
    if len(target_id) != id_len:
        raise FormatError(f"{target} target id must be {id_len} bytes")
    return (
        b"vault/v1/share\x00"
        + bytes([len(recipient)])
        + recipient
        + bytes([target_kind])
        + target_id
    )


def open_sealed(secret_key, recipient, target, target_id, sealed):
    info = seal_info(recipient, target, target_id)
    check_version(sealed, "sealed key")
    if len(sealed) != SEALED_KEY_SIZE:
        raise DecryptionFailure(f"sealed key is {len(sealed)} bytes, not 81")
    enc, ct = sealed[1:33], sealed[33:]
    try:
        skr = HPKE_SUITE.kem.deserialize_private_key(secret_key)
        ctx = HPKE_SUITE.create_recipient_context(enc, skr, info=info)
        return ctx.open(ct, aad=b"")
    except (PyHPKEError, ValueError) as err:
        raise DecryptionFailure(f"HPKE open failed: {type(err).__name__}") from None


def seal_key(public_key, recipient, target, target_id, key, ikm_e):
    """SealBase with the ephemeral key pair DeriveKeyPair(ikm_e)."""
    info = seal_info(recipient, target, target_id)
    pkr = HPKE_SUITE.kem.deserialize_public_key(public_key)
    eks = HPKE_SUITE.kem.derive_key_pair(ikm_e)
    enc, ctx = HPKE_SUITE.create_sender_context(pkr, info=info, eks=eks)
    return bytes([VERSION]) + enc + ctx.seal(key, aad=b"")


# ---------------------------------------------------------------------------
# §8.2 share code, §8.3 fingerprint

B32_ALPHABET = set("abcdefghijklmnopqrstuvwxyz234567")


def b32_nopad_encode(data):
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def b32_nopad_decode(text):
    """RFC 4648 §6 without padding; text is lowercase."""
    if any(c not in B32_ALPHABET for c in text) or len(text) % 8 in (1, 3, 6):
        raise FormatError("not base32")
    data = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    # ASSUMPTION (§8.2 is silent): the unused low bits of the last character
    # must be zero, so each share code has one spelling.
    if b32_nopad_encode(data) != text:
        raise FormatError("non-canonical base32 (trailing bits set)")
    return data


def make_share_code(principal, public_key):
    payload = bytes([VERSION, len(principal)]) + principal + public_key
    chars = b32_nopad_encode(payload + sha256(payload)[:4])
    return "vs1-" + "-".join(chars[i : i + 5] for i in range(0, len(chars), 5))


def parse_share_code(text):
    """Return (principal, public_key) following §8.2's reading rules in order."""
    compact = "".join(c for c in text if not c.isspace() and c != "-").lower()
    if not compact.startswith("vs1"):
        raise FormatError("no vs1 prefix")
    data = b32_nopad_decode(compact[3:])
    if len(data) < 4:
        raise FormatError("share code too short")
    payload, checksum = data[:-4], data[-4:]
    if sha256(payload)[:4] != checksum:
        raise BadChecksum("share code checksum mismatch")
    check_version(payload, "share code")
    if len(payload) < 2 or payload[1] > 29 or len(payload) != 2 + payload[1] + 32:
        raise FormatError("share code lengths do not add up")
    return payload[2 : 2 + payload[1]], payload[2 + payload[1] :]


def fingerprint(public_key):
    d = int.from_bytes(sha256(b"vault/v1/fingerprint" + public_key), "big")
    top = d >> (256 - 66)  # the first 66 bits, most significant first
    return " ".join(BIP39.wordlist[(top >> (11 * (5 - i))) & 0x7FF] for i in range(6))


# ---------------------------------------------------------------------------
# §9 links

MAX_LINK_ITERATIONS = 10_000_000
B64URL_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def make_fragment(secret):
    body = bytes([VERSION]) + secret
    return base64.urlsafe_b64encode(body + sha256(body)[:3]).decode("ascii").rstrip("=")


def parse_fragment(fragment):
    """§9.1: return the 32-byte secret or raise DamagedLink."""
    if fragment.startswith("#"):
        fragment = fragment[1:]
    if len(fragment) != 48:
        raise DamagedLink(f"fragment of {len(fragment)} characters")
    if any(c not in B64URL_ALPHABET for c in fragment):
        raise DamagedLink("fragment is not base64url")
    data = base64.urlsafe_b64decode(fragment)
    if len(data) != 36 or data[0] != VERSION or sha256(data[:33])[:3] != data[33:]:
        raise DamagedLink("fragment version or checksum")
    return data[1:33]


def link_values(secret, password=None, iterations=None):
    """§9.2: every derived value of a link, as a dict."""
    values = {"token": hkdf(b"", secret, b"vault/v1/link/token")}
    values["token_hash"] = sha256(values["token"])
    if password is None:
        values["link_key"] = hkdf(b"", secret, b"vault/v1/link/key")
        return values
    if not 1 <= iterations <= MAX_LINK_ITERATIONS:
        # ASSUMPTION: §9.2 says a reader refuses > 10 000 000 but names no error.
        raise ParametersRefused(f"{iterations} PBKDF2 iterations")
    pw_salt = hkdf(b"", secret, b"vault/v1/link/password-salt")[:16]
    pw_key = PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=pw_salt, iterations=iterations
    ).derive(nfc_utf8(password))
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
# §10 metadata record

REQUIRED_FIELDS = (0, 1, 2, 3, 4)
MAJOR_UINT, MAJOR_NINT, MAJOR_BYTES, MAJOR_TEXT, MAJOR_ARRAY, MAJOR_MAP = 0, 1, 2, 3, 4, 5


def _major(raw):
    return raw[0] >> 5


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_field(key, value, raw):
    """Type and range of one known field (§10 table); raw is its CBOR encoding."""
    major = _major(raw)
    uint_ok = major == MAJOR_UINT and _is_int(value)
    int_ok = major in (MAJOR_UINT, MAJOR_NINT) and _is_int(value)
    text_ok = major == MAJOR_TEXT and isinstance(value, str)
    if key in (1, 2, 12, 13):
        ok = text_ok
    elif key in (0, 3, 8, 9, 14):
        ok = uint_ok
    elif key == 4:
        ok = major == MAJOR_BYTES and isinstance(value, bytes) and len(value) == 32
    elif key in (5, 7):
        ok = int_ok
    elif key == 6:
        ok = int_ok and -1440 <= value <= 1440
    elif key == 10:
        ok = uint_ok and 1 <= value <= 8
    elif key == 11:
        ok = (
            major == MAJOR_ARRAY
            and isinstance(value, list)
            and len(value) in (2, 3)
            and all(isinstance(x, float) for x in value)
        )
    else:
        ok = True
    if not ok:
        raise FormatError(f"metadata field {key} has a bad type or value: {value!r}")


def parse_metadata(data):
    """§10 reader. Returns {key: value} of the known fields.

    cbor2 alone would accept duplicates, indefinite maps and trailing bytes, so
    the top-level map head is read here and the entries one CBOR item at a time.
    """
    if not data:
        raise FormatError("empty metadata record")
    head, info = data[0] >> 5, data[0] & 0x1F
    if head != MAJOR_MAP:
        raise FormatError("metadata record is not a map")
    if info == 31:
        raise FormatError("indefinite-length map")
    if info < 24:
        count, pos = info, 1
    elif info <= 27:
        size = 1 << (info - 24)
        if len(data) < 1 + size:
            raise FormatError("truncated map head")
        count, pos = int.from_bytes(data[1 : 1 + size], "big"), 1 + size
    else:
        raise FormatError("malformed map head")
    stream = io.BytesIO(data)
    stream.seek(pos)
    decoder = cbor2.CBORDecoder(stream)
    fields = {}
    seen = set()
    for _ in range(count):
        try:
            key_start = stream.tell()
            key = decoder.decode()
            start = stream.tell()
            value = decoder.decode()
        except (cbor2.CBORDecodeError, EOFError) as err:
            raise FormatError(f"bad CBOR: {err}") from None
        raw = data[start : stream.tell()]
        if _major(data[key_start:]) != MAJOR_UINT or not _is_int(key):
            raise FormatError(f"metadata key {key!r} is not an unsigned integer")
        if key in seen:
            raise FormatError(f"duplicate metadata key {key}")
        seen.add(key)
        if key <= 14:
            fields[key] = (value, raw)
    if stream.tell() != len(data):
        raise FormatError("bytes after the metadata map")
    if 0 in fields and _is_int(fields[0][0]) and fields[0][0] != 1:
        raise UnsupportedVersion(f"metadata record version {fields[0][0]}")
    for key in REQUIRED_FIELDS:
        if key not in fields:
            raise FormatError(f"missing required metadata field {key}")
    for key, (value, raw) in fields.items():
        _check_field(key, value, raw)
    return {key: value for key, (value, _raw) in fields.items()}


def encode_metadata(fields):
    """§10 writer: definite map, ascending keys, shortest ints, float64 floats."""
    # cbor2's non-canonical mode keeps dict order, writes every int in its
    # shortest form and every float as 0xfb float64: exactly §10's rules once
    # the keys are sorted (its canonical mode would shorten floats instead).
    return cbor2.dumps(dict(sorted(fields.items())))


# ---------------------------------------------------------------------------
# §11 dedupe


def dedupe_hash(master_key, content):
    key = hkdf(b"", master_key, b"vault/v1/dedupe")
    return key, hmac.new(key, content, hashlib.sha256).digest()


# ---------------------------------------------------------------------------
# Vector files (§12)


def read_vector(path):
    fields = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise Mismatch(f"line {lineno} is not `field: value`")
        if value.startswith(" "):
            value = value[1:]
        if name in fields:
            raise Mismatch(f"field {name!r} appears twice")
        fields[name] = value
    return fields


class Vector:
    def __init__(self, path):
        self.path = path
        self.fields = read_vector(path)

    def text(self, name):
        if name not in self.fields:
            raise Mismatch(f"missing field {name!r}")
        return self.fields[name]

    def has(self, name):
        return name in self.fields

    def hex(self, name):
        try:
            return bytes.fromhex(self.text(name))
        except ValueError:
            raise Mismatch(f"field {name!r} is not hex") from None

    def int(self, name):
        return int(self.text(name))

    def bin_file(self, name):
        return (self.path.parent / self.text(name)).read_bytes()


def expect_equal(what, got, expected):
    if got != expected:
        show = (lambda v: v.hex()) if isinstance(got, bytes) else repr
        raise Mismatch(f"{what}: computed {show(got)}, vector has {show(expected)}")


def pattern(length):
    return bytes(i % 251 for i in range(length))


# Each check_* returns None on success; an expected failure is signalled by
# letting the FormatError propagate, which run_vector compares with `expect`.


def check_stream(v):
    stream = v.text("stream")
    if stream not in STREAM_LABELS:
        raise Mismatch(f"unknown stream {stream!r}")
    file_key, header = v.hex("file_key"), v.hex("header")
    ciphertext = v.bin_file("ciphertext_file") if v.has("ciphertext_file") else v.hex("ciphertext")
    key = stream_key(file_key, header, stream)
    plaintext = decrypt_chunks(key, ciphertext)
    expected = pattern(v.int("plaintext_pattern")) if v.has("plaintext_pattern") else v.hex("plaintext")
    expect_equal("plaintext", plaintext, expected)
    # The header salt is the only randomness: encrypting again must match.
    expect_equal("re-encrypted chunks", encrypt_chunks(key, plaintext), ciphertext)
    n = max(1, math.ceil(len(plaintext) / CHUNK_SIZE))
    expect_equal("encrypted length", len(ciphertext), len(plaintext) + TAG_SIZE * n)
    # §4.4 random access: each chunk alone decrypts knowing only i and n.
    for i in range(n):
        chunk = ciphertext[i * ENCRYPTED_CHUNK_SIZE : (i + 1) * ENCRYPTED_CHUNK_SIZE]
        expect_equal(
            f"chunk {i} alone",
            decrypt_one_chunk(key, i, n, chunk),
            plaintext[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE],
        )


def check_wrap(v):
    kind, kek, ident, wrapped = v.text("wrapped_kind"), v.hex("kek"), v.hex("id"), v.hex("wrapped")
    key = unwrap_key(kek, kind, ident, wrapped)
    expect_equal("key", key, v.hex("key"))
    expect_equal("re-wrapped", wrap_key(kek, kind, ident, key, wrapped[1:13]), wrapped)


def check_passphrase(v):
    passphrase, record = v.hex("passphrase"), v.hex("record")
    master_key = unlock_passphrase_record(passphrase, record)
    expect_equal("master key", master_key, v.hex("master_key"))
    random = v.hex("random")
    expect_equal("random length", len(random), 16 + NONCE_SIZE)
    m, t, lanes, salt, _wrapped = parse_passphrase_record(record)
    expect_equal("salt in record", salt, random[:16])
    rebuilt = make_passphrase_record(passphrase, master_key, m, t, lanes, random[:16], random[16:])
    expect_equal("re-made record", rebuilt, record)


def check_recovery(v):
    recovery_key, master_key = unlock_recovery(v.text("words"), v.hex("wrapped"))
    expect_equal("recovery key", recovery_key, v.hex("recovery_key"))
    expect_equal("words from key", recovery_key_to_words(recovery_key), v.text("words"))
    expect_equal("master key", master_key, v.hex("master_key"))
    rewrapped = wrap_key(recovery_key, "master-key/recovery", b"", master_key, v.hex("random"))
    expect_equal("re-wrapped", rewrapped, v.hex("wrapped"))


def check_seal(v):
    secret_key, public_key = v.hex("recipient_secret_key"), v.hex("recipient_public_key")
    derived_public = X25519PrivateKey.from_private_bytes(secret_key).public_key().public_bytes_raw()
    expect_equal("recipient public key", derived_public, public_key)
    recipient, target, target_id = v.hex("recipient"), v.text("target"), v.hex("target_id")
    if target not in SEAL_TARGETS:
        raise Mismatch(f"unknown target {target!r}")
    sealed = v.hex("sealed")
    key = open_sealed(secret_key, recipient, target, target_id, sealed)
    expect_equal("key", key, v.hex("key"))
    resealed = seal_key(public_key, recipient, target, target_id, key, v.hex("ikm_e"))
    expect_equal("re-sealed with ikm_e", resealed, sealed)


def check_share_code(v):
    text = v.text("text")
    principal, public_key = parse_share_code(text)
    expect_equal("principal", principal, v.hex("principal"))
    expect_equal("public key", public_key, v.hex("public_key"))
    expect_equal("share code from parts", make_share_code(principal, public_key), text)
    # Readers accept any case and white space, and remove every "-".
    sloppy = " " + text.upper().replace("-", "- \n\t")
    expect_equal("sloppy share code", parse_share_code(sloppy), (principal, public_key))
    expect_equal("fingerprint", fingerprint(public_key), v.text("fingerprint"))


def check_link(v):
    fragment = v.text("fragment")
    secret = parse_fragment(fragment)
    expect_equal("secret", secret, v.hex("secret"))
    expect_equal("secret via '#'", parse_fragment("#" + fragment), secret)
    expect_equal("fragment from secret", make_fragment(secret), fragment)
    if v.has("password"):
        values = link_values(secret, v.hex("password"), v.int("iterations"))
        names = ("token", "token_hash", "password_salt", "password_key", "proof", "verifier", "link_key")
    else:
        values = link_values(secret)
        names = ("token", "token_hash", "link_key")
    for name in names:
        expect_equal(name, values[name], v.hex(name))
    kind, ident, wrapped = v.text("wrapped_kind"), v.hex("id"), v.hex("wrapped")
    key = unwrap_key(values["link_key"], kind, ident, wrapped)
    expect_equal("key", key, v.hex("key"))
    expect_equal("nonce in wrapped", wrapped[1:13], v.hex("random"))
    expect_equal("re-wrapped", wrap_key(values["link_key"], kind, ident, key, v.hex("random")), wrapped)


def check_metadata(v):
    file_key, blob, cbor = v.hex("file_key"), v.hex("blob"), v.hex("cbor")
    plaintext = decrypt_blob(file_key, blob, "metadata")
    expect_equal("decrypted record", plaintext, cbor)
    # The blob's own header salt makes re-encryption deterministic.
    expect_equal("re-encrypted blob", encrypt_blob(file_key, blob[1:17], "metadata", plaintext), blob)
    fields = parse_metadata(plaintext)
    expect_equal("name", fields[1], v.text("name"))
    expect_equal("size", fields[3], v.int("size"))
    if v.has("random"):
        expect_equal("header salt", blob[1:17], v.hex("random"))
        expect_equal("canonical re-encoding", encode_metadata(fields), cbor)


def check_dedupe(v):
    key, digest = dedupe_hash(v.hex("master_key"), v.hex("content"))
    expect_equal("dedupe key", key, v.hex("dedupe_key"))
    expect_equal("dedupe hash", digest, v.hex("hash"))


KINDS = {
    "stream": (check_stream, {"success", "decryption failure"}),
    "wrap": (check_wrap, {"success", "decryption failure", "unsupported version"}),
    "passphrase": (check_passphrase, {"success", "wrong secret", "parameters refused"}),
    "recovery": (check_recovery, {"success", "wrong secret", "invalid words"}),
    "seal": (check_seal, {"success", "decryption failure"}),
    "share-code": (check_share_code, {"success", "bad checksum"}),
    "link": (check_link, {"success", "damaged link"}),
    "metadata": (check_metadata, {"success", "unsupported version"}),
    "dedupe": (check_dedupe, {"success"}),
}


def run_vector(path):
    """Return None if the vector checks out, else the reason it does not."""
    try:
        v = Vector(path)
        kind, expect = v.text("kind"), v.text("expect")
        if kind not in KINDS:
            return f"unknown kind {kind!r}"
        check, allowed = KINDS[kind]
        if expect not in allowed:
            return f"expect {expect!r} is not defined for kind {kind!r}"
        try:
            check(v)
        except FormatError as err:
            if expect == "success":
                return f"expected success, got {err.kind}: {err}"
            if err.kind != expect:
                return f"expected {expect}, got {err.kind}: {err}"
            return None
        if expect != "success":
            return f"expected {expect}, but it succeeded"
        return None
    except Mismatch as err:
        return str(err)


def main():
    paths = sorted(VECTOR_DIR.glob("*.txt"))
    passed = failed = 0
    for path in paths:
        reason = run_vector(path)
        if reason is None:
            passed += 1
            print(f"ok {path.stem}")
        else:
            failed += 1
            print(f"FAIL {path.stem}: {reason}")
    if len(paths) < MIN_VECTORS:
        print(f"only {len(paths)} vectors found in {VECTOR_DIR}, expected at least {MIN_VECTORS}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or len(paths) < MIN_VECTORS else 0


if __name__ == "__main__":
    sys.exit(main())
