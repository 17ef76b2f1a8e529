"""Envelope encryption of credentials.

Each credential gets a fresh 256-bit data key; its fields are encrypted with AES-256-GCM
under that key (associated data: the tenant's schema and the credential's id, so a
ciphertext moved to another row or tenant does not decrypt). The data key is stored
wrapped (RFC 3394 AES key wrap) by the key-encryption key (KEK), which is never in the
database. Rotating the KEK rewraps the data keys only; ciphertexts stay as they are.

Where the KEK comes from (docs/connectors.md#keys):
- `SWITCHBOARD_KEK` (base64 of 32 bytes) in the environment, or
- the key file `SWITCHBOARD_KEK_FILE` (default `<VAR_DIR>/keys/kek.key`). A local
  environment generates that file on first use (per checkout, under the git-ignored
  `var/`); a hosted one never does, and its settings refuse to start without a KEK.
During a rotation `SWITCHBOARD_KEK_NEXT` / `<file>.next` holds the new key and
`SWITCHBOARD_KEK_PREVIOUS` / `<file>.previous` the one before: every key of the ring
unwraps, the current one wraps.
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from django.conf import settings

KEY_BYTES = 32


class KekError(RuntimeError):
    """No usable KEK, or a credential wrapped by a key the ring does not hold."""


def kek_id(key: bytes) -> str:
    return hashlib.sha256(b"switchboard-kek:" + key).hexdigest()[:16]


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except ValueError:
        raise KekError(f"{where} is not base64") from None
    if len(key) != KEY_BYTES:
        raise KekError(f"{where} must hold {KEY_BYTES} bytes, base64-encoded")
    return key


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def key_file() -> Path:
    configured = os.environ.get("SWITCHBOARD_KEK_FILE") or getattr(settings, "KEK_FILE", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "keys" / "kek.key"


def _local() -> bool:
    return str(getattr(settings, "SWITCHBOARD_ENV", "")).startswith("local_")


def write_key_file(path: Path, text: str) -> None:
    """Create `path` with the key, readable by its owner only; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class KeyRing:
    current: bytes  # wraps new data keys
    others: tuple[bytes, ...]  # next and previous: unwrap only
    source: str  # "env" | "file"

    def by_id(self, wanted: str) -> bytes:
        for key in (self.current, *self.others):
            if kek_id(key) == wanted:
                return key
        raise KekError(f"no key-encryption key {wanted} in the ring")


def keyring() -> KeyRing:
    """The KEKs as configured now (read on every use: a rotation changes the files)."""
    env = os.environ.get("SWITCHBOARD_KEK")
    if env:
        others = [
            decode_key(os.environ[name], name)
            for name in ("SWITCHBOARD_KEK_NEXT", "SWITCHBOARD_KEK_PREVIOUS")
            if os.environ.get(name)
        ]
        return KeyRing(decode_key(env, "SWITCHBOARD_KEK"), tuple(others), "env")
    path = key_file()
    if not path.exists():
        if not _local():
            raise KekError(f"no key-encryption key: set SWITCHBOARD_KEK or create {path}")
        try:
            write_key_file(path, new_key_text())
        except FileExistsError:  # another process made it first
            pass
    others = []
    for suffix in (".next", ".previous"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            others.append(decode_key(extra.read_text(), str(extra)))
    return KeyRing(decode_key(path.read_text(), str(path)), tuple(others), "file")


@dataclass(frozen=True)
class Sealed:
    nonce: bytes
    ciphertext: bytes
    wrapped_key: bytes
    kek_id: str


def _aad(schema: str, credential_id: str) -> bytes:
    return f"switchboard-credential:{schema}:{credential_id}".encode()


def seal(data: dict, *, schema: str, credential_id: str, ring: KeyRing | None = None) -> Sealed:
    """Encrypt `data` under a fresh data key, wrapped by the current KEK."""
    ring = ring or keyring()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    plaintext = json.dumps(data, sort_keys=True).encode()
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _aad(schema, credential_id))
    return Sealed(nonce, ciphertext, aes_key_wrap(ring.current, data_key), kek_id(ring.current))


def open_sealed(sealed: Sealed, *, schema: str, credential_id: str) -> dict:
    data_key = _unwrap(sealed.wrapped_key, sealed.kek_id, keyring())
    plaintext = AESGCM(data_key).decrypt(
        sealed.nonce, sealed.ciphertext, _aad(schema, credential_id)
    )
    return json.loads(plaintext)


def _unwrap(wrapped: bytes, wanted: str, ring: KeyRing) -> bytes:
    try:
        return aes_key_unwrap(ring.by_id(wanted), bytes(wrapped))
    except InvalidUnwrap:
        raise KekError(f"the data key does not unwrap with KEK {wanted}") from None


def rewrap(wrapped: bytes, wanted: str, *, ring: KeyRing, target: bytes) -> tuple[bytes, str]:
    """The data key wrapped by `target` instead: (wrapped key, its kek id)."""
    return aes_key_wrap(target, _unwrap(wrapped, wanted, ring)), kek_id(target)
