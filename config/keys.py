"""Where Ordo's own secrets come from: the environment when set (production: a secret store
injects them), otherwise a random key made once under `var/keys/`, readable only by its
owner, shared by every process of one stack. Nothing secret lives in the repository."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_BYTES = 32


def key_file(var_dir: Path, name: str) -> Path:
    return var_dir / "keys" / f"{name}.key"


def secret_key(var_dir: Path, name: str, configured: str = "") -> bytes:
    """`configured` (an ORDO_* setting) wins; else the key file, created on first use. Two
    processes starting at once agree: the file is created exclusively and the loser reads it."""
    if configured:
        return configured.encode()
    path = key_file(var_dir, name)
    if not path.exists():
        write_private(path, secrets.token_hex(KEY_BYTES), exclusive=True)
    return path.read_text(encoding="ascii").strip().encode()


def audit_key(var_dir: Path, configured: str = "") -> bytes:
    """The key of the audit trail's hash chain (ORDO_AUDIT_KEY, or var/keys/audit.key)."""
    return secret_key(var_dir, "audit", configured)


def write_private(path: Path, text: str, exclusive: bool = False) -> bool:
    """Write a file only its owner can read (0600), whole or not at all: written beside it,
    then linked (`exclusive`: an existing file is left alone and False returned) or renamed
    into place, so no reader ever sees it half-written or readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    try:
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)
