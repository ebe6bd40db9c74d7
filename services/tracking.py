"""Carriers' tracking pushes, each event a `tracking` signal to its parcel's workflow, found by
the shipment id the carrier echoes or else by the carrier's waybill number among parcels
still on their way.

A push is acknowledged only when every event in it reached the live parcel it belongs to,
or was parked for a person (kept as a dead letter with the reason): an event for a parcel
whose journey is over, for instance a reused waybill number. A waybill Ordo has not
recorded yet is not acknowledged at all, so the carrier sends it again."""

from __future__ import annotations

import json

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import FieldError
from domain.messages import TrackingEvent
from domain.wire.events import CarrierEvent
from services.errors import Unavailable
from services.temporal import LazyTemporal
from store import inbox as inbox_store
from store import orders as order_store

log = structlog.get_logger()


async def _park(db: AsyncEngine, carrier: str, e: CarrierEvent, why: str) -> int:
    body = json.dumps({"carrier": carrier, "waybill_no": e.waybill_no, "reference": e.reference,
                       "code": e.code, "state": e.state.value, "remark": e.remark}, ensure_ascii=False)
    dl = await inbox_store.add_dead_letter(db, "tracking", body, [FieldError(field="waybill_no", reason=why)],
                                           topic=carrier)
    log.warning("tracking.parked", carrier=carrier, waybill_no=e.waybill_no, dead_letter_id=dl, reason=why)
    return dl


async def deliver_events(db: AsyncEngine, temporal: LazyTemporal, carrier: str,
                         events: list[CarrierEvent]) -> list[int]:
    """The dead letters parked for a person (usually none). Unavailable, before anything is
    delivered or parked, when a waybill is not recorded yet: the push is not acknowledged and
    comes again whole."""
    targets: list[tuple[CarrierEvent, str, str]] = []  # (event, live parcel, finished parcel)
    unknown = []
    for e in events:
        if e.reference:
            targets.append((e, e.reference, ""))
            continue
        match = await order_store.shipment_for_waybill(db, carrier, e.waybill_no)
        newer = bool(e.history_from and match.finished_at and e.history_from > match.finished_at)
        if not match.live and (not match.finished or newer):
            # never seen, or a reused number whose history began after its last parcel ended:
            # the parcel it belongs to is being booked and not recorded yet
            log.warning("tracking.unknown_waybill", carrier=carrier, waybill_no=e.waybill_no,
                        reused=bool(match.finished))
            unknown.append(e.waybill_no)
        targets.append((e, match.live, match.finished))
    if unknown:
        raise Unavailable(f"unknown waybill(s) {', '.join(unknown)}; send again later")
    parked = []
    for e, live, finished in targets:
        if not live:
            parked.append(await _park(db, carrier, e, f"{carrier} waybill {e.waybill_no} belongs to no "
                                      f"parcel on its way; the last one, {finished}, has finished"))
            continue
        event = TrackingEvent(waybill_no=e.waybill_no, op_code=e.code, state=e.state, remark=e.remark)
        try:
            client = await temporal.client()
            await client.get_workflow_handle(f"shipment-{live}").signal("tracking", event)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            parked.append(await _park(db, carrier, e, f"parcel {live} is no longer followed "
                                      "(its journey has ended)"))
    return parked
