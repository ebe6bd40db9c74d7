"""The codec server the Temporal Web UI calls to show decoded payloads (Temporal's remote
codec protocol: `POST /codec/decode` and `/codec/encode` with `{"payloads": [...]}` in
protobuf JSON). Decoding needs `pii:read`, like any other look at an order's data; CORS
lets the UI's origin call it with the console's session cookie."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.deps import ServicesDep
from api.security import Caller
from config.sealing import SealError
from domain.errors import FieldError
from services.errors import Invalid

router = APIRouter()


async def _payloads(request: Request) -> Payloads:
    try:
        return json_format.ParseDict(await request.json(), Payloads())
    except (ValueError, json_format.ParseError) as exc:
        shape = '{"payloads": [{"metadata": ..., "data": ...}]}'
        raise Invalid("the body is not Temporal's codec format",
                      [FieldError(field="payloads", reason=f"send {shape} ({exc})")]) from None


@router.post("/codec/decode")
async def decode(request: Request, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """Payloads as the workers read them (personal data in them is vault references)."""
    try:
        decoded = await services.codec.decode(list((await _payloads(request)).payloads))
    except (SealError, ValueError) as exc:
        raise Invalid("a payload does not decode: not Ordo's, changed, or its key is gone", [FieldError(
            field="payloads", reason=str(exc) or type(exc).__name__)]) from None
    return json_format.MessageToDict(Payloads(payloads=decoded))


@router.post("/codec/encode")
async def encode(request: Request, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """Payloads typed in the UI (a signal's input), encrypted as Ordo's workers expect them."""
    encoded = await services.codec.encode(list((await _payloads(request)).payloads))
    return json_format.MessageToDict(Payloads(payloads=encoded))
