"""Carriers' tracking pushes, each event a `tracking` signal to its parcel's workflow, found by
the shipment id the carrier echoes or else by the waybill number."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode

from domain.messages import TrackingEvent
from domain.wire.events import CarrierEvent
from services.errors import Unavailable
from services.temporal import LazyTemporal
from store import orders as order_store

log = structlog.get_logger()


async def deliver_events(db: AsyncEngine, temporal: LazyTemporal, carrier: str,
                         events: list[CarrierEvent]) -> None:
    """Unavailable when a waybill is not recorded yet (the booking's answer is still on its
    way): the push is then not acknowledged, so the carrier sends it again."""
    client = await temporal.client()
    unknown = []
    for e in events:
        shipment_id = e.reference or await order_store.shipment_for_waybill(db, carrier, e.waybill_no)
        if not shipment_id:
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
    if unknown:
        raise Unavailable(f"unknown waybill(s) {', '.join(unknown)}; send again later")
