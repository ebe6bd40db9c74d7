"""Carriers' tracking pushes: `POST /v1/carriers/{carrier}/events`.

Three shapes arrive here: SF route pushes and ZTO trace pushes (JSON, with the shared secret
in `X-Ordo-Push-Secret`) and Kuaidi100 subscription pushes for carriers followed through it
(form `param` + `sign` over the salt, which is the shared secret of that channel). Each event
becomes a `tracking` signal to its shipment's workflow, found by the shipment id the carrier
echoes or else by the waybill number. Answered in each sender's own acknowledgement, or it
would send again.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from api.errors import problem
from config.settings import Settings
from domain.messages import TrackingEvent
from domain.wire import kuaidi100, sf, zto
from domain.wire.events import CarrierEvent
from store import orders as order_store

log = structlog.get_logger()


async def read_push(request: Request, settings: Settings) -> tuple[list[CarrierEvent], dict[str, Any]]:
    """(events, acknowledgement); raises PermissionError or ValueError for a bad push."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = {k: str(v) for k, v in (await request.form()).items()}
        if form.get("sign", "") != kuaidi100.sign(form.get("param", ""), settings.kuaidi100_salt):
            raise PermissionError("bad Kuaidi100 sign")
        try:
            return kuaidi100.push_events(json.loads(form["param"])), kuaidi100.ACK
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"not a Kuaidi100 push: {exc!r}") from exc
    if request.headers.get("x-ordo-push-secret") != settings.carrier_push_secret:
        raise PermissionError("bad or missing X-Ordo-Push-Secret")
    try:
        body = await request.json()
        if "Body" in body:
            return sf.route_events(body), {"return_code": "0000"}
        return zto.push_events(body), {"status": True, "statusCode": "0000"}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not an SF route push or ZTO trace push: missing {exc}") from exc


def router(settings: Settings) -> APIRouter:
    r = APIRouter()

    @r.post("/v1/carriers/{carrier}/events")
    @r.post("/v1/carriers/{carrier}/routes", include_in_schema=False)  # the earlier SF-only path
    async def carrier_events(
        carrier: str, request: Request, x_ordo_push_secret: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        try:
            events, ack = await read_push(request, settings)
        except PermissionError as exc:
            return problem(401, str(exc))
        except ValueError as exc:
            return problem(422, str(exc))
        client = await request.app.state.temporal.client()
        unknown = []
        for e in events:
            shipment_id = e.reference or await order_store.shipment_for_waybill(
                request.app.state.db, carrier, e.waybill_no
            )
            if not shipment_id:  # not recorded yet (the booking's answer is still on its way)
                log.warning("tracking.unknown_waybill", carrier=carrier, waybill_no=e.waybill_no)
                unknown.append(e.waybill_no)
                continue
            event = TrackingEvent(waybill_no=e.waybill_no, op_code=e.code, state=e.state, remark=e.remark)
            try:
                await client.get_workflow_handle(f"shipment-{shipment_id}").signal("tracking", event)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                log.warning("tracking.unknown_shipment", carrier=carrier, shipment_id=shipment_id)
        if unknown:  # not acknowledged: the carrier sends it again, as it does until answered
            return problem(503, f"unknown waybill(s) {', '.join(unknown)}; send again later")
        return JSONResponse(ack)

    return r
