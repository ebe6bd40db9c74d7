"""ShipmentWorkflow: one parcel from warehouse request to delivery.

WMS delivery order -> carrier rate-shop (rules pick the strategy, the rate cards the
price) -> waybill, trying the next carrier if one refuses -> stock consumed -> tracking
signals until delivered, or LOST when nothing arrives past the promised transit time.
Cancelled before the parcel is collected, it cancels the waybill and the WMS order.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carriers import CarrierActivities
    from activities.errors import CARRIER_REJECTED
    from activities.store import StoreActivities
    from activities.wms import WmsActivities
    from config import queues
    from domain.geo import is_remote, region_of
    from domain.messages import (
        AddressChange,
        CancelWaybillRequest,
        ConsumeRequest,
        Decision,
        DecisionRequest,
        DeliveryOrderRef,
        DeliveryOrderRequest,
        QuoteRequest,
        ShipmentInput,
        ShipmentRecord,
        ShipmentResult,
        ShipmentUpdate,
        TrackingEvent,
        Waybill,
        WaybillRequest,
    )
    from domain.rating import choose
    from domain.status import ShipmentStatus
    from domain.wire import sf
    from workflows.failures import business_failure
    from workflows.options import LOCAL, REMOTE


# The parent hears of the changes that matter to it (shipped, final outcomes); every
# tracking step is still recorded in the database and in this workflow's own history.
PARENT_CARES = frozenset({ShipmentStatus.WAYBILL_CREATED,
                          ShipmentStatus.DELIVERED, ShipmentStatus.LOST, ShipmentStatus.FAILED,
                          ShipmentStatus.CANCELLED})


@workflow.defn
class ShipmentWorkflow:
    def __init__(self) -> None:
        self.status = ShipmentStatus.PENDING
        self.events: list[TrackingEvent] = []
        self.address_override: AddressChange | None = None
        self.decisions: list[Decision] = []
        self.promised_days = 3
        self.seen = 0

    @workflow.signal(name="tracking")
    def tracking(self, event: TrackingEvent) -> None:
        self.events.append(event)

    @workflow.signal(name="address_changed")
    def address_changed(self, change: AddressChange) -> None:
        self.address_override = change

    @workflow.query(name="status")
    def current(self) -> ShipmentStatus:
        return self.status

    async def _set(self, inp: ShipmentInput, status: ShipmentStatus, waybill: Waybill | None) -> None:
        self.status = status
        await workflow.execute_local_activity_method(
            StoreActivities.record_shipment,
            ShipmentRecord(order_id=inp.shipment.order_id, shipment=inp.shipment, status=status,
                           carrier=waybill.carrier if waybill else "",
                           waybill_no=waybill.waybill_no if waybill else ""),
            **LOCAL,
        )
        if status not in PARENT_CARES:
            return
        parent = workflow.get_external_workflow_handle(inp.parent_workflow_id)
        await parent.signal("shipment_progress", ShipmentUpdate(
            shipment_id=inp.shipment.shipment_id, status=status,
            carrier=waybill.carrier if waybill else "",
            waybill_no=waybill.waybill_no if waybill else ""))

    @workflow.run
    async def run(self, inp: ShipmentInput) -> ShipmentResult:
        s = inp.shipment
        wms_ref: DeliveryOrderRef | None = None
        waybill: Waybill | None = None
        try:
            await self._set(inp, ShipmentStatus.PENDING, None)
            address = self.address_override.address if self.address_override else inp.address
            wms_ref = ref = await workflow.execute_activity_method(
                WmsActivities.create_delivery_order,
                DeliveryOrderRequest(shipment=s, address=address, source_platform=inp.source_platform),
                task_queue=queues.WMS, **REMOTE,
            )
            await self._set(inp, ShipmentStatus.AT_WAREHOUSE, None)
            waybill = await self._book_carrier(inp)
            if waybill is None:
                await self._cancel_wms(ref)
                await self._set(inp, ShipmentStatus.FAILED, None)
                return self._result(inp, None, "every eligible carrier refused the parcel")
            await workflow.execute_local_activity_method(
                StoreActivities.consume_stock,
                ConsumeRequest(order_id=s.order_id, warehouse=s.warehouse,
                               skus=[ln.sku for ln in s.lines]),
                **LOCAL,
            )
            await self._set(inp, ShipmentStatus.WAYBILL_CREATED, waybill)
            return await self._follow(inp, waybill)
        except asyncio.CancelledError:
            if waybill is not None:
                await workflow.execute_activity_method(
                    CarrierActivities.cancel_waybill,
                    CancelWaybillRequest(carrier=waybill.carrier, shipment_id=s.shipment_id),
                    task_queue=queues.CARRIERS, **REMOTE)
            if wms_ref is not None:
                await self._cancel_wms(wms_ref)
            await self._set(inp, ShipmentStatus.CANCELLED, waybill)
            raise

    async def _cancel_wms(self, ref: DeliveryOrderRef) -> None:
        await workflow.execute_activity_method(
            WmsActivities.cancel_delivery_order, ref, task_queue=queues.WMS, **REMOTE)

    async def _book_carrier(self, inp: ShipmentInput) -> Waybill | None:
        s = inp.shipment
        quotes = await workflow.execute_local_activity_method(
            StoreActivities.quote_carriers,
            QuoteRequest(shipment=s, destination_province=inp.address.province), **LOCAL)
        facts = {"lane": inp.lane, "service": s.service, "province": inp.address.province,
                 "region": region_of(inp.address.province), "remote_area": is_remote(inp.address.province),
                 "weight_g": s.weight_g, "hazmat": s.service == "hazmat",
                 "temperature": s.temperature.value, "customer_tier": inp.customer_tier,
                 "total_minor": inp.total_minor,
                 "quotes": [q.model_dump(mode="json") for q in quotes.quotes]}
        decision = await workflow.execute_local_activity_method(
            StoreActivities.decide,
            DecisionRequest(order_id=s.order_id, key=f"{s.shipment_id}:carriers", ruleset="carriers",
                            facts=facts, step=f"carrier:{s.shipment_id}"),
            **LOCAL,
        )
        refused: set[str] = set()
        while (chosen := choose(quotes.quotes, decision.outcome, refused)) is not None:
            address = self.address_override.address if self.address_override else inp.address
            try:
                waybill = await workflow.execute_activity_method(
                    CarrierActivities.create_waybill,
                    WaybillRequest(shipment=s, carrier=chosen.carrier, address=address),
                    task_queue=queues.CARRIERS, **REMOTE)
                decision.outcome["chosen"] = chosen.carrier
                self.promised_days = chosen.transit_days
                decision.outcome["refused"] = sorted(refused)
                self.decisions.append(decision)
                return waybill
            except (ActivityError, ApplicationError) as err:
                if business_failure(err, CARRIER_REJECTED) is not None:
                    refused.add(chosen.carrier)
                    continue
                raise
        decision.outcome["refused"] = sorted(refused)
        self.decisions.append(decision)
        return None

    async def _follow(self, inp: ShipmentInput, waybill: Waybill) -> ShipmentResult:
        self.seen = 0
        patience = timedelta(days=self.promised_days + inp.transit_grace_days)
        deadline = workflow.now() + patience
        while True:
            remaining = (deadline - workflow.now()).total_seconds()
            try:
                await workflow.wait_condition(lambda: len(self.events) > self.seen,
                                              timeout=timedelta(seconds=max(remaining, 1)))
            except TimeoutError:
                await self._set(inp, ShipmentStatus.LOST, waybill)
                return self._result(inp, waybill, "no tracking progress past the promised time")
            while self.seen < len(self.events):  # signals may arrive while we record
                event = self.events[self.seen]
                self.seen += 1
                new = self._status_for(event.op_code)
                if new and new != self.status:
                    await self._set(inp, new, waybill)
                if new == ShipmentStatus.DELIVERED:
                    return self._result(inp, waybill, "")
            deadline = workflow.now() + patience

    @staticmethod
    def _status_for(op_code: str) -> ShipmentStatus | None:
        if op_code in sf.OP_DELIVERED:
            return ShipmentStatus.DELIVERED
        if op_code in sf.OP_OUT_FOR_DELIVERY:
            return ShipmentStatus.OUT_FOR_DELIVERY
        if op_code in sf.OP_IN_TRANSIT or op_code in sf.OP_COLLECTED:
            return ShipmentStatus.IN_TRANSIT
        return None

    def _result(self, inp: ShipmentInput, waybill: Waybill | None, reason: str) -> ShipmentResult:
        return ShipmentResult(shipment_id=inp.shipment.shipment_id, status=self.status,
                              carrier=waybill.carrier if waybill else "",
                              waybill_no=waybill.waybill_no if waybill else "",
                              decisions=self.decisions, reason=reason)
