"""ShipmentWorkflow: one parcel from warehouse request to delivery.

WMS delivery order -> rate-shop every carrier and product (rules pick the balance of cost
and time, the rate cards the price and promise) -> waybill, trying the next carrier if one
refuses or stays down -> stock consumed -> waybill written back to the sales channel ->
tracking signals until delivered. It ends early when the carrier reports the parcel lost,
damaged or undeliverable, or when nothing moves past the promised time (late); the order
asks the exception rules what to do. Cancelled before collection, it cancels the waybill and
the WMS order; cancelled while a carrier is still being asked, it cancels that carrier's
booking too, as the carrier may have made it and only its answer is outstanding.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.contracts import carriers, channels, store, wms
    from domain.exceptions import ExceptionKind
    from domain.facts import parcel_facts
    from domain.messages import (
        AddressChange,
        BookingEvent,
        CancelWaybillRequest,
        ConsumeRequest,
        Decision,
        DeliveryOrderRef,
        DeliveryOrderRequest,
        ParcelStep,
        Quote,
        ShipmentInput,
        ShipmentNotice,
        ShipmentRecord,
        ShipmentResult,
        ShipmentUpdate,
        TrackingEvent,
        Waybill,
        WaybillRequest,
    )
    from domain.rulesets import CarrierOutcome
    from domain.status import ShipmentStatus
    from domain.tracking import TrackingState
    from workflows.calls import run
    from workflows.carrier_booking import CARRIER_CALL, book_carrier
    from workflows.failures import business_failure
    from workflows.versions import (
        CANCEL_UNANSWERED_BOOKING,
        COLLECTED_PARCEL_GOES_ON,
        PARCEL_JOURNEY,
    )

STATUS_OF = {TrackingState.COLLECTED: ShipmentStatus.IN_TRANSIT,
             TrackingState.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
             TrackingState.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
             TrackingState.DELIVERED: ShipmentStatus.DELIVERED,
             TrackingState.LOST: ShipmentStatus.LOST,
             TrackingState.DAMAGED: ShipmentStatus.DAMAGED,
             TrackingState.UNDELIVERABLE: ShipmentStatus.UNDELIVERABLE,
             TrackingState.RETURNED: ShipmentStatus.UNDELIVERABLE}
FINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.LOST, ShipmentStatus.DAMAGED,
                   ShipmentStatus.UNDELIVERABLE})
QUIET = frozenset({ShipmentStatus.PENDING, ShipmentStatus.AT_WAREHOUSE})  # the order need not hear


@workflow.defn
class ShipmentWorkflow:
    def __init__(self) -> None:
        self.status = ShipmentStatus.PENDING
        self.events: list[TrackingEvent] = []
        self.address_override: AddressChange | None = None
        self.decisions: list[Decision] = []
        self.bookings: list[BookingEvent] = []
        self.grace = timedelta(0)  # the carrier rules' transit_grace_days
        self.promised_by: datetime | None = None
        self.writeback = ""
        self.seen = 0
        self.asked: dict[str, Quote] = {}  # carriers whose booking of this parcel may stand
        self.wms_asked = False  # a delivery order was asked for (its answer may not have come)
        self.requests: dict[str, WaybillRequest] = {}  # the booking each carrier was asked for
        self.confirmed = False  # the channel has been told the waybill
        self.moves_order = False  # `versions.PARCEL_JOURNEY`, decided as the run starts
        self.steps: list[ParcelStep] = []

    @workflow.signal(name="tracking")
    def tracking(self, event: TrackingEvent) -> None:
        self.events.append(event)

    @workflow.signal(name="address_changed")
    def address_changed(self, change: AddressChange) -> None:
        self.address_override = change

    @workflow.query(name="status")
    def current(self) -> ShipmentStatus:
        return self.status

    @workflow.query(name="promised_by")
    def promise(self) -> datetime | None:
        """When the carrier promised delivery; late is judged from here (and the last event)."""
        return self.promised_by

    async def _set(self, inp: ShipmentInput, status: ShipmentStatus, waybill: Waybill | None) -> None:
        """Record the parcel's status. Patched, the same write moves the order along its travel
        and only the waybill is told to the order's workflow (it stops the ship-by watch and
        decides whether a cancellation can still take); the later steps reach the order with
        the parcel's result. Before the patch every step was a signal and a status write."""
        self.status = status
        self.steps.append(ParcelStep(status=status, at=workflow.now()))
        await run(
            store.RECORD_SHIPMENT,
            ShipmentRecord(
                order_id=inp.shipment.order_id, shipment=inp.shipment, status=status,
                carrier=waybill.carrier if waybill else "", waybill_no=waybill.waybill_no if waybill else "",
                at=workflow.now(), promised_by=self.promised_by,
                fee=next((b.fee for b in reversed(self.bookings) if b.kind == "booked"), None),
                moves_order=self.moves_order and status not in QUIET))
        if status in QUIET or (self.moves_order and status != ShipmentStatus.WAYBILL_CREATED):
            return
        parent = workflow.get_external_workflow_handle(inp.parent_workflow_id)
        await parent.signal("shipment_progress", ShipmentUpdate(
            shipment_id=inp.shipment.shipment_id, status=status,
            carrier=waybill.carrier if waybill else "",
            waybill_no=waybill.waybill_no if waybill else "", recorded=self.moves_order))

    @workflow.run
    async def run(self, inp: ShipmentInput) -> ShipmentResult:
        s = inp.shipment
        wms_ref: DeliveryOrderRef | None = None
        booked: tuple[Waybill, Quote] | None = None
        self.moves_order = workflow.patched(PARCEL_JOURNEY)
        try:
            await self._set(inp, ShipmentStatus.PENDING, None)
            address = self.address_override.address if self.address_override else inp.address
            self.wms_asked = True
            wms_ref = ref = await run(
                wms.CREATE_DELIVERY_ORDER,
                DeliveryOrderRequest(shipment=s, address=address, source_platform=inp.source_platform))
            await self._set(inp, ShipmentStatus.AT_WAREHOUSE, None)
            booked = await self._book_carrier(inp)
            if booked is None:
                await self._cancel_wms(ref)
                await self._set(inp, ShipmentStatus.FAILED, None)
                return self._result(inp, None, "every eligible carrier refused the parcel")
            return await self._dispatch(inp, *booked)
        except (asyncio.CancelledError, ActivityError) as err:
            # A cancellation that reaches an activity call arrives as an ActivityError.
            patched = is_cancelled_exception(err) and workflow.patched(CANCEL_UNANSWERED_BOOKING)
            if not patched and not isinstance(err, asyncio.CancelledError):
                raise
            if patched:  # a booking whose answer is outstanding may stand: undo it too
                bookings = list(self.asked.values())
                if wms_ref is None and self.wms_asked:
                    wms_ref = DeliveryOrderRef(delivery_order_code=s.shipment_id, wms_order_id="")
            else:  # as before the patch: only what had answered
                bookings = [booked[1]] if booked is not None else []
            for quote in bookings:
                try:
                    await run(
                        carriers.CANCEL_WAYBILL,
                        CancelWaybillRequest(carrier=quote.carrier, shipment_id=s.shipment_id,
                                             protocol=quote.protocol))
                except ActivityError as refused:
                    if business_failure(refused, ExceptionKind.CARRIER_REJECTED) is None or \
                            not workflow.patched(COLLECTED_PARCEL_GOES_ON):
                        raise
                    return await self._carry_on(inp, quote, booked)
            if wms_ref is not None:
                await self._cancel_wms(wms_ref)
            await self._set(inp, ShipmentStatus.CANCELLED, booked[0] if booked else None)
            if not isinstance(err, asyncio.CancelledError):
                raise asyncio.CancelledError(str(err)) from err
            raise

    async def _dispatch(self, inp: ShipmentInput, waybill: Waybill, chosen: Quote) -> ShipmentResult:
        """The carrier has the parcel: its stock leaves, the channel is told, tracking is
        followed. Each step once, even when a refused cancellation comes back here."""
        s = inp.shipment
        if self.promised_by is None:
            await run(store.CONSUME_STOCK, ConsumeRequest(order_id=s.order_id, warehouse=s.warehouse,
                                                          skus=[ln.sku for ln in s.lines]))
            self.promised_by = workflow.now() + timedelta(days=chosen.promised_days or chosen.transit_days)
            await self._set(inp, ShipmentStatus.WAYBILL_CREATED, waybill)
        if not self.confirmed:
            self.writeback = await run(
                channels.CONFIRM_SHIPMENT,
                ShipmentNotice(
                    channel=inp.source_platform, external_id=inp.external_id or s.order_id,
                    shipment_id=s.shipment_id, carrier=waybill.carrier, waybill_no=waybill.waybill_no,
                    split=inp.split, lines=self._channel_lines(inp)))
            self.confirmed = True
        return await self._follow(inp, waybill)

    async def _carry_on(self, inp: ShipmentInput, quote: Quote,
                        booked: tuple[Waybill, Quote] | None) -> ShipmentResult:
        """The carrier refused to cancel: it has already collected the goods (the courier
        came while the cancellation was on its way). The parcel travels on like any other,
        and the order learns the cancellation did not take. A booking whose answer never
        came is asked for again: the same booking answers with the same waybill."""
        if booked is not None and booked[1].carrier == quote.carrier:
            waybill = booked[0]
        else:
            waybill = await run(carriers.CREATE_WAYBILL, self.requests[quote.carrier], **CARRIER_CALL)
        return await self._dispatch(inp, waybill, quote)

    @staticmethod
    def _channel_lines(inp: ShipmentInput) -> dict[str, int]:
        """The parcel's units by the channel's line id (empty when the channel gave none)."""
        units: dict[str, int] = {}
        for ln in inp.shipment.lines:
            if line_id := inp.channel_lines.get(ln.sku):
                units[line_id] = units.get(line_id, 0) + ln.quantity
        return units

    async def _cancel_wms(self, ref: DeliveryOrderRef) -> None:
        await run(wms.CANCEL_DELIVERY_ORDER, ref)

    async def _book_carrier(self, inp: ShipmentInput) -> tuple[Waybill, Quote] | None:
        """Rate-shop, ask the carrier rules how to weigh cost against time, book the best;
        a carrier that refuses, or stays down through its retries, is passed over. Every
        quote and every refusal is kept in the decision."""
        s = inp.shipment
        facts = {"direction": "outbound", "lane": inp.lane,
                 **parcel_facts(s, inp.address.province, inp.customer_tier, inp.total_minor)}

        def request_for(quote: Quote, origin_province: str) -> WaybillRequest:
            address = self.address_override.address if self.address_override else inp.address
            self.requests[quote.carrier] = WaybillRequest(
                shipment=s, carrier=quote.carrier, address=address, protocol=quote.protocol,
                level=quote.level, origin_province=origin_province)
            return self.requests[quote.carrier]

        booking = await book_carrier(s, inp.address.province, facts, request_for, self.asked)
        self.decisions.append(booking.decision)
        self.bookings.extend(booking.events)
        self.grace = timedelta(days=booking.decision.outcome_as(CarrierOutcome).transit_grace_days)
        if booking.waybill is None or booking.quote is None:
            return None
        return booking.waybill, booking.quote

    async def _follow(self, inp: ShipmentInput, waybill: Waybill) -> ShipmentResult:
        """Late: past the promise, and nothing heard for `transit_grace_days` since the
        promise or the last event, whichever is later."""
        assert self.promised_by is not None
        if self.moves_order:  # the same patch
            return await self._follow_with_one_timer(inp, waybill)
        grace = self.grace
        quiet_since = self.promised_by
        while True:
            deadline = max(quiet_since, self.promised_by) + grace
            try:
                await workflow.wait_condition(
                    lambda: len(self.events) > self.seen,
                    timeout=max(deadline - workflow.now(), timedelta(seconds=1)))
            except TimeoutError:
                await self._set(inp, ShipmentStatus.LATE, waybill)
                return self._result(inp, waybill, "no tracking progress past the promised time")
            if (ended := await self._take_events(inp, waybill)) is not None:
                return ended
            quiet_since = workflow.now()

    async def _follow_with_one_timer(self, inp: ShipmentInput, waybill: Waybill) -> ShipmentResult:
        """As `_follow`, with a timer that is not cancelled and started again on every event
        (two history events and two timer writes on the server each time): it runs to the
        deadline it was set for, and only then, if an event has moved the deadline on, a
        new one runs to the new deadline. Patch `parcel-journey`."""
        assert self.promised_by is not None
        quiet_since = self.promised_by
        timer: asyncio.Task[None] | None = None
        try:
            while True:
                deadline = max(quiet_since, self.promised_by) + self.grace
                if timer is None or timer.done():
                    timer = asyncio.create_task(
                        workflow.sleep(max(deadline - workflow.now(), timedelta(seconds=1))))

                def heard_or_rang(t: asyncio.Task[None] = timer) -> bool:
                    return len(self.events) > self.seen or t.done()

                await workflow.wait_condition(heard_or_rang)
                if len(self.events) == self.seen:  # the timer ran out with nothing new
                    if workflow.now() >= deadline:
                        await self._set(inp, ShipmentStatus.LATE, waybill)
                        return self._result(inp, waybill, "no tracking progress past the promised time")
                    continue  # an event moved the deadline on: a new timer runs to it
                if (ended := await self._take_events(inp, waybill)) is not None:
                    return ended  # the timer lapses with the run: no command to cancel it
                quiet_since = workflow.now()
        except BaseException:
            # Cancelled (or failed) while waiting: the compensations that follow must not run
            # beside a timer still set for days ahead (a time-skipping server jumps to it).
            if timer is not None and not timer.done():
                timer.cancel()
            raise

    async def _take_events(self, inp: ShipmentInput, waybill: Waybill) -> ShipmentResult | None:
        """Every event that has arrived, in order; the parcel's result once one is final."""
        while self.seen < len(self.events):  # signals may arrive while we record
            event = self.events[self.seen]
            self.seen += 1
            new = STATUS_OF.get(event.state)
            if new and new != self.status:
                await self._set(inp, new, waybill)
            if new in FINAL:
                return self._result(inp, waybill, "" if new == ShipmentStatus.DELIVERED
                                    else f"carrier reports {event.state.value}: {event.remark}")
        return None

    def _result(self, inp: ShipmentInput, waybill: Waybill | None, reason: str) -> ShipmentResult:
        return ShipmentResult(shipment_id=inp.shipment.shipment_id, status=self.status,
                              carrier=waybill.carrier if waybill else "",
                              waybill_no=waybill.waybill_no if waybill else "",
                              decisions=self.decisions, bookings=self.bookings, reason=reason,
                              promised_by=self.promised_by,
                              channel_writeback=self.writeback, steps=self.steps if self.moves_order else [])
