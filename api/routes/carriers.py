"""Carriers' tracking pushes: `POST /v1/carriers/{carrier}/events`.

Three shapes arrive here: SF route pushes and ZTO trace pushes (JSON, with the shared secret
in `X-Ordo-Push-Secret`) and Kuaidi100 subscription pushes for carriers followed through it
(form `param` + `sign` over the salt, which is the shared secret of that channel). Each event
becomes a `tracking` signal to its shipment's workflow, found by the shipment id the carrier
echoes or else by the waybill number. Answered in each sender's own acknowledgement, or it
would send again.
"""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.errors import problem
from config.settings import Settings
from domain.wire import kuaidi100, sf, zto
from domain.wire.events import CarrierEvent
from services.tracking import deliver_events


async def read_push(request: Request, settings: Settings) -> tuple[list[CarrierEvent], dict[str, Any]]:
    """(events, acknowledgement); raises PermissionError or ValueError for a bad push."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = {k: str(v) for k, v in (await request.form()).items()}
        expected = kuaidi100.sign(form.get("param", ""), settings.kuaidi100_salt)
        if not hmac.compare_digest(form.get("sign", "").encode(), expected.encode()):
            raise PermissionError("bad Kuaidi100 sign")
        try:
            return kuaidi100.push_events(json.loads(form["param"])), kuaidi100.ACK
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"not a Kuaidi100 push: {exc!r}") from exc
    secret = request.headers.get("x-ordo-push-secret", "").encode()
    if not hmac.compare_digest(secret, settings.carrier_push_secret.encode()):
        raise PermissionError("bad or missing X-Ordo-Push-Secret")
    try:
        body = await request.json()
        if "Body" in body:
            return sf.route_events(body), {"return_code": "0000"}
        return zto.push_events(body), {"status": True, "statusCode": "0000"}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not an SF route push or ZTO trace push: missing {exc}") from exc


router = APIRouter()


@router.post("/v1/carriers/{carrier}/events")
@router.post("/v1/carriers/{carrier}/routes", include_in_schema=False)  # the earlier SF-only path
async def carrier_events(carrier: str, request: Request, services: ServicesDep,
                         x_ordo_push_secret: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Answered in the sender's own acknowledgement; a waybill not recorded yet is 503, so
    the carrier sends the push again."""
    try:
        events, ack = await read_push(request, services.settings)
    except PermissionError as exc:
        return problem(401, str(exc))
    except ValueError as exc:
        return problem(422, str(exc))
    await deliver_events(services.db, services.temporal, carrier, events)
    return JSONResponse(ack)
