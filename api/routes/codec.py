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
from config.codec import EncryptionCodec
from config.sealing import sealer

router = APIRouter()


async def _payloads(request: Request) -> Payloads:
    return json_format.ParseDict(await request.json(), Payloads())


def _codec(services: ServicesDep) -> EncryptionCodec:
    return EncryptionCodec(sealer(services.settings.var_dir, "codec"))


@router.post("/codec/decode")
async def decode(request: Request, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """Payloads as the workers read them (personal data in them is vault references)."""
    decoded = await _codec(services).decode(list((await _payloads(request)).payloads))
    return json_format.MessageToDict(Payloads(payloads=decoded))


@router.post("/codec/encode")
async def encode(request: Request, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """Payloads typed in the UI (a signal's input), encrypted as Ordo's workers expect them."""
    encoded = await _codec(services).encode(list((await _payloads(request)).payloads))
    return json_format.MessageToDict(Payloads(payloads=encoded))
