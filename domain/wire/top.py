"""The Taobao Open Platform (TOP) request signature, which JD's JOS copied:
`upper(md5(secret + k1v1k2v2... (sorted, without sign, empty values left out) + secret))`."""

from __future__ import annotations

import hashlib


def sign(params: dict[str, str], secret: str) -> str:
    joined = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
    return hashlib.md5(f"{secret}{joined}{secret}".encode()).hexdigest().upper()
