"""Alipay open-API request and response shapes.

Alipay signs with RSA2 over the sorted `k=v&...` string; the simulator and the adapter use
HMAC-SHA256 over the same string instead, so no key pair has to be provisioned locally.
A real adapter swaps `sign`/`verify` for RSA2 and keeps everything else.
"""

from __future__ import annotations

import hashlib
import hmac


def signing_string(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items())
                    if k not in ("sign", "sign_type") and v != "")


def sign(params: dict[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), signing_string(params).encode(), hashlib.sha256).hexdigest()


def verify(params: dict[str, str], secret: str) -> bool:
    return hmac.compare_digest(sign(params, secret), params.get("sign", ""))


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


SUCCESS = "10000"
BUSINESS_FAILED = "40004"
