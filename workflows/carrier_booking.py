"""Rate-shop a parcel, let the carrier rules weigh cost against time, and book the best
carrier that takes it. Shared by outbound parcels (ShipmentWorkflow) and return labels
(ReturnWorkflow), so both are chosen by the same rule file and recorded the same way.

Runs inside a workflow: every call is an activity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.contracts import carriers, store
    from domain.exceptions import ExceptionKind
    from domain.messages import (
        BookingEvent,
        CancelWaybillRequest,
        Decision,
        DecisionRequest,
        Quote,
        QuoteRequest,
        Shipment,
        Waybill,
        WaybillRequest,
    )
    from domain.rating import choose
    from domain.rulesets import CarrierOutcome
    from workflows.calls import run
    from workflows.failures import business_failure
    from workflows.options import REMOTE
    from workflows.versions import CANCEL_UNANSWERED_BOOKING

# A carrier that keeps failing (5xx, timeouts) for this long is passed over for the next one.
CARRIER_CALL = {**REMOTE, "retry_policy": RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10), maximum_attempts=4)}


@dataclass
class Booking:
    """The carrier decision as the rules made it (every quote and the rules' outcome), what
    came of it (each carrier that refused, and the one that booked, as `events`), and the
    waybill, if any carrier took the parcel."""

    decision: Decision
    order_id: str
    waybill: Waybill | None = None
    quote: Quote | None = None
    events: list[BookingEvent] = field(default_factory=list)

    @property
    def refusals(self) -> dict[str, str]:
        return {e.carrier: e.reason for e in self.events if e.kind == "refused"}

    async def record(self, kind: Literal["booked", "refused"], quote: Quote, reason: str = "") -> None:
        event = BookingEvent(decision_key=self.decision.key, order_id=self.order_id, seq=len(self.events) + 1,
                             kind=kind, carrier=quote.carrier, level=quote.level,
                             fee=quote.fee if kind == "booked" else None,
                             promised_days=quote.promised_days or quote.transit_days, reason=reason)
        self.events.append(event)
        await run(store.RECORD_BOOKING, event)


async def book_carrier(
    parcel: Shipment,
    destination_province: str,
    facts: dict[str, Any],
    request_for: Callable[[Quote, str], WaybillRequest],
    asked: dict[str, Quote] | None = None,
) -> Booking:
    """`facts` are the carrier rules' facts apart from the quotes; `request_for(quote,
    origin_province)` builds the booking, read again for each try (an outbound parcel's
    address may change while carriers are tried). `asked` is kept up to date with every
    carrier whose booking may stand (the one booked, and one asked whose answer has not come
    back yet), so that a cancellation arriving mid-booking can cancel them all."""
    asked = {} if asked is None else asked
    quotes = await run(
        store.QUOTE_CARRIERS,
        QuoteRequest(shipment=parcel, destination_province=destination_province, booked_at=workflow.now()))
    decision = await run(
        store.DECIDE,
        DecisionRequest(
            order_id=parcel.order_id, key=f"{parcel.shipment_id}:carriers", ruleset="carriers",
            facts={**facts, "quotes": [q.model_dump(mode="json") for q in quotes.quotes]},
            step=f"carrier:{parcel.shipment_id}"))
    booking = Booking(decision=decision, order_id=parcel.order_id)
    rules = decision.outcome_as(CarrierOutcome)
    while booking.waybill is None and (chosen := choose(quotes.quotes, rules, set(booking.refusals))):
        request = request_for(chosen, quotes.origin_province)
        asked[chosen.carrier] = chosen
        try:
            booking.waybill = await run(carriers.CREATE_WAYBILL, request, **CARRIER_CALL)
            booking.quote = chosen
            await booking.record("booked", chosen)
        except (ActivityError, ApplicationError) as err:
            if is_cancelled_exception(err) and workflow.patched(CANCEL_UNANSWERED_BOOKING):
                raise  # the parcel is being cancelled: no other carrier is to be asked
            if (cause := business_failure(err, ExceptionKind.CARRIER_REJECTED)) is not None:
                del asked[chosen.carrier]
                await booking.record("refused", chosen, cause.message)
                continue
            why = f"unavailable: {err.cause or err}"
            if await _release_possible_booking(chosen, request.booking_id):
                del asked[chosen.carrier]
            else:
                why += "; its possible booking could not be cancelled"
            await booking.record("refused", chosen, why)
    return booking


async def _release_possible_booking(quote: Quote, carrier_order_id: str) -> bool:
    """A carrier that stayed down may have booked before its answer was lost: cancel that
    booking if it answers now (a waybill never collected is not billed, so this is tidiness)."""
    try:
        await run(carriers.CANCEL_WAYBILL,
                  CancelWaybillRequest(carrier=quote.carrier, shipment_id=carrier_order_id,
                                       protocol=quote.protocol),
                  start_to_close_timeout=timedelta(seconds=30), retry_policy=RetryPolicy(maximum_attempts=2))
    except (ActivityError, ApplicationError):
        return False
    return True
