"""Sealing data at rest with AES-256-GCM under a named key, so keys can rotate: a sealed
value names the key that sealed it (`ordo1.<key id>.<nonce+ciphertext, base64url>`), is
opened with that key, and new values are sealed with the newest one.

Keys live in `var/keys/<purpose>-<n>.key` (0600), made on first use; a new key is another
file with the next number (`ordo privacy rotate-key`). In production the keys directory is
mounted from a secret store.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from config.keys import secret_key

PREFIX = "ordo1"
NONCE_BYTES = 12


class SealError(Exception):
    """The value is not sealed, was sealed with a key this process does not have, or was
    changed after it was sealed."""


class Sealer:
    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"no key '{current}'")
        self.keys, self.current = keys, current

    def encrypt(self, data: bytes, context: bytes = b"") -> tuple[str, bytes]:
        """(the current key's id, nonce + ciphertext). `context` is bound to the value (AES-GCM
        associated data): a value moved to another row or purpose does not open."""
        nonce = os.urandom(NONCE_BYTES)
        return self.current, nonce + AESGCM(self.keys[self.current]).encrypt(nonce, data, context)

    def decrypt(self, key_id: str, blob: bytes, context: bytes = b"") -> bytes:
        if key_id not in self.keys:
            raise SealError(f"this value was sealed with key '{key_id}', which is not in var/keys")
        try:
            return AESGCM(self.keys[key_id]).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context)
        except Exception:
            raise SealError(f"the value sealed with key {key_id} does not open: changed or moved") from None

    def seal(self, data: bytes, context: bytes = b"") -> str:
        key_id, blob = self.encrypt(data, context)
        return f"{PREFIX}.{key_id}.{base64.urlsafe_b64encode(blob).decode()}"

    def open(self, value: str, context: bytes = b"") -> bytes:
        try:
            prefix, key_id, body = value.split(".", 2)
            blob = base64.urlsafe_b64decode(body.encode())
        except ValueError:
            raise SealError("not a sealed value") from None
        if prefix != PREFIX:
            raise SealError("not a sealed value")
        return self.decrypt(key_id, blob, context)


_KEY_FILE = re.compile(r"^(?P<purpose>[a-z]+)-(?P<n>\d+)\.key$")


def key_ids(var_dir: Path, purpose: str) -> list[str]:
    """The key ids of `purpose` on disk, oldest first (`data-1`, `data-2`, ...)."""
    found = []
    for path in (var_dir / "keys").glob(f"{purpose}-*.key"):
        m = _KEY_FILE.match(path.name)
        if m and m["purpose"] == purpose:
            found.append((int(m["n"]), f"{purpose}-{m['n']}"))
    return [kid for _, kid in sorted(found)]


def sealer(var_dir: Path, purpose: str) -> Sealer:
    """Every key of `purpose` for opening, the newest for sealing; the first is made if none is there."""
    ids = key_ids(var_dir, purpose) or [f"{purpose}-1"]
    keys = {kid: bytes.fromhex(secret_key(var_dir, kid).decode()) for kid in ids}
    return Sealer(keys, ids[-1])


def rotate(var_dir: Path, purpose: str) -> str:
    """Make the next key of `purpose`; values sealed before still open with theirs."""
    ids = key_ids(var_dir, purpose) or [sealer(var_dir, purpose).current]  # the first, made on first use
    n = int(ids[-1].rsplit("-", 1)[1]) + 1
    secret_key(var_dir, f"{purpose}-{n}")
    return f"{purpose}-{n}"
